// SPDX-License-Identifier: GPL-2.0
/*
 * htier migration: carries out a round's selection with the exported
 * migrate_vma_* API.  Selected pages are sorted by (slot, address) and moved
 * in runs of contiguous pages: migrate_vma_setup() isolates and unmaps them
 * (leaving migration entries, so the contents are stable), we allocate a
 * page on the target node and copy into it, migrate_vma_pages() moves the
 * struct page state and migrate_vma_finalize() maps the new pages, or the old
 * ones again for anything that failed.  A page is never lost: until
 * finalize, the source page holds the data and the PTE points at it through
 * a migration entry; every page the API could not take is put back by it.
 *
 * A PMD-mapped THP is moved as a 512-page run: migrate_vma_setup() splits it
 * first (neither 6.1 nor 6.12 migrates a THP through this API), counted in
 * thp_split when it did.  Demotions run before promotions so that fast usage
 * only drops first.
 *
 * The table learns each page's outcome: a moved page's new tier, and a page
 * that could not be moved is not selected again until the next cooling step
 * (htier_table_note_failed()).
 */
#define pr_fmt(fmt) "htier: " fmt

#include <linux/highmem.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/migrate.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/sched/mm.h>
#include <linux/sort.h>
#include "htier.h"

#define CREATE_TRACE_POINTS
#include "htier_trace.h"

#define HTIER_RUN_MAX	HTIER_HUGE_PAGES

/* Only the htier thread migrates; these are its scratch arrays. */
static unsigned long htier_src[HTIER_RUN_MAX];
static unsigned long htier_dst[HTIER_RUN_MAX];

/*
 * What became of each page of a run.  Every page of a run is one the walk
 * found mapped; one that migrate_vma_setup() does not hand back was refused
 * (a page that may be pinned for DMA, a THP that could not be split: the
 * API says nothing), or unmapped since the walk, which the next walk sees.
 */
enum htier_outcome {
	HTIER_SKIPPED = 0,	/* not tried (the run was not moved) */
	HTIER_THERE,		/* already on the target tier */
	HTIER_MOVED,
	HTIER_FAILED,		/* pinned, locked, busy, or no target page */
};
static u8 htier_outcome[HTIER_RUN_MAX];

struct htier_move {
	struct htier_ctx *ctx;
	bool promote;
	const nodemask_t *target_nodes;
	enum htier_tier target_tier;
	int next_nid;		/* round-robin start among target nodes */
	u64 moved, failed;
	bool out_of_room;	/* a target page could not be allocated */
};

static int htier_cmp_key(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/*
 * A page on one of the target nodes, never by reclaiming or compacting
 * memory in this thread, nor from the reserves (the kernel's own
 * promotion and demotion masks, alloc_misplaced_dst_page() and
 * alloc_demote_page()): a move is an optimisation, worth no stall.  A
 * demotion may wake kswapd on the slow node; a promotion does not, so that
 * htier never makes the fast node reclaim to make room for itself.
 */
static struct page *htier_alloc_target(struct htier_move *mv)
{
	const gfp_t gfp = (GFP_HIGHUSER_MOVABLE & ~__GFP_RECLAIM) |
			  __GFP_THISNODE | __GFP_NOWARN | __GFP_NOMEMALLOC |
			  (mv->promote ? 0 : __GFP_KSWAPD_RECLAIM);
	int nid, tries = nodes_weight(*mv->target_nodes);

	nid = mv->next_nid;
	while (tries-- > 0) {
		struct page *page;

		nid = next_node_in(nid, *mv->target_nodes);
		if (nid >= MAX_NUMNODES)
			return NULL;
		/* Its memory went since the round began: not there. */
		if (!htier_node_has_memory(nid))
			continue;
		page = alloc_pages_node(nid, gfp, 0);
		if (page) {
			mv->next_nid = nid;
			return page;
		}
	}
	return NULL;
}

/*
 * Move the pages of [start, start + nr pages) of @mm; mmap lock held.
 * htier_outcome[i] says what became of page i.  Return: true if a page of
 * the run was collected (a THP in it was split).
 */
static bool htier_move_run(struct htier_move *mv, struct mm_struct *mm,
			   const struct htier_mm *ms, unsigned long start,
			   unsigned int nr)
{
	struct vm_area_struct *vma = find_vma(mm, start);
	unsigned long end = start + ((unsigned long)nr << PAGE_SHIFT);
	struct migrate_vma args = {};
	unsigned int moved = 0, failed = 0;
	u64 t0 = ktime_get_ns();
	bool collected = false;
	unsigned long i;

	memset(htier_outcome, HTIER_SKIPPED, nr);
	if (!vma || vma->vm_start > start || vma->vm_end < end ||
	    !vma_is_anonymous(vma)) {
		/* Unmapped since the scan: nothing to move, nothing lost. */
		return false;
	}
	/* mlock()ed or bound by a policy since the scan: leave it. */
	if (!htier_vma_movable(mv->ctx, ms, vma))
		return false;
	args.vma = vma;
	args.start = start;
	args.end = end;
	args.src = htier_src;
	args.dst = htier_dst;
	args.flags = MIGRATE_VMA_SELECT_SYSTEM;
	if (migrate_vma_setup(&args)) {
		memset(htier_outcome, HTIER_FAILED, nr);
		mv->failed += nr;
		return false;
	}

	for (i = 0; i < args.npages; i++) {
		struct page *page = migrate_pfn_to_page(args.src[i]);
		struct page *newpage;

		args.dst[i] = 0;
		if (!page) {
			htier_outcome[i] = HTIER_FAILED;	/* refused */
			failed++;
			continue;
		}
		collected = true;
		if (!(args.src[i] & MIGRATE_PFN_MIGRATE)) {
			htier_outcome[i] = HTIER_FAILED; /* pinned, locked, busy */
			failed++;
			continue;
		}
		if (htier_node_tier(mv->ctx, page_to_nid(page)) ==
		    mv->target_tier) {
			htier_outcome[i] = HTIER_THERE;
			continue;
		}
		/*
		 * No page on the target: the rest of the run would fail as
		 * well (and the round stops moving this way).
		 */
		newpage = mv->out_of_room ? NULL : htier_alloc_target(mv);
		if (!newpage) {
			mv->out_of_room = true;
			htier_outcome[i] = HTIER_FAILED;
			failed++;
			continue;
		}
		lock_page(newpage);
		/* migrate_vma_pages() moves page state, not the contents. */
		copy_highpage(newpage, page);
		args.dst[i] = migrate_pfn(page_to_pfn(newpage));
	}

	migrate_vma_pages(&args);
	for (i = 0; i < args.npages; i++) {
		if (!args.dst[i])
			continue;
		if (args.src[i] & MIGRATE_PFN_MIGRATE) {
			htier_outcome[i] = HTIER_MOVED;
			moved++;
		} else {
			htier_outcome[i] = HTIER_FAILED;
			failed++;
		}
	}
	/* Maps the new pages, restores the old ones, frees unused targets. */
	migrate_vma_finalize(&args);

	mv->moved += moved;
	mv->failed += failed;
	trace_htier_migrate_batch(mv->promote, ms->tgid, start, moved, failed,
				  ktime_get_ns() - t0);
	return collected;
}

/*
 * After a run, the table knows what became of its keys: @len small pages
 * (key i is page i), or one huge entry of @pages pages.
 */
static void htier_note_run(struct htier_move *mv, const u64 *keys, u32 len,
			   u32 pages, bool collected)
{
	struct htier_table *t = &mv->ctx->table;
	u32 j, moved = 0, failed = 0;

	if (len == 1 && pages == HTIER_HUGE_PAGES) {
		for (j = 0; j < pages; j++) {
			moved += htier_outcome[j] == HTIER_MOVED ||
				 htier_outcome[j] == HTIER_THERE;
			failed += htier_outcome[j] == HTIER_FAILED;
		}
		/* The THP was split if any of its pages was collected. */
		if (collected)
			atomic64_inc(&mv->ctx->stats.thp_split);
		if (moved * 2 >= pages)
			htier_table_set_tier(t, keys[0], mv->target_tier);
		else if (failed)
			htier_table_note_failed(t, keys[0]);
		return;
	}
	for (j = 0; j < len; j++) {
		if (htier_outcome[j] == HTIER_MOVED ||
		    htier_outcome[j] == HTIER_THERE)
			htier_table_set_tier(t, keys[j], mv->target_tier);
		else if (htier_outcome[j] == HTIER_FAILED)
			htier_table_note_failed(t, keys[j]);
	}
}

static bool htier_key_is_huge(struct htier_ctx *ctx, u64 key)
{
	struct htier_page_info info;

	return htier_table_get(&ctx->table, key, &info) &&
	       (info.flags & HTIER_PAGE_HUGE);
}

static u32 htier_run_len(struct htier_ctx *ctx, const u64 *keys, u32 n,
			 u32 i, u32 *pages)
{
	u32 j;

	if (htier_key_is_huge(ctx, keys[i])) {
		*pages = HTIER_HUGE_PAGES;
		return 1;
	}
	for (j = i + 1; j < n && j - i < 64; j++)
		if (keys[j] != keys[j - 1] + 1 || htier_key_is_huge(ctx, keys[j]))
			break;
	*pages = j - i;
	return j - i;
}

/*
 * How many of the @n keys are left when at least @pages base pages are cut
 * from the end (a huge entry is HTIER_HUGE_PAGES of them, not one).
 */
static u32 htier_cut_pages(struct htier_ctx *ctx, const u64 *keys, u32 n,
			   u64 pages)
{
	u64 cut = 0;

	while (n && cut < pages) {
		n--;
		cut += htier_key_is_huge(ctx, keys[n]) ? HTIER_HUGE_PAGES : 1;
	}
	return n;
}

static void htier_move_keys(struct htier_move *mv, u64 *keys, u32 n)
{
	struct htier_ctx *ctx = mv->ctx;
	u32 i = 0;

	sort(keys, n, sizeof(*keys), htier_cmp_key, NULL);
	while (i < n && !mv->out_of_room && !kthread_should_stop() &&
	       !READ_ONCE(ctx->abort_round)) {
		u32 slot = htier_key_slot(keys[i]);
		struct mm_struct *mm = htier_scope_get_mm(ctx, slot);

		if (!mm) {
			while (i < n && htier_key_slot(keys[i]) == slot)
				i++;
			continue;
		}
		mmap_read_lock(mm);
		while (i < n && !mv->out_of_room &&
		       htier_key_slot(keys[i]) == slot) {
			u32 pages, len = htier_run_len(ctx, keys, n, i, &pages);
			unsigned long start = htier_key_vpn(keys[i]) << PAGE_SHIFT;
			bool collected;

			collected = htier_move_run(mv, mm, &ctx->mms[slot - 1],
						   start, pages);
			htier_note_run(mv, keys + i, len, pages, collected);
			i += len;
			/* One batch per hold when a writer waits. */
			if (need_resched() || mmap_lock_is_contended(mm)) {
				mmap_read_unlock(mm);
				cond_resched();
				if (kthread_should_stop() ||
				    READ_ONCE(ctx->abort_round)) {
					mmput(mm);
					return;
				}
				mmap_read_lock(mm);
			}
		}
		mmap_read_unlock(mm);
		mmput(mm);
	}
}

/**
 * htier_migrate_round() - select and move this round's pages
 * @ctx: the module context, round_lock held
 * @plan: how many pages of each bin to move
 */
void htier_migrate_round(struct htier_ctx *ctx, const struct htier_plan *plan)
{
	struct htier_selection sel = {
		.promote_keys = ctx->promote_keys,
		.demote_keys = ctx->demote_keys,
		.max_keys = ctx->max_keys,
	};
	struct htier_move down = {
		.ctx = ctx, .promote = false,
		.target_nodes = &ctx->cur.slow_nodes,
		.target_tier = HTIER_TIER_SLOW, .next_nid = NUMA_NO_NODE,
	};
	struct htier_move up = {
		.ctx = ctx, .promote = true,
		.target_nodes = &ctx->cur.fast_nodes,
		.target_tier = HTIER_TIER_FAST, .next_nid = NUMA_NO_NODE,
	};

	htier_plan_select(&ctx->table, plan, &sel);
	if (sel.nr_demote_keys) {
		htier_move_keys(&down, sel.demote_keys, sel.nr_demote_keys);
		atomic64_add(down.moved, &ctx->stats.demoted_pages);
		atomic64_add(down.failed, &ctx->stats.demote_failed);
	}
	/*
	 * Promote only as far as the demotions made room: if some failed,
	 * cut the promotions so the fast tier stays within the quota.
	 */
	if (sel.nr_promote_keys) {
		u64 shortfall = sel.demote_pages > down.moved ?
				sel.demote_pages - down.moved : 0;
		u32 n = sel.nr_promote_keys;

		if (shortfall && plan->nr_demote)
			n = htier_cut_pages(ctx, sel.promote_keys, n, shortfall);
		htier_move_keys(&up, sel.promote_keys, n);
		atomic64_add(up.moved, &ctx->stats.promoted_pages);
		atomic64_add(up.failed, &ctx->stats.promote_failed);
	}
	ctx->promote_out_of_room = up.out_of_room;
}
