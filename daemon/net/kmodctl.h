/*
 * kmodctl.h - the "kmod" capture backend: tcp2d drives the TCP2 core
 * (tcp2.ko) over its generic netlink family "tcp2" (libnl-genl-3).
 *
 * Same contract as the rules backend (rules.h): install the endpoints and
 * the queue number, remove them on a clean exit.  The module queues the
 * captured flows without bypass, so when tcp2d dies without removing them
 * the kernel drops those packets (fail-closed); a restart replaces the
 * table.  Packets carrying TCP2_MARK are never captured, nor connections
 * whose packets going out carry TCP2_MARK_OWN (the module marks their
 * conntrack entry).  The module may be unloaded under tcp2d: see
 * tcp2_kmodctl_present().
 */
#ifndef TCP2_KMODCTL_H
#define TCP2_KMODCTL_H

#include <stddef.h>
#include <stdint.h>

#include "endpoint.h"

/*
 * Make the module's table of this network namespace exactly eps (added or
 * replaced first, stale entries removed after, so a connection captured
 * before stays captured throughout) and set its queue number to qnum.
 * 0, TCP2_ENOENT (the module is not loaded: no family "tcp2") or
 * TCP2_EIO (a request failed; a message went to stderr).
 */
int tcp2_kmodctl_install(const struct tcp2_endpoint *eps, size_t n,
    uint16_t qnum);

/*
 * Whether the module is loaded (its family exists): 1 yes, 0 no, -1 the
 * question could not be asked (no memory, no generic netlink).
 */
int tcp2_kmodctl_present(void);

/* Remove every endpoint of this namespace.  Never fails loudly. */
void tcp2_kmodctl_remove(void);

#endif /* TCP2_KMODCTL_H */
