#!/bin/sh
# tests/gui/hook.sh VERB [HOST] - what the GUI test drivers (Python,
# inside the X session) need done to the e2e world: run from the source
# tree's top with the environment of tests/run.
#
#   stop HOST | start HOST    stop / start HOST's tcp2d (tests/e2e/tcp2d.sh)
#   ctl HOST ARGS...          tcp2ctl --json ARGS... against HOST's daemon
#   count USER                messages in USER's Maildir
#   fetch HOST USER DIR       fetch USER's mail through HOST's tcp2d (curl)
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/world.sh
. tests/e2e/tcp2d.sh

verb=$1
shift
case $verb in
stop)	tcp2d_stop "$1" ;;
start)	tcp2d_start "$1" ;;
ctl)	h=$1; shift; tcp2ctl_on "$h" --json "$@" ;;
count)	world_mail_count "$1" ;;
fetch)	fetch_curl "$1" "$2" "$3" ;;
*)	echo "hook.sh: unknown verb $verb" >&2; exit 2 ;;
esac
