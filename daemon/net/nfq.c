/*
 * nfq.c - bind, read and answer one NFQUEUE queue with libmnl.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#include "error.h"
#include "nfq.h"

#define NFQ_BUFSZ	(0xffff + (MNL_SOCKET_BUFFER_SIZE / 2))

struct tcp2_nfq {
	struct mnl_socket *nl;
	uint32_t portid;
	uint16_t qnum;
	char *buf;		/* receive buffer */
	char *vbuf;		/* verdict message buffer */
	uint64_t overruns;
	uint64_t stale;		/* verdicts for packets no longer queued */
	tcp2_nfq_fn fn;
	void *arg;
};

static int
nfq_send(struct tcp2_nfq *q, struct nlmsghdr *nlh)
{
	if (mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) < 0)
		return TCP2_EIO;
	return 0;
}

static int
nfq_config(struct tcp2_nfq *q)
{
	struct nlmsghdr *nlh;
	int rc;

	nlh = nfq_nlmsg_put(q->vbuf, NFQNL_MSG_CONFIG, q->qnum);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_BIND);
	if ((rc = nfq_send(q, nlh)) != 0)
		return rc;
	nlh = nfq_nlmsg_put(q->vbuf, NFQNL_MSG_CONFIG, q->qnum);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, 0xffff);
	nfq_nlmsg_cfg_put_qmaxlen(nlh, TCP2_NFQ_MAXLEN);
	/* No NFQA_CFG_F_FAIL_OPEN (plaintext would pass), no GSO. */
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(0));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_FAIL_OPEN |
	    NFQA_CFG_F_GSO));
	return nfq_send(q, nlh);
}

int
tcp2_nfq_open(struct tcp2_nfq **qp, uint16_t qnum)
{
	struct tcp2_nfq *q;
	int one = 1, rcvbuf = 8 << 20, rc = TCP2_EIO, saved;

	q = calloc(1, sizeof(*q));
	if (q == NULL)
		return TCP2_ENOMEM;
	q->qnum = qnum;
	q->buf = malloc(NFQ_BUFSZ);
	q->vbuf = malloc(NFQ_BUFSZ);
	if (q->buf == NULL || q->vbuf == NULL) {
		rc = TCP2_ENOMEM;
		goto fail;
	}
	q->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_NONBLOCK |
	    SOCK_CLOEXEC);
	if (q->nl == NULL || mnl_socket_bind(q->nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto fail;
	q->portid = mnl_socket_get_portid(q->nl);
	/* Losing queue messages must not kill the socket. */
	mnl_socket_setsockopt(q->nl, NETLINK_NO_ENOBUFS, &one, sizeof(one));
	setsockopt(mnl_socket_get_fd(q->nl), SOL_SOCKET, SO_RCVBUFFORCE,
	    &rcvbuf, sizeof(rcvbuf));
	if ((rc = nfq_config(q)) != 0)
		goto fail;
	*qp = q;
	return 0;
fail:
	saved = errno;
	tcp2_nfq_close(q);
	errno = saved;
	return rc;
}

int
tcp2_nfq_fd(const struct tcp2_nfq *q)
{
	return mnl_socket_get_fd(q->nl);
}

static int
nfq_cb(const struct nlmsghdr *nlh, void *data)
{
	struct tcp2_nfq *q = data;
	struct nlattr *attr[NFQA_MAX + 1] = { NULL };
	struct nfqnl_msg_packet_hdr *ph;
	uint32_t mark = 0;

	if (nfq_nlmsg_parse(nlh, attr) < 0 || attr[NFQA_PACKET_HDR] == NULL)
		return MNL_CB_OK;
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	if (attr[NFQA_MARK] != NULL)
		mark = ntohl(mnl_attr_get_u32(attr[NFQA_MARK]));
	if (attr[NFQA_PAYLOAD] == NULL) {
		/* Nothing to look at: a captured packet is never passed
		 * unparsed. */
		tcp2_nfq_drop(q, ntohl(ph->packet_id));
		return MNL_CB_OK;
	}
	q->fn(q->arg, ntohl(ph->packet_id), mnl_attr_get_payload(
	    attr[NFQA_PAYLOAD]), mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]),
	    mark);
	return MNL_CB_OK;
}

/*
 * Verdicts are sent without NLM_F_ACK, so an error message is the only
 * answer.  ENOENT: the packet is not in the queue any more: the kernel
 * dropped every queued packet when a netfilter hook went away (an
 * iptables rule change, tcp2.ko unloaded).  Nothing to do for it, and the
 * messages after this one in the buffer must still be read.
 */
static int
nfq_err_cb(const struct nlmsghdr *nlh, void *data)
{
	struct tcp2_nfq *q = data;
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e))) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if (e->error == 0)
		return MNL_CB_OK;
	if (e->error == -ENOENT) {
		q->stale++;
		return MNL_CB_OK;
	}
	errno = -e->error;
	return MNL_CB_ERROR;
}

int
tcp2_nfq_recv(struct tcp2_nfq *q, tcp2_nfq_fn fn, void *arg)
{
	static mnl_cb_t ctl_cb[NLMSG_MIN_TYPE] = {	/* libmnl: not const */
		[NLMSG_ERROR] = nfq_err_cb,
	};
	ssize_t n;
	int count = 0;

	q->fn = fn;
	q->arg = arg;
	for (;;) {
		n = mnl_socket_recvfrom(q->nl, q->buf, NFQ_BUFSZ);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return count;
			if (errno == ENOBUFS) {
				q->overruns++;
				continue;
			}
			if (errno == EINTR)
				continue;
			return TCP2_EIO;
		}
		if (mnl_cb_run2(q->buf, (size_t)n, 0, q->portid, nfq_cb, q,
		    ctl_cb, NLMSG_MIN_TYPE) < 0 && errno != EINTR)
			return TCP2_EIO;
		count++;
	}
}

static int
nfq_verdict(struct tcp2_nfq *q, uint32_t id, int verdict,
    const uint8_t *pkt, size_t len)
{
	struct nlmsghdr *nlh;

	nlh = nfq_nlmsg_put(q->vbuf, NFQNL_MSG_VERDICT, q->qnum);
	nfq_nlmsg_verdict_put(nlh, (int)id, verdict);
	if (pkt != NULL)
		nfq_nlmsg_verdict_put_pkt(nlh, pkt, (uint32_t)len);
	return nfq_send(q, nlh);
}

int
tcp2_nfq_accept(struct tcp2_nfq *q, uint32_t id)
{
	return nfq_verdict(q, id, NF_ACCEPT, NULL, 0);
}

int
tcp2_nfq_drop(struct tcp2_nfq *q, uint32_t id)
{
	return nfq_verdict(q, id, NF_DROP, NULL, 0);
}

int
tcp2_nfq_replace(struct tcp2_nfq *q, uint32_t id, const uint8_t *pkt,
    size_t len)
{
	return nfq_verdict(q, id, NF_ACCEPT, pkt, len);
}

uint64_t
tcp2_nfq_overruns(const struct tcp2_nfq *q)
{
	return q->overruns;
}

uint64_t
tcp2_nfq_stale(const struct tcp2_nfq *q)
{
	return q->stale;
}

void
tcp2_nfq_close(struct tcp2_nfq *q)
{
	if (q == NULL)
		return;
	if (q->nl != NULL)
		mnl_socket_close(q->nl);
	free(q->buf);
	free(q->vbuf);
	free(q);
}
