#!/bin/sh
# t_deb.sh - the Debian packages: `dpkg-buildpackage -us -uc -b` in a copy
# of the tree builds tcp2-daemon, tcp2-dkms (when the module has its
# dkms.conf) and tcp2-tray (when gui/ exists); lintian reports no error;
# each package holds its files with their modes, the config is a conffile,
# and the maintainer scripts create the user, the directories, enable the
# unit and hand the module to DKMS.  About a minute.
set -u

cd "$(dirname "$0")/../.." || exit 2
T=$(mktemp -d /tmp/tcp2-deb.XXXXXX) || exit 2
trap 'rm -rf "$T"' EXIT INT TERM
fails=0
ok() { echo "ok - $*"; }
nok() { echo "not ok - $*"; fails=$((fails + 1)); }
check() {
	d=$1
	shift
	if "$@" >"$T/out" 2>&1; then ok "$d"; else
		nok "$d"
		sed 's/^/# /' "$T/out" | tail -20
	fi
}

for tool in dpkg-buildpackage dpkg-checkbuilddeps lintian dh dh_dkms \
    fakeroot; do
	command -v "$tool" >/dev/null ||
		nok "$tool is missing (scripts/install-deps.sh installs it)"
done
VERSION=$(dpkg-parsechangelog -S Version)
ARCH=$(dpkg --print-architecture)
check "debian/changelog's version is tcp2d's" sh -c \
    "grep -q '^#define TCP2D_VERSION[[:space:]]*\"$VERSION\"' daemon/tcp2d.h"

# A copy of the sources (tracked and new files, no build output): the
# package build must not depend on, or leave anything in, this tree.
mkdir "$T/src"
if git rev-parse --git-dir >/dev/null 2>&1; then
	git ls-files -co --exclude-standard | grep -v '^build/' |
	    tar -cf - -T - | tar -xf - -C "$T/src"
else
	tar -cf - --exclude=./build . | tar -xf - -C "$T/src"
fi
check "build dependencies are installed" sh -c \
    "cd '$T/src' && dpkg-checkbuilddeps"
check "dpkg-buildpackage -us -uc -b" sh -c \
    "cd '$T/src' && dpkg-buildpackage -us -uc -b >'$T/build.log' 2>&1 ||
     { tail -30 '$T/build.log'; exit 1; }"

lintian --tag-display-limit 0 "$T/tcp2_${VERSION}_$ARCH.changes" \
    >"$T/lintian" 2>&1
sed -n '/^[EW]:/s/^/# /p' "$T/lintian"
check "lintian: no error" sh -c "! grep '^E:' '$T/lintian'"

DAEMON=$T/tcp2-daemon_${VERSION}_$ARCH.deb
DKMS=$T/tcp2-dkms_${VERSION}_all.deb
TRAY=$T/tcp2-tray_${VERSION}_$ARCH.deb

# has DEB "mode path"...: every file is in the package with that mode.
has() {
	deb=$1
	shift
	dpkg-deb -c "$deb" | awk '{ sub(/^\./, "", $6); print $1, $6 }' \
	    >"$T/list" || return 1
	for want in "$@"; do
		grep -qxF -- "$want" "$T/list" || { echo "missing: $want"; return 1; }
	done
}

# script DEB NAME: a maintainer script of DEB.
script() {
	rm -rf "$T/ctl"
	dpkg-deb -e "$1" "$T/ctl" && cat "$T/ctl/$2"
}

# ---- tcp2-daemon ----
check "tcp2-daemon is built" test -f "$DAEMON"
check "tcp2-daemon: binaries, unit, snippets, config, man pages" has "$DAEMON" \
    "-rwxr-xr-x /usr/sbin/tcp2d" "-rwxr-xr-x /usr/bin/tcp2ctl" \
    "-rwxr-xr-x /usr/bin/tcp2-mail" \
    "-rw-r--r-- /lib/systemd/system/tcp2d.service" \
    "-rw-r--r-- /usr/lib/sysusers.d/tcp2.conf" \
    "-rw-r--r-- /usr/lib/tmpfiles.d/tcp2.conf" \
    "-rw-r--r-- /etc/tcp2/tcp2.conf" \
    "-rw-r--r-- /usr/share/man/man8/tcp2d.8.gz" \
    "-rw-r--r-- /usr/share/man/man1/tcp2ctl.1.gz" \
    "-rw-r--r-- /usr/share/man/man1/tcp2-mail.1.gz" \
    "-rw-r--r-- /usr/share/man/man5/tcp2.conf.5.gz"
check "tcp2-daemon: the unit runs /usr/sbin/tcp2d as tcp2" sh -c \
    "dpkg-deb --fsys-tarfile '$DAEMON' |
     tar -xOf - ./lib/systemd/system/tcp2d.service >'$T/unit' &&
     grep -qx 'ExecStart=/usr/sbin/tcp2d --foreground' '$T/unit' &&
     grep -qx 'User=tcp2' '$T/unit'"
script "$DAEMON" conffiles >"$T/conffiles" 2>/dev/null
check "tcp2-daemon: /etc/tcp2/tcp2.conf is a conffile" grep -qx \
    /etc/tcp2/tcp2.conf "$T/conffiles"
script "$DAEMON" postinst >"$T/postinst" 2>/dev/null
check "tcp2-daemon: postinst creates user tcp2 before the directories" sh -c \
    "grep -n 'systemd-sysusers.* tcp2.conf' '$T/postinst' | cut -d: -f1 >'$T/a' &&
     grep -n 'systemd-tmpfiles.* --create tcp2.conf' '$T/postinst' | cut -d: -f1 >'$T/b' &&
     [ \$(cat '$T/a') -lt \$(cat '$T/b') ]"
check "tcp2-daemon: postinst enables and starts tcp2d.service" sh -c \
    "grep -q \"deb-systemd-helper enable 'tcp2d.service'\" '$T/postinst' &&
     grep -q \"deb-systemd-invoke \\\$_dh_action 'tcp2d.service'\" '$T/postinst'"
script "$DAEMON" postrm >"$T/postrm" 2>/dev/null
check "tcp2-daemon: purge deletes /var/lib/tcp2" grep -q \
    'rm -rf /var/lib/tcp2' "$T/postrm"
check "tcp2-daemon: depends on iptables and a sysusers" sh -c \
    "dpkg-deb -f '$DAEMON' Depends | grep -q 'iptables' &&
     dpkg-deb -f '$DAEMON' Depends | grep -q 'systemd-sysusers'"

# ---- tcp2-dkms: wherever the module is ----
if [ -d kmod ]; then
	check "kmod/dkms.conf exists (tcp2-dkms needs it)" test -f kmod/dkms.conf
	check "tcp2-dkms is built" test -f "$DKMS"
	set -- "-rw-r--r-- /usr/src/tcp2-$VERSION/dkms.conf" \
	    "-rw-r--r-- /usr/src/tcp2-$VERSION/Kbuild"
	# Our own file names: no blanks.
	# shellcheck disable=SC2044
	for f in $(find kmod -name '*.c' ! -name '*.mod.c' -o -name Kbuild); do
		set -- "$@" "-rw-r--r-- /usr/src/tcp2-$VERSION/$f"
	done
	check "tcp2-dkms: the module source under /usr/src/tcp2-$VERSION" \
	    has "$DKMS" "$@"
	script "$DKMS" postinst >"$T/kpostinst" 2>/dev/null
	check "tcp2-dkms: postinst hands tcp2 $VERSION to DKMS" sh -c \
	    "grep -qx 'DKMS_NAME=tcp2' '$T/kpostinst' &&
	     grep -qx 'DKMS_VERSION=$VERSION' '$T/kpostinst'"
	check "tcp2-dkms: depends on dkms" sh -c \
	    "dpkg-deb -f '$DKMS' Depends | grep -q dkms"
else
	check "no kmod/ in this tree: no tcp2-dkms package" test ! -e "$DKMS"
fi

# ---- tcp2-tray: when there is a gui ----
if [ -d gui ]; then
	check "tcp2-tray is built" test -f "$TRAY"
	check "tcp2-tray: the app, its menu and autostart entries, man page" \
	    has "$TRAY" "-rwxr-xr-x /usr/bin/tcp2-tray" \
	    "-rw-r--r-- /usr/share/applications/tcp2-tray.desktop" \
	    "-rw-r--r-- /etc/xdg/autostart/tcp2-tray.desktop" \
	    "-rw-r--r-- /usr/share/man/man1/tcp2-tray.1.gz"
else
	check "no gui/ in this tree: no tcp2-tray package" test ! -e "$TRAY"
fi

[ "$fails" -eq 0 ]
