#!/bin/bash
# `make demo`: htier live on this machine.  Two QEMU (TCG) guests with the
# htier module and agent, htier-provisiond dividing 256 MiB of host fast
# memory between them, a workload that starts in one guest after ~10 s, and
# a live table of quotas and tier stats.  See tests/vm/demo.py.
#
#   DEMO_SECONDS=N          run N seconds (default 90; 0 = until Ctrl-C)
#   DEMO_WORKLOAD_AFTER=N   start vm-a's workload after N seconds (default 10)
#   DEMO_INTERVAL=N         table period in seconds (default 2)
#   DEMO_POLICY=NAME        utility (default), weighted-fair, static, greedy
#   BUILD=DIR               where the binaries were built (default ./build)
#
# The Makefile's `demo` target builds everything and fetches the guest
# kernel first; run this script directly only after `make`.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
: "${BUILD:=$top/build}"
export BUILD

# First use on a bare machine: install what QEMU guests need.
if ! command -v qemu-system-x86_64 >/dev/null; then
	echo "demo: qemu-system-x86_64 missing; running make deps" >&2
	make -C "$top" deps
fi
exec /usr/bin/python3 "$top/tests/vm/demo.py" </dev/null
