/*
 * peer.h - what an account knows about one correspondent: identity keys,
 * pairwise keys, the state of the key exchange, and the stored form.
 *
 * States (DESIGN 4): none -> sent -> established -> verified; "changed"
 * when a key-exchange mail from a known address brings another identity.
 * A changed identity is kept apart until the user accepts it; until then
 * nothing is encrypted to that peer.
 */
#ifndef TCP2_PEER_H
#define TCP2_PEER_H

#include <stdint.h>

#include <json-c/json.h>

#include "header.h"
#include "keyx.h"

#define TCP2_PEER_MAX_KEYS	4	/* current pairwise key and older ones */
#define TCP2_PEER_NONCES	16	/* key-exchange nonces remembered */
#define TCP2_PEER_BLOCK_MAX	TCP2_KEYX_BLOCK_MAX

enum tcp2_peer_state {
	TCP2_PEER_NONE,
	TCP2_PEER_SENT,
	TCP2_PEER_ESTABLISHED,
	TCP2_PEER_VERIFIED,
	TCP2_PEER_CHANGED,
};

struct tcp2_peer_key {
	uint8_t key[32];
	uint64_t created;
};

struct tcp2_peer {
	char account[TCP2_ADDR_MAX];	/* our account this belongs to */
	char addr[TCP2_ADDR_MAX];
	int has_identity;
	uint8_t ed_pub[32], x_pub[32];
	int verified;
	struct tcp2_peer_key keys[TCP2_PEER_MAX_KEYS];	/* newest first */
	unsigned int nkeys;
	uint64_t last_keyx;		/* Time of the last accepted block */
	/* Our outstanding init, while state is "sent". */
	int pending;
	uint8_t pend_eph_sec[32];
	uint8_t pend_hash[32];
	uint8_t pend_nonce[TCP2_KEYX_NONCE_LEN];
	/* A block that brought another identity, awaiting a decision. */
	int changed;
	char changed_block[TCP2_PEER_BLOCK_MAX];
	/* Our reply to their init, until our user's next key-exchange mail
	 * to them carries it (the seed: both sides send a fixed-form mail). */
	int reply_due;
	char reply_block[TCP2_PEER_BLOCK_MAX];
	/* Nonces of blocks already processed, a ring. */
	uint8_t nonces[TCP2_PEER_NONCES][TCP2_KEYX_NONCE_LEN];
	unsigned int nnonces;
};

enum tcp2_peer_state tcp2_peer_state(const struct tcp2_peer *p);
const char *tcp2_peer_state_name(enum tcp2_peer_state s);

/* Make key the current pairwise key; the oldest falls off. */
void tcp2_peer_push_key(struct tcp2_peer *p, const uint8_t key[32],
    uint64_t now);

int tcp2_peer_nonce_seen(const struct tcp2_peer *p, const uint8_t *nonce);
void tcp2_peer_nonce_add(struct tcp2_peer *p, const uint8_t *nonce);

int tcp2_peer_to_json(const struct tcp2_peer *p, json_object **o);
int tcp2_peer_from_json(json_object *o, struct tcp2_peer *p);

void tcp2_peer_wipe(struct tcp2_peer *p);

#endif /* TCP2_PEER_H */
