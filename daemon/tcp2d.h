/*
 * tcp2d.h - the daemon's state shared between its main loop (tcp2d.c)
 * and its control-request handlers (tcp2d_ctl.c).
 */
#ifndef TCP2D_H
#define TCP2D_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "endpoint.h"
#include "flow.h"
#include "inject.h"
#include "nfq.h"
#include "rewriter.h"
#include "state.h"

#define TCP2D_VERSION		"0.1"
#define TCP2D_MAX_ENDPOINTS	256
#define TCP2D_MAX_RELEASES	8	/* re-deliveries under way */
#define TCP2D_EXAMINE_MAX	(256u << 20)	/* see struct tcp2_rw_budget */

struct tcp2_ctl;
struct tcp2_held;

/* A held mail on its way back to the mailbox (tcp2d_release.c). */
struct tcp2d_release {
	pid_t pid;			/* 0: slot free */
	int fd;				/* the child's report */
	char id[33];
	char buf[1024];
	size_t len;
};

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
	struct tcp2d_release rel[TCP2D_MAX_RELEASES];
	struct tcp2_rw_budget examine;	/* mail examined whole, all flows */
	int kmod_up;			/* kmod: tcp2.ko seen loaded */
	uint64_t stale;			/* verdicts already logged */
	time_t full_logged;		/* flow table full: said at */

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

/*
 * Held mail (tcp2d_release.c).  release_start re-delivers h (Receive):
 * 0, or -1 with a reason for the user in err.  pollfds/process drive the
 * re-deliveries in the main loop; tick (once a minute, and at_start)
 * resumes decisions a restart interrupted and expires old entries.
 */
int tcp2d_release_start(struct tcp2d *d, struct tcp2_held *h, char *err,
    size_t errlen);
size_t tcp2d_release_pollfds(struct tcp2d *d, struct pollfd *fds,
    size_t max);
void tcp2d_release_process(struct tcp2d *d, const struct pollfd *fds,
    size_t n);
void tcp2d_release_tick(struct tcp2d *d, int at_start);
void tcp2d_release_stop(struct tcp2d *d);

#endif /* TCP2D_H */
