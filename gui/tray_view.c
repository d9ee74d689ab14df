/*
 * tray_view.c - shows a message VIEW (docs/CONTROL.md) from `show` or
 * `decrypt`: headers, the sender's verification, encrypted/HTML flags,
 * the attachment list and the text.  The text goes into a GtkTextView
 * as plain characters: HTML is never rendered and nothing is fetched.
 */
#include <string.h>

#include "tray.h"

static const char *const view_fields[] = {
	"from", "to", "cc", "date", "subject"
};
static const char *const view_titles[] = {
	"From", "To", "Cc", "Date", "Subject"
};
#define VIEW_NFIELDS G_N_ELEMENTS(view_fields)

static void
view_set(GtkWidget *view, const char *key, const char *title,
    const char *value)
{
	GtkWidget *l = g_object_get_data(G_OBJECT(view), key);
	char *clean = tray_clean(value), *name;

	gtk_label_set_text(GTK_LABEL(l), clean);
	name = g_strdup_printf("%s: %s", title, clean);
	tray_a11y(l, name, NULL);
	g_free(name);
	g_free(clean);
}

GtkWidget *
tray_view_new(const char *name)
{
	GtkWidget *box, *grid, *sw, *tv, *l;
	size_t i;
	int row = 0;

	box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
	grid = gtk_grid_new();
	gtk_grid_set_column_spacing(GTK_GRID(grid), 12);
	gtk_grid_set_row_spacing(GTK_GRID(grid), 2);
	for (i = 0; i < VIEW_NFIELDS + 3; i++, row++) {
		static const char *const extra[] = {
			"Verification", "Content", "Attachments"
		};
		static const char *const extra_key[] = {
			"verification", "content", "attachments"
		};
		const char *title = i < VIEW_NFIELDS ? view_titles[i] :
		    extra[i - VIEW_NFIELDS];
		const char *key = i < VIEW_NFIELDS ? view_fields[i] :
		    extra_key[i - VIEW_NFIELDS];
		GtkWidget *v;

		l = tray_label(title, TRUE);
		gtk_widget_set_valign(l, GTK_ALIGN_START);
		v = tray_label("", FALSE);
		gtk_label_set_selectable(GTK_LABEL(v), TRUE);
		gtk_widget_set_hexpand(v, TRUE);
		gtk_grid_attach(GTK_GRID(grid), l, 0, row, 1, 1);
		gtk_grid_attach(GTK_GRID(grid), v, 1, row, 1, 1);
		g_object_set_data(G_OBJECT(box), key, v);
	}
	gtk_box_pack_start(GTK_BOX(box), grid, FALSE, FALSE, 0);

	tv = gtk_text_view_new();
	gtk_text_view_set_editable(GTK_TEXT_VIEW(tv), FALSE);
	gtk_text_view_set_cursor_visible(GTK_TEXT_VIEW(tv), FALSE);
	gtk_text_view_set_wrap_mode(GTK_TEXT_VIEW(tv), GTK_WRAP_WORD_CHAR);
	gtk_text_view_set_monospace(GTK_TEXT_VIEW(tv), TRUE);
	tray_a11y(tv, name, "the message text, shown as plain text");
	sw = gtk_scrolled_window_new(NULL, NULL);
	gtk_widget_set_vexpand(sw, TRUE);
	gtk_container_add(GTK_CONTAINER(sw), tv);
	gtk_box_pack_start(GTK_BOX(box), sw, TRUE, TRUE, 0);
	g_object_set_data(G_OBJECT(box), "text", tv);
	gtk_widget_show_all(box);
	return box;
}

static char *
view_attachments(json_object *msg)
{
	json_object *a = tray_jarray(msg, "attachments");
	GString *s = g_string_new(NULL);
	size_t i, n = a != NULL ? json_object_array_length(a) : 0;

	for (i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(a, i);
		const char *nm = tray_jstr(e, "name");
		char *name = tray_clean(nm != NULL && *nm != '\0' ? nm : "(no name)");
		char *type = tray_clean(tray_jstr(e, "type"));
		char *size = tray_size(tray_jint(e, "size", -1));

		g_string_append_printf(s, "%s%s (%s, %s)", i > 0 ? "\n" : "",
		    name, type, size);
		g_free(name);
		g_free(type);
		g_free(size);
	}
	if (n == 0)
		g_string_append(s, "none");
	return g_string_free(s, FALSE);
}

/*
 * The text keeps its line breaks (CRLF becomes LF) and tabs; other
 * control characters, which could fake layout, are shown as '?'.
 */
static char *
view_text(const char *text)
{
	char *v = g_utf8_make_valid(text != NULL ? text : "", -1);
	GString *s = g_string_sized_new(strlen(v));
	const char *p;

	for (p = v; *p != '\0'; p++) {
		if (*p == '\r' && p[1] == '\n')
			continue;
		if (((unsigned char)*p < 0x20 && *p != '\n' && *p != '\t') ||
		    *p == 0x7f)
			g_string_append_c(s, '?');
		else
			g_string_append_c(s, *p);
	}
	g_free(v);
	return g_string_free(s, FALSE);
}

void
tray_view_show(GtkWidget *view, json_object *msg)
{
	GtkTextView *tv = g_object_get_data(G_OBJECT(view), "text");
	const char *ver = tray_jstr(msg, "verification");
	const char *signer = tray_jstr(msg, "signer");
	const char *text = tray_jstr(msg, "text");
	char *s, *clean;
	size_t i;

	for (i = 0; i < VIEW_NFIELDS; i++)
		view_set(view, view_fields[i], view_titles[i],
		    tray_jstr(msg, view_fields[i]));
	s = g_strdup_printf("%s%s%s", ver != NULL ? ver : "unknown",
	    signer != NULL && *signer != '\0' ? ", signed by " : "",
	    signer != NULL && *signer != '\0' ? signer : "");
	view_set(view, "verification", "Verification", s);
	g_free(s);
	s = g_strdup_printf("%s, %s%s",
	    tray_jbool(msg, "encrypted", FALSE) ? "encrypted" : "not encrypted",
	    tray_jbool(msg, "html", FALSE) ? "HTML (shown as text)" : "plain text",
	    tray_jbool(msg, "text_truncated", FALSE) ?
	    ", text cut at 1 MiB" : "");
	view_set(view, "content", "Content", s);
	g_free(s);
	s = view_attachments(msg);
	view_set(view, "attachments", "Attachments", s);
	g_free(s);
	clean = view_text(text);
	gtk_text_buffer_set_text(gtk_text_view_get_buffer(tv), clean, -1);
	g_free(clean);
}

void
tray_view_message(GtkWidget *view, const char *text)
{
	GtkTextView *tv = g_object_get_data(G_OBJECT(view), "text");
	size_t i;

	for (i = 0; i < VIEW_NFIELDS; i++)
		view_set(view, view_fields[i], view_titles[i], "");
	view_set(view, "verification", "Verification", "");
	view_set(view, "content", "Content", "");
	view_set(view, "attachments", "Attachments", "");
	gtk_text_buffer_set_text(gtk_text_view_get_buffer(tv), text, -1);
}
