/*
 * tcp2d.h - the daemon's state shared between its main loop (tcp2d.c)
 * and its control-request handlers (tcp2d_ctl.c).
 */
#ifndef TCP2D_H
#define TCP2D_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "endpoint.h"
#include "flow.h"
#include "inject.h"
#include "nfq.h"
#include "rewriter.h"
#include "state.h"

#define TCP2D_VERSION		"0.1"
#define TCP2D_MAX_ENDPOINTS	256

struct tcp2_ctl;

struct tcp2d {
	const char *state_dir;
	const char *control;
	const char *control_group;	/* owns the control socket */
	const char *backend;		/* "rules" or "kmod" */
	uint16_t qnum;
	int verbose;
	time_t started;

	struct tcp2_state *state;
	struct tcp2_endpoint eps[TCP2D_MAX_ENDPOINTS];
	size_t neps;
	struct tcp2_nfq *nfq;
	struct tcp2_inject *inj;
	struct tcp2_flows *flows;
	struct tcp2_ctl *ctl;
	struct tcp2_registration reg;
	uint8_t *pktbuf;		/* TCP2_PKT_MAX, for verdicts */

	uint64_t packets, dropped, resets, aborts, flows_total;
};

/* Log one line to stderr (the journal under systemd); level 0 always,
 * 1 with -v.  Never pass secrets. */
void tcp2d_log(const struct tcp2d *d, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Rebuild the endpoint list from the accounts and re-install capture. */
int tcp2d_reload(struct tcp2d *d);

/* Rewriter events: logged, and pushed to control subscribers. */
void tcp2d_event(void *arg, const char *type, const char *text,
    const char *const *fields);

/* Control socket (tcp2d_ctl.c): open, poll integration, close. */
int tcp2d_ctl_open(struct tcp2d *d);
size_t tcp2d_ctl_pollfds(struct tcp2d *d, struct pollfd *fds, size_t max);
void tcp2d_ctl_process(struct tcp2d *d, const struct pollfd *fds, size_t n);
void tcp2d_ctl_close(struct tcp2d *d);

#endif /* TCP2D_H */
