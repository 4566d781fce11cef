// SPDX-License-Identifier: GPL-2.0
//
// Helpers shared by the policy tests.
#pragma once

#include <string>

#include "policy/Policy.h"
#include "util/Units.h"

namespace htier::testing {

constexpr uint64_t kBlock = 2 * kMiB;

inline VmDemand vmDemand(std::string name, uint64_t floor, uint64_t ceiling,
                         uint64_t hotSet, double weight = 1) {
  VmDemand d;
  d.name = std::move(name);
  d.floorBytes = floor;
  d.ceilingBytes = ceiling;
  d.blockBytes = kBlock;
  d.weight = weight;
  d.hotSetBytes = hotSet;
  d.hasDemand = hotSet > 0;
  return d;
}

}  // namespace htier::testing
