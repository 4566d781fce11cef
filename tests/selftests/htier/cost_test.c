// SPDX-License-Identifier: GPL-2.0
/*
 * htier's tracking cost follows the active set, not the managed size.
 *
 * A managed process holds a large region it touched once and then leaves
 * alone, and a small region it keeps reading.  The accessed-bit sampler
 * must find the idle region's PMD entries old (x86 — and QEMU TCG's
 * walker — set the accessed bit of the non-leaf PMD entry on every
 * hardware walk, and htier clears it with the PTE bits) and skip those PTE
 * tables, reading only the active ones; a page table whose pages are
 * touched again must be read again.  The hotness table must hold the idle
 * pages all the same (they count in the residency stats), in memory
 * proportional to the tracked regions.
 */
#include "htier_test.h"
#include "kselftest_harness.h"

#define MIB		(1UL << 20)
#define IDLE_MIB	192
#define HOT_MIB		4

FIXTURE(cost) {
	struct workload w;
	char *idle;
};

FIXTURE_SETUP(cost)
{
	const char *why = htier_unfit(true);

	if (why)
		SKIP(return, "%s", why);
	memset(&self->w, 0, sizeof(self->w));
	self->idle = NULL;
	ASSERT_EQ(0, htier_write("enabled", "0"));
	ASSERT_EQ(0, htier_write("sampler", "abit"));
}

FIXTURE_TEARDOWN(cost)
{
	if (self->w.thread)
		workload_stop(&self->w);
	htier_write("abit_window_ms", "0");
	htier_write("scan_interval_max_ms", "4000");
	htier_write("cpu_permil", "10");
	htier_write("cpu_boost_permil", "100");
	htier_reset();
	if (self->w.base)
		munmap(self->w.base, self->w.npages * PAGE_SZ);
	if (self->idle)
		munmap(self->idle, IDLE_MIB * MIB);
	free(self->w.is_hot);
}

/* @mib MiB, all hot, filled on node 1, unbound; @small: no THPs. */
static int hot_region_of(struct workload *w, size_t mib, bool small)
{
	w->npages = mib * MIB / PAGE_SZ;
	w->base = alloc_on_node(mib * MIB, 1);
	w->is_hot = malloc(w->npages);
	if (!w->base || !w->is_hot)
		return -1;
	memset(w->is_hot, 1, w->npages);
	w->nr_hot = w->npages;
	if (small && madvise(w->base, mib * MIB, MADV_NOHUGEPAGE))
		return -1;
	fill_pattern(w->base, w->npages);
	return unbind(w->base, mib * MIB);
}

/* The HOT_MIB region. */
static int hot_region(struct workload *w, bool small)
{
	return hot_region_of(w, HOT_MIB, small);
}

/*
 * Manage only this process, quota max, at tracking budget @permil and boost
 * @boost (per mille); the caller enables.
 */
static int manage_self_on_budget(const char *permil, const char *boost)
{
	int err = 0;

	err |= htier_writef("scope_pids", "%lld", getpid());
	err |= htier_write("cpu_permil", permil);
	err |= htier_write("cpu_boost_permil", boost);
	err |= htier_write("quota_bytes", "max");
	return err;
}

struct cost_sample {
	long long pmds_read, pmds_idle, ptes, rounds, tracked;
};

static void cost_read(struct cost_sample *c)
{
	c->pmds_read = htier_read_ll("stats/pmds_read");
	c->pmds_idle = htier_read_ll("stats/pmds_idle");
	c->ptes = htier_read_ll("stats/ptes_scanned");
	c->rounds = htier_read_ll("stats/rounds");
	c->tracked = htier_read_ll("stats/tracked_pages");
}

/*
 * Idle 192 MiB and a hot 4 MiB in one process: per round, the walks read
 * about the hot region's PTE tables (2 per walk, a clear and a sample
 * walk) plus the occasional idle one re-checked, and skip the rest; all
 * 196 MiB stay tracked.  Then the idle region is touched: its tables are
 * read again.
 */
TEST_F(cost, idle_page_tables_are_skipped_and_found_again)
{
	struct cost_sample a, b, c;
	const size_t idle_pages = IDLE_MIB * MIB / PAGE_SZ;
	long long reads, idles, per_round, table_bytes;
	size_t i;

	self->idle = alloc_on_node(IDLE_MIB * MIB, 1);
	ASSERT_NE(NULL, self->idle);
	fill_pattern(self->idle, idle_pages);
	/* Bound memory is not managed: let htier have it. */
	ASSERT_EQ(0, unbind(self->idle, IDLE_MIB * MIB));
	ASSERT_EQ(0, hot_region(&self->w, false));
	ASSERT_EQ(0, workload_start(&self->w));
	/* Fixed window and period: rounds are comparable. */
	ASSERT_EQ(0, htier_write("abit_window_ms", "20"));
	ASSERT_EQ(0, htier_write("scan_interval_max_ms", "200"));
	ASSERT_EQ(0, htier_write("cpu_permil", "1000"));
	ASSERT_EQ(0, htier_manage_self(-1));

	/* The first pass reads everything; let it and a few rounds go by. */
	sleep(3);
	cost_read(&a);
	sleep(4);
	cost_read(&b);
	reads = b.pmds_read - a.pmds_read;
	idles = b.pmds_idle - a.pmds_idle;
	per_round = b.rounds > a.rounds ? (b.ptes - a.ptes) / (b.rounds - a.rounds) : -1;
	TH_LOG("%lld rounds: %lld PTE tables read, %lld skipped idle, %lld PTEs per round, %lld pages tracked",
	       b.rounds - a.rounds, reads, idles, per_round, b.tracked);
	ASSERT_GT(b.rounds - a.rounds, 3);
	/* Every idle table is skipped in most walks ... */
	EXPECT_GT(idles, (long long)(b.rounds - a.rounds) * (IDLE_MIB / 2) / 2);
	/* ... and a round reads far fewer PTEs than the 196 MiB hold. */
	EXPECT_LT(per_round, (long long)((IDLE_MIB + HOT_MIB) * MIB / PAGE_SZ / 4));
	/* The idle pages are tracked all the same (THPs are one entry). */
	EXPECT_GE((htier_read_ll("stats/fast_resident_bytes") +
		   htier_read_ll("stats/slow_resident_bytes")) / (long long)PAGE_SZ,
		  (long long)(idle_pages + self->w.npages) * 9 / 10);
	table_bytes = htier_read_ll("stats/table_bytes");
	TH_LOG("table: %lld bytes for %lld regions", table_bytes,
	       htier_read_ll("stats/tracked_regions"));
	/* Proportional to the tracked memory: well under 1% of it here. */
	EXPECT_LT(table_bytes, (long long)((IDLE_MIB + HOT_MIB) * MIB / 100));

	/* Touch the idle region: its page tables are read again. */
	for (i = 0; i < idle_pages; i += 64)
		(void)*(volatile char *)(self->idle + i * PAGE_SZ);
	sleep(2);
	cost_read(&c);
	TH_LOG("after touching the idle region: %lld PTE tables read",
	       c.pmds_read - b.pmds_read);
	EXPECT_GE(c.pmds_read - b.pmds_read, IDLE_MIB / 2);
	EXPECT_EQ(0, (long)check_pattern(self->idle, idle_pages));
}

/*
 * A budget too small for a whole pass per round: the walk covers the
 * memory over many rounds, and the hot pages must still be found and
 * promoted (heat is kept per pass, not per round).  A whole pass of the
 * ~200 MiB takes 3-10 ms under TCG, so 0.2% of a CPU (1 ms per 500 ms
 * round) covers a part of it per round, after a first round on the credit
 * saved up while disabled (0.4% covered all of it in every round on 6.12
 * when all 192 MiB were read each second; 0.1% once placed nothing in
 * 110 s under make test's load).  A 4 MiB hot region is read
 * continuously; of the 192 MiB below it, one page of every PTE table is
 * read each second (a different one each time), so that no PTE table is
 * idle yet its pages stay cold: the walk must read them all.  The cursor
 * (which goes up the address space) meets them first.  All start on
 * node 1.
 */
TEST_F_TIMEOUT(cost, small_budget_covers_over_rounds_and_promotes, 150)
{
	const size_t warm_pages = IDLE_MIB * MIB / PAGE_SZ;
	long long min_cov = 1000, r0, b0;
	size_t hot_on = 0, all_on = 0, i, k;
	double t0, took = -1;

	ASSERT_EQ(0, hot_region(&self->w, true));
	self->idle = alloc_on_node(IDLE_MIB * MIB, 1);
	ASSERT_NE(NULL, self->idle);
	ASSERT_LT(self->idle, self->w.base);
	/* 4 KiB pages: a PMD-mapped THP is one entry, read in no time. */
	ASSERT_EQ(0, madvise(self->idle, IDLE_MIB * MIB, MADV_NOHUGEPAGE));
	fill_pattern(self->idle, warm_pages);
	ASSERT_EQ(0, unbind(self->idle, IDLE_MIB * MIB));
	ASSERT_EQ(0, workload_start(&self->w));
	/* The module's default period; the budget itself, not its boost. */
	ASSERT_EQ(0, manage_self_on_budget("2", "0"));
	ASSERT_EQ(0, htier_write("enabled", "1"));
	r0 = htier_read_ll("stats/rounds");
	b0 = -1;	/* after a round under these settings */

	t0 = now_s();
	for (k = 0; now_s() - t0 < 110; k++) {
		for (i = k % 512; i < warm_pages; i += 512)
			(void)*(volatile char *)(self->idle + i * PAGE_SZ);
		if (htier_read_ll("stats/rounds") > r0 + 1) {
			long long cov = htier_read_ll("stats/coverage_permil");

			if (b0 < 0)
				b0 = htier_read_ll("stats/boost_ms");

			if (cov < min_cov)
				min_cov = cov;
		}
		ASSERT_EQ(0, placement(&self->w, 0, &hot_on, &all_on));
		if (hot_on * 10 >= self->w.nr_hot * 9) {
			took = now_s() - t0;
			break;
		}
		sleep(1);
	}
	TH_LOG("%zu/%zu hot pages on node 0 after %.1fs, %lld rounds, least coverage of a round %lld permil, %lld PTE tables read",
	       hot_on, self->w.nr_hot, now_s() - t0,
	       htier_read_ll("stats/rounds") - r0, min_cov,
	       htier_read_ll("stats/pmds_read"));
	/* The budget did limit the walks: some round covered part of it. */
	EXPECT_LT(min_cov, 1000);
	/* With the boost off, never more than the budget. */
	EXPECT_EQ(2, htier_read_ll("stats/cpu_permil_now"));
	EXPECT_EQ(b0, htier_read_ll("stats/boost_ms"));
	EXPECT_GE(took, 0);
	EXPECT_EQ((size_t)0, check_pattern(self->idle, warm_pages));
	EXPECT_EQ((size_t)0, check_pattern(self->w.base, self->w.npages));
}

/*
 * The boost: memory the module has not ranked yet raises the budget to
 * cpu_boost_permil, and once the pages are placed and nothing new comes,
 * the budget falls back to cpu_permil within the boost's 10 s.  A 32 MiB
 * all-hot region of 4 KiB pages on node 1 at a 0.4% budget and a 50% boost.
 * (The region is placed within a few seconds with or without the boost:
 * the credit saved while disabled covers it.  What is checked is that the
 * boost comes with the new memory and goes.  It once did not when the
 * process came in the round that dropped the previous test's pages: the
 * trigger compared the table with the last round's.)
 */
TEST_F_TIMEOUT(cost, boost_while_converging_then_back_to_the_budget, 150)
{
	long long max_now = 0, b0, b_end, b_later, g0;
	size_t hot_on = 0, all_on = 0;
	double t0, placed = -1, fell = -1;

	ASSERT_EQ(0, hot_region_of(&self->w, 32, true));
	ASSERT_EQ(0, workload_start(&self->w));
	ASSERT_EQ(0, manage_self_on_budget("4", "500"));
	ASSERT_EQ(0, htier_write("scan_interval_ms", "200"));
	b0 = htier_read_ll("stats/boost_ms");
	g0 = htier_read_ll("stats/boost_grew");
	ASSERT_EQ(0, htier_write("enabled", "1"));

	t0 = now_s();
	while (now_s() - t0 < 100 && fell < 0) {
		long long now = htier_read_ll("stats/cpu_permil_now");

		if (now > max_now)
			max_now = now;
		if (placed < 0) {
			ASSERT_EQ(0, placement(&self->w, 0, &hot_on, &all_on));
			if (hot_on * 10 >= self->w.nr_hot * 9)
				placed = now_s() - t0;
		} else if (max_now == 500 && now == 4) {
			fell = now_s() - t0;
		}
		usleep(200 * 1000);
	}
	b_end = htier_read_ll("stats/boost_ms") - b0;
	sleep(3);
	b_later = htier_read_ll("stats/boost_ms") - b0;
	TH_LOG("hot set 90%% on node 0 after %.1fs (%zu/%zu), budget %lld permil at most, back to 4 after %.1fs, %lld ms boosted",
	       placed, hot_on, self->w.nr_hot, max_now, fell, b_end);
	EXPECT_EQ(500, max_now);
	/* The new memory is what triggered it. */
	EXPECT_GT(htier_read_ll("stats/boost_grew"), g0);
	EXPECT_GE(placed, 0);
	/* Back to the budget within the boost's 10 s of the last trigger ... */
	ASSERT_GE(fell, 0);
	EXPECT_LT(fell, placed + 15);
	/* ... and it stays there: no boost while nothing changes. */
	EXPECT_EQ(b_end, b_later);
	EXPECT_EQ(4, htier_read_ll("stats/cpu_permil_now"));
	EXPECT_LE(b_end, (long long)((fell + 1) * 1000));
	EXPECT_EQ((size_t)0, check_pattern(self->w.base, self->w.npages));
}

TEST_HARNESS_MAIN
