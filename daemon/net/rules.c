/*
 * rules.c - install and remove the NFQUEUE capture rules.
 *
 * The chains TCP2_OUT and TCP2_IN are filled with iptables-restore
 * --noflush: one transaction per table, so replacing the rules (an account
 * added, registration armed) never leaves a moment where a captured
 * connection is not captured.  The jumps from OUTPUT and INPUT are added
 * once and checked with -C.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "inject.h"
#include "rules.h"

extern char **environ;

#define IPT(v6)		((v6) ? "ip6tables" : "iptables")
#define IPT_RESTORE(v6)	((v6) ? "ip6tables-restore" : "iptables-restore")

/* Run argv with stdin from input (may be NULL); quiet: stderr to
 * /dev/null.  Exit status, or -1. */
static int
run(char *const argv[], const char *input, int quiet)
{
	posix_spawn_file_actions_t fa;
	int p[2] = { -1, -1 }, st;
	size_t len, off = 0;
	ssize_t n;
	pid_t pid;

	if (input != NULL && pipe2(p, O_CLOEXEC) != 0)
		return -1;
	posix_spawn_file_actions_init(&fa);
	if (input != NULL)
		posix_spawn_file_actions_adddup2(&fa, p[0], 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	if (quiet)
		posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY,
		    0);
	st = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (input != NULL) {
		close(p[0]);
		len = strlen(input);
		while (st == 0 && off < len &&
		    (n = write(p[1], input + off, len - off)) > 0)
			off += (size_t)n;
		close(p[1]);
	}
	if (st != 0)
		return -1;
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* The jump from a built-in chain to ours, unless it is there. */
static int
ensure_jump(int v6, const char *from, const char *to)
{
	char *chk[] = { IPT(v6), "-w", "-C", (char *)from, "-j", (char *)to,
	    NULL };
	char *ins[] = { IPT(v6), "-w", "-I", (char *)from, "1", "-j",
	    (char *)to, NULL };

	if (run(chk, NULL, 1) == 0)
		return 0;
	return run(ins, NULL, 0) == 0 ? 0 : TCP2_EIO;
}

/* Append "-A chain ... -j NFQUEUE" lines for one direction. */
static int
put_rule(char **buf, size_t *len, size_t *cap, const char *line)
{
	size_t n = strlen(line);
	char *nb;

	if (*len + n + 1 > *cap) {
		*cap = (*len + n + 1) * 2;
		nb = realloc(*buf, *cap);
		if (nb == NULL)
			return TCP2_ENOMEM;
		*buf = nb;
	}
	memcpy(*buf + *len, line, n + 1);
	*len += n;
	return 0;
}

static int
install_family(int v6, const struct tcp2_endpoint *eps, size_t n,
    uint16_t qnum)
{
	char *argv[] = { IPT_RESTORE(v6), "-w", "--noflush", NULL };
	char line[512], addr[INET6_ADDRSTRLEN], a_out[80], a_in[80];
	char *buf = NULL;
	size_t len = 0, cap = 0, i;
	int rc;

	/* Injected segments carry TCP2_MARK both ways.  The daemon's own
	 * connections (re-delivery of held mail) carry TCP2_MARK_OWN going
	 * out, which is copied to their conntrack entry so that the replies
	 * are known too.  Segments of captured flows never set the
	 * connection mark: a client's connection can never be exempted. */
	snprintf(line, sizeof(line), "*filter\n:TCP2_OUT - [0:0]\n"
	    ":TCP2_IN - [0:0]\n"
	    "-A TCP2_OUT -m mark --mark 0x%x/0x%x -j RETURN\n"
	    "-A TCP2_OUT -m mark --mark 0x%x/0x%x -j CONNMARK --set-xmark "
	    "0x%x/0x%x\n"
	    "-A TCP2_OUT -m mark --mark 0x%x/0x%x -j RETURN\n"
	    "-A TCP2_IN -m mark --mark 0x%x/0x%x -j RETURN\n"
	    "-A TCP2_IN -m connmark --mark 0x%x/0x%x -j RETURN\n",
	    TCP2_MARK, TCP2_MARK_MASK, TCP2_MARK_OWN, TCP2_MARK_MASK,
	    TCP2_MARK_OWN, TCP2_MARK_MASK, TCP2_MARK_OWN, TCP2_MARK_MASK,
	    TCP2_MARK, TCP2_MARK_MASK, TCP2_MARK_OWN, TCP2_MARK_MASK);
	rc = put_rule(&buf, &len, &cap, line);
	for (i = 0; i < n && rc == 0; i++) {
		if ((eps[i].family == AF_INET6) != v6)
			continue;
		a_out[0] = a_in[0] = '\0';
		if (!eps[i].any) {
			inet_ntop(eps[i].family, eps[i].addr, addr,
			    sizeof(addr));
			snprintf(a_out, sizeof(a_out), "-d %s ", addr);
			snprintf(a_in, sizeof(a_in), "-s %s ", addr);
		}
		snprintf(line, sizeof(line), "-A TCP2_OUT -p tcp %s--dport %u "
		    "-j NFQUEUE --queue-num %u\n-A TCP2_IN -p tcp %s--sport %u "
		    "-j NFQUEUE --queue-num %u\n", a_out, eps[i].port, qnum,
		    a_in, eps[i].port, qnum);
		rc = put_rule(&buf, &len, &cap, line);
	}
	if (rc == 0)
		rc = put_rule(&buf, &len, &cap, "COMMIT\n");
	if (rc == 0 && run(argv, buf, 0) != 0)
		rc = TCP2_EIO;
	free(buf);
	if (rc == 0)
		rc = ensure_jump(v6, "OUTPUT", "TCP2_OUT");
	if (rc == 0)
		rc = ensure_jump(v6, "INPUT", "TCP2_IN");
	return rc;
}

int
tcp2_rules_install(const struct tcp2_endpoint *eps, size_t n, uint16_t qnum)
{
	int rc;

	rc = install_family(0, eps, n, qnum);
	/* ip6tables may be missing where IPv6 is off: then there is
	 * nothing to capture in IPv6 either, unless an endpoint is v6. */
	if (rc == 0 && install_family(1, eps, n, qnum) != 0) {
		size_t i;

		for (i = 0; i < n; i++)
			if (eps[i].family == AF_INET6)
				return TCP2_EIO;
	}
	return rc;
}

static void
remove_family(int v6)
{
	char *jo[] = { IPT(v6), "-w", "-D", "OUTPUT", "-j", "TCP2_OUT", NULL };
	char *ji[] = { IPT(v6), "-w", "-D", "INPUT", "-j", "TCP2_IN", NULL };
	char *fo[] = { IPT(v6), "-w", "-F", "TCP2_OUT", NULL };
	char *fi[] = { IPT(v6), "-w", "-F", "TCP2_IN", NULL };
	char *xo[] = { IPT(v6), "-w", "-X", "TCP2_OUT", NULL };
	char *xi[] = { IPT(v6), "-w", "-X", "TCP2_IN", NULL };

	/* A jump may have been inserted twice by a crashed run. */
	while (run(jo, NULL, 1) == 0)
		;
	while (run(ji, NULL, 1) == 0)
		;
	run(fo, NULL, 1);
	run(fi, NULL, 1);
	run(xo, NULL, 1);
	run(xi, NULL, 1);
}

void
tcp2_rules_remove(void)
{
	remove_family(0);
	remove_family(1);
}
