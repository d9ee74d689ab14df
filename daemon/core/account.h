/*
 * account.h - a mail account on this machine and its identity keys.
 *
 * An account is what the seed's registration records: the address, the
 * POP3 and SMTP endpoints, the login and password, and the policy for mail
 * to peers without a key.  Each account has its own identity: an Ed25519
 * signing key and an X25519 key, generated once, shown as a fingerprint.
 */
#ifndef TCP2_ACCOUNT_H
#define TCP2_ACCOUNT_H

#include <stdint.h>

#include <json-c/json.h>

#include "header.h"
#include "hold.h"

#define TCP2_ENDPOINT_MAX	280	/* "host:port", host up to 255 + [] */
#define TCP2_USER_MAX		256
#define TCP2_PASSWORD_MAX	256
#define TCP2_FPR_LEN		50	/* "xxxx xxxx ..." 10 groups, with NUL */
#define TCP2_CODE_LEN		15	/* "dddd dddd dddd", with NUL */

enum tcp2_policy {
	TCP2_POLICY_SIGNED = 0,	/* no key: send as is, signed */
	TCP2_POLICY_STRICT = 1,	/* no key: refuse, nothing leaves */
};

struct tcp2_account {
	char addr[TCP2_ADDR_MAX];
	char user[TCP2_USER_MAX];
	char password[TCP2_PASSWORD_MAX];
	char pop3[TCP2_ENDPOINT_MAX];
	char smtp[TCP2_ENDPOINT_MAX];
	enum tcp2_policy policy;
	struct tcp2_hold_policy hold;	/* which incoming mail is held */
	uint64_t created;
	uint8_t ed_sec[32], ed_pub[32];
	uint8_t x_sec[32], x_pub[32];
};

/* Fresh identity keys for a; other fields untouched. */
int tcp2_account_new_identity(struct tcp2_account *a);

/* Key that wraps the account's own copy of every message it sends. */
int tcp2_account_self_key(const struct tcp2_account *a, uint8_t key[32]);

/* Fingerprint of an identity (Ed25519 and X25519 public keys). */
void tcp2_fingerprint(const uint8_t ed_pub[32], const uint8_t x_pub[32],
    char out[TCP2_FPR_LEN]);

/* The 12-digit code two people read to each other to verify a pairing;
 * the same on both sides. */
void tcp2_comparison_code(const uint8_t ed_a[32], const uint8_t x_a[32],
    const uint8_t ed_b[32], const uint8_t x_b[32], char out[TCP2_CODE_LEN]);

const char *tcp2_policy_name(enum tcp2_policy p);
int tcp2_policy_parse(const char *s, enum tcp2_policy *p);

/* JSON record <-> account.  from_json checks the keys belong together;
 * a record without hold fields (older stores) gets the default policy. */
int tcp2_account_to_json(const struct tcp2_account *a, json_object **o);
int tcp2_account_from_json(json_object *o, struct tcp2_account *a);

/* Wipe secrets. */
void tcp2_account_wipe(struct tcp2_account *a);

#endif /* TCP2_ACCOUNT_H */
