package vmm

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"ringbox/guestkernel/memfile"
	"ringbox/guestkernel/platform"
	"ringbox/ring0"
	"ringbox/ring0/pagetables"
)

// userProgram makes an address space with code at 0x400000, user mode
// and executable.
func userProgram(t *testing.T, m *Machine, mem *memfile.File, code ...byte) platform.AddressSpace {
	t.Helper()
	page, err := mem.Alloc()
	require.NoError(t, err)
	copy(memfile.Page(page), code)
	as, err := m.NewAddressSpace()
	require.NoError(t, err)
	_, err = as.Tables().Map(0x400000, page, memfile.PageSize, pagetables.Opts{Exec: true, User: true})
	require.NoError(t, err)
	return as
}

// twoTasks makes two contexts of m, each on a task thread of its own.
func twoTasks(t *testing.T, m *Machine) (thA, thB taskThread, ctxA, ctxB platform.Context) {
	t.Helper()
	thA, thB = newTaskThread(t), newTaskThread(t)
	var err error
	thA.run(func() { ctxA, err = m.NewContext() })
	require.NoError(t, err)
	thB.run(func() { ctxB, err = m.NewContext() })
	require.NoError(t, err)
	return thA, thB, ctxA, ctxB
}

// holdOf is a context's claim on a slot, in either mode.
func holdOf(ctx platform.Context) *hold {
	if c, ok := ctx.(*ring0Context); ok {
		return c.h
	}
	return ctx.(*exitContext).h
}

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
		program := func(code ...byte) platform.AddressSpace { return userProgram(t, m, mem, code...) }
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
		thA, thB, ctxA, ctxB := twoTasks(t, m)
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

// injectPageFault queues a write page fault on v, as KVM holds one whose
// delivery a signal cut short.
func injectPageFault(t *testing.T, v *VCPU) {
	require.NoError(t, v.setEvents(&vcpuEvents{excInjected: 1, excNr: 14, excHasErr: 1, excErr: 6}))
	q, err := v.PendingEvent()
	require.NoError(t, err)
	require.True(t, q, "KVM does not report the injected page fault")
}

// TestStealDropsQueuedEvent: a context stopped by a kick in user mode
// whose vCPU still holds an exception to deliver (KVM keeps it through a
// register reset) goes idle; the context that takes its vCPU must start
// clean, not take the other program's fault in the entry code.
func TestStealDropsQueuedEvent(t *testing.T) {
	require.Equal(t, 64, int(unsafe.Sizeof(vcpuEvents{})), "struct kvm_vcpu_events")
	inBothModes(t, func(t *testing.T, k *KVM, ring0Mode bool) {
		m, mem, err := NewMachine(k, Config{MemLimit: 64 << 20, NumCPU: 1, Ring0: ring0Mode})
		require.NoError(t, err)
		program := func(code ...byte) platform.AddressSpace { return userProgram(t, m, mem, code...) }
		asSpin := program(0xeb, 0xfe) // jmp .
		asB := program(0x0f, 0x0b)    // ud2
		defer asSpin.Release()
		defer asB.Release()
		thA, thB, ctxA, ctxB := twoTasks(t, m)

		// A spins until kicked, then its vCPU gets a fault to deliver
		// and A goes idle.
		regsA := platform.Regs{RIP: 0x400000, RSP: 0x7ffff000, RFLAGS: 0x202}
		var evA platform.Event
		doneA := thA.start(func() {
			evA, err = ctxA.Switch(asSpin, &regsA)
			if err == nil {
				injectPageFault(t, holdOf(ctxA).vcpu.Load())
				ctxA.(platform.Idler).Idle()
			}
		})
		time.Sleep(50 * time.Millisecond)
		ctxA.Interrupt()
		require.True(t, doneWithin(doneA, 20*time.Second), "A was not stopped by a kick")
		require.NoError(t, err)
		require.Equal(t, platform.EventInterrupted, evA.Kind)

		// B takes A's vCPU and runs its own program.
		regsB := platform.Regs{RIP: 0x400000, RSP: 0x7ffff000, RFLAGS: 0x202}
		var evB platform.Event
		thB.run(func() { evB, err = switchOn(ctxB, asB, &regsB) })
		require.NoError(t, err, "B on a vCPU that held A's page fault")
		require.Equal(t, platform.EventException, evB.Kind, "%+v", evB)
		require.Equal(t, uint64(6), evB.Vector)
		require.Equal(t, uint64(1), m.Stats()["vcpu.steals"])
		thB.run(func() { ctxB.Release() })
		thA.run(func() { ctxA.Release() })
	})
}

// TestKickOnTheWayIn: an Interrupt that reaches a context while its vCPU
// is still on its way to user mode (setting up, switching address space,
// in the entry code) must stop the program once it runs, even a program
// that never stops by itself (jmp .). Kicks at varied moments after
// Switch starts; each must end that Switch. The address space alternates,
// so a context stopped in user mode by the last kick must switch roots
// on its way back. (In ring0 mode a lost kick would also be caught, later,
// by Go's preemption of a goroutine that runs 10 ms: the VMM loop stops
// the program for it. Exit mode has no such backstop.)
func TestKickOnTheWayIn(t *testing.T) {
	inBothModes(t, func(t *testing.T, k *KVM, ring0Mode bool) {
		m, mem, err := NewMachine(k, Config{MemLimit: 64 << 20, NumCPU: 1, Ring0: ring0Mode})
		require.NoError(t, err)
		var spaces [2]platform.AddressSpace
		for i := range spaces {
			spaces[i] = userProgram(t, m, mem, 0xeb, 0xfe) // jmp .
			defer spaces[i].Release()
		}
		th := newTaskThread(t)
		var ctx platform.Context
		th.run(func() { ctx, err = m.NewContext() })
		require.NoError(t, err)
		defer th.run(func() { ctx.Release() })
		for i := 0; i < 60; i++ {
			regs := platform.Regs{RIP: 0x400000, RSP: 0x7ffff000, RFLAGS: 0x202}
			var ev platform.Event
			var errS error
			started := make(chan struct{})
			done := th.start(func() {
				close(started)
				ev, errS = ctx.Switch(spaces[i%2], &regs)
			})
			<-started
			// From at once to a few hundred microseconds in: the
			// entry's set-up, the address-space switch, user mode.
			time.Sleep(time.Duration(i%12) * 25 * time.Microsecond)
			ctx.Interrupt()
			if !doneWithin(done, 10*time.Second) {
				ctx.Interrupt() // let the thread go before failing
				doneWithin(done, 10*time.Second)
				t.Fatalf("kick %d (%v after Switch started) was lost: the program ran on", i, time.Duration(i%12)*25*time.Microsecond)
			}
			require.NoError(t, errS)
			require.Equal(t, platform.EventInterrupted, ev.Kind, "kick %d: %+v", i, ev)
		}
	})
}

// TestRing0KickedThenBounce: a program stopped by a kick in user mode,
// its task idle (the vCPU restarted through the entry code), and a kick
// that arrives on the way back in: the entry code returns to Go code in
// the guest, which must then be taken for Go code (its host syscalls
// bounce), not for the program the last stop left "in user mode".
func TestRing0KickedThenBounce(t *testing.T) {
	k := openKVM(t)
	defer k.Close()
	if !k.Ring0Capable() {
		t.Skip("ring0 mode: " + k.Ring0Unavailable())
	}
	m, mem, err := NewMachine(k, Config{MemLimit: 64 << 20, NumCPU: 1, Ring0: true})
	require.NoError(t, err)
	as := userProgram(t, m, mem, 0xeb, 0xfe) // jmp .
	defer as.Release()
	th := newTaskThread(t)
	var ctx platform.Context
	th.run(func() { ctx, err = m.NewContext() })
	require.NoError(t, err)
	defer th.run(func() { ctx.Release() })
	regs := platform.Regs{RIP: 0x400000, RSP: 0x7ffff000, RFLAGS: 0x202}
	spin := func() {
		var ev platform.Event
		var errS error
		done := th.start(func() { ev, errS = ctx.Switch(as, &regs) })
		time.Sleep(20 * time.Millisecond)
		ctx.Interrupt()
		require.True(t, doneWithin(done, 10*time.Second), "the kick did not stop the program")
		require.NoError(t, errS)
		require.Equal(t, platform.EventInterrupted, ev.Kind, "%+v", ev)
	}
	spin()
	var ev platform.Event
	var pid int
	th.run(func() {
		ctx.(platform.Idler).Idle()
		testBeforeEntry = func(cpu *ring0.CPU) { atomic.StoreUint64(&cpu.Kick, 1) }
		ev, err = ctx.Switch(as, &regs)
		testBeforeEntry = nil
		if err == nil {
			pid = unix.Getpid() // from the guest: a bounce
		}
	})
	require.NoError(t, err)
	require.Equal(t, platform.EventInterrupted, ev.Kind)
	require.Equal(t, unix.Getpid(), pid)
	require.Equal(t, uint64(0x400000), regs.RIP, "the program did not run")
	spin()
}

// TestYieldGivesSlot: a context busy in the kernel that yields
// (sched_yield) while another waits for the only vCPU lets that one run
// first, at once; without a waiter Yield changes nothing. (In ring0 mode
// the pool's 10 ms preemption tends to ask the same before A's Switch, so
// there the order holds without Yield too; exit mode is the check.)
func TestYieldGivesSlot(t *testing.T) {
	inBothModes(t, func(t *testing.T, k *KVM, ring0Mode bool) {
		m, mem, err := NewMachine(k, Config{MemLimit: 64 << 20, NumCPU: 1, Ring0: ring0Mode})
		require.NoError(t, err)
		// Only the asked-for hand-over: under slow emulation the 10 ms
		// timer would also ask B to yield before its ud2, and A's ud2
		// would come first.
		m.mu.Lock()
		m.pool.slice = time.Hour
		m.mu.Unlock()
		program := func(code ...byte) platform.AddressSpace { return userProgram(t, m, mem, code...) }
		asA := program(0xb8, 0x27, 0, 0, 0, 0x0f, 0x05, 0x0f, 0x0b) // mov $39, %eax; syscall; ud2
		asB := program(0x0f, 0x0b)                                  // ud2
		defer asA.Release()
		defer asB.Release()
		thA, thB, ctxA, ctxB := twoTasks(t, m)
		queued := func() int {
			m.mu.Lock()
			defer m.mu.Unlock()
			return len(m.pool.queue)
		}

		// A takes the vCPU and stops at its syscall, busy in the kernel;
		// a Yield with nobody waiting changes nothing.
		regsA := platform.Regs{RIP: 0x400000, RSP: 0x7ffff000, RFLAGS: 0x202}
		var evA platform.Event
		thA.run(func() {
			evA, err = switchOn(ctxA, asA, &regsA)
			ctxA.(platform.Yielder).Yield()
		})
		require.NoError(t, err)
		require.Equal(t, platform.EventSyscall, evA.Kind)
		require.False(t, holdOf(ctxA).yield.Load(), "a Yield with no waiter asked to yield")

		// B waits in line; A yields and goes on: B runs first.
		regsB := platform.Regs{RIP: 0x400000, RSP: 0x7ffff000, RFLAGS: 0x202}
		var evB platform.Event
		var errB, errA error
		var order []string
		var mu sync.Mutex
		note := func(s string) { mu.Lock(); order = append(order, s); mu.Unlock() }
		doneB := thB.start(func() {
			evB, errB = switchOn(ctxB, asB, &regsB)
			note("B") // before B lets the vCPU go
			if errB == nil {
				ctxB.(platform.Idler).Idle()
			}
		})
		require.Eventually(t, func() bool { return queued() == 1 }, 10*time.Second, time.Millisecond)
		doneA := thA.start(func() {
			ctxA.(platform.Yielder).Yield()
			regsA.RIP = regsA.RCX
			evA, errA = switchOn(ctxA, asA, &regsA)
			note("A")
		})
		require.True(t, doneWithin(doneB, 10*time.Second), "B did not get the vCPU A yielded")
		require.True(t, doneWithin(doneA, 10*time.Second), "A did not get the vCPU back")
		require.NoError(t, errB)
		require.NoError(t, errA)
		require.Equal(t, platform.EventException, evB.Kind, "%+v", evB)
		require.Equal(t, platform.EventException, evA.Kind, "%+v", evA)
		require.Equal(t, []string{"B", "A"}, order)
		thA.run(func() { ctxA.Release() })
		thB.run(func() { ctxB.Release() })
	})
}
