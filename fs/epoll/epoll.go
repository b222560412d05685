// Package epoll implements epoll(7) instances: a set of watched (file,
// descriptor) pairs with an event mask and a data word each, and a ready
// list that the watched files' wait queues fill.
//
// Semantics follow Linux: an item is added to the ready list when its file
// notifies one of its events (or is found ready when added or modified);
// collecting events polls each ready item again and reports what is really
// ready; a level-triggered item that reported stays on the list, an
// edge-triggered one leaves it until the next notification, an
// EPOLLONESHOT one is disabled until EPOLL_CTL_MOD. EPOLLERR and EPOLLHUP
// are always watched. An item goes away when its file's last reference is
// dropped (not when one descriptor of it is closed). Epoll sets can watch
// epoll sets, at most EP_MAX_NESTS (4) levels below the top one, never in
// a cycle (ELOOP).
//
// Lock order: a watched file's wait queue, then the epoll set's mutex,
// then (for readiness checks) the watched files' own locks; an epoll
// set's mutex is never held while it registers with or notifies a queue.
package epoll

import (
	"sync"

	"golang.org/x/sys/unix"

	"ringbox/fs"
	"ringbox/fs/waiter"
)

// Flags of epoll_event.events beyond the poll events.
const (
	EPOLLEXCLUSIVE = 1 << 28
	EPOLLWAKEUP    = 1 << 29
	EPOLLONESHOT   = 1 << 30
	EPOLLET        = 1 << 31

	// privateBits are the flags that are not events.
	privateBits = EPOLLEXCLUSIVE | EPOLLWAKEUP | EPOLLONESHOT | EPOLLET
	// exclusiveOK are the only bits EPOLLEXCLUSIVE may come with.
	exclusiveOK = unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLERR | unix.EPOLLHUP | EPOLLWAKEUP |
		EPOLLET | EPOLLEXCLUSIVE
)

// MaxNests is EP_MAX_NESTS: how many epoll levels may sit below the
// outermost one.
const MaxNests = 4

// MaxItems bounds the items of one epoll set (Linux bounds them per user
// with max_user_watches); past it EPOLL_CTL_ADD fails with ENOSPC.
const MaxItems = 1 << 18

// Event is one reported event: the ready events and the item's data.
type Event struct {
	Events uint32
	Data   uint64
}

type key struct {
	file *fs.File
	fd   int
}

// item is one watched (file, fd).
type item struct {
	ep     *EventPoll
	key    key
	events uint32 // the user's mask with EPOLLERR|EPOLLHUP; events 0 when a oneshot fired
	data   uint64
	entry  *waiter.Entry // on the file's queue (nil for a polled file)
	child  *EventPoll    // the watched file is an epoll set

	// polled: the file does not notify (a host descriptor), or is an
	// epoll set that may not: it is checked at every collection.
	polled     bool
	lastPolled waiter.EventMask // readiness at the last check (edge trigger)

	removed    bool
	ready      bool
	prev, next *item // ready list
}

func (it *item) mask() waiter.EventMask { return waiter.EventMask(it.events &^ privateBits) }

// EventPoll is an epoll instance: the fs.Impl of its file.
type EventPoll struct {
	mu         sync.Mutex
	items      map[key]*item
	head, tail *item // ready list, in the order items became ready
	polled     []*item
	released   bool

	q waiter.Queue // waiters for this set's readiness

	// Nesting (under nestMu): the epoll sets that watch this one, and
	// the ones it watches, with item counts.
	parents  map[*EventPoll]int
	children map[*EventPoll]int
}

// nestMu serializes changes of the epoll-in-epoll graph and its checks.
var nestMu sync.Mutex

// New makes an empty epoll set.
func New() *EventPoll {
	return &EventPoll{items: map[key]*item{}}
}

// pushReady appends it to the ready list. The caller holds ep.mu.
func (ep *EventPoll) pushReady(it *item) {
	if it.ready {
		return
	}
	it.ready = true
	it.prev, it.next = ep.tail, nil
	if ep.tail != nil {
		ep.tail.next = it
	} else {
		ep.head = it
	}
	ep.tail = it
}

// unlinkReady takes it off the ready list. The caller holds ep.mu.
func (ep *EventPoll) unlinkReady(it *item) {
	if !it.ready {
		return
	}
	if it.prev != nil {
		it.prev.next = it.next
	} else {
		ep.head = it.next
	}
	if it.next != nil {
		it.next.prev = it.prev
	} else {
		ep.tail = it.prev
	}
	it.ready, it.prev, it.next = false, nil, nil
}

// callback is what a watched file's queue calls: the item becomes ready
// if the notified events are among its own.
func (it *item) callback(ev waiter.EventMask) {
	ep := it.ep
	ep.mu.Lock()
	if it.removed || ev&it.mask() == 0 || it.ready {
		ep.mu.Unlock()
		return
	}
	ep.pushReady(it)
	ep.mu.Unlock()
	ep.q.Notify(waiter.ReadableEvents)
}

// CanPoll reports whether f can be watched: it notifies, or it can at
// least be polled (a host descriptor). Regular files and directories
// cannot (EPERM).
func CanPoll(f *fs.File) bool {
	if c, ok := f.Impl.(fs.EpollChecker); ok {
		return c.CanEpoll()
	}
	switch f.Impl.(type) {
	case fs.Waitable, fs.Polled:
		return true
	}
	return false
}

// checkEvents validates an ADD or MOD mask.
func checkEvents(events uint32, add bool, child *EventPoll) error {
	if events&EPOLLEXCLUSIVE != 0 {
		if !add || child != nil || events&^exclusiveOK != 0 {
			return unix.EINVAL
		}
	}
	return nil
}

// Add watches f as descriptor fd (EPOLL_CTL_ADD).
func (ep *EventPoll) Add(f *fs.File, fd int, events uint32, data uint64) error {
	if f.Impl == fs.Impl(ep) {
		return unix.EINVAL
	}
	if !CanPoll(f) {
		return unix.EPERM
	}
	child, _ := f.Impl.(*EventPoll)
	if err := checkEvents(events, true, child); err != nil {
		return err
	}
	// The caller cannot suspend the system: EPOLLWAKEUP is dropped, as
	// Linux does without CAP_BLOCK_SUSPEND.
	events = events&^EPOLLWAKEUP | unix.EPOLLERR | unix.EPOLLHUP
	k := key{f, fd}
	it := &item{ep: ep, key: k, events: events, data: data, child: child}
	_, waitable := f.Impl.(fs.Waitable)
	it.polled = !waitable || child != nil

	if child != nil {
		nestMu.Lock()
		if err := ep.checkNest(child); err != nil {
			nestMu.Unlock()
			return err
		}
	}
	ep.mu.Lock()
	switch {
	case ep.released:
		ep.mu.Unlock()
		if child != nil {
			nestMu.Unlock()
		}
		return unix.EBADF
	case ep.items[k] != nil:
		ep.mu.Unlock()
		if child != nil {
			nestMu.Unlock()
		}
		return unix.EEXIST
	case len(ep.items) >= MaxItems:
		ep.mu.Unlock()
		if child != nil {
			nestMu.Unlock()
		}
		return unix.ENOSPC
	}
	ep.items[k] = it
	if it.polled {
		ep.polled = append(ep.polled, it)
	}
	ep.mu.Unlock()
	if child != nil {
		link(ep, child, 1)
		nestMu.Unlock()
	}

	if waitable {
		it.entry = waiter.NewEntry(waiter.AllEvents, it.callback)
		fs.EventRegister(f, it.entry)
	}
	if !f.OnRelease(it, func() { ep.remove(it) }) {
		ep.remove(it)
		return unix.EBADF
	}
	ep.recheck(it)
	return nil
}

// recheck puts it on the ready list if its file is ready now (after ADD
// or MOD), and wakes the set's waiters.
func (ep *EventPoll) recheck(it *item) {
	ep.mu.Lock()
	if it.removed || it.mask() == 0 {
		ep.mu.Unlock()
		return
	}
	ep.mu.Unlock()
	r := fs.Readiness(it.key.file, it.mask()) & it.mask()
	if r == 0 {
		return
	}
	ep.mu.Lock()
	if it.removed {
		ep.mu.Unlock()
		return
	}
	it.lastPolled = r
	ep.pushReady(it)
	ep.mu.Unlock()
	ep.q.Notify(waiter.ReadableEvents)
}

// Mod changes the mask and data of the item of (f, fd) (EPOLL_CTL_MOD).
func (ep *EventPoll) Mod(f *fs.File, fd int, events uint32, data uint64) error {
	child, _ := f.Impl.(*EventPoll)
	if err := checkEvents(events, false, child); err != nil {
		return err
	}
	ep.mu.Lock()
	it := ep.items[key{f, fd}]
	if it == nil {
		ep.mu.Unlock()
		return unix.ENOENT
	}
	if it.events&EPOLLEXCLUSIVE != 0 {
		ep.mu.Unlock()
		return unix.EINVAL
	}
	it.events = events&^EPOLLWAKEUP | unix.EPOLLERR | unix.EPOLLHUP
	it.data = data
	it.lastPolled = 0
	ep.mu.Unlock()
	ep.recheck(it)
	return nil
}

// Del stops watching (f, fd) (EPOLL_CTL_DEL).
func (ep *EventPoll) Del(f *fs.File, fd int) error {
	ep.mu.Lock()
	it := ep.items[key{f, fd}]
	ep.mu.Unlock()
	if it == nil || !ep.remove(it) {
		return unix.ENOENT
	}
	f.CancelRelease(it)
	return nil
}

// remove forgets it and reports whether this call did.
func (ep *EventPoll) remove(it *item) bool {
	ep.mu.Lock()
	if it.removed {
		ep.mu.Unlock()
		return false
	}
	it.removed = true
	delete(ep.items, it.key)
	ep.unlinkReady(it)
	if it.polled {
		for i, p := range ep.polled {
			if p == it {
				ep.polled = append(ep.polled[:i], ep.polled[i+1:]...)
				break
			}
		}
	}
	ep.mu.Unlock()
	if it.entry != nil {
		fs.EventUnregister(it.key.file, it.entry)
	}
	if it.child != nil {
		nestMu.Lock()
		link(ep, it.child, -1)
		nestMu.Unlock()
	}
	return true
}

// link records (delta 1) or forgets (-1) that parent watches child. The
// caller holds nestMu.
func link(parent, child *EventPoll, delta int) {
	if parent.children == nil {
		parent.children = map[*EventPoll]int{}
	}
	if child.parents == nil {
		child.parents = map[*EventPoll]int{}
	}
	parent.children[child] += delta
	if parent.children[child] <= 0 {
		delete(parent.children, child)
	}
	child.parents[parent] += delta
	if child.parents[parent] <= 0 {
		delete(child.parents, parent)
	}
}

// checkNest refuses (ELOOP) to let ep watch child when ep is reachable
// from child or the chain of nested sets would be too deep. The caller
// holds nestMu.
func (ep *EventPoll) checkNest(child *EventPoll) error {
	down, loop := child.depthBelow(ep, 0)
	if loop || down > MaxNests {
		return unix.ELOOP
	}
	if down+1+ep.depthAbove(0) > MaxNests {
		return unix.ELOOP
	}
	return nil
}

// depthBelow returns how many epoll levels sit below ep, and whether
// target is among them.
func (ep *EventPoll) depthBelow(target *EventPoll, level int) (int, bool) {
	if level > MaxNests {
		return MaxNests + 1, false
	}
	depth := 0
	for c := range ep.children {
		if c == target {
			return MaxNests + 1, true
		}
		d, loop := c.depthBelow(target, level+1)
		if loop {
			return d, true
		}
		depth = max(depth, d+1)
	}
	return depth, false
}

// depthAbove returns how many epoll levels sit above ep.
func (ep *EventPoll) depthAbove(level int) int {
	if level > MaxNests {
		return MaxNests + 1
	}
	depth := 0
	for p := range ep.parents {
		depth = max(depth, p.depthAbove(level+1)+1)
	}
	return depth
}

// pollPolled checks the items whose files do not notify and puts the
// ready ones on the ready list (edge-triggered ones only when they were
// not ready at the last check). The caller holds ep.mu.
func (ep *EventPoll) pollPolled() {
	for _, it := range ep.polled {
		if it.ready || it.mask() == 0 {
			continue
		}
		if it.child != nil && !it.child.NeedsPolling() {
			continue
		}
		r := fs.Readiness(it.key.file, it.mask()) & it.mask()
		last := it.lastPolled
		it.lastPolled = r
		if r == 0 || it.events&EPOLLET != 0 && r&^last == 0 {
			continue
		}
		ep.pushReady(it)
	}
}

// Collect returns up to max ready events without waiting (epoll_wait's
// harvest), in the order the items became ready.
func (ep *EventPoll) Collect(max int) []Event {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	ep.pollPolled()
	var out []Event
	var again []*item
	for it := ep.head; it != nil && len(out) < max; {
		next := it.next
		ep.unlinkReady(it)
		r := fs.Readiness(it.key.file, it.mask()) & it.mask()
		if r != 0 {
			out = append(out, Event{Events: uint32(r), Data: it.data})
			switch {
			case it.events&EPOLLONESHOT != 0:
				it.events &= privateBits
			case it.events&EPOLLET == 0:
				again = append(again, it)
			}
		}
		it = next
	}
	for _, it := range again {
		ep.pushReady(it)
	}
	return out
}

// NeedsPolling implements fs.Polled: a set that watches a file that does
// not notify must be checked periodically by its waiters.
func (ep *EventPoll) NeedsPolling() bool {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	for _, it := range ep.polled {
		if it.child == nil || it.child.NeedsPolling() {
			return true
		}
	}
	return false
}

// Readiness implements fs.Waitable: readable when an item on the ready
// list is really ready (items found not ready leave the list).
func (ep *EventPoll) Readiness(mask waiter.EventMask) waiter.EventMask {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	ep.pollPolled()
	for it := ep.head; it != nil; {
		next := it.next
		if fs.Readiness(it.key.file, it.mask())&it.mask() != 0 {
			return waiter.ReadableEvents & mask
		}
		ep.unlinkReady(it)
		it = next
	}
	return 0
}

// EventRegister implements fs.Waitable.
func (ep *EventPoll) EventRegister(e *waiter.Entry) { ep.q.Register(e) }

// EventUnregister implements fs.Waitable.
func (ep *EventPoll) EventUnregister(e *waiter.Entry) { ep.q.Unregister(e) }

// Len returns the number of items (for tests).
func (ep *EventPoll) Len() int {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	return len(ep.items)
}

// Read implements fs.Impl: an epoll file cannot be read.
func (ep *EventPoll) Read([]byte) (int, error) { return 0, unix.EINVAL }

// Write implements fs.Impl: an epoll file cannot be written.
func (ep *EventPoll) Write([]byte) (int, error) { return 0, unix.EINVAL }

// Pread implements fs.Impl.
func (ep *EventPoll) Pread([]byte, int64) (int, error) { return 0, unix.ESPIPE }

// Pwrite implements fs.Impl.
func (ep *EventPoll) Pwrite([]byte, int64) (int, error) { return 0, unix.ESPIPE }

// Seek implements fs.Impl: seeking does nothing (noop_llseek).
func (ep *EventPoll) Seek(int64, int) (int64, error) { return 0, nil }

// Stat implements fs.Impl: an anonymous inode, mode 0600.
func (ep *EventPoll) Stat() (unix.Stat_t, error) {
	return unix.Stat_t{Ino: 1, Nlink: 1, Mode: 0o600, Blksize: 4096}, nil
}

// IsTerminal implements fs.Impl.
func (ep *EventPoll) IsTerminal() bool { return false }

// Poll implements fs.Impl without waiting.
func (ep *EventPoll) Poll(mask int16, _ int) (int16, error) {
	return int16(ep.Readiness(waiter.EventMask(uint16(mask)))), nil
}

// Name implements fs.Namer.
func (ep *EventPoll) Name() string { return "anon_inode:[eventpoll]" }

// Release implements fs.Impl: every item is dropped.
func (ep *EventPoll) Release() {
	ep.mu.Lock()
	if ep.released {
		ep.mu.Unlock()
		return
	}
	ep.released = true
	items := make([]*item, 0, len(ep.items))
	for _, it := range ep.items {
		items = append(items, it)
	}
	ep.mu.Unlock()
	for _, it := range items {
		if ep.remove(it) {
			it.key.file.CancelRelease(it)
		}
	}
}
