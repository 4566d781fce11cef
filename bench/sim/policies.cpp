// SPDX-License-Identifier: GPL-2.0
// The policies.  htier runs the module's C core (guest-kmod/core) exactly as
// the module's round does: record what the sampler saw, cool every N epochs,
// expire, histogram, plan, select, migrate.  The baselines are models of
// what they are named after, kept small:
//   first-touch  no management: pages stay where they were first placed.
//   tpp          TPP (Linux NUMA-balancing tiering): a slow page accessed
//                again within a short window of its previous access is
//                promoted; room is made by demoting the least recently
//                accessed fast pages.
//   memtis       Memtis: PEBS-like sample counts, cooled like htier's heat,
//                in a log2 histogram; the hot threshold is the coldest bin
//                whose pages (with all hotter ones) fit the capacity.  Hot
//                slow pages are promoted into free fast memory; cold fast
//                pages are demoted separately when hot pages wait, so room
//                appears one epoch later (no exchange pairing).
//   oracle       before every epoch the fast tier holds the pages with the
//                most accesses in that epoch: an upper bound.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <stdexcept>

#include "sim_policy.h"

extern "C" {
#include "hotness.h"
#include "policy.h"
}

namespace htier::sim {


Policy::Policy(std::string name, const PolicyConfig& cfg)
    : cfg_(cfg), name_(std::move(name)), fast_(cfg.pages, 0) {
  if (cfg.initial == Initial::FastFirst) {
    // Linux fills the local (fast) node first, in first-touch order.
    nrFast_ = std::min(cfg.capacityPages, cfg.pages);
    std::fill(fast_.begin(), fast_.begin() + nrFast_, 1);
  }
}

void Policy::promote(uint64_t page) {
  if (fast_[page])
    return;
  fast_[page] = 1;
  nrFast_++;
  promoted_++;
}

void Policy::demote(uint64_t page) {
  if (!fast_[page])
    return;
  fast_[page] = 0;
  nrFast_--;
  demoted_++;
}

namespace {

class FirstTouch : public Policy {
 public:
  explicit FirstTouch(const PolicyConfig& cfg) : Policy("first-touch", cfg) {}
};

// The module's round (guest-kmod/main.c htier_round), on the module's code:
// sample, record, cool every N rounds, expire, histogram, plan (min promote
// bin and exchange gap as the module sets them), select, migrate; then the
// period backs off (doubles up to scanMaxMs) while a round plans no move.
//
// Samplers:
//   Window   the module's abit sampler (sample_abit.c): each round clears the
//            accessed bits, waits a window, and counts the bits set since as
//            one access.  Accesses are Poisson, so a page with expected count
//            c per epoch is young with probability 1 - exp(-c * window /
//            epoch).  The window is tuned every round exactly like
//            htier_abit_tune: aim the young-page count at the quota (between
//            1/20 and 1/2 of the tracked pages), x4 / /4 when far off, else
//            scaled linearly; clamped to [1 ms, scan_interval]; a window that
//            reaches the round's length means one walk per round, which sees
//            every access since the previous round.
//   Single   the earlier sampler: one walk per round, a page counts if its
//            bit was set at all since the previous round (htier-abit1).
//   Pebs     PEBS-like sample counts, accumulated between rounds.
class Htier : public Policy {
 public:
  enum class Sampler { Window, Single, Pebs };

  Htier(const PolicyConfig& cfg, Sampler sampler, const char* name)
      : Policy(name, cfg), sampler_(sampler), pending_(cfg.pages, 0),
        rng_(0x5EED0000ULL + static_cast<uint64_t>(sampler)) {
    // The module's table: an index with room for every region of the
    // workload, regions from the heap.
    uint32_t cap = 1024;
    while (cap < cfg.pages / HTIER_REGION_PAGES * 2 + 2)
      cap *= 2;
    index_.resize(cap);
    slotHeads_.resize(2);
    htier_region_alloc mem{};
    mem.alloc = [](void*) {
      return static_cast<htier_region*>(calloc(1, sizeof(htier_region)));
    };
    mem.free = [](htier_region* r, void*) { free(r); };
    htier_table_init(&table_, index_.data(), cap, slotHeads_.data(), 1, &mem);
    verified_.resize(2);
    keysUp_.resize(cfg.batchPages);
    keysDown_.resize(cfg.batchPages);
    period_ = std::max(cfg.pebsBasePeriod, static_cast<double>(HTIER_PEBS_INITIAL_PERIOD));
    windowUs_ = cfg.abitWindowMs > 0 ? cfg.abitWindowMs * 1000 : 5000;  // htier_abit_start
    maxIntervalEpochs_ = std::max<uint32_t>(
        1, static_cast<uint32_t>(cfg.scanMaxMs / cfg.epochMs + 0.5));
  }

  ~Htier() override { htier_table_destroy(&table_); }
  Htier(const Htier&) = delete;
  Htier& operator=(const Htier&) = delete;

  void after(const Signals& s) override {
    // Time since the previous round, in epochs (a single walk sees it all).
    sinceRound_++;
    if (sampler_ == Sampler::Pebs) {
      // Samples drawn at the simulator's period, thinned to the tuned one.
      const double keep = cfg_.pebsCpuPermil ? cfg_.pebsBasePeriod / period_ : 1.0;
      for (uint64_t page = 0; page < cfg_.pages; page++) {
        uint32_t n = s.pebs[page];
        if (keep < 1.0) {
          uint32_t kept = 0;
          for (uint32_t i = 0; i < n; i++)
            kept += unit() < keep;
          n = kept;
        }
        pending_[page] += n;
      }
    }
    if (sinceRound_ < intervalEpochs_)
      return;  // backed off: no round in this epoch
    round(s.epoch);
    sinceRound_ = 0;
  }

  std::string detail() const override {
    char buf[240];
    int n = std::snprintf(buf, sizeof(buf),
                          "rounds %llu, mean window %.1f ms, mean period %.0f ms",
                          static_cast<unsigned long long>(rounds_),
                          rounds_ ? windowSumMs_ / rounds_ : 0,
                          rounds_ ? periodSumEpochs_ * cfg_.epochMs / rounds_ : 0);
    if (sampler_ == Sampler::Pebs && n > 0 && static_cast<size_t>(n) < sizeof(buf))
      std::snprintf(buf + n, sizeof(buf) - n,
                    ", mean sample period %.0f, regions spread %llu",
                    cfg_.pebsCpuPermil && rounds_ ? periodSum_ / rounds_ : cfg_.pebsBasePeriod,
                    static_cast<unsigned long long>(table_.nr_spread));
    return buf;
  }

 private:
  static uint64_t splitmix64(uint64_t& x) {
    uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  double unit() { return static_cast<double>(splitmix64(rng_) >> 11) * (1.0 / 9007199254740992.0); }

  // One round, after an epoch whose expected counts are @e.count.
  void round(const Epoch& e) {
    rounds_++;
    periodSumEpochs_ += intervalEpochs_;
    table_.epoch++;
    const double roundUs = cfg_.epochMs * 1000;  // scan_interval_ms
    // The span the sample covers, in epochs of the workload's rate.
    double span = intervalEpochs_;
    if (sampler_ == Sampler::Window && windowUs_ < roundUs)
      span = windowUs_ / roundUs;
    if (sampler_ != Sampler::Pebs)
      windowSumMs_ += span * cfg_.epochMs;
    uint64_t young = 0, samples = 0, samplesSlow = 0, slowPages = 0;
    spread_.weight = HTIER_PEBS_SAMPLE_HEAT;
    spread_.horizon = 2 * cfg_.coolEveryEpochs;
    spread_.floor_heat = 1u << (minPromoteBin() - 1);
    spread_.mean_x1024 = lastMeanX1024_;
    for (uint64_t page = 0; page < cfg_.pages; page++) {
      uint32_t seen;
      if (sampler_ == Sampler::Pebs) {
        seen = pending_[page];
        pending_[page] = 0;
        // The module: a residency walk records the page, the drained
        // samples add heat (htier_pebs_record), the walk's region visit
        // spreads the region's samples (below).
        samples += seen;
        samplesSlow += onFast(page) ? 0 : seen;
        slowPages += !onFast(page);
        young += seen != 0;
        htier_table_record(&table_, htier_key(1, page), 0,
                           onFast(page) ? HTIER_TIER_FAST : HTIER_TIER_SLOW, 0);
        enum htier_tier tier;
        if (seen)
          htier_table_add_heat(&table_, htier_key(1, page),
                               seen * HTIER_PEBS_SAMPLE_HEAT, &tier);
        if (cfg_.spread &&
            (page % HTIER_REGION_PAGES == HTIER_REGION_PAGES - 1 || page + 1 == cfg_.pages)) {
          auto* r = htier_table_region(&table_, htier_key(1, page), false);
          if (r)
            htier_region_spread(&table_, r, &spread_);
        }
        continue;
      } else if (sampler_ == Sampler::Single && span == 1.0) {
        seen = e.accessed[page];  // the epoch's own accessed bit
      } else {
        // Young with probability 1 - exp(-c * span) (Poisson accesses).
        seen = unit() < -std::expm1(-e.count[page] * span);
      }
      young += seen != 0;
      samples += seen;
      samplesSlow += onFast(page) ? 0 : seen;
      slowPages += !onFast(page);
      // htier_walk_recorded(): after a shift, a fast page unused at this
      // sample and the one before loses half its heat.
      if (ageLeft_ && !seen)
        htier_table_age_unused(&table_, htier_key(1, page));
      htier_table_record(&table_, htier_key(1, page), seen,
                         onFast(page) ? HTIER_TIER_FAST : HTIER_TIER_SLOW, 0);
    }
    if (ageLeft_)
      ageLeft_--;
    if (sampler_ == Sampler::Pebs && cfg_.pebsCpuPermil) {
      htier_pebs_budget b{};
      b.samples = samples;
      b.elapsed_ns = static_cast<uint64_t>(intervalEpochs_ * cfg_.epochMs * 1e6);
      b.nr_cpus = cfg_.cpus;
      b.cpu_permil = cfg_.pebsCpuPermil;
      b.need = htier_pebs_need(cfg_.capacityPages);
      period_ = htier_pebs_period_step(static_cast<uint32_t>(period_), &b,
                                       static_cast<uint32_t>(std::ceil(cfg_.pebsBasePeriod)));
      periodSum_ += period_;
    }
    if (table_.nr_used)
      lastMeanX1024_ = static_cast<uint32_t>(samples * 1024 / table_.nr_used);
    if (sampler_ == Sampler::Window)
      tune(young, roundUs);
    if (cfg_.coolByTime) {
      // Variant: cool by elapsed base periods, so that a backed-off
      // period does not slow heat decay down in wall time.
      coolDebt_ += intervalEpochs_;
      for (; coolDebt_ >= cfg_.coolEveryEpochs; coolDebt_ -= cfg_.coolEveryEpochs)
        htier_table_cool(&table_, cfg_.coolShift);
    } else if (sampler_ == Sampler::Pebs) {
      // The module: by samples as well as rounds.
      roundsSinceCool_++;
      samplesSinceCool_ += samples;
      if (htier_pebs_cool_due(roundsSinceCool_, cfg_.coolEveryEpochs, samplesSinceCool_,
                              cfg_.capacityPages, cfg_.pebsCoolSamples)) {
        htier_table_cool(&table_, cfg_.coolShift);
        roundsSinceCool_ = samplesSinceCool_ = 0;
      }
    } else if (table_.epoch % cfg_.coolEveryEpochs == 0) {
      htier_table_cool(&table_, cfg_.coolShift);  // the module: per round
    }
    // Every page is seen every round here: regions not seen for two
    // rounds have no page left.
    verified_[1] = table_.epoch - 2;
    htier_table_expire(&table_, verified_.data(), 1024);

    htier_hist hist;
    htier_plan plan;
    htier_policy_params params{};
    params.quota_pages = cfg_.capacityPages;
    params.max_promote = cfg_.batchPages;
    params.max_demote = cfg_.batchPages;
    // PEBS heat counts eighths of a sample (HTIER_PEBS_SAMPLE_HEAT): the
    // same floor in samples is HTIER_PEBS_SAMPLE_SHIFT bins higher.
    params.min_promote_bin = minPromoteBin();
    params.exchange_gap = cfg_.exchangeGap;
    params.exchange_top_permil = cfg_.exchangeTopPermil;
    params.exchange_recent = cfg_.exchangeRecent && sampler_ != Sampler::Pebs;
    htier_table_histogram(&table_, &hist);
    htier_plan_compute(&hist, &params, &plan);

    // htier_round's back-off: only while placement is settled (nothing to
    // move, no clearly hot page on slow, no jump in slow accesses).
    // htier_slow_accesses_jumped(): every page is sampled every round.
    bool jumped = htier_shift_step(&shift_, samplesSlow, samples, slowPages, cfg_.pages);
    // The module ages nothing within 8 rounds of a quota change
    // (HTIER_AGE_AFTER_FORCED); here the quota is set at the first round.
    if (jumped && rounds_ > 8 && sampler_ != Sampler::Pebs)
      ageLeft_ = cfg_.ageRounds;
    else if (jumped && rounds_ > 8)  // from the next round's ranking on
      htier_table_cool(&table_, cfg_.pebsJumpCool);
    if (plan.nr_promote || plan.nr_demote || plan.stale_pages > plan.hot_pages / 64 || jumped)
      intervalEpochs_ = 1;
    else
      intervalEpochs_ = std::min(intervalEpochs_ * 2, maxIntervalEpochs_);

    htier_selection sel{};
    sel.promote_keys = keysUp_.data();
    sel.demote_keys = keysDown_.data();
    sel.max_keys = static_cast<uint32_t>(cfg_.batchPages);
    htier_plan_select(&table_, &plan, &sel);
    for (uint32_t i = 0; i < sel.nr_demote_keys; i++)
      move(keysDown_[i], false);
    for (uint32_t i = 0; i < sel.nr_promote_keys; i++)
      move(keysUp_[i], true);
  }

  // PEBS heat counts eighths of a sample: its floor is in samples.
  uint32_t minPromoteBin() const {
    if (sampler_ == Sampler::Pebs)
      return cfg_.pebsMinSamples + HTIER_PEBS_SAMPLE_SHIFT;
    return cfg_.minPromoteBin;
  }

  // htier_abit_tune (guest-kmod/sample_abit.c), in microseconds.
  void tune(uint64_t young, double maxUs) {
    const uint64_t tracked = table_.nr_used;
    if (cfg_.abitWindowMs > 0) {
      windowUs_ = std::min(cfg_.abitWindowMs * 1000, maxUs);
      return;
    }
    if (!tracked)
      return;
    const uint64_t quota = cfg_.capacityPages / 2;  // half the quota
    const uint64_t target = std::clamp<uint64_t>(quota, tracked / 20, tracked / 2);
    uint64_t w = static_cast<uint64_t>(windowUs_);
    if (young * 4 < target)
      w *= 4;
    else if (young > target * 4)
      w /= 4;
    else
      w = w * target / std::max<uint64_t>(young, 1);
    windowUs_ = static_cast<double>(
        std::clamp<uint64_t>(w, 100, static_cast<uint64_t>(maxUs)));
  }

  void move(uint64_t key, bool up) {
    uint64_t page = htier_key_vpn(key);
    if (up)
      promote(page);
    else
      demote(page);
    htier_table_set_tier(&table_, key, up ? HTIER_TIER_FAST : HTIER_TIER_SLOW);
  }

  Sampler sampler_;
  std::vector<htier_region*> index_, slotHeads_;
  std::vector<uint32_t> verified_;
  htier_table table_{};
  std::vector<uint64_t> keysUp_, keysDown_;
  std::vector<uint32_t> pending_;  // PEBS samples since the last round
  uint64_t rng_;
  double windowUs_;
  uint32_t intervalEpochs_ = 1, maxIntervalEpochs_ = 1, sinceRound_ = 0;
  uint32_t coolDebt_ = 0;
  uint32_t ageLeft_ = 0;  // rounds left that age unused pages
  htier_shift shift_{};
  htier_spread_params spread_{};
  uint32_t lastMeanX1024_ = 0;  // samples per tracked page, last round
  double period_ = 0;  // htier-pebs: the tuned sample period
  double periodSum_ = 0;  // the shift detector (slow vs fast samples per page)
  uint64_t rounds_ = 0;
  uint64_t roundsSinceCool_ = 0, samplesSinceCool_ = 0;  // htier-pebs
  double windowSumMs_ = 0, periodSumEpochs_ = 0;
};

class Tpp : public Policy {
 public:
  explicit Tpp(const PolicyConfig& cfg)
      : Policy("tpp", cfg), last_(cfg.pages, kNever), prev_(cfg.pages, kNever) {}

  void after(const Signals& s) override {
    const int64_t e = static_cast<int64_t>(s.epoch.index);
    std::vector<uint64_t> candidates;
    for (uint64_t page = 0; page < cfg_.pages; page++) {
      if (!s.epoch.accessed[page])
        continue;
      prev_[page] = last_[page];
      last_[page] = e;
      if (!onFast(page) && prev_[page] != kNever &&
          e - prev_[page] <= static_cast<int64_t>(cfg_.tppWindowEpochs) &&
          candidates.size() < cfg_.batchPages)
        candidates.push_back(page);
    }
    if (candidates.empty())
      return;
    uint64_t need = fastPages() + candidates.size() > cfg_.capacityPages
                        ? fastPages() + candidates.size() - cfg_.capacityPages
                        : 0;
    if (need) {
      // Least recently accessed fast pages first (ties in page-hash order,
      // as an LRU list's order is arbitrary among equally old pages).
      std::vector<uint64_t> fast;
      fast.reserve(fastPages());
      for (uint64_t page = 0; page < cfg_.pages; page++)
        if (onFast(page))
          fast.push_back(page);
      need = std::min<uint64_t>(need, fast.size());
      auto older = [this](uint64_t a, uint64_t b) {
        if (last_[a] != last_[b])
          return last_[a] < last_[b];
        return mix(a) < mix(b);
      };
      std::nth_element(fast.begin(), fast.begin() + need, fast.end(), older);
      for (uint64_t i = 0; i < need; i++)
        demote(fast[i]);
    }
    for (uint64_t page : candidates)
      if (fastPages() < cfg_.capacityPages)
        promote(page);
  }

 private:
  static constexpr int64_t kNever = INT64_MIN / 2;
  static uint64_t mix(uint64_t x) { return x * 0x9E3779B97F4A7C15ULL; }
  std::vector<int64_t> last_, prev_;
};

class Memtis : public Policy {
 public:
  explicit Memtis(const PolicyConfig& cfg)
      : Policy("memtis", cfg), count_(cfg.pages, 0) {}

  void after(const Signals& s) override {
    epochs_++;
    for (uint64_t page = 0; page < cfg_.pages; page++)
      count_[page] = std::min<uint32_t>(count_[page] + s.pebs[page], 0xffff);
    if (epochs_ % cfg_.coolEveryEpochs == 0)
      for (auto& c : count_)
        c >>= cfg_.coolShift;

    uint64_t bins[HTIER_NR_BINS] = {};
    for (uint64_t page = 0; page < cfg_.pages; page++)
      bins[htier_heat_bin(count_[page])]++;
    // Hot threshold: hottest bins that fit the capacity together.
    uint32_t hot = HTIER_NR_BINS;
    uint64_t sum = 0;
    for (int b = HTIER_NR_BINS - 1; b >= 1; b--) {
      if (sum + bins[b] > cfg_.capacityPages)
        break;
      sum += bins[b];
      hot = b;
    }
    uint64_t room = cfg_.capacityPages - std::min(cfg_.capacityPages, fastPages());
    uint64_t promotedNow = 0, waiting = 0;
    for (uint64_t page = 0; page < cfg_.pages; page++) {
      if (onFast(page) || htier_heat_bin(count_[page]) < hot)
        continue;
      if (promotedNow < std::min(room, cfg_.batchPages)) {
        promote(page);
        promotedNow++;
      } else {
        waiting++;
      }
    }
    // Pressure: demote cold pages (below the threshold), coldest first, so
    // that waiting hot pages find room next epoch.
    uint64_t demoteNow = std::min(waiting, cfg_.batchPages);
    if (!demoteNow)
      return;
    std::vector<uint64_t> cold;
    for (uint64_t page = 0; page < cfg_.pages; page++)
      if (onFast(page) && htier_heat_bin(count_[page]) < hot)
        cold.push_back(page);
    demoteNow = std::min<uint64_t>(demoteNow, cold.size());
    std::nth_element(cold.begin(), cold.begin() + demoteNow, cold.end(),
                     [this](uint64_t a, uint64_t b) { return count_[a] < count_[b]; });
    for (uint64_t i = 0; i < demoteNow; i++)
      demote(cold[i]);
  }

 private:
  std::vector<uint32_t> count_;
  uint64_t epochs_ = 0;
};

class Oracle : public Policy {
 public:
  explicit Oracle(const PolicyConfig& cfg) : Policy("oracle", cfg) {}

  void before(const Epoch& e) override {
    const uint64_t k = std::min(cfg_.capacityPages, cfg_.pages);
    std::vector<uint64_t> order(cfg_.pages);
    std::iota(order.begin(), order.end(), 0);
    // Most accesses first; among equals, pages already on fast first (no
    // needless moves).
    auto better = [&](uint64_t a, uint64_t b) {
      if (e.count[a] != e.count[b])
        return e.count[a] > e.count[b];
      return onFast(a) > onFast(b);
    };
    if (k < order.size())
      std::nth_element(order.begin(), order.begin() + k, order.end(), better);
    std::vector<uint8_t> want(cfg_.pages, 0);
    for (uint64_t i = 0; i < k; i++)
      if (e.count[order[i]] > 0)
        want[order[i]] = 1;
    // Fast pages outside the top k stay only while there is room beside it
    // (that is, when fewer than k pages are accessed at all: they are idle).
    uint64_t room = k - static_cast<uint64_t>(std::count(want.begin(), want.end(), 1));
    for (uint64_t page = 0; page < cfg_.pages; page++) {
      if (!onFast(page) || want[page])
        continue;
      if (room)
        room--;
      else
        demote(page);
    }
    for (uint64_t page = 0; page < cfg_.pages; page++)
      if (want[page])
        promote(page);
  }
};

}  // namespace

std::vector<std::string> policyNames() {
  return {"first-touch", "tpp",         "memtis", "htier",
          "htier-abit1", "htier-pebs", "oracle"};
}

std::unique_ptr<Policy> makePolicy(const std::string& name,
                                   const PolicyConfig& cfg) {
  if (name == "first-touch")
    return std::make_unique<FirstTouch>(cfg);
  if (name == "htier")
    return std::make_unique<Htier>(cfg, Htier::Sampler::Window, "htier");
  if (name == "htier-abit1")
    return std::make_unique<Htier>(cfg, Htier::Sampler::Single, "htier-abit1");
  if (name == "htier-pebs")
    return std::make_unique<Htier>(cfg, Htier::Sampler::Pebs, "htier-pebs");
  if (name == "tpp")
    return std::make_unique<Tpp>(cfg);
  if (name == "memtis")
    return std::make_unique<Memtis>(cfg);
  if (name == "oracle")
    return std::make_unique<Oracle>(cfg);
  throw std::invalid_argument("unknown policy " + name);
}

}  // namespace htier::sim
