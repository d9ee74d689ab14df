/*
 * endpoint.c - parse and look up captured server endpoints.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "endpoint.h"
#include "error.h"

static int
split_spec(const char *spec, char *host, size_t hl, unsigned long *port)
{
	const char *colon, *h = spec;
	size_t n;
	char *end;

	if (spec[0] == '[') {
		colon = strstr(spec, "]:");
		if (colon == NULL)
			return TCP2_EINVAL;
		h = spec + 1;
		n = (size_t)(colon - h);
		colon++;
	} else {
		colon = strrchr(spec, ':');
		if (colon == NULL || memchr(spec, ':', (size_t)(colon - spec)))
			return TCP2_EINVAL;
		n = (size_t)(colon - spec);
	}
	if (n == 0 || n >= hl)
		return TCP2_EINVAL;
	memcpy(host, h, n);
	host[n] = '\0';
	*port = strtoul(colon + 1, &end, 10);
	if (*end != '\0' || *port == 0 || *port > 65535)
		return TCP2_EINVAL;
	return 0;
}

int
tcp2_endpoint_parse(const char *spec, enum tcp2_proto proto,
    const char *account, struct tcp2_endpoint *eps, size_t max, size_t *n)
{
	struct addrinfo hints, *res, *ai;
	struct tcp2_endpoint *e;
	char host[256], txt[INET6_ADDRSTRLEN];
	unsigned long port;
	int rc;

	if ((rc = split_spec(spec, host, sizeof(host), &port)) != 0)
		return rc;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, NULL, &hints, &res) != 0)
		return TCP2_ENOENT;
	for (ai = res; ai != NULL && *n < max; ai = ai->ai_next) {
		e = &eps[*n];
		memset(e, 0, sizeof(*e));
		e->family = ai->ai_family;
		if (ai->ai_family == AF_INET)
			memcpy(e->addr, &((struct sockaddr_in *)ai->ai_addr)->
			    sin_addr, 4);
		else if (ai->ai_family == AF_INET6)
			memcpy(e->addr, &((struct sockaddr_in6 *)ai->ai_addr)->
			    sin6_addr, 16);
		else
			continue;
		if (tcp2_endpoint_find(eps, *n, e->family, e->addr,
		    (uint16_t)port) != NULL)
			continue;
		e->port = (uint16_t)port;
		e->proto = proto;
		snprintf(e->account, sizeof(e->account), "%s", account);
		inet_ntop(e->family, e->addr, txt, sizeof(txt));
		snprintf(e->text, sizeof(e->text), e->family == AF_INET6 ?
		    "[%s]:%lu" : "%s:%lu", txt, port);
		(*n)++;
	}
	freeaddrinfo(res);
	return 0;
}

void
tcp2_endpoint_any(struct tcp2_endpoint *e, int family, uint16_t port,
    enum tcp2_proto proto)
{
	memset(e, 0, sizeof(*e));
	e->family = family;
	e->any = 1;
	e->port = port;
	e->proto = proto;
	snprintf(e->text, sizeof(e->text), family == AF_INET6 ? "[::]:%u" :
	    "*:%u", port);
}

const struct tcp2_endpoint *
tcp2_endpoint_find(const struct tcp2_endpoint *eps, size_t n, int family,
    const uint8_t *addr, uint16_t port)
{
	const struct tcp2_endpoint *any = NULL;
	size_t i;

	for (i = 0; i < n; i++) {
		if (eps[i].family != family || eps[i].port != port)
			continue;
		if (eps[i].any) {
			if (any == NULL)
				any = &eps[i];
			continue;
		}
		if (memcmp(eps[i].addr, addr, family == AF_INET ? 4 : 16) == 0)
			return &eps[i];
	}
	return any;
}
