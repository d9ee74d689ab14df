/*
 * message.c - the key schedule and small pieces shared by the TCP2 message
 * encoder (message_enc.c) and decoder (message_dec.c).
 */
#include <string.h>
#include <strings.h>

#include "error.h"
#include "header.h"
#include "message_int.h"

int
tcp2_msg_wrap_key(const uint8_t key[TCP2_MSG_KEY_LEN],
    const uint8_t salt[TCP2_MSG_SALT_LEN], uint8_t wk[TCP2_AEAD_KEY_LEN],
    uint8_t hint[MSG_HINT_LEN])
{
	static const char info[] = "TCP2 v1 wrap";
	uint8_t okm[TCP2_AEAD_KEY_LEN + MSG_HINT_LEN];
	int rc;

	rc = tcp2_hkdf_sha256(okm, sizeof(okm), key, TCP2_MSG_KEY_LEN, salt,
	    TCP2_MSG_SALT_LEN, info, sizeof(info) - 1);
	if (rc == 0) {
		memcpy(wk, okm, TCP2_AEAD_KEY_LEN);
		memcpy(hint, okm + TCP2_AEAD_KEY_LEN, MSG_HINT_LEN);
	}
	tcp2_crypto_wipe(okm, sizeof(okm));
	return rc;
}

int
tcp2_msg_payload_key(const uint8_t mk[TCP2_MSG_KEY_LEN],
    const uint8_t salt[TCP2_MSG_SALT_LEN], uint8_t pk[TCP2_AEAD_KEY_LEN])
{
	static const char info[] = "TCP2 v1 payload";

	return tcp2_hkdf_sha256(pk, TCP2_AEAD_KEY_LEN, mk, TCP2_MSG_KEY_LEN,
	    salt, TCP2_MSG_SALT_LEN, info, sizeof(info) - 1);
}

void
tcp2_msg_nonce(uint8_t nonce[TCP2_AEAD_NONCE_LEN], uint64_t counter, int last)
{
	int i;

	memset(nonce, 0, TCP2_AEAD_NONCE_LEN);
	for (i = 10; i >= 3; i--) {
		nonce[i] = (uint8_t)counter;
		counter >>= 8;
	}
	nonce[11] = last ? 1 : 0;
}

size_t
tcp2_msg_sig_input(uint8_t *out, const uint8_t hdrhash[32],
    const uint8_t bodyhash[32], const char *from_addr)
{
	static const char label[] = "TCP2 v1 signature";
	size_t n = 0, al = strlen(from_addr);

	/* The label's NUL separates it from the hashes. */
	memcpy(out + n, label, sizeof(label));
	n += sizeof(label);
	memcpy(out + n, hdrhash, 32);
	n += 32;
	memcpy(out + n, bodyhash, 32);
	n += 32;
	memcpy(out + n, from_addr, al);
	return n + al;
}

int
tcp2_msg_clear_field(const struct tcp2_hdr_field *f)
{
	static const char *const clear[] = {
		"From", "To", "Cc", "Date", "Message-ID", "In-Reply-To",
		"References",
	};
	size_t i;

	for (i = 0; i < sizeof(clear) / sizeof(clear[0]); i++)
		if (tcp2_hdr_is(f, clear[i]))
			return 1;
	return 0;
}

int
tcp2_msg_is_encrypted(const char *buf, size_t len)
{
	struct tcp2_hdr_field f;
	char proto[64];

	return tcp2_hdr_find(buf, len, "Content-Type", &f, NULL) &&
	    tcp2_hdr_param(f.value, f.valuelen, "protocol", proto,
	    sizeof(proto)) == 0 && strcasecmp(proto, MSG_PROTOCOL) == 0;
}
