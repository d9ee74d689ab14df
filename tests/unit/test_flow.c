/*
 * test_flow.c - the flow table of tcp2d (daemon/net/flow.c): a full table
 * makes room by letting the flows that closed longest ago go early, and
 * refuses only when every flow is open.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "flow.h"
#include "harness.h"
#include "rewriter.h"
#include "splice.h"

/* A rewriter that is never fed: the table only asks whether it is over. */
static int
idle_feed(void *impl, enum tcp2_dir dir, const uint8_t *in, size_t len,
    tcp2_out_fn out, void *arg)
{
	(void)impl, (void)dir, (void)in, (void)len, (void)out, (void)arg;
	return 0;
}

static int
idle_end(void *impl, enum tcp2_dir dir, tcp2_out_fn out, void *arg)
{
	(void)impl, (void)dir, (void)out, (void)arg;
	return 0;
}

static size_t
idle_held(const void *impl, enum tcp2_dir dir)
{
	(void)impl, (void)dir;
	return 0;
}

static int
idle_passthrough(const void *impl)
{
	(void)impl;
	return 1;
}

static void
idle_free(void *impl)
{
	(void)impl;
}

static const struct tcp2_rw_ops idle_ops = {
	idle_feed, idle_end, idle_held, idle_passthrough, idle_free
};

static int
no_inject(void *arg, const uint8_t *pkt, size_t len)
{
	(void)arg, (void)pkt, (void)len;
	return 0;
}

static unsigned int gone;

static void
count_gone(void *arg, const struct tcp2_flow *f)
{
	(void)arg, (void)f;
	gone++;
}

static void
key_of(struct tcp2_flow_key *k, unsigned int i)
{
	memset(k, 0, sizeof(*k));
	k->family = AF_INET;
	memcpy(k->caddr, "\x0a\x4d\x00\x02", 4);
	memcpy(k->saddr, "\x0a\x4d\x00\x01", 4);
	k->caddr[2] = (uint8_t)(i >> 16);
	k->cport = (uint16_t)i;
	k->sport = 25;
}

/* A flow with an open splice engine (a fresh one is open). */
static struct tcp2_flow *
add_open(struct tcp2_flows *ft, unsigned int i, time_t now)
{
	struct tcp2_flow_key k;
	struct tcp2_endpoint ep;
	struct tcp2_splice *sp;
	struct tcp2_flow *f;
	struct tcp2_rw *rw;

	memset(&ep, 0, sizeof(ep));
	key_of(&k, i);
	if (tcp2_rw_custom(&rw, &idle_ops, NULL) != 0 ||
	    tcp2_splice_new(&sp, rw, 0, no_inject, NULL) != 0)
		abort();
	if ((f = tcp2_flows_add(ft, &k, &ep, sp, now)) == NULL)
		tcp2_splice_free(sp);
	return f;
}

int
main(void)
{
	struct tcp2_flows *ft;
	struct tcp2_flow *f;
	unsigned int i;
	size_t went;
	const time_t t0 = 1000;

	if (tcp2_flows_new(&ft) != 0)
		return 1;
	for (i = 0; i < TCP2_FLOWS_MAX; i++)
		if ((f = add_open(ft, i, t0)) == NULL)
			break;
	t_check(i == TCP2_FLOWS_MAX, "the table takes %d flows (took %u)",
	    TCP2_FLOWS_MAX, i);
	t_check(add_open(ft, i, t0) == NULL, "a full table takes no more");
	t_check(tcp2_flows_evict(ft, t0, count_gone, NULL) == 0 &&
	    tcp2_flows_count(ft) == TCP2_FLOWS_MAX,
	    "a table full of open flows evicts none of them");

	/* 100 flows closed one second, 50 the next: only the first 100 go. */
	for (i = 0; i < 150; i++) {
		struct tcp2_flow_key k;

		key_of(&k, i);
		f = tcp2_flows_find(ft, &k);
		f->closed = i < 100 ? t0 + 1 : t0 + 2;
	}
	gone = 0;
	went = tcp2_flows_evict(ft, t0 + 3, count_gone, NULL);
	t_check(went == 100 && gone == 100 && tcp2_flows_count(ft) == TCP2_FLOWS_MAX - 100,
	    "eviction takes the flows of the oldest closing second (%u went)",
	    gone);
	{
		struct tcp2_flow_key k;

		key_of(&k, 99);
		t_check(tcp2_flows_find(ft, &k) == NULL, "flow 99 went");
		key_of(&k, 100);
		t_check(tcp2_flows_find(ft, &k) != NULL,
		    "flow 100, closed a second later, stays");
		key_of(&k, 150);
		t_check(tcp2_flows_find(ft, &k) != NULL, "open flows stay");
	}
	t_check(add_open(ft, TCP2_FLOWS_MAX, t0 + 3) != NULL,
	    "after eviction a new flow fits");

	/* The grace-period collector takes the other 50 later, not before. */
	gone = 0;
	tcp2_flows_gc(ft, t0 + 2 + TCP2_FLOW_GRACE - 1, count_gone, NULL);
	t_check(gone == 0, "within its grace a closed flow stays");
	tcp2_flows_gc(ft, t0 + 2 + TCP2_FLOW_GRACE, count_gone, NULL);
	t_check(gone == 50, "after its grace a closed flow goes (%u went)",
	    gone);
	tcp2_flows_free(ft);
	return t_done();
}
