/*
 * tray_viewer.c - the Viewer page: the plaintext of an encrypted mail
 * that the mail client stored.  An .eml chosen in a file chooser or
 * dropped on the page goes to the daemon's `decrypt` as a file descriptor
 * (CONTROL.md §4.1) with a memfd for the decrypted copy; the VIEW is
 * shown as text, and the copy can be saved (mode 0600: it is plaintext).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tray.h"

#define VIEWER_MAX_MAIL	(64u << 20)	/* the daemon's decrypt limit */

struct tray_viewer {
	struct tray *t;
	GtkWidget *view, *file_label, *save;
	int	 copy;		/* memfd with the decrypted message, or -1 */
	guint	 seq;		/* the newest request; older replies are stale */
};

struct viewer_req {
	struct tray *t;
	int	 memfd;
	guint	 seq;
	char	*name;
};

static void
viewer_status(struct tray_viewer *v, const char *a, const char *sep,
    const char *b)
{
	char *s = g_strconcat(a, sep, b, NULL), *c = tray_clean(s);

	gtk_label_set_text(GTK_LABEL(v->file_label), c);
	tray_a11y(v->file_label, c, NULL);
	g_free(c);
	g_free(s);
}

static void
viewer_got(json_object *resp, const char *error, void *arg)
{
	struct viewer_req *r = arg;
	struct tray_viewer *v = r->t->viewer;
	json_object *msg;

	if (r->seq != v->seq) {
		close(r->memfd);
	} else if (error != NULL) {
		viewer_status(v, r->name, ": ", error);
		tray_view_message(v->view, "");
		close(r->memfd);
	} else if (!json_object_object_get_ex(resp, "message", &msg) ||
	    !json_object_is_type(msg, json_type_object)) {
		viewer_status(v, r->name, ": ", "the daemon sent no message");
		close(r->memfd);
	} else {
		viewer_status(v, r->name, "", tray_jbool(msg, "encrypted",
		    FALSE) ? " (decrypted)" : " (not a TCP2 message; shown as is)");
		tray_view_show(v->view, msg);
		if (v->copy >= 0)
			close(v->copy);
		v->copy = r->memfd;
		gtk_widget_set_sensitive(v->save, TRUE);
	}
	g_free(r->name);
	g_free(r);
}

/* Decrypt the mail at path; errors are shown on the page. */
static void
viewer_open(struct tray *t, const char *path)
{
	struct tray_viewer *v = t->viewer;
	struct viewer_req *r;
	json_object *req;
	struct stat st;
	char *base = g_path_get_basename(path);
	int fds[2];

	fds[0] = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fds[0] < 0 || fstat(fds[0], &st) < 0) {
		viewer_status(v, base, ": ", g_strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || (guint64)st.st_size > VIEWER_MAX_MAIL) {
		viewer_status(v, base, ": ",
		    "not a regular file of at most 64 MiB");
		goto out;
	}
	if ((fds[1] = memfd_create("tcp2-decrypted", MFD_CLOEXEC)) < 0) {
		viewer_status(v, base, ": ", g_strerror(errno));
		goto out;
	}
	r = g_new0(struct viewer_req, 1);
	r->t = t;
	r->memfd = fds[1];
	r->seq = ++v->seq;
	r->name = g_strdup(base);
	viewer_status(v, base, "", ": decrypting…");
	gtk_widget_set_sensitive(v->save, FALSE);
	req = tray_req("decrypt");
	tray_ctl_request(t->ctl, req, fds, 2, viewer_got, r);
	json_object_put(req);
out:
	if (fds[0] >= 0)
		close(fds[0]);
	g_free(base);
}

static void
open_response(GtkDialog *d, gint r, gpointer p)
{
	struct tray *t = p;

	if (r == GTK_RESPONSE_ACCEPT) {
		char *path = gtk_file_chooser_get_filename(GTK_FILE_CHOOSER(d));

		if (path != NULL)
			viewer_open(t, path);
		g_free(path);
	}
	gtk_widget_destroy(GTK_WIDGET(d));
}

static void
open_clicked(GtkButton *b, gpointer p)
{
	struct tray *t = p;
	GtkWidget *d;
	GtkFileFilter *f;

	(void)b;
	d = gtk_file_chooser_dialog_new("Open a stored mail", GTK_WINDOW(t->win),
	    GTK_FILE_CHOOSER_ACTION_OPEN, "_Cancel", GTK_RESPONSE_CANCEL,
	    "_Open", GTK_RESPONSE_ACCEPT, NULL);
	f = gtk_file_filter_new();
	gtk_file_filter_set_name(f, "Mail (*.eml)");
	gtk_file_filter_add_pattern(f, "*.eml");
	gtk_file_filter_add_pattern(f, "*.EML");
	gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(d), f);
	f = gtk_file_filter_new();
	gtk_file_filter_set_name(f, "All files");
	gtk_file_filter_add_pattern(f, "*");
	gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(d), f);
	gtk_window_set_modal(GTK_WINDOW(d), TRUE);
	g_signal_connect(d, "response", G_CALLBACK(open_response), t);
	gtk_widget_show(d);
}

/* Copy the decrypted message to path, 0600; an errno value or 0. */
static int
viewer_save_to(int from, const char *path)
{
	char buf[65536];
	ssize_t n;
	int to, e = 0;

	if ((to = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
		return errno;
	if (lseek(from, 0, SEEK_SET) < 0)
		e = errno;
	while (e == 0 && (n = read(from, buf, sizeof(buf))) != 0) {
		ssize_t w, off = 0;

		if (n < 0) {
			if (errno != EINTR)
				e = errno;
			continue;
		}
		while (e == 0 && off < n) {
			if ((w = write(to, buf + off, n - off)) < 0) {
				if (errno != EINTR)
					e = errno;
				continue;
			}
			off += w;
		}
	}
	if (close(to) < 0 && e == 0)
		e = errno;
	explicit_bzero(buf, sizeof(buf));	/* it held plaintext */
	return e;
}

static void
save_response(GtkDialog *d, gint r, gpointer p)
{
	struct tray *t = p;

	if (r == GTK_RESPONSE_ACCEPT && t->viewer->copy >= 0) {
		char *path = gtk_file_chooser_get_filename(GTK_FILE_CHOOSER(d));
		int e = path != NULL ? viewer_save_to(t->viewer->copy, path) : 0;

		if (e != 0)
			tray_error(t, "Could not save the decrypted mail",
			    g_strerror(e));
		g_free(path);
	}
	gtk_widget_destroy(GTK_WIDGET(d));
}

static void
save_clicked(GtkButton *b, gpointer p)
{
	struct tray *t = p;
	GtkWidget *d;

	(void)b;
	if (t->viewer->copy < 0)
		return;
	d = gtk_file_chooser_dialog_new("Save the decrypted mail",
	    GTK_WINDOW(t->win), GTK_FILE_CHOOSER_ACTION_SAVE, "_Cancel",
	    GTK_RESPONSE_CANCEL, "_Save", GTK_RESPONSE_ACCEPT, NULL);
	gtk_file_chooser_set_do_overwrite_confirmation(GTK_FILE_CHOOSER(d), TRUE);
	gtk_file_chooser_set_current_name(GTK_FILE_CHOOSER(d), "decrypted.eml");
	gtk_window_set_modal(GTK_WINDOW(d), TRUE);
	g_signal_connect(d, "response", G_CALLBACK(save_response), t);
	gtk_widget_show(d);
}

static void
viewer_drop(GtkWidget *w, GdkDragContext *ctx, gint x, gint y,
    GtkSelectionData *data, guint info, guint time, gpointer p)
{
	struct tray *t = p;
	char **uris = gtk_selection_data_get_uris(data);

	(void)w;
	(void)x;
	(void)y;
	(void)info;
	/* One mail at a time: the first local file of the drop. */
	if (uris != NULL && uris[0] != NULL) {
		char *path = g_filename_from_uri(uris[0], NULL, NULL);

		if (path != NULL)
			viewer_open(t, path);
		else
			viewer_status(t->viewer, uris[0], "",
			    ": not a local file");
		g_free(path);
	}
	g_strfreev(uris);
	gtk_drag_finish(ctx, uris != NULL, FALSE, time);
}

GtkWidget *
tray_viewer_new(struct tray *t)
{
	struct tray_viewer *v = g_new0(struct tray_viewer, 1);
	GtkWidget *box, *bar, *b;

	v->t = t;
	v->copy = -1;
	t->viewer = v;
	box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
	gtk_container_set_border_width(GTK_CONTAINER(box), 6);
	bar = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
	b = gtk_button_new_with_label("Open a stored mail…");
	gtk_widget_set_tooltip_text(b, "Choose an .eml file your mail client "
	    "saved, or drop it on this page");
	g_signal_connect(b, "clicked", G_CALLBACK(open_clicked), t);
	gtk_box_pack_start(GTK_BOX(bar), b, FALSE, FALSE, 0);
	v->save = gtk_button_new_with_label("Save decrypted copy…");
	gtk_widget_set_sensitive(v->save, FALSE);
	g_signal_connect(v->save, "clicked", G_CALLBACK(save_clicked), t);
	gtk_box_pack_start(GTK_BOX(bar), v->save, FALSE, FALSE, 0);
	v->file_label = tray_label("Drop an .eml file here, or open one.",
	    FALSE);
	gtk_box_pack_start(GTK_BOX(bar), v->file_label, TRUE, TRUE, 6);
	gtk_box_pack_start(GTK_BOX(box), bar, FALSE, FALSE, 0);
	v->view = tray_view_new("Decrypted mail");
	gtk_box_pack_start(GTK_BOX(box), v->view, TRUE, TRUE, 0);

	gtk_drag_dest_set(box, GTK_DEST_DEFAULT_ALL, NULL, 0, GDK_ACTION_COPY);
	gtk_drag_dest_add_uri_targets(box);
	g_signal_connect(box, "drag-data-received", G_CALLBACK(viewer_drop), t);
	return box;
}
