/*
 * rewriter.c - the session-rewriter interface: an operations table per
 * protocol (SMTP, POP3) or supplied by the caller (tests).
 */
#include <stdlib.h>

#include "error.h"
#include "pop3.h"
#include "rewriter.h"
#include "smtp.h"

struct tcp2_rw {
	const struct tcp2_rw_ops *ops;
	void *impl;
};

/* Adapters: the protocol functions take their own types. */
static int
smtp_feed(void *i, enum tcp2_dir d, const uint8_t *in, size_t n,
    tcp2_out_fn out, void *arg)
{
	return tcp2_smtp_feed(i, d, in, n, out, arg);
}

static int
smtp_end(void *i, enum tcp2_dir d, tcp2_out_fn out, void *arg)
{
	return tcp2_smtp_end(i, d, out, arg);
}

static size_t
smtp_held(const void *i, enum tcp2_dir d)
{
	return tcp2_smtp_held(i, d);
}

static int
smtp_pass(const void *i)
{
	return tcp2_smtp_is_passthrough(i);
}

static void
smtp_free(void *i)
{
	tcp2_smtp_free(i);
}

static int
pop3_feed(void *i, enum tcp2_dir d, const uint8_t *in, size_t n,
    tcp2_out_fn out, void *arg)
{
	return tcp2_pop3_feed(i, d, in, n, out, arg);
}

static int
pop3_end(void *i, enum tcp2_dir d, tcp2_out_fn out, void *arg)
{
	return tcp2_pop3_end(i, d, out, arg);
}

static size_t
pop3_held(const void *i, enum tcp2_dir d)
{
	return tcp2_pop3_held(i, d);
}

static int
pop3_pass(const void *i)
{
	return tcp2_pop3_is_passthrough(i);
}

static void
pop3_free(void *i)
{
	tcp2_pop3_free(i);
}

static const struct tcp2_rw_ops smtp_ops = {
	smtp_feed, smtp_end, smtp_held, smtp_pass, smtp_free,
};

static const struct tcp2_rw_ops pop3_ops = {
	pop3_feed, pop3_end, pop3_held, pop3_pass, pop3_free,
};

int
tcp2_rw_custom(struct tcp2_rw **rwp, const struct tcp2_rw_ops *ops,
    void *impl)
{
	struct tcp2_rw *rw = calloc(1, sizeof(*rw));

	if (rw == NULL)
		return TCP2_ENOMEM;
	rw->ops = ops;
	rw->impl = impl;
	*rwp = rw;
	return 0;
}

int
tcp2_rw_new(struct tcp2_rw **rwp, enum tcp2_proto proto,
    const struct tcp2_rw_env *env)
{
	struct tcp2_smtp *s = NULL;
	struct tcp2_pop3 *p = NULL;
	int rc;

	if (proto == TCP2_PROTO_SMTP) {
		if ((rc = tcp2_smtp_new(&s, env)) != 0)
			return rc;
		if ((rc = tcp2_rw_custom(rwp, &smtp_ops, s)) != 0)
			tcp2_smtp_free(s);
		return rc;
	}
	if (proto == TCP2_PROTO_POP3) {
		if ((rc = tcp2_pop3_new(&p, env)) != 0)
			return rc;
		if ((rc = tcp2_rw_custom(rwp, &pop3_ops, p)) != 0)
			tcp2_pop3_free(p);
		return rc;
	}
	return TCP2_EINVAL;
}

int
tcp2_rw_feed(struct tcp2_rw *rw, enum tcp2_dir dir, const uint8_t *in,
    size_t len, tcp2_out_fn out, void *arg)
{
	return rw->ops->feed(rw->impl, dir, in, len, out, arg);
}

int
tcp2_rw_end(struct tcp2_rw *rw, enum tcp2_dir dir, tcp2_out_fn out, void *arg)
{
	return rw->ops->end(rw->impl, dir, out, arg);
}

size_t
tcp2_rw_held(const struct tcp2_rw *rw, enum tcp2_dir dir)
{
	return rw->ops->held(rw->impl, dir);
}

int
tcp2_rw_is_passthrough(const struct tcp2_rw *rw)
{
	return rw->ops->is_passthrough(rw->impl);
}

void
tcp2_rw_free(struct tcp2_rw *rw)
{
	if (rw == NULL)
		return;
	rw->ops->free(rw->impl);
	free(rw);
}
