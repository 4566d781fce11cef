// SPDX-License-Identifier: GPL-2.0
//
// htier's events encoded by libpfm4 (Debian libpfm4-dev, linked statically
// so htierctl runs in a bare guest).  libpfm identifies the core PMU from
// CPUID, independently of whether the kernel exposes a PMU, so this also
// works where perf_event_open cannot count (and says so where CPUID names
// no model libpfm knows, e.g. QEMU TCG's "max" CPU).
#include <perfmon/pfmlib_perf_event.h>

#include <cstring>

#include "pmu/events.h"

namespace htier::pmu {

namespace {

struct Candidate {
  EventKind kind;
  const char* event;  // without the precise modifier
};

// First one libpfm knows wins, per kind.  MEM_INST_RETIRED: Skylake and
// later big cores, Goldmont and later Atoms; MEM_UOPS_RETIRED: Haswell,
// Broadwell, Silvermont.  LOAD_LATENCY takes the threshold as ldlat=.
const Candidate kCandidates[] = {
    {EventKind::kLoad, "MEM_INST_RETIRED:ALL_LOADS"},
    {EventKind::kLoad, "MEM_UOPS_RETIRED:ALL_LOADS"},
    {EventKind::kStore, "MEM_INST_RETIRED:ALL_STORES"},
    {EventKind::kStore, "MEM_UOPS_RETIRED:ALL_STORES"},
    {EventKind::kLoadLatency, "MEM_TRANS_RETIRED:LOAD_LATENCY"},
};

constexpr unsigned kPrecise = 2;

// One event, or the libpfm error.
int encode(const std::string& spec, EncodedEvent& out) {
  perf_event_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  pfm_perf_encode_arg_t arg;
  std::memset(&arg, 0, sizeof(arg));
  arg.size = sizeof(arg);
  arg.attr = &attr;
  char* fstr = nullptr;
  arg.fstr = &fstr;
  int rc = pfm_get_os_event_encoding(spec.c_str(), PFM_PLM3, PFM_OS_PERF_EVENT_EXT, &arg);
  if (rc != PFM_SUCCESS) return rc;
  out.type = attr.type;
  out.config = attr.config;
  out.config1 = attr.config1;
  out.precise = attr.precise_ip;
  pfm_event_info_t einfo;
  std::memset(&einfo, 0, sizeof(einfo));
  einfo.size = sizeof(einfo);
  pfm_pmu_info_t pinfo;
  std::memset(&pinfo, 0, sizeof(pinfo));
  pinfo.size = sizeof(pinfo);
  if (pfm_get_event_info(arg.idx, PFM_OS_NONE, &einfo) == PFM_SUCCESS &&
      pfm_get_pmu_info(einfo.pmu, &pinfo) == PFM_SUCCESS && pinfo.name) {
    out.pmu = pinfo.name;
  }
  // Keep the short qualified name (pmu::EVENT:UMASK), not libpfm's full
  // modifier dump.
  std::string base = spec.substr(0, spec.find(":precise="));
  out.name = out.pmu.empty() ? base : out.pmu + "::" + base;
  free(fstr);
  return PFM_SUCCESS;
}

}  // namespace

Result<EventPlan> encodeHtierEvents(unsigned ldlatThreshold) {
  int rc = pfm_initialize();
  if (rc != PFM_SUCCESS) return Error::msg(std::string("libpfm4 initialisation failed: ") + pfm_strerror(rc));

  EventPlan plan;
  plan.ldlatThreshold = ldlatThreshold;
  int i;
  pfm_for_all_pmus(i) {
    pfm_pmu_info_t info;
    std::memset(&info, 0, sizeof(info));
    info.size = sizeof(info);
    if (pfm_get_pmu_info(static_cast<pfm_pmu_t>(i), &info) != PFM_SUCCESS || !info.is_present) continue;
    if (info.type == PFM_PMU_TYPE_CORE && plan.detectedPmu.empty()) {
      plan.detectedPmu = info.name;
      plan.detectedPmuDesc = info.desc ? info.desc : "";
    } else {
      plan.otherPmus.push_back(info.name);
    }
  }

  if (!plan.detectedPmu.empty()) {
    for (EventKind kind : {EventKind::kLoad, EventKind::kStore, EventKind::kLoadLatency}) {
      std::string lastErr;
      bool found = false;
      for (const Candidate& c : kCandidates) {
        if (c.kind != kind) continue;
        std::string spec = c.event;
        if (kind == EventKind::kLoadLatency) spec += ":ldlat=" + std::to_string(ldlatThreshold);
        spec += ":precise=" + std::to_string(kPrecise);
        EncodedEvent ev;
        ev.kind = kind;
        int erc = encode(spec, ev);
        if (erc == PFM_SUCCESS) {
          plan.events.push_back(ev);
          found = true;
          break;
        }
        lastErr = std::string(c.event) + ": " + pfm_strerror(erc);
      }
      if (!found) plan.missing.push_back(std::string(kindName(kind)) + " (" + lastErr + ")");
    }
    // A set without loads is no use to htier (loads must come first).
    if (plan.events.empty() || plan.events.front().kind == EventKind::kStore) plan.events.clear();
  }
  pfm_terminate();
  return plan;
}

}  // namespace htier::pmu
