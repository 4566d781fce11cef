// SPDX-License-Identifier: GPL-2.0
#include "common/curve.h"

#include <cmath>

namespace htier {

double binAccessRate(size_t bin) {
  if (bin == 0) return 0.0;
  // ldexp keeps absurd bin counts finite-ish instead of shifting past 64.
  double lo = std::ldexp(1.0, static_cast<int>(bin) - 1);
  double hi = std::ldexp(1.0, static_cast<int>(bin)) - 1.0;
  return (lo + hi) / 2.0;
}

std::vector<CurvePoint> accessShareCurve(const std::vector<uint64_t>& histogram, uint64_t pageBytes) {
  long double totalAccesses = 0;
  for (size_t i = 0; i < histogram.size(); ++i)
    totalAccesses += static_cast<long double>(histogram[i]) * binAccessRate(i);

  std::vector<CurvePoint> curve{{0, 0.0}};
  if (totalAccesses <= 0) return curve;

  uint64_t bytes = 0;
  long double accesses = 0;
  for (size_t i = histogram.size(); i-- > 0;) {
    if (histogram[i] == 0) continue;
    // Saturate rather than wrap on a nonsensical page count.
    uint64_t add = histogram[i] > UINT64_MAX / pageBytes ? UINT64_MAX : histogram[i] * pageBytes;
    bytes = add > UINT64_MAX - bytes ? UINT64_MAX : bytes + add;
    accesses += static_cast<long double>(histogram[i]) * binAccessRate(i);
    double share = static_cast<double>(accesses / totalAccesses);
    curve.push_back({bytes, share > 1.0 ? 1.0 : share});
  }
  // Rounding must not leave the end a hair below 1.
  curve.back().accessShare = 1.0;
  return curve;
}

}  // namespace htier
