#!/usr/bin/python3
"""htier live demo (`make demo`): two QEMU guests with htier.ko and
htier-agent, and htier-provisiond dividing the host's fast memory between
them by the utility policy.

vm-b runs a small workload from boot (a 64 MiB hot set); vm-a idles, then
starts a large one (a 192 MiB hot set) after DEMO_WORKLOAD_AFTER seconds
(default 10).  Fast memory shifts to vm-a up to what the capacity leaves
after vm-b's demand, and each guest's module promotes its hot pages into
its new quota.  Every DEMO_INTERVAL seconds (default 2) one compact table
shows, per VM: state, fast device plugged/requested, slow device, the quota
the guest applies, fast/slow resident bytes, hot set, accessed bytes, pages
promoted/demoted, and the provisioner's reason; quota changes are printed
as they happen.

Runs DEMO_SECONDS (default 90; 0 = until Ctrl-C), needs no stdin, and on
exit, Ctrl-C or SIGTERM stops the provisioner and both guests and removes
its sockets.  Logs (consoles, provisioner) go to $BUILD/demo/.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import htiervm  # noqa: E402
from provtools import MiB, Provisioner, fetch_status, last_stat, human  # noqa: E402

BUILD = htiervm.BUILD
LOGDIR = os.path.join(BUILD, "demo")

CAPACITY = 256 * MiB
TOTAL = 320 * MiB  # fast + slow device bytes per VM
VMS = [
    # name, min, max, weight, fast device at boot, workload MiB at boot
    dict(name="vm-a", min=32 * MiB, max=256 * MiB, weight=1, fast0=128 * MiB,
         boot_workload=0, later_workload=768, slow_mb=1024),
    dict(name="vm-b", min=32 * MiB, max=256 * MiB, weight=1, fast0=128 * MiB,
         boot_workload=256, later_workload=0, slow_mb=512),
]


def env_float(name, default):
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        print("demo: %s must be a number" % name, file=sys.stderr)
        sys.exit(2)


def config(tmp):
    return {
        "fast_capacity_bytes": CAPACITY,
        "interval_ms": 1000,
        "policy": os.environ.get("DEMO_POLICY", "utility"),
        "hold_ms": 3000,
        "hysteresis_bytes": 8 * MiB,
        "shrink_notice_ms": 2000,
        "vm_gone_grace_ms": 5000,
        "report_stale_ms": 10000,
        "status_socket": os.path.join(tmp, "provisiond.sock"),
        "vms": [{
            "name": v["name"],
            "qmp": os.path.join(tmp, v["name"] + ".qmp"),
            "channel": os.path.join(tmp, v["name"] + ".sock"),
            "fast_device": "vm0", "slow_device": "vs0",
            "min_fast_bytes": v["min"], "max_fast_bytes": v["max"],
            "weight": v["weight"], "total_bytes": TOTAL,
        } for v in VMS],
    }


def table(t, st, guests):
    lines = []
    if st:
        free = st["capacity_bytes"] - st["charged_bytes"]
        lines.append("t=%4.0fs  policy %s  capacity %s  charged %s  free %s" % (
            t, st["policy"], human(st["capacity_bytes"]),
            human(st["charged_bytes"]), human(free)))
    else:
        lines.append("t=%4.0fs  (provisioner not answering)" % t)
    hdr = ("%-5s %-10s %-11s %-5s %-6s %-8s %-8s %-6s %-6s %-7s %-7s %s" %
           ("VM", "STATE", "FAST p/req", "SLOW", "QUOTA", "FAST-RES",
            "SLOW-RES", "HOT", "ACTIVE", "PROMO", "DEMO", "REASON"))
    lines.append(hdr)
    by_name = {v["name"]: v for v in (st or {}).get("vms", [])}
    for v in VMS:
        p = by_name.get(v["name"], {})
        g = last_stat(guests[v["name"]]) or {}
        state = p.get("phase", "-")
        if p.get("awaiting_report"):
            state += "?"
        if p.get("shrink_pending"):
            state += "~"
        fast = "%s/%s" % (human(p.get("plugged_bytes", 0)),
                          human(p.get("requested_bytes", 0))) if p else "-"
        slow = human(p.get("slow_plugged_bytes", 0)) if p else "-"
        reason = p.get("reason", "")
        if len(reason) > 44:
            reason = reason[:43] + "…"
        lines.append("%-5s %-10s %-11s %-5s %-6s %-8s %-8s %-6s %-6s %-7s %-7s %s" % (
            v["name"], state, fast, slow,
            human(g["quota"]) if "quota" in g else "-",
            human(g.get("fast", 0)), human(g.get("slow", 0)),
            human(g.get("hot", 0)), human(g.get("active", 0)),
            g.get("prom", "-"), g.get("dem", "-"), reason))
    return "\n".join(lines)


def main():
    seconds = env_float("DEMO_SECONDS", 90)
    after = env_float("DEMO_WORKLOAD_AFTER", 10)
    interval = max(0.5, env_float("DEMO_INTERVAL", 2))
    for f in (os.path.join(htiervm.GUEST_ROOT, "vmlinuz"),
              os.path.join(BUILD, "bin", "htier-provisiond"),
              os.path.join(BUILD, "bin", "htier-agent"),
              os.path.join(BUILD, "selftests", "htier_workload"),
              htiervm.KMOD):
        if not os.path.exists(f):
            print("demo: %s is missing: run `make demo` (it builds everything "
                  "and fetches the guest kernel)" % f, file=sys.stderr)
            return 1
    os.makedirs(LOGDIR, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="htier-demo-")
    guests, prov = {}, None

    def on_signal(sig, _frame):
        raise KeyboardInterrupt
    # Explicitly: a shell without job control starts background commands
    # with SIGINT ignored, and Python would keep that.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    try:
        return run(tmp, guests, seconds, after, interval)
    except KeyboardInterrupt:
        print("\ndemo: interrupted; shutting down", flush=True)
        return 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        shutdown(guests, tmp)


def shutdown(guests, tmp):
    prov = guests.pop("__prov__", None)
    if prov and prov.alive():
        rc = prov.stop()
        print("demo: provisioner stopped (exit %s)" % rc, flush=True)
    for g in guests.values():
        if g.proc and g.proc.poll() is None:
            g.send("quit")
    deadline = time.time() + 8
    for g in guests.values():
        if g.proc:
            try:
                g.proc.wait(max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                g.kill()
    shutil.rmtree(tmp, ignore_errors=True)
    print("demo: guests stopped, sockets removed; logs in %s" % LOGDIR,
          flush=True)


def run(tmp, guests, seconds, after, interval):
    print("demo: building the guest image ...", flush=True)
    initramfs = htiervm.build_initramfs(htiervm.initramfs_path("demo-initramfs"))
    cfg = config(tmp)
    cfg_path = os.path.join(tmp, "provisiond.json")
    with open(cfg_path, "w") as f:
        json.dump(cfg, f, indent=1)
    shutil.copy(cfg_path, os.path.join(LOGDIR, "provisiond.json"))
    for v in VMS:
        mode = "busy:%d" % v["boot_workload"] if v["boot_workload"] else "idle"
        guests[v["name"]] = htiervm.Guest(
            name=v["name"], fast_mb=256, slow_mb=v["slow_mb"], vcpus=1,
            run="e2e_guest.sh", initramfs=initramfs,
            append="htier.e2e=%s htier.stat_ms=1000 htier.agent_ms=1000 "
                   "htier.cpu_permil=%d" % (mode, htiervm.TCG_CPU_PERMIL),
            fast_vmem_mb=512, fast_vmem_requested_mb=v["fast0"] // MiB,
            slow_vmem_mb=512,
            slow_vmem_requested_mb=(TOTAL - v["fast0"]) // MiB,
            qmp=cfg["vms"][VMS.index(v)]["qmp"],
            channel=cfg["vms"][VMS.index(v)]["channel"], console_input=True,
            log=os.path.join(LOGDIR, v["name"] + ".console"))
    print("demo: capacity %s of host fast memory for 2 guests (policy %s); "
          "each guest: 256M boot fast + virtio-mem vm0 (fast, node 0) and vs0 "
          "(slow, node 1), fast+slow devices kept at %s" % (
              human(CAPACITY), cfg["policy"], human(TOTAL)), flush=True)
    for v in VMS:
        print("demo:   %s min %s max %s weight %g; %s" % (
            v["name"], human(v["min"]), human(v["max"]), v["weight"],
            "workload %d MiB (hot quarter) from boot" % v["boot_workload"]
            if v["boot_workload"] else
            "idle, then workload %d MiB (hot quarter) at +%.0fs" % (
                v["later_workload"], after)), flush=True)
    print("demo: booting the guests (QEMU TCG) ...", flush=True)
    for g in list(guests.values()):
        g.start()
    for name, g in list(guests.items()):
        if not g.wait_for_line("HTIER-E2E-READY", 180):
            print("demo: %s did not come up; see %s" % (name, g.log_path),
                  file=sys.stderr)
            return 1
    prov_log = os.path.join(LOGDIR, "provisiond.log")
    open(prov_log, "w").close()
    prov = Provisioner(os.path.join(BUILD, "bin", "htier-provisiond"),
                       cfg_path, prov_log, verbose=False).start()
    guests["__prov__"] = prov
    vm_guests = {v["name"]: guests[v["name"]] for v in VMS}
    print("demo: guests up; provisioner running (log %s)%s" % (
        prov_log, "" if seconds else "; Ctrl-C to stop"), flush=True)

    deadline = time.time() + 10  # the first table with the daemon's view
    while fetch_status(cfg["status_socket"]) is None and time.time() < deadline:
        time.sleep(0.2)
    t0 = time.time()
    started = False
    log_pos = 0
    next_table = 0
    while seconds <= 0 or time.time() - t0 < seconds:
        t = time.time() - t0
        if not started and t >= after:
            for v in VMS:
                if v["later_workload"]:
                    vm_guests[v["name"]].send("busy %d" % v["later_workload"])
                    print(">> t=%.0fs %s starts a %d MiB workload (hot set %d "
                          "MiB)" % (t, v["name"], v["later_workload"],
                                    v["later_workload"] // 4), flush=True)
            started = True
        # Quota decisions, as the provisioner makes them.
        with open(prov_log) as f:
            f.seek(log_pos)
            for line in f:
                if ": quota " in line or "WARN" in line or "ERROR" in line:
                    print(">> " + line.rstrip().split(" ", 2)[-1], flush=True)
            log_pos = f.tell()
        if not prov.alive():
            print("demo: the provisioner exited (%s); see %s" % (
                prov.proc.returncode, prov_log), file=sys.stderr)
            return 1
        if t >= next_table:
            print(table(t, fetch_status(cfg["status_socket"]), vm_guests),
                  flush=True)
            print(flush=True)
            next_table = t + interval
        time.sleep(0.25)
    out = subprocess.run([os.path.join(BUILD, "bin", "htier-provisiond"),
                          "status", "--config", cfg_path],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True)
    print("demo: final `htier-provisiond status`:\n" + out.stdout, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
