// SPDX-License-Identifier: GPL-2.0
#include "simulator.h"

#include <algorithm>
#include <random>

namespace htier::sim {

namespace {

// PEBS-like sampling: one sample per pebsPeriod accesses on average, each
// landing on a page in proportion to its accesses in the epoch.
void drawSamples(const Epoch& e, double period, std::mt19937_64& rng,
                 std::vector<uint32_t>& samples, std::vector<double>& cdf) {
  std::fill(samples.begin(), samples.end(), 0);
  cdf.resize(e.count.size());
  double sum = 0;
  for (size_t i = 0; i < e.count.size(); i++)
    cdf[i] = sum += e.count[i];
  if (sum <= 0 || period <= 0)
    return;
  std::poisson_distribution<uint64_t> nr(sum / period);
  std::uniform_real_distribution<double> u(0, sum);
  for (uint64_t n = nr(rng); n; n--) {
    size_t i = std::upper_bound(cdf.begin(), cdf.end(), u(rng)) - cdf.begin();
    samples[std::min(i, samples.size() - 1)]++;
  }
}

}  // namespace

SimResult simulate(AccessSource& source, const SimConfig& cfg) {
  SimResult out;
  out.pages = source.pages();
  out.epochs = source.epochs();
  out.workload = source.describe();

  PolicyConfig pc = cfg.policy;
  pc.pages = source.pages();
  pc.epochMs = cfg.epochMs;
  pc.pebsBasePeriod = cfg.pebsPeriod;
  std::vector<std::unique_ptr<Policy>> policies;
  for (const auto& name : cfg.policies.empty() ? policyNames() : cfg.policies)
    policies.push_back(makePolicy(name, pc));
  out.policies.resize(policies.size());
  for (size_t i = 0; i < policies.size(); i++)
    out.policies[i].name = policies[i]->name();

  const double epochS = cfg.epochMs / 1000;
  std::mt19937_64 rng(cfg.seed * 7919 + 17);
  std::vector<uint32_t> samples(source.pages());
  std::vector<double> cdf;
  Epoch epoch;
  int64_t shiftEpoch = -1;

  for (uint64_t e = 0; e < source.epochs(); e++) {
    epoch.index = e;
    source.fill(epoch);
    if (epoch.shiftedHere)
      shiftEpoch = static_cast<int64_t>(e);
    drawSamples(epoch, cfg.pebsPeriod, rng, samples, cdf);
    out.hasHotSet = epoch.hot != nullptr;

    for (size_t i = 0; i < policies.size(); i++) {
      Policy& p = *policies[i];
      PolicyResult& r = out.policies[i];
      p.before(epoch);
      double fast = 0, all = 0;
      uint64_t hotFast = 0;
      for (uint64_t page = 0; page < source.pages(); page++) {
        const bool f = p.onFast(page);
        all += epoch.count[page];
        fast += f ? epoch.count[page] : 0;
        if (epoch.hot && (*epoch.hot)[page])
          hotFast += f;
      }
      r.fastAccesses += fast;
      r.accesses += all;
      const double hotOnFast =
          epoch.hot ? static_cast<double>(hotFast) / epoch.hotPages : -1;
      const double t = e * epochS;
      if (hotOnFast >= 0.9 && r.t90S < 0)
        r.t90S = t;
      if (hotOnFast >= 0.9 && shiftEpoch >= 0 && r.t90AfterShiftS < 0)
        r.t90AfterShiftS = (static_cast<int64_t>(e) - shiftEpoch) * epochS;
      if (cfg.timeline)
        r.timeline.push_back({t, all > 0 ? fast / all : 0, hotOnFast});
      const uint64_t movedBefore = p.promoted() + p.demoted();
      p.after(Signals{epoch, samples});
      r.movedByEpoch.push_back(p.promoted() + p.demoted() - movedBefore);
    }
  }
  out.hasShift = shiftEpoch >= 0;
  for (auto& r : out.policies) {
    const uint64_t n = r.movedByEpoch.size();
    const uint64_t mid = shiftEpoch >= 0 ? static_cast<uint64_t>(shiftEpoch) : n;
    uint64_t moved = 0, epochs = 0;
    for (uint64_t e = 0; e < n; e++)
      if ((e < mid && e >= mid / 2) || (e >= mid + (n - mid) / 2)) {
        moved += r.movedByEpoch[e];
        epochs++;
      }
    r.steadyMovedPerS = epochs ? moved / (epochs * epochS) : 0;
  }

  const double accesses = out.policies.empty() ? 0 : out.policies[0].accesses;
  for (const auto& lat : cfg.latencies)
    out.allFastS.push_back(accesses * lat.fastNs * 1e-9);
  for (size_t i = 0; i < policies.size(); i++) {
    PolicyResult& r = out.policies[i];
    r.promoted = policies[i]->promoted();
    r.demoted = policies[i]->demoted();
    r.detail = policies[i]->detail();
    for (const auto& lat : cfg.latencies)
      r.timeS.push_back((r.fastAccesses * lat.fastNs +
                         (r.accesses - r.fastAccesses) * lat.slowNs) * 1e-9 +
                        r.migrated() * cfg.migrateUsPerPage * 1e-6);
  }
  return out;
}

}  // namespace htier::sim
