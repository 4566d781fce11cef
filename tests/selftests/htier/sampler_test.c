// SPDX-License-Identifier: GPL-2.0
/*
 * htier samplers: where the (virtual) PMU gives no PEBS data addresses (QEMU
 * TCG has no PMU at all), asking for pebs fails with a clear reason and the
 * module keeps tiering with the accessed-bit sampler.
 */
#include "kselftest_harness.h"
#include "htier_test.h"

static bool have_pmu(void)
{
	return access("/sys/bus/event_source/devices/cpu/type", F_OK) == 0;
}

FIXTURE(sampler) {};

FIXTURE_SETUP(sampler)
{
	const char *why = htier_unfit(false);

	if (why)
		SKIP(return, "%s", why);
}

FIXTURE_TEARDOWN(sampler)
{
	htier_write("sampler", "auto");
}

/* auto chose abit here and says why. */
TEST_F(sampler, auto_explains_choice)
{
	char buf[256];

	if (have_pmu())
		SKIP(return, "this machine has a PMU");
	ASSERT_EQ(0, htier_write("sampler", "auto"));
	ASSERT_EQ(0, htier_read("sampler", buf, sizeof(buf)));
	EXPECT_STREQ("auto pebs [abit]", buf);
	ASSERT_EQ(0, htier_read("sampler_reason", buf, sizeof(buf)));
	TH_LOG("sampler_reason: %s", buf);
	EXPECT_TRUE(strstr(buf, "auto") && strstr(buf, "no PMU"));
}

/* pebs is refused with an error; abit stays active and keeps running. */
TEST_F(sampler, pebs_refused_without_pmu_tiering_continues)
{
	char buf[256];
	long long rounds0, samples0;
	int err;

	if (have_pmu())
		SKIP(return, "this machine has a PMU");
	err = htier_write("sampler", "pebs");
	EXPECT_TRUE(err == -ENODEV || err == -EOPNOTSUPP)
		TH_LOG("writing pebs gave %d", err);
	ASSERT_EQ(0, htier_read("sampler", buf, sizeof(buf)));
	EXPECT_STREQ("auto pebs [abit]", buf);
	ASSERT_EQ(0, htier_read("sampler_reason", buf, sizeof(buf)));
	TH_LOG("sampler_reason: %s", buf);
	EXPECT_NE(NULL, strstr(buf, "pebs refused"));
	EXPECT_NE(NULL, strstr(buf, "no PMU"));

	/* Still sampling: rounds advance and accesses are seen. */
	ASSERT_EQ(0, htier_write("scope_pids", "all"));
	ASSERT_EQ(0, htier_write("enabled", "1"));
	rounds0 = htier_read_ll("stats/rounds");
	samples0 = htier_read_ll("stats/samples");
	{
		size_t n = 1024, i;
		volatile char *p = malloc(n * PAGE_SZ);
		double t0 = now_s();

		while (now_s() - t0 < 3)
			for (i = 0; i < n; i++)
				p[i * PAGE_SZ]++;
	}
	EXPECT_GT(htier_read_ll("stats/rounds"), rounds0);
	EXPECT_GT(htier_read_ll("stats/samples"), samples0);
}

TEST_HARNESS_MAIN
