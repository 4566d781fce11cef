// SPDX-License-Identifier: GPL-2.0
/*
 * A long-running workload for the unload tests: MiB of memory filled with a
 * known pattern on node 1, its first quarter read continuously, until
 * SIGTERM; then it checks every byte and exits 0 (intact) or 1 (corrupt).
 * Usage: htier_workload MIB
 */
#include <signal.h>
#include "htier_test.h"

static volatile sig_atomic_t done;

static void on_term(int sig)
{
	done = 1;
}

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 0) : 32;
	size_t bytes = mib << 20, npages = bytes / PAGE_SZ, i, bad;
	char *p = alloc_on_node(bytes, nr_memory_nodes() > 1 ? 1 : 0);
	uint64_t sum = 0;

	if (!p) {
		perror("htier_workload: alloc");
		return 2;
	}
	fill_pattern(p, npages);
	unbind(p, bytes);
	signal(SIGTERM, on_term);
	printf("htier_workload: %zu MiB ready\n", mib);
	fflush(stdout);
	while (!done)
		for (i = 0; i < npages / 4 && !done; i++)
			sum += *(volatile uint64_t *)(p + i * PAGE_SZ);
	bad = check_pattern(p, npages);
	printf("htier_workload: %zu corrupt pages (sum %llu)\n", bad,
	       (unsigned long long)sum);
	return bad ? 1 : 0;
}
