// SPDX-License-Identifier: GPL-2.0
#include "common/format.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace htier {

std::string humanBytes(uint64_t bytes) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes < 1024) return std::to_string(bytes) + " B";
  double v = static_cast<double>(bytes);
  size_t unit = 0;
  while (v >= 1024.0 && unit + 1 < std::size(kUnits)) {
    v /= 1024.0;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, v < 10 ? "%.2f %s" : v < 100 ? "%.1f %s" : "%.0f %s", v, kUnits[unit]);
  return buf;
}

std::string percent(double share) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", share * 100.0);
  return buf;
}

std::string histogramBar(const std::vector<uint64_t>& bins) {
  static const std::string kLevels = " .:-=+*#%@";
  uint64_t peak = bins.empty() ? 0 : *std::max_element(bins.begin(), bins.end());
  std::string bar;
  bar.reserve(bins.size());
  const double top = std::log1p(static_cast<double>(peak));
  for (uint64_t n : bins) {
    if (n == 0) {
      bar += kLevels[0];
      continue;
    }
    double frac = std::log1p(static_cast<double>(n)) / top;
    auto level = static_cast<size_t>(std::lround(frac * (kLevels.size() - 1)));
    bar += kLevels[std::clamp<size_t>(level, 1, kLevels.size() - 1)];
  }
  return bar;
}

}  // namespace htier
