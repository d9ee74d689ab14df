/*
 * tray_ctl.h - the tray app's asynchronous client of the tcp2d control
 * socket (docs/CONTROL.md): requests with a callback on one connection,
 * the event subscription on a second one, reconnection with backoff when
 * the daemon goes away.  Runs in the GLib main loop; never blocks it.
 */
#ifndef TRAY_CTL_H
#define TRAY_CTL_H

#include <stddef.h>

#include <glib.h>
#include <json-c/json.h>

struct tray_ctl;

/*
 * A response: resp is the daemon's object (borrowed, valid during the call)
 * when it answered, with error NULL when "ok" was true and the daemon's
 * "error" text otherwise; resp is NULL and error says why when there was
 * no answer (not connected, connection lost).
 */
typedef void (*tray_ctl_reply_fn)(json_object *resp, const char *error,
    void *arg);
/* One event line (borrowed). */
typedef void (*tray_ctl_event_fn)(json_object *ev, void *arg);
/* The connection came up (up true) or went down; why is for people. */
typedef void (*tray_ctl_state_fn)(gboolean up, const char *why, void *arg);

/*
 * Start connecting to the control socket at path; the callbacks run from
 * the main loop.  Never fails: an unreachable daemon is retried with a
 * backoff from 250 ms up to 5 s, and state reports each change.
 */
struct tray_ctl *tray_ctl_new(const char *path, tray_ctl_event_fn ev,
    tray_ctl_state_fn st, void *arg);

/* TRUE while both connections are up. */
gboolean tray_ctl_up(const struct tray_ctl *c);

/* The socket path (owned by c). */
const char *tray_ctl_path(const struct tray_ctl *c);

/*
 * Send req (not consumed) with up to 2 file descriptors (§4.1; duplicated,
 * the caller keeps its own); fn(arg) runs exactly once, later, from the
 * main loop, even when the request cannot be sent.  fn may be NULL.
 */
void tray_ctl_request(struct tray_ctl *c, json_object *req, const int *fds,
    size_t nfds, tray_ctl_reply_fn fn, void *arg);

/* Shorthand for a request that is only {"cmd": cmd}. */
void tray_ctl_simple(struct tray_ctl *c, const char *cmd, tray_ctl_reply_fn fn,
    void *arg);

/* Close both connections; pending callbacks run with "shutting down". */
void tray_ctl_free(struct tray_ctl *c);

#endif
