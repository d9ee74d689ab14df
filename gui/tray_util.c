/*
 * tray_util.c - small helpers of tcp2-tray: typed access to the daemon's
 * JSON fields (which may be missing: CONTROL.md marks many informative),
 * safe display of text that came from mail, and widget chores.
 */
#include <string.h>

#include "tray.h"

const char *
tray_jstr(json_object *o, const char *key)
{
	json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

gboolean
tray_jbool(json_object *o, const char *key, gboolean dflt)
{
	json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_boolean))
		return dflt;
	return json_object_get_boolean(v);
}

gint64
tray_jint(json_object *o, const char *key, gint64 dflt)
{
	json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_int))
		return dflt;
	return json_object_get_int64(v);
}

json_object *
tray_jarray(json_object *o, const char *key)
{
	json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_array))
		return NULL;
	return v;
}

json_object *
tray_req(const char *cmd)
{
	json_object *r = json_object_new_object();

	json_object_object_add(r, "cmd", json_object_new_string(cmd));
	return r;
}

/*
 * Subjects, names and addresses come from mail written by strangers: keep
 * them valid UTF-8, one line, and without control characters that could
 * fake layout (CONTROL.md §6 does the same in tcp2ctl).
 */
char *
tray_clean(const char *s)
{
	char *v, *p;

	if (s == NULL)
		return g_strdup("-");
	v = g_utf8_make_valid(s, -1);
	for (p = v; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return v;
}

char *
tray_date(gint64 t)
{
	GDateTime *d;
	char *s;

	if (t <= 0 || (d = g_date_time_new_from_unix_local(t)) == NULL)
		return g_strdup("-");
	s = g_date_time_format(d, "%Y-%m-%d %H:%M");
	g_date_time_unref(d);
	return s;
}

char *
tray_size(gint64 n)
{
	if (n < 0)
		return g_strdup("?");
	return g_format_size_full((guint64)n, G_FORMAT_SIZE_IEC_UNITS);
}

/* Screen readers and the AT-SPI tests find widgets by these names. */
void
tray_a11y(GtkWidget *w, const char *name, const char *desc)
{
	AtkObject *a = gtk_widget_get_accessible(w);

	if (a == NULL)
		return;
	if (name != NULL)
		atk_object_set_name(a, name);
	if (desc != NULL)
		atk_object_set_description(a, desc);
}

GtkWidget *
tray_label(const char *text, gboolean bold)
{
	GtkWidget *l = gtk_label_new(NULL);

	if (bold) {
		char *m = g_markup_printf_escaped("<b>%s</b>", text);

		gtk_label_set_markup(GTK_LABEL(l), m);
		g_free(m);
	} else
		gtk_label_set_text(GTK_LABEL(l), text);
	gtk_label_set_xalign(GTK_LABEL(l), 0);
	gtk_label_set_selectable(GTK_LABEL(l), FALSE);
	gtk_label_set_line_wrap(GTK_LABEL(l), TRUE);
	return l;
}

void
tray_clear(GtkContainer *box)
{
	GList *l, *kids = gtk_container_get_children(box);

	for (l = kids; l != NULL; l = l->next)
		gtk_widget_destroy(GTK_WIDGET(l->data));
	g_list_free(kids);
}

GtkWidget *
tray_placeholder(const char *text)
{
	GtkWidget *l = gtk_label_new(text);

	gtk_widget_set_margin_top(l, 24);
	gtk_widget_set_margin_bottom(l, 24);
	gtk_style_context_add_class(gtk_widget_get_style_context(l),
	    "dim-label");
	gtk_widget_show(l);
	return l;
}
