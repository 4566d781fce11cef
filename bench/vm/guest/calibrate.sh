#!/bin/sh
# Guest side of bench/vm calibration: print each node's free memory (and with
# bench.mode=tiering, set up the dax/kmem lower tier first), so the host can
# check that the gups region does not fit in node 0's free memory.
. /htier/bench/tiering_setup.sh
mode=$(sed -n 's/.*bench\.mode=\([^ ]*\).*/\1/p' /proc/cmdline)
if [ "$mode" = tiering ]; then
	tiering_setup || { dmesg | grep -iE 'e820|initrd|hmem|soft|NODE_DATA|SRAT|kmem|memmap|dax|zone|node' | sed 's/^/BENCH-DMESG /'; cat /proc/iomem | sed 's/^/BENCH-IOMEM /'; exit 1; }
fi
for n in /sys/devices/system/node/node*; do
	free=$(awk '/MemFree/ {print $4}' $n/meminfo)
	total=$(awk '/MemTotal/ {print $4}' $n/meminfo)
	echo "BENCH-NODE node=${n##*node} free_kb=$free total_kb=$total"
done
w=$(awk '{print $0}' /proc/sys/vm/min_free_kbytes)
echo "BENCH-INFO min_free_kbytes=$w"
grep -E "high|min" /proc/zoneinfo | head -20 | tr -s ' ' | sed 's/^/BENCH-ZONE/'
