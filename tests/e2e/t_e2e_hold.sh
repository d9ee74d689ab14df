#!/bin/sh
# t_e2e_hold.sh - held mail end to end (docs/HOLD.md): Bob's tcp2d holds
# HTML mail, a risky attachment, a forged sender and a sender whose key
# changed; Bob's unmodified client gets a notice instead, the original is
# in the encrypted quarantine; Receive brings it back at the next mail
# check byte-identical (or without its attachment), Discard deletes it;
# show and decrypt give the plaintext; kill -9 at random points while
# holding loses nothing; 100 held mails list in under a second.
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/world.sh
. tests/e2e/tcp2d.sh

T=$(mktemp -d /var/tmp/tcp2-hold.XXXXXX)
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

# mkmail FILE FROM TO SUBJECT KIND MARKER: a CRLF message
mkmail() {
	"$WORLD_PY" - "$@" <<'PY'
import sys, os, email.utils
path, frm, to, subj, kind, mark = sys.argv[1:7]
h = ("From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%s@example.org>\r\n"
     "MIME-Version: 1.0\r\n" % (frm, to, subj, email.utils.formatdate(), os.urandom(8).hex()))
if kind == "text":
    m = h + "Content-Type: text/plain; charset=us-ascii\r\n\r\nHello %s\r\n" % mark
elif kind == "html":
    m = h + "Content-Type: text/html; charset=us-ascii\r\n\r\n<p>Hello <b>%s</b></p>\r\n" % mark
elif kind == "exe":
    m = (h + "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
         "--b1\r\nContent-Type: text/plain\r\n\r\nInvoice attached %s\r\n"
         "--b1\r\nContent-Type: application/octet-stream; name=\"invoice.exe\"\r\n"
         "Content-Disposition: attachment; filename=\"invoice.exe\"\r\n"
         "Content-Transfer-Encoding: base64\r\n\r\nTVqQAAMAAAAEAAAA//8AALgAAAAA%s\r\n--b1--\r\n" % (mark, mark))
else:
    m = h + "\r\nplease\r\n"
open(path, "wb").write(m.encode())
PY
}
same() { strip_trace "$1" >"$1.stripped" && cmp -s "$1.stripped" "$2"; }
held_json() { tcp2ctl_on b --json held; }
# held_id MARKER-IN-SUBJECT: the id of Bob's held mail with that subject
held_id() {
	held_json | "$WORLD_PY" -c 'import json,sys
for m in json.load(sys.stdin)["held"]:
    if sys.argv[1] in m["subject"]: print(m["id"]); break' "$1"
}
held_field() {
	held_json | "$WORLD_PY" -c 'import json,sys
for m in json.load(sys.stdin)["held"]:
    if m["id"] == sys.argv[1]: print(m[sys.argv[2]]); break' "$1" "$2"
}
# held_has TEXT: Bob's held list (JSON) mentions TEXT
held_has() { held_json | grep -qF -- "$1"; }
held_count() { held_json | "$WORLD_PY" -c 'import json,sys; print(len(json.load(sys.stdin)["held"]))'; }
# from_srv FROM FILE: mail to Bob straight from the server host (a stranger)
from_srv() { send_swaks srv "$1" bob@example.org "$2"; }

check "world up" world_up
check "tcp2d starts on Alice's host" tcp2d_start a
check "tcp2d starts on Bob's host" tcp2d_start b
check "registration of alice" tcp2d_register a alice "$T"
check "registration of bob" tcp2d_register b bob "$T"
world_wait_queue
FETCH_KEEP=0 fetch_curl a alice "$T/drain-a" >/dev/null 2>&1
FETCH_KEEP=0 fetch_curl b bob "$T/drain-b" >/dev/null 2>&1
mkmail "$T/kx1.eml" alice@example.org bob@example.org "TCP2 key exchange" keyx x
send_curl a alice@example.org bob@example.org "$T/kx1.eml"
world_wait_mail bob 1
fetch_poplib b bob "$T/kx1-got"
mkmail "$T/kx2.eml" bob@example.org alice@example.org "TCP2 key exchange" keyx x
send_curl b bob@example.org alice@example.org "$T/kx2.eml"
world_wait_mail alice 1
fetch_poplib a alice "$T/kx2-got"
check "Alice and Bob have a key" tcp2d_wait_peer a bob@example.org established 5

# --- Hold reasons: HTML and a risky attachment from a stranger.
mkmail "$T/html.eml" carol@example.org bob@example.org "hold-html" html MARKHTML
mkmail "$T/exe.eml" carol@example.org bob@example.org "hold-exe" exe MARKEXE
from_srv carol@example.org "$T/html.eml"
from_srv carol@example.org "$T/exe.eml"
world_wait_mail bob 2
fetch_poplib b bob "$T/got1"
check "the client got two notices, not the mails" \
    test "$(grep -l 'Subject: TCP2: held: hold-' "$T"/got1/*.eml | wc -l)" -eq 2
check "no HTML and no attachment reached the client" \
    not grep -rq "MARKHTML\|TVqQ" "$T/got1"
check "the server's mailbox is empty (the client deleted them)" \
    test "$(world_mail_count bob)" -eq 0
ih=$(held_id hold-html)
ie=$(held_id hold-exe)
check "held: the HTML mail, reason HTML" \
    test -n "$ih" -a "$(held_field "$ih" reason)" = "HTML, not signed"
check "held: the invoice.exe mail, named in the reason" \
    test "$(held_field "$ie" reason)" = "attachment invoice.exe, not signed"
tcp2ctl_on b held >"$T/held.txt"
check "tcp2ctl held: one line per mail with sender and subject" \
    test "$(grep -c 'carol@example.org.*hold-' "$T/held.txt")" -eq 2
check "the notice names sender, subject, why and the id" \
    grep -q "Held as:  $ie" $(grep -l 'hold-exe' "$T"/got1/*.eml)
tcp2ctl_on b show "$ih" >"$T/show.eml"
check "tcp2ctl show: the held mail, byte for byte" same "$T/show.eml" "$T/html.eml"
check "the quarantine on disk has no marker" \
    not grep -rq "MARKHTML\|MARKEXE" "$(_tcp2d_dir b)/state"

# --- Receive, Receive without attachments, Discard.
check "tcp2ctl receive (HTML)" tcp2ctl_on b receive "$ih"
check "tcp2ctl receive --strip-attachments (exe)" \
    tcp2ctl_on b receive --strip-attachments "$ie"
check "both are back in Bob's mailbox" world_wait_mail bob 2 20
fetch_poplib b bob "$T/got2"
fh=$(grep -l MARKHTML "$T"/got2/*.eml | head -n 1)
fe=$(grep -l "Invoice attached" "$T"/got2/*.eml | head -n 1)
check "received HTML mail: byte-identical to what Carol sent" \
    same "${fh:-/nonexistent}" "$T/html.eml"
check "  ...without the release tag" not grep -q X-TCP2-Release "${fh:-/nonexistent}"
check "received without attachments: the text is there" test -n "$fe"
check "  ...the attachment is not" not grep -q "TVqQ" "${fe:-/dev/null}"
check "  ...and a note says what was removed" \
    grep -q "TCP2 Mail removed 1 attachment" "${fe:-/nonexistent}"
check "received mail leaves the quarantine" test "$(held_count)" -eq 0
mkmail "$T/html2.eml" carol@example.org bob@example.org "hold-discard" html MARKDISC
from_srv carol@example.org "$T/html2.eml"
world_wait_mail bob 1
fetch_poplib b bob "$T/got3"
idd=$(held_id hold-discard)
check "tcp2ctl discard" tcp2ctl_on b discard "$idd"
check "discarded: gone from the list" not held_has "$idd"
tcp2ctl_on b show "$idd" >"$T/show2.out" 2>&1
check "discarded: show says no such held mail" \
    grep -q "no such held mail" "$T/show2.out"

# --- Forged sender: Alice's signed plain mail to Carol, altered, to Bob.
mkmail "$T/tocarol.eml" alice@example.org carol@example.org "signed" text MARKSIGNED
send_curl a alice@example.org carol@example.org "$T/tocarol.eml"
world_wait_mail carol 1
sf=$(ls "$WORLD_DIR"/mail/carol/new/* | head -n 1)
strip_trace "$sf" | sed 's/MARKSIGNED/MARKFORGED/; s/Subject: signed/Subject: hold-forged/' |
    sed 's/\r\{0,1\}$/\r/' >"$T/forged.eml"
check "Alice's mail to Carol carries a signature line" grep -q "TCP2-Signature" "$T/forged.eml"
from_srv alice@example.org "$T/forged.eml"
world_wait_mail bob 1
fetch_poplib b bob "$T/got4"
check "forged From: held, not delivered" not grep -rq MARKFORGED "$T/got4"
check "  ...reason: FORGED sender" held_has "FORGED sender"

# --- Decrypt a mail the client stored: the server's copy of an encrypted
# Alice->Bob mail is ciphertext; tcp2ctl decrypt gives the plaintext.
mkmail "$T/enc.eml" alice@example.org bob@example.org "encrypted one" text MARKENC
send_curl a alice@example.org bob@example.org "$T/enc.eml"
world_wait_mail bob 1
ef=$(ls "$WORLD_DIR"/mail/bob/new/* | head -n 1)
check "the server holds it encrypted" not grep -q MARKENC "$ef"
world_exec b "$TCP2_BIN/tcp2ctl" --control "$(_tcp2d_dir b)/control" \
    decrypt <"$ef" >"$T/dec.eml"
check "tcp2ctl decrypt: the plaintext, byte-identical" same "$T/dec.eml" "$T/enc.eml"
fetch_poplib b bob "$T/got5"
check "and the mail itself reaches the client decrypted, not held" \
    same "$T/got5/0001.eml" "$T/enc.eml"

# --- Undecryptable: one character of a stored ciphertext changed.
mkmail "$T/tamp.eml" alice@example.org bob@example.org "tampered" text MARKTAMP
send_curl a alice@example.org bob@example.org "$T/tamp.eml"
world_wait_mail bob 1
"$WORLD_PY" - "$(ls "$WORLD_DIR"/mail/bob/new/* | head -n 1)" <<'PY'
import re, sys
data = open(sys.argv[1], "rb").read()
lines = data.split(b"\n")
b64 = [i for i, l in enumerate(lines) if re.fullmatch(rb"[A-Za-z0-9+/]{60,}\r?", l)]
i = b64[len(b64) // 2]
l = bytearray(lines[i]); l[10] = ord("A") if l[10] != ord("A") else ord("B")
lines[i] = bytes(l)
open(sys.argv[1], "wb").write(b"\n".join(lines))
PY
fetch_poplib b bob "$T/got-tamp"
check "a tampered encrypted mail: held as undecryptable at once" \
    grep -q "Why:      cannot be decrypted" "$T/got-tamp/0001.eml"
check "  ...no plaintext of it reached the client" not grep -rq MARKTAMP "$T/got-tamp"

# --- Key change: Alice's host loses its state and exchanges keys anew.
tcp2d_stop a
rm -rf "$(_tcp2d_dir a)/state"
check "tcp2d restarts on Alice's host with a new identity" tcp2d_start a
tcp2ctl_on a account add --addr alice@example.org --pop3 10.77.0.1:110 \
    --smtp 10.77.0.1:25 --user alice >/dev/null
mkmail "$T/kx3.eml" alice@example.org bob@example.org "TCP2 key exchange" keyx x
send_curl a alice@example.org bob@example.org "$T/kx3.eml"
world_wait_mail bob 1
fetch_poplib b bob "$T/kx3-got"
check "Bob sees Alice's key CHANGED" tcp2d_wait_peer b alice@example.org changed 5
mkmail "$T/chg.eml" alice@example.org bob@example.org "hold-changed" text MARKCHG
send_curl a alice@example.org bob@example.org "$T/chg.eml"
world_wait_mail bob 1
fetch_poplib b bob "$T/got6"
check "mail from a changed key: held, not delivered" not grep -rq MARKCHG "$T/got6"
check "  ...reason names the key change" held_has "key CHANGED"

# --- kill -9 at random points while mail is being held: every mail is
# still on the server or in the quarantine, never neither.
i=1
while [ $i -le 6 ]; do
	mkmail "$T/k$i.eml" carol@example.org bob@example.org "kill-$i" html "MARKKILL$i"
	from_srv carol@example.org "$T/k$i.eml"
	i=$((i + 1))
done
world_wait_mail bob 6
i=1
while [ $i -le 4 ]; do
	( fetch_poplib b bob "$T/gotk$i" >/dev/null 2>&1 ) &
	fp=$!
	sleep "0.$(od -An -N1 -tu1 /dev/urandom | tr -d ' ')" 2>/dev/null || sleep 0.1
	tcp2d_kill b
	wait $fp 2>/dev/null
	tcp2d_start b >/dev/null 2>&1
	i=$((i + 1))
done
fetch_poplib b bob "$T/gotk-final" >/dev/null 2>&1
lost=0
i=1
while [ $i -le 6 ]; do
	if ! maildir_grep bob "MARKKILL$i" && ! held_has "kill-$i"; then
		lost=$((lost + 1))
	fi
	i=$((i + 1))
done
check "kill -9 four times while holding: none of 6 mails lost ($lost lost)" test "$lost" -eq 0
check "no HTML reached the client across the kills" not grep -rq "<b>MARKKILL" "$T"/gotk*

# --- kill -9 right after Receive: the decision survives, the mail
# arrives (perhaps twice, never not at all).
ik=$(held_id kill-1)
[ -z "$ik" ] && ik=$(held_id kill-2)
tcp2ctl_on b receive "$ik" >/dev/null
tcp2d_kill b
check "tcp2d restarts after kill -9 during a release" tcp2d_start b
world_wait_mail bob 1 30
sleep 1
fetch_poplib b bob "$T/gotrel"
check "the released mail reaches the client after the kill" \
    sh -c "grep -l 'MARKKILL[12]</b>' $T/gotrel/*.eml | grep -q ."
check "  ...and it was not held again" \
    not grep -rq "Subject: TCP2: held: kill-" "$T/gotrel"

# --- 100 held mails list in under a second.
"$WORLD_PY" - "$T/many" <<'PY'
import os, sys
os.makedirs(sys.argv[1])
for i in range(100):
    open("%s/%03d.eml" % (sys.argv[1], i), "wb").write((
        "From: carol@example.org\r\nTo: bob@example.org\r\nSubject: many-%d\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/html\r\n\r\n<p>%d</p>\r\n" % (i, i)).encode())
PY
send_smtplib_many srv carol@example.org bob@example.org "$T"/many/*.eml 2>/dev/null ||
    world_exec srv "$WORLD_PY" -c 'import smtplib,sys,glob
s=smtplib.SMTP(sys.argv[1],25,timeout=60)
for f in sorted(glob.glob(sys.argv[2]+"/*.eml")): s.sendmail("carol@example.org",["bob@example.org"],open(f,"rb").read())
s.quit()' "$WORLD_SERVER" "$T/many"
world_wait_mail bob 100 60
fetch_poplib b bob "$T/gotmany" >/dev/null 2>&1
n=$(held_count)
t0=$(date +%s%N)
tcp2ctl_on b held >"$T/held100.txt"
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
check "at least 100 held mails ($n)" test "$n" -ge 100
check "tcp2ctl held lists them in under a second (${ms} ms)" test "$ms" -lt 1000

# --- Keep ciphertext: a held encrypted mail is released as it arrived.
tcp2ctl_on b account add --addr bob@example.org --pop3 10.77.0.1:110 \
    --smtp 10.77.0.1:25 --user bob --keep ciphertext >/dev/null
tcp2ctl_on b peer accept alice@example.org >/dev/null 2>&1
mkmail "$T/kx4.eml" bob@example.org alice@example.org "TCP2 key exchange" keyx x
send_curl b bob@example.org alice@example.org "$T/kx4.eml"
world_wait_mail alice 1
fetch_poplib a alice "$T/kx4-got" >/dev/null 2>&1
mkmail "$T/ench.eml" alice@example.org bob@example.org "hold-enc-html" html MARKENCH
send_curl a alice@example.org bob@example.org "$T/ench.eml"
world_wait_mail bob 1
fetch_poplib b bob "$T/got7" >/dev/null 2>&1
ic=$(held_id hold-enc-html)
check "an encrypted HTML mail is held (encrypted: $(held_field "$ic" encrypted))" \
    test "$(held_field "$ic" encrypted)" = True
tcp2ctl_on b receive "$ic" >/dev/null
world_wait_mail bob 1 20
fetch_poplib b bob "$T/got8" >/dev/null 2>&1
check "--keep ciphertext: the client gets it encrypted" \
    grep -q "application/x-tcp2-message" "$T/got8/0001.eml"
check "  ...and tcp2ctl decrypt opens it" sh -c \
    "ip netns exec t2b '$TCP2_BIN/tcp2ctl' --control '$(_tcp2d_dir b)/control' decrypt <'$T/got8/0001.eml' | grep -q MARKENCH"

# --- Expiry, under libfaketime (preloaded by env, which then runs tcp2d
# itself, so that tcp2d_stop stops the daemon and not a wrapper): a day
# before, one warning; then deleted.
FAKETIME_LIB=$(dpkg -L libfaketime | grep '/libfaketime.so.1$' | head -n 1)
ix=$(held_id many-1)
tcp2d_stop b
TCP2D_WRAP="env LD_PRELOAD=$FAKETIME_LIB FAKETIME=+708h" tcp2d_start b
check "a day before it expires, a held mail is announced" \
    grep -q "will be deleted within a day" "$(_tcp2d_dir b)/log"
tcp2d_stop b
TCP2D_WRAP="env LD_PRELOAD=$FAKETIME_LIB FAKETIME=+744h" tcp2d_start b
check "after its time, it is deleted" \
    grep -q "expired and was deleted" "$(_tcp2d_dir b)/log"
check "  ...and gone from the list" not held_has "$ix"
tcp2d_stop b

check "no sanitizer report from Alice's tcp2d" tcp2d_asan a
check "no sanitizer report from Bob's tcp2d" tcp2d_asan b
exit $fail
