// SPDX-License-Identifier: GPL-2.0
/*
 * htier-slowtop, kernel side: per process, how often and how long its
 * threads wait on a page that is being migrated (a fault on a migration
 * entry sleeps in migration_entry_wait_on_locked() until the move is done:
 * the direct cost of tiering to a tenant), and how many of its pages htier
 * moved (htier:htier_migrate_batch).  Where the pages are comes from
 * /proc/PID/numa_maps in the loader.
 *
 * The wait is timed with fentry/fexit, or kprobe/kretprobe where BPF
 * trampolines are unavailable; the loader picks at run time.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "htier_slowtop.h"
#include "htier_tp.h"

const volatile pid_t targ_tgid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SLOWTOP_MAX_PROCS);
	__type(key, u32);
	__type(value, struct slow_stat);
} procs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SLOWTOP_MAX_PROCS);
	__type(key, u32);	/* thread id */
	__type(value, u64);	/* wait start, ns */
} start SEC(".maps");

static struct slow_stat *proc_stat(u32 tgid)
{
	static const struct slow_stat zero;
	struct slow_stat *st = bpf_map_lookup_elem(&procs, &tgid);

	if (st)
		return st;
	bpf_map_update_elem(&procs, &tgid, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&procs, &tgid);
}

static int wait_enter(void)
{
	u64 id = bpf_get_current_pid_tgid(), ts = bpf_ktime_get_ns();
	u32 tid = id;

	if (targ_tgid && (id >> 32) != targ_tgid)
		return 0;
	bpf_map_update_elem(&start, &tid, &ts, BPF_ANY);
	return 0;
}

static int wait_exit(void)
{
	u64 id = bpf_get_current_pid_tgid();
	u32 tid = id, tgid = id >> 32;
	struct slow_stat *st;
	u64 *ts = bpf_map_lookup_elem(&start, &tid);

	if (!ts)
		return 0;
	st = proc_stat(tgid);
	if (st) {
		__sync_fetch_and_add(&st->stalls, 1);
		__sync_fetch_and_add(&st->stall_ns, bpf_ktime_get_ns() - *ts);
	}
	bpf_map_delete_elem(&start, &tid);
	return 0;
}

SEC("fentry/migration_entry_wait_on_locked")
int BPF_PROG(wait_fentry)
{
	return wait_enter();
}

SEC("fexit/migration_entry_wait_on_locked")
int BPF_PROG(wait_fexit)
{
	return wait_exit();
}

SEC("kprobe/migration_entry_wait_on_locked")
int BPF_KPROBE(wait_kprobe)
{
	return wait_enter();
}

SEC("kretprobe/migration_entry_wait_on_locked")
int BPF_KRETPROBE(wait_kretprobe)
{
	return wait_exit();
}

SEC("tracepoint/htier/htier_migrate_batch")
int handle_migrate_batch(struct htier_tp_migrate_batch *ctx)
{
	struct slow_stat *st;

	if (targ_tgid && ctx->tgid != targ_tgid)
		return 0;
	st = proc_stat(ctx->tgid);
	if (!st)
		return 0;
	if (ctx->promote)
		__sync_fetch_and_add(&st->promoted, ctx->nr_pages);
	else
		__sync_fetch_and_add(&st->demoted, ctx->nr_pages);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
