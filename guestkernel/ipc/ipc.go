package ipc

import (
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"ringbox/guestkernel/memfile"
)

// Flags and commands shared by the three kinds of objects (linux/ipc.h).
const (
	Private = 0 // IPC_PRIVATE: a new object with no key

	Creat  = 0o1000 // IPC_CREAT
	Excl   = 0o2000 // IPC_EXCL
	NoWait = 0o4000 // IPC_NOWAIT

	RMID = 0 // IPC_RMID
	Set  = 1 // IPC_SET
	Stat = 2 // IPC_STAT
	Info = 3 // IPC_INFO
)

// idMult is Linux's IPCMNI: an ID is sequence * idMult + index.
const idMult = 32768

// maxSeq bounds the sequence part so that IDs stay positive int32s.
const maxSeq = (1<<31 - 1) / idMult

// minCycle is how many indexes the cyclic allocation spans at least
// (Linux's ipc_min_cycle).
const minCycle = 64

// Caller is who makes a call: its process (for the *pid fields and
// SEM_UNDO) and its effective user and group.
type Caller struct {
	PID      int32
	UID, GID uint32
}

// Perm is an object's ipc_perm.
type Perm struct {
	Key                  int32
	UID, GID, CUID, CGID uint32
	// Mode holds the permission bits and, for segments, SHM_DEST and
	// SHM_LOCKED.
	Mode uint32
	Seq  uint16
}

// owner reports whether c owns or created the object (IPC_SET, IPC_RMID).
func (p *Perm) owner(c Caller) bool { return c.UID == p.UID || c.UID == p.CUID }

// allowed reports whether c may access the object as flag asks: any of
// the read (0444) and write (0222) bits, as Linux's ipcperms.
func (p *Perm) allowed(c Caller, flag uint32) bool {
	req := (flag>>6 | flag>>3 | flag) & 7
	granted := p.Mode
	switch {
	case c.UID == p.CUID || c.UID == p.UID:
		granted >>= 6
	case c.GID == p.CGID || c.GID == p.GID:
		granted >>= 3
	}
	return req&^granted&7 == 0
}

// access modes asked of allowed.
const (
	accRead  = 0o444
	accWrite = 0o222
	accExec  = 0o111
)

// SetPerm is what IPC_SET changes.
type SetPerm struct {
	UID, GID uint32
	Mode     uint32
}

// apply changes p as IPC_SET does; IDs of -1 are invalid.
func (p *Perm) apply(s SetPerm) error {
	if s.UID == ^uint32(0) || s.GID == ^uint32(0) {
		return unix.EINVAL
	}
	p.UID, p.GID = s.UID, s.GID
	p.Mode = p.Mode&^0o777 | s.Mode&0o777
	return nil
}

// object is what a registry holds.
type object interface {
	base() *objBase
}

// objBase is the part every object has.
type objBase struct {
	id   int32
	perm Perm
}

func (b *objBase) base() *objBase { return b }

// registry holds the objects of one kind, by index and by key.
type registry[T object] struct {
	max     int // SHMMNI, SEMMNI, MSGMNI
	entries []T // by index; the zero T is a free slot
	keys    map[int32]int
	inUse   int
	seq     int
	lastIdx int
}

func newRegistry[T object](max int) registry[T] {
	return registry[T]{max: max, keys: map[int32]int{}, lastIdx: -1}
}

// add gives obj an ID (and its key, unless Private); ENOSPC past max.
func (r *registry[T]) add(key int32, obj T) (int32, error) {
	if r.inUse >= r.max {
		return 0, unix.ENOSPC
	}
	// Cyclic allocation over a window that grows with use, as Linux's
	// idr_alloc_cyclic: the sequence moves on when the index wraps, so
	// a removed object's ID is not soon reused.
	window := min(max(r.inUse*3/2, minCycle), r.max)
	idx := -1
	start := r.lastIdx + 1
	if start >= window {
		start = 0
	}
	for i := range window {
		j := (start + i) % window
		if j >= len(r.entries) || r.isFree(j) {
			idx = j
			break
		}
	}
	if idx < 0 {
		return 0, unix.ENOSPC
	}
	if idx <= r.lastIdx {
		r.seq++
		if r.seq > maxSeq {
			r.seq = 0
		}
	}
	r.lastIdx = idx
	for len(r.entries) <= idx {
		var zero T
		r.entries = append(r.entries, zero)
	}
	r.entries[idx] = obj
	r.inUse++
	b := obj.base()
	b.id = int32(r.seq*idMult + idx)
	b.perm.Seq = uint16(r.seq)
	b.perm.Key = key
	if key != Private {
		r.keys[key] = idx
	}
	return b.id, nil
}

func (r *registry[T]) isFree(idx int) bool {
	var zero T
	return any(r.entries[idx]) == any(zero)
}

// lookup returns the object with this ID.
func (r *registry[T]) lookup(id int32) (T, bool) {
	var zero T
	if id < 0 {
		return zero, false
	}
	idx := int(id % idMult)
	if idx >= len(r.entries) || r.isFree(idx) {
		return zero, false
	}
	o := r.entries[idx]
	if o.base().id != id {
		return zero, false
	}
	return o, true
}

// at returns the object at an index (the *_STAT commands).
func (r *registry[T]) at(idx int) (T, bool) {
	var zero T
	if idx < 0 || idx >= len(r.entries) || r.isFree(idx) {
		return zero, false
	}
	return r.entries[idx], true
}

// byKey returns the object with this key.
func (r *registry[T]) byKey(key int32) (T, bool) {
	var zero T
	idx, ok := r.keys[key]
	if !ok {
		return zero, false
	}
	return r.entries[idx], true
}

// forgetKey makes the object unreachable by its key (a segment removed
// while attached): its key reads IPC_PRIVATE from then on.
func (r *registry[T]) forgetKey(o T) {
	b := o.base()
	if b.perm.Key != Private {
		if idx, ok := r.keys[b.perm.Key]; ok && idx == int(b.id%idMult) {
			delete(r.keys, b.perm.Key)
		}
		b.perm.Key = Private
	}
}

// remove frees the object's slot.
func (r *registry[T]) remove(o T) {
	r.forgetKey(o)
	idx := int(o.base().id % idMult)
	var zero T
	if idx < len(r.entries) && any(r.entries[idx]) == any(o) {
		r.entries[idx] = zero
		r.inUse--
	}
	for n := len(r.entries); n > 0 && r.isFree(n-1); n-- {
		r.entries = r.entries[:n-1]
	}
}

// maxIdx is the highest index in use, 0 with none (what IPC_INFO returns).
func (r *registry[T]) maxIdx() int {
	return max(len(r.entries)-1, 0)
}

// each calls f for every object.
func (r *registry[T]) each(f func(T)) {
	for i := range r.entries {
		if !r.isFree(i) {
			f(r.entries[i])
		}
	}
}

// getOrCreate is the common part of shmget, semget and msgget: key
// Private makes a new object; another key finds the object (EEXIST with
// Creat|Excl, then check's error, then EACCES for the access the low
// mode bits of flags ask) or makes one with Creat (else ENOENT).
// make's object is given to drop if the registry is full (ENOSPC).
func getOrCreate[T object](r *registry[T], c Caller, key int32, flags int, check func(T) error, make func() (T, error), drop func(T)) (int32, error) {
	create := func() (int32, error) {
		o, err := make()
		if err != nil {
			return 0, err
		}
		if r.inUse >= r.max {
			drop(o)
			return 0, unix.ENOSPC
		}
		b := o.base()
		b.perm.UID, b.perm.CUID = c.UID, c.UID
		b.perm.GID, b.perm.CGID = c.GID, c.GID
		b.perm.Mode = uint32(flags) & 0o777
		return r.add(key, o)
	}
	if key == Private {
		return create()
	}
	o, ok := r.byKey(key)
	if !ok {
		if flags&Creat == 0 {
			return 0, unix.ENOENT
		}
		return create()
	}
	if flags&Creat != 0 && flags&Excl != 0 {
		return 0, unix.EEXIST
	}
	if check != nil {
		if err := check(o); err != nil {
			return 0, err
		}
	}
	if !o.base().perm.allowed(c, uint32(flags)&0o777) {
		return 0, unix.EACCES
	}
	return o.base().id, nil
}

// Waiter is the waiting side of a blocking call; *kernel.Task implements
// it.
type Waiter interface {
	// Interrupted receives when the waiter should look at SignalPending.
	Interrupted() <-chan struct{}
	// SignalPending reports whether the wait must end.
	SignalPending() bool
}

// Outcomes of sleep.
const (
	woken = iota
	interrupted
	timedOut
)

// sleep waits until done is closed, a signal must be acted on, or the
// deadline (if not zero) passes.
func sleep(w Waiter, done <-chan struct{}, deadline time.Time) int {
	select {
	case <-done:
		return woken
	default:
	}
	var timeout <-chan time.Time
	if !deadline.IsZero() {
		d := time.Until(deadline)
		if d <= 0 {
			return timedOut
		}
		timer := time.NewTimer(d)
		defer timer.Stop()
		timeout = timer.C
	}
	if w.SignalPending() {
		return interrupted
	}
	intr := w.Interrupted()
	for {
		select {
		case <-done:
			return woken
		case <-timeout:
			return timedOut
		case <-intr:
			if w.SignalPending() {
				return interrupted
			}
		}
	}
}

// now is the time the *time fields record, in seconds.
func now() int64 { return time.Now().Unix() }

// Namespace is a sandbox's IPC namespace.
type Namespace struct {
	mem *memfile.File
	// memLimit is the sandbox's memory in bytes (a segment larger than
	// it cannot be made, as Linux's overcommit heuristic refuses one
	// larger than RAM and swap).
	memLimit uint64

	// Go memory held by all objects, bounded by budget (ENOMEM).
	budgetMu sync.Mutex
	budget   int64
	used     int64

	shmMu sync.Mutex
	shms  registry[*Segment]
	// shmTot is the pages of all segments.
	shmTot int64

	semMu sync.Mutex
	sems  registry[*SemSet]
	// usedSems counts the semaphores of all sets (SEMMNS).
	usedSems int
	// undos lists, per process, the sets it has SEM_UNDO records in.
	undos map[int32]map[*SemSet]struct{}

	msgMu    sync.Mutex
	msgs     registry[*Queue]
	msgCount int // messages in all queues
	msgBytes int // their bytes
}

// Budget bounds.
const (
	minBudget = 1 << 20
	maxBudget = 256 << 20
)

// NewNamespace makes an empty namespace whose segments take their pages
// from mem (nil: no shared memory, ENOMEM). The Go memory its objects may
// hold is a sixteenth of mem's size, at least 1 MiB and at most 256 MiB.
func NewNamespace(mem *memfile.File) *Namespace {
	ns := &Namespace{mem: mem, shms: newRegistry[*Segment](ShmMNI), sems: newRegistry[*SemSet](SemMNI),
		msgs: newRegistry[*Queue](MsgMNI), undos: map[int32]map[*SemSet]struct{}{}}
	if mem != nil {
		ns.memLimit = uint64(mem.Limit())
	}
	ns.budget = min(max(int64(ns.memLimit/16), minBudget), maxBudget)
	return ns
}

// SetBudget replaces the bound on the Go memory objects hold (tests).
func (ns *Namespace) SetBudget(n int64) {
	ns.budgetMu.Lock()
	ns.budget = n
	ns.budgetMu.Unlock()
}

// charge counts n more bytes of Go memory; ENOMEM past the budget.
func (ns *Namespace) charge(n int64) error {
	ns.budgetMu.Lock()
	defer ns.budgetMu.Unlock()
	if n > ns.budget-ns.used {
		return unix.ENOMEM
	}
	ns.used += n
	return nil
}

func (ns *Namespace) uncharge(n int64) {
	ns.budgetMu.Lock()
	ns.used -= n
	ns.budgetMu.Unlock()
}

// Used returns the Go memory the objects hold, in bytes (tests).
func (ns *Namespace) Used() int64 {
	ns.budgetMu.Lock()
	defer ns.budgetMu.Unlock()
	return ns.used
}

// objectCost is what an object itself is charged.
const objectCost = 256
