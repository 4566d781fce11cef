// SPDX-License-Identifier: GPL-2.0
/*
 * htier PEBS sampler: per-CPU precise memory-access events (loads, and
 * stores where the CPU has them) through perf_event_create_kernel_counter(),
 * with the data address of each sample.  The overflow handler runs in NMI
 * context: it only pushes (tgid, address) into a per-CPU single-producer
 * ring; the htier thread drains the rings each round and adds one heat per
 * sample to the page's table entry (found by a residency-only walk).
 *
 * Inside a VM, PEBS with data addresses needs the host to expose adaptive
 * PEBS; stock KVM hides it and TCG has no PMU at all.  start() therefore
 * proves the capability before it is used: events must be created, and a
 * short probe must return samples that carry data addresses.  Otherwise it
 * refuses and says why, and auto falls back to the accessed-bit sampler.
 *
 * The sample period is tuned each round so the sampling costs about
 * pebs_cpu_permil of each CPU.  pebs_source=sw-page-faults (module
 * parameter) feeds the same pipeline from the software page-fault event,
 * which carries fault addresses on any machine: a test source for the
 * sample processing where no PMU exists; it says nothing about hotness.
 */
#define pr_fmt(fmt) "htier: " fmt

#include <linux/cpu.h>
#include <linux/delay.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/percpu.h>
#include <linux/perf_event.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include "htier.h"

static char *pebs_source = "pmu";
module_param(pebs_source, charp, 0444);
MODULE_PARM_DESC(pebs_source,
	"pebs sample source: pmu (precise memory events) or sw-page-faults (test source)");

/*
 * MEM_INST_RETIRED.ALL_LOADS / ALL_STORES (Skylake and later, event 0xd0
 * umask 0x81 / 0x82), precise.  Userspace may hand better encodings later.
 */
static u64 htier_pebs_events[] = { 0x81d0, 0x82d0 };

#define HTIER_RING_SIZE	4096	/* per CPU, a power of two */
/* Estimated cost of one sample (PMI, NMI handler, drain), for the budget. */
#define HTIER_SAMPLE_COST_NS	3000

struct htier_sample {
	u64 addr;
	pid_t tgid;
};

struct htier_ring {
	unsigned int head;	/* written by the NMI handler */
	unsigned int tail;	/* written by the htier thread */
	unsigned long dropped;
	struct htier_sample s[HTIER_RING_SIZE];
};

struct htier_pebs {
	struct htier_ring __percpu *rings;
	struct perf_event **events;	/* [cpu * nr_event_types + i] */
	unsigned int nr_types;
	unsigned int period;
	u64 last_drain_ns;
	atomic_t probe_total, probe_addr;
	bool probing;
};

static struct htier_pebs pebs;

static void htier_pebs_overflow(struct perf_event *event,
				struct perf_sample_data *data,
				struct pt_regs *regs)
{
	struct htier_ring *ring;
	unsigned int head;
	u64 addr = (data->sample_flags & PERF_SAMPLE_ADDR) ? data->addr : 0;

	if (READ_ONCE(pebs.probing)) {
		atomic_inc(&pebs.probe_total);
		if (addr)
			atomic_inc(&pebs.probe_addr);
		return;
	}
	if (!addr || !current->mm || (current->flags & PF_KTHREAD))
		return;
	ring = this_cpu_ptr(pebs.rings);
	head = ring->head;
	if (head - smp_load_acquire(&ring->tail) >= HTIER_RING_SIZE) {
		ring->dropped++;
		return;
	}
	ring->s[head & (HTIER_RING_SIZE - 1)].addr = addr;
	ring->s[head & (HTIER_RING_SIZE - 1)].tgid = current->tgid;
	smp_store_release(&ring->head, head + 1);
}

static void htier_pebs_release_events(void)
{
	unsigned int i, n = nr_cpu_ids * pebs.nr_types;

	if (!pebs.events)
		return;
	for (i = 0; i < n; i++)
		if (pebs.events[i])
			perf_event_release_kernel(pebs.events[i]);
	kfree(pebs.events);
	pebs.events = NULL;
}

static bool htier_pebs_sw(void)
{
	return !strcmp(pebs_source, "sw-page-faults");
}

static struct perf_event *htier_pebs_create(int cpu, unsigned int type,
					    bool probe)
{
	struct perf_event_attr attr = {
		.size = sizeof(attr),
		.sample_period = pebs.period,
		.sample_type = PERF_SAMPLE_ADDR | PERF_SAMPLE_TID,
		.exclude_kernel = !probe,
		.exclude_hv = 1,
		/* One record per PMI: large PEBS batching drops records
		 * with a custom overflow handler. */
		.wakeup_events = 1,
	};

	if (htier_pebs_sw()) {
		attr.type = PERF_TYPE_SOFTWARE;
		attr.config = PERF_COUNT_SW_PAGE_FAULTS;
		attr.sample_period = 1;
	} else {
		attr.type = PERF_TYPE_RAW;
		attr.config = htier_pebs_events[type];
		attr.precise_ip = 2;
	}
	return perf_event_create_kernel_counter(&attr, cpu, NULL,
						htier_pebs_overflow, NULL);
}

/* Count probe samples while this CPU touches memory; kernel ones count. */
static void htier_pebs_probe_load(void)
{
	unsigned long *buf = vmalloc(1 << 20);
	unsigned long sum = 0;
	int rep, i;

	if (!buf)
		return;
	for (rep = 0; rep < 20; rep++)
		for (i = 0; i < (1 << 20) / sizeof(*buf); i += 8)
			sum += READ_ONCE(buf[i]);
	vfree(buf);
	(void)sum;
}

static int htier_pebs_start(struct htier_ctx *ctx)
{
	struct perf_event *probe;
	unsigned int cpu, t;
	int err;

	pebs.nr_types = htier_pebs_sw() ? 1 : ARRAY_SIZE(htier_pebs_events);
	pebs.period = ctx->pebs_sample_period;

	/* Probe: one counter on this CPU, kernel included, short load. */
	cpu = get_cpu();
	put_cpu();
	atomic_set(&pebs.probe_total, 0);
	atomic_set(&pebs.probe_addr, 0);
	WRITE_ONCE(pebs.probing, true);
	probe = htier_pebs_create(cpu, 0, true);
	if (IS_ERR(probe)) {
		err = PTR_ERR(probe);
		WRITE_ONCE(pebs.probing, false);
		snprintf(ctx->sampler_reason, sizeof(ctx->sampler_reason),
			 "%s (perf_event_create_kernel_counter: %d)",
			 err == -ENOENT || err == -ENODEV ?
			 "no PMU with precise memory events" :
			 err == -EOPNOTSUPP || err == -EINVAL ?
			 "PMU without precise (PEBS) memory sampling" :
			 "cannot create PEBS event", err);
		return err == -ENOENT ? -ENODEV : err;
	}
	if (!htier_pebs_sw()) {
		htier_pebs_probe_load();
	} else {
		/* Software source: no PMU probe to make. */
		atomic_set(&pebs.probe_addr, 1);
	}
	perf_event_release_kernel(probe);
	WRITE_ONCE(pebs.probing, false);
	if (!atomic_read(&pebs.probe_addr)) {
		snprintf(ctx->sampler_reason, sizeof(ctx->sampler_reason),
			 "PEBS without data addresses (%d probe samples, none with an address; host hides adaptive PEBS?)",
			 atomic_read(&pebs.probe_total));
		return -EOPNOTSUPP;
	}

	pebs.rings = alloc_percpu(struct htier_ring);
	pebs.events = kcalloc(nr_cpu_ids * pebs.nr_types, sizeof(*pebs.events),
			      GFP_KERNEL);
	if (!pebs.rings || !pebs.events) {
		err = -ENOMEM;
		goto fail;
	}
	cpus_read_lock();
	for_each_online_cpu(cpu) {
		for (t = 0; t < pebs.nr_types; t++) {
			struct perf_event *ev = htier_pebs_create(cpu, t, false);

			if (IS_ERR(ev)) {
				/* Stores may be missing; loads are needed. */
				if (t > 0)
					continue;
				err = PTR_ERR(ev);
				cpus_read_unlock();
				snprintf(ctx->sampler_reason,
					 sizeof(ctx->sampler_reason),
					 "cannot create PEBS event on cpu %u: %d",
					 cpu, err);
				goto fail;
			}
			pebs.events[cpu * pebs.nr_types + t] = ev;
		}
	}
	cpus_read_unlock();
	pebs.last_drain_ns = ktime_get_ns();
	return 0;

fail:
	htier_pebs_release_events();
	free_percpu(pebs.rings);
	pebs.rings = NULL;
	return err;
}

/* Keep the sampling cost near pebs_cpu_permil of each CPU. */
static void htier_pebs_tune(struct htier_ctx *ctx, u64 nr, u64 elapsed_ns)
{
	u64 budget, cost, i, n = nr_cpu_ids * pebs.nr_types;
	unsigned int period = pebs.period;

	if (htier_pebs_sw() || !elapsed_ns)
		return;
	cost = nr * HTIER_SAMPLE_COST_NS;
	budget = elapsed_ns * num_online_cpus() * ctx->pebs_cpu_permil / 1000;
	if (cost > budget && period < 10000000)
		period *= 2;
	else if (cost * 4 < budget && period / 2 >= ctx->pebs_sample_period)
		period /= 2;
	if (period == pebs.period)
		return;
	pebs.period = period;
	for (i = 0; i < n; i++)
		if (pebs.events[i])
			perf_event_period(pebs.events[i], period);
}

/**
 * htier_pebs_record() - credit one sampled access to its page
 * @ctx: the module context
 * @tgid: the process the sample came from
 * @addr: the data address
 *
 * Return: true if the page is tracked (the sample counted).
 */
static bool htier_pebs_record(struct htier_ctx *ctx, pid_t tgid, u64 addr)
{
	u32 slot = htier_scope_slot_of_tgid(ctx, tgid);
	u64 vpn = addr >> PAGE_SHIFT;
	struct htier_page *p;

	if (!slot)
		return false;
	p = htier_table_find(&ctx->table, htier_key(slot, vpn));
	if (!p)
		p = htier_table_find(&ctx->table,
				     htier_key(slot, vpn & ~(u64)(HTIER_HUGE_PAGES - 1)));
	if (!p)
		return false;
	htier_table_record(&ctx->table, p->key, 1, p->tier, p->flags);
	atomic64_inc(&ctx->stats.samples);
	if (p->tier == HTIER_TIER_FAST)
		atomic64_inc(&ctx->stats.samples_fast);
	else if (p->tier == HTIER_TIER_SLOW)
		atomic64_inc(&ctx->stats.samples_slow);
	return true;
}

static void htier_pebs_collect(struct htier_ctx *ctx)
{
	u64 now, nr = 0;
	unsigned int cpu;

	/* Residency and the page set come from a walk; heat from samples. */
	htier_walk_all(ctx, false);
	for_each_possible_cpu(cpu) {
		struct htier_ring *ring = per_cpu_ptr(pebs.rings, cpu);
		unsigned int tail = ring->tail;
		unsigned int head = smp_load_acquire(&ring->head);

		for (; tail != head; tail++) {
			struct htier_sample *s =
				&ring->s[tail & (HTIER_RING_SIZE - 1)];

			htier_pebs_record(ctx, s->tgid, s->addr);
			nr++;
		}
		smp_store_release(&ring->tail, tail);
	}
	now = ktime_get_ns();
	htier_pebs_tune(ctx, nr, now - pebs.last_drain_ns);
	pebs.last_drain_ns = now;
}

static void htier_pebs_stop(struct htier_ctx *ctx)
{
	htier_pebs_release_events();
	free_percpu(pebs.rings);
	pebs.rings = NULL;
}

const struct htier_sampler_ops htier_pebs_ops = {
	.name = "pebs",
	.start = htier_pebs_start,
	.collect = htier_pebs_collect,
	.stop = htier_pebs_stop,
};
