#!/bin/sh
# demo.sh - TCP2 Mail in real mail sessions (make demo), in under a minute.
#
# Three machines in network namespaces (tests/e2e/world.sh): Alice's
# computer, Bob's computer and the mail server mail.example.org (Postfix
# for SMTP, Dovecot for POP3).  Alice and Bob use unmodified mail clients
# (curl); tcp2d runs on both computers and rewrites their SMTP and POP3
# connections.  The demo registers both accounts, exchanges keys by mail,
# sends one mail from Alice to Bob and shows the key states, the
# ciphertext the server stores, the plaintext Bob's client gets, and what
# a network observer saw.  Then the world is torn down, or left up with
# KEEP=1 (make demo KEEP=1).
#
# Needs root (namespaces, bridge, iptables NFQUEUE rules) and the test
# packages (make deps).  Uses the optimized build/bin (TCP2_BIN to
# change).  The demo on files, without root, is scripts/demo-offline.sh.
set -u
cd "$(dirname "$0")/.." || exit 2

KEEP=${KEEP:-0}
T0=$(date +%s)

if [ "$(id -u)" -ne 0 ]; then
	cat >&2 <<'EOF'
demo: the network demo must run as root: it builds network namespaces,
a bridge and iptables rules, and runs Postfix, Dovecot and tcp2d in them.
Run "sudo make demo" (or "make demo-offline": the same story on files,
no root, no network).
EOF
	exit 1
fi

TCP2_BIN=${TCP2_BIN:-$PWD/build/bin}
export TCP2_BIN
for b in tcp2d tcp2ctl; do
	if [ ! -x "$TCP2_BIN/$b" ]; then
		echo "demo: $TCP2_BIN/$b is missing: run make first" >&2
		exit 1
	fi
done
case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH=$PATH:/usr/sbin:/sbin ;; esac
for t in ip iptables curl postfix dovecot dumpcap tshark python3; do
	if ! command -v "$t" >/dev/null 2>&1; then
		echo "demo: $t is not installed: run make deps" \
		    "(scripts/install-deps.sh) first" >&2
		exit 1
	fi
done

. tests/e2e/world.sh
. tests/e2e/tcp2d.sh

T=$(mktemp -d /var/tmp/tcp2-demo.XXXXXX)
up=0
cleanup() {
	rc=$?
	if [ "$rc" -ne 0 ] && [ $up -eq 1 ]; then
		for h in a b; do
			echo "--- last lines of the tcp2d log on $h:" >&2
			tcp2d_log "$h" | tail -n 15 >&2
		done
	fi
	if [ "$KEEP" != 1 ] && [ $up -eq 1 ]; then
		tcp2d_stop a
		tcp2d_stop b
		world_down
	fi
	rm -rf "$T"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

B=$(printf '\033[1m') N=$(printf '\033[0m')
[ -t 1 ] || B='' N=''
say() { printf '\n%s== %s%s\n' "$B" "$*" "$N"; }
note() { for _n in "$@"; do
	if [ -n "$_n" ]; then printf '   %s\n' "$_n"; else echo; fi; done; }
die() {
	echo "demo: FAILED: $*" >&2
	exit 1
}
# indent: the input, CR removed, indented, control characters harmless
indent() { tr -d '\r' | sed 's/^/   | /'; }

# mkmail FILE FROM TO SUBJECT [BODY-LINE...]: a mail with CRLF lines
mkmail() {
	_f=$1 _from=$2 _to=$3 _subj=$4
	shift 4
	{
		printf 'From: %s\r\nTo: %s\r\nSubject: %s\r\n' "$_from" "$_to" "$_subj"
		printf 'Date: %s\r\n' "$(LC_ALL=C date -R)"
		printf 'Message-ID: <%s@example.org>\r\n' \
		    "$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
		printf 'MIME-Version: 1.0\r\n'
		printf 'Content-Type: text/plain; charset=utf-8\r\n\r\n'
		for _l in "$@"; do printf '%s\r\n' "$_l"; done
	} >"$_f"
}

cat <<EOF
${B}TCP2 Mail - the network demo${N}

   Alice's computer (10.77.0.2)   Bob's computer (10.77.0.3)
     curl + tcp2d                   curl + tcp2d
              \\                      /
               mail.example.org (10.77.0.1)
               Postfix (SMTP :25), Dovecot (POP3 :110)

   Alice and Bob use an unmodified mail client (curl). tcp2d, on their
   computers, captures the client's SMTP and POP3 connections to the
   server and encrypts / decrypts the mail inside them.
EOF

# ---------------------------------------------------------------------
say "1. The world: three machines in network namespaces"
T1=$(date +%s)
world_up || die "the world did not come up"
up=1
T2=$(date +%s)
note "Postfix and Dovecot run on mail.example.org."
tcp2d_start a || die "tcp2d did not start on Alice's computer"
tcp2d_start b || die "tcp2d did not start on Bob's computer"
note "tcp2d runs on Alice's and on Bob's computer ($TCP2_BIN/tcp2d)."

# ---------------------------------------------------------------------
say "2. Registration: tcp2d learns each account from the user's own client"
note "'tcp2ctl register', then the client checks mail (POP3 login) and" \
    "sends a mail with the subject \"TCP2 registration\" to its own address."
for u in alice:a bob:b; do
	name=${u%:*} h=${u#*:}
	tcp2ctl_on "$h" register >/dev/null || die "tcp2ctl register ($name)"
	fetch_curl "$h" "$name" "$T/reg-$name-fetch" >/dev/null 2>&1 ||
		die "POP3 login of $name"
	mkmail "$T/reg-$name.eml" "$name@example.org" "$name@example.org" \
	    "TCP2 registration" "please register me"
	send_curl "$h" "$name@example.org" "$name@example.org" \
	    "$T/reg-$name.eml" || die "registration mail of $name"
	tcp2d_wait_account "$h" "$name@example.org" 10 ||
		die "the registration of $name did not complete"
done
note "" "Alice's tcp2d now protects this account:"
tcp2ctl_on a account list | indent
note "Bob's tcp2d now protects this account:"
tcp2ctl_on b account list | indent
world_wait_queue
fetch_curl a alice "$T/drain-a" >/dev/null 2>&1
fetch_curl b bob "$T/drain-b" >/dev/null 2>&1

# ---------------------------------------------------------------------
say "3. Key exchange, by mail"
note "Alice sends Bob a mail with the subject \"TCP2 key exchange\";" \
    "her tcp2d puts her public keys into it."
mkmail "$T/kx1.eml" alice@example.org bob@example.org "TCP2 key exchange" \
    "please"
send_curl a alice@example.org bob@example.org "$T/kx1.eml" ||
	die "key-exchange mail from Alice"
world_wait_mail bob 1 || die "the key-exchange mail did not reach Bob"
fetch_curl b bob "$T/kx1-got" || die "Bob's POP3 fetch"
note "Bob's tcp2d takes the keys out; Bob's client gets a notice instead:"
tr -d '\r' <"$T/kx1-got/0001.eml" | grep '^Subject:' | indent
note "(\"reply due\": Bob's tcp2d now has Alice's keys and asks Bob to" \
    "answer with a key-exchange mail of his own)"
tcp2d_wait_peer b alice@example.org established 5 ||
	die "Bob's tcp2d did not establish Alice's key"
note "Bob answers the same way: a \"TCP2 key exchange\" mail to Alice;" \
    "Alice's client gets the notice:"
mkmail "$T/kx2.eml" bob@example.org alice@example.org "TCP2 key exchange" \
    "please"
send_curl b bob@example.org alice@example.org "$T/kx2.eml" ||
	die "key-exchange mail from Bob"
world_wait_mail alice 1 || die "the key-exchange answer did not reach Alice"
fetch_curl a alice "$T/kx2-got" || die "Alice's POP3 fetch"
tr -d '\r' <"$T/kx2-got/0001.eml" | grep '^Subject:' | indent
tcp2d_wait_peer a bob@example.org established 5 ||
	die "Alice's tcp2d did not establish Bob's key"

# ---------------------------------------------------------------------
say "4. Key states and comparison codes (tcp2ctl peers)"
note "On Alice's computer:"
tcp2ctl_on a peers | indent
note "On Bob's computer:"
tcp2ctl_on b peers | indent
code() {
	tcp2ctl_on "$1" --json peers | "$WORLD_PY" -c '
import json, sys
print([p["code"] for p in json.load(sys.stdin)["peers"] if p["addr"] == sys.argv[1]][0])' "$2"
}
ca=$(code a bob@example.org) cb=$(code b alice@example.org)
[ -n "$ca" ] && [ "$ca" = "$cb" ] || die "the comparison codes differ"
note "" "Both see the comparison code $ca. Alice and Bob read it to" \
    "each other by phone; it matches, so nobody is in between, and each" \
    "marks the other verified (tcp2ctl peer verify ADDR):"
tcp2ctl_on a peer verify bob@example.org >/dev/null || die "peer verify (a)"
tcp2ctl_on b peer verify alice@example.org >/dev/null || die "peer verify (b)"
note "On Alice's computer:"
tcp2ctl_on a peers | indent
note "On Bob's computer:"
tcp2ctl_on b peers | indent

# ---------------------------------------------------------------------
SUBJ="Meet me at the old bridge on Friday at ten"
LINE="The new product launches on 1 March. Keep it to yourself until then."
say "5. Alice writes to Bob"
mkmail "$T/mail.eml" "Alice <alice@example.org>" "Bob <bob@example.org>" \
    "$SUBJ" "Hi Bob," "" "$LINE" "" "Alice"
note "What Alice's client sends (curl smtp://mail.example.org --upload-file):"
indent <"$T/mail.eml"
capture_start srv "$T/wire.pcap" || die "capture"
send_curl a alice@example.org bob@example.org "$T/mail.eml" ||
	die "Alice's mail"
world_wait_mail bob 1 || die "Alice's mail did not reach Bob's mailbox"

# ---------------------------------------------------------------------
say "6. What the server stores in Bob's mailbox (shortened)"
f=$(ls -t "$WORLD_DIR"/mail/bob/new/* 2>/dev/null | head -n 1)
[ -n "$f" ] || die "no stored mail"
note "$f"
awk 'b64 && /^--/ { b64 = 0 }
	b64 && n++ == 4 { print "...   (" lines " lines of base64 ciphertext)" }
	b64 && n > 4 { next }
	/^Content-Transfer-Encoding: base64/ { b64 = 1; n = 0 }
	{ print }' lines="$(awk '/^Content-Transfer-Encoding: base64/ { b = 1;
	    next } b && /^--/ { b = 0 } b && NF { n++ } END { print n }' "$f")" \
    "$f" | indent
if maildir_grep bob "$SUBJ" || maildir_grep bob "$LINE"; then
	die "the subject or the text is stored in clear"
fi
note "The subject and the text are nowhere in the stored file (grep): the" \
    "server only has the addresses, the date and the ciphertext."

# ---------------------------------------------------------------------
say "7. What Bob's unmodified client receives (curl pop3://mail.example.org)"
FETCH_KEEP=1 fetch_curl b bob "$T/got" || die "Bob's POP3 fetch"
indent <"$T/got/0001.eml"
strip_trace "$T/got/0001.eml" >"$T/got.stripped"
if cmp -s "$T/got.stripped" "$T/mail.eml"; then
	note "" "cmp: after the trace fields the server adds to every mail" \
	    "(Return-Path, X-Original-To, Delivered-To, Received), this is byte" \
	    "for byte what Alice wrote: identical."
else
	cmp "$T/got.stripped" "$T/mail.eml"
	die "Bob's client did not get what Alice wrote"
fi
capture_stop || die "capture"

# ---------------------------------------------------------------------
say "8. What a network observer saw (tshark on the server's link)"
s=no l=no e=no
capture_grep "$T/wire.pcap" "$SUBJ" && s=yes
capture_grep "$T/wire.pcap" "$LINE" && l=yes
capture_grep "$T/wire.pcap" "Subject: [TCP2 encrypted message]" && e=yes
note "the SMTP and POP3 traffic of Alice's sending and Bob's fetching:" \
    "  subject \"$SUBJ\" on the wire: $s" \
    "  the text \"${LINE%% until*}...\" on the wire: $l" \
    "  \"Subject: [TCP2 encrypted message]\" on the wire: $e"
[ $s = no ] && [ $l = no ] || die "plaintext on the wire"

T3=$(date +%s)
say "Done in $((T3 - T0 - (T2 - T1))) s (plus $((T2 - T1)) s to bring the world up)."
if [ "$KEEP" = 1 ]; then
	C=$WORLD_DIR/tcp2
	cat <<EOF
   The world is still up (KEEP=1). To poke at it, as root:
   - tcp2d's key states on Alice's / Bob's computer (also: status,
     account list, flows, events):
       $TCP2_BIN/tcp2ctl --control $C-t2a/control peers
       $TCP2_BIN/tcp2ctl --control $C-t2b/control peers
   - Alice sends a mail (FILE: a message with From, To, Subject):
       ip netns exec t2a curl smtp://10.77.0.1 --mail-from alice@example.org \\
           --mail-rcpt bob@example.org --upload-file FILE
   - Bob's mailbox, through his tcp2d (Alice's mail is still there):
       ip netns exec t2b curl -u bob:bobpw pop3://10.77.0.1/1
   - What the server stores, and the daemons' logs:
       ls $WORLD_DIR/mail/bob/new $WORLD_DIR/mail/bob/cur
       tail $WORLD_DIR/tcp2-t2a/log $WORLD_DIR/tcp2-t2b/log
   Tear it down (the next e2e test would take it over and do that, too):
       sh -c '. tests/e2e/world.sh; world_down'
EOF
else
	note "Tearing the world down (make demo KEEP=1 leaves it up)."
fi
