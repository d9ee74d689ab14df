# tests/e2e/tcp2d.sh - run tcp2d on the world's client hosts.  POSIX sh
# library, sourced after tests/e2e/world.sh.
#
#   tcp2d_start HOST [ARGS...]   start tcp2d in HOST (a or b), rules backend,
#                                state in $WORLD_DIR/tcp2-HOST/state; waits
#                                until its control socket answers; under
#                                $TCP2D_WRAP (a command prefix) if set
#   tcp2d_stop HOST              SIGTERM and wait (removes its rules)
#   tcp2d_kill HOST              SIGKILL (its rules stay: fail-closed)
#   tcp2ctl_on HOST ARGS...      run tcp2ctl against HOST's daemon
#   tcp2d_log HOST               print HOST's daemon log
#   tcp2d_wait_peer HOST ADDR STATE [SECONDS]
#                                wait until tcp2ctl peers shows ADDR in STATE
#   tcp2d_wait_account HOST ADDR [SECONDS]
#   tcp2d_register HOST NAME DIR the seed's registration of NAME@example.org
#                                with HOST's own client (curl): arm it, a
#                                POP3 login, a mail "TCP2 registration" to
#                                oneself (files in DIR); waits for the
#                                account (10 s)

TCP2_BIN=${TCP2_BIN:-$(pwd)/${TCP2_BUILD:-build/san}/bin}

_tcp2d_dir() {
	echo "$WORLD_DIR/tcp2-$(world_ns "$1")"
}

tcp2ctl_on() {
	_tc_host=$1
	shift
	world_exec "$_tc_host" "$TCP2_BIN/tcp2ctl" --control \
	    "$(_tcp2d_dir "$_tc_host")/control" "$@"
}

tcp2d_start() {
	_ts_host=$1
	shift
	_ts_dir=$(_tcp2d_dir "$_ts_host")
	mkdir -p "$_ts_dir"
	# Not through world_exec: "$!" of a backgrounded shell function is
	# a subshell, and stopping it would leave tcp2d running.
	# TCP2D_WRAP: a command to run tcp2d under (faketime for expiry);
	# a preloaded library comes before the sanitizer runtime then.
	ip netns exec "$(world_ns "$_ts_host")" env \
	    ASAN_OPTIONS=detect_leaks=1:verify_asan_link_order=0:log_path="$_ts_dir/asan" \
	    ${TCP2D_WRAP:-} "$TCP2_BIN/tcp2d" --state-dir "$_ts_dir/state" \
	    --control "$_ts_dir/control" --backend rules --foreground -v "$@" \
	    >>"$_ts_dir/log" 2>&1 &
	echo $! >"$_ts_dir/pid"
	_ts_i=0
	while ! tcp2ctl_on "$_ts_host" status >/dev/null 2>&1; do
		_ts_i=$((_ts_i + 1))
		if [ $_ts_i -gt 200 ] || ! kill -0 "$(cat "$_ts_dir/pid")" 2>/dev/null; then
			echo "tcp2d on $_ts_host did not start:" >&2
			tail -n 20 "$_ts_dir/log" >&2
			return 1
		fi
		sleep 0.05
	done
}

tcp2d_stop() {
	_tp_pid=$(cat "$(_tcp2d_dir "$1")/pid" 2>/dev/null) || return 0
	kill -TERM "$_tp_pid" 2>/dev/null
	_tp_i=0
	while kill -0 "$_tp_pid" 2>/dev/null && [ $_tp_i -lt 200 ]; do
		sleep 0.05
		_tp_i=$((_tp_i + 1))
	done
	kill -9 "$_tp_pid" 2>/dev/null
	rm -f "$(_tcp2d_dir "$1")/pid"
}

tcp2d_kill() {
	_tk_pid=$(cat "$(_tcp2d_dir "$1")/pid" 2>/dev/null) || return 0
	kill -9 "$_tk_pid" 2>/dev/null
	while kill -0 "$_tk_pid" 2>/dev/null; do sleep 0.05; done
	rm -f "$(_tcp2d_dir "$1")/pid"
}

tcp2d_log() {
	cat "$(_tcp2d_dir "$1")/log" 2>/dev/null
}

# tcp2d_log_tail HOST N [PATTERN]: what a failed test shows of a daemon:
# a heading, then the last N lines of its log as "# " comments, leaving
# out lines that match the grep PATTERN (routine sessions and mails).
tcp2d_log_tail() {
	echo "# --- tcp2d log of $1${3:+ (routine lines left out)}"
	if [ -n "${3:-}" ]; then
		tcp2d_log "$1" | grep -v -- "$3"
	else
		tcp2d_log "$1"
	fi | tail -n "$2" | sed 's/^/# /'
}

# Sanitizer reports of a daemon: printed, and non-zero when there are any.
tcp2d_asan() {
	_ta_f=$(ls "$(_tcp2d_dir "$1")"/asan.* 2>/dev/null)
	[ -z "$_ta_f" ] && return 0
	cat $_ta_f >&2
	return 1
}

tcp2d_wait_peer() {
	_tw_i=0
	_tw_max=$((${4:-20} * 10))
	while ! tcp2ctl_on "$1" peers 2>/dev/null | grep -q "$2.*$3"; do
		[ $_tw_i -ge $_tw_max ] && return 1
		sleep 0.1
		_tw_i=$((_tw_i + 1))
	done
}

tcp2d_wait_account() {
	_tw_i=0
	_tw_max=$((${3:-20} * 10))
	while ! tcp2ctl_on "$1" account list 2>/dev/null | grep -q "$2"; do
		[ $_tw_i -ge $_tw_max ] && return 1
		sleep 0.1
		_tw_i=$((_tw_i + 1))
	done
}

tcp2d_register() {
	_tr_h=$1 _tr_n=$2 _tr_d=$3
	tcp2ctl_on "$_tr_h" register >/dev/null
	fetch_curl "$_tr_h" "$_tr_n" "$_tr_d/reg-$_tr_n-fetch" >/dev/null 2>&1
	printf 'From: %s@example.org\r\nTo: %s@example.org\r\nSubject: TCP2 registration\r\nDate: %s\r\nMessage-ID: <reg-%s@example.org>\r\n\r\nplease\r\n' \
	    "$_tr_n" "$_tr_n" "$(LC_ALL=C date -R)" "$_tr_n" >"$_tr_d/reg-$_tr_n.eml"
	send_curl "$_tr_h" "$_tr_n@example.org" "$_tr_n@example.org" \
	    "$_tr_d/reg-$_tr_n.eml" || return 1
	tcp2d_wait_account "$_tr_h" "$_tr_n@example.org" 10
}
