// SPDX-License-Identifier: GPL-2.0
//
// The daemon's side of the guest <-> host message contract (design.md).
// Encoding and strict decoding live in the shared protocol library
// (protocol/, linked by htier-agent too); this adapts them to the
// daemon's types (Maybe, GuestReport, the reject reasons of its metrics)
// and adds what only the host can check.  The guest is untrusted: a report
// is accepted only if every number is a non-negative integer within what
// the VM can hold and the hot set fits in the resident memory it reports.
// A bad curve is dropped on its own (the report still counts with its hot
// set); anything else bad rejects the whole line.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "htier/protocol/message.h"
#include "policy/Policy.h"
#include "util/Maybe.h"

namespace htier {

using protocol::kMaxMessageBytes;

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

// Why a guest's line was rejected, for the counters by reason (the
// metric htier_provisiond_vm_guest_messages_rejected_total{reason}).
// rejectReasonName() is kept in step with this enum.
enum class RejectReason {
  kNotJson,      // not JSON, or not a JSON object
  kBadVersion,   // "v" is not 1, or "type" is missing or not a string
  kBadField,     // a field of the wrong type, a required one missing
  kImplausible,  // numbers the VM cannot hold (more than its memory, a hot
                 // set larger than its resident memory)
  kOversized,    // a line over 64 KiB
  kCount,
};
const char* rejectReasonName(RejectReason r);

// maxMemoryBytes bounds every byte count (what the VM could possibly hold).
// On an error, *why (if given) says which kind of problem it was.
Maybe<ParsedMessage> parseGuestMessage(std::string_view line,
                                       uint64_t maxMemoryBytes,
                                       RejectReason* why = nullptr);

// The host -> guest quota line, '\n'-terminated.
std::string encodeQuota(uint64_t seq, uint64_t fastBytes,
                        uint64_t effectiveInMs);

}  // namespace htier
