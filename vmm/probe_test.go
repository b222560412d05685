package vmm

import (
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/require"

	"ringbox/ring0"
)

// runProbe starts a fresh context's vCPU at rip in supervisor mode and
// returns after its first exit.
func runProbe(t *testing.T, m *Machine, rip uintptr, setup func(c *exitContext)) (*exitContext, uint32, error) {
	t.Helper()
	pc, err := m.NewContext()
	require.NoError(t, err)
	c := pc.(*exitContext)
	t.Cleanup(c.Release)
	// A context takes its vCPU when it first runs; the probe runs the
	// vCPU itself.
	_, err = c.take()
	require.NoError(t, err)
	as, err := m.NewAddressSpace()
	require.NoError(t, err)
	t.Cleanup(as.Release)
	if setup != nil {
		setup(c)
	}
	regs := m.supervisorRegs(c.slot, rip)
	require.NoError(t, c.vcpu.SetRegs(&regs))
	reason, err := c.vcpu.Run()
	return c, reason, err
}

// pvmProbeMachine makes a machine for a probe whose subject is PVM's
// ABI, skipping elsewhere (the probes' entry points are PVM's).
func pvmProbeMachine(t *testing.T) *Machine {
	t.Helper()
	k := openKVM(t)
	t.Cleanup(func() { k.Close() })
	if k.Backend != BackendPVM {
		t.Skipf("a PVM probe; this KVM is %v", k.Backend)
	}
	m, _, err := NewMachine(k, Config{MemLimit: 64 << 20, NumCPU: 2})
	require.NoError(t, err)
	return m
}

// TestPVMSupervisorSyscall records what SYSCALL does when executed in
// guest supervisor mode on this PVM variant (docs/pvm.md).
func TestPVMSupervisorSyscall(t *testing.T) {
	// On VMX/SVM a ring-0 SYSCALL is the hardware's and ring0 mode does
	// not rely on it.
	m := pvmProbeMachine(t)
	sys, _ := ring0.ProbeEntryPoints()
	c, reason, err := runProbe(t, m, sys, nil)
	require.NoError(t, err)
	require.Equal(t, uint32(ExitIO), reason)
	t.Logf("supervisor SYSCALL: reason=%#x RAX=%#x RCX=%#x (probe at %#x)", c.cpu.Reason, c.cpu.Regs.RAX, c.cpu.Regs.RCX, sys)
	// Established by this test: it is delivered to LSTAR like a user
	// SYSCALL, RCX = the next instruction (after a 7-byte MOV and the
	// 2-byte SYSCALL), GS still the kernel's.
	require.Equal(t, uint64(ring0.ReasonSyscall), c.cpu.Reason)
	require.Equal(t, uint64(sys+9), c.cpu.Regs.RCX)
}

// TestPVMPageTableWriteCost measures one trapped narrow write to a shadowed
// page-table page, the cost of each zap.
func TestPVMPageTableWriteCost(t *testing.T) {
	k := openKVM(t)
	defer k.Close()
	m, _, err := NewMachine(k, Config{MemLimit: 64 << 20, NumCPU: 2})
	require.NoError(t, err)
	_, write := ring0.ProbeEntryPoints()
	const n = 2000
	start := time.Now()
	c, reason, err := runProbe(t, m, write, func(c *exitContext) {
		// The last-level table that maps the supervisor region: shadowed
		// as soon as the vCPU runs.
		c.cpu.Regs.RDI = uint64(leafTable(m.kernel.Root(), m.region.Base()))
		c.cpu.Regs.RSI = n
	})
	d := time.Since(start)
	require.NoError(t, err)
	require.Equal(t, uint32(ExitIO), reason)
	require.Equal(t, uint64(0x56), c.cpu.Reason)
	t.Logf("%d narrow writes to a last-level page table: %v, %.2f us each", n, d, float64(d.Microseconds())/n)
}

// leafTable walks 4-level tables from root to the last-level table page
// that maps va.
func leafTable(root, va uintptr) uintptr {
	tbl := root
	for level := 3; level > 0; level-- {
		i := (va >> (12 + 9*uint(level))) & 511
		e := *(*uint64)(unsafe.Add(nil, tbl+8*i))
		tbl = uintptr(e & 0x000ffffffffff000)
	}
	return tbl
}

// TestPVMFSGSBase checks that CR4.FSGSBASE and CR4.OSXSAVE are accepted
// and that WRFSBASE runs natively in supervisor mode (ring0 mode switches
// FS base on every syscall).
func TestPVMFSGSBase(t *testing.T) {
	k := openKVM(t)
	defer k.Close()
	m, _, err := NewMachine(k, Config{MemLimit: 64 << 20, NumCPU: 2})
	require.NoError(t, err)
	const n = 100000
	var start time.Time
	c, reason, err := runProbe(t, m, ring0.ProbeFSBase(), func(c *exitContext) {
		s, err := c.vcpu.GetSregs()
		require.NoError(t, err)
		s.CR4 |= cr4FSGSBase | cr4OSXSAVE
		require.NoError(t, c.vcpu.SetSregs(&s), "CR4 with FSGSBASE|OSXSAVE")
		c.cpu.Regs.RSI = n
		start = time.Now()
	})
	d := time.Since(start)
	require.NoError(t, err)
	require.Equal(t, uint32(ExitIO), reason)
	require.Equal(t, uint64(0x57), c.cpu.Reason)
	require.Equal(t, uint64(0x12345000), c.cpu.Regs.RBX)
	t.Logf("%d WRFSBASE+RDFSBASE pairs: %v (%.1f ns each, including one exit)", n, d, float64(d.Nanoseconds())/n)
}

// TestPVMGuestTSC checks what the programs' vDSO relies on there: the
// guest's TSC is the host's, unchanged (no offset), and RDTSC in the
// guest is not trapped. Host readings before and after the KVM_RUN must
// bracket the guest's.
func TestPVMGuestTSC(t *testing.T) {
	// On VMX/SVM the TSC offset is KVM's to set (setupVCPU).
	m := pvmProbeMachine(t)
	const n = 100000
	var before uint64
	c, reason, err := runProbe(t, m, ring0.ProbeTSC(), func(c *exitContext) {
		c.cpu.Regs.RSI = n
		before = ring0.ProbeRDTSC()
	})
	after := ring0.ProbeRDTSC()
	require.NoError(t, err)
	require.Equal(t, uint32(ExitIO), reason)
	require.Equal(t, uint64(0x58), c.cpu.Reason)
	first, last := c.cpu.Regs.RBX, c.cpu.Regs.RCX
	t.Logf("host %d, guest %d .. %d, host %d: %d RDTSCs in the guest, %.1f cycles each", before, first, last, after, n, float64(last-first)/n)
	require.True(t, before <= first && first <= last && last <= after,
		"guest TSC readings %d..%d outside the host's %d..%d: the guest TSC is offset", first, last, before, after)
	// Trapped, an RDTSC would cost an exit (tens of microseconds, some
	// 10^5 cycles); natively it takes a few dozen.
	require.Less(t, float64(last-first)/n, 1000.0, "RDTSC in the guest looks trapped")
}
