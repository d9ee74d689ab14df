/*
 * pop3.h - the POP3 session rewriter (client retrieves mail).  See
 * rewriter.h for the contract and DESIGN 3 for what it does: observe
 * commands, decrypt TCP2 messages in RETR/TOP responses to the original,
 * verify and strip plaintext signatures, consume key-exchange mails (the
 * client gets a notice instead), registration logins, STLS pass-through.
 */
#ifndef TCP2_POP3_H
#define TCP2_POP3_H

#include "rewriter.h"

struct tcp2_pop3;

int tcp2_pop3_new(struct tcp2_pop3 **s, const struct tcp2_rw_env *env);
int tcp2_pop3_feed(struct tcp2_pop3 *s, enum tcp2_dir dir, const uint8_t *in,
    size_t len, tcp2_out_fn out, void *arg);
int tcp2_pop3_end(struct tcp2_pop3 *s, enum tcp2_dir dir, tcp2_out_fn out,
    void *arg);
size_t tcp2_pop3_held(const struct tcp2_pop3 *s, enum tcp2_dir dir);
int tcp2_pop3_is_passthrough(const struct tcp2_pop3 *s);
void tcp2_pop3_free(struct tcp2_pop3 *s);

#endif /* TCP2_POP3_H */
