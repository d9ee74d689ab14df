/*
 * pack.h - base64 line packing: the plaintext stream of a TCP2 message
 * (format version 2, docs/FORMAT.md 3.3) carries the base64 lines of the
 * original, 76 characters and a line end each, as the 57 bytes they
 * encode.  Mail attachments are base64: packed, an encrypted message is
 * about as large as its original instead of a third larger, and there is
 * a quarter less to encrypt, armour, write and send.
 *
 * The first `verbatim` bytes pass unchanged (the message's first chunk,
 * its header window).  After them:
 *
 *   0x00 0x00                  a literal NUL
 *   0x00 0x01 f n(2) data(n)   a block: lines of 57 bytes of data each,
 *                              the last one shorter (with its padding)
 *                              when n is not a multiple of 57; each
 *                              line ends with CRLF (f = 1) or LF (f = 0).
 *                              n (big-endian) is 57 to TCP2_PACK_DATA_MAX
 *   any other byte             itself
 *
 * The packer decides line by line from the line's bytes alone, so its
 * output does not depend on how the input was split.  It holds at most
 * one line in progress and one block.  Unpacking restores the original
 * byte for byte: only lines that re-encode to themselves are packed (all
 * alphabet, canonical padding).
 */
#ifndef TCP2_PACK_H
#define TCP2_PACK_H

#include <stddef.h>
#include <stdint.h>

#include "base64.h"
#include "message.h"

#define TCP2_PACK_LINE		76	/* characters of a packed full line */
#define TCP2_PACK_LINE_IN	57	/* ... the bytes it encodes */
#define TCP2_PACK_LINES		32	/* lines a block holds at most */
#define TCP2_PACK_DATA_MAX	(TCP2_PACK_LINES * TCP2_PACK_LINE_IN)
#define TCP2_PACK_HDR		5	/* 0x00 0x01 f n(2) */

/*
 * Where the packer's output goes: n bytes of the packed stream standing
 * for in_len input bytes.  linear: they are those input bytes themselves
 * (n == in_len), so any prefix of them stands for as many input bytes;
 * otherwise only all n together stand for the in_len.  0 or an error,
 * which the packer returns.
 */
typedef int (*tcp2_pack_out_fn)(void *arg, const uint8_t *p, size_t n,
    size_t in_len, int linear);

struct tcp2_pack {
	tcp2_pack_out_fn out;
	void *arg;
	uint64_t verbatim;	/* bytes still to pass unchanged */
	int sol;		/* at a line's start */
	uint8_t line[TCP2_PACK_LINE + 2];	/* a line's start, undecided */
	size_t llen;
	/* The open block: header, data (and scratch for the SIMD decoder). */
	uint8_t blk[TCP2_PACK_HDR + TCP2_PACK_DATA_MAX + 64];
	size_t nfull;		/* its full lines; 0: none open */
	int crlf;		/* its lines end with CRLF, not LF */
	size_t blk_in;		/* input bytes its lines took */
};

void tcp2_pack_init(struct tcp2_pack *k, uint64_t verbatim,
    tcp2_pack_out_fn out, void *arg);

/* Pack len input bytes.  0 or out's error. */
int tcp2_pack_write(struct tcp2_pack *k, const uint8_t *p, size_t len);

/* The input ended: the line in progress goes out as it is, the open
 * block is closed.  0 or out's error. */
int tcp2_pack_finish(struct tcp2_pack *k);

/* Wipe what the packer holds (plaintext). */
void tcp2_pack_wipe(struct tcp2_pack *k);

struct tcp2_unpack {
	tcp2_out_fn out;
	void *arg;
	uint64_t verbatim;
	uint8_t hdr[TCP2_PACK_HDR];	/* an escape being read */
	size_t hlen;
	size_t need;		/* the block's data length; 0: none */
	size_t have;
	uint8_t data[TCP2_PACK_DATA_MAX];
	char text[TCP2_B64_ENC_BOUND(TCP2_PACK_DATA_MAX)];
};

void tcp2_unpack_init(struct tcp2_unpack *u, uint64_t verbatim,
    tcp2_out_fn out, void *arg);

/* Unpack len bytes of a packed stream: TCP2_EFORMAT on a bad escape or
 * block header (the stream is not what a packer writes), else 0 or out's
 * error.  After an error the output is meaningless: stop. */
int tcp2_unpack_write(struct tcp2_unpack *u, const uint8_t *p, size_t len);

/* The stream ended: TCP2_EFORMAT inside an escape or a block, else 0. */
int tcp2_unpack_finish(const struct tcp2_unpack *u);

/* Bytes held: of an escape or an incomplete block. */
size_t tcp2_unpack_held(const struct tcp2_unpack *u);

/* Wipe what the unpacker holds (plaintext). */
void tcp2_unpack_wipe(struct tcp2_unpack *u);

#endif /* TCP2_PACK_H */
