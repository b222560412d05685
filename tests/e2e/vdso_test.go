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
// program's vDSO (x86: always in ring0 mode; in exit mode where KVM can
// set a vCPU's TSC offset, which ringbox asks KVM and names in its --debug
// line), libc's clock_gettime and gettimeofday make no system call at all;
// with --vdso=stubs (and on PVM) each is one, and with --vdso=off libc
// makes the system call itself. Counted with --strace.
func TestVDSOCalls(t *testing.T) {
	recordInputs(t)
	v := execute(t, spec{Path: ringboxBin, Argv: []string{ringboxBin, "version"}, InheritEnv: true})
	if !checkSandboxStatus(t, v) {
		return
	}
	x86 := strings.Contains(strings.ToLower(string(v.Stdout)), "x86")
	// The --debug lines (the stubs' reason may name the host's clock code).
	const hostLine, stubsLine = "vDSO: the host's clock code", "vDSO: system call stubs"
	for _, mode := range []string{"auto", "stubs", "off"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			s := sandboxed([]string{"--strace", "--debug", "--vdso", mode}, baseEnv, prog("vdso"), []string{"loop"}, nil)
			r := execute(t, s)
			if !checkSandboxStatus(t, r) {
				return
			}
			require.Equal(t, 0, r.Code, "stderr: %s", tail(r.Stderr, 2000))
			assert.Equal(t, "looped\n", string(r.Stdout))
			stderr := string(r.Stderr)
			syscalls := true // each clock read is a system call
			if mode == "auto" {
				switch {
				case !x86:
					// PVM: the guest's TSC is the host's (vmm
					// TestPVMGuestTSC), in both modes.
					require.Contains(t, stderr, hostLine, "PVM runs the host's clock code")
				case platform != "kvm-exit" || kernelAtLeast(t, 5, 16):
					// Ring0 mode, or exit mode where KVM surely has
					// KVM_CAP_VCPU_ATTRIBUTES (older kernels may have
					// it backported: either image, as --debug says).
					require.Contains(t, stderr, hostLine, "x86 runs the host's clock code here")
				}
				syscalls = !strings.Contains(stderr, hostLine)
				if syscalls {
					require.Contains(t, stderr, stubsLine, "--debug names the image")
				}
			}
			gettime, tod := strings.Count(stderr, "clock_gettime("), strings.Count(stderr, "gettimeofday(")
			if syscalls {
				assert.GreaterOrEqual(t, gettime, 1000, "clock_gettime calls")
				assert.GreaterOrEqual(t, tod, 1000, "gettimeofday calls")
			} else {
				assert.Less(t, gettime, 10, "clock_gettime calls")
				assert.Less(t, tod, 10, "gettimeofday calls")
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
