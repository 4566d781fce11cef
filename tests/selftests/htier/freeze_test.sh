#!/bin/sh
# Suspend and hibernation freeze tasks first; htierd must freeze with them
# (no page moved while the system image is taken).  /sys/power/pm_test =
# freezer makes a suspend freeze the tasks, wait pm_test's delay (5 s) and
# thaw them, without suspending devices.  TAP output.
n=0 fail=0
ok() { n=$((n + 1)); echo "ok $n $1"; }
nok() { n=$((n + 1)); echo "not ok $n $1"; fail=1; }
skip() { n=$((n + 1)); echo "ok $n $1 # SKIP $2"; }
H=/sys/kernel/mm/htier
echo "TAP version 13"
echo "1..2"
[ -d $H ] || insmod /htier/htier.ko
up() { cut -d' ' -f1 /proc/uptime; }
echo 100 > $H/scan_interval_ms
echo 100 > $H/scan_interval_max_ms
echo 1 > $H/enabled
if [ ! -w /sys/power/pm_test ] || ! grep -qw freeze /sys/power/state; then
	skip "htierd runs between freezes" "no pm_test or s2idle"
	skip "htierd is frozen with the tasks" "no pm_test or s2idle"
	exit 0
fi
# Baseline: rounds in 3 s of normal running.
r0=$(cat $H/stats/rounds); sleep 3; r1=$(cat $H/stats/rounds)
echo "# running: $((r1 - r0)) rounds in 3 s"
[ $((r1 - r0)) -ge 10 ] && ok "htierd runs between freezes" || nok "htierd runs between freezes"
echo freezer > /sys/power/pm_test
t0=$(up); r0=$(cat $H/stats/rounds)
echo freeze > /sys/power/state; rc=$?
t1=$(up); r1=$(cat $H/stats/rounds)
echo none > /sys/power/pm_test
echo "# freeze test: exit $rc, $((r1 - r0)) rounds in $(echo "$t1 $t0" | awk '{printf "%.1f", $1 - $2}') s"
dmesg | grep -i "freez" | tail -3 | sed 's/^/# /'
# Frozen for pm_test's 5 s: a round or two at the edges, not ~50.
[ "$rc" = 0 ] && [ $((r1 - r0)) -le 5 ] && ok "htierd is frozen with the tasks" ||
	nok "htierd is frozen with the tasks"
echo 500 > $H/scan_interval_ms
echo 4000 > $H/scan_interval_max_ms
exit $fail
