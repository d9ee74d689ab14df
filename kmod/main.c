// SPDX-License-Identifier: GPL-2.0
/*
 * main.c - tcp2.ko, the TCP2 core: netfilter hooks that hand the TCP
 * packets of registered mail servers to tcp2d's NFQUEUE.
 *
 * Hooks at LOCAL_OUT (client to server: destination is an endpoint) and
 * LOCAL_IN (server to client: source is an endpoint), IPv4 and IPv6,
 * registered in every network namespace (pernet operations).  Captured
 * packets get NF_QUEUE without the bypass flag, so with no tcp2d bound to
 * the queue the kernel drops them: capture is fail-closed.  Segments
 * tcp2d injects (TCP2_MARK) are let through untouched, and so are the
 * connections tcp2d opens itself (TCP2_MARK_OWN going out, copied to the
 * conntrack entry so that the replies are known too, as the rules
 * backend's CONNMARK rule does).  For that the module enables conntrack
 * in every namespace (nf_ct_netns_get(), as a connmark match would).  The
 * hooks run after conntrack and the filter table, so the host firewall
 * still decides first.
 */
#include <linux/module.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/slab.h>
#include <linux/tcp.h>
#include <net/genetlink.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/netfilter/nf_conntrack.h>
#include <net/netfilter/nf_conntrack_ecache.h>
#include <net/netns/generic.h>
#include <net/tcp.h>

#include "tcp2.h"

static unsigned int tcp2_net_id __read_mostly;

struct tcp2_net *tcp2_pernet(struct net *net)
{
	return net_generic(net, tcp2_net_id);
}

struct tcp2_cfg *tcp2_cfg_default(gfp_t gfp)
{
	static const u16 ports[] = { 25, 587, 110, 2525 };
	struct tcp2_cfg *cfg;

	cfg = kzalloc(sizeof(*cfg), gfp);
	if (!cfg)
		return NULL;
	cfg->queue = 0;
	cfg->mss = TCP2_MSS_DEFAULT;
	cfg->options = TCP2_OPT_SEARCH;
	cfg->n_ports = ARRAY_SIZE(ports);
	memcpy(cfg->search_ports, ports, sizeof(ports));
	return cfg;
}

/* Fill the TCP part of p from the header at thoff and the packet's end.
 * -1 if the header is not all there.
 */
static int tcp2_parse_tcp(const struct sk_buff *skb, unsigned int thoff,
			  unsigned int end, struct tcp2_pkt *p)
{
	struct tcphdr _th;
	const struct tcphdr *th;

	th = skb_header_pointer(skb, thoff, sizeof(_th), &_th);
	if (!th || th->doff < sizeof(_th) / 4)
		return -1;
	p->thoff = thoff;
	p->doff = thoff + th->doff * 4;
	if (end > skb->len || p->doff > end)
		return -1;
	p->dlen = end - p->doff;
	p->sport = th->source;
	p->dport = th->dest;
	p->syn = th->syn;
	p->ack = th->ack;
	return 0;
}

static int tcp2_parse4(const struct sk_buff *skb, struct tcp2_pkt *p)
{
	const struct iphdr *iph = ip_hdr(skb);
	unsigned int off = skb_network_offset(skb);

	if (iph->protocol != IPPROTO_TCP || ip_is_fragment(iph))
		return -1;
	memset(p, 0, sizeof(*p));
	p->family = AF_INET;
	p->saddr.v4 = iph->saddr;
	p->daddr.v4 = iph->daddr;
	return tcp2_parse_tcp(skb, off + iph->ihl * 4,
			      off + ntohs(iph->tot_len), p);
}

static int tcp2_parse6(struct sk_buff *skb, struct tcp2_pkt *p)
{
	const struct ipv6hdr *ip6h = ipv6_hdr(skb);
	unsigned int thoff = 0;
	int hdr;

	hdr = ipv6_find_hdr(skb, &thoff, IPPROTO_TCP, NULL, NULL);
	if (hdr != IPPROTO_TCP)
		return -1;
	memset(p, 0, sizeof(*p));
	p->family = AF_INET6;
	p->saddr.v6 = ip6h->saddr;
	p->daddr.v6 = ip6h->daddr;
	return tcp2_parse_tcp(skb, thoff, skb_network_offset(skb) +
			      sizeof(*ip6h) + ntohs(ip6h->payload_len), p);
}

/* Lower the MSS option of a SYN to mss, fixing the checksum (as
 * xt_TCPMSS does).  True if the packet was changed.
 */
static bool tcp2_clamp_mss(struct sk_buff *skb, const struct tcp2_pkt *p,
			   u16 mss)
{
	unsigned int optlen = p->doff - p->thoff - sizeof(struct tcphdr);
	struct tcphdr *th;
	unsigned int i;
	u8 *opt;
	u16 old;

	if (optlen == 0 || skb_ensure_writable(skb, p->doff))
		return false;
	th = (struct tcphdr *)(skb->data + p->thoff);
	opt = (u8 *)(th + 1);
	for (i = 0; i < optlen; ) {
		if (opt[i] == TCPOPT_EOL)
			break;
		if (opt[i] == TCPOPT_NOP) {
			i++;
			continue;
		}
		if (optlen - i < 2 || opt[i + 1] < 2 || opt[i + 1] > optlen - i)
			break;
		if (opt[i] == TCPOPT_MSS && opt[i + 1] == TCPOLEN_MSS) {
			old = get_unaligned_be16(opt + i + 2);
			if (old <= mss)
				return false;
			put_unaligned_be16(mss, opt + i + 2);
			inet_proto_csum_replace2(&th->check, skb, htons(old),
						 htons(mss), false);
			return true;
		}
		i += opt[i + 1];
	}
	return false;
}

/*
 * Whether skb belongs to a connection of tcp2d itself.  Going out, its
 * socket's mark says so, and the mark is copied to the conntrack entry;
 * coming in, the entry's mark says so.  Only TCP2_MARK_OWN ever sets it:
 * a captured connection can never be exempted by its own segments.
 */
static bool tcp2_own(struct sk_buff *skb, bool out)
{
	enum ip_conntrack_info ctinfo;
	struct nf_conn *ct = nf_ct_get(skb, &ctinfo);
	u32 cmark;

	if (out) {
		if ((skb->mark & TCP2_MARK_MASK) != TCP2_MARK_OWN)
			return false;
		if (!ct)
			return true;
		cmark = READ_ONCE(ct->mark);
		if ((cmark & TCP2_MARK_MASK) != TCP2_MARK_OWN) {
			WRITE_ONCE(ct->mark, (cmark & ~TCP2_MARK_MASK) |
				   TCP2_MARK_OWN);
			nf_conntrack_event_cache(IPCT_MARK, ct);
		}
		return true;
	}
	return ct && (READ_ONCE(ct->mark) & TCP2_MARK_MASK) == TCP2_MARK_OWN;
}

static unsigned int tcp2_hook(void *priv, struct sk_buff *skb,
			      const struct nf_hook_state *state)
{
	struct tcp2_net *tn = tcp2_pernet(state->net);
	bool out = state->hook == NF_INET_LOCAL_OUT;
	const struct tcp2_cfg *cfg;
	struct tcp2_pkt p;
	struct tcp2_ep *ep;
	int err;

	if ((skb->mark & TCP2_MARK_MASK) == TCP2_MARK) {
		atomic64_inc(&tn->stats[TCP2_GS_SKIPPED_MARK]);
		return NF_ACCEPT;
	}
	if (tcp2_own(skb, out)) {
		atomic64_inc(&tn->stats[TCP2_GS_SKIPPED_OWN]);
		return NF_ACCEPT;
	}
	if (state->pf == NFPROTO_IPV4)
		err = tcp2_parse4(skb, &p);
	else
		err = tcp2_parse6(skb, &p);
	if (err)
		return NF_ACCEPT;

	cfg = rcu_dereference(tn->cfg);
	if (out && p.syn && !p.ack)
		tcp2_search_syn(tn, cfg, &p);
	else if (!out && p.dlen)
		tcp2_search_data(tn, cfg, &p, skb);

	if (out)
		ep = tcp2_ep_lookup(tn, p.family, &p.daddr, ntohs(p.dport));
	else
		ep = tcp2_ep_lookup(tn, p.family, &p.saddr, ntohs(p.sport));
	if (!ep)
		return NF_ACCEPT;

	if (out && p.syn && !p.ack) {
		atomic64_inc(&ep->stats[TCP2_EPS_SYNS]);
		if ((cfg->options & TCP2_OPT_CLAMP_MSS) &&
		    tcp2_clamp_mss(skb, &p, cfg->mss))
			atomic64_inc(&tn->stats[TCP2_GS_MSS_CLAMPED]);
	}
	atomic64_inc(&ep->stats[out ? TCP2_EPS_PKTS_OUT : TCP2_EPS_PKTS_IN]);
	atomic64_add(p.dlen, &ep->stats[out ? TCP2_EPS_BYTES_OUT :
					TCP2_EPS_BYTES_IN]);
	/* Unloading: what would be queued now could not be flushed. */
	if (unlikely(READ_ONCE(tn->closing)))
		return NF_DROP;
	atomic64_inc(&tn->stats[TCP2_GS_QUEUED]);
	/* No NF_VERDICT_FLAG_QUEUE_BYPASS: no listener, packet dropped. */
	return NF_QUEUE_NR(cfg->queue);
}

/* After conntrack and the filter table (iptables, nftables at 0). */
#define TCP2_PRI	(NF_IP_PRI_FILTER + 10)

static const struct nf_hook_ops tcp2_nf_ops[] = {
	{
		.hook = tcp2_hook,
		.pf = NFPROTO_IPV4,
		.hooknum = NF_INET_LOCAL_OUT,
		.priority = TCP2_PRI,
	},
	{
		.hook = tcp2_hook,
		.pf = NFPROTO_IPV4,
		.hooknum = NF_INET_LOCAL_IN,
		.priority = TCP2_PRI,
	},
	{
		.hook = tcp2_hook,
		.pf = NFPROTO_IPV6,
		.hooknum = NF_INET_LOCAL_OUT,
		.priority = TCP2_PRI,
	},
	{
		.hook = tcp2_hook,
		.pf = NFPROTO_IPV6,
		.hooknum = NF_INET_LOCAL_IN,
		.priority = TCP2_PRI,
	},
};

static unsigned int tcp2_noop(void *priv, struct sk_buff *skb,
			      const struct nf_hook_state *state)
{
	return NF_ACCEPT;
}

/*
 * A hook that does nothing, after ours: unregistering it makes the core
 * drop every packet queued in the namespace while our hooks are still
 * there (see tcp2_net_exit()).  Registered with them so that nothing
 * needs allocating at exit.
 */
static const struct nf_hook_ops tcp2_flush_ops = {
	.hook = tcp2_noop,
	.pf = NFPROTO_IPV4,
	.hooknum = NF_INET_LOCAL_OUT,
	.priority = NF_IP_PRI_LAST,
};

static int __net_init tcp2_net_init(struct net *net)
{
	struct tcp2_net *tn = tcp2_pernet(net);
	struct tcp2_cfg *cfg;
	int err;

	mutex_init(&tn->lock);
	spin_lock_init(&tn->search_lock);
	tcp2_ep_init(tn);
	tn->net = net;
	cfg = tcp2_cfg_default(GFP_KERNEL);
	if (!cfg)
		return -ENOMEM;
	RCU_INIT_POINTER(tn->cfg, cfg);
	err = nf_ct_netns_get(net, NFPROTO_INET);
	if (err)
		goto out_cfg;
	err = nf_register_net_hooks(net, tcp2_nf_ops, ARRAY_SIZE(tcp2_nf_ops));
	if (err)
		goto out_ct;
	err = nf_register_net_hook(net, &tcp2_flush_ops);
	if (err)
		goto out_hooks;
	return 0;
out_hooks:
	nf_unregister_net_hooks(net, tcp2_nf_ops, ARRAY_SIZE(tcp2_nf_ops));
	synchronize_net();	/* a hook may be reading cfg */
out_ct:
	nf_ct_netns_put(net, NFPROTO_INET);
out_cfg:
	RCU_INIT_POINTER(tn->cfg, NULL);
	kfree(cfg);
	return err;
}

/*
 * Packets of ours waiting in an NFQUEUE must be dropped while our hooks
 * are still there.  The core drops every queued packet of the namespace
 * whenever a hook is unregistered (nf_queue_nf_hook_drop()), but after
 * the hook array has shrunk: for a packet queued by the hook just removed
 * the saved hook index may then point past the end, and nf_reinject()
 * warns.  So: stop queueing, wait for every hook run (the enqueue happens
 * within it), unregister the no-op hook (the core drops what is queued,
 * our hooks still in place), wait for verdicts in flight (under RCU);
 * then unhook, and wait until no hook runs any more before freeing what
 * the hooks read.
 */
static void __net_exit tcp2_net_exit(struct net *net)
{
	struct tcp2_net *tn = tcp2_pernet(net);

	WRITE_ONCE(tn->closing, true);
	synchronize_net();
	nf_unregister_net_hook(net, &tcp2_flush_ops);
	synchronize_net();
	nf_unregister_net_hooks(net, tcp2_nf_ops, ARRAY_SIZE(tcp2_nf_ops));
	nf_ct_netns_put(net, NFPROTO_INET);
	synchronize_net();
	tcp2_ep_flush(tn);
	kfree_rcu(rcu_dereference_protected(tn->cfg, true), rcu);
	RCU_INIT_POINTER(tn->cfg, NULL);
}

static struct pernet_operations tcp2_net_ops = {
	.init = tcp2_net_init,
	.exit = tcp2_net_exit,
	.id = &tcp2_net_id,
	.size = sizeof(struct tcp2_net),
};

static int __init tcp2_init(void)
{
	int err;

	err = register_pernet_subsys(&tcp2_net_ops);
	if (err)
		return err;
	err = tcp2_genl_init();
	if (err)
		unregister_pernet_subsys(&tcp2_net_ops);
	return err;
}

/* The family first (no new configuration, no more events), then the hooks
 * of every namespace; then wait for the pending RCU frees.
 */
static void __exit tcp2_exit(void)
{
	tcp2_genl_exit();
	unregister_pernet_subsys(&tcp2_net_ops);
	rcu_barrier();
}

module_init(tcp2_init);
module_exit(tcp2_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("TCP2 core: capture registered mail servers to NFQUEUE");
MODULE_ALIAS_GENL_FAMILY(TCP2_GENL_NAME);
