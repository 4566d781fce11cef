/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Address-space latency under a busy region, shared by htier_maplat (the
 * benchmark tool) and stall_test: one thread keeps a large anonymous region
 * hot (it reads one word of every page, over and over) while the caller
 * times a loop of mmap + first touch + munmap of a small chunk.  Each of
 * those takes the mmap lock for write (mmap, munmap) or read (the page
 * faults), so anything that holds the lock of this address space for long
 * -- a page-table walker, a migration -- shows up as a long iteration.
 *
 * Static binaries for minimal guests: mbind(2) through syscall(2), no
 * libnuma.
 */
#ifndef HTIER_MAPLAT_H
#define HTIER_MAPLAT_H

#include <sched.h>	/* sched_setaffinity: include with _GNU_SOURCE */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MAPLAT_PAGE		4096UL
#define MAPLAT_MPOL_DEFAULT	0
#define MAPLAT_MPOL_BIND	2
#define MAPLAT_MPOL_MF_STRICT	(1 << 0)
#define MAPLAT_MPOL_MF_MOVE	(1 << 1)

struct maplat_busy {
	char *base;
	size_t bytes;
	pthread_t thread;
	bool running;
	int nice;
	atomic_int stop;
	atomic_ulong passes;
	volatile uint64_t sink;
};

#define MAPLAT_TOP	8

struct maplat_result {
	size_t iterations;
	double p50_us, p99_us, max_us;
	double top_us[MAPLAT_TOP];	/* the longest iterations, longest first */
};

static inline double maplat_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/*
 * Run the calling thread, and the threads it creates from now on (the busy
 * one), on CPU @cpu only.  Returns 0 or -errno.
 */
static inline int maplat_pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

static void *maplat_busy_loop(void *arg)
{
	struct maplat_busy *b = arg;
	uint64_t sum = 0;

	/* Linux: a thread's own nice value, by its tid. */
	if (b->nice)
		setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), b->nice);
	while (!atomic_load_explicit(&b->stop, memory_order_relaxed)) {
		size_t off;

		for (off = 0; off < b->bytes; off += MAPLAT_PAGE)
			sum += *(volatile uint64_t *)(b->base + off +
						      (off / MAPLAT_PAGE % 64) * 64);
		atomic_fetch_add(&b->passes, 1);
	}
	b->sink = sum;
	return NULL;
}

/*
 * Map @bytes of anonymous memory, in 4 KiB pages unless @thp, every page
 * touched; on node @node if @node >= 0 (MPOL_BIND for the first touch, then
 * back to the default policy so that a tiering system may move the pages),
 * and start the thread that keeps it busy, at nice value @nice.  Returns 0
 * or -errno.
 */
static inline int maplat_busy_start(struct maplat_busy *b, size_t bytes,
				    int node, bool thp, int nice)
{
	unsigned long mask[16] = { 0 };
	size_t off;
	int err;

	memset(b, 0, sizeof(*b));
	bytes = (bytes + MAPLAT_PAGE - 1) & ~(MAPLAT_PAGE - 1);
	if (!bytes)
		return 0;
	if (node >= (int)(sizeof(mask) * 8))
		return -EINVAL;
	b->base = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (b->base == MAP_FAILED) {
		b->base = NULL;
		return -errno;
	}
	b->bytes = bytes;
	b->nice = nice;
	madvise(b->base, bytes, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	if (node >= 0) {
		mask[node / 64] = 1UL << (node % 64);
		if (syscall(SYS_mbind, b->base, bytes, MAPLAT_MPOL_BIND, mask,
			    sizeof(mask) * 8,
			    MAPLAT_MPOL_MF_STRICT | MAPLAT_MPOL_MF_MOVE))
			goto fail;
	}
	for (off = 0; off < bytes; off += MAPLAT_PAGE)
		b->base[off] = 1;
	if (node >= 0 &&
	    syscall(SYS_mbind, b->base, bytes, MAPLAT_MPOL_DEFAULT, NULL, 0, 0))
		goto fail;
	err = pthread_create(&b->thread, NULL, maplat_busy_loop, b);
	if (err) {
		errno = err;
		goto fail;
	}
	b->running = true;
	return 0;
fail:
	err = -errno;
	munmap(b->base, bytes);
	b->base = NULL;
	b->bytes = 0;
	return err;
}

static inline void maplat_busy_stop(struct maplat_busy *b)
{
	if (b->running) {
		atomic_store(&b->stop, 1);
		pthread_join(b->thread, NULL);
		b->running = false;
	}
	if (b->base)
		munmap(b->base, b->bytes);
	b->base = NULL;
	b->bytes = 0;
}

static int maplat_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted @v[0..n). */
static inline double maplat_pct(const double *v, size_t n, double pct)
{
	size_t rank;

	if (!n)
		return 0;
	rank = (size_t)(pct / 100.0 * n + 0.999999);
	if (rank < 1)
		rank = 1;
	return v[(rank > n ? n : rank) - 1];
}

/*
 * For @seconds: mmap @chunk bytes, write the first byte of each of its
 * pages, munmap it, timing each iteration.  Fills @r; returns 0 or -errno.
 */
static inline int maplat_loop(size_t chunk, double seconds,
			      struct maplat_result *r)
{
	size_t n = 0, cap = 65536, off;
	double *lat = malloc(cap * sizeof(*lat));
	double t_end = maplat_now_us() + seconds * 1e6, t0, t1;
	int err = 0;

	memset(r, 0, sizeof(*r));
	if (!lat)
		return -ENOMEM;
	chunk = (chunk + MAPLAT_PAGE - 1) & ~(MAPLAT_PAGE - 1);
	do {
		char *p;

		t0 = maplat_now_us();
		p = mmap(NULL, chunk, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			err = -errno;
			break;
		}
		for (off = 0; off < chunk; off += MAPLAT_PAGE)
			((volatile char *)p)[off] = 1;
		if (munmap(p, chunk)) {
			err = -errno;
			break;
		}
		t1 = maplat_now_us();
		if (n == cap) {
			double *q = realloc(lat, 2 * cap * sizeof(*lat));

			if (!q) {
				err = -ENOMEM;
				break;
			}
			lat = q;
			cap *= 2;
		}
		lat[n++] = t1 - t0;
	} while (t1 < t_end);
	qsort(lat, n, sizeof(*lat), maplat_cmp);
	r->iterations = n;
	r->p50_us = maplat_pct(lat, n, 50);
	r->p99_us = maplat_pct(lat, n, 99);
	r->max_us = n ? lat[n - 1] : 0;
	for (off = 0; off < MAPLAT_TOP && off < n; off++)
		r->top_us[off] = lat[n - 1 - off];
	free(lat);
	return err;
}

#endif /* HTIER_MAPLAT_H */
