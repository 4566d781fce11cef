// SPDX-License-Identifier: GPL-2.0
/*
 * Page-fault generator for the pebs sample-pipeline test: touches MIB of
 * anonymous memory, drops it with MADV_DONTNEED and touches it again, for
 * SECS seconds, so every pass faults at the same addresses.
 * Usage: htier_refault MIB SECS
 */
#include "htier_test.h"

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 0) : 16;
	double secs = argc > 2 ? atof(argv[2]) : 5;
	size_t bytes = mib << 20, i;
	char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	double t0 = now_s();
	unsigned long passes = 0;

	if (p == MAP_FAILED) {
		perror("htier_refault: mmap");
		return 1;
	}
	madvise(p, bytes, MADV_NOHUGEPAGE);
	while (now_s() - t0 < secs) {
		for (i = 0; i < bytes; i += PAGE_SZ)
			p[i] = 1;
		/* Let a round's walk see the pages present before the drop. */
		usleep(300000);
		madvise(p, bytes, MADV_DONTNEED);
		passes++;
	}
	printf("htier_refault: %lu passes over %zu MiB\n", passes, mib);
	return 0;
}
