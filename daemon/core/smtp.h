/*
 * smtp.h - the SMTP session rewriter (client submits mail to its server).
 * See rewriter.h for the contract and DESIGN 3 / docs/FORMAT.md for what
 * it does: observe commands, encrypt DATA when every recipient has a key,
 * else the account's policy (signed plaintext, or "strict": a 5xx to the
 * client and nothing sent), key-exchange and registration mails, hide
 * CHUNKING, pass STARTTLS sessions through untouched.  The decisions
 * (SIZE, BDAT, end of data, bounds) are explained at the top of smtp.c.
 */
#ifndef TCP2_SMTP_H
#define TCP2_SMTP_H

#include "rewriter.h"

struct tcp2_smtp;

int tcp2_smtp_new(struct tcp2_smtp **s, const struct tcp2_rw_env *env);
int tcp2_smtp_feed(struct tcp2_smtp *s, enum tcp2_dir dir, const uint8_t *in,
    size_t len, tcp2_out_fn out, void *arg);
int tcp2_smtp_end(struct tcp2_smtp *s, enum tcp2_dir dir, tcp2_out_fn out,
    void *arg);
size_t tcp2_smtp_held(const struct tcp2_smtp *s, enum tcp2_dir dir);
int tcp2_smtp_is_passthrough(const struct tcp2_smtp *s);
void tcp2_smtp_free(struct tcp2_smtp *s);

/*
 * TESTS ONLY: fix the message key and salt of every message this session
 * encrypts, so that its output is a function of the input bytes alone
 * (tests compare outputs under different input segmentations).  Never
 * called by the daemon: a fixed key would make every message readable by
 * whoever knows it.
 */
void tcp2_smtp_test_fixed_keys(struct tcp2_smtp *s,
    const uint8_t mk[TCP2_MSG_KEY_LEN], const uint8_t salt[TCP2_MSG_SALT_LEN]);

#endif /* TCP2_SMTP_H */
