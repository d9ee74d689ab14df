#!/bin/sh
# tests/fuzz/run.sh - build and run the libFuzzer targets of the mail core.
#
#   tests/fuzz/run.sh SECONDS [TARGET...]
#
# TARGET is a name like "header" or "fuzz_header"; none means every
# tests/fuzz/fuzz_*.c.  Everything goes under build/fuzz/: the binaries,
# the instrumented core library, a working corpus per target (seeded from
# tests/fuzz/corpus/<name>/, which is never written), crash artifacts in
# artifacts/<name>/ and one log per target in logs/.  One line per target:
#   ok - fuzz <name>: N runs in S s, no crash
#   not ok - fuzz <name>: crash, artifact <path>
# Exit status 1 when any target failed to build or crashed.
#
# daemon/core/ is edited while this runs: a source that does not compile
# is retried (FUZZ_RETRIES times, FUZZ_RETRY_DELAY s apart) and then left
# out, so is one that defines main().  A target needing it fails to link.
set -u

usage() {
	echo "usage: tests/fuzz/run.sh SECONDS [TARGET...]" >&2
	exit 2
}

[ $# -ge 1 ] || usage
secs=$1
shift
case "$secs" in '' | *[!0-9]*) usage ;; esac

cd "$(dirname "$0")/../.." || exit 2

: "${CC_FUZZ:=clang}"
: "${FUZZ_RETRIES:=3}"
: "${FUZZ_RETRY_DELAY:=20}"
out=build/fuzz
CFLAGS_FUZZ="-g -O1 -std=c11 -D_GNU_SOURCE -Idaemon/core -Iinclude \
$(pkg-config --cflags json-c 2>/dev/null) \
-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all"
LIBS_FUZZ="-lgcrypt -lgpg-error -lsodium -ljson-c"
mkdir -p "$out/obj" "$out/logs" "$out/corpus" "$out/artifacts" || exit 2

if ! command -v "$CC_FUZZ" >/dev/null 2>&1; then
	echo "not ok - fuzz: $CC_FUZZ not found (scripts/install-deps.sh)"
	exit 1
fi

# Compile with retries: a file may be mid-edit by someone else.
# compile SRC OBJ LOG -> 0 or 1
compile() {
	try=0
	while :; do
		# shellcheck disable=SC2086
		$CC_FUZZ $CFLAGS_FUZZ -c -o "$2" "$1" >"$3" 2>&1 && return 0
		try=$((try + 1))
		[ "$try" -gt "$FUZZ_RETRIES" ] && return 1
		echo "# $1 does not compile, retry $try in ${FUZZ_RETRY_DELAY}s" >&2
		sleep "$FUZZ_RETRY_DELAY"
	done
}

# The core library as an archive, so that each target pulls in only the
# objects it uses and a broken unrelated file cannot break its link.
build_core() {
	lib=$out/libtcp2core-fuzz.a
	rm -f "$lib" "$out"/obj/*.o
	objs=""
	for src in daemon/core/*.c; do
		[ -f "$src" ] || continue
		n=$(basename "$src" .c)
		obj=$out/obj/$n.o
		if ! compile "$src" "$obj" "$out/logs/core-$n.log"; then
			echo "# skipping $src: does not compile with the fuzz" \
			    "flags (log $out/logs/core-$n.log)"
			rm -f "$obj"
			continue
		fi
		if nm "$obj" 2>/dev/null | grep -q ' T main$'; then
			echo "# skipping $src: defines main()"
			rm -f "$obj"
			continue
		fi
		objs="$objs $obj"
	done
	# shellcheck disable=SC2086
	[ -n "$objs" ] && ar rcs "$lib" $objs
}

# build NAME -> 0 or 1; the binary is $out/fuzz_NAME.  (sh has no
# locals: the variables of these functions have distinct names.)
build_target() {
	blog=$out/logs/build-$1.log
	compile "tests/fuzz/fuzz_$1.c" "$out/obj/fuzz_$1.o" "$blog" || return 1
	# shellcheck disable=SC2086
	$CC_FUZZ $CFLAGS_FUZZ -o "$out/fuzz_$1" "$out/obj/fuzz_$1.o" \
	    "$out/libtcp2core-fuzz.a" $LIBS_FUZZ >>"$blog" 2>&1
}

# run NAME: one TAP line; returns 1 on a crash or a build failure.
run_target() {
	name=$1
	log=$out/logs/$name.log
	corpus=$out/corpus/$name
	arts=$out/artifacts/$name
	if ! build_target "$name"; then
		echo "not ok - fuzz $name: build failed (log $out/logs/build-$name.log)"
		sed 's/^/#   /' "$out/logs/build-$name.log" | tail -20
		return 1
	fi
	mkdir -p "$corpus" "$arts"
	# Seeds are copied in; what the fuzzer adds stays in build/.
	if [ -d "tests/fuzz/corpus/$name" ]; then
		cp -p "tests/fuzz/corpus/$name"/* "$corpus"/ 2>/dev/null
	fi
	start=$(date +%s)
	"./$out/fuzz_$name" -max_total_time="$secs" -rss_limit_mb=2048 \
	    -timeout=10 -print_final_stats=1 -artifact_prefix="$arts/" \
	    "$corpus" >"$log" 2>&1
	rc=$?
	el=$(($(date +%s) - start))
	# Stats, from libFuzzer's last status line and its final stats.
	# (grep -a: libFuzzer echoes binary dictionary entries.)
	runs=$(grep -a '^stat::number_of_executed_units:' "$log" |
	    tail -1 | tr -dc 0-9)
	[ -n "$runs" ] || runs=$(grep -a '^Done [0-9]* runs' "$log" |
	    tail -1 | cut -d' ' -f2)
	cov=$(grep -ao 'cov: [0-9]* ft: [0-9]* corp: [0-9]*/[0-9a-zA-Z]*' \
	    "$log" | tail -1)
	art=$(grep -a 'Test unit written to ' "$log" | tail -1 |
	    sed 's/.*Test unit written to //')
	if [ "$rc" -eq 0 ]; then
		echo "ok - fuzz $name: ${runs:-0} runs in $el s, no crash"
		rate=$((${runs:-0} / (el > 0 ? el : 1)))
		echo "#   $name: ${cov:-no coverage line}, $rate runs/s"
		return 0
	fi
	if [ -n "$art" ]; then
		echo "not ok - fuzz $name: crash, artifact $art"
	else
		echo "not ok - fuzz $name: exit status $rc, no artifact (log $log)"
	fi
	# The sanitizer's report, so that CI logs show what broke.
	grep -a -E -A 25 '^==[0-9]+==ERROR|runtime error:|ASSERT|deadly signal' \
	    "$log" | head -40 | sed 's/^/#   /'
	return 1
}

# Which targets: all sources, or the names given.
if [ $# -eq 0 ]; then
	set --
	for f in tests/fuzz/fuzz_*.c; do
		[ -f "$f" ] && set -- "$@" "$(basename "$f" .c)"
	done
fi
[ $# -gt 0 ] || { echo "not ok - fuzz: no targets in tests/fuzz"; exit 1; }

build_core
fail=0
for t in "$@"; do
	name=${t#fuzz_}
	name=${name%.c}
	if [ ! -f "tests/fuzz/fuzz_$name.c" ]; then
		echo "not ok - fuzz $name: no tests/fuzz/fuzz_$name.c"
		fail=1
		continue
	fi
	run_target "$name" || fail=1
done
exit "$fail"
