/*
 * hasher.h - streaming SHA-256 that may run on a second thread.
 *
 * The signature of a TCP2 message covers SHA-256 of the whole plaintext,
 * and on this class of machine that hash is the slowest stage (about
 * 1.8 GB/s against 3 GB/s for the AEAD).  With parallel set, a message
 * past TCP2_HASHER_THRESHOLD bytes is hashed by a worker thread from a
 * bounded ring the writer copies into, so the hash overlaps the
 * encryption.  The daemon keeps its single thread (parallel off);
 * tcp2-mail and the benchmark turn it on.  The digest is the same.
 */
#ifndef TCP2_HASHER_H
#define TCP2_HASHER_H

#include <stddef.h>
#include <stdint.h>

#define TCP2_HASHER_THRESHOLD	(1u << 20)	/* inline below this */
#define TCP2_HASHER_RING	(2u << 20)
#define TCP2_HASHER_BATCH	(512u << 10)	/* the worker wakes for this */

struct tcp2_hasher;

/* Errors: TCP2_ENOMEM, TCP2_ECRYPTO. */
int tcp2_hasher_new(struct tcp2_hasher **h, int parallel);

/* Hash len bytes (copied: buf is the caller's again on return).  Never
 * fails once created: a worker that cannot start falls back to hashing
 * inline. */
void tcp2_hasher_write(struct tcp2_hasher *h, const void *buf, size_t len);

/* Wait for the worker, write the digest.  The hasher can be freed only. */
void tcp2_hasher_final(struct tcp2_hasher *h, uint8_t out[32]);

void tcp2_hasher_free(struct tcp2_hasher *h);

#endif /* TCP2_HASHER_H */
