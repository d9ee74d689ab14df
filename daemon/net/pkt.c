/*
 * pkt.c - IPv4/IPv6 TCP parsing, building and checksums.
 */
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "error.h"
#include "pkt.h"

#define IP4_HLEN	20
#define IP6_HLEN	40
#define TCP_HLEN	20

#define OPT_EOL		0
#define OPT_NOP		1
#define OPT_MSS		2
#define OPT_WSCALE	3
#define OPT_SACKPERM	4
#define OPT_SACK	5
#define OPT_TS		8

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* One's complement sum of buf, folded into acc. */
static uint32_t
csum_add(uint32_t acc, const uint8_t *buf, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		acc += (uint32_t)(buf[i] << 8 | buf[i + 1]);
	if (len & 1)
		acc += (uint32_t)buf[len - 1] << 8;
	return acc;
}

static uint16_t
csum_fold(uint32_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)~acc;
}

static int
parse_tcp(struct tcp2_pkt *p, const uint8_t *t, size_t len)
{
	size_t doff;

	if (len < TCP_HLEN)
		return TCP2_EFORMAT;
	doff = (size_t)(t[12] >> 4) * 4;
	if (doff < TCP_HLEN || doff > len)
		return TCP2_EFORMAT;
	p->sport = get16(t);
	p->dport = get16(t + 2);
	p->seq = get32(t + 4);
	p->ack = get32(t + 8);
	p->flags = t[13] & 0x3f;
	p->win = get16(t + 14);
	p->optlen = doff - TCP_HLEN;
	memcpy(p->opt, t + TCP_HLEN, p->optlen);
	p->payload = t + doff;
	p->paylen = len - doff;
	return 0;
}

int
tcp2_pkt_parse(struct tcp2_pkt *p, const uint8_t *b, size_t len)
{
	size_t ihl, tot;

	memset(p, 0, sizeof(*p));
	if (len < 1)
		return TCP2_EFORMAT;
	if (b[0] >> 4 == 4) {
		if (len < IP4_HLEN)
			return TCP2_EFORMAT;
		ihl = (size_t)(b[0] & 15) * 4;
		tot = get16(b + 2);
		/* No fragments: neither MF nor an offset. */
		if (ihl < IP4_HLEN || tot < ihl || tot > len || b[9] != 6 ||
		    (get16(b + 6) & 0x3fff) != 0)
			return TCP2_EFORMAT;
		p->family = AF_INET;
		p->tos = b[1];
		p->ipid = get16(b + 4);
		p->ttl = b[8];
		memcpy(p->src, b + 12, 4);
		memcpy(p->dst, b + 16, 4);
		return parse_tcp(p, b + ihl, tot - ihl);
	}
	if (b[0] >> 4 == 6) {
		if (len < IP6_HLEN)
			return TCP2_EFORMAT;
		tot = IP6_HLEN + get16(b + 4);
		if (tot > len || b[6] != 6)
			return TCP2_EFORMAT;
		p->family = AF_INET6;
		p->tos = (uint8_t)((b[0] & 15) << 4 | b[1] >> 4);
		p->flowlabel = (uint32_t)(b[1] & 15) << 16 |
		    (uint32_t)b[2] << 8 | b[3];
		p->ttl = b[7];
		memcpy(p->src, b + 8, 16);
		memcpy(p->dst, b + 24, 16);
		return parse_tcp(p, b + IP6_HLEN, tot - IP6_HLEN);
	}
	return TCP2_EFORMAT;
}

long
tcp2_pkt_build(const struct tcp2_pkt *p, uint32_t seq, uint32_t ack,
    uint8_t flags, uint16_t win, const uint8_t *payload, size_t paylen,
    uint8_t *out, size_t outcap)
{
	size_t optlen = (p->optlen + 3) & ~(size_t)3;
	size_t ihl = p->family == AF_INET ? IP4_HLEN : IP6_HLEN;
	size_t tlen = TCP_HLEN + optlen + paylen, tot = ihl + tlen;
	uint8_t *t = out + ihl, pseudo[40];
	uint32_t acc;

	if (tot > outcap || tot > TCP2_PKT_MAX)
		return TCP2_ETOOBIG;
	memset(out, 0, ihl + TCP_HLEN + optlen);
	if (p->family == AF_INET) {
		out[0] = 0x45;
		out[1] = p->tos;
		put16(out + 2, (uint16_t)tot);
		put16(out + 4, p->ipid);
		put16(out + 6, 0x4000);		/* DF */
		out[8] = p->ttl ? p->ttl : 64;
		out[9] = IPPROTO_TCP;
		memcpy(out + 12, p->src, 4);
		memcpy(out + 16, p->dst, 4);
		put16(out + 10, csum_fold(csum_add(0, out, IP4_HLEN)));
	} else {
		put32(out, 6u << 28 | (uint32_t)p->tos << 20 |
		    (p->flowlabel & 0xfffff));
		put16(out + 4, (uint16_t)tlen);
		out[6] = IPPROTO_TCP;
		out[7] = p->ttl ? p->ttl : 64;
		memcpy(out + 8, p->src, 16);
		memcpy(out + 24, p->dst, 16);
	}
	put16(t, p->sport);
	put16(t + 2, p->dport);
	put32(t + 4, seq);
	put32(t + 8, ack);
	t[12] = (uint8_t)(((TCP_HLEN + optlen) / 4) << 4);
	t[13] = flags;
	put16(t + 14, win);
	memcpy(t + TCP_HLEN, p->opt, p->optlen);
	memset(t + TCP_HLEN + p->optlen, OPT_EOL, optlen - p->optlen);
	if (paylen)
		memcpy(t + TCP_HLEN + optlen, payload, paylen);
	/* Pseudo header, then the segment. */
	if (p->family == AF_INET) {
		memcpy(pseudo, p->src, 4);
		memcpy(pseudo + 4, p->dst, 4);
		pseudo[8] = 0;
		pseudo[9] = IPPROTO_TCP;
		put16(pseudo + 10, (uint16_t)tlen);
		acc = csum_add(0, pseudo, 12);
	} else {
		memcpy(pseudo, p->src, 16);
		memcpy(pseudo + 16, p->dst, 16);
		acc = csum_add(0, pseudo, 32);
		acc += (uint32_t)(tlen >> 16) + (uint32_t)(tlen & 0xffff) +
		    IPPROTO_TCP;
	}
	put16(t + 16, csum_fold(csum_add(acc, t, tlen)));
	return (long)tot;
}

/* Walk the options: calls back with kind, offset of the option, length. */
static size_t
opt_find(const struct tcp2_pkt *p, uint8_t kind, size_t *olen)
{
	size_t i = 0, l;

	while (i < p->optlen) {
		if (p->opt[i] == OPT_EOL)
			break;
		if (p->opt[i] == OPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= p->optlen)
			break;
		l = p->opt[i + 1];
		if (l < 2 || i + l > p->optlen)
			break;
		if (p->opt[i] == kind) {
			*olen = l;
			return i;
		}
		i += l;
	}
	return (size_t)-1;
}

unsigned int
tcp2_opt_mss(const struct tcp2_pkt *p)
{
	size_t l, i = opt_find(p, OPT_MSS, &l);

	return i != (size_t)-1 && l == 4 ? get16(p->opt + i + 2) : 0;
}

int
tcp2_opt_wscale(const struct tcp2_pkt *p)
{
	size_t l, i = opt_find(p, OPT_WSCALE, &l);

	if (i == (size_t)-1 || l != 3)
		return -1;
	return p->opt[i + 2] > 14 ? 14 : p->opt[i + 2];
}

int
tcp2_opt_clamp_mss(struct tcp2_pkt *p, unsigned int mss)
{
	size_t l, i = opt_find(p, OPT_MSS, &l);

	if (i == (size_t)-1 || l != 4 || get16(p->opt + i + 2) <= mss)
		return 0;
	put16(p->opt + i + 2, (uint16_t)mss);
	return 1;
}

int
tcp2_opt_strip_sack(struct tcp2_pkt *p)
{
	size_t l, i;
	int changed = 0;

	while ((i = opt_find(p, OPT_SACKPERM, &l)) != (size_t)-1 ||
	    (i = opt_find(p, OPT_SACK, &l)) != (size_t)-1) {
		memset(p->opt + i, OPT_NOP, l);
		changed = 1;
	}
	return changed;
}

int
tcp2_opt_echo_ts(struct tcp2_pkt *t, const struct tcp2_pkt *p)
{
	size_t lt, lp, it = opt_find(t, OPT_TS, &lt), ip = opt_find(p, OPT_TS,
	    &lp);

	if (it == (size_t)-1 || ip == (size_t)-1 || lt != 10 || lp != 10)
		return 0;
	put32(t->opt + it + 6, get32(p->opt + ip + 2));
	return 1;
}

void
tcp2_pkt_reverse(struct tcp2_pkt *p)
{
	uint8_t a[16];
	uint16_t port;

	memcpy(a, p->src, 16);
	memcpy(p->src, p->dst, 16);
	memcpy(p->dst, a, 16);
	port = p->sport;
	p->sport = p->dport;
	p->dport = port;
}
