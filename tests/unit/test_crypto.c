/*
 * test_crypto.c - the primitives of daemon/core/crypto.c against published
 * vectors: RFC 5869 (HKDF), RFC 7748 (X25519), RFC 8032 / djb's sign.input
 * (Ed25519), RFC 8439 and BoringSSL's set (ChaCha20-Poly1305), RFC 9106
 * (Argon2id).  The files come from Debian's python3-cryptography-vectors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "error.h"
#include "harness.h"
#include "vectors.h"

static FILE *
open_vec(const char *rel)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", T_VECTORS, rel);
	f = fopen(path, "r");
	t_check(f != NULL, "vector file %s present", rel);
	return f;
}

static void
test_hkdf(void)
{
	struct v_record r = { 0 };
	const uint8_t *ikm, *salt, *info, *okm;
	size_t ikml, saltl, infol, okml;
	uint8_t out[256];
	int n = 0, good = 0;
	FILE *f;

	f = open_vec("KDF/rfc-5869-HKDF-SHA256.txt");
	if (f == NULL)
		return;
	while (v_next(f, &r)) {
		ikm = v_get(&r, "IKM", &ikml);
		salt = v_get(&r, "salt", &saltl);
		info = v_get(&r, "info", &infol);
		okm = v_get(&r, "OKM", &okml);
		if (ikm == NULL || okm == NULL)
			continue;
		n++;
		if (tcp2_hkdf_sha256(out, okml, ikm, ikml, salt, salt ? saltl : 0,
		    info, info ? infol : 0) == 0 && memcmp(out, okm, okml) == 0)
			good++;
	}
	v_free(&r);
	fclose(f);
	t_check(n == 3 && good == n, "HKDF-SHA256 RFC 5869: %d/%d", good, n);
	t_check(tcp2_hkdf_sha256(out, 255 * 32 + 1, "", 0, NULL, 0, NULL, 0) ==
	    TCP2_EINVAL, "HKDF refuses more than 255 blocks");
}

static void
test_x25519(void)
{
	struct v_record r = { 0 };
	const uint8_t *k, *u, *o;
	uint8_t out[32], zero[32] = { 0 };
	int n = 0, good = 0;
	FILE *f;

	f = open_vec("asymmetric/X25519/rfc7748.txt");
	if (f == NULL)
		return;
	while (v_next(f, &r)) {
		k = v_get(&r, "INPUT_SCALAR", NULL);
		u = v_get(&r, "INPUT_U", NULL);
		o = v_get(&r, "OUTPUT_U", NULL);
		if (k == NULL || u == NULL || o == NULL)
			continue;
		n++;
		if (tcp2_x25519(out, k, u) == 0 && memcmp(out, o, 32) == 0)
			good++;
	}
	v_free(&r);
	fclose(f);
	t_check(n >= 2 && good == n, "X25519 RFC 7748: %d/%d", good, n);

	/* RFC 7748 6.1 Alice/Bob key agreement. */
	uint8_t a[32], b[32], apub[32], bpub[32], ea[32], exp[32], s1[32], s2[32];
	t_unhex(a, 32, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
	t_unhex(b, 32, "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
	t_unhex(ea, 32, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
	t_unhex(exp, 32, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
	t_check(tcp2_x25519_public(apub, a) == 0 && memcmp(apub, ea, 32) == 0,
	    "X25519 public key of RFC 7748 6.1 Alice");
	tcp2_x25519_public(bpub, b);
	t_check(tcp2_x25519(s1, a, bpub) == 0 && tcp2_x25519(s2, b, apub) == 0 &&
	    memcmp(s1, exp, 32) == 0 && memcmp(s2, exp, 32) == 0,
	    "X25519 shared secret of RFC 7748 6.1");
	t_check(tcp2_x25519(out, a, zero) == TCP2_EAUTH,
	    "X25519 rejects an all-zero shared secret");
}

static void
test_ed25519(void)
{
	static char line[1 << 16];
	uint8_t sk[64], pk[32], sig[64], got[64], *msg;
	char *f1, *f2, *f3, *f4;
	int n = 0, good = 0, pubok = 0, rej = 0;
	long ml;
	FILE *f;

	f = open_vec("asymmetric/Ed25519/sign.input");
	if (f == NULL)
		return;
	msg = malloc(sizeof(line));
	while (msg && fgets(line, sizeof(line), f) != NULL) {
		f1 = line;
		if ((f2 = strchr(f1, ':')) == NULL) continue;
		*f2++ = '\0';
		if ((f3 = strchr(f2, ':')) == NULL) continue;
		*f3++ = '\0';
		if ((f4 = strchr(f3, ':')) == NULL) continue;
		*f4++ = '\0';
		t_unhex(sk, 64, f1);
		t_unhex(pk, 32, f2);
		ml = *f3 == '\0' ? 0 : t_unhex(msg, sizeof(line), f3);
		t_unhex(sig, 64, f4);	/* first 64 bytes: the signature */
		n++;
		if (tcp2_ed25519_public(got, sk) == 0 && memcmp(got, pk, 32) == 0)
			pubok++;
		if (tcp2_ed25519_sign(got, sk, msg, (size_t)ml) == 0 &&
		    memcmp(got, sig, 64) == 0 &&
		    tcp2_ed25519_verify(sig, pk, msg, (size_t)ml) == 0)
			good++;
		sig[n % 64] ^= 0x01;
		if (tcp2_ed25519_verify(sig, pk, msg, (size_t)ml) == TCP2_EAUTH)
			rej++;
	}
	free(msg);
	fclose(f);
	t_check(n == 1024 && good == n, "Ed25519 sign.input sign+verify: %d/%d",
	    good, n);
	t_check(pubok == n, "Ed25519 public keys of sign.input: %d/%d", pubok, n);
	t_check(rej == n, "Ed25519 rejects a flipped signature bit: %d/%d", rej, n);
}

static void
aead_case(const uint8_t *key, const uint8_t *nonce, const uint8_t *aad,
    size_t aadl, const uint8_t *pt, size_t ptl, const uint8_t *ct,
    const uint8_t *tag, int *good)
{
	struct tcp2_aead *a;
	uint8_t *out, *in;
	int ok = 0;

	out = malloc(ptl + 16);
	in = malloc(ptl + 16);
	if (out == NULL || in == NULL || tcp2_aead_open_ctx(&a, key) != 0)
		goto done;
	if (tcp2_aead_seal(a, out, nonce, aad, aadl, pt, ptl) == 0 &&
	    memcmp(out, ct, ptl) == 0 && memcmp(out + ptl, tag, 16) == 0 &&
	    tcp2_aead_open(a, in, nonce, aad, aadl, out, ptl + 16) == 0 &&
	    memcmp(in, pt, ptl) == 0) {
		out[ptl + 15] ^= 0x80;
		ok = tcp2_aead_open(a, in, nonce, aad, aadl, out, ptl + 16) ==
		    TCP2_EAUTH;
	}
	tcp2_aead_close(a);
done:
	free(out);
	free(in);
	*good += ok;
}

static void
test_aead(void)
{
	struct v_record r = { 0 };
	const uint8_t *key, *nonce, *aad, *pt, *ct, *tag;
	size_t kl, nl, al, pl, cl, tl;
	int n = 0, good = 0;
	FILE *f;

	f = open_vec("ciphers/ChaCha20Poly1305/boringssl.txt");
	if (f == NULL)
		return;
	while (v_next(f, &r)) {
		key = v_get(&r, "KEY", &kl);
		nonce = v_get(&r, "NONCE", &nl);
		aad = v_get(&r, "AD", &al);
		pt = v_get(&r, "IN", &pl);
		ct = v_get(&r, "CT", &cl);
		tag = v_get(&r, "TAG", &tl);
		if (!key || !nonce || !pt || !ct || !tag || kl != 32 ||
		    nl != 12 || tl != 16 || cl != pl)
			continue;
		n++;
		aead_case(key, nonce, aad, aad ? al : 0, pt, pl, ct, tag, &good);
	}
	fclose(f);
	t_check(n >= 50 && good == n,
	    "ChaCha20-Poly1305 BoringSSL set (RFC 8439 2.8.2 first): %d/%d",
	    good, n);

	/* RFC 8439 A.5 decryption vector (OpenSSL's set, record 1). */
	f = open_vec("ciphers/ChaCha20Poly1305/openssl.txt");
	if (f == NULL)
		return;
	n = good = 0;
	if (v_next(f, &r)) {
		key = v_get(&r, "Key", &kl);
		nonce = v_get(&r, "IV", &nl);
		aad = v_get(&r, "AAD", &al);
		pt = v_get(&r, "Plaintext", &pl);
		ct = v_get(&r, "Ciphertext", &cl);
		tag = v_get(&r, "Tag", &tl);
		if (key && nonce && aad && pt && ct && tag && pl == cl) {
			n = 1;
			aead_case(key, nonce, aad, al, pt, pl, ct, tag, &good);
		}
	}
	v_free(&r);
	fclose(f);
	t_check(n == 1 && good == 1, "ChaCha20-Poly1305 RFC 8439 A.5");
}

static void
test_argon2id(void)
{
	/* RFC 9106 5.3. */
	struct tcp2_argon2_params p = { .t_cost = 3, .m_cost = 32, .lanes = 4 };
	uint8_t pass[32], salt[16], secret[8], ad[12], out[32], exp[32];

	memset(pass, 1, sizeof(pass));
	memset(salt, 2, sizeof(salt));
	memset(secret, 3, sizeof(secret));
	memset(ad, 4, sizeof(ad));
	t_unhex(exp, 32, "0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659");
	t_check(tcp2_argon2id(out, 32, pass, 32, salt, 16, secret, 8, ad, 12,
	    &p) == 0 && memcmp(out, exp, 32) == 0, "Argon2id RFC 9106 5.3");
}

static void
test_sha256_stream(void)
{
	struct tcp2_sha256_ctx *c;
	uint8_t a[32], b[32];
	const char *s = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

	tcp2_sha256(a, s, strlen(s));
	if (!t_check(tcp2_sha256_open(&c) == 0, "sha256 stream open"))
		return;
	tcp2_sha256_write(c, s, 10);
	tcp2_sha256_write(c, s + 10, strlen(s) - 10);
	tcp2_sha256_final(c, b);
	tcp2_sha256_close(c);
	t_unhex(b + 0, 0, "");
	uint8_t exp[32];
	t_unhex(exp, 32, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	t_check(memcmp(a, exp, 32) == 0 && memcmp(b, exp, 32) == 0,
	    "SHA-256 FIPS 180-2 vector, one-shot and streaming");
}

int
main(void)
{
	if (tcp2_crypto_init() != 0) {
		t_check(0, "libgcrypt initialises");
		return t_done();
	}
	test_hkdf();
	test_x25519();
	test_ed25519();
	test_aead();
	test_argon2id();
	test_sha256_stream();
	return t_done();
}
