/*
 * hasher.c - SHA-256 inline, or on one worker thread.
 *
 * The worker takes data two ways.  Copied: a single-producer,
 * single-consumer byte ring under one mutex; the writer copies in and
 * signals once a batch (TCP2_HASHER_BATCH) waits, the worker hashes the
 * largest contiguous filled span outside the lock and frees it (the
 * decoder's 16 KiB pieces: waking the worker for each cost more context
 * switches than hashing).  Lent: the caller's
 * own buffer, hashed in place while the caller goes on reading it, until
 * the caller settles (the encoder's large writes: no copy, no ring pages,
 * two hand-offs per write).  Either way the bytes are hashed in the order
 * they were given.
 *
 * The worker runs on any CPU but the one the writer is on when it starts.
 * Left to itself, the scheduler queues a woken thread on its waker's CPU,
 * behind the waker: on a 2-CPU machine the two threads then took turns on
 * one CPU and the hash overlapped nothing (a 10 MB decrypt: 27 ms, 22.8
 * with the worker kept off the writer's CPU).  The writer is not pinned;
 * it keeps its CPU because it sleeps only on a full ring or a drain.
 * With one CPU allowed, there is no worker: it could only take turns.
 */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "bigbuf.h"
#include "crypto.h"
#include "error.h"
#include "hasher.h"

struct tcp2_hasher {
	struct tcp2_sha256_ctx *sha;
	int parallel, threaded, done;
	size_t total;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint8_t *ring;
	size_t head, fill;	/* read position, bytes waiting */
	size_t ring_hi;		/* ring bytes ever written (to wipe) */
	const uint8_t *lent;	/* the caller's buffer, being hashed */
	size_t lentlen;
	int worker_waits;	/* signal only a side that sleeps */
	int writer_waits;
	int flush;		/* hash what the ring holds, even a part */
};

/* Whether the worker has something to do (called under mu). */
static int
work_ready(const struct tcp2_hasher *h)
{
	return h->lent != NULL || h->done || h->fill >= TCP2_HASHER_BATCH ||
	    (h->flush && h->fill > 0);
}

static void *
worker(void *arg)
{
	struct tcp2_hasher *h = arg;
	size_t n;

	pthread_mutex_lock(&h->mu);
	for (;;) {
		while (!work_ready(h)) {
			h->worker_waits = 1;
			pthread_cond_wait(&h->cv, &h->mu);
			h->worker_waits = 0;
		}
		if (h->lent != NULL) {
			pthread_mutex_unlock(&h->mu);
			tcp2_sha256_write(h->sha, h->lent, h->lentlen);
			pthread_mutex_lock(&h->mu);
			h->lent = NULL;
			if (h->writer_waits)
				pthread_cond_broadcast(&h->cv);
			continue;
		}
		if (h->fill == 0 && h->done)
			break;
		n = h->fill;
		if (n > TCP2_HASHER_RING - h->head)
			n = TCP2_HASHER_RING - h->head;
		pthread_mutex_unlock(&h->mu);
		tcp2_sha256_write(h->sha, h->ring + h->head, n);
		pthread_mutex_lock(&h->mu);
		h->head = (h->head + n) % TCP2_HASHER_RING;
		h->fill -= n;
		if (h->writer_waits)
			pthread_cond_broadcast(&h->cv);
	}
	pthread_mutex_unlock(&h->mu);
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

/*
 * The CPUs the worker may use: those the process may, but the writer's
 * current one.  Returns 0 when that leaves none (one CPU: no worker).
 */
static int
worker_cpus(cpu_set_t *set)
{
	int me = sched_getcpu();

	if (sched_getaffinity(0, sizeof(*set), set) != 0 ||
	    CPU_COUNT(set) < 2)
		return 0;
	if (me >= 0 && me < CPU_SETSIZE)
		CPU_CLR(me, set);
	return 1;
}

static void
start_worker(struct tcp2_hasher *h)
{
	pthread_attr_t attr;
	cpu_set_t set;
	size_t cap;
	int rc;

	if (!worker_cpus(&set)) {
		h->parallel = 0;	/* hash inline from now on */
		return;
	}
	/* One huge page where the kernel has them: one fault, not 512. */
	h->ring = tcp2_bigbuf_alloc(TCP2_HASHER_RING, &cap);
	if (h->ring == NULL)
		return;
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->cv, NULL);
	rc = pthread_attr_init(&attr);
	if (rc == 0) {
		(void)pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
		rc = pthread_create(&h->th, &attr, worker, h);
		pthread_attr_destroy(&attr);
	}
	if (rc != 0) {
		pthread_cond_destroy(&h->cv);
		pthread_mutex_destroy(&h->mu);
		free(h->ring);
		h->ring = NULL;
		h->parallel = 0;	/* inline, without trying again */
		return;
	}
	h->threaded = 1;
}

void
tcp2_hasher_write(struct tcp2_hasher *h, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	size_t tail, n;

	if (!h->threaded && h->parallel &&
	    h->total + len >= TCP2_HASHER_THRESHOLD)
		start_worker(h);
	h->total += len;
	if (!h->threaded) {
		tcp2_sha256_write(h->sha, buf, len);
		return;
	}
	pthread_mutex_lock(&h->mu);
	while (len > 0) {
		while (h->fill == TCP2_HASHER_RING) {
			h->writer_waits = 1;
			pthread_cond_wait(&h->cv, &h->mu);
			h->writer_waits = 0;
		}
		tail = (h->head + h->fill) % TCP2_HASHER_RING;
		n = TCP2_HASHER_RING - h->fill;
		if (n > TCP2_HASHER_RING - tail)
			n = TCP2_HASHER_RING - tail;
		if (n > len)
			n = len;
		/* The worker only reads [head, head + fill): tail is ours. */
		pthread_mutex_unlock(&h->mu);
		memcpy(h->ring + tail, p, n);
		if (tail + n > h->ring_hi)
			h->ring_hi = tail + n;
		pthread_mutex_lock(&h->mu);
		h->fill += n;
		p += n;
		len -= n;
		if (h->worker_waits && work_ready(h))
			pthread_cond_broadcast(&h->cv);
	}
	pthread_mutex_unlock(&h->mu);
}

/* Wait until nothing is lent to the worker and, with ring, the ring is
 * empty too (the worker is told to take a part batch). */
static void
drain(struct tcp2_hasher *h, int ring)
{
	pthread_mutex_lock(&h->mu);
	if (ring && h->fill > 0) {
		h->flush = 1;
		if (h->worker_waits)
			pthread_cond_broadcast(&h->cv);
	}
	while ((ring && h->fill > 0) || h->lent != NULL) {
		h->writer_waits = 1;
		pthread_cond_wait(&h->cv, &h->mu);
		h->writer_waits = 0;
	}
	h->flush = 0;
	pthread_mutex_unlock(&h->mu);
}

void
tcp2_hasher_lend(struct tcp2_hasher *h, const void *buf, size_t len)
{
	if (!h->threaded && h->parallel &&
	    h->total + len >= TCP2_HASHER_THRESHOLD)
		start_worker(h);
	if (!h->threaded || len < TCP2_HASHER_LEND_MIN) {
		/* Too small for two hand-offs (waking the worker costs more
		 * than copying): through the ring, or inline. */
		tcp2_hasher_write(h, buf, len);
		return;
	}
	drain(h, 1);	/* the hash takes the bytes in order */
	h->total += len;
	pthread_mutex_lock(&h->mu);
	h->lent = buf;
	h->lentlen = len;
	if (h->worker_waits)
		pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
}

void
tcp2_hasher_settle(struct tcp2_hasher *h)
{
	/* Only the lent buffer: what the ring holds is a copy. */
	if (h->threaded)
		drain(h, 0);
}

static void
stop_worker(struct tcp2_hasher *h)
{
	if (!h->threaded)
		return;
	pthread_mutex_lock(&h->mu);
	h->done = 1;
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
	pthread_join(h->th, NULL);
	pthread_cond_destroy(&h->cv);
	pthread_mutex_destroy(&h->mu);
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
