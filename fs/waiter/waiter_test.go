package waiter

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestNotifyMatchesMask(t *testing.T) {
	var q Queue
	var got []EventMask
	in := NewEntry(EventIn, func(m EventMask) { got = append(got, m) })
	out := NewEntry(EventOut|EventErr, func(m EventMask) { got = append(got, m|0x8000) })
	q.Register(in)
	q.Register(out)
	assert.Equal(t, 2, q.Len())
	assert.Equal(t, EventIn|EventOut|EventErr, q.Events())

	q.Notify(EventIn | EventRdNorm)
	assert.Equal(t, []EventMask{EventIn}, got, "only the reader, with its own events")
	got = nil
	q.Notify(AllEvents)
	assert.Equal(t, []EventMask{EventIn, EventOut | EventErr | 0x8000}, got, "registration order")
	got = nil
	q.Notify(EventPri)
	assert.Empty(t, got)

	q.Unregister(in)
	q.Unregister(in) // twice is fine
	got = nil
	q.Notify(AllEvents)
	assert.Equal(t, []EventMask{EventOut | EventErr | 0x8000}, got)
	q.Unregister(out)
	assert.Equal(t, 0, q.Len())
	q.Notify(AllEvents)
}

func TestEntryOnOneQueue(t *testing.T) {
	var a, b Queue
	e, ch := NewChannelEntry(EventIn)
	a.Register(e)
	b.Register(e) // ignored: e is on a
	assert.Equal(t, 1, a.Len())
	assert.Equal(t, 0, b.Len())
	b.Unregister(e) // not on b: no effect
	assert.Equal(t, 1, a.Len())
	b.Notify(EventIn)
	assert.Len(t, ch, 0)
	a.Notify(EventIn)
	a.Notify(EventIn) // the channel holds one token, the notifier never blocks
	assert.Len(t, ch, 1)
	a.Unregister(e)
	b.Register(e)
	assert.Equal(t, 1, b.Len())
}

func TestUnlinkMiddle(t *testing.T) {
	var q Queue
	var order []int
	es := make([]*Entry, 5)
	for i := range es {
		es[i] = NewEntry(EventIn, func(EventMask) { order = append(order, i) })
		q.Register(es[i])
	}
	q.Unregister(es[2])
	q.Unregister(es[0])
	q.Unregister(es[4])
	q.Notify(EventIn)
	assert.Equal(t, []int{1, 3}, order)
	q.Register(es[0])
	order = nil
	q.Notify(EventIn)
	assert.Equal(t, []int{1, 3, 0}, order)
}

func TestConcurrentRegisterNotify(t *testing.T) {
	var q Queue
	var wg sync.WaitGroup
	shared := make(chan struct{}, 1)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 1000; j++ {
				e := NewEntry(EventIn, Signaler(shared))
				q.Register(e)
				q.Notify(EventIn)
				q.Unregister(e)
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, 0, q.Len())
	assert.Len(t, shared, 1)
}
