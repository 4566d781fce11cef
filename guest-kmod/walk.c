// SPDX-License-Identifier: GPL-2.0
/*
 * htier page-table walker: visits the present anonymous pages of the managed
 * address spaces, one PTE table (one hotness region) at a time, records each
 * page's tier (from its node) and, for the accessed-bit sampler, reads or
 * clears the accessed bits.
 *
 * Cost follows the active set.  x86 sets the accessed bit of every paging
 * entry a hardware walk goes through, non-leaf PMD entries included (MGLRU's
 * arch_has_hw_nonleaf_pmd_young(); QEMU TCG's walker does the same).  When
 * the walker clears a PTE table's accessed bits it clears the PMD entry's
 * bit too, and after the round's one TLB flush any access under that PMD
 * sets it again; so a PMD entry found old means none of its 512 pages was
 * touched since: the walk notes its region as idle and moves on without
 * reading the table.  An idle region is still read every
 * HTIER_VERIFY_IDLE_WALKS walks, which catches pages freed or moved by
 * others without an access.
 *
 * Bounded work: a walk stops at a deadline (the CPU budget) and the next
 * one resumes from a cursor, so large address spaces are covered over
 * several rounds; the mmap lock is given up after HTIER_LOCK_BATCH PTE
 * tables and whenever a writer waits for it.
 *
 * It walks the tables itself rather than with apply_to_existing_page_range(),
 * which refuses PMD-mapped THPs (and walk_page_range() is not exported): a
 * PMD-mapped THP is one HTIER_PAGE_HUGE entry sampled by the PMD's accessed
 * bit.  Hugetlb, VM_IO/PFNMAP and file mappings are not managed.
 */
#define pr_fmt(fmt) "htier: " fmt

#include <linux/mm.h>
#include <linux/mempolicy.h>
#include <linux/huge_mm.h>
#include <linux/hugetlb.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/mmap_lock.h>
#include <linux/pgtable.h>
#include <linux/sched/mm.h>
#include <linux/smp.h>
#include <asm/tlbflush.h>
#include "compat.h"
#include "htier.h"

/* An idle region's PTE table is read anyway every this many walks. */
#define HTIER_VERIFY_IDLE_WALKS	64
/* A table's pages are looked at one by one every this many reads. */
#define HTIER_FULL_READ_EVERY	16
/* PTE tables read (or 16x as many skipped) per hold of the mmap lock. */
#define HTIER_LOCK_BATCH	16
/* PMD entries between two looks at the clock. */
#define HTIER_CLOCK_EVERY	8

struct htier_walk {
	struct htier_ctx *ctx;
	enum htier_walk_mode mode;
	u32 slot;
	struct htier_mm *ms;
	u64 deadline_ns;	/* 0: no deadline */
	u32 since_clock;
	u32 since_unlock;	/* work units since the mmap lock was taken */
	bool stop;		/* deadline passed, or the round was aborted */
	bool cleared;		/* accessed bits were cleared: flush */
	bool age;		/* a sample after a shift: htier_walk_recorded() */
	u32 slow_young;		/* in the table being sampled */
	struct htier_walk_stats st;
};

static bool htier_vma_anon(struct vm_area_struct *vma)
{
	return vma_is_anonymous(vma) && !is_vm_hugetlb_page(vma) &&
	       !(vma->vm_flags & (VM_IO | VM_PFNMAP | VM_MIXEDMAP));
}

/**
 * htier_vma_movable() - may htier move this VMA's pages between the tiers?
 * @ctx: the module context
 * @ms: the address space's slot (its process's allowed nodes)
 * @vma: the VMA; mmap lock held (mbind() takes it for writing)
 *
 * Not where the user put them: mlock()ed (VM_LOCKED), or under a memory
 * policy that does not allow every fast and slow node — the VMA's
 * (mbind()), or the process's (set_mempolicy(), its cpuset's mems; see
 * htier_scope_note()).  MPOL_DEFAULT and MPOL_LOCAL allow any node.
 * Only the tiers' nodes with memory count: a cpuset's mems follow the
 * memory nodes, so while a node has lost its memory (unplugged) it is in
 * no task's mems, and that is not the user's choice; the pages stay
 * tracked, and none moves until the node is back (htier_tiers_have_memory()).
 */
bool htier_vma_movable(const struct htier_ctx *ctx, const struct htier_mm *ms,
		       struct vm_area_struct *vma)
{
	struct mempolicy *pol = vma_policy(vma);
	nodemask_t tiers;

	if (vma->vm_flags & VM_LOCKED)
		return false;
	nodes_or(tiers, ctx->cur.fast_nodes, ctx->cur.slow_nodes);
	nodes_and(tiers, tiers, node_states[N_MEMORY]);
	if (!nodes_subset(tiers, ms->allowed))
		return false;
	return !pol || pol->mode == MPOL_DEFAULT || pol->mode == MPOL_LOCAL ||
	       nodes_subset(tiers, pol->nodes);
}


static inline bool htier_walk_clears(const struct htier_walk *w)
{
	return w->mode == HTIER_WALK_CLEAR || w->mode == HTIER_WALK_SAMPLE_CLEAR;
}

static inline bool htier_walk_samples(const struct htier_walk *w)
{
	return w->mode == HTIER_WALK_SAMPLE || w->mode == HTIER_WALK_SAMPLE_CLEAR;
}

/* The walk that sets coverage (the sample walk repeats the clear walk's). */
static inline bool htier_walk_covers(const struct htier_walk *w)
{
	return w->mode != HTIER_WALK_SAMPLE;
}

/* Managed: anonymous and movable; unmovable bytes count in the pass. */
static bool htier_vma_managed(struct htier_walk *w, struct vm_area_struct *vma,
			      unsigned long s, unsigned long e)
{
	if (!htier_vma_anon(vma))
		return false;
	if (htier_vma_movable(w->ctx, w->ms, vma))
		return true;
	if (htier_walk_covers(w))
		w->ms->pinned_acc += e - s;
	return false;
}

static void htier_walk_tick(struct htier_walk *w, u32 units)
{
	w->since_unlock += units;
	w->since_clock += units;
	if (w->since_clock < HTIER_CLOCK_EVERY)
		return;
	w->since_clock = 0;
	if ((w->deadline_ns && ktime_get_ns() > w->deadline_ns) ||
	    READ_ONCE(w->ctx->abort_round) || kthread_should_stop())
		w->stop = true;
}

/*
 * Start a region visit, creating the region on first use.  Return: the
 * region, or NULL (not trackable now: table pressure, counted in table_full).
 */
static struct htier_region *htier_walk_region(struct htier_walk *w,
					      struct htier_region *r,
					      unsigned long addr, bool huge)
{
	if (!r)
		r = htier_table_region(&w->ctx->table,
				       htier_key(w->slot, addr >> PAGE_SHIFT),
				       true);
	if (r)
		htier_region_visit_begin(&w->ctx->table, r, huge);
	return r;
}

/* The walk covered @r's tracked pages without reading them one by one. */
static void htier_walk_cover_region(struct htier_walk *w,
				    const struct htier_region *r)
{
	int t;

	w->st.pages += r->nr_tracked;
	for (t = 0; t < NR_HTIER_TIERS; t++)
		w->st.tier_pages[t] += htier_region_tier_pages(r, t);
}

/*
 * Page @idx of @r was just recorded (@young: its accessed bit; @was_recent:
 * its recent bit before).  The walk before a window leaves the last
 * sample's recent bit until the window's own sample; a sample in the
 * rounds after a shift (htier_round()) ages a page it found unused
 * (htier_region_age_unused()).
 */
static void htier_walk_recorded(struct htier_walk *w, struct htier_region *r,
				u32 idx, bool young, bool was_recent)
{
	if (!htier_walk_samples(w))
		htier_region_set_recent(r, idx, was_recent);
	else if (!young && w->age)
		htier_region_age_unused(&w->ctx->table, r, idx, was_recent);
}

static void htier_walk_page(struct htier_walk *w, struct htier_region *r,
			    u32 idx, struct page *page, bool young)
{
	enum htier_tier tier = htier_node_tier(w->ctx, page_to_nid(page));
	bool sample = young && htier_walk_samples(w);
	bool was_recent = htier_region_recent(r, idx);

	htier_region_record(&w->ctx->table, r, idx, sample, tier);
	htier_walk_recorded(w, r, idx, young, was_recent);
	w->st.pages++;
	w->st.tier_pages[tier] += (r->flags & HTIER_PAGE_HUGE) ?
				  HTIER_HUGE_PAGES : 1;
	if (sample) {
		w->st.young++;
		w->st.young_pages[tier] += (r->flags & HTIER_PAGE_HUGE) ?
					   HTIER_HUGE_PAGES : 1;
		htier_count_sample(w->ctx, tier);
		if (tier == HTIER_TIER_SLOW)
			w->slow_young++;
	}
}

/*
 * A sampled table's young slow pages against its previous visit's, both
 * per HTIER_SHIFT_WINDOW_US of window (htier_shift_regions()).
 */
static void htier_walk_slow_young(struct htier_walk *w, struct htier_region *r)
{
	u32 window = max_t(u32, w->ctx->abit_window_us, 1);
	u64 now = div_u64((u64)w->slow_young * HTIER_SHIFT_WINDOW_US, window);

	now = min_t(u64, now, U16_MAX - 1);
	if (r->slow_young) {
		w->st.slow_young_now += now;
		w->st.slow_young_before += r->slow_young - 1;
	}
	r->slow_young = (u16)now + 1;
	w->slow_young = 0;
}

/* A PMD-mapped THP: one entry, sampled by the PMD's accessed bit. */
static void htier_walk_huge_pmd(struct htier_walk *w,
				struct vm_area_struct *vma, pmd_t *pmdp,
				unsigned long addr, struct htier_region *r)
{
	spinlock_t *ptl = pmd_lock(vma->vm_mm, pmdp);
	pmd_t pmd = pmdp_get(pmdp);
	bool young;

	if (!pmd_present(pmd) || !pmd_trans_huge(pmd) ||
	    !PageAnon(pmd_page(pmd))) {	/* gone, or the huge zero page */
		spin_unlock(ptl);
		return;
	}
	young = pmd_young(pmd);
	r = htier_walk_region(w, r, addr, true);
	if (r) {
		if (young && htier_walk_clears(w)) {
			clear_bit(_PAGE_BIT_ACCESSED, (unsigned long *)pmdp);
			w->cleared = true;
		}
		htier_walk_page(w, r, 0, pmd_page(pmd), young);
		w->slow_young = 0;
	}
	spin_unlock(ptl);
	if (r)
		htier_region_visit_end(&w->ctx->table, r);
}

/*
 * The sample walk: only the accessed bits the clear walk left set matter,
 * each one access to a page the clear walk recorded (a page that came
 * since is recorded by the next clear walk).  No struct page is touched.
 */
static void htier_walk_ptes_sample(struct htier_walk *w, struct mm_struct *mm,
				   pmd_t *pmdp, unsigned long base,
				   const unsigned long *mask,
				   struct htier_region *r)
{
	spinlock_t *ptl;
	pte_t *start, *ptep;
	u32 idx;

	if (!r || (r->flags & HTIER_PAGE_HUGE))
		return;
	start = ptep = htier_pte_map_lock(mm, pmdp, base, &ptl);
	if (!ptep)	/* the table went away (or became a huge PMD) */
		return;
	for (idx = 0; idx < PTRS_PER_PTE; idx++, ptep++) {
		pte_t pte = ptep_get(ptep);
		enum htier_tier tier;

		if (!pte_present(pte) || (mask && !test_bit(idx, mask)))
			continue;
		if (!pte_young(pte)) {
			if (htier_region_tracked(r, idx)) {
				bool was_recent = htier_region_recent(r, idx);

				htier_region_set_recent(r, idx, false);
				htier_walk_recorded(w, r, idx, false,
						    was_recent);
			}
			continue;
		}
		if (htier_region_add_heat(&w->ctx->table, r, idx, 1, &tier)) {
			w->st.young++;
			w->st.young_pages[tier]++;
			htier_count_sample(w->ctx, tier);
			if (tier == HTIER_TIER_SLOW)
				w->slow_young++;
		}
	}
	htier_pte_unmap_unlock(start, ptl);
	w->st.ptes += PTRS_PER_PTE;
	htier_walk_cover_region(w, r);
	htier_walk_slow_young(w, r);
}

/*
 * Read one PTE table, recording its pages (and clearing accessed bits in
 * a clearing walk).  @mask, if not NULL, says which of its pages lie in
 * managed VMAs (a VMA boundary inside the table); others are not recorded,
 * so the visit forgets them.
 *
 * A tracked page whose PTE is old was not touched since the last clear, so
 * it is the page recorded then: it is kept as it is without a look at its
 * struct page.  Every HTIER_FULL_READ_EVERY reads of a table look at every
 * page's, catching pages moved or replaced by others without an access.
 */
static void htier_walk_ptes(struct htier_walk *w, struct mm_struct *mm,
			    pmd_t *pmdp, unsigned long base,
			    const unsigned long *mask, struct htier_region *r)
{
	struct htier_table *t = &w->ctx->table;
	bool full = true;
	spinlock_t *ptl;
	pte_t *start, *ptep;
	u32 idx;

	/*
	 * A table that went away since its PMD entry was read is not read:
	 * its region is kept as it is until a later walk finds what replaced
	 * it (nothing, a huge PMD, or a new table).
	 */
	start = ptep = htier_pte_map_lock(mm, pmdp, base, &ptl);
	if (!ptep)
		return;
	if (r) {
		htier_region_visit_begin(t, r, false);
		full = r->reads++ % HTIER_FULL_READ_EVERY == 0;
	}
	for (idx = 0; idx < PTRS_PER_PTE; idx++, ptep++) {
		pte_t pte = ptep_get(ptep);
		unsigned long pfn;
		struct page *page;
		bool young;

		if (!pte_present(pte) || (mask && !test_bit(idx, mask)))
			continue;
		young = pte_young(pte);
		if (!young && !full && htier_region_tracked(r, idx)) {
			bool was_recent = htier_region_recent(r, idx);

			htier_region_keep(r, idx);
			htier_walk_recorded(w, r, idx, false, was_recent);
			w->st.pages++;
			w->st.tier_pages[htier_region_tier(r, idx)]++;
			continue;
		}
		pfn = pte_pfn(pte);
		if (is_zero_pfn(pfn) || !pfn_valid(pfn))
			continue;
		page = pfn_to_page(pfn);
		if (!PageAnon(page))
			continue;
		/*
		 * A PTE-mapped large folio (a THP whose PMD mapping was split,
		 * or on 6.8+ an mTHP): migrate_vma refuses it (in 6.1 and in
		 * 6.12, migrate_vma_check_page()), and the module cannot split
		 * it (split_folio() is not exported).  Left where it is and
		 * counted (stats/large_folio_bytes) until khugepaged collapses
		 * it or the kernel splits it into ordinary pages.
		 */
		if (PageCompound(page)) {
			if (htier_walk_covers(w))
				w->ms->large_acc += PAGE_SIZE;
			continue;
		}
		if (!r) {
			r = htier_walk_region(w, NULL, base, false);
			if (!r)
				break;
			r->reads = 1;
		}
		if (young && htier_walk_clears(w)) {
			clear_bit(_PAGE_BIT_ACCESSED, (unsigned long *)ptep);
			w->cleared = true;
		}
		htier_walk_page(w, r, idx, page, young);
	}
	htier_pte_unmap_unlock(start, ptl);
	w->st.ptes += PTRS_PER_PTE;
	if (r) {
		/* r holds a page this visit recorded: visit_end keeps it. */
		htier_region_visit_end(t, r);
		if (htier_walk_samples(w))
			htier_walk_slow_young(w, r);
		else if (w->mode == HTIER_WALK_RESIDENCY)
			htier_region_spread(t, r, &w->ctx->spread);
	}
	w->slow_young = 0;
}

/*
 * A sample found none of @r's pages accessed (its PMD entry old): none is
 * recent now, and each page ages as htier_walk_recorded() would (only in
 * the few rounds after a shift, when the table's 512 entries are looked
 * at, as a read of the PTE table would).
 */
static void htier_walk_idle_sampled(struct htier_walk *w, struct htier_region *r)
{
	u32 idx;

	if (w->age)
		for (idx = 0; idx < HTIER_REGION_PAGES; idx++)
			htier_region_age_unused(&w->ctx->table, r, idx,
						htier_region_recent(r, idx));
	memset(r->recent, 0, sizeof(r->recent));
}

/*
 * One PMD entry, at @base.  An old (not accessed) entry is skipped when its
 * region is known, or when this address space was covered once already (so
 * it holds no tracked page, and no page came without an access); an idle
 * region is still read every HTIER_VERIFY_IDLE_WALKS walks.
 */
static void htier_walk_pmd(struct htier_walk *w, struct mm_struct *mm,
			   pmd_t *pmdp, unsigned long base,
			   const unsigned long *mask)
{
	struct htier_table *t = &w->ctx->table;
	pmd_t pmd = pmdp_get(pmdp);
	struct htier_region *r;
	bool young;

	if (pmd_none(pmd) || !pmd_present(pmd))
		return;
	young = pmd_young(pmd);
	r = htier_table_region(t, htier_key(w->slot, base >> PAGE_SHIFT), false);
	if (!young && w->mode != HTIER_WALK_RESIDENCY &&
	    (r ? r->idle_walks < HTIER_VERIFY_IDLE_WALKS || !htier_walk_covers(w)
	       : w->ms->passes > 0)) {
		if (r && htier_walk_samples(w))
			htier_walk_idle_sampled(w, r);
		if (r && htier_walk_covers(w))
			htier_region_note_idle(t, r);
		if (r)
			htier_walk_cover_region(w, r);
		w->st.pmds_idle++;
		htier_walk_tick(w, 1);
		return;
	}
	if (pmd_trans_huge(pmd)) {
		struct vm_area_struct *vma = find_vma(mm, base);

		if (vma && !mask)
			htier_walk_huge_pmd(w, vma, pmdp, base, r);
		w->st.pmds_read++;
		htier_walk_tick(w, HTIER_LOCK_BATCH);
		return;
	}
	/*
	 * From 6.5 on the PTE table may be retracted under the mmap read lock
	 * (compat.h): the PTE walks map it with htier_pte_map_lock(), which
	 * checks the PMD entry again under the table's lock.
	 */
	if (pmd_bad(pmd))
		return;
	/* Reading an idle region verifies it: look at every page. */
	if (!young && r)
		r->reads = 0;
	if (young && htier_walk_clears(w)) {
		/* Before the PTEs: an access from now on sets it again. */
		clear_bit(_PAGE_BIT_ACCESSED, (unsigned long *)pmdp);
		w->cleared = true;
	}
	if (w->mode == HTIER_WALK_SAMPLE)
		htier_walk_ptes_sample(w, mm, pmdp, base, mask, r);
	else
		htier_walk_ptes(w, mm, pmdp, base, mask, r);
	w->st.pmds_read++;
	htier_walk_tick(w, HTIER_LOCK_BATCH);
}

/* The PMD entry of @addr, or NULL; *next: where the next lookup starts. */
static pmd_t *htier_find_pmd(struct mm_struct *mm, unsigned long addr,
			     unsigned long *next)
{
	pgd_t *pgd = pgd_offset(mm, addr);
	p4d_t *p4d;
	pud_t *pud;

	*next = (addr & PMD_MASK) + PMD_SIZE;
	if (pgd_none(*pgd) || pgd_bad(*pgd)) {
		*next = pgd_addr_end(addr, ULONG_MAX);
		return NULL;
	}
	p4d = p4d_offset(pgd, addr);
	if (p4d_none(*p4d) || p4d_bad(*p4d)) {
		*next = p4d_addr_end(addr, ULONG_MAX);
		return NULL;
	}
	pud = pud_offset(p4d, addr);
	if (pud_none(*pud) || pud_bad(*pud) || pud_leaf(*pud)) {
		*next = pud_addr_end(addr, ULONG_MAX);
		return NULL;
	}
	return pmd_offset(pud, addr);
}

/*
 * Which pages of the PMD range at @base lie in managed VMAs.  Return: 0
 * none, 1 all (one managed VMA covers it), 2 some (set in @mask).
 */
static int htier_pmd_managed(struct htier_walk *w, struct mm_struct *mm,
			     unsigned long base, struct vm_area_struct *vma,
			     unsigned long *mask)
{
	unsigned long end = base + PMD_SIZE;
	int some = 0;

	if (vma->vm_start <= base && vma->vm_end >= end)
		return htier_vma_managed(w, vma, base, end) ? 1 : 0;
	bitmap_zero(mask, PTRS_PER_PTE);
	for (; vma && vma->vm_start < end; vma = find_vma(mm, vma->vm_end)) {
		unsigned long s = max(vma->vm_start, base);
		unsigned long e = min(vma->vm_end, end);

		if (s >= e || !htier_vma_managed(w, vma, s, e))
			continue;
		bitmap_set(mask, (s - base) >> PAGE_SHIFT, (e - s) >> PAGE_SHIFT);
		some = 2;
	}
	return some;
}

/*
 * Walk @mm from *addr until its end or until the walk must stop; *addr is
 * where to resume.  Return: true if the end of the address space was
 * reached.
 */
static bool htier_walk_mm(struct htier_walk *w, struct mm_struct *mm,
			  unsigned long *addr, unsigned long stop_at)
{
	DECLARE_BITMAP(mask, PTRS_PER_PTE);
	unsigned long base = *addr & PMD_MASK;
	bool done = false;

	/* Waiting behind a writer delays htier, not the tenant. */
	mmap_read_lock(mm);
	w->since_unlock = 0;
	while (!w->stop && base < stop_at) {
		struct vm_area_struct *vma = find_vma(mm, base);
		unsigned long next;
		pmd_t *pmdp;
		int managed;

		if (!vma) {
			done = true;
			break;
		}
		if (vma->vm_start >= base + PMD_SIZE) {
			base = vma->vm_start & PMD_MASK;
			continue;
		}
		managed = htier_pmd_managed(w, mm, base, vma, mask);
		pmdp = managed ? htier_find_pmd(mm, base, &next) : NULL;
		if (!managed)
			next = base + PMD_SIZE;
		if (pmdp)
			htier_walk_pmd(w, mm, pmdp, base,
				       managed == 2 ? mask : NULL);
		base = max(next, base + PMD_SIZE);
		if (w->since_unlock >= HTIER_LOCK_BATCH * HTIER_LOCK_BATCH ||
		    mmap_lock_is_contended(mm) || need_resched()) {
			/* Let page faults and mmap writers in. */
			if (mmap_lock_is_contended(mm))
				w->st.lock_yields++;
			mmap_read_unlock(mm);
			cond_resched();
			mmap_read_lock(mm);
			w->since_unlock = 0;
		}
	}
	mmap_read_unlock(mm);
	*addr = done ? 0 : min(base, stop_at);
	return done || base >= TASK_SIZE_MAX;
}

static void htier_flush_tlb_local(void *unused)
{
	__flush_tlb_all();
}

/**
 * htier_walk_init() - set up the TLB flusher
 * @ctx: the module context
 *
 * Return: 0 or -ENOMEM.
 */
int htier_walk_init(struct htier_ctx *ctx)
{
	int cpu;

	ctx->flush_csd = alloc_percpu(call_single_data_t);
	if (!ctx->flush_csd)
		return -ENOMEM;
	for_each_possible_cpu(cpu)
		INIT_CSD(per_cpu_ptr(ctx->flush_csd, cpu),
			 htier_flush_tlb_local, NULL);
	return 0;
}

/**
 * htier_walk_exit() - wait for flushes in flight, then free the flusher
 * @ctx: the module context; the thread has stopped
 */
void htier_walk_exit(struct htier_ctx *ctx)
{
	int cpu;

	if (!ctx->flush_csd)
		return;
	/*
	 * A queued flush runs on an online CPU (or is dropped when it goes
	 * offline); it unlocks its csd just before calling the function, in
	 * the same interrupts-off section, which synchronize_rcu() waits for.
	 */
	for_each_possible_cpu(cpu)
		while (READ_ONCE(per_cpu_ptr(ctx->flush_csd, cpu)->node.u_flags) &
		       CSD_FLAG_LOCK)
			cpu_relax();
	synchronize_rcu();
	free_percpu(ctx->flush_csd);
	ctx->flush_csd = NULL;
}

/*
 * After clearing accessed bits: the next access to those pages must walk
 * the tables again and set the bits, on every CPU, including one that
 * switches back to the mm later with its entries still cached under an
 * old PCID (so not only the mm's mm_cpumask: a process asleep during the
 * walk would keep its cached entries and go unsampled).  The narrower ways
 * (flush_tlb_mm_range(), flush_tlb_local(), bumping the mm's TLB
 * generation) are hidden from modules in 6.1 (#ifndef MODULE in
 * asm/tlbflush.h), so each CPU does the exported full flush.  The walker
 * does not wait for the other CPUs: one asynchronous call per CPU, and a
 * CPU whose previous flush has not run yet is not asked twice.  x86
 * reclaim skips the flush; a sampler cannot.
 */
static void htier_flush_tlb(struct htier_ctx *ctx)
{
	int cpu;

	for_each_online_cpu(cpu) {
		/* -EBUSY: a flush is still on its way there, which will do. */
		smp_call_function_single_async(cpu,
					       per_cpu_ptr(ctx->flush_csd, cpu));
	}
}

/* On to the next slot's address space; past the last, a pass is done. */
static void htier_next_slot(struct htier_walk *w, struct htier_cursor *cur)
{
	cur->slot = cur->slot % HTIER_MAX_MMS + 1;
	cur->addr = 0;
	if (cur->slot == 1 && htier_walk_covers(w))
		w->st.wraps++;
}

/**
 * htier_walk_all() - walk the managed address spaces from a cursor
 * @ctx: the module context (thread only)
 * @mode: HTIER_WALK_RESIDENCY records each page's tier only;
 *	HTIER_WALK_CLEAR also clears accessed bits (starting a sampling
 *	window); HTIER_WALK_SAMPLE takes each set accessed bit as one access
 *	and clears nothing; HTIER_WALK_SAMPLE_CLEAR does both in one walk
 * @from: where to start
 * @to: where to stop: the cursor a previous walk stopped at (the sample
 *	walk covers exactly what the clear walk covered), or @from to go
 *	round once
 * @deadline_ns: ktime to stop at, 0 for none
 * @st: statistics of the walk, added to
 *
 * Visits slots in order, each address space from the cursor's address to
 * its end (or @to), and wraps around.  Flushes the TLB once, if it
 * cleared a bit.
 *
 * Return: where the walk stopped (the next walk's start); equal to @from
 * when it went round once.
 */
struct htier_cursor htier_walk_all(struct htier_ctx *ctx,
				   enum htier_walk_mode mode,
				   struct htier_cursor from,
				   struct htier_cursor to, u64 deadline_ns,
				   struct htier_walk_stats *st)
{
	struct htier_walk w = { .ctx = ctx, .mode = mode,
				.deadline_ns = deadline_ns };
	struct htier_cursor cur = from;
	u64 t0 = ktime_get_ns();
	bool first = true;
	int i;

	w.age = ctx->age_rounds && htier_walk_samples(&w);

	while (!w.stop) {
		unsigned long stop_at = TASK_SIZE_MAX;
		struct mm_struct *mm;
		bool last, done;

		if (!first && cur.slot == to.slot && cur.addr == to.addr)
			break;
		/* The end cursor's own address space: walk up to it. */
		last = cur.slot == to.slot && to.addr &&
		       (!first || to.addr > cur.addr);
		if (last)
			stop_at = to.addr;
		first = false;
		mm = htier_scope_get_mm(ctx, cur.slot);
		if (!mm) {
			if (last) {
				cur = to;
				break;
			}
			htier_next_slot(&w, &cur);
			continue;
		}
		w.slot = cur.slot;
		w.ms = &ctx->mms[cur.slot - 1];
		if (!cur.addr && htier_walk_covers(&w)) {
			w.ms->pass_start_epoch = ctx->table.epoch;
			w.ms->pinned_acc = 0;
			w.ms->large_acc = 0;
		}
		done = htier_walk_mm(&w, mm, &cur.addr, stop_at);
		mmput(mm);
		if (done && htier_walk_covers(&w)) {
			ctx->slot_verified[cur.slot] = w.ms->pass_start_epoch;
			w.ms->pinned_bytes = w.ms->pinned_acc;
			w.ms->large_bytes = w.ms->large_acc;
			w.ms->passes++;
			w.st.passes++;
		}
		if (last && (done || cur.addr >= stop_at)) {
			cur = to;
			break;
		}
		if (done || !w.stop)
			htier_next_slot(&w, &cur);
	}
	if (w.cleared)
		htier_flush_tlb(ctx);
	st->young += w.st.young;
	st->ptes += w.st.ptes;
	st->pmds_read += w.st.pmds_read;
	st->pmds_idle += w.st.pmds_idle;
	st->lock_yields += w.st.lock_yields;
	st->passes += w.st.passes;
	st->wraps += w.st.wraps;
	st->pages += w.st.pages;
	for (i = 0; i < NR_HTIER_TIERS; i++) {
		st->tier_pages[i] += w.st.tier_pages[i];
		st->young_pages[i] += w.st.young_pages[i];
	}
	st->slow_young_now += w.st.slow_young_now;
	st->slow_young_before += w.st.slow_young_before;
	st->ns += ktime_get_ns() - t0;
	return cur;
}
