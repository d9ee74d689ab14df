/*
 * test_plainsig.c - plaintext signatures (plainsig.h): sign then verify
 * restores the exact bytes and says verified, also after servers prepend
 * trace fields and under one-byte feeding; tampering is forged; a From:
 * that is not the account's is not signed; a message without a final line
 * end (n=1); a multipart message (the line lands in the epilogue); an
 * unknown signer; the verifier's held bound.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "error.h"
#include "harness.h"
#include "plainsig.h"

#define ALICE "alice@example.org"
#define PREFIX "TCP2-Signature: v=1; f=" ALICE "; n=0; s="

static uint8_t alice_sec[32], alice_pub[32], other_pub[32];
static int lookup_other;

static int
lookup(void *arg, const char *from, struct tcp2_msg_sender *s)
{
	(void)arg;
	if (strcmp(from, ALICE) != 0)
		return TCP2_ENOKEY;
	snprintf(s->addr, sizeof(s->addr), "%s", from);
	memcpy(s->ed_pub, lookup_other ? other_pub : alice_pub, 32);
	s->nkeys = 0;
	return 0;
}

static int
sign(const char *msg, size_t len, const char *addr, struct t_buf *o,
    int *sgn)
{
	struct tcp2_psig_signer *s;
	int rc;

	*sgn = -1;
	if ((rc = tcp2_psig_signer_new(&s, alice_sec, addr, t_buf_put, o)) != 0)
		return rc;
	rc = tcp2_psig_signer_write(s, msg, len);
	if (rc == 0)
		rc = tcp2_psig_signer_finish(s, sgn);
	tcp2_psig_signer_free(s);
	return rc;
}

/* Verify, fed in pieces of step bytes (0: all at once). */
static int
verify(const uint8_t *in, size_t len, size_t step, struct t_buf *o,
    enum tcp2_sig_status *st, int *was, size_t *maxheld)
{
	struct tcp2_psig_verifier *v;
	size_t off = 0, n, h;
	int rc;

	*maxheld = 0;
	if ((rc = tcp2_psig_verifier_new(&v, lookup, NULL, t_buf_put, o)) != 0)
		return rc;
	while (rc == 0 && off < len) {
		n = step ? step : len;
		if (n > len - off)
			n = len - off;
		rc = tcp2_psig_verifier_write(v, in + off, n);
		off += n;
		h = tcp2_psig_verifier_held(v);
		if (h > *maxheld)
			*maxheld = h;
	}
	if (rc == 0)
		rc = tcp2_psig_verifier_finish(v, st, was);
	tcp2_psig_verifier_free(v);
	return rc;
}

static const char msg[] =
    "From: Alice <alice@example.org>\r\n"
    "To: carol@example.org\r\n"
    "Subject: plain but signed\r\n"
    "\r\n"
    "Hello Carol,\r\n"
    ".\r\n"
    "a line with a dot above\r\n";

static int
same(const struct t_buf *b, const void *p, size_t n)
{
	return b->len == n && memcmp(b->p, p, n) == 0;
}

static void
test_round_trip(void)
{
	struct t_buf sg = { 0 }, o = { 0 }, t = { 0 };
	enum tcp2_sig_status st = TCP2_SIG_FORGED;
	static const size_t steps[] = { 0, 1, 7, 100 };
	size_t i, mh;
	int sgn, was = 0, ok;
	static const char trace[] = "Return-Path: <alice@example.org>\r\n"
	    "Delivered-To: carol@example.org\r\n"
	    "Received: from client.example.org (client [192.0.2.7])\r\n"
	    "\tby mx.example.org (Postfix) with ESMTP id 4711\r\n";

	t_check(sign(msg, strlen(msg), ALICE, &sg, &sgn) == 0 && sgn == 1,
	    "the account's own From: is signed");
	t_check(sg.len > strlen(msg) && memcmp(sg.p, msg, strlen(msg)) == 0 &&
	    memcmp(sg.p + strlen(msg), PREFIX, strlen(PREFIX)) == 0 &&
	    sg.p[sg.len - 2] == '\r' && sg.p[sg.len - 1] == '\n',
	    "the message passes unchanged, then one signature line");
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		o.len = 0;
		ok = verify(sg.p, sg.len, steps[i], &o, &st, &was, &mh) == 0 &&
		    same(&o, msg, strlen(msg)) && st == TCP2_SIG_VERIFIED &&
		    was == 1;
		t_check(ok, "verified and stripped byte-identical, fed %zu at "
		    "a time (held at most %zu)", steps[i], mh);
	}
	/* Servers prepend trace fields; they are not signed. */
	t_buf_put(&t, trace, strlen(trace));
	t_buf_put(&t, sg.p, sg.len);
	o.len = 0;
	t_check(verify(t.p, t.len, 3, &o, &st, &was, &mh) == 0 &&
	    o.len == strlen(trace) + strlen(msg) &&
	    memcmp(o.p + strlen(trace), msg, strlen(msg)) == 0 &&
	    st == TCP2_SIG_VERIFIED, "verified after servers added "
	    "Return-Path, Delivered-To, Received");
	/* The identity key of someone else. */
	lookup_other = 1;
	o.len = 0;
	t_check(verify(sg.p, sg.len, 0, &o, &st, &was, &mh) == 0 &&
	    st == TCP2_SIG_FORGED && was == 1,
	    "a key that is not the signer's: forged");
	lookup_other = 0;
	free(sg.p);
	free(o.p);
	free(t.p);
}

static void
test_tamper(void)
{
	struct t_buf sg = { 0 }, o = { 0 };
	enum tcp2_sig_status st;
	size_t mh, at;
	int sgn, was;
	char *p;

	sign(msg, strlen(msg), ALICE, &sg, &sgn);
	p = memchr(sg.p, 'H', sg.len);
	at = (size_t)(p - (char *)sg.p);
	sg.p[at] = 'J';
	t_check(verify(sg.p, sg.len, 0, &o, &st, &was, &mh) == 0 &&
	    st == TCP2_SIG_FORGED && was == 1, "a changed body: forged");
	sg.p[at] = 'H';
	/* Another From: in the header, same signature line. */
	o.len = 0;
	p = strstr((char *)sg.p, "Alice <alice");
	memcpy(p, "Mal <mallory@example.org>\r\nX:", 29);
	t_check(verify(sg.p, sg.len, 0, &o, &st, &was, &mh) == 0 &&
	    st == TCP2_SIG_FORGED, "From: no longer the signer: forged");
	free(sg.p);
	free(o.p);
}

static void
test_not_signed(void)
{
	struct t_buf sg = { 0 }, o = { 0 };
	enum tcp2_sig_status st = TCP2_SIG_FORGED;
	static const char other[] = "From: bob@example.org\r\n"
	    "To: carol@example.org\r\n\r\nhi\r\n";
	static const char two[] = "From: alice@example.org\r\n"
	    "From: alice@example.org\r\n\r\nhi\r\n";
	size_t mh;
	int sgn, was = 1;

	t_check(sign(other, strlen(other), ALICE, &sg, &sgn) == 0 &&
	    sgn == 0 && same(&sg, other, strlen(other)),
	    "From: not the account: passed unchanged, not signed");
	t_check(verify(sg.p, sg.len, 0, &o, &st, &was, &mh) == 0 &&
	    st == TCP2_SIG_UNVERIFIED && was == 0 &&
	    same(&o, other, strlen(other)), "no line: unverified, unchanged");
	sg.len = 0;
	t_check(sign(two, strlen(two), ALICE, &sg, &sgn) == 0 && sgn == 0,
	    "two From: fields: not signed");
	free(sg.p);
	free(o.p);
}

static void
test_no_final_eol(void)
{
	struct t_buf sg = { 0 }, o = { 0 };
	enum tcp2_sig_status st = TCP2_SIG_FORGED;
	static const char m1[] = "From: alice@example.org\r\n\r\nno end";
	static const char m2[] = "From: alice@example.org\n\nLF only\n";
	size_t mh;
	int sgn, was = 0;

	t_check(sign(m1, strlen(m1), ALICE, &sg, &sgn) == 0 && sgn == 1 &&
	    strstr((char *)sg.p, "no end\r\nTCP2-Signature") != NULL &&
	    strstr((char *)sg.p, "; n=1; ") != NULL,
	    "no final line end: the signer adds one, n=1");
	t_check(verify(sg.p, sg.len, 1, &o, &st, &was, &mh) == 0 &&
	    same(&o, m1, strlen(m1)) && st == TCP2_SIG_VERIFIED,
	    "the added line end is removed again: byte-identical, verified");
	sg.len = o.len = 0;
	t_check(sign(m2, strlen(m2), ALICE, &sg, &sgn) == 0 && sgn == 1 &&
	    sg.p[sg.len - 1] == '\n' && sg.p[sg.len - 2] != '\r',
	    "LF message: the line ends with LF");
	t_check(verify(sg.p, sg.len, 0, &o, &st, &was, &mh) == 0 &&
	    same(&o, m2, strlen(m2)) && st == TCP2_SIG_VERIFIED,
	    "LF message verifies");
	free(sg.p);
	free(o.p);
}

static void
test_multipart_and_unknown(void)
{
	struct t_buf sg = { 0 }, o = { 0 };
	enum tcp2_sig_status st = TCP2_SIG_FORGED;
	static const char mp[] = "From: alice@example.org\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
	    "preamble\r\n--b1\r\nContent-Type: text/plain\r\n\r\nbody\r\n"
	    "--b1--\r\n";
	static const char unk[] = "From: zoe@example.org\r\n\r\nhi\r\n";
	struct tcp2_psig_signer *s;
	size_t mh;
	int sgn, was = 0;
	char *end;

	sign(mp, strlen(mp), ALICE, &sg, &sgn);
	end = strstr((char *)sg.p, "--b1--\r\n");
	t_check(sgn == 1 && end != NULL && strncmp(end + 8, "TCP2-Signature:",
	    15) == 0, "multipart: the line follows the closing boundary "
	    "(epilogue)");
	t_check(verify(sg.p, sg.len, 5, &o, &st, &was, &mh) == 0 &&
	    same(&o, mp, strlen(mp)) && st == TCP2_SIG_VERIFIED,
	    "multipart verifies, byte-identical");
	/* A signer the receiver has no key for: stripped, unverified. */
	sg.len = o.len = 0;
	tcp2_psig_signer_new(&s, alice_sec, "zoe@example.org", t_buf_put, &sg);
	tcp2_psig_signer_write(s, unk, strlen(unk));
	tcp2_psig_signer_finish(s, &sgn);
	tcp2_psig_signer_free(s);
	t_check(verify(sg.p, sg.len, 0, &o, &st, &was, &mh) == 0 &&
	    sgn == 1 && was == 1 && st == TCP2_SIG_UNVERIFIED &&
	    same(&o, unk, strlen(unk)),
	    "unknown signer: stripped, unverified");
	free(sg.p);
	free(o.p);
}

static void
test_held_bound(void)
{
	struct t_buf sg = { 0 }, o = { 0 };
	enum tcp2_sig_status st = TCP2_SIG_FORGED;
	size_t n = 0, mh, i;
	char *m = malloc(200000);
	int sgn, was, ok;

	n += (size_t)sprintf(m, "From: alice@example.org\r\n\r\n");
	for (i = 0; i < 3; i++) {	/* long lines flow through */
		memset(m + n, 'a' + (int)i, 60000);
		n += 60000;
		m[n++] = i == 1 ? '\r' : 'x';
		m[n++] = '\n';
	}
	memcpy(m + n, "\r\r\n", 3);
	n += 3;
	sign(m, n, ALICE, &sg, &sgn);
	ok = verify(sg.p, sg.len, 1, &o, &st, &was, &mh) == 0 &&
	    same(&o, m, n) && st == TCP2_SIG_VERIFIED &&
	    mh <= TCP2_PSIG_LINE_MAX + 2 && mh > 0;
	t_check(ok, "one byte at a time through "
	    "60000-octet lines: verified, held at most %zu <= %d", mh,
	    TCP2_PSIG_LINE_MAX + 2);
	o.len = 0;
	t_check(verify((const uint8_t *)m, n, 4096, &o, &st, &was, &mh) ==
	    0 && same(&o, m, n) && was == 0, "unsigned long message: "
	    "unchanged");
	free(m);
	free(sg.p);
	free(o.p);
}

int
main(void)
{
	if (tcp2_crypto_init() != 0)
		return 1;
	tcp2_crypto_random(alice_sec, 32);
	tcp2_ed25519_public(alice_pub, alice_sec);
	{
		uint8_t o[32];

		tcp2_crypto_random(o, 32);
		tcp2_ed25519_public(other_pub, o);
	}
	test_round_trip();
	test_tamper();
	test_not_signed();
	test_no_final_eol();
	test_multipart_and_unknown();
	test_held_bound();
	return t_done();
}
