/*
 * hold.h - which incoming mail is held in quarantine, and why.
 *
 * The seed's receiving side does not only decrypt: it holds mail the user
 * should look at first and lets them decide (Receive / Discard).  This
 * file owns that policy and nothing else: the reasons an account holds
 * mail for, the decision for one mail from the facts the POP3 rewriter
 * gathered about it, the one-line explanation the user sees, and the
 * release token that marks a mail the user chose to receive so that it is
 * not held a second time.  docs/HOLD.md describes the policy for users.
 */
#ifndef TCP2_HOLD_H
#define TCP2_HOLD_H

#include <stddef.h>
#include <stdint.h>

/* Reasons an account holds mail for (bits of tcp2_hold_policy.reasons). */
#define TCP2_HOLD_FORGED	0x01	/* signature fails, From: mismatch */
#define TCP2_HOLD_CHANGED	0x02	/* the sender's key changed */
#define TCP2_HOLD_UNDECRYPTABLE	0x04	/* TCP2 mail we cannot decrypt */
#define TCP2_HOLD_HTML		0x08	/* HTML or other active content */
#define TCP2_HOLD_ATTACHMENTS	0x10	/* attachments (see .attachments) */
#define TCP2_HOLD_ENCRYPTED	0x20	/* every encrypted mail (the seed) */
#define TCP2_HOLD_UNSIGNED	0x40	/* no valid signature at all */
#define TCP2_HOLD_DEFAULT	(TCP2_HOLD_FORGED | TCP2_HOLD_CHANGED | \
	TCP2_HOLD_UNDECRYPTABLE | TCP2_HOLD_HTML | TCP2_HOLD_ATTACHMENTS)

#define TCP2_HOLD_SPEC_MAX	128	/* "forged,changed,..." */
#define TCP2_HOLD_REASON_MAX	512	/* the one line for the user */
#define TCP2_HOLD_EXPIRE_DEFAULT 30	/* days */
#define TCP2_HOLD_TOKEN_FIELD	"X-TCP2-Release"

struct tcp2_hold_policy {
	unsigned int reasons;
	int all_attachments;	/* 0: only risky types; 1: every one */
	int keep_ciphertext;	/* released mail is delivered encrypted */
	unsigned int expire_days;
};

/* What the rewriter learnt about one mail. */
struct tcp2_hold_att {
	const char *name;	/* may be "" */
	const char *type;
	int risky;
};

struct tcp2_hold_facts {
	int encrypted;
	int undecryptable;
	int sig;		/* enum tcp2_sig_status, -1: no signature */
	int key_changed;	/* the sender is a peer in state changed */
	int html;
	size_t natt;
	const struct tcp2_hold_att *att;
};

/* The defaults (TCP2_HOLD_DEFAULT, risky attachments, plaintext, 30 d). */
void tcp2_hold_policy_default(struct tcp2_hold_policy *p);

/*
 * Parse a reason list ("forged,changed,html", or "none") into p->reasons.
 * TCP2_EINVAL, with the unknown word in err (errlen bytes), on anything
 * else.  Format the reasons back with tcp2_hold_reasons_format.
 */
int tcp2_hold_reasons_parse(const char *spec, unsigned int *reasons,
    char *err, size_t errlen);
void tcp2_hold_reasons_format(unsigned int reasons, char *out,
    size_t outlen);

/*
 * Decide for one mail: 1 hold, 0 deliver.  When holding, why gets the one
 * line for the user ("attachment invoice.exe, sender unverified"); it is
 * always NUL-terminated.
 */
int tcp2_hold_decide(const struct tcp2_hold_policy *p,
    const struct tcp2_hold_facts *f, char *why, size_t whylen);

/* Is a file name or MIME type one that can run code (executables,
 * scripts, archives that hide them, macro-enabled documents)? */
int tcp2_hold_risky(const char *name, const char *type);

/*
 * The release token of held mail id for an account: 32 hex digits of
 * HMAC-SHA256 under a key derived from the account's identity secret, so
 * only this host can make one.  out must hold 33 bytes.  Errors: crypto's.
 */
#define TCP2_HOLD_TOKEN_LEN	33
int tcp2_hold_token(const uint8_t account_secret[32], const char *id,
    char out[TCP2_HOLD_TOKEN_LEN]);

/* Parse "ID TOKEN" (the field's value) and check the token: 0 and id set
 * when valid, TCP2_EAUTH when forged, TCP2_EFORMAT when malformed. */
int tcp2_hold_token_check(const uint8_t account_secret[32],
    const char *value, size_t len, char id[33]);

#endif /* TCP2_HOLD_H */
