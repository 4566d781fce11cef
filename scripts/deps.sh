#!/bin/bash
# Install the Debian packages htier builds and tests with (idempotent).
set -euo pipefail
missing=()
for p in "$@"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
# libvirtd refuses to start without its QEMU user (Debian's package makes
# it in a maintainer script that a --no-install-recommends install in a
# container may not have run); tests/vm/e2e_libvirt.py has QEMU run as root.
libvirt_user() {
	getent passwd libvirt-qemu >/dev/null ||
		$SUDO useradd --system --no-create-home --user-group libvirt-qemu
}
if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all ${#@} packages installed"
	libvirt_user
	exit 0
fi
echo "deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
libvirt_user
