/*
 * fdio.c - writing a whole buffer to a file descriptor.
 */
#include <errno.h>
#include <stdint.h>
#include <unistd.h>

#include "fdio.h"

int
tcp2_write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno;
		if (n == 0)
			return EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}
