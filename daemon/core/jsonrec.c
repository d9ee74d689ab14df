/*
 * jsonrec.c - typed, bounded field access on json-c objects for the
 * store's records.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "error.h"
#include "jsonrec.h"

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

void
tcp2_hex(char *out, const uint8_t *buf, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[buf[i] >> 4];
		out[2 * i + 1] = digits[buf[i] & 15];
	}
	out[2 * len] = '\0';
}

int
tcp2_jr_get_str(json_object *o, const char *key, char *out, size_t outlen)
{
	json_object *v;
	const char *s;
	size_t n;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return TCP2_EFORMAT;
	s = json_object_get_string(v);
	n = (size_t)json_object_get_string_len(v);
	if (n >= outlen || memchr(s, '\0', n) != NULL)
		return TCP2_EFORMAT;
	memcpy(out, s, n + 1);
	return 0;
}

int
tcp2_jr_get_hex(json_object *o, const char *key, uint8_t *out, size_t len)
{
	json_object *v;
	const char *s;
	size_t i;
	int hi, lo;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    (size_t)json_object_get_string_len(v) != 2 * len)
		return TCP2_EFORMAT;
	s = json_object_get_string(v);
	for (i = 0; i < len; i++) {
		hi = hexval(s[2 * i]);
		lo = hexval(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return TCP2_EFORMAT;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int
tcp2_jr_get_u64(json_object *o, const char *key, uint64_t *out)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_int))
		return TCP2_EFORMAT;
	errno = 0;
	*out = json_object_get_uint64(v);
	return errno ? TCP2_EFORMAT : 0;
}

int
tcp2_jr_get_bool(json_object *o, const char *key, int *out)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_boolean))
		return TCP2_EFORMAT;
	*out = json_object_get_boolean(v);
	return 0;
}

static int
jr_add(json_object *o, const char *key, json_object *v)
{
	if (v == NULL || json_object_object_add(o, key, v) != 0) {
		json_object_put(v);
		return TCP2_ENOMEM;
	}
	return 0;
}

int
tcp2_jr_set_str(json_object *o, const char *key, const char *val)
{
	return jr_add(o, key, json_object_new_string(val));
}

int
tcp2_jr_set_hex(json_object *o, const char *key, const uint8_t *buf,
    size_t len)
{
	char *hex = malloc(2 * len + 1);
	int rc;

	if (hex == NULL)
		return TCP2_ENOMEM;
	tcp2_hex(hex, buf, len);
	rc = jr_add(o, key, json_object_new_string(hex));
	tcp2_crypto_wipe(hex, 2 * len);
	free(hex);
	return rc;
}

int
tcp2_jr_set_u64(json_object *o, const char *key, uint64_t val)
{
	return jr_add(o, key, json_object_new_uint64(val));
}

int
tcp2_jr_set_bool(json_object *o, const char *key, int val)
{
	return jr_add(o, key, json_object_new_boolean(val));
}

int
tcp2_jr_dump(json_object *o, char **out, size_t *len)
{
	const char *s;
	size_t n;

	s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &n);
	if (s == NULL)
		return TCP2_ENOMEM;
	*out = malloc(n + 1);
	if (*out == NULL)
		return TCP2_ENOMEM;
	memcpy(*out, s, n + 1);
	/* json-c keeps the text in the object's print buffer: wipe it. */
	tcp2_crypto_wipe((char *)s, n);
	*len = n;
	return 0;
}

int
tcp2_jr_load(const uint8_t *buf, size_t len, json_object **o)
{
	struct json_tokener *tok;
	json_object *v;

	if (len > INT32_MAX)
		return TCP2_ETOOBIG;
	tok = json_tokener_new_ex(32);
	if (tok == NULL)
		return TCP2_ENOMEM;
	v = json_tokener_parse_ex(tok, (const char *)buf, (int)len);
	if (v == NULL || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len ||
	    !json_object_is_type(v, json_type_object)) {
		json_object_put(v);
		json_tokener_free(tok);
		return TCP2_EFORMAT;
	}
	json_tokener_free(tok);
	*o = v;
	return 0;
}
