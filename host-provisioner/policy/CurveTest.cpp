// SPDX-License-Identifier: GPL-2.0
#include "policy/Curve.h"

#include <gtest/gtest.h>

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
