/*
 * fuzz_pack.c - libFuzzer target for base64 line packing (pack.h).
 *
 * Input: one option byte (piece sizes), then the payload.
 * 1. The payload as a packed stream: unpacked in pieces.  Asserts: the
 *    result is 0 or TCP2_EFORMAT, and the unpacker never holds more than
 *    an escape and a block.
 * 2. The payload as input: packed at once and in pieces, then unpacked.
 *    Asserts: both packings are the same bytes, every "linear" piece is
 *    the input itself, all input is stood for, and unpacking gives the
 *    payload back byte for byte.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "pack.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define CHECK(c) do { if (!(c)) abort(); } while (0)
#define VERB	16

struct buf {
	uint8_t *p;
	size_t len, cap, in;
	const uint8_t *src;
};

static int
buf_put(void *arg, const void *data, size_t len)
{
	struct buf *b = arg;

	if (b->len + len > b->cap) {
		b->cap = (b->cap + len) * 2 + 64;
		b->p = realloc(b->p, b->cap);
		CHECK(b->p != NULL);
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
	return 0;
}

static int
pack_put(void *arg, const uint8_t *p, size_t n, size_t in_len, int linear)
{
	struct buf *b = arg;

	CHECK(!linear || (n == in_len && memcmp(p, b->src + b->in, n) == 0));
	b->in += in_len;
	return buf_put(b, p, n);
}

static void
pack(const uint8_t *in, size_t len, size_t piece, struct buf *out)
{
	struct tcp2_pack *k = malloc(sizeof(*k));
	size_t i, n;

	CHECK(k != NULL);
	memset(out, 0, sizeof(*out));
	out->src = in;
	tcp2_pack_init(k, VERB, pack_put, out);
	for (i = 0; i < len; i += n) {
		n = len - i < piece ? len - i : piece;
		CHECK(tcp2_pack_write(k, in + i, n) == 0);
	}
	CHECK(tcp2_pack_finish(k) == 0);
	CHECK(out->in == len);
	free(k);
}

static int
unpack(const uint8_t *in, size_t len, size_t piece, struct buf *out)
{
	struct tcp2_unpack *u = malloc(sizeof(*u));
	size_t i, n;
	int rc = 0;

	CHECK(u != NULL);
	memset(out, 0, sizeof(*out));
	tcp2_unpack_init(u, VERB, buf_put, out);
	for (i = 0; i < len && rc == 0; i += n) {
		n = len - i < piece ? len - i : piece;
		rc = tcp2_unpack_write(u, in + i, n);
		CHECK(tcp2_unpack_held(u) <= TCP2_PACK_HDR + TCP2_PACK_DATA_MAX);
	}
	if (rc == 0)
		rc = tcp2_unpack_finish(u);
	CHECK(rc == 0 || rc == TCP2_EFORMAT);
	free(u);
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf a, b, c;
	size_t piece;

	if (size < 1)
		return 0;
	piece = 1 + data[0] % 97;
	data++;
	size--;
	(void)unpack(data, size, piece, &a);
	free(a.p);
	if (size == 0)
		return 0;
	pack(data, size, size, &a);
	pack(data, size, piece, &b);
	CHECK(a.len == b.len && memcmp(a.p, b.p, a.len) == 0);
	CHECK(unpack(a.p, a.len, piece, &c) == 0);
	CHECK(c.len == size && memcmp(c.p, data, size) == 0);
	free(a.p);
	free(b.p);
	free(c.p);
	return 0;
}
