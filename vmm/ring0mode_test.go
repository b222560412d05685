package vmm

import (
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

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
	ev, err := switchOn(ctx, as, &regs)
	require.NoError(t, err)
	require.Equal(t, platform.EventSyscall, ev.Kind)
	require.True(t, ring0.InGuest(ctx.cpu), "the Go code should now run in the guest")
	require.Equal(t, uint64(39), regs.RAX)
	require.Equal(t, uint64(0x400007), regs.RCX)
	require.Equal(t, uint64(0x1234000), regs.FSBase)

	// What follows must not need the host: the page to map is allocated
	// now, and host syscalls the Go code may make in between (bounces,
	// one KVM_RUN each) are counted apart.
	data, err := mem.Alloc()
	require.NoError(t, err)
	r0 := &ctx.cpu.R0
	entries, bounces, intrs := r0Counters(r0)
	regs.RAX = 4242
	ev, err = switchOn(ctx, as, &regs)
	require.NoError(t, err)
	require.Equal(t, platform.EventSyscall, ev.Kind, "event %+v", ev)
	require.Equal(t, uint64(4242), regs.RAX)
	regs.RAX = 4343
	ev, err = switchOn(ctx, as, &regs)
	require.NoError(t, err)
	require.Equal(t, platform.EventPageFault, ev.Kind, "event %+v", ev)
	require.Equal(t, uint64(0x200000), ev.Addr)
	require.Equal(t, uint64(4343), regs.RBX)
	_, err = as.Tables().Map(0x200000, data, memfile.PageSize, pagetables.Opts{Write: true, User: true})
	require.NoError(t, err)
	ev, err = switchOn(ctx, as, &regs)
	require.NoError(t, err)
	require.Equal(t, platform.EventException, ev.Kind, "event %+v", ev)
	require.Equal(t, uint64(6), ev.Vector)
	nowEntries, nowBounces, nowIntrs := r0Counters(r0)
	require.Equal(t, entries+(nowBounces-bounces)+(nowIntrs-intrs), nowEntries,
		"no KVM_RUN after the first entry but for bounces (%d) and host signals (%d); stats %v",
		nowBounces-bounces, nowIntrs-intrs, m.Stats())
	ctx.Release()
	require.False(t, ring0.InGuest(ctx.cpu))
	t.Logf("stats: %v", m.Stats())
}

// TestRing0ModeUnderGC makes many syscalls in ring0 mode while other
// goroutines allocate and collect: the runtime must stay consistent.
func TestRing0ModeUnderGC(t *testing.T) {
	k := openKVM(t)
	defer k.Close()
	m, mem, err := NewMachine(k, Config{MemLimit: 256 << 20, NumCPU: 2, Ring0: true})
	require.NoError(t, err)
	stop := make(chan struct{})
	go func() {
		var keep [][]byte
		for {
			select {
			case <-stop:
				return
			default:
			}
			keep = append(keep, make([]byte, 64<<10))
			if len(keep) > 100 {
				keep = nil
				runtime.GC()
			}
		}
	}()
	defer close(stop)
	done := make(chan error)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		as, err := m.NewAddressSpace()
		if err != nil {
			done <- err
			return
		}
		pctx, err := m.NewContext()
		if err != nil {
			done <- err
			return
		}
		code, _ := mem.Alloc()
		copy(memfile.Page(code), []byte{0x0f, 0x05, 0xeb, 0xfc}) // loop: syscall; jmp loop
		as.Tables().Map(0x400000, code, memfile.PageSize, pagetables.Opts{Exec: true, User: true})
		regs := platform.Regs{RIP: 0x400000, RSP: 0x7ffff000, RFLAGS: 0x202}
		var sink [][]byte
		for i := 0; i < 20000; i++ {
			ev, err := pctx.Switch(as, &regs)
			if err == nil && ev.Kind == platform.EventInterrupted {
				continue // Go's scheduler took the thread back for a while
			}
			if err != nil || ev.Kind != platform.EventSyscall {
				done <- fmt.Errorf("switch %d: %v %+v", i, err, ev)
				return
			}
			regs.RIP = regs.RCX
			sink = append(sink, make([]byte, 256)) // allocate in the guest
			if len(sink) > 1000 {
				sink = nil
			}
		}
		pctx.Release()
		as.Release()
		done <- nil
	}()
	require.NoError(t, <-done)
	runtime.GC()
	t.Logf("stats: %v", m.Stats())
}

// TestRing0ModeUserSeesOnlyItsMemory: an address that is mapped on the
// host (and so in the kernel half) must fault for the program.
func TestRing0ModeUserSeesOnlyItsMemory(t *testing.T) {
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
	defer pctx.Release()
	hostVar := new(uint64)
	*hostVar = 0x5555
	addr := uint64(uintptr(unsafe.Pointer(hostVar)))
	code, _ := mem.Alloc()
	prog := []byte{0x48, 0xa1} // movabs addr, %rax
	for i := 0; i < 8; i++ {
		prog = append(prog, byte(addr>>(8*i)))
	}
	prog = append(prog, 0x0f, 0x05) // syscall
	copy(memfile.Page(code), prog)
	as.Tables().Map(0x400000, code, memfile.PageSize, pagetables.Opts{Exec: true, User: true})
	regs := platform.Regs{RIP: 0x400000, RSP: 0x7ffff000, RFLAGS: 0x202}
	for i := 0; i < 3; i++ {
		ev, err := switchOn(pctx, as, &regs)
		require.NoError(t, err)
		require.Equal(t, platform.EventPageFault, ev.Kind, "round %d: the program read host memory (rax=%#x)", i, regs.RAX)
		require.Equal(t, addr, ev.Addr)
	}
	runtime.KeepAlive(hostVar)
}

// TestRing0ModeSelfKick: Go code in the guest interrupts its own vCPU (as
// exit_group does), continues, then leaves.
func TestRing0ModeSelfKick(t *testing.T) {
	k := openKVM(t)
	defer k.Close()
	m, mem, err := NewMachine(k, Config{MemLimit: 256 << 20, NumCPU: 2, Ring0: true})
	require.NoError(t, err)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	done := make(chan error)
	// Made on this goroutine, used on another (as the CLI does).
	pctx, err := m.NewContext()
	require.NoError(t, err)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		as, _ := m.NewAddressSpace()
		code, _ := mem.Alloc()
		copy(memfile.Page(code), []byte{0x0f, 0x05, 0xeb, 0xfc}) // loop: syscall; jmp loop
		as.Tables().Map(0x400000, code, memfile.PageSize, pagetables.Opts{Exec: true, User: true})
		regs := platform.Regs{RIP: 0x400000, RSP: 0x7ffff000, RFLAGS: 0x202}
		for i := 0; i < 5; i++ {
			ev, err := pctx.Switch(as, &regs)
			if err != nil {
				done <- err
				return
			}
			if i == 2 {
				pctx.Interrupt()
			}
			_ = ev
			regs.RIP = regs.RCX
		}
		pctx.Release()
		as.Release()
		done <- nil
	}()
	require.NoError(t, <-done)
	for i := 0; i < 20; i++ {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRing0ModeCPUBoundProgram: while the program spins in user mode the
// task goroutine holds its P, and Go's preemption still stops it: other
// goroutines keep running and garbage collections complete.
func TestRing0ModeCPUBoundProgram(t *testing.T) {
	k := openKVM(t)
	defer k.Close()
	m, mem, err := NewMachine(k, Config{MemLimit: 256 << 20, NumCPU: 2, Ring0: true})
	require.NoError(t, err)
	pctx, err := m.NewContext()
	require.NoError(t, err)
	done := make(chan platform.Event, 1)
	var interrupted atomic.Bool
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		as, _ := m.NewAddressSpace()
		code, _ := mem.Alloc()
		copy(memfile.Page(code), []byte{0x0f, 0x05, 0xeb, 0xfe}) // syscall; 1: jmp 1b
		as.Tables().Map(0x400000, code, memfile.PageSize, pagetables.Opts{Exec: true, User: true})
		regs := platform.Regs{RIP: 0x400000, RSP: 0x7ffff000, RFLAGS: 0x202}
		// The syscall: now in the guest. (Go's preemption may stop the
		// program before it: then it goes on from where it was.)
		for ev, err := pctx.Switch(as, &regs); err == nil && ev.Kind == platform.EventInterrupted; {
			ev, err = pctx.Switch(as, &regs)
		}
		regs.RIP = regs.RCX
		// Spins until interrupted: Go's preemption stops it too (and the
		// goroutine yields), then it goes on, until Interrupt below.
		var ev platform.Event
		var err error
		for !interrupted.Load() {
			ev, err = pctx.Switch(as, &regs)
			if err != nil || ev.Kind != platform.EventInterrupted {
				break
			}
		}
		if err != nil || ev.Kind != platform.EventInterrupted {
			t.Errorf("the spinning program stopped: %+v, error %v, RIP %#x", ev, err, regs.RIP)
		}
		pctx.Release()
		as.Release()
		done <- ev
	}()
	var gcs uint32
	var ticks int
	start := time.Now()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	gcs0 := ms.NumGC
	for time.Since(start) < 1500*time.Millisecond {
		time.Sleep(10 * time.Millisecond)
		ticks++
		if ticks%10 == 0 {
			runtime.GC()
		}
	}
	runtime.ReadMemStats(&ms)
	gcs = ms.NumGC - gcs0
	interrupted.Store(true)
	pctx.Interrupt()
	select {
	case ev := <-done:
		require.Equal(t, platform.EventInterrupted, ev.Kind)
	case <-time.After(5 * time.Second):
		t.Fatal("the spinning program was not interrupted")
	}
	t.Logf("ticks=%d GCs=%d in %v", ticks, gcs, time.Since(start))
	// The program runs holding its goroutine's P; Go's scheduler
	// preempts it (10 ms slices), so with one P (a one-CPU host) the
	// sleeper gets a turn about every slice, not every 10 ms sleep.
	require.Greater(t, ticks, 15, "a goroutine stalled while the program ran")
	// Each runtime.GC above returned: its stops of the world got past
	// the spinning program.
	require.GreaterOrEqual(t, gcs, uint32(ticks/10), "garbage collections stalled while the program ran")
}

// switchOn is Switch, going on past EventInterrupted: in ring0 mode Go's

// newRing0Rig makes a ring0-mode machine (released when the test ends),
// an address space with code at 0x400000 and a context, on this test's
// thread (locked until the cleanups, which must run there, are done), and
// the registers to start the code with.
func newRing0Rig(t *testing.T, code []byte) (*Machine, *memfile.File, platform.AddressSpace, *ring0Context, platform.Regs) {
	t.Helper()
	runtime.LockOSThread()
	t.Cleanup(runtime.UnlockOSThread)
	k := openKVM(t)
	t.Cleanup(func() { k.Close() })
	m, mem, err := NewMachine(k, Config{MemLimit: 256 << 20, NumCPU: 2, Ring0: true})
	require.NoError(t, err)
	as, err := m.NewAddressSpace()
	require.NoError(t, err)
	t.Cleanup(as.Release)
	pctx, err := m.NewContext()
	require.NoError(t, err)
	ctx := pctx.(*ring0Context)
	t.Cleanup(ctx.Release)
	page, err := mem.Alloc()
	require.NoError(t, err)
	copy(memfile.Page(page), code)
	_, err = as.Tables().Map(0x400000, page, memfile.PageSize, pagetables.Opts{Exec: true, User: true})
	require.NoError(t, err)
	return m, mem, as, ctx, platform.Regs{RIP: 0x400000, RSP: 0x7ffff000, RFLAGS: 0x202}
}

// scheduler may stop the program at any time for its goroutine to yield.
func switchOn(ctx platform.Context, as platform.AddressSpace, regs *platform.Regs) (platform.Event, error) {
	for {
		ev, err := ctx.Switch(as, regs)
		if err != nil || ev.Kind != platform.EventInterrupted {
			return ev, err
		}
	}
}

// TestRing0ModeLeaveGuest: LeaveGuest moves the task thread's Go code out
// of the guest (once: a second call finds it on the host), the program
// goes on from the next Switch, and memory the host mapped meanwhile,
// which the entry after an asked-for leave does not mirror, is reached
// from the guest after a fault's leave.
func TestRing0ModeLeaveGuest(t *testing.T) {
	m, _, as, ctx, regs := newRing0Rig(t, []byte{
		0x0f, 0x05, // syscall
		0x0f, 0x05, // syscall
		0x0f, 0x05, // syscall
		0x0f, 0x0b, // ud2
	})
	require.False(t, LeaveGuest(), "no ring0 code runs on this thread yet")
	ev, err := switchOn(ctx, as, &regs)
	require.NoError(t, err)
	require.Equal(t, platform.EventSyscall, ev.Kind)
	require.True(t, ring0.InGuest(ctx.cpu))

	leaves := m.Stats()["leave"]
	require.True(t, LeaveGuest(), "left the guest")
	require.False(t, ring0.InGuest(ctx.cpu))
	require.False(t, LeaveGuest(), "already on the host")
	// Host memory that the guest has not seen yet.
	fresh, err := syscall.Mmap(-1, 0, 8<<20, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANONYMOUS)
	require.NoError(t, err)
	defer syscall.Munmap(fresh)

	regs.RAX = 7
	ev, err = switchOn(ctx, as, &regs)
	require.NoError(t, err)
	require.Equal(t, platform.EventSyscall, ev.Kind, "event %+v", ev)
	require.Equal(t, uint64(7), regs.RAX, "the program went on")
	require.True(t, ring0.InGuest(ctx.cpu))
	// In the guest: the fresh mapping faults, the code leaves, and it
	// writes there on the host.
	fresh[4<<20] = 42
	regs.RAX = 8
	ev, err = switchOn(ctx, as, &regs)
	require.NoError(t, err)
	require.Equal(t, platform.EventSyscall, ev.Kind, "event %+v", ev)
	require.Equal(t, uint64(8), regs.RAX)
	// The entry after the fault mirrored it: now reached in the guest.
	require.True(t, ring0.InGuest(ctx.cpu))
	fresh[4<<20+4096] = 43
	require.True(t, ring0.InGuest(ctx.cpu), "no leave for mirrored memory")
	require.Equal(t, byte(42), fresh[4<<20])
	ev, err = switchOn(ctx, as, &regs)
	require.NoError(t, err)
	require.Equal(t, platform.EventException, ev.Kind, "event %+v", ev)
	require.GreaterOrEqual(t, m.Stats()["leave"], leaves+2, "the asked-for leave and the fault's")
}

// TestRing0ModeNewTopSlot: the kernel half gets a top-level slot's page
// only when host memory first appears there (not all 256 of the lower
// half at start, 1 MiB of the memory file), and an address space made
// before that sees the slot once the memory is mirrored.
func TestRing0ModeNewTopSlot(t *testing.T) {
	m, mem, as, ctx, regs := newRing0Rig(t, []byte{
		0x0f, 0x05, // syscall
		0x0f, 0x05, // syscall
		0x0f, 0x0b, // ud2
	})
	used, _ := mem.Used()
	t.Logf("memory file after set-up: %d KiB", used>>10)
	require.Less(t, used, uintptr(1<<20), "the lower half's top-level pages are not all made at start")
	ev, err := switchOn(ctx, as, &regs)
	require.NoError(t, err)
	require.Equal(t, platform.EventSyscall, ev.Kind)

	// Host memory in a 512 GiB slot nothing used so far.
	const far = 0x5a8000000000
	require.False(t, m.kernel.TopPresent(far))
	p, _, errno := syscall.Syscall6(syscall.SYS_MMAP, far, 4<<20, syscall.PROT_READ|syscall.PROT_WRITE,
		syscall.MAP_PRIVATE|syscall.MAP_ANONYMOUS|0x100000 /* MAP_FIXED_NOREPLACE */, ^uintptr(0), 0)
	if errno != 0 || p != far {
		t.Fatalf("mmap at %#x: %v (got %#x)", uintptr(far), errno, p)
	}
	defer syscall.Syscall(syscall.SYS_MUNMAP, far, 4<<20, 0)
	b := unsafe.Slice((*byte)(unsafe.Add(nil, p)), 4<<20)
	b[0] = 1 // in the guest: faults, leaves, done on the host
	require.False(t, ring0.InGuest(ctx.cpu), "the unmirrored slot made the code leave")
	ev, err = switchOn(ctx, as, &regs)
	require.NoError(t, err)
	require.Equal(t, platform.EventSyscall, ev.Kind, "event %+v", ev)
	require.True(t, m.kernel.TopPresent(far), "the entry mirrored the new memory")
	require.True(t, ring0.InGuest(ctx.cpu))
	b[1<<20] = 2
	require.True(t, ring0.InGuest(ctx.cpu), "the address space made before sees the new slot")
	require.Equal(t, byte(1), b[0])
	ev, err = switchOn(ctx, as, &regs)
	require.NoError(t, err)
	require.Equal(t, platform.EventException, ev.Kind, "event %+v", ev)
}

// r0Counters reads a vCPU's KVM_RUN entries, bounces and host signals as
// one snapshot. This code runs on that vCPU, so the counters move only
// while it is paused (a bounce it makes, a signal), each pause adding its
// bounce or signal and its entry together; a pause between two of the
// reads shows as a changed second snapshot, and the reads are made again.
func r0Counters(r0 *ring0.R0State) (entries, bounces, intrs uint64) {
	for {
		e, b, i := atomic.LoadUint64(&r0.Entries), atomic.LoadUint64(&r0.Bounces), atomic.LoadUint64(&r0.Intrs)
		if e == atomic.LoadUint64(&r0.Entries) && b == atomic.LoadUint64(&r0.Bounces) && i == atomic.LoadUint64(&r0.Intrs) {
			return e, b, i
		}
	}
}
