#!/bin/sh
# Guest side of bench/vm/cost.py: htierd's CPU cost and convergence for one
# gups region size, for two module builds (/htier/cost/<build>.ko) and gups
# models, one after the other on the same touched region, then (optionally)
# mmap latency with htier on and off.
# Parameters from the kernel command line:
#   cost.size=8G cost.bytes=N  region (gups size string, and in bytes)
#   cost.hot=64M               hot set
#   cost.dur=S                 seconds per measurement (module loaded), at
#                              least; then on until no page moved for
#   cost.steady=S              S seconds (the steady window), but at most
#   cost.maxdur=S              S seconds from insmod
#   cost.phases=hotset:before,hotset:after,scattered:after,scattered:before
#                              the measurements, in order: gups model, build
#   cost.interval=MS           scan_interval_ms (0: the module's default)
#   cost.lat=off+before+after  latency conditions (none: skip)
#   cost.latmb=2048 cost.latsec=S  htier_maplat --busy-mb / --seconds
# Output: COST-* lines, parsed by cost.py.
arg() { sed -n "s/.*cost\.$1=\([^ ]*\).*/\1/p" /proc/cmdline; }
size=$(arg size); bytes=$(arg bytes); hot=$(arg hot); dur=$(arg dur)
steady=$(arg steady); maxdur=$(arg maxdur)
phases=$(arg phases); interval=$(arg interval)
lat=$(arg lat); latmb=$(arg latmb); latsec=$(arg latsec)
: ${size:=512M} ${bytes:=536870912} ${hot:=64M} ${dur:=30}
: ${phases:=hotset:before,hotset:after} ${interval:=0} ${lat:=none} ${latmb:=2048}
: ${latsec:=10} ${steady:=10} ${maxdur:=$dur}
S=/sys/kernel/mm/htier
up() { read u _ < /proc/uptime; echo $u; }
echo "COST-INFO size=$size bytes=$bytes hot=$hot dur=$dur steady=$steady maxdur=$maxdur phases=$phases interval=$interval lat=$lat latmb=$latmb latsec=$latsec"
echo 0 > /proc/sys/kernel/numa_balancing
for b in /htier/cost/*.ko; do
	echo "COST-INFO module $(basename $b .ko) srcversion=$(modinfo -F srcversion $b 2>/dev/null) size=$(wc -c < $b)"
done

nodes() {
	for n in /sys/devices/system/node/node*; do
		echo "COST-NODE $1 node=${n##*node} free_kb=$(awk '/MemFree/ {print $4}' $n/meminfo) total_kb=$(awk '/MemTotal/ {print $4}' $n/meminfo)"
	done
}

# One line of htierd figures: uptime, ns on CPU (schedstat, first field),
# and the module's stats; the new ones only where the module has them.
# tmove: the last sample at which the pages moved (promoted + demoted) grew.
extra=""
moved=-1; tmove=0
sample() {
	read ns _ < /proc/$kpid/schedstat
	read r < $S/stats/rounds
	read p < $S/stats/scan_interval_now_ms
	read lr < $S/stats/last_round_us
	read f < $S/stats/fast_resident_bytes
	read h < $S/stats/hot_set_bytes
	read pr < $S/stats/promoted_pages
	read de < $S/stats/demoted_pages
	read mu < $S/stats/migrate_us
	read tr < $S/stats/tracked_pages
	x=""
	for e in $extra; do
		read v < $S/stats/$e
		x="$x $e=$v"
	done
	now=$(up)
	[ $((pr + de)) != $moved ] && { moved=$((pr + de)); tmove=$now; }
	echo "COST-S $1 t=$now ns=$ns rounds=$r period_ms=$p round_us=$lr fast=$f hot=$h promoted=$pr demoted=$de migrate_us=$mu tracked=$tr$x"
}

load() {
	insmod /htier/cost/$1.ko || { echo "COST-ERROR insmod $1"; return 1; }
	[ "$interval" != 0 ] && echo $interval > $S/scan_interval_ms
	kpid=$(pidof htierd)
	[ -n "$kpid" ] || { echo "COST-ERROR no htierd ($1)"; rmmod htier; return 1; }
	extra=""
	for e in coverage_permil thread_cpu_permil ptes_scanned pmds_skipped \
	         pmds_idle full_passes cpu_permil_now boost_ms boost_grew \
	         boost_jumped boost_moving boost_owed owed_pages fill_held; do
		[ -r $S/stats/$e ] && extra="$extra $e"
	done
	return 0
}

# One gups process, one touch: each measurement starts with SIGUSR1, which
# makes gups move the region back wholly to node 1 (mbind MPOL_MF_MOVE) and
# switch to the measurement's model (--reset-modes), then the build is loaded.
first=$(echo $phases | cut -d, -f1 | cut -d: -f1)
modes=$(echo $phases | tr , '\n' | cut -d: -f1 | tr '\n' , | sed 's/,$//')
nodes "phase=start"
out=/tmp/gups.out
rm -f $out
gups --json --populate --bind-node 1 --size $size --hot $hot --mode $first \
	--threads 1 --duration 100000 --reset-on-sigusr1 --reset-modes $modes \
	> $out 2>&1 &
gpid=$!
t=$(up)
while ! grep -q '"config"' $out 2>/dev/null; do
	kill -0 $gpid 2>/dev/null || { echo "COST-ERROR gups died: $(cat $out)"; break; }
	sleep 0.1
done
echo "COST-GUPS start=$(up) touch_s_from=$t"
for p in $(echo $phases | tr , ' '); do
	wl=${p%%:*}; b=${p#*:}
	kill -0 $gpid 2>/dev/null || { echo "COST-ERROR gups gone before $wl/$b"; break; }
	n=$(grep -c '"reset"' $out)
	kill -USR1 $gpid
	k=0
	while [ $(grep -c '"reset"' $out) -le $n ] && [ $k -lt 1800 ] &&
	      kill -0 $gpid 2>/dev/null; do
		sleep 0.1; k=$((k + 1))
	done
	echo "COST-MOVE wl=$wl build=$b $(grep '"reset"' $out | tail -n1) $(cost_helper where $gpid $bytes)"
	nodes "wl=$wl build=$b"
	load $b || continue
	t0=$(up)
	echo $gpid > $S/scope_pids
	echo "COST-PHASE wl=$wl build=$b t0=$t0 kpid=$kpid extra=$(echo $extra | tr ' ' ,)"
	moved=-1; tmove=$t0
	sample "wl=$wl build=$b"
	# At least dur s; then until no page moved for the last steady s (the
	# steady window holds tracking only), but at most maxdur s.
	while awk -v u=$(up) -v t=$t0 -v d=$dur -v m=$maxdur -v q=$tmove \
	      -v s=$steady 'BEGIN {exit !(u < t + d || (u < t + m && u - q < s))}'; do
		sleep 1
		sample "wl=$wl build=$b"
	done
	echo "COST-END wl=$wl build=$b t=$(up) last_move=$tmove hist=$(cat $S/stats/hotness_histogram | tr ' ' ,) failed=$(cat $S/stats/promote_failed),$(cat $S/stats/demote_failed) managed=$(cat $S/stats/managed_processes) table_full=$(cat $S/stats/table_full)"
	rmmod htier || echo "COST-ERROR rmmod after $b"
	echo "COST-RMMOD wl=$wl build=$b t=$(up)"
done
kill $gpid 2>/dev/null; wait $gpid 2>/dev/null
grep -E '"(sample|reset)"' $out | sed "s/^/COST-SAMPLE /"

if [ "$lat" != none ]; then
	maplat=/htier/cost/htier_maplat
	[ -x $maplat ] || maplat=$(command -v htier_maplat)
	if [ -z "$maplat" ]; then
		echo "COST-LAT-MISSING htier_maplat not in the initramfs"
		lat=none
	fi
fi
if [ "$lat" != none ]; then
	for c in $(echo $lat | tr + ' '); do
		nodes "lat=$c"
		kpid=""
		[ $c != off ] && { load $c || continue; }
		rm -f /tmp/lat.out
		$maplat --busy-mb $latmb --bind-node 1 --seconds $latsec > /tmp/lat.out 2>&1 &
		lpid=$!
		t0=$(up)
		if [ -n "$kpid" ]; then
			echo $lpid > $S/scope_pids
			sample "lat=$c"
		fi
		while kill -0 $lpid 2>/dev/null; do
			sleep 1
			[ -n "$kpid" ] && sample "lat=$c"
		done
		wait $lpid
		rc=$?
		echo "COST-LAT cond=$c t0=$t0 t1=$(up) rc=$rc $(tail -n1 /tmp/lat.out)"
		[ -n "$kpid" ] && { rmmod htier || echo "COST-ERROR rmmod after lat $c"; }
	done
fi
exit 0
