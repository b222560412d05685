package fs

import (
	"golang.org/x/sys/unix"

	"ringbox/fs/waiter"
)

// Waitable is implemented by the Impl of a file whose readiness changes
// while it is open and that notifies waiters when it does (pipes,
// eventfds, epoll sets). Read and Write of such a file never block: they
// return unix.EAGAIN, and the syscall layer waits on the file's queue
// unless the file is O_NONBLOCK.
type Waitable interface {
	// Readiness returns the events among mask that are ready now.
	Readiness(mask waiter.EventMask) waiter.EventMask
	// EventRegister adds e to the file's waiters; the file notifies it of
	// changes of the events in e's mask.
	EventRegister(e *waiter.Entry)
	// EventUnregister removes e (a no-op if it is not registered).
	EventUnregister(e *waiter.Entry)
}

// Polled is implemented by files whose readiness can change without a
// notification: a host descriptor, or an epoll set that watches one.
// Waiters re-check such a file periodically. NeedsPolling may change over
// the file's life (an epoll set gains or loses such a member).
type Polled interface {
	NeedsPolling() bool
}

// NeedsPolling reports whether a waiter must re-check f periodically
// because it says so. Files that neither notify nor say so (regular
// files, directories, devices like /dev/null) have a readiness that never
// changes.
func NeedsPolling(f *File) bool {
	p, ok := f.Impl.(Polled)
	return ok && p.NeedsPolling()
}

// Readiness returns the events among mask that f has ready now, without
// waiting. Files that are not Waitable answer through Poll.
func Readiness(f *File, mask waiter.EventMask) waiter.EventMask {
	if w, ok := f.Impl.(Waitable); ok {
		return w.Readiness(mask)
	}
	rev, err := f.Impl.Poll(int16(uint16(mask)), 0)
	if err != nil {
		return 0
	}
	return waiter.EventMask(uint16(rev))
}

// EventRegister registers e on f if f is Waitable and reports whether it
// did.
func EventRegister(f *File, e *waiter.Entry) bool {
	w, ok := f.Impl.(Waitable)
	if ok {
		w.EventRegister(e)
	}
	return ok
}

// EventUnregister undoes EventRegister.
func EventUnregister(f *File, e *waiter.Entry) {
	if w, ok := f.Impl.(Waitable); ok {
		w.EventUnregister(e)
	}
}

// NeedsPolling implements Polled: the sandbox learns about a host
// descriptor's readiness only by asking.
func (h *HostFD) NeedsPolling() bool { return true }

// EpollChecker is implemented by files that decide themselves whether
// epoll may watch them.
type EpollChecker interface {
	CanEpoll() bool
}

// CanEpoll implements EpollChecker: like Linux, epoll watches a host
// pipe, socket or terminal, not a regular file or /dev/null.
func (h *HostFD) CanEpoll() bool {
	st, err := h.Stat()
	if err != nil {
		return false
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFIFO, unix.S_IFSOCK:
		return true
	case unix.S_IFCHR:
		return h.IsTerminal()
	}
	return false
}

// Namer is implemented by the Impl of a file that has no path (a pipe, an
// eventfd): Name is what /proc/PID/fd/N reads, such as "pipe:[12]" or
// "anon_inode:[eventfd]".
type Namer interface {
	Name() string
}

// FDInfoer is implemented by files that show more in
// /proc/PID/fdinfo/N: FDInfo returns those lines, each ending in a
// newline.
type FDInfoer interface {
	FDInfo() string
}

// ReadAvailabler is implemented by files that know how many bytes a read
// would return now (FIONREAD).
type ReadAvailabler interface {
	ReadAvailable() int
}
