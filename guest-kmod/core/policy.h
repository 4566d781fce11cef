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
};

struct htier_policy_params {
	u64 quota_pages;	/* most managed base pages on the fast tier */
	u64 max_promote;	/* at most this many base pages up per round */
	u64 max_demote;		/* at most this many base pages down per round */
	u32 min_promote_bin;	/* never promote colder than this (>= 1) */
	/* An exchange demotes only pages this many bins colder (0 means 1). */
	u32 exchange_gap;
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

#endif /* HTIER_POLICY_H */
