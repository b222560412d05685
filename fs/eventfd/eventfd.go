// Package eventfd implements eventfd(2) objects: a 64-bit counter that
// write adds to and read takes (all of it, or 1 in semaphore mode). Read
// and Write never block: they return EAGAIN and the syscall layer waits on
// the file's queue (fs.Waitable) unless it is non-blocking.
package eventfd

import (
	"encoding/binary"
	"math"
	"sync"

	"golang.org/x/sys/unix"

	"ringbox/fs/waiter"
)

// MaxCount is the largest value the counter holds; a write that would go
// past it waits (or fails with EAGAIN).
const MaxCount = math.MaxUint64 - 1

// anonIno is the inode number of anonymous-inode files (one shared inode,
// as on Linux).
const anonIno = 1

// EventFD is the fs.Impl of an eventfd.
type EventFD struct {
	mu        sync.Mutex
	count     uint64
	semaphore bool
	q         waiter.Queue
}

// New makes an eventfd with the initial count; semaphore selects
// EFD_SEMAPHORE.
func New(initial uint64, semaphore bool) *EventFD {
	return &EventFD{count: initial, semaphore: semaphore}
}

// Count returns the counter (for tests and fdinfo).
func (e *EventFD) Count() uint64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.count
}

// Read implements fs.Impl: dst must hold 8 bytes (else EINVAL); it gets
// the counter (or 1 in semaphore mode), which drops by as much. EAGAIN
// while the counter is 0.
func (e *EventFD) Read(dst []byte) (int, error) {
	if len(dst) < 8 {
		return 0, unix.EINVAL
	}
	e.mu.Lock()
	if e.count == 0 {
		e.mu.Unlock()
		return 0, unix.EAGAIN
	}
	v := e.count
	if e.semaphore {
		v = 1
	}
	e.count -= v
	e.mu.Unlock()
	binary.LittleEndian.PutUint64(dst, v)
	e.q.Notify(waiter.WritableEvents)
	return 8, nil
}

// Write implements fs.Impl: src must be 8 bytes (else EINVAL, as Linux
// since 6.9; older kernels took the first 8 of a longer buffer), a value
// other than 2^64-1 (else EINVAL) that is added to the counter; EAGAIN if
// the counter would pass MaxCount.
func (e *EventFD) Write(src []byte) (int, error) {
	if len(src) != 8 {
		return 0, unix.EINVAL
	}
	v := binary.LittleEndian.Uint64(src)
	if v == math.MaxUint64 {
		return 0, unix.EINVAL
	}
	e.mu.Lock()
	if MaxCount-e.count < v {
		e.mu.Unlock()
		return 0, unix.EAGAIN
	}
	e.count += v
	e.mu.Unlock()
	e.q.Notify(waiter.ReadableEvents)
	return 8, nil
}

// Pread implements fs.Impl.
func (e *EventFD) Pread([]byte, int64) (int, error) { return 0, unix.ESPIPE }

// Pwrite implements fs.Impl.
func (e *EventFD) Pwrite([]byte, int64) (int, error) { return 0, unix.ESPIPE }

// Seek implements fs.Impl: seeking does nothing (noop_llseek).
func (e *EventFD) Seek(int64, int) (int64, error) { return 0, nil }

// Stat implements fs.Impl: an anonymous inode, mode 0600.
func (e *EventFD) Stat() (unix.Stat_t, error) {
	return unix.Stat_t{Ino: anonIno, Nlink: 1, Mode: 0o600, Blksize: 4096}, nil
}

// IsTerminal implements fs.Impl.
func (e *EventFD) IsTerminal() bool { return false }

// Poll implements fs.Impl without waiting.
func (e *EventFD) Poll(mask int16, _ int) (int16, error) {
	return int16(e.Readiness(waiter.EventMask(uint16(mask)))), nil
}

// Readiness implements fs.Waitable: readable while the counter is above
// 0, writable while 1 can be added.
func (e *EventFD) Readiness(mask waiter.EventMask) waiter.EventMask {
	e.mu.Lock()
	defer e.mu.Unlock()
	var m waiter.EventMask
	if e.count > 0 {
		m |= waiter.ReadableEvents
	}
	if e.count < MaxCount {
		m |= waiter.WritableEvents
	}
	return m & mask
}

// EventRegister implements fs.Waitable.
func (e *EventFD) EventRegister(w *waiter.Entry) { e.q.Register(w) }

// EventUnregister implements fs.Waitable.
func (e *EventFD) EventUnregister(w *waiter.Entry) { e.q.Unregister(w) }

// Name implements fs.Namer.
func (e *EventFD) Name() string { return "anon_inode:[eventfd]" }

// Release implements fs.Impl.
func (e *EventFD) Release() {}
