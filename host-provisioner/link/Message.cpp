// SPDX-License-Identifier: GPL-2.0
#include "link/Message.h"

#include <nlohmann/json.hpp>

#include "htier/protocol/excerpt.h"

namespace htier {

using json = nlohmann::json;

namespace {

Error reject(RejectReason reason, std::string what, RejectReason* why) {
  if (why)
    *why = reason;
  return makeError(std::move(what));
}

// Reads an optional non-negative integer field bounded by max.
Status readCount(const json& msg, const char* key, uint64_t max, uint64_t& dst,
                 RejectReason* why) {
  auto it = msg.find(key);
  if (it == msg.end() || it->is_null())
    return okStatus();
  if (!it->is_number_unsigned())
    return reject(RejectReason::kBadField,
                  std::string(key) + " is not a non-negative integer: " +
                      protocol::describeJson(*it),
                  why);
  uint64_t v = it->get<uint64_t>();
  if (v > max)
    return reject(RejectReason::kImplausible,
                  std::string(key) + " = " + std::to_string(v) +
                      " exceeds the VM's memory (" + std::to_string(max) + ")",
                  why);
  dst = v;
  return okStatus();
}

// Empty string when the curve is acceptable.
std::string readCurve(const json& c, uint64_t maxMemoryBytes,
                      std::vector<CurvePoint>& out) {
  if (!c.is_array())
    return "curve is not an array";
  if (c.size() > kMaxCurvePoints)
    return "curve has " + std::to_string(c.size()) + " points (max " +
           std::to_string(kMaxCurvePoints) + ")";
  std::vector<CurvePoint> pts;
  for (const auto& p : c) {
    if (!p.is_array() || p.size() != 2 || !p[0].is_number_unsigned() ||
        !p[1].is_number())
      return "curve point is not [bytes, share]: " + protocol::describeJson(p);
    CurvePoint cp{p[0].get<uint64_t>(), p[1].get<double>()};
    if (cp.fastBytes > maxMemoryBytes)
      return "curve point beyond the VM's memory";
    if (!(cp.share >= 0.0 && cp.share <= 1.0))
      return "curve share outside [0, 1]";
    if (!pts.empty() && cp.fastBytes <= pts.back().fastBytes)
      return "curve bytes not strictly increasing";
    if (!pts.empty() && cp.share < pts.back().share)
      return "curve share decreases (more fast memory cannot mean fewer hits)";
    pts.push_back(cp);
  }
  out = std::move(pts);
  return "";
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
  if (line.size() > kMaxMessageBytes)
    return reject(RejectReason::kOversized, "line longer than 64 KiB", why);
  json msg = json::parse(line, nullptr, false);
  if (msg.is_discarded())
    return reject(RejectReason::kNotJson, "not JSON", why);
  if (!msg.is_object())
    return reject(RejectReason::kNotJson, "not a JSON object", why);
  auto v = msg.find("v");
  if (v == msg.end() || !v->is_number_unsigned() || v->get<uint64_t>() != 1)
    return reject(RejectReason::kBadVersion,
                  "missing or unsupported \"v\" (want 1)", why);
  auto type = msg.find("type");
  if (type == msg.end() || !type->is_string())
    return reject(RejectReason::kBadVersion, "missing \"type\"", why);
  ParsedMessage out;
  if (type->get<std::string>() != "report")
    return out;  // a newer agent's message type: ignored, not an error

  GuestReport& r = out.report;
  const uint64_t kMaxSeq = UINT64_MAX;
  const uint64_t kMaxSamples = UINT64_MAX;
  struct Field {
    const char* key;
    uint64_t max;
    uint64_t* dst;
  } fields[] = {
      {"seq", kMaxSeq, &r.seq},
      {"fast_resident_bytes", maxMemoryBytes, &r.fastResidentBytes},
      {"slow_resident_bytes", maxMemoryBytes, &r.slowResidentBytes},
      {"hot_set_bytes", maxMemoryBytes, &r.hotSetBytes},
      {"quota_bytes", UINT64_MAX, &r.quotaBytes},  // may be "max" sized
      {"samples_fast", kMaxSamples, &r.samplesFast},
      {"samples_slow", kMaxSamples, &r.samplesSlow},
  };
  for (const Field& f : fields)
    if (auto st = readCount(msg, f.key, f.max, *f.dst, why); !st)
      return st.error();
  if (!msg.contains("hot_set_bytes"))
    return reject(RejectReason::kBadField, "report without hot_set_bytes", why);
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
  if (auto c = msg.find("curve"); c != msg.end() && !c->is_null())
    out.curveProblem = readCurve(*c, maxMemoryBytes, r.curve);
  out.kind = ParsedMessage::Kind::kReport;
  return out;
}

std::string encodeQuota(uint64_t seq, uint64_t fastBytes,
                        uint64_t effectiveInMs) {
  json j = {{"v", 1},
            {"type", "quota"},
            {"seq", seq},
            {"fast_bytes", fastBytes},
            {"effective_in_ms", effectiveInMs}};
  return j.dump() + "\n";
}

}  // namespace htier
