/*
 * plainsig.h - signatures on mail sent in clear (seed 003), streaming.
 *
 * When a recipient has no key, the default policy sends the mail as it is
 * but signed.  A header cannot carry the signature without holding the
 * whole message back, so the signature travels as one line appended at
 * the very end of the message:
 *
 *   TCP2-Signature: v=1; f=alice@example.org; n=0; s=<base64 64 bytes>
 *
 * n=1 when the signer added a line end because the message did not end
 * with one.  s = Ed25519(ed_sec, "TCP2 v1 plain signature\0" ||
 * SHA-256(the message bytes before the line, without an added line end)
 * || f).  In a multipart message the line falls in the epilogue, which mail
 * clients do not show; in a single text part it is the last line.  The
 * receiving side verifies it, strips it (restoring the exact bytes) and
 * reports verified / unverified (no line) / forged (bad signature, or f is
 * not the message's single From: address, or not the key owner).
 * A message is signed only when its single From: is the account's
 * registered address.  docs/FORMAT.md, section 4.
 */
#ifndef TCP2_PLAINSIG_H
#define TCP2_PLAINSIG_H

#include <stddef.h>
#include <stdint.h>

#include "message.h"

#define TCP2_PSIG_LINE_MAX	512	/* longest signature line accepted */

struct tcp2_psig_signer;

/* Bytes pass through to out unchanged; finish appends the line when the
 * From: found in the first TCP2_MSG_CHUNK bytes is sign_addr. */
int tcp2_psig_signer_new(struct tcp2_psig_signer **s,
    const uint8_t ed_sec[32], const char *sign_addr, tcp2_out_fn out,
    void *arg);
int tcp2_psig_signer_write(struct tcp2_psig_signer *s, const void *buf,
    size_t len);
/* *signed_out: 1 if the line was appended. */
int tcp2_psig_signer_finish(struct tcp2_psig_signer *s, int *signed_out);
void tcp2_psig_signer_free(struct tcp2_psig_signer *s);

struct tcp2_psig_verifier;

/* Bytes pass through to out except the last line, held (at most
 * TCP2_PSIG_LINE_MAX + 2) until finish shows whether it is a signature
 * line; lookup gives the sender's identity key (its keys are unused). */
int tcp2_psig_verifier_new(struct tcp2_psig_verifier **v,
    tcp2_msg_lookup_fn lookup, void *lookup_arg, tcp2_out_fn out,
    void *arg);
int tcp2_psig_verifier_write(struct tcp2_psig_verifier *v, const void *buf,
    size_t len);
int tcp2_psig_verifier_finish(struct tcp2_psig_verifier *v,
    enum tcp2_sig_status *status, int *was_signed);
size_t tcp2_psig_verifier_held(const struct tcp2_psig_verifier *v);
void tcp2_psig_verifier_free(struct tcp2_psig_verifier *v);

#endif /* TCP2_PLAINSIG_H */
