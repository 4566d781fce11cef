// SPDX-License-Identifier: GPL-2.0
#include "policy/Fill.h"

#include <algorithm>

#include "util/Units.h"

namespace htier {

uint64_t sum(const std::vector<uint64_t>& v) {
  uint64_t s = 0;
  for (uint64_t x : v)
    s += x;
  return s;
}

uint64_t demandBytes(const VmDemand& vm) {
  if (!vm.hasDemand)
    return 0;
  uint64_t d = vm.hotSetBytes;
  // The curve's saturation point: the first x reaching its highest share.
  if (!vm.curve.empty()) {
    double top = vm.curve.back().share;
    for (const auto& p : vm.curve)
      if (p.share >= top) {
        d = std::max(d, p.fastBytes);
        break;
      }
  }
  return d;
}

uint64_t demandCap(const VmDemand& vm) {
  uint64_t d = alignUp(demandBytes(vm), vm.blockBytes);
  return std::clamp(d, vm.floorBytes, std::max(vm.floorBytes, vm.ceilingBytes));
}

std::vector<uint64_t> weightedWaterFill(const PolicyInput& in,
                                        const std::vector<uint64_t>& lo,
                                        const std::vector<uint64_t>& hi) {
  const size_t n = in.vms.size();
  std::vector<double> alloc(lo.begin(), lo.end());
  uint64_t used = sum(lo);
  double left = used >= in.capacityBytes
                    ? 0.0
                    : static_cast<double>(in.capacityBytes - used);
  std::vector<bool> open(n);
  for (size_t i = 0; i < n; i++)
    open[i] = hi[i] > lo[i];
  // Each round either exhausts the capacity or closes at least one VM.
  for (size_t round = 0; round <= n && left > 0.5; round++) {
    double wsum = 0;
    for (size_t i = 0; i < n; i++)
      if (open[i])
        wsum += in.vms[i].weight;
    if (wsum <= 0)
      break;
    double given = 0;
    for (size_t i = 0; i < n; i++) {
      if (!open[i])
        continue;
      double want = left * in.vms[i].weight / wsum;
      double room = static_cast<double>(hi[i]) - alloc[i];
      double g = std::min(want, room);
      alloc[i] += g;
      given += g;
      if (g >= room)
        open[i] = false;
    }
    left -= given;
  }
  std::vector<uint64_t> out(n);
  for (size_t i = 0; i < n; i++) {
    uint64_t a =
        alignDown(static_cast<uint64_t>(alloc[i]), in.vms[i].blockBytes);
    out[i] = std::clamp(a, lo[i], hi[i]);
  }
  // Alignment leaves less than one block per VM; hand it out block by
  // block, heaviest weight first, so nothing useful is stranded.
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; i++)
    order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return in.vms[a].weight > in.vms[b].weight;
  });
  uint64_t total = sum(out);
  for (size_t i : order) {
    uint64_t b = in.vms[i].blockBytes;
    if (out[i] + b <= hi[i] && total + b <= in.capacityBytes) {
      out[i] += b;
      total += b;
    }
  }
  return out;
}

}  // namespace htier
