/*
 * error.c - one-line texts for the TCP2 mail core's error codes.
 */
#include "error.h"

const char *
tcp2_strerror(int err)
{
	switch (err) {
	case TCP2_OK:		return "success";
	case TCP2_ENOMEM:	return "out of memory";
	case TCP2_EIO:		return "input/output error";
	case TCP2_EFORMAT:	return "malformed input";
	case TCP2_EVERSION:	return "unsupported format version";
	case TCP2_EAUTH:	return "authentication failed (tampered or corrupt data)";
	case TCP2_ETRUNC:	return "message truncated";
	case TCP2_ENOKEY:	return "no key for this sender or recipient";
	case TCP2_EREPLAY:	return "replay: this message was seen before";
	case TCP2_ETOOBIG:	return "input exceeds its size limit";
	case TCP2_ECRYPTO:	return "cryptographic library error";
	case TCP2_EINVAL:	return "invalid argument";
	case TCP2_EEXIST:	return "already exists";
	case TCP2_ENOENT:	return "not found";
	case TCP2_EPASS:	return "wrong passphrase or master key";
	case TCP2_ESTATE:	return "not possible in the current state";
	case TCP2_ELOCKED:	return "store is locked by another process";
	case TCP2_ENOFROM:
		return "the message has no single From: address in its header";
	}
	return "unknown error";
}
