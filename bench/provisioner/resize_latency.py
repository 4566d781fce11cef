#!/usr/bin/python3
"""Time from a demand change in a real guest to the new fast size plugged
(and, the other way, unplugged), with htier-provisiond's default timing.

One QEMU (TCG) guest with htier.ko, htier-agent (default 2 s report
interval, early reports on change) and virtio-mem devices on node 0 (vm0)
and node 1 (vs0); the provisioner with its default intervals (policy every
1 s, hold 5 s, shrink notice 2 s).  Each cycle:

  grow:   the guest starts `htier_workload MIB` (it fills MIB, then keeps
          a quarter hot); t0 = the guest's "workload started" console line.
  shrink: the workload is killed; t0 = the "workload stopped" line.
Measured from t0: when the provisioner's quota first changes (status
socket, polled every 50 ms) and when vm0's `size` reaches that request
(a second QMP socket, polled every 50 ms); and the same for the final
quota, once it has been still for 8 s.  (While the workload fills its
memory all of it looks hot, so the first grow overshoots, and the final
quota follows the real hot set after the fill.)

Prints a markdown table (per cycle, then medians).  Usage:
  resize_latency.py [--cycles N] [--mib MIB]
Needs the build ($BUILD, default ./build) and the guest kernel (make).
"""
import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "vm"))
import htiervm  # noqa: E402
from provtools import MiB, Qmp, Provisioner, fetch_status  # noqa: E402

BUILD = htiervm.BUILD


class Watch(threading.Thread):
    """Timestamps console lines, quota and device sizes as they change."""

    def __init__(self, guest, qmp_path, status_path):
        super().__init__(daemon=True)
        self.guest, self.status_path = guest, status_path
        self.qmp = Qmp(qmp_path)
        self.lines = []       # (t, line)
        self.quota = []       # (t, quota_bytes, requested_bytes)
        self.size = []        # (t, size, requested)
        self.stop = threading.Event()

    def run(self):
        seen = 0
        last_q = last_s = None
        while not self.stop.is_set():
            now = time.time()
            out = self.guest.output
            while seen < len(out):
                self.lines.append((now, out[seen]))
                seen += 1
            st = fetch_status(self.status_path, 0.5)
            if st:
                v = st["vms"][0]
                q = (v["quota_bytes"], v["requested_bytes"])
                if q != last_q:
                    self.quota.append((now, ) + q)
                    last_q = q
            try:
                s = self.qmp.device("vm0")
                if s != last_s:
                    self.size.append((now, ) + s)
                    last_s = s
            except (OSError, ValueError):
                pass
            time.sleep(0.05)

    def first(self, series, after, pred):
        for e in list(series):
            if e[0] >= after and pred(e):
                return e
        return None

    def wait(self, series, after, pred, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            e = self.first(series, after, pred)
            if e:
                return e
            time.sleep(0.05)
        return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cycles", type=int, default=3)
    ap.add_argument("--mib", type=int, default=512)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="htier-lat-")
    g = prov = w = None
    try:
        initramfs = htiervm.build_initramfs(os.path.join(BUILD, "vm",
                                                         "lat-initramfs.cpio.gz"))
        cfg = {
            "fast_capacity_bytes": 512 * MiB, "policy": "utility",
            "status_socket": os.path.join(tmp, "prov.sock"),
            "vms": [{"name": "vm-a", "qmp": os.path.join(tmp, "a.qmp"),
                     "channel": os.path.join(tmp, "a.sock"),
                     "fast_device": "vm0", "slow_device": "vs0",
                     "min_fast_bytes": 32 * MiB, "max_fast_bytes": 512 * MiB,
                     "total_bytes": 512 * MiB}],
        }
        with open(os.path.join(tmp, "cfg.json"), "w") as f:
            json.dump(cfg, f)
        g = htiervm.Guest(
            name="vm-a", fast_mb=256, slow_mb=a.mib + 256, vcpus=1,
            run="e2e_guest.sh", initramfs=initramfs,
            append="htier.e2e=idle htier.agent_ms=2000",
            fast_vmem_mb=512, fast_vmem_requested_mb=32, slow_vmem_mb=512,
            slow_vmem_requested_mb=480, qmp=os.path.join(tmp, "a.qmp"),
            extra_qmp=[os.path.join(tmp, "a-test.qmp")],
            channel=os.path.join(tmp, "a.sock"), console_input=True,
            log=os.path.join(BUILD, "vm", "resize_latency.console"))
        g.start()
        if not g.wait_for_line("HTIER-E2E-READY", 180):
            print("resize_latency: guest did not boot", file=sys.stderr)
            return 1
        prov = Provisioner(os.path.join(BUILD, "bin", "htier-provisiond"),
                           os.path.join(tmp, "cfg.json"),
                           os.path.join(BUILD, "vm", "resize_latency.prov.log"),
                           ).start()
        time.sleep(1)
        w = Watch(g, os.path.join(tmp, "a-test.qmp"), cfg["status_socket"])
        w.start()
        time.sleep(8)  # settle at the min (idle), past the hold time
        fmt = lambda x: "%.2f s" % x if x is not None else "-"  # noqa: E731
        rows = []
        for c in range(a.cycles):
            for kind in ("grow", "shrink"):
                g.send("busy %d" % a.mib if kind == "grow" else "idle")
                pat = "MiB started" if kind == "grow" else "workload stopped"
                ev = w.wait(w.lines, time.time() - 1, lambda e: pat in e[1], 60)
                if not ev:
                    print("resize_latency: no '%s' line" % pat, file=sys.stderr)
                    return 1
                t0 = ev[0]
                q0 = w.quota[-1][1] if w.quota else 0
                # Observe until the quota has been still for 8 s (max 90 s).
                deadline = t0 + 90
                while time.time() < deadline:
                    changes = [e for e in w.quota if e[0] >= t0]
                    last = changes[-1][0] if changes else t0
                    if changes and time.time() - last > 8:
                        break
                    time.sleep(0.2)
                changes = [e for e in w.quota if e[0] >= t0 and e[1] != q0]
                if not changes:
                    print("resize_latency: quota did not change (%s)" % kind,
                          file=sys.stderr)
                    return 1
                first = changes[0]
                # The final quota, from its first appearance in this run of
                # equal quotas (later entries only track requested-size).
                k = len(changes) - 1
                while k > 0 and changes[k - 1][1] == changes[-1][1]:
                    k -= 1
                final = changes[k]

                def plugged(after, target):
                    e = w.first(w.size, after,
                                lambda e: e[1] == target and e[2] == target)
                    return (e[0] - t0) if e else None
                rows.append((c + 1, kind, q0, first[1], final[1],
                             first[0] - t0, plugged(first[0], first[1]),
                             final[0] - t0, plugged(final[0], final[1])))
                r = rows[-1]
                print("# cycle %d %s: first quota %d -> %d MiB at +%.2fs, "
                      "size reached +%s; final %d MiB at +%.2fs, size "
                      "reached +%s" % (r[0], kind, q0 // MiB, r[3] // MiB,
                                       r[5], fmt(r[6]), r[4] // MiB, r[7],
                                       fmt(r[8])),
                      file=sys.stderr, flush=True)
        print("| cycle | change | first new quota | decided | size reached "
              "| final quota | decided | size reached |")
        print("|---|---|---|---:|---:|---|---:|---:|")
        for r in rows:
            print("| %d | %s | %d → %d MiB | %s | %s | %d MiB | %s | %s |" % (
                r[0], r[1], r[2] // MiB, r[3] // MiB, fmt(r[5]), fmt(r[6]),
                r[4] // MiB, fmt(r[7]), fmt(r[8])))
        for kind in ("grow", "shrink"):
            rs = [r for r in rows if r[1] == kind]

            def med(i):
                xs = [r[i] for r in rs if r[i] is not None]
                return statistics.median(xs) if xs else None
            print("| median | %s | | %s | %s | | %s | %s |" % (
                kind, fmt(med(5)), fmt(med(6)), fmt(med(7)), fmt(med(8))))
        return 0
    finally:
        if w:
            w.stop.set()
        if prov:
            prov.stop()
        if g:
            g.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
