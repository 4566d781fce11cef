#!/bin/bash
# Smoke test of htier-agent on a real virtio-serial port: boots the pinned
# guest kernel under QEMU TCG with a busybox initramfs holding the static
# agent and a fake module tree, and a fake host (fake_host.py) on the
# chardev socket that starts late, sends quotas and junk, and restarts.
# Usage: agent_smoke.sh [BUILD_BIN_DIR]   (needs .cache/guest-kernel from `make guest-kernel`)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
bin=${1:-$top/build/bin}
: "${KVER:=6.1.0-56-amd64}"
G=$top/.cache/guest-kernel/$KVER
[ -f "$G/vmlinuz" ] || { echo "SKIP: no guest kernel in $G"; exit 4; }
work=$(mktemp -d)
trap 'kill $hostpid 2>/dev/null || true; rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root"/{bin,dev,proc,sys,tmp,lib/modules}
cp /bin/busybox "$bin/htier-agent" "$root/bin/"
mods="virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_console"
for m in $mods; do cp "$(find "$G/modules" -name "$m.ko" | head -n1)" "$root/lib/modules/"; done
mknod "$root/dev/console" c 5 1
mknod "$root/dev/null" c 1 3
cat > "$root/init" <<INIT
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t tmpfs tmp /tmp
for m in $mods; do insmod /lib/modules/\$m.ko; done
mkdir -p /tmp/fk/htier/stats; cd /tmp/fk/htier
echo 1 > enabled; echo 'auto pebs [abit]' > sampler; echo max > quota_bytes
echo 200000000 > stats/fast_resident_bytes; echo 900000000 > stats/slow_resident_bytes
echo 150000000 > stats/hot_set_bytes; echo 8 > stats/samples_fast; echo 2 > stats/samples_slow
echo "1000 100 10 1" > stats/hotness_histogram
cd /
htier-agent --sysfs-root /tmp/fk/htier --interval-ms 500 &
sleep 3; echo 100000000 > /tmp/fk/htier/stats/fast_resident_bytes
sleep 12
echo "GUEST quota_bytes=\$(cat /tmp/fk/htier/quota_bytes)"
kill %1; sleep 0.5; poweroff -f
INIT
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1 > "$work/initrd.gz")
python3 "$here/fake_host.py" "$work/htier.sock" > "$work/host.out" 2>&1 &
hostpid=$!
timeout 120 qemu-system-x86_64 -M q35 -accel tcg -m 512 -smp 1 -nographic -no-reboot \
	-kernel "$G/vmlinuz" -initrd "$work/initrd.gz" -append "console=ttyS0 quiet panic=-1" \
	-device virtio-serial-pci \
	-chardev "socket,id=ch0,path=$work/htier.sock,server=on,wait=off" \
	-device virtserialport,chardev=ch0,name=org.htier.0 > "$work/guest.out" 2>&1 || true
grep -a 'htier-agent\|GUEST' "$work/guest.out" || true
cat "$work/host.out"
grep -q 'HOST OK' "$work/host.out" && grep -aq 'GUEST quota_bytes=99999999' "$work/guest.out" &&
	{ echo "PASS: agent_smoke"; exit 0; }
echo "FAIL: agent_smoke"; exit 1
