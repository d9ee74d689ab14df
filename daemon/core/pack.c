/*
 * pack.c - base64 line packing and unpacking (see pack.h).
 *
 * The packer looks at each line once, at its start: a full line (76
 * alphabet characters and CRLF or LF) is decoded into the open block,
 * with the full lines after it in hand in the same call, a shorter
 * padded line ends it, anything else closes the block and passes
 * as it is up to its LF (literal bytes go out in runs as long as the
 * caller's, so a message without base64 is still sealed where it lies).
 * A line start with fewer than a line's bytes in hand is kept in a small
 * buffer until its end or 78 bytes are in: the same decision from the
 * same bytes, however the input was split.
 */
#include <string.h>

#include "base64.h"
#include "base64_avx2.h"
#include "crypto.h"
#include "error.h"
#include "pack.h"

#define LINE_MAX_IN	(TCP2_PACK_LINE + 2)	/* a full line with CRLF */

_Static_assert(sizeof(((struct tcp2_pack *)0)->blk) >= TCP2_PACK_HDR +
    TCP2_PACK_DATA_MAX + TCP2_B64_AVX2_SLACK, "the decoder's scratch fits");

void
tcp2_pack_init(struct tcp2_pack *k, uint64_t verbatim, tcp2_pack_out_fn out,
    void *arg)
{
	memset(k, 0, sizeof(*k));
	k->out = out;
	k->arg = arg;
	k->verbatim = verbatim;
	k->sol = 1;
}

/* Literal input: as it is, each NUL doubled. */
static int
lit_out(struct tcp2_pack *k, const uint8_t *p, size_t n)
{
	const uint8_t *z;
	size_t m;
	int rc;

	while (n > 0) {
		z = memchr(p, 0, n);
		m = z != NULL ? (size_t)(z - p) : n;
		if (m > 0 && (rc = k->out(k->arg, p, m, m, 1)) != 0)
			return rc;
		if (z == NULL)
			break;
		if ((rc = k->out(k->arg, (const uint8_t *)"\0\0", 2, 1, 0)) != 0)
			return rc;
		p += m + 1;
		n -= m + 1;
	}
	return 0;
}

/* Send the open block, with extra data bytes of a last short line. */
static int
blk_close(struct tcp2_pack *k, size_t extra)
{
	size_t n = k->nfull * TCP2_PACK_LINE_IN + extra;
	int rc;

	k->blk[0] = 0x00;
	k->blk[1] = 0x01;
	k->blk[2] = (uint8_t)k->crlf;
	k->blk[3] = (uint8_t)(n >> 8);
	k->blk[4] = (uint8_t)n;
	/* Not wiped here: the next block overwrites it, and
	 * tcp2_pack_wipe wipes it all. */
	rc = k->out(k->arg, k->blk, TCP2_PACK_HDR + n, k->blk_in, 0);
	k->nfull = 0;
	k->blk_in = 0;
	return rc;
}

/* The line end after a full line's characters at q, avail bytes in
 * hand: 1 (LF), 2 (CRLF), or 0. */
static size_t
full_end(const uint8_t *q, size_t avail)
{
	if (avail > TCP2_PACK_LINE && q[TCP2_PACK_LINE] == '\n')
		return 1;
	if (avail > TCP2_PACK_LINE + 1 && q[TCP2_PACK_LINE] == '\r' &&
	    q[TCP2_PACK_LINE + 1] == '\n')
		return 2;
	return 0;
}

/*
 * Decode up to max full lines at q (avail bytes in hand), each 76
 * alphabet characters ended as eol says (1: LF, 2: CRLF), into out (57
 * max + TCP2_B64_AVX2_SLACK bytes of room), in one call where the CPU has
 * AVX2: a block's worth of lines at a time costs less than a call a line.
 * Returns the lines decoded, *used their length with their ends; stops at
 * the first line that is not so or not all in hand.
 */
static size_t
full_lines(const uint8_t *q, size_t avail, size_t max, size_t eol,
    uint8_t *out, size_t *used)
{
	struct tcp2_b64_dec d;
	size_t n;

	if (tcp2_b64_avx2_usable())
		return tcp2_b64_avx2_dec_lines(out, q, avail, max,
		    eol == 2 ? TCP2_B64_AVX2_CRLF : TCP2_B64_AVX2_LF, used);
	/* The scalar decoder ignores trailing blanks and stops at
	 * padding: either gives fewer than 57 bytes. */
	*used = 0;
	for (n = 0; n < max && full_end(q + *used, avail - *used) == eol;
	    n++) {
		tcp2_b64_dec_init(&d);
		if (tcp2_b64_dec_line(&d, out + n * TCP2_PACK_LINE_IN,
		    (const char *)q + *used, TCP2_PACK_LINE) !=
		    TCP2_PACK_LINE_IN)
			break;
		*used += TCP2_PACK_LINE + eol;
	}
	return n;
}

/* A last, shorter line of a block at q: 4 to 72 characters, canonical
 * base64 with its padding, then the block's line end.  Decoded to out
 * (60 bytes of room), *n its bytes; returns its length with its end, or
 * 0.  Canonical: it re-encodes to itself (no stray bits, no blanks). */
static size_t
short_line(const uint8_t *q, size_t avail, int crlf, uint8_t *out,
    size_t *n)
{
	const uint8_t *nl;
	struct tcp2_b64_dec d;
	char re[TCP2_PACK_LINE + 1];
	size_t c;
	long k;

	nl = memchr(q, '\n', avail < LINE_MAX_IN ? avail : LINE_MAX_IN);
	if (nl == NULL)
		return 0;
	c = (size_t)(nl - q);
	if (crlf && (c == 0 || q[--c] != '\r'))
		return 0;
	if (c < 4 || c >= TCP2_PACK_LINE || c % 4 != 0)
		return 0;
	tcp2_b64_dec_init(&d);
	k = tcp2_b64_dec_line(&d, out, (const char *)q, c);
	if (k <= 0 || tcp2_b64_dec_final(&d) != 0)
		return 0;
	tcp2_b64_encode(re, out, (size_t)k);
	k = strlen(re) == c && memcmp(re, q, c) == 0 ? k : 0;
	tcp2_crypto_wipe(re, sizeof(re));
	if (k == 0)
		return 0;
	*n = (size_t)k;
	return (size_t)(nl - q) + 1;
}

/*
 * The line starting at q, avail bytes in hand (a whole line's worth, or
 * up to its LF): into the block when it packs, with the full lines after
 * it that pack alike, *used their length; else *used = 0 and the open
 * block is closed (the line is literal).  0 or out's error.
 */
static int
line_take(struct tcp2_pack *k, const uint8_t *q, size_t avail, size_t *used)
{
	uint8_t *dst = k->blk + TCP2_PACK_HDR + k->nfull * TCP2_PACK_LINE_IN;
	uint8_t tmp[TCP2_PACK_LINE_IN + TCP2_B64_AVX2_SLACK];
	size_t eol = full_end(q, avail), m, n;
	int rc = 0;

	*used = 0;
	if (eol > 0 && k->nfull > 0 && (eol == 2) != k->crlf) {
		/* Another line end: a block of its own, if it packs. */
		n = full_lines(q, avail, 1, eol, tmp, &m);
		if (n == 1 && (rc = blk_close(k, 0)) == 0) {
			memcpy(k->blk + TCP2_PACK_HDR, tmp, TCP2_PACK_LINE_IN);
			k->crlf = eol == 2;
			k->nfull = 1;
			k->blk_in = m;
			*used = m;
		}
		tcp2_crypto_wipe(tmp, sizeof(tmp));
		if (n == 1 || rc != 0)
			return rc;
	} else if (eol > 0 && (n = full_lines(q, avail, TCP2_PACK_LINES -
	    k->nfull - (k->nfull == 0), eol, dst, &m)) > 0) {
		/* A block opened here is not also closed here: the caller
		 * may still hold literal bytes that go out before it. */
		k->crlf = eol == 2;
		k->nfull += n;
		k->blk_in += m;
		*used = m;
		return k->nfull == TCP2_PACK_LINES ? blk_close(k, 0) : 0;
	}
	if (k->nfull > 0 && (m = short_line(q, avail, k->crlf, dst, &n)) > 0) {
		k->blk_in += m;
		*used = m;
		return blk_close(k, n);
	}
	if (k->nfull > 0)
		rc = blk_close(k, 0);
	return rc;
}

/* A line start with too few bytes in hand: gather them until its LF or a
 * whole line's worth, then decide as line_take would on the spot. */
static int
gather(struct tcp2_pack *k, const uint8_t **pp, size_t *lenp)
{
	size_t used;
	uint8_t c;
	int rc;

	while (*lenp > 0 && k->llen < sizeof(k->line)) {
		c = *(*pp)++;
		(*lenp)--;
		k->line[k->llen++] = c;
		if (c == '\n')
			break;
	}
	if (k->line[k->llen - 1] != '\n' && k->llen < sizeof(k->line))
		return 0;	/* undecided: more input */
	if ((rc = line_take(k, k->line, k->llen, &used)) == 0 && used == 0) {
		rc = lit_out(k, k->line, k->llen);
		k->sol = k->line[k->llen - 1] == '\n';
	}
	tcp2_crypto_wipe(k->line, k->llen);
	k->llen = 0;
	return rc;
}

int
tcp2_pack_write(struct tcp2_pack *k, const uint8_t *p, size_t len)
{
	const uint8_t *span = p, *nl;	/* [span, p): literal, not sent */
	size_t m;
	int rc = 0;

	while (len > 0 && rc == 0) {
		if (k->verbatim > 0) {
			m = len < k->verbatim ? len : (size_t)k->verbatim;
			rc = k->out(k->arg, p, m, m, 1);
			k->verbatim -= m;
			k->sol = p[m - 1] == '\n';
			p += m;
			len -= m;
			span = p;
		} else if (!k->sol) {
			/* A literal line, up to its end. */
			nl = memchr(p, '\n', len);
			m = nl != NULL ? (size_t)(nl - p) + 1 : len;
			k->sol = nl != NULL;
			p += m;
			len -= m;
		} else if (k->llen > 0 || len < LINE_MAX_IN) {
			if ((rc = lit_out(k, span, (size_t)(p - span))) == 0)
				rc = gather(k, &p, &len);
			span = p;
		} else {
			/* With literal bytes pending no block is open, and
			 * a line opening one sends nothing yet: the span goes
			 * out after the decision, before the block. */
			if ((rc = line_take(k, p, len, &m)) != 0)
				break;
			if (m == 0) {
				k->sol = 0;	/* literal: sent with the span */
				continue;
			}
			if (p > span &&
			    (rc = lit_out(k, span, (size_t)(p - span))) != 0)
				break;
			p += m;
			len -= m;
			span = p;
		}
	}
	if (rc == 0 && p > span)
		rc = lit_out(k, span, (size_t)(p - span));
	return rc;
}

int
tcp2_pack_finish(struct tcp2_pack *k)
{
	int rc = 0;

	if (k->nfull > 0)
		rc = blk_close(k, 0);
	if (rc == 0 && k->llen > 0)
		rc = lit_out(k, k->line, k->llen);
	tcp2_pack_wipe(k);
	return rc;
}

void
tcp2_pack_wipe(struct tcp2_pack *k)
{
	tcp2_crypto_wipe(k->line, sizeof(k->line));
	tcp2_crypto_wipe(k->blk, sizeof(k->blk));
	k->llen = 0;
	k->nfull = 0;
	k->blk_in = 0;
}

void
tcp2_unpack_init(struct tcp2_unpack *u, uint64_t verbatim, tcp2_out_fn out,
    void *arg)
{
	memset(u, 0, sizeof(*u));
	u->out = out;
	u->arg = arg;
	u->verbatim = verbatim;
}

/* A block's lines, re-encoded: the characters they were. */
static int
unpack_block(struct tcp2_unpack *u, const uint8_t *d, size_t n)
{
	struct tcp2_b64_enc e;
	size_t m;

	tcp2_b64_enc_init(&e, u->hdr[2] ? "\r\n" : "\n");
	m = tcp2_b64_enc_update(&e, u->text, d, n);
	m += tcp2_b64_enc_final(&e, u->text + m);
	/* Not wiped here: the next block overwrites it, and
	 * tcp2_unpack_wipe wipes it all. */
	return u->out(u->arg, u->text, m);
}

/* One byte of an escape; 0, TCP2_EFORMAT or out's error. */
static int
unpack_escape(struct tcp2_unpack *u, uint8_t c)
{
	size_t n;
	static const uint8_t nul;

	u->hdr[u->hlen++] = c;
	if (u->hlen == 2 && c == 0x00) {
		u->hlen = 0;
		return u->out(u->arg, &nul, 1);
	}
	/* On an error the escape is dropped: a caller that wrote on
	 * would get bytes, never a write past hdr. */
	if (u->hlen == 2 && c != 0x01) {
		u->hlen = 0;
		return TCP2_EFORMAT;
	}
	if (u->hlen < TCP2_PACK_HDR)
		return 0;
	n = (size_t)u->hdr[3] << 8 | u->hdr[4];
	if (u->hdr[2] > 1 || n < TCP2_PACK_LINE_IN || n > TCP2_PACK_DATA_MAX) {
		u->hlen = 0;
		return TCP2_EFORMAT;
	}
	u->hlen = 0;
	u->need = n;
	u->have = 0;
	return 0;
}

int
tcp2_unpack_write(struct tcp2_unpack *u, const uint8_t *p, size_t len)
{
	const uint8_t *z;
	size_t m;
	int rc = 0;

	while (len > 0 && rc == 0) {
		if (u->verbatim > 0) {
			m = len < u->verbatim ? len : (size_t)u->verbatim;
			rc = u->out(u->arg, p, m);
			u->verbatim -= m;
		} else if (u->need > 0 && u->have == 0 && len >= u->need) {
			m = u->need;	/* all in hand: no copy */
			rc = unpack_block(u, p, m);
			u->need = 0;
		} else if (u->need > 0) {
			m = u->need - u->have;
			if (m > len)
				m = len;
			memcpy(u->data + u->have, p, m);
			u->have += m;
			if (u->have == u->need) {
				rc = unpack_block(u, u->data, u->need);
				u->need = u->have = 0;
			}
		} else if (u->hlen > 0) {
			m = 1;
			rc = unpack_escape(u, *p);
		} else {
			z = memchr(p, 0, len);
			m = z != NULL ? (size_t)(z - p) : len;
			if (m > 0)
				rc = u->out(u->arg, p, m);
			if (z != NULL) {
				u->hdr[0] = 0x00;
				u->hlen = 1;
				m++;
			}
		}
		p += m;
		len -= m;
	}
	return rc;
}

int
tcp2_unpack_finish(const struct tcp2_unpack *u)
{
	return u->hlen > 0 || u->need > 0 ? TCP2_EFORMAT : 0;
}

size_t
tcp2_unpack_held(const struct tcp2_unpack *u)
{
	return u->hlen + u->have;
}

void
tcp2_unpack_wipe(struct tcp2_unpack *u)
{
	tcp2_crypto_wipe(u->data, sizeof(u->data));
	tcp2_crypto_wipe(u->text, sizeof(u->text));
	u->have = 0;
}
