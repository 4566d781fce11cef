/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What differs between the kernels htier is built for (Debian's 6.1 and
 * 6.12), in one place.  The rest of the module calls these and has no
 * version checks of its own.
 *
 * - Mapping a PTE table.  Up to 6.4 a PTE table stays put while the mmap
 *   read lock is held (freeing or collapsing one takes the lock for write).
 *   From 6.5 on, khugepaged retracts the page tables of file/shmem THP
 *   ranges under the mmap *read* lock and frees them after an RCU grace
 *   period (pte_free_defer()), so pte_offset_map_lock() may fail and the
 *   PMD entry must be read again under the PTE lock.  The kernel's
 *   __pte_offset_map_lock() does that but is not exported to modules;
 *   htier_pte_map_lock() is the same sequence built from inline helpers:
 *   rcu_read_lock(), read the PMD entry once, refuse anything but a PTE
 *   table, take the table's lock, check that the PMD entry still points to
 *   it.  htier_pte_unmap_unlock() is the kernel's pte_unmap_unlock(), whose
 *   pte_unmap() drops the RCU read lock from 6.5 on.
 * - /sys/kernel/mm.  mm_kobj is exported up to 6.1 and not in 6.12; there
 *   the kobject is found through its sysfs directory's kernfs node, whose
 *   private data is the kobject (every kobject directory's is).
 */
#ifndef HTIER_COMPAT_H
#define HTIER_COMPAT_H

#include <linux/kobject.h>
#include <linux/mm.h>
#include <linux/pgtable.h>
#include <linux/version.h>

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
#include <linux/rcupdate.h>
#include <linux/swap.h>
#include <linux/swapops.h>

static inline pte_t *htier_pte_map_lock(struct mm_struct *mm, pmd_t *pmdp,
					unsigned long addr, spinlock_t **ptlp)
{
	spinlock_t *ptl;
	pmd_t pmdval;
	pte_t *pte;

	for (;;) {
		rcu_read_lock();
		pmdval = pmdp_get_lockless(pmdp);
		if (pmd_none(pmdval) || !pmd_present(pmdval) ||
		    is_pmd_migration_entry(pmdval) || pmd_trans_huge(pmdval) ||
		    pmd_devmap(pmdval) || pmd_bad(pmdval)) {
			rcu_read_unlock();
			return NULL;
		}
		pte = pte_offset_kernel(&pmdval, addr);
		ptl = pte_lockptr(mm, &pmdval);
		spin_lock(ptl);
		if (likely(pmd_same(pmdval, pmdp_get_lockless(pmdp)))) {
			*ptlp = ptl;
			return pte;
		}
		/* Replaced since it was read: look again. */
		spin_unlock(ptl);
		rcu_read_unlock();
	}
}
#else
static inline pte_t *htier_pte_map_lock(struct mm_struct *mm, pmd_t *pmdp,
					unsigned long addr, spinlock_t **ptlp)
{
	pmd_t pmdval = READ_ONCE(*pmdp);

	if (pmd_none(pmdval) || !pmd_present(pmdval) ||
	    pmd_trans_huge(pmdval) || pmd_devmap(pmdval) || pmd_bad(pmdval))
		return NULL;
	return pte_offset_map_lock(mm, pmdp, addr, ptlp);
}
#endif

#define htier_pte_unmap_unlock(pte, ptl) pte_unmap_unlock(pte, ptl)

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 5, 0)
/* 6.5 and later have it. */
static inline pmd_t pmdp_get(pmd_t *pmdp)
{
	return READ_ONCE(*pmdp);
}
#endif

/*
 * The /sys/kernel/mm kobject, with a reference the caller drops with
 * kobject_put(); NULL if it cannot be found.
 */
struct kobject *htier_mm_kobj_get(void);

#endif /* HTIER_COMPAT_H */
