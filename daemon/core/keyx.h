/*
 * keyx.h - the fixed-form key-exchange mail (seed 000, modernised).
 *
 * A key-exchange mail has the Subject "TCP2 key exchange" and carries one
 * signed text block:
 *
 *	-----BEGIN TCP2 KEY EXCHANGE-----
 *	Version: 1
 *	Type: init | reply
 *	From: alice@example.org
 *	To: bob@example.org
 *	Time: 1795000000
 *	Nonce: <16 bytes, base64>
 *	Identity-Ed25519: <32 bytes>
 *	Identity-X25519: <32 bytes>
 *	Ephemeral-X25519: <32 bytes>      the seed's "key raw value"
 *	Reply-To-Exchange: <32 bytes>     reply only: hash of the init block
 *	Signature: <64 bytes>             Ed25519 by Identity-Ed25519
 *	-----END TCP2 KEY EXCHANGE-----
 *
 * The signature covers the canonical text of the fields above it (fixed
 * order, LF line ends), so the block survives CRLF/LF conversion.  Both
 * sides derive the pairwise key from both ephemeral values and both
 * identity values, salted with the hash of the two blocks (the transcript):
 * see docs/FORMAT.md.  This module is pure: no store, no clock.
 */
#ifndef TCP2_KEYX_H
#define TCP2_KEYX_H

#include <stddef.h>
#include <stdint.h>

#include "header.h"

#define TCP2_KEYX_SUBJECT	"TCP2 key exchange"
#define TCP2_KEYX_MAX_MAIL	(1u << 20)	/* largest mail parsed */
#define TCP2_KEYX_BLOCK_MAX	1024		/* formatted block size bound */
#define TCP2_KEYX_NONCE_LEN	16

enum tcp2_keyx_type {
	TCP2_KEYX_INIT = 1,
	TCP2_KEYX_REPLY = 2,
};

struct tcp2_keyx {
	enum tcp2_keyx_type type;
	char from[TCP2_ADDR_MAX];
	char to[TCP2_ADDR_MAX];
	uint64_t time;
	uint8_t nonce[TCP2_KEYX_NONCE_LEN];
	uint8_t id_ed[32];
	uint8_t id_x[32];
	uint8_t eph[32];
	uint8_t reply_to[32];		/* TCP2_KEYX_REPLY only */
	uint8_t sig[64];
};

/*
 * Find the first block in a mail, parse it strictly and check its
 * self-signature.  Also checks that the mail's From: header names the
 * block's From.  Errors: TCP2_ENOENT (no block), TCP2_EFORMAT (bad or
 * duplicate field, bad length, From: mismatch), TCP2_EAUTH (signature),
 * TCP2_ETOOBIG (mail over TCP2_KEYX_MAX_MAIL).
 */
int tcp2_keyx_parse(const char *mail, size_t len, struct tcp2_keyx *kx);

/* Sign kx (fills kx->sig) with the identity seed that matches kx->id_ed. */
int tcp2_keyx_sign(struct tcp2_keyx *kx, const uint8_t ed_sec[32]);

/* Write the block, with line end eol, into out[outlen]; returns its length
 * or TCP2_ETOOBIG. */
long tcp2_keyx_format(const struct tcp2_keyx *kx, const char *eol,
    char *out, size_t outlen);

/* The hash that names a signed block in the transcript. */
void tcp2_keyx_hash(const struct tcp2_keyx *kx, uint8_t out[32]);

/*
 * The pairwise key of an init/reply pair, computed by either side from the
 * init's hash (tcp2_keyx_hash), the reply, the peer's block (the reply for
 * the initiator, the init for the responder) and this side's ephemeral and
 * identity X25519 secrets.  TCP2_EAUTH when the reply does not answer that
 * init or a DH result is all zero.
 */
int tcp2_keyx_derive(uint8_t key[32], const uint8_t init_hash[32],
    const struct tcp2_keyx *reply, const struct tcp2_keyx *peer,
    const uint8_t my_eph_sec[32], const uint8_t my_id_x_sec[32]);

/* Compose a complete key-exchange mail around the block (CRLF ends):
 * From/To/Date/Message-ID/Subject headers, a short text for a person who
 * sees it, the block.  Returns the length or TCP2_ETOOBIG. */
long tcp2_keyx_mail(const struct tcp2_keyx *kx, char *out, size_t outlen);

/* 1 if the header block at buf has Subject "TCP2 key exchange". */
int tcp2_keyx_is_keyx_mail(const char *buf, size_t len);

#endif /* TCP2_KEYX_H */
