/*
 * tcp2d_ctl.c - tcp2d's answers on the control socket (docs/CONTROL.md)
 * and the events it pushes to subscribers.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "account.h"
#include "ctl.h"
#include "error.h"
#include "jsonrec.h"
#include "tcp2d.h"

static int fail(json_object *resp, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
fail(json_object *resp, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	tcp2_jr_set_str(resp, "error", buf);
	return -1;
}

/* Optional string argument: NULL when absent or not a string. */
static const char *
arg_str(json_object *req, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(req, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static int
h_status(struct tcp2d *d, json_object *resp)
{
	tcp2_jr_set_str(resp, "version", TCP2D_VERSION);
	tcp2_jr_set_str(resp, "backend", d->backend);
	tcp2_jr_set_u64(resp, "queue", d->qnum);
	tcp2_jr_set_u64(resp, "uptime", (uint64_t)(time(NULL) - d->started));
	tcp2_jr_set_u64(resp, "accounts", tcp2_state_naccounts(d->state));
	tcp2_jr_set_u64(resp, "endpoints", d->neps);
	tcp2_jr_set_u64(resp, "flows", tcp2_flows_count(d->flows));
	tcp2_jr_set_u64(resp, "flows_total", d->flows_total);
	tcp2_jr_set_u64(resp, "packets", d->packets);
	tcp2_jr_set_u64(resp, "dropped", d->dropped);
	tcp2_jr_set_u64(resp, "resets", d->resets);
	tcp2_jr_set_u64(resp, "aborts", d->aborts);
	tcp2_jr_set_u64(resp, "queue_overruns", tcp2_nfq_overruns(d->nfq));
	tcp2_jr_set_bool(resp, "registration_armed", d->reg.armed);
	return 0;
}

static int
h_account_add(struct tcp2d *d, json_object *req, json_object *resp)
{
	const char *addr = arg_str(req, "addr"), *pop3 = arg_str(req, "pop3");
	const char *smtp = arg_str(req, "smtp"), *user = arg_str(req, "user");
	const char *pw = arg_str(req, "password"), *pol = arg_str(req, "policy");
	struct tcp2_endpoint tmp[8];
	struct tcp2_account a;
	size_t n = 0;
	int rc;

	if (addr == NULL || pop3 == NULL || smtp == NULL)
		return fail(resp, "account-add needs addr, pop3 and smtp");
	memset(&a, 0, sizeof(a));
	if (tcp2_addr_norm(addr, a.addr) != 0)
		return fail(resp, "not a mail address: %s", addr);
	if (tcp2_endpoint_parse(pop3, TCP2_PROTO_POP3, a.addr, tmp, 8, &n) ||
	    tcp2_endpoint_parse(smtp, TCP2_PROTO_SMTP, a.addr, tmp, 8, &n))
		return fail(resp, "bad server HOST:PORT (or unknown host)");
	snprintf(a.pop3, sizeof(a.pop3), "%s", pop3);
	snprintf(a.smtp, sizeof(a.smtp), "%s", smtp);
	snprintf(a.user, sizeof(a.user), "%s", user ? user : "");
	snprintf(a.password, sizeof(a.password), "%s", pw ? pw : "");
	if (pol != NULL && tcp2_policy_parse(pol, &a.policy) != 0)
		return fail(resp, "policy must be signed or strict, not %s",
		    pol);
	rc = tcp2_state_account_update(d->state, &a);
	tcp2_account_wipe(&a);
	if (rc != 0)
		return fail(resp, "storing the account: %s", tcp2_strerror(rc));
	tcp2d_log(d, 0, "account %s added or updated", addr);
	if (tcp2d_reload(d) != 0)
		return fail(resp, "the account is stored, but capturing its "
		    "servers failed (see the daemon's log)");
	return 0;
}

static int
h_account_list(struct tcp2d *d, json_object *resp)
{
	json_object *arr = json_object_new_array(), *o;
	const struct tcp2_account *a;
	char fpr[TCP2_FPR_LEN];
	size_t i;

	json_object_object_add(resp, "accounts", arr);
	for (i = 0; i < tcp2_state_naccounts(d->state); i++) {
		a = tcp2_state_account_at(d->state, i);
		o = json_object_new_object();
		json_object_array_add(arr, o);
		tcp2_fingerprint(a->ed_pub, a->x_pub, fpr);
		tcp2_jr_set_str(o, "addr", a->addr);
		tcp2_jr_set_str(o, "pop3", a->pop3);
		tcp2_jr_set_str(o, "smtp", a->smtp);
		tcp2_jr_set_str(o, "user", a->user);
		tcp2_jr_set_str(o, "policy", tcp2_policy_name(a->policy));
		tcp2_jr_set_str(o, "fingerprint", fpr);
	}
	return 0;
}

static int
h_register(struct tcp2d *d, json_object *req, json_object *resp)
{
	json_object *v;

	if (json_object_object_get_ex(req, "cancel", &v) &&
	    json_object_get_boolean(v)) {
		memset(&d->reg, 0, sizeof(d->reg));
		tcp2d_reload(d);
		tcp2_jr_set_str(resp, "hint", "registration cancelled");
		return 0;
	}
	memset(&d->reg, 0, sizeof(d->reg));
	d->reg.armed = 1;
	tcp2d_log(d, 0, "registration armed");
	if (tcp2d_reload(d) != 0)
		return fail(resp, "capturing the mail ports for registration "
		    "failed (see the daemon's log)");
	tcp2_jr_set_str(resp, "hint", "Registration is armed. In your usual "
	    "mail client: check your mail (POP3), then send a mail with the "
	    "subject \"" TCP2_REGISTRATION_SUBJECT "\" to yourself.");
	return 0;
}

static int
h_peers(struct tcp2d *d, json_object *req, json_object *resp)
{
	const char *acct = arg_str(req, "account");
	json_object *arr = json_object_new_array(), *o;
	const struct tcp2_account *a;
	const struct tcp2_peer *p;
	char fpr[TCP2_FPR_LEN], code[TCP2_CODE_LEN], norm[TCP2_ADDR_MAX];
	size_t i;

	json_object_object_add(resp, "peers", arr);
	if (acct && tcp2_addr_norm(acct, norm) != 0)
		return fail(resp, "not a mail address: %s", acct);
	for (i = 0; i < tcp2_state_npeers(d->state); i++) {
		p = tcp2_state_peer_at(d->state, i);
		if (acct && strcmp(p->account, norm) != 0)
			continue;
		o = json_object_new_object();
		json_object_array_add(arr, o);
		tcp2_jr_set_str(o, "account", p->account);
		tcp2_jr_set_str(o, "addr", p->addr);
		tcp2_jr_set_str(o, "state", tcp2_peer_state_name(
		    tcp2_peer_state(p)));
		tcp2_jr_set_bool(o, "reply_due", p->reply_due);
		a = tcp2_state_account(d->state, p->account);
		if (p->has_identity && a != NULL) {
			tcp2_fingerprint(p->ed_pub, p->x_pub, fpr);
			tcp2_comparison_code(a->ed_pub, a->x_pub, p->ed_pub,
			    p->x_pub, code);
			tcp2_jr_set_str(o, "fingerprint", fpr);
			tcp2_jr_set_str(o, "code", code);
		}
		if (p->nkeys > 0)
			tcp2_jr_set_u64(o, "key_date", p->keys[0].created);
	}
	return 0;
}

static int
h_peer(struct tcp2d *d, const char *cmd, json_object *req, json_object *resp)
{
	const char *addr = arg_str(req, "addr"), *acct = arg_str(req, "account");
	const struct tcp2_account *a;
	enum tcp2_keyx_result res;
	char out[8192];
	size_t n = 0;
	int rc;

	a = tcp2_state_account(d->state, acct);
	if (addr == NULL || a == NULL)
		return fail(resp, "needs addr (and a known account)");
	if (strcmp(cmd, "peer-verify") == 0)
		rc = tcp2_state_peer_verify(d->state, a->addr, addr);
	else if (strcmp(cmd, "peer-accept") == 0)
		rc = tcp2_state_peer_accept(d->state, a->addr, addr,
		    (uint64_t)time(NULL), &res, out, sizeof(out), &n);
	else if (strcmp(cmd, "peer-reject") == 0)
		rc = tcp2_state_peer_reject(d->state, a->addr, addr);
	else
		rc = tcp2_state_peer_forget(d->state, a->addr, addr);
	if (rc == TCP2_ENOENT)
		return fail(resp, "no such peer: %s", addr);
	if (rc == TCP2_ESTATE)
		return fail(resp, "%s: not possible in the peer's state", addr);
	if (rc != 0)
		return fail(resp, "%s", tcp2_strerror(rc));
	tcp2d_log(d, 0, "%s %s by the user", cmd, addr);
	if (n > 0)
		tcp2_jr_set_str(resp, "hint", "accepted; to complete the key "
		    "exchange, send a mail with the subject \"TCP2 key "
		    "exchange\" to this peer");
	return 0;
}

static void
flow_json(void *arg, const struct tcp2_flow *f)
{
	json_object *arr = arg, *o = json_object_new_object();
	struct tcp2_splice_stats st;
	char client[80], a[INET6_ADDRSTRLEN];

	if (f->sp == NULL) {
		json_object_put(o);
		return;
	}
	tcp2_splice_stats(f->sp, &st);
	json_object_array_add(arr, o);
	inet_ntop(f->key.family, f->key.caddr, a, sizeof(a));
	snprintf(client, sizeof(client), f->key.family == AF_INET6 ?
	    "[%s]:%u" : "%s:%u", a, f->key.cport);
	tcp2_jr_set_str(o, "proto", f->ep.proto == TCP2_PROTO_SMTP ? "smtp" :
	    "pop3");
	tcp2_jr_set_str(o, "client", client);
	tcp2_jr_set_str(o, "server", f->ep.text);
	tcp2_jr_set_str(o, "account", f->ep.account);
	tcp2_jr_set_str(o, "state", tcp2_splice_dead(f->sp) ? "reset" :
	    tcp2_splice_closed(f->sp) ? "closed" : "open");
	tcp2_jr_set_u64(o, "c2s_in", st.in_bytes[0]);
	tcp2_jr_set_u64(o, "c2s_out", st.out_bytes[0]);
	tcp2_jr_set_u64(o, "s2c_in", st.in_bytes[1]);
	tcp2_jr_set_u64(o, "s2c_out", st.out_bytes[1]);
	tcp2_jr_set_u64(o, "retransmissions", st.retrans[0] + st.retrans[1]);
	tcp2_jr_set_u64(o, "cached", st.cached[0] + st.cached[1]);
}

static int
handler(void *arg, const char *cmd, json_object *req, json_object *resp)
{
	struct tcp2d *d = arg;
	json_object *arr;

	if (strcmp(cmd, "status") == 0)
		return h_status(d, resp);
	if (strcmp(cmd, "account-add") == 0)
		return h_account_add(d, req, resp);
	if (strcmp(cmd, "account-list") == 0)
		return h_account_list(d, resp);
	if (strcmp(cmd, "register") == 0)
		return h_register(d, req, resp);
	if (strcmp(cmd, "peers") == 0)
		return h_peers(d, req, resp);
	if (strncmp(cmd, "peer-", 5) == 0 && (strcmp(cmd, "peer-verify") == 0 ||
	    strcmp(cmd, "peer-accept") == 0 || strcmp(cmd, "peer-reject") == 0 ||
	    strcmp(cmd, "peer-forget") == 0))
		return h_peer(d, cmd, req, resp);
	if (strcmp(cmd, "flows") == 0) {
		arr = json_object_new_array();
		json_object_object_add(resp, "flows", arr);
		tcp2_flows_foreach(d->flows, flow_json, arr);
		return 0;
	}
	return TCP2_CTL_UNKNOWN;
}

void
tcp2d_event(void *arg, const char *type, const char *text,
    const char *const *fields)
{
	struct tcp2d *d = arg;
	json_object *o;
	size_t i;

	tcp2d_log(d, 0, "%s: %s", type, text);
	/* A completed registration brings a new account: capture its
	 * servers (and stop capturing every mail port). */
	if (strcmp(type, "registration") == 0) {
		d->reg.armed = 0;
		tcp2d_reload(d);
	}
	if (d->ctl == NULL)
		return;
	o = json_object_new_object();
	if (o == NULL)
		return;
	tcp2_jr_set_str(o, "text", text);
	for (i = 0; fields != NULL && fields[i] && fields[i + 1]; i += 2)
		tcp2_jr_set_str(o, fields[i], fields[i + 1]);
	tcp2_ctl_event(d->ctl, type, o);
	json_object_put(o);
}

int
tcp2d_ctl_open(struct tcp2d *d)
{
	struct group *g = getgrnam(d->control_group);
	char dir[512], *slash;

	/* The socket's directory (/run/tcp2) may not exist yet. */
	snprintf(dir, sizeof(dir), "%s", d->control);
	slash = strrchr(dir, '/');
	if (slash != NULL && slash != dir) {
		*slash = '\0';
		mkdir(dir, 0755);
	}
	if (tcp2_ctl_open(&d->ctl, d->control, g ? g->gr_gid : (gid_t)-1,
	    handler, d) != 0) {
		tcp2d_log(d, 0, "control socket %s: %s", d->control,
		    strerror(errno));
		return -1;
	}
	return 0;
}

size_t
tcp2d_ctl_pollfds(struct tcp2d *d, struct pollfd *fds, size_t max)
{
	return d->ctl ? tcp2_ctl_pollfds(d->ctl, fds, max) : 0;
}

void
tcp2d_ctl_process(struct tcp2d *d, const struct pollfd *fds, size_t n)
{
	if (d->ctl)
		tcp2_ctl_process(d->ctl, fds, n);
}

void
tcp2d_ctl_close(struct tcp2d *d)
{
	tcp2_ctl_close(d->ctl);
	d->ctl = NULL;
}
