// SPDX-License-Identifier: GPL-2.0
/*
 * htier sysfs ABI: every documented file exists with its mode, good writes
 * take effect, and every bad write fails with an error and changes nothing.
 */
#include "kselftest_harness.h"
#include "htier_test.h"

struct abi_file {
	const char *name;
	mode_t mode;
};

static const struct abi_file abi_files[] = {
	{ "enabled", 0644 }, { "sampler", 0644 }, { "sampler_reason", 0444 },
	{ "fast_nodes", 0644 }, { "slow_nodes", 0644 },
	{ "quota_bytes", 0644 }, { "scan_interval_ms", 0644 },
	{ "cooling_period_scans", 0644 }, { "migrate_max_mbps", 0644 },
	{ "migrate_batch_pages", 0644 }, { "pebs_sample_period", 0644 },
	{ "pebs_cpu_permil", 0644 }, { "scope_pids", 0644 },
	{ "scope_cgroup", 0644 }, { "scan_interval_max_ms", 0644 },
	{ "abit_window_ms", 0644 }, { "pebs_events", 0644 },
	{ "stats/migrate_us", 0444 }, { "stats/abit_window_us", 0444 },
	{ "stats/scan_interval_now_ms", 0444 }, { "stats/active_bytes", 0444 },
	{ "stats/fast_resident_bytes", 0444 },
	{ "stats/slow_resident_bytes", 0444 },
	{ "stats/hot_set_bytes", 0444 }, { "stats/promoted_pages", 0444 },
	{ "stats/demoted_pages", 0444 }, { "stats/promote_failed", 0444 },
	{ "stats/demote_failed", 0444 }, { "stats/samples", 0444 },
	{ "stats/samples_fast", 0444 }, { "stats/samples_slow", 0444 },
	{ "stats/hotness_histogram", 0444 },
	{ "cpu_permil", 0644 }, { "cpu_boost_permil", 0644 },
	{ "stats/cpu_permil_now", 0444 }, { "stats/boost_ms", 0444 },
	{ "stats/boost_grew", 0444 }, { "stats/boost_jumped", 0444 },
	{ "stats/boost_moving", 0444 }, { "stats/boost_owed", 0444 },
	{ "stats/owed_pages", 0444 }, { "stats/sample_windows", 0444 },
	{ "stats/aged_rounds", 0444 },
	{ "stats/spread_regions", 0444 },
};

FIXTURE(abi) {};

FIXTURE_SETUP(abi)
{
	const char *why = htier_unfit(false);

	if (why)
		SKIP(return, "%s", why);
}

FIXTURE_TEARDOWN(abi) {}

/* Every contract file is there, with the documented mode. */
TEST_F(abi, files_present_with_modes)
{
	char path[256];
	struct stat st;
	size_t i;

	for (i = 0; i < sizeof(abi_files) / sizeof(abi_files[0]); i++) {
		snprintf(path, sizeof(path), HTIER_SYSFS "/%s", abi_files[i].name);
		ASSERT_EQ(0, stat(path, &st)) TH_LOG("missing %s", path);
		EXPECT_EQ(abi_files[i].mode, st.st_mode & 0777)
			TH_LOG("%s has mode %o", path, st.st_mode & 0777);
	}
}

/* sampler lists all samplers, the active one in brackets. */
TEST_F(abi, sampler_lists_active)
{
	char buf[128];

	ASSERT_EQ(0, htier_read("sampler", buf, sizeof(buf)));
	EXPECT_TRUE(strstr(buf, "auto") && strstr(buf, "pebs") &&
		    strstr(buf, "abit")) TH_LOG("sampler reads '%s'", buf);
	EXPECT_TRUE(strstr(buf, "[pebs]") || strstr(buf, "[abit]"))
		TH_LOG("no active sampler in '%s'", buf);
}

/* Default tiers: nodes with CPUs are fast, CPU-less nodes slow. */
TEST_F(abi, default_nodes)
{
	char buf[64];

	if (nr_memory_nodes() < 2)
		SKIP(return, "needs two NUMA nodes");
	ASSERT_EQ(0, htier_read("fast_nodes", buf, sizeof(buf)));
	EXPECT_STREQ("0", buf);
	ASSERT_EQ(0, htier_read("slow_nodes", buf, sizeof(buf)));
	EXPECT_STREQ("1", buf);
}

struct bad_write {
	const char *file;
	const char *value;
};

static const struct bad_write bad_writes[] = {
	{ "enabled", "2" }, { "enabled", "-1" }, { "enabled", "maybe" },
	{ "enabled", "\n" },
	{ "sampler", "magic" }, { "sampler", "\n" }, { "sampler", "abitx" },
	{ "fast_nodes", "7" }, { "fast_nodes", "0-9" }, { "fast_nodes", "\n" },
	{ "fast_nodes", "x" }, { "fast_nodes", "1" }, { "fast_nodes", "-1" },
	{ "slow_nodes", "0" }, { "slow_nodes", "99" }, { "slow_nodes", "\n" },
	{ "slow_nodes", "0,1" },
	{ "quota_bytes", "-1" }, { "quota_bytes", "abc" }, { "quota_bytes", "\n" },
	{ "quota_bytes", "18446744073709551616" }, { "quota_bytes", "1e9" },
	{ "quota_bytes", "12 34" }, { "quota_bytes", "maximum" },
	{ "scan_interval_ms", "0" }, { "scan_interval_ms", "9999999" },
	{ "scan_interval_ms", "-5" }, { "scan_interval_ms", "fast" },
	{ "scan_interval_max_ms", "0" }, { "scan_interval_max_ms", "x" },
	{ "abit_window_ms", "60001" }, { "abit_window_ms", "-1" },
	{ "cooling_period_scans", "0" }, { "cooling_period_scans", "100000" },
	{ "migrate_batch_pages", "0" }, { "migrate_batch_pages", "1000000" },
	{ "migrate_max_mbps", "-1" }, { "migrate_max_mbps", "99999999999" },
	{ "pebs_sample_period", "1" }, { "pebs_cpu_permil", "0" },
	{ "pebs_cpu_permil", "1001" },
	{ "cpu_permil", "0" }, { "cpu_permil", "1001" },
	{ "cpu_boost_permil", "1001" }, { "cpu_boost_permil", "-1" },
	{ "cpu_boost_permil", "lots" },
	{ "pebs_events", "load type=4 config=0x0 precise=2" },
	{ "pebs_events", "load type=4 config=0x81d0 precise=9" },
	{ "pebs_events", "garbage" },
	{ "scope_pids", "-1" }, { "scope_pids", "abc" }, { "scope_pids", "1,x" },
	{ "scope_pids", " \n" }, { "scope_pids", "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17" },
	{ "scope_cgroup", "/no/such/cgroup" }, { "scope_cgroup", "relative" },
	{ "stats/promoted_pages", "0" },
};

/* Each bad write fails with an error; the file reads as before. */
TEST_F(abi, bad_writes_rejected_unchanged)
{
	size_t i;

	for (i = 0; i < sizeof(bad_writes) / sizeof(bad_writes[0]); i++) {
		const struct bad_write *bw = &bad_writes[i];
		char before[512], after[512];
		int err;

		ASSERT_EQ(0, htier_read(bw->file, before, sizeof(before)));
		err = htier_write(bw->file, bw->value);
		EXPECT_TRUE(err == -EINVAL || err == -ERANGE || err == -EBUSY ||
			    err == -ENOENT || err == -EACCES || err == -EIO)
			TH_LOG("write '%s' to %s gave %d", bw->value, bw->file, err);
		ASSERT_EQ(0, htier_read(bw->file, after, sizeof(after)));
		EXPECT_STREQ(before, after)
			TH_LOG("%s changed by bad write '%s'", bw->file, bw->value);
	}
}

/* Good writes take effect and read back in canonical form. */
TEST_F(abi, good_writes_round_trip)
{
	char buf[64], saved[64];

	ASSERT_EQ(0, htier_read("quota_bytes", saved, sizeof(saved)));
	ASSERT_EQ(0, htier_write("quota_bytes", "1048576"));
	ASSERT_EQ(0, htier_read("quota_bytes", buf, sizeof(buf)));
	EXPECT_STREQ("1048576", buf);
	ASSERT_EQ(0, htier_write("quota_bytes", "max\n"));
	ASSERT_EQ(0, htier_read("quota_bytes", buf, sizeof(buf)));
	EXPECT_STREQ("max", buf);
	ASSERT_EQ(0, htier_write("quota_bytes", saved));

	ASSERT_EQ(0, htier_write("scope_pids", "1,2"));
	ASSERT_EQ(0, htier_read("scope_pids", buf, sizeof(buf)));
	EXPECT_STREQ("1,2", buf);
	ASSERT_EQ(0, htier_write("scope_pids", "all"));
	ASSERT_EQ(0, htier_read("scope_pids", buf, sizeof(buf)));
	EXPECT_STREQ("", buf);

	ASSERT_EQ(0, htier_write("scope_cgroup", "/"));
	ASSERT_EQ(0, htier_write("scope_cgroup", ""));

	ASSERT_EQ(0, htier_write("enabled", "0"));
	ASSERT_EQ(0, htier_read("enabled", buf, sizeof(buf)));
	EXPECT_STREQ("0", buf);
	ASSERT_EQ(0, htier_write("enabled", "1"));
}

/* The histogram is one line of HTIER_NR_BINS counts. */
TEST_F(abi, histogram_format)
{
	char buf[512], *tok, *save;
	int n = 0;

	ASSERT_EQ(0, htier_read("stats/hotness_histogram", buf, sizeof(buf)));
	EXPECT_EQ(NULL, strchr(buf, '\n'));
	for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		char *end;

		strtoull(tok, &end, 10);
		EXPECT_EQ(0, *end) TH_LOG("bad count '%s'", tok);
		n++;
	}
	EXPECT_EQ(16, n);
}

TEST_HARNESS_MAIN
