// SPDX-License-Identifier: GPL-2.0
//
// A snapshot of the engine for `htier-provisiond status`: served as one
// JSON document on the status socket and rendered as a table or JSON.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "util/Maybe.h"

namespace htier {

struct VmStatus {
  std::string name;
  std::string phase;
  uint64_t quotaBytes = 0;      // target for the fast device
  uint64_t pluggedBytes = 0;    // qom-get size
  uint64_t requestedBytes = 0;  // qom-get requested-size
  uint64_t chargedBytes = 0;    // counted against the capacity
  uint64_t deviceMaxBytes = 0;
  uint64_t blockBytes = 0;
  uint64_t minFastBytes = 0;
  uint64_t maxFastBytes = 0;
  double weight = 1;
  bool stuck = false;
  bool shrinkPending = false;
  bool awaitingReport = true;
  std::optional<uint64_t> slowPluggedBytes;
  std::optional<uint64_t> slowRequestedBytes;
  bool linkConnected = false;
  bool hasReport = false;
  uint64_t hotSetBytes = 0;
  uint64_t fastResidentBytes = 0;
  uint64_t slowResidentBytes = 0;
  int64_t reportAgeMs = -1;
  uint64_t reports = 0;
  uint64_t rejectedMessages = 0;  // malformed + oversized
  // rejectedMessages by reason (link/Message.h: not_json, bad_version, ...)
  std::map<std::string, uint64_t> rejectedByReason;
  uint64_t curvesDropped = 0;  // reports kept without their bad curve
  std::string reason;
  std::string lastError;
  uint64_t decisions = 0;  // the policy changed the quota
  uint64_t resizes = 0;    // confirmed qom-sets of requested-size
  uint64_t qmpErrors = 0;  // failed QMP connects and commands
  // Memory-device size-change events followed (libvirt VMs only).
  std::optional<uint64_t> sizeEvents;
};

struct EngineStatus {
  std::string policy;
  uint64_t capacityBytes = 0;
  uint64_t chargedBytes = 0;
  uint64_t policyRuns = 0;
  std::vector<VmStatus> vms;
};

std::string statusToJson(const EngineStatus& s);
Maybe<EngineStatus> statusFromJson(const std::string& text);
std::string statusToTable(const EngineStatus& s);

}  // namespace htier
