/*
 * sink.c - tcp2-mail's output: held in memory, or streamed into a regular
 * file in batches and taken back on failure (see sink.h).
 *
 * A writer thread was tried for the stream: it bought nothing, because
 * the tool already keeps both cores busy (the hash runs on the second)
 * and a third thread only moved the same work around.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bigbuf.h"
#include "crypto.h"
#include "error.h"
#include "fdio.h"
#include "sink.h"

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

/* Write out what p holds (noting how much it ever held, to wipe); 0 or
 * an errno value. */
static int
sink_flush(struct sink *s)
{
	int err = 0;

	if (s->len > s->hi)
		s->hi = s->len;
	if (s->len > 0) {
		s->wrote = 1;
		err = tcp2_write_all(s->fd >= 0 ? s->fd : STDOUT_FILENO, s->p,
		    s->len);
	}
	s->len = 0;
	return err;
}

/* Streaming: fill one batch buffer, write it out when full. */
static int
sink_put_stream(struct sink *s, const uint8_t *d, size_t len)
{
	size_t n;

	if (s->p == NULL) {
		s->p = sink_alloc(SINK_BATCH, &s->cap);
		if (s->p == NULL)
			return TCP2_ENOMEM;
	}
	while (len > 0) {
		if (s->len == s->cap && (s->err = sink_flush(s)) != 0)
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
	int err;

	if ((err = sink_flush(s)) != 0) {
		errno = err;
		return -1;
	}
	return 0;
}

int
sink_abandon(struct sink *s)
{
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
	if (s->len > s->hi)
		s->hi = s->len;
	if (s->p != NULL)
		tcp2_crypto_wipe(s->p, s->hi);
	free(s->p);
	memset(s, 0, sizeof(*s));
	s->fd = -1;
}
