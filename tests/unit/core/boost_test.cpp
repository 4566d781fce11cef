// Unit tests of the tracking budget's boost and of the hot-set shift
// detector (guest-kmod/core/policy.c): the boost follows its triggers, ends
// on its own, and never runs more than 1/HTIER_BOOST_DUTY of the time in
// the long run however often it is triggered; the shift detector answers
// to the slow tier's share of the samples, not to how many there are.
#include <gtest/gtest.h>

extern "C" {
#include "policy.h"
}

namespace {

constexpr uint64_t kMs = 1000000ULL;
constexpr uint64_t kS = 1000 * kMs;

TEST(Boost, OffUntilTriggered) {
  htier_boost b;
  htier_boost_init(&b, 5 * kS);
  for (uint64_t t = 5 * kS; t < 60 * kS; t += 200 * kMs)
    EXPECT_FALSE(htier_boost_step(&b, t, true));
  EXPECT_EQ(0u, b.total_ns);
}

TEST(Boost, LastsItsTimeAfterTheLastTrigger) {
  htier_boost b;
  htier_boost_init(&b, 0);
  htier_boost_trigger(&b, 1 * kS);
  uint64_t on_until = 0;
  for (uint64_t t = 1 * kS; t < 40 * kS; t += 100 * kMs) {
    if (t == 4 * kS)
      htier_boost_trigger(&b, t);	// a second trigger extends it
    if (htier_boost_step(&b, t, true))
      on_until = t;
  }
  // Boosted from 1 s to 4 s + HTIER_BOOST_NS, not after.
  EXPECT_GE(on_until, 4 * kS + HTIER_BOOST_NS - 100 * kMs);
  EXPECT_LT(on_until, 4 * kS + HTIER_BOOST_NS);
  EXPECT_NEAR(double(b.total_ns), double(3 * kS + HTIER_BOOST_NS),
              double(200 * kMs));
}

TEST(Boost, NeverMoreThanItsShareOfTheTime) {
  htier_boost b;
  htier_boost_init(&b, 0);
  const uint64_t end = 600 * kS;
  for (uint64_t t = 0; t < end; t += 200 * kMs) {
    htier_boost_trigger(&b, t);	// triggered every round
    htier_boost_step(&b, t, true);
  }
  // The bucket's first fill, then 1/HTIER_BOOST_DUTY of the time.
  EXPECT_LE(b.total_ns, HTIER_BOOST_BUCKET_NS + end / HTIER_BOOST_DUTY);
  EXPECT_GE(b.total_ns, end / HTIER_BOOST_DUTY);
}

TEST(Boost, BucketRefillsAfterAQuietSpell) {
  htier_boost b;
  htier_boost_init(&b, 0);
  uint64_t t = 0;
  for (; t < 100 * kS; t += 200 * kMs) {	// drain it
    htier_boost_trigger(&b, t);
    htier_boost_step(&b, t, true);
  }
  const uint64_t last = t - 200 * kMs;
  for (; t < 300 * kS; t += 200 * kMs) {	// quiet: refills, capped
    bool on = htier_boost_step(&b, t, true);
    if (t >= last + HTIER_BOOST_NS) {
      EXPECT_FALSE(on);
    }
  }
  EXPECT_EQ(HTIER_BOOST_BUCKET_NS, b.bucket_ns);
  const uint64_t before = b.total_ns;
  htier_boost_trigger(&b, t);
  uint64_t on = 0;
  for (uint64_t u = t; u < t + 30 * kS; u += 200 * kMs)
    on += htier_boost_step(&b, u, true);
  EXPECT_GE(on, 49u);	// a whole HTIER_BOOST_NS again
  EXPECT_GT(b.total_ns, before + HTIER_BOOST_NS - 300 * kMs);
}

TEST(Boost, NotAllowedIsNotPaid) {
  htier_boost b;
  htier_boost_init(&b, 0);
  htier_boost_trigger(&b, 0);
  for (uint64_t t = 0; t < 5 * kS; t += 200 * kMs)
    EXPECT_FALSE(htier_boost_step(&b, t, false));
  EXPECT_EQ(0u, b.total_ns);
  EXPECT_EQ(HTIER_BOOST_BUCKET_NS, b.bucket_ns);
  // Allowed again (cpu_boost_permil raised): the trigger still holds.
  EXPECT_TRUE(htier_boost_step(&b, 5 * kS, true));
}

// Tracking turned off while boosted: the time off is not boosted time.
// (The step after re-enabling once paid the whole spell off from the
// bucket, as if the last round's boost had run all along: boost_ms grew
// while disabled, and the bucket was empty when a new process came.)
TEST(Boost, TimeStoppedIsNotPaid) {
  htier_boost b;
  htier_boost_init(&b, 0);
  htier_boost_trigger(&b, 0);
  EXPECT_TRUE(htier_boost_step(&b, 0, true));
  EXPECT_TRUE(htier_boost_step(&b, 1 * kS, true));
  htier_boost_stop(&b);		// disabled at 1 s
  EXPECT_FALSE(htier_boost_step(&b, 61 * kS, true));	// enabled again
  EXPECT_EQ(1 * kS, b.total_ns);
  EXPECT_EQ(HTIER_BOOST_BUCKET_NS, b.bucket_ns);
  htier_boost_trigger(&b, 61 * kS);
  EXPECT_TRUE(htier_boost_step(&b, 61 * kS, true));
}

// The credit a round earns: the base rate for the time, the boosted rate
// only for the part the bucket paid.  Triggered every round for ten
// minutes, the credit is the base rate plus the boost's share of the time,
// not the boosted rate throughout (the module once credited the boosted
// rate for every interval that began boosted, however little the bucket
// paid, and htierd ran at 11% of a vCPU in a bench's steady state).
TEST(Boost, CreditFollowsWhatTheBucketPaid) {
  htier_boost b;
  htier_boost_init(&b, 0);
  const uint64_t end = 600 * kS;
  const uint32_t base = 10, boost = 100;
  uint64_t credit = 0;
  bool on = false;
  for (uint64_t t = 200 * kMs; t <= end; t += 200 * kMs) {
    htier_boost_trigger(&b, t);
    credit += htier_boost_credit(&b, t, base, boost, &on);
  }
  const double most = double(end) * base / 1000 +
                      double(HTIER_BOOST_BUCKET_NS + end / HTIER_BOOST_DUTY) *
                          (boost - base) / 1000;
  EXPECT_LE(double(credit), most);
  EXPECT_GE(double(credit), double(end) * base / 1000 +
                                double(end / HTIER_BOOST_DUTY) *
                                    (boost - base) / 1000);
  EXPECT_NEAR(double(credit) / double(end) * 1000, 10 + 90.0 / 6 + 3, 0.5);
}

TEST(Boost, CreditAtTheBaseRateWhenNotBoosted) {
  htier_boost b;
  htier_boost_init(&b, 0);
  bool on = true;
  uint64_t credit = 0;
  for (uint64_t t = 500 * kMs; t <= 10 * kS; t += 500 * kMs)
    credit += htier_boost_credit(&b, t, 10, 100, &on);
  EXPECT_FALSE(on);
  EXPECT_EQ(10 * kS * 10 / 1000, credit);
  // A boost no higher than the base rate is no boost: nothing is paid.
  htier_boost_trigger(&b, 10 * kS);
  credit = htier_boost_credit(&b, 11 * kS, 10, 10, &on);
  credit += htier_boost_credit(&b, 12 * kS, 10, 10, &on);
  EXPECT_FALSE(on);
  EXPECT_EQ(2 * kS * 10 / 1000, credit);
  EXPECT_EQ(0u, b.total_ns);
}

TEST(Boost, TriggeredCreditIsBoostedFromTheNextInterval) {
  htier_boost b;
  htier_boost_init(&b, 0);
  bool on = false;
  EXPECT_EQ(kS * 10 / 1000, htier_boost_credit(&b, kS, 10, 100, &on));
  EXPECT_FALSE(on);
  htier_boost_trigger(&b, kS);
  EXPECT_EQ(0u, htier_boost_credit(&b, kS, 10, 100, &on));	// no time
  EXPECT_TRUE(on);
  // The interval that began boosted, with a full bucket, earns the boost.
  EXPECT_EQ(kS * 100 / 1000, htier_boost_credit(&b, 2 * kS, 10, 100, &on));
  EXPECT_TRUE(on);
}

// 100k pages on slow, 30k on fast; the hot ones on fast: 6000 samples on
// fast (0.2 per page), 5000 on slow (0.05 per page): a ratio of 0.25.
TEST(Shift, HotSetMovingToSlowIsSeen) {
  htier_shift s = {};
  for (int i = 0; i < 20; i++)
    EXPECT_FALSE(htier_shift_step(&s, 5000, 11000, 100000, 130000));
  EXPECT_EQ(250u, s.avg_ratio);
  // The hot set moved to slow pages: 11000 on slow, 1500 on fast.
  EXPECT_TRUE(htier_shift_step(&s, 11000, 12500, 100000, 130000));
  EXPECT_EQ(2200u, s.last_ratio);
}

TEST(Shift, AWiderWindowOrMoreSamplesAreNoJump) {
  htier_shift s = {};
  for (int i = 0; i < 20; i++)
    EXPECT_FALSE(htier_shift_step(&s, 5000, 11000, 100000, 130000));
  // A window twice as wide: twice the cold slow pages young, the hot fast
  // ones nearer saturation.  The slow share goes from 45% to 60%, which
  // the earlier share-based detector took for a jump; the ratio does not
  // move much.
  EXPECT_FALSE(htier_shift_step(&s, 10000, 16600, 100000, 130000));
  EXPECT_LT(s.last_ratio, 500u);
  // A budget ten times larger: ten times the samples, the same rates.
  for (int i = 0; i < 5; i++)
    EXPECT_FALSE(htier_shift_step(&s, 50000, 110000, 100000, 130000));
  EXPECT_FALSE(htier_shift_step(&s, 5000, 11000, 100000, 130000));
}

TEST(Shift, FewSamplesOrOneSidedMemorySayNothing) {
  htier_shift s = {};
  for (int i = 0; i < 5; i++)
    EXPECT_FALSE(htier_shift_step(&s, 5000, 11000, 100000, 130000));
  EXPECT_FALSE(htier_shift_step(&s, 400, 400, 100000, 130000));	// 400 samples
  EXPECT_FALSE(htier_shift_step(&s, 9000, 9000, 100000, 100000));	// no fast
  EXPECT_FALSE(htier_shift_step(&s, 0, 9000, 0, 100000));	// no slow
  EXPECT_FALSE(htier_shift_step(&s, 9001, 9000, 100000, 130000));	// bad input
  EXPECT_EQ(250u, s.avg_ratio);
}

TEST(Shift, NoSamplesOnFastAtAllIsAJump) {
  htier_shift s = {};
  for (int i = 0; i < 5; i++)
    EXPECT_FALSE(htier_shift_step(&s, 5000, 11000, 100000, 130000));
  EXPECT_TRUE(htier_shift_step(&s, 9000, 9000, 100000, 130000));
  EXPECT_EQ(uint32_t(HTIER_SHIFT_RATIO_MAX), s.last_ratio);
}

// Region by region: the young slow pages of the regions a round sampled
// against the same regions' previous visit (per 10 ms of window).
TEST(Shift, RegionsThatTurnHotAreSeenInOneRound) {
  // 12 regions of cold slow pages, about 25 young each, then and now.
  EXPECT_FALSE(htier_shift_regions(310, 300));
  // A window four times shorter over saturated slow pages: at most 4x.
  EXPECT_FALSE(htier_shift_regions(4 * 300, 300));
  // Half of the twelve now hold the moved hot set, 200 young each: not
  // enough against the 4x rule; the pass (htier_shift_step) sees it.
  EXPECT_FALSE(htier_shift_regions(6 * 25 + 6 * 200, 300));
  // What a 6.12 gups bench round saw when it reached the moved hot set.
  EXPECT_TRUE(htier_shift_regions(2740, 268));
  // A few pages more in a small round are no jump.
  EXPECT_FALSE(htier_shift_regions(250, 0));
  EXPECT_TRUE(htier_shift_regions(257, 0));
}

}  // namespace
