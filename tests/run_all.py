#!/usr/bin/python3
"""Run every htier test and end with the line "N passed, N failed, N skipped".

Suites:
  unit  - CTest (GoogleTest units of the core, the provisioner, the tools,
          and the provisioner's tests against real paused QEMU processes)
  vm    - the kselftests inside a QEMU guest (tests/selftests/htier), and
          the end-to-end tests in tests/vm/e2e_*.py (real guests, QMP or
          a libvirtd of the test's own, virtio-mem, the agent and the
          provisioner), on every pinned guest
          kernel ($KVERS, guest-kmod/KERNELS): test names start with the
          kernel ("6.12 abi_test: ...").  E2E_ONE_KERNEL lists the e2e tests
          that run on the first kernel only.
  pkg   - tests/pkg/packages.py: make deb, lintian, systemd-analyze verify,
          sd_notify, dkms build for every pinned kernel, and the packages
          unpacked into a QEMU guest
Exit status is non-zero on any failure or if a suite could not run.
"""
import argparse
import glob
import os
import re
import subprocess
import sys
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BUILD = os.environ.get("BUILD", os.path.join(TOP, "build"))
sys.path.insert(0, os.path.join(TOP, "tests", "vm"))


class Tally:
    def __init__(self):
        self.passed = self.failed = self.skipped = 0
        self.failures = []

    def add(self, name, status):
        if status == "pass":
            self.passed += 1
        elif status == "skip":
            self.skipped += 1
        else:
            self.failed += 1
            self.failures.append(name)


def run_unit(t):
    print("== unit tests (ctest)", flush=True)
    junit = os.path.join(BUILD, "ctest-junit.xml")
    r = subprocess.run(["ctest", "--test-dir", BUILD, "--output-on-failure",
                        "-j2", "--timeout", "300", "--output-junit", junit],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    print(r.stdout, flush=True)
    found = False
    for m in re.finditer(r"^\s*\d+/\d+ Test\s+#\d+: (\S+) \.+\s*(\*\*\*)?(\w+)",
                         r.stdout, re.M):
        found = True
        name, status = m.group(1), m.group(3)
        if status == "Passed":
            t.add(name, "pass")
        elif status in ("Skipped", "Not"):
            t.add(name, "skip")
        else:
            t.add(name, "fail")
    if r.returncode != 0 and not t.failures:
        t.add("ctest", "fail")
    if not found:
        t.add("ctest (no tests found)", "fail")


TAP_LINE = re.compile(r"^(not ok|ok) \d+ (.*)$")


# The provisioner's e2e tests exercise the host side: one kernel is enough.
E2E_ONE_KERNEL = ("e2e_provisioner.py", "e2e_libvirt.py")


def parse_tap(lines, t, prefix=""):
    """Count TAP results between the guest's HTIER-TAP markers; @prefix
    goes before every test name."""
    suite = None
    ended = set()
    for line in lines:
        line = line.strip()
        if line.startswith("HTIER-TAP-BEGIN "):
            suite = line.split()[1]
            continue
        if line.startswith("HTIER-TAP-END "):
            parts = line.split()
            ended.add(parts[1])
            if len(parts) > 2 and parts[2] not in ("0", "4") and \
                    not any(f.startswith(prefix + parts[1] + ":")
                            for f in t.failures):
                t.add(prefix + parts[1] + ": exit " + parts[2], "fail")
            suite = None
            continue
        m = TAP_LINE.match(line)
        if not m or not suite:
            continue
        name = prefix + suite + ": " + m.group(2)
        if "# SKIP" in line:
            t.add(name, "skip")
        elif m.group(1) == "ok":
            t.add(name, "pass")
        else:
            t.add(name, "fail")
    return ended


def run_selftests(t, prefix):
    import htiervm
    print("== kselftests in a QEMU guest, Linux %s" % htiervm.KVER, flush=True)
    for f in (htiervm.KMOD, os.path.join(htiervm.GUEST_ROOT, "vmlinuz")):
        if not os.path.exists(f):
            t.add(prefix + "selftests: %s missing (make; make deps)" % f, "fail")
            return
    t0 = time.time()
    htiervm.build_initramfs()
    log = os.path.join(BUILD, "vm", "selftests-%s.log" % htiervm.KVER)
    g, status = htiervm.run_guest(
        lambda: htiervm.Guest(run="tests/run_selftests.sh", log=log, echo=True),
        1200)
    ended = parse_tap(g.output, t, prefix)
    for s in ("abi_test", "sampler_test", "tiering_test", "stall_test", "cost_test",
              "tools_test", "scope_test", "freeze_test", "rmmod_test",
              "pebs_sw_test"):
        if s not in ended:
            t.add(prefix + s + ": did not finish (guest status %s, log %s)" %
                  (status, log), "fail")
    if status is None:
        t.add(prefix + "selftests guest: no exit status (timeout or crash)",
              "fail")
    print("   (selftests on %s: %.0fs)" % (htiervm.KVER, time.time() - t0),
          flush=True)


def run_e2e(t, prefix, first):
    for path in sorted(glob.glob(os.path.join(TOP, "tests", "vm", "e2e_*.py"))):
        name = os.path.basename(path)
        if not first and name in E2E_ONE_KERNEL:
            continue
        print("== %s%s" % (prefix, name), flush=True)
        t0 = time.time()
        r = subprocess.run([sys.executable, path], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=900)
        print(r.stdout, flush=True)
        parse_tap(["HTIER-TAP-BEGIN " + name] + r.stdout.splitlines()
                  + ["HTIER-TAP-END %s %d" % (name, r.returncode)], t, prefix)
        print("   (%s%s: %.0fs)" % (prefix, name, time.time() - t0), flush=True)


def run_vm(t):
    import htiervm
    for i, kver in enumerate(htiervm.KVERS):
        htiervm.use_kernel(kver)
        prefix = htiervm.short_kver(kver) + " "
        run_selftests(t, prefix)
        run_e2e(t, prefix, i == 0)
    htiervm.use_kernel(htiervm.KVERS[0])


def run_packages(t):
    path = os.path.join(TOP, "tests", "pkg", "packages.py")
    print("== packages.py", flush=True)
    t0 = time.time()
    r = subprocess.run([sys.executable, path], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=1200)
    print(r.stdout, flush=True)
    parse_tap(["HTIER-TAP-BEGIN packages.py"] + r.stdout.splitlines()
              + ["HTIER-TAP-END packages.py %d" % r.returncode], t)
    print("   (packages.py: %.0fs)" % (time.time() - t0), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--unit-only", action="store_true")
    ap.add_argument("--vm-only", action="store_true")
    ap.add_argument("--pkg-only", action="store_true",
                    help="only the packaging tests (tests/pkg)")
    a = ap.parse_args()
    t = Tally()
    t0 = time.time()
    if a.pkg_only:
        run_packages(t)
    else:
        if not a.vm_only:
            run_unit(t)
        if not a.unit_only:
            run_vm(t)
            run_packages(t)
    print("== %.0fs" % (time.time() - t0))
    for f in t.failures:
        print("FAILED: " + f)
    print("%d passed, %d failed, %d skipped" % (t.passed, t.failed, t.skipped))
    return 1 if t.failed else 0


if __name__ == "__main__":
    sys.exit(main())
