// SPDX-License-Identifier: GPL-2.0
#include "agent/textfile.h"

#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <charconv>
#include <filesystem>
#include <set>

#include "common/state.h"

namespace htier::agent {

namespace {

enum class Kind { kGauge, kCounter };

// One stats file: its metric, its type and the factor to base units.  A
// label (e.g. trigger="grew") puts several files in one family; such
// entries are adjacent.
struct StatMetric {
  const char* file;  // under stats/
  const char* name;
  Kind kind;
  double scale;
  const char* help;
  const char* label = nullptr;
};

constexpr double kMilli = 1e-3, kMicro = 1e-6;
constexpr const char* kBoostHelp = "Rounds that triggered the tracking boost, by trigger.";

// guest-kmod/ABI.md, "Statistics".
const StatMetric kStats[] = {
    {"fast_resident_bytes", "htier_fast_resident_bytes", Kind::kGauge, 1, "Managed bytes on the fast nodes."},
    {"slow_resident_bytes", "htier_slow_resident_bytes", Kind::kGauge, 1, "Managed bytes on the slow nodes."},
    {"other_resident_bytes", "htier_other_resident_bytes", Kind::kGauge, 1,
     "Managed bytes on nodes neither fast nor slow."},
    {"hot_set_bytes", "htier_hot_set_bytes", Kind::kGauge, 1, "Bytes classified as hot (fit in the quota)."},
    {"active_bytes", "htier_active_bytes", Kind::kGauge, 1, "Bytes accessed recently at all (the demand)."},
    {"unmovable_bytes", "htier_unmovable_bytes", Kind::kGauge, 1,
     "Memory in scope left where the user placed it (mlock, policies, cpusets)."},
    {"large_folio_bytes", "htier_large_folio_bytes", Kind::kGauge, 1,
     "Memory in scope in PTE-mapped large folios (not moved)."},
    {"table_bytes", "htier_table_bytes", Kind::kGauge, 1, "Memory of the hotness table."},
    {"promoted_pages", "htier_promoted_pages_total", Kind::kCounter, 1, "Base pages moved slow to fast."},
    {"demoted_pages", "htier_demoted_pages_total", Kind::kCounter, 1, "Base pages moved fast to slow."},
    {"promote_failed", "htier_promote_failed_pages_total", Kind::kCounter, 1, "Base pages that could not be promoted."},
    {"demote_failed", "htier_demote_failed_pages_total", Kind::kCounter, 1, "Base pages that could not be demoted."},
    {"samples", "htier_samples_total", Kind::kCounter, 1, "Access samples taken."},
    {"samples_fast", "htier_samples_fast_total", Kind::kCounter, 1, "Access samples that hit a fast node."},
    {"samples_slow", "htier_samples_slow_total", Kind::kCounter, 1, "Access samples that hit a slow node."},
    {"rounds", "htier_rounds_total", Kind::kCounter, 1, "Tracking rounds run."},
    {"full_passes", "htier_full_passes_total", Kind::kCounter, 1,
     "Walks that reached the end of a managed address space."},
    {"aged_rounds", "htier_aged_rounds_total", Kind::kCounter, 1,
     "Rounds that aged the old hot set after it moved."},
    {"sample_windows", "htier_sample_windows_total", Kind::kCounter, 1, "Accessed-bit sampling windows taken."},
    {"thp_split", "htier_thp_split_total", Kind::kCounter, 1, "Transparent huge pages split to be migrated."},
    {"ptes_scanned", "htier_ptes_scanned_total", Kind::kCounter, 1, "PTEs read by the walks."},
    {"pmds_read", "htier_pmds_read_total", Kind::kCounter, 1, "PTE tables (or huge PMDs) read."},
    {"pmds_idle", "htier_pmds_idle_total", Kind::kCounter, 1, "PTE tables skipped: their PMD entry was not accessed."},
    {"lock_yields", "htier_lock_yields_total", Kind::kCounter, 1,
     "Times a walk gave up the mmap lock to a waiting writer."},
    {"table_full", "htier_table_full_regions_total", Kind::kCounter, 1,
     "Regions not tracked: the region index was full."},
    {"migrate_us", "htier_migrate_seconds_total", Kind::kCounter, kMicro, "Time spent migrating."},
    {"track_us_total", "htier_track_seconds_total", Kind::kCounter, kMicro, "Time spent tracking and ranking."},
    {"boost_ms", "htier_boost_seconds_total", Kind::kCounter, kMilli, "Time the tracking budget was boosted."},
    {"boost_grew", "htier_boost_triggers_total", Kind::kCounter, 1, kBoostHelp, "trigger=\"grew\""},
    {"boost_jumped", "htier_boost_triggers_total", Kind::kCounter, 1, kBoostHelp, "trigger=\"jumped\""},
    {"boost_moving", "htier_boost_triggers_total", Kind::kCounter, 1, kBoostHelp, "trigger=\"moving\""},
    {"boost_owed", "htier_boost_triggers_total", Kind::kCounter, 1, kBoostHelp, "trigger=\"owed\""},
    {"tracked_pages", "htier_tracked_pages", Kind::kGauge, 1, "Entries in the hotness table."},
    {"tracked_regions", "htier_tracked_regions", Kind::kGauge, 1, "Regions (2 MiB ranges) in the hotness table."},
    {"owed_pages", "htier_owed_pages", Kind::kGauge, 1, "Slow pages hotter than the hot set's coldest bin."},
    {"managed_processes", "htier_managed_processes", Kind::kGauge, 1, "Address spaces in scope."},
    {"scope_full", "htier_scope_full_processes", Kind::kGauge, 1, "Processes in scope that got no slot."},
    {"coverage_permil", "htier_coverage_ratio", Kind::kGauge, kMilli,
     "Share of the tracked pages the last round's walk covered."},
    {"thread_cpu_permil", "htier_thread_cpu_ratio", Kind::kGauge, kMilli, "CPU time of the htier thread per wall time."},
    {"cpu_permil_now", "htier_cpu_budget_ratio", Kind::kGauge, kMilli,
     "Tracking budget of the last round, in CPUs."},
    {"abit_window_us", "htier_abit_window_seconds", Kind::kGauge, kMicro, "Accessed-bit sampling window in use."},
    {"scan_interval_now_ms", "htier_scan_interval_seconds", Kind::kGauge, kMilli, "Round period in use."},
    {"last_round_us", "htier_last_round_seconds", Kind::kGauge, kMicro, "Duration of the last round."},
    {"last_migrate_us", "htier_last_migrate_seconds", Kind::kGauge, kMicro,
     "Duration of the last round's migration."},
};

const char* typeName(Kind k) { return k == Kind::kCounter ? "counter" : "gauge"; }

std::string number(double v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : "NaN";
}

bool validMetricName(std::string_view s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s)
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '_'))
      return false;
  return true;
}

class Writer {
 public:
  void family(const std::string& name, const char* type, const std::string& help) {
    out_ += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
  }
  void sample(const std::string& name, const std::string& value, const char* label = nullptr) {
    out_ += name;
    if (label) out_ += std::string("{") + label + "}";
    out_ += " " + value + "\n";
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

const SysfsFile* numberFile(const SysfsSnapshot& snap, const std::string& rel, uint64_t& value) {
  auto it = snap.find(rel);
  if (it == snap.end() || it->second.readError) return nullptr;
  auto v = parseU64(it->second.value);
  if (!v) return nullptr;
  value = *v;
  return &it->second;
}

}  // namespace

std::string textfileFromSnapshot(const SysfsSnapshot& snap, const AgentTextfileCounters& agent) {
  Writer w;
  std::set<std::string> known;
  const char* open = nullptr;  // the family whose HELP/TYPE is written
  for (const StatMetric& m : kStats) {
    known.insert(std::string("stats/") + m.file);
    uint64_t v = 0;
    if (!numberFile(snap, std::string("stats/") + m.file, v)) continue;
    if (!open || std::string(open) != m.name) {
      w.family(m.name, typeName(m.kind), m.help);
      open = m.name;
    }
    w.sample(m.name, m.scale == 1 ? std::to_string(v) : number(static_cast<double>(v) * m.scale), m.label);
  }

  if (auto it = snap.find("stats/hotness_histogram"); it != snap.end() && !it->second.readError) {
    known.insert(it->first);
    if (auto bins = parseU64List(it->second.value); bins && !bins->empty()) {
      w.family("htier_hotness_pages", "gauge",
               "Pages per hotness bin: bin 0 heat 0, bin i heat in [2^(i-1), 2^i).");
      for (size_t i = 0; i < bins->size(); i++) {
        std::string label = "bin=\"" + std::to_string(i) + "\"";
        w.sample("htier_hotness_pages", std::to_string((*bins)[i]), label.c_str());
      }
    }
  }

  // Stats this agent does not know yet (a newer module): by their name.
  for (const auto& [rel, file] : snap) {
    if (rel.rfind("stats/", 0) != 0 || known.count(rel)) continue;
    std::string stat = rel.substr(6);
    uint64_t v = 0;
    if (!validMetricName(stat) || !numberFile(snap, rel, v)) continue;
    w.family("htier_" + stat, "untyped", "The module's " + rel + " (not described to this htier-agent).");
    w.sample("htier_" + stat, std::to_string(v));
  }

  if (auto it = snap.find("quota_bytes"); it != snap.end() && !it->second.readError) {
    if (auto q = parseQuota(it->second.value)) {
      w.family("htier_quota_bytes", "gauge", "Most managed bytes kept on the fast nodes (+Inf: no limit).");
      w.sample("htier_quota_bytes", q->unlimited ? "+Inf" : std::to_string(q->bytes));
    }
  }
  uint64_t enabled = 0;
  if (numberFile(snap, "enabled", enabled)) {
    w.family("htier_enabled", "gauge", "1 while tracking and migration run.");
    w.sample("htier_enabled", enabled ? "1" : "0");
  }

  w.family("htier_agent_reports_sent_total", "counter", "Reports htier-agent sent to the host.");
  w.sample("htier_agent_reports_sent_total", std::to_string(agent.reportsSent));
  w.family("htier_agent_quotas_received_total", "counter", "Quotas htier-agent received from the host.");
  w.sample("htier_agent_quotas_received_total", std::to_string(agent.quotasReceived));
  w.family("htier_agent_bad_messages_total", "counter", "Lines from the host htier-agent rejected.");
  w.sample("htier_agent_bad_messages_total", std::to_string(agent.badMessages));
  w.family("htier_agent_host_connected", "gauge", "1 while the host side of the link is connected.");
  w.sample("htier_agent_host_connected", agent.hostConnected ? "1" : "0");
  return w.take();
}

Status writeFileAtomically(const std::string& path, const std::string& text) {
  namespace fs = std::filesystem;
  fs::path target(path);
  fs::path tmp = target.parent_path() / ("." + target.filename().string() + ".tmp");
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Error::fromErrno("cannot create " + tmp.string(), errno);
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = n < 0 ? errno : EIO;
      ::close(fd);
      ::unlink(tmp.c_str());
      return Error::fromErrno("cannot write " + tmp.string(), err);
    }
    done += static_cast<size_t>(n);
  }
  // Durable before it replaces the old file: a crash leaves the old one or
  // the new one, never an empty file under the collector's name.
  int rc = ::fsync(fd);
  int err = errno;
  if (::close(fd) != 0 && rc == 0) {
    rc = -1;
    err = errno;
  }
  if (rc != 0) {
    ::unlink(tmp.c_str());
    return Error::fromErrno("cannot flush " + tmp.string(), err);
  }
  if (::rename(tmp.c_str(), target.c_str()) != 0) {
    err = errno;
    ::unlink(tmp.c_str());
    return Error::fromErrno("cannot rename " + tmp.string() + " to " + path, err);
  }
  return okStatus();
}

}  // namespace htier::agent
