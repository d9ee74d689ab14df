/*
 * tray_main.c - tcp2-tray, the TCP2 Mail GTK app: the main window "TCP2
 * Mail" with its pages (held mail, peers, accounts, viewer), the banner
 * shown while tcp2d is unreachable, the overall state (window, tray icon),
 * desktop notifications, and the dispatch of the daemon's events to the
 * pages.  Talks only to tcp2d's control socket (docs/CONTROL.md).
 *
 *   tcp2-tray [--control SOCK] [--show]
 */
#include <stdlib.h>
#include <string.h>

#include "tray.h"
#include "tray_icon.h"

#define TRAY_DEFAULT_CONTROL "/run/tcp2/control"

static const char tray_css[] =
    ".tcp2-warning { color: #a40000; font-weight: bold; }\n"
    ".tcp2-warning-row { background-color: #fdebd0; }\n"
    ".tcp2-state { font-weight: bold; }\n"
    "infobar.error revealer > box { background-color: #c01c28; }\n"
    "infobar.error label { color: #ffffff; font-weight: bold; }\n";

static char *opt_control;
static gboolean opt_show;

void
tray_update_state(struct tray *t)
{
	const char *icon;
	char *text;

	if (!t->up) {
		icon = TRAY_ICON_BAD;
		text = g_strdup("The TCP2 daemon is unreachable: mail is not "
		    "protected until it is back");
	} else if (t->n_changed > 0) {
		icon = TRAY_ICON_BAD;
		text = g_strdup_printf("%d peer key%s changed: decide in Peers",
		    t->n_changed, t->n_changed == 1 ? "" : "s");
	} else if (t->n_held > 0) {
		icon = TRAY_ICON_HELD;
		text = g_strdup_printf("%d mail%s held for your decision",
		    t->n_held, t->n_held == 1 ? "" : "s");
	} else {
		icon = TRAY_ICON_GOOD;
		text = g_strdup("All good: no mail held, no key changed");
	}
	gtk_label_set_text(GTK_LABEL(t->state_label), text);
	tray_a11y(t->state_label, text, "overall state");
	gtk_window_set_icon_name(GTK_WINDOW(t->win), icon);
	tray_icon_set(t, icon, text);
	g_free(text);
}

void
tray_notify(struct tray *t, const char *id, const char *title,
    const char *body)
{
	GNotification *n = g_notification_new(title);
	char *b = tray_clean(body);

	g_notification_set_body(n, b);
	g_application_send_notification(G_APPLICATION(t->app), id, n);
	g_object_unref(n);
	g_free(b);
}

void
tray_error(struct tray *t, const char *what, const char *error)
{
	GtkWidget *d;
	char *e = tray_clean(error);

	d = gtk_message_dialog_new(GTK_WINDOW(t->win), GTK_DIALOG_MODAL,
	    GTK_MESSAGE_ERROR, GTK_BUTTONS_CLOSE, "%s", what);
	gtk_message_dialog_format_secondary_text(GTK_MESSAGE_DIALOG(d), "%s", e);
	gtk_window_set_title(GTK_WINDOW(d), "TCP2 Mail: error");
	g_signal_connect(d, "response", G_CALLBACK(gtk_widget_destroy), NULL);
	gtk_widget_show(d);
	g_free(e);
}

struct confirm {
	struct tray *t;
	json_object *req;
	tray_ctl_reply_fn fn;
	void	*arg;
};

static void
confirm_response(GtkDialog *d, gint r, gpointer p)
{
	struct confirm *c = p;

	if (r == GTK_RESPONSE_YES)
		tray_ctl_request(c->t->ctl, c->req, NULL, 0, c->fn, c->arg);
	json_object_put(c->req);
	g_free(c);
	gtk_widget_destroy(GTK_WIDGET(d));
}

void
tray_confirm_request(struct tray *t, const char *text, const char *detail,
    const char *yes, json_object *req, tray_ctl_reply_fn fn, void *arg)
{
	struct confirm *c = g_new0(struct confirm, 1);
	GtkWidget *d;

	d = gtk_message_dialog_new(GTK_WINDOW(t->win), GTK_DIALOG_MODAL,
	    GTK_MESSAGE_QUESTION, GTK_BUTTONS_NONE, "%s", text);
	if (detail != NULL)
		gtk_message_dialog_format_secondary_text(GTK_MESSAGE_DIALOG(d),
		    "%s", detail);
	gtk_dialog_add_buttons(GTK_DIALOG(d), "Cancel", GTK_RESPONSE_CANCEL,
	    yes, GTK_RESPONSE_YES, NULL);
	gtk_dialog_set_default_response(GTK_DIALOG(d), GTK_RESPONSE_CANCEL);
	gtk_window_set_title(GTK_WINDOW(d), "TCP2 Mail: confirm");
	c->t = t;
	c->req = req;
	c->fn = fn;
	c->arg = arg;
	g_signal_connect(d, "response", G_CALLBACK(confirm_response), c);
	gtk_widget_show(d);
}

static void
tray_refresh_all(struct tray *t)
{
	tray_held_refresh(t);
	tray_peers_refresh(t);
	tray_accounts_refresh(t);
}

static void
tray_on_state(gboolean up, const char *why, void *arg)
{
	struct tray *t = arg;
	char *s;

	t->up = up;
	if (up) {
		gtk_widget_hide(t->banner);
		gtk_label_set_text(GTK_LABEL(t->status_label),
		    "Connected to tcp2d");
		tray_refresh_all(t);
	} else {
		s = g_strdup_printf("tcp2d is unreachable (%s). Mail is not "
		    "protected while it is away; reconnecting automatically…",
		    why != NULL ? why : "no reason");
		gtk_label_set_text(GTK_LABEL(t->banner_label), s);
		g_free(s);
		gtk_widget_show(t->banner);
		gtk_label_set_text(GTK_LABEL(t->status_label),
		    "Not connected to tcp2d");
		tray_held_clear(t, "The daemon is unreachable.");
		tray_peers_clear(t, "The daemon is unreachable.");
		tray_accounts_clear(t, "The daemon is unreachable.");
		if (t->down_why == NULL)
			tray_notify(t, "daemon", "TCP2 Mail: daemon unreachable",
			    "Mail is not protected until tcp2d is back.");
	}
	g_free(t->down_why);
	t->down_why = up ? NULL : g_strdup(why != NULL ? why : "");
	tray_update_state(t);
}

/* Events: refresh what they touch (no polling), notify what needs a look. */
static void
tray_on_event(json_object *ev, void *arg)
{
	struct tray *t = arg;
	const char *type = tray_jstr(ev, "event");
	const char *text = tray_jstr(ev, "text");
	char *line, *clean;

	if (type == NULL)
		return;
	clean = tray_clean(text != NULL ? text : type);
	line = g_strdup_printf("Last event: %s", clean);
	gtk_label_set_text(GTK_LABEL(t->status_label), line);
	g_free(line);
	if (strcmp(type, "held") == 0) {
		tray_notify(t, "held", "TCP2 Mail: mail held for your decision",
		    clean);
		tray_held_refresh(t);
	} else if (strcmp(type, "released") == 0 ||
	    strcmp(type, "discarded") == 0) {
		tray_held_refresh(t);
	} else if (strcmp(type, "expiring") == 0) {
		tray_notify(t, "expiring", "TCP2 Mail: held mail expires soon",
		    clean);
		tray_held_refresh(t);
	} else if (strcmp(type, "peer") == 0 || strcmp(type, "keyx") == 0) {
		tray_peers_refresh(t);
	} else if (strcmp(type, "registration") == 0) {
		tray_accounts_registration(t, ev);
	} else if (strcmp(type, "received") == 0) {
		/* a received mail may have been held or changed a peer */
		tray_held_refresh(t);
		tray_peers_refresh(t);
	} else if (strcmp(type, "dropped") == 0) {
		tray_refresh_all(t);
	}
	g_free(clean);
}

static GtkWidget *
tray_banner(struct tray *t)
{
	GtkWidget *bar, *area;

	bar = gtk_info_bar_new();
	gtk_info_bar_set_message_type(GTK_INFO_BAR(bar), GTK_MESSAGE_ERROR);
	t->banner_label = tray_label("tcp2d is unreachable", FALSE);
	area = gtk_info_bar_get_content_area(GTK_INFO_BAR(bar));
	gtk_container_add(GTK_CONTAINER(area), t->banner_label);
	tray_a11y(bar, "Daemon unreachable", "tcp2d does not answer on its "
	    "control socket; the app reconnects by itself");
	gtk_widget_show_all(bar);
	gtk_widget_set_no_show_all(bar, TRUE);
	return bar;
}

static gboolean
tray_delete(GtkWidget *w, GdkEvent *e, gpointer p)
{
	struct tray *t = p;

	(void)e;
	/* With a tray icon, closing the window only hides it. */
	if (t->has_tray) {
		gtk_widget_hide(w);
		return TRUE;
	}
	return FALSE;
}

static void
tray_activate(GApplication *app, gpointer p)
{
	struct tray *t = p;
	GtkWidget *box, *top, *sw, *l;
	GtkCssProvider *css;

	if (t->win != NULL) {
		gtk_window_present(GTK_WINDOW(t->win));
		return;
	}
	css = gtk_css_provider_new();
	gtk_css_provider_load_from_data(css, tray_css, -1, NULL);
	gtk_style_context_add_provider_for_screen(gdk_screen_get_default(),
	    GTK_STYLE_PROVIDER(css), GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
	g_object_unref(css);

	t->win = gtk_application_window_new(GTK_APPLICATION(app));
	gtk_window_set_title(GTK_WINDOW(t->win), "TCP2 Mail");
	gtk_window_set_default_size(GTK_WINDOW(t->win), 960, 680);
	g_signal_connect(t->win, "delete-event", G_CALLBACK(tray_delete), t);
	box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
	gtk_container_add(GTK_CONTAINER(t->win), box);
	t->banner = tray_banner(t);
	gtk_box_pack_start(GTK_BOX(box), t->banner, FALSE, FALSE, 0);

	top = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
	gtk_container_set_border_width(GTK_CONTAINER(top), 6);
	t->state_label = tray_label("", FALSE);
	gtk_style_context_add_class(gtk_widget_get_style_context(t->state_label),
	    "tcp2-state");
	t->stack = gtk_stack_new();
	sw = gtk_stack_switcher_new();
	gtk_stack_switcher_set_stack(GTK_STACK_SWITCHER(sw), GTK_STACK(t->stack));
	gtk_box_pack_start(GTK_BOX(top), sw, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(top), t->state_label, TRUE, TRUE, 0);
	gtk_box_pack_start(GTK_BOX(box), top, FALSE, FALSE, 0);

	gtk_stack_add_titled(GTK_STACK(t->stack), tray_held_new(t), "held",
	    "Held mail");
	gtk_stack_add_titled(GTK_STACK(t->stack), tray_peers_new(t), "peers",
	    "Peers");
	gtk_stack_add_titled(GTK_STACK(t->stack), tray_accounts_new(t),
	    "accounts", "Accounts");
	gtk_stack_add_titled(GTK_STACK(t->stack), tray_viewer_new(t), "viewer",
	    "Viewer");
	gtk_box_pack_start(GTK_BOX(box), t->stack, TRUE, TRUE, 0);

	l = gtk_separator_new(GTK_ORIENTATION_HORIZONTAL);
	gtk_box_pack_start(GTK_BOX(box), l, FALSE, FALSE, 0);
	t->status_label = tray_label("Connecting to tcp2d…", FALSE);
	gtk_label_set_line_wrap(GTK_LABEL(t->status_label), FALSE);
	gtk_label_set_ellipsize(GTK_LABEL(t->status_label), PANGO_ELLIPSIZE_END);
	gtk_widget_set_margin_start(t->status_label, 6);
	gtk_widget_set_margin_bottom(t->status_label, 4);
	gtk_box_pack_start(GTK_BOX(box), t->status_label, FALSE, FALSE, 0);
	gtk_widget_show_all(box);
	gtk_widget_hide(t->banner);

	t->has_tray = tray_icon_init(t);
	tray_update_state(t);
	if (!t->has_tray || opt_show)
		gtk_window_present(GTK_WINDOW(t->win));
	else
		g_application_hold(app);	/* no window, keep running */
	t->ctl = tray_ctl_new(opt_control, tray_on_event, tray_on_state, t);
}

int
main(int argc, char **argv)
{
	GOptionEntry opts[] = {
		{ "control", 'c', 0, G_OPTION_ARG_FILENAME, &opt_control,
		  "tcp2d's control socket (default " TRAY_DEFAULT_CONTROL ")",
		  "SOCK" },
		{ "show", 0, 0, G_OPTION_ARG_NONE, &opt_show,
		  "open the window even when there is a tray", NULL },
		{ NULL, 0, 0, 0, NULL, NULL, NULL }
	};
	GOptionContext *ctx;
	GError *e = NULL;
	struct tray t = { 0 };
	char *args[2] = { argv[0], NULL };
	int rc;

	ctx = g_option_context_new("- the TCP2 Mail tray app");
	g_option_context_add_main_entries(ctx, opts, NULL);
	g_option_context_add_group(ctx, gtk_get_option_group(FALSE));
	if (!g_option_context_parse(ctx, &argc, &argv, &e)) {
		g_printerr("tcp2-tray: %s\n", e->message);
		g_error_free(e);
		g_option_context_free(ctx);
		return 2;
	}
	g_option_context_free(ctx);
	if (argc > 1) {
		g_printerr("tcp2-tray: unexpected argument %s\n", argv[1]);
		return 2;
	}
	if (opt_control == NULL)
		opt_control = g_strdup(TRAY_DEFAULT_CONTROL);
	t.app = gtk_application_new("org.tcp2.Tray", G_APPLICATION_NON_UNIQUE);
	g_signal_connect(t.app, "activate", G_CALLBACK(tray_activate), &t);
	rc = g_application_run(G_APPLICATION(t.app), 1, args);
	tray_ctl_free(t.ctl);
	g_object_unref(t.app);
	g_free(t.down_why);
	g_free(opt_control);
	return rc;
}
