// SPDX-License-Identifier: GPL-2.0
// The placement plan and its selection: quota, limits and ordering
// properties over many seeded random histograms, and the selection of keys
// from a table (including huge entries).
#include <gtest/gtest.h>

#include <algorithm>

#include "core_test_util.h"

namespace htier::test {
namespace {

struct Case {
  htier_hist hist{};
  htier_policy_params params{};
  uint64_t fast = 0;
  uint64_t total = 0;
};

Case randomCase(std::mt19937_64& rng) {
  Case c;
  // Sparse histograms with a wide range of counts, like real ones.
  uint64_t scale = 1ULL << (rng() % 20);
  for (int b = 0; b < HTIER_NR_BINS; b++) {
    for (htier_tier tier : {HTIER_TIER_FAST, HTIER_TIER_SLOW}) {
      uint64_t n = rng() % 3 == 0 ? 0 : rng() % (scale + 1);
      c.hist.pages[tier][b] = n;
      c.total += n;
      if (tier == HTIER_TIER_FAST)
        c.fast += n;
    }
    c.hist.pages[HTIER_TIER_OTHER][b] = rng() % 5;  // must be ignored
  }
  switch (rng() % 4) {
  case 0:  // fast within the quota
    c.params.quota_pages = c.fast + rng() % (c.total + 1);
    break;
  case 1:  // fast over the quota (a lowered quota)
    c.params.quota_pages = c.fast ? rng() % c.fast : 0;
    break;
  case 2:  // exactly full
    c.params.quota_pages = c.fast;
    break;
  default:
    c.params.quota_pages = rng() % (c.total + 2);
  }
  c.params.max_promote = rng() % 2 ? rng() % (scale * 4 + 1) : ~0ULL;
  c.params.max_demote = 1 + (rng() % 2 ? rng() % (scale * 4 + 1) : ~0ULL - 1);
  c.params.min_promote_bin = rng() % 5;
  return c;
}

::testing::AssertionResult planIsSound(const Case& c, const htier_plan& p) {
  const auto& h = c.hist;
  const auto& q = c.params;
  const uint32_t minBin = q.min_promote_bin ? q.min_promote_bin : 1;
  uint64_t sumP = 0, sumD = 0;
  int coldestPromoted = HTIER_NR_BINS, hottestDemoted = -1;
  for (int b = 0; b < HTIER_NR_BINS; b++) {
    sumP += p.promote[b];
    sumD += p.demote[b];
    if (p.promote[b] > h.pages[HTIER_TIER_SLOW][b])
      return ::testing::AssertionFailure() << "promotes more than bin " << b
                                           << " has on slow";
    if (p.demote[b] > h.pages[HTIER_TIER_FAST][b])
      return ::testing::AssertionFailure() << "demotes more than bin " << b
                                           << " has on fast";
    if (p.promote[b] && b < static_cast<int>(minBin))
      return ::testing::AssertionFailure() << "promotes bin " << b
                                           << " below min " << minBin;
    if (p.promote[b])
      coldestPromoted = std::min(coldestPromoted, b);
    if (p.demote[b])
      hottestDemoted = std::max(hottestDemoted, b);
  }
  if (sumP != p.nr_promote || sumD != p.nr_demote)
    return ::testing::AssertionFailure() << "totals disagree with bins";
  if (p.nr_promote > q.max_promote)
    return ::testing::AssertionFailure() << "promotes beyond max_promote";
  if (p.nr_demote > q.max_demote)
    return ::testing::AssertionFailure() << "demotes beyond max_demote";
  if (hottestDemoted >= coldestPromoted)
    return ::testing::AssertionFailure()
           << "demotes bin " << hottestDemoted << " while promoting bin "
           << coldestPromoted;
  const uint64_t after = c.fast - p.nr_demote + p.nr_promote;
  if (c.fast <= q.quota_pages) {
    if (after > q.quota_pages)
      return ::testing::AssertionFailure()
             << "fast grows to " << after << " > quota " << q.quota_pages;
    // Demote only what the promotions need.
    if (p.nr_demote > (c.fast + p.nr_promote > q.quota_pages
                           ? c.fast + p.nr_promote - q.quota_pages
                           : 0))
      return ::testing::AssertionFailure() << "demotes more than needed";
  } else {
    if (after >= c.fast)
      return ::testing::AssertionFailure()
             << "over quota and fast does not shrink: " << c.fast << " -> "
             << after;
    if (after < q.quota_pages)
      return ::testing::AssertionFailure() << "shrinks below the quota";
    // Either it reaches the quota, or it is held back by max_demote alone
    // (and then promotes nothing, as every promotion would need room).
    if (after > q.quota_pages &&
        (p.nr_promote != 0 || p.nr_demote != q.max_demote))
      return ::testing::AssertionFailure()
             << "over quota but demotes " << p.nr_demote << " only (max "
             << q.max_demote << "), promotes " << p.nr_promote;
  }
  if (p.hot_pages > q.quota_pages)
    return ::testing::AssertionFailure() << "hot set exceeds quota";
  return ::testing::AssertionSuccess();
}

TEST(PolicyPlan, PropertiesOverRandomHistograms) {
  std::mt19937_64 rng(20240601);
  for (int i = 0; i < 200000; i++) {
    Case c = randomCase(rng);
    htier_plan plan;
    htier_plan_compute(&c.hist, &c.params, &plan);
    ASSERT_TRUE(planIsSound(c, plan)) << "case " << i << " quota "
                                      << c.params.quota_pages << " fast "
                                      << c.fast << " total " << c.total;
  }
}

TEST(PolicyPlan, EmptyHistogramMovesNothing) {
  htier_hist h{};
  htier_policy_params q{100, 100, 100, 1, 1, 0, false};
  htier_plan plan;
  htier_plan_compute(&h, &q, &plan);
  EXPECT_EQ(plan.nr_promote, 0u);
  EXPECT_EQ(plan.nr_demote, 0u);
  EXPECT_EQ(plan.hot_pages, 0u);
}

// The hot threshold is the coldest bin the quota reaches, so the hot set
// fits the quota without a tuning knob.
TEST(PolicyPlan, HotThresholdFollowsQuota) {
  htier_hist h{};
  h.pages[HTIER_TIER_SLOW][8] = 100;
  h.pages[HTIER_TIER_SLOW][5] = 300;
  h.pages[HTIER_TIER_SLOW][2] = 1000;
  h.pages[HTIER_TIER_SLOW][0] = 5000;
  htier_plan plan;
  htier_policy_params q{100, ~0ULL, ~0ULL, 1, 1, 0, false};
  htier_plan_compute(&h, &q, &plan);
  EXPECT_EQ(plan.hot_bin, 8u);
  EXPECT_EQ(plan.hot_pages, 100u);
  EXPECT_EQ(plan.promote[8], 100u);
  EXPECT_EQ(plan.nr_promote, 100u);
  q.quota_pages = 250;
  htier_plan_compute(&h, &q, &plan);
  EXPECT_EQ(plan.hot_bin, 5u);
  EXPECT_EQ(plan.hot_pages, 250u);
  EXPECT_EQ(plan.promote[5], 150u);
  // Quota beyond every heated page: cold (heat 0) pages are never promoted.
  q.quota_pages = 100000;
  htier_plan_compute(&h, &q, &plan);
  EXPECT_EQ(plan.hot_bin, 2u);
  EXPECT_EQ(plan.hot_pages, 1400u);
  EXPECT_EQ(plan.nr_promote, 1400u);
  EXPECT_EQ(plan.promote[0], 0u);
}

TEST(PolicyPlan, NeverPromotesBelowMinBin) {
  htier_hist h{};
  h.pages[HTIER_TIER_SLOW][1] = 10;
  h.pages[HTIER_TIER_SLOW][2] = 10;
  h.pages[HTIER_TIER_SLOW][3] = 10;
  htier_plan plan;
  htier_policy_params q{1000, ~0ULL, ~0ULL, 3, 1, 0, false};
  htier_plan_compute(&h, &q, &plan);
  EXPECT_EQ(plan.promote[3], 10u);
  EXPECT_EQ(plan.nr_promote, 10u);
}

TEST(PolicyPlan, PromotionsRespectMaxPromoteHottestFirst) {
  htier_hist h{};
  h.pages[HTIER_TIER_SLOW][9] = 30;
  h.pages[HTIER_TIER_SLOW][4] = 50;
  htier_plan plan;
  htier_policy_params q{1000, 40, ~0ULL, 1, 1, 0, false};
  htier_plan_compute(&h, &q, &plan);
  EXPECT_EQ(plan.promote[9], 30u);
  EXPECT_EQ(plan.promote[4], 10u);
  EXPECT_EQ(plan.nr_promote, 40u);
}

// Exchange: at a full quota a hotter slow page displaces a colder fast one.
TEST(PolicyPlan, ExchangeAtFullQuota) {
  htier_hist h{};
  h.pages[HTIER_TIER_FAST][1] = 100;  // cold-ish, on fast
  h.pages[HTIER_TIER_SLOW][6] = 40;   // hot, on slow
  htier_plan plan;
  htier_policy_params q{100, ~0ULL, ~0ULL, 1, 1, 0, false};
  htier_plan_compute(&h, &q, &plan);
  EXPECT_EQ(plan.promote[6], 40u);
  EXPECT_EQ(plan.demote[1], 40u);
  // A demotion limit cuts the promotions with it: the quota holds.
  q.max_demote = 15;
  htier_plan_compute(&h, &q, &plan);
  EXPECT_EQ(plan.nr_demote, 15u);
  EXPECT_EQ(plan.nr_promote, 15u);
}

// Lowering the quota demotes the coldest fast pages first, and no more than
// needed to get under the new quota.
TEST(PolicyPlan, LoweredQuotaDemotesColdestFirst) {
  htier_hist h{};
  h.pages[HTIER_TIER_FAST][0] = 10;
  h.pages[HTIER_TIER_FAST][2] = 20;
  h.pages[HTIER_TIER_FAST][5] = 30;
  h.pages[HTIER_TIER_FAST][9] = 40;
  htier_plan plan;
  htier_policy_params q{65, ~0ULL, ~0ULL, 1, 1, 0, false};
  htier_plan_compute(&h, &q, &plan);
  EXPECT_EQ(plan.demote[0], 10u);
  EXPECT_EQ(plan.demote[2], 20u);
  EXPECT_EQ(plan.demote[5], 5u);
  EXPECT_EQ(plan.demote[9], 0u);
  EXPECT_EQ(plan.nr_demote, 35u);
  EXPECT_EQ(plan.nr_promote, 0u);
  // With a per-round limit it still starts from the coldest.
  q.max_demote = 12;
  htier_plan_compute(&h, &q, &plan);
  EXPECT_EQ(plan.demote[0], 10u);
  EXPECT_EQ(plan.demote[2], 2u);
  EXPECT_EQ(plan.nr_demote, 12u);
}

// The same on a table: after the quota drops, the pages left on fast are
// exactly the hottest ones.
TEST(PolicySelect, LoweredQuotaKeepsHottestOnFast) {
  Table t(4096);
  for (uint64_t v = 0; v < 1000; v++)
    t.record(htier_key(1, v), static_cast<uint32_t>(1u << (v % 10)) - 1,
             HTIER_TIER_FAST);
  htier_policy_params q{300, 4096, 4096, 1, 1, 0, false};
  Round r = applyRound(t, q);
  EXPECT_EQ(r.demoted, 700u);
  EXPECT_EQ(r.fastAfter, 300u);
  // heat 2^k - 1 puts page v in bin v % 10; bins 7, 8, 9 hold 300 pages.
  for (const auto& p : t.entries())
    EXPECT_EQ(p.tier == HTIER_TIER_FAST, htier_heat_bin(p.heat) >= 7)
        << "heat " << p.heat;
}

TEST(PolicySelect, PicksExactlyThePlannedPagesPerBin) {
  Table t(1024);
  std::mt19937 rng(3);
  for (uint64_t v = 0; v < 800; v++)
    t.record(htier_key(1, v), rng() % 200,
             v % 2 ? HTIER_TIER_FAST : HTIER_TIER_SLOW);
  htier_hist h = t.histogram();
  htier_policy_params q{300, 50, 1000, 1, 1, 0, false};
  htier_plan plan;
  htier_plan_compute(&h, &q, &plan);
  std::vector<uint64_t> up(1024), down(1024);
  htier_selection sel{up.data(), down.data(), 1024, 0, 0, 0, 0};
  htier_plan_select(t.get(), &plan, &sel);
  EXPECT_EQ(sel.promote_pages, plan.nr_promote);
  EXPECT_EQ(sel.demote_pages, plan.nr_demote);
  uint64_t perBin[2][HTIER_NR_BINS] = {};
  for (uint32_t i = 0; i < sel.nr_promote_keys; i++) {
    Entry p{};
    ASSERT_TRUE(t.find(up[i], &p));
    ASSERT_EQ(p.tier, HTIER_TIER_SLOW);
    perBin[0][htier_heat_bin(p.heat)]++;
  }
  for (uint32_t i = 0; i < sel.nr_demote_keys; i++) {
    Entry p{};
    ASSERT_TRUE(t.find(down[i], &p));
    ASSERT_EQ(p.tier, HTIER_TIER_FAST);
    perBin[1][htier_heat_bin(p.heat)]++;
  }
  for (int b = 0; b < HTIER_NR_BINS; b++) {
    EXPECT_EQ(perBin[0][b], plan.promote[b]);
    EXPECT_EQ(perBin[1][b], plan.demote[b]);
  }
}

// A page whose move failed is not selected again until the next cooling
// step; the plan's other pages of the same bin are taken in its place.
TEST(PolicySelect, FailedMovesWaitForTheNextCooling) {
  Table t(1024);
  for (uint64_t v = 0; v < 10; v++)
    t.record(htier_key(1, v), 8, HTIER_TIER_SLOW);
  htier_plan plan{};
  plan.promote[htier_heat_bin(8)] = 4;
  plan.nr_promote = 4;
  auto select = [&]() {
    std::vector<uint64_t> up(16), down(16);
    htier_selection sel{up.data(), down.data(), 16, 0, 0, 0, 0};
    htier_plan_select(t.get(), &plan, &sel);
    up.resize(sel.nr_promote_keys);
    return up;
  };
  std::vector<uint64_t> first = select();
  ASSERT_EQ(first.size(), 4u);
  for (uint64_t k : first)
    htier_table_note_failed(t.get(), k);
  std::vector<uint64_t> second = select();
  ASSERT_EQ(second.size(), 4u);
  for (uint64_t k : second)
    EXPECT_EQ(std::count(first.begin(), first.end(), k), 0) << k;
  for (uint64_t k : second)
    htier_table_note_failed(t.get(), k);
  // Two pages left that never failed.
  EXPECT_EQ(select().size(), 2u);
  // A cooling step: every page may be tried again (heat 8 -> 4 is another
  // bin, so plan for that one).
  htier_table_cool(t.get(), 1);
  plan = htier_plan{};
  plan.promote[htier_heat_bin(4)] = 10;
  plan.nr_promote = 10;
  EXPECT_EQ(select().size(), 10u);
}

TEST(PolicySelect, NothingPlannedSelectsNothing) {
  Table t(64);
  t.record(htier_key(1, 1), 9, HTIER_TIER_SLOW);
  htier_plan plan{};
  uint64_t up[4], down[4];
  htier_selection sel{up, down, 4, 7, 7, 7, 7};
  htier_plan_select(t.get(), &plan, &sel);
  EXPECT_EQ(sel.nr_promote_keys, 0u);
  EXPECT_EQ(sel.nr_demote_keys, 0u);
  EXPECT_EQ(sel.promote_pages, 0u);
}

// A huge entry moves whole, never overshooting its bin's count; and when the
// only fast pages that the plan would demote are huge entries too big for
// the planned count, promotions are held back so that the quota still holds.
TEST(PolicySelect, HugeEntriesNeverBreakTheQuota) {
  Table t(64);
  t.record(htier_key(1, 0), 1, HTIER_TIER_FAST, HTIER_PAGE_HUGE);  // 512
  t.record(htier_key(1, 4096), 40, HTIER_TIER_SLOW);               // hot 4K
  htier_policy_params q{512, 4096, 4096, 1, 1, 0, false};
  Round r = applyRound(t, q);
  EXPECT_EQ(r.plan.nr_promote, 1u);
  EXPECT_EQ(r.plan.nr_demote, 1u);
  EXPECT_LE(r.fastAfter, q.quota_pages);
  // A huge hot page is promoted whole once the quota has room for it.
  Table t2(64);
  t2.record(htier_key(1, 0), 40, HTIER_TIER_SLOW, HTIER_PAGE_HUGE);
  t2.record(htier_key(1, 1024), 40, HTIER_TIER_SLOW);
  q.quota_pages = 511;
  r = applyRound(t2, q);
  EXPECT_EQ(r.promoted, 1u);
  EXPECT_LE(r.fastAfter, 511u);
  q.quota_pages = 513;
  r = applyRound(t2, q);
  EXPECT_EQ(r.promoted, 512u);
  // The move split it: its first page's entry until the next walk finds
  // the other 511 (as the module's migration leaves it).
  EXPECT_EQ(r.fastAfter, 2u);
}

// The guest's moved THP hot set (bench/NOTES.md): a hot huge page on slow,
// a free room 6 pages short of its 512, and only huge entries colder on
// fast.  The plan promotes 512 (506 into free room, 6 by exchange) and
// demotes 6; the selection promotes the huge page whole and demotes a cold
// huge entry whole to make its room, within the quota.  Before, neither
// side could be taken and the page stayed on slow for good.
TEST(PolicySelect, HugeEntryOwedAFewPagesOfRoomIsExchanged) {
  Table t(64);
  for (uint64_t v = 0; v < 3; v++)  // the new hot set's pages on fast
    t.record(htier_key(1, v * 512), 40, HTIER_TIER_FAST, HTIER_PAGE_HUGE);
  for (uint64_t v = 3; v < 5; v++)  // the old hot set, cold now
    t.record(htier_key(1, v * 512), 0, HTIER_TIER_FAST, HTIER_PAGE_HUGE);
  for (uint64_t v = 0; v < 6; v++)
    t.record(htier_key(2, v), 40, HTIER_TIER_FAST);
  t.record(htier_key(1, 5 * 512), 40, HTIER_TIER_SLOW, HTIER_PAGE_HUGE);
  const htier_policy_params q{3072, 4096, 4096, 2, 2, 0, false};
  Round r = applyRound(t, q);
  EXPECT_EQ(r.fastBefore, 2566u);
  EXPECT_EQ(r.plan.nr_promote, 512u);
  EXPECT_EQ(r.promoted, 512u);
  EXPECT_EQ(r.demoted, 512u);
  EXPECT_LE(r.fastAfter, q.quota_pages);
  EXPECT_EQ(t.tier(htier_key(1, 5 * 512)), HTIER_TIER_FAST);
  // Nothing is owed any more: the next round moves nothing.
  Round again = applyRound(t, q);
  EXPECT_EQ(again.promoted + again.demoted, 0u);
}

// A selection truncated by max_keys never lets promotions outrun demotions.
TEST(PolicySelect, TruncatedSelectionKeepsQuota) {
  Table t(8192);
  // Full fast tier of cold base pages, hot huge pages on slow.
  for (uint64_t v = 0; v < 2048; v++)
    t.record(htier_key(1, v), 1, HTIER_TIER_FAST);
  for (uint64_t v = 0; v < 4; v++)
    t.record(htier_key(2, v * 512), 100, HTIER_TIER_SLOW, HTIER_PAGE_HUGE);
  htier_policy_params q{2048, 1u << 20, 1u << 20, 1, 1, 0, false};
  for (uint32_t maxKeys : {1u, 10u, 600u, 4096u}) {
    Table copy(8192);
    for (const auto& p : t.entries())
      copy.record(p.key, p.heat, static_cast<htier_tier>(p.tier), p.flags);
    Round r = applyRound(copy, q, maxKeys);
    EXPECT_LE(r.fastAfter, q.quota_pages) << "max_keys " << maxKeys;
  }
}

}  // namespace
}  // namespace htier::test

// An exchange needs a gap: a slow page only one bin hotter than the fast
// page it would displace stays put with exchange_gap 2, moves with gap 1;
// free room is filled regardless of the gap.
TEST(PolicyPlan, ExchangeGapStopsThresholdChurn) {
  htier_hist h{};
  h.pages[HTIER_TIER_FAST][2] = 100;  // the quota is full of bin-2 pages
  h.pages[HTIER_TIER_SLOW][3] = 10;   // slightly hotter pages on slow
  htier_plan plan;

  htier_policy_params gap2{100, 1000, 1000, 1, 2, 0, false};
  htier_plan_compute(&h, &gap2, &plan);
  EXPECT_EQ(plan.nr_promote, 0u);
  EXPECT_EQ(plan.nr_demote, 0u);

  htier_policy_params gap1{100, 1000, 1000, 1, 1, 0, false};
  htier_plan_compute(&h, &gap1, &plan);
  EXPECT_EQ(plan.nr_promote, 10u);
  EXPECT_EQ(plan.nr_demote, 10u);
  EXPECT_EQ(plan.demote[2], 10u);

  // Two bins hotter: exchanged even with gap 2.
  htier_hist h2{};
  h2.pages[HTIER_TIER_FAST][2] = 100;
  h2.pages[HTIER_TIER_SLOW][4] = 10;
  htier_plan_compute(&h2, &gap2, &plan);
  EXPECT_EQ(plan.promote[4], 10u);
  EXPECT_EQ(plan.demote[2], 10u);

  // Free room needs no partner.
  htier_policy_params roomy{120, 1000, 1000, 1, 2, 0, false};
  htier_plan_compute(&h, &roomy, &plan);
  EXPECT_EQ(plan.promote[3], 10u);
  EXPECT_EQ(plan.nr_demote, 0u);
}

namespace htier::test {
namespace {

// Exchanges promote only pages from the bins of the hottest
// exchange_top_permil of the quota; free room takes any page hot enough.
TEST(PolicyPlan, ExchangeTopKeepsChanceHitsOut) {
  htier_hist h{};
  h.pages[HTIER_TIER_FAST][6] = 40;   // the hot set, on fast
  h.pages[HTIER_TIER_FAST][1] = 60;   // and cold pages filling the quota
  h.pages[HTIER_TIER_SLOW][3] = 30;   // chance hits on slow
  htier_plan plan;

  // Without the limit, the gap alone lets bin 3 displace bin 1.
  htier_policy_params any{100, 1000, 1000, 1, 2, 0, false};
  htier_plan_compute(&h, &any, &plan);
  EXPECT_EQ(plan.promote[3], 30u);
  EXPECT_EQ(plan.demote[1], 30u);

  // The page of rank 25 (a quarter of the quota) is in bin 6: bin 3 is
  // below it, no exchange.
  htier_policy_params top{100, 1000, 1000, 1, 2, 250, false};
  htier_plan_compute(&h, &top, &plan);
  EXPECT_EQ(plan.exchange_bin, 6u);
  EXPECT_EQ(plan.nr_promote, 0u);
  EXPECT_EQ(plan.nr_demote, 0u);

  // A moved hot set: the old one cooled to bin 4, the new one is in bin 5
  // on slow and holds rank 25: it is exchanged for the cold fast pages.
  h.pages[HTIER_TIER_FAST][6] = 0;
  h.pages[HTIER_TIER_FAST][4] = 40;
  h.pages[HTIER_TIER_SLOW][5] = 30;
  htier_plan_compute(&h, &top, &plan);
  EXPECT_EQ(plan.exchange_bin, 5u);
  EXPECT_EQ(plan.promote[5], 30u);
  EXPECT_EQ(plan.demote[1], 30u);
  EXPECT_EQ(plan.promote[3], 0u);

  // A hot set of 90% of the quota, all in one bin, comes in whole.
  htier_hist big{};
  big.pages[HTIER_TIER_FAST][1] = 100;
  big.pages[HTIER_TIER_SLOW][5] = 90;
  htier_plan_compute(&big, &top, &plan);
  EXPECT_EQ(plan.promote[5], 90u);
  EXPECT_EQ(plan.demote[1], 90u);

  // Free room still takes the chance hits.
  htier_hist r{};
  r.pages[HTIER_TIER_FAST][6] = 40;
  r.pages[HTIER_TIER_SLOW][3] = 30;
  htier_plan_compute(&r, &top, &plan);
  EXPECT_EQ(plan.promote[3], 30u);
  EXPECT_EQ(plan.nr_demote, 0u);
}

// A table whose quota of 100 is full of cold fast pages (bin 1, not
// accessed at their last sample) and 30 hot slow pages (bin 6), of which
// the even ones were accessed at their last sample and the odd not.
void fillForExchange(Table& t) {
  for (uint64_t v = 0; v < 100; v++) {
    t.record(htier_key(1, v), 1, HTIER_TIER_FAST);
    t.record(htier_key(1, v), 0, HTIER_TIER_FAST);  // seen, not accessed
  }
  for (uint64_t v = 0; v < 30; v++) {
    t.record(htier_key(1, 1024 + v), 40, HTIER_TIER_SLOW);
    if (v % 2)
      t.record(htier_key(1, 1024 + v), 0, HTIER_TIER_SLOW);
  }
}

// With exchange_recent, an exchange promotes only pages accessed at their
// last sample, and demotes one page for each it promotes, no more.
TEST(PolicySelect, ExchangesTakeRecentPagesOnlyAndDemoteAsMany) {
  Table t(64);
  fillForExchange(t);
  htier_policy_params q{100, 1000, 1000, 1, 2, 0, true};
  Round r = applyRound(t, q);
  EXPECT_EQ(r.plan.nr_exchange, 30u);
  EXPECT_EQ(r.promoted, 15u);
  EXPECT_EQ(r.demoted, 15u);
  EXPECT_EQ(r.fastAfter, 100u);
  for (uint64_t v = 0; v < 30; v++)
    EXPECT_EQ(t.tier(htier_key(1, 1024 + v)),
              v % 2 ? HTIER_TIER_SLOW : HTIER_TIER_FAST) << v;
  // Without it, all 30 come up.
  Table t2(64);
  fillForExchange(t2);
  q.exchange_recent = false;
  r = applyRound(t2, q);
  EXPECT_EQ(r.promoted, 30u);
  EXPECT_EQ(r.demoted, 30u);
}

// Free room takes pages whether or not they were accessed last time; with
// room for 10, those 10 come first and the exchanges' 20 must be recent;
// no page is selected twice.
TEST(PolicySelect, FreeRoomFirstThenRecentExchangesNoPageTwice) {
  Table t(64);
  fillForExchange(t);
  htier_policy_params q{110, 1000, 1000, 1, 2, 0, true};
  htier_hist h = t.histogram();
  htier_plan plan;
  htier_plan_compute(&h, &q, &plan);
  EXPECT_EQ(plan.nr_promote, 30u);
  EXPECT_EQ(plan.nr_exchange, 20u);
  std::vector<uint64_t> up(64), down(64);
  htier_selection sel{up.data(), down.data(), 64, 0, 0, 0, 0};
  htier_plan_select(t.get(), &plan, &sel);
  // Pages 1024..1033 fill the room; of 1034..1053 the 10 even ones.
  EXPECT_EQ(sel.promote_pages, 20u);
  EXPECT_EQ(sel.demote_pages, 10u);
  std::vector<uint64_t> keys(up.begin(), up.begin() + sel.nr_promote_keys);
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(std::adjacent_find(keys.begin(), keys.end()), keys.end());
  for (uint32_t i = 0; i < sel.nr_promote_keys; i++) {
    uint64_t v = htier_key_vpn(up[i]) - 1024;
    EXPECT_TRUE(v < 10 || v % 2 == 0) << v;
  }
  Round r = applyRound(t, q);
  EXPECT_LE(r.fastAfter, 110u);
}

// Over random tables with recency marks, the selection never takes a page
// twice and never takes the fast tier over its quota.
TEST(PolicySelect, RecentExchangesKeepTheQuotaOverRandomTables) {
  std::mt19937_64 rng(11);
  for (int round = 0; round < 200; round++) {
    Table t(256);
    uint64_t fast = 0;
    for (uint64_t v = 0; v < 2000; v++) {
      htier_tier tier = rng() % 3 ? HTIER_TIER_SLOW : HTIER_TIER_FAST;
      t.record(htier_key(1, v), static_cast<uint32_t>(rng() % 64), tier);
      if (rng() % 2)
        t.record(htier_key(1, v), 0, tier);
      fast += tier == HTIER_TIER_FAST;
    }
    // Full or roomy: exchanges and free room.
    htier_policy_params q{fast + rng() % 300, rng() % 2000 + 1,
                          rng() % 2000 + 1, 1,
                          static_cast<uint32_t>(rng() % 3), 0, true};
    uint32_t maxKeys = rng() % 2 ? 1u << 20 : 1 + rng() % 300;
    Round r = applyRound(t, q, maxKeys);
    EXPECT_LE(r.fastAfter, q.quota_pages) << "round " << round;
    EXPECT_LE(r.demoted, r.plan.nr_demote) << "round " << round;
    EXPECT_LE(r.promoted, r.plan.nr_promote) << "round " << round;
  }
}

// Owed pages: slow pages the exchange gap above the hot set's threshold,
// not the chance hits just above it.
TEST(PolicyPlan, OwedPagesAreAGapAboveTheThreshold) {
  htier_hist h{};
  h.pages[HTIER_TIER_FAST][2] = 100;  // the quota ends in bin 2
  h.pages[HTIER_TIER_SLOW][3] = 40;   // one bin above: chance hits
  h.pages[HTIER_TIER_SLOW][4] = 7;    // two above: hot beyond doubt
  h.pages[HTIER_TIER_SLOW][6] = 3;
  htier_policy_params q{140, 1000, 1000, 1, 2, 0, false};
  htier_plan plan;
  htier_plan_compute(&h, &q, &plan);
  EXPECT_EQ(plan.hot_bin, 2u);
  EXPECT_EQ(plan.stale_pages, 50u);
  EXPECT_EQ(plan.owed_pages, 10u);
}

}  // namespace
// The PEBS sample period (htier_pebs_period_step): over the budget it
// rises at once by what brings the cost within it; within half of it and
// short of what the ranking needs it halves; four times what the ranking
// needs, it doubles; always within its bounds.
TEST(PebsPeriod, FollowsTheBudgetAndTheNeed) {
  htier_pebs_budget b{};
  b.elapsed_ns = 500000000;  // a 500 ms round
  b.nr_cpus = 1;
  b.cpu_permil = 10;         // 5 ms: 1666 samples at 3 us
  b.need = htier_pebs_need(32768);
  EXPECT_EQ(b.need, 16384u);
  b.samples = 250000;        // 1e8 accesses/s at period 199: 150x over
  uint32_t p = htier_pebs_period_step(199, &b, 100);
  EXPECT_EQ(p, 199u * 256);  // the next power of two above 150
  b.samples = 1500;          // within the budget, short of the need: stays
  EXPECT_EQ(htier_pebs_period_step(p, &b, 100), p);
  b.samples = 500;           // under half the budget: halves
  EXPECT_EQ(htier_pebs_period_step(p, &b, 100), p / 2);
  b.cpu_permil = 500;        // a budget far above the need
  b.samples = 4 * b.need + 1;
  EXPECT_EQ(htier_pebs_period_step(p, &b, 100), p * 2);
  b.samples = b.need;        // enough, within budget: stays
  EXPECT_EQ(htier_pebs_period_step(p, &b, 100), p);
  b.samples = 0;             // bounds
  EXPECT_EQ(htier_pebs_period_step(150, &b, 100), 100u);
  EXPECT_EQ(htier_pebs_period_step(150, &b, 10), 100u);  // HTIER_PEBS_MIN_PERIOD
  b.samples = ~0ULL / 4000;
  b.cpu_permil = 1;
  EXPECT_EQ(htier_pebs_period_step(HTIER_PEBS_MAX_PERIOD / 2, &b, 100),
            static_cast<uint32_t>(HTIER_PEBS_MAX_PERIOD));
  b.elapsed_ns = 0;          // no time: unchanged
  EXPECT_EQ(htier_pebs_period_step(777, &b, 100), 777u);
}

}  // namespace htier::test
