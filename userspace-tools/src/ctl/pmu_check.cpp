// SPDX-License-Identifier: GPL-2.0
//
// htierctl pmu-check [--json]: can this machine sample memory accesses with
// data addresses (PEBS)?  Needs no module; see pmu/pmu_check.h.
#include <ostream>

#include "ctl/ctl.h"
#include "pmu/pmu_check.h"

namespace htier::ctl {

int cmdPmuCheck(CtlContext& ctx, const std::vector<std::string>& args) {
  bool json = false;
  for (const std::string& a : args) {
    if (a == "--json") {
      json = true;
    } else {
      ctx.err << "usage: htierctl pmu-check [--json]\n";
      return kExitUsage;
    }
  }
  pmu::ProbeEvidence e = pmu::probePmu();
  pmu::Verdict v = pmu::classifyPmu(e);
  ctx.out << (json ? pmu::formatPmuCheckJson(v, e) : pmu::formatPmuCheck(v, e));
  if (!json && ctx.sysfs.present()) {
    auto sampler = ctx.sysfs.read("sampler");
    if (sampler) ctx.out << "module sampler now: " << *sampler << "\n";
  }
  return kExitOk;
}

}  // namespace htier::ctl
