/*
 * rewriter.h - the seam between the splice engine (daemon/net) and the
 * mail core: a session rewriter turns the two in-order byte streams of one
 * SMTP or POP3 connection into the two byte streams the peers receive.
 *
 * The splice engine knows nothing about mail; the rewriter knows nothing
 * about packets.  The engine calls tcp2_rw_feed with each direction's new
 * in-order bytes exactly once and sends on whatever the rewriter writes to
 * the sink; it maps sequence numbers and acknowledgements between the two
 * spaces itself.  A rewriter may hold input back (a command line being
 * read, an AEAD chunk being filled) but never more than TCP2_RW_MAX_HELD
 * bytes per direction, and it reports how many it holds: the engine does
 * not acknowledge held bytes to their sender.
 *
 * Failure model (SPLICE-NOTES "Mail-level failure rules"): when a message
 * cannot be transformed safely the rewriter returns TCP2_EABORT and the
 * engine resets the connection both ways at once, before anything that
 * would complete a transaction (SMTP final dot, POP3 terminating dot)
 * reaches its receiver.  Nothing is ever passed through in clear instead.
 */
#ifndef TCP2_REWRITER_H
#define TCP2_REWRITER_H

#include <stddef.h>
#include <stdint.h>

#include "message.h"	/* tcp2_out_fn */

struct tcp2_state;

#define TCP2_RW_MAX_HELD	(48u * 1024)	/* per direction */
#define TCP2_EABORT		(-100)		/* reset the connection now */

enum tcp2_dir {
	TCP2_C2S = 0,		/* client to server */
	TCP2_S2C = 1,		/* server to client */
};

enum tcp2_proto {
	TCP2_PROTO_SMTP = 1,
	TCP2_PROTO_POP3 = 2,
};

/*
 * Events a rewriter reports; the daemon logs them and pushes them to
 * control-socket subscribers.  text is one line for people; fields are
 * "key", "value" pairs, NULL-terminated, for programs.
 */
typedef void (*tcp2_event_fn)(void *arg, const char *type, const char *text,
    const char *const *fields);

/*
 * The seed's registration (fig. 8-10), armed by "tcp2ctl register": the
 * next POP3 login that succeeds (USER, PASS, +OK) gives the POP3 endpoint,
 * login and password; the next SMTP transaction carrying a mail with
 * Subject "TCP2 registration" that the server accepts (250 after the
 * final dot) gives the SMTP endpoint and the address (its From:).  When
 * both are known the rewriter stores the account
 * (tcp2_state_account_update), emits a "registration" event and disarms.
 * One instance per daemon, shared by all sessions (single-threaded).
 */
#define TCP2_REGISTRATION_SUBJECT "TCP2 registration"
struct tcp2_registration {
	int armed;
	int have_pop3, have_smtp;
	char pop3[280], smtp[280];	/* "host:port" */
	char user[256], password[256];
	char addr[256];
};

/*
 * Memory that rewriters of one daemon may use together for mail they
 * examine whole (a POP3 RETR response collected before it is passed on
 * or held): used never exceeds max.  One per daemon (single-threaded).
 */
struct tcp2_rw_budget {
	size_t used, max;
};

struct tcp2_rw_env {
	struct tcp2_state *state;	/* accounts, peers, store */
	/* The account that owns this endpoint, or NULL when the endpoint is
	 * captured only for registration. */
	const char *account;
	/* The server end of this connection, "ip:port" ("[ip6]:port"). */
	const char *endpoint;
	struct tcp2_registration *reg;	/* may be NULL */
	tcp2_event_fn event;
	void *event_arg;
	uint64_t (*now)(void);		/* Unix time; NULL means time(NULL) */
	struct tcp2_rw_budget *budget;	/* NULL: only per-flow bounds */
};

struct tcp2_rw;

/* Errors: TCP2_EINVAL (protocol), TCP2_ENOMEM. */
int tcp2_rw_new(struct tcp2_rw **rw, enum tcp2_proto proto,
    const struct tcp2_rw_env *env);

/*
 * New in-order bytes of direction dir.  Output for that direction goes to
 * out(arg, ...), possibly later than its input (held bytes), never out of
 * order.  Returns 0, TCP2_EABORT, or TCP2_ENOMEM (treated as abort).
 */
int tcp2_rw_feed(struct tcp2_rw *rw, enum tcp2_dir dir, const uint8_t *in,
    size_t len, tcp2_out_fn out, void *arg);

/* Direction dir ended (FIN): flush what can be flushed.  0 or TCP2_EABORT
 * (e.g. a message cut in the middle: it must not be completed). */
int tcp2_rw_end(struct tcp2_rw *rw, enum tcp2_dir dir, tcp2_out_fn out,
    void *arg);

/* Input bytes of dir consumed but not yet represented in its output. */
size_t tcp2_rw_held(const struct tcp2_rw *rw, enum tcp2_dir dir);

/* 1 once the session only copies bytes (TLS after STARTTLS/STLS, or an
 * unprotected session): the engine may take its fast path. */
int tcp2_rw_is_passthrough(const struct tcp2_rw *rw);

void tcp2_rw_free(struct tcp2_rw *rw);

/*
 * Any other rewriter (the engine's tests use an expanding one): the same
 * five operations on an implementation pointer, which tcp2_rw_free hands
 * to ops->free.
 */
struct tcp2_rw_ops {
	int (*feed)(void *impl, enum tcp2_dir dir, const uint8_t *in,
	    size_t len, tcp2_out_fn out, void *arg);
	int (*end)(void *impl, enum tcp2_dir dir, tcp2_out_fn out, void *arg);
	size_t (*held)(const void *impl, enum tcp2_dir dir);
	int (*is_passthrough)(const void *impl);
	void (*free)(void *impl);
};

int tcp2_rw_custom(struct tcp2_rw **rw, const struct tcp2_rw_ops *ops,
    void *impl);

#endif /* TCP2_REWRITER_H */
