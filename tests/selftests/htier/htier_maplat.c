// SPDX-License-Identifier: GPL-2.0
/*
 * htier_maplat: how long mmap + first touch + munmap of a small chunk takes
 * while another thread of the same process keeps a large region busy -- the
 * latency a tenant sees when something (htier's page-table walker, a
 * migration) holds the mmap lock of a big address space.
 *
 *   htier_maplat --busy-mb N [--bind-node K] [--thp] [--cpu C] [--busy-nice P]
 *                --seconds S [--chunk-kb 64]
 *
 * The N MiB region is touched first (on node K when given, then its policy
 * is reset to the default so that pages may move), in 4 KiB pages unless
 * --thp.  --cpu C runs both threads on CPU C (the rest of the machine is
 * left to everything else, htier's thread included); --busy-nice P runs
 * the busy thread at nice value P (so that it takes less of a shared CPU
 * from the timed loop).  At the end one JSON line:
 *   {"iterations":..,"p50_us":..,"p99_us":..,"max_us":..}
 * (then "top_us", the longest iterations, longest first, the settings and
 * the busy thread's passes over the region).
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include "htier_maplat.h"

static void usage(FILE *f)
{
	fprintf(f,
"usage: htier_maplat --busy-mb N [--bind-node K] [--thp] [--cpu C] [--busy-nice P]\n"
"                    --seconds S [--chunk-kb KB]\n"
"  --busy-mb N      region a thread keeps reading (0: none)\n"
"  --bind-node K    place the region on node K first (mbind, touch, reset)\n"
"  --thp            allow transparent huge pages in the region (default 4 KiB)\n"
"  --cpu C          run both threads on CPU C only (default: anywhere)\n"
"  --busy-nice P    nice value of the busy thread (default 0)\n"
"  --seconds S      how long the mmap/touch/munmap loop runs\n"
"  --chunk-kb KB    size of each mapping in the loop (default 64)\n"
"Prints {\"iterations\":..,\"p50_us\":..,\"p99_us\":..,\"max_us\":..}\n");
}

static int parse_num(const char *s, double min, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || v < min)
		return -1;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "busy-mb", required_argument, NULL, 'b' },
		{ "bind-node", required_argument, NULL, 'n' },
		{ "thp", no_argument, NULL, 't' },
		{ "cpu", required_argument, NULL, 'C' },
		{ "busy-nice", required_argument, NULL, 'N' },
		{ "seconds", required_argument, NULL, 's' },
		{ "chunk-kb", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	double busy_mb = -1, seconds = -1, chunk_kb = 64, node = -1, cpu = -1;
	double nice = 0;
	struct maplat_busy busy;
	struct maplat_result r;
	bool thp = false;
	unsigned long passes;
	int c, err, i;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'b': if (parse_num(optarg, 0, &busy_mb)) goto bad; break;
		case 'n': if (parse_num(optarg, 0, &node) || node != (int)node) goto bad; break;
		case 't': thp = true; break;
		case 'N': if (parse_num(optarg, -20, &nice) || nice != (int)nice || nice > 19) goto bad; break;
		case 'C': if (parse_num(optarg, 0, &cpu) || cpu != (int)cpu) goto bad; break;
		case 's': if (parse_num(optarg, 0, &seconds)) goto bad; break;
		case 'c': if (parse_num(optarg, 4, &chunk_kb)) goto bad; break;
		case 'h': usage(stdout); return 0;
		default: goto bad;
		}
	}
	if (optind != argc || busy_mb < 0 || seconds < 0)
		goto bad;

	if (cpu >= 0 && (err = maplat_pin((int)cpu))) {
		fprintf(stderr, "htier_maplat: CPU %d: %s\n", (int)cpu,
			strerror(-err));
		return 1;
	}
	err = maplat_busy_start(&busy, (size_t)(busy_mb * 1024 * 1024),
				(int)node, thp, (int)nice);
	if (err) {
		fprintf(stderr, "htier_maplat: busy region of %.0f MiB%s: %s\n",
			busy_mb, node >= 0 ? " on the node asked for" : "",
			strerror(-err));
		return 1;
	}
	err = maplat_loop((size_t)(chunk_kb * 1024), seconds, &r);
	passes = atomic_load(&busy.passes);
	maplat_busy_stop(&busy);
	if (err) {
		fprintf(stderr, "htier_maplat: mmap loop: %s\n", strerror(-err));
		return 1;
	}
	printf("{\"iterations\":%zu,\"p50_us\":%.1f,\"p99_us\":%.1f,\"max_us\":%.1f,"
	       "\"top_us\":[", r.iterations, r.p50_us, r.p99_us, r.max_us);
	for (i = 0; i < MAPLAT_TOP && (size_t)i < r.iterations; i++)
		printf("%s%.1f", i ? "," : "", r.top_us[i]);
	printf("],\"busy_mb\":%.0f,\"bind_node\":%d,\"thp\":%s,\"cpu\":%d,"
	       "\"busy_nice\":%d,\"chunk_kb\":%.0f,\"seconds\":%g,"
	       "\"busy_passes\":%lu}\n",
	       busy_mb, (int)node, thp ? "true" : "false", (int)cpu, (int)nice,
	       chunk_kb, seconds, passes);
	return 0;
bad:
	usage(stderr);
	return 2;
}
