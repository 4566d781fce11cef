#!/bin/sh
# The pebs sampler's sample pipeline (per-CPU NMI-safe rings drained by the
# htier thread into page heat), fed by the software page-fault event where
# no PMU exists: module parameter pebs_source=sw-page-faults.  TAP output.
n=0 fail=0
ok() { n=$((n + 1)); echo "ok $n $1"; }
nok() { n=$((n + 1)); echo "not ok $n $1"; fail=1; }
H=/sys/kernel/mm/htier
# Run htier_refault ARGS... as the only managed process, to its end.
refault() {
	"$@" &
	pid=$!
	echo $pid > $H/scope_pids
	wait $pid
}
echo "TAP version 13"
echo "1..8"
[ -d $H ] && rmmod htier
if insmod /htier/htier.ko pebs_source=sw-page-faults sampler=pebs; then
	ok "pebs sampler starts on the software source"
else
	nok "pebs sampler starts on the software source"
	echo "Bail out! no module"; exit 1
fi
s=$(cat $H/sampler)
[ "$s" = "auto [pebs] abit" ] && ok "sampler reads '$s'" || nok "sampler reads '$s'"

echo 100 > $H/scan_interval_ms
refault ./htier_refault 16 6
samples=$(cat $H/stats/samples)
fast=$(cat $H/stats/samples_fast)
slow=$(cat $H/stats/samples_slow)
hist=$(cat $H/stats/hotness_histogram)
echo "# samples=$samples fast=$fast slow=$slow histogram: $hist"
[ "$samples" -gt 1000 ] && ok "fault samples reach tracked pages ($samples)" ||
	nok "fault samples reach tracked pages ($samples)"
[ $((fast + slow)) -le "$samples" ] && [ $((fast + slow)) -gt 0 ] &&
	ok "samples are split by tier" || nok "samples are split by tier"

# Region spread (stats/spread_regions): faults that fall evenly over each
# 2 MiB range (a random eighth of the pages a pass, all pages mapped) rank
# the ranges' pages together; faults bunched on every 16th page do not.
sp0=$(cat $H/stats/spread_regions)
refault ./htier_refault 16 6 bunched
sp1=$(cat $H/stats/spread_regions)
refault ./htier_refault 16 6 spread
sp2=$(cat $H/stats/spread_regions)
echo "# spread_regions: bunched faults +$((sp1 - sp0)), even faults +$((sp2 - sp1)); histogram: $(cat $H/stats/hotness_histogram)"
[ $((sp2 - sp1)) -ge 8 ] && ok "evenly sampled ranges are spread (+$((sp2 - sp1)))" ||
	nok "evenly sampled ranges are spread (+$((sp2 - sp1)))"
[ $((sp1 - sp0)) -eq 0 ] && ok "bunched samples are not spread (+$((sp1 - sp0)))" ||
	nok "bunched samples are not spread (+$((sp1 - sp0)))"

# CPU hotplug: a CPU that goes offline and comes back is sampled again.
C=/sys/devices/system/cpu/cpu1/online
if [ -w $C ] && echo 0 > $C && echo 1 > $C; then
	ok "cpu1 offline and online again with the pebs sampler running"
	s0=$(cat $H/stats/samples)
	refault taskset -c 1 ./htier_refault 8 4
	s1=$(cat $H/stats/samples)
	echo "# samples from faults on cpu1 after it came back: $((s1 - s0))"
	[ $((s1 - s0)) -gt 500 ] && ok "cpu1 sampled after coming back ($((s1 - s0)))" ||
		nok "cpu1 sampled after coming back ($((s1 - s0)))"
else
	echo "ok 7 # SKIP cpu1 cannot go offline here"
	echo "ok 8 # SKIP cpu1 cannot go offline here"
fi
rmmod htier && insmod /htier/htier.ko
exit $fail
