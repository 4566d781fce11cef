// SPDX-License-Identifier: GPL-2.0
/*
 * A long-running workload for the unload tests: MiB of memory filled with a
 * known pattern on node 1, its first quarter read continuously, until
 * SIGTERM; then it checks every byte and exits 0 (intact) or 1 (corrupt).
 * With --leader-exits the main thread exits once the memory is ready and a
 * second thread does the work (a process whose thread group leader is gone).
 * Usage: htier_workload MIB [--leader-exits]
 */
#include <signal.h>
#include "htier_test.h"

static volatile sig_atomic_t done;

static void on_term(int sig)
{
	done = 1;
}

static char *region;
static size_t region_pages;

static void *work(void *arg)
{
	uint64_t sum = 0;
	size_t i, bad;

	while (!done)
		for (i = 0; i < region_pages / 4 && !done; i++)
			sum += *(volatile uint64_t *)(region + i * PAGE_SZ);
	bad = check_pattern(region, region_pages);
	printf("htier_workload: %zu corrupt pages (sum %llu)\n", bad,
	       (unsigned long long)sum);
	fflush(stdout);
	exit(bad ? 1 : 0);
}

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 0) : 32;
	bool leader_exits = argc > 2 && !strcmp(argv[2], "--leader-exits");
	size_t bytes = mib << 20;
	pthread_t t;

	region = alloc_on_node(bytes, nr_memory_nodes() > 1 ? 1 : 0);
	region_pages = bytes / PAGE_SZ;
	if (!region) {
		perror("htier_workload: alloc");
		return 2;
	}
	fill_pattern(region, region_pages);
	unbind(region, bytes);
	signal(SIGTERM, on_term);
	printf("htier_workload: %zu MiB ready\n", mib);
	fflush(stdout);
	if (!leader_exits)
		work(NULL);
	if (pthread_create(&t, NULL, work, NULL))
		return 2;
	pthread_exit(NULL);
}
