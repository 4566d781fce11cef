// SPDX-License-Identifier: GPL-2.0
#include "link/Message.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include <nlohmann/json.hpp>

#include "link/GuestLink.h"
#include "util/Units.h"

using namespace htier;

namespace {
constexpr uint64_t kMem = 8 * kGiB;

const char* kReport =
    R"({"v":1,"type":"report","seq":17,"fast_resident_bytes":1073741824,)"
    R"("slow_resident_bytes":536870912,"hot_set_bytes":805306368,)"
    R"("quota_bytes":1073741824,"samples_fast":900,"samples_slow":100,)"
    R"("curve":[[268435456,0.5],[536870912,0.8],[1073741824,1.0]],"extra":1})";

std::string withField(const std::string& key, const nlohmann::json& value) {
  auto j = nlohmann::json::parse(kReport);
  j[key] = value;
  return j.dump();
}
}  // namespace

TEST(Message, ParsesTheContractReport) {
  auto m = parseGuestMessage(kReport, kMem);
  ASSERT_TRUE(m) << m.message();
  ASSERT_EQ(m->kind, ParsedMessage::Kind::kReport);
  const GuestReport& r = m->report;
  EXPECT_EQ(r.seq, 17u);
  EXPECT_EQ(r.fastResidentBytes, 1 * kGiB);
  EXPECT_EQ(r.slowResidentBytes, 512 * kMiB);
  EXPECT_EQ(r.hotSetBytes, 768 * kMiB);
  EXPECT_EQ(r.samplesFast, 900u);
  ASSERT_EQ(r.curve.size(), 3u);
  EXPECT_EQ(r.curve[1].fastBytes, 512 * kMiB);
  EXPECT_DOUBLE_EQ(r.curve[1].share, 0.8);
  EXPECT_TRUE(m->curveProblem.empty());
}

TEST(Message, OtherTypesAreIgnoredNotErrors) {
  auto m = parseGuestMessage(R"({"v":1,"type":"hello","x":[1]})", kMem);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->kind, ParsedMessage::Kind::kIgnored);
}

TEST(Message, RejectsMalformedAndLyingReports) {
  const std::string bad[] = {
      "",
      "not json",
      "[1,2,3]",
      R"({"type":"report","hot_set_bytes":1})",        // no v
      R"({"v":2,"type":"report","hot_set_bytes":1})",  // future version
      R"({"v":1,"hot_set_bytes":1})",                  // no type
      R"({"v":1,"type":"report"})",                    // no hot set
      withField("hot_set_bytes", -1),
      withField("hot_set_bytes", 1.5),
      withField("hot_set_bytes", "1G"),
      withField("hot_set_bytes", 2 * kGiB),   // > resident 1.5 GiB
      withField("hot_set_bytes", 64 * kGiB),  // > the VM's memory
      withField("fast_resident_bytes", 9 * kGiB),
      withField("slow_resident_bytes", -7),
      withField("seq", -1),
  };
  for (const auto& line : bad)
    EXPECT_FALSE(parseGuestMessage(line, kMem)) << line;
}

TEST(Message, BadCurveIsDroppedButReportKept) {
  const nlohmann::json curves[] = {
      nlohmann::json::parse("[[536870912,0.8],[268435456,0.9]]"),  // x back
      nlohmann::json::parse(
          "[[268435456,0.8],[536870912,0.5]]"),  // share drops
      nlohmann::json::parse("[[268435456,1.5]]"),
      nlohmann::json::parse("[[268435456,-0.1]]"),
      nlohmann::json::parse("[[-5,0.5]]"),
      nlohmann::json::parse("[[1,2,3]]"),
      nlohmann::json::parse("{\"a\":1}"),
      nlohmann::json::parse("[[68719476736,0.5]]"),  // beyond memory
  };
  for (const auto& c : curves) {
    auto m = parseGuestMessage(withField("curve", c), kMem);
    ASSERT_TRUE(m) << c.dump();
    EXPECT_FALSE(m->curveProblem.empty()) << c.dump();
    EXPECT_TRUE(m->report.curve.empty());
  }
  nlohmann::json big = nlohmann::json::array();
  for (int i = 1; i <= 300; i++)
    big.push_back({i * 4096, 0.001 * i});
  auto m = parseGuestMessage(withField("curve", big), kMem);
  ASSERT_TRUE(m);
  EXPECT_NE(m->curveProblem.find("points"), std::string::npos);
}

TEST(Message, QuotaLineMatchesContract) {
  auto line = encodeQuota(9, 1 * kGiB, 2000);
  ASSERT_EQ(line.back(), '\n');
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["v"], 1);
  EXPECT_EQ(j["type"], "quota");
  EXPECT_EQ(j["seq"], 9);
  EXPECT_EQ(j["fast_bytes"], 1 * kGiB);
  EXPECT_EQ(j["effective_in_ms"], 2000);
}

TEST(MessageFuzz, RandomBytesNeverCrashOrPassBounds) {
  std::mt19937_64 rng(42);
  for (int i = 0; i < 3000; i++) {
    std::string s(std::uniform_int_distribution<size_t>(0, 300)(rng), '\0');
    for (auto& c : s)
      c = static_cast<char>(rng());
    auto m = parseGuestMessage(s, kMem);
    if (m && m->kind == ParsedMessage::Kind::kReport) {
      EXPECT_LE(m->report.hotSetBytes, kMem);
    }
  }
}

TEST(MessageFuzz, MutatedReportsStayWithinBounds) {
  std::mt19937_64 rng(7);
  const std::string base = kReport;
  const char alphabet[] = "0123456789-.,[]{}\":eE truefalsnul";
  int accepted = 0;
  for (int i = 0; i < 5000; i++) {
    std::string s = base;
    int edits = std::uniform_int_distribution<int>(1, 4)(rng);
    for (int e = 0; e < edits; e++) {
      size_t pos = std::uniform_int_distribution<size_t>(0, s.size() - 1)(rng);
      s[pos] = alphabet[rng() % (sizeof(alphabet) - 1)];
    }
    auto m = parseGuestMessage(s, kMem);
    if (!m || m->kind != ParsedMessage::Kind::kReport)
      continue;
    accepted++;
    const GuestReport& r = m->report;
    EXPECT_LE(r.hotSetBytes, kMem) << s;
    EXPECT_LE(r.fastResidentBytes + r.slowResidentBytes, kMem) << s;
    for (size_t k = 0; k < r.curve.size(); k++) {
      EXPECT_GE(r.curve[k].share, 0.0);
      EXPECT_LE(r.curve[k].share, 1.0);
      if (k) {
        EXPECT_GT(r.curve[k].fastBytes, r.curve[k - 1].fastBytes);
      }
    }
  }
  EXPECT_GT(accepted, 0);
}

TEST(MessageFuzz, HugeAndGarbageStreamsAreBoundedAndCounted) {
  GuestLink link("vm", "/nonexistent", kMem);
  std::string huge(200 * 1024, 'a');
  link.consume(huge);  // no newline: discarded as it arrives
  link.consume("\n");
  link.consume(std::string("{\"v\":1,") + std::string(70000, ' ') + "}\n");
  link.consume("garbage\n");
  link.consume(std::string(kReport) + "\n");
  EXPECT_EQ(link.counters().oversized, 2u);
  EXPECT_EQ(link.counters().malformed, 1u);
  EXPECT_EQ(link.counters().reports, 1u);
  auto r = link.takeReport();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->seq, 17u);
  EXPECT_FALSE(link.takeReport());
}

// A rejected field is reported by its type; a deeply nested value is not
// dumped (recursively) into the message that is logged.
TEST(Message, DeeplyNestedFieldIsReportedByItsType) {
  std::string deep = std::string(30000, '[') + std::string(30000, ']');
  for (const char* key : {"hot_set_bytes", "curve"}) {
    std::string line = withField(key, 0);
    line.replace(
        line.find(std::string("\"") + key + "\":0") + std::strlen(key) + 3, 1,
        deep);
    auto m = parseGuestMessage(line, kMem);
    std::string problem = m ? m->curveProblem : m.message();
    EXPECT_NE(problem.find("array"), std::string::npos) << key;
    EXPECT_LT(problem.size(), 200u) << key;
  }
}

// Every rejection is counted under one reason, and the reasons add up to
// the link's malformed + oversized (the status document's
// rejected_messages).
TEST(Message, RejectionsAreCountedByReason) {
  auto reasonOf = [](const std::string& line) {
    RejectReason why = RejectReason::kCount;
    auto m = parseGuestMessage(line, kMem, &why);
    EXPECT_FALSE(m) << line;
    return std::string(rejectReasonName(why));
  };
  EXPECT_EQ(reasonOf("garbage"), "not_json");
  EXPECT_EQ(reasonOf("[1,2]"), "not_json");
  EXPECT_EQ(reasonOf(withField("v", 2)), "bad_version");
  EXPECT_EQ(reasonOf(R"({"v":1})"), "bad_version");
  EXPECT_EQ(reasonOf(withField("hot_set_bytes", -1)), "bad_field");
  EXPECT_EQ(reasonOf(withField("seq", "x")), "bad_field");
  EXPECT_EQ(reasonOf(R"({"v":1,"type":"report"})"), "bad_field");
  EXPECT_EQ(reasonOf(withField("hot_set_bytes", 16 * kGiB)), "implausible");
  EXPECT_EQ(reasonOf(withField("hot_set_bytes", 2 * kGiB)), "implausible");
  EXPECT_EQ(reasonOf(std::string(kMaxMessageBytes + 1, ' ')), "oversized");

  GuestLink link("vm", "/nonexistent", kMem);
  link.consume("garbage\n" + withField("v", 2) + "\n" +
               withField("hot_set_bytes", 16 * kGiB) + "\n" +
               std::string(70000, 'x') + "\n" + kReport + "\n");
  const LinkCounters& c = link.counters();
  auto count = [&](RejectReason r) {
    return c.rejected[static_cast<size_t>(r)];
  };
  EXPECT_EQ(count(RejectReason::kNotJson), 1u);
  EXPECT_EQ(count(RejectReason::kBadVersion), 1u);
  EXPECT_EQ(count(RejectReason::kBadField), 0u);
  EXPECT_EQ(count(RejectReason::kImplausible), 1u);
  EXPECT_EQ(count(RejectReason::kOversized), 1u);
  uint64_t sum = 0;
  for (uint64_t n : c.rejected)
    sum += n;
  EXPECT_EQ(sum, c.malformed + c.oversized);
  EXPECT_EQ(c.reports, 1u);
}
