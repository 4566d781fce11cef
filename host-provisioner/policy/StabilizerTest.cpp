// SPDX-License-Identifier: GPL-2.0
#include "policy/Stabilizer.h"

#include <gtest/gtest.h>

#include "util/Units.h"

using namespace htier;

namespace {
constexpr uint64_t kB = 2 * kMiB;
const StabilizerParams kParams{5000, 64 * kMiB};

StabilizerVm vm(uint64_t cur, uint64_t prop, Millis changed = 0,
                bool ever = true) {
  return {cur, prop, 0, 8 * kGiB, kB, changed, ever};
}
}  // namespace

TEST(Stabilizer, SmallChangesAreIgnored) {
  auto out =
      stabilize(8 * kGiB, {vm(1 * kGiB, 1 * kGiB + 32 * kMiB)}, 60000, kParams);
  EXPECT_EQ(out[0], 1 * kGiB);
  out =
      stabilize(8 * kGiB, {vm(1 * kGiB, 1 * kGiB + 64 * kMiB)}, 60000, kParams);
  EXPECT_EQ(out[0], 1 * kGiB + 64 * kMiB);
}

TEST(Stabilizer, HoldTimeDelaysTheNextChange) {
  auto out = stabilize(8 * kGiB, {vm(1 * kGiB, 2 * kGiB, 1000)}, 3000, kParams);
  EXPECT_EQ(out[0], 1 * kGiB);
  out = stabilize(8 * kGiB, {vm(1 * kGiB, 2 * kGiB, 1000)}, 6000, kParams);
  EXPECT_EQ(out[0], 2 * kGiB);
  // A VM never changed since start is not held.
  out = stabilize(8 * kGiB, {vm(1 * kGiB, 2 * kGiB, 0, false)}, 10, kParams);
  EXPECT_EQ(out[0], 2 * kGiB);
}

TEST(Stabilizer, BoundsOverrideDamping) {
  StabilizerVm v = vm(256 * kMiB, 512 * kMiB, 4000);
  v.floorBytes = 512 * kMiB;  // min raised above the current quota
  auto out = stabilize(8 * kGiB, {v}, 4001, kParams);
  EXPECT_EQ(out[0], 512 * kMiB);
}

TEST(Stabilizer, HeldShrinkTrimsOthersGrowSoCapacityHolds) {
  // a is held at 3 GiB though the policy wants it at 1 GiB; b's grow into
  // that memory must wait.
  auto out = stabilize(
      4 * kGiB, {vm(3 * kGiB, 1 * kGiB, 4000), vm(1 * kGiB, 3 * kGiB, 0)}, 5000,
      kParams);
  EXPECT_EQ(out[0], 3 * kGiB);
  EXPECT_EQ(out[1], 1 * kGiB);
  EXPECT_LE(out[0] + out[1], 4 * kGiB);
}

TEST(Stabilizer, ShrinkToTheFloorIsNotHeldByHysteresis) {
  // An idle VM 32 MiB above its floor (less than the 64 MiB hysteresis)
  // returns it to the pool: b's grow gets it.
  StabilizerVm a = vm(288 * kMiB, 256 * kMiB, 1000);
  a.floorBytes = 256 * kMiB;
  auto out = stabilize(1 * kGiB, {a, vm(704 * kMiB, 768 * kMiB, 1000)}, 60000,
                       kParams);
  EXPECT_EQ(out[0], 256 * kMiB);
  EXPECT_EQ(out[1], 768 * kMiB);
  // The hold time still applies.
  out = stabilize(1 * kGiB, {a}, 2000, kParams);
  EXPECT_EQ(out[0], 288 * kMiB);
  // A small shrink that stays above the floor is still damped.
  a.proposedBytes = 272 * kMiB;
  out = stabilize(1 * kGiB, {a}, 60000, kParams);
  EXPECT_EQ(out[0], 288 * kMiB);
}
