/*
 * state.h - the mail core's persistent state and the operations on it:
 * accounts, peers, the key-exchange protocol, the keys a message is
 * encrypted to and the key lookup when one is decrypted, replay detection.
 *
 * Everything lives in an encrypted store (store.h) as three objects:
 * "accounts", "peers", "seen".  Every operation that changes state writes
 * it durably before it returns, so that, for instance, a key-exchange reply
 * is never handed out for a key that a crash could forget.
 * This is the API that tcp2-mail and the daemon's rewriters use.
 */
#ifndef TCP2_STATE_H
#define TCP2_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "account.h"
#include "message.h"
#include "peer.h"
#include "store.h"

struct tcp2_state;

/* Open (TCP2_STORE_CREATE: or create) the state in dir; see store.h for
 * the errors; TCP2_EFORMAT when an object does not parse. */
int tcp2_state_open(struct tcp2_state **s, const char *dir,
    const char *passphrase, unsigned int flags);
void tcp2_state_close(struct tcp2_state *s);
struct tcp2_store *tcp2_state_store(struct tcp2_state *s);

size_t tcp2_state_naccounts(const struct tcp2_state *s);
const struct tcp2_account *tcp2_state_account_at(const struct tcp2_state *s,
    size_t i);
/* The account with this address; addr NULL: the first one.  NULL if none. */
const struct tcp2_account *tcp2_state_account(const struct tcp2_state *s,
    const char *addr);

/* Add an account (address normalised) with a fresh identity.
 * TCP2_EEXIST when the address is taken, TCP2_EFORMAT on a bad address.
 * A hold policy with expire_days 0 means "not given": the default. */
int tcp2_state_account_add(struct tcp2_state *s, const struct tcp2_account *a);

/* Add the account, or update the endpoints, login and policy of the
 * existing one with that address (its identity is kept; its hold policy
 * too when a->hold.expire_days is 0). */
int tcp2_state_account_update(struct tcp2_state *s,
    const struct tcp2_account *a);

size_t tcp2_state_npeers(const struct tcp2_state *s);
const struct tcp2_peer *tcp2_state_peer_at(const struct tcp2_state *s,
    size_t i);
const struct tcp2_peer *tcp2_state_peer(const struct tcp2_state *s,
    const char *account, const char *addr);

/* What receiving a key-exchange mail did. */
enum tcp2_keyx_result {
	TCP2_KX_REPLIED,	/* new key; a reply mail is due (in out) */
	TCP2_KX_ESTABLISHED,	/* the reply to our request: new key */
	TCP2_KX_CHANGED,	/* another identity for a known address: held */
	TCP2_KX_REPLAY,		/* this exchange was processed before */
	TCP2_KX_OLD,		/* older than the last accepted exchange */
	TCP2_KX_UNSOLICITED,	/* a reply to no request of ours */
	TCP2_KX_SIMULTANEOUS,	/* both asked at once; ours wins */
	TCP2_KX_OWN,		/* our own mail */
};
const char *tcp2_keyx_result_text(enum tcp2_keyx_result r);

/*
 * Start an exchange from account (NULL: the first) to addr: writes the
 * key-exchange mail into out[outlen], *outlen_used its length; the peer is
 * "sent" until the reply arrives.  now is the Unix time.
 */
int tcp2_state_keyx_start(struct tcp2_state *s, const char *account,
    const char *addr, uint64_t now, char *out, size_t outlen,
    size_t *outlen_used);

/*
 * Process a received key-exchange mail.  *res says what happened; for
 * TCP2_KX_REPLIED the reply mail is in out (length *outlen_used, else 0).
 * Errors: tcp2_keyx_parse's, TCP2_ENOENT (not addressed to an account
 * here), store errors.
 */
int tcp2_state_keyx_recv(struct tcp2_state *s, const char *mail, size_t len,
    uint64_t now, enum tcp2_keyx_result *res, char *out, size_t outlen,
    size_t *outlen_used);

/*
 * The key-exchange block our user's outgoing "TCP2 key exchange" mail to
 * addr must carry: the reply due to their request when there is one (the
 * exchange is then complete on both sides), else a new request as
 * tcp2_state_keyx_start.  The block (not a whole mail) goes to out with
 * eol line ends; *is_reply says which.
 */
int tcp2_state_keyx_outgoing(struct tcp2_state *s, const char *account,
    const char *addr, uint64_t now, const char *eol, char *out,
    size_t outlen, size_t *outlen_used, int *is_reply);

/* Mark an established peer verified (codes compared).  TCP2_ENOENT,
 * TCP2_ESTATE (no key yet, or a changed identity pending). */
int tcp2_state_peer_verify(struct tcp2_state *s, const char *account,
    const char *addr);

/* Accept a changed identity: its held exchange is processed now (a reply
 * may be due, as for keyx_recv).  Reject keeps the old identity. */
int tcp2_state_peer_accept(struct tcp2_state *s, const char *account,
    const char *addr, uint64_t now, enum tcp2_keyx_result *res, char *out,
    size_t outlen, size_t *outlen_used);
int tcp2_state_peer_reject(struct tcp2_state *s, const char *account,
    const char *addr);
int tcp2_state_peer_forget(struct tcp2_state *s, const char *account,
    const char *addr);

/*
 * The keys a message from account to rcpts is encrypted to: each
 * recipient's current pairwise key, then the account's self key.  keys
 * must hold n + 1 entries.  TCP2_ENOKEY (no key) or TCP2_ESTATE (key
 * changed, not accepted) naming the recipient in *bad (index).
 */
int tcp2_state_message_keys(const struct tcp2_state *s,
    const struct tcp2_account *a, const char *const *rcpts, size_t n,
    uint8_t (*keys)[TCP2_MSG_KEY_LEN], size_t *nkeys, size_t *bad);

/* A tcp2_msg_lookup_fn: arg is the struct tcp2_state. */
int tcp2_state_lookup(void *arg, const char *from_addr,
    struct tcp2_msg_sender *sender);

/* Replay set: TCP2_EREPLAY (and *first_seen) when id was recorded
 * before; else it is recorded durably and 0 returned. */
int tcp2_state_seen_check_add(struct tcp2_state *s,
    const uint8_t id[TCP2_MSG_SALT_LEN], uint64_t now, uint64_t *first_seen);

/* Messages whose decryption failed in this process, so that the next
 * retrieval passes them as they are instead of failing again. */
int tcp2_state_failed(const struct tcp2_state *s,
    const uint8_t id[TCP2_MSG_SALT_LEN]);
int tcp2_state_failed_add(struct tcp2_state *s,
    const uint8_t id[TCP2_MSG_SALT_LEN]);

#endif /* TCP2_STATE_H */
