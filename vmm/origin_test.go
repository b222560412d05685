package vmm

import (
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/require"

	"ringbox/guestkernel/memfile"
	"ringbox/guestkernel/platform"
	"ringbox/ring0/pagetables"
	"ringbox/vmm/kvmtest"
)

// TestOriginCheckForgedBounce forges the flag the ring0 entry code uses to
// tell the program's syscalls from Go code's: while the program spins in
// user mode, the test clears InUser by hand, then lets it make exit_group.
// The SYSCALL then takes the bounce path, and the origin check (ring0
// origin.go: CR3 in the x86 entry code, RIP in the VMM loop) must stop the
// run with status 125 and one line naming the RIP and the syscall number,
// instead of making exit_group(7) on the host. It runs in a child process,
// since the check ends the whole process.
func TestOriginCheckForgedBounce(t *testing.T) {
	if os.Getenv("RINGBOX_ORIGIN_CHILD") == "1" {
		forgeBounce(t)
		return
	}
	kvmtest.Need(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestOriginCheckForgedBounce$", "-test.v")
	cmd.Env = append(os.Environ(), "RINGBOX_ORIGIN_CHILD=1")
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	require.True(t, errors.As(err, &ee), "the child must fail, got %v\n%s", err, out)
	require.Equal(t, 125, ee.ExitCode(), "exit status (7 would be exit_group made on the host)\n%s", out)
	want := "ringbox: sandbox failure: a request for the host did not come from ringbox's own code (RIP 0x000000001000001b, syscall 231); the run is stopped\n"
	require.True(t, strings.Contains(string(out), want), "want line %q in\n%s", want, out)
}

func forgeBounce(t *testing.T) {
	runtime.LockOSThread()
	k := openKVM(t)
	m, mem, err := NewMachine(k, Config{MemLimit: 256 << 20, NumCPU: 2, Ring0: true})
	require.NoError(t, err)
	as, err := m.NewAddressSpace()
	require.NoError(t, err)
	pctx, err := m.NewContext()
	require.NoError(t, err)
	ctx := pctx.(*ring0Context)

	code, err := mem.Alloc()
	require.NoError(t, err)
	copy(memfile.Page(code), []byte{
		0x48, 0xa1, 0, 0, 0x20, 0, 0, 0, 0, 0, // 0: movabs 0x200000, %rax
		0x48, 0x85, 0xc0, // 10: test %rax, %rax
		0x74, 0xf1, // 13: jz 0
		0xb8, 231, 0, 0, 0, // 15: mov $231, %eax (exit_group)
		0xbf, 7, 0, 0, 0, // 20: mov $7, %edi
		0x0f, 0x05, // 25: syscall
		0x0f, 0x0b, // 27: ud2
	})
	// Above ringbox's text, which a non-PIE test binary has at 0x400000.
	_, err = as.Tables().Map(0x10000000, code, memfile.PageSize, pagetables.Opts{Exec: true, User: true})
	require.NoError(t, err)
	data, err := mem.Alloc()
	require.NoError(t, err)
	_, err = as.Tables().Map(0x200000, data, memfile.PageSize, pagetables.Opts{User: true})
	require.NoError(t, err)
	flag := (*uint64)(unsafe.Pointer(&memfile.Page(data)[0]))

	// The context takes its vCPU at its first Switch: the first free
	// slot, 0.
	inUser := &m.region.CPU(0).R0.InUser
	go func() {
		// Once the program runs (the entry code set InUser on its way),
		// forge the flag, then let the program make its syscall.
		for atomic.LoadUint64(inUser) == 0 {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(100 * time.Millisecond)
		atomic.StoreUint64(inUser, 0)
		atomic.StoreUint64(flag, 1)
	}()
	regs := platform.Regs{RIP: 0x10000000, RSP: 0x7ffff000, RFLAGS: 0x202}
	ev, err := ctx.Switch(as, &regs)
	for err == nil && ev.Kind == platform.EventInterrupted {
		ev, err = ctx.Switch(as, &regs) // Go's scheduler took the thread back for a while
	}
	// Reaching here means the forged syscall was not stopped.
	t.Logf("the forged syscall came back: event %+v, error %v, RAX %d", ev, err, regs.RAX)
	os.Exit(3)
}
