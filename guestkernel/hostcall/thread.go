package hostcall

import (
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// startThread is in thread_amd64.s: clone a thread on stack (its top)
// that serves w forever; returns its TID or -errno.
//
//go:noescape
func startThread(w *worker, stack uintptr) int64

// cputicks reads the TSC. In the guest (ring0 mode) it reads the same
// counter as on the host: the x86 backend sets a TSC offset of 0, as Go's
// vDSO clock in the guest needs too.
func cputicks() int64

// threadStack is the host I/O thread's stack: its loop makes syscalls and
// no calls, so a page would do.
const threadStack = 64 << 10

// startThread starts w's thread with every signal blocked: it is not a Go
// thread and must never run Go's signal handlers.
func (w *worker) startThread() error {
	stack, err := unix.Mmap(-1, 0, threadStack, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_STACK)
	if err != nil {
		return fmt.Errorf("host I/O thread stack: %w", err)
	}
	w.stack = stack
	top := uintptr(unsafe.Pointer(&stack[len(stack)-64]))

	// The mask is per thread: block all on this one around clone (the
	// child inherits it), then restore.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	all, old := ^uint64(0), uint64(0)
	if _, _, e := unix.RawSyscall6(unix.SYS_RT_SIGPROCMASK, unix.SIG_SETMASK, uintptr(unsafe.Pointer(&all)), uintptr(unsafe.Pointer(&old)), 8, 0, 0); e != 0 {
		return fmt.Errorf("host I/O thread: blocking signals: %w", e)
	}
	tid := startThread(w, top)
	unix.RawSyscall6(unix.SYS_RT_SIGPROCMASK, unix.SIG_SETMASK, uintptr(unsafe.Pointer(&old)), 0, 8, 0, 0)
	if tid < 0 {
		return fmt.Errorf("host I/O thread: clone: %w", unix.Errno(-tid))
	}
	w.tid = tid
	return nil
}
