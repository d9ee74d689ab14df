/*
 * reorder.c - packet reordering for the end-to-end tests (no netem here).
 *
 * Binds one NFQUEUE queue and accepts every packet, but holds a share of
 * them for a few milliseconds first: packets that arrive meanwhile are
 * accepted at once and overtake the held ones, so the receiver sees the
 * stream out of order.  Nothing is ever dropped and a hold is bounded in
 * time and number (at most -m packets; beyond that packets pass at once),
 * and the queue is configured fail-open, so an overflow passes packets
 * instead of dropping them.  Feed it with a rule using --queue-bypass, so
 * that traffic flows unchanged when the helper is not running.
 *
 *   reorder [-q QUEUE] [-p PERCENT] [-d MINMS] [-D MAXMS] [-m MAXHELD]
 *           [-s SEED] [-r READYFILE]
 *
 * Defaults: queue 42, 10 % held, 2-8 ms, at most 64 held.  READYFILE is
 * created once the queue is bound.  SIGTERM/SIGINT: every held packet is
 * accepted, the counters are printed on stdout
 * ("packets N held H overtaken O"), exit 0.
 *
 * Built by "make test-build" as $(BUILD)/tests/reorder; used by
 * tests/e2e/t_e2e_impair.sh on the server host.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#define BUFSZ	(0xffff + (MNL_SOCKET_BUFFER_SIZE / 2))
#define MAXHOLD	1024

struct held {
	uint32_t id;
	uint64_t due;		/* CLOCK_MONOTONIC, microseconds */
	uint64_t seq;		/* arrival number */
};

static struct mnl_socket *nl;
static uint32_t portid;
static uint16_t qnum = 42;
static char *vbuf;
static struct held hold[MAXHOLD];
static size_t nheld, maxheld = 64;
static unsigned int percent = 10, min_ms = 2, max_ms = 8;
static uint64_t rng = 0x9e3779b97f4a7c15ull, arrivals;
static uint64_t n_packets, n_held, n_overtaken, n_errors;
static volatile sig_atomic_t quit;

static void
on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t
rnd(void)
{
	/* xorshift64* */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dull;
}

static int
send_msg(struct nlmsghdr *nlh)
{
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		n_errors++;
		return -1;
	}
	return 0;
}

static void
accept_id(uint32_t id)
{
	struct nlmsghdr *nlh;

	nlh = nfq_nlmsg_put(vbuf, NFQNL_MSG_VERDICT, qnum);
	nfq_nlmsg_verdict_put(nlh, (int)id, NF_ACCEPT);
	send_msg(nlh);
}

/* Accept every held packet that is due (all when force), earliest due
 * first; count the ones that leave after a later arrival. */
static void
release(int force)
{
	uint64_t t = now_us();
	size_t i, best;

	for (;;) {
		best = nheld;
		for (i = 0; i < nheld; i++)
			if ((force || hold[i].due <= t) && (best == nheld ||
			    hold[i].due < hold[best].due))
				best = i;
		if (best == nheld)
			return;
		if (arrivals > hold[best].seq)
			n_overtaken++;
		accept_id(hold[best].id);
		hold[best] = hold[--nheld];
	}
}

static int
on_msg(const struct nlmsghdr *nlh, void *data)
{
	struct nlattr *attr[NFQA_MAX + 1] = { NULL };
	struct nfqnl_msg_packet_hdr *ph;
	uint32_t id;

	(void)data;
	if (nfq_nlmsg_parse(nlh, attr) < 0 || attr[NFQA_PACKET_HDR] == NULL)
		return MNL_CB_OK;
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	id = ntohl(ph->packet_id);
	n_packets++;
	arrivals++;
	if (nheld < maxheld && rnd() % 1000 < percent * 10u) {
		hold[nheld].id = id;
		hold[nheld].seq = arrivals;
		hold[nheld].due = now_us() + 1000u * (min_ms +
		    (max_ms > min_ms ? rnd() % (max_ms - min_ms + 1) : 0));
		nheld++;
		n_held++;
	} else {
		accept_id(id);
	}
	return MNL_CB_OK;
}

static int
configure(void)
{
	struct nlmsghdr *nlh;

	nlh = nfq_nlmsg_put(vbuf, NFQNL_MSG_CONFIG, qnum);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_BIND);
	if (send_msg(nlh) != 0)
		return -1;
	nlh = nfq_nlmsg_put(vbuf, NFQNL_MSG_CONFIG, qnum);
	/* The verdict needs only the id: no payload copied. */
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_META, 0);
	nfq_nlmsg_cfg_put_qmaxlen(nlh, 4096);
	/* Overflow passes packets (this helper never drops); no GSO, so the
	 * kernel hands us MTU-sized segments to reorder. */
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(NFQA_CFG_F_FAIL_OPEN));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_FAIL_OPEN |
	    NFQA_CFG_F_GSO));
	return send_msg(nlh);
}

static void
usage(void)
{
	fprintf(stderr, "usage: reorder [-q QUEUE] [-p PERCENT] [-d MINMS] "
	    "[-D MAXMS] [-m MAXHELD] [-s SEED] [-r READYFILE]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *ready = NULL;
	struct sigaction sa;
	struct pollfd pfd;
	uint64_t t, next;
	char *buf;
	ssize_t n;
	int c, one = 1, rcvbuf = 8 << 20, timeout, fd;

	while ((c = getopt(argc, argv, "q:p:d:D:m:s:r:")) != -1) {
		switch (c) {
		case 'q': qnum = (uint16_t)strtoul(optarg, NULL, 10); break;
		case 'p': percent = (unsigned int)strtoul(optarg, NULL, 10); break;
		case 'd': min_ms = (unsigned int)strtoul(optarg, NULL, 10); break;
		case 'D': max_ms = (unsigned int)strtoul(optarg, NULL, 10); break;
		case 'm': maxheld = strtoul(optarg, NULL, 10); break;
		case 's': rng = strtoull(optarg, NULL, 0) | 1; break;
		case 'r': ready = optarg; break;
		default: usage();
		}
	}
	if (optind != argc || percent > 100 || maxheld > MAXHOLD ||
	    max_ms < min_ms || max_ms > 1000)
		usage();
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	buf = malloc(BUFSZ);
	vbuf = malloc(BUFSZ);
	nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (buf == NULL || vbuf == NULL || nl == NULL ||
	    mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("reorder: netlink");
		return 1;
	}
	portid = mnl_socket_get_portid(nl);
	mnl_socket_setsockopt(nl, NETLINK_NO_ENOBUFS, &one, sizeof(one));
	fd = mnl_socket_get_fd(nl);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
	if (configure() != 0) {
		perror("reorder: binding the queue");
		return 1;
	}
	if (ready != NULL) {
		int rfd = open(ready, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (rfd >= 0)
			close(rfd);
	}
	while (!quit) {
		timeout = 1000;
		if (nheld > 0) {
			t = now_us();
			next = hold[0].due;
			for (size_t i = 1; i < nheld; i++)
				if (hold[i].due < next)
					next = hold[i].due;
			timeout = next <= t ? 0 : (int)((next - t + 999) / 1000);
		}
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, timeout) < 0 && errno != EINTR)
			break;
		for (;;) {
			n = mnl_socket_recvfrom(nl, buf, BUFSZ);
			if (n < 0) {
				if (errno == ENOBUFS || errno == EINTR)
					continue;
				break;	/* EAGAIN */
			}
			mnl_cb_run(buf, (size_t)n, 0, portid, on_msg, NULL);
			release(0);
		}
		release(0);
	}
	release(1);
	printf("packets %llu held %llu overtaken %llu errors %llu\n",
	    (unsigned long long)n_packets, (unsigned long long)n_held,
	    (unsigned long long)n_overtaken, (unsigned long long)n_errors);
	fflush(stdout);
	mnl_socket_close(nl);
	free(buf);
	free(vbuf);
	return 0;
}
