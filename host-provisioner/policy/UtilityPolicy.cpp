// SPDX-License-Identifier: GPL-2.0
//
// utility: keep every guarantee, then spend the remaining capacity where it
// buys the most weighted fast-memory hits.  Each VM's curve (or one derived
// from its hot set) is reduced to the concave hull above its floor; the
// hull segments of all VMs are filled in order of weight * slope.  For
// concave curves this is the optimal fractional allocation, and it costs
// O(S log S) in the total number of segments S, so 1,000 VMs with 64-point
// curves take well under a millisecond.  Memory with zero marginal utility
// is not handed out: it stays in the pool for the next VM that needs it.
#include <algorithm>
#include <cmath>
#include <sstream>

#include "policy/Curve.h"
#include "policy/Fill.h"
#include "policy/PolicyRegistry.h"
#include "util/Units.h"

namespace htier {

namespace {

struct Piece {
  double gain;  // weight * slope
  size_t vm;
  uint64_t bytes;
};

class UtilityPolicy : public Policy {
 public:
  std::vector<Quota> allocate(const PolicyInput& in) const override {
    const size_t n = in.vms.size();
    std::vector<uint64_t> q(n);
    std::vector<std::vector<CurvePoint>> curves(n);
    std::vector<Piece> pieces;
    for (size_t i = 0; i < n; i++) {
      const VmDemand& vm = in.vms[i];
      q[i] = vm.floorBytes;
      if (!vm.hasDemand)
        continue;
      curves[i] = vm.curve.empty() ? curveFromHotSet(vm.hotSetBytes) : vm.curve;
      for (const auto& s :
           concaveHull(curves[i], vm.floorBytes, vm.ceilingBytes))
        pieces.push_back({vm.weight * s.slope, i, s.to - s.from});
    }
    std::stable_sort(
        pieces.begin(), pieces.end(),
        [](const Piece& a, const Piece& b) { return a.gain > b.gain; });

    uint64_t used = sum(q);
    uint64_t left = used >= in.capacityBytes ? 0 : in.capacityBytes - used;
    std::vector<double> marginal(n, 0);  // gain of the last bytes given
    for (const Piece& p : pieces) {
      if (left == 0)
        break;
      uint64_t give = std::min(left, p.bytes);
      q[p.vm] += give;
      left -= give;
      marginal[p.vm] = p.gain;
    }
    // Align down, then hand the rounding leftovers back block by block to
    // the VMs whose last bytes were worth the most.
    std::vector<uint64_t> exact = q;
    for (size_t i = 0; i < n; i++)
      q[i] =
          std::max(in.vms[i].floorBytes, alignDown(q[i], in.vms[i].blockBytes));
    std::vector<size_t> order(n);
    for (size_t i = 0; i < n; i++)
      order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return marginal[a] > marginal[b];
    });
    uint64_t total = sum(q);
    for (size_t i : order) {
      const VmDemand& vm = in.vms[i];
      if (marginal[i] <= 0)
        break;
      // Only round up what rounding down cut: past its curve's last rise a
      // block buys nothing.
      if (q[i] < exact[i] && q[i] + vm.blockBytes <= vm.ceilingBytes &&
          total + vm.blockBytes <= in.capacityBytes) {
        q[i] += vm.blockBytes;
        total += vm.blockBytes;
      }
    }

    std::vector<Quota> out(n);
    for (size_t i = 0; i < n; i++) {
      const VmDemand& vm = in.vms[i];
      std::ostringstream why;
      if (!vm.hasDemand)
        why << "idle: floor " << formatBytes(vm.floorBytes);
      else if (q[i] >= vm.ceilingBytes)
        why << "capped at max " << formatBytes(vm.ceilingBytes);
      else if (q[i] == vm.floorBytes && marginal[i] == 0)
        why << "floor; extra memory buys fewer hits elsewhere or none";
      else
        why << "utility "
            << std::round(curveShare(curves[i], q[i]) * 1000) / 10
            << "% hits at this size";
      out[i] = {q[i], why.str()};
    }
    return out;
  }
};

}  // namespace

std::unique_ptr<Policy> makeUtilityPolicy() {
  return std::make_unique<UtilityPolicy>();
}

}  // namespace htier
