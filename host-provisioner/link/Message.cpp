// SPDX-License-Identifier: GPL-2.0
#include "link/Message.h"

#include <nlohmann/json.hpp>

#include "util/Excerpt.h"

namespace htier {

using json = nlohmann::json;

namespace {

// Reads an optional non-negative integer field bounded by max.
Status readCount(const json& msg, const char* key, uint64_t max,
                 uint64_t& dst) {
  auto it = msg.find(key);
  if (it == msg.end() || it->is_null())
    return okStatus();
  if (!it->is_number_unsigned())
    return makeError(std::string(key) +
                     " is not a non-negative integer: " + describeJson(*it));
  uint64_t v = it->get<uint64_t>();
  if (v > max)
    return makeError(std::string(key) + " = " + std::to_string(v) +
                     " exceeds the VM's memory (" + std::to_string(max) + ")");
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
      return "curve point is not [bytes, share]: " + describeJson(p);
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

Maybe<ParsedMessage> parseGuestMessage(std::string_view line,
                                       uint64_t maxMemoryBytes) {
  if (line.size() > kMaxMessageBytes)
    return makeError("line longer than 64 KiB");
  json msg = json::parse(line, nullptr, false);
  if (msg.is_discarded())
    return makeError("not JSON");
  if (!msg.is_object())
    return makeError("not a JSON object");
  auto v = msg.find("v");
  if (v == msg.end() || !v->is_number_unsigned() || v->get<uint64_t>() != 1)
    return makeError("missing or unsupported \"v\" (want 1)");
  auto type = msg.find("type");
  if (type == msg.end() || !type->is_string())
    return makeError("missing \"type\"");
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
    if (auto st = readCount(msg, f.key, f.max, *f.dst); !st)
      return st.error();
  if (!msg.contains("hot_set_bytes"))
    return makeError("report without hot_set_bytes");
  uint64_t resident = r.fastResidentBytes + r.slowResidentBytes;
  if (resident > maxMemoryBytes)
    return makeError("resident bytes exceed the VM's memory");
  if (resident && r.hotSetBytes > resident)
    return makeError("hot_set_bytes (" + std::to_string(r.hotSetBytes) +
                     ") larger than resident memory (" +
                     std::to_string(resident) + ")");
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
