#!/bin/sh
# install-deps.sh - install the Debian 12 packages TCP2 Mail builds and
# tests with.  Idempotent: does nothing when all are present.  Needs root
# only when something is missing.
set -eu

PKGS="build-essential pkg-config clang libclang-rt-14-dev
libgcrypt20-dev libsodium-dev libjson-c-dev libmnl-dev libnl-genl-3-dev libnetfilter-queue-dev
python3-cryptography-vectors libpython3.11-testsuite age gnupg
iproute2 iptables procps python3 curl postfix dovecot-core dovecot-pop3d
swaks libio-socket-inet6-perl s-nail fetchmail tshark faketime
linux-headers-amd64 qemu-system-x86 busybox-static cpio sparse
libgtk-3-dev libayatana-appindicator3-dev
xvfb xauth dbus dbus-x11 at-spi2-core python3-dogtail gir1.2-atspi-2.0 imagemagick dunst"

# The install tests (tests/install): unit, sysusers and tmpfiles checks,
# man page and desktop file linters, the Debian package build.
PKGS="$PKGS systemd groff-base man-db mandoc desktop-file-utils passwd
debhelper dh-dkms dkms lintian fakeroot dpkg-dev libgtk-3-dev libayatana-appindicator3-dev"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages:$missing (run as root to install)" >&2
	exit 1
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# No questions, no system-wide setup: the e2e world (tests/e2e/world.sh)
# writes its own Postfix configuration; dumpcap needs no setuid (root).
if command -v debconf-set-selections >/dev/null; then
	debconf-set-selections <<'EOF'
postfix postfix/main_mailer_type select No configuration
wireshark-common wireshark-common/install-setuid boolean false
EOF
fi
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
