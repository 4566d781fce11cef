// SPDX-License-Identifier: GPL-2.0
//
// The guest <-> host messages of design.md ("guest <-> host messages"):
// newline-delimited JSON objects, at most 64 KiB a line, "v": 1 and a
// "type".  Decoding validates everything and never throws; unknown fields
// are ignored.  No JSON types leave this file: callers get plain structs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/curve.h"
#include "common/result.h"

namespace htier {

inline constexpr size_t kMaxMessageBytes = 64 * 1024;  // per line, newline excluded
inline constexpr int kProtocolVersion = 1;
// quota_bytes sent for a quota of "max": fits int64 and uint64 readers alike.
inline constexpr uint64_t kUnlimitedQuotaBytes = INT64_MAX;

// guest -> host
struct ReportMessage {
  uint64_t seq = 0;
  uint64_t fastResidentBytes = 0;
  uint64_t slowResidentBytes = 0;
  uint64_t hotSetBytes = 0;
  uint64_t quotaBytes = 0;  // kUnlimitedQuotaBytes for "max"
  uint64_t samplesFast = 0;
  uint64_t samplesSlow = 0;
  std::optional<std::vector<CurvePoint>> curve;  // omitted when unknown
  // Extensions (optional fields; unknown fields are ignored by the contract).
  bool quotaUnlimited = false;             // "quota_unlimited": true
  std::optional<uint64_t> lastQuotaSeq;    // "quota_seq": last quota applied

  bool operator==(const ReportMessage&) const = default;
};

// host -> guest
struct QuotaMessage {
  uint64_t seq = 0;
  uint64_t fastBytes = 0;
  uint64_t effectiveInMs = 0;

  bool operator==(const QuotaMessage&) const = default;
};

using Message = std::variant<ReportMessage, QuotaMessage>;

// Why a line was refused; each has a counter in the agent.
enum class DecodeError {
  kTooLong,
  kBadJson,
  kNotObject,
  kBadVersion,
  kUnknownType,
  kMissingField,
  kBadField,  // wrong type, negative, fractional, out of range
  kCount,
};
const char* decodeErrorName(DecodeError e);

struct DecodeFailure {
  DecodeError kind;
  std::string detail;
};

// One line (without the newline), never throws.
std::variant<Message, DecodeFailure> decodeMessage(std::string_view line);

// One line without the trailing newline.
std::string encodeMessage(const ReportMessage& m);
std::string encodeMessage(const QuotaMessage& m);

}  // namespace htier
