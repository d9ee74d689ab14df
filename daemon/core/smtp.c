/*
 * smtp.c - the SMTP session rewriter.  For now it copies both directions
 * unchanged (a passthrough), which is what the splice engine is tested
 * with; the protocol logic replaces it.
 */
#include <stdlib.h>

#include "error.h"
#include "smtp.h"

struct tcp2_smtp {
	int dummy;
};

int
tcp2_smtp_new(struct tcp2_smtp **s, const struct tcp2_rw_env *env)
{
	(void)env;
	*s = calloc(1, sizeof(**s));
	return *s ? 0 : TCP2_ENOMEM;
}

int
tcp2_smtp_feed(struct tcp2_smtp *s, enum tcp2_dir dir, const uint8_t *in,
    size_t len, tcp2_out_fn out, void *arg)
{
	(void)s;
	(void)dir;
	return len ? out(arg, in, len) : 0;
}

int
tcp2_smtp_end(struct tcp2_smtp *s, enum tcp2_dir dir, tcp2_out_fn out,
    void *arg)
{
	(void)s;
	(void)dir;
	(void)out;
	(void)arg;
	return 0;
}

size_t
tcp2_smtp_held(const struct tcp2_smtp *s, enum tcp2_dir dir)
{
	(void)s;
	(void)dir;
	return 0;
}

int
tcp2_smtp_is_passthrough(const struct tcp2_smtp *s)
{
	(void)s;
	return 1;
}

void
tcp2_smtp_free(struct tcp2_smtp *s)
{
	free(s);
}
