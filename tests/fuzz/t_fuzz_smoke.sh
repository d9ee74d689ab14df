#!/bin/sh
# tests/fuzz/t_fuzz_smoke.sh - CI smoke of the libFuzzer targets: each one
# builds and runs for 10 s without a crash.  Prints run.sh's "ok - fuzz"
# / "not ok - fuzz" lines for tests/run to count; `make fuzz` runs longer.
cd "$(dirname "$0")/../.." || exit 2
exec sh tests/fuzz/run.sh 10
