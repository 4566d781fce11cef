// SPDX-License-Identifier: GPL-2.0
// htier-sim: replay a gups workload model or a recorded trace through the
// module's own hotness/policy core and through baseline policies, at a given
// fast-memory capacity.  See README.md.
#include <getopt.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>

#include "report.h"
#include "simulator.h"
#include "workload.h"

namespace {

using namespace htier::sim;

bool parseSize(const std::string& s, uint64_t& out) {
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || v < 0)
    return false;
  uint64_t mul = 1;
  switch (*end) {
  case 'k': case 'K': mul = 1ULL << 10; end++; break;
  case 'm': case 'M': mul = 1ULL << 20; end++; break;
  case 'g': case 'G': mul = 1ULL << 30; end++; break;
  default: break;
  }
  std::string rest(end);
  if (!rest.empty() && rest != "B" && rest != "iB")
    return false;
  out = static_cast<uint64_t>(v * static_cast<double>(mul));
  return true;
}

bool parseNumber(const std::string& s, double& out) {
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return end != s.c_str() && *end == 0 && std::isfinite(out);
}

void usage(std::FILE* f) {
  std::fprintf(f,
"usage: htier-sim [options]\n"
"Replays an access stream through htier's own core (guest-kmod/core) and\n"
"through baseline policies at a given fast-memory capacity; prints the\n"
"fast-hit share, pages migrated, time to bring the hot set in and a modeled\n"
"memory time per policy.\n"
"\n"
"workload (the gups models; sizes take K/M/G):\n"
"  --model M           hotset | scattered | uniform | zipf (hotset)\n"
"  --size BYTES        region (512M)      --hot BYTES    hot set (64M)\n"
"  --weight W          hot page update weight (9)\n"
"  --zipf-theta T      (0.99)             --seed N       (1)\n"
"  --rate N            updates per second (2e6)\n"
"  --duration SECS     (60)               --shift-at SECS  move the hot set\n"
"  --trace FILE        replay a recorded trace instead (\"t_ms vpn count\")\n"
"system:\n"
"  --fast-capacity BYTES  fast memory for the workload / htier quota (128M)\n"
"  --initial P         where pages start: slow | fast-first (slow)\n"
"  --epoch-ms MS       accessed-bit scan interval (500, the module's)\n"
"  --batch PAGES       most pages per direction per epoch (4096)\n"
"  --cool-every N      cool every N epochs (8)  --cool-shift S (1)\n"
"  --pebs-period N     accesses per PEBS-like sample drawn (199); htier-pebs\n"
"                      thins them to its tuned period (never below this)\n"
"  --pebs-cpu-permil N htier-pebs: sampling budget per CPU, HTIER_PEBS_SAMPLE_\n"
"                      COST_NS a sample, the period tuned as the module does\n"
"                      (10, the module's pebs_cpu_permil; 0: no budget, every\n"
"                      drawn sample)\n"
"  --cpus N            CPUs the workload's accesses are sampled on (1)\n"
"  --tpp-window N      TPP re-access window in epochs (2)\n"
"  --min-promote-bin B htier: never promote colder than heat bin B (2)\n"
"  --exchange-gap G    htier: exchange only with pages G bins colder (2)\n"
"  --exchange-top P    htier: exchange only pages in the hottest P permil of\n"
"                      the quota (250, the module's; 0: any)\n"
"  --exchange-recent B htier (accessed-bit samplers): an exchange promotes only\n"
"                      pages found accessed at their last sample (1, the\n"
"                      module's; 0: any)\n"
"  --scan-max-ms MS    htier: period back-off limit while stable (4000;\n"
"                      <= --epoch-ms: fixed period)\n"
"  --abit-window-ms MS htier: fixed accessed-bit window (0: tuned)\n"
"  --age-rounds N      htier (accessed-bit samplers): rounds after a jump in\n"
"                      slow accesses whose samples halve unused pages' heat\n"
"                      (4, the module's; 0: off)\n"
"  --pebs-jump-cool N  htier-pebs: extra cooling steps at such a jump (3, the\n"
"                      module's; 0: off)\n"
"  --pebs-min-samples N htier-pebs: promote pages with N samples' heat (1, the\n"
"                      module's HTIER_PEBS_MIN_PROMOTE_BIN)\n"
"  --pebs-cool-samples K htier-pebs: cool no sooner than every --cool-every\n"
"                      rounds, and then once the samples since the last\n"
"                      cooling reach K per quota page, or after 8 periods (2,\n"
"                      the module's; 0: every --cool-every rounds)\n"
"  --spread B          htier-pebs: a region whose samples fall evenly ranks its\n"
"                      pages at least at their 256 KiB block's mean (1, the\n"
"                      module's; 0: each page by its own samples)\n"
"  --cool-by-time      htier variant: cool every 8 base periods of elapsed\n"
"                      time instead of every 8 rounds (the module)\n"
"  --migrate-us US     modeled cost per migrated page (2)\n"
"  --policies LIST     comma-separated subset of: first-touch,tpp,memtis,\n"
"                      htier,htier-abit1,htier-pebs,oracle (all)\n"
"output:\n"
"  --json              one JSON document instead of the table\n"
"  --timeline          include per-epoch hit share / hot-on-fast in JSON\n"
"\n"
"examples:\n"
"  htier-sim --model scattered --hot 16M --fast-capacity 64M\n"
"  htier-sim --model hotset --shift-at 30 --duration 60 --json\n"
"  htier-sim --trace run.trace --fast-capacity 256M\n");
}

}  // namespace

int main(int argc, char** argv) {
  ModelParams mp;
  SimConfig cfg;
  uint64_t capacity = 128ULL << 20;
  std::string trace;
  bool json = false;

  enum {
    kModel = 256, kSize, kHot, kWeight, kTheta, kSeed, kRate, kDuration,
    kShift, kTrace, kCapacity, kInitial, kEpoch, kBatch, kCoolEvery,
    kCoolShift, kPebs, kTppWindow, kMinBin, kMigrate, kPolicies, kJson, kTimeline,
    kHelp, kGap, kXTop, kXRecent, kScanMax, kWindow, kCoolTime, kAgeRounds, kPebsJumpCool, kSpread, kPebsPermil, kCpus,
    kPebsMinSamples, kPebsCoolSamples
  };
  static const option longopts[] = {
      {"model", required_argument, nullptr, kModel},
      {"size", required_argument, nullptr, kSize},
      {"hot", required_argument, nullptr, kHot},
      {"weight", required_argument, nullptr, kWeight},
      {"zipf-theta", required_argument, nullptr, kTheta},
      {"seed", required_argument, nullptr, kSeed},
      {"rate", required_argument, nullptr, kRate},
      {"duration", required_argument, nullptr, kDuration},
      {"shift-at", required_argument, nullptr, kShift},
      {"trace", required_argument, nullptr, kTrace},
      {"fast-capacity", required_argument, nullptr, kCapacity},
      {"initial", required_argument, nullptr, kInitial},
      {"epoch-ms", required_argument, nullptr, kEpoch},
      {"batch", required_argument, nullptr, kBatch},
      {"cool-every", required_argument, nullptr, kCoolEvery},
      {"cool-shift", required_argument, nullptr, kCoolShift},
      {"pebs-period", required_argument, nullptr, kPebs},
      {"tpp-window", required_argument, nullptr, kTppWindow},
      {"min-promote-bin", required_argument, nullptr, kMinBin},
      {"migrate-us", required_argument, nullptr, kMigrate},
      {"policies", required_argument, nullptr, kPolicies},
      {"json", no_argument, nullptr, kJson},
      {"timeline", no_argument, nullptr, kTimeline},
      {"help", no_argument, nullptr, kHelp},
      {"exchange-gap", required_argument, nullptr, kGap},
      {"exchange-top", required_argument, nullptr, kXTop},
      {"exchange-recent", required_argument, nullptr, kXRecent},
      {"scan-max-ms", required_argument, nullptr, kScanMax},
      {"abit-window-ms", required_argument, nullptr, kWindow},
      {"cool-by-time", no_argument, nullptr, kCoolTime},
      {"age-rounds", required_argument, nullptr, kAgeRounds},
      {"pebs-jump-cool", required_argument, nullptr, kPebsJumpCool},
      {"spread", required_argument, nullptr, kSpread},
      {"pebs-cpu-permil", required_argument, nullptr, kPebsPermil},
      {"cpus", required_argument, nullptr, kCpus},
      {"pebs-min-samples", required_argument, nullptr, kPebsMinSamples},
      {"pebs-cool-samples", required_argument, nullptr, kPebsCoolSamples},
      {nullptr, 0, nullptr, 0},
  };
  int c;
  while ((c = getopt_long(argc, argv, "h", longopts, nullptr)) != -1) {
    std::string a = optarg ? optarg : "";
    double d = 0;
    bool ok = true;
    switch (c) {
    case kModel: {
      auto m = parseModel(a);
      ok = m.has_value();
      if (ok)
        mp.model = *m;
      break;
    }
    case kSize: ok = parseSize(a, mp.sizeBytes); break;
    case kHot: ok = parseSize(a, mp.hotBytes); break;
    case kWeight: ok = parseNumber(a, mp.weight) && mp.weight > 0; break;
    case kTheta: ok = parseNumber(a, mp.zipfTheta) && mp.zipfTheta > 0; break;
    case kSeed:
      ok = parseNumber(a, d) && d >= 0;
      mp.seed = cfg.seed = static_cast<uint64_t>(d);
      break;
    case kRate: ok = parseNumber(a, mp.updatesPerSecond) && mp.updatesPerSecond > 0; break;
    case kDuration: ok = parseNumber(a, mp.durationS) && mp.durationS > 0; break;
    case kShift: ok = parseNumber(a, mp.shiftAtS) && mp.shiftAtS >= 0; break;
    case kTrace: trace = a; break;
    case kCapacity: ok = parseSize(a, capacity); break;
    case kInitial:
      ok = a == "slow" || a == "fast-first";
      cfg.policy.initial = a == "slow" ? Initial::Slow : Initial::FastFirst;
      break;
    case kEpoch: ok = parseNumber(a, cfg.epochMs) && cfg.epochMs > 0; break;
    case kBatch:
      ok = parseNumber(a, d) && d >= 1;
      cfg.policy.batchPages = static_cast<uint64_t>(d);
      break;
    case kCoolEvery:
      ok = parseNumber(a, d) && d >= 1;
      cfg.policy.coolEveryEpochs = static_cast<uint32_t>(d);
      break;
    case kCoolShift:
      ok = parseNumber(a, d) && d >= 0 && d < 16;
      cfg.policy.coolShift = static_cast<uint32_t>(d);
      break;
    case kPebs: ok = parseNumber(a, cfg.pebsPeriod) && cfg.pebsPeriod >= 1; break;
    case kTppWindow:
      ok = parseNumber(a, d) && d >= 1;
      cfg.policy.tppWindowEpochs = static_cast<uint32_t>(d);
      break;
    case kMinBin:
      ok = parseNumber(a, d) && d >= 1 && d < 16;
      cfg.policy.minPromoteBin = static_cast<uint32_t>(d);
      break;
    case kGap:
      ok = parseNumber(a, d) && d >= 1 && d < 16;
      cfg.policy.exchangeGap = static_cast<uint32_t>(d);
      break;
    case kXTop:
      ok = parseNumber(a, d) && d >= 0 && d <= 1000;
      cfg.policy.exchangeTopPermil = static_cast<uint32_t>(d);
      break;
    case kXRecent:
      ok = parseNumber(a, d) && (d == 0 || d == 1);
      cfg.policy.exchangeRecent = d == 1;
      break;
    case kScanMax: ok = parseNumber(a, cfg.policy.scanMaxMs) && cfg.policy.scanMaxMs >= 0; break;
    case kWindow: ok = parseNumber(a, cfg.policy.abitWindowMs) && cfg.policy.abitWindowMs >= 0; break;
    case kCoolTime: cfg.policy.coolByTime = true; break;
    case kAgeRounds:
      ok = parseNumber(a, d) && d >= 0 && d <= 64 && d == static_cast<uint32_t>(d);
      cfg.policy.ageRounds = static_cast<uint32_t>(d);
      break;
    case kPebsJumpCool:
      ok = parseNumber(a, d) && d >= 0 && d <= 15 && d == static_cast<uint32_t>(d);
      cfg.policy.pebsJumpCool = static_cast<uint32_t>(d);
      break;
    case kPebsPermil:
      ok = parseNumber(a, d) && d >= 0 && d <= 500 && d == static_cast<uint32_t>(d);
      cfg.policy.pebsCpuPermil = static_cast<uint32_t>(d);
      break;
    case kCpus:
      ok = parseNumber(a, d) && d >= 1 && d <= 4096 && d == static_cast<uint32_t>(d);
      cfg.policy.cpus = static_cast<uint32_t>(d);
      break;
    case kPebsMinSamples:
      ok = parseNumber(a, d) && d >= 1 && d <= 8 && d == static_cast<uint32_t>(d);
      cfg.policy.pebsMinSamples = static_cast<uint32_t>(d);
      break;
    case kPebsCoolSamples:
      ok = parseNumber(a, d) && d >= 0 && d <= 64 && d == static_cast<uint32_t>(d);
      cfg.policy.pebsCoolSamples = static_cast<uint32_t>(d);
      break;
    case kSpread:
      ok = parseNumber(a, d) && (d == 0 || d == 1);
      cfg.policy.spread = d == 1;
      break;
    case kMigrate: ok = parseNumber(a, cfg.migrateUsPerPage) && cfg.migrateUsPerPage >= 0; break;
    case kPolicies: {
      std::stringstream ss(a);
      std::string name;
      auto known = policyNames();
      while (std::getline(ss, name, ',')) {
        if (std::find(known.begin(), known.end(), name) == known.end()) {
          std::fprintf(stderr, "htier-sim: unknown policy %s\n", name.c_str());
          return 2;
        }
        cfg.policies.push_back(name);
      }
      break;
    }
    case kJson: json = true; break;
    case kTimeline: cfg.timeline = true; break;
    case 'h':
    case kHelp: usage(stdout); return 0;
    default: usage(stderr); return 2;
    }
    if (!ok) {
      std::fprintf(stderr, "htier-sim: bad value \"%s\" for --%s\n", a.c_str(),
                   longopts[c - kModel].name);
      return 2;
    }
  }
  if (optind < argc) {
    std::fprintf(stderr, "htier-sim: unexpected argument %s\n", argv[optind]);
    return 2;
  }
  mp.epochMs = cfg.epochMs;
  cfg.policy.capacityPages = capacity / 4096;

  std::unique_ptr<AccessSource> source;
  try {
    if (!trace.empty())
      source = std::make_unique<TraceSource>(trace, cfg.epochMs);
    else
      source = std::make_unique<ModelSource>(mp);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "htier-sim: %s\n", e.what());
    return 1;
  }
  SimResult r = simulate(*source, cfg);
  if (json)
    writeJson(std::cout, r, cfg);
  else
    writeTable(std::cout, r, cfg);
  return 0;
}
