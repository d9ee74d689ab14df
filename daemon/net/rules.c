/*
 * rules.c - install and remove the NFQUEUE capture rules by running
 * iptables / ip6tables (-w: wait for the xtables lock).
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "inject.h"
#include "rules.h"

extern char **environ;

/* Run argv; quiet: its stderr goes to /dev/null.  Exit status or -1. */
static int
run(char *const argv[], int quiet)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int st;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	if (quiet)
		posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY,
		    0);
	if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return -1;
	}
	posix_spawn_file_actions_destroy(&fa);
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

#define IPT(v6) ((v6) ? "ip6tables" : "iptables")

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
	while (run(jo, 1) == 0)
		;
	while (run(ji, 1) == 0)
		;
	run(fo, 1);
	run(fi, 1);
	run(xo, 1);
	run(xi, 1);
}

void
tcp2_rules_remove(void)
{
	remove_family(0);
	remove_family(1);
}

static int
add_rule(int v6, const char *chain, const char *dirflag, const char *addr,
    const char *portflag, const char *port, const char *q)
{
	char *a[] = { IPT(v6), "-w", "-A", (char *)chain, "-p", "tcp",
	    (char *)dirflag, (char *)addr, (char *)portflag, (char *)port,
	    "-j", "NFQUEUE", "--queue-num", (char *)q, NULL };

	return run(a, 0) == 0 ? 0 : TCP2_EIO;
}

static int
setup_family(int v6)
{
	char mark[32];
	char *no[] = { IPT(v6), "-w", "-N", "TCP2_OUT", NULL };
	char *ni[] = { IPT(v6), "-w", "-N", "TCP2_IN", NULL };
	char *mo[] = { IPT(v6), "-w", "-A", "TCP2_OUT", "-m", "mark", "--mark",
	    mark, "-j", "RETURN", NULL };
	char *mi[] = { IPT(v6), "-w", "-A", "TCP2_IN", "-m", "mark", "--mark",
	    mark, "-j", "RETURN", NULL };
	char *jo[] = { IPT(v6), "-w", "-I", "OUTPUT", "1", "-j", "TCP2_OUT",
	    NULL };
	char *ji[] = { IPT(v6), "-w", "-I", "INPUT", "1", "-j", "TCP2_IN",
	    NULL };

	snprintf(mark, sizeof(mark), "0x%x/0x%x", TCP2_MARK, TCP2_MARK_MASK);
	if (run(no, 0) != 0 || run(ni, 0) != 0 || run(mo, 0) != 0 ||
	    run(mi, 0) != 0 || run(jo, 0) != 0 || run(ji, 0) != 0)
		return TCP2_EIO;
	return 0;
}

int
tcp2_rules_install(const struct tcp2_endpoint *eps, size_t n, uint16_t qnum)
{
	char addr[INET6_ADDRSTRLEN], port[8], q[8];
	int have6 = 0, rc = 0, v6;
	size_t i;

	tcp2_rules_remove();
	for (i = 0; i < n; i++)
		have6 |= eps[i].family == AF_INET6;
	snprintf(q, sizeof(q), "%u", qnum);
	if ((rc = setup_family(0)) != 0 || (have6 && (rc = setup_family(1))))
		return rc;
	for (i = 0; i < n && rc == 0; i++) {
		v6 = eps[i].family == AF_INET6;
		inet_ntop(eps[i].family, eps[i].addr, addr, sizeof(addr));
		snprintf(port, sizeof(port), "%u", eps[i].port);
		rc = add_rule(v6, "TCP2_OUT", "-d", addr, "--dport", port, q);
		if (rc == 0)
			rc = add_rule(v6, "TCP2_IN", "-s", addr, "--sport", port,
			    q);
	}
	return rc;
}
