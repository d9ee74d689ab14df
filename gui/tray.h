/*
 * tray.h - what the parts of tcp2-tray share: the application state, the
 * views' entry points and small helpers for JSON fields and widgets.
 * Every view talks to the daemon only through tray_ctl (docs/CONTROL.md).
 */
#ifndef TRAY_H
#define TRAY_H

#include <gtk/gtk.h>
#include <json-c/json.h>

#include "tray_ctl.h"

struct tray_peers;
struct tray_held;
struct tray_accounts;
struct tray_viewer;

struct tray {
	GtkApplication	*app;
	GtkWidget	*win;
	GtkWidget	*banner, *banner_label;
	GtkWidget	*stack;
	GtkWidget	*state_label;	/* overall state, one line */
	GtkWidget	*status_label;	/* the last event's text */
	struct tray_ctl	*ctl;
	void		*indicator;	/* AppIndicator, when a tray exists */
	gboolean	 has_tray;
	gboolean	 up;
	char		*down_why;
	int		 n_held;	/* mails waiting for a decision */
	int		 n_changed;	/* peers whose key changed */
	struct tray_peers *peers;
	struct tray_held *held;
	struct tray_accounts *accounts;
	struct tray_viewer *viewer;
};

/* tray_main.c: recompute the overall state (icon, state line). */
void tray_update_state(struct tray *t);
/* tray_main.c: a desktop notification (id replaces an earlier one). */
void tray_notify(struct tray *t, const char *id, const char *title,
    const char *body);
/* tray_main.c: an error dialog for a failed action. */
void tray_error(struct tray *t, const char *what, const char *error);
/*
 * tray_main.c: ask a yes/no question in a modal dialog without blocking
 * the main loop; on yes send req (consumed either way) with fn(arg).
 */
void tray_confirm_request(struct tray *t, const char *text,
    const char *detail, const char *yes, json_object *req,
    tray_ctl_reply_fn fn, void *arg);

/* Views: each builds its page, refreshes from the daemon, reacts to events. */
GtkWidget *tray_peers_new(struct tray *t);
void tray_peers_refresh(struct tray *t);
void tray_peers_clear(struct tray *t, const char *why);
GtkWidget *tray_held_new(struct tray *t);
void tray_held_refresh(struct tray *t);
void tray_held_clear(struct tray *t, const char *why);
GtkWidget *tray_accounts_new(struct tray *t);
void tray_accounts_refresh(struct tray *t);
void tray_accounts_clear(struct tray *t, const char *why);
void tray_accounts_registration(struct tray *t, json_object *ev);
GtkWidget *tray_viewer_new(struct tray *t);

/* tray_view.c: a message VIEW (CONTROL.md) shown as text, never rendered. */
GtkWidget *tray_view_new(const char *name);
void tray_view_show(GtkWidget *view, json_object *msg);
void tray_view_message(GtkWidget *view, const char *text);

/* tray_util.c: JSON fields (NULL / fallback when missing or mistyped). */
const char *tray_jstr(json_object *o, const char *key);
gboolean tray_jbool(json_object *o, const char *key, gboolean dflt);
gint64 tray_jint(json_object *o, const char *key, gint64 dflt);
json_object *tray_jarray(json_object *o, const char *key);
json_object *tray_req(const char *cmd);
/* Text from strangers, made safe to show: control characters become '?'. */
char *tray_clean(const char *s);
char *tray_date(gint64 t);
char *tray_size(gint64 n);
/* Widgets. */
void tray_a11y(GtkWidget *w, const char *name, const char *desc);
GtkWidget *tray_label(const char *text, gboolean markup_bold);
void tray_clear(GtkContainer *box);
GtkWidget *tray_placeholder(const char *text);

#endif
