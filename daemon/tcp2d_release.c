/*
 * tcp2d_release.c - held mail the user decided on: Receive re-delivers it
 * to the account's own mailbox through the account's SMTP server, Discard
 * and expiry delete it (docs/HOLD.md).
 *
 * Re-delivery is the original as the server once delivered it, with an
 * X-TCP2-Release field in front whose token only this host can make
 * (hold.h); when the mail client fetches it, the POP3 rewriter hands it
 * the quarantined copy instead, not held again.  The server sees nothing
 * it had not seen before: encrypted mail goes back encrypted.
 *
 * Each re-delivery runs in a child process doing plain blocking SMTP with
 * timeouts, so the daemon's single-threaded loop never waits on a server;
 * the child's connection carries TCP2_MARK and is not captured.  The
 * child reports one line on a pipe: "ok" or the reason it failed.  A
 * decision survives a restart: entries still "releasing" are sent again
 * at start (a duplicate is possible, a loss is not).
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base64.h"
#include "error.h"
#include "fdio.h"
#include "hold.h"
#include "inject.h"
#include "quarantine.h"
#include "tcp2d.h"

#define REL_TIMEOUT	60		/* seconds per SMTP reply */
#define REL_LINE_MAX	1024

/* ---- the child: one SMTP transaction ---- */

/* Read one reply (all its lines); its code, or -1.  *plain (if not
 * NULL) is set when a line offers AUTH PLAIN (the EHLO reply). */
static int
rel_reply(FILE *in, char *last, size_t lastlen, int *plain)
{
	char line[REL_LINE_MAX];
	size_t n;

	for (;;) {
		if (fgets(line, sizeof(line), in) == NULL)
			return -1;
		n = strlen(line);
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		snprintf(last, lastlen, "%s", line);
		if (plain != NULL && n > 8 && strncasecmp(line + 4, "AUTH",
		    4) == 0 && strcasestr(line + 8, "PLAIN") != NULL)
			*plain = 1;
		if (n < 3 || line[0] < '1' || line[0] > '5')
			return -1;
		if (n == 3 || line[3] == ' ')
			return (line[0] - '0') * 100 + (line[1] - '0') * 10 +
			    (line[2] - '0');
	}
}

static int
rel_cmd_plain(int fd, FILE *in, const char *cmd, int want, char *err,
    size_t errlen, int *plain)
{
	int code;

	if (cmd != NULL && tcp2_write_all(fd, cmd, strlen(cmd)) != 0) {
		snprintf(err, errlen, "writing to the server failed");
		return -1;
	}
	code = rel_reply(in, err, errlen, plain);
	if (code / 100 != want / 100) {
		if (code < 0)
			snprintf(err, errlen, "no reply from the server");
		return -1;
	}
	return 0;
}

static int
rel_cmd(int fd, FILE *in, const char *cmd, int want, char *err,
    size_t errlen)
{
	return rel_cmd_plain(fd, in, cmd, want, err, errlen, NULL);
}

/* AUTH PLAIN with the account's login (RFC 4616), when it has one. */
static int
rel_auth(int fd, FILE *in, const char *user, const char *pass, char *err,
    size_t errlen)
{
	char raw[TCP2_USER_MAX + TCP2_PASSWORD_MAX + 2];
	char cmd[(sizeof(raw) + 2) / 3 * 4 + 16];
	size_t ul = strlen(user), pl = strlen(pass), n;
	int rc;

	raw[0] = '\0';
	memcpy(raw + 1, user, ul);
	raw[1 + ul] = '\0';
	memcpy(raw + 2 + ul, pass, pl);
	memcpy(cmd, "AUTH PLAIN ", 11);
	tcp2_b64_encode(cmd + 11, (const uint8_t *)raw, 2 + ul + pl);
	n = strlen(cmd);
	memcpy(cmd + n, "\r\n", 3);
	rc = rel_cmd(fd, in, cmd, 235, err, errlen);
	explicit_bzero(raw, sizeof(raw));
	explicit_bzero(cmd, sizeof(cmd));
	return rc;
}

/* The message with dots stuffed and CRLF line ends, then the end. */
static int
rel_data(int fd, const uint8_t *m, size_t n)
{
	size_t i = 0, k;
	const uint8_t *nl;

	while (i < n) {
		nl = memchr(m + i, '\n', n - i);
		k = nl ? (size_t)(nl - (m + i)) : n - i;
		if (k > 0 && m[i + k - 1] == '\r')
			k--;
		if ((m[i] == '.' && tcp2_write_all(fd, ".", 1) != 0) ||
		    tcp2_write_all(fd, m + i, k) != 0 ||
		    tcp2_write_all(fd, "\r\n", 2) != 0)
			return -1;
		i += nl ? (size_t)(nl - (m + i)) + 1 : n - i;
	}
	return tcp2_write_all(fd, ".\r\n", 3) != 0 ? -1 : 0;
}

static int
rel_connect(const char *hostport, char *err, size_t errlen)
{
	struct addrinfo hints, *res, *ai;
	struct timeval tv = { REL_TIMEOUT, 0 };
	char host[TCP2_ENDPOINT_MAX + 1], *port;
	unsigned int mark = TCP2_MARK_OWN;
	int fd = -1;

	if (strlen(hostport) >= sizeof(host)) {
		snprintf(err, errlen, "bad SMTP server");
		return -1;
	}
	memcpy(host, hostport, strlen(hostport) + 1);
	if ((port = strrchr(host, ':')) == NULL) {
		snprintf(err, errlen, "bad SMTP server %s", hostport);
		return -1;
	}
	*port++ = '\0';
	if (host[0] == '[' && port - host >= 3 && port[-2] == ']') {
		port[-2] = '\0';
		memmove(host, host + 1, strlen(host + 1) + 1);
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, port, &hints, &res) != 0) {
		snprintf(err, errlen, "cannot resolve %s", hostport);
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		/* Our own connection: the capture must not take it. */
		if (setsockopt(fd, SOL_SOCKET, SO_MARK, &mark,
		    sizeof(mark)) == 0 &&
		    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
		    sizeof(tv)) == 0 &&
		    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv,
		    sizeof(tv)) == 0 &&
		    connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		snprintf(err, errlen, "cannot connect to %s: %s", hostport,
		    strerror(errno));
	return fd;
}

/* The whole transaction; 0, or -1 with the reason in err. */
static int
rel_smtp(const struct tcp2_account *a, const uint8_t *m, size_t n,
    char *err, size_t errlen)
{
	const char *server = a->smtp, *addr = a->addr;
	char cmd[TCP2_ADDR_MAX + 32];
	FILE *in;
	int fd, rc = -1, dup_fd, plain = 0;

	if ((fd = rel_connect(server, err, errlen)) < 0)
		return -1;
	if ((dup_fd = dup(fd)) < 0 || (in = fdopen(dup_fd, "r")) == NULL) {
		snprintf(err, errlen, "out of resources");
		close(fd);
		return -1;
	}
	if (rel_cmd(fd, in, NULL, 220, err, errlen) != 0 ||
	    rel_cmd_plain(fd, in, "EHLO localhost\r\n", 250, err, errlen,
	    &plain) != 0)
		goto out;
	/* The server asks for a login: the account's (POP3) one is the
	 * user's mailbox login at most providers. */
	if (plain && a->user[0] && a->password[0] &&
	    rel_auth(fd, in, a->user, a->password, err, errlen) != 0)
		goto out;
	snprintf(cmd, sizeof(cmd), "MAIL FROM:<%s>\r\n", addr);
	if (rel_cmd(fd, in, cmd, 250, err, errlen) != 0)
		goto out;
	snprintf(cmd, sizeof(cmd), "RCPT TO:<%s>\r\n", addr);
	if (rel_cmd(fd, in, cmd, 250, err, errlen) != 0 ||
	    rel_cmd(fd, in, "DATA\r\n", 354, err, errlen) != 0)
		goto out;
	if (rel_data(fd, m, n) != 0) {
		snprintf(err, errlen, "sending the mail failed");
		goto out;
	}
	if (rel_cmd(fd, in, NULL, 250, err, errlen) != 0)
		goto out;
	(void)rel_cmd(fd, in, "QUIT\r\n", 221, err, errlen);
	rc = 0;
out:
	fclose(in);
	close(fd);
	return rc;
}

/* ---- the daemon side ---- */

static void
rel_event(struct tcp2d *d, const struct tcp2_held *h, const char *type,
    const char *text, const char *k1, const char *v1)
{
	const char *f[] = { "account", h->account, "id", h->id, k1, v1,
	    NULL };

	tcp2d_event(d, type, text, f);
}

int
tcp2d_release_start(struct tcp2d *d, struct tcp2_held *h, char *err,
    size_t errlen)
{
	struct tcp2_store *st = tcp2_state_store(d->state);
	const struct tcp2_account *a = tcp2_state_account(d->state,
	    h->account);
	char tok[TCP2_HOLD_TOKEN_LEN], field[128];
	struct tcp2d_release *r = NULL;
	uint8_t *m = NULL, *msg;
	size_t ml, n, i, fl;
	int p[2], rc;
	pid_t pid;

	for (i = 0; i < TCP2D_MAX_RELEASES; i++)
		if (d->rel[i].pid == 0 && r == NULL)
			r = &d->rel[i];
		else if (d->rel[i].pid != 0 &&
		    strcmp(d->rel[i].id, h->id) == 0)
			return snprintf(err, errlen, "%s: already being "
			    "released", h->id), -1;
	if (a == NULL)
		return snprintf(err, errlen, "the account %s is gone",
		    h->account), -1;
	if (r == NULL)
		return snprintf(err, errlen, "too many releases under way; "
		    "try again in a minute"), -1;
	if ((rc = tcp2_hold_token(a->ed_sec, h->id, tok)) != 0 ||
	    (rc = tcp2_quarantine_mail(st, h->id, TCP2_HELD_ORIG, &m, &ml)))
		return snprintf(err, errlen, "reading the held mail: %s",
		    tcp2_strerror(rc)), -1;
	fl = (size_t)snprintf(field, sizeof(field), TCP2_HOLD_TOKEN_FIELD
	    ": %s %s\r\n", h->id, tok);
	n = fl + ml;
	if ((msg = malloc(n)) == NULL) {
		tcp2_store_free(m, ml);
		return snprintf(err, errlen, "out of memory"), -1;
	}
	memcpy(msg, field, fl);
	memcpy(msg + fl, m, ml);
	tcp2_store_free(m, ml);
	h->state = TCP2_HELD_RELEASING;
	if ((rc = tcp2_quarantine_update(st, h)) != 0 || pipe2(p,
	    O_CLOEXEC) != 0) {
		free(msg);
		return snprintf(err, errlen, "recording the decision: %s",
		    rc ? tcp2_strerror(rc) : strerror(errno)), -1;
	}
	if ((pid = fork()) < 0) {
		free(msg);
		close(p[0]);
		close(p[1]);
		return snprintf(err, errlen, "fork: %s", strerror(errno)), -1;
	}
	if (pid == 0) {
		char why[REL_LINE_MAX] = "";

		/* Nothing of the daemon's but the report pipe: above all not
		 * the store's lock, which a restarted daemon needs. */
		close(p[0]);
		if (p[1] != 3 && dup2(p[1], 3) < 0)
			_exit(1);
		p[1] = 3;
		close_range(4, ~0U, 0);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		if (rel_smtp(a, msg, n, why, sizeof(why)) == 0)
			snprintf(why, sizeof(why), "ok");
		(void)tcp2_write_all(p[1], why, strlen(why));
		_exit(0);
	}
	free(msg);
	close(p[1]);
	r->pid = pid;
	r->fd = p[0];
	r->len = 0;
	memcpy(r->id, h->id, sizeof(r->id));
	tcp2d_log(d, 0, "held mail %s: re-delivering to %s through %s",
	    h->id, a->addr, a->smtp);
	return 0;
}

size_t
tcp2d_release_pollfds(struct tcp2d *d, struct pollfd *fds, size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < TCP2D_MAX_RELEASES && n < max; i++)
		if (d->rel[i].pid != 0) {
			fds[n].fd = d->rel[i].fd;
			fds[n].events = POLLIN;
			fds[n].revents = 0;
			n++;
		}
	return n;
}

/* A child finished: record its outcome. */
static void
rel_done(struct tcp2d *d, struct tcp2d_release *r)
{
	struct tcp2_store *st = tcp2_state_store(d->state);
	struct tcp2_held h;
	char text[2048];
	int ok = r->len == 2 && memcmp(r->buf, "ok", 2) == 0, status;

	r->buf[r->len] = '\0';
	close(r->fd);
	while (waitpid(r->pid, &status, 0) < 0 && errno == EINTR)
		;
	r->pid = 0;
	if (tcp2_quarantine_get(st, r->id, &h) != 0)
		return;		/* discarded meanwhile */
	h.state = ok ? TCP2_HELD_RELEASED : TCP2_HELD_HELD;
	(void)tcp2_quarantine_update(st, &h);
	if (ok) {
		snprintf(text, sizeof(text), "held mail from %s is back in "
		    "the mailbox of %s: it comes with the next mail check",
		    h.sender, h.account);
		rel_event(d, &h, "released", text, "result", "ok");
		return;
	}
	snprintf(text, sizeof(text), "held mail from %s could not be "
	    "re-delivered: %s", h.sender, r->len ? r->buf : "the helper "
	    "died");
	{
		const char *f[] = { "account", h.account, "id", h.id,
		    "result", "failed", "error", r->len ? r->buf : "died",
		    NULL };

		tcp2d_event(d, "released", text, f);
	}
}

void
tcp2d_release_process(struct tcp2d *d, const struct pollfd *fds, size_t n)
{
	struct tcp2d_release *r;
	size_t i, j;
	ssize_t k;

	for (j = 0; j < n; j++) {
		if (fds[j].revents == 0)
			continue;
		for (i = 0, r = NULL; i < TCP2D_MAX_RELEASES; i++)
			if (d->rel[i].pid != 0 && d->rel[i].fd == fds[j].fd)
				r = &d->rel[i];
		if (r == NULL)
			continue;
		k = read(r->fd, r->buf + r->len, sizeof(r->buf) - 1 - r->len);
		if (k > 0 && r->len + (size_t)k < sizeof(r->buf) - 1) {
			r->len += (size_t)k;
			continue;
		}
		if (k < 0 && errno == EINTR)
			continue;
		rel_done(d, r);
	}
}

/*
 * Once a minute and at start: entries left "releasing" by a restart are
 * sent again; entries past their time are deleted, a day before that the
 * user is warned once.
 */
void
tcp2d_release_tick(struct tcp2d *d, int at_start)
{
	struct tcp2_store *st = tcp2_state_store(d->state);
	uint64_t now = (uint64_t)time(NULL);
	char **ids, err[256], text[2048];
	struct tcp2_held h;
	size_t n, i, gc;

	if (at_start && tcp2_quarantine_gc(st, &gc) == 0 && gc > 0)
		tcp2d_log(d, 0, "quarantine: removed %zu copies an "
		    "interrupted hold left behind", gc);
	if (tcp2_quarantine_list(st, &ids, &n) != 0)
		return;
	for (i = 0; i < n; i++) {
		if (tcp2_quarantine_get(st, ids[i], &h) != 0)
			continue;
		if (at_start && h.state == TCP2_HELD_RELEASING &&
		    tcp2d_release_start(d, &h, err, sizeof(err)) != 0)
			tcp2d_log(d, 0, "held mail %s: %s", h.id, err);
		if (h.state != TCP2_HELD_HELD)
			continue;
		if (now >= h.expires) {
			if (tcp2_quarantine_remove(st, h.id) != 0)
				continue;
			snprintf(text, sizeof(text), "held mail from %s "
			    "expired and was deleted", h.sender);
			rel_event(d, &h, "discarded", text, "why", "expired");
		} else if (!h.warned && now + 86400 >= h.expires) {
			char exp[32];

			h.warned = 1;
			if (tcp2_quarantine_update(st, &h) != 0)
				continue;
			snprintf(exp, sizeof(exp), "%llu",
			    (unsigned long long)h.expires);
			snprintf(text, sizeof(text), "held mail from %s (%s) "
			    "will be deleted within a day unless you decide",
			    h.sender, h.subject);
			rel_event(d, &h, "expiring", text, "expires", exp);
		}
	}
	tcp2_store_list_free(ids, n);
}

void
tcp2d_release_stop(struct tcp2d *d)
{
	size_t i;

	/* Children finish their transaction on their own; the entries
	 * stay "releasing" and are sent again at the next start. */
	for (i = 0; i < TCP2D_MAX_RELEASES; i++)
		if (d->rel[i].pid != 0) {
			close(d->rel[i].fd);
			d->rel[i].pid = 0;
		}
}
