#!/bin/sh
# /init of the x86 lane's initramfs (copied there by tools/x86lane/run).
# Runs as PID 1 under busybox sh in a QEMU/TCG guest with an emulated AMD
# CPU: loads kvm_amd, prints evidence, runs `ringbox version` and the e2e
# test binary, prints "X86LANE RESULT: PASS|FAIL (...)" and powers off.
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

# Written by the host script: X86LANE_PLATFORM, X86LANE_TEST_TIMEOUT and
# `set -- ARGS` with the extra e2e.test arguments.
. /x86lane/conf

echo "X86LANE BOOTED uptime=$(uptime_s)s kernel=$(uname -r)"

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

echo "X86LANE EVIDENCE cpuinfo: $(grep -m1 svm /proc/cpuinfo || echo 'no svm flag in /proc/cpuinfo')"
echo "X86LANE EVIDENCE cpu: $(grep -m1 '^address sizes' /proc/cpuinfo)"
dmesg | grep -i svm | sed 's/^/X86LANE EVIDENCE dmesg: /'
echo "X86LANE EVIDENCE dev: $(ls -l /dev/kvm)"

out=$(/x86lane/ringbox version 2>&1)
rc=$?
echo "$out" | sed 's/^/X86LANE RINGBOX-VERSION: /'
echo "X86LANE RINGBOX-VERSION-STATUS: $rc"

# The e2e suite looks for go.mod above its working directory; an empty
# module stands in for the source tree (programs and ringbox are prebuilt).
cd /x86lane/mod || finish "FAIL (no /x86lane/mod)"
export RINGBOX_BIN=/x86lane/ringbox RINGBOX_PROGS=/x86lane/progs
if [ -n "$X86LANE_PLATFORM" ]; then
	export RINGBOX_PLATFORM="$X86LANE_PLATFORM"
fi
echo "X86LANE E2E-START uptime=$(uptime_s)s platform=${RINGBOX_PLATFORM:-default}"
/x86lane/e2e.test -test.v -test.count=1 -test.timeout="$X86LANE_TEST_TIMEOUT" "$@" </dev/null 2>&1
rc=$?
echo "X86LANE E2E-END uptime=$(uptime_s)s status=$rc"

if [ $rc -eq 0 ]; then
	finish "PASS"
fi
finish "FAIL (e2e.test exit status $rc)"
