/*
 * message_enc.c - streaming encoder of TCP2 messages (format v1, binary
 * stream version 2).
 *
 * The input is the original message.  Its first chunk doubles as the
 * header window: the clear header is written once the header block ended
 * or the window filled, from the fields found in it, so the clear header
 * depends on byte positions only.  After it the packer (pack.h) turns the
 * input's base64 lines into the bytes they encode.  Every full chunk of
 * the resulting stream is sealed as soon as one more byte proves it is not
 * the last (the stream always ends with a trailer byte, so the last chunk
 * is never empty).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "error.h"
#include "hasher.h"
#include "message_int.h"
#include "pack.h"

#define ENC_MAX_CLEAR	64	/* clear fields copied at most */
#define ENC_INBUF	(64u << 10)	/* tcp2_msg_enc_space's own buffer */

struct enc_clear {
	size_t off, len;
};

struct tcp2_msg_enc {
	tcp2_out_fn out;
	void *arg;
	uint8_t sign_sec[TCP2_ED25519_SEC_LEN];
	int can_sign;
	char sign_addr[TCP2_ADDR_MAX];

	uint8_t salt[TCP2_MSG_SALT_LEN];
	uint8_t *binhdr;		/* prefix and key wraps */
	size_t binhdrlen;
	uint8_t aad[TCP2_SHA256_LEN];	/* SHA-256 of binhdr */
	struct tcp2_aead *aead;
	struct tcp2_hasher *sha;	/* of the original, for signing */

	struct tcp2_pack pack;		/* input -> plaintext stream */
	uint64_t in_total;		/* input bytes taken */
	uint64_t rep;			/* input the stream so far stands for */
	uint64_t out_rep;		/* ... the sealed part of it */

	uint8_t chunk[TCP2_MSG_CHUNK];
	size_t clen;
	uint64_t counter;
	uint8_t sealed[MSG_SEALED_CHUNK];
	char *b64;
	struct tcp2_b64_enc b64e;
	uint8_t *inbuf;			/* ENC_INBUF, once asked for */
	uint8_t *space;			/* the last space given */
	size_t space_len;		/* ... its size */
	int space_ring;			/* ... in the hasher's ring */

	int mime_done;
	size_t scan;			/* header fields parsed up to here */
	struct enc_clear clear[ENC_MAX_CLEAR];
	size_t nclear;
	char from_addr[TCP2_ADDR_MAX];
	int nfrom;
	char eol[3];
	char boundary[48];
	int dead;
	int is_signed;
};

static int enc_pack_out(void *, const uint8_t *, size_t, size_t, int);

static int
enc_emit(struct tcp2_msg_enc *e, const void *buf, size_t len)
{
	int rc;

	if (len == 0)
		return 0;
	rc = e->out(e->arg, buf, len);
	if (rc != 0)
		e->dead = 1;
	return rc;
}

static int
enc_emits(struct tcp2_msg_enc *e, const char *s)
{
	return enc_emit(e, s, strlen(s));
}

/* Build the binary header: prefix, then one key wrap per recipient. */
static int
enc_binhdr(struct tcp2_msg_enc *e, const struct tcp2_msg_enc_params *p,
    const uint8_t mk[TCP2_MSG_KEY_LEN])
{
	uint8_t wk[TCP2_AEAD_KEY_LEN], nonce[TCP2_AEAD_NONCE_LEN] = { 0 };
	struct tcp2_aead *a;
	uint8_t *w;
	size_t i;
	int rc = 0;

	e->binhdrlen = MSG_PREFIX_LEN + p->nkeys * MSG_WRAP_LEN;
	e->binhdr = malloc(e->binhdrlen);
	if (e->binhdr == NULL)
		return TCP2_ENOMEM;
	memcpy(e->binhdr, MSG_MAGIC, 4);
	e->binhdr[4] = TCP2_MSG_VERSION;
	e->binhdr[5] = MSG_CHUNK_LOG2;
	e->binhdr[6] = (uint8_t)(p->nkeys >> 8);
	e->binhdr[7] = (uint8_t)p->nkeys;
	memcpy(e->binhdr + 8, e->salt, TCP2_MSG_SALT_LEN);
	for (i = 0; i < p->nkeys && rc == 0; i++) {
		w = e->binhdr + MSG_PREFIX_LEN + i * MSG_WRAP_LEN;
		rc = tcp2_msg_wrap_key(p->keys[i], e->salt, wk, w);
		if (rc == 0)
			rc = tcp2_aead_open_ctx(&a, wk);
		if (rc == 0) {
			/* Each wrap key is unique to this salt: nonce 0. */
			rc = tcp2_aead_seal(a, w + MSG_HINT_LEN, nonce,
			    e->binhdr, MSG_PREFIX_LEN, mk, TCP2_MSG_KEY_LEN);
			tcp2_aead_close(a);
		}
	}
	tcp2_crypto_wipe(wk, sizeof(wk));
	tcp2_sha256(e->aad, e->binhdr, e->binhdrlen);
	return rc;
}

int
tcp2_msg_enc_new(struct tcp2_msg_enc **ep, const struct tcp2_msg_enc_params *p)
{
	struct tcp2_msg_enc *e;
	uint8_t mk[TCP2_MSG_KEY_LEN], pk[TCP2_AEAD_KEY_LEN];
	int rc;

	if (p->nkeys == 0 || p->nkeys > TCP2_MSG_MAX_RCPT || p->out == NULL)
		return TCP2_EINVAL;
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return TCP2_ENOMEM;
	e->out = p->out;
	e->arg = p->arg;
	tcp2_pack_init(&e->pack, TCP2_MSG_CHUNK, enc_pack_out, e);
	if (p->sign_sec != NULL && p->sign_addr != NULL &&
	    tcp2_addr_norm(p->sign_addr, e->sign_addr) == 0) {
		memcpy(e->sign_sec, p->sign_sec, sizeof(e->sign_sec));
		e->can_sign = 1;
	}
	if (p->fixed_mk)
		memcpy(mk, p->fixed_mk, sizeof(mk));
	else
		tcp2_crypto_random(mk, sizeof(mk));
	if (p->fixed_salt)
		memcpy(e->salt, p->fixed_salt, sizeof(e->salt));
	else
		tcp2_crypto_random(e->salt, sizeof(e->salt));

	e->b64 = malloc(TCP2_B64_ENC_BOUND(MSG_SEALED_CHUNK));
	rc = e->b64 ? 0 : TCP2_ENOMEM;
	if (rc == 0)
		rc = enc_binhdr(e, p, mk);
	if (rc == 0)
		rc = tcp2_msg_payload_key(mk, e->salt, pk);
	if (rc == 0)
		rc = tcp2_aead_open_ctx(&e->aead, pk);
	/* Nothing to sign, nothing to hash. */
	if (rc == 0 && e->can_sign)
		rc = tcp2_hasher_new(&e->sha, p->parallel);
	tcp2_crypto_wipe(mk, sizeof(mk));
	tcp2_crypto_wipe(pk, sizeof(pk));
	if (rc != 0) {
		tcp2_msg_enc_free(e);
		return rc;
	}
	*ep = e;
	return 0;
}

/* Note the header fields now complete in the window. */
static void
enc_scan(struct tcp2_msg_enc *e, int at_eof, int *ended)
{
	struct tcp2_hdr_field f;
	enum tcp2_hdr_status st;
	size_t used;

	*ended = 0;
	for (;;) {
		st = tcp2_hdr_next((const char *)e->chunk + e->scan,
		    e->clen - e->scan, at_eof, &f, &used);
		if (st != TCP2_HDR_FIELD) {
			*ended = st == TCP2_HDR_END || st == TCP2_HDR_BODY;
			return;
		}
		if (tcp2_hdr_is(&f, "From")) {
			e->nfrom++;
			/* The receiver needs it in clear: too long a field
			 * means no usable From: (TCP2_ENOFROM). */
			if (f.rawlen > TCP2_MSG_FIELD_MAX ||
			    tcp2_hdr_addr(f.value, f.valuelen, e->from_addr) != 0)
				e->from_addr[0] = '\0';
		}
		/* The last slot is kept for From:. */
		if (tcp2_msg_clear_field(&f) && f.rawlen <= TCP2_MSG_FIELD_MAX &&
		    (e->nclear < ENC_MAX_CLEAR - 1 || (e->nclear < ENC_MAX_CLEAR &&
		    tcp2_hdr_is(&f, "From")))) {
			e->clear[e->nclear].off = e->scan;
			e->clear[e->nclear].len = f.rawlen;
			e->nclear++;
		}
		e->scan += used;
	}
}

/* Copy one clear field, its line ends rewritten to the output's. */
static int
enc_emit_field(struct tcp2_msg_enc *e, const uint8_t *p, size_t len)
{
	size_t i, start = 0;
	int rc;

	for (i = 0; i < len; i++) {
		if (p[i] != '\n')
			continue;
		rc = enc_emit(e, p + start,
		    i - start - (i > start && p[i - 1] == '\r'));
		if (rc == 0)
			rc = enc_emits(e, e->eol);
		if (rc != 0)
			return rc;
		start = i + 1;
	}
	/* A field cut by the end of input still ends its line here. */
	if (start < len && ((rc = enc_emit(e, p + start, len - start)) != 0 ||
	    (rc = enc_emits(e, e->eol)) != 0))
		return rc;
	return 0;
}

/* The clear header, the MIME scaffolding and the binary header. */
static int
enc_mime(struct tcp2_msg_enc *e)
{
	const uint8_t *nl;
	char buf[1024];
	size_t i, n;
	int rc = 0;

	/* The receiver finds the sender's key through the clear From:. */
	if (e->nfrom != 1 || e->from_addr[0] == '\0') {
		e->dead = 1;
		return TCP2_ENOFROM;
	}
	nl = memchr(e->chunk, '\n', e->clen);
	strcpy(e->eol, nl && nl > e->chunk && nl[-1] == '\r' ? "\r\n" :
	    nl ? "\n" : "\r\n");
	n = (size_t)snprintf(e->boundary, sizeof(e->boundary), "%s",
	    MSG_BOUNDARY_PREFIX);
	for (i = 0; i < TCP2_MSG_SALT_LEN; i++)
		n += (size_t)snprintf(e->boundary + n, sizeof(e->boundary) - n,
		    "%02x", e->salt[i]);
	for (i = 0; i < e->nclear && rc == 0; i++)
		rc = enc_emit_field(e, e->chunk + e->clear[i].off,
		    e->clear[i].len);
	if (rc != 0)
		return rc;
	n = (size_t)snprintf(buf, sizeof(buf),
	    "Subject: %s%s"
	    "MIME-Version: 1.0%s"
	    "Content-Type: multipart/encrypted;%s"
	    "\tprotocol=\"%s\";%s"
	    "\tboundary=\"%s\"%s"
	    "%s"
	    "This is an end-to-end encrypted message (TCP2 Mail, format v1).%s"
	    "Its subject, text and attachments can be read only on the%s"
	    "recipient's computer, with TCP2 Mail.%s"
	    "%s"
	    "--%s%s"
	    "Content-Type: %s%s"
	    "%s"
	    "Version: 1%s"
	    "%s"
	    "--%s%s"
	    "Content-Type: application/octet-stream; name=\"message.tcp2\"%s"
	    "Content-Disposition: inline; filename=\"message.tcp2\"%s"
	    "Content-Transfer-Encoding: base64%s"
	    "%s",
	    TCP2_MSG_SUBJECT, e->eol, e->eol, e->eol, MSG_PROTOCOL, e->eol,
	    e->boundary, e->eol, e->eol, e->eol, e->eol, e->eol, e->eol,
	    e->boundary, e->eol, MSG_PROTOCOL, e->eol, e->eol, e->eol, e->eol,
	    e->boundary, e->eol, e->eol, e->eol, e->eol, e->eol);
	rc = enc_emit(e, buf, n);
	if (rc != 0)
		return rc;
	tcp2_b64_enc_init(&e->b64e, e->eol);
	n = tcp2_b64_enc_update(&e->b64e, e->b64, e->binhdr, e->binhdrlen);
	e->mime_done = 1;
	return enc_emit(e, e->b64, n);
}

/* Seal n plaintext bytes at pt as the next chunk and emit its base64. */
static int
enc_seal_buf(struct tcp2_msg_enc *e, const uint8_t *pt, size_t n, int last)
{
	uint8_t nonce[TCP2_AEAD_NONCE_LEN];
	size_t k;
	int rc;

	tcp2_msg_nonce(nonce, e->counter, last);
	rc = tcp2_aead_seal(e->aead, e->sealed, nonce, e->aad, sizeof(e->aad),
	    pt, n);
	if (rc != 0) {
		e->dead = 1;
		return rc;
	}
	e->counter++;
	k = tcp2_b64_enc_update(&e->b64e, e->b64, e->sealed,
	    n + TCP2_AEAD_TAG_LEN);
	return enc_emit(e, e->b64, k);
}

/* Seal the chunk buffered in e->chunk.  It is not wiped here: the next
 * chunk overwrites it, and tcp2_msg_enc_free wipes the whole encoder
 * (packed lines all pass through it: 7 MB of memset less for 10 MB). */
static int
enc_seal(struct tcp2_msg_enc *e, int last)
{
	int rc = enc_seal_buf(e, e->chunk, e->clen, last);

	e->out_rep = e->rep;
	e->clen = 0;
	return rc;
}

/*
 * Append len bytes of the plaintext stream standing for in_len input
 * bytes (linear: they are those bytes, pack.h), sealing full chunks
 * lazily.  e->rep follows the input the appended bytes stand for, so
 * that a seal knows what its output represents (tcp2_msg_enc_held): a
 * linear run byte by byte, anything else only once it is all in.
 */
static int
enc_push(struct tcp2_msg_enc *e, const uint8_t *p, size_t len, size_t in_len,
    int linear)
{
	size_t n;
	int rc, ended;

	while (len > 0) {
		if (e->clen == TCP2_MSG_CHUNK) {
			/* The window is full: the clear header is final. */
			if (!e->mime_done && (rc = enc_mime(e)) != 0)
				return rc;
			if ((rc = enc_seal(e, 0)) != 0)
				return rc;
		}
		/* The header out, nothing buffered, and a whole chunk of the
		 * caller's with a byte after it, which proves it is not the
		 * last: sealed where it lies.  The same bytes out as through
		 * e->chunk, without the copy and the wipe. */
		if (linear && e->clen == 0 && e->mime_done &&
		    len > TCP2_MSG_CHUNK) {
			if ((rc = enc_seal_buf(e, p, TCP2_MSG_CHUNK, 0)) != 0)
				return rc;
			e->out_rep = e->rep += TCP2_MSG_CHUNK;
			p += TCP2_MSG_CHUNK;
			len -= TCP2_MSG_CHUNK;
			continue;
		}
		n = TCP2_MSG_CHUNK - e->clen;
		if (n > len)
			n = len;
		memcpy(e->chunk + e->clen, p, n);
		e->clen += n;
		if (linear)
			e->rep += n;
		p += n;
		len -= n;
		/* Only input comes before the header is out (the first
		 * chunk is the input itself, pack.h). */
		if (!e->mime_done) {
			enc_scan(e, 0, &ended);
			if (ended && (rc = enc_mime(e)) != 0)
				return rc;
		}
	}
	if (!linear)
		e->rep += in_len;
	return 0;
}

/* The packer's output: the plaintext stream. */
static int
enc_pack_out(void *arg, const uint8_t *p, size_t n, size_t in_len, int linear)
{
	return enc_push(arg, p, n, in_len, linear);
}

int
tcp2_msg_enc_write(struct tcp2_msg_enc *e, const void *buf, size_t len)
{
	if (e->dead)
		return TCP2_ESTATE;
	e->space = NULL;	/* its room may be the ring's tail: gone */
	/* The hasher copies buf: its hash (on the worker, when there is
	 * one) overlaps the encryption, and both see the same bytes. */
	if (e->sha != NULL)
		tcp2_hasher_write(e->sha, buf, len);
	e->in_total += len;
	return tcp2_pack_write(&e->pack, buf, len);
}

uint8_t *
tcp2_msg_enc_space(struct tcp2_msg_enc *e, size_t *room)
{
	e->space = NULL;
	if (e->dead)
		return NULL;
	if (e->sha != NULL &&
	    (e->space = tcp2_hasher_space(e->sha, room)) != NULL) {
		e->space_ring = 1;
		e->space_len = *room;
		return e->space;
	}
	if (e->inbuf == NULL && (e->inbuf = malloc(ENC_INBUF)) == NULL)
		return NULL;
	e->space_ring = 0;
	*room = e->space_len = ENC_INBUF;
	return e->space = e->inbuf;
}

int
tcp2_msg_enc_commit(struct tcp2_msg_enc *e, size_t n)
{
	uint8_t *p = e->space;

	/* One commit a space: a second would hash bytes never written. */
	e->space = NULL;
	if (e->dead)
		return TCP2_ESTATE;
	if (p == NULL)
		return TCP2_ENOMEM;
	if (n > e->space_len)
		return TCP2_EINVAL;
	if (!e->space_ring)
		return tcp2_msg_enc_write(e, p, n);
	/* In the ring the bytes stay put until the next space: whole
	 * chunks are sealed where they lie, as the worker hashes them. */
	tcp2_hasher_commit(e->sha, n);
	e->in_total += n;
	return tcp2_pack_write(&e->pack, p, n);
}

/* The trailer: the signature when From: is the account's, then flags. */
static int
enc_trailer(struct tcp2_msg_enc *e, uint8_t *t, size_t *tlen)
{
	uint8_t hh[TCP2_SHA256_LEN], bh[TCP2_SHA256_LEN];
	uint8_t in[TCP2_MSG_SIGIN_MAX];
	size_t n;
	int rc;

	*tlen = 0;
	if (e->can_sign && e->nfrom == 1 &&
	    strcmp(e->from_addr, e->sign_addr) == 0) {
		tcp2_sha256(hh, e->binhdr, e->binhdrlen);
		tcp2_hasher_final(e->sha, bh);
		n = tcp2_msg_sig_input(in, hh, bh, e->from_addr);
		rc = tcp2_ed25519_sign(t, e->sign_sec, in, n);
		if (rc != 0)
			return rc;
		*tlen = TCP2_ED25519_SIG_LEN;
		e->is_signed = 1;
	}
	t[(*tlen)++] = e->is_signed ? MSG_FLAG_SIGNED : 0;
	return 0;
}

int
tcp2_msg_enc_finish(struct tcp2_msg_enc *e)
{
	uint8_t t[MSG_TRAILER_MAX];
	size_t tlen, n;
	int rc, ended;

	if (e->dead)
		return TCP2_ESTATE;
	if ((rc = tcp2_pack_finish(&e->pack)) != 0)
		return rc;
	if (!e->mime_done) {
		enc_scan(e, 1, &ended);
		if ((rc = enc_mime(e)) != 0)
			return rc;
	}
	if ((rc = enc_trailer(e, t, &tlen)) != 0 ||
	    (rc = enc_push(e, t, tlen, 0, 0)) != 0 ||
	    (rc = enc_seal(e, 1)) != 0)
		return rc;
	n = tcp2_b64_enc_final(&e->b64e, e->b64);
	n += (size_t)snprintf(e->b64 + n, TCP2_B64_ENC_BOUND(MSG_SEALED_CHUNK) - n,
	    "--%s--%s", e->boundary, e->eol);
	e->dead = 1;	/* finished: no more writes */
	return e->out(e->arg, e->b64, n);
}

size_t
tcp2_msg_enc_held(const struct tcp2_msg_enc *e)
{
	return (size_t)(e->in_total - e->out_rep);
}

int
tcp2_msg_enc_signed(const struct tcp2_msg_enc *e)
{
	return e->is_signed;
}

void
tcp2_msg_enc_free(struct tcp2_msg_enc *e)
{
	if (e == NULL)
		return;
	tcp2_aead_close(e->aead);
	tcp2_hasher_free(e->sha);
	tcp2_pack_wipe(&e->pack);
	free(e->binhdr);
	free(e->b64);
	if (e->inbuf != NULL)
		tcp2_crypto_wipe(e->inbuf, ENC_INBUF);
	free(e->inbuf);
	tcp2_crypto_wipe(e, sizeof(*e));
	free(e);
}
