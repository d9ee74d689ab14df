#!/bin/sh
# t_kmod.sh - tcp2.ko in a QEMU guest running Debian's own kernel.
#
# The module is built against linux-headers-$KVER (the newest Debian
# linux-headers-*-amd64 installed by scripts/install-deps.sh), the guest
# boots linux-image-$KVER (apt-get download, cached in $TCP2_KMOD_CACHE)
# under qemu-system-x86_64 -accel tcg with a busybox initramfs that mounts
# the host's root read-only over virtio-9p under a tmpfs overlay
# (tests/kmod/init.sh).  tests/kmod/guest.sh runs inside and prints the
# ok/not ok lines.  The guest's console log is kept as
# $TCP2_BUILD/test-logs/kmod-console.log; a kernel warning, oops, BUG or
# leak report in it fails the test.  Never skipped: a missing tool is a
# failure (scripts/install-deps.sh installs them).
set -u
cd "$(dirname "$0")/../.." || exit 2
TOP=$(pwd)
: "${TCP2_BUILD:=build/san}"
: "${TCP2_FAST_BUILD:=build}"
CACHE=${TCP2_KMOD_CACHE:-/var/cache/tcp2-kmod}
LOGDIR=$TOP/$TCP2_BUILD/test-logs
TIMEOUT=${TCP2_KMOD_TIMEOUT:-1200}
fail=0
ok() { echo "ok - $*"; }
nok() { echo "not ok - $*"; fail=1; }

mkdir -p "$LOGDIR" "$CACHE" || exit 2
T=$(mktemp -d /var/tmp/tcp2-kmod.XXXXXX) || exit 2
trap 'rm -rf "$T"' EXIT INT TERM

for tool in qemu-system-x86_64 busybox apt-get dpkg-deb cpio gzip make; do
	command -v "$tool" >/dev/null || { nok "tool $tool is installed"; exit 1; }
done
HDR=$(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -n 1)
if [ -z "$HDR" ]; then
	nok "Debian kernel headers are installed (linux-headers-amd64)"
	exit 1
fi
KVER=${HDR#/usr/src/linux-headers-}

# --- The guest kernel, the same version as the headers.
ROOT=$CACHE/root-$KVER
if [ ! -f "$ROOT/.done" ]; then
	(
		flock 9
		[ -f "$ROOT/.done" ] && exit 0
		rm -rf "$ROOT" "$CACHE"/linux-image-"$KVER"_*.deb
		cd "$CACHE" && apt-get download -q "linux-image-$KVER" >/dev/null 2>"$T/apt.err" ||
			{ cat "$T/apt.err"; exit 1; }
		dpkg-deb -x "$CACHE"/linux-image-"$KVER"_*.deb "$ROOT" &&
			busybox depmod -b "$ROOT" "$KVER" &&
			touch "$ROOT/.done"
	) 9>"$CACHE/.lock"
fi
if [ -f "$ROOT/.done" ]; then ok "guest kernel linux-image-$KVER"; else
	nok "guest kernel linux-image-$KVER (apt-get download)"; exit 1; fi

# --- tcp2.ko for exactly that kernel.
if make -s kmod KDIR="$HDR" >"$T/kbuild.log" 2>&1 &&
    cp kmod/tcp2.ko "$T/tcp2.ko"; then
	ok "tcp2.ko builds against $HDR"
else
	sed 's/^/# /' "$T/kbuild.log" | tail -n 30
	nok "tcp2.ko builds against $HDR"
	exit 1
fi
vm=$(grep -a -o "vermagic=[^ ]*" "$T/tcp2.ko" | head -n 1 | cut -d= -f2)
if [ "$vm" = "$KVER" ]; then ok "tcp2.ko vermagic is $KVER"; else
	nok "tcp2.ko vermagic ($vm) is $KVER"; fi
for b in "$TCP2_FAST_BUILD/bin/tcp2d" "$TCP2_FAST_BUILD/bin/tcp2ctl" \
    "$TCP2_FAST_BUILD/tests/tcp2kctl"; do
	[ -x "$b" ] || { nok "$b is built (make check builds it)"; exit 1; }
done

# --- The initramfs: busybox, init, the modules needed to mount 9p.
I=$T/initramfs
M=$I/lib/modules/$KVER
mkdir -p "$I/bin" "$I/proc" "$I/sys" "$I/dev" "$M/kernel" || exit 2
cp /bin/busybox "$I/bin/busybox" || exit 2
for a in $(busybox --list); do
	[ "$a" = busybox ] || ln -s busybox "$I/bin/$a"
done
cp tests/kmod/init.sh "$I/init" && chmod 0755 "$I/init"
(cd "$ROOT/lib/modules/$KVER" && cp modules.order modules.builtin "$M/" &&
    for d in kernel/drivers/virtio kernel/net/9p kernel/fs/9p \
	kernel/fs/netfs kernel/fs/fscache kernel/fs/overlayfs; do
	mkdir -p "$M/$d" && cp -r "$d/." "$M/$d/" || exit 1
done) || { nok "initramfs modules"; exit 1; }
busybox depmod -b "$I" "$KVER" || { nok "depmod of the initramfs"; exit 1; }
(cd "$I" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$T/initrd.gz" ||
	{ nok "initramfs"; exit 1; }

# --- Boot.  The guest's root is this host's / under an overlay, which
# must not change underneath: no e2e world on the host meanwhile (it
# rewrites /etc/netns, /etc/postfix), so hold the world lock.
. "$TOP/tests/e2e/world.sh"
_world_lock || { nok "the e2e world lock (the guest needs the host quiet)"; exit 1; }
trap '_world_lock_op release; rm -rf "$T"' EXIT INT TERM
OUT=$T/out
mkdir -p "$OUT"
CONSOLE=$LOGDIR/kmod-console.log
echo "# booting $KVER under TCG (timeout ${TIMEOUT}s)"
start=$(date +%s)
timeout "$TIMEOUT" qemu-system-x86_64 -accel tcg -machine q35 -cpu max \
    -smp 2 -m 2048 -nodefaults -display none -no-reboot \
    -serial "file:$CONSOLE" \
    -kernel "$ROOT/boot/vmlinuz-$KVER" -initrd "$T/initrd.gz" \
    -append "console=ttyS0 panic=-1 rdinit=/init net.ifnames=0 tcp2.script=$TOP/tests/kmod/guest.sh tcp2.args=$TOP,$T/tcp2.ko,$TCP2_FAST_BUILD tcp2.modules=$ROOT/lib/modules/$KVER" \
    -fsdev local,id=fsroot,path=/,security_model=none,readonly=on,multidevs=remap \
    -device virtio-9p-pci,fsdev=fsroot,mount_tag=hostroot \
    -fsdev local,id=fsres,path="$OUT",security_model=none \
    -device virtio-9p-pci,fsdev=fsres,mount_tag=results \
    -device virtio-rng-pci >"$T/qemu.log" 2>&1
qrc=$?
_world_lock_op release
echo "# guest ran $(($(date +%s) - start)) s, qemu status $qrc"
cp "$OUT/guest.log" "$LOGDIR/kmod-guest.log" 2>/dev/null
cp "$OUT/dmesg.log" "$LOGDIR/kmod-dmesg.log" 2>/dev/null
sed 's/^/# qemu: /' "$T/qemu.log"

# The guest's own results, as they are.
if [ -f "$OUT/guest.log" ]; then
	grep -E '^(not )?ok - |^# ' "$OUT/guest.log"
	grep -q '^not ok - ' "$OUT/guest.log" && fail=1
fi
if [ "$(cat "$OUT/rc" 2>/dev/null)" = 0 ]; then
	ok "the guest ran its tests to the end"
else
	nok "the guest ran its tests to the end (qemu $qrc, guest rc $(cat "$OUT/rc" 2>/dev/null); see $CONSOLE)"
	tail -n 20 "$CONSOLE" | sed 's/^/# console: /'
fi
if grep -nE 'WARNING:|BUG:|Oops|general protection|Call Trace|kernel BUG|still has objects|refcount_t:|UBSAN|KASAN|leak' \
    "$CONSOLE" "$OUT/dmesg.log" >"$T/bad" 2>/dev/null; then
	sed 's/^/# /' "$T/bad" | head -n 40
	nok "no kernel warning, oops, BUG or leak report in the guest"
else
	ok "no kernel warning, oops, BUG or leak report in the guest"
fi
exit $fail
