/*
 * mimedec.h - decoders for showing mail to people: MIME transfer
 * encodings (quoted-printable, base64), charsets to UTF-8 (iconv),
 * RFC 2047 encoded words in header values, and HTML to plain text.
 *
 * Everything here is lenient on purpose: the input is hostile mail and the
 * output is only ever looked at, so junk is skipped or replaced (U+FFFD),
 * never an error.  Output always goes to a tcp2_buf with a hard cap: what
 * does not fit is counted and dropped, and the buffer says it was cut.
 */
#ifndef TCP2_MIMEDEC_H
#define TCP2_MIMEDEC_H

#include <stddef.h>
#include <stdint.h>

/*
 * A growing output buffer with a cap.  p is malloc'd (NUL-terminated when
 * len > 0 or after tcp2_buf_cstr), at most cap bytes are kept; total
 * counts every byte offered, so total > len means the output was cut.
 * cap 0 means "count only": nothing is stored.  oom is set on a failed
 * allocation (the bytes are then counted but dropped).
 */
struct tcp2_buf {
	uint8_t *p;
	size_t len, alloc, cap;
	size_t total;
	int oom;
};

enum tcp2_cte {
	TCP2_CTE_IDENTITY = 0,	/* 7bit, 8bit, binary, absent or unknown */
	TCP2_CTE_QP,
	TCP2_CTE_BASE64,
};

void tcp2_buf_init(struct tcp2_buf *b, size_t cap);
void tcp2_buf_put(struct tcp2_buf *b, const void *p, size_t n);
/* A NUL-terminated string of the contents ("" when empty), or NULL when
 * no memory could be had.  The pointer belongs to b. */
const char *tcp2_buf_cstr(struct tcp2_buf *b);
/* Wipe and free the contents. */
void tcp2_buf_free(struct tcp2_buf *b);

/* The transfer encoding named by a Content-Transfer-Encoding value. */
enum tcp2_cte tcp2_cte_parse(const char *value);

/*
 * Decode body[0..len) from transfer encoding cte into out.  Base64
 * ignores characters outside its alphabet and restarts after stray
 * padding; quoted-printable drops trailing white space and soft breaks and
 * keeps a malformed '=' as it is; hard line breaks keep the body's own
 * line ending.  Never fails.
 */
void tcp2_cte_decode(enum tcp2_cte cte, const uint8_t *body, size_t len,
    struct tcp2_buf *out);

/*
 * Convert in[0..len) from charset to UTF-8 into out.  Invalid or
 * incomplete sequences become U+FFFD.  An empty, unknown or suspicious
 * charset name (anything but letters, digits and "-_.:", or over 40
 * characters) is treated as UTF-8.  UTF-8 output is also checked and
 * repaired, so out holds valid UTF-8 whatever the input.  Never fails.
 */
void tcp2_charset_to_utf8(const char *charset, const uint8_t *in, size_t len,
    struct tcp2_buf *out);

/*
 * Decode a header field value for people: unfold (line ends dropped),
 * decode RFC 2047 encoded words (B and Q, any charset iconv knows; white
 * space between adjacent words dropped), and repair the rest to UTF-8.
 * Never fails.
 */
void tcp2_hdr_decode(const char *value, size_t len, struct tcp2_buf *out);

/*
 * HTML to plain UTF-8 text: tags removed (block tags become line breaks),
 * the contents of script, style, head and comments dropped, the common
 * named entities and numeric references decoded, runs of white space
 * collapsed.  in must already be UTF-8.  Never fails.
 */
void tcp2_html_to_text(const uint8_t *in, size_t len, struct tcp2_buf *out);

/* Append valid UTF-8 of in[0..len) to out, each bad byte as U+FFFD. */
void tcp2_utf8_repair(const uint8_t *in, size_t len, struct tcp2_buf *out);

/* Largest n <= len so that s[0..n) does not end inside a UTF-8 sequence. */
size_t tcp2_utf8_cut(const uint8_t *s, size_t len);

#endif /* TCP2_MIMEDEC_H */
