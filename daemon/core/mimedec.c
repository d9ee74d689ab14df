/*
 * mimedec.c - lenient decoders that turn hostile mail into text for
 * people: transfer encodings, charsets (iconv), RFC 2047 words, HTML.
 * See mimedec.h; nothing here fails, bad input is skipped or replaced.
 */
#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base64.h"
#include "mimedec.h"

#define CHARSET_MAX	40	/* longest charset name handed to iconv */
#define B64_CHUNK	1024	/* base64 characters decoded per call */

static const uint8_t repl[3] = { 0xef, 0xbf, 0xbd };	/* U+FFFD */

void
tcp2_buf_init(struct tcp2_buf *b, size_t cap)
{
	memset(b, 0, sizeof(*b));
	b->cap = cap;
}

/* Make room for need bytes plus a NUL; 0 or -1 (oom set). */
static int
buf_grow(struct tcp2_buf *b, size_t need)
{
	size_t n;
	uint8_t *p;

	if (need < b->alloc)
		return 0;
	n = b->alloc ? b->alloc : 256;
	while (n <= need)
		n *= 2;
	p = realloc(b->p, n);
	if (p == NULL) {
		b->oom = 1;
		return -1;
	}
	b->p = p;
	b->alloc = n;
	return 0;
}

void
tcp2_buf_put(struct tcp2_buf *b, const void *p, size_t n)
{
	size_t k;

	b->total += n;
	if (b->len >= b->cap || n == 0)
		return;
	k = b->cap - b->len < n ? b->cap - b->len : n;
	if (buf_grow(b, b->len + k) != 0)
		return;
	memcpy(b->p + b->len, p, k);
	b->len += k;
	b->p[b->len] = '\0';
}

static void
buf_putc(struct tcp2_buf *b, uint8_t c)
{
	tcp2_buf_put(b, &c, 1);
}

/* True once the cap is reached: producers may stop early. */
static int
buf_full(const struct tcp2_buf *b)
{
	return b->cap > 0 && b->total > b->cap;
}

const char *
tcp2_buf_cstr(struct tcp2_buf *b)
{
	if (buf_grow(b, b->len) != 0)
		return NULL;
	b->p[b->len] = '\0';
	return (const char *)b->p;
}

void
tcp2_buf_free(struct tcp2_buf *b)
{
	if (b->p != NULL) {
		explicit_bzero(b->p, b->alloc);
		free(b->p);
	}
	memset(b, 0, sizeof(*b));
}

enum tcp2_cte
tcp2_cte_parse(const char *v)
{
	while (*v == ' ' || *v == '\t')
		v++;
	if (strncasecmp(v, "quoted-printable", 16) == 0)
		return TCP2_CTE_QP;
	if (strncasecmp(v, "base64", 6) == 0)
		return TCP2_CTE_BASE64;
	return TCP2_CTE_IDENTITY;
}

static int
b64_char(uint8_t c)
{
	return isalnum(c) || c == '+' || c == '/';
}

/* Feed chunk[0..n) to the strict decoder of base64.c; start over on error. */
static void
b64_feed(struct tcp2_b64_dec *d, const char *chunk, size_t n,
    struct tcp2_buf *out)
{
	uint8_t tmp[B64_CHUNK / 4 * 3 + 3];
	long r;

	if (n == 0)
		return;
	r = tcp2_b64_dec_line(d, tmp, chunk, n);
	if (r < 0) {
		tcp2_b64_dec_init(d);
		return;
	}
	tcp2_buf_put(out, tmp, (size_t)r);
}

/*
 * Base64 with junk: only alphabet characters and '=' reach the decoder,
 * and an alphabet character after padding starts a new encoding (mail
 * that concatenates separately encoded pieces).
 */
static void
b64_decode(const uint8_t *in, size_t len, struct tcp2_buf *out)
{
	struct tcp2_b64_dec d;
	char chunk[B64_CHUNK];
	size_t i, n = 0;
	int pad = 0;

	tcp2_b64_dec_init(&d);
	for (i = 0; i < len && !buf_full(out); i++) {
		if (in[i] == '=') {
			pad = 1;
		} else if (b64_char(in[i])) {
			if (pad) {
				b64_feed(&d, chunk, n, out);
				n = 0;
				tcp2_b64_dec_init(&d);
				pad = 0;
			}
		} else {
			continue;
		}
		chunk[n++] = (char)in[i];
		if (n == sizeof(chunk)) {
			b64_feed(&d, chunk, n, out);
			n = 0;
		}
	}
	b64_feed(&d, chunk, n, out);
}

static int
hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (uint8_t)tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decode the =XX escapes of one QP line (or Q word when q is set). */
static void
qp_text(const uint8_t *s, size_t n, int q, struct tcp2_buf *out)
{
	size_t i, run;
	int hi, lo;

	for (i = 0; i < n;) {
		for (run = i; run < n && s[run] != '=' &&
		    !(q && s[run] == '_'); run++)
			;
		tcp2_buf_put(out, s + i, run - i);
		i = run;
		if (i >= n)
			break;
		if (s[i] == '_') {
			buf_putc(out, ' ');
			i++;
			continue;
		}
		if (n - i >= 3 &&
		    (hi = hexval(s[i + 1])) >= 0 && (lo = hexval(s[i + 2])) >= 0) {
			buf_putc(out, (uint8_t)(hi << 4 | lo));
			i += 3;
			continue;
		}
		buf_putc(out, '=');	/* malformed: keep it */
		i++;
	}
}

static void
qp_decode(const uint8_t *in, size_t len, struct tcp2_buf *out)
{
	const uint8_t *nl;
	size_t pos = 0, ll, el, cl;

	while (pos < len && !buf_full(out)) {
		nl = memchr(in + pos, '\n', len - pos);
		ll = nl ? (size_t)(nl - (in + pos)) + 1 : len - pos;
		/* Line ending (LF or CRLF), then trailing white space. */
		el = 0;
		if (nl != NULL) {
			el = 1;
			if (ll >= 2 && in[pos + ll - 2] == '\r')
				el = 2;
		}
		cl = ll - el;
		while (cl > 0 && (in[pos + cl - 1] == ' ' ||
		    in[pos + cl - 1] == '\t'))
			cl--;
		if (cl > 0 && in[pos + cl - 1] == '=') {
			qp_text(in + pos, cl - 1, 0, out);	/* soft break */
		} else {
			qp_text(in + pos, cl, 0, out);
			tcp2_buf_put(out, in + pos + ll - el, el);
		}
		pos += ll;
	}
}

void
tcp2_cte_decode(enum tcp2_cte cte, const uint8_t *body, size_t len,
    struct tcp2_buf *out)
{
	switch (cte) {
	case TCP2_CTE_QP:
		qp_decode(body, len, out);
		break;
	case TCP2_CTE_BASE64:
		b64_decode(body, len, out);
		break;
	default:
		tcp2_buf_put(out, body, len);
		break;
	}
}

/* Length of the valid UTF-8 sequence at s[0..n), or 0 if invalid. */
static size_t
utf8_seq(const uint8_t *s, size_t n)
{
	uint32_t c;
	size_t k, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		k = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		k = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		k = 4;
	else
		return 0;
	if (n < k)
		return 0;
	c = s[0] & (0x7f >> k);
	for (i = 1; i < k; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	/* No overlongs, no surrogates, nothing past U+10FFFF. */
	if ((k == 3 && c < 0x800) || (k == 4 && c < 0x10000) ||
	    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return 0;
	return k;
}

void
tcp2_utf8_repair(const uint8_t *in, size_t len, struct tcp2_buf *out)
{
	size_t i = 0, run = 0, k;

	while (i < len) {
		k = in[i] == 0 ? 0 : utf8_seq(in + i, len - i);
		if (k > 0) {
			i += k;
			continue;
		}
		tcp2_buf_put(out, in + run, i - run);
		tcp2_buf_put(out, repl, sizeof(repl));
		run = ++i;
		if (buf_full(out))
			return;
	}
	tcp2_buf_put(out, in + run, i - run);
}

size_t
tcp2_utf8_cut(const uint8_t *s, size_t len)
{
	size_t i = len, back = 0;

	/* Step back over continuation bytes to the lead byte, at most 3. */
	while (i > 0 && back < 4 && (s[i - 1] & 0xc0) == 0x80) {
		i--;
		back++;
	}
	if (i == 0 || s[i - 1] < 0x80)
		return len;
	/* s[i - 1] is a lead byte: keep it only when its sequence is whole. */
	if (utf8_seq(s + i - 1, len - i + 1) == len - i + 1)
		return len;
	return i - 1;
}

/* A charset name safe for iconv_open, and not one we repair as UTF-8. */
static int
charset_for_iconv(const char *cs)
{
	size_t i, n = strlen(cs);

	if (n == 0 || n > CHARSET_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)cs[i]) && strchr("-_.:", cs[i]) ==
		    NULL)
			return 0;
	/* US-ASCII mail often carries 8-bit UTF-8: repair, do not reject. */
	return strcasecmp(cs, "utf-8") != 0 && strcasecmp(cs, "utf8") != 0 &&
	    strcasecmp(cs, "us-ascii") != 0 && strcasecmp(cs, "ascii") != 0;
}

static void
iconv_flush(struct tcp2_buf *out, char *tmp, size_t size, size_t left)
{
	tcp2_buf_put(out, tmp, size - left);
}

void
tcp2_charset_to_utf8(const char *charset, const uint8_t *in, size_t len,
    struct tcp2_buf *out)
{
	char tmp[4096], *ip, *op;
	size_t il, ol, r;
	iconv_t cd;

	if (!charset_for_iconv(charset) ||
	    (cd = iconv_open("UTF-8", charset)) == (iconv_t)-1) {
		tcp2_utf8_repair(in, len, out);
		return;
	}
	ip = (char *)(uintptr_t)in;
	il = len;
	while (il > 0 && !buf_full(out)) {
		op = tmp;
		ol = sizeof(tmp);
		r = iconv(cd, &ip, &il, &op, &ol);
		iconv_flush(out, tmp, sizeof(tmp), ol);
		if (r != (size_t)-1 || errno == E2BIG)
			continue;
		/* EILSEQ: skip one byte; EINVAL: an incomplete tail. */
		tcp2_buf_put(out, repl, sizeof(repl));
		if (errno != EILSEQ)
			break;
		ip++;
		il--;
	}
	op = tmp;
	ol = sizeof(tmp);
	(void)iconv(cd, NULL, NULL, &op, &ol);	/* stateful encodings */
	iconv_flush(out, tmp, sizeof(tmp), ol);
	iconv_close(cd);
}

/*
 * One RFC 2047 encoded word at s[0..n) ("=?cs?E?text?="): on success its
 * length, with charset, encoding and text located; 0 when it is not one.
 */
static size_t
ew_parse(const char *s, size_t n, char *cs, size_t cslen, char *enc,
    const char **text, size_t *textlen)
{
	size_t i, c0, t0;

	if (n < 8 || s[0] != '=' || s[1] != '?')
		return 0;
	for (i = 2; i < n && s[i] != '?' && !isspace((unsigned char)s[i]);
	    i++)
		;
	if (i >= n || s[i] != '?' || i == 2 || i - 2 >= cslen)
		return 0;
	c0 = i - 2;
	memcpy(cs, s + 2, c0);
	cs[c0] = '\0';
	/* RFC 2231 language suffix: charset*lang. */
	if (strchr(cs, '*') != NULL)
		*strchr(cs, '*') = '\0';
	if (i + 3 >= n || s[i + 2] != '?')
		return 0;
	*enc = (char)toupper((unsigned char)s[i + 1]);
	if (*enc != 'B' && *enc != 'Q')
		return 0;
	t0 = i + 3;
	for (i = t0; i + 1 < n; i++) {
		if (isspace((unsigned char)s[i]))
			return 0;
		if (s[i] == '?' && s[i + 1] == '=')
			break;
		if (s[i] == '?')
			return 0;	/* encoded-text has no '?' */
	}
	if (i + 1 >= n)
		return 0;
	*text = s + t0;
	*textlen = i - t0;
	return i + 2;
}

/* Encoded words waiting to be converted, joined while the charset stays. */
struct ew_pending {
	char cs[CHARSET_MAX + 2];
	struct tcp2_buf raw;
};

static void
ew_flush(struct ew_pending *pe, struct tcp2_buf *out)
{
	if (pe->raw.len > 0)
		tcp2_charset_to_utf8(pe->cs, pe->raw.p, pe->raw.len, out);
	pe->raw.len = 0;
	pe->raw.total = 0;
}

/* Plain text between words: line ends dropped, then repaired. */
static void
hdr_plain(const char *s, size_t n, struct tcp2_buf *out)
{
	size_t i, run = 0;

	for (i = 0; i < n; i++) {
		if (s[i] != '\r' && s[i] != '\n')
			continue;
		tcp2_utf8_repair((const uint8_t *)s + run, i - run, out);
		run = i + 1;
	}
	tcp2_utf8_repair((const uint8_t *)s + run, n - run, out);
}

void
tcp2_hdr_decode(const char *v, size_t len, struct tcp2_buf *out)
{
	struct ew_pending pe;
	const char *text;
	char cs[CHARSET_MAX + 2], enc;
	size_t i = 0, run = 0, w, tl, j;
	int after_word = 0;

	memset(&pe, 0, sizeof(pe));
	tcp2_buf_init(&pe.raw, len);
	/* Leading white space of the value is not part of it. */
	while (i < len && isspace((unsigned char)v[i]))
		i++;
	run = i;
	while (i < len && !buf_full(out)) {
		w = v[i] == '=' ? ew_parse(v + i, len - i, cs, sizeof(cs),
		    &enc, &text, &tl) : 0;
		if (w == 0) {
			i++;
			continue;
		}
		/* Only white space between two words: drop it. */
		for (j = run; j < i && isspace((unsigned char)v[j]); j++)
			;
		if (!(after_word && j == i)) {
			ew_flush(&pe, out);
			hdr_plain(v + run, i - run, out);
		}
		if (strcasecmp(cs, pe.cs) != 0) {
			ew_flush(&pe, out);
			memcpy(pe.cs, cs, sizeof(pe.cs));
		}
		if (enc == 'B')
			b64_decode((const uint8_t *)text, tl, &pe.raw);
		else
			qp_text((const uint8_t *)text, tl, 1, &pe.raw);
		i += w;
		run = i;
		after_word = 1;
	}
	ew_flush(&pe, out);
	/* Trailing white space of the value neither. */
	while (len > run && isspace((unsigned char)v[len - 1]))
		len--;
	hdr_plain(v + run, len - run, out);
	tcp2_buf_free(&pe.raw);
}

/* HTML to text ------------------------------------------------------- */

struct html_out {
	struct tcp2_buf *b;
	int space;		/* white space seen since the last text */
	int nl;			/* line breaks asked for since the last text */
};

static void
ho_text(struct html_out *h, const void *p, size_t n)
{
	static const char nls[2] = { '\n', '\n' };

	if (n == 0)
		return;
	if (h->b->len > 0 && h->nl > 0)
		tcp2_buf_put(h->b, nls, h->nl > 2 ? 2 : (size_t)h->nl);
	else if (h->b->len > 0 && h->space)
		buf_putc(h->b, ' ');
	h->space = h->nl = 0;
	tcp2_buf_put(h->b, p, n);
}

static void
put_cp(struct html_out *h, uint32_t c)
{
	uint8_t u[4];

	if (c == 0 || (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff) {
		ho_text(h, repl, sizeof(repl));
	} else if (c < 0x80) {
		u[0] = (uint8_t)c;
		ho_text(h, u, 1);
	} else if (c < 0x800) {
		u[0] = (uint8_t)(0xc0 | c >> 6);
		u[1] = (uint8_t)(0x80 | (c & 0x3f));
		ho_text(h, u, 2);
	} else if (c < 0x10000) {
		u[0] = (uint8_t)(0xe0 | c >> 12);
		u[1] = (uint8_t)(0x80 | (c >> 6 & 0x3f));
		u[2] = (uint8_t)(0x80 | (c & 0x3f));
		ho_text(h, u, 3);
	} else {
		u[0] = (uint8_t)(0xf0 | c >> 18);
		u[1] = (uint8_t)(0x80 | (c >> 12 & 0x3f));
		u[2] = (uint8_t)(0x80 | (c >> 6 & 0x3f));
		u[3] = (uint8_t)(0x80 | (c & 0x3f));
		ho_text(h, u, 4);
	}
}

static const struct {
	const char *name;
	uint32_t cp;
} entities[] = {
	{ "amp", '&' }, { "lt", '<' }, { "gt", '>' }, { "quot", '"' },
	{ "apos", '\'' }, { "nbsp", ' ' }, { "copy", 0xa9 }, { "reg", 0xae },
	{ "trade", 0x2122 }, { "hellip", 0x2026 }, { "mdash", 0x2014 },
	{ "ndash", 0x2013 }, { "lsquo", 0x2018 }, { "rsquo", 0x2019 },
	{ "ldquo", 0x201c }, { "rdquo", 0x201d }, { "bull", 0x2022 },
	{ "euro", 0x20ac }, { "laquo", 0xab }, { "raquo", 0xbb },
	{ "middot", 0xb7 }, { "deg", 0xb0 }, { "times", 0xd7 },
	{ "pound", 0xa3 }, { "yen", 0xa5 }, { "cent", 0xa2 }, { "sect", 0xa7 },
	{ "auml", 0xe4 }, { "ouml", 0xf6 }, { "uuml", 0xfc }, { "szlig", 0xdf },
	{ "Auml", 0xc4 }, { "Ouml", 0xd6 }, { "Uuml", 0xdc },
	{ "eacute", 0xe9 }, { "egrave", 0xe8 }, { "agrave", 0xe0 },
	{ "ccedil", 0xe7 },
};

/* An entity at s[0..n) (s[0] == '&'): its length, or 0 if not one. */
static size_t
html_entity(struct html_out *h, const uint8_t *s, size_t n)
{
	char name[12];
	size_t i, k;
	uint32_t c = 0;
	int base = 10, d;

	if (n >= 3 && s[1] == '#') {
		i = 2;
		if (s[i] == 'x' || s[i] == 'X') {
			base = 16;
			i++;
		}
		for (k = i; i < n && i - k < 8; i++) {
			d = base == 16 ? hexval(s[i]) :
			    (isdigit(s[i]) ? s[i] - '0' : -1);
			if (d < 0)
				break;
			c = c * (uint32_t)base + (uint32_t)d;
		}
		if (i == k)
			return 0;
		put_cp(h, c);
		return i < n && s[i] == ';' ? i + 1 : i;
	}
	for (i = 1; i < n && i - 1 < sizeof(name) - 1 && isalnum(s[i]); i++)
		name[i - 1] = (char)s[i];
	if (i >= n || s[i] != ';' || i == 1)
		return 0;
	name[i - 1] = '\0';
	for (k = 0; k < sizeof(entities) / sizeof(entities[0]); k++) {
		if (strcmp(entities[k].name, name) == 0) {
			put_cp(h, entities[k].cp);
			return i + 1;
		}
	}
	return 0;
}

/* Tags after which the text goes on on a new line. */
static int
block_tag(const char *t)
{
	static const char *const blocks[] = {
		"br", "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5",
		"h6", "table", "ul", "ol", "blockquote", "hr", "pre", "dt",
		"dd", "section", "article", "header", "footer", "address",
	};
	size_t i;

	for (i = 0; i < sizeof(blocks) / sizeof(blocks[0]); i++)
		if (strcmp(t, blocks[i]) == 0)
			return 1;
	return 0;
}

/* Position after the end of a tag that starts at s[i] == '<'. */
static size_t
tag_end(const uint8_t *s, size_t n, size_t i)
{
	uint8_t q = 0;

	for (i++; i < n; i++) {
		if (q != 0) {
			if (s[i] == q)
				q = 0;
		} else if (s[i] == '"' || s[i] == '\'') {
			q = s[i];
		} else if (s[i] == '>') {
			return i + 1;
		}
	}
	return n;
}

/* Skip the contents of a raw-text element up to and past "</name>". */
static size_t
skip_raw(const uint8_t *s, size_t n, size_t i, const char *name)
{
	size_t nl = strlen(name);

	for (; i + 2 + nl <= n; i++)
		if (s[i] == '<' && s[i + 1] == '/' &&
		    strncasecmp((const char *)s + i + 2, name, nl) == 0)
			return tag_end(s, n, i);
	return n;
}

/* A tag at s[i] == '<': returns the position after it (and its text). */
static size_t
html_tag(struct html_out *h, const uint8_t *s, size_t n, size_t i)
{
	const uint8_t *e;
	char t[16];
	size_t j = i + 1, k = 0, end;
	int closing = 0;

	if (n - i >= 4 && memcmp(s + i, "<!--", 4) == 0) {
		e = memmem(s + i + 4, n - i - 4, "-->", 3);
		return e ? (size_t)(e - s) + 3 : n;
	}
	if (j < n && s[j] == '/') {
		closing = 1;
		j++;
	}
	if (j >= n || !(isalpha(s[j]) || s[j] == '!' || s[j] == '?'))
		return 0;	/* a lone '<' is text */
	for (; j < n && isalnum(s[j]) && k < sizeof(t) - 1; j++)
		t[k++] = (char)tolower(s[j]);
	t[k] = '\0';
	end = tag_end(s, n, i);
	if (!closing && (strcmp(t, "script") == 0 ||
	    strcmp(t, "style") == 0 || strcmp(t, "title") == 0))
		return skip_raw(s, n, end, t);
	if (block_tag(t))
		h->nl += strcmp(t, "p") == 0 ? 2 : 1;
	else if (strcmp(t, "td") == 0 || strcmp(t, "th") == 0)
		h->space = 1;
	return end;
}

void
tcp2_html_to_text(const uint8_t *s, size_t n, struct tcp2_buf *out)
{
	struct html_out h = { out, 0, 0 };
	size_t i = 0, run, k;

	while (i < n && !buf_full(out)) {
		if (s[i] == '<' && (k = html_tag(&h, s, n, i)) != 0) {
			i = k;
			continue;
		}
		if (s[i] == '&' && (k = html_entity(&h, s + i, n - i)) != 0) {
			i += k;
			continue;
		}
		if (isspace(s[i])) {
			h.space = 1;
			i++;
			continue;
		}
		for (run = i + 1; run < n && s[run] != '<' && s[run] != '&' &&
		    !isspace(s[run]); run++)
			;
		ho_text(&h, s + i, run - i);
		i = run;
	}
}
