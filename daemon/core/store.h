/*
 * store.h - the encrypted, crash-safe object store of the TCP2 mail core.
 *
 * A store is a directory of named objects (accounts, identities, peers,
 * seen message IDs, quarantined mail).  Every object is sealed with
 * ChaCha20-Poly1305 under a key derived from the store's master key and
 * bound to the object's name, and replaced atomically (temp file, fsync,
 * rename, fsync of the directory), so that after a crash at any point an
 * object holds either its old or its new content, never a mix.
 *
 * The master key is 32 random bytes in DIR/master.key (mode 0600), or,
 * when a passphrase is given, Argon2id(passphrase, salt) with the salt and
 * cost parameters kept in clear in DIR/store.meta.  A sealed check object
 * tells a wrong passphrase (TCP2_EPASS) from a corrupt object (TCP2_EAUTH).
 * The on-disk encoding is specified in docs/FORMAT.md ("Store").
 *
 * One process at a time: open takes an exclusive lock on DIR/.lock.
 */
#ifndef TCP2_STORE_H
#define TCP2_STORE_H

#include <stddef.h>
#include <stdint.h>

#define TCP2_STORE_CREATE	0x1	/* create DIR and a new master key */
#define TCP2_STORE_NOWAIT	0x2	/* TCP2_ELOCKED instead of waiting */

/* Largest object the store accepts (a quarantined 20 MB mail and more). */
#define TCP2_STORE_MAX_OBJECT	(64u << 20)

struct tcp2_store;

/*
 * Open the store in dir.  passphrase NULL means the key file.  With
 * TCP2_STORE_CREATE a missing store is created (an existing one is opened;
 * TCP2_EEXIST never happens).  Leftover temp files of an interrupted write
 * are removed.  Errors: TCP2_ENOENT (no store and no CREATE), TCP2_EPASS,
 * TCP2_ELOCKED, TCP2_EIO (errno kept), TCP2_EFORMAT (bad store.meta),
 * TCP2_EVERSION (store.meta of another version).  A passphrase for a
 * key-file store, or none for a passphrase store, is TCP2_EPASS.
 */
int tcp2_store_open(struct tcp2_store **st, const char *dir,
    const char *passphrase, unsigned int flags);

void tcp2_store_close(struct tcp2_store *st);

/* The directory this store lives in. */
const char *tcp2_store_dir(const struct tcp2_store *st);

/*
 * Object names: 1..64 chars of [a-z0-9._-], optionally one "prefix/"
 * level with the same rule (e.g. "quarantine/0123abcd"); anything else
 * is TCP2_EINVAL.  A component may not start with '.' (this keeps ".",
 * "..", the lock, check and temp files out of the namespace), and
 * "master.key" and "store.meta" are refused at the top level.
 */

/*
 * Read and authenticate an object.  On success *buf is a malloc'd copy
 * (caller frees with tcp2_store_free) and *len its size.  Errors:
 * TCP2_ENOENT, TCP2_EAUTH (tampered, truncated, or another object's
 * content renamed to this name), TCP2_EFORMAT, TCP2_EIO.
 */
int tcp2_store_read(struct tcp2_store *st, const char *name, uint8_t **buf,
    size_t *len);

/* Wipe and free a buffer returned by tcp2_store_read. */
void tcp2_store_free(uint8_t *buf, size_t len);

/*
 * Replace (or create) an object atomically and durably: when this returns
 * 0 the new content survives a crash; when it fails or the process dies
 * inside it, the object holds its old content.  Errors: TCP2_EINVAL,
 * TCP2_ETOOBIG, TCP2_EIO.
 */
int tcp2_store_write(struct tcp2_store *st, const char *name,
    const void *buf, size_t len);

/* Remove an object durably.  TCP2_ENOENT when absent. */
int tcp2_store_remove(struct tcp2_store *st, const char *name);

/*
 * List the object names under "prefix/" (without the prefix), sorted.
 * *names is a malloc'd array of malloc'd strings; free with
 * tcp2_store_list_free.  An absent prefix directory gives 0 names.
 * prefix NULL or "" lists the top-level objects.
 */
int tcp2_store_list(struct tcp2_store *st, const char *prefix,
    char ***names, size_t *n);
void tcp2_store_list_free(char **names, size_t n);

/*
 * Seal and open one object's file image in memory: the pure functions the
 * store is built on, exposed for tests and the fuzzer.  key is the 32-byte
 * master key.  tcp2_store_unseal never reads beyond len and never returns
 * unauthenticated bytes.  Here name may be any string of 1..129 bytes.
 * Format and key derivation: docs/STORE.md.
 */
int tcp2_store_seal(const uint8_t key[32], const char *name,
    const void *buf, size_t len, uint8_t **out, size_t *outlen);
int tcp2_store_unseal(const uint8_t key[32], const char *name,
    const uint8_t *img, size_t len, uint8_t **out, size_t *outlen);

#endif /* TCP2_STORE_H */
