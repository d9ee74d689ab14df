/*
 * fuzz_header.c - libFuzzer target for the RFC 5322 header helpers
 * (header.h) and tcp2_msg_is_encrypted.
 *
 * Walks the input with tcp2_hdr_next as a header block, once as if more
 * could follow (at_eof 0) and once as the whole input (at_eof 1), and runs
 * tcp2_hdr_addr and tcp2_hdr_param on every field value.  Asserts: every
 * field and *consumed lie inside the input, name and value are where the
 * field says, an address is NUL-terminated inside TCP2_ADDR_MAX, has no
 * upper-case letter and exactly one '@', a parameter is NUL-terminated
 * inside its buffer; tcp2_addr_norm of an address gives it back unchanged.
 * The input is copied to a heap buffer of its exact size so that ASan
 * sees any read past the length given.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "header.h"
#include "message.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define CHECK(c) do { if (!(c)) abort(); } while (0)

/* A pointer range [p, p + n) inside [buf, buf + len). */
static int
inside(const char *buf, size_t len, const char *p, size_t n)
{
	return p >= buf && (size_t)(p - buf) <= len &&
	    n <= len - (size_t)(p - buf);
}

static void
check_addr(const char *a)
{
	char again[TCP2_ADDR_MAX];
	const char *nul;
	size_t i, at = 0;

	nul = memchr(a, '\0', TCP2_ADDR_MAX);
	CHECK(nul != NULL && nul != a);
	for (i = 0; a[i] != '\0'; i++) {
		CHECK(a[i] < 'A' || a[i] > 'Z');
		if (a[i] == '@')
			at++;
	}
	CHECK(at == 1);
	/* A normalised address is a fixed point of the normaliser. */
	CHECK(tcp2_addr_norm(a, again) == 0 && strcmp(a, again) == 0);
}

static void
check_param(const char *value, size_t len, const char *name)
{
	char out[72];
	int rc;

	memset(out, 0x5a, sizeof(out));
	rc = tcp2_hdr_param(value, len, name, out, sizeof(out));
	CHECK(rc == 0 || rc == TCP2_ENOENT || rc == TCP2_ETOOBIG);
	if (rc == 0)
		CHECK(memchr(out, '\0', sizeof(out)) != NULL);
}

static void
check_field(const char *buf, size_t len, const struct tcp2_hdr_field *f,
    size_t used)
{
	char addr[TCP2_ADDR_MAX];
	int rc;

	CHECK(used > 0 && used <= len);
	CHECK(f->name == buf && f->rawlen == used);
	CHECK(f->namelen > 0 && f->namelen < used);
	CHECK(buf[f->namelen] == ':' && f->value == buf + f->namelen + 1);
	CHECK(inside(buf, used, f->value, f->valuelen));
	(void)tcp2_hdr_is(f, "From");

	memset(addr, 0x5a, sizeof(addr));
	rc = tcp2_hdr_addr(f->value, f->valuelen, addr);
	CHECK(rc == 0 || rc == TCP2_EFORMAT);
	if (rc == 0)
		check_addr(addr);
	check_param(f->value, f->valuelen, "boundary");
	check_param(f->value, f->valuelen, "protocol");
}

/* Walk the header block as tcp2_hdr_next's callers do. */
static void
walk(const char *buf, size_t len, int at_eof)
{
	struct tcp2_hdr_field f;
	enum tcp2_hdr_status st;
	size_t used;

	for (;;) {
		used = (size_t)-1;
		st = tcp2_hdr_next(buf, len, at_eof, &f, &used);
		if (st == TCP2_HDR_END)
			CHECK(used >= 1 && used <= 2 && used <= len);
		if (st != TCP2_HDR_FIELD)
			break;
		check_field(buf, len, &f, used);
		buf += used;
		len -= used;
	}
	CHECK(st == TCP2_HDR_END || st == TCP2_HDR_MORE ||
	    st == TCP2_HDR_BODY);
	/* Only a caller that may get more bytes is told to wait. */
	CHECK(!(at_eof && st == TCP2_HDR_MORE));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char addr[TCP2_ADDR_MAX], *buf;
	int enc;

	buf = malloc(size ? size : 1);
	CHECK(buf != NULL);
	if (size > 0)
		memcpy(buf, data, size);
	walk(buf, size, 0);
	walk(buf, size, 1);
	/* Also as a bare address-list value and a Content-Type value. */
	if (tcp2_hdr_addr(buf, size, addr) == 0)
		check_addr(addr);
	check_param(buf, size, "boundary");
	enc = tcp2_msg_is_encrypted(buf, size);
	CHECK(enc == 0 || enc == 1);
	free(buf);
	return 0;
}
