/*
 * test_quarantine.c - held mail in the encrypted store: put, list, get
 * back byte-identical (20 MB too, original and decrypted copy), update of
 * the description, remove, persistence, hostile IDs, clean-up of copies a
 * crash left without a description, and no plaintext on disk.
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
	h1.natt = 1;
	snprintf(h1.att[0].name, sizeof(h1.att[0].name), "invoice.exe");
	snprintf(h1.att[0].type, sizeof(h1.att[0].type),
	    "application/octet-stream");
	h1.att[0].size = 11;
	rc = tcp2_quarantine_put(st, &h1, mail, strlen(mail), NULL, 0);
	t_check(rc == 0 && strlen(h1.id) == 32, "hold a mail: id %s", h1.id);
	big = malloc(bl);
	for (i = 0; i < bl; i++)
		big[i] = (uint8_t)(i * 7 + (i >> 13));
	h2.verification = 1;
	h2.encrypted = 1;
	t_check(tcp2_quarantine_put(st, &h2, mail, strlen(mail), big, bl) == 0,
	    "hold a 20 MB mail (decrypted copy) with its original");
	t_check(tcp2_quarantine_list(st, &ids, &n) == 0 && n == 2,
	    "list: 2 held");
	tcp2_store_list_free(ids, n);
	tcp2_store_close(st);

	/* Reopen: everything is still there. */
	tcp2_store_open(&st, dir, NULL, 0);
	rc = tcp2_quarantine_get(st, h1.id, &g);
	t_check(rc == 0 && strcmp(g.reason, h1.reason) == 0 &&
	    g.verification == -1 && g.attachments == 1 && g.when == h1.when &&
	    g.natt == 1 && strcmp(g.att[0].name, "invoice.exe") == 0 &&
	    g.att[0].size == 11 && g.size == strlen(mail) && !g.has_plain &&
	    g.state == TCP2_HELD_HELD, "after reopen: description identical");
	rc = tcp2_quarantine_mail(st, h1.id, TCP2_HELD_PLAIN, &m, &ml);
	t_check(rc == 0 && ml == strlen(mail) && memcmp(m, mail, ml) == 0,
	    "no decrypted copy: the original is the plain one");
	tcp2_store_free(m, ml);
	rc = tcp2_quarantine_mail(st, h2.id, TCP2_HELD_PLAIN, &m, &ml);
	t_check(rc == 0 && ml == bl && memcmp(m, big, bl) == 0,
	    "20 MB decrypted copy back byte-identical");
	tcp2_store_free(m, ml);
	rc = tcp2_quarantine_mail(st, h2.id, TCP2_HELD_ORIG, &m, &ml);
	t_check(rc == 0 && ml == strlen(mail) && memcmp(m, mail, ml) == 0,
	    "and its original");
	tcp2_store_free(m, ml);
	tcp2_quarantine_get(st, h2.id, &g);
	g.state = TCP2_HELD_RELEASING;
	g.strip = 1;
	rc = tcp2_quarantine_update(st, &g);
	t_check(rc == 0 && tcp2_quarantine_get(st, h2.id, &g) == 0 &&
	    g.state == TCP2_HELD_RELEASING && g.strip && g.encrypted == 1 &&
	    g.verification == 1, "update: the decision is kept");
	t_check(tcp2_quarantine_get(st, "../../etc/passwd", &g) ==
	    TCP2_EINVAL && tcp2_quarantine_get(st,
	    "0123456789abcdef0123456789abcdeF", &g) == TCP2_EINVAL,
	    "hostile IDs rejected");
	t_check(tcp2_quarantine_get(st, "0123456789abcdef0123456789abcdef",
	    &g) == TCP2_ENOENT, "unknown ID: not found");
	/* A crash between the copies and the description leaves copies. */
	t_check(tcp2_store_write(st,
	    "quarantine/0123456789abcdef0123456789abcdef.orig", "x", 1) == 0 &&
	    tcp2_quarantine_list(st, &ids, &n) == 0 && n == 2,
	    "a copy without description is not listed");
	tcp2_store_list_free(ids, n);
	t_check(tcp2_quarantine_gc(st, &n) == 0 && n == 1 &&
	    tcp2_quarantine_mail(st, h1.id, TCP2_HELD_ORIG, &m, &ml) == 0,
	    "gc removes it and nothing else");
	tcp2_store_free(m, ml);
	snprintf(cmd, sizeof(cmd), "grep -rq MARKER %s", dir);
	t_check(system(cmd) != 0, "no plaintext marker anywhere on disk");
	t_check(tcp2_quarantine_remove(st, h1.id) == 0 &&
	    tcp2_quarantine_get(st, h1.id, &g) == TCP2_ENOENT &&
	    tcp2_quarantine_remove(st, h1.id) == TCP2_ENOENT,
	    "remove: gone for good");
	tcp2_store_close(st);
	free(big);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		t_check(0, "clean up");
	return t_done();
}
