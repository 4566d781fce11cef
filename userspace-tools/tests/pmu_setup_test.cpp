// SPDX-License-Identifier: GPL-2.0
//
// htier-agent's start-up hand-over of PEBS event encodings to the module.
#include <gtest/gtest.h>

#include "agent/pmu_setup.h"
#include "fake_sysfs.h"

namespace htier::agent {
namespace {

PebsEventsEncoder fixedEncoder(std::string line, std::string why = "") {
  return [line, why](std::string& w) {
    w = why;
    return line;
  };
}

TEST(PmuSetup, AppliesUnderAutoAndRechoosesSampler) {
  test::FakeSysfs fs;
  fs.set("sampler_reason", "auto: abit, because pebs is unusable: no PMU");
  fs.set("pebs_events", "load type=4 config=0x81d0 config1=0x0 precise=2", true);
  fs.set("sampler", "auto pebs [abit]", true);
  auto r = applyPebsEvents(Sysfs(fs.root()), fixedEncoder("load type=4 config=0x1cd config1=0x40 precise=2"));
  EXPECT_TRUE(r.applied) << r.message;
  EXPECT_EQ(fs.get("pebs_events"), "load type=4 config=0x1cd config1=0x40 precise=2");
  EXPECT_EQ(fs.get("sampler"), "auto");  // asked to choose again
}

TEST(PmuSetup, LeavesAnExplicitAbitChoiceAlone) {
  test::FakeSysfs fs;
  fs.set("sampler_reason", "abit: selected");
  fs.set("pebs_events", "old", true);
  auto r = applyPebsEvents(Sysfs(fs.root()), fixedEncoder("load type=4 config=0x1 config1=0x0 precise=2"));
  EXPECT_FALSE(r.applied);
  EXPECT_EQ(fs.get("pebs_events"), "old");
}

TEST(PmuSetup, NothingToApplySaysWhy) {
  test::FakeSysfs fs;
  fs.set("sampler_reason", "auto: abit, because pebs is unusable: no PMU");
  fs.set("pebs_events", "old", true);
  auto r = applyPebsEvents(Sysfs(fs.root()), fixedEncoder("", "libpfm4 found no core PMU"));
  EXPECT_FALSE(r.applied);
  EXPECT_NE(r.message.find("libpfm4 found no core PMU"), std::string::npos);
  EXPECT_EQ(fs.get("pebs_events"), "old");
}

TEST(PmuSetup, ModuleNotLoaded) {
  auto r = applyPebsEvents(Sysfs("/nonexistent/htier"), fixedEncoder("x"));
  EXPECT_FALSE(r.applied);
  EXPECT_NE(r.message.find("not loaded"), std::string::npos);
}

}  // namespace
}  // namespace htier::agent
