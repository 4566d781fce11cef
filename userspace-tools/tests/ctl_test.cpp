// SPDX-License-Identifier: GPL-2.0
//
// htierctl run in-process against a fake sysfs tree.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "ctl/ctl.h"
#include "fake_sysfs.h"

namespace htier::ctl {
namespace {

using test::FakeSysfs;

struct CtlRun {
  int code;
  std::string out, err;
};

CtlRun ctl(std::vector<std::string> args) {
  std::ostringstream out, err;
  int code = runCtl(args, out, err);
  return {code, out.str(), err.str()};
}

TEST(Htierctl, StatusTableShowsEverySection) {
  FakeSysfs fake;
  fake.set("sampler_reason", "PEBS without data addresses");
  fake.set("scan_interval_ms", "100", true);
  CtlRun r = ctl({"status", "--sysfs-root", fake.root().string()});
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* want : {"settings", "enabled         yes", "abit (choices: auto pebs abit)",
                           "PEBS without data addresses", "256 MiB (268435456)", "128 MiB (134217728), 50.0% of quota",
                           "hot set", "1000 pages (3.91 MiB), failed 3", "90.0% fast", "cold [", "] hot",
                           "100000 20000 5000 1000 100 0 0 0", "other files", "scan_interval_ms (rw)"})
    EXPECT_NE(r.out.find(want), std::string::npos) << "missing '" << want << "' in:\n" << r.out;
}

TEST(Htierctl, StatusJsonIsAnObjectWithTypedFields) {
  FakeSysfs fake;
  fake.set("quota_bytes", "max", true);
  fake.set("stats/new_counter", "7");
  CtlRun r = ctl({"--sysfs-root=" + fake.root().string(), "status", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << r.out;
  EXPECT_EQ(j["enabled"], true);
  EXPECT_EQ(j["sampler"]["active"], "abit");
  EXPECT_TRUE(j["quota_bytes"].is_null());
  EXPECT_EQ(j["quota_unlimited"], true);
  EXPECT_EQ(j["stats"]["fast_resident_bytes"], 134217728u);
  EXPECT_EQ(j["stats"]["hotness_histogram"].size(), 8u);
  EXPECT_DOUBLE_EQ(j["derived"]["fast_hit_share"].template get<double>(), 0.9);
  EXPECT_EQ(j["extra"]["stats/new_counter"], "7");
}

TEST(Htierctl, ModuleNotLoaded) {
  CtlRun r = ctl({"status", "--sysfs-root", "/nonexistent/htier"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("htier module not loaded (no /nonexistent/htier)"), std::string::npos) << r.err;
}

TEST(Htierctl, SetWritesAndEchoes) {
  FakeSysfs fake;
  CtlRun r = ctl({"--sysfs-root", fake.root().string(), "set", "quota_bytes", "1048576"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(fake.get("quota_bytes"), "1048576");
  EXPECT_NE(r.out.find("quota_bytes = 1048576"), std::string::npos);
}

TEST(Htierctl, SetFailuresAreClearAndNonZero) {
  FakeSysfs fake;
  CtlRun ro = ctl({"--sysfs-root", fake.root().string(), "set", "stats/samples", "0"});
  EXPECT_EQ(ro.code, 1);
  EXPECT_NE(ro.err.find("read-only"), std::string::npos) << ro.err;
  CtlRun missing = ctl({"--sysfs-root", fake.root().string(), "set", "bogus", "1"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.err.find("no such setting 'bogus'"), std::string::npos) << missing.err;
  CtlRun dir = ctl({"--sysfs-root", fake.root().string(), "set", "stats", "1"});
  EXPECT_EQ(dir.code, 1);
  CtlRun usage = ctl({"--sysfs-root", fake.root().string(), "set", "quota_bytes"});
  EXPECT_EQ(usage.code, 2);
}

TEST(Htierctl, UsageErrors) {
  EXPECT_EQ(ctl({}).code, 2);
  EXPECT_EQ(ctl({"frobnicate"}).code, 2);
  EXPECT_EQ(ctl({"--sysfs-root"}).code, 2);
  CtlRun help = ctl({"--help"});
  EXPECT_EQ(help.code, 0);
  EXPECT_NE(help.out.find("status"), std::string::npos);
  FakeSysfs fake;
  EXPECT_EQ(ctl({"status", "--yaml", "--sysfs-root", fake.root().string()}).code, 2);
}

}  // namespace
}  // namespace htier::ctl
