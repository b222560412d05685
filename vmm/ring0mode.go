package vmm

import (
	"fmt"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/bobuhiro11/gokvm/kvm"
	"golang.org/x/sys/unix"

	"ringbox/guestkernel/memfile"
	"ringbox/guestkernel/platform"
	"ringbox/ring0"
)

// vmmStackSize is the host stack of a ring0 context's VMM loop.
const vmmStackSize = 64 << 10

// setupRing0 prepares the kernel half for ring0 mode: the host's current
// mappings are mirrored. A top-level slot of the lower half gets its page
// (and every address space its entry) only when host memory first appears
// in it (growTopLocked): all 256 at once would be 1 MiB of the memory
// file, for the four or five a Go process uses.
func (m *Machine) setupRing0() error {
	m.chunks = map[uintptr]bool{}
	m.mirroredRegions = map[[2]uintptr]struct{}{}
	return m.mapHost()
}

// ring0Context runs one task in ring0 mode: the task goroutine's code
// itself moves into the guest on its first Switch and handles the
// program's syscalls there.
type ring0Context struct {
	m     *Machine
	h     *hold
	vcpu  *VCPU // the slot's vCPU and CPU page, valid while h holds it
	slot  int
	cpu   *ring0.CPU
	as    *addressSpace
	stack []byte
	rs    runState
	// reload: the slot is new to the context; the next entry switches to
	// its address space and flushes.
	reload bool
	// fresh: no entry since the context took its slot (prepareHost).
	fresh bool

	tid int
	// hostFS is the task thread's FS base, once it took a slot (read by
	// Interrupt from other goroutines).
	hostFS atomic.Uint64
	leaves uint64 // R0.Leaves seen
	// asked is set by LeaveGuest just before the leave it asks for: the
	// next entry lets the parked vCPU go on by itself (ReasonResume) and
	// mirrors host memory only if the goroutine stack moved out of it
	// (prepareHost); other memory that appeared meanwhile faults and
	// leaves again, and that entry mirrors it.
	asked      bool
	userInKVM  bool // stopped by a kick in user mode: registers in the vCPU
	needReset  bool // the vCPU sits after a leave and must restart at r0ToUser
	fullReset  bool // ... and it sits in user mode: supervisor state too
	bounceSeen uint64
	// pvmGS is the program's GS base in the vCPU's KERNEL_GS_BASE, where
	// PVM keeps it while the vCPU is in supervisor mode (and swaps it in
	// on the return to user mode). The x86 entry code loads it itself.
	pvmGS uint64
}

func (m *Machine) newRing0Context() (*ring0Context, error) {
	stack, err := m.getStack()
	if err != nil {
		return nil, err
	}
	c := &ring0Context{m: m, slot: -1, stack: stack}
	c.h = m.newHold(c.saveFP, &c.rs)
	c.rs.kick = c.h.interrupt
	return c, nil
}

// maxSpareStacks bounds the VMM stacks kept for new contexts.
const maxSpareStacks = 64

// getStack returns a VMM stack for a new context: a released context's
// (no new host mapping, which the next entry would have to mirror) or a
// new one.
func (m *Machine) getStack() ([]byte, error) {
	m.mu.Lock()
	if n := len(m.spareStacks); n > 0 {
		s := m.spareStacks[n-1]
		m.spareStacks = m.spareStacks[:n-1]
		m.mu.Unlock()
		return s, nil
	}
	m.mu.Unlock()
	s, err := unix.Mmap(-1, 0, vmmStackSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_POPULATE)
	if err != nil {
		return nil, fmt.Errorf("VMM stack: %w", err)
	}
	return s, nil
}

// putStack keeps a released context's VMM stack for the next one, or
// unmaps it.
func (m *Machine) putStack(s []byte) {
	if s == nil {
		return
	}
	m.mu.Lock()
	if len(m.spareStacks) < maxSpareStacks {
		m.spareStacks = append(m.spareStacks, s)
		s = nil
	}
	m.mu.Unlock()
	if s != nil {
		unix.Munmap(s)
	}
}

// saveFP copies the program's FP state out of the slot for a context that
// takes it (m.mu held, c idle or yielding): from the save area, or from
// KVM when the program was stopped by a kick in user mode.
func (c *ring0Context) saveFP() []byte {
	size := c.m.FPLayout().Size
	if c.userInKVM {
		if fp, err := fpFromVCPU(c.vcpu, size); err == nil {
			return fp
		}
	}
	return append([]byte(nil), c.userXsave()[:size]...)
}

// take makes sure the context holds a slot, setting up one that is new to
// it: the vCPU at the entry code's way into user mode, and the CPU page's
// fields for this task's thread. It reports whether the slot is new.
func (c *ring0Context) take() (bool, error) {
	m := c.m
	sys, toUser := ring0.R0EntryPoints()
	if m.x86() {
		sys, toUser = ring0.X86R0EntryPoints()
	}
	slot, v, moved, err := c.h.takeSlot(sys, toUser)
	if err != nil || !moved {
		return false, err
	}
	cpu := m.region.CPU(slot)
	c.slot, c.vcpu, c.cpu = slot, v, cpu
	fail := func(err error) (bool, error) {
		c.h.drop()
		return false, err
	}
	text, vdso, err := ring0.HostCode()
	if err != nil {
		return fail(err)
	}
	ring0.SetHostCode(cpu, text, vdso)
	r0 := &cpu.R0
	r0.VcpuFD = uint64(v.fd.Fd())
	r0.RunAddr = uint64(uintptr(unsafe.Pointer(&v.mem[0])))
	r0.VMMStack = uint64(uintptr(unsafe.Pointer(&c.stack[0]))+vmmStackSize) &^ 15
	x := ring0.HostXCR0()
	r0.XMaskLo, r0.XMaskHi = x&0xffffffff, x>>32
	if c.tid == 0 {
		// The first slot: the context learns its task's thread, which
		// runs this (Switch).
		c.tid = unix.Gettid()
		var fs uint64
		if _, _, e := unix.RawSyscall(unix.SYS_ARCH_PRCTL, 0x1003 /* ARCH_GET_FS */, uintptr(unsafe.Pointer(&fs)), 0); e != 0 {
			return fail(fmt.Errorf("ARCH_GET_FS: %w", e))
		}
		c.hostFS.Store(fs)
		ring0Threads.Store(fs, c)
	}
	r0.HostFS = c.hostFS.Load()
	v.tid.Store(int32(c.tid))
	c.leaves, c.asked, c.userInKVM, c.needReset, c.fullReset = 0, false, false, false, false
	c.pvmGS = c.h.kgs // setupVCPU's, or the parked slot's
	c.reload, c.fresh = true, true
	if fp := c.h.fp; fp != nil {
		c.h.fp = nil
		if err := c.SetFPState(fp); err != nil {
			return fail(err)
		}
	}
	return true, nil
}

// Interrupt implements platform.Context. The task's own thread is running
// kernel code, not the program, so it needs no kick (and in the guest it
// must not touch the kvm_run page, which is not guest memory).
func (c *ring0Context) Interrupt() {
	if fs := c.hostFS.Load(); fs != 0 && ring0.FSBase() == fs {
		return
	}
	c.h.interrupt()
}

// inGuest reports whether the calling code runs in the guest on the
// context's slot. (A slot taken from the context while it was idle may
// have another context's code in the guest.)
func (c *ring0Context) inGuest() bool {
	fs := c.hostFS.Load()
	return c.cpu != nil && fs != 0 && c.cpu.R0.HostFS == fs &&
		ring0.FSBase() == fs && ring0.InGuest(c.cpu)
}

// Idle implements platform.Idler: the task is about to wait in the
// kernel. Its code leaves the guest (the one exit the wait's futex sleep
// would have cost as a bounce) and its vCPU may serve another context
// until it needs it again.
func (c *ring0Context) Idle() {
	if fs := c.hostFS.Load(); fs == 0 || ring0.FSBase() != fs {
		return // not the task's own thread, or it holds no slot yet
	}
	if c.inGuest() {
		c.asked = true
		ring0.Leave(c.cpu)
	}
	if c.userInKVM {
		// Stopped by a kick in user mode: the program's FP state is in
		// KVM. Move it to the save area, where the next entry restores
		// it (restarting the vCPU). If KVM refuses, it stays there, and
		// saveFP reads it from KVM.
		if fp, err := c.FPState(); err == nil {
			c.userInKVM = false
			if c.SetFPState(fp) == nil {
				c.needReset, c.fullReset = true, true
			} else {
				c.userInKVM = true
			}
		}
	}
	c.h.setIdle()
}

// Leave implements platform.Leaver: the task thread's code continues on
// the host (if it runs in the guest) until the next Switch, which lets
// the parked vCPU go on by itself.
func (c *ring0Context) Leave() {
	if c.inGuest() {
		c.asked = true
		ring0.Leave(c.cpu)
	}
}

// leftOnRequest reports whether the vCPU's last leave was one Go code
// asked for (LeaveGuest, Leave, Idle: r0Leave's request, not a fault's),
// which leaves it parked in the supervisor.
func (c *ring0Context) leftOnRequest() bool {
	return c.asked && c.cpu.R0.Req == ring0.ReasonLeave
}

// Yield implements platform.Yielder.
func (c *ring0Context) Yield() { c.h.offer() }

// Release implements platform.Context. It must run on the task's thread:
// the code continues on the host from here.
func (c *ring0Context) Release() {
	held := c.h.reclaim()
	var parked parkedSlot
	if held {
		// Code in the guest leaves the vCPU parked in the supervisor,
		// set up as a new one: the slot's next context need not set it
		// up again (takeSlot).
		// So does a leave Go code asked for (Leave, Idle) that no entry
		// has followed yet.
		left := c.cpu.R0.Leaves != c.leaves && c.leftOnRequest()
		parked = parkedSlot{ok: (c.inGuest() || left) && !c.userInKVM && !c.fullReset, kgs: c.pvmGS}
		ring0.Leave(c.cpu)
		// The slot's counters start again at zero for its next context.
		c.m.moveCounters(c.cpu)
	}
	if c.tid != 0 {
		ring0Threads.CompareAndDelete(c.hostFS.Load(), c)
	}
	c.rs.attach(c.as, nil)
	c.m.putStack(c.stack)
	c.stack = nil
	if held {
		if !parked.ok {
			// A parked vCPU keeps its root until the next context's
			// entry code switches away from it: the root stays pinned
			// (not freed with a dead address space) until then.
			c.m.setCurRoot(c.slot, 0)
		}
		c.h.dropParked(parked)
	}
}

// moveCounters moves a slot's counters to the machine's totals before the
// slot serves another context (Stats sums both: leaving them in the slot
// would count them twice once it is set up again).
func (m *Machine) moveCounters(cpu *ring0.CPU) {
	r0 := &cpu.R0
	m.exits.r0Bounces.Add(atomic.SwapUint64(&r0.Bounces, 0))
	m.exits.r0Entries.Add(atomic.SwapUint64(&r0.Entries, 0))
	m.exits.r0Intrs.Add(atomic.SwapUint64(&r0.Intrs, 0))
	m.exits.r0IntrUser.Add(atomic.SwapUint64(&r0.IntrUser, 0))
	for nr := range r0.BouncesBy {
		if atomic.LoadUint32(&r0.BouncesBy[nr]) != 0 {
			m.exits.r0BouncesBy[nr].Add(uint64(atomic.SwapUint32(&r0.BouncesBy[nr], 0)))
		}
	}
}

// Switch implements platform.Context.
func (c *ring0Context) Switch(pas platform.AddressSpace, regs *platform.Regs) (platform.Event, error) {
	as := pas.(*addressSpace)
	if c.h.yield.Load() {
		// Asked to give the slot up: leave it ready to take (out of the
		// guest, FP state in the save area).
		c.Idle()
	}
	inGuest := c.inGuest()
	kicked := c.h.kicked.Swap(false)
	if !inGuest {
		// On the host: take the slot back, or another one (code in the
		// guest holds its slot).
		if _, err := c.take(); err != nil {
			return platform.Event{}, err
		}
	}
	if kicked || c.h.takeKick() || c.h.slot < 0 {
		// Interrupted before the program ran: while waiting for a slot,
		// with no vCPU to kick, or in a way the vCPU's own flag missed
		// (a new slot's set-up). From here on the entry code stops on
		// the CPU page's Kick flag before it enters the program.
		return platform.Event{Kind: platform.EventInterrupted}, nil
	}
	cpu := c.cpu
	switched := as != c.as
	if switched || c.reload {
		if c.m.x86() {
			cpu.R0.KernCR3, cpu.R0.UserCR3 = uint64(as.root), uint64(as.root+memfile.PageSize)
		} else {
			cpu.NewCR3 = uint64(as.root)
		}
		if as != c.as {
			c.rs.attach(c.as, as)
			c.as = as
		}
		if c.reload {
			cpu.Flush = 1
			c.reload = false
		}
	}
	as.stale.Store(false)
	// Running user code in as from here on, as far as a shootdown is
	// concerned (shootdown.go); a flush it asked for is done on entry.
	flush := c.rs.enter(as)
	defer c.rs.leave()
	if flush {
		cpu.Flush = 1
	}
	// PVM: the program's GS base (arch_prctl) is the vCPU's
	// KERNEL_GS_BASE while it is in supervisor mode, written from the
	// host (the x86 entry code loads it from the CPU page).
	newGS := !c.m.x86() && regs.GSBase != c.pvmGS
	var pending []uintptr
	if inGuest {
		// Go code in the guest writes the page tables itself, so KVM
		// sees the zapping writes directly.
		c.zapNow(as)
	} else {
		// Table pages to zap: this address space's, and the machine's
		// freed ones (another process's, which no shootdown of this one
		// announced), so even an entry that needs no flush may have to
		// run the entry code.
		pending, _ = fillQueue(c.m, as, cpu)
	}
	if c.userInKVM && (flush || switched || newGS || cpu.QueueLen != 0) {
		// Stopped in user mode by a kick, but the TLB must be flushed,
		// table pages zapped, the root switched or the GS base set
		// first: enter through the
		// entry code instead. It restores the program's FP state from
		// the save area, so move it there from KVM.
		fp, err := c.FPState()
		if err != nil {
			return platform.Event{}, err
		}
		c.userInKVM = false
		if err := c.SetFPState(fp); err != nil {
			return platform.Event{}, err
		}
		c.needReset, c.fullReset = true, true
	}
	regs.RFLAGS = regs.RFLAGS&userFlagsMask | rflagsFixed
	if c.userInKVM {
		kr := kvm.Regs{
			RAX: regs.RAX, RBX: regs.RBX, RCX: regs.RCX, RDX: regs.RDX,
			RSI: regs.RSI, RDI: regs.RDI, RSP: regs.RSP, RBP: regs.RBP,
			R8: regs.R8, R9: regs.R9, R10: regs.R10, R11: regs.R11,
			R12: regs.R12, R13: regs.R13, R14: regs.R14, R15: regs.R15,
			RIP: regs.RIP, RFLAGS: regs.RFLAGS,
		}
		if err := c.vcpu.SetRegs(&kr); err != nil {
			return platform.Event{}, err
		}
		c.userInKVM = false
		if cpu.NewCR3 != 0 || cpu.QueueLen != 0 {
			// The reset path above covers a root switch and a flush.
			return platform.Event{}, fmt.Errorf("page-table switch while stopped in user mode")
		}
	} else {
		cpu.Regs = ring0.UserRegs{
			RAX: regs.RAX, RBX: regs.RBX, RCX: regs.RCX, RDX: regs.RDX,
			RSI: regs.RSI, RDI: regs.RDI, RBP: regs.RBP, RSP: regs.RSP,
			R8: regs.R8, R9: regs.R9, R10: regs.R10, R11: regs.R11,
			R12: regs.R12, R13: regs.R13, R14: regs.R14, R15: regs.R15,
			RIP: regs.RIP, RFLAGS: regs.RFLAGS,
		}
		cpu.R0.UserFS = regs.FSBase
		// x86: the entry code loads the program's GS base (PVM keeps it
		// in its own MSR).
		cpu.R0.UserGS = regs.GSBase
	}

	// Check again where this code runs: anything above that allocates can
	// take a fault in the guest (the first touch of new heap memory) and
	// continue on the host. Entering from the host needs prepareHost (a
	// parked vCPU restarted, new memory mirrored); between it and
	// SwitchToUser nothing can fault.
	//
	// The program runs with the task goroutine holding its P, as if it
	// were Go code: no entersyscall. Had it released the P, Go's sysmon
	// would hand the P on while the program ran, and the goroutine, back
	// with the program's next syscall, would sleep on a futex for a P (a
	// VM exit each way). Go's preemption requests still reach it: the
	// VMM loop stops the program when a signal finds one pending
	// (r0_amd64.s, intr), and the goroutine yields at its next call.
	if testBeforeEntry != nil {
		testBeforeEntry(cpu)
	}
	if newGS && c.inGuest() {
		// The MSR is written from the host.
		c.asked = true
		ring0.Leave(cpu)
	}
	for {
		if !ring0.InGuest(cpu) {
			if err := c.prepareHost(); err != nil {
				return platform.Event{}, err
			}
			if !c.m.x86() && regs.GSBase != c.pvmGS {
				// In supervisor mode here (a stop in user mode with a
				// new GS base took the reset path above).
				if err := c.vcpu.SetMSRs(MSR{msrKernelGSBase, regs.GSBase}); err != nil {
					return platform.Event{}, err
				}
				c.pvmGS = regs.GSBase
			}
		}
		ring0.SwitchToUser(cpu)
		if cpu.Reason != ring0.ReasonInterrupt || !c.m.eventQueued(c.vcpu) {
			break
		}
		// Stopped in user mode with an exception half delivered: let it
		// be delivered (the program's event comes back, and a kick still
		// pending makes the next Switch return at once).
	}
	reason, vector, errCode, cr2 := cpu.Reason, cpu.Vector, cpu.ErrCode, cpu.CR2

	for _, p := range pending {
		c.m.mem.Free(p)
	}
	c.m.setCurRoot(c.slot, as.root)
	if reason == ring0.ReasonStale {
		r0 := &cpu.R0
		c.needReset = true
		return platform.Event{}, fmt.Errorf("%w: ring0: a vCPU parked by a leave ran again (request %d, seq %d, leaves %d, last RIP %#x)",
			ErrSupervisorFault, r0.Req, r0.ReqSeq, r0.Leaves, r0.Sup.RIP)
	}
	if reason == ring0.ReasonStubFault {
		r0 := &cpu.R0
		c.needReset = true
		return platform.Event{}, fmt.Errorf("%w: ring0 entry code faulted: vector %d error code %#x at RIP %#x, RSP %#x, address %#x",
			ErrSupervisorFault, r0.SupVector, r0.SupErr, r0.Sup.RIP, r0.Sup.RSP, r0.FaultAddr)
	}
	if reason == ring0.ReasonKicked {
		// Stopped on its way to user mode: the program did not run.
		c.h.kicked.Store(false) // this return is the interruption
		c.m.exits.interrupt.Add(1)
		return platform.Event{Kind: platform.EventInterrupted}, nil
	}
	if reason == ring0.ReasonInterrupt {
		k := &cpu.R0.KRegs
		*regs = platform.Regs{
			RAX: k[0], RBX: k[1], RCX: k[2], RDX: k[3], RSI: k[4], RDI: k[5], RSP: k[6], RBP: k[7],
			R8: k[8], R9: k[9], R10: k[10], R11: k[11], R12: k[12], R13: k[13], R14: k[14], R15: k[15],
			RIP: k[16], RFLAGS: k[17], FSBase: regs.FSBase, GSBase: regs.GSBase,
		}
		c.userInKVM = true
		c.h.kicked.Store(false) // this return is the interruption
		c.m.exits.interrupt.Add(1)
		return platform.Event{Kind: platform.EventInterrupted}, nil
	}
	u := &cpu.Regs
	*regs = platform.Regs{
		RAX: u.RAX, RBX: u.RBX, RCX: u.RCX, RDX: u.RDX,
		RSI: u.RSI, RDI: u.RDI, RBP: u.RBP, RSP: u.RSP,
		R8: u.R8, R9: u.R9, R10: u.R10, R11: u.R11,
		R12: u.R12, R13: u.R13, R14: u.R14, R15: u.R15,
		RIP: u.RIP, RFLAGS: u.RFLAGS, FSBase: cpu.R0.UserFS, GSBase: regs.GSBase,
	}
	if c.m.x86() {
		regs.GSBase = cpu.R0.UserGS
	}
	ev, ok := eventOf(reason, vector, errCode, cr2)
	if !ok {
		return platform.Event{}, fmt.Errorf("ring0 mode: unexpected stop reason %d", reason)
	}
	if c.m.hostFirst.Load() > 0 && c.m.hostFirst.Add(-1) >= 0 {
		// One of the program's first events: Go code handles it on
		// the host (Config.HostFirst).
		c.Leave()
	}
	return ev, nil
}

// testBeforeEntry, set by tests, runs in Switch just before the entry
// (a kick at the last moment).
var testBeforeEntry func(cpu *ring0.CPU)

// ring0Threads maps a task thread's FS base to the ring0 context it runs
// (LeaveGuest finds its own there).
var ring0Threads sync.Map // uint64 -> *ring0Context

// LeaveGuest makes the calling task thread's Go code continue on the host
// if it runs in the guest (ring0 mode), and reports whether it left.
// guestkernel/hostcall calls it before a direct host syscall: one exit for
// that call and the ones after it instead of a bounce each.
// The code goes back into the guest with the program's next entry.
// Elsewhere (exit mode, a thread that runs no task, code already on the
// host) it does nothing.
func LeaveGuest() bool {
	fs := ring0.FSBase()
	v, ok := ring0Threads.Load(fs)
	if !ok {
		return false
	}
	c := v.(*ring0Context)
	if c.cpu.R0.HostFS != fs || !ring0.InGuest(c.cpu) {
		return false
	}
	c.asked = true
	ring0.Leave(c.cpu)
	return true
}

// prepareHost runs on the host before entering the guest: it mirrors host
// memory that appeared since the last entry (not after LeaveGuest's leave,
// see below) and restarts a vCPU left parked by a leave (LeaveGuest's goes
// on by itself: ReasonResume).
func (c *ring0Context) prepareHost() error {
	cpu := c.cpu
	if ring0.FSBase() != cpu.R0.HostFS {
		// The thread's FS base (its TLS) names it without a syscall.
		return fmt.Errorf("ring0 context used from another thread")
	}
	asked := false
	if cpu.R0.Leaves != c.leaves {
		c.leaves = cpu.R0.Leaves
		c.needReset = true
		c.m.exits.leave.Add(1)
		// LeaveGuest's leave (r0Leave's request, not a fault's): its
		// vCPU can go on to the program by itself.
		asked = c.leftOnRequest()
	}
	c.asked = false
	if asked {
		// The goroutine stack may have moved on the host (grown, or
		// shrunk by the GC) into memory not mirrored yet; the entry code
		// returns on it when the program next stops, before Go code
		// could fault and leave (the x86 stub would take that fault for
		// a forged request). Mirror first in that case.
		var probe byte
		sp := uintptr(unsafe.Pointer(&probe))
		if !c.m.mirrored(sp) || !c.m.mirrored(sp+4095) {
			asked = false
		}
	}
	// The host may have mapped memory since the last entry (heap growth,
	// new thread stacks): mirror it before Go code uses it in the guest.
	// After a leave that Go code asked for (LeaveGuest) that is left to a
	// fault, as long as the stack is mirrored (above): reading the host's
	// mappings costs more than the leave saved. So it is on a slot's
	// first entry (a new thread, or one that lost its slot) when the
	// stack is mirrored: most find nothing new.
	mirrored := asked
	if c.fresh {
		c.fresh = false
		var probe byte
		sp := uintptr(unsafe.Pointer(&probe))
		mirrored = mirrored || c.m.mirrored(sp) && c.m.mirrored(sp+4095)
	}
	if !mirrored {
		if err := c.m.mapHost(); err != nil {
			return err
		}
	}
	if c.needReset && !c.userInKVM && asked {
		// The vCPU sits after r0Leave's OUT, which goes on into the
		// program when Req says so: no KVM call to move it.
		cpu.R0.Req = ring0.ReasonResume
		c.needReset = false
	}
	if c.needReset && !c.userInKVM {
		_, toUser := ring0.R0EntryPoints()
		if c.m.x86() {
			_, toUser = ring0.X86R0EntryPoints()
		}
		// The vCPU is parked after the OUT that asked for the leave. KVM
		// completes that port I/O on the next KVM_RUN, which would move
		// RIP past the OUT whatever KVM_SET_REGS said: complete it first,
		// with a KVM_RUN that returns at once (immediate_exit).
		if err := c.vcpu.CompletePending(); err != nil {
			return err
		}
		if c.fullReset {
			// Stopped in user mode: the segments, CR3 and mode must be
			// the supervisor's again, as for a new vCPU.
			sys, _ := ring0.R0EntryPoints()
			if c.m.x86() {
				sys, _ = ring0.X86R0EntryPoints()
			}
			if err := c.m.setupVCPU(c.vcpu, c.slot, sys, toUser, false); err != nil {
				return err
			}
			c.fullReset = false
			c.pvmGS = 0 // setupVCPU's
			if !c.m.x86() && c.as != nil {
				// setupVCPU left CR3 at the machine's own root, whose
				// user half maps nothing of the program: the entry code
				// switches back to the address space's pair (the x86
				// entry code loads its roots from the CPU page anyway).
				cpu.NewCR3 = uint64(c.as.root)
			}
		} else {
			regs := c.m.supervisorRegs(c.slot, toUser)
			if err := c.vcpu.SetRegs(&regs); err != nil {
				return err
			}
		}
		c.needReset = false
	}
	return nil
}

// zapNow does, from Go code in the guest, what the stub does with the
// queue: a narrow rewrite of each changed table page, then frees the dead
// ones and flushes before returning to user mode.
func (c *ring0Context) zapNow(as *addressSpace) {
	var free []uintptr
	zap := func(p uintptr) {
		if c.m.x86() {
			return // nested paging: the CR3 switch to user flushes
		}
		ring0.Zap(p)
		c.cpu.Flush = 1
	}
	m := c.m
	m.mu.Lock()
	m.retireRootsLocked()
	for _, p := range m.graveyard {
		zap(p)
	}
	free = append(free, m.graveyard...)
	m.graveyard = m.graveyard[:0]
	m.mu.Unlock()
	as.mu.Lock()
	for p := range as.zap {
		zap(p)
		delete(as.zap, p)
	}
	free = append(free, as.graveyard...)
	as.graveyard = as.graveyard[:0]
	as.mu.Unlock()
	for _, p := range free {
		m.mem.Free(p)
	}
}

// eventOf decodes a stop of the program.
func eventOf(reason, vector, code, cr2 uint64) (platform.Event, bool) {
	switch reason {
	case ring0.ReasonSyscall:
		return platform.Event{Kind: platform.EventSyscall}, true
	case ring0.ReasonException:
		if vector == platform.VectorPageFault {
			return platform.Event{
				Kind: platform.EventPageFault, Addr: cr2,
				Present: code&1 != 0, Write: code&2 != 0, Exec: code&0x10 != 0,
				Vector: vector, Code: code,
			}, true
		}
		return platform.Event{Kind: platform.EventException, Vector: vector, Code: code}, true
	}
	return platform.Event{}, false
}

// ring0Stats adds ring0 mode's counters.
func (m *Machine) ring0Stats(s map[string]uint64) {
	bounces, entries, intrs, intrUser := m.exits.r0Bounces.Load(), m.exits.r0Entries.Load(), m.exits.r0Intrs.Load(), m.exits.r0IntrUser.Load()
	var by [ring0.BounceNRs]uint64
	for nr := range by {
		by[nr] = m.exits.r0BouncesBy[nr].Load()
	}
	for i := 0; i < m.region.NumCPU(); i++ {
		r0 := &m.region.CPU(i).R0
		bounces += atomic.LoadUint64(&r0.Bounces)
		entries += atomic.LoadUint64(&r0.Entries)
		intrs += atomic.LoadUint64(&r0.Intrs)
		intrUser += atomic.LoadUint64(&r0.IntrUser)
		for nr := range by {
			by[nr] += uint64(atomic.LoadUint32(&r0.BouncesBy[nr]))
		}
	}
	s["exit.bounce"] = bounces
	s["kvm_run"] = entries
	s["kvm_run.signal"] = intrs
	s["kvm_run.signal.user"] = intrUser
	for nr, n := range by {
		if n != 0 {
			s[fmt.Sprintf("bounce.nr%d", nr)] = n
		}
	}
	s["leave"] = m.exits.leave.Load()
}
