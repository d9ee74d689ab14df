/*
 * nfq.h - the NFQUEUE socket of tcp2d, over libmnl (with libnetfilter_
 * queue's message helpers).
 *
 * One queue, full packet copies, no GSO (the kernel segments and fills in
 * checksums before queueing), and never fail-open: when the queue is full
 * the kernel drops, it never passes captured plaintext (SPLICE-NOTES).
 */
#ifndef TCP2_NFQ_H
#define TCP2_NFQ_H

#include <stddef.h>
#include <stdint.h>

#define TCP2_NFQ_MAXLEN		4096	/* packets the kernel may queue */

struct tcp2_nfq;

/* One queued packet as received. */
typedef void (*tcp2_nfq_fn)(void *arg, uint32_t id, const uint8_t *pkt,
    size_t len, uint32_t mark);

/* Bind queue qnum.  0, or TCP2_EIO with errno (EPERM: not root,
 * EBUSY: another process has the queue). */
int tcp2_nfq_open(struct tcp2_nfq **q, uint16_t qnum);

int tcp2_nfq_fd(const struct tcp2_nfq *q);

/* Read what is pending (non-blocking) and call fn per packet.  Returns
 * the number of packets, or TCP2_EIO.  ENOBUFS (the kernel dropped
 * messages) is counted, not fatal; so is ENOENT in answer to a verdict
 * (the kernel had dropped the packet: its hook went away). */
int tcp2_nfq_recv(struct tcp2_nfq *q, tcp2_nfq_fn fn, void *arg);

/* Verdicts: accept as is, drop, or accept the given replacement packet. */
int tcp2_nfq_accept(struct tcp2_nfq *q, uint32_t id);
int tcp2_nfq_drop(struct tcp2_nfq *q, uint32_t id);
int tcp2_nfq_replace(struct tcp2_nfq *q, uint32_t id, const uint8_t *pkt,
    size_t len);

uint64_t tcp2_nfq_overruns(const struct tcp2_nfq *q);
/* Verdicts the kernel answered with ENOENT (packet no longer queued). */
uint64_t tcp2_nfq_stale(const struct tcp2_nfq *q);

void tcp2_nfq_close(struct tcp2_nfq *q);

#endif /* TCP2_NFQ_H */
