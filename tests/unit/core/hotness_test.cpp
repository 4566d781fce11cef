// SPDX-License-Identifier: GPL-2.0
// The hotness table: regions found through the index across clusters and
// wrap-around, deletion by backward shift, refusal under pressure,
// saturation, lazy cooling (equivalent to cooling every page), walk visits,
// bounded expiry, and forgetting one address space at the cost of its own
// regions.
#include <gtest/gtest.h>

#include <map>
#include <unordered_map>

#include "core_test_util.h"

namespace htier::test {
namespace {

uint64_t key(uint32_t slot, uint64_t vpn) { return htier_key(slot, vpn); }

struct ModelPage {
  uint32_t heat;
  uint8_t tier;
};

// Every key of @model is found with its heat and tier, nothing else is in
// the table, and the kept histogram is the one counted from the pages.
void expectMatchesModel(const Table& t,
                        const std::unordered_map<uint64_t, ModelPage>& model) {
  ASSERT_EQ(t->nr_used, model.size());
  ASSERT_EQ(t.occupied(), model.size());
  for (const auto& [k, m] : model) {
    Entry e{};
    ASSERT_TRUE(t.find(k, &e)) << "key " << std::hex << k << " lost";
    ASSERT_EQ(e.heat, m.heat);
    ASSERT_EQ(e.tier, m.tier);
  }
  htier_hist kept = t.histogram(), counted = t.countedHistogram();
  for (int tier = 0; tier < NR_HTIER_TIERS; tier++)
    for (int b = 0; b < HTIER_NR_BINS; b++)
      ASSERT_EQ(kept.pages[tier][b], counted.pages[tier][b])
          << "tier " << tier << " bin " << b;
  ASSERT_EQ(t.liveRegions(), t->nr_regions) << "a region leaked";
}

TEST(HotnessTable, KeyPacksSlotAndVpn) {
  uint64_t k = htier_key(7, 0x123456789aULL);
  EXPECT_EQ(htier_key_slot(k), 7u);
  EXPECT_EQ(htier_key_vpn(k), 0x123456789aULL);
  // The vpn cannot spill into the slot bits.
  EXPECT_EQ(htier_key_slot(htier_key(1, ~0ULL)), 1u);
  EXPECT_EQ(htier_region_key(key(3, 1000)), key(3, 512));
}

TEST(HotnessTable, RecordFindRemove) {
  Table t(64);
  EXPECT_FALSE(t.find(key(1, 10)));
  ASSERT_TRUE(t.record(key(1, 10), 3, HTIER_TIER_SLOW));
  Entry e{};
  ASSERT_TRUE(t.find(key(1, 10), &e));
  EXPECT_EQ(e.heat, 3u);
  EXPECT_EQ(e.tier, HTIER_TIER_SLOW);
  EXPECT_EQ(e.nr, 1u);
  // A second record adds accesses and updates the tier.
  ASSERT_TRUE(t.record(key(1, 10), 2, HTIER_TIER_FAST));
  ASSERT_TRUE(t.find(key(1, 10), &e));
  EXPECT_EQ(e.heat, 5u);
  EXPECT_EQ(e.tier, HTIER_TIER_FAST);
  EXPECT_EQ(t->nr_used, 1u);
  EXPECT_FALSE(t.find(key(1, 11)));  // same region, not tracked
  EXPECT_FALSE(t.find(key(2, 10)));  // same vpn, other address space
  EXPECT_TRUE(htier_table_remove(t.get(), key(1, 10)));
  EXPECT_FALSE(htier_table_remove(t.get(), key(1, 10)));
  EXPECT_FALSE(t.find(key(1, 10)));
  EXPECT_EQ(t->nr_used, 0u);
  EXPECT_EQ(t->nr_regions, 0u);  // an empty region is freed
  EXPECT_EQ(t.liveRegions(), 0u);
}

TEST(HotnessTable, HeatSaturatesBelowTheTopBinsEdge) {
  Table t(16);
  t.record(key(1, 1), HTIER_HEAT_MAX - 1, HTIER_TIER_SLOW);
  t.record(key(1, 1), 10, HTIER_TIER_SLOW);
  EXPECT_EQ(t.heat(key(1, 1)), HTIER_HEAT_MAX);
  t.record(key(1, 1), 0xffffffffu, HTIER_TIER_SLOW);
  EXPECT_EQ(t.heat(key(1, 1)), HTIER_HEAT_MAX);
  // Halving the saturated heat leaves the top bin: every bin moves down one.
  EXPECT_EQ(htier_heat_bin(HTIER_HEAT_MAX), HTIER_NR_BINS - 1u);
  EXPECT_EQ(htier_heat_bin(HTIER_HEAT_MAX >> 1), HTIER_NR_BINS - 2u);
}

// Random inserts, updates, tier changes and removals against a model, with
// pages of few regions in small indexes kept near their load limit, so that
// long clusters form and wrap around the end of the index; after every step
// every key must still be found and the histogram must match the pages.
TEST(HotnessTable, RandomOpsMatchModelAcrossClustersAndWrap) {
  std::mt19937_64 rng(12345);
  uint64_t wrapped_states = 0, freed_regions = 0;
  for (uint32_t capacity : {8u, 16u, 64u}) {
    Table t(capacity);
    std::unordered_map<uint64_t, ModelPage> model;
    // Regions: about 2x what the index admits; 4 pages per region used.
    std::uniform_int_distribution<uint64_t> region(0, capacity * 2);
    std::uniform_int_distribution<uint32_t> slot(1, 3);
    for (int step = 0; step < 20000; step++) {
      uint64_t k = key(slot(rng), region(rng) * HTIER_REGION_PAGES + rng() % 4);
      int op = rng() % 8;
      if (op < 4) {
        uint32_t acc = rng() % 4;
        htier_tier tier = rng() % 2 ? HTIER_TIER_FAST : HTIER_TIER_SLOW;
        if (t.record(k, acc, tier)) {
          ModelPage& m = model[k];
          m.heat += acc;
          m.tier = tier;
        } else {
          // Refused only when its region is new and the index is at its limit.
          ASSERT_EQ(htier_table_region_find(t.get(), k), nullptr);
          ASSERT_EQ(model.count(k), 0u);
        }
      } else if (op < 5) {
        if (model.count(k)) {
          htier_tier tier = rng() % 2 ? HTIER_TIER_FAST : HTIER_TIER_SLOW;
          ASSERT_TRUE(htier_table_set_tier(t.get(), k, tier));
          model[k].tier = tier;
        }
      } else {
        uint32_t before = t->nr_regions;
        EXPECT_EQ(htier_table_remove(t.get(), k), model.erase(k) == 1);
        freed_regions += t->nr_regions < before;
      }
      if (t->index[0] && t->index[capacity - 1])
        wrapped_states++;
      expectMatchesModel(t, model);
      if (HasFatalFailure())
        return;
    }
  }
  // The test only proves something if it hit the hard cases.
  EXPECT_GT(wrapped_states, 1000u);
  EXPECT_GT(freed_regions, 100u);
}

// Refuses new regions at 7/8 of the index or when no memory can be had,
// counts the refusals, and still updates pages it tracks; lookups of absent
// keys terminate in an index at its limit, however small.
TEST(HotnessTable, PressureRefusesNewRegionsOnly) {
  for (uint32_t capacity : {2u, 4u, 8u, 16u, 1024u}) {
    SCOPED_TRACE(capacity);
    Table t(capacity);
    uint32_t inserted = 0;
    for (uint64_t r = 0; r < capacity * 2; r++)
      inserted += t.record(key(1, r * HTIER_REGION_PAGES), 1, HTIER_TIER_SLOW);
    EXPECT_EQ(inserted, t->nr_regions);
    EXPECT_LT(t->nr_regions, capacity) << "no empty entry: probes never end";
    EXPECT_GE(t->nr_regions, capacity - capacity / 8 - 1);
    EXPECT_EQ(t->nr_full, capacity * 2 - inserted);
    EXPECT_FALSE(t.find(key(9, 999)));
    EXPECT_FALSE(t.record(key(9, 999), 1, HTIER_TIER_SLOW));
    // A page of a region already there is taken.
    EXPECT_TRUE(t.record(key(1, 7), 5, HTIER_TIER_FAST));
    EXPECT_EQ(t.heat(key(1, 7)), 5u);
  }
  Table t(1024);
  t.limitRegions(3);
  for (uint64_t r = 0; r < 5; r++)
    t.record(key(1, r * HTIER_REGION_PAGES), 1, HTIER_TIER_SLOW);
  EXPECT_EQ(t->nr_regions, 3u);
  EXPECT_EQ(t->nr_full, 2u);
  // Room comes back when a region empties.
  EXPECT_TRUE(htier_table_remove(t.get(), key(1, 0)));
  EXPECT_TRUE(t.record(key(1, 4 * HTIER_REGION_PAGES), 1, HTIER_TIER_SLOW));
}

TEST(HotnessTable, CoolingHalvesHeatLazily) {
  Table t(64);
  const uint32_t heats[] = {0, 1, 2, 3, 100, HTIER_HEAT_MAX};
  for (uint32_t i = 0; i < 6; i++)
    t.record(key(1, i), heats[i], HTIER_TIER_SLOW);
  htier_table_cool(t.get(), 1);
  for (uint32_t i = 0; i < 6; i++)
    EXPECT_EQ(t.heat(key(1, i)), heats[i] >> 1);
  htier_table_cool(t.get(), 2);
  for (uint32_t i = 0; i < 6; i++)
    EXPECT_EQ(t.heat(key(1, i)), heats[i] >> 3);
  // A write after cooling starts from the cooled heat.
  t.record(key(1, 4), 1, HTIER_TIER_SLOW);
  EXPECT_EQ(t.heat(key(1, 4)), (100u >> 3) + 1);
  // Cooling forgets heat, not pages.
  EXPECT_EQ(t->nr_used, 6u);
  htier_table_cool(t.get(), 40);
  for (uint32_t i = 0; i < 6; i++)
    EXPECT_EQ(t.heat(key(1, i)), 0u);
  std::unordered_map<uint64_t, ModelPage> model;
  for (uint32_t i = 0; i < 6; i++)
    model[key(1, i)] = {0, HTIER_TIER_SLOW};
  expectMatchesModel(t, model);
}

// htier_region_age() of a small page by key.
void age(Table& t, uint64_t k) {
  htier_region* r = htier_table_region(t.get(), htier_region_key(k), false);
  if (r)
    htier_region_age(t.get(), r, static_cast<uint32_t>(k - r->key));
}

// Aging after a shift: a page's heat halves now (the others' stays), never
// below 1 (a page at 1 stays there, one at 0 too); untracked pages are left
// alone; later cooling and writes start from the halved heat, and the
// histogram stays the pages' own.
TEST(HotnessTable, AgingHalvesOnePageNeverBelowOne) {
  Table t(64);
  const uint32_t heats[] = {0, 1, 2, 3, 12, HTIER_HEAT_MAX};
  std::unordered_map<uint64_t, ModelPage> model;
  for (uint32_t i = 0; i < 6; i++) {
    t.record(key(1, i), heats[i], HTIER_TIER_FAST);
    t.record(key(1, HTIER_REGION_PAGES + i), heats[i], HTIER_TIER_SLOW);
    model[key(1, i)] = {heats[i] < 2 ? heats[i] : heats[i] / 2, HTIER_TIER_FAST};
    model[key(1, HTIER_REGION_PAGES + i)] = {heats[i], HTIER_TIER_SLOW};
  }
  for (uint32_t i = 0; i < 6; i++)
    age(t, key(1, i));
  age(t, key(1, 100));  // not tracked: nothing happens
  EXPECT_FALSE(t.find(key(1, 100)));
  expectMatchesModel(t, model);
  htier_table_cool(t.get(), 1);
  for (auto& [k, m] : model)
    m.heat >>= 1;
  expectMatchesModel(t, model);
  // Aging a region that lags the table's cooling syncs it first.
  age(t, key(1, HTIER_REGION_PAGES + 4));  // 12 -> 6 -> 3
  model[key(1, HTIER_REGION_PAGES + 4)].heat = 3;
  t.record(key(1, 4), 1, HTIER_TIER_FAST);  // 6 -> 3, +1
  model[key(1, 4)].heat += 1;
  expectMatchesModel(t, model);
}

// What a sample after a shift ages (htier_table_age_unused(), before the
// sample is recorded): a fast page the sample before found unused too; not
// one it found accessed, not a slow page, not an untracked one.
TEST(HotnessTable, AgingTakesFastPagesUnusedTwice) {
  Table t(64);
  t.record(key(1, 0), 8, HTIER_TIER_FAST);  // accessed at its last sample
  t.record(key(1, 1), 8, HTIER_TIER_FAST);
  t.record(key(1, 1), 0, HTIER_TIER_FAST);  // then found unused
  t.record(key(1, 2), 8, HTIER_TIER_SLOW);
  t.record(key(1, 2), 0, HTIER_TIER_SLOW);
  for (uint64_t v : {0, 1, 2, 3})
    htier_table_age_unused(t.get(), key(1, v));
  EXPECT_EQ(t.heat(key(1, 0)), 8u);
  EXPECT_EQ(t.heat(key(1, 1)), 4u);
  EXPECT_EQ(t.heat(key(1, 2)), 8u);
  EXPECT_FALSE(t.find(key(1, 3)));
}

// Lazy cooling gives exactly the histogram that cooling every page each
// period gives (the table before regions did that, sweeping all pages), on
// the same access trace: per round, accessed pages get +1, every 8 rounds
// heat halves; pages come and go; huge entries too.
TEST(HotnessTable, LazyCoolingMatchesEagerHistogramOnATrace) {
  std::mt19937_64 rng(99);
  Table t(1u << 12);
  std::map<uint64_t, ModelPage> eager;  // the old table's semantics
  std::map<uint64_t, bool> huge;
  const uint64_t nrRegions = 40;
  for (uint32_t round = 1; round <= 300; round++) {
    t->epoch++;
    // Each round touches a random subset of regions, some of them hot.
    for (uint64_t r = 0; r < nrRegions; r++) {
      if (rng() % 3)
        continue;
      uint64_t base = key(1 + r % 5, r * HTIER_REGION_PAGES);
      if (r % 10 == 9) {  // a THP region: one huge entry
        uint32_t acc = rng() % 2;
        t.record(base, acc, HTIER_TIER_SLOW, HTIER_PAGE_HUGE);
        eager[base].heat = std::min<uint32_t>(eager[base].heat + acc, HTIER_HEAT_MAX);
        eager[base].tier = HTIER_TIER_SLOW;
        huge[base] = true;
        continue;
      }
      for (uint32_t i = 0; i < 32; i++) {
        uint64_t k = base + rng() % 64;
        uint32_t acc = r < 8 ? 1 + rng() % 3 : rng() % 2;
        htier_tier tier = r % 2 ? HTIER_TIER_FAST : HTIER_TIER_SLOW;
        t.record(k, acc, tier);
        ModelPage& m = eager[k];
        m.heat = std::min<uint32_t>(m.heat + acc, HTIER_HEAT_MAX);
        m.tier = tier;
      }
    }
    if (round % 17 == 0) {  // some pages go away
      for (auto it = eager.begin(); it != eager.end();) {
        if (!huge.count(it->first) && rng() % 5 == 0) {
          ASSERT_TRUE(htier_table_remove(t.get(), it->first));
          it = eager.erase(it);
        } else {
          ++it;
        }
      }
    }
    if (round % 8 == 0) {
      htier_table_cool(t.get(), 1);
      for (auto& [k, m] : eager)
        m.heat >>= 1;
    }
    htier_hist lazy = t.histogram();
    htier_hist ref{};
    for (const auto& [k, m] : eager)
      ref.pages[m.tier][htier_heat_bin(m.heat)] += huge.count(k) ? HTIER_HUGE_PAGES : 1;
    for (int tier = 0; tier < NR_HTIER_TIERS; tier++)
      for (int b = 0; b < HTIER_NR_BINS; b++)
        ASSERT_EQ(lazy.pages[tier][b], ref.pages[tier][b])
            << "round " << round << " tier " << tier << " bin " << b;
  }
  for (const auto& [k, m] : eager)
    ASSERT_EQ(t.heat(k), m.heat);
}

// A walk's visit: pages found are recorded, pages not found this time are
// forgotten, a region left empty is freed; an idle region keeps its pages.
TEST(HotnessTable, VisitForgetsPagesNotFound) {
  Table t(64);
  htier_region* r = htier_table_region(t.get(), key(1, 0), true);
  ASSERT_NE(r, nullptr);
  htier_region_visit_begin(t.get(), r, false);
  for (uint32_t i = 0; i < 100; i++)
    htier_region_record(t.get(), r, i, i % 2, HTIER_TIER_SLOW);
  EXPECT_EQ(htier_region_visit_end(t.get(), r), 0u);
  EXPECT_EQ(t->nr_used, 100u);

  t->epoch++;
  htier_region_note_idle(t.get(), r);
  EXPECT_EQ(r->seen_epoch, t->epoch);
  EXPECT_EQ(t->nr_used, 100u);

  t->epoch++;
  htier_region_visit_begin(t.get(), r, false);
  for (uint32_t i = 50; i < 100; i++)
    htier_region_record(t.get(), r, i, 0, HTIER_TIER_FAST);
  EXPECT_EQ(htier_region_visit_end(t.get(), r), 50u);
  EXPECT_EQ(t->nr_used, 50u);
  EXPECT_FALSE(t.find(key(1, 10)));
  EXPECT_EQ(t.tier(key(1, 60)), HTIER_TIER_FAST);
  EXPECT_EQ(t.heat(key(1, 61)), 1u);
  std::unordered_map<uint64_t, ModelPage> model;
  for (uint32_t i = 50; i < 100; i++)
    model[key(1, i)] = {i % 2, HTIER_TIER_FAST};
  expectMatchesModel(t, model);

  // Nothing found: the region goes.
  htier_region_visit_begin(t.get(), r, false);
  EXPECT_EQ(htier_region_visit_end(t.get(), r), 50u);
  EXPECT_EQ(t->nr_regions, 0u);
  EXPECT_EQ(t.liveRegions(), 0u);
}

// A PTE table that became a THP (khugepaged) or a THP that was split starts
// the region afresh; a migrated huge entry becomes its first page's entry.
TEST(HotnessTable, HugeAndSmallTransitions) {
  Table t(64);
  for (uint32_t i = 0; i < 10; i++)
    t.record(key(1, i), 3, HTIER_TIER_SLOW);
  t.record(key(1, 0), 4, HTIER_TIER_SLOW, HTIER_PAGE_HUGE);
  EXPECT_EQ(t->nr_used, 1u);
  Entry e{};
  ASSERT_TRUE(t.find(key(1, 77), &e));  // any page of the THP finds it
  EXPECT_EQ(e.nr, 512u);
  EXPECT_EQ(e.heat, 4u);
  EXPECT_EQ(t.histogram().pages[HTIER_TIER_SLOW][3], 512u);

  ASSERT_TRUE(htier_table_set_tier(t.get(), key(1, 0), HTIER_TIER_FAST));
  // Split by the move: the first page keeps the heat; the next walk finds
  // the other 511 pages.
  EXPECT_EQ(t->nr_used, 1u);
  ASSERT_TRUE(t.find(key(1, 0), &e));
  EXPECT_EQ(e.nr, 1u);
  EXPECT_EQ(e.heat, 4u);
  EXPECT_EQ(e.tier, HTIER_TIER_FAST);
  EXPECT_FALSE(t.find(key(1, 300)));
  EXPECT_EQ(t.histogram().pages[HTIER_TIER_FAST][3], 1u);
  EXPECT_EQ(t.histogram().pages[HTIER_TIER_SLOW][3], 0u);
  std::unordered_map<uint64_t, ModelPage> model;
  model[key(1, 0)] = {4, HTIER_TIER_FAST};
  expectMatchesModel(t, model);
}

// Regions whose address space was covered since they were last seen are
// expired, a bounded number of index entries per call, across calls.
TEST(HotnessTable, ExpireIsBoundedAndCoversTheIndex) {
  Table t(256);
  std::vector<uint32_t> verified(t->nr_slots + 1, 0);
  for (uint64_t r = 0; r < 100; r++) {
    t->epoch = 10 + static_cast<uint32_t>(r % 10);
    t.record(key(1 + r % 2, r * HTIER_REGION_PAGES), 1, HTIER_TIER_SLOW);
  }
  // Slot 1 was covered from epoch 15 on: its regions seen before are gone.
  verified[1] = 15;
  // Each call looks at 16 entries (a removal counts as one): no call does
  // more, and calls in a row go round the whole index.
  uint32_t removed = 0;
  for (int call = 0; call < 2 * 256 / 16; call++) {
    uint32_t n = htier_table_expire(t.get(), verified.data(), 16);
    EXPECT_LE(n, 16u);
    removed += n;
  }
  // Slot 1 holds the even r, seen at epoch 10 + r % 10: those with
  // r % 10 in {0, 2, 4} were last seen before 15, 30 regions.
  EXPECT_EQ(removed, 30u);
  EXPECT_EQ(t->nr_regions, 70u);
  EXPECT_EQ(htier_table_expire(t.get(), verified.data(), 256), 0u);
  // Epoch wrap: seen "after" verification across the wrap survives.
  Table w(16);
  std::vector<uint32_t> v2(w->nr_slots + 1, 0);
  w->epoch = 0xfffffffeu;
  w.record(key(1, 0), 1, HTIER_TIER_SLOW);
  w->epoch = 1;
  w.record(key(1, HTIER_REGION_PAGES), 1, HTIER_TIER_SLOW);
  v2[1] = 0xffffffffu;
  EXPECT_EQ(htier_table_expire(w.get(), v2.data(), 16), 1u);
  EXPECT_FALSE(w.find(key(1, 0)));
  EXPECT_TRUE(w.find(key(1, HTIER_REGION_PAGES)));
}

TEST(HotnessTable, DropSlotForgetsOneAddressSpace) {
  for (uint32_t capacity : {16u, 128u, 4096u}) {
    SCOPED_TRACE(capacity);
    Table t(capacity);
    std::unordered_map<uint64_t, ModelPage> model;
    std::mt19937_64 rng(capacity);
    // Fill to the index's limit with pages of three address spaces.
    for (uint64_t v = 0; t->nr_regions < capacity - capacity / 8 - 1; v++) {
      uint64_t k = key(1 + v % 3, rng() & 0xffffff);
      if (t.record(k, 2, HTIER_TIER_FAST)) {
        model[k].heat += 2;
        model[k].tier = HTIER_TIER_FAST;
      }
    }
    uint32_t expected = 0;
    for (auto it = model.begin(); it != model.end();) {
      if (htier_key_slot(it->first) == 2) {
        it = model.erase(it);
        expected++;
      } else {
        ++it;
      }
    }
    EXPECT_EQ(htier_table_drop_slot(t.get(), 2), expected);
    expectMatchesModel(t, model);
    EXPECT_EQ(htier_table_drop_slot(t.get(), 2), 0u);
  }
}

// Many short-lived processes: each slot's pages are dropped when it exits,
// nothing leaks, and the survivors' pages and histogram are intact.
TEST(HotnessTable, ManyProcessesExiting) {
  Table t(1u << 14, 1024);
  std::unordered_map<uint64_t, ModelPage> model;
  std::mt19937_64 rng(5);
  for (int gen = 0; gen < 20; gen++) {
    for (uint32_t slot = 1; slot <= 1024; slot++) {
      if (slot % 7 == 0 && gen)
        continue;  // long-lived: recorded once, kept
      for (int i = 0; i < 3; i++) {
        uint64_t k = key(slot, (rng() % 64) * HTIER_REGION_PAGES + rng() % 512);
        ASSERT_TRUE(t.record(k, 1, HTIER_TIER_SLOW));
        model[k].heat += 1;
        model[k].tier = HTIER_TIER_SLOW;
      }
    }
    for (uint32_t slot = 1; slot <= 1024; slot++) {
      if (slot % 7 == 0)
        continue;
      htier_table_drop_slot(t.get(), slot);
    }
    for (auto it = model.begin(); it != model.end();)
      it = htier_key_slot(it->first) % 7 ? model.erase(it) : std::next(it);
    expectMatchesModel(t, model);
    if (HasFatalFailure())
      return;
  }
}

}  // namespace
}  // namespace htier::test

namespace htier::test {
namespace {

// Walk-shaped operations in random order: visits of regions (small and
// huge), idle notes, heat from samples, tier changes, cooling, expiry and
// dropped slots; the kept histogram always matches the pages.
TEST(HotnessTable, RandomWalksKeepTheHistogramExact) {
  std::mt19937_64 rng(2024);
  Table t(256, 4);
  std::vector<uint32_t> verified(t->nr_slots + 1, 0);
  for (int step = 0; step < 20000; step++) {
    uint32_t slot = 1 + rng() % 4;
    uint64_t base = key(slot, (rng() % 24) * HTIER_REGION_PAGES);
    switch (rng() % 10) {
      case 0:
      case 1:
      case 2: {  // a visit of a PTE table (or a huge PMD)
        bool huge = rng() % 8 == 0;
        htier_region* r = htier_table_region(t.get(), base, true);
        if (!r)
          break;
        htier_region_visit_begin(t.get(), r, huge);
        uint32_t n = huge ? 1 : rng() % 64;
        for (uint32_t i = 0; i < n; i++)
          htier_region_record(t.get(), r, huge ? 0 : rng() % 512, rng() % 3,
                              rng() % 2 ? HTIER_TIER_FAST : HTIER_TIER_SLOW);
        htier_region_visit_end(t.get(), r);
        break;
      }
      case 3: {
        htier_tier tier;
        htier_table_add_heat(t.get(), base + rng() % 512, 1 + rng() % 5, &tier);
        break;
      }
      case 4:
        htier_table_set_tier(t.get(), base + rng() % 512,
                             rng() % 2 ? HTIER_TIER_FAST : HTIER_TIER_SLOW);
        break;
      case 5:
        htier_table_cool(t.get(), 1 + rng() % 2);
        break;
      case 6:
        t->epoch++;
        verified[slot] = t->epoch - 3;
        htier_table_expire(t.get(), verified.data(), 8);
        break;
      case 7:
        if (rng() % 50 == 0)
          htier_table_drop_slot(t.get(), slot);
        break;
      case 8:
        t.record(base + rng() % 512, rng() % 4, HTIER_TIER_SLOW,
                 rng() % 10 == 0 ? HTIER_PAGE_HUGE : 0);
        break;
      default:
        if (rng() % 3 == 0) {  // the walker's aging after a shift
          age(t, base + rng() % 512);
        } else {
          htier_table_remove(t.get(), base + rng() % 512);
        }
    }
    htier_hist kept = t.histogram(), counted = t.countedHistogram();
    for (int tier = 0; tier < NR_HTIER_TIERS; tier++)
      for (int b = 0; b < HTIER_NR_BINS; b++)
        ASSERT_EQ(kept.pages[tier][b], counted.pages[tier][b])
            << "step " << step << " tier " << tier << " bin " << b;
    ASSERT_EQ(t->nr_used, t.entries().size()) << "step " << step;
  }
}

}  // namespace
// htier_region_spread(): the regions of a table, samples added as the
// PEBS drain adds them (HTIER_PEBS_SAMPLE_HEAT each), one region walked.
struct SpreadFixture {
  Table t{64};
  htier_spread_params p{HTIER_PEBS_SAMPLE_HEAT, 16, 0, 16};

  void track(uint64_t first, uint32_t n, htier_tier tier = HTIER_TIER_SLOW) {
    for (uint32_t i = 0; i < n; i++)
      t.record(key(1, first + i), 0, tier);
  }
  void sample(uint64_t vpn, uint32_t n = 1) {
    htier_tier tier;
    ASSERT_TRUE(htier_table_add_heat(t.get(), key(1, vpn),
                                     n * HTIER_PEBS_SAMPLE_HEAT, &tier));
  }
  uint32_t spread(uint64_t vpn) {
    htier_region* r = htier_table_region(t.get(), key(1, vpn), false);
    return r ? htier_region_spread(t.get(), r, &p) : 0;
  }
};

// Samples falling evenly on a region (each page of a hot range one sample
// or none) rank every page of it at the block's mean at least, at once;
// the histogram stays the pages' own.
TEST(HotnessTable, SpreadRanksAnEvenlySampledRegionTogether) {
  SpreadFixture f;
  f.track(0, HTIER_REGION_PAGES);
  std::mt19937_64 rng(5);
  // 160 samples on 512 pages, uniformly: about 137 distinct pages.
  for (int i = 0; i < 160; i++)
    f.sample(rng() % HTIER_REGION_PAGES);
  f.t->epoch++;  // a round later
  EXPECT_EQ(f.spread(0), HTIER_REGION_PAGES - 0u) << "not every page raised";
  // Steady-state heat at this rate: 160 samples / 512 pages a round over
  // 16 rounds, 8 heat each = 40 (each block its own: 20 +- 4.5 samples);
  // an unsampled page has it too.
  uint32_t minHeat = ~0u;
  for (uint32_t i = 0; i < HTIER_REGION_PAGES; i++)
    minHeat = std::min(minHeat, f.t.heat(key(1, i)));
  EXPECT_GE(minHeat, 24u);
  EXPECT_LE(minHeat, 48u);
  htier_hist kept = f.t.histogram(), counted = f.t.countedHistogram();
  for (int b = 0; b < HTIER_NR_BINS; b++)
    EXPECT_EQ(kept.pages[HTIER_TIER_SLOW][b], counted.pages[HTIER_TIER_SLOW][b]);
  EXPECT_EQ(f.t->nr_spread, 1u);
}

// The same number of samples bunched on an eighth of each block's pages
// (a scattered hot set: 8 hot pages among 64): fewer distinct pages than
// uniform samples hit, so each page keeps its own count.
TEST(HotnessTable, SpreadLeavesBunchedSamplesAlone) {
  SpreadFixture f;
  f.track(0, HTIER_REGION_PAGES);
  std::mt19937_64 rng(6);
  for (int i = 0; i < 400; i++)
    f.sample((rng() % 64) * 8);  // pages 0, 8, 16, ...
  f.t->epoch += 2;
  EXPECT_EQ(f.spread(0), 0u);
  EXPECT_EQ(f.t.heat(key(1, 1)), 0u);
  EXPECT_EQ(f.t->nr_spread, 0u);
}

// Within an even region, blocks are ranked apart: a hot half and a cold
// half get their own means (a hot range that ends inside a region).
TEST(HotnessTable, SpreadRanksEachBlockByItsOwnSamples) {
  SpreadFixture f;
  f.track(0, HTIER_REGION_PAGES);
  std::mt19937_64 rng(7);
  for (int i = 0; i < 200; i++)
    f.sample(rng() % (HTIER_REGION_PAGES / 2));  // the first 4 blocks only
  f.t->epoch++;
  EXPECT_GT(f.spread(0), 0u);
  uint32_t hot = ~0u, cold = 0;
  for (uint32_t i = 0; i < HTIER_REGION_PAGES / 2; i++)
    hot = std::min(hot, f.t.heat(key(1, i)));
  for (uint32_t i = HTIER_REGION_PAGES / 2; i < HTIER_REGION_PAGES; i++)
    cold = std::max(cold, f.t.heat(key(1, i)));
  EXPECT_GE(hot, 32u);
  EXPECT_EQ(cold, 0u);
}

// No verdict from too few samples, none where samples are plentiful (more
// than one per two pages a round: each page's own count ranks it), none
// for a huge entry; a block far above the table's mean is raised to the
// promotion floor however few samples each page got.
TEST(HotnessTable, SpreadNeedsScarceButEnoughSamples) {
  {
    SpreadFixture f;
    f.track(0, HTIER_REGION_PAGES);
    for (int i = 0; i < 20; i++)
      f.sample(i * 25);
    f.t->epoch++;
    EXPECT_EQ(f.spread(0), 0u) << "a verdict from 20 samples";
  }
  {
    SpreadFixture f;
    f.track(0, HTIER_REGION_PAGES);
    for (uint32_t i = 0; i < HTIER_REGION_PAGES; i++)
      f.sample(i);  // one a page, a round
    f.t->epoch++;
    EXPECT_EQ(f.spread(0), 0u) << "spread although every page has its own";
  }
  {
    SpreadFixture f;
    ASSERT_TRUE(f.t.record(key(1, 0), 0, HTIER_TIER_SLOW, HTIER_PAGE_HUGE));
    for (int i = 0; i < 100; i++)
      f.sample(i);
    f.t->epoch++;
    EXPECT_EQ(f.spread(0), 0u);
  }
  {
    SpreadFixture f;
    f.track(0, HTIER_REGION_PAGES);
    f.p.mean_x1024 = 8;  // the table: 1 sample per 128 pages a round
    for (uint32_t i = 0; i < 128; i++)
      f.sample(i * 4);  // 1 per 4 pages: 32x the mean
    f.t->epoch += 8;  // over 8 rounds: 16 x 8 / 8 / 4 = 4 heat, below the floor
    EXPECT_EQ(f.spread(0), HTIER_REGION_PAGES);  // a sample is 8 heat
    EXPECT_EQ(f.t.heat(key(1, 1)), f.p.floor_heat);
    EXPECT_EQ(f.t.heat(key(1, 4)), f.p.floor_heat);
  }
}

// Cooling takes a spread region's levels down with its heats: after a
// cooling step the block's level is halved too, so a range that went cold
// is not raised back.
TEST(HotnessTable, SpreadCoolsWithTheTable) {
  SpreadFixture f;
  f.track(0, HTIER_REGION_PAGES);
  std::mt19937_64 rng(8);
  for (int i = 0; i < 160; i++)
    f.sample(rng() % HTIER_REGION_PAGES);
  f.t->epoch++;
  ASSERT_GT(f.spread(0), 0u);
  uint32_t before = f.t.heat(key(1, 511)) ? f.t.heat(key(1, 511)) : 1;
  htier_table_cool(f.t.get(), 2);
  f.t->epoch++;
  f.spread(0);  // no new samples: nothing to raise
  EXPECT_LE(f.t.heat(key(1, 511)), before / 4 + 1);
}

}  // namespace htier::test
