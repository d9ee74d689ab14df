/*
 * base64_avx512.h - base64 encoding of whole lines with AVX-512 VBMI, for
 * base64.c.
 *
 * Private to base64.c (and its tests), like base64_avx2.h: base64.c
 * prefers these to the AVX2 lines where the CPU has AVX-512 VBMI.
 */
#ifndef TCP2_BASE64_AVX512_H
#define TCP2_BASE64_AVX512_H

#include <stddef.h>
#include <stdint.h>

/* Whether this CPU has AVX-512 F, BW and VBMI (1) or not (0). */
int tcp2_b64_avx512_usable(void);

/*
 * As tcp2_b64_avx2_enc_lines: nlines lines of 57 bytes from in, each to
 * 76 characters and eol[0..eollen); reads only in[0..nlines*57).
 * Returns the characters written; 0 from the stub where the compiler or
 * CPU has no AVX-512 (check tcp2_b64_avx512_usable first).
 */
size_t tcp2_b64_avx512_enc_lines(char *out, const uint8_t *in,
    size_t nlines, const char *eol, size_t eollen);

#endif /* TCP2_BASE64_AVX512_H */
