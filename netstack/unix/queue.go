package unix

import (
	"ringbox/fs"
	"ringbox/fs/waiter"
	"ringbox/netstack"
)

// message is one send: a datagram, a seqpacket record, or a piece of a
// stream (Linux's skb).
type message struct {
	data   []byte
	off    int // bytes of a stream piece already read
	rights []*fs.File
	cred   netstack.UCred
	sender *Socket
	charge int64 // on sender.wmem until the message is read or dropped
}

// unread returns the bytes not yet read.
func (m *message) unread() []byte { return m.data[m.off:] }

// msgQueue is a FIFO of messages with a count of unread bytes.
type msgQueue struct {
	items []*message
	head  int
	bytes int
}

func (q *msgQueue) len() int { return len(q.items) - q.head }

// at returns the i-th message from the front.
func (q *msgQueue) at(i int) *message { return q.items[q.head+i] }

func (q *msgQueue) push(m *message) {
	q.items = append(q.items, m)
	q.bytes += len(m.unread())
}

// pop removes the front message (whose unread bytes the caller already
// took off q.bytes, or which is empty).
func (q *msgQueue) pop() *message {
	m := q.items[q.head]
	q.items[q.head] = nil
	q.head++
	switch {
	case q.head == len(q.items):
		q.items, q.head = q.items[:0], 0
	case q.head >= 64 && q.head*2 >= len(q.items):
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items, q.head = q.items[:n], 0
	}
	return m
}

// drain removes every message.
func (q *msgQueue) drain() []*message {
	ms := append([]*message(nil), q.items[q.head:]...)
	q.items, q.head, q.bytes = nil, 0, 0
	return ms
}

// uncharge gives back a message's charge to its sender and wakes the
// sender's writers. No lock may be held.
func (m *message) uncharge() {
	if m.charge == 0 {
		return
	}
	m.sender.wmem.Add(-m.charge)
	m.charge = 0
	m.sender.q.Notify(waiter.WritableEvents)
}

// drop discards messages: charges go back, files in flight are dropped.
// No lock may be held.
func (ns *Namespace) drop(ms []*message) {
	for _, m := range ms {
		m.uncharge()
		if len(m.rights) > 0 {
			ns.inflight.Add(-int64(len(m.rights)))
			for _, f := range m.rights {
				f.DecRef()
			}
			m.rights = nil
		}
	}
}

// truesize is the charge of a message of n bytes, modelled on Linux's
// skb truesize: the sk_buff, the head allocation (with the shared info)
// rounded up to its slab size, and whole pages past maxHead.
func truesize(n, maxHead int) int64 {
	head, paged := n, 0
	if n > maxHead {
		paged = (n - maxHead + 4095) &^ 4095
		head = max(n-paged, 0)
	}
	alloc := (head+63)&^63 + 320
	slab := 32
	for slab < alloc && slab < 8192 {
		slab <<= 1
	}
	if alloc > slab {
		slab = (alloc + 4095) &^ 4095
	}
	return int64(256 + slab + paged)
}
