/*
 * ctl.h - the control socket of tcp2d: the server side of the JSON-lines
 * protocol that tcp2ctl and the tray app speak (docs/CONTROL.md).
 *
 * One unix stream socket, single-threaded and poll()-driven so that it
 * lives in the daemon's main loop next to the NFQUEUE socket: the daemon
 * asks for pollfds, polls them with its own, and hands the slice back.
 * Every request line {"cmd": "...", ...} goes to one handler callback;
 * "subscribe" is answered here and turns the connection into an event
 * feed.  Peers are local but treated as hostile: request lines are bounded,
 * clients are few, I/O never blocks, and a subscriber that does not read
 * loses events (counted and reported to it) instead of stalling the daemon.
 *
 * Who may connect: uid 0, the daemon's own effective uid, or a peer whose
 * primary or supplementary groups contain the socket's group (from
 * SO_PEERCRED and SO_PEERGROUPS, or /proc/PID/status where the kernel has
 * no SO_PEERGROUPS).  Others get one line {"ok":false,"error":"permission
 * denied"} and are closed.  The 0660 mode of the socket is the first fence,
 * this check the second: it still holds when the socket sits in a
 * directory that is too open or its mode was changed by hand.
 *
 * A request line may come with up to TCP2_CTL_REQ_FDS open files
 * (SCM_RIGHTS on the sendmsg() that carries the line's first byte and no
 * other line's first byte; docs/CONTROL.md section 4.1).  Only the
 * commands of the protocol that exchange whole messages ("show",
 * "decrypt") take them: with any other command, with more than
 * TCP2_CTL_REQ_FDS, or when the kernel truncated them, the request is
 * answered {"ok":false,"error":"unexpected file descriptors"} without
 * calling the handler.  The handler of a command that takes them gets
 * them with tcp2_ctl_request_fd(); the library closes them after the
 * handler returns (dup() what must outlive it).
 *
 * Functions that can fail return 0, or -1 with errno set, so that the
 * daemon can report them err(3)-style.
 */
#ifndef TCP2_CTL_H
#define TCP2_CTL_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>

#define TCP2_CTL_PATH		"/run/tcp2/control"	/* default socket */
#define TCP2_CTL_LINE_MAX	65536	/* request line, without its LF */
#define TCP2_CTL_MAX_CLIENTS	32	/* connections at a time */
#define TCP2_CTL_NFDS		(1 + TCP2_CTL_MAX_CLIENTS)	/* pollfds */
#define TCP2_CTL_EVQ_MAX	(256u * 1024)	/* a subscriber's queue bound */
#define TCP2_CTL_OUT_LINE_MAX	(4u << 20)	/* one response or event */
#define TCP2_CTL_REQ_FDS	2	/* descriptors with one request */

/* Handler return value for a command it does not know: the library then
 * answers "unknown command: NAME". */
#define TCP2_CTL_UNKNOWN	1

struct tcp2_ctl;

/*
 * Called for each request with its "cmd" string and the whole request
 * object (both valid only during the call).  The handler adds its answer
 * fields to resp.  Return 0 on success; TCP2_CTL_UNKNOWN for a command it
 * does not implement; anything else for a failure, with the reason as the
 * string resp["error"] (else the library says "command failed").  The
 * library sets resp["ok"] itself and echoes the request's "id" if any.
 * The handler may call tcp2_ctl_event() but not tcp2_ctl_close().
 */
typedef int (*tcp2_ctl_handler)(void *arg, const char *cmd,
    json_object *req, json_object *resp);

/* What the control socket did so far, for the daemon's "status". */
struct tcp2_ctl_stats {
	unsigned int	clients;	/* connected now */
	unsigned int	subscribers;	/* of which subscribed */
	uint64_t	accepted;	/* connections admitted */
	uint64_t	refused;	/* permission denied or too many */
	uint64_t	requests;	/* request lines answered */
	uint64_t	events;		/* tcp2_ctl_event() calls */
	uint64_t	events_dropped;	/* event lines a subscriber missed */
};

/*
 * Create the socket at path and listen.  A stale socket (nobody answers)
 * is unlinked first; a live one (another daemon answers) fails with
 * EADDRINUSE, anything at path that is not a socket with EEXIST.  The
 * socket gets mode 0660 and, when group != (gid_t)-1, that group (which
 * is also the group admitted by the peer check).  The directory must
 * exist.  h and arg are kept for every request.
 */
int tcp2_ctl_open(struct tcp2_ctl **c, const char *path, gid_t group,
    tcp2_ctl_handler h, void *arg);

/*
 * Fill fds[0..max) with what the control socket waits for and return how
 * many entries were used: at most TCP2_CTL_NFDS, the listening socket
 * first (it is the only one when max is 1).  Poll them together with the
 * daemon's own descriptors, then pass the same slice (same fds, same n)
 * to tcp2_ctl_process().  Entries are rebuilt on every loop iteration.
 */
size_t tcp2_ctl_pollfds(struct tcp2_ctl *c, struct pollfd *fds, size_t max);

/*
 * Act on the revents of fds[0..n) as filled by tcp2_ctl_pollfds(): read
 * and answer requests (the handler runs from here), write queued output,
 * accept new clients, close finished ones.  Never blocks.  Entries for
 * descriptors that are not the control socket's are ignored.
 */
void tcp2_ctl_process(struct tcp2_ctl *c, const struct pollfd *fds,
    size_t n);

/*
 * Send {"event": type, "time": <unix seconds>, ...fields} to every
 * subscriber; "text" defaults to type when fields has none.  fields may be
 * NULL and stays the caller's.  Never blocks: the line is queued and
 * written as far as each socket takes it; a subscriber whose queue exceeds
 * TCP2_CTL_EVQ_MAX misses the event and is told how many it missed (event
 * "dropped") once it has caught up.
 */
void tcp2_ctl_event(struct tcp2_ctl *c, const char *type,
    json_object *fields);

/* Counters and gauges of the control socket. */
void tcp2_ctl_stats(const struct tcp2_ctl *c, struct tcp2_ctl_stats *st);

/* The peer of the request being handled, for the daemon's log: 0, or -1
 * when called outside a handler. */
int tcp2_ctl_peer(const struct tcp2_ctl *c, uid_t *uid, pid_t *pid);

/*
 * Descriptor i (0 or 1) that came with the request being handled, or -1
 * when there is none or the call is not from within the handler.  Calling
 * it (with any i) says that the command uses its descriptors: when a
 * command that takes descriptors ("show", "decrypt") was sent some and
 * its handler succeeded without ever calling this, the answer becomes
 * "unexpected file descriptors".  The descriptor stays the library's: it
 * is closed after the handler returns.  It has FD_CLOEXEC set.
 */
int tcp2_ctl_request_fd(struct tcp2_ctl *c, unsigned int i);

/* How many descriptors came with the request being handled (0 outside a
 * handler).  Does not count as using them. */
unsigned int tcp2_ctl_request_nfds(const struct tcp2_ctl *c);

/* What tcp2_ctl_fd_check() checks fd for. */
#define TCP2_CTL_FD_IN		1	/* a regular file open for reading */
#define TCP2_CTL_FD_OUT		2	/* a regular file open for writing */

/*
 * Check that fd, from a client, is what section 4.1 asks for: a regular
 * file (a file or a memfd, never a pipe, socket or device the daemon could
 * block on) opened for reading (TCP2_CTL_FD_IN) or writing
 * (TCP2_CTL_FD_OUT).  0, or -1 with errno EBADF (not open, or not in
 * that mode) or EINVAL (not a regular file).
 */
int tcp2_ctl_fd_check(int fd, int how);

/* Close every client and the listening socket, unlink the socket file,
 * free c.  NULL is a no-op. */
void tcp2_ctl_close(struct tcp2_ctl *c);

#endif /* TCP2_CTL_H */
