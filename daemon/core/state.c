/*
 * state.c - accounts, peers, key exchange and replay set over the store.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "error.h"
#include "jsonrec.h"
#include "keyx.h"
#include "seen.h"
#include "state.h"

#define STATE_MAX_ACCOUNTS	64
#define STATE_MAX_PEERS		100000

struct tcp2_state {
	struct tcp2_store *store;
	struct tcp2_account *acct;
	size_t nacct;
	struct tcp2_peer *peer;
	size_t npeer, peercap;
	struct tcp2_seen seen;
	struct tcp2_seen failed;	/* in memory only */
};

/* ---- loading and saving ---- */

/* Read object name as JSON; an absent object is TCP2_ENOENT. */
static int
load_obj(struct tcp2_state *s, const char *name, json_object **o)
{
	uint8_t *buf;
	size_t len;
	int rc;

	rc = tcp2_store_read(s->store, name, &buf, &len);
	if (rc != 0)
		return rc;
	rc = tcp2_jr_load(buf, len, o);
	tcp2_store_free(buf, len);
	return rc;
}

static int
save_obj(struct tcp2_state *s, const char *name, json_object *o)
{
	char *txt;
	size_t len;
	int rc;

	rc = tcp2_jr_dump(o, &txt, &len);
	if (rc == 0) {
		rc = tcp2_store_write(s->store, name, txt, len);
		tcp2_crypto_wipe(txt, len);
		free(txt);
	}
	json_object_put(o);
	return rc;
}

/* The array under "items" of a versioned record object. */
static int
load_items(struct tcp2_state *s, const char *name, json_object **top,
    json_object **items)
{
	int rc = load_obj(s, name, top);

	if (rc != 0)
		return rc;
	if (!json_object_object_get_ex(*top, "items", items) ||
	    !json_object_is_type(*items, json_type_array)) {
		json_object_put(*top);
		return TCP2_EFORMAT;
	}
	return 0;
}

/*
 * Load a record list into a calloc'd array of n items of size sz, each
 * parsed by from_json; an absent object is an empty list.
 */
static int
load_list(struct tcp2_state *s, const char *name, size_t max, size_t sz,
    int (*from_json)(json_object *, void *), void **arr, size_t *n)
{
	json_object *top, *items;
	size_t i, cnt;
	uint8_t *v;
	int rc;

	*n = 0;
	rc = load_items(s, name, &top, &items);
	if (rc == TCP2_ENOENT)
		return 0;
	if (rc != 0)
		return rc;
	cnt = json_object_array_length(items);
	if (cnt > max) {
		json_object_put(top);
		return TCP2_EFORMAT;
	}
	v = calloc(cnt ? cnt : 1, sz);
	rc = v ? 0 : TCP2_ENOMEM;
	for (i = 0; i < cnt && rc == 0; i++)
		rc = from_json(json_object_array_get_idx(items, i), v + i * sz);
	json_object_put(top);
	if (rc != 0) {
		tcp2_crypto_wipe(v, cnt * sz);
		free(v);
		return rc;
	}
	*arr = v;
	*n = cnt;
	return 0;
}

static int
account_from(json_object *o, void *a)
{
	return tcp2_account_from_json(o, a);
}

static int
peer_from(json_object *o, void *p)
{
	return tcp2_peer_from_json(o, p);
}

static int
load_accounts(struct tcp2_state *s)
{
	void *v = NULL;
	int rc;

	rc = load_list(s, "accounts", STATE_MAX_ACCOUNTS, sizeof(*s->acct),
	    account_from, &v, &s->nacct);
	s->acct = v;
	return rc;
}

static int
load_peers(struct tcp2_state *s)
{
	void *v = NULL;
	int rc;

	rc = load_list(s, "peers", STATE_MAX_PEERS, sizeof(*s->peer),
	    peer_from, &v, &s->npeer);
	s->peer = v;
	s->peercap = s->npeer;
	return rc;
}

static int
load_seen(struct tcp2_state *s)
{
	json_object *o;
	int rc = load_obj(s, "seen", &o);

	if (rc == TCP2_ENOENT)
		return 0;
	if (rc != 0)
		return rc;
	rc = tcp2_seen_from_json(o, &s->seen);
	json_object_put(o);
	return rc;
}

/* A versioned record object {"version":1,"items":[...]}. */
static json_object *
new_record(json_object **items)
{
	json_object *top = json_object_new_object();

	*items = json_object_new_array();
	if (top == NULL || *items == NULL ||
	    json_object_object_add(top, "items", *items) != 0 ||
	    tcp2_jr_set_u64(top, "version", 1) != 0) {
		json_object_put(top);
		return NULL;
	}
	return top;
}

/* Store n items of size sz, each turned into JSON by to_json. */
static int
save_list(struct tcp2_state *s, const char *name, const void *arr, size_t n,
    size_t sz, int (*to_json)(const void *, json_object **))
{
	json_object *top, *items, *o;
	size_t i;
	int rc = 0;

	if ((top = new_record(&items)) == NULL)
		return TCP2_ENOMEM;
	for (i = 0; i < n && rc == 0; i++) {
		rc = to_json((const uint8_t *)arr + i * sz, &o);
		if (rc == 0 && json_object_array_add(items, o) != 0) {
			json_object_put(o);
			rc = TCP2_ENOMEM;
		}
	}
	if (rc != 0) {
		json_object_put(top);
		return rc;
	}
	return save_obj(s, name, top);
}

static int
account_to(const void *a, json_object **o)
{
	return tcp2_account_to_json(a, o);
}

static int
peer_to(const void *p, json_object **o)
{
	return tcp2_peer_to_json(p, o);
}

static int
save_accounts(struct tcp2_state *s)
{
	return save_list(s, "accounts", s->acct, s->nacct, sizeof(*s->acct),
	    account_to);
}

static int
save_peers(struct tcp2_state *s)
{
	return save_list(s, "peers", s->peer, s->npeer, sizeof(*s->peer),
	    peer_to);
}

int
tcp2_state_open(struct tcp2_state **sp, const char *dir,
    const char *passphrase, unsigned int flags)
{
	struct tcp2_state *s;
	int rc;

	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return TCP2_ENOMEM;
	rc = tcp2_store_open(&s->store, dir, passphrase, flags);
	if (rc == 0)
		rc = load_accounts(s);
	if (rc == 0)
		rc = load_peers(s);
	if (rc == 0)
		rc = load_seen(s);
	if (rc != 0) {
		tcp2_state_close(s);
		return rc;
	}
	*sp = s;
	return 0;
}

void
tcp2_state_close(struct tcp2_state *s)
{
	if (s == NULL)
		return;
	tcp2_crypto_wipe(s->acct, s->nacct * sizeof(*s->acct));
	free(s->acct);
	tcp2_crypto_wipe(s->peer, s->npeer * sizeof(*s->peer));
	free(s->peer);
	tcp2_seen_free(&s->seen);
	tcp2_seen_free(&s->failed);
	tcp2_store_close(s->store);
	free(s);
}

struct tcp2_store *
tcp2_state_store(struct tcp2_state *s)
{
	return s->store;
}

/* ---- accounts ---- */

size_t
tcp2_state_naccounts(const struct tcp2_state *s)
{
	return s->nacct;
}

const struct tcp2_account *
tcp2_state_account_at(const struct tcp2_state *s, size_t i)
{
	return i < s->nacct ? &s->acct[i] : NULL;
}

const struct tcp2_account *
tcp2_state_account(const struct tcp2_state *s, const char *addr)
{
	char norm[TCP2_ADDR_MAX];
	size_t i;

	if (addr == NULL)
		return s->nacct ? &s->acct[0] : NULL;
	if (tcp2_addr_norm(addr, norm) != 0)
		return NULL;
	for (i = 0; i < s->nacct; i++)
		if (strcmp(s->acct[i].addr, norm) == 0)
			return &s->acct[i];
	return NULL;
}

int
tcp2_state_account_add(struct tcp2_state *s, const struct tcp2_account *tmpl)
{
	struct tcp2_account *na;
	char norm[TCP2_ADDR_MAX];
	int rc;

	if (tcp2_addr_norm(tmpl->addr, norm) != 0)
		return TCP2_EFORMAT;
	if (tcp2_state_account(s, norm) != NULL)
		return TCP2_EEXIST;
	if (s->nacct >= STATE_MAX_ACCOUNTS)
		return TCP2_ETOOBIG;
	na = realloc(s->acct, (s->nacct + 1) * sizeof(*na));
	if (na == NULL)
		return TCP2_ENOMEM;
	s->acct = na;
	na = &s->acct[s->nacct];
	*na = *tmpl;
	memcpy(na->addr, norm, sizeof(norm));
	if (na->hold.expire_days == 0)
		tcp2_hold_policy_default(&na->hold);
	rc = tcp2_account_new_identity(na);
	if (rc != 0)
		return rc;
	s->nacct++;
	rc = save_accounts(s);
	if (rc != 0) {
		/* Not stored: not added. */
		s->nacct--;
		tcp2_account_wipe(na);
	}
	return rc;
}

int
tcp2_state_account_update(struct tcp2_state *s, const struct tcp2_account *a)
{
	struct tcp2_account *cur, saved;
	int rc;

	cur = (struct tcp2_account *)tcp2_state_account(s, a->addr);
	if (cur == NULL)
		return tcp2_state_account_add(s, a);
	saved = *cur;
	memcpy(cur->user, a->user, sizeof(cur->user));
	memcpy(cur->password, a->password, sizeof(cur->password));
	memcpy(cur->pop3, a->pop3, sizeof(cur->pop3));
	memcpy(cur->smtp, a->smtp, sizeof(cur->smtp));
	cur->policy = a->policy;
	if (a->hold.expire_days != 0)
		cur->hold = a->hold;
	rc = save_accounts(s);
	if (rc != 0)
		*cur = saved;
	tcp2_crypto_wipe(&saved, sizeof(saved));
	return rc;
}

/* ---- peers ---- */

size_t
tcp2_state_npeers(const struct tcp2_state *s)
{
	return s->npeer;
}

const struct tcp2_peer *
tcp2_state_peer_at(const struct tcp2_state *s, size_t i)
{
	return i < s->npeer ? &s->peer[i] : NULL;
}

static struct tcp2_peer *
peer_find(const struct tcp2_state *s, const char *account, const char *addr)
{
	char na[TCP2_ADDR_MAX], np[TCP2_ADDR_MAX];
	size_t i;

	if (tcp2_addr_norm(account, na) != 0 || tcp2_addr_norm(addr, np) != 0)
		return NULL;
	for (i = 0; i < s->npeer; i++)
		if (strcmp(s->peer[i].account, na) == 0 &&
		    strcmp(s->peer[i].addr, np) == 0)
			return &s->peer[i];
	return NULL;
}

const struct tcp2_peer *
tcp2_state_peer(const struct tcp2_state *s, const char *account,
    const char *addr)
{
	return peer_find(s, account, addr);
}

static struct tcp2_peer *
peer_new(struct tcp2_state *s, const char *account, const char *addr)
{
	struct tcp2_peer *np;
	size_t nc;

	if (s->npeer >= STATE_MAX_PEERS)
		return NULL;
	if (s->npeer == s->peercap) {
		nc = s->peercap ? s->peercap * 2 : 8;
		np = realloc(s->peer, nc * sizeof(*np));
		if (np == NULL)
			return NULL;
		s->peer = np;
		s->peercap = nc;
	}
	np = &s->peer[s->npeer++];
	memset(np, 0, sizeof(*np));
	tcp2_addr_norm(account, np->account);
	tcp2_addr_norm(addr, np->addr);
	return np;
}

static void
peer_remove(struct tcp2_state *s, struct tcp2_peer *p)
{
	size_t i = (size_t)(p - s->peer);

	tcp2_peer_wipe(p);
	memmove(p, p + 1, (s->npeer - i - 1) * sizeof(*p));
	s->npeer--;
}

/* ---- key exchange ---- */

const char *
tcp2_keyx_result_text(enum tcp2_keyx_result r)
{
	switch (r) {
	case TCP2_KX_REPLIED:
		return "key established; reply written";
	case TCP2_KX_ESTABLISHED:
		return "key established";
	case TCP2_KX_CHANGED:
		return "WARNING: this address now has another identity key; "
		    "held until you accept or reject it";
	case TCP2_KX_REPLAY:
		return "ignored: this key exchange was processed before";
	case TCP2_KX_OLD:
		return "ignored: older than the last key exchange";
	case TCP2_KX_UNSOLICITED:
		return "ignored: a reply to no key exchange of ours";
	case TCP2_KX_SIMULTANEOUS:
		return "ignored: both sides started; ours goes on";
	case TCP2_KX_OWN:
		return "ignored: our own key exchange";
	}
	return "?";
}

/* Fill the fields every block of account a carries. */
static void
block_init(struct tcp2_keyx *kx, enum tcp2_keyx_type type,
    const struct tcp2_account *a, const char *to, uint64_t now,
    uint8_t eph_sec[32])
{
	memset(kx, 0, sizeof(*kx));
	kx->type = type;
	memcpy(kx->from, a->addr, sizeof(kx->from));
	tcp2_addr_norm(to, kx->to);
	kx->time = now;
	tcp2_crypto_random(kx->nonce, sizeof(kx->nonce));
	memcpy(kx->id_ed, a->ed_pub, 32);
	memcpy(kx->id_x, a->x_pub, 32);
	tcp2_crypto_random(eph_sec, 32);
}

static int
out_mail(const struct tcp2_keyx *kx, char *out, size_t outlen, size_t *used)
{
	long n = tcp2_keyx_mail(kx, out, outlen);

	if (n < 0)
		return (int)n;
	*used = (size_t)n;
	return 0;
}

int
tcp2_state_keyx_start(struct tcp2_state *s, const char *account,
    const char *addr, uint64_t now, char *out, size_t outlen,
    size_t *outlen_used)
{
	const struct tcp2_account *a = tcp2_state_account(s, account);
	struct tcp2_peer *p, saved;
	struct tcp2_keyx kx;
	uint8_t eph[32];
	char norm[TCP2_ADDR_MAX];
	int rc, created = 0;

	if (a == NULL)
		return TCP2_ENOENT;
	if (tcp2_addr_norm(addr, norm) != 0 || strcmp(norm, a->addr) == 0)
		return TCP2_EINVAL;
	block_init(&kx, TCP2_KEYX_INIT, a, norm, now, eph);
	if ((rc = tcp2_x25519_public(kx.eph, eph)) != 0 ||
	    (rc = tcp2_keyx_sign(&kx, a->ed_sec)) != 0 ||
	    (rc = out_mail(&kx, out, outlen, outlen_used)) != 0)
		goto out;
	p = peer_find(s, a->addr, norm);
	if (p == NULL) {
		if ((p = peer_new(s, a->addr, norm)) == NULL) {
			rc = TCP2_ENOMEM;
			goto out;
		}
		created = 1;
	}
	saved = *p;
	p->pending = 1;
	memcpy(p->pend_eph_sec, eph, 32);
	tcp2_keyx_hash(&kx, p->pend_hash);
	memcpy(p->pend_nonce, kx.nonce, sizeof(kx.nonce));
	tcp2_peer_nonce_add(p, kx.nonce);
	rc = save_peers(s);
	if (rc != 0) {
		/* Not stored: the mail must not be sent. */
		if (created)
			peer_remove(s, p);
		else
			*p = saved;
		*outlen_used = 0;
	}
	tcp2_crypto_wipe(&saved, sizeof(saved));
out:
	tcp2_crypto_wipe(eph, sizeof(eph));
	return rc;
}

/* Take over the identity of a block; a new identity is not verified. */
static void
peer_set_identity(struct tcp2_peer *p, const struct tcp2_keyx *kx)
{
	if (!p->has_identity || memcmp(p->ed_pub, kx->id_ed, 32) != 0 ||
	    memcmp(p->x_pub, kx->id_x, 32) != 0)
		p->verified = 0;
	memcpy(p->ed_pub, kx->id_ed, 32);
	memcpy(p->x_pub, kx->id_x, 32);
	p->has_identity = 1;
}

/* Answer an init: our reply, the key, the peer record. */
static int
apply_init(const struct tcp2_account *a, struct tcp2_peer *p,
    const struct tcp2_keyx *init, uint64_t now,
    enum tcp2_keyx_result *res, char *out, size_t outlen, size_t *used)
{
	struct tcp2_keyx reply;
	uint8_t eph[32], ih[32], key[32];
	int rc;

	/* Both started: the smaller nonce's exchange goes on, on both sides. */
	if (p->pending && memcmp(p->pend_nonce, init->nonce,
	    TCP2_KEYX_NONCE_LEN) < 0) {
		tcp2_peer_nonce_add(p, init->nonce);
		*res = TCP2_KX_SIMULTANEOUS;
		return 0;
	}
	block_init(&reply, TCP2_KEYX_REPLY, a, init->from,
	    now > init->time ? now : init->time, eph);
	tcp2_keyx_hash(init, ih);
	memcpy(reply.reply_to, ih, 32);
	if ((rc = tcp2_x25519_public(reply.eph, eph)) != 0 ||
	    (rc = tcp2_keyx_sign(&reply, a->ed_sec)) != 0 ||
	    (rc = tcp2_keyx_derive(key, ih, &reply, init, eph, a->x_sec)) ||
	    (rc = out_mail(&reply, out, outlen, used)) != 0)
		goto out;
	peer_set_identity(p, init);
	tcp2_peer_push_key(p, key, now);
	if (tcp2_keyx_format(&reply, "\n", p->reply_block,
	    sizeof(p->reply_block)) > 0)
		p->reply_due = 1;
	p->pending = 0;
	tcp2_crypto_wipe(p->pend_eph_sec, 32);
	p->last_keyx = init->time;
	tcp2_peer_nonce_add(p, init->nonce);
	*res = TCP2_KX_REPLIED;
out:
	tcp2_crypto_wipe(eph, sizeof(eph));
	tcp2_crypto_wipe(key, sizeof(key));
	return rc;
}

/* A reply to our pending init. */
static int
apply_reply(const struct tcp2_account *a, struct tcp2_peer *p,
    const struct tcp2_keyx *reply, uint64_t now, enum tcp2_keyx_result *res)
{
	uint8_t key[32];
	int rc;

	if (!p->pending || !tcp2_crypto_equal(p->pend_hash, reply->reply_to,
	    32)) {
		*res = TCP2_KX_UNSOLICITED;
		return 0;
	}
	rc = tcp2_keyx_derive(key, p->pend_hash, reply, reply,
	    p->pend_eph_sec, a->x_sec);
	if (rc != 0)
		return rc;
	peer_set_identity(p, reply);
	tcp2_peer_push_key(p, key, now);
	tcp2_crypto_wipe(key, sizeof(key));
	p->reply_due = 0;
	p->pending = 0;
	tcp2_crypto_wipe(p->pend_eph_sec, 32);
	p->last_keyx = reply->time;
	tcp2_peer_nonce_add(p, reply->nonce);
	*res = TCP2_KX_ESTABLISHED;
	return 0;
}

/* Keep a block with another identity for the user's decision. */
static int
hold_changed(struct tcp2_peer *p, const struct tcp2_keyx *kx,
    enum tcp2_keyx_result *res)
{
	int n;
	long bl;

	n = snprintf(p->changed_block, sizeof(p->changed_block),
	    "From: %s\n\n", kx->from);
	bl = tcp2_keyx_format(kx, "\n", p->changed_block + n,
	    sizeof(p->changed_block) - (size_t)n);
	if (bl < 0)
		return (int)bl;
	p->changed = 1;
	tcp2_peer_nonce_add(p, kx->nonce);
	*res = TCP2_KX_CHANGED;
	return 0;
}

static int
keyx_apply(const struct tcp2_account *a,
    struct tcp2_peer *p, const struct tcp2_keyx *kx, uint64_t now,
    int accepting, enum tcp2_keyx_result *res, char *out, size_t outlen,
    size_t *used)
{
	*used = 0;
	if (!accepting) {
		if (tcp2_peer_nonce_seen(p, kx->nonce)) {
			*res = TCP2_KX_REPLAY;
			return 0;
		}
		if (kx->time < p->last_keyx) {
			*res = TCP2_KX_OLD;
			return 0;
		}
		if (p->has_identity && (memcmp(p->ed_pub, kx->id_ed, 32) ||
		    memcmp(p->x_pub, kx->id_x, 32)))
			return hold_changed(p, kx, res);
	}
	if (kx->type == TCP2_KEYX_INIT)
		return apply_init(a, p, kx, now, res, out, outlen, used);
	return apply_reply(a, p, kx, now, res);
}

int
tcp2_state_keyx_recv(struct tcp2_state *s, const char *mail, size_t len,
    uint64_t now, enum tcp2_keyx_result *res, char *out, size_t outlen,
    size_t *used)
{
	const struct tcp2_account *a;
	struct tcp2_peer *p, saved;
	struct tcp2_keyx kx;
	int rc, created = 0;

	*used = 0;
	if ((rc = tcp2_keyx_parse(mail, len, &kx)) != 0)
		return rc;
	if ((a = tcp2_state_account(s, kx.to)) == NULL)
		return TCP2_ENOENT;
	if (strcmp(kx.from, a->addr) == 0) {
		*res = TCP2_KX_OWN;
		return 0;
	}
	p = peer_find(s, a->addr, kx.from);
	if (p == NULL) {
		/* Replies to nothing create nothing. */
		if (kx.type == TCP2_KEYX_REPLY) {
			*res = TCP2_KX_UNSOLICITED;
			return 0;
		}
		if ((p = peer_new(s, a->addr, kx.from)) == NULL)
			return TCP2_ENOMEM;
		created = 1;
	}
	saved = *p;
	rc = keyx_apply(a, p, &kx, now, 0, res, out, outlen, used);
	if (rc == 0 && (*res == TCP2_KX_REPLIED || *res == TCP2_KX_ESTABLISHED ||
	    *res == TCP2_KX_CHANGED || *res == TCP2_KX_SIMULTANEOUS))
		rc = save_peers(s);
	if (rc != 0 || (created && *res != TCP2_KX_REPLIED)) {
		/* Undo in memory what could not be stored (or was nothing). */
		if (created)
			peer_remove(s, p);
		else
			*p = saved;
		if (rc != 0)
			*used = 0;
	}
	tcp2_crypto_wipe(&saved, sizeof(saved));
	return rc;
}

/* A block in LF form rewritten with eol line ends. */
static int
block_eol(const char *blk, const char *eol, char *out, size_t outlen,
    size_t *used)
{
	size_t el = strlen(eol), o = 0;

	for (; *blk; blk++) {
		if (o + el + 1 >= outlen)
			return TCP2_ETOOBIG;
		if (*blk == '\n') {
			memcpy(out + o, eol, el);
			o += el;
		} else {
			out[o++] = *blk;
		}
	}
	out[o] = '\0';
	*used = o;
	return 0;
}

int
tcp2_state_keyx_outgoing(struct tcp2_state *s, const char *account,
    const char *addr, uint64_t now, const char *eol, char *out,
    size_t outlen, size_t *used, int *is_reply)
{
	const struct tcp2_account *a = tcp2_state_account(s, account);
	struct tcp2_peer *p = a ? peer_find(s, a->addr, addr) : NULL;
	struct tcp2_keyx kx;
	char mail[8192];
	size_t n;
	int rc;

	*used = 0;
	if (a == NULL)
		return TCP2_ENOENT;
	if (p != NULL && p->reply_due) {
		*is_reply = 1;
		rc = block_eol(p->reply_block, eol, out, outlen, used);
		if (rc != 0)
			return rc;
		p->reply_due = 0;
		rc = save_peers(s);
		if (rc != 0) {
			p->reply_due = 1;
			*used = 0;
		}
		return rc;
	}
	*is_reply = 0;
	rc = tcp2_state_keyx_start(s, account, addr, now, mail, sizeof(mail),
	    &n);
	if (rc != 0)
		return rc;
	mail[n] = '\0';
	/* Take the block back out of the mail tcp2_state_keyx_start wrote. */
	if (tcp2_keyx_parse(mail, n, &kx) != 0)
		return TCP2_EFORMAT;
	if (tcp2_keyx_format(&kx, eol, out, outlen) < 0)
		return TCP2_ETOOBIG;
	*used = strlen(out);
	return 0;
}

int
tcp2_state_peer_verify(struct tcp2_state *s, const char *account,
    const char *addr)
{
	struct tcp2_peer *p = peer_find(s, account, addr);
	int rc;

	if (p == NULL)
		return TCP2_ENOENT;
	if (p->changed || p->nkeys == 0)
		return TCP2_ESTATE;
	p->verified = 1;
	rc = save_peers(s);
	if (rc != 0)
		p->verified = 0;
	return rc;
}

int
tcp2_state_peer_accept(struct tcp2_state *s, const char *account,
    const char *addr, uint64_t now, enum tcp2_keyx_result *res, char *out,
    size_t outlen, size_t *used)
{
	const struct tcp2_account *a = tcp2_state_account(s, account);
	struct tcp2_peer *p = a ? peer_find(s, a->addr, addr) : NULL;
	struct tcp2_peer saved;
	struct tcp2_keyx kx;
	int rc;

	*used = 0;
	if (p == NULL)
		return TCP2_ENOENT;
	if (!p->changed)
		return TCP2_ESTATE;
	rc = tcp2_keyx_parse(p->changed_block, strlen(p->changed_block), &kx);
	if (rc != 0)
		return rc;
	saved = *p;
	/* The old identity's keys go with it. */
	p->changed = 0;
	p->has_identity = 0;
	p->verified = 0;
	tcp2_crypto_wipe(p->keys, sizeof(p->keys));
	p->nkeys = 0;
	rc = keyx_apply(a, p, &kx, now, 1, res, out, outlen, used);
	if (rc == 0 && *res == TCP2_KX_UNSOLICITED)
		peer_set_identity(p, &kx);
	if (rc == 0)
		rc = save_peers(s);
	if (rc != 0) {
		*p = saved;
		*used = 0;
	}
	tcp2_crypto_wipe(&saved, sizeof(saved));
	return rc;
}

int
tcp2_state_peer_reject(struct tcp2_state *s, const char *account,
    const char *addr)
{
	struct tcp2_peer *p = peer_find(s, account, addr);

	if (p == NULL)
		return TCP2_ENOENT;
	if (!p->changed)
		return TCP2_ESTATE;
	p->changed = 0;
	memset(p->changed_block, 0, sizeof(p->changed_block));
	return save_peers(s);
}

int
tcp2_state_peer_forget(struct tcp2_state *s, const char *account,
    const char *addr)
{
	struct tcp2_peer *p = peer_find(s, account, addr);

	if (p == NULL)
		return TCP2_ENOENT;
	peer_remove(s, p);
	return save_peers(s);
}

/* ---- messages ---- */

int
tcp2_state_message_keys(const struct tcp2_state *s,
    const struct tcp2_account *a, const char *const *rcpts, size_t n,
    uint8_t (*keys)[TCP2_MSG_KEY_LEN], size_t *nkeys, size_t *bad)
{
	const struct tcp2_peer *p;
	char norm[TCP2_ADDR_MAX];
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		*bad = i;
		if (tcp2_addr_norm(rcpts[i], norm) != 0)
			return TCP2_EINVAL;
		/* The self key below covers mail to ourselves. */
		if (strcmp(norm, a->addr) == 0)
			continue;
		p = peer_find(s, a->addr, norm);
		if (p == NULL || p->nkeys == 0)
			return TCP2_ENOKEY;
		if (p->changed)
			return TCP2_ESTATE;
		memcpy(keys[k++], p->keys[0].key, TCP2_MSG_KEY_LEN);
	}
	if (tcp2_account_self_key(a, keys[k]) != 0)
		return TCP2_ECRYPTO;
	*nkeys = k + 1;
	return 0;
}

int
tcp2_state_lookup(void *arg, const char *from, struct tcp2_msg_sender *snd)
{
	const struct tcp2_state *s = arg;
	const struct tcp2_peer *p;
	size_t i, k;

	/* Our own copy: the self key. */
	for (i = 0; i < s->nacct; i++) {
		if (strcmp(s->acct[i].addr, from) != 0)
			continue;
		snprintf(snd->addr, sizeof(snd->addr), "%s", from);
		memcpy(snd->ed_pub, s->acct[i].ed_pub, 32);
		snd->nkeys = 1;
		return tcp2_account_self_key(&s->acct[i], snd->keys[0]);
	}
	/* Every account that knows this sender may be the recipient: offer
	 * all their keys (the wrap hints pick the right one). */
	snd->nkeys = 0;
	for (i = 0; i < s->npeer; i++) {
		p = &s->peer[i];
		if (strcmp(p->addr, from) != 0 || p->nkeys == 0 ||
		    !p->has_identity)
			continue;
		if (snd->nkeys == 0) {
			snprintf(snd->addr, sizeof(snd->addr), "%s", from);
			memcpy(snd->ed_pub, p->ed_pub, 32);
		} else if (memcmp(snd->ed_pub, p->ed_pub, 32) != 0) {
			continue;	/* another identity: not this sender */
		}
		for (k = 0; k < p->nkeys && snd->nkeys < TCP2_MSG_MAX_KEYS; k++)
			memcpy(snd->keys[snd->nkeys++], p->keys[k].key, 32);
	}
	return snd->nkeys ? 0 : TCP2_ENOKEY;
}

int
tcp2_state_failed(const struct tcp2_state *s,
    const uint8_t id[TCP2_MSG_SALT_LEN])
{
	return tcp2_seen_find(&s->failed, id) != NULL;
}

int
tcp2_state_failed_add(struct tcp2_state *s,
    const uint8_t id[TCP2_MSG_SALT_LEN])
{
	return tcp2_seen_add(&s->failed, id, 0);
}

int
tcp2_state_seen_check_add(struct tcp2_state *s,
    const uint8_t id[TCP2_MSG_SALT_LEN], uint64_t now, uint64_t *first_seen)
{
	const struct tcp2_seen_entry *e = tcp2_seen_find(&s->seen, id);
	json_object *o;
	int rc;

	if (e != NULL) {
		if (first_seen)
			*first_seen = e->when;
		return TCP2_EREPLAY;
	}
	if ((rc = tcp2_seen_add(&s->seen, id, now)) != 0)
		return rc;
	if ((rc = tcp2_seen_to_json(&s->seen, &o)) != 0)
		return rc;
	return save_obj(s, "seen", o);
}
