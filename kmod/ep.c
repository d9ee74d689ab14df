// SPDX-License-Identifier: GPL-2.0
/*
 * ep.c - the endpoint table of one network namespace: an RCU hash table
 * of the registered mail servers (address, port, protocol, account).
 *
 * The hooks look endpoints up under RCU without locks; genetlink
 * operations change the table under tn->lock.  An exact entry and a
 * wildcard (every address, port only) are kept apart: the lookup tries
 * the exact one first, like the daemon's tcp2_endpoint_find().
 */
#include <linux/jhash.h>
#include <linux/slab.h>

#include "tcp2.h"

static u32 tcp2_ep_hash(u8 family, bool any, const union tcp2_addr *addr,
			u16 port)
{
	u32 h = jhash(addr, sizeof(*addr), ((u32)family << 17) |
		      ((u32)any << 16) | port);

	return h & ((1 << TCP2_EP_HASH_BITS) - 1);
}

static bool tcp2_ep_match(const struct tcp2_ep *ep, u8 family, bool any,
			  const union tcp2_addr *addr, u16 port)
{
	return ep->family == family && ep->any == any && ep->port == port &&
	       memcmp(&ep->addr, addr, sizeof(*addr)) == 0;
}

void tcp2_ep_init(struct tcp2_net *tn)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(tn->eps); i++)
		INIT_HLIST_HEAD(&tn->eps[i]);
	tn->n_eps = 0;
}

static struct tcp2_ep *tcp2_ep_find(struct tcp2_net *tn, u8 family, bool any,
				    const union tcp2_addr *addr, u16 port)
{
	struct hlist_head *head;
	struct tcp2_ep *ep;

	head = &tn->eps[tcp2_ep_hash(family, any, addr, port)];
	hlist_for_each_entry_rcu(ep, head, node,
				 lockdep_is_held(&tn->lock)) {
		if (tcp2_ep_match(ep, family, any, addr, port))
			return ep;
	}
	return NULL;
}

/*
 * The endpoint for a packet to or from addr:port: the exact entry, else
 * the wildcard for the port, else NULL.  Caller holds rcu_read_lock().
 */
struct tcp2_ep *tcp2_ep_lookup(struct tcp2_net *tn, u8 family,
			       const union tcp2_addr *addr, u16 port)
{
	static const union tcp2_addr zero;
	struct tcp2_ep *ep;

	ep = tcp2_ep_find(tn, family, false, addr, port);
	if (!ep)
		ep = tcp2_ep_find(tn, family, true, &zero, port);
	return ep;
}

/*
 * Add a copy of tmpl (counters zero).  -EEXIST if the endpoint exists and
 * !replace, -ENOSPC when the table is full, -ENOMEM.
 */
int tcp2_ep_add(struct tcp2_net *tn, const struct tcp2_ep *tmpl,
		bool replace)
{
	struct tcp2_ep *ep, *old;
	unsigned int i;
	u32 h;

	ep = kzalloc(sizeof(*ep), GFP_KERNEL);
	if (!ep)
		return -ENOMEM;
	ep->family = tmpl->family;
	ep->any = tmpl->any;
	ep->proto = tmpl->proto;
	ep->port = tmpl->port;
	ep->addr = tmpl->addr;
	strscpy(ep->account, tmpl->account, sizeof(ep->account));
	for (i = 0; i < ARRAY_SIZE(ep->stats); i++)
		atomic64_set(&ep->stats[i], 0);

	mutex_lock(&tn->lock);
	old = tcp2_ep_find(tn, ep->family, ep->any, &ep->addr, ep->port);
	if (old && !replace) {
		mutex_unlock(&tn->lock);
		kfree(ep);
		return -EEXIST;
	}
	if (!old && tn->n_eps >= TCP2_MAX_ENDPOINTS) {
		mutex_unlock(&tn->lock);
		kfree(ep);
		return -ENOSPC;
	}
	if (old) {
		hlist_replace_rcu(&old->node, &ep->node);
		kfree_rcu(old, rcu);
	} else {
		h = tcp2_ep_hash(ep->family, ep->any, &ep->addr, ep->port);
		hlist_add_head_rcu(&ep->node, &tn->eps[h]);
		tn->n_eps++;
	}
	mutex_unlock(&tn->lock);
	return 0;
}

/* Remove one endpoint.  -ENOENT if there is none such. */
int tcp2_ep_del(struct tcp2_net *tn, u8 family, bool any,
		const union tcp2_addr *addr, u16 port)
{
	struct tcp2_ep *ep;

	mutex_lock(&tn->lock);
	ep = tcp2_ep_find(tn, family, any, addr, port);
	if (!ep) {
		mutex_unlock(&tn->lock);
		return -ENOENT;
	}
	hlist_del_rcu(&ep->node);
	tn->n_eps--;
	mutex_unlock(&tn->lock);
	kfree_rcu(ep, rcu);
	return 0;
}

/* Remove every endpoint.  Readers may still see them until a grace period
 * has passed; the entries are freed after it.
 */
void tcp2_ep_flush(struct tcp2_net *tn)
{
	struct hlist_node *tmp;
	struct tcp2_ep *ep;
	unsigned int i;

	mutex_lock(&tn->lock);
	for (i = 0; i < ARRAY_SIZE(tn->eps); i++) {
		hlist_for_each_entry_safe(ep, tmp, &tn->eps[i], node) {
			hlist_del_rcu(&ep->node);
			kfree_rcu(ep, rcu);
		}
	}
	tn->n_eps = 0;
	mutex_unlock(&tn->lock);
}
