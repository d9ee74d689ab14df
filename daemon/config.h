/*
 * config.h - tcp2d's configuration file (/etc/tcp2/tcp2.conf, tcp2.conf(5)).
 *
 * "key = value" lines, "#" comments, nothing else.  The parser is strict:
 * an unknown key, a key given twice or a value out of range stops the
 * daemon with "FILE:LINE: message" rather than starting it with a setting
 * the operator did not mean.  It only records what the file says; the
 * defaults and the command line (which wins) are tcp2d's business.
 */
#ifndef TCP2_CONFIG_H
#define TCP2_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#define TCP2_CONFIG_DEFAULT	"/etc/tcp2/tcp2.conf"
#define TCP2_CONFIG_LINE_MAX	1024	/* bytes per line, without its LF */
#define TCP2_CONFIG_LINES_MAX	1000
#define TCP2_CONFIG_ERR_MAX	1200	/* room for "FILE:LINE: message" */

/* Bits of tcp2_config.set: which keys the file gave. */
enum {
	TCP2_CONF_STATE_DIR	= 1 << 0,
	TCP2_CONF_CONTROL	= 1 << 1,
	TCP2_CONF_CONTROL_GROUP	= 1 << 2,
	TCP2_CONF_BACKEND	= 1 << 3,
	TCP2_CONF_QUEUE		= 1 << 4,
	TCP2_CONF_LOG_LEVEL	= 1 << 5,
};

struct tcp2_config {
	unsigned	set;			/* TCP2_CONF_* */
	char		state_dir[1024];	/* absolute path */
	char		control[108];		/* absolute, fits sun_path */
	char		control_group[33];	/* a group name */
	char		backend[8];		/* "rules" or "kmod" */
	uint16_t	queue;			/* NFQUEUE number */
	int		log_level;		/* 0 info, 1 debug */
	unsigned	line[6];		/* where each key was set */
};

/* Empty configuration: nothing set. */
void tcp2_config_init(struct tcp2_config *c);

/*
 * Parse the configuration text of stream f, named name in messages, into
 * c (which tcp2_config_init() prepared).  Returns 0, or -1 with a one-line
 * "NAME:LINE: message" in err (errlen bytes, TCP2_CONFIG_ERR_MAX is
 * enough); c may then be partly filled and must not be used.
 */
int tcp2_config_parse(struct tcp2_config *c, FILE *f, const char *name,
    char *err, size_t errlen);

/*
 * Initialise c and read the file at path.  When optional is set, a file
 * that does not exist is an empty configuration; any other failure to
 * open or read it is an error.  Returns 0, or -1 with "PATH: reason" or
 * "PATH:LINE: message" in err.
 */
int tcp2_config_load(struct tcp2_config *c, const char *path, int optional,
    char *err, size_t errlen);

#endif /* TCP2_CONFIG_H */
