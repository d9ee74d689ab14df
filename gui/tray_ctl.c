/*
 * tray_ctl.c - asynchronous control-socket client for tcp2-tray.
 *
 * Two unix stream connections to tcp2d: "req" carries requests, answered
 * in order (docs/CONTROL.md §3), so a FIFO of callbacks matches responses;
 * "sub" sends "subscribe" and then only receives events.  Both are
 * non-blocking and watched through GIOChannel, so the GTK main loop never
 * waits on the daemon.  When either breaks, both are closed, every pending
 * callback is told, and a reconnect is tried with a growing backoff.
 * Requests go out with sendmsg(2) so that file descriptors ride on the
 * line's first byte as SCM_RIGHTS (§4.1).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "tray_ctl.h"

#define CTL_MAX_LINE	(4u << 20)	/* §3: accept lines up to 4 MiB */
#define CTL_MAX_FDS	2
#define CTL_BACKOFF_MIN	250
#define CTL_BACKOFF_MAX	5000

struct ctl_out {
	char	*buf;
	size_t	 len, off;
	int	 fds[CTL_MAX_FDS];
	size_t	 nfds;
};

struct ctl_wait {
	tray_ctl_reply_fn fn;
	void	*arg;
	char	*why;		/* for a deferred failure */
};

struct ctl_conn {
	struct tray_ctl *ctl;
	int	 fd;
	GIOChannel *ch;
	guint	 in_watch, out_watch;
	GString	*in;
	GQueue	 out;		/* struct ctl_out */
	GQueue	 wait;		/* struct ctl_wait, in request order */
	gboolean is_sub;
};

struct tray_ctl {
	char	*path;
	tray_ctl_event_fn ev;
	tray_ctl_state_fn st;
	void	*arg;
	struct ctl_conn req, sub;
	gboolean up;
	gboolean reported;	/* state was reported at least once */
	guint	 retry_id;
	guint	 backoff;
	guint	 gen;		/* bumped at each teardown */
};

static void ctl_down(struct tray_ctl *, const char *);
static void ctl_schedule(struct tray_ctl *);

static void
out_free(struct ctl_out *o)
{
	size_t i;

	for (i = 0; i < o->nfds; i++)
		close(o->fds[i]);
	g_free(o->buf);
	g_free(o);
}

/* Run fn later from the main loop with a failure: callbacks never reenter. */
static gboolean
wait_fail_idle(gpointer p)
{
	struct ctl_wait *w = p;

	if (w->fn != NULL)
		w->fn(NULL, w->why, w->arg);
	g_free(w->why);
	g_free(w);
	return G_SOURCE_REMOVE;
}

static void
wait_fail_later(tray_ctl_reply_fn fn, void *arg, const char *why)
{
	struct ctl_wait *w = g_new0(struct ctl_wait, 1);

	w->fn = fn;
	w->arg = arg;
	w->why = g_strdup(why);
	g_idle_add(wait_fail_idle, w);
}

static void
conn_close(struct ctl_conn *cn, const char *why)
{
	struct ctl_out *o;
	struct ctl_wait *w;

	if (cn->in_watch != 0)
		g_source_remove(cn->in_watch);
	if (cn->out_watch != 0)
		g_source_remove(cn->out_watch);
	cn->in_watch = cn->out_watch = 0;
	if (cn->ch != NULL)
		g_io_channel_unref(cn->ch);
	cn->ch = NULL;
	if (cn->fd >= 0)
		close(cn->fd);
	cn->fd = -1;
	if (cn->in != NULL)
		g_string_free(cn->in, TRUE);
	cn->in = NULL;
	while ((o = g_queue_pop_head(&cn->out)) != NULL)
		out_free(o);
	while ((w = g_queue_pop_head(&cn->wait)) != NULL) {
		wait_fail_later(w->fn, w->arg, why);
		g_free(w);
	}
}

/* Write what is queued; FALSE when the connection broke. */
static gboolean
conn_flush(struct ctl_conn *cn)
{
	struct ctl_out *o;

	while ((o = g_queue_peek_head(&cn->out)) != NULL) {
		union {
			char	buf[CMSG_SPACE(sizeof(int) * CTL_MAX_FDS)];
			struct cmsghdr align;
		} cbuf;
		struct iovec iov = { o->buf + o->off, o->len - o->off };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t n;

		/* The descriptors travel with the line's first byte only. */
		if (o->off == 0 && o->nfds > 0) {
			struct cmsghdr *cm;

			memset(&cbuf, 0, sizeof(cbuf));
			mh.msg_control = cbuf.buf;
			mh.msg_controllen = CMSG_SPACE(sizeof(int) * o->nfds);
			cm = CMSG_FIRSTHDR(&mh);
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_RIGHTS;
			cm->cmsg_len = CMSG_LEN(sizeof(int) * o->nfds);
			memcpy(CMSG_DATA(cm), o->fds, sizeof(int) * o->nfds);
		}
		n = sendmsg(cn->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return TRUE;
			return FALSE;
		}
		if (o->off == 0) {
			size_t i;

			/* Sent: the daemon has its own copies now. */
			for (i = 0; i < o->nfds; i++)
				close(o->fds[i]);
			o->nfds = 0;
		}
		o->off += (size_t)n;
		if (o->off == o->len)
			out_free(g_queue_pop_head(&cn->out));
	}
	return TRUE;
}

static gboolean
conn_out_cb(GIOChannel *ch, GIOCondition cond, gpointer p)
{
	struct ctl_conn *cn = p;

	(void)ch;
	(void)cond;
	if (!conn_flush(cn)) {
		cn->out_watch = 0;
		ctl_down(cn->ctl, "the connection to the daemon broke");
		return G_SOURCE_REMOVE;
	}
	if (g_queue_is_empty(&cn->out)) {
		cn->out_watch = 0;
		return G_SOURCE_REMOVE;
	}
	return G_SOURCE_CONTINUE;
}

static void
conn_queue(struct ctl_conn *cn, const char *line, const int *fds, size_t nfds)
{
	struct ctl_out *o = g_new0(struct ctl_out, 1);

	o->buf = g_strdup_printf("%s\n", line);
	o->len = strlen(o->buf);
	if (nfds > 0)
		memcpy(o->fds, fds, sizeof(int) * nfds);
	o->nfds = nfds;
	g_queue_push_tail(&cn->out, o);
	if (cn->out_watch == 0)
		cn->out_watch = g_io_add_watch(cn->ch, G_IO_OUT, conn_out_cb, cn);
}

/* Parse one line as exactly one JSON object; NULL otherwise. */
static json_object *
parse_line(const char *s, size_t len)
{
	json_tokener *tok;
	json_object *o;

	if (len > INT_MAX || (tok = json_tokener_new_ex(32)) == NULL)
		return NULL;
	o = json_tokener_parse_ex(tok, s, (int)len);
	if (json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len ||
	    !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

static const char *
obj_str(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static gboolean
obj_ok(json_object *o)
{
	json_object *v;

	return json_object_object_get_ex(o, "ok", &v) &&
	    json_object_is_type(v, json_type_boolean) &&
	    json_object_get_boolean(v);
}

/* One line from the daemon; FALSE when the connection must go down. */
static gboolean
conn_line(struct ctl_conn *cn, json_object *o)
{
	struct tray_ctl *c = cn->ctl;
	struct ctl_wait *w;
	const char *err;

	if (cn->is_sub) {
		if (json_object_object_get_ex(o, "event", NULL)) {
			if (c->up && c->ev != NULL)
				c->ev(o, c->arg);
			return TRUE;
		}
		if (!obj_ok(o)) {
			err = obj_str(o, "error");
			ctl_down(c, err != NULL ? err : "subscribe failed");
			return FALSE;
		}
		if (!c->up) {
			c->up = TRUE;
			c->reported = TRUE;
			c->backoff = CTL_BACKOFF_MIN;
			if (c->st != NULL)
				c->st(TRUE, NULL, c->arg);
		}
		return TRUE;
	}
	if ((w = g_queue_pop_head(&cn->wait)) == NULL) {
		err = obj_str(o, "error");
		ctl_down(c, err != NULL ? err : "the daemon sent an unasked line");
		return FALSE;
	}
	err = NULL;
	if (!obj_ok(o) && (err = obj_str(o, "error")) == NULL)
		err = "the daemon refused without saying why";
	if (w->fn != NULL)
		w->fn(o, err, w->arg);
	g_free(w);
	return TRUE;
}

static gboolean
conn_in_cb(GIOChannel *ch, GIOCondition cond, gpointer p)
{
	struct ctl_conn *cn = p;
	struct tray_ctl *c = cn->ctl;
	char buf[65536];
	ssize_t n;
	guint gen = c->gen;
	char *nl;

	(void)ch;
	(void)cond;
	n = read(cn->fd, buf, sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return G_SOURCE_CONTINUE;
	if (n <= 0) {
		cn->in_watch = 0;
		ctl_down(c, n == 0 ? "the daemon closed the connection" :
		    g_strerror(errno));
		return G_SOURCE_REMOVE;
	}
	g_string_append_len(cn->in, buf, n);
	while (cn->in != NULL && (nl = memchr(cn->in->str, '\n', cn->in->len)) != NULL) {
		size_t len = (size_t)(nl - cn->in->str);
		json_object *o;
		gboolean keep;

		if (len > 0 && cn->in->str[len - 1] == '\r')
			len--;
		if (len == 0) {
			g_string_erase(cn->in, 0, nl - cn->in->str + 1);
			continue;
		}
		if ((o = parse_line(cn->in->str, len)) == NULL) {
			cn->in_watch = 0;
			ctl_down(c, "the daemon sent something that is not JSON");
			return G_SOURCE_REMOVE;
		}
		g_string_erase(cn->in, 0, nl - cn->in->str + 1);
		keep = conn_line(cn, o);
		json_object_put(o);
		if (!keep || gen != c->gen) {
			/* torn down inside: our watch is already gone */
			return G_SOURCE_REMOVE;
		}
	}
	if (cn->in != NULL && cn->in->len > CTL_MAX_LINE) {
		cn->in_watch = 0;
		ctl_down(c, "the daemon sent a line over 4 MiB");
		return G_SOURCE_REMOVE;
	}
	return G_SOURCE_CONTINUE;
}

/* Connect one connection; 0 or an errno value. */
static int
conn_open(struct ctl_conn *cn, const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, e;

	if (strlen(path) >= sizeof(sun.sun_path))
		return ENAMETOOLONG;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return errno;
	/* A unix connect completes at once or fails (EAGAIN: backlog full). */
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		e = errno;
		close(fd);
		return e;
	}
	cn->fd = fd;
	cn->in = g_string_new(NULL);
	cn->ch = g_io_channel_unix_new(fd);
	g_io_channel_set_encoding(cn->ch, NULL, NULL);
	g_io_channel_set_buffered(cn->ch, FALSE);
	cn->in_watch = g_io_add_watch(cn->ch, G_IO_IN | G_IO_HUP | G_IO_ERR,
	    conn_in_cb, cn);
	return 0;
}

static void
ctl_report_down(struct tray_ctl *c, const char *why)
{
	gboolean was = c->up;

	c->up = FALSE;
	if ((was || !c->reported) && c->st != NULL) {
		c->reported = TRUE;
		c->st(FALSE, why, c->arg);
	}
}

static void
ctl_down(struct tray_ctl *c, const char *why)
{
	char *w = g_strdup(why);	/* why may point into a closing buffer */

	c->gen++;
	conn_close(&c->req, w);
	conn_close(&c->sub, w);
	ctl_report_down(c, w);
	g_free(w);
	ctl_schedule(c);
}

static gboolean
ctl_retry(gpointer p)
{
	struct tray_ctl *c = p;
	json_object *sub;
	int e;

	c->retry_id = 0;
	if ((e = conn_open(&c->req, c->path)) != 0 ||
	    (e = conn_open(&c->sub, c->path)) != 0) {
		char *why = g_strdup_printf("cannot reach tcp2d at %s: %s",
		    c->path, g_strerror(e));

		conn_close(&c->req, why);
		ctl_report_down(c, why);
		g_free(why);
		if (c->backoff < CTL_BACKOFF_MAX)
			c->backoff = MIN(c->backoff * 2, CTL_BACKOFF_MAX);
		ctl_schedule(c);
		return G_SOURCE_REMOVE;
	}
	sub = json_object_new_object();
	json_object_object_add(sub, "cmd", json_object_new_string("subscribe"));
	conn_queue(&c->sub, json_object_to_json_string_ext(sub,
	    JSON_C_TO_STRING_PLAIN), NULL, 0);
	json_object_put(sub);
	return G_SOURCE_REMOVE;
}

static void
ctl_schedule(struct tray_ctl *c)
{
	if (c->retry_id == 0)
		c->retry_id = g_timeout_add(c->backoff, ctl_retry, c);
}

struct tray_ctl *
tray_ctl_new(const char *path, tray_ctl_event_fn ev, tray_ctl_state_fn st,
    void *arg)
{
	struct tray_ctl *c = g_new0(struct tray_ctl, 1);

	c->path = g_strdup(path);
	c->ev = ev;
	c->st = st;
	c->arg = arg;
	c->req.ctl = c->sub.ctl = c;
	c->req.fd = c->sub.fd = -1;
	c->sub.is_sub = TRUE;
	g_queue_init(&c->req.out);
	g_queue_init(&c->req.wait);
	g_queue_init(&c->sub.out);
	g_queue_init(&c->sub.wait);
	c->backoff = CTL_BACKOFF_MIN;
	c->retry_id = g_idle_add(ctl_retry, c);
	return c;
}

gboolean
tray_ctl_up(const struct tray_ctl *c)
{
	return c->up;
}

const char *
tray_ctl_path(const struct tray_ctl *c)
{
	return c->path;
}

void
tray_ctl_request(struct tray_ctl *c, json_object *req, const int *fds,
    size_t nfds, tray_ctl_reply_fn fn, void *arg)
{
	int dup[CTL_MAX_FDS];
	struct ctl_wait *w;
	size_t i;

	if (!c->up) {
		wait_fail_later(fn, arg, "the daemon is unreachable");
		return;
	}
	if (nfds > CTL_MAX_FDS) {
		wait_fail_later(fn, arg, "too many file descriptors");
		return;
	}
	for (i = 0; i < nfds; i++) {
		if ((dup[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 3)) < 0) {
			int e = errno;

			while (i-- > 0)
				close(dup[i]);
			wait_fail_later(fn, arg, g_strerror(e));
			return;
		}
	}
	w = g_new0(struct ctl_wait, 1);
	w->fn = fn;
	w->arg = arg;
	g_queue_push_tail(&c->req.wait, w);
	conn_queue(&c->req, json_object_to_json_string_ext(req,
	    JSON_C_TO_STRING_PLAIN), dup, nfds);
}

void
tray_ctl_simple(struct tray_ctl *c, const char *cmd, tray_ctl_reply_fn fn,
    void *arg)
{
	json_object *req = json_object_new_object();

	json_object_object_add(req, "cmd", json_object_new_string(cmd));
	tray_ctl_request(c, req, NULL, 0, fn, arg);
	json_object_put(req);
}

void
tray_ctl_free(struct tray_ctl *c)
{
	if (c == NULL)
		return;
	if (c->retry_id != 0)
		g_source_remove(c->retry_id);
	conn_close(&c->req, "shutting down");
	conn_close(&c->sub, "shutting down");
	g_free(c->path);
	g_free(c);
}
