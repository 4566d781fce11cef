#!/bin/bash
# Build the test guests' initramfs: busybox-static, Debian's virtio modules
# for the guest kernel ($KVER, default the first in guest-kmod/KERNELS; those
# built into it are skipped, compressed ones unpacked), htier.ko built for it
# (build/kmod/$KVER/), the selftests, the userspace tools and the guest-side
# scripts.  Usage: mkinitramfs.sh OUT.cpio.gz
set -euo pipefail
out=$1
top=$(cd "$(dirname "$0")/../.." && pwd)
: "${KVER:=$(head -n1 "$top/guest-kmod/KERNELS")}"
: "${BUILD:=$top/build}"
: "${GUEST_ROOT:=$top/.cache/guest-kernel/$KVER}"

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,run,etc,root,lib/modules/virtio,htier/tests,htier/bin}

cp /bin/busybox "$root/bin/busybox"
for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev \
	 virtio_pci virtio_console virtio_mem; do
	f=$(find "$GUEST_ROOT/modules" -name "$m.ko*" | head -n1)
	if [ -z "$f" ]; then
		grep -q "/$m.ko\$" "$GUEST_ROOT/modules/modules.builtin" && continue
		echo "mkinitramfs: module $m missing in $GUEST_ROOT" >&2
		exit 1
	fi
	case $f in
	*.ko.xz) xz -dc "$f" > "$root/lib/modules/virtio/$m.ko" ;;
	*.ko.zst) zstd -qdc "$f" > "$root/lib/modules/virtio/$m.ko" ;;
	*.ko.gz) gzip -dc "$f" > "$root/lib/modules/virtio/$m.ko" ;;
	*) cp "$f" "$root/lib/modules/virtio/" ;;
	esac
done

ko=$BUILD/kmod/$KVER/htier.ko
[ -f "$ko" ] || { echo "mkinitramfs: $ko not built (make kmod)" >&2; exit 1; }
cp "$ko" "$root/htier/htier.ko"
cp "$top"/tests/vm/guest/* "$root/htier/"
mv "$root/htier/init" "$root/init"
chmod +x "$root/init" "$root"/htier/*.sh

# Test programs and tools: whatever has been built (all static binaries).
for f in "$BUILD"/selftests/*; do
	[ -x "$f" ] && cp "$f" "$root/htier/tests/"
done
for f in "$BUILD/bin/htierctl" "$BUILD/bin/htier-agent" "$BUILD/bin/htier-trace" \
	 "$BUILD/bin/htier-slowtop" "$top/bench/gups/gups"; do
	[ -x "$f" ] && cp "$f" "$root/htier/bin/"
done
mkdir -p "$root/htier/bench"
cp "$top"/bench/vm/guest/*.sh "$root/htier/bench/" 2>/dev/null || true
[ -d "$top/tests/selftests/htier" ] &&
	cp "$top"/tests/selftests/htier/*.sh "$root/htier/tests/" 2>/dev/null || true

(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet) | gzip -1 > "$out"
