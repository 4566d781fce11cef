/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the htier selftests: sysfs access, page placement
 * queried independently of the module with move_pages(2), memory binding,
 * and a workload with a hot and a cold part.
 */
#ifndef HTIER_TEST_H
#define HTIER_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define HTIER_SYSFS	"/sys/kernel/mm/htier"
#define PAGE_SZ		4096UL
#define MPOL_BIND_	2
#define MPOL_MF_MOVE_	(1 << 1)

static inline int htier_read(const char *file, char *buf, size_t len)
{
	char path[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), HTIER_SYSFS "/%s", file);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = 0;
	return 0;
}

static inline long long htier_read_ll(const char *file)
{
	char buf[64];

	if (htier_read(file, buf, sizeof(buf)))
		return -1;
	return atoll(buf);
}

/* Returns 0 or -errno of the write. */
static inline int htier_write(const char *file, const char *val)
{
	char path[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), HTIER_SYSFS "/%s", file);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n < 0 ? -errno : 0;
}

static inline int htier_writef(const char *file, const char *fmt, long long v)
{
	char buf[64];

	snprintf(buf, sizeof(buf), fmt, v);
	return htier_write(file, buf);
}

static inline bool htier_loaded(void)
{
	return access(HTIER_SYSFS "/enabled", F_OK) == 0;
}

static inline int nr_memory_nodes(void)
{
	return access("/sys/devices/system/node/node1/meminfo", F_OK) ? 1 : 2;
}

/*
 * Why this machine cannot run a test, or NULL: it needs root, the module
 * loaded and, if @two_nodes, a fast and a slow NUMA node.
 */
static inline const char *htier_unfit(bool two_nodes)
{
	if (getuid())
		return "needs root";
	if (!htier_loaded())
		return "htier module not loaded";
	if (two_nodes && nr_memory_nodes() < 2)
		return "needs a fast and a slow NUMA node";
	return NULL;
}

/* MemFree of @node in bytes, or -1. */
static inline long long node_free_bytes(int node)
{
	char path[96], line[256];
	long long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/meminfo",
		 node);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *p = strstr(line, "MemFree:");

		if (p) {
			kb = atoll(p + strlen("MemFree:"));
			break;
		}
	}
	fclose(f);
	return kb < 0 ? -1 : kb * 1024;
}

static inline double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Node of each page (status from move_pages with nodes == NULL). */
static inline int query_nodes(char *base, size_t npages, int *status)
{
	void **pages = malloc(npages * sizeof(void *));
	size_t i;
	long r;

	for (i = 0; i < npages; i++)
		pages[i] = base + i * PAGE_SZ;
	r = syscall(SYS_move_pages, 0, npages, pages, NULL, status, 0);
	free(pages);
	return r < 0 ? -errno : 0;
}

/* Move pages to @node with move_pages(2); returns pages that moved. */
static inline long move_to_node(char *base, size_t npages, int node)
{
	void **pages = malloc(npages * sizeof(void *));
	int *nodes = malloc(npages * sizeof(int));
	int *status = malloc(npages * sizeof(int));
	size_t i;
	long r, moved = 0;

	for (i = 0; i < npages; i++) {
		pages[i] = base + i * PAGE_SZ;
		nodes[i] = node;
	}
	r = syscall(SYS_move_pages, 0, npages, pages, nodes, status,
		    MPOL_MF_MOVE_);
	for (i = 0; r >= 0 && i < npages; i++)
		moved += status[i] == node;
	free(pages);
	free(nodes);
	free(status);
	return r < 0 ? -errno : moved;
}

/* Anonymous memory whose pages are all allocated on @node. */
static inline char *alloc_on_node(size_t bytes, int node)
{
	unsigned long mask = 1UL << node;
	char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	if (syscall(SYS_mbind, p, bytes, MPOL_BIND_, &mask, 64, 0)) {
		munmap(p, bytes);
		return NULL;
	}
	return p;
}

/*
 * How many of the pages at @base are parts of large folios (compound
 * pages), from /proc/self/pagemap and /proc/kpageflags (root); -1 if those
 * cannot be read.
 */
static inline long large_folio_pages(char *base, size_t npages)
{
	int pm = open("/proc/self/pagemap", O_RDONLY);
	int kf = open("/proc/kpageflags", O_RDONLY);
	long n = 0;
	size_t i;

	if (pm < 0 || kf < 0)
		n = -1;
	for (i = 0; n >= 0 && i < npages; i++) {
		uintptr_t va = (uintptr_t)base + i * PAGE_SZ;
		uint64_t ent, flags, pfn;

		if (pread(pm, &ent, 8, va / PAGE_SZ * 8) != 8) {
			n = -1;
			break;
		}
		pfn = ent & ((1ULL << 55) - 1);
		if (!(ent >> 63) || !pfn)	/* not present, or no pfn shown */
			continue;
		if (pread(kf, &flags, 8, pfn * 8) != 8) {
			n = -1;
			break;
		}
		/* KPF_COMPOUND_HEAD (15), KPF_COMPOUND_TAIL (16) */
		if (flags & (3ULL << 15))
			n++;
	}
	if (pm >= 0)
		close(pm);
	if (kf >= 0)
		close(kf);
	return n;
}

/* Drop the binding so the module may place pages on any node. */
static inline int unbind(char *p, size_t bytes)
{
	return syscall(SYS_mbind, p, bytes, 0 /* MPOL_DEFAULT */, NULL, 0, 0);
}

static inline uint64_t page_pattern(size_t page, size_t word)
{
	uint64_t x = (page + 1) * 0x9E3779B97F4A7C15ULL ^ (word * 0xBF58476D1CE4E5B9ULL);

	return x ^ (x >> 31);
}

static inline void fill_pattern(char *base, size_t npages)
{
	size_t i, w;

	for (i = 0; i < npages; i++) {
		uint64_t *q = (uint64_t *)(base + i * PAGE_SZ);

		for (w = 0; w < PAGE_SZ / 8; w++)
			q[w] = page_pattern(i, w);
	}
}

/* Number of pages whose contents differ from the pattern. */
static inline size_t check_pattern(char *base, size_t npages)
{
	size_t i, w, bad = 0;

	for (i = 0; i < npages; i++) {
		uint64_t *q = (uint64_t *)(base + i * PAGE_SZ);

		for (w = 0; w < PAGE_SZ / 8; w++)
			if (q[w] != page_pattern(i, w)) {
				bad++;
				break;
			}
	}
	return bad;
}

/*
 * A workload: @npages of memory; the pages for which is_hot[i] is set are
 * read continuously by a thread (one word per page per pass), the rest are
 * never touched after the fill.
 */
struct workload {
	char *base;
	size_t npages;
	unsigned char *is_hot;
	size_t nr_hot;
	pthread_t thread;
	atomic_int stop;
	atomic_ulong passes;
	volatile uint64_t sink;
};

static void *workload_hot_loop(void *arg)
{
	struct workload *w = arg;
	uint64_t sum = 0;

	while (!atomic_load(&w->stop)) {
		size_t i;

		for (i = 0; i < w->npages; i++)
			if (w->is_hot[i])
				sum += *(volatile uint64_t *)(w->base + i * PAGE_SZ +
							     (i % 64) * 64);
		atomic_fetch_add(&w->passes, 1);
	}
	w->sink = sum;
	return NULL;
}

static inline int workload_start(struct workload *w)
{
	atomic_store(&w->stop, 0);
	return pthread_create(&w->thread, NULL, workload_hot_loop, w);
}

static inline void workload_stop(struct workload *w)
{
	atomic_store(&w->stop, 1);
	pthread_join(w->thread, NULL);
}

/* Counts of hot pages and of all pages on @node. */
static inline int placement(struct workload *w, int node, size_t *hot_on,
			    size_t *all_on)
{
	int *st = malloc(w->npages * sizeof(int));
	size_t i;
	int err;

	err = query_nodes(w->base, w->npages, st);
	*hot_on = *all_on = 0;
	for (i = 0; !err && i < w->npages; i++) {
		if (st[i] != node)
			continue;
		(*all_on)++;
		if (w->is_hot[i])
			(*hot_on)++;
	}
	free(st);
	return err;
}

/* Set the module up to manage only this process. */
static inline int htier_manage_self(long long quota_bytes)
{
	int err = 0;

	err |= htier_writef("scope_pids", "%lld", getpid());
	err |= htier_write("scan_interval_ms", "200");
	/*
	 * Under QEMU TCG every page-table walk is emulated, 10-50x slower
	 * than on hardware: the default 1% of a CPU would cover a few MiB
	 * per round.  These tests are about placement, not the budget.
	 */
	err |= htier_write("cpu_permil", "1000");
	if (quota_bytes < 0)
		err |= htier_write("quota_bytes", "max");
	else
		err |= htier_writef("quota_bytes", "%lld", quota_bytes);
	err |= htier_write("enabled", "1");
	return err;
}

/* Back to the module's defaults. */
static inline void htier_reset(void)
{
	htier_write("scope_pids", "all");
	htier_write("quota_bytes", "max");
	htier_write("scan_interval_ms", "500");
	htier_write("cpu_permil", "10");
	htier_write("cpu_boost_permil", "100");
	htier_write("abit_window_ms", "0");
	htier_write("enabled", "1");
}

/*
 * The settings a test may change, saved to be put back as they were; files
 * this module version lacks are skipped.
 */
static const char *const htier_saved_files[] = {
	"scope_pids", "quota_bytes", "scan_interval_ms",
	"scan_interval_max_ms", "abit_window_ms", "migrate_batch_pages",
	"cpu_permil", "cpu_boost_permil",
	"enabled",	/* last: restored after the others */
};
#define HTIER_NR_SAVED	(sizeof(htier_saved_files) / sizeof(htier_saved_files[0]))

struct htier_saved {
	bool valid;
	bool have[HTIER_NR_SAVED];
	char val[HTIER_NR_SAVED][128];
};

static inline int htier_save(struct htier_saved *s)
{
	size_t i;
	int err;

	s->valid = false;
	for (i = 0; i < HTIER_NR_SAVED; i++) {
		err = htier_read(htier_saved_files[i], s->val[i],
				 sizeof(s->val[i]));
		if (err && err != -ENOENT)
			return err;
		s->have[i] = !err;
	}
	s->valid = true;
	return 0;
}

/*
 * Put saved settings back: the module stopped first (so no long round
 * runs in between), then every setting, `enabled` last.
 */
static inline void htier_restore(struct htier_saved *s)
{
	size_t i;

	if (!s->valid)
		return;
	htier_write("enabled", "0");
	for (i = 0; i < HTIER_NR_SAVED; i++) {
		const char *v = s->val[i];

		if (!s->have[i])
			continue;
		/* An unrestricted scope reads back empty. */
		if (!strcmp(htier_saved_files[i], "scope_pids") && !v[0])
			v = "all";
		htier_write(htier_saved_files[i], v);
	}
	s->valid = false;
}

#endif /* HTIER_TEST_H */
