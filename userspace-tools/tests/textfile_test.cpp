// SPDX-License-Identifier: GPL-2.0
//
// htier-agent --textfile: the module's stats as a node_exporter textfile.
#include "agent/textfile.h"

#include <sys/wait.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "agent/agent.h"
#include "fake_sysfs.h"

namespace htier::agent {
namespace {

using namespace std::chrono_literals;
using test::FakeSysfs;
using test::TempDir;

// "name{labels}" -> value as written.
std::map<std::string, std::string> samples(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    size_t sp = line.rfind(' ');
    out[line.substr(0, sp)] = line.substr(sp + 1);
  }
  return out;
}

std::string readFile(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string textOf(const FakeSysfs& fake, AgentTextfileCounters c = {}) {
  auto snap = Sysfs(fake.root()).snapshot();
  EXPECT_TRUE(snap);
  return textfileFromSnapshot(*snap, c);
}

TEST(Textfile, EveryContractStatInBaseUnits) {
  FakeSysfs fake;
  auto m = samples(textOf(fake, {5, 2, 1, true}));
  // One metric per contract file, with the file's value.
  const std::pair<const char*, const char*> contract[] = {
      {"htier_fast_resident_bytes", "stats/fast_resident_bytes"},
      {"htier_slow_resident_bytes", "stats/slow_resident_bytes"},
      {"htier_hot_set_bytes", "stats/hot_set_bytes"},
      {"htier_promoted_pages_total", "stats/promoted_pages"},
      {"htier_demoted_pages_total", "stats/demoted_pages"},
      {"htier_promote_failed_pages_total", "stats/promote_failed"},
      {"htier_demote_failed_pages_total", "stats/demote_failed"},
      {"htier_samples_total", "stats/samples"},
      {"htier_samples_fast_total", "stats/samples_fast"},
      {"htier_samples_slow_total", "stats/samples_slow"},
      {"htier_quota_bytes", "quota_bytes"},
      {"htier_enabled", "enabled"},
  };
  for (auto [metric, file] : contract) EXPECT_EQ(m[metric], fake.get(file)) << metric;
  EXPECT_EQ(m["htier_hotness_pages{bin=\"0\"}"], "100000");
  EXPECT_EQ(m["htier_hotness_pages{bin=\"7\"}"], "0");
  EXPECT_EQ(m.count("htier_hotness_pages{bin=\"8\"}"), 0u);
  EXPECT_EQ(m["htier_agent_reports_sent_total"], "5");
  EXPECT_EQ(m["htier_agent_quotas_received_total"], "2");
  EXPECT_EQ(m["htier_agent_host_connected"], "1");
}

TEST(Textfile, ScalesToBaseUnitsAndKeepsUnknownStats) {
  FakeSysfs fake;
  fake.set("stats/migrate_us", "2500000");
  fake.set("stats/boost_ms", "1500");
  fake.set("stats/coverage_permil", "500");
  fake.set("stats/boost_grew", "3");
  fake.set("stats/boost_owed", "4");
  fake.set("stats/some_new_stat", "7");
  fake.set("stats/not_a_number", "abc");
  fake.set("quota_bytes", "max", true);
  std::string text = textOf(fake);
  auto m = samples(text);
  EXPECT_EQ(m["htier_migrate_seconds_total"], "2.5");
  EXPECT_EQ(m["htier_boost_seconds_total"], "1.5");
  EXPECT_EQ(m["htier_coverage_ratio"], "0.5");
  EXPECT_EQ(m["htier_boost_triggers_total{trigger=\"grew\"}"], "3");
  EXPECT_EQ(m["htier_boost_triggers_total{trigger=\"owed\"}"], "4");
  EXPECT_EQ(m["htier_some_new_stat"], "7");
  EXPECT_NE(text.find("# TYPE htier_some_new_stat untyped"), std::string::npos);
  EXPECT_EQ(m.count("htier_not_a_number"), 0u);
  EXPECT_EQ(m["htier_quota_bytes"], "+Inf");
  // One HELP/TYPE per family, however many series it has.
  size_t at = text.find("# TYPE htier_boost_triggers_total counter");
  ASSERT_NE(at, std::string::npos);
  EXPECT_EQ(text.find("# TYPE htier_boost_triggers_total", at + 1), std::string::npos);
  EXPECT_EQ(text.find("_ms"), std::string::npos) << "milliseconds left in a name";
  EXPECT_EQ(text.find("_us"), std::string::npos) << "microseconds left in a name";
}

// node_exporter's own lint, as Prometheus would see the file.
TEST(Textfile, PassesPromtoolCheckMetrics) {
  if (std::system("command -v promtool >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "promtool not installed (Debian's prometheus package)";
  FakeSysfs fake;
  for (const char* f : {"other_resident_bytes", "active_bytes", "rounds", "migrate_us", "track_us_total", "boost_ms",
                        "boost_grew", "boost_jumped", "boost_moving", "boost_owed", "coverage_permil",
                        "thread_cpu_permil", "cpu_permil_now", "abit_window_us", "scan_interval_now_ms",
                        "last_round_us", "table_full", "scope_full", "tracked_pages", "pmds_idle", "new_stat"})
    fake.set(std::string("stats/") + f, "12");
  TempDir dir;
  auto path = dir.path() / "htier.prom";
  ASSERT_TRUE(writeFileAtomically(path.string(), textOf(fake)));
  std::string cmd = "promtool check metrics < " + path.string() + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string said;
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof buf, p)) said.append(buf, n);
  int st = ::pclose(p);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << said;
  EXPECT_EQ(said, "") << readFile(path);
}

TEST(Textfile, WrittenAtomicallyWithoutLeftovers) {
  TempDir dir;
  auto path = dir.path() / "htier.prom";
  ASSERT_TRUE(writeFileAtomically(path.string(), "a 1\n"));
  ASSERT_TRUE(writeFileAtomically(path.string(), "a 2\n"));
  EXPECT_EQ(readFile(path), "a 2\n");
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    (void)e;
    files++;
  }
  EXPECT_EQ(files, 1u) << "a temp file was left behind";
  auto bad = writeFileAtomically((dir.path() / "no/such/dir/htier.prom").string(), "a 1\n");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("cannot create"), std::string::npos) << bad.error().message;
}

// The agent rewrites the file every interval, host or no host, and it
// follows the module's values.
TEST(Textfile, AgentRewritesItEveryIntervalWithoutAHost) {
  FakeSysfs fake;
  TempDir dir;
  AgentOptions o;
  o.sysfsRoot = fake.root().string();
  o.interval = 50ms;
  o.backoffMin = 10ms;
  o.backoffMax = 20ms;
  o.textfilePath = (dir.path() / "htier.prom").string();
  Agent agent(o, []() -> Result<int> { return Error{ECONNREFUSED, "no host"}; });
  std::atomic<bool> stop{false};
  std::thread t([&] { agent.run(stop); });
  auto waitFor = [&](const std::string& metric, const std::string& value) {
    for (auto end = std::chrono::steady_clock::now() + 3s; std::chrono::steady_clock::now() < end;) {
      if (samples(readFile(o.textfilePath))[metric] == value) return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  };
  EXPECT_TRUE(waitFor("htier_hot_set_bytes", "67108864"));
  fake.set("stats/hot_set_bytes", "4096");
  EXPECT_TRUE(waitFor("htier_hot_set_bytes", "4096"));
  EXPECT_EQ(samples(readFile(o.textfilePath))["htier_agent_host_connected"], "0");
  stop = true;
  t.join();
}

}  // namespace
}  // namespace htier::agent
