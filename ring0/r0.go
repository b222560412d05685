package ring0

import "unsafe"

// r0Vectors holds the addresses of ring0 mode's exception vector stubs.
var r0Vectors [32]uintptr

var (
	r0FatalMsg [9]uint64
	r0FatalLen uint64
	r0MXCSR    uint32
)

func r0Addrs() (syscall, toUser uintptr)

// r0SwitchToUser runs the program until its next event (ring0 mode).
//
//go:noescape
func r0SwitchToUser(cpu *CPU)

// r0Leave continues on the host if running in the guest.
//
//go:noescape
func r0Leave(cpu *CPU)

// R0EntryPoints returns ring0 mode's LSTAR target and the vCPU's first
// instruction.
func R0EntryPoints() (syscall, toUser uintptr) { return r0Addrs() }

// SwitchToUser runs the program on this CPU until it makes a syscall or
// takes an exception (CPU.Reason says which), or until the vCPU is kicked
// while in user mode (ReasonInterrupt, and the program's registers are in
// R0.KRegs). The caller must be locked to its OS thread. It runs the
// program from the guest when called there, and enters the guest first
// when called on the host. The goroutine keeps its P meanwhile: when
// Go's scheduler asks it to yield, the VMM loop stops the program and
// SwitchToUser returns ReasonInterrupt. It is nosplit: nothing may run
// between the caller's last check of where it runs and the switch.
//
//go:nosplit
func SwitchToUser(cpu *CPU) {
	if cpu.R0.X86 != 0 {
		x86r0SwitchToUser(cpu)
		return
	}
	r0SwitchToUser(cpu)
}

// Leave makes the calling code continue on the host if it is running in
// the guest.
func Leave(cpu *CPU) { r0Leave(cpu) }

// InGuest reports whether the calling code runs in the guest.
func InGuest(cpu *CPU) bool { return cpu.R0.InGuest != 0 }

func hostXCR0() uint64

// HostXCR0 returns the host's XCR0: the guest gets the same, so Go code
// runs with the same vector state in both, and it is the XSAVE mask.
func HostXCR0() uint64 { return hostXCR0() }

// Zap rewrites the first two bytes of the page-table page at table with
// their own value: from the guest, this makes KVM drop its shadow of it.
//
//go:noescape
func Zap(table uintptr)

func fsBase() uint64

// FSBase returns the calling thread's FS base (Go's TLS): the same in the
// guest and on the host for a task thread, so it names the thread.
func FSBase() uint64 { return fsBase() }

// OnTaskThread reports whether the caller runs on the thread that owns cpu
// (in the guest or on the host): its FS base is that thread's.
func OnTaskThread(cpu *CPU) bool { return cpu.R0.HostFS != 0 && fsBase() == cpu.R0.HostFS }

// tlsG returns the calling goroutine's g as the VMM loop reads it (TLS).
// The VMM loop reads g.stackguard0 at offset 16 (STACK_PREEMPT in
// offsets_amd64.h); TestGLayout checks that layout against this Go.
func tlsG() unsafe.Pointer
