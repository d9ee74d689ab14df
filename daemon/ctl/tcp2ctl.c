/*
 * tcp2ctl - control tcp2d from the command line: one request over the
 * daemon's control socket, the answer printed for people (or raw with
 * --json), and an exit status scripts can trust.  "tcp2ctl events"
 * subscribes and prints the daemon's events as JSON lines until
 * interrupted.  "show" and "decrypt" exchange whole messages as open
 * files passed with the request (a memfd for the output; the mail to
 * decrypt as standard input itself when it is a regular file, else copied
 * into a memfd).  The protocol is in docs/CONTROL.md.
 *
 * What the daemon sends is printed with control characters replaced:
 * addresses and texts may come from mail written by strangers, and a
 * terminal must not take them for escape sequences.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "ctl.h"

#define EX_OK		0
#define EX_FAIL		1
#define EX_USAGE	2
#define ANSWER_TIMEOUT	30		/* seconds to wait for an answer */
#define PASSWORD_MAX	1024
#define MAIL_MAX	(64L << 20)	/* what decrypt passes, as the daemon */
#define ID_LEN		32		/* hex digits of a held mail's id */
#define ATT_CELL_MAX	40		/* attachment names beyond: a count */

static const char usage_text[] =
"usage: tcp2ctl [--control SOCK] [--json] COMMAND [ARGS]\n"
"\n"
"Control the TCP2 Mail daemon tcp2d.\n"
"\n"
"Commands:\n"
"  status                    show the daemon's state: version, backend,\n"
"                            queue, uptime, accounts, flows, counters\n"
"  account add --addr ADDR --pop3 HOST:PORT --smtp HOST:PORT\n"
"              [--user NAME] [--password-stdin] [--policy signed|strict]\n"
"              [--hold REASONS] [--attachments risky|all]\n"
"              [--keep plaintext|ciphertext] [--expire-days N]\n"
"                            add a mail account the daemon protects, or\n"
"                            change one; REASONS to hold incoming mail:\n"
"                            forged,changed,undecryptable,html,attachments\n"
"                            (the default), encrypted, unsigned, or none\n"
"  account list              one line per account: address, POP3, SMTP,\n"
"                            user, policy, fingerprint\n"
"  register [--cancel]       arm (or cancel) the registration of a new\n"
"                            account and print what to do next\n"
"  peers [--account ADDR]    one line per peer: account, address, state,\n"
"                            fingerprint, comparison code\n"
"  peer verify ADDR [--account ADDR]\n"
"                            mark a peer verified after comparing codes\n"
"  peer accept ADDR [--account ADDR]\n"
"                            accept a peer's changed identity\n"
"  peer reject ADDR [--account ADDR]\n"
"                            keep the old identity, drop the new one\n"
"  peer forget ADDR [--account ADDR]\n"
"                            delete everything known about a peer\n"
"  flows                     one line per captured connection: protocol,\n"
"                            client, server, state, bytes in>out each\n"
"                            way, retransmissions\n"
"  held [--account ADDR]     one line per mail held in quarantine: id,\n"
"                            date, sender, verification, encrypted, HTML,\n"
"                            attachments, subject, and why it is held\n"
"  receive ID [--strip-attachments]\n"
"                            release a held mail to your mail client (at\n"
"                            its next mail check), optionally without its\n"
"                            attachments\n"
"  discard ID                delete a held mail for good\n"
"  show ID [--summary]       print a held mail, decrypted (the whole\n"
"                            message; with --summary From, To, Date,\n"
"                            Subject, verification, attachments, text)\n"
"  decrypt [--summary] < MAIL.eml\n"
"                            decrypt and verify a mail your mail client\n"
"                            stored (at most 64 MiB) and print it\n"
"  events                    print the daemon's events as JSON lines as\n"
"                            they happen, until interrupted (Ctrl-C)\n"
"\n"
"Options:\n"
"  --control SOCK    the daemon's control socket (default "
TCP2_CTL_PATH ")\n"
"  --json            print the daemon's answer as the raw JSON line (for\n"
"                    show and decrypt: the message VIEW, docs/CONTROL.md)\n"
"  --password-stdin  (account add) read the password from standard input,\n"
"                    one line; asked for without echo on a terminal\n"
"  -h, --help        this text; COMMAND --help: that command's usage\n"
"\n"
"Examples:\n"
"  tcp2ctl held                          what waits for a decision\n"
"  tcp2ctl show 3f2a9c0d5e6b7a8190a1b2c3d4e5f607 | less\n"
"  tcp2ctl receive 3f2a9c0d5e6b7a8190a1b2c3d4e5f607 --strip-attachments\n"
"  tcp2ctl discard 3f2a9c0d5e6b7a8190a1b2c3d4e5f607\n"
"  tcp2ctl decrypt < ~/Mail/stored.eml > plain.eml\n"
"  tcp2ctl decrypt --summary < ~/Mail/stored.eml\n"
"\n"
"A held mail's ID is the 32 hex digits 'tcp2ctl held' shows.  A message\n"
"printed to a terminal has its control characters shown as '?';\n"
"redirected, it is written byte for byte.\n"
"\n"
"Exit status: 0 success; 1 the daemon refused (its reason on stderr), it\n"
"cannot be reached, or the connection broke; 2 usage error.\n";

static const char *ctl_path = TCP2_CTL_PATH;
static int raw_json;

/* What "show" and "decrypt" pass with the request and print. */
static int pass_fd[2];
static size_t npass;
static int out_fd = -1;		/* the memfd the daemon writes into */
static int summary;		/* --summary: the VIEW as text */

/* ---- messages ---- */

static void __attribute__((format(printf, 1, 2)))
warnx_(const char *fmt, ...)
{
	va_list ap;

	fputs("tcp2ctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void __attribute__((format(printf, 2, 3), noreturn))
usage_err(const char *cmd_usage, const char *fmt, ...)
{
	va_list ap;

	fputs("tcp2ctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (cmd_usage != NULL)
		fprintf(stderr, "usage: tcp2ctl %s\n", cmd_usage);
	fputs("Try 'tcp2ctl --help'.\n", stderr);
	exit(EX_USAGE);
}

/* Write s with C0 and C1 controls and DEL shown as '?'. */
static void
put_clean(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f)
			fputc('?', f);
		else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			fputc('?', f);
			p++;
		} else
			fputc(*p, f);
	}
}

/* ---- the connection ---- */

struct conn {
	int	 fd;
	char	*buf;		/* received, not yet returned */
	size_t	 len, cap;
};

static void __attribute__((noreturn))
unreachable(const char *why)
{
	warnx_("cannot reach tcp2d at %s: %s", ctl_path, why);
	exit(EX_FAIL);
}

static void
conn_open(struct conn *cn)
{
	struct sockaddr_un sun;

	memset(cn, 0, sizeof(*cn));
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(ctl_path) >= sizeof(sun.sun_path))
		unreachable("socket path too long");
	memcpy(sun.sun_path, ctl_path, strlen(ctl_path) + 1);
	/* Non-blocking: a hung daemon with a full backlog fails at once. */
	cn->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (cn->fd == -1)
		unreachable(strerror(errno));
	if (connect(cn->fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		if (errno == ENOENT || errno == ECONNREFUSED)
			warnx_("cannot reach tcp2d at %s: %s (is tcp2d "
			    "running?)", ctl_path, strerror(errno));
		else if (errno == EACCES)
			warnx_("cannot reach tcp2d at %s: %s (is your user "
			    "in the socket's group?)", ctl_path,
			    strerror(errno));
		else
			warnx_("cannot reach tcp2d at %s: %s", ctl_path,
			    strerror(errno));
		exit(EX_FAIL);
	}
}

static void
conn_close(struct conn *cn)
{
	(void)close(cn->fd);
	free(cn->buf);
	cn->buf = NULL;
	cn->len = cn->cap = 0;
}

/*
 * Send all of buf.  0, or -1 when the daemon closed the connection (it
 * may have said why in a line still to be read).
 */
static int
conn_send(struct conn *cn, const char *buf, size_t len)
{
	struct pollfd pfd;
	ssize_t n;
	int r;

	while (len > 0) {
		n = send(cn->fd, buf, len, MSG_NOSIGNAL);
		if (n >= 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		pfd.fd = cn->fd;
		pfd.events = POLLOUT;
		r = poll(&pfd, 1, ANSWER_TIMEOUT * 1000);
		if (r == 0) {
			warnx_("tcp2d at %s does not take the request",
			    ctl_path);
			exit(EX_FAIL);
		}
	}
	return 0;
}

/*
 * Send all of buf, the n descriptors fds with its first byte (section
 * 4.1): 0, or -1 as conn_send().
 */
static int
conn_send_fds(struct conn *cn, const char *buf, size_t len, const int *fds,
    size_t n)
{
	union {
		struct cmsghdr	h;
		char		b[CMSG_SPACE(2 * sizeof(int))];
	} cbuf;
	struct cmsghdr *cm;
	struct pollfd pfd;
	struct msghdr m;
	struct iovec iov;
	ssize_t w;

	if (n == 0)
		return conn_send(cn, buf, len);
	memset(&cbuf, 0, sizeof(cbuf));
	memset(&m, 0, sizeof(m));
	iov.iov_base = (void *)(uintptr_t)buf;
	iov.iov_len = len;
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = cbuf.b;
	m.msg_controllen = CMSG_SPACE(n * sizeof(int));
	cm = CMSG_FIRSTHDR(&m);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(n * sizeof(int));
	memcpy(CMSG_DATA(cm), fds, n * sizeof(int));
	for (;;) {
		w = sendmsg(cn->fd, &m, MSG_NOSIGNAL);
		if (w >= 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		pfd.fd = cn->fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, ANSWER_TIMEOUT * 1000) == 0) {
			warnx_("tcp2d at %s does not take the request",
			    ctl_path);
			exit(EX_FAIL);
		}
	}
	return conn_send(cn, buf + w, len - (size_t)w);
}

/*
 * The next line from the daemon without its LF, NUL-terminated, valid
 * until the next call; NULL at EOF.  timeout in seconds, -1 for none.
 */
static char *
conn_line(struct conn *cn, int timeout)
{
	static char *line;
	struct pollfd pfd;
	char *nl, *nb;
	size_t n;
	ssize_t r;

	free(line);
	line = NULL;
	for (;;) {
		if (cn->len > 0 &&
		    (nl = memchr(cn->buf, '\n', cn->len)) != NULL) {
			n = (size_t)(nl - cn->buf);
			if ((line = malloc(n + 1)) == NULL) {
				warnx_("out of memory");
				exit(EX_FAIL);
			}
			memcpy(line, cn->buf, n);
			line[n] = '\0';
			memmove(cn->buf, nl + 1, cn->len - n - 1);
			cn->len -= n + 1;
			return line;
		}
		if (cn->len > TCP2_CTL_OUT_LINE_MAX) {
			warnx_("tcp2d at %s sent a line longer than %u bytes",
			    ctl_path, TCP2_CTL_OUT_LINE_MAX);
			exit(EX_FAIL);
		}
		if (cn->cap - cn->len < 65536) {
			if ((nb = realloc(cn->buf, cn->cap + 65536)) == NULL) {
				warnx_("out of memory");
				exit(EX_FAIL);
			}
			cn->buf = nb;
			cn->cap += 65536;
		}
		r = recv(cn->fd, cn->buf + cn->len, cn->cap - cn->len, 0);
		if (r > 0) {
			cn->len += (size_t)r;
			continue;
		}
		if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR))
			return NULL;
		if (errno == EINTR)
			continue;
		pfd.fd = cn->fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, timeout < 0 ? -1 : timeout * 1000) == 0) {
			warnx_("tcp2d at %s did not answer within %d seconds",
			    ctl_path, timeout);
			exit(EX_FAIL);
		}
	}
}

/*
 * Send req as one line and return the parsed answer (the caller puts
 * it); *rawp gets the raw line.  Exits on a broken connection or an
 * answer that is not a JSON object.  The serialised request is wiped:
 * it may hold a password.
 */
static json_object *
request(struct conn *cn, json_object *req, const char **rawp)
{
	const char *s;
	char *line;
	size_t n;
	json_object *resp;
	int sent;

	s = json_object_to_json_string_length(req,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	if (s == NULL || n >= TCP2_CTL_LINE_MAX) {
		warnx_("request too large");
		exit(EX_FAIL);
	}
	/* The line and its LF in one go, so that descriptors come with
	 * this line's first byte and no other's. */
	if ((line = malloc(n + 1)) == NULL) {
		warnx_("out of memory");
		exit(EX_FAIL);
	}
	memcpy(line, s, n);
	line[n] = '\n';
	sent = conn_send_fds(cn, line, n + 1, pass_fd, npass) == 0;
	explicit_bzero(line, n + 1);
	free(line);
	explicit_bzero((char *)(uintptr_t)s, n);
	/* Even when the send failed the daemon may have said why. */
	if ((line = conn_line(cn, ANSWER_TIMEOUT)) == NULL) {
		warnx_("tcp2d at %s closed the connection%s", ctl_path,
		    sent ? "" : " before taking the request");
		exit(EX_FAIL);
	}
	resp = json_tokener_parse(line);
	if (resp == NULL || !json_object_is_type(resp, json_type_object)) {
		warnx_("tcp2d at %s sent a malformed answer", ctl_path);
		exit(EX_FAIL);
	}
	*rawp = line;
	return resp;
}

/* ---- printing ---- */

static int
resp_ok(json_object *resp)
{
	json_object *v;

	return json_object_object_get_ex(resp, "ok", &v) &&
	    json_object_get_boolean(v);
}

/* A scalar as people read it, into buf. */
static const char *
scalar(json_object *v, char *buf, size_t len)
{
	switch (json_object_get_type(v)) {
	case json_type_null:
		return "-";
	case json_type_boolean:
		return json_object_get_boolean(v) ? "yes" : "no";
	case json_type_string:
		return json_object_get_string(v);
	default:
		(void)snprintf(buf, len, "%s", json_object_to_json_string_ext(v,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		return buf;
	}
}

static int
is_scalar(json_object *v)
{
	return !json_object_is_type(v, json_type_object) &&
	    !json_object_is_type(v, json_type_array);
}

static void print_kv(const char *prefix, json_object *o);

/* One "key: value" line per scalar, nested keys joined by dots. */
static void
print_value(const char *key, json_object *v)
{
	char buf[256], sub[512];
	size_t i, n;
	int flat = 1;

	if (json_object_is_type(v, json_type_object)) {
		print_kv(key, v);
		return;
	}
	if (!json_object_is_type(v, json_type_array)) {
		put_clean(stdout, key);
		fputs(": ", stdout);
		put_clean(stdout, scalar(v, buf, sizeof(buf)));
		if (strcmp(key, "uptime") == 0 &&
		    json_object_is_type(v, json_type_int)) {
			int64_t s = json_object_get_int64(v);

			printf(" (%lldd %02lld:%02lld:%02lld)",
			    (long long)(s / 86400), (long long)(s / 3600 % 24),
			    (long long)(s / 60 % 60), (long long)(s % 60));
		}
		fputc('\n', stdout);
		return;
	}
	n = json_object_array_length(v);
	for (i = 0; i < n; i++)
		if (!is_scalar(json_object_array_get_idx(v, i)))
			flat = 0;
	if (flat) {
		put_clean(stdout, key);
		fputs(":", stdout);
		for (i = 0; i < n; i++) {
			fputs(i ? ", " : " ", stdout);
			put_clean(stdout, scalar(json_object_array_get_idx(v, i),
			    buf, sizeof(buf)));
		}
		fputc('\n', stdout);
		return;
	}
	for (i = 0; i < n; i++) {
		(void)snprintf(sub, sizeof(sub), "%s[%zu]", key, i);
		print_value(sub, json_object_array_get_idx(v, i));
	}
}

static void
print_kv(const char *prefix, json_object *o)
{
	char key[512];

	json_object_object_foreach(o, k, v) {
		if (prefix == NULL && (strcmp(k, "ok") == 0 ||
		    strcmp(k, "id") == 0))
			continue;
		if (prefix != NULL)
			(void)snprintf(key, sizeof(key), "%s.%s", prefix, k);
		else
			(void)snprintf(key, sizeof(key), "%s", k);
		print_value(key, v);
	}
}

/* Answers to actions: the daemon's hint or text first, then the rest. */
static void
print_action(json_object *resp)
{
	json_object *v, *rest = NULL;
	int said = 0;

	if (json_object_object_get_ex(resp, "hint", &v) &&
	    json_object_is_type(v, json_type_string)) {
		put_clean(stdout, json_object_get_string(v));
		fputc('\n', stdout);
		said = 1;
	}
	if (json_object_object_get_ex(resp, "text", &v) &&
	    json_object_is_type(v, json_type_string)) {
		put_clean(stdout, json_object_get_string(v));
		fputc('\n', stdout);
		said = 1;
	}
	if (json_object_deep_copy(resp, &rest, NULL) != 0) {
		warnx_("out of memory");
		exit(EX_FAIL);
	}
	json_object_object_del(rest, "hint");
	json_object_object_del(rest, "text");
	json_object_object_del(rest, "ok");
	json_object_object_del(rest, "id");
	if (json_object_object_length(rest) > 0)
		print_kv(NULL, rest);
	else if (!said)
		puts("done");
	json_object_put(rest);
}

/* A table column: header and how to get the cell from a row object. */
struct column {
	const char	*head;
	const char	*key;		/* the row's field */
	const char	*key2;		/* second field, after sep */
	const char	*sep;
	/* Or the cell made from the row, malloc'd (when set). */
	char		*(*fmt)(json_object *row);
};

/* The field key of o as text, "-" when missing. */
static const char *
cell_field(json_object *o, const char *key, char *buf, size_t len)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !is_scalar(v))
		return "-";
	return scalar(v, buf, len);
}

static char *
cell(json_object *row, const struct column *col)
{
	char a[128], b[128], *s;
	const char *x, *y;

	if (col->fmt != NULL)
		return col->fmt(row);
	x = cell_field(row, col->key, a, sizeof(a));
	if (col->key2 == NULL)
		s = strdup(x);
	else {
		y = cell_field(row, col->key2, b, sizeof(b));
		if (asprintf(&s, "%s%s%s", x, col->sep, y) == -1)
			s = NULL;
	}
	if (s == NULL) {
		warnx_("out of memory");
		exit(EX_FAIL);
	}
	return s;
}

/* Print resp[field] (an array of objects) as aligned columns. */
static void
print_table(json_object *resp, const char *field,
    const struct column *cols, size_t ncols, const char *none)
{
	json_object *arr;
	size_t i, j, nrows, w[16], l;
	char **cells;

	if (!json_object_object_get_ex(resp, field, &arr) ||
	    !json_object_is_type(arr, json_type_array)) {
		warnx_("tcp2d at %s sent no \"%s\" list", ctl_path, field);
		exit(EX_FAIL);
	}
	nrows = json_object_array_length(arr);
	if (nrows == 0) {
		puts(none);
		return;
	}
	if ((cells = calloc(nrows * ncols, sizeof(*cells))) == NULL) {
		warnx_("out of memory");
		exit(EX_FAIL);
	}
	for (j = 0; j < ncols; j++)
		w[j] = strlen(cols[j].head);
	for (i = 0; i < nrows; i++)
		for (j = 0; j < ncols; j++) {
			cells[i * ncols + j] = cell(json_object_array_get_idx(
			    arr, i), &cols[j]);
			if ((l = strlen(cells[i * ncols + j])) > w[j])
				w[j] = l;
		}
	for (j = 0; j < ncols; j++)
		printf("%-*s%s", j + 1 < ncols ? (int)w[j] : 0, cols[j].head,
		    j + 1 < ncols ? "  " : "\n");
	for (i = 0; i < nrows; i++)
		for (j = 0; j < ncols; j++) {
			/* Width counts bytes: good enough for the ASCII
			 * these fields mostly are. */
			put_clean(stdout, cells[i * ncols + j]);
			l = strlen(cells[i * ncols + j]);
			if (j + 1 < ncols)
				printf("%*s", (int)(w[j] - l + 2), "");
			else
				fputc('\n', stdout);
			free(cells[i * ncols + j]);
		}
	free(cells);
}

static void
print_accounts(json_object *resp)
{
	static const struct column cols[] = {
		{ "ADDRESS", "addr", NULL, NULL, NULL },
		{ "POP3", "pop3", NULL, NULL, NULL },
		{ "SMTP", "smtp", NULL, NULL, NULL },
		{ "USER", "user", NULL, NULL, NULL },
		{ "POLICY", "policy", NULL, NULL, NULL },
		{ "HOLD", "hold", NULL, NULL, NULL },
		{ "FINGERPRINT", "fingerprint", NULL, NULL, NULL },
	};

	print_table(resp, "accounts", cols, 7, "no accounts");
}

static void
print_peers(json_object *resp)
{
	static const struct column cols[] = {
		{ "ACCOUNT", "account", NULL, NULL, NULL },
		{ "PEER", "addr", NULL, NULL, NULL },
		{ "STATE", "state", NULL, NULL, NULL },
		{ "FINGERPRINT", "fingerprint", NULL, NULL, NULL },
		{ "CODE", "code", NULL, NULL, NULL },
	};

	print_table(resp, "peers", cols, 5, "no peers");
}

static void
print_flows(json_object *resp)
{
	static const struct column cols[] = {
		{ "PROTO", "proto", NULL, NULL, NULL },
		{ "CLIENT", "client", NULL, NULL, NULL },
		{ "SERVER", "server", NULL, NULL, NULL },
		{ "STATE", "state", NULL, NULL, NULL },
		{ "C>S IN>OUT", "c2s_in", "c2s_out", ">", NULL },
		{ "S>C IN>OUT", "s2c_in", "s2c_out", ">", NULL },
		{ "RETRANS", "retransmissions", NULL, NULL, NULL },
	};

	print_table(resp, "flows", cols, 7, "no flows");
}

static void
print_status(json_object *resp)
{
	print_kv(NULL, resp);
}

static char *
xstrdup(const char *s)
{
	char *d;

	if ((d = strdup(s)) == NULL) {
		warnx_("out of memory");
		exit(EX_FAIL);
	}
	return d;
}

/* Unix seconds in local time, "2026-11-24 10:00"; "-" when missing. */
static char *
cell_date(json_object *row)
{
	json_object *v;
	struct tm tm;
	time_t t;
	char buf[64];

	if (!json_object_object_get_ex(row, "time", &v) ||
	    !json_object_is_type(v, json_type_int))
		return xstrdup("-");
	t = (time_t)json_object_get_int64(v);
	if (localtime_r(&t, &tm) == NULL ||
	    strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M", &tm) == 0)
		return xstrdup("-");
	return xstrdup(buf);
}

/* The attachments' names, or their count when they do not fit. */
static char *
cell_attachments(json_object *row)
{
	json_object *arr, *a, *nm;
	char buf[ATT_CELL_MAX + 1], cnt[32];
	const char *name;
	size_t i, n, len = 0, l;

	if (!json_object_object_get_ex(row, "attachments", &arr) ||
	    !json_object_is_type(arr, json_type_array))
		return xstrdup("-");
	if ((n = json_object_array_length(arr)) == 0)
		return xstrdup("none");
	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		a = json_object_array_get_idx(arr, i);
		name = "";
		if (json_object_is_type(a, json_type_object) &&
		    json_object_object_get_ex(a, "name", &nm) &&
		    json_object_is_type(nm, json_type_string))
			name = json_object_get_string(nm);
		if (*name == '\0')
			name = "(unnamed)";
		l = strlen(name) + (i > 0 ? 2 : 0);
		if (len + l > ATT_CELL_MAX)
			break;
		(void)snprintf(buf + len, sizeof(buf) - len, "%s%s",
		    i > 0 ? ", " : "", name);
		len += l;
	}
	if (i == n)
		return xstrdup(buf);
	(void)snprintf(cnt, sizeof(cnt), "%zu file%s", n, n == 1 ? "" : "s");
	return xstrdup(cnt);
}

static void
print_held(json_object *resp)
{
	static const struct column cols[] = {
		{ "ID", "id", NULL, NULL, NULL },
		{ "DATE", NULL, NULL, NULL, cell_date },
		{ "SENDER", "sender", NULL, NULL, NULL },
		{ "VERIFICATION", "verification", NULL, NULL, NULL },
		{ "ENC", "encrypted", NULL, NULL, NULL },
		{ "HTML", "html", NULL, NULL, NULL },
		{ "ATTACHMENTS", NULL, NULL, NULL, cell_attachments },
		{ "SUBJECT", "subject", NULL, NULL, NULL },
		{ "REASON", "reason", NULL, NULL, NULL },
	};

	print_table(resp, "held", cols, 9, "no held mail");
}

/*
 * Write n bytes of a message for people.  On a terminal, controls other
 * than LF and TAB become '?' (a CR is dropped) and so do C1 controls in
 * UTF-8; *c2 carries a 0xc2 lead byte across calls.  Elsewhere the bytes
 * go out unchanged.
 */
static void
put_message(const unsigned char *p, size_t n, int tty, int *c2)
{
	size_t i;

	if (!tty) {
		(void)fwrite(p, 1, n, stdout);
		return;
	}
	for (i = 0; i < n; i++) {
		if (*c2) {
			*c2 = 0;
			if (p[i] >= 0x80 && p[i] <= 0x9f) {
				fputc('?', stdout);
				continue;
			}
			fputc(0xc2, stdout);
		}
		if (p[i] == 0xc2)
			*c2 = 1;
		else if (p[i] == '\r')
			;
		else if ((p[i] < 0x20 && p[i] != '\n' && p[i] != '\t') ||
		    p[i] == 0x7f)
			fputc('?', stdout);
		else
			fputc(p[i], stdout);
	}
}

/* A string of the daemon's as a message text (line breaks kept). */
static void
put_text(const char *s)
{
	int c2 = 0;

	put_message((const unsigned char *)s, strlen(s), 1, &c2);
	if (c2)
		fputc('?', stdout);
}

/* The VIEW of a message (docs/CONTROL.md) as text for people. */
static void
print_view(json_object *view)
{
	static const char *const heads[][2] = {
		{ "From", "from" }, { "To", "to" }, { "Cc", "cc" },
		{ "Date", "date" }, { "Subject", "subject" },
	};
	json_object *v, *arr, *a;
	char buf[128], tmp[64];
	size_t i, n;

	if (view == NULL || !json_object_is_type(view, json_type_object)) {
		warnx_("tcp2d at %s sent no \"message\"", ctl_path);
		exit(EX_FAIL);
	}
	for (i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
		if (!json_object_object_get_ex(view, heads[i][1], &v) ||
		    !is_scalar(v) || (strcmp(heads[i][1], "cc") == 0 &&
		    json_object_get_string_len(v) == 0))
			continue;
		printf("%s: ", heads[i][0]);
		put_clean(stdout, scalar(v, buf, sizeof(buf)));
		fputc('\n', stdout);
	}
	printf("Verification: %s",
	    cell_field(view, "verification", buf, sizeof(buf)));
	if (json_object_object_get_ex(view, "signer", &v) &&
	    json_object_is_type(v, json_type_string) &&
	    json_object_get_string_len(v) > 0) {
		fputs(" (signed by ", stdout);
		put_clean(stdout, json_object_get_string(v));
		fputc(')', stdout);
	}
	fputc('\n', stdout);
	printf("Encrypted: %s\n", cell_field(view, "encrypted", tmp,
	    sizeof(tmp)));
	printf("HTML: %s\n", cell_field(view, "html", tmp, sizeof(tmp)));
	if (json_object_object_get_ex(view, "attachments", &arr) &&
	    json_object_is_type(arr, json_type_array) &&
	    (n = json_object_array_length(arr)) > 0) {
		printf("Attachments: %zu\n", n);
		for (i = 0; i < n; i++) {
			a = json_object_array_get_idx(arr, i);
			fputs("  ", stdout);
			put_clean(stdout, cell_field(a, "name", buf,
			    sizeof(buf)));
			printf(" (%s, ", cell_field(a, "type", tmp,
			    sizeof(tmp)));
			printf("%s bytes)\n", cell_field(a, "size", buf,
			    sizeof(buf)));
		}
	} else
		puts("Attachments: none");
	fputc('\n', stdout);
	if (json_object_object_get_ex(view, "text", &v) &&
	    json_object_is_type(v, json_type_string)) {
		put_text(json_object_get_string(v));
		if (json_object_get_string_len(v) > 0 &&
		    json_object_get_string(v)[json_object_get_string_len(v) -
		    1] != '\n')
			fputc('\n', stdout);
	}
	if (json_object_object_get_ex(view, "text_truncated", &v) &&
	    json_object_get_boolean(v))
		puts("[the text goes on: only its first part was shown]");
}

/* "show" and "decrypt": the VIEW with --summary, else the whole message
 * the daemon wrote into our memfd. */
static void
print_message(json_object *resp)
{
	unsigned char buf[65536];
	int tty, c2 = 0;
	size_t total = 0;
	ssize_t n;

	if (summary) {
		print_view(json_object_object_get(resp, "message"));
		return;
	}
	if (lseek(out_fd, 0, SEEK_SET) == -1) {
		warnx_("the decrypted message: %s", strerror(errno));
		exit(EX_FAIL);
	}
	tty = isatty(STDOUT_FILENO);
	while ((n = read(out_fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			warnx_("the decrypted message: %s", strerror(errno));
			exit(EX_FAIL);
		}
		put_message(buf, (size_t)n, tty, &c2);
		total += (size_t)n;
	}
	if (total == 0) {
		warnx_("tcp2d at %s wrote no message", ctl_path);
		exit(EX_FAIL);
	}
	if (c2)
		fputc('?', stdout);
}

/* ---- commands ---- */

struct cmd;
typedef void (*build_fn)(const struct cmd *, int, char **, json_object *);

struct cmd {
	const char	*word1, *word2;	/* "peer", "verify" */
	const char	*wire;		/* the request's "cmd" */
	const char	*usage;
	build_fn	 build;
	void		(*print)(json_object *);
};

static void
add_str(json_object *req, const char *key, const char *val)
{
	json_object *s;

	if ((s = json_object_new_string(val)) == NULL ||
	    json_object_object_add(req, key, s) != 0) {
		warnx_("out of memory");
		exit(EX_FAIL);
	}
}

/* Options a command takes beyond its words: only --account, --cancel
 * or the account add set, told apart by the option table. */
static const struct option acct_opts[] = {
	{ "account", required_argument, NULL, 'a' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static void __attribute__((noreturn))
cmd_help(const struct cmd *c)
{
	printf("usage: tcp2ctl %s\n", c->usage);
	exit(EX_OK);
}

/* Parse the options of a command that takes at most --account and npos
 * positional arguments (stored in pos[]). */
static void
simple_opts(const struct cmd *c, int argc, char **argv, json_object *req,
    int npos, const char **pos, int cancel_ok)
{
	static const struct option reg_opts[] = {
		{ "cancel", no_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int ch, n;

	optind = 0;
	opterr = 0;
	/* Options may follow the address: "peer verify A --account B". */
	while ((ch = getopt_long(argc, argv, ":h",
	    cancel_ok ? reg_opts : acct_opts, NULL)) != -1) {
		switch (ch) {
		case 'a':
			if (cancel_ok)
				goto bad;
			add_str(req, "account", optarg);
			break;
		case 'c':
			json_object_object_add(req, "cancel",
			    json_object_new_boolean(1));
			break;
		case 'h':
			cmd_help(c);
		case ':':
			usage_err(c->usage, "option %s needs a value",
			    argv[optind - 1]);
		default:
		bad:
			usage_err(c->usage, "unknown option %s",
			    argv[optind - 1]);
		}
	}
	n = argc - optind;
	if (n != npos)
		usage_err(c->usage, n < npos ? "missing argument" :
		    "too many arguments");
	for (n = 0; n < npos; n++)
		pos[n] = argv[optind + n];
}

static void
build_plain(const struct cmd *c, int argc, char **argv, json_object *req)
{
	simple_opts(c, argc, argv, req, 0, NULL, 0);
	/* No --account for these: it was only parsed to be refused. */
	if (json_object_object_get_ex(req, "account", NULL) &&
	    strcmp(c->wire, "peers") != 0 && strcmp(c->wire, "held") != 0)
		usage_err(c->usage, "unknown option --account");
}

static void
build_register(const struct cmd *c, int argc, char **argv,
    json_object *req)
{
	simple_opts(c, argc, argv, req, 0, NULL, 1);
}

static void
build_peer(const struct cmd *c, int argc, char **argv, json_object *req)
{
	const char *addr;

	simple_opts(c, argc, argv, req, 1, &addr, 0);
	if (strchr(addr, '@') == NULL)
		usage_err(c->usage, "not a mail address: %s", addr);
	add_str(req, "addr", addr);
}

/* HOST:PORT or [V6]:PORT with a port in 1..65535. */
static int
valid_endpoint(const char *s)
{
	const char *colon = strrchr(s, ':'), *p;
	unsigned long port;
	char *end;

	if (colon == NULL || colon == s || colon[1] == '\0')
		return 0;
	for (p = colon + 1; *p != '\0'; p++)
		if (*p < '0' || *p > '9')
			return 0;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno != 0 || port == 0 || port > 65535)
		return 0;
	if (s[0] == '[')
		return colon[-1] == ']' && colon - s > 2;
	for (p = s; p < colon; p++)
		if (*p == ':' || *p == ' ' || *p == '/' || *p == '[')
			return 0;
	return 1;
}

/* One line of password from stdin, without echo on a terminal. */
static void
read_password(const char *addr, char *pw, size_t len)
{
	struct termios old, quiet;
	int tty = isatty(STDIN_FILENO), noecho = 0;
	size_t n;

	if (tty) {
		fprintf(stderr, "Password for %s: ", addr);
		fflush(stderr);
		if (tcgetattr(STDIN_FILENO, &old) == 0) {
			quiet = old;
			quiet.c_lflag &= ~(tcflag_t)ECHO;
			noecho = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
		}
	}
	if (fgets(pw, (int)len, stdin) == NULL)
		pw[0] = '\0';
	if (noecho) {
		(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	n = strlen(pw);
	if (n > 0 && pw[n - 1] != '\n' && !feof(stdin)) {
		explicit_bzero(pw, len);
		warnx_("password longer than %d bytes", PASSWORD_MAX - 2);
		exit(EX_FAIL);
	}
	pw[strcspn(pw, "\r\n")] = '\0';
	if (pw[0] == '\0') {
		warnx_("no password on standard input");
		exit(EX_FAIL);
	}
}

static void
build_account_add(const struct cmd *c, int argc, char **argv,
    json_object *req)
{
	static const struct option opts[] = {
		{ "addr", required_argument, NULL, 'a' },
		{ "pop3", required_argument, NULL, 'p' },
		{ "smtp", required_argument, NULL, 's' },
		{ "user", required_argument, NULL, 'u' },
		{ "password-stdin", no_argument, NULL, 'P' },
		{ "policy", required_argument, NULL, 'y' },
		{ "hold", required_argument, NULL, 'H' },
		{ "attachments", required_argument, NULL, 'A' },
		{ "keep", required_argument, NULL, 'K' },
		{ "expire-days", required_argument, NULL, 'E' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *addr = NULL, *pop3 = NULL, *smtp = NULL;
	char pw[PASSWORD_MAX];
	int ch, want_pw = 0;

	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (ch) {
		case 'a':
			addr = optarg;
			break;
		case 'p':
			pop3 = optarg;
			break;
		case 's':
			smtp = optarg;
			break;
		case 'u':
			add_str(req, "user", optarg);
			break;
		case 'P':
			want_pw = 1;
			break;
		case 'y':
			if (strcmp(optarg, "signed") != 0 &&
			    strcmp(optarg, "strict") != 0)
				usage_err(c->usage, "policy must be signed or "
				    "strict, not %s", optarg);
			add_str(req, "policy", optarg);
			break;
		case 'H':
			add_str(req, "hold", optarg);
			break;
		case 'A':
			if (strcmp(optarg, "risky") != 0 &&
			    strcmp(optarg, "all") != 0)
				usage_err(c->usage, "--attachments must be "
				    "risky or all, not %s", optarg);
			add_str(req, "attachments", optarg);
			break;
		case 'K':
			if (strcmp(optarg, "plaintext") != 0 &&
			    strcmp(optarg, "ciphertext") != 0)
				usage_err(c->usage, "--keep must be plaintext "
				    "or ciphertext, not %s", optarg);
			add_str(req, "keep", optarg);
			break;
		case 'E': {
			char *end;
			long v = strtol(optarg, &end, 10);

			if (*optarg == '\0' || *end != '\0' || v < 1 ||
			    v > 3650)
				usage_err(c->usage, "--expire-days wants 1 to "
				    "3650, not %s", optarg);
			json_object_object_add(req, "expire_days",
			    json_object_new_int64(v));
			break;
		}
		case 'h':
			cmd_help(c);
		case ':':
			usage_err(c->usage, "option %s needs a value",
			    argv[optind - 1]);
		default:
			usage_err(c->usage, "unknown option %s",
			    argv[optind - 1]);
		}
	}
	if (optind != argc)
		usage_err(c->usage, "unexpected argument %s", argv[optind]);
	if (addr == NULL || pop3 == NULL || smtp == NULL)
		usage_err(c->usage, "--addr, --pop3 and --smtp are required");
	if (strchr(addr, '@') == NULL || strpbrk(addr, " \t<>") != NULL)
		usage_err(c->usage, "not a mail address: %s", addr);
	if (!valid_endpoint(pop3))
		usage_err(c->usage, "--pop3 wants HOST:PORT, not %s", pop3);
	if (!valid_endpoint(smtp))
		usage_err(c->usage, "--smtp wants HOST:PORT, not %s", smtp);
	add_str(req, "addr", addr);
	add_str(req, "pop3", pop3);
	add_str(req, "smtp", smtp);
	if (want_pw) {
		read_password(addr, pw, sizeof(pw));
		add_str(req, "password", pw);
		/* json-c's copy is wiped before the request is freed. */
		explicit_bzero(pw, sizeof(pw));
	}
}

/*
 * The options of receive, discard, show and decrypt: --strip-attachments
 * (receive), --summary (show, decrypt), and the held mail's ID when the
 * command takes one (stored lowercase in req).
 */
static void
held_opts(const struct cmd *c, int argc, char **argv, json_object *req)
{
	static const struct option opts[] = {
		{ "strip-attachments", no_argument, NULL, 's' },
		{ "summary", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int ch, want_id = strcmp(c->wire, "decrypt") != 0;
	char id[ID_LEN + 1];
	size_t i;

	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			if (strcmp(c->wire, "receive") != 0)
				goto bad;
			json_object_object_add(req, "strip_attachments",
			    json_object_new_boolean(1));
			break;
		case 'S':
			if (strcmp(c->wire, "show") != 0 &&
			    strcmp(c->wire, "decrypt") != 0)
				goto bad;
			summary = 1;
			break;
		case 'h':
			cmd_help(c);
		case ':':
			usage_err(c->usage, "option %s needs a value",
			    argv[optind - 1]);
		default:
		bad:
			usage_err(c->usage, "unknown option %s",
			    argv[optind - 1]);
		}
	}
	if (argc - optind != want_id)
		usage_err(c->usage, argc - optind < want_id ?
		    "missing ID (see 'tcp2ctl held')" : "too many arguments");
	if (!want_id)
		return;
	if (strlen(argv[optind]) != ID_LEN)
		usage_err(c->usage, "malformed ID %s: not %d hex digits",
		    argv[optind], ID_LEN);
	for (i = 0; i < ID_LEN; i++) {
		if (!isxdigit((unsigned char)argv[optind][i]))
			usage_err(c->usage, "malformed ID %s: not %d hex "
			    "digits", argv[optind], ID_LEN);
		id[i] = (char)tolower((unsigned char)argv[optind][i]);
	}
	id[ID_LEN] = '\0';
	add_str(req, "id", id);
}

/* A memfd for the daemon to write the whole message into. */
static void
want_output(void)
{
	if ((out_fd = memfd_create("tcp2ctl-message", MFD_CLOEXEC)) == -1) {
		warnx_("memfd_create: %s", strerror(errno));
		exit(EX_FAIL);
	}
	pass_fd[npass++] = out_fd;
}

static void
build_held_action(const struct cmd *c, int argc, char **argv,
    json_object *req)
{
	held_opts(c, argc, argv, req);
}

static void
build_show(const struct cmd *c, int argc, char **argv, json_object *req)
{
	held_opts(c, argc, argv, req);
	if (!raw_json && !summary)
		want_output();
}

/*
 * Standard input as the mail to decrypt: itself when it is a regular file
 * read from its start (the daemon reads it where it lies), else copied
 * into a memfd, at most MAIL_MAX bytes either way.
 */
static int
mail_input(void)
{
	char buf[65536];
	struct stat sb;
	off_t total = 0;
	ssize_t n;
	int fd, fl;

	if (fstat(STDIN_FILENO, &sb) == -1 ||
	    (fl = fcntl(STDIN_FILENO, F_GETFL)) == -1) {
		warnx_("standard input: %s", strerror(errno));
		exit(EX_FAIL);
	}
	if (S_ISREG(sb.st_mode) && (fl & O_ACCMODE) != O_WRONLY &&
	    lseek(STDIN_FILENO, 0, SEEK_CUR) == 0) {
		if (sb.st_size > MAIL_MAX) {
			warnx_("standard input: a mail of %lld bytes is larger "
			    "than decrypt takes (64 MiB)",
			    (long long)sb.st_size);
			exit(EX_FAIL);
		}
		return STDIN_FILENO;
	}
	if ((fd = memfd_create("tcp2ctl-mail", MFD_CLOEXEC)) == -1) {
		warnx_("memfd_create: %s", strerror(errno));
		exit(EX_FAIL);
	}
	while ((n = read(STDIN_FILENO, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			warnx_("standard input: %s", strerror(errno));
			exit(EX_FAIL);
		}
		if ((total += n) > MAIL_MAX) {
			warnx_("standard input: the mail is larger than "
			    "decrypt takes (64 MiB)");
			exit(EX_FAIL);
		}
		if (write(fd, buf, (size_t)n) != n) {
			warnx_("memfd: %s", strerror(errno));
			exit(EX_FAIL);
		}
	}
	if (total == 0) {
		warnx_("standard input: no mail (tcp2ctl decrypt < FILE)");
		exit(EX_FAIL);
	}
	return fd;
}

static void
build_decrypt(const struct cmd *c, int argc, char **argv, json_object *req)
{
	held_opts(c, argc, argv, req);
	if (isatty(STDIN_FILENO))
		usage_err(c->usage, "the mail comes on standard input, not "
		    "from a terminal");
	pass_fd[npass++] = mail_input();
	if (!raw_json && !summary)
		want_output();
}

static const struct cmd cmds[] = {
	{ "status", NULL, "status", "status", build_plain, print_status },
	{ "account", "add", "account-add",
	    "account add --addr ADDR --pop3 HOST:PORT --smtp HOST:PORT "
	    "[--user NAME] [--password-stdin] [--policy signed|strict] "
	    "[--hold REASONS] [--attachments risky|all] "
	    "[--keep plaintext|ciphertext] [--expire-days N]",
	    build_account_add, print_action },
	{ "account", "list", "account-list", "account list", build_plain,
	    print_accounts },
	{ "register", NULL, "register", "register [--cancel]",
	    build_register, print_action },
	{ "peers", NULL, "peers", "peers [--account ADDR]", build_plain,
	    print_peers },
	{ "peer", "verify", "peer-verify", "peer verify ADDR [--account ADDR]",
	    build_peer, print_action },
	{ "peer", "accept", "peer-accept", "peer accept ADDR [--account ADDR]",
	    build_peer, print_action },
	{ "peer", "reject", "peer-reject", "peer reject ADDR [--account ADDR]",
	    build_peer, print_action },
	{ "peer", "forget", "peer-forget", "peer forget ADDR [--account ADDR]",
	    build_peer, print_action },
	{ "flows", NULL, "flows", "flows", build_plain, print_flows },
	{ "held", NULL, "held", "held [--account ADDR]", build_plain,
	    print_held },
	{ "receive", NULL, "receive", "receive ID [--strip-attachments]",
	    build_held_action, print_action },
	{ "discard", NULL, "discard", "discard ID", build_held_action,
	    print_action },
	{ "show", NULL, "show", "show ID [--summary]", build_show,
	    print_message },
	{ "decrypt", NULL, "decrypt", "decrypt [--summary] < MAIL.eml",
	    build_decrypt, print_message },
	{ "events", NULL, "subscribe", "events", build_plain, NULL },
};

/* Find the command named by argv[0] (and argv[1]); *words gets how many
 * words its name has. */
static const struct cmd *
find_cmd(int argc, char **argv, int *words)
{
	size_t i;
	int group = 0;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[0], cmds[i].word1) != 0)
			continue;
		if (cmds[i].word2 == NULL) {
			*words = 1;
			return &cmds[i];
		}
		group = 1;
		if (argc > 1 && strcmp(argv[1], cmds[i].word2) == 0) {
			*words = 2;
			return &cmds[i];
		}
	}
	/* "peer-verify" and friends: the wire names work too. */
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (cmds[i].word2 != NULL &&
		    strcmp(argv[0], cmds[i].wire) == 0) {
			*words = 1;
			return &cmds[i];
		}
	if (group)
		usage_err(NULL, "%s: missing or unknown subcommand%s%s",
		    argv[0], argc > 1 ? " " : "", argc > 1 ? argv[1] : "");
	usage_err(NULL, "unknown command %s", argv[0]);
}

/* "events": subscribe, then copy event lines to stdout until EOF. */
static int
run_events(struct conn *cn, json_object *req)
{
	json_object *resp, *ev;
	const char *raw;
	char *line;

	resp = request(cn, req, &raw);
	if (!resp_ok(resp)) {
		warnx_("%s", json_object_get_string(json_object_object_get(
		    resp, "error")));
		json_object_put(resp);
		return EX_FAIL;
	}
	json_object_put(resp);
	for (;;) {
		if ((line = conn_line(cn, -1)) == NULL) {
			warnx_("tcp2d at %s went away", ctl_path);
			return EX_FAIL;
		}
		/* Only events: answers have no "event" key. */
		ev = json_tokener_parse(line);
		if (ev != NULL && json_object_is_type(ev, json_type_object) &&
		    json_object_object_get_ex(ev, "event", NULL)) {
			put_clean(stdout, line);
			fputc('\n', stdout);
			if (fflush(stdout) == EOF) {
				json_object_put(ev);
				return EX_FAIL;
			}
		}
		json_object_put(ev);
	}
}

/* Wipe a "password" string inside req before it is freed. */
static void
wipe_password(json_object *req)
{
	json_object *v;

	if (json_object_object_get_ex(req, "password", &v) &&
	    json_object_is_type(v, json_type_string))
		explicit_bzero((char *)(uintptr_t)json_object_get_string(v),
		    (size_t)json_object_get_string_len(v));
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "control", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const struct cmd *c;
	json_object *req, *resp, *e;
	struct conn cn;
	const char *raw;
	int ch, words, rc;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			ctl_path = optarg;
			break;
		case 'j':
			raw_json = 1;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return EX_OK;
		case ':':
			usage_err(NULL, "option %s needs a value",
			    argv[optind - 1]);
		default:
			usage_err(NULL, "unknown option %s", argv[optind - 1]);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		usage_err(NULL, "no command");
	if (strcmp(argv[0], "help") == 0) {
		fputs(usage_text, stdout);
		return EX_OK;
	}
	c = find_cmd(argc, argv, &words);
	if ((req = json_object_new_object()) == NULL) {
		warnx_("out of memory");
		return EX_FAIL;
	}
	add_str(req, "cmd", c->wire);
	/* The command's own argv starts at its last name word. */
	c->build(c, argc - words + 1, argv + words - 1, req);

	conn_open(&cn);
	if (c->print == NULL) {
		rc = run_events(&cn, req);
		conn_close(&cn);
		json_object_put(req);
		return rc;
	}
	resp = request(&cn, req, &raw);
	wipe_password(req);
	json_object_put(req);
	conn_close(&cn);
	if (raw_json) {
		puts(raw);
		rc = resp_ok(resp) ? EX_OK : EX_FAIL;
	} else if (resp_ok(resp)) {
		c->print(resp);
		rc = EX_OK;
	} else {
		fputs("tcp2ctl: ", stderr);
		if (json_object_object_get_ex(resp, "error", &e) &&
		    json_object_is_type(e, json_type_string))
			put_clean(stderr, json_object_get_string(e));
		else
			fputs("tcp2d refused the request", stderr);
		fputc('\n', stderr);
		rc = EX_FAIL;
	}
	json_object_put(resp);
	if (fflush(stdout) == EOF) {
		warnx_("standard output: %s", strerror(errno));
		rc = EX_FAIL;
	}
	return rc;
}
