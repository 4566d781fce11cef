#!/usr/bin/python3
"""The Debian packages (make deb) and DKMS, as an operator uses them.

- the packages build with dpkg-buildpackage (make deb) and hold what a user
  needs: the module source with a versioned dkms.conf, the guest tools, the
  units, the udev rule, the conffiles;
- lintian reports no errors (warnings and overrides are printed);
- the unit files pass systemd-analyze verify against the unpacked packages;
- the packaged htier-provisiond checks the packaged config (the unit's
  ExecStartPre=) and speaks sd_notify as Type=notify with WatchdogSec=
  expects: READY=1 and STATUS=, WATCHDOG=1 at half of WATCHDOG_USEC,
  STOPPING=1 on SIGTERM (a notify socket of our own; no systemd here);
- dkms build -k KVER of the packaged source, for every pinned kernel
  ($KVERS, default $KVER), gives an htier.ko whose vermagic is KVER's;
- in a QEMU guest of the pinned kernel with htier-guest and the DKMS-built
  module unpacked over the test initramfs (tests/pkg/guest/packages.sh):
  the module loads, the packaged tools run, the udev rule matches the real
  port, the agent run as its unit runs it reports to the host over
  org.htier.0 and applies the quota the host sends back, and sets
  kernel.numa_balancing=0 only when /etc/default/htier-agent says so.
TAP on stdout; exit 0 only when every check passed.  About 4-5 minutes on
two cores, most of it the package build.
"""
import glob
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "vm"))
import htiervm  # noqa: E402

KVER = htiervm.KVER        # the guest's kernel ($KVER, else the first pinned)
KVERS = htiervm.KVERS      # dkms builds for each ($KVERS, else guest-kmod/KERNELS)
BUILD = htiervm.BUILD
DEB_OUT = os.environ.get("DEB_OUT", os.path.join(BUILD, "deb"))
QUOTA = 268435456  # what the host sends; packages.sh waits for it


Tap = htiervm.Tap


def sh(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, **kw)


def version():
    with open(os.path.join(TOP, "debian", "changelog")) as f:
        return re.match(r"^\S+ \(([^)]+)\)", f.readline()).group(1)


def build(t, ver):
    t0 = time.time()
    log = os.path.join(BUILD, "deb.log")
    os.makedirs(BUILD, exist_ok=True)
    with open(log, "w") as f:
        r = subprocess.run(["make", "-C", TOP, "deb"], stdout=f,
                           stderr=subprocess.STDOUT)
    debs = {p: os.path.join(DEB_OUT, "%s_%s_%s.deb" % (p, ver, a))
            for p, a in (("htier-dkms", "all"), ("htier-guest", "amd64"),
                         ("htier-host", "amd64"))}
    missing = [d for d in debs.values() if not os.path.exists(d)]
    with open(log) as f:
        tail = f.read()[-3000:]
    t.check(r.returncode == 0 and not missing,
            "make deb builds htier-dkms, htier-guest, htier-host %s (%.0fs)"
            % (ver, time.time() - t0),
            "exit %d, missing %s, log %s:\n%s" % (r.returncode, missing, log, tail))
    return None if missing else debs


def contents(t, debs, ver, root):
    want = {
        "htier-dkms": ["usr/src/htier-%s/dkms.conf" % ver,
                       "usr/src/htier-%s/Kbuild" % ver,
                       "usr/src/htier-%s/main.c" % ver,
                       "usr/src/htier-%s/core/policy.c" % ver],
        "htier-guest": ["usr/sbin/htier-agent", "usr/bin/htierctl",
                        "usr/sbin/htier-trace", "usr/sbin/htier-slowtop",
                        "lib/systemd/system/htier-agent.service",
                        "lib/udev/rules.d/60-htier-guest.rules",
                        "etc/default/htier-agent"],
        "htier-host": ["usr/sbin/htier-provisiond",
                       "lib/systemd/system/htier-provisiond.service",
                       "etc/htier/provisiond.json"],
    }
    conffiles = {"htier-guest": "/etc/default/htier-agent",
                 "htier-host": "/etc/htier/provisiond.json"}
    for pkg, deb in debs.items():
        r = sh(["dpkg-deb", "-x", deb, root])
        if not t.check(r.returncode == 0, "dpkg-deb -x %s" % os.path.basename(deb),
                       r.stdout):
            continue
        absent = [p for p in want[pkg] if not os.path.exists(os.path.join(root, p))]
        t.check(not absent, "%s holds %s" % (pkg, ", ".join(want[pkg])),
                "missing: %s" % absent)
        if pkg in conffiles:
            r = sh(["dpkg-deb", "-I", deb, "conffiles"])
            t.check(conffiles[pkg] in r.stdout.split(),
                    "%s: %s is a conffile" % (pkg, conffiles[pkg]), r.stdout)
    conf = os.path.join(root, "usr/src/htier-%s/dkms.conf" % ver)
    text = open(conf).read() if os.path.exists(conf) else ""
    t.check('PACKAGE_VERSION="%s"' % ver in text and "AUTOINSTALL=\"yes\"" in text,
            "the packaged dkms.conf names version %s and autoinstalls" % ver, text)
    r = sh(["dpkg-deb", "-I", debs["htier-dkms"], "postinst"])
    t.check("dkms" in r.stdout and "htier" in r.stdout,
            "htier-dkms's postinst builds the module with dkms (dh_dkms)", r.stdout)


def lint(t, ver):
    changes = os.path.join(DEB_OUT, "htier_%s_amd64.changes" % ver)
    r = sh(["lintian", "--tag-display-limit", "0", "--show-overrides", changes])
    errors = [l for l in r.stdout.splitlines() if l.startswith("E:")]
    warnings = [l for l in r.stdout.splitlines() if l.startswith("W:")]
    t.diag("lintian: %d error(s), %d warning(s), %d overridden"
           % (len(errors), len(warnings), r.stdout.count("\nO:") +
              r.stdout.startswith("O:")))
    t.diag(r.stdout)
    # Exit 1 is lintian's own failure; with --show-overrides it exits 2 for
    # overridden errors too, so the verdict is the E: lines.
    t.check(r.returncode in (0, 2) and not errors and "htier-guest" in r.stdout,
            "lintian reports no errors", "exit %d" % r.returncode)


def verify_units(t, root):
    units = [os.path.join(root, "lib/systemd/system", u)
             for u in ("htier-agent.service", "htier-provisiond.service")]
    if not shutil.which("systemd-analyze"):
        t.check(False, "systemd-analyze verify (systemd-analyze missing: make deps)")
        return
    # --root: the ExecStart= binaries are looked up in the unpacked packages;
    # the units they name (sysinit.target, modprobe@.service) come from this
    # machine's systemd, copied beside them (without replacing ours).
    sysdir = os.path.join(root, "lib", "systemd", "system")
    sh(["cp", "-an", "/lib/systemd/system/.", sysdir])
    r = sh(["systemd-analyze", "verify", "--root=" + root] + units)
    t.check(r.returncode == 0 and not r.stdout.strip(),
            "systemd-analyze verify: htier-agent.service, htier-provisiond.service",
            r.stdout)


class NotifySocket:
    """The service manager's end of sd_notify(3): a datagram socket that
    collects what the daemon sends, with arrival times."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.2)
        self.messages = []
        self._stop = False
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self):
        while not self._stop:
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            self.messages.append((time.time(), data.decode()))

    def close(self):
        self._stop = True
        self._thread.join()
        self.sock.close()

    def with_key(self, key):
        return [(ts, m) for ts, m in self.messages
                if any(l.startswith(key + "=") for l in m.splitlines())]


def provisiond(t, root):
    exe = os.path.join(root, "usr/sbin/htier-provisiond")
    conf = os.path.join(root, "etc/htier/provisiond.json")
    unit = open(os.path.join(root, "lib/systemd/system/htier-provisiond.service")).read()
    pre = re.search(r"^ExecStartPre=(\S+) (.*)$", unit, re.M)
    args = pre.group(2).replace("/etc/htier/provisiond.json", conf).split()
    r = sh([exe] + args)
    t.check(pre.group(1) == "/usr/sbin/htier-provisiond" and r.returncode == 0,
            "the unit's ExecStartPre= (--check-config) accepts the shipped "
            "/etc/htier/provisiond.json", r.stdout)

    tmp = tempfile.mkdtemp(prefix="htier-notify-")
    try:
        cfg = json.load(open(conf))
        cfg["status_socket"] = os.path.join(tmp, "provisiond.sock")
        for vm in cfg["vms"]:  # VMs that are not there: the daemon keeps trying
            vm["qmp"] = os.path.join(tmp, vm["name"] + ".qmp")
            vm["channel"] = os.path.join(tmp, vm["name"] + ".sock")
        with open(os.path.join(tmp, "provisiond.json"), "w") as f:
            json.dump(cfg, f)
        ns = NotifySocket(os.path.join(tmp, "notify"))
        # As systemd sets them for WatchdogSec=1s (WATCHDOG_PID unset: any
        # process may ping, which sd_watchdog_enabled accepts).
        env = dict(os.environ, NOTIFY_SOCKET=os.path.join(tmp, "notify"),
                   WATCHDOG_USEC="1000000")
        env.pop("WATCHDOG_PID", None)
        p = subprocess.Popen([exe, "--config", os.path.join(tmp, "provisiond.json")],
                             env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True,
                             preexec_fn=htiervm.die_with_parent)
        time.sleep(3.2)
        p.send_signal(signal.SIGTERM)
        out, _ = p.communicate(timeout=10)
        time.sleep(0.3)
        ns.close()
        ready = ns.with_key("READY")
        status = ns.with_key("STATUS")
        pings = [ts for ts, _ in ns.with_key("WATCHDOG")]
        gaps = [b - a for a, b in zip(pings, pings[1:])]
        t.diag("notify messages: %s" % [m for _, m in ns.messages][:6])
        t.check(bool(ready) and bool(status) and "VM(s)" in status[0][1],
                "READY=1 with a STATUS= line", out)
        t.check(len(pings) >= 5 and all(0.35 <= g <= 0.75 for g in gaps),
                "WATCHDOG=1 every ~0.5 s for WATCHDOG_USEC=1000000 (%d pings, "
                "gaps %s s)" % (len(pings), ["%.2f" % g for g in gaps]), out)
        t.check(p.returncode == 0 and bool(ns.with_key("STOPPING")),
                "SIGTERM: STOPPING=1 and exit 0 (exit %s)" % p.returncode, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def dkms(t, ver, root, work):
    built = {}
    src = os.path.join(root, "usr", "src")
    for k in KVERS:
        t0 = time.time()
        tree = os.path.join(work, "dkms-" + k)
        os.makedirs(tree)
        r = sh(["dkms", "build", "-m", "htier", "-v", ver, "-k", k,
                "--sourcetree", src, "--dkmstree", tree])
        kos = glob.glob(os.path.join(tree, "htier", ver, k, "*", "module", "htier.ko*"))
        detail = r.stdout
        for log in glob.glob(os.path.join(tree, "htier", ver, "build", "make.log")):
            detail += "\n%s:\n%s" % (log, open(log).read()[-1500:])
        if not t.check(r.returncode == 0 and len(kos) == 1,
                       "dkms build -k %s of the packaged source (%.0fs)"
                       % (k, time.time() - t0), detail):
            continue
        vm = sh(["modinfo", "-F", "vermagic", kos[0]]).stdout.strip()
        if t.check(vm.split()[:1] == [k], "htier.ko for %s has vermagic '%s'" % (k, vm)):
            built[k] = kos[0]
    return built


def guest(t, guest_deb, ko):
    work = tempfile.mkdtemp(prefix="htier-pkg-")
    root = os.path.join(work, "root")
    sh(["dpkg-deb", "-x", guest_deb, root])
    # htier-guest as dpkg would install it, and the module where
    # "dkms install" puts it.
    extra = {"/htier/packages.sh": os.path.join(HERE, "guest", "packages.sh"),
             "/lib/modules/%s/updates/dkms/htier.ko" % KVER: ko}
    for dirpath, _, files in os.walk(root):
        for f in files:
            path = os.path.join(dirpath, f)
            if not os.path.islink(path):
                extra["/" + os.path.relpath(path, root)] = path
    initramfs = htiervm.build_initramfs(htiervm.initramfs_path("initramfs-pkg"),
                                        extra=extra)
    channel = os.path.join(work, "htier.sock")
    log = os.path.join(BUILD, "vm", "packages.log")
    g = htiervm.Guest(name="htier-pkg", run="packages.sh", initramfs=initramfs,
                      channel=channel, log=log)
    g.start()
    host = {"report": None, "error": None}

    def host_end():
        """The provisioner's side of org.htier.0: wait for one report,
        answer with a quota."""
        deadline = time.time() + 240
        try:
            while not os.path.exists(channel) and time.time() < deadline:
                time.sleep(0.2)
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(channel)
            s.settimeout(1)
            buf = b""
            while time.time() < deadline and g.proc.poll() is None:
                try:
                    chunk = s.recv(65536)
                except socket.timeout:
                    continue
                if not chunk:
                    break
                buf += chunk
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    msg = json.loads(line)
                    if msg.get("type") == "report" and host["report"] is None:
                        host["report"] = msg
                        s.sendall(json.dumps({"v": 1, "type": "quota", "seq": 1,
                                              "fast_bytes": QUOTA,
                                              "effective_in_ms": 2000}).encode() + b"\n")
        except (OSError, ValueError) as e:
            host["error"] = repr(e)

    th = threading.Thread(target=host_end, daemon=True)
    th.start()
    status = g.wait(300)
    th.join(5)
    shutil.rmtree(work, ignore_errors=True)
    t.guest(g.output, "guest: ")
    rep = host["report"]
    t.check(rep is not None and rep.get("v") == 1 and "fast_resident_bytes" in rep,
            "host: the packaged agent's report arrived over org.htier.0",
            "%s %s" % (rep, host["error"]))
    t.check(status == 0, "guest ran packages.sh to the end (status %s, log %s)"
            % (status, log))


def main():
    t = Tap()
    ver = version()
    debs = build(t, ver)
    if not debs:
        return 1
    work = tempfile.mkdtemp(prefix="htier-deb-")
    root = os.path.join(work, "root")
    try:
        contents(t, debs, ver, root)
        lint(t, ver)
        verify_units(t, root)
        provisiond(t, root)
        built = dkms(t, ver, root, work)
        if KVER in built:
            guest(t, debs["htier-guest"], built[KVER])
        else:
            t.check(False, "guest test: no DKMS-built module for %s" % KVER)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if t.failed else 0


if __name__ == "__main__":
    sys.exit(main())
