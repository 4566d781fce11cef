// SPDX-License-Identifier: GPL-2.0
//
// Turning a snapshot of /sys/kernel/mm/htier into an HtierState.
#include "common/state.h"

#include <cctype>
#include <set>
#include <sstream>

namespace htier {

namespace {

// Files with a typed home in HtierState; everything else is `extra`.
const std::set<std::string>& knownFiles() {
  static const std::set<std::string> known = {
      "enabled",
      "sampler",
      "sampler_reason",
      "fast_nodes",
      "slow_nodes",
      "quota_bytes",
      "stats/fast_resident_bytes",
      "stats/slow_resident_bytes",
      "stats/hot_set_bytes",
      "stats/promoted_pages",
      "stats/demoted_pages",
      "stats/promote_failed",
      "stats/demote_failed",
      "stats/samples",
      "stats/samples_fast",
      "stats/samples_slow",
      "stats/hotness_histogram",
  };
  return known;
}

class Reader {
 public:
  Reader(const SysfsSnapshot& snap, std::vector<std::string>& errors) : snap_(snap), errors_(errors) {}

  const std::string* text(const std::string& key) {
    auto it = snap_.find(key);
    if (it == snap_.end()) return nullptr;
    if (it->second.readError) {
      errors_.push_back(it->second.value);
      return nullptr;
    }
    return &it->second.value;
  }

  std::optional<uint64_t> number(const std::string& key) {
    const std::string* t = text(key);
    if (!t) return std::nullopt;
    auto v = parseU64(*t);
    if (!v) {
      errors_.push_back(key + ": " + v.error().message);
      return std::nullopt;
    }
    return *v;
  }

 private:
  const SysfsSnapshot& snap_;
  std::vector<std::string>& errors_;
};

}  // namespace

SamplerState parseSampler(std::string_view text) {
  SamplerState s;
  std::istringstream in{std::string(text)};
  std::string word;
  while (in >> word) {
    if (word.size() >= 2 && word.front() == '[' && word.back() == ']') {
      word = word.substr(1, word.size() - 2);
      s.active = word;
    }
    s.available.push_back(word);
  }
  return s;
}

Result<QuotaState> parseQuota(std::string_view text) {
  std::string_view t = text;
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.remove_suffix(1);
  if (t == "max") return QuotaState{true, 0};
  auto v = parseU64(t);
  if (!v) return v.error();
  return QuotaState{false, *v};
}

HtierState parseState(const SysfsSnapshot& snap) {
  HtierState st;
  Reader r(snap, st.errors);

  if (auto v = r.number("enabled")) st.enabled = (*v != 0);
  if (auto t = r.text("sampler")) {
    st.sampler = parseSampler(*t);
    if (auto reason = r.text("sampler_reason"); reason && !reason->empty()) st.sampler->reason = *reason;
  }
  if (auto t = r.text("fast_nodes")) st.fastNodes = *t;
  if (auto t = r.text("slow_nodes")) st.slowNodes = *t;
  if (auto t = r.text("quota_bytes")) {
    auto q = parseQuota(*t);
    if (q)
      st.quota = *q;
    else
      st.errors.push_back("quota_bytes: " + q.error().message);
  }

  HtierStats& s = st.stats;
  s.fastResidentBytes = r.number("stats/fast_resident_bytes");
  s.slowResidentBytes = r.number("stats/slow_resident_bytes");
  s.hotSetBytes = r.number("stats/hot_set_bytes");
  s.promotedPages = r.number("stats/promoted_pages");
  s.demotedPages = r.number("stats/demoted_pages");
  s.promoteFailed = r.number("stats/promote_failed");
  s.demoteFailed = r.number("stats/demote_failed");
  s.samples = r.number("stats/samples");
  s.samplesFast = r.number("stats/samples_fast");
  s.samplesSlow = r.number("stats/samples_slow");
  if (auto t = r.text("stats/hotness_histogram")) {
    auto h = parseU64List(*t);
    if (h)
      s.hotnessHistogram = std::move(*h);
    else
      st.errors.push_back("stats/hotness_histogram: " + h.error().message);
  }

  for (const auto& [path, file] : snap) {
    if (knownFiles().count(path)) continue;
    st.extra.push_back(ExtraFile{path, file.value, file.writable});
  }
  return st;
}

Result<HtierState> readState(const Sysfs& sysfs) {
  auto snap = sysfs.snapshot();
  if (!snap) return snap.error();
  return parseState(*snap);
}

std::optional<double> fastHitShare(const HtierStats& stats) {
  if (!stats.samplesFast || !stats.samplesSlow) return std::nullopt;
  long double total = static_cast<long double>(*stats.samplesFast) + *stats.samplesSlow;
  if (total == 0) return std::nullopt;
  return static_cast<double>(*stats.samplesFast / total);
}

std::optional<double> quotaUsedShare(const HtierState& state) {
  if (!state.quota || state.quota->unlimited || state.quota->bytes == 0) return std::nullopt;
  if (!state.stats.fastResidentBytes) return std::nullopt;
  return static_cast<double>(*state.stats.fastResidentBytes) / static_cast<double>(state.quota->bytes);
}

}  // namespace htier
