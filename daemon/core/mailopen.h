/*
 * mailopen.h - open one whole mail held in memory, as the user's tools
 * need it (tcp2ctl show / decrypt, the tray app's viewer): decrypt a TCP2
 * message or check the signature line of a plain one, and say who signed
 * it.  Unlike the POP3 rewriter this is no retrieval: no replay
 * bookkeeping, nothing recorded.
 */
#ifndef TCP2_MAILOPEN_H
#define TCP2_MAILOPEN_H

#include <stddef.h>
#include <stdint.h>

#include "header.h"
#include "state.h"

struct tcp2_opened {
	uint8_t *plain;		/* malloc'd; free with tcp2_mail_opened_free */
	size_t len;
	int encrypted;		/* it was a TCP2 message */
	int sig;		/* enum tcp2_sig_status; -1: not signed */
	char signer[TCP2_ADDR_MAX];	/* "" when none */
};

/*
 * Open mail[0..len).  0 with *o filled; TCP2_ENOKEY (no key for it),
 * TCP2_EAUTH (tampered), TCP2_ETRUNC, TCP2_EFORMAT, TCP2_EVERSION for a
 * TCP2 message that cannot be decrypted; TCP2_ENOMEM.  No plaintext is
 * returned on error.
 */
int tcp2_mail_open(struct tcp2_state *st, const uint8_t *mail, size_t len,
    struct tcp2_opened *o);

/* The name of a verification result: verified, unverified, forged. */
const char *tcp2_mail_sig_name(int sig);

void tcp2_mail_opened_free(struct tcp2_opened *o);

#endif /* TCP2_MAILOPEN_H */
