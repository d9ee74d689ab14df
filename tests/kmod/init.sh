#!/bin/sh
# tests/kmod/init.sh - /init of the QEMU guest's initramfs (busybox).
#
# Mounts the host's root filesystem (virtio-9p, read-only) under a tmpfs
# overlay so the guest runs the host's binaries (tcp2d, postfix, dovecot,
# python) with a writable /etc and /var of its own, puts the guest
# kernel's modules at /lib/modules, and runs the test script named on the
# kernel command line (tcp2.script=, tcp2.args=) with its output in the
# "results" share.  Powers off when done; the exit status is written to
# results/rc.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin

mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev

script=
args=
modules=
for w in $(cat /proc/cmdline); do
	case $w in
	tcp2.script=*) script=${w#tcp2.script=} ;;
	tcp2.args=*) args=$(echo "${w#tcp2.args=}" | tr ',' ' ') ;;
	tcp2.modules=*) modules=${w#tcp2.modules=} ;;
	esac
done

fail() {
	echo "init: $*"
	poweroff -f
}

for m in virtio_pci 9pnet_virtio 9p overlay; do
	modprobe "$m" || fail "modprobe $m"
done
mkdir -p /host /upper /newroot
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose \
    hostroot /host || fail "mount hostroot"
mount -t tmpfs -o size=1200m upper /upper || fail "mount tmpfs"
mkdir -p /upper/u /upper/w
mount -t overlay overlay -o lowerdir=/host,upperdir=/upper/u,workdir=/upper/w \
    /newroot || fail "mount overlay"
mkdir -p /newroot/tcp2-results
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 results \
    /newroot/tcp2-results || fail "mount results"
mount -t proc proc /newroot/proc
mount -t sysfs sys /newroot/sys
mount -t devtmpfs dev /newroot/dev
mkdir -p /newroot/dev/pts /newroot/dev/shm
mount -t devpts devpts /newroot/dev/pts
mount -t tmpfs shm /newroot/dev/shm
# The source tree may itself lie under /tmp or /run (a CI clone): keep the
# overlay's view of it visible through the guest's own tmpfs there.
repo=${args%% *}
keep=
case $repo in
/tmp/* | /run/*)
	mkdir -p /keep
	mount --bind "/newroot$repo" /keep || fail "bind $repo"
	keep=1
	;;
esac
mount -t tmpfs run /newroot/run
mount -t tmpfs tmp /newroot/tmp
if [ -n "$keep" ]; then
	mkdir -p "/newroot$repo"
	mount --bind /keep "/newroot$repo" || fail "bind $repo back"
fi
mount -t tmpfs lmod /newroot/lib/modules
mkdir -p "/newroot/lib/modules/$(uname -r)"
mount --bind "/newroot$modules" "/newroot/lib/modules/$(uname -r)" ||
	fail "bind modules"
mount -t debugfs debugfs /newroot/sys/kernel/debug 2>/dev/null
hostname tcp2-guest
echo "init: running $script $args"
# shellcheck disable=SC2086
chroot /newroot /bin/sh -c "cd / && exec /bin/sh $script $args" \
    >/newroot/tcp2-results/guest.log 2>&1 </dev/null
echo $? >/newroot/tcp2-results/rc
dmesg >/newroot/tcp2-results/dmesg.log
sync
echo "init: done"
poweroff -f
