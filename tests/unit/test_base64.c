/*
 * test_base64.c - the streaming base64 of base64.h against a plain
 * reference written from RFC 4648 / RFC 2045: byte-identical encoding for
 * every length 0..300 and for random data under any split into pieces,
 * round trips line by line, and the decoder's strictness (characters
 * outside the alphabet anywhere in a line, bad padding, data after
 * padding, non-canonical trailing bits, incomplete quads).  The SIMD
 * routines of base64_avx2.c and base64_avx512.c on their own, against the
 * same reference.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "base64_avx2.h"
#include "base64_avx512.h"
#include "error.h"
#include "harness.h"

static const char alpha[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static void
fill(uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)rnd();
}

static int
is_alpha(int c)
{
	return c != 0 && strchr(alpha, c) != NULL;
}

/* Reference: 76-character lines, each ended by eol, the last one too. */
static size_t
ref_encode(char *out, const uint8_t *in, size_t len, const char *eol)
{
	size_t i, n = 0, col = 0, k;
	uint32_t v;

	for (i = 0; i < len; i += 3) {
		v = (uint32_t)in[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		out[n++] = alpha[v >> 18 & 63];
		out[n++] = alpha[v >> 12 & 63];
		out[n++] = i + 1 < len ? alpha[v >> 6 & 63] : '=';
		out[n++] = i + 2 < len ? alpha[v & 63] : '=';
		col += 4;
		if (col == 76) {
			for (k = 0; eol[k]; k++)
				out[n++] = eol[k];
			col = 0;
		}
	}
	if (col > 0)
		for (k = 0; eol[k]; k++)
			out[n++] = eol[k];
	return n;
}

/* Encode in pieces: step 0 all at once, 1 byte by byte, else random
 * pieces of up to step bytes.  out holds the documented bound. */
static size_t
enc_pieces(char *out, const uint8_t *in, size_t len, const char *eol,
    size_t step)
{
	struct tcp2_b64_enc e;
	size_t off = 0, n = 0, k;

	tcp2_b64_enc_init(&e, eol);
	while (off < len) {
		k = step == 0 ? len - off : step == 1 ? 1 : rnd() % (step + 1);
		if (k > len - off)
			k = len - off;
		n += tcp2_b64_enc_update(&e, out + n, in + off, k);
		off += k;
	}
	n += tcp2_b64_enc_final(&e, out + n);
	return n;
}

/*
 * Decode text line by line (CRLF or LF ends a line), each call with an
 * output block of exactly the documented size so that ASan sees any
 * write past it.  Returns the byte count or a negative code.
 */
static long
dec_text(uint8_t *out, const char *t, size_t len)
{
	struct tcp2_b64_dec d;
	const char *nl;
	size_t n, ll, bound, total = 0;
	uint8_t *o;
	long k;

	tcp2_b64_dec_init(&d);
	while (len > 0) {
		nl = memchr(t, '\n', len);
		n = nl ? (size_t)(nl - t) : len;
		ll = n > 0 && t[n - 1] == '\r' ? n - 1 : n;
		bound = ll / 4 * 3 + 3;
		o = malloc(bound);
		if (o == NULL)
			return TCP2_ENOMEM;
		k = tcp2_b64_dec_line(&d, o, t, ll);
		if (k > (long)bound)
			k = TCP2_EINVAL;	/* never: counts as a failure */
		if (k > 0)
			memcpy(out + total, o, (size_t)k);
		free(o);
		if (k < 0)
			return k;
		total += (size_t)k;
		t += nl ? n + 1 : n;
		len -= nl ? n + 1 : n;
	}
	if (tcp2_b64_dec_final(&d) != 0)
		return TCP2_EFORMAT;
	return (long)total;
}

/* Decode one string as a single line; the count, or a negative code. */
static long
dec_str(const char *s, uint8_t *out)
{
	return dec_text(out, s, strlen(s));
}

static void
test_vectors(void)
{
	static const char *const v[][2] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" },
		{ "foo", "Zm9v" }, { "foob", "Zm9vYg==" },
		{ "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
	};
	char out[64], one[64];
	uint8_t bin[64];
	size_t i, n, bad = 0;
	long k;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		n = enc_pieces(out, (const uint8_t *)v[i][0], strlen(v[i][0]),
		    "", 0);
		tcp2_b64_encode(one, (const uint8_t *)v[i][0], strlen(v[i][0]));
		k = dec_str(v[i][1], bin);
		if (n != strlen(v[i][1]) || memcmp(out, v[i][1], n) != 0 ||
		    strcmp(one, v[i][1]) != 0 || k != (long)strlen(v[i][0]) ||
		    memcmp(bin, v[i][0], (size_t)k) != 0)
			bad++;
	}
	t_check(bad == 0, "RFC 4648 test vectors encode and decode");
}

/* Every length 0..300, three line ends, four ways of splitting. */
static void
test_all_lengths(void)
{
	static const char *const eols[] = { "\r\n", "\n", "" };
	static const size_t steps[] = { 0, 1, 2, 7, 64 };
	uint8_t in[300], back[400];
	char ref[600], out[TCP2_B64_ENC_BOUND(300)];
	size_t len, e, s, n, rn, enc_bad = 0, dec_bad = 0, line_bad = 0;
	size_t i, col;
	long k;

	for (len = 0; len <= 300; len++) {
		fill(in, len);
		for (e = 0; e < 3; e++) {
			rn = ref_encode(ref, in, len, eols[e]);
			for (s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
				n = enc_pieces(out, in, len, eols[e], steps[s]);
				if (n != rn || memcmp(out, ref, n) != 0)
					enc_bad++;
			}
			/* Lines are 76 characters but the last. */
			for (i = 0, col = 0; e < 2 && i < rn; i++) {
				if (ref[i] == '\n' || ref[i] == '\r') {
					if (ref[i] == '\n' && i + 1 < rn &&
					    col != 76)
						line_bad++;
					if (ref[i] == '\n')
						col = 0;
				} else {
					col++;
				}
			}
			if (e < 2) {
				k = dec_text(back, ref, rn);
				if (k != (long)len ||
				    memcmp(back, in, len) != 0)
					dec_bad++;
			}
		}
	}
	t_check(enc_bad == 0, "encoding of lengths 0..300 equals the "
	    "reference for every line end and split (%zu bad)", enc_bad);
	t_check(line_bad == 0, "encoded lines are 76 characters but the last");
	t_check(dec_bad == 0, "lengths 0..300 decode back byte for byte "
	    "(%zu bad)", dec_bad);
}

/* One-shot helpers: all lengths a key value can have. */
static void
test_oneshot(void)
{
	uint8_t in[252], back[252];
	char s[400], ref[400];
	size_t len, rn, bad = 0;

	for (len = 0; len <= sizeof(in); len++) {
		fill(in, len);
		rn = ref_encode(ref, in, len, "");
		ref[rn] = '\0';
		tcp2_b64_encode(s, in, len);
		if (strcmp(s, ref) != 0 ||
		    tcp2_b64_decode_exact(back, len, s, strlen(s)) != 0 ||
		    memcmp(back, in, len) != 0)
			bad++;
		if (len > 0 && tcp2_b64_decode_exact(back, len - 1, s,
		    strlen(s)) != TCP2_EFORMAT)
			bad++;
		if (len < sizeof(in) && tcp2_b64_decode_exact(back, len + 1, s,
		    strlen(s)) != TCP2_EFORMAT)
			bad++;
	}
	t_check(bad == 0, "tcp2_b64_encode / decode_exact round trips, "
	    "exact length enforced, 0..252 bytes");
	memset(s, 'A', 340);
	t_check(tcp2_b64_decode_exact(back, 255, s, 340) == TCP2_EFORMAT,
	    "decode_exact rejects values longer than it can hold");
}

/* Random data of random sizes, random pieces, both line ends. */
static void
test_random(void)
{
	size_t max = 200000, it, len, n, rn, bad = 0;
	uint8_t *in = malloc(max), *back = malloc(max);
	char *out = malloc(TCP2_B64_ENC_BOUND(max));
	char *ref = malloc(TCP2_B64_ENC_BOUND(max));
	const char *eol;
	long k;

	if (!t_check(in && back && out && ref, "random data: memory"))
		goto out;
	for (it = 0; it < 300; it++) {
		len = it < 100 ? rnd() % 2000 : rnd() % max;
		eol = rnd() % 2 ? "\r\n" : "\n";
		fill(in, len);
		rn = ref_encode(ref, in, len, eol);
		n = enc_pieces(out, in, len, eol, 1 + rnd() % 20000);
		if (n != rn || memcmp(out, ref, n) != 0) {
			bad++;
			continue;
		}
		k = dec_text(back, out, n);
		if (k != (long)len || memcmp(back, in, len) != 0)
			bad++;
	}
	t_check(bad == 0, "300 random buffers up to 200 kB: encoding equals "
	    "the reference, decoding gives them back (%zu bad)", bad);
out:
	free(in);
	free(back);
	free(out);
	free(ref);
}

/* Quads split across lines and trailing blanks. */
static void
test_lines(void)
{
	struct tcp2_b64_dec d;
	uint8_t o[16], all[16];
	long a, b, c;

	tcp2_b64_dec_init(&d);
	a = tcp2_b64_dec_line(&d, o, "Zm9vY", 5);
	memcpy(all, o, a > 0 ? (size_t)a : 0);
	b = tcp2_b64_dec_line(&d, o, "mF", 2);
	c = tcp2_b64_dec_line(&d, all + 3, "y", 1);
	t_check(a == 3 && b == 0 && c == 3 && memcmp(all, "foobar", 6) == 0 &&
	    tcp2_b64_dec_final(&d) == 0, "a quad split over three lines");
	t_check(dec_str("Zm9vYmFy \t \t", o) == 6 &&
	    memcmp(o, "foobar", 6) == 0, "trailing spaces and tabs ignored");
	t_check(dec_str("Zm9v YmFy", o) == TCP2_EFORMAT &&
	    dec_str(" Zm9vYmFy", o) == TCP2_EFORMAT &&
	    dec_str("Zm9v\tYmFy", o) == TCP2_EFORMAT,
	    "blanks inside or in front of a line rejected");
	t_check(dec_str("Zm9vY", o) == TCP2_EFORMAT &&
	    dec_str("Zm9vYm", o) == TCP2_EFORMAT &&
	    dec_str("Zm9vYmF", o) == TCP2_EFORMAT,
	    "input not ending on a quad boundary rejected at the end");
	t_check(dec_str("", o) == 0, "empty input is empty");
}

/*
 * A quad carried over from the line before gives 3 bytes for fewer than 4
 * characters of the next line; the decoder must still write no more than
 * the len / 4 * 3 + 3 bytes the header promises (each buffer here is
 * exactly that big, so ASan sees a single byte more).  Found by
 * fuzz_base64 when the fast path began to store 8 bytes at a time.
 */
static void
test_carried_room(void)
{
	char text[64 + 3];
	uint8_t ref[64], *o;
	struct tcp2_b64_dec d;
	size_t carry, n, k;
	long a, b;
	int bad = 0;

	for (carry = 1; carry <= 3; carry++) {
		for (n = 4 - carry; n + carry <= 64; n += 4) {
			for (k = 0; k < carry + n; k++)
				text[k] = alpha[rnd() % 64];
			tcp2_b64_dec_init(&d);
			a = tcp2_b64_dec_line(&d, ref, text, carry);
			o = malloc(n / 4 * 3 + 3);
			b = o ? tcp2_b64_dec_line(&d, o, text + carry, n) : -1;
			if (a != 0 || b != (long)((carry + n) / 4 * 3) ||
			    tcp2_b64_dec_final(&d) != 0 ||
			    tcp2_b64_decode_exact(ref, (size_t)b, text,
			    carry + n) != 0 || memcmp(o, ref, (size_t)b) != 0)
				bad++;
			free(o);
		}
	}
	t_check(bad == 0, "a quad carried over a line end: the next line "
	    "decodes right within len / 4 * 3 + 3 bytes");
}

/*
 * Every byte value at every position of a long line (the decoder's fast
 * path reads whole quads) and of a short one: accepted exactly when it
 * is in the alphabet, or for '=' only where padding is legal.
 */
static void
test_bad_chars(void)
{
	uint8_t in[114], out[120];
	char line[256], ref[256];
	size_t rn, pos, bad = 0, badpad = 0;
	int c;
	long k;

	fill(in, sizeof(in));
	rn = ref_encode(ref, in, 57, "");	/* one 76-character line */
	for (pos = 0; pos < rn; pos++) {
		for (c = 0; c < 256; c++) {
			memcpy(line, ref, rn);
			line[pos] = (char)c;
			k = dec_text(out, line, rn);
			if (c == '\n' || c == '\r')
				continue;	/* a line end, not data */
			if (is_alpha(c)) {
				if (k != 57)
					bad++;
			} else if (c == '=' && pos + 1 == rn) {
				/* The last character may be padding when the
				 * bits it drops are zero. */
				if (k != ((strchr(alpha, ref[pos - 1]) -
				    alpha) % 4 == 0 ? 56 : TCP2_EFORMAT))
					badpad++;
			} else if (c == '=') {
				/* Padding with data after it. */
				if (k != TCP2_EFORMAT)
					badpad++;
			} else if (k != TCP2_EFORMAT) {
				/* Blanks too: inside the line they are
				 * strays, at its end they leave 75. */
				bad++;
			}
		}
	}
	t_check(bad == 0, "each of 256 byte values at each of 76 positions: "
	    "only the alphabet accepted (%zu bad)", bad);
	t_check(badpad == 0, "'=' inside a full line rejected, at its end "
	    "accepted only as canonical padding");

	/* Two lines: the second starts after a full first line. */
	rn = ref_encode(ref, in, 114, "\r\n");
	for (pos = 0, bad = 0; pos < rn; pos++) {
		if (ref[pos] == '\r' || ref[pos] == '\n')
			continue;
		memcpy(line, ref, rn);
		line[pos] = '*';
		if (dec_text(out, line, rn) != TCP2_EFORMAT)
			bad++;
		line[pos] = '\0';
		if (dec_text(out, line, rn) != TCP2_EFORMAT)
			bad++;
		line[pos] = (char)0xc1;
		if (dec_text(out, line, rn) != TCP2_EFORMAT)
			bad++;
	}
	t_check(bad == 0, "'*', NUL and a high byte anywhere in two lines "
	    "rejected");
}

static void
test_padding(void)
{
	static const char *const rejected[] = {
		"=", "==", "===", "====", "=AAA", "A===", "AA=A", "A=AA",
		"Zg=", "Zg===", "Zg==Zg==", "Zg==AAAA", "Zm8=A", "Zm8==",
		"Zm9vZg==Zm9v", "Zm9v=", "Zm9v====", "Zg==\nAAAA",
		"Zg==\n=", "Zm8=\nZm8=", "Zm9vYg=\n", "Zm9vYg\n=\n",
	};
	static const char *const accepted[][2] = {
		{ "Zg==", "f" }, { "Zm8=", "fo" }, { "Zm9vYg==", "foob" },
		{ "Zg==\n", "f" }, { "Zg==\n\n", "f" },
		/* a quad may continue on the next line, padding too */
		{ "Zm9vYg=\n=", "foob" }, { "Zm9vYg\n==", "foob" },
	};
	uint8_t o[64];
	size_t i, bad = 0;
	long k;

	for (i = 0; i < sizeof(rejected) / sizeof(rejected[0]); i++) {
		k = dec_text(o, rejected[i], strlen(rejected[i]));
		if (k != TCP2_EFORMAT) {
			printf("# accepted: \"%s\"\n", rejected[i]);
			bad++;
		}
	}
	t_check(bad == 0, "bad padding and data after padding rejected");
	for (i = 0, bad = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++) {
		k = dec_text(o, accepted[i][0], strlen(accepted[i][0]));
		if (k != (long)strlen(accepted[i][1]) ||
		    memcmp(o, accepted[i][1], (size_t)k) != 0)
			bad++;
	}
	t_check(bad == 0, "correct padding accepted");
}

/* Only the canonical encoding of a final 1- or 2-byte group. */
static void
test_canonical(void)
{
	char s[5];
	uint8_t o[8];
	size_t bad = 0, good = 0;
	unsigned int b, t;
	long k;

	s[4] = '\0';
	for (b = 0; b < 256; b++) {
		/* One byte: 8 bits in two characters, 4 bits to spare. */
		for (t = 0; t < 16; t++) {
			s[0] = alpha[b >> 2];
			s[1] = alpha[(b & 3) << 4 | t];
			s[2] = s[3] = '=';
			k = dec_str(s, o);
			if (t == 0 ? k != 1 || o[0] != b : k != TCP2_EFORMAT)
				bad++;
			else
				good++;
		}
		/* Two bytes (b, 0x5a): 16 bits in three, 2 to spare. */
		for (t = 0; t < 4; t++) {
			uint32_t v = b << 16 | 0x5a << 8;

			s[0] = alpha[v >> 18 & 63];
			s[1] = alpha[v >> 12 & 63];
			s[2] = alpha[(v >> 6 & 63) | t];
			s[3] = '=';
			k = dec_str(s, o);
			if (t == 0 ? k != 2 || o[0] != b || o[1] != 0x5a :
			    k != TCP2_EFORMAT)
				bad++;
			else
				good++;
		}
	}
	t_check(bad == 0 && good == 256 * 20, "non-canonical trailing bits "
	    "rejected, canonical ones accepted (%zu bad)", bad);
	t_check(tcp2_b64_decode_exact(o, 1, "Zh==", 4) == TCP2_EFORMAT &&
	    tcp2_b64_decode_exact(o, 2, "Zm9=", 4) == TCP2_EFORMAT,
	    "decode_exact is as strict");
}

/* The decoder is dead after an error only as far as the caller cares;
 * fresh state after init decodes again. */
static void
test_reinit(void)
{
	struct tcp2_b64_dec d;
	uint8_t o[8];

	tcp2_b64_dec_init(&d);
	(void)tcp2_b64_dec_line(&d, o, "Zg==", 4);
	t_check(tcp2_b64_dec_line(&d, o, "Zg==", 4) == TCP2_EFORMAT,
	    "nothing accepted after the padding of an earlier line");
	tcp2_b64_dec_init(&d);
	t_check(tcp2_b64_dec_line(&d, o, "Zm9v", 4) == 3 &&
	    memcmp(o, "foo", 3) == 0, "init resets the decoder");
}

/* Reference decoding of whole quads of alphabet characters. */
static void
ref_decode(uint8_t *out, const char *in, size_t len)
{
	uint32_t v;
	size_t i, k;

	for (i = 0; i + 4 <= len; i += 4) {
		for (v = 0, k = 0; k < 4; k++)
			v = v << 6 | (uint32_t)(strchr(alpha, in[i + k]) - alpha);
		*out++ = (uint8_t)(v >> 16);
		*out++ = (uint8_t)(v >> 8);
		*out++ = (uint8_t)v;
	}
}

/* Runs of 1 to 4 whole lines, each from a buffer of exactly their size
 * (ASan sees any read past the last line), through fn: how many differ
 * from the reference. */
static size_t
enc_lines_bad(size_t (*fn)(char *, const uint8_t *, size_t, const char *,
    size_t))
{
	char ref[4 * 78], enc[4 * 78];
	const char *eol;
	uint8_t *lines;
	size_t i, n, rn, bad = 0;

	for (i = 0; i < 2000; i++) {
		n = 1 + rnd() % 4;
		eol = i % 3 == 0 ? "\r\n" : i % 3 == 1 ? "\n" : "";
		if ((lines = malloc(n * 57)) == NULL)
			abort();
		fill(lines, n * 57);
		rn = ref_encode(ref, lines, n * 57, eol);
		if (fn(enc, lines, n, eol, strlen(eol)) != rn ||
		    memcmp(enc, ref, rn) != 0)
			bad++;
		free(lines);
	}
	return bad;
}

static void
test_avx512(void)
{
	size_t bad;

	if (!tcp2_b64_avx512_usable()) {
		t_check(1, "no AVX-512 VBMI on this CPU: the AVX2 or scalar "
		    "lines encode");
		return;
	}
	bad = enc_lines_bad(tcp2_b64_avx512_enc_lines);
	t_check(bad == 0, "AVX-512 encode of 2000 random runs of 1 to 4 whole "
	    "lines, CRLF, LF or no line end: the reference characters, no "
	    "read past the last line (%zu bad)", bad);
}

static void
test_avx2(void)
{
	char text[96];
	uint8_t out[96], want[72];
	size_t i, n, used, pos, bad = 0, badenc;
	int c;

	if (!tcp2_b64_avx2_usable()) {
		t_check(1, "no AVX2 on this CPU: the scalar loops do it all");
		return;
	}
	for (i = 0; i < 2000; i++) {
		for (n = 0; n < sizeof(text); n++)
			text[n] = alpha[rnd() % 64];
		memset(out, 0xaa, sizeof(out));
		used = tcp2_b64_avx2_dec(out, sizeof(out),
		    (const unsigned char *)text, sizeof(text), &n);
		ref_decode(want, text, sizeof(text));
		if (used != 96 || n != 72 || memcmp(out, want, 72) != 0)
			bad++;
	}
	t_check(bad == 0, "AVX2 decode of 2000 random 96-character runs: the "
	    "reference bytes (%zu bad)", bad);
	badenc = enc_lines_bad(tcp2_b64_avx2_enc_lines);
	t_check(badenc == 0, "AVX2 encode of 2000 random runs of 1 to 4 whole "
	    "lines, CRLF, LF or no line end: the reference characters, no "
	    "read past the last line (%zu bad)", badenc);

	for (pos = 0, bad = 0; pos < 32; pos++) {
		for (c = 0; c < 256; c++) {
			for (n = 0; n < 32; n++)
				text[n] = alpha[rnd() % 64];
			text[pos] = (char)c;
			used = tcp2_b64_avx2_dec(out, 32,
			    (const unsigned char *)text, 32, &n);
			if (!is_alpha(c)) {
				if (used != 0 || n != 0)
					bad++;
				continue;
			}
			ref_decode(want, text, 32);
			if (used != 32 || n != 24 || memcmp(out, want, 24) != 0)
				bad++;
		}
	}
	t_check(bad == 0, "AVX2 decode, each of 256 byte values at each of 32 "
	    "positions: the alphabet decoded, anything else ('=' too) left "
	    "to the scalar loop (%zu bad)", bad);

	used = tcp2_b64_avx2_dec(out, 31, (const unsigned char *)text, 32, &n);
	t_check(used == 0 && n == 0, "AVX2 decode stops where its 32-byte "
	    "store would pass the room");
}

/* tcp2_b64_dec_lines: whole 76-character lines only, stopping before
 * anything else for tcp2_b64_dec_line to judge. */
static void
test_dec_lines(void)
{
	struct tcp2_b64_dec d;
	uint8_t in[57 * 8], out[57 * 8 + TCP2_B64_LINES_ROOM];
	char text[78 * 8 + 8];
	size_t n, used, tl;

	if (!tcp2_b64_avx2_usable()) {
		tcp2_b64_dec_init(&d);
		t_check(tcp2_b64_dec_lines(&d, out, sizeof(out), "", 0, &n) ==
		    0 && n == 0, "no AVX2: the line fast path consumes nothing");
		return;
	}
	fill(in, sizeof(in));
	tl = ref_encode(text, in, sizeof(in), "\r\n");
	tcp2_b64_dec_init(&d);
	used = tcp2_b64_dec_lines(&d, out, sizeof(out), text, tl, &n);
	t_check(used == tl && n == sizeof(in) &&
	    memcmp(out, in, sizeof(in)) == 0,
	    "8 CRLF lines: all consumed, the bytes of the reference");
	used = tcp2_b64_dec_lines(&d, out, sizeof(out), text, tl - 1, &n);
	t_check(used == 78 * 7 && n == 57 * 7,
	    "a last line without its LF yet: left for later");
	used = tcp2_b64_dec_lines(&d, out, 57 * 3 + TCP2_B64_LINES_ROOM - 1,
	    text, tl, &n);
	t_check(used == 78 * 3 && n == 57 * 3,
	    "stops where a line's scratch would pass the room");
	text[78 * 5 + 40] = '*';
	used = tcp2_b64_dec_lines(&d, out, sizeof(out), text, tl, &n);
	t_check(used == 78 * 5 && n == 57 * 5 && memcmp(out, in, n) == 0,
	    "a stray in line 6: the 5 before it decoded, line 6 left alone");
	text[78 * 5 + 40] = 'A';
	text[78 * 2 + 75] = '=';
	used = tcp2_b64_dec_lines(&d, out, sizeof(out), text, tl, &n);
	t_check(used == 78 * 2, "padding in line 3: left to the careful loop");

	tl = ref_encode(text, in, 57 * 2, "\n");
	memmove(text + 77 + 1, text + 77, tl - 77);
	text[77] = ' ';		/* line 2: a blank in front, 77 characters */
	used = tcp2_b64_dec_lines(&d, out, sizeof(out), text, tl + 1, &n);
	t_check(used == 77 && n == 57, "LF lines; a line of 77 characters "
	    "(a blank in front) left alone");
	d.nquad = 2;
	used = tcp2_b64_dec_lines(&d, out, sizeof(out), text, tl, &n);
	t_check(used == 0 && n == 0, "nothing while a quad is carried over");
}

int
main(void)
{
	test_vectors();
	test_all_lengths();
	test_oneshot();
	test_random();
	test_lines();
	test_carried_room();
	test_bad_chars();
	test_padding();
	test_canonical();
	test_reinit();
	test_avx2();
	test_avx512();
	test_dec_lines();
	return t_done();
}
