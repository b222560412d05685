package hostcall

import "sync/atomic"

// leaveFn is the platform's way to move the calling task thread's Go code
// out of the guest (ring0 mode's leave); nil elsewhere.
var leaveFn atomic.Pointer[func() bool]

// SetLeave installs the platform's leave: f makes the calling code
// continue on the host if it runs in the guest, and reports whether it
// left. The VMM sets it in ring0 mode.
func SetLeave(f func() bool) {
	if f == nil {
		leaveFn.Store(nil)
		return
	}
	leaveFn.Store(&f)
}

// Several tells the platform that the caller is about to make several host
// calls in a row: a lookup that misses the caches, a file opened and read
// whole, a directory listed. In ring0 mode each host call made by Go code
// in the guest is a bounce (a VM exit); when the host I/O thread cannot
// take them (it is off, or callers are backing off because it did not get
// a CPU in time), the caller leaves the guest once and makes the calls as
// plain host syscalls. It goes back into the guest with the program's
// next entry. Cheap when there is nothing to do.
func Several() {
	if leaveFn.Load() == nil {
		return
	}
	if w := active.Load(); w != nil && cputicks() >= w.backoffUntil.Load() {
		return // the worker takes them without exits
	}
	leave()
}

// leave moves the caller out of the guest if it runs there. A direct call
// leaves too: since the VMM lets the parked vCPU go on into the program by
// itself, a leave costs what a bounce does, and the call then runs as a
// plain host syscall, too short for Go's sysmon to take the thread's P
// away meanwhile (from the guest, getting it back wakes sysmon: another
// bounce or two).
func leave() {
	if f := leaveFn.Load(); f != nil && (*f)() {
		stats.Leaves.Add(1)
	}
}
