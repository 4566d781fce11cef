// SPDX-License-Identifier: GPL-2.0
//
// The precise memory events htier samples with (loads, stores, loads above
// a latency threshold), encoded for this CPU by libpfm4 into raw
// perf_event_attr fields, and the text forms they take: a table for people,
// JSON, and the one-line form the module's pebs_events file reads.
// Encoding needs libpfm4; formatting is pure (unit-tested).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace htier::pmu {

// Same labels as the module's pebs_events KIND.
enum class EventKind { kLoad, kStore, kLoadLatency };
const char* kindName(EventKind k);  // "load", "store", "ldlat"

struct EncodedEvent {
  EventKind kind = EventKind::kLoad;
  std::string name;      // libpfm's fully qualified name, e.g. "icl::MEM_INST_RETIRED:ALL_LOADS"
  std::string pmu;       // libpfm PMU name, e.g. "icl"
  uint32_t type = 0;     // perf_event_attr.type
  uint64_t config = 0;   // perf_event_attr.config
  uint64_t config1 = 0;  // perf_event_attr.config1 (ldlat threshold)
  unsigned precise = 0;  // perf_event_attr.precise_ip
};

// What libpfm4 made of this machine.
struct EventPlan {
  std::string detectedPmu;      // core PMU libpfm detected ("icl"), "" if none
  std::string detectedPmuDesc;  // "Intel Icelake"
  std::vector<std::string> otherPmus;  // other present PMUs (e.g. "perf")
  std::vector<EncodedEvent> events;    // loads first; empty if none known
  std::vector<std::string> missing;    // kinds libpfm could not encode, with why
  unsigned ldlatThreshold = 0;
};

inline constexpr unsigned kDefaultLdlatCycles = 64;

// Encode htier's events with libpfm4 for this CPU (LIBPFM_FORCE_PMU is
// honoured, as libpfm documents).  An error only when libpfm itself fails;
// a CPU libpfm does not know gives a plan with no events.
Result<EventPlan> encodeHtierEvents(unsigned ldlatThreshold = kDefaultLdlatCycles);

// The module's pebs_events line: "load type=4 config=0x81d0 config1=0x0
// precise=2; store ...".  Events in plan order.
std::string pebsEventsLine(const std::vector<EncodedEvent>& events);

// Text for people, and the one JSON object of --json.
std::string formatEventsTable(const EventPlan& plan);
std::string formatEventsJson(const EventPlan& plan, const std::string& moduleLine, bool applied);

// Why there is nothing to apply, for people: names the PMU libpfm found.
std::string noEventsReason(const EventPlan& plan);

}  // namespace htier::pmu
