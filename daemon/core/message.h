/*
 * message.h - the TCP2 message format v1: streaming encoder and decoder.
 *
 * A TCP2 message is an RFC 5322 / RFC 1847 multipart/encrypted message.
 * Its clear header copies only what delivery and threading need (From,
 * To, Cc, Date, Message-ID, In-Reply-To, References) and a placeholder
 * Subject; the whole original message, byte for byte, is inside a chunked
 * ChaCha20-Poly1305 stream, base64-encoded in the second MIME part.  Past
 * its first chunk the original's own base64 lines travel as the bytes they
 * encode (pack.h).  The byte layout is specified in docs/FORMAT.md.
 *
 * Both directions stream with bounded lag: the encoder holds at most one
 * plaintext chunk (TCP2_MSG_CHUNK bytes, standing for at most 78/57 as
 * many input bytes) and two blocks of packed lines before it produces the
 * corresponding output, the decoder at most one encoded chunk, one line
 * and one block; both stay under TCP2_MSG_MAX_LAG.  For fixed keys and salt the
 * encoder's output depends only on the input bytes, never on how they were
 * split across tcp2_msg_enc_write calls.
 */
#ifndef TCP2_MESSAGE_H
#define TCP2_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

#include "header.h"

#define TCP2_MSG_VERSION	2	/* the stream version written */
#define TCP2_MSG_VERSION_UNPACKED 1	/* read too: no packed lines */
#define TCP2_MSG_CHUNK		16384	/* plaintext bytes per AEAD chunk */
#define TCP2_MSG_MAX_LAG	32768	/* bound on bytes held, both ways */
#define TCP2_MSG_SALT_LEN	16	/* per-message random, also its ID */
#define TCP2_MSG_KEY_LEN	32
#define TCP2_MSG_MAX_RCPT	128	/* key wraps per message */
#define TCP2_MSG_MAX_KEYS	8	/* candidate keys per sender */
#define TCP2_MSG_FIELD_MAX	4096	/* longest clear header field kept */
#define TCP2_MSG_SUBJECT	"[TCP2 encrypted message]"

/* Output sink: returns 0, or a negative TCP2_E* code to abort. */
typedef int (*tcp2_out_fn)(void *arg, const void *buf, size_t len);

struct tcp2_msg_enc_params {
	/* One pairwise key per recipient, plus the sender's self key so
	 * that the sender can read its own copy. */
	const uint8_t (*keys)[TCP2_MSG_KEY_LEN];
	size_t nkeys;
	/* Ed25519 seed of the sending account, or NULL: never sign. */
	const uint8_t *sign_sec;
	/* The account's registered address: the message is signed only
	 * when its From: is exactly this mailbox (seed 003). */
	const char *sign_addr;
	/* Hash for the signature on a second thread (hasher.h); the daemon
	 * leaves this 0 and stays single-threaded. */
	int parallel;
	/* Tests only: fixed message key and salt; NULL means random. */
	const uint8_t *fixed_mk;
	const uint8_t *fixed_salt;
	tcp2_out_fn out;
	void *arg;
};

struct tcp2_msg_enc;

/* Errors: TCP2_EINVAL (no keys, too many), TCP2_ENOMEM, TCP2_ECRYPTO. */
int tcp2_msg_enc_new(struct tcp2_msg_enc **e,
    const struct tcp2_msg_enc_params *p);

/* Feed original message bytes.  Errors come from the sink or crypto; after
 * an error the encoder is dead and only tcp2_msg_enc_free is valid. */
int tcp2_msg_enc_write(struct tcp2_msg_enc *e, const void *buf, size_t len);

/*
 * Feed original message bytes in place, for a caller that reads them
 * (tcp2-mail): tcp2_msg_enc_space gives a buffer of the encoder's and its
 * size in *room; fill up to *room bytes and pass their count to
 * tcp2_msg_enc_commit, which takes them as tcp2_msg_enc_write would.  A
 * space not committed is simply dropped (end of input).  With the hash on
 * a second thread the buffer lies in the hasher's ring, so the bytes
 * signed are those encrypted without a copy between.  A space allows one
 * commit, with no tcp2_msg_enc_write between.  space returns NULL only
 * when the encoder is dead or out of memory.  commit returns what
 * tcp2_msg_enc_write returns (the encoder then dead), or, leaving it
 * alive: TCP2_EINVAL for n over the room, TCP2_ENOMEM without a space
 * (none asked for, already committed, or NULL).
 */
uint8_t *tcp2_msg_enc_space(struct tcp2_msg_enc *e, size_t *room);
int tcp2_msg_enc_commit(struct tcp2_msg_enc *e, size_t n);

/* End of the original message: writes the last chunk and the MIME end. */
int tcp2_msg_enc_finish(struct tcp2_msg_enc *e);

/* Input bytes consumed whose output has not been produced yet. */
size_t tcp2_msg_enc_held(const struct tcp2_msg_enc *e);

/* After finish: 1 if the message was signed (From: matched). */
int tcp2_msg_enc_signed(const struct tcp2_msg_enc *e);

/* Wipes all key material. */
void tcp2_msg_enc_free(struct tcp2_msg_enc *e);

/* What the receiver knows about the sender named by the clear From:. */
struct tcp2_msg_sender {
	char addr[TCP2_ADDR_MAX];	/* the peer these keys belong to */
	uint8_t keys[TCP2_MSG_MAX_KEYS][TCP2_MSG_KEY_LEN];
	size_t nkeys;			/* current key first, then older */
	uint8_t ed_pub[32];		/* the peer's identity signing key */
};

/* Key lookup: fill *s for from_addr; 0, or TCP2_ENOKEY. */
typedef int (*tcp2_msg_lookup_fn)(void *arg, const char *from_addr,
    struct tcp2_msg_sender *s);

enum tcp2_sig_status {
	TCP2_SIG_UNVERIFIED = 0,	/* no signature; From: matches key */
	TCP2_SIG_VERIFIED = 1,		/* good signature, From: matches */
	TCP2_SIG_FORGED = 2,		/* bad signature or From:/key mismatch */
};

#define TCP2_DEC_KEEP_TRACE	0x1	/* emit server trace fields first */

struct tcp2_msg_dec_params {
	tcp2_msg_lookup_fn lookup;
	void *lookup_arg;
	tcp2_out_fn out;
	void *arg;
	unsigned int flags;
	int parallel;		/* as in tcp2_msg_enc_params */
};

struct tcp2_msg_dec;

int tcp2_msg_dec_new(struct tcp2_msg_dec **d,
    const struct tcp2_msg_dec_params *p);

/*
 * Feed TCP2 message bytes.  Plaintext reaches the sink only after its
 * chunk authenticated.  Errors: TCP2_EFORMAT (not a TCP2 message, bad
 * MIME/base64), TCP2_EVERSION, TCP2_ENOKEY, TCP2_EAUTH (tampered, dropped,
 * reordered or duplicated chunk), TCP2_ETOOBIG; the decoder is dead after.
 */
int tcp2_msg_dec_write(struct tcp2_msg_dec *d, const void *buf, size_t len);

/* End of input: TCP2_ETRUNC when the final chunk was not seen. */
int tcp2_msg_dec_finish(struct tcp2_msg_dec *d);

/* Bytes held (line, field and chunk buffers). */
size_t tcp2_msg_dec_held(const struct tcp2_msg_dec *d);

/* After finish: signature status, the message ID (salt), the sender. */
enum tcp2_sig_status tcp2_msg_dec_status(const struct tcp2_msg_dec *d);
const uint8_t *tcp2_msg_dec_salt(const struct tcp2_msg_dec *d);
const char *tcp2_msg_dec_sender(const struct tcp2_msg_dec *d);
/* Why the status is FORGED, or "" (static text). */
const char *tcp2_msg_dec_reason(const struct tcp2_msg_dec *d);

void tcp2_msg_dec_free(struct tcp2_msg_dec *d);

/* 1 if the header block at buf looks like a TCP2 message (cheap test on
 * Content-Type), for callers deciding whether to decode. */
int tcp2_msg_is_encrypted(const char *buf, size_t len);

#endif /* TCP2_MESSAGE_H */
