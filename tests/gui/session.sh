# tests/gui/session.sh - a desktop session for the GUI tests.  POSIX sh
# library, sourced by tests/gui/t_*.sh:
#
#   gui_session_run DIR CMD...   run CMD under a fresh Xvfb display, inside
#                                dbus-run-session with the AT-SPI bus up and
#                                GTK_MODULES=gail:atk-bridge, so that Debian's
#                                python3-dogtail (/usr/bin/python3) can drive
#                                GTK apps, and the dunst notification daemon
#                                printing every desktop notification to
#                                $GUI_NOTIFY_LOG (DIR/notifications.log);
#                                Xvfb's log goes to DIR.  Returns CMD's status.
#
# Nothing is shared with the user's desktop: own display (-displayfd picks
# a free one), own session bus, no window manager.

gui_session_run() {
	_gs_dir=$1
	shift
	mkdir -p "$_gs_dir"
	rm -f "$_gs_dir/display"
	Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp -noreset \
	    3>"$_gs_dir/display" >"$_gs_dir/xvfb.log" 2>&1 &
	_gs_xpid=$!
	_gs_i=0
	while [ ! -s "$_gs_dir/display" ]; do
		_gs_i=$((_gs_i + 1))
		if [ $_gs_i -gt 100 ] || ! kill -0 $_gs_xpid 2>/dev/null; then
			echo "# Xvfb did not start:" >&2
			sed 's/^/# /' "$_gs_dir/xvfb.log" >&2
			kill $_gs_xpid 2>/dev/null
			return 1
		fi
		sleep 0.1
	done
	# Notifications in the bottom right corner, off the app's window.
	printf '[global]\norigin = bottom-right\noffset = 0x0\nwidth = 280\n' \
	    >"$_gs_dir/dunstrc"
	GUI_DUNSTRC=$_gs_dir/dunstrc GUI_NOTIFY_LOG=$_gs_dir/notifications.log \
	DISPLAY=:$(cat "$_gs_dir/display") GTK_MODULES=gail:atk-bridge \
	    NO_AT_BRIDGE=0 GDK_BACKEND=x11 \
	    dbus-run-session -- sh -c '
		/usr/libexec/at-spi-bus-launcher --launch-immediately &
		_l=$!
		: >"$GUI_NOTIFY_LOG"
		dunst -conf "$GUI_DUNSTRC" -print >"$GUI_NOTIFY_LOG" 2>/dev/null &
		_n=$!
		_i=0	# until dunst owns the name (up to 5 s)
		until dbus-send --session --print-reply --dest=org.freedesktop.DBus \
		    /org/freedesktop/DBus org.freedesktop.DBus.NameHasOwner \
		    string:org.freedesktop.Notifications 2>/dev/null |
		    grep -q "boolean true"; do
			_i=$((_i + 1))
			[ $_i -gt 50 ] && break
			sleep 0.1
		done
		"$@"
		_rc=$?
		kill $_l $_n 2>/dev/null
		exit $_rc' gui-session "$@" 2>>"$_gs_dir/session.log"
	_gs_rc=$?
	kill $_gs_xpid 2>/dev/null
	wait $_gs_xpid 2>/dev/null
	return $_gs_rc
}
