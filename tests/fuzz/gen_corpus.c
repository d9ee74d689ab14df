/*
 * gen_corpus.c - writes the seeds that need the fixed keys: valid TCP2
 * messages for fuzz_msg_dec and signed key-exchange mails for fuzz_keyx.
 * Run once after a format or key change; the output is committed.
 *
 *   cc -std=c11 -D_GNU_SOURCE -Idaemon/core -o build/fuzz/gen_corpus \
 *	tests/fuzz/gen_corpus.c daemon/core/{base64,crypto,error,header}.c \
 *	daemon/core/message*.c daemon/core/keyx.c -lgcrypt -lgpg-error
 *   build/fuzz/gen_corpus tests/fuzz/corpus
 *
 * It includes fuzz_msg_dec.c for the keys and the originals, so the seeds
 * decrypt in the target by construction; each seed is decoded (or parsed)
 * here once more, and must give the result named, before it is written.
 */
#include <errno.h>
#include <sys/stat.h>

#include "fuzz_msg_dec.c"
#include "keyx.h"

#define SEED_MAX	(64u << 10)

static const char *outdir;

static void
put(const char *dir, const char *name, const uint8_t *p, size_t n)
{
	char path[4096];
	FILE *f;

	CHECK(n < SEED_MAX);
	snprintf(path, sizeof(path), "%s/%s", outdir, dir);
	CHECK(mkdir(path, 0755) == 0 || errno == EEXIST);
	snprintf(path, sizeof(path), "%s/%s/%s", outdir, dir, name);
	CHECK((f = fopen(path, "wb")) != NULL);
	CHECK(fwrite(p, 1, n, f) == n && fclose(f) == 0);
	printf("%s: %zu bytes\n", path, n);
}

/*
 * A raw-mode seed: the five option/size bytes, pre (server trace fields),
 * then enc.  Decoded first as the target will: it must succeed with plain
 * last in the output (trace fields come first) and the status st.
 */
static void
msg_seed(const char *name, const uint8_t hdr[FZ_HDR], const char *pre,
    const struct fz_buf *enc, const struct fz_buf *plain,
    enum tcp2_sig_status st)
{
	struct tcp2_msg_dec_params p = { 0 };
	struct fz_buf s = { 0 }, out = { 0 };
	struct tcp2_msg_dec *d;
	unsigned int opt = hdr[0];

	fz_buf_add(&s, hdr, FZ_HDR);
	if (pre != NULL)
		fz_buf_add(&s, pre, strlen(pre));
	fz_buf_add(&s, enc->p, enc->len);
	p.lookup = fz_lookup;
	p.lookup_arg = &opt;
	p.out = fz_buf_out;
	p.arg = &out;
	p.flags = (opt & FZ_OPT_TRACE) ? TCP2_DEC_KEEP_TRACE : 0;
	CHECK(tcp2_msg_dec_new(&d, &p) == 0);
	CHECK(fz_decode(d, s.p + FZ_HDR, s.len - FZ_HDR, hdr + 1) == 0);
	CHECK(out.len >= plain->len && memcmp(out.p + out.len - plain->len,
	    plain->p, plain->len) == 0);
	CHECK(tcp2_msg_dec_status(d) == st);
	tcp2_msg_dec_free(d);
	put("msg_dec", name, s.p, s.len);
	free(s.p);
	free(out.p);
}

static enum tcp2_sig_status
orig_status(const struct fz_orig *o)
{
	return o->sign ? TCP2_SIG_VERIFIED : TCP2_SIG_UNVERIFIED;
}

static void
raw_seeds(void)
{
	static const char trace[] =
	    "Return-Path: <alice@example.org>\r\n"
	    "Received: from mx.example.org (mx.example.org [192.0.2.1])\r\n"
	    "\tby mail.example.net with ESMTPS id 4Z1\r\n"
	    "\tfor <bob@example.org>; Tue, 24 Nov 2026 10:00:01 +0000\r\n"
	    "Delivered-To: bob@example.org\r\n";
	const uint8_t raw0[FZ_HDR] = { 0x00, 0xff, 0xff, 0xff, 0xff };
	const uint8_t raw1[FZ_HDR] = { FZ_OPT_DECOY, 0x00, 0x06, 0x3f, 0x80 };
	const uint8_t raw2[FZ_HDR] = { FZ_OPT_TRACE, 0xff, 0x10, 0x4b, 0x02 };
	const uint8_t raw3[FZ_HDR] = { 0x00, 0x90, 0x20, 0xff, 0x01 };
	uint8_t other_sec[32];
	struct fz_buf forged = { 0 };
	char longtrace[16384];
	size_t n, i;

	msg_seed("raw-lf-signed", raw0, NULL, &fz_orig[0].enc,
	    &fz_orig[0].plain, orig_status(&fz_orig[0]));
	msg_seed("raw-crlf-unsigned-pieces", raw1, NULL, &fz_orig[1].enc,
	    &fz_orig[1].plain, orig_status(&fz_orig[1]));
	msg_seed("raw-trace-fields", raw2, trace, &fz_orig[1].enc,
	    &fz_orig[1].plain, orig_status(&fz_orig[1]));
	msg_seed("raw-two-chunks", raw3, NULL, &fz_orig[2].enc,
	    &fz_orig[2].plain, orig_status(&fz_orig[2]));
	msg_seed("raw-short-last-chunk", raw0, NULL, &fz_orig[3].enc,
	    &fz_orig[3].plain, orig_status(&fz_orig[3]));

	/* Signed by a key that is not the sender's: FORGED. */
	memset(other_sec, 0x33, sizeof(other_sec));
	fz_encode(fz_orig[0].plain.p, fz_orig[0].plain.len, 1, other_sec,
	    &forged);
	msg_seed("raw-bad-signature", raw0, NULL, &forged, &fz_orig[0].plain,
	    TCP2_SIG_FORGED);
	free(forged.p);

	/* Trace fields longer than the decoder keeps are dropped: one
	 * with a single long line, one folded over many. */
	n = (size_t)snprintf(longtrace, sizeof(longtrace),
	    "Received: from relay.example.net by mx.example.org id ");
	memset(longtrace + n, 'x', 4200);
	n += 4200;
	n += (size_t)snprintf(longtrace + n, sizeof(longtrace) - n,
	    "\r\nReceived: from hop.example.net\r\n");
	for (i = 0; i < 80; i++)
		n += (size_t)snprintf(longtrace + n, sizeof(longtrace) - n,
		    "\tvia hop%02zu.relay.example.net with ESMTP id %08zx\r\n",
		    i, i * 2654435761u);
	CHECK(n < sizeof(longtrace) - 1);
	msg_seed("raw-long-trace", raw2, longtrace, &fz_orig[1].enc,
	    &fz_orig[1].plain, orig_status(&fz_orig[1]));
}

/* Edits that delete len bytes at pos, as fz_edit reads them. */
static void
del_ops(struct fz_buf *ops, size_t pos, size_t len)
{
	uint8_t e[FZ_OP_LEN];
	size_t k;
	unsigned int sh;

	while (len > 0) {
		for (sh = 15; sh > 0 && ((size_t)1 << sh) > len; sh--)
			;
		k = len >> sh;
		if (k > 256)
			k = 256;
		e[0] = (uint8_t)(2 | sh << 2);
		e[1] = (uint8_t)(pos >> 16);
		e[2] = (uint8_t)(pos >> 8);
		e[3] = (uint8_t)pos;
		e[4] = (uint8_t)(k - 1);
		fz_buf_add(ops, e, sizeof(e));
		len -= k << sh;
	}
}

/* A tamper-mode seed; it must decode to rc. */
static void
tamper_seed(const char *name, const struct fz_buf *in, int rc)
{
	CHECK(in->len >= FZ_HDR);
	CHECK(fz_tamper(in->p[0], in->p + 1, in->p + FZ_HDR,
	    in->len - FZ_HDR) == rc);
	put("msg_dec", name, in->p, in->len);
}

static void
tamper_seeds(void)
{
	static const uint8_t t0[] = { 0x01, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t t1[] = { 0x03, 0x10, 0x80, 0x05, 0xff,
	    0x00, 0x00, 0x03, 0x20, 0x01 };
	static const uint8_t t2[] = { 0x05, 0xff, 0x7f, 0x00, 0x90,
	    0x0b, 0x00, 0x40, 0x00, 0x3f };
	static const uint8_t t3[] = { 0x07, 0x80, 0x80, 0x80, 0x80 };
	static const char cte[] = "Content-Transfer-Encoding: base64\n\n";
	static const char delim[] = "\n--=_tcp2";
	const struct fz_buf b0 = { (uint8_t *)t0, sizeof(t0) };
	const struct fz_buf b1 = { (uint8_t *)t1, sizeof(t1) };
	const struct fz_buf b2 = { (uint8_t *)t2, sizeof(t2) };
	const struct fz_buf b3 = { (uint8_t *)t3, sizeof(t3) };
	const struct fz_orig *o = &fz_orig[2];
	struct fz_buf drop = { 0 };
	const char *body, *close;
	size_t chunk1, pos;

	tamper_seed("tamper-none", &b0, 0);
	tamper_seed("tamper-xor", &b1, TCP2_ENOKEY);
	tamper_seed("tamper-delete", &b2, TCP2_EAUTH);
	tamper_seed("tamper-none-short-last", &b3, 0);

	/*
	 * The two-chunk message without its last chunk: the first, sealed
	 * as "not last", now ends the stream.  It starts after the binary
	 * header and the first sealed chunk, on a quad boundary, in a body
	 * of 76-character LF lines; everything up to the close delimiter's
	 * line goes.
	 */
	body = memmem(o->enc.p, o->enc.len, cte, sizeof(cte) - 1);
	CHECK(body != NULL);
	close = memmem(body, o->enc.len - (size_t)(body -
	    (const char *)o->enc.p), delim, sizeof(delim) - 1);
	CHECK(close != NULL);
	chunk1 = (24 + 52 + TCP2_MSG_CHUNK + 16) / 3 * 4;
	pos = (size_t)(body - (const char *)o->enc.p) + sizeof(cte) - 1 +
	    chunk1 + chunk1 / 76;
	fz_buf_add(&drop, t3, FZ_HDR);
	drop.p[0] = 0x05;
	del_ops(&drop, pos, (size_t)(close - (const char *)o->enc.p) - pos);
	tamper_seed("tamper-drop-last-chunk", &drop, TCP2_ETRUNC);
	free(drop.p);
}

/* A signed key-exchange block; seed picks the secrets.  A reply names
 * the init it answers. */
static void
kx_make(struct tcp2_keyx *kx, const char *from, const char *to,
    uint8_t seed, const struct tcp2_keyx *init)
{
	uint8_t ed[32], x[32], eph[32];
	size_t i;

	memset(kx, 0, sizeof(*kx));
	for (i = 0; i < 32; i++) {
		ed[i] = (uint8_t)(seed + i);
		x[i] = (uint8_t)(seed + 2 * i);
		eph[i] = (uint8_t)(seed + 3 * i);
	}
	kx->type = init ? TCP2_KEYX_REPLY : TCP2_KEYX_INIT;
	snprintf(kx->from, sizeof(kx->from), "%s", from);
	snprintf(kx->to, sizeof(kx->to), "%s", to);
	kx->time = 1795000000u + seed;
	for (i = 0; i < TCP2_KEYX_NONCE_LEN; i++)
		kx->nonce[i] = (uint8_t)(seed ^ i);
	CHECK(tcp2_ed25519_public(kx->id_ed, ed) == 0);
	CHECK(tcp2_x25519_public(kx->id_x, x) == 0);
	CHECK(tcp2_x25519_public(kx->eph, eph) == 0);
	if (init != NULL)
		tcp2_keyx_hash(init, kx->reply_to);
	CHECK(tcp2_keyx_sign(kx, ed) == 0);
}

/* Write the mail (CRLF, or LF when lf) after checking that it parses. */
static void
kx_seed(const char *name, const struct tcp2_keyx *kx, int lf)
{
	struct tcp2_keyx back;
	char mail[4096];
	size_t i, o = 0;
	long n;

	n = tcp2_keyx_mail(kx, mail, sizeof(mail));
	CHECK(n > 0);
	for (i = 0; i < (size_t)n; i++)
		if (!(lf && mail[i] == '\r'))
			mail[o++] = mail[i];
	CHECK(tcp2_keyx_parse(mail, o, &back) == 0);
	put("keyx", name, (const uint8_t *)mail, o);
}

static void
kx_seeds(void)
{
	struct tcp2_keyx init, reply;

	kx_make(&init, "alice@example.org", "bob@example.org", 0x21, NULL);
	kx_make(&reply, "bob@example.org", "alice@example.org", 0x52, &init);
	kx_seed("init-crlf", &init, 0);
	kx_seed("reply-lf", &reply, 1);
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: gen_corpus DIR\n");
		return 2;
	}
	outdir = argv[1];
	fz_setup();
	raw_seeds();
	tamper_seeds();
	kx_seeds();
	return 0;
}
