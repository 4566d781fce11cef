// SPDX-License-Identifier: GPL-2.0
/*
 * htier.ko: tiered memory for a VM's guest.  Finds the hot pages of the
 * managed processes (PEBS samples, or page-table accessed bits) and keeps
 * them on the fast NUMA nodes, the cold ones on the slow nodes, never using
 * more than quota_bytes of fast memory for managed pages.
 *
 * This file holds the module's lifecycle and its one kernel thread, whose
 * round is: refresh the scope, collect samples, age and expire the hotness
 * table, plan against the quota, migrate, publish the statistics.
 */
#define pr_fmt(fmt) "htier: " fmt

#include <linux/cgroup.h>
#include <linux/fs.h>
#include <linux/freezer.h>
#include <linux/kthread.h>
#include <linux/math64.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mmzone.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/vmstat.h>
#include "htier.h"
#include "htier_trace.h"

struct htier_ctx htier;

const char * const htier_sampler_names[NR_HTIER_SAMPLERS] = {
	[HTIER_SAMPLER_AUTO] = "auto",
	[HTIER_SAMPLER_PEBS] = "pebs",
	[HTIER_SAMPLER_ABIT] = "abit",
};

static char *sampler = "auto";
module_param(sampler, charp, 0444);
MODULE_PARM_DESC(sampler, "initial sampler: auto, pebs or abit");
static bool enabled = true;
module_param(enabled, bool, 0444);
MODULE_PARM_DESC(enabled, "start tracking and migrating at load");

/*
 * Promote only pages seen accessed in at least two sampling windows since
 * they last cooled (heat >= 2): one hit is as likely noise as heat.
 */
#define HTIER_MIN_PROMOTE_BIN	2

/* An exchange only displaces fast pages this many heat bins colder. */
#define HTIER_EXCHANGE_GAP	2

/*
 * After the slow tier's accesses jump (the hot set moved), the accessed-bit
 * samples of this many rounds halve the heat of each fast page unused at
 * two samples in a row (htier_walk_age()): the old hot set's heat (a few
 * windows' worth per cooling period) falls to a cold page's in a few
 * rounds while the new hot set's keeps growing, so the exchange gap opens
 * within a round or two instead of after several cooling periods.  PEBS
 * samples too few pages a round to tell unused from unsampled: the table
 * cools HTIER_PEBS_JUMP_COOL extra steps at the jump instead (the new hot
 * set's samples then outweigh the old heat sooner).  Steady state (no
 * jump) is untouched.  The simulator (bench/RESULTS.md): t90 after a shift
 * 8.5 s -> 4.5-5 s (abit), 7 s -> 4.5-5 s (PEBS at 10^8 accesses/s with
 * every sample; at the sampling budget the extra cooling changes nothing).
 */
#define HTIER_AGE_ROUNDS	4
#define HTIER_PEBS_JUMP_COOL	3
/* No aging for a jump within this many rounds of a quota change. */
#define HTIER_AGE_AFTER_FORCED	8

/*
 * An exchange only promotes pages from the bins of the hottest quarter of
 * the quota (the bin holding the page of that rank, and hotter ones).
 * Below that, heat is a few chance hits, and trading such pages for fast
 * pages of the same kind is churn.  The simulator (bench/RESULTS.md
 * section 1): the same fast-hit share or better (within 0.2 points on
 * zipf), 20-65% fewer pages moved; a hot set larger than a quarter of the
 * quota still comes in whole, its bin being the one that holds that rank.
 */
#define HTIER_EXCHANGE_TOP_PERMIL	250

/* Index entries a round looks at for regions whose page table is gone. */
#define HTIER_EXPIRE_PER_ROUND	256

/* CPU budget saved up while idle, at most this many seconds' worth. */
#define HTIER_CREDIT_MAX_S	4

/* Boost triggers: this much new memory, this many pages moved a round. */
#define HTIER_BOOST_NEW_PAGES	512
#define HTIER_BOOST_MOVE_PAGES	512

/**
 * htier_kick() - wake the thread so a setting takes effect now
 * @ctx: the module context
 */
void htier_kick(struct htier_ctx *ctx)
{
	WRITE_ONCE(ctx->kick, true);
	wake_up_interruptible(&ctx->wait);
}

/**
 * htier_stop_round() - end the running round early and keep the next out
 * @ctx: the module context
 *
 * For the writes that change what a round runs on (the sampler): the walk
 * stops at its next clock check and a sampling window is cut short, so this
 * waits for a few PTE tables' or one migration batch's worth of work, not
 * a round.  Pair with htier_resume_round().
 */
void htier_stop_round(struct htier_ctx *ctx)
{
	WRITE_ONCE(ctx->abort_round, true);
	if (ctx->thread)
		wake_up_process(ctx->thread);
	mutex_lock(&ctx->round_lock);
}

/**
 * htier_resume_round() - let rounds run again
 * @ctx: the module context
 */
void htier_resume_round(struct htier_ctx *ctx)
{
	WRITE_ONCE(ctx->abort_round, false);
	mutex_unlock(&ctx->round_lock);
}

/**
 * htier_node_tier() - which tier a node belongs to
 * @ctx: the module context
 * @nid: a node id
 *
 * Return: HTIER_TIER_FAST, HTIER_TIER_SLOW or HTIER_TIER_OTHER.
 */
enum htier_tier htier_node_tier(struct htier_ctx *ctx, int nid)
{
	if (node_isset(nid, ctx->cur.fast_nodes))
		return HTIER_TIER_FAST;
	if (node_isset(nid, ctx->cur.slow_nodes))
		return HTIER_TIER_SLOW;
	return HTIER_TIER_OTHER;
}

/**
 * htier_count_sample() - account one access sample, by the tier it hit
 * @ctx: the module context
 * @tier: the tier of the sampled page
 */
void htier_count_sample(struct htier_ctx *ctx, enum htier_tier tier)
{
	atomic64_inc(&ctx->stats.samples);
	if (tier == HTIER_TIER_FAST)
		atomic64_inc(&ctx->stats.samples_fast);
	else if (tier == HTIER_TIER_SLOW)
		atomic64_inc(&ctx->stats.samples_slow);
}

/* Writers hold round_lock; readers (sysfs) take stats_lock as this does. */
void htier_set_reason(struct htier_ctx *ctx, const char *fmt, ...)
{
	va_list args;

	spin_lock(&ctx->stats_lock);
	va_start(args, fmt);
	vscnprintf(ctx->sampler_reason, sizeof(ctx->sampler_reason), fmt, args);
	va_end(args);
	spin_unlock(&ctx->stats_lock);
}

/**
 * htier_select_sampler() - switch samplers
 * @ctx: the module context, round_lock held
 * @id: the sampler asked for; auto picks pebs when it really yields data
 *	addresses, else abit
 *
 * Return: 0, or the error of an explicitly requested sampler that cannot
 * run here (then nothing changes and sampler_reason says why).
 */
int htier_select_sampler(struct htier_ctx *ctx, enum htier_sampler_id id)
{
	const struct htier_sampler_ops *old = ctx->ops;
	char why[sizeof(ctx->sampler_reason)];
	int err;

	if (old && old->stop)
		old->stop(ctx);
	ctx->ops = NULL;

	if (id == HTIER_SAMPLER_PEBS || id == HTIER_SAMPLER_AUTO) {
		err = htier_pebs_ops.start(ctx);
		if (!err) {
			ctx->ops = &htier_pebs_ops;
			ctx->sampler_req = id;
			ctx->sampler_active = HTIER_SAMPLER_PEBS;
			htier_set_reason(ctx, "%s: PEBS gives data addresses",
					 htier_sampler_names[id]);
			pr_info("sampler %s: pebs\n", htier_sampler_names[id]);
			return 0;
		}
		strscpy(why, ctx->sampler_reason, sizeof(why));
		if (id == HTIER_SAMPLER_PEBS) {
			pr_warn("sampler pebs refused: %s; staying with %s\n",
				why, old ? old->name : "none");
			/* Put the previous sampler back, reason kept. */
			if (old && !old->start(ctx))
				ctx->ops = old;
			htier_set_reason(ctx, "pebs refused: %s; running %s",
					 why, ctx->ops ? ctx->ops->name : "none");
			return err;
		}
		htier_abit_ops.start(ctx);
		ctx->ops = &htier_abit_ops;
		ctx->sampler_req = id;
		ctx->sampler_active = HTIER_SAMPLER_ABIT;
		htier_set_reason(ctx, "auto: abit, because pebs is unusable: %s",
				 why);
		pr_info("sampler auto: abit (pebs unusable: %s)\n", why);
		return 0;
	}

	htier_abit_ops.start(ctx);
	ctx->ops = &htier_abit_ops;
	ctx->sampler_req = id;
	ctx->sampler_active = HTIER_SAMPLER_ABIT;
	htier_set_reason(ctx, "abit: selected");
	pr_info("sampler abit\n");
	return 0;
}

/*
 * Node lists are checked when written, but a node may lose its memory later
 * (a virtio-mem device or a DIMM unplugged, every block offlined), and a
 * node without memory may be taken offline: an __GFP_THISNODE allocation
 * there fails, or, on an offline node, warns with a stack dump each time.
 * So each round looks again: while a tier has no node with memory, no page
 * is moved (the pages stay where they are, as with enabled = 0), and the
 * module says so once when that starts and once when it ends.
 */
static bool htier_tier_has_memory(const nodemask_t *nodes)
{
	int nid;

	for_each_node_mask(nid, *nodes)
		if (htier_node_has_memory(nid))
			return true;
	return false;
}

/*
 * One tier: true while it has a node with memory.  An empty list (no
 * CPU-less node to tier, which load already warned about) moves nothing
 * but is not a node that lost its memory, so it is not reported.
 */
static bool htier_tier_check(const nodemask_t *nodes, const char *name,
			     bool *gone)
{
	bool has = htier_tier_has_memory(nodes);
	bool report = !has && !nodes_empty(*nodes);

	if (report == *gone)
		return has;
	*gone = report;
	if (report)
		pr_warn("%s nodes %*pbl have no memory: no pages are moved until they do\n",
			name, nodemask_pr_args(nodes));
	else
		pr_info("%s nodes %*pbl have memory again\n", name,
			nodemask_pr_args(nodes));
	return has;
}

static bool htier_tiers_have_memory(struct htier_ctx *ctx)
{
	bool fast = htier_tier_check(&ctx->cur.fast_nodes, "fast",
				     &ctx->fast_nodes_gone);
	bool slow = htier_tier_check(&ctx->cur.slow_nodes, "slow",
				     &ctx->slow_nodes_gone);

	return fast && slow;
}

/*
 * Fast capacity for managed pages: what they hold plus what is free, of
 * the free pages a promotion's allocation may take.  A zone keeps twice
 * its high watermark, and what it reserves against allocations that
 * could have used a higher zone (lowmem_reserve, which a movable page's
 * allocation must leave).
 */
static u64 htier_fast_capacity_pages(struct htier_ctx *ctx, u64 managed_fast)
{
	const enum zone_type top = gfp_zone(GFP_HIGHUSER_MOVABLE);
	u64 free = 0;
	int nid;

	for_each_node_mask(nid, ctx->cur.fast_nodes) {
		pg_data_t *pgdat;
		int z;

		if (!htier_node_has_memory(nid))
			continue;
		pgdat = NODE_DATA(nid);

		for (z = 0; z <= top; z++) {
			struct zone *zone = &pgdat->node_zones[z];
			u64 f = zone_page_state(zone, NR_FREE_PAGES);
			u64 keep = high_wmark_pages(zone) * 2 +
				   max_t(long, zone->lowmem_reserve[top], 0);

			if (populated_zone(zone) && f > keep)
				free += f - keep;
		}
	}
	/*
	 * Free pages a promotion could not have (the allocator refused one
	 * with that much free: fragmentation, other zones' reserves) are no
	 * room; only what is freed since counts.  Otherwise every round
	 * would try, and fail, one batch more.
	 */
	ctx->fast_free_now = free;
	if (ctx->fast_free_unusable > free)
		ctx->fast_free_unusable = free;
	return managed_fast + free - ctx->fast_free_unusable;
}

static void htier_publish(struct htier_ctx *ctx, const struct htier_hist *h,
			  const struct htier_plan *plan, u64 round_us,
			  u64 migrate_us, u64 track_ns)
{
	u64 tier_pages[NR_HTIER_TIERS] = {}, active = 0, now;
	int t, b;

	for (t = 0; t < NR_HTIER_TIERS; t++)
		for (b = 0; b < HTIER_NR_BINS; b++) {
			tier_pages[t] += h->pages[t][b];
			if (b)
				active += h->pages[t][b];
		}
	spin_lock(&ctx->stats_lock);
	ctx->stats.fast_resident_bytes = tier_pages[HTIER_TIER_FAST] << PAGE_SHIFT;
	ctx->stats.slow_resident_bytes = tier_pages[HTIER_TIER_SLOW] << PAGE_SHIFT;
	ctx->stats.other_resident_bytes = tier_pages[HTIER_TIER_OTHER] << PAGE_SHIFT;
	ctx->stats.hot_set_bytes = plan->hot_pages << PAGE_SHIFT;
	ctx->stats.active_bytes = active << PAGE_SHIFT;
	ctx->stats.tracked_pages = ctx->table.nr_used;
	ctx->stats.tracked_regions = ctx->table.nr_regions;
	ctx->stats.table_bytes = (u64)ctx->table.nr_regions *
				 sizeof(struct htier_region) +
				 (u64)ctx->table.capacity * sizeof(void *);
	ctx->stats.table_full = ctx->table.nr_full;
	ctx->stats.spread_regions = ctx->table.nr_spread;
	ctx->stats.last_round_us = round_us;
	ctx->stats.last_migrate_us = migrate_us;
	ctx->stats.coverage_permil = ctx->coverage_permil;
	ctx->stats.cpu_permil_now = ctx->permil_now;
	ctx->stats.boost_ms = div_u64(ctx->boost.total_ns, NSEC_PER_MSEC);
	ctx->stats.track_us_total += track_ns / 1000;
	ctx->stats.ptes_scanned += ctx->walk.ptes;
	ctx->stats.pmds_read += ctx->walk.pmds_read;
	ctx->stats.pmds_idle += ctx->walk.pmds_idle;
	ctx->stats.lock_yields += ctx->walk.lock_yields;
	ctx->stats.full_passes += ctx->walk.passes;
	ctx->stats.sample_windows += ctx->walk.windows;
	ctx->stats.aged_rounds += ctx->round_aged;
	/* The thread's own CPU time per wall time, over a second or more. */
	now = ktime_get_ns();
	if (now - ctx->cpu_wall_at_ns >= NSEC_PER_SEC) {
		u64 cpu = current->se.sum_exec_runtime;

		ctx->stats.thread_cpu_permil =
			div64_u64((cpu - ctx->cpu_at_ns) * 1000,
				  now - ctx->cpu_wall_at_ns);
		ctx->cpu_at_ns = cpu;
		ctx->cpu_wall_at_ns = now;
	}
	for (b = 0; b < HTIER_NR_BINS; b++)
		ctx->stats.histogram[b] = h->pages[HTIER_TIER_FAST][b] +
					  h->pages[HTIER_TIER_SLOW][b] +
					  h->pages[HTIER_TIER_OTHER][b];
	spin_unlock(&ctx->stats_lock);
}

/* Pages one direction may move this round under the rate limit. */
static u64 htier_round_budget(struct htier_ctx *ctx)
{
	u64 budget = ctx->cur.migrate_batch_pages;

	if (ctx->cur.migrate_max_mbps) {
		u64 rate = (u64)ctx->cur.migrate_max_mbps * ctx->cur.scan_interval_ms *
			   (1000000 / 1000) >> PAGE_SHIFT;

		budget = min_t(u64, budget, max_t(u64, rate, 1));
	}
	return min_t(u64, budget, ctx->max_keys);
}

/*
 * The samples of at least a whole pass into the shift detector, with the
 * pages they cover by tier: a round that covers part of the memory (the
 * CPU budget) sees that part, which says where the walk is, not that the
 * hot set moved (a part without the hot tables looks like a hot set gone
 * to slow).  So samples and covered pages add up until they cover every
 * tracked page at least once.  PEBS samples everything every round.
 */
static bool htier_slow_accesses_jumped(struct htier_ctx *ctx,
				       const struct htier_hist *h)
{
	u64 now_all = atomic64_read(&ctx->stats.samples);
	u64 now_slow = atomic64_read(&ctx->stats.samples_slow);
	u64 all, slow, covered, pages = 0;
	bool jumped;
	int t, b;

	for (t = 0; t < NR_HTIER_TIERS; t++)
		for (b = 0; b < HTIER_NR_BINS; b++)
			pages += h->pages[t][b];
	/*
	 * The walk counts young base pages (a huge entry's 512 as well, so a
	 * THP-backed hot set weighs what it holds); PEBS counts samples.
	 */
	all = now_all - ctx->last_samples;
	slow = now_slow - ctx->last_samples_slow;
	ctx->last_samples = now_all;
	ctx->last_samples_slow = now_slow;
	if (ctx->ops->samples_by_walk) {
		all = 0;
		for (t = 0; t < NR_HTIER_TIERS; t++)
			all += ctx->walk.young_pages[t];
		slow = ctx->walk.young_pages[HTIER_TIER_SLOW];
	}
	ctx->pass_samples += all;
	ctx->pass_samples_slow += slow;
	if (ctx->ops->samples_by_walk) {
		for (t = 0; t < NR_HTIER_TIERS; t++)
			ctx->pass_pages += ctx->walk.tier_pages[t];
		ctx->pass_pages_slow += ctx->walk.tier_pages[HTIER_TIER_SLOW];
		covered = ctx->pass_pages;
	} else {
		ctx->pass_pages = covered = pages;
		ctx->pass_pages_slow = 0;
		for (b = 0; b < HTIER_NR_BINS; b++)
			ctx->pass_pages_slow += h->pages[HTIER_TIER_SLOW][b];
	}
	/* The regions this round sampled, against their previous visit. */
	if (ctx->ops->samples_by_walk &&
	    htier_shift_regions(ctx->walk.slow_young_now,
				ctx->walk.slow_young_before))
		return true;
	if (ctx->ops->samples_by_walk && covered < pages)
		return false;
	jumped = htier_shift_step(&ctx->shift, ctx->pass_samples_slow,
				  ctx->pass_samples, ctx->pass_pages_slow,
				  ctx->pass_pages);
	ctx->pass_samples = ctx->pass_samples_slow = 0;
	ctx->pass_pages = ctx->pass_pages_slow = 0;
	return jumped;
}

/*
 * Placement is converging, so boost the budget (struct htier_boost): the
 * walk found much memory it had not tracked (a new or growing process:
 * a sixteenth more, at least HTIER_BOOST_NEW_PAGES), the slow tier's
 * samples per page jumped against the fast tier's (a moved hot set), the
 * last round promoted more than a sixteenth of the quota (what it moved,
 * not what the plan asked for; promotions only, so that the steady trickle
 * of exchanges, each a promotion and a demotion, does not keep the boost
 * on), or that many slow pages are at least the exchange gap hotter than
 * the hot set's coldest bin (placement far from settled).
 * Return: triggered.
 */
static bool htier_boost_check(struct htier_ctx *ctx, const struct htier_plan *plan,
			      u64 quota_pages, u64 used_before, u64 walk_grew,
			      bool jumped)
{
	/*
	 * What this round's walk added, net of what it found gone: not the
	 * change since the last round, which the entries that expiry and
	 * scope changes drop between walks can hide (a selftest's new
	 * process, tracked in the round that dropped the previous test's
	 * pages, was not boosted).
	 */
	bool grew = walk_grew >= max_t(u64, HTIER_BOOST_NEW_PAGES,
				       used_before / 16);
	bool moving = ctx->last_promoted >=
		      max_t(u64, HTIER_BOOST_MOVE_PAGES, quota_pages / 16);
	/*
	 * Slow pages the exchange gap hotter than the hot set's threshold:
	 * hot beyond doubt.  (Counting every slow page above the threshold
	 * kept the boost on in steady state: the threshold bin moves by one
	 * at cooling steps, and a cold page's chance hits lift it one bin
	 * above now and then.)
	 */
	bool owed = plan->owed_pages >=
		    max_t(u64, HTIER_BOOST_MOVE_PAGES, quota_pages / 16);

	spin_lock(&ctx->stats_lock);
	ctx->stats.boost_grew += grew;
	ctx->stats.boost_jumped += jumped;
	ctx->stats.boost_moving += moving;
	ctx->stats.boost_owed += owed;
	ctx->stats.owed_pages = plan->owed_pages;
	spin_unlock(&ctx->stats_lock);
	if (!(grew || jumped || moving || owed))
		return false;
	htier_boost_trigger(&ctx->boost, ktime_get_ns());
	return true;
}

/*
 * The round's copy of the settings: taken under the settings lock, which
 * is then given back, so sysfs writes never wait for a round.
 */
static void htier_snapshot_settings(struct htier_ctx *ctx)
{
	struct cgroup *old = ctx->cur.cgroup;

	mutex_lock(&ctx->lock);
	ctx->cur = ctx->set;
	if (ctx->cur.cgroup)
		cgroup_get(ctx->cur.cgroup);
	mutex_unlock(&ctx->lock);
	if (old)
		cgroup_put(old);
}

/*
 * The tracking budget: cpu_permil of the time since the last round, plus
 * what earlier rounds left unspent (at most HTIER_CREDIT_MAX_S seconds'
 * worth, so a burst after an idle spell stays short).  A round that
 * overspends starts the next one in debt (at most as deep).
 */
static void htier_budget_round(struct htier_ctx *ctx)
{
	u64 now = ktime_get_ns(), permil = ctx->cur.cpu_permil, earned;
	bool boosted;
	s64 cap;

	/* Earned at the boosted rate only for the time the boost paid for. */
	earned = htier_boost_credit(&ctx->boost, now, ctx->cur.cpu_permil,
				    ctx->cur.cpu_boost_permil, &boosted);
	if (boosted)
		permil = ctx->cur.cpu_boost_permil;
	ctx->permil_now = (u32)permil;
	cap = (s64)(permil * HTIER_CREDIT_MAX_S * NSEC_PER_SEC / 1000);

	ctx->credit_ns += (s64)earned;
	/* Neither saved-up credit nor debt beyond HTIER_CREDIT_MAX_S. */
	ctx->credit_ns = clamp(ctx->credit_ns, -cap, cap);
	ctx->budget_ns = ctx->credit_ns > 0 ? ctx->credit_ns : 0;
}

/* One round; round_lock held. */
static void htier_round(struct htier_ctx *ctx)
{
	/* PEBS heat counts eighths of a sample: its floor is one sample. */
	u32 min_bin = ctx->ops->samples_by_walk ? HTIER_MIN_PROMOTE_BIN :
			HTIER_PEBS_MIN_PROMOTE_BIN;
	struct htier_policy_params params = {
		.min_promote_bin = min_bin,
		.exchange_gap = HTIER_EXCHANGE_GAP,
		.exchange_top_permil = HTIER_EXCHANGE_TOP_PERMIL,
	};
	struct htier_hist hist;
	struct htier_plan plan;
	u64 t0 = ktime_get_ns(), t1, t_rank, fast, quota, track_ns, used_before, walk_grew;
	u64 samples_before;
	bool jumped, triggered;
	int b;

	htier_scope_refresh(ctx);
	ctx->table.epoch++;
	htier_budget_round(ctx);
	memset(&ctx->walk, 0, sizeof(ctx->walk));
	ctx->went_round = false;
	used_before = ctx->table.nr_used;
	/*
	 * The residency walk spreads evenly sampled regions against the
	 * table's mean rate of the last round (htier_region_spread()).
	 */
	samples_before = atomic64_read(&ctx->stats.samples);
	ctx->spread.weight = HTIER_PEBS_SAMPLE_HEAT;
	ctx->spread.horizon = 2 * ctx->cur.cooling_period_scans;
	ctx->spread.floor_heat = 1u << (min_bin - 1);
	ctx->ops->collect(ctx);
	if (used_before)
		ctx->spread.mean_x1024 = (u32)min_t(u64, U32_MAX,
			(atomic64_read(&ctx->stats.samples) - samples_before) *
			1024 / used_before);
	if (READ_ONCE(ctx->abort_round))
		return;
	/* This round's sample aged unused pages (htier_walk_all()). */
	ctx->round_aged = ctx->age_rounds && ctx->ops->samples_by_walk;
	if (ctx->age_rounds)
		ctx->age_rounds--;
	walk_grew = ctx->table.nr_used > used_before ?
		    ctx->table.nr_used - used_before : 0;

	t_rank = ktime_get_ns();
	/*
	 * The share of the tracked memory this round's walk covered (read,
	 * or skipped as idle): all of it once the walk went round.
	 */
	ctx->coverage_permil = ctx->went_round ? 1000 :
		min_t(u64, div64_u64(ctx->walk.pages * 1000,
				     max_t(u64, ctx->table.nr_used, 1)), 1000);
	/*
	 * Cooling counts samples, not time: heat stays an average over each
	 * page's last few samples however long the period is (cooling by
	 * time starves heat while the period is backed off; a moved hot set
	 * is caught by the slow-access jump).  PEBS samples every page each
	 * round; the accessed-bit walk samples the pages it covers, so with
	 * a partial walk per round (the CPU budget) cooling waits for
	 * cooling_period_scans passes of the walk over every managed address
	 * space.  (Summing the rounds' coverage instead overcounts while the
	 * first pass is still finding pages, and cooled them before their
	 * second sample.)  Both are O(1) or bounded: cooling is lazy, expiry
	 * looks at a few index entries per round.
	 */
	ctx->passes_since_cool += ctx->ops->samples_by_walk ?
				  (u32)ctx->walk.wraps : 1;
	/* PEBS also waits for enough samples (htier_pebs_cool_due()). */
	if (!ctx->ops->samples_by_walk)
		ctx->samples_since_cool += atomic64_read(&ctx->stats.samples) -
					   samples_before;
	if (ctx->ops->samples_by_walk ?
	    ctx->passes_since_cool >= ctx->cur.cooling_period_scans :
	    htier_pebs_cool_due(ctx->passes_since_cool,
				ctx->cur.cooling_period_scans,
				ctx->samples_since_cool, ctx->quota_pages_now,
				HTIER_PEBS_COOL_SAMPLES_PER_PAGE)) {
		htier_table_cool(&ctx->table, 1);
		ctx->passes_since_cool = 0;
		ctx->samples_since_cool = 0;
	}
	htier_table_expire(&ctx->table, ctx->slot_verified,
			   HTIER_EXPIRE_PER_ROUND);
	htier_table_histogram(&ctx->table, &hist);

	fast = 0;
	for (b = 0; b < HTIER_NR_BINS; b++)
		fast += hist.pages[HTIER_TIER_FAST][b];
	quota = ctx->cur.quota_bytes == U64_MAX ? U64_MAX :
		ctx->cur.quota_bytes >> PAGE_SHIFT;
	params.quota_pages = min_t(u64, quota,
				   htier_fast_capacity_pages(ctx, fast));
	ctx->quota_pages_now = params.quota_pages;
	params.max_promote = htier_round_budget(ctx);
	params.max_demote = params.max_promote;
	if (!htier_tiers_have_memory(ctx))
		params.max_promote = params.max_demote = 0;
	/* Every page is recorded at every sample by the accessed-bit walk. */
	params.exchange_recent = ctx->ops->samples_by_walk;
	htier_plan_compute(&hist, &params, &plan);
	trace_htier_round(ctx->table.nr_used, plan.hot_pages, fast,
			  params.quota_pages, plan.nr_promote, plan.nr_demote);

	/*
	 * Scan less often, up to scan_interval_max_ms, only while placement
	 * is settled: nothing to move and no clearly hot page left on slow
	 * memory (one the exchange gap still holds back needs more samples),
	 * and the walk covered everything (else keep the pace to cover it).
	 */
	jumped = htier_slow_accesses_jumped(ctx, &hist);
	/*
	 * A quota that moved (the host resizing the fast node, the agent
	 * applying it) moves pages by force or into new room, and the samples
	 * follow them between the tiers: a jump, but the hot set did not move.
	 * Aging then would reshape the heat the agent reports to the host,
	 * which moves the quota again; so no aging within a few rounds of it
	 * (of a move by more than 1/32: the fast node's free memory, when it
	 * is what bounds the quota, wobbles).
	 */
	if (plan.nr_forced ||
	    max(params.quota_pages, ctx->last_quota_pages) -
	    min(params.quota_pages, ctx->last_quota_pages) >
	    max(params.quota_pages, ctx->last_quota_pages) / 32)
		ctx->forced_round = ctx->round;
	ctx->last_quota_pages = params.quota_pages;
	if (jumped && ctx->round - ctx->forced_round >= HTIER_AGE_AFTER_FORCED) {
		if (ctx->ops->samples_by_walk) {
			ctx->age_rounds = HTIER_AGE_ROUNDS;
		} else {
			htier_table_cool(&ctx->table, HTIER_PEBS_JUMP_COOL);
			ctx->round_aged = true;
		}
	}
	triggered = htier_boost_check(ctx, &plan, params.quota_pages,
				      used_before, walk_grew, jumped);
	if (triggered || plan.nr_promote || plan.nr_demote || !ctx->went_round ||
	    plan.stale_pages > plan.hot_pages / 64)
		ctx->interval_ms = ctx->cur.scan_interval_ms;
	else
		ctx->interval_ms = min(ctx->interval_ms * 2,
				       max(ctx->cur.scan_interval_ms,
					   ctx->cur.scan_interval_max_ms));

	t1 = ktime_get_ns();
	track_ns = ctx->walk.ns + (t1 - t_rank);
	if (plan.nr_promote || plan.nr_demote) {
		u64 promoted = atomic64_read(&ctx->stats.promoted_pages);

		htier_migrate_round(ctx, &plan);
		atomic64_add((ktime_get_ns() - t1) / 1000, &ctx->stats.migrate_us);
		ctx->last_promoted = atomic64_read(&ctx->stats.promoted_pages) -
				     promoted;
		if (ctx->promote_out_of_room)
			ctx->fast_free_unusable = ctx->fast_free_now;
	} else {
		ctx->last_promoted = 0;
	}
	/* Selection is ranking work too: charge it with the tracking. */
	ctx->credit_ns -= (s64)track_ns;
	atomic64_inc(&ctx->stats.rounds);
	htier_publish(ctx, &hist, &plan, (ktime_get_ns() - t0) / 1000,
		      (ktime_get_ns() - t1) / 1000, track_ns);
}

static int htier_thread(void *data)
{
	struct htier_ctx *ctx = data;

	/*
	 * Frozen with the tasks for suspend and hibernation (no page moves
	 * while the image is taken): between rounds, in the wait below.
	 */
	set_freezable();
	ctx->cpu_wall_at_ns = ktime_get_ns();
	htier_boost_init(&ctx->boost, ctx->cpu_wall_at_ns);
	ctx->cpu_at_ns = current->se.sum_exec_runtime;
	while (!kthread_should_stop()) {
		mutex_lock(&ctx->round_lock);
		htier_snapshot_settings(ctx);
		if (ctx->cur.enabled && ctx->ops) {
			htier_round(ctx);
		} else {
			/* Time off is not boosted time (nor paid for). */
			htier_boost_stop(&ctx->boost);
			htier_scope_prune(ctx);
		}
		mutex_unlock(&ctx->round_lock);
		wait_event_freezable_timeout(ctx->wait,
				kthread_should_stop() || READ_ONCE(ctx->kick),
				msecs_to_jiffies(READ_ONCE(ctx->interval_ms)));
		/* A settings change restarts the fast pace. */
		if (READ_ONCE(ctx->kick))
			WRITE_ONCE(ctx->interval_ms,
				   READ_ONCE(ctx->set.scan_interval_ms));
		WRITE_ONCE(ctx->kick, false);
	}
	return 0;
}

/* AutoNUMA moves pages toward CPUs by itself, competing with htier. */
static void htier_warn_numa_balancing(void)
{
	struct file *f = filp_open("/proc/sys/kernel/numa_balancing",
				   O_RDONLY, 0);
	char buf[4] = "";
	loff_t pos = 0;

	if (IS_ERR(f))
		return;
	if (kernel_read(f, buf, sizeof(buf) - 1, &pos) > 0 && buf[0] != '0')
		pr_warn("kernel.numa_balancing=%c competes with htier's placement; set it to 0\n",
			buf[0]);
	filp_close(f, NULL);
}

static void htier_default_nodes(struct htier_ctx *ctx)
{
	int nid;

	nodes_clear(ctx->set.fast_nodes);
	nodes_clear(ctx->set.slow_nodes);
	for_each_node_state(nid, N_MEMORY) {
		if (node_state(nid, N_CPU))
			node_set(nid, ctx->set.fast_nodes);
		else
			node_set(nid, ctx->set.slow_nodes);
	}
}

static struct htier_region *htier_region_alloc(void *priv)
{
	struct htier_ctx *ctx = priv;

	return kmem_cache_zalloc(ctx->region_cache,
				 GFP_KERNEL | __GFP_NOWARN | __GFP_NORETRY);
}

static void htier_region_free(struct htier_region *r, void *priv)
{
	struct htier_ctx *ctx = priv;

	kmem_cache_free(ctx->region_cache, r);
}

static void htier_free_table(struct htier_ctx *ctx)
{
	if (ctx->table.index)
		htier_table_destroy(&ctx->table);
	kvfree(ctx->table.index);
	ctx->table.index = NULL;
	kmem_cache_destroy(ctx->region_cache);
	ctx->region_cache = NULL;
}

/*
 * Regions come from a slab cache as pages are found; the index holds
 * pointers, four per 2 MiB of RAM rounded up to a power of two (0.0016% of
 * RAM): room for every PTE table of anonymous memory filling RAM with the
 * 7/8 load limit, and for sparse mappings; regions past it are counted in
 * stats/table_full.
 */
static int htier_alloc_table(struct htier_ctx *ctx)
{
	const struct htier_region_alloc mem = {
		.alloc = htier_region_alloc,
		.free = htier_region_free,
		.priv = ctx,
	};
	u64 capacity = roundup_pow_of_two(max_t(u64, totalram_pages() /
						HTIER_REGION_PAGES * 4, 1024));
	struct htier_region **index;

	capacity = min_t(u64, capacity, 1ULL << 24);
	ctx->region_cache = kmem_cache_create("htier_region",
					      sizeof(struct htier_region), 0,
					      0, NULL);
	index = kvmalloc_array(capacity, sizeof(*index), GFP_KERNEL);
	if (!ctx->region_cache || !index) {
		kvfree(index);
		htier_free_table(ctx);
		return -ENOMEM;
	}
	htier_table_init(&ctx->table, index, (u32)capacity, ctx->slot_heads,
			 HTIER_MAX_MMS, &mem);
	return 0;
}

static int __init htier_init(void)
{
	struct htier_ctx *ctx = &htier;
	int err, id;

	mutex_init(&ctx->lock);
	mutex_init(&ctx->round_lock);
	spin_lock_init(&ctx->stats_lock);
	init_waitqueue_head(&ctx->wait);
	ctx->set.quota_bytes = U64_MAX;
	ctx->set.scan_interval_ms = 500;
	ctx->set.scan_interval_max_ms = 4000;
	ctx->set.cooling_period_scans = 8;
	ctx->set.migrate_max_mbps = 0;
	ctx->set.migrate_batch_pages = 4096;
	ctx->set.cpu_permil = 10;
	ctx->set.cpu_boost_permil = 100;
	ctx->set.enabled = enabled;
	ctx->interval_ms = ctx->set.scan_interval_ms;
	ctx->pebs_sample_period = 199;
	ctx->pebs_cpu_permil = 10;
	ctx->cursor.slot = 1;
	htier_default_nodes(ctx);
	ctx->cur = ctx->set;

	err = htier_alloc_table(ctx);
	if (err)
		return err;
	err = htier_walk_init(ctx);
	if (err) {
		htier_free_table(ctx);
		return err;
	}
	ctx->max_keys = 65536;
	ctx->promote_keys = kvmalloc_array(ctx->max_keys, sizeof(u64),
					   GFP_KERNEL);
	ctx->demote_keys = kvmalloc_array(ctx->max_keys, sizeof(u64),
					  GFP_KERNEL);
	err = -ENOMEM;
	if (!ctx->promote_keys || !ctx->demote_keys)
		goto out_free;

	id = match_string(htier_sampler_names, NR_HTIER_SAMPLERS, sampler);
	err = -EINVAL;
	if (id < 0) {
		pr_err("unknown sampler '%s' (auto, pebs, abit)\n", sampler);
		goto out_free;
	}
	mutex_lock(&ctx->round_lock);
	err = htier_select_sampler(ctx, id);
	mutex_unlock(&ctx->round_lock);
	if (err)
		goto out_free;

	if (nodes_empty(ctx->set.slow_nodes))
		pr_warn("no CPU-less (slow) node found: set slow_nodes to tier\n");
	htier_warn_numa_balancing();

	err = htier_sysfs_init(ctx);
	if (err)
		goto out_sampler;
	ctx->thread = kthread_run(htier_thread, ctx, "htierd");
	if (IS_ERR(ctx->thread)) {
		err = PTR_ERR(ctx->thread);
		ctx->thread = NULL;
		goto out_sysfs;
	}
	pr_info("loaded: fast nodes %*pbl, slow nodes %*pbl, region index of %u\n",
		nodemask_pr_args(&ctx->set.fast_nodes),
		nodemask_pr_args(&ctx->set.slow_nodes), ctx->table.capacity);
	return 0;

out_sysfs:
	htier_sysfs_exit(ctx);
out_sampler:
	if (ctx->ops && ctx->ops->stop)
		ctx->ops->stop(ctx);
out_free:
	kvfree(ctx->promote_keys);
	kvfree(ctx->demote_keys);
	htier_walk_exit(ctx);
	htier_free_table(ctx);
	return err;
}

static void __exit htier_exit(void)
{
	struct htier_ctx *ctx = &htier;

	/* sysfs first: no writer can race the teardown below. */
	htier_sysfs_exit(ctx);
	kthread_stop(ctx->thread);
	mutex_lock(&ctx->round_lock);
	if (ctx->ops && ctx->ops->stop)
		ctx->ops->stop(ctx);
	ctx->ops = NULL;
	htier_scope_release_all(ctx);
	if (ctx->cur.cgroup)
		cgroup_put(ctx->cur.cgroup);
	if (ctx->set.cgroup)
		cgroup_put(ctx->set.cgroup);
	mutex_unlock(&ctx->round_lock);
	kvfree(ctx->promote_keys);
	kvfree(ctx->demote_keys);
	htier_walk_exit(ctx);
	htier_free_table(ctx);
	pr_info("unloaded\n");
}

module_init(htier_init);
module_exit(htier_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("htier: guest-side tiered memory management (hot pages on fast NUMA nodes)");
