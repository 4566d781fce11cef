// SPDX-License-Identifier: GPL-2.0
#include "policy/Curve.h"

#include <gtest/gtest.h>

#include <algorithm>

using namespace htier;

TEST(Curve, InterpolatesFromOriginAndIsFlatAfterLastPoint) {
  std::vector<CurvePoint> c = {{100, 0.5}, {300, 0.9}};
  EXPECT_DOUBLE_EQ(curveShare(c, 0), 0.0);
  EXPECT_DOUBLE_EQ(curveShare(c, 50), 0.25);
  EXPECT_DOUBLE_EQ(curveShare(c, 200), 0.7);
  EXPECT_DOUBLE_EQ(curveShare(c, 1000), 0.9);
  EXPECT_DOUBLE_EQ(curveShare({}, 1000), 0.0);
}

TEST(Curve, HullOfConvexKneeIsOneSegment) {
  // Nothing until 100, then everything: the hull is a straight line, so the
  // policy sees the value of the whole block instead of a zero first slope.
  std::vector<CurvePoint> c = {{100, 0.0}, {200, 1.0}};
  auto h = concaveHull(c, 0, 400);
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h[0].from, 0u);
  EXPECT_EQ(h[0].to, 200u);
  EXPECT_DOUBLE_EQ(h[0].slope, 1.0 / 200);
}

TEST(Curve, HullSlopesDecreaseAndStopWhereFlat) {
  std::vector<CurvePoint> c = {{100, 0.6}, {200, 0.7}, {300, 0.95}, {400, 1.0}};
  auto h = concaveHull(c, 0, 1000);
  ASSERT_FALSE(h.empty());
  for (size_t i = 1; i < h.size(); i++) {
    EXPECT_LT(h[i].slope, h[i - 1].slope);
    EXPECT_EQ(h[i].from, h[i - 1].to);
  }
  EXPECT_EQ(h.back().to, 400u);
}

TEST(Curve, HullRespectsLowerBound) {
  std::vector<CurvePoint> c = {{100, 0.5}, {200, 1.0}};
  auto h = concaveHull(c, 150, 1000);
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h[0].from, 150u);
  EXPECT_EQ(h[0].to, 200u);
  EXPECT_TRUE(concaveHull(c, 500, 500).empty());
}

TEST(Curve, SimplifyLeavesShortCurvesAlone) {
  std::vector<CurvePoint> c = {{100, 0.2}, {200, 0.1 + 0.2}, {300, 1.0}};
  auto s = simplifyCurve(c, 32);
  ASSERT_EQ(s.size(), c.size());
  for (size_t i = 0; i < c.size(); i++) {
    EXPECT_EQ(s[i].fastBytes, c[i].fastBytes);
    EXPECT_DOUBLE_EQ(s[i].share, c[i].share);
  }
}

TEST(Curve, SimplifyBoundsPointsKeepsDemandAndNeverOverstates) {
  // 256 points of a concave curve that saturates at 200 * 4096, then flat.
  std::vector<CurvePoint> c;
  for (uint64_t i = 1; i <= 256; i++) {
    double x = std::min<double>(i, 200);
    c.push_back({i * 4096, 1.0 - (1.0 - x / 200) * (1.0 - x / 200)});
  }
  auto s = simplifyCurve(c, 32);
  ASSERT_LE(s.size(), 32u);
  ASSERT_GE(s.size(), 3u);
  // The first point at the top share (demand) and the last point survive.
  EXPECT_EQ(s.back().fastBytes, 256u * 4096);
  bool top = false;
  for (const auto& p : s)
    top |= p.fastBytes == 200u * 4096 && p.share == 1.0;
  EXPECT_TRUE(top);
  for (size_t i = 1; i < s.size(); i++) {
    EXPECT_LT(s[i - 1].fastBytes, s[i].fastBytes);
    EXPECT_LE(s[i - 1].share, s[i].share);
  }
  // Below the original everywhere, and close to it (concave, 30 chords).
  for (uint64_t x = 0; x <= 260 * 4096; x += 1024) {
    EXPECT_LE(curveShare(s, x), curveShare(c, x) + 1e-12);
    EXPECT_GE(curveShare(s, x), curveShare(c, x) - 0.01);
  }
}
