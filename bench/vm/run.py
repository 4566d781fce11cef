#!/usr/bin/python3
"""bench/vm: gups inside QEMU (TCG) guests under each placement mode.

For every workload (hotset, scattered, zipf; each with a hot-set shift
mid-run) and every mode:
  first-touch  numa_balancing=0, no module: pages stay where gups put them
  autonuma     numa_balancing=1 (Linux NUMA balancing)
  tiering      numa_balancing=2 (Linux memory tiering, from TPP) with node 1
               a lower memory tier via dax/kmem (guest booted with node 1
               soft-reserved; see guest/tiering_setup.sh)
  damon        numa_balancing=0, DAMON tiering through its sysfs interface:
               paddr ops, migrate_hot to node 0 and migrate_cold to node 1
               (guest/damon_setup.sh; Linux 6.11+, refused on a kernel
               without CONFIG_DAMON_SYSFS / CONFIG_DAMON_PADDR)
  htier        numa_balancing=0, htier.ko scoped to gups, quota max
boots a guest with the same sizes (node 0 = vCPUs + FAST_MB, node 1 =
SLOW_MB, CPU-less), runs guest/gups_run.sh, and collects gups' per-second
hot_on_fast / fast_share (its own move_pages(2) queries), the time to 90 %
of the hot pages on node 0 from the start and after the shift, and htierd's
CPU time (or kdamond's; kswapd0's in every mode).  Then guest/promote_rate.sh: promotion throughput of htier against
move_pages(2).  Writes OUT/vm.json, OUT/vm.md (tables), OUT/*.dat and
OUT/vm_<workload>.png (gnuplot), and every guest console to $BUILD/bench-logs/
(--name NAME: NAME.json, NAME.md, ... instead of vm.*).

The guest kernel is --kernel (a pinned one, guest-kmod/KERNELS; default the
first); MODE@KERNEL runs one mode on another pinned kernel in the same
invocation (e.g. htier@6.1), and --reps N repeats every run N times
(rounds of all runs, so host-load drift spreads over every mode alike).

    BUILD=build-bench bench/vm/run.py --out bench/results
    bench/vm/run.py --workloads hotset --modes htier --duration 30 --shift 15
    bench/vm/run.py --name vm612 --kernel 6.12 --no-promote \
        --modes damon,tiering,htier,htier@6.1 --reps 2
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "vm"))
import htiervm  # noqa: E402

MODES = ["first-touch", "autonuma", "tiering", "htier"]
KNOWN_MODES = MODES + ["damon"]
WORKLOADS = ["hotset", "scattered", "zipf"]


def kernel_name(k):
    """A pinned kernel named in full or by its short version ('6.12')."""
    for kver in htiervm.PINNED:
        if k in (kver, htiervm.short_kver(kver)):
            return kver
    raise SystemExit("run.py: kernel %r is not pinned (guest-kmod/KERNELS: "
                     "%s)" % (k, ", ".join(htiervm.PINNED)))


def kernel_config(kver):
    """{CONFIG_X: value} of a pinned guest kernel (empty if unknown)."""
    cfg = {}
    path = os.path.join(htiervm.TOP, ".cache", "guest-kernel", kver, "config")
    try:
        with open(path) as f:
            for ln in f:
                k, eq, v = ln.strip().partition("=")
                if eq and k.startswith("CONFIG_"):
                    cfg[k] = v
    except OSError:
        pass
    return cfg


def check_mode(mode, kver):
    """Refuse a mode the guest kernel cannot run, before booting anything."""
    if mode not in KNOWN_MODES:
        raise SystemExit("run.py: unknown mode %r (modes: %s)" %
                         (mode, ", ".join(KNOWN_MODES)))
    if mode == "damon":
        cfg = kernel_config(kver)
        missing = [k for k in ("CONFIG_DAMON_SYSFS", "CONFIG_DAMON_PADDR")
                   if cfg.get(k) != "y"]
        if cfg and missing:
            raise SystemExit(
                "run.py: mode damon needs DAMON's sysfs interface with "
                "physical-address operations (%s), which kernel %s does not "
                "have (its config: %s); DAMON's migrate_hot/migrate_cold "
                "actions need Linux 6.11+: run it on 6.12 (--kernel 6.12 or "
                "damon@6.12)" % (
                    ", ".join(k + "=y" for k in missing), kver,
                    "CONFIG_DAMON is not set" if "CONFIG_DAMON" not in cfg
                    else ", ".join("%s=%s" % (k, cfg.get(k, "unset"))
                                   for k in missing)))


def build_initramfs():
    """The test initramfs (of the kernel in use) plus the dax/kmem modules in
    /htier/dax/, decompressed (6.12's are .ko.xz; busybox insmod loads only
    plain .ko files)."""
    extra = {}
    tmp = tempfile.mkdtemp()
    try:
        for m in ("kmem", "dax_hmem"):
            found = subprocess.run(
                ["find", os.path.join(htiervm.GUEST_ROOT, "modules"),
                 "-name", m + ".ko*"], stdout=subprocess.PIPE,
                check=True).stdout.decode().split()
            if not found:
                raise SystemExit("run.py: %s.ko missing in %s" %
                                 (m, htiervm.GUEST_ROOT))
            src = found[0]
            for ext, tool in ((".xz", "xz"), (".zst", "zstd"), (".gz", "gzip")):
                if src.endswith(ext):
                    plain = os.path.join(tmp, m + ".ko")
                    with open(plain, "wb") as f:
                        subprocess.run([tool, "-dc", src], stdout=f,
                                       check=True)
                    src = plain
                    break
            extra["/htier/dax/%s.ko" % m] = src
        return htiervm.build_initramfs(
            htiervm.initramfs_path("bench-initramfs"), extra)
    finally:
        shutil.rmtree(tmp)


def kernel_args(mode, fast_mb, slow_mb):
    """nokaslr everywhere: with KASLR the kernel image lands at a random
    physical address, in node 0 on some boots and node 1 on others, and
    node 0's free memory varies by ~50 MiB from run to run."""
    args = "nokaslr"
    if mode == "tiering":
        # Node 1's whole range Soft Reserved, 2 MiB aligned (dax_hmem wants
        # PMD alignment); the last 2 MiB below QEMU's ACPI area removed so
        # node 1 has no boot memory at all (else it joins the DRAM tier).
        args += (" memmap=%dM%%%dM-1+0xefffffff memmap=2M%%%dM-1" %
                 (slow_mb - 2, fast_mb, fast_mb + slow_mb - 2))
    return args


def boot(initramfs, script, append, fast_mb, slow_mb, log, timeout):
    g = htiervm.Guest(run=script, initramfs=initramfs, append=append,
                      fast_mb=fast_mb, slow_mb=slow_mb, log=log).start()
    status = g.wait(timeout)
    return status, list(g.output)


def kv(line):
    return dict(re.findall(r"(\w+)=(\S+)", line))


def parse_run(lines, shift_at):
    r = {"samples": [], "rounds": [], "nodes": {}, "info": [], "errors": [],
         "vmstat": {}, "stats": {}, "damon": {}}
    for ln in lines:
        if "Oops:" in ln or "Kernel panic" in ln:
            r.setdefault("oops", ln.strip()[-160:])
        i = ln.find("BENCH")
        if i < 0:
            continue
        ln = ln[i:]
        tag, _, rest = ln.partition(" ")
        if tag == "BENCH":
            try:
                j = json.loads(rest)
            except ValueError:
                continue
            if j.get("type") == "sample":
                r["samples"].append(j)
            elif j.get("type") == "summary":
                r["summary"] = j
            elif j.get("type") == "config":
                r["config"] = j
        elif tag == "BENCH-ROUND":
            r["rounds"].append(kv(rest))
        elif tag == "BENCH-NODE":
            d = kv(rest)
            r["nodes"][d["node"]] = {"free_kb": int(d["free_kb"]),
                                     "total_kb": int(d["total_kb"])}
        elif tag == "BENCH-CPU":
            r["cpu"] = {k: float(v) for k, v in kv(rest).items()}
        elif tag == "BENCH-STAT":
            r["stats"].update({k: int(v) for k, v in kv(rest).items()
                               if v.isdigit()})
        elif tag == "BENCH-VMSTAT":
            k, _, v = rest.partition(" ")
            r["vmstat"][k] = int(v)
        elif tag == "BENCH-DAMON":
            k, _, v = rest.partition("=")
            r["damon"][k] = v
        elif tag == "BENCH-INFO":
            r["info"].append(rest)
        elif tag == "BENCH-ERROR":
            r["errors"].append(rest)
    s = r["samples"]
    r["t90_s"] = next((x["t"] for x in s if x["hot_on_fast"] >= 0.9), None)
    r["t90_after_shift_s"] = None
    if shift_at:
        after = [x for x in s if x["t"] > shift_at and x["shifted"]]
        hit = next((x["t"] for x in after if x["hot_on_fast"] >= 0.9), None)
        r["t90_after_shift_s"] = round(hit - shift_at, 2) if hit else None
    if s:
        r["mean_fast_share"] = sum(x["fast_share"] for x in s) / len(s)
        r["mean_hot_on_fast"] = sum(x["hot_on_fast"] for x in s) / len(s)
        r["mean_updates_per_s"] = sum(x["updates_per_s"] for x in s) / len(s)
        tail = s[-5:]
        r["final_hot_on_fast"] = sum(x["hot_on_fast"] for x in tail) / len(tail)
        r["final_fast_share"] = sum(x["fast_share"] for x in tail) / len(tail)
        pre = [x for x in s if shift_at and shift_at - 5 <= x["t"] <= shift_at]
        if pre:
            r["preshift_hot_on_fast"] = sum(x["hot_on_fast"] for x in pre) / len(pre)
    # The placement thread's CPU (htierd, kdamond): whole run, and the steady
    # state (the last 10 s of BENCH-ROUND samples); kswapd0's whole run.
    rd = [x for x in r["rounds"] if "ticks" in x and "t" in x]
    cpu = r.get("cpu", {})
    secs = cpu.get("seconds")
    for k, v in cpu.items():
        if k.endswith("_ticks") and secs:
            name = k[:-len("_ticks")]
            pct = 100.0 * v / cpu.get("hz", 100) / secs
            if name == "kswapd0":
                r["kswapd_cpu_pct_run"] = pct
            else:
                r["thread"] = name
                r["cpu_pct_run"] = pct
    if len(rd) >= 2:
        last = float(rd[-1]["t"])
        base = next((x for x in rd if float(x["t"]) >= last - 10), rd[0])
        dt = last - float(base["t"])
        if dt > 0 and base is not rd[-1]:
            r["cpu_pct_steady"] = 100.0 * (int(rd[-1]["ticks"]) -
                                           int(base["ticks"])) / 100 / dt
            r["steady_window_s"] = round(dt, 1)
    return r


def fmt(v, spec="%.2f", none="—"):
    return none if v is None else spec % v


def plot(out, wl, runs, shift_at, name="vm"):
    datfiles = []
    for mode, r in runs.items():
        # The first repetition that has samples.
        r = next((x for x in reps_of(r) if x["samples"]), r)
        dat = os.path.join(out, "%s_%s_%s.dat" % (name, wl, label_file(mode)))
        with open(dat, "w") as f:
            f.write("# t hot_on_fast fast_share updates_per_s\n")
            for x in r["samples"]:
                f.write("%.2f %.4f %.4f %.0f\n" % (x["t"], x["hot_on_fast"],
                                                   x["fast_share"],
                                                   x["updates_per_s"]))
        datfiles.append((mode, os.path.basename(dat)))
    png = "%s_%s.png" % (name, wl)
    gp = ["set terminal png size 900,500 noenhanced",
          "set output '%s'" % png,
          "set title 'gups %s in the QEMU guest%s: hot pages on node 0 "
          "(gups move_pages queries)'" % (wl, "" if name == "vm" else
                                          " (%s)" % name),
          "set xlabel 'seconds'", "set ylabel 'hot pages on fast node'",
          "set yrange [0:1.05]", "set key bottom right", "set grid"]
    if shift_at:
        gp.append("set arrow from %g,0 to %g,1.05 nohead dt 2 lc rgb 'gray'"
                  % (shift_at, shift_at))
        gp.append("set label 'hot-set shift' at %g,1.02" % (shift_at + 0.5))
    gp.append("plot " + ", ".join("'%s' using 1:2 with linespoints title '%s'"
                                  % (d, m) for m, d in datfiles))
    try:
        subprocess.run(["gnuplot"], input="\n".join(gp).encode(), cwd=out,
                       check=True)
        return png
    except (OSError, subprocess.CalledProcessError) as e:
        print("run.py: gnuplot failed: %s" % e, file=sys.stderr)
        return None


def plan_runs(modes, default_kver):
    """[(label, mode, kver, guest_args)] from --modes: MODE runs on the
    default kernel, MODE@KERNEL on that pinned kernel (label 'MODE@6.1'),
    and MODE+KEY=VALUE adds bench.KEY=VALUE to that run's guest command
    line (a variant: e.g. htier+cpu_permil=300)."""
    plan = []
    for m in [m for m in modes.split(",") if m]:
        spec, _, variant = m.partition("+")
        mode, at, k = spec.partition("@")
        kver = kernel_name(k) if at else default_kver
        check_mode(mode, kver)
        label = mode if kver == default_kver else "%s@%s" % (
            mode, htiervm.short_kver(kver))
        extra = ""
        if variant:
            label += "+" + variant
            extra = " ".join("bench." + kv for kv in variant.split("+"))
        plan.append((label, mode, kver, extra))
    return plan


def label_file(label):
    """A run label as a file name part ('htier@6.1' -> 'htier-6.1')."""
    return re.sub(r"[^A-Za-z0-9_.-]", "-", label)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(TOP, "bench", "results"))
    ap.add_argument("--name", default="vm",
                    help="results are OUT/NAME.json, NAME.md, NAME_*.png "
                    "(default vm)")
    ap.add_argument("--workloads", default=",".join(WORKLOADS))
    ap.add_argument("--modes", default=",".join(MODES),
                    help="comma-separated, of %s; MODE@KERNEL runs MODE on "
                    "another pinned kernel (e.g. htier@6.1), MODE+KEY=VALUE "
                    "with bench.KEY=VALUE on the guest command line (e.g. "
                    "htier+cpu_permil=300)" %
                    ", ".join(KNOWN_MODES))
    ap.add_argument("--kernel", help="guest kernel, pinned in "
                    "guest-kmod/KERNELS, in full or short (%s); default "
                    "$KVER, else the first" % ", ".join(
                        htiervm.short_kver(k) for k in htiervm.PINNED))
    ap.add_argument("--reps", type=int, default=1,
                    help="repeat every run N times (tables: median, "
                    "min-max)")
    ap.add_argument("--fast-mb", type=int, default=256)
    ap.add_argument("--slow-mb", type=int, default=896)
    ap.add_argument("--size", default="512M")
    ap.add_argument("--hot", default="64M")
    ap.add_argument("--duration", type=int, default=45)
    ap.add_argument("--shift", type=int, default=20)
    ap.add_argument("--promote-pages", type=int, default=16384)
    ap.add_argument("--no-promote", action="store_true")
    ap.add_argument("--guest-args", default="",
                    help="more guest kernel command line, e.g. "
                    "bench.damon_debug=1 or bench.damon_hot_min_acc=2 (see "
                    "guest/damon_setup.sh)")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--report-only", action="store_true",
                    help="rewrite NAME.md and the plots from OUT/NAME.json")
    ap.add_argument("--logs", default=os.path.join(htiervm.BUILD, "bench-logs"),
                    help="guest consoles go here (default $BUILD/bench-logs)")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    out_json = os.path.join(a.out, a.name + ".json")
    out_md = os.path.join(a.out, a.name + ".md")
    if a.report_only:
        with open(out_json) as f:
            res = json.load(f)
        for k in ("fast_mb", "slow_mb", "size", "hot", "duration", "shift",
                  "name"):
            if k in res["config"]:
                setattr(a, k, res["config"][k])
        for wl, runs in res["runs"].items():
            for r in runs.values():
                for x in reps_of(r):
                    if not x["samples"]:
                        x.pop("promoted_mib", None)
                        x.pop("demoted_mib", None)
            plot(a.out, wl, runs, a.shift, a.name)
        with open(out_md, "w") as f:
            f.write(markdown(res, a))
        return 0
    default_kver = kernel_name(a.kernel) if a.kernel else htiervm.KVER
    plan = plan_runs(a.modes, default_kver)
    workloads = [w for w in a.workloads.split(",") if w]
    os.makedirs(a.logs, exist_ok=True)
    initramfs = {}
    for kver in sorted({k for _, _, k, _ in plan} | {default_kver}):
        htiervm.use_kernel(kver)
        initramfs[kver] = (htiervm.initramfs_path("bench-initramfs")
                           if a.no_build else build_initramfs())
    htiervm.use_kernel(default_kver)
    t_start = time.time()
    res = {"config": dict(vars(a), kernel=default_kver,
                          kernels={label: k for label, _, k, _ in plan}),
           "runs": {wl: {} for wl in workloads}, "promote": None,
           "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
           "command": " ".join(["bench/vm/run.py"] + sys.argv[1:]),
           "load_start": load_avg()}
    timeout = a.duration + 120

    for rep in range(a.reps):
        # Every other round in reverse order, so that a drift in host load
        # falls on every mode alike.
        order = plan if rep % 2 == 0 else plan[::-1]
        for wl in workloads:
            for label, mode, kver, variant in order:
                htiervm.use_kernel(kver)
                append = ("bench.mode=%s bench.dur=%d bench.size=%s "
                          "bench.hot=%s bench.wmode=%s bench.shift=%d %s" %
                          (mode, a.duration, a.size, a.hot, wl, a.shift,
                           kernel_args(mode, a.fast_mb, a.slow_mb)))
                for more in (variant, a.guest_args):
                    if more:
                        append += " " + more
                log = os.path.join(a.logs, "%s_%s_%s%s.log" % (
                    a.name, wl, label_file(label),
                    "_r%d" % (rep + 1) if a.reps > 1 else ""))
                t0 = time.time()
                load0 = load_avg()
                status, lines = boot(initramfs[kver], "bench/gups_run.sh",
                                     append, a.fast_mb, a.slow_mb, log,
                                     timeout)
                r = parse_run(lines, a.shift)
                r.update(exit=status, wall_s=round(time.time() - t0, 1),
                         append=append, mode=mode, kernel=kver, rep=rep + 1,
                         load_start=load0, load_end=load_avg())
                r.update(moved_mib(r))
                first = res["runs"][wl].get(label)
                if first is None:
                    res["runs"][wl][label] = r
                else:
                    first.setdefault("more_reps", []).append(r)
                print("run.py: %-9s %-13s rep %d exit %s  t90 %s  "
                      "t90-after-shift %s  mean fast_share %s  %s cpu "
                      "steady %s%%  load %s  (%.0f s)" %
                      (wl, label, rep + 1, status, fmt(r["t90_s"], "%.0f"),
                       fmt(r["t90_after_shift_s"], "%.0f"),
                       fmt(r.get("mean_fast_share"), "%.3f"),
                       r.get("thread", "-"),
                       fmt(r.get("cpu_pct_steady"), "%.2f"),
                       fmt(load0, "%.1f"), r["wall_s"]), flush=True)
                for e in r["errors"]:
                    print("run.py:   guest error: %s" % e, flush=True)
                # What has run so far, in case the rest never does.
                res["wall_s"] = round(time.time() - t_start, 1)
                save(res, a, out_json, out_md)
    htiervm.use_kernel(default_kver)
    initramfs = initramfs[default_kver]

    if not a.no_promote:
        log = os.path.join(a.logs, "%s_promote.log" % a.name)
        status, lines = boot(initramfs, "bench/promote_rate.sh",
                             "bench.pages=%d nokaslr" % a.promote_pages,
                             a.fast_mb, a.slow_mb, log, 180)
        p = {"exit": status, "pages": a.promote_pages}
        stats = {}
        for ln in lines:
            i = ln.find("BENCH")
            if i < 0:
                continue
            tag, _, rest = ln[i:].partition(" ")
            if tag in ("BENCH-MOVE", "BENCH-MOVE-BUSY"):
                try:
                    p["move_busy" if tag.endswith("BUSY") else "move_idle"] = \
                        json.loads(rest)
                except ValueError:
                    pass
            elif tag == "BENCH-STAT":
                stats.update({k: int(v) for k, v in kv(rest).items()
                              if v.isdigit()})
        p["htier_stats"] = stats
        if stats.get("migrate_us"):
            p["htier_pages_per_s"] = stats.get("promoted_pages", 0) / (
                stats["migrate_us"] / 1e6)
        busy = p.get("move_busy", {}).get("pages_per_s")
        if busy and p.get("htier_pages_per_s"):
            p["ratio_vs_busy"] = p["htier_pages_per_s"] / busy
        idle = p.get("move_idle", {}).get("pages_per_s")
        if idle and p.get("htier_pages_per_s"):
            p["ratio_vs_idle"] = p["htier_pages_per_s"] / idle
        res["promote"] = p
        print("run.py: promote: move_pages idle %s, busy %s, htier %s pages/s;"
              " htier / busy = %s" %
              (fmt(idle, "%.0f"), fmt(busy, "%.0f"),
               fmt(p.get("htier_pages_per_s"), "%.0f"),
               fmt(p.get("ratio_vs_busy"), "%.2f")), flush=True)

    res["plots"] = {}
    for wl, runs in res["runs"].items():
        png = plot(a.out, wl, runs, a.shift, a.name)
        if png:
            res["plots"][wl] = png
    res["wall_s"] = round(time.time() - t_start, 1)
    res["load_end"] = load_avg()
    save(res, a, out_json, out_md)
    failed = [(wl, m, x["rep"]) for wl, rs in res["runs"].items()
              for m, r in rs.items() for x in [r] + r.get("more_reps", [])
              if x["exit"] != 0 or not x["samples"]]
    if failed:
        print("run.py: runs without results: %s" % failed, file=sys.stderr)
    return 0


def save(res, a, out_json, out_md):
    with open(out_json, "w") as f:
        json.dump(res, f, indent=1)
    with open(out_md, "w") as f:
        f.write(markdown(res, a))


def moved_mib(r):
    """What the mode moved between the nodes, in MiB, from its own counters:
    htier's stats, DAMON's schemes' sz_applied, Linux's /proc/vmstat."""
    st, vm, mib = r["stats"], r["vmstat"], 1 << 20
    if not r["samples"]:
        return {}
    if r["mode"] == "htier" and "promoted_pages" in st:
        return {"promoted_mib": st["promoted_pages"] * 4096 / mib,
                "demoted_mib": st.get("demoted_pages", 0) * 4096 / mib}
    if r["mode"] == "damon" and "s0_sz_applied" in st:
        return {"promoted_mib": st["s0_sz_applied"] / mib,
                "demoted_mib": st.get("s1_sz_applied", 0) / mib}
    if r["mode"] == "tiering":
        return {"promoted_mib": vm.get("pgpromote_success", 0) * 4096 / mib,
                "demoted_mib": sum(v for k, v in vm.items()
                                   if k.startswith("pgdemote_")) * 4096 / mib}
    if r["mode"] == "autonuma":
        return {"promoted_mib": vm.get("numa_pages_migrated", 0) * 4096 / mib,
                "demoted_mib": 0.0}
    return {"promoted_mib": 0.0, "demoted_mib": 0.0} if vm else {}


def load_avg():
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


def why_failed(x):
    """A short reason for a run without results, from its console."""
    if x.get("exit") is None:
        return "the guest never finished its script%s" % (
            " (guest kernel oops)" if x.get("oops") else "")
    return "exit %s" % x["exit"]


def reps_of(r):
    """Every repetition's record of one run label (the first one holds the
    others in more_reps)."""
    return [r] + r.get("more_reps", []) if r else []


def median_of(r, key):
    vals = [x.get(key) for x in reps_of(r)]
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def spread(xs, key, spec="%.2f", none="—"):
    """One metric over repetitions: the value, median (min–max), or each
    repetition's value where some have none."""
    vals = [x.get(key) for x in xs]
    if len(vals) == 1 or all(v is None for v in vals):
        return fmt(vals[0], spec, none)
    if any(v is None for v in vals):
        return " / ".join(fmt(v, spec, none) for v in vals)
    return "%s (%s–%s)" % (spec % statistics.median(vals), spec % min(vals),
                           spec % max(vals))


def damon_settings(res):
    """The DAMON configuration as the guest's sysfs held it (first damon
    run), so anyone can check what DAMON was given."""
    for rs in res["runs"].values():
        for r in rs.values():
            if r.get("mode") == "damon" and r.get("damon"):
                d = r["damon"]
                break
        else:
            continue
        break
    else:
        return []
    per = {}
    for k, v in d.items():
        m = re.match(r"kdamonds/(\d+)/contexts/0/(.*)", k)
        if m:
            per.setdefault(m.group(2), {})[m.group(1)] = v
    o = ["DAMON settings, read back from the guest's sysfs after setup "
         "(`/sys/kernel/mm/damon/admin/kdamonds/K/contexts/0/FILE`; kernel "
         "%s):\n" % htiervm.short_kver(r.get("kernel") or htiervm.KVER),
         "| FILE | kdamond 0: node 1, promotes | kdamond 1: node 0, demotes |",
         "|---|---|---|"]
    for f, vs in per.items():
        o.append("| `%s` | %s | %s |" % (f, vs.get("0", "—"), vs.get("1", "—")))
    o.append("")
    return o


def markdown(res, a):
    o = []
    o.append("Guest: node 0 = 2 vCPUs + %d MiB, node 1 = %d MiB CPU-less "
             "(QEMU TCG); gups --threads 1 --size %s --hot %s --weight 9 "
             "--bind-node 1 --duration %d --shift-at %d (every mode starts "
             "with the whole region on node 1).\n" %
             (a.fast_mb, a.slow_mb, a.size, a.hot, a.duration, a.shift))
    frees = []
    for wl, rs in res["runs"].items():
        for m, r in rs.items():
            for x in reps_of(r):
                if "0" in x["nodes"]:
                    frees.append((m, x["nodes"]["0"]["free_kb"] // 1024))
    if frees:
        seen = {}
        for m, v in frees:
            seen.setdefault(m, []).append(v)
        o.append("Node 0 free memory just before gups starts (MiB): " +
                 ", ".join("%s %d–%d" % (m, min(v), max(v))
                           for m, v in seen.items()) +
                 "; the %s region does not fit, the %s hot set does.\n" %
                 (a.size, a.hot))
    kernels = {r.get("kernel") for rs in res["runs"].values()
               for r in rs.values()}
    nreps = max([len(reps_of(r)) for rs in res["runs"].values()
                 for r in rs.values()] or [1])
    multi = len(kernels) > 1 or kernels - {None, htiervm.PINNED[0]}
    if nreps > 1:
        o.append("%d repetitions of every run; each cell is the median "
                 "(min–max) over them, or every repetition's value where one "
                 "never reached 90 %%.\n" % nreps)
    o.append("| workload | mode |%s t90 from start (s) | t90 after shift (s) "
             "| hot on fast before shift | hot on fast, last 5 s "
             "| mean fast-hit share | vs htier | mean updates/s "
             "| placement thread CPU, whole run / last 10 s (%% of a vCPU) "
             "| kswapd0 CPU, whole run (%%) | promoted / demoted (MiB) |" %
             (" kernel |" if multi else ""))
    o.append("|---|---|%s---|---|---|---|---|---|---|---|---|---|" %
             ("---|" if multi else ""))
    for wl, rs in res["runs"].items():
        ht = median_of(rs.get("htier", {}), "mean_fast_share")
        for m, r in rs.items():
            xs = reps_of(r)
            mf = median_of(r, "mean_fast_share")
            rel = "%.2f×" % (ht / mf) if ht and mf else "—"
            if m == "htier":
                rel = "1"
            cpu = "—"
            thread = r.get("thread") or ("htierd" if m == "htier" and
                                         "cpu_pct_run" in r else None)
            if thread:
                cpu = "%s %s / %s" % (thread, spread(xs, "cpu_pct_run"),
                                      spread(xs, "cpu_pct_steady"))
            bad = [x for x in xs if x["exit"] != 0 or not x["samples"]]
            note = "" if not bad else " (%s failed: %s)" % (
                "run" if len(xs) == 1 else ", ".join(
                    "rep %d" % x.get("rep", 1) for x in bad),
                "; ".join("; ".join(x["errors"]) or why_failed(x)
                          for x in bad))
            # Statistics over the runs that produced results.
            xs = [x for x in xs if x not in bad] or xs
            kcol = " %s |" % htiervm.short_kver(r.get("kernel") or
                                                htiervm.KVER) if multi else ""
            o.append("| %s | %s%s |%s %s | %s | %s | %s | %s | %s | %s | %s "
                     "| %s | %s |" % (
                         wl, m, note, kcol,
                         spread(xs, "t90_s", "%.0f", "never"),
                         spread(xs, "t90_after_shift_s", "%.0f", "never"),
                         spread(xs, "preshift_hot_on_fast", "%.3f"),
                         spread(xs, "final_hot_on_fast", "%.3f"),
                         spread(xs, "mean_fast_share", "%.3f"), rel,
                         spread(xs, "mean_updates_per_s", "%.0f"), cpu,
                         spread(xs, "kswapd_cpu_pct_run"),
                         "%s / %s" % (spread(xs, "promoted_mib", "%.0f"),
                                      spread(xs, "demoted_mib", "%.0f"))))
    o.append("")
    o.append("`vs htier` = htier's mean fast-hit share / this mode's "
             "(> 1: htier ahead). Placement thread: htierd (htier) or "
             "both kdamonds (damon), `utime + stime` from `/proc/PID/stat` over "
             "the run and over its last 10 s; Linux's NUMA balancing and "
             "tiering have no thread of their own (hint faults and "
             "promotion run in gups' own context, demotion in kswapd0). "
             "Promoted / demoted: htier's `promoted_pages` / "
             "`demoted_pages`, DAMON's `sz_applied` of the migrate_hot / "
             "migrate_cold schemes, Linux's `pgpromote_success` / "
             "`pgdemote_*` (`numa_pages_migrated` for autonuma) from "
             "/proc/vmstat.\n")
    o.extend(damon_settings(res))
    p = res.get("promote")
    if p:
        o.append("| promotion of %d pages node 1 → 0 | pages/s | htier / this |"
                 % p["pages"])
        o.append("|---|---|---|")
        h = p.get("htier_pages_per_s")
        for key, name in (("move_idle", "move_pages(2), pages idle"),
                          ("move_busy", "move_pages(2), pages being read "
                           "(--move-busy)")):
            v = p.get(key, {}).get("pages_per_s")
            o.append("| %s | %s | %s |" % (name, fmt(v, "%.0f"),
                                          fmt(h / v if h and v else None,
                                              "%.2f×")))
        o.append("| htier (promoted_pages / migrate_us) | %s | 1 |" %
                 fmt(h, "%.0f"))
        o.append("")
        o.append("htier stats of that run: %s\n" % ", ".join(
            "%s=%s" % kvp for kvp in sorted(p.get("htier_stats", {}).items())))
    return "\n".join(o) + "\n"


if __name__ == "__main__":
    sys.exit(main())
