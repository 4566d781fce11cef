// SPDX-License-Identifier: GPL-2.0
#include "agent/pmu_setup.h"

#include "pmu/events.h"

namespace htier::agent {

PebsEventsEncoder libpfmEncoder() {
  return [](std::string& why) -> std::string {
    auto plan = pmu::encodeHtierEvents();
    if (!plan) {
      why = "libpfm4: " + plan.error().message;
      return {};
    }
    if (plan->events.empty()) {
      why = pmu::noEventsReason(*plan);
      return {};
    }
    return pmu::pebsEventsLine(plan->events);
  };
}

PmuSetupResult applyPebsEvents(const Sysfs& sysfs, const PebsEventsEncoder& encode) {
  PmuSetupResult r;
  if (!sysfs.present()) {
    r.message = "module not loaded; PEBS events not applied";
    return r;
  }
  std::string reason = sysfs.read("sampler_reason").valueOr(std::string());
  // "abit: selected" means an operator chose abit: leave PEBS alone.
  if (reason.rfind("abit:", 0) == 0) {
    r.message = "sampler abit chosen explicitly; PEBS events not applied";
    return r;
  }
  std::string why;
  std::string line = encode(why);
  if (line.empty()) {
    r.message = "no PEBS events for this CPU: " + why;
    return r;
  }
  Status st = sysfs.write("pebs_events", line);
  if (!st) {
    r.message = "module refused PEBS events '" + line + "': " + st.error().message;
    return r;
  }
  r.applied = true;
  r.message = "PEBS events applied: " + line;
  if (reason.rfind("auto:", 0) == 0) {
    // Let auto probe again with the new encodings; keeps abit if PEBS
    // still does not deliver data addresses.
    Status again = sysfs.write("sampler", "auto");
    std::string now = sysfs.read("sampler").valueOr(std::string("?"));
    r.message += again ? "; sampler re-chosen: " + now : "; re-choosing the sampler failed: " + again.error().message;
  }
  return r;
}

}  // namespace htier::agent
