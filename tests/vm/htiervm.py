#!/usr/bin/python3
"""Boot htier test guests under QEMU (TCG) and run a script inside them.

A guest is one of the pinned Debian kernels (guest-kmod/KERNELS; $KVER,
default the first) with the initramfs from mkinitramfs.sh.  Node 0 has the vCPUs and the fast memory; node 1 is
CPU-less slow memory, placed last (QEMU gives the hot-plug range to the last
node).  Optionally a virtio-mem device on node 0 (fast memory the host
resizes), one on node 1, a QMP socket and the org.htier.0 virtio-serial port.

Used as a library by the integration tests and the demo, and as a CLI:
    htiervm.py run SCRIPT [--timeout S] [--log FILE] [--append ARGS]
which boots a guest, runs /htier/SCRIPT, copies the console to stdout (and
FILE) and exits with the script's exit status.
"""
import argparse
import os
import re
import subprocess
import tempfile
import shutil
import sys
import threading
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
with open(os.path.join(TOP, "guest-kmod", "KERNELS")) as _f:
    PINNED = _f.read().split()
KVERS = os.environ.get("KVERS", " ".join(PINNED)).split()
KVER = os.environ.get("KVER", KVERS[0])
GUEST_ROOT = os.environ.get("GUEST_ROOT",
                            os.path.join(TOP, ".cache", "guest-kernel", KVER))
BUILD = os.environ.get("BUILD", os.path.join(TOP, "build"))


def kmod_path(kver=None):
    """htier.ko built for @kver (default: the kernel in use), `make kmod`."""
    return os.path.join(BUILD, "kmod", kver or KVER, "htier.ko")


KMOD = kmod_path()


def use_kernel(kver):
    """Boot @kver in the guests from now on (this process and the tools it
    starts: mkinitramfs.sh, the e2e scripts)."""
    global KVER, GUEST_ROOT, KMOD
    KVER = kver
    GUEST_ROOT = os.path.join(TOP, ".cache", "guest-kernel", kver)
    KMOD = kmod_path(kver)
    os.environ.update(KVER=kver, GUEST_ROOT=GUEST_ROOT,
                      KDIR="/usr/src/linux-headers-" + kver)


def initramfs_path(name="initramfs"):
    """Where an initramfs for the kernel in use goes (one per kernel, so
    that guests of both kernels can run side by side)."""
    return os.path.join(BUILD, "vm", "%s-%s.cpio.gz" % (name, KVER))


def short_kver(kver=None):
    """'6.1', '6.12': how test names tell the kernels apart."""
    return ".".join((kver or KVER).split(".")[:2])
# htier's tracking budget (cpu_permil) for guests that run a workload the
# module must follow in seconds (e2e tests, the demo).  Under TCG every page
# table read is emulated, 10-50x slower than on hardware, so the default 1%
# of a vCPU covers only a few MiB per round here; 30% is what the module
# needed before it had a budget.  The cost at the default is measured in
# bench/vm/cost.py, not here.
TCG_CPU_PERMIL = 300
EXIT_RE = re.compile(r"HTIER-GUEST-EXIT (\d+)")
START_MARK = "HTIER-GUEST-START"
CRASH_RE = re.compile(r"Oops:|Kernel panic|BUG:|general protection fault")


TAP_RE = re.compile(r"^(ok|not ok) \d+ (.*)$")


class Tap:
    """TAP on stdout, numbered across everything a test checks: its own
    checks and the ones its guests ran (relayed by guest())."""

    def __init__(self):
        self.n = 0
        self.failed = 0

    def result(self, ok, name, diag=None):
        self.n += 1
        print("%s %d %s" % ("ok" if ok else "not ok", self.n, name), flush=True)
        if diag:
            for line in str(diag).splitlines():
                print("#   " + line, flush=True)
        if not ok:
            self.failed += 1
        return ok

    def check(self, ok, name, detail=""):
        """result(), with @detail's last 40 lines only when it failed."""
        tail = "\n".join(str(detail).strip().splitlines()[-40:])
        return self.result(ok, name, None if ok else tail)

    def skip(self, name, why):
        self.n += 1
        print("ok %d %s # SKIP %s" % (self.n, name, why), flush=True)

    def note(self, text):
        for line in str(text).strip().splitlines():
            print("# " + line, flush=True)

    diag = note

    def guest(self, output, prefix=""):
        """Relay the TAP a guest script printed between its HTIER-TAP-BEGIN
        and HTIER-TAP-END lines (results renumbered, comments kept); return
        how many results there were."""
        in_tap = False
        count = 0
        for line in output:
            line = line.strip()
            if "HTIER-TAP-BEGIN" in line:  # may follow console escapes
                in_tap = True
                continue
            if "HTIER-TAP-END" in line:
                in_tap = False
                continue
            if not in_tap:
                continue
            m = TAP_RE.match(line)
            if m:
                self.result(m.group(1) == "ok", prefix + m.group(2))
                count += 1
            elif line.startswith("#"):
                print(line, flush=True)
        return count

    def guest_done(self, status, log, results):
        """After guest() relayed @results: fail unless the guest reported
        some and ran its script to the end with status 0.  Return the
        test's exit status."""
        if status is None:
            self.result(False, "guest did not finish (log %s)" % log)
        elif results == 0:
            self.result(False, "no TAP results from the guest (log %s)" % log)
        elif status != 0 and not self.failed:
            self.result(False, "guest script exited %d (log %s)" % (status, log))
        return 1 if self.failed else 0


def build_initramfs(out=None, extra=None):
    """Build (or rebuild) the test initramfs; return its path.  @extra:
    {path in the guest: file here} put in a second cpio archive appended to
    it (the kernel unpacks concatenated archives in order, so these files
    override the first archive's)."""
    out = out or initramfs_path()
    os.makedirs(os.path.dirname(out), exist_ok=True)
    subprocess.run([os.path.join(TOP, "tests", "vm", "mkinitramfs.sh"), out],
                   check=True)
    if not extra:
        return out
    root = tempfile.mkdtemp()
    try:
        for dst, src in extra.items():
            path = os.path.join(root, dst.lstrip("/"))
            os.makedirs(os.path.dirname(path), exist_ok=True)
            shutil.copy(src, path)
        cpio = subprocess.run(
            "cd %s && find . | cpio -o -H newc --quiet | gzip -1" % root,
            shell=True, stdout=subprocess.PIPE, check=True).stdout
    finally:
        shutil.rmtree(root)
    with open(out, "ab") as f:
        f.write(cpio)
    return out


def die_with_parent():
    """In a child before exec: SIGKILL it when its parent dies, so a killed
    test or demo leaves no QEMU behind (Linux prctl PR_SET_PDEATHSIG)."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, 9)  # PR_SET_PDEATHSIG, SIGKILL
    except (OSError, AttributeError):
        pass


def kernel_cmdline(run_script=None, append=""):
    """The test guests' kernel command line: serial console, panic on oops,
    hot-plugged memory online_movable, /htier/@run_script run by /init."""
    cmdline = ("console=ttyS0 panic=-1 oops=panic loglevel=4 "
               "memhp_default_state=online_movable numa_balancing=disable")
    if run_script:
        cmdline += " htier.run=" + run_script
    if append:
        cmdline += " " + append
    return cmdline


class Guest:
    """One QEMU guest.  Sizes in MiB; slow_mb=0: node 1 has no boot memory
    (only what a slow virtio-mem device plugs)."""

    def __init__(self, name="htier-guest", fast_mb=512, slow_mb=512,
                 vcpus=2, run=None, initramfs=None, append="",
                 fast_vmem_mb=0, fast_vmem_requested_mb=0,
                 slow_vmem_mb=0, slow_vmem_requested_mb=0,
                 qmp=None, channel=None, log=None, echo=False,
                 extra_qmp=(), console_input=False, cpu="max"):
        self.name = name
        # QEMU -cpu model (e.g. "max,erms=off").
        self.cpu = cpu
        self.fast_mb, self.slow_mb, self.vcpus = fast_mb, slow_mb, vcpus
        self.run_script = run
        self.initramfs = initramfs or initramfs_path()
        self.append = append
        self.fast_vmem_mb = fast_vmem_mb
        self.fast_vmem_requested_mb = fast_vmem_requested_mb
        self.slow_vmem_mb = slow_vmem_mb
        self.slow_vmem_requested_mb = slow_vmem_requested_mb
        self.qmp = qmp
        # More QMP sockets (e.g. one for a test to watch the devices while
        # a provisioner holds the first one).
        self.extra_qmp = list(extra_qmp)
        self.channel = channel
        # True: QEMU's stdin (the guest's ttyS0 input) is a pipe that
        # send() writes to; else /dev/null.
        self.console_input = console_input
        self.log_path = log
        self.echo = echo
        self.proc = None
        self.output = []
        self.exit_status = None
        self._reader = None
        self._done = threading.Event()

    def command(self):
        cmdline = kernel_cmdline(self.run_script, self.append)
        boot_mb = self.fast_mb + self.slow_mb
        max_mb = boot_mb + self.fast_vmem_mb + self.slow_vmem_mb
        mem = "%dM" % boot_mb
        if self.fast_vmem_mb or self.slow_vmem_mb:
            mem += ",slots=2,maxmem=%dM" % max_mb
        cmd = ["qemu-system-x86_64", "-machine", "q35", "-accel", "tcg",
               "-cpu", self.cpu, "-smp", str(self.vcpus), "-m", mem,
               "-nographic", "-nodefaults", "-no-reboot",
               "-serial", "stdio", "-monitor", "none",
               "-kernel", os.path.join(GUEST_ROOT, "vmlinuz"),
               "-initrd", self.initramfs, "-append", cmdline,
               "-object", "memory-backend-ram,id=m0,size=%dM" % self.fast_mb,
               "-numa", "node,nodeid=0,cpus=0-%d,memdev=m0" % (self.vcpus - 1)]
        if self.slow_mb:
            cmd += ["-object", "memory-backend-ram,id=m1,size=%dM" % self.slow_mb,
                    "-numa", "node,nodeid=1,memdev=m1"]
        else:
            # Node 1 without boot memory: what a slow virtio-mem device
            # (vs0) plugs is all it has.
            cmd += ["-numa", "node,nodeid=1"]
        if self.fast_vmem_mb:
            cmd += ["-object", "memory-backend-ram,id=vmem0,size=%dM"
                    % self.fast_vmem_mb,
                    "-device", "virtio-mem-pci,id=vm0,memdev=vmem0,node=0,"
                    "requested-size=%dM" % self.fast_vmem_requested_mb]
        if self.slow_vmem_mb:
            cmd += ["-object", "memory-backend-ram,id=vmem1,size=%dM"
                    % self.slow_vmem_mb,
                    "-device", "virtio-mem-pci,id=vs0,memdev=vmem1,node=1,"
                    "requested-size=%dM" % self.slow_vmem_requested_mb]
        for q in ([self.qmp] if self.qmp else []) + self.extra_qmp:
            cmd += ["-qmp", "unix:%s,server=on,wait=off" % q]
        if self.channel:
            cmd += ["-device", "virtio-serial-pci,id=vser0",
                    "-chardev", "socket,id=htierch,path=%s,server=on,wait=off"
                    % self.channel,
                    "-device", "virtserialport,chardev=htierch,name=org.htier.0"]
        return cmd

    def start(self):
        stdin = subprocess.PIPE if self.console_input else subprocess.DEVNULL
        self.proc = subprocess.Popen(self.command(), stdin=stdin,
                                     preexec_fn=die_with_parent,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        return self

    def _read(self, console=None):
        """Collect the console's lines (QEMU's stdout, or @console: a file
        object on another kind of serial port) until it ends."""
        log = open(self.log_path, "w") if self.log_path else None
        for raw in console or self.proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            self.output.append(line)
            if log:
                log.write(line + "\n")
                log.flush()
            if self.echo:
                print(line, flush=True)
            m = EXIT_RE.search(line)
            if m:
                self.exit_status = int(m.group(1))
        if log:
            log.close()
        self._done.set()

    def send(self, line):
        """Type @line on the guest's console (needs console_input=True)."""
        try:
            self.proc.stdin.write((line + "\n").encode())
            self.proc.stdin.flush()
            return True
        except (OSError, ValueError, AttributeError):
            return False

    def wait_for_line(self, pattern, timeout):
        """Wait until a console line matches @pattern; return it or None."""
        rx = re.compile(pattern)
        deadline = time.time() + timeout
        seen = 0
        while time.time() < deadline:
            while seen < len(self.output):
                if rx.search(self.output[seen]):
                    return self.output[seen]
                seen += 1
            if self._done.is_set() and seen >= len(self.output):
                return None
            time.sleep(0.1)
        return None

    def wait(self, timeout):
        """Wait for QEMU to exit; kill it on timeout.  Return exit status of
        the guest script, or None if it never reported one."""
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        self._done.wait(5)
        return self.exit_status

    def boot_crash(self):
        """The kernel's crash line if it crashed while booting, before /init
        started the script (so before any htier code was loaded), else
        None."""
        for line in self.output:
            if START_MARK in line:
                return None
            if CRASH_RE.search(line):
                return line.strip()
        return None

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def run_guest(make, timeout, started=None):
    """Start the guest @make() returns and wait for it; return (guest,
    status).  A kernel that crashed while booting, before the script started
    — Linux 6.12 under QEMU TCG, about one boot in thirty: an int3 from the
    kernel's boot-time code patching (a static key flipped while another
    vCPU runs the patched code), untainted, before htier.ko is loaded — is
    booted once more, and says so; the first console log is kept as
    LOG.boot-crash.  @started(guest), if given, is called after each start
    (to drive the guest from the host)."""
    def boot():
        g = make().start()
        if started:
            started(g)
        return g

    g = boot()
    status = g.wait(timeout)
    crash = g.boot_crash()
    if crash:
        print("htiervm: the guest kernel crashed while booting, before the "
              "test ran (%s); booting once more" % crash, flush=True)
        if g.log_path and os.path.exists(g.log_path):
            os.replace(g.log_path, g.log_path + ".boot-crash")
        g = boot()
        status = g.wait(timeout)
    return g, status


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="boot a guest and run /htier/SCRIPT")
    r.add_argument("script")
    r.add_argument("--timeout", type=float, default=600)
    r.add_argument("--log")
    r.add_argument("--append", default="")
    r.add_argument("--no-build", action="store_true",
                   help="reuse the existing initramfs")
    r.add_argument("--fast-mb", type=int, default=512)
    r.add_argument("--slow-mb", type=int, default=512)
    r.add_argument("--cpu", default="max", help="QEMU -cpu model")
    r.add_argument("--kernel", choices=PINNED, help="guest kernel "
                   "(default $KVER, else %s)" % PINNED[0])
    a = ap.parse_args()
    if a.kernel:
        use_kernel(a.kernel)
    if not a.no_build:
        build_initramfs()
    g = Guest(run=a.script, append=a.append, log=a.log, echo=True,
              fast_mb=a.fast_mb, slow_mb=a.slow_mb, cpu=a.cpu).start()
    status = g.wait(a.timeout)
    if status is None:
        print("htiervm: guest did not finish %s within %ss" %
              (a.script, a.timeout), file=sys.stderr)
        return 124
    return status


if __name__ == "__main__":
    sys.exit(main())
