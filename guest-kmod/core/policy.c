// SPDX-License-Identifier: GPL-2.0
/*
 * htier placement policy.  The ideal fast set is the hottest quota_pages
 * pages: fill the quota bin by bin from the hottest.  Promotions bring slow
 * pages of a bin up to its share of that ideal set; demotions take fast pages
 * beyond their bin's share, coldest bins first, exactly as many as the quota
 * requires.  Because a bin has either a shortfall (promote) or an excess
 * (demote), never both, a page is only ever displaced by a hotter one; an
 * exchange gap of more than one bin also keeps pages near the threshold
 * from trading places round after round.
 */
#include "policy.h"

static u64 htier_take(u64 *budget, u64 want)
{
	u64 got = want < *budget ? want : *budget;

	*budget -= got;
	return got;
}

/* Demote up to @want pages from the coldest bins <= @max_bin with excess. */
static u64 htier_demote_upto(struct htier_plan *plan, u64 excess[], int max_bin,
			     u64 want, u64 *budget)
{
	u64 got = 0;
	int b;

	for (b = 0; b <= max_bin && want > got && *budget; b++) {
		u64 n = htier_take(budget, min_t(u64, excess[b], want - got));

		excess[b] -= n;
		plan->demote[b] += n;
		plan->nr_demote += n;
		got += n;
	}
	return got;
}

/**
 * htier_plan_compute() - decide how many pages of each bin to move
 * @h: heat histogram of the managed pages, per tier
 * @params: quota, per-round limits and the exchange gap
 * @plan: the result
 *
 * In order: demotions the quota forces (fast usage above it), coldest
 * first; promotions into free room, hottest first; then exchanges, each
 * promotion paired with the demotion of a fast page at least
 * params->exchange_gap bins colder.  The gap keeps pages whose heat only
 * wobbles around the threshold from trading places every round.
 */
void htier_plan_compute(const struct htier_hist *h,
			const struct htier_policy_params *params,
			struct htier_plan *plan)
{
	u64 target[HTIER_NR_BINS], excess[HTIER_NR_BINS];
	u64 room = params->quota_pages, fast = 0, forced, free_room;
	u64 promote_budget = params->max_promote;
	u64 demote_budget = params->max_demote;
	u32 min_bin = params->min_promote_bin ? params->min_promote_bin : 1;
	u32 gap = params->exchange_gap ? params->exchange_gap : 1;
	u32 xbin = 0;
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
	for (b = plan->hot_bin + 1; b < HTIER_NR_BINS; b++) {
		plan->stale_pages += h->pages[HTIER_TIER_SLOW][b];
		if (b >= (int)(plan->hot_bin + gap))
			plan->owed_pages += h->pages[HTIER_TIER_SLOW][b];
	}
	/*
	 * Exchanges promote only pages ranked within the hottest
	 * exchange_top_permil of the quota (both tiers): from the bin that
	 * holds the page of that rank, and hotter ones.  Below it,
	 * heat is a few chance hits: such a page may come up into free room,
	 * but trading it for a fast page of the same kind is churn.
	 */
	if (params->exchange_top_permil) {
		u64 lim = params->quota_pages * params->exchange_top_permil / 1000;
		u64 acc = 0;

		for (b = HTIER_NR_BINS - 1; b > 1; b--) {
			acc += h->pages[HTIER_TIER_FAST][b] +
			       h->pages[HTIER_TIER_SLOW][b];
			if (acc >= lim)
				break;
		}
		xbin = b;
		plan->exchange_bin = xbin;
	}
	for (b = 0; b < HTIER_NR_BINS; b++)
		excess[b] = h->pages[HTIER_TIER_FAST][b] > target[b] ?
			    h->pages[HTIER_TIER_FAST][b] - target[b] : 0;

	/* Over quota (it was lowered): demote the coldest pages first. */
	forced = fast > params->quota_pages ? fast - params->quota_pages : 0;
	plan->nr_forced = htier_demote_upto(plan, excess, HTIER_NR_BINS - 1,
					    forced, &demote_budget);
	plan->exchange_recent = params->exchange_recent;
	free_room = fast < params->quota_pages ? params->quota_pages - fast : 0;

	/* Promote shortfalls, hottest first: free room, then exchanges. */
	for (b = HTIER_NR_BINS - 1; b >= (int)min_bin; b--) {
		u64 shortfall = 0, n;

		if (target[b] > h->pages[HTIER_TIER_FAST][b])
			shortfall = target[b] - h->pages[HTIER_TIER_FAST][b];
		shortfall = min_t(u64, shortfall, h->pages[HTIER_TIER_SLOW][b]);
		shortfall = min_t(u64, shortfall, promote_budget);

		n = htier_take(&free_room, shortfall);
		if (n < shortfall && b >= (int)gap && !forced && b >= (int)xbin) {
			u64 x = htier_demote_upto(plan, excess, b - (int)gap,
						  shortfall - n, &demote_budget);

			plan->exchange[b] = x;
			plan->nr_exchange += x;
			n += x;
		}
		promote_budget -= n;
		plan->promote[b] = n;
		plan->nr_promote += n;
	}
}

/*
 * Take the pages of @tier whose bin still has at least their size left in
 * @left, at most @room base pages in all, into @keys.  A huge entry is taken
 * only whole, and only when its bin's remaining count covers it, so the plan
 * is never overshot.  A region's own histogram says whether it holds any
 * page wanted, so only those regions' pages are looked at.
 * Return: base pages taken.
 */
static u64 htier_select_tier(const struct htier_table *t, u8 tier,
			     u64 left[HTIER_NR_BINS], u64 *xleft, bool recent,
			     u64 room, u64 *keys, u32 max_keys, u32 *nr_keys)
{
	const u8 state = HTIER_PS_TRACKED | tier;
	u64 taken = 0;
	u32 i;

	for (i = 0; i < t->capacity && *nr_keys < max_keys && taken < room; i++) {
		const struct htier_region *r = t->index[i];
		u32 now[HTIER_NR_BINS], nr, b, idx;
		bool wanted = false;

		if (!r)
			continue;
		nr = htier_region_page_nr(r);
		htier_region_hist_now(t, r, tier, now);
		for (b = 0; b < HTIER_NR_BINS && !wanted; b++)
			wanted = now[b] &&
				 left[b] + (xleft ? xleft[b] : 0) >= nr;
		if (!wanted || room - taken < nr)
			continue;
		for (idx = 0; idx < HTIER_REGION_PAGES && *nr_keys < max_keys;
		     idx++) {
			if (r->state[idx] != state ||
			    htier_region_failed(t, r, idx))
				continue;
			b = htier_heat_bin(htier_region_heat(t, r, idx));
			if (room - taken < nr)
				continue;
			if (left[b] >= nr) {
				left[b] -= nr;
			} else if (xleft && left[b] + xleft[b] >= nr &&
				   (!recent || htier_region_recent(r, idx))) {
				/* A huge entry: the free room left, then exchanges. */
				xleft[b] -= nr - left[b];
				left[b] = 0;
			} else {
				continue;
			}
			keys[(*nr_keys)++] = r->key + idx;
			taken += nr;
		}
	}
	return taken;
}

/*
 * Demotions fell short of the plan because what is left of a bin's count
 * (@left, after htier_select_tier()) is smaller than the huge entries the
 * bin holds on fast: take one of them whole.  Demoting more than planned
 * only makes more room, so the quota holds; without it a huge page owed to
 * the fast tier waits for good where the free room is a few pages short of
 * its 512 and the colder fast entries are huge (the plan then asks for those
 * few pages, which no whole entry matches).  One pass over the index, as a
 * selection pass; the keys taken already (at most a few huge ones among
 * them) are skipped.  Return: base pages taken.
 */
static u64 htier_select_round_up(const struct htier_table *t,
				 const u64 left[HTIER_NR_BINS], u64 *keys,
				 u32 max_keys, u32 *nr_keys)
{
	const u8 state = HTIER_PS_TRACKED | HTIER_TIER_FAST;
	u32 i, k;

	if (*nr_keys >= max_keys)
		return 0;
	for (i = 0; i < t->capacity; i++) {
		const struct htier_region *r = t->index[i];

		if (!r || !(r->flags & HTIER_PAGE_HUGE) || r->state[0] != state ||
		    htier_region_failed(t, r, 0) ||
		    !left[htier_heat_bin(htier_region_heat(t, r, 0))])
			continue;
		for (k = 0; k < *nr_keys && keys[k] != r->key; k++)
			;
		if (k < *nr_keys)
			continue;
		keys[(*nr_keys)++] = r->key;
		return HTIER_HUGE_PAGES;
	}
	return 0;
}

/**
 * htier_plan_select() - pick the pages that carry out a plan
 * @t: the table the plan's histogram came from
 * @plan: per-bin page counts to move
 * @sel: key arrays to fill (at most max_keys each)
 *
 * Demotions are picked first, then promotions in a second pass (one pass
 * when the plan only promotes or only demotes).  A huge entry is promoted
 * whole when its bin's free room and exchanges together cover it, and a
 * demotion short of the plan by less than a huge entry takes one whole
 * (htier_select_round_up()).  Selection can still fall short of the plan's
 * demotions (no such entry, or max_keys runs out), so promotions are
 * limited to the room the selected demotions really make: the selection
 * never grows fast usage by more than the plan does (nr_promote -
 * nr_demote), and the quota holds.
 */
/* The plan's promotions per bin: into free room, and paid by exchanges. */
static void htier_split_promote(const struct htier_plan *plan,
				u64 free[HTIER_NR_BINS], u64 xchg[HTIER_NR_BINS])
{
	u32 b;

	for (b = 0; b < HTIER_NR_BINS; b++) {
		xchg[b] = plan->exchange[b];
		free[b] = plan->promote[b] - plan->exchange[b];
	}
}

void htier_plan_select(const struct htier_table *t,
		       const struct htier_plan *plan,
		       struct htier_selection *sel)
{
	u64 free[HTIER_NR_BINS], xchg[HTIER_NR_BINS], demote[HTIER_NR_BINS];
	u64 room, want_down, xleft;
	u32 b;

	sel->nr_promote_keys = 0;
	sel->nr_demote_keys = 0;
	sel->promote_pages = 0;
	sel->demote_pages = 0;
	/*
	 * The promotions, in one pass: a page of a bin goes into free room
	 * while the bin has some planned, else it is an exchange's (and
	 * must be recent, where the plan says so).
	 */
	htier_split_promote(plan, free, xchg);
	if (plan->nr_promote)
		sel->promote_pages = htier_select_tier(t, HTIER_TIER_SLOW, free,
						       xchg, plan->exchange_recent,
						       plan->nr_promote,
						       sel->promote_keys,
						       sel->max_keys,
						       &sel->nr_promote_keys);
	for (b = 0, xleft = 0; b < HTIER_NR_BINS; b++)
		xleft += xchg[b];
	/*
	 * Demote what the quota forces and one page for each exchange
	 * promotion taken (an exchange whose candidate was not taken
	 * demotes nothing): the coldest that many of the planned ones.
	 */
	want_down = plan->nr_forced + plan->nr_exchange - xleft;
	memcpy(demote, plan->demote, sizeof(demote));
	for (b = 0, room = want_down; b < HTIER_NR_BINS; b++)
		demote[b] = htier_take(&room, demote[b]);
	if (want_down)
		sel->demote_pages = htier_select_tier(t, HTIER_TIER_FAST, demote,
						      NULL, false, want_down,
						      sel->demote_keys,
						      sel->max_keys,
						      &sel->nr_demote_keys);
	if (sel->demote_pages < want_down)
		sel->demote_pages += htier_select_round_up(t, demote,
							   sel->demote_keys,
							   sel->max_keys,
							   &sel->nr_demote_keys);
	/*
	 * Promotions never exceed the room the plan made plus the demotions
	 * found: if fewer were found (the key array's end), take the
	 * promotions again within that; more (a huge entry taken whole) makes
	 * room for a whole huge promotion.
	 */
	room = sel->demote_pages + plan->nr_promote > plan->nr_demote ?
	       sel->demote_pages + plan->nr_promote - plan->nr_demote : 0;
	if (sel->promote_pages <= room)
		return;
	htier_split_promote(plan, free, xchg);
	sel->nr_promote_keys = 0;
	sel->promote_pages = room ?
		htier_select_tier(t, HTIER_TIER_SLOW, free, xchg,
				  plan->exchange_recent, room,
				  sel->promote_keys, sel->max_keys,
				  &sel->nr_promote_keys) : 0;
}

void htier_boost_init(struct htier_boost *b, u64 now_ns)
{
	memset(b, 0, sizeof(*b));
	b->bucket_ns = HTIER_BOOST_BUCKET_NS;
	b->at_ns = now_ns;
}

/* Boost the next HTIER_BOOST_NS (as far as the bucket allows). */
void htier_boost_trigger(struct htier_boost *b, u64 now_ns)
{
	b->until_ns = now_ns + HTIER_BOOST_NS;
}

/**
 * htier_boost_step() - account the time since the last step, say whether
 * the time until the next one is boosted
 * @b: the boost state
 * @now_ns: a monotonic clock
 * @allowed: a boost would raise the budget (else nothing is paid)
 *
 * The time since the last step is paid from the bucket if that step said
 * "boosted"; the bucket refills at 1/HTIER_BOOST_DUTY of the time.
 */
bool htier_boost_step(struct htier_boost *b, u64 now_ns, bool allowed)
{
	u64 dt = now_ns > b->at_ns ? now_ns - b->at_ns : 0;

	if (b->on) {
		u64 paid = dt < b->bucket_ns ? dt : b->bucket_ns;

		b->bucket_ns -= paid;
		b->total_ns += paid;
	}
	b->bucket_ns += dt / HTIER_BOOST_DUTY;
	if (b->bucket_ns > HTIER_BOOST_BUCKET_NS)
		b->bucket_ns = HTIER_BOOST_BUCKET_NS;
	b->at_ns = now_ns;
	b->on = allowed && now_ns < b->until_ns && b->bucket_ns > 0;
	return b->on;
}

/* Tracking stopped: the time until the next step is not boosted. */
void htier_boost_stop(struct htier_boost *b)
{
	b->on = false;
}

/**
 * htier_boost_credit() - the tracking budget earned since the last step
 * @b: the boost state
 * @now_ns: a monotonic clock
 * @permil: the budget, per mille of the time
 * @boost_permil: the boosted budget (no boost unless above @permil)
 * @boosted: set to whether the time until the next step is boosted
 *
 * @permil of the time since the last step, and @boost_permil instead for
 * the part of it the bucket paid for: a boost the bucket cannot pay for
 * earns nothing, so the boost's share of the time holds for the budget too.
 * Steps the boost (htier_boost_step()).  Return: the credit in ns.
 */
u64 htier_boost_credit(struct htier_boost *b, u64 now_ns, u32 permil,
		       u32 boost_permil, bool *boosted)
{
	u64 dt = now_ns > b->at_ns ? now_ns - b->at_ns : 0;
	u64 paid = b->total_ns, credit;

	*boosted = htier_boost_step(b, now_ns, boost_permil > permil);
	paid = b->total_ns - paid;
	credit = dt * permil / 1000;
	if (boost_permil > permil)
		credit += paid * (boost_permil - permil) / 1000;
	return credit;
}

/**
 * htier_shift_step() - feed a pass's samples; did the hot set move?
 * @s: the detector
 * @slow: samples of pages on the slow tier
 * @total: all samples
 * @slow_pages: pages on the slow tier
 * @pages: all tracked pages
 *
 * True when the ratio of the slow tier's samples per page to the other
 * pages' rose above twice its recent average plus 0.2 (noise at a low
 * ratio).  Passes with fewer than HTIER_SHIFT_MIN_SAMPLES samples, or
 * without pages on either side, say nothing and are skipped.
 */
bool htier_shift_step(struct htier_shift *s, u64 slow, u64 total,
		      u64 slow_pages, u64 pages)
{
	u64 fast = total > slow ? total - slow : 0;
	u64 fast_pages = pages > slow_pages ? pages - slow_pages : 0;
	u64 slow_rate, fast_rate, ratio;
	bool jumped;

	if (total < HTIER_SHIFT_MIN_SAMPLES || !slow_pages || !fast_pages ||
	    slow > total)
		return false;
	/* Samples per million pages on each side. */
	slow_rate = slow * 1000000 / slow_pages;
	fast_rate = fast * 1000000 / fast_pages;
	ratio = fast_rate ? slow_rate * 1000 / fast_rate : HTIER_SHIFT_RATIO_MAX;
	if (ratio > HTIER_SHIFT_RATIO_MAX)
		ratio = HTIER_SHIFT_RATIO_MAX;
	s->last_ratio = (u32)ratio;
	if (!s->primed) {
		s->avg_ratio = (u32)ratio;
		s->primed = true;
		return false;
	}
	jumped = ratio > 2 * (u64)s->avg_ratio + 200;
	s->avg_ratio = (u32)((3 * (u64)s->avg_ratio + ratio) / 4);
	return jumped;
}

/**
 * htier_pebs_period_step() - the sample period for the next round
 * @period: this round's
 * @b: what this round's samples cost, and how many the ranking wants
 * @min_period: never below this (nor HTIER_PEBS_MIN_PERIOD)
 *
 * Over budget: up at once by the power of two that brings the cost
 * within it (a rate 50 times the budget is not paid for six rounds).
 * Within half of it and short of what the ranking needs: halved (the
 * cost stays within it).
 * Four times what the ranking needs: doubled, the CPU saved.
 *
 * Return: the new period, in [max(min_period, HTIER_PEBS_MIN_PERIOD),
 * HTIER_PEBS_MAX_PERIOD].
 */
u32 htier_pebs_period_step(u32 period, const struct htier_pebs_budget *b,
			   u32 min_period)
{
	u64 cost = b->samples * HTIER_PEBS_SAMPLE_COST_NS;
	u64 budget = b->elapsed_ns * b->nr_cpus * b->cpu_permil / 1000;
	u64 p = period;

	if (min_period < HTIER_PEBS_MIN_PERIOD)
		min_period = HTIER_PEBS_MIN_PERIOD;
	if (!b->elapsed_ns)
		return period;
	if (cost > budget) {
		while (cost > budget && p < HTIER_PEBS_MAX_PERIOD) {
			p *= 2;
			cost /= 2;
		}
	} else if (cost * 2 < budget && b->samples < b->need) {
		p /= 2;
	} else if (b->samples > 4 * b->need) {
		p *= 2;
	}
	if (p < min_period)
		p = min_period;
	if (p > HTIER_PEBS_MAX_PERIOD)
		p = HTIER_PEBS_MAX_PERIOD;
	return (u32)p;
}
