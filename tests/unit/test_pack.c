/*
 * test_pack.c - base64 line packing (pack.h): unpacking restores every
 * input byte for byte, whatever the mix of base64 lines, text, NULs and
 * odd line ends; the packed stream does not depend on how the input was
 * split (one byte at a time, random pieces); canonical lines pack to the
 * bytes they encode, and everything else stays as it was; malformed
 * escapes and blocks are refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "error.h"
#include "harness.h"
#include "pack.h"

#define VERB	100	/* a short verbatim prefix, as the first chunk */

/* What a packing was given: its output, the input it stood for, and
 * whether a "linear" piece was not the input. */
struct packing {
	struct t_buf *out;
	size_t in;
	int linear_bad;
};

static const uint8_t *cur_in;	/* the input being packed */

static int
pack_put(void *arg, const uint8_t *p, size_t n, size_t in_len, int linear)
{
	struct packing *g = arg;

	if (linear && (n != in_len || memcmp(p, cur_in + g->in, n) != 0))
		g->linear_bad = 1;
	g->in += in_len;
	return t_buf_put(g->out, p, n);
}

static uint32_t rng = 12345;

static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

/* Pack in[0..len) in pieces of random size (step 0: at once, 1: byte
 * by byte).  1 when every linear piece was the input and all of it was
 * stood for, else 0. */
static int
pack(const uint8_t *in, size_t len, size_t step, struct t_buf *out)
{
	struct packing g = { out, 0, 0 };
	struct tcp2_pack k;
	size_t i = 0, n;

	memset(out, 0, sizeof(*out));
	cur_in = in;
	tcp2_pack_init(&k, VERB, pack_put, &g);
	while (i < len) {
		n = step == 0 ? len - i : step == 1 ? 1 : 1 + rnd() % step;
		if (n > len - i)
			n = len - i;
		if (tcp2_pack_write(&k, in + i, n) != 0)
			break;
		i += n;
	}
	(void)tcp2_pack_finish(&k);
	return !g.linear_bad && g.in == len;
}

/* Unpack in pieces; the error, if any. */
static int
unpack(const uint8_t *in, size_t len, size_t step, struct t_buf *out,
    size_t *maxheld)
{
	struct tcp2_unpack *u = malloc(sizeof(*u));
	size_t i = 0, n;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	tcp2_unpack_init(u, VERB, t_buf_put, out);
	while (i < len && rc == 0) {
		n = step == 0 ? len - i : step == 1 ? 1 : 1 + rnd() % step;
		if (n > len - i)
			n = len - i;
		rc = tcp2_unpack_write(u, in + i, n);
		if (maxheld != NULL && tcp2_unpack_held(u) > *maxheld)
			*maxheld = tcp2_unpack_held(u);
		i += n;
	}
	if (rc == 0)
		rc = tcp2_unpack_finish(u);
	tcp2_unpack_wipe(u);
	free(u);
	return rc;
}

static void
put(struct t_buf *b, const void *s, size_t n)
{
	(void)t_buf_put(b, s, n);
}

static void
puts_(struct t_buf *b, const char *s)
{
	put(b, s, strlen(s));
}

/* nbytes random bytes as base64 lines of 76 with eol; the last line
 * short and padded when nbytes is not a multiple of 57. */
static void
put_b64(struct t_buf *b, size_t nbytes, const char *eol)
{
	struct tcp2_b64_enc e;
	uint8_t *d = malloc(nbytes + 1);
	char *t = malloc(TCP2_B64_ENC_BOUND(nbytes));
	size_t i, m;

	for (i = 0; i < nbytes; i++)
		d[i] = (uint8_t)rnd();
	tcp2_b64_enc_init(&e, eol);
	m = tcp2_b64_enc_update(&e, t, d, nbytes);
	m += tcp2_b64_enc_final(&e, t + m);
	put(b, t, m);
	free(d);
	free(t);
}

/* One random piece of a message body. */
static void
put_piece(struct t_buf *b)
{
	static const char *const text[] = {
		"Hello, this is text.\r\n", "short\n", "\r\n", "\n",
		"AAAA\r\n", "QUJD\n", "a line with a NUL \0 inside\r\n",
		"no line end", "\r", "AAAA====\r\n", "QUI=\r\n", "QQ==\n",
		"QR==\r\n", "Q===\r\n", "--boundary\r\n", "=\r\n",
		"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAx \r\n",
	};
	static const char *const eols[] = { "\r\n", "\n" };
	uint8_t line[80];
	size_t i;

	switch (rnd() % 6) {
	case 0:
	case 1:
		put_b64(b, rnd() % 4000, eols[rnd() % 2]);
		break;
	case 2:
		i = rnd() % (sizeof(text) / sizeof(text[0]));
		put(b, text[i], i == 6 ? 28 : strlen(text[i]));
		break;
	case 3:
		/* A 76-character line, one byte of it maybe off. */
		for (i = 0; i < 76; i++)
			line[i] = (uint8_t)"ABCDEFGHabcdefgh0123+/"[rnd() % 22];
		if (rnd() % 2)
			line[rnd() % 76] = (uint8_t)"= \t\r\n\0-"[rnd() % 7];
		put(b, line, 76);
		puts_(b, eols[rnd() % 2]);
		break;
	case 4:
		/* Random bytes. */
		for (i = rnd() % 80; i > 0; i--) {
			line[0] = (uint8_t)rnd();
			put(b, line, 1);
		}
		break;
	default:
		puts_(b, "Content-Transfer-Encoding: base64\r\n\r\n");
		break;
	}
}

/* memcmp that takes NULL for nothing. */
static int
same(const void *a, const void *b, size_t n)
{
	return n == 0 || memcmp(a, b, n) == 0;
}

static void
check_roundtrip(const uint8_t *in, size_t len, const char *what)
{
	struct t_buf a, b, c, d;
	size_t held = 0;
	int rc;

	int ga = pack(in, len, 0, &a), gb = pack(in, len, 1, &b),
	    gc = pack(in, len, 997, &c);

	t_check(a.len == b.len && same(a.p, b.p, a.len) &&
	    a.len == c.len && same(a.p, c.p, a.len),
	    "%s: packed alike at once, byte by byte and in random pieces",
	    what);
	t_check(ga && gb && gc,
	    "%s: linear pieces are the input, all input stood for", what);
	rc = unpack(a.p, a.len, 1, &d, &held);
	t_check(rc == 0 && d.len == len && same(d.p, in, len),
	    "%s: unpacked byte by byte, identical (rc %d, %zu of %zu)",
	    what, rc, d.len, len);
	t_check(held <= TCP2_PACK_HDR + TCP2_PACK_DATA_MAX,
	    "%s: the unpacker held at most %zu bytes", what, held);
	free(d.p);
	rc = unpack(a.p, a.len, 3000, &d, NULL);
	t_check(rc == 0 && d.len == len && same(d.p, in, len),
	    "%s: unpacked in random pieces, identical", what);
	free(a.p);
	free(b.p);
	free(c.p);
	free(d.p);
}

static void
test_roundtrips(void)
{
	struct t_buf m;
	int i, j;

	for (i = 0; i < 40; i++) {
		memset(&m, 0, sizeof(m));
		for (j = rnd() % 60; j >= 0; j--)
			put_piece(&m);
		check_roundtrip(m.p, m.len, "random message");
		free(m.p);
	}
	check_roundtrip((const uint8_t *)"", 0, "empty input");
}

static void
test_sizes(void)
{
	struct t_buf m, a;
	size_t i;

	/* 100 bytes of header, then 57000 bytes as 1000 lines of 76. */
	memset(&m, 0, sizeof(m));
	for (i = 0; i < 99; i++)
		puts_(&m, "x");
	puts_(&m, "\n");
	put_b64(&m, 57000, "\r\n");
	pack(m.p, m.len, 0, &a);
	t_check(a.len == 100 + 57000 + (1000 + 31) / 32 * TCP2_PACK_HDR,
	    "1000 base64 lines of 76 with CRLF: 78000 bytes pack to %zu",
	    a.len);
	free(a.p);
	free(m.p);

	/* Non-canonical last line (stray bits): kept as it is. */
	memset(&m, 0, sizeof(m));
	for (i = 0; i < 99; i++)
		puts_(&m, "x");
	puts_(&m, "\n");
	put_b64(&m, 57, "\n");
	puts_(&m, "QR==\n");
	pack(m.p, m.len, 0, &a);
	t_check(a.len == 100 + TCP2_PACK_HDR + 57 + 5 &&
	    memcmp(a.p + a.len - 5, "QR==\n", 5) == 0,
	    "a last line with stray bits stays as it is");
	free(a.p);
	check_roundtrip(m.p, m.len, "stray bits");
	free(m.p);

	/* Text only: the same bytes, NULs doubled. */
	memset(&m, 0, sizeof(m));
	for (i = 0; i < 300; i++)
		puts_(&m, "Some text, and a line of it.\r\n");
	put(&m, "\0", 1);
	pack(m.p, m.len, 0, &a);
	t_check(a.len == m.len + 1 && memcmp(a.p, m.p, m.len - 1) == 0 &&
	    a.p[a.len - 2] == 0 && a.p[a.len - 1] == 0,
	    "text passes unchanged, a NUL is doubled");
	free(a.p);
	free(m.p);

	/* Lines inside the verbatim prefix stay as they are. */
	memset(&m, 0, sizeof(m));
	put_b64(&m, 57, "\n");
	pack(m.p, m.len, 0, &a);
	t_check(a.len == m.len && memcmp(a.p, m.p, m.len) == 0,
	    "nothing in the verbatim prefix is packed");
	free(a.p);
	free(m.p);
}

static void
test_malformed(void)
{
	uint8_t s[VERB + 8 + TCP2_PACK_DATA_MAX + 1];
	struct t_buf d;
	int rc;

	memset(s, 'x', sizeof(s));
	memcpy(s + VERB, "\0\2", 2);
	rc = unpack(s, VERB + 2, 0, &d, NULL);
	t_check(rc == TCP2_EFORMAT, "an unknown escape is refused");
	free(d.p);
	memcpy(s + VERB, "\0\1\2\0\71", 5);
	rc = unpack(s, VERB + 5 + 57, 0, &d, NULL);
	t_check(rc == TCP2_EFORMAT, "a block with a line end flag of 2 is "
	    "refused");
	free(d.p);
	memcpy(s + VERB, "\0\1\1\0\70", 5);
	rc = unpack(s, VERB + 5 + 56, 0, &d, NULL);
	t_check(rc == TCP2_EFORMAT, "a block under one line is refused");
	free(d.p);
	s[VERB + 3] = (uint8_t)((TCP2_PACK_DATA_MAX + 1) >> 8);
	s[VERB + 4] = (uint8_t)(TCP2_PACK_DATA_MAX + 1);
	rc = unpack(s, sizeof(s), 0, &d, NULL);
	t_check(rc == TCP2_EFORMAT, "a block over %d bytes is refused",
	    TCP2_PACK_DATA_MAX);
	free(d.p);
	memcpy(s + VERB, "\0\1\1\0\71", 5);
	rc = unpack(s, VERB + 5 + 56, 0, &d, NULL);
	t_check(rc == TCP2_EFORMAT, "a stream ending inside a block is "
	    "refused");
	free(d.p);
	rc = unpack(s, VERB + 1, 0, &d, NULL);
	t_check(rc == TCP2_EFORMAT, "a stream ending inside an escape is "
	    "refused");
	free(d.p);
	/* Writing on after an error is meaningless but safe (ASan). */
	{
		struct tcp2_unpack *u = malloc(sizeof(*u));
		int r1, r2;

		memset(&d, 0, sizeof(d));
		tcp2_unpack_init(u, 0, t_buf_put, &d);
		r1 = tcp2_unpack_write(u, (const uint8_t *)"\0\1\5\0\0", 5);
		r2 = tcp2_unpack_write(u, s, 64);
		t_check(r1 == TCP2_EFORMAT && r2 == 0 &&
		    tcp2_unpack_held(u) <= TCP2_PACK_HDR,
		    "after a bad block header, more bytes write nothing "
		    "out of bounds");
		free(u);
		free(d.p);
	}
	rc = unpack(s, VERB + 5 + 57, 0, &d, NULL);
	t_check(rc == 0 && d.len == VERB + 78 &&
	    memcmp(d.p + VERB + 76, "\r\n", 2) == 0,
	    "a block of one line gives 76 characters and CRLF");
	free(d.p);
}

int
main(void)
{
	test_roundtrips();
	test_sizes();
	test_malformed();
	return t_done();
}
