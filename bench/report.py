#!/usr/bin/python3
"""Write bench/RESULTS.md from what bench/run.sh left in bench/results/:
the simulator's JSON (sim_*.json), the guest runs (vm.json, vm.md, vm_*.png),
htierd's cost against managed memory (cost.json, cost.md from
bench/vm/cost.py), the Linux 6.12 baselines (vm612.json, vm612.md from
bench/vm/run.py --name vm612) and bench/provisioner/RESULTS.md when it exists.  Goals are checked from the
numbers, so a rerun rewrites the verdicts too."""
import argparse
import datetime
import json
import os
import platform
import subprocess

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
WORKLOADS = ["hotset", "scattered", "zipf"]
BASELINES = ["first-touch", "tpp", "memtis"]
SIM_CMD = ("$BUILD/bin/htier-sim --model {m} --size 512M --hot 64M "
           "--fast-capacity 128M --duration 60 --shift-at 30 --epoch-ms 500")


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL).stdout.decode().strip()
    except OSError:
        return ""


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def pct(v):
    return "—" if v is None else "%.1f%%" % (100 * v)


def secs(v):
    return "never" if v is None else "%g" % v


def machine():
    cpu = sh("lscpu | sed -n 's/^Model name: *//p'") or platform.processor()
    mem = sh("free -g | awk '/Mem:/ {print $2}'")
    return ("%s, %s cores, %s GiB RAM; host kernel %s; %s; load average "
            "when this report was written: %s" %
            (cpu, os.cpu_count(), mem, platform.release(),
             sh("qemu-system-x86_64 --version | head -n1"),
             sh("cut -d' ' -f1-3 /proc/loadavg")))


def sim_plot(res, m, d):
    lines = []
    for p in d["policies"]:
        if "timeline" not in p or p["name"] == "htier-pebs":
            continue
        dat = "sim_%s_%s.dat" % (m, p["name"])
        with open(os.path.join(res, dat), "w") as f:
            for t, hit, hot in p["timeline"]:
                f.write("%g %g %g\n" % (t, hot, hit))
        lines.append("'%s' using 1:2 with lines lw 2 title '%s'" %
                     (dat, p["name"]))
    png = "sim_%s.png" % m
    gp = ["set terminal png size 900,500 noenhanced", "set output '%s'" % png,
          "set title 'htier-sim %s (512 MiB, hot 64 MiB, fast 128 MiB, "
          "shift at 30 s): hot set on fast'" % m,
          "set xlabel 'seconds'", "set ylabel 'hot pages on fast'",
          "set yrange [0:1.05]", "set key bottom right", "set grid",
          "plot " + ", ".join(lines)]
    try:
        subprocess.run(["gnuplot"], input="\n".join(gp).encode(), cwd=res,
                       check=True)
        return png
    except (OSError, subprocess.CalledProcessError):
        return None


def sim_section(res, rel, o, verdicts):
    o.append("## 1. Simulator: the module's own core against baselines\n")
    o.append(
        "`bench/sim` (`htier-sim`) replays the gups models through "
        "`guest-kmod/core/hotness.c` and `policy.c` (linked from the same "
        "source files as `htier.ko`) and through baselines in the same "
        "simulator. The `htier` row is the module's current round: the "
        "windowed accessed-bit sampler (each round a page is young with "
        "probability 1−e^(−rate·window), the window tuned every round "
        "exactly like `htier_abit_tune`), min promote bin 2, exchange gap "
        "2, cooling every 8 rounds, and the period backing off from 500 ms "
        "to 4 s while placement is settled (no move planned, no clearly hot page on slow, no jump in slow accesses). `htier-abit1` is the same "
        "round with the earlier sampler (the accessed bit read once per "
        "round); `htier-pebs` feeds PEBS-like samples (not usable under "
        "TCG, shown for reference) at the module's budget: the period tuned "
        "every round by `htier_pebs_period_step` to what 1% of one CPU pays "
        "for at 3 µs a sample (about 1700 samples a round), each sample 8 "
        "heat, a page promoted on one sample, cooling every 8 rounds or "
        "later, once the samples since the last reach 2 per quota page "
        "(`htier_pebs_cool_due`), evenly sampled ranges spread (`htier_region_spread`; see "
        "\"PEBS: ranges and the sampling budget\" below); `oracle` places each epoch's most "
        "accessed pages on fast before the epoch runs. Every policy starts "
        "with all pages on slow memory. 512 MiB region, 64 MiB hot set "
        "(weight 9; zipf θ 0.99: the hottest 64 MiB), fast capacity "
        "128 MiB (¼ of the region), 2·10⁶ updates/s, 60 s, hot set shifted "
        "at 30 s; modeled time = accesses × latency + 2 µs per migrated "
        "page, for fast/slow 80/200 ns (`cxl`) and 80/300 ns (`pmem`).\n")
    o.append("Reproduce one table: `%s` (add `--json --timeline` for the "
             "curves; `$BUILD` is the CMake build directory).\n" %
             SIM_CMD.format(m="MODEL"))
    for m in WORKLOADS:
        d = load(os.path.join(res, "sim_%s.json" % m))
        if not d:
            o.append("*sim_%s.json missing*\n" % m)
            continue
        by = {p["name"]: p for p in d["policies"]}
        png = sim_plot(res, m, d)
        o.append("### %s — %s\n" % (m, d["workload"]))
        o.append("| policy | fast-hit share | vs oracle | htier ahead by "
                 "| promoted | demoted | t90 (s) | t90 after shift (s) "
                 "| time cxl (s) | time pmem (s) |")
        o.append("|---|---|---|---|---|---|---|---|---|---|")
        ht = by.get("htier", {}).get("fast_hit_share")
        for p in d["policies"]:
            ahead = "—"
            if ht is not None and p["name"] != "htier":
                ahead = "%+.1f pts" % (100 * (ht - p["fast_hit_share"]))
            o.append("| %s | %s | %s | %s | %d | %d | %s | %s | %.3f | %.3f |" % (
                p["name"], pct(p["fast_hit_share"]), pct(p["vs_oracle"]),
                ahead, p["promoted"], p["demoted"], secs(p["t90_s"]),
                secs(p["t90_after_shift_s"]), p["time_s"]["cxl"],
                p["time_s"]["pmem"]))
        for var, what in (("cooltime", "`--cool-by-time` (variant: cool by "
                           "elapsed time, not per round)"),
                          ("fixed", "`--scan-max-ms 500` (no period "
                           "back-off)")):
            v = load(os.path.join(res, "sim_%s_%s.json" % (m, var)))
            if v:
                hv = next(p for p in v["policies"] if p["name"] == "htier")
                o.append("| htier, %s | %s | %s | | %d | %d | %s | %s | %.3f | %.3f |" % (
                    what, pct(hv["fast_hit_share"]), pct(hv["vs_oracle"]),
                    hv["promoted"], hv["demoted"], secs(hv["t90_s"]),
                    secs(hv["t90_after_shift_s"]), hv["time_s"]["cxl"],
                    hv["time_s"]["pmem"]))
        o.append("")
        for p in d["policies"]:
            if p.get("detail"):
                o.append("%s: %s.  " % (p["name"], p["detail"]))
        if png:
            o.append("\n![sim %s](%s/%s)\n" % (m, rel, png))
        if ht is not None:
            vo = by["htier"]["vs_oracle"]
            behind = [b for b in BASELINES if b in by and
                      by[b]["fast_hit_share"] >= ht]
            verdicts.append(("sim %s: htier ≥ 95%% of oracle" % m,
                             vo >= 0.95, "%s of oracle" % pct(vo)))
            verdicts.append(("sim %s: htier ahead of every baseline" % m,
                             not behind, "behind " + ", ".join(behind)
                             if behind else "ahead of " + ", ".join(
                                 b for b in BASELINES if b in by)))
    sim_rate_section(res, o, verdicts)
    sim_aging_section(res, o)
    sim_pebs_section(res, o)


PEBS_VARIANTS = (("", "budget, spread, one-sample floor, cooling by samples (the module)"),
                 ("_twosample", "budget, spread, two-sample floor, cooling every 8 rounds (before)"),
                 ("_nospread", "budget, each page its own samples"),
                 ("_nobudget", "no budget (every sample at period 199), spread"),
                 ("_nobudget_nospread", "no budget, no spread (before)"))


def sim_pebs_section(res, o):
    rows = []
    for m in WORKLOADS:
        for rate in ("2e6", "1e8"):
            for suffix, what in PEBS_VARIANTS:
                d = load(os.path.join(res, "sim_%s_%s_pebs%s.json" % (m, rate, suffix)))
                if not d:
                    continue
                p = next((p for p in d["policies"] if p["name"] == "htier-pebs"), None)
                if p:
                    rows.append((m, rate, what, p))
    if not rows:
        return
    o.append("### PEBS: ranges and the sampling budget\n")
    o.append("The module's PEBS sampler keeps its cost within `pebs_cpu_permil` "
             "(1%% of each CPU) at an estimated 3 µs a sample: about 3300 "
             "samples a second per CPU whatever the access rate, so a 64 MiB "
             "hot set gets a few hundredths of a sample per page per round. "
             "Each page's own count cannot rank it at that rate; a range's "
             "samples together can (`htier_region_spread`: where a 2 MiB "
             "range's samples hit about as many distinct pages as uniform "
             "samples would, its pages rank at their 256 KiB block's mean). "
             "A scattered hot set gives a range nothing to spread: each hot "
             "page must be found by its own samples, one every 20-25 rounds "
             "at the budget. So PEBS promotes on one sample "
             "(`HTIER_PEBS_MIN_PROMOTE_BIN`) and cools by samples as well as "
             "rounds (`htier_pebs_cool_due()`: no sooner than every 8 "
             "rounds, then once the samples since the last cooling reach 2 "
             "per quota page, or after 64 rounds), so that a page's heat "
             "lasts until its next sample; the earlier rules (two samples "
             "within about one 8-round cooling period) are the `before` rows. "
             "What remains is the budget itself: a page can only be "
             "promoted once sampled, and at ~0.04 samples per hot page per "
             "round the share of a scattered hot set sampled at least once "
             "t rounds after a shift is 1-e^(-0.04t), 64%% averaged over a "
             "30 s phase; no ranking of the same samples does much better "
             "(the `no budget` rows have 5-200x the samples). "
             "Same seed, side by side: `%s --rate R --policies "
             "htier-pebs,oracle [--spread 0] [--pebs-cpu-permil 0] "
             "[--pebs-min-samples 2 --pebs-cool-samples 0]`.\n" %
             SIM_CMD.format(m="MODEL"))
    o.append("| workload | rate | htier-pebs | vs oracle | t90 (s) "
             "| t90 after shift (s) | pages moved | steady pages moved/s | detail |")
    o.append("|---|---|---|---|---|---|---|---|---|")
    for m, rate, what, p in rows:
        o.append("| %s | %s | %s | %s | %s | %s | %d | %.0f | %s |" % (
            m, rate, what, pct(p["vs_oracle"]), secs(p["t90_s"]),
            secs(p["t90_after_shift_s"]), p["promoted"] + p["demoted"],
            p.get("steady_moved_per_s", 0), p.get("detail", "")))
    o.append("")


def sim_aging_section(res, o):
    rows = []
    for m in WORKLOADS:
        for rate, suffix in (("2e6", ""), ("1e8", "_1e8")):
            on = load(os.path.join(res, "sim_%s%s.json" % (m, suffix)))
            off = load(os.path.join(res, "sim_%s_%s_noage.json" % (m, rate)))
            if not on or not off:
                continue
            a = {p["name"]: p for p in on["policies"]}
            b = {p["name"]: p for p in off["policies"]}
            for name in ("htier", "htier-pebs"):
                if name in a and name in b:
                    rows.append((m, rate, name, a[name], b[name]))
    if not rows:
        return
    o.append("### Aging the old hot set after a shift\n")
    o.append("After a jump in the slow tier's share of accesses, the "
             "accessed-bit samples of the next 4 rounds halve the heat of "
             "each fast page unused at two samples in a row; PEBS cools the "
             "table 3 extra steps instead (the module's HTIER_AGE_ROUNDS, "
             "HTIER_PEBS_JUMP_COOL).  Against the same runs with "
             "`--age-rounds 0 --pebs-jump-cool 0`, side by side (same seed); "
             "steady state = the second half of each phase.\n")
    o.append("| workload | rate | policy | vs oracle (aged / not) "
             "| t90 after shift (s) | pages moved | steady pages moved/s |")
    o.append("|---|---|---|---|---|---|---|")
    for m, rate, name, a, b in rows:
        o.append("| %s | %s | %s | %s / %s | %s / %s | %d / %d | %s / %s |" % (
            m, rate, name, pct(a["vs_oracle"]), pct(b["vs_oracle"]),
            secs(a["t90_after_shift_s"]), secs(b["t90_after_shift_s"]),
            a["promoted"] + a["demoted"], b["promoted"] + b["demoted"],
            "%.0f" % a.get("steady_moved_per_s", 0),
            "%.0f" % b.get("steady_moved_per_s", 0)))
    o.append("")


def sim_rate_section(res, o, verdicts):
    runs = {m: load(os.path.join(res, "sim_%s_1e8.json" % m))
            for m in WORKLOADS}
    if not any(runs.values()):
        return
    o.append("### At a hardware-like rate: 10⁸ updates/s\n")
    o.append("The same three workloads at 10⁸ updates/s (`%s --rate 1e8`): "
             "about what gups does on hardware, where PEBS has ~50× the "
             "samples of the runs above and an accessed-bit window must be "
             "far shorter than a millisecond not to find most pages young "
             "(the module's floor is 100 µs; it cuts its walk in chunks so "
             "that each page's window stays near it).\n" %
             SIM_CMD.format(m="MODEL"))
    o.append("| workload | policy | fast-hit share | vs oracle | promoted "
             "| demoted | t90 (s) | t90 after shift (s) |")
    o.append("|---|---|---|---|---|---|---|---|")
    for m in WORKLOADS:
        d = runs.get(m)
        if not d:
            continue
        for p in d["policies"]:
            if p["name"] in ("first-touch", "htier-abit1"):
                continue
            o.append("| %s | %s | %s | %s | %d | %d | %s | %s |" % (
                m, p["name"], pct(p["fast_hit_share"]), pct(p["vs_oracle"]),
                p["promoted"], p["demoted"], secs(p["t90_s"]),
                secs(p["t90_after_shift_s"])))
        by = {p["name"]: p for p in d["policies"]}
        for name in ("htier", "htier-pebs"):
            if name in by:
                vo = by[name]["vs_oracle"]
                verdicts.append(("sim %s at 1e8/s: %s ≥ 95%% of oracle" %
                                 (m, name), vo >= 0.95,
                                 "%s of oracle" % pct(vo)))
    o.append("")


def vm_section(res, rel, o, verdicts):
    o.append("## 2. QEMU guest: gups under Linux's modes and htier\n")
    vm = load(os.path.join(res, "vm.json"))
    if not vm:
        o.append("*No guest results (bench/vm/run.py did not run).*\n")
        return
    c = vm["config"]
    o.append("Reproduce: `BUILD=$BUILD bench/vm/run.py --out bench/results` "
             "(all modes and workloads, ~13 min); one cell: `bench/vm/run.py "
             "--workloads hotset --modes htier --no-promote`. Each run boots "
             "a fresh guest with the same sizes (node 0 = 2 vCPUs + %d MiB, "
             "node 1 = %d MiB, CPU-less), runs `bench/vm/guest/gups_run.sh` "
             "with `bench.mode=MODE bench.wmode=WORKLOAD bench.dur=%d "
             "bench.shift=%d` on the kernel command line; gups measures "
             "placement itself with move_pages(2) queries every second. "
             "Guest consoles: `$BUILD/bench-logs/`. Total guest time this "
             "run: %.0f s.\n" % (c["fast_mb"], c["slow_mb"], c["duration"],
                                 c["shift"], vm.get("wall_s", 0)))
    with open(os.path.join(res, "vm.md")) as f:
        o.append(f.read())
    for wl, png in vm.get("plots", {}).items():
        o.append("![guest %s](%s/%s)\n" % (wl, rel, png))
    for wl, rs in vm["runs"].items():
        h = rs.get("htier")
        if not h or not h.get("samples"):
            verdicts.append(("guest %s: htier ran" % wl, False, "no samples"))
            continue
        hf = h.get("mean_fast_share", 0)
        behind = [m for m, r in rs.items() if m != "htier" and
                  r.get("mean_fast_share") is not None and
                  r["mean_fast_share"] >= hf]
        verdicts.append(("guest %s: htier ahead of every baseline "
                         "(mean fast-hit share)" % wl, not behind,
                         ("behind " + ", ".join(behind)) if behind else
                         "htier %.3f" % hf))
        ts = h.get("t90_after_shift_s")
        verdicts.append(("guest %s: re-converged ≤ 10 s after the shift" % wl,
                         ts is not None and ts <= 10,
                         "t90 after shift: %s" % ("never (within %d s)" % (
                             c["duration"] - c["shift"]) if ts is None
                             else "%g s" % ts)))
        cpu = h.get("cpu_pct_steady")
        verdicts.append(("guest %s: htierd CPU ≤ 1%% of a vCPU (last 10 s of the run)" %
                         wl, cpu is not None and cpu <= 1,
                         "%s%%" % ("—" if cpu is None else "%.1f" % cpu)))
    p = vm.get("promote")
    if p:
        r = p.get("ratio_vs_busy")
        verdicts.append(("guest: htier promotion ≥ 1.5× move_pages(2) "
                         "(pages being read)", r is not None and r >= 1.5,
                         "%s× (vs idle move_pages: %s×; the busy figure is inflated by "
                         "TCG, see notes)" % ("—" if r is None else "%.2f" % r,
                                              "%.2f" % p["ratio_vs_idle"]
                                              if p.get("ratio_vs_idle")
                                              else "—")))
        o.append("Reproduce: `bench/vm/run.py --workloads '' --out /tmp/x` "
                 "runs only this (guest script `bench/vm/guest/"
                 "promote_rate.sh`, `bench.pages=%d`). htier's rate is "
                 "`promoted_pages / migrate_us` (time inside its migration "
                 "batches); move_pages' is the syscall's wall time.\n" %
                 p["pages"])


def cost_section(res, o, verdicts):
    o.append("## 5. htierd's cost against managed memory (issue 12)\n")
    cost = load(os.path.join(res, "cost.json"))
    md = os.path.join(res, "cost.md")
    if not cost or not os.path.exists(md):
        o.append("*No cost results (bench/vm/cost.py did not run).*\n")
        return
    c = cost["config"]
    o.append(
        "htierd's CPU time and time to converge at %s of managed memory "
        "(one gups region, starting wholly on the slow node), the same %s "
        "hot set contiguous (hotset) and scattered, for the module as of "
        "commit %s (**before**) and the working tree's (**after**), run "
        "side by side in the same guests; %d repetition(s), median "
        "(min–max). Measured %s (%.0f s of guest time). Full run: "
        "`bench/vm/cost.py --out bench/results` (~30 min; what `make bench` "
        "runs); smoke test: `bench/vm/cost.py --quick` (1 repetition, 512M "
        "and 2G, ~5 min; `BENCH_QUICK=1`).\n" % (
            ", ".join(c["size_names"]), c["hot"], c["before_rev"], c["reps"],
            cost.get("generated", "?"), cost.get("wall_s", 0)))
    with open(md) as f:
        o.append(f.read())
    for v in cost.get("verdicts", []):
        verdicts.append((v["goal"], v["ok"], v["measured"]))

def med(r, key):
    """Median of @key over a run label's repetitions (run.py keeps the
    first repetition's record with the others in more_reps)."""
    vals = [x.get(key) for x in [r] + r.get("more_reps", [])]
    vals = sorted(v for v in vals if v is not None)
    if not vals:
        return None
    n = len(vals)
    return vals[n // 2] if n % 2 else (vals[n // 2 - 1] + vals[n // 2]) / 2


def vm612_section(res, rel, o):
    """Section 6: DAMON tiering, Linux tiering and htier on Linux 6.12."""
    o.append("## 6. Linux 6.12: DAMON tiering, Linux tiering and htier "
             "(issue 8)\n")
    vm = load(os.path.join(res, "vm612.json"))
    md = os.path.join(res, "vm612.md")
    if not vm or not os.path.exists(md):
        o.append("*No 6.12 baseline results (`bench/vm/run.py --name vm612` "
                 "did not run).*\n")
        return
    c = vm["config"]
    loads = [x.get(k) for rs in vm["runs"].values() for r in rs.values()
             for x in [r] + r.get("more_reps", [])
             for k in ("load_start", "load_end")]
    loads = [v for v in loads if v is not None]
    o.append(
        "The same gups workloads and guest sizes as section 2, on Debian's "
        "Linux %s guest kernel, against the kernel's own tiering: **damon** "
        "(DAMON `migrate_hot` / `migrate_cold` schemes through "
        "`/sys/kernel/mm/damon/admin`, settings below), **tiering** "
        "(`numa_balancing=2` with node 1 a lower memory tier through "
        "dax/kmem, as on 6.1) and **htier** (the module at its defaults, "
        "`quota_bytes=max`: a tracking budget of 1 %% of a vCPU, "
        "`cpu_permil` 10, boosted to 10 %%, `cpu_boost_permil` 100, for 10 s "
        "after new memory, a moved hot set, a round that promoted much or hot "
        "pages still owed to fast memory); "
        "`@6.1` rows run the same mode on Debian's 6.1 "
        "guest for reference, `MODE+KEY=VALUE` rows the mode with "
        "`bench.KEY=VALUE` on the guest command line (`cpu_boost_permil=0`: "
        "htier without the boost, 1 %% of a vCPU throughout; "
        "`cpu_permil=300`: the budget raised to 30 %%, what the e2e "
        "tests give it under TCG; `damon_*`: bench/vm/guest/damon_setup.sh). "
        "Measured %s, %d repetition(s) per cell, %.0f s "
        "of guest time; host load average (1 min) at each guest's start and "
        "end %s on %d host cores (TCG guests run slower when the host is "
        "busy: compare rows of this run, not across runs).\n" % (
            c.get("kernel", "?"), vm.get("started", "?"), c.get("reps", 1),
            vm.get("wall_s", 0),
            ("%.1f–%.1f" % (min(loads), max(loads))) if loads else "—",
            os.cpu_count()))
    o.append("Reproduce: `%s` (with `BUILD=<your build directory>`; what "
             "`make bench` runs is the same with one repetition; "
             "`BENCH_QUICK=1` runs hotset only, damon and htier, 24 s). "
             "Guest consoles: `$BUILD/bench-logs/vm612_*.log`; the guest "
             "side is `bench/vm/guest/gups_run.sh`, "
             "`bench/vm/guest/damon_setup.sh` and "
             "`bench/vm/guest/tiering_setup.sh`.\n" % vm.get(
                 "command", "bench/vm/run.py --name vm612 --kernel 6.12"))
    with open(md) as f:
        o.append(f.read())
    for wl, png in vm.get("plots", {}).items():
        o.append("![6.12 %s](%s/%s)\n" % (wl, rel, png))
    o.append("| goal (issue 8) | met | measured (medians) |")
    o.append("|---|---|---|")
    for wl, rs in vm["runs"].items():
        h = rs.get("htier")
        if not h:
            continue
        hf = med(h, "mean_fast_share")
        for base in ("damon", "tiering"):
            b = rs.get(base)
            if not b or hf is None or med(b, "mean_fast_share") is None:
                continue
            bf = med(b, "mean_fast_share")
            o.append("| %s: htier ahead of %s on 6.12 (mean fast-hit share) "
                     "| %s | htier %.3f, %s %.3f |" % (
                         wl, base, "yes" if hf > bf else "**no**", hf, base,
                         bf))
        d = rs.get("damon")
        hc, dc = med(h, "cpu_pct_run"), d and med(d, "cpu_pct_run")
        if hc is not None and dc is not None:
            o.append("| %s: htierd CPU below the kdamonds' (whole run) | %s | "
                     "htierd %.1f%%, kdamonds %.1f%% of a vCPU |" % (
                         wl, "yes" if hc < dc else "**no**", hc, dc))
        h61 = rs.get("htier@6.1")
        if h61 and hf is not None and med(h61, "mean_fast_share") is not None:
            f61 = med(h61, "mean_fast_share")
            o.append("| %s: htier on 6.12 matches 6.1 (mean fast-hit share "
                     "within 0.05) | %s | 6.12 %.3f, 6.1 %.3f |" % (
                         wl, "yes" if abs(hf - f61) <= 0.05 else "**no**",
                         hf, f61))
    o.append("")
    # Variants measured in a separate, shorter invocation (--name vm612x).
    vx = load(os.path.join(res, "vm612x.json"))
    if vx and os.path.exists(os.path.join(res, "vm612x.md")):
        o.append("### Variants (a separate invocation)\n")
        o.append("Measured %s, %d repetition(s), host load average %s at "
                 "its start; reproduce: `%s`.\n" % (
                     vx.get("started", "?"), vx["config"].get("reps", 1),
                     "%.1f" % vx["load_start"] if vx.get("load_start")
                     is not None else "?", vx.get("command", "?")))
        with open(os.path.join(res, "vm612x.md")) as f:
            o.append(f.read().split("\nDAMON settings, read back")[0])
    notes = os.path.join(TOP, "bench", "NOTES612.md")
    if os.path.exists(notes):
        with open(notes) as f:
            o.append(f.read())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", default=os.path.join(TOP, "bench", "results"))
    ap.add_argument("--out", default=os.path.join(TOP, "bench", "RESULTS.md"))
    ap.add_argument("--elapsed", type=int, default=0)
    ap.add_argument("--only-vm612", action="store_true",
                    help="rewrite only section 6 (the 6.12 baselines) of an "
                    "existing OUT, after bench/vm/run.py --name vm612 alone")
    a = ap.parse_args()
    res = a.results
    rel = os.path.relpath(res, os.path.dirname(os.path.abspath(a.out)))
    if a.only_vm612:
        o = []
        vm612_section(res, rel, o)
        with open(a.out) as f:
            old = f.read()
        head = old.split("\n## 6. Linux 6.12", 1)[0].rstrip("\n")
        with open(a.out, "w") as f:
            f.write(head + "\n\n" + "\n".join(o) + "\n")
        return
    o, verdicts = [], []
    o.append("# htier benchmarks\n")
    when = datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M")
    if a.elapsed:
        o.append("Generated by `make bench` (`bench/run.sh`, then "
                 "`bench/report.py`) on %s UTC in %d s. Regenerate "
                 "everything: `make bench` (or, with an existing build, "
                 "`BUILD=build bench/run.sh`).\n" % (when, a.elapsed))
    else:
        o.append("Written by `bench/report.py` on %s UTC from the results "
                 "in `bench/results`, which were measured section by "
                 "section (each section says when, with the command that "
                 "reproduces it). Regenerate everything: `make bench` (or, "
                 "with an existing build, `BUILD=build bench/run.sh`).\n"
                 % when)
    dated = []
    for name, what in (("vm", "section 2 (guest)"), ("cost", "section 5 (cost)"),
                       ("vm612", "section 6 (Linux 6.12)")):
        d = load(os.path.join(res, name + ".json"))
        if d and (d.get("started") or d.get("generated")):
            dated.append("%s %s" % (what, d.get("started") or d.get("generated")))
    if dated:
        o.append("The guest results are those of their own runs, which a "
                 "simulator-only run (`BENCH_SKIP_VM=1`) keeps: %s.\n"
                 % "; ".join(dated))
    o.append("Machine: %s.\n" % machine())
    body = []
    sim_section(res, rel, body, verdicts)
    vm_section(res, rel, body, verdicts)
    cost_body = []
    cost_section(res, cost_body, verdicts)
    o.append("## Goals (issue 4, issue 2, issue 12) — checked from the "
             "numbers below\n")
    o.append("| goal | met | measured |")
    o.append("|---|---|---|")
    for name, ok, what in verdicts:
        o.append("| %s | %s | %s |" % (name, "—" if ok is None else
                                       "yes" if ok else "**no**", what))
    o.append("")
    notes = os.path.join(TOP, "bench", "NOTES.md")
    o.extend(body)
    if os.path.exists(notes):
        with open(notes) as f:
            o.append(f.read())
    prov = os.path.join(TOP, "bench", "provisioner", "RESULTS.md")
    o.append("## 4. Host provisioner\n")
    if os.path.exists(prov):
        o.append("From `bench/provisioner/run.sh` "
                 "([bench/provisioner/RESULTS.md](provisioner/RESULTS.md)):\n")
        with open(prov) as f:
            o.append("\n".join(("#" + ln) if ln.startswith("#") else ln
                               for ln in f.read().splitlines()))
    else:
        o.append("`bench/provisioner/run.sh` has not written "
                 "bench/provisioner/RESULTS.md yet.\n")
    o.extend(cost_body)
    vm612_section(res, rel, o)
    with open(a.out, "w") as f:
        f.write("\n".join(o) + "\n")


if __name__ == "__main__":
    main()
