// SPDX-License-Identifier: GPL-2.0
//
// Allocation policies divide the host's fast memory among VMs.  A policy is
// a pure function from PolicyInput to one Quota per VM; the engine builds
// the input from configuration, QMP facts and guest reports, and the
// Stabilizer (policy/Stabilizer.h) damps the result before it is enforced.
//
// Every policy must return, for each VM i:
//   vms[i].floorBytes <= quota <= vms[i].ceilingBytes, quota % block == 0,
// and sum(quota) <= capacityBytes whenever sum(floorBytes) <= capacityBytes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace htier {

// One point of a guest's utility curve: with fastBytes of fast memory (in
// device bytes, i.e. after subtracting the guest's fixed fast base), share
// of its accesses would hit fast memory.  Sanitized: x strictly increasing,
// share in [0,1] and non-decreasing.
struct CurvePoint {
  uint64_t fastBytes = 0;
  double share = 0;
};

struct VmDemand {
  std::string name;
  // Lowest quota allowed now: the min guarantee, or more when the VM
  // really holds more that cannot be taken back yet (a stuck unplug, or a
  // VM adopted after a restart that has not reported yet).  Aligned.
  uint64_t floorBytes = 0;
  // Highest quota allowed: min(max_fast_bytes, device max size).  Aligned.
  uint64_t ceilingBytes = 0;
  uint64_t blockBytes = 1;
  uint64_t currentBytes = 0;  // quota in force now
  double weight = 1;
  // False when the VM is idle: no fresh report, or nothing hot.
  bool hasDemand = false;
  uint64_t hotSetBytes = 0;  // device bytes
  std::vector<CurvePoint> curve;
};

struct PolicyInput {
  uint64_t capacityBytes = 0;
  std::vector<VmDemand> vms;
};

struct Quota {
  uint64_t bytes = 0;
  std::string reason;  // one line for the status output
};

class Policy {
 public:
  virtual ~Policy() = default;
  virtual std::vector<Quota> allocate(const PolicyInput& in) const = 0;
};

}  // namespace htier
