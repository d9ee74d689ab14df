/*
 * tray_icon.h - the tray icon (tray_icon.c) and the icon names of the
 * three overall states, shared with the window.
 */
#ifndef TRAY_ICON_H
#define TRAY_ICON_H

#define TRAY_ICON_GOOD	"security-high"		/* all good */
#define TRAY_ICON_HELD	"mail-unread"		/* mail waits for a decision */
#define TRAY_ICON_BAD	"dialog-warning"	/* key changed, daemon away */

struct tray;

/* Put an icon in the tray; FALSE when there is no tray (show the window). */
gboolean tray_icon_init(struct tray *t);
/* Show a state: icon name and a one-line text.  No-op without a tray. */
void tray_icon_set(struct tray *t, const char *icon, const char *text);

#endif
