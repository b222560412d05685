package kernel

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"ringbox/guestkernel/platform"
)

// The legacy vsyscall page. Linux (vsyscall=xonly, its default) maps
// nothing readable there but emulates a call to one of its three entry
// points as the matching system call, then returns to the caller; a read
// of the page or a call anywhere else in it is SIGSEGV. Programs built
// long ago, and JVMs whose sched_getcpu fails, still call it.
const (
	VsyscallAddr = 0xffffffffff600000
	vsyscallSize = 4096
)

// vsyscallNR maps the page's entry points to their system calls.
var vsyscallNR = map[uint64]uintptr{
	0x000: unix.SYS_GETTIMEOFDAY,
	0x400: unix.SYS_TIME,
	0x800: unix.SYS_GETCPU,
}

// vsyscall emulates a call into the vsyscall page, which stopped the
// program with fault ev, and reports whether it did (otherwise the fault
// takes its usual course: SIGSEGV).
func (t *Task) vsyscall(ev platform.Event) bool {
	r := &t.Regs
	if ev.Addr&^(vsyscallSize-1) != VsyscallAddr || r.RIP != ev.Addr {
		return false
	}
	nr, ok := vsyscallNR[ev.Addr-VsyscallAddr]
	if !ok {
		return false // not an entry point
	}
	var ret [8]byte
	if _, err := t.MM.CopyIn(uintptr(r.RSP), ret[:]); err != nil {
		return false
	}
	args := [6]uintptr{uintptr(r.RDI), uintptr(r.RSI), uintptr(r.RDX)}
	res := t.K.Syscalls.Dispatch(t, nr, args)
	t.dropFiles()
	if res == ^uintptr(unix.EFAULT)+1 {
		// A bad pointer: Linux sends SIGSEGV rather than return EFAULT.
		t.forceSignal(unix.SIGSEGV, 1 /* SEGV_MAPERR */, uint64(r.RDI))
		return true
	}
	// Return to the caller as its RET would: only RAX, RIP and RSP
	// change.
	r.RAX = uint64(res)
	r.RIP = binary.LittleEndian.Uint64(ret[:])
	r.RSP += 8
	return true
}
