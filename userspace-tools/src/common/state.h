// SPDX-License-Identifier: GPL-2.0
//
// A typed view of the module's sysfs state (design.md "sysfs ABI"), built
// from a snapshot of the tree.  Files the contract does not name are kept as
// `extra` so that tools show them too; missing files stay empty (nullopt).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/sysfs.h"

namespace htier {

inline constexpr uint64_t kPageBytes = 4096;

struct SamplerState {
  std::string active;                  // the bracketed entry, "" if none
  std::vector<std::string> available;  // every entry, brackets removed
  std::optional<std::string> reason;   // sampler_reason, if the module has it
};

struct QuotaState {
  bool unlimited = false;  // "max"
  uint64_t bytes = 0;      // valid when !unlimited
};

struct HtierStats {
  std::optional<uint64_t> fastResidentBytes, slowResidentBytes, hotSetBytes;
  std::optional<uint64_t> promotedPages, demotedPages, promoteFailed, demoteFailed;
  std::optional<uint64_t> samples, samplesFast, samplesSlow;
  std::optional<std::vector<uint64_t>> hotnessHistogram;  // coldest bin first
};

struct ExtraFile {
  std::string path;  // relative to the root
  std::string value;
  bool writable = false;
};

struct HtierState {
  std::optional<bool> enabled;
  std::optional<SamplerState> sampler;
  std::optional<std::string> fastNodes, slowNodes;
  std::optional<QuotaState> quota;
  HtierStats stats;
  std::vector<ExtraFile> extra;     // files not in the contract, sorted
  std::vector<std::string> errors;  // files present but unreadable/unparsable
};

// Build the typed view; never fails (bad files land in `errors`).
HtierState parseState(const SysfsSnapshot& snap);

// Read and parse the tree at `sysfs`.  Fails when the root cannot be listed.
Result<HtierState> readState(const Sysfs& sysfs);

// Parse a `sampler` value ("auto pebs [abit]").
SamplerState parseSampler(std::string_view text);
// Parse `quota_bytes` ("max" or a number).
Result<QuotaState> parseQuota(std::string_view text);

// Fraction samples_fast / (samples_fast + samples_slow), if defined.
std::optional<double> fastHitShare(const HtierStats& stats);
// Fraction fast_resident / quota, if the quota is a finite non-zero number.
std::optional<double> quotaUsedShare(const HtierState& state);

}  // namespace htier
