#!/bin/sh
# t_privs.sh - tcp2d runs the way the systemd unit runs it: as user tcp2
# with only CAP_NET_ADMIN and CAP_NET_RAW (ambient, bounding set, no new
# privileges), in a network namespace of its own.  It reads its settings
# from a config file (the command line overriding one), creates its store
# as tcp2, installs its capture rules through iptables-restore (nft, and
# legacy with the lock file of dist/tcp2.tmpfiles), serves the control
# socket to group tcp2 only, and removes its rules at a clean stop.
# Needs root; creates the system user tcp2 from dist/tcp2.sysusers when it
# does not exist (and removes it again).
set -u

cd "$(dirname "$0")/../.." || exit 2
BIN=$(pwd)/${TCP2_BUILD:-build/san}/bin
T=$(mktemp -d /tmp/tcp2-privs.XXXXXX) || exit 2
NS=tcp2-privs-$$
made_user=0
pid=

cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	[ "$made_user" = 1 ] && userdel tcp2 2>/dev/null && \
	    groupdel tcp2 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
fails=0
ok() { echo "ok - $*"; }
nok() { echo "not ok - $*"; fails=$((fails + 1)); }
check() {
	d=$1
	shift
	if "$@" >"$T/out" 2>&1; then ok "$d"; else
		nok "$d"
		sed 's/^/# /' "$T/out" | head -20
	fi
}

[ "$(id -u)" = 0 ] || { nok "needs root"; exit 1; }
for tool in setpriv systemd-sysusers systemd-tmpfiles iptables-legacy \
    iptables-nft; do
	command -v "$tool" >/dev/null || nok "$tool is missing"
done
if ! getent passwd tcp2 >/dev/null; then
	systemd-sysusers "$(pwd)/dist/tcp2.sysusers" >/dev/null 2>&1 &&
	    made_user=1
fi
check "user and group tcp2 exist (dist/tcp2.sysusers)" sh -c \
    'getent passwd tcp2 && getent group tcp2'
GID=$(getent group tcp2 | cut -d: -f3)

ip netns add "$NS" || { nok "ip netns add"; exit 1; }
ip netns exec "$NS" ip link set lo up

# The directories systemd makes (StateDirectory, RuntimeDirectory).
chmod 0755 "$T"
install -d -m 0700 -o tcp2 -g tcp2 "$T/state"
install -d -m 0750 -o tcp2 -g tcp2 "$T/run"
# The config gives the socket and the queue; --state-dir overrides its
# state-dir.
cat >"$T/tcp2.conf" <<EOF
# test configuration
state-dir = /nonexistent/overridden
control = $T/run/control
queue = 23
log-level = debug
EOF
chmod 0644 "$T/tcp2.conf"

# start FLAVOUR [ENV...]: tcp2d as tcp2 with two capabilities, PATH
# choosing the iptables flavour.
start() {
	fl=$1
	shift
	mkdir -p "$T/$fl"
	# The multi binary acts by the name it is called by.
	for t in iptables ip6tables iptables-restore ip6tables-restore; do
		ln -sf "/usr/sbin/xtables-$fl-multi" "$T/$fl/$t"
	done
	ip netns exec "$NS" setpriv --reuid tcp2 --regid tcp2 --init-groups \
	    --inh-caps -all,+net_admin,+net_raw \
	    --ambient-caps +net_admin,+net_raw \
	    --bounding-set -all,+net_admin,+net_raw --no-new-privs \
	    env -i PATH="$T/$fl:/usr/sbin:/usr/bin:/sbin:/bin" "$@" \
	    ASAN_OPTIONS="${ASAN_OPTIONS:-}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-}" \
	    "$BIN/tcp2d" --config "$T/tcp2.conf" --state-dir "$T/state" \
	    --foreground >"$T/log.$fl" 2>&1 &
	pid=$!
	i=0
	# "started:" is logged once the socket and the rules are in place.
	while ! grep -q "started:" "$T/log.$fl" && kill -0 "$pid" 2>/dev/null &&
	    [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}

stop() {
	kill -TERM "$pid" 2>/dev/null
	wait "$pid"
	rc=$?
	pid=
	return $rc
}

# Commands for the checks' sh -c strings.
CTL="ip netns exec $NS $BIN/tcp2ctl --control $T/run/control"
NFT="ip netns exec $NS iptables-nft -w -S"
NFT6="ip netns exec $NS ip6tables-nft -w -S"
LEGACY="ip netns exec $NS iptables-legacy -w -S"

# ---- iptables-nft, Debian's default ----
start nft
check "nft: tcp2d starts as tcp2" grep -q "started:" "$T/log.nft"
[ -n "$pid" ] && st=/proc/$pid/status
# setpriv execs tcp2d in place: the pid is tcp2d's.
check "nft: its uid is tcp2's" sh -c "awk '/^Uid:/ { print \$2 }' $st |
    grep -qx $(id -u tcp2)"
check "nft: it holds CAP_NET_ADMIN and CAP_NET_RAW only (CapEff 3000)" \
    sh -c "grep -q '^CapEff:[[:space:]]*0000000000003000$' $st &&
           grep -q '^CapBnd:[[:space:]]*0000000000003000$' $st"
check "nft: the config file's queue is used" sh -c \
    "$CTL status | grep -qx 'queue: 23'"
check "nft: the store is created by tcp2, files 0600" sh -c \
    "[ \"\$(stat -c '%U %a' '$T/state/master.key')\" = 'tcp2 600' ]"
check "nft: the control socket is 0660, group tcp2" sh -c \
    "[ \"\$(stat -c '%a %G' '$T/run/control')\" = '660 tcp2' ]"
check "nft: a member of group tcp2 may use tcp2ctl" ip netns exec "$NS" \
    setpriv --reuid 65534 --regid 65534 --groups "$GID" \
    "$BIN/tcp2ctl" --control "$T/run/control" status
check "nft: anybody else may not" sh -c "! ip netns exec '$NS' \
    setpriv --reuid 65534 --regid 65534 --clear-groups \
    '$BIN/tcp2ctl' --control '$T/run/control' status"
check "nft: registration installs NFQUEUE rules as tcp2" sh -c \
    "$CTL register && $NFT | grep -q -- '--dport 110 .*NFQUEUE --queue-num 23' &&
     $NFT6 | grep -q -- '--sport 25 .*NFQUEUE'"
check "nft: a clean stop exits 0" stop
check "nft: and removes the rules" sh -c "! $NFT | grep -q TCP2"
check "nft: no error in the log" sh -c "! grep -i 'fail\|denied\|error' \
    '$T/log.nft'"

# ---- iptables-legacy: the lock file, as dist/tcp2.tmpfiles makes it ----
LOCK=$T/xtables.lock
grep '/run/xtables.lock' dist/tcp2.tmpfiles | sed "s|/run/xtables.lock|$LOCK|" \
    >"$T/tmpfiles.conf"
check "tmpfiles: the lock file with an ACL for tcp2" sh -c \
    "systemd-tmpfiles --create '$T/tmpfiles.conf' &&
     [ \"\$(stat -c '%a %U' '$LOCK')\" = '660 root' ]"
rm -f "$T/run/control"
start legacy XTABLES_LOCKFILE="$LOCK"
check "legacy: tcp2d starts as tcp2" grep -q "started:" "$T/log.legacy"
check "legacy: registration installs NFQUEUE rules as tcp2" sh -c \
    "$CTL register && $LEGACY | grep -q -- '--dport 110 .*NFQUEUE --queue-num 23'"
check "legacy: a clean stop exits 0 and removes the rules" sh -c \
    "kill -TERM $pid; while kill -0 $pid 2>/dev/null; do sleep 0.1; done;
     ! $LEGACY | grep -q TCP2"
wait "$pid" 2>/dev/null
pid=
check "legacy: no error in the log" sh -c "! grep -i 'fail\|denied\|error' \
    '$T/log.legacy'"

[ "$fails" -eq 0 ]
