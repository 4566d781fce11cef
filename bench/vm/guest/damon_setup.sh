#!/bin/sh
# Sourced by the bench guest scripts for mode "damon": DAMON-based memory
# tiering through the DAMON sysfs interface (/sys/kernel/mm/damon/admin,
# CONFIG_DAMON_SYSFS + CONFIG_DAMON_PADDR, built into Debian's 6.12).
#
# Two kdamonds, each with one paddr context whose target region is one
# node's physical range (read from the memory blocks under
# /sys/devices/system/node/nodeN/; together they cover both nodes), and one
# scheme each:
#   kdamond 0, node 1's range: migrate_hot  -> node 0
#   kdamond 1, node 0's range: migrate_cold -> node 1
# (an `addr` filter that filters out the target node's own range, then a
# `young` filter).  The values are those of the DAMON documentation and of
# upstream's tiering sample (samples/damon/mtier.c, Linux 6.16), which has
# the same two-kdamond layout: 5 ms / 100 ms intervals (DAMON's defaults),
# 10..1000 regions; promote regions DAMON saw accessed (nr_accesses >= 1 of
# the 20 samples of an aggregation), demote those it saw idle (0); each
# scheme at most 200 MiB per 1 s quota window, prioritised by access
# frequency and age (weights 0/100/100), applied every 1 s, with a `young`
# page filter (promote only pages accessed since DAMON last looked, never
# demote those).  What 6.12 cannot take from the sample: its quota goals
# (node_mem_used_bp / node_mem_free_bp, 6.16: promote while node 0 is under
# 99.7 % used, demote while it has under 0.5 % free) and the interval
# auto-tuning of 6.15; see bench/NOTES612.md for that and for the
# thresholds tried (2 / 1 did worse).
#
# Every value can be overridden on the kernel command line
# (bench.damon_<name>=VALUE, e.g. bench.damon_sample_us=10000), and
# damon_setup prints what sysfs holds afterwards (BENCH-DAMON lines).
DAMON=/sys/kernel/mm/damon/admin

damon_arg() {
	v=$(sed -n "s/.*bench\.damon_$1=\([^ ]*\).*/\1/p" /proc/cmdline)
	echo "${v:-$2}"
}

# node_range N: "START END" (bytes, END exclusive) of node N's memory blocks.
node_range() {
	bs=$((0x$(cat /sys/devices/system/memory/block_size_bytes)))
	lo= hi=
	for b in /sys/devices/system/node/node$1/memory[0-9]*; do
		[ -e "$b" ] || continue
		i=${b##*/memory}
		[ -z "$lo" ] || [ "$i" -lt "$lo" ] && lo=$i
		[ -z "$hi" ] || [ "$i" -gt "$hi" ] && hi=$i
	done
	[ -n "$lo" ] || return 1
	echo "$((lo * bs)) $(((hi + 1) * bs))"
}

# damon_put FILE VALUE: write, and fail loudly (sysfs rejects bad values).
damon_put() {
	if ! echo "$2" > "$1" 2>/dev/null; then
		echo "BENCH-ERROR damon: writing '$2' to ${1#$DAMON/} refused"
		return 1
	fi
}

# damon_scheme DIR ACTION TARGET_NID MIN_ACC MAX_ACC SKIP_START SKIP_END
#              YOUNG_MATCHING
damon_scheme() {
	s=$1
	damon_put $s/action $2 &&
	damon_put $s/target_nid $3 &&
	damon_put $s/apply_interval_us $(damon_arg apply_us 1000000) &&
	damon_put $s/access_pattern/sz/min 4096 &&
	damon_put $s/access_pattern/sz/max 18446744073709551615 &&
	damon_put $s/access_pattern/nr_accesses/max $5 &&
	damon_put $s/access_pattern/nr_accesses/min $4 &&
	damon_put $s/access_pattern/age/min 0 &&
	damon_put $s/access_pattern/age/max 4294967295 &&
	damon_put $s/quotas/ms $(damon_arg quota_ms 0) &&
	damon_put $s/quotas/bytes $(damon_arg quota_bytes 209715200) &&
	damon_put $s/quotas/reset_interval_ms $(damon_arg quota_reset_ms 1000) &&
	damon_put $s/quotas/weights/sz_permil 0 &&
	damon_put $s/quotas/weights/nr_accesses_permil 100 &&
	damon_put $s/quotas/weights/age_permil 100 &&
	damon_put $s/watermarks/metric none &&
	damon_put $s/filters/nr_filters 2 &&
	damon_put $s/filters/0/type addr &&
	damon_put $s/filters/0/addr_start $6 &&
	damon_put $s/filters/0/addr_end $7 &&
	damon_put $s/filters/0/matching Y &&
	damon_put $s/filters/1/type young &&
	damon_put $s/filters/1/matching $8
}

# damon_context K START END: kdamond K, paddr, one target region START-END.
damon_context() {
	c=$DAMON/kdamonds/$1/contexts/0
	i=$c/monitoring_attrs
	damon_put $DAMON/kdamonds/$1/contexts/nr_contexts 1 || return 1
	if ! grep -qw paddr $c/avail_operations; then
		echo "BENCH-ERROR damon: no paddr operations (avail_operations: $(cat $c/avail_operations); needs CONFIG_DAMON_PADDR)"
		return 1
	fi
	damon_put $c/operations paddr &&
	damon_put $i/intervals/sample_us $(damon_arg sample_us 5000) &&
	damon_put $i/intervals/aggr_us $(damon_arg aggr_us 100000) &&
	damon_put $i/intervals/update_us $(damon_arg update_us 1000000) &&
	damon_put $i/nr_regions/min $(damon_arg min_regions 10) &&
	damon_put $i/nr_regions/max $(damon_arg max_regions 1000) &&
	damon_put $c/targets/nr_targets 1 &&
	damon_put $c/targets/0/regions/nr_regions 1 &&
	damon_put $c/targets/0/regions/0/start $2 &&
	damon_put $c/targets/0/regions/0/end $3 &&
	damon_put $c/schemes/nr_schemes $((1 + $(damon_arg debug 0))) ||
		return 1
	# bench.damon_debug=1: a second scheme, action stat over every region,
	# whose tried_regions damon_regions prints (the monitoring results).
	if [ "$(damon_arg debug 0)" = 1 ]; then
		d=$c/schemes/1
		damon_put $d/action stat &&
		damon_put $d/access_pattern/sz/max 18446744073709551615 &&
		damon_put $d/access_pattern/nr_accesses/max 4294967295 &&
		damon_put $d/access_pattern/age/max 4294967295 || return 1
	fi
}

# damon_setup: configure (not start) the two kdamonds; damon_start turns
# them on.  Two, as upstream's tiering sample does, not one context with
# both schemes: a quota's prioritisation (damos_adjust_quota) ranks every
# region of the context that fits the access pattern, addr filters or not,
# so in one context covering both nodes migrate_cold's 200 MiB would be
# spent, on paper, on node 1's cold regions (the coldest, which its addr
# filter then skips) and node 0 would never be demoted (seen: 7 MiB
# demoted in 30 s while node 0 was full).
damon_setup() {
	if [ ! -d $DAMON ]; then
		echo "BENCH-ERROR damon: this kernel has no DAMON sysfs interface ($DAMON; needs CONFIG_DAMON_SYSFS)"
		return 1
	fi
	r0=$(node_range 0) && r1=$(node_range 1) || {
		echo "BENCH-ERROR damon: no memory blocks for node 0 or 1"; return 1; }
	set -- $r0 $r1
	n0s=$1 n0e=$2 n1s=$3 n1e=$4
	damon_put $DAMON/kdamonds/nr_kdamonds 2 || return 1
	# kdamond 0 watches node 1 and promotes: young pages only (non-young
	# filtered out: matching N); node 0's range filtered out besides.
	damon_context 0 $n1s $n1e &&
	damon_scheme $DAMON/kdamonds/0/contexts/0/schemes/0 migrate_hot 0 \
		$(damon_arg hot_min_acc 1) 4294967295 $n0s $n0e N || return 1
	# kdamond 1 watches node 0 and demotes, never young pages (matching Y).
	damon_context 1 $n0s $n0e &&
	damon_scheme $DAMON/kdamonds/1/contexts/0/schemes/0 migrate_cold 1 0 \
		$(damon_arg cold_max_acc 0) $n1s $n1e Y || return 1
	damon_show
}

# Print the configuration as sysfs holds it (for the report).
damon_show() {
	for k in 0 1; do
		c=$DAMON/kdamonds/$k/contexts/0
		for f in operations monitoring_attrs/intervals/sample_us \
			 monitoring_attrs/intervals/aggr_us \
			 monitoring_attrs/intervals/update_us \
			 monitoring_attrs/nr_regions/min \
			 monitoring_attrs/nr_regions/max \
			 targets/0/regions/0/start targets/0/regions/0/end; do
			echo "BENCH-DAMON kdamonds/$k/contexts/0/$f=$(cat $c/$f)"
		done
		d=$c/schemes/0
		for f in action target_nid apply_interval_us \
			 access_pattern/sz/min access_pattern/sz/max \
			 access_pattern/nr_accesses/min \
			 access_pattern/nr_accesses/max \
			 access_pattern/age/min access_pattern/age/max \
			 quotas/ms quotas/bytes quotas/reset_interval_ms \
			 quotas/weights/sz_permil \
			 quotas/weights/nr_accesses_permil \
			 quotas/weights/age_permil quotas/goals/nr_goals \
			 watermarks/metric filters/nr_filters \
			 filters/0/type filters/0/addr_start filters/0/addr_end \
			 filters/0/matching filters/1/type filters/1/matching; do
			echo "BENCH-DAMON kdamonds/$k/contexts/0/schemes/0/$f=$(cat $d/$f)"
		done
	done
}

# damon_start: turn both kdamonds on; sets $kpid to their pids.
damon_start() {
	kpid=
	for k in 0 1; do
		damon_put $DAMON/kdamonds/$k/state on || return 1
		kpid="$kpid $(cat $DAMON/kdamonds/$k/pid)"
	done
	kpid=${kpid# }
	echo "BENCH-INFO damon: kdamond pids $kpid"
}

# damon_regions: every region each kdamond monitors (with
# bench.damon_debug=1) as START-END:NR_ACCESSES:AGE (MiB, aggregations).
damon_regions() {
	out=
	for k in 0 1; do
		echo update_schemes_tried_regions > $DAMON/kdamonds/$k/state 2>/dev/null ||
			continue
		for r in $DAMON/kdamonds/$k/contexts/0/schemes/1/tried_regions/[0-9]*; do
			[ -d "$r" ] || continue
			out="$out $(($(cat $r/start) >> 20))-$(($(cat $r/end) >> 20)):$(cat $r/nr_accesses):$(cat $r/age)"
		done
	done
	echo "BENCH-DAMON-REGIONS t=$(cut -d' ' -f1 /proc/uptime)$out"
}

# damon_stats: one line with both schemes' counters (s0: migrate_hot of
# kdamond 0, s1: migrate_cold of kdamond 1; tried / applied bytes, quota
# exceeds); asks each kdamond to refresh them first.
damon_stats() {
	out=
	for k in 0 1; do
		echo update_schemes_stats > $DAMON/kdamonds/$k/state 2>/dev/null
		d=$DAMON/kdamonds/$k/contexts/0/schemes/0/stats
		for f in nr_tried sz_tried nr_applied sz_applied qt_exceeds; do
			out="$out s${k}_$f=$(cat $d/$f)"
		done
	done
	echo "${out# }"
}
