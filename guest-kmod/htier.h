/* SPDX-License-Identifier: GPL-2.0 */
/*
 * htier.ko internals: the one context the module runs from, the sampler
 * operations table, and the entry points each file offers the others.
 */
#ifndef HTIER_H
#define HTIER_H

#include <linux/hashtable.h>
#include <linux/kobject.h>
#include <linux/mutex.h>
#include <linux/nodemask.h>
#include <linux/spinlock.h>
#include <linux/atomic.h>
#include <linux/wait.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/cpumask.h>
#include "hotness.h"
#include "policy.h"

enum htier_sampler_id {
	HTIER_SAMPLER_AUTO,
	HTIER_SAMPLER_PEBS,
	HTIER_SAMPLER_ABIT,
	NR_HTIER_SAMPLERS,
};

extern const char * const htier_sampler_names[NR_HTIER_SAMPLERS];

struct htier_ctx;

/**
 * struct htier_sampler_ops - one way of finding accessed pages
 * @start:	set up (probe the hardware); on failure write why into
 *		ctx->sampler_reason and return an error.
 * @collect:	called once a round by the htier thread: feed the hotness
 *		table with this round's accesses and the pages' residency.
 * @stop:	tear down; NULL if nothing to do.
 * @samples_by_walk: a page is sampled only when the walk covers it (abit):
 *		cooling then counts the walk's passes over the managed memory,
 *		not rounds, so that a page keeps the heat of its last few
 *		samples however many rounds a pass takes.
 */
struct htier_sampler_ops {
	const char *name;
	int (*start)(struct htier_ctx *ctx);
	void (*collect)(struct htier_ctx *ctx);
	void (*stop)(struct htier_ctx *ctx);
	bool samples_by_walk;
};

extern const struct htier_sampler_ops htier_abit_ops;
extern const struct htier_sampler_ops htier_pebs_ops;

#define HTIER_MAX_MMS	1024

/* One managed address space; slot i of ctx->mms has table slot id i + 1. */
struct htier_mm {
	struct mm_struct *mm;	/* mmgrab()ed; NULL if the slot is free */
	pid_t tgid;
	u32 round;		/* last round the process was in scope */
	u32 passes;		/* complete walks over it */
	u32 pass_start_epoch;	/* table epoch the current pass began at */
	nodemask_t allowed;	/* the process's cpuset mems and policy nodes */
	u64 pinned_acc;		/* unmovable VMA bytes seen by this pass */
	u64 pinned_bytes;	/* ... by the last complete pass */
	u64 large_acc;		/* PTE-mapped large-folio bytes this pass read */
	u64 large_bytes;	/* ... the last complete pass read */
	struct hlist_node hnode;	/* in ctx->mm_hash, by mm */
};

/* Where a walk stands: a slot (1-based) and an address in it. */
struct htier_cursor {
	u32 slot;
	unsigned long addr;
};

struct htier_walk_stats {
	u64 young;		/* pages found accessed (sample walks) */
	u64 ptes;		/* PTEs read */
	u64 pmds_read;		/* PTE tables (or huge PMDs) read */
	u64 pmds_idle;		/* PTE tables skipped: PMD entry not accessed */
	u64 lock_yields;	/* mmap lock given up because a writer waited */
	u64 passes;		/* address spaces walked to their end */
	u64 wraps;		/* passes over every managed address space */
	u64 pages;		/* tracked pages the walk covered */
	u64 tier_pages[NR_HTIER_TIERS];	/* base pages covered, by tier */
	u64 young_pages[NR_HTIER_TIERS];	/* base pages found accessed */
	/* Young slow pages of regions sampled before, now and then. */
	u64 slow_young_now, slow_young_before;
	u64 windows;		/* sampling windows (chunks of the walk) */
	u64 ns;			/* time spent walking */
};

/*
 * The settings: written by sysfs under ctx->lock into ctx->set; the thread
 * copies them into ctx->cur at the start of each round, so a write never
 * waits for a round and a round sees one consistent set.
 */
struct htier_settings {
	bool enabled;
	nodemask_t fast_nodes, slow_nodes;
	u64 quota_bytes;		/* U64_MAX: no limit but capacity */
	u32 scan_interval_ms;
	u32 scan_interval_max_ms;	/* backed off to while placement is stable */
	u32 cooling_period_scans;
	u32 migrate_max_mbps;		/* 0: unlimited */
	u32 migrate_batch_pages;	/* most pages per direction per round */
	u32 abit_window_ms;		/* 0: tuned automatically */
	u32 cpu_permil;			/* tracking + ranking budget */
	u32 cpu_boost_permil;		/* the budget while converging */
	pid_t scope_pids[16];
	u32 nr_scope_pids;		/* 0: every user process */
	struct cgroup *cgroup;		/* scope_cgroup resolved, referenced */
};

struct htier_stats {
	atomic64_t promoted_pages, demoted_pages;
	atomic64_t promote_failed, demote_failed;
	atomic64_t samples, samples_fast, samples_slow;
	atomic64_t rounds, thp_split, migrate_us;
	/* Snapshots the thread publishes each round (read by sysfs). */
	u64 fast_resident_bytes, slow_resident_bytes, other_resident_bytes;
	u64 hot_set_bytes, active_bytes, tracked_pages, managed_processes;
	u64 unmovable_bytes, large_folio_bytes, scope_full;
	u64 last_round_us, last_migrate_us, table_full;
	u64 tracked_regions, table_bytes;
	u64 coverage_permil, thread_cpu_permil, track_us_total;
	u64 cpu_permil_now, boost_ms;
	/* Rounds that triggered the boost, by trigger; pages owed to fast. */
	u64 boost_grew, boost_jumped, boost_moving, boost_owed, owed_pages;
	u64 ptes_scanned, pmds_read, pmds_idle, lock_yields, full_passes;
	u64 sample_windows, aged_rounds, spread_regions;
	u64 histogram[HTIER_NR_BINS];
};

/* Can pages be allocated on @nid now (online, with memory)? */
static inline bool htier_node_has_memory(int nid)
{
	return node_online(nid) && node_state(nid, N_MEMORY);
}

struct htier_ctx {
	/* Serialises settings writes; held briefly (never across a round). */
	struct mutex lock;
	/*
	 * Held by the thread across a round; taken by the few writes that
	 * change what a round runs on (the sampler), after asking the round
	 * to stop early (abort_round).
	 */
	struct mutex round_lock;
	bool abort_round;
	struct task_struct *thread;
	wait_queue_head_t wait;
	bool kick;

	struct htier_settings set;	/* under lock */
	struct htier_settings cur;	/* the thread's copy for this round */
	char scope_cgroup[256];		/* "": no cgroup restriction (lock) */

	/* Under round_lock. */
	enum htier_sampler_id sampler_req;
	enum htier_sampler_id sampler_active;
	const struct htier_sampler_ops *ops;
	char sampler_reason[160];
	u32 pebs_sample_period;
	u32 pebs_cpu_permil;

	/* Thread-owned state. */
	u32 interval_ms;		/* the interval in use */
	u32 abit_window_us;		/* the window in use */
	struct htier_table table;
	struct kmem_cache *region_cache;
	struct htier_mm mms[HTIER_MAX_MMS];
	DECLARE_HASHTABLE(mm_hash, 10);	/* mms by mm pointer */
	u32 free_hint;			/* where to look for a free slot */
	u32 scope_full;			/* in scope this round, no slot */
	struct htier_region *slot_heads[HTIER_MAX_MMS + 1];
	u32 slot_verified[HTIER_MAX_MMS + 1];
	struct htier_cursor cursor;	/* where the next walk starts */
	struct htier_walk_stats walk;	/* this round's */
	u64 budget_ns;			/* this round's tracking budget */
	bool went_round;		/* this round's walk covered everything */
	u32 coverage_permil;		/* share of the tracked pages it covered */
	call_single_data_t __percpu *flush_csd;	/* TLB flush, per CPU */
	u32 passes_since_cool;		/* walk passes since the last cooling */
	u64 samples_since_cool;		/* pebs: samples since then */
	u32 age_rounds;			/* rounds left that age unused pages */
	bool round_aged;		/* this round's sample aged them */
	u32 forced_round;		/* last round the quota moved pages */
	u64 last_quota_pages;		/* the last round's quota */
	s64 credit_ns;			/* CPU budget not yet spent */
	u64 cpu_at_ns, cpu_wall_at_ns;	/* for thread_cpu_permil */
	u32 round;
	u64 last_samples, last_samples_slow;
	u64 pass_samples, pass_samples_slow;	/* this pass's, so far */
	u64 pass_pages, pass_pages_slow;	/* the pages they cover */
	struct htier_shift shift;	/* the hot-set shift detector */
	struct htier_boost boost;	/* the budget's boost while converging */
	u64 last_promoted;		/* base pages the last round promoted */
	bool promote_out_of_room;	/* its promotions found no free page */
	u64 fast_free_now;		/* free fast pages the last round counted */
	u64 fast_free_unusable;		/* of them, what the allocator refused */
	u32 permil_now;			/* this round's budget */
	u64 quota_pages_now;	/* last round's quota: quota_bytes or capacity */
	/* A tier's nodes have no memory now (htier_tiers_have_memory()). */
	bool fast_nodes_gone, slow_nodes_gone;
	/* PEBS: how the residency walk spreads evenly sampled regions. */
	struct htier_spread_params spread;
	u64 *promote_keys, *demote_keys;
	u32 max_keys;

	/* Published for sysfs, under stats_lock. */
	spinlock_t stats_lock;
	struct htier_stats stats;

	struct kobject *kobj;
};

extern struct htier_ctx htier;

/* main.c */
void htier_kick(struct htier_ctx *ctx);
void htier_stop_round(struct htier_ctx *ctx);
void htier_resume_round(struct htier_ctx *ctx);
void htier_count_sample(struct htier_ctx *ctx, enum htier_tier tier);
__printf(2, 3) void htier_set_reason(struct htier_ctx *ctx, const char *fmt, ...);
int htier_select_sampler(struct htier_ctx *ctx, enum htier_sampler_id id);
enum htier_tier htier_node_tier(struct htier_ctx *ctx, int nid);

/* sysfs.c */
int htier_sysfs_init(struct htier_ctx *ctx);
void htier_sysfs_exit(struct htier_ctx *ctx);

/* scope.c */
void htier_scope_refresh(struct htier_ctx *ctx);
void htier_scope_prune(struct htier_ctx *ctx);
void htier_scope_release_all(struct htier_ctx *ctx);
struct mm_struct *htier_scope_get_mm(struct htier_ctx *ctx, u32 slot);
u32 htier_scope_slot_of_tgid(struct htier_ctx *ctx, pid_t tgid);
int htier_scope_set_cgroup(struct htier_ctx *ctx, const char *path);

/* walk.c */
enum htier_walk_mode {
	HTIER_WALK_RESIDENCY,
	HTIER_WALK_CLEAR,
	HTIER_WALK_SAMPLE,
	HTIER_WALK_SAMPLE_CLEAR,
};
bool htier_vma_movable(const struct htier_ctx *ctx, const struct htier_mm *ms,
		       struct vm_area_struct *vma);
int htier_walk_init(struct htier_ctx *ctx);
void htier_walk_exit(struct htier_ctx *ctx);
struct htier_cursor htier_walk_all(struct htier_ctx *ctx,
				   enum htier_walk_mode mode,
				   struct htier_cursor from,
				   struct htier_cursor to, u64 deadline_ns,
				   struct htier_walk_stats *st);

/* migrate.c */
void htier_migrate_round(struct htier_ctx *ctx, const struct htier_plan *plan);

#endif /* HTIER_H */
