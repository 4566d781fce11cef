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
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import htiervm  # noqa: E402

TAP = re.compile(r"^(ok|not ok) \d+ ")


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
    in_tap = False
    results = 0
    failed = 0
    for line in g.output:
        line = line.strip()
        if "HTIER-TAP-BEGIN" in line:  # may follow console escapes
            in_tap = True
            continue
        if "HTIER-TAP-END" in line:
            in_tap = False
            continue
        if in_tap and (TAP.match(line) or line.startswith("#")):
            print(line)
            if TAP.match(line):
                results += 1
                failed += line.startswith("not ok")
    if status is None:
        print("not ok %d guest did not finish (log %s)" % (results + 1, log))
        return 1
    if results == 0:
        print("not ok 1 no TAP results from the guest (log %s)" % log)
        return 1
    return 1 if failed or status != 0 else 0


if __name__ == "__main__":
    sys.exit(main())
