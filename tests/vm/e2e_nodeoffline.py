#!/usr/bin/python3
"""The slow node goes offline under htier.ko, and comes back; and htier.ko
loaded before there is any slow memory.

One QEMU (TCG) guest whose node 1 has no boot memory, only a virtio-mem
device (vs0): htier.ko takes node 1 as its slow node, promotes a workload's
hot pages and demotes under a small quota; then this test unplugs all of
vs0 over QMP (node 1 has no memory left, the kernel takes it offline) and
plugs it back.  The guest side (tests/vm/guest/nodeoffline.sh) checks that
htier neither allocates on the offline node (the kernel warns with a stack
dump for every such __GFP_THISNODE allocation) nor stops, says so once,
resumes demoting when the memory is back, and that the workload's memory is
intact.

A second guest boots with vs0 plugging nothing: htier.ko loads with no slow
node and must say so without claiming a node lost its memory, refuse
slow_nodes naming node 1 until the host plugs vs0, then tier to it
(tests/vm/guest/noslow.sh).  Prints both guests' TAP; exit status 0 only
when all passed.  About a minute and a half under TCG.
"""
import os
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import htiervm  # noqa: E402
from provtools import MiB, Qmp  # noqa: E402

SLOW_MB = 192


def resize(qmp_path, mb):
    q = Qmp(qmp_path, timeout=10)
    try:
        q.execute("qom-set", path="/machine/peripheral/vs0",
                  property="requested-size", value=mb * MiB)
    finally:
        q.sock.close()


def run(tap, name, script, marks, requested_mb, timeout):
    """Boot a guest with node 1 made only of vs0 (@requested_mb plugged at
    boot) running @script; when it prints one of @marks' lines, set vs0 to
    that mark's size over QMP.  Relay its TAP into @tap."""
    tmp = tempfile.mkdtemp(prefix="htier-%s-" % name)
    qmp = os.path.join(tmp, "qmp.sock")
    log = os.path.join(htiervm.BUILD, "vm", "e2e_nodeoffline-%s-%s.log"
                       % (name, htiervm.KVER))
    os.makedirs(os.path.dirname(log), exist_ok=True)
    errors = []

    def drive(g):
        try:
            for mark, mb in marks:
                if g.wait_for_line(mark, timeout) is None:
                    return
                resize(qmp, mb)
        except (OSError, ValueError) as e:
            errors.append("QMP: %s" % e)

    g, status = htiervm.run_guest(
        lambda: htiervm.Guest(name="htier-" + name, fast_mb=512, slow_mb=0,
                              slow_vmem_mb=256,
                              slow_vmem_requested_mb=requested_mb,
                              qmp=qmp, run=script, log=log),
        timeout,
        started=lambda g: threading.Thread(target=drive, args=(g,),
                                           daemon=True).start())
    results = tap.guest(g.output, name + ": ")
    for e in errors:
        tap.result(False, "%s: %s" % (name, e))
    tap.guest_done(status, log, results)


def main():
    htiervm.build_initramfs()
    tap = htiervm.Tap()
    run(tap, "nodeoff", "nodeoffline.sh",
        (("HTIER-UNPLUG-SLOW", 0), ("HTIER-REPLUG-SLOW", SLOW_MB)),
        SLOW_MB, 420)
    run(tap, "noslow", "noslow.sh", (("HTIER-PLUG-SLOW", SLOW_MB),), 0, 300)
    return 1 if tap.failed else 0


if __name__ == "__main__":
    sys.exit(main())
