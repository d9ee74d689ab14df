/*
 * config.c - parse tcp2d's configuration file (see config.h, tcp2.conf(5)).
 *
 * One line at a time, read byte by byte into a fixed buffer so that a
 * long line or a NUL byte is reported, never allocated or truncated.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

enum line_rc { LINE_OK, LINE_EOF, LINE_LONG, LINE_NUL, LINE_ERR };

struct key {
	const char	*name;
	unsigned	 bit;
	int		(*set)(struct tcp2_config *, const char *, char *,
			    size_t);
};

static void
init_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
init_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

void
tcp2_config_init(struct tcp2_config *c)
{
	memset(c, 0, sizeof(*c));
}

/* Read one line without its LF (a CR before it is kept and refused later
 * as a control character).  buf has cap bytes; the line is NUL-terminated. */
static enum line_rc
read_line(FILE *f, char *buf, size_t cap, size_t *len)
{
	int ch, nul = 0;
	size_t n = 0;

	while ((ch = getc(f)) != EOF && ch != '\n') {
		if (ch == '\0')
			nul = 1;
		if (n + 1 >= cap) {
			/* Too long: the line is refused, no need to read on. */
			buf[n] = '\0';
			return LINE_LONG;
		}
		buf[n++] = (char)ch;
	}
	buf[n] = '\0';
	*len = n;
	if (ferror(f))
		return LINE_ERR;
	if (ch == EOF && n == 0)
		return LINE_EOF;
	return nul ? LINE_NUL : LINE_OK;
}

static int
is_blank(int ch)
{
	return ch == ' ' || ch == '\t';
}

static char *
trim(char *s)
{
	char *e;

	while (is_blank(*s))
		s++;
	e = s + strlen(s);
	while (e > s && is_blank(e[-1]))
		*--e = '\0';
	return s;
}

/* Cut a comment: "#" at the start or after a blank. */
static void
cut_comment(char *s)
{
	char *p;

	for (p = s; *p; p++) {
		if (*p == '#' && (p == s || is_blank(p[-1]))) {
			*p = '\0';
			return;
		}
	}
}

static int
has_control(const char *s)
{
	for (; *s; s++)
		if (((unsigned char)*s < 0x20 && *s != '\t') || *s == 0x7f)
			return 1;
	return 0;
}

static int
set_path(char *dst, size_t cap, const char *v, char *err, size_t errlen)
{
	if (v[0] != '/') {
		init_err(err, errlen, "not an absolute path: %s", v);
		return -1;
	}
	if (strlen(v) >= cap) {
		init_err(err, errlen, "path longer than %zu bytes", cap - 1);
		return -1;
	}
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

static int
set_state_dir(struct tcp2_config *c, const char *v, char *err, size_t el)
{
	return set_path(c->state_dir, sizeof(c->state_dir), v, err, el);
}

static int
set_control(struct tcp2_config *c, const char *v, char *err, size_t el)
{
	return set_path(c->control, sizeof(c->control), v, err, el);
}

/* A portable group name: letters, digits, '_', '-', '.', not starting
 * with '-' or a digit, at most 32 bytes. */
static int
set_group(struct tcp2_config *c, const char *v, char *err, size_t el)
{
	size_t i, n = strlen(v);

	if (n > sizeof(c->control_group) - 1 || v[0] == '-' ||
	    (v[0] >= '0' && v[0] <= '9'))
		goto bad;
	for (i = 0; i < n; i++)
		if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' &&
		    v[i] <= 'Z') || (v[i] >= '0' && v[i] <= '9') ||
		    v[i] == '_' || v[i] == '-' || v[i] == '.'))
			goto bad;
	memcpy(c->control_group, v, n + 1);
	return 0;
bad:
	init_err(err, el, "not a group name: %s", v);
	return -1;
}

static int
set_backend(struct tcp2_config *c, const char *v, char *err, size_t el)
{
	if (strcmp(v, "rules") != 0 && strcmp(v, "kmod") != 0) {
		init_err(err, el, "backend must be rules or kmod, not %s", v);
		return -1;
	}
	memcpy(c->backend, v, strlen(v) + 1);
	return 0;
}

static int
set_queue(struct tcp2_config *c, const char *v, char *err, size_t el)
{
	unsigned long q;
	char *end;

	/* strtoul alone would take signs, blanks and "0x". */
	if (v[0] < '0' || v[0] > '9' || strlen(v) > 5)
		goto bad;
	errno = 0;
	q = strtoul(v, &end, 10);
	if (errno != 0 || *end != '\0' || q > 65535)
		goto bad;
	c->queue = (uint16_t)q;
	return 0;
bad:
	init_err(err, el, "queue must be a number from 0 to 65535, not %s",
	    v);
	return -1;
}

static int
set_log_level(struct tcp2_config *c, const char *v, char *err, size_t el)
{
	if (strcmp(v, "info") == 0)
		c->log_level = 0;
	else if (strcmp(v, "debug") == 0)
		c->log_level = 1;
	else {
		init_err(err, el, "log-level must be info or debug, not %s",
		    v);
		return -1;
	}
	return 0;
}

static const struct key keys[] = {
	{ "state-dir",		TCP2_CONF_STATE_DIR,		set_state_dir },
	{ "control",		TCP2_CONF_CONTROL,		set_control },
	{ "control-group",	TCP2_CONF_CONTROL_GROUP,	set_group },
	{ "backend",		TCP2_CONF_BACKEND,		set_backend },
	{ "queue",		TCP2_CONF_QUEUE,		set_queue },
	{ "log-level",		TCP2_CONF_LOG_LEVEL,		set_log_level },
};

/* One non-empty, comment-free line: "key = value". */
static int
parse_setting(struct tcp2_config *c, char *s, unsigned lineno, char *msg,
    size_t msglen)
{
	char *eq, *k, *v;
	size_t i;

	if ((eq = strchr(s, '=')) == NULL) {
		init_err(msg, msglen, "expected \"key = value\"");
		return -1;
	}
	*eq = '\0';
	k = trim(s);
	v = trim(eq + 1);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(k, keys[i].name) == 0)
			break;
	if (i == sizeof(keys) / sizeof(keys[0])) {
		init_err(msg, msglen, "unknown key \"%.64s\"", k);
		return -1;
	}
	if (c->set & keys[i].bit) {
		init_err(msg, msglen, "%s given twice (first on line %u)", k,
		    c->line[i]);
		return -1;
	}
	if (*v == '\0') {
		init_err(msg, msglen, "%s: empty value", k);
		return -1;
	}
	if (keys[i].set(c, v, msg, msglen) != 0)
		return -1;
	c->set |= keys[i].bit;
	c->line[i] = lineno;
	return 0;
}

int
tcp2_config_parse(struct tcp2_config *c, FILE *f, const char *name,
    char *err, size_t errlen)
{
	char buf[TCP2_CONFIG_LINE_MAX + 2], msg[TCP2_CONFIG_ERR_MAX / 2];
	unsigned lineno = 0;
	enum line_rc rc;
	size_t len;
	char *s;

	for (;;) {
		rc = read_line(f, buf, TCP2_CONFIG_LINE_MAX + 1, &len);
		if (rc == LINE_EOF)
			return 0;
		lineno++;
		switch (rc) {
		case LINE_ERR:
			init_err(err, errlen, "%s: %s", name, strerror(errno));
			return -1;
		case LINE_LONG:
			snprintf(msg, sizeof(msg), "line longer than %d bytes",
			    TCP2_CONFIG_LINE_MAX);
			goto bad;
		case LINE_NUL:
			snprintf(msg, sizeof(msg), "NUL byte");
			goto bad;
		default:
			break;
		}
		if (lineno > TCP2_CONFIG_LINES_MAX) {
			snprintf(msg, sizeof(msg), "more than %d lines",
			    TCP2_CONFIG_LINES_MAX);
			goto bad;
		}
		cut_comment(buf);
		s = trim(buf);
		if (*s == '\0')
			continue;
		if (has_control(s)) {
			snprintf(msg, sizeof(msg), "control character (a CR "
			    "or a NUL?) in the line");
			goto bad;
		}
		if (parse_setting(c, s, lineno, msg, sizeof(msg)) != 0)
			goto bad;
	}
bad:
	init_err(err, errlen, "%s:%u: %s", name, lineno, msg);
	return -1;
}

int
tcp2_config_load(struct tcp2_config *c, const char *path, int optional,
    char *err, size_t errlen)
{
	FILE *f;
	int rc;

	tcp2_config_init(c);
	if ((f = fopen(path, "re")) == NULL) {
		if (optional && errno == ENOENT)
			return 0;
		init_err(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	rc = tcp2_config_parse(c, f, path, err, errlen);
	fclose(f);
	return rc;
}
