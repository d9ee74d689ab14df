// SPDX-License-Identifier: GPL-2.0
/*
 * genl.c - the generic netlink family "tcp2": tcp2d adds and removes
 * endpoints, sets the queue number and options, reads counters, and
 * listens to port-search events.  See include/uapi/linux/tcp2.h.
 *
 * Every operation is admin-only (GENL_ADMIN_PERM) and works on the
 * caller's network namespace.  Attributes are parsed strictly against one
 * policy: anything not in it, of the wrong type or length, is EINVAL with
 * an extack message naming the attribute.
 */
#include <linux/netdevice.h>
#include <linux/socket.h>
#include <net/genetlink.h>
#include <net/netlink.h>
#include <net/sock.h>

#include "tcp2.h"

static const struct nla_policy tcp2_policy[TCP2_A_MAX + 1] = {
	[TCP2_A_FAMILY]		= { .type = NLA_U8 },
	[TCP2_A_ADDR]		= { .type = NLA_BINARY,
				    .len = sizeof(struct in6_addr) },
	[TCP2_A_PORT]		= NLA_POLICY_MIN(NLA_U16, 1),
	[TCP2_A_PROTO]		= NLA_POLICY_RANGE(NLA_U8, TCP2_P_SMTP,
						   TCP2_P_POP3),
	[TCP2_A_ACCOUNT]	= { .type = NLA_NUL_STRING,
				    .len = TCP2_ACCOUNT_MAX - 1 },
	[TCP2_A_QUEUE]		= { .type = NLA_U16 },
	[TCP2_A_OPTIONS]	= NLA_POLICY_MASK(NLA_U32, TCP2_OPT_ALL),
	[TCP2_A_MSS]		= NLA_POLICY_RANGE(NLA_U16, TCP2_MSS_MIN,
						   TCP2_MSS_MAX),
	[TCP2_A_REPLACE]	= { .type = NLA_FLAG },
	[TCP2_A_SEARCH_PORTS]	= { .type = NLA_BINARY,
				    .len = TCP2_MAX_SEARCH_PORTS * sizeof(u16) },
};

/* Cleared (then a grace period) before the family goes away, so that the
 * hooks stop sending events to it.
 */
static bool tcp2_genl_live;

static struct genl_family tcp2_family;

/* The family, address and port of an endpoint from info; any is set when
 * there is no address (wildcard).
 */
static int tcp2_genl_parse_ep(struct genl_info *info, u8 *family, bool *any,
			      union tcp2_addr *addr, u16 *port)
{
	struct nlattr **a = info->attrs;
	struct nlattr *na;
	int alen;

	if (GENL_REQ_ATTR_CHECK(info, TCP2_A_FAMILY) ||
	    GENL_REQ_ATTR_CHECK(info, TCP2_A_PORT))
		return -EINVAL;
	*family = nla_get_u8(a[TCP2_A_FAMILY]);
	if (*family == AF_INET) {
		alen = sizeof(addr->v4);
	} else if (*family == AF_INET6) {
		alen = sizeof(addr->v6);
	} else {
		NL_SET_ERR_MSG_ATTR(info->extack, a[TCP2_A_FAMILY],
				    "family must be AF_INET or AF_INET6");
		return -EINVAL;
	}
	*port = nla_get_u16(a[TCP2_A_PORT]);
	memset(addr, 0, sizeof(*addr));
	na = a[TCP2_A_ADDR];
	*any = !na;
	if (na) {
		if (nla_len(na) != alen) {
			NL_SET_ERR_MSG_ATTR(info->extack, na,
					    "address length does not match the family");
			return -EINVAL;
		}
		memcpy(addr, nla_data(na), alen);
	}
	return 0;
}

static int tcp2_genl_add(struct sk_buff *skb, struct genl_info *info)
{
	struct tcp2_net *tn = tcp2_pernet(genl_info_net(info));
	struct tcp2_ep *tmpl;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, TCP2_A_PROTO))
		return -EINVAL;
	tmpl = kzalloc(sizeof(*tmpl), GFP_KERNEL);
	if (!tmpl)
		return -ENOMEM;
	err = tcp2_genl_parse_ep(info, &tmpl->family, &tmpl->any, &tmpl->addr,
				 &tmpl->port);
	if (err)
		goto out;
	tmpl->proto = nla_get_u8(info->attrs[TCP2_A_PROTO]);
	if (info->attrs[TCP2_A_ACCOUNT])
		nla_strscpy(tmpl->account, info->attrs[TCP2_A_ACCOUNT],
			    sizeof(tmpl->account));
	err = tcp2_ep_add(tn, tmpl, nla_get_flag(info->attrs[TCP2_A_REPLACE]));
	if (err == -ENOSPC)
		NL_SET_ERR_MSG(info->extack, "endpoint table is full");
out:
	kfree(tmpl);
	return err;
}

static int tcp2_genl_del(struct sk_buff *skb, struct genl_info *info)
{
	struct tcp2_net *tn = tcp2_pernet(genl_info_net(info));
	union tcp2_addr addr;
	u8 family;
	bool any;
	u16 port;
	int err;

	err = tcp2_genl_parse_ep(info, &family, &any, &addr, &port);
	if (err)
		return err;
	return tcp2_ep_del(tn, family, any, &addr, port);
}

static int tcp2_genl_flush(struct sk_buff *skb, struct genl_info *info)
{
	tcp2_ep_flush(tcp2_pernet(genl_info_net(info)));
	return 0;
}

static int tcp2_genl_put_addr(struct sk_buff *skb, int type, u8 family,
			      const union tcp2_addr *addr)
{
	if (family == AF_INET)
		return nla_put_in_addr(skb, type, addr->v4);
	return nla_put_in6_addr(skb, type, &addr->v6);
}

static int tcp2_genl_put_ep(struct sk_buff *skb, const struct tcp2_ep *ep)
{
	struct nlattr *nest;
	int i;

	if (nla_put_u8(skb, TCP2_A_FAMILY, ep->family) ||
	    nla_put_u16(skb, TCP2_A_PORT, ep->port) ||
	    nla_put_u8(skb, TCP2_A_PROTO, ep->proto) ||
	    nla_put_string(skb, TCP2_A_ACCOUNT, ep->account))
		return -EMSGSIZE;
	if (!ep->any && tcp2_genl_put_addr(skb, TCP2_A_ADDR, ep->family,
					   &ep->addr))
		return -EMSGSIZE;
	nest = nla_nest_start(skb, TCP2_A_STATS);
	if (!nest)
		return -EMSGSIZE;
	for (i = TCP2_EPS_PKTS_OUT; i <= TCP2_EPS_SYNS; i++)
		if (nla_put_u64_64bit(skb, i, atomic64_read(&ep->stats[i]),
				      TCP2_EPS_PAD))
			return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

/* Dump: cb->args[0] is the bucket, cb->args[1] the entries of it done. */
static int tcp2_genl_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct tcp2_net *tn = tcp2_pernet(sock_net(skb->sk));
	unsigned long b, skip, idx;
	struct tcp2_ep *ep;
	void *hdr;
	int err = 0;

	rcu_read_lock();
	for (b = cb->args[0]; b < ARRAY_SIZE(tn->eps); b++) {
		skip = (b == cb->args[0]) ? cb->args[1] : 0;
		idx = 0;
		hlist_for_each_entry_rcu(ep, &tn->eps[b], node) {
			if (idx++ < skip)
				continue;
			hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
					  cb->nlh->nlmsg_seq, &tcp2_family,
					  NLM_F_MULTI, TCP2_CMD_GET_ENDPOINT);
			if (!hdr) {
				err = -EMSGSIZE;
				break;
			}
			if (tcp2_genl_put_ep(skb, ep)) {
				genlmsg_cancel(skb, hdr);
				err = -EMSGSIZE;
				break;
			}
			genlmsg_end(skb, hdr);
		}
		if (err) {
			cb->args[0] = b;
			cb->args[1] = idx - 1;
			break;
		}
	}
	rcu_read_unlock();
	if (!err)
		cb->args[0] = b;
	return skb->len;
}

static int tcp2_genl_set_config(struct sk_buff *skb, struct genl_info *info)
{
	struct tcp2_net *tn = tcp2_pernet(genl_info_net(info));
	struct nlattr **a = info->attrs;
	struct tcp2_cfg *cfg, *old;
	struct nlattr *na;
	unsigned int i;

	cfg = kzalloc(sizeof(*cfg), GFP_KERNEL);
	if (!cfg)
		return -ENOMEM;
	mutex_lock(&tn->lock);
	old = rcu_dereference_protected(tn->cfg, lockdep_is_held(&tn->lock));
	*cfg = *old;
	if (a[TCP2_A_QUEUE])
		cfg->queue = nla_get_u16(a[TCP2_A_QUEUE]);
	if (a[TCP2_A_OPTIONS])
		cfg->options = nla_get_u32(a[TCP2_A_OPTIONS]);
	if (a[TCP2_A_MSS])
		cfg->mss = nla_get_u16(a[TCP2_A_MSS]);
	na = a[TCP2_A_SEARCH_PORTS];
	if (na) {
		if (nla_len(na) % sizeof(u16)) {
			mutex_unlock(&tn->lock);
			kfree(cfg);
			NL_SET_ERR_MSG_ATTR(info->extack, na,
					    "search ports: an array of u16");
			return -EINVAL;
		}
		cfg->n_ports = nla_len(na) / sizeof(u16);
		memcpy(cfg->search_ports, nla_data(na), nla_len(na));
		for (i = 0; i < cfg->n_ports; i++) {
			if (cfg->search_ports[i] == 0) {
				mutex_unlock(&tn->lock);
				kfree(cfg);
				NL_SET_ERR_MSG_ATTR(info->extack, na,
						    "search port 0");
				return -EINVAL;
			}
		}
	}
	rcu_assign_pointer(tn->cfg, cfg);
	mutex_unlock(&tn->lock);
	kfree_rcu(old, rcu);
	return 0;
}

static int tcp2_genl_get_config(struct sk_buff *skb, struct genl_info *info)
{
	struct tcp2_net *tn = tcp2_pernet(genl_info_net(info));
	const struct tcp2_cfg *cfg;
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &tcp2_family, 0,
				TCP2_CMD_GET_CONFIG);
	if (!hdr)
		goto nospace;
	rcu_read_lock();
	cfg = rcu_dereference(tn->cfg);
	if (nla_put_u16(msg, TCP2_A_QUEUE, cfg->queue) ||
	    nla_put_u32(msg, TCP2_A_OPTIONS, cfg->options) ||
	    nla_put_u16(msg, TCP2_A_MSS, cfg->mss) ||
	    nla_put(msg, TCP2_A_SEARCH_PORTS, cfg->n_ports * sizeof(u16),
		    cfg->search_ports)) {
		rcu_read_unlock();
		goto nospace;
	}
	rcu_read_unlock();
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
nospace:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

static int tcp2_genl_get_stats(struct sk_buff *skb, struct genl_info *info)
{
	struct tcp2_net *tn = tcp2_pernet(genl_info_net(info));
	struct nlattr *nest;
	struct sk_buff *msg;
	void *hdr;
	int i;

	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &tcp2_family, 0,
				TCP2_CMD_GET_STATS);
	if (!hdr)
		goto nospace;
	if (nla_put_u32(msg, TCP2_A_ENDPOINTS, READ_ONCE(tn->n_eps)))
		goto nospace;
	nest = nla_nest_start(msg, TCP2_A_STATS);
	if (!nest)
		goto nospace;
	for (i = TCP2_GS_QUEUED; i <= TCP2_GS_SKIPPED_OWN; i++)
		if (nla_put_u64_64bit(msg, i, atomic64_read(&tn->stats[i]),
				      TCP2_GS_PAD))
			goto nospace;
	nla_nest_end(msg, nest);
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
nospace:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

/*
 * Report a session found by the port search to the listeners of the
 * namespace.  Called from the hooks (softirq or process context, under
 * RCU); silently nothing when nobody listens or memory is short.
 */
void tcp2_genl_session_found(struct tcp2_net *tn, u8 family,
			     const union tcp2_addr *server, u16 sport,
			     const union tcp2_addr *client, u16 cport,
			     u8 proto)
{
	struct sk_buff *msg;
	void *hdr;

	if (!READ_ONCE(tcp2_genl_live) ||
	    !genl_has_listeners(&tcp2_family, tn->net, 0))
		return;
	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_ATOMIC);
	if (!msg)
		return;
	hdr = genlmsg_put(msg, 0, 0, &tcp2_family, 0, TCP2_CMD_SESSION_FOUND);
	if (!hdr ||
	    nla_put_u8(msg, TCP2_A_FAMILY, family) ||
	    tcp2_genl_put_addr(msg, TCP2_A_ADDR, family, server) ||
	    nla_put_u16(msg, TCP2_A_PORT, sport) ||
	    tcp2_genl_put_addr(msg, TCP2_A_CLIENT_ADDR, family, client) ||
	    nla_put_u16(msg, TCP2_A_CLIENT_PORT, cport) ||
	    nla_put_u8(msg, TCP2_A_PROTO, proto)) {
		nlmsg_free(msg);
		return;
	}
	genlmsg_end(msg, hdr);
	genlmsg_multicast_netns(&tcp2_family, tn->net, msg, 0, 0, GFP_ATOMIC);
}

static const struct genl_small_ops tcp2_genl_ops[] = {
	{
		.cmd = TCP2_CMD_ADD_ENDPOINT,
		.doit = tcp2_genl_add,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = TCP2_CMD_DEL_ENDPOINT,
		.doit = tcp2_genl_del,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = TCP2_CMD_GET_ENDPOINT,
		.dumpit = tcp2_genl_dump,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = TCP2_CMD_FLUSH,
		.doit = tcp2_genl_flush,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = TCP2_CMD_SET_CONFIG,
		.doit = tcp2_genl_set_config,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = TCP2_CMD_GET_CONFIG,
		.doit = tcp2_genl_get_config,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = TCP2_CMD_GET_STATS,
		.doit = tcp2_genl_get_stats,
		.flags = GENL_ADMIN_PERM,
	},
};

/* Events name the connections of the host: CAP_NET_ADMIN to listen. */
static const struct genl_multicast_group tcp2_mcgrps[] = {
	{ .name = TCP2_GENL_MCGRP_EVENTS, .flags = GENL_MCAST_CAP_NET_ADMIN },
};

static struct genl_family tcp2_family __ro_after_init = {
	.name		= TCP2_GENL_NAME,
	.version	= TCP2_GENL_VERSION,
	.maxattr	= TCP2_A_MAX,
	.policy		= tcp2_policy,
	.netnsok	= true,
	.module		= THIS_MODULE,
	.small_ops	= tcp2_genl_ops,
	.n_small_ops	= ARRAY_SIZE(tcp2_genl_ops),
	.resv_start_op	= TCP2_CMD_ADD_ENDPOINT,
	.mcgrps		= tcp2_mcgrps,
	.n_mcgrps	= ARRAY_SIZE(tcp2_mcgrps),
};

int __init tcp2_genl_init(void)
{
	int err;

	err = genl_register_family(&tcp2_family);
	if (!err)
		WRITE_ONCE(tcp2_genl_live, true);
	return err;
}

void tcp2_genl_exit(void)
{
	WRITE_ONCE(tcp2_genl_live, false);
	synchronize_net();	/* hooks past the check are done */
	genl_unregister_family(&tcp2_family);
}
