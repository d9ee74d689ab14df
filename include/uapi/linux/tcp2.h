/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * tcp2.h - the generic netlink family "tcp2" of the TCP2 core (tcp2.ko).
 *
 * tcp2d registers the mail servers it handles (endpoints: address, port,
 * protocol, account); the module queues both directions of their TCP
 * connections to tcp2d's NFQUEUE, without bypass (no tcp2d: dropped).
 * Every command needs CAP_NET_ADMIN in the caller's network namespace;
 * the module keeps one endpoint table and configuration per namespace.
 * Attributes are validated strictly: unknown attributes, wrong lengths and
 * trailing data are rejected with EINVAL.
 */
#ifndef _UAPI_LINUX_TCP2_H
#define _UAPI_LINUX_TCP2_H

#define TCP2_GENL_NAME		"tcp2"
#define TCP2_GENL_VERSION	1
#define TCP2_GENL_MCGRP_EVENTS	"events"

/*
 * Marks (under TCP2_MARK_MASK) of tcp2d's packets.  TCP2_MARK: segments
 * tcp2d injects into captured connections, skipped.  TCP2_MARK_OWN:
 * connections tcp2d opens itself (re-delivery of held mail); skipped, and
 * their conntrack entry takes the mark so that the replies are skipped too.
 */
#define TCP2_MARK		0x7c320000U
#define TCP2_MARK_OWN		0x7c330000U
#define TCP2_MARK_MASK		0xffff0000U

#define TCP2_ACCOUNT_MAX	256	/* with the NUL */
#define TCP2_MAX_ENDPOINTS	1024	/* per network namespace */
#define TCP2_MAX_SEARCH_PORTS	16

enum tcp2_cmd {
	TCP2_CMD_UNSPEC,
	/*
	 * Add an endpoint: FAMILY, PORT, PROTO required; ADDR (absent: every
	 * address, the registration wildcard), ACCOUNT optional.  EEXIST
	 * unless REPLACE (then replaced in place, counters reset; genetlink
	 * refuses NLM_F_REPLACE, it means NLM_F_ROOT there).
	 * ENOSPC beyond TCP2_MAX_ENDPOINTS.
	 */
	TCP2_CMD_ADD_ENDPOINT,
	/* Remove one: FAMILY, PORT, ADDR as added.  ENOENT if unknown. */
	TCP2_CMD_DEL_ENDPOINT,
	/* Dump every endpoint with its STATS (nested TCP2_EPS_*). */
	TCP2_CMD_GET_ENDPOINT,
	/* Remove every endpoint of the namespace. */
	TCP2_CMD_FLUSH,
	/* Set any of QUEUE, OPTIONS, MSS, SEARCH_PORTS. */
	TCP2_CMD_SET_CONFIG,
	/* Reply: QUEUE, OPTIONS, MSS, SEARCH_PORTS. */
	TCP2_CMD_GET_CONFIG,
	/* Reply: STATS (nested TCP2_GS_*), ENDPOINTS (count). */
	TCP2_CMD_GET_STATS,
	/*
	 * Event on the "events" group (port search): a TCP session to a
	 * candidate port whose server greeted with "220 " or "+OK".
	 * FAMILY, ADDR, PORT (the server), CLIENT_ADDR, CLIENT_PORT, PROTO.
	 */
	TCP2_CMD_SESSION_FOUND,
	__TCP2_CMD_MAX,
};

#define TCP2_CMD_MAX (__TCP2_CMD_MAX - 1)

enum tcp2_p {
	TCP2_P_SMTP = 1,
	TCP2_P_POP3 = 2,
};

/* TCP2_A_OPTIONS bits */
#define TCP2_OPT_CLAMP_MSS	0x1	/* clamp the MSS of captured SYNs */
#define TCP2_OPT_SEARCH		0x2	/* port search (default: on) */
#define TCP2_OPT_ALL		(TCP2_OPT_CLAMP_MSS | TCP2_OPT_SEARCH)

enum tcp2_attr {
	TCP2_A_UNSPEC,
	TCP2_A_FAMILY,		/* u8: AF_INET or AF_INET6 */
	TCP2_A_ADDR,		/* binary: 4 or 16 bytes, network order */
	TCP2_A_PORT,		/* u16, host order, not 0 */
	TCP2_A_PROTO,		/* u8: enum tcp2_p */
	TCP2_A_ACCOUNT,		/* NUL-terminated string */
	TCP2_A_QUEUE,		/* u16: NFQUEUE number (default 0) */
	TCP2_A_OPTIONS,		/* u32: TCP2_OPT_* */
	TCP2_A_MSS,		/* u16: 536..9000 (default 1200) */
	TCP2_A_SEARCH_PORTS,	/* binary: array of u16, host order */
	TCP2_A_STATS,		/* nested: TCP2_EPS_* or TCP2_GS_* */
	TCP2_A_ENDPOINTS,	/* u32: number of endpoints */
	TCP2_A_CLIENT_ADDR,	/* binary: as TCP2_A_ADDR */
	TCP2_A_CLIENT_PORT,	/* u16 */
	TCP2_A_REPLACE,		/* flag: ADD_ENDPOINT replaces an existing one */
	TCP2_A_PAD,
	__TCP2_A_MAX,
};

#define TCP2_A_MAX (__TCP2_A_MAX - 1)

/* Per-endpoint counters (u64), nested in TCP2_A_STATS. */
enum tcp2_ep_stats {
	TCP2_EPS_UNSPEC,
	TCP2_EPS_PKTS_OUT,	/* client to server, queued */
	TCP2_EPS_PKTS_IN,	/* server to client, queued */
	TCP2_EPS_BYTES_OUT,
	TCP2_EPS_BYTES_IN,
	TCP2_EPS_SYNS,		/* connections opened (client SYNs) */
	TCP2_EPS_PAD,
	__TCP2_EPS_MAX,
};

#define TCP2_EPS_MAX (__TCP2_EPS_MAX - 1)

/* Global counters of a namespace (u64), nested in TCP2_A_STATS. */
enum tcp2_global_stats {
	TCP2_GS_UNSPEC,
	TCP2_GS_QUEUED,		/* packets handed to NFQUEUE */
	TCP2_GS_SKIPPED_MARK,	/* tcp2d's own packets let through */
	TCP2_GS_MSS_CLAMPED,
	TCP2_GS_SEARCH_TRACKED,	/* candidate sessions watched */
	TCP2_GS_SEARCH_FOUND,	/* sessions reported on "events" */
	TCP2_GS_SEARCH_OVERFLOW, /* candidates not watched: table full */
	TCP2_GS_SKIPPED_OWN,	/* packets of tcp2d's own connections */
	TCP2_GS_PAD,
	__TCP2_GS_MAX,
};

#define TCP2_GS_MAX (__TCP2_GS_MAX - 1)

#endif /* _UAPI_LINUX_TCP2_H */
