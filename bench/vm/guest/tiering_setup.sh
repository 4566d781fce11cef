#!/bin/sh
# Sourced by the bench guest scripts for mode "tiering": make node 1 a lower
# memory tier the way real machines do it, with dax/kmem.
#
# Linux 6.1 gives every node that has memory at boot the default (DRAM) tier;
# only memory onlined by dax/kmem gets the lower "dax" tier.  So the host
# boots this guest with node 1's whole range converted to Soft Reserved in
# the e820 map (memmap=SIZE%START-1+0xefffffff): node 1 has no memory at
# boot, dax_hmem turns the range into dax0.0 (target node 1, from the SRAT),
# and kmem onlines it (memhp_default_state=online_movable) as node 1 in a
# lower tier.  Then numa_balancing=2 promotes hot pages from it, and reclaim
# on node 0 demotes to it (demotion_enabled=1).
tiering_setup() {
	insmod /htier/dax/kmem.ko 2>/dev/null
	insmod /htier/dax/dax_hmem.ko 2>/dev/null
	i=0
	while [ ! -e /sys/bus/dax/devices/dax0.0 ] && [ $i -lt 50 ]; do
		sleep 0.1; i=$((i + 1))
	done
	if [ ! -e /sys/bus/dax/devices/dax0.0 ]; then
		echo "BENCH-ERROR tiering: no dax0.0 (soft-reserved range missing?)"
		return 1
	fi
	[ -e /sys/bus/dax/devices/dax0.0/driver ] &&
		echo dax0.0 > /sys/bus/dax/devices/dax0.0/driver/unbind
	echo dax0.0 > /sys/bus/dax/drivers/kmem/new_id || return 1
	for b in /sys/devices/system/memory/memory*; do
		[ "$(cat $b/state)" = offline ] &&
			echo online_movable > $b/state 2>/dev/null
	done
	echo 1 > /sys/kernel/mm/numa/demotion_enabled || return 1
	echo "BENCH-INFO tiering: dax0.0 target_node=$(cat /sys/bus/dax/devices/dax0.0/target_node) size=$(cat /sys/bus/dax/devices/dax0.0/size)"
	for t in /sys/devices/virtual/memory_tiering/memory_tier*; do
		echo "BENCH-INFO tiering: $(basename $t) nodes $(cat $t/nodelist)"
	done
	[ -d /sys/devices/system/node/node1 ] ||
		{ echo "BENCH-ERROR tiering: node 1 not online"; return 1; }
	n=$(ls -d /sys/devices/virtual/memory_tiering/memory_tier* | wc -l)
	[ "$n" -ge 2 ] ||
		{ echo "BENCH-ERROR tiering: node 1 is not a lower tier"; return 1; }
	return 0
}
