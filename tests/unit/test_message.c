/*
 * test_message.c - the TCP2 message format: byte-identical round trips,
 * clear-header policy, bounded lag with one-byte feeding, determinism under
 * random re-segmentation, tamper/truncation/reorder detection, signatures.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "crypto.h"
#include "error.h"
#include "harness.h"
#include "message.h"

/* Keys: alice <-> bob pairwise, plus carol's, fixed for the test. */
static uint8_t k_ab[32], k_ac[32], k_other[32];
static uint8_t alice_sec[32], alice_pub[32], mallory_pub[32];
static uint8_t fixed_mk[32], fixed_salt[16];
static int parallel;	/* hash on a second thread (hasher.h) */
static int mixed;	/* writes alternately small and large (sealed in place) */
static int inplace;	/* through tcp2_msg_enc_space/commit, not write */

struct lookup_ctx {
	const char *addr;
	const uint8_t *key;
	const uint8_t *ed_pub;
};

static int
lookup(void *arg, const char *from, struct tcp2_msg_sender *s)
{
	struct lookup_ctx *c = arg;

	if (strcmp(from, "alice@example.org") != 0)
		return TCP2_ENOKEY;
	snprintf(s->addr, sizeof(s->addr), "%s", c->addr);
	memcpy(s->keys[0], c->key, 32);
	s->nkeys = 1;
	memcpy(s->ed_pub, c->ed_pub, 32);
	return 0;
}

/* Encode with fixed keys, feeding pieces of the sizes a PRNG picks
 * (step 0: all at once; step 1: one byte at a time). */
static int
encode(const uint8_t *in, size_t len, struct t_buf *out, unsigned int seed,
    size_t step, size_t *maxheld, int *is_signed)
{
	const uint8_t keys[2][32];
	struct tcp2_msg_enc_params p = { 0 };
	struct tcp2_msg_enc *e;
	size_t off = 0, n, room;
	uint8_t *sp;
	int rc = 0;

	memcpy((void *)keys[0], k_ab, 32);
	memcpy((void *)keys[1], k_ac, 32);
	p.keys = keys;
	p.nkeys = 2;
	p.sign_sec = alice_sec;
	p.sign_addr = "alice@example.org";
	p.fixed_mk = fixed_mk;
	p.fixed_salt = fixed_salt;
	p.parallel = parallel;
	p.out = t_buf_put;
	p.arg = out;
	if ((rc = tcp2_msg_enc_new(&e, &p)) != 0)
		return rc;
	srand(seed);
	while (off < len) {
		n = step ? step : seed ? (size_t)rand() % 3000 + 1 : len - off;
		if (mixed && (off / 3000) % 2)
			n = 300000 + (size_t)rand() % 1000;
		if (n > len - off)
			n = len - off;
		if (inplace) {
			if ((sp = tcp2_msg_enc_space(e, &room)) == NULL) {
				rc = TCP2_ENOMEM;
				break;
			}
			if (n > room)
				n = room;
			memcpy(sp, in + off, n);
			rc = tcp2_msg_enc_commit(e, n);
		} else
			rc = tcp2_msg_enc_write(e, in + off, n);
		if (rc != 0)
			break;
		off += n;
		if (maxheld && tcp2_msg_enc_held(e) > *maxheld)
			*maxheld = tcp2_msg_enc_held(e);
	}
	if (rc == 0)
		rc = tcp2_msg_enc_finish(e);
	if (is_signed)
		*is_signed = tcp2_msg_enc_signed(e);
	tcp2_msg_enc_free(e);
	return rc;
}

static int
decode_ex(const uint8_t *in, size_t len, struct t_buf *out, size_t step,
    size_t *maxheld, enum tcp2_sig_status *st, const uint8_t *key,
    const uint8_t *ed_pub, const char *owner)
{
	struct lookup_ctx c = { owner, key, ed_pub };
	struct tcp2_msg_dec_params p = { 0 };
	struct tcp2_msg_dec *d;
	size_t off = 0, n;
	int rc;

	p.lookup = lookup;
	p.lookup_arg = &c;
	p.parallel = parallel;
	p.out = t_buf_put;
	p.arg = out;
	if ((rc = tcp2_msg_dec_new(&d, &p)) != 0)
		return rc;
	while (off < len) {
		n = step ? step : len - off;
		if (n > len - off)
			n = len - off;
		if ((rc = tcp2_msg_dec_write(d, in + off, n)) != 0)
			break;
		off += n;
		if (maxheld && tcp2_msg_dec_held(d) > *maxheld)
			*maxheld = tcp2_msg_dec_held(d);
	}
	if (rc == 0)
		rc = tcp2_msg_dec_finish(d);
	if (rc == 0 && st)
		*st = tcp2_msg_dec_status(d);
	tcp2_msg_dec_free(d);
	return rc;
}

static int
decode(const uint8_t *in, size_t len, struct t_buf *out,
    enum tcp2_sig_status *st)
{
	return decode_ex(in, len, out, 0, NULL, st, k_ab, alice_pub,
	    "alice@example.org");
}

/* ---- sample messages ---- */

static char *
mk_simple(const char *eol, const char *subject, size_t *len)
{
	char *m = malloc(4096);

	*len = (size_t)snprintf(m, 4096,
	    "From: Alice <alice@example.org>%s"
	    "To: Bob <bob@example.org>%s"
	    "Subject: %s%s"
	    "Date: Tue, 24 Nov 2026 10:00:00 +0000%s"
	    "Message-ID: <1@example.org>%s"
	    "X-Secret-Header: hidden%s"
	    "%s"
	    "Hello Bob,%s.%s..dot line%s%s",
	    eol, eol, subject, eol, eol, eol, eol, eol, eol, eol, eol, eol);
	return m;
}

static uint8_t *
mk_big(size_t attach, size_t *len)
{
	const char *h =
	    "From: =?UTF-8?Q?Al=C3=AFce?= <alice@example.org>\r\n"
	    "To: bob@example.org, carol@example.org\r\n"
	    "Cc: \"Doe, John\" <john@example.org>\r\n"
	    "Subject: =?UTF-8?B?w6l0w6kgc2VjcmV0?= MARKER-SUBJ\r\n"
	    "References: <a@b>\r\n <c@d>\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n"
	    "--outer\r\nContent-Type: multipart/alternative; boundary=\"inner\"\r\n\r\n"
	    "--inner\r\nContent-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n\r\n\xc3\xa9t\xc3\xa9 MARKER-BODY\r\n"
	    "--inner--\r\n--outer\r\nContent-Type: application/octet-stream\r\n"
	    "Content-Transfer-Encoding: binary\r\n\r\n";
	size_t hl = strlen(h), i;
	uint8_t *m = malloc(hl + attach + 64);

	memcpy(m, h, hl);
	srand(7);
	for (i = 0; i < attach; i++) {
		/* NUL-free binary with line ends so lines stay <= 998. */
		m[hl + i] = (uint8_t)(rand() % 255 + 1);
		if (i % 900 == 899)
			m[hl + i] = '\n';
	}
	memcpy(m + hl + attach, "\r\n--outer--\r\n", 13);
	*len = hl + attach + 13;
	return m;
}

/* A message with a base64 attachment of attach random bytes: lines of
 * 76 and CRLF, the last one padded (what pack.h packs). */
static uint8_t *
mk_b64(size_t attach, size_t *len)
{
	const char *h =
	    "From: Alice <alice@example.org>\r\n"
	    "To: bob@example.org\r\n"
	    "Subject: a picture\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
	    "--b\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n"
	    "--b\r\nContent-Type: image/png\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n";
	struct tcp2_b64_enc e;
	size_t hl = strlen(h), i, n;
	uint8_t *raw = malloc(attach + 1), *m;

	m = malloc(hl + TCP2_B64_ENC_BOUND(attach) + 16);
	memcpy(m, h, hl);
	srand(11);
	for (i = 0; i < attach; i++)
		raw[i] = (uint8_t)rand();
	tcp2_b64_enc_init(&e, "\r\n");
	n = hl + tcp2_b64_enc_update(&e, (char *)m + hl, raw, attach);
	n += tcp2_b64_enc_final(&e, (char *)m + n);
	memcpy(m + n, "--b--\r\n", 7);
	*len = n + 7;
	free(raw);
	return m;
}

static void
roundtrip(const char *name, const uint8_t *m, size_t len)
{
	struct t_buf enc = { 0 }, dec = { 0 };
	enum tcp2_sig_status st;
	int rc;

	rc = encode(m, len, &enc, 0, 0, NULL, NULL);
	if (rc == 0)
		rc = decode(enc.p, enc.len, &dec, &st);
	t_check(rc == 0 && dec.len == len && memcmp(dec.p, m, len) == 0,
	    "round trip byte-identical: %s (%zu bytes, rc %d)", name, len, rc);
	t_buf_free(&enc);
	t_buf_free(&dec);
}

static void
test_roundtrips(void)
{
	char line998[1200], *m;
	uint8_t *big;
	size_t len, i;

	m = mk_simple("\r\n", "CRLF", &len);
	roundtrip("CRLF", (uint8_t *)m, len);
	free(m);
	m = mk_simple("\n", "LF", &len);
	roundtrip("LF", (uint8_t *)m, len);
	free(m);
	roundtrip("header only, no line end",
	    (const uint8_t *)"From: alice@example.org", 23);
	roundtrip("header only, no body",
	    (const uint8_t *)"From: alice@example.org\n\n", 25);
	snprintf(line998, sizeof(line998), "From: alice@example.org\r\n\r\n");
	len = strlen(line998);
	memset(line998 + len, 'x', 998);
	memcpy(line998 + len + 998, "\r\n", 3);
	roundtrip("998-octet line", (uint8_t *)line998, len + 1000);
	big = mk_big(20u << 20, &len);
	roundtrip("20 MB binary attachment, nested multipart, RFC 2047", big,
	    len);
	free(big);
	/* Sizes around the chunk boundary and the trailer window. */
	static const size_t sizes[] = { 63, 64, 65, 16383, 16384, 16385,
	    16384 - 65, 16384 - 64, 16384 * 2, 16384 * 2 + 1, 100000 };
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		big = malloc(sizes[i]);
		memset(big, 'a', sizes[i]);
		memcpy(big, "From: alice@example.org\n\n",
		    sizes[i] < 25 ? sizes[i] : 25);
		snprintf(line998, sizeof(line998), "%zu bytes", sizes[i]);
		roundtrip(line998, big, sizes[i]);
		free(big);
	}
}

static void
test_clear_header(void)
{
	struct t_buf enc = { 0 };
	char *m, *hdr_end, *s;
	size_t len;
	int ok;

	m = mk_simple("\r\n", "MARKER-SUBJECT", &len);
	encode((uint8_t *)m, len, &enc, 0, 0, NULL, NULL);
	t_buf_put(&enc, "", 1);
	s = (char *)enc.p;
	hdr_end = strstr(s, "\r\n\r\n");
	t_check(strstr(s, "MARKER-SUBJECT") == NULL &&
	    strstr(s, "Hello Bob") == NULL && strstr(s, "X-Secret") == NULL,
	    "subject, body and other headers do not appear in clear");
	ok = hdr_end != NULL &&
	    strstr(s, "From: Alice <alice@example.org>\r\n") == s &&
	    strstr(s, "To: Bob <bob@example.org>\r\n") < hdr_end &&
	    strstr(s, "Date: Tue, 24 Nov 2026") < hdr_end &&
	    strstr(s, "Message-ID: <1@example.org>") < hdr_end &&
	    strstr(s, "Subject: " TCP2_MSG_SUBJECT "\r\n") < hdr_end &&
	    strstr(s, "Content-Type: multipart/encrypted;") < hdr_end;
	t_check(ok, "clear header keeps From, To, Date, Message-ID, placeholder"
	    " Subject, multipart/encrypted");
	t_check(tcp2_msg_is_encrypted(s, enc.len - 1) &&
	    !tcp2_msg_is_encrypted(m, len), "tcp2_msg_is_encrypted tells them apart");
	free(m);
	t_buf_free(&enc);

	/* A header block longer than the window: kept inside, not lost. */
	size_t n = 40000, off;
	m = malloc(n + 100);
	off = (size_t)sprintf(m, "From: alice@example.org\r\n");
	while (off < n)
		off += (size_t)sprintf(m + off, "X-Long: %0100d\r\n", 0);
	off += (size_t)sprintf(m + off, "Subject: late\r\n\r\nbody\r\n");
	struct t_buf dec = { 0 };
	enc = (struct t_buf){ 0 };
	ok = encode((uint8_t *)m, off, &enc, 0, 0, NULL, NULL) == 0 &&
	    decode(enc.p, enc.len, &dec, NULL) == 0 && dec.len == off &&
	    memcmp(dec.p, m, off) == 0;
	t_buf_put(&enc, "", 1);
	t_check(ok && strstr((char *)enc.p, "From: alice@example.org") ==
	    (char *)enc.p && strstr((char *)enc.p, "late") == NULL,
	    "40 KB header block: fields past the window stay encrypted, all kept");
	free(m);
	t_buf_free(&enc);
	t_buf_free(&dec);
}

static void
test_lag_and_determinism(void)
{
	struct t_buf a = { 0 }, b = { 0 }, d = { 0 };
	size_t len, eh = 0, dh = 0;
	uint8_t *m = mk_big(100000, &len);
	int same = 1, seed, rc;

	encode(m, len, &a, 0, 0, NULL, NULL);
	encode(m, len, &b, 0, 1, &eh, NULL);
	t_check(a.len == b.len && memcmp(a.p, b.p, a.len) == 0,
	    "one-byte feeding gives the same output");
	t_check(eh > 0 && eh <= TCP2_MSG_MAX_LAG,
	    "encoder held at most %zu bytes (bound %d)", eh, TCP2_MSG_MAX_LAG);
	/* Decoded first: dh as an argument of the same call would be read
	 * before the decoding (the order of arguments is unspecified). */
	rc = decode_ex(a.p, a.len, &d, 1, &dh, NULL, k_ab, alice_pub,
	    "alice@example.org");
	t_check(rc == 0 && d.len == len && memcmp(d.p, m, len) == 0 &&
	    dh <= TCP2_MSG_MAX_LAG,
	    "decoder fed one byte at a time: identical, held at most %zu", dh);
	t_buf_free(&b);
	for (seed = 1; seed <= 50; seed++) {
		encode(m, len, &b, (unsigned int)seed, 0, NULL, NULL);
		if (b.len != a.len || memcmp(a.p, b.p, a.len) != 0)
			same = 0;
		b.len = 0;
	}
	t_check(same, "50 random re-segmentations give identical output");
	t_buf_free(&a);
	t_buf_free(&b);
	t_buf_free(&d);
	free(m);

	/* The same with base64 lines, which travel packed (pack.h). */
	m = mk_b64(150000, &len);
	eh = dh = 0;
	encode(m, len, &a, 0, 0, NULL, NULL);
	encode(m, len, &b, 0, 1, &eh, NULL);
	t_check(a.len == b.len && memcmp(a.p, b.p, a.len) == 0,
	    "base64 attachment: one-byte feeding gives the same output");
	t_check(eh > 0 && eh <= TCP2_MSG_MAX_LAG, "base64 attachment: "
	    "encoder held at most %zu bytes (bound %d)", eh, TCP2_MSG_MAX_LAG);
	t_check(a.len < len + len / 20, "base64 attachment: %zu bytes "
	    "encrypted to %zu (packed: not a third more)", len, a.len);
	rc = decode_ex(a.p, a.len, &d, 1, &dh, NULL, k_ab, alice_pub,
	    "alice@example.org");
	t_check(rc == 0 && d.len == len && memcmp(d.p, m, len) == 0 &&
	    dh <= TCP2_MSG_MAX_LAG, "base64 attachment: decoder fed one byte "
	    "at a time: identical, held at most %zu", dh);
	t_buf_free(&b);
	same = 1;
	for (seed = 1; seed <= 20; seed++) {
		encode(m, len, &b, (unsigned int)seed, 0, NULL, NULL);
		if (b.len != a.len || memcmp(a.p, b.p, a.len) != 0)
			same = 0;
		b.len = 0;
	}
	t_check(same, "base64 attachment: 20 random re-segmentations give "
	    "identical output");
	t_buf_free(&a);
	t_buf_free(&b);
	t_buf_free(&d);
	free(m);
}

/* ---- tampering at the level of the binary stream ---- */

struct split {
	size_t b64start, b64end;	/* the base64 body in the message */
	uint8_t *bin;
	size_t binlen;
};

static int
split_msg(const struct t_buf *enc, struct split *s)
{
	const char *p = (const char *)enc->p;
	const char *start, *end;
	struct tcp2_b64_dec d;
	const char *l, *nl;
	long k;

	start = memmem(p, enc->len, "base64\r\n\r\n", 10);
	end = memmem(p, enc->len, "\r\n--=_tcp2_", enc->len);
	if (start == NULL)
		return -1;
	start += 10;
	end = memmem(start, enc->len - (size_t)(start - p), "--=_tcp2_", 9);
	if (end == NULL)
		return -1;
	s->b64start = (size_t)(start - p);
	s->b64end = (size_t)(end - p);
	s->bin = malloc(s->b64end - s->b64start);
	s->binlen = 0;
	tcp2_b64_dec_init(&d);
	for (l = start; l < end; l = nl + 1) {
		nl = memchr(l, '\n', (size_t)(end - l));
		k = tcp2_b64_dec_line(&d, s->bin + s->binlen, l,
		    (size_t)(nl - l) - 1);
		if (k < 0)
			return -1;
		s->binlen += (size_t)k;
	}
	return 0;
}

/* Rebuild the message around a modified binary stream and decode it. */
static int
decode_with(const struct t_buf *enc, const struct split *s, const uint8_t *bin,
    size_t binlen)
{
	struct t_buf m = { 0 }, out = { 0 };
	struct tcp2_b64_enc e;
	char *b64 = malloc(TCP2_B64_ENC_BOUND(binlen) + 8);
	size_t n;
	int rc;

	tcp2_b64_enc_init(&e, "\r\n");
	n = tcp2_b64_enc_update(&e, b64, bin, binlen);
	n += tcp2_b64_enc_final(&e, b64 + n);
	t_buf_put(&m, enc->p, s->b64start);
	t_buf_put(&m, b64, n);
	t_buf_put(&m, enc->p + s->b64end, enc->len - s->b64end);
	rc = decode(m.p, m.len, &out, NULL);
	free(b64);
	t_buf_free(&m);
	t_buf_free(&out);
	return rc;
}

static void
test_tamper(void)
{
	struct t_buf enc = { 0 }, out = { 0 };
	struct split s;
	size_t len, hdr = 24 + 2 * 52, C = 16384 + 16, i, flips = 0, nflip = 0;
	uint8_t *m = mk_big(3 * 16384 + 100, &len), *t;
	int rc;

	encode(m, len, &enc, 0, 0, NULL, NULL);
	if (!t_check(split_msg(&enc, &s) == 0, "find the binary stream"))
		return;
	t_check(s.binlen > hdr + 3 * C, "message has 4 or more chunks");
	t_check(decode_with(&enc, &s, s.bin, s.binlen) == 0,
	    "re-wrapped untouched stream decodes");
	t = malloc(s.binlen + C);
	for (i = 0; i < s.binlen; i += 1 + s.binlen / 97) {
		memcpy(t, s.bin, s.binlen);
		t[i] ^= (uint8_t)(1u << (i % 8));
		rc = decode_with(&enc, &s, t, s.binlen);
		nflip++;
		if (rc == TCP2_EAUTH || rc == TCP2_ENOKEY ||
		    rc == TCP2_EFORMAT || rc == TCP2_EVERSION)
			flips++;
	}
	t_check(flips == nflip, "every flipped bit is rejected: %zu/%zu",
	    flips, nflip);
	/* Drop chunk 1. */
	memcpy(t, s.bin, hdr + C);
	memcpy(t + hdr + C, s.bin + hdr + 2 * C, s.binlen - hdr - 2 * C);
	t_check(decode_with(&enc, &s, t, s.binlen - C) == TCP2_EAUTH,
	    "a dropped chunk is rejected");
	/* Duplicate chunk 1. */
	memcpy(t, s.bin, hdr + 2 * C);
	memcpy(t + hdr + 2 * C, s.bin + hdr + C, s.binlen - hdr - C);
	t_check(decode_with(&enc, &s, t, s.binlen + C) == TCP2_EAUTH,
	    "a duplicated chunk is rejected");
	/* Swap chunks 0 and 1. */
	memcpy(t, s.bin, s.binlen);
	memcpy(t + hdr, s.bin + hdr + C, C);
	memcpy(t + hdr + C, s.bin + hdr, C);
	t_check(decode_with(&enc, &s, t, s.binlen) == TCP2_EAUTH,
	    "reordered chunks are rejected");
	/* Truncate after 3 full chunks. */
	t_check(decode_with(&enc, &s, s.bin, hdr + 3 * C) == TCP2_ETRUNC,
	    "a message cut at a chunk boundary is reported truncated");
	t_check(decode_with(&enc, &s, s.bin, s.binlen - 5) == TCP2_EAUTH,
	    "a message cut inside its last chunk is rejected");
	t_check(decode_with(&enc, &s, s.bin, hdr + 10) == TCP2_ETRUNC,
	    "a message cut inside its first chunk is reported truncated");
	/* Version byte. */
	memcpy(t, s.bin, s.binlen);
	t[4] = 3;
	t_check(decode_with(&enc, &s, t, s.binlen) == TCP2_EVERSION,
	    "an unknown version is reported as such");
	/* Missing close delimiter: truncated MIME. */
	rc = decode(enc.p, s.b64end, &out, NULL);
	t_check(rc == TCP2_ETRUNC, "a message without its close delimiter is "
	    "truncated (rc %d)", rc);
	t_buf_free(&out);
	/* Not a TCP2 message at all. */
	rc = decode((const uint8_t *)"From: a@b\r\n\r\nhi\r\n", 18, &out, NULL);
	t_check(rc == TCP2_EFORMAT, "plain mail is not a TCP2 message");
	t_buf_free(&out);
	free(t);
	free(s.bin);
	free(m);
	t_buf_free(&enc);
}

static void
test_keys_and_signatures(void)
{
	struct t_buf enc = { 0 }, out = { 0 };
	enum tcp2_sig_status st = 99;
	char *m;
	size_t len;
	int sig = 0, rc;

	m = mk_simple("\r\n", "sig", &len);
	encode((uint8_t *)m, len, &enc, 0, 0, NULL, &sig);
	t_check(sig == 1, "From: matches the account: message is signed");
	rc = decode(enc.p, enc.len, &out, &st);
	t_check(rc == 0 && st == TCP2_SIG_VERIFIED, "receiver: verified");
	out.len = 0;
	rc = decode_ex(enc.p, enc.len, &out, 0, NULL, &st, k_ab, mallory_pub,
	    "alice@example.org");
	t_check(rc == 0 && st == TCP2_SIG_FORGED,
	    "signature under another identity key: forged");
	out.len = 0;
	rc = decode_ex(enc.p, enc.len, &out, 0, NULL, &st, k_ac, alice_pub,
	    "alice@example.org");
	t_check(rc == 0, "second recipient's key also opens the message");
	out.len = 0;
	rc = decode_ex(enc.p, enc.len, &out, 0, NULL, &st, k_other, alice_pub,
	    "alice@example.org");
	t_check(rc == TCP2_ENOKEY, "an unrelated key cannot open it");
	out.len = 0;
	/* Key owned by someone else than the inner From: (a peer forging). */
	rc = decode_ex(enc.p, enc.len, &out, 0, NULL, &st, k_ab, alice_pub,
	    "mallory@example.org");
	t_check(rc == 0 && st == TCP2_SIG_FORGED,
	    "From: differs from the key's owner: forged");
	free(m);
	t_buf_free(&enc);
	t_buf_free(&out);

	/* From: another address than the registered one: not signed. */
	const char *other = "From: boss@example.org\r\nTo: bob@example.org\r\n"
	    "\r\nPay now\r\n";
	encode((const uint8_t *)other, strlen(other), &enc, 0, 0, NULL, &sig);
	t_check(sig == 0, "From: is not the account's: message is not signed");
	t_buf_free(&enc);
	const char *two = "From: alice@example.org\r\nFrom: x@example.org\r\n"
	    "\r\nHi\r\n";
	t_check(encode((const uint8_t *)two, strlen(two), &enc, 0, 0, NULL,
	    &sig) == TCP2_ENOFROM && enc.len == 0,
	    "two From: fields: refused before any output");
	t_buf_free(&enc);
	t_check(encode((const uint8_t *)"", 0, &enc, 0, 0, NULL, &sig) ==
	    TCP2_ENOFROM && encode((const uint8_t *)"no header\r\n", 11, &enc,
	    0, 0, NULL, &sig) == TCP2_ENOFROM && enc.len == 0,
	    "no From: at all (empty, headerless): refused before any output");
	t_buf_free(&enc);
	const char *uns = "From: Alice <ALICE@example.org>\r\n\r\nHi\r\n";
	encode((const uint8_t *)uns, strlen(uns), &enc, 0, 0, NULL, &sig);
	t_check(sig == 1, "address comparison ignores case");
	t_buf_free(&enc);
}

/* Input given in place (tcp2_msg_enc_space/commit): the same bytes out
 * as through tcp2_msg_enc_write (a), with the hash inline or on a second
 * thread (then in the hasher's ring), in pieces as large as the room or
 * of random sizes; a commit larger than the room is refused. */
static void
test_inplace(const uint8_t *m, size_t len, const struct t_buf *a)
{
	static const struct { int par; unsigned int seed; const char *what; }
	    v[] = {
		{ 0, 0, "inline hash, pieces the size of the room" },
		{ 0, 7, "inline hash, random pieces" },
		{ 1, 0, "hash thread, pieces the size of the room" },
		{ 1, 9, "hash thread, random pieces" },
	};
	struct tcp2_msg_enc_params p = { 0 };
	struct tcp2_msg_enc *e = NULL;
	struct t_buf b = { 0 };
	size_t i, room = 0, off, n;
	uint8_t *sp;
	int sig = 0, ok;

	inplace = 1;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		parallel = v[i].par;
		t_buf_free(&b);
		encode(m, len, &b, v[i].seed, 0, NULL, &sig);
		t_check(sig && a->len == b.len &&
		    memcmp(a->p, b.p, a->len) == 0,
		    "input in place, %s: identical output, signed", v[i].what);
	}
	inplace = 0;
	parallel = 0;
	/* Past the hasher's threshold, so that the room is the ring's
	 * where two CPUs are allowed. */
	t_buf_free(&b);
	p.keys = (const uint8_t (*)[32])k_ab;
	p.nkeys = 1;
	p.sign_sec = alice_sec;
	p.sign_addr = "alice@example.org";
	p.parallel = 1;
	p.out = t_buf_put;
	p.arg = &b;
	ok = tcp2_msg_enc_new(&e, &p) == 0;
	for (off = 0; ok && off < (256u << 10); off += n) {
		ok = (sp = tcp2_msg_enc_space(e, &room)) != NULL;
		n = ok && room > (32u << 10) ? 32u << 10 : room;
		if (ok) {
			memcpy(sp, m + off, n);
			ok = tcp2_msg_enc_commit(e, n) == 0;
		}
	}
	t_check(ok && tcp2_msg_enc_space(e, &room) != NULL &&
	    tcp2_msg_enc_commit(e, room + 1) == TCP2_EINVAL &&
	    tcp2_msg_enc_commit(e, 1) == TCP2_ENOMEM,
	    "a commit larger than the room is refused, and the space is "
	    "then gone");
	ok = ok && (sp = tcp2_msg_enc_space(e, &room)) != NULL;
	if (ok)
		memcpy(sp, m + off, 100);
	t_check(ok && tcp2_msg_enc_commit(e, 100) == 0 &&
	    tcp2_msg_enc_commit(e, 100) == TCP2_ENOMEM &&
	    tcp2_msg_enc_write(e, m + off + 100, len - off - 100) == 0 &&
	    tcp2_msg_enc_finish(e) == 0 && tcp2_msg_enc_signed(e),
	    "one commit a space: a second is refused, and the encoder goes "
	    "on to a signed message");
	tcp2_msg_enc_free(e);
	t_buf_free(&b);
}

/* Hashing on a second thread changes nothing in the bytes. */
static void
test_parallel(void)
{
	struct t_buf a = { 0 }, b = { 0 }, d = { 0 };
	enum tcp2_sig_status st = TCP2_SIG_FORGED;
	size_t len;
	uint8_t *m = mk_big(12u << 20, &len);
	int sig = 0;

	parallel = 0;
	encode(m, len, &a, 0, 0, NULL, NULL);
	parallel = 1;
	encode(m, len, &b, 3, 0, NULL, &sig);
	t_check(sig && a.len == b.len && memcmp(a.p, b.p, a.len) == 0,
	    "parallel hashing: identical 12 MB output, signed");
	t_check(decode(b.p, b.len, &d, &st) == 0 && d.len == len &&
	    memcmp(d.p, m, len) == 0 && st == TCP2_SIG_VERIFIED,
	    "parallel hashing: decodes byte-identical, verified");
	/* Whole chunks of large writes are sealed where they lie; mixed
	 * with small ones, the output and the hash stay the same. */
	t_buf_free(&b);
	encode(m, len, &b, 0, 1u << 20, NULL, &sig);
	t_check(sig && a.len == b.len && memcmp(a.p, b.p, a.len) == 0,
	    "parallel hashing of 1 MiB writes: identical output");
	t_buf_free(&b);
	mixed = 1;
	encode(m, len, &b, 5, 0, NULL, &sig);
	mixed = 0;
	t_check(sig && a.len == b.len && memcmp(a.p, b.p, a.len) == 0,
	    "parallel hashing of small and large writes mixed: identical output");
	test_inplace(m, len, &a);
	parallel = 0;
	t_buf_free(&a);
	t_buf_free(&b);
	t_buf_free(&d);
	free(m);
}

int
main(void)
{
	uint8_t x[32];

	if (tcp2_crypto_init() != 0)
		return 1;
	tcp2_crypto_random(k_ab, 32);
	tcp2_crypto_random(k_ac, 32);
	tcp2_crypto_random(k_other, 32);
	tcp2_crypto_random(alice_sec, 32);
	tcp2_ed25519_public(alice_pub, alice_sec);
	tcp2_crypto_random(x, 32);
	tcp2_ed25519_public(mallory_pub, x);
	tcp2_crypto_random(fixed_mk, 32);
	tcp2_crypto_random(fixed_salt, 16);
	test_roundtrips();
	test_clear_header();
	test_lag_and_determinism();
	test_tamper();
	test_keys_and_signatures();
	test_parallel();
	return t_done();
}
