// SPDX-License-Identifier: GPL-2.0
//
// Formatting of htier's event plan (pure); see events.h.  The libpfm4 part
// is in events_pfm.cpp.
#include "pmu/events.h"

#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

namespace htier::pmu {

const char* kindName(EventKind k) {
  switch (k) {
    case EventKind::kLoad:
      return "load";
    case EventKind::kStore:
      return "store";
    case EventKind::kLoadLatency:
      return "ldlat";
  }
  return "?";
}

namespace {

std::string hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string pad(std::string s, size_t w) {
  if (s.size() < w) s.append(w - s.size(), ' ');
  else s.push_back(' ');
  return s;
}

}  // namespace

std::string pebsEventsLine(const std::vector<EncodedEvent>& events) {
  std::string line;
  for (const EncodedEvent& e : events) {
    if (!line.empty()) line += "; ";
    line += std::string(kindName(e.kind)) + " type=" + std::to_string(e.type) + " config=" + hex(e.config) +
            " config1=" + hex(e.config1) + " precise=" + std::to_string(e.precise);
  }
  return line;
}

std::string noEventsReason(const EventPlan& plan) {
  if (plan.detectedPmu.empty()) {
    std::string others;
    for (const std::string& p : plan.otherPmus) others += (others.empty() ? "" : ", ") + p;
    return "libpfm4 does not know this CPU: no core PMU detected (only " +
           (others.empty() ? std::string("none") : others) +
           "); typical of emulated CPUs such as QEMU TCG's \"max\" model or of a hypervisor that hides the PMU "
           "model. The module keeps its built-in defaults.";
  }
  std::string why = plan.detectedPmu.rfind("amd", 0) == 0
                        ? "AMD CPUs have no PEBS (IBS is out of htier's scope)"
                        : "it has no precise load event htier knows";
  return "libpfm4 detected PMU '" + plan.detectedPmu + "' (" + plan.detectedPmuDesc + ") but " + why +
         "; the module keeps its built-in defaults.";
}

std::string formatEventsTable(const EventPlan& plan) {
  std::ostringstream out;
  out << "pmu        " << (plan.detectedPmu.empty() ? "none" : plan.detectedPmu + " (" + plan.detectedPmuDesc + ")")
      << "\n";
  if (plan.events.empty()) {
    out << noEventsReason(plan) << "\n";
    return out.str();
  }
  out << "\n" << pad("KIND", 7) << pad("TYPE", 6) << pad("CONFIG", 10) << pad("CONFIG1", 9) << pad("PRECISE", 9)
      << "EVENT\n";
  for (const EncodedEvent& e : plan.events) {
    out << pad(kindName(e.kind), 7) << pad(std::to_string(e.type), 6) << pad(hex(e.config), 10)
        << pad(hex(e.config1), 9) << pad(std::to_string(e.precise), 9) << e.name;
    if (e.kind == EventKind::kLoadLatency) out << " (threshold " << plan.ldlatThreshold << " cycles)";
    out << "\n";
  }
  for (const std::string& m : plan.missing) out << "not available: " << m << "\n";
  out << "\npebs_events line:\n  " << pebsEventsLine(plan.events) << "\n";
  return out.str();
}

std::string formatEventsJson(const EventPlan& plan, const std::string& moduleLine, bool applied) {
  nlohmann::ordered_json j;
  j["pmu"] = plan.detectedPmu.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(plan.detectedPmu);
  j["pmu_desc"] = plan.detectedPmuDesc;
  j["other_pmus"] = plan.otherPmus;
  j["ldlat_threshold"] = plan.ldlatThreshold;
  j["events"] = nlohmann::ordered_json::array();
  for (const EncodedEvent& e : plan.events)
    j["events"].push_back({{"kind", kindName(e.kind)},
                           {"name", e.name},
                           {"pmu", e.pmu},
                           {"type", e.type},
                           {"config", e.config},
                           {"config1", e.config1},
                           {"precise", e.precise}});
  j["missing"] = plan.missing;
  j["pebs_events"] = plan.events.empty() ? nlohmann::ordered_json(nullptr)
                                         : nlohmann::ordered_json(pebsEventsLine(plan.events));
  j["reason"] = plan.events.empty() ? nlohmann::ordered_json(noEventsReason(plan)) : nlohmann::ordered_json(nullptr);
  j["module_pebs_events"] = moduleLine.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(moduleLine);
  j["applied"] = applied;
  return j.dump(2) + "\n";
}

}  // namespace htier::pmu
