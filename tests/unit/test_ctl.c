/*
 * test_ctl.c - the control socket library (daemon/ctl/ctl.c) against
 * real unix sockets: the server runs in this process, driven by pump()
 * exactly as tcp2d's main loop drives it, and the clients are
 * non-blocking sockets of the same process (or forked children with
 * other credentials, when the test runs as root).  Covers framing,
 * errors, subscriptions, slow subscribers, limits, the socket file, the
 * peer credential check, and descriptors passed with requests.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "ctl.h"
#include "harness.h"

#define ROUNDS		400	/* pump rounds a client waits for a line */
#define NOBODY		65534
#define TEST_GROUP	4243	/* a gid nobody else should have */

static char dir[64];
static char sock_path[128];
static struct tcp2_ctl *ctl;
static int emit_count;
static int seen_fd[TCP2_CTL_REQ_FDS];	/* what the last "decrypt" got */
static unsigned int seen_nfds;

/* ---- the toy daemon ---- */

static int
toy_handler(void *arg, const char *cmd, json_object *req, json_object *resp)
{
	json_object *v;
	uid_t uid;

	(void)arg;
	if (strcmp(cmd, "echo") == 0) {
		if (json_object_object_get_ex(req, "arg", &v))
			json_object_object_add(resp, "echo",
			    json_object_get(v));
		return 0;
	}
	if (strcmp(cmd, "status") == 0) {
		json_object_object_add(resp, "version",
		    json_object_new_string("test"));
		return 0;
	}
	if (strcmp(cmd, "fail") == 0) {
		json_object_object_add(resp, "error",
		    json_object_new_string("toy failure"));
		return -1;
	}
	if (strcmp(cmd, "fail-silent") == 0)
		return -1;
	if (strcmp(cmd, "emit") == 0) {
		emit_count++;
		tcp2_ctl_event(ctl, "toy", NULL);
		return 0;
	}
	if (strcmp(cmd, "decrypt") == 0) {
		/* Echo the input descriptor's bytes, copy them to the
		 * output one when there is one. */
		char buf[256];
		ssize_t n;
		int in, out;

		seen_nfds = tcp2_ctl_request_nfds(ctl);
		in = seen_fd[0] = tcp2_ctl_request_fd(ctl, 0);
		out = seen_fd[1] = tcp2_ctl_request_fd(ctl, 1);
		if (in == -1) {
			json_object_object_add(resp, "error",
			    json_object_new_string("no input"));
			return -1;
		}
		if ((n = pread(in, buf, sizeof(buf) - 1, 0)) < 0)
			return -1;
		buf[n] = '\0';
		json_object_object_add(resp, "input",
		    json_object_new_string(buf));
		if (out != -1 && pwrite(out, buf, (size_t)n, 0) != n)
			return -1;
		return 0;
	}
	if (strcmp(cmd, "show") == 0) {
		/* A handler that never looks at descriptors. */
		json_object_object_add(resp, "message",
		    json_object_new_object());
		return 0;
	}
	if (strcmp(cmd, "whoami") == 0) {
		if (tcp2_ctl_peer(ctl, &uid, NULL) != 0)
			return -1;
		json_object_object_add(resp, "uid",
		    json_object_new_int64((int64_t)uid));
		return 0;
	}
	return TCP2_CTL_UNKNOWN;
}

/* One iteration of a daemon main loop. */
static void
pump(struct tcp2_ctl *c, int ms)
{
	struct pollfd fds[TCP2_CTL_NFDS];
	size_t n;

	n = tcp2_ctl_pollfds(c, fds, TCP2_CTL_NFDS);
	if (poll(fds, n, ms) > 0)
		tcp2_ctl_process(c, fds, n);
}

/* ---- clients ---- */

static int
cconnect(const char *path)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	(void)snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		(void)close(fd);
		return -1;
	}
	return fd;
}

/* Send all of buf, letting the server run while the socket is full. */
static int
csend(int fd, const char *buf, size_t len)
{
	ssize_t n;
	int rounds = 0;

	while (len > 0) {
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno != EAGAIN || ++rounds > ROUNDS)
				return -1;
			pump(ctl, 5);
			continue;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Read one line (without LF) into out, letting server c run meanwhile.
 * Returns its length, -1 when the connection ended, -2 on timeout.
 */
static long
cline_on(struct tcp2_ctl *c, int fd, char *out, size_t max)
{
	ssize_t n;
	char *nl;
	int i;

	for (i = 0; i < ROUNDS; i++) {
		n = recv(fd, out, max - 1, MSG_PEEK);
		if (n == 0)
			return -1;
		if (n < 0 && errno != EAGAIN)
			return -1;
		if (n > 0 && (nl = memchr(out, '\n', (size_t)n)) != NULL) {
			n = recv(fd, out, (size_t)(nl - out) + 1, 0);
			out[n - 1] = '\0';
			return n - 1;
		}
		if (n == (ssize_t)max - 1)
			return -2;
		pump(c, 5);
	}
	return -2;
}

static long
cline(int fd, char *out, size_t max)
{
	return cline_on(ctl, fd, out, max);
}

/* Send a request line, read the answer as JSON (NULL on any failure). */
static json_object *
rpc(int fd, const char *line)
{
	char buf[8192];

	if (csend(fd, line, strlen(line)) == -1 ||
	    cline(fd, buf, sizeof(buf)) < 0)
		return NULL;
	return json_tokener_parse(buf);
}

static int
is_ok(json_object *o)
{
	json_object *v;

	return o != NULL && json_object_object_get_ex(o, "ok", &v) &&
	    json_object_is_type(v, json_type_boolean) &&
	    json_object_get_boolean(v);
}

static int
is_err(json_object *o, const char *text)
{
	json_object *v, *e;

	return o != NULL && json_object_object_get_ex(o, "ok", &v) &&
	    json_object_is_type(v, json_type_boolean) &&
	    !json_object_get_boolean(v) &&
	    json_object_object_get_ex(o, "error", &e) &&
	    json_object_is_type(e, json_type_string) &&
	    (text == NULL || strstr(json_object_get_string(e), text) != NULL);
}

static const char *
str_of(json_object *o, const char *key)
{
	json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return "";
	return json_object_get_string(v);
}

/* 1 when fd sees EOF (or a reset) within the rounds. */
static int
closed_by_server(int fd)
{
	char buf[256];
	ssize_t n;
	int i;

	for (i = 0; i < ROUNDS; i++) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n == 0 || (n < 0 && errno != EAGAIN))
			return 1;
		if (n < 0)
			pump(ctl, 5);
	}
	return 0;
}

/* ---- tests ---- */

static void
test_roundtrip(void)
{
	json_object *o;
	int fd;

	fd = cconnect(sock_path);
	t_check(fd != -1, "client connects");
	o = rpc(fd, "{\"cmd\":\"echo\",\"arg\":\"hi\\nthere\"}\n");
	t_check(is_ok(o) && strcmp(str_of(o, "echo"), "hi\nthere") == 0,
	    "request/response round trip (ok:true, handler fields)");
	json_object_put(o);

	o = rpc(fd, "{\"cmd\":\"no-such-thing\"}\n");
	t_check(is_err(o, "unknown command: no-such-thing"),
	    "unknown command: ok:false with its name");
	json_object_put(o);

	o = rpc(fd, "{\"cmd\":\"fail\"}\n");
	t_check(is_err(o, "toy failure"), "handler failure keeps its error");
	json_object_put(o);

	o = rpc(fd, "{\"cmd\":\"fail-silent\"}\n");
	t_check(is_err(o, "command failed"),
	    "handler failure without text: generic error");
	json_object_put(o);

	o = rpc(fd, "{\"cmd\":\"whoami\"}\r\n");
	t_check(is_ok(o) && json_object_get_int64(json_object_object_get(o,
	    "uid")) == (int64_t)geteuid(),
	    "CRLF accepted; handler sees the peer uid");
	json_object_put(o);

	o = rpc(fd, "{\"cmd\":\"echo\",\"id\":42}\n");
	t_check(is_ok(o) && json_object_get_int(json_object_object_get(o,
	    "id")) == 42, "request id is echoed");
	json_object_put(o);
	(void)close(fd);
}

static void
test_malformed(void)
{
	static const char *bad[] = {
		"{not json\n",
		"[1,2,3]\n",
		"\"cmd\"\n",
		"{}\n",
		"{\"cmd\":7}\n",
		"{\"cmd\":\"\"}\n",
		"{\"cmd\":\"echo\"} trailing\n",
		"{\"cmd\":\"echo\"}{\"cmd\":\"echo\"}\n",
		"{\"cmd\":\"echo\",\"x\":[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]}\n",
	};
	char nul[] = "{\"cmd\":\"echo\"}\0\n";
	json_object *o;
	size_t i;
	int fd, good = 1;

	fd = cconnect(sock_path);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o = rpc(fd, bad[i]);
		if (!is_err(o, "malformed request")) {
			good = 0;
			printf("# not refused: %s", bad[i]);
		}
		json_object_put(o);
	}
	t_check(good, "malformed JSON, non-objects, no cmd, trailing "
	    "garbage, deep nesting: ok:false");
	{
		char buf[512];

		(void)csend(fd, nul, sizeof(nul) - 1);
		o = cline(fd, buf, sizeof(buf)) > 0 ?
		    json_tokener_parse(buf) : NULL;
		t_check(is_err(o, "malformed"), "a NUL byte in a line is "
		    "malformed");
		json_object_put(o);
	}
	o = rpc(fd, "\n\n{\"cmd\":\"status\"}\n");
	t_check(is_ok(o) && strcmp(str_of(o, "version"), "test") == 0,
	    "connection survives malformed requests; empty lines ignored");
	json_object_put(o);
	(void)close(fd);
}

static void
test_pipeline_and_halfclose(void)
{
	static const char three[] = "{\"cmd\":\"echo\",\"id\":1}\n"
	    "{\"cmd\":\"echo\",\"id\":2}\n{\"cmd\":\"echo\",\"id\":3}\n";
	char buf[512];
	json_object *o;
	int fd, i, good = 1;

	fd = cconnect(sock_path);
	(void)csend(fd, three, strlen(three));
	for (i = 1; i <= 3; i++) {
		o = cline(fd, buf, sizeof(buf)) > 0 ?
		    json_tokener_parse(buf) : NULL;
		if (!is_ok(o) ||
		    json_object_get_int(json_object_object_get(o, "id")) != i)
			good = 0;
		json_object_put(o);
	}
	t_check(good, "pipelined requests answered in order");
	(void)close(fd);

	/* A last request without LF, then EOF from the client. */
	fd = cconnect(sock_path);
	(void)csend(fd, "{\"cmd\":\"status\"}", 16);
	(void)shutdown(fd, SHUT_WR);
	o = cline(fd, buf, sizeof(buf)) > 0 ? json_tokener_parse(buf) : NULL;
	t_check(is_ok(o), "unterminated last line before EOF is answered");
	json_object_put(o);
	t_check(closed_by_server(fd), "server closes after a half-close");
	(void)close(fd);
}

static void
test_long_line(void)
{
	size_t len = TCP2_CTL_LINE_MAX + 5000;
	char *big, buf[512];
	json_object *o;
	int fd;

	/* Exactly the limit is fine. */
	big = malloc(len + 1);
	memset(big, ' ', len);
	memcpy(big, "{\"cmd\":\"echo\"}", 14);
	big[TCP2_CTL_LINE_MAX] = '\n';
	fd = cconnect(sock_path);
	(void)csend(fd, big, TCP2_CTL_LINE_MAX + 1);
	o = cline(fd, buf, sizeof(buf)) > 0 ? json_tokener_parse(buf) : NULL;
	t_check(is_ok(o), "a request of exactly TCP2_CTL_LINE_MAX bytes");
	json_object_put(o);
	(void)close(fd);

	memset(big, 'a', len);
	fd = cconnect(sock_path);
	(void)csend(fd, big, len);
	o = cline(fd, buf, sizeof(buf)) > 0 ? json_tokener_parse(buf) : NULL;
	t_check(is_err(o, "too long"), "over-long line: error line");
	json_object_put(o);
	t_check(closed_by_server(fd), "over-long line: connection closed");
	(void)close(fd);
	free(big);
}

/* Read lines until an event of type, or give up; the line goes to out. */
static json_object *
wait_event(int fd, const char *type)
{
	char buf[4096];
	json_object *o;
	int i;

	for (i = 0; i < 20000; i++) {
		if (cline(fd, buf, sizeof(buf)) < 0)
			return NULL;
		if ((o = json_tokener_parse(buf)) == NULL)
			return NULL;
		if (strcmp(str_of(o, "event"), type) == 0)
			return o;
		json_object_put(o);
	}
	return NULL;
}

static void
test_subscribe(void)
{
	json_object *o, *f;
	int sub, fd;

	sub = cconnect(sock_path);
	o = rpc(sub, "{\"cmd\":\"subscribe\"}\n");
	t_check(is_ok(o) && json_object_get_boolean(json_object_object_get(o,
	    "subscribed")), "subscribe: ok, subscribed:true");
	json_object_put(o);

	f = json_object_new_object();
	json_object_object_add(f, "text", json_object_new_string("sent 1"));
	json_object_object_add(f, "to", json_object_new_string("b@x.org"));
	json_object_object_add(f, "event", json_object_new_string("bogus"));
	tcp2_ctl_event(ctl, "sent", f);
	json_object_put(f);
	o = wait_event(sub, "sent");
	t_check(o != NULL && strcmp(str_of(o, "text"), "sent 1") == 0 &&
	    strcmp(str_of(o, "to"), "b@x.org") == 0 &&
	    json_object_is_type(json_object_object_get(o, "time"),
	    json_type_int) &&
	    llabs(json_object_get_int64(json_object_object_get(o, "time")) -
	    (long long)time(NULL)) < 5,
	    "subscriber receives the event with time and fields");
	json_object_put(o);

	tcp2_ctl_event(ctl, "flow", NULL);
	o = wait_event(sub, "flow");
	t_check(o != NULL && strcmp(str_of(o, "text"), "flow") == 0,
	    "event without fields: text defaults to the type");
	json_object_put(o);

	/* An event raised by the handler while serving another client. */
	fd = cconnect(sock_path);
	o = rpc(fd, "{\"cmd\":\"emit\"}\n");
	t_check(is_ok(o), "handler may raise events");
	json_object_put(o);
	o = wait_event(sub, "toy");
	t_check(o != NULL, "subscriber receives the handler's event");
	json_object_put(o);

	/* A subscriber may still send requests. */
	o = rpc(sub, "{\"cmd\":\"status\",\"id\":\"s\"}\n");
	t_check(is_ok(o) && strcmp(str_of(o, "id"), "s") == 0,
	    "subscriber connection still answers requests");
	json_object_put(o);
	(void)close(fd);
	(void)close(sub);
	pump(ctl, 5);
}

static void
test_stuck_subscriber(void)
{
	struct tcp2_ctl_stats st0, st;
	char text[1001], buf[4096];
	struct timespec a, b;
	json_object *o, *f;
	int stuck, fd, i, good, got = 0;
	double secs;

	stuck = cconnect(sock_path);
	o = rpc(stuck, "{\"cmd\":\"subscribe\"}\n");
	json_object_put(o);
	tcp2_ctl_stats(ctl, &st0);
	memset(text, 'x', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	f = json_object_new_object();
	json_object_object_add(f, "text", json_object_new_string(text));

	/* 4 MB of events at a subscriber that reads nothing. */
	fd = cconnect(sock_path);
	good = 1;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < 4000; i++) {
		tcp2_ctl_event(ctl, "flow", f);
		if (i % 500 == 0) {
			o = rpc(fd, "{\"cmd\":\"status\"}\n");
			if (!is_ok(o))
				good = 0;
			json_object_put(o);
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	json_object_put(f);
	secs = (double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
	t_check(good, "other clients are answered while a subscriber is "
	    "stuck");
	t_check(secs < 10, "4000 events to a stuck subscriber took %.2f s",
	    secs);
	tcp2_ctl_stats(ctl, &st);
	t_check(st.events_dropped > st0.events_dropped,
	    "events beyond the queue bound are dropped (%llu)",
	    (unsigned long long)(st.events_dropped - st0.events_dropped));
	t_check(st.subscribers == 1 && st.clients == 2,
	    "stuck subscriber stays connected (%u clients)", st.clients);

	/* Now it reads: every line is JSON, then a "dropped" notice. */
	good = 1;
	for (;;) {
		if (cline(stuck, buf, sizeof(buf)) < 0) {
			good = 0;
			break;
		}
		if ((o = json_tokener_parse(buf)) == NULL) {
			good = 0;
			break;
		}
		got++;
		if (strcmp(str_of(o, "event"), "dropped") == 0) {
			t_check(json_object_get_int64(json_object_object_get(o,
			    "count")) == (int64_t)(st.events_dropped -
			    st0.events_dropped),
			    "\"dropped\" event counts the missed events");
			json_object_put(o);
			break;
		}
		json_object_put(o);
	}
	t_check(good && got > 10, "slow subscriber gets whole lines, then "
	    "the dropped notice (%d lines)", got);
	tcp2_ctl_event(ctl, "keyx", NULL);
	o = wait_event(stuck, "keyx");
	t_check(o != NULL, "subscriber receives events again after catching "
	    "up");
	json_object_put(o);
	(void)close(stuck);
	(void)close(fd);
	pump(ctl, 5);
}

static void
test_request_backpressure(void)
{
	static const char req[] = "{\"cmd\":\"echo\",\"arg\":\"0123456789"
	    "0123456789012345678901234567890123456789\"}\n";
	char *burst, buf[512];
	size_t i, n = 20000, len = sizeof(req) - 1;
	json_object *o;
	int lazy, fd, good = 1;

	/* A client that pipelines 2 MB of requests and never reads. */
	burst = malloc(n * len);
	for (i = 0; i < n; i++)
		memcpy(burst + i * len, req, len);
	lazy = cconnect(sock_path);
	for (i = 0; i < n * len;) {
		ssize_t w = send(lazy, burst + i, n * len - i, MSG_NOSIGNAL);

		if (w <= 0)
			break;
		i += (size_t)w;
	}
	fd = cconnect(sock_path);
	for (i = 0; i < 50; i++) {
		pump(ctl, 1);
		o = rpc(fd, "{\"cmd\":\"status\"}\n");
		if (!is_ok(o))
			good = 0;
		json_object_put(o);
	}
	t_check(good, "a client that does not read its answers does not "
	    "block others");
	/* It still gets its answers once it reads. */
	o = cline(lazy, buf, sizeof(buf)) > 0 ? json_tokener_parse(buf) : NULL;
	t_check(is_ok(o), "the lazy client's answers wait for it");
	json_object_put(o);
	(void)close(lazy);
	(void)close(fd);
	free(burst);
	pump(ctl, 5);
}

static void
test_too_many(void)
{
	int fds[TCP2_CTL_MAX_CLIENTS], extra, i;
	struct tcp2_ctl_stats st;
	char buf[256];
	json_object *o;

	for (i = 0; i < TCP2_CTL_MAX_CLIENTS; i++) {
		fds[i] = cconnect(sock_path);
		pump(ctl, 5);
	}
	for (i = 0; i < 10; i++)
		pump(ctl, 5);
	tcp2_ctl_stats(ctl, &st);
	t_check(st.clients == TCP2_CTL_MAX_CLIENTS, "%u clients connected",
	    st.clients);
	extra = cconnect(sock_path);
	o = cline(extra, buf, sizeof(buf)) > 0 ? json_tokener_parse(buf) :
	    NULL;
	t_check(is_err(o, "too many clients"), "client beyond the bound: "
	    "error line");
	json_object_put(o);
	t_check(closed_by_server(extra), "client beyond the bound: closed");
	(void)close(extra);
	for (i = 0; i < TCP2_CTL_MAX_CLIENTS; i++)
		(void)close(fds[i]);
	for (i = 0; i < 10; i++)
		pump(ctl, 5);
	tcp2_ctl_stats(ctl, &st);
	t_check(st.clients == 0, "closed clients are reaped");
}

static void
test_socket_file(void)
{
	struct tcp2_ctl *c2;
	char path[160], path2[160];
	struct sockaddr_un sun;
	struct stat sb;
	json_object *o;
	int fd, r;

	memset(&sb, 0, sizeof(sb));
	r = stat(sock_path, &sb);
	t_check(r == 0 && S_ISSOCK(sb.st_mode) &&
	    (sb.st_mode & 07777) == 0660, "socket mode is 0660 (%o)",
	    (unsigned int)(sb.st_mode & 07777));
	if (geteuid() == 0)
		t_check(sb.st_gid == TEST_GROUP, "socket group is the one "
		    "given (%u)", (unsigned int)sb.st_gid);
	else
		t_check(sb.st_gid == getegid(), "socket group is ours");

	errno = 0;
	r = tcp2_ctl_open(&c2, sock_path, (gid_t)-1, toy_handler, NULL);
	t_check(r == -1 && errno == EADDRINUSE && c2 == NULL,
	    "second server on a live socket refused (EADDRINUSE)");
	fd = cconnect(sock_path);
	o = rpc(fd, "{\"cmd\":\"status\"}\n");
	t_check(is_ok(o), "first server still serves after the refusal");
	json_object_put(o);
	(void)close(fd);

	/* A stale socket: bound, never listening, its owner gone. */
	(void)snprintf(path, sizeof(path), "%s/stale", dir);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path) + 1);	/* fits: dir is short */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	(void)bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	(void)close(fd);
	t_check(lstat(path, &sb) == 0 && S_ISSOCK(sb.st_mode),
	    "stale socket file exists");
	r = tcp2_ctl_open(&c2, path, (gid_t)-1, toy_handler, NULL);
	t_check(r == 0, "stale socket replaced");
	if (r == 0) {
		fd = cconnect(path);
		o = NULL;
		if (fd != -1) {
			char buf[256];

			(void)csend(fd, "{\"cmd\":\"status\"}\n", 17);
			o = cline_on(c2, fd, buf, sizeof(buf)) > 0 ?
			    json_tokener_parse(buf) : NULL;
		}
		t_check(is_ok(o), "the replacement serves");
		json_object_put(o);
		(void)close(fd);
		tcp2_ctl_close(c2);
		t_check(lstat(path, &sb) == -1 && errno == ENOENT,
		    "tcp2_ctl_close unlinks the socket");
	}

	/* Not a socket: left alone. */
	(void)snprintf(path2, sizeof(path2), "%s/file", dir);
	fd = open(path2, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	(void)close(fd);
	errno = 0;
	r = tcp2_ctl_open(&c2, path2, (gid_t)-1, toy_handler, NULL);
	t_check(r == -1 && errno == EEXIST && lstat(path2, &sb) == 0 &&
	    S_ISREG(sb.st_mode), "a regular file at the path is refused and "
	    "kept");
	(void)unlink(path2);

	errno = 0;
	memset(path, 'p', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	r = tcp2_ctl_open(&c2, path, (gid_t)-1, toy_handler, NULL);
	t_check(r == -1 && errno == ENAMETOOLONG, "over-long path refused");
}

/*
 * A child with other credentials asks for "status"; its exit status
 * says what it got: 0 ok, 1 permission denied (then EOF), 2 other,
 * 3 could not connect.
 */
static int
as_other(gid_t gid, const gid_t *groups, int ngroups)
{
	char buf[256];
	json_object *o;
	pid_t pid;
	int st, fd, i;
	ssize_t n;

	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		if (setgroups((size_t)ngroups, groups) == -1 ||
		    setgid(gid) == -1 || setuid(NOBODY) == -1)
			_exit(4);
		if ((fd = cconnect(sock_path)) == -1)
			_exit(3);
		(void)fcntl(fd, F_SETFL, 0);
		/* A refused client may find the socket closed already;
		 * the error line is still there to read. */
		(void)send(fd, "{\"cmd\":\"status\"}\n", 17, MSG_NOSIGNAL);
		n = read(fd, buf, sizeof(buf) - 1);
		if (n <= 0)
			_exit(2);
		buf[n] = '\0';
		o = json_tokener_parse(buf);
		if (is_ok(o))
			_exit(0);
		/* Then EOF, or a reset when our request was unread. */
		if (is_err(o, "permission denied") && read(fd, buf, 1) <= 0)
			_exit(1);
		_exit(2);
	}
	for (i = 0; i < 2000; i++) {
		pump(ctl, 5);
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	}
	(void)kill(pid, SIGKILL);
	(void)waitpid(pid, &st, 0);
	return -1;
}

static void
test_credentials(void)
{
	struct tcp2_ctl_stats st0, st;
	gid_t g = TEST_GROUP;
	int r;

	if (geteuid() != 0) {
		t_check(1, "peer credential checks (skipped: not root)");
		return;
	}
	/* Let nobody reach the socket at all, then see who gets in. */
	(void)chmod(dir, 0711);
	r = as_other(NOBODY, &g, 1);
	t_check(r == 0, "supplementary group member admitted (%d)", r);
	r = as_other(TEST_GROUP, NULL, 0);
	t_check(r == 0, "primary group member admitted (%d)", r);
	r = as_other(NOBODY, NULL, 0);
	t_check(r == 3, "mode 0660 keeps other users out (%d)", r);

	tcp2_ctl_stats(ctl, &st0);
	(void)chmod(sock_path, 0666);
	r = as_other(NOBODY, NULL, 0);
	t_check(r == 1, "with the socket opened up, a stranger still gets "
	    "\"permission denied\" and is closed (%d)", r);
	(void)chmod(sock_path, 0660);
	(void)chmod(dir, 0700);
	tcp2_ctl_stats(ctl, &st);
	t_check(st.refused == st0.refused + 1, "refusal counted");
}

/* ---- descriptors ---- */

/* Send buf with the n descriptors fds on the same sendmsg. */
static int
csend_fds(int fd, const char *buf, size_t len, const int *fds, size_t n)
{
	union {
		struct cmsghdr	h;
		char		b[CMSG_SPACE(8 * sizeof(int))];
	} cbuf;
	struct cmsghdr *cm;
	struct msghdr m;
	struct iovec iov;
	ssize_t w;

	memset(&m, 0, sizeof(m));
	memset(&cbuf, 0, sizeof(cbuf));
	iov.iov_base = (void *)(uintptr_t)buf;
	iov.iov_len = len;
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	if (n > 0) {
		m.msg_control = cbuf.b;
		m.msg_controllen = CMSG_SPACE(n * sizeof(int));
		cm = CMSG_FIRSTHDR(&m);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(n * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, n * sizeof(int));
	}
	w = sendmsg(fd, &m, MSG_NOSIGNAL);
	if (w < 0 || (size_t)w > len)
		return -1;
	return csend(fd, buf + w, len - (size_t)w);
}

/* A memfd holding text. */
static int
memfd_with(const char *name, const char *text)
{
	int fd;

	if ((fd = memfd_create(name, MFD_CLOEXEC)) == -1)
		return -1;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		(void)close(fd);
		return -1;
	}
	return fd;
}

/* Open descriptors of this process. */
static int
count_fds(void)
{
	struct dirent *de;
	DIR *d;
	int n = 0;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	(void)closedir(d);
	return n;
}

static int
fd_closed(int fd)
{
	return fd >= 0 && fcntl(fd, F_GETFD) == -1 && errno == EBADF;
}

/* Read one answer line as JSON. */
static json_object *
answer(int fd)
{
	char buf[8192];

	return cline(fd, buf, sizeof(buf)) > 0 ? json_tokener_parse(buf) :
	    NULL;
}

static void
test_fds_reach_handler(void)
{
	static const char req[] = "{\"cmd\":\"decrypt\"}\n";
	char out[64];
	json_object *o;
	int fd, in, outfd, base, r;

	base = count_fds();
	fd = cconnect(sock_path);
	in = memfd_with("in", "Subject: hi\r\n\r\nbody\r\n");
	seen_fd[0] = seen_fd[1] = -1;
	(void)csend_fds(fd, req, strlen(req), &in, 1);
	o = answer(fd);
	t_check(is_ok(o) && strcmp(str_of(o, "input"),
	    "Subject: hi\r\n\r\nbody\r\n") == 0 && seen_nfds == 1,
	    "a descriptor reaches the handler of the request it came with");
	json_object_put(o);
	t_check(seen_fd[0] != in && fd_closed(seen_fd[0]),
	    "the server's copy is closed after the handler (fd %d)",
	    seen_fd[0]);
	t_check(seen_fd[1] == -1, "tcp2_ctl_request_fd: -1 past the last");

	/* Input and output. */
	outfd = memfd_create("out", MFD_CLOEXEC);
	{
		int two[2] = { in, outfd };

		(void)csend_fds(fd, req, strlen(req), two, 2);
	}
	o = answer(fd);
	memset(out, 0, sizeof(out));
	r = (int)pread(outfd, out, sizeof(out) - 1, 0);
	t_check(is_ok(o) && seen_nfds == 2 && r > 0 &&
	    strcmp(out, "Subject: hi\r\n\r\nbody\r\n") == 0,
	    "two descriptors: input read, output written in order");
	json_object_put(o);
	t_check(fd_closed(seen_fd[0]) && fd_closed(seen_fd[1]),
	    "both server copies closed");

	/* The accessor only works inside a handler. */
	t_check(tcp2_ctl_request_fd(ctl, 0) == -1 &&
	    tcp2_ctl_request_nfds(ctl) == 0,
	    "tcp2_ctl_request_fd outside a handler: -1");
	(void)close(in);
	(void)close(outfd);
	(void)close(fd);
	pump(ctl, 5);
	t_check(count_fds() == base, "no descriptor leaked (%d, was %d)",
	    count_fds(), base);
}

static void
test_fds_unexpected(void)
{
	static const char emit[] = "{\"cmd\":\"emit\"}\n";
	static const char show[] = "{\"cmd\":\"show\",\"id\":7}\n";
	static const char dec[] = "{\"cmd\":\"decrypt\"}\n";
	int fd, m[3], i, base, before;
	json_object *o;

	base = count_fds();
	fd = cconnect(sock_path);
	for (i = 0; i < 3; i++)
		m[i] = memfd_with("x", "x");

	before = emit_count;
	(void)csend_fds(fd, emit, strlen(emit), m, 1);
	o = answer(fd);
	t_check(is_err(o, "unexpected file descriptors") &&
	    emit_count == before, "descriptors with a command that takes "
	    "none: error, and the command does not run");
	json_object_put(o);

	(void)csend_fds(fd, show, strlen(show), m, 1);
	o = answer(fd);
	t_check(is_err(o, "unexpected file descriptors") &&
	    !json_object_object_get_ex(o, "message", NULL) &&
	    json_object_get_int(json_object_object_get(o, "id")) == 7,
	    "a handler that did not take the descriptors: error, its fields "
	    "dropped, id kept");
	json_object_put(o);

	seen_nfds = 99;
	(void)csend_fds(fd, dec, strlen(dec), m, 3);
	o = answer(fd);
	t_check(is_err(o, "unexpected file descriptors") && seen_nfds == 99,
	    "3 descriptors: error before the handler");
	json_object_put(o);

	o = rpc(fd, "{\"cmd\":\"status\"}\n");
	t_check(is_ok(o), "the connection survives unexpected descriptors");
	json_object_put(o);

	/* A command that takes descriptors, sent none. */
	o = rpc(fd, dec);
	t_check(is_err(o, "no input"), "decrypt without a descriptor: the "
	    "handler's error");
	json_object_put(o);

	for (i = 0; i < 3; i++)
		(void)close(m[i]);
	(void)close(fd);
	pump(ctl, 5);
	t_check(count_fds() == base, "no descriptor leaked (%d, was %d)",
	    count_fds(), base);
}

static void
test_fds_pipelined(void)
{
	static const char echo1[] = "{\"cmd\":\"echo\",\"id\":1}\n";
	static const char dec2[] = "{\"cmd\":\"decrypt\",\"id\":2}\n";
	static const char dec3[] = "{\"cmd\":\"decrypt\",\"id\":3}\n";
	static const char echo4[] = "{\"cmd\":\"echo\",\"id\":4}\n";
	json_object *o[4];
	int fd, a, b, i, base, good;

	base = count_fds();
	fd = cconnect(sock_path);
	a = memfd_with("a", "first");
	b = memfd_with("b", "second");
	/* All four are in the socket before the server reads any: Linux
	 * returns echo1 and dec2 from one recvmsg(). */
	(void)csend(fd, echo1, strlen(echo1));
	(void)csend_fds(fd, dec2, strlen(dec2), &a, 1);
	(void)csend_fds(fd, dec3, strlen(dec3), &b, 1);
	(void)csend(fd, echo4, strlen(echo4));
	for (i = 0; i < 4; i++)
		o[i] = answer(fd);
	good = is_ok(o[0]) && is_ok(o[3]) &&
	    strcmp(str_of(o[1], "input"), "first") == 0 &&
	    strcmp(str_of(o[2], "input"), "second") == 0;
	for (i = 0; i < 4; i++) {
		if (json_object_get_int(json_object_object_get(o[i], "id")) !=
		    i + 1)
			good = 0;
		json_object_put(o[i]);
	}
	t_check(good, "pipelined requests: each descriptor goes to the "
	    "request it came with");

	/* Only the first byte comes with the descriptor. */
	(void)csend_fds(fd, dec2, 1, &b, 1);
	pump(ctl, 5);
	(void)csend(fd, dec2 + 1, strlen(dec2) - 1);
	o[0] = answer(fd);
	t_check(strcmp(str_of(o[0], "input"), "second") == 0,
	    "a descriptor sent with the line's first byte only");
	json_object_put(o[0]);

	/* Two sets for one line: refused. */
	(void)csend_fds(fd, dec2, 5, &a, 1);
	pump(ctl, 5);
	(void)csend_fds(fd, dec2 + 5, strlen(dec2) - 5, &b, 1);
	o[0] = answer(fd);
	t_check(is_err(o[0], "unexpected file descriptors"),
	    "two descriptor sets for one line: error");
	json_object_put(o[0]);

	/* Descriptors with an unfinished line, then the client goes. */
	(void)csend_fds(fd, dec2, 10, &a, 1);
	pump(ctl, 5);
	(void)close(fd);
	(void)close(a);
	(void)close(b);
	for (i = 0; i < 5; i++)
		pump(ctl, 5);
	t_check(count_fds() == base, "no descriptor leaked, also from a "
	    "client that left mid-line (%d, was %d)", count_fds(), base);
}

static void
test_fd_check(void)
{
	int m, p[2], ro;

	m = memfd_create("chk", MFD_CLOEXEC);
	t_check(tcp2_ctl_fd_check(m, TCP2_CTL_FD_IN) == 0 &&
	    tcp2_ctl_fd_check(m, TCP2_CTL_FD_OUT) == 0,
	    "fd_check: a memfd is input and output");
	ro = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	errno = 0;
	t_check(tcp2_ctl_fd_check(ro, TCP2_CTL_FD_OUT) == -1 &&
	    errno == EBADF, "fd_check: a read-only file is no output");
	t_check(pipe(p) == 0, "fd_check: a pipe for the next check");
	errno = 0;
	t_check(tcp2_ctl_fd_check(p[0], TCP2_CTL_FD_IN) == -1 &&
	    errno == EINVAL, "fd_check: a pipe is refused");
	errno = 0;
	t_check(tcp2_ctl_fd_check(99999, TCP2_CTL_FD_IN) == -1 &&
	    errno == EBADF, "fd_check: a closed descriptor");
	(void)close(m);
	(void)close(ro);
	(void)close(p[0]);
	(void)close(p[1]);
}

int
main(void)
{
	gid_t group;

	(void)signal(SIGPIPE, SIG_IGN);
	(void)snprintf(dir, sizeof(dir), "/tmp/tcp2ctl.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		t_check(0, "mkdtemp");
		return t_done();
	}
	(void)snprintf(sock_path, sizeof(sock_path), "%s/control", dir);
	group = geteuid() == 0 ? TEST_GROUP : getegid();
	if (!t_check(tcp2_ctl_open(&ctl, sock_path, group, toy_handler,
	    NULL) == 0, "tcp2_ctl_open"))
		return t_done();

	test_roundtrip();
	test_malformed();
	test_pipeline_and_halfclose();
	test_long_line();
	test_subscribe();
	test_stuck_subscriber();
	test_request_backpressure();
	test_fds_reach_handler();
	test_fds_unexpected();
	test_fds_pipelined();
	test_fd_check();
	test_too_many();
	test_socket_file();
	test_credentials();

	tcp2_ctl_close(ctl);
	t_check(access(sock_path, F_OK) == -1, "socket removed on close");
	(void)rmdir(dir);
	return t_done();
}
