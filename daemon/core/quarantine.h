/*
 * quarantine.h - held mail in the encrypted store.
 *
 * A held mail is kept whole, byte for byte as the server delivered it
 * (and, for a TCP2 message, decrypted as well, since decrypting it again
 * later would count as a replay), with a short description (who, what,
 * why, what the user decided) that the control API lists without
 * loading any mail.  Each held mail is up to three store objects:
 *
 *   quarantine/<id>.orig    the mail as the server delivered it
 *   quarantine/<id>.plain   its decrypted form (encrypted mail only)
 *   quarantine/<id>         the description, written last
 *
 * The description is the commit point: once tcp2_quarantine_put returned
 * 0 the mail survives a crash (only then may the client be allowed to
 * delete it on the server), and a crash before leaves blobs without a
 * description, which tcp2_quarantine_gc removes.
 */
#ifndef TCP2_QUARANTINE_H
#define TCP2_QUARANTINE_H

#include <stddef.h>
#include <stdint.h>

#include "header.h"
#include "store.h"

#define TCP2_HELD_ID_LEN	33	/* 32 hex digits and NUL */
#define TCP2_HELD_TEXT_MAX	512
#define TCP2_HELD_ATT_MAX	16	/* attachments described one by one */

enum tcp2_held_state {
	TCP2_HELD_HELD = 0,		/* waiting for the user */
	TCP2_HELD_RELEASING = 1,	/* Receive chosen, not delivered yet */
	TCP2_HELD_RELEASED = 2,		/* in the mailbox again */
};

struct tcp2_held_att {
	char name[128];
	char type[96];
	uint64_t size;
};

struct tcp2_held {
	char id[TCP2_HELD_ID_LEN];	/* set by tcp2_quarantine_put */
	uint64_t when;			/* Unix time it was held */
	uint64_t expires;		/* deleted then unless decided */
	char account[TCP2_ADDR_MAX];
	char sender[TCP2_ADDR_MAX];
	char subject[TCP2_HELD_TEXT_MAX];
	char reason[TCP2_HELD_TEXT_MAX];	/* one line, for the user */
	int verification;		/* enum tcp2_sig_status, or -1 */
	int encrypted;
	int html;
	int attachments;		/* how many */
	size_t natt;			/* of which described in att */
	struct tcp2_held_att att[TCP2_HELD_ATT_MAX];
	uint64_t size;			/* octets of the original */
	int has_plain;			/* a decrypted copy is kept */
	enum tcp2_held_state state;
	int strip;			/* release without attachments */
	int warned;			/* the expiry warning went out */
};

/* Which copy tcp2_quarantine_mail returns. */
enum tcp2_held_copy {
	TCP2_HELD_ORIG,			/* as the server delivered it */
	TCP2_HELD_PLAIN,		/* decrypted (the original if none) */
};

/*
 * Hold a mail: fills h->id with a fresh random ID, h->size, h->has_plain.
 * plain may be NULL.  Durable when it returns 0.  Errors: the store's
 * (TCP2_ETOOBIG for a mail over TCP2_STORE_MAX_OBJECT).
 */
int tcp2_quarantine_put(struct tcp2_store *st, struct tcp2_held *h,
    const void *orig, size_t olen, const void *plain, size_t plen);

/* The description.  TCP2_ENOENT for an unknown ID, TCP2_EINVAL for a
 * malformed one, TCP2_EFORMAT for a corrupt entry. */
int tcp2_quarantine_get(struct tcp2_store *st, const char *id,
    struct tcp2_held *h);

/* Rewrite the description of an existing entry (state, warned...). */
int tcp2_quarantine_update(struct tcp2_store *st, const struct tcp2_held *h);

/* One copy of the mail, malloc'd: free with tcp2_store_free.  Errors as
 * tcp2_quarantine_get. */
int tcp2_quarantine_mail(struct tcp2_store *st, const char *id,
    enum tcp2_held_copy which, uint8_t **mail, size_t *len);

/* IDs of all held mail, sorted; free with tcp2_store_list_free. */
int tcp2_quarantine_list(struct tcp2_store *st, char ***ids, size_t *n);

/* Delete for good (description first).  TCP2_ENOENT when absent. */
int tcp2_quarantine_remove(struct tcp2_store *st, const char *id);

/* Remove copies left without a description by a crash; how many in *n. */
int tcp2_quarantine_gc(struct tcp2_store *st, size_t *n);

#endif /* TCP2_QUARANTINE_H */
