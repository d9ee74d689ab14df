/*
 * test_state.c - key exchange and peer states over real stores: block
 * parsing strictness, both sides deriving one key, none -> sent ->
 * established -> verified, changed identities held until accepted,
 * replayed / old / unsolicited / simultaneous exchanges, key rotation
 * (old mail still readable), persistence, fingerprints and codes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "account.h"
#include "crypto.h"
#include "error.h"
#include "harness.h"
#include "keyx.h"
#include "message.h"
#include "state.h"

#define A "alice@example.org"
#define B "bob@example.org"

static char tmpl[] = "/tmp/tcp2-state-XXXXXX";
static char *root;
static uint64_t now = 1795000000;

struct mail {
	char buf[8192];
	size_t len;
};

static struct tcp2_state *
st_open(const char *name, const char *addr)
{
	struct tcp2_state *s = NULL;
	struct tcp2_account a;
	char dir[256];

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

static int
start(struct tcp2_state *s, const char *to, struct mail *m)
{
	return tcp2_state_keyx_start(s, NULL, to, now++, m->buf,
	    sizeof(m->buf), &m->len);
}

static int
recv_kx(struct tcp2_state *s, const struct mail *in, struct mail *out,
    enum tcp2_keyx_result *res)
{
	return tcp2_state_keyx_recv(s, in->buf, in->len, now++, res, out->buf,
	    sizeof(out->buf), &out->len);
}

static const char *
state_of(struct tcp2_state *s, const char *peer)
{
	const struct tcp2_peer *p = tcp2_state_peer(s, tcp2_state_account(s,
	    NULL)->addr, peer);

	return p ? tcp2_peer_state_name(tcp2_peer_state(p)) : "none";
}

/* Output sink into a growing buffer. */
struct buf {
	uint8_t *p;
	size_t len, cap;
};

static int
put(void *arg, const void *d, size_t n)
{
	struct buf *b = arg;

	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2;
		b->p = realloc(b->p, b->cap);
		if (b->p == NULL)
			return TCP2_ENOMEM;
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
	return 0;
}

static int
encrypt(struct tcp2_state *s, const char *to, const char *msg, struct buf *o)
{
	const struct tcp2_account *a = tcp2_state_account(s, NULL);
	uint8_t keys[2][32];
	struct tcp2_msg_enc_params p = { 0 };
	struct tcp2_msg_enc *e;
	size_t nk, bad;
	int rc;

	rc = tcp2_state_message_keys(s, a, &to, 1, keys, &nk, &bad);
	if (rc != 0)
		return rc;
	p.keys = (const uint8_t (*)[32])keys;
	p.nkeys = nk;
	p.sign_sec = a->ed_sec;
	p.sign_addr = a->addr;
	p.out = put;
	p.arg = o;
	if ((rc = tcp2_msg_enc_new(&e, &p)) != 0)
		return rc;
	rc = tcp2_msg_enc_write(e, msg, strlen(msg));
	if (rc == 0)
		rc = tcp2_msg_enc_finish(e);
	tcp2_msg_enc_free(e);
	return rc;
}

static int
decrypt(struct tcp2_state *s, const struct buf *in, struct buf *o,
    enum tcp2_sig_status *st)
{
	struct tcp2_msg_dec_params p = { 0 };
	struct tcp2_msg_dec *d;
	int rc;

	p.lookup = tcp2_state_lookup;
	p.lookup_arg = s;
	p.out = put;
	p.arg = o;
	if ((rc = tcp2_msg_dec_new(&d, &p)) != 0)
		return rc;
	rc = tcp2_msg_dec_write(d, in->p, in->len);
	if (rc == 0)
		rc = tcp2_msg_dec_finish(d);
	if (rc == 0 && st)
		*st = tcp2_msg_dec_status(d);
	tcp2_msg_dec_free(d);
	return rc;
}

static const char msg_ab[] = "From: Alice <alice@example.org>\r\n"
    "To: bob@example.org\r\nSubject: hi\r\n\r\nhello bob\r\n";
static const char msg_ba[] = "From: bob@example.org\r\n"
    "To: alice@example.org\r\nSubject: hi\r\n\r\nhello alice\r\n";

/* Encrypt on one side, decrypt on the other: 1 if identical, verified. */
static int
works(struct tcp2_state *from, struct tcp2_state *to, const char *rcpt,
    const char *msg)
{
	struct buf e = { 0 }, d = { 0 };
	enum tcp2_sig_status st = TCP2_SIG_FORGED;
	int ok;

	ok = encrypt(from, rcpt, msg, &e) == 0 && decrypt(to, &e, &d, &st) ==
	    0 && d.len == strlen(msg) && memcmp(d.p, msg, d.len) == 0 &&
	    st == TCP2_SIG_VERIFIED;
	free(e.p);
	free(d.p);
	return ok;
}

static void
test_parse_strict(void)
{
	struct tcp2_state *s = st_open("parse", A);
	struct tcp2_keyx kx;
	struct mail m;
	char bad[8192], *p;
	size_t i;
	static const struct {
		const char *from, *to, *what;
	} edits[] = {
		{ "Type: init", "Type: init\nType: init", "duplicate field" },
		{ "Type: init", "Type: init\nColour: blue", "unknown field" },
		{ "Version: 1", "Version: 2", "version 2" },
		{ "To: bob@example.org", "To: Bob@example.org", "address not in normal form" },
		{ "To: bob@example.org", "To: eve@example.org", "field changed after signing" },
		{ "Nonce: ", "Nonce: AA", "bad key length" },
		{ "From: alice@example.org\r\nTo", "From: eve@example.org\r\nTo", "mail From: differs from the block" },
	};

	start(s, B, &m);
	m.buf[m.len] = '\0';
	t_check(tcp2_keyx_parse(m.buf, m.len, &kx) == 0 && kx.type ==
	    TCP2_KEYX_INIT && strcmp(kx.from, A) == 0 && strcmp(kx.to, B) == 0,
	    "a key-exchange mail parses");
	t_check(tcp2_keyx_is_keyx_mail(m.buf, m.len),
	    "it carries the fixed Subject");
	/* CRLF -> LF conversion by a server keeps it valid. */
	for (i = 0, p = bad; i < m.len; i++)
		if (m.buf[i] != '\r')
			*p++ = m.buf[i];
	t_check(tcp2_keyx_parse(bad, (size_t)(p - bad), &kx) == 0,
	    "still valid with LF line ends");
	for (i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		/* Edits apply inside the block, the last one to the header. */
		const char *blk = strstr(m.buf, "-----BEGIN");
		const char *at = strstr(i + 1 < sizeof(edits) / sizeof(edits[0]) ?
		    blk : m.buf, edits[i].from);
		size_t pre = (size_t)(at - m.buf), fl = strlen(edits[i].from);
		int rc;

		snprintf(bad, sizeof(bad), "%.*s%s%s", (int)pre, m.buf,
		    edits[i].to, at + fl);
		rc = tcp2_keyx_parse(bad, strlen(bad), &kx);
		t_check(at != NULL && rc != 0, "rejected: %s (rc %d)",
		    edits[i].what, rc);
	}
	t_check(tcp2_keyx_parse("From: a@b\r\n\r\nhi\r\n", 17, &kx) ==
	    TCP2_ENOENT, "a mail without a block: no key exchange");
	tcp2_state_close(s);
}

static void
test_exchange(void)
{
	struct tcp2_state *a = st_open("a", A), *b = st_open("b", B);
	struct mail m1, m2, m3, old;
	enum tcp2_keyx_result r1 = 99, r2 = 99, r;
	struct buf e = { 0 }, d = { 0 };
	char ca[TCP2_CODE_LEN], cb[TCP2_CODE_LEN];
	const struct tcp2_account *aa, *ba;
	const struct tcp2_peer *pa, *pb;

	t_check(strcmp(state_of(a, B), "none") == 0, "before: none");
	t_check(start(a, B, &m1) == 0 && strcmp(state_of(a, B), "sent") == 0,
	    "after keyx-start: sent");
	t_check(encrypt(a, B, msg_ab, &e) == TCP2_ENOKEY,
	    "no encryption while only sent");
	t_check(recv_kx(b, &m1, &m2, &r1) == 0 && r1 == TCP2_KX_REPLIED &&
	    m2.len > 0 && strcmp(state_of(b, A), "established") == 0,
	    "receiver answers and is established");
	t_check(recv_kx(a, &m2, &m3, &r2) == 0 && r2 == TCP2_KX_ESTABLISHED &&
	    m3.len == 0 && strcmp(state_of(a, B), "established") == 0,
	    "initiator takes the reply: established, nothing more to send");
	t_check(works(a, b, B, msg_ab) && works(b, a, A, msg_ba),
	    "both sides derived the same key: mail both ways, verified");

	aa = tcp2_state_account(a, NULL);
	ba = tcp2_state_account(b, NULL);
	pa = tcp2_state_peer(a, A, B);
	pb = tcp2_state_peer(b, B, A);
	tcp2_comparison_code(aa->ed_pub, aa->x_pub, pa->ed_pub, pa->x_pub, ca);
	tcp2_comparison_code(ba->ed_pub, ba->x_pub, pb->ed_pub, pb->x_pub, cb);
	t_check(strcmp(ca, cb) == 0 && strlen(ca) == 14,
	    "comparison code is the same on both sides: %s", ca);

	/* Replays and strays do no harm. */
	t_check(recv_kx(b, &m1, &m3, &r) == 0 && r == TCP2_KX_REPLAY &&
	    m3.len == 0, "the same request again: replay, no reply");
	t_check(recv_kx(a, &m2, &m3, &r) == 0 && r == TCP2_KX_REPLAY,
	    "the same reply again: replay");
	t_check(recv_kx(a, &m1, &m3, &r) == TCP2_ENOENT && m3.len == 0,
	    "our own request coming back: not for an account here");
	t_check(works(a, b, B, msg_ab), "keys unchanged by the strays");

	t_check(tcp2_state_peer_verify(a, A, B) == 0 &&
	    strcmp(state_of(a, B), "verified") == 0, "peer verify: verified");

	/* Rotation: a new exchange gives a new key; old mail stays readable. */
	free(e.p);
	e = (struct buf){ 0 };
	encrypt(a, B, msg_ab, &e);
	old = m1;
	start(a, B, &m1);
	recv_kx(b, &m1, &m2, &r1);
	recv_kx(a, &m2, &m3, &r2);
	t_check(r1 == TCP2_KX_REPLIED && r2 == TCP2_KX_ESTABLISHED &&
	    tcp2_state_peer(a, A, B)->nkeys == 2, "rotation: a second key");
	t_check(strcmp(state_of(a, B), "verified") == 0,
	    "same identity: still verified after rotation");
	t_check(decrypt(b, &e, &d, NULL) == 0 && d.len == strlen(msg_ab),
	    "mail encrypted before the rotation still decrypts");
	t_check(works(a, b, B, msg_ab), "new key works");
	t_check(recv_kx(b, &old, &m3, &r) == 0 && r == TCP2_KX_REPLAY,
	    "the first, older request replayed after rotation: ignored");

	/* Persistence. */
	tcp2_state_close(a);
	a = st_open("a", NULL);
	t_check(a != NULL && strcmp(state_of(a, B), "verified") == 0 &&
	    works(a, b, B, msg_ab), "state survives close and reopen");

	/* Identity change: bob reinstalls. */
	struct tcp2_state *b2 = st_open("b2", B);
	start(b2, A, &m1);
	t_check(recv_kx(a, &m1, &m2, &r) == 0 && r == TCP2_KX_CHANGED &&
	    m2.len == 0 && strcmp(state_of(a, B), "changed") == 0,
	    "another identity for bob: changed, no reply");
	t_check(encrypt(a, B, msg_ab, &e) == TCP2_ESTATE,
	    "nothing is encrypted to a changed peer");
	t_check(tcp2_state_peer_verify(a, A, B) == TCP2_ESTATE,
	    "a changed peer cannot be marked verified");
	t_check(tcp2_state_peer_reject(a, A, B) == 0 &&
	    strcmp(state_of(a, B), "verified") == 0 && works(a, b, B, msg_ab),
	    "reject: the old identity and key stay");
	t_check(recv_kx(a, &m1, &m2, &r) == 0 && r == TCP2_KX_REPLAY,
	    "the rejected request again: replay, stays rejected");
	start(b2, A, &m1);
	recv_kx(a, &m1, &m2, &r);
	t_check(r == TCP2_KX_CHANGED, "a fresh request: changed again");
	t_check(tcp2_state_peer_accept(a, A, B, now++, &r, m2.buf,
	    sizeof(m2.buf), &m2.len) == 0 && r == TCP2_KX_REPLIED && m2.len > 0,
	    "accept: the held request is answered");
	t_check(recv_kx(b2, &m2, &m3, &r) == 0 && r == TCP2_KX_ESTABLISHED &&
	    works(a, b2, B, msg_ab) && strcmp(state_of(a, B), "established") == 0,
	    "the new identity works, not verified");
	t_check(!works(a, b, B, msg_ab), "the old identity cannot read it");

	t_check(tcp2_state_peer_forget(a, A, B) == 0 &&
	    strcmp(state_of(a, B), "none") == 0, "forget: none");

	free(e.p);
	free(d.p);
	tcp2_state_close(a);
	tcp2_state_close(b);
	tcp2_state_close(b2);
}

static void
test_strays(void)
{
	struct tcp2_state *a = st_open("sa", A), *b = st_open("sb", B);
	struct tcp2_state *c = st_open("sc", "carol@example.org");
	struct mail ma, mb, ra, rb, x;
	enum tcp2_keyx_result r, r1, r2;

	/* An unsolicited reply: nothing created. */
	start(a, B, &ma);
	recv_kx(b, &ma, &rb, &r);
	t_check(recv_kx(c, &rb, &x, &r) == TCP2_ENOENT,
	    "a reply for another account: not ours");
	tcp2_state_peer_forget(a, A, B);
	t_check(recv_kx(a, &rb, &x, &r) == 0 && r == TCP2_KX_UNSOLICITED &&
	    tcp2_state_peer(a, A, B) == NULL,
	    "a reply to a forgotten request: unsolicited, nothing created");

	/* Simultaneous requests: one exchange survives on both sides. */
	struct tcp2_state *d = st_open("sd", "dave@example.org");
	struct tcp2_state *e = st_open("se", "erin@example.org");
	start(d, "erin@example.org", &ma);
	start(e, "dave@example.org", &mb);
	recv_kx(e, &ma, &ra, &r1);
	recv_kx(d, &mb, &rb, &r2);
	t_check((r1 == TCP2_KX_REPLIED) != (r2 == TCP2_KX_REPLIED) &&
	    (r1 == TCP2_KX_SIMULTANEOUS || r2 == TCP2_KX_SIMULTANEOUS),
	    "both started: exactly one side answers");
	if (r1 == TCP2_KX_REPLIED)
		recv_kx(d, &ra, &x, &r);
	else
		recv_kx(e, &rb, &x, &r);
	t_check(r == TCP2_KX_ESTABLISHED && works(d, e, "erin@example.org",
	    "From: dave@example.org\r\n\r\nx\r\n"),
	    "and both end with the same key");

	/* Old: an init older than the last accepted exchange. */
	struct mail first;
	now += 10;
	start(a, "carol@example.org", &first);
	start(a, "carol@example.org", &ma);
	recv_kx(c, &ma, &ra, &r);
	t_check(r == TCP2_KX_REPLIED, "newer request answered");
	t_check(recv_kx(c, &first, &x, &r) == 0 && r == TCP2_KX_OLD &&
	    x.len == 0, "an older request arriving late: ignored as old");

	tcp2_state_close(a);
	tcp2_state_close(b);
	tcp2_state_close(c);
	tcp2_state_close(d);
	tcp2_state_close(e);
}

/* The live flow: both users send "TCP2 key exchange" mails; the second
 * one carries the reply that was due. */
static void
test_outgoing(void)
{
	struct tcp2_state *a = st_open("oa", A), *b = st_open("ob", B);
	struct mail blk, m2, x;
	enum tcp2_keyx_result r;
	int is_reply = -1;
	size_t n;

	n = (size_t)snprintf(blk.buf, sizeof(blk.buf), "From: %s\r\n\r\n", A);
	t_check(tcp2_state_keyx_outgoing(a, NULL, B, now++, "\r\n",
	    blk.buf + n, sizeof(blk.buf) - n, &blk.len, &is_reply) == 0 &&
	    is_reply == 0 && strcmp(state_of(a, B), "sent") == 0,
	    "first outgoing key-exchange mail carries a request");
	blk.len += n;
	t_check(recv_kx(b, &blk, &x, &r) == 0 && r == TCP2_KX_REPLIED &&
	    tcp2_state_peer(b, B, A)->reply_due, "receiver: reply due");
	n = (size_t)snprintf(m2.buf, sizeof(m2.buf), "From: %s\r\n\r\n", B);
	t_check(tcp2_state_keyx_outgoing(b, NULL, A, now++, "\r\n",
	    m2.buf + n, sizeof(m2.buf) - n, &m2.len, &is_reply) == 0 &&
	    is_reply == 1 && !tcp2_state_peer(b, B, A)->reply_due,
	    "receiver's own key-exchange mail carries the reply");
	m2.len += n;
	t_check(recv_kx(a, &m2, &x, &r) == 0 && r == TCP2_KX_ESTABLISHED &&
	    works(a, b, B, msg_ab) && works(b, a, A, msg_ba),
	    "both established with one key");
	tcp2_state_close(a);
	tcp2_state_close(b);
}

static void
test_self_and_fingerprint(void)
{
	struct tcp2_state *a = st_open("self", A);
	const struct tcp2_account *acc = tcp2_state_account(a, NULL);
	struct buf e = { 0 }, d = { 0 };
	enum tcp2_sig_status st;
	char f1[TCP2_FPR_LEN], f2[TCP2_FPR_LEN];

	t_check(encrypt(a, A, msg_ab, &e) == 0 && decrypt(a, &e, &d, &st) ==
	    0 && d.len == strlen(msg_ab) && st == TCP2_SIG_VERIFIED,
	    "mail to oneself: the self key, verified");
	tcp2_fingerprint(acc->ed_pub, acc->x_pub, f1);
	tcp2_fingerprint(acc->ed_pub, acc->x_pub, f2);
	t_check(strlen(f1) == 49 && strcmp(f1, f2) == 0 && f1[4] == ' ',
	    "fingerprint: 10 groups of 4 hex digits: %s", f1);
	t_check(tcp2_state_account_add(a, acc) == TCP2_EEXIST,
	    "an account cannot be added twice");
	free(e.p);
	free(d.p);
	tcp2_state_close(a);
}

int
main(void)
{
	char cmd[300];

	if (tcp2_crypto_init() != 0 || (root = mkdtemp(tmpl)) == NULL)
		return 1;
	test_parse_strict();
	test_exchange();
	test_strays();
	test_outgoing();
	test_self_and_fingerprint();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	if (system(cmd) != 0)
		t_check(0, "clean up %s", root);
	return t_done();
}
