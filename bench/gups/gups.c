// SPDX-License-Identifier: GPL-2.0
/*
 * gups: random 8-byte updates over a memory region in which a hot subset
 * gets W times the updates of the rest — the workload HeMem, Memtis and
 * HyperTier/Demeter measure tiering with — and, once a second, how well the
 * memory is placed: the fraction of the hot pages on the fast node and the
 * share of updates that hit the fast node, both measured by gups itself with
 * move_pages(2) status queries, not taken from the tiering system.
 *
 * Runs as a static binary in minimal guests, so it calls mbind(2) and
 * move_pages(2) through syscall(2) instead of linking libnuma.
 *
 * Models (the trace-driven simulator, bench/sim, implements the same ones):
 *   hotset     the hot set is one contiguous range of pages
 *   scattered  the hot set is single 4 KiB pages spread over the region
 *   uniform    every page equally likely (the whole region is the "hot set")
 *   zipf       page popularity follows a Zipf law (pages scattered); the
 *              hot set is the most popular --hot bytes
 * --shift-at moves the hot set to other pages (the next --hot bytes in the
 * model's page order) at the given second.  --reset-on-sigusr1 moves the
 * whole region back to --bind-node whenever gups gets SIGUSR1 (and
 * --reset-modes may switch the model at the same time), so that one touched
 * region can serve several runs of a tiering system (bench/vm/cost.py).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define PAGE_SIZE	4096UL
#define WORDS_PER_PAGE	(PAGE_SIZE / sizeof(uint64_t))
#define UPDATE_BATCH	4096

/* From <numaif.h>, which would need libnuma-dev. */
#define MPOL_DEFAULT	0
#define MPOL_BIND	2
#define MPOL_MF_STRICT	(1 << 0)
#define MPOL_MF_MOVE	(1 << 1)

enum model { MODEL_HOTSET, MODEL_SCATTERED, MODEL_UNIFORM, MODEL_ZIPF };
static const char *const model_names[] = { "hotset", "scattered", "uniform",
					   "zipf" };

struct options {
	uint64_t size_bytes;
	uint64_t hot_bytes;
	double weight;
	enum model model;
	double zipf_theta;
	int threads;
	double duration_s;
	double shift_at_s;	/* < 0: never */
	int bind_node;		/* < 0: leave placement to the kernel */
	int fast_node;
	unsigned int sample_pages;
	bool json;
	bool thp;
	uint64_t seed;
	long move_bench_pages;	/* > 0: run the move_pages benchmark */
	bool move_busy;		/* a thread reads the pages while they move */
	int move_from, move_to;
	bool reset_on_sigusr1;	/* SIGUSR1: move the region back to bind_node */
	enum model reset_modes[16];	/* model after the k-th reset */
	int nr_reset_modes;
	bool populate;		/* fault the region in with MADV_POPULATE_WRITE */
};

/*
 * The access model, shared read-only by the threads (gen changes once; the
 * model changes at a --reset-modes reset, while the threads are parked).
 */
struct workload {
	uint8_t *base;
	uint64_t nr_pages;
	uint64_t nr_hot;
	double p_hot;		/* probability that an update goes to the hot set */
	uint32_t *perm;		/* rank -> page; NULL = identity */
	double *zipf_cdf;	/* zipf: cdf[r] = P(rank <= r) */
	_Atomic uint64_t gen;	/* hot-set generation: bumped by a shift */
	atomic_bool stop;
	atomic_bool pause;	/* workers park while the model changes */
	atomic_int parked;
};

struct worker {
	pthread_t thread;
	struct workload *w;
	uint64_t rng;
	_Atomic uint64_t updates;
	char pad[64];
};

static uint64_t xorshift64s(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, n) without division bias worth caring about at n < 2^32. */
static inline uint64_t below(uint64_t r, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)r * n) >> 64);
}

static inline double unit(uint64_t r)
{
	return (double)(r >> 11) * (1.0 / 9007199254740992.0);
}

/* The page that holds popularity rank @rank in generation @gen. */
static inline uint64_t rank_page(const struct workload *w, uint64_t rank,
				 uint64_t gen)
{
	uint64_t i = (rank + gen * w->nr_hot) % w->nr_pages;

	return w->perm ? w->perm[i] : i;
}

static uint64_t zipf_rank(const struct workload *w, double u)
{
	uint64_t lo = 0, hi = w->nr_pages - 1;

	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;

		if (w->zipf_cdf[mid] < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Probability that one update goes to the page of rank @rank. */
static double rank_weight(const struct workload *w, enum model model,
			  uint64_t rank)
{
	if (model == MODEL_ZIPF)
		return w->zipf_cdf[rank] - (rank ? w->zipf_cdf[rank - 1] : 0);
	if (rank < w->nr_hot)
		return w->p_hot / (double)w->nr_hot;
	return (1 - w->p_hot) / (double)(w->nr_pages - w->nr_hot);
}

static enum model g_model;

static void *worker_main(void *arg)
{
	struct worker *me = arg;
	struct workload *w = me->w;
	uint64_t rng = me->rng;

	while (!atomic_load_explicit(&w->stop, memory_order_relaxed)) {
		uint64_t gen = atomic_load_explicit(&w->gen,
						    memory_order_relaxed);
		uint64_t nr_cold;
		int i;

		if (atomic_load(&w->pause)) {
			atomic_fetch_add(&w->parked, 1);
			while (atomic_load(&w->pause) && !atomic_load(&w->stop))
				usleep(1000);
			atomic_fetch_sub(&w->parked, 1);
			continue;
		}
		nr_cold = w->nr_pages - w->nr_hot;

		for (i = 0; i < UPDATE_BATCH; i++) {
			uint64_t r = xorshift64s(&rng), rank, page;
			uint64_t *word;

			if (g_model == MODEL_ZIPF)
				rank = zipf_rank(w, unit(r));
			else if (unit(r) < w->p_hot)
				rank = below(xorshift64s(&rng), w->nr_hot);
			else
				rank = w->nr_hot +
				       below(xorshift64s(&rng), nr_cold);
			page = rank_page(w, rank, gen);
			word = (uint64_t *)(w->base + page * PAGE_SIZE) +
			       (r & (WORDS_PER_PAGE - 1));
			*word ^= r;
		}
		atomic_fetch_add_explicit(&me->updates, UPDATE_BATCH,
					  memory_order_relaxed);
	}
	return NULL;
}

static long sys_move_pages(unsigned long count, void **pages, const int *nodes,
			   int *status, int flags)
{
	return syscall(SYS_move_pages, 0, count, pages, nodes, status, flags);
}

static long sys_mbind(void *addr, unsigned long len, int mode,
		      const unsigned long *nodemask, unsigned long maxnode,
		      unsigned int flags)
{
	return syscall(SYS_mbind, addr, len, mode, nodemask, maxnode, flags);
}

static int bind_to(void *p, uint64_t len, int node, unsigned int flags)
{
	unsigned long mask[16] = { 0 };

	if (node >= (int)(sizeof(mask) * 8)) {
		fprintf(stderr, "gups: node %d out of range\n", node);
		return -1;
	}
	mask[node / 64] = 1UL << (node % 64);
	return sys_mbind(p, len, MPOL_BIND, mask, sizeof(mask) * 8, flags) ?
	       -errno : 0;
}

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

static bool g_populate;

struct populate_part {
	pthread_t thread;
	uint8_t *p;
	uint64_t len;
	int err;
};

static void *populate_main(void *arg)
{
	struct populate_part *pp = arg;

	pp->err = madvise(pp->p, pp->len, MADV_POPULATE_WRITE) ? errno : 0;
	return NULL;
}

/*
 * --populate: fault the region in from the kernel (MADV_POPULATE_WRITE,
 * Linux 5.14), one slice per online CPU in parallel, instead of a write to
 * every page from user space: under an emulator (QEMU TCG), where each
 * user page fault is an emulated exception, about twice as fast.  Returns
 * 0, or -1 if the kernel cannot (the caller then touches the pages).
 */
static int populate(uint8_t *p, uint64_t len)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN), i;
	struct populate_part parts[64];
	uint64_t slice, off = 0;
	int err = 0;

	if (n < 1)
		n = 1;
	if (n > 64)
		n = 64;
	slice = ((len / n) + (2UL << 20) - 1) & ~((2UL << 20) - 1);
	for (i = 0; i < n && off < len; i++, off += slice) {
		parts[i].p = p + off;
		parts[i].len = len - off < slice ? len - off : slice;
		if (pthread_create(&parts[i].thread, NULL, populate_main,
				   &parts[i]))
			populate_main(&parts[i]), parts[i].thread = 0;
	}
	n = i;
	for (i = 0; i < n; i++) {
		if (parts[i].thread)
			pthread_join(parts[i].thread, NULL);
		if (parts[i].err)
			err = parts[i].err;
	}
	if (err) {
		fprintf(stderr, "gups: MADV_POPULATE_WRITE: %s (touching "
			"instead)\n", strerror(err));
		return -1;
	}
	return 0;
}

/*
 * Allocate @len bytes, placed on @node if @node >= 0: mbind(MPOL_BIND) for
 * the first touch, then back to the default policy so that the tiering
 * system under test (or the kernel) may move the pages afterwards.
 */
static uint8_t *alloc_region(uint64_t len, int node, bool thp)
{
	uint8_t *p;
	uint64_t off;
	int err;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("gups: mmap");
		return NULL;
	}
	if (madvise(p, len, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE))
		perror("gups: madvise (THP setting ignored)");
	if (node >= 0) {
		err = bind_to(p, len, node, MPOL_MF_STRICT | MPOL_MF_MOVE);
		if (err) {
			fprintf(stderr, "gups: mbind to node %d: %s\n", node,
				strerror(-err));
			return NULL;
		}
	}
	if (!g_populate || populate(p, len))
		for (off = 0; off < len; off += PAGE_SIZE)
			p[off] = 1;
	if (node >= 0 && sys_mbind(p, len, MPOL_DEFAULT, NULL, 0, 0))
		perror("gups: mbind(MPOL_DEFAULT)");
	return p;
}

/*
 * A stratum of ranks [first, first + count) queried with up to @k evenly
 * spaced samples; each sampled page stands for count / k pages.
 */
struct placement {
	double hot_on_fast;	/* fraction of the hot pages on the fast node */
	double fast_share;	/* estimated share of updates hitting it */
	double unknown;		/* sampled pages whose node was not reported */
};

struct sampler {
	void **addrs;
	int *status;
	uint64_t *ranks;
	double *scale;
	unsigned long n;
	unsigned long cap;
};

static void sampler_add_stratum(struct sampler *s, const struct workload *w,
				uint64_t first, uint64_t count, uint64_t k,
				uint64_t gen)
{
	uint64_t i;

	if (!count)
		return;
	if (k > count)
		k = count;
	for (i = 0; i < k && s->n < s->cap; i++) {
		uint64_t rank = first + i * count / k;

		s->ranks[s->n] = rank;
		s->scale[s->n] = (double)count / (double)k;
		s->addrs[s->n] = w->base + rank_page(w, rank, gen) * PAGE_SIZE;
		s->n++;
	}
}

static int measure(struct sampler *s, const struct workload *w,
		   enum model model, unsigned int k, int fast_node,
		   struct placement *pl)
{
	uint64_t gen = atomic_load(&w->gen);
	uint64_t hot_samples = 0, hot_fast = 0, unknown = 0;
	double share = 0, total = 0;
	unsigned long i;

	s->n = 0;
	if (model == MODEL_ZIPF) {
		/* The top ranks carry most of the updates: query them all. */
		uint64_t head = w->nr_hot < k / 4 ? w->nr_hot : k / 4;

		sampler_add_stratum(s, w, 0, head, head, gen);
		sampler_add_stratum(s, w, head, w->nr_hot - head, k - head,
				    gen);
	} else {
		sampler_add_stratum(s, w, 0, w->nr_hot, k, gen);
	}
	sampler_add_stratum(s, w, w->nr_hot, w->nr_pages - w->nr_hot, k, gen);

	if (sys_move_pages(s->n, s->addrs, NULL, s->status, 0)) {
		perror("gups: move_pages query");
		return -1;
	}
	for (i = 0; i < s->n; i++) {
		bool fast = s->status[i] == fast_node;
		double wt = rank_weight(w, model, s->ranks[i]) * s->scale[i];

		if (s->status[i] < 0)
			unknown++;
		if (s->ranks[i] < w->nr_hot) {
			hot_samples++;
			hot_fast += fast;
		}
		total += wt;
		share += fast ? wt : 0;
	}
	pl->hot_on_fast = hot_samples ? (double)hot_fast / hot_samples : 0;
	pl->fast_share = total > 0 ? share / total : 0;
	pl->unknown = s->n ? (double)unknown / s->n : 0;
	return 0;
}

static volatile sig_atomic_t reset_requested;

static void on_sigusr1(int sig)
{
	(void)sig;
	reset_requested = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void sleep_until(double t)
{
	struct timespec ts = { .tv_sec = (time_t)t,
			       .tv_nsec = (long)((t - (time_t)t) * 1e9) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	       EINTR)
		;
}

/* Parse "512M", "64MiB", "4096", "1G". */
static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	double v = strtod(s, &end);
	uint64_t mul = 1;

	if (end == s || v < 0)
		return -1;
	switch (*end) {
	case 'k': case 'K': mul = 1ULL << 10; end++; break;
	case 'm': case 'M': mul = 1ULL << 20; end++; break;
	case 'g': case 'G': mul = 1ULL << 30; end++; break;
	case 't': case 'T': mul = 1ULL << 40; end++; break;
	}
	if (*end == 'i' && end[1] == 'B')
		end += 2;
	else if (*end == 'B')
		end++;
	if (*end)
		return -1;
	*out = (uint64_t)(v * (double)mul);
	return 0;
}

static int parse_double(const char *s, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	return (end == s || *end || errno) ? -1 : 0;
}

static int parse_int(const char *s, long lo, long hi, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 10);
	return (end == s || *end || errno || *out < lo || *out > hi) ? -1 : 0;
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: gups [options]\n"
"       gups --move-bench PAGES [--move-from N] [--move-to N] [--json]\n"
"\n"
"Random 8-byte updates over a region whose hot set gets W x the updates of\n"
"the rest; every second one line: t, updates/s, fraction of the hot pages on\n"
"the fast node, share of updates hitting the fast node (both from\n"
"move_pages(2) queries of up to --sample pages per stratum).\n"
"\n"
"  -s, --size BYTES        region size (default 512M; K/M/G suffixes)\n"
"  -H, --hot BYTES         hot set size (default 64M)\n"
"  -w, --weight W          updates to a hot page per update to a cold one (9)\n"
"  -m, --mode MODE         hotset | scattered | uniform | zipf (hotset)\n"
"      --zipf-theta T      Zipf exponent (0.99)\n"
"  -t, --threads N         updating threads (online CPUs)\n"
"  -d, --duration SECS     run time (10)\n"
"      --shift-at SECS     move the hot set to other pages at this time\n"
"      --bind-node N       place the region on node N first (mbind, touch)\n"
"      --fast-node N       node counted as fast (0)\n"
"      --sample N          pages queried per stratum each second (4096)\n"
"      --thp               allow transparent huge pages (default: 4 KiB)\n"
"      --seed N            random seed (1)\n"
"      --json              one JSON object per line\n"
"      --move-bench PAGES  time move_pages(2) moving PAGES pages from\n"
"                          --move-from (1) to --move-to (0), then exit\n"
"      --move-busy         ... while another thread reads the pages (as a\n"
"                          tiering system moves a running program's pages)\n"
"      --populate          fault the region in with MADV_POPULATE_WRITE, in\n"
"                          parallel (faster under emulation)\n"
"      --reset-on-sigusr1  on SIGUSR1, move the region back to --bind-node\n"
"                          (mbind MPOL_MF_MOVE, then the default policy\n"
"                          again) and print a \"reset\" line\n"
"      --reset-modes LIST  the k-th reset also switches to the k-th model of\n"
"                          LIST (comma-separated)\n"
"\n"
"examples:\n"
"  gups --bind-node 1 --duration 30 --json\n"
"  gups --mode scattered --hot 16M --shift-at 15 --duration 30\n"
"  gups --move-bench 65536\n");
}

enum { OPT_THETA = 256, OPT_SHIFT, OPT_BIND, OPT_FAST, OPT_SAMPLE, OPT_THP,
       OPT_SEED, OPT_JSON, OPT_MOVE, OPT_MOVE_FROM, OPT_MOVE_TO,
       OPT_MOVE_BUSY, OPT_RESET, OPT_POPULATE, OPT_RESET_MODES };

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "size", required_argument, NULL, 's' },
		{ "hot", required_argument, NULL, 'H' },
		{ "weight", required_argument, NULL, 'w' },
		{ "mode", required_argument, NULL, 'm' },
		{ "zipf-theta", required_argument, NULL, OPT_THETA },
		{ "threads", required_argument, NULL, 't' },
		{ "duration", required_argument, NULL, 'd' },
		{ "shift-at", required_argument, NULL, OPT_SHIFT },
		{ "bind-node", required_argument, NULL, OPT_BIND },
		{ "fast-node", required_argument, NULL, OPT_FAST },
		{ "sample", required_argument, NULL, OPT_SAMPLE },
		{ "thp", no_argument, NULL, OPT_THP },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "move-bench", required_argument, NULL, OPT_MOVE },
		{ "move-from", required_argument, NULL, OPT_MOVE_FROM },
		{ "move-to", required_argument, NULL, OPT_MOVE_TO },
		{ "move-busy", no_argument, NULL, OPT_MOVE_BUSY },
		{ "reset-on-sigusr1", no_argument, NULL, OPT_RESET },
		{ "populate", no_argument, NULL, OPT_POPULATE },
		{ "reset-modes", required_argument, NULL, OPT_RESET_MODES },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	long l;
	int c;

	while ((c = getopt_long(argc, argv, "s:H:w:m:t:d:h", longopts,
				NULL)) != -1) {
		int bad = 0;

		switch (c) {
		case 's': bad = parse_size(optarg, &o->size_bytes); break;
		case 'H': bad = parse_size(optarg, &o->hot_bytes); break;
		case 'w':
			bad = parse_double(optarg, &o->weight) ||
			      !(o->weight > 0);
			break;
		case 'm':
			bad = 1;
			for (l = 0; l < 4; l++) {
				if (!strcmp(optarg, model_names[l])) {
					o->model = (enum model)l;
					bad = 0;
				}
			}
			break;
		case OPT_THETA:
			bad = parse_double(optarg, &o->zipf_theta) ||
			      !(o->zipf_theta > 0);
			break;
		case 't':
			bad = parse_int(optarg, 1, 1024, &l);
			o->threads = (int)l;
			break;
		case 'd':
			bad = parse_double(optarg, &o->duration_s) ||
			      !(o->duration_s > 0);
			break;
		case OPT_SHIFT:
			bad = parse_double(optarg, &o->shift_at_s) ||
			      !(o->shift_at_s >= 0);
			break;
		case OPT_BIND:
			bad = parse_int(optarg, 0, 1023, &l);
			o->bind_node = (int)l;
			break;
		case OPT_FAST:
			bad = parse_int(optarg, 0, 1023, &l);
			o->fast_node = (int)l;
			break;
		case OPT_SAMPLE:
			bad = parse_int(optarg, 1, 1 << 20, &l);
			o->sample_pages = (unsigned int)l;
			break;
		case OPT_THP: o->thp = true; break;
		case OPT_SEED:
			bad = parse_int(optarg, 0, INT64_MAX, &l);
			o->seed = (uint64_t)l;
			break;
		case OPT_JSON: o->json = true; break;
		case OPT_MOVE:
			bad = parse_int(optarg, 1, 1L << 30, &o->move_bench_pages);
			break;
		case OPT_MOVE_FROM:
			bad = parse_int(optarg, 0, 1023, &l);
			o->move_from = (int)l;
			break;
		case OPT_MOVE_BUSY:
			o->move_busy = true;
			break;
		case OPT_RESET:
			o->reset_on_sigusr1 = true;
			break;
		case OPT_POPULATE:
			o->populate = true;
			break;
		case OPT_RESET_MODES: {
			char *list = strdup(optarg), *tok, *save = NULL;

			o->nr_reset_modes = 0;
			if (!list)
				return -1;
			for (tok = strtok_r(list, ",", &save); tok && !bad;
			     tok = strtok_r(NULL, ",", &save)) {
				bad = 1;
				for (l = 0; l < 4; l++) {
					if (!strcmp(tok, model_names[l]) &&
					    o->nr_reset_modes < 16) {
						o->reset_modes[o->nr_reset_modes++] =
							(enum model)l;
						bad = 0;
					}
				}
			}
			free(list);
			break;
		}
		case OPT_MOVE_TO:
			bad = parse_int(optarg, 0, 1023, &l);
			o->move_to = (int)l;
			break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
		if (bad) {
			fprintf(stderr, "gups: bad value for option: %s\n",
				optarg ? optarg : "");
			return -1;
		}
	}
	if (o->reset_on_sigusr1 && o->bind_node < 0) {
		fprintf(stderr, "gups: --reset-on-sigusr1 needs --bind-node\n");
		return -1;
	}
	if (optind < argc) {
		fprintf(stderr, "gups: unexpected argument: %s\n", argv[optind]);
		return -1;
	}
	if (o->size_bytes < PAGE_SIZE * 2) {
		fprintf(stderr, "gups: --size must be at least 2 pages\n");
		return -1;
	}
	if (o->model != MODEL_UNIFORM &&
	    (o->hot_bytes < PAGE_SIZE || o->hot_bytes >= o->size_bytes)) {
		fprintf(stderr, "gups: --hot must be at least a page and "
			"smaller than --size\n");
		return -1;
	}
	return 0;
}

/*
 * move_pages(2) throughput: @nr pages placed on @from, moved to @to in one
 * call, as a tiering system's promotion batch would be; the result counts
 * only pages that were really found on @to afterwards.
 */
struct busy_reader {
	volatile uint8_t *p;
	unsigned long n;
	atomic_bool stop;
	atomic_bool started;
};

/* Read one word of every page, over and over, until told to stop. */
static void *busy_reader_main(void *arg)
{
	struct busy_reader *b = arg;
	uint64_t sum = 0;

	while (!atomic_load(&b->stop)) {
		for (unsigned long i = 0; i < b->n; i++)
			sum += b->p[i * PAGE_SIZE];
		atomic_store(&b->started, true);
	}
	return (void *)(uintptr_t)sum;
}

static int move_bench(const struct options *o)
{
	struct busy_reader busy = { 0 };
	pthread_t busy_thread;
	uint64_t len = (uint64_t)o->move_bench_pages * PAGE_SIZE;
	unsigned long n = (unsigned long)o->move_bench_pages, i, moved = 0;
	unsigned long was_there = 0;
	void **addrs = calloc(n, sizeof(*addrs));
	int *nodes = calloc(n, sizeof(*nodes));
	int *status = calloc(n, sizeof(*status));
	uint8_t *p;
	double t0, dt;
	long err;

	if (!addrs || !nodes || !status) {
		fprintf(stderr, "gups: out of memory\n");
		return 1;
	}
	p = alloc_region(len, o->move_from, o->thp);
	if (!p)
		return 1;
	for (i = 0; i < n; i++) {
		addrs[i] = p + i * PAGE_SIZE;
		nodes[i] = o->move_to;
	}
	if (sys_move_pages(n, addrs, NULL, status, 0)) {
		perror("gups: move_pages query");
		return 1;
	}
	for (i = 0; i < n; i++)
		was_there += status[i] == o->move_to;

	if (o->move_busy) {
		busy.p = p;
		busy.n = n;
		if (pthread_create(&busy_thread, NULL, busy_reader_main, &busy)) {
			fprintf(stderr, "gups: cannot start reader thread\n");
			return 1;
		}
		while (!atomic_load(&busy.started))
			usleep(1000);
	}
	t0 = now_s();
	err = sys_move_pages(n, addrs, nodes, status, MPOL_MF_MOVE);
	dt = now_s() - t0;
	if (o->move_busy) {
		atomic_store(&busy.stop, true);
		pthread_join(busy_thread, NULL);
	}
	if (err < 0) {
		perror("gups: move_pages");
		return 1;
	}
	if (sys_move_pages(n, addrs, NULL, status, 0)) {
		perror("gups: move_pages query");
		return 1;
	}
	for (i = 0; i < n; i++)
		moved += status[i] == o->move_to;
	moved -= was_there;
	if (o->json)
		printf("{\"type\":\"move_bench\",\"busy\":%s,\"pages\":%lu,\"from\":%d,"
		       "\"to\":%d,\"already_there\":%lu,\"moved\":%lu,"
		       "\"not_moved\":%ld,\"seconds\":%.6f,"
		       "\"pages_per_s\":%.0f,\"mib_per_s\":%.1f}\n",
		       o->move_busy ? "true" : "false",
		       n, o->move_from, o->move_to, was_there, moved, err, dt,
		       n / dt, n * (double)PAGE_SIZE / (1 << 20) / dt);
	else
		printf("move_pages: %lu pages node %d -> %d in %.6f s: "
		       "%.0f pages/s (%.1f MiB/s); moved %lu, already there "
		       "%lu, not moved %ld\n",
		       n, o->move_from, o->move_to, dt, n / dt,
		       n * (double)PAGE_SIZE / (1 << 20) / dt, moved,
		       was_there, err);
	return 0;
}

/* The hot set and page order of @model over the region's w->nr_pages. */
static int setup_model(struct workload *w, const struct options *o,
		       enum model model)
{
	uint64_t seed = o->seed, i;

	free(w->perm);
	free(w->zipf_cdf);
	w->perm = NULL;
	w->zipf_cdf = NULL;
	w->nr_hot = model == MODEL_UNIFORM ? w->nr_pages :
		    o->hot_bytes / PAGE_SIZE;
	if (model == MODEL_UNIFORM)
		w->p_hot = 1;
	else
		w->p_hot = o->weight * w->nr_hot /
			   (o->weight * w->nr_hot + (w->nr_pages - w->nr_hot));
	if (model == MODEL_SCATTERED || model == MODEL_ZIPF) {
		w->perm = malloc(w->nr_pages * sizeof(*w->perm));
		if (!w->perm)
			return -1;
		for (i = 0; i < w->nr_pages; i++)
			w->perm[i] = (uint32_t)i;
		for (i = w->nr_pages - 1; i > 0; i--) {
			uint64_t j = below(splitmix64(&seed), i + 1);
			uint32_t tmp = w->perm[i];

			w->perm[i] = w->perm[j];
			w->perm[j] = tmp;
		}
	}
	if (model == MODEL_ZIPF) {
		double sum = 0;

		w->zipf_cdf = malloc(w->nr_pages * sizeof(*w->zipf_cdf));
		if (!w->zipf_cdf)
			return -1;
		for (i = 0; i < w->nr_pages; i++) {
			sum += 1.0 / pow((double)(i + 1), o->zipf_theta);
			w->zipf_cdf[i] = sum;
		}
		for (i = 0; i < w->nr_pages; i++)
			w->zipf_cdf[i] /= sum;
		w->zipf_cdf[w->nr_pages - 1] = 1.0;
		w->p_hot = w->zipf_cdf[w->nr_hot - 1];
	}
	return 0;
}

static int setup_workload(struct workload *w, const struct options *o)
{
	w->nr_pages = o->size_bytes / PAGE_SIZE;
	if (setup_model(w, o, o->model))
		return -1;
	w->base = alloc_region(w->nr_pages * PAGE_SIZE, o->bind_node, o->thp);
	return w->base ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct options o = {
		.size_bytes = 512ULL << 20,
		.hot_bytes = 64ULL << 20,
		.weight = 9,
		.model = MODEL_HOTSET,
		.zipf_theta = 0.99,
		.threads = (int)sysconf(_SC_NPROCESSORS_ONLN),
		.duration_s = 10,
		.shift_at_s = -1,
		.bind_node = -1,
		.fast_node = 0,
		.sample_pages = 4096,
		.seed = 1,
		.move_from = 1,
		.move_to = 0,
	};
	static struct workload w;
	struct worker *workers;
	struct sampler s;
	uint64_t last_total = 0, total = 0;
	double start, last_t, shift_t = -1;
	bool shifted = false;
	int i, sec, nr_resets = 0;

	if (parse_options(argc, argv, &o))
		return 2;
	if (o.threads < 1)
		o.threads = 1;
	g_populate = o.populate;
	if (o.move_bench_pages > 0)
		return move_bench(&o);
	if (o.reset_on_sigusr1) {
		/* Before anything is printed: a SIGUSR1 sent as soon as the
		 * config line appears must not kill gups. */
		struct sigaction sa = { .sa_handler = on_sigusr1,
					.sa_flags = SA_RESTART };

		sigemptyset(&sa.sa_mask);
		sigaction(SIGUSR1, &sa, NULL);
	}

	g_model = o.model;
	if (setup_workload(&w, &o))
		return 1;

	s.cap = 3UL * o.sample_pages;
	s.addrs = calloc(s.cap, sizeof(*s.addrs));
	s.status = calloc(s.cap, sizeof(*s.status));
	s.ranks = calloc(s.cap, sizeof(*s.ranks));
	s.scale = calloc(s.cap, sizeof(*s.scale));
	workers = calloc(o.threads, sizeof(*workers));
	if (!s.addrs || !s.status || !s.ranks || !s.scale || !workers) {
		fprintf(stderr, "gups: out of memory\n");
		return 1;
	}

	if (o.json)
		printf("{\"type\":\"config\",\"mode\":\"%s\",\"size_bytes\":%llu,"
		       "\"hot_bytes\":%llu,\"weight\":%g,\"hot_update_share\":%.4f,"
		       "\"threads\":%d,\"duration_s\":%g,\"shift_at_s\":%g,"
		       "\"bind_node\":%d,\"fast_node\":%d,\"thp\":%s}\n",
		       model_names[o.model],
		       (unsigned long long)(w.nr_pages * PAGE_SIZE),
		       (unsigned long long)(w.nr_hot * PAGE_SIZE), o.weight,
		       w.p_hot, o.threads, o.duration_s, o.shift_at_s,
		       o.bind_node, o.fast_node, o.thp ? "true" : "false");
	else
		printf("# gups %s: %llu MiB, hot %llu MiB (%.1f%% of updates), "
		       "%d threads, fast node %d\n"
		       "# %6s %14s %12s %12s %8s\n",
		       model_names[o.model],
		       (unsigned long long)(w.nr_pages * PAGE_SIZE >> 20),
		       (unsigned long long)(w.nr_hot * PAGE_SIZE >> 20),
		       100 * w.p_hot, o.threads, o.fast_node, "t_s",
		       "updates_per_s", "hot_on_fast", "fast_share", "unknown");
	fflush(stdout);

	start = last_t = now_s();
	for (i = 0; i < o.threads; i++) {
		uint64_t seed = o.seed * 1000003 + (uint64_t)i;

		workers[i].w = &w;
		workers[i].rng = splitmix64(&seed) | 1;
		if (pthread_create(&workers[i].thread, NULL, worker_main,
				   &workers[i])) {
			fprintf(stderr, "gups: cannot start thread %d\n", i);
			return 1;
		}
	}

	for (sec = 1;; sec++) {
		double t = start + sec, next_shift;
		struct placement pl;
		uint64_t sum = 0;

		if (t > start + o.duration_s)
			t = start + o.duration_s;
		next_shift = o.shift_at_s >= 0 && !shifted ?
			     start + o.shift_at_s : -1;
		if (next_shift >= 0 && next_shift < t) {
			sleep_until(next_shift);
			atomic_fetch_add(&w.gen, 1);
			shifted = true;
			shift_t = now_s() - start;
		}
		sleep_until(t);
		for (i = 0; i < o.threads; i++)
			sum += atomic_load_explicit(&workers[i].updates,
						    memory_order_relaxed);
		total = sum;
		t = now_s();
		if (measure(&s, &w, o.model, o.sample_pages, o.fast_node, &pl))
			return 1;
		if (o.json)
			printf("{\"type\":\"sample\",\"t\":%.2f,"
			       "\"updates_per_s\":%.0f,\"hot_on_fast\":%.4f,"
			       "\"fast_share\":%.4f,\"unknown\":%.4f,"
			       "\"shifted\":%s}\n",
			       t - start, (total - last_total) / (t - last_t),
			       pl.hot_on_fast, pl.fast_share, pl.unknown,
			       shifted ? "true" : "false");
		else
			printf("  %6.2f %14.0f %12.4f %12.4f %8.4f%s\n",
			       t - start, (total - last_total) / (t - last_t),
			       pl.hot_on_fast, pl.fast_share, pl.unknown,
			       shifted && shift_t > last_t - start ?
			       "  <- hot set shifted" : "");
		fflush(stdout);
		last_total = total;
		last_t = t;
		if (reset_requested) {
			uint64_t len = w.nr_pages * PAGE_SIZE;
			double t0 = now_s();
			int err;

			reset_requested = 0;
			if (nr_resets < o.nr_reset_modes &&
			    o.reset_modes[nr_resets] != o.model) {
				/* Park the workers, then switch the model. */
				atomic_store(&w.pause, true);
				while (atomic_load(&w.parked) < o.threads)
					usleep(1000);
				o.model = g_model = o.reset_modes[nr_resets];
				if (setup_model(&w, &o, o.model)) {
					fprintf(stderr, "gups: out of memory\n");
					return 1;
				}
				atomic_store(&w.pause, false);
			}
			nr_resets++;
			err = bind_to(w.base, len, o.bind_node, MPOL_MF_MOVE);
			if (sys_mbind(w.base, len, MPOL_DEFAULT, NULL, 0, 0) &&
			    !err)
				err = -errno;
			printf(o.json ? "{\"type\":\"reset\",\"t\":%.2f,"
				       "\"node\":%d,\"seconds\":%.3f,"
				       "\"error\":%d,\"mode\":\"%s\"}\n" :
			       "# reset at %.2f s: region moved to node %d in "
			       "%.3f s (error %d), model %s\n", t0 - start,
			       o.bind_node, now_s() - t0, err,
			       model_names[o.model]);
			fflush(stdout);
		}
		if (t - start >= o.duration_s - 1e-3)
			break;
	}
	atomic_store(&w.stop, true);
	for (i = 0; i < o.threads; i++)
		pthread_join(workers[i].thread, NULL);
	if (o.json)
		printf("{\"type\":\"summary\",\"seconds\":%.2f,\"updates\":%llu,"
		       "\"updates_per_s\":%.0f}\n", now_s() - start,
		       (unsigned long long)total, total / (now_s() - start));
	return 0;
}
