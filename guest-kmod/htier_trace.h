/* SPDX-License-Identifier: GPL-2.0 */
/*
 * htier tracepoints (events/htier/): one event per migration batch, for the
 * bpf/ tools and for ftrace users.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM htier

#if !defined(_HTIER_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _HTIER_TRACE_H

#include <linux/tracepoint.h>

/*
 * htier_migrate_batch - one migrate_vma batch of a process's pages
 * @promote: 1 slow->fast, 0 fast->slow
 * @tgid: the process whose pages moved
 * @nr_pages: base pages moved
 * @nr_failed: base pages that could not be moved
 * @duration_ns: time the batch took
 */
TRACE_EVENT(htier_migrate_batch,
	TP_PROTO(int promote, int tgid, unsigned long start,
		 unsigned int nr_pages, unsigned int nr_failed,
		 u64 duration_ns),
	TP_ARGS(promote, tgid, start, nr_pages, nr_failed, duration_ns),
	TP_STRUCT__entry(
		__field(int, promote)
		__field(int, tgid)
		__field(unsigned long, start)
		__field(unsigned int, nr_pages)
		__field(unsigned int, nr_failed)
		__field(u64, duration_ns)
	),
	TP_fast_assign(
		__entry->promote = promote;
		__entry->tgid = tgid;
		__entry->start = start;
		__entry->nr_pages = nr_pages;
		__entry->nr_failed = nr_failed;
		__entry->duration_ns = duration_ns;
	),
	TP_printk("%s tgid=%d start=0x%lx pages=%u failed=%u ns=%llu",
		  __entry->promote ? "promote" : "demote", __entry->tgid,
		  __entry->start, __entry->nr_pages, __entry->nr_failed,
		  __entry->duration_ns)
);

/*
 * htier_round - one tracking/migration round of the htier thread
 */
TRACE_EVENT(htier_round,
	TP_PROTO(u64 tracked, u64 hot_pages, u64 fast_pages, u64 quota_pages,
		 u64 nr_promote, u64 nr_demote),
	TP_ARGS(tracked, hot_pages, fast_pages, quota_pages, nr_promote,
		nr_demote),
	TP_STRUCT__entry(
		__field(u64, tracked)
		__field(u64, hot_pages)
		__field(u64, fast_pages)
		__field(u64, quota_pages)
		__field(u64, nr_promote)
		__field(u64, nr_demote)
	),
	TP_fast_assign(
		__entry->tracked = tracked;
		__entry->hot_pages = hot_pages;
		__entry->fast_pages = fast_pages;
		__entry->quota_pages = quota_pages;
		__entry->nr_promote = nr_promote;
		__entry->nr_demote = nr_demote;
	),
	TP_printk("tracked=%llu hot=%llu fast=%llu quota=%llu plan_promote=%llu plan_demote=%llu",
		  __entry->tracked, __entry->hot_pages, __entry->fast_pages,
		  __entry->quota_pages, __entry->nr_promote,
		  __entry->nr_demote)
);

#endif /* _HTIER_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE htier_trace
#include <trace/define_trace.h>
