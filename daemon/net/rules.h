/*
 * rules.h - the "rules" capture backend: iptables/ip6tables NFQUEUE rules
 * in chains of our own (TCP2_OUT from OUTPUT, TCP2_IN from INPUT), for
 * hosts where the kernel module cannot be loaded.
 *
 * No --queue-bypass: when tcp2d is not there, the kernel drops captured
 * packets instead of passing them (fail-closed).  The rules therefore stay
 * after a crash; a restart removes and re-installs them.  Packets carrying
 * TCP2_MARK (the daemon's own) are not captured.
 */
#ifndef TCP2_RULES_H
#define TCP2_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "endpoint.h"

/* Replace the capture rules with ones for eps.  0 or TCP2_EIO (a command
 * failed; its output went to stderr). */
int tcp2_rules_install(const struct tcp2_endpoint *eps, size_t n,
    uint16_t qnum);

/* Remove our chains and the jumps to them.  Never fails loudly. */
void tcp2_rules_remove(void);

#endif /* TCP2_RULES_H */
