/*
 * bench_inproc.c - in-process throughput of the TCP2 message pipeline.
 *
 * Encrypts two large messages through tcp2_msg_enc_* with one recipient
 * key into a sink that only counts bytes, decrypts them again through
 * tcp2_msg_dec_*, and compares with raw libgcrypt ChaCha20-Poly1305 over
 * the same data: once chunked exactly as the format chunks (16 KiB, one
 * setiv, 32-byte AAD and tag per chunk), once in a single AEAD call.
 * The messages, each an RFC 5322 header with From: and then bulk:
 *  - mail: the bulk a base64 attachment in lines of 76 and CRLF, as mail
 *    carries files (the shape of make bench's whole-process message);
 *  - binary: the bulk random bytes, the packer's worst case (pack.h):
 *    nothing to pack, a line end and a NUL every 256 bytes, each NUL
 *    doubled.  (SMTP cannot carry such a message as it is.)
 * It also times the pieces the pipeline is made of (base64, SHA-256,
 * memcpy) so that a slow result says where the time goes.
 *
 * Usage: bench_inproc [MB [REPS]]   (defaults 256 and 5; GB = 10^9 bytes)
 * The last line is machine-readable: "RESULT enc_gbps=X dec_gbps=Y ..."
 * (enc_gbps and dec_gbps: the mail; bin_enc_gbps, bin_dec_gbps: binary).
 * Exit status 0 only if every round trip was verified byte-identical.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gcrypt.h>

#include "base64.h"
#include "crypto.h"
#include "error.h"
#include "message.h"

#define FEED	65536	/* bytes per write call, as tcp2-mail reads */
#define CHUNK	TCP2_MSG_CHUNK
#define TAG	16
#define MAXREPS	15

static const char hdr[] =
    "Return-Path: <alice@example.org>\r\n"
    "From: Alice Example <alice@example.org>\r\n"
    "To: Bob Example <bob@example.org>\r\n"
    "Subject: quarterly figures (bench)\r\n"
    "Date: Mon, 24 Nov 2025 10:00:00 +0000\r\n"
    "Message-ID: <bench.1@example.org>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: application/octet-stream\r\n"
    "\r\n";
static const char hdr_b64[] =
    "Return-Path: <alice@example.org>\r\n"
    "From: Alice Example <alice@example.org>\r\n"
    "To: Bob Example <bob@example.org>\r\n"
    "Subject: the signed contract (bench)\r\n"
    "Date: Mon, 24 Nov 2025 10:00:00 +0000\r\n"
    "Message-ID: <bench.2@example.org>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: application/pdf; name=\"contract.pdf\"\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n";

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void
die(const char *what, int rc)
{
	fprintf(stderr, "bench_inproc: %s failed: %s\n", what,
	    rc ? tcp2_strerror(rc) : "mismatch");
	exit(1);
}

/* ---- sinks ---- */

struct sink {
	size_t count;
	uint8_t *keep;		/* NULL: only count */
	size_t cap;
	const uint8_t *expect;	/* non-NULL: compare with these bytes */
	int mismatch;
};

static int
sink_put(void *arg, const void *buf, size_t len)
{
	struct sink *s = arg;

	if (s->keep != NULL) {
		if (s->count + len > s->cap)
			return TCP2_ETOOBIG;
		memcpy(s->keep + s->count, buf, len);
	}
	if (s->expect != NULL && memcmp(s->expect + s->count, buf, len) != 0)
		s->mismatch = 1;
	s->count += len;
	return 0;
}

/* ---- the pipeline ---- */

static uint8_t key[TCP2_MSG_KEY_LEN], sign_sec[32], sign_pub[32];

static int
lookup(void *arg, const char *from, struct tcp2_msg_sender *s)
{
	(void)arg;
	if (strcmp(from, "alice@example.org") != 0)
		return TCP2_ENOKEY;
	snprintf(s->addr, sizeof(s->addr), "%s", from);
	memcpy(s->keys[0], key, sizeof(key));
	s->nkeys = 1;
	memcpy(s->ed_pub, sign_pub, sizeof(sign_pub));
	return 0;
}

static double
run_encrypt(const uint8_t *in, size_t len, struct sink *s)
{
	const uint8_t (*keys)[TCP2_MSG_KEY_LEN] =
	    (const uint8_t (*)[TCP2_MSG_KEY_LEN])key;
	struct tcp2_msg_enc_params p = { 0 };
	struct tcp2_msg_enc *e;
	size_t off, n;
	double t0, t1;
	int rc;

	p.keys = keys;
	p.nkeys = 1;
	p.sign_sec = sign_sec;
	p.sign_addr = "alice@example.org";
	p.out = sink_put;
	p.arg = s;
	p.parallel = 1;
	t0 = now();
	if ((rc = tcp2_msg_enc_new(&e, &p)) != 0)
		die("tcp2_msg_enc_new", rc);
	for (off = 0; off < len; off += n) {
		n = len - off < FEED ? len - off : FEED;
		if ((rc = tcp2_msg_enc_write(e, in + off, n)) != 0)
			die("tcp2_msg_enc_write", rc);
	}
	if ((rc = tcp2_msg_enc_finish(e)) != 0)
		die("tcp2_msg_enc_finish", rc);
	t1 = now();
	if (!tcp2_msg_enc_signed(e))
		die("signing", 0);
	tcp2_msg_enc_free(e);
	return t1 - t0;
}

static double
run_decrypt(const uint8_t *in, size_t len, struct sink *s)
{
	struct tcp2_msg_dec_params p = { 0 };
	struct tcp2_msg_dec *d;
	size_t off, n;
	double t0, t1;
	int rc;

	p.lookup = lookup;
	p.out = sink_put;
	p.arg = s;
	p.parallel = 1;
	t0 = now();
	if ((rc = tcp2_msg_dec_new(&d, &p)) != 0)
		die("tcp2_msg_dec_new", rc);
	for (off = 0; off < len; off += n) {
		n = len - off < FEED ? len - off : FEED;
		if ((rc = tcp2_msg_dec_write(d, in + off, n)) != 0)
			die("tcp2_msg_dec_write", rc);
	}
	if ((rc = tcp2_msg_dec_finish(d)) != 0)
		die("tcp2_msg_dec_finish", rc);
	t1 = now();
	if (tcp2_msg_dec_status(d) != TCP2_SIG_VERIFIED)
		die("signature verification", 0);
	tcp2_msg_dec_free(d);
	return t1 - t0;
}

/* ---- raw libgcrypt ChaCha20-Poly1305 ---- */

static gcry_cipher_hd_t
raw_open(void)
{
	gcry_cipher_hd_t h;

	if (gcry_cipher_open(&h, GCRY_CIPHER_CHACHA20,
	    GCRY_CIPHER_MODE_POLY1305, 0) != 0 ||
	    gcry_cipher_setkey(h, key, sizeof(key)) != 0)
		die("gcry_cipher_open", TCP2_ECRYPTO);
	return h;
}

static void
nonce_of(uint8_t n[12], uint64_t ctr, int last)
{
	int i;

	for (i = 0; i < 11; i++)
		n[i] = i < 3 ? 0 : (uint8_t)(ctr >> (8 * (10 - i)));
	n[11] = (uint8_t)last;
}

/* Seal in format-sized chunks; with sealed != NULL keep the stream. */
static double
raw_seal_chunked(const uint8_t *in, size_t len, uint8_t *sealed)
{
	static uint8_t out[CHUNK + TAG];
	static const uint8_t aad[32];
	gcry_cipher_hd_t h = raw_open();
	uint8_t nonce[12];
	uint64_t ctr = 0;
	size_t off, n;
	uint8_t *o;
	double t0, t1;

	t0 = now();
	for (off = 0; off < len; off += n, ctr++) {
		n = len - off < CHUNK ? len - off : CHUNK;
		o = sealed ? sealed + ctr * (CHUNK + TAG) : out;
		nonce_of(nonce, ctr, off + n == len);
		if (gcry_cipher_setiv(h, nonce, 12) != 0 ||
		    gcry_cipher_authenticate(h, aad, sizeof(aad)) != 0 ||
		    gcry_cipher_final(h) != 0 ||
		    gcry_cipher_encrypt(h, o, n, in + off, n) != 0 ||
		    gcry_cipher_gettag(h, o + n, TAG) != 0)
			die("raw seal", TCP2_ECRYPTO);
	}
	t1 = now();
	gcry_cipher_close(h);
	return t1 - t0;
}

static double
raw_open_chunked(const uint8_t *sealed, size_t len, const uint8_t *expect)
{
	static uint8_t out[CHUNK];
	static const uint8_t aad[32];
	gcry_cipher_hd_t h = raw_open();
	uint8_t nonce[12];
	uint64_t ctr = 0;
	size_t off, n;
	const uint8_t *c;
	double t0, t1;

	t0 = now();
	for (off = 0; off < len; off += n, ctr++) {
		n = len - off < CHUNK ? len - off : CHUNK;
		c = sealed + ctr * (CHUNK + TAG);
		nonce_of(nonce, ctr, off + n == len);
		if (gcry_cipher_setiv(h, nonce, 12) != 0 ||
		    gcry_cipher_authenticate(h, aad, sizeof(aad)) != 0 ||
		    gcry_cipher_final(h) != 0 ||
		    gcry_cipher_decrypt(h, out, n, c, n) != 0 ||
		    gcry_cipher_checktag(h, c + n, TAG) != 0)
			die("raw open", TCP2_EAUTH);
		if (expect != NULL && memcmp(out, expect + off, n) != 0)
			die("raw open round trip", 0);
	}
	t1 = now();
	gcry_cipher_close(h);
	return t1 - t0;
}

/* One AEAD call over the whole buffer: the ceiling for this library. */
static double
raw_seal_oneshot(const uint8_t *in, size_t len, uint8_t *out)
{
	gcry_cipher_hd_t h = raw_open();
	uint8_t nonce[12] = { 0 }, tag[TAG];
	double t0, t1;

	t0 = now();
	if (gcry_cipher_setiv(h, nonce, 12) != 0 ||
	    gcry_cipher_final(h) != 0 ||
	    gcry_cipher_encrypt(h, out, len, in, len) != 0 ||
	    gcry_cipher_gettag(h, tag, TAG) != 0)
		die("raw one-shot seal", TCP2_ECRYPTO);
	t1 = now();
	gcry_cipher_close(h);
	return t1 - t0;
}

/* ---- the pieces ---- */

static double
piece_b64_encode(const uint8_t *in, size_t len, char *out, size_t *outlen)
{
	struct tcp2_b64_enc e;
	size_t off, n, o = 0;
	double t0, t1;

	t0 = now();
	tcp2_b64_enc_init(&e, "\r\n");
	for (off = 0; off < len; off += n) {
		n = len - off < CHUNK + TAG ? len - off : CHUNK + TAG;
		o += tcp2_b64_enc_update(&e, out + o, in + off, n);
	}
	o += tcp2_b64_enc_final(&e, out + o);
	t1 = now();
	*outlen = o;
	return t1 - t0;
}

static double
piece_b64_decode(const char *in, size_t len, uint8_t *out, size_t *outlen)
{
	struct tcp2_b64_dec d;
	const char *p = in, *end = in + len, *nl;
	size_t o = 0, n;
	double t0, t1;
	long k;

	t0 = now();
	tcp2_b64_dec_init(&d);
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		/* as the decoder does: the line without CR LF */
		k = tcp2_b64_dec_line(&d, out + o, p,
		    n > 0 && p[n - 1] == '\r' ? n - 1 : n);
		if (k < 0)
			die("base64 decode", (int)k);
		o += (size_t)k;
		p += n + (nl != NULL);
	}
	if (tcp2_b64_dec_final(&d) != 0)
		die("base64 decode final", TCP2_EFORMAT);
	t1 = now();
	*outlen = o;
	return t1 - t0;
}

static double
piece_sha256(const uint8_t *in, size_t len)
{
	struct tcp2_sha256_ctx *c;
	uint8_t h[32];
	size_t off, n;
	double t0, t1;

	if (tcp2_sha256_open(&c) != 0)
		die("sha256", TCP2_ECRYPTO);
	t0 = now();
	for (off = 0; off < len; off += n) {
		n = len - off < FEED ? len - off : FEED;
		tcp2_sha256_write(c, in + off, n);
	}
	tcp2_sha256_final(c, h);
	t1 = now();
	tcp2_sha256_close(c);
	return t1 - t0;
}

static double
piece_memcpy(const uint8_t *in, size_t len, uint8_t *out)
{
	double t0, t1;

	t0 = now();
	memcpy(out, in, len);
	t1 = now();
	/* keep the copy observable */
	if (out[len / 2] != in[len / 2])
		die("memcpy", 0);
	return t1 - t0;
}

/* ---- driver ---- */

static double
gbps(size_t bytes, double secs)
{
	return secs > 0 ? (double)bytes / secs / 1e9 : 0;
}

/* A message of len bytes at m: header h, then base64 lines (76 and
 * CRLF) of the bytes at bulk, the last line cut where len ends. */
static void
make_mail(uint8_t *m, size_t len, const char *h, const uint8_t *bulk)
{
	size_t o = strlen(h), k = 0;
	char line[80];

	memcpy(m, h, o);
	while (o < len) {
		tcp2_b64_encode(line, bulk + k, 57);
		memcpy(line + 76, "\r\n", 2);
		memcpy(m + o, line, len - o < 78 ? len - o : 78);
		o += 78;
		k += 57;
	}
}

/* Encrypt in[0..len), keep it in enc (cap bytes), decrypt it comparing
 * every byte with in: the warm-up and the proof.  The encrypted length. */
static size_t
check_roundtrip(const uint8_t *in, size_t len, uint8_t *enc, size_t cap)
{
	struct sink s;
	size_t enclen;

	memset(&s, 0, sizeof(s));
	s.keep = enc;
	s.cap = cap;
	run_encrypt(in, len, &s);
	enclen = s.count;
	memset(&s, 0, sizeof(s));
	s.expect = in;
	run_decrypt(enc, enclen, &s);
	if (s.mismatch || s.count != len)
		die("tcp2 round trip", 0);
	return enclen;
}

/* One timed encryption of in and decryption of enc into te, td. */
static void
time_pipeline(const uint8_t *in, size_t len, const uint8_t *enc,
    size_t enclen, double *te, double *td)
{
	struct sink s;

	memset(&s, 0, sizeof(s));
	*te = run_encrypt(in, len, &s);
	memset(&s, 0, sizeof(s));
	*td = run_decrypt(enc, enclen, &s);
	if (s.count != len)
		die("tcp2 decrypt length", 0);
}

int
main(int argc, char **argv)
{
	size_t mb = argc > 1 ? strtoul(argv[1], NULL, 10) : 256;
	int reps = argc > 2 ? atoi(argv[2]) : 5, r, rc;
	size_t len = mb * 1024 * 1024, cap, i, nchunks, b64len, declen;
	size_t binlen, maillen;
	uint8_t *plain, *mail, *enc, *encm, *sealed, *scratch;
	char *b64;
	double te[MAXREPS], td[MAXREPS], tme[MAXREPS], tmd[MAXREPS];
	double tre[MAXREPS], trd[MAXREPS], tro[MAXREPS], tbe[MAXREPS];
	double tbd[MAXREPS], tsh[MAXREPS], tmc[MAXREPS];
	double rawe_s, rawd_s, one_s;
	uint64_t x = 0x9e3779b97f4a7c15ull;

	if (mb == 0 || reps < 1 || reps > MAXREPS) {
		fprintf(stderr, "usage: bench_inproc [MB [REPS(1..%d)]]\n",
		    MAXREPS);
		return 2;
	}
	if ((rc = tcp2_crypto_init()) != 0)
		die("tcp2_crypto_init", rc);
	tcp2_crypto_random(key, sizeof(key));
	tcp2_crypto_random(sign_sec, sizeof(sign_sec));
	if ((rc = tcp2_ed25519_public(sign_pub, sign_sec)) != 0)
		die("tcp2_ed25519_public", rc);

	/* Room for the binary message's doubled NULs too (pack.h): one
	 * byte in 256 of the bulk, a few more to be safe. */
	nchunks = (len + len / 64) / CHUNK + 2;
	cap = TCP2_B64_ENC_BOUND(nchunks * (CHUNK + TAG)) + 65536;
	plain = malloc(len);
	mail = malloc(len);
	enc = malloc(cap);
	encm = malloc(cap);
	sealed = malloc(nchunks * (CHUNK + TAG));
	scratch = malloc(len + 64);
	b64 = malloc(cap);
	if (!plain || !mail || !enc || !encm || !sealed || !scratch || !b64) {
		fprintf(stderr, "bench_inproc: out of memory\n");
		return 1;
	}
	/* The binary message: header, then incompressible bulk
	 * (xorshift64); the mail: its bulk in base64. */
	memcpy(plain, hdr, sizeof(hdr) - 1);
	for (i = sizeof(hdr) - 1; i + 8 <= len; i += 8) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(plain + i, &x, 8);
	}
	for (; i < len; i++)
		plain[i] = (uint8_t)i;
	make_mail(mail, len, hdr_b64, plain + sizeof(hdr) - 1);

	/* Warm-up and correctness: keep one encryption of each, decrypt
	 * it while comparing every byte with the original. */
	binlen = check_roundtrip(plain, len, enc, cap);
	maillen = check_roundtrip(mail, len, encm, cap);
	raw_seal_chunked(plain, len, sealed);
	raw_open_chunked(sealed, len, plain);
	piece_b64_encode(sealed, len, b64, &b64len);
	piece_b64_decode(b64, b64len, scratch, &declen);
	if (declen != len || memcmp(scratch, sealed, 4096) != 0)
		die("base64 round trip", 0);

	for (r = 0; r < reps; r++) {
		time_pipeline(mail, len, encm, maillen, &tme[r], &tmd[r]);
		time_pipeline(plain, len, enc, binlen, &te[r], &td[r]);
		tre[r] = raw_seal_chunked(plain, len, NULL);
		trd[r] = raw_open_chunked(sealed, len, NULL);
		tro[r] = raw_seal_oneshot(plain, len, scratch);
		tbe[r] = piece_b64_encode(sealed, len, b64, &b64len);
		tbd[r] = piece_b64_decode(b64, b64len, scratch, &declen);
		tsh[r] = piece_sha256(plain, len);
		tmc[r] = piece_memcpy(plain, len, scratch);
	}
	rawe_s = median(tre, reps);
	rawd_s = median(trd, reps);
	one_s = median(tro, reps);

	printf("in-process, two %zu MiB messages, median of %d, "
	    "GB = 10^9 bytes of plaintext:\n", mb, reps);
	printf("  mail, a base64 attachment (%zu bytes encrypted):\n"
	    "    encrypt %6.3f GB/s, decrypt %6.3f GB/s\n", maillen,
	    gbps(len, median(tme, reps)), gbps(len, median(tmd, reps)));
	printf("  binary, random bytes: the worst case, nothing packed, "
	    "NULs doubled (%zu bytes encrypted):\n"
	    "    encrypt %6.3f GB/s, decrypt %6.3f GB/s\n", binlen,
	    gbps(len, median(te, reps)), gbps(len, median(td, reps)));
	printf("  raw AEAD, 16 KiB chunks: seal %.3f GB/s, open %.3f GB/s; "
	    "one call over the whole buffer: %.3f GB/s\n",
	    gbps(len, rawe_s), gbps(len, rawd_s), gbps(len, one_s));
	printf("  pieces: base64 encode %.3f GB/s (of binary), "
	    "base64 decode %.3f GB/s (of binary),\n"
	    "          SHA-256 %.3f GB/s, memcpy %.3f GB/s\n",
	    gbps(len, median(tbe, reps)), gbps(len, median(tbd, reps)),
	    gbps(len, median(tsh, reps)), gbps(len, median(tmc, reps)));
	printf("RESULT enc_gbps=%.3f dec_gbps=%.3f bin_enc_gbps=%.3f "
	    "bin_dec_gbps=%.3f raw_enc_gbps=%.3f raw_dec_gbps=%.3f\n",
	    gbps(len, median(tme, reps)), gbps(len, median(tmd, reps)),
	    gbps(len, median(te, reps)), gbps(len, median(td, reps)),
	    gbps(len, rawe_s), gbps(len, rawd_s));

	free(plain);
	free(mail);
	free(enc);
	free(encm);
	free(sealed);
	free(scratch);
	free(b64);
	return 0;
}
