/*
 * splice.h - the splice engine: one captured TCP connection whose two byte
 * streams are rewritten (DESIGN 2).
 *
 * Each direction has an input sequence space (what its sender sent) and an
 * output space (what its receiver sees).  New in-order input goes through
 * the session rewriter exactly once; every output byte is cached with the
 * input position it completes until the receiver acknowledges it.  The
 * sender's retransmissions re-emit cached output at the same output
 * sequence numbers (the engine has no timers of its own); acknowledgements
 * are mapped back so an input byte counts as received only when all its
 * output was.  SACK-permitted is stripped at SYN, MSS clamped, windows
 * scaled, oversize output split and injected.  Pure logic: packets in,
 * verdicts and packets out, so it is testable without a network.
 */
#ifndef TCP2_SPLICE_H
#define TCP2_SPLICE_H

#include <stddef.h>
#include <stdint.h>

#include "pkt.h"
#include "rewriter.h"

#define TCP2_SP_CACHE_MAX	(32u << 20)	/* unacked output per direction */
#define TCP2_SP_OOO_MAX		(256u * 1024)	/* buffered future input */

enum tcp2_sp_verdict {
	TCP2_SP_DROP,		/* drop the queued packet */
	TCP2_SP_ACCEPT,		/* pass it unchanged */
	TCP2_SP_REPLACE,	/* pass the packet written to out instead */
};

/* Send one extra packet (built by the engine) now; 0 or an error. */
typedef int (*tcp2_sp_inject_fn)(void *arg, const uint8_t *pkt, size_t len);

struct tcp2_splice;

/*
 * A new connection.  rw is owned by the engine from now on (freed with
 * it).  clamp_mss: the MSS the server's SYN-ACK is clamped to (0: none).
 */
int tcp2_splice_new(struct tcp2_splice **sp, struct tcp2_rw *rw,
    unsigned int clamp_mss, tcp2_sp_inject_fn inject, void *inject_arg);

/*
 * One queued packet of this connection travelling in direction dir.
 * Writes the verdict; for TCP2_SP_REPLACE the packet is in out (capacity
 * TCP2_PKT_MAX) with length *outlen.  Extra packets go to inject before
 * this returns.  Returns 0, or an error after which the connection was
 * reset both ways (the verdict is then DROP).
 */
int tcp2_splice_packet(struct tcp2_splice *sp, enum tcp2_dir dir,
    const uint8_t *pkt, size_t len, enum tcp2_sp_verdict *v, uint8_t *out,
    size_t *outlen);

/* 1 once both FINs are acknowledged or a RST passed: the flow may go
 * after a grace period. */
int tcp2_splice_closed(const struct tcp2_splice *sp);

/* 1 when a client SYN with this sequence number is the one that opened
 * the connection (a retransmission), 0 when it starts a new one. */
int tcp2_splice_same_syn(const struct tcp2_splice *sp, uint32_t seq);

/* 1 after an abort: every further packet is dropped. */
int tcp2_splice_dead(const struct tcp2_splice *sp);

/* Counters for "tcp2ctl flows". */
struct tcp2_splice_stats {
	uint64_t in_bytes[2], out_bytes[2];	/* per direction */
	uint64_t retrans[2];			/* re-emissions */
	uint64_t injected, dropped_ooo;
	size_t cached[2], held[2];
	/* Where each direction stands, for an operator who wants to know
	 * why a connection is waiting: output produced but not yet sent
	 * (paced by the receiver's window), sent but not acknowledged, the
	 * receiver's window, future segments kept for a gap. */
	uint64_t unsent[2], unacked[2], rwnd[2];
	size_t ooo[2];
};
void tcp2_splice_stats(const struct tcp2_splice *sp,
    struct tcp2_splice_stats *st);

void tcp2_splice_free(struct tcp2_splice *sp);

#endif /* TCP2_SPLICE_H */
