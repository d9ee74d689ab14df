/*
 * quarantine.h - held mail in the encrypted store.
 *
 * A held mail is kept whole, byte for byte as the server delivered it,
 * with a short description (who, what, why) that the control API lists
 * without loading every mail.  Each entry is one store object
 * "quarantine/<id>", so writing one is atomic and durable: once
 * tcp2_quarantine_put returned 0 the mail survives a crash, and only then
 * may the client be allowed to delete it on the server.
 */
#ifndef TCP2_QUARANTINE_H
#define TCP2_QUARANTINE_H

#include <stddef.h>
#include <stdint.h>

#include "header.h"
#include "store.h"

#define TCP2_HELD_ID_LEN	33	/* 32 hex digits and NUL */
#define TCP2_HELD_TEXT_MAX	512

struct tcp2_held {
	char id[TCP2_HELD_ID_LEN];	/* set by tcp2_quarantine_put */
	uint64_t when;			/* Unix time it was held */
	char account[TCP2_ADDR_MAX];
	char sender[TCP2_ADDR_MAX];
	char subject[TCP2_HELD_TEXT_MAX];
	char reason[TCP2_HELD_TEXT_MAX];	/* one line, for the user */
	int verification;		/* enum tcp2_sig_status, or -1 */
	int encrypted;
	int html;
	int attachments;		/* how many */
};

/* Hold a mail: fills h->id with a fresh random ID.  Errors: store's. */
int tcp2_quarantine_put(struct tcp2_store *st, struct tcp2_held *h,
    const void *mail, size_t len);

/* The description, and when mail is not NULL the mail (malloc'd, free
 * with tcp2_store_free).  TCP2_ENOENT for an unknown ID, TCP2_EINVAL for
 * a malformed one, TCP2_EFORMAT for a corrupt entry. */
int tcp2_quarantine_get(struct tcp2_store *st, const char *id,
    struct tcp2_held *h, uint8_t **mail, size_t *len);

/* IDs of all held mail, sorted; free with tcp2_store_list_free. */
int tcp2_quarantine_list(struct tcp2_store *st, char ***ids, size_t *n);

/* Delete for good.  TCP2_ENOENT when absent. */
int tcp2_quarantine_remove(struct tcp2_store *st, const char *id);

#endif /* TCP2_QUARANTINE_H */
