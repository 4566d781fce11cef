// SPDX-License-Identifier: GPL-2.0
/* Shared loader code of the htier BPF tools; see common.h. */
#include <argp.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include "common.h"

volatile sig_atomic_t htier_exiting;
bool htier_verbose;

static int read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

int htier_check_module(const char *tool)
{
	if (access(HTIER_SYSFS, F_OK)) {
		fprintf(stderr, "%s: htier module not loaded (no %s): load htier.ko first\n",
			tool, HTIER_SYSFS);
		return -1;
	}
	if (access("/sys/kernel/tracing/events/htier", F_OK) &&
	    access("/sys/kernel/debug/tracing/events/htier", F_OK)) {
		fprintf(stderr, "%s: htier tracepoints not found: mount tracefs "
			"(mount -t tracefs tracefs /sys/kernel/tracing)\n", tool);
		return -1;
	}
	return 0;
}

void htier_explain_bpf_error(const char *tool, const char *what, int err)
{
	char val[16] = "?";

	if (err < 0)
		err = -err;
	if (err == EPERM || err == EACCES) {
		read_small("/proc/sys/kernel/unprivileged_bpf_disabled", val, sizeof(val));
		fprintf(stderr, "%s: BPF not permitted (%s: %s): run as root, or "
			"with CAP_BPF and CAP_PERFMON (kernel.unprivileged_bpf_disabled=%s)\n",
			tool, what, strerror(err), val);
		return;
	}
	if (err == ENOENT)
		fprintf(stderr, "%s: %s: %s (a tracepoint or kernel function is missing: "
			"is this htier.ko the one the tool was built for? -v shows details)\n",
			tool, what, strerror(err));
	else
		fprintf(stderr, "%s: %s: %s (-v shows libbpf's log)\n", tool, what,
			strerror(err));
}

int htier_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG && !htier_verbose)
		return 0;
	return vfprintf(stderr, fmt, args);
}

static void on_signal(int sig)
{
	htier_exiting = 1;
}

void htier_setup_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

void htier_comm(int pid, char *buf, size_t len)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	if (read_small(path, buf, len))
		snprintf(buf, len, "?");
}

double htier_now(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return tv.tv_sec + tv.tv_usec / 1e6;
}

void htier_clock(char *buf, size_t len)
{
	time_t t = time(NULL);
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(buf, len, "%H:%M:%S", &tm);
}

void htier_print_log2_hist(FILE *f, const unsigned long long *vals, int n,
			   const char *unit)
{
	unsigned long long max = 0;
	int i, last = -1, j;

	for (i = 0; i < n; i++) {
		if (vals[i])
			last = i;
		if (vals[i] > max)
			max = vals[i];
	}
	if (last < 0) {
		fprintf(f, "     (none)\n");
		return;
	}
	fprintf(f, "%24s : count    distribution\n", unit);
	for (i = 0; i <= last; i++) {
		unsigned long long lo = i ? 1ULL << i : 0, hi = (1ULL << (i + 1)) - 1;
		int stars = max ? (int)(vals[i] * 40 / max) : 0;

		fprintf(f, "%10llu -> %-10llu : %-8llu |", lo, hi, vals[i]);
		for (j = 0; j < 40; j++)
			fputc(j < stars ? '*' : ' ', f);
		fprintf(f, "|\n");
	}
}

long htier_parse_num(const char *arg, long min, long max,
		     struct argp_state *state)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || *end || v < min || v > max)
		argp_error(state, "invalid number '%s' (%ld-%ld)", arg, min, max);
	return v;
}
