/*
 * base64.c - strict, streaming base64 for TCP2 messages and key values.
 */
#include <string.h>

#include "base64.h"
#include "error.h"

static const char b64_alpha[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/*
 * Value + 1 of each alphabet character (so that the zero default means
 * "not base64"); '=' maps to 65.
 */
static const uint8_t b64_val1[256] = {
	['A'] = 1, ['B'] = 2, ['C'] = 3, ['D'] = 4, ['E'] = 5, ['F'] = 6,
	['G'] = 7, ['H'] = 8, ['I'] = 9, ['J'] = 10, ['K'] = 11, ['L'] = 12,
	['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16, ['Q'] = 17, ['R'] = 18,
	['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22, ['W'] = 23, ['X'] = 24,
	['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30,
	['e'] = 31, ['f'] = 32, ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36,
	['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40, ['o'] = 41, ['p'] = 42,
	['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48,
	['w'] = 49, ['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54,
	['2'] = 55, ['3'] = 56, ['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60,
	['8'] = 61, ['9'] = 62, ['+'] = 63, ['/'] = 64, ['='] = 65,
};

void
tcp2_b64_enc_init(struct tcp2_b64_enc *e, const char *eol)
{
	memset(e, 0, sizeof(*e));
	strncpy(e->eol, eol, sizeof(e->eol) - 1);
}

static size_t
enc_put4(struct tcp2_b64_enc *e, char *o, uint32_t v)
{
	size_t n = 0, k;

	o[n++] = b64_alpha[(v >> 18) & 63];
	o[n++] = b64_alpha[(v >> 12) & 63];
	o[n++] = b64_alpha[(v >> 6) & 63];
	o[n++] = b64_alpha[v & 63];
	e->col += 4;
	if (e->col == TCP2_B64_LINE) {
		for (k = 0; e->eol[k]; k++)
			o[n++] = e->eol[k];
		e->col = 0;
	}
	return n;
}

size_t
tcp2_b64_enc_update(struct tcp2_b64_enc *e, char *out, const uint8_t *in,
    size_t len)
{
	size_t n = 0, i = 0;

	/* Complete a carried partial triple first. */
	while (e->ncarry > 0 && e->ncarry < 3 && i < len) {
		if (e->ncarry == 2) {
			n += enc_put4(e, out + n, (uint32_t)e->carry[0] << 16 |
			    (uint32_t)e->carry[1] << 8 | in[i++]);
			e->ncarry = 0;
		} else {
			e->carry[e->ncarry++] = in[i++];
		}
	}
	for (; i + 3 <= len; i += 3)
		n += enc_put4(e, out + n, (uint32_t)in[i] << 16 |
		    (uint32_t)in[i + 1] << 8 | in[i + 2]);
	while (i < len)
		e->carry[e->ncarry++] = in[i++];
	return n;
}

size_t
tcp2_b64_enc_final(struct tcp2_b64_enc *e, char *out)
{
	size_t n = 0, k;
	uint32_t v;

	if (e->ncarry > 0) {
		v = (uint32_t)e->carry[0] << 16;
		if (e->ncarry == 2)
			v |= (uint32_t)e->carry[1] << 8;
		out[n++] = b64_alpha[(v >> 18) & 63];
		out[n++] = b64_alpha[(v >> 12) & 63];
		out[n++] = e->ncarry == 2 ? b64_alpha[(v >> 6) & 63] : '=';
		out[n++] = '=';
		e->col += 4;
		e->ncarry = 0;
	}
	if (e->col > 0) {
		for (k = 0; e->eol[k]; k++)
			out[n++] = e->eol[k];
		e->col = 0;
	}
	return n;
}

void
tcp2_b64_dec_init(struct tcp2_b64_dec *d)
{
	memset(d, 0, sizeof(*d));
}

/* Turn a full quad into 1..3 bytes; padding decides how many. */
static long
dec_quad(struct tcp2_b64_dec *d, uint8_t *o)
{
	const uint8_t *q = d->quad;
	uint32_t v;

	d->nquad = 0;
	if (q[0] == 64 || q[1] == 64 || (q[2] == 64 && q[3] != 64))
		return TCP2_EFORMAT;
	v = (uint32_t)q[0] << 18 | (uint32_t)q[1] << 12 |
	    (uint32_t)(q[2] & 63) << 6 | (q[3] & 63);
	o[0] = (uint8_t)(v >> 16);
	if (q[2] == 64) {
		/* Non-canonical trailing bits are an encoding error. */
		if (v & 0xffff)
			return TCP2_EFORMAT;
		d->done = 1;
		return 1;
	}
	o[1] = (uint8_t)(v >> 8);
	if (q[3] == 64) {
		if (v & 0xff)
			return TCP2_EFORMAT;
		d->done = 1;
		return 2;
	}
	o[2] = (uint8_t)v;
	return 3;
}

long
tcp2_b64_dec_line(struct tcp2_b64_dec *d, uint8_t *out, const char *line,
    size_t len)
{
	size_t i;
	long n = 0, r;
	uint8_t v;

	while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	for (i = 0; i < len; i++) {
		v = b64_val1[(unsigned char)line[i]];
		if (v == 0 || d->done)
			return TCP2_EFORMAT;
		d->quad[d->nquad++] = v - 1;
		if (d->nquad == 4) {
			r = dec_quad(d, out + n);
			if (r < 0)
				return r;
			n += r;
		}
	}
	return n;
}

int
tcp2_b64_dec_final(const struct tcp2_b64_dec *d)
{
	return d->nquad == 0 ? 0 : TCP2_EFORMAT;
}

void
tcp2_b64_encode(char *out, const uint8_t *in, size_t len)
{
	struct tcp2_b64_enc e;
	size_t n = 0, i, k;

	/* Feed at most one line's worth at a time and never end a line. */
	tcp2_b64_enc_init(&e, "");
	for (i = 0; i < len; i += k) {
		k = len - i < 57 ? len - i : 57;
		n += tcp2_b64_enc_update(&e, out + n, in + i, k);
		e.col = 0;
	}
	n += tcp2_b64_enc_final(&e, out + n);
	out[n] = '\0';
}

int
tcp2_b64_decode_exact(uint8_t *out, size_t outlen, const char *in,
    size_t inlen)
{
	struct tcp2_b64_dec d;
	uint8_t tmp[256];
	long n;

	if (inlen > 4 * ((sizeof(tmp) - 3) / 3))
		return TCP2_EFORMAT;
	tcp2_b64_dec_init(&d);
	n = tcp2_b64_dec_line(&d, tmp, in, inlen);
	if (n < 0 || tcp2_b64_dec_final(&d) != 0 || (size_t)n != outlen)
		return TCP2_EFORMAT;
	memcpy(out, tmp, outlen);
	return 0;
}
