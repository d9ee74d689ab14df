#!/bin/sh
# tests/bench/t_bench_smoke.sh - `make bench` still runs: its benchmark
# script, shrunk to a few seconds (5 rounds, 1 of gpg, 8 MiB in process,
# no live part), must finish, verify its round trips and print both goal
# lines.  The figures of so short a run mean nothing and are not judged
# here: speed is what `make bench` reports, never a test's verdict.
set -u
cd "$(dirname "$0")/../.." || exit 2

out=$(mktemp)
trap 'rm -f "$out"' EXIT
BUILD=${TCP2_FAST_BUILD:-build} BENCH_LIVE=0 BENCH_REPS=5 \
    BENCH_GPG_REPS=1 BENCH_INPROC_MB=8 BENCH_INPROC_REPS=1 tests/bench/run.sh >"$out" 2>&1
rc=$?

if [ "$rc" -eq 0 ]; then
	echo "ok - the benchmark script runs to its end (5 rounds, 8 MiB)"
else
	echo "not ok - the benchmark script failed (status $rc):"
	sed 's/^/#   /' "$out"
fi
if grep -q '^  (all round trips verified byte-identical)$' "$out"; then
	echo "ok - its whole-process round trips are verified"
else
	echo "not ok - no verified round trips in its output"
fi
for g in 'tcp2-mail >= age (whole process)' '>= 1 GB/s in-process encryption'; do
	if grep -q "^goal: $g: " "$out"; then
		echo "ok - it prints the goal line '$g'"
	else
		echo "not ok - no goal line '$g'"
	fi
done
