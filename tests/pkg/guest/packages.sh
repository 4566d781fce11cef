#!/bin/sh
# Guest side of tests/pkg/packages.py: what the htier-dkms and htier-guest
# packages installed (unpacked over this initramfs) does in a guest.  Only
# the packaged files are used, by their installed paths, never the build
# tree's copies in /htier.  The host end of org.htier.0 sends one quota
# after the agent's first report.  TAP between HTIER-TAP markers.
H=/sys/kernel/mm/htier
KO=/lib/modules/$(uname -r)/updates/dkms/htier.ko
UNIT=/lib/systemd/system/htier-agent.service
RULES=/lib/udev/rules.d/60-htier-guest.rules
QUOTA=268435456
n=0 fail=0
ok() { n=$((n + 1)); echo "ok $n $1"; }
nok() { n=$((n + 1)); echo "not ok $n $1"; fail=1; }
check() { if [ "$1" = 0 ]; then ok "$2"; else nok "$2"; fi; }
diag() { sed 's/^/# /' "$@"; }

echo "HTIER-TAP-BEGIN packages_guest"

insmod "$KO" 2> /tmp/insmod.err
rc=$?
diag /tmp/insmod.err
[ $rc = 0 ] && [ -w $H/quota_bytes ]
check $? "the DKMS-built $KO loads on $(uname -r) and makes $H"

/usr/bin/htierctl status > /tmp/status.txt 2>&1
rc=$?
[ $rc = 0 ] && grep -q 'abit (choices' /tmp/status.txt
rc=$?
[ $rc = 0 ] || diag /tmp/status.txt
check $rc "packaged htierctl status reads the module (sampler abit under TCG)"

/usr/sbin/htier-trace -d 1 > /tmp/trace.txt 2>&1
rc=$?
[ $rc = 0 ] || diag /tmp/trace.txt
check $rc "packaged htier-trace attaches to the module's tracepoints"

# The udev rule must match what the kernel says about the real port.
found=0
for p in /sys/class/virtio-ports/*; do
	name=$(cat "$p/name" 2>/dev/null)
	subsystem=$(basename "$(readlink "$p/subsystem")")
	echo "# port $p: name '$name', subsystem $subsystem"
	grep -q "SUBSYSTEM==\"$subsystem\", ATTR{name}==\"$name\", TAG+=\"systemd\", ENV{SYSTEMD_WANTS}+=\"htier-agent.service\"" "$RULES" &&
		found=1
done
check $((1 - found)) "the udev rule matches the org.htier.0 port (subsystem and name) and wants htier-agent.service"

# kernel.numa_balancing: left alone by default, off when configured.
echo 1 > /proc/sys/kernel/numa_balancing
. /etc/default/htier-agent
/usr/sbin/htier-agent $HTIER_AGENT_OPTS --once --no-pmu-events --port /tmp/no-such-port > /tmp/once.txt 2>&1
[ "$(cat /proc/sys/kernel/numa_balancing)" = 1 ]
check $? "with the shipped /etc/default/htier-agent the agent leaves kernel.numa_balancing=1 alone"

sed -i 's/^#HTIER_AGENT_OPTS=/HTIER_AGENT_OPTS=/' /etc/default/htier-agent
. /etc/default/htier-agent
# The unit's own command line, as systemd runs it (EnvironmentFile= plus
# ExecStart=, $VAR split on whitespace).
cmd=$(sed -n 's/^ExecStart=//p' "$UNIT")
echo "# ExecStart: $cmd; HTIER_AGENT_OPTS=$HTIER_AGENT_OPTS"
eval "$cmd -v" > /tmp/agent.log 2>&1 &
agent=$!
i=0
while [ $i -lt 50 ] && [ "$(cat /proc/sys/kernel/numa_balancing)" != 0 ]; do
	sleep 0.2; i=$((i + 1))
done
[ "$(cat /proc/sys/kernel/numa_balancing)" = 0 ]
check $? "with HTIER_AGENT_OPTS=\"--disable-numa-balancing\" the agent sets kernel.numa_balancing=0"

i=0
while [ $i -lt 120 ] && [ "$(cat $H/quota_bytes)" != $QUOTA ]; do
	sleep 0.5; i=$((i + 1))
done
[ "$(cat $H/quota_bytes)" = $QUOTA ]
check $? "the agent started as the unit starts it reports to the host and applies its quota ($(cat $H/quota_bytes))"
kill "$agent" 2>/dev/null
wait "$agent"
[ $fail = 0 ] || diag /tmp/agent.log

echo "HTIER-TAP-END packages_guest $fail"
exit $fail
