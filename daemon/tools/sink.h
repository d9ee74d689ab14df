/*
 * sink.h - where tcp2-mail's output goes until the operation succeeded.
 *
 * Two ways, chosen by sink_stream_stdout():
 *  - in memory: the whole output is held and written by sink_commit();
 *    stdout sees nothing when the operation fails;
 *  - streamed into stdout when it is a regular file, in batches of
 *    SINK_BATCH, and sink_abandon() truncates the file back to where it
 *    stood, so the file again holds nothing of a failed operation.
 *    Past the first batch, a writer thread writes each full batch while
 *    the owner fills the next (worker.h: with two CPUs or more).
 * A sink is single-producer: only its owner calls these functions.
 */
#ifndef TCP2_SINK_H
#define TCP2_SINK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SINK_MAX	(512u << 20)	/* largest output held or streamed */
#define SINK_BATCH	(1u << 20)	/* bytes a write(2) of a stream */

struct sink_writer;

/* Caller-owned; initialise with SINK_INIT (fd -1: in memory). */
struct sink {
	uint8_t *p;		/* held bytes, or the batch being filled */
	size_t len, cap;
	uint8_t *blk;		/* streaming: both batches, one block */
	size_t hi;		/* most bytes of p, or blk, ever used: wiped */
	size_t total;		/* bytes put, for SINK_MAX */
	int fd;			/* stream target; -1: in memory */
	off_t start;		/* the file's length before us */
	int wrote;		/* a write(2) to fd was tried */
	int err;		/* errno of a failed streamed write */
	struct sink_writer *w;	/* the writer thread, once started */
	int w_tried;		/* ... or the try that failed */
};

#define SINK_INIT	{ .fd = -1 }

/* Stream into stdout when it is a regular file positioned at its end and
 * not also stderr (else stay in memory).  Returns 1 when streaming, 0
 * otherwise; never fails. */
int sink_stream_stdout(struct sink *s);

/* In memory: room for about hint bytes up front.  A hint only, ignored
 * when streaming or when the allocation fails. */
void sink_reserve(struct sink *s, size_t hint);

/* Append len bytes (a tcp2_out_fn).  Returns 0, TCP2_ETOOBIG past
 * SINK_MAX, TCP2_ENOMEM, or TCP2_EIO when a streamed write failed (the
 * caller then abandons). */
int sink_put(void *arg, const void *data, size_t len);

/* Success: write what is held.  Returns 0, or -1 with errno set (the
 * caller then abandons). */
int sink_commit(struct sink *s);

/* Failure: take back what reached the file, after the writer thread (if
 * any) finished its batch.  Returns 0, or -1 with errno set when the file
 * could not be truncated.  Async-signal-safe for a sink that is held, or
 * streamed without a writer thread (only ftruncate and lseek then):
 * tcp2-mail's SIGBUS handler calls it for decrypt's held output. */
int sink_abandon(struct sink *s);

/* Wipe every byte held and free everything; s is then as SINK_INIT. */
void sink_free(struct sink *s);

#endif /* TCP2_SINK_H */
