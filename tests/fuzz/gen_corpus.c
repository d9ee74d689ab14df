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
 * here once more before it is written.
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

/* The five option/size bytes, then body. */
static void
msg_seed(const char *name, const uint8_t hdr[FZ_HDR], const uint8_t *pre,
    size_t prelen, const struct fz_orig *o)
{
	struct tcp2_msg_dec_params p = { 0 };
	struct fz_sink sink = { &o->plain, 0 };
	struct fz_buf s = { 0 };
	struct tcp2_msg_dec *d;
	unsigned int opt = hdr[0];

	fz_buf_add(&s, hdr, FZ_HDR);
	fz_buf_add(&s, pre, prelen);
	fz_buf_add(&s, o->enc.p, o->enc.len);
	/* Decode as the raw mode will: it must succeed. */
	p.lookup = fz_lookup;
	p.lookup_arg = &opt;
	p.out = fz_sink_check;
	p.arg = &sink;
	CHECK(tcp2_msg_dec_new(&d, &p) == 0);
	CHECK(fz_decode(d, s.p + FZ_HDR, s.len - FZ_HDR, hdr + 1) == 0);
	CHECK(sink.got == o->plain.len);
	CHECK(tcp2_msg_dec_status(d) == (o->sign ? TCP2_SIG_VERIFIED :
	    TCP2_SIG_UNVERIFIED));
	tcp2_msg_dec_free(d);
	put("msg_dec", name, s.p, s.len);
	free(s.p);
}

static void
msg_seeds(void)
{
	static const char trace[] =
	    "Return-Path: <alice@example.org>\r\n"
	    "Received: from mx.example.org (mx.example.org [192.0.2.1])\r\n"
	    "\tby mail.example.net with ESMTPS id 4Z1\r\n"
	    "\tfor <bob@example.org>; Tue, 24 Nov 2026 10:00:01 +0000\r\n"
	    "Delivered-To: bob@example.org\r\n";
	/* Tamper mode: no edit (decodes), one flipped byte (fails). */
	static const uint8_t t0[] = { 0x01, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t t1[] = { 0x03, 0x10, 0x80, 0x05, 0xff,
	    0x00, 0x00, 0x03, 0x20, 0x01 };
	static const uint8_t t2[] = { 0x05, 0xff, 0x7f, 0x00, 0x90,
	    0x0b, 0x00, 0x40, 0x00, 0x3f };
	const uint8_t raw0[FZ_HDR] = { 0x00, 0xff, 0xff, 0xff, 0xff };
	const uint8_t raw1[FZ_HDR] = { FZ_OPT_DECOY, 0x00, 0x06, 0x3f, 0x80 };
	const uint8_t raw2[FZ_HDR] = { FZ_OPT_TRACE, 0xff, 0x10, 0x4b, 0x02 };
	const uint8_t raw3[FZ_HDR] = { 0x00, 0x90, 0x20, 0xff, 0x01 };

	msg_seed("raw-lf-signed", raw0, NULL, 0, &fz_orig[0]);
	msg_seed("raw-crlf-unsigned-pieces", raw1, NULL, 0, &fz_orig[1]);
	msg_seed("raw-trace-fields", raw2, (const uint8_t *)trace,
	    sizeof(trace) - 1, &fz_orig[1]);
	msg_seed("raw-two-chunks", raw3, NULL, 0, &fz_orig[2]);
	put("msg_dec", "tamper-none", t0, sizeof(t0));
	put("msg_dec", "tamper-xor", t1, sizeof(t1));
	put("msg_dec", "tamper-delete", t2, sizeof(t2));
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
	msg_seeds();
	kx_seeds();
	return 0;
}
