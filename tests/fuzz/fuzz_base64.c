/*
 * fuzz_base64.c - libFuzzer target for the streaming base64 of base64.h.
 *
 * Input: one option byte (line end, piece sizes), then the payload.
 * 1. The payload as text: each line through tcp2_b64_dec_line, and the
 *    whole as a tcp2_b64_decode_exact value.  Asserts: results are a
 *    count within the documented bound or TCP2_EFORMAT; a value the strict
 *    decoder accepts is canonical (tcp2_b64_encode gives it back).
 * 2. The payload as bytes: encoded in pieces whose sizes come from the
 *    option byte, then decoded line by line.  Asserts: the encoding is the
 *    same as a one-piece encoding, lines are at most TCP2_B64_LINE
 *    characters, and decoding gives the payload back byte for byte.
 * Both sides first try tcp2_b64_dec_lines, the fast path over whole
 * lines, at each line start, and check it against tcp2_b64_dec_line on
 * the same lines.
 * Every output buffer is a heap block of exactly the documented size, so
 * ASan catches a write past the bound the header promises.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "error.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	CHECK(p != NULL);
	return p;
}

/* Decode one line into an exact-size buffer, then append what came out
 * to out (room for cap bytes) when out is given. */
static long
dec_line(struct tcp2_b64_dec *d, const char *l, size_t n, uint8_t *out,
    size_t cap)
{
	size_t bound = n / 4 * 3 + 3;
	uint8_t *o = xmalloc(bound);
	long k;

	k = tcp2_b64_dec_line(d, o, l, n);
	CHECK(k == TCP2_EFORMAT || (k >= 0 && (size_t)k <= bound));
	if (k > 0 && out != NULL) {
		CHECK((size_t)k <= cap);
		memcpy(out, o, (size_t)k);
	}
	free(o);
	return k;
}

/*
 * The fast path at t: whole lines into an exact-size block, then the same
 * lines the careful way, which must agree.  Appends the bytes to out
 * (room for cap) when out is given; *got gets their count.  Returns the
 * input consumed.
 */
static size_t
lines_side(struct tcp2_b64_dec *d, const char *t, size_t len, uint8_t *out,
    size_t cap, size_t *got)
{
	size_t room = len / (TCP2_B64_LINE + 1) * 57 + TCP2_B64_LINES_ROOM;
	uint8_t *fast = xmalloc(room), *slow = xmalloc(room);
	size_t used, off = 0, slen = 0, n, ll;
	const char *nl;

	used = tcp2_b64_dec_lines(d, fast, room, t, len, got);
	CHECK(used <= len && *got % 57 == 0 && *got <= room);
	while (off < used) {
		nl = memchr(t + off, '\n', used - off);
		CHECK(nl != NULL);
		n = (size_t)(nl - (t + off));
		ll = n > 0 && t[off + n - 1] == '\r' ? n - 1 : n;
		CHECK(ll == TCP2_B64_LINE);
		CHECK(tcp2_b64_dec_line(d, slow + slen, t + off, ll) == 57);
		slen += 57;
		off += n + 1;
	}
	CHECK(slen == *got && (slen == 0 || memcmp(fast, slow, slen) == 0));
	if (out != NULL) {
		CHECK(*got <= cap);
		memcpy(out, fast, *got);
	}
	free(fast);
	free(slow);
	return used;
}

/* The payload as received text: lines, then one exact-length value. */
static void
text_side(const char *t, size_t len)
{
	struct tcp2_b64_dec d;
	const char *nl;
	size_t n, ll, got;

	tcp2_b64_dec_init(&d);
	while (len > 0) {
		n = lines_side(&d, t, len, NULL, 0, &got);
		t += n;
		len -= n;
		if (len == 0)
			break;
		nl = memchr(t, '\n', len);
		n = nl ? (size_t)(nl - t) : len;
		/* As the message decoder does: CRLF or LF ends a line. */
		ll = n > 0 && t[n - 1] == '\r' ? n - 1 : n;
		if (dec_line(&d, t, ll, NULL, 0) < 0)
			tcp2_b64_dec_init(&d);	/* dead after an error */
		t += nl ? n + 1 : n;
		len -= nl ? n + 1 : n;
	}
	CHECK(tcp2_b64_dec_final(&d) == 0 || tcp2_b64_dec_final(&d) ==
	    TCP2_EFORMAT);
}

/* A key-sized value: accepted only when canonical. */
static void
exact_side(const char *t, size_t len)
{
	size_t outlen, tl;
	uint8_t *out;
	char *again;

	for (tl = len; tl > 0 && (t[tl - 1] == ' ' || t[tl - 1] == '\t'); tl--)
		;
	outlen = tl / 4 * 3;
	if (tl >= 1 && t[tl - 1] == '=')
		outlen--;
	if (tl >= 2 && t[tl - 2] == '=')
		outlen--;
	if (tl % 4 != 0 || outlen > 252)
		outlen = len % 253;	/* any length: must be refused */
	out = xmalloc(outlen);
	if (tcp2_b64_decode_exact(out, outlen, t, len) == 0) {
		again = xmalloc((outlen + 2) / 3 * 4 + 1);
		tcp2_b64_encode(again, out, outlen);
		CHECK(strlen(again) == tl && memcmp(again, t, tl) == 0);
		free(again);
	}
	free(out);
}

struct sbuf {
	char *p;
	size_t len;
};

static void
sbuf_add(struct sbuf *s, const char *p, size_t n)
{
	s->p = realloc(s->p, s->len + n + 1);
	CHECK(s->p != NULL);
	memcpy(s->p + s->len, p, n);
	s->len += n;
}

/* Encode in pieces of the given sizes (cycled); 0 means all at once. */
static void
encode(struct sbuf *s, const char *eol, const uint8_t *in, size_t len,
    const size_t *piece, size_t npiece)
{
	struct tcp2_b64_enc e;
	size_t off = 0, n, k, i = 0;
	char *o;

	tcp2_b64_enc_init(&e, eol);
	while (off < len) {
		n = npiece ? piece[i++ % npiece] : len - off;
		if (n > len - off)
			n = len - off;
		o = xmalloc(TCP2_B64_ENC_BOUND(n));
		k = tcp2_b64_enc_update(&e, o, in + off, n);
		CHECK(k <= TCP2_B64_ENC_BOUND(n));
		sbuf_add(s, o, k);
		free(o);
		off += n;
	}
	o = xmalloc(8);
	k = tcp2_b64_enc_final(&e, o);
	CHECK(k <= 8);
	sbuf_add(s, o, k);
	free(o);
}

/* The payload as bytes: split encoding equals one-shot; decodes back. */
static void
round_trip(const uint8_t *in, size_t len, unsigned int opt)
{
	static const char *const eols[] = { "\r\n", "\n", "", "\r\n" };
	const char *eol = eols[opt & 3];
	size_t piece[3] = { (opt >> 2 & 7) + 1, (opt >> 5) * 19 + 1, 57 };
	struct sbuf one = { 0 }, split = { 0 };
	struct tcp2_b64_dec d;
	uint8_t *back;
	size_t off = 0, blen = 0, n, ll, got;
	const char *nl;
	long k;

	encode(&one, eol, in, len, NULL, 0);
	encode(&split, eol, in, len, piece, 3);
	CHECK(one.len == split.len &&
	    (one.len == 0 || memcmp(one.p, split.p, one.len) == 0));

	back = xmalloc(len);
	tcp2_b64_dec_init(&d);
	while (off < one.len) {
		off += lines_side(&d, one.p + off, one.len - off, back + blen,
		    len - blen, &got);
		blen += got;
		if (off == one.len)
			break;
		nl = memchr(one.p + off, '\n', one.len - off);
		n = nl ? (size_t)(nl - (one.p + off)) : one.len - off;
		ll = n;
		if (ll > 0 && one.p[off + ll - 1] == '\r')
			ll--;
		CHECK(*eol == '\0' || ll <= TCP2_B64_LINE);
		k = dec_line(&d, one.p + off, ll, back + blen, len - blen);
		CHECK(k >= 0);
		blen += (size_t)k;
		off += nl ? n + 1 : n;
	}
	CHECK(tcp2_b64_dec_final(&d) == 0);
	CHECK(blen == len && (len == 0 || memcmp(back, in, len) == 0));
	free(back);
	free(one.p);
	free(split.p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned int opt = size > 0 ? data[0] : 0;
	const uint8_t *p = size > 0 ? data + 1 : data;
	size_t len = size > 0 ? size - 1 : 0;
	char *t;

	/* An exact-size copy: ASan then sees reads past len. */
	t = xmalloc(len);
	memcpy(t, p, len);
	text_side(t, len);
	exact_side(t, len);
	round_trip((const uint8_t *)t, len, opt);
	free(t);
	return 0;
}
