/*
 * pkt.h - parse and build the IPv4/IPv6 TCP packets of captured flows.
 *
 * The splice engine never edits a packet in place: it parses the queued
 * packet into a struct tcp2_pkt (pointers into the caller's buffer), then
 * builds each packet it sends from scratch with tcp2_pkt_build, so every
 * packet leaves with correct lengths and checksums (DESIGN 2, rule 5).
 */
#ifndef TCP2_PKT_H
#define TCP2_PKT_H

#include <stddef.h>
#include <stdint.h>

#define TCP2_TH_FIN	0x01
#define TCP2_TH_SYN	0x02
#define TCP2_TH_RST	0x04
#define TCP2_TH_PSH	0x08
#define TCP2_TH_ACK	0x10

#define TCP2_PKT_MAX	65535
#define TCP2_TCPOPT_MAX	40

struct tcp2_pkt {
	int family;			/* AF_INET or AF_INET6 */
	uint8_t src[16], dst[16];	/* v4 addresses in the first 4 bytes */
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;			/* raw field, unscaled */
	uint8_t opt[TCP2_TCPOPT_MAX];	/* TCP options as received */
	size_t optlen;
	const uint8_t *payload;
	size_t paylen;
	/* IP fields kept on rebuilt packets. */
	uint8_t ttl;			/* hop limit for v6 */
	uint8_t tos;			/* traffic class for v6 */
	uint32_t flowlabel;
	uint16_t ipid;
};

/*
 * Parse an IP packet (as NFQUEUE delivers it).  0, or TCP2_EFORMAT when it
 * is not a well-formed TCP packet (truncated, bad lengths, fragments, IPv6
 * extension headers) - such packets of a captured flow are dropped.
 */
int tcp2_pkt_parse(struct tcp2_pkt *p, const uint8_t *buf, size_t len);

/*
 * Build a packet with p's addresses, ports, flags, window, options and IP
 * fields, and the given seq/ack/payload, into out[outcap].  Returns the
 * length, or TCP2_ETOOBIG.
 */
long tcp2_pkt_build(const struct tcp2_pkt *p, uint32_t seq, uint32_t ack,
    uint8_t flags, uint16_t win, const uint8_t *payload, size_t paylen,
    uint8_t *out, size_t outcap);

/* TCP options: value of MSS (0 if absent), window scale (-1 if absent). */
unsigned int tcp2_opt_mss(const struct tcp2_pkt *p);
int tcp2_opt_wscale(const struct tcp2_pkt *p);

/* Rewrite the MSS option to at most mss; returns 1 if changed. */
int tcp2_opt_clamp_mss(struct tcp2_pkt *p, unsigned int mss);

/* Replace SACK-permitted and SACK blocks by NOPs (the engine maps
 * cumulative ACKs only).  Returns 1 if anything changed. */
int tcp2_opt_strip_sack(struct tcp2_pkt *p);

/* Set the timestamp echo reply (TSecr) of t's timestamps option to the
 * TSval of p's, as a receiver acknowledging p would (RFC 7323 4.3).
 * Returns 1 if changed, 0 when either lacks the option. */
int tcp2_opt_echo_ts(struct tcp2_pkt *t, const struct tcp2_pkt *p);

/* Swap source and destination (for a reply such as a RST). */
void tcp2_pkt_reverse(struct tcp2_pkt *p);

#endif /* TCP2_PKT_H */
