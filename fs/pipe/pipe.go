// Package pipe implements anonymous pipes (pipe(2), pipe2(2)) as Linux
// does: a ring of page-sized buffers ("slots", 16 by default, so 64 KiB),
// writes of up to PIPE_BUF bytes that are never split, small writes merged
// into the last buffer, O_DIRECT packet mode, F_GETPIPE_SZ/F_SETPIPE_SZ,
// and the poll events of each end. Reads and writes never block: they
// return EAGAIN and the syscall layer waits on the end's queue (see
// fs.Waitable). Splice, tee and vmsplice use Tee, Splice, Fill and Drain.
package pipe

import (
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"ringbox/fs/waiter"
)

// Sizes, as on Linux x86-64.
const (
	// PageSize is the size of one buffer (slot).
	PageSize = 4096
	// AtomicIOBytes is PIPE_BUF: writes up to this size are never split.
	AtomicIOBytes = 4096
	// DefaultSlots is the number of buffers of a new pipe (64 KiB).
	DefaultSlots = 16
	// DefaultSize is the capacity of a new pipe.
	DefaultSize = DefaultSlots * PageSize
	// MaxSize is the largest size F_SETPIPE_SZ accepts (the default
	// /proc/sys/fs/pipe-max-size); more is EPERM.
	MaxSize = 1 << 20
)

// pipefsDev is the st_dev of every pipe (Linux's pipefs is an anonymous
// superblock too).
const pipefsDev = 0xd

var nextIno atomic.Uint64

func init() { nextIno.Store(10000) }

// buffer is one slot: data[off:] is unread.
type buffer struct {
	data   []byte // len <= PageSize
	off    int
	packet bool // O_DIRECT write: read whole, never merged into
}

func (b *buffer) unread() int { return len(b.data) - b.off }

// Pipe is the shared state of a pipe's two ends.
type Pipe struct {
	mu      sync.Mutex
	bufs    []*buffer // FIFO of occupied slots, len(bufs) <= slots
	slots   int
	bytes   int // unread bytes in bufs
	readers int
	writers int

	ino      uint64
	uid, gid uint32
	created  unix.Timespec

	rq waiter.Queue // waiters of read ends (readable, hang-up)
	wq waiter.Queue // waiters of write ends (writable, error)

	fifo *fifoState // nil for an anonymous pipe
}

// New makes a pipe owned by uid/gid and returns its read and write ends.
// packet selects O_DIRECT packet mode for the write end.
func New(uid, gid uint32, packet bool) (r, w *End) {
	now := time.Now()
	p := &Pipe{slots: DefaultSlots, ino: nextIno.Add(1), uid: uid, gid: gid,
		created: unix.NsecToTimespec(now.UnixNano()), readers: 1, writers: 1}
	return &End{p: p, read: true}, &End{p: p, write: true, packet: packet}
}

// full reports whether every slot is taken.
func (p *Pipe) full() bool { return len(p.bufs) >= p.slots }

// popFront drops the first buffer.
func (p *Pipe) popFront() {
	n := copy(p.bufs, p.bufs[1:])
	p.bufs[n] = nil
	p.bufs = p.bufs[:n]
}

// read copies up to len(dst) bytes out of the pipe, consuming them, and
// reports whether a writer may now have room. A packet buffer is consumed
// whole by one read. The caller holds mu.
func (p *Pipe) readLocked(dst []byte, consume bool) (int, bool) {
	wasFull := p.full()
	n := 0
	for i := 0; i < len(p.bufs) && n < len(dst); {
		b := p.bufs[i]
		c := copy(dst[n:], b.data[b.off:])
		n += c
		if !consume {
			if b.packet {
				break
			}
			i++
			continue
		}
		p.bytes -= c
		b.off += c
		if b.packet {
			p.bytes -= b.unread()
			b.off = len(b.data)
		}
		if b.unread() == 0 {
			p.popFront()
		}
		if b.packet {
			break
		}
	}
	return n, wasFull && !p.full()
}

// writeLocked stores as much of src as fits without splitting a write of
// up to PIPE_BUF bytes, merging its head into the last buffer when it
// fits there as Linux does. The caller holds mu and checked readers.
func (p *Pipe) writeLocked(src []byte, packet bool) int {
	n := 0
	if chars := len(src) % PageSize; chars != 0 && len(p.bufs) > 0 && !packet {
		last := p.bufs[len(p.bufs)-1]
		if !last.packet && len(last.data)+chars <= PageSize {
			last.data = append(last.data, src[:chars]...)
			n = chars
		}
	}
	for n < len(src) && !p.full() {
		c := min(len(src)-n, PageSize)
		b := &buffer{data: make([]byte, c, PageSize), packet: packet}
		copy(b.data, src[n:n+c])
		p.bufs = append(p.bufs, b)
		n += c
	}
	p.bytes += n
	return n
}

// readEvents returns the read end's ready events. The caller holds mu.
func (p *Pipe) readEvents() waiter.EventMask {
	var m waiter.EventMask
	if len(p.bufs) > 0 {
		m |= waiter.ReadableEvents
	}
	if p.writers == 0 {
		m |= waiter.EventHup
	}
	return m
}

// writeEvents returns the write end's ready events. The caller holds mu.
func (p *Pipe) writeEvents() waiter.EventMask {
	var m waiter.EventMask
	if !p.full() {
		m |= waiter.WritableEvents
	}
	if p.readers == 0 {
		m |= waiter.EventErr
	}
	return m
}

// Size returns the capacity in bytes (F_GETPIPE_SZ).
func (p *Pipe) Size() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.slots * PageSize
}

// SetSize changes the capacity (F_SETPIPE_SZ): size is rounded up to a
// power of two pages, at least one; more than MaxSize is EPERM, more
// than 2^31 EINVAL, fewer slots than the buffers in use EBUSY. It returns
// the new capacity.
func (p *Pipe) SetSize(size uint64) (int, error) {
	if size > 1<<31 {
		return 0, unix.EINVAL
	}
	rounded := uint64(PageSize)
	for rounded < size {
		rounded <<= 1
	}
	slots := int(rounded / PageSize)
	p.mu.Lock()
	if slots > p.slots && rounded > MaxSize {
		p.mu.Unlock()
		return 0, unix.EPERM
	}
	if slots < len(p.bufs) {
		p.mu.Unlock()
		return 0, unix.EBUSY
	}
	grew := slots > p.slots
	p.slots = slots
	p.mu.Unlock()
	if grew {
		p.wq.Notify(waiter.WritableEvents)
	}
	return slots * PageSize, nil
}

// Buffered returns the number of unread bytes (FIONREAD).
func (p *Pipe) Buffered() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.bytes
}

// Ino returns the pipe's inode number.
func (p *Pipe) Ino() uint64 { return p.ino }

func (p *Pipe) stat() unix.Stat_t {
	return unix.Stat_t{Dev: pipefsDev, Ino: p.ino, Nlink: 1, Mode: unix.S_IFIFO | 0o600,
		Uid: p.uid, Gid: p.gid, Blksize: PageSize, Atim: p.created, Mtim: p.created, Ctim: p.created}
}

// lockTwo locks a and b in a fixed order (by inode number).
func lockTwo(a, b *Pipe) {
	if a.ino > b.ino {
		a, b = b, a
	}
	a.mu.Lock()
	b.mu.Lock()
}

func unlockTwo(a, b *Pipe) {
	a.mu.Unlock()
	b.mu.Unlock()
}

// transfer copies (tee) or moves (splice) up to n bytes from the front of
// src into new buffers of dst: one slot per source buffer, as Linux links
// buffers. It returns EAGAIN when src is empty while it has writers or
// dst is full, 0 at end of input, and EPIPE when dst has no reader.
func transfer(src, dst *Pipe, n int, consume bool) (int, error) {
	if src == dst {
		return 0, unix.EINVAL
	}
	if n <= 0 {
		return 0, nil
	}
	lockTwo(src, dst)
	if dst.readers == 0 {
		unlockTwo(src, dst)
		return 0, unix.EPIPE
	}
	if len(src.bufs) == 0 {
		eof := src.writers == 0
		unlockTwo(src, dst)
		if eof {
			return 0, nil
		}
		return 0, unix.EAGAIN
	}
	if dst.full() {
		unlockTwo(src, dst)
		return 0, unix.EAGAIN
	}
	srcWasFull := src.full()
	done := 0
	i := 0
	for i < len(src.bufs) && done < n && !dst.full() {
		b := src.bufs[i]
		c := min(b.unread(), n-done)
		nb := &buffer{data: make([]byte, c, PageSize), packet: b.packet}
		copy(nb.data, b.data[b.off:b.off+c])
		dst.bufs = append(dst.bufs, nb)
		dst.bytes += c
		done += c
		if !consume {
			i++
			continue
		}
		b.off += c
		src.bytes -= c
		if b.unread() == 0 {
			src.popFront()
		}
	}
	wakeWriters := consume && srcWasFull && !src.full()
	unlockTwo(src, dst)
	dst.rq.Notify(waiter.ReadableEvents)
	if wakeWriters {
		src.wq.Notify(waiter.WritableEvents)
	}
	return done, nil
}

// Tee duplicates up to n bytes from the front of src into dst without
// consuming them (tee(2)).
func Tee(src, dst *Pipe, n int) (int, error) { return transfer(src, dst, n, false) }

// Splice moves up to n bytes from src to dst (splice(2) between pipes).
func Splice(src, dst *Pipe, n int) (int, error) { return transfer(src, dst, n, true) }

// fillChunk bounds the bytes one Fill call reads.
const fillChunk = 1 << 16

// Fill stores up to n bytes that read produces into free slots of the
// pipe (splice from a file), never merging. read is called with the pipe
// locked, at most once, with a buffer no larger than the free space. It
// returns EAGAIN when the pipe is full and EPIPE when it has no reader.
func (p *Pipe) Fill(n int, read func([]byte) (int, error)) (int, error) {
	if n <= 0 {
		return 0, nil
	}
	p.mu.Lock()
	if p.readers == 0 {
		p.mu.Unlock()
		return 0, unix.EPIPE
	}
	free := p.slots - len(p.bufs)
	if free <= 0 {
		p.mu.Unlock()
		return 0, unix.EAGAIN
	}
	buf := make([]byte, min(n, free*PageSize, fillChunk))
	got, err := read(buf)
	if got > 0 {
		for off := 0; off < got; off += PageSize {
			c := min(got-off, PageSize)
			b := &buffer{data: make([]byte, c, PageSize)}
			copy(b.data, buf[off:off+c])
			p.bufs = append(p.bufs, b)
		}
		p.bytes += got
	}
	p.mu.Unlock()
	if got > 0 {
		p.rq.Notify(waiter.ReadableEvents)
		return got, nil
	}
	return 0, err
}

// Drain passes up to n bytes from the front of the pipe to write (splice
// to a file), called with the pipe locked, and consumes what write
// accepted. It returns 0 at end of input and EAGAIN when the pipe is
// empty while it has writers.
func (p *Pipe) Drain(n int, write func([]byte) (int, error)) (int, error) {
	if n <= 0 {
		return 0, nil
	}
	p.mu.Lock()
	if len(p.bufs) == 0 {
		eof := p.writers == 0
		p.mu.Unlock()
		if eof {
			return 0, nil
		}
		return 0, unix.EAGAIN
	}
	buf := make([]byte, min(n, p.bytes, fillChunk))
	c, _ := p.readLocked(buf, false)
	w, err := write(buf[:c])
	wake := false
	if w > 0 {
		_, wake = p.readLocked(make([]byte, w), true)
	}
	p.mu.Unlock()
	if wake {
		p.wq.Notify(waiter.WritableEvents)
	}
	if w > 0 {
		return w, nil
	}
	return 0, err
}
