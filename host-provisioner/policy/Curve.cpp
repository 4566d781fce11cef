// SPDX-License-Identifier: GPL-2.0
#include "policy/Curve.h"

#include <algorithm>

namespace htier {

double curveShare(const std::vector<CurvePoint>& curve, uint64_t x) {
  double px = 0, py = 0;
  for (const auto& p : curve) {
    if (x <= p.fastBytes) {
      if (p.fastBytes == px)
        return p.share;
      double t = (static_cast<double>(x) - px) /
                 (static_cast<double>(p.fastBytes) - px);
      return py + t * (p.share - py);
    }
    px = static_cast<double>(p.fastBytes);
    py = p.share;
  }
  return py;
}

std::vector<HullSegment> concaveHull(const std::vector<CurvePoint>& curve,
                                     uint64_t lo, uint64_t hi) {
  std::vector<HullSegment> out;
  if (hi <= lo)
    return out;
  struct P {
    double x, y;
  };
  std::vector<P> pts;
  pts.push_back({static_cast<double>(lo), curveShare(curve, lo)});
  for (const auto& p : curve)
    if (p.fastBytes > lo && p.fastBytes < hi)
      pts.push_back({static_cast<double>(p.fastBytes), p.share});
  pts.push_back({static_cast<double>(hi), curveShare(curve, hi)});

  // Andrew's monotone chain, upper half: drop points under the chord.
  std::vector<P> hull;
  for (const P& p : pts) {
    while (hull.size() >= 2) {
      const P& a = hull[hull.size() - 2];
      const P& b = hull.back();
      double cross = (b.x - a.x) * (p.y - a.y) - (b.y - a.y) * (p.x - a.x);
      if (cross >= 0)
        hull.pop_back();
      else
        break;
    }
    hull.push_back(p);
  }
  for (size_t i = 1; i < hull.size(); i++) {
    double dx = hull[i].x - hull[i - 1].x;
    double dy = hull[i].y - hull[i - 1].y;
    if (dx <= 0 || dy <= 0)
      break;  // slopes only fall along the hull: the rest is flat too
    out.push_back({static_cast<uint64_t>(hull[i - 1].x),
                   static_cast<uint64_t>(hull[i].x), dy / dx});
  }
  return out;
}

std::vector<CurvePoint> simplifyCurve(const std::vector<CurvePoint>& curve,
                                      size_t maxPoints) {
  if (curve.size() <= maxPoints || maxPoints < 2)
    return curve;
  // Upper hull from the implicit origin (monotone chain, as above).
  std::vector<CurvePoint> hull;
  bool origin = curve.front().fastBytes > 0;
  if (origin)
    hull.push_back({0, 0.0});
  for (const CurvePoint& p : curve) {
    while (hull.size() >= 2) {
      const CurvePoint& a = hull[hull.size() - 2];
      const CurvePoint& b = hull.back();
      double cross = (static_cast<double>(b.fastBytes) - a.fastBytes) *
                         (p.share - a.share) -
                     (b.share - a.share) *
                         (static_cast<double>(p.fastBytes) - a.fastBytes);
      if (cross >= 0)
        hull.pop_back();
      else
        break;
    }
    hull.push_back(p);
  }
  if (origin)
    hull.erase(hull.begin());
  if (hull.size() <= maxPoints)
    return hull;
  size_t top = 0;  // first vertex reaching the highest share
  for (size_t i = 0; i < hull.size(); i++)
    if (hull[i].share > hull[top].share)
      top = i;
  std::vector<CurvePoint> out;
  // Evenly spaced vertices before top (after it the hull is flat); then
  // top and the last vertex: at most maxPoints in all.
  const size_t keep = maxPoints - 2;
  for (size_t k = 1; k <= keep; k++) {
    size_t end = k * top / keep;  // vertex end - 1, if any
    if (end == 0)
      continue;
    const CurvePoint& p = hull[end - 1];
    if (out.empty() || out.back().fastBytes < p.fastBytes)
      out.push_back(p);
  }
  if (out.empty() || out.back().fastBytes < hull[top].fastBytes)
    out.push_back(hull[top]);
  if (hull.back().fastBytes > out.back().fastBytes)
    out.push_back(hull.back());
  return out;
}

std::vector<CurvePoint> curveFromHotSet(uint64_t hotSetBytes) {
  if (hotSetBytes == 0)
    return {};
  return {{hotSetBytes, 1.0}};
}

}  // namespace htier
