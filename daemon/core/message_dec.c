/*
 * message_dec.c - streaming decoder of TCP2 messages (format v1).
 *
 * The input is a TCP2 message as a server delivers it: maybe with trace
 * fields added, with CRLF or LF line ends.  A line-driven state machine
 * walks the header and the two MIME parts; the second part's base64 lines
 * feed the binary stream: the prefix and key wraps, then AEAD chunks.  A
 * chunk is opened as "not last" only once a byte after it has arrived;
 * the chunk that ends at the closing delimiter must be the sealed last one.
 * Plaintext goes out as soon as its chunk authenticated, except a sliding
 * tail of MSG_TRAILER_MAX bytes that may turn out to be the trailer.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base64.h"
#include "error.h"
#include "hasher.h"
#include "message_int.h"
#include "pack.h"

#define DEC_LINE_MAX	8192	/* longest line kept (longer: prefix only) */

enum dec_state {
	D_HDR,		/* the message header */
	D_PRE,		/* preamble, up to the first delimiter */
	D_P1H, D_P1B,	/* control part: header, body */
	D_P2H, D_P2B,	/* data part: header, base64 body */
	D_DONE,		/* after the close delimiter: epilogue, ignored */
};

enum dec_field {
	F_SKIP, F_FROM, F_CTYPE, F_TRACE,
};

struct tcp2_msg_dec {
	struct tcp2_msg_dec_params p;
	enum dec_state st;
	int dead;

	char line[DEC_LINE_MAX];
	size_t llen;			/* bytes kept of the current line */
	int overlong;

	char field[TCP2_MSG_FIELD_MAX];
	size_t flen;
	enum dec_field fkind;
	char from_addr[TCP2_ADDR_MAX];
	int nfrom;
	char boundary[72];
	size_t blen;			/* strlen(boundary), once known */
	int ctype_ok;
	int version_ok;
	int cte_ok;

	struct tcp2_b64_dec b64;
	uint8_t binhdr[MSG_PREFIX_LEN + TCP2_MSG_MAX_RCPT * MSG_WRAP_LEN];
	size_t bhlen, bhneed;
	int keyed;
	struct tcp2_msg_sender sender;
	struct tcp2_aead *aead;
	uint8_t aad[TCP2_SHA256_LEN];
	uint8_t cbuf[MSG_SEALED_CHUNK];
	size_t cblen;
	uint64_t counter;
	uint8_t pbuf[MSG_SEALED_CHUNK];

	int version;			/* of the binary stream */
	struct tcp2_unpack unp;		/* version 2: plaintext -> original */
	uint8_t tail[MSG_TRAILER_MAX];
	size_t tlen;
	struct tcp2_hasher *sha;
	char head[MSG_HEAD_COPY];	/* first plaintext bytes, for From: */
	size_t headlen;

	int finished;
	enum tcp2_sig_status status;
	const char *reason;
};

int
tcp2_msg_dec_new(struct tcp2_msg_dec **dp, const struct tcp2_msg_dec_params *p)
{
	struct tcp2_msg_dec *d;

	if (p->lookup == NULL || p->out == NULL)
		return TCP2_EINVAL;
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return TCP2_ENOMEM;
	d->p = *p;
	d->bhneed = MSG_PREFIX_LEN;
	d->reason = "";
	tcp2_b64_dec_init(&d->b64);
	if (tcp2_hasher_new(&d->sha, p->parallel) != 0) {
		free(d);
		return TCP2_ENOMEM;
	}
	*dp = d;
	return 0;
}

static int
dec_fail(struct tcp2_msg_dec *d, int rc)
{
	d->dead = 1;
	return rc;
}

/* The original, authenticated: to the sink, the hash and the head copy. */
static int
dec_deliver(void *arg, const void *buf, size_t n)
{
	struct tcp2_msg_dec *d = arg;
	const uint8_t *p = buf;
	size_t k;

	if (n == 0)
		return 0;
	tcp2_hasher_write(d->sha, p, n);
	if (d->headlen < sizeof(d->head)) {
		k = sizeof(d->head) - d->headlen;
		if (k > n)
			k = n;
		memcpy(d->head + d->headlen, p, k);
		d->headlen += k;
	}
	return d->p.out(d->p.arg, p, n);
}

/* Plaintext stream that authenticated, its trailer split off. */
static int
dec_release(struct tcp2_msg_dec *d, const uint8_t *p, size_t n)
{
	if (d->version == TCP2_MSG_VERSION_UNPACKED)
		return dec_deliver(d, p, n);
	return tcp2_unpack_write(&d->unp, p, n);
}

/* Pass plaintext on, keeping the last MSG_TRAILER_MAX bytes back. */
static int
dec_plain(struct tcp2_msg_dec *d, const uint8_t *p, size_t n)
{
	size_t out;
	int rc;

	if (n >= MSG_TRAILER_MAX) {
		if ((rc = dec_release(d, d->tail, d->tlen)) != 0 ||
		    (rc = dec_release(d, p, n - MSG_TRAILER_MAX)) != 0)
			return rc;
		memcpy(d->tail, p + n - MSG_TRAILER_MAX, MSG_TRAILER_MAX);
		d->tlen = MSG_TRAILER_MAX;
		return 0;
	}
	if (d->tlen + n > MSG_TRAILER_MAX) {
		out = d->tlen + n - MSG_TRAILER_MAX;
		if ((rc = dec_release(d, d->tail, out)) != 0)
			return rc;
		memmove(d->tail, d->tail + out, d->tlen - out);
		d->tlen -= out;
	}
	memcpy(d->tail + d->tlen, p, n);
	d->tlen += n;
	return 0;
}

static int
dec_open_chunk(struct tcp2_msg_dec *d, int last)
{
	uint8_t nonce[TCP2_AEAD_NONCE_LEN];
	size_t n = d->cblen - TCP2_AEAD_TAG_LEN;
	int rc;

	tcp2_msg_nonce(nonce, d->counter, last);
	rc = tcp2_aead_open(d->aead, d->pbuf, nonce, d->aad, sizeof(d->aad),
	    d->cbuf, d->cblen);
	if (rc == TCP2_EAUTH && last) {
		/* A chunk sealed as "not last" at the end: cut short. */
		tcp2_msg_nonce(nonce, d->counter, 0);
		if (tcp2_aead_open(d->aead, d->pbuf, nonce, d->aad,
		    sizeof(d->aad), d->cbuf, d->cblen) == 0) {
			tcp2_crypto_wipe(d->pbuf, n);
			rc = TCP2_ETRUNC;
		}
	}
	if (rc != 0)
		return rc;
	d->counter++;
	d->cblen = 0;
	/* pbuf is not wiped here: the next chunk overwrites it, and
	 * tcp2_msg_dec_free wipes the whole decoder (a 10 MB message: 10 MB
	 * of memset less). */
	return dec_plain(d, d->pbuf, n);
}

/* The binary header is complete: find our wrap and open the message key. */
static int
dec_unwrap(struct tcp2_msg_dec *d)
{
	uint8_t wk[TCP2_AEAD_KEY_LEN], hint[MSG_HINT_LEN];
	uint8_t mk[TCP2_MSG_KEY_LEN], pk[TCP2_AEAD_KEY_LEN];
	uint8_t nonce[TCP2_AEAD_NONCE_LEN] = { 0 };
	const uint8_t *salt = d->binhdr + 8, *w;
	size_t nw = (d->bhlen - MSG_PREFIX_LEN) / MSG_WRAP_LEN, i, k;
	struct tcp2_aead *a;
	int rc, found = 0;

	if (d->from_addr[0] == '\0' || d->nfrom != 1)
		return TCP2_ENOKEY;
	rc = d->p.lookup(d->p.lookup_arg, d->from_addr, &d->sender);
	if (rc != 0)
		return rc;
	for (k = 0; k < d->sender.nkeys && k < TCP2_MSG_MAX_KEYS && !found;
	    k++) {
		if (tcp2_msg_wrap_key(d->sender.keys[k], salt, wk, hint) != 0)
			break;
		if (tcp2_aead_open_ctx(&a, wk) != 0)
			break;
		for (i = 0; i < nw && !found; i++) {
			w = d->binhdr + MSG_PREFIX_LEN + i * MSG_WRAP_LEN;
			if (memcmp(w, hint, MSG_HINT_LEN) == 0 &&
			    tcp2_aead_open(a, mk, nonce, d->binhdr,
			    MSG_PREFIX_LEN, w + MSG_HINT_LEN,
			    TCP2_MSG_KEY_LEN + TCP2_AEAD_TAG_LEN) == 0)
				found = 1;
		}
		tcp2_aead_close(a);
	}
	tcp2_crypto_wipe(wk, sizeof(wk));
	/* Keys of the sender are not needed any more. */
	tcp2_crypto_wipe(d->sender.keys, sizeof(d->sender.keys));
	if (!found)
		return TCP2_ENOKEY;
	rc = tcp2_msg_payload_key(mk, salt, pk);
	if (rc == 0)
		rc = tcp2_aead_open_ctx(&d->aead, pk);
	tcp2_crypto_wipe(mk, sizeof(mk));
	tcp2_crypto_wipe(pk, sizeof(pk));
	if (rc != 0)
		return rc;
	tcp2_sha256(d->aad, d->binhdr, d->bhlen);
	d->keyed = 1;
	return 0;
}

/* Check the fixed prefix once its 24 bytes are in. */
static int
dec_prefix(struct tcp2_msg_dec *d)
{
	const uint8_t *b = d->binhdr;
	size_t nw;

	if (memcmp(b, MSG_MAGIC, 4) != 0)
		return TCP2_EFORMAT;
	if (b[4] != TCP2_MSG_VERSION && b[4] != TCP2_MSG_VERSION_UNPACKED)
		return TCP2_EVERSION;
	d->version = b[4];
	tcp2_unpack_init(&d->unp, TCP2_MSG_CHUNK, dec_deliver, d);
	nw = (size_t)b[6] << 8 | b[7];
	if (b[5] != MSG_CHUNK_LOG2 || nw == 0 || nw > TCP2_MSG_MAX_RCPT)
		return TCP2_EFORMAT;
	d->bhneed = MSG_PREFIX_LEN + nw * MSG_WRAP_LEN;
	return 0;
}

/* Bytes of the binary stream, in order. */
static int
dec_bin(struct tcp2_msg_dec *d, const uint8_t *p, size_t n)
{
	size_t k;
	int rc;

	while (n > 0) {
		if (!d->keyed) {
			k = d->bhneed - d->bhlen;
			if (k > n)
				k = n;
			memcpy(d->binhdr + d->bhlen, p, k);
			d->bhlen += k;
			p += k;
			n -= k;
			if (d->bhlen == MSG_PREFIX_LEN &&
			    d->bhneed == MSG_PREFIX_LEN &&
			    (rc = dec_prefix(d)) != 0)
				return rc;
			if (d->bhlen == d->bhneed && d->bhneed > MSG_PREFIX_LEN &&
			    (rc = dec_unwrap(d)) != 0)
				return rc;
			continue;
		}
		if (d->cblen == MSG_SEALED_CHUNK &&
		    (rc = dec_open_chunk(d, 0)) != 0)
			return rc;
		k = MSG_SEALED_CHUNK - d->cblen;
		if (k > n)
			k = n;
		memcpy(d->cbuf + d->cblen, p, k);
		d->cblen += k;
		p += k;
		n -= k;
	}
	return 0;
}

/* Verify From: and the signature once the whole plaintext is known. */
static void
dec_verify(struct tcp2_msg_dec *d, const uint8_t *sig)
{
	struct tcp2_hdr_field f;
	char inner[TCP2_ADDR_MAX] = "";
	uint8_t hh[TCP2_SHA256_LEN], bh[TCP2_SHA256_LEN];
	uint8_t in[TCP2_MSG_SIGIN_MAX];
	const char *h = d->head;
	size_t len = d->headlen, used, n;
	int nfrom = 0;

	while (tcp2_hdr_next(h, len, d->headlen < sizeof(d->head), &f,
	    &used) == TCP2_HDR_FIELD) {
		if (tcp2_hdr_is(&f, "From") && nfrom++ == 0 &&
		    tcp2_hdr_addr(f.value, f.valuelen, inner) != 0)
			inner[0] = '\0';
		h += used;
		len -= used;
	}
	if (nfrom != 1 || inner[0] == '\0') {
		d->status = TCP2_SIG_FORGED;
		d->reason = "the decrypted message has no single From: address";
		return;
	}
	if (strcmp(inner, d->sender.addr) != 0) {
		d->status = TCP2_SIG_FORGED;
		d->reason = "From: is not the owner of the key that encrypted it";
		return;
	}
	if (sig == NULL) {
		d->status = TCP2_SIG_UNVERIFIED;
		return;
	}
	tcp2_sha256(hh, d->binhdr, d->bhlen);
	tcp2_hasher_final(d->sha, bh);
	n = tcp2_msg_sig_input(in, hh, bh, inner);
	if (tcp2_ed25519_verify(sig, d->sender.ed_pub, in, n) == 0) {
		d->status = TCP2_SIG_VERIFIED;
	} else {
		d->status = TCP2_SIG_FORGED;
		d->reason = "bad signature";
	}
}

/* The close delimiter: open the last chunk and split off the trailer. */
static int
dec_end(struct tcp2_msg_dec *d)
{
	uint8_t sig[TCP2_ED25519_SIG_LEN];
	size_t keep;
	int rc, flags;

	if (tcp2_b64_dec_final(&d->b64) != 0)
		return TCP2_EFORMAT;
	if (!d->keyed || d->cblen <= TCP2_AEAD_TAG_LEN)
		return TCP2_ETRUNC;
	if ((rc = dec_open_chunk(d, 1)) != 0)
		return rc;
	if (d->tlen == 0)
		return TCP2_EFORMAT;
	flags = d->tail[d->tlen - 1];
	if (flags & ~MSG_FLAG_SIGNED)
		return TCP2_EFORMAT;
	keep = d->tlen - 1;
	if (flags & MSG_FLAG_SIGNED) {
		if (keep < TCP2_ED25519_SIG_LEN)
			return TCP2_EFORMAT;
		keep -= TCP2_ED25519_SIG_LEN;
		memcpy(sig, d->tail + keep, sizeof(sig));
	}
	if ((rc = dec_release(d, d->tail, keep)) != 0 ||
	    (rc = tcp2_unpack_finish(&d->unp)) != 0)
		return rc;
	d->tlen = 0;
	dec_verify(d, (flags & MSG_FLAG_SIGNED) ? sig : NULL);
	d->st = D_DONE;
	return 0;
}

/* Is the line (without its end) "--boundary" (2) or "--boundary--" (3)? */
static int
dec_delim(const struct tcp2_msg_dec *d, const char *l, size_t n)
{
	size_t bl = d->blen;

	while (n > 0 && (l[n - 1] == ' ' || l[n - 1] == '\t'))
		n--;
	if (bl == 0 || n < bl + 2 || l[0] != '-' || l[1] != '-' ||
	    memcmp(l + 2, d->boundary, bl) != 0)
		return 0;
	if (n == bl + 2)
		return 2;
	if (n == bl + 4 && l[bl + 2] == '-' && l[bl + 3] == '-')
		return 3;
	return 0;
}

/* A complete header field of the TCP2 message. */
static int
dec_field_done(struct tcp2_msg_dec *d)
{
	struct tcp2_hdr_field f;
	char v[72];
	size_t used;

	if (d->fkind == F_SKIP || d->flen == 0)
		return 0;
	if (tcp2_hdr_next(d->field, d->flen, 1, &f, &used) != TCP2_HDR_FIELD)
		return TCP2_EFORMAT;
	switch (d->fkind) {
	case F_FROM:
		if (d->nfrom++ == 0 &&
		    tcp2_hdr_addr(f.value, f.valuelen, d->from_addr) != 0)
			d->from_addr[0] = '\0';
		break;
	case F_CTYPE:
		if (tcp2_hdr_param(f.value, f.valuelen, "protocol", v,
		    sizeof(v)) != 0 || strcasecmp(v, MSG_PROTOCOL) != 0 ||
		    tcp2_hdr_param(f.value, f.valuelen, "boundary",
		    d->boundary, sizeof(d->boundary)) != 0)
			return TCP2_EFORMAT;
		d->blen = strlen(d->boundary);
		d->ctype_ok = 1;
		break;
	case F_TRACE:
		return d->p.out(d->p.arg, d->field, d->flen);
	default:
		break;
	}
	return 0;
}

static enum dec_field
dec_field_kind(const struct tcp2_msg_dec *d, const char *l, size_t n)
{
	static const char *const trace[] = {
		"Return-Path:", "Received:", "Delivered-To:", "X-Original-To:",
	};
	size_t i, tl;

	if (n >= 5 && strncasecmp(l, "From:", 5) == 0)
		return F_FROM;
	if (n >= 13 && strncasecmp(l, "Content-Type:", 13) == 0)
		return F_CTYPE;
	if (d->p.flags & TCP2_DEC_KEEP_TRACE) {
		for (i = 0; i < sizeof(trace) / sizeof(trace[0]); i++) {
			tl = strlen(trace[i]);
			if (n >= tl && strncasecmp(l, trace[i], tl) == 0)
				return F_TRACE;
		}
	}
	return F_SKIP;
}

/* One line of the message header (raw, with its line end). */
static int
dec_hdr_line(struct tcp2_msg_dec *d, const char *raw, size_t rawlen,
    size_t n)
{
	int rc;

	if (n > 0 && (raw[0] == ' ' || raw[0] == '\t')) {
		if (d->fkind == F_SKIP)
			return 0;
		if (d->overlong || d->flen + rawlen > sizeof(d->field)) {
			/* Trace fields that long are dropped, not fatal. */
			if (d->fkind == F_TRACE) {
				d->fkind = F_SKIP;
				return 0;
			}
			return TCP2_ETOOBIG;
		}
		memcpy(d->field + d->flen, raw, rawlen);
		d->flen += rawlen;
		return 0;
	}
	if ((rc = dec_field_done(d)) != 0)
		return rc;
	d->flen = 0;
	if (n == 0) {
		if (!d->ctype_ok)
			return TCP2_EFORMAT;
		d->st = D_PRE;
		return 0;
	}
	if (memchr(raw, ':', n) == NULL)
		return TCP2_EFORMAT;
	d->fkind = dec_field_kind(d, raw, n);
	if (d->fkind == F_SKIP)
		return 0;
	if (d->overlong || rawlen > sizeof(d->field)) {
		if (d->fkind == F_TRACE) {
			d->fkind = F_SKIP;
			return 0;
		}
		return TCP2_ETOOBIG;
	}
	memcpy(d->field, raw, rawlen);
	d->flen = rawlen;
	return 0;
}

static int
dec_b64_line(struct tcp2_msg_dec *d, const char *l, size_t n)
{
	uint8_t bin[DEC_LINE_MAX / 4 * 3 + 3];
	long k;

	if (d->overlong)
		return TCP2_EFORMAT;
	/* Most lines fit in the open chunk: decoded straight into it.  (A
	 * line that fills it exactly leaves it full, opened only when more
	 * bytes follow, as dec_bin does.) */
	if (d->keyed && d->cblen + n / 4 * 3 + 3 <= MSG_SEALED_CHUNK) {
		k = tcp2_b64_dec_line(&d->b64, d->cbuf + d->cblen, l, n);
		if (k < 0)
			return (int)k;
		d->cblen += (size_t)k;
		return 0;
	}
	k = tcp2_b64_dec_line(&d->b64, bin, l, n);
	if (k < 0)
		return (int)k;
	return dec_bin(d, bin, (size_t)k);
}

/* One complete line: raw includes the line end, n is the content length. */
static int
dec_line(struct tcp2_msg_dec *d, const char *raw, size_t rawlen, size_t n)
{
	int delim = d->st == D_HDR ? 0 : dec_delim(d, raw, n);

	switch (d->st) {
	case D_HDR:
		return dec_hdr_line(d, raw, rawlen, n);
	case D_PRE:
		if (delim == 3)
			return TCP2_EFORMAT;
		if (delim == 2)
			d->st = D_P1H;
		return 0;
	case D_P1H:
	case D_P2H:
		if (delim)
			return TCP2_EFORMAT;
		if (d->st == D_P2H && n >= 26 &&
		    strncasecmp(raw, "Content-Transfer-Encoding:", 26) == 0) {
			const char *v = raw + 26;
			size_t vl = n - 26;
			while (vl > 0 && (*v == ' ' || *v == '\t')) {
				v++;
				vl--;
			}
			while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
				vl--;
			d->cte_ok = vl == 6 && strncasecmp(v, "base64", 6) == 0;
		}
		if (n == 0) {
			if (d->st == D_P2H && !d->cte_ok)
				return TCP2_EFORMAT;
			d->st = d->st == D_P1H ? D_P1B : D_P2B;
		}
		return 0;
	case D_P1B:
		if (delim == 3)
			return TCP2_EFORMAT;
		if (delim == 2) {
			if (!d->version_ok)
				return TCP2_EVERSION;
			d->st = D_P2H;
			return 0;
		}
		if (n >= 8 && strncasecmp(raw, "Version:", 8) == 0) {
			if (n == 10 && raw[8] == ' ' && raw[9] == '1')
				d->version_ok = 1;
			else
				return TCP2_EVERSION;
		}
		return 0;
	case D_P2B:
		if (delim == 3)
			return dec_end(d);
		if (delim == 2)
			return TCP2_EFORMAT;
		return dec_b64_line(d, raw, n);
	case D_DONE:
		return 0;
	}
	return TCP2_EFORMAT;
}

/* A complete line at raw[0..rawlen): strip its end, hand it on. */
static int
dec_whole_line(struct tcp2_msg_dec *d, const char *raw, size_t rawlen)
{
	size_t n = rawlen;

	if (n > 0 && raw[n - 1] == '\n' && !d->overlong)
		n--;
	if (n > 0 && raw[n - 1] == '\r' && !d->overlong)
		n--;
	return dec_line(d, raw, rawlen, n);
}

/* Deliver the line buffered so far; rawlen covers the kept bytes. */
static int
dec_flush_line(struct tcp2_msg_dec *d)
{
	int rc;

	rc = dec_whole_line(d, d->line, d->llen);
	d->llen = 0;
	d->overlong = 0;
	return rc;
}

int
tcp2_msg_dec_write(struct tcp2_msg_dec *d, const void *buf, size_t len)
{
	const char *p = buf, *nl;
	size_t k, take;
	int rc;

	if (d->dead || d->finished)
		return TCP2_ESTATE;
	while (len > 0) {
		/* The bulk of the data part: whole base64 lines, many at a
		 * time, straight into the open chunk (never filling it: a
		 * full chunk is opened only once more bytes follow). */
		if (d->st == D_P2B && d->keyed && d->llen == 0) {
			k = tcp2_b64_dec_lines(&d->b64, d->cbuf + d->cblen,
			    sizeof(d->cbuf) - d->cblen, p, len, &take);
			d->cblen += take;
			p += k;
			len -= k;
			if (len == 0)
				break;
		}
		nl = memchr(p, '\n', len);
		k = nl ? (size_t)(nl - p) + 1 : len;
		/* A whole line in the caller's buffer needs no copy. */
		if (nl != NULL && d->llen == 0 && k <= sizeof(d->line)) {
			if ((rc = dec_whole_line(d, p, k)) != 0)
				return dec_fail(d, rc);
			p += k;
			len -= k;
			continue;
		}
		take = k;
		if (d->llen + take > sizeof(d->line)) {
			take = sizeof(d->line) - d->llen;
			d->overlong = 1;
		}
		memcpy(d->line + d->llen, p, take);
		d->llen += take;
		p += k;
		len -= k;
		if (nl != NULL && (rc = dec_flush_line(d)) != 0)
			return dec_fail(d, rc);
	}
	return 0;
}

int
tcp2_msg_dec_finish(struct tcp2_msg_dec *d)
{
	int rc;

	if (d->dead || d->finished)
		return TCP2_ESTATE;
	/* A last line without a line end still counts. */
	if (d->llen > 0 && (rc = dec_flush_line(d)) != 0)
		return dec_fail(d, rc);
	if (d->st != D_DONE)
		return dec_fail(d, d->st == D_HDR ? TCP2_EFORMAT : TCP2_ETRUNC);
	d->finished = 1;
	return 0;
}

size_t
tcp2_msg_dec_held(const struct tcp2_msg_dec *d)
{
	return d->llen + d->flen + d->cblen + d->tlen +
	    (d->keyed ? 0 : d->bhlen) + d->b64.nquad +
	    tcp2_unpack_held(&d->unp);
}

enum tcp2_sig_status
tcp2_msg_dec_status(const struct tcp2_msg_dec *d)
{
	return d->status;
}

const uint8_t *
tcp2_msg_dec_salt(const struct tcp2_msg_dec *d)
{
	return d->binhdr + 8;
}

const char *
tcp2_msg_dec_sender(const struct tcp2_msg_dec *d)
{
	return d->sender.addr;
}

const char *
tcp2_msg_dec_reason(const struct tcp2_msg_dec *d)
{
	return d->reason;
}

void
tcp2_msg_dec_free(struct tcp2_msg_dec *d)
{
	if (d == NULL)
		return;
	tcp2_aead_close(d->aead);
	tcp2_hasher_free(d->sha);
	tcp2_crypto_wipe(d, sizeof(*d));
	free(d);
}
