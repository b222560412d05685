package kvmtest

import (
	"errors"
	"fmt"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// RequireEnv names the variable that turns a missing KVM into a failure.
const RequireEnv = "RINGBOX_REQUIRE_KVM"

// Required reports whether RINGBOX_REQUIRE_KVM=1 is set.
func Required() bool { return os.Getenv(RequireEnv) == "1" }

// kvmGetAPIVersion is KVM_GET_API_VERSION, _IO(0xAE, 0x00).
const kvmGetAPIVersion = 0xae00

// Check returns why /dev/kvm cannot be used here, or nil. It does what
// vmm.Open does first: open it read-write and ask for the API version.
// (It cannot call vmm.Open: vmm's own tests import this package.)
func Check() error {
	fd, err := unix.Open("/dev/kvm", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open /dev/kvm: %w", err)
	}
	defer unix.Close(fd)
	v, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), kvmGetAPIVersion, 0)
	if errno != 0 {
		return fmt.Errorf("/dev/kvm: KVM_GET_API_VERSION: %w", errno)
	}
	if v != 12 {
		return fmt.Errorf("/dev/kvm: KVM API version %d, want 12", v)
	}
	return nil
}

// SkipMessage is the one line a test prints when it skips for want of KVM.
func SkipMessage(why error) string {
	return fmt.Sprintf("no usable KVM here (%v): this test runs in the x86 lane instead "+
		"(tools/x86lane/run, part of .ci/run); %s=1 makes this a failure", why, RequireEnv)
}

// Need skips t when KVM is not usable and not required, and fails it when
// it is required.
func Need(t testing.TB) {
	t.Helper()
	if err := Check(); err != nil {
		SkipOrFail(t, err)
	}
}

// SkipOrFail ends t because KVM is unusable (why): a skip, or a failure
// under RINGBOX_REQUIRE_KVM=1.
func SkipOrFail(t testing.TB, why error) {
	t.Helper()
	if why == nil {
		why = errors.New("unknown reason")
	}
	if Required() {
		t.Fatalf("%s=1 but KVM is not usable: %v", RequireEnv, why)
		return
	}
	t.Skip(SkipMessage(why))
}
