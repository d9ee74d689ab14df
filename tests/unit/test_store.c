/*
 * test_store.c - unit tests of the encrypted object store (store.c):
 * round trips, persistence, file modes, passphrase handling, tampering,
 * truncation, renamed files, name rules, the lock, leftover temp files,
 * size limits and hostile store.meta files.  Every store lives under a
 * mkdtemp directory in /tmp that is removed at the end.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "crypto.h"
#include "error.h"
#include "harness.h"
#include "store.h"

#define PASS	"correct horse battery staple"
#define BIG	(20u << 20)

static char base[64];

static void
path(char *out, size_t len, const char *dir, const char *rel)
{
	snprintf(out, len, "%s/%s", dir, rel);
}

static int
rm_entry(const char *p, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return type == FTW_DP ? rmdir(p) : unlink(p);
}

static void
rm_rf(const char *p)
{
	nftw(p, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int
put_file(const char *p, const void *buf, size_t len)
{
	FILE *f;
	int rc;

	if ((f = fopen(p, "wb")) == NULL)
		return -1;
	rc = fwrite(buf, 1, len, f) == len ? 0 : -1;
	if (fclose(f) != 0)
		rc = -1;
	return rc;
}

static unsigned int
file_mode(const char *p)
{
	struct stat sb;

	if (stat(p, &sb) == -1)
		return 0xffff;
	return sb.st_mode & 07777;
}

/* Read object name and compare it with want. */
static int
read_is(struct tcp2_store *st, const char *name, const void *want,
    size_t wlen)
{
	uint8_t *buf;
	size_t len;
	int ok;

	if (tcp2_store_read(st, name, &buf, &len) != 0)
		return 0;
	ok = len == wlen && (wlen == 0 || memcmp(buf, want, wlen) == 0);
	tcp2_store_free(buf, len);
	return ok;
}

static int
read_rc(struct tcp2_store *st, const char *name)
{
	uint8_t *buf;
	size_t len;
	int rc;

	rc = tcp2_store_read(st, name, &buf, &len);
	if (rc == 0)
		tcp2_store_free(buf, len);
	else if (buf != NULL || len != 0)
		rc = 999;	/* an error must leave no output behind */
	return rc;
}

/* Count ".tmp-" entries in a directory. */
static int
tmp_count(const char *dir)
{
	char cmd[256];
	FILE *p;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "find '%s' -name '.tmp-*' | wc -l", dir);
	if ((p = popen(cmd, "r")) == NULL)
		return -1;
	if (fscanf(p, "%d", &n) != 1)
		n = -1;
	pclose(p);
	return n;
}

/* A member of DIR/store.meta as a string, for format checks. */
static int
meta_has(const char *dir, const char *key, const char *want)
{
	struct json_object *obj, *v;
	char p[256], *text;
	int ok = 0;

	path(p, sizeof(p), dir, "store.meta");
	if ((text = t_slurp(p, NULL)) == NULL)
		return 0;
	obj = json_tokener_parse(text);
	if (obj != NULL && json_object_object_get_ex(obj, key, &v))
		ok = strcmp(json_object_get_string(v), want) == 0;
	json_object_put(obj);
	free(text);
	return ok;
}

static void
test_seal(void)
{
	uint8_t key[32], key2[32], *img, *img2, *pt;
	size_t ilen, ilen2, plen;
	char longname[200];

	tcp2_crypto_random(key, sizeof(key));
	memcpy(key2, key, sizeof(key));
	key2[31] ^= 1;
	t_check(tcp2_store_seal(key, "peers/bob", "hi", 2, &img, &ilen) == 0 &&
	    ilen == 41 + 2 + 16, "seal: image is 41 + len + 16 bytes");
	t_check(memcmp(img, "TCP2STOR\x01", 9) == 0, "seal: magic and version");
	t_check(tcp2_store_unseal(key, "peers/bob", img, ilen, &pt, &plen) ==
	    0 && plen == 2 && memcmp(pt, "hi", 2) == 0, "unseal round trip");
	tcp2_store_free(pt, plen);
	t_check(tcp2_store_unseal(key, "peers/eve", img, ilen, &pt, &plen) ==
	    TCP2_EAUTH && pt == NULL, "unseal under another name: EAUTH");
	t_check(tcp2_store_unseal(key2, "peers/bob", img, ilen, &pt, &plen) ==
	    TCP2_EAUTH && pt == NULL, "unseal under another key: EAUTH");
	t_check(tcp2_store_seal(key, "peers/bob", "hi", 2, &img2, &ilen2) ==
	    0 && ilen2 == ilen && memcmp(img, img2, ilen) != 0,
	    "two seals of one content differ (fresh salt)");
	free(img2);
	t_check(tcp2_store_unseal(key, "peers/bob", img, 56, &pt, &plen) ==
	    TCP2_EFORMAT, "unseal of 56 bytes (< header + tag): EFORMAT");
	t_check(tcp2_store_unseal(key, "peers/bob", NULL, 0, &pt, &plen) ==
	    TCP2_EFORMAT, "unseal of nothing: EFORMAT");
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	t_check(tcp2_store_seal(key, longname, "x", 1, &img2, &ilen2) ==
	    TCP2_EINVAL && tcp2_store_unseal(key, longname, img, ilen, &pt,
	    &plen) == TCP2_EINVAL, "seal/unseal refuse a 199-char name");
	free(img);
	t_check(tcp2_store_seal(key, "e", NULL, 0, &img, &ilen) == 0 &&
	    tcp2_store_unseal(key, "e", img, ilen, &pt, &plen) == 0 &&
	    plen == 0 && pt != NULL, "empty object seals and unseals");
	tcp2_store_free(pt, plen);
	free(img);
}

static void
test_create(const char *dir)
{
	struct tcp2_store *st;
	char p[256];
	size_t len;
	char *key;

	t_check(tcp2_store_open(&st, dir, NULL, 0) == TCP2_ENOENT &&
	    st == NULL, "open of a missing store without CREATE: ENOENT");
	if (!t_check(tcp2_store_open(&st, dir, NULL, TCP2_STORE_CREATE) == 0,
	    "create a key-file store"))
		return;
	t_check(strcmp(tcp2_store_dir(st), dir) == 0, "tcp2_store_dir");
	t_check(file_mode(dir) == 0700, "store directory is 0700 (%o)",
	    file_mode(dir));
	path(p, sizeof(p), dir, "master.key");
	t_check(file_mode(p) == 0600, "master.key is 0600 (%o)",
	    file_mode(p));
	key = t_slurp(p, &len);
	t_check(key != NULL && len == 32, "master.key holds 32 bytes");
	free(key);
	t_check(meta_has(dir, "kdf", "keyfile") && meta_has(dir, "version",
	    "1"), "store.meta: version 1, kdf keyfile");
	tcp2_store_close(st);
	t_check(tcp2_store_open(&st, dir, NULL, TCP2_STORE_CREATE) == 0,
	    "CREATE on an existing store opens it");
	tcp2_store_close(st);
}

static void
test_roundtrip(const char *dir)
{
	struct tcp2_store *st;
	uint8_t *big, *buf;
	char **names, p[256];
	size_t i, n, len;

	if (!t_check(tcp2_store_open(&st, dir, NULL, 0) == 0, "open store"))
		return;
	t_check(tcp2_store_write(st, "hello", "world", 5) == 0 &&
	    read_is(st, "hello", "world", 5), "write/read round trip");
	t_check(tcp2_store_write(st, "hello", "wider world", 11) == 0 &&
	    read_is(st, "hello", "wider world", 11), "overwrite");
	t_check(tcp2_store_write(st, "empty", NULL, 0) == 0 &&
	    read_is(st, "empty", "", 0), "empty object");
	path(p, sizeof(p), dir, "hello");
	t_check(file_mode(p) == 0600, "object file is 0600 (%o)",
	    file_mode(p));

	big = malloc(BIG);
	if (big != NULL) {
		for (i = 0; i < BIG; i++)
			big[i] = (uint8_t)(i * 31 ^ i >> 9);
		t_check(tcp2_store_write(st, "big", big, BIG) == 0 &&
		    read_is(st, "big", big, BIG), "20 MB object round trip");
	}

	t_check(read_rc(st, "missing") == TCP2_ENOENT, "read missing: ENOENT");
	t_check(tcp2_store_remove(st, "hello") == 0 &&
	    read_rc(st, "hello") == TCP2_ENOENT, "remove, then ENOENT");
	t_check(tcp2_store_remove(st, "hello") == TCP2_ENOENT,
	    "remove missing: ENOENT");

	t_check(tcp2_store_write(st, "quarantine/b", "B", 1) == 0 &&
	    tcp2_store_write(st, "quarantine/a", "A", 1) == 0 &&
	    read_is(st, "quarantine/a", "A", 1) &&
	    read_is(st, "quarantine/b", "B", 1), "prefixed objects");
	path(p, sizeof(p), dir, "quarantine");
	t_check(file_mode(p) == 0700, "prefix directory is 0700 (%o)",
	    file_mode(p));
	t_check(read_rc(st, "quarantine/zz") == TCP2_ENOENT &&
	    read_rc(st, "nodir/x") == TCP2_ENOENT &&
	    tcp2_store_remove(st, "nodir/x") == TCP2_ENOENT,
	    "missing prefixed objects: ENOENT");
	t_check(read_rc(st, "quarantine") == TCP2_ENOENT &&
	    tcp2_store_remove(st, "quarantine") == TCP2_ENOENT,
	    "a prefix directory is not an object");

	t_check(tcp2_store_list(st, "quarantine", &names, &n) == 0 &&
	    n == 2 && strcmp(names[0], "a") == 0 &&
	    strcmp(names[1], "b") == 0, "list quarantine/: a, b");
	tcp2_store_list_free(names, n);
	t_check(tcp2_store_list(st, "nothere", &names, &n) == 0 && n == 0 &&
	    names == NULL, "list of an absent prefix: 0 names");
	t_check(tcp2_store_list(st, NULL, &names, &n) == 0 && n == 2 &&
	    strcmp(names[0], "big") == 0 && strcmp(names[1], "empty") == 0,
	    "list of the top level: big, empty (no key, meta, lock, check)");
	tcp2_store_list_free(names, n);
	t_check(tcp2_store_list(st, "../x", &names, &n) == TCP2_EINVAL,
	    "list of a bad prefix: EINVAL");
	t_check(tmp_count(dir) == 0, "no temp files left behind");
	tcp2_store_close(st);

	/* Persistence across close and reopen. */
	if (t_check(tcp2_store_open(&st, dir, NULL, 0) == 0, "reopen")) {
		t_check(big != NULL && read_is(st, "big", big, BIG) &&
		    read_is(st, "quarantine/b", "B", 1) &&
		    read_is(st, "empty", "", 0), "objects survive reopen");
		if (tcp2_store_read(st, "big", &buf, &len) == 0)
			tcp2_store_free(buf, len);
		tcp2_store_remove(st, "big");
		tcp2_store_close(st);
	}
	free(big);
}

static void
test_names(const char *dir)
{
	static const char *bad[] = {
		"", "A", "a b", "a/b/c", "/a", "a/", "/", "..", ".", ".x",
		"../x", "x/..", "x/.hidden", "master.key", "store.meta",
		"master.key/x", "store.meta/x", "caf\xc3\xa9", "a\\b", "a\nb",
		"x//y", ".lock", ".check", ".tmp-x-1",
	};
	struct tcp2_store *st;
	char n64[80], n65[80], pre[200];
	size_t i, good = 0;

	if (!t_check(tcp2_store_open(&st, dir, NULL, 0) == 0, "open store"))
		return;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (tcp2_store_write(st, bad[i], "x", 1) == TCP2_EINVAL &&
		    read_rc(st, bad[i]) == TCP2_EINVAL &&
		    tcp2_store_remove(st, bad[i]) == TCP2_EINVAL)
			good++;
		else
			t_check(0, "bad name \"%s\" accepted", bad[i]);
	}
	t_check(good == i, "%zu bad names refused with EINVAL", good);
	t_check(tcp2_store_write(st, NULL, "x", 1) == TCP2_EINVAL &&
	    read_rc(st, NULL) == TCP2_EINVAL, "NULL name: EINVAL");
	memset(n64, 'z', 64);
	n64[64] = '\0';
	memset(n65, 'z', 65);
	n65[65] = '\0';
	t_check(tcp2_store_write(st, n64, "x", 1) == 0 &&
	    read_is(st, n64, "x", 1), "64-char name accepted");
	t_check(tcp2_store_write(st, n65, "x", 1) == TCP2_EINVAL,
	    "65-char name refused");
	/* The prefix must differ from n64, which is a file now. */
	snprintf(pre, sizeof(pre), "y%s/%s", n64 + 1, n64);
	t_check(tcp2_store_write(st, pre, "y", 1) == 0 &&
	    read_is(st, pre, "y", 1), "64/64-char name accepted");
	t_check(tcp2_store_write(st, "x/master.key", "k", 1) == 0 &&
	    read_is(st, "x/master.key", "k", 1),
	    "reserved file names are fine inside a prefix");
	t_check(tcp2_store_write(st, "a-b_c.d/0123abcd", "z", 1) == 0,
	    "all allowed characters");
	tcp2_store_remove(st, n64);
	tcp2_store_remove(st, pre);
	tcp2_store_close(st);
}

/* Copy the file of object from over the file of object to. */
static int
copy_obj(const char *dir, const char *from, const char *to)
{
	char p[256], *buf;
	size_t len;
	int rc;

	path(p, sizeof(p), dir, from);
	if ((buf = t_slurp(p, &len)) == NULL)
		return -1;
	path(p, sizeof(p), dir, to);
	rc = put_file(p, buf, len);
	free(buf);
	return rc;
}

static void
test_tamper(const char *dir)
{
	struct tcp2_store *st;
	char p[256], *orig;
	uint8_t *mod;
	size_t len, i, nbits = 0, nauth = 0, ntrunc = 0, nok = 0;
	int rc;

	if (!t_check(tcp2_store_open(&st, dir, NULL, 0) == 0, "open store"))
		return;
	tcp2_store_write(st, "victim", "attack at dawn", 14);
	path(p, sizeof(p), dir, "victim");
	orig = t_slurp(p, &len);
	mod = malloc(len + 1);
	if (orig == NULL || mod == NULL) {
		t_check(0, "read victim's file");
		goto out;
	}
	for (i = 0; i < 8 * len; i++) {
		memcpy(mod, orig, len);
		mod[i / 8] ^= (uint8_t)(1u << (i % 8));
		put_file(p, mod, len);
		nbits++;
		if ((rc = read_rc(st, "victim")) == TCP2_EAUTH)
			nauth++;
		else
			t_check(0, "flip of bit %zu gave %d", i, rc);
	}
	t_check(nauth == nbits, "each of %zu flipped bits gives EAUTH",
	    nbits);
	for (i = 0; i < len; i++) {
		put_file(p, orig, i);
		rc = read_rc(st, "victim");
		if (rc == TCP2_EAUTH || rc == TCP2_EFORMAT)
			ntrunc++;
		else
			t_check(0, "truncation to %zu bytes gave %d", i, rc);
	}
	t_check(ntrunc == len, "each of %zu truncations: EAUTH or EFORMAT",
	    len);
	memcpy(mod, orig, len);
	mod[len] = 0;
	put_file(p, mod, len + 1);
	t_check(read_rc(st, "victim") == TCP2_EAUTH, "appended byte: EAUTH");
	put_file(p, orig, len);
	t_check(read_is(st, "victim", "attack at dawn", 14),
	    "restored file reads again");

	/* Objects moved onto other names. */
	tcp2_store_write(st, "x0", "zero", 4);
	tcp2_store_write(st, "x1", "one", 3);
	tcp2_store_write(st, "q/a", "qa", 2);
	tcp2_store_write(st, "q/b", "qb", 2);
	if (copy_obj(dir, "x0", "x1") == 0)
		nok += read_rc(st, "x1") == TCP2_EAUTH;
	if (copy_obj(dir, "q/a", "q/b") == 0)
		nok += read_rc(st, "q/b") == TCP2_EAUTH;
	if (copy_obj(dir, "x0", "q/x0") == 0)
		nok += read_rc(st, "q/x0") == TCP2_EAUTH;
	t_check(nok == 3 && read_is(st, "x0", "zero", 4) &&
	    read_is(st, "q/a", "qa", 2),
	    "a file copied over another name: EAUTH (%zu/3)", nok);

	/* A symlink planted as an object is not followed. */
	path(p, sizeof(p), dir, "link");
	t_check(symlink("x0", p) == 0 && read_rc(st, "link") == TCP2_EFORMAT,
	    "symlinked object: EFORMAT");
	unlink(p);
	tcp2_store_close(st);
	t_check(tcp2_store_open(&st, dir, NULL, 0) == 0,
	    "store with corrupt objects still opens (no EPASS)");
	tcp2_store_close(st);
out:
	free(orig);
	free(mod);
}

static void
test_toobig(const char *dir)
{
	struct tcp2_store *st;
	uint8_t key[32] = { 0 }, *img;
	size_t ilen;
	void *huge;

	huge = calloc(1, (size_t)TCP2_STORE_MAX_OBJECT + 1);
	if (huge == NULL || tcp2_store_open(&st, dir, NULL, 0) != 0) {
		t_check(0, "set up the size limit test");
		free(huge);
		return;
	}
	t_check(tcp2_store_write(st, "huge", huge,
	    (size_t)TCP2_STORE_MAX_OBJECT + 1) == TCP2_ETOOBIG &&
	    read_rc(st, "huge") == TCP2_ENOENT,
	    "write over the limit: ETOOBIG");
	t_check(tcp2_store_seal(key, "huge", huge,
	    (size_t)TCP2_STORE_MAX_OBJECT + 1, &img, &ilen) == TCP2_ETOOBIG,
	    "seal over the limit: ETOOBIG");
	tcp2_store_close(st);
	free(huge);
}

static void
test_passphrase(const char *dir, const char *keyfile_dir)
{
	struct tcp2_store *st;
	char p[256];

	setenv("TCP2_ARGON2_TEST_COST", "1", 1);
	if (!t_check(tcp2_store_open(&st, dir, PASS, TCP2_STORE_CREATE) == 0,
	    "create a passphrase store"))
		return;
	t_check(tcp2_store_write(st, "secret", "s3cr3t", 6) == 0,
	    "write to the passphrase store");
	tcp2_store_close(st);
	path(p, sizeof(p), dir, "master.key");
	t_check(access(p, F_OK) == -1, "no master.key in a passphrase store");
	t_check(meta_has(dir, "kdf", "argon2id") && meta_has(dir, "t", "1") &&
	    meta_has(dir, "m", "64") && meta_has(dir, "p", "1"),
	    "store.meta: argon2id, test cost t=1 m=64 p=1");
	if (t_check(tcp2_store_open(&st, dir, PASS, 0) == 0,
	    "reopen with the right passphrase")) {
		t_check(read_is(st, "secret", "s3cr3t", 6),
		    "object reads under the passphrase key");
		tcp2_store_close(st);
	}
	t_check(tcp2_store_open(&st, dir, "wrong", 0) == TCP2_EPASS &&
	    st == NULL, "wrong passphrase: EPASS");
	t_check(tcp2_store_open(&st, dir, "wrong", TCP2_STORE_CREATE) ==
	    TCP2_EPASS, "wrong passphrase with CREATE: EPASS (no re-create)");
	t_check(tcp2_store_open(&st, dir, NULL, 0) == TCP2_EPASS,
	    "no passphrase for a passphrase store: EPASS");
	t_check(tcp2_store_open(&st, keyfile_dir, PASS, 0) == TCP2_EPASS,
	    "passphrase for a key-file store: EPASS");
	if (t_check(tcp2_store_open(&st, dir, PASS, 0) == 0, "reopen")) {
		t_check(copy_obj(dir, ".check", "secret") == 0 &&
		    read_rc(st, "secret") == TCP2_EAUTH,
		    "a corrupt object is EAUTH, not EPASS");
		tcp2_store_close(st);
	}
	unsetenv("TCP2_ARGON2_TEST_COST");
}

/* Hostile store.meta files: each must be refused, none may crash. */
static void
test_meta(const char *dir)
{
	static const struct {
		const char *text;
		int want;
	} cases[] = {
		{ "", TCP2_EFORMAT },
		{ "{not json", TCP2_EFORMAT },
		{ "[]", TCP2_EFORMAT },
		{ "{\"version\":1}", TCP2_EFORMAT },
		{ "{\"version\":\"1\",\"kdf\":\"keyfile\"}", TCP2_EFORMAT },
		{ "{\"version\":2,\"kdf\":\"keyfile\"}", TCP2_EVERSION },
		{ "{\"version\":1,\"kdf\":\"rot13\"}", TCP2_EFORMAT },
		{ "{\"version\":1,\"kdf\":\"keyfile\"} x", TCP2_EFORMAT },
		{ "{\"version\":1,\"kdf\":\"keyfile\"}{}", TCP2_EFORMAT },
	};
	static const char *a2[] = {
		"{\"version\":1,\"kdf\":\"argon2id\",\"t\":1,\"m\":64,\"p\":1,"
		    "\"salt\":\"zz\"}",
		"{\"version\":1,\"kdf\":\"argon2id\",\"t\":1,\"m\":99999999999,"
		    "\"p\":1,\"salt\":\"00000000000000000000000000000000\"}",
		"{\"version\":1,\"kdf\":\"argon2id\",\"t\":0,\"m\":64,\"p\":1,"
		    "\"salt\":\"00000000000000000000000000000000\"}",
		"{\"version\":1,\"kdf\":\"argon2id\",\"t\":1,\"m\":64,\"p\":1}",
	};
	struct tcp2_store *st;
	char p[256], *saved;
	size_t i, len, good = 0;
	int rc;

	path(p, sizeof(p), dir, "store.meta");
	if ((saved = t_slurp(p, &len)) == NULL) {
		t_check(0, "read store.meta");
		return;
	}
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		put_file(p, cases[i].text, strlen(cases[i].text));
		rc = tcp2_store_open(&st, dir, NULL, 0);
		if (rc == cases[i].want)
			good++;
		else
			t_check(0, "meta '%s' gave %d", cases[i].text, rc);
		if (rc == 0)
			tcp2_store_close(st);
	}
	for (i = 0; i < sizeof(a2) / sizeof(a2[0]); i++) {
		put_file(p, a2[i], strlen(a2[i]));
		rc = tcp2_store_open(&st, dir, PASS, 0);
		if (rc == TCP2_EFORMAT)
			good++;
		else
			t_check(0, "meta '%s' gave %d", a2[i], rc);
		if (rc == 0)
			tcp2_store_close(st);
	}
	t_check(good == i + sizeof(cases) / sizeof(cases[0]),
	    "%zu hostile store.meta files refused", good);
	put_file(p, saved, len);
	free(saved);
	t_check(tcp2_store_open(&st, dir, NULL, 0) == 0,
	    "restored store.meta opens again");
	tcp2_store_close(st);
}

/* A child that opens the store, says so, and holds it for hold_ms. */
static pid_t
holder(const char *dir, int hold_ms, int *readyfd, int *releasefd)
{
	struct tcp2_store *st;
	int rp[2], lp[2];
	char c = 0;
	pid_t pid;

	if (pipe(rp) == -1 || pipe(lp) == -1)
		return -1;
	fflush(stdout);
	if ((pid = fork()) == 0) {
		close(rp[0]);
		close(lp[1]);
		if (tcp2_store_open(&st, dir, NULL, 0) != 0)
			_exit(1);
		if (write(rp[1], "r", 1) != 1)
			_exit(1);
		if (hold_ms > 0)
			usleep((useconds_t)hold_ms * 1000);
		else if (read(lp[0], &c, 1) < 0)
			_exit(1);
		tcp2_store_close(st);
		_exit(0);
	}
	close(rp[1]);
	close(lp[0]);
	*readyfd = rp[0];
	*releasefd = lp[1];
	return pid;
}

static int
reap(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		return 0;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void
test_lock(const char *dir)
{
	struct tcp2_store *st, *st2;
	int readyfd, releasefd;
	double t0;
	char c;
	pid_t pid;

	pid = holder(dir, 0, &readyfd, &releasefd);
	if (!t_check(pid > 0 && read(readyfd, &c, 1) == 1,
	    "child opened the store"))
		return;
	t_check(tcp2_store_open(&st, dir, NULL, TCP2_STORE_NOWAIT) ==
	    TCP2_ELOCKED && st == NULL, "NOWAIT while a child holds it: "
	    "ELOCKED");
	close(releasefd);
	close(readyfd);
	t_check(reap(pid), "child closed the store");
	if (t_check(tcp2_store_open(&st, dir, NULL, TCP2_STORE_NOWAIT) == 0,
	    "NOWAIT after the child exited: opens")) {
		t_check(tcp2_store_open(&st2, dir, NULL, TCP2_STORE_NOWAIT) ==
		    TCP2_ELOCKED, "second open in one process: ELOCKED");
		tcp2_store_close(st);
	}

	/* Without NOWAIT, open waits until the holder is gone. */
	pid = holder(dir, 300, &readyfd, &releasefd);
	if (!t_check(pid > 0 && read(readyfd, &c, 1) == 1,
	    "child opened the store for 300 ms"))
		return;
	t0 = now_ms();
	if (t_check(tcp2_store_open(&st, dir, NULL, 0) == 0,
	    "blocking open succeeds")) {
		t_check(now_ms() - t0 > 100, "... after waiting (%.0f ms)",
		    now_ms() - t0);
		tcp2_store_close(st);
	}
	close(releasefd);
	close(readyfd);
	t_check(reap(pid), "child exited");
}

static void
test_leftovers(const char *dir)
{
	struct tcp2_store *st;
	char p[256];
	int n = 0;

	path(p, sizeof(p), dir, ".tmp-x0-12345");
	n += put_file(p, "junk", 4) == 0;
	path(p, sizeof(p), dir, ".tmp-master.key-7");
	n += put_file(p, "junk", 4) == 0;
	path(p, sizeof(p), dir, "q/.tmp-a-999");
	n += put_file(p, "junk", 4) == 0;
	t_check(n == 3 && tmp_count(dir) == 3, "three leftover temp files");
	if (!t_check(tcp2_store_open(&st, dir, NULL, 0) == 0, "open store"))
		return;
	t_check(tmp_count(dir) == 0, "open deleted the leftovers");
	t_check(read_is(st, "x0", "zero", 4) && read_is(st, "q/a", "qa", 2),
	    "objects untouched");
	tcp2_store_close(st);
}

int
main(void)
{
	char ks[128], ps[128];

	if (tcp2_crypto_init() != 0) {
		t_check(0, "crypto init");
		return t_done();
	}
	snprintf(base, sizeof(base), "/tmp/tcp2-store-XXXXXX");
	if (!t_check(mkdtemp(base) != NULL, "mkdtemp"))
		return t_done();
	path(ks, sizeof(ks), base, "ks");
	path(ps, sizeof(ps), base, "ps");

	test_seal();
	test_create(ks);
	test_roundtrip(ks);
	test_names(ks);
	test_tamper(ks);
	test_toobig(ks);
	test_passphrase(ps, ks);
	test_meta(ks);
	test_lock(ks);
	test_leftovers(ks);

	rm_rf(base);
	return t_done();
}
