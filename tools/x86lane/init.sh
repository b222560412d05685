#!/bin/sh
# /init of the x86 lane's initramfs (copied there by tools/x86lane/run).
# Runs as PID 1 under busybox sh in a QEMU/TCG guest with an emulated AMD
# CPU. It loads kvm_amd and the 9p modules, mounts the host's / (shared
# read-only over virtio-9p) with the guest's own /proc, /sys, /dev,
# /dev/pts, /dev/shm, /run and a tmpfs /tmp, chroots into it and runs either
# the test suites (suite.sh) or one command (-c), then powers off.
# The host script looks only at the X86LANE lines; keep their format.

export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root TMPDIR=/tmp LANG=C
umask 022

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null || true
# /dev/console may be missing when the image was built without root (no mknod).
[ -t 1 ] || exec </dev/console >/dev/console 2>&1

uptime_s() { cut -d' ' -f1 /proc/uptime; }

finish() {
	echo "X86LANE RESULT: $*"
	sync
	poweroff -f
	sleep 5 # poweroff -f does not return; if it did, init exits and the kernel panics (panic=-1 reboots, -no-reboot stops QEMU)
	exit 1
}

# Written by the host script: X86LANE_MODE (suite|cmd), X86LANE_PLATFORM,
# X86LANE_TEST_TIMEOUT, X86LANE_TESTS, X86LANE_REPO, X86LANE_WORK,
# X86LANE_SMP and `set -- ARGS` with the extra e2e.test arguments.
. /x86lane/conf

echo "X86LANE BOOTED uptime=$(uptime_s)s kernel=$(uname -r) cpus=$(grep -c ^processor /proc/cpuinfo)"

for m in $(cat /x86lane/modules.order); do
	if ! out=$(insmod "/x86lane/modules/$m.ko" 2>&1); then
		echo "X86LANE insmod $m failed: $out"
		dmesg | tail -20
		finish "FAIL (insmod $m)"
	fi
done

# devtmpfs creates the node when kvm_amd registers the misc device.
i=0
while [ ! -c /dev/kvm ] && [ $i -lt 50 ]; do
	usleep 100000
	i=$((i + 1))
done
[ -c /dev/kvm ] || { dmesg | tail -20; finish "FAIL (no /dev/kvm after loading kvm_amd)"; }
echo "X86LANE KVM-READY uptime=$(uptime_s)s"

# The loopback interface: the e2e network tests run their servers natively
# on 127.0.0.1 and ::1 too (the guest has no other interface).
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up 2>/dev/null || echo "X86LANE no loopback interface"
# --net: eth0 on QEMU's user network (static: its fixed addresses).
if [ "${X86LANE_NET:-0}" = 1 ]; then
	ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0 && ip route add default via 10.0.2.2 ||
		echo "X86LANE no eth0 for --net"
fi

# --- the host's root -----------------------------------------------------------

# 9p mounts: the tags are the ones tools/x86lane/run gives QEMU. Everything
# shared is read-only, and stays unchanged while the lane runs, so the
# guest may cache it (cache=loose).
ninep() { # TAG DIR
	i=0
	until mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=loose,ro "$1" "$2" 2>/tmp/mount.err; do
		i=$((i + 1))
		if [ $i -ge 20 ]; then
			echo "X86LANE mount 9p $1 on $2 failed: $(cat /tmp/mount.err)"
			dmesg | tail -20
			finish "FAIL (mount 9p $1)"
		fi
		usleep 100000
	done
}
# mkdir_under DIR: make DIR in the new root if it is missing (it then lies
# under one of the guest's tmpfs mounts, e.g. a host work tree under /tmp).
mkdir_under() { [ -d "$1" ] || mkdir -p "$1" || finish "FAIL (cannot create the mount point $1)"; }

R=/newroot
mkdir -p $R
ninep hostroot $R
mount -t proc proc $R/proc
mount -t sysfs sysfs $R/sys
# cgroup v2, as a systemd host has it (the OCI runtime's groups go
# there), or with --cgroup=v1 a tree per controller, as older hosts have.
if [ "${X86LANE_CGROUP:-v2}" = v1 ]; then
	mount -t tmpfs -o mode=755 cgroup $R/sys/fs/cgroup
	for c in memory cpu,cpuacct cpuset pids freezer; do
		mkdir -p $R/sys/fs/cgroup/$c
		mount -t cgroup -o $c cgroup $R/sys/fs/cgroup/$c || echo "X86LANE note: no cgroup v1 $c"
	done
	ln -s cpu,cpuacct $R/sys/fs/cgroup/cpu
	ln -s cpu,cpuacct $R/sys/fs/cgroup/cpuacct
else
	mount -t cgroup2 cgroup2 $R/sys/fs/cgroup 2>/dev/null || echo "X86LANE note: no cgroup2 mount"
fi
mount -t devtmpfs devtmpfs $R/dev
mkdir -p $R/dev/pts $R/dev/shm
# What udev makes on a host: programs (bash's <(...)) need /dev/fd.
ln -sfn /proc/self/fd $R/dev/fd
ln -sfn /proc/self/fd/0 $R/dev/stdin
ln -sfn /proc/self/fd/1 $R/dev/stdout
ln -sfn /proc/self/fd/2 $R/dev/stderr
mount -t devpts -o newinstance,ptmxmode=0666 devpts $R/dev/pts
mount -t tmpfs -o mode=1777 tmpfs $R/dev/shm
mount -t tmpfs -o mode=1777 tmpfs $R/tmp
mount -t tmpfs -o mode=0755 tmpfs $R/run
# The work tree and the lane's built files, at the same paths as on the host.
mkdir_under "$R$X86LANE_REPO"
ninep repo "$R$X86LANE_REPO"
mkdir_under "$R$X86LANE_WORK"
ninep work "$R$X86LANE_WORK"
mkdir -p $R/tmp/home $R/tmp/disk
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=none disk $R/tmp/disk ||
	echo "X86LANE note: no read-write disk share"
chmod 1777 $R/tmp/disk
echo "X86LANE ROOT-READY uptime=$(uptime_s)s"

echo "X86LANE EVIDENCE cpuinfo: $(grep -m1 svm /proc/cpuinfo || echo 'no svm flag in /proc/cpuinfo')"
echo "X86LANE EVIDENCE cpu: $(grep -m1 '^address sizes' /proc/cpuinfo), $(grep -c ^processor /proc/cpuinfo) CPUs"
dmesg | grep -i svm | sed 's/^/X86LANE EVIDENCE dmesg: /'
echo "X86LANE EVIDENCE dev: $(ls -l /dev/kvm)"

# in_root CMD...: run CMD in the host's root with a clean environment.
# RINGBOX_REQUIRE_KVM=1: KVM exists here, so a KVM test must not skip.
in_root() {
	chroot $R /usr/bin/env -i \
		PATH="$X86LANE_WORK/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
		HOME=/tmp/home TMPDIR=/tmp LANG=C.UTF-8 TERM=dumb \
		RINGBOX_REQUIRE_KVM=1 RINGBOX_X86LANE=1 RINGBOX_TEST_DISK=/tmp/disk \
		"$@"
}

if [ "$X86LANE_MODE" != suite ]; then
	# The command's output goes to the second serial port, raw, which the
	# host copies to its stdout; its status comes back on the console.
	stty -F $R/dev/ttyS1 raw -echo 2>/dev/null
	echo "X86LANE CMD-START uptime=$(uptime_s)s"
	in_root /bin/sh "$X86LANE_WORK/cmd.sh" </dev/null >$R/dev/ttyS1 2>&1
	rc=$?
	echo "X86LANE CMD-END uptime=$(uptime_s)s"
	echo "X86LANE EXIT-STATUS: $rc"
	finish "DONE"
fi

in_root /bin/sh "$X86LANE_WORK/suite.sh" "$@" </dev/null 2>&1
rc=$?
if [ $rc -ne 0 ]; then
	echo "X86LANE last kernel messages:"
	dmesg | tail -15
	finish "FAIL (suite.sh exit status $rc)"
fi
finish "PASS"
