/*
 * test_store_crash.c - crash injection for the object store.
 *
 * A forked writer updates "counter", "a", "b" and "quarantine/<n>" in a
 * loop and reports each counter value through a pipe only after
 * tcp2_store_write returned 0.  The parent SIGKILLs it after a random
 * 0..20 ms, reopens the store and checks that it opens, that every object
 * authenticates, that no committed counter value was lost (counter >= last
 * reported) and nothing uncommitted invented (<= last reported + 1), and
 * that "a", written just before "counter", is counter or counter + 1.
 * SIGKILL stops the process at an arbitrary instruction, which covers
 * every point of the write protocol except the kernel's own page-cache
 * writeback (that needs a power cut, not a kill).
 *
 * TCP2_CRASH_SEED=<n> replays a run; every failure prints seed and
 * iteration.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "crypto.h"
#include "error.h"
#include "harness.h"
#include "store.h"

#define ITERATIONS	500
#define DELAY_MAX_US	20000
#define B_MAX		(48 * 1024)

static unsigned long long seed;
static uint64_t rng;
static unsigned int failures;

/* splitmix64: tiny, seedable, good enough to spread the delays. */
static uint64_t
rng_next(void)
{
	uint64_t z;

	z = (rng += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void
fail(int iter, const char *what, const char *name, long detail)
{
	failures++;
	t_check(0, "seed %llu iteration %d: %s %s (%ld)", seed, iter, what,
	    name, detail);
}

static int
rm_entry(const char *p, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return type == FTW_DP ? rmdir(p) : unlink(p);
}

static int
put_num(struct tcp2_store *st, const char *name, unsigned long v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lu", v);
	return tcp2_store_write(st, name, buf, strlen(buf));
}

/* Read a decimal object; -1 when it is absent or not a number. */
static long
get_num(struct tcp2_store *st, const char *name, int *rc)
{
	char buf[32], *end;
	uint8_t *p;
	size_t len;
	long v = -1;

	*rc = tcp2_store_read(st, name, &p, &len);
	if (*rc != 0)
		return -1;
	if (len > 0 && len < sizeof(buf)) {
		memcpy(buf, p, len);
		buf[len] = '\0';
		v = strtol(buf, &end, 10);
		if (*end != '\0')
			v = -1;
	}
	tcp2_store_free(p, len);
	return v;
}

/* The writer: never returns; exit status 0 only through SIGKILL. */
static void
writer(const char *dir, int wfd, unsigned long start)
{
	static uint8_t b[B_MAX];
	struct tcp2_store *st;
	char q[64];
	unsigned long i;
	size_t blen;
	int rc;

	if (tcp2_store_open(&st, dir, NULL, 0) != 0)
		_exit(2);
	for (i = start;; i++) {
		blen = (i * 7919) % B_MAX;
		memset(b, (int)(i & 0xff), blen);
		snprintf(q, sizeof(q), "quarantine/%lu", i);
		if (put_num(st, "a", i) != 0 ||
		    tcp2_store_write(st, "b", b, blen) != 0 ||
		    tcp2_store_write(st, q, b, blen % 1024) != 0)
			_exit(3);
		if (i >= 3) {
			snprintf(q, sizeof(q), "quarantine/%lu", i - 3);
			rc = tcp2_store_remove(st, q);
			if (rc != 0 && rc != TCP2_ENOENT)
				_exit(4);
		}
		if (put_num(st, "counter", i) != 0)
			_exit(5);
		/* Reported only now: the value is committed. */
		if (write(wfd, &i, sizeof(i)) != sizeof(i))
			_exit(6);
	}
}

/* Read every object under prefix (NULL: top level); count the bad ones. */
static int
read_all(struct tcp2_store *st, const char *prefix, int iter)
{
	char **names, full[160];
	uint8_t *p;
	size_t n, i, len;
	int rc, bad = 0;

	if ((rc = tcp2_store_list(st, prefix, &names, &n)) != 0) {
		fail(iter, "list", prefix ? prefix : "(top)", rc);
		return 1;
	}
	for (i = 0; i < n; i++) {
		if (prefix != NULL)
			snprintf(full, sizeof(full), "%s/%s", prefix, names[i]);
		else
			snprintf(full, sizeof(full), "%s", names[i]);
		rc = tcp2_store_read(st, full, &p, &len);
		if (rc != 0) {
			fail(iter, "read", full, rc);
			bad++;
			continue;
		}
		tcp2_store_free(p, len);
	}
	tcp2_store_list_free(names, n);
	return bad;
}

static int
has_tmp(const char *dir)
{
	char sub[256];
	struct dirent *e;
	DIR *d;
	int n = 0;

	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		n += strncmp(e->d_name, ".tmp-", 5) == 0;
	closedir(d);
	snprintf(sub, sizeof(sub), "%s/quarantine", dir);
	if ((d = opendir(sub)) != NULL) {
		while ((e = readdir(d)) != NULL)
			n += strncmp(e->d_name, ".tmp-", 5) == 0;
		closedir(d);
	}
	return n;
}

/*
 * After the kill: the store must open and hold exactly what was committed.
 * Returns the counter found (the next writer's start - 1), or -1.
 */
static long
verify(const char *dir, int iter, long last)
{
	struct tcp2_store *st;
	long c, a;
	int rc;

	if ((rc = tcp2_store_open(&st, dir, NULL, TCP2_STORE_NOWAIT)) != 0) {
		fail(iter, "open", dir, rc);
		return -1;
	}
	if (has_tmp(dir) != 0)
		fail(iter, "temp files left after open in", dir, has_tmp(dir));
	c = get_num(st, "counter", &rc);
	if (rc != 0 || c < 0)
		fail(iter, "read", "counter", rc);
	else if (c < last || c > last + 1)
		fail(iter, "counter out of range, last committed", "", last);
	a = get_num(st, "a", &rc);
	if (rc != 0 || a < c || a > c + 1)
		fail(iter, "a not in [counter, counter + 1]:", "a", a);
	read_all(st, NULL, iter);
	read_all(st, "quarantine", iter);
	tcp2_store_close(st);
	return c;
}

/* One writer life: fork, sleep, kill, read the reports, verify. */
static long
crash_once(const char *dir, int iter, long expect, int *committed)
{
	unsigned long v, last;
	struct timespec ts;
	long delay;
	int p[2], status;
	pid_t pid;

	*committed = 0;
	if (pipe(p) == -1) {
		fail(iter, "pipe", "", errno);
		return -1;
	}
	fflush(stdout);
	if ((pid = fork()) == -1) {
		fail(iter, "fork", "", errno);
		return -1;
	}
	if (pid == 0) {
		close(p[0]);
		writer(dir, p[1], (unsigned long)expect + 1);
	}
	close(p[1]);
	delay = (long)(rng_next() % (DELAY_MAX_US + 1));
	ts.tv_sec = 0;
	ts.tv_nsec = delay * 1000;
	nanosleep(&ts, NULL);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	if (!WIFSIGNALED(status))
		fail(iter, "writer died on its own, status", "",
		    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	last = (unsigned long)expect;
	while (read(p[0], &v, sizeof(v)) == sizeof(v)) {
		if (v != last + 1)
			fail(iter, "reports out of order", "", (long)v);
		last = v;
		(*committed)++;
	}
	close(p[0]);
	return verify(dir, iter, (long)last);
}

int
main(void)
{
	struct tcp2_store *st;
	char base[64], dir[128];
	const char *e;
	long c;
	int i, committed, lives = 0, total = 0;

	e = getenv("TCP2_CRASH_SEED");
	seed = e != NULL ? strtoull(e, NULL, 10) :
	    (unsigned long long)time(NULL) ^ (unsigned long long)getpid();
	rng = seed;
	printf("# seed %llu (replay with TCP2_CRASH_SEED=%llu)\n", seed, seed);
	if (tcp2_crypto_init() != 0) {
		t_check(0, "crypto init");
		return t_done();
	}
	snprintf(base, sizeof(base), "/tmp/tcp2-crash-XXXXXX");
	if (!t_check(mkdtemp(base) != NULL, "mkdtemp"))
		return t_done();
	snprintf(dir, sizeof(dir), "%s/store", base);
	/* Created here so that every kill hits an existing store. */
	if (!t_check(tcp2_store_open(&st, dir, NULL, TCP2_STORE_CREATE) == 0 &&
	    put_num(st, "a", 0) == 0 && put_num(st, "counter", 0) == 0,
	    "create the store with counter 0"))
		goto out;
	tcp2_store_close(st);

	c = 0;
	for (i = 0; i < ITERATIONS && c >= 0; i++) {
		c = crash_once(dir, i, c, &committed);
		lives += committed > 0;
		total += committed;
	}
	printf("# %d writers killed, %d of them after committing; "
	    "%d commits in all\n", i, lives, total);
	t_check(failures == 0 && i == ITERATIONS,
	    "%d crash iterations (seed %llu): %u failures", i, seed, failures);
	t_check(lives > 0, "some writers committed before the kill");
out:
	nftw(base, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return t_done();
}
