/*
 * tray_peers.c - the Peers page: every peer with its key state (a changed
 * key in a warning style), fingerprint, comparison code and last key
 * exchange; actions: mark verified after comparing codes, accept or
 * reject a changed key, forget, and how to start a key exchange.
 */
#include <string.h>

#include "tray.h"

#define KEYX_SUBJECT "TCP2 key exchange"	/* daemon/core/keyx.h */

struct tray_peers {
	struct tray *t;
	GtkWidget *list, *placeholder;
};

/* What one row's buttons act on. */
struct peer_act {
	struct tray *t;
	char	*cmd, *addr, *account, *code;
};

static void
peer_act_free(gpointer p, GClosure *cl)
{
	struct peer_act *a = p;

	(void)cl;
	g_free(a->cmd);
	g_free(a->addr);
	g_free(a->account);
	g_free(a->code);
	g_free(a);
}

static void
peer_done(json_object *resp, const char *error, void *arg)
{
	struct tray *t = arg;
	const char *hint = tray_jstr(resp, "hint");

	if (error != NULL)
		tray_error(t, "The daemon refused", error);
	else if (hint != NULL) {
		char *h = tray_clean(hint);

		gtk_label_set_text(GTK_LABEL(t->status_label), h);
		g_free(h);
	}
	tray_peers_refresh(t);
}

static void
peer_clicked(GtkButton *b, gpointer p)
{
	struct peer_act *a = p;
	json_object *req;
	char *q = NULL, *d = NULL;
	const char *yes = NULL;

	(void)b;
	if (strcmp(a->cmd, "peer-verify") == 0) {
		q = g_strdup_printf("Does %s see the comparison code %s?",
		    a->addr, a->code != NULL ? a->code : "-");
		d = g_strdup("Compare the code by phone or in person, not by "
		    "mail. Mark the peer verified only when both codes match.");
		yes = "Codes match";
	} else if (strcmp(a->cmd, "peer-forget") == 0) {
		q = g_strdup_printf("Forget everything known about %s?", a->addr);
		d = g_strdup("Its keys are deleted; mail to it is no longer "
		    "encrypted until a new key exchange.");
		yes = "Forget";
	} else if (strcmp(a->cmd, "peer-accept") == 0) {
		q = g_strdup_printf("Accept the new key of %s?", a->addr);
		d = g_strdup("Do this only when the person told you, by other "
		    "means than mail, that their key changed.");
		yes = "Accept new key";
	}
	req = tray_req(a->cmd);
	json_object_object_add(req, "addr", json_object_new_string(a->addr));
	if (a->account != NULL)
		json_object_object_add(req, "account",
		    json_object_new_string(a->account));
	if (q != NULL)
		tray_confirm_request(a->t, q, d, yes, req, peer_done, a->t);
	else {
		tray_ctl_request(a->t->ctl, req, NULL, 0, peer_done, a->t);
		json_object_put(req);
	}
	g_free(q);
	g_free(d);
}

/* The fixed-form mail that starts a key exchange, spelled out. */
static void
keyx_explain(struct tray *t, const char *account, const char *addr)
{
	GtkWidget *d;

	d = gtk_message_dialog_new(GTK_WINDOW(t->win), GTK_DIALOG_MODAL,
	    GTK_MESSAGE_INFO, GTK_BUTTONS_OK, "Start a key exchange with %s",
	    addr != NULL ? addr : "a new peer");
	gtk_message_dialog_format_secondary_text(GTK_MESSAGE_DIALOG(d),
	    "In your usual mail client, send a mail\n"
	    "  from: %s\n  to: %s\n  subject: " KEYX_SUBJECT "\n"
	    "(any text; it is replaced by your key). When their reply "
	    "arrives, the peer shows as established; then compare the "
	    "comparison codes with them and mark them verified.",
	    account != NULL ? account : "your account",
	    addr != NULL ? addr : "the peer's address");
	gtk_window_set_title(GTK_WINDOW(d), "Key exchange");
	g_signal_connect(d, "response", G_CALLBACK(gtk_widget_destroy), NULL);
	gtk_widget_show(d);
}

static void
keyx_clicked(GtkButton *b, gpointer p)
{
	struct peer_act *a = p;

	(void)b;
	keyx_explain(a->t, a->account, a->addr);
}

static void
keyx_new_response(GtkDialog *d, gint r, gpointer p)
{
	struct tray *t = p;
	GtkEntry *e = g_object_get_data(G_OBJECT(d), "entry");
	char *addr = NULL;

	if (r == GTK_RESPONSE_OK)
		addr = g_strstrip(g_strdup(gtk_entry_get_text(e)));
	gtk_widget_destroy(GTK_WIDGET(d));
	if (addr != NULL && *addr != '\0')
		keyx_explain(t, NULL, addr);
	g_free(addr);
}

static void
keyx_new_clicked(GtkButton *b, gpointer p)
{
	struct tray *t = p;
	GtkWidget *d, *e, *area;

	(void)b;
	d = gtk_dialog_new_with_buttons("Start a key exchange",
	    GTK_WINDOW(t->win), GTK_DIALOG_MODAL, "_Cancel", GTK_RESPONSE_CANCEL,
	    "_Continue", GTK_RESPONSE_OK, NULL);
	area = gtk_dialog_get_content_area(GTK_DIALOG(d));
	gtk_container_set_border_width(GTK_CONTAINER(area), 12);
	gtk_box_pack_start(GTK_BOX(area),
	    tray_label("The address of the person to exchange keys with:",
	    FALSE), FALSE, FALSE, 4);
	e = gtk_entry_new();
	tray_a11y(e, "Peer address", NULL);
	gtk_entry_set_activates_default(GTK_ENTRY(e), TRUE);
	gtk_dialog_set_default_response(GTK_DIALOG(d), GTK_RESPONSE_OK);
	gtk_box_pack_start(GTK_BOX(area), e, FALSE, FALSE, 4);
	g_object_set_data(G_OBJECT(d), "entry", e);
	g_signal_connect(d, "response", G_CALLBACK(keyx_new_response), t);
	gtk_widget_show_all(d);
}

static void
row_button(GtkWidget *box, struct tray *t, const char *label,
    const char *cmd, json_object *p, const char *pre, const char *post,
    GCallback cb)
{
	struct peer_act *a = g_new0(struct peer_act, 1);
	GtkWidget *b = gtk_button_new_with_label(label);
	char *name;

	a->t = t;
	a->cmd = g_strdup(cmd);
	a->addr = g_strdup(tray_jstr(p, "addr"));
	a->account = g_strdup(tray_jstr(p, "account"));
	a->code = g_strdup(tray_jstr(p, "code"));
	name = g_strconcat(pre, a->addr != NULL ? a->addr : "-", post, NULL);
	gtk_widget_set_tooltip_text(b, name);
	gtk_widget_set_valign(b, GTK_ALIGN_CENTER);
	g_signal_connect_data(b, "clicked", cb, a, peer_act_free, 0);
	gtk_box_pack_start(GTK_BOX(box), b, FALSE, FALSE, 0);
	g_free(name);
}

static const char *
state_words(const char *st)
{
	if (st == NULL)
		return "unknown";
	if (strcmp(st, "none") == 0)
		return "no key";
	if (strcmp(st, "sent") == 0)
		return "key exchange sent, waiting for the reply";
	if (strcmp(st, "established") == 0)
		return "key established, not verified yet";
	if (strcmp(st, "verified") == 0)
		return "verified";
	if (strcmp(st, "changed") == 0)
		return "KEY CHANGED: nothing is encrypted to this peer until you decide";
	return st;
}

static GtkWidget *
peer_row(struct tray *t, json_object *p)
{
	GtkWidget *row, *hb, *vb, *bb, *l;
	const char *st = tray_jstr(p, "state");
	char *addr = tray_clean(tray_jstr(p, "addr"));
	char *acct = tray_clean(tray_jstr(p, "account"));
	char *fp = tray_clean(tray_jstr(p, "fingerprint"));
	char *code = tray_clean(tray_jstr(p, "code"));
	char *date = tray_date(tray_jint(p, "key_date", 0));
	char *s, *name;
	gboolean changed = st != NULL && strcmp(st, "changed") == 0;

	row = gtk_list_box_row_new();
	hb = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
	gtk_container_set_border_width(GTK_CONTAINER(hb), 8);
	vb = gtk_box_new(GTK_ORIENTATION_VERTICAL, 2);
	gtk_widget_set_hexpand(vb, TRUE);
	gtk_box_pack_start(GTK_BOX(vb), tray_label(addr, TRUE), FALSE, FALSE, 0);
	s = g_strdup_printf("Key state: %s", state_words(st));
	l = tray_label(s, FALSE);
	g_free(s);
	if (changed) {
		gtk_style_context_add_class(gtk_widget_get_style_context(l),
		    "tcp2-warning");
		gtk_style_context_add_class(gtk_widget_get_style_context(row),
		    "tcp2-warning-row");
	}
	gtk_box_pack_start(GTK_BOX(vb), l, FALSE, FALSE, 0);
	s = g_strdup_printf("Comparison code: %s    Fingerprint: %s", code, fp);
	gtk_box_pack_start(GTK_BOX(vb), tray_label(s, FALSE), FALSE, FALSE, 0);
	g_free(s);
	s = g_strdup_printf("Account: %s    Last key exchange: %s%s", acct, date,
	    tray_jbool(p, "reply_due", FALSE) ? "    (a reply is due)" : "");
	gtk_box_pack_start(GTK_BOX(vb), tray_label(s, FALSE), FALSE, FALSE, 0);
	g_free(s);
	gtk_box_pack_start(GTK_BOX(hb), vb, TRUE, TRUE, 0);

	bb = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
	if (st != NULL && strcmp(st, "established") == 0)
		row_button(bb, t, "Mark verified", "peer-verify", p,
		    "Mark ", " verified after comparing codes",
		    G_CALLBACK(peer_clicked));
	if (changed) {
		row_button(bb, t, "Accept new key", "peer-accept", p,
		    "Accept the changed key of ", "", G_CALLBACK(peer_clicked));
		row_button(bb, t, "Keep old key", "peer-reject", p,
		    "Reject the changed key of ", "", G_CALLBACK(peer_clicked));
	}
	if (st == NULL || strcmp(st, "none") == 0 || strcmp(st, "sent") == 0)
		row_button(bb, t, "Key exchange…", NULL, p,
		    "How to start a key exchange with ", "",
		    G_CALLBACK(keyx_clicked));
	row_button(bb, t, "Forget", "peer-forget", p, "Forget ", "",
	    G_CALLBACK(peer_clicked));
	gtk_box_pack_start(GTK_BOX(hb), bb, FALSE, FALSE, 0);
	gtk_container_add(GTK_CONTAINER(row), hb);

	/* Row name: address and state, what a screen reader says first. */
	name = g_strdup_printf("Peer %s: %s", addr, st != NULL ? st : "unknown");
	tray_a11y(row, name, s = g_strdup_printf("code %s, fingerprint %s",
	    code, fp));
	g_free(s);
	g_free(name);
	g_free(addr);
	g_free(acct);
	g_free(fp);
	g_free(code);
	g_free(date);
	gtk_widget_show_all(row);
	return row;
}

static void
peers_got(json_object *resp, const char *error, void *arg)
{
	struct tray *t = arg;
	struct tray_peers *v = t->peers;
	json_object *a = tray_jarray(resp, "peers");
	size_t i, n = a != NULL ? json_object_array_length(a) : 0;
	int changed = 0;

	if (error != NULL) {
		char *s = g_strdup_printf("No peer list: %s", error);

		tray_peers_clear(t, s);
		g_free(s);
		return;
	}
	tray_clear(GTK_CONTAINER(v->list));
	gtk_label_set_text(GTK_LABEL(v->placeholder),
	    "No peers yet: start a key exchange.");
	for (i = 0; i < n; i++) {
		json_object *p = json_object_array_get_idx(a, i);
		const char *st = tray_jstr(p, "state");

		if (st != NULL && strcmp(st, "changed") == 0)
			changed++;
		gtk_container_add(GTK_CONTAINER(v->list), peer_row(t, p));
	}
	if (t->n_changed < changed) {
		tray_notify(t, "key-changed", "TCP2 Mail: a key changed",
		    "A peer's key changed. Nothing is encrypted to it until you "
		    "accept or reject the new key (Peers).");
	}
	t->n_changed = changed;
	tray_update_state(t);
}

void
tray_peers_refresh(struct tray *t)
{
	tray_ctl_simple(t->ctl, "peers", peers_got, t);
}

void
tray_peers_clear(struct tray *t, const char *why)
{
	tray_clear(GTK_CONTAINER(t->peers->list));
	gtk_label_set_text(GTK_LABEL(t->peers->placeholder), why != NULL ?
	    why : "No peer list");
	t->n_changed = 0;
}

GtkWidget *
tray_peers_new(struct tray *t)
{
	struct tray_peers *v = g_new0(struct tray_peers, 1);
	GtkWidget *box, *sw, *bar, *b;

	v->t = t;
	t->peers = v;
	box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
	gtk_container_set_border_width(GTK_CONTAINER(box), 6);
	bar = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
	b = gtk_button_new_with_label("Start a key exchange…");
	g_signal_connect(b, "clicked", G_CALLBACK(keyx_new_clicked), t);
	gtk_box_pack_start(GTK_BOX(bar), b, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box), bar, FALSE, FALSE, 0);

	v->list = gtk_list_box_new();
	gtk_list_box_set_selection_mode(GTK_LIST_BOX(v->list),
	    GTK_SELECTION_NONE);
	v->placeholder = tray_placeholder("No peers yet: start a key exchange.");
	gtk_list_box_set_placeholder(GTK_LIST_BOX(v->list), v->placeholder);
	tray_a11y(v->list, "Peers", "every peer and its key state");
	sw = gtk_scrolled_window_new(NULL, NULL);
	gtk_widget_set_vexpand(sw, TRUE);
	gtk_container_add(GTK_CONTAINER(sw), v->list);
	gtk_box_pack_start(GTK_BOX(box), sw, TRUE, TRUE, 0);
	return box;
}
