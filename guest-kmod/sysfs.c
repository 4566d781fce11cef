// SPDX-License-Identifier: GPL-2.0
/*
 * htier sysfs interface: /sys/kernel/mm/htier/ (settings) and its stats/
 * directory (counters and the thread's published snapshot).  One value per
 * file; a bad write fails with -EINVAL / -ERANGE / -EBUSY and changes
 * nothing.  Every file is documented in guest-kmod/ABI.md.
 */
#define pr_fmt(fmt) "htier: " fmt

#include <linux/kernel.h>
#include <linux/kernfs.h>
#include <linux/kstrtox.h>
#include <linux/mm.h>
#include <linux/nodemask.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include "compat.h"
#include "htier.h"
#include "sample_pebs.h"

#define HTIER_ATTR_RW(_name) \
	static struct kobj_attribute _name##_attr = __ATTR_RW_MODE(_name, 0644)
#define HTIER_ATTR_RO(_name) \
	static struct kobj_attribute _name##_attr = __ATTR_RO_MODE(_name, 0444)

/* ---- enabled ---------------------------------------------------------- */

static ssize_t enabled_show(struct kobject *k, struct kobj_attribute *a,
			    char *buf)
{
	return sysfs_emit(buf, "%d\n", READ_ONCE(htier.set.enabled));
}

static ssize_t enabled_store(struct kobject *k, struct kobj_attribute *a,
			     const char *buf, size_t count)
{
	bool on;
	int err = kstrtobool(buf, &on);

	if (err)
		return err;
	mutex_lock(&htier.lock);
	WRITE_ONCE(htier.set.enabled, on);
	mutex_unlock(&htier.lock);
	htier_kick(&htier);
	return count;
}
HTIER_ATTR_RW(enabled);

/* ---- sampler ---------------------------------------------------------- */

static ssize_t sampler_show(struct kobject *k, struct kobj_attribute *a,
			    char *buf)
{
	int id, len = 0;

	enum htier_sampler_id active = READ_ONCE(htier.sampler_active);

	for (id = 0; id < NR_HTIER_SAMPLERS; id++)
		len += sysfs_emit_at(buf, len, id == active ? "[%s]%s" : "%s%s",
				     htier_sampler_names[id],
				     id + 1 < NR_HTIER_SAMPLERS ? " " : "\n");
	return len;
}

static ssize_t sampler_store(struct kobject *k, struct kobj_attribute *a,
			     const char *buf, size_t count)
{
	int id, err;

	id = sysfs_match_string(htier_sampler_names, buf);
	if (id < 0)
		return -EINVAL;
	htier_stop_round(&htier);
	err = htier_select_sampler(&htier, id);
	htier_resume_round(&htier);
	return err ? err : count;
}
HTIER_ATTR_RW(sampler);

static ssize_t sampler_reason_show(struct kobject *k, struct kobj_attribute *a,
				   char *buf)
{
	ssize_t len;

	spin_lock(&htier.stats_lock);
	len = sysfs_emit(buf, "%s\n", htier.sampler_reason);
	spin_unlock(&htier.stats_lock);
	return len;
}
HTIER_ATTR_RO(sampler_reason);

/* ---- node lists ------------------------------------------------------- */

static ssize_t htier_nodes_store(nodemask_t *mine, const nodemask_t *other,
				 const char *buf, size_t count)
{
	nodemask_t mask;
	int err;

	if (!strim((char *)buf)[0])
		return -EINVAL;
	err = nodelist_parse(buf, mask);
	if (err)
		return err;
	if (nodes_empty(mask) || !nodes_subset(mask, node_states[N_MEMORY]))
		return -EINVAL;
	mutex_lock(&htier.lock);
	if (nodes_intersects(mask, *other)) {
		mutex_unlock(&htier.lock);
		return -EINVAL;
	}
	*mine = mask;
	mutex_unlock(&htier.lock);
	htier_kick(&htier);
	return count;
}

static ssize_t fast_nodes_show(struct kobject *k, struct kobj_attribute *a,
			       char *buf)
{
	return sysfs_emit(buf, "%*pbl\n", nodemask_pr_args(&htier.set.fast_nodes));
}

static ssize_t fast_nodes_store(struct kobject *k, struct kobj_attribute *a,
				const char *buf, size_t count)
{
	return htier_nodes_store(&htier.set.fast_nodes, &htier.set.slow_nodes, buf,
				 count);
}
HTIER_ATTR_RW(fast_nodes);

static ssize_t slow_nodes_show(struct kobject *k, struct kobj_attribute *a,
			       char *buf)
{
	return sysfs_emit(buf, "%*pbl\n", nodemask_pr_args(&htier.set.slow_nodes));
}

static ssize_t slow_nodes_store(struct kobject *k, struct kobj_attribute *a,
				const char *buf, size_t count)
{
	return htier_nodes_store(&htier.set.slow_nodes, &htier.set.fast_nodes, buf,
				 count);
}
HTIER_ATTR_RW(slow_nodes);

/* ---- quota_bytes ------------------------------------------------------ */

static ssize_t quota_bytes_show(struct kobject *k, struct kobj_attribute *a,
				char *buf)
{
	u64 q = READ_ONCE(htier.set.quota_bytes);

	if (q == U64_MAX)
		return sysfs_emit(buf, "max\n");
	return sysfs_emit(buf, "%llu\n", q);
}

static ssize_t quota_bytes_store(struct kobject *k, struct kobj_attribute *a,
				 const char *buf, size_t count)
{
	u64 q;
	int err;

	if (sysfs_streq(buf, "max")) {
		q = U64_MAX;
	} else {
		err = kstrtou64(buf, 0, &q);
		if (err)
			return err;
		if (q == U64_MAX)
			return -ERANGE;
	}
	mutex_lock(&htier.lock);
	WRITE_ONCE(htier.set.quota_bytes, q);
	mutex_unlock(&htier.lock);
	htier_kick(&htier);
	return count;
}
HTIER_ATTR_RW(quota_bytes);

/* ---- bounded integer tunables ----------------------------------------- */

#define HTIER_U32_TUNABLE(_name, _field, _min, _max)			\
static ssize_t _name##_show(struct kobject *k, struct kobj_attribute *a,\
			    char *buf)					\
{									\
	return sysfs_emit(buf, "%u\n", READ_ONCE(htier._field));	\
}									\
static ssize_t _name##_store(struct kobject *k, struct kobj_attribute *a,\
			     const char *buf, size_t count)		\
{									\
	u32 v;								\
	int err = kstrtou32(buf, 0, &v);				\
									\
	if (err)							\
		return err;						\
	if (v < (_min) || v > (_max))					\
		return -ERANGE;						\
	mutex_lock(&htier.lock);					\
	WRITE_ONCE(htier._field, v);					\
	mutex_unlock(&htier.lock);					\
	htier_kick(&htier);						\
	return count;							\
}									\
HTIER_ATTR_RW(_name)

HTIER_U32_TUNABLE(scan_interval_ms, set.scan_interval_ms, 10, 60000);
HTIER_U32_TUNABLE(scan_interval_max_ms, set.scan_interval_max_ms, 10, 600000);
HTIER_U32_TUNABLE(cooling_period_scans, set.cooling_period_scans, 1, 1000);
HTIER_U32_TUNABLE(migrate_max_mbps, set.migrate_max_mbps, 0, 1000000);
HTIER_U32_TUNABLE(migrate_batch_pages, set.migrate_batch_pages, 1, 65536);
HTIER_U32_TUNABLE(abit_window_ms, set.abit_window_ms, 0, 60000);
HTIER_U32_TUNABLE(cpu_permil, set.cpu_permil, 1, 1000);
HTIER_U32_TUNABLE(cpu_boost_permil, set.cpu_boost_permil, 0, 1000);
HTIER_U32_TUNABLE(pebs_sample_period, pebs_sample_period, 100, 10000000);
HTIER_U32_TUNABLE(pebs_cpu_permil, pebs_cpu_permil, 1, 500);

/* ---- pebs_events ------------------------------------------------------ */

static ssize_t pebs_events_show(struct kobject *k, struct kobj_attribute *a,
				char *buf)
{
	struct htier_pebs_event_set set;
	int len;

	mutex_lock(&htier.round_lock);
	htier_pebs_events_get(&set);
	mutex_unlock(&htier.round_lock);
	len = htier_pebs_events_format(&set, buf, PAGE_SIZE - 1);
	return len + sysfs_emit_at(buf, len, "\n");
}

/*
 * Replace the encodings.  If pebs is running it is restarted with them; if
 * the PMU refuses them the old ones go back (and are restarted), the write
 * fails with the PMU's error and sampler_reason says why.
 */
static ssize_t pebs_events_store(struct kobject *k, struct kobj_attribute *a,
				 const char *buf, size_t count)
{
	struct htier_pebs_event_set new, old;
	enum htier_sampler_id req;
	char why[sizeof(htier.sampler_reason)];
	int err;

	err = htier_pebs_events_parse(buf, &new);
	if (err)
		return err;
	htier_stop_round(&htier);
	htier_pebs_events_get(&old);
	htier_pebs_events_set(&new);
	if (htier.sampler_active != HTIER_SAMPLER_PEBS)
		goto out;
	req = htier.sampler_req;
	err = htier_select_sampler(&htier, req);
	if (!err && htier.sampler_active == HTIER_SAMPLER_PEBS)
		goto out;
	/* auto fell back to abit, or pebs refused: keep what worked. */
	spin_lock(&htier.stats_lock);
	strscpy(why, htier.sampler_reason, sizeof(why));
	spin_unlock(&htier.stats_lock);
	htier_pebs_events_set(&old);
	htier_select_sampler(&htier, req);
	htier_set_reason(&htier, "pebs_events refused by the PMU, previous kept: %s",
			 why);
	pr_warn("pebs_events refused by the PMU, previous kept: %s\n", why);
	if (!err)
		err = -EOPNOTSUPP;
out:
	htier_resume_round(&htier);
	htier_kick(&htier);
	return err ? err : count;
}
HTIER_ATTR_RW(pebs_events);

/* ---- scope ------------------------------------------------------------ */

static ssize_t scope_pids_show(struct kobject *k, struct kobj_attribute *a,
			       char *buf)
{
	int i, len = 0;

	mutex_lock(&htier.lock);
	for (i = 0; i < htier.set.nr_scope_pids; i++)
		len += sysfs_emit_at(buf, len, "%s%d", i ? "," : "",
				     htier.set.scope_pids[i]);
	len += sysfs_emit_at(buf, len, "\n");
	mutex_unlock(&htier.lock);
	return len;
}

/* "all" (or "0") manages every user process; else up to 16 pids, a,b,c. */
static ssize_t scope_pids_store(struct kobject *k, struct kobj_attribute *a,
				const char *buf, size_t count)
{
	pid_t pids[ARRAY_SIZE(htier.set.scope_pids)];
	char *copy, *cur, *tok;
	u32 n = 0;
	int err = 0;

	if (sysfs_streq(buf, "all") || sysfs_streq(buf, "0"))
		goto apply;
	copy = kstrdup(buf, GFP_KERNEL);
	if (!copy)
		return -ENOMEM;
	cur = strim(copy);
	if (!*cur)
		err = -EINVAL;
	while (!err && (tok = strsep(&cur, ",")) != NULL) {
		s32 pid;

		err = kstrtos32(strim(tok), 10, &pid);
		if (!err && pid <= 0)
			err = -EINVAL;
		if (!err && n == ARRAY_SIZE(pids))
			err = -ERANGE;
		if (!err)
			pids[n++] = pid;
	}
	kfree(copy);
	if (err)
		return err;
apply:
	mutex_lock(&htier.lock);
	memcpy(htier.set.scope_pids, pids, n * sizeof(pids[0]));
	htier.set.nr_scope_pids = n;
	mutex_unlock(&htier.lock);
	htier_kick(&htier);
	return count;
}
HTIER_ATTR_RW(scope_pids);

static ssize_t scope_cgroup_show(struct kobject *k, struct kobj_attribute *a,
				 char *buf)
{
	ssize_t len;

	mutex_lock(&htier.lock);
	len = sysfs_emit(buf, "%s\n", htier.scope_cgroup);
	mutex_unlock(&htier.lock);
	return len;
}

static ssize_t scope_cgroup_store(struct kobject *k, struct kobj_attribute *a,
				  const char *buf, size_t count)
{
	char *path = kstrndup(buf, PAGE_SIZE, GFP_KERNEL);
	int err;

	if (!path)
		return -ENOMEM;
	mutex_lock(&htier.lock);
	err = htier_scope_set_cgroup(&htier, strim(path));
	mutex_unlock(&htier.lock);
	kfree(path);
	if (!err)
		htier_kick(&htier);
	return err ? err : count;
}
HTIER_ATTR_RW(scope_cgroup);

static struct attribute *htier_attrs[] = {
	&enabled_attr.attr,
	&sampler_attr.attr,
	&sampler_reason_attr.attr,
	&fast_nodes_attr.attr,
	&slow_nodes_attr.attr,
	&quota_bytes_attr.attr,
	&scan_interval_ms_attr.attr,
	&scan_interval_max_ms_attr.attr,
	&cooling_period_scans_attr.attr,
	&migrate_max_mbps_attr.attr,
	&migrate_batch_pages_attr.attr,
	&abit_window_ms_attr.attr,
	&cpu_permil_attr.attr,
	&cpu_boost_permil_attr.attr,
	&pebs_sample_period_attr.attr,
	&pebs_cpu_permil_attr.attr,
	&pebs_events_attr.attr,
	&scope_pids_attr.attr,
	&scope_cgroup_attr.attr,
	NULL,
};

static const struct attribute_group htier_group = {
	.attrs = htier_attrs,
};

/* ---- stats/ ----------------------------------------------------------- */

#define HTIER_STAT_COUNTER(_name)					\
static ssize_t _name##_show(struct kobject *k, struct kobj_attribute *a,\
			    char *buf)					\
{									\
	return sysfs_emit(buf, "%lld\n",				\
			  atomic64_read(&htier.stats._name));		\
}									\
HTIER_ATTR_RO(_name)

#define HTIER_STAT_SNAPSHOT(_name)					\
static ssize_t _name##_show(struct kobject *k, struct kobj_attribute *a,\
			    char *buf)					\
{									\
	u64 v;								\
									\
	spin_lock(&htier.stats_lock);					\
	v = htier.stats._name;						\
	spin_unlock(&htier.stats_lock);					\
	return sysfs_emit(buf, "%llu\n", v);				\
}									\
HTIER_ATTR_RO(_name)

HTIER_STAT_COUNTER(promoted_pages);
HTIER_STAT_COUNTER(demoted_pages);
HTIER_STAT_COUNTER(promote_failed);
HTIER_STAT_COUNTER(demote_failed);
HTIER_STAT_COUNTER(samples);
HTIER_STAT_COUNTER(samples_fast);
HTIER_STAT_COUNTER(samples_slow);
HTIER_STAT_COUNTER(rounds);
HTIER_STAT_COUNTER(thp_split);
HTIER_STAT_COUNTER(migrate_us);

static ssize_t abit_window_us_show(struct kobject *k,
				   struct kobj_attribute *a, char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(htier.abit_window_us));
}
HTIER_ATTR_RO(abit_window_us);

static ssize_t scan_interval_now_ms_show(struct kobject *k,
					 struct kobj_attribute *a, char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(htier.interval_ms));
}
HTIER_ATTR_RO(scan_interval_now_ms);
HTIER_STAT_SNAPSHOT(fast_resident_bytes);
HTIER_STAT_SNAPSHOT(slow_resident_bytes);
HTIER_STAT_SNAPSHOT(other_resident_bytes);
HTIER_STAT_SNAPSHOT(hot_set_bytes);
HTIER_STAT_SNAPSHOT(active_bytes);
HTIER_STAT_SNAPSHOT(tracked_pages);
HTIER_STAT_SNAPSHOT(managed_processes);
HTIER_STAT_SNAPSHOT(unmovable_bytes);
HTIER_STAT_SNAPSHOT(large_folio_bytes);
HTIER_STAT_SNAPSHOT(scope_full);
HTIER_STAT_SNAPSHOT(last_round_us);
HTIER_STAT_SNAPSHOT(last_migrate_us);
HTIER_STAT_SNAPSHOT(table_full);
HTIER_STAT_SNAPSHOT(tracked_regions);
HTIER_STAT_SNAPSHOT(table_bytes);
HTIER_STAT_SNAPSHOT(coverage_permil);
HTIER_STAT_SNAPSHOT(cpu_permil_now);
HTIER_STAT_SNAPSHOT(boost_ms);
HTIER_STAT_SNAPSHOT(boost_grew);
HTIER_STAT_SNAPSHOT(boost_jumped);
HTIER_STAT_SNAPSHOT(boost_moving);
HTIER_STAT_SNAPSHOT(boost_owed);
HTIER_STAT_SNAPSHOT(aged_rounds);
HTIER_STAT_SNAPSHOT(spread_regions);
HTIER_STAT_SNAPSHOT(owed_pages);
HTIER_STAT_SNAPSHOT(thread_cpu_permil);
HTIER_STAT_SNAPSHOT(track_us_total);
HTIER_STAT_SNAPSHOT(ptes_scanned);
HTIER_STAT_SNAPSHOT(pmds_read);
HTIER_STAT_SNAPSHOT(pmds_idle);
HTIER_STAT_SNAPSHOT(lock_yields);
HTIER_STAT_SNAPSHOT(full_passes);
HTIER_STAT_SNAPSHOT(sample_windows);

static ssize_t hotness_histogram_show(struct kobject *k,
				      struct kobj_attribute *a, char *buf)
{
	u64 hist[HTIER_NR_BINS];
	int b, len = 0;

	spin_lock(&htier.stats_lock);
	memcpy(hist, htier.stats.histogram, sizeof(hist));
	spin_unlock(&htier.stats_lock);
	for (b = 0; b < HTIER_NR_BINS; b++)
		len += sysfs_emit_at(buf, len, "%llu%s", hist[b],
				     b + 1 < HTIER_NR_BINS ? " " : "\n");
	return len;
}
HTIER_ATTR_RO(hotness_histogram);

static struct attribute *htier_stats_attrs[] = {
	&fast_resident_bytes_attr.attr,
	&slow_resident_bytes_attr.attr,
	&other_resident_bytes_attr.attr,
	&hot_set_bytes_attr.attr,
	&active_bytes_attr.attr,
	&promoted_pages_attr.attr,
	&demoted_pages_attr.attr,
	&promote_failed_attr.attr,
	&demote_failed_attr.attr,
	&samples_attr.attr,
	&samples_fast_attr.attr,
	&samples_slow_attr.attr,
	&hotness_histogram_attr.attr,
	&rounds_attr.attr,
	&thp_split_attr.attr,
	&migrate_us_attr.attr,
	&abit_window_us_attr.attr,
	&scan_interval_now_ms_attr.attr,
	&tracked_pages_attr.attr,
	&managed_processes_attr.attr,
	&unmovable_bytes_attr.attr,
	&large_folio_bytes_attr.attr,
	&scope_full_attr.attr,
	&last_round_us_attr.attr,
	&last_migrate_us_attr.attr,
	&table_full_attr.attr,
	&tracked_regions_attr.attr,
	&table_bytes_attr.attr,
	&coverage_permil_attr.attr,
	&cpu_permil_now_attr.attr,
	&boost_ms_attr.attr,
	&boost_grew_attr.attr,
	&boost_jumped_attr.attr,
	&boost_moving_attr.attr,
	&boost_owed_attr.attr,
	&aged_rounds_attr.attr,
	&spread_regions_attr.attr,
	&owed_pages_attr.attr,
	&thread_cpu_permil_attr.attr,
	&track_us_total_attr.attr,
	&ptes_scanned_attr.attr,
	&pmds_read_attr.attr,
	&pmds_idle_attr.attr,
	&lock_yields_attr.attr,
	&full_passes_attr.attr,
	&sample_windows_attr.attr,
	NULL,
};

static const struct attribute_group htier_stats_group = {
	.name = "stats",
	.attrs = htier_stats_attrs,
};

static const struct attribute_group *htier_groups[] = {
	&htier_group,
	&htier_stats_group,
	NULL,
};

/*
 * /sys/kernel/mm's kobject, the same way on every kernel (mm_kobj is not
 * exported from 6.12 on, compat.h): the private data of a kobject's sysfs
 * directory node is the kobject.
 */
struct kobject *htier_mm_kobj_get(void)
{
	struct kobject *kobj = NULL;
	struct kernfs_node *kn;

	kn = kernfs_find_and_get(kernel_kobj->sd, "mm");
	if (!kn)
		return NULL;
	if (kernfs_type(kn) == KERNFS_DIR && kn->priv)
		kobj = kobject_get(kn->priv);
	kernfs_put(kn);
	return kobj;
}

/**
 * htier_sysfs_init() - create /sys/kernel/mm/htier
 * @ctx: the module context
 *
 * Return: 0 or a negative errno.
 */
int htier_sysfs_init(struct htier_ctx *ctx)
{
	struct kobject *mm = htier_mm_kobj_get();
	int err;

	if (!mm) {
		pr_err("/sys/kernel/mm not found\n");
		return -ENOENT;
	}
	ctx->kobj = kobject_create_and_add("htier", mm);
	kobject_put(mm);	/* the child holds its parent */
	if (!ctx->kobj)
		return -ENOMEM;
	err = sysfs_create_groups(ctx->kobj, htier_groups);
	if (err) {
		kobject_put(ctx->kobj);
		ctx->kobj = NULL;
	}
	return err;
}

/**
 * htier_sysfs_exit() - remove /sys/kernel/mm/htier
 * @ctx: the module context
 */
void htier_sysfs_exit(struct htier_ctx *ctx)
{
	if (!ctx->kobj)
		return;
	sysfs_remove_groups(ctx->kobj, htier_groups);
	kobject_put(ctx->kobj);
	ctx->kobj = NULL;
}
