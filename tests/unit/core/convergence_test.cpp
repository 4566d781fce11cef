// SPDX-License-Identifier: GPL-2.0
// Repeated rounds of plan + select + migrate on a simulated table: placement
// reaches the ideal one in a bounded number of rounds, never breaks the
// quota on the way, and then stays put (no oscillation).  Then the module's
// accessed-bit loop (record each epoch, cool every 8 epochs) finds scattered
// single hot pages and follows a hot-set shift.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "core_test_util.h"

namespace htier::test {
namespace {

// Module defaults: cool by one shift every 8 epochs, 4096 pages per round.
constexpr uint32_t kCoolEveryEpochs = 8;
constexpr uint32_t kCoolShift = 1;
constexpr uint64_t kBatchPages = 4096;

uint64_t ceilDiv(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

TEST(PolicyConvergence, ReachesIdealPlacementThenStops) {
  std::mt19937_64 rng(777);
  for (int trial = 0; trial < 40; trial++) {
    SCOPED_TRACE(trial);
    const uint32_t nrPages = 1000 + rng() % 20000;
    Table t(1u << 16);
    const int initial = trial % 3;  // all slow, random, all fast
    for (uint64_t v = 0; v < nrPages; v++) {
      // Skewed heats: most pages cold, a few very hot.
      uint32_t heat = rng() % 4 ? rng() % 3 : 1u << (rng() % 15);
      htier_tier tier = initial == 0   ? HTIER_TIER_SLOW
                        : initial == 2 ? HTIER_TIER_FAST
                        : (rng() % 2 ? HTIER_TIER_FAST : HTIER_TIER_SLOW);
      t.record(htier_key(1 + v % 4, rng() & 0xfffff), heat, tier);
    }
    htier_policy_params q{};
    q.quota_pages = rng() % (nrPages + nrPages / 4);
    q.max_promote = 64 + rng() % kBatchPages;
    q.max_demote = 64 + rng() % kBatchPages;
    q.min_promote_bin = 1 + rng() % 2;

    const uint64_t limit = std::min(q.max_promote, q.max_demote);
    const uint64_t bound = 2 * ceilDiv(nrPages, limit) + 2;
    uint64_t rounds = 0;
    while (!isIdealPlacement(t, q.quota_pages, q.min_promote_bin)) {
      ASSERT_LT(rounds, bound) << "no convergence: quota " << q.quota_pages
                               << " pages " << nrPages;
      Round r = applyRound(t, q);
      rounds++;
      ASSERT_GT(r.promoted + r.demoted, 0u) << "stuck before the ideal";
      if (r.fastBefore <= q.quota_pages)
        ASSERT_LE(r.fastAfter, q.quota_pages);
      else
        ASSERT_LT(r.fastAfter, r.fastBefore);
    }
    // Ideal: further rounds move nothing.
    for (int i = 0; i < 5; i++) {
      Round r = applyRound(t, q);
      ASSERT_EQ(r.promoted, 0u) << "oscillates after " << rounds << " rounds";
      ASSERT_EQ(r.demoted, 0u) << "oscillates after " << rounds << " rounds";
    }
  }
}

// The module's accessed-bit loop in miniature: every epoch each page is
// recorded with +1 if it was accessed, heat cools every 8 epochs, and one
// policy round runs.
class AbitLoop {
 public:
  AbitLoop(uint64_t nrPages, uint64_t quotaPages)
      : table_(1u << (64 - __builtin_clzll(nrPages * 2 - 1))),
        nrPages_(nrPages) {
    params_.quota_pages = quotaPages;
    params_.max_promote = kBatchPages;
    params_.max_demote = kBatchPages;
    params_.min_promote_bin = 1;
    // The workload's memory starts wholly on the slow node.
    for (uint64_t v = 0; v < nrPages; v++)
      table_.record(htier_key(1, v), 0, HTIER_TIER_SLOW);
  }

  // @accessed(vpn) says whether the page was touched this epoch.
  template <typename F>
  Round epoch(F accessed) {
    table_->epoch++;
    for (uint64_t v = 0; v < nrPages_; v++) {
      uint64_t k = htier_key(1, v);
      table_.record(k, accessed(v) ? 1 : 0,
                    static_cast<htier_tier>(table_.tier(k)));
    }
    if (table_->epoch % kCoolEveryEpochs == 0)
      htier_table_cool(table_.get(), kCoolShift);
    Round r = applyRound(table_, params_);
    // Quota is never exceeded, from the first round on.
    EXPECT_LE(r.fastAfter, params_.quota_pages);
    return r;
  }

  bool onFast(uint64_t vpn) {
    return table_.tier(htier_key(1, vpn)) == HTIER_TIER_FAST;
  }

 private:
  Table table_;
  uint64_t nrPages_;
  htier_policy_params params_{};
};

// @nrHot of @nrPages pages, chosen at random: which are hot.
std::vector<bool> scatteredHotSet(uint64_t nrPages, uint64_t nrHot, std::mt19937_64& rng) {
  std::vector<uint64_t> all(nrPages);
  for (uint64_t v = 0; v < nrPages; v++)
    all[v] = v;
  std::shuffle(all.begin(), all.end(), rng);
  std::vector<bool> hot(nrPages);
  for (uint64_t i = 0; i < nrHot; i++)
    hot[all[i]] = true;
  return hot;
}

// Single 4 KiB hot pages spread over a large cold region (a hash table's
// hot buckets, say) are all found and all brought to fast memory.
TEST(PolicyConvergence, FindsScatteredSingleHotPages) {
  const uint64_t nrPages = 65536;  // 256 MiB
  const uint64_t nrHot = 2048;     // 8 MiB of single pages
  std::mt19937_64 rng(99);
  std::vector<bool> hot = scatteredHotSet(nrPages, nrHot, rng);

  AbitLoop loop(nrPages, nrHot + nrHot / 2);
  std::bernoulli_distribution coldTouch(0.01);
  int epochs = 0;
  auto allHotOnFast = [&] {
    for (uint64_t v = 0; v < nrPages; v++)
      if (hot[v] && !loop.onFast(v))
        return false;
    return true;
  };
  while (!allHotOnFast()) {
    ASSERT_LT(epochs, 16) << "scattered hot pages not all found";
    loop.epoch([&](uint64_t v) { return hot[v] || coldTouch(rng); });
    epochs++;
  }
  // And they stay there while the workload runs.
  for (int i = 0; i < 40; i++)
    loop.epoch([&](uint64_t v) { return hot[v] || coldTouch(rng); });
  EXPECT_TRUE(allHotOnFast());
}

// With the quota exactly the hot set's size, placement settles and the
// module stops moving pages; after the hot set moves, the new one is
// brought in (displacing the old, now cooling) within a bounded time.
TEST(PolicyConvergence, SettlesThenFollowsHotSetShift) {
  const uint64_t nrPages = 32768, nrHot = 4096;
  AbitLoop loop(nrPages, nrHot);
  auto inFirst = [](uint64_t v) { return v < nrHot; };
  auto inSecond = [](uint64_t v) { return v >= 3 * nrHot && v < 4 * nrHot; };
  for (int i = 0; i < 24; i++)
    loop.epoch(inFirst);
  for (uint64_t v = 0; v < nrHot; v++)
    ASSERT_TRUE(loop.onFast(v));
  for (int i = 0; i < 24; i++) {
    Round r = loop.epoch(inFirst);
    EXPECT_EQ(r.promoted + r.demoted, 0u) << "moves pages at steady state";
  }
  int epochs = 0;
  for (;; epochs++) {
    bool done = true;
    for (uint64_t v = 3 * nrHot; v < 4 * nrHot && done; v++)
      done = loop.onFast(v);
    if (done)
      break;
    ASSERT_LT(epochs, 48) << "hot-set shift not followed";
    loop.epoch(inSecond);
  }
  // A hotter page only displaces a colder one: it takes a few epochs for the
  // new set to outgrow the old one's decaying heat, then one round moves it.
  EXPECT_GE(epochs, 1);
  for (uint64_t v = 0; v < nrHot; v++)
    EXPECT_FALSE(loop.onFast(v));
}

// The module's PEBS loop in miniature, at the sampling budget: a round
// brings a few hundred samples, so a scattered hot page gets one every 20
// rounds or so (Poisson), a cold page one every 170.  Each sample adds
// HTIER_PEBS_SAMPLE_HEAT.  The module's rules (a one-sample floor, cooling
// by samples: htier_pebs_cool_due()) against the earlier ones (two
// samples, cooling every 8 rounds whatever came in).
struct PebsRules {
  uint32_t minBin;
  uint32_t coolSamplesPerPage;  // 0: every kCoolEveryEpochs rounds
};

struct PebsOutcome {
  double hotOnFast;        // share of the hot pages on fast at the end
  uint64_t movedLate = 0;  // pages moved in the last 40 rounds
};

PebsOutcome runSparsePebs(const PebsRules& rules) {
  const uint64_t nrPages = 65536, nrHot = 4096, quota = 2 * nrHot;
  const double hotRate = 0.05, coldRate = 0.006;  // samples a round
  std::mt19937_64 rng(4242);
  std::vector<bool> hot = scatteredHotSet(nrPages, nrHot, rng);
  Table t(1u << 17);
  for (uint64_t v = 0; v < nrPages; v++)
    t.record(htier_key(1, v), 0, HTIER_TIER_SLOW);
  htier_policy_params q{};
  q.quota_pages = quota;
  q.max_promote = q.max_demote = kBatchPages;
  q.min_promote_bin = rules.minBin;
  q.exchange_gap = 2;
  q.exchange_top_permil = 250;
  std::poisson_distribution<uint32_t> hotDraw(hotRate), coldDraw(coldRate);
  uint64_t rounds = 0, samples = 0;
  PebsOutcome out;
  const int total = 120;  // a minute of 500 ms rounds
  for (int i = 0; i < total; i++) {
    t->epoch++;
    for (uint64_t v = 0; v < nrPages; v++) {
      uint32_t n = hot[v] ? hotDraw(rng) : coldDraw(rng);
      uint64_t k = htier_key(1, v);
      samples += n;
      t.record(k, n * HTIER_PEBS_SAMPLE_HEAT, static_cast<htier_tier>(t.tier(k)));
    }
    rounds++;
    if (htier_pebs_cool_due(rounds, kCoolEveryEpochs, samples, quota,
                            rules.coolSamplesPerPage)) {
      htier_table_cool(t.get(), kCoolShift);
      rounds = samples = 0;
    }
    Round r = applyRound(t, q);
    EXPECT_LE(r.fastAfter, quota);
    if (i >= total - 40)
      out.movedLate += r.promoted + r.demoted;
  }
  uint64_t on = 0;
  for (uint64_t v = 0; v < nrPages; v++)
    on += hot[v] && t.tier(htier_key(1, v)) == HTIER_TIER_FAST;
  out.hotOnFast = static_cast<double>(on) / nrHot;
  return out;
}

// At the budget's sample density the module's PEBS rules bring most of a
// scattered hot set to fast memory within a minute; the earlier rules
// (two samples within about one 8-round cooling period) found half of it.
// Steady state stays calm: the late rounds move a fraction of the quota.
TEST(PolicyConvergence, SparsePebsSamplesFindScatteredHotPages) {
  PebsOutcome now = runSparsePebs({HTIER_PEBS_MIN_PROMOTE_BIN,
                                   HTIER_PEBS_COOL_SAMPLES_PER_PAGE});
  PebsOutcome before = runSparsePebs({HTIER_PEBS_MIN_PROMOTE_BIN + 1, 0});
  RecordProperty("hot_on_fast_now", std::to_string(now.hotOnFast));
  RecordProperty("hot_on_fast_before", std::to_string(before.hotOnFast));
  std::printf("hot on fast: now %.3f (moved late %llu), before %.3f (%llu)\n", now.hotOnFast,
              static_cast<unsigned long long>(now.movedLate), before.hotOnFast,
              static_cast<unsigned long long>(before.movedLate));
  EXPECT_GE(now.hotOnFast, 0.85) << "before: " << before.hotOnFast;
  EXPECT_LT(before.hotOnFast, 0.65);
  EXPECT_LT(now.movedLate, 40 * 8192 / 16) << "churn at steady state";
}

}  // namespace
}  // namespace htier::test
