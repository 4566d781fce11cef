// SPDX-License-Identifier: GPL-2.0
//
// JSON encoding and strict decoding of the guest <-> host messages.
#include "htier/protocol/message.h"

#include <exception>
#include <iterator>

#include <nlohmann/json.hpp>

#include "htier/protocol/excerpt.h"

namespace htier::protocol {

namespace {

using nlohmann::json;

const char* const kErrorNames[] = {
    "too_long",     "bad_json",      "not_object", "bad_version",
    "unknown_type", "missing_field", "bad_field"};
static_assert(std::size(kErrorNames) ==
              static_cast<size_t>(DecodeError::kCount));

DecodeFailure fail(DecodeError kind, std::string field, std::string detail) {
  return DecodeFailure{kind, std::move(field), std::move(detail)};
}

std::string quoted(const char* key) {
  return std::string("'") + key + "'";
}

// A non-negative integer: JSON floats (even 2.0), negatives and null are
// refused, and the value is shown by its type, never dumped whole.
std::optional<DecodeFailure> checkU64(const json& v, const char* key,
                                      uint64_t& out) {
  if (!v.is_number_unsigned())
    return fail(
        DecodeError::kBadField, key,
        quoted(key) + " is not a non-negative integer: " + describeJson(v));
  out = v.get<uint64_t>();
  return std::nullopt;
}

std::optional<DecodeFailure> getU64(const json& obj, const char* key,
                                    uint64_t& out) {
  auto it = obj.find(key);
  if (it == obj.end())
    return fail(DecodeError::kMissingField, key, "missing " + quoted(key));
  return checkU64(*it, key, out);
}

// Empty when the curve is well formed.
std::string decodeCurve(const json& c, std::vector<CurvePoint>& out) {
  if (!c.is_array())
    return "curve is not an array: " + describeJson(c);
  if (c.size() > kMaxCurvePoints)
    return "curve has " + std::to_string(c.size()) + " points (max " +
           std::to_string(kMaxCurvePoints) + ")";
  std::vector<CurvePoint> pts;
  for (const json& p : c) {
    if (!p.is_array() || p.size() != 2 || !p[0].is_number_unsigned() ||
        !p[1].is_number())
      return "curve point is not [bytes, share]: " + describeJson(p);
    CurvePoint cp{p[0].get<uint64_t>(), p[1].get<double>()};
    if (!(cp.accessShare >= 0.0 && cp.accessShare <= 1.0))
      return "curve share outside [0, 1]";
    if (!pts.empty() && cp.fastBytes <= pts.back().fastBytes)
      return "curve bytes not strictly increasing";
    if (!pts.empty() && cp.accessShare < pts.back().accessShare)
      return "curve share decreases (more fast memory cannot mean fewer hits)";
    pts.push_back(cp);
  }
  out = std::move(pts);
  return "";
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
    if (auto f = getU64(j, key, *dst))
      return *f;
  if (auto it = j.find("quota_unlimited"); it != j.end()) {
    if (!it->is_boolean())
      return fail(DecodeError::kBadField, "quota_unlimited",
                  "'quota_unlimited' is not a boolean: " + describeJson(*it));
    m.quotaUnlimited = it->get<bool>();
  }
  if (auto it = j.find("quota_seq"); it != j.end()) {
    uint64_t qs = 0;
    if (auto f = checkU64(*it, "quota_seq", qs))
      return *f;
    m.lastQuotaSeq = qs;
  }
  if (auto it = j.find("curve"); it != j.end()) {
    std::vector<CurvePoint> curve;
    m.curveProblem = decodeCurve(*it, curve);
    if (m.curveProblem.empty())
      m.curve = std::move(curve);
  }
  return Message{std::move(m)};
}

std::variant<Message, DecodeFailure> decodeQuota(const json& j) {
  QuotaMessage m;
  if (auto f = getU64(j, "seq", m.seq))
    return *f;
  if (auto f = getU64(j, "fast_bytes", m.fastBytes))
    return *f;
  if (auto f = getU64(j, "effective_in_ms", m.effectiveInMs))
    return *f;
  return Message{m};
}

std::variant<Message, DecodeFailure> decode(std::string_view line) {
  if (line.size() > kMaxMessageBytes)
    return fail(DecodeError::kTooLong, "",
                "line of " + std::to_string(line.size()) + " bytes (max " +
                    std::to_string(kMaxMessageBytes) + ")");
  // allow_exceptions=false: a parse error (invalid UTF-8 included) gives a
  // "discarded" value.
  json j = json::parse(line.begin(), line.end(), nullptr, false);
  if (j.is_discarded())
    return fail(DecodeError::kBadJson, "", "not valid JSON");
  if (!j.is_object())
    return fail(DecodeError::kNotObject, "",
                "not a JSON object: " + describeJson(j));
  auto v = j.find("v");
  if (v == j.end())
    return fail(DecodeError::kMissingField, "v", "missing 'v'");
  if (!v->is_number_unsigned() ||
      v->get<uint64_t>() != static_cast<uint64_t>(kProtocolVersion))
    return fail(DecodeError::kBadVersion, "v",
                "unsupported 'v' (want 1): " + describeJson(*v));
  auto type = j.find("type");
  if (type == j.end())
    return fail(DecodeError::kMissingField, "type", "missing 'type'");
  if (!type->is_string())
    return fail(DecodeError::kBadField, "type",
                "'type' is not a string: " + describeJson(*type));
  const auto& t = type->get_ref<const std::string&>();
  if (t == "report")
    return decodeReport(j);
  if (t == "quota")
    return decodeQuota(j);
  return fail(DecodeError::kUnknownType, "type",
              "unknown type '" + printableExcerpt(t, 40) + "'");
}

}  // namespace

const char* decodeErrorName(DecodeError e) {
  auto i = static_cast<size_t>(e);
  return i < std::size(kErrorNames) ? kErrorNames[i] : "unknown";
}

std::variant<Message, DecodeFailure> decodeMessage(std::string_view line) {
  try {
    return decode(line);
  } catch (const std::exception& e) {  // not expected; never let one out
    return fail(DecodeError::kBadJson, "",
                std::string("cannot decode: ") + printableExcerpt(e.what()));
  }
}

std::string encodeMessage(const ReportMessage& m) {
  nlohmann::ordered_json j;  // the contract's field order, for readers
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
    for (const auto& p : *m.curve)
      c.push_back(nlohmann::ordered_json::array({p.fastBytes, p.accessShare}));
    j["curve"] = std::move(c);
  }
  if (m.quotaUnlimited)
    j["quota_unlimited"] = true;
  if (m.lastQuotaSeq)
    j["quota_seq"] = *m.lastQuotaSeq;
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

}  // namespace htier::protocol
