// SPDX-License-Identifier: GPL-2.0
/*
 * htier-slowtop: who lives on slow memory, and who pays for tiering.
 *
 * Every interval, per process: its resident pages on htier's fast and slow
 * nodes (/proc/PID/numa_maps, node sets from /sys/kernel/mm/htier), the
 * pages htier promoted and demoted for it, and how often and how long its
 * threads stalled on a page htier was moving (BPF, see htier_slowtop.bpf.c).
 * Sorted by slow-resident memory, busiest first.
 */
#include <argp.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "common.h"
#include "htier_slowtop.h"
#include "htier_slowtop.skel.h"

#define TOOL "htier-slowtop"
#define MAX_NODES 1024

static struct env {
	pid_t pid;
	int interval;
	int duration;
	int count;
	int top;
	bool json;
	bool stall_sort;
} env = { .interval = 2, .top = 20 };

const char *argp_program_version = "htier-slowtop 0.1";
static const char doc[] =
"Show which processes have memory on htier's slow nodes, how much htier\n"
"moved for them, and how long they stalled on pages being migrated.\n"
"\n"
"USAGE: htier-slowtop [-p PID] [-i SECS] [-d SECS] [-c COUNT] [-n TOP] [-s] [-j] [-v]\n"
"\n"
"EXAMPLES:\n"
"    htier-slowtop            # every 2 s until Ctrl-C\n"
"    htier-slowtop -p 1234    # one process\n"
"    htier-slowtop -s         # sort by migration stall time\n"
"    htier-slowtop -c 1 -j    # one JSON snapshot and exit\n";

static const struct argp_option opts[] = {
	{ "pid", 'p', "PID", 0, "Show this process only" },
	{ "interval", 'i', "SECS", 0, "Refresh every SECS seconds (default 2)" },
	{ "duration", 'd', "SECS", 0, "Stop after SECS seconds" },
	{ "count", 'c', "N", 0, "Stop after N reports" },
	{ "top", 'n', "N", 0, "Show at most N processes (default 20)" },
	{ "stalls", 's', NULL, 0, "Sort by stall time instead of slow memory" },
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
	case 'c': env.count = htier_parse_num(arg, 1, 1000000, state); break;
	case 'n': env.top = htier_parse_num(arg, 1, 100000, state); break;
	case 's': env.stall_sort = true; break;
	case 'j': env.json = true; break;
	case 'v': htier_verbose = true; break;
	case 'h': argp_state_help(state, stderr, ARGP_HELP_STD_HELP); break;
	case ARGP_KEY_ARG: argp_usage(state); break;
	default: return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* Node sets, from the module's fast_nodes / slow_nodes ("0", "1-2,4"). */
static bool fast_node[MAX_NODES], slow_node[MAX_NODES];

static int read_nodelist(const char *file, bool *set)
{
	char path[128], buf[256], *p;
	FILE *f;

	snprintf(path, sizeof(path), HTIER_SYSFS "/%s", file);
	f = fopen(path, "r");
	if (!f || !fgets(buf, sizeof(buf), f)) {
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	memset(set, 0, MAX_NODES * sizeof(*set));
	for (p = strtok(buf, ",\n"); p; p = strtok(NULL, ",\n")) {
		int a, b;

		if (sscanf(p, "%d-%d", &a, &b) != 2)
			b = a = atoi(p);
		for (; a <= b && a < MAX_NODES; a++)
			if (a >= 0)
				set[a] = true;
	}
	return 0;
}

struct proc_row {
	int pid;
	unsigned long long fast_pages, slow_pages;
	struct slow_stat d;	/* interval deltas */
};

/* Sum N<node>=<pages> of every mapping, in base pages. */
static int numa_pages(int pid, unsigned long long *fast, unsigned long long *slow)
{
	char path[64], line[4096];
	FILE *f;

	*fast = *slow = 0;
	snprintf(path, sizeof(path), "/proc/%d/numa_maps", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long per[16] = {};
		int nodes[16], n = 0, i;
		unsigned long kb = 4;
		char *tok, *save;

		for (tok = strtok_r(line, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save)) {
			if (tok[0] == 'N' && isdigit((unsigned char)tok[1]) && n < 16) {
				char *eq = strchr(tok, '=');

				if (!eq)
					continue;
				nodes[n] = atoi(tok + 1);
				per[n++] = strtoull(eq + 1, NULL, 10);
			} else if (!strncmp(tok, "kernelpagesize_kB=", 18)) {
				kb = strtoul(tok + 18, NULL, 10);
			}
		}
		for (i = 0; i < n; i++) {
			unsigned long long pages = per[i] * (kb / 4 ? kb / 4 : 1);

			if (nodes[i] < 0 || nodes[i] >= MAX_NODES)
				continue;
			if (slow_node[nodes[i]])
				*slow += pages;
			else if (fast_node[nodes[i]])
				*fast += pages;
		}
	}
	fclose(f);
	return 0;
}

/* Previous cumulative BPF values per pid, for deltas. */
struct prev { __u32 pid; struct slow_stat st; };
static struct prev *prevs;
static size_t nr_prevs, cap_prevs;

static struct slow_stat *prev_of(__u32 pid)
{
	size_t i;

	for (i = 0; i < nr_prevs; i++)
		if (prevs[i].pid == pid)
			return &prevs[i].st;
	if (nr_prevs == cap_prevs) {
		cap_prevs = cap_prevs ? cap_prevs * 2 : 64;
		prevs = realloc(prevs, cap_prevs * sizeof(*prevs));
		if (!prevs)
			exit(1);
	}
	memset(&prevs[nr_prevs], 0, sizeof(prevs[0]));
	prevs[nr_prevs].pid = pid;
	return &prevs[nr_prevs++].st;
}

static struct proc_row *rows;
static size_t nr_rows, cap_rows;

static struct proc_row *row_of(int pid)
{
	size_t i;

	for (i = 0; i < nr_rows; i++)
		if (rows[i].pid == pid)
			return &rows[i];
	if (nr_rows == cap_rows) {
		cap_rows = cap_rows ? cap_rows * 2 : 128;
		rows = realloc(rows, cap_rows * sizeof(*rows));
		if (!rows)
			exit(1);
	}
	memset(&rows[nr_rows], 0, sizeof(rows[0]));
	rows[nr_rows].pid = pid;
	return &rows[nr_rows++];
}

static int cmp_rows(const void *a, const void *b)
{
	const struct proc_row *x = a, *y = b;
	unsigned long long kx = env.stall_sort ? x->d.stall_ns : x->slow_pages;
	unsigned long long ky = env.stall_sort ? y->d.stall_ns : y->slow_pages;

	if (kx != ky)
		return kx < ky ? 1 : -1;
	return x->pid - y->pid;
}

static void collect(struct htier_slowtop_bpf *obj)
{
	int fd = bpf_map__fd(obj->maps.procs);
	__u32 key, next, *kp = NULL;
	struct slow_stat st;
	struct dirent *de;
	DIR *d;

	nr_rows = 0;
	read_nodelist("fast_nodes", fast_node);
	read_nodelist("slow_nodes", slow_node);
	if (env.pid) {
		struct proc_row *r = row_of(env.pid);

		numa_pages(env.pid, &r->fast_pages, &r->slow_pages);
	} else if ((d = opendir("/proc"))) {
		while ((de = readdir(d))) {
			unsigned long long fast, slow;
			int pid = atoi(de->d_name);

			if (pid <= 0 || numa_pages(pid, &fast, &slow) || !(fast + slow))
				continue;
			struct proc_row *r = row_of(pid);

			r->fast_pages = fast;
			r->slow_pages = slow;
		}
		closedir(d);
	}
	while (!bpf_map_get_next_key(fd, kp, &next)) {
		struct slow_stat *p;
		struct proc_row *r;

		key = next;
		kp = &key;
		if (bpf_map_lookup_elem(fd, &key, &st))
			continue;
		p = prev_of(key);
		if (st.stalls == p->stalls && st.promoted == p->promoted &&
		    st.demoted == p->demoted) {
			*p = st;
			continue;
		}
		r = row_of(key);
		r->d.stalls = st.stalls - p->stalls;
		r->d.stall_ns = st.stall_ns - p->stall_ns;
		r->d.promoted = st.promoted - p->promoted;
		r->d.demoted = st.demoted - p->demoted;
		*p = st;
	}
	qsort(rows, nr_rows, sizeof(*rows), cmp_rows);
}

static void report(double elapsed)
{
	char clock[16], comm[32];
	size_t i, n = nr_rows < (size_t)env.top ? nr_rows : (size_t)env.top;

	if (env.json) {
		printf("{\"type\":\"slowtop\",\"time\":%.3f,\"elapsed_s\":%.3f,\"procs\":[",
		       htier_now(), elapsed);
		for (i = 0; i < n; i++) {
			struct proc_row *r = &rows[i];

			htier_comm(r->pid, comm, sizeof(comm));
			printf("%s{\"pid\":%d,\"comm\":\"%s\",\"fast_pages\":%llu,"
			       "\"slow_pages\":%llu,\"promoted\":%llu,\"demoted\":%llu,"
			       "\"stalls\":%llu,\"stall_us\":%llu}", i ? "," : "",
			       r->pid, comm, r->fast_pages, r->slow_pages,
			       (unsigned long long)r->d.promoted,
			       (unsigned long long)r->d.demoted,
			       (unsigned long long)r->d.stalls,
			       (unsigned long long)(r->d.stall_ns / 1000));
		}
		printf("]}\n");
		fflush(stdout);
		return;
	}
	htier_clock(clock, sizeof(clock));
	printf("%s  (last %.1f s; FAST/SLOW resident MiB, moved pages, stalls on pages in migration)\n",
	       clock, elapsed);
	printf("%7s %-16s %9s %9s %6s %9s %9s %7s %9s\n", "PID", "COMM", "FAST",
	       "SLOW", "SLOW%", "PROMOTED", "DEMOTED", "STALLS", "STALL-ms");
	for (i = 0; i < n; i++) {
		struct proc_row *r = &rows[i];
		unsigned long long tot = r->fast_pages + r->slow_pages;

		htier_comm(r->pid, comm, sizeof(comm));
		printf("%7d %-16s %9.1f %9.1f %5.1f%% %9llu %9llu %7llu %9.2f\n",
		       r->pid, comm, r->fast_pages / 256.0, r->slow_pages / 256.0,
		       tot ? 100.0 * r->slow_pages / tot : 0.0,
		       (unsigned long long)r->d.promoted,
		       (unsigned long long)r->d.demoted,
		       (unsigned long long)r->d.stalls, r->d.stall_ns / 1e6);
	}
	printf("\n");
	fflush(stdout);
}

/* fentry/fexit, else kprobe/kretprobe (no BPF trampoline on this kernel). */
static struct htier_slowtop_bpf *open_and_load(bool use_fentry, int *errp)
{
	struct htier_slowtop_bpf *obj = htier_slowtop_bpf__open();
	int err;

	if (!obj) {
		*errp = -errno;
		return NULL;
	}
	obj->rodata->targ_tgid = env.pid;
	bpf_program__set_autoload(obj->progs.wait_fentry, use_fentry);
	bpf_program__set_autoload(obj->progs.wait_fexit, use_fentry);
	bpf_program__set_autoload(obj->progs.wait_kprobe, !use_fentry);
	bpf_program__set_autoload(obj->progs.wait_kretprobe, !use_fentry);
	err = htier_slowtop_bpf__load(obj);
	if (!err)
		err = htier_slowtop_bpf__attach(obj);
	if (err) {
		htier_slowtop_bpf__destroy(obj);
		*errp = err;
		return NULL;
	}
	return obj;
}

int main(int argc, char **argv)
{
	static const struct argp argp = {
		.options = opts, .parser = parse_arg, .doc = doc,
	};
	struct htier_slowtop_bpf *obj;
	double t0, last, now;
	int err = 0, reports = 0;

	err = argp_parse(&argp, argc, argv, 0, NULL, NULL);
	if (err)
		return 2;
	libbpf_set_print(htier_libbpf_print);
	if (htier_check_module(TOOL))
		return 1;

	obj = open_and_load(true, &err);
	if (!obj && err != -EPERM && err != -EACCES) {
		if (htier_verbose)
			fprintf(stderr, "%s: fentry unavailable (%d), using kprobes\n", TOOL, err);
		obj = open_and_load(false, &err);
	}
	if (!obj) {
		htier_explain_bpf_error(TOOL, "loading and attaching BPF programs", err);
		return 1;
	}
	htier_setup_signals();
	fprintf(stderr, "Watching htier's slow memory... Hit Ctrl-C to end.\n");

	t0 = last = htier_now();
	while (!htier_exiting) {
		usleep(50000);
		now = htier_now();
		if (now - last >= env.interval) {
			collect(obj);
			report(now - last);
			last = now;
			if (env.count && ++reports >= env.count)
				break;
		}
		if (env.duration && now - t0 >= env.duration)
			break;
	}
	htier_slowtop_bpf__destroy(obj);
	free(rows);
	free(prevs);
	return 0;
}
