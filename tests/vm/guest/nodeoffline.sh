#!/bin/sh
# Guest side of tests/vm/e2e_nodeoffline.py: the slow node is made only of a
# virtio-mem device (node 1 has no boot memory).  htier.ko runs with node 1
# as its slow node and a quota that forces demotions; the host then unplugs
# the whole device, so node 1 has no memory and goes offline, and plugs it
# back later.  While the node is gone htier must not allocate on it (an
# __GFP_THISNODE allocation from an offline node warns with a stack dump),
# must say so once, and must resume demoting when the node is back; no byte
# of the workload may change.  TAP between HTIER-TAP markers; the host
# watches for HTIER-UNPLUG-SLOW / HTIER-REPLUG-SLOW and resizes the device.
suite=nodeoffline
. /htier/tap.sh
slow_gone() { [ "$(cat $N/has_memory)" = "0" ]; }
offline_warns() { dmesg | grep -c 'allocation from offline node'; }

echo "HTIER-TAP-BEGIN nodeoffline"
echo "TAP version 13"
echo "1..13"

wait_until 60 slow_has_memory
check $? "node 1 has (virtio-mem) memory: has_memory $(cat $N/has_memory)"
insmod /htier/htier.ko || { nok "insmod htier.ko"; finish; }
echo 300 > $H/cpu_permil
echo 500 > $H/scan_interval_max_ms
[ "$(cat $H/slow_nodes)" = 1 ] && [ "$(cat $H/fast_nodes)" = 0 ]
check $? "node 1 is the slow node (fast $(cat $H/fast_nodes), slow $(cat $H/slow_nodes))"

htier_workload 96 > /tmp/w.out 2>&1 &
wl=$!
wait_until 60 grep -q ready /tmp/w.out
# The workload's hot quarter (24 MiB) comes up; then a quota of 4 MiB
# forces demotions back to node 1.
wait_until 90 sh -c "[ \$(cat $S/promoted_pages) -gt 1024 ]"
check $? "the hot quarter is promoted to node 0 ($(stat promoted_pages) pages)"
echo $((4 << 20)) > $H/quota_bytes
wait_until 60 sh -c "[ \$(cat $S/demoted_pages) -gt 1024 ]"
check $? "a 4 MiB quota demotes to node 1 ($(stat demoted_pages) pages)"

warns0=$(offline_warns)
echo "HTIER-UNPLUG-SLOW"
wait_until 120 slow_gone
check $? "node 1's memory is unplugged (has_memory $(cat $N/has_memory), online $(cat $N/online))"
# With its last memory block removed the kernel takes the node offline
# (try_offline_node()): wait for that too, where it happens.
wait_until 20 sh -c "[ \"\$(cat $N/online)\" = 0 ]"
# The unplug moved node 1's pages to node 0: now the quota is exceeded and
# every round wants to demote, with no slow memory to demote to.
# A page whose move failed (node 1 going) is not tried again until the
# next cooling step: cool every pass, so that these rounds try again.
echo 1 > $H/cooling_period_scans
t0=$(stat tracked_pages)
r0=$(stat rounds)
d0=$(stat demoted_pages)
wait_until 30 sh -c "[ \$(cat $S/rounds) -ge $((r0 + 8)) ]"
check $? "rounds go on while the slow node is gone ($(($(stat rounds) - r0)) rounds)"
for f in fast_resident_bytes slow_resident_bytes demoted_pages demote_failed tracked_pages unmovable_bytes; do echo "# $f $(stat $f)"; done
dmesg | tail -n 6 | sed 's/^/# dmesg /'
echo "# node 1 now: has_memory $(cat $N/has_memory), online $(cat $N/online); demote_failed $(stat demote_failed)"
dg=$(($(stat demoted_pages) - d0))
# The node is in no task's cpuset mems now (they follow the memory nodes):
# that is not the user pinning memory, and the pages must stay tracked,
# their heat kept for when the node is back.
t1=$(stat tracked_pages)
[ $t0 -gt 20000 ] && [ $t1 -ge $((t0 * 9 / 10)) ] && [ "$(stat unmovable_bytes)" = 0 ]
check $? "the workload stays tracked, not unmovable ($t0 -> $t1 pages, unmovable $(stat unmovable_bytes) bytes)"
w=$(offline_warns)
dmesg | grep -B2 -A12 'allocation from offline node' | head -40 | sed 's/^/# /'
[ "$w" = "$warns0" ] && ! dmesg | grep -q -E 'WARNING:|Call Trace:'
check $? "no allocation from the offline node, no warning ($((w - warns0)) 'allocation from offline node')"
dmesg | grep -q 'htier: slow nodes 1 have no memory'
check $? "dmesg says the slow node has no memory: $(dmesg | grep 'htier: slow nodes' | tail -n1)"

echo "HTIER-REPLUG-SLOW"
wait_until 120 slow_has_memory
check $? "node 1's memory is back (has_memory $(cat $N/has_memory))"
d1=$(stat demoted_pages)
wait_until 60 sh -c "[ \$(cat $S/demoted_pages) -gt $((d1 + 1024)) ]"
check $? "demotions to node 1 resume ($(($(stat demoted_pages) - d1)) pages since it came back; $dg while it was gone)"

stop_workload 96
finish
