#!/usr/bin/python3
"""The slow node goes offline under htier.ko, and comes back.

One QEMU (TCG) guest whose node 1 has no boot memory, only a virtio-mem
device (vs0): htier.ko takes node 1 as its slow node, promotes a workload's
hot pages and demotes under a small quota; then this test unplugs all of
vs0 over QMP (node 1 has no memory left, the kernel takes it offline) and
plugs it back.  The guest side (tests/vm/guest/nodeoffline.sh) checks that
htier neither allocates on the offline node (the kernel warns with a stack
dump for every such __GFP_THISNODE allocation) nor stops, says so once,
resumes demoting when the memory is back, and that the workload's memory is
intact.  Prints the guest's TAP; exit status 0 only when all passed.
About a minute and a half under TCG.
"""
import os
import re
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import htiervm  # noqa: E402
from provtools import MiB, Qmp  # noqa: E402

TAP = re.compile(r"^(ok|not ok) \d+ ")
SLOW_MB = 192


def resize(qmp_path, mb):
    q = Qmp(qmp_path, timeout=10)
    try:
        q.execute("qom-set", path="/machine/peripheral/vs0",
                  property="requested-size", value=mb * MiB)
    finally:
        q.sock.close()


def main():
    tmp = tempfile.mkdtemp(prefix="htier-nodeoff-")
    qmp = os.path.join(tmp, "qmp.sock")
    htiervm.build_initramfs()
    log = os.path.join(htiervm.BUILD, "vm", "e2e_nodeoffline-%s.log"
                       % htiervm.KVER)
    os.makedirs(os.path.dirname(log), exist_ok=True)
    errors = []

    def drive(g):
        # The host's half: unplug vs0 when the guest asks, plug it back.
        try:
            for mark, mb in (("HTIER-UNPLUG-SLOW", 0),
                             ("HTIER-REPLUG-SLOW", SLOW_MB)):
                if g.wait_for_line(mark, 400) is None:
                    return
                resize(qmp, mb)
        except (OSError, ValueError) as e:
            errors.append("QMP: %s" % e)

    def make():
        g = htiervm.Guest(name="htier-nodeoff", fast_mb=512, slow_mb=0,
                          slow_vmem_mb=256, slow_vmem_requested_mb=SLOW_MB,
                          qmp=qmp, run="nodeoffline.sh", log=log)
        g.start()
        threading.Thread(target=drive, args=(g,), daemon=True).start()
        return g

    g = make()
    status = g.wait(420)
    in_tap = False
    results = failed = 0
    for line in g.output:
        line = line.strip()
        if "HTIER-TAP-BEGIN" in line:
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
    for e in errors:
        results += 1
        failed += 1
        print("not ok %d %s" % (results, e))
    if status is None:
        print("not ok %d guest did not finish (log %s)" % (results + 1, log))
        return 1
    if results == 0:
        print("not ok 1 no TAP results from the guest (log %s)" % log)
        return 1
    return 1 if failed or status != 0 else 0


if __name__ == "__main__":
    sys.exit(main())
