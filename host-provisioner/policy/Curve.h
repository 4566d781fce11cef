// SPDX-License-Identifier: GPL-2.0
//
// Utility curves: the share of a guest's accesses that hit fast memory as a
// function of its fast bytes.  The utility policy works on the upper concave
// hull of each curve, so memory goes in segments of decreasing marginal
// utility and a greedy fill is optimal (a convex-shaped curve is treated as
// its hull: memory that only pays off in a block is given as a block).
#pragma once

#include <cstdint>
#include <vector>

#include "policy/Policy.h"

namespace htier {

// Piecewise-linear curve through (0, 0) and the points, flat after the last.
double curveShare(const std::vector<CurvePoint>& curve, uint64_t x);

struct HullSegment {
  uint64_t from = 0;
  uint64_t to = 0;
  double slope = 0;  // share per byte, > 0, strictly decreasing along a hull
};

// Upper concave hull of the curve restricted to [lo, hi], as segments with
// positive slope only (flat parts buy nothing).
std::vector<HullSegment> concaveHull(const std::vector<CurvePoint>& curve,
                                     uint64_t lo, uint64_t hi);

// At most maxPoints points that the policies treat (almost) like the
// curve: its upper concave hull (what the utility policy uses anyway),
// thinned to evenly spaced hull vertices, always keeping the last one and
// the first reaching the top share (the demand estimate of the other
// policies).  Dropping vertices of a concave chain keeps it concave and
// never overstates a share.  Curves with <= maxPoints points are returned
// unchanged.  Bounds the policy's cost per guest: a guest may send 256.
std::vector<CurvePoint> simplifyCurve(const std::vector<CurvePoint>& curve,
                                      size_t maxPoints);

// A guest without a curve but with a hot set: all hits come from the hot
// set, spread evenly, so share rises linearly to 1 at hotSetBytes.
std::vector<CurvePoint> curveFromHotSet(uint64_t hotSetBytes);

}  // namespace htier
