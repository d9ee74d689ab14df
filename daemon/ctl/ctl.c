/*
 * ctl.c - the control socket of tcp2d: accept local clients, check their
 * credentials, read bounded JSON request lines, hand them to the daemon's
 * handler, queue the answers, and broadcast events to subscribers; all
 * non-blocking, from the daemon's own poll loop (see ctl.h and
 * docs/CONTROL.md).
 *
 * A client is never freed while the code may still be using it: failures
 * only mark it dead, and dead clients are reaped at the end of
 * tcp2_ctl_process() or tcp2_ctl_event() (the handler may call the latter
 * while a client is being served).  Because a dead client keeps its
 * descriptor until it is reaped, and new clients are accepted after the
 * other entries were acted on, an fd number in the caller's pollfd slice
 * never comes to mean a different client within one tcp2_ctl_process().
 *
 * Descriptors passed with requests (SCM_RIGHTS) are received with the
 * bytes of the sendmsg() that carried them.  Linux may return bytes of
 * earlier sendmsg() calls in the same recvmsg() but stops right after the
 * ones that came with descriptors, so they belong to the last request
 * line that begins in what one recvmsg() returned.  Such a set waits in
 * the client, tied to its line's offset, until that line is answered; a
 * client is not read from while it holds FDSETS_MAX sets.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"

#define OUT_SOFT	(64u * 1024)	/* stop reading requests above this */
#define ACCEPT_BURST	16		/* connections accepted per call */
#define READ_BURST	4		/* reads per client per call */
#define JSON_DEPTH	16		/* nesting a request may have */
#define CMD_MAX		64		/* length of a command name */
#define LISTEN_BACKLOG	16
#define GROUPS_FIRST	64		/* SO_PEERGROUPS buffer to try first */
#define FDSETS_MAX	4		/* descriptor sets a client may hold */

static const char unexpected_fds[] = "unexpected file descriptors";

/* Commands that take descriptors (docs/CONTROL.md 4.1). */
static const char *const fd_commands[] = { "show", "decrypt" };

/* Descriptors that came with one request line. */
struct fdset {
	int		 fd[TCP2_CTL_REQ_FDS];
	unsigned int	 n;
	int		 bad;		/* too many or truncated: refuse */
	int		 used;		/* the handler asked for them */
	size_t		 at;		/* offset of the line in client.in */
};

/* Output waiting for a client: bytes buf[off..len). */
struct outq {
	char	*buf;
	size_t	 off, len, cap;
};

struct client {
	int		 fd;
	uid_t		 uid;
	pid_t		 pid;
	int		 subscribed;
	int		 eof;		/* peer will send no more */
	int		 closing;	/* close once the output is written */
	int		 dead;		/* close at the next reap */
	char		*in;		/* TCP2_CTL_LINE_MAX + 1 bytes */
	size_t		 inlen;
	struct outq	 out;
	uint64_t	 dropped;	/* events missed, not yet reported */
	struct fdset	 fds[FDSETS_MAX];	/* oldest line first */
	unsigned int	 nfdsets;
};

struct tcp2_ctl {
	int			 lfd;
	char			*path;
	dev_t			 dev;	/* of the socket file, so that close */
	ino_t			 ino;	/* unlinks only our own */
	gid_t			 group;
	uid_t			 euid;
	tcp2_ctl_handler	 h;
	void			*arg;
	struct client		*cl[TCP2_CTL_MAX_CLIENTS];
	struct client		*cur;	/* whose request the handler serves */
	struct fdset		 rq;	/* the descriptors of that request */
	int			 busy;	/* inside tcp2_ctl_process() */
	time_t			 accept_paused;	/* out of descriptors at */
	struct tcp2_ctl_stats	 st;
};

/* ---- output queues ---- */

static size_t
outq_pending(const struct outq *q)
{
	return q->len - q->off;
}

static int
outq_put(struct outq *q, const char *s, size_t n)
{
	size_t need, nc;
	char *nb;

	if (q->off > 0 && q->cap - q->len < n) {
		memmove(q->buf, q->buf + q->off, q->len - q->off);
		q->len -= q->off;
		q->off = 0;
	}
	need = q->len + n;
	if (need > q->cap) {
		nc = q->cap ? q->cap : 4096;
		while (nc < need)
			nc *= 2;
		nb = realloc(q->buf, nc);
		if (nb == NULL)
			return -1;
		q->buf = nb;
		q->cap = nc;
	}
	memcpy(q->buf + q->len, s, n);
	q->len += n;
	return 0;
}

/* Write what the socket takes now; -1 when the peer is gone. */
static int
outq_flush(int fd, struct outq *q)
{
	ssize_t n;

	while (outq_pending(q) > 0) {
		n = send(fd, q->buf + q->off, outq_pending(q),
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -1;
		}
		q->off += (size_t)n;
	}
	q->off = q->len = 0;
	return 0;
}

/* ---- lines ---- */

/* o as one compact line with its LF, malloc'd; NULL when it cannot be
 * serialised or is longer than TCP2_CTL_OUT_LINE_MAX. */
static char *
line_of(json_object *o, size_t *len)
{
	const char *s;
	size_t n;
	char *line;

	s = json_object_to_json_string_length(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	if (s == NULL || n >= TCP2_CTL_OUT_LINE_MAX)
		return NULL;
	if ((line = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(line, s, n);
	line[n] = '\n';
	*len = n + 1;
	return line;
}

/* Queue o for cl; a client whose output cannot be queued is dropped. */
static void
client_send(struct client *cl, json_object *o)
{
	char *line;
	size_t len;

	if ((line = line_of(o, &len)) == NULL) {
		/* Too large or no memory: say so in a line that fits. */
		json_object *e = json_object_new_object();

		if (e == NULL) {
			cl->dead = 1;
			return;
		}
		json_object_object_add(e, "ok", json_object_new_boolean(0));
		json_object_object_add(e, "error",
		    json_object_new_string("response too large"));
		line = line_of(e, &len);
		json_object_put(e);
		if (line == NULL) {
			cl->dead = 1;
			return;
		}
	}
	if (outq_put(&cl->out, line, len) == -1)
		cl->dead = 1;
	free(line);
}

/* One error answer {"ok":false,"error":text}. */
static void
client_error(struct client *cl, const char *text)
{
	json_object *o;

	if ((o = json_object_new_object()) == NULL) {
		cl->dead = 1;
		return;
	}
	json_object_object_add(o, "ok", json_object_new_boolean(0));
	json_object_object_add(o, "error", json_object_new_string(text));
	client_send(cl, o);
	json_object_put(o);
}

/* ---- descriptors ---- */

static void
fdset_close(struct fdset *fs)
{
	unsigned int i;

	for (i = 0; i < fs->n; i++)
		(void)close(fs->fd[i]);
	memset(fs, 0, sizeof(*fs));
}

static void
client_close_fds(struct client *cl)
{
	unsigned int i;

	for (i = 0; i < cl->nfdsets; i++)
		fdset_close(&cl->fds[i]);
	cl->nfdsets = 0;
}

/*
 * Remove the set tied to the line at offset off into *fs (an empty set
 * when there is none).  Sets of lines before off cannot exist; any are
 * closed rather than trusted.
 */
static void
client_take_fds(struct client *cl, size_t off, struct fdset *fs)
{
	memset(fs, 0, sizeof(*fs));
	while (cl->nfdsets > 0 && cl->fds[0].at <= off) {
		if (cl->fds[0].at == off)
			*fs = cl->fds[0];
		else
			fdset_close(&cl->fds[0]);
		cl->nfdsets--;
		memmove(&cl->fds[0], &cl->fds[1],
		    cl->nfdsets * sizeof(cl->fds[0]));
	}
}

/*
 * Tie n descriptors (bad: more were sent or they were truncated), which
 * came with cl->in[from..cl->inlen), to the last line that begins there,
 * or to the line in progress when none does.  A second set for the same
 * line makes that line's set bad.
 */
static void
client_hold_fds(struct client *cl, size_t from, const int *fd,
    unsigned int n, int bad)
{
	struct fdset *fs;
	size_t at;
	unsigned int i;

	for (at = cl->inlen; at > from; at--)
		if (at - 1 == 0 || cl->in[at - 2] == '\n')
			break;
	if (at == from)		/* none begins here: the line in progress */
		while (at > 0 && cl->in[at - 1] != '\n')
			at--;
	else
		at--;
	fs = cl->nfdsets > 0 ? &cl->fds[cl->nfdsets - 1] : NULL;
	if (fs == NULL || fs->at != at) {
		/* The caller does not read while the sets are full. */
		if (cl->nfdsets == FDSETS_MAX) {
			for (i = 0; i < n; i++)
				(void)close(fd[i]);
			return;
		}
		fs = &cl->fds[cl->nfdsets++];
		memset(fs, 0, sizeof(*fs));
		fs->at = at;
	} else
		bad = 1;
	for (i = 0; i < n; i++) {
		if (fs->n < TCP2_CTL_REQ_FDS && !bad)
			fs->fd[fs->n++] = fd[i];
		else
			(void)close(fd[i]);
	}
	if (bad) {
		for (i = 0; i < fs->n; i++)
			(void)close(fs->fd[i]);
		fs->n = 0;
		fs->bad = 1;
	}
}

/*
 * read() for a client that may pass descriptors: receive into cl->in
 * after cl->inlen and hold what came with the bytes.  A truncated control
 * message (more descriptors than TCP2_CTL_REQ_FDS, or none left in this
 * process) still delivers what fitted: those are closed and the line is
 * refused.
 */
static ssize_t
client_recv(struct client *cl)
{
	union {
		struct cmsghdr	h;
		char		b[CMSG_SPACE(TCP2_CTL_REQ_FDS * sizeof(int))];
	} cbuf;
	int fd[TCP2_CTL_REQ_FDS], one;
	struct cmsghdr *cm;
	struct msghdr m;
	struct iovec iov;
	unsigned int nfd = 0;
	size_t k, j;
	ssize_t n;
	int bad;

	iov.iov_base = cl->in + cl->inlen;
	iov.iov_len = TCP2_CTL_LINE_MAX + 1 - cl->inlen;
	memset(&m, 0, sizeof(m));
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = cbuf.b;
	m.msg_controllen = sizeof(cbuf.b);
	n = recvmsg(cl->fd, &m, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (n < 0)
		return n;
	bad = (m.msg_flags & MSG_CTRUNC) != 0;
	for (cm = CMSG_FIRSTHDR(&m); cm != NULL; cm = CMSG_NXTHDR(&m, cm)) {
		if (cm->cmsg_level != SOL_SOCKET ||
		    cm->cmsg_type != SCM_RIGHTS || cm->cmsg_len < CMSG_LEN(0))
			continue;
		k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (j = 0; j < k; j++) {
			memcpy(&one, CMSG_DATA(cm) + j * sizeof(int),
			    sizeof(int));
			if (nfd < TCP2_CTL_REQ_FDS)
				fd[nfd++] = one;
			else {
				(void)close(one);
				bad = 1;
			}
		}
	}
	if (n == 0) {
		/* Nothing to tie them to. */
		while (nfd > 0)
			(void)close(fd[--nfd]);
		return 0;
	}
	cl->inlen += (size_t)n;
	if (nfd > 0 || bad)
		client_hold_fds(cl, cl->inlen - (size_t)n, fd, nfd, bad);
	return n;
}

static int
takes_fds(const char *cmd)
{
	size_t i;

	for (i = 0; i < sizeof(fd_commands) / sizeof(fd_commands[0]); i++)
		if (strcmp(cmd, fd_commands[i]) == 0)
			return 1;
	return 0;
}

/* ---- requests ---- */

/* Parse one line as exactly one JSON object, or NULL. */
static json_object *
parse_request(const char *line, size_t len)
{
	struct json_tokener *tok;
	json_object *o;
	size_t end;

	if (len > INT_MAX || memchr(line, '\0', len) != NULL)
		return NULL;
	if ((tok = json_tokener_new_ex(JSON_DEPTH)) == NULL)
		return NULL;
	o = json_tokener_parse_ex(tok, line, (int)len);
	if (o != NULL && json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(o);
		o = NULL;
	}
	if (o != NULL) {
		/* Nothing but white space may follow the object. */
		for (end = json_tokener_get_parse_end(tok); end < len; end++)
			if (strchr(" \t\r", line[end]) == NULL)
				break;
		if (end < len || !json_object_is_type(o, json_type_object)) {
			json_object_put(o);
			o = NULL;
		}
	}
	json_tokener_free(tok);
	return o;
}

/* Run the request through the library or the handler into *respp (which
 * may be replaced). */
static void
dispatch(struct tcp2_ctl *c, struct client *cl, const char *cmd,
    json_object *req, json_object **respp)
{
	json_object *e, *resp = *respp;
	char buf[CMD_MAX + 32];
	int rc;

	if ((c->rq.n > 0 || c->rq.bad) && (c->rq.bad || !takes_fds(cmd))) {
		json_object_object_add(resp, "ok", json_object_new_boolean(0));
		json_object_object_add(resp, "error",
		    json_object_new_string(unexpected_fds));
		return;
	}
	if (strcmp(cmd, "subscribe") == 0) {
		cl->subscribed = 1;
		json_object_object_add(resp, "subscribed",
		    json_object_new_boolean(1));
		json_object_object_add(resp, "ok", json_object_new_boolean(1));
		return;
	}
	c->cur = cl;
	rc = c->h(c->arg, cmd, req, resp);
	c->cur = NULL;
	if (rc == 0 && c->rq.n > 0 && !c->rq.used) {
		/* Sent descriptors that the command did not take: the
		 * handler's fields go with its answer. */
		if ((e = json_object_new_object()) == NULL) {
			cl->dead = 1;
			return;
		}
		json_object_put(*respp);
		*respp = resp = e;
		json_object_object_add(resp, "ok", json_object_new_boolean(0));
		json_object_object_add(resp, "error",
		    json_object_new_string(unexpected_fds));
		return;
	}
	if (rc == 0) {
		json_object_object_add(resp, "ok", json_object_new_boolean(1));
		return;
	}
	json_object_object_add(resp, "ok", json_object_new_boolean(0));
	if (rc == TCP2_CTL_UNKNOWN) {
		(void)snprintf(buf, sizeof(buf), "unknown command: %s", cmd);
		json_object_object_add(resp, "error",
		    json_object_new_string(buf));
	} else if (!json_object_object_get_ex(resp, "error", &e) ||
	    !json_object_is_type(e, json_type_string) ||
	    json_object_get_string_len(e) == 0)
		json_object_object_add(resp, "error",
		    json_object_new_string("command failed"));
}

/* Answer one request line (without its LF), with c->rq its descriptors. */
static void
handle_line(struct tcp2_ctl *c, struct client *cl, char *line, size_t len)
{
	json_object *req, *resp, *v;
	const char *cmd;

	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (strspn(line, " \t") >= len)
		return;		/* empty lines are keep-alives */
	c->st.requests++;
	if ((req = parse_request(line, len)) == NULL) {
		client_error(cl, "malformed request: not one JSON object");
		return;
	}
	if (!json_object_object_get_ex(req, "cmd", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    json_object_get_string_len(v) == 0 ||
	    json_object_get_string_len(v) > CMD_MAX) {
		json_object_put(req);
		client_error(cl, "malformed request: no \"cmd\" string");
		return;
	}
	cmd = json_object_get_string(v);
	if ((resp = json_object_new_object()) == NULL) {
		json_object_put(req);
		cl->dead = 1;
		return;
	}
	dispatch(c, cl, cmd, req, &resp);
	if (cl->dead) {
		json_object_put(resp);
		json_object_put(req);
		return;
	}
	/* Clients that pipeline requests match answers by their "id". */
	if (json_object_object_get_ex(req, "id", &v))
		json_object_object_add(resp, "id", json_object_get(v));
	client_send(cl, resp);
	json_object_put(resp);
	json_object_put(req);
}

/* Answer the line at cl->in + off with the descriptors that came with it,
 * and close them. */
static void
serve_line(struct tcp2_ctl *c, struct client *cl, size_t off, size_t len)
{
	client_take_fds(cl, off, &c->rq);
	handle_line(c, cl, cl->in + off, len);
	fdset_close(&c->rq);
}

/*
 * Answer the complete lines in cl's input while its output stays below
 * OUT_SOFT (a client that does not read its answers stops being served
 * instead of growing the queue).  Consumed input is wiped: requests may
 * carry passwords.
 */
static void
client_lines(struct tcp2_ctl *c, struct client *cl)
{
	size_t start = 0, rest;
	unsigned int i;
	char *nl;

	while (!cl->dead && !cl->closing &&
	    outq_pending(&cl->out) < OUT_SOFT) {
		nl = memchr(cl->in + start, '\n', cl->inlen - start);
		if (nl == NULL)
			break;
		*nl = '\0';
		serve_line(c, cl, start, (size_t)(nl - cl->in) - start);
		start = (size_t)(nl - cl->in) + 1;
	}
	if (start > 0) {
		rest = cl->inlen - start;
		memmove(cl->in, cl->in + start, rest);
		explicit_bzero(cl->in + rest, cl->inlen - rest);
		cl->inlen = rest;
		for (i = 0; i < cl->nfdsets; i++)
			cl->fds[i].at -= start;
	}
	if (cl->dead || cl->closing)
		return;
	if (cl->inlen > TCP2_CTL_LINE_MAX &&
	    memchr(cl->in, '\n', cl->inlen) == NULL) {
		client_error(cl, "request line too long (limit 65536 bytes)");
		client_close_fds(cl);
		explicit_bzero(cl->in, cl->inlen);
		cl->inlen = 0;
		cl->closing = 1;
		return;
	}
	if (cl->eof && outq_pending(&cl->out) < OUT_SOFT) {
		/* A last line without its LF still counts. */
		if (cl->inlen > 0 && memchr(cl->in, '\n', cl->inlen) == NULL &&
		    cl->inlen <= TCP2_CTL_LINE_MAX) {
			cl->in[cl->inlen] = '\0';
			serve_line(c, cl, 0, cl->inlen);
			explicit_bzero(cl->in, cl->inlen);
			cl->inlen = 0;
		}
		if (cl->inlen == 0) {
			cl->closing = 1;
			client_close_fds(cl);
		}
	}
}

/* ---- events ---- */

/* Tell a subscriber how many events it missed, once it has room again. */
static void
client_dropped_notice(struct client *cl)
{
	json_object *o;
	char text[96];

	if (!cl->subscribed || cl->dropped == 0 || cl->dead || cl->closing ||
	    outq_pending(&cl->out) >= TCP2_CTL_EVQ_MAX / 2)
		return;
	if ((o = json_object_new_object()) == NULL)
		return;
	(void)snprintf(text, sizeof(text),
	    "%llu events were not delivered: the subscriber read too slowly",
	    (unsigned long long)cl->dropped);
	json_object_object_add(o, "event", json_object_new_string("dropped"));
	json_object_object_add(o, "time",
	    json_object_new_int64((int64_t)time(NULL)));
	json_object_object_add(o, "text", json_object_new_string(text));
	json_object_object_add(o, "count",
	    json_object_new_int64((int64_t)cl->dropped));
	client_send(cl, o);
	json_object_put(o);
	cl->dropped = 0;
}

/* ---- clients ---- */

static void
client_free(struct client *cl)
{
	if (cl == NULL)
		return;
	client_close_fds(cl);
	if (cl->fd != -1)
		(void)close(cl->fd);
	if (cl->in != NULL) {
		explicit_bzero(cl->in, TCP2_CTL_LINE_MAX + 1);
		free(cl->in);
	}
	free(cl->out.buf);
	free(cl);
}

static struct client *
client_by_fd(struct tcp2_ctl *c, int fd)
{
	size_t i;

	for (i = 0; i < TCP2_CTL_MAX_CLIENTS; i++)
		if (c->cl[i] != NULL && c->cl[i]->fd == fd)
			return c->cl[i];
	return NULL;
}

/*
 * Write what the socket takes, then answer the requests the freed room
 * allows, until neither makes progress.  Each round either consumes
 * input or ends, so this terminates.
 */
static void
client_pump(struct tcp2_ctl *c, struct client *cl)
{
	size_t before;

	for (;;) {
		if (cl->dead)
			return;
		if (outq_flush(cl->fd, &cl->out) == -1) {
			cl->dead = 1;
			return;
		}
		client_dropped_notice(cl);
		if (cl->closing) {
			if (outq_pending(&cl->out) == 0)
				cl->dead = 1;
			return;
		}
		if (outq_pending(&cl->out) >= OUT_SOFT)
			return;
		before = cl->inlen;
		client_lines(c, cl);
		if (cl->inlen == before && !cl->closing && !cl->dead)
			return;
	}
}

static void
client_read(struct tcp2_ctl *c, struct client *cl)
{
	ssize_t n;
	int i;

	for (i = 0; i < READ_BURST && !cl->dead && !cl->eof &&
	    !cl->closing; i++) {
		if (cl->inlen > TCP2_CTL_LINE_MAX ||
		    cl->nfdsets == FDSETS_MAX)
			break;		/* full of lines waiting for room */
		n = client_recv(cl);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				cl->dead = 1;
			break;
		}
		if (n == 0)
			cl->eof = 1;
		client_lines(c, cl);
	}
	client_pump(c, cl);
}

/* ---- admission ---- */

#ifdef SO_PEERGROUPS
/* 1 when gid is in the n groups of list. */
static int
gid_in(gid_t gid, const gid_t *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (list[i] == gid)
			return 1;
	return 0;
}
#endif

/*
 * Supplementary groups from /proc/PID/status, for kernels without
 * SO_PEERGROUPS.  The process must still have the peer's effective uid,
 * so that a recycled pid cannot lend its groups.  1 member, 0 not, -1 no
 * answer.
 */
static int
proc_has_group(pid_t pid, uid_t uid, gid_t group)
{
	char path[64], line[4096], *p, *end;
	unsigned long v, ruid, euid;
	int uid_ok = 0, found = -1;
	FILE *f;

	(void)snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "Uid:", 4) == 0) {
			if (sscanf(line + 4, "%lu %lu", &ruid, &euid) == 2 &&
			    euid == (unsigned long)uid)
				uid_ok = 1;
		} else if (strncmp(line, "Groups:", 7) == 0) {
			found = 0;
			for (p = line + 7;; p = end) {
				errno = 0;
				v = strtoul(p, &end, 10);
				if (end == p || errno != 0)
					break;
				if (v == (unsigned long)group)
					found = 1;
			}
		}
	}
	(void)fclose(f);
	return uid_ok ? found : -1;
}

/* 1 when the peer's groups (at connect time) contain group, 0 when not,
 * -1 when the kernel cannot say. */
static int
peer_has_group(int fd, gid_t group)
{
#ifdef SO_PEERGROUPS
	gid_t first[GROUPS_FIRST], *list = first;
	socklen_t len = sizeof(first);
	int r;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, list, &len) == -1) {
		if (errno != ERANGE || len == 0 || len > 65536 * sizeof(gid_t))
			return -1;
		if ((list = malloc(len)) == NULL)
			return -1;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, list,
		    &len) == -1) {
			free(list);
			return -1;
		}
	}
	r = gid_in(group, list, len / sizeof(gid_t));
	if (list != first)
		free(list);
	return r;
#else
	(void)fd;
	(void)group;
	return -1;
#endif
}

static int
peer_allowed(const struct tcp2_ctl *c, int fd, const struct ucred *uc)
{
	int r;

	if (uc->uid == 0 || uc->uid == c->euid)
		return 1;
	if (c->group == (gid_t)-1)
		return 0;
	if (uc->gid == c->group)
		return 1;
	if ((r = peer_has_group(fd, c->group)) != -1)
		return r;
	return proc_has_group(uc->pid, uc->uid, c->group) == 1;
}

/* One error line on a fresh connection, then close it: the socket buffer
 * is empty, so a single non-blocking send either takes the line or the
 * peer loses it. */
static void
refuse(struct tcp2_ctl *c, int fd, const char *why)
{
	json_object *o;
	char *line;
	size_t len;

	c->st.refused++;
	if ((o = json_object_new_object()) != NULL) {
		json_object_object_add(o, "ok", json_object_new_boolean(0));
		json_object_object_add(o, "error",
		    json_object_new_string(why));
		if ((line = line_of(o, &len)) != NULL) {
			(void)send(fd, line, len, MSG_NOSIGNAL | MSG_DONTWAIT);
			free(line);
		}
		json_object_put(o);
	}
	(void)close(fd);
}

static void
admit(struct tcp2_ctl *c, int fd)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);
	struct client *cl;
	size_t i;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) == -1 ||
	    len != sizeof(uc)) {
		refuse(c, fd, "permission denied");
		return;
	}
	if (!peer_allowed(c, fd, &uc)) {
		refuse(c, fd, "permission denied");
		return;
	}
	for (i = 0; i < TCP2_CTL_MAX_CLIENTS && c->cl[i] != NULL; i++)
		;
	if (i == TCP2_CTL_MAX_CLIENTS) {
		refuse(c, fd, "too many clients");
		return;
	}
	if ((cl = calloc(1, sizeof(*cl))) == NULL ||
	    (cl->in = malloc(TCP2_CTL_LINE_MAX + 1)) == NULL) {
		free(cl);
		refuse(c, fd, "out of memory");
		return;
	}
	cl->fd = fd;
	cl->uid = uc.uid;
	cl->pid = uc.pid;
	c->cl[i] = cl;
	c->st.accepted++;
}

static void
accept_clients(struct tcp2_ctl *c)
{
	int fd, i;

	for (i = 0; i < ACCEPT_BURST; i++) {
		fd = accept4(c->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			/* Out of descriptors: stop polling the listener
			 * (it would stay readable and spin the loop) until
			 * a client goes or a second has passed. */
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM)
				c->accept_paused = time(NULL);
			return;
		}
		admit(c, fd);
	}
}

static void
reap(struct tcp2_ctl *c)
{
	size_t i;

	for (i = 0; i < TCP2_CTL_MAX_CLIENTS; i++) {
		if (c->cl[i] == NULL || !c->cl[i]->dead)
			continue;
		client_free(c->cl[i]);
		c->cl[i] = NULL;
		c->accept_paused = 0;
	}
}

/* ---- the socket file ---- */

/* Make room at path: nothing there, or a stale socket that is removed.
 * A socket somebody answers on is EADDRINUSE, a non-socket EEXIST. */
static int
clear_path(const struct sockaddr_un *sun)
{
	struct stat sb;
	int s, r, e;

	if (lstat(sun->sun_path, &sb) == -1)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(sb.st_mode)) {
		errno = EEXIST;
		return -1;
	}
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s == -1)
		return -1;
	r = connect(s, (const struct sockaddr *)sun, sizeof(*sun));
	e = errno;
	(void)close(s);
	/* EAGAIN: a live listener with a full backlog. */
	if (r == 0 || e == EAGAIN || e == EINPROGRESS) {
		errno = EADDRINUSE;
		return -1;
	}
	if (e != ECONNREFUSED) {
		errno = e;
		return -1;
	}
	if (unlink(sun->sun_path) == -1 && errno != ENOENT)
		return -1;
	return 0;
}

static int
make_socket(struct tcp2_ctl *c, const struct sockaddr_un *sun)
{
	struct stat sb;
	mode_t old;
	int r, e;

	c->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (c->lfd == -1)
		return -1;
	/* The umask keeps the socket from ever being wider than 0660. */
	old = umask(0117);
	r = bind(c->lfd, (const struct sockaddr *)sun, sizeof(*sun));
	e = errno;
	(void)umask(old);
	if (r == -1) {
		errno = e;
		return -1;
	}
	if (chmod(sun->sun_path, 0660) == -1 ||
	    (c->group != (gid_t)-1 &&
	    chown(sun->sun_path, (uid_t)-1, c->group) == -1) ||
	    stat(sun->sun_path, &sb) == -1 ||
	    listen(c->lfd, LISTEN_BACKLOG) == -1) {
		e = errno;
		(void)unlink(sun->sun_path);
		errno = e;
		return -1;
	}
	c->dev = sb.st_dev;
	c->ino = sb.st_ino;
	return 0;
}

/* ---- the API ---- */

int
tcp2_ctl_open(struct tcp2_ctl **cp, const char *path, gid_t group,
    tcp2_ctl_handler h, void *arg)
{
	struct sockaddr_un sun;
	struct tcp2_ctl *c;
	int e;

	*cp = NULL;
	if (path == NULL || *path == '\0' || h == NULL) {
		errno = EINVAL;
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -1;
	c->lfd = -1;
	c->group = group;
	c->euid = geteuid();
	c->h = h;
	c->arg = arg;
	if ((c->path = strdup(path)) == NULL)
		goto fail;
	if (clear_path(&sun) == -1 || make_socket(c, &sun) == -1)
		goto fail;
	*cp = c;
	return 0;
fail:
	e = errno;
	if (c->lfd != -1)
		(void)close(c->lfd);
	free(c->path);
	free(c);
	errno = e;
	return -1;
}

size_t
tcp2_ctl_pollfds(struct tcp2_ctl *c, struct pollfd *fds, size_t max)
{
	struct client *cl;
	size_t i, n = 0;

	if (max == 0)
		return 0;
	if (c->accept_paused != 0 && time(NULL) > c->accept_paused)
		c->accept_paused = 0;
	fds[n].fd = c->accept_paused != 0 ? -1 : c->lfd;
	fds[n].events = POLLIN;
	fds[n++].revents = 0;
	for (i = 0; i < TCP2_CTL_MAX_CLIENTS && n < max; i++) {
		if ((cl = c->cl[i]) == NULL)
			continue;
		fds[n].fd = cl->fd;
		fds[n].events = 0;
		fds[n].revents = 0;
		/* A dead client is only polled so that it gets reaped. */
		if (!cl->dead && !cl->eof && !cl->closing &&
		    cl->inlen <= TCP2_CTL_LINE_MAX &&
		    cl->nfdsets < FDSETS_MAX &&
		    outq_pending(&cl->out) < OUT_SOFT)
			fds[n].events |= POLLIN;
		if (outq_pending(&cl->out) > 0)
			fds[n].events |= POLLOUT;
		n++;
	}
	return n;
}

void
tcp2_ctl_process(struct tcp2_ctl *c, const struct pollfd *fds, size_t n)
{
	struct client *cl;
	int listening = 0;
	size_t i;

	c->busy = 1;
	for (i = 0; i < n; i++) {
		if (fds[i].fd == -1 || fds[i].revents == 0)
			continue;
		if (fds[i].fd == c->lfd) {
			listening = 1;
			continue;
		}
		if ((cl = client_by_fd(c, fds[i].fd)) == NULL || cl->dead)
			continue;
		if (fds[i].revents & POLLNVAL) {
			cl->dead = 1;
			continue;
		}
		/* Read before giving up on a hang-up: the last request
		 * and its EOF may come together. */
		if (fds[i].revents & (POLLIN | POLLHUP | POLLERR))
			client_read(c, cl);
		if (!cl->dead && (fds[i].revents & POLLOUT))
			client_pump(c, cl);
		if (!cl->dead && (fds[i].revents & POLLERR))
			cl->dead = 1;
		if (!cl->dead && (fds[i].revents & POLLHUP) && cl->eof &&
		    outq_pending(&cl->out) > 0)
			cl->dead = 1;	/* nobody left to read it */
	}
	for (i = 0; i < TCP2_CTL_MAX_CLIENTS; i++)
		if ((cl = c->cl[i]) != NULL && !cl->dead && cl->closing &&
		    outq_pending(&cl->out) == 0)
			cl->dead = 1;
	if (listening)
		accept_clients(c);
	c->busy = 0;
	reap(c);
}

void
tcp2_ctl_event(struct tcp2_ctl *c, const char *type, json_object *fields)
{
	json_object *o, *t;
	struct client *cl;
	char *line;
	size_t i, len;

	c->st.events++;
	if ((o = json_object_new_object()) == NULL) {
		c->st.events_dropped++;
		return;
	}
	json_object_object_add(o, "event", json_object_new_string(type));
	json_object_object_add(o, "time",
	    json_object_new_int64((int64_t)time(NULL)));
	if (fields != NULL) {
		json_object_object_foreach(fields, key, val) {
			if (strcmp(key, "event") != 0 &&
			    strcmp(key, "time") != 0)
				json_object_object_add(o, key,
				    json_object_get(val));
		}
	}
	if (!json_object_object_get_ex(o, "text", &t))
		json_object_object_add(o, "text", json_object_new_string(type));
	line = line_of(o, &len);
	json_object_put(o);
	for (i = 0; i < TCP2_CTL_MAX_CLIENTS; i++) {
		cl = c->cl[i];
		if (cl == NULL || !cl->subscribed || cl->dead || cl->closing)
			continue;
		client_dropped_notice(cl);
		if (line == NULL ||
		    outq_pending(&cl->out) + len > TCP2_CTL_EVQ_MAX) {
			cl->dropped++;
			c->st.events_dropped++;
			continue;
		}
		if (outq_put(&cl->out, line, len) == -1 ||
		    outq_flush(cl->fd, &cl->out) == -1)
			cl->dead = 1;
	}
	free(line);
	if (!c->busy)
		reap(c);
}

void
tcp2_ctl_stats(const struct tcp2_ctl *c, struct tcp2_ctl_stats *st)
{
	size_t i;

	*st = c->st;
	st->clients = st->subscribers = 0;
	for (i = 0; i < TCP2_CTL_MAX_CLIENTS; i++) {
		if (c->cl[i] == NULL || c->cl[i]->dead)
			continue;
		st->clients++;
		if (c->cl[i]->subscribed)
			st->subscribers++;
	}
}

int
tcp2_ctl_peer(const struct tcp2_ctl *c, uid_t *uid, pid_t *pid)
{
	if (c->cur == NULL)
		return -1;
	if (uid != NULL)
		*uid = c->cur->uid;
	if (pid != NULL)
		*pid = c->cur->pid;
	return 0;
}

int
tcp2_ctl_request_fd(struct tcp2_ctl *c, unsigned int i)
{
	if (c->cur == NULL)
		return -1;
	c->rq.used = 1;
	return i < c->rq.n ? c->rq.fd[i] : -1;
}

unsigned int
tcp2_ctl_request_nfds(const struct tcp2_ctl *c)
{
	return c->cur == NULL ? 0 : c->rq.n;
}

int
tcp2_ctl_fd_check(int fd, int how)
{
	struct stat sb;
	int fl, mode;

	if (how != TCP2_CTL_FD_IN && how != TCP2_CTL_FD_OUT) {
		errno = EINVAL;
		return -1;
	}
	if ((fl = fcntl(fd, F_GETFL)) == -1 || fstat(fd, &sb) == -1)
		return -1;
	mode = fl & O_ACCMODE;
	if ((how == TCP2_CTL_FD_IN && mode != O_RDONLY && mode != O_RDWR) ||
	    (how == TCP2_CTL_FD_OUT && mode != O_WRONLY && mode != O_RDWR)) {
		errno = EBADF;
		return -1;
	}
	if (!S_ISREG(sb.st_mode)) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

void
tcp2_ctl_close(struct tcp2_ctl *c)
{
	struct stat sb;
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < TCP2_CTL_MAX_CLIENTS; i++)
		client_free(c->cl[i]);
	if (c->lfd != -1)
		(void)close(c->lfd);
	/* A successor may already have replaced the file: keep its one. */
	if (stat(c->path, &sb) == 0 && sb.st_dev == c->dev &&
	    sb.st_ino == c->ino)
		(void)unlink(c->path);
	free(c->path);
	free(c);
}
