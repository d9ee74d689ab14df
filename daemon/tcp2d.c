/*
 * tcp2d - the TCP2 mail-system core daemon.
 *
 * It captures the SMTP and POP3 connections of the registered accounts'
 * servers (iptables NFQUEUE rules, or the tcp2.ko module), runs each
 * connection through the splice engine and the session rewriters, and
 * answers the control socket.  One process, one thread: the network-facing
 * code stays simple (Postfix's rule), and a verdict never waits for a lock.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "ctl.h"
#include "crypto.h"
#include "error.h"
#include "pkt.h"
#include "kmodctl.h"
#include "rules.h"
#include "splice.h"
#include "tcp2d.h"

#define DEFAULT_CONTROL	"/run/tcp2/control"
#define DEFAULT_STATE	"/var/lib/tcp2"
#define DEFAULT_QUEUE	7
#define CLAMP_MSS	1200	/* output of a full input segment still fits */

static volatile sig_atomic_t quit;

static void
on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

void
tcp2d_log(const struct tcp2d *d, int level, const char *fmt, ...)
{
	va_list ap;

	if (level > d->verbose)
		return;
	fputs("tcp2d: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- endpoints ---- */

int
tcp2d_reload(struct tcp2d *d)
{
	const struct tcp2_account *a;
	size_t i, n = 0;
	int rc;

	for (i = 0; i < tcp2_state_naccounts(d->state); i++) {
		a = tcp2_state_account_at(d->state, i);
		if (a->smtp[0] && (rc = tcp2_endpoint_parse(a->smtp,
		    TCP2_PROTO_SMTP, a->addr, d->eps, TCP2D_MAX_ENDPOINTS,
		    &n)) != 0)
			tcp2d_log(d, 0, "account %s: SMTP server %s: %s",
			    a->addr, a->smtp, tcp2_strerror(rc));
		if (a->pop3[0] && (rc = tcp2_endpoint_parse(a->pop3,
		    TCP2_PROTO_POP3, a->addr, d->eps, TCP2D_MAX_ENDPOINTS,
		    &n)) != 0)
			tcp2d_log(d, 0, "account %s: POP3 server %s: %s",
			    a->addr, a->pop3, tcp2_strerror(rc));
	}
	/* Registration: the seed's designated-port search, every server on
	 * the usual mail ports, until the account is known. */
	if (d->reg.armed) {
		static const uint16_t smtp_ports[] = { 25, 587, 2525 };
		int fam;

		for (fam = 0; fam < 2; fam++) {
			for (i = 0; i < 3 && n + 1 < TCP2D_MAX_ENDPOINTS; i++)
				tcp2_endpoint_any(&d->eps[n++], fam ? AF_INET6 :
				    AF_INET, smtp_ports[i], TCP2_PROTO_SMTP);
			if (n < TCP2D_MAX_ENDPOINTS)
				tcp2_endpoint_any(&d->eps[n++], fam ? AF_INET6 :
				    AF_INET, 110, TCP2_PROTO_POP3);
		}
	}
	d->neps = n;
	for (i = 0; i < n; i++)
		tcp2d_log(d, 0, "capturing %s %s for %s", d->eps[i].proto ==
		    TCP2_PROTO_SMTP ? "SMTP" : "POP3", d->eps[i].text,
		    d->eps[i].any ? "registration" : d->eps[i].account);
	if (strcmp(d->backend, "rules") == 0) {
		rc = tcp2_rules_install(d->eps, d->neps, d->qnum);
		if (rc != 0)
			tcp2d_log(d, 0, "installing the capture rules failed");
		return rc;
	}
	rc = tcp2_kmodctl_install(d->eps, d->neps, d->qnum);
	if (rc != 0)
		tcp2d_log(d, 0, "installing the endpoints in tcp2.ko failed");
	return rc;
}

/* ---- packets ---- */

static uint64_t
now_unix(void)
{
	return (uint64_t)time(NULL);
}

static int
inject_cb(void *arg, const uint8_t *pkt, size_t len)
{
	struct tcp2d *d = arg;

	return tcp2_inject_send(d->inj, pkt, len);
}

/* A packet of a connection we do not know (started before us, or
 * forgotten): it cannot be trusted, so reset its sender (SPLICE-NOTES). */
static void
reset_unknown(struct tcp2d *d, const struct tcp2_pkt *p)
{
	struct tcp2_pkt t = *p;
	uint8_t buf[128];
	long len;

	if (p->flags & TCP2_TH_RST)
		return;
	tcp2_pkt_reverse(&t);
	t.optlen = 0;
	if (p->flags & TCP2_TH_ACK)
		len = tcp2_pkt_build(&t, p->ack, 0, TCP2_TH_RST, 0, NULL, 0,
		    buf, sizeof(buf));
	else
		len = tcp2_pkt_build(&t, 0, p->seq + (uint32_t)p->paylen +
		    ((p->flags & (TCP2_TH_SYN | TCP2_TH_FIN)) ? 1 : 0),
		    TCP2_TH_RST | TCP2_TH_ACK, 0, NULL, 0, buf, sizeof(buf));
	if (len > 0 && tcp2_inject_send(d->inj, buf, (size_t)len) == 0)
		d->resets++;
}

static void
flow_gone(void *arg, const struct tcp2_flow *f)
{
	struct tcp2d *d = arg;
	struct tcp2_splice_stats st;

	tcp2_splice_stats(f->sp, &st);
	tcp2d_log(d, 1, "%s session %u to %s closed: %llu/%llu bytes up, "
	    "%llu/%llu down, %llu retransmissions", f->ep.proto ==
	    TCP2_PROTO_SMTP ? "SMTP" : "POP3", f->key.cport, f->ep.text,
	    (unsigned long long)st.in_bytes[0], (unsigned long long)
	    st.out_bytes[0], (unsigned long long)st.in_bytes[1],
	    (unsigned long long)st.out_bytes[1], (unsigned long long)
	    (st.retrans[0] + st.retrans[1]));
}

/*
 * Room for one more flow: when the table is full, the flows that closed
 * longest ago leave early (a busy server closes hundreds of sessions a
 * second, each kept for its grace period).  0 when every flow is open:
 * the new connection is refused, and the log says why once a minute.
 */
static int
flow_room(struct tcp2d *d)
{
	time_t now = time(NULL);

	if (tcp2_flows_count(d->flows) < TCP2_FLOWS_MAX ||
	    tcp2_flows_evict(d->flows, now, flow_gone, d) > 0)
		return 1;
	if (now - d->full_logged >= 60) {
		d->full_logged = now;
		tcp2d_log(d, 0, "%d connections open: new ones are refused",
		    TCP2_FLOWS_MAX);
	}
	return 0;
}

static struct tcp2_flow *
flow_open(struct tcp2d *d, const struct tcp2_flow_key *k,
    const struct tcp2_endpoint *ep)
{
	struct tcp2_rw_env env = { 0 };
	struct tcp2_splice *sp;
	struct tcp2_flow *f;
	struct tcp2_rw *rw;
	char a[INET6_ADDRSTRLEN];

	/* The flow owns its copy of the endpoint: the rewriter keeps
	 * pointers into it for the whole session. */
	if (!flow_room(d))
		return NULL;
	f = tcp2_flows_add(d->flows, k, ep, NULL, time(NULL));
	if (f == NULL)
		return NULL;
	if (ep->any) {
		/* A wildcard endpoint's session is with one real server:
		 * the registration records this one. */
		memcpy(f->ep.addr, k->saddr, sizeof(f->ep.addr));
		inet_ntop(k->family, k->saddr, a, sizeof(a));
		snprintf(f->ep.text, sizeof(f->ep.text), k->family == AF_INET6 ?
		    "[%s]:%u" : "%s:%u", a, k->sport);
	}
	env.state = d->state;
	env.account = f->ep.account[0] ? f->ep.account : NULL;
	env.endpoint = f->ep.text;
	env.reg = &d->reg;
	env.event = tcp2d_event;
	env.event_arg = d;
	env.now = now_unix;
	env.budget = &d->examine;
	if (tcp2_rw_new(&rw, ep->proto, &env) != 0) {
		f->closed = f->created;		/* the GC takes it */
		return NULL;
	}
	if (tcp2_splice_new(&sp, rw, ep->proto == TCP2_PROTO_SMTP ? CLAMP_MSS :
	    0, inject_cb, d) != 0) {
		tcp2_rw_free(rw);
		f->closed = f->created;
		return NULL;
	}
	f->sp = sp;
	d->flows_total++;
	tcp2d_log(d, 1, "%s session %u opened to %s for %s",
	    ep->proto == TCP2_PROTO_SMTP ? "SMTP" : "POP3", k->cport,
	    f->ep.text, ep->any ? "registration" : ep->account);
	return f;
}

static void
on_packet(void *arg, uint32_t id, const uint8_t *pkt, size_t len,
    uint32_t mark)
{
	struct tcp2d *d = arg;
	const struct tcp2_endpoint *ep;
	struct tcp2_flow_key k;
	struct tcp2_flow *f;
	struct tcp2_pkt p;
	enum tcp2_sp_verdict v;
	enum tcp2_dir dir;
	size_t alen, outlen = 0;
	int rc;

	d->packets++;
	if ((mark & TCP2_MARK_MASK) == TCP2_MARK) {
		tcp2_nfq_accept(d->nfq, id);
		return;
	}
	if (tcp2_pkt_parse(&p, pkt, len) != 0) {
		d->dropped++;
		tcp2_nfq_drop(d->nfq, id);
		return;
	}
	alen = p.family == AF_INET ? 4 : 16;
	memset(&k, 0, sizeof(k));
	k.family = p.family;
	if ((ep = tcp2_endpoint_find(d->eps, d->neps, p.family, p.dst,
	    p.dport)) != NULL) {
		dir = TCP2_C2S;
		memcpy(k.caddr, p.src, alen);
		memcpy(k.saddr, p.dst, alen);
		k.cport = p.sport;
		k.sport = p.dport;
	} else if ((ep = tcp2_endpoint_find(d->eps, d->neps, p.family, p.src,
	    p.sport)) != NULL) {
		dir = TCP2_S2C;
		memcpy(k.caddr, p.dst, alen);
		memcpy(k.saddr, p.src, alen);
		k.cport = p.dport;
		k.sport = p.sport;
	} else {
		/* Not a captured endpoint (stale rule): not ours to touch. */
		tcp2_nfq_accept(d->nfq, id);
		return;
	}
	f = tcp2_flows_find(d->flows, &k);
	/* A new connection on the 4-tuple of one that ended (the server
	 * closed first, so the client may reuse its port at once): the old
	 * flow, kept for its grace period, must not swallow the new SYN.
	 * Only flows that are over are replaced, and never by a
	 * retransmission of their own SYN. */
	if (f != NULL && dir == TCP2_C2S && (p.flags & TCP2_TH_SYN) &&
	    !(p.flags & TCP2_TH_ACK) && (f->sp == NULL || f->closed ||
	    tcp2_splice_closed(f->sp) || tcp2_splice_dead(f->sp)) &&
	    (f->sp == NULL || !tcp2_splice_same_syn(f->sp, p.seq))) {
		tcp2_flows_remove(d->flows, f);
		f = NULL;
	}
	if (f != NULL && f->sp == NULL)
		f = NULL;	/* failed to open: reset below */
	else if (f == NULL && dir == TCP2_C2S && (p.flags & TCP2_TH_SYN) &&
	    !(p.flags & TCP2_TH_ACK))
		f = flow_open(d, &k, ep);
	if (f == NULL) {
		reset_unknown(d, &p);
		d->dropped++;
		tcp2_nfq_drop(d->nfq, id);
		return;
	}
	f->last = time(NULL);
	rc = tcp2_splice_packet(f->sp, dir, pkt, len, &v, d->pktbuf, &outlen);
	if (rc != 0) {
		d->aborts++;
		tcp2d_log(d, 0, "%s session %u to %s reset: %s", ep->proto ==
		    TCP2_PROTO_SMTP ? "SMTP" : "POP3", k.cport, ep->text,
		    rc == TCP2_EABORT ? "message could not be processed safely" :
		    tcp2_strerror(rc));
	}
	if (v == TCP2_SP_REPLACE)
		tcp2_nfq_replace(d->nfq, id, d->pktbuf, outlen);
	else if (v == TCP2_SP_ACCEPT)
		tcp2_nfq_accept(d->nfq, id);
	else
		tcp2_nfq_drop(d->nfq, id);
}

/* ---- main loop ---- */

/*
 * kmod: tcp2.ko may be unloaded under us.  Then nothing is captured any
 * more (and the kernel dropped what waited in our queue): there is nothing
 * to do but say so and wait.  When it is loaded again its table is empty:
 * fill it again, as at start.  Until then (at most a second) the module
 * captures nothing.
 */
static void
kmod_watch(struct tcp2d *d)
{
	int up;

	if (strcmp(d->backend, "kmod") != 0)
		return;
	up = tcp2_kmodctl_present();
	if (up < 0 || up == d->kmod_up)
		return;
	d->kmod_up = up;
	if (!up) {
		tcp2d_log(d, 0, "tcp2.ko is gone: nothing is captured until "
		    "it is loaded again");
		return;
	}
	tcp2d_log(d, 0, "tcp2.ko is back: installing the endpoints again");
	if (tcp2d_reload(d) != 0)
		d->kmod_up = 0;		/* try again in a second */
}

/* Verdicts for packets the kernel had dropped (their hook went away). */
static void
stale_watch(struct tcp2d *d)
{
	uint64_t n = tcp2_nfq_stale(d->nfq);

	if (n == d->stale)
		return;
	tcp2d_log(d, 0, "%llu verdicts for packets the kernel had already "
	    "dropped (a capture hook went away)",
	    (unsigned long long)(n - d->stale));
	d->stale = n;
}

static int
loop(struct tcp2d *d)
{
	struct pollfd fds[1 + TCP2_CTL_NFDS + TCP2D_MAX_RELEASES];
	size_t nfds, nctl;
	time_t last_gc = time(NULL), last_tick = last_gc;
	int rc;

	tcp2d_release_tick(d, 1);
	while (!quit) {
		fds[0].fd = tcp2_nfq_fd(d->nfq);
		fds[0].events = POLLIN;
		nfds = 1;
		nctl = tcp2d_ctl_pollfds(d, fds + 1, TCP2_CTL_NFDS);
		nfds += nctl;
		nfds += tcp2d_release_pollfds(d, fds + nfds,
		    TCP2D_MAX_RELEASES);
		rc = poll(fds, nfds, 1000);
		if (rc < 0 && errno != EINTR) {
			tcp2d_log(d, 0, "poll: %s", strerror(errno));
			return 1;
		}
		if (rc > 0 && (fds[0].revents & POLLIN) &&
		    tcp2_nfq_recv(d->nfq, on_packet, d) < 0) {
			tcp2d_log(d, 0, "reading the queue: %s",
			    strerror(errno));
			return 1;
		}
		if (rc > 0) {
			tcp2d_ctl_process(d, fds + 1, nctl);
			tcp2d_release_process(d, fds + 1 + nctl,
			    nfds - 1 - nctl);
		}
		if (time(NULL) != last_gc) {
			last_gc = time(NULL);
			tcp2_flows_gc(d->flows, last_gc, flow_gone, d);
			kmod_watch(d);
			stale_watch(d);
		}
		if (time(NULL) >= last_tick + 60) {
			last_tick = time(NULL);
			tcp2d_release_tick(d, 0);
		}
	}
	return 0;
}

static const char usage_text[] =
"usage: tcp2d [--config FILE] [--state-dir DIR] [--control SOCK]\n"
"             [--backend rules|kmod] [--queue N] [--foreground] [-v]\n"
"\n"
"The TCP2 mail-system core: encrypts, decrypts and signs the mail of the\n"
"registered accounts inside their SMTP and POP3 connections.\n"
"\n"
"  --config FILE     settings (default " TCP2_CONFIG_DEFAULT ", may be\n"
"                    missing); the options below override it\n"
"  --state-dir DIR   encrypted store (default " DEFAULT_STATE ");\n"
"                    TCP2_PASSPHRASE unlocks a passphrase store\n"
"  --control SOCK    control socket for tcp2ctl and the tray app\n"
"                    (default " DEFAULT_CONTROL ")\n"
"  --backend B       rules: iptables NFQUEUE rules (works everywhere);\n"
"                    kmod: the tcp2.ko module (default: rules)\n"
"  --queue N         NFQUEUE number (default 7)\n"
"  --foreground      do not detach\n"
"  -v                log every session and decision\n"
"\n"
"Captured traffic is never passed in clear when tcp2d is not running: the\n"
"capture stays in place and drops it (fail-closed).  Stop with SIGTERM.\n";

static const struct option opts[] = {
	{ "config", required_argument, NULL, 'C' },
	{ "state-dir", required_argument, NULL, 's' },
	{ "control", required_argument, NULL, 'c' },
	{ "backend", required_argument, NULL, 'b' },
	{ "queue", required_argument, NULL, 'q' },
	{ "foreground", no_argument, NULL, 'f' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/*
 * The configuration file (--config, or the default one when it exists)
 * gives the settings the command line does not: read it before the real
 * option pass, which then overrides it.  Returns 0, or 1 after saying why.
 */
static int
load_config(struct tcp2d *d, struct tcp2_config *cfg, int argc, char **argv)
{
	const char *path = NULL;
	char err[TCP2_CONFIG_ERR_MAX];
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		if (c == 'C')
			path = optarg;
		else if (c == 'h')
			break;
	}
	optind = 0;		/* glibc: rescan from the start */
	opterr = 1;
	if (c == 'h')
		return 0;
	if (tcp2_config_load(cfg, path ? path : TCP2_CONFIG_DEFAULT,
	    path == NULL, err, sizeof(err)) != 0) {
		fprintf(stderr, "tcp2d: %s\n", err);
		return 1;
	}
	if (cfg->set & TCP2_CONF_STATE_DIR)
		d->state_dir = cfg->state_dir;
	if (cfg->set & TCP2_CONF_CONTROL)
		d->control = cfg->control;
	if (cfg->set & TCP2_CONF_CONTROL_GROUP)
		d->control_group = cfg->control_group;
	if (cfg->set & TCP2_CONF_BACKEND)
		d->backend = cfg->backend;
	if (cfg->set & TCP2_CONF_QUEUE)
		d->qnum = cfg->queue;
	d->verbose = cfg->log_level;
	return 0;
}

static int
parse_args(struct tcp2d *d, int argc, char **argv, int *fg)
{
	unsigned long q;
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		switch (c) {
		case 'C': break;	/* load_config() read it */
		case 's': d->state_dir = optarg; break;
		case 'c': d->control = optarg; break;
		case 'b': d->backend = optarg; break;
		case 'f': *fg = 1; break;
		case 'v': d->verbose++; break;
		case 'q':
			q = strtoul(optarg, &end, 10);
			if (*end || q > 65535) {
				fprintf(stderr, "tcp2d: bad queue number %s\n",
				    optarg);
				return 2;
			}
			d->qnum = (uint16_t)q;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return -1;
		default:
			fputs(usage_text, stderr);
			return 2;
		}
	}
	if (optind != argc || (strcmp(d->backend, "rules") != 0 &&
	    strcmp(d->backend, "kmod") != 0)) {
		fputs(usage_text, stderr);
		return 2;
	}
	return 0;
}

/* Init in order; unwind in reverse (WireGuard style). */
int
main(int argc, char **argv)
{
	static struct tcp2_config cfg;	/* d points into it */
	struct tcp2d d = { 0 };
	const char *pass = getenv("TCP2_PASSPHRASE");
	struct sigaction sa;
	int fg = 0, rc, ex = 1;

	d.state_dir = DEFAULT_STATE;
	d.control = DEFAULT_CONTROL;
	d.backend = "rules";
	d.qnum = DEFAULT_QUEUE;
	d.control_group = "tcp2";
	d.examine.max = TCP2D_EXAMINE_MAX;
	if (load_config(&d, &cfg, argc, argv) != 0)
		return 1;
	if ((rc = parse_args(&d, argc, argv, &fg)) != 0)
		return rc < 0 ? 0 : rc;
	if (tcp2_crypto_init() != 0) {
		fprintf(stderr, "tcp2d: libgcrypt 1.10 or later is needed\n");
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	d.started = time(NULL);
	d.pktbuf = malloc(TCP2_PKT_MAX);
	if (d.pktbuf == NULL || tcp2_flows_new(&d.flows) != 0)
		goto out_mem;
	rc = tcp2_state_open(&d.state, d.state_dir, pass && *pass ? pass :
	    NULL, TCP2_STORE_CREATE | TCP2_STORE_NOWAIT);
	if (rc != 0) {
		tcp2d_log(&d, 0, "%s: cannot open the store: %s", d.state_dir,
		    tcp2_strerror(rc));
		goto out_mem;
	}
	if (tcp2_inject_open(&d.inj) != 0) {
		tcp2d_log(&d, 0, "raw socket: %s (needs CAP_NET_RAW)",
		    strerror(errno));
		goto out_state;
	}
	if (tcp2_nfq_open(&d.nfq, d.qnum) != 0) {
		tcp2d_log(&d, 0, "NFQUEUE %u: %s (needs CAP_NET_ADMIN)",
		    d.qnum, strerror(errno));
		goto out_inject;
	}
	if (tcp2d_ctl_open(&d) != 0)
		goto out_nfq;
	/* kmod: no module, no capture at all; refuse to start */
	if (tcp2d_reload(&d) != 0 && (d.neps > 0 ||
	    strcmp(d.backend, "kmod") == 0))
		goto out_rules;
	d.kmod_up = 1;
	if (!fg && daemon(0, 1) != 0) {
		tcp2d_log(&d, 0, "daemon: %s", strerror(errno));
		goto out_rules;
	}
	tcp2d_log(&d, 0, "started: %zu accounts, %zu endpoints, queue %u, "
	    "backend %s", tcp2_state_naccounts(d.state), d.neps, d.qnum,
	    d.backend);
	ex = loop(&d);
	tcp2d_log(&d, 0, "stopping");
out_rules:
	if (strcmp(d.backend, "rules") == 0)
		tcp2_rules_remove();
	else
		tcp2_kmodctl_remove();
	tcp2d_release_stop(&d);
	tcp2d_ctl_close(&d);
out_nfq:
	tcp2_nfq_close(d.nfq);
out_inject:
	tcp2_inject_close(d.inj);
out_state:
	tcp2_state_close(d.state);
out_mem:
	tcp2_flows_free(d.flows);
	free(d.pktbuf);
	return ex;
}
