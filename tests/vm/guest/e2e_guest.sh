#!/bin/sh
# Guest side of the provisioner end-to-end tests and of `make demo`:
# loads htier.ko, starts htier-agent (which reports to the host over
# org.htier.0 and applies its quotas), optionally runs a workload, prints
# one HTIER-STAT line every htier.stat_ms, and keeps running until the VM is
# killed or told "quit".
#
# Kernel command line:
#   htier.e2e=idle         no workload at start (default)
#   htier.e2e=busy:MIB     start `htier_workload MIB` at once (a quarter hot)
#   htier.stat_ms=N        period of the HTIER-STAT lines (default 1000)
#   htier.agent_ms=N       htier-agent --interval-ms (default 1000)
#   htier.scan_ms=N        module scan_interval_ms (default: module's)
#   htier.cpu_permil=N     module cpu_permil (default: module's, 10)
#
# Commands on the console (the test writes them to QEMU's stdin):
#   busy MIB | idle | agent-stop | agent-start | textfile | quit
# `textfile` prints the agent's node_exporter textfile (--textfile
# /tmp/htier.prom), each line prefixed "HTIER-PROM ", then "HTIER-PROM-END".
#
# HTIER-STAT fields: up (guest uptime, s), quota (quota_bytes, "max" or
# bytes), fast/slow/hot/active (module stats, bytes), prom/dem (pages),
# n0/n1 (node MemTotal, kB), wl (workload MiB, 0 = none), agent (1 = alive).
arg() { sed -n "s/.*htier\.$1=\([^ ]*\).*/\1/p" /proc/cmdline; }
mode=$(arg e2e); mode=${mode:-idle}
stat_ms=$(arg stat_ms); stat_ms=${stat_ms:-1000}
agent_ms=$(arg agent_ms); agent_ms=${agent_ms:-1000}
scan_ms=$(arg scan_ms)
cpu_permil=$(arg cpu_permil)
H=/sys/kernel/mm/htier

insmod /htier/htier.ko || { echo "e2e_guest: insmod htier.ko failed"; exit 1; }
[ -n "$scan_ms" ] && echo "$scan_ms" > $H/scan_interval_ms
[ -n "$cpu_permil" ] && echo "$cpu_permil" > $H/cpu_permil
echo "e2e_guest: htier loaded, sampler $(cat $H/sampler), cpu_permil $(cat $H/cpu_permil)"

# Prefix each line of a background program's output (busybox sed has no -u).
prefix() { while IFS= read -r l; do echo "$1$l"; done; }

# Pids of live (not zombie) processes called $1: this shell reaps its
# background children only now and then, and pidof also lists zombies.
alive() {
	for p in $(pidof "$1"); do
		[ "$(cut -d' ' -f3 /proc/$p/stat 2>/dev/null)" = Z ] || echo "$p"
	done
}

# The agent logs to the console.
start_agent() {
	[ -n "$(alive htier-agent)" ] && return 0
	/htier/bin/htier-agent --interval-ms "$agent_ms" --textfile /tmp/htier.prom \
		2>&1 | prefix "agent: " &
	echo "e2e_guest: agent started"
}
stop_agent() {
	p=$(alive htier-agent)
	[ -n "$p" ] && kill $p && echo "e2e_guest: agent stopped"
	return 0
}
start_agent

echo 0 > /tmp/wl_mib
start_workload() {
	stop_workload
	/htier/tests/htier_workload "$1" 2>&1 | prefix "workload: " &
	echo "$1" > /tmp/wl_mib
	echo "e2e_guest: workload $1 MiB started"
}
stop_workload() {
	p=$(alive htier_workload)
	[ -n "$p" ] && kill $p && echo "e2e_guest: workload stopped"
	echo 0 > /tmp/wl_mib
	return 0
}

node_kb() {
	sed -n 's/.*MemTotal: *\([0-9]*\) kB/\1/p' \
		/sys/devices/system/node/node$1/meminfo
}
stats() {
	al=0
	[ -n "$(alive htier-agent)" ] && al=1
	echo "HTIER-STAT up=$(cut -d' ' -f1 /proc/uptime) quota=$(cat $H/quota_bytes)" \
	     "fast=$(cat $H/stats/fast_resident_bytes)" \
	     "slow=$(cat $H/stats/slow_resident_bytes)" \
	     "hot=$(cat $H/stats/hot_set_bytes)" \
	     "active=$(cat $H/stats/active_bytes 2>/dev/null || echo 0)" \
	     "prom=$(cat $H/stats/promoted_pages)" \
	     "dem=$(cat $H/stats/demoted_pages)" \
	     "n0=$(node_kb 0) n1=$(node_kb 1) wl=$(cat /tmp/wl_mib) agent=$al"
}

(
	s=$(awk "BEGIN { print $stat_ms / 1000 }")
	while :; do
		stats
		sleep "$s"
	done
) &
stat_pid=$!

case $mode in
busy:*) start_workload "${mode#busy:}" ;;
esac
echo "HTIER-E2E-READY"

# Console commands; without any input this waits until the VM is killed.
while read -r cmd a1; do
	case $cmd in
	busy) start_workload "${a1:-256}" ;;
	idle) stop_workload ;;
	agent-stop) stop_agent ;;
	agent-start) start_agent ;;
	textfile)
		[ -f /tmp/htier.prom ] && prefix "HTIER-PROM " < /tmp/htier.prom
		echo "HTIER-PROM-END" ;;
	quit) break ;;
	"") ;;
	*) echo "e2e_guest: unknown command '$cmd'" ;;
	esac
done
stop_workload
stop_agent
kill $stat_pid 2>/dev/null
sleep 1
rmmod htier
echo "e2e_guest: done"
exit 0
