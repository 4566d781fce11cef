// SPDX-License-Identifier: GPL-2.0
/*
 * htier page-table walker: visits the present anonymous pages of every
 * managed address space, records each page's tier (from its node) in the
 * hotness table and, for the accessed-bit sampler, reads and clears the
 * accessed bit as one access sample.
 *
 * It walks the tables itself rather than with apply_to_existing_page_range(),
 * which refuses PMD-mapped THPs (and walk_page_range() is not exported): a
 * PMD-mapped THP is one HTIER_PAGE_HUGE entry sampled by the PMD's accessed
 * bit.  Hugetlb, VM_IO/PFNMAP and file mappings are not managed.  The mmap
 * lock is held for read and dropped whenever the thread should reschedule.
 */
#define pr_fmt(fmt) "htier: " fmt

#include <linux/mm.h>
#include <linux/huge_mm.h>
#include <linux/hugetlb.h>
#include <linux/kthread.h>
#include <linux/pgtable.h>
#include <linux/sched/mm.h>
#include <linux/smp.h>
#include <asm/tlbflush.h>
#include "htier.h"

struct htier_walk {
	struct htier_ctx *ctx;
	u32 slot;
	enum htier_walk_mode mode;
	u64 young;
};

static bool htier_vma_managed(struct vm_area_struct *vma)
{
	return vma_is_anonymous(vma) && !is_vm_hugetlb_page(vma) &&
	       !(vma->vm_flags & (VM_IO | VM_PFNMAP | VM_MIXEDMAP));
}

static void htier_walk_record(struct htier_walk *w, unsigned long addr,
			      struct page *page, bool young, u8 flags)
{
	enum htier_tier tier = htier_node_tier(w->ctx, page_to_nid(page));
	bool sample = young && w->mode == HTIER_WALK_SAMPLE;

	htier_table_record(&w->ctx->table,
			   htier_key(w->slot, addr >> PAGE_SHIFT), sample, tier,
			   flags);
	if (young)
		w->young++;
	if (sample)
		htier_count_sample(w->ctx, tier);
}

/* A PMD-mapped THP: one entry, sampled by the PMD's accessed bit. */
static void htier_walk_huge_pmd(struct htier_walk *w,
				struct vm_area_struct *vma, pmd_t *pmdp,
				unsigned long addr)
{
	spinlock_t *ptl = pmd_lock(vma->vm_mm, pmdp);
	pmd_t pmd = *pmdp;
	bool young;

	if (!pmd_present(pmd) || !pmd_trans_huge(pmd)) {
		spin_unlock(ptl);
		return;
	}
	if (!PageAnon(pmd_page(pmd))) {	/* the huge zero page */
		spin_unlock(ptl);
		return;
	}
	young = pmd_young(pmd);
	if (young && w->mode != HTIER_WALK_RESIDENCY)
		clear_bit(_PAGE_BIT_ACCESSED, (unsigned long *)pmdp);
	htier_walk_record(w, addr & HPAGE_PMD_MASK, pmd_page(pmd), young,
			  HTIER_PAGE_HUGE);
	spin_unlock(ptl);
}

static void htier_walk_ptes(struct htier_walk *w, struct vm_area_struct *vma,
			    pmd_t *pmdp, unsigned long addr, unsigned long end)
{
	spinlock_t *ptl;
	pte_t *start, *ptep;

	start = ptep = pte_offset_map_lock(vma->vm_mm, pmdp, addr, &ptl);
	for (; addr < end; addr += PAGE_SIZE, ptep++) {
		pte_t pte = *ptep;
		unsigned long pfn;
		struct page *page;
		bool young;

		if (!pte_present(pte))
			continue;
		pfn = pte_pfn(pte);
		if (is_zero_pfn(pfn) || !pfn_valid(pfn))
			continue;
		page = pfn_to_page(pfn);
		/*
		 * PTE-mapped THP subpages cannot go through migrate_vma in
		 * 6.1; they are left alone until khugepaged or a split
		 * makes them ordinary pages.
		 */
		if (!PageAnon(page) || PageCompound(page))
			continue;
		young = pte_young(pte);
		if (young && w->mode != HTIER_WALK_RESIDENCY)
			clear_bit(_PAGE_BIT_ACCESSED, (unsigned long *)ptep);
		htier_walk_record(w, addr, page, young, 0);
	}
	pte_unmap_unlock(start, ptl);
}

/* Walk [addr, end) of @vma, one PMD at a time; return where it stopped. */
static unsigned long htier_walk_range(struct htier_walk *w,
				      struct vm_area_struct *vma,
				      unsigned long addr, unsigned long end)
{
	struct mm_struct *mm = vma->vm_mm;
	unsigned long next;

	for (; addr < end; addr = next) {
		pgd_t *pgd;
		p4d_t *p4d;
		pud_t *pud;
		pmd_t *pmdp, pmd;

		next = pmd_addr_end(addr, end);
		pgd = pgd_offset(mm, addr);
		if (pgd_none(*pgd) || pgd_bad(*pgd)) {
			next = pgd_addr_end(addr, end);
			continue;
		}
		p4d = p4d_offset(pgd, addr);
		if (p4d_none(*p4d) || p4d_bad(*p4d)) {
			next = p4d_addr_end(addr, end);
			continue;
		}
		pud = pud_offset(p4d, addr);
		if (pud_none(*pud) || pud_bad(*pud) || pud_leaf(*pud)) {
			next = pud_addr_end(addr, end);
			continue;
		}
		pmdp = pmd_offset(pud, addr);
		pmd = READ_ONCE(*pmdp);
		if (pmd_none(pmd))
			continue;
		if (pmd_trans_huge(pmd)) {
			htier_walk_huge_pmd(w, vma, pmdp, addr);
			continue;
		}
		/*
		 * A PTE table stays put under the mmap read lock (collapsing
		 * it takes the lock for write), so the value read is stable.
		 */
		if (!pmd_present(pmd) || pmd_bad(pmd))
			continue;
		htier_walk_ptes(w, vma, pmdp, addr, next);
		if (need_resched())
			return next;
	}
	return end;
}

static void htier_walk_mm(struct htier_walk *w, struct mm_struct *mm)
{
	struct vm_area_struct *vma;
	unsigned long addr = 0;

	mmap_read_lock(mm);
	while ((vma = find_vma(mm, addr)) != NULL) {
		unsigned long start = max(addr, vma->vm_start);

		if (!htier_vma_managed(vma)) {
			addr = vma->vm_end;
			continue;
		}
		addr = htier_walk_range(w, vma, start, vma->vm_end);
		if (addr < vma->vm_end || need_resched()) {
			/* Let page faults and mmap writers in. */
			mmap_read_unlock(mm);
			cond_resched();
			if (kthread_should_stop())
				return;
			mmap_read_lock(mm);
		}
	}
	mmap_read_unlock(mm);
}

static void htier_flush_tlb_local(void *unused)
{
	__flush_tlb_all();
}

/**
 * htier_walk_all() - walk every managed address space once
 * @ctx: the module context, lock held
 * @mode: HTIER_WALK_RESIDENCY records each page's tier only;
 *	HTIER_WALK_CLEAR also clears accessed bits (starting a sampling
 *	window); HTIER_WALK_SAMPLE takes each set accessed bit as one access
 *	(and clears it)
 *
 * Records every page with the table's current epoch: pages not seen in
 * recent epochs are expired by the caller.  After clearing accessed bits it
 * flushes the TLBs once, so that the next access to a page sets its bit
 * again (x86 reclaim skips this flush; a sampler cannot).
 *
 * Return: the number of pages found accessed.
 */
u64 htier_walk_all(struct htier_ctx *ctx, enum htier_walk_mode mode)
{
	struct htier_walk w = { .ctx = ctx, .mode = mode };
	u32 i;

	for (i = 0; i < HTIER_MAX_MMS && !kthread_should_stop(); i++) {
		struct mm_struct *mm = htier_scope_get_mm(ctx, i + 1);

		if (!mm)
			continue;
		w.slot = i + 1;
		htier_walk_mm(&w, mm);
		mmput(mm);
	}
	if (mode != HTIER_WALK_RESIDENCY && w.young)
		on_each_cpu(htier_flush_tlb_local, NULL, 1);
	return w.young;
}
