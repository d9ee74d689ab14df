/*
 * peer.c - peer state, pairwise key ring and the peers' stored form.
 */
#include <stdio.h>
#include <string.h>

#include "crypto.h"
#include "error.h"
#include "jsonrec.h"
#include "peer.h"

enum tcp2_peer_state
tcp2_peer_state(const struct tcp2_peer *p)
{
	if (p->changed)
		return TCP2_PEER_CHANGED;
	if (p->nkeys > 0)
		return p->verified ? TCP2_PEER_VERIFIED : TCP2_PEER_ESTABLISHED;
	if (p->pending)
		return TCP2_PEER_SENT;
	return TCP2_PEER_NONE;
}

const char *
tcp2_peer_state_name(enum tcp2_peer_state s)
{
	switch (s) {
	case TCP2_PEER_NONE:		return "none";
	case TCP2_PEER_SENT:		return "sent";
	case TCP2_PEER_ESTABLISHED:	return "established";
	case TCP2_PEER_VERIFIED:	return "verified";
	case TCP2_PEER_CHANGED:		return "changed";
	}
	return "?";
}

void
tcp2_peer_push_key(struct tcp2_peer *p, const uint8_t key[32], uint64_t now)
{
	if (p->nkeys == TCP2_PEER_MAX_KEYS) {
		tcp2_crypto_wipe(&p->keys[TCP2_PEER_MAX_KEYS - 1],
		    sizeof(p->keys[0]));
		p->nkeys--;
	}
	memmove(&p->keys[1], &p->keys[0], p->nkeys * sizeof(p->keys[0]));
	memcpy(p->keys[0].key, key, 32);
	p->keys[0].created = now;
	p->nkeys++;
}

int
tcp2_peer_nonce_seen(const struct tcp2_peer *p, const uint8_t *nonce)
{
	unsigned int i, n = p->nnonces < TCP2_PEER_NONCES ? p->nnonces :
	    TCP2_PEER_NONCES;

	for (i = 0; i < n; i++)
		if (memcmp(p->nonces[i], nonce, TCP2_KEYX_NONCE_LEN) == 0)
			return 1;
	return 0;
}

void
tcp2_peer_nonce_add(struct tcp2_peer *p, const uint8_t *nonce)
{
	memcpy(p->nonces[p->nnonces % TCP2_PEER_NONCES], nonce,
	    TCP2_KEYX_NONCE_LEN);
	p->nnonces++;
}

static int
keys_to_json(const struct tcp2_peer *p, json_object *o)
{
	json_object *arr = json_object_new_array(), *k;
	unsigned int i;
	int rc;

	if (arr == NULL || json_object_object_add(o, "keys", arr) != 0) {
		json_object_put(arr);
		return TCP2_ENOMEM;
	}
	for (i = 0; i < p->nkeys; i++) {
		k = json_object_new_object();
		if (k == NULL || json_object_array_add(arr, k) != 0) {
			json_object_put(k);
			return TCP2_ENOMEM;
		}
		if ((rc = tcp2_jr_set_hex(k, "key", p->keys[i].key, 32)) ||
		    (rc = tcp2_jr_set_u64(k, "created", p->keys[i].created)))
			return rc;
	}
	return 0;
}

static int
keys_from_json(json_object *o, struct tcp2_peer *p)
{
	json_object *arr, *k;
	size_t i, n;
	int rc;

	if (!json_object_object_get_ex(o, "keys", &arr) ||
	    !json_object_is_type(arr, json_type_array))
		return TCP2_EFORMAT;
	n = json_object_array_length(arr);
	if (n > TCP2_PEER_MAX_KEYS)
		return TCP2_EFORMAT;
	for (i = 0; i < n; i++) {
		k = json_object_array_get_idx(arr, i);
		if ((rc = tcp2_jr_get_hex(k, "key", p->keys[i].key, 32)) ||
		    (rc = tcp2_jr_get_u64(k, "created", &p->keys[i].created)))
			return rc;
	}
	p->nkeys = (unsigned int)n;
	return 0;
}

int
tcp2_peer_to_json(const struct tcp2_peer *p, json_object **op)
{
	json_object *o = json_object_new_object();
	uint8_t nonces[TCP2_PEER_NONCES * TCP2_KEYX_NONCE_LEN];
	int rc;

	if (o == NULL)
		return TCP2_ENOMEM;
	memcpy(nonces, p->nonces, sizeof(nonces));
	rc = tcp2_jr_set_str(o, "account", p->account);
	if (!rc) rc = tcp2_jr_set_str(o, "addr", p->addr);
	if (!rc && p->has_identity) rc = tcp2_jr_set_hex(o, "ed_pub", p->ed_pub, 32);
	if (!rc && p->has_identity) rc = tcp2_jr_set_hex(o, "x_pub", p->x_pub, 32);
	if (!rc) rc = tcp2_jr_set_bool(o, "verified", p->verified);
	if (!rc) rc = keys_to_json(p, o);
	if (!rc) rc = tcp2_jr_set_u64(o, "last_keyx", p->last_keyx);
	if (!rc && p->pending) rc = tcp2_jr_set_hex(o, "pend_eph_sec", p->pend_eph_sec, 32);
	if (!rc && p->pending) rc = tcp2_jr_set_hex(o, "pend_hash", p->pend_hash, 32);
	if (!rc && p->pending) rc = tcp2_jr_set_hex(o, "pend_nonce", p->pend_nonce, TCP2_KEYX_NONCE_LEN);
	if (!rc && p->changed) rc = tcp2_jr_set_str(o, "changed_block", p->changed_block);
	if (!rc && p->reply_due) rc = tcp2_jr_set_str(o, "reply_block", p->reply_block);
	if (!rc) rc = tcp2_jr_set_hex(o, "nonces", nonces, sizeof(nonces));
	if (!rc) rc = tcp2_jr_set_u64(o, "nnonces", p->nnonces);
	if (rc) {
		json_object_put(o);
		return rc;
	}
	*op = o;
	return 0;
}

int
tcp2_peer_from_json(json_object *o, struct tcp2_peer *p)
{
	uint8_t nonces[TCP2_PEER_NONCES * TCP2_KEYX_NONCE_LEN];
	uint64_t nn;
	int rc;

	memset(p, 0, sizeof(*p));
	if ((rc = tcp2_jr_get_str(o, "account", p->account, sizeof(p->account))) ||
	    (rc = tcp2_jr_get_str(o, "addr", p->addr, sizeof(p->addr))) ||
	    (rc = tcp2_jr_get_bool(o, "verified", &p->verified)) ||
	    (rc = keys_from_json(o, p)) ||
	    (rc = tcp2_jr_get_u64(o, "last_keyx", &p->last_keyx)) ||
	    (rc = tcp2_jr_get_hex(o, "nonces", nonces, sizeof(nonces))) ||
	    (rc = tcp2_jr_get_u64(o, "nnonces", &nn)))
		goto bad;
	memcpy(p->nonces, nonces, sizeof(nonces));
	/* Only the ring position (nn mod N) and "full or not" matter. */
	p->nnonces = nn < TCP2_PEER_NONCES ? (unsigned int)nn :
	    TCP2_PEER_NONCES + (unsigned int)(nn % TCP2_PEER_NONCES);
	if (json_object_object_get_ex(o, "ed_pub", NULL)) {
		if ((rc = tcp2_jr_get_hex(o, "ed_pub", p->ed_pub, 32)) ||
		    (rc = tcp2_jr_get_hex(o, "x_pub", p->x_pub, 32)))
			goto bad;
		p->has_identity = 1;
	}
	if (json_object_object_get_ex(o, "pend_eph_sec", NULL)) {
		if ((rc = tcp2_jr_get_hex(o, "pend_eph_sec", p->pend_eph_sec, 32)) ||
		    (rc = tcp2_jr_get_hex(o, "pend_hash", p->pend_hash, 32)) ||
		    (rc = tcp2_jr_get_hex(o, "pend_nonce", p->pend_nonce,
		    TCP2_KEYX_NONCE_LEN)))
			goto bad;
		p->pending = 1;
	}
	if (json_object_object_get_ex(o, "changed_block", NULL)) {
		if ((rc = tcp2_jr_get_str(o, "changed_block", p->changed_block,
		    sizeof(p->changed_block))))
			goto bad;
		p->changed = 1;
	}
	if (json_object_object_get_ex(o, "reply_block", NULL)) {
		if ((rc = tcp2_jr_get_str(o, "reply_block", p->reply_block,
		    sizeof(p->reply_block))))
			goto bad;
		p->reply_due = 1;
	}
	return 0;
bad:
	tcp2_peer_wipe(p);
	return rc;
}

void
tcp2_peer_wipe(struct tcp2_peer *p)
{
	tcp2_crypto_wipe(p, sizeof(*p));
}
