#!/bin/sh
# t_e2e_concurrent.sh - 50 sessions at once through one tcp2d (Alice's):
# 25 SMTP sessions (Python smtplib) sending encrypted mail to carol, dave
# and erin (some to all three) and 25 POP3 sessions (Python poplib, mail
# left on the server) each retrieving Alice's 12 encrypted mails.  All 50
# log in, then wait at a barrier: at that moment tcp2d must show 50 open
# flows; then they all transfer at once.
# Judged by content: every message Alice's clients got is byte-identical
# to its original (SHA-256 after the trace fields); every stored mail for
# carol, dave and erin is a TCP2 message that their own keys (tcp2-mail,
# outside the world) decrypt to the byte-identical original, each exactly
# once; no marker in any Maildir; no aborted session, no sanitizer report.
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/world.sh
. tests/e2e/tcp2d.sh

T=$(mktemp -d /var/tmp/tcp2-conc.XXXXXX)
. tests/e2e/check.sh
start() { tcp2d_start "$@"; }
cleanup() {
	tcp2d_stop a
	if [ "$fail" -ne 0 ]; then
		tcp2d_log_tail a 30 ' opened to \| closed: \|received: encrypted'
	fi
	world_down
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

M=$TCP2_BIN/tcp2-mail
MARK=conc$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
NS=25		# SMTP sessions
NP=25		# POP3 sessions
NB=12		# mails in Alice's mailbox
start=$(date +%s)

# out/sNN.eml: the SMTP mails (1-100 KB, one of 2 MB; every fifth to
# carol, dave and erin at once, the others to one of them); rcpt/sNN: its
# recipients.  in/bNN.eml: Alice's mails from Bob (1-60 KB, two of 1 MB).
mkdir -p "$T/out" "$T/rcpt" "$T/in"
"$WORLD_PY" - "$T" "$NS" "$NB" "$MARK" <<'PY' || exit 2
import os, random, sys, email.utils
d, ns, nb, mark = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
rnd = random.Random(os.urandom(8))
def mail(path, frm, to, subj, size):
    h = ("From: %s\r\nTo: %s\r\nSubject: %s %s\r\nDate: %s\r\n"
         "Message-ID: <%s@example.org>\r\nMIME-Version: 1.0\r\n"
         "Content-Type: text/plain; charset=utf-8\r\n"
         "Content-Transfer-Encoding: 8bit\r\n\r\n"
         % (frm, to, subj, mark, email.utils.formatdate(), os.urandom(8).hex())).encode()
    body = [b"Hello, this is %s %s\r\n" % (subj.encode(), mark.encode()),
            b".\r\n", b"..dot\r\n", "\u00e9t\u00e9\r\n".encode()]
    n = len(h) + sum(map(len, body))
    while n < size:
        l = os.urandom(rnd.randint(5, 45)).hex().encode() + b"\r\n"
        body.append(l)
        n += len(l)
    open(path, "wb").write(h + b"".join(body))
rc = ["carol@example.org", "dave@example.org", "erin@example.org"]
for i in range(1, ns + 1):
    to = ",".join(rc) if i % 5 == 0 else rc[i % 3]
    size = 2 * 1024 * 1024 if i == 7 else rnd.randint(20 * 1024, 300 * 1024)
    mail("%s/out/s%02d.eml" % (d, i), "alice@example.org", to.replace(",", ", "),
         "smtp %d" % i, size)
    open("%s/rcpt/s%02d" % (d, i), "w").write(to)
for i in range(1, nb + 1):
    size = 1024 * 1024 if i in (5, 9) else rnd.randint(1024, 60 * 1024)
    mail("%s/in/b%02d.eml" % (d, i), "bob@example.org", "alice@example.org",
         "pop %d" % i, size)
PY

check "world up" world_up
AD=$(_tcp2d_dir a)
mkdir -p "$AD"
# Keys: Alice's (her daemon's store) with bob, carol, dave and erin, whose
# stores are outside the world (to encrypt Alice's mail, to check theirs).
keys() {
	"$M" --store "$AD/state" init --addr alice@example.org || return 1
	for u in bob carol dave erin; do
		"$M" --store "$T/st-$u" init --addr "$u@example.org" &&
		"$M" --store "$AD/state" keyx-start --to "$u@example.org" >"$T/kx1-$u" &&
		"$M" --store "$T/st-$u" keyx-recv <"$T/kx1-$u" >"$T/kx2-$u" &&
		"$M" --store "$AD/state" keyx-recv <"$T/kx2-$u" || return 1
	done
} 2>"$T/keys.log"
check "keys of Alice with bob, carol, dave and erin established (tcp2-mail)" keys

# Alice's mailbox, filled before her daemon runs: encrypted by Bob's key
# (tcp2-mail) and handed to Postfix from the server host itself.
prefill() {
	for f in "$T"/in/b*.eml; do
		"$M" --store "$T/st-bob" encrypt --to alice@example.org <"$f" >"$f.enc" &&
		send_curl srv bob@example.org alice@example.org "$f.enc" "$WORLD_SRV4" ||
			return 1
	done 2>>"$T/prefill.log"
	world_wait_mail alice "$NB" 30
}
check "Alice's mailbox holds $NB encrypted mails" prefill
check "tcp2d starts on Alice's host" start a
tcp2ctl_on a account add --addr alice@example.org --pop3 "$WORLD_SRV4:110" \
    --smtp "$WORLD_SRV4:25" --user alice >/dev/null
check "Alice's daemon has four established peers" sh -c \
    ". tests/e2e/world.sh; . tests/e2e/tcp2d.sh;
     [ \$(tcp2ctl_on a peers | grep -c established) -eq 4 ]"

# --- 50 sessions at once, all through Alice's tcp2d.  Each thread logs in
# (SMTP: greeting and EHLO; POP3: USER and PASS), then waits at a barrier;
# once all 50 are there, the daemon's open flows are counted over its
# control socket (a unix socket: reachable from inside the namespace),
# and a second barrier lets them all transfer at once.
mkdir -p "$T/got"
t0=$(date +%s)
world_exec a "$WORLD_PY" - "$WORLD_SRV4" "$AD/control" "$T" "$NS" "$NP" \
    >"$T/sessions.log" 2>&1 <<'PY'
import json, os, poplib, smtplib, socket, sys, threading
srv, ctl, d, ns, np_ = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
poplib._MAXLINE = 1 << 24
n = ns + np_
logged_in = threading.Barrier(n + 1, timeout=120)
go = threading.Barrier(n + 1, timeout=120)
res = {}

def smtp_job(i):
    name = "s%02d" % i
    try:
        data = open("%s/out/%s.eml" % (d, name), "rb").read()
        rcpts = open("%s/rcpt/%s" % (d, name)).read().split(",")
        s = smtplib.SMTP(srv, 25, local_hostname="a.example.org", timeout=120)
        s.ehlo()
        logged_in.wait()
        go.wait()
        s.sendmail("alice@example.org", rcpts, data)
        s.quit()
        res[name] = "ok"
    except Exception as e:
        res[name] = repr(e)
        logged_in.abort()
        go.abort()

def pop_job(i):
    name = "p%02d" % i
    try:
        p = poplib.POP3(srv, 110, timeout=120)
        p.user("alice")
        p.pass_("alicepw")
        logged_in.wait()
        go.wait()
        count, _ = p.stat()
        os.makedirs("%s/got/%s" % (d, name))
        for m in range(1, count + 1):
            _, lines, _ = p.retr(m)
            with open("%s/got/%s/%04d.eml" % (d, name, m), "wb") as fh:
                fh.write(b"\r\n".join(lines) + b"\r\n")
        p.quit()
        res[name] = "ok"
    except Exception as e:
        res[name] = repr(e)
        logged_in.abort()
        go.abort()

threads = [threading.Thread(target=smtp_job, args=(i,)) for i in range(1, ns + 1)]
threads += [threading.Thread(target=pop_job, args=(i,)) for i in range(1, np_ + 1)]
for t in threads:
    t.start()
open_flows = positioned = -1
try:
    logged_in.wait()
    c = socket.socket(socket.AF_UNIX)
    c.connect(ctl)
    c.sendall(b'{"cmd":"flows"}\n')
    flows = json.loads(c.makefile("rb").readline()).get("flows", [])
    open_flows = sum(1 for f in flows if f.get("state") == "open")
    # where each flow's splice engine stands (docs/CONTROL.md)
    pos = ["%s_%s" % (d, k) for d in ("c2s", "s2c")
           for k in ("unsent", "unacked", "window", "held", "ooo")] + ["idle"]
    positioned = sum(1 for f in flows if f.get("state") == "open" and
                     all(isinstance(f.get(k), int) for k in pos) and
                     f["s2c_window"] > 0 and f["c2s_window"] > 0)
    c.close()
    go.wait()
except Exception as e:
    print("# barrier: %r" % e)
for t in threads:
    t.join()
print("open %d" % open_flows)
print("positioned %d" % positioned)
for k in sorted(res):
    if res[k] != "ok":
        print("# %s: %s" % (k, res[k]))
print("done %d" % sum(1 for v in res.values() if v == "ok"))
PY
echo "# 50 sessions took $(($(date +%s) - t0)) s"
sed -n 's/^# /#   /p' "$T/sessions.log" | head -n 10
open=$(sed -n 's/^open //p' "$T/sessions.log")
done_=$(sed -n 's/^done //p' "$T/sessions.log")
check "all 50 sessions logged in at once: tcp2d had ${open:-?} flows open" \
    test "${open:-0}" -eq $((NS + NP))
pos=$(sed -n 's/^positioned //p' "$T/sessions.log")
check "tcp2ctl flows: each open flow says where its splice engine stands (${pos:-?} do)" \
    test "${pos:-0}" -eq $((NS + NP))
check "all 50 sessions completed (${done_:-0} did)" test "${done_:-0}" -eq $((NS + NP))

# --- Alice: every POP3 session got every mail, byte-identical.
(cd "$T/in" && sha256sum b*.eml) >"$T/in.sums"
judge_in() {
	"$WORLD_PY" - "$T" "$NP" "$NB" <<'PY'
import hashlib, re, sys
d, np, nb = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
trace = re.compile(rb"(?i)(return-path|delivered-to|received|x-original-to)[ \t]*:")
def strip(data):
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
    return data[pos:]
want = sorted(l.split()[0] for l in open(d + "/in.sums"))
bad = 0
for p in range(1, np + 1):
    got = []
    for m in range(1, nb + 1):
        try:
            got.append(hashlib.sha256(strip(open("%s/got/p%02d/%04d.eml" % (d, p, m), "rb").read())).hexdigest())
        except OSError:
            got.append("missing")
    if sorted(got) != want:
        bad += 1
        print("# session %d: %d of %d mails match" % (p, len(set(got) & set(want)), nb))
print("# %d of %d POP3 sessions got all %d mails byte-identical" % (np - bad, np, nb))
sys.exit(1 if bad else 0)
PY
}
check "each of the $NP POP3 sessions got all $NB mails byte-identical" judge_in
check "Alice's mails are still on the server ($(world_mail_count alice))" \
    test "$(world_mail_count alice)" -eq $NB

# --- carol, dave, erin: what the server stored decrypts (with their own
# keys) to the originals, each exactly once.
world_wait_queue 30
expect() { # expect USER: how many of the SMTP mails went to USER
	grep -l "$1@" "$T"/rcpt/s* | wc -l | tr -d ' '
}
for u in carol dave erin; do
	world_wait_mail $u "$(expect $u)" 30
	check "$u's Maildir holds $(expect $u) mails (has $(world_mail_count $u))" \
	    test "$(world_mail_count $u)" -eq "$(expect $u)"
done
check "no marker in any Maildir" not sh -c \
    "grep -rqF '$MARK' '$WORLD_DIR/mail'"
decrypt_all() {
	: >"$T/dec.sums"
	for u in carol dave erin; do
		# fetched from the server host itself: no daemon in between
		FETCH_KEEP=1 fetch_poplib srv $u "$T/srv-$u" "$WORLD_SRV4" || return 1
		for f in "$T/srv-$u"/*.eml; do
			[ -e "$f" ] || continue
			grep -q "application/x-tcp2-message" "$f" ||
				echo "# $u/$(basename "$f") is not a TCP2 message"
			"$M" --store "$T/st-$u" decrypt <"$f" 2>>"$T/dec.log" |
				sha256sum | sed "s/ .*/ $u/" >>"$T/dec.sums"
		done
	done
	(cd "$T/out" && for f in s*.eml; do
		h=$(sha256sum <"$f" | sed 's/ .*//')
		for u in carol dave erin; do
			grep -q "$u@" "$T/rcpt/${f%.eml}" && echo "$h $u"
		done
	done) >"$T/want.sums"
	sort "$T/dec.sums" >"$T/dec.sorted"
	sort "$T/want.sums" >"$T/want.sorted"
	if ! cmp -s "$T/dec.sorted" "$T/want.sorted"; then
		echo "# decrypted: $(wc -l <"$T/dec.sorted"), expected $(wc -l <"$T/want.sorted"), differing:"
		diff "$T/want.sorted" "$T/dec.sorted" | head -n 10 | sed 's/^/#   /'
		sed 's/^/# tcp2-mail: /' "$T/dec.log" | sort | uniq -c | head -n 5
		return 1
	fi
}
check "every stored mail decrypts with the recipient's key to its original, each once" \
    decrypt_all

# --- The daemon.
st=$(tcp2ctl_on a status)
echo "# a: $(printf '%s\n' "$st" | grep -E '^(flows_total|packets|dropped|resets|aborts|queue_overruns):' | tr '\n' ' ')"
ab=$(printf '%s\n' "$st" | sed -n 's/^aborts: //p')
ft=$(printf '%s\n' "$st" | sed -n 's/^flows_total: //p')
check "tcp2d: no aborted session (aborts: $ab)" test "$ab" = 0
check "tcp2d: it saw the 50 sessions (flows_total: $ft)" test "${ft:-0}" -ge 50
tcp2d_stop a
check "no sanitizer report from Alice's tcp2d" tcp2d_asan a
echo "# runtime $(($(date +%s) - start)) s"
exit $fail
