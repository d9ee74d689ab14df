/*
 * ctl_echo_server.c - a TEST-ONLY control server, NOT tcp2d: the real
 * protocol layer (daemon/ctl/ctl.c) with a handler that answers the
 * held-mail commands of docs/CONTROL.md from a fixed in-memory list, so
 * that tests/cli/t_tcp2ctl_echo.sh can drive the real tcp2ctl against the
 * real socket code, descriptor passing included.  It decrypts nothing:
 * "decrypt" echoes its input into the output descriptor unchanged, and
 * "show" writes a fixed message.  The daemon's own handlers are tested
 * end to end in tests/e2e.
 *
 * usage: ctl-echo-server SOCK    (runs until SIGTERM or SIGINT)
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "ctl.h"

#define MAIL_MAX	(64L << 20)
#define TEXT_MAX	(1L << 20)

struct held {
	const char	*id, *account, *sender, *subject, *verification;
	const char	*reason;
	int		 encrypted, html, natt, gone;
	const char	*att[3];
};

static struct held held[] = {
	{ "3f2a9c0d5e6b7a8190a1b2c3d4e5f607", "alice@example.org",
	    "bob@example.net", "Invoice", "unverified",
	    "attachment invoice.exe, sender unverified", 0, 1, 1, 0,
	    { "invoice.exe" } },
	{ "00112233445566778899aabbccddeeff", "carol@example.org",
	    "mallory@evil.example", "Hi\033[31mthere", "forged",
	    "forged From", 1, 0, 3, 0,
	    { "a-rather-long-attachment-name.docm", "second-file.zip",
	    "third.js" } },
};

static const char show_msg[] =
    "From: Bob <bob@example.net>\r\nTo: alice@example.org\r\n"
    "Subject: Invoice\r\n\r\nHello Alice, the invoice is attached.\r\n";

static struct tcp2_ctl *ctl;
static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int
fail(json_object *resp, const char *text)
{
	json_object_object_add(resp, "error", json_object_new_string(text));
	return -1;
}

static json_object *
attachments(const struct held *h)
{
	json_object *arr = json_object_new_array(), *a;
	int i;

	for (i = 0; i < h->natt; i++) {
		a = json_object_new_object();
		json_object_object_add(a, "name",
		    json_object_new_string(h->att[i]));
		json_object_object_add(a, "type",
		    json_object_new_string("application/octet-stream"));
		json_object_object_add(a, "size", json_object_new_int(1000));
		json_object_array_add(arr, a);
	}
	return arr;
}

/* The held mail named by req["id"], or NULL with the error in resp. */
static struct held *
find(json_object *req, json_object *resp)
{
	char text[128];
	const char *id;
	json_object *v;
	size_t i;

	if (!json_object_object_get_ex(req, "id", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    strlen(id = json_object_get_string(v)) != 32 ||
	    strspn(id, "0123456789abcdef") != 32) {
		(void)fail(resp, "malformed id");
		return NULL;
	}
	for (i = 0; i < sizeof(held) / sizeof(held[0]); i++)
		if (!held[i].gone && strcmp(held[i].id, id) == 0)
			return &held[i];
	(void)snprintf(text, sizeof(text), "no such held mail: %s", id);
	(void)fail(resp, text);
	return NULL;
}

static int
cmd_held(json_object *req, json_object *resp)
{
	json_object *arr = json_object_new_array(), *o, *v;
	const char *acct = NULL;
	size_t i;

	if (json_object_object_get_ex(req, "account", &v) &&
	    json_object_is_type(v, json_type_string))
		acct = json_object_get_string(v);
	for (i = 0; i < sizeof(held) / sizeof(held[0]); i++) {
		if (held[i].gone || (acct != NULL &&
		    strcmp(acct, held[i].account) != 0))
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "id",
		    json_object_new_string(held[i].id));
		json_object_object_add(o, "time",
		    json_object_new_int64(1795000000 + (int64_t)i * 3600));
		json_object_object_add(o, "account",
		    json_object_new_string(held[i].account));
		json_object_object_add(o, "sender",
		    json_object_new_string(held[i].sender));
		json_object_object_add(o, "subject",
		    json_object_new_string(held[i].subject));
		json_object_object_add(o, "verification",
		    json_object_new_string(held[i].verification));
		json_object_object_add(o, "encrypted",
		    json_object_new_boolean(held[i].encrypted));
		json_object_object_add(o, "html",
		    json_object_new_boolean(held[i].html));
		json_object_object_add(o, "attachments", attachments(&held[i]));
		json_object_object_add(o, "reason",
		    json_object_new_string(held[i].reason));
		json_object_object_add(o, "state",
		    json_object_new_string("held"));
		json_object_array_add(arr, o);
	}
	json_object_object_add(resp, "held", arr);
	return 0;
}

static json_object *
view(const char *from, const char *subject, const char *text, size_t len,
    size_t size, const struct held *h)
{
	json_object *o = json_object_new_object();
	size_t tl = len > TEXT_MAX ? TEXT_MAX : len;

	json_object_object_add(o, "from", json_object_new_string(from));
	json_object_object_add(o, "to",
	    json_object_new_string("alice@example.org"));
	json_object_object_add(o, "cc", json_object_new_string(""));
	json_object_object_add(o, "date",
	    json_object_new_string("Tue, 24 Nov 2026 10:00:00 +0000"));
	json_object_object_add(o, "subject", json_object_new_string(subject));
	json_object_object_add(o, "verification",
	    json_object_new_string(h != NULL ? h->verification : "verified"));
	json_object_object_add(o, "signer",
	    json_object_new_string(h != NULL ? "" : "bob@example.net"));
	json_object_object_add(o, "encrypted",
	    json_object_new_boolean(h != NULL ? h->encrypted : 1));
	json_object_object_add(o, "html",
	    json_object_new_boolean(h != NULL ? h->html : 0));
	json_object_object_add(o, "text",
	    json_object_new_string_len(text, (int)tl));
	json_object_object_add(o, "text_truncated",
	    json_object_new_boolean(tl < len));
	json_object_object_add(o, "attachments", h != NULL ? attachments(h) :
	    json_object_new_array());
	json_object_object_add(o, "size", json_object_new_int64((int64_t)size));
	return o;
}

/* Replace what out holds with buf. */
static int
write_out(int out, const char *buf, size_t len, json_object *resp)
{
	size_t off = 0;
	ssize_t n;

	if (tcp2_ctl_fd_check(out, TCP2_CTL_FD_OUT) == -1)
		return fail(resp, "output: not a regular file open for "
		    "writing");
	if (ftruncate(out, 0) == -1)
		return fail(resp, "output: cannot truncate");
	while (off < len) {
		if ((n = pwrite(out, buf + off, len - off, (off_t)off)) <= 0)
			return fail(resp, "output: write failed");
		off += (size_t)n;
	}
	return 0;
}

static int
cmd_show(json_object *req, json_object *resp)
{
	struct held *h;
	int out;

	if ((h = find(req, resp)) == NULL)
		return -1;
	if ((out = tcp2_ctl_request_fd(ctl, 0)) != -1 &&
	    write_out(out, show_msg, sizeof(show_msg) - 1, resp) == -1)
		return -1;
	json_object_object_add(resp, "message", view(h->sender, h->subject,
	    "Hello Alice, the invoice is attached.\r\n", 39,
	    sizeof(show_msg) - 1, h));
	return 0;
}

/* "decrypt": the input, unchanged, as the message. */
static int
cmd_decrypt(json_object *resp)
{
	char path[64], link[PATH_MAX];
	int in, out;
	char *buf;
	size_t len = 0;
	ssize_t n;

	if ((in = tcp2_ctl_request_fd(ctl, 0)) == -1)
		return fail(resp, "decrypt needs the mail as a file "
		    "descriptor");
	out = tcp2_ctl_request_fd(ctl, 1);
	if (tcp2_ctl_fd_check(in, TCP2_CTL_FD_IN) == -1)
		return fail(resp, "input: not a regular file open for reading");
	if ((buf = malloc(MAIL_MAX + 1)) == NULL)
		return fail(resp, "out of memory");
	while (len <= MAIL_MAX &&
	    (n = pread(in, buf + len, MAIL_MAX + 1 - len, (off_t)len)) > 0)
		len += (size_t)n;
	if (len > MAIL_MAX) {
		free(buf);
		return fail(resp, "not decryptable: larger than 64 MiB");
	}
	if (out != -1 && write_out(out, buf, len, resp) == -1) {
		free(buf);
		return -1;
	}
	json_object_object_add(resp, "message", view("Bob <bob@example.net>",
	    "(echo)", buf, len, len, NULL));
	free(buf);
	/* For the test: what kind of file came. */
	(void)snprintf(path, sizeof(path), "/proc/self/fd/%d", in);
	n = readlink(path, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = '\0';
	json_object_object_add(resp, "input_kind", json_object_new_string(
	    strncmp(link, "/memfd:", 7) == 0 ? "memfd" : "file"));
	return 0;
}

static int
handler(void *arg, const char *cmd, json_object *req, json_object *resp)
{
	json_object *v, *ev;
	struct held *h;
	int strip;

	(void)arg;
	if (strcmp(cmd, "status") == 0) {
		json_object_object_add(resp, "version",
		    json_object_new_string("ctl-echo-server (test only)"));
		/* Lets a test see that its subscriber is in place. */
		tcp2_ctl_event(ctl, "ping", NULL);
		return 0;
	}
	if (strcmp(cmd, "held") == 0)
		return cmd_held(req, resp);
	if (strcmp(cmd, "receive") == 0) {
		if ((h = find(req, resp)) == NULL)
			return -1;
		strip = json_object_object_get_ex(req, "strip_attachments",
		    &v) && json_object_get_boolean(v);
		json_object_object_add(resp, "hint", json_object_new_string(
		    strip ? "It will be in your mail client at its next mail "
		    "check, without its attachments." : "It will be in your "
		    "mail client at its next mail check."));
		return 0;
	}
	if (strcmp(cmd, "discard") == 0) {
		if ((h = find(req, resp)) == NULL)
			return -1;
		h->gone = 1;
		ev = json_object_new_object();
		json_object_object_add(ev, "account",
		    json_object_new_string(h->account));
		json_object_object_add(ev, "id", json_object_new_string(h->id));
		json_object_object_add(ev, "why", json_object_new_string("user"));
		tcp2_ctl_event(ctl, "discarded", ev);
		json_object_put(ev);
		return 0;
	}
	if (strcmp(cmd, "show") == 0)
		return cmd_show(req, resp);
	if (strcmp(cmd, "decrypt") == 0)
		return cmd_decrypt(resp);
	return TCP2_CTL_UNKNOWN;
}

int
main(int argc, char **argv)
{
	struct pollfd fds[TCP2_CTL_NFDS];
	struct sigaction sa;
	size_t n;

	if (argc != 2) {
		fputs("usage: ctl-echo-server SOCK\n", stderr);
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGINT, &sa, NULL);
	(void)signal(SIGPIPE, SIG_IGN);
	if (tcp2_ctl_open(&ctl, argv[1], (gid_t)-1, handler, NULL) == -1) {
		fprintf(stderr, "ctl-echo-server: %s: %s\n", argv[1],
		    strerror(errno));
		return 1;
	}
	while (!stop) {
		n = tcp2_ctl_pollfds(ctl, fds, TCP2_CTL_NFDS);
		if (poll(fds, n, 200) > 0)
			tcp2_ctl_process(ctl, fds, n);
	}
	tcp2_ctl_close(ctl);
	return 0;
}
