/*
 * harness.h - the smallest test harness that can work: each check prints
 * "ok - name" or "not ok - name" (TAP-like), tests/run counts the lines.
 */
#ifndef TCP2_TEST_HARNESS_H
#define TCP2_TEST_HARNESS_H

#include <stddef.h>
#include <stdint.h>

/* Record one check; returns cond so callers can stop early. */
int t_check(int cond, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Print the summary; returns the process exit status. */
int t_done(void);

/* Hex string to bytes; returns the byte count or -1. */
long t_unhex(uint8_t *out, size_t max, const char *hex);

/* Read a whole file into a malloc'd NUL-terminated buffer, or NULL. */
char *t_slurp(const char *path, size_t *len);

/* Directory of the Debian cryptography test vectors. */
#define T_VECTORS "/usr/lib/python3/dist-packages/cryptography_vectors"

#endif
