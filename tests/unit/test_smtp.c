/*
 * test_smtp.c - the SMTP session rewriter driven through whole sessions.
 *
 * A scripted client talks through the rewriter to a small fake server
 * that answers what it actually receives (EHLO with CHUNKING, pipelined
 * MAIL/RCPT/DATA, 354, end of data, RSET, AUTH, STARTTLS) and reads the
 * content as a Postfix-like server would: CRLF lines only, LF lines
 * (Postfix before smtpd_forbid_bare_newline), or any of CR, LF, CRLF.
 * Real stores (alice, bob, carol without a key, dave) hold the keys.
 * Checked: commands unchanged, CHUNKING hidden, SIZE rewritten, content
 * encrypted (no marker on the wire, bob decrypts it byte-identical),
 * identical output under re-segmentation (fixed key and salt), the strict
 * policy (RSET to the server, 554 to the client), signed plaintext that
 * verifies, dot lines, 998-octet lines, 8-bit bodies, smuggling attempts,
 * 50 pipelined messages, STARTTLS passthrough, FIN in DATA, key exchange,
 * registration, BDAT, a missing From:, a changed key, AUTH, held bounds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "crypto.h"
#include "error.h"
#include "harness.h"
#include "keyx.h"
#include "message.h"
#include "plainsig.h"
#include "smtp.h"
#include "state.h"

#define A "alice@example.org"
#define B "bob@example.org"
#define C "carol@example.org"
#define D "dave@example.org"

static char tmpl[] = "/tmp/tcp2-smtp-XXXXXX";
static char *root;
static uint64_t now_v = 1795000000;
static struct tcp2_state *sa, *sb, *sd;
static uint8_t fixed_mk[32], fixed_salt[16];

static uint64_t
fake_now(void)
{
	return now_v;
}

struct buf {
	uint8_t *p;
	size_t len, cap;
};

static int
put(void *arg, const void *d, size_t n)
{
	struct buf *b = arg;
	uint8_t *np;

	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		np = realloc(b->p, b->cap);
		if (np == NULL)
			return TCP2_ENOMEM;
		b->p = np;
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

static void
bfree(struct buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* ---- events ---- */

static char ev_type[64][32], ev_text[64][512];
static int nev;

static void
on_event(void *arg, const char *type, const char *text,
    const char *const *fields)
{
	(void)arg;
	(void)fields;
	if (nev < 64) {
		snprintf(ev_type[nev], sizeof(ev_type[0]), "%s", type);
		snprintf(ev_text[nev], sizeof(ev_text[0]), "%s", text);
		nev++;
	}
}

static int
had_event(const char *type, const char *substr)
{
	int i;

	for (i = 0; i < nev; i++)
		if (strcmp(ev_type[i], type) == 0 && (substr == NULL ||
		    strstr(ev_text[i], substr) != NULL))
			return 1;
	return 0;
}

/* ---- the fake server ---- */

enum lines { L_CRLF, L_LF, L_ANY };

struct fsrv {
	enum lines lines;
	int chunking_last;
	size_t pos;		/* read up to here in what it received */
	int data, auth, tls, mail, rcpt;
	unsigned int nmail, nrset, ndata_cmd;
	struct buf msg[64];
	size_t nmsg;
	struct buf cur;
};

struct sess {
	struct tcp2_smtp *s;
	struct buf srv, cli;	/* what the server / the client received */
	struct fsrv f;
	size_t maxheld[2];
	int rc;			/* first error of a feed */
	int seg;		/* 0 whole, 1 one byte, 2 random pieces */
	unsigned int seed;
};

/* A content line's end in the server's reading; 0: none yet. */
static size_t
data_line(const struct fsrv *f, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (f->lines == L_CRLF) {
			if (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n')
				return i + 2;
		} else if (p[i] == '\n') {
			return i + 1;
		} else if (f->lines == L_ANY && p[i] == '\r') {
			if (i + 1 == n)
				return 0;	/* CRLF or bare CR? wait */
			return p[i + 1] == '\n' ? i + 2 : i + 1;
		}
	}
	return 0;
}

static void
srv_reply(struct sess *x, struct buf *r, const char *line)
{
	(void)x;
	put(r, line, strlen(line));
}

static void
srv_command(struct sess *x, const char *l, size_t n, struct buf *r)
{
	struct fsrv *f = &x->f;

	if (f->auth > 0) {
		f->auth--;
		srv_reply(x, r, f->auth ? "334 UGFzc3dvcmQ6\r\n" :
		    "235 2.7.0 Authentication successful\r\n");
		return;
	}
	if (n >= 4 && strncasecmp(l, "EHLO", 4) == 0) {
		srv_reply(x, r, "250-mx.example.org\r\n250-PIPELINING\r\n"
		    "250-SIZE 10240000\r\n");
		if (!f->chunking_last)
			srv_reply(x, r, "250-CHUNKING\r\n250-BINARYMIME\r\n");
		srv_reply(x, r, "250-STARTTLS\r\n250-AUTH PLAIN LOGIN\r\n"
		    "250-8BITMIME\r\n");
		srv_reply(x, r, f->chunking_last ? "250-SMTPUTF8\r\n"
		    "250 CHUNKING\r\n" : "250 SMTPUTF8\r\n");
	} else if (n >= 4 && strncasecmp(l, "MAIL", 4) == 0) {
		f->mail = 1;
		f->rcpt = 0;
		f->nmail++;
		srv_reply(x, r, "250 2.1.0 Ok\r\n");
	} else if (n >= 4 && strncasecmp(l, "RCPT", 4) == 0) {
		f->rcpt = f->mail;
		srv_reply(x, r, f->mail ? "250 2.1.5 Ok\r\n" :
		    "503 5.5.1 Error: need MAIL command\r\n");
	} else if (n >= 4 && strncasecmp(l, "DATA", 4) == 0) {
		f->ndata_cmd++;
		if (f->mail && f->rcpt) {
			f->data = 1;
			f->cur.len = 0;
			srv_reply(x, r, "354 End data with <CR><LF>.<CR><LF>\r\n");
		} else {
			srv_reply(x, r, "554 5.5.1 Error: no valid recipients\r\n");
		}
	} else if (n >= 4 && strncasecmp(l, "RSET", 4) == 0) {
		f->mail = f->rcpt = 0;
		f->nrset++;
		srv_reply(x, r, "250 2.0.0 Ok\r\n");
	} else if (n >= 4 && strncasecmp(l, "QUIT", 4) == 0) {
		srv_reply(x, r, "221 2.0.0 Bye\r\n");
	} else if (n >= 8 && strncasecmp(l, "STARTTLS", 8) == 0) {
		f->tls = 1;
		srv_reply(x, r, "220 2.0.0 Ready to start TLS\r\n");
	} else if (n >= 10 && strncasecmp(l, "AUTH LOGIN", 10) == 0) {
		f->auth = 2;
		srv_reply(x, r, "334 VXNlcm5hbWU6\r\n");
	} else if (n >= 4 && strncasecmp(l, "AUTH", 4) == 0) {
		srv_reply(x, r, "235 2.7.0 Authentication successful\r\n");
	} else if (n >= 4 && strncasecmp(l, "NOOP", 4) == 0) {
		srv_reply(x, r, "250 2.0.0 Ok\r\n");
	} else {
		srv_reply(x, r, "502 5.5.2 Error: command not recognized\r\n");
	}
}

/* Read what arrived; write the replies to r. */
static void
srv_run(struct sess *x, struct buf *r)
{
	struct fsrv *f = &x->f;
	const uint8_t *p, *nl;
	size_t n, ll, body;

	while (!f->tls && f->pos < x->srv.len) {
		p = x->srv.p + f->pos;
		n = x->srv.len - f->pos;
		if (f->data) {
			if ((ll = data_line(f, p, n)) == 0)
				return;
			f->pos += ll;
			body = ll;
			while (body > 0 && (p[body - 1] == '\n' ||
			    p[body - 1] == '\r'))
				body--;
			if (body == 1 && p[0] == '.') {
				f->data = 0;
				f->mail = f->rcpt = 0;
				if (f->nmsg < 64)
					f->msg[f->nmsg++] = f->cur;
				else
					bfree(&f->cur);
				memset(&f->cur, 0, sizeof(f->cur));
				srv_reply(x, r, "250 2.0.0 Ok: queued\r\n");
				continue;
			}
			if (p[0] == '.')
				put(&f->cur, p + 1, ll - 1);
			else
				put(&f->cur, p, ll);
			continue;
		}
		/* Commands: LF lines, a CR before it dropped (Postfix). */
		if ((nl = memchr(p, '\n', n)) == NULL)
			return;
		ll = (size_t)(nl - p) + 1;
		f->pos += ll;
		n = ll - 1;
		if (n > 0 && p[n - 1] == '\r')
			n--;
		srv_command(x, (const char *)p, n, r);
	}
}

/* ---- sessions ---- */

static int
sink_srv(void *arg, const void *d, size_t n)
{
	return put(&((struct sess *)arg)->srv, d, n);
}

static int
sink_cli(void *arg, const void *d, size_t n)
{
	return put(&((struct sess *)arg)->cli, d, n);
}

static struct tcp2_registration reg;

static int
sess_open(struct sess *x, struct tcp2_state *st, const char *acct,
    int use_reg, int seg, unsigned int seed)
{
	struct tcp2_rw_env env;

	memset(x, 0, sizeof(*x));
	memset(&env, 0, sizeof(env));
	env.state = st;
	env.account = acct;
	env.endpoint = "192.0.2.25:25";
	env.reg = use_reg ? &reg : NULL;
	env.event = on_event;
	env.now = fake_now;
	x->seg = seg;
	x->seed = seed;
	x->f.lines = L_LF;
	if (tcp2_smtp_new(&x->s, &env) != 0)
		return -1;
	tcp2_smtp_test_fixed_keys(x->s, fixed_mk, fixed_salt);
	return 0;
}

static void
sess_close(struct sess *x)
{
	size_t i;

	tcp2_smtp_free(x->s);
	bfree(&x->srv);
	bfree(&x->cli);
	for (i = 0; i < x->f.nmsg; i++)
		bfree(&x->f.msg[i]);
	bfree(&x->f.cur);
}

static int
feed(struct sess *x, enum tcp2_dir d, const uint8_t *p, size_t n)
{
	size_t off = 0, k, h;
	int rc = 0;

	while (off < n && rc == 0) {
		k = x->seg == 0 ? n - off : x->seg == 1 ? 1 :
		    (size_t)(rand_r(&x->seed) % 700) + 1;
		if (k > n - off)
			k = n - off;
		rc = tcp2_smtp_feed(x->s, d, p + off, k, d == TCP2_C2S ?
		    sink_srv : sink_cli, x);
		off += k;
		h = tcp2_smtp_held(x->s, d);
		if (h > x->maxheld[d])
			x->maxheld[d] = h;
	}
	if (rc != 0 && x->rc == 0)
		x->rc = rc;
	return rc;
}

/* Let the server answer everything it has; replies reach the client. */
static void
pump(struct sess *x)
{
	struct buf r = { 0 };

	srv_run(x, &r);
	if (r.len > 0)
		feed(x, TCP2_S2C, r.p, r.len);
	bfree(&r);
}

/* The client sends; returns where its answers start in x->cli. */
static size_t
cl(struct sess *x, const void *p, size_t n)
{
	size_t mark = x->cli.len;

	if (x->rc == 0 && feed(x, TCP2_C2S, p, n) == 0)
		pump(x);
	return mark;
}

static size_t
cls(struct sess *x, const char *str)
{
	return cl(x, str, strlen(str));
}

static int
got(const struct sess *x, size_t mark, const char *what)
{
	return x->cli.len > mark && strstr((const char *)x->cli.p + mark,
	    what) != NULL;
}

static void
start(struct sess *x)
{
	struct buf r = { 0 };

	srv_reply(x, &r, "220 mx.example.org ESMTP Postfix\r\n");
	feed(x, TCP2_S2C, r.p, r.len);
	bfree(&r);
	cls(x, "EHLO client.example.org\r\n");
}

/* Dot-stuff a message as a client does, with the end of data. */
static void
stuff(struct buf *o, const char *m, size_t n)
{
	size_t i;
	int bol = 1;

	for (i = 0; i < n; i++) {
		if (bol && m[i] == '.')
			put(o, ".", 1);
		put(o, m + i, 1);
		bol = m[i] == '\n';
	}
	put(o, ".\r\n", 3);
}

/*
 * One transaction: MAIL, RCPTs and DATA in one write, then the content.
 * Returns 1 when the client got 354 and sent the content.
 */
static int
send_mail(struct sess *x, const char *from, const char *const *to,
    size_t nto, const char *msg, size_t len, size_t *mark)
{
	struct buf c = { 0 }, o = { 0 };
	char line[512];
	size_t i, m;
	int n;

	n = snprintf(line, sizeof(line), "MAIL FROM:<%s> SIZE=%zu "
	    "BODY=8BITMIME\r\n", from, len);
	put(&c, line, (size_t)n);
	for (i = 0; i < nto; i++) {
		n = snprintf(line, sizeof(line), "RCPT TO:<%s>\r\n", to[i]);
		put(&c, line, (size_t)n);
	}
	put(&c, "DATA\r\n", 6);
	m = cl(x, c.p, c.len);
	bfree(&c);
	if (!got(x, m, "354 ")) {
		*mark = m;
		return 0;
	}
	stuff(&o, msg, len);
	*mark = cl(x, o.p, o.len);
	bfree(&o);
	return 1;
}

static int
decrypt(struct tcp2_state *st, const struct buf *in, struct buf *o,
    enum tcp2_sig_status *sig)
{
	struct tcp2_msg_dec_params p = { 0 };
	struct tcp2_msg_dec *d;
	int rc;

	p.lookup = tcp2_state_lookup;
	p.lookup_arg = st;
	p.out = put;
	p.arg = o;
	if ((rc = tcp2_msg_dec_new(&d, &p)) != 0)
		return rc;
	rc = tcp2_msg_dec_write(d, in->p, in->len);
	if (rc == 0)
		rc = tcp2_msg_dec_finish(d);
	if (rc == 0 && sig != NULL)
		*sig = tcp2_msg_dec_status(d);
	tcp2_msg_dec_free(d);
	return rc;
}

static int
verify_plain(struct tcp2_state *st, const struct buf *in, struct buf *o,
    enum tcp2_sig_status *sig, int *was)
{
	struct tcp2_psig_verifier *v;
	int rc;

	if ((rc = tcp2_psig_verifier_new(&v, tcp2_state_lookup, st, put,
	    o)) != 0)
		return rc;
	rc = tcp2_psig_verifier_write(v, in->p, in->len);
	if (rc == 0)
		rc = tcp2_psig_verifier_finish(v, sig, was);
	tcp2_psig_verifier_free(v);
	return rc;
}

static int
same(const struct buf *b, const void *p, size_t n)
{
	return b->len == n && memcmp(b->p, p, n) == 0;
}

static int
contains(const struct buf *b, const char *s)
{
	return b->len > 0 && memmem(b->p, b->len, s, strlen(s)) != NULL;
}

/* ---- stores ---- */

static struct tcp2_state *
st_open(const char *name, const char *addr)
{
	struct tcp2_state *s = NULL;
	struct tcp2_account a;
	char dir[256];

	snprintf(dir, sizeof(dir), "%s/%s", root, name);
	if (tcp2_state_open(&s, dir, NULL, TCP2_STORE_CREATE) != 0)
		return NULL;
	if (addr != NULL) {
		memset(&a, 0, sizeof(a));
		snprintf(a.addr, sizeof(a.addr), "%s", addr);
		if (tcp2_state_account_add(s, &a) != 0) {
			tcp2_state_close(s);
			return NULL;
		}
	}
	return s;
}

static int
exchange(struct tcp2_state *x, struct tcp2_state *y, const char *to)
{
	static char m1[8192], m2[8192], m3[8192];
	size_t l1, l2, l3;
	enum tcp2_keyx_result r;

	if (tcp2_state_keyx_start(x, NULL, to, now_v++, m1, sizeof(m1),
	    &l1) != 0 || tcp2_state_keyx_recv(y, m1, l1, now_v++, &r, m2,
	    sizeof(m2), &l2) != 0 || r != TCP2_KX_REPLIED)
		return -1;
	if (tcp2_state_keyx_recv(x, m2, l2, now_v++, &r, m3, sizeof(m3),
	    &l3) != 0 || r != TCP2_KX_ESTABLISHED)
		return -1;
	return 0;
}

static void
set_policy(struct tcp2_state *st, const char *addr, enum tcp2_policy p)
{
	struct tcp2_account a = *tcp2_state_account(st, addr);

	a.policy = p;
	tcp2_state_account_update(st, &a);
	tcp2_account_wipe(&a);
}

/* ---- messages ---- */

static char *bigmsg;
static size_t bigmsg_len;

/* The test message: a marker, a lone dot line, dot lines, a 998-octet
 * line, 8-bit bytes, a line end pattern or two. */
static void
make_msg(struct buf *m, const char *from, const char *to, int i)
{
	char head[512], l998[999];
	uint8_t eight[64];
	size_t k;
	int n;

	m->len = 0;
	n = snprintf(head, sizeof(head), "From: Alice <%s>\r\nTo: %s\r\n"
	    "Subject: test %d SECRET-SUBJECT\r\nMessage-ID: <%d@example.org>\r\n"
	    "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n\r\n"
	    "Hello, SECRET-MARKER-4711 number %d\r\n.\r\n..\r\n.leading dot\r\n",
	    from, to, i, i, i);
	put(m, head, (size_t)n);
	memset(l998, 'x', 998);
	put(m, l998, 998);
	put(m, "\r\n", 2);
	for (k = 0; k < sizeof(eight); k++)
		eight[k] = (uint8_t)(0x80 + k);
	put(m, eight, sizeof(eight));
	put(m, "\r\nbye\r\n", 7);
}

/* ---- tests ---- */

static void
test_encrypt(void)
{
	static const char *const to[] = { B };
	struct sess x;
	struct buf m = { 0 }, d = { 0 };
	enum tcp2_sig_status sig = TCP2_SIG_FORGED;
	size_t mark;
	char size_line[64];

	nev = 0;
	sess_open(&x, sa, A, 0, 0, 0);
	start(&x);
	t_check(contains(&x.srv, "EHLO client.example.org\r\n") &&
	    x.srv.len == strlen("EHLO client.example.org\r\n"),
	    "EHLO passes unchanged");
	t_check(!contains(&x.cli, "CHUNKING") && !contains(&x.cli,
	    "BINARYMIME") && contains(&x.cli, "250-PIPELINING\r\n") &&
	    contains(&x.cli, "250-8BITMIME\r\n") && contains(&x.cli,
	    "250-SIZE 10240000\r\n") && contains(&x.cli, "250-STARTTLS\r\n") &&
	    contains(&x.cli, "250 SMTPUTF8\r\n"),
	    "EHLO reply: CHUNKING and BINARYMIME hidden, the rest intact");
	make_msg(&m, A, B, 0);
	t_check(send_mail(&x, A, to, 1, (char *)m.p, m.len, &mark) &&
	    got(&x, mark, "250 2.0.0 Ok: queued"),
	    "pipelined MAIL, RCPT, DATA; 354; content; 250");
	snprintf(size_line, sizeof(size_line), "SIZE=%llu BODY=8BITMIME",
	    (unsigned long long)((m.len * 29 + 19) / 20 + 4096));
	t_check(contains(&x.srv, "MAIL FROM:<" A "> ") &&
	    contains(&x.srv, size_line) &&
	    contains(&x.srv, "RCPT TO:<" B ">\r\nDATA\r\n"),
	    "MAIL/RCPT/DATA pass, SIZE=%zu became %s", m.len, size_line);
	t_check(x.f.nmsg == 1 && !contains(&x.srv, "SECRET-MARKER") &&
	    !contains(&x.srv, "SECRET-SUBJECT"),
	    "the server got one message without the marker or subject");
	t_check(x.f.nmsg == 1 && decrypt(sb, &x.f.msg[0], &d, &sig) == 0 &&
	    same(&d, m.p, m.len) && sig == TCP2_SIG_VERIFIED,
	    "bob decrypts it byte-identical (dot lines, 998 octets, 8-bit), "
	    "verified");
	t_check(had_event("sent", "encrypted"), "event: sent encrypted");
	mark = cls(&x, "QUIT\r\n");
	t_check(got(&x, mark, "221 ") && x.rc == 0 &&
	    x.maxheld[0] <= TCP2_RW_MAX_HELD && tcp2_smtp_held(x.s,
	    TCP2_C2S) == 0, "QUIT, 221; held at most %zu", x.maxheld[0]);
	t_check(tcp2_smtp_end(x.s, TCP2_C2S, sink_srv, &x) == 0 &&
	    tcp2_smtp_end(x.s, TCP2_S2C, sink_cli, &x) == 0,
	    "clean ends");
	sess_close(&x);

	/* CHUNKING as the last line: the line before becomes the last. */
	sess_open(&x, sa, A, 0, 0, 0);
	x.f.chunking_last = 1;
	start(&x);
	t_check(!contains(&x.cli, "CHUNKING") &&
	    contains(&x.cli, "250-8BITMIME\r\n250 SMTPUTF8\r\n"),
	    "CHUNKING removed from the end: '250 SMTPUTF8' ends the reply");
	sess_close(&x);
	bfree(&m);
	bfree(&d);
}

/* A whole session; returns what the server and the client received. */
static void
session(int seg, unsigned int seed, struct buf *srv, struct buf *cli,
    size_t *maxheld)
{
	static const char *const to[] = { B, A };
	struct sess x;
	struct buf m = { 0 };
	size_t mark;

	sess_open(&x, sa, A, 0, seg, seed);
	start(&x);
	make_msg(&m, A, B, 1);
	put(&m, bigmsg, bigmsg_len);
	send_mail(&x, A, to, 2, (char *)m.p, m.len, &mark);
	cls(&x, "QUIT\r\n");
	*srv = x.srv;
	*cli = x.cli;
	*maxheld = x.maxheld[0];
	memset(&x.srv, 0, sizeof(x.srv));
	memset(&x.cli, 0, sizeof(x.cli));
	sess_close(&x);
	bfree(&m);
}

static void
test_resegment(void)
{
	struct buf s0, c0, s1, c1;
	size_t mh, worst = 0;
	unsigned int seed;
	int ok = 1;

	session(0, 0, &s0, &c0, &mh);
	session(1, 0, &s1, &c1, &mh);
	t_check(s1.len == s0.len && memcmp(s0.p, s1.p, s0.len) == 0 &&
	    same(&c1, c0.p, c0.len) && mh <= TCP2_RW_MAX_HELD,
	    "one byte at a time: identical bytes at both ends (%zu to the "
	    "server; held at most %zu)", s0.len, mh);
	bfree(&s1);
	bfree(&c1);
	for (seed = 1; seed <= 8; seed++) {
		session(2, seed, &s1, &c1, &mh);
		ok &= same(&s1, s0.p, s0.len) && same(&c1, c0.p, c0.len);
		if (mh > worst)
			worst = mh;
		bfree(&s1);
		bfree(&c1);
	}
	t_check(ok && worst <= TCP2_RW_MAX_HELD, "8 random segmentations: "
	    "identical output (fixed key and salt); held at most %zu", worst);
	bfree(&s0);
	bfree(&c0);
}

static void
test_strict(void)
{
	static const char *const to[] = { B, C };
	struct sess x;
	struct buf m = { 0 };
	size_t mark;

	set_policy(sa, A, TCP2_POLICY_STRICT);
	nev = 0;
	sess_open(&x, sa, A, 0, 2, 3);
	start(&x);
	make_msg(&m, A, C, 2);
	t_check(!send_mail(&x, A, to, 2, (char *)m.p, m.len, &mark) &&
	    got(&x, mark, "554 5.7.1 TCP2: no key for <" C ">; message not "
	    "sent\r\n") && !got(&x, mark, "354"),
	    "strict, carol has no key: the client gets 554, no 354");
	t_check(contains(&x.srv, "RCPT TO:<" C ">\r\nRSET\r\n") &&
	    x.f.ndata_cmd == 0 && x.f.nrset == 1 && x.f.nmsg == 0,
	    "the server sees RSET instead of DATA, never content");
	t_check(had_event("refused", C), "event: refused");
	/* The session goes on: a mail to bob alone is encrypted. */
	{
		static const char *const tb[] = { B };

		make_msg(&m, A, B, 3);
		t_check(send_mail(&x, A, tb, 1, (char *)m.p, m.len, &mark) &&
		    got(&x, mark, "250 2.0.0 Ok: queued") && x.f.nmsg == 1 &&
		    !contains(&x.srv, "SECRET-MARKER"),
		    "after the refusal the next mail (to bob) is encrypted");
	}
	sess_close(&x);
	set_policy(sa, A, TCP2_POLICY_SIGNED);
	bfree(&m);
}

static void
test_signed(void)
{
	static const char *const to[] = { C };
	struct sess x;
	struct buf m = { 0 }, o = { 0 };
	enum tcp2_sig_status sig = TCP2_SIG_FORGED;
	size_t mark;
	int was = 0;

	nev = 0;
	sess_open(&x, sa, A, 0, 0, 0);
	start(&x);
	make_msg(&m, A, C, 4);
	t_check(send_mail(&x, A, to, 1, (char *)m.p, m.len, &mark) &&
	    x.f.nmsg == 1 && x.f.msg[0].len > m.len &&
	    memcmp(x.f.msg[0].p, m.p, m.len) == 0 &&
	    contains(&x.f.msg[0], "\r\nTCP2-Signature: v=1; f=" A "; n=0; "),
	    "default policy, carol has no key: plaintext plus a signature "
	    "line");
	t_check(verify_plain(sb, &x.f.msg[0], &o, &sig, &was) == 0 &&
	    same(&o, m.p, m.len) && sig == TCP2_SIG_VERIFIED && was,
	    "the signature verifies (bob knows alice), stripped "
	    "byte-identical");
	t_check(had_event("sent", "signed plaintext"), "event: signed "
	    "plaintext");
	/* A From: that is not the account's is not signed. */
	make_msg(&m, "eve@example.org", C, 5);
	t_check(send_mail(&x, A, to, 1, (char *)m.p, m.len, &mark) &&
	    x.f.nmsg == 2 && same(&x.f.msg[1], m.p, m.len),
	    "From: not the account: passed unchanged, unsigned");
	t_check(had_event("sent", "unsigned plaintext"), "event: unsigned");
	sess_close(&x);
	bfree(&m);
	bfree(&o);
}

/* Raw client content carrying smuggling attempts, then the real end. */
static const char *const smuggle[] = {
	"\n.\nMAIL FROM:<evil@example.net>\nRCPT TO:<v@example.net>\nDATA\n"
	    "smuggled\n.\n",
	"\r\n.\nMAIL FROM:<evil@example.net>\r\nRCPT TO:<v@example.net>\r\n"
	    "DATA\r\nsmuggled\r\n.\n",
	"\n.\r\nMAIL FROM:<evil@example.net>\r\nRCPT TO:<v@example.net>\r\n"
	    "DATA\r\nsmuggled\n.\r\n",
	"\r.\rMAIL FROM:<evil@example.net>\rRCPT TO:<v@example.net>\rDATA\r"
	    "smuggled\r.\r",
	"\r\n.\r\r\nMAIL FROM:<evil@example.net>\r\n",
};

static void
test_smuggling(void)
{
	static const char *const lname[] = { "CRLF", "LF", "CR/LF/CRLF" };
	static const char *const who[] = { C, B };
	char head[256];
	struct sess x;
	struct buf c = { 0 };
	size_t mark, i, k, w;
	int ok, n;

	for (w = 0; w < 2; w++) {
		for (k = L_CRLF; k <= L_ANY; k++) {
			ok = 1;
			for (i = 0; i < sizeof(smuggle) / sizeof(smuggle[0]);
			    i++) {
				sess_open(&x, sa, A, 0, 2, (unsigned int)i);
				x.f.lines = (enum lines)k;
				start(&x);
				n = snprintf(head, sizeof(head), "MAIL FROM:<"
				    A ">\r\nRCPT TO:<%s>\r\nDATA\r\n", who[w]);
				mark = cl(&x, head, (size_t)n);
				ok &= got(&x, mark, "354 ");
				c.len = 0;
				n = snprintf(head, sizeof(head), "From: %s\r\n"
				    "Subject: s\r\n\r\nbefore", A);
				put(&c, head, (size_t)n);
				put(&c, smuggle[i], strlen(smuggle[i]));
				put(&c, "after\r\n.\r\n", 10);
				mark = cl(&x, c.p, c.len);
				ok &= got(&x, mark, "250 2.0.0 Ok: queued") &&
				    x.f.nmsg == 1 && x.f.nmail == 1 &&
				    !x.f.data && x.rc == 0;
				mark = cls(&x, "QUIT\r\n");
				ok &= got(&x, mark, "221 ");
				sess_close(&x);
			}
			t_check(ok, "%s: smuggling attempts give one message "
			    "at a server reading %s lines", w ? "encrypted" :
			    "plaintext", lname[k]);
		}
	}
	bfree(&c);
}

static void
test_pipelined(void)
{
	static const char *const to[] = { B };
	struct sess x;
	struct buf m[50], c = { 0 }, d = { 0 };
	char line[128];
	size_t i, mark;
	int ok = 1, n;

	sess_open(&x, sa, A, 0, 2, 99);
	start(&x);
	for (i = 0; i < 50; i++) {
		memset(&m[i], 0, sizeof(m[i]));
		make_msg(&m[i], A, B, (int)i);
	}
	/* Each end of data goes with the next transaction's commands. */
	n = snprintf(line, sizeof(line), "MAIL FROM:<%s>\r\nRCPT TO:<%s>\r\n"
	    "DATA\r\n", A, to[0]);
	mark = cl(&x, line, (size_t)n);
	for (i = 0; i < 50 && got(&x, mark, "354 "); i++) {
		c.len = 0;
		stuff(&c, (char *)m[i].p, m[i].len);
		if (i < 49)
			put(&c, line, (size_t)n);
		else
			put(&c, "QUIT\r\n", 6);
		mark = cl(&x, c.p, c.len);
	}
	ok = x.f.nmsg == 50 && x.rc == 0 && got(&x, mark, "221 ");
	for (i = 0; i < x.f.nmsg; i++) {
		d.len = 0;
		ok &= decrypt(sb, &x.f.msg[i], &d, NULL) == 0 &&
		    same(&d, m[i].p, m[i].len);
	}
	t_check(ok, "50 messages pipelined: 50 at the server, each decrypts "
	    "to its original (held at most %zu)", x.maxheld[0]);
	for (i = 0; i < 50; i++)
		bfree(&m[i]);
	sess_close(&x);
	bfree(&c);
	bfree(&d);
}

static void
test_starttls(void)
{
	struct sess x;
	uint8_t rnd[5000];
	size_t mark, s0, c0;

	nev = 0;
	sess_open(&x, sa, A, 0, 2, 5);
	start(&x);
	mark = cls(&x, "STARTTLS\r\n");
	t_check(got(&x, mark, "220 2.0.0 Ready") &&
	    tcp2_smtp_is_passthrough(x.s) && had_event("tls", "TLS"),
	    "STARTTLS answered 220: passthrough, event tls");
	tcp2_crypto_random(rnd, sizeof(rnd));
	memcpy(rnd + 100, "\r\n.\r\nDATA\r\nBDAT 5\r\n", 19);
	s0 = x.srv.len;
	c0 = x.cli.len;
	feed(&x, TCP2_C2S, rnd, sizeof(rnd));
	feed(&x, TCP2_S2C, rnd, sizeof(rnd));
	t_check(x.rc == 0 && x.srv.len - s0 == sizeof(rnd) &&
	    memcmp(x.srv.p + s0, rnd, sizeof(rnd)) == 0 &&
	    x.cli.len - c0 == sizeof(rnd) && memcmp(x.cli.p + c0, rnd,
	    sizeof(rnd)) == 0 && tcp2_smtp_held(x.s, TCP2_C2S) == 0,
	    "random bytes after 220 pass unchanged both ways");
	sess_close(&x);
}

static void
test_fin_in_data(void)
{
	struct sess x;
	size_t mark;

	sess_open(&x, sa, A, 0, 0, 0);
	start(&x);
	mark = cls(&x, "MAIL FROM:<" A ">\r\nRCPT TO:<" B ">\r\nDATA\r\n");
	cls(&x, "From: " A "\r\nSubject: cut\r\n\r\nhalf a mess");
	t_check(got(&x, mark, "354") && tcp2_smtp_end(x.s, TCP2_C2S,
	    sink_srv, &x) == TCP2_EABORT && x.f.nmsg == 0 && x.f.data,
	    "FIN in the middle of DATA: TCP2_EABORT, no end of data sent");
	sess_close(&x);

	/* A plaintext one too. */
	sess_open(&x, sa, A, 0, 0, 0);
	start(&x);
	cls(&x, "MAIL FROM:<" A ">\r\nRCPT TO:<" C ">\r\nDATA\r\n");
	cls(&x, "From: " A "\r\n\r\nabc\r\n");
	t_check(tcp2_smtp_end(x.s, TCP2_C2S, sink_srv, &x) == TCP2_EABORT &&
	    x.f.nmsg == 0, "plaintext cut short: TCP2_EABORT as well");
	sess_close(&x);
}

static int
first_msg_keyx(const struct buf *m, struct tcp2_keyx *kx)
{
	return tcp2_keyx_parse((const char *)m->p, m->len, kx);
}

static void
test_keyx(void)
{
	static const char *const to_d[] = { D };
	static const char *const to_a[] = { A };
	static const char *const two[] = { D, C };
	static char kmail[] = "From: Alice <" A ">\r\nTo: " D "\r\n"
	    "Subject: TCP2 key exchange\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: text/html\r\n\r\n<p>let us talk privately</p>\r\n";
	static char dmail[] = "From: " D "\r\nTo: " A "\r\n"
	    "Subject:  tcp2 KEY exchange \r\n\r\nok\r\n";
	struct sess x;
	struct tcp2_keyx kx;
	enum tcp2_keyx_result r;
	struct buf m = { 0 }, d = { 0 };
	char out[8192];
	size_t mark, ol;

	nev = 0;
	sess_open(&x, sa, A, 0, 1, 0);
	start(&x);
	t_check(send_mail(&x, A, to_d, 1, kmail, strlen(kmail), &mark) &&
	    got(&x, mark, "250 2.0.0") && x.f.nmsg == 1 &&
	    first_msg_keyx(&x.f.msg[0], &kx) == 0 && kx.type == TCP2_KEYX_INIT &&
	    strcmp(kx.from, A) == 0 && strcmp(kx.to, D) == 0,
	    "a key-exchange mail to dave carries a request block");
	t_check(contains(&x.f.msg[0], "Subject: TCP2 key exchange\r\n") &&
	    contains(&x.f.msg[0], "To: " D "\r\n") &&
	    contains(&x.f.msg[0], "Content-Type: text/plain; charset=us-ascii"
	    "\r\nContent-Transfer-Encoding: 7bit\r\n") &&
	    !contains(&x.f.msg[0], "text/html") &&
	    !contains(&x.f.msg[0], "privately"),
	    "its header kept (not the MIME fields), the body replaced");
	t_check(had_event("keyx", "request"), "event: keyx request");
	t_check(tcp2_state_keyx_recv(sd, (char *)x.f.msg[0].p,
	    x.f.msg[0].len, now_v++, &r, out, sizeof(out), &ol) == 0 &&
	    r == TCP2_KX_REPLIED, "dave's side reads it: a reply is due");
	/* Two recipients: not a key exchange. */
	make_msg(&m, A, D, 9);
	{
		struct buf k2 = { 0 };

		put(&k2, kmail, strlen(kmail));
		send_mail(&x, A, two, 2, (char *)k2.p, k2.len, &mark);
		t_check(x.f.nmsg == 2 && same(&x.f.msg[1], k2.p, k2.len) ==
		    0 && contains(&x.f.msg[1], "privately") &&
		    had_event("keyx", "exactly one recipient"),
		    "two recipients: sent as an ordinary (signed) mail, event");
		bfree(&k2);
	}
	sess_close(&x);

	/* Dave answers with his own key-exchange mail: the reply. */
	sess_open(&x, sd, D, 0, 2, 11);
	start(&x);
	t_check(send_mail(&x, D, to_a, 1, dmail, strlen(dmail), &mark) &&
	    x.f.nmsg == 1 && first_msg_keyx(&x.f.msg[0], &kx) == 0 &&
	    kx.type == TCP2_KEYX_REPLY && had_event("keyx", "reply"),
	    "dave's key-exchange mail carries the reply (subject matched "
	    "case-insensitively, trimmed)");
	t_check(tcp2_state_keyx_recv(sa, (char *)x.f.msg[0].p,
	    x.f.msg[0].len, now_v++, &r, out, sizeof(out), &ol) == 0 &&
	    r == TCP2_KX_ESTABLISHED, "alice takes the reply: established");
	sess_close(&x);

	/* And now mail to dave is encrypted. */
	sess_open(&x, sa, A, 0, 0, 0);
	start(&x);
	make_msg(&m, A, D, 10);
	t_check(send_mail(&x, A, to_d, 1, (char *)m.p, m.len, &mark) &&
	    x.f.nmsg == 1 && !contains(&x.srv, "SECRET-MARKER") &&
	    decrypt(sd, &x.f.msg[0], &d, NULL) == 0 && same(&d, m.p, m.len),
	    "after the exchange, mail to dave is encrypted and dave reads it");
	sess_close(&x);
	bfree(&m);
	bfree(&d);
}

static void
test_registration(void)
{
	static const char *const to[] = { "erin@example.org" };
	static const char rmail[] = "From: Erin <erin@example.org>\r\n"
	    "To: erin@example.org\r\nSubject: TCP2 registration\r\n\r\nhi\r\n";
	struct tcp2_state *sr = st_open("reg", NULL);
	const struct tcp2_account *a;
	struct sess x;
	size_t mark;

	nev = 0;
	memset(&reg, 0, sizeof(reg));
	reg.armed = 1;
	reg.have_pop3 = 1;
	snprintf(reg.pop3, sizeof(reg.pop3), "192.0.2.25:110");
	snprintf(reg.user, sizeof(reg.user), "erin");
	snprintf(reg.password, sizeof(reg.password), "secret");
	sess_open(&x, sr, NULL, 1, 2, 21);
	start(&x);
	t_check(!tcp2_smtp_is_passthrough(x.s) &&
	    send_mail(&x, "erin@example.org", to, 1, rmail, strlen(rmail),
	    &mark) && x.f.nmsg == 1 && same(&x.f.msg[0], rmail,
	    strlen(rmail)), "registration mail passes unchanged");
	a = tcp2_state_account(sr, "erin@example.org");
	t_check(a != NULL && strcmp(a->smtp, "192.0.2.25:25") == 0 &&
	    strcmp(a->pop3, "192.0.2.25:110") == 0 &&
	    strcmp(a->user, "erin") == 0 && strcmp(a->password, "secret") ==
	    0 && !reg.armed && had_event("registration", "erin@example.org"),
	    "250 to it: account stored (SMTP, POP3, login), disarmed, event");
	sess_close(&x);

	/* Without the POP3 half yet: SMTP half recorded, still armed. */
	memset(&reg, 0, sizeof(reg));
	reg.armed = 1;
	sess_open(&x, sr, NULL, 1, 0, 0);
	start(&x);
	send_mail(&x, "erin@example.org", to, 1, rmail, strlen(rmail), &mark);
	t_check(reg.armed && reg.have_smtp && strcmp(reg.addr,
	    "erin@example.org") == 0 && strcmp(reg.smtp, "192.0.2.25:25") == 0,
	    "no POP3 login yet: the SMTP half is recorded, still armed");
	sess_close(&x);

	/* No account and no registration: a pure copy. */
	sess_open(&x, sr, NULL, 0, 0, 0);
	t_check(tcp2_smtp_is_passthrough(x.s), "no account, no "
	    "registration: passthrough from the start");
	sess_close(&x);
	tcp2_state_close(sr);
}

static void
test_errors(void)
{
	static const char two_from[] = "From: " A "\r\nFrom: " A "\r\n"
	    "Subject: x\r\n\r\nbody\r\n";
	static const char *const to[] = { B };
	struct tcp2_state *sb2;
	struct sess x;
	size_t mark;
	char out[8192], out2[8192];
	size_t ol, ol2;
	enum tcp2_keyx_result r = TCP2_KX_OWN;

	sess_open(&x, sa, A, 0, 0, 0);
	start(&x);
	cls(&x, "MAIL FROM:<" A ">\r\nRCPT TO:<" B ">\r\n");
	cls(&x, "BDAT 10 LAST\r\n0123456789");
	t_check(x.rc == TCP2_EABORT && !contains(&x.srv, "BDAT"),
	    "BDAT anyway: TCP2_EABORT, nothing of it sent");
	sess_close(&x);

	sess_open(&x, sa, A, 0, 0, 0);
	start(&x);
	send_mail(&x, A, to, 1, two_from, strlen(two_from), &mark);
	t_check(x.rc == TCP2_EABORT && x.f.nmsg == 0 && x.f.data &&
	    !contains(&x.srv, "body"), "two From: fields, cannot encrypt: "
	    "TCP2_EABORT before the end of data, nothing in clear");
	sess_close(&x);

	/* Bob's identity changes in alice's view: never mail to it. */
	sb2 = st_open("b2", B);
	tcp2_state_keyx_start(sb2, NULL, A, now_v++, out, sizeof(out), &ol);
	tcp2_state_keyx_recv(sa, out, ol, now_v++, &r, out2, sizeof(out2),
	    &ol2);
	sess_open(&x, sa, A, 0, 0, 0);
	start(&x);
	t_check(r == TCP2_KX_CHANGED && !send_mail(&x, A, to, 1, two_from,
	    strlen(two_from), &mark) && got(&x, mark, "554 5.7.1 TCP2: the "
	    "key of <" B "> changed") && x.f.ndata_cmd == 0,
	    "a changed key, default policy: refused all the same (554)");
	sess_close(&x);
	tcp2_state_peer_reject(sa, A, B);
	tcp2_state_close(sb2);

	/* A long command line passes unchanged; the session goes on. */
	sess_open(&x, sa, A, 0, 2, 8);
	start(&x);
	{
		struct buf l = { 0 };
		char xs[3000];

		memset(xs, 'x', sizeof(xs));
		put(&l, "NOOP ", 5);
		put(&l, xs, sizeof(xs));
		put(&l, "\r\n", 2);
		mark = cl(&x, l.p, l.len);
		t_check(got(&x, mark, "250 2.0.0 Ok") && contains(&x.srv,
		    (char *)l.p) && tcp2_smtp_held(x.s, TCP2_C2S) == 0,
		    "a 3000-octet command line passes unchanged");
		bfree(&l);
	}
	mark = cls(&x, "QUIT\r\n");
	t_check(got(&x, mark, "221"), "and the session goes on");
	sess_close(&x);
}

static void
test_auth(void)
{
	static const char *const to[] = { B };
	struct sess x;
	struct buf m = { 0 }, d = { 0 };
	size_t mark;

	sess_open(&x, sa, A, 0, 2, 17);
	start(&x);
	mark = cls(&x, "AUTH LOGIN\r\n");
	t_check(got(&x, mark, "334 VXNlcm5hbWU6"), "AUTH LOGIN: 334");
	mark = cls(&x, "DATA\r\n");	/* SASL data that looks like DATA */
	t_check(got(&x, mark, "334 UGFzc3dvcmQ6") && contains(&x.srv,
	    "AUTH LOGIN\r\nDATA\r\n"), "a SASL line 'DATA' passes as data");
	mark = cls(&x, "cGFzcw==\r\n");
	t_check(got(&x, mark, "235 "), "235: authenticated");
	make_msg(&m, A, B, 12);
	t_check(send_mail(&x, A, to, 1, (char *)m.p, m.len, &mark) &&
	    x.f.nmsg == 1 && decrypt(sb, &x.f.msg[0], &d, NULL) == 0 &&
	    same(&d, m.p, m.len), "after AUTH: encrypted as usual");
	sess_close(&x);

	/* AUTH PLAIN with an initial response, MAIL etc. pipelined. */
	sess_open(&x, sa, A, 0, 0, 0);
	start(&x);
	mark = cls(&x, "AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\nMAIL FROM:<" A
	    ">\r\nRCPT TO:<" B ">\r\nDATA\r\n");
	t_check(got(&x, mark, "235 ") && got(&x, mark, "354 "),
	    "AUTH PLAIN pipelined with MAIL, RCPT, DATA: 235 ... 354");
	d.len = 0;
	stuff(&d, (char *)m.p, m.len);
	mark = cl(&x, d.p, d.len);
	t_check(x.f.nmsg == 1 && !contains(&x.srv, "SECRET-MARKER") &&
	    got(&x, mark, "250 2.0.0"), "and the content is encrypted");
	sess_close(&x);
	bfree(&m);
	bfree(&d);
}

static void
test_held(void)
{
	static const char hdr[] = "From: " A "\r\nTo: " B "\r\nSubj";
	struct sess x;
	struct buf big = { 0 }, c = { 0 };
	size_t mark, i;

	sess_open(&x, sa, A, 0, 1, 0);
	start(&x);
	mark = cls(&x, "MAIL FROM:<" A ">\r\nRCPT TO:<" B ">\r\nDATA\r\n");
	cls(&x, hdr);
	t_check(got(&x, mark, "354") && tcp2_smtp_held(x.s, TCP2_C2S) ==
	    strlen(hdr), "the header being read is held: %zu bytes",
	    tcp2_smtp_held(x.s, TCP2_C2S));
	put(&big, "ect: big\r\n\r\n", 12);
	for (i = 0; i < 4000; i++)	/* dot-heavy content */
		put(&big, "..\r\n.x\r\n", 8);
	for (i = 0; i < 2000; i++)
		put(&big, "0123456789abcdef0123456789abcdef012345678901234567"
		    "89\r\n", 54);
	put(&big, ".\r\n", 3);
	mark = cl(&x, big.p, big.len);
	t_check(got(&x, mark, "250 2.0.0") && x.f.nmsg == 1 &&
	    x.maxheld[0] <= TCP2_RW_MAX_HELD && x.maxheld[0] > 16384 &&
	    tcp2_smtp_held(x.s, TCP2_C2S) == 0, "one byte at a time through "
	    "140 KB: held at most %zu <= %u, 0 at the end", x.maxheld[0],
	    TCP2_RW_MAX_HELD);
	sess_close(&x);

	/* The key-exchange buffer is the largest: still under the bound. */
	sess_open(&x, sa, A, 0, 2, 4);
	start(&x);
	mark = cls(&x, "MAIL FROM:<" A ">\r\nRCPT TO:<" C ">\r\nDATA\r\n");
	put(&c, "From: " A "\r\nSubject: TCP2 key exchange\r\n\r\n",
	    strlen("From: " A "\r\nSubject: TCP2 key exchange\r\n\r\n"));
	for (i = 0; i < 12000; i++)
		put(&c, "..\r\n", 4);
	put(&c, ".\r\n", 3);
	nev = 0;
	mark = cl(&x, c.p, c.len);
	t_check(x.rc == 0 && x.f.nmsg == 1 && x.maxheld[0] <=
	    TCP2_RW_MAX_HELD && had_event("keyx", "larger than"),
	    "a key-exchange mail over 32 KiB: an ordinary mail, held at most "
	    "%zu", x.maxheld[0]);
	sess_close(&x);
	bfree(&big);
	bfree(&c);
}

int
main(void)
{
	char cmd[300];
	size_t i;

	if (tcp2_crypto_init() != 0 || (root = mkdtemp(tmpl)) == NULL)
		return 1;
	tcp2_crypto_random(fixed_mk, sizeof(fixed_mk));
	tcp2_crypto_random(fixed_salt, sizeof(fixed_salt));
	sa = st_open("a", A);
	sb = st_open("b", B);
	sd = st_open("d", D);
	if (sa == NULL || sb == NULL || sd == NULL || exchange(sa, sb, B) != 0)
		return t_check(0, "stores and key exchange"), t_done();
	bigmsg_len = 100000;
	bigmsg = malloc(bigmsg_len);
	for (i = 0; i < bigmsg_len; i++)
		bigmsg[i] = i % 80 == 78 ? '\r' : i % 80 == 79 ? '\n' :
		    i % 80 == 0 ? '.' : (char)('a' + i % 26);
	test_encrypt();
	test_resegment();
	test_strict();
	test_signed();
	test_smuggling();
	test_pipelined();
	test_starttls();
	test_fin_in_data();
	test_keyx();
	test_registration();
	test_errors();
	test_auth();
	test_held();
	free(bigmsg);
	tcp2_state_close(sa);
	tcp2_state_close(sb);
	tcp2_state_close(sd);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	if (system(cmd) != 0)
		t_check(0, "clean up %s", root);
	return t_done();
}
