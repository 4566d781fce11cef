// SPDX-License-Identifier: GPL-2.0
/*
 * htier accessed-bit sampler.  Needs no PMU, so it is what runs under QEMU
 * TCG and on clouds whose virtual PMU gives no data addresses.
 *
 * An accessed bit says only "touched at least once since cleared".  Read
 * once per round, a page touched a few times a second looks as hot as one
 * touched a million times, so every round uses a short sampling window
 * instead: one walk clears the bits, a second walk abit_window later takes
 * the bits set since as one access each.  The chance of a hit then grows
 * with the page's access rate, which is what ranking needs.  The window is
 * tuned each round so that the pages found accessed are about half as many
 * as the quota can hold (between 1/20 and 1/2 of the tracked pages): wide
 * enough to see the hot set, narrow enough to tell it from the rest.  When
 * the window would reach the round's length, a single walk per round does.
 */
#define pr_fmt(fmt) "htier: " fmt

#include <linux/delay.h>
#include <linux/hrtimer.h>
#include <linux/kthread.h>
#include <linux/sched.h>
#include <linux/math64.h>
#include <linux/ktime.h>
#include "htier.h"

#define HTIER_WINDOW_MIN_US	100

/*
 * The first window, before the tuner has seen a sample: 5 ms.  At a
 * hardware access rate 50 ms found every page young for the three rounds
 * the tuner took to come down (a quarter per round), and those rounds'
 * promotions into free room were blind (simulator at 1e8 updates/s: 89%
 * of the oracle and t90 9 s, against 91% and 4.5 s); at TCG rates the
 * tuner grows it in a round or two.
 */
#define HTIER_WINDOW_START_US	5000

static int htier_abit_start(struct htier_ctx *ctx)
{
	if (!ctx->abit_window_us)
		ctx->abit_window_us = HTIER_WINDOW_START_US;
	return 0;
}

/*
 * Aim the next window at a young-page count near the quota, among the
 * @covered tracked pages this round's walk covered.
 */
static void htier_abit_tune(struct htier_ctx *ctx, u64 young, u64 covered,
			    u32 max_us)
{
	u64 tracked = ctx->table.nr_used, quota, target;
	u32 w = ctx->abit_window_us;

	if (ctx->cur.abit_window_ms) {
		ctx->abit_window_us = min(ctx->cur.abit_window_ms * USEC_PER_MSEC,
					  max_us);
		return;
	}
	if (!tracked || !covered)
		return;
	/* The quota in force: quota_bytes, or the fast nodes' capacity. */
	quota = ctx->quota_pages_now ? ctx->quota_pages_now : tracked;
	/*
	 * Half the quota: a window that finds the quota's worth of pages
	 * accessed also finds many cold ones, and their heat crowds the hot
	 * set's bins (the simulator: 90% of the oracle at 1/2, 88% at 1).
	 */
	quota /= 2;
	target = clamp_t(u64, quota, tracked / 20, tracked / 2);
	/* A walk that covered part of the memory sees that part's share. */
	if (covered < tracked)
		target = max_t(u64, div64_u64(target * covered, tracked), 1);
	/* Young pages grow about linearly with a short window: scale it. */
	if (young * 4 < target)
		w *= 4;
	else if (young > target * 4)
		w /= 4;
	else
		w = div64_u64((u64)w * target, max_t(u64, young, 1));
	ctx->abit_window_us = clamp_t(u32, w, HTIER_WINDOW_MIN_US, max_us);
}

static void htier_walk_stats_add(struct htier_walk_stats *to,
				 const struct htier_walk_stats *st)
{
	to->ns += st->ns;
	to->ptes += st->ptes;
	to->pmds_read += st->pmds_read;
	to->pmds_idle += st->pmds_idle;
	to->lock_yields += st->lock_yields;
	to->passes += st->passes;
	to->wraps += st->wraps;
}

/*
 * The clear walk spends at most half the round's budget and stops where it
 * must; the sample walk then covers exactly the same ranges (reading costs
 * about what clearing did), and the cursor moves on.  A window as long as
 * the round needs one walk, which samples and clears.
 *
 * A page's window runs from its clear to its read, so it is the wait plus
 * the time the clear walk took after that page and the sample walk before
 * it: about the wait plus one walk.  Where a walk takes longer than a
 * quarter of the window (a short window at a hardware access rate, where a
 * millisecond finds most pages young; much memory), the walk is cut in
 * chunks of a quarter window each (or a sixteenth of half the round's
 * share of the CPU budget, if longer), every chunk cleared, waited on and read
 * before the next: each page's window is then within 1.5 times the wait,
 * so the tuner's window is what the pages see.  At most HTIER_WINDOW_CHUNKS
 * chunks per round and at most a quarter of the round spent waiting; each
 * chunk's clear ends with its own TLB flush.
 */
#define HTIER_WINDOW_CHUNKS	16

static void htier_abit_collect(struct htier_ctx *ctx)
{
	u32 round_us = ctx->cur.scan_interval_ms * USEC_PER_MSEC;
	struct htier_cursor from = ctx->cursor, start = from, end = from;
	u64 now = ktime_get_ns(), clear_end = now + ctx->budget_ns / 2;
	u64 window_ns = (u64)ctx->abit_window_us * NSEC_PER_USEC, chunk_ns;
	u32 chunks, max_chunks;

	if (ctx->abit_window_us >= round_us) {
		end = htier_walk_all(ctx, HTIER_WALK_SAMPLE_CLEAR, from, from,
				     now + ctx->budget_ns, &ctx->walk);
		goto done;
	}
	max_chunks = clamp_t(u32, round_us / 4 / max(ctx->abit_window_us, 1u),
			     1, HTIER_WINDOW_CHUNKS);
	/*
	 * A round's own share of the budget (not what earlier rounds left
	 * unspent, up to seconds' worth) sets the longest chunk.
	 */
	chunk_ns = (u64)round_us * NSEC_PER_USEC / 1000 * ctx->permil_now;
	chunk_ns = max_t(u64, window_ns / 4, chunk_ns / 2 / max_chunks);
	for (chunks = 0; chunks < max_chunks; chunks++) {
		ktime_t window = ns_to_ktime(window_ns);
		struct htier_walk_stats clear = {};
		u64 t = ktime_get_ns();

		/* The last chunk takes what is left of the clear budget. */
		if (t >= clear_end && chunks)
			break;
		end = htier_walk_all(ctx, HTIER_WALK_CLEAR, start, from,
				     chunks + 1 < max_chunks ?
				     min(clear_end, t + chunk_ns) : clear_end,
				     &clear);
		htier_walk_stats_add(&ctx->walk, &clear);
		ctx->walk.windows++;
		/* Interruptible: unload and sampler writes cut it short. */
		set_current_state(TASK_INTERRUPTIBLE);
		if (!kthread_should_stop() && !READ_ONCE(ctx->abort_round))
			schedule_hrtimeout_range(&window,
						 min_t(u64, window_ns / 4,
						       200 * NSEC_PER_USEC),
						 HRTIMER_MODE_REL);
		__set_current_state(TASK_RUNNING);
		if (kthread_should_stop() || READ_ONCE(ctx->abort_round))
			return;
		htier_walk_all(ctx, HTIER_WALK_SAMPLE, start, end, 0, &ctx->walk);
		/* Round once, or stopped short of it by the budget. */
		if (end.slot == from.slot && end.addr == from.addr)
			break;
		start = end;
	}
done:
	ctx->went_round = end.slot == from.slot && end.addr == from.addr &&
			  !READ_ONCE(ctx->abort_round);
	ctx->cursor = end;
	htier_abit_tune(ctx, ctx->walk.young, ctx->walk.pages, round_us);
}

const struct htier_sampler_ops htier_abit_ops = {
	.name = "abit",
	.start = htier_abit_start,
	.collect = htier_abit_collect,
	.samples_by_walk = true,
};
