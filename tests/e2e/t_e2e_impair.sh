#!/bin/sh
# t_e2e_impair.sh - tcp2d under a bad network: 3 % random loss in both
# directions and reordering (tests/e2e/reorder.c, an NFQUEUE helper) on
# the server host, and a 1280-octet MTU on every host.  200 encrypted
# mails from Alice to Bob (1-50 KB, four of about 1 MB) over IPv4 and
# IPv6 at once, by several smtplib sessions and curl; Bob fetches them
# all with curl (leaving them on the server) and again with poplib.
# Judged by content: the SHA-256 of every message (after the server's
# trace fields) at Bob equals the original's; no marker reaches the
# server's Maildir; the impairments provably acted (drop counters,
# overtaken packets, retransmissions in tcp2ctl flows).
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/world.sh
. tests/e2e/tcp2d.sh

T=$(mktemp -d /var/tmp/tcp2-impair.XXXXXX)
. tests/e2e/check.sh
start() { tcp2d_start "$@"; }
REORDER_PID=
SAMPLER_PID=
cleanup() {
	[ -n "$SAMPLER_PID" ] && kill "$SAMPLER_PID" 2>/dev/null
	[ -n "$REORDER_PID" ] && kill "$REORDER_PID" 2>/dev/null
	tcp2d_stop a; tcp2d_stop b
	# On failure: the daemons' complaints, and what it takes to look
	# into it afterwards (the wire at the server, the flows as sampled,
	# the daemons' logs).
	if [ "$fail" -ne 0 ]; then
		for h in a b; do
			tcp2d_log_tail "$h" 20 ' opened to \| closed: \|: sent: \|: received: '
		done
		_keep=${TCP2_BUILD:-build/san}/test-logs/t_e2e_impair.keep
		rm -rf "$_keep" && mkdir -p "$_keep" &&
			cp "$T"/*.pcap "$T"/flows.log "$T"/reorder.out "$_keep"/ 2>/dev/null
		for h in a b; do tcp2d_log "$h" >"$_keep/tcp2d-$h.log"; done
		echo "# kept for a post-mortem: $_keep"
	fi
	world_down
	# Last, for the test runner shows a log's tail: why sending failed,
	# and where stalled connections stood.
	if [ "$fail" -ne 0 ]; then
		for _j in 1 2 3 4 5; do
			[ -e "$T/job$_j" ] && [ "$(cat "$T/job$_j")" != 0 ] || continue
			echo "# sending job $_j ($(cat "$T/job$_j")):"
			grep -v '^ *File \|^ *\^*$' "$T/job$_j.err" 2>/dev/null |
				tail -n 4 | sed 's/^/#   /'
		done
		cat "$T/stalls" 2>/dev/null
	fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

M=$TCP2_BIN/tcp2-mail
MARK=imp$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
N=200
start=$(date +%s)

# --- The 200 mails: CRLF, unique, mostly 1-50 KB, four of ~1 MB; each
# carries the marker in its subject and body.
mkdir -p "$T/out"
"$WORLD_PY" - "$T/out" "$N" "$MARK" <<'PY' || exit 2
import os, random, sys, email.utils
d, n, mark = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rnd = random.Random(os.urandom(8))
big = {23, 77, 131, 177}
for i in range(1, n + 1):
    size = 1024 * 1024 if i in big else rnd.randint(1024, 50 * 1024)
    h = ("From: alice@example.org\r\nTo: bob@example.org\r\n"
         "Subject: impair %d %s\r\nDate: %s\r\nMessage-ID: <imp%d.%s@example.org>\r\n"
         "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
         "Content-Transfer-Encoding: 8bit\r\n\r\n"
         % (i, mark, email.utils.formatdate(), i, os.urandom(6).hex())).encode()
    body = [b"Dear Bob, message %d, %s\r\n" % (i, mark.encode()),
            b".\r\n", b"..two dots\r\n", "\u00e9t\u00e9 \u20ac\r\n".encode()]
    total = len(h) + sum(map(len, body))
    while total < size:
        line = os.urandom(rnd.randint(10, 60)).hex().encode()
        if rnd.random() < 0.02:
            line = b"." + line
        body.append(line + b"\r\n")
        total += len(line) + 2
    body.append(b"end %d\r\n" % i)
    with open("%s/%03d.eml" % (d, i), "wb") as f:
        f.write(h + b"".join(body))
PY
(cd "$T/out" && sha256sum ./*.eml) | sed 's| \./| |' >"$T/orig.sums"

check "world up" world_up

# --- Keys before the daemons start (as tcp2-mail: faster than by mail).
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

# One name for the server's IPv4 and IPv6 address, so that each account
# captures both (the hosts file is the one "ip netns exec" mounts).
for h in t2a t2b; do
	printf '%s mailboth.example.org\n%s mailboth.example.org\n' \
	    "$WORLD_SRV4" "$WORLD_SRV6" >>"/etc/netns/$h/hosts"
done
check "tcp2d starts on Alice's host" start a
check "tcp2d starts on Bob's host" start b
tcp2ctl_on a account add --addr alice@example.org --pop3 mailboth.example.org:110 \
    --smtp mailboth.example.org:25 --user alice >/dev/null
tcp2ctl_on b account add --addr bob@example.org --pop3 mailboth.example.org:110 \
    --smtp mailboth.example.org:25 --user bob >/dev/null
captures() { # captures HOST PORT: HOST's daemon has v4 and v6 rules for PORT
	world_exec "$1" iptables -S TCP2_OUT | grep -q -- "-d $WORLD_SRV4/32 .*--dport $2 " &&
	world_exec "$1" ip6tables -S TCP2_OUT | grep -q -- "-d $WORLD_SRV6/128 .*--dport $2 "
}
check "Alice's daemon captures SMTP over IPv4 and IPv6" captures a 25
check "Bob's daemon captures POP3 over IPv4 and IPv6" captures b 110
check "Alice's peer Bob is established" tcp2d_wait_peer a bob@example.org established 5

# --- Impairments: MTU, loss, reordering.
for h in a b srv; do
	world_exec "$h" ip link set dev eth0 mtu 1280
done
# tests/e2e/reorder.c, built by "make test-build" next to the unit tests.
REORDER=${TCP2_BUILD:-build/san}/tests/reorder
check "reorder helper is built ($REORDER)" test -x "$REORDER"
# (ip netns exec execs the helper: $! is its pid, for the SIGTERM below)
ip netns exec "$(world_ns srv)" "$REORDER" -q 42 -p 10 -d 2 -D 8 -m 64 -r "$T/reorder.ready" \
    >"$T/reorder.out" 2>&1 &
REORDER_PID=$!
i=0
while [ ! -e "$T/reorder.ready" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
check "reorder helper runs on queue 42" test -e "$T/reorder.ready"
impair() {
	for ipt in iptables ip6tables; do
		world_exec srv $ipt -A INPUT -p tcp -m multiport --dports 25,110 \
		    -m statistic --mode random --probability 0.03 -j DROP &&
		world_exec srv $ipt -A INPUT -p tcp -m multiport --dports 25,110 \
		    -j NFQUEUE --queue-num 42 --queue-bypass &&
		world_exec srv $ipt -A OUTPUT -p tcp -m multiport --sports 25,110 \
		    -m statistic --mode random --probability 0.03 -j DROP &&
		world_exec srv $ipt -A OUTPUT -p tcp -m multiport --sports 25,110 \
		    -j NFQUEUE --queue-num 42 --queue-bypass || return 1
	done
}
check "loss and reordering rules installed on the server host" impair

# tcp2ctl flows, sampled once a second: flows are forgotten a while after
# they close, so the retransmission counters are collected as they go.
(
	while :; do
		for h in a b; do
			tcp2ctl_on $h --json flows 2>/dev/null | sed "s/^/$h /"
		done
		sleep 1
	done
) >"$T/flows.log" 2>/dev/null &
SAMPLER_PID=$!

# --- Sending: 5 jobs at once, IPv4 and IPv6, smtplib sessions and curl.
f() { # f FIRST LAST: the mail files FIRST..LAST
	_i=$1
	while [ "$_i" -le "$2" ]; do printf '%s/out/%03d.eml\n' "$T" "$_i"; _i=$((_i + 1)); done
}
curl_loop() { # curl_loop SERVER FIRST LAST: one curl per mail
	_cl_bad=0
	for _cl_f in $(f "$2" "$3"); do
		send_curl a alice@example.org bob@example.org "$_cl_f" "$1" ||
			{ echo "# curl failed for $_cl_f" >&2; _cl_bad=$((_cl_bad + 1)); }
	done
	return $_cl_bad
}
# The wire at the server, for the whole exchange (dumpcap sees incoming
# packets before the loss rules drop them).
check "capture at the server starts" capture_start srv "$T/wire.pcap"
sent0=$(date +%s)
# (each job's complaints go to $T/jobN.err, shown at the end on failure)
# shellcheck disable=SC2046
(send_smtplib_many a alice@example.org bob@example.org $(f 1 50) 2>"$T/job1.err"
    echo $? >"$T/job1") &
# shellcheck disable=SC2046
(WORLD_SERVER=$WORLD_SRV6 send_smtplib_many a alice@example.org bob@example.org \
    $(f 51 100) 2>"$T/job2.err"; echo $? >"$T/job2") &
# shellcheck disable=SC2046
(send_smtplib_many a alice@example.org bob@example.org $(f 101 130) 2>"$T/job3.err"
    echo $? >"$T/job3") &
(curl_loop "$WORLD_SRV4" 131 170 2>"$T/job4.err"; echo $? >"$T/job4") &
(curl_loop "$WORLD_SRV6" 171 200 2>"$T/job5.err"; echo $? >"$T/job5") &
wait_jobs() { # at most 330 s: a stalled job counts as failed
	for j in 1 2 3 4 5; do
		while [ ! -e "$T/job$j" ]; do
			if [ $(($(date +%s) - sent0)) -gt 330 ]; then
				echo "# sending job $j still running after 330 s" >&2
				echo stalled >"$T/job$j"
				break
			fi
			sleep 0.2
		done
	done
}
wait_jobs
sent1=$(date +%s)
bad=0
for j in 1 2 3 4 5; do [ "$(cat "$T/job$j")" = 0 ] || bad=$((bad + 1)); done
check "all 5 sending jobs report success ($bad failed; $((sent1 - sent0)) s)" test $bad -eq 0
# flows_scan HOST WHAT: the flows of HOST's daemon as sampled.  WHAT
# retrans: the sum over flows of the largest retransmission counter;
# stalls: each flow that went 10 s or more without a packet while open,
# as last sampled (where its splice engine stood).
flows_scan() {
	"$WORLD_PY" - "$T/flows.log" "$1" "$2" <<'PY'
import json, sys
best, last = {}, {}
for line in open(sys.argv[1]):
    host, _, js = line.partition(" ")
    if host != sys.argv[2]:
        continue
    try:
        flows = json.loads(js).get("flows", [])
    except ValueError:
        continue
    for f in flows:
        k = (f.get("client"), f.get("server"))
        best[k] = max(best.get(k, 0), f.get("retransmissions", 0))
        if f.get("state") == "open" and f.get("idle", 0) >= 10:
            last[k] = f
if sys.argv[3] == "retrans":
    print(sum(best.values()))
else:
    for f in last.values():
        print("# stalled: " + " ".join("%s=%s" % kv for kv in sorted(f.items())
                                       if kv[0] not in ("account", "proto")))
PY
}
[ $bad -eq 0 ] || { flows_scan a stalls; flows_scan b stalls; } >"$T/stalls"
world_wait_mail bob $N 120
world_wait_queue 60
check "the server stored $N mails for Bob (has $(world_mail_count bob))" \
    test "$(world_mail_count bob)" -eq $N
check "no marker in the server's Maildir" not maildir_grep bob "$MARK"
check "no readable body line in the server's Maildir" not maildir_grep bob "Dear Bob, message"

# --- Fetching: curl over IPv6 leaving the mail, then poplib over IPv4
# deleting it.
f0=$(date +%s)
# bounded FUNC ARGS...: a world.sh function, stopped after 240 s (a stall
# must fail the test, not hang it)
bounded() {
	timeout 240 sh -c '. tests/e2e/world.sh; "$@"' _ "$@"
}
check "curl (POP3 over IPv6) fetches at Bob" \
    env FETCH_KEEP=1 timeout 240 sh -c ". tests/e2e/world.sh; fetch_curl b bob '$T/got-curl' '$WORLD_SRV6'"
f1=$(date +%s)
check "poplib (POP3 over IPv4) fetches at Bob" bounded fetch_poplib b bob "$T/got-poplib"
f2=$(date +%s)
echo "# send $((sent1 - sent0)) s, curl fetch $((f1 - f0)) s, poplib fetch $((f2 - f1)) s"

# judge DIR: every fetched message, after the trace fields, is one of the
# originals, and every original is there exactly once.
judge() {
	: >"$T/$1.sums"
	for _j in "$T/$1"/*.eml; do
		[ -e "$_j" ] || continue
		strip_trace "$_j" | sha256sum | sed "s|-\$|$(basename "$_j")|" >>"$T/$1.sums"
	done
	"$WORLD_PY" - "$T/orig.sums" "$T/$1.sums" "$1" <<'PY'
import collections, sys
orig = dict(l.split()[::-1] for l in open(sys.argv[1]))        # name -> hash
got = [l.split() for l in open(sys.argv[2])]                    # hash, file
want = collections.Counter(orig.values())
have = collections.Counter(h for h, _ in got)
bad = [f for h, f in got if h not in want]
missing = [n for n, h in orig.items() if h not in have]
dup = [h for h, c in have.items() if c > 1]
print("# %s: %d fetched, %d originals, %d not matching any original, "
      "%d originals missing, %d duplicated" % (sys.argv[3], len(got), len(orig),
      len(bad), len(missing), len(dup)))
for f in bad[:5]:
    print("#   %s matches no original" % f)
for n in missing[:5]:
    print("#   %s missing" % n)
sys.exit(0 if not bad and not missing and not dup else 1)
PY
}
check "curl: all $N mails byte-identical at Bob (SHA-256 after trace fields)" judge got-curl
check "poplib: all $N mails byte-identical at Bob (SHA-256 after trace fields)" judge got-poplib
check "Bob's mailbox is empty after poplib's DELE" test "$(world_mail_count bob)" -eq 0

capture_stop
g0=$(date +%s)
check "no marker on the wire (SMTP and POP3, capture at the server)" \
    not capture_grep "$T/wire.pcap" "$MARK"
check "  ... where the capture does hold the TCP2 messages" \
    env LC_ALL=C grep -qaF "application/x-tcp2-message" "$T/wire.pcap"
echo "# capture: $(wc -c <"$T/wire.pcap") octets, searched in $(($(date +%s) - g0)) s"

# --- The impairments acted.
kill "$SAMPLER_PID" 2>/dev/null
SAMPLER_PID=
drops() { # drops CHAIN: packets dropped by the statistic rules, v4 + v6
	_dr=0
	for ipt in iptables ip6tables; do
		_n=$(world_exec srv $ipt -L "$1" -v -x -n | awk '$3 == "DROP" { s += $1 } END { print s + 0 }')
		_dr=$((_dr + _n))
	done
	echo $_dr
}
din=$(drops INPUT)
dout=$(drops OUTPUT)
check "loss toward the server happened ($din packets dropped)" test "$din" -gt 0
check "loss from the server happened ($dout packets dropped)" test "$dout" -gt 0
kill "$REORDER_PID" 2>/dev/null
wait "$REORDER_PID" 2>/dev/null
REORDER_PID=
echo "# reorder: $(cat "$T/reorder.out")"
ovt=$(sed -n 's/.*overtaken \([0-9]*\).*/\1/p' "$T/reorder.out")
check "reordering happened (${ovt:-?} packets overtaken)" test "${ovt:-0}" -gt 0
ra=$(flows_scan a retrans)
rb=$(flows_scan b retrans)
la=$(tcp2d_log a | sed -n 's/.* \([0-9]*\) retransmissions$/\1/p' | awk '{ s += $1 } END { print s + 0 }')
lb=$(tcp2d_log b | sed -n 's/.* \([0-9]*\) retransmissions$/\1/p' | awk '{ s += $1 } END { print s + 0 }')
echo "# retransmissions from the daemons' caches: Alice $ra (log: $la), Bob $rb (log: $lb)"
check "tcp2ctl flows at Alice show retransmissions ($ra)" test "$ra" -gt 0
check "tcp2ctl flows at Bob show retransmissions ($rb)" test "$rb" -gt 0

for h in a b; do
	st=$(tcp2ctl_on $h status)
	ab=$(printf '%s\n' "$st" | sed -n 's/^aborts: //p')
	ov=$(printf '%s\n' "$st" | sed -n 's/^queue_overruns: //p')
	echo "# $h: $(printf '%s\n' "$st" | grep -E '^(flows_total|packets|dropped|resets|aborts|queue_overruns):' | tr '\n' ' ')"
	check "tcp2d on $h: no aborted session (aborts: $ab)" test "$ab" = 0
	check "tcp2d on $h: no queue overrun ($ov)" test "$ov" = 0
done
tcp2d_stop a
tcp2d_stop b
check "no sanitizer report from Alice's tcp2d" tcp2d_asan a
check "no sanitizer report from Bob's tcp2d" tcp2d_asan b
echo "# runtime $(($(date +%s) - start)) s"
exit $fail
