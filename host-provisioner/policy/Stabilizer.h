// SPDX-License-Identifier: GPL-2.0
//
// Damps a policy's proposal before it is enforced.  Resizing a virtio-mem
// device costs guest work (migration, unplug), so a quota moves only when
// the move is worth it (at least the hysteresis) and not within holdMs of
// its last move.  Bounds always win over damping: a quota outside
// [floor, ceiling] is corrected at once, and held quotas never push the
// total over the capacity (grows are trimmed first, then holds released).
#pragma once

#include <cstdint>
#include <vector>

#include "policy/Policy.h"
#include "util/Clock.h"

namespace htier {

struct StabilizerParams {
  Millis holdMs = 0;
  uint64_t hysteresisBytes = 0;
};

struct StabilizerVm {
  uint64_t currentBytes = 0;
  uint64_t proposedBytes = 0;
  uint64_t floorBytes = 0;
  uint64_t ceilingBytes = 0;
  uint64_t blockBytes = 1;
  Millis lastChangeMs = 0;  // when currentBytes last changed
  bool everChanged = false;
};

std::vector<uint64_t> stabilize(uint64_t capacityBytes,
                                const std::vector<StabilizerVm>& vms,
                                Millis nowMs, const StabilizerParams& params);

}  // namespace htier
