/*
 * account.c - identity keys, fingerprints and the stored form of accounts.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "account.h"
#include "crypto.h"
#include "error.h"
#include "jsonrec.h"

int
tcp2_account_new_identity(struct tcp2_account *a)
{
	int rc;

	tcp2_crypto_random(a->ed_sec, sizeof(a->ed_sec));
	tcp2_crypto_random(a->x_sec, sizeof(a->x_sec));
	rc = tcp2_ed25519_public(a->ed_pub, a->ed_sec);
	if (rc == 0)
		rc = tcp2_x25519_public(a->x_pub, a->x_sec);
	if (a->created == 0)
		a->created = (uint64_t)time(NULL);
	return rc;
}

int
tcp2_account_self_key(const struct tcp2_account *a, uint8_t key[32])
{
	static const char info[] = "TCP2 v1 self key";
	uint8_t ikm[64];
	int rc;

	memcpy(ikm, a->ed_sec, 32);
	memcpy(ikm + 32, a->x_sec, 32);
	rc = tcp2_hkdf_sha256(key, 32, ikm, sizeof(ikm), NULL, 0, info,
	    sizeof(info) - 1);
	tcp2_crypto_wipe(ikm, sizeof(ikm));
	return rc;
}

static void
fpr_hash(const uint8_t ed[32], const uint8_t x[32], uint8_t h[32])
{
	static const char label[] = "TCP2 v1 fingerprint";
	uint8_t in[sizeof(label) + 64];

	memcpy(in, label, sizeof(label));
	memcpy(in + sizeof(label), ed, 32);
	memcpy(in + sizeof(label) + 32, x, 32);
	tcp2_sha256(h, in, sizeof(in));
}

void
tcp2_fingerprint(const uint8_t ed_pub[32], const uint8_t x_pub[32],
    char out[TCP2_FPR_LEN])
{
	static const char digits[] = "0123456789abcdef";
	uint8_t h[32];
	size_t i, o = 0;

	fpr_hash(ed_pub, x_pub, h);
	/* 20 bytes as 10 groups of 4 hex digits. */
	for (i = 0; i < 20; i++) {
		if (i > 0 && i % 2 == 0)
			out[o++] = ' ';
		out[o++] = digits[h[i] >> 4];
		out[o++] = digits[h[i] & 15];
	}
	out[o] = '\0';
}

void
tcp2_comparison_code(const uint8_t ed_a[32], const uint8_t x_a[32],
    const uint8_t ed_b[32], const uint8_t x_b[32], char out[TCP2_CODE_LEN])
{
	static const char label[] = "TCP2 v1 comparison code";
	uint8_t fa[32], fb[32], in[sizeof(label) + 64], h[32];
	uint64_t v = 0;
	int i, first;

	fpr_hash(ed_a, x_a, fa);
	fpr_hash(ed_b, x_b, fb);
	/* Order-independent: both people must see the same digits. */
	first = memcmp(fa, fb, 32) < 0;
	memcpy(in, label, sizeof(label));
	memcpy(in + sizeof(label), first ? fa : fb, 32);
	memcpy(in + sizeof(label) + 32, first ? fb : fa, 32);
	tcp2_sha256(h, in, sizeof(in));
	for (i = 0; i < 8; i++)
		v = v << 8 | h[i];
	v %= 1000000000000ULL;
	snprintf(out, TCP2_CODE_LEN, "%04u %04u %04u",
	    (unsigned)(v / 100000000ULL), (unsigned)(v / 10000 % 10000),
	    (unsigned)(v % 10000));
}

const char *
tcp2_policy_name(enum tcp2_policy p)
{
	return p == TCP2_POLICY_STRICT ? "strict" : "signed";
}

int
tcp2_policy_parse(const char *s, enum tcp2_policy *p)
{
	if (strcmp(s, "signed") == 0 || strcmp(s, "default") == 0)
		*p = TCP2_POLICY_SIGNED;
	else if (strcmp(s, "strict") == 0)
		*p = TCP2_POLICY_STRICT;
	else
		return TCP2_EINVAL;
	return 0;
}

static int
hold_to_json(json_object *o, const struct tcp2_hold_policy *h)
{
	char spec[TCP2_HOLD_SPEC_MAX];
	int rc;

	tcp2_hold_reasons_format(h->reasons, spec, sizeof(spec));
	if ((rc = tcp2_jr_set_str(o, "hold", spec)) != 0 ||
	    (rc = tcp2_jr_set_bool(o, "hold_all_attachments",
	    h->all_attachments)) != 0 ||
	    (rc = tcp2_jr_set_bool(o, "keep_ciphertext", h->keep_ciphertext)) ||
	    (rc = tcp2_jr_set_u64(o, "expire_days", h->expire_days)) != 0)
		return rc;
	return 0;
}

/* Hold fields came with version 0.2; a record without them is older and
 * gets the defaults. */
static int
hold_from_json(json_object *o, struct tcp2_hold_policy *h)
{
	char spec[TCP2_HOLD_SPEC_MAX], bad[80];
	uint64_t days;

	tcp2_hold_policy_default(h);
	if (!json_object_object_get_ex(o, "hold", NULL))
		return 0;
	if (tcp2_jr_get_str(o, "hold", spec, sizeof(spec)) != 0 ||
	    tcp2_hold_reasons_parse(spec, &h->reasons, bad, sizeof(bad)) ||
	    tcp2_jr_get_bool(o, "hold_all_attachments",
	    &h->all_attachments) != 0 ||
	    tcp2_jr_get_bool(o, "keep_ciphertext", &h->keep_ciphertext) ||
	    tcp2_jr_get_u64(o, "expire_days", &days) != 0 || days == 0 ||
	    days > 3650)
		return TCP2_EFORMAT;
	h->expire_days = (unsigned int)days;
	return 0;
}

int
tcp2_account_to_json(const struct tcp2_account *a, json_object **op)
{
	json_object *o = json_object_new_object();
	int rc;

	if (o == NULL)
		return TCP2_ENOMEM;
	if ((rc = tcp2_jr_set_str(o, "addr", a->addr)) != 0 ||
	    (rc = tcp2_jr_set_str(o, "user", a->user)) != 0 ||
	    (rc = tcp2_jr_set_str(o, "password", a->password)) != 0 ||
	    (rc = tcp2_jr_set_str(o, "pop3", a->pop3)) != 0 ||
	    (rc = tcp2_jr_set_str(o, "smtp", a->smtp)) != 0 ||
	    (rc = tcp2_jr_set_str(o, "policy", tcp2_policy_name(a->policy))) ||
	    (rc = tcp2_jr_set_u64(o, "created", a->created)) != 0 ||
	    (rc = hold_to_json(o, &a->hold)) != 0 ||
	    (rc = tcp2_jr_set_hex(o, "ed_sec", a->ed_sec, 32)) != 0 ||
	    (rc = tcp2_jr_set_hex(o, "x_sec", a->x_sec, 32)) != 0) {
		json_object_put(o);
		return rc;
	}
	*op = o;
	return 0;
}

int
tcp2_account_from_json(json_object *o, struct tcp2_account *a)
{
	char policy[16], norm[TCP2_ADDR_MAX];
	int rc;

	memset(a, 0, sizeof(*a));
	if ((rc = tcp2_jr_get_str(o, "addr", a->addr, sizeof(a->addr))) ||
	    (rc = tcp2_jr_get_str(o, "user", a->user, sizeof(a->user))) ||
	    (rc = tcp2_jr_get_str(o, "password", a->password,
	    sizeof(a->password))) ||
	    (rc = tcp2_jr_get_str(o, "pop3", a->pop3, sizeof(a->pop3))) ||
	    (rc = tcp2_jr_get_str(o, "smtp", a->smtp, sizeof(a->smtp))) ||
	    (rc = tcp2_jr_get_str(o, "policy", policy, sizeof(policy))) ||
	    (rc = tcp2_jr_get_u64(o, "created", &a->created)) ||
	    (rc = tcp2_jr_get_hex(o, "ed_sec", a->ed_sec, 32)) ||
	    (rc = tcp2_jr_get_hex(o, "x_sec", a->x_sec, 32)))
		goto bad;
	if ((rc = hold_from_json(o, &a->hold)) != 0)
		goto bad;
	rc = TCP2_EFORMAT;
	if (tcp2_policy_parse(policy, &a->policy) != 0 ||
	    tcp2_addr_norm(a->addr, norm) != 0 || strcmp(norm, a->addr) != 0)
		goto bad;
	if ((rc = tcp2_ed25519_public(a->ed_pub, a->ed_sec)) != 0 ||
	    (rc = tcp2_x25519_public(a->x_pub, a->x_sec)) != 0)
		goto bad;
	return 0;
bad:
	tcp2_account_wipe(a);
	return rc;
}

void
tcp2_account_wipe(struct tcp2_account *a)
{
	tcp2_crypto_wipe(a, sizeof(*a));
}
