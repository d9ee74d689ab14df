#!/bin/sh
# tests/cli/t_tcp2ctl.sh - the contract of tcp2ctl that holds without a
# daemon: --help lists every command and the exit codes, usage errors exit
# 2 before anything is sent, and an unreachable socket exits 1 with
# "cannot reach tcp2d at SOCK: ...".  Talking to a server is in
# t_tcp2ctl_echo.sh (a test-only server) and tests/e2e (tcp2d).
# Prints "ok - ..." / "not ok - ..." lines for tests/run; exits 1 when any
# check failed.  Runs from the repository root; POSIX sh.
set -u
cd "$(dirname "$0")/../.." || exit 2

BIN="${TCP2_BUILD:-build/san}/bin/tcp2ctl"
# Sanitizer reports must not pass for the tool's own exit statuses.
ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}:exitcode=86"
UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}:exitcode=86"
export ASAN_OPTIONS UBSAN_OPTIONS

nfail=0
pass() { echo "ok - $1"; }
flunk() {
	echo "not ok - $1"
	nfail=$((nfail + 1))
	if [ -s "$T/err" ]; then sed 's/^/#   stderr: /' "$T/err" | head -5; fi
}

if [ ! -x "$BIN" ]; then
	echo "not ok - $BIN not built"
	exit 1
fi
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT INT TERM

# run STATUS DESC ARGS...: ok when tcp2ctl ARGS exits with STATUS.
run() {
	_want=$1
	_desc=$2
	shift 2
	"$BIN" "$@" >"$T/out" 2>"$T/err" </dev/null
	_rc=$?
	if [ "$_rc" -eq "$_want" ]; then
		pass "$_desc"
	else
		flunk "$_desc (exit $_rc, want $_want)"
	fi
}

# --help: exit 0, on stdout, every command and the exit codes.
run 0 "--help exits 0" --help
for c in "status" "account add" "account list" "register" "peers" \
    "peer verify" "peer accept" "peer reject" "peer forget" "flows" \
    "events" "held" "receive ID" "--strip-attachments" "discard ID" \
    "show ID" "decrypt" "--summary" "Examples" "--control" "--json" \
    "--password-stdin" "Exit status"; do
	if grep -q -- "$c" "$T/out"; then
		pass "--help mentions $c"
	else
		flunk "--help mentions $c"
	fi
done
if grep -qi "planned" "$T/out"; then
	flunk "--help no longer names planned commands"
else
	pass "--help no longer names planned commands"
fi
run 0 "-h exits 0" -h
run 0 "a command's --help exits 0" peer verify --help
if grep -q "usage: tcp2ctl peer verify ADDR" "$T/out"; then
	pass "a command's --help shows its usage"
else
	flunk "a command's --help shows its usage"
fi

# Usage errors: exit 2, message on stderr, nothing sent (the socket is
# unreachable, so reaching it would exit 1 instead).
NOSOCK="$T/no-such-socket"
run 2 "no command" --control "$NOSOCK"
if grep -q "tcp2ctl --help" "$T/err"; then
	pass "usage error points at --help"
else
	flunk "usage error points at --help"
fi
run 2 "unknown command" --control "$NOSOCK" frobnicate
run 2 "unknown option" --control "$NOSOCK" --frob status
run 2 "--control without a value" --control
run 2 "status takes no argument" --control "$NOSOCK" status extra
run 2 "account without subcommand" --control "$NOSOCK" account
run 2 "account add without --addr" --control "$NOSOCK" account add \
    --pop3 pop.example.org:995 --smtp smtp.example.org:465
run 2 "account add with a bad port" --control "$NOSOCK" account add \
    --addr a@example.org --pop3 pop.example.org:99999 \
    --smtp smtp.example.org:465
run 2 "account add without a port" --control "$NOSOCK" account add \
    --addr a@example.org --pop3 pop.example.org \
    --smtp smtp.example.org:465
run 2 "account add with a bad policy" --control "$NOSOCK" account add \
    --addr a@example.org --pop3 pop.example.org:995 \
    --smtp smtp.example.org:465 --policy lax
run 2 "account add with a non-address" --control "$NOSOCK" account add \
    --addr example.org --pop3 pop.example.org:995 \
    --smtp smtp.example.org:465
run 2 "peer verify without an address" --control "$NOSOCK" peer verify
run 2 "peer with an unknown subcommand" --control "$NOSOCK" peer bless \
    a@example.org
run 2 "register --cancel takes no argument" --control "$NOSOCK" \
    register --cancel now
run 2 "--account needs a value" --control "$NOSOCK" peers --account
ID=3f2a9c0d5e6b7a8190a1b2c3d4e5f607
run 2 "receive without an ID" --control "$NOSOCK" receive
if grep -q "usage: tcp2ctl receive ID" "$T/err"; then
	pass "receive without an ID: shows its usage"
else
	flunk "receive without an ID: shows its usage"
fi
run 2 "receive with a short ID" --control "$NOSOCK" receive 3f2a
if grep -q "malformed ID" "$T/err"; then
	pass "a short ID: says malformed ID"
else
	flunk "a short ID: says malformed ID"
fi
run 2 "discard with a non-hex ID" --control "$NOSOCK" discard \
    3f2a9c0d5e6b7a8190a1b2c3d4e5f60z
run 2 "show with two IDs" --control "$NOSOCK" show "$ID" "$ID"
run 2 "discard --strip-attachments" --control "$NOSOCK" discard "$ID" \
    --strip-attachments
run 2 "receive --summary" --control "$NOSOCK" receive "$ID" --summary
run 2 "held takes no argument" --control "$NOSOCK" held "$ID"
run 2 "decrypt takes no ID" --control "$NOSOCK" decrypt "$ID"
run 0 "show --help exits 0" show --help
if grep -q "usage: tcp2ctl show ID" "$T/out"; then
	pass "show --help shows its usage"
else
	flunk "show --help shows its usage"
fi

# Unreachable: exit 1 with the message, for a missing socket and for a
# socket nobody listens on.
for args in "status" "account list" "peers --account a@example.org" \
    "peer verify b@example.org" "register" "flows" "events" "held" \
    "receive $ID" "discard $ID" "show $ID"; do
	# shellcheck disable=SC2086
	run 1 "unreachable daemon: $args exits 1" --control "$NOSOCK" $args
	if grep -q "cannot reach tcp2d at $NOSOCK: " "$T/err"; then
		pass "unreachable daemon: $args says cannot reach tcp2d"
	else
		flunk "unreachable daemon: $args says cannot reach tcp2d"
	fi
done
if command -v python3 >/dev/null 2>&1; then
	python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$T/stale"
	run 1 "stale socket: exits 1" --control "$T/stale" status
	if grep -q "cannot reach tcp2d at $T/stale: " "$T/err"; then
		pass "stale socket: says cannot reach tcp2d"
	else
		flunk "stale socket: says cannot reach tcp2d"
	fi
fi
long=$(printf '%0200d' 0)
run 1 "over-long socket path: exits 1" --control "$T/$long" status
if grep -q "cannot reach tcp2d" "$T/err"; then
	pass "over-long socket path: says cannot reach tcp2d"
else
	flunk "over-long socket path: says cannot reach tcp2d"
fi

[ "$nfail" -eq 0 ]
