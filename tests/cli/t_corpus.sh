#!/bin/sh
# tests/cli/t_corpus.sh - round trips of real and edge-case mail through
# tcp2-mail: every message is encrypted alice -> bob, the encrypted file
# must show neither its Subject value nor a random marker from its body,
# and bob's decrypt must give back the very same bytes (cmp).
#
# The corpus is assembled at test time, never committed (licences, size):
#   - real messages shipped by Debian packages: Python's email test data
#     (libpython3.11-testsuite, /usr/lib/python3.11/test/test_email/data),
#     the S/MIME messages of the PKITS test suite
#     (python3-cryptography-vectors), and any other *.eml / *.mbox found
#     under /usr/share and /usr/lib (an mbox is split into its messages);
#     at least 30 real messages are required;
#   - generated edge cases written below with printf/awk: CRLF and LF,
#     8-bit UTF-8 and Latin-1, 998-octet lines, '.' and '..' lines,
#     RFC 2047 words, nested multiparts, a binary part, no final newline,
#     a 40 KB header block, a 20 MB attachment, chunk-boundary sizes...
#
# tcp2-mail needs exactly one From: address (the receiver finds the key
# through it) and signs only when it is the account's, so each real message
# gets its From: field replaced by "From: alice@example.org" (one From:
# added in front when it has none; an mbox "From " separator line, which
# is not part of the message, is dropped); everything else stays byte for
# byte, plus one marker line appended at the end.
set -u
cd "$(dirname "$0")/../.." || exit 2

BIN="${TCP2_BUILD:-build/san}/bin/tcp2-mail"
ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}:exitcode=86"
UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}:exitcode=86"
export ASAN_OPTIONS UBSAN_OPTIONS
unset TCP2_PASSPHRASE
LC_ALL=C
export LC_ALL

PYDATA=/usr/lib/python3.11/test/test_email/data	# libpython3.11-testsuite
PKITS=/usr/lib/python3/dist-packages/cryptography_vectors/x509/PKITS_data/smime
MIN_REAL=30

nfail=0
npass=0
pass() { echo "ok - $1"; npass=$((npass + 1)); }
flunk() { echo "not ok - $1"; nfail=$((nfail + 1)); }

for tool in mktemp awk sed grep cmp od tr head tail wc base64 find dpkg; do
	command -v "$tool" >/dev/null 2>&1 || {
		echo "not ok - $tool missing"
		exit 1
	}
done
if [ ! -x "$BIN" ]; then
	echo "not ok - $BIN missing (make BUILD=build/san SAN=1 test-build)"
	exit 1
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/t_corpus.XXXXXX") || {
	echo "not ok - mktemp failed"
	exit 1
}
trap 'rm -rf "$T"' EXIT
trap 'exit 1' HUP INT TERM
A=alice@example.org
B=bob@example.org
W=$T/msg
mkdir "$W" "$T/s"

rnd() { od -An -N8 -tx1 /dev/urandom | tr -d ' \n'; }

# ---------------------------------------------------------------- keys

"$BIN" --store "$T/s/a" init --addr "$A" 2>"$T/err" &&
    "$BIN" --store "$T/s/b" init --addr "$B" 2>>"$T/err" &&
    "$BIN" --store "$T/s/a" keyx-start --to "$B" >"$T/k1" 2>>"$T/err" &&
    "$BIN" --store "$T/s/b" keyx-recv <"$T/k1" >"$T/k2" 2>>"$T/err" &&
    "$BIN" --store "$T/s/a" keyx-recv <"$T/k2" >/dev/null 2>>"$T/err"
if [ $? -ne 0 ] || ! "$BIN" --store "$T/s/a" peers | grep -q "^$B established"; then
	echo "not ok - setup: alice <-> bob key exchange"
	sed 's/^/#   /' "$T/err"
	exit 1
fi

# ---------------------------------------------------------------- round trip

# roundtrip NAME FILE MARKER [self]: encrypt alice -> bob, check that
# neither the Subject value nor MARKER is visible, decrypt, compare; with
# "self", alice also reads her own copy.
roundtrip() {
	_n=$1 _f=$2 _m=$3
	_e=$T/cur.eml
	if ! "$BIN" --store "$T/s/a" encrypt --to "$B" <"$_f" >"$_e" 2>"$T/err"; then
		flunk "corpus $_n: encrypt failed: $(head -n 1 "$T/err")"
		return
	fi
	if grep -q -F -e "$_m" "$_e"; then
		flunk "corpus $_n: body marker visible in the encrypted message"
		return
	fi
	# The first Subject: value of the header block (first line only).
	_s=$(awk '/^\r?$/ { exit } /^[Ss][Uu][Bb][Jj][Ee][Cc][Tt]:/ {
		sub(/^[^:]*:[ \t]*/, ""); sub(/[ \t]*\r?$/, ""); print; exit }' "$_f")
	# (Too short a value could occur in base64 text by chance.)
	if [ ${#_s} -ge 6 ] && [ "$_s" != "[TCP2 encrypted message]" ] &&
	    grep -q -F -e "$_s" "$_e"; then
		flunk "corpus $_n: Subject value visible in the encrypted message"
		return
	fi
	if ! grep -q '^Subject: \[TCP2 encrypted message\]' "$_e"; then
		flunk "corpus $_n: no placeholder Subject in the encrypted message"
		return
	fi
	if ! "$BIN" --store "$T/s/b" decrypt <"$_e" >"$T/cur.out" 2>"$T/err"; then
		flunk "corpus $_n: decrypt failed: $(head -n 1 "$T/err")"
		return
	fi
	if ! cmp -s "$_f" "$T/cur.out"; then
		flunk "corpus $_n: decrypted bytes differ ($(cmp "$_f" "$T/cur.out" 2>&1 | head -n 1))"
		return
	fi
	if ! grep -q ": verified" "$T/err"; then
		flunk "corpus $_n: not reported verified: $(head -n 1 "$T/err")"
		return
	fi
	if [ "${4:-}" = self ]; then
		if ! "$BIN" --store "$T/s/a" decrypt <"$_e" >"$T/cur.out" 2>"$T/err" ||
		    ! cmp -s "$_f" "$T/cur.out"; then
			flunk "corpus $_n: alice cannot read her own copy: $(head -n 1 "$T/err")"
			return
		fi
	fi
	# A second decryption is a replay; --allow-replay reads it again.
	if [ "${4:-}" = self ]; then
		if "$BIN" --store "$T/s/b" decrypt <"$_e" >"$T/cur.out" 2>"$T/err" ||
		    [ -s "$T/cur.out" ]; then
			flunk "corpus $_n: a second decrypt was not refused as a replay"
			return
		fi
		if ! "$BIN" --store "$T/s/b" decrypt --allow-replay <"$_e" >"$T/cur.out" 2>"$T/err" ||
		    ! cmp -s "$_f" "$T/cur.out"; then
			flunk "corpus $_n: decrypt --allow-replay failed: $(head -n 1 "$T/err")"
			return
		fi
	fi
	pass "corpus $_n"
}

# ---------------------------------------------------------------- real messages

# prep SRC DST MARKER: DST is SRC with its From: field replaced (see top),
# and a marker line appended.
prep() {
	_used=$(awk -v addr="$A" -v out="$2.hdr" '
	NR == 1 {
		eol = /\r$/ ? "\r\n" : "\n"
		if (/^From /) { used += length($0) + 1; next }
	}
	infrom && /^[ \t]/ { used += length($0) + 1; next }
	{ infrom = 0 }
	/^[Ff][Rr][Oo][Mm]:/ {
		used += length($0) + 1
		if (!done) { h = h "From: " addr eol; done = infrom = infield = 1 }
		else { h = h "X-Corpus-Extra-" $0 "\n"; infield = 1 }
		next
	}
	/^[!-9;-~]+:/ || (infield && /^[ \t]/) {
		h = h $0 "\n"; used += length($0) + 1; infield = 1; next
	}
	{ exit }
	END {
		if (!done) h = "From: " addr eol h
		printf "%s", h > out
		print used + 0
	}' "$1")
	_size=$(wc -c <"$1")
	if [ "$_used" -gt "$_size" ]; then
		# The header ran to the end of a file without a final newline.
		head -c $(($(wc -c <"$2.hdr") - 1)) "$2.hdr" >"$2"
	else
		cat "$2.hdr" >"$2"
		tail -c +$((_used + 1)) "$1" >>"$2"
	fi
	rm -f "$2.hdr"
	_eol='\n'
	head -n 1 "$2" | grep -q "$(printf '\r')\$" && _eol='\r\n'
	[ "$(tail -c 1 "$2" | od -An -c | tr -d ' ')" = '\n' ] || printf "$_eol" >>"$2"
	printf "%s$_eol" "$3" >>"$2"
}

# Collect the real messages: NAME<TAB>FILE lines in $T/real.list.
: >"$T/real.list"
npy=0
nother=0
if [ -d "$PYDATA" ]; then
	for f in "$PYDATA"/msg_*.txt; do
		[ -f "$f" ] || continue
		printf 'py/%s\t%s\t%s\n' "${f##*/}" "$f" "$f" >>"$T/real.list"
		npy=$((npy + 1))
	done
fi
find /usr/share /usr/lib \( -name '*.eml' -o -name '*.mbox' \) -type f 2>/dev/null |
    sort >"$T/found"
mkdir "$T/mbox"
while IFS= read -r f; do
	case "$f" in
	*.mbox)
		# One file per message; the separator lines stay with their
		# message and are dropped by prep.
		k=$(awk -v d="$T/mbox" -v b="$(echo "$f" | tr '/' '_')" '
		    /^From / { if (o != "") close(o); n++; o = d "/" b "." n }
		    n { print > o } END { print n + 0 }' "$f")
		i=1
		while [ "$i" -le "$k" ]; do
			printf 'mbox/%s#%d\t%s\t%s\n' "${f##*/}" "$i" \
			    "$T/mbox/$(echo "$f" | tr '/' '_').$i" "$f" >>"$T/real.list"
			i=$((i + 1))
		done
		nother=$((nother + k))
		;;
	*)
		case "$f" in
		"$PKITS"/*) n="pkits/${f##*/}" ;;
		*) n="eml/${f##*/}" ;;
		esac
		printf '%s\t%s\t%s\n' "$n" "$f" "$f" >>"$T/real.list"
		nother=$((nother + 1))
		;;
	esac
done <"$T/found"
npkits=$(grep -c '^pkits/' "$T/real.list")
nreal=$(wc -l <"$T/real.list" | tr -d ' ')

# Which Debian packages the real messages come from; a message counts
# as real only when a package owns its source (not, e.g., a pyenv tree).
cut -f 3 "$T/real.list" | sed 's|/[^/]*$||' | sort -u >"$T/dirs"
: >"$T/debdirs"
: >"$T/pkgs"
while IFS= read -r d; do
	if dpkg -S "$d" >"$T/x" 2>/dev/null; then
		echo "$d" >>"$T/debdirs"
		sed 's/: .*//' "$T/x" | tr ',' '\n' | tr -d ' ' >>"$T/pkgs"
	fi
done <"$T/dirs"
pkgs=$(sort -u "$T/pkgs" | tr '\n' ' ' | sed 's/ $//')
ndeb=$(awk -F '\t' 'NR == FNR { deb[$0] = 1; next }
	{ d = $3; sub(/\/[^\/]*$/, "", d); if (d in deb) n++ } END { print n + 0 }' \
    "$T/debdirs" "$T/real.list")

if [ "$ndeb" -ge "$MIN_REAL" ]; then
	pass "corpus has $ndeb real messages from Debian packages ($pkgs)"
else
	flunk "corpus has only $ndeb real messages from Debian packages, need $MIN_REAL (install: scripts/install-deps.sh)"
fi

mkdir "$W/real"
i=0
while IFS="$(printf '\t')" read -r name file src; do
	i=$((i + 1))
	m="tcp2corpus$(rnd)"
	p=$W/real/$i.eml
	prep "$file" "$p" "$m"
	roundtrip "$name" "$p" "$m"
done <"$T/real.list"

# ---------------------------------------------------------------- generated

G=$W/gen
mkdir "$G"
ngen=0
# gen NAME [self]: round trip $G/NAME.eml, whose marker is in $G/NAME.mark.
gen() {
	ngen=$((ngen + 1))
	roundtrip "gen/$1" "$G/$1.eml" "$(cat "$G/$1.mark")" "${2:-}"
}
# hdr NAME [SUBJECT]: a plain LF header and a fresh marker for NAME.
hdr() {
	rnd >"$G/$1.mark"
	printf 'From: Alice <%s>\nTo: Bob <%s>\nSubject: %s\nDate: Tue, 2 Jan 2024 09:00:00 +0100\nMessage-ID: <%s.%s@example.org>\n' \
	    "$A" "$B" "${2:-corpus case $1 $(cat "$G/$1.mark")}" "$1" "$(rnd)"
}
mark() { cat "$G/$1.mark"; }
crlf() { sed 's/$/\r/'; }
# repeat N STRING: STRING N times, no separator.
repeat() { awk -v n="$1" -v s="$2" 'BEGIN { while (n-- > 0) printf "%s", s }'; }

{ hdr lf; printf '\nplain LF text\nmarker %s\n\nbye\n' "$(mark lf)"; } >"$G/lf.eml"
gen lf self

{ hdr crlf; printf '\nplain CRLF text\nmarker %s\n\nbye\n' "$(mark crlf)"; } | crlf >"$G/crlf.eml"
gen crlf self

{ hdr mixed-eol; printf 'X-Note: this header is LF\n\r\nbody with CRLF\r\nand LF\nand lone CR\rin it %s\n' "$(mark mixed-eol)"; } >"$G/mixed-eol.eml"
gen mixed-eol

{
	hdr utf8 "Grüße aus Köln – ünïcödé $(rnd)"
	printf 'MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n'
	printf 'Grüße, Здравствуйте, こんにちは, 你好, مرحبا, 🙂🚀\n%s\n' "$(mark utf8)"
	printf 'Ελληνικά: αβγδε ζηθικ λμνξο\n'
} >"$G/utf8.eml"
gen utf8 self

{
	hdr latin1 "$(printf 'Gr\374\337e aus K\366ln') $(rnd)"
	printf 'MIME-Version: 1.0\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: 8bit\n\n'
	printf 'Gr\374\337e, \340 bient\364t, ma\361ana, \251 \256 \261 \327 \367\n%s\n' "$(mark latin1)"
	printf '\300\301\302\303\304\305\306\307\310\311\312\313\314\315\316\317\n'
} >"$G/latin1.eml"
gen latin1

l998=$(repeat 998 x)
l998b=$(awk 'BEGIN { for (i = 0; i < 998; i++) printf "%c", 33 + i % 94 }')
{
	hdr line998
	printf 'X-Long: %s\n' "$(repeat 990 y)"
	printf '\n%s\n%s\n%s\nmarker %s\n%s\n' "$l998" "$l998b" "$l998" "$(mark line998)" "$l998b"
} >"$G/line998.eml"
gen line998
{
	hdr line998-crlf
	printf '\n%s\n%s\nmarker %s\n%s\n' "$l998" "$l998b" "$(mark line998-crlf)" "$l998"
} | crlf >"$G/line998-crlf.eml"
gen line998-crlf
n998=$(awk '{ sub(/\r$/, "") } length($0) == 998' "$G/line998.eml" "$G/line998-crlf.eml" | wc -l)
if [ "$n998" -eq 8 ]; then
	pass "gen/line998*: 8 lines of exactly 998 octets before the line end"
else
	flunk "gen/line998*: expected 8 lines of 998 octets, found $n998"
fi

{
	hdr dots
	printf '\nSMTP would end the data here:\n.\nor here\n..\n...\n. \n.%s\n.\n' "$(mark dots)"
} >"$G/dots.eml"
gen dots self
{
	hdr dots-crlf
	printf '\n.\n..\n.marker %s\n.\n' "$(mark dots-crlf)"
} | crlf >"$G/dots-crlf.eml"
gen dots-crlf
{ hdr dots-last; printf '\nthe last line is a dot %s\n.' "$(mark dots-last)"; } >"$G/dots-last.eml"
gen dots-last

rnd >"$G/rfc2047.mark"
printf '%s\n' \
    'From: =?ISO-8859-1?Q?Andr=E9_Alice?= <alice@example.org>' \
    'To: =?UTF-8?B?Qm9iIELDpGNrZXI=?= <bob@example.org>' \
    "Subject: =?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?= =?UTF-8?Q?_und_mehr_$(rnd)?=" \
    'Date: Wed, 3 Jan 2024 12:00:00 +0000' \
    'MIME-Version: 1.0' \
    'Content-Type: text/plain; charset=utf-8' \
    '' \
    "encoded words in the header $(mark rfc2047)" >"$G/rfc2047.eml"
gen rfc2047
rnd >"$G/rfc2047-fold.mark"
printf 'From: "=?UTF-8?Q?Alice_=E2=9C=93?= (quoted, <not an addr>)"\n (a comment, with commas)\n <ALICE@Example.ORG>\nTo: bob@example.org\nSubject:\n =?UTF-8?Q?folded_subject_line_one?=\n =?UTF-8?Q?_folded_two_%s?=\n\nmarker %s\n' \
    "$(rnd)" "$(mark rfc2047-fold)" >"$G/rfc2047-fold.eml"
gen rfc2047-fold

# Nested multipart/alternative inside multipart/mixed with attachments.
{
	hdr nested
	printf 'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="outer-%s"\n\n' "$(mark nested)"
	printf 'This is a multi-part message in MIME format.\n\n'
	printf -- '--outer-%s\nContent-Type: multipart/alternative; boundary="inner"\n\n' "$(mark nested)"
	printf -- '--inner\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\nHello Bob, the marker is %s.=\n soft break =C3=BC\n\n' "$(mark nested)"
	printf -- '--inner\nContent-Type: text/html; charset=utf-8\n\n<html><body><p>Hello <b>Bob</b></p></body></html>\n\n--inner--\n\n'
	printf -- '--outer-%s\nContent-Type: application/pdf; name="plan.pdf"\nContent-Disposition: attachment; filename="plan.pdf"\nContent-Transfer-Encoding: base64\n\n' "$(mark nested)"
	head -c 30000 /dev/urandom | base64 -w 76
	printf -- '\n--outer-%s\nContent-Type: image/png; name="x.png"\nContent-Disposition: attachment; filename="x.png"\nContent-Transfer-Encoding: base64\n\n' "$(mark nested)"
	head -c 5000 /dev/urandom | base64 -w 76
	printf -- '\n--outer-%s\nContent-Type: message/rfc822\n\nFrom: carol@example.org\nTo: alice@example.org\nSubject: forwarded\n\nforwarded body\n\n' "$(mark nested)"
	printf -- '--outer-%s--\n\nepilogue\n' "$(mark nested)"
} >"$G/nested.eml"
gen nested self

# A NUL-free binary part: every octet but NUL, bare CR and LF included.
{
	hdr binary
	printf 'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain\n\n%s\n--b\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: binary\n\n' "$(mark binary)"
	awk 'BEGIN { for (i = 1; i < 256; i++) printf "%c", i }'
	head -c 200000 /dev/urandom | tr -d '\000'
	printf '\n--b--\n'
} >"$G/binary.eml"
if tr -d '\000' <"$G/binary.eml" | cmp -s - "$G/binary.eml" &&
    [ "$(wc -c <"$G/binary.eml")" -gt 190000 ]; then
	gen binary self
else
	flunk "gen/binary: the generated binary part has a NUL or is too short"
fi

{ hdr nonl; printf '\nno newline at the end %s' "$(mark nonl)"; } >"$G/nonl.eml"
gen nonl self
{ hdr nonl-crlf; printf '\nno CRLF at the end %s\n' "$(mark nonl-crlf)"; } | crlf >"$T/x"
head -c $(($(wc -c <"$T/x") - 2)) "$T/x" >"$G/nonl-crlf.eml"
gen nonl-crlf
rnd >"$G/hdronly.mark"
printf 'From: %s\nTo: %s\nX-Marker-Only-Here: %s' "$A" "$B" "$(mark hdronly)" >"$G/hdronly.eml"
gen hdronly
# The marker is a header field here (the body is empty).
{ hdr emptybody; printf 'X-Marker: %s\n\n' "$(mark emptybody)"; } >"$G/emptybody.eml"
gen emptybody

# A header block of 40 KB: the Subject and a To: lie beyond the 16 KiB
# header window, a long folded References: field in it.
{
	rnd >"$G/hdr40k.mark"
	printf 'From: Alice <%s>\nDate: Thu, 4 Jan 2024 08:00:00 +0000\nReferences:' "$A"
	i=0
	while [ $i -lt 60 ]; do
		printf ' <ref%d.%s@example.org>\n' $i "$(repeat 20 r)"
		i=$((i + 1))
	done
	i=0
	while [ $i -lt 400 ]; do
		printf 'X-Filler-%d: %s\n' $i "$(repeat 80 f)"
		i=$((i + 1))
	done
	printf 'To: Bob <%s>\nSubject: beyond the header window %s\n\nbody %s\n' "$B" "$(rnd)" "$(mark hdr40k)"
} >"$G/hdr40k.eml"
hsize=$(awk '/^$/ { print n; exit } { n += length($0) + 1 }' "$G/hdr40k.eml")
if [ "$hsize" -ge 40000 ]; then
	gen hdr40k self
else
	flunk "gen/hdr40k: header block is only $hsize octets"
fi

# A 20 MB attachment.
{
	hdr attach20m
	printf 'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="big"\n\n--big\nContent-Type: text/plain\n\n%s\n--big\nContent-Type: application/octet-stream; name="big.bin"\nContent-Transfer-Encoding: base64\n\n' "$(mark attach20m)"
	head -c 15000000 /dev/urandom | base64 -w 76
	printf -- '--big--\n'
} >"$G/attach20m.eml"
if [ "$(wc -c <"$G/attach20m.eml")" -ge 20000000 ]; then
	gen attach20m self
else
	flunk "gen/attach20m: attachment smaller than 20 MB"
fi

# Sizes around the 16 KiB chunk and the 65-octet trailer window.
for size in 256 16318 16319 16320 16383 16384 16385 32767 32768 32769 49152; do
	n=size$size
	{ hdr "$n"; printf '\n%s\n' "$(mark "$n")"; } >"$T/x"
	have=$(wc -c <"$T/x")
	{ cat "$T/x"; repeat $((size - have)) z; } | head -c "$size" >"$G/$n.eml"
	if [ "$(wc -c <"$G/$n.eml")" -eq "$size" ]; then
		gen "$n"
	else
		flunk "gen/$n: could not build a message of $size octets"
	fi
done

# One line of 100 000 octets (longer than any line buffer).
{ hdr longline; printf '\n%s ' "$(mark longline)"; repeat 100000 L; printf '\n'; } >"$G/longline.eml"
gen longline

# An already encrypted message, encrypted again.
"$BIN" --store "$T/s/a" encrypt --to "$B" <"$G/lf.eml" >"$G/double.eml" 2>"$T/err"
mark lf >"$G/double.mark"
gen double

# Upper-case From: field name and address: still the account, still signed.
rnd >"$G/fromcase.mark"
printf 'FROM: ALICE@EXAMPLE.ORG\nTO: BOB@EXAMPLE.ORG\nSUBJECT: upper case %s\n\n%s\n' "$(rnd)" "$(mark fromcase)" >"$G/fromcase.eml"
gen fromcase

echo "# corpus: $nreal real messages ($npy Python test_email, $npkits PKITS S/MIME, $((nother - npkits)) other; $ndeb from the Debian packages $pkgs), $ngen generated"
echo "# corpus: $npass passed, $nfail failed"
[ "$nfail" -eq 0 ]
