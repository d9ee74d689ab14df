/*
 * error.h - error codes of the TCP2 mail core.
 *
 * Every fallible function of daemon/core returns 0 on success or a negative
 * TCP2_E* code.  The codes are few and coarse on purpose: they say what a
 * user or an operator must know ("the message was tampered with"), not where
 * in the code it happened.  tcp2_strerror() gives the one-line text.
 */
#ifndef TCP2_ERROR_H
#define TCP2_ERROR_H

enum tcp2_error {
	TCP2_OK = 0,
	TCP2_ENOMEM = -1,	/* out of memory */
	TCP2_EIO = -2,		/* read/write/fsync failed (errno kept) */
	TCP2_EFORMAT = -3,	/* input is not a well-formed TCP2 object */
	TCP2_EVERSION = -4,	/* unsupported format version */
	TCP2_EAUTH = -5,	/* authentication tag or signature failed */
	TCP2_ETRUNC = -6,	/* input ended before its final chunk */
	TCP2_ENOKEY = -7,	/* no key for this peer / message */
	TCP2_EREPLAY = -8,	/* message or key exchange seen before */
	TCP2_ETOOBIG = -9,	/* a bounded input exceeded its bound */
	TCP2_ECRYPTO = -10,	/* libgcrypt refused an operation */
	TCP2_EINVAL = -11,	/* bad argument */
	TCP2_EEXIST = -12,	/* already exists */
	TCP2_ENOENT = -13,	/* no such object */
	TCP2_EPASS = -14,	/* wrong passphrase or master key */
	TCP2_ESTATE = -15,	/* operation not valid in the current state */
	TCP2_ELOCKED = -16,	/* store is in use by another process */
	TCP2_ENOFROM = -17,	/* message lacks a single From: address */
};

/* Returns a static one-line description; never NULL. */
const char *tcp2_strerror(int err);

#endif /* TCP2_ERROR_H */
