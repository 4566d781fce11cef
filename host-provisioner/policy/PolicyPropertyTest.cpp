// SPDX-License-Identifier: GPL-2.0
//
// Property tests over random inputs (seeded, so a failure is reproducible
// from the seed printed with it): every policy keeps every bound on every
// input, and the demand-aware ones give idle VMs only their floor.
#include <gtest/gtest.h>

#include <random>

#include "policy/Curve.h"
#include "policy/PolicyRegistry.h"
#include "policy/PolicyTestUtil.h"
#include "policy/Stabilizer.h"

using namespace htier;
using namespace htier::testing;

namespace {

// A random feasible input: aligned floors that fit in the capacity,
// ceilings above floors, random hot sets, curves, weights and block sizes.
PolicyInput randomInput(std::mt19937_64& rng) {
  auto pick = [&](uint64_t lo, uint64_t hi) {
    return std::uniform_int_distribution<uint64_t>(lo, hi)(rng);
  };
  PolicyInput in;
  size_t n = pick(1, 24);
  uint64_t blocks[] = {2 * kMiB, 4 * kMiB, 128 * kMiB};
  in.capacityBytes = pick(0, 64 * 1024) * kMiB + pick(0, 1);
  uint64_t floorBudget = in.capacityBytes;
  for (size_t i = 0; i < n; i++) {
    VmDemand d;
    d.name = "vm" + std::to_string(i);
    d.blockBytes = blocks[pick(0, 2)];
    uint64_t maxBlocks = pick(0, 4096 * kMiB / d.blockBytes);
    d.ceilingBytes = maxBlocks * d.blockBytes;
    uint64_t floorBlocks =
        pick(0, std::min(maxBlocks, floorBudget / d.blockBytes / 4));
    d.floorBytes = floorBlocks * d.blockBytes;
    floorBudget -= d.floorBytes;
    d.currentBytes = pick(0, maxBlocks) * d.blockBytes;
    d.weight = std::uniform_real_distribution<double>(0.01, 100)(rng);
    d.hasDemand = pick(0, 4) != 0;
    d.hotSetBytes = d.hasDemand ? pick(0, 6 * kGiB) : 0;
    if (d.hasDemand && pick(0, 1)) {
      size_t pts = pick(1, 64);
      uint64_t x = 0;
      double share = 0;
      for (size_t k = 0; k < pts; k++) {
        x += pick(1, 256 * kMiB);
        share = std::min(
            1.0, share + std::uniform_real_distribution<double>(0, 0.2)(rng));
        d.curve.push_back({x, share});
      }
    }
    in.vms.push_back(d);
  }
  return in;
}

void checkBounds(const PolicyInput& in, const std::vector<Quota>& q,
                 const std::string& what) {
  ASSERT_EQ(q.size(), in.vms.size()) << what;
  uint64_t total = 0;
  for (size_t i = 0; i < q.size(); i++) {
    const VmDemand& d = in.vms[i];
    EXPECT_GE(q[i].bytes, d.floorBytes) << what << " vm " << i;
    EXPECT_LE(q[i].bytes, std::max(d.floorBytes, d.ceilingBytes))
        << what << " vm " << i;
    EXPECT_EQ(q[i].bytes % d.blockBytes, 0u) << what << " vm " << i;
    total += q[i].bytes;
  }
  EXPECT_LE(total, in.capacityBytes) << what;
}

}  // namespace

TEST(PolicyProperties, BoundsHoldForEveryPolicyOnRandomInputs) {
  for (const auto& name : policyNames()) {
    auto policy = makePolicy(name);
    for (uint64_t seed = 1; seed <= 300; seed++) {
      std::mt19937_64 rng(seed);
      PolicyInput in = randomInput(rng);
      checkBounds(in, policy->allocate(in),
                  name + " seed " + std::to_string(seed));
      if (HasFailure())
        return;
    }
  }
}

TEST(PolicyProperties, IdleVmsGetOnlyTheirFloor) {
  for (const char* name : {"utility", "weighted-fair", "greedy"}) {
    auto policy = makePolicy(name);
    for (uint64_t seed = 1; seed <= 200; seed++) {
      std::mt19937_64 rng(seed);
      PolicyInput in = randomInput(rng);
      auto q = policy->allocate(in);
      for (size_t i = 0; i < q.size(); i++)
        if (!in.vms[i].hasDemand) {
          EXPECT_EQ(q[i].bytes, in.vms[i].floorBytes)
              << name << " seed " << seed << " vm " << i;
        }
      if (HasFailure())
        return;
    }
  }
}

TEST(PolicyProperties, DemandAwarePoliciesNeverExceedDemand) {
  // More than a VM's demand (rounded to a block) is memory nobody uses.
  for (const char* name : {"utility", "weighted-fair", "greedy"}) {
    auto policy = makePolicy(name);
    for (uint64_t seed = 1; seed <= 200; seed++) {
      std::mt19937_64 rng(seed);
      PolicyInput in = randomInput(rng);
      auto q = policy->allocate(in);
      for (size_t i = 0; i < q.size(); i++) {
        const VmDemand& d = in.vms[i];
        uint64_t demand = d.hotSetBytes;
        if (!d.curve.empty())
          demand = std::max(demand, d.curve.back().fastBytes);
        uint64_t limit = std::max(d.floorBytes, alignUp(demand, d.blockBytes));
        EXPECT_LE(q[i].bytes, limit) << name << " seed " << seed << " vm " << i;
      }
      if (HasFailure())
        return;
    }
  }
}

TEST(PolicyProperties, UtilityIsAtLeastAsGoodAsWeightedFair) {
  // On concave (hot-set derived) curves the utility fill is optimal up to
  // block rounding, so it never buys fewer weighted hits.
  auto util = makePolicy("utility");
  auto fair = makePolicy("weighted-fair");
  for (uint64_t seed = 1; seed <= 200; seed++) {
    std::mt19937_64 rng(seed);
    PolicyInput in = randomInput(rng);
    for (auto& d : in.vms)
      d.curve.clear();
    auto score = [&](const std::vector<Quota>& q) {
      double s = 0;
      for (size_t i = 0; i < q.size(); i++)
        if (in.vms[i].hasDemand)
          s += in.vms[i].weight *
               curveShare(curveFromHotSet(in.vms[i].hotSetBytes), q[i].bytes);
      return s;
    };
    double u = score(util->allocate(in));
    double f = score(fair->allocate(in));
    double slack = 0;
    for (const auto& d : in.vms)
      if (d.hotSetBytes)
        slack += d.weight * static_cast<double>(d.blockBytes) /
                 static_cast<double>(d.hotSetBytes);
    EXPECT_GE(u + slack + 1e-9, f) << "seed " << seed;
  }
}

TEST(PolicyProperties, StabilizedSequenceKeepsBoundsAndDoesNotFlap) {
  // Feed the stabilizer a proposal that alternates every interval; within
  // the hold time a VM's quota changes at most once.
  auto policy = makePolicy("utility");
  StabilizerParams params{5000, 32 * kMiB};
  for (uint64_t seed = 1; seed <= 100; seed++) {
    std::mt19937_64 rng(seed);
    PolicyInput a = randomInput(rng);
    PolicyInput b = a;
    for (auto& d : b.vms) {
      d.hasDemand = !d.hasDemand;
      d.hotSetBytes = d.hasDemand ? 3 * kGiB : 0;
    }
    std::vector<uint64_t> cur(a.vms.size());
    std::vector<Millis> changed(a.vms.size(), 0);
    std::vector<int> changes(a.vms.size(), 0);
    std::vector<bool> ever(a.vms.size(), false);
    for (size_t i = 0; i < cur.size(); i++)
      cur[i] = a.vms[i].floorBytes;
    for (Millis now = 0; now < 4000; now += 1000) {
      PolicyInput& in = (now / 1000) % 2 ? b : a;
      auto q = policy->allocate(in);
      std::vector<StabilizerVm> sv;
      for (size_t i = 0; i < q.size(); i++)
        sv.push_back({cur[i], q[i].bytes, in.vms[i].floorBytes,
                      in.vms[i].ceilingBytes, in.vms[i].blockBytes, changed[i],
                      ever[i]});
      auto next = stabilize(in.capacityBytes, sv, now, params);
      uint64_t total = 0;
      for (size_t i = 0; i < next.size(); i++) {
        EXPECT_GE(next[i], in.vms[i].floorBytes);
        EXPECT_LE(next[i],
                  std::max(in.vms[i].floorBytes, in.vms[i].ceilingBytes));
        total += next[i];
        if (next[i] != cur[i]) {
          changes[i]++;
          changed[i] = now;
          ever[i] = true;
          cur[i] = next[i];
        }
      }
      EXPECT_LE(total, in.capacityBytes) << "seed " << seed;
    }
    for (int c : changes)
      EXPECT_LE(c, 1) << "seed " << seed;
    if (HasFailure())
      return;
  }
}
