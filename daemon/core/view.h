/*
 * view.h - the VIEW of a message for the control protocol (docs/CONTROL.md
 * "The VIEW of a message"): the header fields a person reads, decoded; the
 * text; the attachment list; and the verdict of verification, as one
 * json-c object for `show` and `decrypt`.
 */
#ifndef TCP2_VIEW_H
#define TCP2_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#define TCP2_VIEW_HEADERS_MAX	256	/* fields listed in "headers" */
#define TCP2_VIEW_VALUE_MAX	(16u << 10)	/* octets of one value */

/*
 * Build the VIEW of msg[0..len) (the decrypted message) into *out, a new
 * object the caller puts.  verification ("verified", "unverified",
 * "forged") and signer (an address, or NULL for "") are given as they are;
 * encrypted says whether the mail arrived encrypted.  From, To, Cc, Date
 * and Subject are the first such fields, unfolded and RFC 2047-decoded
 * ("" when absent); every string is valid UTF-8.  Returns 0;
 * TCP2_ETOOBIG when len is over TCP2_MIME_MSG_MAX; TCP2_ENOMEM; *out is
 * NULL on error.  Malformed mail is no error: it is shown as it is.
 */
int tcp2_view_json(const uint8_t *msg, size_t len, const char *verification,
    const char *signer, int encrypted, json_object **out);

#endif /* TCP2_VIEW_H */
