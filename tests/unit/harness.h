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

/* A byte buffer that grows as it is written to: initialise with
 * { 0 }, free with t_buf_free. */
struct t_buf {
	uint8_t *p;
	size_t len, cap;
};

/* Append len bytes to the t_buf at arg (a tcp2_out_fn).  0, or
 * TCP2_ENOMEM with the buffer as it was. */
int t_buf_put(void *arg, const void *data, size_t len);

/* Free the bytes; b is then empty again. */
void t_buf_free(struct t_buf *b);

/* Directory of the Debian cryptography test vectors. */
#define T_VECTORS "/usr/lib/python3/dist-packages/cryptography_vectors"

#endif
