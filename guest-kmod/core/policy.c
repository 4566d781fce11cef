// SPDX-License-Identifier: GPL-2.0
/*
 * htier placement policy.  The ideal fast set is the hottest quota_pages
 * pages: fill the quota bin by bin from the hottest.  Promotions bring slow
 * pages of a bin up to its share of that ideal set; demotions take fast pages
 * beyond their bin's share, coldest bins first, exactly as many as needed to
 * stay within the quota.  Because a bin has either a shortfall (promote) or
 * an excess (demote), never both, a page is only ever displaced by a hotter
 * one and placement does not oscillate at the threshold.
 */
#include "policy.h"

static u64 htier_take(u64 *budget, u64 want)
{
	u64 got = want < *budget ? want : *budget;

	*budget -= got;
	return got;
}

/**
 * htier_plan_compute() - decide how many pages of each bin to move
 * @h: heat histogram of the managed pages, per tier
 * @params: quota and per-round limits
 * @plan: the result
 */
void htier_plan_compute(const struct htier_hist *h,
			const struct htier_policy_params *params,
			struct htier_plan *plan)
{
	u64 target[HTIER_NR_BINS], excess[HTIER_NR_BINS];
	u64 room = params->quota_pages, fast = 0, promote_budget, need;
	u32 min_bin = params->min_promote_bin ? params->min_promote_bin : 1;
	int b;

	memset(plan, 0, sizeof(*plan));

	/*
	 * The ideal fast set, hottest first.  The hot set is its heated part:
	 * the threshold is the coldest bin the quota reaches, so the hot set
	 * always fits the quota and needs no per-workload tuning.
	 */
	plan->hot_bin = HTIER_NR_BINS - 1;
	for (b = HTIER_NR_BINS - 1; b >= 0; b--) {
		u64 total = h->pages[HTIER_TIER_FAST][b] +
			    h->pages[HTIER_TIER_SLOW][b];

		fast += h->pages[HTIER_TIER_FAST][b];
		target[b] = htier_take(&room, total);
		if (b > 0 && target[b]) {
			plan->hot_bin = b;
			plan->hot_pages += target[b];
		}
	}

	/* Promote shortfalls, hottest bins first, within the round's limit. */
	promote_budget = params->max_promote;
	for (b = HTIER_NR_BINS - 1; b >= (int)min_bin; b--) {
		u64 shortfall = 0;

		if (target[b] > h->pages[HTIER_TIER_FAST][b])
			shortfall = target[b] - h->pages[HTIER_TIER_FAST][b];
		if (shortfall > h->pages[HTIER_TIER_SLOW][b])
			shortfall = h->pages[HTIER_TIER_SLOW][b];
		plan->promote[b] = htier_take(&promote_budget, shortfall);
		plan->nr_promote += plan->promote[b];
	}

	/* Demote excess, coldest first, as much as the quota requires. */
	for (b = 0; b < HTIER_NR_BINS; b++)
		excess[b] = h->pages[HTIER_TIER_FAST][b] > target[b] ?
			    h->pages[HTIER_TIER_FAST][b] - target[b] : 0;
	need = fast + plan->nr_promote > params->quota_pages ?
	       fast + plan->nr_promote - params->quota_pages : 0;
	if (need > params->max_demote)
		need = params->max_demote;
	for (b = 0; b < HTIER_NR_BINS && need; b++) {
		plan->demote[b] = htier_take(&need, excess[b]);
		plan->nr_demote += plan->demote[b];
	}

	/*
	 * If the demotion limit (or a fast tier already over quota) leaves
	 * less room than the promotions need, cut promotions, coldest first,
	 * so that fast usage never grows beyond the quota.
	 */
	if (fast - plan->nr_demote + plan->nr_promote > params->quota_pages) {
		u64 cut = fast - plan->nr_demote + plan->nr_promote -
			  params->quota_pages;

		for (b = (int)min_bin; b < HTIER_NR_BINS && cut; b++) {
			u64 c = htier_take(&cut, plan->promote[b]);

			plan->promote[b] -= c;
			plan->nr_promote -= c;
		}
	}
}

/*
 * Take the pages of @tier whose bin still has at least their size left in
 * @left, at most @room base pages in all, into @keys.  A huge entry is taken
 * only whole, and only when its bin's remaining count covers it, so the plan
 * is never overshot.  Return: base pages taken.
 */
static u64 htier_select_tier(const struct htier_table *t, u8 tier,
			     u64 left[HTIER_NR_BINS], u64 room, u64 *keys,
			     u32 max_keys, u32 *nr_keys)
{
	u64 taken = 0;
	u32 i;

	for (i = 0; i < t->capacity && *nr_keys < max_keys; i++) {
		const struct htier_page *p = &t->pages[i];
		u32 bin, nr;

		if (!p->key || p->tier != tier)
			continue;
		bin = htier_heat_bin(p->heat);
		nr = htier_page_nr(p);
		if (left[bin] < nr || room - taken < nr)
			continue;
		left[bin] -= nr;
		keys[(*nr_keys)++] = p->key;
		taken += nr;
	}
	return taken;
}

/**
 * htier_plan_select() - pick the pages that carry out a plan
 * @t: the table the plan's histogram came from
 * @plan: per-bin page counts to move
 * @sel: key arrays to fill (at most max_keys each)
 *
 * Demotions are picked first, then promotions in a second pass (one pass
 * when the plan only promotes or only demotes).  Selection can fall short
 * of the plan's demotions (a bin's fast pages are huge entries bigger than
 * its count, or max_keys runs out), so promotions are limited to the room
 * the selected demotions really make: the selection never grows fast usage
 * by more than the plan does (nr_promote - nr_demote), and the quota holds.
 */
void htier_plan_select(const struct htier_table *t,
		       const struct htier_plan *plan,
		       struct htier_selection *sel)
{
	u64 promote[HTIER_NR_BINS], demote[HTIER_NR_BINS];
	u64 room;

	memcpy(promote, plan->promote, sizeof(promote));
	memcpy(demote, plan->demote, sizeof(demote));
	sel->nr_promote_keys = 0;
	sel->nr_demote_keys = 0;
	sel->promote_pages = 0;
	sel->demote_pages = 0;

	if (plan->nr_demote)
		sel->demote_pages = htier_select_tier(t, HTIER_TIER_FAST, demote,
						      plan->nr_demote,
						      sel->demote_keys,
						      sel->max_keys,
						      &sel->nr_demote_keys);
	if (!plan->nr_promote ||
	    sel->demote_pages + plan->nr_promote <= plan->nr_demote)
		return;
	room = sel->demote_pages + plan->nr_promote - plan->nr_demote;
	sel->promote_pages = htier_select_tier(t, HTIER_TIER_SLOW, promote,
					       room, sel->promote_keys,
					       sel->max_keys,
					       &sel->nr_promote_keys);
}
