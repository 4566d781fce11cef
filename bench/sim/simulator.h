// SPDX-License-Identifier: GPL-2.0
// Runs every policy over the same access stream, epoch by epoch, and scores
// them: fast-hit share, pages migrated, time to bring the hot set in, and a
// modeled memory time for two fast/slow latency pairs.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim_policy.h"
#include "workload.h"

namespace htier::sim {

struct Latency {
  std::string name;
  double fastNs;
  double slowNs;
};

struct SimConfig {
  PolicyConfig policy;
  std::vector<std::string> policies;  // empty: all
  double epochMs = 500;
  double pebsPeriod = 199;     // one sample per this many accesses
  double migrateUsPerPage = 2;  // modeled cost of moving one 4 KiB page
  std::vector<Latency> latencies = {{"cxl", 80, 200}, {"pmem", 80, 300}};
  bool timeline = false;
  uint64_t seed = 1;
};

struct TimelinePoint {
  double tS;
  double hitShare;   // this epoch's fast-hit share
  double hotOnFast;  // fraction of the hot set on fast (models), else -1
};

struct PolicyResult {
  std::string name;
  double fastAccesses = 0;
  double accesses = 0;
  uint64_t promoted = 0;
  uint64_t demoted = 0;
  double t90S = -1;           // time until >= 90% of the hot set is on fast
  double t90AfterShiftS = -1;  // same, counted from the hot-set shift
  // Pages moved per second in steady state: over the second half of each
  // phase (before the shift, after it).
  double steadyMovedPerS = 0;
  std::vector<uint64_t> movedByEpoch;
  std::vector<double> timeS;  // modeled memory time, one per latency
  std::vector<TimelinePoint> timeline;
  std::string detail;  // the policy's own note (htier: rounds, window)

  double hitShare() const { return accesses > 0 ? fastAccesses / accesses : 0; }
  uint64_t migrated() const { return promoted + demoted; }
};

struct SimResult {
  std::string workload;
  uint64_t pages = 0;
  uint64_t epochs = 0;
  bool hasHotSet = false;
  bool hasShift = false;
  std::vector<double> allFastS;  // modeled time with every access fast
  std::vector<PolicyResult> policies;
};

SimResult simulate(AccessSource& source, const SimConfig& cfg);

}  // namespace htier::sim
