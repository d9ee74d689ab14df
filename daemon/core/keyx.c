/*
 * keyx.c - parse, sign, format and derive from key-exchange blocks.
 *
 * The parser is strict on purpose: every field exactly once, exact key
 * lengths, addresses already in normal form, nothing unknown.  What it
 * accepts re-serialises to the very bytes that were signed.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base64.h"
#include "crypto.h"
#include "error.h"
#include "keyx.h"

#define BEGIN_LINE	"-----BEGIN TCP2 KEY EXCHANGE-----"
#define END_LINE	"-----END TCP2 KEY EXCHANGE-----"
#define SIG_LABEL	"TCP2 v1 key exchange"	/* with its NUL */
#define CANON_MAX	768

enum {
	K_VERSION, K_TYPE, K_FROM, K_TO, K_TIME, K_NONCE, K_IDED, K_IDX,
	K_EPH, K_REPLYTO, K_SIG, K_NFIELDS,
};

static const char *const kx_names[K_NFIELDS] = {
	"Version", "Type", "From", "To", "Time", "Nonce", "Identity-Ed25519",
	"Identity-X25519", "Ephemeral-X25519", "Reply-To-Exchange",
	"Signature",
};

/* Canonical text of the signed fields, LF line ends. */
static size_t
kx_canon(const struct tcp2_keyx *kx, char *out, size_t outlen)
{
	char n[32], ide[48], idx[48], eph[48], rt[48];
	int len;

	tcp2_b64_encode(n, kx->nonce, sizeof(kx->nonce));
	tcp2_b64_encode(ide, kx->id_ed, 32);
	tcp2_b64_encode(idx, kx->id_x, 32);
	tcp2_b64_encode(eph, kx->eph, 32);
	tcp2_b64_encode(rt, kx->reply_to, 32);
	len = snprintf(out, outlen,
	    "Version: 1\nType: %s\nFrom: %s\nTo: %s\nTime: %" PRIu64 "\n"
	    "Nonce: %s\nIdentity-Ed25519: %s\nIdentity-X25519: %s\n"
	    "Ephemeral-X25519: %s\n%s%s%s",
	    kx->type == TCP2_KEYX_INIT ? "init" : "reply", kx->from, kx->to,
	    kx->time, n, ide, idx, eph,
	    kx->type == TCP2_KEYX_REPLY ? "Reply-To-Exchange: " : "",
	    kx->type == TCP2_KEYX_REPLY ? rt : "",
	    kx->type == TCP2_KEYX_REPLY ? "\n" : "");
	return len < 0 || (size_t)len >= outlen ? 0 : (size_t)len;
}

/* The bytes signed: label, NUL, canonical text. */
static size_t
kx_signed_bytes(const struct tcp2_keyx *kx, uint8_t *out, size_t outlen)
{
	size_t n;

	if (outlen < sizeof(SIG_LABEL))
		return 0;
	memcpy(out, SIG_LABEL, sizeof(SIG_LABEL));
	n = kx_canon(kx, (char *)out + sizeof(SIG_LABEL),
	    outlen - sizeof(SIG_LABEL));
	return n ? n + sizeof(SIG_LABEL) : 0;
}

int
tcp2_keyx_sign(struct tcp2_keyx *kx, const uint8_t ed_sec[32])
{
	uint8_t msg[CANON_MAX];
	size_t n = kx_signed_bytes(kx, msg, sizeof(msg));

	if (n == 0)
		return TCP2_ETOOBIG;
	return tcp2_ed25519_sign(kx->sig, ed_sec, msg, n);
}

static int
kx_verify(const struct tcp2_keyx *kx)
{
	uint8_t msg[CANON_MAX];
	size_t n = kx_signed_bytes(kx, msg, sizeof(msg));

	if (n == 0)
		return TCP2_EFORMAT;
	return tcp2_ed25519_verify(kx->sig, kx->id_ed, msg, n);
}

void
tcp2_keyx_hash(const struct tcp2_keyx *kx, uint8_t out[32])
{
	uint8_t msg[CANON_MAX + 64];
	size_t n = kx_signed_bytes(kx, msg, sizeof(msg) - 64);

	memcpy(msg + n, kx->sig, 64);
	tcp2_sha256(out, msg, n + 64);
}

long
tcp2_keyx_format(const struct tcp2_keyx *kx, const char *eol, char *out,
    size_t outlen)
{
	char canon[CANON_MAX], sig[96], *p;
	size_t n, o = 0, k;
	int len;

	n = kx_canon(kx, canon, sizeof(canon));
	if (n == 0)
		return TCP2_ETOOBIG;
	tcp2_b64_encode(sig, kx->sig, 64);
	len = snprintf(out, outlen, "%s%s", BEGIN_LINE, eol);
	if (len < 0 || (size_t)len >= outlen)
		return TCP2_ETOOBIG;
	o = (size_t)len;
	/* Canonical lines, with the requested line end. */
	for (p = canon; *p; p += k + 1) {
		k = strcspn(p, "\n");
		len = snprintf(out + o, outlen - o, "%.*s%s", (int)k, p, eol);
		if (len < 0 || (size_t)len >= outlen - o)
			return TCP2_ETOOBIG;
		o += (size_t)len;
	}
	len = snprintf(out + o, outlen - o, "Signature: %s%s%s%s", sig, eol,
	    END_LINE, eol);
	if (len < 0 || (size_t)len >= outlen - o)
		return TCP2_ETOOBIG;
	return (long)(o + (size_t)len);
}

/* Parse one "Name: value" line into kx; seen[] catches duplicates. */
static int
kx_field(struct tcp2_keyx *kx, const char *l, size_t n, int seen[K_NFIELDS])
{
	const char *colon = memchr(l, ':', n), *v;
	char tmp[TCP2_ADDR_MAX];
	size_t nl, vl, i;
	int f;

	if (colon == NULL)
		return TCP2_EFORMAT;
	nl = (size_t)(colon - l);
	v = colon + 1;
	vl = n - nl - 1;
	while (vl > 0 && *v == ' ') {
		v++;
		vl--;
	}
	for (f = 0; f < K_NFIELDS; f++)
		if (strlen(kx_names[f]) == nl &&
		    strncmp(l, kx_names[f], nl) == 0)
			break;
	if (f == K_NFIELDS || seen[f]++ || vl == 0 || vl >= sizeof(tmp))
		return TCP2_EFORMAT;
	memcpy(tmp, v, vl);
	tmp[vl] = '\0';
	switch (f) {
	case K_VERSION:
		return strcmp(tmp, "1") == 0 ? 0 : TCP2_EVERSION;
	case K_TYPE:
		if (strcmp(tmp, "init") == 0)
			kx->type = TCP2_KEYX_INIT;
		else if (strcmp(tmp, "reply") == 0)
			kx->type = TCP2_KEYX_REPLY;
		else
			return TCP2_EFORMAT;
		return 0;
	case K_FROM:
	case K_TO:
		/* Must already be normal: what was signed is what we keep. */
		if (tcp2_addr_norm(tmp, f == K_FROM ? kx->from : kx->to) != 0 ||
		    strcmp(tmp, f == K_FROM ? kx->from : kx->to) != 0)
			return TCP2_EFORMAT;
		return 0;
	case K_TIME:
		if (vl > 19 || (vl > 1 && tmp[0] == '0'))
			return TCP2_EFORMAT;
		kx->time = 0;
		for (i = 0; i < vl; i++) {
			if (!isdigit((unsigned char)tmp[i]))
				return TCP2_EFORMAT;
			kx->time = kx->time * 10 + (uint64_t)(tmp[i] - '0');
		}
		return 0;
	case K_NONCE:
		return tcp2_b64_decode_exact(kx->nonce, sizeof(kx->nonce), v, vl);
	case K_IDED:
		return tcp2_b64_decode_exact(kx->id_ed, 32, v, vl);
	case K_IDX:
		return tcp2_b64_decode_exact(kx->id_x, 32, v, vl);
	case K_EPH:
		return tcp2_b64_decode_exact(kx->eph, 32, v, vl);
	case K_REPLYTO:
		return tcp2_b64_decode_exact(kx->reply_to, 32, v, vl);
	case K_SIG:
		return tcp2_b64_decode_exact(kx->sig, 64, v, vl);
	}
	return TCP2_EFORMAT;
}

/* Next line of buf from *pos: start and content length (no line end). */
static int
next_line(const char *buf, size_t len, size_t *pos, const char **l,
    size_t *n)
{
	const char *nl;

	if (*pos >= len)
		return 0;
	*l = buf + *pos;
	nl = memchr(*l, '\n', len - *pos);
	*n = nl ? (size_t)(nl - *l) : len - *pos;
	*pos += *n + (nl != NULL);
	while (*n > 0 && ((*l)[*n - 1] == '\r' || (*l)[*n - 1] == ' ' ||
	    (*l)[*n - 1] == '\t'))
		(*n)--;
	return 1;
}

/* The address of the mail's From: header, or "" when absent. */
static void
mail_from(const char *mail, size_t len, char *out)
{
	struct tcp2_hdr_field f;

	out[0] = '\0';
	if (tcp2_hdr_find(mail, len, "From", &f, NULL) &&
	    tcp2_hdr_addr(f.value, f.valuelen, out) != 0)
		out[0] = '\0';
}

int
tcp2_keyx_parse(const char *mail, size_t len, struct tcp2_keyx *kx)
{
	int seen[K_NFIELDS] = { 0 }, rc, f, in_block = 0;
	char hdr_from[TCP2_ADDR_MAX];
	size_t pos = 0, n;
	const char *l;

	if (len > TCP2_KEYX_MAX_MAIL)
		return TCP2_ETOOBIG;
	memset(kx, 0, sizeof(*kx));
	while (next_line(mail, len, &pos, &l, &n)) {
		if (!in_block) {
			in_block = n == strlen(BEGIN_LINE) &&
			    memcmp(l, BEGIN_LINE, n) == 0;
			continue;
		}
		if (n == strlen(END_LINE) && memcmp(l, END_LINE, n) == 0)
			break;
		if ((rc = kx_field(kx, l, n, seen)) != 0)
			return rc;
	}
	if (!in_block)
		return TCP2_ENOENT;
	for (f = 0; f < K_NFIELDS; f++)
		if (!seen[f] && !(f == K_REPLYTO && kx->type == TCP2_KEYX_INIT))
			return TCP2_EFORMAT;
	if (kx->type == TCP2_KEYX_INIT && seen[K_REPLYTO])
		return TCP2_EFORMAT;
	if ((rc = kx_verify(kx)) != 0)
		return rc;
	mail_from(mail, len, hdr_from);
	if (strcmp(hdr_from, kx->from) != 0)
		return TCP2_EFORMAT;
	return 0;
}

int
tcp2_keyx_derive(uint8_t key[32], const uint8_t init_hash[32],
    const struct tcp2_keyx *reply, const struct tcp2_keyx *peer,
    const uint8_t my_eph_sec[32], const uint8_t my_id_x_sec[32])
{
	static const char label[] = "TCP2 v1 transcript";
	static const char info[] = "TCP2 v1 pairwise key";
	uint8_t ikm[64], tr[sizeof(label) + 64], salt[32];
	int rc;

	/* The reply must answer exactly this init. */
	if (!tcp2_crypto_equal(init_hash, reply->reply_to, 32))
		return TCP2_EAUTH;
	memcpy(tr, label, sizeof(label));
	memcpy(tr + sizeof(label), init_hash, 32);
	tcp2_keyx_hash(reply, tr + sizeof(label) + 32);
	tcp2_sha256(salt, tr, sizeof(tr));
	rc = tcp2_x25519(ikm, my_eph_sec, peer->eph);
	if (rc == 0)
		rc = tcp2_x25519(ikm + 32, my_id_x_sec, peer->id_x);
	if (rc == 0)
		rc = tcp2_hkdf_sha256(key, 32, ikm, sizeof(ikm), salt,
		    sizeof(salt), info, sizeof(info) - 1);
	tcp2_crypto_wipe(ikm, sizeof(ikm));
	return rc;
}

long
tcp2_keyx_mail(const struct tcp2_keyx *kx, char *out, size_t outlen)
{
	char block[TCP2_KEYX_BLOCK_MAX], date[64], hex[2 * 8 + 1];
	struct tm tm;
	time_t t = (time_t)kx->time;
	long bl;
	int len, i;

	bl = tcp2_keyx_format(kx, "\r\n", block, sizeof(block));
	if (bl < 0)
		return bl;
	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	for (i = 0; i < 8; i++)
		snprintf(hex + 2 * i, 3, "%02x", kx->nonce[i]);
	len = snprintf(out, outlen,
	    "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\n"
	    "Message-ID: <keyx.%s@tcp2.invalid>\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=us-ascii\r\n"
	    "Content-Transfer-Encoding: 7bit\r\n\r\n"
	    "This is a TCP2 Mail key exchange (%s).  TCP2 Mail on the\r\n"
	    "recipient's computer reads it automatically; there is nothing\r\n"
	    "to do with it by hand.\r\n\r\n%s",
	    kx->from, kx->to, TCP2_KEYX_SUBJECT, date, hex,
	    kx->type == TCP2_KEYX_INIT ? "request" : "reply", block);
	if (len < 0 || (size_t)len >= outlen)
		return TCP2_ETOOBIG;
	return len;
}

int
tcp2_keyx_is_keyx_mail(const char *buf, size_t len)
{
	struct tcp2_hdr_field f;
	size_t vl;
	const char *v;

	if (!tcp2_hdr_find(buf, len, "Subject", &f, NULL))
		return 0;
	v = f.value;
	vl = f.valuelen;
	while (vl > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		vl--;
	}
	while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
		vl--;
	return vl == strlen(TCP2_KEYX_SUBJECT) &&
	    strncasecmp(v, TCP2_KEYX_SUBJECT, vl) == 0;
}
