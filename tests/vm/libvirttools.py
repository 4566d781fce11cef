#!/usr/bin/python3
"""A private libvirtd for tests, and the test guests as libvirt domains.

Libvirtd runs as a plain process (no systemd): `virtlogd` and `libvirtd`,
each in a mount namespace of its own (unshare -m) where /etc/libvirt,
/var/lib/libvirt, /run/libvirt, /var/log/libvirt and /var/cache/libvirt
are directories under the test's temporary directory, so that its config,
state, logs and QEMU's sockets are the test's alone and nothing of the
host's libvirt (if any) is seen or touched.  Its socket is in the temporary
directory too: URI `qemu:///system?socket=TMP/sock/libvirt-sock`.  QEMU
runs as root (qemu.conf user/group root, no security driver).  A libvirtd
killed and started again finds its domains (and their QEMUs, which outlive
it) through the same directories.

LibvirtGuest is a tests/vm/htiervm.py Guest defined from domain XML: the
same kernel, initramfs and command line, node 0 with the vCPU and the fast
memory, a CPU-less node 1, virtio-mem devices on each, the org.htier.0
channel, and the serial console on a unix socket (read and written like
QEMU's stdio).  Its memory devices are read through libvirt (Libvirt, with
ctypes over libvirt.so.0: the sampler asks every 0.5 s, where a virsh
process each time would cost a busy 2-core host too much).
"""
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import xml.etree.ElementTree as ET

import htiervm

MiB = 1 << 20

# The directories libvirtd (privileged) uses, each replaced by TMP/<key>.
LIBVIRT_DIRS = {"etc": "/etc/libvirt", "lib": "/var/lib/libvirt",
                "run": "/run/libvirt", "log": "/var/log/libvirt",
                "cache": "/var/cache/libvirt"}


def missing_prerequisite():
    """Why a private libvirtd cannot run here, or None."""
    if os.geteuid() != 0:
        return "not root (libvirtd's qemu:///system driver runs as root)"
    for prog in ("libvirtd", "virtlogd", "virsh", "unshare",
                 "qemu-system-x86_64"):
        if not shutil.which(prog):
            return "%s not installed (make deps)" % prog
    try:
        import pwd
        pwd.getpwnam("libvirt-qemu")
    except KeyError:
        return "no libvirt-qemu user, which libvirtd wants (make deps)"
    r = subprocess.run(["unshare", "-m", "true"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    if r.returncode:
        return "unshare -m fails: no mount namespaces here"
    return None


class Libvirtd:
    """virtlogd and libvirtd under @root (a temporary directory); @cache: a
    directory kept between runs for libvirt's QEMU capabilities cache
    (probing QEMU takes ~10 s on a busy host; libvirt revalidates it
    against the binaries)."""

    def __init__(self, root, logdir, cache=None):
        self.root = root
        self.logdir = logdir
        self.dirs = {k: os.path.join(root, k) for k in LIBVIRT_DIRS}
        if cache:
            self.dirs["cache"] = cache
        self.sock_dir = os.path.join(root, "sock")
        self.uri = "qemu:///system?socket=%s/libvirt-sock" % self.sock_dir
        self.libvirtd = self.virtlogd = None
        self.starts = 0
        for d in list(self.dirs.values()) + [self.sock_dir]:
            os.makedirs(d, exist_ok=True)
        etc = self.dirs["etc"]
        with open(os.path.join(etc, "libvirtd.conf"), "w") as f:
            f.write('unix_sock_dir = "%s"\n' % self.sock_dir +
                    'unix_sock_rw_perms = "0700"\n'
                    'auth_unix_rw = "none"\nauth_unix_ro = "none"\n'
                    'log_outputs = "3:file:%s/libvirtd.log"\n' % logdir)
        with open(os.path.join(etc, "qemu.conf"), "w") as f:
            f.write('user = "root"\ngroup = "root"\n'
                    'security_driver = "none"\n')
        with open(os.path.join(etc, "virtlogd.conf"), "w") as f:
            f.write('log_outputs = "3:file:%s/virtlogd.log"\n' % logdir)

    def _namespaced(self, argv, out):
        mounts = "".join("mount --bind '%s' '%s' && " % (self.dirs[k], path)
                         for k, path in LIBVIRT_DIRS.items())
        script = "mount --make-rprivate / && %sexec \"$@\"" % mounts
        for path in LIBVIRT_DIRS.values():
            os.makedirs(path, exist_ok=True)  # the mount points
        log = open(out, "a")
        try:
            return subprocess.Popen(
                ["unshare", "-m", "sh", "-c", script, "sh"] + argv,
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                preexec_fn=htiervm.die_with_parent)
        finally:
            log.close()

    def start(self, timeout=90):
        """Starts virtlogd (once) and libvirtd; waits until it answers.
        Returns the seconds it took."""
        t0 = time.time()
        etc = self.dirs["etc"]
        if self.virtlogd is None or self.virtlogd.poll() is not None:
            self.virtlogd = self._namespaced(
                ["virtlogd", "--config", os.path.join(etc, "virtlogd.conf"),
                 "--pid-file", os.path.join(self.root, "virtlogd.pid")],
                os.path.join(self.logdir, "virtlogd.out"))
        sock = os.path.join(self.sock_dir, "libvirt-sock")
        if os.path.exists(sock):
            os.unlink(sock)  # a killed libvirtd's: not an answer
        self.libvirtd = self._namespaced(
            ["libvirtd", "--config", os.path.join(etc, "libvirtd.conf"),
             "--pid-file", os.path.join(self.root, "libvirtd.pid")],
            os.path.join(self.logdir, "libvirtd.out"))
        self.starts += 1
        deadline = t0 + timeout
        while time.time() < deadline:
            if self.libvirtd.poll() is not None:
                raise RuntimeError("libvirtd exited with %s (see %s)" % (
                    self.libvirtd.returncode, self.logdir))
            if os.path.exists(sock) and self.virsh("version").returncode == 0:
                return time.time() - t0
            time.sleep(0.2)
        raise RuntimeError("libvirtd did not answer within %ds" % timeout)

    def kill(self):
        """SIGKILL libvirtd (its QEMUs run on)."""
        if self.libvirtd and self.libvirtd.poll() is None:
            self.libvirtd.kill()
            self.libvirtd.wait()

    def virsh(self, *args, check=False, timeout=60):
        return subprocess.run(["virsh", "-q", "-c", self.uri] + list(args),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, check=check, timeout=timeout)

    def qemu_pid(self, domain):
        try:
            with open(os.path.join(self.dirs["run"], "qemu",
                                   domain + ".pid")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def stop_all(self, domains):
        """Kills every process it started: the domains' QEMUs (by their
        pid files), libvirtd, virtlogd."""
        for d in domains:
            pid = self.qemu_pid(d)
            if pid:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        self.kill()
        if self.virtlogd and self.virtlogd.poll() is None:
            self.virtlogd.kill()
            self.virtlogd.wait()


class Libvirt:
    """The few libvirt calls the sampler makes, through ctypes: a domain's
    live XML.  Errors are values (None); libvirt prints nothing."""

    _lib = None
    _silence = None

    def __init__(self, uri):
        if Libvirt._lib is None:
            lib = ctypes.CDLL("libvirt.so.0")
            lib.virConnectOpen.restype = ctypes.c_void_p
            lib.virConnectOpen.argtypes = [ctypes.c_char_p]
            lib.virConnectClose.argtypes = [ctypes.c_void_p]
            lib.virDomainLookupByName.restype = ctypes.c_void_p
            lib.virDomainLookupByName.argtypes = [ctypes.c_void_p,
                                                  ctypes.c_char_p]
            lib.virDomainFree.argtypes = [ctypes.c_void_p]
            lib.virDomainGetXMLDesc.restype = ctypes.c_void_p
            lib.virDomainGetXMLDesc.argtypes = [ctypes.c_void_p, ctypes.c_uint]
            handler = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)
            Libvirt._silence = handler(lambda *_: None)
            lib.virSetErrorFunc(None, Libvirt._silence)
            Libvirt._libc = ctypes.CDLL(None)
            Libvirt._libc.free.argtypes = [ctypes.c_void_p]
            Libvirt._lib = lib
        self.uri = uri.encode()
        self.conn = None

    def close(self):
        if self.conn:
            Libvirt._lib.virConnectClose(self.conn)
        self.conn = None

    def xml(self, domain):
        """The live XML of @domain, or None (libvirtd away, no domain)."""
        lib = Libvirt._lib
        if not self.conn:
            self.conn = lib.virConnectOpen(self.uri)
            if not self.conn:
                return None
        dom = lib.virDomainLookupByName(self.conn, domain.encode())
        if not dom:
            self.close()  # perhaps a dead connection: open a new one
            return None
        raw = lib.virDomainGetXMLDesc(dom, 0)
        lib.virDomainFree(dom)
        if not raw:
            self.close()
            return None
        text = ctypes.string_at(raw).decode()
        Libvirt._libc.free(raw)
        return text


def _kib(el):
    unit = el.get("unit", "KiB")
    scale = {"KiB": 1024, "k": 1024, "b": 1, "bytes": 1, "MiB": MiB,
             "M": MiB, "GiB": 1 << 30, "G": 1 << 30}[unit]
    return int(el.text) * scale


def virtio_mem_devices(xml):
    """{node: (current bytes, requested bytes)} of a domain's virtio-mem
    devices, read from its live XML."""
    out = {}
    for mem in ET.fromstring(xml).iter("memory"):
        if mem.get("model") != "virtio-mem":
            continue
        t = mem.find("target")
        cur = t.find("current")
        out[int(t.find("node").text)] = (
            _kib(cur) if cur is not None else 0, _kib(t.find("requested")))
    return out


def domain_xml(name, initramfs, cmdline, channel, console, fast_mb, slow_mb,
               fast_vmem_mb, fast_vmem_requested_mb, slow_vmem_mb,
               slow_vmem_requested_mb):
    """A TCG domain like htiervm.Guest's QEMU command line: direct kernel
    boot, node 0 (the vCPU, fast memory, a virtio-mem device) and a
    CPU-less node 1 (slow memory, a virtio-mem device), the org.htier.0
    channel, the serial console on a unix socket."""
    def vmem(node, size, requested):
        return ("<memory model='virtio-mem'><target>"
                "<size unit='MiB'>%d</size><node>%d</node>"
                "<block unit='MiB'>2</block>"
                "<requested unit='MiB'>%d</requested></target></memory>"
                % (size, node, requested))
    boot = fast_mb + slow_mb
    return """<domain type='qemu'>
  <name>{name}</name>
  <maxMemory slots='2' unit='MiB'>{maxmem}</maxMemory>
  <memory unit='MiB'>{total}</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <kernel>{kernel}</kernel>
    <initrd>{initrd}</initrd>
    <cmdline>{cmdline}</cmdline>
  </os>
  <features><acpi/></features>
  <cpu mode='maximum' check='none'>
    <numa>
      <cell id='0' cpus='0' memory='{fast}' unit='MiB'/>
      <cell id='1' memory='{slow}' unit='MiB'/>
    </numa>
  </cpu>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
    {fast_vmem}
    {slow_vmem}
    <channel type='unix'>
      <source mode='bind' path='{channel}'/>
      <target type='virtio' name='org.htier.0'/>
    </channel>
    <serial type='unix'>
      <source mode='bind' path='{console}'/>
      <target port='0'/>
    </serial>
  </devices>
</domain>
""".format(name=name, maxmem=boot + fast_vmem_mb + slow_vmem_mb,
           total=boot + fast_vmem_mb + slow_vmem_mb, fast=fast_mb,
           slow=slow_mb, kernel=os.path.join(htiervm.GUEST_ROOT, "vmlinuz"),
           initrd=initramfs, cmdline=cmdline, channel=channel,
           console=console,
           fast_vmem=vmem(0, fast_vmem_mb, fast_vmem_requested_mb),
           slow_vmem=vmem(1, slow_vmem_mb, slow_vmem_requested_mb))


class LibvirtGuest(htiervm.Guest):
    """A test guest run by libvirtd as @domain: defined from domain_xml(),
    started paused, its console socket connected, then resumed (so that no
    line of the boot is missed)."""

    def __init__(self, libvirtd, domain, tmp, **kw):
        super().__init__(**kw)
        self.libvirtd = libvirtd
        self.domain = domain
        self.channel = os.path.join(tmp, domain + ".sock")
        self.console = os.path.join(tmp, domain + ".console")
        self.sock = None

    def xml(self):
        return domain_xml(
            self.domain, self.initramfs,
            htiervm.kernel_cmdline(self.run_script, self.append),
            self.channel, self.console, self.fast_mb, self.slow_mb,
            self.fast_vmem_mb, self.fast_vmem_requested_mb, self.slow_vmem_mb,
            self.slow_vmem_requested_mb)

    def start(self):
        path = os.path.join(os.path.dirname(self.console),
                            self.domain + ".xml")
        with open(path, "w") as f:
            f.write(self.xml())
        v = self.libvirtd
        for args in (("define", path), ("start", self.domain, "--paused")):
            r = v.virsh(*args)
            if r.returncode:
                raise RuntimeError("virsh %s: %s" % (" ".join(args), r.stdout))
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.console)
        self._reader = threading.Thread(
            target=self._read, args=(self.sock.makefile("rb"),), daemon=True)
        self._reader.start()
        r = v.virsh("resume", self.domain)
        if r.returncode:
            raise RuntimeError("virsh resume: %s" % r.stdout)
        return self

    def send(self, line):
        try:
            self.sock.sendall((line + "\n").encode())
            return True
        except (OSError, AttributeError):
            return False

    def kill(self):
        pid = self.libvirtd.qemu_pid(self.domain)
        if pid:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        if self.sock:
            self.sock.close()
