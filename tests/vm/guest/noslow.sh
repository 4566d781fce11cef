#!/bin/sh
# Guest side of tests/vm/e2e_nodeoffline.py, second guest: htier.ko is
# loaded while no node has slow memory (node 1 exists but its virtio-mem
# device has plugged nothing yet, as when an operator hot-plugs CXL memory
# after boot).  The module must load with one warning that there is no
# slow node, run its rounds without claiming that a node lost its memory,
# refuse slow_nodes naming a node without memory, and tier once the memory
# is plugged and slow_nodes is written.  TAP between HTIER-TAP markers; the
# host watches for HTIER-PLUG-SLOW and plugs the device.
suite=noslow
. /htier/tap.sh
lost_lines() { dmesg | grep -c 'have no memory'; }

echo "HTIER-TAP-BEGIN noslow"
echo "TAP version 13"
echo "1..9"

[ "$(cat $N/has_memory)" = 0 ]
check $? "only node 0 has memory (has_memory $(cat $N/has_memory))"
insmod /htier/htier.ko || { nok "insmod htier.ko"; finish; }
echo 300 > $H/cpu_permil
echo 500 > $H/scan_interval_max_ms
[ -z "$(cat $H/slow_nodes)" ] && [ "$(cat $H/fast_nodes)" = 0 ] &&
	dmesg | grep -q 'htier: no CPU-less (slow) node found'
check $? "loads with no slow node and says so (slow_nodes '$(cat $H/slow_nodes)': $(dmesg | grep 'htier: no CPU-less' | tail -n1))"

htier_workload 32 > /tmp/w.out 2>&1 &
wl=$!
wait_until 60 grep -q ready /tmp/w.out
r0=$(stat rounds)
wait_until 60 sh -c "[ \$(cat $S/rounds) -ge $((r0 + 5)) ]"
[ $? = 0 ] && [ "$(lost_lines)" = 0 ]
check $? "$(($(stat rounds) - r0)) rounds with no slow node, no 'have no memory' line ($(lost_lines))"
echo 1 > $H/slow_nodes 2>/dev/null
[ $? != 0 ] && [ -z "$(cat $H/slow_nodes)" ]
check $? "slow_nodes 1 is refused while node 1 has no memory (slow_nodes '$(cat $H/slow_nodes)')"

echo "HTIER-PLUG-SLOW"
wait_until 120 slow_has_memory
check $? "node 1's virtio-mem memory is plugged (has_memory $(cat $N/has_memory))"
echo 1 > $H/slow_nodes
check $? "slow_nodes 1 accepted now"
echo $((4 << 20)) > $H/quota_bytes
wait_until 60 sh -c "[ \$(cat $S/demoted_pages) -gt 1024 ]"
[ $? = 0 ] && [ "$(lost_lines)" = 0 ]
check $? "a 4 MiB quota demotes to node 1 ($(stat demoted_pages) pages), no 'have no memory' line ($(lost_lines))"

stop_workload 32
finish
