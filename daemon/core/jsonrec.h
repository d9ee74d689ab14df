/*
 * jsonrec.h - small json-c helpers for the records the store keeps
 * (accounts, peers, seen IDs): typed, bounded field access.  Every getter
 * fails (TCP2_EFORMAT) on a missing field, a wrong type or a wrong length,
 * because store content is read back from disk and treated as hostile.
 */
#ifndef TCP2_JSONREC_H
#define TCP2_JSONREC_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

int tcp2_jr_get_str(json_object *o, const char *key, char *out,
    size_t outlen);
int tcp2_jr_get_hex(json_object *o, const char *key, uint8_t *out,
    size_t len);
int tcp2_jr_get_u64(json_object *o, const char *key, uint64_t *out);
int tcp2_jr_get_bool(json_object *o, const char *key, int *out);

/* Setters: 0 or TCP2_ENOMEM. */
int tcp2_jr_set_str(json_object *o, const char *key, const char *val);
int tcp2_jr_set_hex(json_object *o, const char *key, const uint8_t *buf,
    size_t len);
int tcp2_jr_set_u64(json_object *o, const char *key, uint64_t val);
int tcp2_jr_set_bool(json_object *o, const char *key, int val);

/* Lower-case hex of len bytes into out[2 * len + 1]. */
void tcp2_hex(char *out, const uint8_t *buf, size_t len);

/* Serialise o compactly into a malloc'd buffer; parse a buffer back
 * (TCP2_EFORMAT when it is not one JSON object). */
int tcp2_jr_dump(json_object *o, char **out, size_t *len);
int tcp2_jr_load(const uint8_t *buf, size_t len, json_object **o);

#endif /* TCP2_JSONREC_H */
