// SPDX-License-Identifier: GPL-2.0
/*
 * htier-trace, kernel side: sums the htier module's migration batches per
 * process and direction, a log2 histogram of batch latency per direction,
 * and the rounds.  Everything is cumulative; the loader reads deltas, so no
 * event is lost between reads.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "htier_trace.h"
#include "htier_tp.h"

const volatile pid_t targ_tgid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, HTIER_TRACE_MAX_PROCS);
	__type(key, u32);
	__type(value, struct proc_stat);
} procs SEC(".maps");

struct proc_stat totals = {};
struct round_stat rounds = {};
__u64 hist[NR_DIRS][HTIER_TRACE_SLOTS] = {};
__u64 procs_full = 0;

SEC("tracepoint/htier/htier_migrate_batch")
int handle_migrate_batch(struct htier_tp_migrate_batch *ctx)
{
	static const struct proc_stat zero;
	struct proc_stat *st;
	u32 tgid = ctx->tgid, dir = ctx->promote ? DIR_PROMOTE : DIR_DEMOTE;
	u32 slot;

	if (targ_tgid && tgid != targ_tgid)
		return 0;
	__sync_fetch_and_add(&totals.pages[dir], ctx->nr_pages);
	__sync_fetch_and_add(&totals.failed[dir], ctx->nr_failed);
	__sync_fetch_and_add(&totals.batches[dir], 1);

	slot = htier_log2(ctx->duration_ns / 1000);
	if (slot >= HTIER_TRACE_SLOTS)
		slot = HTIER_TRACE_SLOTS - 1;
	__sync_fetch_and_add(&hist[dir][slot], 1);

	st = bpf_map_lookup_elem(&procs, &tgid);
	if (!st) {
		bpf_map_update_elem(&procs, &tgid, &zero, BPF_NOEXIST);
		st = bpf_map_lookup_elem(&procs, &tgid);
		if (!st) {
			__sync_fetch_and_add(&procs_full, 1);
			return 0;
		}
	}
	__sync_fetch_and_add(&st->pages[dir], ctx->nr_pages);
	__sync_fetch_and_add(&st->failed[dir], ctx->nr_failed);
	__sync_fetch_and_add(&st->batches[dir], 1);
	return 0;
}

SEC("tracepoint/htier/htier_round")
int handle_round(struct htier_tp_round *ctx)
{
	/* One htier thread writes these: plain stores suffice. */
	rounds.rounds++;
	rounds.tracked = ctx->tracked;
	rounds.hot_pages = ctx->hot_pages;
	rounds.fast_pages = ctx->fast_pages;
	rounds.quota_pages = ctx->quota_pages;
	rounds.plan_promote += ctx->nr_promote;
	rounds.plan_demote += ctx->nr_demote;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
