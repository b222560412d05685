package e2e

import (
	"fmt"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestVDSOCalls: where the backend runs the host's clock code in the
// program's vDSO (x86; in exit mode only where KVM can set a vCPU's TSC
// offset, Linux 5.16 on), libc's clock_gettime and gettimeofday make no
// system call at all; with --vdso=stubs (and on PVM) each is one, and with
// --vdso=off libc makes the system call itself. Counted with --strace.
func TestVDSOCalls(t *testing.T) {
	recordInputs(t)
	v := execute(t, spec{Path: ringboxBin, Argv: []string{ringboxBin, "version"}, InheritEnv: true})
	if !checkSandboxStatus(t, v) {
		return
	}
	x86 := strings.Contains(strings.ToLower(string(v.Stdout)), "x86")
	if platform == "kvm-exit" && !kernelAtLeast(t, 5, 16) {
		x86 = false // no KVM_CAP_VCPU_ATTRIBUTES: the guest's TSC is not the host's
	}
	for _, c := range []struct {
		mode      string
		syscalls  bool // each clock read is a system call
		debugLine string
	}{
		{"auto", !x86, map[bool]string{true: "the host's clock code", false: "system call stubs"}[x86]},
		{"stubs", true, ""},
		{"off", true, ""},
	} {
		t.Run(c.mode, func(t *testing.T) {
			t.Parallel()
			s := sandboxed([]string{"--strace", "--debug", "--vdso", c.mode}, baseEnv, prog("vdso"), []string{"loop"}, nil)
			r := execute(t, s)
			if !checkSandboxStatus(t, r) {
				return
			}
			require.Equal(t, 0, r.Code, "stderr: %s", tail(r.Stderr, 2000))
			assert.Equal(t, "looped\n", string(r.Stdout))
			stderr := string(r.Stderr)
			gettime, tod := strings.Count(stderr, "clock_gettime("), strings.Count(stderr, "gettimeofday(")
			if c.syscalls {
				assert.GreaterOrEqual(t, gettime, 1000, "clock_gettime calls")
				assert.GreaterOrEqual(t, tod, 1000, "gettimeofday calls")
			} else {
				assert.Less(t, gettime, 10, "clock_gettime calls")
				assert.Less(t, tod, 10, "gettimeofday calls")
			}
			if c.debugLine != "" {
				assert.Contains(t, stderr, c.debugLine)
			}
		})
	}
}

// kernelAtLeast reports whether the host kernel is version major.minor or
// later.
func kernelAtLeast(t *testing.T, major, minor int) bool {
	var u unix.Utsname
	require.NoError(t, unix.Uname(&u))
	var ma, mi int
	_, err := fmt.Sscanf(unix.ByteSliceToString(u.Release[:]), "%d.%d", &ma, &mi)
	require.NoError(t, err)
	return ma > major || ma == major && mi >= minor
}
