package kernel

import (
	"golang.org/x/sys/unix"
)

// NumSignals is the number of signals (1..64).
const NumSignals = 64

// SigAction is a struct sigaction as the program gave it.
type SigAction struct {
	Handler  uint64
	Flags    uint64
	Restorer uint64
	Mask     uint64
}

// Special handler values.
const (
	SigDfl = 0
	SigIgn = 1
)

// DefaultAction is what a signal does with SIG_DFL.
type DefaultAction int

// Default actions.
const (
	ActTerm DefaultAction = iota
	ActIgnore
	ActCore
	ActStop
	ActCont
)

// DefaultActionOf returns the SIG_DFL behaviour of sig.
func DefaultActionOf(sig unix.Signal) DefaultAction {
	switch sig {
	case unix.SIGCHLD, unix.SIGURG, unix.SIGWINCH:
		return ActIgnore
	case unix.SIGQUIT, unix.SIGILL, unix.SIGTRAP, unix.SIGABRT, unix.SIGBUS, unix.SIGFPE,
		unix.SIGSEGV, unix.SIGXCPU, unix.SIGXFSZ, unix.SIGSYS:
		return ActCore
	case unix.SIGSTOP, unix.SIGTSTP, unix.SIGTTIN, unix.SIGTTOU:
		return ActStop
	case unix.SIGCONT:
		return ActCont
	}
	return ActTerm
}

func sigBit(sig unix.Signal) uint64 { return 1 << (uint(sig) - 1) }

// Unblockable signals.
var unblockable = sigBit(unix.SIGKILL) | sigBit(unix.SIGSTOP)
