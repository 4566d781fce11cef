// SPDX-License-Identifier: GPL-2.0
//
// The guest <-> host message contract (design.md): one JSON object per
// line, "v": 1, "type".  The guest is untrusted: a report is accepted only
// if every number is a non-negative integer within what the VM can hold,
// the hot set fits in the resident memory it reports, and the curve is
// well formed.  A bad curve is dropped on its own (the report still counts
// with its hot set); anything else bad rejects the whole line.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "policy/Policy.h"
#include "util/Maybe.h"

namespace htier {

constexpr size_t kMaxMessageBytes = 64 * 1024;
constexpr size_t kMaxCurvePoints = 256;

struct GuestReport {
  uint64_t seq = 0;
  uint64_t fastResidentBytes = 0;
  uint64_t slowResidentBytes = 0;
  uint64_t hotSetBytes = 0;
  uint64_t quotaBytes = 0;
  uint64_t samplesFast = 0;
  uint64_t samplesSlow = 0;
  std::vector<CurvePoint> curve;  // guest fast bytes; empty if none/dropped
};

struct ParsedMessage {
  enum class Kind { kReport, kIgnored } kind = Kind::kIgnored;
  GuestReport report;
  std::string curveProblem;  // non-empty when a curve was dropped
};

// maxMemoryBytes bounds every byte count (what the VM could possibly hold).
Maybe<ParsedMessage> parseGuestMessage(std::string_view line,
                                       uint64_t maxMemoryBytes);

// The host -> guest quota line, '\n'-terminated.
std::string encodeQuota(uint64_t seq, uint64_t fastBytes,
                        uint64_t effectiveInMs);

}  // namespace htier
