// SPDX-License-Identifier: GPL-2.0
//
// Building blocks shared by the policies: demand estimates and weighted
// water-filling between per-VM lower and upper bounds.
#pragma once

#include <cstdint>
#include <vector>

#include "policy/Policy.h"

namespace htier {

// Device bytes the VM would use if it could: its hot set, or where its
// curve stops rising; 0 when idle.  Not clamped.
uint64_t demandBytes(const VmDemand& vm);

// demandBytes clamped to [floor, ceiling] and aligned up to the block.
uint64_t demandCap(const VmDemand& vm);

// Starting from lo[i], gives out the capacity left in proportion to weight,
// never above hi[i], re-spreading what capped VMs cannot take; results are
// aligned down to each block and leftovers handed out block by block.
// Requires lo[i] <= hi[i], both aligned.
std::vector<uint64_t> weightedWaterFill(const PolicyInput& in,
                                        const std::vector<uint64_t>& lo,
                                        const std::vector<uint64_t>& hi);

uint64_t sum(const std::vector<uint64_t>& v);

}  // namespace htier
