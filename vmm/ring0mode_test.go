package vmm

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"ringbox/guestkernel/memfile"
	"ringbox/guestkernel/platform"
	"ringbox/ring0"
	"ringbox/ring0/pagetables"
)

// TestRing0ModeSyscallAndFault runs the exit-mode scenario in ring0 mode:
// after the first entry, the syscall and the faults reach this Go code
// inside the guest, with no exit to the host.
func TestRing0ModeSyscallAndFault(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	k := openKVM(t)
	defer k.Close()
	m, mem, err := NewMachine(k, Config{MemLimit: 256 << 20, NumCPU: 2, Ring0: true})
	require.NoError(t, err)
	as, err := m.NewAddressSpace()
	require.NoError(t, err)
	defer as.Release()
	pctx, err := m.NewContext()
	require.NoError(t, err)
	ctx := pctx.(*ring0Context)

	code, err := mem.Alloc()
	require.NoError(t, err)
	copy(memfile.Page(code), []byte{
		0xb8, 0x27, 0, 0, 0, // mov $39, %eax
		0x0f, 0x05, // syscall
		0x0f, 0x05, // syscall
		0x48, 0x89, 0xc3, // mov %rax, %rbx
		0x48, 0xa3, 0, 0, 0x20, 0, 0, 0, 0, 0, // movabs %rax, 0x200000
		0x0f, 0x0b, // ud2
	})
	_, err = as.Tables().Map(0x400000, code, memfile.PageSize, pagetables.Opts{Exec: true, User: true})
	require.NoError(t, err)

	regs := platform.Regs{RIP: 0x400000, RSP: 0x7ffff000, RFLAGS: 0x202, FSBase: 0x1234000}
	ev, err := ctx.Switch(as, &regs)
	require.NoError(t, err)
	require.Equal(t, platform.EventSyscall, ev.Kind)
	require.True(t, ring0.InGuest(ctx.cpu), "the Go code should now run in the guest")
	require.Equal(t, uint64(39), regs.RAX)
	require.Equal(t, uint64(0x400007), regs.RCX)
	require.Equal(t, uint64(0x1234000), regs.FSBase)

	entries := ctx.cpu.R0.Entries
	regs.RAX = 4242
	ev, err = ctx.Switch(as, &regs)
	require.NoError(t, err)
	require.Equal(t, platform.EventSyscall, ev.Kind, "event %+v", ev)
	require.Equal(t, uint64(4242), regs.RAX)
	regs.RAX = 4343
	ev, err = ctx.Switch(as, &regs)
	require.NoError(t, err)
	require.Equal(t, platform.EventPageFault, ev.Kind, "event %+v", ev)
	require.Equal(t, uint64(0x200000), ev.Addr)
	require.Equal(t, uint64(4343), regs.RBX)
	data, err := mem.Alloc()
	require.NoError(t, err)
	_, err = as.Tables().Map(0x200000, data, memfile.PageSize, pagetables.Opts{Write: true, User: true})
	require.NoError(t, err)
	ev, err = ctx.Switch(as, &regs)
	require.NoError(t, err)
	require.Equal(t, platform.EventException, ev.Kind, "event %+v", ev)
	require.Equal(t, uint64(6), ev.Vector)
	require.Equal(t, entries, ctx.cpu.R0.Entries, "no KVM_RUN after the first entry")
	ctx.Release()
	require.False(t, ring0.InGuest(ctx.cpu))
	t.Logf("stats: %v", m.Stats())
}
