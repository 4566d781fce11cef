// SPDX-License-Identifier: GPL-2.0
/*
 * htier accessed-bit sampler: every round, walk the managed page tables and
 * take each page's accessed bit (then clear it) as one access sample.  Needs
 * no PMU, so it is what runs under QEMU TCG and on clouds whose virtual PMU
 * gives no data addresses.
 */
#define pr_fmt(fmt) "htier: " fmt

#include "htier.h"

static int htier_abit_start(struct htier_ctx *ctx)
{
	return 0;
}

static void htier_abit_collect(struct htier_ctx *ctx)
{
	htier_walk_all(ctx, true);
}

const struct htier_sampler_ops htier_abit_ops = {
	.name = "abit",
	.start = htier_abit_start,
	.collect = htier_abit_collect,
};
