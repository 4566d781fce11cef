// SPDX-License-Identifier: GPL-2.0
#include "status/Metrics.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "status/MetricsTestUtil.h"
#include "util/Clock.h"
#include "util/Units.h"

using namespace htier;
using namespace htier::testing;
using json = nlohmann::json;

namespace {

[[maybe_unused]] EngineStatus sample() {
  EngineStatus s;
  s.policy = "utility";
  s.capacityBytes = 4 * kGiB;
  s.chargedBytes = 3 * kGiB;
  s.policyRuns = 42;
  VmStatus v;
  v.name = "vm-a";
  v.phase = "active";
  v.quotaBytes = 1 * kGiB;
  v.pluggedBytes = 1 * kGiB - 2 * kMiB;
  v.requestedBytes = 1 * kGiB;
  v.chargedBytes = 1 * kGiB;
  v.deviceMaxBytes = 2 * kGiB;
  v.minFastBytes = 256 * kMiB;
  v.maxFastBytes = 2 * kGiB;
  v.weight = 2.5;
  v.awaitingReport = false;
  v.linkConnected = true;
  v.hasReport = true;
  v.hotSetBytes = 768 * kMiB;
  v.fastResidentBytes = 700 * kMiB;
  v.slowResidentBytes = 68 * kMiB;
  v.reportAgeMs = 1500;
  v.reports = 17;
  v.rejectedMessages = 3;
  v.rejectedByReason = {{"not_json", 1},
                        {"bad_version", 0},
                        {"bad_field", 0},
                        {"implausible", 2},
                        {"oversized", 0}};
  v.slowPluggedBytes = 512 * kMiB;
  v.slowRequestedBytes = 512 * kMiB;
  v.decisions = 5;
  v.resizes = 7;
  v.qmpErrors = 1;
  v.sizeEvents = 23;
  s.vms.push_back(v);
  VmStatus b;
  b.name = "vm-b";
  b.phase = "connecting";
  b.chargedBytes = 2 * kGiB;
  b.maxFastBytes = 2 * kGiB;
  b.qmpErrors = 4;
  s.vms.push_back(b);
  return s;
}

}  // namespace

#ifdef HTIER_HAVE_PROMETHEUS

// Every value the status document has is in the metrics, equal to it.
TEST(Metrics, EqualTheStatusDocument) {
  EngineStatus s = sample();
  auto m = parseExposition(metricsText(s));
  auto bad = metricsVersusStatus(m, json::parse(statusToJson(s)));
  EXPECT_TRUE(bad.empty()) << ::testing::PrintToString(bad);
  // Spot checks in base units, whatever the table says.
  EXPECT_EQ(m["htier_provisiond_fast_capacity_bytes"], 4294967296.0);
  EXPECT_EQ(m["htier_provisiond_vm_fast_plugged_bytes{vm=\"vm-a\"}"],
            1071644672.0);
  EXPECT_EQ(m["htier_provisiond_vm_guest_report_age_seconds{vm=\"vm-a\"}"],
            1.5);
  EXPECT_EQ(m["htier_provisiond_vm_guest_messages_rejected_total{vm=\"vm-a\","
              "reason=\"implausible\"}"],
            2.0);
  EXPECT_EQ(m["htier_provisiond_vm_phase{vm=\"vm-b\",phase=\"active\"}"], 0.0);
  EXPECT_EQ(m["htier_provisiond_vm_phase{vm=\"vm-b\",phase=\"connecting\"}"],
            1.0);
}

// A VM without a report or a slow device has no series for them: a
// missing value is not a zero.
TEST(Metrics, NoSeriesForWhatAVmDoesNotHave) {
  auto m = parseExposition(metricsText(sample()));
  for (const char* name : {"htier_provisiond_vm_guest_hot_set_bytes",
                           "htier_provisiond_vm_guest_report_age_seconds",
                           "htier_provisiond_vm_slow_plugged_bytes",
                           "htier_provisiond_vm_size_events_total"}) {
    EXPECT_EQ(m.count(std::string(name) + "{vm=\"vm-a\"}"), 1u) << name;
    EXPECT_EQ(m.count(std::string(name) + "{vm=\"vm-b\"}"), 0u) << name;
  }
  // Every reason is there from the start, so rate() sees the first one.
  EXPECT_EQ(m.count("htier_provisiond_vm_guest_messages_rejected_total{vm="
                    "\"vm-b\",reason=\"oversized\"}"),
            1u);
}

// Prometheus conventions: one prefix, counters end in _total and nothing
// else does, sizes in bytes, every family typed and described.
TEST(Metrics, NamesFollowPrometheusConventions) {
  std::string text = metricsText(sample());
  std::regex typeLine("# TYPE (\\S+) (\\S+)");
  std::set<std::string> names;
  for (std::sregex_iterator it(text.begin(), text.end(), typeLine), end;
       it != end; ++it) {
    std::string name = (*it)[1], type = (*it)[2];
    names.insert(name);
    EXPECT_EQ(name.rfind("htier_provisiond_", 0), 0u) << name;
    bool total = name.size() > 6 && name.substr(name.size() - 6) == "_total";
    EXPECT_EQ(total, type == "counter") << name << " is a " << type;
    EXPECT_EQ(name.find("_ms"), std::string::npos) << name;
    EXPECT_NE(text.find("# HELP " + name + " "), std::string::npos) << name;
  }
  EXPECT_GE(names.size(), 25u);
  for (const auto& [metric, field] : vmMetricFields()) {
    if (field.size() > 6 && field.substr(field.size() - 6) == "_bytes") {
      EXPECT_EQ(metric.substr(metric.size() - 6), "_bytes") << metric;
    }
  }
  if (!havePromtool())
    GTEST_SKIP() << "promtool not installed (Debian's prometheus package)";
  auto [rc, said] = promtoolCheck(text);
  EXPECT_EQ(rc, 0) << said;
  EXPECT_EQ(said, "") << "promtool found problems";
}

// The endpoint serves what was published last; a port in use is an error
// value (prometheus-cpp throws), not an exception out of listen().
TEST(Metrics, ServerServesTheLatestSnapshotAndReportsAPortInUse) {
  uint16_t port = freeLoopbackPort();
  ASSERT_NE(port, 0);
  std::string addr = "127.0.0.1:" + std::to_string(port);
  auto server = MetricsServer::listen(addr);
  ASSERT_TRUE(server) << server.message();
  EngineStatus s = sample();
  (*server)->publish(s);
  auto body = httpGet(port, "/metrics");
  ASSERT_TRUE(body) << body.message();
  auto m = parseExposition(*body);
  EXPECT_EQ(m["htier_provisiond_vm_quota_bytes{vm=\"vm-a\"}"], 1073741824.0);
  s.vms[0].quotaBytes = 512 * kMiB;
  (*server)->publish(s);
  body = httpGet(port, "/metrics");
  ASSERT_TRUE(body) << body.message();
  m = parseExposition(*body);
  EXPECT_EQ(m["htier_provisiond_vm_quota_bytes{vm=\"vm-a\"}"], 536870912.0);

  auto second = MetricsServer::listen(addr);
  ASSERT_FALSE(second);
  EXPECT_NE(second.message().find(addr), std::string::npos) << second.message();
}

#else

TEST(Metrics, WithoutPrometheusCppListenFailsWithTheReason) {
  EXPECT_FALSE(metricsAvailable());
  auto server = MetricsServer::listen("127.0.0.1:9464");
  ASSERT_FALSE(server);
  EXPECT_NE(server.message().find("without prometheus-cpp"), std::string::npos);
}

#endif
