/*
 * test_mime.c - the MIME analyser (mime.h), its decoders (mimedec.h), the
 * attachment stripper and the VIEW (view.h): hand-made messages for each
 * case the analyser must get right (nested multiparts, RFC 2231 and 2047
 * names, quoted-printable soft breaks, base64 with junk, charsets, HTML
 * only, alternatives, attached messages, no MIME, LF only, a missing
 * closing boundary, the part and depth bounds), each in LF and CRLF form;
 * then Python's e-mail test corpus (libpython3.11-testsuite): every
 * message analyses, has a VIEW, and strips to a message that analyses
 * with no attachment left.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "harness.h"
#include "mime.h"
#include "mimedec.h"
#include "view.h"

#define PYDATA	"/usr/lib/python3.11/test/test_email/data"
#define MIN_CORPUS	30

/* A message written with "\n" lines, as LF or CRLF. */
static uint8_t *
mk(const char *s, int crlf, size_t *len)
{
	size_t n = strlen(s), i, k = 0;
	uint8_t *p = malloc(2 * n + 1);

	if (p == NULL)
		abort();
	for (i = 0; i < n; i++) {
		if (crlf && s[i] == '\n')
			p[k++] = '\r';
		p[k++] = (uint8_t)s[i];
	}
	p[k] = '\0';
	*len = k;
	return p;
}

static int
analyse(const char *s, int crlf, struct tcp2_mime *m, uint8_t **msg,
    size_t *len)
{
	*msg = mk(s, crlf, len);
	return tcp2_mime_analyse(*msg, *len, m);
}

/* The text for people as a malloc'd string. */
static char *
text_of(const uint8_t *msg, size_t len, const struct tcp2_mime *m, int *cut)
{
	char *t;
	size_t n;

	if (tcp2_mime_text(msg, len, m, &t, &n, cut) != 0)
		return NULL;
	return t;
}

static const char *const eolname[] = { "LF", "CRLF" };

static const char nested[] =
    "From: Bob <bob@example.net>\n"
    "To: alice@example.org\n"
    "Subject: nested\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/mixed; boundary=\"outer\"\n"
    "\n"
    "preamble\n"
    "--outer\n"
    "Content-Type: multipart/alternative; boundary=inner\n"
    "\n"
    "--inner\n"
    "Content-Type: text/plain; charset=us-ascii\n"
    "\n"
    "Hello Alice\n"
    "--inner\n"
    "Content-Type: text/html; charset=utf-8\n"
    "\n"
    "<p>Hello <b>Alice</b></p>\n"
    "--inner--\n"
    "--outer\n"
    "Content-Type: application/pdf; name=\"doc.pdf\"\n"
    "Content-Disposition: attachment\n"
    "Content-Transfer-Encoding: base64\n"
    "\n"
    "SGVsbG8=\n"
    "--outer\n"
    "Content-Type: application/octet-stream\n"
    "Content-Disposition: attachment;\n"
    " filename*0*=utf-8''%E2%82%AC;\n"
    " filename*1=\"rate .pdf\";\n"
    " filename*2=\".exe. \"\n"
    "\n"
    "MZ\n"
    "--outer--\n"
    "epilogue\n";

static void
test_nested(int crlf)
{
	struct tcp2_mime m;
	uint8_t *msg;
	size_t len;
	char *t;
	int cut, rc;

	rc = analyse(nested, crlf, &m, &msg, &len);
	t_check(rc == 0 && m.nparts == 4, "nested %s: 4 leaves (%zu)",
	    eolname[crlf], m.nparts);
	if (m.nparts == 4) {
		t_check(strcmp(m.parts[0].type, "text/plain") == 0 &&
		    strcmp(m.parts[1].type, "text/html") == 0 &&
		    m.parts[1].depth == 2 && !m.parts[0].attachment &&
		    !m.parts[1].attachment, "nested %s: alternatives",
		    eolname[crlf]);
		t_check(m.parts[2].attachment && !m.parts[2].risky &&
		    strcmp(m.parts[2].filename, "doc.pdf") == 0 &&
		    m.parts[2].decoded_size == 5 &&
		    strcmp(m.parts[2].encoding, "base64") == 0,
		    "nested %s: Content-Type name, base64 size",
		    eolname[crlf]);
		t_check(strcmp(m.parts[3].filename,
		    "\xe2\x82\xacrate .pdf.exe. ") == 0 && m.parts[3].risky,
		    "nested %s: RFC 2231 continuation name \"%s\", risky",
		    eolname[crlf], m.parts[3].filename);
		t_check(memcmp(msg + m.parts[2].body_off, "SGVsbG8=", 8) == 0 &&
		    m.parts[2].body_len == 8, "nested %s: body offsets",
		    eolname[crlf]);
	}
	t_check(m.has_html && m.nattach == 2 && m.nrisky == 1 && m.is_mime &&
	    !m.limited && m.crlf == crlf, "nested %s: flags", eolname[crlf]);
	t = text_of(msg, len, &m, &cut);
	t_check(t != NULL && strcmp(t, "Hello Alice") == 0 && !cut,
	    "nested %s: text is the plain alternative", eolname[crlf]);
	free(t);
	tcp2_mime_free(&m);
	free(msg);
}

static void
test_strip(int crlf)
{
	struct tcp2_mime m, m2;
	uint8_t *msg, *out;
	size_t len, outlen, keep;
	char *t, *t2;
	int cut, rc;

	msg = mk(nested, crlf, &len);
	rc = tcp2_mime_strip(msg, len, &out, &outlen);
	t_check(rc == 0, "strip %s: returns 0", eolname[crlf]);
	if (rc != 0) {
		free(msg);
		return;
	}
	tcp2_mime_analyse(msg, len, &m);
	rc = tcp2_mime_analyse(out, outlen, &m2);
	t_check(rc == 0 && m2.nattach == 0 && m2.nparts == 3,
	    "strip %s: no attachment left, 3 leaves (%zu)", eolname[crlf],
	    m2.nparts);
	keep = m.parts[2].hdr_off;
	t_check(outlen > keep && memcmp(out, msg, keep) == 0,
	    "strip %s: everything before the first attachment identical",
	    eolname[crlf]);
	t_check(memmem(out, outlen, "TCP2 Mail removed 2 attachment(s): "
	    "doc.pdf (application/pdf, 5 bytes)", 69) != NULL ||
	    memmem(out, outlen, "Content-Transfer-Encoding: base64", 33),
	    "strip %s: the note names what was removed", eolname[crlf]);
	t_check(len - m.parts[3].seg_end <= outlen &&
	    memcmp(out + outlen - (len - m.parts[3].seg_end),
	    msg + m.parts[3].seg_end, len - m.parts[3].seg_end) == 0,
	    "strip %s: closing delimiter and epilogue identical",
	    eolname[crlf]);
	if (m2.nparts == 3) {
		t = text_of(out, outlen, &m2, &cut);
		t_check(strcmp(m2.parts[2].type, "text/plain") == 0 && t &&
		    strcmp(t, "Hello Alice") == 0,
		    "strip %s: note is text/plain, text unchanged",
		    eolname[crlf]);
		free(t);
	}
	tcp2_mime_free(&m);
	tcp2_mime_free(&m2);
	free(out);
	free(msg);

	/* The note itself, readable once decoded. */
	msg = mk("Content-Type: multipart/mixed; boundary=b\n\n--b\n\nbody\n"
	    "--b\nContent-Disposition: attachment; filename=a.zip\n\nPK\n"
	    "--b--\n", crlf, &len);
	rc = tcp2_mime_strip(msg, len, &out, &outlen);
	t_check(rc == 0 && tcp2_mime_analyse(out, outlen, &m) == 0 &&
	    m.nparts == 2 && m.nattach == 0, "strip %s: a.zip gone",
	    eolname[crlf]);
	if (rc == 0 && m.nparts == 2) {
		struct tcp2_buf b;

		tcp2_buf_init(&b, 4096);
		tcp2_cte_decode(tcp2_cte_parse(m.parts[1].encoding),
		    out + m.parts[1].body_off, m.parts[1].body_len, &b);
		t = (char *)tcp2_buf_cstr(&b);
		t_check(t && strcmp(t, "TCP2 Mail removed 1 attachment(s): "
		    "a.zip (text/plain, 2 bytes).") == 0,
		    "strip %s: note \"%s\"", eolname[crlf], t ? t : "");
		tcp2_buf_free(&b);
	}
	tcp2_mime_free(&m);
	free(out);
	free(msg);

	/* No attachment: the very same bytes. */
	msg = mk("Subject: x\n\nhello\n", crlf, &len);
	rc = tcp2_mime_strip(msg, len, &out, &outlen);
	t_check(rc == 0 && outlen == len && memcmp(out, msg, len) == 0,
	    "strip %s: without attachments unchanged", eolname[crlf]);
	free(out);
	free(msg);

	/* The whole message is one attachment. */
	msg = mk("From: a@b\nSubject: s\nMIME-Version: 1.0\n"
	    "Content-Type: application/x-msdownload; name=x.exe\n"
	    "Content-Transfer-Encoding: base64\n\nTVqQ\n", crlf, &len);
	rc = tcp2_mime_strip(msg, len, &out, &outlen);
	t_check(rc == 0 && tcp2_mime_analyse(out, outlen, &m) == 0 &&
	    m.nparts == 1 && m.nattach == 0 &&
	    memmem(out, outlen, "Subject: s", 10) != NULL &&
	    memmem(out, outlen, "x.exe (application/x-msdownload, 3 bytes)",
	    41) != NULL, "strip %s: single-part attachment replaced",
	    eolname[crlf]);
	t = rc == 0 ? text_of(out, outlen, &m, &cut) : NULL;
	t2 = "TCP2 Mail removed 1 attachment(s): x.exe "
	    "(application/x-msdownload, 3 bytes).";
	t_check(t && strncmp(t, t2, strlen(t2)) == 0,
	    "strip %s: single-part note is the text", eolname[crlf]);
	free(t);
	tcp2_mime_free(&m);
	free(out);
	free(msg);
}

static void
test_decoders(void)
{
	struct tcp2_mime m;
	uint8_t *msg;
	size_t len;
	char *t;
	int cut;

	/* QP soft breaks, =3D, trailing white space, UTF-8. */
	analyse("Content-Type: text/plain; charset=UTF-8\n"
	    "Content-Transfer-Encoding: quoted-printable\n\n"
	    "Hello=\nWorld =3D =C3=A9  \nnext=\n=zz\n", 1, &m, &msg, &len);
	t = text_of(msg, len, &m, &cut);
	t_check(t && strcmp(t, "HelloWorld = \xc3\xa9\nnext=zz\n") == 0,
	    "qp: soft breaks and escapes \"%s\"", t ? t : "");
	free(t);
	tcp2_mime_free(&m);
	free(msg);

	/* Base64 with junk characters and a second padded piece. */
	analyse("Content-Type: text/plain\n"
	    "Content-Transfer-Encoding: BASE64\n\n"
	    "SGVs*bG8g!V2\n9y bGQ=\n  \nIQ==\n", 0, &m, &msg, &len);
	t = text_of(msg, len, &m, &cut);
	t_check(t && strcmp(t, "Hello World!") == 0,
	    "base64 with junk \"%s\"", t ? t : "");
	t_check(m.nparts == 1 && m.parts[0].decoded_size == 12,
	    "base64 decoded size");
	free(t);
	tcp2_mime_free(&m);
	free(msg);

	/* Latin-1, UTF-8 and an unknown charset. */
	analyse("Content-Type: text/plain; charset=\"ISO-8859-1\"\n\n"
	    "caf\xe9\n", 0, &m, &msg, &len);
	t = text_of(msg, len, &m, &cut);
	t_check(t && strcmp(t, "caf\xc3\xa9\n") == 0, "latin1 to UTF-8");
	free(t);
	tcp2_mime_free(&m);
	free(msg);
	analyse("Content-Type: text/plain; charset=x-no-such/../x\n\n"
	    "ok \xc3\xa9 bad \xff\xc3\n", 0, &m, &msg, &len);
	t = text_of(msg, len, &m, &cut);
	t_check(t && strcmp(t, "ok \xc3\xa9 bad \xef\xbf\xbd\xef\xbf\xbd\n")
	    == 0, "unknown charset: UTF-8 kept, junk replaced");
	free(t);
	tcp2_mime_free(&m);
	free(msg);
	analyse("Content-Type: text/plain; charset=utf-16le\n"
	    "Content-Transfer-Encoding: base64\n\naABpAAA=\n", 0, &m, &msg,
	    &len);
	t = text_of(msg, len, &m, &cut);
	t_check(t && strcmp(t, "hi\xef\xbf\xbd") == 0,
	    "utf-16le with an incomplete tail \"%s\"", t ? t : "");
	free(t);
	tcp2_mime_free(&m);
	free(msg);
}

static void
test_hdr_decode(void)
{
	static const struct {
		const char *in, *out;
	} v[] = {
		{ "=?iso-8859-1?q?Caf=E9_au_lait?=", "Caf\xc3\xa9 au lait" },
		/* A UTF-8 character split over two B words. */
		{ "=?utf-8?B?4oI=?= =?UTF-8?B?rA==?= x", "\xe2\x82\xac x" },
		{ "a =?utf-8?q?b?=\r\n =?utf-8?q?c?= d", "a bc d" },
		{ "=?bogus?q?x?= =?utf-8?x?y?=", "x =?utf-8?x?y?=" },
		{ "raw \xff 8bit", "raw \xef\xbf\xbd 8bit" },
		{ "=?utf-8*en?Q?hi?=", "hi" },
		{ "=?utf-8?Q?a?b?=", "=?utf-8?Q?a?b?=" },
	};
	struct tcp2_buf b;
	const char *s;
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		tcp2_buf_init(&b, 1024);
		tcp2_hdr_decode(v[i].in, strlen(v[i].in), &b);
		s = tcp2_buf_cstr(&b);
		t_check(s && strcmp(s, v[i].out) == 0,
		    "rfc2047 #%zu: \"%s\"", i, s ? s : "(null)");
		tcp2_buf_free(&b);
	}
}

static void
test_html(int crlf)
{
	struct tcp2_mime m;
	uint8_t *msg;
	size_t len;
	char *t;
	int cut;

	analyse("Subject: h\nMIME-Version: 1.0\n"
	    "Content-Type: text/html; charset=windows-1252\n\n"
	    "<html><head><title>T</title><style>p {color:red}</style>\n"
	    "<script type=\"x\">alert('<p>')</script></head>\n"
	    "<body><!-- hidden --><p>Hi &amp; bye&nbsp;&#233;&#x20AC;"
	    " \x93q\x94</p>\n<div>two\n   words <a href=\"x>y\">link</a>"
	    "</div>1 &lt; 2 &unknown; AT&T</body></html>\n", crlf, &m, &msg,
	    &len);
	t = text_of(msg, len, &m, &cut);
	t_check(t && strcmp(t, "Hi & bye \xc3\xa9\xe2\x82\xac \xe2\x80\x9cq"
	    "\xe2\x80\x9d\n\ntwo words link\n1 < 2 &unknown; AT&T") == 0,
	    "html only %s: text \"%s\"", eolname[crlf], t ? t : "");
	t_check(m.has_html && m.nattach == 0, "html only %s: has_html",
	    eolname[crlf]);
	free(t);
	tcp2_mime_free(&m);
	free(msg);
}

static void
test_shapes(int crlf)
{
	struct tcp2_mime m;
	uint8_t *msg;
	size_t len;
	char *t;
	int cut;

	/* No MIME at all. */
	analyse("From: a@b\nSubject: plain\n\nJust text.\n", crlf, &m, &msg,
	    &len);
	t = text_of(msg, len, &m, &cut);
	t_check(m.nparts == 1 && !m.is_mime && m.nattach == 0 && t &&
	    strcmp(t, "Just text.\n") == 0, "no MIME %s", eolname[crlf]);
	free(t);
	tcp2_mime_free(&m);
	free(msg);

	/* Missing closing boundary: the last part runs to the end. */
	analyse("Content-Type: multipart/mixed; boundary=zz\n\n--zz\n\none\n"
	    "--zz\nContent-Type: image/png\n\nPNG", crlf, &m, &msg, &len);
	t_check(m.nparts == 2 && m.nattach == 1 &&
	    m.parts[1].body_off + m.parts[1].body_len == len &&
	    m.parts[1].seg_end == len, "missing closing boundary %s",
	    eolname[crlf]);
	tcp2_mime_free(&m);
	free(msg);

	/* Only a closing delimiter (found by the fuzzer): one leaf. */
	analyse("Content-Type: multipart/mixed; boundary=b\n\npre\n"
	    "--b*2=x\n--b--\n", crlf, &m, &msg, &len);
	t_check(m.nparts == 1 && m.nattach == 0 &&
	    strcmp(m.parts[0].type, "multipart/mixed") == 0,
	    "multipart without parts %s: one leaf", eolname[crlf]);
	tcp2_mime_free(&m);
	free(msg);

	/* multipart/related: an inline image is no attachment. */
	analyse("Content-Type: multipart/related; boundary=r\n\n--r\n"
	    "Content-Type: text/html\n\n<img src=cid:a>\n--r\n"
	    "Content-Type: image/png\nContent-ID: <a>\n\nPNG\n--r--\n", crlf,
	    &m, &msg, &len);
	t_check(m.nparts == 2 && m.nattach == 0 && m.has_html,
	    "related %s: inline image is no attachment", eolname[crlf]);
	tcp2_mime_free(&m);
	free(msg);

	/* An attached message: one leaf, its contents count. */
	analyse("Content-Type: multipart/mixed; boundary=m\n\n--m\n\nsee\n"
	    "--m\nContent-Type: message/rfc822\n\n"
	    "Subject: inner\nContent-Type: multipart/mixed; boundary=i\n\n"
	    "--i\nContent-Type: text/html\n\n<b>x</b>\n--i\n"
	    "Content-Type: application/octet-stream; name=\"run.js\"\n\n"
	    "x\n--i--\n--m--\n", crlf, &m, &msg, &len);
	t_check(m.nparts == 2 && m.nattach == 1 &&
	    strcmp(m.parts[1].type, "message/rfc822") == 0 &&
	    m.parts[1].risky && m.parts[1].active && m.has_html,
	    "message/rfc822 %s: one risky attachment, HTML inside",
	    eolname[crlf]);
	tcp2_mime_free(&m);
	free(msg);

	/* multipart/digest: parts default to message/rfc822. */
	analyse("Content-Type: multipart/digest; boundary=d\n\n--d\n\n"
	    "Subject: one\n\nbody\n--d--\n", crlf, &m, &msg, &len);
	t_check(m.nparts == 1 && strcmp(m.parts[0].type, "message/rfc822")
	    == 0, "digest %s: default type", eolname[crlf]);
	tcp2_mime_free(&m);
	free(msg);

	/* Risky by type even as the first part; an mbox From line. */
	analyse("From someone Mon Jan  1 00:00:00 2024\n"
	    "Content-Type: application/x-msdownload\n\nMZ\n", crlf, &m, &msg,
	    &len);
	t_check(m.nparts == 1 && m.nattach == 1 && m.nrisky == 1 &&
	    m.hdr_off > 0, "first part of a risky type %s", eolname[crlf]);
	tcp2_mime_free(&m);
	free(msg);

	/* Content-Type name as RFC 2047 (what many clients send). */
	analyse("Content-Type: multipart/mixed; boundary=q\n\n--q\n\nx\n--q\n"
	    "Content-Type: application/pdf;\n"
	    " name=\"=?UTF-8?B?UmVjaG51bmcucGRm?=\"\n\n%PDF\n--q--\n", crlf,
	    &m, &msg, &len);
	t_check(m.nparts == 2 && strcmp(m.parts[1].filename,
	    "Rechnung.pdf") == 0 && !m.parts[1].risky,
	    "RFC 2047 name %s", eolname[crlf]);
	tcp2_mime_free(&m);
	free(msg);
}

/* n leaf parts in one multipart, and d nested multiparts. */
static void
test_bounds(void)
{
	struct tcp2_mime m;
	uint8_t *msg, *out;
	char *s, *p;
	size_t len, outlen, i;
	int rc;

	s = malloc(64 << 10);
	p = s + sprintf(s, "Content-Type: multipart/mixed; boundary=b\n\n");
	for (i = 0; i < 1500; i++)
		p += sprintf(p, "--b\nContent-Type: image/gif\n\nG\n");
	sprintf(p, "--b--\n");
	rc = analyse(s, 0, &m, &msg, &len);
	t_check(rc == 0 && m.nparts == TCP2_MIME_PARTS_MAX && m.limited,
	    "1500 parts: %zu listed, limited", m.nparts);
	tcp2_mime_free(&m);
	rc = tcp2_mime_strip(msg, len, &out, &outlen);
	t_check(rc == 0 && tcp2_mime_analyse(out, outlen, &m) == 0 &&
	    m.nattach == 500 && m.nparts == 502 && !m.limited,
	    "1500 parts: strip removes the 999 listed attachments");
	tcp2_mime_free(&m);
	free(out);
	free(msg);

	p = s;
	for (i = 0; i < 200; i++)
		p += sprintf(p, "Content-Type: multipart/mixed; boundary=b%zu"
		    "\n\n--b%zu\n", i, i);
	sprintf(p, "Content-Disposition: attachment; filename=deep.exe\n\n"
	    "MZ\n");
	rc = analyse(s, 1, &m, &msg, &len);
	t_check(rc == 0 && m.limited && m.nparts == 1 &&
	    m.parts[0].depth == TCP2_MIME_DEPTH_MAX,
	    "200 levels deep: stops at %u, limited",
	    m.nparts ? m.parts[0].depth : 0);
	tcp2_mime_free(&m);
	free(msg);
	free(s);

	t_check(tcp2_mime_analyse((const uint8_t *)"", TCP2_MIME_MSG_MAX + 1,
	    &m) == TCP2_ETOOBIG && m.nparts == 0, "over 64 MiB: ETOOBIG");
	t_check(tcp2_mime_analyse((const uint8_t *)"", 0, &m) == 0 &&
	    m.nparts == 1, "empty message: one empty part");
	tcp2_mime_free(&m);
}

static void
test_text_bound(void)
{
	struct tcp2_mime m;
	uint8_t *msg;
	size_t len, n = (TCP2_MIME_TEXT_MAX / 2) + 10, i;
	char *s, *t;
	int cut;

	/* 2-octet characters across the 1 MiB line: cut between them. */
	s = malloc(64 + 2 * n);
	len = (size_t)sprintf(s, "Content-Type: text/plain; charset=utf-8"
	    "\n\nX");
	for (i = 0; i < n; i++) {
		s[len++] = '\xc3';
		s[len++] = '\xa9';
	}
	s[len] = '\0';
	msg = (uint8_t *)s;
	tcp2_mime_analyse(msg, len, &m);
	t = text_of(msg, len, &m, &cut);
	t_check(t && cut && strlen(t) == TCP2_MIME_TEXT_MAX - 1,
	    "text over 1 MiB: truncated at a character (%zu)",
	    t ? strlen(t) : 0);
	free(t);
	tcp2_mime_free(&m);
	free(s);
}

static const char *
jstr(json_object *o, const char *k)
{
	json_object *v;

	if (!json_object_object_get_ex(o, k, &v) ||
	    !json_object_is_type(v, json_type_string))
		return "(missing)";
	return json_object_get_string(v);
}

static void
test_view(void)
{
	json_object *o, *v, *a;
	uint8_t *msg;
	size_t len, i;
	char *s, *p;
	int rc;

	msg = mk("From: =?utf-8?q?B=C3=B6b?= <bob@example.net>\n"
	    "To: alice@example.org\nDate: Tue, 24 Nov 2026 10:00:00 +0000\n"
	    "Subject: =?utf-8?B?SW52b2ljZQ==?=\n =?utf-8?Q?_=E2=82=AC?=\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=v\n\n--v\n\nHello\n"
	    "--v\nContent-Type: application/pdf\n"
	    "Content-Disposition: attachment; filename=invoice.pdf\n\n"
	    "%PDF\n--v--\n", 1, &len);
	rc = tcp2_view_json(msg, len, "verified", "bob@example.net", 1, &o);
	t_check(rc == 0 && o != NULL, "view: built");
	if (rc != 0)
		return;
	t_check(strcmp(jstr(o, "from"), "B\xc3\xb6" "b <bob@example.net>")
	    == 0 && strcmp(jstr(o, "subject"), "Invoice \xe2\x82\xac") == 0 &&
	    strcmp(jstr(o, "cc"), "") == 0 &&
	    strcmp(jstr(o, "to"), "alice@example.org") == 0 &&
	    strcmp(jstr(o, "date"), "Tue, 24 Nov 2026 10:00:00 +0000") == 0,
	    "view: decoded fields (subject \"%s\")", jstr(o, "subject"));
	t_check(strcmp(jstr(o, "text"), "Hello") == 0 &&
	    strcmp(jstr(o, "verification"), "verified") == 0 &&
	    strcmp(jstr(o, "signer"), "bob@example.net") == 0,
	    "view: text, verification, signer");
	t_check(json_object_object_get_ex(o, "headers", &v) &&
	    json_object_array_length(v) == 6 &&
	    strcmp(json_object_get_string(json_object_array_get_idx(
	    json_object_array_get_idx(v, 3), 0)), "Subject") == 0,
	    "view: headers in order");
	t_check(json_object_object_get_ex(o, "attachments", &v) &&
	    json_object_array_length(v) == 1 &&
	    (a = json_object_array_get_idx(v, 0)) != NULL &&
	    strcmp(jstr(a, "name"), "invoice.pdf") == 0 &&
	    strcmp(jstr(a, "type"), "application/pdf") == 0 &&
	    json_object_object_get_ex(a, "size", &v) &&
	    json_object_get_int64(v) == 4, "view: attachments");
	t_check(json_object_object_get_ex(o, "size", &v) &&
	    json_object_get_int64(v) == (int64_t)len &&
	    json_object_object_get_ex(o, "encrypted", &v) &&
	    json_object_get_boolean(v) &&
	    json_object_object_get_ex(o, "html", &v) &&
	    !json_object_get_boolean(v) &&
	    json_object_object_get_ex(o, "text_truncated", &v) &&
	    !json_object_get_boolean(v), "view: size and flags");
	json_object_put(o);
	free(msg);

	/* 300 fields: 256 listed, Subject found past them. */
	s = malloc(16 << 10);
	p = s;
	for (i = 0; i < 300; i++)
		p += sprintf(p, "X-F%zu: %zu\n", i, i);
	sprintf(p, "Subject: late\n\nbody\n");
	rc = tcp2_view_json((uint8_t *)s, strlen(s), "unverified", NULL, 0,
	    &o);
	t_check(rc == 0 && json_object_object_get_ex(o, "headers", &v) &&
	    json_object_array_length(v) == 256 &&
	    strcmp(jstr(o, "subject"), "late") == 0 &&
	    strcmp(jstr(o, "signer"), "") == 0,
	    "view: at most 256 headers, named fields still found");
	json_object_put(o);
	free(s);
}

/* Every message of Python's e-mail test data. */
static void
test_corpus(void)
{
	struct tcp2_mime m;
	struct dirent *e;
	json_object *o;
	uint8_t *msg, *out;
	size_t len, outlen, n = 0, bad = 0, attach = 0;
	char path[512];
	DIR *d;

	if ((d = opendir(PYDATA)) == NULL) {
		t_check(0, "corpus: %s missing (libpython3.11-testsuite, "
		    "scripts/install-deps.sh)", PYDATA);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		len = strlen(e->d_name);
		if (len < 5 || strcmp(e->d_name + len - 4, ".txt") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", PYDATA, e->d_name);
		if ((msg = (uint8_t *)t_slurp(path, &len)) == NULL)
			continue;
		n++;
		if (tcp2_mime_analyse(msg, len, &m) != 0) {
			t_check(0, "corpus %s: analyse", e->d_name);
			bad++;
		}
		attach += m.nattach;
		tcp2_mime_free(&m);
		if (tcp2_view_json(msg, len, "unverified", NULL, 0, &o) != 0) {
			t_check(0, "corpus %s: view", e->d_name);
			bad++;
		}
		json_object_put(o);
		if (tcp2_mime_strip(msg, len, &out, &outlen) != 0 ||
		    tcp2_mime_analyse(out, outlen, &m) != 0 ||
		    (m.nattach != 0 && !m.limited)) {
			t_check(0, "corpus %s: strip leaves %zu attachments",
			    e->d_name, m.nattach);
			bad++;
		}
		tcp2_mime_free(&m);
		free(out);
		free(msg);
	}
	closedir(d);
	t_check(n >= MIN_CORPUS && bad == 0 && attach > 0,
	    "corpus: %zu messages (%zu attachments) analysed, viewed, "
	    "stripped clean", n, attach);
}

int
main(void)
{
	int crlf;

	for (crlf = 0; crlf < 2; crlf++) {
		test_nested(crlf);
		test_strip(crlf);
		test_html(crlf);
		test_shapes(crlf);
	}
	test_decoders();
	test_hdr_decode();
	test_bounds();
	test_text_bound();
	test_view();
	test_corpus();
	return t_done();
}
