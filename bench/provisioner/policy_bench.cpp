// SPDX-License-Identifier: GPL-2.0
//
// Policy decision time of htier-provisiond for 10 / 100 / 1,000 VMs (issue
// 3's goal: <= 1 ms at 1,000), with Google Benchmark:
//
//   BM_Allocate/<policy>/<vms>/<points>  Policy::allocate() alone
//   BM_Decision/<vms>/<points>          utility allocate + Stabilizer: the
//                                       computation Engine::runPolicy does
//   BM_EngineTick/<vms>/<points>        a whole Engine::tick() with the
//                                       policy forced to run over every VM's
//                                       current report (ingested once; the
//                                       engine thins curves to 32 points)
//   BM_SimplifyCurve/<points>           that thinning, once per report
//                                       and the policy forced to run: demand
//                                       translation, policy, stabilizer,
//                                       enforcement bookkeeping (in-memory
//                                       fake QMP and guest links, no I/O)
//
// Inputs: VMs with generated agent-like curves (bench/provisioner/demand.h),
// 75% active, min 0..256 MiB, max 4 GiB, capacity 40% of the total demand.
#include <benchmark/benchmark.h>

#include <map>
#include <random>

#include "demand.h"
#include "engine/Engine.h"
#include "policy/PolicyRegistry.h"
#include "policy/Stabilizer.h"
#include "util/Log.h"

using namespace htier;
using namespace htier::bench;

namespace {

constexpr uint64_t kBlock = 2 * kMiB;

std::vector<Phase> phases(int n, uint32_t seed) {
  TraceParams tp;
  tp.vms = n;
  tp.epochs = 1;
  auto t = makeTrace(tp, seed);
  return t[0];
}

PolicyInput makeInput(int n, int points, uint32_t seed = 1) {
  PolicyInput in;
  std::mt19937 rng(seed);
  uint64_t demand = 0;
  auto ph = phases(n, seed);
  for (int i = 0; i < n; i++) {
    VmDemand d;
    d.name = "vm" + std::to_string(i);
    d.blockBytes = kBlock;
    d.floorBytes = (rng() % 129) * kBlock;  // 0..256 MiB
    d.ceilingBytes = 4 * kGiB;
    d.weight = 1 + rng() % 4;
    d.curve = curveOf(ph[i], points);
    d.hasDemand = ph[i].active;
    d.hotSetBytes = ph[i].active ? ph[i].accessedBytes : 0;
    d.currentBytes = d.floorBytes;
    demand += std::max(d.floorBytes, d.hotSetBytes);
    in.vms.push_back(std::move(d));
  }
  uint64_t floors = 0;
  for (const auto& d : in.vms)
    floors += d.floorBytes;
  in.capacityBytes = std::max(floors, alignDown(demand * 4 / 10, kBlock));
  return in;
}

void BM_Allocate(benchmark::State& state, const std::string& policy) {
  auto p = makePolicy(policy);
  PolicyInput in = makeInput(static_cast<int>(state.range(0)),
                             static_cast<int>(state.range(1)));
  for (auto _ : state) {
    auto q = p->allocate(in);
    benchmark::DoNotOptimize(q.data());
  }
  state.counters["vms"] = static_cast<double>(state.range(0));
}

void BM_Decision(benchmark::State& state) {
  auto p = makePolicy("utility");
  PolicyInput in = makeInput(static_cast<int>(state.range(0)),
                             static_cast<int>(state.range(1)));
  std::vector<StabilizerVm> sv(in.vms.size());
  Millis now = 100000;
  for (auto _ : state) {
    auto q = p->allocate(in);
    for (size_t k = 0; k < in.vms.size(); k++)
      sv[k] = {in.vms[k].currentBytes, q[k].bytes, in.vms[k].floorBytes,
               in.vms[k].ceilingBytes, kBlock, now - 10000, true};
    auto next = stabilize(in.capacityBytes, sv, now, {5000, 32 * kMiB});
    benchmark::DoNotOptimize(next.data());
  }
}

// ---- a whole engine tick over in-memory VMs --------------------------------

class MemVm : public VmControl {
 public:
  explicit MemVm(uint64_t size) { info_ = {kBlock, 4 * kGiB, size, size}; }
  Status connect() override { return okStatus(); }
  bool connected() const override { return true; }
  Maybe<DeviceInfo> describe(const std::string&) override { return info_; }
  Maybe<uint64_t> size(const std::string&) override {
    info_.sizeBytes = info_.requestedBytes;  // plugs/unplugs at once
    return info_.sizeBytes;
  }
  Maybe<uint64_t> requestedSize(const std::string&) override {
    return info_.requestedBytes;
  }
  Status setRequestedSize(const std::string&, uint64_t bytes) override {
    info_.requestedBytes = bytes;
    return okStatus();
  }

 private:
  DeviceInfo info_;
};

class MemLink : public GuestChannel {
 public:
  MemLink() { counters_.connects = 1; }
  void poll(Millis) override {}
  std::optional<GuestReport> takeReport() override {
    if (!fresh)
      return std::nullopt;
    fresh = false;
    return report;
  }
  Status sendQuota(uint64_t, uint64_t) override { return okStatus(); }
  bool connected() const override { return true; }
  const LinkCounters& counters() const override { return counters_; }
  std::string lastProblem() const override { return ""; }
  GuestReport report;
  bool fresh = true;

 private:
  LinkCounters counters_;
};

void BM_EngineTick(benchmark::State& state) {
  setLogLevel(LogLevel::kError);  // quota changes are logged at info
  const int n = static_cast<int>(state.range(0));
  PolicyInput in = makeInput(n, static_cast<int>(state.range(1)));
  Config cfg;
  cfg.fastCapacityBytes = in.capacityBytes;
  cfg.holdMs = 0;
  cfg.hysteresisBytes = 0;
  cfg.reportStaleMs = 1000LL * 1000 * 1000 * 1000;  // reports stay current
  std::vector<VmPorts> ports;
  for (int i = 0; i < n; i++) {
    VmConfig vc;
    vc.name = in.vms[i].name;
    vc.fastDevice = "vm0";
    vc.minFastBytes = in.vms[i].floorBytes;
    vc.maxFastBytes = 4 * kGiB;
    cfg.vms.push_back(vc);
    auto link = std::make_unique<MemLink>();
    link->report.curve = in.vms[i].curve;
    link->report.hotSetBytes = in.vms[i].hotSetBytes;
    link->report.fastResidentBytes = in.vms[i].hotSetBytes;
    ports.push_back({runInline(std::make_unique<MemVm>(in.vms[i].floorBytes)),
                     std::move(link)});
  }
  Millis now = 0;
  Engine engine(cfg, makePolicy("utility"), std::move(ports),
                [&now] { return now; });
  for (int i = 0; i < 5; i++) {  // adopt, first reports, first quotas
    engine.runPolicyNow();
    engine.tick();
    now += 1000;
  }
  for (auto _ : state) {
    engine.runPolicyNow();
    engine.tick();
    now += 1000;
  }
}

void BM_SimplifyCurve(benchmark::State& state) {
  Phase p{true, 512 * kMiB, 0.9};
  auto c = curveOf(p, static_cast<int>(state.range(0)));
  for (auto _ : state) {
    auto s = simplifyCurve(c, 32);
    benchmark::DoNotOptimize(s.data());
  }
}

const std::vector<int64_t> kVms = {10, 100, 1000};

}  // namespace

int main(int argc, char** argv) {
  for (const auto& info : policyRegistry())
    for (int64_t n : kVms)
      benchmark::RegisterBenchmark(
          ("BM_Allocate/" + info.name).c_str(),
          [name = info.name](benchmark::State& s) { BM_Allocate(s, name); })
          ->Args({n, 17})
          ->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("BM_Allocate/utility",
                               [](benchmark::State& s) {
                                 BM_Allocate(s, "utility");
                               })
      ->Args({1000, 256})
      ->Unit(benchmark::kMicrosecond);
  for (int64_t n : kVms)
    benchmark::RegisterBenchmark("BM_Decision", BM_Decision)
        ->Args({n, 17})
        ->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("BM_Decision", BM_Decision)
      ->Args({1000, 256})
      ->Unit(benchmark::kMicrosecond);
  for (int64_t n : kVms)
    benchmark::RegisterBenchmark("BM_EngineTick", BM_EngineTick)
        ->Args({n, 17})
        ->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("BM_EngineTick", BM_EngineTick)
      ->Args({1000, 256})
      ->Unit(benchmark::kMicrosecond);
  for (int64_t p : {17, 256})
    benchmark::RegisterBenchmark("BM_SimplifyCurve", BM_SimplifyCurve)
        ->Arg(p)
        ->Unit(benchmark::kMicrosecond);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv))
    return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
