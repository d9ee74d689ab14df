#!/bin/sh
# t_gui.sh - tcp2-tray, the GTK app, against the real tcp2d in the e2e
# world: Alice's daemon knows Dave (established), Bob (his key changed:
# his host lost its state and sent a new key exchange) and Carol (our key
# exchange sent, no reply).  tcp2-tray runs under Xvfb with the AT-SPI
# bus; tests/gui/t_gui.py reads and presses through Debian's dogtail and
# checks the daemon.  Screenshots: $TCP2_BUILD/test-logs/gui/.
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/world.sh
. tests/e2e/tcp2d.sh
. tests/gui/session.sh

T=$(mktemp -d /var/tmp/tcp2-gui.XXXXXX)
SHOTS=$(pwd)/${TCP2_BUILD:-build/san}/test-logs/gui
. tests/e2e/check.sh
cleanup() {
	tcp2d_stop a; tcp2d_stop b
	if [ "$fail" -ne 0 ]; then
		for h in a b; do tcp2d_log_tail "$h" 30; done
		echo "# --- tcp2-tray log"
		tail -n 30 "$SHOTS/tray.log" 2>/dev/null | sed 's/^/# /'
	fi
	world_down
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

# keyx FILE FROM TO: the fixed-form key-exchange mail, CRLF
keyx() {
	"$WORLD_PY" - "$@" <<'PY'
import sys, os, email.utils
path, frm, to = sys.argv[1:4]
open(path, "wb").write((
    "From: %s\r\nTo: %s\r\nSubject: TCP2 key exchange\r\nDate: %s\r\n"
    "Message-ID: <%s@example.org>\r\n\r\nplease\r\n"
    % (frm, to, email.utils.formatdate(), os.urandom(8).hex())).encode())
PY
}

# account HOST USER: add USER@example.org on HOST's daemon
account() {
	tcp2ctl_on "$1" account add --addr "$2@example.org" \
	    --pop3 10.77.0.1:110 --smtp 10.77.0.1:25 --user "$2" >/dev/null
}

check "tcp2-tray is built ($TCP2_BIN/tcp2-tray)" test -x "$TCP2_BIN/tcp2-tray"
check "world up" world_up
check "tcp2d starts on Alice's host" tcp2d_start a
check "tcp2d starts on Bob's host" tcp2d_start b
account a alice

# reset_b: Bob's host loses its state (a new identity for every account)
reset_b() {
	tcp2d_stop b
	rm -rf "$(_tcp2d_dir b)/state"
	tcp2d_start b
}

# from_b USER N: USER on host b sends Alice its key; she fetches it
from_b() {
	account b "$1"
	keyx "$T/k-$1-$2.eml" "$1@example.org" alice@example.org
	send_curl b "$1@example.org" alice@example.org "$T/k-$1-$2.eml"
	world_wait_mail alice 1
	fetch_curl a alice "$T/f-$1-$2" >/dev/null 2>&1
}

# Host b serves one account at a time (one account per server endpoint):
# Bob, then Dave, then Bob again with a new identity.
from_b bob 1
check "Alice: Bob established" tcp2d_wait_peer a bob@example.org established 10
check "tcp2d restarts on Bob's host with a new state" reset_b
from_b dave 1
check "Alice: Dave established" tcp2d_wait_peer a dave@example.org established 10
check "tcp2d restarts on Bob's host with a new state again" reset_b
from_b bob 2
check "Alice: Bob's key changed" tcp2d_wait_peer a bob@example.org changed 10

# Alice starts an exchange with Carol, who never answers.
keyx "$T/kc.eml" alice@example.org carol@example.org
send_curl a alice@example.org carol@example.org "$T/kc.eml"
check "Alice: Carol sent" tcp2d_wait_peer a carol@example.org sent 10
tcp2ctl_on a peers | sed 's/^/# /'

rm -rf "$SHOTS"
mkdir -p "$SHOTS"
GUI_SHOTS=$SHOTS TCP2_BIN=$TCP2_BIN gui_session_run "$T/x" \
    /usr/bin/python3 tests/gui/t_gui.py "$(_tcp2d_dir a)/control" || fail=1
[ -s "$T/x/session.log" ] && grep -v 'dbus-daemon\|SpiRegistry' \
    "$T/x/session.log" | tail -n 20 | sed 's/^/# session: /'
check "no sanitizer report from Alice's tcp2d" tcp2d_asan a
check "no sanitizer report from Bob's tcp2d" tcp2d_asan b
exit $fail
