# tests/e2e/check.sh - the result lines of a suite, for tests/run.  POSIX
# sh library, sourced by the e2e and GUI suites.
#
#   ok DESC / nok DESC   print "ok - DESC" / "not ok - DESC" (nok sets fail=1)
#   check DESC CMD...    run CMD and print ok or not ok for DESC
#   not CMD...           succeed when CMD fails
#
# A suite ends with "exit $fail".

fail=0
ok() { echo "ok - $*"; }
nok() { echo "not ok - $*"; fail=1; }
check() { _d=$1; shift; if "$@"; then ok "$_d"; else nok "$_d"; fi; }
not() { ! "$@"; }
