// SPDX-License-Identifier: GPL-2.0
//
// The module's statistics as a node_exporter textfile-collector file
// (`htier-agent --textfile PATH`): the Prometheus text exposition format,
// names htier_*, base units (bytes, seconds, ratios), counters _total.
// Written atomically (a temp file in the same directory, fsync, rename),
// so node_exporter never reads half a file.
#pragma once

#include <string>

#include "common/result.h"
#include "common/sysfs.h"

namespace htier::agent {

// What the agent itself counts, exported beside the module's stats.
struct AgentTextfileCounters {
  uint64_t reportsSent = 0;
  uint64_t quotasReceived = 0;
  uint64_t badMessages = 0;
  bool hostConnected = false;
};

// The exposition of a snapshot of the module's directory: every stats/*
// file that holds a number (files this table does not know are exported as
// untyped htier_<name>), the hotness histogram by bin, quota_bytes (+Inf
// for "max") and enabled.
std::string textfileFromSnapshot(const SysfsSnapshot& snap, const AgentTextfileCounters& agent);

// Replaces `path` with `text` atomically: writes `.<name>.tmp` beside it
// (not *.prom, so the collector skips it), fsyncs it and renames it over.
Status writeFileAtomically(const std::string& path, const std::string& text);

}  // namespace htier::agent
