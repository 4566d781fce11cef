// SPDX-License-Identifier: GPL-2.0
/*
 * htier scope: which address spaces are managed.  Every user process by
 * default; restricted to a pid list (scope_pids) and/or a cgroup v2 subtree
 * (scope_cgroup).  Each managed mm gets a slot whose number is part of the
 * hotness table's keys; a slot is released, and its pages forgotten, as soon
 * as its process leaves the scope or exits.
 */
#define pr_fmt(fmt) "htier: " fmt

#include <linux/cgroup.h>
#include <linux/hashtable.h>
#include <linux/mempolicy.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include "htier.h"

static bool htier_task_in_scope(struct htier_ctx *ctx, struct task_struct *p)
{
	u32 i;

	if (ctx->cur.cgroup && !task_under_cgroup_hierarchy(p, ctx->cur.cgroup))
		return false;
	if (!ctx->cur.nr_scope_pids)
		return true;
	for (i = 0; i < ctx->cur.nr_scope_pids; i++)
		if (ctx->cur.scope_pids[i] == p->tgid)
			return true;
	return false;
}

/* Costs the address space's own regions, not a sweep of the table. */
static void htier_scope_release(struct htier_ctx *ctx, u32 i)
{
	hash_del(&ctx->mms[i].hnode);
	htier_table_drop_slot(&ctx->table, i + 1);
	mmdrop(ctx->mms[i].mm);
	memset(&ctx->mms[i], 0, sizeof(ctx->mms[i]));
	ctx->slot_verified[i + 1] = 0;
}

/*
 * The nodes @p's memory may be on: its cpuset's mems and, under a binding
 * task policy (set_mempolicy() other than MPOL_DEFAULT or MPOL_LOCAL), the
 * policy's nodes.  The thread group leader's: other threads' own policies
 * are not looked at.  task_lock held.
 */
static void htier_task_allowed(struct task_struct *p, nodemask_t *allowed)
{
	struct mempolicy *pol = p->mempolicy;

	*allowed = p->mems_allowed;
	if (pol && pol->mode != MPOL_DEFAULT && pol->mode != MPOL_LOCAL)
		nodes_and(*allowed, *allowed, pol->nodes);
}

/* The slot of @mm, or NULL: a hash lookup, not a scan of the slots. */
static struct htier_mm *htier_scope_find(struct htier_ctx *ctx,
					 struct mm_struct *mm)
{
	struct htier_mm *ms;

	hash_for_each_possible(ctx->mm_hash, ms, hnode, (unsigned long)mm)
		if (ms->mm == mm)
			return ms;
	return NULL;
}

/* A free slot, searched from where the last one was found, or NULL. */
static struct htier_mm *htier_scope_free_slot(struct htier_ctx *ctx)
{
	u32 n;

	for (n = 0; n < HTIER_MAX_MMS; n++) {
		u32 i = (ctx->free_hint + n) % HTIER_MAX_MMS;

		if (!ctx->mms[i].mm) {
			ctx->free_hint = i + 1;
			return &ctx->mms[i];
		}
	}
	return NULL;
}

/*
 * Note @p's mm as in scope this round, taking a free slot for a new one.
 * The mm of any live thread: a process whose thread group leader exited
 * (a zombie leader has no mm) keeps running in its other threads.  Called
 * with RCU read lock.
 */
static void htier_scope_note(struct htier_ctx *ctx, struct task_struct *p)
{
	struct task_struct *t;
	struct htier_mm *ms;
	struct mm_struct *mm = NULL;

	for_each_thread(p, t) {
		task_lock(t);
		mm = t->mm;
		if (mm)
			break;
		task_unlock(t);
	}
	if (!mm)
		return;
	ms = htier_scope_find(ctx, mm);
	if (!ms) {
		ms = htier_scope_free_slot(ctx);
		if (!ms) {
			ctx->scope_full++;
			task_unlock(t);
			return;
		}
		mmgrab(mm);
		memset(ms, 0, sizeof(*ms));
		ms->mm = mm;
		ms->tgid = p->tgid;
		hash_add(ctx->mm_hash, &ms->hnode, (unsigned long)mm);
	}
	ms->round = ctx->round;
	htier_task_allowed(t, &ms->allowed);
	task_unlock(t);
}

/**
 * htier_scope_refresh() - bring the managed set up to date
 * @ctx: the module context, lock held
 */
void htier_scope_refresh(struct htier_ctx *ctx)
{
	struct task_struct *p;
	u64 nr = 0, pinned = 0, large = 0;
	u32 i;

	ctx->round++;
	ctx->scope_full = 0;
	rcu_read_lock();
	for_each_process(p) {
		if (p->flags & PF_KTHREAD)
			continue;
		if (htier_task_in_scope(ctx, p))
			htier_scope_note(ctx, p);
	}
	rcu_read_unlock();

	for (i = 0; i < HTIER_MAX_MMS; i++) {
		if (!ctx->mms[i].mm)
			continue;
		if (ctx->mms[i].round != ctx->round) {
			htier_scope_release(ctx, i);
		} else {
			nr++;
			pinned += ctx->mms[i].pinned_bytes;
			large += ctx->mms[i].large_bytes;
		}
	}
	spin_lock(&ctx->stats_lock);
	ctx->stats.managed_processes = nr;
	ctx->stats.unmovable_bytes = pinned;
	ctx->stats.large_folio_bytes = large;
	ctx->stats.scope_full = ctx->scope_full;
	spin_unlock(&ctx->stats_lock);
}

/**
 * htier_scope_prune() - forget the address spaces of exited processes
 * @ctx: the module context, round_lock held
 *
 * While htier is disabled no round refreshes the scope; this lets the
 * slots of processes that exited go (and their mm_structs, which the
 * slots hold with mmgrab()).  1024 slot checks, no task list walk.
 */
void htier_scope_prune(struct htier_ctx *ctx)
{
	u64 nr = 0;
	u32 i;

	for (i = 0; i < HTIER_MAX_MMS; i++) {
		if (!ctx->mms[i].mm)
			continue;
		if (!atomic_read(&ctx->mms[i].mm->mm_users))
			htier_scope_release(ctx, i);
		else
			nr++;
	}
	spin_lock(&ctx->stats_lock);
	ctx->stats.managed_processes = nr;
	spin_unlock(&ctx->stats_lock);
}

/**
 * htier_scope_release_all() - forget every managed address space
 * @ctx: the module context
 */
void htier_scope_release_all(struct htier_ctx *ctx)
{
	u32 i;

	for (i = 0; i < HTIER_MAX_MMS; i++)
		if (ctx->mms[i].mm)
			htier_scope_release(ctx, i);
}

/**
 * htier_scope_get_mm() - the live mm of a slot
 * @ctx: the module context
 * @slot: a table slot id (1-based)
 *
 * Return: the mm with a user reference (mmput() it), or NULL if the slot is
 * free or its process has exited.
 */
struct mm_struct *htier_scope_get_mm(struct htier_ctx *ctx, u32 slot)
{
	struct mm_struct *mm;

	if (!slot || slot > HTIER_MAX_MMS)
		return NULL;
	mm = ctx->mms[slot - 1].mm;
	if (!mm || !mmget_not_zero(mm))
		return NULL;
	return mm;
}

/**
 * htier_scope_slot_of_tgid() - the slot of a managed process
 * @ctx: the module context
 * @tgid: the process id
 *
 * Return: the slot id (1-based), or 0 if the process is not managed.
 */
u32 htier_scope_slot_of_tgid(struct htier_ctx *ctx, pid_t tgid)
{
	u32 i;

	for (i = 0; i < HTIER_MAX_MMS; i++)
		if (ctx->mms[i].mm && ctx->mms[i].tgid == tgid)
			return i + 1;
	return 0;
}

/**
 * htier_scope_set_cgroup() - restrict the scope to a cgroup v2 subtree
 * @ctx: the module context, lock held (takes effect from the next round)
 * @path: the cgroup's path relative to the cgroup2 root, "" for none
 *
 * Return: 0, or -ENOENT / -EINVAL (not a cgroup v2 path); nothing changes on
 * error.
 */
int htier_scope_set_cgroup(struct htier_ctx *ctx, const char *path)
{
	struct cgroup *cgrp = NULL;

	if (strlen(path) >= sizeof(ctx->scope_cgroup))
		return -ERANGE;
	if (*path) {
		if (*path != '/')
			return -EINVAL;
		cgrp = cgroup_get_from_path(path);
		if (IS_ERR(cgrp))
			return PTR_ERR(cgrp);
	}
	if (ctx->set.cgroup)
		cgroup_put(ctx->set.cgroup);
	ctx->set.cgroup = cgrp;
	strscpy(ctx->scope_cgroup, path, sizeof(ctx->scope_cgroup));
	return 0;
}
