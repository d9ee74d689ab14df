#!/bin/sh
# t_install.sh - `make install` into a throwaway DESTDIR, for packaging
# (PREFIX=/usr) and by hand (the default /usr/local): exactly the expected
# files with their modes, nothing else; the systemd unit verified by
# systemd-analyze and confining tcp2d as promised; sysusers and tmpfiles
# snippets applied to a scratch root; desktop files valid; man pages free
# of groff and mandoc warnings; the operator's config never overwritten;
# `make uninstall` leaves nothing behind.
set -u

cd "$(dirname "$0")/../.." || exit 2
BUILD=${TCP2_FAST_BUILD:-build}
T=$(mktemp -d /tmp/tcp2-install.XXXXXX) || exit 2
trap 'rm -rf "$T"' EXIT INT TERM
fails=0

ok() { echo "ok - $*"; }
nok() { echo "not ok - $*"; fails=$((fails + 1)); }
check() {	# check DESCRIPTION COMMAND...
	d=$1
	shift
	if "$@" >"$T/out" 2>&1; then ok "$d"; else
		nok "$d"
		sed 's/^/# /' "$T/out" | head -20
	fi
}

for tool in systemd-analyze systemd-sysusers systemd-tmpfiles groff mandoc \
    desktop-file-validate man; do
	command -v "$tool" >/dev/null ||
		nok "$tool is missing (scripts/install-deps.sh installs it)"
done

# What tcp2-tray and the DKMS source add, when they exist in this tree.
HAVE_TRAY=0
[ -x "$BUILD/bin/tcp2-tray" ] && HAVE_TRAY=1
HAVE_DKMS=0
[ -f kmod/dkms.conf ] && HAVE_DKMS=1
VERSION=$(sed -n 's/^#define TCP2D_VERSION[^"]*"\(.*\)"/\1/p' daemon/tcp2d.h)

# expected PREFIX UNITDIR: "mode path" lines, sorted.
expected() {
	p=$1
	{
		echo "755 $p/sbin/tcp2d"
		echo "755 $p/bin/tcp2ctl"
		echo "755 $p/bin/tcp2-mail"
		echo "644 $p/share/man/man1/tcp2ctl.1"
		echo "644 $p/share/man/man1/tcp2-mail.1"
		echo "644 $p/share/man/man5/tcp2.conf.5"
		echo "644 $p/share/man/man8/tcp2d.8"
		echo "644 $2/tcp2d.service"
		echo "644 $p/lib/sysusers.d/tcp2.conf"
		echo "644 $p/lib/tmpfiles.d/tcp2.conf"
		echo "644 /etc/tcp2/tcp2.conf"
		if [ "$HAVE_TRAY" = 1 ]; then
			echo "755 $p/bin/tcp2-tray"
			echo "644 $p/share/man/man1/tcp2-tray.1"
			echo "644 $p/share/applications/tcp2-tray.desktop"
			echo "644 /etc/xdg/autostart/tcp2-tray.desktop"
		fi
		if [ "$HAVE_DKMS" = 1 ]; then
			echo "644 /usr/src/tcp2-$VERSION/dkms.conf"
			echo "644 /usr/src/tcp2-$VERSION/Kbuild"
			find kmod include -type f \( -name '*.c' -o -name '*.h' \
			    -o -name Kbuild -o -name Makefile \) ! -name '*.mod.c' \
			    2>/dev/null | sed "s|^|644 /usr/src/tcp2-$VERSION/|"
		fi
	} | sort
}

# installed ROOT: "mode path" of every non-directory under ROOT, sorted.
installed() {
	(cd "$1" && find . ! -type d -printf '%m /%P\n' | sort)
}

# The directories make install creates for us: mode 0755.
dirs_ok() {
	bad=$(cd "$1" && find . -type d ! -perm 0755 -printf '%m /%P\n')
	[ -z "$bad" ] || { echo "$bad"; return 1; }
}

# ---- packaging layout: PREFIX=/usr ----
R=$T/root
check "make install DESTDIR PREFIX=/usr" make --no-print-directory -s \
    BUILD="$BUILD" install DESTDIR="$R" PREFIX=/usr
expected /usr /usr/lib/systemd/system >"$T/want"
installed "$R" >"$T/got"
check "PREFIX=/usr: exactly the expected files and modes" \
    diff -u "$T/want" "$T/got"
check "every directory is 0755" dirs_ok "$R"
check "the binaries run" "$R/usr/sbin/tcp2d" --help
check "the installed config is dist/tcp2.conf" cmp dist/tcp2.conf \
    "$R/etc/tcp2/tcp2.conf"

# The unit: tcp2d as user tcp2 with two capabilities, confined.
U=$R/usr/lib/systemd/system/tcp2d.service
for line in 'ExecStart=/usr/sbin/tcp2d --foreground' 'User=tcp2' \
    'Group=tcp2' 'AmbientCapabilities=CAP_NET_ADMIN CAP_NET_RAW' \
    'CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW' \
    'NoNewPrivileges=yes' 'ProtectSystem=strict' 'ProtectHome=yes' \
    'PrivateTmp=yes' 'StateDirectory=tcp2' 'StateDirectoryMode=0700' \
    'RuntimeDirectory=tcp2' 'RuntimeDirectoryMode=0750' \
    'ReadWritePaths=-/run/xtables.lock'; do
	check "unit: $line" grep -qxF "$line" "$U"
done
check "unit: no other capability or writable path" sh -c \
    "[ \$(grep -c '^\(AmbientCapabilities\|CapabilityBoundingSet\|ReadWritePaths\|User\)=' '$U') -eq 4 ]"
# systemd-analyze checks the command and the man pages of Documentation=.
mkdir -p "$T/unit"
sed "s|^ExecStart=/usr/sbin/tcp2d|ExecStart=$R/usr/sbin/tcp2d|" "$U" \
    >"$T/unit/tcp2d.service"
check "systemd-analyze verify tcp2d.service" env \
    MANPATH="$R/usr/share/man" systemd-analyze verify "$T/unit/tcp2d.service"
systemd-analyze security --offline=yes "$T/unit/tcp2d.service" \
    >"$T/sec" 2>&1
check "systemd-analyze security: exposure 4.0 or better" sh -c \
    "grep -o 'exposure level for tcp2d.service: [0-9.]*' '$T/sec' |
     awk '{ exit !(\$NF <= 4.0) }'"

# sysusers and tmpfiles snippets, applied to a scratch root.
S=$T/scratch
mkdir -p "$S/etc" "$S/usr/lib/sysusers.d" "$S/usr/lib/tmpfiles.d" "$S/run" \
    "$S/var/lib"
cp "$R/usr/lib/sysusers.d/tcp2.conf" "$S/usr/lib/sysusers.d/"
# The ACL line needs a file system with ACLs: checked live in t_privs.
grep -v '^a' "$R/usr/lib/tmpfiles.d/tcp2.conf" >"$S/usr/lib/tmpfiles.d/tcp2.conf"
check "systemd-sysusers creates user and group tcp2" sh -c \
    "systemd-sysusers --root='$S' >/dev/null 2>&1 &&
     grep -q '^tcp2:x:[0-9]*:[0-9]*:.*:/usr/sbin/nologin$' '$S/etc/passwd' &&
     grep -q '^tcp2:x:' '$S/etc/group'"
systemd-tmpfiles --root="$S" --create >"$T/tmpf" 2>&1
check "systemd-tmpfiles: /var/lib/tcp2 0700, /run/tcp2 0750, lock 0600" sh -c \
    "[ \$(stat -c %a '$S/var/lib/tcp2') = 700 ] &&
     [ \$(stat -c %a '$S/run/tcp2') = 750 ] &&
     [ \$(stat -c %a '$S/run/xtables.lock') = 600 ]"
uid=$(awk -F: '$1 == "tcp2" { print $3 }' "$S/etc/passwd")
check "systemd-tmpfiles: both directories belong to tcp2" sh -c \
    "[ -n '$uid' ] && [ \$(stat -c %u '$S/var/lib/tcp2') = '$uid' ] &&
     [ \$(stat -c %u '$S/run/tcp2') = '$uid' ]"

# Desktop entries, always checked (installed only with the tray app).
check "desktop-file-validate dist/*.desktop" desktop-file-validate \
    dist/tcp2-tray.desktop dist/tcp2-tray-autostart.desktop

# Man pages: every page, also tcp2-tray(1), free of warnings.
for m in man/*.[158]; do
	check "groff -ww: $m" sh -c "groff -man -ww -z '$m' 2>&1 |
	    { ! grep .; }"
	check "mandoc -Tlint: $m" sh -c "mandoc -Tlint -W warning '$m' 2>&1 |
	    { ! grep .; }"
	check "man -l renders $m" sh -c "MANWIDTH=80 man -l '$m' 2>&1 >/dev/null |
	    { ! grep .; }"
done
# shellcheck disable=SC2016 # the inner shell expands it
check "tcp2ctl(1) documents every command" sh -c '
	for c in status "account add" "account list" register peers \
	    "peer verify" "peer accept" "peer reject" "peer forget" flows \
	    events held receive discard show decrypt; do
		grep -Eq "^\.BR? $c( |\$)" man/tcp2ctl.1 ||
		    { echo "missing: $c"; exit 1; }
	done'

# The operator's config is never overwritten, and kept by uninstall.
echo "queue = 9" >>"$R/etc/tcp2/tcp2.conf"
make --no-print-directory -s BUILD="$BUILD" install DESTDIR="$R" \
    PREFIX=/usr >/dev/null 2>&1
check "a second install keeps a changed config" grep -qx "queue = 9" \
    "$R/etc/tcp2/tcp2.conf"
make --no-print-directory -s BUILD="$BUILD" uninstall DESTDIR="$R" \
    PREFIX=/usr >"$T/un" 2>&1
check "uninstall keeps a changed config, and only that" sh -c \
    "[ \"\$(cd '$R' && find . ! -type d)\" = ./etc/tcp2/tcp2.conf ]"
rm -f "$R/etc/tcp2/tcp2.conf"
check "uninstall leaves no file behind" sh -c "[ -z \"\$(cd '$R' &&
    find . ! -type d)\" ]"
check "uninstall removes the module source directory" \
    test ! -e "$R/usr/src/tcp2-$VERSION"

# A second round, unchanged config: uninstall removes everything.
R2=$T/root2
make --no-print-directory -s BUILD="$BUILD" install DESTDIR="$R2" \
    PREFIX=/usr >/dev/null 2>&1
make --no-print-directory -s BUILD="$BUILD" uninstall DESTDIR="$R2" \
    PREFIX=/usr >/dev/null 2>&1
check "install then uninstall: no file, no /etc/tcp2" sh -c \
    "[ -z \"\$(cd '$R2' && find . ! -type d)\" ] && [ ! -e '$R2/etc/tcp2' ]"

# ---- by hand: the default PREFIX=/usr/local ----
L=$T/local
check "make install DESTDIR (PREFIX /usr/local)" make --no-print-directory -s \
    BUILD="$BUILD" install DESTDIR="$L"
expected /usr/local /usr/local/lib/systemd/system >"$T/want"
installed "$L" >"$T/got"
check "PREFIX=/usr/local: exactly the expected files and modes" \
    diff -u "$T/want" "$T/got"
check "unit runs /usr/local/sbin/tcp2d" grep -qx \
    'ExecStart=/usr/local/sbin/tcp2d --foreground' \
    "$L/usr/local/lib/systemd/system/tcp2d.service"
make --no-print-directory -s BUILD="$BUILD" uninstall DESTDIR="$L" \
    >/dev/null 2>&1
check "PREFIX=/usr/local: uninstall leaves no file behind" sh -c \
    "[ -z \"\$(cd '$L' && find . ! -type d)\" ]"

[ "$fails" -eq 0 ]
