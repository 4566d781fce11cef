// SPDX-License-Identifier: GPL-2.0
#include "policy/Stabilizer.h"

#include <algorithm>

#include "util/Units.h"

namespace htier {

std::vector<uint64_t> stabilize(uint64_t capacityBytes,
                                const std::vector<StabilizerVm>& vms,
                                Millis nowMs, const StabilizerParams& params) {
  const size_t n = vms.size();
  std::vector<uint64_t> out(n);
  std::vector<bool> held(n, false);
  for (size_t i = 0; i < n; i++) {
    const StabilizerVm& v = vms[i];
    uint64_t cur = v.currentBytes;
    uint64_t prop = v.proposedBytes;
    if (cur < v.floorBytes || cur > v.ceilingBytes || cur % v.blockBytes) {
      out[i] = prop;  // out of bounds: no damping
      continue;
    }
    uint64_t delta = prop > cur ? prop - cur : cur - prop;
    // Hysteresis never keeps a VM above its floor once the policy sends it
    // there (idle, or outbid): that memory goes back to the pool, or an
    // idle VM could sit on up to a hysteresis' worth of it for good, and a
    // busy VM's grow would be trimmed to leave it there.
    bool toFloor = prop < cur && prop <= v.floorBytes;
    bool small = !toFloor &&
                 delta < alignUp(params.hysteresisBytes, v.blockBytes);
    bool holding = v.everChanged && nowMs - v.lastChangeMs < params.holdMs;
    held[i] = delta && (small || holding);
    out[i] = held[i] ? cur : prop;
  }

  auto total = [&] {
    uint64_t s = 0;
    for (uint64_t x : out)
      s += x;
    return s;
  };
  uint64_t sum = total();
  // Trim grows back toward their current size, last VM first.
  for (size_t k = n; k-- > 0 && sum > capacityBytes;) {
    const StabilizerVm& v = vms[k];
    if (held[k] || out[k] <= v.currentBytes)
      continue;
    uint64_t room = out[k] - std::max(v.currentBytes, v.floorBytes);
    uint64_t cut = std::min(room, alignUp(sum - capacityBytes, v.blockBytes));
    out[k] -= cut;
    sum -= cut;
  }
  // Still over: a hold is keeping memory the proposal gave away.
  for (size_t k = 0; k < n && sum > capacityBytes; k++) {
    if (held[k] && out[k] > vms[k].proposedBytes) {
      sum -= out[k] - vms[k].proposedBytes;
      out[k] = vms[k].proposedBytes;
    }
  }
  return out;
}

}  // namespace htier
