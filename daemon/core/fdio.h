/*
 * fdio.h - writing a whole buffer to a file descriptor.
 *
 * The one write loop of the store's atomic files, tcp2-mail's output and
 * tcp2d's re-delivery of released mail.
 */
#ifndef TCP2_FDIO_H
#define TCP2_FDIO_H

#include <stddef.h>

/*
 * Write all of buf to fd, through short writes and EINTR.  Returns 0, or
 * the errno value of the write that failed (EIO for one that wrote 0
 * bytes).  Only write(2): safe in a signal handler and a forked child.
 */
int tcp2_write_all(int fd, const void *buf, size_t len);

#endif /* TCP2_FDIO_H */
