/*
 * mime_strip.c - "Receive without attachments": a copy of a message with
 * every attachment part cut out and a short text/plain note in place of
 * the first one, naming what was removed.  Only the removed parts change;
 * every other byte, delimiter lines included, is copied as it was.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base64.h"
#include "error.h"
#include "header.h"
#include "mime.h"
#include "mimedec.h"

#define NOTE_7BIT_MAX	900	/* longer notes are base64: line limit */

/* A name for the note: control characters would break its lines. */
static void
note_name(struct tcp2_buf *b, const char *name)
{
	const char *s;

	if (name[0] == '\0') {
		tcp2_buf_put(b, "(no name)", 9);
		return;
	}
	for (s = name; *s != '\0'; s++)
		tcp2_buf_put(b, (unsigned char)*s < 32 || *s == 127 ? "?" : s,
		    1);
}

/* "TCP2 Mail removed N attachment(s): a (type, n bytes), ..." */
static void
note_text(const struct tcp2_mime *m, struct tcp2_buf *b)
{
	char num[64];
	size_t i, k = 0;

	snprintf(num, sizeof(num), "TCP2 Mail removed %zu attachment(s): ",
	    m->nattach);
	tcp2_buf_put(b, num, strlen(num));
	for (i = 0; i < m->nparts; i++) {
		if (!m->parts[i].attachment)
			continue;
		if (k++ > 0)
			tcp2_buf_put(b, ", ", 2);
		note_name(b, m->parts[i].filename);
		tcp2_buf_put(b, " (", 2);
		tcp2_buf_put(b, m->parts[i].type, strlen(m->parts[i].type));
		snprintf(num, sizeof(num), ", %zu bytes)",
		    m->parts[i].decoded_size);
		tcp2_buf_put(b, num, strlen(num));
	}
	tcp2_buf_put(b, ".", 1);
}

static int
plain_ascii(const uint8_t *p, size_t n)
{
	size_t i;

	if (n > NOTE_7BIT_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (p[i] < 32 || p[i] > 126)
			return 0;
	return 1;
}

/*
 * The note as a MIME part (header fields, blank line, body) into out;
 * the body's last line end is left to what follows it in the message.
 */
static void
note_part(const struct tcp2_mime *m, const char *eol, struct tcp2_buf *out)
{
	struct tcp2_b64_enc e;
	struct tcp2_buf t;
	char *enc;
	size_t n, el = strlen(eol);
	int ascii;

	tcp2_buf_init(&t, SIZE_MAX);
	note_text(m, &t);
	ascii = !t.oom && plain_ascii(t.p, t.len);
	tcp2_buf_put(out, "Content-Type: text/plain; charset=utf-8", 39);
	tcp2_buf_put(out, eol, el);
	tcp2_buf_put(out, "Content-Transfer-Encoding: ", 27);
	tcp2_buf_put(out, ascii ? "7bit" : "base64", ascii ? 4 : 6);
	tcp2_buf_put(out, eol, el);
	tcp2_buf_put(out, "Content-Disposition: inline", 27);
	tcp2_buf_put(out, eol, el);
	tcp2_buf_put(out, eol, el);
	if (ascii) {
		tcp2_buf_put(out, t.p, t.len);
	} else if ((enc = malloc(TCP2_B64_ENC_BOUND(t.len) + 8)) != NULL) {
		tcp2_b64_enc_init(&e, eol);
		n = tcp2_b64_enc_update(&e, enc, t.p, t.len);
		n += tcp2_b64_enc_final(&e, enc + n);
		tcp2_buf_put(out, enc, n >= el ? n - el : n);
		free(enc);
	} else {
		out->oom = 1;
	}
	tcp2_buf_free(&t);
}

static int
is_content_field(const struct tcp2_hdr_field *f)
{
	return tcp2_hdr_is(f, "Content-Type") ||
	    tcp2_hdr_is(f, "Content-Transfer-Encoding") ||
	    tcp2_hdr_is(f, "Content-Disposition") ||
	    tcp2_hdr_is(f, "Content-Description") ||
	    tcp2_hdr_is(f, "Content-ID");
}

/*
 * The whole message is one attachment: keep its header fields but the
 * Content-* ones, and give it the note as its only content.
 */
static void
strip_single(const uint8_t *msg, size_t len, const struct tcp2_mime *m,
    const struct tcp2_mime_part *p, struct tcp2_buf *out)
{
	struct tcp2_hdr_field f;
	enum tcp2_hdr_status st;
	const char *eol = m->crlf ? "\r\n" : "\n";
	size_t pos = p->hdr_off, used;

	tcp2_buf_put(out, msg, pos);	/* an mbox "From " line */
	for (;;) {
		st = tcp2_hdr_next((const char *)msg + pos, len - pos, 1, &f,
		    &used);
		if (st != TCP2_HDR_FIELD)
			break;
		if (!is_content_field(&f)) {
			tcp2_buf_put(out, msg + pos, used);
			/* A last field without line end needs one now. */
			if (msg[pos + used - 1] != '\n')
				tcp2_buf_put(out, eol, strlen(eol));
		}
		pos += used;
	}
	note_part(m, eol, out);
	tcp2_buf_put(out, eol, strlen(eol));
}

int
tcp2_mime_strip(const uint8_t *msg, size_t len, uint8_t **out,
    size_t *outlen)
{
	const struct tcp2_mime_part *p;
	struct tcp2_mime m;
	struct tcp2_buf b;
	const char *eol;
	size_t i, cur = 0;
	int rc, first = 1;

	*out = NULL;
	*outlen = 0;
	if ((rc = tcp2_mime_analyse(msg, len, &m)) != 0)
		return rc;
	tcp2_buf_init(&b, SIZE_MAX);
	eol = m.crlf ? "\r\n" : "\n";
	for (i = 0; i < m.nparts && m.nattach > 0; i++) {
		p = &m.parts[i];
		/* Leaves never overlap; a part before cur would be a bug. */
		if (!p->attachment || p->seg_off < cur || p->hdr_off < cur)
			continue;
		if (p->depth == 0) {
			strip_single(msg, len, &m, p, &b);
			cur = len;
			break;
		}
		if (first) {
			/* Keep the delimiter; the note replaces the part. */
			tcp2_buf_put(&b, msg + cur, p->hdr_off - cur);
			note_part(&m, eol, &b);
			cur = p->body_off + p->body_len;
			/* Ended with the message, without a line end. */
			if (cur == len)
				tcp2_buf_put(&b, eol, strlen(eol));
			first = 0;
			continue;
		}
		/* The part goes with its delimiter line. */
		tcp2_buf_put(&b, msg + cur, p->seg_off - cur);
		cur = p->seg_end;
	}
	tcp2_buf_put(&b, msg + cur, len - cur);
	tcp2_mime_free(&m);
	if (b.oom) {
		tcp2_buf_free(&b);
		return TCP2_ENOMEM;
	}
	if (b.p == NULL && tcp2_buf_cstr(&b) == NULL)
		return TCP2_ENOMEM;
	*out = b.p;
	*outlen = b.len;
	return 0;
}
