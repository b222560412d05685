package vmm

import (
	"testing"

	"github.com/stretchr/testify/require"

	"ringbox/guestkernel/memfile"
	"ringbox/guestkernel/platform"
	"ringbox/ring0/pagetables"
	"ringbox/vmm/kvmtest"
)

// openKVM opens /dev/kvm. Where the host has none the test skips (the x86
// lane runs it) unless RINGBOX_REQUIRE_KVM=1; a KVM that opens but cannot
// run ringbox's guests fails the test.
func openKVM(t testing.TB) *KVM {
	t.Helper()
	kvmtest.Need(t)
	k, err := Open()
	if err != nil {
		t.Fatalf("these tests need a usable /dev/kvm: %v", err)
	}
	return k
}

// inBothModes runs f as the subtests "exit" and "ring0", each with its own
// KVM; the ring0 one is skipped where ring0 mode cannot run
// (KVM.Ring0Unavailable: too few physical address bits, a cgo build).
func inBothModes(t *testing.T, f func(t *testing.T, k *KVM, ring0Mode bool)) {
	for _, ring0Mode := range []bool{false, true} {
		name := "exit"
		if ring0Mode {
			name = "ring0"
		}
		t.Run(name, func(t *testing.T) {
			k := openKVM(t)
			defer k.Close()
			if ring0Mode && !k.Ring0Capable() {
				t.Skip("ring0 mode: " + k.Ring0Unavailable())
			}
			f(t, k, ring0Mode)
		})
	}
}

// TestExitModeSyscallAndFault runs a few hand-assembled instructions in
// guest user mode: a syscall, a page fault on a missing page that the test
// then maps, and a ud2.
func TestExitModeSyscallAndFault(t *testing.T) {
	k := openKVM(t)
	defer k.Close()
	m, mem, err := NewMachine(k, Config{MemLimit: 256 << 20, NumCPU: 2})
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

// TestExitModeShadowCoherence changes a present mapping on the host side
// (retarget, then unmap) after user code has used it: KVM's shadow of the
// page tables must follow, or the program would keep reaching a page it no
// longer owns.
func TestExitModeShadowCoherence(t *testing.T) {
	k := openKVM(t)
	defer k.Close()
	m, mem, err := NewMachine(k, Config{MemLimit: 256 << 20, NumCPU: 2})
	require.NoError(t, err)
	as, err := m.NewAddressSpace()
	require.NoError(t, err)
	defer as.Release()
	ctx, err := m.NewContext()
	require.NoError(t, err)
	defer ctx.Release()

	code, err := mem.Alloc()
	require.NoError(t, err)
	// loop: mov 0x200000, %rax; syscall; jmp loop
	copy(memfile.Page(code), []byte{
		0x48, 0xa1, 0, 0, 0x20, 0, 0, 0, 0, 0, // movabs 0x200000, %rax
		0x0f, 0x05, // syscall
		0xeb, 0xf2, // jmp -14
	})
	opt := pagetables.Opts{User: true}
	_, err = as.Tables().Map(0x400000, code, memfile.PageSize, pagetables.Opts{Exec: true, User: true})
	require.NoError(t, err)
	p1, err := mem.Alloc()
	require.NoError(t, err)
	p2, err := mem.Alloc()
	require.NoError(t, err)
	memfile.Page(p1)[0] = 0x11
	memfile.Page(p2)[0] = 0x22
	_, err = as.Tables().Map(0x200000, p1, memfile.PageSize, opt)
	require.NoError(t, err)

	regs := platform.Regs{RIP: 0x400000, RSP: 0x7ffff000, RFLAGS: 0x202}
	ev, err := ctx.Switch(as, &regs)
	require.NoError(t, err)
	require.Equal(t, platform.EventSyscall, ev.Kind)
	require.Equal(t, uint64(0x11), regs.RAX)

	// Retarget the present entry to p2.
	flush, err := as.Tables().Map(0x200000, p2, memfile.PageSize, opt)
	require.NoError(t, err)
	require.True(t, flush)
	as.Invalidate()
	ev, err = ctx.Switch(as, &regs)
	require.NoError(t, err)
	require.Equal(t, platform.EventSyscall, ev.Kind)
	require.Equal(t, uint64(0x22), regs.RAX, "user code still sees the old page")

	// Unmap: the next read must fault.
	require.True(t, as.Tables().Unmap(0x200000, memfile.PageSize))
	as.Invalidate()
	ev, err = ctx.Switch(as, &regs)
	require.NoError(t, err)
	require.Equal(t, platform.EventPageFault, ev.Kind, "user code still reaches an unmapped page")
	require.Equal(t, uint64(0x200000), ev.Addr)
}
