/*
 * hasher.h - streaming SHA-256 that may run on a second thread, and may
 * pass the bytes it hashed on.
 *
 * The signature of a TCP2 message covers SHA-256 of the whole plaintext,
 * and on this class of machine that hash is the slowest stage (about
 * 1.8 GB/s against 2.3 GB/s for the AEAD).  With parallel set, a message
 * past TCP2_HASHER_THRESHOLD bytes is hashed by a worker thread, so the
 * hash overlaps the encryption.  The decoder also gives the hasher its
 * output: the worker hands each piece on after hashing it, so the copy
 * into tcp2-mail's held output (and the fresh pages it fills) costs the
 * worker's CPU, not the decrypting thread's.  The daemon keeps its single
 * thread (parallel off): everything then happens inline, in order.  The
 * digest and the bytes passed on are the same either way.
 */
#ifndef TCP2_HASHER_H
#define TCP2_HASHER_H

#include <stddef.h>
#include <stdint.h>

#define TCP2_HASHER_THRESHOLD	(1u << 20)	/* inline below this */
#define TCP2_HASHER_RING	(2u << 20)
#define TCP2_HASHER_BATCH	(512u << 10)	/* the worker wakes for this */

/* Where hashed bytes go on: 0, or a negative TCP2_E* code. */
typedef int (*tcp2_hasher_out_fn)(void *arg, const void *buf, size_t len);

struct tcp2_hasher;

/*
 * A hasher; out (may be NULL: hash only) receives every byte after it was
 * hashed, in order, on the worker thread once there is one: out must not
 * be called by anyone else meanwhile.  Errors: TCP2_ENOMEM, TCP2_ECRYPTO.
 */
int tcp2_hasher_new(struct tcp2_hasher **h, int parallel,
    tcp2_hasher_out_fn out, void *arg);

/*
 * Hash len bytes (copied: buf is the caller's again on return).  Returns
 * 0, or the first error out returned: inline at once, from the worker at
 * a later call or tcp2_hasher_final.  After an error nothing more is
 * passed on.
 */
int tcp2_hasher_write(struct tcp2_hasher *h, const void *buf, size_t len);

/* Wait for the worker, write the digest.  Returns 0 or out's first error;
 * every byte written before was passed on when it returns 0.  The hasher
 * can be freed only. */
int tcp2_hasher_final(struct tcp2_hasher *h, uint8_t digest[32]);

void tcp2_hasher_free(struct tcp2_hasher *h);

#endif /* TCP2_HASHER_H */
