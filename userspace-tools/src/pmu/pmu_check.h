// SPDX-License-Identifier: GPL-2.0
//
// Can this machine (typically a guest) sample memory accesses with data
// addresses?  probePmu() asks the kernel from userspace with
// perf_event_open (no module needed): is there a PMU at all, does a precise
// (PEBS) load event open, and do its samples carry data addresses.
// classifyPmu() turns the evidence into a verdict, and the text helpers say
// what htier will do about it.  Classification and text are pure.
#pragma once

#include <cstdint>
#include <string>

namespace htier::pmu {

enum class Verdict {
  kNoPmu,          // no hardware counters at all (QEMU TCG, a vPMU turned off)
  kNoPrecise,      // counters, but no precise memory event opens
  kPebsNoAddress,  // precise events open, samples carry no data address
  kWorking,        // samples with data addresses: htier can use pebs
  kNotPermitted,   // perf_event_open refused (paranoid / seccomp / no CAP_PERFMON)
};

struct ProbeEvidence {
  // sysfs /sys/bus/event_source/devices/cpu
  bool cpuPmuInSysfs = false;
  std::string pmuName;    // caps/pmu_name ("skylake"), "" if absent
  int maxPrecise = -1;    // caps/max_precise, -1 if absent
  int paranoid = 99;      // /proc/sys/kernel/perf_event_paranoid, 99 unknown
  std::string vendor;     // /proc/cpuinfo vendor_id
  // perf_event_open of hardware cycles: 0 or the errno
  int cyclesErrno = -1;   // -1: not tried
  // the precise load event
  std::string loadEvent;  // its description, e.g. "raw 0x81d0 precise=2"
  int loadErrno = -1;     // 0 opened, errno, -1 not tried
  unsigned loadPrecise = 0;  // precise_ip it opened with
  uint64_t samples = 0;
  uint64_t samplesWithAddr = 0;
  uint64_t lost = 0;
  double runSeconds = 0;
};

Verdict classifyPmu(const ProbeEvidence& e);

const char* verdictId(Verdict v);        // "no-pmu", "no-precise", "pebs-no-addr", "working", "not-permitted"
std::string verdictText(Verdict v);      // "no PMU", ...
std::string verdictExplain(Verdict v, const ProbeEvidence& e);  // one paragraph
std::string htierSampler(Verdict v);     // "pebs" or "abit"
std::string operatorAdvice(Verdict v);   // what an operator can do

std::string formatPmuCheck(Verdict v, const ProbeEvidence& e);
std::string formatPmuCheckJson(Verdict v, const ProbeEvidence& e);

// Runs the probe (about a quarter of a second of memory loads).
ProbeEvidence probePmu();

}  // namespace htier::pmu
