#!/bin/sh
# tests/cli/t_tcp2ctl_echo.sh - the real tcp2ctl against the real control
# socket code (daemon/ctl/ctl.c) in ctl-echo-server, a TEST-ONLY server
# with a canned handler (tests/unit/ctl_echo_server.c; not tcp2d): held,
# receive, discard, show and decrypt with their output, exit statuses and
# the descriptors they pass (a memfd for the output; standard input itself
# when it is a regular file, else a memfd holding it).  tcp2d's own
# handlers are tested in tests/e2e.
# Prints "ok - ..." / "not ok - ..." lines for tests/run; exits 1 when any
# check failed.  Runs from the repository root; POSIX sh.
set -u
cd "$(dirname "$0")/../.." || exit 2

BUILD="${TCP2_BUILD:-build/san}"
BIN="$BUILD/bin/tcp2ctl"
SERVER="$BUILD/tests/ctl-echo-server"
ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}:exitcode=86"
UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}:exitcode=86"
export ASAN_OPTIONS UBSAN_OPTIONS
TZ=UTC
export TZ

nfail=0
pass() { echo "ok - $1"; }
flunk() {
	echo "not ok - $1"
	nfail=$((nfail + 1))
	if [ -s "$T/err" ]; then sed 's/^/#   stderr: /' "$T/err" | head -5; fi
}
check() {	# check DESC COMMAND...: ok when COMMAND succeeds
	_d=$1
	shift
	if "$@"; then pass "$_d"; else flunk "$_d"; fi
}

for b in "$BIN" "$SERVER"; do
	if [ ! -x "$b" ]; then
		echo "not ok - $b not built"
		exit 1
	fi
done
T=$(mktemp -d) || exit 1
SOCK="$T/control"
SPID=
cleanup() {
	if [ -n "$SPID" ]; then
		kill "$SPID" 2>/dev/null
		wait "$SPID" 2>/dev/null
	fi
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

"$SERVER" "$SOCK" 2>"$T/server.err" &
SPID=$!
i=0
while [ ! -S "$SOCK" ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
if [ ! -S "$SOCK" ]; then
	echo "not ok - ctl-echo-server did not start"
	cat "$T/server.err"
	exit 1
fi

# ctl ARGS...: tcp2ctl against the echo server, stdout/stderr to files,
# standard input as given by the caller; the status in $rc.
ctl() {
	"$BIN" --control "$SOCK" "$@" >"$T/out" 2>"$T/err"
	rc=$?
}

A=3f2a9c0d5e6b7a8190a1b2c3d4e5f607
C=00112233445566778899aabbccddeeff

# held: aligned columns, local dates, names or a count, clean subjects.
ctl held </dev/null
check "held exits 0" [ "$rc" -eq 0 ]
check "held: a header with every column" grep -q \
    '^ID  *DATE  *SENDER  *VERIFICATION  *ENC  *HTML  *ATTACHMENTS  *SUBJECT  *REASON$' \
    "$T/out"
check "held: one line per held mail" [ "$(wc -l <"$T/out")" -eq 3 ]
check "held: id, date, sender, verification, yes/no, attachment name, subject, reason" \
    grep -q "^$A  2026-11-18 11:06  bob@example.net  *unverified  *no  *yes  *invoice.exe  *Invoice  *attachment invoice.exe, sender unverified$" \
    "$T/out"
check "held: many attachments as a count" grep -q "$C .* 3 files " "$T/out"
check "held: control characters in a subject shown as ?" \
    grep -q 'Hi?\[31mthere' "$T/out"
check "held: no escape byte reaches the terminal" \
    sh -c "! grep -q \"$(printf '\033')\" '$T/out'"
# Columns line up: REASON starts at the same offset on every line.
cols=$(awk '{ print index($0, $NF == "REASON" ? "REASON" : "") }' "$T/out" | head -1)
check "held: aligned columns" sh -c "awk -v c=$cols 'NR > 1 && substr(\$0, c - 2, 2) != \"  \" { exit 1 }' '$T/out'"
ctl held --account alice@example.org </dev/null
check "held --account: only that account" \
    sh -c "[ $rc -eq 0 ] && grep -q $A '$T/out' && ! grep -q $C '$T/out'"
ctl held --account nobody@example.org </dev/null
check "held: an empty list says so" grep -q "^no held mail$" "$T/out"
ctl --json held </dev/null
check "held --json: the raw answer" \
    sh -c "[ $rc -eq 0 ] && grep -q '^{\"held\":\\[{\"id\":\"$A\"' '$T/out'"

# receive: the hint, the option reaches the server, errors exit 1.
ctl receive "$A" </dev/null
check "receive: exit 0 with the daemon's hint" \
    sh -c "[ $rc -eq 0 ] && grep -q '^It will be in your mail client at its next mail check.$' '$T/out'"
ctl receive "$(echo $A | tr a-f A-F)" --strip-attachments </dev/null
check "receive --strip-attachments (upper-case ID accepted)" \
    sh -c "[ $rc -eq 0 ] && grep -q 'without its attachments' '$T/out'"
ctl receive ffffffffffffffffffffffffffffffff </dev/null
check "receive of an unknown ID: exit 1, the daemon's error" \
    sh -c "[ $rc -eq 1 ] && grep -q '^tcp2ctl: no such held mail: f\{32\}$' '$T/err'"

# show: the whole message through a memfd, byte for byte when redirected.
printf 'From: Bob <bob@example.net>\r\nTo: alice@example.org\r\nSubject: Invoice\r\n\r\nHello Alice, the invoice is attached.\r\n' >"$T/want"
ctl show "$A" </dev/null
check "show: exit 0" [ "$rc" -eq 0 ]
check "show: the decrypted message, byte for byte" cmp -s "$T/out" "$T/want"
ctl show --summary "$A" </dev/null
check "show --summary: headers, verification, attachments, text" \
    sh -c "[ $rc -eq 0 ] && grep -q '^From: bob@example.net$' '$T/out' && grep -q '^Verification: unverified$' '$T/out' && grep -q '^  invoice.exe (application/octet-stream, 1000 bytes)$' '$T/out' && grep -q '^Hello Alice' '$T/out'"
ctl --json show "$A" </dev/null
check "show --json: the VIEW" \
    sh -c "[ $rc -eq 0 ] && grep -q '^{\"message\":{\"from\":\"bob@example.net\"' '$T/out'"
ctl show ffffffffffffffffffffffffffffffff </dev/null
check "show of an unknown ID: exit 1" [ "$rc" -eq 1 ]

# decrypt: a regular file goes as it is, a pipe through a memfd.
printf 'From: x@example.org\r\nSubject: s\r\n\r\nline\r\n' >"$T/mail.eml"
ctl decrypt <"$T/mail.eml"
check "decrypt < FILE: exit 0" [ "$rc" -eq 0 ]
check "decrypt < FILE: the output memfd's bytes on stdout" \
    cmp -s "$T/out" "$T/mail.eml"
ctl --json decrypt <"$T/mail.eml"
check "decrypt < FILE passes the file itself" grep -q '"input_kind":"file"' "$T/out"
# shellcheck disable=SC2002
cat "$T/mail.eml" | "$BIN" --control "$SOCK" --json decrypt >"$T/out" 2>"$T/err"
check "decrypt from a pipe passes a memfd" grep -q '"input_kind":"memfd"' "$T/out"
# shellcheck disable=SC2002
cat "$T/mail.eml" | "$BIN" --control "$SOCK" decrypt >"$T/out" 2>"$T/err"
check "decrypt from a pipe: the message, byte for byte" cmp -s "$T/out" "$T/mail.eml"
ctl decrypt --summary <"$T/mail.eml"
check "decrypt --summary: the VIEW as text" \
    sh -c "[ $rc -eq 0 ] && grep -q '^Verification: verified (signed by bob@example.net)$' '$T/out' && grep -q '^Attachments: none$' '$T/out' && grep -q '^line$' '$T/out'"
ctl decrypt </dev/null
check "decrypt of empty input: exit 1 before asking" \
    sh -c "[ $rc -eq 1 ] && grep -q 'no mail' '$T/err'"
# Bigger than 64 MiB, through a pipe (never stored).
head -c 67108865 /dev/zero | "$BIN" --control "$SOCK" decrypt >"$T/out" 2>"$T/err"
rc=$?
check "decrypt of more than 64 MiB from a pipe: exit 1, clear error" \
    sh -c "[ $rc -eq 1 ] && grep -q 'larger than decrypt takes (64 MiB)' '$T/err'"
truncate -s 67108865 "$T/big.eml"
ctl decrypt <"$T/big.eml"
check "decrypt of a file over 64 MiB: exit 1, clear error" \
    sh -c "[ $rc -eq 1 ] && grep -q 'larger than decrypt takes (64 MiB)' '$T/err'"
rm -f "$T/big.eml"

# discard: gone from the list, and "events" saw it.
"$BIN" --control "$SOCK" events >"$T/events" 2>"$T/events.err" &
EPID=$!
# The server sends a "ping" event for each status: once one arrives the
# subscription is in place.
i=0
while ! grep -q '"event":"ping"' "$T/events" && [ $i -lt 100 ]; do
	ctl status </dev/null
	sleep 0.1
	i=$((i + 1))
done
check "events: subscribed (a ping event arrived)" grep -q '"event":"ping"' "$T/events"
ctl discard "$A" </dev/null
check "discard: exit 0" [ "$rc" -eq 0 ]
ctl held </dev/null
check "discard: the mail is gone from held" \
    sh -c "! grep -q $A '$T/out' && grep -q $C '$T/out'"
i=0
while ! grep -q '"event":"discarded"' "$T/events" && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
check "events prints the discarded event" \
    grep -q "\"event\":\"discarded\".*\"id\":\"$A\"" "$T/events"
kill "$EPID" 2>/dev/null
wait "$EPID" 2>/dev/null
ctl discard "$A" </dev/null
check "discard twice: exit 1" [ "$rc" -eq 1 ]

# The server went away: exit 1.
kill "$SPID"
wait "$SPID" 2>/dev/null
srv_rc=$?
SPID=
check "ctl-echo-server exited cleanly (no sanitizer report)" [ "$srv_rc" -eq 0 ]
ctl held </dev/null
check "server gone: held exits 1, cannot reach" \
    sh -c "[ $rc -eq 1 ] && grep -q 'cannot reach tcp2d at' '$T/err'"

[ "$nfail" -eq 0 ]
