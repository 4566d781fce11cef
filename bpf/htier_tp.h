/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The htier module's tracepoint records as a BPF "tracepoint/" program sees
 * them (guest-kmod/htier_trace.h; cross-check with
 * /sys/kernel/tracing/events/htier/NAME/format).  htier.ko carries no BTF
 * of its own, so these are plain structs, not CO-RE types: the TP_STRUCT
 * layout after the 8 bytes of common fields is the ABI.
 */
#ifndef __HTIER_TP_H
#define __HTIER_TP_H

struct htier_tp_migrate_batch {
	__u64 common;		/* common_type, _flags, _preempt_count, _pid */
	int promote;		/* 1 slow->fast, 0 fast->slow */
	int tgid;
	unsigned long start;
	unsigned int nr_pages;
	unsigned int nr_failed;
	__u64 duration_ns;
};

struct htier_tp_round {
	__u64 common;
	__u64 tracked;
	__u64 hot_pages;
	__u64 fast_pages;
	__u64 quota_pages;
	__u64 nr_promote;
	__u64 nr_demote;
};

static __always_inline __u32 htier_log2(__u64 v)
{
	__u32 r = 0;

	while (v > 1 && r < 63) {
		v >>= 1;
		r++;
	}
	return r;
}

#endif /* __HTIER_TP_H */
