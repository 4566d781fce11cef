// SPDX-License-Identifier: GPL-2.0
//
// Guest <-> host message encoding, decoding, and hostile input: the one
// codec both htier-agent and htier-provisiond use.
#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
#include <random>

#include "htier/protocol/message.h"

namespace htier::protocol {
namespace {

DecodeError failureOf(std::string_view line) {
  auto d = decodeMessage(line);
  if (!std::holds_alternative<DecodeFailure>(d))
    return DecodeError::kCount;
  return std::get<DecodeFailure>(d).kind;
}

TEST(Message, ReportRoundTrip) {
  ReportMessage r;
  r.seq = 17;
  r.fastResidentBytes = 1ull << 30;
  r.slowResidentBytes = 3ull << 30;
  r.hotSetBytes = 123456789;
  r.quotaBytes = kUnlimitedQuotaBytes;
  r.quotaUnlimited = true;
  r.samplesFast = 1000;
  r.samplesSlow = UINT64_MAX;
  r.curve = std::vector<CurvePoint>{{0, 0.0}, {4096, 0.3}, {8192, 1.0}};
  r.lastQuotaSeq = 9;
  std::string line = encodeMessage(r);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_EQ(line.rfind(R"({"v":1,"type":"report","seq":17,)", 0), 0u) << line;
  auto d = decodeMessage(line);
  ASSERT_TRUE(std::holds_alternative<Message>(d))
      << std::get<DecodeFailure>(d).detail;
  EXPECT_EQ(std::get<ReportMessage>(std::get<Message>(d)), r);
}

TEST(Message, ReportWithoutCurveRoundTrips) {
  ReportMessage r;
  r.seq = 1;
  auto d = decodeMessage(encodeMessage(r));
  ASSERT_TRUE(std::holds_alternative<Message>(d));
  EXPECT_FALSE(std::get<ReportMessage>(std::get<Message>(d)).curve);
}

TEST(Message, QuotaRoundTripAndUnknownFieldsIgnored) {
  QuotaMessage q{9, 268435456, 2000};
  auto d = decodeMessage(encodeMessage(q));
  ASSERT_TRUE(std::holds_alternative<Message>(d));
  EXPECT_EQ(std::get<QuotaMessage>(std::get<Message>(d)), q);

  auto e = decodeMessage(
      R"({"type":"quota","v":1,"seq":1,"fast_bytes":2,"effective_in_ms":3,"why":{"x":[1]}})");
  ASSERT_TRUE(std::holds_alternative<Message>(e));
  EXPECT_EQ(std::get<QuotaMessage>(std::get<Message>(e)),
            (QuotaMessage{1, 2, 3}));
}

TEST(Message, RejectsHostileInputWithTheRightReason) {
  EXPECT_EQ(failureOf(""), DecodeError::kBadJson);
  EXPECT_EQ(failureOf("{"), DecodeError::kBadJson);
  EXPECT_EQ(failureOf("{\"v\":1,\"type\":\"quota\"} trailing"),
            DecodeError::kBadJson);
  EXPECT_EQ(failureOf("\xff\xfe{}"), DecodeError::kBadJson);
  EXPECT_EQ(
      failureOf(
          R"({"v":1,"type":"quota","seq":1,"fast_bytes":"\xc3\x28","effective_in_ms":1})"),
      DecodeError::kBadJson);
  EXPECT_EQ(failureOf("[1,2]"), DecodeError::kNotObject);
  EXPECT_EQ(failureOf("42"), DecodeError::kNotObject);
  EXPECT_EQ(failureOf(R"({"type":"quota"})"), DecodeError::kMissingField);
  EXPECT_EQ(
      failureOf(
          R"({"v":2,"type":"quota","seq":1,"fast_bytes":1,"effective_in_ms":1})"),
      DecodeError::kBadVersion);
  EXPECT_EQ(failureOf(R"({"v":"1","type":"quota"})"), DecodeError::kBadVersion);
  EXPECT_EQ(failureOf(R"({"v":1,"type":"reboot"})"), DecodeError::kUnknownType);
  EXPECT_EQ(failureOf(R"({"v":1,"type":7})"), DecodeError::kBadField);
  EXPECT_EQ(failureOf(R"({"v":1})"), DecodeError::kMissingField);
  EXPECT_EQ(failureOf(R"({"v":1,"type":"quota","seq":1,"effective_in_ms":1})"),
            DecodeError::kMissingField);
  for (const char* bad : {"-5", "1.5", "1e30", "null"})
    EXPECT_EQ(failureOf(std::string(R"({"v":1,"type":"quota","seq":1,)") +
                        R"("fast_bytes":)" + bad + R"(,"effective_in_ms":1})"),
              DecodeError::kBadField)
        << bad;
  EXPECT_EQ(failureOf(R"({"v":1,"type":"quota","seq":-1,"fast_bytes":1,)"
                      R"("effective_in_ms":1})"),
            DecodeError::kBadField);
  std::string longLine = R"({"v":1,"type":"quota","pad":")" +
                         std::string(kMaxMessageBytes, 'x') + "\"}";
  EXPECT_EQ(failureOf(longLine), DecodeError::kTooLong);
  std::string deep(kMaxMessageBytes / 2, '[');
  EXPECT_EQ(failureOf(deep), DecodeError::kBadJson);
  EXPECT_EQ(failureOf(deep + std::string(kMaxMessageBytes / 2, ']')),
            DecodeError::kNotObject);
}

const char* const kReportFields[] = {
    "seq",           "fast_resident_bytes", "slow_resident_bytes",
    "hot_set_bytes", "quota_bytes",         "samples_fast",
    "samples_slow"};

std::string reportWith(const std::string& key, const std::string& rawValue) {
  std::string line = R"({"v":1,"type":"report")";
  for (const char* f : kReportFields)
    line += std::string(",\"") + f + "\":" + (key == f ? rawValue : "1");
  if (std::find(std::begin(kReportFields), std::end(kReportFields), key) ==
      std::end(kReportFields))
    line += ",\"" + key + "\":" + rawValue;
  return line + "}";
}

DecodeFailure failureIn(std::string_view line) {
  auto d = decodeMessage(line);
  EXPECT_TRUE(std::holds_alternative<DecodeFailure>(d)) << line;
  if (!std::holds_alternative<DecodeFailure>(d))
    return {DecodeError::kCount, "", ""};
  return std::get<DecodeFailure>(d);
}

// The report's seven counts are required (design.md lists them; the agent
// always sends them) and null is not a count.
TEST(Message, ReportNeedsEveryCount) {
  for (const char* key : kReportFields) {
    std::string line = reportWith(key, "1");
    std::string needle = std::string(",\"") + key + "\":1";
    line.erase(line.find(needle), needle.size());
    DecodeFailure f = failureIn(line);
    EXPECT_EQ(f.kind, DecodeError::kMissingField) << line;
    EXPECT_EQ(f.field, key);
    DecodeFailure n = failureIn(reportWith(key, "null"));
    EXPECT_EQ(n.kind, DecodeError::kBadField) << key;
    EXPECT_EQ(n.field, key);
  }
  auto ok = decodeMessage(reportWith("seq", "1"));
  EXPECT_TRUE(std::holds_alternative<Message>(ok));
}

TEST(Message, FailuresNameTheirField) {
  EXPECT_EQ(failureIn(R"({"type":"quota"})").field, "v");
  EXPECT_EQ(failureIn(R"({"v":2,"type":"quota"})").field, "v");
  EXPECT_EQ(failureIn(R"({"v":1})").field, "type");
  EXPECT_EQ(failureIn(R"({"v":1,"type":[]})").field, "type");
  EXPECT_EQ(failureIn(R"({"v":1,"type":"x"})").field, "type");
  EXPECT_EQ(failureIn(reportWith("quota_seq", "-1")).field, "quota_seq");
  EXPECT_EQ(failureIn(reportWith("quota_unlimited", "1")).field,
            "quota_unlimited");
  EXPECT_EQ(failureIn("nope").field, "");
}

// A malformed curve is dropped on its own, saying why; the report counts.
TEST(Message, BadCurveIsDroppedAndTheReportKept) {
  std::string big = "[";
  for (int i = 1; i <= 257; i++)
    big += (i > 1 ? ",[" : "[") + std::to_string(i * 4096) + ",0.5]";
  big += "]";
  const std::pair<std::string, const char*> curves[] = {
      {"[[0,2.0]]", "share outside"},
      {"[[0,-0.1]]", "share outside"},
      {"[[8192,0.5],[4096,0.6]]", "strictly increasing"},
      {"[[4096,0.5],[4096,0.6]]", "strictly increasing"},
      {"[[4096,0.6],[8192,0.5]]", "share decreases"},
      {"[[-5,0.5]]", "not [bytes, share]"},
      {"[[1,2,3]]", "not [bytes, share]"},
      {"[[1.5,0.5]]", "not [bytes, share]"},
      {"{\"a\":1}", "not an array"},
      {"null", "not an array"},
      {big, "257 points"},
  };
  for (const auto& [curve, why] : curves) {
    auto d = decodeMessage(reportWith("curve", curve));
    ASSERT_TRUE(std::holds_alternative<Message>(d)) << curve;
    const auto& r = std::get<ReportMessage>(std::get<Message>(d));
    EXPECT_FALSE(r.curve) << curve;
    EXPECT_NE(r.curveProblem.find(why), std::string::npos)
        << curve << ": " << r.curveProblem;
    EXPECT_EQ(r.hotSetBytes, 1u);
  }
  auto d = decodeMessage(
      reportWith("curve", "[[0,0],[4096,0.5],[8192,0.5],[12288,1]]"));
  const auto& r = std::get<ReportMessage>(std::get<Message>(d));
  ASSERT_TRUE(r.curve);
  EXPECT_EQ(r.curve->size(), 4u);
  EXPECT_TRUE(r.curveProblem.empty());
}

// A rejected value is described by its type: a deep one is never dumped
// (recursively) into the detail that gets logged.
TEST(Message, DeepValuesAreDescribedByType) {
  std::string deep = std::string(30000, '[') + std::string(30000, ']');
  const std::string lines[] = {
      reportWith("hot_set_bytes", deep),
      reportWith("quota_seq", deep),
      reportWith("quota_unlimited", deep),
      R"({"v":)" + deep + R"(,"type":"report"})",
      R"({"v":1,"type":)" + deep + "}",
  };
  for (const auto& line : lines) {
    DecodeFailure f = failureIn(line);
    EXPECT_TRUE(f.kind == DecodeError::kBadField ||
                f.kind == DecodeError::kBadVersion)
        << f.detail;
    EXPECT_NE(f.detail.find("an array (1 element)"), std::string::npos)
        << f.detail;
    EXPECT_LT(f.detail.size(), 200u);
  }
  auto d = decodeMessage(reportWith("curve", "[" + deep + "]"));
  const auto& r = std::get<ReportMessage>(std::get<Message>(d));
  EXPECT_NE(r.curveProblem.find("an array (1 element)"), std::string::npos)
      << r.curveProblem;
  EXPECT_LT(r.curveProblem.size(), 200u);
}

// Details are printable ASCII whatever the line held.
TEST(Message, UnknownTypeIsShownPrintable) {
  DecodeFailure f = failureIn(R"({"v":1,"type":"caf\u00e9\u0001)" +
                              std::string(100, 'x') + R"("})");
  EXPECT_EQ(f.kind, DecodeError::kUnknownType);
  for (char c : f.detail)
    EXPECT_TRUE(c >= 0x20 && c < 0x7f) << f.detail;
  EXPECT_LT(f.detail.size(), 120u);
}

// The line each side sends starts with the contract's fields in order.
TEST(Message, EncodingFollowsTheContractsFieldOrder) {
  EXPECT_EQ(
      encodeMessage(QuotaMessage{9, 1073741824, 2000}),
      R"({"v":1,"type":"quota","seq":9,"fast_bytes":1073741824,"effective_in_ms":2000})");
  ReportMessage r;
  r.curveProblem = "never encoded";
  EXPECT_EQ(
      encodeMessage(r),
      R"({"v":1,"type":"report","seq":0,"fast_resident_bytes":0,"slow_resident_bytes":0,"hot_set_bytes":0,)"
      R"("quota_bytes":0,"samples_fast":0,"samples_slow":0})");
}

TEST(Message, FuzzRandomBytesNeverCrash) {
  std::mt19937_64 rng(7);
  const std::string valid = encodeMessage(QuotaMessage{3, 1 << 20, 500});
  const std::string alphabet =
      "{}[]\":,0123456789-.eE truefalsnquotavypefast_bytes\\u\x01\xff";
  int accepted = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    std::string line;
    switch (iter % 3) {
      case 0:  // raw random bytes
        line.resize(rng() % 200);
        for (auto& ch : line)
          ch = static_cast<char>(rng());
        break;
      case 1:  // JSON-ish tokens
        for (size_t n = rng() % 120; n > 0; --n)
          line += alphabet[rng() % alphabet.size()];
        break;
      default:  // mutations of a valid message
        line = valid;
        for (int m = 1 + rng() % 4; m > 0; --m) {
          size_t pos = rng() % line.size();
          switch (rng() % 3) {
            case 0:
              line[pos] = static_cast<char>(rng());
              break;
            case 1:
              line.erase(pos, 1);
              break;
            default:
              line.insert(pos, 1, alphabet[rng() % alphabet.size()]);
              break;
          }
          if (line.empty())
            line = "x";
        }
    }
    auto d = decodeMessage(line);
    if (std::holds_alternative<Message>(d)) {
      ++accepted;
      // Whatever was accepted must satisfy the contract's types.
      ASSERT_TRUE(std::holds_alternative<QuotaMessage>(std::get<Message>(d)) ||
                  std::holds_alternative<ReportMessage>(std::get<Message>(d)));
    }
  }
  EXPECT_LT(accepted, 20000);
}

}  // namespace
}  // namespace htier::protocol
