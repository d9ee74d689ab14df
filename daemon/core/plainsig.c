/*
 * plainsig.c - signatures on mail sent in clear (seed 003), streaming: the
 * signer passes the message through and appends one "TCP2-Signature:"
 * line; the verifier passes it through except that line, checks it and
 * strips it.  Format: plainsig.h and docs/FORMAT.md section 4.
 *
 * Both sides see the message through the same scanner: it keeps a copy of
 * the first TCP2_MSG_CHUNK bytes (a copy only: bytes are never held for
 * it) to find the single From: with the header.h helpers, and it hashes
 * the message from the first header field that is not a trace field.
 * Servers prepend Return-Path:, Received:, Delivered-To: and
 * X-Original-To: on the way, so the hash must not cover them, or every
 * delivered signature would look forged.  Where hashing starts depends on
 * byte positions only, never on how the input was split.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base64.h"
#include "crypto.h"
#include "error.h"
#include "header.h"
#include "plainsig.h"

#define PSIG_PREFIX	"TCP2-Signature: v=1; f="
#define PSIG_CONTEXT	"TCP2 v1 plain signature"	/* + its NUL */
#define PSIG_B64_LEN	88	/* 64 bytes, base64 with padding */
#define PSIG_SIGIN_MAX	(sizeof(PSIG_CONTEXT) + TCP2_SHA256_LEN + \
			    TCP2_ADDR_MAX)

/* ---- the scanner both sides share ---- */

struct psig_scan {
	char *win;		/* copy of the first TCP2_MSG_CHUNK bytes */
	size_t nwin, scan;	/* bytes copied; header parsed up to scan */
	int hdr_done;		/* header ended, or the window filled */
	int trace_done;		/* hashing has started */
	size_t trace_end;	/* where hashing starts in the window */
	int nfrom;
	char from[TCP2_ADDR_MAX];
	struct tcp2_sha256_ctx *sha;
	uint64_t total;
	uint8_t last;		/* last byte seen */
};

static int
scan_init(struct psig_scan *sc)
{
	memset(sc, 0, sizeof(*sc));
	sc->win = malloc(TCP2_MSG_CHUNK);
	if (sc->win == NULL)
		return TCP2_ENOMEM;
	return tcp2_sha256_open(&sc->sha);
}

static void
scan_free(struct psig_scan *sc)
{
	free(sc->win);
	if (sc->sha != NULL)
		tcp2_sha256_close(sc->sha);
	memset(sc, 0, sizeof(*sc));
}

static int
is_trace(const struct tcp2_hdr_field *f)
{
	return tcp2_hdr_is(f, "Return-Path") || tcp2_hdr_is(f, "Received") ||
	    tcp2_hdr_is(f, "Delivered-To") || tcp2_hdr_is(f, "X-Original-To");
}

/* Parse the header fields now complete in the window. */
static void
scan_fields(struct psig_scan *sc, int at_eof)
{
	struct tcp2_hdr_field f;
	enum tcp2_hdr_status st;
	size_t used;

	while (!sc->hdr_done) {
		st = tcp2_hdr_next(sc->win + sc->scan, sc->nwin - sc->scan,
		    at_eof, &f, &used);
		if (st == TCP2_HDR_MORE)
			return;
		if (st != TCP2_HDR_FIELD) {
			sc->hdr_done = 1;
			break;
		}
		if (!sc->trace_done) {
			if (is_trace(&f))
				sc->trace_end = sc->scan + used;
			else
				sc->trace_done = 1;
		}
		if (tcp2_hdr_is(&f, "From")) {
			sc->nfrom++;
			if (tcp2_hdr_addr(f.value, f.valuelen, sc->from) != 0)
				sc->from[0] = '\0';
		}
		sc->scan += used;
	}
	sc->trace_done = 1;
}

/* Hash what the window held back once the trace fields are known. */
static void
scan_settle(struct psig_scan *sc, int was_done, const char *rest,
    size_t nrest)
{
	if (was_done) {
		tcp2_sha256_write(sc->sha, rest, nrest);
		return;
	}
	if (!sc->trace_done)
		return;
	tcp2_sha256_write(sc->sha, sc->win + sc->trace_end,
	    sc->nwin - sc->trace_end);
	tcp2_sha256_write(sc->sha, rest, nrest);
}

static void
scan_write(struct psig_scan *sc, const void *buf, size_t len)
{
	const char *p = buf;
	size_t n = 0;
	int was = sc->trace_done;

	if (len == 0)
		return;
	sc->total += len;
	sc->last = (uint8_t)p[len - 1];
	if (sc->nwin < TCP2_MSG_CHUNK) {
		n = TCP2_MSG_CHUNK - sc->nwin;
		if (n > len)
			n = len;
		memcpy(sc->win + sc->nwin, p, n);
		sc->nwin += n;
		scan_fields(sc, 0);
		/* A full window ends the search, by position only. */
		if (sc->nwin == TCP2_MSG_CHUNK) {
			sc->hdr_done = 1;
			sc->trace_done = 1;
		}
	}
	/* Bytes past the window were never copied: hash them directly. */
	scan_settle(sc, was, was ? p : p + n, was ? len : len - n);
}

static void
scan_finish(struct psig_scan *sc, uint8_t hash[TCP2_SHA256_LEN])
{
	int was = sc->trace_done;

	scan_fields(sc, 1);
	scan_settle(sc, was, "", 0);
	tcp2_sha256_final(sc->sha, hash);
}

/* The message's line end: that of its first line, CRLF when it has none. */
static const char *
scan_eol(const struct psig_scan *sc)
{
	const char *nl = memchr(sc->win, '\n', sc->nwin);

	if (nl == NULL || (nl > sc->win && nl[-1] == '\r'))
		return "\r\n";
	return "\n";
}

static size_t
sig_input(uint8_t *in, const uint8_t hash[TCP2_SHA256_LEN], const char *f)
{
	size_t n = sizeof(PSIG_CONTEXT), fl = strlen(f);

	memcpy(in, PSIG_CONTEXT, n);	/* with its NUL */
	memcpy(in + n, hash, TCP2_SHA256_LEN);
	n += TCP2_SHA256_LEN;
	memcpy(in + n, f, fl);
	return n + fl;
}

/* ---- signer ---- */

struct tcp2_psig_signer {
	struct psig_scan sc;
	uint8_t ed_sec[32];
	char addr[TCP2_ADDR_MAX];
	int can_sign;
	tcp2_out_fn out;
	void *arg;
	int dead;
};

int
tcp2_psig_signer_new(struct tcp2_psig_signer **sp, const uint8_t ed_sec[32],
    const char *sign_addr, tcp2_out_fn out, void *arg)
{
	struct tcp2_psig_signer *s;
	int rc;

	if (out == NULL)
		return TCP2_EINVAL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return TCP2_ENOMEM;
	if ((rc = scan_init(&s->sc)) != 0) {
		tcp2_psig_signer_free(s);
		return rc;
	}
	if (ed_sec != NULL && sign_addr != NULL &&
	    tcp2_addr_norm(sign_addr, s->addr) == 0) {
		memcpy(s->ed_sec, ed_sec, sizeof(s->ed_sec));
		s->can_sign = 1;
	}
	s->out = out;
	s->arg = arg;
	*sp = s;
	return 0;
}

int
tcp2_psig_signer_write(struct tcp2_psig_signer *s, const void *buf,
    size_t len)
{
	int rc;

	if (s->dead)
		return TCP2_ESTATE;
	if (len == 0)
		return 0;
	scan_write(&s->sc, buf, len);
	if ((rc = s->out(s->arg, buf, len)) != 0)
		s->dead = 1;
	return rc;
}

int
tcp2_psig_signer_finish(struct tcp2_psig_signer *s, int *signed_out)
{
	uint8_t hash[TCP2_SHA256_LEN], sig[TCP2_ED25519_SIG_LEN];
	uint8_t in[PSIG_SIGIN_MAX];
	char b64[PSIG_B64_LEN + 1], line[TCP2_PSIG_LINE_MAX + 1];
	const char *eol;
	int rc, added, n;

	*signed_out = 0;
	if (s->dead)
		return TCP2_ESTATE;
	s->dead = 1;
	scan_finish(&s->sc, hash);
	if (!s->can_sign || s->sc.nfrom != 1 ||
	    strcmp(s->sc.from, s->addr) != 0)
		return 0;
	rc = tcp2_ed25519_sign(sig, s->ed_sec, in, sig_input(in, hash,
	    s->addr));
	if (rc != 0)
		return rc;
	tcp2_b64_encode(b64, sig, sizeof(sig));
	eol = scan_eol(&s->sc);
	added = s->sc.total > 0 && s->sc.last != '\n';
	n = snprintf(line, sizeof(line), "%s" PSIG_PREFIX "%s; n=%d; s=%s%s",
	    added ? eol : "", s->addr, added, b64, eol);
	if (n < 0 || (size_t)n >= sizeof(line))
		return TCP2_ETOOBIG;
	if ((rc = s->out(s->arg, line, (size_t)n)) != 0)
		return rc;
	*signed_out = 1;
	return 0;
}

void
tcp2_psig_signer_free(struct tcp2_psig_signer *s)
{
	if (s == NULL)
		return;
	scan_free(&s->sc);
	tcp2_crypto_wipe(s, sizeof(*s));
	free(s);
}

/* ---- verifier ---- */

/*
 * The last line is held: the line being read (at most TCP2_PSIG_LINE_MAX
 * bytes with its line end, longer ones cannot be a signature and flow
 * through), and the line end before it, which n=1 says to remove.
 */
struct tcp2_psig_verifier {
	struct psig_scan sc;
	tcp2_msg_lookup_fn lookup;
	void *lookup_arg;
	tcp2_out_fn out;
	void *arg;
	char eol[2];		/* line end before the held line */
	size_t neol;
	char line[TCP2_PSIG_LINE_MAX];
	size_t nline;
	int in_long;		/* in a line too long to be a signature */
	int long_cr;		/* its last byte so far, a CR, is held */
	int dead;
};

int
tcp2_psig_verifier_new(struct tcp2_psig_verifier **vp,
    tcp2_msg_lookup_fn lookup, void *lookup_arg, tcp2_out_fn out, void *arg)
{
	struct tcp2_psig_verifier *v;
	int rc;

	if (out == NULL || lookup == NULL)
		return TCP2_EINVAL;
	v = calloc(1, sizeof(*v));
	if (v == NULL)
		return TCP2_ENOMEM;
	if ((rc = scan_init(&v->sc)) != 0) {
		tcp2_psig_verifier_free(v);
		return rc;
	}
	v->lookup = lookup;
	v->lookup_arg = lookup_arg;
	v->out = out;
	v->arg = arg;
	*vp = v;
	return 0;
}

/* Bytes known to be message bytes: hash, scan, pass on. */
static int
v_release(struct tcp2_psig_verifier *v, const void *buf, size_t len)
{
	int rc;

	if (len == 0)
		return 0;
	scan_write(&v->sc, buf, len);
	if ((rc = v->out(v->arg, buf, len)) != 0)
		v->dead = 1;
	return rc;
}

static int
v_release_eol(struct tcp2_psig_verifier *v)
{
	int rc = v_release(v, v->eol, v->neol);

	v->neol = 0;
	return rc;
}

/* A byte follows the complete held line: it was not the last one. */
static int
v_line_done(struct tcp2_psig_verifier *v)
{
	size_t el = 1;
	int rc;

	if (v->nline >= 2 && v->line[v->nline - 2] == '\r')
		el = 2;
	if ((rc = v_release_eol(v)) != 0 ||
	    (rc = v_release(v, v->line, v->nline - el)) != 0)
		return rc;
	memcpy(v->eol, v->line + v->nline - el, el);
	v->neol = el;
	v->nline = 0;
	return 0;
}

/* The held line grew too long to be a signature: let it flow. */
static int
v_go_long(struct tcp2_psig_verifier *v)
{
	size_t n = v->nline;
	int rc;

	v->long_cr = n > 0 && v->line[n - 1] == '\r';
	if ((rc = v_release_eol(v)) != 0 ||
	    (rc = v_release(v, v->line, n - (size_t)v->long_cr)) != 0)
		return rc;
	v->nline = 0;
	v->in_long = 1;
	return 0;
}

/* Inside a long line: pass bytes up to its line end, which is held. */
static int
v_long(struct tcp2_psig_verifier *v, const char *p, size_t len,
    size_t *used)
{
	const char *nl = memchr(p, '\n', len);
	size_t n = nl ? (size_t)(nl - p) : len;
	int cr_before, rc;

	/* A CR held from before is content unless the LF follows now. */
	if (v->long_cr && (n > 0 || nl == NULL)) {
		if ((rc = v_release(v, "\r", 1)) != 0)
			return rc;
		v->long_cr = 0;
	}
	if (nl == NULL) {
		cr_before = n > 0 && p[n - 1] == '\r';
		if ((rc = v_release(v, p, n - (size_t)cr_before)) != 0)
			return rc;
		v->long_cr = cr_before;
		*used = len;
		return 0;
	}
	cr_before = n > 0 ? p[n - 1] == '\r' : v->long_cr;
	if ((rc = v_release(v, p, n - (size_t)(n > 0 && cr_before))) != 0)
		return rc;
	memcpy(v->eol, cr_before ? "\r\n" : "\n", cr_before ? 2 : 1);
	v->neol = cr_before ? 2 : 1;
	v->long_cr = 0;
	v->in_long = 0;
	*used = n + 1;
	return 0;
}

int
tcp2_psig_verifier_write(struct tcp2_psig_verifier *v, const void *buf,
    size_t len)
{
	const char *p = buf, *nl;
	size_t n, used;
	int rc;

	if (v->dead)
		return TCP2_ESTATE;
	while (len > 0) {
		if (v->nline > 0 && v->line[v->nline - 1] == '\n' &&
		    (rc = v_line_done(v)) != 0)
			return rc;
		if (v->in_long) {
			if ((rc = v_long(v, p, len, &used)) != 0)
				return rc;
			p += used;
			len -= used;
			continue;
		}
		if (v->nline == sizeof(v->line)) {
			if ((rc = v_go_long(v)) != 0)
				return rc;
			continue;
		}
		n = sizeof(v->line) - v->nline;
		if (n > len)
			n = len;
		nl = memchr(p, '\n', n);
		if (nl != NULL)
			n = (size_t)(nl - p) + 1;
		memcpy(v->line + v->nline, p, n);
		v->nline += n;
		p += n;
		len -= n;
	}
	return 0;
}

/*
 * Parse a candidate line: PSIG_PREFIX addr "; n=" 0|1 "; s=" 88 base64,
 * then CRLF, LF or nothing.  0 and the fields, or -1: not a signature.
 */
static int
parse_line(const char *l, size_t len, char addr[TCP2_ADDR_MAX], int *n,
    uint8_t sig[TCP2_ED25519_SIG_LEN])
{
	size_t pl = strlen(PSIG_PREFIX), i, al;
	char norm[TCP2_ADDR_MAX];

	if (len > 0 && l[len - 1] == '\n')
		len -= len > 1 && l[len - 2] == '\r' ? 2 : 1;
	if (len < pl || memcmp(l, PSIG_PREFIX, pl) != 0)
		return -1;
	for (i = pl; i < len && l[i] != ';'; i++)
		;
	al = i - pl;
	if (al == 0 || al >= TCP2_ADDR_MAX)
		return -1;
	memcpy(addr, l + pl, al);
	addr[al] = '\0';
	/* Only the normal form is written, so only it is accepted. */
	if (tcp2_addr_norm(addr, norm) != 0 || strcmp(norm, addr) != 0)
		return -1;
	if (len - i != 4 + 1 + 4 + PSIG_B64_LEN ||
	    memcmp(l + i, "; n=", 4) != 0 || (l[i + 4] != '0' &&
	    l[i + 4] != '1') || memcmp(l + i + 5, "; s=", 4) != 0)
		return -1;
	*n = l[i + 4] - '0';
	if (tcp2_b64_decode_exact(sig, TCP2_ED25519_SIG_LEN, l + i + 9,
	    PSIG_B64_LEN) != 0)
		return -1;
	return 0;
}

static enum tcp2_sig_status
v_check(struct tcp2_psig_verifier *v, const char *f,
    const uint8_t sig[TCP2_ED25519_SIG_LEN],
    const uint8_t hash[TCP2_SHA256_LEN])
{
	struct tcp2_msg_sender snd;
	uint8_t in[PSIG_SIGIN_MAX];
	enum tcp2_sig_status st;

	if (v->sc.nfrom != 1 || strcmp(v->sc.from, f) != 0)
		return TCP2_SIG_FORGED;
	memset(&snd, 0, sizeof(snd));
	/* Nobody's key to check it against: we cannot tell. */
	if (v->lookup(v->lookup_arg, f, &snd) != 0) {
		st = TCP2_SIG_UNVERIFIED;
	} else if (strcmp(snd.addr, f) != 0) {
		st = TCP2_SIG_FORGED;
	} else {
		st = tcp2_ed25519_verify(sig, snd.ed_pub, in,
		    sig_input(in, hash, f)) == 0 ? TCP2_SIG_VERIFIED :
		    TCP2_SIG_FORGED;
	}
	tcp2_crypto_wipe(&snd, sizeof(snd));
	return st;
}

int
tcp2_psig_verifier_finish(struct tcp2_psig_verifier *v,
    enum tcp2_sig_status *status, int *was_signed)
{
	uint8_t hash[TCP2_SHA256_LEN], sig[TCP2_ED25519_SIG_LEN];
	char f[TCP2_ADDR_MAX];
	int n, rc;

	*status = TCP2_SIG_UNVERIFIED;
	*was_signed = 0;
	if (v->dead)
		return TCP2_ESTATE;
	if (v->in_long || parse_line(v->line, v->nline, f, &n, sig) != 0) {
		/* No signature line: everything is the message. */
		if ((rc = v_release_eol(v)) != 0 ||
		    (rc = v_release(v, v->line, v->nline)) != 0 ||
		    (v->long_cr && (rc = v_release(v, "\r", 1)) != 0))
			return rc;
		v->nline = 0;
		v->long_cr = 0;
		v->dead = 1;
		scan_finish(&v->sc, hash);
		return 0;
	}
	*was_signed = 1;
	v->dead = 1;
	/* n=1: the line end before the line was added by the signer. */
	if (n == 1 && v->neol == 0) {
		*status = TCP2_SIG_FORGED;
	} else if (n == 0 && (rc = v_release_eol(v)) != 0) {
		return rc;
	}
	v->neol = 0;
	v->nline = 0;
	scan_finish(&v->sc, hash);
	if (*status != TCP2_SIG_FORGED)
		*status = v_check(v, f, sig, hash);
	return 0;
}

size_t
tcp2_psig_verifier_held(const struct tcp2_psig_verifier *v)
{
	return v->neol + v->nline + (size_t)v->long_cr;
}

void
tcp2_psig_verifier_free(struct tcp2_psig_verifier *v)
{
	if (v == NULL)
		return;
	scan_free(&v->sc);
	free(v);
}
