# tests/e2e/world.sh - the end-to-end test world of TCP2 Mail.  POSIX sh
# library: source it (". tests/e2e/world.sh") and call world_up.  Needs
# root, network namespaces, veth, bridge; no systemd, no internet.
#
# Topology (nothing is added to the root network namespace; names are in
# /etc/netns/t2*/hosts, which "ip netns exec" mounts over /etc/hosts):
#
#   t2a (Alice)            t2b (Bob)             t2srv (mail.example.org)
#   eth0 10.77.0.2/24      eth0 10.77.0.3/24     eth0 10.77.0.1/24
#        fd77::2/64             fd77::3/64            fd77::1/64
#     |                      |                     |  Postfix :25 (SMTP)
#     |                      |                     |  Dovecot :110 (POP3)
#   va --------------------- vb --------------------- vsrv
#                  t2sw: Linux bridge br0 (switch)
#
# Users (all @example.org, Maildir under $WORLD_DIR/mail/USER/, POP3
# login "USER" or "USER@example.org", password "USERpw"):
# alice bob carol dave erin.  Postfix uses the global /etc/postfix
# (main.cf/master.cf are ours while the world is up; the previous files are
# kept as *.pre-tcp2-e2e and put back by world_down) and the global queue
# /var/spool/postfix, so only one Postfix runs at a time on the machine.
#
# Byte-exactness (what reaches the receiver, before strip_trace):
# - Postfix stores lines with LF and Dovecot serves them with CRLF, so a
#   message survives byte-exactly only if every line ends in CRLF (no bare
#   CR or LF) and the message ends with CRLF.  Postfix prepends
#   Return-Path, X-Original-To, Delivered-To and Received (strip_trace
#   removes them); it does not add or rewrite other headers for clients in
#   10.77.0.0/24 as long as the message has From, To, Date and Message-ID.
# - send_curl, send_swaks, send_smtplib(_many), send_pipelined, send_bdat
#   send the file's bytes verbatim (dot-stuffed where SMTP DATA needs it;
#   swaks with --no-data-fixup, so none of its token substitution or
#   header re-assembly applies).
# - send_snail composes its own header (Date, From, To, Subject,
#   Message-ID, User-Agent, MIME-Version, Content-Type,
#   Content-Transfer-Encoding) and greets with HELO, not EHLO; only the
#   body is preserved, and only while its lines are short (one line over
#   998 octets turns the whole body quoted-printable).  Tests compare the
#   body.
# - fetch_curl and fetch_poplib give exactly what Dovecot sent, minus the
#   POP3 dot-stuffing.  fetch_fetchmail ("set invisible", "no rewrite",
#   "no stripcr", "no mimedecode") leaves the message as received, too.
#
# Environment knobs: TCP2_WORLD_DIR (default /var/tmp/tcp2-e2e),
# WORLD_SERVER (server address the send/fetch helpers use by default,
# 10.77.0.1; set fd77::1 for IPv6), FETCH_KEEP=1 (fetch helpers leave the
# messages on the server), TCP2_WORLD_LOCK (default /run/tcp2-e2e.lock)
# and WORLD_LOCK_WAIT (seconds world_up waits for another test's world,
# default 1800).

WORLD_DIR=${TCP2_WORLD_DIR:-/var/tmp/tcp2-e2e}
WORLD_SRV4=10.77.0.1
WORLD_A4=10.77.0.2
WORLD_B4=10.77.0.3
WORLD_SRV6=fd77::1
WORLD_A6=fd77::2
WORLD_B6=fd77::3
WORLD_SERVER=${WORLD_SERVER:-$WORLD_SRV4}
WORLD_DOMAIN=example.org
WORLD_USERS="alice bob carol dave erin"
WORLD_VMAIL=tcp2vmail
WORLD_PY=/usr/bin/python3
WORLD_POSTFIX_LOG=/var/log/tcp2-e2e-postfix.log
WORLD_DOVECOT_LOG=/var/log/tcp2-e2e-dovecot.log
WORLD_NETNS="t2srv t2a t2b t2sw"
WORLD_LOCK=${TCP2_WORLD_LOCK:-/run/tcp2-e2e.lock}
# shellcheck disable=SC2034 # used by the tests that source this file
WORLD_PW_alice=alicepw
# shellcheck disable=SC2034
WORLD_PW_bob=bobpw
# shellcheck disable=SC2034
WORLD_PW_carol=carolpw
# shellcheck disable=SC2034
WORLD_PW_dave=davepw
# shellcheck disable=SC2034
WORLD_PW_erin=erinpw
# sbin is not on every root PATH (ip, postfix, dovecot, useradd live there)
case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH=$PATH:/usr/sbin:/sbin ;; esac
export PATH

# The world is one per machine (namespace names, /etc/postfix, the spool).
# world_up takes a lock, the directory $WORLD_LOCK holding "PID STARTTIME"
# of the shell that sourced this file ($$), waiting (up to
# $WORLD_LOCK_WAIT seconds, default 1800) while another live shell holds
# it; a lock whose owner is gone is taken over.  world_down releases it
# and leaves a world alone that another live shell holds.

# _world_lock_op try|release|owner: the lock operation, serialized by
# flock on $WORLD_LOCK.guard.  try: take the lock (exit 0), or print the
# live owner's pid (exit 1).  release: drop it if ours or stale.  owner:
# print a live foreign owner's pid (exit 0) or nothing (exit 1).
_world_lock_op() {
	# shellcheck disable=SC2016 # the script is expanded by the inner sh
	flock -w 30 "$WORLD_LOCK.guard" sh -c '
	starttime() { # the start time of live (not zombie) process $1
		sed -n "s/^.*) [^ZX] \\(.*\\)/\\1/p" "/proc/$1/stat" 2>/dev/null |
			cut -d" " -f19
	}
	lock=$1 op=$2 self="$3 $(starttime "$3")"
	owner=$(cat "$lock/owner" 2>/dev/null)
	alive=0
	if [ -d "$lock" ] && [ "$owner" != "$self" ]; then
		set -- $owner
		[ $# -eq 2 ] && [ "$(starttime "$1")" = "$2" ] && alive=1
	fi
	case $op in
	try)
		if [ $alive -eq 1 ]; then echo "${owner%% *}"; exit 1; fi
		[ "$owner" = "$self" ] && exit 0
		rm -rf "$lock"
		mkdir "$lock" && echo "$self" >"$lock/owner" ;;
	release)
		[ $alive -eq 0 ] && rm -rf "$lock"
		exit 0 ;;
	owner)
		[ $alive -eq 1 ] && echo "${owner%% *}" ;;
	esac' _world_lock "$WORLD_LOCK" "$1" "$$"
}

# _world_lock: take the world lock, waiting for a live owner.
_world_lock() {
	_wl_i=0
	_wl_max=$((${WORLD_LOCK_WAIT:-1800} * 5))
	while ! _wl_owner=$(_world_lock_op try); do
		[ $_wl_i -eq 0 ] &&
			echo "# world: waiting for the e2e world, in use by pid $_wl_owner" >&2
		if [ $_wl_i -ge $_wl_max ]; then
			echo "world: e2e world still in use by pid $_wl_owner" >&2
			return 1
		fi
		sleep 0.2
		_wl_i=$((_wl_i + 1))
	done
	return 0
}

# world_pw USER: print USER's POP3 password (USER or USER@example.org).
world_pw() {
	printf '%spw\n' "${1%@*}"
}

# world_ns HOST: print the namespace of HOST: a|alice|t2a -> t2a,
# b|bob|t2b -> t2b, srv|server|t2srv -> t2srv, sw|t2sw -> t2sw.
world_ns() {
	case $1 in
	a | alice | t2a) echo t2a ;;
	b | bob | t2b) echo t2b ;;
	srv | server | mail | t2srv) echo t2srv ;;
	sw | t2sw) echo t2sw ;;
	*)
		echo "world: unknown host '$1' (a, b, srv)" >&2
		return 2
		;;
	esac
}

# world_exec HOST CMD...: run CMD inside HOST's namespace (a, b, srv).
world_exec() {
	_we_ns=$(world_ns "$1") || return 2
	shift
	ip netns exec "$_we_ns" "$@"
}

# _world_urlhost ADDR: ADDR, bracketed when it is an IPv6 literal.
_world_urlhost() {
	case $1 in *:*) printf '[%s]' "$1" ;; *) printf '%s' "$1" ;; esac
}

# _world_alive PID: true while PID exists and is not a zombie.
_world_alive() {
	[ -r "/proc/$1/stat" ] || return 1
	case $(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null) in
	"" | Z* | X*) return 1 ;;
	esac
	return 0
}

# _world_kill_wait PID...: SIGTERM the given processes, wait up to 5 s for
# them to go, then SIGKILL the rest.  Only ever called with pids from our
# own pid files or from our own namespaces.
_world_kill_wait() {
	[ $# -gt 0 ] || return 0
	kill "$@" 2>/dev/null
	_wk_i=0
	while [ $_wk_i -lt 100 ]; do
		_wk_alive=0
		for _wk_p in "$@"; do
			_world_alive "$_wk_p" && _wk_alive=1
		done
		[ $_wk_alive -eq 0 ] && return 0
		sleep 0.05
		_wk_i=$((_wk_i + 1))
	done
	kill -9 "$@" 2>/dev/null
	return 0
}

# _world_pidfile_pid FILE NAME: print the pid in FILE if that process is
# alive and its command name is NAME.
_world_pidfile_pid() {
	[ -r "$1" ] || return 1
	_wp_pid=$(sed -n '1{s/[^0-9]//g;p;}' "$1")
	[ -n "$_wp_pid" ] || return 1
	[ "$(cat "/proc/$_wp_pid/comm" 2>/dev/null)" = "$2" ] || return 1
	_world_alive "$_wp_pid" || return 1
	echo "$_wp_pid"
}

# _world_postfix_stop: stop whatever Postfix uses the global spool (ours
# in t2srv, or a system one in the root namespace), waiting until the
# master process is gone.
_world_postfix_stop() {
	_wps_pid=$(_world_pidfile_pid /var/spool/postfix/pid/master.pid master) ||
		return 0
	postfix stop >/dev/null 2>&1 || kill "$_wps_pid" 2>/dev/null
	_world_kill_wait "$_wps_pid"
}

# _world_daemon_pids NS: print the pids of Postfix and Dovecot processes
# (by executable) in namespace NS.
_world_daemon_pids() {
	for _wdp in $(ip netns pids "$1" 2>/dev/null); do
		case $(readlink "/proc/$_wdp/exe" 2>/dev/null) in
		/usr/lib/postfix/* | /usr/sbin/dovecot | /usr/lib/dovecot/*)
			echo "$_wdp" ;;
		esac
	done
}

# world_down: stop captures, Postfix and Dovecot (SIGKILL: a graceful stop
# takes seconds and all their state is thrown away anyway), SIGTERM every
# other process left in the world's namespaces (SIGKILL after 5 s: stop
# your own daemons first if they need a graceful exit), delete the
# namespaces, /etc/netns/t2*, $WORLD_DIR; restore the previous
# /etc/postfix/main.cf and master.cf; release the world lock (not with
# the argument "keep-lock": for checks after the teardown that another
# test's world_up must not disturb; the next world_down releases it).
# Does nothing (but say so) while another live shell holds the world (see
# _world_lock).  Never fails.
world_down() {
	if _wd_owner=$(_world_lock_op owner); then
		echo "# world: not taking down the e2e world of pid $_wd_owner" >&2
		return 0
	fi
	_world_teardown
	[ "${1:-}" = keep-lock ] || _world_lock_op release
	return 0
}

# _world_teardown: world_down without the lock handling.
_world_teardown() {
	capture_stop >/dev/null 2>&1
	if [ -e /run/netns/t2srv ]; then
		for _wd_pid in $(_world_daemon_pids t2srv); do
			kill -9 "$_wd_pid" 2>/dev/null
			_world_kill_wait_quiet "$_wd_pid"
		done
	fi
	_world_postfix_stop
	for _wd_ns in $WORLD_NETNS; do
		[ -e "/run/netns/$_wd_ns" ] || continue
		# shellcheck disable=SC2046
		_world_kill_wait $(ip netns pids "$_wd_ns" 2>/dev/null)
		ip netns del "$_wd_ns" 2>/dev/null
	done
	for _wd_ns in $WORLD_NETNS; do
		rm -rf "/etc/netns/$_wd_ns"
	done
	rmdir /etc/netns 2>/dev/null
	for _wd_f in main.cf master.cf; do
		if [ -f "/etc/postfix/$_wd_f.pre-tcp2-e2e" ]; then
			mv -f "/etc/postfix/$_wd_f.pre-tcp2-e2e" "/etc/postfix/$_wd_f"
		elif grep -q '^# tcp2-e2e' "/etc/postfix/$_wd_f" 2>/dev/null; then
			rm -f "/etc/postfix/$_wd_f"
		fi
	done
	case $WORLD_DIR in /?*) rm -rf "$WORLD_DIR" ;; esac
	return 0
}

# _world_net: namespaces, bridge, veths, addresses; /etc/netns/NS/hosts
# and resolv.conf, which "ip netns exec" mounts over /etc/hosts and
# /etc/resolv.conf (names below; no DNS server is reachable).
_world_net() {
	for _wn_ns in t2srv t2a t2b; do
		mkdir -p "/etc/netns/$_wn_ns" || return 1
		cat >"/etc/netns/$_wn_ns/hosts" <<EOF
127.0.0.1 localhost
::1 localhost ip6-localhost ip6-loopback
$WORLD_SRV4 mail.example.org mail4.example.org srv.example.org
$WORLD_SRV6 mail6.example.org srv6.example.org
$WORLD_A4 a.example.org
$WORLD_A6 a6.example.org
$WORLD_B4 b.example.org
$WORLD_B6 b6.example.org
EOF
		printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' \
		    >"/etc/netns/$_wn_ns/resolv.conf"
	done
	ip netns add t2sw || return 1
	ip -n t2sw link add br0 type bridge stp_state 0 forward_delay 0 \
	    mcast_snooping 0 || return 1
	ip netns exec t2sw sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
	    net.ipv6.conf.default.disable_ipv6=1 >/dev/null
	ip -n t2sw link set br0 up || return 1
	ip -n t2sw link set lo up
	for _wn in srv:1 a:2 b:3; do
		_wn_h=${_wn%:*}
		_wn_n=${_wn#*:}
		ip netns add "t2$_wn_h" || return 1
		ip netns exec "t2$_wn_h" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
		    net.ipv6.conf.default.accept_dad=0 \
		    net.ipv6.conf.all.disable_ipv6=0 \
		    net.ipv6.conf.default.disable_ipv6=0 >/dev/null || return 1
		ip -n t2sw link add "v$_wn_h" type veth peer name eth0 \
		    netns "t2$_wn_h" || return 1
		ip -n t2sw link set "v$_wn_h" master br0 up || return 1
		ip -n "t2$_wn_h" link set lo up || return 1
		ip -n "t2$_wn_h" link set eth0 up || return 1
		ip -n "t2$_wn_h" addr add "10.77.0.$_wn_n/24" dev eth0 || return 1
		ip -n "t2$_wn_h" addr add "fd77::$_wn_n/64" dev eth0 nodad ||
			return 1
	done
}

# _world_postfix: write /etc/postfix/{main,master}.cf, start Postfix in
# t2srv.
_world_postfix() {
	_wp_uid=$(id -u "$WORLD_VMAIL") || return 1
	_wp_gid=$(id -g "$WORLD_VMAIL") || return 1
	for _wp_f in main.cf master.cf; do
		if [ -f "/etc/postfix/$_wp_f" ] &&
		    ! grep -q '^# tcp2-e2e' "/etc/postfix/$_wp_f" &&
		    [ ! -f "/etc/postfix/$_wp_f.pre-tcp2-e2e" ]; then
			cp -p "/etc/postfix/$_wp_f" "/etc/postfix/$_wp_f.pre-tcp2-e2e" ||
				return 1
		fi
	done
	: >"$WORLD_DIR/postfix/vmailbox"
	for _wp_u in $WORLD_USERS; do
		echo "$_wp_u@$WORLD_DOMAIN $_wp_u/" >>"$WORLD_DIR/postfix/vmailbox"
	done
	cat >/etc/postfix/main.cf.tmp <<EOF
# tcp2-e2e: written by tests/e2e/world.sh (world_up); world_down restores
# the previous file (main.cf.pre-tcp2-e2e) or removes this one.
compatibility_level = 3.6
myhostname = mail.example.org
mydomain = example.org
myorigin = \$mydomain
mydestination = localhost
inet_interfaces = all
inet_protocols = all
mynetworks = 127.0.0.0/8 [::1]/128 10.77.0.0/24 [fd77::]/64
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_recipient_restrictions =
smtpd_banner = \$myhostname ESMTP
smtpd_tls_security_level = none
smtp_tls_security_level = none
smtputf8_enable = no
virtual_mailbox_domains = example.org
virtual_mailbox_base = $WORLD_DIR/mail
virtual_mailbox_maps = texthash:$WORLD_DIR/postfix/vmailbox
virtual_uid_maps = static:$_wp_uid
virtual_gid_maps = static:$_wp_gid
virtual_minimum_uid = 1
virtual_mailbox_limit = 0
message_size_limit = 104857600
mailbox_size_limit = 0
alias_maps =
alias_database =
local_recipient_maps =
smtp_dns_support_level = disabled
lmtp_dns_support_level = disabled
smtpd_peername_lookup = no
in_flow_delay = 0
biff = no
append_dot_mydomain = no
readme_directory = no
maillog_file = $WORLD_POSTFIX_LOG
EOF
	# No chroot (Debian's default needs files copied into the jail by
	# its init script), numeric port (no /etc/services needed).
	cat >/etc/postfix/master.cf.tmp <<EOF
# tcp2-e2e: written by tests/e2e/world.sh (world_up); world_down restores
# the previous file (master.cf.pre-tcp2-e2e) or removes this one.
25        inet  n       -       n       -       -       smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
	mv -f /etc/postfix/main.cf.tmp /etc/postfix/main.cf &&
		mv -f /etc/postfix/master.cf.tmp /etc/postfix/master.cf || return 1
	# Mail left in the queue by an earlier run must not show up now.
	# (Postfix is stopped; "postsuper -d ALL" would do the same but wastes
	# a second looking for postlogd, then fails to log.)
	for _wp_q in incoming active deferred defer bounce hold maildrop \
	    corrupt trace flush saved; do
		[ -d "/var/spool/postfix/$_wp_q" ] &&
			find "/var/spool/postfix/$_wp_q" -mindepth 1 -type f -delete
	done
	ip netns exec t2srv postfix start >"$WORLD_DIR/postfix-start.log" 2>&1
}

# _world_dovecot: write $WORLD_DIR/dovecot/dovecot.conf, start Dovecot in
# t2srv.
_world_dovecot() {
	_wd_conf=$WORLD_DIR/dovecot/dovecot.conf
	: >"$WORLD_DIR/dovecot/users"
	for _wd_u in $WORLD_USERS; do
		echo "$_wd_u:{PLAIN}$(world_pw "$_wd_u")::::::" >>"$WORLD_DIR/dovecot/users"
	done
	chmod 0644 "$WORLD_DIR/dovecot/users"
	cat >"$_wd_conf" <<EOF
# tcp2-e2e: written by tests/e2e/world.sh (world_up)
instance_name = tcp2-e2e
base_dir = $WORLD_DIR/run/dovecot
state_dir = $WORLD_DIR/dovecot/state
protocols = pop3
listen = *, ::
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
log_path = $WORLD_DOVECOT_LOG
first_valid_uid = 1
mail_uid = $WORLD_VMAIL
mail_gid = $WORLD_VMAIL
mail_location = maildir:$WORLD_DIR/mail/%n:INDEX=$WORLD_DIR/dovecot/index/%n:CONTROL=$WORLD_DIR/dovecot/index/%n
mail_max_userip_connections = 100
pop3_uidl_format = %08Xu%08Xv
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%n $WORLD_DIR/dovecot/users
}
userdb {
  driver = static
  args = uid=$WORLD_VMAIL gid=$WORLD_VMAIL home=$WORLD_DIR/dovecot/index/%n
}
service pop3-login {
  inet_listener pop3 {
    port = 110
  }
}
EOF
	ip netns exec t2srv dovecot -c "$_wd_conf" >"$WORLD_DIR/dovecot-start.log" 2>&1
}

# _world_wait_ready [SECONDS]: poll until SMTP (220) and POP3 (+OK)
# greetings come on 10.77.0.1 and fd77::1, as seen from t2a.
_world_wait_ready() {
	ip netns exec t2a "$WORLD_PY" - "${1:-20}" "$WORLD_SRV4" "$WORLD_SRV6" <<'EOF'
import socket, sys, time
deadline = time.time() + float(sys.argv[1])
for host in sys.argv[2:]:
    for port, greet, bye in ((25, b"220 ", b"QUIT\r\n"), (110, b"+OK", b"QUIT\r\n")):
        while True:
            try:
                s = socket.create_connection((host, port), 1)
                s.settimeout(2)
                b = s.recv(512)
                s.sendall(bye)
                s.recv(512)
                s.close()
                if b.startswith(greet):
                    break
            except OSError:
                pass
            if time.time() > deadline:
                sys.exit("world: %s port %d not ready" % (host, port))
            time.sleep(0.05)
EOF
}

# world_up: take the world lock (wait while another test holds the
# world), tear down what is left of an earlier world, stop a Postfix or
# Dovecot of the root namespace, build the namespaces and the bridge,
# start Postfix and Dovecot in t2srv and wait until port 25 and 110 answer
# over IPv4 and IPv6.  Idempotent.
# On failure prints the daemons' start output and log tails to stderr and
# returns 1.
world_up() {
	_world_lock || return 1
	_world_teardown
	_world_postfix_stop
	# A system Dovecot (root namespace, default base_dir): by its pid.
	_wu_pid=$(_world_pidfile_pid /run/dovecot/master.pid dovecot) &&
		_world_kill_wait "$_wu_pid"
	if ! id -u "$WORLD_VMAIL" >/dev/null 2>&1; then
		useradd --system --user-group --no-create-home \
		    --home-dir /nonexistent --shell /usr/sbin/nologin \
		    "$WORLD_VMAIL" 2>/dev/null || id -u "$WORLD_VMAIL" >/dev/null ||
			{ echo "world: cannot create user $WORLD_VMAIL" >&2; return 1; }
	fi
	mkdir -p "$WORLD_DIR/postfix" "$WORLD_DIR/dovecot/index" \
	    "$WORLD_DIR/dovecot/state" "$WORLD_DIR/run" "$WORLD_DIR/mail" ||
		return 1
	chmod 0755 "$WORLD_DIR"
	for _wu_u in $WORLD_USERS; do
		mkdir -p "$WORLD_DIR/mail/$_wu_u/cur" "$WORLD_DIR/mail/$_wu_u/new" \
		    "$WORLD_DIR/mail/$_wu_u/tmp"
	done
	chown -R "$WORLD_VMAIL:$WORLD_VMAIL" "$WORLD_DIR/mail" \
	    "$WORLD_DIR/dovecot/index"
	if ! _world_net; then
		echo "world: network setup failed" >&2
		return 1
	fi
	if ! _world_postfix || ! _world_dovecot || ! _world_wait_ready 20; then
		echo "world: daemons did not come up" >&2
		for _wu_f in "$WORLD_DIR/postfix-start.log" \
		    "$WORLD_DIR/dovecot-start.log"; do
			sed "s|^|# $(basename "$_wu_f"): |" "$_wu_f" >&2 2>/dev/null
		done
		tail -n 10 "$WORLD_POSTFIX_LOG" "$WORLD_DOVECOT_LOG" 2>/dev/null |
			sed 's/^/# /' >&2
		return 1
	fi
	return 0
}

# world_mail_count USER: print the number of messages in USER's Maildir.
world_mail_count() {
	find "$WORLD_DIR/mail/${1%@*}/new" "$WORLD_DIR/mail/${1%@*}/cur" \
	    -type f 2>/dev/null | wc -l | tr -d ' '
}

# world_wait_mail USER N [SECONDS]: wait (default 20 s) until USER's
# Maildir holds at least N messages, i.e. Postfix delivered them.
world_wait_mail() {
	_ww_i=0
	_ww_max=$((${3:-20} * 20))
	while [ "$(world_mail_count "$1")" -lt "$2" ]; do
		[ $_ww_i -ge $_ww_max ] && return 1
		sleep 0.05
		_ww_i=$((_ww_i + 1))
	done
	return 0
}

# world_wait_queue [SECONDS]: wait (default 20 s) until the Postfix queue
# is empty (every accepted message delivered or bounced).
world_wait_queue() {
	_wq_i=0
	_wq_max=$((${1:-20} * 20))
	while [ -n "$(find /var/spool/postfix/incoming /var/spool/postfix/active \
	    /var/spool/postfix/deferred /var/spool/postfix/maildrop -type f \
	    2>/dev/null | head -n 1)" ]; do
		[ $_wq_i -ge $_wq_max ] && return 1
		sleep 0.05
		_wq_i=$((_wq_i + 1))
	done
	return 0
}

# send_curl HOST FROM RCPT[,RCPT...] FILE [SERVER]: send FILE verbatim from
# HOST with curl (smtp://SERVER:25, EHLO, MAIL FROM, RCPT TO, DATA with
# dot-stuffing).  SERVER defaults to $WORLD_SERVER.
send_curl() {
	_sc_host=$1 _sc_from=$2 _sc_rcpts=$3 _sc_file=$4
	_sc_srv=${5:-$WORLD_SERVER}
	set --
	_sc_ifs=$IFS
	IFS=,
	for _sc_r in $_sc_rcpts; do set -- "$@" --mail-rcpt "$_sc_r"; done
	IFS=$_sc_ifs
	world_exec "$_sc_host" curl -sS --max-time 120 \
	    --url "smtp://$(_world_urlhost "$_sc_srv"):25/$(world_ns "$_sc_host").example.org" \
	    --mail-from "$_sc_from" "$@" --upload-file "$_sc_file"
}

# send_swaks HOST FROM RCPT[,RCPT...] FILE [SERVER]: send FILE verbatim
# from HOST with swaks.  swaks' own DATA processing (token substitution,
# "\n" -> CRLF, From_ stripping, header re-assembly, an extra CRLF before
# the final dot) would change the message, so it runs with --no-data-fixup
# on a dot-stuffed copy that ends in "."; swaks adds the final CRLF.  Its
# output goes to stderr only on failure.
send_swaks() {
	_ss_tmp=$(mktemp "$WORLD_DIR/swaks.XXXXXX") || return 1
	{
		LC_ALL=C sed 's/^\./../' "$4"
		printf .
	} >"$_ss_tmp"
	_ss_out=$(world_exec "$1" swaks --server "$(_world_urlhost "${5:-$WORLD_SERVER}")" \
	    --port 25 --helo "$(world_ns "$1").example.org" --from "$2" --to "$3" \
	    --no-data-fixup --data "@$_ss_tmp" --timeout 120 2>&1)
	_ss_rc=$?
	[ $_ss_rc -eq 0 ] || printf '%s\n' "$_ss_out" | tail -n 20 >&2
	rm -f "$_ss_tmp"
	return $_ss_rc
}

# send_snail HOST FROM RCPT[,RCPT...] FILE [SERVER]: send the BODY of FILE
# (after the first empty line, CRLF turned into LF for s-nail) with the
# Subject of FILE, using s-nail's built-in SMTP client.  s-nail writes its
# own header, so only the body is comparable (8bit transfer encoding,
# UTF-8 charset; long lines would become quoted-printable).
send_snail() {
	_sn_tmp=$WORLD_DIR/snail.$$
	mkdir -p "$_sn_tmp" || return 1
	_sn_subj=$(LC_ALL=C sed -n '/^\r\{0,1\}$/q; s/\r$//; s/^[Ss]ubject: *//p' "$4" |
		head -n 1)
	LC_ALL=C sed '1,/^\r\{0,1\}$/d; s/\r$//' "$4" >"$_sn_tmp/body"
	_sn_rcpts=$(printf '%s' "$3" | tr ',' ' ')
	# s-nail cannot parse smtp://[v6]:25; use the name from the hosts file
	_sn_srv=${5:-$WORLD_SERVER}
	case $_sn_srv in "$WORLD_SRV6") _sn_srv=mail6.example.org ;; esac
	# shellcheck disable=SC2086
	_sn_out=$(world_exec "$1" env HOME="$_sn_tmp" LC_ALL=C.UTF-8 \
	    s-nail -:/ -# -S v15-compat -S sendwait \
	    -S "mta=smtp://$_sn_srv:25" \
	    -S "hostname=$(world_ns "$1").example.org" -S smtp-auth=none \
	    -S ttycharset=utf-8 -S sendcharsets=utf-8 -S mime-encoding=8bit \
	    -S DEAD=/dev/null -S nosave -r "$2" -s "$_sn_subj" $_sn_rcpts \
	    <"$_sn_tmp/body" 2>&1)
	_sn_rc=$?
	[ $_sn_rc -eq 0 ] || printf '%s\n' "$_sn_out" | tail -n 20 >&2
	rm -rf "$_sn_tmp"
	return $_sn_rc
}

# _world_smtplib HOST SERVER FROM RCPTS FILE...: smtplib from HOST, one
# session, sendmail(FROM, RCPTS, bytes of FILE) per file.
_world_smtplib() {
	_wsl_host=$1
	shift
	world_exec "$_wsl_host" "$WORLD_PY" - "$@" <<'EOF'
import smtplib, sys
srv, frm, rcpts = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
s = smtplib.SMTP(srv, 25, local_hostname="client.example.org", timeout=120)
for f in sys.argv[4:]:
    with open(f, "rb") as fh:
        s.sendmail(frm, rcpts, fh.read())
s.quit()
EOF
}

# send_smtplib HOST FROM RCPT[,RCPT...] FILE [SERVER]: send FILE's bytes
# verbatim with Python's smtplib.SMTP.sendmail (dot-stuffed).
send_smtplib() {
	_world_smtplib "$1" "${5:-$WORLD_SERVER}" "$2" "$3" "$4"
}

# send_smtplib_many HOST FROM RCPT[,RCPT...] FILE...: send all FILEs in ONE
# smtplib session to $WORLD_SERVER, one sendmail each (smtplib waits for
# every reply; see send_pipelined for real PIPELINING).
send_smtplib_many() {
	_sm_host=$1
	shift
	_sm_from=$1 _sm_rcpt=$2
	shift 2
	_world_smtplib "$_sm_host" "$WORLD_SERVER" "$_sm_from" "$_sm_rcpt" "$@"
}

# _world_rawsmtp HOST MODE SERVER FROM RCPTS FILE...: raw-socket SMTP
# client run in HOST.
# MODE pipe: RFC 2920 PIPELINING - MAIL, all RCPTs and DATA in one write,
# then the message, its final "." and the next MAIL/RCPT/DATA group in one
# write.  MODE bdat: RFC 3030 CHUNKING - MAIL, RCPTs and the whole message
# as two BDAT chunks (no dot-stuffing) in one write per message.
_world_rawsmtp() {
	_wrs_host=$1
	shift
	world_exec "$_wrs_host" "$WORLD_PY" - "$@" <<'EOF'
import re, socket, sys
mode, srv, frm = sys.argv[1], sys.argv[2], sys.argv[3]
rcpts, files = sys.argv[4].split(","), sys.argv[5:]
sock = socket.create_connection((srv, 25), 30)
sock.settimeout(120)
rd = sock.makefile("rb")
def reply(want):
    lines = []
    while True:
        line = rd.readline()
        if not line:
            sys.exit("rawsmtp: connection closed")
        lines.append(line)
        if line[3:4] != b"-":
            break
    if not line.startswith(want):
        sys.exit("rawsmtp: wanted %r, got %r" % (want, b"".join(lines)))
    return b"".join(lines)
reply(b"220")
sock.sendall(b"EHLO client.example.org\r\n")
ehlo = reply(b"250").upper()
need = b"PIPELINING" if mode == "pipe" else b"CHUNKING"
if need not in ehlo:
    sys.exit("rawsmtp: server does not offer %s" % need.decode())
def envelope():
    out = b"MAIL FROM:<%s>\r\n" % frm.encode()
    for r in rcpts:
        out += b"RCPT TO:<%s>\r\n" % r.encode()
    return out
def envelope_replies():
    reply(b"250")
    for r in rcpts:
        reply(b"250")
pending = b""
for i, f in enumerate(files):
    data = open(f, "rb").read()
    if mode == "pipe":
        sock.sendall(pending + envelope() + b"DATA\r\n")
        if pending:
            reply(b"250")
        envelope_replies()
        reply(b"354")
        body = re.sub(rb"(?m)^\.", b"..", data)
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        pending = body + b".\r\n"
    else:
        half = len(data) // 2
        sock.sendall(envelope() + b"BDAT %d\r\n" % half + data[:half] +
                     b"BDAT %d LAST\r\n" % (len(data) - half) + data[half:])
        envelope_replies()
        reply(b"250")
        reply(b"250")
sock.sendall(pending + b"QUIT\r\n")
if pending:
    reply(b"250")
reply(b"221")
EOF
}

# send_pipelined HOST FROM RCPT[,RCPT...] FILE...: send all FILEs in one
# session to $WORLD_SERVER with real PIPELINING (see _world_rawsmtp).
send_pipelined() {
	_sp_host=$1
	shift
	_world_rawsmtp "$_sp_host" pipe "$WORLD_SERVER" "$@"
}

# send_bdat HOST FROM RCPT[,RCPT...] FILE...: send all FILEs in one session
# to $WORLD_SERVER with CHUNKING, each as BDAT n + BDAT m LAST, verbatim.
send_bdat() {
	_sb_host=$1
	shift
	_world_rawsmtp "$_sb_host" bdat "$WORLD_SERVER" "$@"
}

# The fetch helpers create DIR and name the files by POP3 message number
# (0001.eml, ...): use a new or empty DIR for each fetch.
#
# fetch_curl HOST USER DIR [SERVER]: fetch all of USER's messages over
# POP3 with curl into DIR/0001.eml, DIR/0002.eml, ... (POP3 order): one
# LIST session, one session with RETR 1..N (curl removes the dot-stuffing
# and the final ".", output is otherwise the server's bytes), then one
# session with DELE 1..N unless FETCH_KEEP=1.
fetch_curl() {
	_fc_host=$1 _fc_user=$2 _fc_dir=$3
	_fc_url="pop3://$(_world_urlhost "${4:-$WORLD_SERVER}"):110"
	mkdir -p "$_fc_dir" || return 1
	_fc_list=$(world_exec "$_fc_host" curl -sS --max-time 60 \
	    -u "$_fc_user:$(world_pw "$_fc_user")" "$_fc_url/") || return 1
	_fc_n=$(printf '%s\n' "$_fc_list" | grep -c '^[0-9]')
	[ "$_fc_n" -gt 0 ] || return 0
	set --
	_fc_i=1
	while [ $_fc_i -le "$_fc_n" ]; do
		set -- "$@" "$_fc_url/$_fc_i" -o "$_fc_dir/$(printf %04d $_fc_i).eml"
		_fc_i=$((_fc_i + 1))
	done
	world_exec "$_fc_host" curl -sS --max-time 300 \
	    -u "$_fc_user:$(world_pw "$_fc_user")" "$@" || return 1
	[ "${FETCH_KEEP:-0}" = 1 ] && return 0
	set --
	_fc_i=1
	while [ $_fc_i -le "$_fc_n" ]; do
		set -- "$@" "$_fc_url/$_fc_i"
		_fc_i=$((_fc_i + 1))
	done
	world_exec "$_fc_host" curl -sS --max-time 60 -X DELE -I \
	    -u "$_fc_user:$(world_pw "$_fc_user")" "$@" >/dev/null
}

# fetch_poplib HOST USER DIR [SERVER]: fetch all of USER's messages with
# Python's poplib (USER/PASS, STAT, RETR i, DELE i unless FETCH_KEEP=1,
# QUIT) into DIR/0001.eml, ...  poplib strips each line's CRLF and the
# dot-stuffing; the file is b"\r\n".join(lines) + b"\r\n", which is the
# server's byte stream for messages whose lines all end in CRLF.
fetch_poplib() {
	mkdir -p "$3" || return 1
	world_exec "$1" "$WORLD_PY" - "${4:-$WORLD_SERVER}" "$2" "$(world_pw "$2")" \
	    "$3" "${FETCH_KEEP:-0}" <<'EOF'
import poplib, sys
poplib._MAXLINE = 1 << 24
srv, user, pw, d, keep = sys.argv[1:6]
p = poplib.POP3(srv, 110, timeout=120)
p.user(user)
p.pass_(pw)
n, _ = p.stat()
for i in range(1, n + 1):
    _, lines, _ = p.retr(i)
    with open("%s/%04d.eml" % (d, i), "wb") as fh:
        fh.write(b"\r\n".join(lines) + b"\r\n")
    if keep != "1":
        p.dele(i)
p.quit()
EOF
}

# fetch_fetchmail HOST USER DIR [SERVER]: fetch all of USER's messages
# with fetchmail (POP3, fetchall, "keep" when FETCH_KEEP=1) and an MDA
# that writes each message to DIR/0001.eml, ...  Options keep the message
# as received: "set invisible" (no Received header of its own), "no rewrite"
# (addresses untouched), "no stripcr" (CRLF kept), "no mimedecode".
# Fetchmail then changes nothing in the message (checked byte-for-byte by
# t_e2e_baseline.sh); it still runs its header parser, so a message with
# a malformed header may differ.  Exit status 0 also when there was no
# mail.
fetch_fetchmail() {
	_ff_host=$1 _ff_user=$2 _ff_dir=$3 _ff_srv=${4:-$WORLD_SERVER}
	mkdir -p "$_ff_dir" || return 1
	_ff_home=$(mktemp -d "$WORLD_DIR/fetchmail.XXXXXX") || return 1
	cat >"$_ff_home/mda" <<'EOF'
#!/bin/sh
n=$(($(find "$1" -maxdepth 1 -name '*.eml' | wc -l) + 1))
exec cat >"$1/$(printf %04d "$n").eml"
EOF
	chmod 0755 "$_ff_home/mda"
	if [ "${FETCH_KEEP:-0}" = 1 ]; then _ff_keep=keep; else _ff_keep="no keep"; fi
	cat >"$_ff_home/rc" <<EOF
set no syslog
set no bouncemail
set no spambounce
set no softbounce
set invisible
poll "$_ff_srv" protocol pop3 port 110 timeout 120
  user "$_ff_user" there with password "$(world_pw "$_ff_user")" is "root" here
  fetchall $_ff_keep no rewrite no stripcr no mimedecode
  sslproto ''
  mda "$_ff_home/mda $_ff_dir"
EOF
	chmod 0600 "$_ff_home/rc"
	world_exec "$_ff_host" env HOME="$_ff_home" FETCHMAILHOME="$_ff_home" \
	    fetchmail -f "$_ff_home/rc" --nosoftbounce --nodetach \
	    -i "$_ff_home/ids" >"$_ff_home/log" 2>&1
	_ff_rc=$?
	if [ $_ff_rc -gt 1 ]; then
		sed 's/^/# fetchmail: /' "$_ff_home/log" | tail -n 20 >&2
	fi
	rm -rf "$_ff_home"
	[ $_ff_rc -le 1 ]
}

# strip_trace FILE: print FILE without the trace fields at the top of its
# header: Return-Path, Delivered-To, Received, X-Original-To (any case,
# with their continuation lines), stopping at the first other field.  The
# rest is printed byte-for-byte.
strip_trace() {
	"$WORLD_PY" - "$1" <<'EOF'
import re, sys
data = open(sys.argv[1], "rb").read()
trace = re.compile(rb"(?i)(return-path|delivered-to|received|x-original-to)[ \t]*:")
pos, skipping = 0, False
while pos < len(data):
    end = data.find(b"\n", pos)
    end = len(data) if end < 0 else end + 1
    line = data[pos:end]
    if trace.match(line):
        skipping = True
    elif not (skipping and line[:1] in (b" ", b"\t")):
        break
    pos = end
sys.stdout.buffer.write(data[pos:])
EOF
}

# maildir_grep USER STRING: exit 0 if STRING (bytes, no pattern) occurs in
# any message file of USER's Maildir on the server (new, cur, tmp).
maildir_grep() {
	LC_ALL=C grep -rqF -e "$2" "$WORLD_DIR/mail/${1%@*}"
}

# _world_sentinel NS ADDR STRING FILE: send UDP datagrams with STRING from
# NS to ADDR:9 until STRING shows up in the capture FILE (dumpcap flushes
# about twice a second), at most 10 s.  Captured packets are written in
# order, so after this every packet before the sentinel is in FILE.
_world_sentinel() {
	ip netns exec "$1" "$WORLD_PY" - "$2" "$3" "$4" <<'EOF'
import os, socket, sys, time
addr, tag, path = sys.argv[1], sys.argv[2].encode(), sys.argv[3]
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
deadline, last, pos = time.time() + 10, 0, 0
while time.time() < deadline:
    if time.time() - last > 0.25:
        s.sendto(tag, (addr, 9))
        last = time.time()
    try:
        with open(path, "rb") as f:   # only what is new since the last look
            f.seek(max(0, pos - len(tag)))
            chunk = f.read()
            pos = f.tell()
        if tag in chunk:
            sys.exit(0)
    except OSError:
        pass
    time.sleep(0.02)
sys.exit("world: capture %s did not see %s" % (path, tag.decode()))
EOF
}

# capture_start HOST FILE: capture (dumpcap, pcap format) on HOST's eth0
# inside HOST's namespace (normally srv), TCP ports 25 and 110, into FILE.
# Returns once the capture is running (a sentinel datagram was seen).
capture_start() {
	_cs_ns=$(world_ns "$1") || return 2
	_cs_file=$2
	case $_cs_file in /*) ;; *) _cs_file=$(pwd)/$_cs_file ;; esac
	case $_cs_ns in t2srv) _cs_peer=$WORLD_A4 ;; *) _cs_peer=$WORLD_SRV4 ;; esac
	rm -f "$_cs_file"
	ip netns exec "$_cs_ns" dumpcap -q -P -i eth0 -w "$_cs_file" \
	    -f 'tcp port 25 or tcp port 110 or udp port 9' \
	    >"$WORLD_DIR/capture.$$.log" 2>&1 &
	echo "$! $_cs_ns $_cs_peer $_cs_file" >>"$WORLD_DIR/captures"
	_world_sentinel "$_cs_ns" "$_cs_peer" "tcp2-e2e-capture-start-$$-$!" \
	    "$_cs_file"
}

# capture_stop: stop every capture capture_start started, after making
# sure (sentinel datagram) that everything sent so far is in the file.
capture_stop() {
	[ -f "$WORLD_DIR/captures" ] || return 0
	_cx_rc=0
	while read -r _cx_pid _cx_ns _cx_peer _cx_file; do
		if kill -0 "$_cx_pid" 2>/dev/null; then
			_world_sentinel "$_cx_ns" "$_cx_peer" \
			    "tcp2-e2e-capture-stop-$$-$_cx_pid" "$_cx_file" </dev/null ||
				_cx_rc=1
			kill -INT "$_cx_pid" 2>/dev/null
			_world_kill_wait_quiet "$_cx_pid"
		fi
	done <"$WORLD_DIR/captures"
	rm -f "$WORLD_DIR/captures"
	return $_cx_rc
}

# _world_kill_wait_quiet PID: wait up to 5 s for PID (already signalled)
# to exit, then SIGKILL it.
_world_kill_wait_quiet() {
	_wq_j=0
	while _world_alive "$1"; do
		if [ $_wq_j -ge 100 ]; then
			kill -9 "$1" 2>/dev/null
			return 0
		fi
		sleep 0.05
		_wq_j=$((_wq_j + 1))
	done
	return 0
}

# capture_grep FILE STRING [PORT]: exit 0 if STRING (bytes) occurs in the
# payload of any TCP stream in the capture FILE (only streams with PORT,
# if given).  Streams are reassembled by tshark ("follow,tcp,raw") and each
# direction is searched as one byte string, so a STRING split across TCP
# segments is found too.  Payload is searched as sent: a STRING that was
# only sent base64- or quoted-printable-encoded is NOT found.
capture_grep() {
	_cg_filter=tcp
	[ -n "${3:-}" ] && _cg_filter="tcp.port == $3"
	_cg_streams=$(tshark -r "$1" -Y "$_cg_filter" -T fields -e tcp.stream \
	    2>/dev/null | sort -un)
	[ -n "$_cg_streams" ] || return 1
	set -- "$1" "$2"
	for _cg_s in $_cg_streams; do
		set -- "$@" -z "follow,tcp,raw,$_cg_s"
	done
	_cg_file=$1 _cg_str=$2
	shift 2
	tshark -r "$_cg_file" -q "$@" 2>/dev/null |
		"$WORLD_PY" -c '
import binascii, sys
needle = sys.argv[1].encode("utf-8", "surrogateescape")
streams, cur = [], None
for line in sys.stdin.buffer:
    if line.startswith(b"Node 1:"):
        cur = [bytearray(), bytearray()]
        streams.append(cur)
        continue
    if line.startswith(b"====="):
        cur = None
        continue
    if cur is None:
        continue
    d = 1 if line.startswith(b"\t") else 0
    h = line.strip()
    if h:
        cur[d] += binascii.unhexlify(h)
sys.exit(0 if any(needle in bytes(x) for s in streams for x in s) else 1)
' "$_cg_str"
}

