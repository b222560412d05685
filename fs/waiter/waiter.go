// Package waiter is the sandbox kernel's one wait-queue mechanism. A file
// whose readiness can change (a pipe end, an eventfd, an epoll set) owns a
// Queue; whoever wants to know when it becomes ready (a task blocked in
// read, poll, select or epoll_wait, or an epoll set watching the file)
// registers an Entry with an event mask, and the file calls Notify with
// the events that may have become ready after every state change.
//
// Notifications are hints: a woken waiter must check the file's readiness
// again (the event may already have been consumed by someone else).
//
// Locking: Notify calls the entries' callbacks with the queue's lock held.
// A callback must not block and must not register or unregister entries
// of the queue that called it; it may notify other queues. A file must not
// hold its own state lock while it calls Notify if its readiness check
// (which epoll calls under the epoll's lock) takes that lock.
package waiter

import (
	"sync"

	"golang.org/x/sys/unix"
)

// EventMask is a set of poll(2)/epoll(7) events: the low 16 bits are the
// same in both (EPOLLIN == POLLIN, ...).
type EventMask uint32

// Events.
const (
	EventIn     EventMask = unix.POLLIN
	EventPri    EventMask = unix.POLLPRI
	EventOut    EventMask = unix.POLLOUT
	EventErr    EventMask = unix.POLLERR
	EventHup    EventMask = unix.POLLHUP
	EventNval   EventMask = unix.POLLNVAL
	EventRdNorm EventMask = 0x40
	EventRdBand EventMask = 0x80
	EventWrNorm EventMask = 0x100
	EventWrBand EventMask = 0x200
	EventMsg    EventMask = 0x400
	EventRdHup  EventMask = unix.POLLRDHUP

	// ReadableEvents are the events of a file with data to read.
	ReadableEvents = EventIn | EventRdNorm
	// WritableEvents are the events of a file with room to write.
	WritableEvents = EventOut | EventWrNorm
	// AllEvents is every readiness event (what a state change that may
	// affect anything notifies).
	AllEvents EventMask = 0xffff
)

// Entry is one waiter on a Queue: a mask of the events it cares about and
// the callback that receives them. An Entry is on at most one queue at a
// time.
type Entry struct {
	mask     EventMask
	callback func(EventMask)

	q          *Queue
	prev, next *Entry
}

// NewEntry makes an entry that calls fn with the notified events that
// intersect mask.
func NewEntry(mask EventMask, fn func(EventMask)) *Entry {
	return &Entry{mask: mask, callback: fn}
}

// NewChannelEntry makes an entry that signals the returned channel
// (buffered, never blocks the notifier) on each matching notification.
func NewChannelEntry(mask EventMask) (*Entry, chan struct{}) {
	ch := make(chan struct{}, 1)
	return NewEntry(mask, Signaler(ch)), ch
}

// Signaler returns a callback that puts a token in ch (a channel with a
// buffer) unless one is already there, so several entries can wake one
// waiter.
func Signaler(ch chan struct{}) func(EventMask) {
	return func(EventMask) {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// Mask returns the events the entry waits for.
func (e *Entry) Mask() EventMask { return e.mask }

// Queue is the list of waiters of one file (or one direction of a file).
// The zero value is an empty queue.
type Queue struct {
	mu         sync.Mutex
	head, tail *Entry
	n          int
}

// Register adds e to the queue. Registering an entry that is already on
// a queue (this or another) does nothing.
func (q *Queue) Register(e *Entry) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if e.q != nil {
		return
	}
	e.q = q
	e.prev, e.next = q.tail, nil
	if q.tail != nil {
		q.tail.next = e
	} else {
		q.head = e
	}
	q.tail = e
	q.n++
}

// Unregister removes e from the queue; it is a no-op if e is not on it.
// Once it returns, e's callback is no longer called by this queue.
func (q *Queue) Unregister(e *Entry) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if e.q != q {
		return
	}
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		q.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		q.tail = e.prev
	}
	e.q, e.prev, e.next = nil, nil, nil
	q.n--
}

// Notify calls, in registration order, the callback of every entry whose
// mask intersects events.
func (q *Queue) Notify(events EventMask) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for e := q.head; e != nil; e = e.next {
		if e.mask&events != 0 {
			e.callback(events & e.mask)
		}
	}
}

// Events returns the union of the registered entries' masks.
func (q *Queue) Events() EventMask {
	q.mu.Lock()
	defer q.mu.Unlock()
	var m EventMask
	for e := q.head; e != nil; e = e.next {
		m |= e.mask
	}
	return m
}

// Len returns the number of registered entries.
func (q *Queue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.n
}
