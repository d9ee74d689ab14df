/*
 * bigbuf.c - large buffers on transparent huge pages.
 */
#include <stdlib.h>
#include <sys/mman.h>

#include "bigbuf.h"

void *
tcp2_bigbuf_alloc(size_t n, size_t *cap)
{
	void *p;

	n = (n + TCP2_BIGBUF_PAGE - 1) / TCP2_BIGBUF_PAGE * TCP2_BIGBUF_PAGE;
	p = aligned_alloc(TCP2_BIGBUF_PAGE, n);
	if (p == NULL)
		return NULL;
#ifdef MADV_HUGEPAGE
	(void)madvise(p, n, MADV_HUGEPAGE);	/* a wish, not a need */
#endif
	*cap = n;
	return p;
}
