/*
 * mime.h - the MIME analyser of the TCP2 mail core: what a message held
 * in memory is made of (its leaf parts, HTML or other active content,
 * attachments and which of them are risky), the text to show people, and
 * a copy of the message with its attachments removed.
 *
 * The hold policy and the message VIEW (view.h) are built on this.  Every
 * message is hostile: the walk is bounded in depth and part count, never
 * reads outside the buffer, and malformed structure is read the lenient
 * way mail clients read it (a missing closing boundary ends the part at
 * the end of the message, a missing blank line ends the header at the
 * first line that is not a field).  When a bound is hit the analysis is
 * still returned, with `limited` set: policy should treat such a message
 * as suspicious, since what lies past the bound was not looked at.
 */
#ifndef TCP2_MIME_H
#define TCP2_MIME_H

#include <stddef.h>
#include <stdint.h>

#define TCP2_MIME_MSG_MAX	(64u << 20)	/* largest message analysed */
#define TCP2_MIME_DEPTH_MAX	16	/* nested multiparts / messages */
#define TCP2_MIME_PARTS_MAX	1000	/* leaf parts listed */
#define TCP2_MIME_TEXT_MAX	(1u << 20)	/* octets of text for people */
#define TCP2_MIME_NAME_MAX	512	/* octets of a filename, with NUL */

struct tcp2_mime_part {
	char type[96];		/* "type/subtype", lower case */
	char charset[48];	/* lower case, "" when none given */
	char encoding[32];	/* Content-Transfer-Encoding, lower case */
	char disposition[16];	/* "inline", "attachment" or "" */
	char filename[TCP2_MIME_NAME_MAX];	/* UTF-8, "" when none */
	size_t hdr_off;		/* the part's header block in the message */
	size_t body_off;	/* its body (after the blank line) */
	size_t body_len;	/* up to the line end before the next delimiter */
	size_t seg_off;		/* its delimiter line, or hdr_off at the top */
	size_t seg_end;		/* where the next delimiter line starts */
	size_t decoded_size;	/* octets once transfer-decoded */
	unsigned int depth;	/* 0 for a single-part message */
	int attachment;		/* counts as an attachment (mime.c says why) */
	int risky;		/* executable, script, archive, macros... */
	int active;		/* HTML or script content */
};

struct tcp2_mime {
	struct tcp2_mime_part *parts;	/* leaf parts in message order */
	size_t nparts;
	size_t nattach;		/* parts with attachment set */
	size_t nrisky;		/* attachments with risky set */
	int has_html;		/* any HTML or other active content, also
				 * inside attached messages */
	int is_mime;		/* a MIME-Version or Content-Type field */
	int limited;		/* a depth or part bound was hit */
	int crlf;		/* the header block ends its lines in CRLF */
	size_t hdr_off;		/* the top-level header block: after an
				 * mbox "From " line, if any */
	size_t hdr_len;		/* its length, blank line included */
};

/*
 * Analyse msg[0..len) (LF or CRLF lines, at most TCP2_MIME_MSG_MAX) into
 * the caller's *m, which must be freed with tcp2_mime_free whatever the
 * outcome.  Returns 0; TCP2_ETOOBIG when len is over the bound,
 * TCP2_ENOMEM; in both cases *m is left empty.  Malformed MIME is no
 * error.  A message/rfc822 part is one leaf: what it contains is looked
 * at for has_html and for its own risky flag, but is not listed.
 */
int tcp2_mime_analyse(const uint8_t *msg, size_t len, struct tcp2_mime *m);

/* Free what tcp2_mime_analyse allocated; *m is empty afterwards. */
void tcp2_mime_free(struct tcp2_mime *m);

/*
 * The text to show people, as NUL-terminated UTF-8 with LF line ends into
 * *out (malloc'd, the caller frees it), *outlen octets: the first
 * text/plain part that is not an attachment, decoded from its transfer
 * encoding and charset; if there is none, the first such text/html part
 * with its markup removed; else "".  At most TCP2_MIME_TEXT_MAX octets,
 * cut at a character boundary, *truncated set when cut.  0 or
 * TCP2_ENOMEM.
 */
int tcp2_mime_text(const uint8_t *msg, size_t len, const struct tcp2_mime *m,
    char **out, size_t *outlen, int *truncated);

/*
 * A copy of msg[0..len) with every attachment removed, into *out
 * (malloc'd), *outlen octets.  The first attachment's part is replaced
 * by a text/plain part saying "TCP2 Mail removed N attachment(s): name
 * (type, size), ..."; the others go with their delimiter lines, so the
 * boundaries stay intact.  Everything else is byte-identical.  A message
 * without attachments comes back unchanged (a copy).  0, TCP2_ETOOBIG,
 * TCP2_ENOMEM.
 */
int tcp2_mime_strip(const uint8_t *msg, size_t len, uint8_t **out,
    size_t *outlen);

#endif /* TCP2_MIME_H */
