/* SPDX-License-Identifier: GPL-2.0 */
/* Types shared by htier_trace.bpf.c and htier_trace.c. */
#ifndef __HTIER_TRACE_H
#define __HTIER_TRACE_H

#define HTIER_TRACE_MAX_PROCS	10240
#define HTIER_TRACE_SLOTS	32	/* log2(usecs) buckets */

enum { DIR_DEMOTE, DIR_PROMOTE, NR_DIRS };

/* Cumulative since the tool started; userspace takes deltas. */
struct proc_stat {
	__u64 pages[NR_DIRS];
	__u64 failed[NR_DIRS];
	__u64 batches[NR_DIRS];
};

struct round_stat {
	__u64 rounds;
	__u64 tracked, hot_pages, fast_pages, quota_pages;	/* last round */
	__u64 plan_promote, plan_demote;			/* cumulative */
};

#endif /* __HTIER_TRACE_H */
