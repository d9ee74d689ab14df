/*
 * flow.h - the captured connections of tcp2d: a hash table keyed by the
 * client and server address/port, each entry owning its splice engine.
 */
#ifndef TCP2_FLOW_H
#define TCP2_FLOW_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "endpoint.h"
#include "splice.h"

#define TCP2_FLOWS_MAX		4096	/* concurrent captured connections */
#define TCP2_FLOW_GRACE		10	/* seconds kept after closing */
#define TCP2_FLOW_IDLE		7200	/* seconds without a packet */

struct tcp2_flow_key {
	int family;
	uint8_t caddr[16], saddr[16];
	uint16_t cport, sport;
};

struct tcp2_flow {
	struct tcp2_flow *next;		/* hash chain */
	struct tcp2_flow_key key;
	struct tcp2_endpoint ep;	/* copy: endpoints may be reloaded */
	struct tcp2_splice *sp;
	time_t created, last, closed;
};

struct tcp2_flows;

int tcp2_flows_new(struct tcp2_flows **ft);
struct tcp2_flow *tcp2_flows_find(struct tcp2_flows *ft,
    const struct tcp2_flow_key *k);
/* A new entry (sp owned by it); NULL when full or out of memory. */
struct tcp2_flow *tcp2_flows_add(struct tcp2_flows *ft,
    const struct tcp2_flow_key *k, const struct tcp2_endpoint *ep,
    struct tcp2_splice *sp, time_t now);
/* Unlink and free one flow (its splice engine too). */
void tcp2_flows_remove(struct tcp2_flows *ft, struct tcp2_flow *f);
size_t tcp2_flows_count(const struct tcp2_flows *ft);
/* Call fn for every flow (no changes to the table inside fn). */
void tcp2_flows_foreach(struct tcp2_flows *ft,
    void (*fn)(void *arg, const struct tcp2_flow *f), void *arg);
/* Free flows closed longer than the grace or idle too long; fn (may be
 * NULL) sees each one before it goes. */
void tcp2_flows_gc(struct tcp2_flows *ft, time_t now,
    void (*fn)(void *arg, const struct tcp2_flow *f), void *arg);
/*
 * Make room in a full table: the flows that closed longest ago (all those
 * of the oldest second) go before their grace is over, fn (may be NULL)
 * seeing each.  Returns how many went; 0 when every flow is open.
 */
size_t tcp2_flows_evict(struct tcp2_flows *ft, time_t now,
    void (*fn)(void *arg, const struct tcp2_flow *f), void *arg);
void tcp2_flows_free(struct tcp2_flows *ft);

#endif /* TCP2_FLOW_H */
