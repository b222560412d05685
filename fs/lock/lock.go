package lock

import (
	"sync"

	"golang.org/x/sys/unix"

	"ringbox/fs"
)

// Lock types.
const (
	Read   = unix.F_RDLCK
	Write  = unix.F_WRLCK
	Unlock = unix.F_UNLCK
)

// EOF as a range's end: the lock reaches past any end of the file.
const EOF = ^uint64(0)

// Key names a file: its st_dev and st_ino in the sandbox.
type Key struct{ Dev, Ino uint64 }

// KeyOf returns the key of an open file.
func KeyOf(f *fs.File) (Key, error) {
	st, err := f.Stat()
	if err != nil {
		return Key{}, err
	}
	return Key{uint64(st.Dev), st.Ino}, nil
}

// Lock is a held lock of [Start, End).
type Lock struct {
	Owner      any
	PID        int32 // the process that took it (-1: an OFD lock)
	Type       int   // Read or Write
	Start, End uint64
}

func (l *Lock) conflicts(owner any, typ int, start, end uint64) bool {
	return l.Owner != owner && l.Start < end && start < l.End && (typ == Write || l.Type == Write)
}

// Waiter is a task that can wait for a lock.
type Waiter interface {
	// Interrupted receives when the waiter should look at SignalPending.
	Interrupted() <-chan struct{}
	// SignalPending reports whether the wait must end.
	SignalPending() bool
}

// ErrInterrupted ends a wait cut short by a signal.
var ErrInterrupted = unix.EINTR

// Manager holds every lock of a sandbox.
type Manager struct {
	mu    sync.Mutex
	files map[Key]*fileLocks
	// posix counts the POSIX locks by owner, so that a descriptor
	// table closing a file it holds none on costs nothing.
	posix map[any]int
	// waiting is what each task blocked in SetRecord for a POSIX lock
	// waits for (the deadlock check follows it).
	waiting map[Waiter]request
}

type request struct {
	owner      any
	key        Key
	typ        int
	start, end uint64
}

type fileLocks struct {
	records []Lock // POSIX and OFD locks, in no order
	flocks  []Lock
	// changed is closed, and replaced, whenever a lock goes away.
	changed chan struct{}
	waiters int
}

// New makes an empty manager.
func New() *Manager {
	return &Manager{files: map[Key]*fileLocks{}, posix: map[any]int{}, waiting: map[Waiter]request{}}
}

func (m *Manager) fileLocked(k Key) *fileLocks {
	fl := m.files[k]
	if fl == nil {
		fl = &fileLocks{changed: make(chan struct{})}
		m.files[k] = fl
	}
	return fl
}

// changedLocked wakes the waiters of k and forgets it if nothing is left.
func (m *Manager) changedLocked(k Key, fl *fileLocks) {
	close(fl.changed)
	fl.changed = make(chan struct{})
	if len(fl.records) == 0 && len(fl.flocks) == 0 && fl.waiters == 0 {
		delete(m.files, k)
	}
}

// Test returns a lock that would conflict with owner's lock of typ on
// [start, end) (F_GETLK), and whether there is one.
func (m *Manager) Test(k Key, owner any, typ int, start, end uint64) (Lock, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if fl := m.files[k]; fl != nil {
		for _, l := range fl.records {
			if l.conflicts(owner, typ, start, end) {
				return l, true
			}
		}
	}
	return Lock{}, false
}

// SetRecord takes, changes or drops (Unlock) owner's record lock on
// [start, end) of k. pid is the locking process (-1 for an OFD lock). A
// conflicting lock makes it fail with EAGAIN, or with wait, blocks until
// there is none: EDEADLK if owner would wait on itself through other
// waiting POSIX owners, ErrInterrupted on a signal.
func (m *Manager) SetRecord(w Waiter, k Key, owner any, pid int32, typ int, start, end uint64, wait bool) error {
	if start >= end {
		return unix.EINVAL
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	fl := m.fileLocked(k)
	if typ == Unlock {
		if m.cutLocked(fl, owner, start, end, pid >= 0) {
			m.changedLocked(k, fl)
		} else if len(fl.records) == 0 && len(fl.flocks) == 0 && fl.waiters == 0 {
			delete(m.files, k)
		}
		return nil
	}
	for {
		blocker, ok := conflict(fl.records, owner, typ, start, end)
		if !ok {
			break
		}
		if !wait {
			m.forgetIfEmpty(k, fl)
			return unix.EAGAIN
		}
		if pid >= 0 && m.deadlockLocked(owner, blocker) {
			m.forgetIfEmpty(k, fl)
			return unix.EDEADLK
		}
		if err := m.waitLocked(w, fl, pid >= 0, request{owner, k, typ, start, end}); err != nil {
			m.forgetIfEmpty(k, fl)
			return err
		}
	}
	// Replace what owner held of the range, then merge with its
	// touching locks of the same type.
	m.cutLocked(fl, owner, start, end, pid >= 0)
	nl := Lock{Owner: owner, PID: pid, Type: typ, Start: start, End: end}
	kept := fl.records[:0]
	for _, l := range fl.records {
		if l.Owner == owner && l.Type == typ && l.Start <= nl.End && nl.Start <= l.End {
			nl.Start, nl.End = min(nl.Start, l.Start), max(nl.End, l.End)
			if pid >= 0 {
				m.posix[owner]--
			}
			continue
		}
		kept = append(kept, l)
	}
	fl.records = append(kept, nl)
	if pid >= 0 {
		m.posix[owner]++
	}
	// A lock that went from write to read lets readers in.
	m.changedLocked(k, fl)
	return nil
}

// conflict returns the first of locks that conflicts with the request.
func conflict(locks []Lock, owner any, typ int, start, end uint64) (Lock, bool) {
	for _, l := range locks {
		if l.conflicts(owner, typ, start, end) {
			return l, true
		}
	}
	return Lock{}, false
}

// cutLocked removes owner's record locks from [start, end), splitting
// those that reach past it; it reports whether anything went.
func (m *Manager) cutLocked(fl *fileLocks, owner any, start, end uint64, posix bool) bool {
	var out []Lock
	cut := false
	for _, l := range fl.records {
		if l.Owner != owner || l.End <= start || end <= l.Start {
			out = append(out, l)
			continue
		}
		cut = true
		if posix {
			m.posix[owner]--
		}
		if l.Start < start {
			left := l
			left.End = start
			out = append(out, left)
			if posix {
				m.posix[owner]++
			}
		}
		if end < l.End {
			right := l
			right.Start = end
			out = append(out, right)
			if posix {
				m.posix[owner]++
			}
		}
	}
	if posix && m.posix[owner] <= 0 {
		delete(m.posix, owner)
	}
	fl.records = out
	return cut
}

func (m *Manager) forgetIfEmpty(k Key, fl *fileLocks) {
	if len(fl.records) == 0 && len(fl.flocks) == 0 && fl.waiters == 0 {
		delete(m.files, k)
	}
}

// deadlockLocked reports whether owner waiting on blocker closes a cycle:
// blocker waits for a lock held by an owner that waits ... for owner. As
// on Linux, only POSIX owners count (an OFD lock ends the chain).
func (m *Manager) deadlockLocked(owner any, blocker Lock) bool {
	for range 64 {
		if blocker.PID < 0 {
			return false
		}
		if blocker.Owner == owner {
			return true
		}
		var req request
		found := false
		for _, r := range m.waiting {
			if r.owner == blocker.Owner {
				req, found = r, true
				break
			}
		}
		if !found {
			return false
		}
		fl := m.files[req.key]
		if fl == nil {
			return false
		}
		next, ok := conflict(fl.records, req.owner, req.typ, req.start, req.end)
		if !ok {
			return false
		}
		blocker = next
	}
	return false
}

// waitLocked waits, m.mu released meanwhile, until a lock of fl goes away
// or a signal comes. A POSIX waiter is recorded for the deadlock check.
func (m *Manager) waitLocked(w Waiter, fl *fileLocks, posix bool, req request) error {
	if w == nil {
		return unix.EAGAIN
	}
	ch := fl.changed
	fl.waiters++
	if posix {
		m.waiting[w] = req
	}
	m.mu.Unlock()
	var err error
	if w.SignalPending() {
		err = ErrInterrupted
	} else {
		select {
		case <-ch:
		case <-w.Interrupted():
			if w.SignalPending() {
				err = ErrInterrupted
			}
		}
	}
	m.mu.Lock()
	if posix {
		delete(m.waiting, w)
	}
	fl.waiters--
	return err
}

// Flock takes, converts or drops (Unlock) owner's flock lock of k: typ
// Read is LOCK_SH, Write LOCK_EX. A conflict makes it fail with
// EWOULDBLOCK unless wait, when it blocks (ErrInterrupted on a signal).
// As on Linux, a conversion drops the old lock before it waits.
func (m *Manager) Flock(w Waiter, k Key, owner any, typ int, wait bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	fl := m.fileLocked(k)
	had := false
	for i, l := range fl.flocks {
		if l.Owner == owner {
			if l.Type == typ {
				return nil
			}
			fl.flocks = append(fl.flocks[:i], fl.flocks[i+1:]...)
			had = true
			break
		}
	}
	if had {
		m.changedLocked(k, fl)
		fl = m.fileLocked(k)
	}
	if typ == Unlock {
		m.forgetIfEmpty(k, fl)
		return nil
	}
	for {
		if _, ok := conflict(fl.flocks, owner, typ, 0, EOF); !ok {
			break
		}
		if !wait {
			m.forgetIfEmpty(k, fl)
			return unix.EWOULDBLOCK
		}
		if err := m.waitLocked(w, fl, false, request{owner, k, typ, 0, EOF}); err != nil {
			m.forgetIfEmpty(k, fl)
			return err
		}
	}
	// Another waiter of the same open file (threads, or processes
	// sharing it) may have taken it meanwhile: one lock per owner.
	for i, l := range fl.flocks {
		if l.Owner == owner {
			fl.flocks[i].Type = typ
			return nil
		}
	}
	fl.flocks = append(fl.flocks, Lock{Owner: owner, PID: -1, Type: typ, Start: 0, End: EOF})
	return nil
}

// ReleaseFile drops every lock an open file description holds on k (its
// OFD and flock locks), when its last descriptor is gone.
func (m *Manager) ReleaseFile(k Key, owner any) {
	m.mu.Lock()
	defer m.mu.Unlock()
	fl := m.files[k]
	if fl == nil {
		return
	}
	cut := m.cutLocked(fl, owner, 0, EOF, false)
	for i, l := range fl.flocks {
		if l.Owner == owner {
			fl.flocks = append(fl.flocks[:i], fl.flocks[i+1:]...)
			cut = true
			break
		}
	}
	if cut {
		m.changedLocked(k, fl)
	}
}

// HoldsPOSIX reports whether owner holds any POSIX lock.
func (m *Manager) HoldsPOSIX(owner any) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.posix[owner] > 0
}

// ReleasePOSIX drops owner's POSIX locks on k: the descriptor table closed
// a descriptor of the file (any of them, as POSIX has it).
func (m *Manager) ReleasePOSIX(k Key, owner any) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if fl := m.files[k]; fl != nil && m.cutLocked(fl, owner, 0, EOF, true) {
		m.changedLocked(k, fl)
	}
}
