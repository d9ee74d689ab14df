/*
 * hasher.c - SHA-256 inline, or on one worker thread.
 *
 * The worker takes data from a single-producer, single-consumer byte ring
 * under one mutex: the writer copies in (or reads in place, through
 * tcp2_hasher_space) and signals once a batch
 * (TCP2_HASHER_BATCH) waits; the worker hashes the largest contiguous
 * filled span outside the lock and frees it (the decoder's 16 KiB pieces:
 * waking the worker for each cost more context switches than hashing).
 * The bytes are hashed in the order they were given.
 *
 * The worker is started by tcp2_worker_start, off the writer's CPU (see
 * worker.h); with one CPU allowed there is none, and the hash is inline.
 * (Passing the decoder's plaintext on to tcp2-mail's held output from the
 * worker was tried: the decrypting thread then waited on the ring more
 * often, was woken onto the worker's CPU, and a 10 MB decrypt went from
 * 19.3 ms to 21.3 ms, some runs 30 to 45 ms.)
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "bigbuf.h"
#include "crypto.h"
#include "error.h"
#include "hasher.h"
#include "worker.h"

struct tcp2_hasher {
	struct tcp2_sha256_ctx *sha;
	int parallel, threaded;
	size_t total;
	struct tcp2_worker wk;	/* wk.stop: hash what is left, then end */
	uint8_t *ring;
	size_t head, fill;	/* read position, bytes waiting */
	size_t ring_hi;		/* ring bytes ever written or lent (to wipe) */
	int worker_waits;	/* signal only a side that sleeps */
	int writer_waits;
};

/* Whether the worker has something to do (called under mu). */
static int
work_ready(const struct tcp2_hasher *h)
{
	return h->wk.stop || h->fill >= TCP2_HASHER_BATCH;
}

static void *
worker(void *arg)
{
	struct tcp2_hasher *h = arg;
	size_t n;

	pthread_mutex_lock(&h->wk.mu);
	for (;;) {
		while (!work_ready(h)) {
			h->worker_waits = 1;
			pthread_cond_wait(&h->wk.cv, &h->wk.mu);
			h->worker_waits = 0;
		}
		if (h->fill == 0 && h->wk.stop)
			break;
		n = h->fill;
		if (n > TCP2_HASHER_RING - h->head)
			n = TCP2_HASHER_RING - h->head;
		pthread_mutex_unlock(&h->wk.mu);
		tcp2_sha256_write(h->sha, h->ring + h->head, n);
		pthread_mutex_lock(&h->wk.mu);
		h->head = (h->head + n) % TCP2_HASHER_RING;
		h->fill -= n;
		if (h->writer_waits)
			pthread_cond_broadcast(&h->wk.cv);
	}
	pthread_mutex_unlock(&h->wk.mu);
	return NULL;
}

int
tcp2_hasher_new(struct tcp2_hasher **hp, int parallel)
{
	struct tcp2_hasher *h = calloc(1, sizeof(*h));
	int rc;

	if (h == NULL)
		return TCP2_ENOMEM;
	if ((rc = tcp2_sha256_open(&h->sha)) != 0) {
		free(h);
		return rc;
	}
	h->parallel = parallel;
	*hp = h;
	return 0;
}

static void
start_worker(struct tcp2_hasher *h)
{
	size_t cap;

	/* One huge page where the kernel has them: one fault, not 512. */
	h->ring = tcp2_bigbuf_alloc(TCP2_HASHER_RING, &cap);
	if (h->ring == NULL) {
		h->parallel = 0;
		return;
	}
	if (tcp2_worker_start(&h->wk, "tcp2-hash", worker, h) != 0) {
		free(h->ring);
		h->ring = NULL;
		h->parallel = 0;	/* inline, without trying again */
		return;
	}
	h->threaded = 1;
}

/* Start the worker once the bytes given, len more counted, reach the
 * threshold. */
static void
maybe_start(struct tcp2_hasher *h, size_t len)
{
	if (!h->threaded && h->parallel &&
	    h->total + len >= TCP2_HASHER_THRESHOLD)
		start_worker(h);
}

/* Where the writer's next byte goes (under mu): the worker moves head
 * and fill together, so the tail stays put while it hashes. */
static size_t
ring_tail(const struct tcp2_hasher *h)
{
	return (h->head + h->fill) % TCP2_HASHER_RING;
}

/* The free span at the ring's tail, after waiting for one (under mu). */
static size_t
ring_room(struct tcp2_hasher *h, size_t *tail)
{
	size_t n;

	while (h->fill == TCP2_HASHER_RING) {
		h->writer_waits = 1;
		pthread_cond_wait(&h->wk.cv, &h->wk.mu);
		h->writer_waits = 0;
	}
	*tail = ring_tail(h);
	n = TCP2_HASHER_RING - h->fill;
	if (n > TCP2_HASHER_RING - *tail)
		n = TCP2_HASHER_RING - *tail;
	return n;
}

/* n bytes written at the tail are the worker's (under mu). */
static void
ring_commit(struct tcp2_hasher *h, size_t tail, size_t n)
{
	if (tail + n > h->ring_hi)
		h->ring_hi = tail + n;
	h->fill += n;
	if (h->worker_waits && work_ready(h))
		pthread_cond_broadcast(&h->wk.cv);
}

void
tcp2_hasher_write(struct tcp2_hasher *h, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	size_t tail, n;

	maybe_start(h, len);
	h->total += len;
	if (!h->threaded) {
		tcp2_sha256_write(h->sha, buf, len);
		return;
	}
	pthread_mutex_lock(&h->wk.mu);
	while (len > 0) {
		n = ring_room(h, &tail);
		if (n > len)
			n = len;
		/* The worker only reads [head, head + fill): tail is ours. */
		pthread_mutex_unlock(&h->wk.mu);
		memcpy(h->ring + tail, p, n);
		pthread_mutex_lock(&h->wk.mu);
		ring_commit(h, tail, n);
		p += n;
		len -= n;
	}
	pthread_mutex_unlock(&h->wk.mu);
}

uint8_t *
tcp2_hasher_space(struct tcp2_hasher *h, size_t *room)
{
	size_t tail;

	maybe_start(h, 0);
	if (!h->threaded)
		return NULL;
	pthread_mutex_lock(&h->wk.mu);
	*room = ring_room(h, &tail);
	pthread_mutex_unlock(&h->wk.mu);
	/* The writer may fill the room and then not commit (a read past
	 * its limit): wiped all the same. */
	if (tail + *room > h->ring_hi)
		h->ring_hi = tail + *room;
	return h->ring + tail;
}

void
tcp2_hasher_commit(struct tcp2_hasher *h, size_t n)
{
	h->total += n;
	pthread_mutex_lock(&h->wk.mu);
	ring_commit(h, ring_tail(h), n);
	pthread_mutex_unlock(&h->wk.mu);
}

static void
stop_worker(struct tcp2_hasher *h)
{
	if (!h->threaded)
		return;
	tcp2_worker_stop(&h->wk);
	/* Only what was written. */
	tcp2_crypto_wipe(h->ring, h->ring_hi);
	free(h->ring);
	h->ring = NULL;
	h->threaded = 0;
}

void
tcp2_hasher_final(struct tcp2_hasher *h, uint8_t out[32])
{
	stop_worker(h);
	tcp2_sha256_final(h->sha, out);
}

void
tcp2_hasher_free(struct tcp2_hasher *h)
{
	if (h == NULL)
		return;
	stop_worker(h);
	tcp2_sha256_close(h->sha);
	free(h);
}
