/*
 * smtp.c - the SMTP session rewriter (DESIGN 3, contract in rewriter.h).
 *
 * Client to server: command lines are read (CRLF, or a bare LF, which
 * Postfix accepts) and passed on; each command is queued for its reply, so
 * that PIPELINING works.  Server to client: replies are matched to that
 * queue in order.  At DATA the transaction's fate is decided from the
 * recipients the client asked for: encrypt (every one has a key), refuse
 * (strict policy, or a changed key: the client's DATA reaches the server
 * as RSET and the reply to that RSET reaches the client as a 554), or send
 * the plaintext with a signature line (plainsig.h).  After the server's
 * 354 the content is un-dot-stuffed into the original message, its header
 * is read (key-exchange and registration mails are recognised by their
 * Subject), and what the chosen transform writes is dot-stuffed again.
 *
 * Decisions:
 * - BDAT carries content in counted chunks whose sizes the encryption
 *   would change and whose end we could not hold back safely; CHUNKING and
 *   BINARYMIME (which needs BDAT) are removed from the EHLO reply, and a
 *   client that sends BDAT anyway gets its connection reset (TCP2_EABORT).
 * - SIZE: an encrypted message is at most about 1.37 times the original
 *   (its base64 lines travel packed, so it is often no larger) plus a
 *   clear header and MIME parts, so on sessions of an account MAIL FROM's
 *   SIZE=n becomes SIZE=ceil(1.45 n)+4096; a server then never accepts a
 *   declaration that the message it receives exceeds.  The exception is
 *   content with NULs, which SMTP forbids and the packed stream doubles
 *   (message format 3.3): a server may refuse it as too large, and the
 *   client gets that refusal.  Sessions without an account keep the
 *   client's value.
 * - End of data is exactly CRLF "." CRLF, as Postfix reads it.  Dot
 *   stuffing is removed only at the start of a CRLF line.  The bytes that
 *   go to the server are stuffed again, and a "." after a bare LF or a bare
 *   CR is stuffed too ("..") so that a server that also ends lines at bare
 *   LF or CR finds neither an end of data before ours nor a smuggled
 *   second message.  A client that sends CRLF lines (all of them) sees
 *   its plaintext pass byte for byte.
 * - Bytes the client sends after DATA, STARTTLS or an AUTH that needs a
 *   challenge, before the server answered, are held (at most
 *   SMTP_PEND_MAX) until it did, because only the answer says whether they
 *   are content, commands, SASL data or TLS.  They go out with the client's
 *   next bytes: a rewriter writes a direction only while that direction is
 *   fed.  Clients wait for these answers (RFC 2920, 3207, 4954).
 * - A key-exchange mail is buffered whole, at most SMTP_KEYX_MAX (32 KiB),
 *   which stays under TCP2_RW_MAX_HELD with the rest of what is held; a
 *   larger one is not a key-exchange mail and goes the ordinary way.
 * - The strict refusal happens at DATA, before the Subject is known, so
 *   under the strict policy a first key-exchange mail to a peer without a
 *   key is refused too; tcp2-mail keyx-start writes one instead.
 */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "crypto.h"
#include "error.h"
#include "header.h"
#include "keyx.h"
#include "message.h"
#include "plainsig.h"
#include "smtp.h"
#include "state.h"

#define SMTP_LINE_MAX	2048		/* command or reply line held */
#define SMTP_PEND_MAX	(12u * 1024)	/* client bytes held while blocked */
#define SMTP_FIFO_MAX	1024		/* commands awaiting replies */
#define SMTP_RCPT_MAX	(TCP2_MSG_MAX_RCPT - 1)	/* plus our self key */
#define SMTP_HDR_MAX	TCP2_MSG_CHUNK	/* header window, as the encoder's */
#define SMTP_KEYX_MAX	(32u * 1024)	/* a whole key-exchange mail */
#define SMTP_DROP_MAX	(8u * 1024)	/* reply lines being replaced */
#define SMTP_SIZE_NUM	29		/* SIZE growth: 1.45 = 29 / 20 */
#define SMTP_SIZE_DEN	20
#define SMTP_SIZE_ADD	4096
#define SMTP_BLOCK_MAX	(TCP2_KEYX_BLOCK_MAX + 64)

/*
 * Held bound, client to server: content holds at most 2 raw bytes (a "."
 * or ".\r" that may end the data) plus the message bytes a stage holds
 * (header window 16 KiB, encoder under 28 KiB: a chunk of packed lines and
 * two blocks, message.h; key-exchange buffer 32 KiB)
 * plus the stuffing dots removed inside them (one per 3 message bytes at
 * most); otherwise a command line or the bytes held while blocked.
 */
_Static_assert(2 + SMTP_KEYX_MAX + SMTP_KEYX_MAX / 3 + 1 <= TCP2_RW_MAX_HELD,
    "key-exchange buffer exceeds the held bound");
_Static_assert(SMTP_PEND_MAX + SMTP_LINE_MAX <= TCP2_RW_MAX_HELD,
    "pending bytes exceed the held bound");

enum kind {
	K_GREETING, K_EHLO, K_HELO, K_AUTH, K_MAIL, K_RCPT, K_DATA,
	K_REFUSED,		/* DATA sent as RSET: its reply is replaced */
	K_DOT, K_RSET, K_STARTTLS, K_QUIT, K_OTHER,
};

enum mode {
	M_ENCRYPTED, M_SIGNED, M_PLAIN, M_KEYX_INIT, M_KEYX_REPLY,
	M_REGISTRATION,
};

/* What a transaction's end of data hands to the reply it gets. */
struct outcome {
	enum mode mode;
	char from[TCP2_ADDR_MAX];	/* registration: the From: address */
	char rcpts[512];		/* for people: "a, b, c" */
	char reply[400];		/* K_REFUSED: what the client gets */
};

struct pcmd {
	enum kind kind;
	uint64_t gen;			/* transaction it belongs to */
	size_t idx;			/* K_RCPT: which recipient */
	struct outcome *oc;		/* K_DOT, K_REFUSED */
};

enum block { B_NONE, B_DATA, B_AUTH, B_STARTTLS };
enum cmode { C_CMD, C_CONTENT };
enum dot { D_BOL, D_MID, D_CR, D_DOT, D_DOTCR };
enum plan { P_ENC, P_SIGN, P_PLAIN };
enum sink { SK_HDR, SK_ENC, SK_SIGN, SK_PLAIN, SK_KEYX, SK_DONE };

/* One message's content, from DATA to the reply to its end. */
struct content {
	enum plan plan;
	enum sink sink;
	enum dot ds;
	uint8_t keys[TCP2_MSG_MAX_RCPT][TCP2_MSG_KEY_LEN];
	size_t nkeys;
	struct tcp2_msg_enc *enc;
	struct tcp2_psig_signer *sig;
	uint8_t *buf;			/* header window, key-exchange mail */
	size_t nbuf, cap, hscan;
	int hdr_ended;
	uint64_t msg_total;		/* message bytes produced */
	/* Message offsets of removed stuffing dots, for the held count. */
	uint64_t *dots;
	size_t dhead, dn, dcap;
	/* Output side: last bytes sent, bare-LF normalisation. */
	uint8_t prev, prev2;
	int any, lfnorm;
	struct outcome *oc;
};

struct tcp2_smtp {
	struct tcp2_state *state;
	char account[TCP2_ADDR_MAX];
	int has_account;
	char endpoint[TCP2_ENDPOINT_MAX];
	struct tcp2_registration *reg;
	tcp2_event_fn event;
	void *event_arg;
	uint64_t (*now)(void);
	int fixed;
	uint8_t fixed_mk[TCP2_MSG_KEY_LEN], fixed_salt[TCP2_MSG_SALT_LEN];

	int pass;			/* copy only, for good */
	int dead;			/* aborted */
	tcp2_out_fn out;		/* sink of the direction being fed */
	void *arg;

	struct pcmd *fifo;
	size_t fhead, fn;

	/* The transaction the client is building. */
	uint64_t gen;
	char (*rcpt)[TCP2_ADDR_MAX];
	unsigned char *accepted;
	size_t nrcpt, nbad;
	char bad[TCP2_ADDR_MAX];	/* the first recipient not recorded */

	/* Client side. */
	enum cmode cmode;
	enum block blocked, eol_block;
	int sasl_expect;
	uint8_t cmd[SMTP_LINE_MAX];
	size_t ncmd;
	int clong;			/* in a line longer than cmd */
	uint8_t *pend;
	size_t npend;
	struct content *cnt;

	/* Server side. */
	uint8_t line[SMTP_LINE_MAX];
	size_t nline;
	int slong, slong_final;
	uint8_t hold[SMTP_LINE_MAX];	/* EHLO line awaiting its successor */
	size_t nhold;
	int in_reply, r_drop, r_code;
	unsigned int r_lines;
	size_t dropped;
};

/* ---- small helpers ---- */

static int
emit(struct tcp2_smtp *s, const void *p, size_t n)
{
	return n > 0 ? s->out(s->arg, p, n) : 0;
}

static int
emits(struct tcp2_smtp *s, const char *str)
{
	return emit(s, str, strlen(str));
}

static uint64_t
now_of(const struct tcp2_smtp *s)
{
	return s->now != NULL ? s->now() : (uint64_t)time(NULL);
}

static void
event(struct tcp2_smtp *s, const char *type, const char *text,
    const char *const *fields)
{
	static const char *const none[] = { NULL };

	if (s->event != NULL)
		s->event(s->event_arg, type, text, fields ? fields : none);
}

/* The account row, looked up afresh: the state's array may move. */
static const struct tcp2_account *
account_of(const struct tcp2_smtp *s)
{
	if (!s->has_account || s->state == NULL)
		return NULL;
	return tcp2_state_account(s->state, s->account);
}

/* Copy a client-supplied text for a reply or an event: printable only. */
static void
sanitize(char *out, size_t outlen, const uint8_t *in, size_t len)
{
	size_t i, o = 0;

	for (i = 0; i < len && o + 1 < outlen; i++)
		out[o++] = in[i] >= 32 && in[i] < 127 ? (char)in[i] : '?';
	out[o] = '\0';
}

/* Is the line's verb w: w followed by SP or the line end? */
static int
verb_is(const uint8_t *l, size_t n, const char *w)
{
	size_t wl = strlen(w);

	if (n < wl || strncasecmp((const char *)l, w, wl) != 0)
		return 0;
	return n == wl || l[wl] == ' ' || l[wl] == '\r' || l[wl] == '\n';
}

static int
is_eol(uint8_t c)
{
	return c == '\r' || c == '\n';
}

/* ---- commands awaiting replies ---- */

static int
fifo_push(struct tcp2_smtp *s, enum kind kind, size_t idx,
    struct outcome *oc)
{
	struct pcmd *c;

	if (s->fn == SMTP_FIFO_MAX) {
		free(oc);
		return TCP2_EABORT;
	}
	c = &s->fifo[(s->fhead + s->fn) % SMTP_FIFO_MAX];
	c->kind = kind;
	c->gen = s->gen;
	c->idx = idx;
	c->oc = oc;
	s->fn++;
	return 0;
}

static struct pcmd *
fifo_head(struct tcp2_smtp *s)
{
	return s->fn > 0 ? &s->fifo[s->fhead] : NULL;
}

static void
fifo_pop(struct tcp2_smtp *s)
{
	if (s->fn == 0)
		return;
	free(s->fifo[s->fhead].oc);
	s->fifo[s->fhead].oc = NULL;
	s->fhead = (s->fhead + 1) % SMTP_FIFO_MAX;
	s->fn--;
}

/* ---- transaction ---- */

static void
tx_reset(struct tcp2_smtp *s)
{
	s->gen++;
	s->nrcpt = 0;
	s->nbad = 0;
	s->bad[0] = '\0';
}

static void
rcpt_bad(struct tcp2_smtp *s, const uint8_t *a, size_t n)
{
	if (s->nbad++ == 0)
		sanitize(s->bad, sizeof(s->bad), a, n);
}

/*
 * RCPT TO:<path> [params]: record the address.  Ones we cannot record
 * (unparsable, too many, a truncated line) count as recipients without a
 * key, so the mail is never encrypted to fewer people than it goes to.
 */
static size_t
rcpt_add(struct tcp2_smtp *s, const uint8_t *l, size_t n, int complete)
{
	char tmp[TCP2_ADDR_MAX];
	size_t i = 4, a, e;

	while (i < n && l[i] == ' ')
		i++;
	if (n - i < 3 || strncasecmp((const char *)l + i, "TO:", 3) != 0) {
		rcpt_bad(s, l, n);
		return SIZE_MAX;
	}
	for (i += 3; i < n && l[i] == ' '; i++)
		;
	if (i < n && l[i] == '<') {
		for (e = ++i; e < n && l[e] != '>'; e++)
			;
	} else {
		for (e = i; e < n && l[e] != ' ' && !is_eol(l[e]); e++)
			;
	}
	a = i;
	/* A source route "@a,@b:" is obsolete and ignored (RFC 5321 4.1.2). */
	if (a < e && l[a] == '@') {
		while (a < e && l[a] != ':')
			a++;
		a = a < e ? a + 1 : e;
	}
	if (!complete || e - a >= sizeof(tmp) || s->nrcpt == SMTP_RCPT_MAX) {
		rcpt_bad(s, l + a, e - a);
		return SIZE_MAX;
	}
	memcpy(tmp, l + a, e - a);
	tmp[e - a] = '\0';
	if (tcp2_addr_norm(tmp, s->rcpt[s->nrcpt]) != 0) {
		rcpt_bad(s, l + a, e - a);
		return SIZE_MAX;
	}
	s->accepted[s->nrcpt] = 0;
	return s->nrcpt++;
}

static void
rcpt_list(const struct tcp2_smtp *s, char *out, size_t outlen)
{
	size_t i, o = 0;
	int n;

	out[0] = '\0';
	for (i = 0; i < s->nrcpt && o < outlen; i++) {
		n = snprintf(out + o, outlen - o, "%s%s", i ? ", " : "",
		    s->rcpt[i]);
		if (n < 0)
			break;
		o += (size_t)n;
	}
	if (s->nbad > 0 && o < outlen)
		snprintf(out + o, outlen - o, "%s%s", o ? ", " : "", s->bad);
}

/* ---- content: output side ---- */

/*
 * Dot-stuff bytes on their way to the server: a "." at the start of a
 * line, whether the line began after CRLF, a bare LF or a bare CR, is
 * doubled.  With lfnorm (our own output: encoder, key exchange) a bare LF
 * becomes CRLF, as SMTP requires.
 */
static int
stuff_out(void *arg, const void *buf, size_t len)
{
	struct tcp2_smtp *s = arg;
	struct content *c = s->cnt;
	const uint8_t *p = buf;
	size_t i, run = 0;
	int rc, cr;

	for (i = 0; i < len; i++) {
		cr = 0;
		if (p[i] == '.' && (!c->any || c->prev == '\r' ||
		    c->prev == '\n')) {
			if ((rc = emit(s, p + run, i - run)) != 0 ||
			    (rc = emit(s, ".", 1)) != 0)
				return rc;
			run = i;
		} else if (p[i] == '\n' && c->lfnorm && (!c->any ||
		    c->prev != '\r')) {
			if ((rc = emit(s, p + run, i - run)) != 0 ||
			    (rc = emit(s, "\r", 1)) != 0)
				return rc;
			run = i;
			cr = 1;
		}
		c->prev2 = cr ? '\r' : c->prev;
		c->prev = p[i];
		c->any = 1;
	}
	return emit(s, p + run, len - run);
}

/* ---- content: sinks ---- */

static int
content_new(struct tcp2_smtp *s, enum plan plan, struct outcome *oc)
{
	struct content *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return TCP2_ENOMEM;
	c->buf = malloc(SMTP_HDR_MAX);
	if (c->buf == NULL) {
		free(c);
		return TCP2_ENOMEM;
	}
	c->cap = SMTP_HDR_MAX;
	c->plan = plan;
	c->sink = SK_HDR;
	c->ds = D_BOL;
	c->oc = oc;
	s->cnt = c;
	return 0;
}

static void
content_free(struct tcp2_smtp *s)
{
	struct content *c = s->cnt;

	if (c == NULL)
		return;
	tcp2_msg_enc_free(c->enc);
	tcp2_psig_signer_free(c->sig);
	if (c->buf != NULL)
		tcp2_crypto_wipe(c->buf, c->cap);
	free(c->buf);
	free(c->dots);
	free(c->oc);
	tcp2_crypto_wipe(c, sizeof(*c));
	free(c);
	s->cnt = NULL;
}

/* Message bytes a stage holds whose output is not written yet. */
static size_t
content_down(const struct content *c)
{
	switch (c->sink) {
	case SK_HDR:
	case SK_KEYX:
		return c->nbuf;
	case SK_ENC:
		return tcp2_msg_enc_held(c->enc);
	default:
		return 0;
	}
}

/* Remember a removed stuffing dot; forget those whose output is out. */
static int
dot_removed(struct content *c)
{
	uint64_t start = c->msg_total - content_down(c), *nd;
	size_t ncap;

	while (c->dn > 0 && c->dots[c->dhead] < start) {
		c->dhead++;
		c->dn--;
	}
	if (c->dhead + c->dn == c->dcap) {
		if (c->dhead > 0) {
			memmove(c->dots, c->dots + c->dhead,
			    c->dn * sizeof(*c->dots));
			c->dhead = 0;
		} else {
			ncap = c->dcap ? c->dcap * 2 : 256;
			nd = realloc(c->dots, ncap * sizeof(*nd));
			if (nd == NULL)
				return TCP2_ENOMEM;
			c->dots = nd;
			c->dcap = ncap;
		}
	}
	c->dots[c->dhead + c->dn++] = c->msg_total;
	return 0;
}

static size_t
content_held(const struct content *c)
{
	size_t down = content_down(c), n = 0, i;
	uint64_t start = c->msg_total - down;

	for (i = c->dn; i > 0 && c->dots[c->dhead + i - 1] >= start; i--)
		n++;
	return down + n + (c->ds == D_DOT ? 1 : c->ds == D_DOTCR ? 2 : 0);
}

static int msg_write(struct tcp2_smtp *, const uint8_t *, size_t);

/* Open the stage the plan names and pass it the buffered header. */
static int
sink_open(struct tcp2_smtp *s, enum plan plan)
{
	const struct tcp2_account *a = account_of(s);
	struct content *c = s->cnt;
	struct tcp2_msg_enc_params p;
	size_t n;
	int rc = 0;

	if (a == NULL)
		plan = P_PLAIN;
	if (plan == P_ENC) {
		memset(&p, 0, sizeof(p));
		p.keys = (const uint8_t (*)[TCP2_MSG_KEY_LEN])c->keys;
		p.nkeys = c->nkeys;
		p.sign_sec = a->ed_sec;
		p.sign_addr = a->addr;
		p.fixed_mk = s->fixed ? s->fixed_mk : NULL;
		p.fixed_salt = s->fixed ? s->fixed_salt : NULL;
		p.out = stuff_out;
		p.arg = s;
		rc = tcp2_msg_enc_new(&c->enc, &p);
		c->sink = SK_ENC;
		c->lfnorm = 1;
		c->oc->mode = M_ENCRYPTED;
	} else if (plan == P_SIGN) {
		rc = tcp2_psig_signer_new(&c->sig, a->ed_sec, a->addr,
		    stuff_out, s);
		c->sink = SK_SIGN;
		c->oc->mode = M_SIGNED;
	} else {
		c->sink = SK_PLAIN;
		if (c->oc->mode != M_REGISTRATION)
			c->oc->mode = M_PLAIN;
	}
	if (rc != 0)
		return rc;
	n = c->nbuf;
	c->nbuf = 0;
	return msg_write(s, c->buf, n);
}

/* The first Subject field is subj (case-insensitive, trimmed). */
static int
subject_is(const uint8_t *buf, size_t len, const char *subj)
{
	struct tcp2_hdr_field f;
	const char *v;
	size_t vl;

	if (!tcp2_hdr_find((const char *)buf, len, "Subject", &f, NULL))
		return 0;
	v = f.value;
	vl = f.valuelen;
	while (vl > 0 && isspace((unsigned char)*v)) {
		v++;
		vl--;
	}
	while (vl > 0 && isspace((unsigned char)v[vl - 1]))
		vl--;
	return vl == strlen(subj) && strncasecmp(v, subj, vl) == 0;
}

/* The single From: address of a header block, or -1. */
static int
header_from(const uint8_t *buf, size_t len, char out[TCP2_ADDR_MAX])
{
	struct tcp2_hdr_field f;
	const char *p = (const char *)buf;
	size_t used;
	int n = 0;

	while (tcp2_hdr_next(p, len, 1, &f, &used) == TCP2_HDR_FIELD) {
		if (tcp2_hdr_is(&f, "From") && n++ == 0 &&
		    tcp2_hdr_addr(f.value, f.valuelen, out) != 0)
			n = 2;
		p += used;
		len -= used;
	}
	return n == 1 ? 0 : -1;
}

/* The header window is complete: what kind of mail is this? */
static int
hdr_decide(struct tcp2_smtp *s)
{
	struct content *c = s->cnt;

	if (s->reg != NULL && s->reg->armed &&
	    subject_is(c->buf, c->nbuf, TCP2_REGISTRATION_SUBJECT)) {
		/* Registration mail goes as it is; its From: is recorded
		 * when the server accepts it. */
		c->oc->mode = M_REGISTRATION;
		if (header_from(c->buf, c->nbuf, c->oc->from) != 0)
			c->oc->from[0] = '\0';
		return sink_open(s, P_PLAIN);
	}
	if (account_of(s) != NULL &&
	    subject_is(c->buf, c->nbuf, TCP2_KEYX_SUBJECT)) {
		if (s->nrcpt == 1 && s->nbad == 0) {
			uint8_t *nb = realloc(c->buf, SMTP_KEYX_MAX);

			if (nb == NULL)
				return TCP2_ENOMEM;
			c->buf = nb;
			c->cap = SMTP_KEYX_MAX;
			c->sink = SK_KEYX;
			return 0;
		}
		event(s, "keyx", "a key-exchange mail needs exactly one "
		    "recipient: sent as an ordinary mail", NULL);
	}
	return sink_open(s, c->plan);
}

/* Parse header fields complete in the window; decide when it ends. */
static int
hdr_feed(struct tcp2_smtp *s, int at_end)
{
	struct content *c = s->cnt;
	struct tcp2_hdr_field f;
	enum tcp2_hdr_status st;
	size_t used;

	while (!c->hdr_ended) {
		st = tcp2_hdr_next((const char *)c->buf + c->hscan,
		    c->nbuf - c->hscan, at_end, &f, &used);
		if (st == TCP2_HDR_MORE)
			break;
		if (st != TCP2_HDR_FIELD)
			c->hdr_ended = 1;
		else
			c->hscan += used;
	}
	if (c->hdr_ended || at_end || c->nbuf == SMTP_HDR_MAX)
		return hdr_decide(s);
	return 0;
}

static int
keyx_fallback(struct tcp2_smtp *s, const char *why)
{
	char text[256];

	snprintf(text, sizeof(text), "not sent as a key exchange: %s; "
	    "sent as an ordinary mail", why);
	event(s, "keyx", text, NULL);
	return sink_open(s, s->cnt->plan);
}

/* Message bytes into the current stage. */
static int
msg_write(struct tcp2_smtp *s, const uint8_t *p, size_t n)
{
	struct content *c = s->cnt;
	size_t k;
	int rc;

	while (n > 0) {
		switch (c->sink) {
		case SK_HDR:
			k = SMTP_HDR_MAX - c->nbuf;
			if (k > n)
				k = n;
			memcpy(c->buf + c->nbuf, p, k);
			c->nbuf += k;
			p += k;
			n -= k;
			if ((rc = hdr_feed(s, 0)) != 0)
				return rc;
			break;
		case SK_KEYX:
			if (n > c->cap - c->nbuf) {
				if ((rc = keyx_fallback(s, "larger than "
				    "32 KiB")) != 0)
					return rc;
				break;
			}
			memcpy(c->buf + c->nbuf, p, n);
			c->nbuf += n;
			return 0;
		case SK_ENC:
			return tcp2_msg_enc_write(c->enc, p, n);
		case SK_SIGN:
			return tcp2_psig_signer_write(c->sig, p, n);
		case SK_PLAIN:
			return stuff_out(s, p, n);
		case SK_DONE:
			return TCP2_ESTATE;
		}
	}
	return 0;
}

/* ---- key-exchange mail ---- */

static int
is_mime_field(const struct tcp2_hdr_field *f)
{
	return tcp2_hdr_is(f, "MIME-Version") ||
	    tcp2_hdr_is(f, "Content-Type") ||
	    tcp2_hdr_is(f, "Content-Transfer-Encoding");
}

/* The user's fields, ours for a plain text part, a text, the block. */
static int
keyx_write(struct tcp2_smtp *s, const char *block, size_t blen,
    int is_reply)
{
	struct content *c = s->cnt;
	struct tcp2_hdr_field f;
	const char *p = (const char *)c->buf;
	size_t len = c->nbuf, used;
	char text[512];
	int rc;

	c->lfnorm = 1;
	while (tcp2_hdr_next(p, len, 1, &f, &used) == TCP2_HDR_FIELD) {
		if (!is_mime_field(&f)) {
			if ((rc = stuff_out(s, p, f.rawlen)) != 0)
				return rc;
			if (p[f.rawlen - 1] != '\n' &&
			    (rc = stuff_out(s, "\r\n", 2)) != 0)
				return rc;
		}
		p += used;
		len -= used;
	}
	snprintf(text, sizeof(text),
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=us-ascii\r\n"
	    "Content-Transfer-Encoding: 7bit\r\n\r\n"
	    "This is a TCP2 Mail key exchange (%s).  TCP2 Mail on the\r\n"
	    "recipient's computer reads it automatically; there is nothing\r\n"
	    "to do with it by hand.\r\n\r\n", is_reply ? "reply" : "request");
	if ((rc = stuff_out(s, text, strlen(text))) != 0)
		return rc;
	return stuff_out(s, block, blen);
}

/* End of a key-exchange mail: replace its body with our block. */
static int
keyx_finish(struct tcp2_smtp *s)
{
	const struct tcp2_account *a = account_of(s);
	struct content *c = s->cnt;
	char from[TCP2_ADDR_MAX], block[SMTP_BLOCK_MAX];
	size_t blen;
	int rc, is_reply = 0;

	if (a == NULL)
		return keyx_fallback(s, "no account");
	/* The receiver checks the mail's From: against the block's. */
	if (header_from(c->buf, c->nbuf, from) != 0 ||
	    strcmp(from, a->addr) != 0)
		return keyx_fallback(s, "its From: is not the account's "
		    "address");
	rc = tcp2_state_keyx_outgoing(s->state, a->addr, s->rcpt[0],
	    now_of(s), "\r\n", block, sizeof(block), &blen, &is_reply);
	if (rc != 0)
		return keyx_fallback(s, tcp2_strerror(rc));
	c->oc->mode = is_reply ? M_KEYX_REPLY : M_KEYX_INIT;
	rc = keyx_write(s, block, blen, is_reply);
	tcp2_crypto_wipe(block, sizeof(block));
	c->sink = SK_DONE;
	return rc;
}

/* ---- content: client side ---- */

/* The client's end of data: finish the stage, send our end of data. */
static int
content_finish(struct tcp2_smtp *s)
{
	struct content *c = s->cnt;
	int rc = 0, sgn = 0;

	if (c->sink == SK_HDR && (rc = hdr_feed(s, 1)) != 0)
		return rc;
	if (c->sink == SK_KEYX && (rc = keyx_finish(s)) != 0)
		return rc;
	if (c->sink == SK_ENC) {
		rc = tcp2_msg_enc_finish(c->enc);
	} else if (c->sink == SK_SIGN) {
		rc = tcp2_psig_signer_finish(c->sig, &sgn);
		if (!sgn)
			c->oc->mode = M_PLAIN;
	}
	if (rc != 0)
		return rc;
	/* Our end of data follows a CRLF, whatever the stage wrote. */
	if (c->any && !(c->prev2 == '\r' && c->prev == '\n') &&
	    (rc = emit(s, "\r\n", 2)) != 0)
		return rc;
	if ((rc = emit(s, ".\r\n", 3)) != 0)
		return rc;
	rc = fifo_push(s, K_DOT, 0, c->oc);
	c->oc = NULL;
	content_free(s);
	s->cmode = C_CMD;
	tx_reset(s);
	return rc;
}

static int
run_flush(struct tcp2_smtp *s, const uint8_t *p, size_t n)
{
	if (n == 0)
		return 0;
	s->cnt->msg_total += n;
	return msg_write(s, p, n);
}

/*
 * Client content: remove dot stuffing at CRLF line starts, find CRLF "."
 * CRLF.  Holds at most ".\r" between calls.  *ended: the end was found,
 * *used counts the bytes up to and including it.
 */
static int
content_feed(struct tcp2_smtp *s, const uint8_t *p, size_t len,
    size_t *used, int *ended)
{
	struct content *c = s->cnt;
	size_t i, run = 0;
	int rc;

	*ended = 0;
	for (i = 0; i < len; i++) {
		switch (c->ds) {
		case D_BOL:
			if (p[i] == '.') {
				if ((rc = run_flush(s, p + run, i - run)) != 0)
					return rc;
				run = i + 1;
				c->ds = D_DOT;
				continue;
			}
			c->ds = p[i] == '\r' ? D_CR : D_MID;
			break;
		case D_MID:
			if (p[i] == '\r')
				c->ds = D_CR;
			break;
		case D_CR:
			c->ds = p[i] == '\n' ? D_BOL : p[i] == '\r' ? D_CR :
			    D_MID;
			break;
		case D_DOT:
			if (p[i] == '\r') {
				run = i + 1;
				c->ds = D_DOTCR;
				continue;
			}
			/* A stuffing dot: removed. */
			if ((rc = dot_removed(c)) != 0)
				return rc;
			c->ds = D_MID;
			break;
		case D_DOTCR:
			if (p[i] == '\n') {
				*used = i + 1;
				*ended = 1;
				return 0;
			}
			/* ".\r" then more: the dot was stuffing, the CR is
			 * content. */
			if ((rc = dot_removed(c)) != 0 ||
			    (rc = run_flush(s, (const uint8_t *)"\r", 1)) != 0)
				return rc;
			c->ds = p[i] == '\r' ? D_CR : D_MID;
			break;
		}
	}
	*used = len;
	return run_flush(s, p + run, len - run);
}

/* ---- commands ---- */

/* SIZE=n of MAIL FROM becomes SIZE=ceil(1.45 n)+4096; 0 if unchanged. */
static size_t
size_rewrite(const uint8_t *l, size_t n, char *out, size_t outlen)
{
	const uint8_t *gt = memchr(l, '>', n);
	size_t i = gt ? (size_t)(gt - l) : 0, j;
	unsigned long long v = 0;
	int k;

	/* Parameters follow the path: never look inside it. */
	for (; i + 5 <= n; i++)
		if (i > 0 && l[i - 1] == ' ' &&
		    strncasecmp((const char *)l + i, "SIZE=", 5) == 0)
			break;
	if (i + 5 > n)
		return 0;
	for (j = i + 5; j < n && isdigit(l[j]) && j - i - 5 < 19; j++)
		v = v * 10 + (unsigned long long)(l[j] - '0');
	if (j == i + 5 || (j < n && l[j] != ' ' && !is_eol(l[j])) ||
	    v > (ULLONG_MAX - SMTP_SIZE_ADD) / SMTP_SIZE_NUM)
		return 0;
	v = (v * SMTP_SIZE_NUM + SMTP_SIZE_DEN - 1) / SMTP_SIZE_DEN +
	    SMTP_SIZE_ADD;
	k = snprintf(out, outlen, "%.*sSIZE=%llu%.*s", (int)i, (const char *)l,
	    v, (int)(n - j), (const char *)l + j);
	return k > 0 && (size_t)k < outlen ? (size_t)k : 0;
}

/*
 * AUTH: may the client send commands before the reply?  Only with an
 * initial response for a mechanism that ends in one round trip (RFC 4954
 * section 4: PLAIN, EXTERNAL); otherwise it waits for a 334 or the end.
 */
static int
auth_oneshot(const uint8_t *l, size_t n)
{
	size_t i = 4, m, e;

	while (i < n && l[i] == ' ')
		i++;
	for (m = i; i < n && l[i] != ' ' && !is_eol(l[i]); i++)
		;
	e = i;
	while (i < n && l[i] == ' ')
		i++;
	if (i >= n || is_eol(l[i]))
		return 0;
	return (e - m == 5 && strncasecmp((const char *)l + m, "PLAIN", 5) ==
	    0) || (e - m == 8 && strncasecmp((const char *)l + m, "EXTERNAL",
	    8) == 0);
}

/*
 * The DATA decision.  Returns 0 with *plan, or 0 with *refuse set and
 * the reply the client must get in oc->reply.
 */
static int
data_decide(struct tcp2_smtp *s, struct content *c, struct outcome *oc,
    int *refuse)
{
	const struct tcp2_account *a = account_of(s);
	const char *ptr[SMTP_RCPT_MAX], *who;
	size_t i, bad = 0;
	int rc;

	*refuse = 0;
	if (a == NULL) {
		c->plan = P_PLAIN;
		return 0;
	}
	for (i = 0; i < s->nrcpt; i++)
		ptr[i] = s->rcpt[i];
	if (s->nbad > 0) {
		rc = TCP2_ENOKEY;
		who = s->bad;
	} else {
		rc = tcp2_state_message_keys(s->state, a, ptr, s->nrcpt,
		    c->keys, &c->nkeys, &bad);
		who = bad < s->nrcpt ? s->rcpt[bad] : "?";
	}
	if (rc == 0) {
		c->plan = P_ENC;
		return 0;
	}
	if ((rc == TCP2_ENOKEY || rc == TCP2_EINVAL) &&
	    a->policy != TCP2_POLICY_STRICT) {
		c->plan = P_SIGN;
		return 0;
	}
	*refuse = 1;
	if (rc == TCP2_ENOKEY || rc == TCP2_EINVAL)
		snprintf(oc->reply, sizeof(oc->reply), "554 5.7.1 TCP2: no "
		    "key for <%s>; message not sent\r\n", who);
	else if (rc == TCP2_ESTATE)
		snprintf(oc->reply, sizeof(oc->reply), "554 5.7.1 TCP2: the "
		    "key of <%s> changed and is not accepted; message not "
		    "sent\r\n", who);
	else
		snprintf(oc->reply, sizeof(oc->reply), "451 4.3.0 TCP2: "
		    "cannot read the keys (%s); try again later\r\n",
		    tcp2_strerror(rc));
	return 0;
}

static int
cmd_data(struct tcp2_smtp *s, const uint8_t *l, size_t n)
{
	const char *fields[5];
	struct outcome *oc = calloc(1, sizeof(*oc));
	char text[1024];
	int rc, refuse;

	if (oc == NULL)
		return TCP2_ENOMEM;
	rcpt_list(s, oc->rcpts, sizeof(oc->rcpts));
	content_free(s);
	if ((rc = content_new(s, P_PLAIN, oc)) != 0) {
		free(oc);
		return rc;
	}
	if ((rc = data_decide(s, s->cnt, oc, &refuse)) != 0)
		return rc;
	if (!refuse) {
		s->blocked = B_DATA;
		if ((rc = fifo_push(s, K_DATA, 0, NULL)) != 0)
			return rc;
		return emit(s, l, n);
	}
	/* The server forgets the transaction, the client hears why. */
	s->cnt->oc = NULL;
	content_free(s);
	snprintf(text, sizeof(text), "mail to %s refused: %.*s", oc->rcpts,
	    (int)(strlen(oc->reply) - 2), oc->reply);
	fields[0] = "recipients";
	fields[1] = oc->rcpts;
	fields[2] = "account";
	fields[3] = s->account;
	fields[4] = NULL;
	event(s, "refused", text, fields);
	tx_reset(s);
	if ((rc = fifo_push(s, K_REFUSED, 0, oc)) != 0)
		return rc;
	return emits(s, "RSET\r\n");
}

/*
 * One command line (complete: with its line end; else the first
 * SMTP_LINE_MAX bytes of a longer one, the rest follows unchanged).
 */
static int
cmd_line(struct tcp2_smtp *s, const uint8_t *l, size_t n, int complete)
{
	enum block blk = B_NONE;
	char buf[SMTP_LINE_MAX + 32];
	size_t idx = 0, bn;
	enum kind k = K_OTHER;
	int rc;

	if (s->sasl_expect) {
		/* SASL data answering a 334, not a command. */
		s->sasl_expect = 0;
		blk = B_AUTH;
		rc = emit(s, l, n);
		goto out;
	}
	if (verb_is(l, n, "DATA")) {
		if (!complete)
			return TCP2_EABORT;
		return cmd_data(s, l, n);
	}
	if (verb_is(l, n, "BDAT")) {
		event(s, "error", "the client sent BDAT, which TCP2 cannot "
		    "follow safely: connection reset", NULL);
		return TCP2_EABORT;
	}
	if (verb_is(l, n, "EHLO") || verb_is(l, n, "HELO")) {
		k = l[0] == 'E' || l[0] == 'e' ? K_EHLO : K_HELO;
		tx_reset(s);
	} else if (verb_is(l, n, "AUTH")) {
		k = K_AUTH;
		if (!auth_oneshot(l, n))
			blk = B_AUTH;
	} else if (verb_is(l, n, "MAIL")) {
		k = K_MAIL;
		tx_reset(s);
		if (complete && account_of(s) != NULL &&
		    (bn = size_rewrite(l, n, buf, sizeof(buf))) > 0) {
			if ((rc = fifo_push(s, k, 0, NULL)) != 0)
				return rc;
			return emit(s, buf, bn);
		}
	} else if (verb_is(l, n, "RCPT")) {
		k = K_RCPT;
		idx = rcpt_add(s, l, n, complete);
	} else if (verb_is(l, n, "RSET")) {
		k = K_RSET;
		tx_reset(s);
	} else if (verb_is(l, n, "STARTTLS")) {
		k = K_STARTTLS;
		blk = B_STARTTLS;
	} else if (verb_is(l, n, "QUIT")) {
		k = K_QUIT;
	}
	if ((rc = fifo_push(s, k, idx, NULL)) != 0)
		return rc;
	rc = emit(s, l, n);
out:
	if (complete)
		s->blocked = blk;
	else
		s->eol_block = blk;
	return rc;
}

/* Client bytes in command mode, until blocked or out of input. */
static int
cmd_feed(struct tcp2_smtp *s, const uint8_t *p, size_t len, size_t *used)
{
	const uint8_t *nl;
	size_t i = 0, n;
	int rc = 0;

	while (i < len && rc == 0 && s->blocked == B_NONE) {
		if (s->clong) {
			nl = memchr(p + i, '\n', len - i);
			n = nl ? (size_t)(nl - (p + i)) + 1 : len - i;
			rc = emit(s, p + i, n);
			i += n;
			if (nl != NULL) {
				s->clong = 0;
				s->blocked = s->eol_block;
				s->eol_block = B_NONE;
			}
			continue;
		}
		n = SMTP_LINE_MAX - s->ncmd;
		if (n > len - i)
			n = len - i;
		nl = memchr(p + i, '\n', n);
		if (nl != NULL)
			n = (size_t)(nl - (p + i)) + 1;
		memcpy(s->cmd + s->ncmd, p + i, n);
		s->ncmd += n;
		i += n;
		if (nl != NULL) {
			rc = cmd_line(s, s->cmd, s->ncmd, 1);
			s->ncmd = 0;
		} else if (s->ncmd == SMTP_LINE_MAX) {
			/* Too long to hold: pass it, stay in command mode. */
			rc = cmd_line(s, s->cmd, s->ncmd, 0);
			s->ncmd = 0;
			s->clong = 1;
		}
	}
	*used = i;
	return rc;
}

/* Client bytes: commands or content, until blocked. */
static int
c2s_run(struct tcp2_smtp *s, const uint8_t *p, size_t len, size_t *used)
{
	size_t i = 0, k = 0;
	int rc = 0, ended;

	while (i < len && rc == 0 && s->blocked == B_NONE) {
		if (s->pass) {
			rc = emit(s, p + i, len - i);
			i = len;
		} else if (s->cmode == C_CONTENT) {
			rc = content_feed(s, p + i, len - i, &k, &ended);
			i += k;
			if (rc == 0 && ended)
				rc = content_finish(s);
		} else {
			rc = cmd_feed(s, p + i, len - i, &k);
			i += k;
		}
	}
	*used = i;
	return rc;
}

static int
pend_add(struct tcp2_smtp *s, const uint8_t *p, size_t len)
{
	if (len > SMTP_PEND_MAX - s->npend) {
		event(s, "error", "the client sent too much before the "
		    "server's answer: connection reset", NULL);
		return TCP2_EABORT;
	}
	if (s->pend == NULL && (s->pend = malloc(SMTP_PEND_MAX)) == NULL)
		return TCP2_ENOMEM;
	memcpy(s->pend + s->npend, p, len);
	s->npend += len;
	return 0;
}

static int
c2s_feed(struct tcp2_smtp *s, const uint8_t *in, size_t len)
{
	size_t used;
	int rc;

	if (s->npend > 0 || s->blocked != B_NONE) {
		if ((rc = pend_add(s, in, len)) != 0)
			return rc;
		rc = c2s_run(s, s->pend, s->npend, &used);
		memmove(s->pend, s->pend + used, s->npend - used);
		s->npend -= used;
		return rc;
	}
	rc = c2s_run(s, in, len, &used);
	if (rc == 0 && used < len)
		rc = pend_add(s, in + used, len - used);
	return rc;
}

/* ---- replies ---- */

static void
registration_done(struct tcp2_smtp *s, const char *from)
{
	struct tcp2_registration *r = s->reg;
	const struct tcp2_account *old;
	struct tcp2_account a;
	const char *fields[7];
	char text[1024];
	int rc;

	if (r == NULL || !r->armed)
		return;
	if (from[0] == '\0') {
		event(s, "registration", "registration mail accepted, but it "
		    "has no single From: address", NULL);
		return;
	}
	snprintf(r->smtp, sizeof(r->smtp), "%s", s->endpoint);
	snprintf(r->addr, sizeof(r->addr), "%s", from);
	r->have_smtp = 1;
	if (!r->have_pop3)
		return;
	memset(&a, 0, sizeof(a));
	snprintf(a.addr, sizeof(a.addr), "%s", r->addr);
	snprintf(a.user, sizeof(a.user), "%s", r->user);
	snprintf(a.password, sizeof(a.password), "%s", r->password);
	snprintf(a.pop3, sizeof(a.pop3), "%s", r->pop3);
	snprintf(a.smtp, sizeof(a.smtp), "%s", r->smtp);
	/* Registering again keeps the account's policy. */
	old = tcp2_state_account(s->state, a.addr);
	a.policy = old != NULL ? old->policy : TCP2_POLICY_SIGNED;
	rc = tcp2_state_account_update(s->state, &a);
	tcp2_crypto_wipe(&a, sizeof(a));
	fields[0] = "address";
	fields[1] = r->addr;
	fields[2] = "smtp";
	fields[3] = r->smtp;
	fields[4] = "pop3";
	fields[5] = r->pop3;
	fields[6] = NULL;
	if (rc != 0) {
		snprintf(text, sizeof(text), "registration of %s failed: %s",
		    r->addr, tcp2_strerror(rc));
		event(s, "registration", text, fields);
		return;
	}
	snprintf(text, sizeof(text), "registered %s (SMTP %s, POP3 %s)",
	    r->addr, r->smtp, r->pop3);
	event(s, "registration", text, fields);
	tcp2_crypto_wipe(r->password, sizeof(r->password));
	r->armed = 0;
}

static void
dot_reply(struct tcp2_smtp *s, const struct outcome *oc, int code)
{
	static const char *const names[] = {
		[M_ENCRYPTED] = "encrypted",
		[M_SIGNED] = "signed plaintext",
		[M_PLAIN] = "unsigned plaintext",
		[M_KEYX_INIT] = "key-exchange request",
		[M_KEYX_REPLY] = "key-exchange reply",
		[M_REGISTRATION] = "registration (plaintext)",
	};
	const char *fields[7];
	char text[700];

	if (oc == NULL || code / 100 != 2)
		return;
	fields[0] = "recipients";
	fields[1] = oc->rcpts;
	fields[2] = "mode";
	fields[3] = names[oc->mode];
	fields[4] = "account";
	fields[5] = s->account;
	fields[6] = NULL;
	if (oc->mode == M_KEYX_INIT || oc->mode == M_KEYX_REPLY) {
		snprintf(text, sizeof(text), "sent %s to %s", names[oc->mode],
		    oc->rcpts);
		event(s, "keyx", text, fields);
		return;
	}
	snprintf(text, sizeof(text), "mail to %s sent %s", oc->rcpts,
	    names[oc->mode]);
	event(s, "sent", text, fields);
	if (oc->mode == M_REGISTRATION)
		registration_done(s, oc->from);
}

/* A complete reply to the command at the head of the queue. */
static int
reply_done(struct tcp2_smtp *s, int code)
{
	static const char *const tls_fields[] = { NULL };
	struct pcmd *h = fifo_head(s);
	char text[512];

	/* The server reads content only after a 354 to a DATA we saw:
	 * anything else means we lost track, and content could leak. */
	if (code == 354 && (h == NULL || h->kind != K_DATA))
		return TCP2_EABORT;
	if (h == NULL)
		return 0;		/* unsolicited, e.g. 421 */
	switch (h->kind) {
	case K_AUTH:
		if (code == 334) {
			s->sasl_expect = 1;
			if (s->blocked == B_AUTH)
				s->blocked = B_NONE;
			return 0;	/* the exchange goes on */
		}
		s->sasl_expect = 0;
		if (s->blocked == B_AUTH)
			s->blocked = B_NONE;
		break;
	case K_RCPT:
		if (h->gen == s->gen && h->idx < s->nrcpt)
			s->accepted[h->idx] = code / 100 == 2;
		break;
	case K_DATA:
		if (code == 354 && s->cnt != NULL)
			s->cmode = C_CONTENT;
		else
			content_free(s);
		if (s->blocked == B_DATA)
			s->blocked = B_NONE;
		break;
	case K_DOT:
		dot_reply(s, h->oc, code);
		break;
	case K_STARTTLS:
		if (s->blocked == B_STARTTLS)
			s->blocked = B_NONE;
		if (code == 220) {
			s->pass = 1;
			snprintf(text, sizeof(text), "the session to %s uses "
			    "STARTTLS: TLS sessions cannot be protected by "
			    "TCP2, mail in it is sent as the client sends it",
			    s->endpoint[0] ? s->endpoint : "the server");
			event(s, "tls", text, tls_fields);
		}
		break;
	default:
		break;
	}
	fifo_pop(s);
	return 0;
}

static int
reply_code(const uint8_t *l, size_t n)
{
	if (n < 3 || !isdigit(l[0]) || !isdigit(l[1]) || !isdigit(l[2]))
		return -1;
	return (l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0');
}

/* An EHLO keyword line we hide: CHUNKING, BINARYMIME. */
static int
ehlo_hidden(const uint8_t *l, size_t n)
{
	size_t e;

	for (e = 4; e < n && l[e] != ' ' && !is_eol(l[e]); e++)
		;
	return (e - 4 == 8 && strncasecmp((const char *)l + 4, "CHUNKING",
	    8) == 0) || (e - 4 == 10 && strncasecmp((const char *)l + 4,
	    "BINARYMIME", 10) == 0);
}

static int
hold_flush(struct tcp2_smtp *s)
{
	int rc = emit(s, s->hold, s->nhold);

	s->nhold = 0;
	return rc;
}

/*
 * A line of a 250 EHLO reply.  Each kept line waits for the next one, so
 * that when the last line is one we remove, the one before it can become
 * the last ("250-" to "250 ").
 */
static int
ehlo_line(struct tcp2_smtp *s, const uint8_t *l, size_t n, int final)
{
	int rc;

	if (s->r_lines > 1 && n > 4 && ehlo_hidden(l, n)) {
		if (!final)
			return 0;
		if (s->nhold > 4) {
			s->hold[3] = ' ';
			return hold_flush(s);
		}
		/* Nothing to end the reply with: keep this line. */
	}
	if ((rc = hold_flush(s)) != 0)
		return rc;
	if (final)
		return emit(s, l, n);
	memcpy(s->hold, l, n);
	s->nhold = n;
	return 0;
}

/* The first (or only) piece of a reply line. */
static int
s2c_begin(struct tcp2_smtp *s, const uint8_t *l, size_t n, int complete,
    int *final)
{
	struct pcmd *h = fifo_head(s);
	enum kind k = h != NULL ? h->kind : K_OTHER;
	int code = reply_code(l, n), rc;

	*final = code < 0 || n <= 3 || l[3] != '-';
	if (!s->in_reply) {
		s->in_reply = 1;
		s->r_lines = 0;
		s->r_drop = k == K_REFUSED && code / 100 == 2;
	}
	s->r_lines++;
	s->r_code = code;
	if (s->r_drop) {
		s->dropped += n;
		return s->dropped > SMTP_DROP_MAX ? TCP2_EABORT : 0;
	}
	if (k == K_EHLO && code == 250 && complete)
		return ehlo_line(s, l, n, *final);
	if ((rc = hold_flush(s)) != 0)
		return rc;
	return emit(s, l, n);
}

/* More bytes of a long reply line. */
static int
s2c_more(struct tcp2_smtp *s, const uint8_t *p, size_t n)
{
	if (s->r_drop) {
		s->dropped += n;
		return s->dropped > SMTP_DROP_MAX ? TCP2_EABORT : 0;
	}
	return emit(s, p, n);
}

/* The last line of a reply ended. */
static int
s2c_end(struct tcp2_smtp *s)
{
	struct pcmd *h = fifo_head(s);
	int rc;

	s->in_reply = 0;
	if (s->r_drop) {
		s->r_drop = 0;
		s->dropped = 0;
		if (h != NULL && h->oc != NULL &&
		    (rc = emits(s, h->oc->reply)) != 0)
			return rc;
	}
	return reply_done(s, s->r_code);
}

static int
s2c_feed(struct tcp2_smtp *s, const uint8_t *in, size_t len)
{
	const uint8_t *nl;
	size_t i = 0, n;
	int rc = 0, final;

	while (i < len && rc == 0) {
		if (s->pass)
			return emit(s, in + i, len - i);
		if (s->slong) {
			nl = memchr(in + i, '\n', len - i);
			n = nl ? (size_t)(nl - (in + i)) + 1 : len - i;
			rc = s2c_more(s, in + i, n);
			i += n;
			if (rc == 0 && nl != NULL) {
				s->slong = 0;
				if (s->slong_final)
					rc = s2c_end(s);
			}
			continue;
		}
		n = SMTP_LINE_MAX - s->nline;
		if (n > len - i)
			n = len - i;
		nl = memchr(in + i, '\n', n);
		if (nl != NULL)
			n = (size_t)(nl - (in + i)) + 1;
		memcpy(s->line + s->nline, in + i, n);
		s->nline += n;
		i += n;
		if (nl != NULL) {
			rc = s2c_begin(s, s->line, s->nline, 1, &final);
			s->nline = 0;
			if (rc == 0 && final)
				rc = s2c_end(s);
		} else if (s->nline == SMTP_LINE_MAX) {
			rc = s2c_begin(s, s->line, s->nline, 0, &final);
			s->nline = 0;
			s->slong = 1;
			s->slong_final = final;
		}
	}
	return rc;
}

/* ---- the interface ---- */

int
tcp2_smtp_new(struct tcp2_smtp **sp, const struct tcp2_rw_env *env)
{
	struct tcp2_smtp *s;

	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return TCP2_ENOMEM;
	s->fifo = calloc(SMTP_FIFO_MAX, sizeof(*s->fifo));
	s->rcpt = calloc(SMTP_RCPT_MAX, sizeof(*s->rcpt));
	s->accepted = calloc(SMTP_RCPT_MAX, 1);
	if (s->fifo == NULL || s->rcpt == NULL || s->accepted == NULL) {
		tcp2_smtp_free(s);
		return TCP2_ENOMEM;
	}
	s->state = env->state;
	if (env->account != NULL && env->state != NULL &&
	    tcp2_addr_norm(env->account, s->account) == 0)
		s->has_account = 1;
	snprintf(s->endpoint, sizeof(s->endpoint), "%s",
	    env->endpoint ? env->endpoint : "");
	s->reg = env->reg;
	s->event = env->event;
	s->event_arg = env->event_arg;
	s->now = env->now;
	/* No account and no registration: nothing to do but copy. */
	s->pass = !s->has_account && s->reg == NULL;
	/* The server speaks first. */
	(void)fifo_push(s, K_GREETING, 0, NULL);
	*sp = s;
	return 0;
}

int
tcp2_smtp_feed(struct tcp2_smtp *s, enum tcp2_dir dir, const uint8_t *in,
    size_t len, tcp2_out_fn out, void *arg)
{
	int rc;

	if (s->dead)
		return TCP2_EABORT;
	if (len == 0)
		return 0;
	s->out = out;
	s->arg = arg;
	rc = dir == TCP2_C2S ? c2s_feed(s, in, len) : s2c_feed(s, in, len);
	if (rc != 0) {
		/* Never pass on what could not be transformed. */
		s->dead = 1;
		rc = TCP2_EABORT;
	}
	return rc;
}

int
tcp2_smtp_end(struct tcp2_smtp *s, enum tcp2_dir dir, tcp2_out_fn out,
    void *arg)
{
	size_t used;
	int rc = 0;

	if (s->dead)
		return TCP2_EABORT;
	s->out = out;
	s->arg = arg;
	if (dir == TCP2_S2C) {
		/* The server is gone: what it said reaches the client. */
		if ((rc = hold_flush(s)) == 0 && !s->r_drop)
			rc = emit(s, s->line, s->nline);
		s->nline = 0;
		return rc == 0 ? 0 : TCP2_EABORT;
	}
	if (s->npend > 0 && s->blocked == B_NONE) {
		rc = c2s_run(s, s->pend, s->npend, &used);
		memmove(s->pend, s->pend + used, s->npend - used);
		s->npend -= used;
	}
	/* A message cut short is never completed; held bytes whose meaning
	 * depends on a reply that cannot come now are not guessed at. */
	if (rc != 0 || (!s->pass && (s->cmode == C_CONTENT || s->npend > 0))) {
		s->dead = 1;
		return TCP2_EABORT;
	}
	if (s->pass) {
		rc = emit(s, s->pend, s->npend);
		s->npend = 0;
	}
	/* A last command without its line end goes as it is. */
	if (rc == 0)
		rc = emit(s, s->cmd, s->ncmd);
	s->ncmd = 0;
	return rc == 0 ? 0 : TCP2_EABORT;
}

size_t
tcp2_smtp_held(const struct tcp2_smtp *s, enum tcp2_dir dir)
{
	if (dir == TCP2_S2C)
		return s->nline + s->nhold + s->dropped;
	return s->ncmd + s->npend + (s->cmode == C_CONTENT && s->cnt ?
	    content_held(s->cnt) : 0);
}

int
tcp2_smtp_is_passthrough(const struct tcp2_smtp *s)
{
	return s->pass;
}

void
tcp2_smtp_test_fixed_keys(struct tcp2_smtp *s,
    const uint8_t mk[TCP2_MSG_KEY_LEN], const uint8_t salt[TCP2_MSG_SALT_LEN])
{
	memcpy(s->fixed_mk, mk, sizeof(s->fixed_mk));
	memcpy(s->fixed_salt, salt, sizeof(s->fixed_salt));
	s->fixed = 1;
}

void
tcp2_smtp_free(struct tcp2_smtp *s)
{
	if (s == NULL)
		return;
	content_free(s);
	while (s->fn > 0)
		fifo_pop(s);
	free(s->fifo);
	free(s->rcpt);
	free(s->accepted);
	free(s->pend);
	tcp2_crypto_wipe(s, sizeof(*s));
	free(s);
}
