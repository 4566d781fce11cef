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

/* Find the slot of @mm, or take a free one. Called with RCU read lock. */
static void htier_scope_note(struct htier_ctx *ctx, struct task_struct *p)
{
	struct mm_struct *mm;
	int i, free = -1;

	task_lock(p);
	mm = p->mm;
	if (!mm || (p->flags & PF_KTHREAD)) {
		task_unlock(p);
		return;
	}
	for (i = 0; i < HTIER_MAX_MMS; i++) {
		if (ctx->mms[i].mm == mm) {
			ctx->mms[i].round = ctx->round;
			htier_task_allowed(p, &ctx->mms[i].allowed);
			task_unlock(p);
			return;
		}
		if (!ctx->mms[i].mm && free < 0)
			free = i;
	}
	if (free >= 0) {
		mmgrab(mm);
		memset(&ctx->mms[free], 0, sizeof(ctx->mms[free]));
		ctx->mms[free].mm = mm;
		ctx->mms[free].tgid = p->tgid;
		ctx->mms[free].round = ctx->round;
		htier_task_allowed(p, &ctx->mms[free].allowed);
	}
	task_unlock(p);
}

/**
 * htier_scope_refresh() - bring the managed set up to date
 * @ctx: the module context, lock held
 */
void htier_scope_refresh(struct htier_ctx *ctx)
{
	struct task_struct *p;
	u64 nr = 0, pinned = 0;
	u32 i;

	ctx->round++;
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
		}
	}
	spin_lock(&ctx->stats_lock);
	ctx->stats.managed_processes = nr;
	ctx->stats.unmovable_bytes = pinned;
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
