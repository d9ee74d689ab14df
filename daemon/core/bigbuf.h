/*
 * bigbuf.h - large buffers on transparent huge pages.
 *
 * A buffer of megabytes that is filled once (tcp2-mail's output, the
 * hasher's ring) costs one page fault per 4 KiB page; on 2 MiB pages,
 * where the kernel gives them on request (THP "madvise"), a few.
 */
#ifndef TCP2_BIGBUF_H
#define TCP2_BIGBUF_H

#include <stddef.h>

#define TCP2_BIGBUF_PAGE	(2u << 20)

/*
 * A block of at least n bytes, aligned to TCP2_BIGBUF_PAGE and a whole
 * number of them long (*cap gets the length), asked for huge pages.
 * Freed with free(3).  NULL when out of memory.  (Not to be grown with
 * realloc: mremap would split the huge pages.)
 */
void *tcp2_bigbuf_alloc(size_t n, size_t *cap);

#endif /* TCP2_BIGBUF_H */
