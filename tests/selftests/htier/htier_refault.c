// SPDX-License-Identifier: GPL-2.0
/*
 * Page-fault generator for the pebs sample-pipeline test: touches MIB of
 * anonymous memory, drops pages with MADV_DONTNEED and touches them again,
 * for SECS seconds, so that faults come back at the same addresses.
 * Usage: htier_refault MIB SECS [all|spread|bunched]
 *   all      every page dropped and refaulted each pass (the default)
 *   spread   all pages stay mapped; each pass refaults a random eighth of
 *            them: faults fall evenly over every 2 MiB range
 *   bunched  all pages stay mapped; each pass refaults the same sixteenth
 *            (every 16th page): faults bunched on a few pages of each range
 */
#include "htier_test.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

static void refault(char *p, size_t i)
{
	madvise(p + i * PAGE_SZ, PAGE_SZ, MADV_DONTNEED);
	p[i * PAGE_SZ] = 1;
}

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 0) : 16;
	double secs = argc > 2 ? atof(argv[2]) : 5;
	const char *mode = argc > 3 ? argv[3] : "all";
	size_t bytes = mib << 20, pages = bytes / PAGE_SZ, i;
	char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	double t0 = now_s();
	unsigned long passes = 0, faults = 0;
	unsigned int seed = 1;

	if (p == MAP_FAILED) {
		perror("htier_refault: mmap");
		return 1;
	}
	if (strcmp(mode, "all") && strcmp(mode, "spread") && strcmp(mode, "bunched")) {
		fprintf(stderr, "htier_refault: unknown mode %s\n", mode);
		return 2;
	}
	madvise(p, bytes, MADV_NOHUGEPAGE);
	/*
	 * Map every page without a fault event (the kernel populates through
	 * GUP, not the fault handler), so that the faults the sampler sees
	 * are only the pattern's.
	 */
	if (madvise(p, bytes, MADV_POPULATE_WRITE))
		for (i = 0; i < pages; i++)
			p[i * PAGE_SZ] = 1;
	while (now_s() - t0 < secs) {
		if (!strcmp(mode, "all")) {
			for (i = 0; i < pages; i++)
				p[i * PAGE_SZ] = 1;
			faults += pages;
		} else {
			for (i = 0; i < pages / 8; i++) {
				size_t k = !strcmp(mode, "spread") ?
					   (size_t)rand_r(&seed) % pages :
					   (i % (pages / 16)) * 16;

				refault(p, k);
				faults++;
			}
		}
		/* Let a round's walk see the pages present before the drop. */
		usleep(300000);
		if (!strcmp(mode, "all"))
			madvise(p, bytes, MADV_DONTNEED);
		passes++;
	}
	printf("htier_refault: %lu passes, %lu faults over %zu MiB (%s)\n",
	       passes, faults, mib, mode);
	return 0;
}
