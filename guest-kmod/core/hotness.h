/* SPDX-License-Identifier: GPL-2.0 */
/*
 * htier hotness tracking: the managed pages with a decayed access count
 * each ("heat"), grouped in regions of one PTE table (512 pages, 2 MiB of
 * one address space), and a log2 histogram of heat per tier.
 *
 * Cost follows what is tracked and touched, not the size of RAM:
 *  - memory is one region (about 1.8 KiB) per 2 MiB range that holds
 *    tracked pages, allocated on demand, plus a small index of pointers;
 *  - a region's pages sit side by side, so a walk over one PTE table
 *    touches one region, in order;
 *  - the histogram is kept up to date as pages change (each region keeps
 *    its own too), so reading it costs nothing;
 *  - cooling is lazy: halving every heat moves every page exactly one log2
 *    bin down, so a cooling step shifts the histograms and bumps a counter,
 *    and a region's heats catch up (by the missed shifts) only when the
 *    region is next written;
 *  - an address space's regions are chained, so forgetting a process costs
 *    its own regions, not a sweep; regions whose page table is gone are
 *    expired a bounded number per call.
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
/*
 * The hottest bin holds [2^14, 2^15): heat saturates below 2^15 so that
 * halving moves every page exactly one bin down, the top bin included.
 */
#define HTIER_HEAT_MAX		0x7fffu

enum htier_tier {
	HTIER_TIER_OTHER = 0,	/* on a node that is neither fast nor slow */
	HTIER_TIER_FAST,
	HTIER_TIER_SLOW,
	NR_HTIER_TIERS,
};

/* A huge entry stands for a PMD-mapped THP (HTIER_HUGE_PAGES base pages). */
#define HTIER_PAGE_HUGE		0x01
#define HTIER_HUGE_PAGES	512

/* A region: the pages of one PTE table (one PMD entry) of one mm. */
#define HTIER_REGION_SHIFT	9
#define HTIER_REGION_PAGES	(1u << HTIER_REGION_SHIFT)

/*
 * Keys: the managed address space's slot (1..HTIER_MAX_SLOTS) in the top
 * 16 bits, the virtual page number below.  Key 0 is never a page.
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

/* The key of the region holding @key (its first page's key). */
static inline u64 htier_region_key(u64 key)
{
	return key & ~(u64)(HTIER_REGION_PAGES - 1);
}

/*
 * Region spread (sampled-access samplers): a region's pages are credited
 * with their block's sample rate where the samples fall evenly over the
 * pages, HTIER_SPREAD_BLOCK_PAGES (256 KiB) to a block, so that a hot range
 * is ranked from all its samples rather than from the one or two each page
 * gets (see htier_region_spread()).  One bitmap word per block.
 */
#define HTIER_SPREAD_BLOCK_SHIFT	6
#define HTIER_SPREAD_BLOCK_PAGES	(1u << HTIER_SPREAD_BLOCK_SHIFT)
#define HTIER_SPREAD_BLOCKS		(HTIER_REGION_PAGES >> HTIER_SPREAD_BLOCK_SHIFT)
/* Samples a region needs (and at least 1/8 of its pages) for a verdict. */
#define HTIER_SPREAD_MIN_SAMPLES	32
/*
 * Heat per PEBS sample: eight, so that a block's mean of a fraction of a
 * sample per page still ranks (htier_region_spread()).
 */
#define HTIER_PEBS_SAMPLE_HEAT		8
#define HTIER_PEBS_SAMPLE_SHIFT		3

/* Per-page state byte: 0 = not tracked, else HTIER_PS_TRACKED | tier. */
#define HTIER_PS_TRACKED	0x80
#define HTIER_PS_TIER_MASK	0x03

struct htier_region {
	u64 key;		/* htier_key() of the region's first page */
	struct htier_region *slot_next;	/* the slot's chain */
	u32 seen_epoch;		/* last epoch a walk saw its PTE table */
	u32 cooled;		/* table cool_count that heat[] reflects */
	u16 nr_tracked;		/* tracked entries (a huge entry counts 1) */
	u8 flags;		/* HTIER_PAGE_HUGE: page 0 is the whole THP */
	u8 idle_walks;		/* walks that skipped it as idle, in a row */
	u8 reads;		/* walker's own: reads since its last full one */
	u32 failed_cool;	/* cool_count when failed[] was last set */
	/*
	 * The sampling walker's own: young slow pages at its last sampled
	 * visit, per HTIER_SHIFT_WINDOW_US of window, plus one (0: none yet).
	 */
	u16 slow_young;
	/*
	 * The sampled-access samplers' own (PEBS), per block of
	 * HTIER_SPREAD_BLOCK_PAGES: see htier_region_spread().
	 */
	u8 spread_uniform;	/* the last verdict: samples spread evenly */
	u32 block_heat[HTIER_SPREAD_BLOCKS];	/* heat sampled, cooled */
	u32 block_window[HTIER_SPREAD_BLOCKS];	/* heat since sampled[] cleared */
	u16 block_level[HTIER_SPREAD_BLOCKS];	/* steady heat at that rate */
	u32 window_epoch;	/* table epoch when sampled[] was cleared */
	u64 sampled[HTIER_SPREAD_BLOCKS];	/* pages sampled since then */
	/* private: */
	u16 hist[NR_HTIER_TIERS][HTIER_NR_BINS];	/* base pages */
	u8 state[HTIER_REGION_PAGES];
	u16 heat[HTIER_REGION_PAGES];
	u64 visit_seen[HTIER_REGION_PAGES / 64];	/* during a visit */
	u64 failed[HTIER_REGION_PAGES / 64];	/* moves failed, see below */
	u64 recent[HTIER_REGION_PAGES / 64];	/* accessed at the last record */
};

/**
 * struct htier_region_alloc - where region memory comes from
 * @alloc:	a zeroed region, or NULL (then the page is not tracked)
 * @free:	give one back
 */
struct htier_region_alloc {
	struct htier_region *(*alloc)(void *priv);
	void (*free)(struct htier_region *r, void *priv);
	void *priv;
};

struct htier_hist {
	u64 pages[NR_HTIER_TIERS][HTIER_NR_BINS];	/* in base pages */
};

struct htier_table {
	struct htier_region **index;	/* open addressing by region key */
	u32 capacity;		/* index entries, a power of two */
	u32 nr_regions;
	u32 epoch;		/* bumped once per round by the caller */
	u32 cool_count;		/* cooling steps so far (each halves heat) */
	u64 nr_used;		/* tracked entries (a huge entry counts 1) */
	struct htier_hist hist;	/* always current */
	struct htier_region **slot_head;	/* [nr_slots + 1], by slot */
	u32 nr_slots;
	struct htier_region_alloc mem;
	/* private: */
	u32 expire_cursor;	/* next index entry htier_table_expire looks at */
	u64 nr_full;		/* records dropped: no region could be had */
	u64 nr_spread;		/* htier_region_spread() calls that raised heat */
};

/* What a lookup tells about one tracked page (or huge entry). */
struct htier_page_info {
	u32 heat;		/* decayed to now */
	u8 tier;
	u8 flags;
	u32 nr;			/* base pages: 1, or HTIER_HUGE_PAGES */
};

static inline u32 htier_heat_bin(u32 heat)
{
	u32 b = (u32)fls64(heat);

	return b < HTIER_NR_BINS ? b : HTIER_NR_BINS - 1;
}

int htier_table_init(struct htier_table *t, struct htier_region **index,
		     u32 capacity, struct htier_region **slot_head,
		     u32 nr_slots, const struct htier_region_alloc *mem);
void htier_table_destroy(struct htier_table *t);

struct htier_region *htier_table_region(struct htier_table *t, u64 key,
					bool create);
const struct htier_region *htier_table_region_find(const struct htier_table *t,
						   u64 key);

/* A walk of one PTE table: begin, record what is present, end. */
void htier_region_visit_begin(struct htier_table *t, struct htier_region *r,
			      bool huge);
void htier_region_record(struct htier_table *t, struct htier_region *r,
			 u32 idx, u32 accesses, enum htier_tier tier);
u32 htier_region_visit_end(struct htier_table *t, struct htier_region *r);
bool htier_region_add_heat(struct htier_table *t, struct htier_region *r,
			   u32 idx, u32 accesses, enum htier_tier *tier);

/* Is page @idx of @r tracked? */
static inline bool htier_region_tracked(const struct htier_region *r, u32 idx)
{
	return r->state[idx] != 0;
}

/* The tier a tracked page was last recorded on. */
static inline enum htier_tier htier_region_tier(const struct htier_region *r,
						u32 idx)
{
	return (enum htier_tier)(r->state[idx] & HTIER_PS_TIER_MASK);
}

/* Base pages of @r last recorded on @tier (its histogram's total). */
static inline u32 htier_region_tier_pages(const struct htier_region *r,
					  enum htier_tier tier)
{
	u32 n = 0, b;

	for (b = 0; b < HTIER_NR_BINS; b++)
		n += r->hist[tier][b];
	return n;
}

/*
 * During a visit: page @idx (tracked) is still there as it was, without a
 * new access; cheaper than htier_region_record() with no accesses, for a
 * walker that knows the page did not change.
 */
static inline void htier_region_keep(struct htier_region *r, u32 idx)
{
	r->visit_seen[idx / 64] |= 1ULL << (idx % 64);
	r->recent[idx / 64] &= ~(1ULL << (idx % 64));
}

/*
 * Was page @idx found accessed when it was last recorded (the last sample
 * of the accessed-bit walk)?  A page's heat says how often it was hit over
 * the last cooling periods; this says whether it still is.
 */
static inline bool htier_region_recent(const struct htier_region *r, u32 idx)
{
	return r->recent[idx / 64] & (1ULL << (idx % 64));
}

static inline void htier_region_set_recent(struct htier_region *r, u32 idx,
					   bool recent)
{
	if (recent)
		r->recent[idx / 64] |= 1ULL << (idx % 64);
	else
		r->recent[idx / 64] &= ~(1ULL << (idx % 64));
}

void htier_region_note_idle(struct htier_table *t, struct htier_region *r);
/**
 * struct htier_spread_params - how htier_region_spread() ranks a region
 * @weight:	heat per sample (what the sampler credits a page per sample;
 *		at least 1)
 * @horizon:	rounds a steady rate's heat adds up over (twice the cooling
 *		period: halving every N rounds keeps 2N rounds' worth)
 * @mean_x1024:	samples per tracked page per round over the whole table,
 *		x1024 (the caller's count from its last round)
 * @floor_heat:	the least heat a page is promoted with (that of the
 *		policy's min_promote_bin)
 */
struct htier_spread_params {
	u32 weight;
	u32 horizon;
	u32 mean_x1024;
	u32 floor_heat;
};

u32 htier_region_spread(struct htier_table *t, struct htier_region *r,
			const struct htier_spread_params *p);
void htier_region_age(struct htier_table *t, struct htier_region *r, u32 idx);
void htier_region_age_unused(struct htier_table *t, struct htier_region *r,
			     u32 idx, bool was_recent);

/*
 * A page whose move failed (pinned, busy, no free page on the target) is
 * not selected again until the next cooling step: each retry costs an
 * unmap, a TLB flush and a remap, and a pinned page stays pinned for a
 * while.  The marks of a region expire together when the table cools.
 */
void htier_table_note_failed(struct htier_table *t, u64 key);

static inline bool htier_region_failed(const struct htier_table *t,
				       const struct htier_region *r, u32 idx)
{
	return r->failed_cool == t->cool_count &&
	       (r->failed[idx / 64] & (1ULL << (idx % 64)));
}

bool htier_table_record(struct htier_table *t, u64 key, u32 accesses,
			enum htier_tier tier, u8 flags);
bool htier_table_add_heat(struct htier_table *t, u64 key, u32 accesses,
			  enum htier_tier *tier);
void htier_table_age_unused(struct htier_table *t, u64 key);
bool htier_table_get(const struct htier_table *t, u64 key,
		     struct htier_page_info *info);
bool htier_table_set_tier(struct htier_table *t, u64 key,
			  enum htier_tier tier);
bool htier_table_remove(struct htier_table *t, u64 key);
void htier_table_cool(struct htier_table *t, u32 shift);
u32 htier_table_expire(struct htier_table *t, const u32 *slot_verified,
		       u32 max_entries);
u32 htier_table_drop_slot(struct htier_table *t, u32 slot);
void htier_table_histogram(const struct htier_table *t, struct htier_hist *h);

/* Iterate tracked entries: *pos starts at 0; false at the end. */
bool htier_table_next(const struct htier_table *t, u64 *pos, u64 *key,
		      struct htier_page_info *info);

/* The region's heat and histogram as of now (lazy cooling applied). */
static inline u32 htier_region_lag(const struct htier_table *t,
				   const struct htier_region *r)
{
	u32 lag = t->cool_count - r->cooled;

	return lag < 16 ? lag : 16;
}

static inline u32 htier_region_heat(const struct htier_table *t,
				    const struct htier_region *r, u32 idx)
{
	return (u32)r->heat[idx] >> htier_region_lag(t, r);
}

void htier_region_hist_now(const struct htier_table *t,
			   const struct htier_region *r, enum htier_tier tier,
			   u32 out[HTIER_NR_BINS]);

static inline u32 htier_region_page_nr(const struct htier_region *r)
{
	return (r->flags & HTIER_PAGE_HUGE) ? HTIER_HUGE_PAGES : 1;
}

#endif /* HTIER_HOTNESS_H */
