// SPDX-License-Identifier: GPL-2.0
/*
 * search.c - the port search (the seed's designated-port search): notice
 * TCP sessions that a local client opens to a candidate mail port, and
 * when the server's first payload is an SMTP ("220 ") or POP3 ("+OK")
 * greeting, report the session on the "events" multicast group so that
 * tcp2d can offer to register the server.
 *
 * A small fixed table of slots per namespace holds the sessions waiting
 * for their greeting; a slot is freed by the first server payload or
 * after TCP2_SEARCH_TIMEOUT.  When every slot is busy, new candidates are
 * counted (TCP2_GS_SEARCH_OVERFLOW) and not watched: memory stays bounded
 * whatever the traffic.
 */
#include <linux/jiffies.h>
#include <linux/skbuff.h>

#include "tcp2.h"

static bool tcp2_search_port(const struct tcp2_cfg *cfg, __be16 port)
{
	u16 p = ntohs(port);
	unsigned int i;

	for (i = 0; i < cfg->n_ports; i++)
		if (cfg->search_ports[i] == p)
			return true;
	return false;
}

/* A client's SYN (LOCAL_OUT, no ACK) to a candidate port: watch it. */
void tcp2_search_syn(struct tcp2_net *tn, const struct tcp2_cfg *cfg,
		     const struct tcp2_pkt *p)
{
	struct tcp2_search_slot *s, *free = NULL;
	unsigned long now = jiffies;
	unsigned int i;

	if (!(cfg->options & TCP2_OPT_SEARCH) ||
	    !tcp2_search_port(cfg, p->dport))
		return;
	spin_lock_bh(&tn->search_lock);
	for (i = 0; i < TCP2_SEARCH_SLOTS; i++) {
		s = &tn->search[i];
		if (s->expires && time_after(now, s->expires))
			s->expires = 0;
		if (!s->expires) {
			if (!free)
				free = s;
			continue;
		}
		/* a SYN retransmission: already watched */
		if (s->family == p->family && s->cport == p->sport &&
		    s->sport == p->dport &&
		    !memcmp(&s->client, &p->saddr, sizeof(s->client)) &&
		    !memcmp(&s->server, &p->daddr, sizeof(s->server))) {
			spin_unlock_bh(&tn->search_lock);
			return;
		}
	}
	if (free) {
		free->family = p->family;
		free->client = p->saddr;
		free->server = p->daddr;
		free->cport = p->sport;
		free->sport = p->dport;
		free->expires = (now + TCP2_SEARCH_TIMEOUT) | 1;
		atomic64_inc(&tn->stats[TCP2_GS_SEARCH_TRACKED]);
	} else {
		atomic64_inc(&tn->stats[TCP2_GS_SEARCH_OVERFLOW]);
	}
	spin_unlock_bh(&tn->search_lock);
}

/* The protocol a greeting announces, or 0. */
static u8 tcp2_search_greeting(const struct sk_buff *skb,
			       const struct tcp2_pkt *p)
{
	u8 buf[4];

	if (p->dlen < 3 || skb_copy_bits(skb, p->doff, buf,
					 min_t(unsigned int, p->dlen, 4)))
		return 0;
	if (p->dlen >= 4 && !memcmp(buf, "220 ", 4))
		return TCP2_P_SMTP;
	if (!memcmp(buf, "+OK", 3))
		return TCP2_P_POP3;
	return 0;
}

/* Server payload (LOCAL_IN) from a candidate port: the greeting? */
void tcp2_search_data(struct tcp2_net *tn, const struct tcp2_cfg *cfg,
		      const struct tcp2_pkt *p, const struct sk_buff *skb)
{
	struct tcp2_search_slot *s;
	bool found = false;
	unsigned int i;
	u8 proto;

	if (!(cfg->options & TCP2_OPT_SEARCH) || p->dlen == 0 ||
	    !tcp2_search_port(cfg, p->sport))
		return;
	spin_lock_bh(&tn->search_lock);
	for (i = 0; i < TCP2_SEARCH_SLOTS; i++) {
		s = &tn->search[i];
		if (s->expires && s->family == p->family &&
		    s->cport == p->dport && s->sport == p->sport &&
		    !memcmp(&s->client, &p->daddr, sizeof(s->client)) &&
		    !memcmp(&s->server, &p->saddr, sizeof(s->server))) {
			s->expires = 0;
			found = true;
			break;
		}
	}
	spin_unlock_bh(&tn->search_lock);
	if (!found)
		return;
	proto = tcp2_search_greeting(skb, p);
	if (!proto)
		return;
	atomic64_inc(&tn->stats[TCP2_GS_SEARCH_FOUND]);
	tcp2_genl_session_found(tn, p->family, &p->saddr, ntohs(p->sport),
				&p->daddr, ntohs(p->dport), proto);
}
