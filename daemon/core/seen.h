/*
 * seen.h - the set of message IDs (TCP2 message salts) already received,
 * so that a replayed message is recognised as such.
 */
#ifndef TCP2_SEEN_H
#define TCP2_SEEN_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "message.h"

struct tcp2_seen_entry {
	uint8_t id[TCP2_MSG_SALT_LEN];
	uint64_t when;
};

struct tcp2_seen {
	struct tcp2_seen_entry *v;	/* sorted by id */
	size_t n, cap;
};

/* The entry for id, or NULL. */
const struct tcp2_seen_entry *tcp2_seen_find(const struct tcp2_seen *s,
    const uint8_t id[TCP2_MSG_SALT_LEN]);

/* Insert (no-op when present).  0 or TCP2_ENOMEM. */
int tcp2_seen_add(struct tcp2_seen *s, const uint8_t id[TCP2_MSG_SALT_LEN],
    uint64_t when);

int tcp2_seen_to_json(const struct tcp2_seen *s, json_object **o);
int tcp2_seen_from_json(json_object *o, struct tcp2_seen *s);
void tcp2_seen_free(struct tcp2_seen *s);

#endif /* TCP2_SEEN_H */
