#!/bin/sh
# htierctl against the real module in the guest: status as a table and as
# JSON agrees with sysfs, set writes good values and reports bad ones.
# TAP output.
n=0 fail=0
ok() { n=$((n + 1)); echo "ok $n $1"; }
nok() { n=$((n + 1)); echo "not ok $n $1"; fail=1; }
check() { if [ "$1" = 0 ]; then ok "$2"; else nok "$2"; fi; }
H=/sys/kernel/mm/htier
echo "TAP version 13"
echo "1..6"

htierctl status > /tmp/st.txt 2>&1
r=$?
sed 's/^/# /' /tmp/st.txt | head -40
grep -q "abit" /tmp/st.txt && grep -qi "quota" /tmp/st.txt
check $((r | $?)) "htierctl status prints the module's state"

htierctl status --json > /tmp/st.json 2>&1
r=$?
p=$(cat $H/stats/promoted_pages)
grep -q '"sampler"' /tmp/st.json && grep -q '"promoted_pages"' /tmp/st.json
check $((r | $?)) "htierctl status --json has the contract fields"

htierctl set quota_bytes 67108864 && [ "$(cat $H/quota_bytes)" = 67108864 ]
check $? "htierctl set quota_bytes writes the module"

htierctl set quota_bytes -5 > /tmp/set.err 2>&1
r=$?
sed 's/^/# /' /tmp/set.err
[ $r -ne 0 ] && [ "$(cat $H/quota_bytes)" = 67108864 ] && grep -qi "invalid" /tmp/set.err
check $? "htierctl set of a bad value fails with the kernel's reason, value kept"

htierctl set stats/promoted_pages 0 > /dev/null 2>&1
[ $? -ne 0 ]
check $? "htierctl set refuses a read-only file"
htierctl set quota_bytes max

rmmod htier
htierctl status > /tmp/st.txt 2>&1
r=$?
grep -q "not loaded" /tmp/st.txt && [ $r -eq 1 ]
check $? "htierctl status without the module says so"
insmod /htier/htier.ko
exit $fail
