/*
 * header.h - RFC 5322 header-block helpers for the TCP2 mail core.
 *
 * These walk the header fields at the start of a message held in a
 * buffer, pull the first address out of an address field, and read a MIME
 * parameter.  They never allocate and never read past the length given:
 * every header comes from the network.
 */
#ifndef TCP2_HEADER_H
#define TCP2_HEADER_H

#include <stddef.h>

#define TCP2_ADDR_MAX	256	/* buffer size for one address, with NUL */

struct tcp2_hdr_field {
	const char *name;	/* field name, not NUL-terminated */
	size_t namelen;
	const char *value;	/* after the colon, up to the final line end */
	size_t valuelen;
	size_t rawlen;		/* whole field with folds and its line end */
};

enum tcp2_hdr_status {
	TCP2_HDR_FIELD = 1,	/* *f describes the next complete field */
	TCP2_HDR_END = 0,	/* the blank line: *consumed includes it */
	TCP2_HDR_MORE = -1,	/* the next field may not be complete yet */
	TCP2_HDR_BODY = -2,	/* a line that is not a header field */
};

/*
 * Look at the header field starting at buf[0..len).  A field is complete
 * when the line after it is known not to be a continuation (so the caller
 * must pass at least one byte past the field's line end), or at_eof.  On
 * TCP2_HDR_FIELD and TCP2_HDR_END *consumed is set to the bytes used.
 */
enum tcp2_hdr_status tcp2_hdr_next(const char *buf, size_t len, int at_eof,
    struct tcp2_hdr_field *f, size_t *consumed);

/* Case-insensitive comparison of a field name with a NUL-terminated one. */
int tcp2_hdr_is(const struct tcp2_hdr_field *f, const char *name);

/*
 * The first field called name in the complete header block buf[0..len)
 * (the fields before its blank line, or all of buf).  1 with *f set, and
 * *off (when not NULL) the offset of the field in buf; 0 when there is
 * none.  The field's raw text is buf[*off .. *off + f->rawlen).
 */
int tcp2_hdr_find(const char *buf, size_t len, const char *name,
    struct tcp2_hdr_field *f, size_t *off);

/*
 * The first mailbox of an address-list value ("Name <a@b>", "a@b (c)"),
 * lower-cased, into out[TCP2_ADDR_MAX].  0, or TCP2_EFORMAT when there is
 * no addr-spec or it is too long.
 */
int tcp2_hdr_addr(const char *value, size_t len, char *out);

/* Normalise a bare address the same way (trim, lower-case, check shape). */
int tcp2_addr_norm(const char *in, char *out);

/*
 * Value of MIME parameter name (e.g. "boundary") in a Content-Type value,
 * unquoted, into out[outlen].  0, TCP2_ENOENT, or TCP2_ETOOBIG.
 */
int tcp2_hdr_param(const char *value, size_t len, const char *name,
    char *out, size_t outlen);

#endif /* TCP2_HEADER_H */
