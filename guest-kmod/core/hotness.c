// SPDX-License-Identifier: GPL-2.0
/*
 * htier hotness table: open addressing with linear probing over a
 * caller-provided array, deletion by backward shift (no tombstones), so a
 * lookup never scans more than the cluster its key hashes into.  Heat is a
 * saturating access count halved by periodic cooling, as Memtis does, so the
 * histogram reflects recent accesses without a per-workload window knob.
 */
#include "hotness.h"

/*
 * Keep probes short: refuse inserts beyond 7/8 load.  At least one entry
 * always stays empty, or a probe for an absent key would never end (tables
 * of fewer than 8 entries).
 */
static inline bool htier_table_full(const struct htier_table *t)
{
	return t->nr_used >= t->capacity - max_t(u32, t->capacity / 8, 1);
}

static inline u32 htier_hash(u64 key, u32 mask)
{
	/* Fibonacci hashing spreads consecutive vpns over the table. */
	return (u32)((key * 0x9E3779B97F4A7C15ULL) >> 32) & mask;
}

/**
 * htier_table_init() - set up an empty table over @pages
 * @t: the table
 * @pages: @capacity zeroed or not entries, owned by the caller
 * @capacity: number of entries, a power of two
 */
void htier_table_init(struct htier_table *t, struct htier_page *pages,
		      u32 capacity)
{
	memset(pages, 0, sizeof(*pages) * (size_t)capacity);
	t->pages = pages;
	t->capacity = capacity;
	t->nr_used = 0;
	t->epoch = 1;
	t->nr_full = 0;
}

/**
 * htier_table_find() - look up a page
 * @t: the table
 * @key: htier_key() of the page
 *
 * Return: the entry, or NULL if @key is not tracked.
 */
struct htier_page *htier_table_find(struct htier_table *t, u64 key)
{
	u32 mask = t->capacity - 1;
	u32 i = htier_hash(key, mask);

	while (t->pages[i].key) {
		if (t->pages[i].key == key)
			return &t->pages[i];
		i = (i + 1) & mask;
	}
	return NULL;
}

/**
 * htier_table_record() - note that a page was seen, with @accesses accesses
 * @t: the table
 * @key: htier_key() of the page
 * @accesses: accesses observed since the last record (0 = seen, not used)
 * @tier: the tier the page is on now
 * @flags: HTIER_PAGE_* flags of the mapping now
 *
 * Inserts the page if it is new.  Heat saturates at HTIER_HEAT_MAX.
 *
 * Return: the entry, or NULL if the table is full (counted in nr_full).
 */
struct htier_page *htier_table_record(struct htier_table *t, u64 key,
				      u32 accesses, enum htier_tier tier,
				      u8 flags)
{
	u32 mask = t->capacity - 1;
	u32 i = htier_hash(key, mask);
	struct htier_page *p;

	while (t->pages[i].key && t->pages[i].key != key)
		i = (i + 1) & mask;
	p = &t->pages[i];
	if (!p->key) {
		if (htier_table_full(t)) {
			t->nr_full++;
			return NULL;
		}
		p->key = key;
		p->heat = 0;
		t->nr_used++;
	}
	/* Saturate without overflowing the sum for a huge @accesses. */
htier_page_heat_add(p, accesses);
	p->tier = tier;
	p->flags = flags;
	p->seen_epoch = t->epoch;
	return p;
}

/* Remove the entry at @i, shifting the rest of its cluster back. */
static void htier_table_delete_at(struct htier_table *t, u32 i)
{
	u32 mask = t->capacity - 1;
	u32 j = i;

	for (;;) {
		u32 home;

		j = (j + 1) & mask;
		if (!t->pages[j].key)
			break;
		home = htier_hash(t->pages[j].key, mask);
		/* Move j back to i unless its home lies in (i, j]. */
		if (i <= j ? (home > i && home <= j) : (home > i || home <= j))
			continue;
		t->pages[i] = t->pages[j];
		i = j;
	}
	memset(&t->pages[i], 0, sizeof(t->pages[i]));
	t->nr_used--;
}

/**
 * htier_table_remove() - stop tracking a page
 * @t: the table
 * @key: htier_key() of the page
 *
 * Return: true if the page was tracked.
 */
bool htier_table_remove(struct htier_table *t, u64 key)
{
	struct htier_page *p = htier_table_find(t, key);

	if (!p)
		return false;
	htier_table_delete_at(t, (u32)(p - t->pages));
	return true;
}

/**
 * htier_table_cool() - age every page's heat
 * @t: the table
 * @shift: heat is divided by 2^@shift
 */
void htier_table_cool(struct htier_table *t, u32 shift)
{
	u32 i;

	for (i = 0; i < t->capacity; i++)
		t->pages[i].heat >>= shift;
}

/*
 * Delete every entry @match accepts.  A deletion shifts later entries back
 * into slot i, so slot i is examined again before moving on; an entry that
 * wraps from the table's start to its end may be examined twice, which is
 * harmless for an idempotent predicate.
 */
static u32 htier_table_delete_if(struct htier_table *t,
				 bool (*match)(const struct htier_page *p,
					       u32 arg1, u32 arg2),
				 u32 arg1, u32 arg2)
{
	u32 i = 0, removed = 0;

	while (i < t->capacity) {
		if (t->pages[i].key && match(&t->pages[i], arg1, arg2)) {
			htier_table_delete_at(t, i);
			removed++;
			continue;
		}
		i++;
	}
	return removed;
}

static bool htier_page_is_stale(const struct htier_page *p, u32 epoch,
				u32 max_age)
{
	return (u32)(epoch - p->seen_epoch) > max_age;
}

/**
 * htier_table_expire() - forget pages not seen for more than @max_age epochs
 * @t: the table
 * @max_age: epochs a page may go unseen (unmapped, freed, mid-migration)
 *
 * Return: the number of entries removed.
 */
u32 htier_table_expire(struct htier_table *t, u32 max_age)
{
	return htier_table_delete_if(t, htier_page_is_stale, t->epoch, max_age);
}

static bool htier_page_in_slot(const struct htier_page *p, u32 slot,
			       u32 unused)
{
	return htier_key_slot(p->key) == slot;
}

/**
 * htier_table_drop_slot() - forget every page of one address space
 * @t: the table
 * @slot: the slot the address space had
 *
 * Return: the number of entries removed.
 */
u32 htier_table_drop_slot(struct htier_table *t, u32 slot)
{
	return htier_table_delete_if(t, htier_page_in_slot, slot, 0);
}

/**
 * htier_table_histogram() - count base pages per tier and heat bin
 * @t: the table
 * @h: filled with the counts
 */
void htier_table_histogram(const struct htier_table *t, struct htier_hist *h)
{
	u32 i;

	memset(h, 0, sizeof(*h));
	for (i = 0; i < t->capacity; i++) {
		const struct htier_page *p = &t->pages[i];

		if (!p->key)
			continue;
		h->pages[p->tier][htier_heat_bin(p->heat)] += htier_page_nr(p);
	}
}
