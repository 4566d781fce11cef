// SPDX-License-Identifier: GPL-2.0
/*
 * htier must not stall the tenant it serves:
 *
 *  - sysfs writes do not wait for a round: a settings write (an agent
 *    applying a new quota) returns promptly even while the htier thread sits
 *    in a long accessed-bit sampling window;
 *  - the page-table walk of a large region does not stall the address
 *    space: mmap + first touch + munmap in a managed process stay fast while
 *    htier walks the process's other, large, busy region again and again.
 *
 * Runs in the test guest (node 0 fast with the 2 vCPUs, node 1 slow and
 * CPU-less, 512 MiB each, QEMU TCG).  Each test prints what it measured.
 */
#include "kselftest_harness.h"
#include "htier_test.h"
#include "htier_maplat.h"

#define MIB			(1024UL * 1024)

/* sysfs_write_does_not_wait_for_round */
#define WIN_MS			1500	/* abit window ... */
#define WIN_INTERVAL_MS		2000	/* ... in a round this long */
#define WRITE_ROUNDS		20	/* writes of each file */
#define WRITE_GAP_US		100000	/* spread over the round */
#define WRITE_BUDGET_S		8.0	/* stop early when writes block */
#define WRITE_MAX_MS		100.0
/*
 * The host sometimes deschedules a TCG guest's vCPU for a few hundred ms:
 * with a module whose writes take only the settings lock, 2 of 40 writes
 * once took 137 and 532 ms on a loaded host (the rest under 5 ms).  A write
 * that waits for the round waits in nearly every try (the module as of
 * commit cb06853: 5 to 9 of 6 to 10 writes, 1.4-2.9 s each), so what is
 * asserted is that at most 1 write in 10 takes WRITE_MAX_MS or more.
 */
#define WRITE_SLOW_PER_10	1

/* munmap_not_stalled_by_walk */
#define BUSY_MAX_MB		400	/* on the slow node, as far as it has room */
#define BUSY_MIN_MB		128
#define BUSY_SPARE_MB		48	/* left free on the slow node */
#define CHUNK_KB		64
#define LOOP_S			5.0	/* each run, htier off and on */
#define WALK_INTERVAL_MS	20	/* walks nearly back to back */
#define WALK_WINDOW_MS		10
/*
 * Measured in the test guest (both of the tenant's threads on vCPU 0,
 * 400 MiB busy, 2-core host shared with other QEMU guests), the module as
 * of commit cb06853: htier off, p99 18-46 ms; htier on, p99 198-442 ms (it
 * holds the mmap lock through a whole walk of the region, 100-400 ms under
 * TCG, unless its own CPU is wanted).  A walker that lets a waiting mmap
 * writer in after bounded work leaves the loop about as it is without
 * htier (a draft of that: off 30 ms, on 39 ms).  The maximum is reported,
 * not asserted: with htier off it ranged from 19 ms to 1.4 s, the host
 * descheduling the guest's vCPUs now and then.
 */
#define LOOP_P99_MAX_US		50000.0
/*
 * On a host busy enough that the guest misses that bound without htier
 * (p99 111 ms once, htier off), the bound is twice the p99 without htier
 * instead: the walks above made it 7 to 17 times as long.
 */
#define LOOP_P99_VS_OFF		2.0

FIXTURE(stall) {
	struct htier_saved saved;
	struct maplat_busy busy;
};

FIXTURE_SETUP(stall)
{
	const char *why = htier_unfit(true);

	if (why)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, htier_save(&self->saved));
}

FIXTURE_TEARDOWN(stall)
{
	htier_restore(&self->saved);
	maplat_busy_stop(&self->busy);
}

/* Write @val to @file; return how long the write took, in ms (< 0: error). */
static double timed_write(const char *file, long long val)
{
	double t0 = now_s();

	if (htier_writef(file, "%lld", val))
		return -1;
	return (now_s() - t0) * 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * With a 1.5 s accessed-bit window in a 2 s round, the htier thread spends
 * most of its time inside a round; quota_bytes and migrate_batch_pages
 * writes (alternating two valid values, 100 ms apart) return within 100 ms
 * all the same (all but the odd one the host delays: see above).
 */
TEST_F_TIMEOUT(stall, sysfs_write_does_not_wait_for_round, 60)
{
	static const long long quota[2] = { 256 * MIB, 192 * MIB };
	static const long long batch[2] = { 2048, 4096 };
	double lat[2 * WRITE_ROUNDS], t0, max_q = 0, max_b = 0;
	int i, n = 0, slow = 0;

	if (_metadata->skip)	/* SKIP() in the setup does not stop the test */
		return;
	/* A managed process with some memory in use. */
	ASSERT_EQ(0, maplat_busy_start(&self->busy, 16 * MIB, -1, false, 0));
	htier_reset();
	ASSERT_EQ(0, htier_write("enabled", "0"));
	ASSERT_EQ(0, htier_writef("scope_pids", "%lld", getpid()));
	ASSERT_EQ(0, htier_writef("scan_interval_ms", "%lld", WIN_INTERVAL_MS));
	ASSERT_EQ(0, htier_writef("scan_interval_max_ms", "%lld", WIN_INTERVAL_MS));
	ASSERT_EQ(0, htier_writef("abit_window_ms", "%lld", WIN_MS));
	ASSERT_EQ(0, htier_write("enabled", "1"));
	usleep(300000);		/* the thread is in its first window now */

	t0 = now_s();
	for (i = 0; i < WRITE_ROUNDS && now_s() - t0 < WRITE_BUDGET_S; i++) {
		double q = timed_write("quota_bytes", quota[i % 2]);
		double b;

		ASSERT_LE(0, q) TH_LOG("quota_bytes write failed");
		usleep(WRITE_GAP_US);
		b = timed_write("migrate_batch_pages", batch[i % 2]);
		ASSERT_LE(0, b) TH_LOG("migrate_batch_pages write failed");
		usleep(WRITE_GAP_US);
		lat[n++] = q;
		lat[n++] = b;
		max_q = q > max_q ? q : max_q;
		max_b = b > max_b ? b : max_b;
		slow += (q >= WRITE_MAX_MS) + (b >= WRITE_MAX_MS);
	}
	qsort(lat, n, sizeof(lat[0]), cmp_double);
	TH_LOG("%d writes in %.1fs (abit_window_ms %d, scan_interval_ms %d): p50 %.1f ms, max quota_bytes %.1f ms, max migrate_batch_pages %.1f ms; %d took %.0f ms or more",
	       n, now_s() - t0, WIN_MS, WIN_INTERVAL_MS, lat[n / 2], max_q,
	       max_b, slow, WRITE_MAX_MS);
	EXPECT_LE(slow * 10, n * WRITE_SLOW_PER_10)
		TH_LOG("%d of %d writes waited %.0f ms or more", slow, n,
		       WRITE_MAX_MS);
}

static void log_loop(struct __test_metadata *_metadata, const char *what,
		     const struct maplat_result *r)
{
	TH_LOG("htier %s: %zu x mmap+touch+munmap of %d KiB: p50 %.1f ms, p99 %.1f ms, max %.1f ms (next %.1f %.1f %.1f ms)",
	       what, r->iterations, CHUNK_KB, r->p50_us / 1e3, r->p99_us / 1e3,
	       r->max_us / 1e3, r->top_us[1] / 1e3, r->top_us[2] / 1e3,
	       r->top_us[3] / 1e3);
}

/*
 * A tenant on one vCPU (the other left to the rest of the guest, htier's
 * thread included): one thread reads a large region (4 KiB pages, up to
 * 400 MiB, first placed on the slow node) over and over while the main
 * thread loops mmap + touch + munmap of 64 KiB, 5 s with htier disabled,
 * then 5 s with htier walking the process every 20 ms (10 ms accessed-bit
 * window; quota 0, so that nothing is promoted and the walks, not
 * migrations, are what runs).  With htier on, the loop's p99 stays under
 * 50 ms (or twice the p99 with htier off, if that is more).
 */
TEST_F_TIMEOUT(stall, munmap_not_stalled_by_walk, 120)
{
	struct maplat_result off, on;
	long long rounds0, rounds1, free1, busy_mb, tracked;
	double bound;

	if (_metadata->skip)
		return;
	htier_reset();
	ASSERT_EQ(0, htier_write("enabled", "0"));
	ASSERT_EQ(0, htier_writef("scope_pids", "%lld", getpid()));
	ASSERT_EQ(0, htier_write("quota_bytes", "0"));
	ASSERT_EQ(0, htier_writef("scan_interval_ms", "%lld", WALK_INTERVAL_MS));
	ASSERT_EQ(0, htier_writef("scan_interval_max_ms", "%lld", WALK_INTERVAL_MS));
	ASSERT_EQ(0, htier_writef("abit_window_ms", "%lld", WALK_WINDOW_MS));

	free1 = node_free_bytes(1);
	busy_mb = free1 / (long long)MIB - BUSY_SPARE_MB;
	if (busy_mb > BUSY_MAX_MB)
		busy_mb = BUSY_MAX_MB;
	ASSERT_LE(BUSY_MIN_MB, busy_mb)
		TH_LOG("node 1 has %lld MiB free", free1 / (long long)MIB);
	ASSERT_EQ(0, maplat_pin(0));
	ASSERT_EQ(0, maplat_busy_start(&self->busy, busy_mb * MIB, 1, false, 0))
		TH_LOG("%lld MiB on node 1", busy_mb);
	TH_LOG("busy region: %lld MiB, first placed on node 1", busy_mb);
	usleep(500000);

	ASSERT_EQ(0, maplat_loop(CHUNK_KB * 1024, LOOP_S, &off));
	log_loop(_metadata, "off", &off);

	ASSERT_EQ(0, htier_write("enabled", "1"));
	sleep(1);		/* the region is tracked and being walked */
	rounds0 = htier_read_ll("stats/rounds");
	ASSERT_EQ(0, maplat_loop(CHUNK_KB * 1024, LOOP_S, &on));
	rounds1 = htier_read_ll("stats/rounds");
	tracked = htier_read_ll("stats/tracked_pages");
	log_loop(_metadata, "on ", &on);
	TH_LOG("htier on: %lld rounds during the loop, last %.0f ms, %lld pages tracked",
	       rounds1 - rounds0, htier_read_ll("stats/last_round_us") / 1e3,
	       tracked);

	/*
	 * The walker really went over the region while the loop ran: the
	 * process's other memory is a few MiB, so pages tracked past 1/16 of
	 * the region are the region's.
	 */
	ASSERT_LE(2, rounds1 - rounds0);
	ASSERT_LE(busy_mb * (long long)(MIB / PAGE_SZ) / 16, tracked);
	bound = LOOP_P99_VS_OFF * off.p99_us;
	if (bound < LOOP_P99_MAX_US)
		bound = LOOP_P99_MAX_US;
	EXPECT_LT(on.p99_us, bound)
		TH_LOG("p99 with htier %.1f ms, bound %.1f ms (%.0f ms, or %.0fx the %.1f ms without htier)",
		       on.p99_us / 1e3, bound / 1e3, LOOP_P99_MAX_US / 1e3,
		       LOOP_P99_VS_OFF, off.p99_us / 1e3);
}

TEST_HARNESS_MAIN
