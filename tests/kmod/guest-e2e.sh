# tests/kmod/guest-e2e.sh - sourced by tests/kmod/guest.sh inside the QEMU
# guest, tcp2.ko loaded: the core scenario of tests/e2e/t_e2e_live.sh with
# tcp2d --backend kmod (registration, key exchange, an encrypted mail A->B
# byte-identical at Bob, nothing in clear on the wire or in the server's
# Maildir), tcp2d's own connections (TCP2_MARK_OWN) not captured either
# way, then rmmod while a mail is being sent and tcp2d is stopped with
# packets waiting in its queue (tcp2d keeps running), and insmod again
# (tcp2d fills the new table).  Uses check/ok/nok, $K, $KO, $FB.

TCP2_BUILD=$FB
TCP2_BIN=$TOP/$FB/bin
export TCP2_BUILD
. tests/e2e/world.sh
. tests/e2e/tcp2d.sh
T=$(mktemp -d /var/tmp/tcp2-kmod-e2e.XXXXXX)

# mkmail FILE FROM TO SUBJECT KIND [EXTRA]: a CRLF message; KIND text,
# big (about 1 MB attachment) or reg/keyx (the fixed forms).
mkmail() {
	python3 - "$@" <<'PY'
import sys, os, email.utils
path, frm, to, subj, kind = sys.argv[1:6]
extra = sys.argv[6] if len(sys.argv) > 6 else ""
h = ("From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%s@example.org>\r\n"
     % (frm, to, subj, email.utils.formatdate(), os.urandom(8).hex()))
if kind == "text":
    m = (h + "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
         "Content-Transfer-Encoding: 8bit\r\n\r\nHello %s\r\n.\r\n..dots\r\n" % extra).encode()
elif kind == "big":
    line = ("attachment line %s " % extra).encode()
    att = (line * 4 + b"\r\n") * (int(os.environ.get("BIG", 1 << 20)) // (len(line) * 4 + 2))
    m = (h + "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
         "--b1\r\nContent-Type: text/plain\r\n\r\nBody %s\r\n"
         "--b1\r\nContent-Type: text/plain; name=\"a.txt\"\r\n"
         "Content-Disposition: attachment; filename=\"a.txt\"\r\n\r\n" % extra).encode() + att + b"--b1--\r\n"
else:
    m = (h + "\r\nplease\r\n").encode()
open(path, "wb").write(m)
PY
}
same() {
	strip_trace "$1" >"$1.stripped" && cmp -s "$1.stripped" "$2"
}
# ep_bytes HOST ADDR PORT: bytes_out of that endpoint in HOST's table
ep_bytes() {
	world_exec "$1" "$K" list | sed -n "s/^inet $2 $3 .* bytes_out=\([0-9]*\) .*/\1/p"
}

check "e2e world up in the guest" world_up
check "tcp2d --backend kmod starts on Alice's host" tcp2d_start a --backend kmod
check "tcp2d --backend kmod starts on Bob's host" tcp2d_start b --backend kmod
check "Alice's tcp2d armed nothing yet: her table is empty" \
    test "$(world_exec a "$K" list | wc -l)" -eq 0
check "  ...and tcp2d set its queue number in her namespace" \
    sh -c "ip netns exec t2a $K getconfig | grep -q queue=7"

for u in alice:a bob:b; do
	name=${u%:*} h=${u#*:}
	tcp2ctl_on "$h" register >/dev/null
	world_exec "$h" "$K" list | sed "s/^/# $h: /"
	fetch_curl "$h" "$name" "$T/reg-$name-fetch" >/dev/null 2>&1
	mkmail "$T/reg-$name.eml" "$name@example.org" "$name@example.org" \
	    "TCP2 registration" reg
	send_curl "$h" "$name@example.org" "$name@example.org" "$T/reg-$name.eml"
	check "registration of $name through tcp2.ko completes" \
	    tcp2d_wait_account "$h" "$name@example.org" 60
done
world_exec a "$K" list | sed 's/^/# a: /'
check "Alice's registered servers are in tcp2.ko" \
    sh -c "ip netns exec t2a $K list | grep -q '^inet 10.77.0.1 25 smtp alice@example.org'"
world_wait_queue
FETCH_KEEP=0 fetch_curl a alice "$T/drain-a" >/dev/null 2>&1
FETCH_KEEP=0 fetch_curl b bob "$T/drain-b" >/dev/null 2>&1

mkmail "$T/kx1.eml" alice@example.org bob@example.org "TCP2 key exchange" keyx
send_curl a alice@example.org bob@example.org "$T/kx1.eml"
world_wait_mail bob 1
fetch_curl b bob "$T/kx1-got" >/dev/null 2>&1
check "Bob's key state: established with Alice" \
    tcp2d_wait_peer b alice@example.org established 30
mkmail "$T/kx2.eml" bob@example.org alice@example.org "TCP2 key exchange" keyx
send_curl b bob@example.org alice@example.org "$T/kx2.eml"
world_wait_mail alice 1
fetch_curl a alice "$T/kx2-got" >/dev/null 2>&1
check "Alice's key state: established with Bob" \
    tcp2d_wait_peer a bob@example.org established 30

M1=subj$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
M2=body$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
M3=att$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
mkmail "$T/big.eml" alice@example.org bob@example.org "Secret $M1" big "$M2 $M3"
capture_start srv "$T/wire.pcap"
check "curl sends a 1 MB mail through tcp2d and tcp2.ko" \
    send_curl a alice@example.org bob@example.org "$T/big.eml"
world_wait_mail bob 1
capture_stop
check "server Maildir has no subject marker" not maildir_grep bob "$M1"
check "server Maildir has no body marker" not maildir_grep bob "$M2"
check "server Maildir has no attachment marker" not maildir_grep bob "$M3"
check "the stored mail is a TCP2 message" maildir_grep bob "application/x-tcp2-message"
check "the wire has no subject marker" not capture_grep "$T/wire.pcap" "$M1"
check "the wire has no body marker" not capture_grep "$T/wire.pcap" "$M2"
check "the wire has no attachment marker" not capture_grep "$T/wire.pcap" "$M3"
fetch_curl b bob "$T/got-big"
check "Bob's client gets the mail byte-identical" same "$T/got-big/0001.eml" "$T/big.eml"
world_exec a "$K" list | sed 's/^/# a: /'
world_exec a "$K" stats | sed 's/^/# a: /'
check "tcp2.ko counted Alice's SMTP bytes" \
    test "$(ep_bytes a 10.77.0.1 25)" -gt 1000000

# --- tcp2d's own connections: a socket marked TCP2_MARK_OWN (as the
# re-delivery of held mail is) marks its conntrack entry, so that neither
# direction is captured: with tcp2d stopped it still gets the greeting.
# Unmarked, or marked TCP2_MARK (injected segments: skipped going out,
# never marking the connection), the replies wait in the stopped queue.
GREET='
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, 36, int(sys.argv[1], 0))  # SO_MARK
s.settimeout(5)
try:
    s.connect(("10.77.0.1", 25))
    sys.exit(0 if s.recv(4) == b"220 " else 1)
except OSError:
    sys.exit(1)
'
own0=$(world_exec a "$K" stats | tr ' ' '\n' | sed -n 's/^skipped_own=//p')
kill -STOP "$(cat "$WORLD_DIR/tcp2-t2a/pid")"
check "tcp2d stopped: a connection marked TCP2_MARK_OWN gets the greeting" \
    world_exec a python3 -c "$GREET" 0x7c330000
check "  ...an unmarked one gets nothing (captured, fail-closed)" \
    not world_exec a python3 -c "$GREET" 0
check "  ...nor one marked TCP2_MARK (its replies are captured)" \
    not world_exec a python3 -c "$GREET" 0x7c320000
kill -CONT "$(cat "$WORLD_DIR/tcp2-t2a/pid")"
world_exec a "$K" stats | sed 's/^/# a: /'
check "tcp2.ko counted the own connection's packets both ways" \
    test "$(world_exec a "$K" stats | tr ' ' '\n' |
    sed -n 's/^skipped_own=//p')" -ge $((own0 + 4))

# --- rmmod under load: a mail on its way, tcp2d stopped so that packets
# wait in its queue, then the module goes.
BIG=4000000 mkmail "$T/load.eml" alice@example.org bob@example.org "load" big load
b0=$(ep_bytes a 10.77.0.1 25)
send_curl a alice@example.org bob@example.org "$T/load.eml" >/dev/null 2>&1 &
SPID=$!
i=0
while [ "$(ep_bytes a 10.77.0.1 25)" -lt $((b0 + 300000)) ] && [ $i -lt 300 ]; do
	sleep 0.1
	i=$((i + 1))
done
check "a mail is being sent when rmmod comes" test "$(ep_bytes a 10.77.0.1 25)" -ge $((b0 + 300000))
kill -STOP "$(cat "$WORLD_DIR/tcp2-t2a/pid")"
sleep 1
echo "# queue of Alice's namespace before rmmod:"
ip netns exec t2a cat /proc/net/netfilter/nfnetlink_queue | sed 's/^/#   /'
check "rmmod tcp2 with traffic flowing and packets queued" rmmod tcp2
kill -CONT "$(cat "$WORLD_DIR/tcp2-t2a/pid")"
i=0
while kill -0 "$SPID" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.2; i=$((i + 1)); done
kill "$SPID" 2>/dev/null
wait "$SPID" 2>/dev/null
check "tcp2d on Alice's host survived the module going" \
    kill -0 "$(cat "$WORLD_DIR/tcp2-t2a/pid")"
# log_has HOST TEXT [SECONDS]: tcp2d's log of HOST says TEXT, in time
log_has() {
	_i=0
	until tcp2d_log "$1" | grep -q "$2"; do
		[ $_i -ge $((${3:-10} * 10)) ] && return 1
		sleep 0.1
		_i=$((_i + 1))
	done
}
check "  ...and said the module went" log_has a "tcp2.ko is gone"
check "insmod again with tcp2d running" insmod "$KO"
check "  ...tcp2d said the module is back" log_has a "tcp2.ko is back" 10
# tab_has HOST: HOST's table has its account's SMTP server again
tab_has() {
	_i=0
	until world_exec "$1" "$K" list | grep -q "^inet 10.77.0.1 25 smtp"; do
		[ $_i -ge 100 ] && return 1
		sleep 0.1
		_i=$((_i + 1))
	done
}
check "  ...and filled the new module's table in Alice's namespace" tab_has a
check "  ...and Bob's in his" tab_has b
world_exec a "$K" list | sed 's/^/# a: /'
tcp2d_stop a
tcp2d_stop b
if [ "$fail" -ne 0 ]; then
	for h in a b; do tcp2d_log_tail "$h" 30; done
fi
world_down
rm -rf "$T"
