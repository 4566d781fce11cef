// SPDX-License-Identifier: GPL-2.0
#include "report.h"

#include <algorithm>
#include <cstdio>
#include <string>

namespace htier::sim {

namespace {

std::string jsonString(const std::string& s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      o += '\\';
      o += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      o += buf;
    } else {
      o += c;
    }
  }
  return o + "\"";
}

std::string num(double v, int prec = 6) {
  if (v < 0)
    return "null";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*g", prec, v);
  return buf;
}

double oracleShare(const SimResult& r) {
  for (const auto& p : r.policies)
    if (p.name == "oracle")
      return p.hitShare();
  return -1;
}

const char* initialName(Initial i) {
  return i == Initial::Slow ? "slow" : "fast-first";
}

}  // namespace

void writeTable(std::ostream& out, const SimResult& r, const SimConfig& cfg) {
  char line[512];
  out << "# " << r.workload << "\n";
  std::snprintf(line, sizeof(line),
                "# fast capacity %llu MiB, epoch %g ms, batch %llu pages, "
                "cool every %u, initial %s, PEBS period %g, migration %g us/page\n",
                static_cast<unsigned long long>(cfg.policy.capacityPages * 4096 >> 20),
                cfg.epochMs, static_cast<unsigned long long>(cfg.policy.batchPages),
                cfg.policy.coolEveryEpochs, initialName(cfg.policy.initial),
                cfg.pebsPeriod, cfg.migrateUsPerPage);
  out << line;
  std::string timeCols;
  for (const auto& l : cfg.latencies) {
    std::snprintf(line, sizeof(line), " %14s", ("time_" + l.name + "_s").c_str());
    timeCols += line;
  }
  std::snprintf(line, sizeof(line), "%-12s %8s %9s %10s %10s %7s %10s%s\n",
                "policy", "fast_hit", "vs_oracle", "promoted", "demoted",
                "t90_s", "t90_shift", timeCols.c_str());
  out << line;
  const double best = oracleShare(r);
  auto secs = [](double v) { return v < 0 ? std::string("-") : num(v, 4); };
  for (const auto& p : r.policies) {
    std::string times;
    for (size_t i = 0; i < p.timeS.size(); i++) {
      std::snprintf(line, sizeof(line), " %8.3f (x%.2f)", p.timeS[i],
                    r.allFastS[i] > 0 ? p.timeS[i] / r.allFastS[i] : 0);
      times += line;
    }
    std::snprintf(line, sizeof(line), "%-12s %7.2f%% %8.1f%% %10llu %10llu %7s %10s%s\n",
                  p.name.c_str(), 100 * p.hitShare(),
                  best > 0 ? 100 * p.hitShare() / best : 0,
                  static_cast<unsigned long long>(p.promoted),
                  static_cast<unsigned long long>(p.demoted),
                  r.hasHotSet ? secs(p.t90S).c_str() : "n/a",
                  r.hasShift ? secs(p.t90AfterShiftS).c_str() : "n/a", times.c_str());
    out << line;
  }
  for (const auto& p : r.policies)
    if (!p.detail.empty())
      out << "# " << p.name << ": " << p.detail << "\n";
  std::string allFast;
  for (size_t i = 0; i < r.allFastS.size(); i++) {
    std::snprintf(line, sizeof(line), " %s %.3f s", cfg.latencies[i].name.c_str(),
                  r.allFastS[i]);
    allFast += line;
  }
  out << "# time = accesses x latency (fast/slow ns:";
  for (const auto& l : cfg.latencies)
    out << " " << l.name << " " << l.fastNs << "/" << l.slowNs;
  out << ") + migrated pages x " << cfg.migrateUsPerPage
      << " us; all accesses fast:" << allFast << "\n";
}

void writeJson(std::ostream& out, const SimResult& r, const SimConfig& cfg) {
  out << "{\"workload\":" << jsonString(r.workload) << ",\"pages\":" << r.pages
      << ",\"epochs\":" << r.epochs << ",\"config\":{\"fast_capacity_pages\":"
      << cfg.policy.capacityPages << ",\"epoch_ms\":" << num(cfg.epochMs)
      << ",\"batch_pages\":" << cfg.policy.batchPages
      << ",\"cool_every_epochs\":" << cfg.policy.coolEveryEpochs
      << ",\"cool_shift\":" << cfg.policy.coolShift << ",\"initial\":\""
      << initialName(cfg.policy.initial) << "\",\"pebs_period\":" << num(cfg.pebsPeriod)
      << ",\"tpp_window_epochs\":" << cfg.policy.tppWindowEpochs
      << ",\"min_promote_bin\":" << cfg.policy.minPromoteBin
      << ",\"exchange_gap\":" << cfg.policy.exchangeGap
      << ",\"exchange_top_permil\":" << cfg.policy.exchangeTopPermil
      << ",\"exchange_recent\":" << (cfg.policy.exchangeRecent ? "true" : "false")
      << ",\"scan_max_ms\":" << num(cfg.policy.scanMaxMs)
      << ",\"abit_window_ms\":" << num(cfg.policy.abitWindowMs)
      << ",\"cool_by_time\":" << (cfg.policy.coolByTime ? "true" : "false")
      << ",\"age_rounds\":" << cfg.policy.ageRounds
      << ",\"pebs_jump_cool\":" << cfg.policy.pebsJumpCool
      << ",\"pebs_min_samples\":" << cfg.policy.pebsMinSamples
      << ",\"pebs_cool_samples\":" << cfg.policy.pebsCoolSamples
      << ",\"spread\":" << (cfg.policy.spread ? "true" : "false")
      << ",\"pebs_cpu_permil\":" << cfg.policy.pebsCpuPermil
      << ",\"cpus\":" << cfg.policy.cpus
      << ",\"migrate_us_per_page\":" << num(cfg.migrateUsPerPage) << ",\"latencies\":[";
  for (size_t i = 0; i < cfg.latencies.size(); i++)
    out << (i ? "," : "") << "{\"name\":" << jsonString(cfg.latencies[i].name)
        << ",\"fast_ns\":" << num(cfg.latencies[i].fastNs)
        << ",\"slow_ns\":" << num(cfg.latencies[i].slowNs) << "}";
  out << "]},\"all_fast_time_s\":{";
  for (size_t i = 0; i < r.allFastS.size(); i++)
    out << (i ? "," : "") << jsonString(cfg.latencies[i].name) << ":" << num(r.allFastS[i]);
  out << "},\"policies\":[";
  const double best = oracleShare(r);
  for (size_t k = 0; k < r.policies.size(); k++) {
    const auto& p = r.policies[k];
    out << (k ? "," : "") << "\n{\"name\":" << jsonString(p.name)
        << ",\"fast_hit_share\":" << num(p.hitShare())
        << ",\"vs_oracle\":" << (best > 0 ? num(p.hitShare() / best) : "null")
        << ",\"accesses\":" << num(p.accesses, 12) << ",\"promoted\":" << p.promoted
        << ",\"demoted\":" << p.demoted << ",\"migrated\":" << p.migrated()
        << ",\"detail\":" << jsonString(p.detail)
        << ",\"t90_s\":" << num(p.t90S) << ",\"t90_after_shift_s\":" << num(p.t90AfterShiftS)
        << ",\"steady_moved_per_s\":" << num(p.steadyMovedPerS)
        << ",\"time_s\":{";
    for (size_t i = 0; i < p.timeS.size(); i++)
      out << (i ? "," : "") << jsonString(cfg.latencies[i].name) << ":" << num(p.timeS[i]);
    out << "}";
    if (cfg.timeline) {
      out << ",\"timeline\":[";
      for (size_t i = 0; i < p.timeline.size(); i++) {
        const auto& t = p.timeline[i];
        out << (i ? "," : "") << "[" << num(t.tS) << "," << num(t.hitShare, 4) << ","
            << num(t.hotOnFast, 4) << "]";
      }
      out << "]";
    }
    out << "}";
  }
  out << "\n]}\n";
}

}  // namespace htier::sim
