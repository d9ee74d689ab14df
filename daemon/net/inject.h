/*
 * inject.h - raw sockets that send the extra segments the splice engine
 * builds (output larger than one packet, RSTs).  They carry TCP2_MARK so
 * that the capture rules skip them instead of queueing them again.
 */
#ifndef TCP2_INJECT_H
#define TCP2_INJECT_H

#include <stddef.h>
#include <stdint.h>

/*
 * TCP2_MARK (packets of tcp2d itself), TCP2_MARK_OWN (tcp2d's own
 * connections), TCP2_MARK_MASK: shared with tcp2.ko.
 */
#include <linux/tcp2.h>

struct tcp2_inject;

/* 0, or TCP2_EIO with errno (EPERM without CAP_NET_RAW). */
int tcp2_inject_open(struct tcp2_inject **in);

/* Send one complete IPv4 or IPv6 packet. */
int tcp2_inject_send(struct tcp2_inject *in, const uint8_t *pkt, size_t len);

void tcp2_inject_close(struct tcp2_inject *in);

#endif /* TCP2_INJECT_H */
