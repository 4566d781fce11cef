#!/bin/sh
# Guest side of the promotion-throughput benchmark: move the same number of
# pages from node 1 to node 0 with move_pages(2) (gups --move-bench) and with
# htier (a region wholly on node 1, all of it hot, quota max, one batch).
pages=$(sed -n 's/.*bench\.pages=\([^ ]*\).*/\1/p' /proc/cmdline)
: ${pages:=16384}
echo 0 > /proc/sys/kernel/numa_balancing
echo "BENCH-MOVE $(gups --move-bench $pages --json 2>&1 | tail -n1)"
echo "BENCH-MOVE-BUSY $(gups --move-bench $pages --move-busy --json 2>&1 | tail -n1)"

insmod /htier/htier.ko enabled=0
echo 65536 > /sys/kernel/mm/htier/migrate_batch_pages
echo 200 > /sys/kernel/mm/htier/scan_interval_ms
bytes=$((pages * 4096))
gups --json --bind-node 1 --size $bytes --hot $bytes --mode uniform \
	--duration 12 > /tmp/gups.out 2>&1 &
gpid=$!
sleep 1
echo $gpid > /sys/kernel/mm/htier/scope_pids
echo 1 > /sys/kernel/mm/htier/enabled
wait $gpid
for f in promoted_pages promote_failed migrate_us rounds; do
	echo "BENCH-STAT $f=$(cat /sys/kernel/mm/htier/stats/$f)"
done
