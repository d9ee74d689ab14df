/*
 * test_pop3.c - the POP3 session rewriter over real stores: a scripted
 * session (greeting, CAPA, USER/PASS, STAT, LIST, UIDL, RETR of an
 * encrypted, a plain, a signed plain, a forged and a key-exchange mail,
 * TOP n 0 and TOP n 5, DELE, QUIT) with server responses dot-stuffed as a
 * server sends them; the client must receive the originals byte for byte
 * (behind the server's trace fields).  Then: tampered ciphertext (reset
 * before the terminating dot, ciphertext the next time), pipelined
 * commands with random re-segmentation of the server's bytes, the
 * held-bytes bound, STLS, registration, LF originals, overlong lines and
 * headers, a server closing mid-message, and a 20 MB message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "account.h"
#include "crypto.h"
#include "error.h"
#include "harness.h"
#include "hold.h"
#include "keyx.h"
#include "message.h"
#include "plainsig.h"
#include "pop3.h"
#include "quarantine.h"
#include "rewriter.h"
#include "state.h"

#define A "alice@example.org"
#define B "bob@example.org"
#define C "carol@example.org"
#define D "dave@example.org"
#define PASSWORD "s3cret pass"

static char tmpl[] = "/tmp/tcp2-pop3-XXXXXX";
static char *root;
static uint64_t clock_now = 1795000000;

static uint64_t
fake_now(void)
{
	return clock_now;
}

/* ---- buffers ---- */

struct buf {
	char *p;
	size_t len, cap;
};

static void
b_add(struct buf *b, const void *d, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = realloc(b->p, b->cap);
		if (b->p == NULL)
			abort();
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
b_str(struct buf *b, const char *s)
{
	b_add(b, s, strlen(s));
}

static void
b_free(struct buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

static int
put(void *arg, const void *d, size_t n)
{
	b_add(arg, d, n);
	return 0;
}

static int
eq(const struct buf *b, size_t off, const struct buf *want)
{
	return b->len - off == want->len &&
	    memcmp(b->p + off, want->p, want->len) == 0;
}

/* What a server sends for message m: lines starting with "." doubled,
 * CRLF line ends, a CRLF at the end if missing, the terminating dot. */
static void
stuff(struct buf *o, const char *m, size_t n)
{
	size_t i;
	int bol = 1;

	for (i = 0; i < n; i++) {
		if (bol && m[i] == '.')
			b_add(o, ".", 1);
		if (m[i] == '\n' && (i == 0 || m[i - 1] != '\r'))
			b_add(o, "\r", 1);
		b_add(o, m + i, 1);
		bol = m[i] == '\n';
	}
	if (!bol)
		b_add(o, "\r\n", 2);
	b_add(o, ".\r\n", 3);
}

/* Length of what TOP k gives for m: header, blank line, k body lines. */
static size_t
top_len(const char *m, size_t n, unsigned long k)
{
	size_t i = 0, ll;
	int hdr = 1;

	while (i < n) {
		const char *nl = memchr(m + i, '\n', n - i);

		ll = nl ? (size_t)(nl - (m + i)) + 1 : n - i;
		if (hdr) {
			if (ll == 1 || (ll == 2 && m[i] == '\r')) {
				hdr = 0;
				if (k == 0)
					return i + ll;
			}
		} else if (--k == 0) {
			return i + ll;
		}
		i += ll;
	}
	return n;
}

/* ---- events ---- */

#define MAXEV 256
static struct ev {
	char type[32];
	char all[3000];		/* text and fields, for searching */
} evs[MAXEV];
static size_t nev;

static void
on_event(void *arg, const char *type, const char *text,
    const char *const *fields)
{
	struct ev *e;
	size_t i, n;

	(void)arg;
	if (nev == MAXEV)
		return;
	e = &evs[nev++];
	snprintf(e->type, sizeof(e->type), "%s", type);
	n = (size_t)snprintf(e->all, sizeof(e->all), "%s |", text);
	for (i = 0; fields && fields[i] && fields[i + 1] &&
	    n < sizeof(e->all); i += 2)
		n += (size_t)snprintf(e->all + n, sizeof(e->all) - n,
		    " %s=%s;", fields[i], fields[i + 1]);
}

/* The last event of this type since index from, or NULL. */
static const struct ev *
ev_find(size_t from, const char *type)
{
	size_t i;

	for (i = nev; i > from; i--)
		if (strcmp(evs[i - 1].type, type) == 0)
			return &evs[i - 1];
	return NULL;
}

static int
ev_has(size_t from, const char *type, const char *needle)
{
	const struct ev *e = ev_find(from, type);

	return e != NULL && strstr(e->all, needle) != NULL;
}

static void set_hold(struct tcp2_state *, const char *, unsigned int);

/* ---- stores and mails ---- */

static struct tcp2_state *
st_open(const char *name, const char *addr)
{
	struct tcp2_state *s = NULL;
	struct tcp2_account a;
	char dir[300];

	snprintf(dir, sizeof(dir), "%s/%s", root, name);
	if (tcp2_state_open(&s, dir, NULL, TCP2_STORE_CREATE) != 0)
		return NULL;
	if (addr != NULL && tcp2_state_account(s, addr) == NULL) {
		memset(&a, 0, sizeof(a));
		snprintf(a.addr, sizeof(a.addr), "%s", addr);
		if (tcp2_state_account_add(s, &a) != 0) {
			tcp2_state_close(s);
			return NULL;
		}
	}
	return s;
}

struct mail {
	char buf[16384];
	size_t len;
};

/* A full exchange between x (initiator) and y. */
static int
exchange(struct tcp2_state *x, struct tcp2_state *y, const char *yaddr)
{
	struct mail m1, m2, m3;
	enum tcp2_keyx_result r1, r2;

	if (tcp2_state_keyx_start(x, NULL, yaddr, clock_now++, m1.buf,
	    sizeof(m1.buf), &m1.len) != 0 ||
	    tcp2_state_keyx_recv(y, m1.buf, m1.len, clock_now++, &r1, m2.buf,
	    sizeof(m2.buf), &m2.len) != 0 ||
	    tcp2_state_keyx_recv(x, m2.buf, m2.len, clock_now++, &r2, m3.buf,
	    sizeof(m3.buf), &m3.len) != 0)
		return -1;
	return r1 == TCP2_KX_REPLIED && r2 == TCP2_KX_ESTABLISHED ? 0 : -1;
}

static int
encrypt(struct tcp2_state *s, const char *to, const char *msg, size_t len,
    struct buf *o)
{
	const struct tcp2_account *a = tcp2_state_account(s, NULL);
	uint8_t keys[2][32];
	struct tcp2_msg_enc_params p;
	struct tcp2_msg_enc *e;
	size_t nk, bad, i;
	int rc;

	rc = tcp2_state_message_keys(s, a, &to, 1, keys, &nk, &bad);
	if (rc != 0)
		return rc;
	memset(&p, 0, sizeof(p));
	p.keys = (const uint8_t (*)[32])keys;
	p.nkeys = nk;
	p.sign_sec = a->ed_sec;
	p.sign_addr = a->addr;
	p.out = put;
	p.arg = o;
	if ((rc = tcp2_msg_enc_new(&e, &p)) != 0)
		return rc;
	/* In pieces, as a mail client would write it. */
	for (i = 0; i < len && rc == 0; i += 70000)
		rc = tcp2_msg_enc_write(e, msg + i,
		    len - i < 70000 ? len - i : 70000);
	if (rc == 0)
		rc = tcp2_msg_enc_finish(e);
	tcp2_msg_enc_free(e);
	return rc;
}

static int
sign_plain(struct tcp2_state *s, const char *msg, struct buf *o)
{
	const struct tcp2_account *a = tcp2_state_account(s, NULL);
	struct tcp2_psig_signer *sg;
	int rc, sig = 0;

	if ((rc = tcp2_psig_signer_new(&sg, a->ed_sec, a->addr, put, o)) != 0)
		return rc;
	rc = tcp2_psig_signer_write(sg, msg, strlen(msg));
	if (rc == 0)
		rc = tcp2_psig_signer_finish(sg, &sig);
	tcp2_psig_signer_free(sg);
	return rc == 0 && sig ? 0 : -1;
}

/* What the server adds in front on delivery. */
static const char trace[] = "Return-Path: <alice@example.org>\r\n"
    "Delivered-To: bob@example.org\r\n"
    "Received: from mail.example.org by mx.example.org\r\n"
    "\twith ESMTP id 4711; Tue, 24 Nov 2026 05:00:00 +0000\r\n";

static void
delivered(struct buf *o, const char *m, size_t n)
{
	b_str(o, trace);
	b_add(o, m, n);
}

/* ---- sessions ---- */

struct sess {
	struct tcp2_pop3 *p;
	struct buf cs, sc;	/* what the server, the client received */
	size_t maxheld;
};

static struct tcp2_registration reg;
static struct tcp2_rw_budget *budget;	/* for the next sessions */

static int
sess_new(struct sess *s, struct tcp2_state *st, const char *account)
{
	struct tcp2_rw_env env;

	memset(s, 0, sizeof(*s));
	memset(&env, 0, sizeof(env));
	env.state = st;
	env.account = account;
	env.endpoint = "192.0.2.10:110";
	env.reg = &reg;
	env.event = on_event;
	env.now = fake_now;
	env.budget = budget;
	return tcp2_pop3_new(&s->p, &env);
}

static void
sess_free(struct sess *s)
{
	tcp2_pop3_free(s->p);
	b_free(&s->cs);
	b_free(&s->sc);
}

static void
held_note(struct sess *s)
{
	size_t h = tcp2_pop3_held(s->p, TCP2_S2C);

	if (h > s->maxheld)
		s->maxheld = h;
	h = tcp2_pop3_held(s->p, TCP2_C2S);
	if (h > s->maxheld)
		s->maxheld = h;
}

static int
cmd(struct sess *s, const char *line)
{
	int rc = tcp2_pop3_feed(s->p, TCP2_C2S, (const uint8_t *)line,
	    strlen(line), put, &s->cs);

	held_note(s);
	return rc;
}

static int
srv(struct sess *s, const void *d, size_t n)
{
	int rc = tcp2_pop3_feed(s->p, TCP2_S2C, d, n, put, &s->sc);

	held_note(s);
	return rc;
}

static int
srv_str(struct sess *s, const char *str)
{
	return srv(s, str, strlen(str));
}

/* Feed d in random pieces (max 0: one byte at a time). */
static unsigned long long rng = 88172645463325252ull;

static size_t
rnd(size_t max)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (size_t)(rng % max);
}

static int
srv_pieces(struct sess *s, const char *d, size_t n, size_t max)
{
	size_t i = 0, k;
	int rc;

	while (i < n) {
		k = max == 0 ? 1 : 1 + rnd(max);
		if (k > n - i)
			k = n - i;
		if ((rc = srv(s, d + i, k)) != 0)
			return rc;
		i += k;
	}
	return 0;
}

/* One command and its response; the client's new bytes must be want. */
static int
step(struct sess *s, const char *c, const struct buf *resp,
    const struct buf *want)
{
	size_t off = s->sc.len;

	if (cmd(s, c) != 0 || srv(s, resp->p, resp->len) != 0)
		return 0;
	return eq(&s->sc, off, want);
}

/* A RETR-style response: status line plus the stuffed message. */
static void
response(struct buf *o, const char *status, const char *m, size_t n)
{
	b_str(o, status);
	stuff(o, m, n);
}

/* The last "held" event's mail is in st's quarantine: its original is
 * orig, its decrypted copy plain (NULL: none kept). */
static int
held_is(struct tcp2_state *st, size_t upto, const struct buf *orig,
    const struct buf *plain)
{
	struct tcp2_store *q = tcp2_state_store(st);
	const struct ev *e = NULL;
	struct tcp2_held h;
	char id[TCP2_HELD_ID_LEN];
	const char *p;
	uint8_t *m;
	size_t ml, i;
	int ok;

	for (i = 0; i < upto; i++)
		if (strcmp(evs[i].type, "held") == 0)
			e = &evs[i];
	if (e == NULL || (p = strstr(e->all, " id=")) == NULL)
		return 0;
	memcpy(id, p + 4, 32);
	id[32] = '\0';
	if (tcp2_quarantine_get(q, id, &h) != 0 ||
	    tcp2_quarantine_mail(q, id, TCP2_HELD_ORIG, &m, &ml) != 0)
		return 0;
	ok = ml == orig->len && memcmp(m, orig->p, ml) == 0 &&
	    h.has_plain == (plain != NULL);
	tcp2_store_free(m, ml);
	if (!ok || plain == NULL)
		return ok;
	if (tcp2_quarantine_mail(q, id, TCP2_HELD_PLAIN, &m, &ml) != 0)
		return 0;
	ok = ml == plain->len && memcmp(m, plain->p, ml) == 0;
	tcp2_store_free(m, ml);
	return ok;
}

/* ---- the messages ---- */

static const char orig1[] =
    "From: Alice <alice@example.org>\r\n"
    "To: Bob <bob@example.org>\r\n"
    "Subject: dots, lines and secrets\r\n"
    "Date: Tue, 24 Nov 2026 04:59:00 +0000\r\n"
    "Message-ID: <1@example.org>\r\n"
    "\r\n"
    "line 1: the secret is 42\r\n"
    ".\r\n"
    "..\r\n"
    ".leading dot\r\n"
    "line 5\r\n"
    "\r\n"
    "line 7 after an empty line\r\n"
    "...three\r\n"
    "line 9\r\n"
    "last line\r\n";

static const char plain1[] =
    "From: Carol <carol@example.org>\r\n"
    "To: bob@example.org\r\n"
    "Subject: plain\r\n"
    "\r\n"
    "a plain mail\r\n"
    ".\r\n"
    ".. with dots\r\n";

static const char signed1[] =
    "From: Alice <alice@example.org>\r\n"
    "To: bob@example.org\r\n"
    "Subject: signed, not encrypted\r\n"
    "\r\n"
    "signed body\r\n"
    ".dot\r\n";

static const char forged1[] =
    "From: mallory@example.org\r\n"
    "To: bob@example.org\r\n"
    "Subject: who am I\r\n"
    "\r\n"
    "trust me\r\n";

/* Replace the first occurrence of from by to in b (same buffer). */
static int
replace(struct buf *b, const char *from, const char *to)
{
	char *at = strstr(b->p, from);
	struct buf n = { 0 };

	if (at == NULL)
		return -1;
	b_add(&n, b->p, (size_t)(at - b->p));
	b_str(&n, to);
	b_str(&n, at + strlen(from));
	b_free(b);
	*b = n;
	return 0;
}

static struct tcp2_state *sa, *sb, *sc, *sd;

static void
test_session(void)
{
	struct sess s;
	struct buf enc = { 0 }, srv1 = { 0 }, r = { 0 }, w = { 0 };
	struct buf sg = { 0 }, fg = { 0 }, tmp = { 0 };
	struct mail kxm;
	const struct tcp2_peer *p;
	size_t e0 = nev, off;
	char st1[64];
	static const char capa[] = "+OK Capability list follows\r\n"
	    "TOP\r\nUSER\r\nUIDL\r\nPIPELINING\r\nSTLS\r\nSASL PLAIN\r\n"
	    "RESP-CODES\r\n.\r\n";
	static const char list[] = "+OK 6 messages\r\n1 4711\r\n2 300\r\n"
	    "3 3100\r\n4 400\r\n5 500\r\n6 600\r\n.\r\n";
	static const char uidl[] = "+OK\r\n1 a1\r\n2 b2\r\n3 c3\r\n4 d4\r\n"
	    "5 e5\r\n6 f6\r\n.\r\n";

	/* 1: encrypted alice -> bob; 2: plain; 3: carol's key exchange;
	 * 4: signed plain; 5: forged; 6: reply of dave to bob's request. */
	t_check(encrypt(sa, B, orig1, strlen(orig1), &enc) == 0,
	    "alice encrypts to bob");
	delivered(&srv1, enc.p, enc.len);
	t_check(sess_new(&s, sb, B) == 0, "session");
	b_str(&w, "+OK Dovecot ready.\r\n");
	b_str(&r, w.p);
	t_check(srv(&s, r.p, r.len) == 0 && eq(&s.sc, 0, &w),
	    "greeting copied");
	r.len = w.len = 0;
	b_str(&r, capa);
	t_check(step(&s, "CAPA\r\n", &r, &r),
	    "CAPA copied unchanged (STLS, PIPELINING and TOP stay)");
	r.len = 0;
	b_str(&r, "+OK\r\n");
	t_check(step(&s, "USER bob\r\n", &r, &r), "USER");
	t_check(step(&s, "PASS " PASSWORD "\r\n", &r, &r), "PASS");
	r.len = 0;
	b_str(&r, "+OK 6 13611\r\n");
	t_check(step(&s, "STAT\r\n", &r, &r), "STAT");
	r.len = 0;
	b_str(&r, list);
	t_check(step(&s, "LIST\r\n", &r, &r), "LIST block copied");
	r.len = 0;
	b_str(&r, "+OK 2 300\r\n");
	t_check(step(&s, "LIST 2\r\n", &r, &r), "LIST 2: one line");
	r.len = 0;
	b_str(&r, uidl);
	t_check(step(&s, "UIDL\r\n", &r, &r), "UIDL block copied");

	/* RETR 1: the original behind the trace fields, byte for byte. */
	r.len = w.len = 0;
	snprintf(st1, sizeof(st1), "+OK %zu octets\r\n", srv1.len);
	response(&r, st1, srv1.p, srv1.len);
	tmp.len = 0;
	delivered(&tmp, orig1, strlen(orig1));
	response(&w, st1, tmp.p, tmp.len);
	e0 = nev;
	t_check(step(&s, "RETR 1\r\n", &r, &w),
	    "RETR of a TCP2 message: trace fields + the original, stuffed");
	t_check(ev_has(e0, "received", "status=verified") &&
	    ev_has(e0, "received", "sender=alice@example.org") &&
	    ev_has(e0, "received", "replay=no"),
	    "event: received, verified, from alice");
	t_check(tcp2_pop3_held(s.p, TCP2_S2C) == 0 &&
	    tcp2_pop3_held(s.p, TCP2_C2S) == 0, "nothing held between "
	    "responses");
	t_check(step(&s, "RETR 1\r\n", &r, &w) &&
	    ev_has(e0, "received", "replay=yes"),
	    "retrieved again (leave on server): same bytes, a replay event");

	/* TOP 1 0 and TOP 1 5: sent as RETR 1, cut to what TOP gives. */
	off = s.cs.len;
	w.len = 0;
	b_str(&w, st1);
	stuff(&w, tmp.p, top_len(tmp.p, tmp.len, 0));
	t_check(step(&s, "TOP 1 0\r\n", &r, &w), "TOP 1 0: the header only");
	t_check(s.cs.len - off == 8 && memcmp(s.cs.p + off, "RETR 1\r\n", 8)
	    == 0, "TOP 1 0 went to the server as RETR 1");
	w.len = 0;
	b_str(&w, st1);
	stuff(&w, tmp.p, top_len(tmp.p, tmp.len, 5));
	t_check(step(&s, "TOP 1 5\r\n", &r, &w),
	    "TOP 1 5: header and 5 body lines of the original (dots kept)");
	w.len = 0;
	b_str(&w, st1);
	stuff(&w, tmp.p, tmp.len);
	t_check(step(&s, "top 1 1000\r\n", &r, &w),
	    "TOP with more lines than the message: all of it");

	/* RETR 2: plain, unchanged. */
	r.len = w.len = 0;
	tmp.len = 0;
	delivered(&tmp, plain1, strlen(plain1));
	response(&r, "+OK 300 octets\r\n", tmp.p, tmp.len);
	e0 = nev;
	t_check(step(&s, "RETR 2\r\n", &r, &r) && ev_find(e0, "received") ==
	    NULL, "plain mail unchanged, no event");

	/* RETR 3: carol's key exchange: a notice instead, state updated. */
	t_check(tcp2_state_keyx_start(sc, NULL, B, clock_now++, kxm.buf,
	    sizeof(kxm.buf), &kxm.len) == 0, "carol asks bob for a key");
	r.len = 0;
	tmp.len = 0;
	delivered(&tmp, kxm.buf, kxm.len);
	response(&r, "+OK 3100 octets\r\n", tmp.p, tmp.len);
	off = s.sc.len;
	e0 = nev;
	t_check(cmd(&s, "RETR 3\r\n") == 0 && srv(&s, r.p, r.len) == 0,
	    "RETR of the key-exchange mail");
	p = tcp2_state_peer(sb, B, C);
	t_check(p != NULL && tcp2_peer_state(p) == TCP2_PEER_ESTABLISHED &&
	    p->reply_due, "bob's store: carol established, reply due");
	t_check(strstr(s.sc.p + off, "Subject: TCP2: key exchange with "
	    "carol@example.org: reply due\r\n") != NULL &&
	    strstr(s.sc.p + off, "From: \"TCP2 Mail\" <tcp2@localhost>\r\n")
	    != NULL && strstr(s.sc.p + off, "To: <bob@example.org>\r\n") !=
	    NULL && strstr(s.sc.p + off, "'TCP2 key exchange' to "
	    "carol@example.org") != NULL, "the client gets the notice");
	t_check(strstr(s.sc.p + off, "BEGIN TCP2 KEY EXCHANGE") == NULL &&
	    s.sc.len - off > 5 && memcmp(s.sc.p + s.sc.len - 5, "\r\n.\r\n",
	    5) == 0 && strncmp(s.sc.p + off, "+OK 3100 octets\r\n", 17) == 0,
	    "the key-exchange block is gone; status line kept; block ended");
	{
		char fpr[TCP2_FPR_LEN], code[TCP2_CODE_LEN];
		const struct tcp2_account *ab = tcp2_state_account(sb, B);

		tcp2_fingerprint(p->ed_pub, p->x_pub, fpr);
		tcp2_comparison_code(ab->ed_pub, ab->x_pub, p->ed_pub,
		    p->x_pub, code);
		t_check(strstr(s.sc.p + off, fpr) != NULL &&
		    strstr(s.sc.p + off, code) != NULL,
		    "notice shows carol's fingerprint and the code %s", code);
	}
	t_check(ev_has(e0, "keyx", "result=reply due") &&
	    ev_has(e0, "keyx", "peer=carol@example.org"), "event: keyx");
	off = s.sc.len;
	t_check(cmd(&s, "RETR 3\r\n") == 0 && srv(&s, r.p, r.len) == 0 &&
	    strstr(s.sc.p + off, "ignored, seen before") != NULL,
	    "the same key-exchange mail again: notice says ignored");

	/* RETR 4: signed plain mail, verified, line stripped. */
	t_check(sign_plain(sa, signed1, &sg) == 0, "alice signs a plain mail");
	r.len = w.len = 0;
	tmp.len = 0;
	delivered(&tmp, sg.p, sg.len);
	response(&r, "+OK 400 octets\r\n", tmp.p, tmp.len);
	tmp.len = 0;
	delivered(&tmp, signed1, strlen(signed1));
	response(&w, "+OK 400 octets\r\n", tmp.p, tmp.len);
	e0 = nev;
	off = s.sc.len;
	if (!t_check(step(&s, "RETR 4\r\n", &r, &w), "signed plain mail: "
	    "signature line stripped, the rest unchanged"))
		printf("# got:\n%s\n# want:\n%s\n", s.sc.p + off, w.p);
	t_check(ev_has(e0, "received", "status=verified") &&
	    ev_has(e0, "received", "kind=signed-plain"),
	    "event: signed plain, verified");
	if (replace(&sg, "signed body", "signed b0dy") == 0) {
		r.len = w.len = 0;
		tmp.len = 0;
		delivered(&tmp, sg.p, sg.len);
		response(&r, "+OK 400 octets\r\n", tmp.p, tmp.len);
		e0 = nev;
		t_check(cmd(&s, "RETR 4\r\n") == 0 && srv(&s, r.p, r.len) ==
		    0 && ev_has(e0, "received", "status=forged"),
		    "altered signed plain mail: delivered, reported forged");
	}

	/* RETR 5: encrypted by alice with mallory's From: inside and
	 * alice's outside: forged, so held (the default policy), and the
	 * client gets a notice instead. */
	t_check(encrypt(sa, B, forged1, strlen(forged1), &fg) == 0 &&
	    replace(&fg, "From: mallory@example.org", "From: " A) == 0,
	    "a forged TCP2 message");
	r.len = w.len = 0;
	tmp.len = 0;
	delivered(&tmp, fg.p, fg.len);
	response(&r, "+OK 500 octets\r\n", tmp.p, tmp.len);
	tmp.len = 0;
	delivered(&tmp, forged1, strlen(forged1));
	response(&w, "+OK 500 octets\r\n", tmp.p, tmp.len);
	e0 = nev;
	off = s.sc.len;
	t_check(cmd(&s, "RETR 5\r\n") == 0 && srv(&s, r.p, r.len) == 0 &&
	    ev_has(e0, "received", "status=forged") &&
	    ev_has(e0, "held", "reason=FORGED sender") &&
	    strstr(s.sc.p + off, "Subject: TCP2: held: ") != NULL &&
	    strstr(s.sc.p + off, "Why:      FORGED sender") != NULL &&
	    strstr(s.sc.p + off, "From:     mallory@example.org") != NULL &&
	    strstr(s.sc.p + off, "\r\n.\r\n") != NULL &&
	    strstr(s.sc.p + off, "Monday") == NULL,
	    "forged TCP2 message: held, the client gets a notice");

	/* RETR 6: the reply to bob's own request: established. */
	{
		struct mail m1, m2;
		enum tcp2_keyx_result res;

		t_check(tcp2_state_keyx_start(sb, NULL, D, clock_now++, m1.buf,
		    sizeof(m1.buf), &m1.len) == 0 &&
		    tcp2_state_keyx_recv(sd, m1.buf, m1.len, clock_now++,
		    &res, m2.buf, sizeof(m2.buf), &m2.len) == 0 &&
		    res == TCP2_KX_REPLIED && m2.len > 0,
		    "bob asks dave; dave's reply mail");
		r.len = 0;
		tmp.len = 0;
		delivered(&tmp, m2.buf, m2.len);
		response(&r, "+OK 600 octets\r\n", tmp.p, tmp.len);
		off = s.sc.len;
		t_check(cmd(&s, "RETR 6\r\n") == 0 && srv(&s, r.p, r.len) ==
		    0 && strstr(s.sc.p + off, "dave@example.org: key "
		    "established") != NULL && tcp2_peer_state(tcp2_state_peer(
		    sb, B, D)) == TCP2_PEER_ESTABLISHED,
		    "dave's reply: notice 'key established', store agrees");
	}

	r.len = 0;
	b_str(&r, "+OK message 1 deleted\r\n");
	t_check(step(&s, "DELE 1\r\n", &r, &r), "DELE");
	r.len = 0;
	b_str(&r, "-ERR no such message\r\n");
	t_check(step(&s, "RETR 9\r\n", &r, &r), "-ERR to RETR: one line");
	r.len = 0;
	b_str(&r, "+OK Logging out.\r\n");
	t_check(step(&s, "QUIT\r\n", &r, &r), "QUIT");
	t_check(tcp2_pop3_end(s.p, TCP2_S2C, put, &s.sc) == 0 &&
	    tcp2_pop3_end(s.p, TCP2_C2S, put, &s.cs) == 0, "clean end");
	/* The server saw the client's lines, TOP turned into RETR. */
	t_check(strstr(s.cs.p, "PASS " PASSWORD "\r\nSTAT\r\n") != NULL &&
	    strstr(s.cs.p, "TOP") == NULL && strstr(s.cs.p, "top") == NULL,
	    "client lines reach the server; no TOP does");
	t_check(s.maxheld <= TCP2_RW_MAX_HELD, "held at most %zu (bound %u)",
	    s.maxheld, TCP2_RW_MAX_HELD);
	t_check(!tcp2_pop3_is_passthrough(s.p), "not a passthrough session");
	sess_free(&s);
	b_free(&enc);
	b_free(&srv1);
	b_free(&r);
	b_free(&w);
	b_free(&sg);
	b_free(&fg);
	b_free(&tmp);
}

/* A message of n octets with lines of all kinds and many dots. */
static char *
big_message(size_t n, const char *from)
{
	char *m = malloc(n + 1), line[128];
	size_t len, i = 0, k = 0;

	if (m == NULL)
		abort();
	len = (size_t)snprintf(m, n + 1, "From: %s\r\nTo: bob@example.org\r\n"
	    "Subject: big\r\n\r\n", from);
	i = len;
	while (i < n) {
		switch (k % 7) {
		case 0:
			len = (size_t)snprintf(line, sizeof(line), ".\r\n");
			break;
		case 3:
			len = (size_t)snprintf(line, sizeof(line),
			    "..line %zu with two dots\r\n", k);
			break;
		default:
			len = (size_t)snprintf(line, sizeof(line),
			    "line %zu: the quick brown fox jumps over the lazy "
			    "dog\r\n", k);
			break;
		}
		if (len > n - i)
			len = n - i;
		memcpy(m + i, line, len);
		i += len;
		k++;
	}
	m[n] = '\0';
	return m;
}

/*
 * m encrypted by alice for bob with one base64 character near the end
 * changed (the chunks before it decrypt), as the server delivers it
 * (mail) and as a RETR response (resp).
 */
static void
tampered(const char *m, struct buf *mail, struct buf *resp)
{
	struct buf enc = { 0 };
	char *at;

	encrypt(sa, B, m, strlen(m), &enc);
	at = enc.p + enc.len - 300;
	while (*at == '\r' || *at == '\n' || *at == '-')
		at--;
	*at = *at == 'A' ? 'B' : 'A';
	delivered(mail, enc.p, enc.len);
	response(resp, "+OK\r\n", mail->p, mail->len);
	b_free(&enc);
}

/* Tampered ciphertext: held at once; an account that does not hold it
 * gets a reset before the dot, then the ciphertext as it is. */
static void
test_tamper(void)
{
	struct sess s;
	struct buf r = { 0 }, tmp = { 0 }, rn = { 0 }, tmpn = { 0 };
	char *m = big_message(100000, A);
	size_t off, e0;
	int rc;

	tampered(m, &tmp, &r);
	/* The default policy holds what cannot be decrypted: at once, as
	 * nothing reached the client before the end. */
	sess_new(&s, sb, B);
	srv_str(&s, "+OK hi\r\n");
	off = s.sc.len;
	e0 = nev;
	cmd(&s, "RETR 1\r\n");
	rc = srv(&s, r.p, r.len);
	t_check(rc == 0 && strstr(s.sc.p + off, "Why:      cannot be "
	    "decrypted") != NULL && ev_has(e0, "held", "reason=cannot be "
	    "decrypted") && ev_has(e0, "received", "status=failed"),
	    "tampered message: held at once, the client gets a notice (%d)",
	    rc);
	t_check(strstr(s.sc.p + off, "quick brown fox") == NULL,
	    "no plaintext of it reached the client");
	t_check(held_is(sb, nev, &tmp, NULL), "the quarantine keeps the "
	    "ciphertext byte for byte, and no decrypted copy");
	t_check(cmd(&s, "NOOP\r\n") == 0, "the session goes on");
	sess_free(&s);

	/* An account that does not hold it: reset before the dot. */
	set_hold(sb, B, TCP2_HOLD_DEFAULT & ~TCP2_HOLD_UNDECRYPTABLE);
	tampered(m, &tmpn, &rn);
	sess_new(&s, sb, B);
	srv_str(&s, "+OK hi\r\n");
	off = s.sc.len;
	e0 = nev;
	cmd(&s, "RETR 1\r\n");
	rc = srv(&s, rn.p, rn.len);
	t_check(rc == TCP2_EABORT, "not held: TCP2_EABORT (%d)", rc);
	t_check(s.sc.len - off <= 5, "nothing of the message reached the "
	    "client, at most the status line (%zu octets)", s.sc.len - off);
	t_check(strstr(s.sc.p + off, "\r\n.\r\n") == NULL,
	    "the terminating dot never reached the client");
	t_check(ev_has(e0, "received", "status=failed"), "event: failed");
	t_check(srv_str(&s, "+OK\r\n") == TCP2_EABORT &&
	    cmd(&s, "NOOP\r\n") == TCP2_EABORT, "the session stays dead");
	sess_free(&s);

	/* Next connection: the ciphertext, unchanged. */
	sess_new(&s, sb, B);
	srv_str(&s, "+OK hi\r\n");
	off = s.sc.len;
	e0 = nev;
	t_check(cmd(&s, "RETR 1\r\n") == 0 && srv(&s, rn.p, rn.len) == 0 &&
	    s.sc.len - off == rn.len && memcmp(s.sc.p + off, rn.p, rn.len) ==
	    0, "retrieved again: the ciphertext passes unchanged");
	t_check(ev_has(e0, "received", "status=undecryptable"),
	    "event: passed as it is");
	sess_free(&s);
	set_hold(sb, B, TCP2_HOLD_DEFAULT);

	/* Unknown sender (no key): failure at the first retrieval too. */
	{
		struct tcp2_state *se = st_open("pe", "erin@example.org");
		struct buf e2 = { 0 }, r2 = { 0 };

		exchange(se, sd, D);
		rc = encrypt(se, D, "From: erin@example.org\r\n\r\nhi\r\n", 30,
		    &e2);
		response(&r2, "+OK\r\n", e2.p, e2.len);
		sess_new(&s, sb, B);
		srv_str(&s, "+OK hi\r\n");
		off = s.sc.len;
		cmd(&s, "RETR 2\r\n");
		t_check(rc == 0 && srv(&s, r2.p, r2.len) == 0 &&
		    strstr(s.sc.p + off, "Why:      cannot be decrypted"),
		    "no key for the sender: held");
		sess_free(&s);
		b_free(&e2);
		b_free(&r2);
		tcp2_state_close(se);
	}
	free(m);
	b_free(&r);
	b_free(&tmp);
	b_free(&rn);
	b_free(&tmpn);
}

/* Pipelined commands; the server's bytes re-segmented at random. */
static void
test_resegment(void)
{
	struct buf all = { 0 }, enc = { 0 }, tmp = { 0 }, ref = { 0 };
	struct buf refc = { 0 };
	char *m = big_message(60000, A);
	static const char cmds[] = "CAPA\r\nUSER bob\r\nPASS x\r\nLIST\r\n"
	    "RETR 1\r\nTOP 1 3\r\nRETR 2\r\nUIDL\r\nRETR 3\r\nTOP 2 0\r\n"
	    "QUIT\r\n";
	static const size_t maxes[] = { 0, 2, 7, 100, 1460, 9000, 70000 };
	struct sess s;
	size_t i, worst = 0;
	int ok = 1;

	b_str(&all, "+OK ready\r\n+OK\r\n.leading\r\nSTLS\r\n.\r\n"
	    "+OK\r\n+OK\r\n+OK 2\r\n1 1\r\n2 2\r\n.\r\n");
	encrypt(sa, B, m, strlen(m), &enc);
	delivered(&tmp, enc.p, enc.len);
	response(&all, "+OK\r\n", tmp.p, tmp.len);
	response(&all, "+OK\r\n", tmp.p, tmp.len);
	response(&all, "+OK\r\n", plain1, strlen(plain1));
	b_str(&all, "+OK\r\n1 a\r\n2 b\r\n.\r\n");
	enc.len = 0;
	encrypt(sa, B, orig1, strlen(orig1), &enc);
	response(&all, "+OK\r\n", enc.p, enc.len);
	response(&all, "+OK\r\n", plain1, strlen(plain1));
	b_str(&all, "+OK bye\r\n");

	/* Reference: all at once. */
	sess_new(&s, sb, B);
	cmd(&s, cmds);
	t_check(srv(&s, all.p, all.len) == 0 && tcp2_pop3_held(s.p,
	    TCP2_S2C) == 0, "pipelined session in one piece");
	b_add(&ref, s.sc.p, s.sc.len);
	tmp.len = 0;
	delivered(&tmp, m, strlen(m));
	t_check(strstr(ref.p, "\r\n...line 3 with two dots\r\n") != NULL &&
	    strstr(ref.p, "Subject: dots, lines and secrets") != NULL &&
	    strstr(ref.p, "Content-Type: multipart/encrypted") == NULL,
	    "pipelined: both encrypted messages decrypted");
	b_add(&refc, s.cs.p, s.cs.len);
	sess_free(&s);
	for (i = 0; i < sizeof(maxes) / sizeof(maxes[0]); i++) {
		int k;

		for (k = 0; k < (maxes[i] < 100 ? 1 : 4); k++) {
			sess_new(&s, sb, B);
			cmd(&s, cmds);
			if (srv_pieces(&s, all.p, all.len, maxes[i]) != 0 ||
			    !eq(&s.sc, 0, &ref))
				ok = 0;
			if (s.maxheld > worst)
				worst = s.maxheld;
			sess_free(&s);
		}
		t_check(ok, "random pieces of up to %zu octets%s: identical "
		    "output", maxes[i], maxes[i] ? "" : " (one at a time)");
	}
	/* The client's bytes one at a time too. */
	sess_new(&s, sb, B);
	for (i = 0; cmds[i] != '\0'; i++) {
		char one[2] = { cmds[i], '\0' };

		cmd(&s, one);
	}
	t_check(srv(&s, all.p, all.len) == 0 && eq(&s.sc, 0, &ref) &&
	    eq(&s.cs, 0, &refc), "client bytes one at a time: same both ways");
	sess_free(&s);
	t_check(worst <= TCP2_RW_MAX_HELD, "held at most %zu octets (bound "
	    "%u)", worst, TCP2_RW_MAX_HELD);
	t_check(worst > 16384, "and the decoder's lag is counted (%zu)",
	    worst);
	free(m);
	b_free(&all);
	b_free(&enc);
	b_free(&tmp);
	b_free(&ref);
	b_free(&refc);
}

static void
test_stls(void)
{
	struct sess s;
	struct buf w = { 0 };
	static const uint8_t tls[] = { 0x16, 0x03, 0x01, 0x00, 0x05, '.',
	    '\r', '\n', 0x00, 0x0a };
	size_t e0 = nev, off;

	sess_new(&s, sb, B);
	srv_str(&s, "+OK ready\r\n");
	t_check(cmd(&s, "STLS\r\n") == 0 && srv_str(&s, "+OK Begin TLS\r\n")
	    == 0 && tcp2_pop3_is_passthrough(s.p), "STLS +OK: passthrough");
	t_check(ev_has(e0, "tls", "how=STLS"), "event: tls");
	off = s.cs.len;
	cmd(&s, "");
	tcp2_pop3_feed(s.p, TCP2_C2S, tls, sizeof(tls), put, &s.cs);
	b_add(&w, tls, sizeof(tls));
	t_check(eq(&s.cs, off, &w), "client bytes copied");
	off = s.sc.len;
	t_check(srv(&s, tls, sizeof(tls)) == 0 && eq(&s.sc, off, &w) &&
	    tcp2_pop3_held(s.p, TCP2_S2C) == 0, "server bytes copied");
	sess_free(&s);

	sess_new(&s, sb, B);
	srv_str(&s, "+OK ready\r\n");
	t_check(cmd(&s, "STLS\r\n") == 0 && srv_str(&s, "-ERR no TLS\r\n")
	    == 0 && !tcp2_pop3_is_passthrough(s.p), "STLS refused: still "
	    "rewriting");
	sess_free(&s);

	sess_new(&s, sb, B);
	t_check(tcp2_pop3_feed(s.p, TCP2_C2S, tls, sizeof(tls), put, &s.cs)
	    == 0 && tcp2_pop3_is_passthrough(s.p) && s.cs.len == sizeof(tls),
	    "implicit TLS (handshake first): passthrough");
	sess_free(&s);
	b_free(&w);
}

static void
test_registration(void)
{
	struct sess s;
	const struct tcp2_account *acc;
	size_t e0, i;
	int leak = 0;

	/* The SMTP half happened first (fake). */
	memset(&reg, 0, sizeof(reg));
	reg.armed = 1;
	reg.have_smtp = 1;
	snprintf(reg.smtp, sizeof(reg.smtp), "192.0.2.10:587");
	snprintf(reg.addr, sizeof(reg.addr), "frank@example.org");
	sess_new(&s, sb, NULL);
	srv_str(&s, "+OK ready\r\n");
	e0 = nev;
	cmd(&s, "USER frank\r\nPASS wrong\r\n");
	srv_str(&s, "+OK\r\n-ERR [AUTH] bad password\r\n");
	t_check(reg.armed && !reg.have_pop3 && ev_find(e0, "registration") ==
	    NULL, "failed login: nothing recorded");
	cmd(&s, "USER frank\r\n");
	cmd(&s, "PASS " PASSWORD "\r\n");
	srv_str(&s, "+OK\r\n");
	srv_str(&s, "+OK logged in\r\n");
	acc = tcp2_state_account(sb, "frank@example.org");
	t_check(acc != NULL && strcmp(acc->user, "frank") == 0 &&
	    strcmp(acc->password, PASSWORD) == 0 &&
	    strcmp(acc->pop3, "192.0.2.10:110") == 0 &&
	    strcmp(acc->smtp, "192.0.2.10:587") == 0,
	    "login with the SMTP half known: account stored");
	t_check(!reg.armed && ev_has(e0, "registration", "result=ok") &&
	    ev_has(e0, "registration", "user=frank"),
	    "registration event, disarmed");
	for (i = 0; i < nev; i++)
		if (strstr(evs[i].all, PASSWORD) != NULL ||
		    strstr(evs[i].all, "wrong") != NULL)
			leak = 1;
	t_check(!leak, "no event carries a password");
	sess_free(&s);

	/* POP3 first, via AUTH PLAIN; the SMTP half is not there yet. */
	memset(&reg, 0, sizeof(reg));
	reg.armed = 1;
	sess_new(&s, sb, NULL);
	srv_str(&s, "+OK ready\r\n");
	e0 = nev;
	/* "\0grace\0pw d" */
	cmd(&s, "AUTH PLAIN\r\n");
	srv_str(&s, "+ \r\n");
	cmd(&s, "AGdyYWNlAHB3IGQ=\r\n");
	srv_str(&s, "+OK Logged in.\r\n");
	t_check(reg.armed && reg.have_pop3 && strcmp(reg.user, "grace") == 0 &&
	    strcmp(reg.password, "pw d") == 0 && ev_find(e0, "registration") ==
	    NULL, "AUTH PLAIN: POP3 half recorded, waiting for SMTP");
	cmd(&s, "STAT\r\n");
	t_check(srv_str(&s, "+OK 0 0\r\n") == 0 && strstr(s.cs.p,
	    "STAT\r\n") != NULL, "commands again after AUTH");
	sess_free(&s);

	/* AUTH LOGIN, and "AUTH" alone (a mechanism list) is no login. */
	memset(&reg, 0, sizeof(reg));
	reg.armed = 1;
	sess_new(&s, sb, NULL);
	srv_str(&s, "+OK ready\r\n");
	cmd(&s, "USER x\r\nAUTH\r\n");
	srv_str(&s, "+OK\r\n+OK\r\nPLAIN\r\nLOGIN\r\n.\r\n");
	t_check(!reg.have_pop3, "AUTH mechanism list: not a login");
	cmd(&s, "AUTH LOGIN\r\n");
	srv_str(&s, "+ VXNlcm5hbWU6\r\n");
	cmd(&s, "aGVpZGk=\r\n");
	srv_str(&s, "+ UGFzc3dvcmQ6\r\n");
	cmd(&s, "cHc=\r\n");
	srv_str(&s, "+OK\r\n");
	t_check(reg.have_pop3 && strcmp(reg.user, "heidi") == 0 &&
	    strcmp(reg.password, "pw") == 0, "AUTH LOGIN recorded");
	sess_free(&s);
	memset(&reg, 0, sizeof(reg));
}

/* An original with LF line ends: the client gets CRLF. */
static void
test_lf(void)
{
	static const char lf[] = "From: alice@example.org\nTo: bob@example.org"
	    "\nSubject: lf\n\nline\n.\n..x\nno end";
	struct buf enc = { 0 }, r = { 0 }, w = { 0 }, tmp = { 0 };
	struct sess s;

	encrypt(sa, B, lf, strlen(lf), &enc);
	response(&r, "+OK\r\n", enc.p, enc.len);
	/* stuff() converts LF to CRLF and adds the missing CRLF. */
	response(&w, "+OK\r\n", lf, strlen(lf));
	sess_new(&s, sb, B);
	srv_str(&s, "+OK\r\n");
	s.sc.len = 0;
	t_check(step(&s, "RETR 1\r\n", &r, &w), "LF original: CRLF on the "
	    "wire, a CRLF added before the dot");
	b_add(&tmp, s.sc.p, s.sc.len);
	s.sc.len = 0;
	w.len = 0;
	b_str(&w, "+OK\r\n");
	stuff(&w, lf, top_len(lf, strlen(lf), 2));
	t_check(step(&s, "TOP 1 2\r\n", &r, &w), "TOP of an LF original");
	sess_free(&s);
	b_free(&enc);
	b_free(&r);
	b_free(&w);
	b_free(&tmp);
}

/* Overlong lines, overlong headers, big key-exchange mails. */
static void
test_bounds(void)
{
	struct buf r = { 0 }, enc = { 0 }, w = { 0 }, m = { 0 };
	struct sess s;
	char *longl = malloc(3001);
	size_t off, e0;

	memset(longl, 'x', 3000);
	longl[3000] = '\0';
	sess_new(&s, sb, B);
	srv_str(&s, "+OK\r\n");
	/* A 3000-octet command: copied; its response copied; in step. */
	off = s.cs.len;
	cmd(&s, "NOOP ");
	cmd(&s, longl);
	cmd(&s, "\r\n");
	t_check(s.cs.len - off == 3007 && tcp2_pop3_held(s.p, TCP2_C2S) == 0,
	    "overlong command line copied");
	b_str(&r, "-ERR ");
	b_str(&r, longl);
	b_str(&r, "\r\n");
	t_check(step(&s, "", &r, &r), "overlong status line copied");
	encrypt(sa, B, orig1, strlen(orig1), &enc);
	r.len = 0;
	response(&r, "+OK\r\n", enc.p, enc.len);
	w.len = 0;
	response(&w, "+OK\r\n", orig1, strlen(orig1));
	t_check(step(&s, "RETR 1\r\n", &r, &w), "still in step: decrypted");

	/* A header over 32 KiB: not examined, unchanged. */
	b_str(&m, "From: alice@example.org\r\n");
	while (m.len < 40000)
		b_str(&m, "X-Filler: .......................................\r\n");
	b_str(&m, "Subject: TCP2 key exchange\r\n\r\nbody\r\n.\r\n");
	r.len = 0;
	response(&r, "+OK\r\n", m.p, m.len);
	t_check(step(&s, "RETR 2\r\n", &r, &r) && s.maxheld <=
	    TCP2_RW_MAX_HELD, "header over the window: unchanged");

	/* A key-exchange mail over the bound: unchanged, reported. */
	m.len = 0;
	b_str(&m, "From: alice@example.org\r\nSubject: TCP2 key exchange\r\n"
	    "\r\n");
	while (m.len < 60000)
		b_str(&m, "..................................................\r\n");
	r.len = 0;
	response(&r, "+OK\r\n", m.p, m.len);
	e0 = nev;
	t_check(step(&s, "RETR 3\r\n", &r, &r) &&
	    ev_has(e0, "keyx", "too big"), "key-exchange mail too big: "
	    "unchanged, reported");
	/* A mail with that subject and no valid block: unchanged. */
	m.len = 0;
	b_str(&m, "From: alice@example.org\r\nSubject: TCP2 key exchange\r\n"
	    "\r\nlet's talk\r\n");
	r.len = 0;
	response(&r, "+OK\r\n", m.p, m.len);
	e0 = nev;
	t_check(step(&s, "RETR 4\r\n", &r, &r) && ev_has(e0, "keyx",
	    "not processed"), "key-exchange subject, no block: unchanged");
	/* Bare LF commands; a ".\r" line a sloppy server did not stuff. */
	off = s.cs.len;
	r.len = w.len = 0;
	b_str(&r, "+OK\r\nx: y\r\n\r\n.\rz\r\n.\r\n");
	b_str(&w, "+OK\r\nx: y\r\n\r\n\rz\r\n.\r\n");
	t_check(step(&s, "TOP 2 1\n", &r, &w) && s.cs.len - off == 7 &&
	    memcmp(s.cs.p + off, "RETR 2\n", 7) == 0, "bare LF command; "
	    "TOP rewritten with its line end; \".\\r\" line unstuffed");
	t_check(s.maxheld <= TCP2_RW_MAX_HELD, "held at most %zu", s.maxheld);
	sess_free(&s);
	free(longl);
	b_free(&r);
	b_free(&enc);
	b_free(&w);
	b_free(&m);
}

/* The server closes in the middle of a message. */
static void
test_end_mid(void)
{
	struct buf enc = { 0 }, r = { 0 };
	struct sess s;
	char *m = big_message(50000, A);
	size_t off;

	encrypt(sa, B, m, strlen(m), &enc);
	response(&r, "+OK\r\n", enc.p, enc.len);
	sess_new(&s, sb, B);
	srv_str(&s, "+OK\r\n");
	cmd(&s, "RETR 1\r\n");
	off = s.sc.len;
	t_check(srv(&s, r.p, r.len - 1000) == 0 && tcp2_pop3_end(s.p,
	    TCP2_S2C, put, &s.sc) == TCP2_EABORT &&
	    strstr(s.sc.p + off, "\r\n.\r\n") == NULL,
	    "server closes mid-decryption: TCP2_EABORT, no dot");
	sess_free(&s);
	r.len = 0;
	response(&r, "+OK\r\n", m, strlen(m));
	sess_new(&s, sb, B);
	srv_str(&s, "+OK\r\n");
	cmd(&s, "RETR 1\r\n");
	t_check(srv(&s, r.p, r.len - 1000) == 0 && tcp2_pop3_end(s.p,
	    TCP2_S2C, put, &s.sc) == 0, "mid plain message: flushed, 0");
	sess_free(&s);
	free(m);
	b_free(&enc);
	b_free(&r);
}

static void
set_hold(struct tcp2_state *st, const char *addr, unsigned int reasons)
{
	struct tcp2_account a = *tcp2_state_account(st, addr);

	a.hold.reasons = reasons;
	if (tcp2_state_account_update(st, &a) != 0)
		t_check(0, "set the hold policy of %s", addr);
	tcp2_account_wipe(&a);
}

/* RETR n of mail m (as delivered); 1 when the session took it. */
static int
retr(struct sess *s, int n, const struct buf *m)
{
	struct buf r = { 0 };
	char c[32];
	int rc;

	snprintf(c, sizeof(c), "RETR %d\r\n", n);
	response(&r, "+OK\r\n", m->p, m->len);
	rc = cmd(s, c) == 0 && srv(s, r.p, r.len) == 0;
	b_free(&r);
	return rc;
}

/*
 * Hold by content: HTML and a risky attachment are held, a harmless
 * attachment is not; a mail too big to examine at once is held
 * unexamined; the notice names sender, subject and why; and a mail the
 * user releases reaches the client as the kept copy, not held again.
 */
static void
test_hold(void)
{
	static const char html[] =
	    "From: Carol <carol@example.org>\r\nTo: bob@example.org\r\n"
	    "Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: text/html; charset=utf-8\r\n\r\n"
	    "<p>Hello <b>Bob</b></p>\r\n";
	static const char att[] =
	    "From: carol@example.org\r\nTo: bob@example.org\r\n"
	    "Subject: invoice\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: multipart/mixed; boundary=XX\r\n\r\n"
	    "--XX\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
	    "--XX\r\nContent-Type: application/octet-stream; name=%s\r\n"
	    "Content-Disposition: attachment; filename=%s\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\nTVqQAAMAAAAEAAAA\r\n"
	    "--XX--\r\n";
	const struct tcp2_account *a = tcp2_state_account(sb, B);
	struct tcp2_store *q = tcp2_state_store(sb);
	char m[2048], id[TCP2_HELD_ID_LEN], tok[TCP2_HOLD_TOKEN_LEN];
	struct buf mail = { 0 }, w = { 0 };
	const struct ev *e;
	struct tcp2_held h;
	struct sess s;
	size_t off, e0;
	const char *p;
	char *big;
	int ok;

	sess_new(&s, sb, B);
	srv_str(&s, "+OK hi\r\n");

	/* HTML: held, the subject decoded in the event. */
	delivered(&mail, html, strlen(html));
	e0 = nev;
	off = s.sc.len;
	ok = retr(&s, 1, &mail);
	t_check(ok && ev_has(e0, "held", "reason=HTML, not signed") &&
	    ev_has(e0, "held", "subject=Gr\xc3\xbc\xc3\x9f" "e") &&
	    strstr(s.sc.p + off, "From:     carol@example.org") != NULL &&
	    strstr(s.sc.p + off, "<b>Bob</b>") == NULL &&
	    held_is(sb, nev, &mail, NULL), "HTML mail: held, a notice instead,"
	    " the original kept byte for byte");

	/* A risky attachment: held and named. */
	snprintf(m, sizeof(m), att, "invoice.exe", "invoice.exe");
	mail.len = 0;
	delivered(&mail, m, strlen(m));
	e0 = nev;
	off = s.sc.len;
	ok = retr(&s, 2, &mail);
	t_check(ok && ev_has(e0, "held", "reason=attachment invoice.exe, not "
	    "signed") && strstr(s.sc.p + off, "Why:      attachment "
	    "invoice.exe") != NULL, "attachment invoice.exe: held");

	/* A harmless one passes unchanged. */
	snprintf(m, sizeof(m), att, "report.pdf", "report.pdf");
	mail.len = 0;
	delivered(&mail, m, strlen(m));
	response(&w, "+OK\r\n", mail.p, mail.len);
	e0 = nev;
	off = s.sc.len;
	ok = retr(&s, 3, &mail);
	t_check(ok && eq(&s.sc, off, &w) && ev_find(e0, "held") == NULL,
	    "attachment report.pdf: passed on unchanged");

	/* Released: the server has the original again with the token in
	 * front; the client gets the kept copy, stripped as asked. */
	e = ev_find(0, "held");
	p = e ? strstr(e->all, " id=") : NULL;
	if (!t_check(p != NULL, "the invoice.exe mail has an id"))
		goto out;
	e = ev_find(e0 - 1, "held");
	p = strstr(e->all, " id=");
	memcpy(id, p + 4, 32);
	id[32] = '\0';
	tcp2_quarantine_get(q, id, &h);
	h.state = TCP2_HELD_RELEASING;
	h.strip = 1;
	tcp2_quarantine_update(q, &h);
	tcp2_hold_token(a->ed_sec, id, tok);
	mail.len = 0;
	b_str(&mail, "Return-Path: <bob@example.org>\r\n");
	snprintf(m, sizeof(m), "X-TCP2-Release: %s %s\r\n", id, tok);
	b_str(&mail, m);
	snprintf(m, sizeof(m), att, "invoice.exe", "invoice.exe");
	delivered(&mail, m, strlen(m));
	e0 = nev;
	off = s.sc.len;
	ok = retr(&s, 4, &mail);
	t_check(ok && ev_find(e0, "held") == NULL &&
	    strstr(s.sc.p + off, "TCP2 Mail removed 1 attachment") != NULL &&
	    strstr(s.sc.p + off, "TVqQ") == NULL &&
	    strstr(s.sc.p + off, "X-TCP2-Release") == NULL &&
	    strstr(s.sc.p + off, "see attached") != NULL,
	    "released with --strip-attachments: the kept copy without its "
	    "attachment, not held again");
	t_check(tcp2_quarantine_get(q, id, &h) == TCP2_ENOENT,
	    "the entry is gone once delivered");

	/* A forged token is no release. */
	tok[0] = tok[0] == 'a' ? 'b' : 'a';
	mail.len = 0;
	snprintf(m, sizeof(m), "X-TCP2-Release: %s %s\r\n", id, tok);
	b_str(&mail, m);
	snprintf(m, sizeof(m), att, "invoice.exe", "invoice.exe");
	b_str(&mail, m);
	e0 = nev;
	ok = retr(&s, 5, &mail);
	t_check(ok && ev_find(e0, "held") != NULL,
	    "a forged release token: held all the same");

	/* Too big to examine at once (25 MB): held unexamined. */
	big = big_message(25u << 20, C);
	mail.len = 0;
	b_str(&mail, big);
	free(big);
	e0 = nev;
	off = s.sc.len;
	ok = retr(&s, 6, &mail);
	t_check(ok && ev_has(e0, "held", "reason=larger than 24 MiB, not "
	    "examined") && s.sc.len - off > 500 && s.sc.len - off < 4096 &&
	    strstr(s.sc.p + off, "Why:      larger than 24 MiB") != NULL,
	    "a 25 MB mail: held unexamined, a notice of %zu octets",
	    s.sc.len - off);
out:
	sess_free(&s);
	b_free(&mail);
	b_free(&w);
}

/*
 * The daemon's budget for mail examined whole: a mail that does not fit
 * what other sessions left is reset before the client sees any of it
 * (it stays on the server); the budget comes back when sessions end.
 */
static void
test_budget(void)
{
	struct tcp2_rw_budget b = { 0, 8u << 20 };
	struct buf r = { 0 };
	struct sess s1, s2;
	char *m = big_message(3u << 20, C);
	size_t off, e0;
	int rc;

	response(&r, "+OK\r\n", m, strlen(m));
	budget = &b;
	sess_new(&s1, sb, B);
	sess_new(&s2, sb, B);
	budget = NULL;
	srv_str(&s1, "+OK\r\n");
	srv_str(&s2, "+OK\r\n");
	/* s1 has most of its mail (held back), s2 then wants as much. */
	cmd(&s1, "RETR 1\r\n");
	rc = srv(&s1, r.p, r.len - 4096);
	t_check(rc == 0 && b.used >= (3u << 20), "one session examines a 3 MB "
	    "mail: %zu octets of the budget in use", b.used);
	cmd(&s2, "RETR 1\r\n");
	off = s2.sc.len;
	e0 = nev;
	rc = srv(&s2, r.p, r.len);
	t_check(rc == TCP2_EABORT && strstr(s2.sc.p + off, "\r\n.\r\n") ==
	    NULL && s2.sc.len - off <= 5 && ev_has(e0, "error", "too much mail"),
	    "a second one past the budget: reset, nothing reached the client");
	sess_free(&s2);		/* the daemon frees a reset flow */
	off = s1.sc.len;
	rc = srv(&s1, r.p + r.len - 4096, 4096);
	t_check(rc == 0 && s1.sc.len - off > (3u << 20) && b.used == 0,
	    "the first ends, is passed on whole, and gives its share back");
	sess_free(&s1);
	t_check(b.used == 0, "nothing of the budget is left in use");
	free(m);
	b_free(&r);
}

/* Through the rewriter interface, 20 MB. */
static void
test_big(void)
{
	size_t n = 20u * 1024 * 1024;
	char *m = big_message(n, A);
	struct buf enc = { 0 }, r = { 0 }, out = { 0 }, w = { 0 };
	struct tcp2_rw_env env;
	struct tcp2_rw *rw;
	struct timespec t0, t1;
	size_t i, k, maxheld = 0;
	double secs;
	int rc = 0;

	/* Decryption streams when the account holds nothing. */
	set_hold(sb, B, 0);
	rc = encrypt(sa, B, m, n, &enc);
	t_check(rc == 0, "20 MB encrypted (%zu octets)", enc.len);
	b_str(&r, "+OK ready\r\n");
	response(&r, "+OK\r\n", enc.p, enc.len);
	b_free(&enc);
	b_str(&w, "+OK ready\r\n");
	response(&w, "+OK\r\n", m, n);
	memset(&env, 0, sizeof(env));
	env.state = sb;
	env.account = B;
	env.endpoint = "192.0.2.10:110";
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = tcp2_rw_new(&rw, TCP2_PROTO_POP3, &env);
	if (rc == 0)
		rc = tcp2_rw_feed(rw, TCP2_C2S, (const uint8_t *)"RETR 1\r\n",
		    8, put, &out);
	out.len = 0;
	for (i = 0; i < r.len && rc == 0; i += k) {
		k = r.len - i < 1448 ? r.len - i : 1448;
		rc = tcp2_rw_feed(rw, TCP2_S2C, (const uint8_t *)r.p + i, k,
		    put, &out);
		if (tcp2_rw_held(rw, TCP2_S2C) > maxheld)
			maxheld = tcp2_rw_held(rw, TCP2_S2C);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	t_check(rc == 0 && eq(&out, 0, &w), "20 MB decrypted through the "
	    "rewriter in 1448-octet segments, byte for byte");
	t_check(maxheld <= TCP2_RW_MAX_HELD, "held at most %zu", maxheld);
	t_check(secs < 20.0, "in %.2f s", secs);
	tcp2_rw_free(rw);
	set_hold(sb, B, TCP2_HOLD_DEFAULT);
	free(m);
	b_free(&r);
	b_free(&out);
	b_free(&w);
}

int
main(void)
{
	char cmdline[300];

	if (tcp2_crypto_init() != 0 || (root = mkdtemp(tmpl)) == NULL)
		return 1;
	sa = st_open("a", A);
	sb = st_open("b", B);
	sc = st_open("c", C);
	sd = st_open("d", D);
	if (!t_check(sa && sb && sc && sd && exchange(sa, sb, B) == 0,
	    "stores for alice, bob, carol, dave; alice and bob exchanged "
	    "keys"))
		return t_done();
	test_session();
	test_tamper();
	test_resegment();
	test_stls();
	test_registration();
	test_lf();
	test_bounds();
	test_end_mid();
	test_hold();
	test_budget();
	test_big();
	tcp2_state_close(sa);
	tcp2_state_close(sb);
	tcp2_state_close(sc);
	tcp2_state_close(sd);
	snprintf(cmdline, sizeof(cmdline), "rm -rf %s", root);
	if (system(cmdline) != 0)
		t_check(0, "clean up %s", root);
	return t_done();
}
