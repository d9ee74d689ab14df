/*
 * fuzz_store_unseal.c - libFuzzer target for the store's unseal path.
 *
 * 1. The input is an object file image: tcp2_store_unseal must reject it
 *    without reading past its end (ASan watches) and, in the
 *    astronomically unlikely case that it authenticates, return a buffer
 *    of exactly len - 57 bytes.
 * 2. The input is also a plaintext and a mutation: seal it, check the
 *    untouched image round trips, then flip the byte the input selects
 *    (or cut the image short) and check that unseal refuses it and
 *    returns nothing.
 *
 * Seeds in tests/fuzz/corpus/store_unseal/ are real images sealed under
 * the key and name below, so the fuzzer starts next to the success path.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "error.h"
#include "store.h"

#define FUZZ_NAME	"quarantine/fuzz"
#define HDR_TAG		(41 + 16)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t key[32] = {
	0x54, 0x43, 0x50, 0x32, 0x20, 0x66, 0x75, 0x7a,
	0x7a, 0x20, 0x6b, 0x65, 0x79, 0x20, 0x30, 0x31,
	0x02, 0x03, 0x05, 0x07, 0x0b, 0x0d, 0x11, 0x13,
	0x17, 0x1d, 0x1f, 0x25, 0x29, 0x2b, 0x2f, 0x35,
};

static void
unseal_input(const uint8_t *data, size_t size)
{
	uint8_t *out = (uint8_t *)1;
	size_t outlen = 1;
	int rc;

	rc = tcp2_store_unseal(key, FUZZ_NAME, data, size, &out, &outlen);
	if (rc != 0 && (out != NULL || outlen != 0))
		abort();	/* an error must leave no output */
	if (rc == 0 && (size < HDR_TAG || outlen != size - HDR_TAG))
		abort();
	if (rc == 0)
		tcp2_store_free(out, outlen);
}

static void
seal_mutate(const uint8_t *data, size_t size)
{
	uint8_t *img, *out;
	size_t ilen, outlen, pos;
	int rc;

	if (size > 4096)
		size = 4096;
	if (tcp2_store_seal(key, FUZZ_NAME, data, size, &img, &ilen) != 0)
		abort();
	if (tcp2_store_unseal(key, FUZZ_NAME, img, ilen, &out, &outlen) != 0 ||
	    outlen != size || (size > 0 && memcmp(out, data, size) != 0))
		abort();
	tcp2_store_free(out, outlen);
	if (size >= 3) {
		/* data[0..1] picks the byte, data[2] the non-zero flip. */
		pos = ((size_t)data[0] << 8 | data[1]) % ilen;
		img[pos] ^= data[2] != 0 ? data[2] : 0x80;
	} else
		ilen = size;	/* truncate to 0..2 bytes */
	rc = tcp2_store_unseal(key, FUZZ_NAME, img, ilen, &out, &outlen);
	if (rc == 0 || out != NULL || outlen != 0)
		abort();
	free(img);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;

	if (!ready) {
		if (tcp2_crypto_init() != 0)
			abort();
		ready = 1;
	}
	unseal_input(data, size);
	seal_mutate(data, size);
	return 0;
}
