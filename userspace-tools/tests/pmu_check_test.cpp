// SPDX-License-Identifier: GPL-2.0
//
// pmu-check's classification: each kind of (virtual) PMU gives its verdict
// and the sampler htier will use, from the evidence the probe collects.
#include <gtest/gtest.h>

#include <cerrno>
#include <nlohmann/json.hpp>

#include "pmu/pmu_check.h"

namespace htier::pmu {
namespace {

ProbeEvidence tcg() {  // what QEMU TCG looks like: nothing at all
  ProbeEvidence e;
  e.cpuPmuInSysfs = false;
  e.vendor = "AuthenticAMD";
  e.paranoid = 2;
  e.cyclesErrno = ENOENT;
  return e;
}

ProbeEvidence vpmu() {  // an architectural vPMU: counters open
  ProbeEvidence e;
  e.cpuPmuInSysfs = true;
  e.pmuName = "skylake";
  e.vendor = "GenuineIntel";
  e.cyclesErrno = 0;
  e.loadEvent = "skl::MEM_INST_RETIRED:ALL_LOADS";
  return e;
}

TEST(PmuCheck, TcgIsNoPmu) {
  ProbeEvidence e = tcg();
  EXPECT_EQ(classifyPmu(e), Verdict::kNoPmu);
  EXPECT_EQ(htierSampler(Verdict::kNoPmu), "abit");
  std::string text = formatPmuCheck(Verdict::kNoPmu, e);
  EXPECT_EQ(text.rfind("verdict: no PMU\n", 0), 0u) << text;
  EXPECT_NE(text.find("ENOENT"), std::string::npos) << text;
  EXPECT_NE(text.find("htier will use: abit"), std::string::npos) << text;
}

TEST(PmuCheck, NoCyclesTriedAndNoSysfsPmuIsNoPmu) {
  ProbeEvidence e;
  EXPECT_EQ(classifyPmu(e), Verdict::kNoPmu);
}

TEST(PmuCheck, PreciseEventRefusedIsNoPrecise) {
  ProbeEvidence e = vpmu();
  e.loadErrno = EOPNOTSUPP;
  EXPECT_EQ(classifyPmu(e), Verdict::kNoPrecise);
  e.loadErrno = EINVAL;
  EXPECT_EQ(classifyPmu(e), Verdict::kNoPrecise);
  EXPECT_NE(verdictExplain(Verdict::kNoPrecise, e).find("EINVAL"), std::string::npos);
}

TEST(PmuCheck, SamplesWithoutAddressesArePebsNoAddr) {
  ProbeEvidence e = vpmu();
  e.loadErrno = 0;
  e.samples = 250;
  e.samplesWithAddr = 0;
  EXPECT_EQ(classifyPmu(e), Verdict::kPebsNoAddress);
  EXPECT_NE(verdictExplain(Verdict::kPebsNoAddress, e).find("0 of 250"), std::string::npos);
  e.samples = 0;  // no samples at all proves no addresses either
  EXPECT_EQ(classifyPmu(e), Verdict::kPebsNoAddress);
}

TEST(PmuCheck, AddressesMeanWorkingAndPebs) {
  ProbeEvidence e = vpmu();
  e.loadErrno = 0;
  e.samples = 250;
  e.samplesWithAddr = 240;
  EXPECT_EQ(classifyPmu(e), Verdict::kWorking);
  EXPECT_EQ(htierSampler(Verdict::kWorking), "pebs");
  auto j = nlohmann::json::parse(formatPmuCheckJson(Verdict::kWorking, e));
  EXPECT_EQ(j["verdict"], "working");
  EXPECT_EQ(j["htier_sampler"], "pebs");
  EXPECT_EQ(j["evidence"]["samples_with_addr"], 240);
}

TEST(PmuCheck, PermissionIsNotMistakenForNoPmu) {
  ProbeEvidence e = vpmu();
  e.cyclesErrno = EACCES;
  e.paranoid = 3;
  EXPECT_EQ(classifyPmu(e), Verdict::kNotPermitted);
  EXPECT_NE(verdictExplain(Verdict::kNotPermitted, e).find("perf_event_paranoid (now 3)"), std::string::npos);
  e.cyclesErrno = 0;
  e.loadErrno = EPERM;
  EXPECT_EQ(classifyPmu(e), Verdict::kNotPermitted);
}

TEST(PmuCheck, EveryVerdictHasTextAndAdvice) {
  for (Verdict v : {Verdict::kNoPmu, Verdict::kNoPrecise, Verdict::kPebsNoAddress, Verdict::kWorking,
                    Verdict::kNotPermitted}) {
    EXPECT_FALSE(verdictText(v).empty());
    EXPECT_FALSE(operatorAdvice(v).empty());
    EXPECT_NE(std::string(verdictId(v)), "?");
  }
}

}  // namespace
}  // namespace htier::pmu
