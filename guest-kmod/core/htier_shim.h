/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The few definitions the pure htier core (hotness.c, policy.c) needs, taken
 * from the kernel when built into htier.ko and from libc when the same files
 * are built into the unit tests and the simulator.
 */
#ifndef HTIER_SHIM_H
#define HTIER_SHIM_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/string.h>
#include <linux/bitops.h>
#include <linux/minmax.h>
#else
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int32_t s32;
typedef int64_t s64;
static inline int fls64(u64 x)
{
	return x ? 64 - __builtin_clzll(x) : 0;
}
static inline unsigned int hweight64(u64 x)
{
	return (unsigned int)__builtin_popcountll(x);
}
#define U32_MAX ((u32)~0U)
#define min_t(t, a, b) ((t)(a) < (t)(b) ? (t)(a) : (t)(b))
#define max_t(t, a, b) ((t)(a) > (t)(b) ? (t)(a) : (t)(b))
#endif

#endif /* HTIER_SHIM_H */
