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

// leave moves the caller out of the guest if it runs there, before a
// direct host call. In ring0 mode a host syscall made by Go code in the
// guest is a bounce (a VM exit); after a leave (one exit: the VMM lets the
// parked vCPU go on into the program by itself, so it costs what a bounce
// does) it and the calls after it in the same program syscall are plain
// host syscalls, until the program's next entry. A plain host syscall is
// also too short for Go's sysmon to take the thread's P away meanwhile
// (from the guest, getting it back wakes sysmon: another bounce or two).
func leave() {
	if f := leaveFn.Load(); f != nil && (*f)() {
		stats.Leaves.Add(1)
	}
}
