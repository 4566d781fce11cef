// SPDX-License-Identifier: GPL-2.0
// The hotness table: lookups across clusters and wrap-around, deletion by
// backward shift, refusal when full, saturation, cooling, expiry, drop_slot.
#include <gtest/gtest.h>

#include <unordered_map>

#include "core_test_util.h"

namespace htier::test {
namespace {

uint64_t key(uint32_t slot, uint64_t vpn) { return htier_key(slot, vpn); }

// Every key of @model is found with its heat, and nothing else is in the table.
void expectMatchesModel(Table& t,
                        const std::unordered_map<uint64_t, uint16_t>& model) {
  ASSERT_EQ(t->nr_used, model.size());
  ASSERT_EQ(t.occupied(), model.size());
  for (const auto& [k, heat] : model) {
    htier_page* p = t.find(k);
    ASSERT_NE(p, nullptr) << "key " << std::hex << k << " lost";
    ASSERT_EQ(p->key, k);
    ASSERT_EQ(p->heat, heat);
  }
}

TEST(HotnessTable, KeyPacksSlotAndVpn) {
  uint64_t k = htier_key(7, 0x123456789aULL);
  EXPECT_EQ(htier_key_slot(k), 7u);
  EXPECT_EQ(htier_key_vpn(k), 0x123456789aULL);
  // The vpn cannot spill into the slot bits.
  EXPECT_EQ(htier_key_slot(htier_key(1, ~0ULL)), 1u);
}

TEST(HotnessTable, RecordFindRemove) {
  Table t(64);
  EXPECT_EQ(t.find(key(1, 10)), nullptr);
  htier_page* p = t.record(key(1, 10), 3, HTIER_TIER_SLOW);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->heat, 3);
  EXPECT_EQ(p->tier, HTIER_TIER_SLOW);
  EXPECT_EQ(p->seen_epoch, t->epoch);
  // A second record adds accesses and updates tier and flags.
  p = t.record(key(1, 10), 2, HTIER_TIER_FAST, HTIER_PAGE_HUGE);
  EXPECT_EQ(p->heat, 5);
  EXPECT_EQ(p->tier, HTIER_TIER_FAST);
  EXPECT_EQ(p->flags, HTIER_PAGE_HUGE);
  EXPECT_EQ(t->nr_used, 1u);
  EXPECT_EQ(t.find(key(1, 10)), p);
  EXPECT_EQ(t.find(key(2, 10)), nullptr);  // same vpn, other address space
  EXPECT_TRUE(htier_table_remove(t.get(), key(1, 10)));
  EXPECT_FALSE(htier_table_remove(t.get(), key(1, 10)));
  EXPECT_EQ(t.find(key(1, 10)), nullptr);
  EXPECT_EQ(t->nr_used, 0u);
}

TEST(HotnessTable, HeatSaturates) {
  Table t(16);
  t.record(key(1, 1), HTIER_HEAT_MAX - 1, HTIER_TIER_SLOW);
  htier_page* p = t.record(key(1, 1), 10, HTIER_TIER_SLOW);
  EXPECT_EQ(p->heat, HTIER_HEAT_MAX);
  p = t.record(key(1, 1), 0xffffffffu, HTIER_TIER_SLOW);
  EXPECT_EQ(p->heat, HTIER_HEAT_MAX);
}

// Random inserts, updates and removals against a std::unordered_map model, in
// small tables kept near their load limit so that long clusters form and wrap
// around the end of the array; after every step every key must still be
// found, which is what backward-shift deletion must preserve.
TEST(HotnessTable, RandomOpsMatchModelAcrossClustersAndWrap) {
  std::mt19937_64 rng(12345);
  uint64_t wrapped_states = 0, removals_in_clusters = 0;
  for (uint32_t capacity : {8u, 16u, 64u, 256u}) {
    Table t(capacity);
    std::unordered_map<uint64_t, uint16_t> model;
    const uint32_t limit = capacity - capacity / 8;
    // Few distinct keys relative to capacity, so removals hit live keys.
    std::uniform_int_distribution<uint64_t> vpn(0, capacity * 2);
    std::uniform_int_distribution<uint32_t> slot(1, 3);
    for (int step = 0; step < 20000; step++) {
      uint64_t k = key(slot(rng), vpn(rng));
      bool insert = model.size() < limit * 3 / 4 ? (rng() % 4 != 0)
                                                 : (rng() % 2 == 0);
      if (insert) {
        uint32_t acc = rng() % 4;
        htier_page* p = t.record(k, acc, HTIER_TIER_SLOW);
        auto it = model.find(k);
        if (it == model.end() && model.size() >= limit) {
          EXPECT_EQ(p, nullptr);
        } else {
          ASSERT_NE(p, nullptr);
          model[k] = static_cast<uint16_t>(model[k] + acc);
        }
      } else {
        const auto& e = t.entries();
        bool in_cluster = false;
        if (htier_page* p = t.find(k)) {
          uint32_t i = static_cast<uint32_t>(p - e.data());
          in_cluster = e[(i + 1) & (capacity - 1)].key != 0;
        }
        removals_in_clusters += in_cluster;
        EXPECT_EQ(htier_table_remove(t.get(), k), model.erase(k) == 1);
      }
      if (t.entries().front().key && t.entries().back().key)
        wrapped_states++;
      expectMatchesModel(t, model);
      if (HasFatalFailure())
        return;
    }
  }
  // The test only proves something if it hit the hard cases.
  EXPECT_GT(wrapped_states, 1000u);
  EXPECT_GT(removals_in_clusters, 1000u);
}

// Refuses inserts at 7/8 load, counts them, and still updates known pages;
// lookups of absent keys terminate in a table at its limit, however small.
TEST(HotnessTable, FullTableRefusesNewKeys) {
  for (uint32_t capacity : {1u, 2u, 4u, 8u, 16u, 1024u}) {
    SCOPED_TRACE(capacity);
    Table t(capacity);
    uint32_t inserted = 0;
    for (uint64_t v = 0; v < capacity * 2; v++)
      inserted += t.record(key(1, v), 1, HTIER_TIER_SLOW) != nullptr;
    EXPECT_EQ(inserted, t->nr_used);
    EXPECT_LT(t->nr_used, capacity) << "no empty entry left: probes never end";
    EXPECT_GE(t->nr_used, capacity - capacity / 8 - 1);
    EXPECT_EQ(t->nr_full, capacity * 2 - inserted);
    EXPECT_EQ(t.find(key(9, 999)), nullptr);
    EXPECT_EQ(t.record(key(9, 999), 1, HTIER_TIER_SLOW), nullptr);
    if (inserted) {
      htier_page* p = t.record(key(1, 0), 5, HTIER_TIER_FAST);
      ASSERT_NE(p, nullptr);
      EXPECT_EQ(p->heat, 6);
    }
  }
}

TEST(HotnessTable, CoolingHalvesHeat) {
  Table t(64);
  const uint32_t heats[] = {0, 1, 2, 3, 100, HTIER_HEAT_MAX};
  for (uint32_t i = 0; i < 6; i++)
    t.record(key(1, i), heats[i], HTIER_TIER_SLOW);
  htier_table_cool(t.get(), 1);
  for (uint32_t i = 0; i < 6; i++)
    EXPECT_EQ(t.find(key(1, i))->heat, heats[i] >> 1);
  htier_table_cool(t.get(), 2);
  for (uint32_t i = 0; i < 6; i++)
    EXPECT_EQ(t.find(key(1, i))->heat, heats[i] >> 3);
  // Cooling forgets heat, not pages.
  EXPECT_EQ(t->nr_used, 6u);
}

// A page not seen for more than max_age epochs is forgotten; the others stay
// findable even when the removals shift them inside their clusters.
TEST(HotnessTable, ExpireForgetsPagesNotSeen) {
  Table t(256);
  std::unordered_map<uint64_t, uint16_t> model;
  // 200 pages in a 256 table, seen over 10 epochs.
  for (uint32_t e = 0; e < 10; e++) {
    for (uint64_t v = e * 20; v < (e + 1) * 20; v++) {
      t.record(key(1, v), 1, HTIER_TIER_SLOW);
      model[key(1, v)] = 1;
    }
    t->epoch++;
  }
  // Now epoch = 11; pages of round e were seen at epoch e + 1, so their age
  // is 10 - e.  Keeping age <= 4 forgets rounds 0..5.
  uint32_t removed = htier_table_expire(t.get(), 4);
  EXPECT_EQ(removed, 6u * 20);
  for (auto it = model.begin(); it != model.end();) {
    if (htier_key_vpn(it->first) < 6 * 20)
      it = model.erase(it);
    else
      ++it;
  }
  expectMatchesModel(t, model);
  // Nothing more is stale at the same age.
  EXPECT_EQ(htier_table_expire(t.get(), 4), 0u);
  // Seeing a page again keeps it alive.
  t->epoch += 100;
  t.record(key(1, 150), 0, HTIER_TIER_SLOW);
  EXPECT_EQ(htier_table_expire(t.get(), 4), model.size() - 1);
  EXPECT_NE(t.find(key(1, 150)), nullptr);
  EXPECT_EQ(t->nr_used, 1u);
}

// Expiry survives the epoch counter wrapping around.
TEST(HotnessTable, ExpireAcrossEpochWrap) {
  Table t(16);
  t->epoch = 0xfffffffeu;
  t.record(key(1, 1), 1, HTIER_TIER_SLOW);
  t->epoch = 1;  // 3 epochs later
  t.record(key(1, 2), 1, HTIER_TIER_SLOW);
  EXPECT_EQ(htier_table_expire(t.get(), 3), 0u);
  EXPECT_EQ(htier_table_expire(t.get(), 2), 1u);
  EXPECT_EQ(t.find(key(1, 1)), nullptr);
  EXPECT_NE(t.find(key(1, 2)), nullptr);
}

TEST(HotnessTable, DropSlotForgetsOneAddressSpace) {
  for (uint32_t capacity : {16u, 128u, 4096u}) {
    SCOPED_TRACE(capacity);
    Table t(capacity);
    std::unordered_map<uint64_t, uint16_t> model;
    std::mt19937_64 rng(capacity);
    // Fill to the load limit with pages of three address spaces.
    for (uint64_t v = 0; t->nr_used < capacity - capacity / 8 - 1; v++) {
      uint64_t k = key(1 + v % 3, rng() & 0xffffff);
      if (t.record(k, 2, HTIER_TIER_FAST))
        model[k] += 2;
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

}  // namespace
}  // namespace htier::test
