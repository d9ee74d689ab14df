/*
 * quarantine.c - held mail as store objects "quarantine/<id>".
 *
 * Object layout: the description as one line of JSON, a LF, then the mail.
 * json-c escapes control characters inside strings, so the first LF always
 * ends the description.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "error.h"
#include "jsonrec.h"
#include "quarantine.h"

#define Q_PREFIX "quarantine/"

static int
q_name(char *out, size_t outlen, const char *id)
{
	size_t i;

	if (strlen(id) != TCP2_HELD_ID_LEN - 1)
		return TCP2_EINVAL;
	for (i = 0; id[i]; i++)
		if (!((id[i] >= '0' && id[i] <= '9') ||
		    (id[i] >= 'a' && id[i] <= 'f')))
			return TCP2_EINVAL;
	snprintf(out, outlen, Q_PREFIX "%s", id);
	return 0;
}

static int
meta_to_json(const struct tcp2_held *h, char **txt, size_t *len)
{
	json_object *o = json_object_new_object();
	int rc;

	if (o == NULL)
		return TCP2_ENOMEM;
	rc = tcp2_jr_set_str(o, "id", h->id);
	if (!rc) rc = tcp2_jr_set_u64(o, "when", h->when);
	if (!rc) rc = tcp2_jr_set_str(o, "account", h->account);
	if (!rc) rc = tcp2_jr_set_str(o, "sender", h->sender);
	if (!rc) rc = tcp2_jr_set_str(o, "subject", h->subject);
	if (!rc) rc = tcp2_jr_set_str(o, "reason", h->reason);
	if (!rc) rc = tcp2_jr_set_u64(o, "verification",
	    (uint64_t)(h->verification + 1));
	if (!rc) rc = tcp2_jr_set_bool(o, "encrypted", h->encrypted);
	if (!rc) rc = tcp2_jr_set_bool(o, "html", h->html);
	if (!rc) rc = tcp2_jr_set_u64(o, "attachments",
	    (uint64_t)h->attachments);
	if (!rc)
		rc = tcp2_jr_dump(o, txt, len);
	json_object_put(o);
	return rc;
}

static int
meta_from_json(const uint8_t *buf, size_t len, struct tcp2_held *h)
{
	json_object *o;
	uint64_t v, att;
	int rc;

	memset(h, 0, sizeof(*h));
	if ((rc = tcp2_jr_load(buf, len, &o)) != 0)
		return rc;
	if ((rc = tcp2_jr_get_str(o, "id", h->id, sizeof(h->id))) ||
	    (rc = tcp2_jr_get_u64(o, "when", &h->when)) ||
	    (rc = tcp2_jr_get_str(o, "account", h->account,
	    sizeof(h->account))) ||
	    (rc = tcp2_jr_get_str(o, "sender", h->sender, sizeof(h->sender))) ||
	    (rc = tcp2_jr_get_str(o, "subject", h->subject,
	    sizeof(h->subject))) ||
	    (rc = tcp2_jr_get_str(o, "reason", h->reason, sizeof(h->reason))) ||
	    (rc = tcp2_jr_get_u64(o, "verification", &v)) ||
	    (rc = tcp2_jr_get_bool(o, "encrypted", &h->encrypted)) ||
	    (rc = tcp2_jr_get_bool(o, "html", &h->html)) ||
	    (rc = tcp2_jr_get_u64(o, "attachments", &att)))
		goto out;
	rc = TCP2_EFORMAT;
	if (v > 3 || att > 100000)
		goto out;
	h->verification = (int)v - 1;
	h->attachments = (int)att;
	rc = 0;
out:
	json_object_put(o);
	return rc;
}

int
tcp2_quarantine_put(struct tcp2_store *st, struct tcp2_held *h,
    const void *mail, size_t len)
{
	uint8_t rnd[16], *obj;
	char name[64], *meta;
	size_t ml;
	int rc;

	tcp2_crypto_random(rnd, sizeof(rnd));
	tcp2_hex(h->id, rnd, sizeof(rnd));
	if ((rc = meta_to_json(h, &meta, &ml)) != 0)
		return rc;
	if (len > TCP2_STORE_MAX_OBJECT - ml - 1) {
		free(meta);
		return TCP2_ETOOBIG;
	}
	obj = malloc(ml + 1 + len);
	if (obj == NULL) {
		free(meta);
		return TCP2_ENOMEM;
	}
	memcpy(obj, meta, ml);
	obj[ml] = '\n';
	memcpy(obj + ml + 1, mail, len);
	q_name(name, sizeof(name), h->id);
	rc = tcp2_store_write(st, name, obj, ml + 1 + len);
	tcp2_crypto_wipe(obj, ml + 1 + len);
	free(obj);
	free(meta);
	return rc;
}

int
tcp2_quarantine_get(struct tcp2_store *st, const char *id,
    struct tcp2_held *h, uint8_t **mail, size_t *len)
{
	uint8_t *obj, *nl;
	size_t ol, ml;
	char name[64];
	int rc;

	if ((rc = q_name(name, sizeof(name), id)) != 0)
		return rc;
	if ((rc = tcp2_store_read(st, name, &obj, &ol)) != 0)
		return rc;
	nl = memchr(obj, '\n', ol);
	rc = nl ? meta_from_json(obj, (size_t)(nl - obj), h) : TCP2_EFORMAT;
	if (rc == 0 && strcmp(h->id, id) != 0)
		rc = TCP2_EFORMAT;
	if (rc == 0 && mail != NULL) {
		ml = ol - (size_t)(nl - obj) - 1;
		*mail = malloc(ml ? ml : 1);
		if (*mail == NULL) {
			rc = TCP2_ENOMEM;
		} else {
			memcpy(*mail, nl + 1, ml);
			*len = ml;
		}
	}
	tcp2_store_free(obj, ol);
	return rc;
}

int
tcp2_quarantine_list(struct tcp2_store *st, char ***ids, size_t *n)
{
	return tcp2_store_list(st, "quarantine", ids, n);
}

int
tcp2_quarantine_remove(struct tcp2_store *st, const char *id)
{
	char name[64];
	int rc;

	if ((rc = q_name(name, sizeof(name), id)) != 0)
		return rc;
	return tcp2_store_remove(st, name);
}
