/* SPDX-License-Identifier: GPL-2.0 */
/*
 * htier hotness tracking: a table of the managed pages with a decayed access
 * count each ("heat"), and a log2 histogram of heat per tier.
 *
 * Pure logic: no kernel dependency beyond htier_shim.h, so the same source is
 * built into htier.ko, the userspace unit tests and the simulator.  The table
 * is owned by one thread (the module's kthread); it does no locking.
 */
#ifndef HTIER_HOTNESS_H
#define HTIER_HOTNESS_H

#include "htier_shim.h"

/* Bin 0 holds pages with heat 0; bin i > 0 holds heat in [2^(i-1), 2^i). */
#define HTIER_NR_BINS		16
#define HTIER_HEAT_MAX		0xffffu

enum htier_tier {
	HTIER_TIER_OTHER = 0,	/* on a node that is neither fast nor slow */
	HTIER_TIER_FAST,
	HTIER_TIER_SLOW,
	NR_HTIER_TIERS,
};

/* A huge entry stands for a PMD-mapped THP (HTIER_HUGE_PAGES base pages). */
#define HTIER_PAGE_HUGE		0x01
#define HTIER_HUGE_PAGES	512

/*
 * Keys: the managed address space's slot (1..HTIER_MAX_SLOTS) in the top
 * 16 bits, the virtual page number below.  Key 0 is an empty table entry.
 */
#define HTIER_KEY_SLOT_SHIFT	48
#define HTIER_MAX_SLOTS		0xffffu
#define HTIER_KEY_VPN_MASK	((1ULL << HTIER_KEY_SLOT_SHIFT) - 1)

static inline u64 htier_key(u32 slot, u64 vpn)
{
	return ((u64)slot << HTIER_KEY_SLOT_SHIFT) | (vpn & HTIER_KEY_VPN_MASK);
}

static inline u32 htier_key_slot(u64 key)
{
	return (u32)(key >> HTIER_KEY_SLOT_SHIFT);
}

static inline u64 htier_key_vpn(u64 key)
{
	return key & HTIER_KEY_VPN_MASK;
}

struct htier_page {
	u64 key;
	u16 heat;
	u8 tier;
	u8 flags;
	u32 seen_epoch;
};

struct htier_table {
	struct htier_page *pages;
	u32 capacity;		/* a power of two */
	u32 nr_used;
	u32 epoch;		/* bumped once per full scan / sample round */
	/* private: */
	u64 nr_full;		/* records dropped because the table was full */
};

struct htier_hist {
	u64 pages[NR_HTIER_TIERS][HTIER_NR_BINS];	/* in base pages */
};

static inline u32 htier_heat_bin(u32 heat)
{
	u32 b = (u32)fls64(heat);

	return b < HTIER_NR_BINS ? b : HTIER_NR_BINS - 1;
}

static inline u32 htier_page_nr(const struct htier_page *p)
{
	return (p->flags & HTIER_PAGE_HUGE) ? HTIER_HUGE_PAGES : 1;
}

/* Add @accesses to a page's heat, saturating at HTIER_HEAT_MAX. */
static inline void htier_page_heat_add(struct htier_page *p, u32 accesses)
{
	p->heat = accesses < HTIER_HEAT_MAX - p->heat ?
		  p->heat + accesses : HTIER_HEAT_MAX;
}

void htier_table_init(struct htier_table *t, struct htier_page *pages,
		      u32 capacity);
struct htier_page *htier_table_find(struct htier_table *t, u64 key);
struct htier_page *htier_table_record(struct htier_table *t, u64 key,
				      u32 accesses, enum htier_tier tier,
				      u8 flags);
bool htier_table_remove(struct htier_table *t, u64 key);
void htier_table_cool(struct htier_table *t, u32 shift);
u32 htier_table_expire(struct htier_table *t, u32 max_age);
u32 htier_table_drop_slot(struct htier_table *t, u32 slot);
void htier_table_histogram(const struct htier_table *t, struct htier_hist *h);

#endif /* HTIER_HOTNESS_H */
