#!/bin/bash
# Unpack Debian's linux-image-$KVER .deb into a cache directory (no install
# into /boot): vmlinuz and lib/modules for the QEMU test guests.
set -euo pipefail
kver=$1 dest=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
(cd "$tmp" && apt-get download "linux-image-$kver" >/dev/null 2>&1) || {
	apt-get update -qq && (cd "$tmp" && apt-get download "linux-image-$kver")
}
deb=$(ls "$tmp"/linux-image-"$kver"_*.deb)
mkdir -p "$tmp/root"
dpkg-deb -x "$deb" "$tmp/root"
rm -rf "$dest"
mkdir -p "$dest"
cp "$tmp/root/boot/vmlinuz-$kver" "$dest/vmlinuz"
cp "$tmp/root/boot/config-$kver" "$dest/config"
cp -a "$tmp/root/lib/modules/$kver" "$dest/modules"
echo "guest kernel $kver unpacked into $dest"
