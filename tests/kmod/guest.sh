#!/bin/sh
# tests/kmod/guest.sh - the tests of tcp2.ko, run as root inside the QEMU
# guest (tests/kmod/t_kmod.sh boots it; the host's filesystem is the
# guest's, read-only under a tmpfs overlay).  Arguments: the source tree,
# tcp2.ko, the build directory of tcp2d/tcp2ctl/tcp2kctl.
#
# Parts: the genetlink API (add/list/remove, bad attributes, non-admin),
# port search events, fail-closed capture, the core e2e scenario with
# tcp2d --backend kmod, and rmmod under load with packets queued.
set -u
TOP=$1 KO=$2 FB=$3
cd "$TOP" || exit 2
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
K=$TOP/$FB/tests/tcp2kctl
fail=0
ok() { echo "ok - $*"; }
nok() { echo "not ok - $*"; fail=1; }
check() { _d=$1; shift; if "$@"; then ok "$_d"; else nok "$_d"; fi; }
not() { ! "$@"; }
# kc EXPECTED ARGS...: tcp2kctl's output contains EXPECTED
kc() { _e=$1; shift; "$K" "$@" 2>&1 | tee /tmp/kc.out | grep -q -- "$_e"; }
stat_of() { "$K" stats | tr ' ' '\n' | sed -n "s/^$1=//p"; }

echo "# guest kernel $(uname -r), $(nproc) CPUs"
busybox modprobe nfnetlink_queue || nok "modprobe nfnetlink_queue"
# tcp2.ko needs nf_conntrack (insmod does not load what a module needs);
# that needs libcrc32c, whose softdep crc32c busybox does not follow.
busybox modprobe crc32c_generic || nok "modprobe crc32c_generic"
busybox modprobe nf_conntrack || nok "modprobe nf_conntrack"
busybox modprobe veth || nok "modprobe veth"
busybox modprobe bridge || nok "modprobe bridge"
sysctl -qw kernel.panic_on_warn=0

# --- Load
check "insmod tcp2.ko" insmod "$KO"
check "genetlink family tcp2 answers" kc endpoints=0 stats
check "default config: queue 0, search on, ports 25,587,110,2525" \
    kc "queue=0 options=0x2 mss=1200 ports=25,587,110,2525" getconfig

# --- Endpoints
check "add an IPv4 SMTP endpoint" "$K" add inet 10.9.0.1 25 smtp alice@example.org
check "adding it again: EEXIST" kc EEXIST add inet 10.9.0.1 25 smtp alice@example.org
check "NLM_F_REPLACE (ambiguous in genetlink) is refused" kc EINVAL bad nlm-replace
check "add an IPv6 POP3 endpoint" "$K" add inet6 fd09::1 110 pop3 bob@example.org
check "add a wildcard" "$K" add inet any 587 smtp
"$K" list >/tmp/list
sed 's/^/# /' /tmp/list
check "list shows 3 endpoints" test "$(wc -l </tmp/list)" -eq 3
check "list: the IPv4 one with its account" grep -q "^inet 10.9.0.1 25 smtp alice@example.org out=0" /tmp/list
check "list: the IPv6 one" grep -q "^inet6 fd09::1 110 pop3 bob@example.org" /tmp/list
check "list: the wildcard" grep -q "^inet any 587 smtp" /tmp/list
check "remove one" "$K" del inet 10.9.0.1 25
check "removing it again: ENOENT" kc ENOENT del inet 10.9.0.1 25
check "remove the wildcard" "$K" del inet any 587
check "list shows 1 endpoint" test "$("$K" list | wc -l)" -eq 1
check "flush" "$K" flush
check "list is empty" test "$("$K" list | wc -l)" -eq 0
check "the table is bounded: endpoint 1025 is refused with ENOSPC" \
    kc "added 1024" fill 1030
check "  ...with ENOSPC" grep -q ENOSPC /tmp/kc.out
"$K" flush

for c in unknown-attr reply-attr addr-len addr-v6-for-v4 family port-zero \
    port-u32 no-port proto account-long options mss ports-odd ports-many; do
	check "bad request '$c' is refused (EINVAL or ERANGE)" kc "ERANGE\|EINVAL" bad "$c"
done
check "nothing was added by the bad requests" test "$("$K" list | wc -l)" -eq 0

NOBODY="setpriv --reuid=65534 --regid=65534 --clear-groups"
check "non-admin: add refused (EPERM)" sh -c "$NOBODY $K add inet 10.9.0.1 25 smtp | grep -q EPERM"
check "non-admin: list refused (EPERM)" sh -c "$NOBODY $K list | grep -q EPERM"
check "non-admin: stats refused (EPERM)" sh -c "$NOBODY $K stats | grep -q EPERM"
check "non-admin: config refused (EPERM)" sh -c "$NOBODY $K config queue 3 | grep -q EPERM"
check "non-admin: the events group refused" sh -c "$NOBODY $K listen 1 1 | grep -q EPERM"
check "config unchanged by non-admin" kc "queue=0" getconfig

# --- A server namespace: greetings on 25 (SMTP), 110 (POP3), 2526 (SMTP,
# not a candidate port), a plain service on 26.
ip netns add ksrv
ip link add k0 type veth peer name k1 netns ksrv
ip addr add 10.9.0.2/24 dev k0
ip addr add fd09::2/64 dev k0 nodad
ip link set k0 up
ip -n ksrv addr add 10.9.0.1/24 dev k1
ip -n ksrv addr add fd09::1/64 dev k1 nodad
ip -n ksrv link set k1 up
ip -n ksrv link set lo up
ip netns exec ksrv python3 - <<'EOF' >/tmp/srv.log 2>&1 &
import socket, threading
def serve(port, greet):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", port)); s.listen(50)
    while True:
        c, _ = s.accept()
        try:
            c.sendall(greet); c.recv(100)
        except OSError:
            pass
        c.close()
for p, g in ((25, b"220 mail ESMTP\r\n"), (110, b"+OK ready\r\n"),
             (2526, b"220 other ESMTP\r\n"), (26, b"hello\r\n")):
    threading.Thread(target=serve, args=(p, g), daemon=True).start()
threading.Event().wait()
EOF
SRVPID=$!
# conn ADDR PORT [MARK]: connect, read the greeting, 0 if one arrived
conn() {
	python3 - "$@" <<'EOF'
import socket, sys
addr, port = sys.argv[1], int(sys.argv[2])
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM)
if len(sys.argv) > 3:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, int(sys.argv[3], 0))
s.settimeout(4)
try:
    s.connect((addr, port))
    sys.exit(0 if s.recv(100) else 1)
except OSError:
    sys.exit(1)
EOF
}
i=0
while ! conn 10.9.0.1 26 && [ $i -lt 30 ]; do sleep 0.5; i=$((i + 1)); done
check "test servers answer" conn 10.9.0.1 26

# --- Port search
"$K" listen 3 60 >/tmp/events 2>&1 &
LPID=$!
i=0
while ! grep -q listening /tmp/events && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
conn 10.9.0.1 2526
conn 10.9.0.1 26
conn 10.9.0.1 25
conn fd09::1 110
"$K" config ports 2526,25
conn 10.9.0.1 2526
wait $LPID
sed 's/^/# /' /tmp/events
check "port search: SMTP greeting on 25 reported" \
    grep -q "^found inet server 10.9.0.1 25 client 10.9.0.2 [0-9]* smtp" /tmp/events
check "port search: POP3 greeting on [fd09::1]:110 reported" \
    grep -q "^found inet6 server fd09::1 110 client fd09::2 [0-9]* pop3" /tmp/events
check "port search: configured port 2526 reported after config" \
    grep -q "^found inet server 10.9.0.1 2526 " /tmp/events
check "port search: exactly those three (not 26, not 2526 before)" \
    test "$(grep -c '^found' /tmp/events)" -eq 3
check "search counters" sh -c "[ \"\$($K stats | tr ' ' '\n' | sed -n 's/^search_found=//p')\" -eq 3 ]"
"$K" config ports 25,587,110,2525 options 2

# --- Fail-closed: captured flows without a daemon are dropped, others
# untouched; the daemon's mark is skipped.
"$K" add inet 10.9.0.1 25 smtp alice@example.org
"$K" add inet6 fd09::1 110 pop3 bob@example.org
q0=$(stat_of queued)
check "fail-closed: no daemon, captured IPv4 SMTP gets nothing" not conn 10.9.0.1 25
check "fail-closed: no daemon, captured IPv6 POP3 gets nothing" not conn fd09::1 110
check "uncaptured port of the same server works" conn 10.9.0.1 26
check "uncaptured IPv6 port of the same server works" conn fd09::1 25
check "the captured packets were queued (counter)" test "$(stat_of queued)" -gt "$q0"
"$K" list | sed 's/^/# /'
check "per-endpoint counters: SYNs seen" sh -c "$K list | grep -q '^inet 10.9.0.1 25 .* syns=[1-9]'"
s0=$(stat_of skipped_mark)
o0=$("$K" list | sed -n 's/^inet 10.9.0.1 25 .* out=\([0-9]*\) .*/\1/p')
conn 10.9.0.1 25 0x7c320001
check "packets with tcp2d's mark are skipped" test "$(stat_of skipped_mark)" -gt "$s0"
check "  ...and not counted as captured" test \
    "$("$K" list | sed -n 's/^inet 10.9.0.1 25 .* out=\([0-9]*\) .*/\1/p')" -eq "$o0"
"$K" config options 3 mss 1000
conn 10.9.0.1 25
check "MSS clamp at SYN when asked" test "$(stat_of mss_clamped)" -gt 0
"$K" config options 2 mss 1200
"$K" flush
check "after flush the server works again" conn 10.9.0.1 25
check "after flush IPv6 POP3 works again" conn fd09::1 110
kill "$SRVPID" 2>/dev/null

if [ -f "$TOP/tests/kmod/guest-e2e.sh" ]; then
	. "$TOP/tests/kmod/guest-e2e.sh"
fi

check "rmmod tcp2" rmmod tcp2
check "family gone after rmmod" kc "no family" stats
check "insmod again after rmmod" insmod "$KO"
check "rmmod again" rmmod tcp2
exit $fail
