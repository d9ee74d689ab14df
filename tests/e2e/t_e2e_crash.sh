#!/bin/sh
# t_e2e_crash.sh - tcp2d killed (SIGKILL) in the middle of a message
# (SPLICE-NOTES, "Mail-level failure rules"; DESIGN 3, "Nothing lost").
#
# (a) mid-DATA: Alice's tcp2d dies while curl uploads a 20 MB mail.  No
#     plaintext on the wire, curl fails, the server delivers nothing (no
#     truncated, no plaintext mail); while the daemon is dead a new SMTP
#     connection does not reach the server (fail-closed); after a restart
#     the rules are in place again, the connection that was open across
#     the restart is reset, and a retry delivers the mail byte-identical.
# (b) mid-RETR: Bob's tcp2d dies while curl downloads the 20 MB mail.  The
#     client gets a failure or an incomplete message, the mail stays on
#     the server, the restarted daemon resets the old connection, and a
#     complete retrieval gives the original byte-identical.
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/world.sh
. tests/e2e/tcp2d.sh

T=$(mktemp -d /var/tmp/tcp2-crash.XXXXXX)
. tests/e2e/check.sh
start() { tcp2d_start "$@"; }
BGPID=
cleanup() {
	[ -n "$BGPID" ] && kill "$BGPID" 2>/dev/null
	tcp2d_stop a; tcp2d_stop b
	if [ "$fail" -ne 0 ]; then
		for h in a b; do tcp2d_log_tail "$h" 30 'received: encrypted'; done
	fi
	world_down
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

M=$TCP2_BIN/tcp2-mail
MARK=crash$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
MARK2=fc$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
start=$(date +%s)

# big.eml: about 20 MB, the marker on every line.  small.eml: a short mail
# with the second marker (the fail-closed probe).
"$WORLD_PY" - "$T" "$MARK" "$MARK2" <<'PY' || exit 2
import os, sys, email.utils
d, mark, mark2 = sys.argv[1:4]
def head(subj):
    return ("From: alice@example.org\r\nTo: bob@example.org\r\nSubject: %s\r\n"
            "Date: %s\r\nMessage-ID: <%s@example.org>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=us-ascii\r\n\r\n"
            % (subj, email.utils.formatdate(), os.urandom(8).hex())).encode()
line = 0
parts = [head("big " + mark)]
size = len(parts[0])
while size < 20 * 1024 * 1024:
    line += 1
    l = b"%07d %s %s\r\n" % (line, mark.encode(), os.urandom(24).hex().encode())
    parts.append(l)
    size += len(l)
open(d + "/big.eml", "wb").write(b"".join(parts))
open(d + "/small.eml", "wb").write(head("probe " + mark2) + b"probe " + mark2.encode() + b"\r\n")
PY

check "world up" world_up
AD=$(_tcp2d_dir a)
BD=$(_tcp2d_dir b)
mkdir -p "$AD" "$BD"
keys() {
	"$M" --store "$AD/state" init --addr alice@example.org &&
	"$M" --store "$BD/state" init --addr bob@example.org &&
	"$M" --store "$AD/state" keyx-start --to bob@example.org >"$T/kx1" &&
	"$M" --store "$BD/state" keyx-recv <"$T/kx1" >"$T/kx2" &&
	"$M" --store "$AD/state" keyx-recv <"$T/kx2"
} 2>"$T/keys.log"
check "keys of Alice and Bob established with tcp2-mail" keys
account() { # account HOST USER
	tcp2ctl_on "$1" account add --addr "$2@example.org" --pop3 "$WORLD_SRV4:110" \
	    --smtp "$WORLD_SRV4:25" --user "$2" >/dev/null
}
check "tcp2d starts on Alice's host" start a
check "tcp2d starts on Bob's host" start b
check "Alice's account gets its servers" account a alice
check "Bob's account gets its servers" account b bob

# flow_field HOST FIELD: FIELD of HOST's first captured flow (0 if none)
flow_field() {
	tcp2ctl_on "$1" --json flows 2>/dev/null | "$WORLD_PY" -c '
import json, sys
try:
    f = json.load(sys.stdin)["flows"]
    print(max(x.get(sys.argv[1], 0) for x in f) if f else 0)
except Exception:
    print(0)' "$2"
}
# wait_flow HOST FIELD MIN SECONDS: until FIELD of a flow reaches MIN
wait_flow() {
	_wf_i=0
	while [ "$(flow_field "$1" "$2")" -lt "$3" ]; do
		[ $_wf_i -ge $(($4 * 10)) ] && return 1
		sleep 0.1
		_wf_i=$((_wf_i + 1))
	done
}
# wait_pid PID SECONDS: until the background job PID has ended
wait_pid() {
	_wp_i=0
	while kill -0 "$1" 2>/dev/null; do
		[ $_wp_i -ge $(($2 * 10)) ] && return 1
		sleep 0.1
		_wp_i=$((_wp_i + 1))
	done
}
# rules_ok HOST PORT: HOST has exactly one jump OUTPUT->TCP2_OUT and
# INPUT->TCP2_IN and NFQUEUE rules for the server's PORT both ways
rules_ok() {
	[ "$(world_exec "$1" iptables -S OUTPUT | grep -c -- '-j TCP2_OUT$')" = 1 ] &&
	[ "$(world_exec "$1" iptables -S INPUT | grep -c -- '-j TCP2_IN$')" = 1 ] &&
	world_exec "$1" iptables -S TCP2_OUT |
		grep -q -- "-d $WORLD_SRV4/32 -p tcp -m tcp --dport $2 -j NFQUEUE" &&
	world_exec "$1" iptables -S TCP2_IN |
		grep -q -- "-s $WORLD_SRV4/32 -p tcp -m tcp --sport $2 -j NFQUEUE"
}
# rule_pkts HOST CHAIN PORT: packets counted by the NFQUEUE rule for PORT
rule_pkts() {
	world_exec "$1" iptables -L "$2" -v -x -n |
		awk -v p=":$3 " '$3 == "NFQUEUE" && index($0, p) { print $1; exit }'
}
status_field() {
	tcp2ctl_on "$1" status 2>/dev/null | sed -n "s/^$2: //p"
}

# ---------------------------------------------------------------- (a)
echo "# (a) tcp2d killed mid-DATA"
capture_start srv "$T/a.pcap"
world_exec a curl -sS --max-time 120 --limit-rate 2M \
    --url "smtp://$WORLD_SRV4:25/t2a.example.org" --mail-from alice@example.org \
    --mail-rcpt bob@example.org --upload-file "$T/big.eml" \
    >"$T/a-curl.out" 2>&1 &
BGPID=$!
check "the upload is in DATA (tcp2d has read over 2 MB of it)" \
    wait_flow a c2s_in 2000000 30
encrypted_out=$(flow_field a c2s_out)
check "  ... and has sent it on encrypted ($encrypted_out octets)" test "$encrypted_out" -gt 1000000
pkts_before=$(rule_pkts a TCP2_OUT 25)
dpid=$(cat "$AD/pid")
tcp2d_kill a
check "tcp2d on Alice's host is dead" not kill -0 "$dpid" 2>/dev/null
check "its capture rules stay in place (fail-closed)" rules_ok a 25

# Fail-closed: a new connection while the daemon is dead goes nowhere.
if timeout 8 sh -c '. tests/e2e/world.sh; send_curl a alice@example.org bob@example.org "$1"' \
    _ "$T/small.eml" >/dev/null 2>&1; then
	nok "while tcp2d is dead a new SMTP session fails"
else
	ok "while tcp2d is dead a new SMTP session fails"
fi
sleep 1
check "the upload has not finished while tcp2d is dead" kill -0 "$BGPID"
mails_a=$(world_mail_count bob)
check "the server delivered nothing (Maildir has $mails_a)" test "$mails_a" -eq 0
check "no marker in the server's Maildir" not maildir_grep bob "$MARK"

# Restart: rules again, the old connection is reset.
logn=$(tcp2d_log a | grep -c 'capturing SMTP 10.77.0.1:25')
check "tcp2d restarts on Alice's host" start a
check "the restarted daemon installed its rules" rules_ok a 25
logm=$(tcp2d_log a | grep -c 'capturing SMTP 10.77.0.1:25')
check "  ... (its log says so: $logn before, $logm now)" test "$logm" -gt "$logn"
pkts_after=$(rule_pkts a TCP2_OUT 25)
check "  ... (the rule is new: its counter went from $pkts_before to $pkts_after)" \
    test "${pkts_after:-999999999}" -lt "${pkts_before:-0}"
check "the upload open across the restart ends" wait_pid "$BGPID" 60
wait "$BGPID"
rc=$?
BGPID=
echo "# curl: exit $rc: $(tr '\n' ' ' <"$T/a-curl.out")"
check "curl reports a failure (exit $rc)" test "$rc" -ne 0
check "  ... because its connection was reset (exit $rc: 55 or 56)" \
    test "$rc" -eq 55 -o "$rc" -eq 56
resets=$(status_field a resets)
check "the restarted tcp2d reset the unknown connection (resets: $resets)" \
    test "${resets:-0}" -gt 0
sleep 1
check "still nothing delivered" test "$(world_mail_count bob)" -eq 0

# Retry: delivered, encrypted, byte-identical.
check "the retry after the restart is accepted" \
    send_curl a alice@example.org bob@example.org "$T/big.eml"
world_wait_mail bob 1 60
world_wait_queue 30
capture_stop
check "exactly one mail delivered (has $(world_mail_count bob))" \
    test "$(world_mail_count bob)" -eq 1
check "no marker in the server's Maildir" not maildir_grep bob "$MARK"
check "the fail-closed probe is not in the server's Maildir" not maildir_grep bob "$MARK2"
check "the stored mail is a TCP2 message" maildir_grep bob "application/x-tcp2-message"
check "no marker on the wire (capture at the server)" not capture_grep "$T/a.pcap" "$MARK"
check "the fail-closed probe never crossed the wire" not capture_grep "$T/a.pcap" "$MARK2"
check "tcp2d on Alice's host: no aborted session (aborts: $(status_field a aborts))" \
    test "$(status_field a aborts)" = 0

# ---------------------------------------------------------------- (b)
echo "# (b) tcp2d killed mid-RETR"
capture_start b "$T/b.pcap"
# The restarted daemon can reset only the side whose packets it sees (the
# server retransmits; the client, with all it was given, waits): curl
# ends by its own time limit, or by a reset when it sends.
world_exec b curl -sS --max-time 25 --limit-rate 2M -u bob:bobpw \
    "pop3://$WORLD_SRV4:110/1" -o "$T/b-partial.eml" >"$T/b-curl.out" 2>&1 &
BGPID=$!
check "the download is in RETR (tcp2d has read over 2 MB of it)" \
    wait_flow b s2c_in 2000000 30
decrypted_out=$(flow_field b s2c_out)
check "  ... and has given the client decrypted output ($decrypted_out octets)" \
    test "$decrypted_out" -gt 1000000
tcp2d_kill b
check "its capture rules stay in place (fail-closed)" rules_ok b 110
sleep 2
check "the mail is still on the server" test "$(world_mail_count bob)" -eq 1
check "tcp2d restarts on Bob's host" start b
check "the restarted daemon installed its rules" rules_ok b 110
check "the download open across the restart ends" wait_pid "$BGPID" 40
wait "$BGPID"
rc=$?
BGPID=
echo "# curl: exit $rc: $(tr '\n' ' ' <"$T/b-curl.out"), $(wc -c <"$T/b-partial.eml" 2>/dev/null || echo 0) octets"
incomplete() {
	[ "$rc" -ne 0 ] || ! cmp -s "$T/b-partial.eml" "$T/big.eml"
}
check "curl reports a failure or has an incomplete message (exit $rc)" incomplete
check "  ... not the whole original" not cmp -s "$T/b-partial.eml" "$T/big.eml"
sleep 1
check "the mail is still on the server after the failed retrieval" \
    test "$(world_mail_count bob)" -eq 1
check "the restarted tcp2d reset the old connection (resets: $(status_field b resets))" \
    test "$(status_field b resets)" -gt 0
check "a complete retrieval after the restart (curl)" \
    env FETCH_KEEP=1 sh -c ". tests/e2e/world.sh; fetch_curl b bob '$T/got-curl'"
same() { strip_trace "$1" | cmp -s - "$2"; }
check "  ... gives the 20 MB original byte-identical" same "$T/got-curl/0001.eml" "$T/big.eml"
check "a retrieval with poplib (deleting) gives it byte-identical too" sh -c \
    ". tests/e2e/world.sh; fetch_poplib b bob '$T/got-poplib'"
check "  ... byte-identical" same "$T/got-poplib/0001.eml" "$T/big.eml"
check "  ... and the mail is gone from the server only now" \
    test "$(world_mail_count bob)" -eq 0
capture_stop
check "no marker on the wire at Bob's host" not capture_grep "$T/b.pcap" "$MARK"
check "tcp2d on Bob's host: no aborted session (aborts: $(status_field b aborts))" \
    test "$(status_field b aborts)" = 0

tcp2d_stop a
tcp2d_stop b
check "no sanitizer report from Alice's tcp2d" tcp2d_asan a
check "no sanitizer report from Bob's tcp2d" tcp2d_asan b
echo "# runtime $(($(date +%s) - start)) s"
exit $fail
