#!/bin/sh
# tests/bench/run.sh - TCP2 Mail benchmarks, as ratios against baselines
# measured in the same run (`make bench` runs it after `make`).
#
#  1. Whole process, a realistic 10 MB message (RFC 5322 header, a text
#     part, a base64 attachment, CRLF): tcp2-mail encrypt/decrypt against
#     age (X25519 recipient) and gpg (cv25519 key, gpg's defaults), each
#     the median of BENCH_REPS runs (default 9) after one warm-up run,
#     every round trip checked byte-identical with cmp.
#  2. In process (tests/bench/bench_inproc.c): a BENCH_INPROC_MB (default
#     256) MiB message through tcp2_msg_enc_*/tcp2_msg_dec_* against raw
#     libgcrypt ChaCha20-Poly1305 over the same data.
#
# MB = 10^6 and GB = 10^9 bytes of plaintext per second.  No network; all
# files live in one temporary directory that is removed on exit.
set -eu

cd "$(dirname "$0")/../.." || exit 2
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
TCP2=$BUILD/bin/tcp2-mail
LIB=$BUILD/lib/libtcp2core.a
REPS=${BENCH_REPS:-9}
INPROC_MB=${BENCH_INPROC_MB:-256}
INPROC_REPS=${BENCH_INPROC_REPS:-3}
CC=${CC:-cc}

die() {
	echo "bench: $*" >&2
	exit 1
}

[ -x "$TCP2" ] || die "$TCP2 missing (run make first)"
[ -f "$LIB" ] || die "$LIB missing (run make first)"
for tool in age age-keygen gpg gpgconf base64 cmp awk; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool not installed"
done
[ "$REPS" -ge 5 ] || die "BENCH_REPS must be at least 5"

# The stores must use their key files, not an Argon2id passphrase.
unset TCP2_PASSPHRASE

TMP=$(mktemp -d "${TMPDIR:-/tmp}/tcp2-bench.XXXXXX")
GNUPGHOME=$TMP/gnupg
export GNUPGHOME
cleanup() {
	# Only the agent of our own temporary GNUPGHOME, if one was started.
	if [ -d "$GNUPGHOME" ]; then
		gpgconf --homedir "$GNUPGHOME" --kill all >/dev/null 2>&1 || :
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- the message ------------------------------------------------------

MSG=$TMP/plain.eml
{
	printf 'Return-Path: <alice@example.org>\r\n'
	printf 'Received: from mail.example.org (mail.example.org\r\n'
	printf '\t[192.0.2.1])\r\n'
	printf '\tby mx.example.net with ESMTPS id 4F2A1B3C4D\r\n'
	printf '\tfor <bob@example.org>; Mon, 24 Nov 2025 10:00:00 +0000\r\n'
	printf 'From: Alice Example <alice@example.org>\r\n'
	printf 'To: Bob Example <bob@example.org>\r\n'
	printf 'Subject: Q3 figures and the signed contract\r\n'
	printf 'Date: Mon, 24 Nov 2025 10:00:00 +0000\r\n'
	printf 'Message-ID: <20251124100000.4F2A1B3C4D@example.org>\r\n'
	printf 'MIME-Version: 1.0\r\n'
	printf 'Content-Type: multipart/mixed; boundary="=_bench_b0undary"\r\n'
	printf '\r\n'
	printf 'This is a multi-part message in MIME format.\r\n'
	printf '\r\n'
	printf -- '--=_bench_b0undary\r\n'
	printf 'Content-Type: text/plain; charset=utf-8\r\n'
	printf 'Content-Transfer-Encoding: 8bit\r\n'
	printf '\r\n'
	printf 'Hello Bob,\r\n\r\n'
	i=0
	while [ $i -lt 40 ]; do
		printf '%s %d of the notes.\r\n' \
		    'please find attached the figures for the quarter, line' $i
		i=$((i + 1))
	done
	printf '\r\nRegards,\r\nAlice\r\n'
	printf '\r\n'
	printf -- '--=_bench_b0undary\r\n'
	printf 'Content-Type: application/pdf; name="contract.pdf"\r\n'
	printf 'Content-Disposition: attachment; filename="contract.pdf"\r\n'
	printf 'Content-Transfer-Encoding: base64\r\n'
	printf '\r\n'
	# 7.3 MB of binary data is 10.0 MB of base64 with CRLF lines.
	head -c 7300000 /dev/urandom | base64 -w 76 |
	    awk '{ printf "%s\r\n", $0 }'
	printf -- '--=_bench_b0undary--\r\n'
} >"$MSG"
SIZE=$(wc -c <"$MSG" | tr -d ' ')

# ---- keys ------------------------------------------------------------

A=$TMP/store-alice
B=$TMP/store-bob
"$TCP2" --store "$A" init --addr alice@example.org 2>/dev/null ||
    die "tcp2-mail init (alice) failed"
"$TCP2" --store "$B" init --addr bob@example.org 2>/dev/null ||
    die "tcp2-mail init (bob) failed"
"$TCP2" --store "$A" keyx-start --to bob@example.org >"$TMP/k1" &&
    "$TCP2" --store "$B" keyx-recv <"$TMP/k1" >"$TMP/k2" 2>/dev/null &&
    "$TCP2" --store "$A" keyx-recv <"$TMP/k2" 2>/dev/null ||
    die "tcp2-mail key exchange failed"

age-keygen -o "$TMP/age.key" 2>/dev/null || die "age-keygen failed"
AGE_RCPT=$(age-keygen -y "$TMP/age.key") || die "age-keygen -y failed"

mkdir -m 700 "$GNUPGHOME"
gpg --batch --quiet --passphrase '' --pinentry-mode loopback \
    --quick-gen-key 'bench <b@x>' future-default default never \
    >/dev/null 2>&1 || die "gpg key generation failed"

# ---- timing ----------------------------------------------------------

# time_cmd NAME IN OUT CMD...: one warm-up, then REPS timed runs of
# CMD <IN >OUT; writes the median in nanoseconds to $TMP/NAME.ns.
time_cmd() {
	name=$1 in=$2 out=$3
	shift 3
	"$@" <"$in" >"$out" 2>"$TMP/$name.err" ||
	    die "$name failed: $(head -3 "$TMP/$name.err")"
	: >"$TMP/$name.list"
	r=0
	while [ $r -lt "$REPS" ]; do
		t0=$(date +%s%N)
		"$@" <"$in" >"$out" 2>"$TMP/$name.err" ||
		    die "$name failed: $(head -3 "$TMP/$name.err")"
		t1=$(date +%s%N)
		echo $((t1 - t0)) >>"$TMP/$name.list"
		r=$((r + 1))
	done
	sort -n "$TMP/$name.list" |
	    awk '{ v[NR] = $1 }
		END { n = NR; m = int((n + 1) / 2)
		      print (n % 2) ? v[m] : int((v[m] + v[m + 1]) / 2) }' \
	    >"$TMP/$name.ns"
}

check_same() {
	cmp -s "$MSG" "$1" || die "$2: round trip is NOT byte-identical"
}

time_cmd tcp2_enc "$MSG" "$TMP/t.enc" \
    "$TCP2" --store "$A" encrypt --to bob@example.org
time_cmd tcp2_dec "$TMP/t.enc" "$TMP/t.out" \
    "$TCP2" --store "$B" decrypt --allow-replay
check_same "$TMP/t.out" "tcp2-mail"

time_cmd age_enc "$MSG" "$TMP/a.enc" age -r "$AGE_RCPT"
time_cmd age_dec "$TMP/a.enc" "$TMP/a.out" age -d -i "$TMP/age.key"
check_same "$TMP/a.out" "age"

time_cmd gpg_enc "$MSG" "$TMP/g.enc" \
    gpg --batch --quiet --trust-model always --encrypt -r b@x
time_cmd gpg_dec "$TMP/g.enc" "$TMP/g.out" \
    gpg --batch --quiet --pinentry-mode loopback --passphrase '' --decrypt
check_same "$TMP/g.out" "gpg"

ns() { cat "$TMP/$1.ns"; }

echo "TCP2 Mail benchmarks ($(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -m))"
echo
printf 'whole process, %s-byte message (CRLF, base64 attachment), ' "$SIZE"
printf 'median of %d runs, MB/s of plaintext:\n' "$REPS"
awk -v size="$SIZE" \
    -v te="$(ns tcp2_enc)" -v td="$(ns tcp2_dec)" \
    -v ae="$(ns age_enc)" -v ad="$(ns age_dec)" \
    -v ge="$(ns gpg_enc)" -v gd="$(ns gpg_dec)" '
function mbs(t) { return size / (t / 1e9) / 1e6 }
function row(name, t) {
	printf "  %-22s %8.1f ms %8.1f MB/s\n", name, t / 1e6, mbs(t)
}
BEGIN {
	row("tcp2-mail encrypt", te); row("tcp2-mail decrypt", td)
	row("age encrypt", ae);       row("age decrypt", ad)
	row("gpg encrypt", ge);       row("gpg decrypt", gd)
	printf "  (gpg with its defaults: AES-256, zlib compression on)\n"
	printf "  (ratio > 1 means tcp2-mail is faster)\n"
	printf "  tcp2-mail encrypt vs age encrypt: %.2fx\n", ae / te
	printf "  tcp2-mail decrypt vs age decrypt: %.2fx\n", ad / td
	printf "  tcp2-mail encrypt vs gpg encrypt: %.2fx\n", ge / te
	printf "  tcp2-mail decrypt vs gpg decrypt: %.2fx\n", gd / td
}'
echo "  (all round trips verified byte-identical)"
echo

# ---- in process --------------------------------------------------------

"$CC" -O2 -std=c11 -D_GNU_SOURCE -Iinclude -Idaemon/core \
    -o "$TMP/bench_inproc" tests/bench/bench_inproc.c "$LIB" \
    -lgcrypt -lgpg-error -ljson-c -pthread || die "building bench_inproc failed"
"$TMP/bench_inproc" "$INPROC_MB" "$INPROC_REPS" >"$TMP/inproc.out" ||
    die "bench_inproc failed"
grep -v '^RESULT ' "$TMP/inproc.out"
echo

# ---- goals -------------------------------------------------------------

result=$(grep '^RESULT ' "$TMP/inproc.out")
awk -v te="$(ns tcp2_enc)" -v td="$(ns tcp2_dec)" \
    -v ae="$(ns age_enc)" -v ad="$(ns age_dec)" -v res="$result" '
BEGIN {
	re = ae / te; rd = ad / td; r = re < rd ? re : rd
	printf "goal: tcp2-mail >= age (whole process): %s " \
	    "(%.2fx; encrypt %.2fx, decrypt %.2fx)\n",
	    (r >= 1 ? "MET" : "NOT MET"), r, re, rd
	split(res, f, "[ =]")
	for (i = 1; i in f; i++) if (f[i] == "enc_gbps") g = f[i + 1] + 0
	printf "goal: >= 1 GB/s in-process encryption: %s (%.3f GB/s)\n",
	    (g >= 1 ? "MET" : "NOT MET"), g
}'
