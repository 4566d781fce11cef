// SPDX-License-Identifier: GPL-2.0
//
// Generated guest demand for the provisioner benchmarks: utility curves of
// the shape htier-agent reports (userspace-tools/README.md), and per-VM
// demand traces with phases.
//
// A guest in an active phase touches `accessedBytes` of memory with a
// Zipf-like popularity (exponent s): the hottest x bytes get
//   share(x) = H(x) / H(A),  H(n) = ((n+1)^(1-s) - 1) / (1-s)  (ln(n+1) at s=1)
// in 4 KiB pages (the continuous generalized harmonic number), so the curve
// is concave and reaches 1 at A.  Like the agent's, the curve has one point
// per bin (17 points, geometric) and then stays flat at 1 over the guest's
// cold memory.  An idle phase reports the curve [[0, 0]] (no demand).
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "policy/Curve.h"
#include "policy/Policy.h"
#include "util/Units.h"

namespace htier::bench {

struct Phase {
  bool active = false;
  uint64_t accessedBytes = 0;  // A: bytes with any access
  double zipf = 1.0;           // s
};

inline double harmonic(double pages, double s) {
  if (std::fabs(s - 1.0) < 1e-9)
    return std::log(pages + 1);
  return (std::pow(pages + 1, 1 - s) - 1) / (1 - s);
}

// The agent-like curve of a phase, `points` points (the agent sends <= 17).
inline std::vector<CurvePoint> curveOf(const Phase& p, int points = 17) {
  if (!p.active || p.accessedBytes == 0)
    return {{0, 0.0}};
  std::vector<CurvePoint> c;
  const double pagesA = static_cast<double>(p.accessedBytes) / 4096;
  const double hA = harmonic(pagesA, p.zipf);
  // Geometric points from one page to A: fine resolution at the hot end,
  // as the agent's power-of-two bins give (ratio 2 for 17 points and a
  // 256 MiB accessed set).
  const double ratio = std::pow(pagesA, 1.0 / std::max(1, points - 1));
  double pages = 1;
  for (int k = 0; k < points; k++, pages *= ratio) {
    uint64_t x = k == points - 1 ? p.accessedBytes
                                 : static_cast<uint64_t>(pages) * 4096;
    if (!c.empty() && x <= c.back().fastBytes)
      continue;
    double share = k == points - 1
                       ? 1.0
                       : harmonic(static_cast<double>(x) / 4096, p.zipf) / hA;
    c.push_back({x, share});
  }
  return c;
}

// True hit share of a phase at x fast bytes (exact, not the sampled curve).
inline double hitShare(const Phase& p, uint64_t x) {
  if (!p.active || p.accessedBytes == 0)
    return 1.0;
  if (x >= p.accessedBytes)
    return 1.0;
  return harmonic(static_cast<double>(x) / 4096, p.zipf) /
         harmonic(static_cast<double>(p.accessedBytes) / 4096, p.zipf);
}

struct TraceParams {
  int vms = 8;
  int epochs = 600;              // one epoch = one policy interval
  int minPhase = 10, maxPhase = 60;
  double idleProbability = 0.25;
  uint64_t minAccessed = 32 * kMiB, maxAccessed = 1024 * kMiB;
  double minZipf = 0.6, maxZipf = 1.2;
};

// trace[e][v]: the phase VM v is in at epoch e.
inline std::vector<std::vector<Phase>> makeTrace(const TraceParams& tp,
                                                 uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  std::uniform_int_distribution<int> len(tp.minPhase, tp.maxPhase);
  const double la = std::log(static_cast<double>(tp.minAccessed));
  const double lb = std::log(static_cast<double>(tp.maxAccessed));
  std::vector<std::vector<Phase>> trace(tp.epochs,
                                        std::vector<Phase>(tp.vms));
  for (int v = 0; v < tp.vms; v++) {
    int e = 0;
    while (e < tp.epochs) {
      Phase p;
      p.active = u(rng) >= tp.idleProbability;
      p.accessedBytes = alignUp(
          static_cast<uint64_t>(std::exp(la + (lb - la) * u(rng))), 4096);
      p.zipf = tp.minZipf + (tp.maxZipf - tp.minZipf) * u(rng);
      int n = len(rng);
      for (int i = 0; i < n && e < tp.epochs; i++, e++)
        trace[e][v] = p;
    }
  }
  return trace;
}

}  // namespace htier::bench
