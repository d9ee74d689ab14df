/*
 * base64.c - strict, streaming base64 for TCP2 messages and key values.
 *
 * Table-driven, a line at a time; on CPUs with AVX2, base64_avx2.c
 * encodes whole lines and decodes the middle of each line in 32-character
 * blocks (a 10 MB message's decode: 4 times faster); with AVX-512 VBMI,
 * base64_avx512.c encodes the lines instead.
 */
#include <string.h>

#include "base64.h"
#include "base64_avx2.h"
#include "base64_avx512.h"
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

/*
 * Encoding, two characters at a time: the pair for a 12-bit value v is
 * b64_pairs[2 * v], b64_pairs[2 * v + 1] (8 KiB).
 */
#define B64_ROW(x) x "A" x "B" x "C" x "D" x "E" x "F" x "G" x "H" x "I" \
	x "J" x "K" x "L" x "M" x "N" x "O" x "P" x "Q" x "R" x "S" x "T" \
	x "U" x "V" x "W" x "X" x "Y" x "Z" x "a" x "b" x "c" x "d" x "e" \
	x "f" x "g" x "h" x "i" x "j" x "k" x "l" x "m" x "n" x "o" x "p" \
	x "q" x "r" x "s" x "t" x "u" x "v" x "w" x "x" x "y" x "z" x "0" \
	x "1" x "2" x "3" x "4" x "5" x "6" x "7" x "8" x "9" x "+" x "/"
static const char b64_pairs[2 * 4096 + 1] =
	B64_ROW("A") B64_ROW("B") B64_ROW("C") B64_ROW("D") B64_ROW("E")
	B64_ROW("F") B64_ROW("G") B64_ROW("H") B64_ROW("I") B64_ROW("J")
	B64_ROW("K") B64_ROW("L") B64_ROW("M") B64_ROW("N") B64_ROW("O")
	B64_ROW("P") B64_ROW("Q") B64_ROW("R") B64_ROW("S") B64_ROW("T")
	B64_ROW("U") B64_ROW("V") B64_ROW("W") B64_ROW("X") B64_ROW("Y")
	B64_ROW("Z") B64_ROW("a") B64_ROW("b") B64_ROW("c") B64_ROW("d")
	B64_ROW("e") B64_ROW("f") B64_ROW("g") B64_ROW("h") B64_ROW("i")
	B64_ROW("j") B64_ROW("k") B64_ROW("l") B64_ROW("m") B64_ROW("n")
	B64_ROW("o") B64_ROW("p") B64_ROW("q") B64_ROW("r") B64_ROW("s")
	B64_ROW("t") B64_ROW("u") B64_ROW("v") B64_ROW("w") B64_ROW("x")
	B64_ROW("y") B64_ROW("z") B64_ROW("0") B64_ROW("1") B64_ROW("2")
	B64_ROW("3") B64_ROW("4") B64_ROW("5") B64_ROW("6") B64_ROW("7")
	B64_ROW("8") B64_ROW("9") B64_ROW("+") B64_ROW("/");

/*
 * Decoding, four characters at a time: b64_dN[c] is the 6-bit value of c
 * shifted into its place in a 24-bit group (N = 0 is the first of four),
 * or B64_BAD for '=' and every character outside the alphabet, so that
 * OR-ing the four entries gives the group and one test finds a stray.
 */
#define B64_BAD		0x80000000u
#define B64_V(c)	((c) >= 'A' && (c) <= 'Z' ? (c) - 'A' : \
			 (c) >= 'a' && (c) <= 'z' ? (c) - 'a' + 26 : \
			 (c) >= '0' && (c) <= '9' ? (c) - '0' + 52 : \
			 (c) == '+' ? 62 : (c) == '/' ? 63 : 64)
#define B64_D1(c, sh)	(B64_V(c) < 64 ? (uint32_t)B64_V(c) << (sh) : \
			 B64_BAD)
#define B64_D4(c, sh)	B64_D1(c, sh), B64_D1((c) + 1, sh), \
			B64_D1((c) + 2, sh), B64_D1((c) + 3, sh)
#define B64_D16(c, sh)	B64_D4(c, sh), B64_D4((c) + 4, sh), \
			B64_D4((c) + 8, sh), B64_D4((c) + 12, sh)
#define B64_D64(c, sh)	B64_D16(c, sh), B64_D16((c) + 16, sh), \
			B64_D16((c) + 32, sh), B64_D16((c) + 48, sh)
#define B64_D256(sh)	B64_D64(0, sh), B64_D64(64, sh), \
			B64_D64(128, sh), B64_D64(192, sh)

/* B64_V counts on contiguous letters and digits, as in ASCII. */
_Static_assert('Z' - 'A' == 25 && 'z' - 'a' == 25 && '9' - '0' == 9 &&
    'A' == 65 && '+' == 43 && '/' == 47, "base64 tables assume ASCII");

static const uint32_t b64_d0[256] = { B64_D256(18) };
static const uint32_t b64_d1[256] = { B64_D256(12) };
static const uint32_t b64_d2[256] = { B64_D256(6) };
static const uint32_t b64_d3[256] = { B64_D256(0) };

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

/* Big-endian load of the 8 bytes at p (compilers make it one load). */
static inline uint64_t
load_be64(const uint8_t *p)
{
	return (uint64_t)p[0] << 56 | (uint64_t)p[1] << 48 |
	    (uint64_t)p[2] << 40 | (uint64_t)p[3] << 32 |
	    (uint64_t)p[4] << 24 | (uint64_t)p[5] << 16 |
	    (uint64_t)p[6] << 8 | (uint64_t)p[7];
}

/* Big-endian store of x at p (compilers make it one store). */
static inline void
store_be64(uint8_t *p, uint64_t x)
{
	p[0] = (uint8_t)(x >> 56);
	p[1] = (uint8_t)(x >> 48);
	p[2] = (uint8_t)(x >> 40);
	p[3] = (uint8_t)(x >> 32);
	p[4] = (uint8_t)(x >> 24);
	p[5] = (uint8_t)(x >> 16);
	p[6] = (uint8_t)(x >> 8);
	p[7] = (uint8_t)x;
}

/* Input bytes of one full line. */
#define B64_LINE_IN	(TCP2_B64_LINE / 4 * 3)

/* The two characters of the 12-bit value v. */
static inline void
enc_pair(char *o, uint64_t v)
{
	memcpy(o, b64_pairs + 2 * (v & 4095), 2);
}

/*
 * One whole line without AVX2: B64_LINE_IN (57) bytes into TCP2_B64_LINE
 * (76) characters, six bytes per step read as one 64-bit word (the reads
 * stay inside the 57 bytes), then the last triple.
 */
static inline void
enc_line(char *o, const uint8_t *in)
{
	uint64_t w;
	uint32_t v;
	size_t k = 0;

	for (; k + 8 <= B64_LINE_IN; k += 6, o += 8) {
		w = load_be64(in + k);
		enc_pair(o, w >> 52);
		enc_pair(o + 2, w >> 40);
		enc_pair(o + 4, w >> 28);
		enc_pair(o + 6, w >> 16);
	}
	for (; k < B64_LINE_IN; k += 3, o += 4) {
		v = (uint32_t)in[k] << 16 | (uint32_t)in[k + 1] << 8 |
		    in[k + 2];
		enc_pair(o, v >> 12);
		enc_pair(o + 2, v);
	}
}

/* A whole-line encoder: nlines lines of 57 bytes, each ended by eol. */
typedef size_t (*enc_lines_fn)(char *out, const uint8_t *in, size_t nlines,
    const char *eol, size_t eollen);

/* The fastest whole-line encoder this CPU has, or NULL (enc_line then). */
static enc_lines_fn
enc_lines_simd(void)
{
	if (tcp2_b64_avx512_usable())
		return tcp2_b64_avx512_enc_lines;
	return tcp2_b64_avx2_usable() ? tcp2_b64_avx2_enc_lines : NULL;
}

size_t
tcp2_b64_enc_update(struct tcp2_b64_enc *e, char *out, const uint8_t *in,
    size_t len)
{
	size_t n = 0, i = 0, k, eollen, lines;
	enc_lines_fn simd;

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
	/* Triples up to the end of the current line... */
	while (e->col != 0 && i + 3 <= len) {
		n += enc_put4(e, out + n, (uint32_t)in[i] << 16 |
		    (uint32_t)in[i + 1] << 8 | in[i + 2]);
		i += 3;
	}
	/* ...then whole lines at once: the same bytes enc_put4 writes. */
	eollen = strlen(e->eol);
	lines = (len - i) / B64_LINE_IN;
	if (lines > 0 && (simd = enc_lines_simd()) != NULL) {
		n += simd(out + n, in + i, lines, e->eol, eollen);
		i += lines * B64_LINE_IN;
	}
	for (; i + B64_LINE_IN <= len; i += B64_LINE_IN) {
		enc_line(out + n, in + i);
		n += TCP2_B64_LINE;
		for (k = 0; k < eollen; k++)
			out[n++] = e->eol[k];
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
	const unsigned char *l = (const unsigned char *)line;
	size_t i = 0, room, k;
	long n = 0, r;
	uint32_t v, w;
	uint8_t a;
	int simd = tcp2_b64_avx2_usable();

	while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	room = len / 4 * 3 + 3;	/* at most what the caller gave */
	for (;;) {
		/*
		 * Fast path: whole quads of four alphabet characters, with
		 * no quad carried over and no padding seen, give three bytes
		 * each and cannot fail.  A quad with '=' or a stray character
		 * is left to the careful loop below.
		 */
		if (d->nquad == 0 && !d->done) {
			if (simd && i + 32 <= len) {
				i += tcp2_b64_avx2_dec(out + n, room - (size_t)n,
				    l + i, len - i, &k);
				n += (long)k;
			}
			/* Two quads a step, their six bytes stored as one
			 * 64-bit word, while its two bytes past them stay in
			 * the room the caller gave (a quad completed from
			 * the line before gave 3 bytes for fewer than 4
			 * characters); the next step or the quad loop
			 * overwrites them. */
			for (; i + 8 <= len && (size_t)n + 8 <= room;
			    i += 8, n += 6) {
				v = b64_d0[l[i]] | b64_d1[l[i + 1]] |
				    b64_d2[l[i + 2]] | b64_d3[l[i + 3]];
				w = b64_d0[l[i + 4]] | b64_d1[l[i + 5]] |
				    b64_d2[l[i + 6]] | b64_d3[l[i + 7]];
				if ((v | w) & B64_BAD)
					break;
				store_be64(out + n, (uint64_t)v << 40 |
				    (uint64_t)w << 16);
			}
			for (; i + 4 <= len; i += 4, n += 3) {
				v = b64_d0[l[i]] | b64_d1[l[i + 1]] |
				    b64_d2[l[i + 2]] | b64_d3[l[i + 3]];
				if (v & B64_BAD)
					break;
				out[n] = (uint8_t)(v >> 16);
				out[n + 1] = (uint8_t)(v >> 8);
				out[n + 2] = (uint8_t)v;
			}
		}
		if (i >= len)
			return n;
		/* One character the careful way. */
		a = b64_val1[l[i++]];
		if (a == 0 || d->done)
			return TCP2_EFORMAT;
		d->quad[d->nquad++] = (uint8_t)(a - 1);
		if (d->nquad == 4) {
			r = dec_quad(d, out + n);
			if (r < 0)
				return r;
			n += r;
		}
	}
}

size_t
tcp2_b64_dec_lines(const struct tcp2_b64_dec *d, uint8_t *out, size_t room,
    const char *in, size_t len, size_t *nout)
{
	size_t lines = 0, used = 0;

	/* Each line within the room, its scratch included. */
	_Static_assert(TCP2_B64_LINES_ROOM >= B64_LINE_IN +
	    TCP2_B64_AVX2_SLACK, "the fast path's scratch must fit");
	if (d->nquad == 0 && !d->done && room >= TCP2_B64_LINES_ROOM &&
	    tcp2_b64_avx2_usable())
		lines = tcp2_b64_avx2_dec_lines(out,
		    (const unsigned char *)in, len,
		    (room - TCP2_B64_LINES_ROOM) / B64_LINE_IN + 1,
		    TCP2_B64_AVX2_LF | TCP2_B64_AVX2_CRLF, &used);
	*nout = lines * B64_LINE_IN;
	return used;
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
