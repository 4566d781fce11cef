// SPDX-License-Identifier: GPL-2.0
//
// JSON encoding and strict decoding of the guest <-> host messages.
#include "common/message.h"

#include <nlohmann/json.hpp>

namespace htier {

namespace {

using nlohmann::json;

const char* const kErrorNames[] = {"too_long",    "bad_json",      "not_object", "bad_version",
                                   "unknown_type", "missing_field", "bad_field"};
static_assert(std::size(kErrorNames) == static_cast<size_t>(DecodeError::kCount));

DecodeFailure fail(DecodeError kind, std::string detail) { return DecodeFailure{kind, std::move(detail)}; }

// A non-negative integer field; JSON floats (even 2.0) and negatives refused.
std::optional<DecodeFailure> getU64(const json& obj, const char* key, uint64_t& out) {
  auto it = obj.find(key);
  if (it == obj.end()) return fail(DecodeError::kMissingField, std::string("missing '") + key + "'");
  if (!it->is_number_unsigned()) {
    if (it->is_number_integer())
      return fail(DecodeError::kBadField, std::string("'") + key + "' is negative");
    return fail(DecodeError::kBadField, std::string("'") + key + "' is not a non-negative integer");
  }
  out = it->get<uint64_t>();
  return std::nullopt;
}

std::optional<DecodeFailure> decodeCurve(const json& v, std::vector<CurvePoint>& out) {
  if (!v.is_array()) return fail(DecodeError::kBadField, "'curve' is not an array");
  for (const json& p : v) {
    if (!p.is_array() || p.size() != 2 || !p[0].is_number_unsigned() || !p[1].is_number())
      return fail(DecodeError::kBadField, "'curve' point is not [bytes, share]");
    double share = p[1].get<double>();
    if (!(share >= 0.0 && share <= 1.0)) return fail(DecodeError::kBadField, "'curve' share outside [0, 1]");
    out.push_back({p[0].get<uint64_t>(), share});
  }
  return std::nullopt;
}

std::variant<Message, DecodeFailure> decodeReport(const json& j) {
  ReportMessage m;
  const std::pair<const char*, uint64_t*> fields[] = {
      {"seq", &m.seq},
      {"fast_resident_bytes", &m.fastResidentBytes},
      {"slow_resident_bytes", &m.slowResidentBytes},
      {"hot_set_bytes", &m.hotSetBytes},
      {"quota_bytes", &m.quotaBytes},
      {"samples_fast", &m.samplesFast},
      {"samples_slow", &m.samplesSlow},
  };
  for (auto [key, dst] : fields)
    if (auto f = getU64(j, key, *dst)) return *f;
  if (auto it = j.find("curve"); it != j.end()) {
    std::vector<CurvePoint> curve;
    if (auto f = decodeCurve(*it, curve)) return *f;
    m.curve = std::move(curve);
  }
  if (auto it = j.find("quota_unlimited"); it != j.end()) {
    if (!it->is_boolean()) return fail(DecodeError::kBadField, "'quota_unlimited' is not a boolean");
    m.quotaUnlimited = it->get<bool>();
  }
  if (j.contains("quota_seq")) {
    uint64_t qs = 0;
    if (auto f = getU64(j, "quota_seq", qs)) return *f;
    m.lastQuotaSeq = qs;
  }
  return Message{m};
}

std::variant<Message, DecodeFailure> decodeQuota(const json& j) {
  QuotaMessage m;
  if (auto f = getU64(j, "seq", m.seq)) return *f;
  if (auto f = getU64(j, "fast_bytes", m.fastBytes)) return *f;
  if (auto f = getU64(j, "effective_in_ms", m.effectiveInMs)) return *f;
  return Message{m};
}

}  // namespace

const char* decodeErrorName(DecodeError e) {
  auto i = static_cast<size_t>(e);
  return i < std::size(kErrorNames) ? kErrorNames[i] : "unknown";
}

std::variant<Message, DecodeFailure> decodeMessage(std::string_view line) {
  if (line.size() > kMaxMessageBytes)
    return fail(DecodeError::kTooLong, "line of " + std::to_string(line.size()) + " bytes");
  // allow_exceptions=false: a parse error gives a "discarded" value.
  json j = json::parse(line.begin(), line.end(), nullptr, false);
  if (j.is_discarded()) return fail(DecodeError::kBadJson, "not valid JSON");
  if (!j.is_object()) return fail(DecodeError::kNotObject, "not a JSON object");
  auto v = j.find("v");
  if (v == j.end()) return fail(DecodeError::kMissingField, "missing 'v'");
  if (!v->is_number_integer() || v->get<int64_t>() != kProtocolVersion)
    return fail(DecodeError::kBadVersion, "unsupported 'v'");
  auto type = j.find("type");
  if (type == j.end()) return fail(DecodeError::kMissingField, "missing 'type'");
  if (!type->is_string()) return fail(DecodeError::kBadField, "'type' is not a string");
  const auto& t = type->get_ref<const std::string&>();
  if (t == "quota") return decodeQuota(j);
  if (t == "report") return decodeReport(j);
  std::string shown = t.substr(0, 40);
  for (char& c : shown)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
  return fail(DecodeError::kUnknownType, "unknown type '" + shown + "'");
}

std::string encodeMessage(const ReportMessage& m) {
  nlohmann::ordered_json j;  // contract's field order, for people reading logs
  j["v"] = kProtocolVersion;
  j["type"] = "report";
  j["seq"] = m.seq;
  j["fast_resident_bytes"] = m.fastResidentBytes;
  j["slow_resident_bytes"] = m.slowResidentBytes;
  j["hot_set_bytes"] = m.hotSetBytes;
  j["quota_bytes"] = m.quotaBytes;
  j["samples_fast"] = m.samplesFast;
  j["samples_slow"] = m.samplesSlow;
  if (m.curve) {
    auto c = nlohmann::ordered_json::array();
    for (const auto& p : *m.curve) c.push_back(nlohmann::ordered_json::array({p.fastBytes, p.accessShare}));
    j["curve"] = std::move(c);
  }
  if (m.quotaUnlimited) j["quota_unlimited"] = true;
  if (m.lastQuotaSeq) j["quota_seq"] = *m.lastQuotaSeq;
  return j.dump();
}

std::string encodeMessage(const QuotaMessage& m) {
  nlohmann::ordered_json j;
  j["v"] = kProtocolVersion;
  j["type"] = "quota";
  j["seq"] = m.seq;
  j["fast_bytes"] = m.fastBytes;
  j["effective_in_ms"] = m.effectiveInMs;
  return j.dump();
}

}  // namespace htier
