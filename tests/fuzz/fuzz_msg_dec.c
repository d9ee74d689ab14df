/*
 * fuzz_msg_dec.c - libFuzzer target for the streaming TCP2 message
 * decoder (tcp2_msg_dec_*, message.h).
 *
 * Input: an option byte, four piece-size bytes, then the rest.  Bit 0 of
 * the option byte selects the mode:
 *
 * 0, raw: the rest is a message, written to the decoder in pieces of the
 *    four sizes (cycled), then finished.  The key lookup answers any
 *    address with the fixed key below, so an input with a valid wrap for
 *    it (the seeds: gen_corpus.c) gets into the chunk stream.
 *    Asserts: no crash, no leak, every result is 0 or a TCP2_E* code,
 *    tcp2_msg_dec_held() never exceeds TCP2_MSG_MAX_LAG.
 *
 * 1, tamper: the rest is a list of edits (xor, insert, delete, duplicate
 *    at positions; the first 32 count) applied to one of a few valid
 *    messages that tcp2_msg_enc_* made at start-up with the same fixed
 *    keys; bits 1-2 of the option byte pick which.  Asserts,
 *    besides the above: the plaintext that reaches the sink is always a
 *    prefix of the original (a chunk is released only once authentic), a
 *    decode that succeeds gives the original byte for byte, and its
 *    signature status never claims more than the original had.
 *
 * gen_corpus.c includes this file to share the keys and the originals.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "error.h"
#include "message.h"

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define CHECK(c) do {							\
	if (!(c)) {							\
		fprintf(stderr, "%s:%d: ASSERT %s\n", __FILE__,		\
		    __LINE__, #c);					\
		abort();						\
	}								\
} while (0)

#define FZ_HDR		5		/* option byte, four sizes */
#define FZ_OP_LEN	5		/* op, 24-bit position, value */
#define FZ_MUT_MAX	(256u << 10)	/* bound on a tampered message */
#define FZ_EDITS_MAX	32		/* more only cost time */
#define FZ_OPT_TAMPER	0x01
#define FZ_OPT_TRACE	0x02		/* raw: TCP2_DEC_KEEP_TRACE */
#define FZ_OPT_DECOY	0x04		/* raw: a wrong key tried first */
#define FZ_FROM		"alice@example.org"

/* The fixed keys: the seeds in tests/fuzz/corpus/msg_dec/ depend on
 * them, so changing one means running gen_corpus again. */
static uint8_t fz_key[TCP2_MSG_KEY_LEN];
static uint8_t fz_decoy[TCP2_MSG_KEY_LEN];
static uint8_t fz_mk[TCP2_MSG_KEY_LEN];
static uint8_t fz_salt[TCP2_MSG_SALT_LEN];
static uint8_t fz_ed_sec[32], fz_ed_pub[32];

struct fz_buf {
	uint8_t *p;
	size_t len;
};

/* The originals of the tamper mode: plaintext and its encoding. */
struct fz_orig {
	struct fz_buf plain, enc;
	int sign;
};
#define FZ_NORIG 4
static struct fz_orig fz_orig[FZ_NORIG];

static void
fz_buf_add(struct fz_buf *b, const void *p, size_t n)
{
	if (n == 0)
		return;
	b->p = realloc(b->p, b->len + n);
	CHECK(b->p != NULL);
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static int
fz_buf_out(void *arg, const void *p, size_t n)
{
	fz_buf_add(arg, p, n);
	return 0;
}

/* Encode plain with the fixed keys; signed with ed_sec when From: is
 * FZ_FROM and sign is set. */
static void
fz_encode(const uint8_t *plain, size_t len, int sign, const uint8_t *ed_sec,
    struct fz_buf *out)
{
	const uint8_t (*keys)[TCP2_MSG_KEY_LEN] =
	    (const uint8_t (*)[TCP2_MSG_KEY_LEN])fz_key;
	struct tcp2_msg_enc_params p = { 0 };
	struct tcp2_msg_enc *e;

	p.keys = keys;
	p.nkeys = 1;
	p.sign_sec = ed_sec;
	p.sign_addr = sign ? FZ_FROM : "nobody@example.org";
	p.fixed_mk = fz_mk;
	p.fixed_salt = fz_salt;
	p.out = fz_buf_out;
	p.arg = out;
	CHECK(tcp2_msg_enc_new(&e, &p) == 0);
	CHECK(tcp2_msg_enc_write(e, plain, len) == 0);
	CHECK(tcp2_msg_enc_finish(e) == 0);
	CHECK(tcp2_msg_enc_signed(e) == sign);
	tcp2_msg_enc_free(e);
}

static void
fz_orig_make(struct fz_orig *o, const char *text, size_t pad, int sign)
{
	size_t i;

	fz_buf_add(&o->plain, text, strlen(text));
	/* Printable filler with line ends, to span chunks. */
	for (i = 0; i < pad; i++)
		fz_buf_add(&o->plain, i % 72 == 71 ? "\n" :
		    &"abcdefghijklmnopqrstuvwxyz0123456789"[i * 7 % 36], 1);
	o->sign = sign;
	fz_encode(o->plain.p, o->plain.len, sign, fz_ed_sec, &o->enc);
}

static void
fz_setup(void)
{
	size_t i;

	CHECK(tcp2_crypto_init() == 0);
	for (i = 0; i < TCP2_MSG_KEY_LEN; i++) {
		fz_key[i] = (uint8_t)(0x40 + i);
		fz_decoy[i] = (uint8_t)(0xa0 + i);
		fz_mk[i] = (uint8_t)(0x11 * (i + 1));
		fz_ed_sec[i] = (uint8_t)(0x7f - i);
	}
	for (i = 0; i < TCP2_MSG_SALT_LEN; i++)
		fz_salt[i] = (uint8_t)(0xc0 + i);
	CHECK(tcp2_ed25519_public(fz_ed_pub, fz_ed_sec) == 0);

	fz_orig_make(&fz_orig[0],
	    "From: Alice <alice@example.org>\n"
	    "To: Bob <bob@example.org>\n"
	    "Subject: lunch\n"
	    "Date: Tue, 24 Nov 2026 10:00:00 +0000\n"
	    "Message-ID: <1@example.org>\n"
	    "\n"
	    "Noon at the usual place?\n", 0, 1);
	fz_orig_make(&fz_orig[1],
	    "From: alice@example.org (Alice)\r\n"
	    "To: bob@example.org,\r\n carol@example.org\r\n"
	    "Subject: minutes\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "\r\n"
	    "Unsigned, CRLF.\r\n", 300, 0);
	/* Two chunks: drop, reorder and truncation have something to do. */
	fz_orig_make(&fz_orig[2],
	    "From: <alice@example.org>\n"
	    "To: bob@example.org\n"
	    "Subject: report\n"
	    "\n", TCP2_MSG_CHUNK + 1000, 1);
	/* A last chunk shorter than the trailer window. */
	fz_orig_make(&fz_orig[3],
	    "From: alice@example.org\n"
	    "\n", TCP2_MSG_CHUNK - 25 + 10, 0);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_setup();
	return 0;
}

/* A piece size from one input byte: 1..128, or 256..32768 in steps. */
static size_t
fz_piece(uint8_t b)
{
	return b < 0x80 ? (size_t)b + 1 : (size_t)(b & 0x7f) * 256 + 256;
}

static int
fz_lookup(void *arg, const char *from, struct tcp2_msg_sender *s)
{
	unsigned int opt = *(const unsigned int *)arg;
	const char *nul = memchr(from, '\0', TCP2_ADDR_MAX);
	size_t k = 0;

	/* The decoder asks for a normalised From: address. */
	CHECK(nul != NULL && nul != from);
	CHECK(memchr(from, '@', (size_t)(nul - from)) != NULL);
	memcpy(s->addr, from, (size_t)(nul - from) + 1);
	if (opt & FZ_OPT_DECOY)
		memcpy(s->keys[k++], fz_decoy, TCP2_MSG_KEY_LEN);
	memcpy(s->keys[k++], fz_key, TCP2_MSG_KEY_LEN);
	s->nkeys = k;
	memcpy(s->ed_pub, fz_ed_pub, sizeof(s->ed_pub));
	return 0;
}

/* The tamper mode's sink: what comes out must be the original so far. */
struct fz_sink {
	const struct fz_buf *want;
	size_t got;
};

static int
fz_sink_check(void *arg, const void *p, size_t n)
{
	struct fz_sink *s = arg;

	CHECK(n <= s->want->len - s->got);
	CHECK(memcmp(s->want->p + s->got, p, n) == 0);
	s->got += n;
	return 0;
}

/* The raw mode's sink: touch every byte so ASan sees bad pointers. */
static int
fz_sink_any(void *arg, const void *p, size_t n)
{
	const uint8_t *b = p;
	unsigned int *sum = arg;

	while (n-- > 0)
		*sum += *b++;
	return 0;
}

static int
fz_known_rc(int rc)
{
	return rc <= 0 && rc >= TCP2_ENOFROM;
}

/* Feed in pieces of the four sizes, checking the bound on what is held.
 * Returns the first error, or finish's result. */
static int
fz_decode(struct tcp2_msg_dec *d, const uint8_t *in, size_t len,
    const uint8_t sz[4])
{
	size_t off = 0, n, i = 0;
	int rc;

	while (off < len) {
		n = fz_piece(sz[i++ % 4]);
		if (n > len - off)
			n = len - off;
		rc = tcp2_msg_dec_write(d, in + off, n);
		CHECK(fz_known_rc(rc));
		CHECK(tcp2_msg_dec_held(d) <= TCP2_MSG_MAX_LAG);
		if (rc != 0)
			return rc;
		off += n;
	}
	rc = tcp2_msg_dec_finish(d);
	CHECK(fz_known_rc(rc));
	CHECK(tcp2_msg_dec_held(d) <= TCP2_MSG_MAX_LAG);
	return rc;
}

static void
fz_check_done(const struct tcp2_msg_dec *d)
{
	enum tcp2_sig_status st = tcp2_msg_dec_status(d);
	const char *sender = tcp2_msg_dec_sender(d);

	CHECK(st == TCP2_SIG_UNVERIFIED || st == TCP2_SIG_VERIFIED ||
	    st == TCP2_SIG_FORGED);
	CHECK(memchr(sender, '\0', TCP2_ADDR_MAX) != NULL);
	CHECK(tcp2_msg_dec_reason(d) != NULL);
	CHECK(tcp2_msg_dec_salt(d) != NULL);
	/* A FORGED verdict always says why. */
	CHECK(st != TCP2_SIG_FORGED || *tcp2_msg_dec_reason(d) != '\0');
}

static void
fz_raw(unsigned int opt, const uint8_t sz[4], const uint8_t *in, size_t len)
{
	struct tcp2_msg_dec_params p = { 0 };
	struct tcp2_msg_dec *d;
	unsigned int sum = 0;
	uint8_t *copy;

	p.lookup = fz_lookup;
	p.lookup_arg = &opt;
	p.out = fz_sink_any;
	p.arg = &sum;
	p.flags = (opt & FZ_OPT_TRACE) ? TCP2_DEC_KEEP_TRACE : 0;
	CHECK(tcp2_msg_dec_new(&d, &p) == 0);
	/* An exact-size copy: ASan then sees reads past a piece. */
	copy = malloc(len ? len : 1);
	CHECK(copy != NULL);
	memcpy(copy, in, len);
	if (fz_decode(d, copy, len, sz) == 0)
		fz_check_done(d);
	tcp2_msg_dec_free(d);
	free(copy);
}

/* n bytes at pos moved by delta (delete when negative, open a gap when
 * positive); the caller checked the bounds. */
static void
fz_shift(struct fz_buf *m, size_t pos, long delta)
{
	if (delta > 0) {
		m->p = realloc(m->p, m->len + (size_t)delta);
		CHECK(m->p != NULL);
		memmove(m->p + pos + (size_t)delta, m->p + pos, m->len - pos);
		m->len += (size_t)delta;
	} else if (delta < 0) {
		memmove(m->p + pos, m->p + pos + (size_t)-delta,
		    m->len - pos - (size_t)-delta);
		m->len -= (size_t)-delta;
	}
}

/*
 * One edit: op bits 0-1 pick xor, insert, delete or duplicate; bits 2-5
 * scale a range length (val + 1) << bits; pos is taken modulo the length.
 */
static void
fz_edit(struct fz_buf *m, const uint8_t e[FZ_OP_LEN])
{
	size_t pos = (size_t)e[1] << 16 | (size_t)e[2] << 8 | e[3];
	size_t n = ((size_t)e[4] + 1) << (e[0] >> 2 & 15);
	uint8_t v = e[4];

	pos %= m->len + 1;
	if (pos < m->len && n > m->len - pos)
		n = m->len - pos;
	switch (e[0] & 3) {
	case 0:
		if (pos < m->len)
			m->p[pos] ^= v ? v : 0x80;
		break;
	case 1:
		if (m->len < FZ_MUT_MAX) {
			fz_shift(m, pos, 1);
			m->p[pos] = v;
		}
		break;
	case 2:
		if (pos < m->len)
			fz_shift(m, pos, -(long)n);
		break;
	case 3:
		/* The range again right after itself: a replayed line or
		 * chunk. */
		if (pos < m->len && m->len + n <= FZ_MUT_MAX) {
			fz_shift(m, pos + n, (long)n);
			memcpy(m->p + pos + n, m->p + pos, n);
		}
		break;
	}
}

/* Returns the decoder's result (gen_corpus checks its seeds with it). */
static int
fz_tamper(unsigned int opt, const uint8_t sz[4], const uint8_t *ops,
    size_t nops)
{
	const struct fz_orig *o = &fz_orig[(opt >> 1) % FZ_NORIG];
	struct tcp2_msg_dec_params p = { 0 };
	struct fz_sink sink = { &o->plain, 0 };
	struct fz_buf m = { 0 };
	struct tcp2_msg_dec *d;
	unsigned int lopt = 0;
	enum tcp2_sig_status st;
	size_t i;
	int rc;

	fz_buf_add(&m, o->enc.p, o->enc.len);
	for (i = 0; i + FZ_OP_LEN <= nops && i < FZ_EDITS_MAX * FZ_OP_LEN;
	    i += FZ_OP_LEN)
		fz_edit(&m, ops + i);

	p.lookup = fz_lookup;
	p.lookup_arg = &lopt;
	p.out = fz_sink_check;
	p.arg = &sink;
	CHECK(tcp2_msg_dec_new(&d, &p) == 0);
	if ((rc = fz_decode(d, m.p, m.len, sz)) == 0) {
		fz_check_done(d);
		/* Authenticity: never a different plaintext. */
		CHECK(sink.got == o->plain.len);
		/* The signed flag is inside the last chunk: it cannot be
		 * stripped or added; VERIFIED means the real sender. */
		st = tcp2_msg_dec_status(d);
		CHECK(st != (o->sign ? TCP2_SIG_UNVERIFIED : TCP2_SIG_VERIFIED));
		if (st != TCP2_SIG_FORGED)
			CHECK(strcmp(tcp2_msg_dec_sender(d), FZ_FROM) == 0);
	}
	tcp2_msg_dec_free(d);
	free(m.p);
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < FZ_HDR)
		return 0;
	if (data[0] & FZ_OPT_TAMPER)
		(void)fz_tamper(data[0], data + 1, data + FZ_HDR,
		    size - FZ_HDR);
	else
		fz_raw(data[0], data + 1, data + FZ_HDR, size - FZ_HDR);
	return 0;
}
