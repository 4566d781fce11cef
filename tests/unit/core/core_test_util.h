// SPDX-License-Identifier: GPL-2.0
// Helpers shared by the htier core unit tests: an owned table, a model of
// page placement that applies a plan's selection, and the checks that say
// whether a placement is the ideal one.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <random>
#include <vector>

extern "C" {
#include "hotness.h"
#include "policy.h"
}

namespace htier::test {

// A snapshot of one tracked entry, as the old per-page table had them.
struct Entry {
  uint64_t key;
  uint32_t heat;
  uint8_t tier;
  uint8_t flags;
  uint32_t nr;
};

// A hotness table that owns its index and regions (regions from malloc,
// counted, so tests can check that none leaks).
class Table {
 public:
  // @capacity: index entries (regions), a power of two.
  explicit Table(uint32_t capacity, uint32_t nrSlots = 64)
      : index_(capacity), heads_(nrSlots + 1) {
    htier_region_alloc mem{};
    mem.alloc = [](void* priv) -> htier_region* {
      auto* self = static_cast<Table*>(priv);
      if (self->regionLimit_ && self->liveRegions_ >= self->regionLimit_)
        return nullptr;
      self->liveRegions_++;
      return static_cast<htier_region*>(calloc(1, sizeof(htier_region)));
    };
    mem.free = [](htier_region* r, void* priv) {
      static_cast<Table*>(priv)->liveRegions_--;
      free(r);
    };
    mem.priv = this;
    htier_table_init(&t_, index_.data(), capacity, heads_.data(), nrSlots, &mem);
  }
  ~Table() { htier_table_destroy(&t_); }
  Table(const Table&) = delete;
  Table& operator=(const Table&) = delete;

  htier_table* get() { return &t_; }
  const htier_table* get() const { return &t_; }
  htier_table* operator->() { return &t_; }
  const htier_table* operator->() const { return &t_; }

  bool record(uint64_t key, uint32_t accesses, htier_tier tier,
              uint8_t flags = 0) {
    return htier_table_record(&t_, key, accesses, tier, flags);
  }
  bool find(uint64_t key, Entry* e = nullptr) const {
    htier_page_info info;
    if (!htier_table_get(&t_, key, &info))
      return false;
    if (e)
      *e = Entry{key, info.heat, info.tier, info.flags, info.nr};
    return true;
  }
  uint32_t heat(uint64_t key) const {
    Entry e{};
    return find(key, &e) ? e.heat : 0;
  }
  int tier(uint64_t key) const {
    Entry e{};
    return find(key, &e) ? e.tier : -1;
  }
  void setTier(uint64_t key, htier_tier tier) { htier_table_set_tier(&t_, key, tier); }

  htier_hist histogram() const {
    htier_hist h;
    htier_table_histogram(&t_, &h);
    return h;
  }

  // The histogram counted from the entries themselves (not the kept one).
  htier_hist countedHistogram() const {
    htier_hist h{};
    for (const auto& e : entries())
      h.pages[e.tier][htier_heat_bin(e.heat)] += e.nr;
    return h;
  }

  std::vector<Entry> entries() const {
    std::vector<Entry> out;
    uint64_t pos = 0, key;
    htier_page_info info;
    while (htier_table_next(&t_, &pos, &key, &info))
      out.push_back(Entry{key, info.heat, info.tier, info.flags, info.nr});
    return out;
  }

  uint32_t occupied() const { return static_cast<uint32_t>(entries().size()); }
  uint32_t liveRegions() const { return liveRegions_; }
  void limitRegions(uint32_t n) { regionLimit_ = n; }

 private:
  std::vector<htier_region*> index_;
  std::vector<htier_region*> heads_;
  htier_table t_{};
  uint32_t liveRegions_ = 0;
  uint32_t regionLimit_ = 0;
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

  for (uint32_t i = 0; i < sel.nr_demote_keys; i++)
    if (table.tier(down[i]) == HTIER_TIER_FAST)
      table.setTier(down[i], HTIER_TIER_SLOW);
  for (uint32_t i = 0; i < sel.nr_promote_keys; i++)
    if (table.tier(up[i]) == HTIER_TIER_SLOW)
      table.setTier(up[i], HTIER_TIER_FAST);
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
    int bin = static_cast<int>(htier_heat_bin(p.heat));
    if (p.tier == HTIER_TIER_FAST) {
      fast += p.nr;
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
