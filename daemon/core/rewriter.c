/*
 * rewriter.c - dispatch of the session-rewriter interface to the SMTP and
 * POP3 rewriters.
 */
#include <stdlib.h>

#include "error.h"
#include "pop3.h"
#include "rewriter.h"
#include "smtp.h"

struct tcp2_rw {
	enum tcp2_proto proto;
	struct tcp2_smtp *smtp;
	struct tcp2_pop3 *pop3;
};

int
tcp2_rw_new(struct tcp2_rw **rwp, enum tcp2_proto proto,
    const struct tcp2_rw_env *env)
{
	struct tcp2_rw *rw;
	int rc;

	if (proto != TCP2_PROTO_SMTP && proto != TCP2_PROTO_POP3)
		return TCP2_EINVAL;
	rw = calloc(1, sizeof(*rw));
	if (rw == NULL)
		return TCP2_ENOMEM;
	rw->proto = proto;
	rc = proto == TCP2_PROTO_SMTP ? tcp2_smtp_new(&rw->smtp, env) :
	    tcp2_pop3_new(&rw->pop3, env);
	if (rc != 0) {
		free(rw);
		return rc;
	}
	*rwp = rw;
	return 0;
}

int
tcp2_rw_feed(struct tcp2_rw *rw, enum tcp2_dir dir, const uint8_t *in,
    size_t len, tcp2_out_fn out, void *arg)
{
	if (rw->proto == TCP2_PROTO_SMTP)
		return tcp2_smtp_feed(rw->smtp, dir, in, len, out, arg);
	return tcp2_pop3_feed(rw->pop3, dir, in, len, out, arg);
}

int
tcp2_rw_end(struct tcp2_rw *rw, enum tcp2_dir dir, tcp2_out_fn out, void *arg)
{
	if (rw->proto == TCP2_PROTO_SMTP)
		return tcp2_smtp_end(rw->smtp, dir, out, arg);
	return tcp2_pop3_end(rw->pop3, dir, out, arg);
}

size_t
tcp2_rw_held(const struct tcp2_rw *rw, enum tcp2_dir dir)
{
	if (rw->proto == TCP2_PROTO_SMTP)
		return tcp2_smtp_held(rw->smtp, dir);
	return tcp2_pop3_held(rw->pop3, dir);
}

int
tcp2_rw_is_passthrough(const struct tcp2_rw *rw)
{
	if (rw->proto == TCP2_PROTO_SMTP)
		return tcp2_smtp_is_passthrough(rw->smtp);
	return tcp2_pop3_is_passthrough(rw->pop3);
}

void
tcp2_rw_free(struct tcp2_rw *rw)
{
	if (rw == NULL)
		return;
	tcp2_smtp_free(rw->smtp);
	tcp2_pop3_free(rw->pop3);
	free(rw);
}
