#!/bin/sh
# Scope: with scope_cgroup set, only processes in that cgroup v2 subtree are
# managed; with scope_pids, only the listed processes.  Placement is read
# from /proc/PID/numa_maps, independently of the module.  TAP output.
n=0 fail=0
ok() { n=$((n + 1)); echo "ok $n $1"; }
nok() { n=$((n + 1)); echo "not ok $n $1"; fail=1; }
check() { if [ "$1" = 0 ]; then ok "$2"; else nok "$2"; fi; }
H=/sys/kernel/mm/htier
CG=/sys/fs/cgroup
# Pages of a process on node $2, from numa_maps' N<node>=<pages> fields.
on_node() { sed -n "s/.*N$2=\([0-9]*\).*/\1/p" /proc/$1/numa_maps | awk '{s += $1} END {print s + 0}'; }

echo "TAP version 13"
echo "1..7"
[ -d $H ] || insmod /htier/htier.ko
mountpoint -q $CG || mount -t cgroup2 none $CG
mkdir -p $CG/tenant

echo 0 > $H/enabled
./htier_workload 16 > /dev/null &
inside=$!
./htier_workload 16 > /dev/null &
outside=$!
echo $inside > $CG/tenant/cgroup.procs
sleep 2
# numa_maps counts text and stack pages too: compare with the start.
in_before=$(on_node $inside 0); out_before=$(on_node $outside 0)
echo "# before: inside N0=$in_before outside N0=$out_before"

echo /tenant > $H/scope_cgroup
check $? "scope_cgroup takes a cgroup v2 path"
[ "$(cat $H/scope_cgroup)" = /tenant ]
check $? "scope_cgroup reads back"
echo 200 > $H/scan_interval_ms
echo max > $H/quota_bytes
echo 1 > $H/enabled
sleep 8
in0=$(on_node $inside 0); out0=$(on_node $outside 0)
echo "# after: inside N0=$in0 outside N0=$out0 managed=$(cat $H/stats/managed_processes)"
[ "$(cat $H/stats/managed_processes)" = 1 ]
check $? "only the cgroup's process is managed"
[ $((in0 - in_before)) -gt 500 ] && [ $((out0 - out_before)) -lt 64 ]
check $? "the cgroup's hot pages move up, the other process's stay"

# A pid list narrows it the same way: now only the outside process.
echo "" > $H/scope_cgroup
echo $outside > $H/scope_pids
sleep 8
out0=$(on_node $outside 0)
echo "# scope_pids=$outside: outside N0=$out0 managed=$(cat $H/stats/managed_processes)"
[ "$(cat $H/stats/managed_processes)" = 1 ] && [ $((out0 - out_before)) -gt 500 ]
check $? "scope_pids manages the listed process"

# A process whose main thread exited runs on in its other threads: its mm
# is still managed.
./htier_workload 16 --leader-exits > /dev/null &
leaderless=$!
sleep 2
p0=$(cat $H/stats/promoted_pages)
echo $leaderless > $H/scope_pids
sleep 8
p1=$(cat $H/stats/promoted_pages)
echo "# leader exited (state $(cut -d' ' -f3 /proc/$leaderless/stat)): managed=$(cat $H/stats/managed_processes), promoted $((p1 - p0)) pages"
[ "$(cat $H/stats/managed_processes)" = 1 ] && [ $((p1 - p0)) -gt 500 ]
check $? "a process whose main thread exited is managed"

kill -TERM $inside $outside $leaderless
wait

# Processes that exit while htier is disabled do not keep their slots (and
# mm_structs): 20 short-lived processes, in scope, then htier disabled.
echo all > $H/scope_pids
sleeps=""
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
	sleep 60 & sleeps="$sleeps $!"
done
sleep 2
m1=$(cat $H/stats/managed_processes)
echo 0 > $H/enabled
kill $sleeps
wait
sleep 2
m2=$(cat $H/stats/managed_processes)
echo 1 > $H/enabled
echo "# 20 processes exited while disabled: managed $m1 -> $m2"
[ "$m1" -ge 20 ] && [ "$m2" -le $((m1 - 20)) ]
check $? "processes that exit while htier is disabled are let go"
echo all > $H/scope_pids
echo 500 > $H/scan_interval_ms
rmdir $CG/tenant 2>/dev/null
exit $fail
