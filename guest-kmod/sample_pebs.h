/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The PEBS sampler's event set: the raw perf_event_attr encodings it opens
 * on every CPU.  Built-in defaults by CPU model; userspace (htierctl events
 * --apply, which asks libpfm4) may replace them through sysfs pebs_events.
 */
#ifndef HTIER_SAMPLE_PEBS_H
#define HTIER_SAMPLE_PEBS_H

#include <linux/types.h>

#define HTIER_PEBS_MAX_EVENTS	4

enum htier_pebs_kind {
	HTIER_PEBS_LOAD,	/* retired loads */
	HTIER_PEBS_STORE,	/* retired stores */
	HTIER_PEBS_LDLAT,	/* loads above a latency threshold (config1) */
	NR_HTIER_PEBS_KINDS,
};

/**
 * struct htier_pebs_event - one precise memory event, as perf_event_attr
 * @kind:	what it counts (a label for users; loads come first)
 * @type:	perf_event_attr.type: PERF_TYPE_RAW or a dynamic PMU's type
 * @config:	perf_event_attr.config (event | umask << 8 | ...), nonzero
 * @config1:	perf_event_attr.config1 (load-latency threshold on Intel)
 * @precise:	perf_event_attr.precise_ip, 0-3
 */
struct htier_pebs_event {
	enum htier_pebs_kind kind;
	u32 type;
	u64 config;
	u64 config1;
	u8 precise;
};

struct htier_pebs_event_set {
	unsigned int nr;
	struct htier_pebs_event ev[HTIER_PEBS_MAX_EVENTS];
};

int htier_pebs_events_parse(const char *buf, struct htier_pebs_event_set *set);
int htier_pebs_events_format(const struct htier_pebs_event_set *set,
			     char *buf, size_t len);
void htier_pebs_events_get(struct htier_pebs_event_set *set);
void htier_pebs_events_set(const struct htier_pebs_event_set *set);
void htier_pebs_events_default(struct htier_pebs_event_set *set);

#endif /* HTIER_SAMPLE_PEBS_H */
