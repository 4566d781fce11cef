// SPDX-License-Identifier: GPL-2.0
//
// Modeled slowdown of htier-provisiond's policies over generated demand
// traces, using the daemon's real policy classes and Stabilizer.
//
// Model (stated in the output too):
//  * VMs follow demand traces (demand.h): phases of 10-60 epochs, 25% idle;
//    an active phase touches A bytes (log-uniform 32 MiB..1 GiB) with Zipf
//    popularity s in [0.6, 1.2].  One epoch = one policy interval (1 s).
//  * Each epoch the policy sees the curve each guest reported in the
//    previous epoch (17 points, as htier-agent sends), min 0, max 4 GiB,
//    weight 1; its result goes through the Stabilizer with the daemon's
//    defaults (hold 5 epochs, hysteresis 32 MiB) and is in force for the
//    epoch (migration and resize costs are not modeled).
//  * An active VM with fast quota q has hit share h = H(q)/H(A) (its true
//    curve) and runs each access in 80 ns * h + 200 ns * (1 - h); its
//    slowdown is that over 80 ns (all-fast).  Idle VMs do not count.
//  * Reported: mean slowdown over active VM-epochs, and the excess
//    slowdown (slowdown - 1) summed, relative to greedy.
//
// Usage: slowdown_sim [--vms N] [--epochs E] [--seeds S] [--zipf MIN MAX]
// (--zipf in hundredths: --zipf 30 150 draws s from [0.3, 1.5]).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>

#include "demand.h"
#include "policy/PolicyRegistry.h"
#include "policy/Stabilizer.h"

using namespace htier;
using namespace htier::bench;

namespace {

constexpr uint64_t kBlock = 2 * kMiB;
constexpr double kFastNs = 80, kSlowNs = 200;

struct Result {
  double slowdownSum = 0;  // sum of per-VM-epoch slowdowns (active only)
  double activeEpochs = 0;
  double excess() const { return slowdownSum - activeEpochs; }
  double mean() const { return activeEpochs ? slowdownSum / activeEpochs : 1; }
};

Result simulate(const std::string& policyName,
                const std::vector<std::vector<Phase>>& trace,
                uint64_t capacity, bool damp) {
  auto policy = makePolicy(policyName);
  const size_t n = trace[0].size();
  std::vector<uint64_t> q(n, 0);
  std::vector<Millis> changed(n, 0);
  std::vector<bool> ever(n, false);
  Result r;
  for (size_t e = 0; e < trace.size(); e++) {
    Millis now = static_cast<Millis>(e) * 1000;
    PolicyInput in;
    in.capacityBytes = capacity;
    for (size_t v = 0; v < n; v++) {
      const Phase& seen = e ? trace[e - 1][v] : Phase{};
      VmDemand d;
      d.name = "vm" + std::to_string(v);
      d.blockBytes = kBlock;
      d.floorBytes = 0;
      d.ceilingBytes = 4 * kGiB;
      d.currentBytes = q[v];
      d.weight = 1;
      d.curve = curveOf(seen);
      d.hasDemand = seen.active;
      // The module's hot set counts hot pages that fit in the quota; the
      // demand beyond it shows only in the curve.
      d.hotSetBytes = seen.active ? std::min(q[v], seen.accessedBytes) : 0;
      in.vms.push_back(std::move(d));
    }
    auto quotas = policy->allocate(in);
    std::vector<uint64_t> next(n);
    if (damp) {
      std::vector<StabilizerVm> sv;
      for (size_t v = 0; v < n; v++)
        sv.push_back({q[v], quotas[v].bytes, 0, 4 * kGiB, kBlock, changed[v],
                      ever[v]});
      next = stabilize(capacity, sv, now, {5000, 32 * kMiB});
    } else {
      for (size_t v = 0; v < n; v++)
        next[v] = quotas[v].bytes;
    }
    uint64_t total = 0;
    for (size_t v = 0; v < n; v++) {
      if (next[v] != q[v]) {
        q[v] = next[v];
        changed[v] = now;
        ever[v] = true;
      }
      total += q[v];
    }
    if (total > capacity) {
      std::fprintf(stderr, "BUG: %s handed out %llu > capacity %llu\n",
                   policyName.c_str(), (unsigned long long)total,
                   (unsigned long long)capacity);
      std::exit(1);
    }
    for (size_t v = 0; v < n; v++) {
      const Phase& p = trace[e][v];
      if (!p.active)
        continue;
      double h = hitShare(p, q[v]);
      r.slowdownSum += (kFastNs * h + kSlowNs * (1 - h)) / kFastNs;
      r.activeEpochs += 1;
    }
  }
  return r;
}

uint64_t meanActiveDemand(const std::vector<std::vector<Phase>>& trace) {
  double s = 0;
  for (const auto& epoch : trace)
    for (const auto& p : epoch)
      if (p.active)
        s += static_cast<double>(p.accessedBytes);
  return static_cast<uint64_t>(s / static_cast<double>(trace.size()));
}

}  // namespace

int main(int argc, char** argv) {
  TraceParams tp;
  int seeds = 5;
  for (int i = 1; i < argc; i++) {
    auto next = [&] { return i + 1 < argc ? std::atoi(argv[++i]) : 0; };
    if (!std::strcmp(argv[i], "--vms"))
      tp.vms = next();
    else if (!std::strcmp(argv[i], "--epochs"))
      tp.epochs = next();
    else if (!std::strcmp(argv[i], "--seeds"))
      seeds = next();
    else if (!std::strcmp(argv[i], "--zipf"))  // "--zipf MIN MAX" (x100)
      tp.minZipf = next() / 100.0, tp.maxZipf = next() / 100.0;
    else {
      std::fprintf(stderr,
                   "usage: slowdown_sim [--vms N] [--epochs E] [--seeds S] "
                   "[--zipf MIN100 MAX100]\n");
      return 2;
    }
  }
  if (tp.vms <= 0 || tp.epochs <= 1 || seeds <= 0)
    return 2;
  const std::vector<std::string> policies = {"utility", "weighted-fair",
                                             "static", "greedy"};
  const std::vector<double> fractions = {0.25, 0.5, 0.75};
  // [damp][fraction][policy] summed over seeds.
  std::map<std::tuple<bool, double, std::string>, Result> acc;
  for (int s = 0; s < seeds; s++) {
    auto trace = makeTrace(tp, 1000 + s);
    uint64_t demand = meanActiveDemand(trace);
    for (double f : fractions) {
      uint64_t cap = alignDown(static_cast<uint64_t>(demand * f), kBlock);
      for (bool damp : {true, false})
        for (const auto& p : policies) {
          Result r = simulate(p, trace, cap, damp);
          auto& a = acc[{damp, f, p}];
          a.slowdownSum += r.slowdownSum;
          a.activeEpochs += r.activeEpochs;
        }
    }
  }
  std::printf("%d VMs, %d epochs x %d seeds, Zipf s in [%.2f, %.2f]; "
              "capacity = share of the mean total accessed bytes of the "
              "active VMs\n\n",
              tp.vms, tp.epochs, seeds, tp.minZipf, tp.maxZipf);
  for (bool damp : {true, false}) {
    std::printf("%s\n\n", damp ? "With the Stabilizer (hold 5 s, hysteresis "
                                 "32 MiB), as the daemon runs:"
                               : "Raw policy output (no damping):");
    std::printf("| policy |");
    for (double f : fractions)
      std::printf(" capacity %.0f%%: mean slowdown | excess vs greedy |",
                  f * 100);
    std::printf("\n|---|");
    for (size_t i = 0; i < fractions.size(); i++)
      std::printf("---:|---:|");
    std::printf("\n");
    for (const auto& p : policies) {
      std::printf("| %s |", p.c_str());
      for (double f : fractions) {
        const Result& r = acc[{damp, f, p}];
        const Result& g = acc[{damp, f, "greedy"}];
        std::printf(" %.3f | %.0f%% |", r.mean(),
                    g.excess() > 0 ? 100 * r.excess() / g.excess() : 100.0);
      }
      std::printf("\n");
    }
    std::printf("\n");
  }
  return 0;
}
