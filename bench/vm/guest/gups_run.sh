#!/bin/sh
# Guest side of bench/vm: run gups under one placement mode and print its
# JSON lines (prefixed BENCH) plus the module's CPU time and counters.
# Parameters come from the kernel command line:
#   bench.mode=first-touch|autonuma|tiering|damon|htier  bench.dur=SECS
#   bench.size=512M bench.hot=64M bench.wmode=hotset|scattered|zipf|uniform
#   bench.shift=SECS (0: none)  bench.quota=BYTES|max  bench.threads=N
#   bench.cpu_permil=N (htier's tracking budget; default: the module's)
#   bench.cpu_boost_permil=N (its boost while converging; 0: none)
arg() { sed -n "s/.*bench\.$1=\([^ ]*\).*/\1/p" /proc/cmdline; }
mode=$(arg mode); dur=$(arg dur); size=$(arg size); hot=$(arg hot)
wmode=$(arg wmode); shift_at=$(arg shift); quota=$(arg quota); threads=$(arg threads)
cpu_permil=$(arg cpu_permil) cpu_boost_permil=$(arg cpu_boost_permil)
: ${mode:=htier} ${dur:=60} ${size:=512M} ${hot:=64M} ${wmode:=hotset}
: ${shift_at:=0} ${quota:=max} ${threads:=1}

echo "BENCH-INFO mode=$mode dur=$dur size=$size hot=$hot wmode=$wmode shift=$shift_at quota=$quota"
case $mode in
first-touch)
	echo 0 > /proc/sys/kernel/numa_balancing ;;
autonuma)
	echo 1 > /proc/sys/kernel/numa_balancing ;;
tiering)
	# NUMA_BALANCING_MEMORY_TIERING promotes from lower memory tiers only:
	# node 1 must come from dax/kmem (the host boots this guest with node 1
	# soft-reserved, see tiering_setup.sh).
	. /htier/bench/tiering_setup.sh
	tiering_setup || exit 1
	if ! echo 2 > /proc/sys/kernel/numa_balancing; then
		echo "BENCH-ERROR numa_balancing=2 refused"; exit 1
	fi
	echo "BENCH-INFO numa_balancing=$(cat /proc/sys/kernel/numa_balancing) demotion_enabled=$(cat /sys/kernel/mm/numa/demotion_enabled)" ;;
damon)
	# DAMON tiering (Linux 6.11+): migrate_hot / migrate_cold schemes,
	# configured here, started once gups runs (see damon_setup.sh).
	echo 0 > /proc/sys/kernel/numa_balancing
	. /htier/bench/damon_setup.sh
	damon_setup || exit 1 ;;
htier)
	echo 0 > /proc/sys/kernel/numa_balancing
	insmod /htier/htier.ko || { echo "BENCH-ERROR insmod"; exit 1; }
	echo "$quota" > /sys/kernel/mm/htier/quota_bytes
	[ -n "$cpu_permil" ] && echo "$cpu_permil" > /sys/kernel/mm/htier/cpu_permil
	[ -n "$cpu_boost_permil" ] && echo "$cpu_boost_permil" > /sys/kernel/mm/htier/cpu_boost_permil
	echo "BENCH-INFO htier: cpu_permil=$(cat /sys/kernel/mm/htier/cpu_permil) cpu_boost_permil=$(cat /sys/kernel/mm/htier/cpu_boost_permil 2>/dev/null)"
	echo 200 > /sys/kernel/mm/htier/scan_interval_ms ;;
esac

# Free memory per node once the mode is set up (the region must not fit
# in node 0's).
for n in /sys/devices/system/node/node*; do
	echo "BENCH-NODE node=${n##*node} free_kb=$(awk '/MemFree/ {print $4}' $n/meminfo) total_kb=$(awk '/MemTotal/ {print $4}' $n/meminfo)"
done

shift_opt=""
[ "$shift_at" != 0 ] && shift_opt="--shift-at $shift_at"
gups --json --bind-node 1 --size $size --hot $hot --mode $wmode \
	--threads $threads --duration $dur $shift_opt > /tmp/gups.out 2>&1 &
gpid=$!
echo "BENCH-INFO gups_start_uptime=$(cut -d' ' -f1 /proc/uptime)"
# The placement system's own kernel threads (htierd, the kdamonds) are charged
# utime + stime from /proc/PID/stat, sampled every 2 s (BENCH-ROUND) and
# over the whole run (BENCH-CPU: from gups' start, its populate phase
# included, to its exit); kswapd0 too, which demotes in tiering mode.
kpid= kthread=
if [ $mode = htier ]; then
	echo $gpid > /sys/kernel/mm/htier/scope_pids
	kpid=$(pidof htierd) kthread=htierd
elif [ $mode = damon ]; then
	damon_start || { kill $gpid; exit 1; }
	kthread=kdamonds
fi
# ticks PID...: utime + stime of those threads together (clock ticks).
ticks() {
	n=0
	for p in "$@"; do
		n=$((n + $(awk '{print $14 + $15}' /proc/$p/stat 2>/dev/null || echo 0)))
	done
	echo $n
}
swpid=$(pidof kswapd0)
sw0=$(ticks $swpid)
t0=$(ticks $kpid) u0=$(cut -d' ' -f1 /proc/uptime)
if [ $mode = htier ]; then
	(
		d=/sys/kernel/mm/htier/stats
		while kill -0 $gpid 2>/dev/null; do
			echo "BENCH-ROUND t=$(cut -d' ' -f1 /proc/uptime) ticks=$(ticks $kpid) rounds=$(cat $d/rounds) period_ms=$(cat $d/scan_interval_now_ms) round_us=$(cat $d/last_round_us) migrate_us=$(cat $d/last_migrate_us) window_us=$(cat $d/abit_window_us) hot=$(cat $d/hot_set_bytes) fast=$(cat $d/fast_resident_bytes) promoted=$(cat $d/promoted_pages) demoted=$(cat $d/demoted_pages) permil_now=$(cat $d/cpu_permil_now 2>/dev/null) boost_ms=$(cat $d/boost_ms 2>/dev/null) hist=$(cat $d/hotness_histogram | tr ' ' ,)"
			sleep 2
		done
	) &
elif [ $mode = damon ]; then
	(
		while kill -0 $gpid 2>/dev/null; do
			echo "BENCH-ROUND t=$(cut -d' ' -f1 /proc/uptime) ticks=$(ticks $kpid) $(damon_stats)"
			[ "$(damon_arg debug 0)" = 1 ] && damon_regions
			sleep 2
		done
	) &
fi
wait $gpid
# CPU over gups' run: read as soon as it ends (htierd does a last bit of
# work when its scoped process exits).
t1=$(ticks $kpid) sw1=$(ticks $swpid) u1=$(cut -d' ' -f1 /proc/uptime)
secs=$(awk "BEGIN {print $u1 - $u0}")
sed 's/^/BENCH /' /tmp/gups.out
grep -E "numa_(hint_faults|pages_migrated)|pgpromote|pgdemote|pgmigrate_success" /proc/vmstat | sed 's/^/BENCH-VMSTAT /'
if [ -n "$kpid" ]; then
	echo "BENCH-CPU ${kthread}_ticks=$((t1 - t0)) kswapd0_ticks=$((sw1 - sw0)) hz=100 seconds=$secs"
else
	echo "BENCH-CPU kswapd0_ticks=$((sw1 - sw0)) hz=100 seconds=$secs"
fi
if [ $mode = htier ]; then
	# The module's own messages (warnings, refusals) with the run.
	dmesg | grep 'htier: ' | tail -n 300 | sed 's/^/BENCH-DMESG /'
	for f in promoted_pages demoted_pages promote_failed demote_failed samples rounds migrate_us; do
		echo "BENCH-STAT $f=$(cat /sys/kernel/mm/htier/stats/$f 2>/dev/null)"
	done
elif [ $mode = damon ]; then
	echo "BENCH-STAT $(damon_stats)"
	for k in /sys/kernel/mm/damon/admin/kdamonds/[0-9]*; do
		echo off > $k/state
	done
fi
