/*
 * test_quarantine.c - held mail in the encrypted store: put, list, get
 * back byte-identical (20 MB too), remove, persistence, hostile IDs, and
 * no plaintext on disk.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"
#include "error.h"
#include "harness.h"
#include "quarantine.h"
#include "store.h"

int
main(void)
{
	char tmpl[] = "/tmp/tcp2-q-XXXXXX", cmd[300], *dir;
	struct tcp2_store *st;
	struct tcp2_held h1 = { 0 }, h2 = { 0 }, g;
	uint8_t *big, *m;
	size_t bl = 20u << 20, ml, n, i;
	char **ids;
	const char *mail = "From: x@example.org\r\nSubject: MARKER-Q\r\n\r\n"
	    "MARKER-BODY invoice.exe\r\n";
	int rc;

	if (tcp2_crypto_init() != 0 || (dir = mkdtemp(tmpl)) == NULL)
		return 1;
	if (!t_check(tcp2_store_open(&st, dir, NULL, TCP2_STORE_CREATE) == 0,
	    "store opens"))
		return t_done();
	snprintf(h1.sender, sizeof(h1.sender), "x@example.org");
	snprintf(h1.subject, sizeof(h1.subject), "MARKER-Q");
	snprintf(h1.reason, sizeof(h1.reason),
	    "held: attachment invoice.exe, sender unverified");
	h1.verification = -1;
	h1.attachments = 1;
	h1.when = 1795000000;
	rc = tcp2_quarantine_put(st, &h1, mail, strlen(mail));
	t_check(rc == 0 && strlen(h1.id) == 32, "hold a mail: id %s", h1.id);
	big = malloc(bl);
	for (i = 0; i < bl; i++)
		big[i] = (uint8_t)(i * 7 + (i >> 13));
	h2.verification = 1;
	h2.encrypted = 1;
	t_check(tcp2_quarantine_put(st, &h2, big, bl) == 0, "hold a 20 MB mail");
	t_check(tcp2_quarantine_list(st, &ids, &n) == 0 && n == 2,
	    "list: 2 held");
	tcp2_store_list_free(ids, n);
	tcp2_store_close(st);

	/* Reopen: everything is still there. */
	tcp2_store_open(&st, dir, NULL, 0);
	rc = tcp2_quarantine_get(st, h1.id, &g, &m, &ml);
	t_check(rc == 0 && ml == strlen(mail) && memcmp(m, mail, ml) == 0 &&
	    strcmp(g.reason, h1.reason) == 0 && g.verification == -1 &&
	    g.attachments == 1 && g.when == h1.when,
	    "after reopen: mail and description identical");
	tcp2_store_free(m, ml);
	rc = tcp2_quarantine_get(st, h2.id, &g, &m, &ml);
	t_check(rc == 0 && ml == bl && memcmp(m, big, bl) == 0 &&
	    g.encrypted == 1 && g.verification == 1,
	    "20 MB mail back byte-identical");
	tcp2_store_free(m, ml);
	t_check(tcp2_quarantine_get(st, "../../etc/passwd", &g, NULL, NULL) ==
	    TCP2_EINVAL && tcp2_quarantine_get(st,
	    "0123456789abcdef0123456789abcdeF", &g, NULL, NULL) == TCP2_EINVAL,
	    "hostile IDs rejected");
	t_check(tcp2_quarantine_get(st, "0123456789abcdef0123456789abcdef", &g,
	    NULL, NULL) == TCP2_ENOENT, "unknown ID: not found");
	snprintf(cmd, sizeof(cmd), "grep -rq MARKER %s", dir);
	t_check(system(cmd) != 0, "no plaintext marker anywhere on disk");
	t_check(tcp2_quarantine_remove(st, h1.id) == 0 &&
	    tcp2_quarantine_get(st, h1.id, &g, NULL, NULL) == TCP2_ENOENT &&
	    tcp2_quarantine_remove(st, h1.id) == TCP2_ENOENT,
	    "remove: gone for good");
	tcp2_store_close(st);
	free(big);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		t_check(0, "clean up");
	return t_done();
}
