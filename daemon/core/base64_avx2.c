/*
 * base64_avx2.c - the bulk of base64 in 32-character blocks, with AVX2.
 *
 * base64.c calls these when the CPU has AVX2 (checked once at run time):
 * to encode runs of whole lines, line ends included, and to decode the
 * middle of each line.  It does the rest itself: carried quads, padding,
 * and any block with a character outside the alphabet, which the decoders
 * here leave untouched.  The translation is the known
 * nibble-table method (W. Mula, D. Lemire, "Faster Base64 Encoding and
 * Decoding Using AVX2 Instructions", ACM TOW 2018): both directions give
 * exactly the bytes of the scalar tables, which test_base64 checks on
 * every byte value in every position.
 *
 * Other CPUs and compilers build the stubs at the end: nothing is
 * consumed, and base64.c's scalar loops do all the work.  So does a
 * process with TCP2_NO_SIMD in its environment: tests/run runs the
 * suites that go through here once more that way, so that the scalar
 * paths are tested on machines that have AVX2.
 */
#include "base64_avx2.h"

#if defined(__x86_64__) && defined(__GNUC__)

#include <immintrin.h>
#include <stdlib.h>

#define B64_AVX2 __attribute__((target("avx2")))

int
tcp2_b64_avx2_usable(void)
{
	static int usable = -1;

	if (usable < 0) {
		__builtin_cpu_init();
		usable = __builtin_cpu_supports("avx2") &&
		    getenv("TCP2_NO_SIMD") == NULL;
	}
	return usable;
}

/*
 * 32 characters to their 6-bit values; *bad is non-zero when one of them
 * is outside the alphabet ('=' included).  The low nibble and the high
 * nibble of each character pick two bit sets that share a bit exactly
 * when the character is not base64; the high nibble (with '/' told apart
 * from '+') picks what to add to turn the character into its value.
 */
static inline B64_AVX2 __m256i
dec_values(__m256i s, int *bad)
{
	const __m256i lut_lo = _mm256_setr_epi8(
	    0x15, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
	    0x11, 0x11, 0x13, 0x1a, 0x1b, 0x1b, 0x1b, 0x1a,
	    0x15, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
	    0x11, 0x11, 0x13, 0x1a, 0x1b, 0x1b, 0x1b, 0x1a);
	const __m256i lut_hi = _mm256_setr_epi8(
	    0x10, 0x10, 0x01, 0x02, 0x04, 0x08, 0x04, 0x08,
	    0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10,
	    0x10, 0x10, 0x01, 0x02, 0x04, 0x08, 0x04, 0x08,
	    0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10);
	const __m256i lut_roll = _mm256_setr_epi8(
	    0, 16, 19, 4, -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 16, 19, 4, -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0);
	const __m256i nib = _mm256_set1_epi8(0x0f);
	__m256i hi, lo, slash;

	hi = _mm256_and_si256(_mm256_srli_epi32(s, 4), nib);
	lo = _mm256_and_si256(s, nib);
	*bad = !_mm256_testz_si256(_mm256_shuffle_epi8(lut_lo, lo),
	    _mm256_shuffle_epi8(lut_hi, hi));
	slash = _mm256_cmpeq_epi8(s, _mm256_set1_epi8('/'));
	return _mm256_add_epi8(s,
	    _mm256_shuffle_epi8(lut_roll, _mm256_add_epi8(slash, hi)));
}

/* 32 values (four bytes = one quad) packed to 24 bytes at the front. */
static inline B64_AVX2 __m256i
dec_pack(__m256i v)
{
	/* aaaaaabb bbbbcccc ... : two values to 12 bits, two of those to
	 * 24 bits, little-endian in each 32-bit word. */
	v = _mm256_maddubs_epi16(v, _mm256_set1_epi32(0x01400140));
	v = _mm256_madd_epi16(v, _mm256_set1_epi32(0x00011000));
	/* Big-endian bytes of each word, 12 at the front of each lane... */
	v = _mm256_shuffle_epi8(v, _mm256_setr_epi8(
	    2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1,
	    2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1));
	/* ...and the two lanes' 12 side by side. */
	return _mm256_permutevar8x32_epi32(v,
	    _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 7, 7));
}

B64_AVX2 size_t
tcp2_b64_avx2_dec(uint8_t *out, size_t room, const unsigned char *in,
    size_t len, size_t *nout)
{
	size_t i = 0, n = 0;
	__m256i v;
	int bad;

	for (; i + 32 <= len && n + 32 <= room; i += 32, n += 24) {
		v = dec_values(_mm256_loadu_si256((const __m256i *)(in + i)),
		    &bad);
		if (bad)
			break;
		_mm256_storeu_si256((__m256i *)(out + n), dec_pack(v));
	}
	*nout = n;
	return i;
}

/* The line end after 76 characters at in, len bytes in hand: its
 * length when ends allows it (TCP2_B64_AVX2_LF, _CRLF), else 0. */
static inline size_t
line_end(const unsigned char *in, size_t len, int ends)
{
	if (len > 76 && in[76] == '\n' && (ends & TCP2_B64_AVX2_LF))
		return 1;
	if (len > 77 && in[76] == '\r' && in[77] == '\n' &&
	    (ends & TCP2_B64_AVX2_CRLF))
		return 2;
	return 0;
}

B64_AVX2 size_t
tcp2_b64_avx2_dec_lines(uint8_t *out, const unsigned char *in, size_t len,
    size_t maxlines, int ends, size_t *used)
{
	size_t l, i = 0, eol;
	__m256i a, b, c;
	int bad_a, bad_b, bad_c;

	for (l = 0; l < maxlines; l++, out += 57) {
		if ((eol = line_end(in + i, len - i, ends)) == 0)
			break;
		/* Characters 0-31, 32-63 and 44-75 (11 quads in: the
		 * third block decodes 20 characters again, to the same
		 * bytes). */
		a = dec_values(_mm256_loadu_si256((const __m256i *)(in + i)),
		    &bad_a);
		b = dec_values(_mm256_loadu_si256(
		    (const __m256i *)(in + i + 32)), &bad_b);
		c = dec_values(_mm256_loadu_si256(
		    (const __m256i *)(in + i + 44)), &bad_c);
		if (bad_a | bad_b | bad_c)
			break;
		_mm256_storeu_si256((__m256i *)out, dec_pack(a));
		_mm256_storeu_si256((__m256i *)(out + 24), dec_pack(b));
		_mm256_storeu_si256((__m256i *)(out + 33), dec_pack(c));
		i += 76 + eol;
	}
	*used = i;
	return l;
}

/* The 32 characters of the 24 bytes at the front of each lane's 12. */
static inline B64_AVX2 __m256i
enc_block(__m256i s)
{
	__m256i t0, t1, t2, t3, idx, r, less;

	/* Each 32-bit word takes one triple, as bytes b1 b0 b2 b1, so that
	 * two 16-bit multiplies move the four 6-bit fields into bytes. */
	s = _mm256_shuffle_epi8(s, _mm256_setr_epi8(
	    1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10,
	    1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10));
	t0 = _mm256_and_si256(s, _mm256_set1_epi32(0x0fc0fc00));
	t1 = _mm256_mulhi_epu16(t0, _mm256_set1_epi32(0x04000040));
	t2 = _mm256_and_si256(s, _mm256_set1_epi32(0x003f03f0));
	t3 = _mm256_mullo_epi16(t2, _mm256_set1_epi32(0x01000010));
	idx = _mm256_or_si256(t1, t3);
	/* Value to character: 0..25 'A', 26..51 'a', 52..61 '0', 62 '+',
	 * 63 '/', by an offset picked from a 16-entry table. */
	r = _mm256_subs_epu8(idx, _mm256_set1_epi8(51));
	less = _mm256_cmpgt_epi8(_mm256_set1_epi8(26), idx);
	r = _mm256_or_si256(r, _mm256_and_si256(less, _mm256_set1_epi8(13)));
	return _mm256_add_epi8(idx, _mm256_shuffle_epi8(_mm256_setr_epi8(
	    71, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -19, -16, 65, 0, 0,
	    71, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -19, -16, 65, 0, 0), r));
}

B64_AVX2 size_t
tcp2_b64_avx2_enc_lines(char *out, const uint8_t *in, size_t nlines,
    const char *eol, size_t eollen)
{
	/* Lane 1 of the third block takes bytes 4..15 of its load. */
	const __m256i third = _mm256_setr_epi8(
	    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
	    4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, -1, -1, -1, -1);
	size_t l, k;
	char *o = out;
	__m256i s;

	/* Bytes 0-23 make characters 0-31, bytes 24-47 characters 32-63,
	 * and bytes 33-56 characters 44-75: the third block encodes five
	 * triples again, to the same characters, so that no load reaches
	 * past the line's 57 bytes. */
	for (l = 0; l < nlines; l++, in += 57) {
		s = _mm256_inserti128_si256(_mm256_castsi128_si256(
		    _mm_loadu_si128((const __m128i *)in)),
		    _mm_loadu_si128((const __m128i *)(in + 12)), 1);
		_mm256_storeu_si256((__m256i *)o, enc_block(s));
		s = _mm256_inserti128_si256(_mm256_castsi128_si256(
		    _mm_loadu_si128((const __m128i *)(in + 24))),
		    _mm_loadu_si128((const __m128i *)(in + 36)), 1);
		_mm256_storeu_si256((__m256i *)(o + 32), enc_block(s));
		s = _mm256_inserti128_si256(_mm256_castsi128_si256(
		    _mm_loadu_si128((const __m128i *)(in + 33))),
		    _mm_loadu_si128((const __m128i *)(in + 41)), 1);
		s = _mm256_shuffle_epi8(s, third);
		_mm256_storeu_si256((__m256i *)(o + 44), enc_block(s));
		o += 76;
		for (k = 0; k < eollen; k++)
			*o++ = eol[k];
	}
	return (size_t)(o - out);
}

#else /* no AVX2 here: the scalar loops do everything */

int
tcp2_b64_avx2_usable(void)
{
	return 0;
}

size_t
tcp2_b64_avx2_dec(uint8_t *out, size_t room, const unsigned char *in,
    size_t len, size_t *nout)
{
	(void)out, (void)room, (void)in, (void)len;
	*nout = 0;
	return 0;
}

size_t
tcp2_b64_avx2_dec_lines(uint8_t *out, const unsigned char *in, size_t len,
    size_t maxlines, int ends, size_t *used)
{
	(void)out, (void)in, (void)len, (void)maxlines, (void)ends;
	*used = 0;
	return 0;
}

size_t
tcp2_b64_avx2_enc_lines(char *out, const uint8_t *in, size_t nlines,
    const char *eol, size_t eollen)
{
	(void)out, (void)in, (void)nlines, (void)eol, (void)eollen;
	return 0;
}

#endif
