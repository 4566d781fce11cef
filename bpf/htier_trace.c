// SPDX-License-Identifier: GPL-2.0
/*
 * htier-trace: what the htier module moves, per interval and per process,
 * and how long its migration batches take, from its tracepoints
 * (htier:htier_migrate_batch, htier:htier_round).
 *
 * The BPF side keeps cumulative counters; each interval prints the deltas,
 * and the end prints the totals over the whole run (equal to the module's
 * stats/promoted_pages and stats/demoted_pages deltas over the same time)
 * and the batch-latency histograms.
 */
#include <argp.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "common.h"
#include "htier_trace.h"
#include "htier_trace.skel.h"

#define TOOL "htier-trace"

static struct env {
	pid_t pid;
	int interval;
	int duration;
	int top;
	bool json;
	bool hist_each;
} env = { .interval = 1, .top = 10 };

const char *argp_program_version = "htier-trace 0.1";
static const char doc[] =
"Trace htier's page migrations: promotions and demotions per interval and\n"
"per process, and a log2 histogram of migration-batch latency.\n"
"\n"
"USAGE: htier-trace [-p PID] [-i SECS] [-d SECS] [-n TOP] [-H] [-j] [-v]\n"
"\n"
"EXAMPLES:\n"
"    htier-trace              # every second until Ctrl-C, then totals\n"
"    htier-trace -p 1234      # only process 1234\n"
"    htier-trace -i 5 -d 60   # 5-second intervals for a minute\n"
"    htier-trace -H           # latency histograms every interval too\n"
"    htier-trace -j           # one JSON object per line\n";

static const struct argp_option opts[] = {
	{ "pid", 'p', "PID", 0, "Trace this process only" },
	{ "interval", 'i', "SECS", 0, "Print every SECS seconds (default 1)" },
	{ "duration", 'd', "SECS", 0, "Stop after SECS seconds (default: Ctrl-C)" },
	{ "top", 'n', "N", 0, "Show the N busiest processes per interval (default 10)" },
	{ "hist", 'H', NULL, 0, "Print latency histograms every interval" },
	{ "json", 'j', NULL, 0, "JSON lines output" },
	{ "verbose", 'v', NULL, 0, "Show libbpf's debug output" },
	{ NULL, 'h', NULL, OPTION_HIDDEN, "Show the full help" },
	{},
};

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 'p': env.pid = htier_parse_num(arg, 1, 1 << 22, state); break;
	case 'i': env.interval = htier_parse_num(arg, 1, 3600, state); break;
	case 'd': env.duration = htier_parse_num(arg, 1, 86400 * 365, state); break;
	case 'n': env.top = htier_parse_num(arg, 1, 10000, state); break;
	case 'H': env.hist_each = true; break;
	case 'j': env.json = true; break;
	case 'v': htier_verbose = true; break;
	case 'h': argp_state_help(state, stderr, ARGP_HELP_STD_HELP); break;
	case ARGP_KEY_ARG: argp_usage(state); break;
	default: return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* Previous cumulative values, to print deltas. */
struct prev_proc {
	__u32 tgid;
	struct proc_stat st;
};

static struct prev_proc *prev;
static size_t nr_prev, cap_prev;
static struct proc_stat prev_totals;
static __u64 prev_rounds;

static struct proc_stat *prev_of(__u32 tgid)
{
	size_t i;

	for (i = 0; i < nr_prev; i++)
		if (prev[i].tgid == tgid)
			return &prev[i].st;
	if (nr_prev == cap_prev) {
		cap_prev = cap_prev ? cap_prev * 2 : 64;
		prev = realloc(prev, cap_prev * sizeof(*prev));
		if (!prev)
			exit(1);
	}
	memset(&prev[nr_prev], 0, sizeof(prev[nr_prev]));
	prev[nr_prev].tgid = tgid;
	return &prev[nr_prev++].st;
}

struct row {
	__u32 tgid;
	struct proc_stat d;
};

static __u64 row_pages(const struct row *r)
{
	return r->d.pages[DIR_PROMOTE] + r->d.pages[DIR_DEMOTE];
}

static int cmp_row(const void *a, const void *b)
{
	__u64 x = row_pages(a), y = row_pages(b);

	return x < y ? 1 : x > y ? -1 : 0;
}

static void sub_stat(struct proc_stat *d, const struct proc_stat *now,
		     const struct proc_stat *then)
{
	int i;

	for (i = 0; i < NR_DIRS; i++) {
		d->pages[i] = now->pages[i] - then->pages[i];
		d->failed[i] = now->failed[i] - then->failed[i];
		d->batches[i] = now->batches[i] - then->batches[i];
	}
}

static void print_hists(FILE *f, struct htier_trace_bpf *obj)
{
	static const char *names[NR_DIRS] = { "demote", "promote" };
	unsigned long long vals[HTIER_TRACE_SLOTS];
	int d, i;

	for (d = NR_DIRS - 1; d >= 0; d--) {
		for (i = 0; i < HTIER_TRACE_SLOTS; i++)
			vals[i] = obj->bss->hist[d][i];
		fprintf(f, "\n%s batch latency:\n", names[d]);
		htier_print_log2_hist(f, vals, HTIER_TRACE_SLOTS, "usecs");
	}
}

static void json_hists(FILE *f, struct htier_trace_bpf *obj)
{
	static const char *names[NR_DIRS] = { "demote", "promote" };
	int d, i, first;

	for (d = NR_DIRS - 1; d >= 0; d--) {
		fprintf(f, ",\"%s_latency_us\":[", names[d]);
		first = 1;
		for (i = 0; i < HTIER_TRACE_SLOTS; i++) {
			__u64 c = obj->bss->hist[d][i];

			if (!c)
				continue;
			fprintf(f, "%s{\"lo\":%llu,\"hi\":%llu,\"count\":%llu}",
				first ? "" : ",", i ? 1ULL << i : 0ULL,
				(1ULL << (i + 1)) - 1, (unsigned long long)c);
			first = 0;
		}
		fprintf(f, "]");
	}
}

static int print_interval(struct htier_trace_bpf *obj, double elapsed)
{
	int fd = bpf_map__fd(obj->maps.procs);
	struct proc_stat tot = obj->bss->totals, dt, st;
	struct row *rows = NULL;
	size_t n = 0, cap = 0, i;
	__u32 key, next, *kp = NULL;
	__u64 rounds = obj->bss->rounds.rounds;
	char clock[16], comm[32];

	while (!bpf_map_get_next_key(fd, kp, &next)) {
		key = next;
		kp = &key;
		if (bpf_map_lookup_elem(fd, &key, &st))
			continue;
		struct proc_stat *p = prev_of(key);
		struct row r = { .tgid = key };

		sub_stat(&r.d, &st, p);
		*p = st;
		if (!row_pages(&r) && !r.d.failed[0] && !r.d.failed[1])
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			rows = realloc(rows, cap * sizeof(*rows));
			if (!rows)
				return -ENOMEM;
		}
		rows[n++] = r;
	}
	qsort(rows, n, sizeof(*rows), cmp_row);
	sub_stat(&dt, &tot, &prev_totals);
	prev_totals = tot;

	htier_clock(clock, sizeof(clock));
	if (env.json) {
		printf("{\"type\":\"interval\",\"time\":%.3f,\"elapsed_s\":%.3f,"
		       "\"promoted_pages\":%llu,\"demoted_pages\":%llu,"
		       "\"promote_failed\":%llu,\"demote_failed\":%llu,"
		       "\"batches\":%llu,\"rounds\":%llu,\"procs\":[",
		       htier_now(), elapsed,
		       (unsigned long long)dt.pages[DIR_PROMOTE],
		       (unsigned long long)dt.pages[DIR_DEMOTE],
		       (unsigned long long)dt.failed[DIR_PROMOTE],
		       (unsigned long long)dt.failed[DIR_DEMOTE],
		       (unsigned long long)(dt.batches[0] + dt.batches[1]),
		       (unsigned long long)(rounds - prev_rounds));
		for (i = 0; i < n && i < (size_t)env.top; i++) {
			htier_comm(rows[i].tgid, comm, sizeof(comm));
			printf("%s{\"pid\":%u,\"comm\":\"%s\",\"promoted\":%llu,"
			       "\"demoted\":%llu,\"failed\":%llu}", i ? "," : "",
			       rows[i].tgid, comm,
			       (unsigned long long)rows[i].d.pages[DIR_PROMOTE],
			       (unsigned long long)rows[i].d.pages[DIR_DEMOTE],
			       (unsigned long long)(rows[i].d.failed[0] + rows[i].d.failed[1]));
		}
		printf("]");
		if (env.hist_each)
			json_hists(stdout, obj);
		printf("}\n");
	} else {
		printf("%s  promoted %llu  demoted %llu pages  failed %llu/%llu  "
		       "batches %llu  rounds %llu\n", clock,
		       (unsigned long long)dt.pages[DIR_PROMOTE],
		       (unsigned long long)dt.pages[DIR_DEMOTE],
		       (unsigned long long)dt.failed[DIR_PROMOTE],
		       (unsigned long long)dt.failed[DIR_DEMOTE],
		       (unsigned long long)(dt.batches[0] + dt.batches[1]),
		       (unsigned long long)(rounds - prev_rounds));
		if (n)
			printf("  %7s %-16s %10s %10s %8s %8s\n", "PID", "COMM",
			       "PROMOTED", "DEMOTED", "FAILED", "BATCHES");
		for (i = 0; i < n && i < (size_t)env.top; i++) {
			htier_comm(rows[i].tgid, comm, sizeof(comm));
			printf("  %7u %-16s %10llu %10llu %8llu %8llu\n",
			       rows[i].tgid, comm,
			       (unsigned long long)rows[i].d.pages[DIR_PROMOTE],
			       (unsigned long long)rows[i].d.pages[DIR_DEMOTE],
			       (unsigned long long)(rows[i].d.failed[0] + rows[i].d.failed[1]),
			       (unsigned long long)(rows[i].d.batches[0] + rows[i].d.batches[1]));
		}
		if (env.hist_each)
			print_hists(stdout, obj);
	}
	prev_rounds = rounds;
	free(rows);
	fflush(stdout);
	return 0;
}

static void print_summary(struct htier_trace_bpf *obj, double elapsed)
{
	struct proc_stat t = obj->bss->totals;
	struct round_stat r = obj->bss->rounds;

	if (env.json) {
		printf("{\"type\":\"summary\",\"elapsed_s\":%.3f,"
		       "\"promoted_pages\":%llu,\"demoted_pages\":%llu,"
		       "\"promote_failed\":%llu,\"demote_failed\":%llu,"
		       "\"promote_batches\":%llu,\"demote_batches\":%llu,"
		       "\"rounds\":%llu,\"last_round\":{\"tracked\":%llu,"
		       "\"hot_pages\":%llu,\"fast_pages\":%llu,\"quota_pages\":%llu},"
		       "\"procs_dropped\":%llu",
		       elapsed,
		       (unsigned long long)t.pages[DIR_PROMOTE],
		       (unsigned long long)t.pages[DIR_DEMOTE],
		       (unsigned long long)t.failed[DIR_PROMOTE],
		       (unsigned long long)t.failed[DIR_DEMOTE],
		       (unsigned long long)t.batches[DIR_PROMOTE],
		       (unsigned long long)t.batches[DIR_DEMOTE],
		       (unsigned long long)r.rounds,
		       (unsigned long long)r.tracked,
		       (unsigned long long)r.hot_pages,
		       (unsigned long long)r.fast_pages,
		       (unsigned long long)r.quota_pages,
		       (unsigned long long)obj->bss->procs_full);
		json_hists(stdout, obj);
		printf("}\n");
	} else {
		printf("\ntotal over %.1f s: promoted %llu pages in %llu batches, "
		       "demoted %llu pages in %llu batches, failed %llu/%llu, "
		       "%llu rounds\n", elapsed,
		       (unsigned long long)t.pages[DIR_PROMOTE],
		       (unsigned long long)t.batches[DIR_PROMOTE],
		       (unsigned long long)t.pages[DIR_DEMOTE],
		       (unsigned long long)t.batches[DIR_DEMOTE],
		       (unsigned long long)t.failed[DIR_PROMOTE],
		       (unsigned long long)t.failed[DIR_DEMOTE],
		       (unsigned long long)r.rounds);
		if (r.rounds)
			printf("last round: tracked %llu  hot %llu  fast %llu  quota %llu pages\n",
			       (unsigned long long)r.tracked,
			       (unsigned long long)r.hot_pages,
			       (unsigned long long)r.fast_pages,
			       (unsigned long long)r.quota_pages);
		print_hists(stdout, obj);
	}
	fflush(stdout);
}

int main(int argc, char **argv)
{
	static const struct argp argp = {
		.options = opts, .parser = parse_arg, .doc = doc,
	};
	struct htier_trace_bpf *obj = NULL;
	double t0, last, now;
	int err;

	err = argp_parse(&argp, argc, argv, 0, NULL, NULL);
	if (err)
		return 2;
	libbpf_set_print(htier_libbpf_print);
	if (htier_check_module(TOOL))
		return 1;

	obj = htier_trace_bpf__open();
	if (!obj) {
		htier_explain_bpf_error(TOOL, "opening the BPF object", errno);
		return 1;
	}
	obj->rodata->targ_tgid = env.pid;
	err = htier_trace_bpf__load(obj);
	if (err) {
		htier_explain_bpf_error(TOOL, "loading BPF programs", err);
		goto cleanup;
	}
	err = htier_trace_bpf__attach(obj);
	if (err) {
		htier_explain_bpf_error(TOOL, "attaching to htier tracepoints", err);
		goto cleanup;
	}
	htier_setup_signals();
	fprintf(stderr, "Tracing htier migrations%s... Hit Ctrl-C to end.\n",
		env.pid ? " of one process" : "");

	t0 = last = htier_now();
	while (!htier_exiting) {
		usleep(50000);
		now = htier_now();
		if (env.duration && now - t0 >= env.duration)
			break;
		if (now - last >= env.interval) {
			print_interval(obj, now - last);
			last = now;
		}
	}
	now = htier_now();
	if (now - last >= 0.05)
		print_interval(obj, now - last);
	print_summary(obj, now - t0);
	err = 0;

cleanup:
	htier_trace_bpf__destroy(obj);
	free(prev);
	return err ? 1 : 0;
}
