// SPDX-License-Identifier: GPL-2.0
//
// Scenario tests for each policy: what an operator expects to see.
#include <gtest/gtest.h>

#include "policy/PolicyRegistry.h"
#include "policy/PolicyTestUtil.h"

using namespace htier;
using namespace htier::testing;

namespace {

std::vector<uint64_t> run(const std::string& policy, const PolicyInput& in) {
  auto p = makePolicy(policy);
  std::vector<uint64_t> out;
  for (const auto& q : p->allocate(in))
    out.push_back(q.bytes);
  return out;
}

}  // namespace

TEST(PolicyRegistry, ListsTheFourContractPoliciesUtilityFirst) {
  auto names = policyNames();
  ASSERT_EQ(names.size(), 4u);
  EXPECT_EQ(names[0], "utility");
  for (const auto& n : names)
    EXPECT_NE(makePolicy(n), nullptr) << n;
  EXPECT_EQ(makePolicy("nope"), nullptr);
}

TEST(UtilityPolicy, GivesMemoryWhereItBuysTheMostHits) {
  // A: 90% of hits in the first 512 MiB, then a long tail.  B: hits spread
  // evenly over 2 GiB.  With 1 GiB to give, A's steep part wins first.
  PolicyInput in;
  in.capacityBytes = 1 * kGiB;
  auto a = vmDemand("a", 0, 2 * kGiB, 2 * kGiB);
  a.curve = {{512 * kMiB, 0.9}, {2 * kGiB, 1.0}};
  auto b = vmDemand("b", 0, 2 * kGiB, 2 * kGiB);
  b.curve = {{2 * kGiB, 1.0}};
  in.vms = {a, b};
  auto q = run("utility", in);
  EXPECT_EQ(q[0], 512 * kMiB);
  EXPECT_EQ(q[1], 512 * kMiB);  // B's slope beats A's tail
}

TEST(UtilityPolicy, WeightScalesUtility) {
  PolicyInput in;
  in.capacityBytes = 1 * kGiB;
  auto a = vmDemand("a", 0, 2 * kGiB, 2 * kGiB, 1);
  auto b = vmDemand("b", 0, 2 * kGiB, 2 * kGiB, 3);
  in.vms = {a, b};  // identical linear curves; b weighs more
  auto q = run("utility", in);
  EXPECT_EQ(q[0], 0u);
  EXPECT_EQ(q[1], 1 * kGiB);
}

TEST(UtilityPolicy, IdleVmReturnsToItsFloorAndSpareStaysInPool) {
  PolicyInput in;
  in.capacityBytes = 4 * kGiB;
  in.vms = {vmDemand("busy", 256 * kMiB, 4 * kGiB, 1 * kGiB),
            vmDemand("idle", 256 * kMiB, 4 * kGiB, 0)};
  in.vms[1].currentBytes = 2 * kGiB;
  auto q = run("utility", in);
  EXPECT_EQ(q[0], 1 * kGiB);  // its hot set, no more: the rest buys nothing
  EXPECT_EQ(q[1], 256 * kMiB);
}

TEST(UtilityPolicy, GuaranteesHoldUnderContention) {
  PolicyInput in;
  in.capacityBytes = 2 * kGiB;
  in.vms = {vmDemand("hog", 0, 2 * kGiB, 2 * kGiB, 100),
            vmDemand("small", 512 * kMiB, 2 * kGiB, 2 * kGiB, 1)};
  auto q = run("utility", in);
  EXPECT_EQ(q[1], 512 * kMiB);
  EXPECT_EQ(q[0], 1536 * kMiB);
}

TEST(WeightedFairPolicy, SplitsByWeightAndRespreadsUnusedShare) {
  PolicyInput in;
  in.capacityBytes = 3 * kGiB;
  in.vms = {vmDemand("a", 0, 4 * kGiB, 4 * kGiB, 1),
            vmDemand("b", 0, 4 * kGiB, 4 * kGiB, 2)};
  auto q = run("weighted-fair", in);
  EXPECT_EQ(q[0], 1 * kGiB);
  EXPECT_EQ(q[1], 2 * kGiB);
  in.vms[1].hotSetBytes = 512 * kMiB;  // b needs less than its share
  q = run("weighted-fair", in);
  EXPECT_EQ(q[1], 512 * kMiB);
  EXPECT_EQ(q[0], 2560 * kMiB);
}

TEST(StaticPolicy, IgnoresDemand) {
  PolicyInput in;
  in.capacityBytes = 2 * kGiB;
  in.vms = {vmDemand("a", 0, 4 * kGiB, 0),
            vmDemand("b", 0, 4 * kGiB, 4 * kGiB)};
  auto q = run("static", in);
  EXPECT_EQ(q[0], 1 * kGiB);
  EXPECT_EQ(q[1], 1 * kGiB);
}

TEST(GreedyPolicy, FirstComeFirstServed) {
  PolicyInput in;
  in.capacityBytes = 2 * kGiB;
  in.vms = {vmDemand("a", 0, 4 * kGiB, 1536 * kMiB),
            vmDemand("b", 0, 4 * kGiB, 4 * kGiB)};
  auto q = run("greedy", in);
  EXPECT_EQ(q[0], 1536 * kMiB);
  EXPECT_EQ(q[1], 512 * kMiB);
}

TEST(Policies, ReasonsAreFilledIn) {
  PolicyInput in;
  in.capacityBytes = 2 * kGiB;
  in.vms = {vmDemand("a", 0, 4 * kGiB, 1 * kGiB),
            vmDemand("b", 0, 4 * kGiB, 0)};
  for (const auto& name : policyNames())
    for (const auto& q : makePolicy(name)->allocate(in))
      EXPECT_FALSE(q.reason.empty()) << name;
}
