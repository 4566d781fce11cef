// SPDX-License-Identifier: GPL-2.0
//
// pmu-check's verdict and its text (pure); the probe is in pmu_probe.cpp.
#include "pmu/pmu_check.h"

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <sstream>

namespace htier::pmu {

namespace {

bool permissionErrno(int e) { return e == EACCES || e == EPERM; }

std::string errnoText(int e) {
  if (e < 0) return "not tried";
  if (e == 0) return "opened";
  const char* name = e == ENOENT       ? "ENOENT"
                     : e == ENODEV     ? "ENODEV"
                     : e == EOPNOTSUPP ? "EOPNOTSUPP"
                     : e == EINVAL     ? "EINVAL"
                     : e == EACCES     ? "EACCES"
                     : e == EPERM      ? "EPERM"
                     : e == EBUSY      ? "EBUSY"
                                       : nullptr;
  std::string s = std::string("perf_event_open failed: ") + std::strerror(e);
  if (name) s += std::string(" (") + name + ")";
  return s;
}

}  // namespace

Verdict classifyPmu(const ProbeEvidence& e) {
  if (e.cyclesErrno > 0) return permissionErrno(e.cyclesErrno) ? Verdict::kNotPermitted : Verdict::kNoPmu;
  if (e.cyclesErrno < 0 && !e.cpuPmuInSysfs) return Verdict::kNoPmu;
  if (e.loadErrno != 0) {
    if (e.loadErrno > 0 && permissionErrno(e.loadErrno)) return Verdict::kNotPermitted;
    return Verdict::kNoPrecise;
  }
  if (e.samplesWithAddr == 0) return Verdict::kPebsNoAddress;
  return Verdict::kWorking;
}

const char* verdictId(Verdict v) {
  switch (v) {
    case Verdict::kNoPmu:
      return "no-pmu";
    case Verdict::kNoPrecise:
      return "no-precise";
    case Verdict::kPebsNoAddress:
      return "pebs-no-addr";
    case Verdict::kWorking:
      return "working";
    case Verdict::kNotPermitted:
      return "not-permitted";
  }
  return "?";
}

std::string verdictText(Verdict v) {
  switch (v) {
    case Verdict::kNoPmu:
      return "no PMU";
    case Verdict::kNoPrecise:
      return "PMU without precise events";
    case Verdict::kPebsNoAddress:
      return "PEBS without data addresses";
    case Verdict::kWorking:
      return "working: PEBS with data addresses";
    case Verdict::kNotPermitted:
      return "cannot tell: perf_event_open not permitted";
  }
  return "?";
}

std::string verdictExplain(Verdict v, const ProbeEvidence& e) {
  switch (v) {
    case Verdict::kNoPmu:
      return "The kernel has no hardware performance counters to give: opening a CPU-cycles counter failed "
             "(" + errnoText(e.cyclesErrno) + "). Typical of emulated CPUs (QEMU TCG) and of VMs whose host "
             "does not expose a virtual PMU.";
    case Verdict::kNoPrecise:
      return "Hardware counters work, but a precise (PEBS) memory-load event does not open (" +
             (e.loadEvent.empty() ? std::string("no event") : e.loadEvent) + ": " + errnoText(e.loadErrno) +
             "). The host exposes an architectural vPMU without PEBS, or this CPU has no PEBS (AMD has IBS, "
             "which htier does not use).";
    case Verdict::kPebsNoAddress:
      return "A precise load event opens and samples, but " + std::to_string(e.samplesWithAddr) + " of " +
             std::to_string(e.samples) +
             " samples carried a data address. The host passes PEBS through without adaptive PEBS / data "
             "addresses (stock KVM hides them).";
    case Verdict::kWorking:
      return std::to_string(e.samplesWithAddr) + " of " + std::to_string(e.samples) +
             " precise load samples carried a data address: the PMU can tell htier which pages are accessed.";
    case Verdict::kNotPermitted:
      return "perf_event_open was refused (" +
             errnoText(e.cyclesErrno > 0 ? e.cyclesErrno : e.loadErrno) +
             "): run as root, or lower /proc/sys/kernel/perf_event_paranoid (now " + std::to_string(e.paranoid) +
             "), or grant CAP_PERFMON; a container may block it with seccomp.";
  }
  return "";
}

std::string htierSampler(Verdict v) { return v == Verdict::kWorking ? "pebs" : "abit"; }

std::string operatorAdvice(Verdict v) {
  switch (v) {
    case Verdict::kNoPmu:
      return "htier will use the accessed-bit sampler (abit), which needs no PMU. For PEBS, run the VM with a "
             "hardware-accelerated vPMU (KVM: -cpu host,pmu=on; cloud: an instance type with a vPMU).";
    case Verdict::kNoPrecise:
      return "htier will use abit. PEBS in a guest needs Intel Ice Lake or later hosts with KVM's PEBS "
             "virtualisation (kvm_intel pmu/pebs enabled) and -cpu host.";
    case Verdict::kPebsNoAddress:
      return "htier will use abit: without data addresses PEBS cannot find pages. The host must expose "
             "adaptive PEBS (guest dmesg shows \"PEBS fmt4+-baseline\").";
    case Verdict::kWorking:
      return "htier's auto sampler will use pebs. Run `htierctl events --apply` to give the module this CPU's "
             "exact encodings (it has built-in defaults for common Intel models).";
    case Verdict::kNotPermitted:
      return "Re-run pmu-check as root. The module itself is not limited by perf_event_paranoid.";
  }
  return "";
}

std::string formatPmuCheck(Verdict v, const ProbeEvidence& e) {
  std::ostringstream out;
  auto row = [&](const char* label, const std::string& value) {
    std::string l = label;
    out << "  " << l << std::string(l.size() < 22 ? 22 - l.size() : 1, ' ') << value << "\n";
  };
  out << "verdict: " << verdictText(v) << "\n  " << verdictExplain(v, e) << "\n\nevidence:\n";
  row("cpu PMU in sysfs",
      e.cpuPmuInSysfs ? "yes" + (e.pmuName.empty() ? std::string() : " (" + e.pmuName + ")") : "no");
  if (e.maxPrecise >= 0) row("max_precise", std::to_string(e.maxPrecise));
  row("vendor", e.vendor.empty() ? "unknown" : e.vendor);
  row("perf_event_paranoid", e.paranoid == 99 ? "unknown" : std::to_string(e.paranoid));
  row("hardware cycles", errnoText(e.cyclesErrno));
  row("precise load event", (e.loadEvent.empty() ? std::string("-") : e.loadEvent) + ": " + errnoText(e.loadErrno));
  if (e.loadErrno == 0) {
    row("samples", std::to_string(e.samples) + " in " + std::to_string(e.runSeconds).substr(0, 4) + " s (" +
                       std::to_string(e.lost) + " lost)");
    row("with data address", std::to_string(e.samplesWithAddr));
  }
  out << "\nhtier will use: " << htierSampler(v) << "\n" << operatorAdvice(v) << "\n";
  return out.str();
}

std::string formatPmuCheckJson(Verdict v, const ProbeEvidence& e) {
  nlohmann::ordered_json j;
  j["verdict"] = verdictId(v);
  j["verdict_text"] = verdictText(v);
  j["explanation"] = verdictExplain(v, e);
  j["htier_sampler"] = htierSampler(v);
  j["advice"] = operatorAdvice(v);
  j["evidence"] = {{"cpu_pmu_in_sysfs", e.cpuPmuInSysfs},
                   {"pmu_name", e.pmuName},
                   {"max_precise", e.maxPrecise},
                   {"vendor", e.vendor},
                   {"perf_event_paranoid", e.paranoid},
                   {"cycles_errno", e.cyclesErrno},
                   {"load_event", e.loadEvent},
                   {"load_errno", e.loadErrno},
                   {"load_precise", e.loadPrecise},
                   {"samples", e.samples},
                   {"samples_with_addr", e.samplesWithAddr},
                   {"lost", e.lost},
                   {"run_seconds", e.runSeconds}};
  return j.dump(2) + "\n";
}

}  // namespace htier::pmu
