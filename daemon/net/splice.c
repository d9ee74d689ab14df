/*
 * splice.c - per-connection sequence maps, retransmission cache, ACK and
 * window translation, segmentation and injection (DESIGN 2, SPLICE-NOTES).
 *
 * Held input (a rewriter filling an AEAD chunk) has no output yet, so no
 * acknowledgement of output can cover it; were it never acknowledged, a
 * sender whose congestion window is smaller than a chunk would wait for
 * ever.  So once the receiver has acknowledged every output byte, all
 * consumed input is acknowledged, held bytes included: their output will
 * be emitted with a later input segment, which is itself acknowledged
 * only when that output is, and whose retransmission re-emits everything
 * from the receiver's acknowledged point (so nothing depends on timers).
 *
 * Output is paced by the receiver's window: a rewriter may produce much
 * more output than one input segment (a POP3 message examined whole is
 * passed on at its end), and segments past the receiver's window would
 * be dropped by it with nobody to resend them, since their input is
 * already acknowledged.  So new output goes out only up to out_acked plus
 * the window the receiver last advertised; the rest waits in the cache
 * and is sent as the receiver's ACKs come in (they pass through here),
 * with a resend of the first missing segment on its third duplicate ACK.
 *
 * Offsets: a direction's input offset 0 is the byte after its SYN, the
 * same holds for output; sequence numbers are ISN + 1 + offset (the ISN is
 * never changed), unwrapped against the current position so that 32-bit
 * wrap-around needs no special cases.
 *
 * The map of a direction is a list of points (in_done, out_end): after
 * out_end output bytes, every input byte before in_done is represented.
 * Both columns only grow.  An ACK for output position a acknowledges input
 * up to the in_done of the last point with out_end <= a; a retransmitted
 * input range [x, y) re-emits output from the point where x began to the
 * point where all of [x, y) was represented (held bytes included).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "error.h"
#include "splice.h"

#define SP_OOO_SEGS	32
#define SP_RETX_MAX	(256u * 1024)	/* output re-emitted per packet */
#define SP_DEFAULT_MSS	536

struct sp_point {
	uint64_t in_done;
	uint64_t out_end;
};

struct sp_ooo {
	uint64_t off;
	uint8_t *data;
	size_t len;
	int fin;
};

struct sp_dir {
	int started;
	uint32_t isn;
	uint64_t in_next;		/* input consumed by the rewriter */
	uint64_t out_next;		/* output produced */
	uint64_t out_acked;		/* receiver acknowledged output */
	uint64_t out_sent;		/* output sent (paced by rwnd) */
	uint64_t rwnd;			/* the receiver's window, octets */
	unsigned int dupacks;		/* same ACK again, data outstanding */
	struct sp_point base;		/* last point trimmed off the map */
	struct sp_point *map;
	size_t nmap, mapcap;
	uint8_t *cache;			/* output [cache_base, out_next) */
	size_t cache_off, cachecap;
	uint64_t cache_base;
	int fin_in;			/* the sender's FIN was consumed */
	uint64_t fin_in_off, fin_out_off;
	int fin_acked;
	unsigned int mss;		/* payload bound towards the receiver */
	int wscale_snd;			/* shift of windows the sender writes */
	struct sp_ooo ooo[SP_OOO_SEGS];
	size_t nooo, ooo_bytes;
	uint64_t retrans, in_bytes, out_bytes;
	/* Last packet the sender of this direction sent: its options
	 * (timestamps) and the window we passed on, for ACKs we make up. */
	uint8_t last_opt[TCP2_TCPOPT_MAX];
	size_t last_optlen;
	uint16_t last_win;
	uint32_t last_ack;		/* and the ACK we passed on */
	uint8_t last_aflag;
};

struct tcp2_splice {
	struct tcp2_rw *rw;
	struct sp_dir dir[2];
	unsigned int clamp_mss;
	int wscale_ok;
	int rst, dead;
	tcp2_sp_inject_fn inject;
	void *inject_arg;
	uint64_t injected, dropped_ooo;
	/* Emission of one packet's worth of segments. */
	uint8_t *pend, *scratch;
	size_t pendlen;
	int have_pend;
};

int
tcp2_splice_new(struct tcp2_splice **spp, struct tcp2_rw *rw,
    unsigned int clamp_mss, tcp2_sp_inject_fn inject, void *inject_arg)
{
	struct tcp2_splice *sp;

	sp = calloc(1, sizeof(*sp));
	if (sp == NULL)
		return TCP2_ENOMEM;
	sp->pend = malloc(TCP2_PKT_MAX);
	sp->scratch = malloc(TCP2_PKT_MAX);
	if (sp->pend == NULL || sp->scratch == NULL) {
		free(sp->pend);
		free(sp->scratch);
		free(sp);
		return TCP2_ENOMEM;
	}
	sp->rw = rw;
	sp->clamp_mss = clamp_mss;
	sp->inject = inject;
	sp->inject_arg = inject_arg;
	sp->dir[0].mss = sp->dir[1].mss = SP_DEFAULT_MSS;
	sp->dir[0].wscale_snd = sp->dir[1].wscale_snd = -1;
	sp->dir[0].rwnd = sp->dir[1].rwnd = 65535;
	*spp = sp;
	return 0;
}

/* ---- offsets ---- */

static uint64_t
unwrap(uint32_t isn, uint64_t ref, uint32_t seq)
{
	int32_t d = (int32_t)(seq - (isn + 1 + (uint32_t)ref));

	if (d < 0 && (uint64_t)-(int64_t)d > ref)
		return 0;
	return (uint64_t)((int64_t)ref + d);
}

static uint32_t
seq_of(const struct sp_dir *D, uint64_t off)
{
	return D->isn + 1 + (uint32_t)off;
}

/* ---- the map ---- */

static int
map_push(struct sp_dir *D, uint64_t in_done, uint64_t out_end)
{
	struct sp_point *nm;
	size_t nc;

	if (D->nmap > 0 && D->map[D->nmap - 1].out_end == out_end) {
		if (in_done > D->map[D->nmap - 1].in_done)
			D->map[D->nmap - 1].in_done = in_done;
		return 0;
	}
	if (D->nmap > 0 && D->map[D->nmap - 1].in_done > in_done)
		in_done = D->map[D->nmap - 1].in_done;
	if (D->nmap == D->mapcap) {
		nc = D->mapcap ? D->mapcap * 2 : 64;
		nm = realloc(D->map, nc * sizeof(*nm));
		if (nm == NULL)
			return TCP2_ENOMEM;
		D->map = nm;
		D->mapcap = nc;
	}
	D->map[D->nmap].in_done = in_done;
	D->map[D->nmap].out_end = out_end;
	D->nmap++;
	return 0;
}

/*
 * Both columns of the map only grow, so one binary search serves every
 * lookup: the number of leading points whose column (out_end when out,
 * else in_done) is below v, or at most v when le.
 */
static size_t
map_count(const struct sp_dir *D, int out, uint64_t v, int le)
{
	size_t lo = 0, hi = D->nmap, mid;
	uint64_t c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = out ? D->map[mid].out_end : D->map[mid].in_done;
		if (c < v || (le && c == v))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Input acknowledged when output up to a is: the last point <= a. */
static uint64_t
map_ack(const struct sp_dir *D, uint64_t a)
{
	size_t k = map_count(D, 1, a, 1);

	return k == 0 ? D->base.in_done : D->map[k - 1].in_done;
}

/* Output position where input x starts: the last point with in_done <= x. */
static uint64_t
map_out_start(const struct sp_dir *D, uint64_t x)
{
	size_t k = map_count(D, 0, x, 1);

	return k == 0 ? D->base.out_end : D->map[k - 1].out_end;
}

/* Output position by which all input before y is represented. */
static uint64_t
map_out_end(const struct sp_dir *D, uint64_t y)
{
	size_t k = map_count(D, 0, y, 0);

	return k == D->nmap ? D->out_next : D->map[k].out_end;
}

/* The receiver has output up to a: forget what it cannot ask again. */
static void
sp_trim(struct sp_dir *D, uint64_t a)
{
	size_t k = 0, drop;

	while (k < D->nmap && D->map[k].out_end <= a)
		k++;
	if (k > 0) {
		D->base = D->map[k - 1];
		memmove(D->map, D->map + k, (D->nmap - k) * sizeof(*D->map));
		D->nmap -= k;
	}
	if (a > D->cache_base) {
		drop = (size_t)(a - D->cache_base);
		D->cache_off += drop;
		D->cache_base = a;
	}
}

/* ---- output cache ---- */

static int
cache_put(void *arg, const void *buf, size_t len)
{
	struct sp_dir *D = arg;
	size_t used = (size_t)(D->out_next - D->cache_base), nc;
	uint8_t *nb;

	if (used + len > TCP2_SP_CACHE_MAX)
		return TCP2_ETOOBIG;
	if (D->cache_off + used + len > D->cachecap) {
		/* Compact first; grow only when that is not enough. */
		if (D->cache_off > 0) {
			memmove(D->cache, D->cache + D->cache_off, used);
			D->cache_off = 0;
		}
		if (used + len > D->cachecap) {
			nc = (used + len) * 2;
			if (nc < 65536)
				nc = 65536;
			nb = realloc(D->cache, nc);
			if (nb == NULL)
				return TCP2_ENOMEM;
			D->cache = nb;
			D->cachecap = nc;
		}
	}
	memcpy(D->cache + D->cache_off + used, buf, len);
	D->out_next += len;
	D->out_bytes += len;
	return 0;
}

static const uint8_t *
cache_at(const struct sp_dir *D, uint64_t off)
{
	return D->cache + D->cache_off + (size_t)(off - D->cache_base);
}

/* ---- emission ---- */

/* Queue one built packet: all but the last are injected at once, the
 * last becomes the verdict, so the receiver sees them in order. */
static int
sp_queue(struct tcp2_splice *sp, const uint8_t *pkt, size_t len)
{
	int rc;

	if (sp->have_pend) {
		rc = sp->inject(sp->inject_arg, sp->pend, sp->pendlen);
		if (rc != 0)
			return rc;
		sp->injected++;
	}
	memcpy(sp->pend, pkt, len);
	sp->pendlen = len;
	sp->have_pend = 1;
	return 0;
}

/* Build one packet; queue it (the verdict's way) or inject it now. */
static int
sp_build_how(struct tcp2_splice *sp, const struct tcp2_pkt *t, uint32_t seq,
    uint32_t ack, uint8_t flags, uint16_t win, const uint8_t *pl, size_t n,
    int inject)
{
	long len = tcp2_pkt_build(t, seq, ack, flags, win, pl, n, sp->scratch,
	    TCP2_PKT_MAX);

	if (len < 0)
		return (int)len;
	if (!inject)
		return sp_queue(sp, sp->scratch, (size_t)len);
	sp->injected++;
	return sp->inject(sp->inject_arg, sp->scratch, (size_t)len);
}

static int
sp_build(struct tcp2_splice *sp, const struct tcp2_pkt *t, uint32_t seq,
    uint32_t ack, uint8_t flags, uint16_t win, const uint8_t *pl, size_t n)
{
	return sp_build_how(sp, t, seq, ack, flags, win, pl, n, 0);
}

/* Output [from, to) of direction d as segments, FIN on the last if fin;
 * queued behind the verdict, or injected at once. */
static int
sp_emit_how(struct tcp2_splice *sp, int d, const struct tcp2_pkt *t,
    uint64_t from, uint64_t to, int fin, uint32_t ack, uint8_t aflag,
    uint16_t win, int inject)
{
	struct sp_dir *D = &sp->dir[d];
	/* The MSS counts payload without options (RFC 9293 3.7.1): the
	 * timestamps a segment carries come off it, or it outgrows the MTU. */
	size_t seg = D->mss - ((t->optlen + 3) & ~(size_t)3), n;
	uint8_t fl;
	int rc;

	if (from < D->cache_base)
		from = D->cache_base;
	do {
		n = to - from > seg ? seg : (size_t)(to - from);
		fl = aflag;
		if (from + n == to) {
			fl |= n ? TCP2_TH_PSH : 0;
			if (fin)
				fl |= TCP2_TH_FIN;
		}
		rc = sp_build_how(sp, t, seq_of(D, from), ack, fl, win,
		    n ? cache_at(D, from) : NULL, n, inject);
		if (rc != 0)
			return rc;
		from += n;
	} while (from < to);
	if (to > D->out_sent)
		D->out_sent = to;
	return 0;
}

static int
sp_emit(struct tcp2_splice *sp, int d, const struct tcp2_pkt *t,
    uint64_t from, uint64_t to, int fin, uint32_t ack, uint8_t aflag,
    uint16_t win)
{
	return sp_emit_how(sp, d, t, from, to, fin, ack, aflag, win, 0);
}

/* How far direction d may send now: the receiver's window past what it
 * acknowledged (at least one segment, which doubles as a window probe). */
static uint64_t
sp_limit(const struct sp_dir *D)
{
	uint64_t w = D->rwnd > D->mss ? D->rwnd : D->mss;

	return D->out_acked + w < D->out_next ? D->out_acked + w :
	    D->out_next;
}

/* Is the FIN out (it rides on the last output segment)? */
static int
sp_fin_sent(const struct sp_dir *D)
{
	return D->fin_in && D->out_sent == D->out_next;
}

/* Sequence number of the next segment direction d sends. */
static uint32_t
sp_next_seq(const struct sp_dir *D)
{
	return seq_of(D, D->out_sent + (sp_fin_sent(D) ? 1 : 0));
}

/* New output of direction d, carried by its sender's packet t: as much as
 * the receiver's window allows, the FIN with the last of it. */
static int
sp_send_new(struct tcp2_splice *sp, int d, const struct tcp2_pkt *t,
    uint32_t ack, uint8_t aflag, uint16_t win)
{
	struct sp_dir *D = &sp->dir[d];
	uint64_t to = sp_limit(D);

	if (to <= D->out_sent)
		return sp_build(sp, t, sp_next_seq(D), ack, aflag, win, NULL, 0);
	return sp_emit(sp, d, t, D->out_sent, to, D->fin_in && to ==
	    D->out_next, ack, aflag, win);
}

/*
 * The receiver of direction d sent packet p (it travels the other way):
 * send d's output that its window now admits, and resend the first
 * missing segment on the third duplicate ACK.  Built like one of d's
 * sender's packets: its last options, ACK and window.
 */
static int
sp_pace(struct tcp2_splice *sp, int d, const struct tcp2_pkt *p)
{
	struct sp_dir *D = &sp->dir[d];
	struct tcp2_pkt t = *p;
	uint64_t to = sp_limit(D), from;
	int rc;

	if (!D->started || D->last_aflag == 0)
		return 0;
	tcp2_pkt_reverse(&t);
	memcpy(t.opt, D->last_opt, D->last_optlen);
	t.optlen = D->last_optlen;
	if (D->dupacks >= 3 && D->out_acked < D->out_sent) {
		D->dupacks = 0;
		from = D->out_acked;
		rc = sp_emit_how(sp, d, &t, from, from + D->mss < D->out_sent ?
		    from + D->mss : D->out_sent, 0, D->last_ack,
		    D->last_aflag, D->last_win, 1);
		if (rc != 0)
			return rc;
		D->retrans++;
	}
	if (to <= D->out_sent)
		return 0;
	return sp_emit_how(sp, d, &t, D->out_sent, to, D->fin_in && to ==
	    D->out_next, D->last_ack, D->last_aflag, D->last_win, 1);
}

/* ---- the two halves of a packet: its ACK/window, and its data ---- */

/*
 * The ACK field acknowledges the other direction's output: map it to
 * that direction's input.  *aflag keeps the ACK bit as it was.
 */
static uint32_t
sp_map_ack(struct tcp2_splice *sp, int d, const struct tcp2_pkt *p)
{
	struct sp_dir *O = &sp->dir[1 - d];
	uint64_t a, in;

	if (!(p->flags & TCP2_TH_ACK) || !O->started)
		return p->ack;
	a = unwrap(O->isn, O->out_next, p->ack);
	if (O->fin_in && a == O->fin_out_off + 1) {
		O->fin_acked = 1;
		sp_trim(O, O->out_next);
		O->out_acked = O->out_next;
		return seq_of(O, O->fin_in_off + 1);
	}
	if (a > O->out_next)
		a = O->out_next;
	if (a > O->out_acked) {
		O->out_acked = a;
		O->dupacks = 0;
		sp_trim(O, a);
	} else if (a == O->out_acked && p->paylen == 0 &&
	    O->out_sent > O->out_acked) {
		O->dupacks++;
	}
	in = O->out_acked == O->out_next ? O->in_next : map_ack(O, a);
	return seq_of(O, in);
}

/*
 * The window is the sender's receive window for the other direction's
 * output; the other direction's sender counts in input bytes, and output
 * may be larger than input (encryption), so it is scaled down.
 */
static uint16_t
sp_map_win(const struct tcp2_splice *sp, int d, const struct tcp2_pkt *p)
{
	int shift = sp->wscale_ok ? sp->dir[d].wscale_snd : 0;
	uint64_t w;

	if (p->flags & TCP2_TH_SYN)
		return p->win;
	if (shift < 0)
		shift = 0;
	w = ((uint64_t)p->win << shift) * 5 / 8;
	w >>= shift;
	return w > 0xffff ? 0xffff : (uint16_t)w;
}

static int
sp_abort(struct tcp2_splice *sp, int d, const struct tcp2_pkt *p)
{
	struct tcp2_pkt t = *p;
	struct sp_dir *D = &sp->dir[d], *O = &sp->dir[1 - d];
	int rc1 = 0, rc2 = 0;
	long len;

	sp->dead = 1;
	t.optlen = 0;
	/* To the receiver, at the next output position it expects. */
	if (D->started) {
		len = tcp2_pkt_build(&t, seq_of(D, D->out_next + (D->fin_in ?
		    1 : 0)), 0, TCP2_TH_RST, 0, NULL, 0, sp->scratch,
		    TCP2_PKT_MAX);
		rc1 = len < 0 ? (int)len : sp->inject(sp->inject_arg,
		    sp->scratch, (size_t)len);
	}
	/* To the sender, at the position it expects from the other side. */
	if (O->started) {
		tcp2_pkt_reverse(&t);
		len = tcp2_pkt_build(&t, seq_of(O, O->out_next + (O->fin_in ?
		    1 : 0)), 0, TCP2_TH_RST, 0, NULL, 0, sp->scratch,
		    TCP2_PKT_MAX);
		rc2 = len < 0 ? (int)len : sp->inject(sp->inject_arg,
		    sp->scratch, (size_t)len);
	}
	sp->have_pend = 0;
	return rc1 ? rc1 : rc2;
}

/*
 * Acknowledge direction d's input to its sender ourselves: its segment
 * was consumed but produced no output (held), so the receiver has nothing
 * to acknowledge, and a sender waiting for that ACK (Nagle's algorithm, a
 * small congestion window) would wait for ever.  Only when the receiver
 * has all earlier output (see the top of this file).  The ACK looks like
 * one from the receiver: its last timestamp value and window, echoing
 * the timestamp of the segment it acknowledges.
 */
static int
sp_ack_sender(struct tcp2_splice *sp, int d, const struct tcp2_pkt *p)
{
	struct sp_dir *D = &sp->dir[d], *O = &sp->dir[1 - d];
	struct tcp2_pkt t = *p;
	long len;

	if (D->out_acked != D->out_next || !O->started)
		return 0;
	tcp2_pkt_reverse(&t);
	memcpy(t.opt, O->last_opt, O->last_optlen);
	t.optlen = O->last_optlen;
	/* Echo this segment's timestamp, not the receiver's last echo: that
	 * may be much older (the receiver had nothing new to acknowledge),
	 * and the sender would take the age for a round-trip time and
	 * stretch its retransmission timeout with every loss. */
	tcp2_opt_echo_ts(&t, p);
	len = tcp2_pkt_build(&t, sp_next_seq(O),
	    seq_of(D, D->in_next + (D->fin_in ? 1 : 0)), TCP2_TH_ACK,
	    O->last_win, NULL, 0, sp->scratch, TCP2_PKT_MAX);
	if (len < 0)
		return (int)len;
	sp->injected++;
	return sp->inject(sp->inject_arg, sp->scratch, (size_t)len);
}

/* Feed input to the rewriter and record the map point. */
static int
sp_feed(struct tcp2_splice *sp, int d, const uint8_t *buf, size_t n)
{
	struct sp_dir *D = &sp->dir[d];
	int rc;

	rc = tcp2_rw_feed(sp->rw, (enum tcp2_dir)d, buf, n, cache_put, D);
	if (rc != 0)
		return rc;
	D->in_next += n;
	D->in_bytes += n;
	return map_push(D, D->in_next - tcp2_rw_held(sp->rw,
	    (enum tcp2_dir)d), D->out_next);
}

static int
sp_fin(struct tcp2_splice *sp, int d)
{
	struct sp_dir *D = &sp->dir[d];
	int rc;

	rc = tcp2_rw_end(sp->rw, (enum tcp2_dir)d, cache_put, D);
	if (rc != 0)
		return rc;
	D->fin_in = 1;
	D->fin_in_off = D->in_next;
	D->fin_out_off = D->out_next;
	return map_push(D, D->in_next, D->out_next);
}

static void
ooo_free(struct sp_ooo *o)
{
	free(o->data);
	memset(o, 0, sizeof(*o));
}

/* Keep a future segment until the gap before it is filled. */
static void
ooo_add(struct tcp2_splice *sp, struct sp_dir *D, uint64_t off,
    const uint8_t *buf, size_t n, int fin)
{
	struct sp_ooo *o;
	size_t i;

	for (i = 0; i < D->nooo; i++)
		if (D->ooo[i].off == off && D->ooo[i].len >= n)
			return;
	if (D->nooo == SP_OOO_SEGS || D->ooo_bytes + n > TCP2_SP_OOO_MAX) {
		sp->dropped_ooo++;
		return;
	}
	o = &D->ooo[D->nooo];
	o->data = malloc(n ? n : 1);
	if (o->data == NULL) {
		sp->dropped_ooo++;
		return;
	}
	memcpy(o->data, buf, n);
	o->off = off;
	o->len = n;
	o->fin = fin;
	D->nooo++;
	D->ooo_bytes += n;
}

/* Feed buffered segments that have become in order. */
static int
ooo_drain(struct tcp2_splice *sp, int d, int *fin)
{
	struct sp_dir *D = &sp->dir[d];
	size_t i, skip;
	int rc, progress = 1;

	while (progress) {
		progress = 0;
		for (i = 0; i < D->nooo; i++) {
			struct sp_ooo *o = &D->ooo[i];

			if (o->off > D->in_next)
				continue;
			rc = 0;
			if (o->off + o->len > D->in_next) {
				skip = (size_t)(D->in_next - o->off);
				rc = sp_feed(sp, d, o->data + skip,
				    o->len - skip);
			}
			if (o->fin && o->off + o->len >= D->in_next)
				*fin = 1;
			D->ooo_bytes -= o->len;
			ooo_free(o);
			D->ooo[i] = D->ooo[--D->nooo];
			if (rc != 0)
				return rc;
			progress = 1;
			break;
		}
	}
	return 0;
}

/* A SYN or SYN-ACK: learn ISN, MSS, window scale; strip SACK; clamp. */
static int
sp_syn(struct tcp2_splice *sp, int d, struct tcp2_pkt *p)
{
	struct sp_dir *D = &sp->dir[d], *O = &sp->dir[1 - d];
	unsigned int mss = tcp2_opt_mss(p);

	if (D->started && D->isn != p->seq)
		return TCP2_EFORMAT;
	D->started = 1;
	D->isn = p->seq;
	/* This side's MSS bounds what we send it: the other direction. */
	O->mss = mss >= 128 ? mss : SP_DEFAULT_MSS;	/* hostile tiny MSS */
	D->wscale_snd = tcp2_opt_wscale(p);
	if (d == TCP2_S2C) {
		sp->wscale_ok = D->wscale_snd >= 0 && O->wscale_snd >= 0;
		if (sp->clamp_mss)
			tcp2_opt_clamp_mss(p, sp->clamp_mss);
	}
	tcp2_opt_strip_sack(p);
	return sp_build(sp, p, p->seq, p->ack, p->flags, p->win, NULL, 0);
}

/* New, old or future data (and FIN) of direction d. */
static int
sp_data(struct tcp2_splice *sp, int d, const struct tcp2_pkt *p,
    uint32_t ack, uint16_t win)
{
	struct sp_dir *D = &sp->dir[d];
	uint64_t off = unwrap(D->isn, D->in_next, p->seq), end, from, to;
	uint8_t aflag = p->flags & TCP2_TH_ACK;
	int fin = (p->flags & TCP2_TH_FIN) != 0, rc, fin_now = 0;
	size_t skip;

	end = off + p->paylen;
	/* After its FIN the sender's next sequence number is one further:
	 * that is no gap. */
	if (off > D->in_next + (D->fin_in ? 1 : 0)) {
		/* A gap before it: keep it (bounded), say nothing. */
		if (!D->fin_in)
			ooo_add(sp, D, off, p->payload, p->paylen, fin);
		return sp_build(sp, p, sp_next_seq(D), ack, aflag, win,
		    NULL, 0);
	}
	if (end > D->in_next && !D->fin_in) {
		/* New bytes: through the rewriter once, then sent on. */
		from = D->out_next;
		skip = (size_t)(D->in_next - off);
		rc = sp_feed(sp, d, p->payload + skip, p->paylen - skip);
		if (rc == 0 && fin)
			fin_now = 1;
		if (rc == 0)
			rc = ooo_drain(sp, d, &fin_now);
		if (rc == 0 && fin_now && !D->fin_in)
			rc = sp_fin(sp, d);
		if (rc == 0 && from == D->out_next)
			rc = sp_ack_sender(sp, d, p);
		if (rc != 0)
			return rc;
		return sp_send_new(sp, d, p, ack, aflag, win);
	}
	if (fin && !D->fin_in && end == D->in_next) {
		if ((rc = sp_fin(sp, d)) != 0)
			return rc;
		return sp_send_new(sp, d, p, ack, aflag, win);
	}
	if (p->paylen == 0 && !fin && off < D->in_next) {
		/* An old sequence number on purpose: a zero-window probe or a
		 * keep-alive (RFC 9293 3.8.6.1, RFC 1122 4.2.3.6; Linux sends
		 * SND.UNA - 1).  It must reach the receiver old as well, for
		 * an old segment is what it answers with an ACK and its
		 * current window.  Made current, it would be a pure ACK that
		 * nobody answers, and a window update the receiver sent and
		 * the network lost would leave both ends waiting for ever. */
		return sp_build(sp, p, seq_of(D, D->out_acked) - 1, ack, aflag,
		    win, NULL, 0);
	}
	if (p->paylen == 0 && !fin) {
		/* A pure ACK (or window update) of the sender. */
		return sp_build(sp, p, seq_of(D, D->out_sent +
		    (sp_fin_sent(D) && off > D->fin_in_off ? 1 : 0)), ack, aflag,
		    win, NULL, 0);
	}
	/* A retransmission: re-emit the output of that input, and whatever
	 * before it the receiver still lacks (held input may have been
	 * acknowledged, see the top of this file). */
	D->retrans++;
	from = D->out_acked;
	to = map_out_end(D, end);
	if (to > from + SP_RETX_MAX)
		to = from + SP_RETX_MAX;
	if (to > sp_limit(D) && to > D->out_sent)
		to = sp_limit(D) > D->out_sent ? sp_limit(D) : D->out_sent;
	if (from >= to && !(fin && D->fin_in && !D->fin_acked)) {
		/* Nothing the receiver still lacks, so it will not answer:
		 * if the input was held, our ACK of it was lost, and the
		 * sender (after a timeout, with a window of one segment)
		 * resends it until it is acknowledged - do that again.
		 * The receiver gets the ACK only, at the next sequence
		 * number (a lower one would be ignored). */
		if ((rc = sp_ack_sender(sp, d, p)) != 0)
			return rc;
		return sp_build(sp, p, sp_next_seq(D), ack, aflag, win, NULL,
		    0);
	}
	if (from > to)
		from = to;
	return sp_emit(sp, d, p, from, to, D->fin_in && !D->fin_acked &&
	    to == D->out_next && fin, ack, aflag, win);
}

static int
sp_rst(struct tcp2_splice *sp, int d, const struct tcp2_pkt *p,
    uint32_t ack)
{
	struct sp_dir *D = &sp->dir[d];
	uint64_t off = unwrap(D->isn, D->in_next, p->seq), o;

	sp->rst = 1;
	o = off >= D->in_next ? D->out_next + (D->fin_in ? 1 : 0) :
	    map_out_start(D, off);
	return sp_build(sp, p, D->started ? seq_of(D, o) : p->seq, ack,
	    p->flags, 0, NULL, 0);
}

int
tcp2_splice_packet(struct tcp2_splice *sp, enum tcp2_dir dir,
    const uint8_t *buf, size_t len, enum tcp2_sp_verdict *v, uint8_t *out,
    size_t *outlen)
{
	struct tcp2_pkt p;
	uint32_t ack;
	uint16_t win;
	int d = dir, rc;

	*v = TCP2_SP_DROP;
	if (sp->dead)
		return 0;
	if (tcp2_pkt_parse(&p, buf, len) != 0)
		return 0;
	sp->have_pend = 0;
	if (p.flags & TCP2_TH_SYN) {
		rc = sp_syn(sp, d, &p);
	} else if (!sp->dir[d].started ||
	    ((p.flags & TCP2_TH_ACK) && !sp->dir[1 - d].started)) {
		/* Mid-connection without its handshake: cannot be trusted. */
		rc = TCP2_ESTATE;
	} else {
		/* The SACK option may not appear once SACK was not agreed. */
		tcp2_opt_strip_sack(&p);
		ack = sp_map_ack(sp, d, &p);
		win = sp_map_win(sp, d, &p);
		memcpy(sp->dir[d].last_opt, p.opt, p.optlen);
		sp->dir[d].last_optlen = p.optlen;
		sp->dir[d].last_win = win;
		sp->dir[d].last_ack = ack;
		sp->dir[d].last_aflag = p.flags & TCP2_TH_ACK;
		/* This sender is the other direction's receiver. */
		sp->dir[1 - d].rwnd = (uint64_t)p.win << (sp->wscale_ok &&
		    sp->dir[d].wscale_snd > 0 ? sp->dir[d].wscale_snd : 0);
		if (p.flags & TCP2_TH_RST)
			rc = sp_rst(sp, d, &p, ack);
		else
			rc = sp_data(sp, d, &p, ack, win);
		if (rc == 0 && !(p.flags & TCP2_TH_RST))
			rc = sp_pace(sp, 1 - d, &p);
	}
	if (rc != 0) {
		sp_abort(sp, d, &p);
		return rc;
	}
	if (sp->have_pend) {
		memcpy(out, sp->pend, sp->pendlen);
		*outlen = sp->pendlen;
		*v = TCP2_SP_REPLACE;
		sp->have_pend = 0;
	}
	return 0;
}

int
tcp2_splice_closed(const struct tcp2_splice *sp)
{
	return sp->rst || sp->dead ||
	    (sp->dir[0].fin_acked && sp->dir[1].fin_acked);
}

int
tcp2_splice_same_syn(const struct tcp2_splice *sp, uint32_t seq)
{
	return sp->dir[TCP2_C2S].started && sp->dir[TCP2_C2S].isn == seq;
}

int
tcp2_splice_dead(const struct tcp2_splice *sp)
{
	return sp->dead;
}

void
tcp2_splice_stats(const struct tcp2_splice *sp, struct tcp2_splice_stats *st)
{
	int d;

	memset(st, 0, sizeof(*st));
	for (d = 0; d < 2; d++) {
		st->in_bytes[d] = sp->dir[d].in_bytes;
		st->out_bytes[d] = sp->dir[d].out_bytes;
		st->retrans[d] = sp->dir[d].retrans;
		st->cached[d] = (size_t)(sp->dir[d].out_next -
		    sp->dir[d].cache_base);
		st->held[d] = tcp2_rw_held(sp->rw, (enum tcp2_dir)d);
		st->unsent[d] = sp->dir[d].out_next - sp->dir[d].out_sent;
		st->unacked[d] = sp->dir[d].out_sent > sp->dir[d].out_acked ?
		    sp->dir[d].out_sent - sp->dir[d].out_acked : 0;
		st->rwnd[d] = sp->dir[d].rwnd;
		st->ooo[d] = sp->dir[d].nooo;
	}
	st->injected = sp->injected;
	st->dropped_ooo = sp->dropped_ooo;
}

void
tcp2_splice_free(struct tcp2_splice *sp)
{
	size_t i;
	int d;

	if (sp == NULL)
		return;
	for (d = 0; d < 2; d++) {
		for (i = 0; i < sp->dir[d].nooo; i++)
			ooo_free(&sp->dir[d].ooo[i]);
		free(sp->dir[d].map);
		free(sp->dir[d].cache);
	}
	tcp2_rw_free(sp->rw);
	free(sp->pend);
	free(sp->scratch);
	free(sp);
}
