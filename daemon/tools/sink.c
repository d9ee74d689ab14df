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
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto.h"
#include "error.h"
#include "sink.h"

#define HUGE_PAGE	(2u << 20)

int
sink_write_fd(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno;
		if (n == 0)
			return EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Ask for huge pages on the page-aligned part of a large buffer: a 10 MB
 * message then costs a few page faults, not thousands. */
static void
sink_advise_huge(void *p, size_t len)
{
#ifdef MADV_HUGEPAGE
	long pg = sysconf(_SC_PAGESIZE);
	uintptr_t a = (uintptr_t)p, start, end;

	if (len < HUGE_PAGE || pg <= 0)
		return;
	start = (a + (uintptr_t)pg - 1) & ~((uintptr_t)pg - 1);
	end = (a + len) & ~((uintptr_t)pg - 1);
	if (end > start)
		(void)madvise((void *)start, end - start, MADV_HUGEPAGE);
#else
	(void)p;
	(void)len;
#endif
}

/* A fresh block of at least n bytes (huge-page aligned when large). */
static uint8_t *
sink_alloc(size_t n, size_t *cap)
{
	uint8_t *p;

	if (n < HUGE_PAGE) {
		*cap = n;
		return malloc(n);
	}
	/* Not realloc: mremap would split the huge pages. */
	n = (n + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
	p = aligned_alloc(HUGE_PAGE, n);
	if (p != NULL)
		sink_advise_huge(p, n);
	*cap = n;
	return p;
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
	if (s->fd >= 0 || s->p != NULL || hint < HUGE_PAGE || hint > SINK_MAX)
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
		err = sink_write_fd(s->fd >= 0 ? s->fd : STDOUT_FILENO, s->p,
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
