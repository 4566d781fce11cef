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
#include <linux/cpuhotplug.h>
#include <linux/delay.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/percpu.h>
#include <linux/perf_event.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <asm/processor.h>
#include "htier.h"
#include "sample_pebs.h"

static char *pebs_source = "pmu";
module_param(pebs_source, charp, 0444);
MODULE_PARM_DESC(pebs_source,
	"pebs sample source: pmu (precise memory events) or sw-page-faults (test source)");

static const char * const htier_pebs_kind_names[NR_HTIER_PEBS_KINDS] = {
	[HTIER_PEBS_LOAD] = "load",
	[HTIER_PEBS_STORE] = "store",
	[HTIER_PEBS_LDLAT] = "ldlat",
};

/*
 * Built-in encodings, by Intel family-6 model.  Haswell and Broadwell call
 * event 0xd0 MEM_UOPS_RETIRED, Skylake through Sapphire Rapids (and the
 * Atom cores since Goldmont) MEM_INST_RETIRED; ALL_LOADS is umask 0x81,
 * ALL_STORES umask 0x82 on all of them, so one pair serves every model
 * listed.  The table names the models so sampler_reason can say whether the
 * defaults were chosen for this CPU or merely assumed.
 */
static const struct {
	u8 model;
	const char *name;
} htier_pebs_models[] = {
	{ 0x3c, "Haswell" }, { 0x3f, "Haswell-X" }, { 0x45, "Haswell-L" },
	{ 0x46, "Haswell-G" }, { 0x3d, "Broadwell" }, { 0x47, "Broadwell-G" },
	{ 0x4f, "Broadwell-X" }, { 0x56, "Broadwell-D" },
	{ 0x4e, "Skylake-L" }, { 0x5e, "Skylake" }, { 0x55, "Skylake-X" },
	{ 0x8e, "Kaby Lake-L" }, { 0x9e, "Kaby/Coffee Lake" },
	{ 0xa5, "Comet Lake" }, { 0xa6, "Comet Lake-L" },
	{ 0x66, "Cannon Lake" }, { 0x7d, "Ice Lake" }, { 0x7e, "Ice Lake-L" },
	{ 0x6a, "Ice Lake-X" }, { 0x6c, "Ice Lake-D" }, { 0x8c, "Tiger Lake-L" },
	{ 0x8d, "Tiger Lake" }, { 0xa7, "Rocket Lake" }, { 0x97, "Alder Lake" },
	{ 0x9a, "Alder Lake-L" }, { 0xb7, "Raptor Lake" },
	{ 0xba, "Raptor Lake-P" }, { 0xbf, "Raptor Lake-S" },
	{ 0x8f, "Sapphire Rapids" }, { 0xcf, "Emerald Rapids" },
};

/* The encodings in use; read and written under htier.lock. */
static struct htier_pebs_event_set htier_pebs_set;
static bool htier_pebs_set_valid;

static const char *htier_pebs_model_name(void)
{
	unsigned int i;

	if (boot_cpu_data.x86_vendor != X86_VENDOR_INTEL ||
	    boot_cpu_data.x86 != 6)
		return NULL;
	for (i = 0; i < ARRAY_SIZE(htier_pebs_models); i++)
		if (htier_pebs_models[i].model == boot_cpu_data.x86_model)
			return htier_pebs_models[i].name;
	return NULL;
}

/**
 * htier_pebs_events_default() - the built-in encodings for this CPU
 * @set: filled with MEM_INST_RETIRED / MEM_UOPS_RETIRED ALL_LOADS and
 *	 ALL_STORES, raw, precise_ip 2
 */
void htier_pebs_events_default(struct htier_pebs_event_set *set)
{
	memset(set, 0, sizeof(*set));
	set->nr = 2;
	set->ev[0] = (struct htier_pebs_event){ .kind = HTIER_PEBS_LOAD,
		.type = PERF_TYPE_RAW, .config = 0x81d0, .precise = 2 };
	set->ev[1] = (struct htier_pebs_event){ .kind = HTIER_PEBS_STORE,
		.type = PERF_TYPE_RAW, .config = 0x82d0, .precise = 2 };
}

/**
 * htier_pebs_events_get() - copy the encodings in use
 * @set: where to copy them; htier.lock held
 */
void htier_pebs_events_get(struct htier_pebs_event_set *set)
{
	if (!htier_pebs_set_valid) {
		htier_pebs_events_default(&htier_pebs_set);
		htier_pebs_set_valid = true;
	}
	*set = htier_pebs_set;
}

/**
 * htier_pebs_events_set() - replace the encodings; the next start() uses them
 * @set: a set htier_pebs_events_parse() accepted; htier.lock held
 */
void htier_pebs_events_set(const struct htier_pebs_event_set *set)
{
	htier_pebs_set = *set;
	htier_pebs_set_valid = true;
}

/* Does a PMU of this dynamic type exist?  Ask perf with a disabled counter. */
static bool htier_pebs_pmu_exists(u32 type)
{
	struct perf_event_attr attr = {
		.size = sizeof(attr), .type = type, .disabled = 1,
		.exclude_kernel = 1, .exclude_hv = 1,
	};
	struct perf_event *ev;
	int cpu = get_cpu();

	put_cpu();
	ev = perf_event_create_kernel_counter(&attr, cpu, NULL, NULL, NULL);
	if (IS_ERR(ev))
		return PTR_ERR(ev) != -ENOENT && PTR_ERR(ev) != -ENODEV;
	perf_event_release_kernel(ev);
	return true;
}

static int htier_pebs_event_parse(char *entry, struct htier_pebs_event *ev)
{
	bool have_type = false, have_config = false;
	char *tok;
	int kind, err;

	tok = strsep(&entry, " \t");
	kind = match_string(htier_pebs_kind_names, NR_HTIER_PEBS_KINDS, tok);
	if (kind < 0)
		return -EINVAL;
	memset(ev, 0, sizeof(*ev));
	ev->kind = kind;
	ev->precise = 2;
	while ((tok = strsep(&entry, " \t")) != NULL) {
		char *val;

		if (!*tok)
			continue;
		val = strchr(tok, '=');
		if (!val)
			return -EINVAL;
		*val++ = '\0';
		if (!strcmp(tok, "type")) {
			err = kstrtou32(val, 0, &ev->type);
			have_type = !err;
		} else if (!strcmp(tok, "config")) {
			err = kstrtou64(val, 0, &ev->config);
			have_config = !err;
		} else if (!strcmp(tok, "config1")) {
			err = kstrtou64(val, 0, &ev->config1);
		} else if (!strcmp(tok, "precise")) {
			err = kstrtou8(val, 0, &ev->precise);
			if (!err && ev->precise > 3)
				err = -EINVAL;
		} else {
			err = -EINVAL;
		}
		if (err)
			return -EINVAL;
	}
	if (!have_type || !have_config || !ev->config)
		return -EINVAL;
	if (ev->type != PERF_TYPE_RAW &&
	    (ev->type < PERF_TYPE_MAX || !htier_pebs_pmu_exists(ev->type)))
		return -EINVAL;
	return 0;
}

/**
 * htier_pebs_events_parse() - parse and validate what was written to
 * pebs_events
 * @buf: "default", or up to HTIER_PEBS_MAX_EVENTS entries separated by ';'
 *	 or newlines, each "KIND type=T config=C [config1=C1] [precise=P]";
 *	 the first entry must be a load or ldlat event (loads are required)
 * @set: filled on success
 *
 * Return: 0, or -EINVAL (nothing written to @set that counts), -ENOMEM.
 */
int htier_pebs_events_parse(const char *buf, struct htier_pebs_event_set *set)
{
	char *copy, *cur, *entry;
	int err = 0;

	if (sysfs_streq(buf, "default")) {
		htier_pebs_events_default(set);
		return 0;
	}
	copy = kstrdup(buf, GFP_KERNEL);
	if (!copy)
		return -ENOMEM;
	memset(set, 0, sizeof(*set));
	cur = copy;
	while (!err && (entry = strsep(&cur, ";\n")) != NULL) {
		entry = strim(entry);
		if (!*entry)
			continue;
		if (set->nr == HTIER_PEBS_MAX_EVENTS)
			err = -EINVAL;
		else
			err = htier_pebs_event_parse(entry, &set->ev[set->nr++]);
	}
	kfree(copy);
	if (!err && (!set->nr || set->ev[0].kind == HTIER_PEBS_STORE))
		err = -EINVAL;
	return err;
}

/**
 * htier_pebs_events_format() - the set as pebs_events shows it
 * @set: the encodings
 * @buf: output, NUL-terminated
 * @len: size of @buf
 *
 * Return: the length written (without the NUL).
 */
int htier_pebs_events_format(const struct htier_pebs_event_set *set,
			     char *buf, size_t len)
{
	int n = 0;
	unsigned int i;

	buf[0] = '\0';
	for (i = 0; i < set->nr; i++) {
		const struct htier_pebs_event *ev = &set->ev[i];

		n += scnprintf(buf + n, len - n,
			       "%s%s type=%u config=%#llx config1=%#llx precise=%u",
			       i ? "; " : "", htier_pebs_kind_names[ev->kind],
			       ev->type, ev->config, ev->config1, ev->precise);
	}
	return n;
}

#define HTIER_RING_SIZE	4096	/* per CPU, a power of two */

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
	/*
	 * One ring per possible CPU, [cpu]: kvzalloc'd one by one, since a
	 * ring (~64 KiB) exceeds what alloc_percpu() may hand out (32 KiB).
	 */
	struct htier_ring **rings;
	struct perf_event **events;	/* [cpu * nr_event_types + i] */
	unsigned int nr_types;
	unsigned int period;
	u64 last_drain_ns;
	atomic_t probe_total, probe_addr;
	bool probing;
	int hp_state;		/* CPU hotplug state, > 0 while registered */
};

static struct htier_pebs pebs;
/* events[]: the htier thread's, and a sysfs writer's stopping the sampler. */
static DEFINE_MUTEX(htier_pebs_ev_lock);

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
	ring = pebs.rings[smp_processor_id()];
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

	if (pebs.hp_state > 0)
		cpuhp_remove_state_nocalls(pebs.hp_state);
	pebs.hp_state = 0;
	mutex_lock(&htier_pebs_ev_lock);
	for (i = 0; pebs.events && i < n; i++)
		if (pebs.events[i])
			perf_event_release_kernel(pebs.events[i]);
	kfree(pebs.events);
	pebs.events = NULL;
	mutex_unlock(&htier_pebs_ev_lock);
}

static void htier_pebs_free_rings(void)
{
	unsigned int cpu;

	if (!pebs.rings)
		return;
	for_each_possible_cpu(cpu)
		kvfree(pebs.rings[cpu]);
	kfree(pebs.rings);
	pebs.rings = NULL;
}

static struct htier_ring **htier_pebs_alloc_rings(void)
{
	unsigned int cpu;

	pebs.rings = kcalloc(nr_cpu_ids, sizeof(*pebs.rings), GFP_KERNEL);
	if (!pebs.rings)
		return NULL;
	for_each_possible_cpu(cpu) {
		pebs.rings[cpu] = kvzalloc_node(sizeof(struct htier_ring),
						GFP_KERNEL, cpu_to_node(cpu));
		if (!pebs.rings[cpu]) {
			htier_pebs_free_rings();
			return NULL;
		}
	}
	return pebs.rings;
}

static bool htier_pebs_sw(void)
{
	return !strcmp(pebs_source, "sw-page-faults");
}

static struct perf_event *htier_pebs_create(int cpu, unsigned int type,
					    bool probe)
{
	const struct htier_pebs_event *ev = &htier_pebs_set.ev[type];
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
		attr.type = ev->type;
		attr.config = ev->config;
		attr.config1 = ev->config1;
		attr.precise_ip = ev->precise;
	}
	/*
	 * The probe counts this task's own accesses wherever it runs (cpu
	 * -1, task current): a counter on one CPU would miss the probe load
	 * of a task that migrated after choosing it.
	 */
	return perf_event_create_kernel_counter(&attr, probe ? -1 : cpu,
						probe ? current : NULL,
						htier_pebs_overflow, NULL);
}

/* Count probe samples while this task touches memory; kernel ones count. */
static void htier_pebs_probe_load(void)
{
	unsigned long *buf = vzalloc(1 << 20);
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

/*
 * PEBS is Intel's.  AMD has IBS instead, which htier does not drive (out of
 * scope): say so, but keep "no PMU" where there is no PMU at all (TCG).
 */
static int htier_pebs_refuse_vendor(struct htier_ctx *ctx, int cpu)
{
	struct perf_event_attr attr = {
		.size = sizeof(attr), .type = PERF_TYPE_HARDWARE,
		.config = PERF_COUNT_HW_CPU_CYCLES, .disabled = 1,
	};
	struct perf_event *ev;
	bool amd = boot_cpu_data.x86_vendor == X86_VENDOR_AMD ||
		   boot_cpu_data.x86_vendor == X86_VENDOR_HYGON;

	ev = perf_event_create_kernel_counter(&attr, cpu, NULL, NULL, NULL);
	if (IS_ERR(ev)) {
		htier_set_reason(ctx, "no PMU with precise memory events (%s CPU; perf_event_create_kernel_counter: %ld)",
			 amd ? "AMD" : "non-Intel", PTR_ERR(ev));
		return -ENODEV;
	}
	perf_event_release_kernel(ev);
	htier_set_reason(ctx, "%s", amd ? "AMD CPU: PMU without PEBS (IBS sampling is out of htier's scope)" :
		 "non-Intel CPU: PMU without PEBS");
	return -EOPNOTSUPP;
}

/*
 * CPU hotplug: the callbacks only note which CPUs changed; the htier thread
 * then releases their old events and creates new ones for those online
 * (htier_pebs_sync_cpus()).  perf events are neither created nor released
 * from a hotplug callback: that deadlocked here against perf's own work,
 * which waits for the hotplug lock.  A CPU's events do not survive its
 * going offline (perf detaches them), so one that came back needs new ones.
 */
static DECLARE_BITMAP(htier_pebs_cpu_changed, NR_CPUS);

static int htier_pebs_cpu_note(unsigned int cpu)
{
	set_bit(cpu, htier_pebs_cpu_changed);
	return 0;	/* never hold a CPU back */
}

static void htier_pebs_sync_cpus(void)
{
	unsigned int cpu, t;

	if (bitmap_empty(htier_pebs_cpu_changed, nr_cpu_ids))
		return;
	cpus_read_lock();
	mutex_lock(&htier_pebs_ev_lock);
	for_each_set_bit(cpu, htier_pebs_cpu_changed, nr_cpu_ids) {
		clear_bit(cpu, htier_pebs_cpu_changed);
		for (t = 0; pebs.events && t < pebs.nr_types; t++) {
			struct perf_event **slot =
				&pebs.events[cpu * pebs.nr_types + t];
			struct perf_event *ev;

			if (*slot)
				perf_event_release_kernel(*slot);
			*slot = NULL;
			if (!cpu_online(cpu))
				continue;
			ev = htier_pebs_create(cpu, t, false);
			if (IS_ERR(ev)) {
				if (t == 0)
					pr_warn("pebs: cpu %u came online, its event failed: %ld; not sampled\n",
						cpu, PTR_ERR(ev));
				continue;
			}
			*slot = ev;
		}
	}
	mutex_unlock(&htier_pebs_ev_lock);
	cpus_read_unlock();
}

static int htier_pebs_start(struct htier_ctx *ctx)
{
	struct perf_event *probe;
	unsigned int cpu, t;
	int err;

	if (!htier_pebs_set_valid) {
		htier_pebs_events_default(&htier_pebs_set);
		htier_pebs_set_valid = true;
	}
	pebs.nr_types = htier_pebs_sw() ? 1 : htier_pebs_set.nr;
	/* Start where sampling is cheap, and come down as the budget allows. */
	pebs.period = max_t(u32, ctx->pebs_sample_period,
			    HTIER_PEBS_INITIAL_PERIOD);

	/* Probe: a counter on this task, kernel included, short load. */
	cpu = raw_smp_processor_id();	/* only for the vendor check's counter */
	if (!htier_pebs_sw() && boot_cpu_data.x86_vendor != X86_VENDOR_INTEL)
		return htier_pebs_refuse_vendor(ctx, cpu);
	if (!htier_pebs_sw())
		pr_info_once("pebs: default encodings %s (family %u model %#x)\n",
			     htier_pebs_model_name() ? "known for this CPU" :
			     "assumed (model not in htier's table)",
			     boot_cpu_data.x86, boot_cpu_data.x86_model);
	atomic_set(&pebs.probe_total, 0);
	atomic_set(&pebs.probe_addr, 0);
	WRITE_ONCE(pebs.probing, true);
	probe = htier_pebs_create(cpu, 0, true);
	if (IS_ERR(probe)) {
		err = PTR_ERR(probe);
		WRITE_ONCE(pebs.probing, false);
		htier_set_reason(ctx, "%s (perf_event_create_kernel_counter: %d)",
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
		htier_set_reason(ctx, "PEBS without data addresses (%d probe samples, none with an address; host hides adaptive PEBS?)",
			 atomic_read(&pebs.probe_total));
		return -EOPNOTSUPP;
	}

	pebs.rings = htier_pebs_alloc_rings();
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
				htier_set_reason(ctx, "cannot create PEBS event on cpu %u: %d",
					 cpu, err);
				goto fail;
			}
			pebs.events[cpu * pebs.nr_types + t] = ev;
		}
	}
	/* CPUs that come online later get their events, leaving ones drop them. */
	bitmap_zero(htier_pebs_cpu_changed, NR_CPUS);
	err = cpuhp_setup_state_nocalls_cpuslocked(CPUHP_AP_ONLINE_DYN,
						   "htier/pebs:online",
						   htier_pebs_cpu_note,
						   htier_pebs_cpu_note);
	if (err < 0)
		pr_warn("pebs: no CPU hotplug callbacks (%d): CPUs onlined later are not sampled\n",
			err);
	pebs.hp_state = max(err, 0);
	cpus_read_unlock();
	pebs.last_drain_ns = ktime_get_ns();
	return 0;

fail:
	htier_pebs_release_events();
	htier_pebs_free_rings();
	return err;
}

/*
 * The period from the budget and the quota together: the most samples
 * pebs_cpu_permil of each CPU pays for, no more than the ranking needs
 * (htier_pebs_period_step()), never below pebs_sample_period.
 */
static void htier_pebs_tune(struct htier_ctx *ctx, u64 nr, u64 elapsed_ns)
{
	struct htier_pebs_budget b = {
		.samples = nr,
		.elapsed_ns = elapsed_ns,
		.nr_cpus = num_online_cpus(),
		.cpu_permil = ctx->pebs_cpu_permil,
		.need = htier_pebs_need(min_t(u64, ctx->quota_pages_now,
					      ctx->table.nr_used)),
	};
	u64 i, n = nr_cpu_ids * pebs.nr_types;
	unsigned int period;

	if (htier_pebs_sw() || !elapsed_ns)
		return;
	period = htier_pebs_period_step(pebs.period, &b, ctx->pebs_sample_period);
	if (period == pebs.period)
		return;
	pebs.period = period;
	mutex_lock(&htier_pebs_ev_lock);
	for (i = 0; pebs.events && i < n; i++)
		if (pebs.events[i])
			perf_event_period(pebs.events[i], period);
	mutex_unlock(&htier_pebs_ev_lock);
}

/* The last process a sample came from: samples arrive in runs per task. */
struct htier_pebs_slot_cache {
	pid_t tgid;
	u32 slot;
};

/**
 * htier_pebs_record() - credit one sampled access to its page
 * @ctx: the module context
 * @cache: the drain's tgid -> slot cache
 * @tgid: the process the sample came from
 * @addr: the data address
 *
 * Return: true if the page is tracked (the sample counted).
 */
static bool htier_pebs_record(struct htier_ctx *ctx,
			      struct htier_pebs_slot_cache *cache, pid_t tgid,
			      u64 addr)
{
	u64 vpn = addr >> PAGE_SHIFT;
	enum htier_tier tier;

	if (tgid != cache->tgid) {
		cache->tgid = tgid;
		cache->slot = htier_scope_slot_of_tgid(ctx, tgid);
	}
	if (!cache->slot)
		return false;
	/* Any page of a huge entry finds it. */
	if (!htier_table_add_heat(&ctx->table, htier_key(cache->slot, vpn),
				  HTIER_PEBS_SAMPLE_HEAT, &tier))
		return false;
	htier_count_sample(ctx, tier);
	return true;
}

static void htier_pebs_collect(struct htier_ctx *ctx)
{
	struct htier_pebs_slot_cache cache = { .tgid = -1 };
	struct htier_cursor from = ctx->cursor;
	u64 now, nr = 0;
	unsigned int cpu;

	/*
	 * Residency and the page set come from a walk, within the round's
	 * budget and resumed from the cursor; heat from samples.
	 */
	ctx->cursor = htier_walk_all(ctx, HTIER_WALK_RESIDENCY, from, from,
				     ktime_get_ns() + ctx->budget_ns,
				     &ctx->walk);
	ctx->went_round = ctx->cursor.slot == from.slot &&
			  ctx->cursor.addr == from.addr;
	for_each_possible_cpu(cpu) {
		struct htier_ring *ring = pebs.rings[cpu];
		unsigned int tail = ring->tail;
		unsigned int head = smp_load_acquire(&ring->head);

		for (; tail != head; tail++) {
			struct htier_sample *s =
				&ring->s[tail & (HTIER_RING_SIZE - 1)];

			htier_pebs_record(ctx, &cache, s->tgid, s->addr);
			nr++;
		}
		smp_store_release(&ring->tail, tail);
	}
	htier_pebs_sync_cpus();
	now = ktime_get_ns();
	htier_pebs_tune(ctx, nr, now - pebs.last_drain_ns);
	pebs.last_drain_ns = now;
}

static void htier_pebs_stop(struct htier_ctx *ctx)
{
	htier_pebs_release_events();
	htier_pebs_free_rings();
}

const struct htier_sampler_ops htier_pebs_ops = {
	.name = "pebs",
	.start = htier_pebs_start,
	.collect = htier_pebs_collect,
	.stop = htier_pebs_stop,
};
