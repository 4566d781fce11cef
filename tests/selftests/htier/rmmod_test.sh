#!/bin/sh
# htier unloads cleanly at any moment: idle, while sampling a workload, and
# in the middle of migrations; the workload's data stays intact and the
# kernel logs no warning.  TAP output.
n=0 fail=0
ok() { n=$((n + 1)); echo "ok $n $1"; }
nok() { n=$((n + 1)); echo "not ok $n $1"; fail=1; }
loaded() { [ -d /sys/kernel/mm/htier ]; }
reload() { loaded || insmod /htier/htier.ko; }

echo "TAP version 13"
echo "1..5"
dmesg -c >/dev/null

# 1: idle (nothing in scope).
reload
echo 99999 > /sys/kernel/mm/htier/scope_pids
sleep 1
if rmmod htier && ! loaded; then ok "rmmod idle"; else nok "rmmod idle"; fi

# A workload for the rest.
./htier_workload 48 > /tmp/wl.out &
wl=$!
sleep 3

# 2: while sampling (the workload is managed, quota ample).
reload
sleep 2
if rmmod htier && ! loaded; then ok "rmmod while sampling"; else nok "rmmod while sampling"; fi

# 3: mid-migration, repeatedly: quota flips force mass moves.
good=1
for i in 1 2 3 4 5; do
	reload
	echo 0 > /sys/kernel/mm/htier/quota_bytes
	usleep $((100000 * i)) 2>/dev/null || sleep 1
	rmmod htier || good=0
	reload
	echo max > /sys/kernel/mm/htier/quota_bytes
	sleep 1
	rmmod htier || good=0
done
if [ $good = 1 ] && ! loaded; then ok "rmmod mid-migration x10"; else nok "rmmod mid-migration x10"; fi

# 4: the workload's data survived every unload.
kill -TERM $wl
wait $wl
r=$?
cat /tmp/wl.out | sed 's/^/# /'
if [ $r = 0 ]; then ok "workload data intact"; else nok "workload data intact (rc $r)"; fi

# 5: no kernel warning, bug or leak report.
if dmesg | grep -E "WARNING|BUG|Oops|leak|Call Trace" > /tmp/dmesg.bad; then
	sed 's/^/# /' /tmp/dmesg.bad
	nok "kernel log clean"
else
	ok "kernel log clean"
fi
reload
exit $fail
