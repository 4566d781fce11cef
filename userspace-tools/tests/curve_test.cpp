// SPDX-License-Identifier: GPL-2.0
//
// Properties of the access-share curve sent in report messages.
#include <gtest/gtest.h>

#include <random>

#include "common/curve.h"

namespace htier {
namespace {

constexpr double kEps = 1e-9;

void expectCurveProperties(const std::vector<uint64_t>& hist, const std::vector<CurvePoint>& c) {
  ASSERT_FALSE(c.empty());
  EXPECT_EQ(c.front(), (CurvePoint{0, 0.0}));
  uint64_t pages = 0;
  double accesses = 0;
  for (size_t i = 0; i < hist.size(); ++i) {
    pages += hist[i];
    accesses += hist[i] * binAccessRate(i);
  }
  if (accesses == 0) {
    EXPECT_EQ(c.size(), 1u);
    return;
  }
  EXPECT_EQ(c.back().fastBytes, pages * 4096);
  EXPECT_EQ(c.back().accessShare, 1.0);
  for (size_t i = 1; i < c.size(); ++i) {
    EXPECT_GT(c[i].fastBytes, c[i - 1].fastBytes) << "point " << i;
    EXPECT_GE(c[i].accessShare, c[i - 1].accessShare - kEps) << "point " << i;
    EXPECT_LE(c[i].accessShare, 1.0);
  }
  // Concave: slopes never increase.
  double prevSlope = INFINITY;
  for (size_t i = 1; i < c.size(); ++i) {
    double slope = (c[i].accessShare - c[i - 1].accessShare) / double(c[i].fastBytes - c[i - 1].fastBytes);
    EXPECT_LE(slope, prevSlope * (1 + 1e-9) + 1e-18) << "point " << i;
    prevSlope = slope;
  }
}

TEST(Curve, BinRatesAreMidpointsOfLog2Ranges) {
  EXPECT_EQ(binAccessRate(0), 0.0);
  EXPECT_EQ(binAccessRate(1), 1.0);   // {1}
  EXPECT_EQ(binAccessRate(2), 2.5);   // {2, 3}
  EXPECT_EQ(binAccessRate(3), 5.5);   // {4..7}
  for (size_t i = 2; i < 60; ++i) EXPECT_GT(binAccessRate(i), binAccessRate(i - 1));
}

TEST(Curve, EmptyAndIdleHistogramsSayNoAccesses) {
  EXPECT_EQ(accessShareCurve({}), (std::vector<CurvePoint>{{0, 0.0}}));
  EXPECT_EQ(accessShareCurve({5000, 0, 0}), (std::vector<CurvePoint>{{0, 0.0}}));
}

TEST(Curve, KnownValues) {
  // 10 cold pages, 2 pages at rate 1, 1 page at rate 2.5: total 4.5.
  auto c = accessShareCurve({10, 2, 1});
  ASSERT_EQ(c.size(), 4u);
  EXPECT_EQ(c[1].fastBytes, 4096u);
  EXPECT_NEAR(c[1].accessShare, 2.5 / 4.5, kEps);
  EXPECT_EQ(c[2].fastBytes, 3 * 4096u);
  EXPECT_NEAR(c[2].accessShare, 1.0, kEps);
  EXPECT_EQ(c[3], (CurvePoint{13 * 4096, 1.0}));
  expectCurveProperties({10, 2, 1}, c);
}

TEST(Curve, SkipsEmptyBins) {
  auto c = accessShareCurve({0, 0, 0, 7, 0, 0});
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[1], (CurvePoint{7 * 4096, 1.0}));
}

TEST(Curve, RandomHistogramsAreMonotoneConcaveAndEndAtOne) {
  std::mt19937_64 rng(42);
  for (int iter = 0; iter < 2000; ++iter) {
    std::vector<uint64_t> hist(rng() % 40);
    for (auto& n : hist) n = (rng() % 3 == 0) ? 0 : rng() % (1u << (rng() % 24));
    SCOPED_TRACE("iteration " + std::to_string(iter));
    expectCurveProperties(hist, accessShareCurve(hist));
    if (HasFailure()) return;
  }
}

TEST(Curve, HugeCountsSaturateInsteadOfWrapping) {
  auto c = accessShareCurve({UINT64_MAX, UINT64_MAX, UINT64_MAX});
  for (size_t i = 1; i < c.size(); ++i) EXPECT_GE(c[i].fastBytes, c[i - 1].fastBytes);
  EXPECT_EQ(c.back().accessShare, 1.0);
}

}  // namespace
}  // namespace htier
