/*
 * base64.h - streaming base64 (RFC 2045 body encoding) for TCP2 messages.
 *
 * The encoder wraps at 76 characters with a caller-chosen line ending and
 * keeps at most two input bytes between calls, so its output depends only
 * on the bytes written, never on how they were split.  The decoder takes
 * one body line at a time, is strict (no characters outside the alphabet,
 * padding only at the end) and keeps at most three characters.
 */
#ifndef TCP2_BASE64_H
#define TCP2_BASE64_H

#include <stddef.h>
#include <stdint.h>

#define TCP2_B64_LINE	76	/* characters per encoded line */

struct tcp2_b64_enc {
	uint8_t carry[2];
	unsigned int ncarry;
	unsigned int col;	/* characters on the current line */
	char eol[3];
};

/* Output bound of tcp2_b64_enc_update for len input bytes. */
#define TCP2_B64_ENC_BOUND(len) (((len) + 2) / 3 * 4 + ((len) / 57 + 2) * 2 + 4)

void tcp2_b64_enc_init(struct tcp2_b64_enc *e, const char *eol);

/* Encode len bytes; returns the number of characters written to out,
 * which must hold TCP2_B64_ENC_BOUND(len). */
size_t tcp2_b64_enc_update(struct tcp2_b64_enc *e, char *out,
    const uint8_t *in, size_t len);

/* Flush the carry with padding and end the last line; out holds 8. */
size_t tcp2_b64_enc_final(struct tcp2_b64_enc *e, char *out);

struct tcp2_b64_dec {
	uint8_t quad[4];
	unsigned int nquad;
	int done;		/* padding seen: only more '=' or nothing */
	unsigned int npad;
};

void tcp2_b64_dec_init(struct tcp2_b64_dec *d);

/*
 * Decode one line (no line ending; trailing spaces/tabs ignored).  out must
 * hold len / 4 * 3 + 3 bytes.  Returns the byte count, or TCP2_EFORMAT on a
 * character outside the alphabet or data after padding.
 */
long tcp2_b64_dec_line(struct tcp2_b64_dec *d, uint8_t *out,
    const char *line, size_t len);

/*
 * A fast path for the bulk of a body: decode whole lines of exactly
 * TCP2_B64_LINE characters, each ended by CRLF or LF, from in[0..len)
 * into out[0..room).  Stops before any other line (shorter, longer, with
 * padding or a stray character: a delimiter, say), before a line end
 * that is not all in yet, while the decoder carries a quad or saw
 * padding, and where fewer than TCP2_B64_LINES_ROOM bytes of room are
 * left (the bytes past a line's 57 are scratch).  Returns the input bytes
 * consumed, whole lines with their ends; *nout gets the bytes written.
 * The caller decodes what is left with tcp2_b64_dec_line.  Consumes
 * nothing on CPUs without AVX2.
 */
#define TCP2_B64_LINES_ROOM	72
size_t tcp2_b64_dec_lines(const struct tcp2_b64_dec *d, uint8_t *out,
    size_t room, const char *in, size_t len, size_t *nout);

/* 0 when the input ended on a quad boundary, else TCP2_EFORMAT. */
int tcp2_b64_dec_final(const struct tcp2_b64_dec *d);

/* One-shot helpers for short values (keys in key-exchange mails).
 * Encode: no line breaks, out holds ((len+2)/3*4)+1, NUL-terminated.
 * Decode: exact length expected; TCP2_EFORMAT otherwise. */
void tcp2_b64_encode(char *out, const uint8_t *in, size_t len);
int tcp2_b64_decode_exact(uint8_t *out, size_t outlen, const char *in,
    size_t inlen);

#endif /* TCP2_BASE64_H */
