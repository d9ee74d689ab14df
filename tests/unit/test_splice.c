/*
 * test_splice.c - the splice engine between two simulated TCP endpoints
 * over a lossy, duplicating, reordering network, with a rewriter that
 * doubles every client byte (holding each line until its end) and drops
 * '#' from the server's bytes (or, in burst mode, passes them all on at
 * once when a '!' comes, as the POP3 rewriter does with a message it
 * examined whole; receivers drop what exceeds their window).  Asserts both receivers get exactly the
 * rewritten streams, every packet leaves with valid lengths and
 * checksums, both FINs complete, for IPv4 and IPv6, several seeds.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "error.h"
#include "harness.h"
#include "pkt.h"
#include "rewriter.h"
#include "splice.h"

/* ---- the test rewriter ---- */

struct trw {
	uint8_t line[24576];
	size_t llen;
	uint8_t *burst;		/* server bytes collected until '!' */
	size_t blen;
};

static int burst_mode;

static int
trw_feed(void *impl, enum tcp2_dir d, const uint8_t *in, size_t n,
    tcp2_out_fn out, void *arg)
{
	struct trw *t = impl;
	static uint8_t buf[2 * 24576];
	size_t i, k = 0;
	int rc;

	for (i = 0; i < n; i++) {
		if (d == TCP2_S2C && burst_mode) {
			if (in[i] != '#')
				t->burst[t->blen++] = in[i];
			if (in[i] == '!') {
				rc = out(arg, t->burst, t->blen);
				t->blen = 0;
				if (rc != 0)
					return rc;
			}
			continue;
		}
		if (d == TCP2_S2C) {
			if (in[i] != '#' && (rc = out(arg, &in[i], 1)) != 0)
				return rc;
			continue;
		}
		t->line[t->llen++] = in[i];
		if (in[i] != '\n' && t->llen < sizeof(t->line))
			continue;
		for (k = 0; k < t->llen; k++)
			buf[2 * k] = buf[2 * k + 1] = t->line[k];
		if ((rc = out(arg, buf, 2 * t->llen)) != 0)
			return rc;
		t->llen = 0;
	}
	return 0;
}

static int
trw_end(void *impl, enum tcp2_dir d, tcp2_out_fn out, void *arg)
{
	struct trw *t = impl;
	static uint8_t buf[2 * 24576];
	size_t k;

	if (d != TCP2_C2S || t->llen == 0)
		return 0;
	for (k = 0; k < t->llen; k++)
		buf[2 * k] = buf[2 * k + 1] = t->line[k];
	k = t->llen;
	t->llen = 0;
	return out(arg, buf, 2 * k);
}

static size_t
trw_held(const void *impl, enum tcp2_dir d)
{
	const struct trw *t = impl;

	return d == TCP2_C2S ? t->llen : 0;
}

static int
trw_pass(const void *impl)
{
	(void)impl;
	return 0;
}

static void
trw_free(void *impl)
{
	struct trw *t = impl;

	free(t->burst);
	free(t);
}

static const struct tcp2_rw_ops trw_ops = {
	trw_feed, trw_end, trw_held, trw_pass, trw_free,
};

/* ---- simulated TCP endpoints ---- */

struct seg {
	uint64_t off;
	uint8_t *data;
	size_t len;
};

struct node {
	struct tcp2_pkt t;		/* addresses of what it sends */
	uint32_t isn, peer_isn;
	int synced;
	const uint8_t *tx;
	size_t txlen;
	uint64_t una, nxt;
	int fin_sent, fin_acked, peer_fin;
	uint8_t *rx;
	size_t rxlen;
	struct seg ooo[256];
	size_t nooo;
	uint32_t peer_wnd;
	unsigned int mss;
	int idle;
	unsigned int cwnd;		/* segments in flight, 0: no limit */
	int rto_one;			/* after an RTO, one segment until
					 * an ACK advances (a real TCP's
					 * cwnd of 1) */
};

/* Packets on the wire, in flight. */
struct wire {
	uint8_t *pkt[4096];
	size_t len[4096];
	int n;
};

static unsigned int bad_csum, bad_len, bad_ackseq;
static unsigned int strict_seq;	/* the network does not reorder */
static unsigned int win_drops;	/* segments beyond the receiver's window */

static uint32_t
sum16(const uint8_t *b, size_t n, uint32_t acc)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		acc += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (n & 1)
		acc += (uint32_t)b[n - 1] << 8;
	return acc;
}

static int
fold_ok(uint32_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return acc == 0xffff;
}

/* Independent check of lengths and checksums of a built packet. */
static void
check_packet(const uint8_t *b, size_t n)
{
	uint8_t ph[40];
	size_t ihl, tl;
	uint32_t acc;

	if (b[0] >> 4 == 4) {
		ihl = (size_t)(b[0] & 15) * 4;
		tl = (size_t)(b[2] << 8 | b[3]);
		if (tl != n)
			bad_len++;
		if (!fold_ok(sum16(b, ihl, 0)))
			bad_csum++;
		memcpy(ph, b + 12, 8);
		ph[8] = 0;
		ph[9] = 6;
		ph[10] = (uint8_t)((tl - ihl) >> 8);
		ph[11] = (uint8_t)(tl - ihl);
		acc = sum16(ph, 12, 0);
		if (!fold_ok(sum16(b + ihl, tl - ihl, acc)))
			bad_csum++;
	} else {
		tl = (size_t)(b[4] << 8 | b[5]);
		if (tl + 40 != n)
			bad_len++;
		acc = sum16(b + 8, 32, 0) + (uint32_t)tl + 6;
		if (!fold_ok(sum16(b + 40, tl, acc)))
			bad_csum++;
	}
}

static void
wire_put(struct wire *w, const uint8_t *p, size_t n)
{
	if (w->n == 4096)
		return;
	check_packet(p, n);
	w->pkt[w->n] = malloc(n);
	memcpy(w->pkt[w->n], p, n);
	w->len[w->n] = n;
	w->n++;
}

static int
inject_cb(void *arg, const uint8_t *p, size_t n)
{
	wire_put(arg, p, n);
	return 0;
}

static void
node_send(struct node *nd, struct wire *w, uint8_t flags, uint64_t off,
    const uint8_t *pl, size_t n, int with_mss)
{
	uint8_t buf[TCP2_PKT_MAX];
	struct tcp2_pkt t = nd->t;
	uint32_t ack = nd->synced ? nd->peer_isn + 1 + (uint32_t)nd->rxlen +
	    (nd->peer_fin ? 1 : 0) : 0;
	long len;

	if (with_mss) {
		/* MSS 1460, SACK permitted (the engine must strip it). */
		static const uint8_t o[] = { 2, 4, 0x05, 0xb4, 4, 2, 1, 1 };
		memcpy(t.opt, o, sizeof(o));
		t.optlen = sizeof(o);
	}
	len = tcp2_pkt_build(&t, nd->isn + (flags & TCP2_TH_SYN ? 0 :
	    1 + (uint32_t)off), ack, flags | (nd->synced ? TCP2_TH_ACK : 0),
	    65535, pl, n, buf, sizeof(buf));
	if (len > 0)
		wire_put(w, buf, (size_t)len);
}

/* What a node transmits this tick: new data in its window, or resends. */
static void
node_tick(struct node *nd, struct wire *w)
{
	uint64_t lim;
	size_t n;
	int sent = 0;

	if (!nd->synced)
		return;
	if (++nd->idle > 6) {		/* our "RTO": go back */
		nd->nxt = nd->una;
		if (!nd->fin_acked)
			nd->fin_sent = 0;
		nd->idle = 0;
		nd->rto_one = 1;
	}
	lim = nd->una + (nd->peer_wnd < 65535 ? nd->peer_wnd : 65535);
	/* After a timeout a real TCP resends only the first unacknowledged
	 * segment and waits for its ACK: if that segment's input was held
	 * and its made-up ACK was lost, only a new ACK on the retransmission
	 * gets the sender going again. */
	if (nd->rto_one && lim > nd->una + nd->mss)
		lim = nd->una + nd->mss;
	/* A congestion window smaller than what the rewriter holds is what
	 * deadlocked a real transfer: keep it small here. */
	if (nd->cwnd && lim > nd->una + (uint64_t)nd->cwnd * nd->mss)
		lim = nd->una + (uint64_t)nd->cwnd * nd->mss;
	while (nd->nxt < nd->txlen && nd->nxt < lim && sent < 40) {
		n = nd->txlen - nd->nxt;
		if (n > nd->mss)
			n = nd->mss;
		if (nd->nxt + n > lim)
			n = (size_t)(lim - nd->nxt);
		node_send(nd, w, TCP2_TH_PSH, nd->nxt, nd->tx + nd->nxt, n, 0);
		nd->nxt += n;
		sent++;
	}
	if (nd->nxt == nd->txlen && !nd->fin_sent) {
		node_send(nd, w, TCP2_TH_FIN, nd->txlen, NULL, 0, 0);
		nd->fin_sent = 1;
		sent++;
	}
	/* Like a real TCP, an idle node says nothing: it acknowledges only
	 * what it receives (node_recv).  A sender whose held input nobody
	 * acknowledges would wait here for ever. */
	(void)sent;
}

static void
node_rx_drain(struct node *nd)
{
	size_t i;
	int again = 1;

	while (again) {
		again = 0;
		for (i = 0; i < nd->nooo; i++) {
			struct seg *s = &nd->ooo[i];
			if (s->off <= nd->rxlen) {
				if (s->off + s->len > nd->rxlen) {
					size_t k = (size_t)(nd->rxlen - s->off);
					memcpy(nd->rx + nd->rxlen, s->data + k,
					    s->len - k);
					nd->rxlen += s->len - k;
				}
				free(s->data);
				nd->ooo[i] = nd->ooo[--nd->nooo];
				again = 1;
				break;
			}
		}
	}
}

static void
node_recv(struct node *nd, struct wire *w, const uint8_t *b, size_t n,
    size_t rxcap)
{
	struct tcp2_pkt p;
	uint64_t off, a;

	if (tcp2_pkt_parse(&p, b, n) != 0)
		return;
	if (p.flags & TCP2_TH_SYN) {
		nd->peer_isn = p.seq;
		nd->mss = tcp2_opt_mss(&p) ? tcp2_opt_mss(&p) : 536;
		if (!nd->synced) {
			nd->synced = 1;
			if (!(p.flags & TCP2_TH_ACK))	/* server: SYN-ACK */
				node_send(nd, w, TCP2_TH_SYN, 0, NULL, 0, 1);
			else				/* client: ACK */
				node_send(nd, w, 0, 0, NULL, 0, 0);
		} else if (!(p.flags & TCP2_TH_ACK)) {
			node_send(nd, w, TCP2_TH_SYN, 0, NULL, 0, 1);
		}
		return;
	}
	if (p.flags & TCP2_TH_ACK) {
		a = (uint32_t)(p.ack - nd->isn - 1);
		if (a > nd->txlen) {
			if (nd->fin_sent && a == nd->txlen + 1)
				nd->fin_acked = 1;
			a = nd->txlen;
		}
		if (a > nd->una) {
			nd->una = a;
			nd->idle = 0;
			nd->rto_one = 0;
		}
		if (nd->nxt < nd->una)
			nd->nxt = nd->una;
		nd->peer_wnd = p.win;
	}
	off = (uint32_t)(p.seq - nd->peer_isn - 1);
	/* A pure ACK below the next expected sequence number is an old
	 * segment to a real TCP (RFC 9293 3.10.7.4): its ACK is ignored.
	 * Only meaningful when the network keeps packets in order. */
	if (p.paylen == 0 && !(p.flags & (TCP2_TH_FIN | TCP2_TH_RST)) &&
	    (int32_t)(off - (nd->rxlen + (nd->peer_fin ? 1 : 0))) < 0)
		bad_ackseq += strict_seq;
	/* A real receiver drops what lies beyond the window it offered. */
	if (p.paylen > 0 && off + p.paylen > nd->rxlen + 65535)
		win_drops++;
	else if (p.paylen > 0 && off + p.paylen <= rxcap) {
		if (off <= nd->rxlen) {
			if (off + p.paylen > nd->rxlen) {
				size_t k = (size_t)(nd->rxlen - off);
				memcpy(nd->rx + nd->rxlen, p.payload + k,
				    p.paylen - k);
				nd->rxlen += p.paylen - k;
			}
		} else if (nd->nooo < 256) {
			struct seg *s = &nd->ooo[nd->nooo++];
			s->off = off;
			s->len = p.paylen;
			s->data = malloc(p.paylen);
			memcpy(s->data, p.payload, p.paylen);
		}
		node_rx_drain(nd);
	}
	if ((p.flags & TCP2_TH_FIN) && off + p.paylen == nd->rxlen)
		nd->peer_fin = 1;
	if (p.paylen > 0 || (p.flags & TCP2_TH_FIN))
		node_send(nd, w, 0, nd->nxt + (nd->fin_sent &&
		    nd->nxt == nd->txlen ? 1 : 0), NULL, 0, 0);
}

/* Deliver a wire through an impairment: loss, duplication, reordering. */
static void
shuffle_loss(struct wire *w, double loss, double dup)
{
	int i, j;
	uint8_t *tp;
	size_t tl;

	for (i = 0; i < w->n; i++) {
		if ((double)rand() / RAND_MAX < loss) {
			free(w->pkt[i]);
			w->pkt[i] = w->pkt[--w->n];
			w->len[i] = w->len[w->n];
			i--;
			continue;
		}
	}
	for (i = 0; i < w->n && w->n < 4000; i++)
		if ((double)rand() / RAND_MAX < dup) {
			w->pkt[w->n] = malloc(w->len[i]);
			memcpy(w->pkt[w->n], w->pkt[i], w->len[i]);
			w->len[w->n++] = w->len[i];
		}
	for (i = 0; i + 1 < w->n && loss > 0; i++)
		if (rand() % 8 == 0) {
			j = i + 1 + rand() % (w->n - i - 1 < 4 ? w->n - i - 1 : 4);
			tp = w->pkt[i]; w->pkt[i] = w->pkt[j]; w->pkt[j] = tp;
			tl = w->len[i]; w->len[i] = w->len[j]; w->len[j] = tl;
		}
}

/* Expected outputs of the test rewriter. */
static size_t
expect_c2s(const uint8_t *in, size_t n, uint8_t *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		out[2 * i] = out[2 * i + 1] = in[i];
	return 2 * n;
}

static size_t
expect_s2c(const uint8_t *in, size_t n, uint8_t *out)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		if (in[i] != '#')
			out[k++] = in[i];
	return k;
}

static int long_lines;	/* lines of up to 20 KB: held longer than cwnd */

static void
gen(uint8_t *b, size_t n, int hashes)
{
	size_t i;

	for (i = 0; i < n; i++)
		b[i] = (uint8_t)(rand() % (long_lines ? 20000 : 60) == 0 ?
		    '\n' : hashes && rand() % 7 == 0 ? '#' : 'a' + rand() % 26);
}

static void
run(int family, unsigned int seed, double loss, double dup, size_t c2s,
    size_t s2c, unsigned int cwnd)
{
	struct node cl = { 0 }, sv = { 0 };
	struct wire w[2] = { { .n = 0 }, { .n = 0 } }, in_flight, *src;
	struct tcp2_splice *sp;
	struct tcp2_rw *rw;
	struct trw *t = calloc(1, sizeof(*t));
	uint8_t *ctx = malloc(c2s), *stx = malloc(s2c), *exp_s, *exp_c, out[TCP2_PKT_MAX];
	size_t els, elc, outlen;
	enum tcp2_sp_verdict v;
	int tick, d, i, done = 0;

	srand(seed);
	strict_seq = loss == 0 && dup == 0;
	gen(ctx, c2s, 0);
	gen(stx, s2c, 1);
	if (burst_mode) {
		stx[s2c - 1] = '!';
		t->burst = malloc(s2c);
	}
	exp_s = malloc(2 * c2s + 1);
	exp_c = malloc(s2c + 1);
	els = expect_c2s(ctx, c2s, exp_s);
	elc = expect_s2c(stx, s2c, exp_c);
	cl.rx = malloc(elc + 1);
	sv.rx = malloc(els + 1);
	cl.t.family = sv.t.family = family;
	if (family == AF_INET) {
		memcpy(cl.t.src, "\x0a\x4d\x00\x02", 4);
		memcpy(cl.t.dst, "\x0a\x4d\x00\x01", 4);
	} else {
		memcpy(cl.t.src, "\xfd\x77\0\0\0\0\0\0\0\0\0\0\0\0\0\x02", 16);
		memcpy(cl.t.dst, "\xfd\x77\0\0\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
	}
	cl.t.sport = 40000;
	cl.t.dport = 25;
	sv.t = cl.t;
	tcp2_pkt_reverse(&sv.t);
	cl.isn = 0xfffff000u + seed;	/* wraps during the transfer */
	sv.isn = 0x7ffff000u + seed;
	cl.tx = ctx;
	cl.txlen = c2s;
	sv.tx = stx;
	sv.txlen = s2c;
	cl.peer_wnd = sv.peer_wnd = 65535;
	cl.cwnd = sv.cwnd = cwnd;
	tcp2_rw_custom(&rw, &trw_ops, t);
	tcp2_splice_new(&sp, rw, 1000, inject_cb, &in_flight);

	node_send(&cl, &w[0], TCP2_TH_SYN, 0, NULL, 0, 1);
	for (tick = 0; tick < 20000 && !done; tick++) {
		for (d = 0; d < 2; d++) {
			/* Packets of direction d: lossy path to the engine,
			 * through it, lossy path to the receiver. */
			src = &w[d];
			shuffle_loss(src, loss, dup);
			in_flight.n = 0;
			for (i = 0; i < src->n; i++) {
				if (tcp2_splice_packet(sp, d, src->pkt[i],
				    src->len[i], &v, out, &outlen) != 0)
					t_check(0, "engine error at tick %d", tick);
				if (v == TCP2_SP_REPLACE)
					wire_put(&in_flight, out, outlen);
				else if (v == TCP2_SP_ACCEPT)
					wire_put(&in_flight, src->pkt[i],
					    src->len[i]);
				free(src->pkt[i]);
			}
			src->n = 0;
			shuffle_loss(&in_flight, loss, dup);
			for (i = 0; i < in_flight.n; i++) {
				/* Routed by destination, as the kernel does:
				 * the engine also answers senders. */
				struct tcp2_pkt q;

				tcp2_pkt_parse(&q, in_flight.pkt[i],
				    in_flight.len[i]);
				if (q.dport == sv.t.sport)
					node_recv(&sv, &w[1], in_flight.pkt[i],
					    in_flight.len[i], els);
				else
					node_recv(&cl, &w[0], in_flight.pkt[i],
					    in_flight.len[i], elc);
				free(in_flight.pkt[i]);
			}
		}
		node_tick(&cl, &w[0]);
		node_tick(&sv, &w[1]);
		done = cl.fin_acked && sv.fin_acked && sv.rxlen == els &&
		    cl.rxlen == elc;
	}
	t_check(done && memcmp(sv.rx, exp_s, els) == 0 &&
	    memcmp(cl.rx, exp_c, elc) == 0,
	    "%s seed %u loss %.0f%% dup %.0f%% cwnd %u%s: server got %zu/%zu, "
	    "client %zu/%zu, FINs %d/%d, %d ticks", family == AF_INET ? "IPv4" :
	    "IPv6", seed, loss * 100, dup * 100, cwnd, long_lines ?
	    " long lines" : "", sv.rxlen, els, cl.rxlen, elc, cl.fin_acked,
	    sv.fin_acked, tick);
	t_check(done && tcp2_splice_closed(sp), "  connection closed cleanly");
	for (d = 0; d < 2; d++)
		for (i = 0; i < w[d].n; i++)
			free(w[d].pkt[i]);
	for (i = 0; i < (int)cl.nooo; i++)
		free(cl.ooo[i].data);
	for (i = 0; i < (int)sv.nooo; i++)
		free(sv.ooo[i].data);
	tcp2_splice_free(sp);
	free(ctx); free(stx); free(exp_s); free(exp_c); free(cl.rx); free(sv.rx);
}

/* Build a packet of endpoint t (timestamps TSval/TSecr) into w. */
static void
ts_send(struct wire *w, const struct tcp2_pkt *t, uint32_t seq, uint32_t ack,
    uint8_t flags, uint32_t tsval, uint32_t tsecr, const char *pl)
{
	uint8_t buf[TCP2_PKT_MAX];
	struct tcp2_pkt q = *t;
	long len;

	q.opt[0] = q.opt[1] = 1;	/* NOP NOP TS */
	q.opt[2] = 8;
	q.opt[3] = 10;
	q.opt[4] = (uint8_t)(tsval >> 24); q.opt[5] = (uint8_t)(tsval >> 16);
	q.opt[6] = (uint8_t)(tsval >> 8); q.opt[7] = (uint8_t)tsval;
	q.opt[8] = (uint8_t)(tsecr >> 24); q.opt[9] = (uint8_t)(tsecr >> 16);
	q.opt[10] = (uint8_t)(tsecr >> 8); q.opt[11] = (uint8_t)tsecr;
	q.optlen = 12;
	len = tcp2_pkt_build(&q, seq, ack, flags, 65535, (const uint8_t *)pl,
	    pl ? strlen(pl) : 0, buf, sizeof(buf));
	if (len > 0)
		wire_put(w, buf, (size_t)len);
}

/* The TSecr of a packet's timestamps option (0 if none). */
static uint32_t
tsecr_of(const struct tcp2_pkt *q)
{
	size_t i;

	for (i = 0; i + 10 <= q->optlen; i++)
		if (q->opt[i] == 8 && q->opt[i + 1] == 10)
			return (uint32_t)q->opt[i + 6] << 24 |
			    (uint32_t)q->opt[i + 7] << 16 |
			    (uint32_t)q->opt[i + 8] << 8 | q->opt[i + 9];
	return 0;
}

/*
 * A client (10.77.0.2:sport) and a server (10.77.0.1:25) with timestamps,
 * a splice engine between them over the test rewriter, injecting into
 * out_w, and the three packets of the handshake on w (client ISN ci,
 * server ISN si; TSval 100/101 and 200).
 */
static struct tcp2_splice *
handshake(struct tcp2_pkt *cl, struct tcp2_pkt *sv, uint16_t sport,
    uint32_t ci, uint32_t si, struct wire *w, struct wire *out_w)
{
	struct tcp2_splice *sp;
	struct tcp2_rw *rw;

	memset(cl, 0, sizeof(*cl));
	cl->family = AF_INET;
	memcpy(cl->src, "\x0a\x4d\x00\x02", 4);
	memcpy(cl->dst, "\x0a\x4d\x00\x01", 4);
	cl->sport = sport;
	cl->dport = 25;
	*sv = *cl;
	tcp2_pkt_reverse(sv);
	tcp2_rw_custom(&rw, &trw_ops, calloc(1, sizeof(struct trw)));
	tcp2_splice_new(&sp, rw, 1000, inject_cb, out_w);
	ts_send(w, cl, ci, 0, TCP2_TH_SYN, 100, 0, NULL);
	ts_send(w, sv, si, ci + 1, TCP2_TH_SYN | TCP2_TH_ACK, 200, 100, NULL);
	ts_send(w, cl, ci + 1, si + 1, TCP2_TH_ACK, 101, 200, NULL);
	return sp;
}

/*
 * Held input is acknowledged by the engine itself: the ACK must echo the
 * held segment's timestamp (an older echo reads as a long round trip and
 * inflates the sender's retransmission timeout), and a retransmission of
 * that segment - our ACK was lost - must be acknowledged again, or a
 * sender with a window of one segment after its timeout waits for ever.
 */
static void
held_ack(void)
{
	struct tcp2_pkt cl, sv, q;
	struct wire w = { .n = 0 }, out_w = { .n = 0 };
	struct tcp2_splice *sp;
	uint8_t out[TCP2_PKT_MAX];
	size_t outlen;
	enum tcp2_sp_verdict v;
	const uint32_t ci = 1000, si = 5000;
	int i, k, acks[2] = { 0, 0 };
	uint32_t echo[2] = { 0, 0 };
	static const enum tcp2_dir dirs[] = { TCP2_C2S, TCP2_S2C, TCP2_C2S,
	    TCP2_S2C, TCP2_C2S, TCP2_C2S };

	sp = handshake(&cl, &sv, 40001, ci, si, &w, &out_w);
	/* The server's last word (TSecr 101) is long before the client's
	 * line without its end (TSval 5000), which the rewriter holds; then
	 * the same segment again (TSval 9000), as after a timeout. */
	ts_send(&w, &sv, si + 1, ci + 1, TCP2_TH_ACK, 201, 101, NULL);
	ts_send(&w, &cl, ci + 1, si + 1, TCP2_TH_ACK | TCP2_TH_PSH, 5000, 201,
	    "held line");
	ts_send(&w, &cl, ci + 1, si + 1, TCP2_TH_ACK | TCP2_TH_PSH, 9000, 201,
	    "held line");
	for (i = 0; i < w.n; i++) {
		out_w.n = 0;
		t_check(tcp2_splice_packet(sp, dirs[i], w.pkt[i], w.len[i],
		    &v, out, &outlen) == 0, "held_ack: packet %d", i);
		for (k = 0; k < out_w.n; k++) {
			if (i >= 4 && tcp2_pkt_parse(&q, out_w.pkt[k],
			    out_w.len[k]) == 0 && q.dport == cl.sport &&
			    q.ack == ci + 1 + 9) {
				acks[i - 4]++;
				echo[i - 4] = tsecr_of(&q);
			}
			free(out_w.pkt[k]);
		}
		free(w.pkt[i]);
	}
	t_check(acks[0] == 1 && echo[0] == 5000, "held input is acknowledged "
	    "to its sender, echoing its timestamp (%d ACKs, TSecr %u)",
	    acks[0], echo[0]);
	t_check(acks[1] == 1 && echo[1] == 9000, "its retransmission is "
	    "acknowledged again, echoing the new timestamp (%d ACKs, TSecr %u)",
	    acks[1], echo[1]);
	tcp2_splice_free(sp);
}

/*
 * A zero-window probe (Linux: SND.UNA - 1, no data) must leave the engine
 * as old as it came: the receiver answers an old segment with its window.
 * Turned into a current pure ACK it is answered by nobody, and when the
 * receiver's window update was lost both ends wait for ever (one way an
 * SMTP DATA can stall under loss, as one run of t_e2e_impair did).  An
 * ordinary pure ACK still goes out at the next sequence number.
 */
static void
probe_stays_old(void)
{
	struct tcp2_pkt cl, sv, q;
	struct wire w = { .n = 0 }, out_w = { .n = 0 };
	struct tcp2_splice *sp;
	uint8_t out[TCP2_PKT_MAX];
	size_t outlen;
	enum tcp2_sp_verdict v;
	const uint32_t ci = 1000, si = 5000, next = ci + 1 + 2 * 5;
	int i, ok[2] = { 0, 0 };
	static const enum tcp2_dir dirs[] = { TCP2_C2S, TCP2_S2C, TCP2_C2S,
	    TCP2_C2S, TCP2_S2C, TCP2_C2S, TCP2_C2S };

	sp = handshake(&cl, &sv, 40002, ci, si, &w, &out_w);
	/* "abcd\n" becomes 10 octets; the server acknowledges them. */
	ts_send(&w, &cl, ci + 1, si + 1, TCP2_TH_ACK | TCP2_TH_PSH, 102, 200,
	    "abcd\n");
	ts_send(&w, &sv, si + 1, next, TCP2_TH_ACK, 201, 102, NULL);
	/* The client's probe, then an ordinary ACK of it. */
	ts_send(&w, &cl, ci + 1 + 5 - 1, si + 1, TCP2_TH_ACK, 103, 201, NULL);
	ts_send(&w, &cl, ci + 1 + 5, si + 1, TCP2_TH_ACK, 104, 201, NULL);
	for (i = 0; i < w.n; i++) {
		out_w.n = 0;
		t_check(tcp2_splice_packet(sp, dirs[i], w.pkt[i], w.len[i],
		    &v, out, &outlen) == 0, "probe: packet %d", i);
		if (i >= 5 && v == TCP2_SP_REPLACE &&
		    tcp2_pkt_parse(&q, out, outlen) == 0)
			ok[i - 5] = i == 5 ? (int32_t)(q.seq - next) < 0 :
			    q.seq == next;
		free(w.pkt[i]);
	}
	t_check(ok[0], "a zero-window probe reaches the server with an old "
	    "sequence number");
	t_check(ok[1], "an ordinary pure ACK reaches it at the next one");
	tcp2_splice_free(sp);
}

int
main(void)
{
	unsigned int s;

	held_ack();
	probe_stays_old();
	run(AF_INET, 1, 0, 0, 200000, 100000, 0);
	run(AF_INET6, 2, 0, 0, 200000, 100000, 0);
	for (s = 10; s < 16; s++)
		run(s % 2 ? AF_INET6 : AF_INET, s, 0.03, 0.01, 150000, 50000, 0);
	run(AF_INET, 99, 0.10, 0.02, 60000, 30000, 0);
	/* The rewriter holds up to 20 KB, the sender may have 6 segments in
	 * flight: only eager acknowledgement of held input lets it go on. */
	long_lines = 1;
	run(AF_INET, 21, 0, 0, 150000, 20000, 6);
	run(AF_INET6, 22, 0.03, 0.01, 150000, 20000, 6);
	long_lines = 0;
	/* All server output at once, twice the receiver's window and more:
	 * only pacing by the receiver's ACKs gets it there. */
	burst_mode = 1;
	run(AF_INET, 31, 0, 0, 20000, 400000, 0);
	run(AF_INET6, 33, 0.03, 0.01, 20000, 300000, 0);
	burst_mode = 0;
	t_check(win_drops == 0, "no segment went beyond the receiver's window "
	    "(%u did)", win_drops);
	t_check(bad_ackseq == 0, "no pure ACK falls below the next expected "
	    "sequence number (%u did)", bad_ackseq);
	t_check(bad_csum == 0 && bad_len == 0,
	    "every packet had valid lengths and checksums (%u bad checksums, "
	    "%u bad lengths)", bad_csum, bad_len);
	return t_done();
}
