// SPDX-License-Identifier: GPL-2.0
/*
 * cost_helper: guest-side helper of bench/vm/cost.py (built static by it,
 * runs inside the benchmark guests).  It works on another process's gups
 * region, found in /proc/PID/maps as the anonymous mapping of SIZE bytes:
 *
 *   cost_helper where PID SIZE   pages of the region on each node
 *                                (/proc/PID/numa_maps), one JSON line
 *
 * cost_run.sh checks with it that the region is wholly on node 1 when each
 * measurement starts (gups --reset-on-sigusr1 moves it back in between).
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* The anonymous mapping of exactly @size bytes, else the largest one. */
static int find_region(int pid, uint64_t size, uint64_t *start, uint64_t *end)
{
	char path[64], line[512];
	uint64_t best = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "r");
	if (!f) {
		perror("cost_helper: maps");
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		unsigned long long s, e, off;
		char perms[8], dev[16];
		unsigned long ino;
		int n = 0;

		if (sscanf(line, "%llx-%llx %7s %llx %15s %lu %n", &s, &e, perms,
			   &off, dev, &ino, &n) < 6)
			continue;
		if (ino || perms[0] != 'r' || perms[1] != 'w')
			continue;
		if (line[n] && line[n] != '\n')	/* [heap], [stack], ... */
			continue;
		if (e - s == size) {
			*start = s;
			*end = e;
			best = size;
			break;
		}
		if (e - s > best) {
			best = e - s;
			*start = s;
			*end = e;
		}
	}
	fclose(f);
	if (!best) {
		fprintf(stderr, "cost_helper: no anonymous mapping in pid %d\n",
			pid);
		return -1;
	}
	return 0;
}

/* Pages of the region per node, from /proc/PID/numa_maps (N<node>=<pages>). */
static int do_where(int pid, uint64_t start)
{
	char path[64], line[4096], *p;
	double t0 = now_s();
	int found = 0, first = 1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/numa_maps", pid);
	f = fopen(path, "r");
	if (!f) {
		perror("cost_helper: numa_maps");
		return 1;
	}
	printf("{\"op\":\"where\",\"on_node\":{");
	while (fgets(line, sizeof(line), f)) {
		if (strtoull(line, NULL, 16) != start)
			continue;
		found = 1;
		for (p = strtok(line, " \n"); p; p = strtok(NULL, " \n")) {
			unsigned int node;
			unsigned long n;

			if (sscanf(p, "N%u=%lu", &node, &n) == 2) {
				printf("%s\"%u\":%lu", first ? "" : ",", node, n);
				first = 0;
			}
		}
		break;
	}
	fclose(f);
	printf("},\"found\":%s,\"seconds\":%.2f}\n", found ? "true" : "false",
	       now_s() - t0);
	return !found;
}

int main(int argc, char **argv)
{
	uint64_t size, start = 0, end = 0;
	int pid;

	if (argc < 4 || strcmp(argv[1], "where")) {
		fprintf(stderr, "usage: cost_helper where PID SIZE\n");
		return 2;
	}
	pid = atoi(argv[2]);
	size = strtoull(argv[3], NULL, 0);
	if (find_region(pid, size, &start, &end))
		return 1;
	return do_where(pid, start);
}
