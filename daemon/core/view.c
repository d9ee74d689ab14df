/*
 * view.c - build the VIEW object of docs/CONTROL.md from a decrypted
 * message: decoded header fields, the text (mime.c), the attachments.
 */
#include <string.h>

#include "error.h"
#include "header.h"
#include "mime.h"
#include "mimedec.h"
#include "view.h"

/* The fields that get a key of their own in the VIEW. */
static const char *const named[] = { "from", "to", "cc", "date", "subject" };
#define NNAMED	(sizeof(named) / sizeof(named[0]))

/* o[key] = s[0..n) as a JSON string; 0 or TCP2_ENOMEM. */
static int
put_str(json_object *o, const char *key, const char *s, size_t n)
{
	json_object *v = json_object_new_string_len(s, (int)n);

	if (v == NULL || json_object_object_add(o, key, v) != 0) {
		json_object_put(v);
		return TCP2_ENOMEM;
	}
	return 0;
}

static int
put_obj(json_object *o, const char *key, json_object *v)
{
	if (v == NULL || json_object_object_add(o, key, v) != 0) {
		json_object_put(v);
		return TCP2_ENOMEM;
	}
	return 0;
}

static int
arr_add(json_object *a, json_object *v)
{
	if (v == NULL || json_object_array_add(a, v) != 0) {
		json_object_put(v);
		return TCP2_ENOMEM;
	}
	return 0;
}

/* One decoded field value as a JSON string, or NULL. */
static json_object *
field_value(const struct tcp2_hdr_field *f)
{
	struct tcp2_buf b;
	json_object *v = NULL;
	size_t n;

	tcp2_buf_init(&b, TCP2_VIEW_VALUE_MAX);
	tcp2_hdr_decode(f->value, f->valuelen, &b);
	n = b.len > 0 ? tcp2_utf8_cut(b.p, b.len) : 0;
	if (!b.oom)
		v = json_object_new_string_len(n ? (const char *)b.p : "",
		    (int)n);
	tcp2_buf_free(&b);
	return v;
}

/*
 * "headers" and the named fields.  A named field absent from the message
 * is "".
 */
static int
view_headers(const uint8_t *msg, size_t len, const struct tcp2_mime *m,
    json_object *o)
{
	struct tcp2_hdr_field f;
	json_object *arr, *pair, *v, *got[NNAMED] = { NULL };
	size_t pos = m->hdr_off, end = m->hdr_off + m->hdr_len, used, i;
	int rc = 0, listed = 0;

	if ((arr = json_object_new_array()) == NULL)
		return TCP2_ENOMEM;
	while (rc == 0 && tcp2_hdr_next((const char *)msg + pos, end - pos, 1,
	    &f, &used) == TCP2_HDR_FIELD) {
		pos += used;
		for (i = 0; i < NNAMED; i++)
			if (got[i] == NULL && tcp2_hdr_is(&f, named[i]))
				break;
		if (i == NNAMED && listed >= TCP2_VIEW_HEADERS_MAX)
			continue;	/* past the list; named ones still */
		if ((v = field_value(&f)) == NULL) {
			rc = TCP2_ENOMEM;
			break;
		}
		if (i < NNAMED)
			got[i] = json_object_get(v);
		if (listed >= TCP2_VIEW_HEADERS_MAX) {
			json_object_put(v);
			continue;
		}
		listed++;
		if ((pair = json_object_new_array()) == NULL ||
		    arr_add(pair, json_object_new_string_len(f.name,
		    (int)f.namelen)) != 0 || arr_add(pair, v) != 0) {
			json_object_put(pair);
			rc = TCP2_ENOMEM;
			break;
		}
		rc = arr_add(arr, pair);
	}
	(void)len;
	for (i = 0; i < NNAMED; i++) {
		if (rc == 0)
			rc = got[i] ? put_obj(o, named[i], got[i]) :
			    put_str(o, named[i], "", 0);
		else
			json_object_put(got[i]);
	}
	if (rc == 0)
		return put_obj(o, "headers", arr);
	json_object_put(arr);
	return rc;
}

static int
view_attachments(const struct tcp2_mime *m, json_object *o)
{
	json_object *arr, *a;
	size_t i;
	int rc = 0;

	if ((arr = json_object_new_array()) == NULL)
		return TCP2_ENOMEM;
	for (i = 0; i < m->nparts && rc == 0; i++) {
		if (!m->parts[i].attachment)
			continue;
		if ((a = json_object_new_object()) == NULL ||
		    put_str(a, "name", m->parts[i].filename,
		    strlen(m->parts[i].filename)) != 0 ||
		    put_str(a, "type", m->parts[i].type,
		    strlen(m->parts[i].type)) != 0 ||
		    put_obj(a, "size", json_object_new_int64(
		    (int64_t)m->parts[i].decoded_size)) != 0) {
			json_object_put(a);
			rc = TCP2_ENOMEM;
			break;
		}
		rc = arr_add(arr, a);
	}
	if (rc == 0)
		return put_obj(o, "attachments", arr);
	json_object_put(arr);
	return rc;
}

int
tcp2_view_json(const uint8_t *msg, size_t len, const char *verification,
    const char *signer, int encrypted, json_object **out)
{
	struct tcp2_mime m;
	json_object *o;
	char *text = NULL;
	size_t textlen;
	int rc, cut;

	*out = NULL;
	if (signer == NULL)
		signer = "";
	if (verification == NULL)
		verification = "";
	if ((rc = tcp2_mime_analyse(msg, len, &m)) != 0)
		return rc;
	if ((o = json_object_new_object()) == NULL) {
		tcp2_mime_free(&m);
		return TCP2_ENOMEM;
	}
	rc = view_headers(msg, len, &m, o);
	if (rc == 0)
		rc = put_str(o, "verification", verification,
		    strlen(verification));
	if (rc == 0)
		rc = put_str(o, "signer", signer, strlen(signer));
	if (rc == 0)
		rc = put_obj(o, "encrypted", json_object_new_boolean(
		    encrypted != 0));
	if (rc == 0)
		rc = put_obj(o, "html", json_object_new_boolean(m.has_html));
	if (rc == 0)
		rc = tcp2_mime_text(msg, len, &m, &text, &textlen, &cut);
	if (rc == 0)
		rc = put_str(o, "text", text, textlen);
	if (rc == 0)
		rc = put_obj(o, "text_truncated", json_object_new_boolean(cut));
	if (rc == 0)
		rc = view_attachments(&m, o);
	if (rc == 0)
		rc = put_obj(o, "size", json_object_new_int64((int64_t)len));
	if (text != NULL) {
		explicit_bzero(text, textlen);
		free(text);
	}
	tcp2_mime_free(&m);
	if (rc != 0) {
		json_object_put(o);
		return rc;
	}
	*out = o;
	return 0;
}
