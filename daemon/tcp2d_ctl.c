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
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "account.h"
#include "ctl.h"
#include "error.h"
#include "hold.h"
#include "jsonrec.h"
#include "mailopen.h"
#include "quarantine.h"
#include "tcp2d.h"
#include "view.h"

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

/*
 * The hold options of account-add (docs/CONTROL.md): any of them given
 * sets the whole policy, starting from the account's current one (or the
 * defaults); none given leaves it as it is (expire_days 0).
 */
static int
hold_args(struct tcp2d *d, json_object *req, struct tcp2_account *a,
    json_object *resp)
{
	const char *hold = arg_str(req, "hold"), *att = arg_str(req,
	    "attachments"), *keep = arg_str(req, "keep");
	const struct tcp2_account *cur = tcp2_state_account(d->state, a->addr);
	json_object *v;
	int64_t days = 0;
	char bad[80];

	if (json_object_object_get_ex(req, "expire_days", &v)) {
		if (!json_object_is_type(v, json_type_int) ||
		    (days = json_object_get_int64(v)) < 1 || days > 3650)
			return fail(resp, "expire_days must be 1 to 3650");
	}
	if (hold == NULL && att == NULL && keep == NULL && days == 0)
		return 0;
	if (cur != NULL)
		a->hold = cur->hold;
	else
		tcp2_hold_policy_default(&a->hold);
	if (hold != NULL && tcp2_hold_reasons_parse(hold, &a->hold.reasons,
	    bad, sizeof(bad)) != 0)
		return fail(resp, "hold: unknown reason \"%s\" (known: forged, "
		    "changed, undecryptable, html, attachments, encrypted, "
		    "unsigned, or none)", bad);
	if (att != NULL && strcmp(att, "risky") != 0 && strcmp(att, "all"))
		return fail(resp, "attachments must be risky or all, not %s",
		    att);
	if (att != NULL)
		a->hold.all_attachments = strcmp(att, "all") == 0;
	if (keep != NULL && strcmp(keep, "plaintext") != 0 &&
	    strcmp(keep, "ciphertext") != 0)
		return fail(resp, "keep must be plaintext or ciphertext, not "
		    "%s", keep);
	if (keep != NULL)
		a->hold.keep_ciphertext = strcmp(keep, "ciphertext") == 0;
	if (days != 0)
		a->hold.expire_days = (unsigned int)days;
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
	if (hold_args(d, req, &a, resp) != 0)
		return -1;
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
	char fpr[TCP2_FPR_LEN], spec[TCP2_HOLD_SPEC_MAX];
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
		tcp2_hold_reasons_format(a->hold.reasons, spec, sizeof(spec));
		tcp2_jr_set_str(o, "hold", spec);
		tcp2_jr_set_str(o, "attachments", a->hold.all_attachments ?
		    "all" : "risky");
		tcp2_jr_set_str(o, "keep", a->hold.keep_ciphertext ?
		    "ciphertext" : "plaintext");
		tcp2_jr_set_u64(o, "expire_days", a->hold.expire_days);
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

/* A "peer" event with the peer's state now ("none" once forgotten). */
static void
peer_event(struct tcp2d *d, const char *account, const char *addr)
{
	const struct tcp2_peer *p = tcp2_state_peer(d->state, account, addr);
	const char *st = p ? tcp2_peer_state_name(tcp2_peer_state(p)) : "none";
	const char *f[] = { "account", account, "peer", addr, "state", st,
	    NULL };
	char text[2 * TCP2_ADDR_MAX + 64];

	snprintf(text, sizeof(text), "key state of %s: %s", addr, st);
	tcp2d_event(d, "peer", text, f);
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
	peer_event(d, a->addr, addr);
	if (n > 0)
		tcp2_jr_set_str(resp, "hint", "accepted; to complete the key "
		    "exchange, send a mail with the subject \"TCP2 key "
		    "exchange\" to this peer");
	return 0;
}

/* The splice engine's position in one direction (docs/CONTROL.md). */
static void
flow_dir_json(json_object *o, const char *dir,
    const struct tcp2_splice_stats *st, int d)
{
	char k[32];

	snprintf(k, sizeof(k), "%s_unsent", dir);
	tcp2_jr_set_u64(o, k, st->unsent[d]);
	snprintf(k, sizeof(k), "%s_unacked", dir);
	tcp2_jr_set_u64(o, k, st->unacked[d]);
	snprintf(k, sizeof(k), "%s_window", dir);
	tcp2_jr_set_u64(o, k, st->rwnd[d]);
	snprintf(k, sizeof(k), "%s_held", dir);
	tcp2_jr_set_u64(o, k, st->held[d]);
	snprintf(k, sizeof(k), "%s_ooo", dir);
	tcp2_jr_set_u64(o, k, st->ooo[d]);
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
	flow_dir_json(o, "c2s", &st, 0);
	flow_dir_json(o, "s2c", &st, 1);
	tcp2_jr_set_u64(o, "idle", (uint64_t)(time(NULL) - f->last));
}

/* ---- held mail ---- */

static int
held_cmp(const void *a, const void *b)
{
	json_object *x = *(json_object *const *)a, *y = *(json_object *const *)b;
	json_object *tx, *ty;
	int64_t vx, vy;

	json_object_object_get_ex(x, "time", &tx);
	json_object_object_get_ex(y, "time", &ty);
	vx = json_object_get_int64(tx);
	vy = json_object_get_int64(ty);
	return vx < vy ? -1 : vx > vy;
}

static const char *
held_verification(int v)
{
	static const char *const names[] = { "unverified", "verified",
	    "forged" };

	return v >= 0 && v < 3 ? names[v] : "unverified";
}

static const char *
held_state(enum tcp2_held_state s)
{
	return s == TCP2_HELD_RELEASING ? "releasing" :
	    s == TCP2_HELD_RELEASED ? "released" : "held";
}

static json_object *
held_json(const struct tcp2_held *h)
{
	json_object *o = json_object_new_object(), *arr, *a;
	size_t i;

	if (o == NULL)
		return NULL;
	tcp2_jr_set_str(o, "id", h->id);
	tcp2_jr_set_u64(o, "time", h->when);
	tcp2_jr_set_str(o, "account", h->account);
	tcp2_jr_set_str(o, "sender", h->sender);
	tcp2_jr_set_str(o, "subject", h->subject);
	tcp2_jr_set_str(o, "verification", held_verification(h->verification));
	tcp2_jr_set_bool(o, "encrypted", h->encrypted);
	tcp2_jr_set_bool(o, "html", h->html);
	arr = json_object_new_array();
	json_object_object_add(o, "attachments", arr);
	for (i = 0; i < h->natt; i++) {
		a = json_object_new_object();
		json_object_array_add(arr, a);
		tcp2_jr_set_str(a, "name", h->att[i].name);
		tcp2_jr_set_str(a, "type", h->att[i].type);
		tcp2_jr_set_u64(a, "size", h->att[i].size);
	}
	tcp2_jr_set_u64(o, "attachments_total", (uint64_t)h->attachments);
	tcp2_jr_set_u64(o, "size", h->size);
	tcp2_jr_set_str(o, "reason", h->reason);
	tcp2_jr_set_str(o, "state", held_state(h->state));
	tcp2_jr_set_u64(o, "expires", h->expires);
	return o;
}

static int
h_held(struct tcp2d *d, json_object *req, json_object *resp)
{
	struct tcp2_store *st = tcp2_state_store(d->state);
	const char *acct = arg_str(req, "account");
	json_object *arr = json_object_new_array(), *o;
	struct tcp2_held h;
	char **ids;
	size_t n, i;
	int rc;

	json_object_object_add(resp, "held", arr);
	if ((rc = tcp2_quarantine_list(st, &ids, &n)) != 0)
		return fail(resp, "reading the quarantine: %s",
		    tcp2_strerror(rc));
	for (i = 0; i < n; i++) {
		if (tcp2_quarantine_get(st, ids[i], &h) != 0)
			continue;
		if (acct != NULL && strcmp(acct, h.account) != 0)
			continue;
		if ((o = held_json(&h)) != NULL)
			json_object_array_add(arr, o);
	}
	tcp2_store_list_free(ids, n);
	/* Oldest first: the IDs are random, the times are not. */
	json_object_array_sort(arr, held_cmp);
	return 0;
}

/* The held mail named by req's "id"; 0, or -1 with resp's error set. */
static int
held_arg(struct tcp2d *d, json_object *req, json_object *resp,
    struct tcp2_held *h)
{
	const char *id = arg_str(req, "id");
	int rc;

	if (id == NULL)
		return fail(resp, "%s needs the id of a held mail",
		    arg_str(req, "cmd"));
	rc = tcp2_quarantine_get(tcp2_state_store(d->state), id, h);
	if (rc == TCP2_EINVAL)
		return fail(resp, "malformed id: %.40s", id);
	if (rc == TCP2_ENOENT)
		return fail(resp, "no such held mail: %s", id);
	if (rc != 0)
		return fail(resp, "reading held mail %s: %s", id,
		    tcp2_strerror(rc));
	return 0;
}

static int
h_receive(struct tcp2d *d, json_object *req, json_object *resp)
{
	struct tcp2_held h;
	json_object *v;
	char err[300];

	if (held_arg(d, req, resp, &h) != 0)
		return -1;
	if (h.state != TCP2_HELD_HELD)
		return fail(resp, "%s: already being released", h.id);
	h.strip = json_object_object_get_ex(req, "strip_attachments", &v) &&
	    json_object_get_boolean(v);
	if (tcp2d_release_start(d, &h, err, sizeof(err)) != 0)
		return fail(resp, "%s", err);
	tcp2_jr_set_str(resp, "hint", "It will be in your mail client at its "
	    "next mail check.");
	return 0;
}

static int
h_discard(struct tcp2d *d, json_object *req, json_object *resp)
{
	struct tcp2_held h;
	char text[TCP2_HELD_TEXT_MAX + 128];
	int rc;

	if (held_arg(d, req, resp, &h) != 0)
		return -1;
	if ((rc = tcp2_quarantine_remove(tcp2_state_store(d->state), h.id)))
		return fail(resp, "deleting held mail %s: %s", h.id,
		    tcp2_strerror(rc));
	{
		const char *f[] = { "account", h.account, "id", h.id, "why",
		    "user", NULL };

		snprintf(text, sizeof(text), "held mail from %s deleted",
		    h.sender);
		tcp2d_event(d, "discarded", text, f);
	}
	return 0;
}

/* Write a whole message into the client's output file (section 4.1). */
static int
write_out(int fd, const uint8_t *m, size_t n, json_object *resp)
{
	size_t off = 0;
	ssize_t k;

	if (tcp2_ctl_fd_check(fd, TCP2_CTL_FD_OUT) != 0)
		return fail(resp, "the output must be a regular file open for "
		    "writing");
	if (ftruncate(fd, 0) != 0)
		return fail(resp, "output file: %s", strerror(errno));
	while (off < n) {
		k = pwrite(fd, m + off, n - off, (off_t)off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return fail(resp, "output file: %s", strerror(errno));
		off += (size_t)k;
	}
	return 0;
}

/* The VIEW of plain[0..n) into resp, and the message into fd if any. */
static int
view_out(struct tcp2d *d, const uint8_t *plain, size_t n, int sig,
    const char *signer, int encrypted, int fd, json_object *resp)
{
	json_object *view;
	int rc;

	(void)d;
	if ((rc = tcp2_view_json(plain, n, tcp2_mail_sig_name(sig), signer,
	    encrypted, &view)) != 0)
		return fail(resp, "showing the mail: %s", tcp2_strerror(rc));
	json_object_object_add(resp, "message", view);
	if (fd >= 0 && write_out(fd, plain, n, resp) != 0)
		return -1;
	return 0;
}

static int
h_show(struct tcp2d *d, json_object *req, json_object *resp)
{
	struct tcp2_store *st = tcp2_state_store(d->state);
	int fd = tcp2_ctl_request_fd(d->ctl, 0), rc;
	struct tcp2_opened o;
	struct tcp2_held h;
	uint8_t *m;
	size_t ml;

	if (held_arg(d, req, resp, &h) != 0)
		return -1;
	if (h.has_plain) {
		/* Decrypted when it was held: decrypting it again would be
		 * a replay. */
		if ((rc = tcp2_quarantine_mail(st, h.id, TCP2_HELD_PLAIN, &m,
		    &ml)) != 0)
			return fail(resp, "reading held mail %s: %s", h.id,
			    tcp2_strerror(rc));
		rc = view_out(d, m, ml, h.verification, h.sender, 1, fd, resp);
		tcp2_store_free(m, ml);
		return rc;
	}
	if ((rc = tcp2_quarantine_mail(st, h.id, TCP2_HELD_ORIG, &m, &ml)))
		return fail(resp, "reading held mail %s: %s", h.id,
		    tcp2_strerror(rc));
	if (h.encrypted || tcp2_mail_open(d->state, m, ml, &o) != 0) {
		/* Undecryptable: shown as it is. */
		rc = view_out(d, m, ml, h.verification, "", h.encrypted, fd,
		    resp);
		tcp2_store_free(m, ml);
		return rc;
	}
	tcp2_store_free(m, ml);
	rc = view_out(d, o.plain, o.len, o.sig, o.signer, 0, fd, resp);
	tcp2_mail_opened_free(&o);
	return rc;
}

#define DECRYPT_MAX	(64u << 20)

static int
h_decrypt(struct tcp2d *d, json_object *resp)
{
	int in = tcp2_ctl_request_fd(d->ctl, 0);
	int out = tcp2_ctl_request_fd(d->ctl, 1), rc;
	struct tcp2_opened o;
	struct stat sb;
	uint8_t *m;
	size_t off = 0;
	ssize_t k;

	if (in < 0)
		return fail(resp, "decrypt needs the mail as a file descriptor");
	if (tcp2_ctl_fd_check(in, TCP2_CTL_FD_IN) != 0 || fstat(in, &sb) != 0)
		return fail(resp, "the mail must be a regular file open for "
		    "reading");
	if ((uint64_t)sb.st_size > DECRYPT_MAX)
		return fail(resp, "the mail is larger than %u MiB",
		    DECRYPT_MAX >> 20);
	if ((m = malloc((size_t)sb.st_size + 1)) == NULL)
		return fail(resp, "out of memory");
	while (off < (size_t)sb.st_size) {
		k = pread(in, m + off, (size_t)sb.st_size - off, (off_t)off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		off += (size_t)k;
	}
	rc = tcp2_mail_open(d->state, m, off, &o);
	free(m);
	if (rc != 0)
		return fail(resp, "not decryptable: %s", tcp2_strerror(rc));
	rc = view_out(d, o.plain, o.len, o.sig, o.signer, o.encrypted, out,
	    resp);
	tcp2_mail_opened_free(&o);
	return rc;
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
	if (strcmp(cmd, "held") == 0)
		return h_held(d, req, resp);
	if (strcmp(cmd, "receive") == 0)
		return h_receive(d, req, resp);
	if (strcmp(cmd, "discard") == 0)
		return h_discard(d, req, resp);
	if (strcmp(cmd, "show") == 0)
		return h_show(d, req, resp);
	if (strcmp(cmd, "decrypt") == 0)
		return h_decrypt(d, resp);
	if (strcmp(cmd, "flows") == 0) {
		arr = json_object_new_array();
		json_object_object_add(resp, "flows", arr);
		tcp2_flows_foreach(d->flows, flow_json, arr);
		return 0;
	}
	return TCP2_CTL_UNKNOWN;
}

/* A key exchange may have changed a peer's state: say which. */
static void
keyx_peer_event(struct tcp2d *d, const char *const *fields)
{
	const char *acct = NULL, *peer = NULL;
	size_t i;

	for (i = 0; fields != NULL && fields[i] && fields[i + 1]; i += 2) {
		if (strcmp(fields[i], "account") == 0)
			acct = fields[i + 1];
		else if (strcmp(fields[i], "peer") == 0)
			peer = fields[i + 1];
	}
	if (acct != NULL && peer != NULL && *acct && *peer &&
	    tcp2_state_peer(d->state, acct, peer) != NULL)
		peer_event(d, acct, peer);
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
	if (strcmp(type, "keyx") == 0)
		keyx_peer_event(d, fields);
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
