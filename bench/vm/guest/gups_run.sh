#!/bin/sh
# Guest side of bench/vm: run gups under one placement mode and print its
# JSON lines (prefixed BENCH) plus the module's CPU time and counters.
# Parameters come from the kernel command line:
#   bench.mode=first-touch|autonuma|tiering|htier  bench.dur=SECS
#   bench.size=512M bench.hot=64M bench.wmode=hotset|scattered|zipf|uniform
#   bench.shift=SECS (0: none)  bench.quota=BYTES|max  bench.threads=N
arg() { sed -n "s/.*bench\.$1=\([^ ]*\).*/\1/p" /proc/cmdline; }
mode=$(arg mode); dur=$(arg dur); size=$(arg size); hot=$(arg hot)
wmode=$(arg wmode); shift_at=$(arg shift); quota=$(arg quota); threads=$(arg threads)
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
htier)
	echo 0 > /proc/sys/kernel/numa_balancing
	insmod /htier/htier.ko || { echo "BENCH-ERROR insmod"; exit 1; }
	echo "$quota" > /sys/kernel/mm/htier/quota_bytes
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
if [ $mode = htier ]; then
	echo $gpid > /sys/kernel/mm/htier/scope_pids
	kpid=$(pidof htierd)
	t0=$(awk '{print $14 + $15}' /proc/$kpid/stat)
	(
		d=/sys/kernel/mm/htier/stats
		while kill -0 $gpid 2>/dev/null; do
			echo "BENCH-ROUND t=$(cut -d' ' -f1 /proc/uptime) ticks=$(awk '{print $14 + $15}' /proc/$kpid/stat) rounds=$(cat $d/rounds) period_ms=$(cat $d/scan_interval_now_ms) round_us=$(cat $d/last_round_us) migrate_us=$(cat $d/last_migrate_us) window_us=$(cat $d/abit_window_us) hot=$(cat $d/hot_set_bytes) fast=$(cat $d/fast_resident_bytes) promoted=$(cat $d/promoted_pages) demoted=$(cat $d/demoted_pages) hist=$(cat $d/hotness_histogram | tr ' ' ,)"
			sleep 2
		done
	) &
fi
wait $gpid
sed 's/^/BENCH /' /tmp/gups.out
grep -E "numa_(hint_faults|pages_migrated)|pgpromote|pgdemote|pgmigrate_success" /proc/vmstat | sed 's/^/BENCH-VMSTAT /'
if [ $mode = htier ]; then
	t1=$(awk '{print $14 + $15}' /proc/$kpid/stat)
	echo "BENCH-CPU htierd_ticks=$((t1 - t0)) hz=100 seconds=$dur"
	for f in promoted_pages demoted_pages promote_failed demote_failed samples rounds migrate_us; do
		echo "BENCH-STAT $f=$(cat /sys/kernel/mm/htier/stats/$f 2>/dev/null)"
	done
fi
