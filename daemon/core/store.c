/*
 * store.c - the encrypted, crash-safe object store (interface in store.h,
 * layout and reasoning in docs/STORE.md).
 *
 * Each object is one file whose image is
 *	"TCP2STOR" | version 0x01 | 32-byte random salt | ciphertext | tag
 * sealed with ChaCha20-Poly1305 under HKDF-SHA256(master, salt,
 * "TCP2 store v1 " + name) with an all-zero nonce: the salt makes the key
 * unique per write, so the nonce never repeats under one key.  The AAD is
 * the 41 header bytes followed by the object name, so an object's file
 * moved onto another name does not authenticate.
 *
 * Files change only by "write temp file, fsync, rename, fsync directory";
 * temp files are named ".tmp-<file>-<pid>", and no object name may start
 * with '.', so open can delete every leftover without guessing.
 *
 * Test-only knob: TCP2_ARGON2_TEST_COST=1 in the environment makes a
 * passphrase store *created* by this process use Argon2id t=1, m=64 KiB
 * instead of t=3, m=64 MiB, so that sanitizer builds of the tests stay
 * fast.  The cost is recorded in store.meta, so opening is unaffected; it
 * is read with secure_getenv so set-id programs ignore it.  Never set it
 * for real stores: it makes the passphrase cheap to guess.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "crypto.h"
#include "error.h"
#include "fdio.h"
#include "store.h"

#define OBJ_MAGIC	"TCP2STOR"
#define OBJ_MAGIC_LEN	8
#define OBJ_VERSION	1
#define OBJ_SALT_LEN	32
#define OBJ_HDR_LEN	(OBJ_MAGIC_LEN + 1 + OBJ_SALT_LEN)
#define OBJ_IMG_MAX	((size_t)OBJ_HDR_LEN + TCP2_STORE_MAX_OBJECT + \
			    TCP2_AEAD_TAG_LEN)
#define OBJ_INFO	"TCP2 store v1 "
#define OBJ_INFO_LEN	(sizeof(OBJ_INFO) - 1)

#define KEY_LEN		32
#define COMP_MAX	64			/* one name component */
#define NAME_LEN_MAX	(2 * COMP_MAX + 1)	/* "prefix/name" */
#define TMP_PREFIX	".tmp-"

#define KEY_FILE	"master.key"
#define META_FILE	"store.meta"
#define LOCK_FILE	".lock"
#define CHECK_FILE	".check"
#define CHECK_TEXT	"TCP2 store check v1"
#define META_VERSION	1
#define META_MAX	4096

/* Argon2id costs: the default, the test-only one, and what open accepts. */
#define A2_T		3
#define A2_M		(64u * 1024)	/* KiB */
#define A2_P		1
#define A2_TEST_T	1
#define A2_TEST_M	64
#define A2_T_MAX	64
#define A2_M_MAX	(1u << 21)	/* 2 GiB, the most a store.meta may ask */
#define A2_P_MAX	16
#define A2_SALT_LEN	16

enum kdf {
	KDF_KEYFILE,
	KDF_ARGON2ID,
};

struct meta {
	enum kdf			 kdf;
	struct tcp2_argon2_params	 a2;
	uint8_t				 salt[A2_SALT_LEN];
};

struct tcp2_store {
	char	*dir;
	int	 dfd;		/* DIR, for every *at() call */
	int	 lockfd;	/* DIR/.lock, flock()ed while open */
	uint8_t	 key[KEY_LEN];
};

static const uint8_t zero_nonce[TCP2_AEAD_NONCE_LEN];

/*
 * Names.
 */

/*
 * One component: 1..64 of [a-z0-9._-].  A leading '.' is refused as well:
 * it keeps ".", "..", ".lock", ".check" and ".tmp-*" out of the object
 * namespace, so no name can escape DIR or collide with a temp file.
 */
static int
comp_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > COMP_MAX || s[0] == '.')
		return 0;
	for (i = 0; i < n; i++) {
		if ((s[i] < 'a' || s[i] > 'z') && (s[i] < '0' || s[i] > '9') &&
		    s[i] != '.' && s[i] != '_' && s[i] != '-')
			return 0;
	}
	return 1;
}

/* Files of DIR itself that a top-level component must not shadow. */
static int
comp_reserved(const char *s, size_t n)
{
	return (n == strlen(KEY_FILE) && memcmp(s, KEY_FILE, n) == 0) ||
	    (n == strlen(META_FILE) && memcmp(s, META_FILE, n) == 0);
}

/* Length of a name for seal/unseal: 1..NAME_LEN_MAX, else 0. */
static size_t
name_len(const char *name)
{
	size_t n;

	if (name == NULL)
		return 0;
	n = strnlen(name, NAME_LEN_MAX + 1);
	return n > NAME_LEN_MAX ? 0 : n;
}

/* Check name and split it into prefix ("" when none) and file name. */
static int
name_split(const char *name, char prefix[COMP_MAX + 1], const char **base)
{
	const char *slash;
	size_t n, plen;

	n = name_len(name);
	if (n == 0)
		return TCP2_EINVAL;
	slash = memchr(name, '/', n);
	if (slash == NULL) {
		if (!comp_ok(name, n) || comp_reserved(name, n))
			return TCP2_EINVAL;
		prefix[0] = '\0';
		*base = name;
		return 0;
	}
	plen = (size_t)(slash - name);
	if (!comp_ok(name, plen) || comp_reserved(name, plen) ||
	    !comp_ok(slash + 1, n - plen - 1))
		return TCP2_EINVAL;
	memcpy(prefix, name, plen);
	prefix[plen] = '\0';
	*base = slash + 1;
	return 0;
}

/*
 * Sealing, pure functions.
 */

/* The per-object AEAD context: key HKDF(master, salt, info + name). */
static int
object_ctx(struct tcp2_aead **ctx, const uint8_t key[KEY_LEN],
    const uint8_t *hdr, const char *name, size_t nlen)
{
	uint8_t info[OBJ_INFO_LEN + NAME_LEN_MAX], sub[TCP2_AEAD_KEY_LEN];
	int rc;

	memcpy(info, OBJ_INFO, OBJ_INFO_LEN);
	memcpy(info + OBJ_INFO_LEN, name, nlen);
	rc = tcp2_hkdf_sha256(sub, sizeof(sub), key, KEY_LEN,
	    hdr + OBJ_MAGIC_LEN + 1, OBJ_SALT_LEN, info, OBJ_INFO_LEN + nlen);
	if (rc == 0)
		rc = tcp2_aead_open_ctx(ctx, sub);
	tcp2_crypto_wipe(sub, sizeof(sub));
	return rc;
}

/* AAD = header || name; the header has a fixed length, so no ambiguity. */
static size_t
object_aad(uint8_t aad[OBJ_HDR_LEN + NAME_LEN_MAX], const uint8_t *hdr,
    const char *name, size_t nlen)
{
	memcpy(aad, hdr, OBJ_HDR_LEN);
	memcpy(aad + OBJ_HDR_LEN, name, nlen);
	return OBJ_HDR_LEN + nlen;
}

int
tcp2_store_seal(const uint8_t key[32], const char *name, const void *buf,
    size_t len, uint8_t **out, size_t *outlen)
{
	uint8_t aad[OBJ_HDR_LEN + NAME_LEN_MAX], *img;
	struct tcp2_aead *ctx;
	size_t nlen, aadlen;
	int rc;

	if (out == NULL || outlen == NULL)
		return TCP2_EINVAL;
	*out = NULL;
	*outlen = 0;
	nlen = name_len(name);
	if (key == NULL || nlen == 0 || (buf == NULL && len > 0))
		return TCP2_EINVAL;
	if (len > TCP2_STORE_MAX_OBJECT)
		return TCP2_ETOOBIG;
	img = malloc(OBJ_HDR_LEN + len + TCP2_AEAD_TAG_LEN);
	if (img == NULL)
		return TCP2_ENOMEM;
	memcpy(img, OBJ_MAGIC, OBJ_MAGIC_LEN);
	img[OBJ_MAGIC_LEN] = OBJ_VERSION;
	tcp2_crypto_random(img + OBJ_MAGIC_LEN + 1, OBJ_SALT_LEN);
	rc = object_ctx(&ctx, key, img, name, nlen);
	if (rc != 0) {
		free(img);
		return rc;
	}
	aadlen = object_aad(aad, img, name, nlen);
	rc = tcp2_aead_seal(ctx, img + OBJ_HDR_LEN, zero_nonce, aad, aadlen,
	    buf, len);
	tcp2_aead_close(ctx);
	if (rc != 0) {
		/* A failed encryption may have left plaintext behind. */
		tcp2_crypto_wipe(img, OBJ_HDR_LEN + len + TCP2_AEAD_TAG_LEN);
		free(img);
		return rc;
	}
	*out = img;
	*outlen = OBJ_HDR_LEN + len + TCP2_AEAD_TAG_LEN;
	return 0;
}

int
tcp2_store_unseal(const uint8_t key[32], const char *name,
    const uint8_t *img, size_t len, uint8_t **out, size_t *outlen)
{
	uint8_t aad[OBJ_HDR_LEN + NAME_LEN_MAX], *pt;
	struct tcp2_aead *ctx;
	size_t nlen, aadlen, ptlen;
	int rc;

	if (out == NULL || outlen == NULL)
		return TCP2_EINVAL;
	*out = NULL;
	*outlen = 0;
	nlen = name_len(name);
	if (key == NULL || nlen == 0 || (img == NULL && len > 0))
		return TCP2_EINVAL;
	/* Too short or too long to be any object image at all. */
	if (len < OBJ_HDR_LEN + TCP2_AEAD_TAG_LEN || len > OBJ_IMG_MAX)
		return TCP2_EFORMAT;
	/*
	 * Magic and version are authenticated like the rest of the header,
	 * and a v1 reader cannot tell another version from damage, so both
	 * are reported as TCP2_EAUTH: one flipped bit anywhere in a file
	 * always gives the same answer.
	 */
	if (memcmp(img, OBJ_MAGIC, OBJ_MAGIC_LEN) != 0 ||
	    img[OBJ_MAGIC_LEN] != OBJ_VERSION)
		return TCP2_EAUTH;
	ptlen = len - OBJ_HDR_LEN - TCP2_AEAD_TAG_LEN;
	pt = malloc(ptlen > 0 ? ptlen : 1);
	if (pt == NULL)
		return TCP2_ENOMEM;
	rc = object_ctx(&ctx, key, img, name, nlen);
	if (rc == 0) {
		aadlen = object_aad(aad, img, name, nlen);
		rc = tcp2_aead_open(ctx, pt, zero_nonce, aad, aadlen,
		    img + OBJ_HDR_LEN, len - OBJ_HDR_LEN);
		tcp2_aead_close(ctx);
	}
	if (rc != 0) {
		tcp2_crypto_wipe(pt, ptlen);
		free(pt);
		return rc;
	}
	*out = pt;
	*outlen = ptlen;
	return 0;
}

/*
 * Files.
 */

/*
 * Replace dfd/fname with buf: temp file, fsync, rename, fsync of the
 * directory.  Until the rename the old file is untouched; the rename is
 * atomic; the fsync of the file before it ensures the name never points
 * at data that is not on disk, the one after it makes the new name
 * durable before we report success.
 */
static int
write_atomic(int dfd, const char *fname, const void *buf, size_t len)
{
	char tmp[sizeof(TMP_PREFIX) + COMP_MAX + 32];
	int fd, saved;

	snprintf(tmp, sizeof(tmp), TMP_PREFIX "%s-%ld", fname,
	    (long)getpid());
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0600);
	if (fd == -1)
		return TCP2_EIO;
	/* Exactly 0600 whatever the umask or a stale file said. */
	if (fchmod(fd, 0600) == -1 || tcp2_write_all(fd, buf, len) != 0 ||
	    fsync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (renameat(dfd, tmp, dfd, fname) == -1)
		goto fail;
	/*
	 * Past the rename a failure cannot be undone: after a crash the
	 * object holds its old or its new content, each whole.
	 */
	if (fsync(dfd) == -1)
		return TCP2_EIO;
	return 0;
fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	unlinkat(dfd, tmp, 0);
	errno = saved;
	return TCP2_EIO;
}

/*
 * Read dfd/fname, at most max bytes, into a malloc'd buffer.  The file is
 * hostile: symlinks, FIFOs and oversized files are refused before any
 * allocation; a file that shrinks under us yields the bytes we got.
 */
static int
read_file(int dfd, const char *fname, size_t max, uint8_t **bufp,
    size_t *lenp)
{
	struct stat sb;
	uint8_t *buf;
	size_t len, got = 0;
	ssize_t r;
	int fd, rc, saved;

	fd = openat(dfd, fname, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC);
	if (fd == -1) {
		if (errno == ENOENT)
			return TCP2_ENOENT;
		return errno == ELOOP ? TCP2_EFORMAT : TCP2_EIO;
	}
	rc = TCP2_EIO;
	if (fstat(fd, &sb) == -1)
		goto out;
	rc = S_ISDIR(sb.st_mode) ? TCP2_ENOENT : TCP2_EFORMAT;
	if (!S_ISREG(sb.st_mode) || sb.st_size < 0 ||
	    (unsigned long long)sb.st_size > max)
		goto out;
	len = (size_t)sb.st_size;
	rc = TCP2_ENOMEM;
	if ((buf = malloc(len > 0 ? len : 1)) == NULL)
		goto out;
	while (got < len) {
		r = read(fd, buf + got, len - got);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			saved = errno;
			tcp2_crypto_wipe(buf, got);
			free(buf);
			errno = saved;
			rc = TCP2_EIO;
			goto out;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	*bufp = buf;
	*lenp = got;
	rc = 0;
out:
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

static int
fsync_path(const char *path)
{
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1)
		return TCP2_EIO;
	if (fsync(fd) == -1)
		rc = TCP2_EIO;
	close(fd);
	return rc;
}

/* DT_REG, DT_DIR or something else, without following symlinks. */
static int
entry_type(int dfd, const struct dirent *e)
{
	struct stat sb;

	if (e->d_type != DT_UNKNOWN)
		return e->d_type;
	if (fstatat(dfd, e->d_name, &sb, AT_SYMLINK_NOFOLLOW) == -1)
		return DT_UNKNOWN;
	if (S_ISREG(sb.st_mode))
		return DT_REG;
	return S_ISDIR(sb.st_mode) ? DT_DIR : DT_UNKNOWN;
}

/* An independent DIR stream on dfd (dfd itself stays open and usable). */
static DIR *
dir_stream(int dfd)
{
	DIR *d;
	int fd;

	fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1)
		return NULL;
	if ((d = fdopendir(fd)) == NULL)
		close(fd);
	return d;
}

/*
 * Object directories.
 */

/* The directory of an object: DIR itself, or DIR/prefix. */
static int
obj_dir(struct tcp2_store *st, const char *prefix, int create, int *fdp)
{
	int fd;

	if (prefix[0] == '\0') {
		*fdp = st->dfd;
		return 0;
	}
	if (create) {
		if (mkdirat(st->dfd, prefix, 0700) == 0) {
			/* Make the new entry durable before anything in it. */
			if (fsync(st->dfd) == -1) {
				unlinkat(st->dfd, prefix, AT_REMOVEDIR);
				return TCP2_EIO;
			}
		} else if (errno != EEXIST)
			return TCP2_EIO;
	}
	fd = openat(st->dfd, prefix, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd == -1) {
		if (!create && (errno == ENOENT || errno == ENOTDIR))
			return TCP2_ENOENT;
		return TCP2_EIO;
	}
	*fdp = fd;
	return 0;
}

static void
obj_dir_release(struct tcp2_store *st, int fd)
{
	int saved = errno;

	if (fd != st->dfd)
		close(fd);
	errno = saved;
}

/* Delete the ".tmp-*" files an interrupted write left in one directory. */
static int
sweep_dir(int dfd)
{
	struct dirent *e;
	DIR *d;
	int removed = 0, rc = 0;

	if ((d = dir_stream(dfd)) == NULL)
		return TCP2_EIO;
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, TMP_PREFIX, strlen(TMP_PREFIX)) != 0 ||
		    entry_type(dfd, e) != DT_REG)
			continue;
		if (unlinkat(dfd, e->d_name, 0) == 0)
			removed = 1;
		else if (errno != ENOENT)
			rc = TCP2_EIO;
	}
	closedir(d);
	/* Not needed for safety (a resurrected leftover is swept again). */
	if (rc == 0 && removed && fsync(dfd) == -1)
		rc = TCP2_EIO;
	return rc;
}

/* Sweep DIR and every prefix directory in it. */
static int
sweep(struct tcp2_store *st)
{
	struct dirent *e;
	DIR *d;
	int fd, rc;

	if ((rc = sweep_dir(st->dfd)) != 0)
		return rc;
	if ((d = dir_stream(st->dfd)) == NULL)
		return TCP2_EIO;
	while (rc == 0 && (e = readdir(d)) != NULL) {
		if (!comp_ok(e->d_name, strlen(e->d_name)) ||
		    entry_type(st->dfd, e) != DT_DIR)
			continue;
		fd = openat(st->dfd, e->d_name, O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC);
		if (fd == -1) {
			rc = TCP2_EIO;
			break;
		}
		rc = sweep_dir(fd);
		close(fd);
	}
	closedir(d);
	return rc;
}

/*
 * store.meta: clear JSON, parsed strictly and bounded.
 */

static int
hex_decode(uint8_t *out, size_t outlen, const char *hex, size_t hexlen)
{
	size_t i;
	int hi, lo;

	if (hexlen != 2 * outlen)
		return TCP2_EFORMAT;
	for (i = 0; i < outlen; i++) {
		hi = hex[2 * i];
		lo = hex[2 * i + 1];
		hi = hi >= '0' && hi <= '9' ? hi - '0' :
		    hi >= 'a' && hi <= 'f' ? hi - 'a' + 10 : -1;
		lo = lo >= '0' && lo <= '9' ? lo - '0' :
		    lo >= 'a' && lo <= 'f' ? lo - 'a' + 10 : -1;
		if (hi < 0 || lo < 0)
			return TCP2_EFORMAT;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* An integer member within [min, max]. */
static int
meta_uint(struct json_object *obj, const char *key, int64_t min,
    int64_t max, unsigned int *out)
{
	struct json_object *v;
	int64_t x;

	if (!json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_int))
		return TCP2_EFORMAT;
	x = json_object_get_int64(v);
	if (x < min || x > max)
		return TCP2_EFORMAT;
	*out = (unsigned int)x;
	return 0;
}

static int
meta_argon2(struct json_object *obj, struct meta *m)
{
	struct json_object *v;
	int rc;

	if ((rc = meta_uint(obj, "t", 1, A2_T_MAX, &m->a2.t_cost)) != 0 ||
	    (rc = meta_uint(obj, "p", 1, A2_P_MAX, &m->a2.lanes)) != 0 ||
	    (rc = meta_uint(obj, "m", 8 * (int64_t)m->a2.lanes, A2_M_MAX,
	    &m->a2.m_cost)) != 0)
		return rc;
	if (!json_object_object_get_ex(obj, "salt", &v) ||
	    !json_object_is_type(v, json_type_string))
		return TCP2_EFORMAT;
	return hex_decode(m->salt, sizeof(m->salt), json_object_get_string(v),
	    (size_t)json_object_get_string_len(v));
}

static int
meta_fields(struct json_object *obj, struct meta *m)
{
	struct json_object *v;
	const char *kdf;
	unsigned int version;

	if (!json_object_is_type(obj, json_type_object))
		return TCP2_EFORMAT;
	if (meta_uint(obj, "version", 0, INT32_MAX, &version) != 0)
		return TCP2_EFORMAT;
	if (version != META_VERSION)
		return TCP2_EVERSION;
	if (!json_object_object_get_ex(obj, "kdf", &v) ||
	    !json_object_is_type(v, json_type_string))
		return TCP2_EFORMAT;
	kdf = json_object_get_string(v);
	if (strcmp(kdf, "keyfile") == 0) {
		m->kdf = KDF_KEYFILE;
		return 0;
	}
	if (strcmp(kdf, "argon2id") == 0) {
		m->kdf = KDF_ARGON2ID;
		return meta_argon2(obj, m);
	}
	return TCP2_EFORMAT;
}

static int
meta_parse(const uint8_t *buf, size_t len, struct meta *m)
{
	struct json_tokener *tok;
	struct json_object *obj;
	size_t end;
	int rc = TCP2_EFORMAT;

	if (len > META_MAX)
		return TCP2_EFORMAT;
	if ((tok = json_tokener_new()) == NULL)
		return TCP2_ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	obj = json_tokener_parse_ex(tok, (const char *)buf, (int)len);
	if (obj != NULL &&
	    json_tokener_get_error(tok) == json_tokener_success) {
		/* Only white space may follow the object. */
		end = json_tokener_get_parse_end(tok);
		while (end < len && (buf[end] == ' ' || buf[end] == '\n' ||
		    buf[end] == '\t' || buf[end] == '\r'))
			end++;
		if (end == len)
			rc = meta_fields(obj, m);
	}
	json_object_put(obj);
	json_tokener_free(tok);
	return rc;
}

static int
meta_read(int dfd, struct meta *m)
{
	uint8_t *buf;
	size_t len;
	int rc;

	if ((rc = read_file(dfd, META_FILE, META_MAX, &buf, &len)) != 0)
		return rc;
	rc = meta_parse(buf, len, m);
	free(buf);
	return rc;
}

/* Add one member; json_object_object_add takes the value's reference. */
static int
meta_add(struct json_object *obj, const char *key, struct json_object *v)
{
	if (v == NULL || json_object_object_add(obj, key, v) != 0) {
		json_object_put(v);
		return TCP2_ENOMEM;
	}
	return 0;
}

static int
meta_write(int dfd, const struct meta *m)
{
	char hex[2 * A2_SALT_LEN + 1];
	struct json_object *obj;
	const char *s;
	char *text;
	size_t i, n;
	int rc;

	if ((obj = json_object_new_object()) == NULL)
		return TCP2_ENOMEM;
	rc = meta_add(obj, "version", json_object_new_int(META_VERSION));
	if (rc == 0)
		rc = meta_add(obj, "kdf", json_object_new_string(
		    m->kdf == KDF_ARGON2ID ? "argon2id" : "keyfile"));
	if (rc == 0 && m->kdf == KDF_ARGON2ID) {
		for (i = 0; i < A2_SALT_LEN; i++)
			snprintf(hex + 2 * i, 3, "%02x", m->salt[i]);
		if ((rc = meta_add(obj, "t",
		    json_object_new_int64(m->a2.t_cost))) == 0 &&
		    (rc = meta_add(obj, "m",
		    json_object_new_int64(m->a2.m_cost))) == 0 &&
		    (rc = meta_add(obj, "p",
		    json_object_new_int64(m->a2.lanes))) == 0)
			rc = meta_add(obj, "salt", json_object_new_string(hex));
	}
	if (rc == 0) {
		rc = TCP2_ENOMEM;
		s = json_object_to_json_string_length(obj,
		    JSON_C_TO_STRING_SPACED, &n);
		if (s != NULL && (text = malloc(n + 1)) != NULL) {
			memcpy(text, s, n);
			text[n] = '\n';
			rc = write_atomic(dfd, META_FILE, text, n + 1);
			free(text);
		}
	}
	json_object_put(obj);
	return rc;
}

/*
 * The master key.
 */

static int
key_read(int dfd, uint8_t key[KEY_LEN])
{
	uint8_t *buf;
	size_t len;
	int rc;

	if ((rc = read_file(dfd, KEY_FILE, KEY_LEN, &buf, &len)) != 0)
		return rc;
	rc = TCP2_EFORMAT;
	if (len == KEY_LEN) {
		memcpy(key, buf, KEY_LEN);
		rc = 0;
	}
	tcp2_crypto_wipe(buf, len);
	free(buf);
	return rc;
}

static int
key_derive(uint8_t key[KEY_LEN], const char *pass, const struct meta *m)
{
	return tcp2_argon2id(key, KEY_LEN, pass, strlen(pass), m->salt,
	    sizeof(m->salt), NULL, 0, NULL, 0, &m->a2);
}

static void
argon2_cost(struct tcp2_argon2_params *a2)
{
	const char *e;

	e = secure_getenv("TCP2_ARGON2_TEST_COST");
	a2->lanes = A2_P;
	if (e != NULL && strcmp(e, "1") == 0) {
		a2->t_cost = A2_TEST_T;
		a2->m_cost = A2_TEST_M;
	} else {
		a2->t_cost = A2_T;
		a2->m_cost = A2_M;
	}
}

/* Unseal the check object: the one place a wrong key shows as EPASS. */
static int
check_verify(struct tcp2_store *st)
{
	uint8_t *img, *pt;
	size_t ilen, plen;
	int rc;

	rc = read_file(st->dfd, CHECK_FILE, OBJ_IMG_MAX, &img, &ilen);
	if (rc != 0)
		return rc == TCP2_ENOENT ? TCP2_EFORMAT : rc;
	rc = tcp2_store_unseal(st->key, CHECK_FILE, img, ilen, &pt, &plen);
	free(img);
	if (rc != 0)
		return rc == TCP2_EAUTH ? TCP2_EPASS : rc;
	if (plen != strlen(CHECK_TEXT) || memcmp(pt, CHECK_TEXT, plen) != 0)
		rc = TCP2_EFORMAT;
	tcp2_store_free(pt, plen);
	return rc;
}

static int
check_write(struct tcp2_store *st)
{
	uint8_t *img;
	size_t ilen;
	int rc;

	rc = tcp2_store_seal(st->key, CHECK_FILE, CHECK_TEXT,
	    strlen(CHECK_TEXT), &img, &ilen);
	if (rc != 0)
		return rc;
	rc = write_atomic(st->dfd, CHECK_FILE, img, ilen);
	free(img);
	return rc;
}

/*
 * A new store: key, then check object, then store.meta, whose presence
 * marks a complete store.  A create that crashed before store.meta is
 * simply done again, reusing a key file already written, so that a lost
 * store.meta can never make us overwrite a key that objects depend on.
 */
static int
store_create(struct tcp2_store *st, const char *pass)
{
	struct meta m;
	int rc;

	memset(&m, 0, sizeof(m));
	if (pass != NULL) {
		m.kdf = KDF_ARGON2ID;
		argon2_cost(&m.a2);
		tcp2_crypto_random(m.salt, sizeof(m.salt));
		rc = key_derive(st->key, pass, &m);
	} else {
		m.kdf = KDF_KEYFILE;
		rc = key_read(st->dfd, st->key);
		if (rc == TCP2_ENOENT) {
			tcp2_crypto_random(st->key, KEY_LEN);
			rc = write_atomic(st->dfd, KEY_FILE, st->key, KEY_LEN);
		}
	}
	if (rc == 0)
		rc = check_write(st);
	if (rc == 0)
		rc = meta_write(st->dfd, &m);
	return rc;
}

static int
store_load(struct tcp2_store *st, const char *pass, unsigned int flags)
{
	struct meta m;
	int rc;

	memset(&m, 0, sizeof(m));
	rc = meta_read(st->dfd, &m);
	if (rc == TCP2_ENOENT)
		return flags & TCP2_STORE_CREATE ? store_create(st, pass) :
		    TCP2_ENOENT;
	if (rc != 0)
		return rc;
	/* A passphrase for a key-file store, or none for an Argon2 one. */
	if ((m.kdf == KDF_ARGON2ID) != (pass != NULL))
		return TCP2_EPASS;
	if (pass != NULL)
		rc = key_derive(st->key, pass, &m);
	else if ((rc = key_read(st->dfd, st->key)) == TCP2_ENOENT)
		rc = TCP2_EFORMAT;
	if (rc != 0)
		return rc;
	return check_verify(st);
}

/* Open DIR, creating it (0700, durably) when asked. */
static int
store_dir(struct tcp2_store *st, unsigned int flags)
{
	char *copy;
	int rc;

	st->dfd = open(st->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (st->dfd != -1)
		return 0;
	if (errno != ENOENT)
		return TCP2_EIO;
	if (!(flags & TCP2_STORE_CREATE))
		return TCP2_ENOENT;
	if (mkdir(st->dir, 0700) == -1 && errno != EEXIST)
		return TCP2_EIO;
	if ((copy = strdup(st->dir)) == NULL)
		return TCP2_ENOMEM;
	rc = fsync_path(dirname(copy));
	free(copy);
	if (rc != 0)
		return rc;
	st->dfd = open(st->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return st->dfd == -1 ? TCP2_EIO : 0;
}

static int
store_lock(struct tcp2_store *st, unsigned int flags)
{
	int op;

	st->lockfd = openat(st->dfd, LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW, 0600);
	if (st->lockfd == -1)
		return TCP2_EIO;
	op = LOCK_EX | (flags & TCP2_STORE_NOWAIT ? LOCK_NB : 0);
	while (flock(st->lockfd, op) == -1) {
		if (errno == EINTR)
			continue;
		return errno == EWOULDBLOCK ? TCP2_ELOCKED : TCP2_EIO;
	}
	return 0;
}

/*
 * The interface.
 */

int
tcp2_store_open(struct tcp2_store **stp, const char *dir,
    const char *passphrase, unsigned int flags)
{
	struct tcp2_store *st;
	int rc;

	if (stp == NULL)
		return TCP2_EINVAL;
	*stp = NULL;
	if (dir == NULL || dir[0] == '\0' ||
	    (flags & ~(TCP2_STORE_CREATE | TCP2_STORE_NOWAIT)) != 0)
		return TCP2_EINVAL;
	if ((rc = tcp2_crypto_init()) != 0)
		return rc;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return TCP2_ENOMEM;
	st->dfd = st->lockfd = -1;
	if ((st->dir = strdup(dir)) == NULL)
		rc = TCP2_ENOMEM;
	if (rc == 0)
		rc = store_dir(st, flags);
	if (rc == 0)
		rc = store_lock(st, flags);
	if (rc == 0)
		rc = sweep(st);
	if (rc == 0)
		rc = store_load(st, passphrase, flags);
	if (rc != 0) {
		tcp2_store_close(st);
		return rc;
	}
	*stp = st;
	return 0;
}

void
tcp2_store_close(struct tcp2_store *st)
{
	int saved = errno;

	if (st == NULL)
		return;
	/* Closing the lock file's only descriptor releases the flock. */
	if (st->lockfd != -1)
		close(st->lockfd);
	if (st->dfd != -1)
		close(st->dfd);
	free(st->dir);
	tcp2_crypto_wipe(st, sizeof(*st));
	free(st);
	errno = saved;
}

const char *
tcp2_store_dir(const struct tcp2_store *st)
{
	return st->dir;
}

int
tcp2_store_read(struct tcp2_store *st, const char *name, uint8_t **buf,
    size_t *len)
{
	char prefix[COMP_MAX + 1];
	const char *base;
	uint8_t *img;
	size_t ilen;
	int fd, rc;

	if (st == NULL || buf == NULL || len == NULL)
		return TCP2_EINVAL;
	*buf = NULL;
	*len = 0;
	if ((rc = name_split(name, prefix, &base)) != 0)
		return rc;
	if ((rc = obj_dir(st, prefix, 0, &fd)) != 0)
		return rc;
	rc = read_file(fd, base, OBJ_IMG_MAX, &img, &ilen);
	obj_dir_release(st, fd);
	if (rc != 0)
		return rc;
	rc = tcp2_store_unseal(st->key, name, img, ilen, buf, len);
	free(img);
	return rc;
}

void
tcp2_store_free(uint8_t *buf, size_t len)
{
	if (buf == NULL)
		return;
	tcp2_crypto_wipe(buf, len);
	free(buf);
}

int
tcp2_store_write(struct tcp2_store *st, const char *name, const void *buf,
    size_t len)
{
	char prefix[COMP_MAX + 1];
	const char *base;
	uint8_t *img;
	size_t ilen;
	int fd, rc;

	if (st == NULL || (buf == NULL && len > 0))
		return TCP2_EINVAL;
	if ((rc = name_split(name, prefix, &base)) != 0)
		return rc;
	if (len > TCP2_STORE_MAX_OBJECT)
		return TCP2_ETOOBIG;
	if ((rc = tcp2_store_seal(st->key, name, buf, len, &img, &ilen)) != 0)
		return rc;
	if ((rc = obj_dir(st, prefix, 1, &fd)) == 0) {
		rc = write_atomic(fd, base, img, ilen);
		obj_dir_release(st, fd);
	}
	free(img);
	return rc;
}

int
tcp2_store_remove(struct tcp2_store *st, const char *name)
{
	char prefix[COMP_MAX + 1];
	const char *base;
	int fd, rc;

	if (st == NULL)
		return TCP2_EINVAL;
	if ((rc = name_split(name, prefix, &base)) != 0)
		return rc;
	if ((rc = obj_dir(st, prefix, 0, &fd)) != 0)
		return rc;
	if (unlinkat(fd, base, 0) == -1)
		/* EISDIR: base is a prefix directory, not an object. */
		rc = errno == ENOENT || errno == EISDIR ? TCP2_ENOENT :
		    TCP2_EIO;
	else if (fsync(fd) == -1)
		rc = TCP2_EIO;
	obj_dir_release(st, fd);
	return rc;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Append a copy of s to the growing array *v of *n names (*cap slots). */
static int
names_add(char ***v, size_t *n, size_t *cap, const char *s)
{
	char **nv;
	size_t ncap;

	if (*n == *cap) {
		ncap = *cap > 0 ? *cap * 2 : 16;
		if (ncap > SIZE_MAX / sizeof(**v) ||
		    (nv = realloc(*v, ncap * sizeof(**v))) == NULL)
			return TCP2_ENOMEM;
		*v = nv;
		*cap = ncap;
	}
	if (((*v)[*n] = strdup(s)) == NULL)
		return TCP2_ENOMEM;
	(*n)++;
	return 0;
}

/* The object files of one directory: valid names, regular files. */
static int
list_dir(int dfd, int top, char ***namesp, size_t *np)
{
	struct dirent *e;
	char **v = NULL;
	size_t n = 0, cap = 0, elen;
	DIR *d;
	int rc = 0;

	if ((d = dir_stream(dfd)) == NULL)
		return TCP2_EIO;
	for (;;) {
		errno = 0;
		if ((e = readdir(d)) == NULL) {
			if (errno != 0)
				rc = TCP2_EIO;
			break;
		}
		elen = strlen(e->d_name);
		if (!comp_ok(e->d_name, elen) ||
		    (top && comp_reserved(e->d_name, elen)) ||
		    entry_type(dfd, e) != DT_REG)
			continue;
		if ((rc = names_add(&v, &n, &cap, e->d_name)) != 0)
			break;
	}
	closedir(d);
	if (rc != 0) {
		tcp2_store_list_free(v, n);
		return rc;
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), name_cmp);
	*namesp = v;
	*np = n;
	return 0;
}

/*
 * prefix NULL or "" lists the top-level objects (an extension of the
 * header's contract, used by tests and tools that walk the whole store).
 */
int
tcp2_store_list(struct tcp2_store *st, const char *prefix, char ***names,
    size_t *n)
{
	size_t plen;
	int fd, rc;

	if (names == NULL || n == NULL)
		return TCP2_EINVAL;
	*names = NULL;
	*n = 0;
	if (st == NULL)
		return TCP2_EINVAL;
	if (prefix == NULL)
		prefix = "";
	plen = strnlen(prefix, COMP_MAX + 1);
	if (plen > 0 && (!comp_ok(prefix, plen) || comp_reserved(prefix, plen)))
		return TCP2_EINVAL;
	rc = obj_dir(st, prefix, 0, &fd);
	if (rc == TCP2_ENOENT)
		return 0;
	if (rc != 0)
		return rc;
	rc = list_dir(fd, plen == 0, names, n);
	obj_dir_release(st, fd);
	return rc;
}

void
tcp2_store_list_free(char **names, size_t n)
{
	size_t i;

	if (names == NULL)
		return;
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}
