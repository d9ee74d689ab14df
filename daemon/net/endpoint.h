/*
 * endpoint.h - the registered mail servers whose connections tcp2d
 * captures: address, port, protocol and the account they belong to.
 */
#ifndef TCP2_ENDPOINT_H
#define TCP2_ENDPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "header.h"
#include "rewriter.h"

#define TCP2_ENDPOINT_TEXT	64	/* "[v6addr]:port" */

struct tcp2_endpoint {
	int family;			/* AF_INET or AF_INET6 */
	uint8_t addr[16];
	uint16_t port;
	int any;			/* any address (registration) */
	enum tcp2_proto proto;
	char account[TCP2_ADDR_MAX];
	char text[TCP2_ENDPOINT_TEXT];	/* as printed: 10.0.0.1:25 */
};

/*
 * Resolve "host:port" or "[v6]:port" (numeric or by name, every address)
 * into up to max endpoints appended at eps[*n].  TCP2_EINVAL on a bad
 * spec, TCP2_ENOENT when the name does not resolve.
 */
int tcp2_endpoint_parse(const char *spec, enum tcp2_proto proto,
    const char *account, struct tcp2_endpoint *eps, size_t max, size_t *n);

/* A wildcard endpoint: every server on this port (the seed's designated
 * port search, while registration is armed). */
void tcp2_endpoint_any(struct tcp2_endpoint *e, int family, uint16_t port,
    enum tcp2_proto proto);

/* The endpoint with this address and port (exact before wildcard), or
 * NULL. */
const struct tcp2_endpoint *tcp2_endpoint_find(
    const struct tcp2_endpoint *eps, size_t n, int family,
    const uint8_t *addr, uint16_t port);

#endif /* TCP2_ENDPOINT_H */
