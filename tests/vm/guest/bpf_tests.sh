#!/bin/sh
# Guest side of tests/vm/e2e_bpf.py: htierctl pmu-check and events, the
# module's pebs_events file, and the BPF tools (htier-trace, htier-slowtop)
# against a real workload with forced migrations.  TAP output between
# HTIER-TAP markers; exit 0 when every test passed.
#
# htier-trace vs the module: the module is quiesced (enabled=0, which waits
# for a running round) before the counters are read and before the trace
# ends, so the tracepoint sums must equal the stats deltas exactly
# (tolerance 0 pages).
. /htier/tap.sh
diag() { sed 's/^/# /' "$@"; }
jnum() { sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" "$2" | tail -n1; }

echo "HTIER-TAP-BEGIN bpf_tests"
echo "TAP version 13"
echo "1..19"

# --- without the module --------------------------------------------------
htierctl pmu-check > /tmp/pmu.txt 2>&1
rc=$?
diag /tmp/pmu.txt
grep -q '^verdict: no PMU$' /tmp/pmu.txt && grep -q 'htier will use: abit' /tmp/pmu.txt
check $(( $? | rc )) "pmu-check says no PMU under TCG (no module needed)"

htierctl pmu-check --json > /tmp/pmu.json 2>&1
grep -q '"verdict": "no-pmu"' /tmp/pmu.json && grep -q '"htier_sampler": "abit"' /tmp/pmu.json
check $? "pmu-check --json verdict no-pmu"

htierctl events > /tmp/ev.txt 2>&1
rc=$?
diag /tmp/ev.txt
if [ $rc = 0 ] && grep -q '^pmu ' /tmp/ev.txt &&
   { grep -q 'pebs_events line:' /tmp/ev.txt || grep -q 'keeps its built-in defaults' /tmp/ev.txt; }; then
	ok "events lists encodings or says why not"
else
	nok "events lists encodings or says why not (rc $rc)"
fi

htier-trace -d 1 > /tmp/t.out 2>&1
rc=$?
diag /tmp/t.out
[ $rc != 0 ] && grep -q 'htier module not loaded' /tmp/t.out
check $? "htier-trace without the module fails clearly"

htier-slowtop -c 1 > /tmp/s.out 2>&1
rc=$?
[ $rc != 0 ] && grep -q 'htier module not loaded' /tmp/s.out
check $? "htier-slowtop without the module fails clearly"

# --- pebs_events ---------------------------------------------------------
insmod /htier/htier.ko || { nok "insmod htier.ko"; echo "HTIER-TAP-END bpf_tests 1"; exit 1; }
def=$(cat $H/pebs_events)
echo "# pebs_events: $def"
echo "# sampler: $(cat $H/sampler); reason: $(cat $H/sampler_reason)"
[ "$def" = "load type=4 config=0x81d0 config1=0x0 precise=2; store type=4 config=0x82d0 config1=0x0 precise=2" ]
check $? "pebs_events shows the built-in defaults"

bad=0
for v in "load type=4 config=0" "load type=1 config=0x81d0" "load type=99 config=0x1" \
	 "load type=4 config=0x81d0 precise=4" "load config=0x81d0" "bogus type=4 config=1" \
	 "store type=4 config=0x82d0" "load type=4 config=0x81d0 umask=1" " " \
	 "load type=4 config=1;load type=4 config=2;load type=4 config=3;load type=4 config=4;load type=4 config=5"; do
	if printf '%s' "$v" > $H/pebs_events 2>/dev/null; then
		echo "# accepted bad value '$v'"
		bad=1
	fi
	[ "$(cat $H/pebs_events)" = "$def" ] || { echo "# value changed by '$v'"; bad=1; }
done
check $bad "bad pebs_events writes are refused, value unchanged"

printf 'ldlat type=4 config=0x1cd config1=64 precise=2\nstore type=4 config=0x82d0\n' > $H/pebs_events
got=$(cat $H/pebs_events)
echo "# after write: $got"
[ "$got" = "ldlat type=4 config=0x1cd config1=0x40 precise=2; store type=4 config=0x82d0 config1=0x0 precise=2" ] &&
	echo default > $H/pebs_events && [ "$(cat $H/pebs_events)" = "$def" ]
check $? "a valid pebs_events write is taken; 'default' restores"

htierctl events --apply > /tmp/ea.txt 2>&1
rc=$?
diag /tmp/ea.txt
if [ $rc = 0 ]; then
	grep -q 'applied; module now uses' /tmp/ea.txt
	check $? "events --apply hands the encodings to the module"
else
	grep -q 'nothing to apply: libpfm4' /tmp/ea.txt && [ "$(cat $H/pebs_events)" = "$def" ]
	check $? "events --apply refuses clearly where libpfm4 knows no events"
fi

# --- BPF tools against a workload -----------------------------------------
echo 200 > $H/scan_interval_ms
htier_workload 48 > /tmp/wl.out 2>&1 &
wl=$!
i=0
while ! grep -q ready /tmp/wl.out && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
sleep 2

echo 0 > $H/enabled
p0=$(cat $H/stats/promoted_pages); d0=$(cat $H/stats/demoted_pages)
htier-trace -j -i 1 > /tmp/trace.json 2> /tmp/trace.err &
tr=$!
i=0
while ! grep -q Tracing /tmp/trace.err 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
grep -q Tracing /tmp/trace.err
check $? "htier-trace attaches to the htier tracepoints"
echo 1 > $H/enabled
echo max > $H/quota_bytes
sleep 3
# slowtop's one report spans the quota cut: it sees the demotions.
htier-slowtop -c 1 -i 4 -j > /tmp/slow.json 2> /tmp/slow.err &
st=$!
i=0
while ! grep -q Watching /tmp/slow.err 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
echo 4194304 > $H/quota_bytes
wait $st
src=$?
echo max > $H/quota_bytes
sleep 3
echo 0 > $H/enabled
p1=$(cat $H/stats/promoted_pages); d1=$(cat $H/stats/demoted_pages)
sleep 0.5
kill -INT $tr
wait $tr
trc=$?
diag /tmp/trace.err
grep '"type":"summary"' /tmp/trace.json | diag
tp=$(grep '"type":"summary"' /tmp/trace.json | sed -n 's/.*"promoted_pages":\([0-9]*\).*/\1/p')
td=$(grep '"type":"summary"' /tmp/trace.json | sed -n 's/.*"demoted_pages":\([0-9]*\).*/\1/p')
dp=$((p1 - p0)); dd=$((d1 - d0))
echo "# module deltas: promoted $dp demoted $dd; htier-trace: promoted $tp demoted $td"
[ $trc = 0 ] && [ -n "$tp" ] && [ $dp -gt 0 ] && [ $dd -gt 0 ]
check $? "migrations happened and htier-trace exited cleanly"
[ "$tp" = "$dp" ] && [ "$td" = "$dd" ]
check $? "htier-trace totals equal stats promoted/demoted deltas (tolerance 0)"

# Interval lines add up to the summary, and name the workload.
sp=0
for v in $(grep '"type":"interval"' /tmp/trace.json | sed -n 's/.*"promoted_pages":\([0-9]*\).*/\1/p'); do sp=$((sp + v)); done
[ "$sp" = "$tp" ]
check $? "per-interval promotions sum to the total ($sp)"
grep '"type":"interval"' /tmp/trace.json | grep -q "\"pid\":$wl,\"comm\":\"htier_workload\""
check $? "per-process lines name the workload (pid $wl)"
grep '"type":"summary"' /tmp/trace.json | grep -q '"promote_latency_us":\[{"lo"'
check $? "summary carries the promote batch latency histogram"

diag /tmp/slow.err
diag /tmp/slow.json
line=$(grep -o "{\"pid\":$wl,[^}]*}" /tmp/slow.json)
slow=$(echo "$line" | sed -n 's/.*"slow_pages":\([0-9]*\).*/\1/p')
fast=$(echo "$line" | sed -n 's/.*"fast_pages":\([0-9]*\).*/\1/p')
# 48 MiB = 12288 pages, first placed on the slow node, quota now 4 MiB.
[ $src = 0 ] && [ -n "$slow" ] && [ "$slow" -gt 1024 ] && [ $((slow + fast)) -ge 12288 ]
check $? "htier-slowtop accounts the workload's memory by tier (fast ${fast:-?} slow ${slow:-?} pages)"
echo "$line" | grep -q '"demoted":[1-9]'
check $? "htier-slowtop attributes the demotions to the workload"

htier-trace -d 1 -p $wl > /tmp/t2.out 2>&1
check $? "htier-trace text mode with -p runs"
diag /tmp/t2.out

kill -TERM $wl
wait $wl
diag /tmp/wl.out
rmmod htier

# A pebs_events write restarts a running pebs sampler.  TCG has no PMU, so
# the software page-fault source stands in (it ignores the encodings, but
# the stop/restart path under the lock is the real one).
insmod /htier/htier.ko pebs_source=sw-page-faults sampler=pebs &&
	echo "# sampler: $(cat $H/sampler)" &&
	echo "load type=4 config=0x81d0 precise=1; store type=4 config=0x82d0" > $H/pebs_events &&
	[ "$(cat $H/sampler)" = "auto [pebs] abit" ] &&
	grep -q 'precise=1' $H/pebs_events
check $? "pebs_events write restarts a running pebs sampler"
echo "# sampler: $(cat $H/sampler); reason: $(cat $H/sampler_reason)"
rmmod htier
dmesg | grep -iE 'warn|bug|oops' | diag
echo "HTIER-TAP-END bpf_tests $fail"
exit $fail
