/*
 * kmodctl.c - install and remove tcp2d's endpoints in tcp2.ko over the
 * generic netlink family "tcp2" (include/uapi/linux/tcp2.h), with
 * libnl-genl-3.  One short-lived socket per call: the backend is used at
 * start, on reload and at exit only.
 */
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>

#include <linux/tcp2.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "error.h"
#include "kmodctl.h"

struct kctl {
	struct nl_sock *sk;
	int family;
};

/* The endpoints the module has, from a dump. */
struct klist {
	struct tcp2_endpoint *eps;
	size_t n, cap;
	int err;
};

static struct nla_policy dump_policy[TCP2_A_MAX + 1] = {
	[TCP2_A_FAMILY] = { .type = NLA_U8 },
	[TCP2_A_ADDR] = { .type = NLA_UNSPEC, .maxlen = 16 },
	[TCP2_A_PORT] = { .type = NLA_U16 },
	[TCP2_A_PROTO] = { .type = NLA_U8 },
	[TCP2_A_ACCOUNT] = { .type = NLA_STRING },
	[TCP2_A_STATS] = { .type = NLA_NESTED },
};

static int
kctl_open(struct kctl *k)
{
	k->sk = nl_socket_alloc();
	if (k->sk == NULL)
		return TCP2_ENOMEM;
	if (genl_connect(k->sk) != 0) {
		nl_socket_free(k->sk);
		return TCP2_EIO;
	}
	k->family = genl_ctrl_resolve(k->sk, TCP2_GENL_NAME);
	if (k->family < 0) {
		nl_socket_free(k->sk);
		return TCP2_ENOENT;
	}
	return 0;
}

static void
kctl_close(struct kctl *k)
{
	nl_socket_free(k->sk);
}

static struct nl_msg *
kctl_msg(struct kctl *k, uint8_t cmd, int flags)
{
	struct nl_msg *m = nlmsg_alloc();

	if (m != NULL && genlmsg_put(m, NL_AUTO_PORT, NL_AUTO_SEQ, k->family,
	    0, flags, cmd, TCP2_GENL_VERSION) == NULL) {
		nlmsg_free(m);
		m = NULL;
	}
	return m;
}

/* Send m (freed) and wait for the kernel's answer; libnl error or 0. */
static int
kctl_call(struct kctl *k, struct nl_msg *m, const char *what)
{
	int rc = nl_send_sync(k->sk, m);

	if (rc < 0)
		fprintf(stderr, "tcp2d: kmod %s: %s\n", what, nl_geterror(rc));
	return rc;
}

/* Family, address (unless a wildcard) and port of e. */
static int
put_key(struct nl_msg *m, const struct tcp2_endpoint *e)
{
	if (nla_put_u8(m, TCP2_A_FAMILY, (uint8_t)e->family) < 0 ||
	    nla_put_u16(m, TCP2_A_PORT, e->port) < 0)
		return -1;
	if (!e->any && nla_put(m, TCP2_A_ADDR, e->family == AF_INET6 ? 16 :
	    4, e->addr) < 0)
		return -1;
	return 0;
}

static int
kctl_add(struct kctl *k, const struct tcp2_endpoint *e)
{
	struct nl_msg *m = kctl_msg(k, TCP2_CMD_ADD_ENDPOINT, 0);

	if (m == NULL)
		return TCP2_ENOMEM;
	if (put_key(m, e) < 0 || nla_put_u8(m, TCP2_A_PROTO,
	    e->proto == TCP2_PROTO_SMTP ? TCP2_P_SMTP :
	    TCP2_P_POP3) < 0 || nla_put_string(m, TCP2_A_ACCOUNT,
	    e->any ? "" : e->account) < 0 ||
	    nla_put_flag(m, TCP2_A_REPLACE) < 0) {
		nlmsg_free(m);
		return TCP2_ENOMEM;
	}
	return kctl_call(k, m, "add endpoint") < 0 ? TCP2_EIO : 0;
}

static int
kctl_del(struct kctl *k, const struct tcp2_endpoint *e)
{
	struct nl_msg *m = kctl_msg(k, TCP2_CMD_DEL_ENDPOINT, 0);

	if (m == NULL)
		return TCP2_ENOMEM;
	if (put_key(m, e) < 0) {
		nlmsg_free(m);
		return TCP2_ENOMEM;
	}
	return kctl_call(k, m, "remove endpoint") < 0 ? TCP2_EIO : 0;
}

static int
dump_one(struct nl_msg *msg, void *arg)
{
	struct klist *l = arg;
	struct nlattr *tb[TCP2_A_MAX + 1];
	struct tcp2_endpoint *e, *ne;
	size_t alen;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, TCP2_A_MAX, dump_policy) < 0 ||
	    tb[TCP2_A_FAMILY] == NULL || tb[TCP2_A_PORT] == NULL) {
		l->err = TCP2_EIO;
		return NL_SKIP;
	}
	if (l->n == l->cap) {
		if (l->cap >= TCP2_MAX_ENDPOINTS) {
			l->err = TCP2_ETOOBIG;
			return NL_STOP;
		}
		l->cap = l->cap ? l->cap * 2 : 16;
		ne = realloc(l->eps, l->cap * sizeof(*ne));
		if (ne == NULL) {
			l->err = TCP2_ENOMEM;
			return NL_STOP;
		}
		l->eps = ne;
	}
	e = &l->eps[l->n];
	memset(e, 0, sizeof(*e));
	e->family = nla_get_u8(tb[TCP2_A_FAMILY]);
	e->port = nla_get_u16(tb[TCP2_A_PORT]);
	e->any = tb[TCP2_A_ADDR] == NULL;
	alen = e->family == AF_INET6 ? 16 : 4;
	if (!e->any) {
		if ((size_t)nla_len(tb[TCP2_A_ADDR]) != alen) {
			l->err = TCP2_EIO;
			return NL_SKIP;
		}
		memcpy(e->addr, nla_data(tb[TCP2_A_ADDR]), alen);
	}
	l->n++;
	return NL_OK;
}

static int
kctl_dump(struct kctl *k, struct klist *l)
{
	struct nl_msg *m = kctl_msg(k, TCP2_CMD_GET_ENDPOINT, NLM_F_DUMP);
	int rc;

	if (m == NULL)
		return TCP2_ENOMEM;
	nl_socket_modify_cb(k->sk, NL_CB_VALID, NL_CB_CUSTOM, dump_one, l);
	rc = nl_send_auto(k->sk, m);
	nlmsg_free(m);
	if (rc >= 0)
		rc = nl_recvmsgs_default(k->sk);
	if (rc < 0) {
		fprintf(stderr, "tcp2d: kmod list endpoints: %s\n",
		    nl_geterror(rc));
		return TCP2_EIO;
	}
	return l->err;
}

static int
same_key(const struct tcp2_endpoint *a, const struct tcp2_endpoint *b)
{
	return a->family == b->family && a->port == b->port &&
	    a->any == b->any && (a->any || memcmp(a->addr, b->addr,
	    a->family == AF_INET6 ? 16 : 4) == 0);
}

int
tcp2_kmodctl_install(const struct tcp2_endpoint *eps, size_t n,
    uint16_t qnum)
{
	struct klist have = { NULL, 0, 0, 0 };
	struct nl_msg *m;
	struct kctl k;
	size_t i, j;
	int rc;

	if ((rc = kctl_open(&k)) != 0) {
		if (rc == TCP2_ENOENT)
			fprintf(stderr, "tcp2d: kmod: no genetlink family "
			    "\"%s\" (is tcp2.ko loaded?)\n", TCP2_GENL_NAME);
		return rc;
	}
	/* The queue first: an endpoint added must go to our queue. */
	m = kctl_msg(&k, TCP2_CMD_SET_CONFIG, 0);
	if (m == NULL || nla_put_u16(m, TCP2_A_QUEUE, qnum) < 0) {
		nlmsg_free(m);
		rc = TCP2_ENOMEM;
		goto out;
	}
	if (kctl_call(&k, m, "set queue") < 0) {
		rc = TCP2_EIO;
		goto out;
	}
	for (i = 0; i < n && rc == 0; i++)
		rc = kctl_add(&k, &eps[i]);
	if (rc == 0)
		rc = kctl_dump(&k, &have);
	for (i = 0; i < have.n && rc == 0; i++) {
		for (j = 0; j < n; j++)
			if (same_key(&have.eps[i], &eps[j]))
				break;
		if (j == n)
			rc = kctl_del(&k, &have.eps[i]);
	}
out:
	free(have.eps);
	kctl_close(&k);
	return rc;
}

int
tcp2_kmodctl_present(void)
{
	struct kctl k;
	int rc;

	if ((rc = kctl_open(&k)) != 0)
		return rc == TCP2_ENOENT ? 0 : -1;
	kctl_close(&k);
	return 1;
}

void
tcp2_kmodctl_remove(void)
{
	struct nl_msg *m;
	struct kctl k;

	if (kctl_open(&k) != 0)
		return;
	m = kctl_msg(&k, TCP2_CMD_FLUSH, 0);
	if (m != NULL)
		(void)kctl_call(&k, m, "flush");
	kctl_close(&k);
}
