// SPDX-License-Identifier: GPL-2.0
//
// The guest <-> host message contract of design.md ("guest <-> host
// messages"), defined once for both sides: htier-agent in the guest and
// htier-provisiond on the host link this library.  Newline-delimited JSON
// objects, at most 64 KiB a line, "v": 1 and a "type"; unknown fields are
// ignored.  Decoding is strict (every field's type and sign checked), never
// throws, and hands out plain structs: no JSON type leaves this library.
// What a side does with a decoded message (bounds against the VM's memory,
// counters, logging) stays at that side's boundary.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace htier::protocol {

inline constexpr size_t kMaxMessageBytes = 64 * 1024;  // a line, no newline
inline constexpr size_t kMaxCurvePoints = 256;
inline constexpr int kProtocolVersion = 1;
// quota_bytes sent for a quota of "max": fits int64 and uint64 readers.
inline constexpr uint64_t kUnlimitedQuotaBytes = INT64_MAX;

// One point of a report's curve: [fast_bytes, access_share].
struct CurvePoint {
  uint64_t fastBytes = 0;
  double accessShare = 0.0;  // 0..1
  bool operator==(const CurvePoint&) const = default;
};

// guest -> host
struct ReportMessage {
  uint64_t seq = 0;
  uint64_t fastResidentBytes = 0;
  uint64_t slowResidentBytes = 0;
  uint64_t hotSetBytes = 0;
  uint64_t quotaBytes = 0;  // kUnlimitedQuotaBytes for "max"
  uint64_t samplesFast = 0;
  uint64_t samplesSlow = 0;
  // Omitted when unknown.  A curve that is present but malformed (not an
  // array, a bad point, bytes not strictly increasing, a share outside
  // [0, 1] or decreasing, more than kMaxCurvePoints) is dropped on its own
  // when decoding: curve stays empty and curveProblem says why; the rest
  // of the report still counts.
  std::optional<std::vector<CurvePoint>> curve;
  // Extensions (optional fields).
  bool quotaUnlimited = false;           // "quota_unlimited": true
  std::optional<uint64_t> lastQuotaSeq;  // "quota_seq": last quota applied
  // Set by decodeMessage() only, never encoded.
  std::string curveProblem;

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

// Why a line was refused.  decodeErrorName() is kept in step.
enum class DecodeError {
  kTooLong,       // over kMaxMessageBytes
  kBadJson,       // not JSON (or not UTF-8)
  kNotObject,     // JSON, but not an object
  kBadVersion,    // "v" is not the integer 1
  kUnknownType,   // a "type" this library does not know
  kMissingField,  // a required field is absent
  kBadField,      // wrong type, null, negative, fractional, out of range
  kCount,
};
const char* decodeErrorName(DecodeError e);

struct DecodeFailure {
  DecodeError kind;
  std::string field;   // the field at fault ("v", "type", "seq", ...), or ""
  std::string detail;  // printable ASCII, short: safe to log
};

// One line (without its newline).  Never throws.
std::variant<Message, DecodeFailure> decodeMessage(std::string_view line);

// One line, without the trailing newline.
std::string encodeMessage(const ReportMessage& m);
std::string encodeMessage(const QuotaMessage& m);

}  // namespace htier::protocol
