/*
 * inject.c - IPv4 (IP_HDRINCL) and IPv6 (IPPROTO_RAW, header included)
 * raw sockets with the daemon's mark.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "error.h"
#include "inject.h"

struct tcp2_inject {
	int fd4, fd6;
};

static int
raw_socket(int family)
{
	unsigned int mark = TCP2_MARK;
	int fd;

	fd = socket(family, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int
tcp2_inject_open(struct tcp2_inject **inp)
{
	struct tcp2_inject *in;

	in = calloc(1, sizeof(*in));
	if (in == NULL)
		return TCP2_ENOMEM;
	in->fd4 = raw_socket(AF_INET);
	/* IPv6 may be disabled on the host: then only v4 is injected. */
	in->fd6 = raw_socket(AF_INET6);
	if (in->fd4 < 0) {
		if (in->fd6 >= 0)
			close(in->fd6);
		free(in);
		return TCP2_EIO;
	}
	*inp = in;
	return 0;
}

int
tcp2_inject_send(struct tcp2_inject *in, const uint8_t *pkt, size_t len)
{
	struct sockaddr_in s4;
	struct sockaddr_in6 s6;
	ssize_t n;

	if (len < 20)
		return TCP2_EINVAL;
	if (pkt[0] >> 4 == 4) {
		memset(&s4, 0, sizeof(s4));
		s4.sin_family = AF_INET;
		memcpy(&s4.sin_addr, pkt + 16, 4);
		n = sendto(in->fd4, pkt, len, 0, (struct sockaddr *)&s4,
		    sizeof(s4));
	} else {
		if (in->fd6 < 0 || len < 40)
			return TCP2_EIO;
		memset(&s6, 0, sizeof(s6));
		s6.sin6_family = AF_INET6;
		memcpy(&s6.sin6_addr, pkt + 24, 16);
		n = sendto(in->fd6, pkt, len, 0, (struct sockaddr *)&s6,
		    sizeof(s6));
	}
	return n == (ssize_t)len ? 0 : TCP2_EIO;
}

void
tcp2_inject_close(struct tcp2_inject *in)
{
	if (in == NULL)
		return;
	if (in->fd4 >= 0)
		close(in->fd4);
	if (in->fd6 >= 0)
		close(in->fd6);
	free(in);
}
