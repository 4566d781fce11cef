// SPDX-License-Identifier: GPL-2.0
#include "status/Metrics.h"

#include <functional>
#include <mutex>
#include <optional>

#include "engine/VmRuntime.h"
#include "link/Message.h"

#ifdef HTIER_HAVE_PROMETHEUS
#include <prometheus/collectable.h>
#include <prometheus/exposer.h>
#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>
#endif

namespace htier {

#ifdef HTIER_HAVE_PROMETHEUS

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
using Labels = std::vector<ClientMetric::Label>;

constexpr MetricType kGauge = MetricType::Gauge;
constexpr MetricType kCounter = MetricType::Counter;

double num(uint64_t v) {
  return static_cast<double>(v);
}

double flag(bool b) {
  return b ? 1 : 0;
}

ClientMetric sample(MetricType type, double value, Labels labels) {
  ClientMetric m;
  m.label = std::move(labels);
  if (type == kCounter)
    m.counter.value = value;
  else
    m.gauge.value = value;
  return m;
}

MetricFamily family(const char* name, const char* help, MetricType type) {
  MetricFamily f;
  f.name = name;
  f.help = help;
  f.type = type;
  return f;
}

// One series per VM; no series where value() has nothing to say (no slow
// device, no report yet).
struct VmMetric {
  const char* name;
  const char* help;
  MetricType type;
  std::function<std::optional<double>(const VmStatus&)> value;
};

const std::vector<VmMetric>& vmMetrics() {
  using V = const VmStatus&;
  auto report = [](V v, uint64_t x) -> std::optional<double> {
    return v.hasReport ? std::optional<double>(num(x)) : std::nullopt;
  };
  static const std::vector<VmMetric> metrics = {
      {"htier_provisiond_vm_quota_bytes",
       "Fast memory the policy gives the VM (the target of its fast "
       "virtio-mem device).",
       kGauge, [](V v) { return num(v.quotaBytes); }},
      {"htier_provisiond_vm_fast_requested_bytes",
       "requested-size of the VM's fast virtio-mem device.", kGauge,
       [](V v) { return num(v.requestedBytes); }},
      {"htier_provisiond_vm_fast_plugged_bytes",
       "Size of the VM's fast virtio-mem device (what the guest has "
       "plugged).",
       kGauge, [](V v) { return num(v.pluggedBytes); }},
      {"htier_provisiond_vm_fast_charged_bytes",
       "Host fast memory counted against the capacity for the VM.", kGauge,
       [](V v) { return num(v.chargedBytes); }},
      {"htier_provisiond_vm_fast_device_max_bytes",
       "Most the VM's fast virtio-mem device can hold (its backend size).",
       kGauge, [](V v) { return num(v.deviceMaxBytes); }},
      {"htier_provisiond_vm_min_fast_bytes",
       "The VM's guarantee (min_fast_bytes).", kGauge,
       [](V v) { return num(v.minFastBytes); }},
      {"htier_provisiond_vm_max_fast_bytes", "The VM's cap (max_fast_bytes).",
       kGauge, [](V v) { return num(v.maxFastBytes); }},
      {"htier_provisiond_vm_weight", "The VM's weight.", kGauge,
       [](V v) { return v.weight; }},
      {"htier_provisiond_vm_slow_requested_bytes",
       "requested-size of the VM's slow virtio-mem device.", kGauge,
       [](V v) -> std::optional<double> {
         if (!v.slowRequestedBytes)
           return std::nullopt;
         return num(*v.slowRequestedBytes);
       }},
      {"htier_provisiond_vm_slow_plugged_bytes",
       "Size of the VM's slow virtio-mem device.", kGauge,
       [](V v) -> std::optional<double> {
         if (!v.slowPluggedBytes)
           return std::nullopt;
         return num(*v.slowPluggedBytes);
       }},
      {"htier_provisiond_vm_stuck",
       "1 while the guest cannot unplug (size above requested-size with no "
       "progress).",
       kGauge, [](V v) { return flag(v.stuck); }},
      {"htier_provisiond_vm_shrink_pending",
       "1 while a shrink has been announced to the guest and not yet "
       "applied.",
       kGauge, [](V v) { return flag(v.shrinkPending); }},
      {"htier_provisiond_vm_awaiting_report",
       "1 while the VM is pinned at its size, waiting for a first guest "
       "report.",
       kGauge, [](V v) { return flag(v.awaitingReport); }},
      {"htier_provisiond_vm_guest_link_up",
       "1 while the guest link (org.htier.0) is connected.", kGauge,
       [](V v) { return flag(v.linkConnected); }},
      {"htier_provisiond_vm_guest_hot_set_bytes",
       "Hot set the guest reported last (its demand for fast memory).", kGauge,
       [=](V v) { return report(v, v.hotSetBytes); }},
      {"htier_provisiond_vm_guest_fast_resident_bytes",
       "Managed memory the guest reported on its fast node.", kGauge,
       [=](V v) { return report(v, v.fastResidentBytes); }},
      {"htier_provisiond_vm_guest_slow_resident_bytes",
       "Managed memory the guest reported on its slow node.", kGauge,
       [=](V v) { return report(v, v.slowResidentBytes); }},
      {"htier_provisiond_vm_guest_report_age_seconds",
       "Time since the guest's last accepted report.", kGauge,
       [](V v) -> std::optional<double> {
         if (!v.hasReport || v.reportAgeMs < 0)
           return std::nullopt;
         return static_cast<double>(v.reportAgeMs) / 1000.0;
       }},
      {"htier_provisiond_vm_guest_reports_total", "Guest reports accepted.",
       kCounter, [](V v) { return num(v.reports); }},
      {"htier_provisiond_vm_guest_curves_dropped_total",
       "Guest reports kept without their malformed curve.", kCounter,
       [](V v) { return num(v.curvesDropped); }},
      {"htier_provisiond_vm_decisions_total",
       "Times the policy changed the VM's quota.", kCounter,
       [](V v) { return num(v.decisions); }},
      {"htier_provisiond_vm_resizes_total",
       "qom-sets of a virtio-mem device's requested-size that QEMU "
       "confirmed.",
       kCounter, [](V v) { return num(v.resizes); }},
      {"htier_provisiond_vm_qmp_errors_total",
       "Failed QMP connects and commands.", kCounter,
       [](V v) { return num(v.qmpErrors); }},
      {"htier_provisiond_vm_size_events_total",
       "Memory-device size-change events received from libvirt (libvirt "
       "VMs only).",
       kCounter,
       [](V v) -> std::optional<double> {
         if (!v.sizeEvents)
           return std::nullopt;
         return num(*v.sizeEvents);
       }},
  };
  return metrics;
}

std::vector<MetricFamily> families(const EngineStatus& s) {
  std::vector<MetricFamily> out;
  auto one = [&](const char* name, const char* help, MetricType type,
                 double value, Labels labels = {}) {
    out.push_back(family(name, help, type));
    out.back().metric.push_back(sample(type, value, std::move(labels)));
  };
  one("htier_provisiond_fast_capacity_bytes",
      "Host fast memory htier may hand out (fast_capacity_bytes).", kGauge,
      num(s.capacityBytes));
  one("htier_provisiond_fast_charged_bytes",
      "Host fast memory charged to VMs (the capacity in use).", kGauge,
      num(s.chargedBytes));
  one("htier_provisiond_policy_info", "The allocation policy in use.", kGauge,
      1, {{"policy", s.policy}});
  one("htier_provisiond_policy_runs_total", "Times the policy ran.", kCounter,
      num(s.policyRuns));

  for (const VmMetric& m : vmMetrics()) {
    MetricFamily f = family(m.name, m.help, m.type);
    for (const VmStatus& v : s.vms)
      if (auto value = m.value(v))
        f.metric.push_back(sample(m.type, *value, {{"vm", v.name}}));
    out.push_back(std::move(f));
  }

  // State sets: one series per possible value, 1 for the current one.
  MetricFamily phase = family(
      "htier_provisiond_vm_phase",
      "1 for the VM's phase (connecting, active, lost, released).", kGauge);
  MetricFamily rejected =
      family("htier_provisiond_vm_guest_messages_rejected_total",
             "Guest messages rejected, by reason.", kCounter);
  for (const VmStatus& v : s.vms) {
    for (VmPhase p : {VmPhase::kConnecting, VmPhase::kActive, VmPhase::kLost,
                      VmPhase::kReleased})
      phase.metric.push_back(sample(kGauge, flag(v.phase == phaseName(p)),
                                    {{"vm", v.name}, {"phase", phaseName(p)}}));
    for (size_t r = 0; r < static_cast<size_t>(RejectReason::kCount); r++) {
      const char* reason = rejectReasonName(static_cast<RejectReason>(r));
      auto it = v.rejectedByReason.find(reason);
      uint64_t n = it == v.rejectedByReason.end() ? 0 : it->second;
      rejected.metric.push_back(
          sample(kCounter, num(n), {{"vm", v.name}, {"reason", reason}}));
    }
  }
  out.push_back(std::move(phase));
  out.push_back(std::move(rejected));
  return out;
}

// What the exposer collects on each scrape: the latest published
// snapshot, copied under the lock and rendered outside it.
class SnapshotCollector : public prometheus::Collectable {
 public:
  void publish(const EngineStatus& s) {
    std::lock_guard<std::mutex> lock(mu_);
    snapshot_ = s;
  }

  std::vector<MetricFamily> Collect() const override {
    EngineStatus s;
    {
      std::lock_guard<std::mutex> lock(mu_);
      s = snapshot_;
    }
    return families(s);
  }

 private:
  mutable std::mutex mu_;
  EngineStatus snapshot_;
};

}  // namespace

bool metricsAvailable() {
  return true;
}

std::string metricsText(const EngineStatus& s) {
  return prometheus::TextSerializer().Serialize(families(s));
}

struct MetricsServer::Impl {
  std::shared_ptr<SnapshotCollector> collector =
      std::make_shared<SnapshotCollector>();
  std::unique_ptr<prometheus::Exposer> exposer;
};

Maybe<std::unique_ptr<MetricsServer>> MetricsServer::listen(
    const std::string& address) {
  auto impl = std::make_unique<Impl>();
  try {
    // One thread: a scrape is cheap, and a busy scraper must not cost the
    // host more than one core.
    impl->exposer = std::make_unique<prometheus::Exposer>(address, 1);
    impl->exposer->RegisterCollectable(impl->collector);
  } catch (const std::exception& e) {
    // civetweb's "null context when constructing CivetServer": the port
    // is taken, or the address is not this host's.
    return makeError("cannot serve metrics on " + address + ": " + e.what());
  } catch (...) {
    return makeError("cannot serve metrics on " + address);
  }
  return std::unique_ptr<MetricsServer>(new MetricsServer(std::move(impl)));
}

void MetricsServer::publish(const EngineStatus& s) {
  impl_->collector->publish(s);
}

#else  // !HTIER_HAVE_PROMETHEUS

bool metricsAvailable() {
  return false;
}

std::string metricsText(const EngineStatus&) {
  return "";
}

struct MetricsServer::Impl {};

Maybe<std::unique_ptr<MetricsServer>> MetricsServer::listen(
    const std::string& address) {
  return makeError("cannot serve metrics on " + address +
                   ": htier-provisiond was built without prometheus-cpp");
}

void MetricsServer::publish(const EngineStatus&) {}

#endif

MetricsServer::MetricsServer(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}

MetricsServer::~MetricsServer() = default;

}  // namespace htier
