#!/bin/sh
# tests/cli/t_tcp2_mail.sh - end-to-end contract of the tcp2-mail tool:
# store creation, key exchange, peer states, encryption to one or several
# recipients, every decrypt failure (tampered, truncated, plain, not ours,
# replayed, forged), identity changes, passphrase stores, and that a store
# never holds anything in clear.  Prints "ok - ..." / "not ok - ..." lines
# for tests/run; exits 1 when any check failed.
#
# Runs from the repository root (tests/run does so); the binary is
# ${TCP2_BUILD:-build/san}/bin/tcp2-mail.  POSIX sh.
set -u
cd "$(dirname "$0")/../.." || exit 2

BIN="${TCP2_BUILD:-build/san}/bin/tcp2-mail"
# Sanitizer reports must not pass for the tool's own "exit 1 = failure".
ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}:exitcode=86"
UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}:exitcode=86"
TCP2_ARGON2_TEST_COST=1
export ASAN_OPTIONS UBSAN_OPTIONS TCP2_ARGON2_TEST_COST
unset TCP2_PASSPHRASE

nfail=0
npass=0
pass() { echo "ok - $1"; npass=$((npass + 1)); }
flunk() {
	echo "not ok - $1"
	nfail=$((nfail + 1))
	if [ -s "$T/err" ]; then sed 's/^/#   stderr: /' "$T/err" | head -5; fi
}
# check DESC CMD...: ok when CMD succeeds.
check() {
	_d=$1
	shift
	if "$@"; then pass "$_d"; else flunk "$_d"; fi
}

for tool in mktemp awk sed grep cmp od tr head tail wc base64 stat; do
	command -v "$tool" >/dev/null 2>&1 || {
		echo "not ok - $tool missing"
		exit 1
	}
done
if [ ! -x "$BIN" ]; then
	echo "not ok - $BIN missing (make BUILD=build/san SAN=1 test-build)"
	exit 1
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/t_tcp2_mail.XXXXXX") || {
	echo "not ok - mktemp failed"
	exit 1
}
trap 'rm -rf "$T"' EXIT
trap 'exit 1' HUP INT TERM
S=$T/s		# every store lives below $S
mkdir "$S"

A=alice@example.org
B=bob@example.org
C=carol@example.org
D=dave@example.org
MARK="tcp2mark$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"

# tm STORE ARGS... : run the tool on store $S/STORE; stdout in $T/out,
# stderr in $T/err, exit status in $rc.  A sanitizer report is a failure.
tm() {
	_st=$1
	shift
	"$BIN" --store "$S/$_st" "$@" >"$T/out" 2>"$T/err"
	rc=$?
	if grep -q -e 'Sanitizer' -e 'runtime error' "$T/err"; then
		flunk "sanitizer report from tcp2-mail $*"
		sed 's/^/#   /' "$T/err" | head -20
	fi
	return 0
}
# raw ARGS... : the tool without --store.
raw() {
	"$BIN" "$@" >"$T/out" 2>"$T/err"
	rc=$?
	return 0
}

# Predicates on the last run.
rc_is() { [ "$rc" -eq "$1" ]; }
out_empty() { [ ! -s "$T/out" ]; }
nerr() { wc -l <"$T/err" | tr -d ' '; }
# Exit 1, nothing on stdout, a reason of exactly one line on stderr.
failed1() { rc_is 1 && out_empty && [ "$(nerr)" -eq 1 ]; }
# Exit 1, nothing on stdout, some reason on stderr.
failed() { rc_is 1 && out_empty && [ -s "$T/err" ]; }
ok_out() { rc_is 0 && [ -s "$T/out" ]; }
ok_silent() { rc_is 0 && out_empty; }
err_has() { grep -q -- "$1" "$T/err"; }
out_same() { rc_is 0 && cmp -s "$T/out" "$1"; }

# The state and comparison code of PEER in STORE's `peers`.
peer_state() {
	"$BIN" --store "$S/$1" peers 2>/dev/null | awk -v p="$2" '$1 == p { print $2 }'
}
peer_code() {
	"$BIN" --store "$S/$1" peers 2>/dev/null |
	    sed -n "s/^$2 .*(code \\([0-9]\\{4\\} [0-9]\\{4\\} [0-9]\\{4\\}\\))\$/\\1/p"
}
fpr_of() {
	"$BIN" --store "$S/$1" whoami 2>/dev/null | sed 's/^[^ ]* //'
}

# A plain message from $1 to $2 with the marker in subject and body.
mkmsg() {
	printf 'From: %s\nTo: %s\nSubject: Secret plan %s\nDate: Mon, 1 Jan 2024 10:00:00 +0000\nMessage-ID: <%s@example.org>\n\nThe plan: %s\n' \
	    "$1" "$2" "$MARK" "$3" "$MARK"
	i=0
	while [ $i -lt 60 ]; do
		printf 'line %d of the body, which is long enough to span many base64 lines %s\n' \
		    $i "$3"
		i=$((i + 1))
	done
}

# exchange STORE1 ADDR1 STORE2 ADDR2: a full key exchange, 1 starts.
exchange() {
	tm "$1" keyx-start --to "$4"
	cp "$T/out" "$T/x.init"
	tm "$3" keyx-recv <"$T/x.init"
	cp "$T/out" "$T/x.reply"
	[ -s "$T/x.reply" ] || return 1
	tm "$1" keyx-recv <"$T/x.reply"
	case "$(peer_state "$1" "$4") $(peer_state "$3" "$2")" in
	established\ established|verified\ established) return 0 ;;
	esac
	return 1
}

# roundtrip FROMSTORE FROMADDR TOSTORE TOADDR NAME: encrypt and decrypt.
roundtrip() {
	mkmsg "$2" "$4" "$5" >"$T/$5.txt"
	tm "$1" encrypt --to "$4" <"$T/$5.txt"
	rc_is 0 || return 1
	cp "$T/out" "$T/$5.eml"
	tm "$3" decrypt <"$T/$5.eml"
	out_same "$T/$5.txt"
}

# ---------------------------------------------------------------- usage

raw --help
check "--help exits 0 and prints the usage on stdout" \
    eval 'rc_is 0 && grep -q "^usage: tcp2-mail" "$T/out"'
missing=""
for c in init whoami keyx-start keyx-recv encrypt decrypt peers \
    peer-verify peer-accept peer-reject peer-forget; do
	grep -Eq "^  $c( |\$)" "$T/out" || missing="$missing $c"
done
check "--help mentions every command${missing:+ (missing:$missing)}" \
    [ -z "$missing" ]
check "--help mentions --store, --account and TCP2_PASSPHRASE" \
    eval 'grep -q -- "--store" "$T/out" && grep -q -- "--account" "$T/out" && grep -q TCP2_PASSPHRASE "$T/out"'
raw -h
check "-h exits 0" rc_is 0

raw --store "$S/u" frobnicate
check "unknown command exits 2" rc_is 2
check "unknown command creates no store" test ! -e "$S/u"
raw init --addr "$A"
check "missing --store exits 2" rc_is 2
raw
check "no arguments exits 2" rc_is 2
raw --store "$S/u" --bogus init --addr "$A"
check "unknown global option exits 2" rc_is 2
tm u init
check "init without --addr exits 2" rc_is 2

# ---------------------------------------------------------------- init

tm a init --addr "$A"
check "init alice exits 0" rc_is 0
check "init writes nothing on stdout" out_empty
check "store directory is 0700" eval '[ "$(stat -c %a "$S/a")" = 700 ]'
check "master.key is 0600" eval '[ -f "$S/a/master.key" ] && [ "$(stat -c %a "$S/a/master.key")" = 600 ]'
bad=""
for f in "$S/a"/* "$S/a"/.[!.]*; do
	[ -f "$f" ] || continue
	case "$(stat -c %a "$f")" in 600|400) ;; *) bad="$bad ${f##*/}" ;; esac
done
check "every store file is private (0600)${bad:+:$bad}" [ -z "$bad" ]
tm a whoami
check "whoami prints address and fingerprint" \
    eval 'rc_is 0 && grep -Eq "^$A [0-9a-f]{4}( [0-9a-f]{4}){9}\$" "$T/out"'
fa=$(fpr_of a)
tm a init --addr "$A"
check "init twice fails (exit 1, nothing on stdout)" failed1
check "init twice keeps the identity" eval '[ "$(fpr_of a)" = "$fa" ]'
tm a init --addr ALICE@Example.ORG
check "init of the same address in other case fails" failed
for addr in not-an-address '@example.org' 'alice@' 'a@b@c' 'al ice@example.org' ''; do
	tm bad init --addr "$addr"
	check "init --addr '$addr' fails with exit 1" failed
done
tm nowhere whoami
check "commands on a missing store fail (exit 1)" failed
check "a missing store is not created by whoami" test ! -e "$S/nowhere"
tm a encrypt
check "encrypt without --to exits 2" rc_is 2
tm a keyx-start
check "keyx-start without --to exits 2" rc_is 2
tm a peer-verify
check "peer-verify without an address exits 2" rc_is 2
tm a decrypt --frobnicate </dev/null
check "decrypt with an unknown option exits 2" rc_is 2
tm a keyx-start --to "$A"
check "keyx-start to oneself fails" failed
tm a keyx-start --to not-an-address
check "keyx-start to a bad address fails" failed

tm b init --addr "$B"
tm c init --addr "$C"
check "init bob and carol" eval 'rc_is 0 && [ -f "$S/b/master.key" ] && [ -f "$S/c/master.key" ]'
fb=$(fpr_of b)

# ---------------------------------------------------------------- key exchange

mkmsg "$A" "$B" nokey >"$T/nokey.txt"
tm a encrypt --to "$B" <"$T/nokey.txt"
check "encrypt to bob before any exchange: exit 1, nothing on stdout" failed1
tm a peers
check "peers is empty before any exchange" ok_silent

tm a keyx-start --to "$B"
cp "$T/out" "$T/ab.init"
check "keyx-start writes a key-exchange mail" \
    eval 'rc_is 0 && grep -q "^From: $A" "$T/ab.init" && grep -q "BEGIN TCP2 KEY EXCHANGE" "$T/ab.init"'
check "alice sees bob as sent" eval '[ "$(peer_state a "$B")" = sent ]'
tm a encrypt --to "$B" <"$T/nokey.txt"
check "encrypt to a peer still 'sent': exit 1, nothing on stdout" failed1

# A forged exchange: the mail's From: is not the block's From.
sed "1s/^From: .*/From: mallory@example.org/" "$T/ab.init" >"$T/ab.badfrom"
tm b keyx-recv <"$T/ab.badfrom"
check "keyx-recv: mail From: differs from the block: exit 1, nothing on stdout" failed
# A block whose ephemeral key was changed: its signature fails.
awk '/^Ephemeral-X25519: / { c = substr($2, 5, 1); r = c == "A" ? "B" : "A";
	$2 = substr($2, 1, 4) r substr($2, 6) } { print }' "$T/ab.init" >"$T/ab.badsig"
check "tampered key exchange differs from the original" eval '! cmp -s "$T/ab.init" "$T/ab.badsig"'
tm b keyx-recv <"$T/ab.badsig"
check "keyx-recv: bad signature: exit 1, nothing on stdout" failed
tm b keyx-recv </dev/null
check "keyx-recv of an empty mail: exit 1" failed
tm b peers
check "failed exchanges leave no peer behind" ok_silent

tm b keyx-recv <"$T/ab.init"
cp "$T/out" "$T/ab.reply"
check "bob's keyx-recv of alice's init writes a reply" \
    eval 'rc_is 0 && grep -q "^From: $B" "$T/ab.reply" && grep -q "^Type: reply" "$T/ab.reply"'
tm a keyx-recv <"$T/ab.reply"
check "alice's keyx-recv of the reply writes nothing, exit 0" ok_silent
check "alice sees bob established" eval '[ "$(peer_state a "$B")" = established ]'
check "bob sees alice established" eval '[ "$(peer_state b "$A")" = established ]'
code_ab=$(peer_code a "$B")
code_ba=$(peer_code b "$A")
check "both sides show the same comparison code ($code_ab)" \
    eval '[ -n "$code_ab" ] && [ "$code_ab" = "$code_ba" ]'
check "alice's peers shows bob's fingerprint" \
    eval '"$BIN" --store "$S/a" peers | grep -q "^$B established $fb "'
check "bob's peers shows alice's fingerprint" \
    eval '"$BIN" --store "$S/b" peers | grep -q "^$A established $fa "'

check "alice -> bob round trip after the exchange" roundtrip a "$A" b "$B" m1
check "bob -> alice round trip after the exchange" roundtrip b "$B" a "$A" m2

# Replays of the exchange mails change nothing.
mkmsg "$A" "$B" before >"$T/before.txt"
tm a encrypt --to "$B" <"$T/before.txt"
cp "$T/out" "$T/before.eml"
tm b keyx-recv <"$T/ab.init"
check "keyx-recv of the same init again writes nothing" ok_silent
check "... and says it was ignored" err_has ignored
check "... bob still sees alice established with the same code" \
    eval '[ "$(peer_state b "$A")" = established ] && [ "$(peer_code b "$A")" = "$code_ab" ]'
mkmsg "$A" "$B" after >"$T/after.txt"
tm a encrypt --to "$B" <"$T/after.txt"
cp "$T/out" "$T/after.eml"
tm b decrypt <"$T/before.eml"
check "... a message encrypted before the replayed init still decrypts" out_same "$T/before.txt"
tm b decrypt <"$T/after.eml"
check "... a message encrypted after it decrypts" out_same "$T/after.txt"
check "... bob -> alice still works" roundtrip b "$B" a "$A" m3
tm a keyx-recv <"$T/ab.reply"
check "keyx-recv of the reply again writes nothing" ok_silent
check "... alice still sees bob established" eval '[ "$(peer_state a "$B")" = established ]'
check "... alice -> bob still works" roundtrip a "$A" b "$B" m4

tm a keyx-start --to "$C"
cp "$T/out" "$T/ac.init"
tm b keyx-recv <"$T/ac.init"
check "keyx mail addressed to a third address: exit 1, nothing on stdout" failed1
check "... and bob has no peer carol" eval '[ -z "$(peer_state b "$C")" ]'

tm a peer-verify "$B"
check "peer-verify bob: exit 0" ok_silent
check "alice sees bob verified" eval '[ "$(peer_state a "$B")" = verified ]'
check "bob still sees alice only established" eval '[ "$(peer_state b "$A")" = established ]'
tm a peer-verify "$D"
check "peer-verify of an unknown peer: exit 1" failed1
tm a peer-accept "$B"
check "peer-accept without a pending change: exit 1" failed1
tm a peer-reject "$B"
check "peer-reject without a pending change: exit 1" failed1

# ---------------------------------------------------------------- output files

# Into a regular file the ciphertext is streamed in batches (1 MiB, written
# by a second thread while the next is filled; sink.c), and a
# failure takes back what was written.  A 4 MB message, so that several
# batches reach the file.
{ mkmsg "$A" "$B" big; head -c 3000000 /dev/urandom | base64 -w 76; } >"$T/big.txt"
"$BIN" --store "$S/a" encrypt --to "$B" <"$T/big.txt" >"$T/big.eml" 2>"$T/err"
rc=$?
tm b decrypt <"$T/big.eml"
check "a 4 MB message encrypted into a file decrypts to the original" \
    eval 'cmp -s "$T/out" "$T/big.txt"'
# Allowed one CPU, tcp2-mail hashes without its worker thread (hasher.c).
taskset -c 0 "$BIN" --store "$S/a" encrypt --to "$B" <"$T/big.txt" \
    >"$T/big1.eml" 2>"$T/err" &&
	taskset -c 0 "$BIN" --store "$S/b" decrypt <"$T/big1.eml" \
	    >"$T/out" 2>"$T/err"
rc=$?
check "on one CPU (taskset -c 0): the 4 MB message round-trips, verified" \
    eval 'rc_is 0 && err_has verified && cmp -s "$T/out" "$T/big.txt"'
# A file that may not grow past 1 MiB (ulimit -f counts 1 KiB blocks;
# SIGXFSZ ignored, so write(2) fails with EFBIG), opened for appending.
printf 'kept line\n' >"$T/big.out"
(
	trap '' XFSZ
	ulimit -f 1024
	exec "$BIN" --store "$S/a" encrypt --to "$B" <"$T/big.txt" \
	    >>"$T/big.out" 2>"$T/err"
)
rc=$?
check "encrypt into a file that cannot grow: exit 1, one line saying why" \
    eval 'rc_is 1 && [ "$(nerr)" -eq 1 ] && err_has "writing output: File too large"'
check "... the file holds what it held before, nothing of the message" \
    eval '[ "$(cat "$T/big.out")" = "kept line" ]'

# decrypt maps a regular file on stdin instead of reading it (tcp2-mail.c,
# map_input).  Cut short meanwhile, its pages past the new end fault with
# SIGBUS: one line saying why, exit 1, the output file as it was.  The cut
# must land while the 150 MB message is being decrypted; a longer delay
# is tried when it came before the file was mapped.
{ mkmsg "$A" "$B" huge; yes 'a line of the huge message, again' |
    head -c 150000000; } >"$T/huge.txt"
"$BIN" --store "$S/a" encrypt --to "$B" <"$T/huge.txt" >"$T/huge.eml" \
    2>/dev/null
rm -f "$T/huge.txt"
shrank=
for delay in 0.1 0.3 0.6; do
	cp "$T/huge.eml" "$T/huge.in"
	printf 'kept line\n' >"$T/huge.out"
	"$BIN" --store "$S/b" decrypt <"$T/huge.in" >>"$T/huge.out" \
	    2>"$T/err" &
	pid=$!
	sleep "$delay"
	: >"$T/huge.in"
	wait "$pid"
	rc=$?
	if err_has "shrank"; then
		shrank=1
		break
	fi
done
rm -f "$T/huge.eml" "$T/huge.in"
if [ -n "$shrank" ]; then
	check "input file cut short while mapped: exit 1, one line saying why" \
	    eval 'rc_is 1 && [ "$(nerr)" -eq 1 ]'
	check "... the output file holds what it held before" \
	    eval '[ "$(cat "$T/huge.out")" = "kept line" ]'
else
	echo "# SKIP: the input file was never cut while mapped (rc $rc)"
fi
rm -f "$T/huge.out"

# ---------------------------------------------------------------- carol

mkmsg "$A" "$C" tocarol >"$T/tocarol.txt"
tm a encrypt --to "$C" <"$T/tocarol.txt"
check "encrypt to carol (exchange only sent): exit 1, stdout empty" failed1
check "... the reason names carol" err_has "$C"
tm a encrypt --to "$B,$C" <"$T/tocarol.txt"
check "encrypt to bob,carol without carol's key: exit 1, stdout empty" failed1
tm c keyx-recv <"$T/ac.init"
cp "$T/out" "$T/ac.reply"
tm a keyx-recv <"$T/ac.reply"
check "alice <-> carol exchange (alice started earlier)" \
    eval '[ "$(peer_state a "$C")" = established ] && [ "$(peer_state c "$A")" = established ] && [ "$(peer_code a "$C")" = "$(peer_code c "$A")" ]'
check "the alice-carol code differs from the alice-bob code" \
    eval '[ "$(peer_code a "$C")" != "$code_ab" ]'

# Multi-recipient.
printf 'From: Alice <%s>\nTo: Bob <%s>, %s\nSubject: to both %s\n\nfor both of you: %s\n' \
    "$A" "$B" "$C" "$MARK" "$MARK" >"$T/multi.txt"
tm a encrypt --to "$B,$C" <"$T/multi.txt"
cp "$T/out" "$T/multi.eml"
check "encrypt --to bob,carol: exit 0" eval 'rc_is 0 && [ -s "$T/multi.eml" ]'
check "the encrypted message hides subject and body" \
    eval '! grep -q "$MARK" "$T/multi.eml"'
check "the encrypted message keeps From and To in clear" \
    eval 'grep -q "^From: Alice <$A>" "$T/multi.eml" && grep -q "^To: Bob <$B>, $C" "$T/multi.eml"'
check "the encrypted message has the placeholder subject" \
    eval 'grep -q "^Subject: \\[TCP2 encrypted message\\]" "$T/multi.eml"'
tm b decrypt <"$T/multi.eml"
check "bob decrypts the multi-recipient message byte-identical" out_same "$T/multi.txt"
check "... and reports it verified" err_has verified
tm c decrypt <"$T/multi.eml"
check "carol decrypts the multi-recipient message byte-identical" out_same "$T/multi.txt"
tm a decrypt <"$T/multi.eml"
check "alice decrypts her own copy byte-identical" out_same "$T/multi.txt"
printf 'From: %s\nTo: %s\nSubject: note to self %s\n\n%s\n' "$A" "$A" "$MARK" "$MARK" >"$T/self.txt"
tm a encrypt --to "$A" <"$T/self.txt"
cp "$T/out" "$T/self.eml"
tm a decrypt <"$T/self.eml"
check "encrypt --to oneself round trips" out_same "$T/self.txt"
tm a encrypt --to " $B , $C " <"$T/multi.txt"
check "encrypt --to tolerates spaces around addresses" ok_out
tm a encrypt --to "$B,not-an-address" <"$T/multi.txt"
check "encrypt to a bad address: exit 1, nothing on stdout" failed

# ---------------------------------------------------------------- decrypt failures

mkmsg "$A" "$B" victim >"$T/victim.txt"
i=0
while [ $i -lt 1000 ]; do	# three chunks of 16 KiB and more
	printf 'padding line %d %s\n' $i "$MARK"
	i=$((i + 1))
done >>"$T/victim.txt"
tm a encrypt --to "$B" <"$T/victim.txt"
cp "$T/out" "$T/victim.eml"
# The base64 body: lines after the blank line that follows
# "Content-Transfer-Encoding: base64", up to the closing delimiter.
b64_first=$(awk '/^Content-Transfer-Encoding: base64/ { h = 1; next }
	h == 1 && /^$/ { print NR + 1; exit }' "$T/victim.eml")
b64_last=$(awk '/^--=_tcp2_.*--$/ { print NR - 1 }' "$T/victim.eml")
check "the encrypted message has a base64 body of many lines" \
    eval '[ -n "$b64_first" ] && [ -n "$b64_last" ] && [ $((b64_last - b64_first)) -gt 20 ]'

# flip LINE: the first character of that line becomes 'A' ('B' if it was
# 'A'): still valid base64, and the first character of a line (lines hold
# whole quanta) carries all its 6 bits, so the decoded stream changes.
flip() {
	awk -v n="$1" 'NR == n { c = substr($0, 1, 1)
		$0 = (c == "A" ? "B" : "A") substr($0, 2) }
	{ print }' "$T/victim.eml"
}
mid=$(((b64_first + b64_last) / 2))
flip "$mid" >"$T/flip_mid.eml"
flip "$b64_first" >"$T/flip_hdr.eml"
flip "$b64_last" >"$T/flip_end.eml"
for v in mid hdr end; do
	check "flipped character ($v) changed the file" \
	    eval '! cmp -s "$T/victim.eml" "$T/flip_$v.eml"'
	tm b decrypt <"$T/flip_$v.eml"
	check "decrypt of a flipped base64 character ($v line): exit 1, one-line reason, nothing on stdout" failed1
done

# Truncated: the last base64 lines dropped, the closing delimiter kept.
awk -v a=$((b64_last - 2)) -v b="$b64_last" 'NR < a || NR > b' "$T/victim.eml" >"$T/trunc.eml"
tm b decrypt <"$T/trunc.eml"
check "decrypt of a truncated message (last lines dropped): exit 1, nothing on stdout" failed1
# Truncated exactly at a chunk boundary: binary header (24 + 2*52 octets)
# and the first sealed chunk (16384 + 16), re-encoded.
sed -n "${b64_first},${b64_last}p" "$T/victim.eml" | base64 -d >"$T/victim.bin" 2>/dev/null
check "the base64 body decodes to the TCP2 stream" \
    eval '[ "$(head -c 4 "$T/victim.bin")" = TCP2 ] && [ "$(wc -c <"$T/victim.bin")" -gt 40000 ]'
# rebuild FILE.bin FILE.eml: the message with another binary stream.
rebuild() {
	head -n $((b64_first - 1)) "$T/victim.eml" >"$2"
	base64 -w 76 "$1" >>"$2"
	tail -n +$((b64_last + 1)) "$T/victim.eml" >>"$2"
}
rebuild "$T/victim.bin" "$T/same.eml"
hl=$((24 + 2 * 52))
cl=$((16384 + 16))
head -c $((hl + cl)) "$T/victim.bin" >"$T/cut.bin"
rebuild "$T/cut.bin" "$T/cut.eml"
tm b decrypt <"$T/cut.eml"
check "decrypt of a stream cut at a chunk boundary: exit 1, nothing on stdout" failed1
check "... reported as truncated" err_has truncated
{ head -c $((hl + cl)) "$T/victim.bin"; tail -c +$((hl + 2 * cl + 1)) "$T/victim.bin"; } >"$T/drop.bin"
rebuild "$T/drop.bin" "$T/drop.eml"
tm b decrypt <"$T/drop.eml"
check "decrypt with the second chunk dropped: exit 1, nothing on stdout" failed1
{ head -c $((hl + cl)) "$T/victim.bin"; tail -c +$((hl + 1)) "$T/victim.bin"; } >"$T/dup.bin"
rebuild "$T/dup.bin" "$T/dup.eml"
tm b decrypt <"$T/dup.eml"
check "decrypt with the first chunk duplicated: exit 1, nothing on stdout" failed1
head -n "$b64_last" "$T/victim.eml" >"$T/noclose.eml"
tm b decrypt <"$T/noclose.eml"
check "decrypt without the closing delimiter: exit 1, nothing on stdout" failed1
head -c 2000 "$T/victim.eml" >"$T/short.eml"
tm b decrypt <"$T/short.eml"
check "decrypt of the first 2000 octets only: exit 1, nothing on stdout" failed1

tm b decrypt <"$T/victim.txt"
check "decrypt of a plain unencrypted mail: exit 1, nothing on stdout" failed1
tm b decrypt </dev/null
check "decrypt of empty input: exit 1, nothing on stdout" failed1
sed 's/^Version: 1$/Version: 2/' "$T/victim.eml" >"$T/v2.eml"
tm b decrypt <"$T/v2.eml"
check "decrypt of format version 2: exit 1, nothing on stdout" failed1

mkmsg "$A" "$B" bobonly >"$T/bobonly.txt"
tm a encrypt --to "$B" <"$T/bobonly.txt"
cp "$T/out" "$T/bobonly.eml"
tm c decrypt <"$T/bobonly.eml"
check "carol decrypting a bob-only message: exit 1, nothing on stdout" failed1

# These failures did not consume the message: bob reads it once.
tm b decrypt <"$T/victim.eml"
check "the untampered message decrypts byte-identical" out_same "$T/victim.txt"
tm b decrypt <"$T/victim.eml"
check "decrypting it again is a replay: exit 1, nothing on stdout" failed
check "... the reason says replay" eval 'tail -n 1 "$T/err" | grep -q replay'
tm b decrypt --allow-replay <"$T/victim.eml"
check "decrypt --allow-replay writes it again byte-identical" out_same "$T/victim.txt"
tm b decrypt <"$T/victim.eml"
check "... and it stays a replay afterwards" failed
tm b decrypt --allow-replay <"$T/same.eml"
check "re-encoding the untouched stream still decrypts (control)" out_same "$T/victim.txt"

# Line ends rewritten by a server, and trace fields added.
sed 's/$/\r/' "$T/bobonly.eml" >"$T/bobonly.crlf.eml"
tm b decrypt <"$T/bobonly.crlf.eml"
check "decrypt of the message with CRLF line ends gives the original bytes" out_same "$T/bobonly.txt"
mkmsg "$A" "$B" traced >"$T/traced.txt"
tm a encrypt --to "$B" <"$T/traced.txt"
printf 'Return-Path: <%s>\nReceived: from mx.example.org by mx.example.net;\n\tMon, 1 Jan 2024 10:00:01 +0000\nDelivered-To: %s\n' "$A" "$B" >"$T/trace"
cat "$T/trace" "$T/out" >"$T/traced.eml"
tm b decrypt <"$T/traced.eml"
check "decrypt drops the server's trace fields" out_same "$T/traced.txt"
cat "$T/trace" "$T/traced.txt" >"$T/traced.keep"
tm b decrypt --keep-trace --allow-replay <"$T/traced.eml"
check "decrypt --keep-trace puts the trace fields before the original" out_same "$T/traced.keep"

# ---------------------------------------------------------------- forged / unsigned

# Alice encrypts a message claiming to be from carol: accepted, but not
# signed, and the tool warns.
printf 'From: %s\nTo: %s\nSubject: pretending %s\n\nI am carol, honestly. %s\n' "$C" "$B" "$MARK" "$MARK" >"$T/pretend.txt"
tm a encrypt --to "$B" <"$T/pretend.txt"
cp "$T/out" "$T/pretend.eml"
check "encrypt with From: not the account's address: exit 0" ok_out
check "... warns on stderr that it is not signed" err_has "not signed"
check "... the clear From: is carol's" eval 'grep -q "^From: $C" "$T/pretend.eml"'
tm a encrypt --to "$B" <"$T/victim.txt"
check "encrypt with From: the account's address does not warn" \
    eval 'rc_is 0 && ! grep -q "not signed" "$T/err"'
# Bob looks the key up by the clear From (carol): no key opens it.
tm b decrypt <"$T/pretend.eml"
check "bob decrypting alice's message claiming carol: exit 1, nothing on stdout" failed1
tm b decrypt --force <"$T/pretend.eml"
check "... --force does not help without a key (exit 1, nothing)" failed
# A server rewrites the clear From: to alice, whose key opens it: the
# inner From: (carol) is not the key's owner -> forged.
sed "1,/^\$/s/^From: .*/From: $A/" "$T/pretend.eml" >"$T/forged.eml"
tm b decrypt <"$T/forged.eml"
check "forged (inner From: is not the key owner): exit 1, nothing on stdout" failed1
check "... reported as FORGED" err_has FORGED
tm b decrypt --force <"$T/forged.eml"
check "forged with --force: written byte-identical, exit 0" out_same "$T/pretend.txt"
check "... still reported as FORGED" err_has FORGED
# A forged message larger than tcp2-mail's write batch (2 MiB): neither a
# file nor a pipe gets a byte of it.
{
	printf 'From: %s\nTo: %s\nSubject: big pretend\n\n' "$C" "$B"
	head -c 3000000 /dev/urandom | base64 -w 76
} >"$T/bigp.txt"
"$BIN" --store "$S/a" encrypt --to "$B" <"$T/bigp.txt" 2>/dev/null |
    sed "1,/^\$/s/^From: .*/From: $A/" >"$T/bigf.eml"
printf 'kept line\n' >"$T/bigf.out"
"$BIN" --store "$S/b" decrypt <"$T/bigf.eml" >>"$T/bigf.out" 2>"$T/err"
rc=$?
check "a forged 4 MB message into a file: exit 1, FORGED, the file as it was" \
    eval 'rc_is 1 && err_has FORGED && [ "$(cat "$T/bigf.out")" = "kept line" ]'
"$BIN" --store "$S/b" decrypt <"$T/bigf.eml" 2>"$T/err" | wc -c >"$T/bigf.n"
check "... into a pipe: not a byte of it" \
    eval 'err_has FORGED && [ "$(tr -d " " <"$T/bigf.n")" = 0 ]'
# A server rewrites the clear From: of alice's signed message.
mkmsg "$A" "$B" rewritten >"$T/rewritten.txt"
tm a encrypt --to "$B" <"$T/rewritten.txt"
cp "$T/out" "$T/rewritten.eml"
for who in "$B" "$C" "$D"; do
	sed "1,/^\$/s/^From: .*/From: $who/" "$T/rewritten.eml" >"$T/rw.eml"
	tm b decrypt <"$T/rw.eml"
	check "clear From: rewritten to $who: exit 1, nothing on stdout" failed1
	tm b decrypt --force <"$T/rw.eml"
	check "... also with --force" failed
done
{ printf 'From: %s\n' "$C"; cat "$T/rewritten.eml"; } >"$T/twofrom.eml"
tm b decrypt <"$T/twofrom.eml"
check "a second clear From: added by a server: exit 1, nothing on stdout" failed
sed "1,/^\$/{/^From: /d}" "$T/rewritten.eml" >"$T/nofrom.eml"
tm b decrypt <"$T/nofrom.eml"
check "clear From: removed by a server: exit 1, nothing on stdout" failed
tm b decrypt <"$T/rewritten.eml"
check "the unmodified message still decrypts (none of the above consumed it)" out_same "$T/rewritten.txt"
check "... verified" err_has ": verified"

# encrypt refuses what it cannot address.
printf 'To: %s\nSubject: no from\n\nbody\n' "$B" >"$T/nf.txt"
tm a encrypt --to "$B" <"$T/nf.txt"
check "encrypt of a message without From: exit 1, nothing on stdout" failed1
printf 'From: %s\nFrom: %s\nTo: %s\nSubject: two\n\nbody\n' "$A" "$C" "$B" >"$T/2f.txt"
tm a encrypt --to "$B" <"$T/2f.txt"
check "encrypt of a message with two From: fields: exit 1, nothing on stdout" failed1
# Whatever encrypt accepts, the recipient must be able to decrypt: the
# clear From: is how the receiver finds the key.  Either refuse, or
# produce a message that round trips.
long=$(awk 'BEGIN { while (n++ < 300) printf "Name%03d ", n % 1000 }')
printf 'From: "%s"\n "%s"\n <%s>\nTo: %s\nSubject: long from\n\nbody %s\n' \
    "$long" "$long" "$A" "$B" "$MARK" >"$T/longfrom.txt"
tm a encrypt --to "$B" <"$T/longfrom.txt"
if rc_is 0; then
	cp "$T/out" "$T/longfrom.eml"
	tm b decrypt <"$T/longfrom.eml"
	check "From: field over 4096 octets: encrypt accepted it, so it must decrypt" \
	    out_same "$T/longfrom.txt"
else
	check "From: field over 4096 octets: refused (exit 1, nothing on stdout)" failed
fi
{
	i=0
	while [ $i -lt 64 ]; do
		printf 'Cc: list%d@example.net\n' $i
		i=$((i + 1))
	done
	printf 'From: %s\nTo: %s\nSubject: many cc\n\nbody %s\n' "$A" "$B" "$MARK"
} >"$T/manycc.txt"
tm a encrypt --to "$B" <"$T/manycc.txt"
if rc_is 0; then
	cp "$T/out" "$T/manycc.eml"
	tm b decrypt <"$T/manycc.eml"
	check "From: after 64 Cc: fields: encrypt accepted it, so it must decrypt" \
	    out_same "$T/manycc.txt"
else
	check "From: after 64 Cc: fields: refused (exit 1, nothing on stdout)" failed
fi

# ---------------------------------------------------------------- rotation

mkmsg "$A" "$B" oldkey >"$T/oldkey.txt"
tm a encrypt --to "$B" <"$T/oldkey.txt"
cp "$T/out" "$T/oldkey.eml"
check "a second exchange alice -> bob (key rotation)" exchange a "$A" b "$B"
check "... alice still sees bob verified (same identity)" \
    eval '[ "$(peer_state a "$B")" = verified ]'
check "... the comparison code is unchanged" eval '[ "$(peer_code a "$B")" = "$code_ab" ]'
tm b decrypt <"$T/oldkey.eml"
check "... mail under the previous key still decrypts" out_same "$T/oldkey.txt"
check "... alice -> bob under the new key" roundtrip a "$A" b "$B" m5

# ---------------------------------------------------------------- identity change

# Bob loses his store and starts over with the same address.
mkmsg "$B" "$A" fromoldbob >"$T/fromoldbob.txt"
tm b encrypt --to "$A" <"$T/fromoldbob.txt"
cp "$T/out" "$T/fromoldbob.eml"
tm b2 init --addr "$B"
fb2=$(fpr_of b2)
check "bob's new store has another identity" eval '[ -n "$fb2" ] && [ "$fb2" != "$fb" ]'
tm b2 keyx-start --to "$A"
cp "$T/out" "$T/b2a.init"
tm a keyx-recv <"$T/b2a.init"
check "alice's keyx-recv of the new identity writes nothing" ok_silent
check "... and warns" err_has WARNING
check "alice's peers shows bob changed" eval '[ "$(peer_state a "$B")" = changed ]'
check "... still with the old fingerprint" \
    eval '"$BIN" --store "$S/a" peers | grep -q "^$B changed $fb "'
tm a encrypt --to "$B" <"$T/nokey.txt"
check "encrypt to bob while changed: exit 1, nothing on stdout" failed1
check "... the reason says the identity changed" err_has changed
tm a peer-verify "$B"
check "peer-verify while changed: exit 1" failed1
tm a keyx-recv <"$T/b2a.init"
check "the same new-identity mail again writes nothing" ok_silent
check "... bob is still changed" eval '[ "$(peer_state a "$B")" = changed ]'
tm a decrypt <"$T/fromoldbob.eml"
check "mail from the old identity still decrypts while the change is pending" \
    out_same "$T/fromoldbob.txt"
tm a peer-accept "$B"
cp "$T/out" "$T/b2a.reply"
check "peer-accept writes a key-exchange reply" \
    eval 'rc_is 0 && grep -q "^Type: reply" "$T/b2a.reply" && grep -q "^To: $B" "$T/b2a.reply"'
tm b2 keyx-recv <"$T/b2a.reply"
check "new bob's keyx-recv of the reply establishes" \
    eval 'ok_silent && [ "$(peer_state b2 "$A")" = established ]'
check "alice sees the new bob established (not verified)" \
    eval '[ "$(peer_state a "$B")" = established ]'
check "... with the new fingerprint" \
    eval '"$BIN" --store "$S/a" peers | grep -q "^$B established $fb2 "'
check "... and both sides show the same new code" \
    eval '[ -n "$(peer_code a "$B")" ] && [ "$(peer_code a "$B")" = "$(peer_code b2 "$A")" ] && [ "$(peer_code a "$B")" != "$code_ab" ]'
check "alice -> new bob works again" roundtrip a "$A" b2 "$B" m6
check "new bob -> alice works" roundtrip b2 "$B" a "$A" m7
tm b decrypt <"$T/m6.eml"
check "the old bob store cannot read mail for the new identity" failed1
tm a peer-verify "$B"
check "alice verifies the new bob" eval 'ok_silent && [ "$(peer_state a "$B")" = verified ]'

# A second change, rejected: the old key stays.
tm b3 init --addr "$B"
tm b3 keyx-start --to "$A"
cp "$T/out" "$T/b3a.init"
tm a keyx-recv <"$T/b3a.init"
check "a third identity for bob: changed" eval 'ok_silent && [ "$(peer_state a "$B")" = changed ]'
tm a peer-reject "$B"
check "peer-reject: exit 0, nothing on stdout" ok_silent
check "... bob is verified again with the second identity's fingerprint" \
    eval '"$BIN" --store "$S/a" peers | grep -q "^$B verified $fb2 "'
check "... alice -> bob (second identity) still works" roundtrip a "$A" b2 "$B" m8
check "... bob (second identity) -> alice still works" roundtrip b2 "$B" a "$A" m9
tm b3 decrypt <"$T/m8.eml"
check "... the rejected identity cannot read alice's mail" failed1
tm a keyx-recv <"$T/b3a.init"
check "... the rejected exchange mail again changes nothing" \
    eval 'ok_silent && [ "$(peer_state a "$B")" = verified ]'

# ---------------------------------------------------------------- simultaneous start

tm d init --addr "$D"
tm a keyx-start --to "$D"
cp "$T/out" "$T/ad.init"
tm d keyx-start --to "$A"
cp "$T/out" "$T/da.init"
tm d keyx-recv <"$T/ad.init"
cp "$T/out" "$T/d.reply"
tm a keyx-recv <"$T/da.init"
cp "$T/out" "$T/a.reply"
if [ -s "$T/d.reply" ] && [ ! -s "$T/a.reply" ]; then
	tm a keyx-recv <"$T/d.reply"
	one=1
elif [ -s "$T/a.reply" ] && [ ! -s "$T/d.reply" ]; then
	tm d keyx-recv <"$T/a.reply"
	one=1
else
	one=0
fi
check "simultaneous start: exactly one side replies" [ "$one" = 1 ]
check "... both end established with the same code" \
    eval '[ "$(peer_state a "$D")" = established ] && [ "$(peer_state d "$A")" = established ] && [ "$(peer_code a "$D")" = "$(peer_code d "$A")" ]'
check "... alice -> dave works" roundtrip a "$A" d "$D" m10
check "... dave -> alice works" roundtrip d "$D" a "$A" m11

# ---------------------------------------------------------------- forget

tm a peer-forget "$D"
check "peer-forget dave: exit 0" ok_silent
check "... dave is gone from alice's peers" eval '[ -z "$(peer_state a "$D")" ]'
tm a encrypt --to "$D" <"$T/nokey.txt"
check "... encrypt to dave fails again" failed1
tm a peer-forget "$D"
check "peer-forget of an unknown peer: exit 1" failed1

# ---------------------------------------------------------------- accounts

tm m init --addr "$C"
tm m init --addr "$D"
check "a second account in one store" eval 'rc_is 0 && [ "$(fpr_of m)" != "" ]'
tm m --account "$D" whoami
check "--account selects the account" eval 'rc_is 0 && grep -q "^$D " "$T/out"'
tm m whoami
check "the first account is the default" eval 'rc_is 0 && grep -q "^$C " "$T/out"'
tm m --account "$B" whoami
check "--account of an unknown address: exit 1" failed1
# Alice exchanges with both accounts of store m and writes to each.
"$BIN" --store "$S/a" peer-forget "$C" >/dev/null 2>&1
"$BIN" --store "$S/a" peer-forget "$D" >/dev/null 2>&1
check "alice <-> carol (store m)" exchange a "$A" m "$C"
tm a keyx-start --to "$D"
cp "$T/out" "$T/am.init"
tm m keyx-recv <"$T/am.init"
cp "$T/out" "$T/am.reply"
tm a keyx-recv <"$T/am.reply"
check "alice <-> dave (store m, second account)" \
    eval '[ "$(peer_state a "$D")" = established ] && [ "$("$BIN" --store "$S/m" --account "$D" peers | awk -v p="$A" "\$1 == p { print \$2 }")" = established ]'
check "alice -> carol@store m" roundtrip a "$A" m "$C" m12
check "alice -> dave@store m (the second account's key)" roundtrip a "$A" m "$D" m13
mkmsg "$D" "$A" fromdave >"$T/fromdave.txt"
tm m --account "$D" encrypt --to "$A" <"$T/fromdave.txt"
cp "$T/out" "$T/fromdave.eml"
tm a decrypt <"$T/fromdave.eml"
check "dave@store m -> alice (--account)" out_same "$T/fromdave.txt"

# ---------------------------------------------------------------- passphrase store

TCP2_PASSPHRASE=secret1 "$BIN" --store "$S/p" init --addr "$D" >"$T/out" 2>"$T/err"
rc=$?
check "passphrase store: init exits 0" rc_is 0
check "passphrase store: no master.key file" test ! -e "$S/p/master.key"
check "passphrase store: directory 0700" eval '[ "$(stat -c %a "$S/p")" = 700 ]'
TCP2_PASSPHRASE=secret1 "$BIN" --store "$S/p" whoami >"$T/out" 2>"$T/err"
rc=$?
check "passphrase store: whoami with the passphrase" eval 'rc_is 0 && grep -q "^$D " "$T/out"'
TCP2_PASSPHRASE=secret2 "$BIN" --store "$S/p" whoami >"$T/out" 2>"$T/err"
rc=$?
check "passphrase store: a wrong passphrase fails with a one-line reason, no stdout" failed1
"$BIN" --store "$S/p" whoami >"$T/out" 2>"$T/err"
rc=$?
check "passphrase store: no passphrase at all fails, no stdout" failed
TCP2_PASSPHRASE=secret1 "$BIN" --store "$S/a" whoami >"$T/out" 2>"$T/err"
rc=$?
check "key-file store: a passphrase given anyway fails, no stdout" failed
TCP2_PASSPHRASE=secret1 "$BIN" --store "$S/p" keyx-start --to "$A" >"$T/pa.init" 2>"$T/err"
"$BIN" --store "$S/a" peer-forget "$D" >/dev/null 2>&1
"$BIN" --store "$S/a" keyx-recv <"$T/pa.init" >"$T/pa.reply" 2>"$T/err"
TCP2_PASSPHRASE=secret2 "$BIN" --store "$S/p" keyx-recv <"$T/pa.reply" >"$T/out" 2>"$T/err"
rc=$?
check "passphrase store: keyx-recv with a wrong passphrase fails" failed1
TCP2_PASSPHRASE=secret1 "$BIN" --store "$S/p" keyx-recv <"$T/pa.reply" >"$T/out" 2>"$T/err"
rc=$?
check "passphrase store: exchange with alice completes" \
    eval 'ok_silent && [ "$(TCP2_PASSPHRASE=secret1 "$BIN" --store "$S/p" peers | awk "{ print \$2 }")" = established ]'
mkmsg "$A" "$D" topass >"$T/topass.txt"
"$BIN" --store "$S/a" encrypt --to "$D" <"$T/topass.txt" >"$T/topass.eml" 2>"$T/err"
TCP2_PASSPHRASE=secret2 "$BIN" --store "$S/p" decrypt <"$T/topass.eml" >"$T/out" 2>"$T/err"
rc=$?
check "passphrase store: decrypt with a wrong passphrase fails, no stdout" failed1
TCP2_PASSPHRASE=secret1 "$BIN" --store "$S/p" decrypt <"$T/topass.eml" >"$T/out" 2>"$T/err"
rc=$?
check "passphrase store: decrypt with the passphrase gives the original" out_same "$T/topass.txt"
check "passphrase store: the passphrase is nowhere in the store" \
    eval '! grep -r -a -q secret1 "$S/p"'

# ---------------------------------------------------------------- nothing in clear

# (Patterns long enough not to occur by chance in encrypted bytes.)
found=$(grep -r -a -l -i -e alice -e carol -e bob@ -e dave@ -e example.org \
    -e "$MARK" -e "Secret plan" -e pretending "$S" 2>/dev/null)
check "no store file holds an address, subject or body marker in clear${found:+: $found}" \
    [ -z "$found" ]

echo "# $npass passed, $nfail failed"
[ "$nfail" -eq 0 ]
