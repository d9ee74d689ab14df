/*
 * tray_icon.c - the tray icon of tcp2-tray through Ayatana AppIndicator,
 * used only when a tray (a StatusNotifierWatcher on the session bus) is
 * there: otherwise the app shows its window instead.  The icon and its
 * title say the overall state; the menu opens the window or quits.
 */
#include <libayatana-appindicator/app-indicator.h>

#include "tray.h"
#include "tray_icon.h"

/* Is there a tray to put an icon in?  One short call at start-up. */
static gboolean
icon_tray_exists(void)
{
	GDBusConnection *bus;
	GVariant *r;
	gboolean has = FALSE;

	if ((bus = g_bus_get_sync(G_BUS_TYPE_SESSION, NULL, NULL)) == NULL)
		return FALSE;
	r = g_dbus_connection_call_sync(bus, "org.freedesktop.DBus",
	    "/org/freedesktop/DBus", "org.freedesktop.DBus", "NameHasOwner",
	    g_variant_new("(s)", "org.kde.StatusNotifierWatcher"),
	    G_VARIANT_TYPE("(b)"), G_DBUS_CALL_FLAGS_NONE, 2000, NULL, NULL);
	if (r != NULL) {
		g_variant_get(r, "(b)", &has);
		g_variant_unref(r);
	}
	g_object_unref(bus);
	return has;
}

static void
icon_open(GtkMenuItem *mi, gpointer p)
{
	struct tray *t = p;

	(void)mi;
	gtk_window_present(GTK_WINDOW(t->win));
}

static void
icon_quit(GtkMenuItem *mi, gpointer p)
{
	struct tray *t = p;

	(void)mi;
	g_application_quit(G_APPLICATION(t->app));
}

gboolean
tray_icon_init(struct tray *t)
{
	AppIndicator *ind;
	GtkWidget *menu, *mi;

	if (!icon_tray_exists())
		return FALSE;
	ind = app_indicator_new("tcp2-tray", TRAY_ICON_GOOD,
	    APP_INDICATOR_CATEGORY_COMMUNICATIONS);
	app_indicator_set_title(ind, "TCP2 Mail");
	menu = gtk_menu_new();
	mi = gtk_menu_item_new_with_label("Open TCP2 Mail");
	g_signal_connect(mi, "activate", G_CALLBACK(icon_open), t);
	gtk_menu_shell_append(GTK_MENU_SHELL(menu), mi);
	mi = gtk_menu_item_new_with_label("Quit");
	g_signal_connect(mi, "activate", G_CALLBACK(icon_quit), t);
	gtk_menu_shell_append(GTK_MENU_SHELL(menu), mi);
	gtk_widget_show_all(menu);
	app_indicator_set_menu(ind, GTK_MENU(menu));
	app_indicator_set_status(ind, APP_INDICATOR_STATUS_ACTIVE);
	t->indicator = ind;
	return TRUE;
}

void
tray_icon_set(struct tray *t, const char *icon, const char *text)
{
	if (t->indicator == NULL)
		return;
	app_indicator_set_icon_full(t->indicator, icon, text);
	app_indicator_set_title(t->indicator, text);
}
