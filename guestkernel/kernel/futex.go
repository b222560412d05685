package kernel

// Futexes: the kernel's table of futex waiters, shared by every thread and
// process of the sandbox.
//
// Entry points for the exit, exec and clone code (nothing else in this
// file needs wiring):
//
//	func (t *Task) ExitRobustList()
//	    A thread exits (exit, exit_group, a fatal signal, the other
//	    threads killed by execve). Call it once on the exiting task, while
//	    t.MM is still its address space (before MM.Release) and while the
//	    task can still be found by its TID, without kernel locks held
//	    (k.mu, tg.mu). It walks the robust list that set_robust_list
//	    registered (t.RobustList; at most 2048 entries and list_op_pending),
//	    marks every futex word the thread owns FUTEX_OWNER_DIED and wakes a
//	    waiter of each, then hands every PI futex the thread still owns to
//	    its first waiter. From then on LOCK_PI on a word that names the
//	    thread returns ESRCH, as on Linux once the owner is gone.
//
//	func (t *Task) ExecRobustList()
//	    execve: the same for the old image, before Task.Exec replaces the
//	    address space (which clears t.RobustList); the thread lives on.
//
//	func (k *Kernel) FutexWakeAddr(m *mm.MM, addr uintptr)
//	    CLONE_CHILD_CLEARTID and set_tid_address: writes a 32-bit 0 at addr
//	    and wakes one waiter (a shared futex wake, as Linux does). Call it
//	    after ExitRobustList when t.ClearChildTID != 0 and the address space
//	    has other users (Linux skips it for the last user). Errors are
//	    ignored, as on Linux.
//
// Keys (mm.FutexKey): FUTEX_PRIVATE_FLAG operations are keyed by (address
// space, address); shared ones on a MAP_SHARED mapping by the word's
// address in the memory file, so processes that map the page at different
// addresses meet; shared ones on a private mapping by (address space,
// address) again, but apart from the private keys, as on Linux.
//
// Every comparison with and change of a futex word happens with the lock of
// its hash bucket held, through the address space (atomically on the
// memory-file page), so a waiter cannot miss a wake. A waiter woken, timed
// out and interrupted at once reports the wake.
//
// PI futexes follow Linux's protocol for the word (the owner's TID in the
// low 30 bits, FUTEX_WAITERS, FUTEX_OWNER_DIED) without priority
// inheritance: the kernel keeps, per contended PI futex, its owner and its
// waiters, and UNLOCK_PI hands the lock to the first waiter by writing its
// TID into the word.
//
// A waiter on a shared key holds no reference on the page: if every
// mapping of the page goes away while it waits, it can only be woken by a
// signal, a timeout, or a spurious wake on a later user of the page.

import (
	"encoding/binary"
	"errors"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"ringbox/guestkernel/mm"
)

// Futex word bits and limits (linux/futex.h).
const (
	FutexWaiters    = 0x80000000 // FUTEX_WAITERS: the owner must unlock in the kernel
	FutexOwnerDied  = 0x40000000 // FUTEX_OWNER_DIED: the owner died holding it
	FutexTIDMask    = 0x3fffffff // FUTEX_TID_MASK: the owner's TID
	FutexBitsetAny  = 0xffffffff // FUTEX_BITSET_MATCH_ANY
	FutexWaitvMax   = 128        // FUTEX_WAITV_MAX
	RobustListLimit = 2048       // ROBUST_LIST_LIMIT
	// RobustListHeadSize is sizeof(struct robust_list_head).
	RobustListHeadSize = 24
)

const (
	futexBucketBits = 8
	futexBuckets    = 1 << futexBucketBits
	// futexCASRetries bounds the compare-and-swap loops against user
	// code that keeps changing a word; past it the call fails with
	// EAGAIN instead of holding a bucket lock forever.
	futexCASRetries = 1 << 16
)

// Interruptible is the waiting side of a blocking futex operation. *Task
// implements it.
type Interruptible interface {
	// Interrupted receives when the waiter should look at SignalPending.
	Interrupted() <-chan struct{}
	// SignalPending reports whether the wait must end (a signal to act
	// on, or exit).
	SignalPending() bool
}

// FutexTable holds the waiters of every futex of a kernel.
type FutexTable struct {
	buckets  [futexBuckets]futexBucket
	piStates atomic.Int64 // contended PI futexes, so exits can skip the scan

	// taskByTID finds a live task (LOCK_PI's ESRCH for an owner that
	// does not exist). Nil: every TID is taken to exist.
	taskByTID func(tid int32) *Task

	exitMu  sync.Mutex
	exits   map[int32]*futexExit // threads that ran their futex exit, or are running it
	pruneAt int
}

// futexExit records a thread's futex exit: done is closed when it is over.
// The record stays while the thread can still be found by its TID, so that
// LOCK_PI does not attach to an owner that will never hand the lock over.
type futexExit struct {
	task *Task
	done chan struct{}
}

type futexBucket struct {
	mu         sync.Mutex
	head, tail *futexWaiter
	pi         map[mm.FutexKey]*futexPI
}

// futexPI is a contended PI futex: it exists while it has waiters.
type futexPI struct {
	owner   int32 // the TID the kernel takes for the owner
	waiters int   // queued waitPI waiters of the key
}

type waiterKind uint8

const (
	waitPlain     waiterKind = iota // FUTEX_WAIT, WAIT_BITSET, futex_waitv
	waitPI                          // LOCK_PI: waits for the lock to be handed over
	waitRequeuePI                   // WAIT_REQUEUE_PI, not yet requeued to the PI futex
)

// futexWaiter is one task waiting on one futex.
type futexWaiter struct {
	// Guarded by the lock of the bucket the waiter is queued on.
	key        mm.FutexKey
	kind       waiterKind
	prev, next *futexWaiter
	queued     bool
	err        error // what a woken PI waiter returns (nil: it owns the lock)

	bitset uint32
	tid    int32
	pi2    mm.FutexKey // WAIT_REQUEUE_PI: the PI futex it may be requeued to
	// m and addr reach the PI futex word of a waitPI or waitRequeuePI
	// waiter in its own address space, to hand it the lock.
	m     *mm.MM
	addr  uintptr
	index int // futex_waitv: the entry

	bucket atomic.Pointer[futexBucket] // changes only with both buckets locked
	wake   chan struct{}               // capacity 1; shared by a futex_waitv's waiters
}

func newWaiter(kind waiterKind, tid int32, wake chan struct{}) *futexWaiter {
	if wake == nil {
		wake = make(chan struct{}, 1)
	}
	return &futexWaiter{kind: kind, tid: tid, bitset: FutexBitsetAny, wake: wake}
}

// Futex returns the kernel's futex table.
func (k *Kernel) Futex() *FutexTable { return &k.futex }

// futexTaskByTID finds a running task by TID.
func (k *Kernel) futexTaskByTID(tid int32) *Task {
	k.mu.Lock()
	first := k.groups[tid]
	groups := make([]*ThreadGroup, 0, len(k.groups))
	for _, tg := range k.groups {
		groups = append(groups, tg)
	}
	k.mu.Unlock()
	if first != nil {
		groups = append([]*ThreadGroup{first}, groups...)
	}
	for _, tg := range groups {
		tg.mu.Lock()
		for _, t := range tg.tasks {
			if t.TID == tid {
				tg.mu.Unlock()
				return t
			}
		}
		tg.mu.Unlock()
	}
	return nil
}

func (f *FutexTable) bucketOf(k mm.FutexKey) *futexBucket {
	h := uint64(k.Addr)*0x9e3779b97f4a7c15 ^ uint64(uintptr(unsafe.Pointer(k.MM)))*0xc2b2ae3d27d4eb4f ^ uint64(k.Kind)
	h ^= h >> 31
	h *= 0xbf58476d1ce4e5b9
	return &f.buckets[h>>(64-futexBucketBits)]
}

// lock2 locks two buckets (once if they are the same) in a fixed order.
func lock2(a, b *futexBucket) {
	if a == b {
		a.mu.Lock()
		return
	}
	if uintptr(unsafe.Pointer(a)) > uintptr(unsafe.Pointer(b)) {
		a, b = b, a
	}
	a.mu.Lock()
	b.mu.Lock()
}

func unlock2(a, b *futexBucket) {
	a.mu.Unlock()
	if a != b {
		b.mu.Unlock()
	}
}

// enqueue appends w. Caller holds b.mu.
func (b *futexBucket) enqueue(w *futexWaiter) {
	w.prev, w.next = b.tail, nil
	if b.tail != nil {
		b.tail.next = w
	} else {
		b.head = w
	}
	b.tail = w
	w.queued = true
	w.bucket.Store(b)
}

// unlink removes w from the list only. Caller holds b.mu.
func (b *futexBucket) unlink(w *futexWaiter) {
	if w.prev != nil {
		w.prev.next = w.next
	} else {
		b.head = w.next
	}
	if w.next != nil {
		w.next.prev = w.prev
	} else {
		b.tail = w.prev
	}
	w.prev, w.next = nil, nil
	w.queued = false
}

// remove dequeues w, keeping the PI bookkeeping. Caller holds b.mu.
func (f *FutexTable) remove(b *futexBucket, w *futexWaiter) {
	b.unlink(w)
	if w.kind != waitPI {
		return
	}
	if ps := b.pi[w.key]; ps != nil {
		ps.waiters--
		if ps.waiters <= 0 {
			delete(b.pi, w.key)
			f.piStates.Add(-1)
		}
	}
}

// wakeWaiter dequeues w and wakes its task with err. Caller holds b.mu.
func (f *FutexTable) wakeWaiter(b *futexBucket, w *futexWaiter, err error) {
	f.remove(b, w)
	w.err = err
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// unqueue takes w off whatever queue it is on; it reports false if w had
// been woken already.
func (f *FutexTable) unqueue(w *futexWaiter) bool {
	for {
		b := w.bucket.Load()
		b.mu.Lock()
		if w.bucket.Load() != b {
			b.mu.Unlock() // requeued meanwhile
			continue
		}
		q := w.queued
		if q {
			f.remove(b, w)
		}
		b.mu.Unlock()
		return q
	}
}

// firstPI returns the first waitPI waiter of key. Caller holds b.mu.
func (b *futexBucket) firstPI(key mm.FutexKey) *futexWaiter {
	for w := b.head; w != nil; w = w.next {
		if w.key == key && w.kind == waitPI {
			return w
		}
	}
	return nil
}

// Outcomes of futexSleep.
const (
	sleepWoken = iota
	sleepTimedOut
	sleepInterrupted
)

// futexSleep waits for a wake on ch, the deadline (zero: none) or an
// interruption of c.
func futexSleep(c Interruptible, ch <-chan struct{}, deadline time.Time) int {
	select {
	case <-ch:
		return sleepWoken
	default:
	}
	var timeout <-chan time.Time
	if !deadline.IsZero() {
		d := time.Until(deadline)
		if d <= 0 {
			return sleepTimedOut
		}
		timer := time.NewTimer(d)
		defer timer.Stop()
		timeout = timer.C
	}
	if c.SignalPending() {
		return sleepInterrupted
	}
	if SpinWait(ch, deadline) {
		return sleepWoken
	}
	for {
		select {
		case <-ch:
			return sleepWoken
		case <-timeout:
			return sleepTimedOut
		case <-c.Interrupted():
			if c.SignalPending() {
				return sleepInterrupted
			}
		}
	}
}

// Wait is FUTEX_WAIT and FUTEX_WAIT_BITSET: if the word at addr holds val,
// sleep until a wake whose bitset shares a bit with bitset, the deadline
// (zero: none) or a signal. It returns nil when woken, EAGAIN if the word
// differs, ETIMEDOUT, EINTR when interrupted (the caller picks the restart
// code), EINVAL for a zero bitset or an unaligned address, EFAULT.
func (f *FutexTable) Wait(c Interruptible, m *mm.MM, addr uintptr, private bool, val, bitset uint32, deadline time.Time) error {
	if bitset == 0 {
		return unix.EINVAL
	}
	key, err := m.FutexKey(addr, private)
	if err != nil {
		return err
	}
	w := newWaiter(waitPlain, 0, nil)
	w.bitset = bitset
	w.key = key
	b := f.bucketOf(key)
	b.mu.Lock()
	cur, err := m.FutexLoad(addr)
	if err != nil {
		b.mu.Unlock()
		return err
	}
	if cur != val {
		b.mu.Unlock()
		return unix.EAGAIN
	}
	b.enqueue(w)
	b.mu.Unlock()
	switch futexSleep(c, w.wake, deadline) {
	case sleepTimedOut:
		if f.unqueue(w) {
			return unix.ETIMEDOUT
		}
	case sleepInterrupted:
		if f.unqueue(w) {
			return unix.EINTR
		}
	}
	return nil
}

// wakeKey wakes up to n plain waiters of key whose bitset matches (at least
// one when n <= 0, as Linux). A PI waiter on the key is EINVAL. Caller
// holds b.mu.
func (f *FutexTable) wakeKey(b *futexBucket, key mm.FutexKey, n int, bitset uint32) (int, error) {
	woken := 0
	for w := b.head; w != nil; {
		next := w.next
		if w.key == key {
			if w.kind != waitPlain {
				return 0, unix.EINVAL
			}
			if w.bitset&bitset != 0 {
				f.wakeWaiter(b, w, nil)
				woken++
				if woken >= n {
					break
				}
			}
		}
		w = next
	}
	return woken, nil
}

// Wake is FUTEX_WAKE and FUTEX_WAKE_BITSET: it wakes up to n waiters of the
// futex at addr whose bitset shares a bit with bitset and returns how many
// it woke.
func (f *FutexTable) Wake(m *mm.MM, addr uintptr, private bool, n int, bitset uint32) (int, error) {
	if bitset == 0 {
		return 0, unix.EINVAL
	}
	key, err := m.FutexKey(addr, private)
	if err != nil {
		return 0, err
	}
	b := f.bucketOf(key)
	b.mu.Lock()
	defer b.mu.Unlock()
	return f.wakeKey(b, key, n, bitset)
}

// Requeue is FUTEX_REQUEUE (cmp nil) and FUTEX_CMP_REQUEUE: if the word at
// addr holds *cmp, wake up to nWake waiters of addr and move up to nRequeue
// more to addr2. It returns the number woken plus requeued.
func (f *FutexTable) Requeue(m *mm.MM, addr, addr2 uintptr, private bool, nWake, nRequeue int, cmp *uint32) (int, error) {
	if nWake < 0 || nRequeue < 0 {
		return 0, unix.EINVAL
	}
	key1, err := m.FutexKey(addr, private)
	if err != nil {
		return 0, err
	}
	key2, err := m.FutexKey(addr2, private)
	if err != nil {
		return 0, err
	}
	b1, b2 := f.bucketOf(key1), f.bucketOf(key2)
	lock2(b1, b2)
	defer unlock2(b1, b2)
	if cmp != nil {
		cur, err := m.FutexLoad(addr)
		if err != nil {
			return 0, err
		}
		if cur != *cmp {
			return 0, unix.EAGAIN
		}
	}
	count := 0
	for w := b1.head; w != nil; {
		next := w.next
		if count-nWake >= nRequeue {
			break
		}
		if w.key == key1 {
			if w.kind != waitPlain {
				return 0, unix.EINVAL
			}
			count++
			if count <= nWake {
				f.wakeWaiter(b1, w, nil)
			} else {
				f.move(b1, b2, w, key2)
			}
		}
		w = next
	}
	return count, nil
}

// move requeues w from b1 to key2 in b2 (in place when the bucket is the
// same). Caller holds both locks.
func (f *FutexTable) move(b1, b2 *futexBucket, w *futexWaiter, key2 mm.FutexKey) {
	w.key = key2
	if b1 != b2 {
		b1.unlink(w)
		b2.enqueue(w)
	}
}

// FUTEX_WAKE_OP operations and comparisons (linux/futex.h).
const (
	futexOpSet  = 0
	futexOpAdd  = 1
	futexOpOr   = 2
	futexOpAndN = 3
	futexOpXor  = 4

	futexOpCmpEq = 0
	futexOpCmpNe = 1
	futexOpCmpLt = 2
	futexOpCmpLe = 3
	futexOpCmpGt = 4
	futexOpCmpGe = 5
)

// wakeOp is a decoded FUTEX_WAKE_OP val3:
// op:4 (the top bit FUTEX_OP_OPARG_SHIFT) | cmp:4 | oparg:12 | cmparg:12.
type wakeOp struct {
	op, cmp        uint32
	oparg, cmparg  int32
	shiftedOperand bool
}

// signExtend12 sign-extends a 12-bit field.
func signExtend12(v uint32) int32 { return int32(v<<20) >> 20 }

func decodeWakeOp(enc uint32) wakeOp {
	o := wakeOp{
		op:     (enc >> 28) & 7,
		cmp:    (enc >> 24) & 15,
		oparg:  signExtend12((enc >> 12) & 0xfff),
		cmparg: signExtend12(enc & 0xfff),
	}
	if enc&(1<<31) != 0 {
		// 1 << oparg; Linux masks an out-of-range shift (and logs it).
		o.oparg = int32(uint32(1) << (uint32(o.oparg) & 31))
		o.shiftedOperand = true
	}
	return o
}

// apply returns the new value of the word; false for an unknown operation.
func (o wakeOp) apply(old uint32) (uint32, bool) {
	arg := uint32(o.oparg)
	switch o.op {
	case futexOpSet:
		return arg, true
	case futexOpAdd:
		return old + arg, true
	case futexOpOr:
		return old | arg, true
	case futexOpAndN:
		return old &^ arg, true
	case futexOpXor:
		return old ^ arg, true
	}
	return 0, false
}

// compare tests the old value (as a signed int); false in the second
// result for an unknown comparison.
func (o wakeOp) compare(old uint32) (bool, bool) {
	v := int32(old)
	switch o.cmp {
	case futexOpCmpEq:
		return v == o.cmparg, true
	case futexOpCmpNe:
		return v != o.cmparg, true
	case futexOpCmpLt:
		return v < o.cmparg, true
	case futexOpCmpLe:
		return v <= o.cmparg, true
	case futexOpCmpGt:
		return v > o.cmparg, true
	case futexOpCmpGe:
		return v >= o.cmparg, true
	}
	return false, false
}

// WakeOp is FUTEX_WAKE_OP: atomically apply the operation encoded in op to
// the word at addr2, wake up to nWake waiters of addr and, if the old value
// of addr2 passes the comparison, up to nWake2 waiters of addr2. It returns
// the total woken. An unknown operation is ENOSYS with the word untouched;
// an unknown comparison is ENOSYS after the operation, as on Linux.
func (f *FutexTable) WakeOp(m *mm.MM, addr, addr2 uintptr, private bool, nWake, nWake2 int, op uint32) (int, error) {
	key1, err := m.FutexKey(addr, private)
	if err != nil {
		return 0, err
	}
	key2, err := m.FutexKey(addr2, private)
	if err != nil {
		return 0, err
	}
	o := decodeWakeOp(op)
	if _, ok := o.apply(0); !ok {
		return 0, unix.ENOSYS
	}
	b1, b2 := f.bucketOf(key1), f.bucketOf(key2)
	lock2(b1, b2)
	defer unlock2(b1, b2)
	old, err := m.FutexUpdate(addr2, func(v uint32) uint32 { n, _ := o.apply(v); return n })
	if err != nil {
		return 0, err
	}
	hit, ok := o.compare(old)
	if !ok {
		return 0, unix.ENOSYS
	}
	n, err := f.wakeKey(b1, key1, nWake, FutexBitsetAny)
	if err != nil {
		return 0, err
	}
	if hit {
		n2, err := f.wakeKey(b2, key2, nWake2, FutexBitsetAny)
		if err != nil {
			return 0, err
		}
		n += n2
	}
	return n, nil
}

// FutexWaitv is one entry of futex_waitv: wait while the 32-bit word at
// Addr holds Val.
type FutexWaitv struct {
	Addr    uintptr
	Val     uint32
	Private bool
}

// WaitV is futex_waitv: sleep until one of the futexes is woken (returning
// its index; the highest when several were), the deadline (zero: none) or
// a signal (EINTR). EAGAIN if a word differs from its value.
func (f *FutexTable) WaitV(c Interruptible, m *mm.MM, vs []FutexWaitv, deadline time.Time) (int, error) {
	if len(vs) == 0 || len(vs) > FutexWaitvMax {
		return 0, unix.EINVAL
	}
	keys := make([]mm.FutexKey, len(vs))
	for i, v := range vs {
		k, err := m.FutexKey(v.Addr, v.Private)
		if err != nil {
			return 0, err
		}
		keys[i] = k
	}
	wake := make(chan struct{}, 1)
	ws := make([]*futexWaiter, 0, len(vs))
	for i, v := range vs {
		w := newWaiter(waitPlain, 0, wake)
		w.key, w.index = keys[i], i
		b := f.bucketOf(w.key)
		b.mu.Lock()
		cur, err := m.FutexLoad(v.Addr)
		if err == nil && cur == v.Val {
			b.enqueue(w)
			b.mu.Unlock()
			ws = append(ws, w)
			continue
		}
		b.mu.Unlock()
		// A futex woken meanwhile wins over the error.
		if idx := f.unqueueAll(ws); idx >= 0 {
			return idx, nil
		}
		if err != nil {
			return 0, err
		}
		return 0, unix.EAGAIN
	}
	r := futexSleep(c, wake, deadline)
	if idx := f.unqueueAll(ws); idx >= 0 {
		return idx, nil
	}
	if r == sleepTimedOut {
		return 0, unix.ETIMEDOUT
	}
	return 0, unix.EINTR
}

// unqueueAll dequeues ws and returns the highest index among those already
// woken, or -1.
func (f *FutexTable) unqueueAll(ws []*futexWaiter) int {
	idx := -1
	for _, w := range ws {
		if !f.unqueue(w) {
			idx = w.index
		}
	}
	return idx
}

// ---- PI futexes ----

// errOwnerExiting: the owner of a PI futex is running its futex exit; wait
// for it and try again.
var errOwnerExiting = errors.New("futex owner exiting")

// Owner states for LOCK_PI.
const (
	ownerAlive = iota
	ownerExiting
	ownerGone
)

// ownerState tells whether tid can still hand over a PI futex.
func (f *FutexTable) ownerState(tid int32) (int, <-chan struct{}) {
	var t *Task
	if f.taskByTID != nil {
		t = f.taskByTID(tid)
	}
	f.exitMu.Lock()
	e := f.exits[tid]
	f.exitMu.Unlock()
	if e != nil && (t == nil || e.task == t) {
		select {
		case <-e.done:
			return ownerGone, nil
		default:
			return ownerExiting, e.done
		}
	}
	if f.taskByTID != nil && t == nil {
		return ownerGone, nil
	}
	return ownerAlive, nil
}

// piTake is the outcome of an attempt to take a PI futex.
type piTake struct {
	acquired bool
	ps       *futexPI        // not acquired: the contended futex to queue on (attach)
	exiting  <-chan struct{} // errOwnerExiting: closed when the owner is gone
}

// piTakeLocked tries to take the PI futex (key, at addr in m) for tid,
// with its bucket b locked. When the futex is owned by another, it sets
// FUTEX_WAITERS and, with attach, returns the contended state to queue
// on (made if needed). setWaiters takes the lock with FUTEX_WAITERS set
// (a proxy acquisition for a requeued waiter).
func (f *FutexTable) piTakeLocked(b *futexBucket, key mm.FutexKey, m *mm.MM, addr uintptr, tid int32, setWaiters, attach bool) (piTake, error) {
	for i := 0; i < futexCASRetries; i++ {
		uval, err := m.FutexLoad(addr)
		if err != nil {
			return piTake{}, err
		}
		owner := int32(uval & FutexTIDMask)
		if owner == tid {
			return piTake{}, unix.EDEADLK
		}
		ps := b.pi[key]
		if owner == 0 {
			nv := uval&FutexOwnerDied | uint32(tid)
			if ps != nil || setWaiters {
				nv |= FutexWaiters
			}
			cur, err := m.FutexCompareAndSwap(addr, uval, nv)
			if err != nil {
				return piTake{}, err
			}
			if cur != uval {
				continue
			}
			if ps != nil {
				ps.owner = tid
			}
			return piTake{acquired: true}, nil
		}
		if uval&FutexWaiters == 0 {
			cur, err := m.FutexCompareAndSwap(addr, uval, uval|FutexWaiters)
			if err != nil {
				return piTake{}, err
			}
			if cur != uval {
				continue
			}
			uval |= FutexWaiters
		}
		if ps != nil {
			ps.owner = owner // the word is authoritative
			return piTake{ps: ps}, nil
		}
		switch st, ch := f.ownerState(owner); st {
		case ownerExiting:
			return piTake{exiting: ch}, errOwnerExiting
		case ownerGone:
			// Gone: unless its exit changed the word meanwhile (then
			// look again), nobody will ever unlock it.
			if cur, err := m.FutexLoad(addr); err == nil && cur != uval {
				continue
			}
			return piTake{}, unix.ESRCH
		}
		if !attach {
			return piTake{}, nil
		}
		ps = &futexPI{owner: owner}
		if b.pi == nil {
			b.pi = map[mm.FutexKey]*futexPI{}
		}
		b.pi[key] = ps
		f.piStates.Add(1)
		return piTake{ps: ps}, nil
	}
	return piTake{}, unix.EAGAIN
}

// LockPI is FUTEX_LOCK_PI, FUTEX_LOCK_PI2 and (try) FUTEX_TRYLOCK_PI for the
// task tid: take the PI futex at addr, sleeping until its owner hands it
// over or the deadline (zero: none). Errors: EDEADLK (tid owns it), ESRCH
// (the owner does not exist), EAGAIN (try, and owned), ETIMEDOUT, EINTR.
func (f *FutexTable) LockPI(c Interruptible, m *mm.MM, addr uintptr, private bool, tid int32, deadline time.Time, try bool) error {
	key, err := m.FutexKey(addr, private)
	if err != nil {
		return err
	}
	b := f.bucketOf(key)
	for {
		b.mu.Lock()
		res, err := f.piTakeLocked(b, key, m, addr, tid, false, !try)
		if err == errOwnerExiting {
			b.mu.Unlock()
			<-res.exiting
			continue
		}
		if err != nil || res.acquired {
			b.mu.Unlock()
			return err
		}
		if try {
			b.mu.Unlock()
			return unix.EAGAIN
		}
		w := newWaiter(waitPI, tid, nil)
		w.key, w.m, w.addr = key, m, addr
		b.enqueue(w)
		res.ps.waiters++
		b.mu.Unlock()
		r := futexSleep(c, w.wake, deadline)
		if r == sleepWoken || !f.unqueue(w) {
			return w.err
		}
		if r == sleepTimedOut {
			return unix.ETIMEDOUT
		}
		return unix.EINTR
	}
}

// UnlockPI is FUTEX_UNLOCK_PI for the task tid: EPERM unless the word names
// tid; the lock goes to the first waiter (its TID | FUTEX_WAITERS in the
// word) or, with none, the word becomes 0.
func (f *FutexTable) UnlockPI(m *mm.MM, addr uintptr, private bool, tid int32) error {
	key, err := m.FutexKey(addr, private)
	if err != nil {
		return err
	}
	b := f.bucketOf(key)
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := 0; i < futexCASRetries; i++ {
		uval, err := m.FutexLoad(addr)
		if err != nil {
			return err
		}
		if int32(uval&FutexTIDMask) != tid {
			return unix.EPERM
		}
		var w *futexWaiter
		if b.pi[key] != nil {
			w = b.firstPI(key)
		}
		nv := uint32(0)
		if w != nil {
			nv = FutexWaiters | uint32(w.tid)
		}
		cur, err := m.FutexCompareAndSwap(addr, uval, nv)
		if err != nil {
			return err
		}
		if cur != uval {
			continue
		}
		if w != nil {
			b.pi[key].owner = w.tid
			f.wakeWaiter(b, w, nil)
		}
		return nil
	}
	return unix.EAGAIN
}

// WaitRequeuePI is FUTEX_WAIT_REQUEUE_PI for the task tid: wait on the
// plain futex at addr (if it holds val) until CMP_REQUEUE_PI takes the PI
// futex at addr2 for it or requeues it there and it is handed the lock.
// It returns nil holding the PI lock; EINTR if interrupted before the
// requeue, EAGAIN after it, ETIMEDOUT, EAGAIN for a value mismatch, EINVAL
// if both addresses are the same futex.
func (f *FutexTable) WaitRequeuePI(c Interruptible, m *mm.MM, addr uintptr, private bool, val uint32, deadline time.Time, addr2 uintptr, tid int32) error {
	key1, err := m.FutexKey(addr, private)
	if err != nil {
		return err
	}
	key2, err := m.FutexKey(addr2, private)
	if err != nil {
		return err
	}
	if key1 == key2 {
		return unix.EINVAL
	}
	w := newWaiter(waitRequeuePI, tid, nil)
	w.key, w.pi2, w.m, w.addr = key1, key2, m, addr2
	b := f.bucketOf(key1)
	b.mu.Lock()
	cur, err := m.FutexLoad(addr)
	if err != nil {
		b.mu.Unlock()
		return err
	}
	if cur != val {
		b.mu.Unlock()
		return unix.EAGAIN
	}
	b.enqueue(w)
	b.mu.Unlock()
	r := futexSleep(c, w.wake, deadline)
	if r == sleepWoken || !f.unqueue(w) {
		return w.err
	}
	// Still queued: w.kind says where (no one changes it now).
	switch {
	case r == sleepTimedOut:
		return unix.ETIMEDOUT
	case w.kind == waitRequeuePI:
		return unix.EINTR
	}
	return unix.EAGAIN
}

// CmpRequeuePI is FUTEX_CMP_REQUEUE_PI: if the word at addr holds cmp, take
// the PI futex at addr2 for the first WAIT_REQUEUE_PI waiter of addr (which
// then returns holding it) or requeue it to addr2, and requeue up to
// nRequeue more. nWake must be 1. It returns the number woken plus
// requeued.
func (f *FutexTable) CmpRequeuePI(m *mm.MM, addr, addr2 uintptr, private bool, nWake, nRequeue int, cmp uint32) (int, error) {
	if nWake != 1 || nRequeue < 0 {
		return 0, unix.EINVAL
	}
	key1, err := m.FutexKey(addr, private)
	if err != nil {
		return 0, err
	}
	key2, err := m.FutexKey(addr2, private)
	if err != nil {
		return 0, err
	}
	if key1 == key2 {
		return 0, unix.EINVAL
	}
	b1, b2 := f.bucketOf(key1), f.bucketOf(key2)
	count := 0
	for {
		lock2(b1, b2)
		if count == 0 {
			cur, err := m.FutexLoad(addr)
			if err != nil {
				unlock2(b1, b2)
				return 0, err
			}
			if cur != cmp {
				unlock2(b1, b2)
				return 0, unix.EAGAIN
			}
		}
		n, exiting, err := f.requeuePILocked(b1, b2, key1, key2, m, addr2, nWake, nRequeue, count)
		unlock2(b1, b2)
		count = n
		if err == errOwnerExiting {
			<-exiting
			continue
		}
		if err != nil {
			return 0, err
		}
		return count, nil
	}
}

// requeuePILocked does the work of CmpRequeuePI with both buckets locked,
// starting at count already done.
func (f *FutexTable) requeuePILocked(b1, b2 *futexBucket, key1, key2 mm.FutexKey, m *mm.MM, addr2 uintptr, nWake, nRequeue, count int) (int, <-chan struct{}, error) {
	for w := b1.head; w != nil; {
		next := w.next
		if count-nWake >= nRequeue {
			break
		}
		if w.key != key1 {
			w = next
			continue
		}
		if w.kind != waitRequeuePI || w.pi2 != key2 {
			return count, nil, unix.EINVAL
		}
		res, err := f.piTakeLocked(b2, key2, m, addr2, w.tid, true, true)
		if err != nil {
			return count, res.exiting, err
		}
		count++
		if res.acquired {
			w.kind = waitPlain // it owns the lock: nothing to undo
			f.wakeWaiter(b1, w, nil)
		} else {
			b1.unlink(w)
			w.key, w.kind = key2, waitPI
			b2.enqueue(w)
			res.ps.waiters++
		}
		w = next
	}
	return count, nil, nil
}

// releasePI hands every contended PI futex that tid owns to its first
// waiter, keeping FUTEX_OWNER_DIED in the word.
func (f *FutexTable) releasePI(tid int32) {
	if f.piStates.Load() == 0 {
		return
	}
	for i := range f.buckets {
		b := &f.buckets[i]
		b.mu.Lock()
		for key, ps := range b.pi {
			if ps.owner != tid {
				continue
			}
			w := b.firstPI(key)
			if w == nil {
				continue
			}
			_, err := w.m.FutexUpdate(w.addr, func(old uint32) uint32 {
				return old&FutexOwnerDied | FutexWaiters | uint32(w.tid)
			})
			ps.owner = w.tid
			f.wakeWaiter(b, w, err)
		}
		b.mu.Unlock()
	}
}

// ---- thread exit ----

// ExitRobustList runs the futex side of a thread's exit: see the comment
// at the top of this file.
func (t *Task) ExitRobustList() {
	t.K.futex.exitThread(t, t.MM, t.TID, t.RobustList, true)
}

// ExecRobustList runs the futex side of execve for the old image: see the
// comment at the top of this file.
func (t *Task) ExecRobustList() {
	t.K.futex.exitThread(t, t.MM, t.TID, t.RobustList, false)
}

// exitThread processes the robust list at head (0: none) of the thread
// tid of address space m and releases its PI futexes. exiting marks the
// thread gone for LOCK_PI (t identifies it; may be nil).
func (f *FutexTable) exitThread(t *Task, m *mm.MM, tid int32, head uintptr, exiting bool) {
	var e *futexExit
	if exiting {
		e = &futexExit{task: t, done: make(chan struct{})}
		f.exitMu.Lock()
		if f.exits == nil {
			f.exits = map[int32]*futexExit{}
		}
		f.exits[tid] = e
		f.exitMu.Unlock()
	}
	if head != 0 && m != nil {
		f.walkRobustList(m, tid, head)
	}
	f.releasePI(tid)
	if exiting {
		close(e.done)
		f.pruneExits()
	}
}

// pruneExits forgets exit records of threads that can no longer be found,
// once there are many.
func (f *FutexTable) pruneExits() {
	f.exitMu.Lock()
	if len(f.exits) < f.pruneAt {
		f.exitMu.Unlock()
		return
	}
	done := make(map[int32]*futexExit, len(f.exits))
	for tid, e := range f.exits {
		select {
		case <-e.done:
			done[tid] = e
		default:
		}
	}
	f.exitMu.Unlock()
	var gone []int32
	for tid, e := range done {
		if f.taskByTID == nil {
			gone = append(gone, tid)
		} else if t := f.taskByTID(tid); t == nil || t != e.task {
			gone = append(gone, tid)
		}
	}
	f.exitMu.Lock()
	for _, tid := range gone {
		if f.exits[tid] == done[tid] {
			delete(f.exits, tid)
		}
	}
	f.pruneAt = 2*len(f.exits) + 256
	f.exitMu.Unlock()
}

// walkRobustList processes a robust list: struct robust_list_head { next;
// long futex_offset; list_op_pending } where each entry's next has bit 0
// set for a PI futex and the futex word is at entry + futex_offset.
func (f *FutexTable) walkRobustList(m *mm.MM, tid int32, head uintptr) {
	var hb [RobustListHeadSize]byte
	if _, err := m.CopyIn(head, hb[:]); err != nil {
		return
	}
	next := uintptr(binary.LittleEndian.Uint64(hb[0:]))
	offset := uintptr(binary.LittleEndian.Uint64(hb[8:]))
	pending := uintptr(binary.LittleEndian.Uint64(hb[16:]))
	entry, pi := next&^1, next&1 != 0
	pendingPI := pending&1 != 0
	pending &^= 1
	for limit := RobustListLimit; entry != head; {
		nextEntry, err := m.CopyInUint64(entry)
		if entry != pending {
			if !f.ownerDied(m, entry+offset, tid, pi, false) {
				return
			}
		}
		if err != nil {
			return
		}
		entry, pi = uintptr(nextEntry)&^1, nextEntry&1 != 0
		if limit--; limit == 0 {
			break
		}
	}
	if pending != 0 {
		f.ownerDied(m, pending+offset, tid, pendingPI, true)
	}
}

// ownerDied handles one robust futex of the dying thread tid: if the word
// names tid, set FUTEX_OWNER_DIED (clearing the TID, keeping
// FUTEX_WAITERS) and wake one waiter of a non-PI futex (PI futexes are
// handed over by releasePI). A pending non-PI futex with no owner gets a
// wake too (the thread died between releasing it and waking). It reports
// false when the word cannot be reached, which ends the walk.
func (f *FutexTable) ownerDied(m *mm.MM, addr uintptr, tid int32, pi, pending bool) bool {
	key, err := m.FutexKey(addr, false) // Linux wakes robust futexes as shared
	if err != nil {
		return false
	}
	b := f.bucketOf(key)
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := 0; i < futexCASRetries; i++ {
		uval, err := m.FutexLoad(addr)
		if err != nil {
			return false
		}
		owner := int32(uval & FutexTIDMask)
		if pending && !pi && owner == 0 {
			f.wakeKey(b, key, 1, FutexBitsetAny)
			return true
		}
		if owner != tid {
			return true
		}
		cur, err := m.FutexCompareAndSwap(addr, uval, uval&FutexWaiters|FutexOwnerDied)
		if err != nil {
			return false
		}
		if cur != uval {
			continue
		}
		if !pi && uval&FutexWaiters != 0 {
			f.wakeKey(b, key, 1, FutexBitsetAny)
		}
		return true
	}
	return false
}

// FutexWakeAddr clears a thread's clear_child_tid word and wakes one
// waiter: see the comment at the top of this file.
func (k *Kernel) FutexWakeAddr(m *mm.MM, addr uintptr) {
	if addr&3 == 0 {
		m.FutexUpdate(addr, func(uint32) uint32 { return 0 })
	} else {
		m.ZeroOut(addr, 4) // (and the wake is EINVAL)
	}
	k.futex.Wake(m, addr, false, 1, FutexBitsetAny)
}

var _ Interruptible = (*Task)(nil)
