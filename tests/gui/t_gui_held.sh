#!/bin/sh
# t_gui_held.sh - tcp2-tray's Held mail page against the real tcp2d:
# Bob sends Alice an HTML mail, a mail with an executable attachment and
# another one; her daemon holds all three (default hold policy).  Through
# AT-SPI: the rows with their details, the text preview, Receive on the
# first, Discard (confirmed) on the second, Receive without attachments on
# the third; then the daemon's quarantine and the mail Alice's client
# fetches are checked.
#
set -u
here=$(cd "$(dirname "$0")" && pwd)
cd "$here" || exit 2
while [ ! -f tests/e2e/world.sh ]; do	# the source tree's top
	[ "$(pwd)" = / ] && exit 2
	cd ..
done
. tests/e2e/world.sh
. tests/e2e/tcp2d.sh
. tests/gui/session.sh

T=$(mktemp -d /var/tmp/tcp2-guiheld.XXXXXX)
SHOTS=$(pwd)/${TCP2_BUILD:-build/san}/test-logs/gui-held
. tests/e2e/check.sh
cleanup() {
	tcp2d_stop a; tcp2d_stop b
	if [ "$fail" -ne 0 ]; then
		tcp2d_log_tail a 40
		tail -n 30 "$SHOTS/tray.log" 2>/dev/null | sed 's/^/# tray: /'
	fi
	world_down
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

# mkheld FILE KIND SUBJECT MARKER: Bob's mail to Alice, CRLF.  KIND html:
# an HTML-only body; exe: text plus invoice.exe; strip: text plus tool.exe
mkheld() {
	"$WORLD_PY" - "$@" <<'PY'
import sys, os, base64, email.utils
path, kind, subj, marker = sys.argv[1:5]
h = ("From: Bob <bob@example.org>\r\nTo: alice@example.org\r\nSubject: %s\r\n"
     "Date: %s\r\nMessage-ID: <%s@example.org>\r\nMIME-Version: 1.0\r\n"
     % (subj, email.utils.formatdate(), os.urandom(8).hex()))
if kind == "html":
    m = h + ("Content-Type: text/html; charset=utf-8\r\n\r\n"
             "<html><body><p>Hello %s</p><img src=\"http://10.77.0.1/x.png\">"
             "</body></html>\r\n" % marker)
else:
    name = "invoice.exe" if kind == "exe" else "tool.exe"
    att = base64.encodebytes(("MZ attachment-%s " % marker).encode() * 40)
    att = att.decode().replace("\n", "\r\n")
    m = h + ("Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
             "--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
             "Body %s\r\n--b1\r\nContent-Type: application/octet-stream; "
             "name=\"%s\"\r\nContent-Disposition: attachment; filename=\"%s\"\r\n"
             "Content-Transfer-Encoding: base64\r\n\r\n%s--b1--\r\n"
             % (marker, name, name, att))
open(path, "wb").write(m.encode())
PY
}

check "tcp2-tray is built ($TCP2_BIN/tcp2-tray)" test -x "$TCP2_BIN/tcp2-tray"
check "world up" world_up
check "tcp2d starts on Alice's host" tcp2d_start a
check "tcp2d starts on Bob's host" tcp2d_start b
tcp2ctl_on a account add --addr alice@example.org --pop3 10.77.0.1:110 \
    --smtp 10.77.0.1:25 --user alice >/dev/null
tcp2ctl_on b account add --addr bob@example.org --pop3 10.77.0.1:110 \
    --smtp 10.77.0.1:25 --user bob >/dev/null

mkheld "$T/html.eml" html "Held HTML" mkhtml7731
mkheld "$T/exe.eml" exe "Held invoice" mkexe7732
mkheld "$T/strip.eml" strip "Held tool" mkstrip7733
for m in html exe strip; do
	send_curl b bob@example.org alice@example.org "$T/$m.eml"
done
world_wait_mail alice 3
fetch_curl a alice "$T/notices" >/dev/null 2>&1
check "Alice's daemon holds the three mails" sh -c \
    "'$TCP2_BIN/tcp2ctl' --control '$(_tcp2d_dir a)/control' --json held |
     '$WORLD_PY' -c 'import json,sys; sys.exit(len(json.load(sys.stdin)[\"held\"]) != 3)'"
check "her client got no held mail's text" not grep -l mkhtml7731 "$T"/notices/*.eml

rm -rf "$SHOTS"
mkdir -p "$SHOTS"
GUI_SHOTS=$SHOTS TCP2_BIN=$TCP2_BIN gui_session_run "$T/x" \
    /usr/bin/python3 "$here/t_gui_held.py" \
    "$(_tcp2d_dir a)/control" "$T" || fail=1
check "no sanitizer report from Alice's tcp2d" tcp2d_asan a
exit $fail
