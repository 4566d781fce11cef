// SPDX-License-Identifier: GPL-2.0
//
// Reading, parsing and writing the module's sysfs tree (fake tree).
#include <gtest/gtest.h>

#include "common/format.h"
#include "common/state.h"
#include "common/sysfs.h"
#include "fake_sysfs.h"

namespace htier {
namespace {

using test::FakeSysfs;

TEST(ParseU64, AcceptsDecimalWithWhitespace) {
  EXPECT_EQ(*parseU64(" 42\n"), 42u);
  EXPECT_EQ(*parseU64("18446744073709551615"), UINT64_MAX);
}

TEST(ParseU64, RejectsGarbageSignsAndOverflow) {
  EXPECT_FALSE(parseU64(""));
  EXPECT_FALSE(parseU64("-1"));
  EXPECT_FALSE(parseU64("+1"));
  EXPECT_FALSE(parseU64("12abc"));
  EXPECT_FALSE(parseU64("18446744073709551616"));
}

TEST(ParseSampler, FindsBracketedActiveEntry) {
  SamplerState s = parseSampler("auto pebs [abit]\n");
  EXPECT_EQ(s.active, "abit");
  EXPECT_EQ(s.available, (std::vector<std::string>{"auto", "pebs", "abit"}));
  EXPECT_EQ(parseSampler("auto pebs abit").active, "");
}

TEST(ParseQuota, MaxOrNumber) {
  EXPECT_TRUE(parseQuota("max\n")->unlimited);
  EXPECT_EQ(parseQuota("4096")->bytes, 4096u);
  EXPECT_FALSE(parseQuota("lots"));
}

TEST(Sysfs, ReadsEveryContractFile) {
  FakeSysfs fake;
  fake.set("sampler_reason", "no PEBS data addresses in this guest");
  Sysfs sysfs(fake.root());
  ASSERT_TRUE(sysfs.present());
  auto st = readState(sysfs);
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ(st->enabled, true);
  EXPECT_EQ(st->sampler->active, "abit");
  EXPECT_EQ(st->sampler->reason, "no PEBS data addresses in this guest");
  EXPECT_EQ(st->fastNodes, "0");
  EXPECT_EQ(st->slowNodes, "1");
  EXPECT_FALSE(st->quota->unlimited);
  EXPECT_EQ(st->quota->bytes, 268435456u);
  EXPECT_EQ(st->stats.fastResidentBytes, 134217728u);
  EXPECT_EQ(st->stats.samplesFast, 9000u);
  EXPECT_EQ(st->stats.hotnessHistogram->size(), 8u);
  EXPECT_TRUE(st->extra.empty());
  EXPECT_TRUE(st->errors.empty());
  EXPECT_DOUBLE_EQ(*fastHitShare(st->stats), 0.9);
  EXPECT_DOUBLE_EQ(*quotaUsedShare(*st), 0.5);
}

TEST(Sysfs, UnknownFilesBecomeExtraMissingFilesStayEmpty) {
  FakeSysfs fake;
  fake.set("scan_interval_ms", "100", true);
  fake.set("stats/migrate_ns", "123");
  fake.remove("stats/hot_set_bytes");
  fake.set("stats/samples", "not-a-number");
  auto st = readState(Sysfs(fake.root()));
  ASSERT_TRUE(st);
  ASSERT_EQ(st->extra.size(), 2u);
  EXPECT_EQ(st->extra[0].path, "scan_interval_ms");
  EXPECT_TRUE(st->extra[0].writable);
  EXPECT_EQ(st->extra[1].path, "stats/migrate_ns");
  EXPECT_EQ(st->extra[1].value, "123");
  EXPECT_FALSE(st->stats.hotSetBytes);
  EXPECT_FALSE(st->stats.samples);
  ASSERT_EQ(st->errors.size(), 1u);
  EXPECT_NE(st->errors[0].find("stats/samples"), std::string::npos);
}

TEST(Sysfs, WriteReplacesValue) {
  FakeSysfs fake;
  Sysfs sysfs(fake.root());
  ASSERT_TRUE(sysfs.write("quota_bytes", "max"));
  EXPECT_EQ(fake.get("quota_bytes"), "max");
}

TEST(Sysfs, WriteRefusesReadOnlyMissingAndEscapingKeys) {
  FakeSysfs fake;
  Sysfs sysfs(fake.root());
  auto ro = sysfs.write("stats/samples", "0");
  ASSERT_FALSE(ro);
  EXPECT_NE(ro.error().message.find("read-only"), std::string::npos);
  EXPECT_EQ(fake.get("stats/samples"), "10000");
  EXPECT_FALSE(sysfs.write("nope", "1"));
  EXPECT_FALSE(sysfs.write("../htier/enabled", "0"));
  EXPECT_FALSE(sysfs.write("/etc/passwd", "x"));
  auto dir = sysfs.write("stats", "1");
  ASSERT_FALSE(dir);
  EXPECT_EQ(dir.error().errnum, EISDIR);
}

TEST(Sysfs, AbsentRoot) {
  Sysfs sysfs("/nonexistent/htier");
  EXPECT_FALSE(sysfs.present());
  EXPECT_FALSE(sysfs.snapshot());
}

TEST(Format, HumanBytes) {
  EXPECT_EQ(humanBytes(0), "0 B");
  EXPECT_EQ(humanBytes(1023), "1023 B");
  EXPECT_EQ(humanBytes(1536), "1.50 KiB");
  EXPECT_EQ(humanBytes(268435456), "256 MiB");
  EXPECT_EQ(humanBytes(uint64_t(3) << 30), "3.00 GiB");
}

TEST(Format, HistogramBarKeepsNonEmptyBinsVisible) {
  std::string bar = histogramBar({1000000, 0, 1, 50, 1000000});
  ASSERT_EQ(bar.size(), 5u);
  EXPECT_EQ(bar[0], '@');
  EXPECT_EQ(bar[1], ' ');
  EXPECT_NE(bar[2], ' ');
  EXPECT_EQ(bar[4], '@');
  EXPECT_EQ(histogramBar({}), "");
  EXPECT_EQ(histogramBar({0, 0}), "  ");
}

}  // namespace
}  // namespace htier
