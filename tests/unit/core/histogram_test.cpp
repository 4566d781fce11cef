// SPDX-License-Identifier: GPL-2.0
// The log2 heat histogram: bin boundaries, per-tier counts, huge entries.
#include <gtest/gtest.h>

#include "core_test_util.h"

namespace htier::test {
namespace {

TEST(HeatHistogram, BinZeroIsColdThenLog2) {
  EXPECT_EQ(htier_heat_bin(0), 0u);
  EXPECT_EQ(htier_heat_bin(1), 1u);
  EXPECT_EQ(htier_heat_bin(2), 2u);
  EXPECT_EQ(htier_heat_bin(3), 2u);
  EXPECT_EQ(htier_heat_bin(4), 3u);
  EXPECT_EQ(htier_heat_bin(7), 3u);
  EXPECT_EQ(htier_heat_bin(8), 4u);
  // Bin i > 0 holds [2^(i-1), 2^i) ...
  for (uint32_t i = 1; i < HTIER_NR_BINS - 1; i++) {
    EXPECT_EQ(htier_heat_bin(1u << (i - 1)), i);
    EXPECT_EQ(htier_heat_bin((1u << i) - 1), i);
  }
  // ... and the last bin takes everything hotter, up to the saturated heat.
  EXPECT_EQ(htier_heat_bin(1u << (HTIER_NR_BINS - 2)), HTIER_NR_BINS - 1u);
  EXPECT_EQ(htier_heat_bin(HTIER_HEAT_MAX), HTIER_NR_BINS - 1u);
  EXPECT_EQ(htier_heat_bin(0xffffffffu), HTIER_NR_BINS - 1u);
}

TEST(HeatHistogram, CountsPagesPerTierAndBin) {
  Table t(256);
  // heat 0 on fast x3, heat 1 on slow x2, heat 5 on fast x1, heat 5 on slow
  for (uint64_t v = 0; v < 3; v++)
    t.record(htier_key(1, v), 0, HTIER_TIER_FAST);
  for (uint64_t v = 10; v < 12; v++)
    t.record(htier_key(1, v), 1, HTIER_TIER_SLOW);
  t.record(htier_key(1, 20), 5, HTIER_TIER_FAST);
  t.record(htier_key(2, 20), 5, HTIER_TIER_SLOW);
  t.record(htier_key(2, 21), 9, HTIER_TIER_OTHER);
  htier_hist h = t.histogram();
  EXPECT_EQ(h.pages[HTIER_TIER_FAST][0], 3u);
  EXPECT_EQ(h.pages[HTIER_TIER_SLOW][1], 2u);
  EXPECT_EQ(h.pages[HTIER_TIER_FAST][3], 1u);
  EXPECT_EQ(h.pages[HTIER_TIER_SLOW][3], 1u);
  EXPECT_EQ(h.pages[HTIER_TIER_OTHER][4], 1u);
  EXPECT_EQ(tierPages(h, HTIER_TIER_FAST), 4u);
  EXPECT_EQ(tierPages(h, HTIER_TIER_SLOW), 3u);
}

TEST(HeatHistogram, HugeEntryCounts512BasePages) {
  Table t(64);
  t.record(htier_key(1, 0), 4, HTIER_TIER_SLOW, HTIER_PAGE_HUGE);
  t.record(htier_key(1, 512), 4, HTIER_TIER_SLOW);
  t.record(htier_key(1, 1024), 0, HTIER_TIER_FAST, HTIER_PAGE_HUGE);
  htier_hist h = t.histogram();
  EXPECT_EQ(h.pages[HTIER_TIER_SLOW][3], 513u);
  EXPECT_EQ(h.pages[HTIER_TIER_FAST][0], 512u);
  Entry e{};
  ASSERT_TRUE(t.find(htier_key(1, 0), &e));
  EXPECT_EQ(e.nr, 512u);
  ASSERT_TRUE(t.find(htier_key(1, 512), &e));
  EXPECT_EQ(e.nr, 1u);
}

TEST(HeatHistogram, CoolingMovesPagesDownOneBin) {
  Table t(64);
  for (uint32_t heat = 1; heat <= 32; heat *= 2)
    t.record(htier_key(1, heat), heat, HTIER_TIER_SLOW);
  htier_table_cool(t.get(), 1);
  htier_hist h = t.histogram();
  // heats 1,2,4,8,16,32 (bins 1..6) become 0,1,2,4,8,16 (bins 0..5)
  for (int b = 0; b <= 5; b++)
    EXPECT_EQ(h.pages[HTIER_TIER_SLOW][b], 1u) << "bin " << b;
  EXPECT_EQ(h.pages[HTIER_TIER_SLOW][6], 0u);
}

}  // namespace
}  // namespace htier::test
