/*
 * mime.c - walk the MIME structure of a message held in memory: leaf
 * parts, their types, names and places in the buffer, which of them are
 * attachments and which are risky; and the text to show people.  The
 * header block is read with header.c; decoding lives in mimedec.c;
 * removing attachments in mime_strip.c.
 *
 * What counts as an attachment (tcp2_mime_part.attachment): a part with
 * "Content-Disposition: attachment" or with a filename; or a leaf that is
 * neither text nor multipart and is not the message's first leaf, except
 * a part of a multipart/related without filename (an inline image of an
 * HTML page).  A leaf of a risky type is an attachment even when it is
 * the first one: a bare executable is no message body.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "header.h"
#include "mime.h"
#include "mimedec.h"

#define FIELD_MAX	(16u << 10)	/* octets of an unfolded MIME field */
#define BOUNDARY_MAX	200		/* RFC 2046 says 70; be generous */
#define NODES_MAX	(4 * TCP2_MIME_PARTS_MAX)	/* containers too */
#define RFC2231_SEGS	64		/* filename*0 .. filename*63 */
#define RAW_PLAIN_MAX	(4u << 20)	/* text/plain octets decoded */
#define RAW_HTML_MAX	(16u << 20)	/* text/html octets decoded */

/* What a part's header block says about it. */
struct hinfo {
	char type[96];
	char charset[48];
	char encoding[32];
	char disposition[16];
	char filename[TCP2_MIME_NAME_MAX];
	char boundary[BOUNDARY_MAX + 1];
	size_t body_off;
};

struct walk {
	const uint8_t *msg;
	size_t len;
	struct tcp2_mime *m;
	size_t alloc;
	size_t nodes;
	int stop;		/* a bound was hit: list nothing more */
	int oom;
};

static const char *const risky_ext[] = {
	"exe", "com", "scr", "bat", "cmd", "ps1", "psm1", "vbs", "vbe", "js",
	"jse", "wsf", "wsh", "hta", "msi", "msp", "lnk", "pif", "cpl", "reg",
	"scf", "inf", "dll", "jar", "iso", "img", "vhd", "vhdx", "zip",
	"rar", "7z", "cab", "ace", "arj", "gz", "tgz", "tar", "xz", "bz2",
	"docm", "dotm", "xlsm", "xltm", "xlam", "pptm", "potm", "ppam",
	"sldm", "appx", "msix", "application", "sh", "apk", "dmg",
};

static const char *const risky_type[] = {
	"application/x-msdownload", "application/x-msdos-program",
	"application/x-dosexec", "application/x-executable",
	"application/vnd.microsoft.portable-executable",
	"application/x-ms-installer", "application/x-msi",
	"application/x-ms-shortcut", "application/x-ms-application",
	"application/x-sh", "application/x-csh", "application/x-bat",
	"application/x-powershell", "application/java-archive",
	"application/x-java-archive", "application/hta",
	"application/javascript", "application/x-javascript",
	"text/javascript", "application/ecmascript", "text/vbscript",
	"application/x-vbscript", "application/zip",
	"application/x-zip-compressed", "application/x-rar-compressed",
	"application/vnd.rar", "application/x-rar",
	"application/x-7z-compressed", "application/x-iso9660-image",
	"application/x-cd-image", "application/x-gzip", "application/gzip",
	"application/x-tar", "application/vnd.ms-cab-compressed",
	"application/vnd.ms-word.document.macroenabled.12",
	"application/vnd.ms-word.template.macroenabled.12",
	"application/vnd.ms-excel.sheet.macroenabled.12",
	"application/vnd.ms-excel.template.macroenabled.12",
	"application/vnd.ms-excel.addin.macroenabled.12",
	"application/vnd.ms-powerpoint.presentation.macroenabled.12",
	"application/vnd.ms-powerpoint.slideshow.macroenabled.12",
	"application/vnd.ms-powerpoint.addin.macroenabled.12",
};

/* Content a mail client may run or render: HTML and scripts. */
static const char *const active_type[] = {
	"text/html", "application/xhtml+xml", "text/javascript",
	"application/javascript", "application/x-javascript",
	"application/ecmascript", "text/ecmascript", "application/hta",
	"image/svg+xml", "text/vbscript", "application/x-vbscript",
};

static int
in_list(const char *s, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcasecmp(s, list[i]) == 0)
			return 1;
	return 0;
}

#define IN_LIST(s, l) in_list((s), (l), sizeof(l) / sizeof((l)[0]))

/* The filename's last extension, ignoring the trailing dots and spaces
 * that Windows drops ("invoice.exe. " runs as invoice.exe). */
static int
risky_name(const char *name)
{
	char ext[16];
	size_t n = strlen(name), e;

	while (n > 0 && (name[n - 1] == '.' || name[n - 1] == ' '))
		n--;
	for (e = n; e > 0 && name[e - 1] != '.'; e--)
		;
	if (e == 0 || n - e == 0 || n - e >= sizeof(ext))
		return 0;
	memcpy(ext, name + e, n - e);
	ext[n - e] = '\0';
	return IN_LIST(ext, risky_ext);
}

static void
lower(char *s)
{
	for (; *s != '\0'; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* Copy a field value without its line ends (unfold), bounded. */
static void
unfold(const struct tcp2_hdr_field *f, char *out, size_t outlen)
{
	size_t i, k = 0;

	for (i = 0; i < f->valuelen && k + 1 < outlen; i++)
		if (f->value[i] != '\r' && f->value[i] != '\n')
			out[k++] = f->value[i];
	out[k] = '\0';
}

/* The first token of a value (up to ';'), trimmed and lower-cased. */
static void
first_token(const char *v, char *out, size_t outlen)
{
	size_t n, k = 0;

	while (*v == ' ' || *v == '\t')
		v++;
	for (n = strcspn(v, ";"); n > 0 && isspace((unsigned char)v[n - 1]);
	    n--)
		;
	if (n >= outlen)
		n = outlen - 1;
	for (; k < n; k++)
		out[k] = (char)tolower((unsigned char)v[k]);
	out[k] = '\0';
}

/* "type/subtype" made of token characters (RFC 2045 5.1)? */
static int
valid_type(const char *t)
{
	const char *slash = strchr(t, '/');
	size_t i;

	if (slash == NULL || slash == t || slash[1] == '\0' ||
	    strchr(slash + 1, '/') != NULL)
		return 0;
	for (i = 0; t[i] != '\0'; i++)
		if (!isalnum((unsigned char)t[i]) && t[i] != '/' &&
		    strchr("!#$&^_.+-", t[i]) == NULL)
			return 0;
	return 1;
}

/* RFC 2231 %XX escapes of an extended value into raw bytes. */
static void
pct_decode(const char *s, struct tcp2_buf *out)
{
	static const char hex[] = "0123456789abcdef";
	const char *a, *b;
	uint8_t c;

	for (; *s != '\0'; s++) {
		if (s[0] == '%' && s[1] != '\0' && s[2] != '\0' &&
		    (a = strchr(hex, tolower((unsigned char)s[1]))) != NULL &&
		    (b = strchr(hex, tolower((unsigned char)s[2]))) != NULL) {
			c = (uint8_t)((a - hex) << 4 | (b - hex));
			tcp2_buf_put(out, &c, 1);
			s += 2;
			continue;
		}
		tcp2_buf_put(out, s, 1);
	}
}

/*
 * An RFC 2231 extended value "charset'lang'%XX..": the charset into cs,
 * the rest %-decoded into raw.  Without two quotes it is taken as plain.
 */
static void
ext_value(const char *v, char *cs, size_t cslen, struct tcp2_buf *raw)
{
	const char *q1 = strchr(v, '\''), *q2;

	q2 = q1 ? strchr(q1 + 1, '\'') : NULL;
	if (q2 == NULL) {
		pct_decode(v, raw);
		return;
	}
	if ((size_t)(q1 - v) < cslen) {
		memcpy(cs, v, (size_t)(q1 - v));
		cs[q1 - v] = '\0';
	}
	pct_decode(q2 + 1, raw);
}

/*
 * Parameter pname of value v as UTF-8 into out[TCP2_MIME_NAME_MAX]: the
 * RFC 2231 forms (pname*, pname*0*, pname*1 ...) first, then the plain
 * one with RFC 2047 words decoded.  "" when absent.
 */
static void
param_utf8(const char *v, const char *pname, char *out)
{
	char seg[TCP2_MIME_NAME_MAX], key[48], cs[48] = "";
	struct tcp2_buf raw, u;
	size_t vl = strlen(v), n;
	int i, rc, found = 0;

	out[0] = '\0';
	tcp2_buf_init(&raw, 4 * TCP2_MIME_NAME_MAX);
	tcp2_buf_init(&u, TCP2_MIME_NAME_MAX - 1);
	snprintf(key, sizeof(key), "%s*", pname);
	if (tcp2_hdr_param(v, vl, key, seg, sizeof(seg)) == 0) {
		ext_value(seg, cs, sizeof(cs), &raw);
		found = 1;
	}
	for (i = 0; !found && i < RFC2231_SEGS; i++) {
		snprintf(key, sizeof(key), "%s*%d*", pname, i);
		if (tcp2_hdr_param(v, vl, key, seg, sizeof(seg)) == 0) {
			if (i == 0)
				ext_value(seg, cs, sizeof(cs), &raw);
			else
				pct_decode(seg, &raw);
			continue;
		}
		snprintf(key, sizeof(key), "%s*%d", pname, i);
		if (tcp2_hdr_param(v, vl, key, seg, sizeof(seg)) != 0)
			break;
		tcp2_buf_put(&raw, seg, strlen(seg));
	}
	if (raw.total > 0) {
		tcp2_charset_to_utf8(cs, raw.p ? raw.p : (const uint8_t *)"",
		    raw.len, &u);
	} else if ((rc = tcp2_hdr_param(v, vl, pname, seg, sizeof(seg))) ==
	    0 || rc == TCP2_ETOOBIG) {
		/* A too-long plain name is cut, not dropped. */
		seg[sizeof(seg) - 1] = '\0';
		tcp2_hdr_decode(seg, strlen(seg), &u);
	}
	if (u.len > 0) {
		n = tcp2_utf8_cut(u.p, u.len);
		memcpy(out, u.p, n);
		out[n] = '\0';
	}
	tcp2_buf_free(&raw);
	tcp2_buf_free(&u);
}

static void
take_content_type(struct hinfo *h, const char *v)
{
	char t[sizeof(h->type)];

	first_token(v, t, sizeof(t));
	if (valid_type(t))
		memcpy(h->type, t, sizeof(t));
	if (tcp2_hdr_param(v, strlen(v), "charset", h->charset,
	    sizeof(h->charset)) != 0)
		h->charset[0] = '\0';
	lower(h->charset);
	if (tcp2_hdr_param(v, strlen(v), "boundary", h->boundary,
	    sizeof(h->boundary)) != 0)
		h->boundary[0] = '\0';
	if (h->filename[0] == '\0')
		param_utf8(v, "name", h->filename);
}

static void
take_disposition(struct hinfo *h, const char *v)
{
	char name[TCP2_MIME_NAME_MAX];

	first_token(v, h->disposition, sizeof(h->disposition));
	/* Content-Disposition's filename wins over Content-Type's name. */
	param_utf8(v, "filename", name);
	if (name[0] != '\0')
		memcpy(h->filename, name, sizeof(name));
}

/*
 * Read the header block at msg[off..end) into *h (defaults first:
 * text/plain, or message/rfc822 in a multipart/digest).  The first of
 * each MIME field counts.  Returns the number of fields read.
 */
static size_t
read_header(const uint8_t *msg, size_t off, size_t end, const char *deftype,
    struct hinfo *h)
{
	struct tcp2_hdr_field f;
	enum tcp2_hdr_status st;
	char *v;
	size_t used, nf = 0;
	int seen_ct = 0, seen_cte = 0, seen_cd = 0;

	memset(h, 0, sizeof(*h));
	snprintf(h->type, sizeof(h->type), "%s", deftype);
	v = malloc(FIELD_MAX);
	for (;;) {
		st = tcp2_hdr_next((const char *)msg + off, end - off, 1, &f,
		    &used);
		if (st == TCP2_HDR_END) {
			off += used;
			break;
		}
		if (st != TCP2_HDR_FIELD)
			break;	/* a line that is no field starts the body */
		nf++;
		if (v != NULL && !seen_ct && tcp2_hdr_is(&f, "Content-Type")) {
			seen_ct = 1;
			unfold(&f, v, FIELD_MAX);
			take_content_type(h, v);
		} else if (v != NULL && !seen_cte &&
		    tcp2_hdr_is(&f, "Content-Transfer-Encoding")) {
			seen_cte = 1;
			unfold(&f, v, FIELD_MAX);
			first_token(v, h->encoding, sizeof(h->encoding));
		} else if (v != NULL && !seen_cd &&
		    tcp2_hdr_is(&f, "Content-Disposition")) {
			seen_cd = 1;
			unfold(&f, v, FIELD_MAX);
			take_disposition(h, v);
		}
		off += used;
	}
	free(v);
	h->body_off = off;
	return nf;
}

/*
 * The next delimiter line of boundary b in msg[pos..end): its start, the
 * start of the line after it (*next) and whether it closes (*close).
 * end when there is none.
 */
static size_t
find_delim(const uint8_t *msg, size_t start, size_t pos, size_t end,
    const char *b, size_t *next, int *close)
{
	size_t bl = strlen(b), q;
	const uint8_t *hit;

	while (pos + 2 + bl <= end) {
		hit = memmem(msg + pos, end - pos, "--", 2);
		if (hit == NULL)
			return end;
		pos = (size_t)(hit - msg);
		if (pos + 2 + bl > end)
			return end;
		if ((pos > start && msg[pos - 1] != '\n') ||
		    memcmp(msg + pos + 2, b, bl) != 0) {
			/* Not at a line start: go on after this line's LF. */
			hit = memchr(msg + pos + 2, '\n', end - pos - 2);
			if (hit == NULL)
				return end;
			pos = (size_t)(hit - msg) + 1;
			continue;
		}
		q = pos + 2 + bl;
		*close = q + 2 <= end && msg[q] == '-' && msg[q + 1] == '-';
		if (*close)
			q += 2;
		while (q < end && (msg[q] == ' ' || msg[q] == '\t'))
			q++;
		if (q < end && msg[q] == '\r' && q + 1 < end &&
		    msg[q + 1] == '\n')
			q++;
		if (q == end || msg[q] == '\n') {
			*next = q < end ? q + 1 : end;
			return pos;
		}
		/* "--boundaryX": a longer boundary, not ours. */
		hit = memchr(msg + q, '\n', end - q);
		if (hit == NULL)
			return end;
		pos = (size_t)(hit - msg) + 1;
	}
	return end;
}

/* Where a part before a delimiter at d ends: before its line end. */
static size_t
before_eol(const uint8_t *msg, size_t from, size_t d)
{
	if (d > from && msg[d - 1] == '\n')
		d--;
	if (d > from && msg[d - 1] == '\r')
		d--;
	return d;
}

struct span {
	size_t hdr, end;	/* the part: header block to body end */
	size_t seg, seg_end;	/* with its delimiter, to the next one */
	unsigned int depth;
	int first;		/* the message's first leaf may be here */
	const char *parent;	/* the enclosing multipart's type, or "" */
	long outer;		/* leaf index of the enclosing attached
				 * message, or -1 */
};

static void walk_part(struct walk *w, const struct span *s);

/* The children of a multipart; 0, or -1 when it has no delimiter. */
static int
walk_children(struct walk *w, const struct span *s, const struct hinfo *h)
{
	struct span c;
	size_t d, next, d2, next2;
	int close, close2, i;

	d = find_delim(w->msg, h->body_off, h->body_off, s->end, h->boundary,
	    &next, &close);
	if (d == s->end || close)
		return -1;	/* no part at all: a leaf as it stands */
	for (i = 0; !close && !w->stop; i++) {
		d2 = find_delim(w->msg, h->body_off, next, s->end,
		    h->boundary, &next2, &close2);
		c.hdr = next;
		c.end = d2 == s->end ? s->end : before_eol(w->msg, next, d2);
		c.seg = d;
		c.seg_end = d2;
		c.depth = s->depth + 1;
		c.first = s->first && i == 0;
		c.parent = h->type;
		c.outer = s->outer;
		walk_part(w, &c);
		if (d2 == s->end)
			break;	/* no closing delimiter: ends with the msg */
		d = d2;
		next = next2;
		close = close2;
	}
	return 0;
}

static struct tcp2_mime_part *
new_leaf(struct walk *w)
{
	struct tcp2_mime *m = w->m;
	struct tcp2_mime_part *p;
	size_t n;

	if (m->nparts == TCP2_MIME_PARTS_MAX) {
		m->limited = 1;
		w->stop = 1;
		return NULL;
	}
	if (m->nparts == w->alloc) {
		n = w->alloc ? 2 * w->alloc : 8;
		p = reallocarray(m->parts, n, sizeof(*p));
		if (p == NULL) {
			w->oom = w->stop = 1;
			return NULL;
		}
		m->parts = p;
		w->alloc = n;
	}
	p = &m->parts[m->nparts++];
	memset(p, 0, sizeof(*p));
	return p;
}

/* Is this leaf an attachment?  (The rules are in the comment on top.) */
static int
is_attachment(const struct span *s, const struct hinfo *h, int risky)
{
	if (strcmp(h->disposition, "attachment") == 0 || h->filename[0])
		return 1;
	if (risky)
		return 1;
	if (strncmp(h->type, "text/", 5) == 0 ||
	    strncmp(h->type, "multipart/", 10) == 0 || s->first)
		return 0;
	return strcmp(s->parent, "multipart/related") != 0;
}

static void
leaf(struct walk *w, const struct span *s, const struct hinfo *h)
{
	struct tcp2_mime_part *p, *o;
	struct tcp2_buf count;
	int active, risky;
	long idx;

	active = IN_LIST(h->type, active_type);
	risky = IN_LIST(h->type, risky_type) || risky_name(h->filename);
	if (active)
		w->m->has_html = 1;
	if (s->outer >= 0) {
		/* Inside an attached message: it takes our flags. */
		o = &w->m->parts[s->outer];
		o->active |= active;
		o->risky |= risky;
		idx = s->outer;
		goto inner;
	}
	if ((p = new_leaf(w)) == NULL)
		return;
	memcpy(p->type, h->type, sizeof(p->type));
	memcpy(p->charset, h->charset, sizeof(p->charset));
	memcpy(p->encoding, h->encoding, sizeof(p->encoding));
	memcpy(p->disposition, h->disposition, sizeof(p->disposition));
	memcpy(p->filename, h->filename, sizeof(p->filename));
	p->hdr_off = s->hdr;
	p->body_off = h->body_off;
	p->body_len = s->end - h->body_off;
	p->seg_off = s->seg;
	p->seg_end = s->seg_end;
	p->depth = s->depth;
	p->active = active;
	p->risky = risky;
	p->attachment = is_attachment(s, h, risky);
	tcp2_buf_init(&count, 0);
	tcp2_cte_decode(tcp2_cte_parse(h->encoding), w->msg + p->body_off,
	    p->body_len, &count);
	p->decoded_size = count.total;
	idx = (long)(p - w->m->parts);
inner:
	/* An attached message is one leaf, but what it holds counts. */
	if ((strcmp(h->type, "message/rfc822") == 0 ||
	    strcmp(h->type, "message/global") == 0) &&
	    tcp2_cte_parse(h->encoding) == TCP2_CTE_IDENTITY) {
		struct span c = *s;

		if (s->depth >= TCP2_MIME_DEPTH_MAX) {
			w->m->limited = 1;
			return;
		}
		c.hdr = h->body_off;
		c.depth = s->depth + 1;
		c.first = 0;
		c.parent = "";
		c.outer = idx;
		walk_part(w, &c);
	}
}

static void
walk_part(struct walk *w, const struct span *s)
{
	struct hinfo *h;
	const char *deftype = "text/plain";

	if (w->stop)
		return;
	if (++w->nodes > NODES_MAX) {
		w->m->limited = 1;
		w->stop = 1;
		return;
	}
	if (strcmp(s->parent, "multipart/digest") == 0)
		deftype = "message/rfc822";
	if ((h = malloc(sizeof(*h))) == NULL) {
		w->oom = w->stop = 1;
		return;
	}
	read_header(w->msg, s->hdr, s->end, deftype, h);
	if (strncmp(h->type, "multipart/", 10) == 0 && h->boundary[0]) {
		if (s->depth >= TCP2_MIME_DEPTH_MAX)
			w->m->limited = 1;
		else if (walk_children(w, s, h) == 0)
			goto out;
	}
	leaf(w, s, h);
out:
	explicit_bzero(h, sizeof(*h));
	free(h);
}

/* Top-level facts: is it MIME, which line ends, how long the header. */
static void
top_facts(const uint8_t *msg, size_t len, size_t start, struct tcp2_mime *m)
{
	struct tcp2_hdr_field f;
	const uint8_t *nl;
	size_t pos = start, used;
	enum tcp2_hdr_status st;

	nl = memchr(msg, '\n', len);
	m->crlf = nl != NULL && nl > msg && nl[-1] == '\r';
	for (;;) {
		st = tcp2_hdr_next((const char *)msg + pos, len - pos, 1, &f,
		    &used);
		if (st == TCP2_HDR_END)
			pos += used;
		if (st != TCP2_HDR_FIELD)
			break;
		if (tcp2_hdr_is(&f, "MIME-Version") ||
		    tcp2_hdr_is(&f, "Content-Type"))
			m->is_mime = 1;
		pos += used;
	}
	m->hdr_off = start;
	m->hdr_len = pos - start;
}

/* An mbox "From " line in front of the header is not part of it. */
static size_t
skip_mbox_from(const uint8_t *msg, size_t len)
{
	const uint8_t *nl;

	if (len < 5 || memcmp(msg, "From ", 5) != 0)
		return 0;
	nl = memchr(msg, '\n', len);
	return nl ? (size_t)(nl - msg) + 1 : len;
}

int
tcp2_mime_analyse(const uint8_t *msg, size_t len, struct tcp2_mime *m)
{
	struct walk w;
	struct span top;
	size_t i;

	memset(m, 0, sizeof(*m));
	if (len > TCP2_MIME_MSG_MAX)
		return TCP2_ETOOBIG;
	memset(&w, 0, sizeof(w));
	w.msg = msg;
	w.len = len;
	w.m = m;
	top.hdr = skip_mbox_from(msg, len);
	top.end = len;
	top.seg = top.hdr;
	top.seg_end = len;
	top.depth = 0;
	top.first = 1;
	top.parent = "";
	top.outer = -1;
	top_facts(msg, len, top.hdr, m);
	walk_part(&w, &top);
	if (w.oom) {
		tcp2_mime_free(m);
		return TCP2_ENOMEM;
	}
	for (i = 0; i < m->nparts; i++) {
		if (!m->parts[i].attachment)
			continue;
		m->nattach++;
		if (m->parts[i].risky)
			m->nrisky++;
	}
	return 0;
}

void
tcp2_mime_free(struct tcp2_mime *m)
{
	free(m->parts);
	memset(m, 0, sizeof(*m));
}

/* Text for people --------------------------------------------------- */

static const struct tcp2_mime_part *
text_part(const struct tcp2_mime *m, const char *type)
{
	size_t i;

	for (i = 0; i < m->nparts; i++)
		if (!m->parts[i].attachment &&
		    strcmp(m->parts[i].type, type) == 0)
			return &m->parts[i];
	return NULL;
}

/* CRLF and lone CR to LF, in place; returns the new length. */
static size_t
to_lf(uint8_t *s, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == '\r') {
			s[k++] = '\n';
			if (i + 1 < n && s[i + 1] == '\n')
				i++;
			continue;
		}
		s[k++] = s[i];
	}
	return k;
}

int
tcp2_mime_text(const uint8_t *msg, size_t len, const struct tcp2_mime *m,
    char **out, size_t *outlen, int *truncated)
{
	const struct tcp2_mime_part *p;
	struct tcp2_buf raw, u, t, *res = &u;
	int html = 0, cut, rc = 0;
	size_t n;

	*out = NULL;
	*outlen = 0;
	*truncated = 0;
	if ((p = text_part(m, "text/plain")) == NULL &&
	    (p = text_part(m, "text/html")) != NULL)
		html = 1;
	tcp2_buf_init(&raw, html ? RAW_HTML_MAX : RAW_PLAIN_MAX);
	tcp2_buf_init(&u, html ? RAW_HTML_MAX : TCP2_MIME_TEXT_MAX + 4);
	tcp2_buf_init(&t, TCP2_MIME_TEXT_MAX + 4);
	if (p != NULL && p->body_off + p->body_len <= len) {
		tcp2_cte_decode(tcp2_cte_parse(p->encoding), msg + p->body_off,
		    p->body_len, &raw);
		tcp2_charset_to_utf8(p->charset, raw.p ? raw.p :
		    (const uint8_t *)"", raw.len, &u);
		if (html) {
			tcp2_html_to_text(u.p ? u.p : (const uint8_t *)"",
			    u.len, &t);
			res = &t;
		}
	}
	cut = raw.total > raw.len || u.total > u.len || t.total > t.len;
	n = res->len > 0 ? to_lf(res->p, res->len) : 0;
	if (n > TCP2_MIME_TEXT_MAX) {
		n = tcp2_utf8_cut(res->p, TCP2_MIME_TEXT_MAX);
		cut = 1;
	} else if (cut) {
		n = tcp2_utf8_cut(res->p, n);
	}
	if (raw.oom || u.oom || t.oom ||
	    (*out = malloc(n + 1)) == NULL) {
		rc = TCP2_ENOMEM;
		goto done;
	}
	if (n > 0)
		memcpy(*out, res->p, n);
	(*out)[n] = '\0';
	*outlen = n;
	*truncated = cut;
done:
	tcp2_buf_free(&raw);
	tcp2_buf_free(&u);
	tcp2_buf_free(&t);
	return rc;
}
