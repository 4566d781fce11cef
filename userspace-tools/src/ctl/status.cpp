// SPDX-License-Identifier: GPL-2.0
//
// htierctl status [--json]: the module's state as a table for people or a
// JSON object for scripts.  Files the contract does not name are shown too,
// generically, so new module files need no htierctl change to be seen.
#include <algorithm>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>

#include "common/format.h"
#include "common/state.h"
#include "ctl/ctl.h"

namespace htier::ctl {

namespace {

using json = nlohmann::ordered_json;  // keys in the order written, for people

constexpr size_t kLabelWidth = 16;
constexpr size_t kMaxExtraValue = 160;

class Table {
 public:
  explicit Table(std::ostream& out) : out_(out) {}
  void section(std::string_view title, size_t labelWidth = kLabelWidth) {
    out_ << title << "\n";
    width_ = labelWidth;
  }
  void row(std::string_view label, const std::string& value) {
    out_ << "  " << label << std::string(label.size() < width_ ? width_ - label.size() : 1, ' ') << value << "\n";
  }

 private:
  std::ostream& out_;
  size_t width_ = kLabelWidth;
};

const std::string kUnknown = "-";

std::string num(const std::optional<uint64_t>& v) { return v ? std::to_string(*v) : kUnknown; }

std::string bytes(const std::optional<uint64_t>& v) {
  return v ? humanBytes(*v) + " (" + std::to_string(*v) + ")" : kUnknown;
}

std::string pages(const std::optional<uint64_t>& v) {
  if (!v) return kUnknown;
  return std::to_string(*v) + " pages (" + humanBytes(*v * kPageBytes) + ")";
}

std::string oneLine(std::string v) {
  for (char& c : v)
    if (c == '\n' || c == '\t') c = ' ';
  if (v.size() > kMaxExtraValue) v = v.substr(0, kMaxExtraValue) + "...";
  return v;
}

std::string samplerText(const SamplerState& s) {
  std::string out = s.active.empty() ? kUnknown : s.active;
  std::string all;
  for (const auto& a : s.available) all += (all.empty() ? "" : " ") + a;
  return out + " (choices: " + all + ")";
}

std::string quotaText(const HtierState& st) {
  if (!st.quota) return kUnknown;
  if (st.quota->unlimited) return "max (no limit but capacity)";
  return humanBytes(st.quota->bytes) + " (" + std::to_string(st.quota->bytes) + ")";
}

void printTable(const HtierState& st, const std::string& root, std::ostream& out) {
  Table t(out);
  t.section("htier " + root);
  t.section("settings");
  t.row("enabled", st.enabled ? (*st.enabled ? "yes" : "no") : kUnknown);
  t.row("sampler", st.sampler ? samplerText(*st.sampler) : kUnknown);
  if (st.sampler && st.sampler->reason) t.row("sampler reason", oneLine(*st.sampler->reason));
  t.row("fast_nodes", st.fastNodes.value_or(kUnknown));
  t.row("slow_nodes", st.slowNodes.value_or(kUnknown));
  t.row("quota", quotaText(st));

  const HtierStats& s = st.stats;
  t.section("residency");
  std::string fast = bytes(s.fastResidentBytes);
  if (auto used = quotaUsedShare(st)) fast += ", " + percent(*used) + " of quota";
  t.row("fast", fast);
  t.row("slow", bytes(s.slowResidentBytes));
  if (s.fastResidentBytes && s.slowResidentBytes) {
    uint64_t total = *s.fastResidentBytes + *s.slowResidentBytes;
    std::string v = bytes(total);
    if (total) v += ", " + percent(static_cast<double>(*s.fastResidentBytes) / total) + " fast";
    t.row("managed", v);
  }
  t.row("hot set", bytes(s.hotSetBytes));

  t.section("migration");
  t.row("promoted", pages(s.promotedPages) + ", failed " + num(s.promoteFailed));
  t.row("demoted", pages(s.demotedPages) + ", failed " + num(s.demoteFailed));

  t.section("sampling");
  t.row("samples", num(s.samples));
  std::string hits = num(s.samplesFast) + " fast / " + num(s.samplesSlow) + " slow";
  if (auto share = fastHitShare(s)) hits += ", " + percent(*share) + " fast";
  t.row("hits", hits);
  if (s.hotnessHistogram) {
    const auto& h = *s.hotnessHistogram;
    t.row("hotness", "cold [" + histogramBar(h) + "] hot");
    std::string counts;
    for (uint64_t n : h) counts += (counts.empty() ? "" : " ") + std::to_string(n);
    t.row("  pages/bin", counts.empty() ? "(empty)" : counts);
  } else {
    t.row("hotness", kUnknown);
  }

  if (!st.extra.empty()) {
    auto label = [](const ExtraFile& e) { return e.path + (e.writable ? " (rw)" : ""); };
    size_t width = kLabelWidth;
    for (const auto& e : st.extra) width = std::max(width, label(e).size() + 2);
    t.section("other files", width);
    for (const auto& e : st.extra) t.row(label(e), oneLine(e.value));
  }
  if (!st.errors.empty()) {
    t.section("errors");
    for (const auto& e : st.errors) t.row("!", oneLine(e));
  }
}

template <class T>
json optJson(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

json stateJson(const HtierState& st, const std::string& root) {
  json j;
  j["sysfs_root"] = root;
  j["enabled"] = optJson(st.enabled);
  if (st.sampler) {
    j["sampler"] = {{"active", st.sampler->active}, {"available", st.sampler->available},
                    {"reason", optJson(st.sampler->reason)}};
  } else {
    j["sampler"] = nullptr;
  }
  j["fast_nodes"] = optJson(st.fastNodes);
  j["slow_nodes"] = optJson(st.slowNodes);
  // quota_bytes is null for "max"; quota_unlimited says so explicitly.
  j["quota_bytes"] = (st.quota && !st.quota->unlimited) ? json(st.quota->bytes) : json(nullptr);
  j["quota_unlimited"] = st.quota ? json(st.quota->unlimited) : json(nullptr);

  const HtierStats& s = st.stats;
  j["stats"] = {
      {"fast_resident_bytes", optJson(s.fastResidentBytes)},
      {"slow_resident_bytes", optJson(s.slowResidentBytes)},
      {"hot_set_bytes", optJson(s.hotSetBytes)},
      {"promoted_pages", optJson(s.promotedPages)},
      {"demoted_pages", optJson(s.demotedPages)},
      {"promote_failed", optJson(s.promoteFailed)},
      {"demote_failed", optJson(s.demoteFailed)},
      {"samples", optJson(s.samples)},
      {"samples_fast", optJson(s.samplesFast)},
      {"samples_slow", optJson(s.samplesSlow)},
      {"hotness_histogram", optJson(s.hotnessHistogram)},
  };
  j["derived"] = {{"fast_hit_share", optJson(fastHitShare(s))}, {"quota_used_share", optJson(quotaUsedShare(st))}};

  json extra = json::object();
  for (const auto& e : st.extra) extra[e.path] = e.value;
  j["extra"] = std::move(extra);
  j["errors"] = st.errors;
  return j;
}

}  // namespace

int cmdStatus(CtlContext& ctx, const std::vector<std::string>& args) {
  bool asJson = false;
  for (const auto& a : args) {
    if (a == "--json") {
      asJson = true;
    } else {
      ctx.err << "usage: htierctl status [--json]\n";
      return kExitUsage;
    }
  }
  auto st = readState(ctx.sysfs);
  if (!st) {
    ctx.err << "htierctl: " << st.error().message << "\n";
    return kExitError;
  }
  const std::string root = ctx.sysfs.root().string();
  if (asJson) {
    // error_handler::replace: a module file with invalid UTF-8 must not abort.
    ctx.out << stateJson(*st, root).dump(2, ' ', false, json::error_handler_t::replace) << "\n";
  } else {
    printTable(*st, root, ctx.out);
  }
  return kExitOk;
}

}  // namespace htier::ctl
