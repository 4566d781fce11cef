# Sourced by the guest-side test scripts (tests/vm/guest/*.sh, installed in
# the guest as /htier/*.sh): TAP results, and polling.
H=/sys/kernel/mm/htier
S=$H/stats
N=/sys/devices/system/node
PATH=/htier/bin:/htier/tests:$PATH
n=0 fail=0
ok() { n=$((n + 1)); echo "ok $n $1"; }
nok() { n=$((n + 1)); echo "not ok $n $1"; fail=1; }
check() { if [ "$1" = 0 ]; then ok "$2"; else nok "$2"; fi; }
stat() { cat $S/$1; }
# wait_until SECONDS CMD...: poll CMD every 0.5 s until it succeeds.
wait_until() {
	t=$(($1 * 2)); shift
	while [ $t -gt 0 ]; do
		"$@" && return 0
		sleep 0.5; t=$((t - 1))
	done
	return 1
}
slow_has_memory() { [ "$(cat $N/has_memory)" = "0-1" ]; }
# stop_workload MIB: end the htier_workload started as $wl (its memory
# checked as it exits), then unload htier.ko; each a TAP result.
stop_workload() {
	kill -TERM $wl; wait $wl
	rc=$?
	wl=
	sed 's/^/# /' /tmp/w.out
	check $rc "the workload's $1 MiB are intact"
	rmmod htier
	check $? "rmmod htier"
}
# finish: end the TAP block of $suite (set before sourcing) and exit.
finish() {
	[ -n "$wl" ] && kill -TERM $wl 2>/dev/null && wait $wl
	echo "HTIER-TAP-END $suite $fail"
	exit $fail
}
