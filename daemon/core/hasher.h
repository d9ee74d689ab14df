/*
 * hasher.h - streaming SHA-256 that may run on a second thread.
 *
 * The signature of a TCP2 message covers SHA-256 of the whole plaintext,
 * and on this class of machine that hash is the slowest stage (about
 * 1.8 GB/s against 3 GB/s for the AEAD).  With parallel set, a message
 * past TCP2_HASHER_THRESHOLD bytes is hashed by a worker thread from a
 * bounded ring the writer copies into, or reads into in place
 * (tcp2_hasher_space), so the hash overlaps the encryption.  The daemon
 * keeps its single thread (parallel off); tcp2-mail and the benchmark
 * turn it on.  The digest is the same.
 */
#ifndef TCP2_HASHER_H
#define TCP2_HASHER_H

#include <stddef.h>
#include <stdint.h>

/* Inline below this.  The worker starts early: the second CPU is idle
 * at the start.  (At 1 MiB, the first MiB was hashed on the caller's
 * thread: a 10 MB decrypt 0.6 ms slower.) */
#define TCP2_HASHER_THRESHOLD	(64u << 10)
#define TCP2_HASHER_RING	(2u << 20)
#define TCP2_HASHER_BATCH	(512u << 10)	/* the worker wakes for this */

struct tcp2_hasher;

/* Errors: TCP2_ENOMEM, TCP2_ECRYPTO. */
int tcp2_hasher_new(struct tcp2_hasher **h, int parallel);

/* Hash len bytes (copied: buf is the caller's again on return).  Never
 * fails once created: a worker that cannot start falls back to hashing
 * inline. */
void tcp2_hasher_write(struct tcp2_hasher *h, const void *buf, size_t len);

/*
 * For a writer that can produce its bytes in place (a read(2)): room in
 * the worker's ring for the next bytes to hash, *room of them (waits
 * while the ring is full), or NULL when there is no worker (yet, or at
 * all): then tcp2_hasher_write.  Write at most *room bytes there and
 * pass their count to tcp2_hasher_commit, or nothing (one commit, only
 * after a space that was not NULL, of at most its room).  Committed bytes
 * stay as they are, for the writer to read, until its next
 * tcp2_hasher_space or tcp2_hasher_write: the worker only reads them.
 */
uint8_t *tcp2_hasher_space(struct tcp2_hasher *h, size_t *room);
void tcp2_hasher_commit(struct tcp2_hasher *h, size_t n);

/* Wait for the worker, write the digest.  The hasher can be freed only. */
void tcp2_hasher_final(struct tcp2_hasher *h, uint8_t out[32]);

void tcp2_hasher_free(struct tcp2_hasher *h);

#endif /* TCP2_HASHER_H */
