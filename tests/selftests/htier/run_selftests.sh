#!/bin/sh
# Guest side of the htier selftests: load the module, run every test
# binary (each prints TAP), then the unload tests, each between markers the
# host harness parses.  htier.only=SUITE[,SUITE...] on the kernel command
# line runs just those suites (e.g. htier.only=stall_test).
cd /htier/tests || exit 1
insmod /htier/htier.ko || { echo "HTIER-TAP-BEGIN load"; echo "not ok 1 insmod htier.ko"; echo "HTIER-TAP-END load"; exit 1; }
only=$(sed -n 's/.*htier\.only=\([^ ]*\).*/\1/p' /proc/cmdline)
wanted() { [ -z "$only" ] || case ",$only," in *",$1,"*) true ;; *) false ;; esac; }
rc=0
for t in abi_test sampler_test tiering_test stall_test cost_test; do
	[ -x "./$t" ] || continue
	wanted "$t" || continue
	echo "HTIER-TAP-BEGIN $t"
	"./$t"
	r=$?
	echo "HTIER-TAP-END $t $r"
	[ $r -eq 0 ] || [ $r -eq 4 ] || rc=1
done
for t in tools_test scope_test freeze_test rmmod_test pebs_sw_test; do
	wanted "$t" || continue
	echo "HTIER-TAP-BEGIN $t"
	"./$t.sh"
	r=$?
	echo "HTIER-TAP-END $t $r"
	[ $r -eq 0 ] || rc=1
done
exit $rc
