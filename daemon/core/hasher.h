/*
 * hasher.h - streaming SHA-256 that may run on a second thread.
 *
 * The signature of a TCP2 message covers SHA-256 of the whole plaintext,
 * and on this class of machine that hash is the slowest stage of
 * encryption (about 1.8 GB/s against 3 GB/s for the AEAD).  With
 * parallel set, a message past TCP2_HASHER_THRESHOLD bytes is hashed by a
 * worker thread, so the hash overlaps the encryption: from a bounded ring
 * the writer copies into (tcp2_hasher_write), or from the caller's own
 * buffer (tcp2_hasher_lend).  The daemon keeps its single thread
 * (parallel off); tcp2-mail and the benchmark turn it on.  The digest is
 * the same.
 */
#ifndef TCP2_HASHER_H
#define TCP2_HASHER_H

#include <stddef.h>
#include <stdint.h>

#define TCP2_HASHER_THRESHOLD	(1u << 20)	/* inline below this */
#define TCP2_HASHER_RING	(2u << 20)
#define TCP2_HASHER_BATCH	(512u << 10)	/* the worker wakes for this */
#define TCP2_HASHER_LEND_MIN	(256u << 10)	/* lent below: copied */

struct tcp2_hasher;

/* Errors: TCP2_ENOMEM, TCP2_ECRYPTO. */
int tcp2_hasher_new(struct tcp2_hasher **h, int parallel);

/* Never fails once created: a worker that cannot start falls back to
 * hashing inline. */
void tcp2_hasher_write(struct tcp2_hasher *h, const void *buf, size_t len);

/*
 * Hash buf without copying it: the caller may read buf meanwhile, but
 * must not change or free it before tcp2_hasher_settle.  Smaller than
 * TCP2_HASHER_LEND_MIN, or without a worker, it goes the way of
 * tcp2_hasher_write instead.  Never fails.
 */
void tcp2_hasher_lend(struct tcp2_hasher *h, const void *buf, size_t len);

/* Wait until a lent buffer is hashed; at once if there is none. */
void tcp2_hasher_settle(struct tcp2_hasher *h);

/* Wait for the worker, write the digest.  The hasher can be freed only. */
void tcp2_hasher_final(struct tcp2_hasher *h, uint8_t out[32]);

void tcp2_hasher_free(struct tcp2_hasher *h);

#endif /* TCP2_HASHER_H */
