// SPDX-License-Identifier: GPL-2.0
#include "status/Status.h"

#include <cstdio>
#include <sstream>

#include <nlohmann/json.hpp>

#include "util/Units.h"

namespace htier {

using json = nlohmann::json;

namespace {

// One table drives both directions so the two cannot drift apart.
template <class J, class S>
void fields(J& j, S& v, bool out) {
  auto u64 = [&](const char* k, uint64_t& x) {
    if (out)
      j[k] = x;
    else if (j.contains(k) && j[k].is_number_unsigned())
      x = j[k].template get<uint64_t>();
  };
  auto str = [&](const char* k, std::string& x) {
    if (out)
      j[k] = x;
    else if (j.contains(k) && j[k].is_string())
      x = j[k].template get<std::string>();
  };
  auto flag = [&](const char* k, bool& x) {
    if (out)
      j[k] = x;
    else if (j.contains(k) && j[k].is_boolean())
      x = j[k].template get<bool>();
  };
  auto opt = [&](const char* k, std::optional<uint64_t>& x) {
    if (out) {
      if (x)
        j[k] = *x;
    } else if (j.contains(k) && j[k].is_number_unsigned()) {
      x = j[k].template get<uint64_t>();
    }
  };
  str("name", v.name);
  str("phase", v.phase);
  u64("quota_bytes", v.quotaBytes);
  u64("plugged_bytes", v.pluggedBytes);
  u64("requested_bytes", v.requestedBytes);
  u64("charged_bytes", v.chargedBytes);
  u64("device_max_bytes", v.deviceMaxBytes);
  u64("block_bytes", v.blockBytes);
  u64("min_fast_bytes", v.minFastBytes);
  u64("max_fast_bytes", v.maxFastBytes);
  flag("stuck", v.stuck);
  flag("shrink_pending", v.shrinkPending);
  flag("awaiting_report", v.awaitingReport);
  opt("slow_plugged_bytes", v.slowPluggedBytes);
  opt("slow_requested_bytes", v.slowRequestedBytes);
  flag("link_connected", v.linkConnected);
  flag("has_report", v.hasReport);
  u64("hot_set_bytes", v.hotSetBytes);
  u64("fast_resident_bytes", v.fastResidentBytes);
  u64("slow_resident_bytes", v.slowResidentBytes);
  u64("reports", v.reports);
  u64("rejected_messages", v.rejectedMessages);
  str("reason", v.reason);
  str("last_error", v.lastError);
  if (out) {
    j["weight"] = v.weight;
    j["report_age_ms"] = v.reportAgeMs;
  } else {
    if (j.contains("weight") && j["weight"].is_number())
      v.weight = j["weight"].template get<double>();
    if (j.contains("report_age_ms") && j["report_age_ms"].is_number_integer())
      v.reportAgeMs = j["report_age_ms"].template get<int64_t>();
  }
}

}  // namespace

std::string statusToJson(const EngineStatus& s) {
  json j = {{"policy", s.policy},
            {"capacity_bytes", s.capacityBytes},
            {"charged_bytes", s.chargedBytes},
            {"vms", json::array()}};
  for (VmStatus v : s.vms) {
    json vj = json::object();
    fields(vj, v, true);
    j["vms"].push_back(vj);
  }
  // Names, reasons and errors may carry bytes from QMP peers or guests:
  // invalid UTF-8 becomes U+FFFD instead of failing the whole document.
  return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

Maybe<EngineStatus> statusFromJson(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("vms") ||
      !j["vms"].is_array())
    return makeError("status reply is not a status document");
  EngineStatus s;
  s.policy = j.value("policy", "");
  s.capacityBytes = j.value("capacity_bytes", uint64_t{0});
  s.chargedBytes = j.value("charged_bytes", uint64_t{0});
  for (auto& vj : j["vms"]) {
    if (!vj.is_object())
      continue;
    VmStatus v;
    fields(vj, v, false);
    s.vms.push_back(v);
  }
  return s;
}

std::string statusToTable(const EngineStatus& s) {
  std::ostringstream os;
  os << "policy " << s.policy << ", capacity " << formatBytes(s.capacityBytes)
     << ", charged " << formatBytes(s.chargedBytes) << ", free "
     << formatBytes(s.capacityBytes > s.chargedBytes
                        ? s.capacityBytes - s.chargedBytes
                        : 0)
     << "\n";
  char line[512];
  std::snprintf(line, sizeof(line),
                "%-12s %-10s %10s %10s %10s %10s %10s %10s  %s\n", "VM",
                "STATE", "QUOTA", "PLUGGED", "REQUESTED", "HOT SET", "FAST RES",
                "SLOW RES", "REASON");
  os << line;
  for (const VmStatus& v : s.vms) {
    std::string state = v.phase;
    if (v.stuck)
      state += "!stuck";
    else if (v.shrinkPending)
      state += "~shrink";
    else if (v.awaitingReport && v.phase == "active")
      state += "?";
    auto b = [](uint64_t x) { return formatBytes(x); };
    std::string hot = v.hasReport ? b(v.hotSetBytes) : "-";
    std::string fr = v.hasReport ? b(v.fastResidentBytes) : "-";
    std::string sr = v.hasReport ? b(v.slowResidentBytes) : "-";
    std::snprintf(line, sizeof(line),
                  "%-12s %-10s %10s %10s %10s %10s %10s %10s  %s\n",
                  v.name.c_str(), state.c_str(), b(v.quotaBytes).c_str(),
                  b(v.pluggedBytes).c_str(), b(v.requestedBytes).c_str(),
                  hot.c_str(), fr.c_str(), sr.c_str(), v.reason.c_str());
    os << line;
    if (!v.lastError.empty())
      os << "             last error: " << v.lastError << "\n";
  }
  return os.str();
}

}  // namespace htier
