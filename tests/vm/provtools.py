#!/usr/bin/python3
"""Host-side helpers shared by the provisioner end-to-end test
(e2e_provisioner.py) and the demo (demo.py): a small QMP client, the
provisioner's status socket, the guest's HTIER-STAT console lines
(tests/vm/guest/e2e_guest.sh), and running htier-provisiond."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.request

from htiervm import die_with_parent

MiB = 1 << 20


class Qmp:
    """A minimal QMP client: greeting, qmp_capabilities, commands with ids;
    events in between are skipped.  Raises OSError/ValueError on trouble."""

    def __init__(self, path, timeout=5.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""
        self.next_id = 0
        greeting = self._read()
        if "QMP" not in greeting:
            raise ValueError("no QMP greeting: %r" % greeting)
        self.execute("qmp_capabilities")

    def _read(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise OSError("QMP connection closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def execute(self, cmd, **args):
        self.next_id += 1
        msg = {"execute": cmd, "id": self.next_id}
        if args:
            msg["arguments"] = args
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            r = self._read()
            if r.get("id") != self.next_id:
                continue  # an event
            if "error" in r:
                raise ValueError("%s: %s" % (cmd, r["error"].get("desc")))
            return r.get("return")

    def qom_get(self, dev, prop):
        return self.execute("qom-get", path="/machine/peripheral/" + dev,
                            property=prop)

    def device(self, dev):
        """(size, requested-size) of a virtio-mem device, bytes."""
        return (int(self.qom_get(dev, "size")),
                int(self.qom_get(dev, "requested-size")))

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def wait_for_socket(path, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if os.path.exists(path):
            return True
        time.sleep(0.1)
    return False


def fetch_status(path, timeout=2.0):
    """The provisioner's status document (see host-provisioner/README.md),
    or None when the daemon does not answer."""
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(path)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        s.close()
        return json.loads(data)
    except (OSError, ValueError):
        return None


def free_loopback_port():
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def fetch_metrics(port, timeout=2.0):
    """The body of http://127.0.0.1:PORT/metrics, or None."""
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port,
                                    timeout=timeout) as r:
            return r.read().decode()
    except (OSError, ValueError):
        return None


def parse_exposition(text):
    """Samples of a Prometheus text exposition: {"name{labels}": value}."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        key, _, value = line.rpartition(" ")
        out[key] = float(value)
    return out


def promtool_check(text):
    """(exit status, output) of `promtool check metrics` on text, or None
    without promtool (Debian's prometheus package)."""
    if not shutil.which("promtool"):
        return None
    r = subprocess.run(["promtool", "check", "metrics"], input=text.encode(),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return r.returncode, r.stdout.decode()


STAT_RE = re.compile(r"HTIER-STAT (.*)$")


def parse_stat(line):
    """One HTIER-STAT console line as a dict of ints (quota 'max' -> None)."""
    m = STAT_RE.search(line)
    if not m:
        return None
    out = {}
    for kv in m.group(1).split():
        k, _, v = kv.partition("=")
        if k == "up":
            out[k] = float(v)
        elif v == "max":
            out[k] = None
        else:
            try:
                out[k] = int(v)
            except ValueError:
                out[k] = v
    return out


def guest_stats(guest, since=0):
    """[(index, stat dict)] of a Guest's HTIER-STAT lines from @since."""
    res = []
    out = guest.output
    for i in range(since, len(out)):
        st = parse_stat(out[i])
        if st is not None:
            res.append((i, st))
    return res


def last_stat(guest):
    out = guest.output
    for i in range(len(out) - 1, -1, -1):
        st = parse_stat(out[i])
        if st is not None:
            return st
    return None


class Provisioner:
    """htier-provisiond as a child process, logging to a file."""

    def __init__(self, binary, config_path, log_path, verbose=True):
        self.binary, self.config, self.log_path = binary, config_path, log_path
        self.verbose = verbose
        self.proc = None

    def start(self):
        log = open(self.log_path, "a")
        args = [self.binary, "--config", self.config]
        if self.verbose:
            args.append("-v")
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                     stdout=log, stderr=subprocess.STDOUT,
                                     preexec_fn=die_with_parent)
        log.close()
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=10):
        """SIGTERM, then SIGKILL; returns the exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def human(n):
    """Bytes as a short human string (MiB resolution)."""
    if n is None:
        return "max"
    if n >= 1 << 30:
        return "%.2fG" % (n / (1 << 30))
    return "%dM" % round(n / MiB)
