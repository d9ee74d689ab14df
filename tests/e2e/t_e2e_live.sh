#!/bin/sh
# t_e2e_live.sh - tcp2d live in real SMTP and POP3 sessions: Alice's and
# Bob's hosts each run tcp2d in front of their unmodified clients (curl,
# swaks, s-nail, smtplib; fetchmail, curl, poplib) against real Postfix
# and Dovecot.  Registration and key exchange by fixed-form mails, then
# encrypted mail both ways: byte-identical at the receiver, and no marker
# of subject, body or a 5 MB attachment on the wire or in the server's
# Maildir.  Edge content, 50 messages in one session, IPv6.
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/world.sh
. tests/e2e/tcp2d.sh

T=$(mktemp -d /var/tmp/tcp2-live.XXXXXX)
. tests/e2e/check.sh
cleanup() {
	tcp2d_stop a; tcp2d_stop b
	if [ "$fail" -ne 0 ]; then
		for h in a b; do tcp2d_log_tail "$h" 40; done
	fi
	world_down
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

# mkmail FILE FROM TO SUBJECT BODY-GENERATOR-ARGS: a CRLF message
mkmail() {
	"$WORLD_PY" - "$@" <<'PY'
import sys, os, base64, email.utils
path, frm, to, subj, kind = sys.argv[1:6]
extra = sys.argv[6] if len(sys.argv) > 6 else ""
h = ("From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%s@example.org>\r\n"
     % (frm, to, subj, email.utils.formatdate(), os.urandom(8).hex()))
if kind == "text":
    m = h + "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n" \
        "Content-Transfer-Encoding: 8bit\r\n\r\nHello, \u00e9t\u00e9 %s\r\n.\r\n..dots\r\n" % extra
    m = m.encode()
elif kind == "edge":
    body = b"x" * 998 + b"\r\n.\r\n..\r\n...lead\r\n\xc3\xa9\xe2\x82\xac 8bit\r\n" + extra.encode() + b"\r\n"
    m = (h + "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
         "Content-Transfer-Encoding: 8bit\r\n\r\n").encode() + body
elif kind == "big":
    line = ("attachment line %s " % extra).encode()
    att = (line * 4 + b"\r\n") * (5 * 1024 * 1024 // (len(line) * 4 + 2))
    m = (h + "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
         "--b1\r\nContent-Type: text/plain\r\n\r\nBody %s\r\n"
         "--b1\r\nContent-Type: text/plain; name=\"a.txt\"\r\n"
         "Content-Disposition: attachment; filename=\"a.txt\"\r\n\r\n" % extra).encode() + att + b"--b1--\r\n"
elif kind == "keyx":
    m = (h + "\r\nplease\r\n").encode()
open(path, "wb").write(m)
PY
}

# same FETCHED ORIGINAL: byte-identical after the server's trace fields
same() {
	strip_trace "$1" >"$1.stripped" && cmp -s "$1.stripped" "$2"
}

check "world up" world_up
check "tcp2d starts on Alice's host" tcp2d_start a
check "tcp2d starts on Bob's host" tcp2d_start b

# --- Registration (the seed's fig. 8-10), from the clients' own tools.
check "registration of alice completes" tcp2d_register a alice "$T"
check "registration of bob completes" tcp2d_register b bob "$T"
tcp2ctl_on a account list | sed 's/^/# /'
world_wait_queue
FETCH_KEEP=0 fetch_curl a alice "$T/drain-a" >/dev/null 2>&1
FETCH_KEEP=0 fetch_curl b bob "$T/drain-b" >/dev/null 2>&1

# --- Key exchange: each side sends the fixed-form mail from its client.
mkmail "$T/kx1.eml" alice@example.org bob@example.org "TCP2 key exchange" keyx
send_swaks a alice@example.org bob@example.org "$T/kx1.eml"
world_wait_mail bob 1
fetch_poplib b bob "$T/kx1-got"
check "Bob's client gets a notice instead of the key-exchange mail" \
    grep -q "Subject: TCP2: key exchange with alice@example.org" "$T/kx1-got/0001.eml"
check "Bob's key state: established with Alice" \
    tcp2d_wait_peer b alice@example.org established 5
mkmail "$T/kx2.eml" bob@example.org alice@example.org "TCP2 key exchange" keyx
send_curl b bob@example.org alice@example.org "$T/kx2.eml"
world_wait_mail alice 1
fetch_curl a alice "$T/kx2-got"
check "Alice's key state: established with Bob" \
    tcp2d_wait_peer a bob@example.org established 5
ca=$(tcp2ctl_on a --json peers | "$WORLD_PY" -c 'import json,sys; print([p["code"] for p in json.load(sys.stdin)["peers"] if p["addr"]=="bob@example.org"][0])')
cb=$(tcp2ctl_on b --json peers | "$WORLD_PY" -c 'import json,sys; print([p["code"] for p in json.load(sys.stdin)["peers"] if p["addr"]=="alice@example.org"][0])')
check "both sides show the same comparison code ($ca)" test -n "$ca" -a "$ca" = "$cb"

# --- Encrypted mail with markers: nothing on the wire, nothing stored.
M1=subj$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
M2=body$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
M3=att$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
mkmail "$T/big.eml" alice@example.org bob@example.org "Secret $M1" big "$M2 $M3"
capture_start srv "$T/wire.pcap"
check "curl sends a 5 MB mail through tcp2d" \
    send_curl a alice@example.org bob@example.org "$T/big.eml"
world_wait_mail bob 1
capture_stop
check "server Maildir has no subject marker" not maildir_grep bob $M1
check "server Maildir has no body marker" not maildir_grep bob $M2
check "server Maildir has no attachment marker" not maildir_grep bob $M3
check "the wire has no subject marker" not capture_grep $T/wire.pcap $M1
check "the wire has no body marker" not capture_grep "$T/wire.pcap" "$M2"
check "the wire has no attachment marker" not capture_grep "$T/wire.pcap" "$M3"
check "the stored mail is a TCP2 message" maildir_grep bob "application/x-tcp2-message"
fetch_fetchmail b bob "$T/got-big"
check "fetchmail at Bob gets the 5 MB mail byte-identical" same "$T/got-big/0001.eml" "$T/big.eml"

# --- Other clients, both directions.
mkmail "$T/t1.eml" alice@example.org bob@example.org "swaks test" text swaks
send_swaks a alice@example.org bob@example.org "$T/t1.eml"
mkmail "$T/t2.eml" bob@example.org alice@example.org "curl B to A" text back
send_curl b bob@example.org alice@example.org "$T/t2.eml"
mkmail "$T/t3.eml" alice@example.org bob@example.org "snail test" text snailbody
send_snail a alice@example.org bob@example.org "$T/t3.eml"
world_wait_mail bob 2; world_wait_mail alice 1
fetch_curl b bob "$T/got-1"
fetch_poplib a alice "$T/got-2"
check "swaks A->B, curl POP3 at Bob: byte-identical" same "$T/got-1/0001.eml" "$T/t1.eml"
check "s-nail A->B: body identical" sh -c "tr -d '\r' < $T/got-1/0002.eml | grep -q 'snailbody'"
check "curl B->A, poplib at Alice: byte-identical" same "$T/got-2/0001.eml" "$T/t2.eml"
check "nothing in clear at the server for B->A" not maildir_grep alice 'curl B to A'

# --- Edge content and 50 messages in one session.
mkmail "$T/edge.eml" alice@example.org bob@example.org "edge" edge edgecase
set --
i=1
while [ $i -le 50 ]; do
	mkmail "$T/m$i.eml" alice@example.org bob@example.org "many $i" text "n$i"
	set -- "$@" "$T/m$i.eml"
	i=$((i + 1))
done
send_curl a alice@example.org bob@example.org "$T/edge.eml"
check "50 messages pipelined in one session" send_pipelined a \
    alice@example.org bob@example.org "$@"
world_wait_mail bob 51 60
fetch_poplib b bob "$T/got-many"
# Postfix delivers in parallel, so the POP3 order need not be the sending
# order: compare the contents as a set of hashes.
for f in "$T"/got-many/*.eml; do strip_trace "$f" | sha256sum; done |
    cut -d' ' -f1 | sort >"$T/got.sums"
for f in "$T/edge.eml" "$T"/m*.eml; do sha256sum <"$f"; done |
    cut -d' ' -f1 | sort >"$T/sent.sums"
check "998-octet lines, lone and leading dots, 8-bit: byte-identical" \
    grep -q "$(sha256sum <"$T/edge.eml" | cut -d' ' -f1)" "$T/got.sums"
bad=$(comm -3 "$T/got.sums" "$T/sent.sums" | wc -l)
check "all 50 pipelined messages byte-identical, in any order ($bad differ)" \
    test "$bad" -eq 0

# --- A recipient without a key: the default policy sends it signed (the
# signature line travels in clear); "strict" gives the client a 5xx and
# nothing leaves.
mkmail "$T/c1.eml" alice@example.org carol@example.org "to carol" text carol1
check "no key, default policy: the mail is sent" \
    send_curl a alice@example.org carol@example.org "$T/c1.eml"
world_wait_mail carol 1
check "no key, default policy: delivered with a TCP2 signature line" \
    maildir_grep carol "TCP2-Signature: v=1; f=alice@example.org"
tcp2ctl_on a account add --addr alice@example.org --pop3 10.77.0.1:110 \
    --smtp 10.77.0.1:25 --user alice --policy strict >/dev/null
mkmail "$T/c2.eml" alice@example.org carol@example.org "strict $M1" text carol2
check "strict policy, no key: the client's send fails" \
    not send_curl a alice@example.org carol@example.org "$T/c2.eml"
world_wait_queue
check "strict policy, no key: nothing reached the server" \
    not maildir_grep carol "strict $M1"
check "strict policy: a peer with a key still gets mail" \
    send_curl a alice@example.org bob@example.org "$T/t1.eml"
world_wait_mail bob 1
fetch_curl b bob "$T/got-strict" >/dev/null 2>&1
check "  ...encrypted, byte-identical" same "$T/got-strict/0001.eml" "$T/t1.eml"

# --- IPv6: the same accounts, servers reached over IPv6.
tcp2ctl_on a account add --addr alice@example.org --pop3 "[fd77::1]:110" \
    --smtp "[fd77::1]:25" --user alice >/dev/null
tcp2ctl_on b account add --addr bob@example.org --pop3 "[fd77::1]:110" \
    --smtp "[fd77::1]:25" --user bob >/dev/null
mkmail "$T/v6.eml" alice@example.org bob@example.org "over v6 $M1" text v6
capture_start srv "$T/wire6.pcap"
WORLD_SERVER=fd77::1 send_curl a alice@example.org bob@example.org "$T/v6.eml"
world_wait_mail bob 1
capture_stop
WORLD_SERVER=fd77::1 fetch_curl b bob "$T/got-v6"
check "IPv6: byte-identical" same "$T/got-v6/0001.eml" "$T/v6.eml"
check "IPv6: no marker on the wire" not capture_grep $T/wire6.pcap $M1

# The operator's log: one line per session and decision, never a secret.
logs_clean() {
	! { tcp2d_log a; tcp2d_log b; } | LC_ALL=C grep -qF \
	    -e "$(world_pw alice)" -e "$(world_pw bob)" -e "$M1" -e "$M2" -e "$M3"
}
log_lines() {
	{ tcp2d_log a; tcp2d_log b; } | grep -c 'session\|received:\|sent:'
}
check "the daemons logged sessions and decisions ($(log_lines) lines)" \
    test "$(log_lines)" -gt 10
check "no password and no marker of subject, body or attachment in the logs" logs_clean
check "no sanitizer report from Alice's tcp2d" tcp2d_asan a
check "no sanitizer report from Bob's tcp2d" tcp2d_asan b
exit $fail
