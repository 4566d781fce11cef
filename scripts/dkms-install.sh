#!/bin/bash
# Install guest-kmod/ as DKMS module htier/VERSION and build it for every
# installed kernel with headers (make dkms).  Usage: dkms-install.sh VERSION
# Env: SOURCETREE (default /usr/src), DKMS_OPTS (e.g. "--dkmstree DIR
# --sourcetree DIR" for a private tree), KERNELS (default: every
# /lib/modules/*/build), DKMS_ACTION (install, or build to skip installing).
set -euo pipefail
ver=$1
top=$(cd "$(dirname "$0")/.." && pwd)
: "${SOURCETREE:=/usr/src}"
: "${DKMS_OPTS:=}"
: "${DKMS_ACTION:=install}"
if [ -z "${KERNELS:-}" ]; then
	KERNELS=$(for b in /lib/modules/*/build; do [ -d "$b" ] && basename "$(dirname "$b")"; done)
fi
[ -n "$KERNELS" ] || { echo "dkms-install: no kernel headers in /lib/modules/*/build" >&2; exit 1; }

src=$SOURCETREE/htier-$ver
# shellcheck disable=SC2086
dkms remove -m htier -v "$ver" --all $DKMS_OPTS >/dev/null 2>&1 || true
rm -rf "$src"
mkdir -p "$src"
# The tracked sources only, not what a developer built in guest-kmod/.
(cd "$top/guest-kmod" && git ls-files -z --cached --others --exclude-standard . | xargs -0 cp --parents -t "$src")
sed -i "s/#MODULE_VERSION#/$ver/" "$src/dkms.conf"
# shellcheck disable=SC2086
dkms add -m htier -v "$ver" $DKMS_OPTS
for k in $KERNELS; do
	# shellcheck disable=SC2086
	dkms "$DKMS_ACTION" -m htier -v "$ver" -k "$k" $DKMS_OPTS
done
