// SPDX-License-Identifier: GPL-2.0
/*
 * htier hotness table: regions of 512 pages found through an open-addressing
 * index of pointers (linear probing, deletion by backward shift, so a lookup
 * never scans more than the cluster its key hashes into).  Heat is a
 * saturating access count halved by periodic cooling, as Memtis does, so the
 * histogram reflects recent accesses without a per-workload window knob.
 *
 * Invariants: an untracked page has state 0 and heat 0; t->hist is the sum
 * of every region's hist shifted by that region's cooling lag; a region with
 * no tracked page is freed.
 */
#include "hotness.h"

static inline bool htier_index_full(const struct htier_table *t)
{
	/* Keep probes short, and at least one entry empty. */
	return t->nr_regions >= t->capacity - max_t(u32, t->capacity / 8, 1);
}

static inline u32 htier_hash(u64 rkey, u32 mask)
{
	/* Fibonacci hashing spreads consecutive regions over the index. */
	return (u32)(((rkey >> HTIER_REGION_SHIFT) * 0x9E3779B97F4A7C15ULL) >>
		     32) & mask;
}

/* Shift a histogram @lag bins down: what halving every heat @lag times does. */
#define HTIER_HIST_SHIFT(bins, lag)					\
	do {								\
		u32 __b, __lag = (lag) < HTIER_NR_BINS ? (lag) : HTIER_NR_BINS; \
		for (__b = 1; __b <= __lag && __b < HTIER_NR_BINS; __b++) \
			(bins)[0] += (bins)[__b];			\
		for (__b = 1; __b < HTIER_NR_BINS; __b++)		\
			(bins)[__b] = __b + __lag < HTIER_NR_BINS ?	\
				      (bins)[__b + __lag] : 0;		\
	} while (0)

/**
 * htier_table_init() - set up an empty table
 * @t: the table
 * @index: @capacity entries for the region index, owned by the caller
 * @capacity: index entries, a power of two (at least 2)
 * @slot_head: @nr_slots + 1 chain heads, owned by the caller
 * @nr_slots: highest slot id keys may carry (at most HTIER_MAX_SLOTS)
 * @mem: where regions come from
 *
 * Return: 0, or -1 if @capacity is not a power of two or @nr_slots is
 * out of range.
 */
int htier_table_init(struct htier_table *t, struct htier_region **index,
		     u32 capacity, struct htier_region **slot_head,
		     u32 nr_slots, const struct htier_region_alloc *mem)
{
	if (capacity < 2 || (capacity & (capacity - 1)) ||
	    !nr_slots || nr_slots > HTIER_MAX_SLOTS)
		return -1;
	memset(t, 0, sizeof(*t));
	memset(index, 0, sizeof(*index) * (size_t)capacity);
	memset(slot_head, 0, sizeof(*slot_head) * ((size_t)nr_slots + 1));
	t->index = index;
	t->capacity = capacity;
	t->slot_head = slot_head;
	t->nr_slots = nr_slots;
	t->mem = *mem;
	t->epoch = 1;
	return 0;
}

static u32 htier_index_pos(const struct htier_table *t, u64 rkey)
{
	u32 mask = t->capacity - 1;
	u32 i = htier_hash(rkey, mask);

	while (t->index[i] && t->index[i]->key != rkey)
		i = (i + 1) & mask;
	return i;
}

/**
 * htier_table_region_find() - the region holding a page, if tracked
 * @t: the table
 * @key: htier_key() of any page of the region
 *
 * Return: the region, or NULL.
 */
const struct htier_region *htier_table_region_find(const struct htier_table *t,
						   u64 key)
{
	return t->index[htier_index_pos(t, htier_region_key(key))];
}

/**
 * htier_table_region() - the region holding a page
 * @t: the table
 * @key: htier_key() of any page of the region
 * @create: make an empty region if there is none
 *
 * Return: the region, or NULL if there is none (and @create is false, or
 * no memory or index entry could be had: counted in nr_full).
 */
struct htier_region *htier_table_region(struct htier_table *t, u64 key,
					bool create)
{
	u64 rkey = htier_region_key(key);
	u32 i = htier_index_pos(t, rkey), slot = htier_key_slot(key);
	struct htier_region *r = t->index[i];

	if (r || !create)
		return r;
	if (!slot || slot > t->nr_slots || htier_index_full(t)) {
		t->nr_full++;
		return NULL;
	}
	r = t->mem.alloc(t->mem.priv);
	if (!r) {
		t->nr_full++;
		return NULL;
	}
	r->key = rkey;
	r->cooled = t->cool_count;
	r->seen_epoch = t->epoch;
	r->window_epoch = t->epoch;
	r->slot_next = t->slot_head[slot];
	t->slot_head[slot] = r;
	t->index[i] = r;
	t->nr_regions++;
	return r;
}

/* Bring @r's heats and histogram up to the table's cooling count. */
static void htier_region_sync(struct htier_table *t, struct htier_region *r)
{
	u32 lag = htier_region_lag(t, r), i, tier;

	if (!lag)
		return;
	for (i = 0; i < HTIER_REGION_PAGES; i++)
		r->heat[i] >>= lag;
	for (i = 0; i < HTIER_SPREAD_BLOCKS; i++) {
		r->block_heat[i] >>= lag;
		r->block_level[i] >>= lag;
	}
	for (tier = 0; tier < NR_HTIER_TIERS; tier++)
		HTIER_HIST_SHIFT(r->hist[tier], lag);
	r->cooled = t->cool_count;
}

/**
 * htier_region_hist_now() - one tier's histogram of a region, cooled to now
 * @t: the table
 * @r: the region
 * @tier: the tier
 * @out: base pages per bin
 */
void htier_region_hist_now(const struct htier_table *t,
			   const struct htier_region *r, enum htier_tier tier,
			   u32 out[HTIER_NR_BINS])
{
	u32 b;

	for (b = 0; b < HTIER_NR_BINS; b++)
		out[b] = r->hist[tier][b];
	HTIER_HIST_SHIFT(out, htier_region_lag(t, r));
}

/* Account @nr base pages of @tier at @heat in @r (synced) and the table. */
static inline void htier_hist_add(struct htier_table *t, struct htier_region *r,
				  u32 tier, u32 heat, u32 nr)
{
	u32 b = htier_heat_bin(heat);

	r->hist[tier][b] += nr;
	t->hist.pages[tier][b] += nr;
}

static inline void htier_hist_sub(struct htier_table *t, struct htier_region *r,
				  u32 tier, u32 heat, u32 nr)
{
	u32 b = htier_heat_bin(heat);

	r->hist[tier][b] -= nr;
	t->hist.pages[tier][b] -= nr;
}

/* Forget page @idx of @r (synced, tracked). */
static void htier_region_forget(struct htier_table *t, struct htier_region *r,
				u32 idx)
{
	htier_hist_sub(t, r, r->state[idx] & HTIER_PS_TIER_MASK, r->heat[idx],
		       htier_region_page_nr(r));
	r->state[idx] = 0;
	r->heat[idx] = 0;
	r->recent[idx / 64] &= ~(1ULL << (idx % 64));
	r->nr_tracked--;
	t->nr_used--;
}

/* Forget every page of @r (synced). */
static void htier_region_clear(struct htier_table *t, struct htier_region *r)
{
	u32 i;

	for (i = 0; i < HTIER_REGION_PAGES && r->nr_tracked; i++)
		if (r->state[i])
			htier_region_forget(t, r, i);
}

/* Take @r out of the index (at @i) and its slot chain, and free it. */
static void htier_region_free_at(struct htier_table *t, u32 i)
{
	struct htier_region *r = t->index[i], **pp;
	u32 mask = t->capacity - 1, j = i, tier, b;
	u32 now[HTIER_NR_BINS];

	/* Its pages leave the table's histogram, cooled as the table is. */
	for (tier = 0; tier < NR_HTIER_TIERS; tier++) {
		htier_region_hist_now(t, r, tier, now);
		for (b = 0; b < HTIER_NR_BINS; b++)
			t->hist.pages[tier][b] -= now[b];
	}
	t->nr_used -= r->nr_tracked;

	/* Backward-shift deletion: move j back to i unless its home is in (i, j]. */
	for (;;) {
		u32 home;

		j = (j + 1) & mask;
		if (!t->index[j])
			break;
		home = htier_hash(t->index[j]->key, mask);
		if (i <= j ? (home > i && home <= j) : (home > i || home <= j))
			continue;
		t->index[i] = t->index[j];
		i = j;
	}
	t->index[i] = NULL;
	t->nr_regions--;

	for (pp = &t->slot_head[htier_key_slot(r->key)]; *pp; pp = &(*pp)->slot_next)
		if (*pp == r) {
			*pp = r->slot_next;
			break;
		}
	t->mem.free(r, t->mem.priv);
}

static void htier_region_free(struct htier_table *t, struct htier_region *r)
{
	htier_region_free_at(t, htier_index_pos(t, r->key));
}

/**
 * htier_region_visit_begin() - a walk is about to record a region's pages
 * @t: the table
 * @r: the region
 * @huge: the PTE table is a PMD-mapped THP this time (page 0 stands for it)
 *
 * A region that changed between huge and small forgets its pages.
 */
void htier_region_visit_begin(struct htier_table *t, struct htier_region *r,
			      bool huge)
{
	htier_region_sync(t, r);
	if (huge != !!(r->flags & HTIER_PAGE_HUGE)) {
		htier_region_clear(t, r);
		r->flags = huge ? HTIER_PAGE_HUGE : 0;
	}
	memset(r->visit_seen, 0, sizeof(r->visit_seen));
	r->seen_epoch = t->epoch;
	r->idle_walks = 0;
}

/**
 * htier_region_record() - a page of a region was seen (synced region)
 * @t: the table
 * @r: the region, after htier_region_visit_begin() or a sync
 * @idx: the page's index in the region (0 for a huge entry)
 * @accesses: accesses observed since the last record (0 = seen, not used)
 * @tier: the tier the page is on now
 */
void htier_region_record(struct htier_table *t, struct htier_region *r,
			 u32 idx, u32 accesses, enum htier_tier tier)
{
	u8 state = HTIER_PS_TRACKED | (u8)tier;
	u32 heat = r->heat[idx], nr = htier_region_page_nr(r);

	r->visit_seen[idx / 64] |= 1ULL << (idx % 64);
	if (accesses)
		r->recent[idx / 64] |= 1ULL << (idx % 64);
	else
		r->recent[idx / 64] &= ~(1ULL << (idx % 64));
	if (r->state[idx] == state && !accesses)
		return;
	if (r->state[idx]) {
		htier_hist_sub(t, r, r->state[idx] & HTIER_PS_TIER_MASK, heat, nr);
	} else {
		r->nr_tracked++;
		t->nr_used++;
	}
	heat = accesses < HTIER_HEAT_MAX - heat ? heat + accesses : HTIER_HEAT_MAX;
	r->heat[idx] = (u16)heat;
	r->state[idx] = state;
	htier_hist_add(t, r, tier, heat, nr);
}

/**
 * htier_region_visit_end() - a walk has recorded every page it found
 * @t: the table
 * @r: the region; freed if no page is left (do not use it afterwards)
 *
 * Pages tracked before but not found by this walk are gone (unmapped,
 * freed, swapped, under migration): they are forgotten.
 *
 * Return: the number of entries forgotten.
 */
u32 htier_region_visit_end(struct htier_table *t, struct htier_region *r)
{
	u32 w, removed = 0;

	for (w = 0; w < HTIER_REGION_PAGES / 64; w++) {
		u32 i;

		for (i = w * 64; i < w * 64 + 64; i++) {
			if (!r->state[i] || (r->visit_seen[w] & (1ULL << (i % 64))))
				continue;
			htier_region_forget(t, r, i);
			removed++;
		}
	}
	if (!r->nr_tracked)
		htier_region_free(t, r);
	return removed;
}

/**
 * htier_region_add_heat() - credit sampled accesses to a page of a region
 * @t: the table
 * @r: the region (outside a visit, or during one)
 * @idx: the page's index in the region (0 for a huge entry)
 * @accesses: accesses to add
 * @tier: set to the page's tier when it is tracked
 *
 * Return: true if the page is tracked (the accesses counted).
 */
bool htier_region_add_heat(struct htier_table *t, struct htier_region *r,
			   u32 idx, u32 accesses, enum htier_tier *tier)
{
	u32 b = idx >> HTIER_SPREAD_BLOCK_SHIFT;

	if (!r->state[idx])
		return false;
	htier_region_sync(t, r);
	*tier = htier_region_tier(r, idx);
	htier_region_record(t, r, idx, accesses, *tier);
	r->block_heat[b] = accesses < U32_MAX - r->block_heat[b] ?
			   r->block_heat[b] + accesses : U32_MAX;
	r->block_window[b] = accesses < U32_MAX - r->block_window[b] ?
			     r->block_window[b] + accesses : U32_MAX;
	r->sampled[b] |= 1ULL << (idx % HTIER_SPREAD_BLOCK_PAGES);
	return true;
}

/* 65536 * e^(-k/8), k = 0..64: expected distinct pages of uniform samples. */
static const u16 htier_exp_neg8[65] = {
	65535, 57835, 51039, 45042, 39750, 35079, 30957, 27319, 24109, 21276,
	18776, 16570, 14623, 12905, 11388, 10050, 8869, 7827, 6907, 6096,
	5380, 4747, 4190, 3697, 3263, 2879, 2541, 2243, 1979, 1746, 1541,
	1360, 1200, 1059, 935, 825, 728, 642, 567, 500, 442, 390, 344, 303,
	268, 236, 209, 184, 162, 143, 127, 112, 99, 87, 77, 68, 60, 53, 47,
	41, 36, 32, 28, 25, 22,
};

/*
 * The distinct pages @s samples hit, on average, when they fall uniformly
 * on @n pages: n * (1 - e^(-s/n)), x1024 (e^-x linearly interpolated in
 * steps of 1/8).
 */
static u64 htier_expect_distinct(u32 s, u32 n)
{
	u64 x8k = (u64)s * 8 * 1024 / n;	/* 8 * s / n, x1024 */
	u64 k = x8k >> 10, f = x8k & 1023, e;

	if (k >= 64)
		e = 0;
	else
		e = (htier_exp_neg8[k] * (1024 - f) + htier_exp_neg8[k + 1] * f) >> 10;
	return (u64)n * (65536 - e) / 64;
}

/**
 * htier_region_spread() - rank an evenly sampled region's pages together
 * @t: the table
 * @r: the region (outside a visit, or at its end)
 * @p: the sampler's weight, the table's mean rate, the promotion floor
 *
 * For a sampler whose samples are few per page (PEBS at a CPU budget: a
 * 64 MiB hot set gets a fraction of a sample per page per round), a
 * page's own count ranks it only after many rounds, while the samples of
 * a hot range together say at once that all of it is hot.  Demeter and
 * Memtis get their statistical power the same way, from ranges.  Here the
 * samples a region got are compared with what uniform samples would give:
 * if they hit about as many distinct pages as uniform ones would (within
 * each block of HTIER_SPREAD_BLOCK_PAGES), the region's heat is even at
 * block scale, and each tracked page of a block is ranked at least at the
 * block's mean heat: its samples per page, cooled as heat is, or, if
 * higher, the heat its rate since the last verdict adds up to in steady
 * state (@horizon rounds' worth), so that a range that became hot ranks
 * as hot in a round or two rather than after a cooling period.
 * Samples bunched on a few pages (a scattered hot set: a few hot pages
 * among cold ones in every block) hit fewer distinct pages than that:
 * then each page keeps its own count, as before.  A verdict needs
 * HTIER_SPREAD_MIN_SAMPLES samples and one per four tracked pages; the
 * samples since the last verdict decide the next.  Huge entries hold
 * their THP's samples already.
 *
 * Cost: one pass over the region's 512 page slots, paid where a walk
 * visits the region anyway.
 *
 * Return: the base pages whose heat was raised.
 */
u32 htier_region_spread(struct htier_table *t, struct htier_region *r,
			const struct htier_spread_params *p)
{
	u32 weight = p->weight ? p->weight : 1;
	u32 n[HTIER_SPREAD_BLOCKS] = { 0 }, b, i, window = 0, raised = 0;
	u64 expect = 0, distinct = 0;

	if (!r->nr_tracked || (r->flags & HTIER_PAGE_HUGE))
		return 0;
	htier_region_sync(t, r);
	for (i = 0; i < HTIER_REGION_PAGES; i++)
		n[i >> HTIER_SPREAD_BLOCK_SHIFT] += r->state[i] != 0;
	for (b = 0; b < HTIER_SPREAD_BLOCKS; b++)
		window += r->block_window[b] / weight;
	if (window >= HTIER_SPREAD_MIN_SAMPLES && window >= r->nr_tracked / 4u) {
		u32 rounds = t->epoch - r->window_epoch, level, samples;

		rounds = rounds ? rounds : 1;
		r->window_epoch = t->epoch;
		for (b = 0; b < HTIER_SPREAD_BLOCKS; b++) {
			r->block_level[b] = 0;
			if (!n[b] || !r->block_window[b])
				continue;
			level = min_t(u64, HTIER_HEAT_MAX,
				(u64)r->block_window[b] * p->horizon / rounds / n[b]);
			/*
			 * A block sampled at four times the table's mean rate
			 * (two heat bins) and by 8 samples at least is hot
			 * beyond chance, however few samples each page got.
			 */
			samples = r->block_window[b] / weight;
			if (samples >= 8 && (u64)samples * 1024 >=
			    4ULL * p->mean_x1024 * n[b] * rounds)
				level = max_t(u32, level, p->floor_heat);
			r->block_level[b] = (u16)level;
			expect += htier_expect_distinct(r->block_window[b] / weight,
							n[b]);
			distinct += (u64)hweight64(r->sampled[b]) * 1024;
			r->block_window[b] = 0;
			r->sampled[b] = 0;
		}
		/*
		 * Even: within a tenth of the distinct pages uniform samples
		 * hit (over three standard deviations at the smallest
		 * window).  Spread only where samples are scarce, at most
		 * one per two pages a round: with more, each page's own
		 * count ranks it well within a cooling period (and the
		 * distinct count loses its power as every page is hit).
		 */
		r->spread_uniform = distinct * 10 >= expect * 9 &&
				    (u64)window * 2 <= (u64)r->nr_tracked * rounds;
	}
	if (!r->spread_uniform)
		return 0;
	for (b = 0; b < HTIER_SPREAD_BLOCKS; b++) {
		u32 level, first = b << HTIER_SPREAD_BLOCK_SHIFT;

		if (!n[b])
			continue;
		level = min_t(u32, r->block_heat[b] / n[b], HTIER_HEAT_MAX);
		level = max_t(u32, level, r->block_level[b]);
		for (i = first; i < first + HTIER_SPREAD_BLOCK_PAGES; i++) {
			u32 tier;

			if (!r->state[i] || r->heat[i] >= level)
				continue;
			tier = r->state[i] & HTIER_PS_TIER_MASK;
			htier_hist_sub(t, r, tier, r->heat[i], 1);
			r->heat[i] = (u16)level;
			htier_hist_add(t, r, tier, level, 1);
			raised++;
		}
	}
	if (raised)
		t->nr_spread++;
	return raised;
}

/**
 * htier_region_note_idle() - a walk skipped a region's PTE table as idle
 * @t: the table
 * @r: the region
 *
 * Its pages stay as they are, none of them accessed since the last walk;
 * the region counts as seen.  Their recent bits are the sampling walk's
 * to clear (htier_region_set_recent()): a walk that only clears accessed
 * bits before a window leaves them as the last sample found them.
 */
void htier_region_note_idle(struct htier_table *t, struct htier_region *r)
{
	r->seen_epoch = t->epoch;
	if (r->idle_walks < 0xff)
		r->idle_walks++;
}

/**
 * htier_region_age() - halve a tracked page's heat: it was not accessed
 * @t: the table
 * @r: the region
 * @idx: the page's index in the region
 *
 * For the rounds after the hot set moved (the slow tier's accesses
 * jumped): a page the sample found unused loses half its heat at once
 * instead of at the next cooling step, so the old hot set's heat falls
 * below the new one's within a few rounds while pages still in use keep
 * theirs.  Never below 1: a page of the working set that the short
 * windows missed stays in the hot set (and the hot set the agent reports
 * keeps its size); the old hot set at heat 1 is two bins below a new hot
 * page at 4, which is what an exchange needs.
 */
void htier_region_age(struct htier_table *t, struct htier_region *r, u32 idx)
{
	u32 heat, tier, nr;

	if (!r->state[idx])
		return;
	htier_region_sync(t, r);
	heat = r->heat[idx];
	if (heat < 2)
		return;
	tier = r->state[idx] & HTIER_PS_TIER_MASK;
	nr = htier_region_page_nr(r);
	htier_hist_sub(t, r, tier, heat, nr);
	r->heat[idx] = (u16)(heat >> 1);
	htier_hist_add(t, r, tier, heat >> 1, nr);
}

/**
 * htier_region_age_unused() - a sample after a shift found a page unused
 * @t: the table
 * @r: the region
 * @idx: the page's index in the region
 * @was_recent: the page was found accessed by the sample before
 *
 * A fast page unused at two samples in a row ages (htier_region_age()).
 * Two misses, and only fast pages: a hot page is not young at every short
 * window, and one miss (or a slow page's) would age the new hot set too.
 */
void htier_region_age_unused(struct htier_table *t, struct htier_region *r,
			     u32 idx, bool was_recent)
{
	if (!was_recent && htier_region_tracked(r, idx) &&
	    htier_region_tier(r, idx) == HTIER_TIER_FAST)
		htier_region_age(t, r, idx);
}

static inline u32 htier_region_idx(const struct htier_region *r, u64 key)
{
	return (r->flags & HTIER_PAGE_HUGE) ? 0 :
	       (u32)(key & (HTIER_REGION_PAGES - 1));
}

/* The region and index of a tracked page (synced for writing), or NULL. */
static struct htier_region *htier_table_lookup(struct htier_table *t, u64 key,
					       u32 *idx)
{
	struct htier_region *r = t->index[htier_index_pos(t, htier_region_key(key))];

	if (!r)
		return NULL;
	*idx = htier_region_idx(r, key);
	if (!r->state[*idx])
		return NULL;
	htier_region_sync(t, r);
	return r;
}

/**
 * htier_table_record() - note that a page was seen, with @accesses accesses
 * @t: the table
 * @key: htier_key() of the page (of a huge entry: its first page)
 * @accesses: accesses observed since the last record (0 = seen, not used)
 * @tier: the tier the page is on now
 * @flags: HTIER_PAGE_HUGE for a PMD-mapped THP
 *
 * One page at a time, for callers that are not walking a region (the
 * simulator, tests); a region that changes between huge and small forgets
 * its pages first.  Heat saturates at HTIER_HEAT_MAX.
 *
 * Return: false if the page could not be tracked (counted in nr_full).
 */
bool htier_table_record(struct htier_table *t, u64 key, u32 accesses,
			enum htier_tier tier, u8 flags)
{
	struct htier_region *r = htier_table_region(t, key, true);
	bool huge = flags & HTIER_PAGE_HUGE;

	if (!r)
		return false;
	htier_region_sync(t, r);
	if (huge != !!(r->flags & HTIER_PAGE_HUGE)) {
		htier_region_clear(t, r);
		r->flags = huge ? HTIER_PAGE_HUGE : 0;
	}
	htier_region_record(t, r, htier_region_idx(r, key), accesses, tier);
	r->seen_epoch = t->epoch;
	return true;
}

/**
 * htier_table_age_unused() - htier_region_age_unused() by key, before the
 * sample that found the page unused is recorded
 * @t: the table
 * @key: htier_key() of the page (any page of a huge entry)
 */
void htier_table_age_unused(struct htier_table *t, u64 key)
{
	u32 idx;
	struct htier_region *r = htier_table_lookup(t, key, &idx);

	if (r)
		htier_region_age_unused(t, r, idx, htier_region_recent(r, idx));
}

/**
 * htier_table_add_heat() - credit sampled accesses to a tracked page
 * @t: the table
 * @key: htier_key() of the page (any page of a huge entry)
 * @accesses: accesses to add
 * @tier: set to the page's tier when it is tracked
 *
 * Return: true if the page is tracked (the accesses counted).
 */
bool htier_table_add_heat(struct htier_table *t, u64 key, u32 accesses,
			  enum htier_tier *tier)
{
	u32 idx;
	struct htier_region *r = htier_table_lookup(t, key, &idx);

	return r && htier_region_add_heat(t, r, idx, accesses, tier);
}

/**
 * htier_table_get() - what the table knows of a page
 * @t: the table
 * @key: htier_key() of the page (any page of a huge entry)
 * @info: filled when the page is tracked
 *
 * Return: true if the page is tracked.
 */
bool htier_table_get(const struct htier_table *t, u64 key,
		     struct htier_page_info *info)
{
	const struct htier_region *r = htier_table_region_find(t, key);
	u32 idx;

	if (!r)
		return false;
	idx = htier_region_idx(r, key);
	if (!r->state[idx])
		return false;
	info->heat = htier_region_heat(t, r, idx);
	info->tier = r->state[idx] & HTIER_PS_TIER_MASK;
	info->flags = r->flags & HTIER_PAGE_HUGE;
	info->nr = htier_region_page_nr(r);
	return true;
}

/**
 * htier_table_note_failed() - a tracked page could not be moved
 * @t: the table
 * @key: htier_key() of the page (any page of a huge entry)
 */
void htier_table_note_failed(struct htier_table *t, u64 key)
{
	u32 idx;
	struct htier_region *r = htier_table_lookup(t, key, &idx);

	if (!r)
		return;
	if (r->failed_cool != t->cool_count) {
		memset(r->failed, 0, sizeof(r->failed));
		r->failed_cool = t->cool_count;
	}
	r->failed[idx / 64] |= 1ULL << (idx % 64);
}

/**
 * htier_table_set_tier() - a tracked page moved to another tier
 * @t: the table
 * @key: htier_key() of the page (any page of a huge entry)
 * @tier: where it is now
 *
 * A huge entry was split by the move: it becomes its first page's entry
 * (the next walk finds the other 511).
 *
 * Return: true if the page is tracked.
 */
bool htier_table_set_tier(struct htier_table *t, u64 key, enum htier_tier tier)
{
	u32 idx, heat;
	struct htier_region *r = htier_table_lookup(t, key, &idx);

	if (!r)
		return false;
	heat = r->heat[idx];
	htier_hist_sub(t, r, r->state[idx] & HTIER_PS_TIER_MASK, heat,
		       htier_region_page_nr(r));
	if (r->flags & HTIER_PAGE_HUGE) {
		/*
		 * Split by the move: the first page keeps the heat, the
		 * others are found by the next walk with none of their own,
		 * so a THP with a few hot pages ends up with just those on
		 * the fast node.
		 */
		r->flags &= ~HTIER_PAGE_HUGE;
	}
	r->state[idx] = HTIER_PS_TRACKED | (u8)tier;
	htier_hist_add(t, r, tier, heat, 1);
	return true;
}

/**
 * htier_table_remove() - stop tracking a page
 * @t: the table
 * @key: htier_key() of the page (any page of a huge entry)
 *
 * Return: true if the page was tracked.
 */
bool htier_table_remove(struct htier_table *t, u64 key)
{
	u32 idx;
	struct htier_region *r = htier_table_lookup(t, key, &idx);

	if (!r)
		return false;
	htier_region_forget(t, r, idx);
	if (!r->nr_tracked)
		htier_region_free(t, r);
	return true;
}

/**
 * htier_table_cool() - age every page's heat
 * @t: the table
 * @shift: heat is divided by 2^@shift
 *
 * O(1): the histogram moves @shift bins down now; each region's heats
 * catch up when it is next written.
 */
void htier_table_cool(struct htier_table *t, u32 shift)
{
	u32 tier;

	if (!shift)
		return;
	for (tier = 0; tier < NR_HTIER_TIERS; tier++)
		HTIER_HIST_SHIFT(t->hist.pages[tier], shift);
	t->cool_count += shift;
}

/**
 * htier_table_expire() - forget regions whose page table is gone
 * @t: the table
 * @slot_verified: by slot, the epoch since which a walk has covered that
 *	whole address space at least once; a region not seen since is gone
 * @max_entries: index entries to look at in this call (a rotating cursor
 *	covers the index over several calls)
 *
 * Return: the number of regions removed.
 */
u32 htier_table_expire(struct htier_table *t, const u32 *slot_verified,
		       u32 max_entries)
{
	u32 mask = t->capacity - 1, n, removed = 0;
	u32 i = t->expire_cursor & mask;

	if (max_entries > t->capacity)
		max_entries = t->capacity;
	for (n = 0; n < max_entries; n++) {
		struct htier_region *r = t->index[i];

		if (r && (s32)(slot_verified[htier_key_slot(r->key)] -
			       r->seen_epoch) > 0) {
			/* The entry shifted into i is looked at next. */
			htier_region_free_at(t, i);
			removed++;
			continue;
		}
		i = (i + 1) & mask;
	}
	t->expire_cursor = i;
	return removed;
}

/**
 * htier_table_drop_slot() - forget every page of one address space
 * @t: the table
 * @slot: the slot the address space had
 *
 * Costs that address space's regions only.
 *
 * Return: the number of entries removed.
 */
u32 htier_table_drop_slot(struct htier_table *t, u32 slot)
{
	u64 before = t->nr_used;

	if (!slot || slot > t->nr_slots)
		return 0;
	while (t->slot_head[slot])
		htier_region_free(t, t->slot_head[slot]);
	return (u32)(before - t->nr_used);
}

/**
 * htier_table_destroy() - free every region
 * @t: the table
 */
void htier_table_destroy(struct htier_table *t)
{
	u32 slot;

	for (slot = 1; slot <= t->nr_slots; slot++)
		htier_table_drop_slot(t, slot);
}

/**
 * htier_table_histogram() - base pages per tier and heat bin
 * @t: the table
 * @h: filled with the counts (kept up to date by the table: O(1))
 */
void htier_table_histogram(const struct htier_table *t, struct htier_hist *h)
{
	*h = t->hist;
}

/**
 * htier_table_next() - the next tracked entry
 * @t: the table
 * @pos: iteration state, 0 to start
 * @key: the entry's key
 * @info: what the table knows of it
 *
 * Return: false when there are no more entries.
 */
bool htier_table_next(const struct htier_table *t, u64 *pos, u64 *key,
		      struct htier_page_info *info)
{
	u64 i = *pos >> HTIER_REGION_SHIFT;
	u32 idx = (u32)(*pos & (HTIER_REGION_PAGES - 1));

	for (; i < t->capacity; i++, idx = 0) {
		const struct htier_region *r = t->index[i];

		if (!r)
			continue;
		for (; idx < HTIER_REGION_PAGES; idx++) {
			if (!r->state[idx])
				continue;
			*key = r->key + idx;
			htier_table_get(t, *key, info);
			*pos = (i << HTIER_REGION_SHIFT) + idx + 1;
			return true;
		}
	}
	*pos = (u64)t->capacity << HTIER_REGION_SHIFT;
	return false;
}
