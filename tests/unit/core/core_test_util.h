// SPDX-License-Identifier: GPL-2.0
// Helpers shared by the htier core unit tests: an owned table, a model of
// page placement that applies a plan's selection, and the checks that say
// whether a placement is the ideal one.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

extern "C" {
#include "hotness.h"
#include "policy.h"
}

namespace htier::test {

// A hotness table that owns its entry array.
class Table {
 public:
  explicit Table(uint32_t capacity) : pages_(capacity) {
    htier_table_init(&t_, pages_.data(), capacity);
  }
  Table(const Table&) = delete;
  Table& operator=(const Table&) = delete;

  htier_table* get() { return &t_; }
  const htier_table* get() const { return &t_; }
  htier_table* operator->() { return &t_; }

  htier_page* record(uint64_t key, uint32_t accesses, htier_tier tier,
                     uint8_t flags = 0) {
    return htier_table_record(&t_, key, accesses, tier, flags);
  }
  htier_page* find(uint64_t key) { return htier_table_find(&t_, key); }

  htier_hist histogram() const {
    htier_hist h;
    htier_table_histogram(&t_, &h);
    return h;
  }

  // Number of occupied entries, counted directly.
  uint32_t occupied() const {
    uint32_t n = 0;
    for (const auto& p : pages_)
      n += p.key != 0;
    return n;
  }

  const std::vector<htier_page>& entries() const { return pages_; }

 private:
  std::vector<htier_page> pages_;
  htier_table t_{};
};

inline uint64_t tierPages(const htier_hist& h, htier_tier tier) {
  uint64_t n = 0;
  for (int b = 0; b < HTIER_NR_BINS; b++)
    n += h.pages[tier][b];
  return n;
}

// The outcome of one round of plan + select + migrate on a table.
struct Round {
  htier_plan plan{};
  uint64_t promoted = 0;  // base pages moved slow -> fast
  uint64_t demoted = 0;   // base pages moved fast -> slow
  uint64_t fastBefore = 0;
  uint64_t fastAfter = 0;
};

// Runs the module's round on @table: histogram, plan, select, then "migrates"
// the selected pages by flipping their tier, as the module's migration does
// when every move succeeds.
inline Round applyRound(Table& table, const htier_policy_params& params,
                        uint32_t maxKeys = 1u << 20) {
  Round r;
  htier_hist h = table.histogram();
  r.fastBefore = tierPages(h, HTIER_TIER_FAST);
  htier_plan_compute(&h, &params, &r.plan);

  std::vector<uint64_t> up(maxKeys), down(maxKeys);
  htier_selection sel{};
  sel.promote_keys = up.data();
  sel.demote_keys = down.data();
  sel.max_keys = maxKeys;
  htier_plan_select(table.get(), &r.plan, &sel);

  for (uint32_t i = 0; i < sel.nr_demote_keys; i++) {
    htier_page* p = table.find(down[i]);
    if (p->tier == HTIER_TIER_FAST)
      p->tier = HTIER_TIER_SLOW;
  }
  for (uint32_t i = 0; i < sel.nr_promote_keys; i++) {
    htier_page* p = table.find(up[i]);
    if (p->tier == HTIER_TIER_SLOW)
      p->tier = HTIER_TIER_FAST;
  }
  r.promoted = sel.promote_pages;
  r.demoted = sel.demote_pages;
  r.fastAfter = tierPages(table.histogram(), HTIER_TIER_FAST);
  return r;
}

// True when fast memory holds the hottest pages the policy may bring there:
// no slow page that may be promoted (bin >= min bin) is in a hotter bin than
// any fast page, the fast tier is within the quota, and if it has room left
// no promotable page is still slow.
inline bool isIdealPlacement(const Table& table, uint64_t quotaPages,
                             uint32_t minPromoteBin) {
  const uint32_t minBin = minPromoteBin ? minPromoteBin : 1;
  int coldestFastBin = HTIER_NR_BINS;
  int hottestPromotableSlowBin = -1;
  uint64_t fast = 0;
  for (const auto& p : table.entries()) {
    if (!p.key)
      continue;
    int bin = static_cast<int>(htier_heat_bin(p.heat));
    if (p.tier == HTIER_TIER_FAST) {
      fast += htier_page_nr(&p);
      coldestFastBin = std::min(coldestFastBin, bin);
    } else if (p.tier == HTIER_TIER_SLOW && bin >= static_cast<int>(minBin)) {
      hottestPromotableSlowBin = std::max(hottestPromotableSlowBin, bin);
    }
  }
  if (fast > quotaPages)
    return false;
  if (hottestPromotableSlowBin < 0)
    return true;
  if (hottestPromotableSlowBin > coldestFastBin)
    return false;
  // A promotable slow page is left behind: only fine if there is no room.
  return fast + 1 > quotaPages;
}

}  // namespace htier::test
