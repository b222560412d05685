#!/bin/sh
# The x86 lane's test run, inside the guest, chrooted into the host's root
# (see init.sh). Runs `ringbox version`, then each test binary named in
# X86LANE_TESTS from its package directory of the work tree, and prints
# X86LANE lines for tools/x86lane/run. Arguments go to every test binary.
# Exit status: 0 when every suite passed.

here=$(dirname "$0")
. "$here/conf"
export RINGBOX_BIN="$here/bin/ringbox" RINGBOX_PROGS="$here/progs"
[ -d "$here/gocache" ] && export RINGBOX_GOCACHE_SEED="$here/gocache"
[ -n "$X86LANE_PLATFORM" ] && export RINGBOX_PLATFORM="$X86LANE_PLATFORM"

out=$(ringbox version 2>&1)
rc=$?
echo "$out" | sed 's/^/X86LANE RINGBOX-VERSION: /'
echo "X86LANE RINGBOX-VERSION-STATUS: $rc"

uptime_s() { cut -d' ' -f1 /proc/uptime; }

failed=0
for suite in $X86LANE_TESTS; do
	case $suite in
	vmm) dir=$X86LANE_REPO/vmm ;;
	e2e) dir=$X86LANE_REPO/tests/e2e ;;
	*)
		echo "X86LANE unknown suite $suite"
		failed=1
		continue
		;;
	esac
	echo "X86LANE SUITE-START $suite uptime=$(uptime_s)s platform=${RINGBOX_PLATFORM:-default}"
	# A test binary runs from its package directory, as under go test.
	(cd "$dir" && "$here/$suite.test" -test.v -test.count=1 -test.timeout="$X86LANE_TEST_TIMEOUT" "$@") 2>&1
	rc=$?
	echo "X86LANE SUITE-END $suite uptime=$(uptime_s)s status=$rc"
	[ $rc -eq 0 ] || failed=1
done
exit $failed
