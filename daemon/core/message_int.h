/*
 * message_int.h - what the TCP2 message encoder and decoder share: the
 * binary layout constants and the key schedule (docs/FORMAT.md).
 * Internal to message*.c.
 */
#ifndef TCP2_MESSAGE_INT_H
#define TCP2_MESSAGE_INT_H

#include <stdint.h>

#include "crypto.h"
#include "message.h"

#define MSG_MAGIC		"TCP2"
#define MSG_CHUNK_LOG2		14	/* 1 << 14 == TCP2_MSG_CHUNK */
#define MSG_PREFIX_LEN		24	/* magic, version, log2, nwraps, salt */
#define MSG_HINT_LEN		4
#define MSG_WRAP_LEN		(MSG_HINT_LEN + TCP2_MSG_KEY_LEN + TCP2_AEAD_TAG_LEN)
#define MSG_SEALED_CHUNK	(TCP2_MSG_CHUNK + TCP2_AEAD_TAG_LEN)
#define MSG_FLAG_SIGNED		0x01
#define MSG_TRAILER_MAX		(TCP2_ED25519_SIG_LEN + 1)
#define MSG_PROTOCOL		"application/x-tcp2-message"
#define MSG_BOUNDARY_PREFIX	"=_tcp2_"
#define MSG_HEAD_COPY		TCP2_MSG_CHUNK	/* plaintext kept for From: */

/* Key-wrapping key and hint of one recipient key for this salt. */
int tcp2_msg_wrap_key(const uint8_t key[TCP2_MSG_KEY_LEN],
    const uint8_t salt[TCP2_MSG_SALT_LEN], uint8_t wk[TCP2_AEAD_KEY_LEN],
    uint8_t hint[MSG_HINT_LEN]);

/* Payload key of a message key. */
int tcp2_msg_payload_key(const uint8_t mk[TCP2_MSG_KEY_LEN],
    const uint8_t salt[TCP2_MSG_SALT_LEN], uint8_t pk[TCP2_AEAD_KEY_LEN]);

/* STREAM nonce: 11-byte big-endian chunk counter, then the last flag. */
void tcp2_msg_nonce(uint8_t nonce[TCP2_AEAD_NONCE_LEN], uint64_t counter,
    int last);

/* The bytes an Ed25519 signature covers; out holds TCP2_MSG_SIGIN_MAX. */
#define TCP2_MSG_SIGIN_MAX (32 + 2 * TCP2_SHA256_LEN + TCP2_ADDR_MAX)
size_t tcp2_msg_sig_input(uint8_t *out, const uint8_t hdrhash[32],
    const uint8_t bodyhash[32], const char *from_addr);

/* Is this a field the clear header keeps? */
int tcp2_msg_clear_field(const struct tcp2_hdr_field *f);

#endif /* TCP2_MESSAGE_INT_H */
