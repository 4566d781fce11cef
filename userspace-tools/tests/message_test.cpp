// SPDX-License-Identifier: GPL-2.0
//
// Guest <-> host message encoding, decoding, and hostile input.
#include <gtest/gtest.h>

#include <random>

#include "common/message.h"

namespace htier {
namespace {

DecodeError failureOf(std::string_view line) {
  auto d = decodeMessage(line);
  if (!std::holds_alternative<DecodeFailure>(d)) return DecodeError::kCount;
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
  ASSERT_TRUE(std::holds_alternative<Message>(d)) << std::get<DecodeFailure>(d).detail;
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

  auto e = decodeMessage(R"({"type":"quota","v":1,"seq":1,"fast_bytes":2,"effective_in_ms":3,"why":{"x":[1]}})");
  ASSERT_TRUE(std::holds_alternative<Message>(e));
  EXPECT_EQ(std::get<QuotaMessage>(std::get<Message>(e)), (QuotaMessage{1, 2, 3}));
}

TEST(Message, RejectsHostileInputWithTheRightReason) {
  EXPECT_EQ(failureOf(""), DecodeError::kBadJson);
  EXPECT_EQ(failureOf("{"), DecodeError::kBadJson);
  EXPECT_EQ(failureOf("{\"v\":1,\"type\":\"quota\"} trailing"), DecodeError::kBadJson);
  EXPECT_EQ(failureOf("\xff\xfe{}"), DecodeError::kBadJson);
  EXPECT_EQ(failureOf(R"({"v":1,"type":"quota","seq":1,"fast_bytes":"\xc3\x28","effective_in_ms":1})"),
            DecodeError::kBadJson);
  EXPECT_EQ(failureOf("[1,2]"), DecodeError::kNotObject);
  EXPECT_EQ(failureOf("42"), DecodeError::kNotObject);
  EXPECT_EQ(failureOf(R"({"type":"quota"})"), DecodeError::kMissingField);
  EXPECT_EQ(failureOf(R"({"v":2,"type":"quota","seq":1,"fast_bytes":1,"effective_in_ms":1})"),
            DecodeError::kBadVersion);
  EXPECT_EQ(failureOf(R"({"v":"1","type":"quota"})"), DecodeError::kBadVersion);
  EXPECT_EQ(failureOf(R"({"v":1,"type":"reboot"})"), DecodeError::kUnknownType);
  EXPECT_EQ(failureOf(R"({"v":1,"type":7})"), DecodeError::kBadField);
  EXPECT_EQ(failureOf(R"({"v":1})"), DecodeError::kMissingField);
  EXPECT_EQ(failureOf(R"({"v":1,"type":"quota","seq":1,"effective_in_ms":1})"), DecodeError::kMissingField);
  EXPECT_EQ(failureOf(R"({"v":1,"type":"quota","seq":1,"fast_bytes":-5,"effective_in_ms":1})"),
            DecodeError::kBadField);
  EXPECT_EQ(failureOf(R"({"v":1,"type":"quota","seq":1,"fast_bytes":1.5,"effective_in_ms":1})"),
            DecodeError::kBadField);
  EXPECT_EQ(failureOf(R"({"v":1,"type":"quota","seq":1,"fast_bytes":1e30,"effective_in_ms":1})"),
            DecodeError::kBadField);
  EXPECT_EQ(failureOf(R"({"v":1,"type":"quota","seq":1,"fast_bytes":null,"effective_in_ms":1})"),
            DecodeError::kBadField);
  EXPECT_EQ(failureOf(R"({"v":1,"type":"quota","seq":-1,"fast_bytes":1,"effective_in_ms":1})"),
            DecodeError::kBadField);
  EXPECT_EQ(failureOf(R"({"v":1,"type":"report","seq":1,"fast_resident_bytes":1,"slow_resident_bytes":1,)"
                      R"("hot_set_bytes":1,"quota_bytes":1,"samples_fast":1,"samples_slow":1,"curve":[[0,2.0]]})"),
            DecodeError::kBadField);
  std::string longLine = R"({"v":1,"type":"quota","pad":")" + std::string(kMaxMessageBytes, 'x') + "\"}";
  EXPECT_EQ(failureOf(longLine), DecodeError::kTooLong);
  std::string deep(kMaxMessageBytes / 2, '[');
  EXPECT_EQ(failureOf(deep), DecodeError::kBadJson);
  EXPECT_EQ(failureOf(deep + std::string(kMaxMessageBytes / 2, ']')), DecodeError::kNotObject);
}

TEST(Message, FuzzRandomBytesNeverCrash) {
  std::mt19937_64 rng(7);
  const std::string valid = encodeMessage(QuotaMessage{3, 1 << 20, 500});
  const std::string alphabet = "{}[]\":,0123456789-.eE truefalsnquotavypefast_bytes\\u\x01\xff";
  int accepted = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    std::string line;
    switch (iter % 3) {
      case 0:  // raw random bytes
        line.resize(rng() % 200);
        for (auto& ch : line) ch = static_cast<char>(rng());
        break;
      case 1:  // JSON-ish tokens
        for (size_t n = rng() % 120; n > 0; --n) line += alphabet[rng() % alphabet.size()];
        break;
      default:  // mutations of a valid message
        line = valid;
        for (int m = 1 + rng() % 4; m > 0; --m) {
          size_t pos = rng() % line.size();
          switch (rng() % 3) {
            case 0: line[pos] = static_cast<char>(rng()); break;
            case 1: line.erase(pos, 1); break;
            default: line.insert(pos, 1, alphabet[rng() % alphabet.size()]); break;
          }
          if (line.empty()) line = "x";
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
}  // namespace htier
