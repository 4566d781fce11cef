#!/bin/sh
# Generate vmlinux.h (kernel types for CO-RE) with bpftool from the BTF of
# the pinned guest kernel the tools run on: its vmlinuz (from make
# guest-kernel) is unpacked by extract-vmlinux.py.  Without it, fall back to
# the build host's /sys/kernel/btf/vmlinux: CO-RE relocates field offsets at
# load time, so types from another kernel work as long as the fields used
# exist there.  Usage: gen-vmlinux-h.sh OUT [VMLINUZ]
set -eu
out=$1
vmlinuz=${2:-}
bpftool=${BPFTOOL:-bpftool}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ -n "$vmlinuz" ] && [ -r "$vmlinuz" ] &&
   "$(dirname "$0")/extract-vmlinux.py" "$vmlinuz" "$tmp/vmlinux" &&
   "$bpftool" btf dump file "$tmp/vmlinux" format c > "$tmp/vmlinux.h"; then
	echo "vmlinux.h: BTF of $vmlinuz" >&2
elif [ -r /sys/kernel/btf/vmlinux ]; then
	"$bpftool" btf dump file /sys/kernel/btf/vmlinux format c > "$tmp/vmlinux.h"
	echo "vmlinux.h: BTF of the build host's kernel (no guest vmlinuz)" >&2
else
	echo "gen-vmlinux-h: no BTF source (run make guest-kernel)" >&2
	exit 1
fi
mv "$tmp/vmlinux.h" "$out"
