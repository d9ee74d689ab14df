/*
 * harness.c - check counting and small helpers shared by the unit tests.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "harness.h"

static unsigned int t_pass, t_fail;

int
t_check(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%s - ", cond ? "ok" : "not ok");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (cond)
		t_pass++;
	else
		t_fail++;
	return cond;
}

int
t_done(void)
{
	printf("# %u passed, %u failed\n", t_pass, t_fail);
	return t_fail ? 1 : 0;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

long
t_unhex(uint8_t *out, size_t max, const char *hex)
{
	size_t n = 0;
	int hi, lo;

	while (hex[0] && hex[0] != '\n' && hex[0] != '\r' && hex[0] != ' ') {
		hi = hexval(hex[0]);
		lo = hexval(hex[1]);
		if (hi < 0 || lo < 0 || n >= max)
			return -1;
		out[n++] = (uint8_t)(hi << 4 | lo);
		hex += 2;
	}
	return (long)n;
}

char *
t_slurp(const char *path, size_t *len)
{
	FILE *f;
	char *buf = NULL;
	size_t cap = 0, n = 0, r;

	f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	for (;;) {
		if (cap - n < 65536) {
			char *nb = realloc(buf, cap * 2 + 65536 + 1);
			if (nb == NULL) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
			cap = cap * 2 + 65536;
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
		if (r == 0)
			break;
	}
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

int
t_buf_put(void *arg, const void *data, size_t len)
{
	struct t_buf *b = arg;
	uint8_t *np;
	size_t nc;

	if (len == 0)
		return 0;
	if (len > b->cap - b->len) {
		nc = (b->len + len) * 2 + 1024;
		if ((np = realloc(b->p, nc)) == NULL)
			return TCP2_ENOMEM;
		b->p = np;
		b->cap = nc;
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
	return 0;
}

void
t_buf_free(struct t_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}
