/*
 * tray_held.c - the Held mail page (the seed's figure 7): one row per mail
 * in quarantine with date, sender, verification, encrypted, HTML,
 * attachments, subject and why it is held; Receive, Receive without
 * attachments and Discard (after confirmation); selecting a row shows
 * the decrypted mail from `show` as text in the preview below.
 */
#include <string.h>

#include "tray.h"

struct tray_held {
	struct tray *t;
	GtkWidget *list, *placeholder, *preview;
	char	*shown;		/* id in the preview */
};

struct held_act {
	struct tray *t;
	char	*cmd, *id, *what;
	gboolean strip;
};

static void
held_act_free(gpointer p, GClosure *cl)
{
	struct held_act *a = p;

	(void)cl;
	g_free(a->cmd);
	g_free(a->id);
	g_free(a->what);
	g_free(a);
}

static void
held_done(json_object *resp, const char *error, void *arg)
{
	struct tray *t = arg;
	const char *hint = tray_jstr(resp, "hint");

	if (error != NULL)
		tray_error(t, "The daemon refused", error);
	else {
		char *h = tray_clean(hint != NULL ? hint : "done");

		gtk_label_set_text(GTK_LABEL(t->status_label), h);
		g_free(h);
	}
	tray_held_refresh(t);
}

static void
held_clicked(GtkButton *b, gpointer p)
{
	struct held_act *a = p;
	json_object *req;

	(void)b;
	req = tray_req(a->cmd);
	json_object_object_add(req, "id", json_object_new_string(a->id));
	if (strcmp(a->cmd, "discard") == 0) {
		tray_confirm_request(a->t, "Discard this mail for good?",
		    a->what, "Discard", req, held_done, a->t);
		return;
	}
	json_object_object_add(req, "strip_attachments",
	    json_object_new_boolean(a->strip));
	tray_ctl_request(a->t->ctl, req, NULL, 0, held_done, a->t);
	json_object_put(req);
}

static void
held_button(GtkWidget *box, struct tray *t, const char *label,
    const char *cmd, gboolean strip, const char *id, const char *what,
    gboolean sensitive)
{
	struct held_act *a = g_new0(struct held_act, 1);
	GtkWidget *b = gtk_button_new_with_label(label);

	a->t = t;
	a->cmd = g_strdup(cmd);
	a->id = g_strdup(id);
	a->what = g_strdup(what);
	a->strip = strip;
	gtk_widget_set_tooltip_text(b, what);
	gtk_widget_set_sensitive(b, sensitive);
	gtk_widget_set_valign(b, GTK_ALIGN_CENTER);
	g_signal_connect_data(b, "clicked", G_CALLBACK(held_clicked), a,
	    held_act_free, 0);
	gtk_box_pack_start(GTK_BOX(box), b, FALSE, FALSE, 0);
}

static char *
held_attachments(json_object *m, size_t *count)
{
	json_object *a = tray_jarray(m, "attachments");
	GString *s = g_string_new(NULL);
	size_t i, n = a != NULL ? json_object_array_length(a) : 0;

	for (i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(a, i);
		const char *nm = tray_jstr(e, "name");
		char *name = tray_clean(nm != NULL && *nm != '\0' ? nm : "(no name)");
		char *size = tray_size(tray_jint(e, "size", -1));

		g_string_append_printf(s, "%s%s (%s)", i > 0 ? ", " : "", name,
		    size);
		g_free(name);
		g_free(size);
	}
	*count = n;
	if (n == 0)
		g_string_append(s, "none");
	return g_string_free(s, FALSE);
}

static GtkWidget *
held_row(struct tray *t, json_object *m)
{
	GtkWidget *row, *hb, *vb, *bb, *l;
	const char *id = tray_jstr(m, "id"), *st = tray_jstr(m, "state");
	const char *ver = tray_jstr(m, "verification");
	char *sender = tray_clean(tray_jstr(m, "sender"));
	char *subject = tray_clean(tray_jstr(m, "subject"));
	char *reason = tray_clean(tray_jstr(m, "reason"));
	char *date = tray_date(tray_jint(m, "time", 0));
	char *expires = tray_date(tray_jint(m, "expires", 0));
	char *size = tray_size(tray_jint(m, "size", -1));
	size_t natt;
	char *att = held_attachments(m, &natt);
	char *s, *what, *name;
	gboolean waiting = st == NULL || strcmp(st, "held") == 0;

	row = gtk_list_box_row_new();
	g_object_set_data_full(G_OBJECT(row), "id", g_strdup(id), g_free);
	hb = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
	gtk_container_set_border_width(GTK_CONTAINER(hb), 8);
	vb = gtk_box_new(GTK_ORIENTATION_VERTICAL, 2);
	gtk_widget_set_hexpand(vb, TRUE);
	s = g_strdup_printf("%s — %s", sender, subject);
	gtk_box_pack_start(GTK_BOX(vb), tray_label(s, TRUE), FALSE, FALSE, 0);
	g_free(s);
	s = g_strdup_printf("%s    Sender: %s    %s    %s    %s", date,
	    ver != NULL ? ver : "unknown",
	    tray_jbool(m, "encrypted", FALSE) ? "Encrypted" : "Not encrypted",
	    tray_jbool(m, "html", FALSE) ? "HTML" : "Plain text", size);
	l = tray_label(s, FALSE);
	if (ver != NULL && strcmp(ver, "forged") == 0)
		gtk_style_context_add_class(gtk_widget_get_style_context(l),
		    "tcp2-warning");
	gtk_box_pack_start(GTK_BOX(vb), l, FALSE, FALSE, 0);
	g_free(s);
	s = g_strdup_printf("Attachments: %s", att);
	gtk_box_pack_start(GTK_BOX(vb), tray_label(s, FALSE), FALSE, FALSE, 0);
	g_free(s);
	s = g_strdup_printf("Held because: %s%s%s    Deleted on %s unless you "
	    "decide", reason, waiting ? "" : "    State: ", waiting ? "" : st,
	    expires);
	gtk_box_pack_start(GTK_BOX(vb), tray_label(s, FALSE), FALSE, FALSE, 0);
	g_free(s);
	gtk_box_pack_start(GTK_BOX(hb), vb, TRUE, TRUE, 0);

	what = g_strdup_printf("the mail from %s, \"%s\"", sender, subject);
	bb = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
	if (id != NULL) {
		s = g_strdup_printf("Receive %s", what);
		held_button(bb, t, "Receive", "receive", FALSE, id, s, waiting);
		g_free(s);
		s = g_strdup_printf("Receive %s without its attachments", what);
		held_button(bb, t, "Receive without attachments", "receive",
		    TRUE, id, s, waiting && natt > 0);
		g_free(s);
		s = g_strdup_printf("Discard %s", what);
		held_button(bb, t, "Discard", "discard", FALSE, id, s, TRUE);
		g_free(s);
	}
	gtk_box_pack_start(GTK_BOX(hb), bb, FALSE, FALSE, 0);
	gtk_container_add(GTK_CONTAINER(row), hb);
	name = g_strdup_printf("Held mail from %s: %s", sender, subject);
	s = g_strdup_printf("%s; verification %s; %s; attachments: %s; "
	    "held because: %s", date, ver != NULL ? ver : "unknown",
	    tray_jbool(m, "encrypted", FALSE) ? "encrypted" : "not encrypted",
	    att, reason);
	tray_a11y(row, name, s);
	g_free(s);
	g_free(name);
	g_free(what);
	g_free(sender);
	g_free(subject);
	g_free(reason);
	g_free(date);
	g_free(expires);
	g_free(size);
	g_free(att);
	gtk_widget_show_all(row);
	return row;
}

static void
held_shown(json_object *resp, const char *error, void *arg)
{
	struct tray *t = arg;
	json_object *msg;

	if (error != NULL) {
		char *s = g_strdup_printf("No preview: %s", error);

		tray_view_message(t->held->preview, s);
		g_free(s);
		return;
	}
	if (!json_object_object_get_ex(resp, "message", &msg) ||
	    !json_object_is_type(msg, json_type_object)) {
		tray_view_message(t->held->preview,
		    "No preview: the daemon sent no message");
		return;
	}
	tray_view_show(t->held->preview, msg);
}

static void
held_selected(GtkListBox *lb, GtkListBoxRow *row, gpointer p)
{
	struct tray *t = p;
	const char *id;
	json_object *req;

	(void)lb;
	if (row == NULL || (id = g_object_get_data(G_OBJECT(row), "id")) == NULL)
		return;
	if (t->held->shown != NULL && strcmp(t->held->shown, id) == 0)
		return;
	g_free(t->held->shown);
	t->held->shown = g_strdup(id);
	tray_view_message(t->held->preview, "Decrypting…");
	req = tray_req("show");
	json_object_object_add(req, "id", json_object_new_string(id));
	tray_ctl_request(t->ctl, req, NULL, 0, held_shown, t);
	json_object_put(req);
}

static void
held_got(json_object *resp, const char *error, void *arg)
{
	struct tray *t = arg;
	struct tray_held *v = t->held;
	json_object *a = tray_jarray(resp, "held");
	size_t i, n = a != NULL ? json_object_array_length(a) : 0;
	gboolean still = FALSE;
	int waiting = 0;

	if (error != NULL) {
		char *s = g_strdup_printf("No held mail list: %s", error);

		tray_held_clear(t, s);
		g_free(s);
		return;
	}
	gtk_label_set_text(GTK_LABEL(v->placeholder),
	    "No mail is held. Mail that needs your decision shows here.");
	tray_clear(GTK_CONTAINER(v->list));
	for (i = 0; i < n; i++) {
		json_object *m = json_object_array_get_idx(a, i);
		const char *st = tray_jstr(m, "state"), *id = tray_jstr(m, "id");
		GtkWidget *row = held_row(t, m);

		if (st == NULL || strcmp(st, "held") == 0)
			waiting++;
		gtk_container_add(GTK_CONTAINER(v->list), row);
		/* Keep the previewed mail selected across refreshes. */
		if (id != NULL && v->shown != NULL && strcmp(id, v->shown) == 0) {
			gtk_list_box_select_row(GTK_LIST_BOX(v->list),
			    GTK_LIST_BOX_ROW(row));
			still = TRUE;
		}
	}
	if (!still) {
		g_free(v->shown);
		v->shown = NULL;
		tray_view_message(v->preview,
		    "Select a held mail to see its text here (shown as text, "
		    "never rendered).");
	}
	t->n_held = waiting;
	tray_update_state(t);
}

void
tray_held_refresh(struct tray *t)
{
	tray_ctl_simple(t->ctl, "held", held_got, t);
}

void
tray_held_clear(struct tray *t, const char *why)
{
	struct tray_held *v = t->held;

	tray_clear(GTK_CONTAINER(v->list));
	gtk_label_set_text(GTK_LABEL(v->placeholder), why);
	g_free(v->shown);
	v->shown = NULL;
	tray_view_message(v->preview, "");
	t->n_held = 0;
}

GtkWidget *
tray_held_new(struct tray *t)
{
	struct tray_held *v = g_new0(struct tray_held, 1);
	GtkWidget *paned, *sw, *frame;

	v->t = t;
	t->held = v;
	paned = gtk_paned_new(GTK_ORIENTATION_VERTICAL);
	v->list = gtk_list_box_new();
	gtk_list_box_set_selection_mode(GTK_LIST_BOX(v->list),
	    GTK_SELECTION_SINGLE);
	v->placeholder = tray_placeholder("No mail is held.");
	gtk_list_box_set_placeholder(GTK_LIST_BOX(v->list), v->placeholder);
	tray_a11y(v->list, "Held mail", "mail waiting for Receive or Discard");
	g_signal_connect(v->list, "row-selected", G_CALLBACK(held_selected), t);
	sw = gtk_scrolled_window_new(NULL, NULL);
	gtk_widget_set_size_request(sw, -1, 220);
	gtk_container_add(GTK_CONTAINER(sw), v->list);
	gtk_paned_pack1(GTK_PANED(paned), sw, TRUE, FALSE);
	v->preview = tray_view_new("Held mail preview");
	gtk_container_set_border_width(GTK_CONTAINER(v->preview), 6);
	frame = gtk_frame_new("Preview (decrypted, shown as text)");
	gtk_container_add(GTK_CONTAINER(frame), v->preview);
	gtk_paned_pack2(GTK_PANED(paned), frame, TRUE, FALSE);
	return paned;
}
