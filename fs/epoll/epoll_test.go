package epoll

import (
	"encoding/binary"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"ringbox/fs"
	"ringbox/fs/eventfd"
	"ringbox/fs/pipe"
	"ringbox/fs/waiter"
)

const (
	in  = unix.EPOLLIN
	out = unix.EPOLLOUT
	hup = unix.EPOLLHUP
	er  = unix.EPOLLERR
)

func newPipe() (r, w *fs.File) {
	re, we := pipe.New(0, 0, false)
	return fs.NewFile(re, unix.O_RDONLY), fs.NewFile(we, unix.O_WRONLY)
}

func newEpoll() (*fs.File, *EventPoll) {
	ep := New()
	return fs.NewFile(ep, unix.O_RDWR), ep
}

func write(t *testing.T, f *fs.File, s string) {
	t.Helper()
	n, err := f.Write([]byte(s))
	require.NoError(t, err)
	require.Equal(t, len(s), n)
}

func drain(f *fs.File) {
	buf := make([]byte, 1<<17)
	for {
		if n, err := f.Read(buf); n == 0 || err != nil {
			return
		}
	}
}

// regular is a file that cannot be polled (like a regular file).
type regular struct{ fs.PathImpl }

// hostLike does not notify; its readiness is read from ready.
type hostLike struct {
	fs.PathImpl
	ready atomic.Uint32
}

func (h *hostLike) Poll(mask int16, _ int) (int16, error) {
	return mask & int16(h.ready.Load()), nil
}
func (h *hostLike) NeedsPolling() bool { return true }

func TestLevelTriggered(t *testing.T) {
	_, ep := newEpoll()
	r, w := newPipe()
	const data = 0xdeadbeefcafebabe
	require.NoError(t, ep.Add(r, 3, in, data))
	assert.Empty(t, ep.Collect(10))
	write(t, w, "x")
	want := []Event{{Events: in, Data: data}}
	assert.Equal(t, want, ep.Collect(10))
	assert.Equal(t, want, ep.Collect(10), "still ready: reported again")
	drain(r)
	assert.Empty(t, ep.Collect(10))
	assert.Zero(t, ep.Readiness(waiter.AllEvents))
	write(t, w, "y")
	assert.Equal(t, waiter.ReadableEvents, ep.Readiness(waiter.AllEvents))
}

func TestEdgeTriggered(t *testing.T) {
	_, ep := newEpoll()
	r, w := newPipe()
	require.NoError(t, ep.Add(r, 3, in|EPOLLET, 7))
	write(t, w, "a")
	assert.Equal(t, []Event{{in, 7}}, ep.Collect(10))
	assert.Empty(t, ep.Collect(10), "no new edge")
	write(t, w, "b")
	assert.Equal(t, []Event{{in, 7}}, ep.Collect(10), "each write is an edge, even unread data")
	assert.Empty(t, ep.Collect(10))
}

func TestEdgeTriggeredWriteEnd(t *testing.T) {
	_, ep := newEpoll()
	r, w := newPipe()
	require.NoError(t, ep.Add(w, 4, out|EPOLLET, 1))
	assert.Equal(t, []Event{{out, 1}}, ep.Collect(10), "writable when added")
	assert.Empty(t, ep.Collect(10))
	write(t, w, "x")
	drain(r)
	assert.Empty(t, ep.Collect(10), "a read of a pipe that was not full is no edge for writers")
	for {
		if _, err := w.Write(make([]byte, 4096)); err != nil {
			break
		}
	}
	_, _ = r.Read(make([]byte, 4096))
	assert.Equal(t, []Event{{out, 1}}, ep.Collect(10), "room again after full")
}

func TestOneshot(t *testing.T) {
	_, ep := newEpoll()
	r, w := newPipe()
	require.NoError(t, ep.Add(r, 3, in|EPOLLONESHOT, 9))
	write(t, w, "a")
	assert.Equal(t, []Event{{in, 9}}, ep.Collect(10))
	write(t, w, "b")
	assert.Empty(t, ep.Collect(10), "disabled after one event")
	require.NoError(t, ep.Mod(r, 3, in|EPOLLONESHOT, 10))
	assert.Equal(t, []Event{{in, 10}}, ep.Collect(10), "re-armed, new data word")
	assert.Empty(t, ep.Collect(10))
}

func TestErrorsAndHangupAlwaysReported(t *testing.T) {
	_, ep := newEpoll()
	r, w := newPipe()
	r2, w2 := newPipe()
	require.NoError(t, ep.Add(r, 3, 0, 1))
	require.NoError(t, ep.Add(w2, 4, 0, 2))
	w.DecRef()
	r2.DecRef()
	assert.ElementsMatch(t, []Event{{hup, 1}, {er, 2}}, ep.Collect(10))
}

func TestCtlErrors(t *testing.T) {
	epf, ep := newEpoll()
	r, _ := newPipe()
	assert.Equal(t, unix.ENOENT, ep.Mod(r, 3, in, 0))
	assert.Equal(t, unix.ENOENT, ep.Del(r, 3))
	require.NoError(t, ep.Add(r, 3, in, 0))
	assert.Equal(t, unix.EEXIST, ep.Add(r, 3, in, 0))
	require.NoError(t, ep.Add(r, 4, in, 0), "the same file under another descriptor")
	assert.Equal(t, 2, ep.Len())
	require.NoError(t, ep.Del(r, 3))
	assert.Equal(t, unix.ENOENT, ep.Del(r, 3))
	assert.Equal(t, 1, ep.Len())

	reg := fs.NewFile(&regular{}, unix.O_RDONLY)
	assert.False(t, CanPoll(reg))
	assert.Equal(t, unix.EPERM, ep.Add(reg, 5, in, 0))
	assert.Equal(t, unix.EINVAL, ep.Add(epf, 6, in, 0), "itself")

	// EPOLLEXCLUSIVE: only with ADD, not on an epoll set, only with
	// some events; its item cannot be modified.
	r2, _ := newPipe()
	assert.Equal(t, unix.EINVAL, ep.Add(r2, 7, in|EPOLLEXCLUSIVE|EPOLLONESHOT, 0))
	require.NoError(t, ep.Add(r2, 7, in|EPOLLEXCLUSIVE, 0))
	assert.Equal(t, unix.EINVAL, ep.Mod(r2, 7, in, 0))
	assert.Equal(t, unix.EINVAL, ep.Mod(r, 4, in|EPOLLEXCLUSIVE, 0))
	e2f, _ := newEpoll()
	assert.Equal(t, unix.EINVAL, ep.Add(e2f, 8, in|EPOLLEXCLUSIVE, 0))
}

func TestCloseRemoves(t *testing.T) {
	_, ep := newEpoll()
	r, w := newPipe()
	require.NoError(t, ep.Add(r, 3, in, 0))
	r.IncRef() // a dup: closing one descriptor keeps the item
	r.DecRef()
	assert.Equal(t, 1, ep.Len())
	r.DecRef() // the last reference
	assert.Equal(t, 0, ep.Len())
	_, err := w.Write([]byte("x"))
	assert.Equal(t, unix.EPIPE, err)
	assert.Empty(t, ep.Collect(10))
}

func TestReleaseUnregisters(t *testing.T) {
	epf, ep := newEpoll()
	r, w := newPipe()
	require.NoError(t, ep.Add(r, 3, in, 0))
	epf.DecRef()
	assert.Equal(t, 0, ep.Len())
	assert.Equal(t, 0, r.Impl.(*pipe.End).Pipe().Buffered())
	write(t, w, "x")
	r.DecRef() // the hook was cancelled: nothing to do
	assert.Equal(t, unix.EBADF, ep.Add(w, 4, out, 0))
}

func TestOrderAndMaxEvents(t *testing.T) {
	_, ep := newEpoll()
	var ws []*fs.File
	for i := 0; i < 3; i++ {
		r, w := newPipe()
		require.NoError(t, ep.Add(r, 10+i, in, uint64(i)))
		ws = append(ws, w)
	}
	write(t, ws[2], "c")
	write(t, ws[0], "a")
	write(t, ws[1], "b")
	assert.Equal(t, []Event{{in, 2}, {in, 0}}, ep.Collect(2), "in the order they became ready")
	assert.Equal(t, []Event{{in, 1}, {in, 2}}, ep.Collect(2), "reported ones go to the back")
}

func TestEventfd(t *testing.T) {
	_, ep := newEpoll()
	e := fs.NewFile(eventfd.New(0, false), unix.O_RDWR)
	require.NoError(t, ep.Add(e, 3, in|out|EPOLLET, 5))
	assert.Equal(t, []Event{{out, 5}}, ep.Collect(10))
	b := make([]byte, 8)
	binary.LittleEndian.PutUint64(b, 1)
	_, err := e.Write(b)
	require.NoError(t, err)
	assert.Equal(t, []Event{{in | out, 5}}, ep.Collect(10))
	assert.Empty(t, ep.Collect(10))
	_, err = e.Write(b)
	require.NoError(t, err)
	assert.Equal(t, []Event{{in | out, 5}}, ep.Collect(10), "a second write is a new edge")
}

func TestNested(t *testing.T) {
	outerF, outer := newEpoll()
	innerF, inner := newEpoll()
	r, w := newPipe()
	require.NoError(t, inner.Add(r, 3, in, 1))
	require.NoError(t, outer.Add(innerF, 4, in, 2))
	assert.Empty(t, outer.Collect(10))

	pollCh := make(chan struct{}, 1)
	pe := waiter.NewEntry(waiter.EventIn, waiter.Signaler(pollCh))
	outer.EventRegister(pe)
	defer outer.EventUnregister(pe)

	write(t, w, "x")
	assert.Len(t, pollCh, 1, "the write reaches the outer set's waiters")
	assert.Equal(t, []Event{{in, 2}}, outer.Collect(10))
	assert.Equal(t, []Event{{in, 1}}, inner.Collect(10))
	drain(r)
	assert.Empty(t, outer.Collect(10))

	// Cycles and self-nesting.
	assert.Equal(t, unix.ELOOP, inner.Add(outerF, 5, in, 0))
	assert.Equal(t, unix.EINVAL, inner.Add(innerF, 6, in, 0))
	innerF.DecRef()
	assert.Equal(t, 0, outer.Len())
}

func TestNestingDepth(t *testing.T) {
	// A chain of 5 sets is fine, a sixth level is ELOOP, from either end.
	var files []*fs.File
	var sets []*EventPoll
	for i := 0; i < 7; i++ {
		f, ep := newEpoll()
		files = append(files, f)
		sets = append(sets, ep)
	}
	for i := 0; i < 4; i++ {
		require.NoError(t, sets[i].Add(files[i+1], i, in, 0), "level %d", i)
	}
	assert.Equal(t, unix.ELOOP, sets[4].Add(files[5], 9, in, 0), "below")
	require.NoError(t, sets[5].Add(files[6], 9, in, 0))
	assert.Equal(t, unix.ELOOP, sets[6].Add(files[0], 9, in, 0), "above")
	assert.Equal(t, unix.ELOOP, sets[3].Add(files[0], 9, in, 0), "cycle")
	// Removing levels makes room: 2>3>4 above, 5>6 below.
	require.NoError(t, sets[0].Del(files[1], 0))
	assert.Equal(t, unix.ELOOP, sets[4].Add(files[5], 9, in, 0))
	require.NoError(t, sets[1].Del(files[2], 1))
	require.NoError(t, sets[4].Add(files[5], 9, in, 0))
}

func TestPolledFiles(t *testing.T) {
	_, ep := newEpoll()
	h := &hostLike{}
	hf := fs.NewFile(h, unix.O_RDONLY)
	require.True(t, CanPoll(hf))
	require.NoError(t, ep.Add(hf, 0, in|EPOLLET, 3))
	assert.True(t, ep.NeedsPolling())
	assert.Empty(t, ep.Collect(10))
	h.ready.Store(unix.POLLIN)
	assert.Equal(t, []Event{{in, 3}}, ep.Collect(10))
	assert.Empty(t, ep.Collect(10), "edge-triggered: once")
	h.ready.Store(0)
	assert.Empty(t, ep.Collect(10))
	h.ready.Store(unix.POLLIN)
	assert.Equal(t, []Event{{in, 3}}, ep.Collect(10))

	outerF, outer := newEpoll()
	_ = outerF
	epf := fs.NewFile(ep, unix.O_RDWR)
	require.NoError(t, ep.Mod(hf, 0, in, 3))
	require.NoError(t, outer.Add(epf, 1, in, 4))
	assert.True(t, outer.NeedsPolling(), "through the nested set")
	assert.Equal(t, []Event{{in, 4}}, outer.Collect(10))
	require.NoError(t, ep.Del(hf, 0))
	assert.False(t, outer.NeedsPolling())
}

func TestWaiterWokenAcrossGoroutines(t *testing.T) {
	_, ep := newEpoll()
	r, w := newPipe()
	require.NoError(t, ep.Add(r, 3, in, 11))
	got := make(chan []Event, 1)
	go func() {
		e, ch := waiter.NewChannelEntry(waiter.EventIn)
		ep.EventRegister(e)
		defer ep.EventUnregister(e)
		for {
			if evs := ep.Collect(8); len(evs) > 0 {
				got <- evs
				return
			}
			<-ch
		}
	}()
	time.Sleep(20 * time.Millisecond)
	write(t, w, "wake")
	select {
	case evs := <-got:
		assert.Equal(t, []Event{{in, 11}}, evs)
	case <-time.After(5 * time.Second):
		t.Fatal("epoll waiter not woken")
	}
}

func TestManyItemsConcurrent(t *testing.T) {
	_, ep := newEpoll()
	const n = 64
	var rs, ws []*fs.File
	for i := 0; i < n; i++ {
		r, w := newPipe()
		require.NoError(t, ep.Add(r, i, in|EPOLLET, uint64(i)))
		rs, ws = append(rs, r), append(ws, w)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for round := 0; round < 50; round++ {
			for _, w := range ws {
				_, _ = w.Write([]byte{1})
			}
		}
	}()
	seen := map[uint64]bool{}
	deadline := time.Now().Add(10 * time.Second)
	for len(seen) < n && time.Now().Before(deadline) {
		for _, ev := range ep.Collect(16) {
			seen[ev.Data] = true
		}
	}
	<-done
	assert.Len(t, seen, n)
	for _, r := range rs {
		r.DecRef()
	}
	assert.Equal(t, 0, ep.Len())
}
