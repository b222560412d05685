package vmm

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ringbox/guestkernel/memfile"
	"ringbox/guestkernel/platform"
	"ringbox/ring0/pagetables"
)

// taskThread runs functions on one locked OS thread, as a task goroutine
// runs its context.
type taskThread chan func()

func newTaskThread(t *testing.T) taskThread {
	th := make(taskThread)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with it
		for f := range th {
			f()
		}
	}()
	t.Cleanup(func() { close(th) })
	return th
}

// start runs f on the thread and returns a channel closed when it is done.
func (th taskThread) start(f func()) <-chan struct{} {
	done := make(chan struct{})
	th <- func() { f(); close(done) }
	return done
}

func (th taskThread) run(f func()) { <-th.start(f) }

// doneWithin reports whether done is closed within d.
func doneWithin(done <-chan struct{}, d time.Duration) bool {
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

// TestVCPUPool runs two contexts, on two threads, on a machine with one
// vCPU, in both modes: a context whose task is idle lends its vCPU (the
// other takes it, and the idle one's FP registers survive on it: xmm0 is
// set before and read after), a context that needs a vCPU waits while the
// only one is busy and gets it when its holder goes idle, and a holder
// spinning in user code is made to yield to a waiting context.
func TestVCPUPool(t *testing.T) {
	inBothModes(t, func(t *testing.T, k *KVM, ring0Mode bool) {
		m, mem, err := NewMachine(k, Config{MemLimit: 64 << 20, NumCPU: 1, Ring0: ring0Mode})
		require.NoError(t, err)
		program := func(code ...byte) platform.AddressSpace {
			page, err := mem.Alloc()
			require.NoError(t, err)
			copy(memfile.Page(page), code)
			as, err := m.NewAddressSpace()
			require.NoError(t, err)
			_, err = as.Tables().Map(0x400000, page, memfile.PageSize, pagetables.Opts{Exec: true, User: true})
			require.NoError(t, err)
			return as
		}
		asA := program(
			0xb8, 0x27, 0, 0, 0, // mov $39, %eax
			0x0f, 0x05, // syscall
			0x66, 0x48, 0x0f, 0x6e, 0xc0, // movq %rax, %xmm0
			0xb8, 0x27, 0, 0, 0, // mov $39, %eax
			0x0f, 0x05, // syscall
			0x66, 0x48, 0x0f, 0x7e, 0xc3, // movq %xmm0, %rbx
			0x0f, 0x0b, // ud2
		)
		asB := program(
			0x66, 0x48, 0x0f, 0x6e, 0xc0, // movq %rax, %xmm0
			0x0f, 0x0b, // ud2
		)
		asSpin := program(0xeb, 0xfe) // jmp .
		defer asA.Release()
		defer asB.Release()
		defer asSpin.Release()
		thA, thB := newTaskThread(t), newTaskThread(t)
		var ctxA, ctxB platform.Context
		thA.run(func() { ctxA, err = m.NewContext() })
		require.NoError(t, err)
		thB.run(func() { ctxB, err = m.NewContext() })
		require.NoError(t, err)
		steals := func() uint64 { return m.Stats()["vcpu.steals"] }

		// A runs to its second syscall, with xmm0 set, and waits.
		regsA := platform.Regs{RIP: 0x400000, RSP: 0x7ffff000, RFLAGS: 0x202}
		var evs [2]platform.Event
		thA.run(func() {
			evs[0], err = switchOn(ctxA, asA, &regsA)
			if err != nil {
				return
			}
			regsA.RAX, regsA.RIP = 0x1122334455, regsA.RCX
			evs[1], err = switchOn(ctxA, asA, &regsA)
			ctxA.(platform.Idler).Idle()
		})
		require.NoError(t, err)
		require.Equal(t, platform.EventSyscall, evs[0].Kind)
		require.Equal(t, platform.EventSyscall, evs[1].Kind)
		require.Zero(t, steals())

		// B takes the vCPU and clobbers xmm0 on it.
		regsB := platform.Regs{RIP: 0x400000, RSP: 0x7ffff000, RFLAGS: 0x202, RAX: 0xdead}
		var evB platform.Event
		thB.run(func() {
			evB, err = switchOn(ctxB, asB, &regsB)
			ctxB.(platform.Idler).Idle()
		})
		require.NoError(t, err)
		require.Equal(t, platform.EventException, evB.Kind, "%+v", evB)
		require.Equal(t, uint64(1), steals(), "B should have taken A's idle vCPU")

		// A takes it back and finds its xmm0.
		thA.run(func() {
			regsA.RIP = regsA.RCX
			evs[0], err = switchOn(ctxA, asA, &regsA)
		})
		require.NoError(t, err)
		require.Equal(t, platform.EventException, evs[0].Kind, "%+v", evs[0])
		require.Equal(t, uint64(6), evs[0].Vector)
		require.Equal(t, uint64(0x1122334455), regsA.RBX, "A's xmm0 after its vCPU served B")
		require.Equal(t, uint64(2), steals())

		// A holds the vCPU (busy in the kernel): B waits in line, and
		// an Interrupt gets it out of the line without a vCPU.
		regsB = platform.Regs{RIP: 0x400000, RSP: 0x7ffff000, RFLAGS: 0x202}
		var errB error
		done := thB.start(func() { evB, errB = ctxB.Switch(asB, &regsB) })
		require.False(t, doneWithin(done, 100*time.Millisecond), "B ran while A held the only vCPU")
		ctxB.Interrupt()
		require.True(t, doneWithin(done, 20*time.Second), "an Interrupt did not get B out of the line")
		require.NoError(t, errB)
		require.Equal(t, platform.EventInterrupted, evB.Kind)
		require.Equal(t, uint64(0x400000), regsB.RIP, "B never ran")

		// Still in line: B gets the vCPU once A is idle.
		done = thB.start(func() { evB, errB = switchOn(ctxB, asB, &regsB) })
		require.False(t, doneWithin(done, 100*time.Millisecond), "B ran while A held the only vCPU")
		thA.run(func() { ctxA.(platform.Idler).Idle() })
		<-done
		require.NoError(t, errB)
		require.Equal(t, platform.EventException, evB.Kind, "%+v", evB)
		require.Equal(t, uint64(3), steals())
		thB.run(func() { ctxB.(platform.Idler).Idle() })

		// A spins in user code: B, waiting, has it yield the vCPU.
		regsA = platform.Regs{RIP: 0x400000, RSP: 0x7ffff000, RFLAGS: 0x202}
		var stop atomic.Bool
		var errA error
		var evA platform.Event
		spinning := make(chan struct{})
		doneA := thA.start(func() {
			for first := true; ; first = false {
				evA, errA = ctxA.Switch(asSpin, &regsA)
				if first {
					close(spinning)
				}
				if errA != nil || evA.Kind != platform.EventInterrupted || stop.Load() {
					return
				}
			}
		})
		// A takes the vCPU from the idle B.
		require.Eventually(t, func() bool { return steals() == 4 }, 20*time.Second, time.Millisecond)
		// B waits; A is kicked out of user code and yields.
		regsB = platform.Regs{RIP: 0x400000, RSP: 0x7ffff000, RFLAGS: 0x202}
		doneB := thB.start(func() {
			evB, errB = switchOn(ctxB, asB, &regsB)
			ctxB.Release()
		})
		require.True(t, doneWithin(doneB, 20*time.Second), "B never got the vCPU from a spinning A")
		require.NoError(t, errB)
		require.Equal(t, platform.EventException, evB.Kind, "B behind a spinning A: %+v", evB)
		<-spinning
		stop.Store(true)
		ctxA.Interrupt()
		<-doneA
		require.NoError(t, errA)
		require.Equal(t, platform.EventInterrupted, evA.Kind)
		require.Equal(t, uint64(0x400000), regsA.RIP, "A was stopped in its loop")
		thA.run(func() { ctxA.Release() })
	})
}
