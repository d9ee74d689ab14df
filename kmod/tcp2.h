/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tcp2.h - state shared by the parts of tcp2.ko: the per-namespace data
 * (endpoint table, configuration, counters, port search) and the
 * functions each part exports to the others.
 */
#ifndef _TCP2_H
#define _TCP2_H

#include <linux/atomic.h>
#include <linux/in6.h>
#include <linux/mutex.h>
#include <linux/rculist.h>
#include <linux/spinlock.h>
#include <linux/tcp2.h>
#include <linux/types.h>
#include <net/net_namespace.h>

#define TCP2_EP_HASH_BITS	8
#define TCP2_SEARCH_SLOTS	64	/* candidate sessions watched at once */
#define TCP2_SEARCH_TIMEOUT	(30 * HZ) /* greeting must come within */
#define TCP2_MSS_DEFAULT	1200
#define TCP2_MSS_MIN		536
#define TCP2_MSS_MAX		9000

/* An address of either family; v4 in the first 4 bytes, rest zero. */
union tcp2_addr {
	__be32 v4;
	struct in6_addr v6;
};

/* A registered server endpoint.  Readers: RCU; writers: tn->lock. */
struct tcp2_ep {
	struct hlist_node node;
	struct rcu_head rcu;
	u8 family;
	bool any;			/* every address (wildcard) */
	u8 proto;			/* enum tcp2_proto_type */
	u16 port;
	union tcp2_addr addr;
	char account[TCP2_ACCOUNT_MAX];
	atomic64_t stats[__TCP2_EPS_MAX];
};

/* Configuration, replaced as a whole (RCU) so the hooks see one version. */
struct tcp2_cfg {
	struct rcu_head rcu;
	u16 queue;
	u16 mss;
	u32 options;
	unsigned int n_ports;
	u16 search_ports[TCP2_MAX_SEARCH_PORTS];
};

/* A candidate session of the port search, waiting for its greeting. */
struct tcp2_search_slot {
	unsigned long expires;		/* jiffies; 0: free */
	u8 family;
	union tcp2_addr client, server;
	__be16 cport, sport;
};

struct tcp2_net {
	struct mutex lock;		/* writers of eps, n_eps, cfg */
	struct hlist_head eps[1 << TCP2_EP_HASH_BITS];
	unsigned int n_eps;
	struct tcp2_cfg __rcu *cfg;
	atomic64_t stats[__TCP2_GS_MAX];
	spinlock_t search_lock;		/* search[] */
	struct tcp2_search_slot search[TCP2_SEARCH_SLOTS];
	struct net *net;
	bool closing;			/* hooks going: queue nothing more */
};

/* A parsed TCP packet, as the hooks see it. */
struct tcp2_pkt {
	u8 family;
	union tcp2_addr saddr, daddr;
	__be16 sport, dport;
	unsigned int thoff;		/* TCP header offset in the skb */
	unsigned int doff;		/* payload offset in the skb */
	unsigned int dlen;		/* payload length */
	bool syn, ack;
};

struct tcp2_net *tcp2_pernet(struct net *net);

/* ep.c: the endpoint table.  Lookups under rcu_read_lock(). */
void tcp2_ep_init(struct tcp2_net *tn);
struct tcp2_ep *tcp2_ep_lookup(struct tcp2_net *tn, u8 family,
			       const union tcp2_addr *addr, u16 port);
int tcp2_ep_add(struct tcp2_net *tn, const struct tcp2_ep *tmpl,
		bool replace);
int tcp2_ep_del(struct tcp2_net *tn, u8 family, bool any,
		const union tcp2_addr *addr, u16 port);
void tcp2_ep_flush(struct tcp2_net *tn);

/* search.c: the port search. */
void tcp2_search_syn(struct tcp2_net *tn, const struct tcp2_cfg *cfg,
		     const struct tcp2_pkt *p);
void tcp2_search_data(struct tcp2_net *tn, const struct tcp2_cfg *cfg,
		      const struct tcp2_pkt *p, const struct sk_buff *skb);

/* genl.c: the generic netlink family. */
int tcp2_genl_init(void);
void tcp2_genl_exit(void);
void tcp2_genl_session_found(struct tcp2_net *tn, u8 family,
			     const union tcp2_addr *server, u16 sport,
			     const union tcp2_addr *client, u16 cport,
			     u8 proto);

/* main.c: configuration helpers. */
struct tcp2_cfg *tcp2_cfg_default(gfp_t gfp);

#endif /* _TCP2_H */
