/*
 * flow.c - hash table of captured connections.
 */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "flow.h"

#define FLOW_BUCKETS	1024

struct tcp2_flows {
	struct tcp2_flow *b[FLOW_BUCKETS];
	size_t n;
};

static unsigned int
key_hash(const struct tcp2_flow_key *k)
{
	const uint8_t *p = (const uint8_t *)k;
	unsigned int h = 2166136261u;
	size_t i;

	/* FNV-1a over the key (zero-filled, so padding is stable). */
	for (i = 0; i < sizeof(*k); i++)
		h = (h ^ p[i]) * 16777619u;
	return h % FLOW_BUCKETS;
}

int
tcp2_flows_new(struct tcp2_flows **ftp)
{
	*ftp = calloc(1, sizeof(**ftp));
	return *ftp ? 0 : TCP2_ENOMEM;
}

struct tcp2_flow *
tcp2_flows_find(struct tcp2_flows *ft, const struct tcp2_flow_key *k)
{
	struct tcp2_flow *f;

	for (f = ft->b[key_hash(k)]; f != NULL; f = f->next)
		if (memcmp(&f->key, k, sizeof(*k)) == 0)
			return f;
	return NULL;
}

struct tcp2_flow *
tcp2_flows_add(struct tcp2_flows *ft, const struct tcp2_flow_key *k,
    const struct tcp2_endpoint *ep, struct tcp2_splice *sp, time_t now)
{
	struct tcp2_flow *f;
	unsigned int h = key_hash(k);

	if (ft->n >= TCP2_FLOWS_MAX || (f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	f->key = *k;
	f->ep = *ep;
	f->sp = sp;
	f->created = f->last = now;
	f->next = ft->b[h];
	ft->b[h] = f;
	ft->n++;
	return f;
}

void
tcp2_flows_remove(struct tcp2_flows *ft, struct tcp2_flow *f)
{
	struct tcp2_flow **pp = &ft->b[key_hash(&f->key)];

	while (*pp != NULL && *pp != f)
		pp = &(*pp)->next;
	if (*pp == NULL)
		return;
	*pp = f->next;
	tcp2_splice_free(f->sp);
	free(f);
	ft->n--;
}

size_t
tcp2_flows_count(const struct tcp2_flows *ft)
{
	return ft->n;
}

void
tcp2_flows_foreach(struct tcp2_flows *ft,
    void (*fn)(void *arg, const struct tcp2_flow *f), void *arg)
{
	struct tcp2_flow *f;
	size_t i;

	for (i = 0; i < FLOW_BUCKETS; i++)
		for (f = ft->b[i]; f != NULL; f = f->next)
			fn(arg, f);
}

/* Whether f is over, noting when it was first seen so. */
static int
flow_over(struct tcp2_flow *f, time_t now)
{
	if (f->closed == 0 && (f->sp == NULL || tcp2_splice_closed(f->sp)))
		f->closed = now;
	return f->closed != 0;
}

/* Unlink *pp and free it; fn (may be NULL) sees it before it goes. */
static void
flow_drop(struct tcp2_flows *ft, struct tcp2_flow **pp,
    void (*fn)(void *arg, const struct tcp2_flow *f), void *arg)
{
	struct tcp2_flow *f = *pp;

	if (fn && f->sp != NULL)
		fn(arg, f);
	*pp = f->next;
	tcp2_splice_free(f->sp);
	free(f);
	ft->n--;
}

void
tcp2_flows_gc(struct tcp2_flows *ft, time_t now,
    void (*fn)(void *arg, const struct tcp2_flow *f), void *arg)
{
	struct tcp2_flow **pp, *f;
	size_t i;

	for (i = 0; i < FLOW_BUCKETS; i++) {
		pp = &ft->b[i];
		while ((f = *pp) != NULL) {
			if ((flow_over(f, now) &&
			    now - f->closed >= TCP2_FLOW_GRACE) ||
			    now - f->last >= TCP2_FLOW_IDLE)
				flow_drop(ft, pp, fn, arg);
			else
				pp = &f->next;
		}
	}
}

size_t
tcp2_flows_evict(struct tcp2_flows *ft, time_t now,
    void (*fn)(void *arg, const struct tcp2_flow *f), void *arg)
{
	struct tcp2_flow **pp, *f;
	time_t oldest = 0;
	size_t i, n0 = ft->n;

	for (i = 0; i < FLOW_BUCKETS; i++)
		for (f = ft->b[i]; f != NULL; f = f->next)
			if (flow_over(f, now) &&
			    (oldest == 0 || f->closed < oldest))
				oldest = f->closed;
	if (oldest == 0)
		return 0;
	for (i = 0; i < FLOW_BUCKETS; i++) {
		pp = &ft->b[i];
		while ((f = *pp) != NULL) {
			if (f->closed != 0 && f->closed <= oldest)
				flow_drop(ft, pp, fn, arg);
			else
				pp = &f->next;
		}
	}
	return n0 - ft->n;
}

void
tcp2_flows_free(struct tcp2_flows *ft)
{
	struct tcp2_flow *f, *nx;
	size_t i;

	if (ft == NULL)
		return;
	for (i = 0; i < FLOW_BUCKETS; i++)
		for (f = ft->b[i]; f != NULL; f = nx) {
			nx = f->next;
			tcp2_splice_free(f->sp);
			free(f);
		}
	free(ft);
}
