/*
 * mailopen.c - decrypt or verify one whole mail in memory (mailopen.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "error.h"
#include "mailopen.h"
#include "message.h"
#include "mimedec.h"
#include "plainsig.h"

static int
to_buf(void *arg, const void *p, size_t n)
{
	struct tcp2_buf *b = arg;

	tcp2_buf_put(b, p, n);
	return b->oom ? TCP2_ENOMEM : 0;
}

static int
open_encrypted(struct tcp2_state *st, const uint8_t *mail, size_t len,
    struct tcp2_buf *b, struct tcp2_opened *o)
{
	struct tcp2_msg_dec_params p;
	struct tcp2_msg_dec *d;
	int rc;

	memset(&p, 0, sizeof(p));
	p.lookup = tcp2_state_lookup;
	p.lookup_arg = st;
	p.out = to_buf;
	p.arg = b;
	p.flags = TCP2_DEC_KEEP_TRACE;
	if ((rc = tcp2_msg_dec_new(&d, &p)) != 0)
		return rc;
	rc = tcp2_msg_dec_write(d, mail, len);
	if (rc == 0)
		rc = tcp2_msg_dec_finish(d);
	if (rc == 0) {
		o->sig = (int)tcp2_msg_dec_status(d);
		snprintf(o->signer, sizeof(o->signer), "%s",
		    tcp2_msg_dec_sender(d));
	}
	tcp2_msg_dec_free(d);
	return rc;
}

static int
open_plain(struct tcp2_state *st, const uint8_t *mail, size_t len,
    struct tcp2_buf *b, struct tcp2_opened *o)
{
	struct tcp2_psig_verifier *v;
	enum tcp2_sig_status s = TCP2_SIG_UNVERIFIED;
	int rc, was = 0;

	if ((rc = tcp2_psig_verifier_new(&v, tcp2_state_lookup, st, to_buf,
	    b)) != 0)
		return rc;
	rc = tcp2_psig_verifier_write(v, mail, len);
	if (rc == 0)
		rc = tcp2_psig_verifier_finish(v, &s, &was);
	tcp2_psig_verifier_free(v);
	o->sig = was ? (int)s : -1;
	return rc;
}

int
tcp2_mail_open(struct tcp2_state *st, const uint8_t *mail, size_t len,
    struct tcp2_opened *o)
{
	struct tcp2_buf b;
	int rc;

	memset(o, 0, sizeof(*o));
	o->sig = -1;
	tcp2_buf_init(&b, (size_t)-1);
	o->encrypted = tcp2_msg_is_encrypted((const char *)mail, len);
	rc = o->encrypted ? open_encrypted(st, mail, len, &b, o) :
	    open_plain(st, mail, len, &b, o);
	if (rc != 0) {
		tcp2_buf_free(&b);
		o->signer[0] = '\0';
		return rc;
	}
	o->plain = b.p;
	o->len = b.len;
	if (o->plain == NULL && (o->plain = malloc(1)) == NULL)
		return TCP2_ENOMEM;
	return 0;
}

const char *
tcp2_mail_sig_name(int sig)
{
	return sig == 1 ? "verified" : sig == 2 ? "forged" : "unverified";
}

void
tcp2_mail_opened_free(struct tcp2_opened *o)
{
	if (o->plain != NULL) {
		tcp2_crypto_wipe(o->plain, o->len);
		free(o->plain);
	}
	memset(o, 0, sizeof(*o));
}
