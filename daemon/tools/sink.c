/*
 * sink.c - tcp2-mail's output: held in memory, or streamed into a regular
 * file in batches and taken back on failure (see sink.h).
 *
 * A stream fills one of two batches in one block while a writer thread
 * writes the other: copying the 13.5 MB of an encrypted 10 MB message
 * into the page cache cost the encrypting thread about 3 ms, and the
 * second CPU had room for it beside the hash (a 10 MB encrypt, median of
 * 201 interleaved runs: 20.6 ms without, 19.5 ms with).  The batches are
 * written in order, one at a time, so the file grows as it would from
 * one thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bigbuf.h"
#include "crypto.h"
#include "error.h"
#include "fdio.h"
#include "sink.h"
#include "worker.h"

/* The writer thread and the one batch it may hold. */
struct sink_writer {
	struct tcp2_worker wk;	/* wk.stop: end once idle */
	int fd;
	const uint8_t *buf;	/* the batch being written; NULL: idle */
	size_t len;
	int err;		/* errno of the first failed write */
};

/* A fresh block of at least n bytes (on huge pages when large). */
static uint8_t *
sink_alloc(size_t n, size_t *cap)
{
	if (n < TCP2_BIGBUF_PAGE) {
		*cap = n;
		return malloc(n);
	}
	return tcp2_bigbuf_alloc(n, cap);
}

int
sink_stream_stdout(struct sink *s)
{
	struct stat st, se;
	off_t off;
	int fl;

	if (fstat(STDOUT_FILENO, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (fl = fcntl(STDOUT_FILENO, F_GETFL)) < 0)
		return 0;
	/* "> f 2>&1": a message on stderr would land inside the output,
	 * or be truncated away with it. */
	if (fstat(STDERR_FILENO, &se) == 0 && se.st_dev == st.st_dev &&
	    se.st_ino == st.st_ino)
		return 0;
	/* ">>" (O_APPEND) writes at the end, whatever the offset says.
	 * Elsewhere than at the end ("1<>f"), taking back by truncating
	 * would cut bytes that are not ours: hold in memory instead. */
	off = (fl & O_APPEND) ? st.st_size : lseek(STDOUT_FILENO, 0, SEEK_CUR);
	if (off < 0 || off != st.st_size)
		return 0;
	s->fd = STDOUT_FILENO;
	s->start = off;
	return 1;
}

void
sink_reserve(struct sink *s, size_t hint)
{
	if (s->fd >= 0 || s->p != NULL || hint < TCP2_BIGBUF_PAGE || hint > SINK_MAX)
		return;
	s->p = sink_alloc(hint, &s->cap);
	if (s->p == NULL)
		s->cap = 0;
}

static void *
sink_writer_main(void *arg)
{
	struct sink_writer *w = arg;
	const uint8_t *buf;
	int err;

	pthread_mutex_lock(&w->wk.mu);
	for (;;) {
		while (w->buf == NULL && !w->wk.stop)
			pthread_cond_wait(&w->wk.cv, &w->wk.mu);
		if (w->buf == NULL)
			break;
		buf = w->buf;
		pthread_mutex_unlock(&w->wk.mu);
		/* After a failure, the rest is not written: the owner
		 * abandons the file at its next hand-off. */
		err = w->err == 0 ? tcp2_write_all(w->fd, buf, w->len) : 0;
		pthread_mutex_lock(&w->wk.mu);
		if (err != 0)
			w->err = err;
		w->buf = NULL;
		pthread_cond_broadcast(&w->wk.cv);
	}
	pthread_mutex_unlock(&w->wk.mu);
	return NULL;
}

/* Start the writer thread, once; NULL when there is none (one CPU, no
 * memory, no thread): the owner writes itself. */
static struct sink_writer *
sink_writer(struct sink *s)
{
	struct sink_writer *w;

	if (s->w != NULL || s->w_tried)
		return s->w;
	s->w_tried = 1;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	w->fd = s->fd;
	if (tcp2_worker_start(&w->wk, "tcp2-write", sink_writer_main,
	    w) != 0) {
		free(w);
		return NULL;
	}
	return s->w = w;
}

/* Wait until the writer is idle; its error (an errno value) or 0. */
static int
sink_writer_wait(struct sink_writer *w)
{
	int err;

	pthread_mutex_lock(&w->wk.mu);
	while (w->buf != NULL)
		pthread_cond_wait(&w->wk.cv, &w->wk.mu);
	err = w->err;
	pthread_mutex_unlock(&w->wk.mu);
	return err;
}

/* Let the writer finish its batch, end it; its error or 0. */
static int
sink_writer_stop(struct sink *s)
{
	struct sink_writer *w = s->w;
	int err;

	if (w == NULL)
		return 0;
	err = sink_writer_wait(w);
	tcp2_worker_stop(&w->wk);
	free(w);
	s->w = NULL;
	return err;
}

/* Note how much of the block, or of p, has been used (to wipe). */
static void
sink_note_used(struct sink *s)
{
	size_t used = s->blk != NULL ? (size_t)(s->p - s->blk) + s->len :
	    s->len;

	if (used > s->hi)
		s->hi = used;
}

/* Write out what p holds, on this thread, after the writer's batch; 0 or
 * an errno value. */
static int
sink_flush(struct sink *s)
{
	int err = 0;

	sink_note_used(s);
	if (s->w != NULL && (err = sink_writer_wait(s->w)) != 0)
		return err;
	if (s->len > 0) {
		s->wrote = 1;
		err = tcp2_write_all(s->fd >= 0 ? s->fd : STDOUT_FILENO, s->p,
		    s->len);
	}
	s->len = 0;
	return err;
}

/* Streaming, a full batch: to the writer thread, which writes it while
 * we fill the other one; without one, written here.  0 or an errno. */
static int
sink_hand_off(struct sink *s)
{
	struct sink_writer *w = sink_writer(s);
	int err;

	if (w == NULL)
		return sink_flush(s);
	sink_note_used(s);
	if ((err = sink_writer_wait(w)) != 0)
		return err;
	s->wrote = 1;
	pthread_mutex_lock(&w->wk.mu);
	w->buf = s->p;
	w->len = s->len;
	pthread_cond_broadcast(&w->wk.cv);
	pthread_mutex_unlock(&w->wk.mu);
	s->p = s->p == s->blk ? s->blk + SINK_BATCH : s->blk;
	s->len = 0;
	return 0;
}

/* Streaming: fill a batch, hand it off when full. */
static int
sink_put_stream(struct sink *s, const uint8_t *d, size_t len)
{
	size_t n;

	if (s->blk == NULL) {
		s->blk = sink_alloc(2 * SINK_BATCH, &n);
		if (s->blk == NULL)
			return TCP2_ENOMEM;
		s->p = s->blk;
		s->cap = SINK_BATCH;
	}
	while (len > 0) {
		if (s->len == s->cap && (s->err = sink_hand_off(s)) != 0)
			return TCP2_EIO;
		n = s->cap - s->len;
		if (n > len)
			n = len;
		memcpy(s->p + s->len, d, n);
		s->len += n;
		d += n;
		len -= n;
	}
	return 0;
}

/* In memory: grow the one buffer. */
static int
sink_put_memory(struct sink *s, const uint8_t *d, size_t len)
{
	uint8_t *np;
	size_t nc;

	if (s->len + len > s->cap) {
		np = sink_alloc((s->len + len) * 2, &nc);
		if (np == NULL)
			return TCP2_ENOMEM;
		if (s->len > 0)
			memcpy(np, s->p, s->len);
		if (s->p != NULL)
			tcp2_crypto_wipe(s->p, s->len);
		free(s->p);
		s->p = np;
		s->cap = nc;
	}
	memcpy(s->p + s->len, d, len);
	s->len += len;
	return 0;
}

int
sink_put(void *arg, const void *data, size_t len)
{
	struct sink *s = arg;

	if (len > SINK_MAX - s->total)
		return TCP2_ETOOBIG;
	s->total += len;
	if (len == 0)
		return 0;
	return s->fd >= 0 ? sink_put_stream(s, data, len) :
	    sink_put_memory(s, data, len);
}

int
sink_commit(struct sink *s)
{
	int err, werr;

	err = sink_flush(s);
	werr = sink_writer_stop(s);
	if (err == 0)
		err = werr;
	if (err != 0) {
		s->err = err;
		errno = err;
		return -1;
	}
	return 0;
}

int
sink_abandon(struct sink *s)
{
	/* No write of ours may land after the truncation. */
	(void)sink_writer_stop(s);
	/* Nothing of ours can be in the file before the first write. */
	if (s->fd < 0 || !s->wrote)
		return 0;
	if (ftruncate(s->fd, s->start) != 0 ||
	    lseek(s->fd, s->start, SEEK_SET) < 0)
		return -1;
	return 0;
}

void
sink_free(struct sink *s)
{
	uint8_t *b;

	(void)sink_writer_stop(s);
	sink_note_used(s);
	b = s->blk != NULL ? s->blk : s->p;
	if (b != NULL)
		tcp2_crypto_wipe(b, s->hi);
	free(b);
	memset(s, 0, sizeof(*s));
	s->fd = -1;
}
