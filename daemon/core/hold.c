/*
 * hold.c - the hold policy: reasons, the decision for one mail, its
 * one-line explanation, and release tokens (hold.h, docs/HOLD.md).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "crypto.h"
#include "error.h"
#include "hold.h"
#include "message.h"

static const struct {
	const char *word;
	unsigned int bit;
} hold_words[] = {
	{ "forged", TCP2_HOLD_FORGED },
	{ "changed", TCP2_HOLD_CHANGED },
	{ "undecryptable", TCP2_HOLD_UNDECRYPTABLE },
	{ "html", TCP2_HOLD_HTML },
	{ "attachments", TCP2_HOLD_ATTACHMENTS },
	{ "encrypted", TCP2_HOLD_ENCRYPTED },
	{ "unsigned", TCP2_HOLD_UNSIGNED },
};
#define NWORDS (sizeof(hold_words) / sizeof(hold_words[0]))
#define HOLD_NAME_TAIL	64	/* the end of a name is enough */

void
tcp2_hold_policy_default(struct tcp2_hold_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->reasons = TCP2_HOLD_DEFAULT;
	p->expire_days = TCP2_HOLD_EXPIRE_DEFAULT;
}

int
tcp2_hold_reasons_parse(const char *spec, unsigned int *reasons, char *err,
    size_t errlen)
{
	const char *p = spec, *e;
	unsigned int r = 0;
	size_t n, i;

	if (errlen > 0)
		err[0] = '\0';
	if (strcmp(spec, "none") == 0) {
		*reasons = 0;
		return 0;
	}
	for (;;) {
		e = strchr(p, ',');
		n = e ? (size_t)(e - p) : strlen(p);
		for (i = 0; i < NWORDS; i++)
			if (strlen(hold_words[i].word) == n &&
			    strncmp(hold_words[i].word, p, n) == 0)
				break;
		if (i == NWORDS) {
			if (errlen > 0)
				snprintf(err, errlen, "%.*s", (int)(n > 64 ? 64 :
				    n), p);
			return TCP2_EINVAL;
		}
		r |= hold_words[i].bit;
		if (e == NULL)
			break;
		p = e + 1;
	}
	*reasons = r;
	return 0;
}

void
tcp2_hold_reasons_format(unsigned int reasons, char *out, size_t outlen)
{
	size_t i, n = 0;

	if (outlen == 0)
		return;
	out[0] = '\0';
	for (i = 0; i < NWORDS; i++) {
		if (!(reasons & hold_words[i].bit))
			continue;
		n += (size_t)snprintf(out + n, n < outlen ? outlen - n : 0,
		    "%s%s", n ? "," : "", hold_words[i].word);
		if (n >= outlen)
			break;
	}
	if (n == 0)
		snprintf(out, outlen, "none");
}

/* File name extensions and MIME types that can run code. */
static const char *const risky_ext[] = {
	"exe", "com", "scr", "bat", "cmd", "pif", "cpl", "msi", "msp", "dll",
	"ps1", "psm1", "vbs", "vbe", "js", "jse", "wsf", "wsh", "hta", "lnk",
	"jar", "sh", "py", "pl", "reg", "iso", "img", "vhd", "zip", "rar",
	"7z", "cab", "ace", "arj", "gz", "tgz", "bz2", "xz", "docm", "dotm",
	"xlsm", "xltm", "xlam", "pptm", "potm", "ppam", "ppsm", "sldm",
	"apk", "appimage", "deb", "rpm", "dmg", "pkg", "app", "svg", NULL,
};
static const char *const risky_type[] = {
	"application/x-msdownload", "application/x-msdos-program",
	"application/x-dosexec", "application/x-executable",
	"application/x-sh", "application/x-shellscript",
	"application/javascript", "application/x-javascript",
	"text/javascript", "application/hta", "application/x-ms-shortcut",
	"application/java-archive", "application/zip",
	"application/x-zip-compressed", "application/x-rar-compressed",
	"application/vnd.rar", "application/x-7z-compressed",
	"application/x-iso9660-image", "application/vnd.ms-excel.sheet."
	"macroenabled.12", "application/vnd.ms-word.document.macroenabled.12",
	"application/vnd.ms-powerpoint.presentation.macroenabled.12",
	"application/x-msi", "image/svg+xml", NULL,
};

int
tcp2_hold_risky(const char *name, const char *type)
{
	const char *dot;
	size_t i;

	if (name != NULL) {
		/* Trailing dots and spaces hide an extension on Windows. */
		char base[HOLD_NAME_TAIL], ext[16];
		size_t n = strlen(name);

		while (n > 0 && (name[n - 1] == '.' || name[n - 1] == ' '))
			n--;
		if (n >= sizeof(base)) {
			name += n - (sizeof(base) - 1);
			n = sizeof(base) - 1;
		}
		memcpy(base, name, n);
		base[n] = '\0';
		dot = strrchr(base, '.');
		if (dot != NULL && strlen(dot + 1) > 0 &&
		    strlen(dot + 1) < sizeof(ext)) {
			memcpy(ext, dot + 1, strlen(dot + 1) + 1);
			for (i = 0; risky_ext[i] != NULL; i++)
				if (strcasecmp(ext, risky_ext[i]) == 0)
					return 1;
		}
	}
	if (type != NULL)
		for (i = 0; risky_type[i] != NULL; i++)
			if (strcasecmp(type, risky_type[i]) == 0)
				return 1;
	return 0;
}

/* Append one clause ("attachment " "x.exe") to the explanation. */
static void
why_add(char *why, size_t whylen, const char *a, const char *b)
{
	size_t n = strlen(why);

	if (n + 3 >= whylen)
		return;
	snprintf(why + n, whylen - n, "%s%s%s", n > 0 ? ", " : "", a, b);
}

/* Safe for one line: names come from mail written by strangers. */
static void
clean_name(char *out, size_t outlen, const char *in)
{
	size_t i;

	for (i = 0; in[i] != '\0' && i + 1 < outlen; i++)
		out[i] = (unsigned char)in[i] < 0x20 || in[i] == 0x7f ? '?' :
		    in[i];
	out[i] = '\0';
}

static void
why_attachments(const struct tcp2_hold_policy *p,
    const struct tcp2_hold_facts *f, char *why, size_t whylen)
{
	char name[96];
	size_t i, shown = 0, more = 0;

	for (i = 0; i < f->natt; i++) {
		if (!p->all_attachments && !f->att[i].risky)
			continue;
		if (shown == 3) {
			more++;
			continue;
		}
		clean_name(name, sizeof(name), f->att[i].name[0] ?
		    f->att[i].name : f->att[i].type);
		why_add(why, whylen, "attachment ", name);
		shown++;
	}
	if (more > 0) {
		char n[32];

		snprintf(n, sizeof(n), "%zu", more);
		why_add(why, whylen, n, " more attachments");
	}
}

int
tcp2_hold_decide(const struct tcp2_hold_policy *p,
    const struct tcp2_hold_facts *f, char *why, size_t whylen)
{
	unsigned int hit = 0;
	size_t i;

	if (whylen == 0)
		return TCP2_EINVAL;
	why[0] = '\0';
	if (f->undecryptable)
		hit |= TCP2_HOLD_UNDECRYPTABLE;
	if (f->sig == TCP2_SIG_FORGED)
		hit |= TCP2_HOLD_FORGED;
	if (f->key_changed)
		hit |= TCP2_HOLD_CHANGED;
	if (f->html)
		hit |= TCP2_HOLD_HTML;
	for (i = 0; i < f->natt; i++)
		if (p->all_attachments || f->att[i].risky)
			hit |= TCP2_HOLD_ATTACHMENTS;
	if (f->encrypted)
		hit |= TCP2_HOLD_ENCRYPTED;
	if (f->sig != TCP2_SIG_VERIFIED)
		hit |= TCP2_HOLD_UNSIGNED;
	if ((hit & p->reasons) == 0)
		return 0;

	/* What is wrong with the mail first, then what it contains, then
	 * who sent it: the user reads the line left to right. */
	if (f->undecryptable)
		why_add(why, whylen, "", "cannot be decrypted");
	if (f->sig == TCP2_SIG_FORGED)
		why_add(why, whylen, "", "FORGED sender");
	if (f->key_changed)
		why_add(why, whylen, "", "the sender's key CHANGED");
	if (hit & p->reasons & TCP2_HOLD_ATTACHMENTS)
		why_attachments(p, f, why, whylen);
	if (f->html && (p->reasons & TCP2_HOLD_HTML))
		why_add(why, whylen, "", "HTML");
	if (f->encrypted && (p->reasons & TCP2_HOLD_ENCRYPTED))
		why_add(why, whylen, "", "encrypted");
	if (!f->undecryptable && f->sig == TCP2_SIG_UNVERIFIED)
		why_add(why, whylen, "", "sender unverified");
	else if (!f->undecryptable && f->sig < 0)
		why_add(why, whylen, "", "not signed");
	return 1;
}

/* The token key: HKDF of the account's identity secret, so that a token
 * needs no stored secret of its own and dies with the account. */
static int
token_mac(const uint8_t secret[32], const char *id, uint8_t mac[32])
{
	static const char info[] = "tcp2 release token v1";
	uint8_t key[32];
	int rc;

	rc = tcp2_hkdf_sha256(key, sizeof(key), secret, 32, NULL, 0, info,
	    sizeof(info) - 1);
	if (rc == 0)
		rc = tcp2_hmac_sha256(mac, key, sizeof(key), id, strlen(id));
	tcp2_crypto_wipe(key, sizeof(key));
	return rc;
}

int
tcp2_hold_token(const uint8_t account_secret[32], const char *id,
    char out[TCP2_HOLD_TOKEN_LEN])
{
	static const char digits[] = "0123456789abcdef";
	uint8_t mac[32];
	size_t i;
	int rc;

	if ((rc = token_mac(account_secret, id, mac)) != 0)
		return rc;
	for (i = 0; i < 16; i++) {
		out[2 * i] = digits[mac[i] >> 4];
		out[2 * i + 1] = digits[mac[i] & 15];
	}
	out[32] = '\0';
	return 0;
}

int
tcp2_hold_token_check(const uint8_t account_secret[32], const char *value,
    size_t len, char id[33])
{
	char want[TCP2_HOLD_TOKEN_LEN];
	size_t i;
	int rc;

	/* "ID TOKEN": 32 hex, one space, 32 hex; whitespace around. */
	while (len > 0 && (*value == ' ' || *value == '\t')) {
		value++;
		len--;
	}
	while (len > 0 && (value[len - 1] == ' ' || value[len - 1] == '\t' ||
	    value[len - 1] == '\r' || value[len - 1] == '\n'))
		len--;
	if (len != 65 || value[32] != ' ')
		return TCP2_EFORMAT;
	for (i = 0; i < 65; i++)
		if (i != 32 && !((value[i] >= '0' && value[i] <= '9') ||
		    (value[i] >= 'a' && value[i] <= 'f')))
			return TCP2_EFORMAT;
	memcpy(id, value, 32);
	id[32] = '\0';
	if ((rc = tcp2_hold_token(account_secret, id, want)) != 0)
		return rc;
	rc = tcp2_crypto_equal(want, value + 33, 32) ? 0 : TCP2_EAUTH;
	return rc;
}
