// SPDX-License-Identifier: GPL-2.0
//
// htierctl events [--apply] [--json] [--ldlat CYCLES]: the precise memory
// events htier uses on this CPU, as libpfm4 encodes them, and (--apply)
// handing them to the module through pebs_events.
#include <ostream>

#include "ctl/ctl.h"
#include "pmu/events.h"

namespace htier::ctl {

int cmdEvents(CtlContext& ctx, const std::vector<std::string>& args) {
  bool apply = false, json = false;
  unsigned ldlat = pmu::kDefaultLdlatCycles;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--apply") {
      apply = true;
    } else if (args[i] == "--json") {
      json = true;
    } else if (args[i] == "--ldlat" && i + 1 < args.size()) {
      auto v = parseU64(args[++i]);
      if (!v || *v < 1 || *v > 65535) {
        ctx.err << "htierctl events: --ldlat takes a threshold in cycles, 1-65535\n";
        return kExitUsage;
      }
      ldlat = static_cast<unsigned>(*v);
    } else {
      ctx.err << "usage: htierctl events [--apply] [--json] [--ldlat CYCLES]\n";
      return kExitUsage;
    }
  }

  auto plan = pmu::encodeHtierEvents(ldlat);
  if (!plan) {
    ctx.err << "htierctl events: " << plan.error().message << "\n";
    return kExitError;
  }
  std::string moduleLine;
  if (ctx.sysfs.present()) moduleLine = ctx.sysfs.read("pebs_events").valueOr(std::string());

  bool applied = false;
  int code = kExitOk;
  if (apply) {
    if (plan->events.empty()) {
      ctx.err << "htierctl events: nothing to apply: " << pmu::noEventsReason(*plan) << "\n";
      code = kExitError;
    } else if (!ctx.sysfs.present()) {
      ctx.err << "htierctl events: htier module not loaded (no " << ctx.sysfs.root().string() << ")\n";
      code = kExitError;
    } else {
      Status st = ctx.sysfs.write("pebs_events", pmu::pebsEventsLine(plan->events));
      if (!st) {
        ctx.err << "htierctl events: " << st.error().message << "\n";
        auto why = ctx.sysfs.read("sampler_reason");
        if (why) ctx.err << "htierctl events: sampler_reason: " << *why << "\n";
        code = kExitError;
      } else {
        applied = true;
        moduleLine = ctx.sysfs.read("pebs_events").valueOr(std::string());
      }
    }
  }

  if (json) {
    ctx.out << pmu::formatEventsJson(*plan, moduleLine, applied);
    return code;
  }
  ctx.out << pmu::formatEventsTable(*plan);
  if (!moduleLine.empty()) ctx.out << (applied ? "\napplied; module now uses:\n  " : "\nmodule uses:\n  ") << moduleLine << "\n";
  return code;
}

}  // namespace htier::ctl
