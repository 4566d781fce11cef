// SPDX-License-Identifier: GPL-2.0
#include "link/Message.h"

namespace htier {

namespace {

using protocol::DecodeError;
using protocol::DecodeFailure;

Error reject(RejectReason reason, std::string what, RejectReason* why) {
  if (why)
    *why = reason;
  return makeError(std::move(what));
}

// The protocol's reasons, as the daemon's metric has always counted them:
// the envelope ("v", "type") is the version check.
RejectReason reasonOf(const DecodeFailure& f) {
  switch (f.kind) {
    case DecodeError::kTooLong:
      return RejectReason::kOversized;
    case DecodeError::kBadJson:
    case DecodeError::kNotObject:
      return RejectReason::kNotJson;
    case DecodeError::kBadVersion:
      return RejectReason::kBadVersion;
    case DecodeError::kMissingField:
    case DecodeError::kBadField:
      if (f.field == "v" || f.field == "type")
        return RejectReason::kBadVersion;
      return RejectReason::kBadField;
    case DecodeError::kUnknownType:  // not a failure here: see the caller
    case DecodeError::kCount:
      break;
  }
  return RejectReason::kBadField;
}

// What only the host knows: the VM's memory bounds every byte count.
Status checkBounds(const protocol::ReportMessage& r, uint64_t maxMemoryBytes,
                   RejectReason* why) {
  const std::pair<const char*, uint64_t> bytes[] = {
      {"fast_resident_bytes", r.fastResidentBytes},
      {"slow_resident_bytes", r.slowResidentBytes},
      {"hot_set_bytes", r.hotSetBytes},
  };
  for (auto [key, v] : bytes)
    if (v > maxMemoryBytes)
      return reject(RejectReason::kImplausible,
                    std::string("'") + key + "' = " + std::to_string(v) +
                        " exceeds the VM's memory (" +
                        std::to_string(maxMemoryBytes) + ")",
                    why);
  uint64_t resident = r.fastResidentBytes + r.slowResidentBytes;
  if (resident > maxMemoryBytes)
    return reject(RejectReason::kImplausible,
                  "resident bytes exceed the VM's memory", why);
  if (resident && r.hotSetBytes > resident)
    return reject(RejectReason::kImplausible,
                  "hot_set_bytes (" + std::to_string(r.hotSetBytes) +
                      ") larger than resident memory (" +
                      std::to_string(resident) + ")",
                  why);
  return okStatus();
}

}  // namespace

const char* rejectReasonName(RejectReason r) {
  switch (r) {
    case RejectReason::kNotJson:
      return "not_json";
    case RejectReason::kBadVersion:
      return "bad_version";
    case RejectReason::kBadField:
      return "bad_field";
    case RejectReason::kImplausible:
      return "implausible";
    case RejectReason::kOversized:
      return "oversized";
    case RejectReason::kCount:
      break;
  }
  return "?";
}

Maybe<ParsedMessage> parseGuestMessage(std::string_view line,
                                       uint64_t maxMemoryBytes,
                                       RejectReason* why) {
  auto decoded = protocol::decodeMessage(line);
  ParsedMessage out;
  if (auto* f = std::get_if<DecodeFailure>(&decoded)) {
    if (f->kind == DecodeError::kUnknownType)
      return out;  // a newer agent's message type: ignored, not an error
    return reject(reasonOf(*f), f->detail, why);
  }
  const auto* r = std::get_if<protocol::ReportMessage>(
      &std::get<protocol::Message>(decoded));
  if (!r)
    return out;  // a quota, which only the host sends: ignored
  if (auto st = checkBounds(*r, maxMemoryBytes, why); !st)
    return st.error();

  GuestReport& g = out.report;
  g.seq = r->seq;
  g.fastResidentBytes = r->fastResidentBytes;
  g.slowResidentBytes = r->slowResidentBytes;
  g.hotSetBytes = r->hotSetBytes;
  g.quotaBytes = r->quotaBytes;
  g.samplesFast = r->samplesFast;
  g.samplesSlow = r->samplesSlow;
  out.curveProblem = r->curveProblem;
  if (r->curve) {
    for (const auto& p : *r->curve) {
      if (p.fastBytes > maxMemoryBytes) {
        out.curveProblem = "curve point beyond the VM's memory";
        g.curve.clear();
        break;
      }
      g.curve.push_back({p.fastBytes, p.accessShare});
    }
  }
  out.kind = ParsedMessage::Kind::kReport;
  return out;
}

std::string encodeQuota(uint64_t seq, uint64_t fastBytes,
                        uint64_t effectiveInMs) {
  return protocol::encodeMessage(
             protocol::QuotaMessage{seq, fastBytes, effectiveInMs}) +
         "\n";
}

}  // namespace htier
