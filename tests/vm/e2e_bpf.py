#!/usr/bin/python3
"""PMU diagnostics and BPF tracing tools inside a QEMU TCG guest.

Boots one guest running tests/vm/guest/bpf_tests.sh: htierctl pmu-check
("no PMU" under TCG) and events, the module's pebs_events validation, and
htier-trace / htier-slowtop against a workload with forced migrations
(htier-trace's totals must equal the module's promoted/demoted deltas).
Echoes the guest's TAP lines; exit status 0 only when all passed.  About a
minute under TCG.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import htiervm  # noqa: E402


def main():
    missing = [b for b in ("htierctl", "htier-trace", "htier-slowtop")
               if not os.access(os.path.join(htiervm.BUILD, "bin", b), os.X_OK)]
    if missing:
        print("not ok 1 build outputs missing: %s (make all)" % " ".join(missing))
        return 1
    htiervm.build_initramfs()
    log = os.path.join(htiervm.BUILD, "vm", "e2e_bpf.log")
    g, status = htiervm.run_guest(
        lambda: htiervm.Guest(name="htier-bpf", run="bpf_tests.sh", log=log),
        300)
    tap = htiervm.Tap()
    return tap.guest_done(status, log, tap.guest(g.output))


if __name__ == "__main__":
    sys.exit(main())
