package signalfd

import (
	"encoding/binary"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"ringbox/fs/waiter"
)

// InfoSize is the size of a struct signalfd_siginfo.
const InfoSize = 128

// anonIno is the inode number of anonymous-inode files (one shared inode,
// as on Linux).
const anonIno = 1

// Unmaskable are SIGKILL and SIGSTOP, never read through a signalfd.
const Unmaskable = 1<<(unix.SIGKILL-1) | 1<<(unix.SIGSTOP-1)

// Info is a struct signalfd_siginfo: the fields of one signal's siginfo
// that apply to it (the others are 0).
type Info struct {
	Signo    uint32
	Errno    int32
	Code     int32
	PID      uint32
	UID      uint32
	FD       int32
	TID      uint32 // a POSIX timer's ID
	Band     uint32
	Overrun  uint32
	Trapno   uint32
	Status   int32
	Int      int32
	Ptr      uint64
	Utime    uint64
	Stime    uint64
	Addr     uint64
	AddrLSB  uint16
	Syscall  int32
	CallAddr uint64
	Arch     uint32
}

// Encode writes the record into b (InfoSize bytes), padding zeroed.
func (i Info) Encode(b []byte) {
	le := binary.LittleEndian
	clear(b[:InfoSize])
	le.PutUint32(b[0:], i.Signo)
	le.PutUint32(b[4:], uint32(i.Errno))
	le.PutUint32(b[8:], uint32(i.Code))
	le.PutUint32(b[12:], i.PID)
	le.PutUint32(b[16:], i.UID)
	le.PutUint32(b[20:], uint32(i.FD))
	le.PutUint32(b[24:], i.TID)
	le.PutUint32(b[28:], i.Band)
	le.PutUint32(b[32:], i.Overrun)
	le.PutUint32(b[36:], i.Trapno)
	le.PutUint32(b[40:], uint32(i.Status))
	le.PutUint32(b[44:], uint32(i.Int))
	le.PutUint64(b[48:], i.Ptr)
	le.PutUint64(b[56:], i.Utime)
	le.PutUint64(b[64:], i.Stime)
	le.PutUint64(b[72:], i.Addr)
	le.PutUint16(b[80:], i.AddrLSB)
	le.PutUint32(b[84:], uint32(i.Syscall))
	le.PutUint64(b[88:], i.CallAddr)
	le.PutUint32(b[96:], i.Arch)
}

// Thread is a thread's view of its signals.
type Thread interface {
	// Pending returns the signals pending for the thread and for its
	// process (bit n-1: signal n).
	Pending() uint64
	// Dequeue takes the lowest-numbered signal of set pending for the
	// thread (first) or its process, as sigwaitinfo does.
	Dequeue(set uint64) (Info, bool)
	// Queue is notified (with ReadableEvents) whenever a signal is
	// queued for the thread's process or any of its threads.
	Queue() *waiter.Queue
}

// Source returns the thread that calls into the file now.
type Source func() Thread

// SignalFD is the fs.Impl of a signalfd.
type SignalFD struct {
	src  Source
	mask atomic.Uint64

	mu   sync.Mutex
	regs map[*waiter.Entry]*waiter.Queue // registered entries and where
}

// New makes a signalfd for the signals in mask.
func New(src Source, mask uint64) *SignalFD {
	s := &SignalFD{src: src, regs: map[*waiter.Entry]*waiter.Queue{}}
	s.mask.Store(mask &^ Unmaskable)
	return s
}

// Mask returns the signals the file reads.
func (s *SignalFD) Mask() uint64 { return s.mask.Load() }

// SetMask replaces the signals the file reads and wakes its waiters
// (signals of the new mask may be pending already).
func (s *SignalFD) SetMask(mask uint64) {
	s.mask.Store(mask &^ Unmaskable)
	s.mu.Lock()
	seen := map[*waiter.Queue]bool{}
	for _, q := range s.regs {
		seen[q] = true
	}
	s.mu.Unlock()
	for q := range seen {
		q.Notify(waiter.ReadableEvents)
	}
}

// Read implements fs.Impl: as many pending signals of the mask as dst
// holds records for (EINVAL if not one), taken from the calling thread's
// and its process's pending signals; EAGAIN if none is pending.
func (s *SignalFD) Read(dst []byte) (int, error) {
	n := len(dst) / InfoSize
	if n == 0 {
		return 0, unix.EINVAL
	}
	th := s.src()
	got := 0
	for got < n {
		info, ok := th.Dequeue(s.mask.Load())
		if !ok {
			break
		}
		info.Encode(dst[got*InfoSize:])
		got++
	}
	if got == 0 {
		return 0, unix.EAGAIN
	}
	return got * InfoSize, nil
}

// Write implements fs.Impl: a signalfd cannot be written.
func (s *SignalFD) Write([]byte) (int, error) { return 0, unix.EINVAL }

// Pread implements fs.Impl.
func (s *SignalFD) Pread([]byte, int64) (int, error) { return 0, unix.ESPIPE }

// Pwrite implements fs.Impl.
func (s *SignalFD) Pwrite([]byte, int64) (int, error) { return 0, unix.ESPIPE }

// Seek implements fs.Impl: seeking does nothing (noop_llseek).
func (s *SignalFD) Seek(int64, int) (int64, error) { return 0, nil }

// Stat implements fs.Impl: an anonymous inode, mode 0600.
func (s *SignalFD) Stat() (unix.Stat_t, error) {
	return unix.Stat_t{Ino: anonIno, Nlink: 1, Mode: 0o600, Blksize: 4096}, nil
}

// IsTerminal implements fs.Impl.
func (s *SignalFD) IsTerminal() bool { return false }

// Poll implements fs.Impl without waiting.
func (s *SignalFD) Poll(mask int16, _ int) (int16, error) {
	return int16(s.Readiness(waiter.EventMask(uint16(mask)))), nil
}

// Readiness implements fs.Waitable: readable while a signal of the mask
// is pending for the calling thread or its process.
func (s *SignalFD) Readiness(mask waiter.EventMask) waiter.EventMask {
	if s.src().Pending()&s.mask.Load() != 0 {
		return waiter.ReadableEvents & mask
	}
	return 0
}

// EventRegister implements fs.Waitable: e goes on the calling process's
// signal queue.
func (s *SignalFD) EventRegister(e *waiter.Entry) {
	q := s.src().Queue()
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.regs[e]; ok {
		return
	}
	s.regs[e] = q
	q.Register(e)
}

// EventUnregister implements fs.Waitable.
func (s *SignalFD) EventUnregister(e *waiter.Entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if q, ok := s.regs[e]; ok {
		q.Unregister(e)
		delete(s.regs, e)
	}
}

// Name implements fs.Namer.
func (s *SignalFD) Name() string { return "anon_inode:[signalfd]" }

// Release implements fs.Impl: entries still registered leave their queues.
func (s *SignalFD) Release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for e, q := range s.regs {
		q.Unregister(e)
		delete(s.regs, e)
	}
}
