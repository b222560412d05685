package pipe

import (
	"strconv"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"ringbox/fs/waiter"
)

// End is one end of a pipe: the fs.Impl of its open file.
type End struct {
	p           *Pipe
	read, write bool
	packet      bool // O_DIRECT: every write is a packet
	released    atomic.Bool

	// A FIFO's end: the node's attributes, and the open counts it saw
	// when it opened (see WaitingForPartner and hupAfterWriter).
	stat                          func() (unix.Stat_t, error)
	readOpensSeen, writeOpensSeen uint64
	hupAfterWriter                bool
}

// Pipe returns the pipe the end belongs to.
func (e *End) Pipe() *Pipe { return e.p }

// IsReader reports whether the end reads the pipe.
func (e *End) IsReader() bool { return e.read }

// IsWriter reports whether the end writes the pipe.
func (e *End) IsWriter() bool { return e.write }

// Read implements fs.Impl: it returns what is buffered (one packet in
// packet mode), 0 at end of file (empty, no writer left), or EAGAIN.
func (e *End) Read(dst []byte) (int, error) {
	if !e.read {
		return 0, unix.EBADF
	}
	if len(dst) == 0 {
		return 0, nil
	}
	p := e.p
	p.mu.Lock()
	n, wake := p.readLocked(dst, true)
	eof := n == 0 && p.writers == 0
	p.mu.Unlock()
	if wake {
		p.wq.Notify(waiter.WritableEvents)
	}
	if n > 0 || eof {
		return n, nil
	}
	return 0, unix.EAGAIN
}

// Write implements fs.Impl: it stores what fits (all of a write of up to
// PIPE_BUF bytes, or none of it) and returns EAGAIN with the count when
// not everything fit, and EPIPE when no reader is left (the caller sends
// SIGPIPE).
func (e *End) Write(src []byte) (int, error) {
	if !e.write {
		return 0, unix.EBADF
	}
	p := e.p
	p.mu.Lock()
	if p.readers == 0 {
		p.mu.Unlock()
		return 0, unix.EPIPE
	}
	if len(src) == 0 {
		p.mu.Unlock()
		return 0, nil
	}
	n := p.writeLocked(src, e.packet)
	p.mu.Unlock()
	if n == 0 {
		return 0, unix.EAGAIN
	}
	p.rq.Notify(waiter.ReadableEvents)
	if n < len(src) {
		return n, unix.EAGAIN
	}
	return n, nil
}

// Pread implements fs.Impl: pipes are not seekable.
func (e *End) Pread([]byte, int64) (int, error) { return 0, unix.ESPIPE }

// Pwrite implements fs.Impl: pipes are not seekable.
func (e *End) Pwrite([]byte, int64) (int, error) { return 0, unix.ESPIPE }

// Seek implements fs.Impl: pipes are not seekable.
func (e *End) Seek(int64, int) (int64, error) { return 0, unix.ESPIPE }

// Stat implements fs.Impl: a FIFO owned by the pipe's creator, or the
// node of a named FIFO.
func (e *End) Stat() (unix.Stat_t, error) {
	if e.stat != nil {
		return e.stat()
	}
	return e.p.stat(), nil
}

// IsTerminal implements fs.Impl.
func (e *End) IsTerminal() bool { return false }

// Poll implements fs.Impl without waiting (waiters use the queues).
func (e *End) Poll(mask int16, _ int) (int16, error) {
	return int16(e.Readiness(waiter.EventMask(uint16(mask)))), nil
}

// Readiness implements fs.Waitable: POLLIN with data, POLLHUP without
// writers on a read end; POLLOUT with a free slot, POLLERR without
// readers on a write end.
func (e *End) Readiness(mask waiter.EventMask) waiter.EventMask {
	p := e.p
	p.mu.Lock()
	defer p.mu.Unlock()
	var m waiter.EventMask
	if e.read {
		m |= p.readEvents()
		if e.hupAfterWriter && p.fifo.writeOpens == e.writeOpensSeen {
			m &^= waiter.EventHup
		}
	}
	if e.write {
		m |= p.writeEvents()
	}
	return m & (mask | waiter.EventErr | waiter.EventHup)
}

// EventRegister implements fs.Waitable: on the read side's queue, the
// write side's, or both for a FIFO opened O_RDWR.
func (e *End) EventRegister(w *waiter.Entry) {
	if e.read {
		e.p.rq.Register(w)
	}
	if e.write {
		e.p.wq.Register(w)
	}
}

// EventUnregister implements fs.Waitable.
func (e *End) EventUnregister(w *waiter.Entry) {
	e.p.rq.Unregister(w)
	e.p.wq.Unregister(w)
}

// ReadAvailable implements fs.ReadAvailabler (FIONREAD).
func (e *End) ReadAvailable() int { return e.p.Buffered() }

// Name implements fs.Namer.
func (e *End) Name() string { return "pipe:[" + strconv.FormatUint(e.p.ino, 10) + "]" }

// Release implements fs.Impl: the last writer gone is end of file for
// readers, the last reader gone is EPIPE for writers.
func (e *End) Release() {
	if e.released.Swap(true) {
		return
	}
	p := e.p
	if p.fifo != nil {
		p.releaseFIFO(e.read, e.write)
	} else {
		p.mu.Lock()
		if e.read {
			p.readers--
		}
		if e.write {
			p.writers--
		}
		p.mu.Unlock()
	}
	p.rq.Notify(waiter.AllEvents)
	p.wq.Notify(waiter.AllEvents)
}
