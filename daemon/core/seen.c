/*
 * seen.c - sorted set of received message IDs with the time first seen.
 *
 * Stored as one hex string of fixed-size records (ID, then the time as 8
 * big-endian bytes) to keep the store object compact: 48 hex digits a mail.
 */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "jsonrec.h"
#include "seen.h"

#define REC_LEN (TCP2_MSG_SALT_LEN + 8)

static size_t
seen_pos(const struct tcp2_seen *s, const uint8_t *id, int *found)
{
	size_t lo = 0, hi = s->n, mid;
	int c;

	*found = 0;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = memcmp(s->v[mid].id, id, TCP2_MSG_SALT_LEN);
		if (c == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct tcp2_seen_entry *
tcp2_seen_find(const struct tcp2_seen *s, const uint8_t id[TCP2_MSG_SALT_LEN])
{
	int found;
	size_t i = seen_pos(s, id, &found);

	return found ? &s->v[i] : NULL;
}

int
tcp2_seen_add(struct tcp2_seen *s, const uint8_t id[TCP2_MSG_SALT_LEN],
    uint64_t when)
{
	struct tcp2_seen_entry *nv;
	size_t i, nc;
	int found;

	i = seen_pos(s, id, &found);
	if (found)
		return 0;
	if (s->n == s->cap) {
		nc = s->cap ? s->cap * 2 : 64;
		nv = realloc(s->v, nc * sizeof(*nv));
		if (nv == NULL)
			return TCP2_ENOMEM;
		s->v = nv;
		s->cap = nc;
	}
	memmove(&s->v[i + 1], &s->v[i], (s->n - i) * sizeof(*s->v));
	memcpy(s->v[i].id, id, TCP2_MSG_SALT_LEN);
	s->v[i].when = when;
	s->n++;
	return 0;
}

int
tcp2_seen_to_json(const struct tcp2_seen *s, json_object **op)
{
	json_object *o;
	uint8_t *raw;
	size_t i;
	int k, rc;

	raw = malloc(s->n * REC_LEN + 1);
	o = json_object_new_object();
	if (raw == NULL || o == NULL) {
		free(raw);
		json_object_put(o);
		return TCP2_ENOMEM;
	}
	for (i = 0; i < s->n; i++) {
		memcpy(raw + i * REC_LEN, s->v[i].id, TCP2_MSG_SALT_LEN);
		for (k = 0; k < 8; k++)
			raw[i * REC_LEN + TCP2_MSG_SALT_LEN + (size_t)k] =
			    (uint8_t)(s->v[i].when >> (56 - 8 * k));
	}
	rc = tcp2_jr_set_hex(o, "seen", raw, s->n * REC_LEN);
	free(raw);
	if (rc != 0) {
		json_object_put(o);
		return rc;
	}
	*op = o;
	return 0;
}

int
tcp2_seen_from_json(json_object *o, struct tcp2_seen *s)
{
	json_object *v;
	uint8_t *raw;
	uint64_t when;
	size_t n, i;
	int k, rc = 0;

	memset(s, 0, sizeof(*s));
	if (!json_object_object_get_ex(o, "seen", &v) ||
	    !json_object_is_type(v, json_type_string))
		return TCP2_EFORMAT;
	n = (size_t)json_object_get_string_len(v) / 2;
	if (n % REC_LEN != 0)
		return TCP2_EFORMAT;
	raw = malloc(n + 1);
	if (raw == NULL)
		return TCP2_ENOMEM;
	rc = tcp2_jr_get_hex(o, "seen", raw, n);
	for (i = 0; rc == 0 && i < n / REC_LEN; i++) {
		when = 0;
		for (k = 0; k < 8; k++)
			when = when << 8 |
			    raw[i * REC_LEN + TCP2_MSG_SALT_LEN + (size_t)k];
		rc = tcp2_seen_add(s, raw + i * REC_LEN, when);
	}
	free(raw);
	if (rc != 0)
		tcp2_seen_free(s);
	return rc;
}

void
tcp2_seen_free(struct tcp2_seen *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}
