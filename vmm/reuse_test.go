package vmm

import (
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"ringbox/guestkernel/memfile"
	"ringbox/guestkernel/platform"
	"ringbox/ring0/pagetables"
)

// TestContextReuse releases and makes contexts on a one-slot machine: KVM
// cannot destroy a vCPU, so each new context must reuse the slot's vCPU,
// left in whatever state the last one had it (after a syscall exit, after
// a fault), and run a fresh program correctly. Both modes.
func TestContextReuse(t *testing.T) {
	inBothModes(t, func(t *testing.T, k *KVM, ring0Mode bool) {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		m, mem, err := NewMachine(k, Config{MemLimit: 64 << 20, NumCPU: 1, Ring0: ring0Mode})
		require.NoError(t, err)
		code, err := mem.Alloc()
		require.NoError(t, err)
		copy(memfile.Page(code), []byte{
			0xb8, 0x27, 0, 0, 0, // mov $39, %eax
			0x0f, 0x05, // syscall
			0x48, 0x89, 0xc3, // mov %rax, %rbx
			0x0f, 0x0b, // ud2
		})
		for i := 0; i < 4; i++ {
			as, err := m.NewAddressSpace()
			require.NoError(t, err)
			_, err = as.Tables().Map(0x400000, code, memfile.PageSize, pagetables.Opts{Exec: true, User: true})
			require.NoError(t, err)
			ctx, err := m.NewContext()
			require.NoError(t, err, "context %d", i)

			regs := platform.Regs{RIP: 0x400000, RSP: 0x7ffff000, RFLAGS: 0x202, FSBase: uint64(0x1000 * (i + 1))}
			ev, err := switchOn(ctx, as, &regs)
			require.NoError(t, err, "context %d", i)
			require.Equal(t, platform.EventSyscall, ev.Kind, "context %d: %+v", i, ev)
			require.Equal(t, uint64(39), regs.RAX)
			require.Equal(t, uint64(0x400007), regs.RCX)
			regs.RAX = uint64(1000 + i)
			regs.RIP = regs.RCX
			ev, err = switchOn(ctx, as, &regs)
			require.NoError(t, err, "context %d", i)
			require.Equal(t, platform.EventException, ev.Kind, "context %d: %+v", i, ev)
			require.Equal(t, uint64(6), ev.Vector)
			require.Equal(t, uint64(1000+i), regs.RBX)
			require.Equal(t, uint64(0x1000*(i+1)), regs.FSBase)
			before := m.Stats()["kvm_run"]
			var entries uint64
			if rc, ok := ctx.(*ring0Context); ok {
				entries = atomic.LoadUint64(&rc.cpu.R0.Entries)
			}
			ctx.Release()
			as.Release()
			if ring0Mode {
				// The released slot's counters move to the machine's
				// totals once, not twice: Stats sums the totals and
				// the slots, so the free slot must be left at zero.
				// (Comparing totals before and after is not enough:
				// under load, the host syscalls Go code makes from
				// the guest while releasing are as many entries as
				// the context made.)
				require.NotZero(t, entries)
				rc := ctx.(*ring0Context)
				require.Zero(t, atomic.LoadUint64(&rc.cpu.R0.Entries), "context %d: the free slot still holds its kvm_run count", i)
				require.Zero(t, atomic.LoadUint64(&rc.cpu.R0.Bounces), "context %d: the free slot still holds its bounces", i)
				require.GreaterOrEqual(t, m.Stats()["kvm_run"], before, "context %d", i)
			}
		}
	})
}
