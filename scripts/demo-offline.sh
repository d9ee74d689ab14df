#!/bin/sh
# demo-offline.sh - what TCP2 Mail does, in one minute, on files: Alice
# and Bob each get an encrypted store and identity, exchange keys by mail,
# and Alice's message travels as ciphertext and arrives byte-identical.
# No network and no root (make demo-offline): the demo in real SMTP and
# POP3 sessions, with tcp2d, is scripts/demo.sh (make demo).
set -eu

M=${TCP2_BIN:-build/bin}/tcp2-mail
[ -x "$M" ] || { echo "demo: build first (make)" >&2; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT INT TERM

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "Alice and Bob each create an encrypted store and an identity"
$M --store "$T/alice" init --addr alice@example.org
$M --store "$T/bob" init --addr bob@example.org

say "Alice writes a key-exchange mail (her mail client would send it)"
$M --store "$T/alice" keyx-start --to bob@example.org > "$T/keyx1.eml"
sed -n '/BEGIN TCP2/,/END TCP2/p' "$T/keyx1.eml"

say "Bob's TCP2 consumes it and answers; Alice's consumes the answer"
$M --store "$T/bob" keyx-recv < "$T/keyx1.eml" > "$T/keyx2.eml"
$M --store "$T/alice" keyx-recv < "$T/keyx2.eml"

say "Key states (compare the codes by phone, then: peer-verify)"
echo "Alice sees:"; $M --store "$T/alice" peers
echo "Bob sees:";   $M --store "$T/bob" peers

cat > "$T/plain.eml" <<'MAIL'
From: Alice <alice@example.org>
To: Bob <bob@example.org>
Subject: The launch code is 0000
Date: Tue, 24 Nov 2026 10:00:00 +0000
Message-ID: <demo-1@example.org>

Bob, the secret plan is in the attachment.
MAIL

say "Alice's message, as her mail client writes it"
cat "$T/plain.eml"

say "What leaves her machine and sits on the server"
$M --store "$T/alice" encrypt --to bob@example.org < "$T/plain.eml" > "$T/enc.eml"
cat "$T/enc.eml"

say "What Bob's unmodified mail client receives"
$M --store "$T/bob" decrypt < "$T/enc.eml" > "$T/dec.eml"
cat "$T/dec.eml"
cmp -s "$T/plain.eml" "$T/dec.eml" && echo "(byte-identical to what Alice wrote)"

say "A server that flips one bit gets caught"
awk 'd && ++n == 5 { c = substr($0, 20, 1) == "A" ? "B" : "A"
	$0 = substr($0, 1, 19) c substr($0, 21) }
	/^Content-Transfer-Encoding: base64/ { d = 1 } { print }' \
    "$T/enc.eml" > "$T/bad.eml"
$M --store "$T/bob" decrypt --allow-replay < "$T/bad.eml" || true
