/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the htier BPF tools' loaders share: the checks that turn a missing
 * module or a refused bpf() into one clear line, libbpf's log behind -v,
 * process names, and the stop flag for SIGINT/SIGTERM.
 */
#ifndef __HTIER_BPF_COMMON_H
#define __HTIER_BPF_COMMON_H

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <bpf/libbpf.h>

#define HTIER_SYSFS	"/sys/kernel/mm/htier"

extern volatile sig_atomic_t htier_exiting;
extern bool htier_verbose;

/* 0, or prints why the tool cannot run (module, tracefs) and returns -1. */
struct argp_state;

/* A decimal argument in [min, max], or an argp usage error. */
long htier_parse_num(const char *arg, long min, long max,
		     struct argp_state *state);

int htier_check_module(const char *tool);
/* Prints why loading/attaching BPF failed, naming permission problems. */
void htier_explain_bpf_error(const char *tool, const char *what, int err);
int htier_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args);
void htier_setup_signals(void);
/* /proc/PID/comm into buf, "?" (gone) when unreadable. */
void htier_comm(int pid, char *buf, size_t len);
/* Seconds since the epoch with ms, and "HH:MM:SS" of now. */
double htier_now(void);
void htier_clock(char *buf, size_t len);
/* bcc's print_log2_hist: one line per non-empty log2 bucket. */
void htier_print_log2_hist(FILE *f, const unsigned long long *vals, int n,
			   const char *unit);

#endif /* __HTIER_BPF_COMMON_H */
