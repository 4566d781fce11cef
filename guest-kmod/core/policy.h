/* SPDX-License-Identifier: GPL-2.0 */
/*
 * htier placement policy: from the heat histogram and the fast-memory quota,
 * decide how many pages of each heat bin to promote and to demote this round
 * (the plan), then pick those pages from the table (the selection).
 *
 * Exchange semantics as in HyperTier/Demeter: promotions are paired with
 * demotions of colder fast pages so that managed fast usage never exceeds
 * the quota, and a page is only displaced by a strictly hotter one.
 *
 * Pure logic, shared by htier.ko, the unit tests and the simulator.
 */
#ifndef HTIER_POLICY_H
#define HTIER_POLICY_H

#include "hotness.h"

struct htier_plan {
	/* The hot set: pages with bin >= hot_bin (and heat > 0). */
	u32 hot_bin;
	u64 hot_pages;
	/* Base pages to move per bin, hottest promoted / coldest demoted. */
	u64 promote[HTIER_NR_BINS];
	u64 demote[HTIER_NR_BINS];
	u64 nr_promote;
	u64 nr_demote;
	/*
	 * Slow pages in bins wholly inside the ideal fast set (hotter than
	 * hot_bin): pages placement still owes the fast tier, whether or not
	 * this round's limits or the exchange gap let them move now.
	 */
	u64 stale_pages;
	/*
	 * Of those, the pages at least exchange_gap bins hotter than hot_bin:
	 * hot beyond doubt, not a cold page's chance hits near the threshold.
	 */
	u64 owed_pages;
	/* The coldest bin an exchange promotes from (exchange_top_permil). */
	u32 exchange_bin;
	/*
	 * Of promote[], the pages an exchange pays for with a demotion each
	 * (the rest go into free room); of nr_demote, those the quota forces.
	 */
	u64 exchange[HTIER_NR_BINS];
	u64 nr_exchange;
	u64 nr_forced;
	bool exchange_recent;	/* from the parameters */
};

struct htier_policy_params {
	u64 quota_pages;	/* most managed base pages on the fast tier */
	u64 max_promote;	/* at most this many base pages up per round */
	u64 max_demote;		/* at most this many base pages down per round */
	u32 min_promote_bin;	/* never promote colder than this (>= 1) */
	/* An exchange demotes only pages this many bins colder (0 means 1). */
	u32 exchange_gap;
	/*
	 * An exchange promotes only pages in the bins that hold the hottest
	 * exchange_top_permil of quota_pages (0: any bin).
	 */
	u32 exchange_top_permil;
	/*
	 * An exchange promotes only pages found accessed at their last
	 * sample (htier_region_recent()): for samplers that record every
	 * page at every sample, where a cold page's chance hits pile up to
	 * the hot set's heat now and then but are rarely still coming.
	 */
	bool exchange_recent;
};

void htier_plan_compute(const struct htier_hist *h,
			const struct htier_policy_params *params,
			struct htier_plan *plan);

struct htier_selection {
	u64 *promote_keys;
	u64 *demote_keys;
	u32 max_keys;		/* capacity of each key array */
	u32 nr_promote_keys;
	u32 nr_demote_keys;
	u64 promote_pages;	/* base pages behind the selected keys */
	u64 demote_pages;
};

void htier_plan_select(const struct htier_table *t,
		       const struct htier_plan *plan,
		       struct htier_selection *sel);

/*
 * The tracking budget's boost: a higher CPU budget while placement is
 * converging, so that new memory and a moved hot set are ranked in seconds
 * where the steady-state budget would take a minute (the way NUMA balancing
 * scans faster while it finds misplaced pages and backs off once they are
 * placed).  A trigger (memory the module has not ranked yet, a jump in the
 * slow tier's share of the accesses, a round that still moved much) boosts
 * the next HTIER_BOOST_NS; boosted time is paid from a bucket that refills
 * at 1/HTIER_BOOST_DUTY of wall time and holds at most HTIER_BOOST_BUCKET_NS,
 * so the boost never runs more than that share of the time in the long run,
 * whatever the triggers.
 */
#define HTIER_BOOST_NS		(10ULL * 1000000000ULL)
#define HTIER_BOOST_BUCKET_NS	(20ULL * 1000000000ULL)
#define HTIER_BOOST_DUTY	6

struct htier_boost {
	u64 until_ns;		/* boosted until then (if the bucket allows) */
	u64 bucket_ns;		/* boost time that may still be spent */
	u64 at_ns;		/* last htier_boost_step() */
	u64 total_ns;		/* boosted time so far */
	bool on;		/* the last step's answer */
};

void htier_boost_init(struct htier_boost *b, u64 now_ns);
void htier_boost_trigger(struct htier_boost *b, u64 now_ns);
bool htier_boost_step(struct htier_boost *b, u64 now_ns, bool allowed);
void htier_boost_stop(struct htier_boost *b);
u64 htier_boost_credit(struct htier_boost *b, u64 now_ns, u32 permil,
		       u32 boost_permil, bool *boosted);

/*
 * A hot set that moved shows up first in the sampled accesses, long before
 * its pages are hot enough to be promoted: slow pages become young more
 * often and fast ones less.  The detector follows the ratio of the two
 * tiers' samples per page, not the slow tier's share of the samples: the
 * share moves with the sampling window (a wider one finds more of the many
 * cold slow pages young while the hot fast ones are young already), the
 * ratio hardly does, and it jumps several-fold when the hot set moves (in
 * a gups bench: about 0.25 before the shift, 2 after it; the share went
 * from 55% to 70% with the window alone).
 */
#define HTIER_SHIFT_MIN_SAMPLES	512
#define HTIER_SHIFT_RATIO_MAX	100000	/* x1000: samples on slow only */

struct htier_shift {
	u32 avg_ratio;		/* recent ratio x1000 */
	u32 last_ratio;		/* the last step's */
	bool primed;
};

bool htier_shift_step(struct htier_shift *s, u64 slow, u64 total,
		      u64 slow_pages, u64 pages);

/*
 * The same signal a round at a time, for a sampler that walks the memory
 * a part per round: the young slow pages of the regions the round sampled
 * (per HTIER_SHIFT_WINDOW_US of window) against the same regions' count at
 * their previous visit.  Each region is compared with itself, so where
 * the walk is does not matter, and a jump is seen in the round that
 * reaches the moved hot set's first regions rather than a pass later.
 * More than four times the earlier count (a window four times shorter,
 * the tuner's largest step, can at most quadruple a saturated count), and
 * HTIER_SHIFT_REGION_MIN more.
 */
#define HTIER_SHIFT_WINDOW_US	10000
#define HTIER_SHIFT_REGION_MIN	256

static inline bool htier_shift_regions(u64 now, u64 before)
{
	return now > 4 * before + HTIER_SHIFT_REGION_MIN;
}

/*
 * The PEBS sample period, from the CPU budget and the quota together: the
 * most samples the budget allows (HTIER_PEBS_SAMPLE_COST_NS each, against
 * cpu_permil of each CPU), and no more than the ranking needs (half the
 * quota's pages a round: a hot 2 MiB range gets its spread verdict in a
 * round, a hot page a sample every other round).
 */
#define HTIER_PEBS_SAMPLE_COST_NS	3000
#define HTIER_PEBS_MIN_PERIOD		100
#define HTIER_PEBS_INITIAL_PERIOD	10007
#define HTIER_PEBS_MAX_PERIOD		10000000

/**
 * struct htier_pebs_budget - what one round of PEBS sampling cost
 * @samples:	samples drained this round
 * @elapsed_ns:	time they were taken over
 * @nr_cpus:	CPUs sampled
 * @cpu_permil:	the budget, per CPU
 * @need:	samples a round the ranking wants (htier_pebs_need())
 */
struct htier_pebs_budget {
	u64 samples;
	u64 elapsed_ns;
	u32 nr_cpus;
	u32 cpu_permil;
	u64 need;
};

/*
 * PEBS ranking where samples are sparse.  At the sampling budget a round
 * brings a few thousand samples (about 1700 at 1% of one CPU), so a hot
 * page of a 64 MiB scattered hot set gets one every 20-25 rounds: to be
 * found at all it must be promoted on its first sample
 * (HTIER_PEBS_MIN_PROMOTE_BIN: one sample's heat), and its heat must last
 * until its next one.  So PEBS cools by samples as well as by rounds, as
 * Memtis does: not before cooling_period_scans rounds, and then only once
 * the samples since the last cooling reach HTIER_PEBS_COOL_SAMPLES_PER_PAGE
 * per page of the quota (a page of the ideal fast set has had a couple of
 * samples, on average, when its heat is halved), or after
 * HTIER_PEBS_COOL_MAX_PERIODS periods whatever the samples.  Where samples
 * are plentiful (no budget, a high rate) this is the per-round cooling; a
 * moved hot set is aged at its jump in slow samples (HTIER_PEBS_JUMP_COOL),
 * not by waiting for the next cooling.
 */
#define HTIER_PEBS_MIN_PROMOTE_BIN	(1 + HTIER_PEBS_SAMPLE_SHIFT)
#define HTIER_PEBS_COOL_SAMPLES_PER_PAGE	2
#define HTIER_PEBS_COOL_MAX_PERIODS	8

/**
 * htier_pebs_cool_due() - whether PEBS heat is to be halved this round
 * @rounds:	rounds since the last cooling
 * @period:	cooling_period_scans (rounds)
 * @samples:	samples recorded since the last cooling
 * @quota_pages: the fast pages the ranking fills
 * @per_page:	samples per quota page (HTIER_PEBS_COOL_SAMPLES_PER_PAGE;
 *		0: every @period rounds)
 */
static inline bool htier_pebs_cool_due(u64 rounds, u32 period, u64 samples,
				       u64 quota_pages, u32 per_page)
{
	if (rounds < period)
		return false;
	if (!per_page || rounds >= (u64)period * HTIER_PEBS_COOL_MAX_PERIODS)
		return true;
	return samples >= (u64)per_page * quota_pages;
}

static inline u64 htier_pebs_need(u64 quota_pages)
{
	return quota_pages / 2 > 1024 ? quota_pages / 2 : 1024;
}

u32 htier_pebs_period_step(u32 period, const struct htier_pebs_budget *b,
			   u32 min_period);

#endif /* HTIER_POLICY_H */
