/*
 * base64_avx2.h - base64 with AVX2, for base64.c.
 *
 * Private to base64.c and pack.c (and their tests): the encoder does
 * runs of whole lines, line ends included; the decoders translate whole
 * 32-character blocks or lines, and base64.c keeps the carry and the
 * padding.
 */
#ifndef TCP2_BASE64_AVX2_H
#define TCP2_BASE64_AVX2_H

#include <stddef.h>
#include <stdint.h>

/* Whether this CPU has AVX2 and the environment has no TCP2_NO_SIMD (1),
 * or the callers must do without (0). */
int tcp2_b64_avx2_usable(void);

/*
 * Decode in[0..len) in blocks of 32 characters (24 bytes each) while a
 * block is all alphabet (no '=', no stray) and its 32-byte store fits in
 * out[0..room).  Returns the characters consumed, a multiple of 32; *nout
 * gets the bytes decoded.  The 8 bytes after each block's 24 are
 * scratch, within room.  Never fails: it stops instead.
 */
size_t tcp2_b64_avx2_dec(uint8_t *out, size_t room, const unsigned char *in,
    size_t len, size_t *nout);

/*
 * Decode up to maxlines whole lines at in[0..len): each 76 characters
 * (TCP2_B64_LINE) all in the alphabet, then a line end that ends allows,
 * all in hand.  Line i's 57 bytes go to out[57 i..57 i + 57); past the
 * last line's, 8 more bytes may be written: out must hold 57 maxlines
 * + 8.  Stops at the first line that is not so (nothing of it used).
 * Returns the lines decoded, *used the characters they took with their
 * ends.
 */
#define TCP2_B64_AVX2_LF	1	/* ends: a line may end with LF */
#define TCP2_B64_AVX2_CRLF	2	/* ... or with CRLF */
#define TCP2_B64_AVX2_SLACK	8
size_t tcp2_b64_avx2_dec_lines(uint8_t *out, const unsigned char *in,
    size_t len, size_t maxlines, int ends, size_t *used);

/*
 * Encode nlines whole lines of 57 bytes from in, each to 76 characters
 * (TCP2_B64_LINE) and then eol[0..eollen).  Reads only in[0..nlines*57).
 * Returns the characters written; 0 where there is no AVX2 (the stub),
 * which the caller must check with tcp2_b64_avx2_usable first.
 */
size_t tcp2_b64_avx2_enc_lines(char *out, const uint8_t *in, size_t nlines,
    const char *eol, size_t eollen);

#endif /* TCP2_BASE64_AVX2_H */
