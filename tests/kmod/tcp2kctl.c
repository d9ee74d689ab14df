/*
 * tcp2kctl.c - test tool for the genetlink family "tcp2" of tcp2.ko: every
 * command of the family, the multicast events, and deliberately malformed
 * requests.  Run in the QEMU guest by tests/kmod/guest.sh.
 *
 *   tcp2kctl add inet|inet6 ADDR|any PORT smtp|pop3 [ACCOUNT]
 *   tcp2kctl del inet|inet6 ADDR|any PORT
 *   tcp2kctl list | flush | stats | getconfig
 *   tcp2kctl config [queue N] [options N] [mss N] [ports P,P,...]
 *   tcp2kctl fill N                 add N endpoints 10.8.x.y:25, stop at a refusal
 *   tcp2kctl listen COUNT SECONDS   print COUNT port-search events
 *   tcp2kctl bad CASE               a malformed request (see bad_cases)
 *
 * A refused request prints "error: ENAME (text)" with the kernel's errno
 * and exits 1; usage errors exit 2.
 */
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>

#include <linux/tcp2.h>

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

static struct nl_sock *sk;
static int fam;

static void
usage(void)
{
	fprintf(stderr, "usage: tcp2kctl add|del|list|flush|stats|getconfig|"
	    "config|listen|bad ...\n");
	exit(2);
}

static const char *
errname(int e)
{
	switch (e) {
	case EINVAL: return "EINVAL";
	case EPERM: return "EPERM";
	case EEXIST: return "EEXIST";
	case ENOENT: return "ENOENT";
	case ENOSPC: return "ENOSPC";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case ERANGE: return "ERANGE";
	default: return "E?";
	}
}

static int
on_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	(void)nla;
	*(int *)arg = -e->error;
	return NL_STOP;
}

static int
on_ack(struct nl_msg *m, void *arg)
{
	(void)m;
	*(int *)arg = 0;
	return NL_STOP;
}

static struct nl_msg *
msg(uint8_t cmd, int flags)
{
	struct nl_msg *m = nlmsg_alloc();

	if (m == NULL || genlmsg_put(m, NL_AUTO_PORT, NL_AUTO_SEQ, fam, 0,
	    flags, cmd, TCP2_GENL_VERSION) == NULL) {
		fprintf(stderr, "tcp2kctl: out of memory\n");
		exit(2);
	}
	return m;
}

/* Send m (freed) with valid_cb for replies; the kernel's errno or 0. */
static int
call(struct nl_msg *m, nl_recvmsg_msg_cb_t valid_cb)
{
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);
	int err = -1, rc;

	nl_cb_err(cb, NL_CB_CUSTOM, on_error, &err);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_ack, &err);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, on_ack, &err);
	if (valid_cb != NULL)
		nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, valid_cb, NULL);
	rc = nl_send_auto(sk, m);
	nlmsg_free(m);
	while (rc >= 0 && err == -1)
		rc = nl_recvmsgs(sk, cb);
	nl_cb_put(cb);
	/* libnl also returns an error after an NLMSG_ERROR we handled */
	if (rc < 0 && err == -1) {
		fprintf(stderr, "tcp2kctl: %s\n", nl_geterror(rc));
		exit(2);
	}
	return err;
}

static int
done(int err)
{
	if (err == 0)
		return 0;
	printf("error: %s (%s)\n", errname(err), strerror(err));
	return 1;
}

static int
parse_family(const char *s)
{
	if (strcmp(s, "inet") == 0)
		return AF_INET;
	if (strcmp(s, "inet6") == 0)
		return AF_INET6;
	usage();
	return 0;
}

static void
put_key(struct nl_msg *m, char **av)
{
	unsigned char a[16];
	int f = parse_family(av[0]);

	nla_put_u8(m, TCP2_A_FAMILY, (uint8_t)f);
	if (strcmp(av[1], "any") != 0) {
		if (inet_pton(f, av[1], a) != 1)
			usage();
		nla_put(m, TCP2_A_ADDR, f == AF_INET ? 4 : 16, a);
	}
	nla_put_u16(m, TCP2_A_PORT, (uint16_t)atoi(av[2]));
}

static int
print_ep(struct nl_msg *m, void *arg)
{
	static const char *sn[] = { "", "out", "in", "bytes_out", "bytes_in",
	    "syns" };
	struct nlattr *tb[TCP2_A_MAX + 1], *st[TCP2_EPS_MAX + 1];
	char addr[INET6_ADDRSTRLEN] = "any";
	int f, i;

	(void)arg;
	if (genlmsg_parse(nlmsg_hdr(m), 0, tb, TCP2_A_MAX, NULL) < 0 ||
	    !tb[TCP2_A_FAMILY] || !tb[TCP2_A_PORT] || !tb[TCP2_A_PROTO])
		return NL_SKIP;
	f = nla_get_u8(tb[TCP2_A_FAMILY]);
	if (tb[TCP2_A_ADDR])
		inet_ntop(f, nla_data(tb[TCP2_A_ADDR]), addr, sizeof(addr));
	printf("%s %s %u %s %s", f == AF_INET ? "inet" : "inet6", addr,
	    nla_get_u16(tb[TCP2_A_PORT]), nla_get_u8(tb[TCP2_A_PROTO]) ==
	    TCP2_P_SMTP ? "smtp" : "pop3", tb[TCP2_A_ACCOUNT] ?
	    nla_get_string(tb[TCP2_A_ACCOUNT]) : "-");
	if (tb[TCP2_A_STATS] && nla_parse_nested(st, TCP2_EPS_MAX,
	    tb[TCP2_A_STATS], NULL) == 0)
		for (i = TCP2_EPS_PKTS_OUT; i <= TCP2_EPS_SYNS; i++)
			if (st[i])
				printf(" %s=%llu", sn[i], (unsigned long long)
				    nla_get_u64(st[i]));
	printf("\n");
	return NL_OK;
}

static int
print_stats(struct nl_msg *m, void *arg)
{
	static const char *sn[] = { "", "queued", "skipped_mark",
	    "mss_clamped", "search_tracked", "search_found",
	    "search_overflow", "skipped_own" };
	struct nlattr *tb[TCP2_A_MAX + 1], *st[TCP2_GS_MAX + 1];
	int i;

	(void)arg;
	if (genlmsg_parse(nlmsg_hdr(m), 0, tb, TCP2_A_MAX, NULL) < 0)
		return NL_SKIP;
	if (tb[TCP2_A_ENDPOINTS])
		printf("endpoints=%u", nla_get_u32(tb[TCP2_A_ENDPOINTS]));
	if (tb[TCP2_A_STATS] && nla_parse_nested(st, TCP2_GS_MAX,
	    tb[TCP2_A_STATS], NULL) == 0)
		for (i = TCP2_GS_QUEUED; i <= TCP2_GS_SKIPPED_OWN; i++)
			if (st[i])
				printf(" %s=%llu", sn[i], (unsigned long long)
				    nla_get_u64(st[i]));
	printf("\n");
	return NL_OK;
}

static int
print_config(struct nl_msg *m, void *arg)
{
	struct nlattr *tb[TCP2_A_MAX + 1];
	const uint16_t *p;
	int i, n;

	(void)arg;
	if (genlmsg_parse(nlmsg_hdr(m), 0, tb, TCP2_A_MAX, NULL) < 0 ||
	    !tb[TCP2_A_QUEUE] || !tb[TCP2_A_OPTIONS] || !tb[TCP2_A_MSS] ||
	    !tb[TCP2_A_SEARCH_PORTS])
		return NL_SKIP;
	printf("queue=%u options=0x%x mss=%u ports=",
	    nla_get_u16(tb[TCP2_A_QUEUE]), nla_get_u32(tb[TCP2_A_OPTIONS]),
	    nla_get_u16(tb[TCP2_A_MSS]));
	p = nla_data(tb[TCP2_A_SEARCH_PORTS]);
	n = nla_len(tb[TCP2_A_SEARCH_PORTS]) / 2;
	for (i = 0; i < n; i++)
		printf("%s%u", i ? "," : "", p[i]);
	printf("\n");
	return NL_OK;
}

static int events;

static int
print_event(struct nl_msg *m, void *arg)
{
	struct nlattr *tb[TCP2_A_MAX + 1];
	char s[INET6_ADDRSTRLEN], c[INET6_ADDRSTRLEN];
	int f;

	(void)arg;
	if (genlmsg_parse(nlmsg_hdr(m), 0, tb, TCP2_A_MAX, NULL) < 0 ||
	    genlmsg_hdr(nlmsg_hdr(m))->cmd != TCP2_CMD_SESSION_FOUND ||
	    !tb[TCP2_A_FAMILY] || !tb[TCP2_A_ADDR] || !tb[TCP2_A_PORT] ||
	    !tb[TCP2_A_CLIENT_ADDR] || !tb[TCP2_A_CLIENT_PORT] ||
	    !tb[TCP2_A_PROTO])
		return NL_SKIP;
	f = nla_get_u8(tb[TCP2_A_FAMILY]);
	inet_ntop(f, nla_data(tb[TCP2_A_ADDR]), s, sizeof(s));
	inet_ntop(f, nla_data(tb[TCP2_A_CLIENT_ADDR]), c, sizeof(c));
	printf("found %s server %s %u client %s %u %s\n", f == AF_INET ?
	    "inet" : "inet6", s, nla_get_u16(tb[TCP2_A_PORT]), c,
	    nla_get_u16(tb[TCP2_A_CLIENT_PORT]), nla_get_u8(tb[TCP2_A_PROTO]) ==
	    TCP2_P_SMTP ? "smtp" : "pop3");
	fflush(stdout);
	events++;
	return NL_OK;
}

static int
listen_events(int count, int seconds)
{
	struct pollfd pfd;
	time_t end = time(NULL) + seconds;
	int grp;

	grp = genl_ctrl_resolve_grp(sk, TCP2_GENL_NAME, TCP2_GENL_MCGRP_EVENTS);
	if (grp < 0) {
		fprintf(stderr, "tcp2kctl: group: %s\n", nl_geterror(grp));
		return 2;
	}
	if (nl_socket_add_membership(sk, grp) < 0) {
		printf("error: EPERM (joining the events group)\n");
		return 1;
	}
	nl_socket_disable_seq_check(sk);
	nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, print_event, NULL);
	printf("listening\n");
	fflush(stdout);
	pfd.fd = nl_socket_get_fd(sk);
	pfd.events = POLLIN;
	while (events < count && time(NULL) < end) {
		if (poll(&pfd, 1, 200) > 0)
			nl_recvmsgs_default(sk);
	}
	return events < count;
}

/* Malformed requests: each must be refused (EINVAL, ERANGE). */
static int
bad(const char *c)
{
	struct nl_msg *m = msg(TCP2_CMD_ADD_ENDPOINT, 0);
	unsigned char a[16] = { 10, 0, 0, 1 };
	char longs[400];

	if (strcmp(c, "unknown-attr") == 0) {
		nla_put_u8(m, TCP2_A_FAMILY, AF_INET);
		nla_put_u16(m, TCP2_A_PORT, 25);
		nla_put_u8(m, TCP2_A_PROTO, TCP2_P_SMTP);
		nla_put_u32(m, TCP2_A_MAX + 5, 1);
	} else if (strcmp(c, "reply-attr") == 0) {
		nla_put_u8(m, TCP2_A_FAMILY, AF_INET);
		nla_put_u16(m, TCP2_A_PORT, 25);
		nla_put_u8(m, TCP2_A_PROTO, TCP2_P_SMTP);
		nla_put_u32(m, TCP2_A_ENDPOINTS, 1);
	} else if (strcmp(c, "addr-len") == 0) {
		nla_put_u8(m, TCP2_A_FAMILY, AF_INET);
		nla_put(m, TCP2_A_ADDR, 5, a);
		nla_put_u16(m, TCP2_A_PORT, 25);
		nla_put_u8(m, TCP2_A_PROTO, TCP2_P_SMTP);
	} else if (strcmp(c, "addr-v6-for-v4") == 0) {
		nla_put_u8(m, TCP2_A_FAMILY, AF_INET);
		nla_put(m, TCP2_A_ADDR, 16, a);
		nla_put_u16(m, TCP2_A_PORT, 25);
		nla_put_u8(m, TCP2_A_PROTO, TCP2_P_SMTP);
	} else if (strcmp(c, "family") == 0) {
		nla_put_u8(m, TCP2_A_FAMILY, 7);
		nla_put_u16(m, TCP2_A_PORT, 25);
		nla_put_u8(m, TCP2_A_PROTO, TCP2_P_SMTP);
	} else if (strcmp(c, "port-zero") == 0) {
		nla_put_u8(m, TCP2_A_FAMILY, AF_INET);
		nla_put_u16(m, TCP2_A_PORT, 0);
		nla_put_u8(m, TCP2_A_PROTO, TCP2_P_SMTP);
	} else if (strcmp(c, "port-u32") == 0) {
		nla_put_u8(m, TCP2_A_FAMILY, AF_INET);
		nla_put_u32(m, TCP2_A_PORT, 25);
		nla_put_u8(m, TCP2_A_PROTO, TCP2_P_SMTP);
	} else if (strcmp(c, "no-port") == 0) {
		nla_put_u8(m, TCP2_A_FAMILY, AF_INET);
		nla_put_u8(m, TCP2_A_PROTO, TCP2_P_SMTP);
	} else if (strcmp(c, "proto") == 0) {
		nla_put_u8(m, TCP2_A_FAMILY, AF_INET);
		nla_put_u16(m, TCP2_A_PORT, 25);
		nla_put_u8(m, TCP2_A_PROTO, 9);
	} else if (strcmp(c, "account-long") == 0) {
		memset(longs, 'a', sizeof(longs) - 1);
		longs[sizeof(longs) - 1] = '\0';
		nla_put_u8(m, TCP2_A_FAMILY, AF_INET);
		nla_put_u16(m, TCP2_A_PORT, 25);
		nla_put_u8(m, TCP2_A_PROTO, TCP2_P_SMTP);
		nla_put_string(m, TCP2_A_ACCOUNT, longs);
	} else if (strcmp(c, "nlm-replace") == 0) {
		nlmsg_free(m);
		m = msg(TCP2_CMD_ADD_ENDPOINT, NLM_F_REPLACE);
		nla_put_u8(m, TCP2_A_FAMILY, AF_INET);
		nla_put_u16(m, TCP2_A_PORT, 25);
		nla_put_u8(m, TCP2_A_PROTO, TCP2_P_SMTP);
	} else if (strcmp(c, "options") == 0) {
		nlmsg_free(m);
		m = msg(TCP2_CMD_SET_CONFIG, 0);
		nla_put_u32(m, TCP2_A_OPTIONS, 0x80);
	} else if (strcmp(c, "mss") == 0) {
		nlmsg_free(m);
		m = msg(TCP2_CMD_SET_CONFIG, 0);
		nla_put_u16(m, TCP2_A_MSS, 100);
	} else if (strcmp(c, "ports-odd") == 0) {
		nlmsg_free(m);
		m = msg(TCP2_CMD_SET_CONFIG, 0);
		nla_put(m, TCP2_A_SEARCH_PORTS, 3, a);
	} else if (strcmp(c, "ports-many") == 0) {
		nlmsg_free(m);
		m = msg(TCP2_CMD_SET_CONFIG, 0);
		memset(longs, 1, sizeof(longs));
		nla_put(m, TCP2_A_SEARCH_PORTS, 2 * (TCP2_MAX_SEARCH_PORTS + 1),
		    longs);
	} else {
		usage();
	}
	return done(call(m, NULL));
}

int
main(int argc, char **argv)
{
	struct nl_msg *m;
	char *p, *tok;
	uint16_t ports[TCP2_MAX_SEARCH_PORTS + 1];
	int i, n;

	if (argc < 2)
		usage();
	sk = nl_socket_alloc();
	if (sk == NULL || genl_connect(sk) != 0) {
		fprintf(stderr, "tcp2kctl: cannot open a netlink socket\n");
		return 2;
	}
	fam = genl_ctrl_resolve(sk, TCP2_GENL_NAME);
	if (fam < 0) {
		printf("error: no family %s\n", TCP2_GENL_NAME);
		return 1;
	}
	if (strcmp(argv[1], "add") == 0 && (argc == 6 || argc == 7)) {
		m = msg(TCP2_CMD_ADD_ENDPOINT, 0);
		put_key(m, argv + 2);
		nla_put_u8(m, TCP2_A_PROTO, strcmp(argv[5], "smtp") == 0 ?
		    TCP2_P_SMTP : TCP2_P_POP3);
		if (argc == 7)
			nla_put_string(m, TCP2_A_ACCOUNT, argv[6]);
		return done(call(m, NULL));
	}
	if (strcmp(argv[1], "del") == 0 && argc == 5) {
		m = msg(TCP2_CMD_DEL_ENDPOINT, 0);
		put_key(m, argv + 2);
		return done(call(m, NULL));
	}
	if (strcmp(argv[1], "list") == 0)
		return done(call(msg(TCP2_CMD_GET_ENDPOINT, NLM_F_DUMP),
		    print_ep));
	if (strcmp(argv[1], "flush") == 0)
		return done(call(msg(TCP2_CMD_FLUSH, 0), NULL));
	if (strcmp(argv[1], "stats") == 0)
		return done(call(msg(TCP2_CMD_GET_STATS, 0), print_stats));
	if (strcmp(argv[1], "getconfig") == 0)
		return done(call(msg(TCP2_CMD_GET_CONFIG, 0), print_config));
	if (strcmp(argv[1], "config") == 0 && argc % 2 == 0) {
		m = msg(TCP2_CMD_SET_CONFIG, 0);
		for (i = 2; i + 1 < argc; i += 2) {
			if (strcmp(argv[i], "queue") == 0)
				nla_put_u16(m, TCP2_A_QUEUE, atoi(argv[i + 1]));
			else if (strcmp(argv[i], "options") == 0)
				nla_put_u32(m, TCP2_A_OPTIONS,
				    strtoul(argv[i + 1], NULL, 0));
			else if (strcmp(argv[i], "mss") == 0)
				nla_put_u16(m, TCP2_A_MSS, atoi(argv[i + 1]));
			else if (strcmp(argv[i], "ports") == 0) {
				n = 0;
				p = argv[i + 1];
				while ((tok = strsep(&p, ",")) != NULL &&
				    n < TCP2_MAX_SEARCH_PORTS)
					ports[n++] = (uint16_t)atoi(tok);
				nla_put(m, TCP2_A_SEARCH_PORTS, n * 2, ports);
			} else
				usage();
		}
		return done(call(m, NULL));
	}
	if (strcmp(argv[1], "fill") == 0 && argc == 3) {
		/* add 10.8.x.y:25 until N are added or one is refused */
		int err = 0;

		n = atoi(argv[2]);
		for (i = 0; i < n && err == 0; i++) {
			unsigned char a[4] = { 10, 8, (unsigned char)(i / 250),
			    (unsigned char)(i % 250 + 1) };

			m = msg(TCP2_CMD_ADD_ENDPOINT, 0);
			nla_put_u8(m, TCP2_A_FAMILY, AF_INET);
			nla_put(m, TCP2_A_ADDR, 4, a);
			nla_put_u16(m, TCP2_A_PORT, 25);
			nla_put_u8(m, TCP2_A_PROTO, TCP2_P_SMTP);
			err = call(m, NULL);
		}
		printf("added %d\n", err ? i - 1 : i);
		return done(err);
	}
	if (strcmp(argv[1], "listen") == 0 && argc == 4)
		return listen_events(atoi(argv[2]), atoi(argv[3]));
	if (strcmp(argv[1], "bad") == 0 && argc == 3)
		return bad(argv[2]);
	usage();
	return 2;
}
