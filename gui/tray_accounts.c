/*
 * tray_accounts.c - the Accounts page: the daemon's accounts and the
 * seed's registration (figures 8-10): `register` arms it and says which
 * mail to send; the `registration` event reports how it went.
 */
#include <string.h>

#include "tray.h"

struct tray_accounts {
	struct tray *t;
	GtkWidget *list, *placeholder, *hint, *reg, *cancel;
};

static GtkWidget *
account_row(json_object *a)
{
	GtkWidget *row, *vb;
	char *addr = tray_clean(tray_jstr(a, "addr"));
	char *pop3 = tray_clean(tray_jstr(a, "pop3"));
	char *smtp = tray_clean(tray_jstr(a, "smtp"));
	char *user = tray_clean(tray_jstr(a, "user"));
	char *pol = tray_clean(tray_jstr(a, "policy"));
	char *fp = tray_clean(tray_jstr(a, "fingerprint"));
	char *s;

	row = gtk_list_box_row_new();
	vb = gtk_box_new(GTK_ORIENTATION_VERTICAL, 2);
	gtk_container_set_border_width(GTK_CONTAINER(vb), 8);
	gtk_box_pack_start(GTK_BOX(vb), tray_label(addr, TRUE), FALSE, FALSE, 0);
	s = g_strdup_printf("POP3 %s (login %s)    SMTP %s    Policy: %s",
	    pop3, user, smtp, pol);
	gtk_box_pack_start(GTK_BOX(vb), tray_label(s, FALSE), FALSE, FALSE, 0);
	g_free(s);
	s = g_strdup_printf("Your fingerprint: %s", fp);
	gtk_box_pack_start(GTK_BOX(vb), tray_label(s, FALSE), FALSE, FALSE, 0);
	g_free(s);
	gtk_container_add(GTK_CONTAINER(row), vb);
	s = g_strdup_printf("Account %s", addr);
	tray_a11y(row, s, NULL);
	g_free(s);
	g_free(addr);
	g_free(pop3);
	g_free(smtp);
	g_free(user);
	g_free(pol);
	g_free(fp);
	gtk_widget_show_all(row);
	return row;
}

static void
accounts_got(json_object *resp, const char *error, void *arg)
{
	struct tray *t = arg;
	json_object *a = tray_jarray(resp, "accounts");
	size_t i, n = a != NULL ? json_object_array_length(a) : 0;

	tray_clear(GTK_CONTAINER(t->accounts->list));
	if (error != NULL) {
		char *s = g_strdup_printf("No account list: %s", error);

		gtk_label_set_text(GTK_LABEL(t->accounts->placeholder), s);
		g_free(s);
		return;
	}
	gtk_label_set_text(GTK_LABEL(t->accounts->placeholder),
	    "No accounts yet: register one.");
	for (i = 0; i < n; i++)
		gtk_container_add(GTK_CONTAINER(t->accounts->list),
		    account_row(json_object_array_get_idx(a, i)));
}

static void
status_got(json_object *resp, const char *error, void *arg)
{
	struct tray *t = arg;
	gboolean armed = tray_jbool(resp, "registration_armed", FALSE);

	if (error != NULL)
		return;
	gtk_widget_set_sensitive(t->accounts->cancel, armed);
}

void
tray_accounts_refresh(struct tray *t)
{
	tray_ctl_simple(t->ctl, "account-list", accounts_got, t);
	tray_ctl_simple(t->ctl, "status", status_got, t);
}

void
tray_accounts_clear(struct tray *t, const char *why)
{
	tray_clear(GTK_CONTAINER(t->accounts->list));
	gtk_label_set_text(GTK_LABEL(t->accounts->placeholder), why != NULL ?
	    why : "No account list");
}

static void
hint_set(struct tray *t, const char *text)
{
	char *s = tray_clean(text);

	gtk_label_set_text(GTK_LABEL(t->accounts->hint), s);
	tray_a11y(t->accounts->hint, s, NULL);
	g_free(s);
}

static void
register_done(json_object *resp, const char *error, void *arg)
{
	struct tray *t = arg;

	if (error != NULL) {
		tray_error(t, "Registration could not start", error);
		return;
	}
	hint_set(t, tray_jstr(resp, "hint") != NULL ? tray_jstr(resp, "hint") :
	    "Registration is armed.");
	tray_accounts_refresh(t);
}

static void
register_clicked(GtkButton *b, gpointer p)
{
	struct tray *t = p;
	json_object *req = tray_req("register");

	if (GTK_WIDGET(b) == t->accounts->cancel)
		json_object_object_add(req, "cancel", json_object_new_boolean(1));
	tray_ctl_request(t->ctl, req, NULL, 0, register_done, t);
	json_object_put(req);
}

void
tray_accounts_registration(struct tray *t, json_object *ev)
{
	const char *res = tray_jstr(ev, "result");
	const char *acct = tray_jstr(ev, "account");
	const char *text = tray_jstr(ev, "text");
	char *s;

	if (res != NULL && strcmp(res, "ok") == 0 && acct != NULL) {
		s = g_strdup_printf("Registration complete: %s", acct);
		tray_notify(t, "registration", "TCP2 Mail", s);
	} else if (res != NULL && strcmp(res, "failed") == 0)
		s = g_strdup_printf("Registration failed: %s",
		    tray_jstr(ev, "error") != NULL ? tray_jstr(ev, "error") :
		    text != NULL ? text : "no reason given");
	else
		s = g_strdup_printf("Registration: %s",
		    text != NULL ? text : "in progress");
	hint_set(t, s);
	g_free(s);
	tray_accounts_refresh(t);
}

GtkWidget *
tray_accounts_new(struct tray *t)
{
	struct tray_accounts *v = g_new0(struct tray_accounts, 1);
	GtkWidget *box, *bar, *sw;

	v->t = t;
	t->accounts = v;
	box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
	gtk_container_set_border_width(GTK_CONTAINER(box), 6);
	bar = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
	v->reg = gtk_button_new_with_label("Register an account");
	gtk_widget_set_tooltip_text(v->reg, "Arm the registration: then check "
	    "your mail and send the registration mail from your mail client");
	g_signal_connect(v->reg, "clicked", G_CALLBACK(register_clicked), t);
	gtk_box_pack_start(GTK_BOX(bar), v->reg, FALSE, FALSE, 0);
	v->cancel = gtk_button_new_with_label("Cancel registration");
	gtk_widget_set_sensitive(v->cancel, FALSE);
	g_signal_connect(v->cancel, "clicked", G_CALLBACK(register_clicked), t);
	gtk_box_pack_start(GTK_BOX(bar), v->cancel, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box), bar, FALSE, FALSE, 0);
	v->hint = tray_label("", FALSE);
	gtk_label_set_selectable(GTK_LABEL(v->hint), TRUE);
	gtk_box_pack_start(GTK_BOX(box), v->hint, FALSE, FALSE, 0);

	v->list = gtk_list_box_new();
	gtk_list_box_set_selection_mode(GTK_LIST_BOX(v->list),
	    GTK_SELECTION_NONE);
	v->placeholder = tray_placeholder("No accounts yet: register one.");
	gtk_list_box_set_placeholder(GTK_LIST_BOX(v->list), v->placeholder);
	tray_a11y(v->list, "Accounts", NULL);
	sw = gtk_scrolled_window_new(NULL, NULL);
	gtk_widget_set_vexpand(sw, TRUE);
	gtk_container_add(GTK_CONTAINER(sw), v->list);
	gtk_box_pack_start(GTK_BOX(box), sw, TRUE, TRUE, 0);
	return box;
}
