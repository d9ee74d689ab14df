/*
 * test_config.c - tcp2d's configuration file parser (daemon/config.c):
 * every key with comments, blanks and a missing last LF; every way a file
 * can be wrong, each reported as "NAME:LINE: message" with the right line;
 * the length limits at their edges; a missing default file versus a
 * missing explicit one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "harness.h"

/* Parse text (len bytes, may hold NULs) named "t.conf". */
static int
parse(struct tcp2_config *c, const char *text, size_t len, char *err)
{
	FILE *f;
	int rc;

	tcp2_config_init(c);
	err[0] = '\0';
	f = fmemopen((void *)text, len, "r");
	if (f == NULL)
		return -2;
	rc = tcp2_config_parse(c, f, "t.conf", err, TCP2_CONFIG_ERR_MAX);
	fclose(f);
	return rc;
}

static void
good_file(void)
{
	static const char text[] =
	    "# tcp2d settings\n"
	    "\n"
	    "state-dir = /srv/tcp2/state\n"
	    "  control=/run/t/ctl   \n"
	    "\tcontrol-group =\tmail-users # who may connect\n"
	    "backend = kmod\n"
	    "queue = 65535\n"
	    "   # indented comment\n"
	    "log-level = debug";		/* no final LF */
	struct tcp2_config c;
	char err[TCP2_CONFIG_ERR_MAX];

	t_check(parse(&c, text, sizeof(text) - 1, err) == 0,
	    "a file with every key parses (%s)", err);
	t_check(c.set == (TCP2_CONF_STATE_DIR | TCP2_CONF_CONTROL |
	    TCP2_CONF_CONTROL_GROUP | TCP2_CONF_BACKEND | TCP2_CONF_QUEUE |
	    TCP2_CONF_LOG_LEVEL), "every key is marked as set");
	t_check(strcmp(c.state_dir, "/srv/tcp2/state") == 0 &&
	    strcmp(c.control, "/run/t/ctl") == 0, "paths are taken, trimmed");
	t_check(strcmp(c.control_group, "mail-users") == 0,
	    "a comment after a blank ends the value");
	t_check(strcmp(c.backend, "kmod") == 0 && c.queue == 65535 &&
	    c.log_level == 1, "backend, queue and log-level are taken");

	t_check(parse(&c, "", 0, err) == 0 && c.set == 0,
	    "an empty file sets nothing");
	t_check(parse(&c, "queue = 0\nlog-level = info\n", 27, err) == 0 &&
	    c.queue == 0 && c.log_level == 0 && c.set == (TCP2_CONF_QUEUE |
	    TCP2_CONF_LOG_LEVEL), "queue 0 and log-level info");
	t_check(parse(&c, "state-dir = /a#b\n", 17, err) == 0 &&
	    strcmp(c.state_dir, "/a#b") == 0,
	    "a # inside a value is part of it");
}

struct bad {
	const char *text;
	const char *err;	/* expected message, exactly */
};

static void
bad_files(void)
{
	static const struct bad cases[] = {
		{ "frobnicate = 1\n", "t.conf:1: unknown key \"frobnicate\"" },
		{ "\n# c\nqueue 7\n", "t.conf:3: expected \"key = value\"" },
		{ "queue = 1\nbackend = rules\nqueue = 2\n",
		    "t.conf:3: queue given twice (first on line 1)" },
		{ "control =   \n", "t.conf:1: control: empty value" },
		{ "control = # nothing\n", "t.conf:1: control: empty value" },
		{ "state-dir = var/lib/tcp2\n",
		    "t.conf:1: not an absolute path: var/lib/tcp2" },
		{ "state-dir = \"/var/lib/tcp2\"\n",
		    "t.conf:1: not an absolute path: \"/var/lib/tcp2\"" },
		{ "control-group = 9lives\n",
		    "t.conf:1: not a group name: 9lives" },
		{ "control-group = a/b\n", "t.conf:1: not a group name: a/b" },
		{ "control-group = -x\n", "t.conf:1: not a group name: -x" },
		{ "backend = nft\n",
		    "t.conf:1: backend must be rules or kmod, not nft" },
		{ "backend = Rules\n",
		    "t.conf:1: backend must be rules or kmod, not Rules" },
		{ "queue = 65536\n", "t.conf:1: queue must be a number from "
		    "0 to 65535, not 65536" },
		{ "queue = -1\n", "t.conf:1: queue must be a number from "
		    "0 to 65535, not -1" },
		{ "queue = 0x10\n", "t.conf:1: queue must be a number from "
		    "0 to 65535, not 0x10" },
		{ "queue = 7 8\n", "t.conf:1: queue must be a number from "
		    "0 to 65535, not 7 8" },
		{ "queue = 000007\n", "t.conf:1: queue must be a number from "
		    "0 to 65535, not 000007" },
		{ "log-level = verbose\n",
		    "t.conf:1: log-level must be info or debug, not verbose" },
		{ "queue = 7\r\n", "t.conf:1: control character (a CR or a "
		    "NUL?) in the line" },
		{ "= 7\n", "t.conf:1: unknown key \"\"" },
	};
	struct tcp2_config c;
	char err[TCP2_CONFIG_ERR_MAX];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		t_check(parse(&c, cases[i].text, strlen(cases[i].text), err) ==
		    -1 && strcmp(err, cases[i].err) == 0,
		    "refused: %s (got \"%s\")", cases[i].err, err);
	t_check(parse(&c, "queue = 7\nback\0end = rules\n", 27, err) == -1 &&
	    strcmp(err, "t.conf:2: NUL byte") == 0,
	    "a NUL byte is refused with its line (%s)", err);
}

static void
limits(void)
{
	struct tcp2_config c;
	char err[TCP2_CONFIG_ERR_MAX], *text, path[200];
	size_t n, i;

	/* A line of exactly TCP2_CONFIG_LINE_MAX bytes, then one more. */
	n = TCP2_CONFIG_LINE_MAX;
	text = malloc(3 * n);
	if (text == NULL)
		exit(1);
	memset(text, ' ', n + 1);
	text[0] = '#';
	text[n] = '\n';
	memcpy(text + n + 1, "queue = 3\n", 10);
	t_check(parse(&c, text, n + 11, err) == 0 && c.queue == 3,
	    "a line of %zu bytes is read (%s)", n, err);
	text[n] = ' ';
	text[n + 1] = '\n';
	t_check(parse(&c, text, n + 2, err) == -1 &&
	    strcmp(err, "t.conf:1: line longer than 1024 bytes") == 0,
	    "a line of %zu bytes is refused (%s)", n + 1, err);

	/* 1000 lines are fine, the 1001st is refused. */
	for (i = 0; i < 1001; i++)
		memcpy(text + 2 * i, "#\n", 2);
	t_check(parse(&c, text, 2000, err) == 0, "1000 lines are read");
	t_check(parse(&c, text, 2002, err) == -1 &&
	    strcmp(err, "t.conf:1001: more than 1000 lines") == 0,
	    "line 1001 is refused (%s)", err);
	free(text);

	/* control must fit a unix socket address (107 bytes + NUL). */
	memset(path, 'c', sizeof(path));
	memcpy(path, "control = /", 11);
	path[10 + 107] = '\n';
	t_check(parse(&c, path, 10 + 108, err) == 0 &&
	    strlen(c.control) == 107, "a control path of 107 bytes fits");
	path[10 + 107] = 'c';
	path[10 + 108] = '\n';
	t_check(parse(&c, path, 10 + 109, err) == -1 &&
	    strcmp(err, "t.conf:1: path longer than 107 bytes") == 0,
	    "a control path of 108 bytes is refused (%s)", err);
}

static void
files(void)
{
	char dir[] = "/tmp/tcp2-test-config-XXXXXX", path[128], err[2000];
	struct tcp2_config c;
	FILE *f;

	if (!t_check(mkdtemp(dir) != NULL, "temporary directory"))
		return;
	snprintf(path, sizeof(path), "%s/none.conf", dir);
	t_check(tcp2_config_load(&c, path, 1, err, sizeof(err)) == 0 &&
	    c.set == 0, "a missing default file is an empty configuration");
	t_check(tcp2_config_load(&c, path, 0, err, sizeof(err)) == -1 &&
	    strstr(err, path) == err && strstr(err, ": No such file") != NULL,
	    "a missing explicit file is an error (%s)", err);
	t_check(tcp2_config_load(&c, dir, 1, err, sizeof(err)) == -1 &&
	    strstr(err, ": Is a directory") != NULL,
	    "a directory is an error (%s)", err);

	snprintf(path, sizeof(path), "%s/t.conf", dir);
	f = fopen(path, "w");
	if (f != NULL) {
		fputs("backend = rules\nqueue = 9\nqueue = 9\n", f);
		fclose(f);
	}
	t_check(tcp2_config_load(&c, path, 1, err, sizeof(err)) == -1 &&
	    strstr(err, path) == err && strcmp(err + strlen(path),
	    ":3: queue given twice (first on line 2)") == 0,
	    "errors name the file and the line (%s)", err);
	f = fopen(path, "w");
	if (f != NULL) {
		fputs("backend = rules\nqueue = 9\n", f);
		fclose(f);
	}
	t_check(tcp2_config_load(&c, path, 0, err, sizeof(err)) == 0 &&
	    c.queue == 9 && strcmp(c.backend, "rules") == 0,
	    "a file is loaded");
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	good_file();
	bad_files();
	limits();
	files();
	return t_done();
}
