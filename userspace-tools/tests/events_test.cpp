// SPDX-License-Identifier: GPL-2.0
//
// htierctl events: the pebs_events line the module parses, the table and
// JSON forms, the "libpfm does not know this CPU" message, and libpfm4's
// real encodings for CPUs forced with LIBPFM_FORCE_PMU.
#include <gtest/gtest.h>
#include <stdio.h>
#include <stdlib.h>

#include <nlohmann/json.hpp>

#include "pmu/events.h"

namespace htier::pmu {
namespace {

std::vector<EncodedEvent> skylakeEvents() {
  return {{EventKind::kLoad, "skl::MEM_INST_RETIRED:ALL_LOADS", "skl", 4, 0x81d0, 0, 2},
          {EventKind::kStore, "skl::MEM_INST_RETIRED:ALL_STORES", "skl", 4, 0x82d0, 0, 2},
          {EventKind::kLoadLatency, "skl::MEM_TRANS_RETIRED:LOAD_LATENCY:ldlat=64", "skl", 4, 0x1cd, 64, 2}};
}

TEST(Events, PebsEventsLineIsWhatTheModuleParses) {
  EXPECT_EQ(pebsEventsLine(skylakeEvents()),
            "load type=4 config=0x81d0 config1=0x0 precise=2; store type=4 config=0x82d0 config1=0x0 precise=2; "
            "ldlat type=4 config=0x1cd config1=0x40 precise=2");
  EXPECT_EQ(pebsEventsLine({}), "");
}

TEST(Events, TableNamesPmuEventsAndThreshold) {
  EventPlan plan{"skl", "Intel Skylake", {"perf"}, skylakeEvents(), {}, 64};
  std::string t = formatEventsTable(plan);
  for (const char* want : {"pmu        skl (Intel Skylake)", "MEM_INST_RETIRED:ALL_LOADS", "0x81d0", "ldlat",
                           "(threshold 64 cycles)", "pebs_events line:"})
    EXPECT_NE(t.find(want), std::string::npos) << "missing '" << want << "' in:\n" << t;
}

TEST(Events, UnknownCpuSaysWhichPmuWasDetected) {
  EventPlan plan{"", "", {"perf", "perf_raw"}, {}, {}, 64};
  std::string t = formatEventsTable(plan);
  EXPECT_NE(t.find("pmu        none"), std::string::npos) << t;
  EXPECT_NE(t.find("libpfm4 does not know this CPU"), std::string::npos) << t;
  EXPECT_NE(t.find("only perf, perf_raw"), std::string::npos) << t;
  auto j = nlohmann::json::parse(formatEventsJson(plan, "", false));
  EXPECT_TRUE(j["pmu"].is_null());
  EXPECT_TRUE(j["pebs_events"].is_null());
  EXPECT_TRUE(j["events"].empty());
  EXPECT_NE(j["reason"].get<std::string>().find("QEMU TCG"), std::string::npos);
}

TEST(Events, AmdSaysPebsIsIntelOnly) {
  EventPlan plan{"amd64_k8_revg", "AMD64 K8 RevG", {"perf"}, {}, {"load (MEM_INST_RETIRED:ALL_LOADS: event not found)"}, 64};
  std::string why = noEventsReason(plan);
  EXPECT_NE(why.find("detected PMU 'amd64_k8_revg'"), std::string::npos) << why;
  EXPECT_NE(why.find("AMD CPUs have no PEBS"), std::string::npos) << why;
  EXPECT_NE(why.find("keeps its built-in defaults"), std::string::npos) << why;
}

TEST(Events, JsonCarriesRawEncodings) {
  EventPlan plan{"skl", "Intel Skylake", {}, skylakeEvents(), {}, 64};
  auto j = nlohmann::json::parse(formatEventsJson(plan, "load type=4 config=0x81d0", true));
  ASSERT_EQ(j["events"].size(), 3u);
  EXPECT_EQ(j["events"][0]["kind"], "load");
  EXPECT_EQ(j["events"][0]["config"], 0x81d0);
  EXPECT_EQ(j["events"][2]["config1"], 64);
  EXPECT_EQ(j["applied"], true);
  EXPECT_EQ(j["module_pebs_events"], "load type=4 config=0x81d0");
}

// libpfm4 itself, with the CPU forced: the encodings the module defaults to.
// libpfm keeps its PMU tables across pfm_terminate(), so each forced CPU is
// encoded in a child process of its own.
EventPlan encodeForced(const char* pmu, unsigned ldlat) {
  setenv("LIBPFM_FORCE_PMU", pmu, 1);
  auto plan = encodeHtierEvents(ldlat);
  if (!plan) {
    fprintf(stderr, "%s\n", plan.error().message.c_str());
    exit(2);
  }
  fprintf(stderr, "%s", formatEventsTable(*plan).c_str());
  return *plan;
}

TEST(EventsLibpfm, SkylakeEncodesLoadsStoresAndLoadLatency) {
  EXPECT_EXIT(
      {
        EventPlan p = encodeForced("skl", 32);
        bool ok = p.detectedPmu == "skl" && p.events.size() == 3 && p.events[0].config == 0x81d0 &&
                  p.events[0].type == 4 && p.events[0].precise == 2 && p.events[1].config == 0x82d0 &&
                  p.events[2].kind == EventKind::kLoadLatency && p.events[2].config1 == 32;
        exit(ok ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

TEST(EventsLibpfm, HaswellUsesMemUopsRetired) {
  EXPECT_EXIT(
      {
        EventPlan p = encodeForced("hsw", 64);
        bool ok = !p.events.empty() && p.events[0].name.find("MEM_UOPS_RETIRED:ALL_LOADS") != std::string::npos &&
                  p.events[0].config == 0x81d0;
        exit(ok ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace htier::pmu
