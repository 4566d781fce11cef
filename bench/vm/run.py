#!/usr/bin/python3
"""bench/vm: gups inside QEMU (TCG) guests under each placement mode.

For every workload (hotset, scattered, zipf; each with a hot-set shift
mid-run) and every mode:
  first-touch  numa_balancing=0, no module: pages stay where gups put them
  autonuma     numa_balancing=1 (Linux NUMA balancing)
  tiering      numa_balancing=2 (Linux memory tiering, from TPP) with node 1
               a lower memory tier via dax/kmem (guest booted with node 1
               soft-reserved; see guest/tiering_setup.sh)
  htier        numa_balancing=0, htier.ko scoped to gups, quota max
boots a guest with the same sizes (node 0 = vCPUs + FAST_MB, node 1 =
SLOW_MB, CPU-less), runs guest/gups_run.sh, and collects gups' per-second
hot_on_fast / fast_share (its own move_pages(2) queries), the time to 90 %
of the hot pages on node 0 from the start and after the shift, and htierd's
CPU time.  Then guest/promote_rate.sh: promotion throughput of htier against
move_pages(2).  Writes OUT/vm.json, OUT/vm.md (tables), OUT/*.dat and
OUT/vm_<workload>.png (gnuplot), and every guest console to $BUILD/bench-logs/.

    BUILD=build-bench bench/vm/run.py --out bench/results
    bench/vm/run.py --workloads hotset --modes htier --duration 30 --shift 15
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "vm"))
import htiervm  # noqa: E402

MODES = ["first-touch", "autonuma", "tiering", "htier"]
WORKLOADS = ["hotset", "scattered", "zipf"]


def build_initramfs():
    """The test initramfs plus the dax/kmem modules in /htier/dax/."""
    extra = {}
    for m in ("kmem", "dax_hmem"):
        found = subprocess.run(
            ["find", os.path.join(htiervm.GUEST_ROOT, "modules"),
             "-name", m + ".ko*"], stdout=subprocess.PIPE,
            check=True).stdout.decode().split()
        if not found:
            raise SystemExit("run.py: %s.ko missing in %s" %
                             (m, htiervm.GUEST_ROOT))
        extra["/htier/dax/%s.ko" % m] = found[0]
    return htiervm.build_initramfs(
        htiervm.initramfs_path("bench-initramfs"), extra)


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
         "vmstat": {}, "stats": {}}
    for ln in lines:
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
    # htierd CPU: whole run, and the steady state (the last 10 s of rounds).
    rd = [x for x in r["rounds"] if "ticks" in x and "t" in x]
    if "cpu" in r and r["cpu"].get("seconds"):
        r["cpu_pct_run"] = 100.0 * r["cpu"]["htierd_ticks"] / 100 / r["cpu"]["seconds"]
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


def plot(out, wl, runs, shift_at):
    datfiles = []
    for mode, r in runs.items():
        dat = os.path.join(out, "vm_%s_%s.dat" % (wl, mode))
        with open(dat, "w") as f:
            f.write("# t hot_on_fast fast_share updates_per_s\n")
            for x in r["samples"]:
                f.write("%.2f %.4f %.4f %.0f\n" % (x["t"], x["hot_on_fast"],
                                                   x["fast_share"],
                                                   x["updates_per_s"]))
        datfiles.append((mode, os.path.basename(dat)))
    png = "vm_%s.png" % wl
    gp = ["set terminal png size 900,500 noenhanced",
          "set output '%s'" % png,
          "set title 'gups %s in the QEMU guest: hot pages on node 0 "
          "(gups move_pages queries)'" % wl,
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


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(TOP, "bench", "results"))
    ap.add_argument("--workloads", default=",".join(WORKLOADS))
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--fast-mb", type=int, default=256)
    ap.add_argument("--slow-mb", type=int, default=896)
    ap.add_argument("--size", default="512M")
    ap.add_argument("--hot", default="64M")
    ap.add_argument("--duration", type=int, default=45)
    ap.add_argument("--shift", type=int, default=20)
    ap.add_argument("--promote-pages", type=int, default=16384)
    ap.add_argument("--no-promote", action="store_true")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--report-only", action="store_true",
                    help="rewrite vm.md and the plots from OUT/vm.json")
    ap.add_argument("--logs", default=os.path.join(htiervm.BUILD, "bench-logs"),
                    help="guest consoles go here (default $BUILD/bench-logs)")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    if a.report_only:
        with open(os.path.join(a.out, "vm.json")) as f:
            res = json.load(f)
        for k in ("fast_mb", "slow_mb", "size", "hot", "duration", "shift"):
            setattr(a, k, res["config"][k])
        for wl, runs in res["runs"].items():
            plot(a.out, wl, runs, a.shift)
        with open(os.path.join(a.out, "vm.md"), "w") as f:
            f.write(markdown(res, a))
        return 0
    os.makedirs(a.logs, exist_ok=True)
    initramfs = (htiervm.initramfs_path("bench-initramfs")
                 if a.no_build else build_initramfs())
    t_start = time.time()
    res = {"config": vars(a), "runs": {}, "promote": None}
    timeout = a.duration + 120

    for wl in [w for w in a.workloads.split(",") if w]:
        res["runs"][wl] = {}
        for mode in [m for m in a.modes.split(",") if m]:
            append = ("bench.mode=%s bench.dur=%d bench.size=%s bench.hot=%s "
                      "bench.wmode=%s bench.shift=%d %s" %
                      (mode, a.duration, a.size, a.hot, wl, a.shift,
                       kernel_args(mode, a.fast_mb, a.slow_mb)))
            log = os.path.join(a.logs, "vm_%s_%s.log" % (wl, mode))
            t0 = time.time()
            status, lines = boot(initramfs, "bench/gups_run.sh", append,
                                 a.fast_mb, a.slow_mb, log, timeout)
            r = parse_run(lines, a.shift)
            r["exit"] = status
            r["wall_s"] = round(time.time() - t0, 1)
            r["append"] = append
            res["runs"][wl][mode] = r
            print("run.py: %-9s %-11s exit %s  t90 %s  t90-after-shift %s  "
                  "mean fast_share %s  cpu steady %s%%  (%.0f s)" %
                  (wl, mode, status, fmt(r["t90_s"], "%.0f"),
                   fmt(r["t90_after_shift_s"], "%.0f"),
                   fmt(r.get("mean_fast_share"), "%.3f"),
                   fmt(r.get("cpu_pct_steady"), "%.2f"), r["wall_s"]),
                  flush=True)
            for e in r["errors"]:
                print("run.py:   guest error: %s" % e, flush=True)

    if not a.no_promote:
        log = os.path.join(a.logs, "vm_promote.log")
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
        png = plot(a.out, wl, runs, a.shift)
        if png:
            res["plots"][wl] = png
    res["wall_s"] = round(time.time() - t_start, 1)
    with open(os.path.join(a.out, "vm.json"), "w") as f:
        json.dump(res, f, indent=1)
    with open(os.path.join(a.out, "vm.md"), "w") as f:
        f.write(markdown(res, a))
    failed = [(wl, m) for wl, rs in res["runs"].items()
              for m, r in rs.items() if r["exit"] != 0 or not r["samples"]]
    if failed:
        print("run.py: runs without results: %s" % failed, file=sys.stderr)
    return 0


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
            if "0" in r["nodes"]:
                frees.append((m, r["nodes"]["0"]["free_kb"] // 1024))
    if frees:
        seen = {}
        for m, v in frees:
            seen.setdefault(m, []).append(v)
        o.append("Node 0 free memory just before gups starts (MiB): " +
                 ", ".join("%s %d–%d" % (m, min(v), max(v))
                           for m, v in seen.items()) +
                 "; the %s region does not fit, the %s hot set does.\n" %
                 (a.size, a.hot))
    o.append("| workload | mode | t90 from start (s) | t90 after shift (s) "
             "| hot on fast before shift | hot on fast, last 5 s "
             "| mean fast-hit share | vs htier | mean updates/s "
             "| htierd CPU, whole run / last 10 s (% of a vCPU) |")
    o.append("|---|---|---|---|---|---|---|---|---|---|")
    for wl, rs in res["runs"].items():
        ht = rs.get("htier", {}).get("mean_fast_share")
        for m, r in rs.items():
            mf = r.get("mean_fast_share")
            rel = "%.2f×" % (ht / mf) if ht and mf else "—"
            if m == "htier":
                rel = "1"
            cpu = "—"
            if m == "htier":
                cpu = "%s / %s" % (fmt(r.get("cpu_pct_run")),
                                   fmt(r.get("cpu_pct_steady")))
            note = "" if r["exit"] == 0 and r["samples"] else " (failed: %s)" % (
                "; ".join(r["errors"]) or "exit %s" % r["exit"])
            o.append("| %s | %s%s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                wl, m, note, fmt(r["t90_s"], "%.0f", "never"),
                fmt(r["t90_after_shift_s"], "%.0f", "never"),
                fmt(r.get("preshift_hot_on_fast"), "%.3f"),
                fmt(r.get("final_hot_on_fast"), "%.3f"),
                fmt(mf, "%.3f"), rel,
                fmt(r.get("mean_updates_per_s"), "%.0f"), cpu))
    o.append("")
    o.append("`vs htier` = htier's mean fast-hit share / this mode's "
             "(> 1: htier ahead).\n")
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
