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
  uint32_t minPromoteBin = 1;     // htier: the module's min_promote_bin
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

// Names: first-touch, htier, htier-pebs, tpp, memtis, oracle.
std::vector<std::string> policyNames();
std::unique_ptr<Policy> makePolicy(const std::string& name,
                                   const PolicyConfig& cfg);

}  // namespace htier::sim
