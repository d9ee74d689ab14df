/*
 * tcp2-mail - the TCP2 mail core on files: create a store and identity,
 * run a key exchange by mail, encrypt and decrypt messages, list peers.
 *
 * It is the command-line twin of what tcp2d does inside live SMTP and
 * POP3 sessions, built on the same daemon/core API.  Output goes to stdout
 * only when the whole operation succeeded; every failure is one line on
 * stderr and a non-zero exit status.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crypto.h"
#include "error.h"
#include "fdio.h"
#include "keyx.h"
#include "message.h"
#include "sink.h"
#include "state.h"

#define EX_FAIL		1
#define EX_USAGE	2
#define MAX_INPUT	(256u << 20)	/* largest message accepted */
#define MAX_RCPT	TCP2_MSG_MAX_RCPT - 1
#define KEYX_OUT	8192
#define READ_MAX	(1u << 20)	/* bytes a read(2): few, large pieces */

static const char usage_text[] =
"usage: tcp2-mail --store DIR [--account ADDR] COMMAND [ARGS]\n"
"\n"
"End-to-end encryption of e-mail with TCP2 Mail, on files.\n"
"\n"
"Commands:\n"
"  init --addr ADDR          create the store and an identity for ADDR\n"
"  whoami                    show the account's address and fingerprint\n"
"  keyx-start --to ADDR      write a key-exchange mail for ADDR to stdout\n"
"  keyx-recv                 read a key-exchange mail on stdin; write the\n"
"                            reply to stdout when one is due\n"
"  encrypt --to ADDR[,ADDR...]\n"
"                            encrypt the message on stdin to stdout\n"
"  decrypt [--allow-replay] [--force] [--keep-trace]\n"
"                            decrypt the message on stdin to stdout\n"
"  peers                     one line per peer: address, state, fingerprint\n"
"  peer-verify ADDR          mark a peer verified after comparing codes\n"
"  peer-accept ADDR          accept a changed identity (may write a reply)\n"
"  peer-reject ADDR          keep the old identity, drop the new one\n"
"  peer-forget ADDR          delete everything known about a peer\n"
"\n"
"Options:\n"
"  --store DIR     the encrypted store (created 0700 by init)\n"
"  --account ADDR  the account to act as (default: the first one)\n"
"  -h, --help      this text\n"
"\n"
"Environment:\n"
"  TCP2_PASSPHRASE  protect the store with this passphrase (Argon2id)\n"
"                   instead of the key file DIR/master.key\n"
"\n"
"decrypt writes nothing for a forged message (bad signature, or From: not\n"
"the key's owner) unless --force, and nothing for a message it decrypted\n"
"before unless --allow-replay.  --keep-trace keeps the server's Received:\n"
"and Return-Path: fields in front of the original.\n"
"\n"
"Exit status: 0 success, 1 failure (reason on stderr), 2 usage error.\n";

/* Bytes left on stdin when it is a regular file, else 0 (unknown). */
static size_t
input_size(void)
{
	struct stat st;
	off_t pos;

	if (fstat(STDIN_FILENO, &st) != 0 || !S_ISREG(st.st_mode))
		return 0;
	pos = lseek(STDIN_FILENO, 0, SEEK_CUR);
	if (pos < 0 || pos >= st.st_size || st.st_size - pos > MAX_INPUT)
		return 0;
	return (size_t)(st.st_size - pos);
}

static void
warnx1(const char *fmt, ...)
{
	va_list ap;

	fputs("tcp2-mail: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int
fail(const char *what, int rc)
{
	warnx1("%s: %s", what, tcp2_strerror(rc));
	return EX_FAIL;
}

/* After a failure: take back what reached stdout. */
static void
abandon_output(struct sink *out)
{
	if (sink_abandon(out) != 0)
		warnx1("could not remove the partial output: %s",
		    strerror(errno));
}

/* After a success: the output, whole, or a failure taken back. */
static int
commit_output(struct sink *out)
{
	if (sink_commit(out) == 0)
		return 0;
	warnx1("writing output: %s", strerror(errno));
	abandon_output(out);
	return EX_FAIL;
}

static int
write_all(const void *buf, size_t len)
{
	int err = tcp2_write_all(STDOUT_FILENO, buf, len);

	if (err != 0) {
		warnx1("writing output: %s", strerror(err));
		return EX_FAIL;
	}
	return 0;
}

/* The mapped input and the output under way, for on_sigbus. */
static const uint8_t *volatile bus_map;
static volatile size_t bus_maplen;
static struct sink *volatile bus_sink;

/*
 * A mapped input file cut short by someone else while we read it: the
 * pages past its new end fault with SIGBUS.  Take back what reached the
 * output (sink_abandon is async-signal-safe), say why in one line, and
 * exit.  Any other SIGBUS is not ours to explain:
 * the default action, with its core.
 */
static void
on_sigbus(int sig, siginfo_t *si, void *ctx)
{
	static const char shrank[] =
	    "tcp2-mail: the input file shrank while it was being read\n";
	static const char kept[] =
	    "tcp2-mail: could not remove the partial output\n";
	const uint8_t *a = si->si_addr, *m = bus_map;
	struct sink *out = bus_sink;
	ssize_t w;

	(void)ctx;
	if (m == NULL || a < m || a >= m + bus_maplen) {
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	w = write(STDERR_FILENO, shrank, sizeof(shrank) - 1);
	if (out != NULL && sink_abandon(out) != 0)
		w = write(STDERR_FILENO, kept, sizeof(kept) - 1);
	(void)w;	/* nothing more to be done about stderr */
	_exit(EX_FAIL);
}

/*
 * Feed a regular file on stdin, size bytes from its offset, to fn from a
 * read-only mapping: no copy into a buffer of ours (a 10 MB message: 1 to
 * 2 ms less).  Returns 1 when it could not map (the caller reads
 * instead), else 0 or fn's error; stdin's offset ends after the bytes
 * fed, as after reading.
 */
static int
map_input(size_t size, int (*fn)(void *, const void *, size_t), void *arg,
    struct sink *out)
{
	struct sigaction sa = { .sa_sigaction = on_sigbus,
	    .sa_flags = SA_SIGINFO }, old;
	long pg = sysconf(_SC_PAGESIZE);
	off_t pos = lseek(STDIN_FILENO, 0, SEEK_CUR), base;
	uint8_t *map;
	size_t skip;
	int rc;

	if (pos < 0 || pg <= 0)
		return 1;
	base = pos - pos % pg;
	skip = (size_t)(pos - base);
	map = mmap(NULL, size + skip, PROT_READ, MAP_PRIVATE | MAP_POPULATE,
	    STDIN_FILENO, base);
	if (map == MAP_FAILED)
		return 1;
	bus_map = map;
	bus_maplen = size + skip;
	bus_sink = out;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGBUS, &sa, &old);
	rc = fn(arg, map + skip, size);
	(void)sigaction(SIGBUS, &old, NULL);
	bus_sink = NULL;
	bus_map = NULL;
	munmap(map, size + skip);
	(void)lseek(STDIN_FILENO, pos + (off_t)size, SEEK_SET);
	return rc;
}

/*
 * Read up to room bytes of stdin into p, *total counting all read so far.
 * Returns the count (0 at the end), or TCP2_EIO or TCP2_ETOOBIG.
 */
static long
read_some(void *p, size_t room, size_t *total)
{
	ssize_t n;

	do
		n = read(STDIN_FILENO, p, room);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return TCP2_EIO;
	*total += (size_t)n;
	if (*total > MAX_INPUT)
		return TCP2_ETOOBIG;
	return (long)n;
}

/*
 * Feed stdin to fn.  With out given (decrypt) and size, the caller's
 * input_size(), not 0, the regular file is mapped: decrypt's only reader
 * of the input is this thread, and its output is out, to take back if
 * the file shrinks meanwhile.  Else (key exchange, a pipe) it is read in
 * pieces of up to 1 MiB.  Returns 0, TCP2_EIO, TCP2_ETOOBIG or fn's
 * error.
 */
static int
read_input(int (*fn)(void *, const void *, size_t), void *arg,
    struct sink *out, size_t size)
{
	static uint8_t buf[READ_MAX];
	size_t total = 0;
	long n;
	int rc;

	if (out != NULL && size > 0 &&
	    (rc = map_input(size, fn, arg, out)) != 1)
		return rc;
	while ((n = read_some(buf, sizeof(buf), &total)) > 0)
		if ((rc = fn(arg, buf, (size_t)n)) != 0)
			return rc;
	return (int)n;
}

/*
 * Read stdin straight into the encoder's buffer, in pieces of up to
 * 1 MiB.  Encrypt neither maps its input nor reads it twice: two reads of
 * a file changed in place could differ, and the message would be signed
 * other than encrypted (tcp2_msg_enc_space: the bytes hashed are those
 * sealed).  Reading ahead on a second thread was tried: a 10 MB encrypt
 * took 25 ms instead of 20, the main thread spending more CPU time, not
 * less.  Returns 0, TCP2_EIO, TCP2_ETOOBIG or the encoder's error.
 */
static int
read_to_encoder(struct tcp2_msg_enc *e)
{
	size_t total = 0, room;
	uint8_t *p;
	long n;
	int rc;

	for (;;) {
		/* NULL: no memory (each error that kills the encoder
		 * was returned before). */
		if ((p = tcp2_msg_enc_space(e, &room)) == NULL)
			return TCP2_ENOMEM;
		if (room > READ_MAX)
			room = READ_MAX;
		if ((n = read_some(p, room, &total)) <= 0)
			return (int)n;
		if ((rc = tcp2_msg_enc_commit(e, (size_t)n)) != 0)
			return rc;
	}
}

static int
open_state(struct tcp2_state **s, const char *dir, int create)
{
	const char *pass = getenv("TCP2_PASSPHRASE");
	int rc;

	if (pass != NULL && *pass == '\0')
		pass = NULL;
	rc = tcp2_state_open(s, dir, pass, create ? TCP2_STORE_CREATE : 0);
	if (rc == TCP2_ENOENT)
		warnx1("%s: no store here (run: tcp2-mail --store %s init "
		    "--addr ADDR)", dir, dir);
	else if (rc != 0)
		warnx1("%s: cannot open store: %s", dir, tcp2_strerror(rc));
	return rc;
}

static const struct tcp2_account *
need_account(struct tcp2_state *s, const char *account)
{
	const struct tcp2_account *a = tcp2_state_account(s, account);

	if (a == NULL)
		warnx1(account ? "no account %s in this store" :
		    "no account in this store%s (run init first)",
		    account ? account : "");
	return a;
}

/* ---- commands ---- */

static int
cmd_init(struct tcp2_state *s, const char *addr)
{
	struct tcp2_account a;
	char fpr[TCP2_FPR_LEN];
	const struct tcp2_account *na;
	int rc;

	memset(&a, 0, sizeof(a));
	snprintf(a.addr, sizeof(a.addr), "%s", addr);
	rc = tcp2_state_account_add(s, &a);
	if (rc == TCP2_EEXIST) {
		warnx1("account %s exists already", addr);
		return EX_FAIL;
	}
	if (rc == TCP2_EFORMAT) {
		warnx1("%s: not a mail address", addr);
		return EX_FAIL;
	}
	if (rc != 0)
		return fail("init", rc);
	na = tcp2_state_account(s, addr);
	tcp2_fingerprint(na->ed_pub, na->x_pub, fpr);
	fprintf(stderr, "tcp2-mail: created account %s, fingerprint %s\n",
	    na->addr, fpr);
	return 0;
}

static int
cmd_whoami(struct tcp2_state *s, const char *account)
{
	const struct tcp2_account *a = need_account(s, account);
	char fpr[TCP2_FPR_LEN];

	if (a == NULL)
		return EX_FAIL;
	tcp2_fingerprint(a->ed_pub, a->x_pub, fpr);
	printf("%s %s\n", a->addr, fpr);
	return 0;
}

static int
cmd_keyx_start(struct tcp2_state *s, const char *account, const char *to)
{
	char out[KEYX_OUT];
	size_t n;
	int rc;

	if (need_account(s, account) == NULL)
		return EX_FAIL;
	rc = tcp2_state_keyx_start(s, account, to, (uint64_t)time(NULL), out,
	    sizeof(out), &n);
	if (rc == TCP2_EINVAL) {
		warnx1("%s: not a mail address of a peer", to);
		return EX_FAIL;
	}
	if (rc != 0)
		return fail("keyx-start", rc);
	return write_all(out, n);
}

static int
cmd_keyx_recv(struct tcp2_state *s)
{
	struct sink in = SINK_INIT;
	enum tcp2_keyx_result res;
	char out[KEYX_OUT];
	size_t n;
	int rc;

	rc = read_input(sink_put, &in, NULL, 0);
	if (rc == 0)
		rc = tcp2_state_keyx_recv(s, (const char *)in.p, in.len,
		    (uint64_t)time(NULL), &res, out, sizeof(out), &n);
	sink_free(&in);
	if (rc == TCP2_ENOENT) {
		warnx1("keyx-recv: not a key-exchange mail for an account of "
		    "this store");
		return EX_FAIL;
	}
	if (rc != 0)
		return fail("keyx-recv", rc);
	warnx1("key exchange: %s", tcp2_keyx_result_text(res));
	return n ? write_all(out, n) : 0;
}

/* Split "a,b,c" into at most max addresses (in place). */
static size_t
split_rcpts(char *list, const char **v, size_t max)
{
	size_t n = 0;
	char *tok, *save = NULL;

	for (tok = strtok_r(list, ",", &save); tok && n <= max;
	    tok = strtok_r(NULL, ",", &save)) {
		while (*tok == ' ')
			tok++;
		if (*tok)
			v[n++] = tok;
	}
	return n;
}

static int
cmd_encrypt(struct tcp2_state *s, const char *account, char *to)
{
	const struct tcp2_account *a = need_account(s, account);
	static uint8_t keys[TCP2_MSG_MAX_RCPT][TCP2_MSG_KEY_LEN];
	const char *rcpt[TCP2_MSG_MAX_RCPT];
	struct tcp2_msg_enc_params p = { 0 };
	struct tcp2_msg_enc *e = NULL;
	struct sink out = SINK_INIT;
	size_t n, nkeys, bad = 0;
	int rc, ex = EX_FAIL;

	if (a == NULL)
		return EX_FAIL;
	n = split_rcpts(to, rcpt, MAX_RCPT);
	if (n == 0 || n > MAX_RCPT) {
		warnx1("encrypt: --to needs 1 to %d addresses", MAX_RCPT);
		return EX_USAGE;
	}
	rc = tcp2_state_message_keys(s, a, rcpt, n, keys, &nkeys, &bad);
	if (rc == TCP2_ENOKEY || rc == TCP2_ESTATE || rc == TCP2_EINVAL) {
		warnx1("encrypt: %s: %s", rcpt[bad], rc == TCP2_ENOKEY ?
		    "no key yet (run a key exchange first)" : rc == TCP2_ESTATE ?
		    "identity changed; accept or reject it first" :
		    "not a mail address");
		goto out;
	}
	if (rc != 0) {
		ex = fail("encrypt", rc);
		goto out;
	}
	p.keys = (const uint8_t (*)[TCP2_MSG_KEY_LEN])keys;
	p.nkeys = nkeys;
	p.sign_sec = a->ed_sec;
	p.sign_addr = a->addr;
	p.out = sink_put;
	p.arg = &out;
	p.parallel = 1;	/* a command-line tool may use both cores */
	/* The output: clear header fields (at most twice the 16 KiB header
	 * window, line ends rewritten), about 1 KiB of MIME text, and the
	 * packed input with 16 bytes per 16 KiB chunk and the key wraps, in
	 * base64 lines of 76 characters for 57 bytes.  An upper bound
	 * unless the input has NULs (each is doubled, pack.h), and a hint
	 * only: the sink grows past it. */
	if (!sink_stream_stdout(&out) && (n = input_size()) > 0)
		sink_reserve(&out, (n + n / 1024 + nkeys * 64 + 4096) / 57 *
		    78 + 48 * 1024);
	rc = tcp2_msg_enc_new(&e, &p);
	if (rc == 0)
		rc = read_to_encoder(e);
	if (rc == 0)
		rc = tcp2_msg_enc_finish(e);
	if (rc != 0) {
		if (out.err != 0)
			warnx1("writing output: %s", strerror(out.err));
		else
			(void)fail("encrypt", rc);
		abandon_output(&out);
		goto out;
	}
	if (!tcp2_msg_enc_signed(e))
		warnx1("warning: From: is not %s: the message is not signed "
		    "and recipients will not see it as verified", a->addr);
	ex = commit_output(&out);
out:
	tcp2_msg_enc_free(e);
	tcp2_crypto_wipe(keys, sizeof(keys));
	sink_free(&out);
	return ex;
}

static int
dec_feed(void *arg, const void *buf, size_t len)
{
	return tcp2_msg_dec_write(arg, buf, len);
}

struct dec_opts {
	int allow_replay, force, keep_trace;
};

/* What the decrypt status means for the user, and whether to write. */
static int
dec_report(struct tcp2_state *s, struct tcp2_msg_dec *d,
    const struct dec_opts *o)
{
	const char *who = tcp2_msg_dec_sender(d);
	uint64_t first = 0;
	char when[64];
	time_t t;
	int rc;

	switch (tcp2_msg_dec_status(d)) {
	case TCP2_SIG_FORGED:
		warnx1("FORGED: message claiming to be from %s: %s%s", who,
		    tcp2_msg_dec_reason(d), o->force ? "" :
		    " (not written; --force to read it anyway)");
		if (!o->force)
			return EX_FAIL;
		break;
	case TCP2_SIG_UNVERIFIED:
		warnx1("from %s: unverified (not signed)", who);
		break;
	case TCP2_SIG_VERIFIED:
		warnx1("from %s: verified", who);
		break;
	}
	rc = tcp2_state_seen_check_add(s, tcp2_msg_dec_salt(d),
	    (uint64_t)time(NULL), &first);
	if (rc == TCP2_EREPLAY) {
		t = (time_t)first;
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", gmtime(&t));
		warnx1("replay: this message was first decrypted on %s%s", when,
		    o->allow_replay ? "" : " (not written; --allow-replay to "
		    "read it again)");
		return o->allow_replay ? 0 : EX_FAIL;
	}
	if (rc != 0)
		return fail("recording the message ID", rc);
	return 0;
}

static int
cmd_decrypt(struct tcp2_state *s, const struct dec_opts *o)
{
	struct tcp2_msg_dec_params p = { 0 };
	struct tcp2_msg_dec *d = NULL;
	struct sink out = SINK_INIT;
	size_t size;
	int rc, ex;

	p.lookup = tcp2_state_lookup;
	p.lookup_arg = s;
	p.out = sink_put;
	p.arg = &out;
	p.flags = o->keep_trace ? TCP2_DEC_KEEP_TRACE : 0;
	p.parallel = 1;
	/* Held, never streamed, even into a regular file: a killed process
	 * or a file that cannot be truncated back would leave a forged
	 * message's plaintext there, and a reader of the file would see it
	 * before the signature is checked.  It is shorter than its base64. */
	size = input_size();
	sink_reserve(&out, size);
	rc = tcp2_msg_dec_new(&d, &p);
	if (rc == 0)
		rc = read_input(dec_feed, d, &out, size);
	if (rc == 0)
		rc = tcp2_msg_dec_finish(d);
	if (rc == TCP2_EFORMAT)
		warnx1("decrypt: not a well-formed TCP2 encrypted message");
	else if (rc == TCP2_ENOKEY)
		warnx1("decrypt: no key for this message (not for us, or the "
		    "sender's key exchange is missing)");
	if (rc != 0) {
		ex = rc == TCP2_EFORMAT || rc == TCP2_ENOKEY ? EX_FAIL :
		    fail("decrypt", rc);
		goto out;
	}
	ex = dec_report(s, d, o);
	if (ex == 0)
		ex = commit_output(&out);
out:
	tcp2_msg_dec_free(d);
	sink_free(&out);
	return ex;
}

static int
cmd_peers(struct tcp2_state *s, const char *account)
{
	const struct tcp2_account *a = need_account(s, account);
	const struct tcp2_peer *p;
	char fpr[TCP2_FPR_LEN], code[TCP2_CODE_LEN];
	size_t i;

	if (a == NULL)
		return EX_FAIL;
	for (i = 0; i < tcp2_state_npeers(s); i++) {
		p = tcp2_state_peer_at(s, i);
		if (strcmp(p->account, a->addr) != 0)
			continue;
		if (p->has_identity) {
			tcp2_fingerprint(p->ed_pub, p->x_pub, fpr);
			tcp2_comparison_code(a->ed_pub, a->x_pub, p->ed_pub,
			    p->x_pub, code);
			printf("%s %s %s (code %s)\n", p->addr,
			    tcp2_peer_state_name(tcp2_peer_state(p)), fpr, code);
		} else {
			printf("%s %s -\n", p->addr,
			    tcp2_peer_state_name(tcp2_peer_state(p)));
		}
	}
	return 0;
}

static int
cmd_peer(struct tcp2_state *s, const char *account, const char *cmd,
    const char *addr)
{
	const struct tcp2_account *a = need_account(s, account);
	enum tcp2_keyx_result res;
	char out[KEYX_OUT];
	size_t n = 0;
	int rc;

	if (a == NULL)
		return EX_FAIL;
	if (strcmp(cmd, "peer-verify") == 0)
		rc = tcp2_state_peer_verify(s, a->addr, addr);
	else if (strcmp(cmd, "peer-accept") == 0)
		rc = tcp2_state_peer_accept(s, a->addr, addr,
		    (uint64_t)time(NULL), &res, out, sizeof(out), &n);
	else if (strcmp(cmd, "peer-reject") == 0)
		rc = tcp2_state_peer_reject(s, a->addr, addr);
	else
		rc = tcp2_state_peer_forget(s, a->addr, addr);
	if (rc == TCP2_ENOENT) {
		warnx1("%s: no such peer", addr);
		return EX_FAIL;
	}
	if (rc == TCP2_ESTATE) {
		warnx1("%s: %s", addr, strcmp(cmd, "peer-verify") == 0 ?
		    "no established key to verify" : "no changed identity pending");
		return EX_FAIL;
	}
	if (rc != 0)
		return fail(cmd, rc);
	return n ? write_all(out, n) : 0;
}

/* ---- argument handling ---- */

static int
usage(int ex)
{
	fputs(usage_text, ex ? stderr : stdout);
	return ex;
}

/* Options of one command: --to, --addr, and decrypt's flags. */
static int
cmd_opts(int argc, char **argv, char **to, char **addr, struct dec_opts *o)
{
	static const struct option opts[] = {
		{ "to", required_argument, NULL, 't' },
		{ "addr", required_argument, NULL, 'a' },
		{ "allow-replay", no_argument, NULL, 'r' },
		{ "force", no_argument, NULL, 'f' },
		{ "keep-trace", no_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 't': *to = optarg; break;
		case 'a': *addr = optarg; break;
		case 'r': o->allow_replay = 1; break;
		case 'f': o->force = 1; break;
		case 'k': o->keep_trace = 1; break;
		default: return -1;
		}
	}
	return optind;
}

static int
run(const char *store, const char *account, int argc, char **argv)
{
	struct tcp2_state *s = NULL;
	struct dec_opts o = { 0 };
	const char *cmd = argv[0];
	char *to = NULL, *addr = NULL;
	int ind, ex;

	ind = cmd_opts(argc, argv, &to, &addr, &o);
	if (ind < 0)
		return usage(EX_USAGE);
	if ((strcmp(cmd, "init") == 0 && (addr == NULL || ind != argc)) ||
	    ((strcmp(cmd, "keyx-start") == 0 || strcmp(cmd, "encrypt") == 0) &&
	    (to == NULL || ind != argc))) {
		warnx1("%s: missing or extra arguments (see --help)", cmd);
		return EX_USAGE;
	}
	if (strncmp(cmd, "peer-", 5) == 0 && ind != argc - 1) {
		warnx1("%s: needs one address", cmd);
		return EX_USAGE;
	}
	if (open_state(&s, store, strcmp(cmd, "init") == 0) != 0)
		return EX_FAIL;
	if (strcmp(cmd, "init") == 0)
		ex = cmd_init(s, addr);
	else if (strcmp(cmd, "whoami") == 0)
		ex = cmd_whoami(s, account);
	else if (strcmp(cmd, "keyx-start") == 0)
		ex = cmd_keyx_start(s, account, to);
	else if (strcmp(cmd, "keyx-recv") == 0)
		ex = cmd_keyx_recv(s);
	else if (strcmp(cmd, "encrypt") == 0)
		ex = cmd_encrypt(s, account, to);
	else if (strcmp(cmd, "decrypt") == 0)
		ex = cmd_decrypt(s, &o);
	else if (strcmp(cmd, "peers") == 0)
		ex = cmd_peers(s, account);
	else
		ex = cmd_peer(s, account, cmd, argv[ind]);
	tcp2_state_close(s);
	return ex;
}

int
main(int argc, char **argv)
{
	static const char *const cmds[] = {
		"init", "whoami", "keyx-start", "keyx-recv", "encrypt",
		"decrypt", "peers", "peer-verify", "peer-accept",
		"peer-reject", "peer-forget",
	};
	const char *store = NULL, *account = NULL;
	size_t i;
	int k;

	/* Global options come before the command. */
	for (k = 1; k < argc && argv[k][0] == '-'; k++) {
		if (strcmp(argv[k], "-h") == 0 || strcmp(argv[k], "--help") == 0)
			return usage(0);
		if (strcmp(argv[k], "--store") == 0 && k + 1 < argc)
			store = argv[++k];
		else if (strcmp(argv[k], "--account") == 0 && k + 1 < argc)
			account = argv[++k];
		else
			return usage(EX_USAGE);
	}
	if (k == argc)
		return usage(EX_USAGE);
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[k], cmds[i]) == 0)
			break;
	if (i == sizeof(cmds) / sizeof(cmds[0])) {
		warnx1("unknown command '%s' (see --help)", argv[k]);
		return EX_USAGE;
	}
	if (store == NULL) {
		warnx1("--store DIR is required (see --help)");
		return EX_USAGE;
	}
	if (tcp2_crypto_init() != 0) {
		warnx1("libgcrypt is too old (need 1.10)");
		return EX_FAIL;
	}
	return run(store, account, argc - k, argv + k);
}
