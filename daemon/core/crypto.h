/*
 * crypto.h - the primitives the TCP2 mail core uses, on top of libgcrypt
 * (and libsodium for Ed25519, 15 times faster: see crypto.c).
 *
 * This is the only file that talks to the crypto libraries' public-key
 * and AEAD APIs, so the choice of primitives is visible in one place:
 * X25519, Ed25519,
 * ChaCha20-Poly1305 (RFC 8439), SHA-256, HMAC-SHA256, HKDF-SHA256
 * (RFC 5869, built here because libgcrypt 1.10 has none) and Argon2id
 * (RFC 9106).  All functions return 0 or a negative TCP2_E* code.
 * Secrets passed in are never copied to memory this module does not wipe.
 */
#ifndef TCP2_CRYPTO_H
#define TCP2_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define TCP2_X25519_LEN		32
#define TCP2_ED25519_PUB_LEN	32
#define TCP2_ED25519_SEC_LEN	32	/* the RFC 8032 seed */
#define TCP2_ED25519_SIG_LEN	64
#define TCP2_AEAD_KEY_LEN	32
#define TCP2_AEAD_NONCE_LEN	12
#define TCP2_AEAD_TAG_LEN	16
#define TCP2_SHA256_LEN		32

/* Initialise libgcrypt and libsodium once per process; safe to call
 * again. */
int tcp2_crypto_init(void);

/* Fill buf with len bytes from libgcrypt's strong RNG. */
void tcp2_crypto_random(void *buf, size_t len);

/* Overwrite len bytes at p in a way the compiler cannot elide. */
void tcp2_crypto_wipe(void *p, size_t len);

/* Constant-time equality of two len-byte buffers: 1 if equal, else 0. */
int tcp2_crypto_equal(const void *a, const void *b, size_t len);

/* X25519 public value of a secret scalar (clamped as RFC 7748 says). */
int tcp2_x25519_public(uint8_t pub[TCP2_X25519_LEN],
    const uint8_t sec[TCP2_X25519_LEN]);

/* X25519 shared secret; TCP2_EAUTH when it is all zero (small-order
 * peer value), as RFC 7748 section 6.1 recommends. */
int tcp2_x25519(uint8_t out[TCP2_X25519_LEN],
    const uint8_t sec[TCP2_X25519_LEN], const uint8_t peer[TCP2_X25519_LEN]);

/* Ed25519 public key of a 32-byte seed. */
int tcp2_ed25519_public(uint8_t pub[TCP2_ED25519_PUB_LEN],
    const uint8_t sec[TCP2_ED25519_SEC_LEN]);

/* Ed25519 (pure, RFC 8032) signature of msg. */
int tcp2_ed25519_sign(uint8_t sig[TCP2_ED25519_SIG_LEN],
    const uint8_t sec[TCP2_ED25519_SEC_LEN], const void *msg, size_t len);

/* 0 when sig is a valid signature of msg under pub, else TCP2_EAUTH
 * (libsodium's checks: also a non-canonical S or a small-order R or pub). */
int tcp2_ed25519_verify(const uint8_t sig[TCP2_ED25519_SIG_LEN],
    const uint8_t pub[TCP2_ED25519_PUB_LEN], const void *msg, size_t len);

/* One-shot SHA-256. */
void tcp2_sha256(uint8_t out[TCP2_SHA256_LEN], const void *buf, size_t len);

/* Streaming SHA-256. */
struct tcp2_sha256_ctx;
int tcp2_sha256_open(struct tcp2_sha256_ctx **ctx);
void tcp2_sha256_write(struct tcp2_sha256_ctx *ctx, const void *buf,
    size_t len);
void tcp2_sha256_final(struct tcp2_sha256_ctx *ctx,
    uint8_t out[TCP2_SHA256_LEN]);
void tcp2_sha256_close(struct tcp2_sha256_ctx *ctx);

/* HMAC-SHA256 of buf under key. */
int tcp2_hmac_sha256(uint8_t out[TCP2_SHA256_LEN], const void *key,
    size_t keylen, const void *buf, size_t len);

/* HKDF-SHA256 (RFC 5869): extract with salt (may be NULL/0), expand with
 * info to outlen bytes (at most 255 * 32). */
int tcp2_hkdf_sha256(void *out, size_t outlen, const void *ikm,
    size_t ikmlen, const void *salt, size_t saltlen, const void *info,
    size_t infolen);

/* Argon2id (RFC 9106) with optional secret and associated data. */
struct tcp2_argon2_params {
	unsigned int t_cost;	/* passes */
	unsigned int m_cost;	/* KiB */
	unsigned int lanes;
};
int tcp2_argon2id(void *out, size_t outlen, const void *pass,
    size_t passlen, const void *salt, size_t saltlen,
    const void *secret, size_t secretlen, const void *ad, size_t adlen,
    const struct tcp2_argon2_params *p);

/*
 * ChaCha20-Poly1305 AEAD.  An aead context keeps the cipher handle so that
 * a stream of chunks under one key costs one setkey.  seal writes len
 * bytes of ciphertext plus the 16-byte tag at out; open checks the tag
 * before it writes anything to out (TCP2_EAUTH on mismatch).
 */
struct tcp2_aead;
int tcp2_aead_open_ctx(struct tcp2_aead **ctx,
    const uint8_t key[TCP2_AEAD_KEY_LEN]);
int tcp2_aead_seal(struct tcp2_aead *ctx, uint8_t *out,
    const uint8_t nonce[TCP2_AEAD_NONCE_LEN], const void *aad,
    size_t aadlen, const void *in, size_t len);
int tcp2_aead_open(struct tcp2_aead *ctx, uint8_t *out,
    const uint8_t nonce[TCP2_AEAD_NONCE_LEN], const void *aad,
    size_t aadlen, const void *in, size_t len_with_tag);
void tcp2_aead_close(struct tcp2_aead *ctx);

#endif /* TCP2_CRYPTO_H */
