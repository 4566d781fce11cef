// SPDX-License-Identifier: GPL-2.0
//
// The guest's access-share curve (design.md: report.curve): for a fast
// capacity of x bytes, the share of accesses that would hit fast memory if
// the hottest x bytes were fast.  Built from the module's log2 hotness
// histogram, hottest bin first.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "htier/protocol/message.h"

namespace htier {

// A point as the report carries it: {fastBytes, accessShare}.
using CurvePoint = protocol::CurvePoint;

// Estimated accesses per page of hotness bin `bin` in one window: 0 for bin
// 0; for bin i >= 1 (accesses in [2^(i-1), 2^i)) the midpoint of the
// integers in that range, (2^(i-1) + 2^i - 1) / 2.
double binAccessRate(size_t bin);

// The curve for `histogram` (page counts, coldest bin first):
//  - [0, 0], then one point per non-empty bin, hottest first, each adding
//    the bin's bytes and its share of the estimated accesses;
//  - monotone in both coordinates and concave (bins are taken in order of
//    falling per-page rate), the last point is [total bytes, 1.0].
// With no estimated accesses at all (empty histogram, or every page in
// bin 0) the curve is just [[0, 0]]: fast memory buys this guest nothing now.
std::vector<CurvePoint> accessShareCurve(const std::vector<uint64_t>& histogram, uint64_t pageBytes = 4096);

}  // namespace htier
