/*
 * quarantine.c - held mail as store objects (quarantine.h).
 *
 * The description is one JSON object built and parsed with json-c; the
 * copies of the mail are stored as they are.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "error.h"
#include "jsonrec.h"
#include "quarantine.h"

#define Q_PREFIX	"quarantine"
#define Q_ORIG		".orig"
#define Q_PLAIN		".plain"

static int
valid_id(const char *id)
{
	size_t i;

	if (strlen(id) != TCP2_HELD_ID_LEN - 1)
		return 0;
	for (i = 0; id[i]; i++)
		if (!((id[i] >= '0' && id[i] <= '9') ||
		    (id[i] >= 'a' && id[i] <= 'f')))
			return 0;
	return 1;
}

/* "quarantine/<id><suffix>"; TCP2_EINVAL for a malformed id. */
static int
q_name(char *out, size_t outlen, const char *id, const char *suffix)
{
	if (!valid_id(id))
		return TCP2_EINVAL;
	snprintf(out, outlen, Q_PREFIX "/%s%s", id, suffix);
	return 0;
}

static int
att_to_json(json_object *o, const struct tcp2_held *h)
{
	json_object *arr = json_object_new_array(), *a;
	size_t i;
	int rc = 0;

	if (arr == NULL)
		return TCP2_ENOMEM;
	json_object_object_add(o, "att", arr);
	for (i = 0; i < h->natt && rc == 0; i++) {
		if ((a = json_object_new_object()) == NULL)
			return TCP2_ENOMEM;
		json_object_array_add(arr, a);
		rc = tcp2_jr_set_str(a, "name", h->att[i].name);
		if (!rc) rc = tcp2_jr_set_str(a, "type", h->att[i].type);
		if (!rc) rc = tcp2_jr_set_u64(a, "size", h->att[i].size);
	}
	return rc;
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
	if (!rc) rc = tcp2_jr_set_u64(o, "expires", h->expires);
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
	if (!rc) rc = att_to_json(o, h);
	if (!rc) rc = tcp2_jr_set_u64(o, "size", h->size);
	if (!rc) rc = tcp2_jr_set_bool(o, "has_plain", h->has_plain);
	if (!rc) rc = tcp2_jr_set_u64(o, "state", (uint64_t)h->state);
	if (!rc) rc = tcp2_jr_set_bool(o, "strip", h->strip);
	if (!rc) rc = tcp2_jr_set_bool(o, "warned", h->warned);
	if (!rc)
		rc = tcp2_jr_dump(o, txt, len);
	json_object_put(o);
	return rc;
}

static int
att_from_json(json_object *o, struct tcp2_held *h)
{
	json_object *arr, *a;
	size_t i, n;
	int rc;

	if (!json_object_object_get_ex(o, "att", &arr) ||
	    !json_object_is_type(arr, json_type_array))
		return TCP2_EFORMAT;
	n = json_object_array_length(arr);
	if (n > TCP2_HELD_ATT_MAX)
		return TCP2_EFORMAT;
	for (i = 0; i < n; i++) {
		a = json_object_array_get_idx(arr, i);
		if ((rc = tcp2_jr_get_str(a, "name", h->att[i].name,
		    sizeof(h->att[i].name))) ||
		    (rc = tcp2_jr_get_str(a, "type", h->att[i].type,
		    sizeof(h->att[i].type))) ||
		    (rc = tcp2_jr_get_u64(a, "size", &h->att[i].size)))
			return rc;
	}
	h->natt = n;
	return 0;
}

static int
meta_from_json(const uint8_t *buf, size_t len, struct tcp2_held *h)
{
	json_object *o;
	uint64_t v, att, state;
	int rc;

	memset(h, 0, sizeof(*h));
	if ((rc = tcp2_jr_load(buf, len, &o)) != 0)
		return rc;
	if ((rc = tcp2_jr_get_str(o, "id", h->id, sizeof(h->id))) ||
	    (rc = tcp2_jr_get_u64(o, "when", &h->when)) ||
	    (rc = tcp2_jr_get_u64(o, "expires", &h->expires)) ||
	    (rc = tcp2_jr_get_str(o, "account", h->account,
	    sizeof(h->account))) ||
	    (rc = tcp2_jr_get_str(o, "sender", h->sender, sizeof(h->sender))) ||
	    (rc = tcp2_jr_get_str(o, "subject", h->subject,
	    sizeof(h->subject))) ||
	    (rc = tcp2_jr_get_str(o, "reason", h->reason, sizeof(h->reason))) ||
	    (rc = tcp2_jr_get_u64(o, "verification", &v)) ||
	    (rc = tcp2_jr_get_bool(o, "encrypted", &h->encrypted)) ||
	    (rc = tcp2_jr_get_bool(o, "html", &h->html)) ||
	    (rc = tcp2_jr_get_u64(o, "attachments", &att)) ||
	    (rc = att_from_json(o, h)) ||
	    (rc = tcp2_jr_get_u64(o, "size", &h->size)) ||
	    (rc = tcp2_jr_get_bool(o, "has_plain", &h->has_plain)) ||
	    (rc = tcp2_jr_get_u64(o, "state", &state)) ||
	    (rc = tcp2_jr_get_bool(o, "strip", &h->strip)) ||
	    (rc = tcp2_jr_get_bool(o, "warned", &h->warned)))
		goto out;
	rc = TCP2_EFORMAT;
	if (v > 3 || att > 100000 || state > TCP2_HELD_RELEASED ||
	    !valid_id(h->id))
		goto out;
	h->verification = (int)v - 1;
	h->attachments = (int)att;
	h->state = (enum tcp2_held_state)state;
	rc = 0;
out:
	json_object_put(o);
	return rc;
}

static int
write_meta(struct tcp2_store *st, const struct tcp2_held *h)
{
	char name[64], *meta;
	size_t ml;
	int rc;

	if ((rc = q_name(name, sizeof(name), h->id, "")) != 0)
		return rc;
	if ((rc = meta_to_json(h, &meta, &ml)) != 0)
		return rc;
	rc = tcp2_store_write(st, name, meta, ml);
	tcp2_crypto_wipe(meta, ml);
	free(meta);
	return rc;
}

int
tcp2_quarantine_put(struct tcp2_store *st, struct tcp2_held *h,
    const void *orig, size_t olen, const void *plain, size_t plen)
{
	uint8_t rnd[16];
	char name[64];
	int rc;

	tcp2_crypto_random(rnd, sizeof(rnd));
	tcp2_hex(h->id, rnd, sizeof(rnd));
	h->size = olen;
	h->has_plain = plain != NULL;
	q_name(name, sizeof(name), h->id, Q_ORIG);
	if ((rc = tcp2_store_write(st, name, orig, olen)) != 0)
		return rc;
	if (plain != NULL) {
		q_name(name, sizeof(name), h->id, Q_PLAIN);
		if ((rc = tcp2_store_write(st, name, plain, plen)) != 0)
			goto undo;
	}
	if ((rc = write_meta(st, h)) == 0)
		return 0;
undo:
	(void)tcp2_quarantine_remove(st, h->id);
	return rc;
}

int
tcp2_quarantine_get(struct tcp2_store *st, const char *id,
    struct tcp2_held *h)
{
	uint8_t *obj;
	size_t ol;
	char name[64];
	int rc;

	if ((rc = q_name(name, sizeof(name), id, "")) != 0)
		return rc;
	if ((rc = tcp2_store_read(st, name, &obj, &ol)) != 0)
		return rc;
	rc = meta_from_json(obj, ol, h);
	if (rc == 0 && strcmp(h->id, id) != 0)
		rc = TCP2_EFORMAT;
	tcp2_store_free(obj, ol);
	return rc;
}

int
tcp2_quarantine_update(struct tcp2_store *st, const struct tcp2_held *h)
{
	struct tcp2_held cur;
	int rc;

	if ((rc = tcp2_quarantine_get(st, h->id, &cur)) != 0)
		return rc;
	return write_meta(st, h);
}

int
tcp2_quarantine_mail(struct tcp2_store *st, const char *id,
    enum tcp2_held_copy which, uint8_t **mail, size_t *len)
{
	struct tcp2_held h;
	char name[64];
	int rc;

	if ((rc = tcp2_quarantine_get(st, id, &h)) != 0)
		return rc;
	q_name(name, sizeof(name), id, which == TCP2_HELD_PLAIN &&
	    h.has_plain ? Q_PLAIN : Q_ORIG);
	rc = tcp2_store_read(st, name, mail, len);
	return rc == TCP2_ENOENT ? TCP2_EFORMAT : rc;
}

int
tcp2_quarantine_list(struct tcp2_store *st, char ***ids, size_t *n)
{
	char **names;
	size_t i, k = 0, total;
	int rc;

	if ((rc = tcp2_store_list(st, Q_PREFIX, &names, &total)) != 0)
		return rc;
	/* Descriptions only; the copies are "<id>.orig" and "<id>.plain". */
	for (i = 0; i < total; i++) {
		if (valid_id(names[i]))
			names[k++] = names[i];
		else
			free(names[i]);
	}
	*ids = names;
	*n = k;
	return 0;
}

int
tcp2_quarantine_remove(struct tcp2_store *st, const char *id)
{
	char name[64];
	int rc, rc2;

	if ((rc = q_name(name, sizeof(name), id, "")) != 0)
		return rc;
	rc = tcp2_store_remove(st, name);
	if (rc != 0 && rc != TCP2_ENOENT)
		return rc;
	q_name(name, sizeof(name), id, Q_PLAIN);
	rc2 = tcp2_store_remove(st, name);
	if (rc2 != 0 && rc2 != TCP2_ENOENT)
		return rc2;
	q_name(name, sizeof(name), id, Q_ORIG);
	rc2 = tcp2_store_remove(st, name);
	if (rc2 != 0 && rc2 != TCP2_ENOENT)
		return rc2;
	return rc;
}

int
tcp2_quarantine_gc(struct tcp2_store *st, size_t *n)
{
	char **names, id[TCP2_HELD_ID_LEN], name[64];
	struct tcp2_held h;
	size_t i, total;
	int rc = 0;

	*n = 0;
	if ((rc = tcp2_store_list(st, Q_PREFIX, &names, &total)) != 0)
		return rc;
	for (i = 0; i < total && rc == 0; i++) {
		if (valid_id(names[i]) || strlen(names[i]) < 32)
			continue;
		memcpy(id, names[i], 32);
		id[32] = '\0';
		if (!valid_id(id) || tcp2_quarantine_get(st, id, &h) !=
		    TCP2_ENOENT)
			continue;
		snprintf(name, sizeof(name), Q_PREFIX "/%s", names[i]);
		rc = tcp2_store_remove(st, name);
		if (rc == 0)
			(*n)++;
	}
	tcp2_store_list_free(names, total);
	return rc;
}
