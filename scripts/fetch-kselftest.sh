#!/bin/bash
# Extract the kselftest harness headers from Debian's linux-source-6.1.
set -euo pipefail
dest=$1
src=$(ls /usr/src/linux-source-6.1.tar.* 2>/dev/null | head -n1)
[ -n "$src" ] || { echo "fetch-kselftest: linux-source-6.1 not installed (make deps)" >&2; exit 1; }
mkdir -p "$dest"
tar -xf "$src" -C "$dest" --strip-components=4 \
	linux-source-6.1/tools/testing/selftests/kselftest_harness.h \
	linux-source-6.1/tools/testing/selftests/kselftest.h
echo "kselftest headers in $dest"
