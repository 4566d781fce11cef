#!/usr/bin/python3
"""End-to-end test of htier-provisiond's libvirt backend with a real
libvirtd and real guests.

The test starts its own virtlogd and libvirtd as plain processes, with
their config, state and sockets under a temporary directory
(tests/vm/libvirttools.py), defines two TCG domains from XML (the test
guests' kernel and initramfs, virtio-mem on node 0 and on node 1, the
org.htier.0 channel; htier.ko and htier-agent inside), and runs one
htier-provisiond with "backend": "libvirt" for both, dividing 192 MiB of
"host fast memory" with the utility policy:

  vm-a  min 32 MiB, weight 4, fast_base 16 MiB; busy from boot (512 MiB
        workload, a 128 MiB hot set)
  vm-b  min 80 MiB, weight 1; idle, busy in phase 4

Phases: (1) fast memory moves from the idle vm-b to the busy vm-a, down to
vm-b's min; (2) provisiond is restarted while the agents are stopped: it
adopts the sizes libvirt reports and changes nothing until fresh reports;
(3) libvirtd is killed (SIGKILL) and started again while the guests run:
provisiond holds every VM's memory, reconnects and re-adopts, and no size
changes meanwhile; (4) through the new connection: vm-a idle shrinks
toward its min, vm-b busy grows; (5) vm-a's domain is destroyed: its share
is released after the grace period.  provisiond takes the plugged sizes
from libvirt's memory-device size-change events (its status counts them:
size_events): they must come, on the first connection and on the one
after libvirtd's restart, and agree with the XML.  Throughout, a sampler reads both
domains' live XML from libvirt (not QMP) every 0.5 s and checks the sum of
the fast devices (each at max(current, requested)) <= capacity, requests
within [min, max] and block-aligned; the guests' HTIER-STAT lines show that
no guest's total memory ever drops.

Prints TAP; logs go to $BUILD/vm/e2e_libvirt/.  Every process it started
(QEMU, libvirtd, virtlogd, provisiond) is killed by pid on the way out.
"""
import json
import os
import shutil
import signal
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import htiervm  # noqa: E402
import libvirttools  # noqa: E402
import e2e_provisioner as e2e  # noqa: E402
# The same two VMs, capacity and tunables as the QMP end-to-end test.
from e2e_provisioner import (GRACE_MS, HYST, TOTAL,  # noqa: E402
                             VMS, WORKLOAD_MIB, Tap, check_guests,
                             dev_summary as summary, fast_req as req,
                             fast_size as cur, guest_total_kb, vm_status,
                             wait_until)
from provtools import MiB, Provisioner, last_stat, human  # noqa: E402

BUILD = htiervm.BUILD
LOGDIR = os.path.join(BUILD, "vm", "e2e_libvirt")


class Sampler(e2e.Sampler):
    """e2e_provisioner's sampler (every 0.5 s, the invariants checked on
    each sample), with the devices read from libvirt's live XML of each
    running domain instead of QMP; while libvirtd is down a sample has no
    devices."""

    def __init__(self, t0, uri, domains, status_path):
        super().__init__(t0, {}, status_path)
        self.domains = dict(domains)  # vm name -> domain name
        self.lv = libvirttools.Libvirt(uri)

    def _devices(self):
        dev = {}
        for vm, domain in self.domains.items():
            xml = self.lv.xml(domain)
            if xml and " id='" in xml.split("\n", 1)[0]:  # running
                d = libvirttools.virtio_mem_devices(xml)
                dev[vm] = {"fast": d[0], "slow": d[1]}
        return dev

    def run(self):
        super().run()
        self.lv.close()

    def latest_with(self, vms):
        """The newest sample that has the devices of every VM in @vms."""
        with self.lock:
            for s in reversed(self.samples):
                if all(v in s["dev"] for v in vms):
                    return s
        return None


def slow_req(s, vm):
    d = s and s["dev"].get(vm)
    return d["slow"][1] if d else None


def requests(s):
    """The requested sizes in a sample: {vm: {"fast": r, "slow": r}}."""
    return {vm: {k: r for k, (_, r) in d.items()}
            for vm, d in s["dev"].items()}


def size_events(s, vm):
    return (vm_status(s, vm) or {}).get("size_events")


def events_agree(s, vms):
    """Every VM in @vms has had size events and provisiond's plugged size
    (from them) is libvirt's <current> in the same sample."""
    return all(s["dev"].get(n) and (size_events(s, n) or 0) > 0 and
               (vm_status(s, n) or {}).get("plugged_bytes") == cur(s, n)
               for n in vms)


def events_summary(s):
    if s is None:
        return "no sample"
    return ", ".join("%s: %s events, plugged %s, XML %s" % (
        n, size_events(s, n), human((vm_status(s, n) or {}).get(
            "plugged_bytes")), human(cur(s, n) if s["dev"].get(n) else None))
        for n in VMS)


def write_config(path, tmp, uri, domains):
    cfg = e2e.base_config(tmp, lambda name: {
        "backend": "libvirt", "domain": domains[name], "uri": uri})
    with open(path, "w") as f:
        json.dump(cfg, f, indent=1)


def prerequisites():
    return libvirttools.missing_prerequisite() or e2e.prerequisites()


def main():
    tap = Tap()
    why = prerequisites()
    if why:
        tap.skip("provisioner with a real libvirtd", why)
        print("1..%d" % tap.n)
        return 0
    os.makedirs(LOGDIR, exist_ok=True)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: sys.exit(128 + 15))
    tmp = tempfile.mkdtemp(prefix="htier-lv-")
    # Unique per run: domains of two runs (or of a host's libvirt) must not
    # share names, whose cgroups libvirt names after them.
    domains = {n: "htier-e2e-%d-%s" % (os.getpid(), n) for n in VMS}
    libvirtd = libvirttools.Libvirtd(tmp, LOGDIR,
                                     cache=os.path.join(LOGDIR, "cache"))
    prov = None
    try:
        prov, rc = run(tap, tmp, libvirtd, domains)
        return rc
    finally:
        if prov and prov.alive():
            prov.stop()
        libvirtd.stop_all(domains.values())
        shutil.rmtree(tmp, ignore_errors=True)


def run(tap, tmp, libvirtd, domains):
    t_start = time.time()
    took = libvirtd.start()
    tap.note("libvirtd (%s) answers after %.1fs; logs in %s" % (
        libvirtd.uri, took, LOGDIR))
    initramfs = htiervm.build_initramfs(htiervm.initramfs_path("e2e-initramfs"))
    guests = {}
    for name, c in VMS.items():
        guests[name] = libvirttools.LibvirtGuest(
            libvirtd, domains[name], tmp, name=name, fast_mb=256, slow_mb=768,
            run="e2e_guest.sh", initramfs=initramfs,
            append=c["append"] + " htier.stat_ms=1000 htier.agent_ms=1000"
                   " htier.cpu_permil=%d" % htiervm.TCG_CPU_PERMIL,
            fast_vmem_mb=512, fast_vmem_requested_mb=c["fast0"] // MiB,
            slow_vmem_mb=512,
            slow_vmem_requested_mb=(TOTAL - c["fast0"]) // MiB,
            log=os.path.join(LOGDIR, name + ".console"))
    for g in guests.values():
        g.start()
    A, B = guests["vm-a"], guests["vm-b"]
    ready = {n: g.wait_for_line("HTIER-E2E-READY", 150)
             for n, g in guests.items()}
    ok = all(ready.values()) and all(
        g.wait_for_line(r"htier-agent: starting", 10) for g in guests.values())
    if not tap.result(ok, "two libvirt domains boot with htier.ko and "
                      "htier-agent",
                      "boot %.0fs; not ready: %s" % (
                          time.time() - t_start,
                          [n for n, r in ready.items() if not r] or "none")):
        return None, 1
    time.sleep(3)  # the boot-time plugs settle
    base_total = {n: guest_total_kb(last_stat(g)) for n, g in guests.items()}
    base_up = {n: last_stat(g)["up"] for n, g in guests.items()}

    cfg_path = os.path.join(tmp, "provisiond.json")
    write_config(cfg_path, tmp, libvirtd.uri, domains)
    shutil.copy(cfg_path, os.path.join(LOGDIR, "provisiond.json"))
    prov_log = os.path.join(LOGDIR, "provisiond.log")
    open(prov_log, "w").close()
    status_path = os.path.join(tmp, "prov.sock")
    sampler = Sampler(time.time(), libvirtd.uri, domains, status_path)
    sampler.start()
    prov = Provisioner(os.path.join(BUILD, "bin", "htier-provisiond"),
                       cfg_path, prov_log).start()
    try:
        phases(tap, guests, A, B, sampler, prov, prov_log, libvirtd,
               domains, base_total, base_up)
    finally:
        sampler.stop_ev.set()
        sampler.join(5)
    tap.note("total %.0fs" % (time.time() - t_start))
    print("1..%d" % tap.n, flush=True)
    return prov, 1 if tap.failed else 0


def all_phase(s, phase, awaiting=None):
    for n in VMS:
        v = vm_status(s, n) or {}
        if v.get("phase") != phase:
            return False
        if awaiting is not None and v.get("awaiting_report") != awaiting:
            return False
    return True


def phases(tap, guests, A, B, sampler, prov, prov_log, libvirtd, domains,
           base_total, base_up):
    # ---- adoption: the devices and the channel found in the XML --------
    s = wait_until(sampler, lambda s: all_phase(s, "active"), 30)
    log = open(prov_log).read()
    adopted = all("%s: adopted virtiomem0 size %d MiB" % (n, c["fast0"] // MiB)
                  in log for n, c in VMS.items())
    linked = wait_until(sampler, lambda s: all(
        (vm_status(s, n) or {}).get("link_connected") for n in VMS), 20)
    tap.result(s is not None and adopted and linked is not None,
               "provisiond adopts both domains' node-0 devices (virtiomem0) "
               "at their boot sizes and links to their org.htier.0 channels",
               None if s and adopted and linked else
               "status: %s" % (sampler.latest() or {}).get("status"))

    # ---- phase 1: fast memory follows demand ---------------------------
    t1 = sampler.now()

    def moved(s):
        a, b = req(s, "vm-a"), req(s, "vm-b")
        return (a is not None and b is not None and a >= 96 * MiB and
                cur(s, "vm-a") == a and b == VMS["vm-b"]["min"] and
                cur(s, "vm-b") == b)
    s = wait_until(sampler, moved, 150)
    tap.result(s is not None,
               "busy vm-a grows, idle vm-b shrinks to its min (sizes from "
               "libvirt's live XML: <current> follows <requested>)",
               "after %.0fs: %s" % (sampler.now() - t1,
                                    summary(sampler.latest())))
    s = wait_until(sampler, lambda s: events_agree(s, VMS), 10)
    tap.result(s is not None,
               "provisiond saw both devices' size-change events, and its "
               "plugged sizes (from them) are libvirt's <current>",
               events_summary(sampler.latest()))
    deadline = time.time() + 10
    while time.time() < deadline:
        s = sampler.latest()
        if all(req(s, n) is not None and req(s, n) + slow_req(s, n) == TOTAL
               for n in VMS):
            break
        time.sleep(0.5)
    tap.result(all(req(s, n) is not None and req(s, n) + slow_req(s, n) == TOTAL
                   for n in VMS),
               "the node-1 (slow) devices keep each guest's total",
               summary(s))

    # ---- phase 2: provisiond restart -----------------------------------
    for g in guests.values():
        g.send("agent-stop")
    stopped = all(wait_until(sampler, lambda s, g=g: last_stat(g)["agent"] == 0,
                             15) for g in guests.values())
    time.sleep(1.5)
    pre = sampler.sample()
    rc = prov.stop()
    prov.start()
    t2 = sampler.now()
    s = wait_until(sampler, lambda s: all_phase(s, "active", True), 20)
    time.sleep(5)
    window = [x for x in sampler.since(t2) if x["dev"]]
    # Requests: an unplug under way when it stopped may go on.
    changed = [summary(x) for x in window if requests(x) != requests(pre)]
    tap.result(stopped and rc == 0 and s is not None and len(window) > 5 and
               not changed and req(pre, "vm-a") >= 96 * MiB,
               "restarted provisiond adopts the sizes libvirt reports and "
               "changes nothing without fresh reports",
               "agents stopped: %s; exit %s; before: %s; %d samples, %d "
               "differ%s" % (stopped, rc, summary(pre), len(window),
                             len(changed),
                             (": " + changed[0]) if changed else ""))
    for g in guests.values():
        g.send("agent-start")
    s = wait_until(sampler, lambda s: all_phase(s, "active", False), 30)
    tap.result(s is not None, "after fresh reports provisiond manages both "
               "VMs again", summary(sampler.latest()))

    # ---- phase 3: libvirtd killed and started again ---------------------
    time.sleep(2)
    pre = sampler.sample()
    adopted_before = open(prov_log).read().count(": adopted virtiomem0")
    libvirtd.kill()
    t_kill = sampler.now()
    s_lost = wait_until(sampler, lambda s: all_phase(s, "lost"), 15)
    time.sleep(3)
    down = [x for x in sampler.since(t_kill) if x["status"]]
    held = all((vm_status(x, n) or {}).get("charged_bytes", 0) >=
               max(cur(pre, n), req(pre, n)) for x in down for n in VMS)
    tap.result(s_lost is not None and held and
               all(libvirtd.qemu_pid(d) for d in domains.values()),
               "libvirtd killed: provisiond sees both VMs lost and holds "
               "their memory; the QEMUs run on",
               "lost after %s; %d status samples while down, charges held: "
               "%s" % ("%.1fs" % (s_lost["t"] - t_kill) if s_lost else "never",
                       len(down), held))
    took = libvirtd.start()
    t_up = sampler.now()
    s = wait_until(sampler, lambda s: all_phase(s, "active"), 30)
    events_before = {n: size_events(s, n) or 0 for n in VMS} if s else {}
    readopted = open(prov_log).read().count(": adopted virtiomem0") - \
        adopted_before
    after = sampler.latest_with(VMS)
    # Requests: what provisiond decides.  A plug in progress may go on
    # while libvirtd is away (QEMU and the guest do it).
    tap.result(s is not None and readopted >= 2 and after is not None and
               requests(after) == requests(pre),
               "libvirtd restarted: provisiond reconnects and re-adopts, no "
               "request changed meanwhile",
               "libvirtd answered after %.1fs, both active %s; %d "
               "adoptions; before %s; after %s" % (
                   took, "after %.1fs" % (s["t"] - t_up) if s else "never",
                   readopted, summary(pre), summary(after)))

    # ---- phase 4: resizes through the new connection -------------------
    A.send("idle")
    B.send("busy %d" % WORKLOAD_MIB)
    t4 = sampler.now()

    def swapped(s):
        a, b = req(s, "vm-a"), req(s, "vm-b")
        return (a is not None and b is not None and
                a <= VMS["vm-a"]["min"] + HYST and cur(s, "vm-a") == a and
                b >= 128 * MiB and cur(s, "vm-b") == b)
    s = wait_until(sampler, swapped, 120)
    tap.result(s is not None,
               "after the restart: idle vm-a shrinks toward its min, busy "
               "vm-b grows (resized through the new connection)",
               "after %.0fs: %s" % (sampler.now() - t4,
                                    summary(sampler.latest())))
    s = wait_until(sampler, lambda s: events_before and events_agree(
        s, VMS) and all((size_events(s, n) or 0) > events_before[n] for n in VMS),
        10)
    tap.result(s is not None,
               "the size events come through the new connection too (both "
               "VMs' counts grew), and agree with libvirt's <current>",
               "at re-adoption %s; now %s" % (
                   events_before, events_summary(sampler.latest())))

    # ---- phase 5: a domain destroyed ------------------------------------
    r = libvirtd.virsh("destroy", domains["vm-a"])
    t5 = sampler.now()
    s = wait_until(sampler, lambda s: (vm_status(s, "vm-a") or {}).get(
        "phase") == "released", GRACE_MS / 1000 + 20)
    a_st = vm_status(sampler.latest(), "vm-a") or {}
    tap.result(r.returncode == 0 and s is not None and
               s["t"] - t5 >= GRACE_MS / 1000 - 0.5 and
               a_st.get("charged_bytes") == VMS["vm-a"]["min"],
               "a destroyed domain's share is released after the grace "
               "period, its min kept",
               "released after %s; charged %s" % (
                   "%.1fs" % (s["t"] - t5) if s else "never",
                   human(a_st.get("charged_bytes"))))

    # ---- whole-run invariants -------------------------------------------
    n = len(sampler.samples)
    v = sampler.violations
    tap.result(not v and n > 50,
               "at every sample (libvirt's XML): sum of fast devices <= "
               "capacity, min <= requested <= max, block-aligned",
               "%d samples, %d violations%s" % (
                   n, len(v), ("\n" + "\n".join(v[:10])) if v else ""))
    check_guests(tap, guests, base_up, base_total,
                 "no guest's total memory ever dropped, through both "
                 "restarts (guest view)")
    rc = prov.stop()
    tap.result(rc == 0, "provisiond exits 0 on SIGTERM", "exit %s" % rc)


if __name__ == "__main__":
    sys.exit(main())
