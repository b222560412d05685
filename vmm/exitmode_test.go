package vmm

import (
	"testing"

	"github.com/stretchr/testify/require"

	"ringbox/guestkernel/memfile"
	"ringbox/guestkernel/platform"
	"ringbox/ring0/pagetables"
)

// openKVM fails the test loudly when /dev/kvm is missing or unusable.
func openKVM(t testing.TB) *KVM {
	t.Helper()
	k, err := Open()
	if err != nil {
		t.Fatalf("these tests need a usable /dev/kvm: %v", err)
	}
	return k
}

// TestExitModeSyscallAndFault runs a few hand-assembled instructions in
// guest user mode: a syscall, a page fault on a missing page that the test
// then maps, and a ud2.
func TestExitModeSyscallAndFault(t *testing.T) {
	k := openKVM(t)
	defer k.Close()
	m, mem, err := NewExitMachine(k, 256<<20, 2)
	require.NoError(t, err)
	as, err := m.NewAddressSpace()
	require.NoError(t, err)
	defer as.Release()
	ctx, err := m.NewContext()
	require.NoError(t, err)
	defer ctx.Release()

	code, err := mem.Alloc()
	require.NoError(t, err)
	prog := []byte{
		0xb8, 0x27, 0, 0, 0, // mov $39, %eax (getpid)
		0x0f, 0x05, // syscall
		0x48, 0x89, 0xc3, // mov %rax, %rbx
		0x48, 0xa3, 0, 0, 0x20, 0, 0, 0, 0, 0, // movabs %rax, 0x200000 (faults: unmapped)
		0x0f, 0x0b, // ud2
	}
	copy(memfile.Page(code), prog)
	_, err = as.Tables().Map(0x400000, code, memfile.PageSize, pagetables.Opts{Exec: true, User: true})
	require.NoError(t, err)

	regs := platform.Regs{RIP: 0x400000, RSP: 0x7ffff000, RFLAGS: 0x202}
	ev, err := ctx.Switch(as, &regs)
	require.NoError(t, err)
	require.Equal(t, platform.EventSyscall, ev.Kind)
	require.Equal(t, uint64(39), regs.RAX)
	require.Equal(t, uint64(0x400007), regs.RCX, "RCX = return RIP")
	require.Equal(t, uint64(0x7ffff000), regs.RSP)

	regs.RAX = 4242
	regs.RIP = regs.RCX
	ev, err = ctx.Switch(as, &regs)
	require.NoError(t, err)
	require.Equal(t, platform.EventPageFault, ev.Kind, "event %+v", ev)
	require.Equal(t, uint64(0x200000), ev.Addr)
	require.True(t, ev.Write)
	require.Equal(t, uint64(4242), regs.RBX)

	data, err := mem.Alloc()
	require.NoError(t, err)
	_, err = as.Tables().Map(0x200000, data, memfile.PageSize, pagetables.Opts{Write: true, User: true})
	require.NoError(t, err)
	ev, err = ctx.Switch(as, &regs)
	require.NoError(t, err)
	require.Equal(t, platform.EventException, ev.Kind, "event %+v", ev)
	require.Equal(t, uint64(6), ev.Vector)
	require.Equal(t, uint64(0x400014), regs.RIP)
	require.Equal(t, byte(4242&0xff), memfile.Page(data)[0])
	t.Logf("stats: %v", m.Stats())
}
