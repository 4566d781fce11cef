// SPDX-License-Identifier: GPL-2.0
// Placement policies the simulator compares: htier (the module's own core,
// fed accessed bits or PEBS-like samples) and the baselines.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "workload.h"

namespace htier::sim {

enum class Initial { Slow, FastFirst };

struct PolicyConfig {
  uint64_t pages = 0;
  uint64_t capacityPages = 0;  // fast-tier capacity (htier: its quota)
  uint64_t batchPages = 4096;  // most pages moved per direction per epoch
  uint32_t coolEveryEpochs = 8;
  uint32_t coolShift = 1;
  // htier: the module's constants (guest-kmod/main.c).
  uint32_t minPromoteBin = 2;  // HTIER_MIN_PROMOTE_BIN: promote heat >= 2 only
  uint32_t exchangeGap = 2;    // HTIER_EXCHANGE_GAP: exchange 2 bins colder
  uint32_t exchangeTopPermil = 250;  // HTIER_EXCHANGE_TOP_PERMIL
  // Exchanges promote only pages accessed at their last sample (the
  // module's, for the accessed-bit sampler; never for PEBS).
  bool exchangeRecent = true;
  // htier's round: epochMs is scan_interval_ms (set by the simulator); while
  // a round plans no move the period doubles up to scanMaxMs
  // (scan_interval_max_ms; <= epochMs: fixed period).
  double epochMs = 500;
  double scanMaxMs = 4000;
  // Accessed-bit window (abit_window_ms): 0 tunes it each round exactly as
  // htier_abit_tune does; > 0 fixes it.
  double abitWindowMs = 0;
  // Variant (not the module): cool by elapsed base periods instead of once
  // per cooling period of rounds.  With the module's back-off rules the two
  // score the same here, and cooling by time can starve heat while the
  // period is backed off (seen in the guest), so the module counts rounds.
  bool coolByTime = false;
  // HTIER_AGE_ROUNDS: after a jump in slow accesses (a moved hot set), the
  // accessed-bit samples of this many rounds halve the heat of the pages
  // they find unused (0: off).  PEBS: cool the table this many extra steps
  // at the jump (pebsJumpCool; 0: off).
  uint32_t ageRounds = 4;
  uint32_t pebsJumpCool = 3;
  // htier-pebs: promote on this many samples (HTIER_PEBS_MIN_PROMOTE_BIN:
  // one), and cool once the samples since the last cooling reach
  // pebsCoolSamples per quota page (HTIER_PEBS_COOL_SAMPLES_PER_PAGE,
  // htier_pebs_cool_due(); 0: every coolEveryEpochs rounds, as before).
  uint32_t pebsMinSamples = 1;
  uint32_t pebsCoolSamples = 2;
  // htier-pebs: a region whose samples fall evenly ranks its pages at
  // least at their 256 KiB block's mean (htier_region_spread, the
  // module's; false: each page by its own samples only).
  bool spread = true;
  // htier-pebs's sample period, tuned every round as the module tunes it
  // (htier_pebs_period_step): the most samples pebsCpuPermil of each of
  // `cpus` CPUs pays for (HTIER_PEBS_SAMPLE_COST_NS a sample), no more
  // than the ranking needs, from HTIER_PEBS_INITIAL_PERIOD and never below
  // the simulator's own draw period (pebsBasePeriod, --pebs-period: the
  // module's pebs_sample_period, 199 by default); samples drawn at that
  // period are thinned to the tuned one.  pebsCpuPermil 0: every drawn
  // sample.
  double pebsBasePeriod = 199;
  uint32_t pebsCpuPermil = 10;
  uint32_t cpus = 1;
  uint32_t tppWindowEpochs = 2;  // TPP: re-access within this many epochs
  Initial initial = Initial::Slow;
};

// What the samplers saw during the epoch that just ended.
struct Signals {
  const Epoch& epoch;
  const std::vector<uint32_t>& pebs;  // sampled accesses per page
};

class Policy {
 public:
  Policy(std::string name, const PolicyConfig& cfg);
  virtual ~Policy() = default;

  const std::string& name() const { return name_; }
  // Before the epoch's accesses (only the oracle looks ahead).
  virtual void before(const Epoch&) {}
  // After the epoch: observe what the samplers saw, then migrate.
  virtual void after(const Signals&) {}
  // A line about the policy's own state (htier: rounds, window, period).
  virtual std::string detail() const { return ""; }

  bool onFast(uint64_t page) const { return fast_[page]; }
  uint64_t fastPages() const { return nrFast_; }
  uint64_t promoted() const { return promoted_; }
  uint64_t demoted() const { return demoted_; }

 protected:
  void promote(uint64_t page);
  void demote(uint64_t page);

  PolicyConfig cfg_;

 private:
  std::string name_;
  std::vector<uint8_t> fast_;
  uint64_t nrFast_ = 0;
  uint64_t promoted_ = 0;
  uint64_t demoted_ = 0;
};

// Names: first-touch, tpp, memtis, htier, htier-abit1, htier-pebs, oracle.
std::vector<std::string> policyNames();
std::unique_ptr<Policy> makePolicy(const std::string& name,
                                   const PolicyConfig& cfg);

}  // namespace htier::sim
