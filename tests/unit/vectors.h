/*
 * vectors.h - reader for the "NAME = value" test-vector files of Debian's
 * python3-cryptography-vectors (blank-line separated records).
 */
#ifndef TCP2_TEST_VECTORS_H
#define TCP2_TEST_VECTORS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define V_MAXFIELDS 16

struct v_record {
	int nfields;
	char name[V_MAXFIELDS][32];
	uint8_t *val[V_MAXFIELDS];	/* decoded bytes (hex or "quoted") */
	size_t len[V_MAXFIELDS];
};

/* Read the next record; 1 when one was read, 0 at end of file. */
int v_next(FILE *f, struct v_record *r);

/* The value of a field (case-insensitive name), or NULL. */
const uint8_t *v_get(const struct v_record *r, const char *name, size_t *len);

void v_free(struct v_record *r);

#endif
