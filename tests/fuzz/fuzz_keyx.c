/*
 * fuzz_keyx.c - libFuzzer target for the key-exchange mail parser
 * (tcp2_keyx_parse, keyx.h) and tcp2_keyx_is_keyx_mail.
 *
 * The input is a whole mail.  The seeds (gen_corpus.c) are validly signed,
 * so edits outside the signed fields still reach the From: check.
 * Asserts: no crash or leak; a result is 0 or a TCP2_E* code; after 0 the
 * type is init or reply and From/To are NUL-terminated, normalised
 * addresses; and, since the parser keeps only what was signed, the mail
 * tcp2_keyx_mail makes of the result parses back to the same struct.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "error.h"
#include "keyx.h"

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define CHECK(c) do {							\
	if (!(c)) {							\
		fprintf(stderr, "%s:%d: ASSERT %s\n", __FILE__,		\
		    __LINE__, #c);					\
		abort();						\
	}								\
} while (0)

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	CHECK(tcp2_crypto_init() == 0);
	return 0;
}

static void
check_addr(const char *a)
{
	char norm[TCP2_ADDR_MAX];

	CHECK(memchr(a, '\0', TCP2_ADDR_MAX) != NULL);
	CHECK(tcp2_addr_norm(a, norm) == 0 && strcmp(a, norm) == 0);
}

/* What was accepted is exactly what a fresh mail of it carries. */
static void
check_round_trip(const struct tcp2_keyx *kx)
{
	struct tcp2_keyx again;
	char mail[4096];
	long n;

	n = tcp2_keyx_mail(kx, mail, sizeof(mail));
	CHECK(n > 0 || n == TCP2_ETOOBIG);
	if (n < 0)
		return;
	CHECK(tcp2_keyx_parse(mail, (size_t)n, &again) == 0);
	CHECK(memcmp(&again, kx, sizeof(again)) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tcp2_keyx kx;
	char *mail;
	int rc;

	/* An exact-size copy: ASan then sees reads past len. */
	mail = malloc(size ? size : 1);
	CHECK(mail != NULL);
	memcpy(mail, data, size);
	rc = tcp2_keyx_is_keyx_mail(mail, size);
	CHECK(rc == 0 || rc == 1);
	memset(&kx, 0x5a, sizeof(kx));
	rc = tcp2_keyx_parse(mail, size, &kx);
	CHECK(rc <= 0 && rc >= TCP2_ENOFROM);
	if (rc == 0) {
		CHECK(kx.type == TCP2_KEYX_INIT || kx.type == TCP2_KEYX_REPLY);
		check_addr(kx.from);
		check_addr(kx.to);
		check_round_trip(&kx);
	}
	free(mail);
	return 0;
}
