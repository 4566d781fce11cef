#!/usr/bin/python3
"""bench/vm/cost: htierd's CPU cost against the size of managed memory.

Issue 12: htierd's cost should follow the active set, not the VM's size.
For each region size (default 512M, 2G, 8G: one gups region of that size,
wholly on the slow node 1 when each measurement starts) and each gups model
(hotset: the 64 MiB hot set contiguous; scattered: its pages spread over the
region), two module builds:

  before  htier.ko built from git commit cb06853 (extracted with git archive
          into $BUILD/cost-before-<rev>/ and built there, never checked out)
  after   the working tree's htier.ko, build/kmod/$KVER/htier.ko (not
          rebuilt: `make kmod`)

One guest per (repetition, size) runs one gups process (one touch of the
region) for its four measurements (2 models x 2 builds).  Before each,
SIGUSR1 makes gups move the region back to node 1 and switch to the
measurement's model (gups --reset-on-sigusr1 --reset-modes); then the build
is loaded, scoped to gups (quota max, the module's default periods), and for
at least --duration seconds, then on until no page has moved for the last
--steady seconds (the steady window: tracking alone, the fill of node 0
done) but at most --max-duration seconds, the guest samples every second htierd's CPU time (first
field of /proc/<htierd>/schedstat: ns on CPU), its stats (rounds, and
coverage_permil, thread_cpu_permil, ptes_scanned, pmds_skipped where the
build has them), while gups measures placement itself (move_pages(2)
queries each second): t90 = seconds from insmod until 90 % of the hot pages
are on node 0.  Then rmmod.  The builds' order alternates between models
and repetitions, and the sizes' order rotates, so that neither build nor
size always runs first.

In the --lat-size guests, afterwards, the latency a managed process sees:
htier_maplat (tests/selftests/htier, built by `make selftests`) times
mmap + first touch + munmap of 64 KiB in a loop while its other thread keeps
a --lat-mb region on node 1 busy, with htier off (not loaded), before and
after (scope_pids = htier_maplat).

Guests: node 0 = 2 vCPUs + --fast-mb MiB, node 1 = --slow-mb MiB (the same
layout for every size), QEMU TCG -cpu max,erms=off: the guest kernel then
clears pages with rep stosq, which TCG runs several times faster than rep
stosb, and gups faults its region in with MADV_POPULATE_WRITE (--populate):
8 GiB of 4 KiB pages in well under a minute instead of minutes.  The goals
of issue 12 are checked from the medians.  Writes OUT/cost.json and
OUT/cost.md (bench/report.py puts them in bench/RESULTS.md); guest consoles
go to $BUILD/bench-logs/cost_<size>_rep<N>.log.

    bench/vm/cost.py                      # everything, 3 repetitions
    bench/vm/cost.py --quick              # 1 repetition, 512M and 2G, 20 s
    bench/vm/cost.py --sizes 8G --workloads scattered --reps 1 --no-lat
    bench/vm/cost.py --report-only        # rewrite cost.md from cost.json
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "vm"))
import htiervm  # noqa: E402

BUILDS = ["before", "after"]
KDIR = os.environ.get("KDIR", "/usr/src/linux-headers-%s" % htiervm.KVER)
CPU = "max,erms=off"


def parse_size(s):
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([KMGT]?)(?:i?B)?", s.strip(), re.I)
    if not m:
        raise argparse.ArgumentTypeError("bad size %r" % s)
    mul = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    return int(float(m.group(1)) * mul[m.group(2).upper()])


def sh(cmd, **kw):
    return subprocess.run(cmd, shell=True, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, **kw)


def module_info(ko):
    import hashlib
    with open(ko, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:12]
    return {"path": os.path.abspath(ko), "sha256": digest,
            "built": time.strftime("%Y-%m-%d %H:%M:%S",
                                   time.localtime(os.path.getmtime(ko)))}


def tree_info(rev, ko):
    """How the working tree's guest-kmod/ relates to @rev and to @ko."""
    d = {"head": sh("git -C %s rev-parse --short HEAD" %
                    TOP).stdout.decode().strip()}
    r = sh("git -C %s diff --stat %s -- guest-kmod | tail -n1" % (TOP, rev))
    d["diff_vs_before"] = r.stdout.decode().strip() if r.returncode == 0 \
        else "?"
    new = sh("git -C %s ls-files --others --exclude-standard guest-kmod" %
             TOP).stdout.decode().split()
    d["untracked"] = new
    d["same_as_before"] = (r.returncode == 0 and not d["diff_vs_before"]
                           and not new)
    srcs = []
    for dp, _, fs in os.walk(os.path.join(TOP, "guest-kmod")):
        srcs += [os.path.join(dp, f) for f in fs
                 if f.endswith((".c", ".h")) and not f.endswith(".mod.c")]
    if srcs:
        newest = max(srcs, key=os.path.getmtime)
        if os.path.getmtime(newest) > os.path.getmtime(ko):
            d["stale"] = "%s (changed %s) is newer than htier.ko" % (
                os.path.relpath(newest, TOP), time.strftime(
                    "%H:%M:%S", time.localtime(os.path.getmtime(newest))))
    return d


def build_before(rev):
    """htier.ko of commit @rev, built once into $BUILD/cost-before-<rev>."""
    d = os.path.join(htiervm.BUILD, "cost-before-%s" % rev)
    ko = os.path.join(d, "guest-kmod", "htier.ko")
    if os.path.exists(ko):
        return ko
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    r = sh("git -C %s archive %s guest-kmod | tar -x -C %s" % (TOP, rev, d))
    if r.returncode:
        raise SystemExit("cost.py: git archive %s failed: %s" %
                         (rev, r.stdout.decode()))
    r = sh("make -C %s/guest-kmod KDIR=%s" % (d, KDIR))
    if r.returncode or not os.path.exists(ko):
        raise SystemExit("cost.py: building the %s module failed:\n%s" %
                         (rev, r.stdout.decode()[-3000:]))
    return ko


def build_helper():
    src = os.path.join(HERE, "guest", "cost_helper.c")
    out = os.path.join(htiervm.BUILD, "cost", "cost_helper")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    if (not os.path.exists(out) or
            os.path.getmtime(out) < os.path.getmtime(src)):
        r = sh("cc -O2 -Wall -static -o %s %s" % (out, src))
        if r.returncode:
            raise SystemExit("cost.py: building cost_helper failed:\n%s" %
                             r.stdout.decode())
    return out


def build_initramfs(modules, helper, maplat):
    """The test initramfs (mkinitramfs.sh: gups, the selftests — among them
    htier_maplat once built —, bench/vm/guest/*.sh) plus /htier/cost/
    <build>.ko, cost_helper and, if given, a htier_maplat that overrides the
    built one."""
    extra = {"/htier/cost/%s.ko" % name: ko for name, ko in modules.items()}
    extra["/htier/bin/cost_helper"] = helper
    if maplat:
        extra["/htier/cost/htier_maplat"] = maplat
    return htiervm.build_initramfs(
        htiervm.initramfs_path("cost-initramfs"), extra)


def kv(s):
    return dict(re.findall(r"(\w+)=(\S+)", s))


def num(v):
    try:
        return int(v)
    except ValueError:
        try:
            return float(v)
        except ValueError:
            return v


def json_objects(s):
    """Every JSON object in @s, in order."""
    dec, out, i = json.JSONDecoder(), [], s.find("{")
    while i >= 0:
        try:
            j, end = dec.raw_decode(s, i)
        except ValueError:
            i = s.find("{", i + 1)
            continue
        out.append(j)
        i = s.find("{", end)
    return out


def parse_guest(lines):
    """COST-* lines of one guest -> phases and latency runs."""
    g = {"phases": {}, "gups": {"samples": []}, "lat": {}, "lat_cpu": {},
         "errors": [],
         "info": [], "nodes": [], "moves": {}}
    for ln in lines:
        i = ln.find("COST-")
        if i < 0:
            continue
        tag, _, rest = ln[i:].partition(" ")
        if tag == "COST-S":
            d = {k: num(v) for k, v in kv(rest).items()}
            key = d.pop("lat", None)
            if key is not None:
                g["lat_cpu"].setdefault(key, []).append(d)
            else:
                ph = g["phases"].setdefault((d.pop("wl"), d.pop("build")),
                                            {"series": []})
                ph["series"].append(d)
        elif tag == "COST-PHASE":
            d = kv(rest)
            ph = g["phases"].setdefault((d["wl"], d["build"]), {"series": []})
            ph["t0"] = float(d["t0"])
            ph["extra"] = [e for e in d.get("extra", "").split(",") if e]
        elif tag == "COST-END":
            d = kv(rest)
            ph = g["phases"].setdefault((d["wl"], d["build"]), {"series": []})
            ph["end"] = d
        elif tag == "COST-GUPS":
            d = kv(rest)
            g["gups"].update(start=float(d["start"]), touch_s=float(
                d["start"]) - float(d["touch_s_from"]))
        elif tag == "COST-SAMPLE":
            try:
                g["gups"]["samples"].append(json.loads(rest))
            except ValueError:
                pass
        elif tag == "COST-RMMOD":
            d = kv(rest)
            g.setdefault("rmmod", {})["%s/%s" % (d["wl"], d["build"])] = \
                float(d["t"])
        elif tag == "COST-MOVE":
            d = kv(rest.partition("{")[0])
            g["moves"]["%s/%s" % (d.get("wl"), d.get("build"))] = {
                j.get("op") or j.get("type"): j for j in json_objects(rest)}
        elif tag == "COST-LAT":
            head, _, js = rest.partition("{")
            d = kv(head)
            try:
                j = json.loads("{" + js)
            except ValueError:
                j = {"error": rest}
            j.update(t0=float(d["t0"]), t1=float(d["t1"]), rc=int(d["rc"]))
            g["lat"][d["cond"]] = j
        elif tag == "COST-LAT-MISSING":
            g["lat_missing"] = rest
        elif tag == "COST-NODE":
            g["nodes"].append(rest)
        elif tag == "COST-INFO":
            g["info"].append(rest)
        elif tag == "COST-ERROR":
            g["errors"].append(rest)
    return g


def cpu_figures(series, t0, steady_s, size_gib):
    """htierd CPU from the per-second samples: whole run (from insmod) and
    steady state (the last @steady_s seconds), % of one vCPU, ms per round,
    % per managed GiB; the new stats where present."""
    if len(series) < 2:
        return {}
    last = series[-1]
    r = {"seconds": round(last["t"] - t0, 1), "rounds": last["rounds"]}
    if last["t"] > t0:
        r["cpu_pct_run"] = 100.0 * last["ns"] / 1e9 / (last["t"] - t0)
    if last["rounds"]:
        r["ms_per_round_run"] = last["ns"] / 1e6 / last["rounds"]
    base = next((x for x in series if x["t"] >= last["t"] - steady_s),
                series[0])
    if base is last:
        base = series[-2]
    dt = last["t"] - base["t"]
    if dt > 0:
        r["cpu_pct_steady"] = 100.0 * (last["ns"] - base["ns"]) / 1e9 / dt
        r["steady_window_s"] = round(dt, 1)
        dr = last["rounds"] - base["rounds"]
        r["steady_rounds"] = dr
        if dr > 0:
            r["ms_per_round_steady"] = (last["ns"] - base["ns"]) / 1e6 / dr
        for k in ("ptes_scanned", "pmds_skipped"):
            if k in last and k in base:
                r[k + "_per_s_steady"] = (last[k] - base[k]) / dt
        # Pages moved in the steady window: 0 unless the measurement hit
        # --max-duration with htier still migrating.
        if "promoted" in last and "promoted" in base:
            r["moved_in_steady"] = (last["promoted"] + last["demoted"] -
                                    base["promoted"] - base["demoted"])
    for k in ("cpu_pct_run", "cpu_pct_steady"):
        if k in r:
            r[k.replace("cpu_pct", "pct_per_gib")] = r[k] / size_gib
    for k in ("coverage_permil", "thread_cpu_permil"):
        if k in last:
            r[k] = last[k]
    for k in ("ptes_scanned", "pmds_skipped"):
        if k in last:
            r[k] = last[k]
    r["period_ms_last"] = last.get("period_ms")
    r["round_us_last"] = last.get("round_us")
    r["promoted"] = last.get("promoted")
    r["demoted"] = last.get("demoted")
    r["fast_bytes"] = last.get("fast")
    r["hot_bytes"] = last.get("hot")
    return r


def phase_result(g, wl, build, a, size_gib):
    ph = g["phases"].get((wl, build))
    gp = g["gups"]
    if not ph or "t0" not in ph:
        return None
    r = cpu_figures(ph["series"], ph["t0"], a.steady, size_gib)
    r["extra_stats"] = ph.get("extra", [])
    r["end"] = ph.get("end", {})
    lm = num(r["end"].get("last_move", "")) if r["end"] else None
    if isinstance(lm, (int, float)) and lm >= ph["t0"]:
        # Seconds from insmod to the last sample at which pages had moved.
        r["settled_s"] = round(lm - ph["t0"], 1)
    if gp and "start" in gp:
        t0 = ph["t0"]
        t1 = float(r["end"].get("t") or 0) or t0 + a.max_duration
        t1 += 2
        s = [dict(x, at=gp["start"] + x["t"] - t0) for x in gp["samples"]
             if x.get("type") == "sample" and
             t0 <= gp["start"] + x["t"] <= t1]
        r["samples"] = [(round(x["at"], 2), x["hot_on_fast"],
                         x["fast_share"]) for x in s]
        hit = next((x["at"] for x in s if x["hot_on_fast"] >= 0.9), None)
        r["t90_s"] = None if hit is None else round(hit, 1)
        tail = s[-5:]
        if tail:
            r["final_hot_on_fast"] = sum(x["hot_on_fast"] for x in tail) / len(tail)
            r["mean_updates_per_s"] = sum(x["updates_per_s"] for x in s) / len(s)
    r["move_before"] = g["moves"].get("%s/%s" % (wl, build))
    # How long rmmod took (it waits for htierd's round in progress).
    t_end = float(r["end"].get("t", 0) or 0)
    t_rm = g.get("rmmod", {}).get("%s/%s" % (wl, build))
    if t_end and t_rm:
        r["rmmod_s"] = round(t_rm - t_end, 2)
    return r


def rotate(xs, k):
    k %= len(xs) or 1
    return xs[k:] + xs[:k]


def plan(a):
    """One guest per (repetition, size), sizes rotated per repetition; the
    builds' order alternates between models and repetitions."""
    runs = []
    for rep in range(a.reps):
        for i, size in enumerate(rotate(a.sizes, rep)):
            phases = []
            for j, wl in enumerate(a.workloads):
                o = list(a.builds) if (rep + j + i) % 2 == 0 else \
                    a.builds[::-1]
                phases += ["%s:%s" % (wl, b) for b in o]
            lat = None
            if a.lat and size == a.lat_size:
                lat = rotate(["off"] + a.builds, rep)
            runs.append({"rep": rep, "size": size, "phases": phases,
                         "lat": lat})
    return runs


def guest_timeout(a, size_b, nphases, nlat):
    gib = size_b / (1 << 30)
    return (150 + 15 * gib + nphases * (a.max_duration + 30 + 4 * gib) +
            nlat * (a.lat_seconds + 90))


def agg(vals, never=False):
    """median, min, max; with never=True a None (never reached) counts as
    +infinity and is reported as such."""
    if never:
        inf = float("inf")
        xs = [inf if v is None else v for v in vals]
    else:
        xs = [v for v in vals if v is not None]
    if not xs:
        return None
    r = {"median": statistics.median(xs), "min": min(xs), "max": max(xs),
         "n": len(xs)}
    if never:   # JSON has no infinity: never = null
        r.update({k: None for k in ("median", "min", "max")
                  if r[k] == float("inf")})
    return r


def summarize(res, a):
    """Per (size, model, build): median and spread over repetitions."""
    metrics = ["cpu_pct_steady", "cpu_pct_run", "ms_per_round_steady",
               "ms_per_round_run", "pct_per_gib_steady", "pct_per_gib_run",
               "final_hot_on_fast", "rounds", "promoted", "coverage_permil",
               "thread_cpu_permil", "ptes_scanned_per_s_steady",
               "pmds_skipped_per_s_steady", "mean_updates_per_s",
               "seconds", "settled_s", "moved_in_steady"]
    summ = {}
    for size in a.size_names:
        for wl in a.workloads:
            for b in BUILDS:
                rs = [g["results"].get("%s/%s" % (wl, b)) for g in res["guests"]
                      if g["size"] == size]
                rs = [r for r in rs if r]
                if not rs:
                    continue
                s = {m: agg([r.get(m) for r in rs]) for m in metrics}
                s["t90_s"] = agg([r.get("t90_s") for r in rs], never=True)
                s["n"] = len(rs)
                summ["%s/%s/%s" % (size, wl, b)] = s
    lat = {}
    for c in ["off"] + BUILDS:
        rs = [g["lat"][c] for g in res["guests"] if c in g.get("lat", {})
              and "p99_us" in g["lat"][c]]
        if rs:
            lat[c] = {m: agg([r.get(m) for r in rs]) for m in
                      ("p50_us", "p99_us", "max_us", "iterations",
                       "htierd_cpu_pct")}
            lat[c]["n"] = len(rs)
    return summ, lat


def m_(s, key):
    v = s.get(key) if s else None
    return v["median"] if v else None


def verdicts(summ, lat, a):
    """The goals of issue 12, from the medians; None = not measured."""
    out = []
    inf = float("inf")
    for wl in a.workloads:
        per = [(sz, m_(summ.get("%s/%s/after" % (sz, wl)), "cpu_pct_steady"),
                m_(summ.get("%s/%s/before" % (sz, wl)), "cpu_pct_steady"))
               for sz in a.size_names]
        have = [p for p in per if p[1] is not None]
        out.append({
            "goal": "cost %s: htierd ≤ 1%% of a vCPU at steady state at "
                    "every size (after)" % wl,
            "ok": all(p[1] <= 1 for p in have) if have else None,
            "measured": "; ".join("%s %.2f%% (before %s)" % (
                sz, v, "—" if bv is None else "%.2f%%" % bv)
                for sz, v, bv in have) or "not measured"})
        big = next((n for n in a.size_names if parse_size(n) == 8 << 30), None)
        small = next((n for n in a.size_names if parse_size(n) == 512 << 20),
                     None)
        key = "cpu_pct_steady"
        vb = m_(summ.get("%s/%s/after" % (big, wl)), key)
        vs = m_(summ.get("%s/%s/after" % (small, wl)), key)
        ok, meas = None, "not measured (needs sizes 512M and 8G)"
        if vb is not None and vs is not None:
            ratio = vb / vs if vs > 0 else (1.0 if vb == 0 else inf)
            ok = ratio <= 1.5
            bb = m_(summ.get("%s/%s/before" % (big, wl)), key)
            bs = m_(summ.get("%s/%s/before" % (small, wl)), key)
            rb = m_(summ.get("%s/%s/after" % (big, wl)), "ms_per_round_run")
            rs = m_(summ.get("%s/%s/after" % (small, wl)), "ms_per_round_run")
            qb = m_(summ.get("%s/%s/before" % (big, wl)), "ms_per_round_run")
            qs = m_(summ.get("%s/%s/before" % (small, wl)),
                    "ms_per_round_run")
            meas = ("8G %.2f%% / 512M %.2f%% = %.2f× (before: %s; ms per "
                    "round, whole run: after %s, before %s — a share near "
                    "100%% saturates, the round cost does not)" % (
                        vb, vs, ratio, "%.2f×" % (bb / bs)
                        if bb is not None and bs else "—",
                        "%.2f×" % (rb / rs) if rb and rs else "—",
                        "%.2f×" % (qb / qs) if qb and qs else "—"))
        out.append({"goal": "cost %s: 8 GiB CPU within 1.5× of 512 MiB "
                            "(after, steady state)" % wl,
                    "ok": ok, "measured": meas})
        rows, ok = [], True
        seen = False
        for sz in a.size_names:
            ta = summ.get("%s/%s/after" % (sz, wl), {}).get("t90_s")
            tb = summ.get("%s/%s/before" % (sz, wl), {}).get("t90_s")
            if not ta or not tb:
                continue
            va = inf if ta["median"] is None else ta["median"]
            vb = inf if tb["median"] is None else tb["median"]
            if va == inf and vb == inf:
                rows.append("%s never vs never (neither within %d s: not "
                            "judged)" % (sz, a.max_duration))
                continue
            seen = True
            ok = ok and va <= vb + a.t90_slack
            rows.append("%s %s vs %s" % (sz, fsec(ta["median"], " s"),
                                         fsec(tb["median"], " s")))
        out.append({"goal": "cost %s: t90 of after no worse than before "
                            "(median, ≤ +%g s)" % (wl, a.t90_slack),
                    "ok": ok if seen else None,
                    "measured": ("after vs before: " + "; ".join(rows))
                    if rows else "not measured"})
    off = m_(lat.get("off"), "p99_us")
    for b in reversed(BUILDS):
        on = m_(lat.get(b), "p99_us")
        ok, meas = None, "not measured"
        if off and on is not None:
            ok = on <= 1.5 * off
            meas = "p99 %.0f µs with htier (%s) vs %.0f µs without = %.2f×" % (
                on, b, off, on / off)
        out.append({"goal": "latency: mmap+touch+munmap p99 with htier ≤ 1.5× "
                            "without (%s)" % b, "ok": ok, "measured": meas})
    return out


def fsec(v, unit=""):
    if v is None or v == float("inf"):
        return "never"
    return "%g%s" % (round(v, 1), unit)


def fmt(v, spec="%.2f"):
    return "—" if v is None else spec % v


def spread(s, spec="%.2f", never=False):
    """'median (min–max)' of an agg() result."""
    if not s:
        return "—"
    f = (lambda v: fsec(v)) if never else (lambda v: spec % v)
    if s["n"] == 1 or s["min"] == s["max"]:
        return f(s["median"])
    return "%s (%s–%s)" % (f(s["median"]), f(s["min"]), f(s["max"]))


def markdown(res, a):
    summ, lat = res["summary"], res["latency"]
    c = res["config"]
    o = []
    o.append("Guest (every size): node 0 = 2 vCPUs + %d MiB, node 1 = %d MiB "
             "CPU-less, QEMU TCG `-cpu %s` (the guest then clears pages with "
             "rep stosq, which TCG runs several times faster than rep "
             "stosb). One gups process per guest (`gups --populate "
             "--bind-node 1 --size SIZE --hot %s --threads 1 "
             "--reset-on-sigusr1 --reset-modes MODELS`: 4 KiB pages, wholly "
             "on node 1) serves the guest's four measurements: before each, "
             "SIGUSR1 makes gups move the region back to node 1 (mbind "
             "MPOL_MF_MOVE) and switch to the measurement's model; then the "
             "build is loaded (insmod, `scope_pids` = gups, quota "
             "max, the module's default periods%s) for at least %d s, then "
             "on until no page has moved for %d s, at most %d s, and "
             "removed. Steady state = the last %d s of each measurement: "
             "htier tracking the region after it has filled node 0 "
             "(`moved in steady` > 0 where a measurement hit the %d s "
             "limit still migrating). %d repetition(s); figures are median "
             "(min–max) over them. Total guest time: %.0f s.\n" % (
                 c["fast_mb"], c["slow_mb"], CPU, c["hot"],
                 "" if not c["interval_ms"] else
                 ", scan_interval_ms=%d" % c["interval_ms"], c["duration"],
                 c["steady"], c.get("max_duration", c["duration"]),
                 c["steady"], c.get("max_duration", c["duration"]),
                 c["reps"], res.get("wall_s", 0)))
    mb, ma = res["modules"]["before"], res["modules"]["after"]
    tr = ma.get("tree")
    note = ""
    if tr:
        if tr.get("same_as_before"):
            note += (" guest-kmod/ in the working tree is the same as %s: "
                     "**both builds are the same code**, their differences "
                     "below are noise." % c["before_rev"])
        else:
            note += " guest-kmod/ differs from %s: %s%s." % (
                c["before_rev"], tr.get("diff_vs_before") or "?",
                (", untracked " + ", ".join(tr["untracked"]))
                if tr.get("untracked") else "")
        if tr.get("stale"):
            note += (" **Warning: the after module may not be the working "
                     "tree's code**: %s (run `make kmod`)." % tr["stale"])
    o.append("Builds: **before** = `%s` (git archive of commit %s, sha256 "
             "%s); **after** = `%s` (sha256 %s, built %s, working tree at "
             "HEAD %s).%s\n" % (
                 os.path.relpath(mb["path"], TOP), c["before_rev"],
                 mb["sha256"], os.path.relpath(ma["path"], TOP),
                 ma["sha256"], ma["built"], (tr or {}).get("head", "?"),
                 note))
    loads = [g["loadavg"] for g in res["guests"] if g.get("loadavg")]
    if loads:
        l1 = [x[0] for x in loads]
        le = [g["loadavg_end"][0] for g in res["guests"]
              if g.get("loadavg_end")]
        o.append("Host load average (1 min) at the start of each guest: "
                 "%.2f–%.2f (median %.2f), at the end: %.2f–%.2f, on %d "
                 "host cores (the guest itself accounts for up to ~2). "
                 "**Guest CPU "
                 "shares under TCG swing with host load**: a vCPU thread the "
                 "host deschedules stalls the guest's work, and htierd's "
                 "share of a vCPU goes up or down with what else runs on "
                 "the host. Compare builds within this run, not across "
                 "runs.\n" % (min(l1), max(l1), statistics.median(l1),
                              min(le or [0]), max(le or [0]),
                              os.cpu_count()))
    o.append("Reproduce: `%s` (this run); one point: `bench/vm/cost.py "
             "--sizes 8G --workloads scattered --reps 1 --no-lat --out "
             "/tmp/cost`; report only: `bench/vm/cost.py --report-only`.\n"
             % res["command"])
    o.append("| size | model | build | htierd CPU, steady (% of a vCPU) "
             "| whole run (%) | ms/round, steady | ms/round, whole run "
             "| steady %/GiB | whole run %/GiB | rounds | t90 (s) "
             "| last page moved (s) | moved in steady (pages) "
             "| hot on node 0 at end | runs |")
    o.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for sz in a.size_names:
        for wl in a.workloads:
            for b in BUILDS:
                s = summ.get("%s/%s/%s" % (sz, wl, b))
                if not s:
                    continue
                o.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s "
                         "| %s | %s | %s | %s | %d |" % (
                             sz, wl, b, spread(s["cpu_pct_steady"]),
                             spread(s["cpu_pct_run"]),
                             spread(s["ms_per_round_steady"], "%.0f"),
                             spread(s["ms_per_round_run"], "%.0f"),
                             spread(s["pct_per_gib_steady"]),
                             spread(s["pct_per_gib_run"]),
                             spread(s["rounds"], "%d"),
                             spread(s["t90_s"], never=True),
                             spread(s.get("settled_s"), "%.0f"),
                             spread(s.get("moved_in_steady"), "%d"),
                             spread(s["final_hot_on_fast"], "%.3f"),
                             s["n"]))
    o.append("")
    o.append("CPU: Δ(ns on CPU of htierd) / Δ(guest time), sampled each "
             "second from `/proc/<pid of htierd>/schedstat`; whole run = "
             "from insmod to the end of the measurement (%d–%d s). ms/round = "
             "CPU time / rounds completed (`stats/rounds`) in the same "
             "window (— when no round completed in the steady window). "
             "%%/GiB = CPU %% / GiB of gups region. t90 = seconds from "
             "insmod until gups' own move_pages(2) query finds ≥ 90 %% of "
             "the hot pages on node 0 (1 s resolution; `never` = not "
             "within the measurement). Last page moved = seconds from "
             "insmod to the last sample at which `promoted_pages` + "
             "`demoted_pages` had grown.\n" % (
                 c["duration"], c.get("max_duration", c["duration"])))
    if any(s.get("coverage_permil") or s.get("thread_cpu_permil") or
           s.get("ptes_scanned_per_s_steady") for s in summ.values()):
        o.append("New module stats (where the build has them; at the end "
                 "of the measurement, rates over the steady window):\n")
        o.append("| size | model | build | coverage_permil "
                 "| thread_cpu_permil | ptes_scanned/s | pmds_skipped/s |")
        o.append("|---|---|---|---|---|---|---|")
        for sz in a.size_names:
            for wl in a.workloads:
                for b in BUILDS:
                    s = summ.get("%s/%s/%s" % (sz, wl, b))
                    if not s or not (s.get("coverage_permil") or
                                     s.get("thread_cpu_permil") or
                                     s.get("ptes_scanned_per_s_steady")):
                        continue
                    o.append("| %s | %s | %s | %s | %s | %s | %s |" % (
                        sz, wl, b, spread(s["coverage_permil"], "%.0f"),
                        spread(s["thread_cpu_permil"], "%.0f"),
                        spread(s["ptes_scanned_per_s_steady"], "%.0f"),
                        spread(s["pmds_skipped_per_s_steady"], "%.0f")))
        o.append("")
    else:
        o.append("Neither build has the stats `coverage_permil`, "
                 "`thread_cpu_permil`, `ptes_scanned`, `pmds_skipped` "
                 "(read when present).\n")
    if lat:
        o.append("Latency a managed process sees (guest of the %s point): "
                 "`htier_maplat --busy-mb %d --bind-node 1 --seconds %d` "
                 "(mmap + first touch + munmap of %s in a loop while its "
                 "other thread keeps a %d MiB region on node 1 busy); off = "
                 "module not loaded, else `scope_pids` = htier_maplat from "
                 "its start.%s\n" % (
                     a.lat_size, a.lat_mb, a.lat_seconds, "64 KiB",
                     a.lat_mb, " (htier_maplat: `%s`)" % res["maplat"]
                     if res.get("maplat") else ""))
        o.append("| htier | p50 (µs) | p99 (µs) | max (µs) | iterations "
                 "| htierd CPU (% of a vCPU) | runs |")
        o.append("|---|---|---|---|---|---|---|")
        for cnd in ["off"] + BUILDS:
            s = lat.get(cnd)
            if not s:
                continue
            o.append("| %s | %s | %s | %s | %s | %s | %d |" % (
                cnd, spread(s["p50_us"], "%.0f"), spread(s["p99_us"], "%.0f"),
                spread(s["max_us"], "%.0f"), spread(s["iterations"], "%d"),
                spread(s["htierd_cpu_pct"]) if cnd != "off" else "—",
                s["n"]))
        o.append("")
    elif res.get("lat_missing"):
        o.append("Latency: not measured — %s.\n" % res["lat_missing"])
    o.append("| goal (issue 12) | met | measured |")
    o.append("|---|---|---|")
    for v in res["verdicts"]:
        o.append("| %s | %s | %s |" % (v["goal"], "—" if v["ok"] is None
                                       else "yes" if v["ok"] else "**no**",
                                       v["measured"]))
    o.append("")
    tt, wall, rm = {}, {}, {}
    for g in res["guests"]:
        if g.get("touch_s") is not None:
            tt.setdefault(g["size"], []).append(g["touch_s"])
        wall.setdefault(g["size"], []).append(g["wall_s"])
        for key, r in g["results"].items():
            if r.get("rmmod_s") is not None:
                rm.setdefault(key.split("/")[1], []).append(r["rmmod_s"])

    def rng(v, spec="%.0f"):
        return (spec % v[0]) if len(v) == 1 or min(v) == max(v) else \
            "%s–%s" % (spec % min(v), spec % max(v))
    if wall:
        o.append("Time spent per guest (s): faulting the region in "
                 "(`gups --populate`) " +
                 ", ".join("%s %s" % (sz, rng(v)) for sz, v in tt.items()) +
                 "; whole guest " +
                 ", ".join("%s %s" % (sz, rng(v)) for sz, v in wall.items()) +
                 "; rmmod (waits for the round in progress) " +
                 ", ".join("%s %s" % (b, rng(v, "%.1f"))
                           for b, v in rm.items()) + ".\n")
    n0, n1, rs = [], [], []
    for g in res["guests"]:
        for r in g["results"].values():
            mv = r.get("move_before") or {}
            w = (mv.get("where") or {}).get("on_node", {})
            if w:
                n0.append(w.get("0", 0))
                n1.append(w.get("1", 0))
            if mv.get("reset"):
                rs.append(mv["reset"]["seconds"])
    if n1:
        o.append("At each measurement's start (`/proc/<gups>/numa_maps` of "
                 "the region): %d–%d pages on node 1, at most %d on node 0; "
                 "moving the previous build's promotions back took %.1f–%.1f "
                 "s.\n" % (min(n1), max(n1), max(n0), min(rs or [0]),
                            max(rs or [0])))
    errs = [(g["size"], e) for g in res["guests"] for e in g.get("errors", [])]
    if errs:
        o.append("Guest errors: " + "; ".join("%s: %s" % x for x in errs) +
                 "\n")
    return "\n".join(o) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(TOP, "bench", "results"))
    ap.add_argument("--sizes", default="512M,2G,8G")
    ap.add_argument("--workloads", default="hotset,scattered")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--duration", type=int, default=30,
                    help="seconds per measurement (module loaded)")
    ap.add_argument("--steady", type=int, default=10,
                    help="steady state: the last S seconds of a measurement, "
                    "which goes on past --duration until no page moved in "
                    "them")
    ap.add_argument("--max-duration", type=int, default=90,
                    help="a measurement ends after this many seconds even "
                    "if pages still move (its steady window then holds "
                    "migration: reported)")
    ap.add_argument("--hot", default="64M")
    ap.add_argument("--fast-mb", type=int, default=512)
    ap.add_argument("--slow-mb", type=int, default=0,
                    help="node 1 size (default: largest size + 1 GiB)")
    ap.add_argument("--interval-ms", type=int, default=0,
                    help="scan_interval_ms (0: the module's default)")
    ap.add_argument("--builds", default=",".join(BUILDS),
                    help="which builds to measure (before,after; a "
                    "development check may run after alone)")
    ap.add_argument("--before-rev", default="cb06853")
    ap.add_argument("--before-ko", help="use this module as 'before'")
    ap.add_argument("--after-ko", default=htiervm.KMOD)
    ap.add_argument("--maplat", help="htier_maplat binary (default: the "
                    "one `make selftests` built, if any)")
    ap.add_argument("--no-lat", dest="lat", action="store_false")
    ap.add_argument("--lat-size", default="2G",
                    help="the size whose guests also run the latency test")
    ap.add_argument("--lat-mb", type=int, default=2048)
    ap.add_argument("--lat-seconds", type=int, default=10)
    ap.add_argument("--t90-slack", type=float, default=1.0,
                    help="t90 goal tolerance in seconds (gups samples once "
                    "a second)")
    ap.add_argument("--quick", action="store_true",
                    help="smoke test: 1 repetition, 512M and 2G, 20 s")
    ap.add_argument("--report-only", action="store_true",
                    help="rewrite cost.md from OUT/cost.json")
    ap.add_argument("--logs", default=os.path.join(htiervm.BUILD, "bench-logs"))
    a = ap.parse_args()
    cmd = " ".join(["bench/vm/cost.py"] + sys.argv[1:])
    a.after_ko_given = a.after_ko != ap.get_default("after_ko")
    if a.quick:
        a.reps = 1
        if a.sizes == "512M,2G,8G":
            a.sizes = "512M,2G"
        if a.duration == 30:
            a.duration = 20
        if a.max_duration == 90:
            a.max_duration = 40
        a.lat_seconds = min(a.lat_seconds, 6)
    os.makedirs(a.out, exist_ok=True)
    if a.report_only:
        with open(os.path.join(a.out, "cost.json")) as f:
            res = json.load(f)
        for k, v in res["config"].items():
            setattr(a, k, v)
        res["summary"], res["latency"] = summarize(res, a)
        res["verdicts"] = verdicts(res["summary"], res["latency"], a)
        with open(os.path.join(a.out, "cost.json"), "w") as f:
            json.dump(res, f, indent=1)
        with open(os.path.join(a.out, "cost.md"), "w") as f:
            f.write(markdown(res, a))
        return 0
    a.size_names = [s for s in a.sizes.split(",") if s]
    a.size_bytes = {s: parse_size(s) for s in a.size_names}
    a.sizes = a.size_names
    a.workloads = [w for w in a.workloads.split(",") if w]
    a.builds = [b for b in a.builds.split(",") if b]
    if not a.builds or any(b not in BUILDS for b in a.builds):
        raise SystemExit("cost.py: --builds takes before and/or after")
    if a.lat and a.lat_size not in a.size_names:
        a.lat_size = a.size_names[0]
    if not a.slow_mb:
        a.slow_mb = max(a.size_bytes.values()) // (1 << 20) + 1024
        if a.lat:
            a.slow_mb = max(a.slow_mb, a.lat_mb + 1024)
    os.makedirs(a.logs, exist_ok=True)

    before = a.before_ko or build_before(a.before_rev)
    if not os.path.exists(a.after_ko):
        raise SystemExit("cost.py: %s missing (make kmod)" % a.after_ko)
    maplat = a.maplat
    built_maplat = os.path.join(htiervm.BUILD, "selftests", "htier_maplat")
    lat_missing = None
    if a.lat and not maplat and not os.access(built_maplat, os.X_OK):
        lat_missing = ("htier_maplat is not built (tests/selftests/htier/"
                       "htier_maplat.c, `make selftests`)")
        a.lat = False
    modules = {"before": before, "after": a.after_ko}
    initramfs = build_initramfs(modules, build_helper(), maplat)
    res = {"command": cmd,
           "generated": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
           "config": {"sizes": a.size_names, "workloads": a.workloads,
                      "reps": a.reps, "duration": a.duration,
                      "max_duration": a.max_duration,
                      "steady": a.steady, "hot": a.hot,
                      "fast_mb": a.fast_mb, "slow_mb": a.slow_mb,
                      "interval_ms": a.interval_ms,
                      "before_rev": a.before_rev if not a.before_ko else
                      "(--before-ko %s)" % a.before_ko, "lat": a.lat,
                      "lat_size": a.lat_size, "lat_mb": a.lat_mb,
                      "lat_seconds": a.lat_seconds,
                      "t90_slack": a.t90_slack, "cpu": CPU,
                      "size_names": a.size_names},
           "modules": {b: module_info(p) for b, p in modules.items()},
           "maplat": os.path.abspath(maplat) if maplat else
           (built_maplat if a.lat else None),
           "lat_missing": lat_missing, "guests": []}
    if not a.after_ko_given:
        res["modules"]["after"]["tree"] = tree_info(a.before_rev, a.after_ko)
    t_start = time.time()
    for run in plan(a):
        size, b = run["size"], a.size_bytes[run["size"]]
        append = ("nokaslr cost.size=%s cost.bytes=%d cost.hot=%s cost.dur=%d "
                  "cost.steady=%d cost.maxdur=%d cost.phases=%s cost.interval=%d cost.lat=%s "
                  "cost.latmb=%d cost.latsec=%d" % (
                      size, b, a.hot, a.duration, a.steady,
                      max(a.duration, a.max_duration), ",".join(run["phases"]),
                      a.interval_ms, "+".join(run["lat"]) if run["lat"]
                      else "none", a.lat_mb, a.lat_seconds))
        log = os.path.join(a.logs, "cost_%s_rep%d.log" % (size, run["rep"]))
        load0 = os.getloadavg()
        t0 = time.time()
        gst = htiervm.Guest(run="bench/cost_run.sh", initramfs=initramfs,
                            append=append, fast_mb=a.fast_mb,
                            slow_mb=a.slow_mb, log=log, cpu=CPU).start()
        status = gst.wait(guest_timeout(a, b, len(run["phases"]),
                                        len(run["lat"] or [])))
        g = parse_guest(list(gst.output))
        gres = {"rep": run["rep"], "size": size, "phases": run["phases"],
                "lat_order": run["lat"], "exit": status,
                "wall_s": round(time.time() - t0, 1),
                "loadavg": list(load0), "loadavg_end": list(os.getloadavg()),
                "append": append, "errors": g["errors"], "info": g["info"],
                "nodes": g["nodes"],
                "touch_s": g["gups"].get("touch_s"),
                "results": {}, "lat": {}}
        gib = b / (1 << 30)
        for wl in a.workloads:
            for bl in BUILDS:
                r = phase_result(g, wl, bl, a, gib)
                if r:
                    gres["results"]["%s/%s" % (wl, bl)] = r
        for cnd, j in g["lat"].items():
            cs = g["lat_cpu"].get(cnd, [])
            if len(cs) >= 2 and cs[-1]["t"] > j["t0"]:
                j["htierd_cpu_pct"] = 100.0 * cs[-1]["ns"] / 1e9 / (
                    cs[-1]["t"] - j["t0"])
            gres["lat"][cnd] = j
        if g.get("lat_missing"):
            res["lat_missing"] = g["lat_missing"]
        res["guests"].append(gres)
        line = []
        for key, r in sorted(gres["results"].items()):
            line.append("%s cpu %s/%s%% t90 %s" % (
                key, fmt(r.get("cpu_pct_steady")), fmt(r.get("cpu_pct_run")),
                fsec(r.get("t90_s"))))
        print("cost.py: rep %d %-4s exit %s (%.0f s, load %.2f) %s" % (
            run["rep"], size, status, gres["wall_s"], load0[0],
            "; ".join(line)), flush=True)
        for cnd, j in sorted(gres["lat"].items()):
            print("cost.py:   latency %-6s p50 %s p99 %s max %s us" % (
                cnd, j.get("p50_us"), j.get("p99_us"), j.get("max_us")),
                flush=True)
        for e in g["errors"]:
            print("cost.py:   guest error: %s" % e, flush=True)
    res["wall_s"] = round(time.time() - t_start, 1)
    res["summary"], res["latency"] = summarize(res, a)
    res["verdicts"] = verdicts(res["summary"], res["latency"], a)
    with open(os.path.join(a.out, "cost.json"), "w") as f:
        json.dump(res, f, indent=1)
    with open(os.path.join(a.out, "cost.md"), "w") as f:
        f.write(markdown(res, a))
    print("cost.py: wrote %s/cost.md (%.0f s)" % (a.out, res["wall_s"]))
    bad = [g for g in res["guests"] if g["exit"] != 0 or not g["results"]]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
