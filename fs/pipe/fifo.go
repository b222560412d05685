package pipe

import (
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"ringbox/fs/waiter"
)

// FIFOKey names a FIFO node (mknod S_IFIFO, mkfifo): its st_dev and
// st_ino.
type FIFOKey struct{ Dev, Ino uint64 }

// FIFOs holds the pipes of a sandbox's FIFO nodes that are open: one per
// node, made at its first open and dropped, with whatever it still
// buffered, when its last end closes (as Linux frees a FIFO's pipe). The
// node itself stays a name in its filesystem.
type FIFOs struct {
	mu sync.Mutex
	m  map[FIFOKey]*Pipe
}

// fifoState is what a FIFO's pipe adds to an anonymous one: the counts of
// opens of each side, which tell a blocked opener that a partner came
// (even one that has already closed again).
type fifoState struct {
	table      *FIFOs
	key        FIFOKey
	readOpens  uint64
	writeOpens uint64
}

// Open opens an end of the FIFO key as open(2) does: for reading, writing
// or both (O_RDWR). It never blocks: a blocking open waits, on the end's
// queue, until WaitingForPartner is false. A write-only open with
// O_NONBLOCK while no reader has the FIFO open is ENXIO. stat returns the node's attributes (fstat of the end).
func (f *FIFOs) Open(key FIFOKey, read, write, nonblock bool, stat func() (unix.Stat_t, error)) (*End, error) {
	f.mu.Lock()
	p := f.m[key]
	if p == nil {
		if write && !read && nonblock {
			f.mu.Unlock()
			return nil, unix.ENXIO
		}
		if f.m == nil {
			f.m = make(map[FIFOKey]*Pipe)
		}
		p = &Pipe{slots: DefaultSlots, ino: key.Ino, created: unix.NsecToTimespec(time.Now().UnixNano()),
			fifo: &fifoState{table: f, key: key}}
		f.m[key] = p
	}
	p.mu.Lock()
	if write && !read && nonblock && p.readers == 0 {
		p.mu.Unlock()
		f.mu.Unlock()
		return nil, unix.ENXIO
	}
	e := &End{p: p, read: read, write: write, stat: stat}
	if read {
		p.readers++
		p.fifo.readOpens++
	}
	if write {
		p.writers++
		p.fifo.writeOpens++
	}
	e.readOpensSeen, e.writeOpensSeen = p.fifo.readOpens, p.fifo.writeOpens
	// A reader that opened without waiting, before any writer, sees no
	// hang-up until a writer came and went (Linux's f_version).
	e.hupAfterWriter = read && !write && p.writers == 0
	p.mu.Unlock()
	f.mu.Unlock()
	// Wake the other side's blocked openers (and pollers: a writer
	// ends a reader's hang-up).
	if read {
		p.wq.Notify(waiter.AllEvents)
	}
	if write {
		p.rq.Notify(waiter.AllEvents)
	}
	return e, nil
}

// WaitingForPartner reports whether a blocking open of e must still wait:
// a read-only end until a writer has opened the FIFO (one that was there
// already counts), a write-only end until a reader has. An O_RDWR end and
// an anonymous pipe's end never wait.
func (e *End) WaitingForPartner() bool {
	p := e.p
	if p.fifo == nil || e.read == e.write {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if e.read {
		return p.writers == 0 && p.fifo.writeOpens == e.writeOpensSeen
	}
	return p.readers == 0 && p.fifo.readOpens == e.readOpensSeen
}

// releaseFIFO drops an end of a FIFO's pipe, and the pipe from the table
// with its buffered data when it was the last.
func (p *Pipe) releaseFIFO(read, write bool) {
	t := p.fifo.table
	t.mu.Lock()
	p.mu.Lock()
	if read {
		p.readers--
	}
	if write {
		p.writers--
	}
	if p.readers == 0 && p.writers == 0 {
		if t.m[p.fifo.key] == p {
			delete(t.m, p.fifo.key)
		}
		p.bufs, p.bytes = nil, 0
	}
	p.mu.Unlock()
	t.mu.Unlock()
}
