// Package platform defines what the kernel needs from the machine that runs
// user code: address spaces whose page tables the memory manager edits, and
// contexts that run a task's user code until the next event. The kernel sees
// only these interfaces; vmm implements them (exit mode or ring0 mode, pvm
// or x86 backend).
package platform

import "ringbox/ring0/pagetables"

// Regs is the user-mode register state of a task.
type Regs struct {
	RAX, RBX, RCX, RDX, RSI, RDI, RBP, RSP uint64
	R8, R9, R10, R11, R12, R13, R14, R15   uint64
	RIP, RFLAGS                            uint64
	FSBase, GSBase                         uint64
}

// EventKind says why user code stopped.
type EventKind int

// Events.
const (
	EventSyscall     EventKind = iota + 1 // SYSCALL; number in RAX
	EventPageFault                        // Addr, Write, Exec, Present
	EventException                        // Vector, Code
	EventInterrupted                      // Interrupt was called, a host signal, or Go's scheduler asked the task to yield: call Switch again
)

// Event describes why user code stopped.
type Event struct {
	Kind    EventKind
	Addr    uint64 // faulting address (page fault)
	Write   bool   // the access was a write
	Exec    bool   // the access was an instruction fetch
	Present bool   // the page was present (a protection fault)
	Vector  uint64 // exception vector
	Code    uint64 // exception error code
}

// Exception vectors the kernel maps to signals.
const (
	VectorDivide         = 0
	VectorDebug          = 1
	VectorBreakpoint     = 3
	VectorOverflow       = 4
	VectorBound          = 5
	VectorInvalidOp      = 6
	VectorNoDevice       = 7
	VectorSegNotPres     = 11
	VectorStack          = 12
	VectorGP             = 13
	VectorPageFault      = 14
	VectorX87            = 16
	VectorAlignment      = 17
	VectorSIMD           = 19
	VectorControlProt    = 21
	VectorVirtualization = 20
)

// AddressSpace is one program's address space as the hardware sees it.
type AddressSpace interface {
	// Tables returns the user page tables, which the memory manager edits.
	Tables() *pagetables.Tables
	// Invalidate must be called after present entries changed (unmap,
	// protect, remap): the TLB is flushed before user code runs again.
	Invalidate()
	// Release frees the page tables.
	Release()
}

// Context runs user code on behalf of one task.
type Context interface {
	// Switch runs user code with regs in as until the next event; regs is
	// updated with the user state at the event.
	Switch(as AddressSpace, regs *Regs) (Event, error)
	// Interrupt makes a current or next Switch return EventInterrupted soon.
	// It may be called from any goroutine.
	Interrupt()
	// FPState returns a copy of the program's FP and vector registers in
	// the XSAVE standard format, FPLayout().Size bytes.
	FPState() ([]byte, error)
	// SetFPState replaces them (a signal return). The image comes from the
	// program: it is sanitized so that restoring it cannot fault.
	SetFPState(b []byte) error
	// Release frees the context.
	Release()
}

// Idler is a Context whose vCPU can serve other contexts while its task
// waits in the kernel. The kernel calls Idle, on the task's thread, just
// before the task blocks; the context's next Switch takes a vCPU again.
type Idler interface {
	Idle()
}

// Leaver is a Context whose kernel code may run in the guest (ring0 mode),
// where each host syscall costs a VM exit. Leave moves the calling task
// thread's code to the host, if it runs in the guest, for a stretch of
// kernel work that makes several host syscalls (a thread's end): one exit
// instead of one per call. The next Switch goes back in. It must run on
// the task's thread.
type Leaver interface {
	Leave()
}

// Yielder is a Context that can give its vCPU to a task waiting for one
// (sched_yield): if any waits, the context's next Switch goes to the back
// of the line first.
type Yielder interface {
	Yield()
}

// FPLayout describes the XSAVE images of FPState.
type FPLayout struct {
	Features uint64 // the enabled state components (XCR0)
	Size     int    // bytes of the standard-format image
}

// Platform makes address spaces and contexts.
type Platform interface {
	NewAddressSpace() (AddressSpace, error)
	NewContext() (Context, error)
	// Name is the platform and backend, e.g. "kvm-exit/pvm".
	Name() string
	// FPLayout describes the FP state images of its contexts.
	FPLayout() FPLayout
	// Stats returns counters (exits by reason, ...) for --debug and benchmarks.
	Stats() map[string]uint64
}

// HostClock is a Platform on which user code can run the host's own vDSO
// clock code (package vdso): the guest's TSC reads as the host's, and the
// host's vDSO data pages can be mapped into user page tables.
type HostClock interface {
	// HostClockData makes the host pages [start, end) (the host's vDSO
	// data) reachable by user page tables and returns the guest-physical
	// address they have there; ok is false (and the error nil) if the
	// platform cannot run host clock code.
	HostClockData(start, end uintptr) (gpa uintptr, ok bool, err error)
}
