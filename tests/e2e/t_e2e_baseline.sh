#!/bin/sh
# tests/e2e/t_e2e_baseline.sh - the end-to-end world WITHOUT tcp2d: proves
# that the world (tests/e2e/world.sh) comes up, that every send helper
# and every fetch helper moves a message byte-exactly (after strip_trace;
# s-nail: the body), over IPv4 and IPv6, singly, to several recipients,
# 50 in one smtplib session, pipelined and with BDAT; that the detectors
# capture_grep and maildir_grep find a marker that is there (also one
# split across two TCP segments) and do not find one that is not; and
# that world_down leaves nothing behind.  Later tests rely on exactly
# this when they assert that markers are NOT found while tcp2d encrypts.
#
# Prints "ok - ..." / "not ok - ..." lines for tests/run; exits 1 when a
# check failed.  Needs root (skips otherwise).  POSIX sh.
set -u
cd "$(dirname "$0")/../.." || exit 2

if [ "$(id -u)" -ne 0 ]; then
	echo "ok - # SKIP t_e2e_baseline: the e2e world needs root"
	exit 0
fi

. tests/e2e/world.sh

T=$(mktemp -d /tmp/tcp2-e2e-baseline.XXXXXX) || exit 2
trap 'world_down; rm -rf "$T"' EXIT
trap 'exit 1' INT TERM HUP

nfail=0
pass() { echo "ok - $1"; }
flunk() {
	echo "not ok - $1"
	nfail=$((nfail + 1))
	if [ -s "$T/out" ]; then sed 's/^/#   /' "$T/out" | head -15; fi
}
# check DESC CMD...: ok when CMD succeeds (its output is shown otherwise).
check() {
	_d=$1
	shift
	if "$@" >"$T/out" 2>&1; then pass "$_d"; else flunk "$_d"; fi
	: >"$T/out"
}
not() { ! "$@"; }
# delivered USER... : each USER has at least one message.
delivered() {
	for _u in "$@"; do world_wait_mail "$_u" 1 || return 1; done
}
rand() { od -An -tx1 -N8 /dev/urandom | tr -d ' \n'; }
RUN=$(rand)

# mkmsg FILE ID KIND FROM TO: write a test message with Message-ID
# <ID@example.org>.  KIND basic: short 7-bit text.  KIND hard: a 998-octet
# line, a lone ".", ".." and "..." lines, 8-bit UTF-8, trailing white
# space, a tab, a "From " line, empty lines, a folded header field.
# KIND body: like hard without the 998-octet line (what s-nail keeps).
mkmsg() {
	"$WORLD_PY" - "$@" <<'EOF'
import sys
path, mid, kind, frm, to = sys.argv[1:6]
h = [b"From: <%s>" % frm.encode(), b"To: <%s>" % to.encode(),
     b"Subject: tcp2 e2e %s %s" % (kind.encode(), mid.encode()),
     b"Date: Mon, 24 Nov 2025 05:00:00 +0000",
     b"Message-ID: <%s@example.org>" % mid.encode()]
if kind == "basic":
    body = [b"Hello,", b"", b"this is a plain message.", b"-- ", b"Alice"]
else:
    h += [b"MIME-Version: 1.0",
          b"Content-Type: text/plain; charset=utf-8",
          b"Content-Transfer-Encoding: 8bit",
          b"X-Folded: first part,", b"\tsecond part,", b"  third part"]
    body = [b"Dots and friends:", b".", b"..", b"...", b".start", b"",
            "Grüße, Ünïcödé – 日本語 ✓ €".encode(),
            b"trailing blanks  ", b"\tleading tab", b"From the mbox world",
            b"", b"", b"end"]
    if kind == "hard":
        body.insert(5, b"x" * 997 + b"y")
open(path, "wb").write(b"\r\n".join(h) + b"\r\n\r\n" + b"\r\n".join(body) + b"\r\n")
EOF
}
# body FILE: the message body (after the first empty line).
body() {
	"$WORLD_PY" -c 'import sys; d=open(sys.argv[1],"rb").read(); sys.stdout.buffer.write(d[d.index(b"\r\n\r\n")+4:])' "$1"
}
# find_msg DIR ID: the fetched file with Message-ID <ID@example.org>.
find_msg() {
	grep -l -F "<$2@example.org>" "$1"/*.eml 2>/dev/null | head -n 1
}
# same_msg DIR ID SENT: the fetched message ID is SENT after strip_trace.
same_msg() {
	_f=$(find_msg "$1" "$2")
	[ -n "$_f" ] || { echo "message $2 not in $1"; return 1; }
	strip_trace "$_f" >"$T/stripped"
	cmp "$T/stripped" "$3"
}
# same_body DIR SUBJECT-PART SENT: the fetched message whose header has
# SUBJECT-PART has the body of SENT.
same_body() {
	_f=$(grep -l -F "$2" "$1"/*.eml 2>/dev/null | head -n 1)
	[ -n "$_f" ] || { echo "no message with $2 in $1"; return 1; }
	body "$_f" >"$T/b1"
	body "$3" >"$T/b2"
	cmp "$T/b1" "$T/b2"
}
# count DIR N: DIR holds N fetched messages.
count() {
	_n=$(find "$1" -name '*.eml' 2>/dev/null | wc -l | tr -d ' ')
	[ "$_n" -eq "$2" ] || { echo "$1 holds $_n messages, want $2"; return 1; }
}
ehlo_check() {
	world_exec a "$WORLD_PY" - "$1" <<'EOF'
import smtplib, sys
s = smtplib.SMTP(sys.argv[1], 25, timeout=10)
code, msg = s.ehlo("check.example.org")
s.quit()
kw = [l.split()[0].upper() for l in msg.decode().splitlines()]
want, unwanted = ["PIPELINING", "CHUNKING", "8BITMIME"], ["STARTTLS", "SMTPUTF8"]
bad = [k for k in want if k not in kw] + [k for k in unwanted if k in kw]
if code != 250 or bad:
    sys.exit("EHLO %d %s: %s" % (code, kw, bad))
EOF
}

start=$(date +%s)

# --- the world comes up ----------------------------------------------
if world_up >"$T/out" 2>&1; then
	grep '^#' "$T/out"
	pass "world_up: namespaces t2srv/t2a/t2b/t2sw, Postfix and Dovecot answer on 10.77.0.1 and fd77::1 ($(($(date +%s) - start)) s)"
	: >"$T/out"
	start=$(date +%s)
else
	flunk "world_up"
	exit 1
fi
check "root namespace untouched (no world links there)" \
	sh -c '! ip -o link | grep -E " (vsrv|va|vb|br0)[@:]"'
check "EHLO offers PIPELINING, CHUNKING, 8BITMIME, no STARTTLS/SMTPUTF8 (IPv4)" \
	ehlo_check "$WORLD_SRV4"
check "EHLO the same over IPv6" ehlo_check "$WORLD_SRV6"

# --- IPv4: every sender x every fetcher, byte-exact ---------------------
for s in curl swaks smtplib; do
	for k in basic hard; do
		mkmsg "$T/v4-$s-$k.eml" "v4-$s-$k-$RUN" "$k" alice@example.org bob@example.org
		check "send_$s alice -> bob, $k message (IPv4)" \
			"send_$s" a alice@example.org bob@example.org "$T/v4-$s-$k.eml"
	done
done
check "all 6 delivered to bob's Maildir" world_wait_mail bob 6
FETCH_KEEP=1
check "fetch_curl bob (FETCH_KEEP=1)" fetch_curl b bob "$T/v4.curl"
check "fetch_poplib bob (FETCH_KEEP=1)" fetch_poplib b bob "$T/v4.poplib"
FETCH_KEEP=0
check "fetch_fetchmail bob" fetch_fetchmail b bob "$T/v4.fetchmail"
check "fetch_fetchmail deleted bob's messages" test "$(world_mail_count bob)" -eq 0
for f in curl poplib fetchmail; do
	check "fetch_$f got all 6" count "$T/v4.$f" 6
	for s in curl swaks smtplib; do
		for k in basic hard; do
			check "$k message sent by $s, fetched by $f: byte-identical after strip_trace" \
				same_msg "$T/v4.$f" "v4-$s-$k-$RUN" "$T/v4-$s-$k.eml"
		done
	done
done

# s-nail writes its own header: compare the body.
mkmsg "$T/v4-snail.eml" "v4-snail-$RUN" body alice@example.org bob@example.org
check "send_snail alice -> bob (IPv4)" \
	send_snail a alice@example.org bob@example.org "$T/v4-snail.eml"
check "s-nail message delivered" world_wait_mail bob 1
check "fetch_curl bob" fetch_curl b bob "$T/v4.snail"
check "s-nail message: body identical (dots, 8-bit UTF-8, blanks)" \
	same_body "$T/v4.snail" "v4-snail-$RUN" "$T/v4-snail.eml"

# several recipients in one envelope
mkmsg "$T/multi.eml" "multi-$RUN" hard alice@example.org bob@example.org
check "send_curl alice -> bob,carol in one envelope" \
	send_curl a alice@example.org bob@example.org,carol@example.org "$T/multi.eml"
check "delivered to bob and carol" \
	delivered bob carol
check "fetch_poplib bob" fetch_poplib b bob "$T/multi.bob"
check "fetch_poplib carol" fetch_poplib b carol "$T/multi.carol"
check "bob's copy byte-identical" same_msg "$T/multi.bob" "multi-$RUN" "$T/multi.eml"
check "carol's copy byte-identical" same_msg "$T/multi.carol" "multi-$RUN" "$T/multi.eml"

# --- many messages in one session -------------------------------------
many() { # many PREFIX N KIND: N message files, names printed
	_i=1
	while [ $_i -le "$2" ]; do
		_k=basic
		[ $((_i % 2)) -eq 0 ] && _k=hard
		mkmsg "$T/$1-$_i.eml" "$1-$_i-$RUN" $_k alice@example.org dave@example.org
		echo "$T/$1-$_i.eml"
		_i=$((_i + 1))
	done
}
all_same() { # all_same DIR PREFIX N
	_i=1
	while [ $_i -le "$3" ]; do
		same_msg "$1" "$2-$_i-$RUN" "$T/$2-$_i.eml" || return 1
		_i=$((_i + 1))
	done
}
# shellcheck disable=SC2046
check "send_smtplib_many: 50 messages in one smtplib session" \
	send_smtplib_many a alice@example.org dave@example.org $(many sl 50)
check "all 50 delivered" world_wait_mail dave 50 30
check "fetch_poplib dave" fetch_poplib b dave "$T/sl"
check "fetch_poplib got all 50" count "$T/sl" 50
check "all 50 byte-identical after strip_trace" all_same "$T/sl" sl 50
# shellcheck disable=SC2046
check "send_pipelined: 20 messages, PIPELINING (end of data + next envelope in one write)" \
	send_pipelined a alice@example.org dave@example.org $(many pl 20)
# shellcheck disable=SC2046
check "send_bdat: 20 messages, CHUNKING (BDAT n, BDAT m LAST, pipelined)" \
	send_bdat a alice@example.org dave@example.org $(many bd 20)
check "all 40 delivered" world_wait_mail dave 40 30
check "fetch_curl dave" fetch_curl b dave "$T/plbd"
check "pipelined messages byte-identical" all_same "$T/plbd" pl 20
check "BDAT messages byte-identical" all_same "$T/plbd" bd 20

# --- IPv6 ---------------------------------------------------------------
v6_before=$(grep -c 'rip=fd77::3' "$WORLD_DOVECOT_LOG" 2>/dev/null)
WORLD_SERVER=$WORLD_SRV6
for s in curl swaks smtplib; do
	mkmsg "$T/v6-$s.eml" "v6-$s-$RUN" hard alice@example.org erin@example.org
	check "send_$s alice -> erin over IPv6 (fd77::1)" \
		"send_$s" a alice@example.org erin@example.org "$T/v6-$s.eml"
done
mkmsg "$T/v6-snail.eml" "v6-snail-$RUN" body alice@example.org erin@example.org
check "send_snail alice -> erin over IPv6" \
	send_snail a alice@example.org erin@example.org "$T/v6-snail.eml"
check "all 4 delivered" world_wait_mail erin 4
check "Postfix saw them from fd77::2 (IPv6)" \
	test "$(grep -l -F '[IPv6:fd77::2]' "$WORLD_DIR"/mail/erin/new/* | wc -l)" -eq 4
FETCH_KEEP=1
check "fetch_curl erin over IPv6 (FETCH_KEEP=1)" fetch_curl b erin "$T/v6.curl"
check "fetch_poplib erin over IPv6 (FETCH_KEEP=1)" fetch_poplib b erin "$T/v6.poplib"
FETCH_KEEP=0
check "fetch_fetchmail erin over IPv6" fetch_fetchmail b erin "$T/v6.fetchmail"
check "Dovecot saw the fetches from fd77::3 (IPv6)" \
	test "$(grep -c 'rip=fd77::3' "$WORLD_DOVECOT_LOG")" -ge $((v6_before + 3))
for f in curl poplib fetchmail; do
	for s in curl swaks smtplib; do
		check "IPv6: sent by $s, fetched by $f: byte-identical after strip_trace" \
			same_msg "$T/v6.$f" "v6-$s-$RUN" "$T/v6-$s.eml"
	done
	check "IPv6: s-nail message fetched by $f: body identical" \
		same_body "$T/v6.$f" "v6-snail-$RUN" "$T/v6-snail.eml"
done
WORLD_SERVER=$WORLD_SRV4

# --- the detectors -------------------------------------------------------
MARK="tcp2-marker-$(rand)"
SPLIT="tcp2-split-$(rand)-marker"
ABSENT="tcp2-absent-$(rand)"
check "capture_start srv" capture_start srv "$T/wire.pcap"
mkmsg "$T/mark.eml" "mark-$RUN" basic alice@example.org bob@example.org
"$WORLD_PY" - "$T/mark.eml" "$MARK" <<'EOF'
import sys
p, m = sys.argv[1], sys.argv[2].encode()
d = open(p, "rb").read()
open(p, "wb").write(d.replace(b"this is a plain message.", b"marker " + m))
EOF
check "send_smtplib a marked message" \
	send_smtplib a alice@example.org bob@example.org "$T/mark.eml"
# The SPLIT marker goes out in two TCP segments: first half, 200 ms
# pause (TCP_NODELAY), second half.
check "send a message whose marker is split across two TCP segments" \
	world_exec a "$WORLD_PY" - "$WORLD_SRV4" "$SPLIT" <<'EOF'
import socket, sys, time
s = socket.create_connection((sys.argv[1], 25), 10)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
f = s.makefile("rb")
def reply(want):
    while True:
        l = f.readline()
        if l[3:4] != b"-":
            break
    if not l.startswith(want):
        sys.exit("got %r" % l)
reply(b"220")
for cmd, want in ((b"EHLO a.example.org", b"250"), (b"MAIL FROM:<alice@example.org>", b"250"),
                  (b"RCPT TO:<carol@example.org>", b"250"), (b"DATA", b"354")):
    s.sendall(cmd + b"\r\n")
    reply(want)
m = sys.argv[2].encode()
half = len(m) // 2
s.sendall(b"From: <alice@example.org>\r\nTo: <carol@example.org>\r\nSubject: split\r\n\r\nsplit " + m[:half])
time.sleep(0.2)
s.sendall(m[half:] + b"\r\n.\r\n")
reply(b"250")
s.sendall(b"QUIT\r\n")
reply(b"221")
EOF
check "marked messages delivered" \
	delivered bob carol
check "maildir_grep finds the marker in bob's Maildir" maildir_grep bob "$MARK"
check "maildir_grep finds the split marker in carol's Maildir" maildir_grep carol "$SPLIT"
check "maildir_grep does not find an absent string" \
	not maildir_grep bob "$ABSENT"
check "fetch_poplib bob (marker goes over POP3)" fetch_poplib b bob "$T/mark"
check "capture_stop" capture_stop
check "capture_grep finds the marker" capture_grep "$T/wire.pcap" "$MARK"
check "capture_grep finds it in the SMTP stream (port 25)" \
	capture_grep "$T/wire.pcap" "$MARK" 25
check "capture_grep finds it in the POP3 stream (port 110)" \
	capture_grep "$T/wire.pcap" "$MARK" 110
check "capture_grep finds the marker split across two segments" \
	capture_grep "$T/wire.pcap" "$SPLIT" 25
check "(the split marker is in no single frame)" \
	test "$(tshark -r "$T/wire.pcap" -Y "frame contains \"$SPLIT\"" 2>/dev/null | wc -l)" -eq 0
check "capture_grep does not find an absent string" \
	not capture_grep "$T/wire.pcap" "$ABSENT"

# --- world_down (keeping the lock so that no other test's world_up runs
# while we look; the exit trap's world_down releases it) -------------------
world_down keep-lock
check "world_down leaves no namespace" \
	sh -c '! ip netns list | grep -E "^t2(srv|a|b|sw)\b"'
check "world_down removes the world dir and /etc/netns/t2*" \
	sh -c "! ls -d '$WORLD_DIR' /etc/netns/t2* 2>/dev/null"
check "world_down leaves /etc/postfix/main.cf as it was before" \
	sh -c '! grep -q "^# tcp2-e2e" /etc/postfix/main.cf 2>/dev/null && ! ls /etc/postfix/*.pre-tcp2-e2e 2>/dev/null'
# shellcheck disable=SC2016
check "no Postfix or Dovecot of the world still runs" \
	sh -c '! ps -eo args | grep -E "^(/usr/lib/postfix/sbin/master|/usr/sbin/dovecot -c $1)" ' sh "$WORLD_DIR/dovecot/dovecot.conf"

echo "# t_e2e_baseline: $(($(date +%s) - start)) s"
[ "$nfail" -eq 0 ]
