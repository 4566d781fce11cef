/* SPDX-License-Identifier: GPL-2.0 */
/* Types shared by htier_slowtop.bpf.c and htier_slowtop.c. */
#ifndef __HTIER_SLOWTOP_H
#define __HTIER_SLOWTOP_H

#define SLOWTOP_MAX_PROCS	10240

/* Per process, cumulative since the tool started. */
struct slow_stat {
	__u64 stalls;		/* waits on a page under migration */
	__u64 stall_ns;		/* time spent in those waits */
	__u64 promoted;		/* pages htier moved up */
	__u64 demoted;		/* pages htier moved down */
};

#endif /* __HTIER_SLOWTOP_H */
