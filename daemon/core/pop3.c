/*
 * pop3.c - the POP3 session rewriter (RFC 1939; RFC 2449 CAPA and
 * PIPELINING; RFC 5034 SASL; RFC 2595 STLS).  Contract: rewriter.h.
 *
 * Client to server: command lines are read (CRLF, bare LF accepted, at
 * most POP3_LINE_MAX octets kept), copied on, and queued, because a client
 * may pipeline: each server response belongs to the oldest queued command,
 * which says whether it is one line or a dot-terminated block.  While an
 * AUTH exchange runs, client lines are SASL data, not commands.
 *
 * Server to client: only message blocks (RETR, and TOP, see below) are
 * rewritten; every other line is copied as it comes.  A message block is
 * un-dot-stuffed as it arrives and its header block is held, at most
 * POP3_HDR_MAX wire octets, until its blank line.  Then:
 *  - a TCP2 message is decrypted as it streams (message.h), server trace
 *    fields (Return-Path, Received, ...) first: the client receives the
 *    original byte for byte;
 *  - a key-exchange mail is buffered whole, given to the state
 *    (tcp2_state_keyx_recv), and the client receives a short notice mail
 *    saying what happened instead of it;
 *  - any other message goes through the plaintext-signature verifier
 *    (plainsig.h), which copies it and strips a final, verified,
 *    "TCP2-Signature:" line;
 *  - a header block longer than the window is not examined: the message
 *    passes unchanged.
 * The result is dot-stuffed again on its way out.
 *
 * Decisions visible to the client:
 *  - Octet counts.  The "+OK" line of RETR and the sizes of LIST are the
 *    server's and describe its copy; the client receives the decrypted
 *    original (or a notice), of another size.  RFC 1939 makes the RETR
 *    count informational; clients use LIST sizes for progress and limits.
 *  - Line ends.  POP3 needs CRLF on the wire.  A decrypted original with
 *    bare LF line ends is sent with CRLF (a bare LF becomes CRLF; a CR
 *    already there is kept), as any POP3 server would send it.  A message
 *    that does not end with a line end gets a CRLF before the dot.
 *  - TOP n k.  A partial TCP2 message cannot be decrypted, so when a
 *    store is there the client's "TOP n k" goes to the server as "RETR n"
 *    and the rewriter cuts what the client receives to the header, the
 *    blank line and k body lines of the decrypted (or plain) message:
 *    exactly what TOP gives for the original.  The cost is the whole
 *    message crossing the network for a header preview.
 *  - CAPA is copied unchanged.  STLS stays: a client configured for TLS
 *    must keep working (such sessions are passed through and reported
 *    "tls": not protected).  PIPELINING stays: the command queue handles
 *    it.  TOP stays: it is emulated as above.
 *  - Failure.  When decryption fails the rewriter returns TCP2_EABORT
 *    before the message's terminating dot reaches the client: the client
 *    never has a complete message and will not DELE it, and the session
 *    ends without QUIT, so the server deletes nothing (SPLICE-NOTES).
 *    Plaintext released before the failure may have reached the client in
 *    an incomplete response it discards.  The message's ID goes to the
 *    failed set, and its next retrieval passes the ciphertext unchanged,
 *    so that a message that cannot be read does not block the mailbox.
 *  - A forged or unverified message is delivered and reported ("received"
 *    event); a replay (the same message retrieved again, e.g. "leave on
 *    server") is reported only.
 *  - The end of a block is exactly ".\r\n" at the start of a line (after
 *    LF or CRLF); any other line starting with "." lost its first dot.
 *  - Registration (rewriter.h) takes the login of USER/PASS, APOP (name
 *    only: APOP never shows the password) or AUTH PLAIN / LOGIN when the
 *    server answers +OK; other SASL mechanisms hide the password and are
 *    not recorded.  Events never carry a password.
 *  - A command line over POP3_LINE_MAX is copied as it is and never
 *    rewritten (an overlong TOP stays TOP); its verb keeps the queue in
 *    step.
 *
 * Bounds (held octets per direction never exceed TCP2_RW_MAX_HELD):
 * client: one command line (1024).  Server: one status line (1024), or in
 * a message: the header window (32 KiB), or a key-exchange mail
 * (POP3_KEYX_MAX = TCP2_RW_MAX_HELD - 1 KiB = 47 KiB: the 64 KiB wished
 * for does not fit the engine's 48 KiB; real key-exchange mails are about
 * 3 KiB; a larger one passes unchanged and is reported), or the
 * decoder's lag (one AEAD chunk, about 22 KiB of base64 on the wire; a
 * message that would need more than TCP2_RW_MAX_HELD is treated as
 * undecryptable).  tcp2_pop3_held counts, in wire octets, what is held in
 * these buffers; for the decoder and the verifier it counts the wire
 * octets since the start of the line during which they last released
 * output (the decoder's 65-octet trailer window excepted).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "account.h"
#include "base64.h"
#include "crypto.h"
#include "error.h"
#include "header.h"
#include "hold.h"
#include "keyx.h"
#include "message.h"
#include "mime.h"
#include "mimedec.h"
#include "peer.h"
#include "plainsig.h"
#include "pop3.h"
#include "quarantine.h"
#include "state.h"

#define POP3_LINE_MAX	1024			/* command / status line kept */
#define POP3_HDR_MAX	(32u * 1024)		/* header window, wire octets */
#define POP3_KEYX_MAX	(TCP2_RW_MAX_HELD - 1024) /* key-exchange mail */
#define POP3_FIFO_MAX	4096			/* commands awaiting responses */
#define POP3_OBUF	16384			/* output batching */
#define POP3_NOTICE_MAX	8192
#define POP3_REPLY_MAX	16384			/* keyx_recv's reply, unused */
#define POP3_EXAMINE_MAX (24u << 20)		/* a RETR examined whole */

_Static_assert(POP3_HDR_MAX <= TCP2_RW_MAX_HELD,
    "the header window must fit the held-bytes bound");
_Static_assert(POP3_KEYX_MAX >= POP3_HDR_MAX,
    "the key-exchange buffer holds the header window too");

enum cmd_kind {
	C_GREETING, C_USER, C_PASS, C_APOP, C_AUTH, C_CAPA, C_STAT, C_LIST,
	C_UIDL, C_TOP, C_RETR, C_DELE, C_RSET, C_NOOP, C_QUIT, C_STLS,
	C_LANG, C_OTHER,
};

/* A command awaiting its response. */
struct cmd {
	enum cmd_kind kind;
	int multi;		/* +OK starts a dot-terminated block */
	int message;		/* the block is a message (RETR, TOP as RETR) */
	int truncate;		/* TOP sent as RETR: keep top body lines */
	unsigned long top;
};

enum rstate {
	R_STATUS,		/* reading a status line */
	R_RAW,			/* a block copied as it is (LIST, UIDL, ...) */
	R_MSG,			/* a message block */
};

enum mmode {
	M_DETECT,		/* holding the header block */
	M_RAW,			/* passing the message unchanged */
	M_DECRYPT,		/* a TCP2 message */
	M_KEYX,			/* a key-exchange mail, buffered */
	M_PLAIN,		/* through the plaintext-signature verifier */
	M_SKIP,			/* replaced by a released quarantine copy */
};

enum sasl {
	SASL_NONE, SASL_PLAIN, SASL_LOGIN, SASL_OTHER,
};

struct tcp2_pop3 {
	struct tcp2_rw_env env;
	int dead;		/* aborted: every call fails */
	int pass;		/* copying both ways for good (TLS) */
	int c_seen, s_seen;	/* first octet of a direction seen */

	/* Client to server. */
	char cline[POP3_LINE_MAX];
	size_t clen;
	int c_long;		/* inside an overlong line: copy to its end */
	enum sasl sasl;		/* an AUTH exchange is under way */
	int sasl_step;

	/* Commands awaiting their response, a ring. */
	struct cmd *q;
	size_t qcap, qhead, qlen;

	/* The login being tried, for registration; wiped after use. */
	char user[TCP2_USER_MAX];
	char password[TCP2_PASSWORD_MAX];

	/* Server to client. */
	enum rstate rs;
	char sline[POP3_LINE_MAX];
	size_t slen;
	int s_long;		/* inside an overlong status line */
	struct cmd cur;		/* the command the current block answers */
	int bol;		/* at the start of a block line */
	int dot;		/* 1: "." seen there, 2: ".\r" seen */

	/* The message block being rewritten. */
	enum mmode mode;
	uint64_t mwire;		/* wire octets of the block so far */
	uint64_t mrep;		/* of those, represented in the output */
	uint64_t lstart;	/* wire offset of the current line */
	char *mbuf;		/* header / key-exchange mail, unstuffed */
	size_t mlen, mline;	/* length; offset of the current line */
	size_t curlen;		/* unstuffed octets of the current line */
	size_t prevlen;		/* and of the last complete one */
	int curdot, prevdot;	/* a stuffing dot removed: this/last line */
	uint8_t id[TCP2_MSG_SALT_LEN];
	struct tcp2_msg_dec *dec;
	struct tcp2_psig_verifier *ver;

	/* Hold (hold.h): a RETR response is collected whole, as the server
	 * sent it (qorig) and as the client would get it (qout), examined,
	 * then passed on, or kept in quarantine and replaced by a notice.
	 * Nothing reaches the client before the decision. */
	int hq;			/* collecting this message */
	int h_toobig;		/* over POP3_EXAMINE_MAX: held unexamined */
	struct tcp2_buf qorig, qout;
	int h_sig;		/* enum tcp2_sig_status, -1: not signed */
	int h_undecryptable;
	int h_decfail;		/* failed mid-way: its output is dropped */
	size_t reserved;	/* of env.budget, for qorig and qout */
	char rel_id[TCP2_HELD_ID_LEN];	/* M_SKIP: the released mail */

	/* TOP emulation: header, blank line, tr_left body lines. */
	int tr_hdr, tr_done;
	unsigned long tr_left;
	size_t tr_len;		/* octets of the current line so far */
	int tr_first;		/* its first octet */

	/* Dot-stuffing of the output. */
	int st_bol, st_cr, st_conv;

	/* Output of the current call, batched. */
	tcp2_out_fn out;
	void *arg;
	int out_err;
	uint8_t obuf[POP3_OBUF];
	size_t olen;
};

static int msg_fail(struct tcp2_pop3 *, int);
static int hq_out(struct tcp2_pop3 *, const char *, size_t);
static int hq_reserve(struct tcp2_pop3 *, size_t);
static int hq_hold_undecryptable(const struct tcp2_pop3 *);
static void hq_stop(struct tcp2_pop3 *);
static int released(struct tcp2_pop3 *);

/* ---- small helpers ---- */

static uint64_t
now(const struct tcp2_pop3 *s)
{
	return s->env.now ? s->env.now() : (uint64_t)time(NULL);
}

static const char *
nz(const char *p)
{
	return p ? p : "";
}

static void
event(const struct tcp2_pop3 *s, const char *type, const char *text,
    const char *const *fields)
{
	if (s->env.event != NULL)
		s->env.event(s->env.event_arg, type, text, fields);
}

static void
hex(char *out, const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static int
unhex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Copy a value from the network into a NUL-terminated buffer; too long or
 * with control characters: empty (it is only used for registration). */
static void
copy_value(char *dst, size_t dstlen, const char *src, size_t n)
{
	size_t i;

	dst[0] = '\0';
	if (n >= dstlen)
		return;
	for (i = 0; i < n; i++)
		if ((unsigned char)src[i] < 0x20 || src[i] == 0x7f)
			return;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* ---- output ---- */

static int
emit_flush(struct tcp2_pop3 *s)
{
	int rc;

	if (s->olen == 0 || s->out_err)
		return s->out_err;
	rc = s->out(s->arg, s->obuf, s->olen);
	tcp2_crypto_wipe(s->obuf, s->olen);
	s->olen = 0;
	if (rc != 0)
		s->out_err = rc;
	return rc;
}

static int
emit(struct tcp2_pop3 *s, const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t k;
	int rc;

	if (s->out_err)
		return s->out_err;
	if (n >= sizeof(s->obuf)) {
		/* Large runs go straight out, in order. */
		if ((rc = emit_flush(s)) != 0)
			return rc;
		if ((rc = s->out(s->arg, b, n)) != 0)
			s->out_err = rc;
		return rc;
	}
	while (n > 0) {
		if (s->olen == sizeof(s->obuf) && (rc = emit_flush(s)) != 0)
			return rc;
		k = sizeof(s->obuf) - s->olen;
		if (k > n)
			k = n;
		memcpy(s->obuf + s->olen, b, k);
		s->olen += k;
		b += k;
		n -= k;
	}
	return 0;
}

/*
 * Message octets on their way to the client, dot-stuffed again.  With
 * st_conv a bare LF becomes CRLF (POP3 needs CRLF; the original may have
 * had LF line ends).
 */
static int
stuff_write(struct tcp2_pop3 *s, const char *p, size_t n)
{
	const char *nl;
	size_t k;
	int rc, cr;

	while (n > 0) {
		if (s->st_bol && p[0] == '.' && (rc = emit(s, ".", 1)) != 0)
			return rc;
		s->st_bol = 0;
		nl = memchr(p, '\n', n);
		if (nl == NULL) {
			s->st_cr = p[n - 1] == '\r';
			return emit(s, p, n);
		}
		k = (size_t)(nl - p);
		cr = k > 0 ? p[k - 1] == '\r' : s->st_cr;
		if (k > 0 && (rc = emit(s, p, k)) != 0)
			return rc;
		if (s->st_conv && !cr)
			rc = emit(s, "\r\n", 2);
		else
			rc = emit(s, "\n", 1);
		if (rc != 0)
			return rc;
		s->st_bol = 1;
		s->st_cr = 0;
		p += k + 1;
		n -= k + 1;
	}
	return 0;
}

/* TOP emulation: the header, the blank line, then tr_left body lines. */
static int
trunc_write(struct tcp2_pop3 *s, const char *p, size_t n)
{
	const char *nl;
	size_t k, len;
	int rc, blank;

	while (n > 0 && !s->tr_done) {
		nl = memchr(p, '\n', n);
		k = nl ? (size_t)(nl - p) + 1 : n;
		if (s->tr_len == 0)
			s->tr_first = (unsigned char)p[0];
		if ((rc = stuff_write(s, p, k)) != 0)
			return rc;
		len = s->tr_len + k;
		s->tr_len = nl ? 0 : len;
		p += k;
		n -= k;
		if (nl == NULL)
			break;
		if (s->tr_hdr) {
			blank = len == 1 || (len == 2 && s->tr_first == '\r');
			if (blank) {
				s->tr_hdr = 0;
				s->tr_done = s->tr_left == 0;
			}
		} else if (--s->tr_left == 0) {
			s->tr_done = 1;
		}
	}
	return 0;
}

/* Message content for the client: cut for TOP, then stuffed. */
static int
out_msg(struct tcp2_pop3 *s, const char *p, size_t n)
{
	if (n == 0)
		return 0;
	if (s->hq)
		return hq_out(s, p, n);
	if (s->cur.truncate)
		return trunc_write(s, p, n);
	return stuff_write(s, p, n);
}

/* ---- the command queue ---- */

static int
q_push(struct tcp2_pop3 *s, const struct cmd *c)
{
	struct cmd *nq;
	size_t nc, i;

	if (s->qlen == s->qcap) {
		if (s->qcap >= POP3_FIFO_MAX)
			return TCP2_ETOOBIG;
		nc = s->qcap ? s->qcap * 2 : 16;
		nq = calloc(nc, sizeof(*nq));
		if (nq == NULL)
			return TCP2_ENOMEM;
		for (i = 0; i < s->qlen; i++)
			nq[i] = s->q[(s->qhead + i) % s->qcap];
		free(s->q);
		s->q = nq;
		s->qcap = nc;
		s->qhead = 0;
	}
	s->q[(s->qhead + s->qlen) % s->qcap] = *c;
	s->qlen++;
	return 0;
}

static const struct cmd *
q_head(const struct tcp2_pop3 *s)
{
	return s->qlen ? &s->q[s->qhead] : NULL;
}

static void
q_pop(struct tcp2_pop3 *s)
{
	s->qhead = (s->qhead + 1) % s->qcap;
	s->qlen--;
}

/* ---- passthrough ---- */

static int
go_pass(struct tcp2_pop3 *s, const char *how)
{
	const char *f[] = { "account", nz(s->env.account), "endpoint",
	    nz(s->env.endpoint), "how", how, NULL };
	char text[160];

	s->pass = 1;
	snprintf(text, sizeof(text), "POP3 session uses TLS (%s): passed "
	    "through, not protected", how);
	event(s, "tls", text, f);
	return 0;
}

/* ---- registration ---- */

static void
wipe_login(struct tcp2_pop3 *s)
{
	tcp2_crypto_wipe(s->password, sizeof(s->password));
}

static void
reg_complete(struct tcp2_pop3 *s, struct tcp2_registration *reg)
{
	const struct tcp2_account *old;
	struct tcp2_account a;
	char text[1200];
	int rc = TCP2_EINVAL;

	memset(&a, 0, sizeof(a));
	snprintf(a.addr, sizeof(a.addr), "%s", reg->addr);
	snprintf(a.user, sizeof(a.user), "%s", reg->user);
	snprintf(a.password, sizeof(a.password), "%s", reg->password);
	snprintf(a.pop3, sizeof(a.pop3), "%s", reg->pop3);
	snprintf(a.smtp, sizeof(a.smtp), "%s", reg->smtp);
	if (s->env.state != NULL) {
		/* A registration changes the login, not the policy. */
		old = tcp2_state_account(s->env.state, reg->addr);
		a.policy = old ? old->policy : TCP2_POLICY_SIGNED;
		rc = tcp2_state_account_update(s->env.state, &a);
	}
	tcp2_crypto_wipe(&a, sizeof(a));
	{
		const char *f[] = { "addr", reg->addr, "pop3", reg->pop3,
		    "smtp", reg->smtp, "user", reg->user, "result",
		    rc == 0 ? "ok" : "failed", "error",
		    rc == 0 ? "" : tcp2_strerror(rc), NULL };

		if (rc == 0)
			snprintf(text, sizeof(text), "registered %s: POP3 %s, "
			    "SMTP %s, login %s", reg->addr, reg->pop3,
			    reg->smtp, reg->user);
		else
			snprintf(text, sizeof(text), "registration of %s "
			    "failed: %s", reg->addr, tcp2_strerror(rc));
		event(s, "registration", text, f);
	}
	if (rc == 0) {
		/* Done: the password lives in the store only. */
		reg->armed = 0;
		tcp2_crypto_wipe(reg->password, sizeof(reg->password));
	}
}

/* The server accepted a login (PASS, APOP or AUTH). */
static void
login_ok(struct tcp2_pop3 *s)
{
	struct tcp2_registration *reg = s->env.reg;

	if (reg != NULL && reg->armed && s->user[0] != '\0') {
		snprintf(reg->pop3, sizeof(reg->pop3), "%s",
		    nz(s->env.endpoint));
		snprintf(reg->user, sizeof(reg->user), "%s", s->user);
		snprintf(reg->password, sizeof(reg->password), "%s",
		    s->password);
		reg->have_pop3 = 1;
		if (reg->have_smtp)
			reg_complete(s, reg);
	}
	wipe_login(s);
}

/* ---- client to server ---- */

/* SASL data decoded from one base64 line, into buf[POP3_LINE_MAX]. */
static long
sasl_decode(const char *l, size_t n, uint8_t *buf)
{
	struct tcp2_b64_dec d;
	long k;

	if (n / 4 * 3 + 3 > POP3_LINE_MAX)
		return -1;
	tcp2_b64_dec_init(&d);
	k = tcp2_b64_dec_line(&d, buf, l, n);
	if (k < 0 || tcp2_b64_dec_final(&d) != 0)
		return -1;
	return k;
}

/* PLAIN (RFC 4616): authzid NUL authcid NUL passwd. */
static void
sasl_plain(struct tcp2_pop3 *s, const char *l, size_t n)
{
	uint8_t buf[POP3_LINE_MAX];
	const uint8_t *u, *p;
	long k = sasl_decode(l, n, buf);

	if (k > 0 && (u = memchr(buf, 0, (size_t)k)) != NULL &&
	    (p = memchr(u + 1, 0, (size_t)k - (size_t)(u + 1 - buf))) != NULL) {
		copy_value(s->user, sizeof(s->user), (const char *)u + 1,
		    (size_t)(p - u - 1));
		copy_value(s->password, sizeof(s->password),
		    (const char *)p + 1, (size_t)k - (size_t)(p + 1 - buf));
	}
	tcp2_crypto_wipe(buf, sizeof(buf));
}

/* LOGIN (draft-murchison-sasl-login): user, then password. */
static void
sasl_login(struct tcp2_pop3 *s, const char *l, size_t n, int step)
{
	uint8_t buf[POP3_LINE_MAX];
	long k = sasl_decode(l, n, buf);

	if (k >= 0 && step == 0)
		copy_value(s->user, sizeof(s->user), (const char *)buf,
		    (size_t)k);
	else if (k >= 0 && step == 1)
		copy_value(s->password, sizeof(s->password),
		    (const char *)buf, (size_t)k);
	tcp2_crypto_wipe(buf, sizeof(buf));
}

/* A client line while AUTH runs: SASL data ("*" cancels). */
static void
sasl_line(struct tcp2_pop3 *s, const char *l, size_t n)
{
	if (n == 1 && l[0] == '*')
		return;
	if (s->sasl == SASL_PLAIN && s->sasl_step == 0)
		sasl_plain(s, l, n);
	else if (s->sasl == SASL_LOGIN && s->sasl_step < 2)
		sasl_login(s, l, n, s->sasl_step);
	s->sasl_step++;
}

/* "AUTH mech [initial-response]" */
static void
auth_start(struct tcp2_pop3 *s, const char *a, size_t n)
{
	size_t ml = 0, i;

	while (ml < n && a[ml] != ' ' && a[ml] != '\t')
		ml++;
	s->user[0] = '\0';
	wipe_login(s);
	s->sasl_step = 0;
	if (ml == 5 && strncasecmp(a, "PLAIN", 5) == 0)
		s->sasl = SASL_PLAIN;
	else if (ml == 5 && strncasecmp(a, "LOGIN", 5) == 0)
		s->sasl = SASL_LOGIN;
	else
		s->sasl = SASL_OTHER;
	for (i = ml; i < n && (a[i] == ' ' || a[i] == '\t'); i++)
		;
	/* An initial response is the first SASL line; "=" is empty. */
	if (i < n && !(n - i == 1 && a[i] == '='))
		sasl_line(s, a + i, n - i);
	else if (i < n)
		s->sasl_step++;
}

/* Strictly digits, at most 10 of them: a message number. */
static int
is_msgno(const char *p, size_t n)
{
	size_t i;

	if (n == 0 || n > 10)
		return 0;
	for (i = 0; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return 0;
	return 1;
}

/* "msg k" of TOP: 1 and *k when well formed. */
static int
top_args(const char *a, size_t n, size_t *ml, unsigned long *k)
{
	size_t i = 0, j;
	unsigned long v = 0;

	while (i < n && a[i] >= '0' && a[i] <= '9')
		i++;
	if (!is_msgno(a, i))
		return 0;
	*ml = i;
	while (i < n && (a[i] == ' ' || a[i] == '\t'))
		i++;
	j = i;
	while (i < n && a[i] >= '0' && a[i] <= '9') {
		/* Huge counts mean "all of it". */
		if (v < 100000000ul)
			v = v * 10 + (unsigned long)(a[i] - '0');
		i++;
	}
	if (i == j)
		return 0;
	while (i < n && (a[i] == ' ' || a[i] == '\t'))
		i++;
	if (i != n)
		return 0;
	*k = v;
	return 1;
}

struct verb {
	const char *name;
	enum cmd_kind kind;
	int multi;		/* 0 never, 1 always, 2 without argument */
};

static const struct verb verbs[] = {
	{ "USER", C_USER, 0 }, { "PASS", C_PASS, 0 }, { "APOP", C_APOP, 0 },
	{ "AUTH", C_AUTH, 2 }, { "CAPA", C_CAPA, 1 }, { "STAT", C_STAT, 0 },
	{ "LIST", C_LIST, 2 }, { "UIDL", C_UIDL, 2 }, { "TOP", C_TOP, 1 },
	{ "RETR", C_RETR, 1 }, { "DELE", C_DELE, 0 }, { "RSET", C_RSET, 0 },
	{ "NOOP", C_NOOP, 0 }, { "QUIT", C_QUIT, 0 }, { "STLS", C_STLS, 0 },
	{ "LANG", C_LANG, 2 },
};

/* Classify the command line l[0..n) (no line end) into *c; *arg and
 * *alen: its arguments, trailing blanks removed. */
static void
classify(const char *l, size_t n, struct cmd *c, const char **arg,
    size_t *alen)
{
	size_t vl = 0, i, k;
	int multi = 0;

	while (vl < n && l[vl] != ' ' && l[vl] != '\t')
		vl++;
	for (i = vl; i < n && (l[i] == ' ' || l[i] == '\t'); i++)
		;
	k = n;
	while (k > i && (l[k - 1] == ' ' || l[k - 1] == '\t'))
		k--;
	*arg = l + i;
	*alen = k - i;
	memset(c, 0, sizeof(*c));
	c->kind = C_OTHER;
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		if (strlen(verbs[i].name) == vl &&
		    strncasecmp(l, verbs[i].name, vl) == 0) {
			c->kind = verbs[i].kind;
			multi = verbs[i].multi;
			break;
		}
	}
	c->multi = multi == 1 || (multi == 2 && *alen == 0);
	c->message = c->kind == C_RETR;
}

/* A complete command line (raw includes its line end). */
static int
c2s_command(struct tcp2_pop3 *s, char *raw, size_t rawlen, size_t n)
{
	struct cmd c;
	const char *arg, *eol = rawlen - n == 2 ? "\r\n" : "\n";
	char rl[32];
	size_t alen, ml;
	unsigned long k;
	int rc;

	classify(raw, n, &c, &arg, &alen);
	switch (c.kind) {
	case C_USER:
		copy_value(s->user, sizeof(s->user), arg, alen);
		break;
	case C_PASS:
		/* The password is the rest of the line, spaces included. */
		arg = raw + 4 + (n > 4);
		copy_value(s->password, sizeof(s->password), arg,
		    n > 4 ? n - 5 : 0);
		break;
	case C_APOP:
		for (ml = 0; ml < alen && arg[ml] != ' ' && arg[ml] != '\t';
		    ml++)
			;
		copy_value(s->user, sizeof(s->user), arg, ml);
		wipe_login(s);
		break;
	case C_AUTH:
		if (alen > 0)
			auth_start(s, arg, alen);
		break;
	case C_TOP:
		if (s->env.state != NULL && top_args(arg, alen, &ml, &k)) {
			/* Sent as RETR: a TCP2 message decrypts only whole. */
			c.message = 1;
			c.truncate = 1;
			c.top = k;
			if ((rc = q_push(s, &c)) != 0)
				return rc;
			snprintf(rl, sizeof(rl), "RETR %.*s%s", (int)ml, arg,
			    eol);
			return emit(s, rl, strlen(rl));
		}
		break;
	default:
		break;
	}
	if ((rc = q_push(s, &c)) != 0)
		return rc;
	rc = emit(s, raw, rawlen);
	if (c.kind == C_PASS || c.kind == C_AUTH)
		tcp2_crypto_wipe(raw, rawlen);
	return rc;
}

/* The line in cline is complete. */
static int
c2s_line(struct tcp2_pop3 *s)
{
	size_t raw = s->clen, n = raw - 1;
	int rc;

	s->clen = 0;
	if (n > 0 && s->cline[n - 1] == '\r')
		n--;
	if (s->sasl != SASL_NONE) {
		sasl_line(s, s->cline, n);
		rc = emit(s, s->cline, raw);
		tcp2_crypto_wipe(s->cline, raw);
		return rc;
	}
	return c2s_command(s, s->cline, raw, n);
}

/*
 * A line longer than POP3_LINE_MAX: its first octets are in cline.  It is
 * copied as it is; its verb still tells whether the response is a block,
 * so the queue stays in step.  Never rewritten.
 */
static int
c2s_long(struct tcp2_pop3 *s)
{
	struct cmd c;
	const char *arg;
	size_t alen;
	int rc;

	if (s->sasl == SASL_NONE) {
		classify(s->cline, s->clen, &c, &arg, &alen);
		c.message = 0;
		if (c.kind == C_RETR || c.kind == C_TOP || c.kind == C_CAPA)
			c.multi = 1;
		if ((rc = q_push(s, &c)) != 0)
			return rc;
	} else {
		s->sasl_step++;
	}
	rc = emit(s, s->cline, s->clen);
	tcp2_crypto_wipe(s->cline, s->clen);
	s->clen = 0;
	return rc;
}

static int
c2s_pass(struct tcp2_pop3 *s, const uint8_t *p, size_t n)
{
	int rc = 0;

	if (s->clen > 0) {
		rc = emit(s, s->cline, s->clen);
		s->clen = 0;
	}
	return rc ? rc : emit(s, p, n);
}

static int
c2s_feed(struct tcp2_pop3 *s, const uint8_t *p, size_t n)
{
	const uint8_t *nl;
	size_t k;
	int rc;

	if (n > 0 && !s->c_seen) {
		s->c_seen = 1;
		/* A TLS handshake record first: implicit TLS (port 995). */
		if (p[0] == 0x16 && !s->s_seen)
			go_pass(s, "implicit TLS");
	}
	while (n > 0) {
		if (s->pass)
			return c2s_pass(s, p, n);
		nl = memchr(p, '\n', n);
		k = nl ? (size_t)(nl - p) + 1 : n;
		if (s->c_long) {
			if ((rc = emit(s, p, k)) != 0)
				return rc;
			if (nl != NULL)
				s->c_long = 0;
		} else if (s->clen + k > sizeof(s->cline)) {
			k = sizeof(s->cline) - s->clen;
			memcpy(s->cline + s->clen, p, k);
			s->clen += k;
			if ((rc = c2s_long(s)) != 0)
				return rc;
			s->c_long = 1;
		} else {
			memcpy(s->cline + s->clen, p, k);
			s->clen += k;
			if (nl != NULL && (rc = c2s_line(s)) != 0)
				return rc;
		}
		p += k;
		n -= k;
	}
	return 0;
}

/* ---- server to client: the message block ---- */

/* Output of the decoder or verifier during the current line: everything
 * before that line is represented in the output now. */
static void
mark(struct tcp2_pop3 *s)
{
	if (s->lstart > s->mrep)
		s->mrep = s->lstart;
}

static int
dec_out(void *arg, const void *buf, size_t len)
{
	struct tcp2_pop3 *s = arg;

	mark(s);
	return out_msg(s, buf, len);
}

/*
 * Plaintext signatures (plainsig.h, seed 003).  These four calls are the
 * only place that knows the verifier: every plain message passes through
 * it; it copies the message and strips a final verified signature line.
 */
static int
psig_begin(struct tcp2_pop3 *s)
{
	return tcp2_psig_verifier_new(&s->ver, tcp2_state_lookup,
	    s->env.state, dec_out, s);
}

static int
psig_write(struct tcp2_pop3 *s, const char *p, size_t n)
{
	int rc = tcp2_psig_verifier_write(s->ver, p, n);

	return rc && s->out_err ? s->out_err : rc;
}

static int
psig_end(struct tcp2_pop3 *s)
{
	static const char *const names[] = { "unverified", "verified",
	    "forged" };
	enum tcp2_sig_status st = TCP2_SIG_UNVERIFIED;
	int rc, was_signed = 0;
	char text[200];

	rc = tcp2_psig_verifier_finish(s->ver, &st, &was_signed);
	if (rc != 0)
		return s->out_err ? s->out_err : rc;
	s->h_sig = was_signed ? (int)st : -1;
	if (was_signed && (unsigned int)st < 3) {
		const char *f[] = { "account", nz(s->env.account), "kind",
		    "signed-plain", "status", names[st], "command",
		    s->cur.truncate ? "TOP" : "RETR", NULL };

		snprintf(text, sizeof(text), "signed plaintext mail: %s",
		    names[st]);
		event(s, "received", text, f);
	}
	return 0;
}

static size_t
psig_held(const struct tcp2_pop3 *s)
{
	size_t v = s->ver ? tcp2_psig_verifier_held(s->ver) : 0;

	/* In wire octets: the stuffing dot of the line whose start it
	 * holds (the current one, or the last complete one at a line
	 * start); a line too long to be a signature flows through. */
	if (s->curlen > 0 ? s->curdot && v >= s->curlen :
	    s->prevdot && v >= s->prevlen)
		v++;
	return v;
}

/* The ID the failed set knows a TCP2 message by: its salt, which our
 * encoder writes into the boundary; else a hash of the header block. */
static void
msg_id(const char *h, size_t len, uint8_t id[TCP2_MSG_SALT_LEN])
{
	static const char pfx[] = "=_tcp2_";
	struct tcp2_hdr_field f;
	uint8_t dg[TCP2_SHA256_LEN];
	size_t i;
	char b[80];

	if (tcp2_hdr_find(h, len, "Content-Type", &f, NULL) &&
	    tcp2_hdr_param(f.value, f.valuelen, "boundary", b,
	    sizeof(b)) == 0 && strlen(b) == sizeof(pfx) - 1 +
	    2 * TCP2_MSG_SALT_LEN && strncmp(b, pfx, sizeof(pfx) - 1) == 0) {
		for (i = 0; i < TCP2_MSG_SALT_LEN; i++) {
			int hi = unhex(b[sizeof(pfx) - 1 + 2 * i]);
			int lo = unhex(b[sizeof(pfx) + 2 * i]);

			if (hi < 0 || lo < 0)
				break;
			id[i] = (uint8_t)(hi << 4 | lo);
		}
		if (i == TCP2_MSG_SALT_LEN)
			return;
	}
	tcp2_sha256(dg, h, len);
	memcpy(id, dg, TCP2_MSG_SALT_LEN);
}

/* Give up examining: the held octets and the rest pass unchanged. */
static int
to_raw(struct tcp2_pop3 *s, const char *p, size_t n)
{
	int rc;

	s->mode = M_RAW;
	s->st_conv = 0;
	rc = out_msg(s, s->mbuf, s->mlen);
	tcp2_crypto_wipe(s->mbuf, s->mlen);
	s->mlen = 0;
	if (rc == 0)
		rc = out_msg(s, p, n);
	s->mrep = s->mwire;
	return rc;
}

static int
dec_write(struct tcp2_pop3 *s, const char *p, size_t n)
{
	int rc = tcp2_msg_dec_write(s->dec, p, n);

	if (rc == 0)
		return 0;
	if (s->out_err)
		return s->out_err;
	return msg_fail(s, rc);
}

static int
start_decrypt(struct tcp2_pop3 *s)
{
	struct tcp2_msg_dec_params dp;
	char idh[2 * TCP2_MSG_SALT_LEN + 1];
	int rc;

	msg_id(s->mbuf, s->mlen, s->id);
	if (tcp2_state_failed(s->env.state, s->id)) {
		const char *f[] = { "account", nz(s->env.account), "status",
		    "undecryptable", "id", idh, NULL };

		hex(idh, s->id, sizeof(s->id));
		s->h_undecryptable = 1;
		event(s, "received", s->hq ? "encrypted mail that could not "
		    "be decrypted before: examined for the hold policy" :
		    "encrypted mail that could not be decrypted before: passed "
		    "on as it is", f);
		return to_raw(s, NULL, 0);
	}
	memset(&dp, 0, sizeof(dp));
	dp.lookup = tcp2_state_lookup;
	dp.lookup_arg = s->env.state;
	dp.out = dec_out;
	dp.arg = s;
	dp.flags = TCP2_DEC_KEEP_TRACE;
	if ((rc = tcp2_msg_dec_new(&s->dec, &dp)) != 0)
		return rc;
	s->mode = M_DECRYPT;
	s->st_conv = 1;
	rc = dec_write(s, s->mbuf, s->mlen);
	tcp2_crypto_wipe(s->mbuf, s->mlen);
	s->mlen = 0;
	return rc;
}

/* The header block is complete (or the message ended): what is it? */
static int
decide(struct tcp2_pop3 *s)
{
	int rc;

	if (s->env.state == NULL)
		return to_raw(s, NULL, 0);
	if ((rc = released(s)) != 0)
		return rc < 0 ? rc : 0;
	if (tcp2_msg_is_encrypted(s->mbuf, s->mlen))
		return start_decrypt(s);
	if (tcp2_keyx_is_keyx_mail(s->mbuf, s->mlen)) {
		/* Consumed, never held: the client gets a notice anyway. */
		hq_stop(s);
		s->mode = M_KEYX;
		return 0;
	}
	if ((rc = psig_begin(s)) != 0)
		return rc;
	s->mode = M_PLAIN;
	s->st_conv = 1;
	rc = psig_write(s, s->mbuf, s->mlen);
	s->mlen = 0;
	return rc;
}

static int
detect_data(struct tcp2_pop3 *s, const char *p, size_t n)
{
	size_t ll;

	if (s->mwire > POP3_HDR_MAX)
		return to_raw(s, p, n);
	memcpy(s->mbuf + s->mlen, p, n);
	s->mlen += n;
	if (p[n - 1] != '\n')
		return 0;
	ll = s->mlen - s->mline;
	s->mline = s->mlen;
	if (ll == 1 || (ll == 2 && s->mbuf[s->mlen - 2] == '\r'))
		return decide(s);
	return 0;
}

static int
keyx_data(struct tcp2_pop3 *s, const char *p, size_t n)
{
	const char *f[] = { "account", nz(s->env.account), "result",
	    "too big", NULL };

	if (s->mwire > POP3_KEYX_MAX) {
		event(s, "keyx", "key-exchange mail too big: passed on as it "
		    "is", f);
		return to_raw(s, p, n);
	}
	memcpy(s->mbuf + s->mlen, p, n);
	s->mlen += n;
	return 0;
}

/* Unstuffed octets of the block, never spanning a line end. */
static int
msg_data(struct tcp2_pop3 *s, const char *p, size_t n)
{
	int rc;

	if (s->hq) {
		if ((rc = hq_reserve(s, n)) != 0)
			return rc;
		tcp2_buf_put(&s->qorig, p, n);
		if (s->qorig.oom)
			return TCP2_ENOMEM;
	}
	switch (s->mode) {
	case M_SKIP:
		s->mrep = s->mwire;
		return 0;
	case M_DETECT:
		return detect_data(s, p, n);
	case M_KEYX:
		return keyx_data(s, p, n);
	case M_DECRYPT:
		return dec_write(s, p, n);
	case M_PLAIN:
		return psig_write(s, p, n);
	case M_RAW:
		rc = out_msg(s, p, n);
		s->mrep = s->mwire;
		return rc;
	}
	return TCP2_EINVAL;
}

/* Decryption failed: remember the message, report, reset the session. */
static int
msg_fail(struct tcp2_pop3 *s, int err)
{
	char idh[2 * TCP2_MSG_SALT_LEN + 1], text[200];
	const char *f[] = { "account", nz(s->env.account), "status", "failed",
	    "error", tcp2_strerror(err), "id", idh, NULL };

	hex(idh, s->id, sizeof(s->id));
	if (s->env.state != NULL)
		(void)tcp2_state_failed_add(s->env.state, s->id);
	if (hq_hold_undecryptable(s)) {
		/* Nothing reached the client yet: the mail is held whole,
		 * its partial plaintext dropped, without a reset. */
		snprintf(text, sizeof(text), "encrypted mail could not be "
		    "decrypted (%s): held", tcp2_strerror(err));
		event(s, "received", text, f);
		tcp2_msg_dec_free(s->dec);
		s->dec = NULL;
		s->h_undecryptable = s->h_decfail = 1;
		tcp2_buf_free(&s->qout);
		s->mode = M_RAW;
		s->st_conv = 0;
		return 0;
	}
	snprintf(text, sizeof(text), "encrypted mail could not be decrypted "
	    "(%s): connection reset, the next retrieval passes it as it is",
	    tcp2_strerror(err));
	event(s, "received", text, f);
	return TCP2_EABORT;
}

static int
dec_end(struct tcp2_pop3 *s)
{
	static const char *const names[] = { "unverified", "verified",
	    "forged" };
	enum tcp2_sig_status st;
	char idh[2 * TCP2_MSG_SALT_LEN + 1], text[600];
	const char *sender, *reason;
	uint64_t first = 0;
	int rc, replay = 0;

	rc = tcp2_msg_dec_finish(s->dec);
	if (rc != 0)
		return s->out_err ? s->out_err : msg_fail(s, rc);
	st = tcp2_msg_dec_status(s->dec);
	sender = tcp2_msg_dec_sender(s->dec);
	reason = tcp2_msg_dec_reason(s->dec);
	hex(idh, tcp2_msg_dec_salt(s->dec), TCP2_MSG_SALT_LEN);
	/* A preview (TOP) is not a retrieval: no replay bookkeeping. */
	if (!s->cur.truncate && tcp2_state_seen_check_add(s->env.state,
	    tcp2_msg_dec_salt(s->dec), now(s), &first) == TCP2_EREPLAY)
		replay = 1;
	if ((unsigned int)st > 2)
		st = TCP2_SIG_FORGED;
	s->h_sig = (int)st;
	{
		const char *f[] = { "account", nz(s->env.account), "kind",
		    "encrypted", "sender", sender, "status", names[st],
		    "reason", reason, "replay", replay ? "yes" : "no", "id",
		    idh, "command", s->cur.truncate ? "TOP" : "RETR", NULL };

		snprintf(text, sizeof(text), "encrypted mail from %s: %s%s%s%s",
		    sender, names[st], reason[0] ? " (" : "", reason,
		    reason[0] ? ")" : "");
		if (replay)
			snprintf(text + strlen(text), sizeof(text) -
			    strlen(text), "; retrieved before");
		event(s, "received", text, f);
	}
	return 0;
}

/* ---- key-exchange notice ---- */

static const char *
kx_short(enum tcp2_keyx_result r)
{
	switch (r) {
	case TCP2_KX_REPLIED:
		return "reply due";
	case TCP2_KX_ESTABLISHED:
		return "key established";
	case TCP2_KX_CHANGED:
		return "key CHANGED, held";
	case TCP2_KX_REPLAY:
		return "ignored, seen before";
	case TCP2_KX_OLD:
		return "ignored, outdated";
	case TCP2_KX_UNSOLICITED:
		return "ignored, unsolicited reply";
	case TCP2_KX_SIMULTANEOUS:
		return "crossed requests, yours goes on";
	case TCP2_KX_OWN:
		return "ignored, your own";
	}
	return "?";
}

/* Append to o[cap] at *n; output that does not fit is cut, never run
 * past the end. */
static void appendf(char *, size_t, size_t *, const char *, ...)
    __attribute__((format(printf, 4, 5)));

static void
appendf(char *o, size_t cap, size_t *n, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (*n + 1 >= cap)
		return;
	va_start(ap, fmt);
	k = vsnprintf(o + *n, cap - *n, fmt, ap);
	va_end(ap);
	if (k < 0)
		return;
	*n += (size_t)k < cap - *n ? (size_t)k : cap - *n - 1;
}

/* What happened, in plain words; CRLF lines. */
static void
kx_body(char *o, size_t cap, size_t *n, enum tcp2_keyx_result r,
    const char *peer, const char *acct)
{
	switch (r) {
	case TCP2_KX_REPLIED:
		appendf(o, cap, n,
		    "%s asked to exchange keys with you (%s).\r\n"
		    "TCP2 Mail has answered the request on this computer.\r\n"
		    "\r\n"
		    "To complete it, send a mail with the subject\r\n"
		    "'TCP2 key exchange' to %s from your usual mail\r\n"
		    "client. TCP2 Mail adds its answer to that mail. After\r\n"
		    "that, mail between you is end-to-end encrypted.\r\n",
		    peer, acct, peer);
		break;
	case TCP2_KX_ESTABLISHED:
		appendf(o, cap, n,
		    "The key exchange with %s is complete.\r\n"
		    "From now on, mail between %s and %s\r\n"
		    "is end-to-end encrypted.\r\n", peer, acct, peer);
		break;
	case TCP2_KX_CHANGED:
		appendf(o, cap, n,
		    "WARNING: %s sent a key exchange with a DIFFERENT\r\n"
		    "identity key than the one this computer knows for that\r\n"
		    "address. Maybe %s reinstalled TCP2 Mail; maybe\r\n"
		    "someone else is trying to pose as %s.\r\n"
		    "\r\n"
		    "The new key is held, not used: nothing is encrypted to\r\n"
		    "%s until you decide. Ask them, by phone or in\r\n"
		    "person, for the comparison code below, then accept or\r\n"
		    "reject the new key with tcp2ctl or the TCP2 tray app.\r\n",
		    peer, peer, peer, peer);
		break;
	case TCP2_KX_SIMULTANEOUS:
		appendf(o, cap, n,
		    "You and %s asked for a key exchange at the\r\n"
		    "same time. Your request goes on; the key is ready when\r\n"
		    "the answer of %s to it arrives. Nothing to do.\r\n",
		    peer, peer);
		break;
	default:
		appendf(o, cap, n,
		    "This key-exchange mail from %s was ignored\r\n"
		    "(%s). Nothing changed.\r\n", peer,
		    tcp2_keyx_result_text(r));
		break;
	}
}

static void
rfc5322_date(uint64_t t, char *out, size_t n)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu",
	    "Fri", "Sat" };
	static const char *const mons[] = { "Jan", "Feb", "Mar", "Apr", "May",
	    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || tm.tm_wday < 0 || tm.tm_wday > 6 ||
	    tm.tm_mon < 0 || tm.tm_mon > 11) {
		snprintf(out, n, "Thu, 01 Jan 1970 00:00:00 +0000");
		return;
	}
	snprintf(out, n, "%s, %02d %s %d %02d:%02d:%02d +0000",
	    days[tm.tm_wday], tm.tm_mday, mons[tm.tm_mon], tm.tm_year + 1900,
	    tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Header-safe copy of an address (they are checked, but say so here). */
static void
safe(char *out, const char *in)
{
	size_t i;

	for (i = 0; in[i] != '\0' && i < TCP2_ADDR_MAX - 1; i++)
		out[i] = (unsigned char)in[i] < 0x21 ||
		    (unsigned char)in[i] > 0x7e ? '?' : in[i];
	out[i] = '\0';
}

/* The header fields of a notice from TCP2 Mail to the account, all but
 * the Subject, which the caller adds with the blank line after it.  kind
 * and tag make the Message-ID: the same mail gives the same notice. */
static void
notice_head(char *o, size_t *n, const char *acct, const char *kind,
    const char *tag, const char *date)
{
	appendf(o, POP3_NOTICE_MAX, n,
	    "From: \"TCP2 Mail\" <tcp2@localhost>\r\n"
	    "To: <%s>\r\n"
	    "Date: %s\r\n"
	    "Message-ID: <tcp2-%s-%s@localhost>\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=us-ascii\r\n"
	    "Content-Transfer-Encoding: 7bit\r\n", acct, date, kind, tag);
}

/* The mail the client receives instead of a key-exchange mail. */
static int
kx_notice(struct tcp2_pop3 *s, const struct tcp2_keyx *kx,
    enum tcp2_keyx_result r)
{
	const struct tcp2_account *a = tcp2_state_account(s->env.state,
	    kx->to);
	char peer[TCP2_ADDR_MAX], acct[TCP2_ADDR_MAX], date[64];
	char fpr[TCP2_FPR_LEN] = "", code[TCP2_CODE_LEN] = "", mid[32];
	uint8_t dg[TCP2_SHA256_LEN];
	char *o;
	size_t n = 0;
	int rc, keys;

	safe(peer, kx->from);
	safe(acct, kx->to);
	keys = r == TCP2_KX_REPLIED || r == TCP2_KX_ESTABLISHED ||
	    r == TCP2_KX_CHANGED || r == TCP2_KX_SIMULTANEOUS;
	tcp2_fingerprint(kx->id_ed, kx->id_x, fpr);
	if (a != NULL)
		tcp2_comparison_code(a->ed_pub, a->x_pub, kx->id_ed, kx->id_x,
		    code);
	/* The same mail gives the same Message-ID. */
	tcp2_sha256(dg, s->mbuf, s->mlen);
	hex(mid, dg, 12);
	rfc5322_date(now(s), date, sizeof(date));
	if ((o = malloc(POP3_NOTICE_MAX)) == NULL)
		return TCP2_ENOMEM;
	notice_head(o, &n, acct, "keyx", mid, date);
	appendf(o, POP3_NOTICE_MAX, &n, "Subject: TCP2: key exchange with "
	    "%s: %s\r\n\r\n", peer, kx_short(r));
	kx_body(o, POP3_NOTICE_MAX, &n, r, peer, acct);
	if (keys)
		appendf(o, POP3_NOTICE_MAX, &n,
		    "\r\n"
		    "Fingerprint of %s:\r\n"
		    "    %s\r\n"
		    "Comparison code of you and %s:\r\n"
		    "    %s\r\n"
		    "\r\n"
		    "To be sure that nobody is in between, read the\r\n"
		    "comparison code to each other by phone or in person.\r\n"
		    "If it is the same, mark the peer verified with tcp2ctl\r\n"
		    "or the TCP2 tray app.\r\n", peer, fpr, peer,
		    code[0] ? code : "(unknown)");
	appendf(o, POP3_NOTICE_MAX, &n,
	    "\r\n-- \r\nTCP2 Mail on this computer\r\n");
	s->st_conv = 1;
	rc = out_msg(s, o, n);
	free(o);
	{
		const char *f[] = { "account", acct, "peer", peer, "result",
		    kx_short(r), "fingerprint", keys ? fpr : "", NULL };
		char text[400];

		snprintf(text, sizeof(text), "key exchange with %s: %s", peer,
		    tcp2_keyx_result_text(r));
		event(s, "keyx", text, f);
	}
	return rc;
}

/* The whole key-exchange mail is in mbuf. */
static int
keyx_end(struct tcp2_pop3 *s)
{
	enum tcp2_keyx_result r = TCP2_KX_REPLAY;
	struct tcp2_keyx kx;
	char *reply, text[200];
	size_t used;
	int rc;

	rc = tcp2_keyx_parse(s->mbuf, s->mlen, &kx);
	if (rc == 0) {
		if ((reply = malloc(POP3_REPLY_MAX)) == NULL)
			return TCP2_ENOMEM;
		/* The reply goes out with the user's own key-exchange mail
		 * (tcp2_state_keyx_outgoing); this copy is not needed. */
		rc = tcp2_state_keyx_recv(s->env.state, s->mbuf, s->mlen,
		    now(s), &r, reply, POP3_REPLY_MAX, &used);
		tcp2_crypto_wipe(reply, POP3_REPLY_MAX);
		free(reply);
	}
	if (rc == TCP2_EFORMAT || rc == TCP2_EAUTH || rc == TCP2_ENOENT ||
	    rc == TCP2_EVERSION || rc == TCP2_ETOOBIG) {
		const char *f[] = { "account", nz(s->env.account), "result",
		    "not processed", "error", tcp2_strerror(rc), NULL };

		/* Not a key exchange for us: an ordinary mail. */
		snprintf(text, sizeof(text), "mail with the key-exchange "
		    "subject not processed (%s): passed on as it is",
		    tcp2_strerror(rc));
		event(s, "keyx", text, f);
		s->st_conv = 1;
		return out_msg(s, s->mbuf, s->mlen);
	}
	if (rc != 0) {
		const char *f[] = { "account", nz(s->env.account), "result",
		    "error", "error", tcp2_strerror(rc), NULL };

		/* Not recorded: the server must keep the mail. */
		snprintf(text, sizeof(text), "key-exchange mail could not be "
		    "processed (%s): connection reset", tcp2_strerror(rc));
		event(s, "keyx", text, f);
		return TCP2_EABORT;
	}
	return kx_notice(s, &kx, r);
}

/* ---- hold: examine a RETR response whole, pass it on or hold it ---- */

static const struct tcp2_account *
hq_account(const struct tcp2_pop3 *s)
{
	if (s->env.state == NULL || s->env.account == NULL)
		return NULL;
	return tcp2_state_account(s->env.state, s->env.account);
}

/* Is this mail being collected for an account that holds what it cannot
 * decrypt? */
static int
hq_hold_undecryptable(const struct tcp2_pop3 *s)
{
	const struct tcp2_account *a = hq_account(s);

	return s->hq && !s->h_toobig && a != NULL &&
	    (a->hold.reasons & TCP2_HOLD_UNDECRYPTABLE);
}

/* Stop collecting: what was collected is dropped (nothing was sent). */
static void
hq_stop(struct tcp2_pop3 *s)
{
	s->hq = 0;
	s->h_toobig = 0;
	tcp2_buf_free(&s->qorig);
	tcp2_buf_free(&s->qout);
	if (s->env.budget != NULL)
		s->env.budget->used -= s->reserved;
	s->reserved = 0;
}

/*
 * Collected octets count against the daemon's budget, in 1 MiB steps.
 * When it is spent the mail cannot be examined now: the connection is
 * reset before anything reached the client, the mail stays on the
 * server, and the client fetches it again later.
 */
#define POP3_RESERVE_STEP	(1u << 20)

static int
hq_reserve(struct tcp2_pop3 *s, size_t n)
{
	struct tcp2_rw_budget *b = s->env.budget;
	const char *f[] = { "account", nz(s->env.account), NULL };

	if (b == NULL)
		return 0;
	while (s->qorig.len + s->qout.len + n > s->reserved) {
		if (b->used + POP3_RESERVE_STEP > b->max)
			goto spent;
		b->used += POP3_RESERVE_STEP;
		s->reserved += POP3_RESERVE_STEP;
	}
	return 0;
spent:
	event(s, "error", "too much mail is being examined at once: "
	    "connection reset, the mail stays on the server", f);
	return TCP2_EABORT;
}

/*
 * Output for the client while collecting.  Past POP3_EXAMINE_MAX the mail
 * is too big to pass on at once: when the policy holds for content
 * (HTML, attachments) it is held unexamined, else it streams from here on.
 */
static int
hq_out(struct tcp2_pop3 *s, const char *p, size_t n)
{
	const struct tcp2_account *a = hq_account(s);
	int rc;

	if (s->h_toobig || s->h_decfail)
		return 0;
	if (s->qout.len + n <= POP3_EXAMINE_MAX) {
		if ((rc = hq_reserve(s, n)) != 0)
			return rc;
		tcp2_buf_put(&s->qout, p, n);
		return s->qout.oom ? TCP2_ENOMEM : 0;
	}
	if (a != NULL && (a->hold.reasons & (TCP2_HOLD_HTML |
	    TCP2_HOLD_ATTACHMENTS))) {
		s->h_toobig = 1;
		tcp2_buf_free(&s->qout);
		return 0;
	}
	s->hq = 0;
	rc = stuff_write(s, (const char *)s->qout.p, s->qout.len);
	hq_stop(s);
	return rc ? rc : out_msg(s, p, n);
}

/*
 * A mail the user chose to receive carries X-TCP2-Release with a token
 * only this host can make.  With its quarantine entry still there, the
 * client gets the kept copy (decrypted, attachments stripped if asked)
 * and the server's bytes are skipped; without it (fetched before) or when
 * the account keeps ciphertext, the field is removed and the mail goes
 * its normal way, unexamined.  1: handled, 0: not a release, <0: error.
 */
static int
released(struct tcp2_pop3 *s)
{
	const struct tcp2_account *a = hq_account(s);
	struct tcp2_hdr_field f;
	struct tcp2_held h;
	size_t off;
	char id[TCP2_HELD_ID_LEN];

	if (a == NULL || s->cur.truncate ||
	    !tcp2_hdr_find(s->mbuf, s->mlen, TCP2_HOLD_TOKEN_FIELD, &f, &off) ||
	    tcp2_hold_token_check(a->ed_sec, f.value, f.valuelen, id) != 0)
		return 0;
	hq_stop(s);
	if (tcp2_quarantine_get(tcp2_state_store(s->env.state), id, &h) == 0 &&
	    (!a->hold.keep_ciphertext || h.strip)) {
		memcpy(s->rel_id, id, sizeof(s->rel_id));
		tcp2_crypto_wipe(s->mbuf, s->mlen);
		s->mlen = 0;
		s->mode = M_SKIP;
		s->mrep = s->mwire;
		return 1;
	}
	/* Remove the field; the rest is decided as usual. */
	memmove(s->mbuf + off, s->mbuf + off + f.rawlen, s->mlen - off -
	    f.rawlen);
	s->mlen -= f.rawlen;
	s->mline -= f.rawlen;
	if (a->hold.keep_ciphertext)
		return to_raw(s, NULL, 0) ? -1 : 1;
	return 0;
}

/* The client gets the quarantined copy of a released mail. */
static int
rel_emit(struct tcp2_pop3 *s)
{
	struct tcp2_store *st = tcp2_state_store(s->env.state);
	const char *f[] = { "account", nz(s->env.account), "id", s->rel_id,
	    "kind", "released", "result", "ok", NULL };
	struct tcp2_held h;
	uint8_t *m, *strip = NULL;
	size_t ml, sl = 0;
	int rc;

	if ((rc = tcp2_quarantine_get(st, s->rel_id, &h)) != 0 ||
	    (rc = tcp2_quarantine_mail(st, s->rel_id, TCP2_HELD_PLAIN, &m,
	    &ml)) != 0)
		return TCP2_EABORT;	/* the server keeps the mail */
	if (h.strip && (rc = tcp2_mime_strip(m, ml, &strip, &sl)) != 0) {
		tcp2_store_free(m, ml);
		return TCP2_EABORT;
	}
	s->st_conv = 1;
	rc = stuff_write(s, (const char *)(strip ? strip : m), strip ? sl : ml);
	tcp2_store_free(m, ml);
	if (strip != NULL) {
		tcp2_crypto_wipe(strip, sl);
		free(strip);
	}
	if (rc != 0)
		return rc;
	/* Delivered: the entry has done its job.  Should the client fetch
	 * the mail again, it is decrypted the normal way. */
	(void)tcp2_quarantine_remove(st, s->rel_id);
	event(s, "received", "held mail the user chose to receive: passed "
	    "to the mail client", f);
	return 0;
}

/* Copy UTF-8, cut at a character boundary to fit. */
static void
hq_copy(char *dst, size_t len, const char *src)
{
	size_t n = strlen(src);

	if (n >= len)
		n = tcp2_utf8_cut((const uint8_t *)src, len - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* A header field of the collected message, decoded for people. */
static void
hq_field(const struct tcp2_buf *b, const char *name, char *out, size_t len)
{
	struct tcp2_hdr_field f;
	struct tcp2_buf d;
	const char *v;

	out[0] = '\0';
	if (!tcp2_hdr_find((const char *)b->p, b->len, name, &f, NULL))
		return;
	tcp2_buf_init(&d, len * 4);
	tcp2_hdr_decode(f.value, f.valuelen, &d);
	if ((v = tcp2_buf_cstr(&d)) != NULL)
		hq_copy(out, len, v);
	tcp2_buf_free(&d);
}

/* What the rewriter knows about the mail, for tcp2_hold_decide. */
static void
hq_facts(struct tcp2_pop3 *s, struct tcp2_mime *m, struct tcp2_held *h,
    struct tcp2_hold_att *att, struct tcp2_hold_facts *f)
{
	const struct tcp2_peer *peer;
	struct tcp2_hdr_field fld;
	size_t i;

	memset(f, 0, sizeof(*f));
	f->encrypted = s->mode == M_DECRYPT || s->h_undecryptable;
	f->undecryptable = s->h_undecryptable;
	f->sig = s->h_undecryptable ? -1 : s->h_sig;
	if (tcp2_hdr_find((const char *)s->qout.p, s->qout.len, "From", &fld,
	    NULL))
		(void)tcp2_hdr_addr(fld.value, fld.valuelen, h->sender);
	if (h->sender[0] && (peer = tcp2_state_peer(s->env.state,
	    s->env.account, h->sender)) != NULL)
		f->key_changed = tcp2_peer_state(peer) == TCP2_PEER_CHANGED;
	if (f->undecryptable || s->h_toobig ||
	    tcp2_mime_analyse(s->qout.p, s->qout.len, m) != 0)
		return;
	f->html = m->has_html;
	h->html = m->has_html;
	for (i = 0; i < m->nparts && f->natt < TCP2_HELD_ATT_MAX; i++) {
		const struct tcp2_mime_part *mp = &m->parts[i];

		if (!mp->attachment)
			continue;
		att[f->natt].name = mp->filename;
		att[f->natt].type = mp->type;
		att[f->natt].risky = mp->risky;
		hq_copy(h->att[f->natt].name, sizeof(h->att[0].name),
		    mp->filename);
		hq_copy(h->att[f->natt].type, sizeof(h->att[0].type),
		    mp->type);
		h->att[f->natt].size = mp->decoded_size;
		f->natt++;
	}
	/* Past the analyser's bounds nothing was looked at: as suspect as
	 * a risky attachment. */
	if (m->limited && f->natt < TCP2_HELD_ATT_MAX) {
		att[f->natt].name = "(too many parts to examine)";
		att[f->natt].type = "multipart/mixed";
		att[f->natt].risky = 1;
		f->natt++;
	}
	h->natt = f->natt;
	h->attachments = (int)m->nattach;
	f->att = att;
}

/* The short mail the client gets in place of a held one. */
static int
hq_notice(struct tcp2_pop3 *s, const struct tcp2_held *h)
{
	char acct[TCP2_ADDR_MAX], from[TCP2_ADDR_MAX], subj[200], date[64];
	char exp[64];
	size_t n = 0, i;
	char *o;
	int rc;

	safe(acct, nz(s->env.account));
	safe(from, h->sender[0] ? h->sender : "(unknown)");
	/* Header-safe: the subject is printable ASCII here. */
	for (i = 0; h->subject[i] != '\0' && i < sizeof(subj) - 1; i++)
		subj[i] = (unsigned char)h->subject[i] < 0x20 ||
		    (unsigned char)h->subject[i] > 0x7e ? '?' : h->subject[i];
	subj[i] = '\0';
	rfc5322_date(now(s), date, sizeof(date));
	rfc5322_date(h->expires, exp, sizeof(exp));
	if ((o = malloc(POP3_NOTICE_MAX)) == NULL)
		return TCP2_ENOMEM;
	notice_head(o, &n, acct, "held", h->id, date);
	appendf(o, POP3_NOTICE_MAX, &n,
	    "Subject: TCP2: held: %s\r\n"
	    "\r\n"
	    "TCP2 Mail on this computer held a mail instead of passing it\r\n"
	    "to your mail client.  It is kept, encrypted, on this computer.\r\n"
	    "\r\n"
	    "    From:     %s\r\n"
	    "    Subject:  %s\r\n"
	    "    Why:      %s\r\n"
	    "    Held as:  %s\r\n"
	    "\r\n"
	    "Decide in the TCP2 Mail tray app (Held mail), or with\r\n"
	    "    tcp2ctl show %s\r\n"
	    "    tcp2ctl receive %s\r\n"
	    "    tcp2ctl receive --strip-attachments %s\r\n"
	    "    tcp2ctl discard %s\r\n"
	    "Receive brings it to this mail client at its next mail check.\r\n"
	    "Unless you decide, it is deleted on %s.\r\n"
	    "\r\n-- \r\nTCP2 Mail on this computer\r\n",
	    subj, from, subj, h->reason, h->id, h->id, h->id, h->id, h->id,
	    exp);
	s->st_conv = 1;
	rc = stuff_write(s, o, n);
	free(o);
	return rc;
}

/*
 * The whole RETR response is collected: decide.  Held mail is in the
 * quarantine, synced, before the client sees the notice's final dot, so
 * the client cannot delete it on the server before it is safe here.
 */
static int
hq_end(struct tcp2_pop3 *s)
{
	static const char *const vnames[] = { "unverified", "verified",
	    "forged" };
	const struct tcp2_account *a = hq_account(s);
	struct tcp2_hold_att att[TCP2_HELD_ATT_MAX];
	struct tcp2_hold_facts f;
	struct tcp2_mime m;
	struct tcp2_held *h;
	int hold, rc;

	s->hq = 0;
	if (a == NULL || (h = calloc(1, sizeof(*h))) == NULL) {
		hq_stop(s);
		return a == NULL ? TCP2_EABORT : TCP2_ENOMEM;
	}
	memset(&m, 0, sizeof(m));
	hq_facts(s, &m, h, att, &f);
	if (s->h_toobig) {
		snprintf(h->reason, sizeof(h->reason), "larger than %u MiB, "
		    "not examined", POP3_EXAMINE_MAX >> 20);
		hold = 1;
	} else {
		hold = tcp2_hold_decide(&a->hold, &f, h->reason,
		    sizeof(h->reason));
	}
	tcp2_mime_free(&m);
	if (hold != 1) {
		rc = stuff_write(s, (const char *)s->qout.p, s->qout.len);
		hq_stop(s);
		free(h);
		return rc;
	}
	if (!f.undecryptable && !s->h_toobig)
		hq_field(&s->qout, "Subject", h->subject, sizeof(h->subject));
	else
		snprintf(h->subject, sizeof(h->subject), "%s", f.encrypted ?
		    "(encrypted)" : "(not examined)");
	snprintf(h->account, sizeof(h->account), "%s", a->addr);
	h->when = now(s);
	h->expires = h->when + (uint64_t)a->hold.expire_days * 86400;
	h->verification = f.sig;
	h->encrypted = f.encrypted;
	rc = tcp2_quarantine_put(tcp2_state_store(s->env.state), h,
	    s->qorig.p, s->qorig.len, f.encrypted && !f.undecryptable &&
	    !s->h_toobig ? s->qout.p : NULL, s->qout.len);
	hq_stop(s);
	if (rc != 0) {
		const char *ef[] = { "account", a->addr, "error",
		    tcp2_strerror(rc), NULL };

		/* Not safe here: the server must keep it. */
		event(s, "error", "a mail to hold could not be stored: "
		    "connection reset, it stays on the server", ef);
		free(h);
		return TCP2_EABORT;
	}
	{
		const char *ef[] = { "account", a->addr, "id", h->id, "sender",
		    h->sender, "subject", h->subject, "reason", h->reason,
		    "status", f.sig >= 0 && f.sig < 3 ? vnames[f.sig] :
		    "unsigned", NULL };
		char text[2 * TCP2_HELD_TEXT_MAX + 64];

		snprintf(text, sizeof(text), "held mail from %s: %s",
		    h->sender[0] ? h->sender : "(unknown)", h->reason);
		event(s, "held", text, ef);
	}
	rc = hq_notice(s, h);
	free(h);
	return rc;
}

/* ---- server to client: blocks and status lines ---- */

static void
msg_reset(struct tcp2_pop3 *s)
{
	tcp2_msg_dec_free(s->dec);
	s->dec = NULL;
	tcp2_psig_verifier_free(s->ver);
	s->ver = NULL;
	if (s->mbuf != NULL)
		tcp2_crypto_wipe(s->mbuf, s->mlen);
	s->mlen = s->mline = 0;
	s->mwire = s->mrep = s->lstart = 0;
	s->curlen = s->prevlen = 0;
	s->curdot = s->prevdot = 0;
	s->mode = M_DETECT;
	s->rs = R_STATUS;
	s->bol = s->dot = 0;
	hq_stop(s);
	s->h_sig = -1;
	s->h_undecryptable = s->h_decfail = 0;
}

static int
msg_begin(struct tcp2_pop3 *s)
{
	const struct tcp2_account *a;

	if (s->mbuf == NULL && (s->mbuf = malloc(POP3_KEYX_MAX)) == NULL)
		return TCP2_ENOMEM;
	msg_reset(s);
	s->rs = R_MSG;
	s->bol = 1;
	s->st_bol = 1;
	s->st_cr = 0;
	s->st_conv = 0;
	s->tr_hdr = 1;
	s->tr_done = 0;
	s->tr_left = s->cur.top;
	s->tr_len = 0;
	memset(s->id, 0, sizeof(s->id));
	/* A RETR of an account whose policy holds anything is examined
	 * whole; TOP is a preview and never held. */
	a = hq_account(s);
	if (!s->cur.truncate && a != NULL && a->hold.reasons != 0) {
		s->hq = 1;
		tcp2_buf_init(&s->qorig, TCP2_STORE_MAX_OBJECT);
		tcp2_buf_init(&s->qout, POP3_EXAMINE_MAX);
	}
	return 0;
}

/* The terminating ".\r\n" arrived. */
static int
msg_end(struct tcp2_pop3 *s)
{
	int rc = 0;

	if (s->mode == M_DETECT && (rc = decide(s)) != 0)
		return rc;
	switch (s->mode) {
	case M_DECRYPT:
		rc = dec_end(s);
		break;
	case M_KEYX:
		rc = keyx_end(s);
		break;
	case M_PLAIN:
		rc = psig_end(s);
		break;
	default:
		break;
	}
	if (rc == 0 && s->mode == M_SKIP)
		rc = rel_emit(s);
	else if (rc == 0 && s->hq)
		rc = hq_end(s);
	if (rc != 0)
		return rc;
	if (!s->st_bol && (rc = emit(s, "\r\n", 2)) != 0)
		return rc;
	rc = emit(s, ".\r\n", 3);
	msg_reset(s);
	return rc;
}

/* Wire octets of a message block: un-dot-stuffed, in line pieces. */
static int
s2c_msg(struct tcp2_pop3 *s, const uint8_t *p, size_t n, size_t *used)
{
	const uint8_t *nl;
	size_t i = 0, k;
	int rc;

	while (i < n) {
		if (s->bol) {
			if (s->dot == 0 && p[i] == '.') {
				s->dot = 1;
				s->mwire++;
				i++;
				continue;
			}
			if (s->dot == 1 && p[i] == '\r') {
				s->dot = 2;
				s->mwire++;
				i++;
				continue;
			}
			if (s->dot == 2 && p[i] == '\n') {
				s->mwire++;
				*used = i + 1;
				return msg_end(s);
			}
			/* Not the end: a leading dot was stuffing. */
			s->bol = 0;
			s->curdot = s->dot != 0;
			if (s->dot == 2) {
				s->curlen = 1;
				if ((rc = msg_data(s, "\r", 1)) != 0)
					return rc;
			}
			s->dot = 0;
		}
		nl = memchr(p + i, '\n', n - i);
		k = nl ? (size_t)(nl - (p + i)) + 1 : n - i;
		s->mwire += k;
		s->curlen += k;
		if ((rc = msg_data(s, (const char *)p + i, k)) != 0)
			return rc;
		i += k;
		if (nl != NULL) {
			s->bol = 1;
			s->lstart = s->mwire;
			s->prevdot = s->curdot;
			s->prevlen = s->curlen;
			s->curdot = 0;
			s->curlen = 0;
		}
		if (s->mode == M_DECRYPT && s->mwire - s->mrep >
		    TCP2_RW_MAX_HELD)
			return msg_fail(s, TCP2_ETOOBIG);
	}
	*used = n;
	return 0;
}

/* A block copied as it is: only its end is looked for. */
static int
s2c_raw(struct tcp2_pop3 *s, const uint8_t *p, size_t n, size_t *used)
{
	const uint8_t *nl;
	size_t i = 0;

	while (i < n) {
		if (s->bol) {
			if (s->dot == 0 && p[i] == '.') {
				s->dot = 1;
				i++;
				continue;
			}
			if (s->dot == 1 && p[i] == '\r') {
				s->dot = 2;
				i++;
				continue;
			}
			if (s->dot == 2 && p[i] == '\n') {
				s->bol = s->dot = 0;
				s->rs = R_STATUS;
				*used = i + 1;
				return emit(s, p, i + 1);
			}
			s->bol = s->dot = 0;
		}
		nl = memchr(p + i, '\n', n - i);
		if (nl == NULL)
			break;
		i = (size_t)(nl - p) + 1;
		s->bol = 1;
	}
	*used = n;
	return emit(s, p, n);
}

static int
s2c_positive(struct tcp2_pop3 *s)
{
	switch (s->cur.kind) {
	case C_AUTH:
		/* "AUTH" alone lists mechanisms: not a login. */
		if (!s->cur.multi)
			login_ok(s);
		break;
	case C_PASS:
	case C_APOP:
		login_ok(s);
		break;
	case C_STLS:
		return go_pass(s, "STLS");
	default:
		break;
	}
	if (!s->cur.multi)
		return 0;
	if (!s->cur.message) {
		s->rs = R_RAW;
		s->bol = 1;
		s->dot = 0;
		return 0;
	}
	return msg_begin(s);
}

/* A status line is in sline (maybe only the first POP3_LINE_MAX octets
 * of it): copy it and act on it. */
static int
s2c_response(struct tcp2_pop3 *s)
{
	const struct cmd *h = q_head(s);
	const char *l = s->sline;
	size_t n = s->slen;
	int pos, neg, rc;

	pos = n >= 3 && strncasecmp(l, "+OK", 3) == 0;
	neg = n >= 4 && strncasecmp(l, "-ERR", 4) == 0;
	rc = emit(s, l, n);
	s->slen = 0;
	if (rc != 0 || h == NULL)
		return rc;	/* no command waits: copied, nothing else */
	/* "+ challenge" continues an AUTH exchange. */
	if (h->kind == C_AUTH && h->multi == 0 && !pos && !neg && n > 0 &&
	    l[0] == '+')
		return 0;
	s->cur = *h;
	q_pop(s);
	if (s->cur.kind == C_AUTH && !s->cur.multi)
		s->sasl = SASL_NONE;
	if (!pos) {
		if (s->cur.kind == C_PASS || s->cur.kind == C_APOP ||
		    s->cur.kind == C_AUTH)
			wipe_login(s);
		return 0;
	}
	return s2c_positive(s);
}

static int
s2c_status(struct tcp2_pop3 *s, const uint8_t *p, size_t n, size_t *used)
{
	const uint8_t *nl = memchr(p, '\n', n);
	size_t k = nl ? (size_t)(nl - p) + 1 : n;

	if (s->slen + k > sizeof(s->sline)) {
		/* Overlong: act on its start, copy the rest as it comes. */
		k = sizeof(s->sline) - s->slen;
		memcpy(s->sline + s->slen, p, k);
		s->slen += k;
		*used = k;
		s->s_long = 1;
		return s2c_response(s);
	}
	memcpy(s->sline + s->slen, p, k);
	s->slen += k;
	*used = k;
	return nl ? s2c_response(s) : 0;
}

static int
s2c_feed(struct tcp2_pop3 *s, const uint8_t *p, size_t n)
{
	const uint8_t *nl;
	size_t used = 0;
	int rc = 0;

	if (n > 0 && !s->s_seen) {
		s->s_seen = 1;
		if (p[0] == 0x16 && !s->c_seen)
			go_pass(s, "implicit TLS");
	}
	while (n > 0) {
		if (s->pass)
			return emit(s, p, n);
		if (s->s_long) {
			nl = memchr(p, '\n', n);
			used = nl ? (size_t)(nl - p) + 1 : n;
			if (nl != NULL)
				s->s_long = 0;
			rc = emit(s, p, used);
		} else if (s->rs == R_STATUS) {
			rc = s2c_status(s, p, n, &used);
		} else if (s->rs == R_RAW) {
			rc = s2c_raw(s, p, n, &used);
		} else {
			rc = s2c_msg(s, p, n, &used);
		}
		if (rc != 0)
			return rc;
		p += used;
		n -= used;
	}
	return 0;
}

/* The server closed: flush what may be flushed, never complete. */
static int
s2c_end(struct tcp2_pop3 *s)
{
	enum tcp2_sig_status st;
	int rc = 0, was;

	if (s->pass)
		return 0;
	if (s->slen > 0) {
		rc = emit(s, s->sline, s->slen);
		s->slen = 0;
	}
	if (s->rs != R_MSG || rc != 0)
		return rc;
	if (s->hq) {
		/* Cut short while collected: the client had nothing of it
		 * and will fetch it again (a TCP2 message is never completed,
		 * as below). */
		rc = s->mode == M_DECRYPT ? TCP2_EABORT : 0;
		msg_reset(s);
		return rc;
	}
	switch (s->mode) {
	case M_SKIP:
		break;
	case M_DECRYPT:
		/* A message cut short is not completed. */
		return TCP2_EABORT;
	case M_DETECT:
	case M_KEYX:
		s->st_conv = 0;
		rc = out_msg(s, s->mbuf, s->mlen);
		break;
	case M_PLAIN:
		rc = tcp2_psig_verifier_finish(s->ver, &st, &was);
		break;
	case M_RAW:
		break;
	}
	msg_reset(s);
	return rc;
}

/* ---- the interface ---- */

int
tcp2_pop3_new(struct tcp2_pop3 **sp, const struct tcp2_rw_env *env)
{
	struct tcp2_pop3 *s;
	struct cmd g;
	int rc;

	if (env == NULL)
		return TCP2_EINVAL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return TCP2_ENOMEM;
	s->env = *env;
	/* The greeting is the answer to no command. */
	memset(&g, 0, sizeof(g));
	g.kind = C_GREETING;
	if ((rc = q_push(s, &g)) != 0) {
		free(s);
		return rc;
	}
	*sp = s;
	return 0;
}

/* Results for the engine: 0, TCP2_EABORT or TCP2_ENOMEM; after a failure
 * the session is dead and nothing more leaves it. */
static int
finish_call(struct tcp2_pop3 *s, int rc)
{
	if (rc == 0)
		rc = emit_flush(s);
	if (rc == 0)
		return 0;
	s->dead = 1;
	tcp2_crypto_wipe(s->obuf, s->olen);
	s->olen = 0;
	return rc == TCP2_ENOMEM ? rc : TCP2_EABORT;
}

int
tcp2_pop3_feed(struct tcp2_pop3 *s, enum tcp2_dir dir, const uint8_t *in,
    size_t len, tcp2_out_fn out, void *arg)
{
	int rc;

	if (s->dead)
		return TCP2_EABORT;
	s->out = out;
	s->arg = arg;
	s->out_err = 0;
	rc = dir == TCP2_C2S ? c2s_feed(s, in, len) : s2c_feed(s, in, len);
	return finish_call(s, rc);
}

int
tcp2_pop3_end(struct tcp2_pop3 *s, enum tcp2_dir dir, tcp2_out_fn out,
    void *arg)
{
	int rc = 0;

	if (s->dead)
		return TCP2_EABORT;
	s->out = out;
	s->arg = arg;
	s->out_err = 0;
	if (dir == TCP2_C2S) {
		if (s->clen > 0)
			rc = emit(s, s->cline, s->clen);
		s->clen = 0;
	} else {
		rc = s2c_end(s);
	}
	return finish_call(s, rc);
}

size_t
tcp2_pop3_held(const struct tcp2_pop3 *s, enum tcp2_dir dir)
{
	if (dir == TCP2_C2S)
		return s->clen;
	if (s->rs != R_MSG)
		return s->slen;
	/* Collected or skipped octets are the rewriter's: the message's
	 * end represents them (a held mail is safe on the server). */
	if (s->hq || s->mode == M_SKIP)
		return (size_t)s->dot;
	if (s->mode == M_PLAIN)
		return (size_t)s->dot + psig_held(s);
	return (size_t)(s->mwire - s->mrep);
}

int
tcp2_pop3_is_passthrough(const struct tcp2_pop3 *s)
{
	return s->pass;
}

void
tcp2_pop3_free(struct tcp2_pop3 *s)
{
	if (s == NULL)
		return;
	tcp2_msg_dec_free(s->dec);
	tcp2_psig_verifier_free(s->ver);
	hq_stop(s);
	if (s->mbuf != NULL) {
		tcp2_crypto_wipe(s->mbuf, POP3_KEYX_MAX);
		free(s->mbuf);
	}
	free(s->q);
	tcp2_crypto_wipe(s, sizeof(*s));
	free(s);
}
