// SPDX-License-Identifier: GPL-2.0
//
// The baseline policies: weighted-fair, static and greedy.  Each is a few
// lines on top of policy/Fill.h.
#include <algorithm>
#include <sstream>

#include "policy/Fill.h"
#include "policy/PolicyRegistry.h"
#include "util/Units.h"

namespace htier {

namespace {

std::vector<uint64_t> floorsOf(const PolicyInput& in) {
  std::vector<uint64_t> lo;
  for (const auto& vm : in.vms)
    lo.push_back(vm.floorBytes);
  return lo;
}

std::string describe(const VmDemand& vm, uint64_t q, uint64_t cap,
                     const char* what) {
  std::ostringstream why;
  if (!vm.hasDemand && q == vm.floorBytes)
    why << "idle: floor " << formatBytes(vm.floorBytes);
  else if (q >= vm.ceilingBytes)
    why << "capped at max " << formatBytes(vm.ceilingBytes);
  else if (q >= cap)
    why << what << ": demand met (" << formatBytes(cap) << ")";
  else
    why << what << ": share of contended capacity";
  return why.str();
}

class WeightedFairPolicy : public Policy {
 public:
  std::vector<Quota> allocate(const PolicyInput& in) const override {
    std::vector<uint64_t> hi;
    for (const auto& vm : in.vms)
      hi.push_back(demandCap(vm));
    auto q = weightedWaterFill(in, floorsOf(in), hi);
    std::vector<Quota> out;
    for (size_t i = 0; i < q.size(); i++)
      out.push_back({q[i], describe(in.vms[i], q[i], hi[i], "weighted-fair")});
    return out;
  }
};

class StaticPolicy : public Policy {
 public:
  std::vector<Quota> allocate(const PolicyInput& in) const override {
    std::vector<uint64_t> hi;
    for (const auto& vm : in.vms)
      hi.push_back(std::max(vm.floorBytes, vm.ceilingBytes));
    auto q = weightedWaterFill(in, floorsOf(in), hi);
    std::vector<Quota> out;
    for (size_t i = 0; i < q.size(); i++)
      out.push_back({q[i], q[i] >= in.vms[i].ceilingBytes
                               ? "static: capped at max"
                               : "static: weight share of capacity"});
    return out;
  }
};

class GreedyPolicy : public Policy {
 public:
  std::vector<Quota> allocate(const PolicyInput& in) const override {
    auto q = floorsOf(in);
    uint64_t used = sum(q);
    uint64_t left = used >= in.capacityBytes ? 0 : in.capacityBytes - used;
    std::vector<Quota> out;
    for (size_t i = 0; i < q.size(); i++) {
      const VmDemand& vm = in.vms[i];
      uint64_t cap = demandCap(vm);
      uint64_t give = alignDown(std::min(left, cap - q[i]), vm.blockBytes);
      q[i] += give;
      left -= give;
      out.push_back({q[i], describe(vm, q[i], cap, "greedy")});
    }
    return out;
  }
};

}  // namespace

std::unique_ptr<Policy> makeWeightedFairPolicy() {
  return std::make_unique<WeightedFairPolicy>();
}
std::unique_ptr<Policy> makeStaticPolicy() {
  return std::make_unique<StaticPolicy>();
}
std::unique_ptr<Policy> makeGreedyPolicy() {
  return std::make_unique<GreedyPolicy>();
}

}  // namespace htier
