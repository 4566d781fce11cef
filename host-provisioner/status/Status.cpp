// SPDX-License-Identifier: GPL-2.0
#include "status/Status.h"

#include <cstdio>
#include <sstream>

#include <nlohmann/json.hpp>

#include "util/Units.h"

namespace htier {

using json = nlohmann::json;

namespace {

// Writes one member, or reads it when it has the expected type (a member
// of another type is left at its default: the reader never throws).
class FieldIo {
 public:
  FieldIo(json& j, bool out) : j_(j), out_(out) {}

  void operator()(const char* k, uint64_t& x) {
    io(k, x, &json::is_number_unsigned);
  }
  void operator()(const char* k, int64_t& x) {
    io(k, x, &json::is_number_integer);
  }
  void operator()(const char* k, double& x) { io(k, x, &json::is_number); }
  void operator()(const char* k, bool& x) { io(k, x, &json::is_boolean); }
  void operator()(const char* k, std::string& x) { io(k, x, &json::is_string); }
  // An object of counters; on reading, members of another type are left out.
  void operator()(const char* k, std::map<std::string, uint64_t>& x) {
    if (out_) {
      j_[k] = x;
      return;
    }
    auto it = j_.find(k);
    if (it == j_.end() || !it->is_object())
      return;
    for (auto m = it->begin(); m != it->end(); ++m)
      if (m->is_number_unsigned())
        x[m.key()] = m->get<uint64_t>();
  }
  void operator()(const char* k, std::optional<uint64_t>& x) {
    if (out_ && !x)
      return;
    uint64_t v = x.value_or(0);
    if (io(k, v, &json::is_number_unsigned))
      x = v;
  }

 private:
  template <class T>
  bool io(const char* k, T& x, bool (json::*is)() const noexcept) {
    if (out_) {
      j_[k] = x;
      return true;
    }
    auto it = j_.find(k);
    if (it == j_.end() || !((*it).*is)())
      return false;
    x = it->template get<T>();
    return true;
  }

  json& j_;
  bool out_;
};

// One table drives both directions so the two cannot drift apart.
void vmFields(FieldIo f, VmStatus& v) {
  f("name", v.name);
  f("phase", v.phase);
  f("quota_bytes", v.quotaBytes);
  f("plugged_bytes", v.pluggedBytes);
  f("requested_bytes", v.requestedBytes);
  f("charged_bytes", v.chargedBytes);
  f("device_max_bytes", v.deviceMaxBytes);
  f("block_bytes", v.blockBytes);
  f("min_fast_bytes", v.minFastBytes);
  f("max_fast_bytes", v.maxFastBytes);
  f("stuck", v.stuck);
  f("shrink_pending", v.shrinkPending);
  f("awaiting_report", v.awaitingReport);
  f("slow_plugged_bytes", v.slowPluggedBytes);
  f("slow_requested_bytes", v.slowRequestedBytes);
  f("link_connected", v.linkConnected);
  f("has_report", v.hasReport);
  f("hot_set_bytes", v.hotSetBytes);
  f("fast_resident_bytes", v.fastResidentBytes);
  f("slow_resident_bytes", v.slowResidentBytes);
  f("reports", v.reports);
  f("rejected_messages", v.rejectedMessages);
  f("rejected_by_reason", v.rejectedByReason);
  f("curves_dropped", v.curvesDropped);
  f("decisions", v.decisions);
  f("resizes", v.resizes);
  f("qmp_errors", v.qmpErrors);
  f("size_events", v.sizeEvents);
  f("reason", v.reason);
  f("last_error", v.lastError);
  f("weight", v.weight);
  f("report_age_ms", v.reportAgeMs);
}

void documentFields(FieldIo f, EngineStatus& s) {
  f("policy", s.policy);
  f("capacity_bytes", s.capacityBytes);
  f("charged_bytes", s.chargedBytes);
  f("policy_runs", s.policyRuns);
}

}  // namespace

std::string statusToJson(const EngineStatus& s) {
  EngineStatus doc = s;
  json j = {{"vms", json::array()}};
  documentFields(FieldIo(j, true), doc);
  for (VmStatus& v : doc.vms) {
    json vj = json::object();
    vmFields(FieldIo(vj, true), v);
    j["vms"].push_back(std::move(vj));
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
  documentFields(FieldIo(j, false), s);
  for (auto& vj : j["vms"]) {
    if (!vj.is_object())
      continue;
    VmStatus v;
    vmFields(FieldIo(vj, false), v);
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
