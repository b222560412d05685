package signalfd

import (
	"encoding/binary"
	"math/bits"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"ringbox/fs/waiter"
)

// fakeThread has pending signals, one instance each.
type fakeThread struct {
	mu      sync.Mutex
	pending map[uint32]Info
	q       *waiter.Queue
}

func newThread() *fakeThread { return &fakeThread{pending: map[uint32]Info{}, q: &waiter.Queue{}} }

func (f *fakeThread) send(sig unix.Signal, pid uint32) {
	f.mu.Lock()
	f.pending[uint32(sig)] = Info{Signo: uint32(sig), PID: pid}
	f.mu.Unlock()
	f.q.Notify(waiter.ReadableEvents)
}

func (f *fakeThread) Pending() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	var m uint64
	for s := range f.pending {
		m |= 1 << (s - 1)
	}
	return m
}

func (f *fakeThread) Dequeue(set uint64) (Info, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var m uint64
	for s := range f.pending {
		m |= 1 << (s - 1)
	}
	m &= set
	if m == 0 {
		return Info{}, false
	}
	s := uint32(bits.TrailingZeros64(m) + 1)
	i := f.pending[s]
	delete(f.pending, s)
	return i, true
}

func (f *fakeThread) Queue() *waiter.Queue { return f.q }

func bit(s unix.Signal) uint64 { return 1 << (s - 1) }

func TestReadRecords(t *testing.T) {
	th := newThread()
	s := New(func() Thread { return th }, bit(unix.SIGUSR1)|bit(unix.SIGUSR2)|bit(unix.SIGKILL))
	assert.Equal(t, bit(unix.SIGUSR1)|bit(unix.SIGUSR2), s.Mask(), "SIGKILL is never in the mask")
	_, err := s.Read(make([]byte, InfoSize))
	assert.Equal(t, unix.EAGAIN, err)
	_, err = s.Read(make([]byte, InfoSize-1))
	assert.Equal(t, unix.EINVAL, err)

	th.send(unix.SIGUSR2, 7)
	th.send(unix.SIGUSR1, 8)
	th.send(unix.SIGTERM, 9) // not in the mask
	assert.Equal(t, waiter.ReadableEvents, s.Readiness(waiter.AllEvents))
	buf := make([]byte, 3*InfoSize+5)
	n, err := s.Read(buf)
	require.NoError(t, err)
	assert.Equal(t, 2*InfoSize, n, "two records fit and two are pending")
	le := binary.LittleEndian
	assert.Equal(t, uint32(unix.SIGUSR1), le.Uint32(buf[0:]), "lowest first")
	assert.Equal(t, uint32(8), le.Uint32(buf[12:]), "ssi_pid")
	assert.Equal(t, uint32(unix.SIGUSR2), le.Uint32(buf[InfoSize:]))
	assert.Equal(t, uint32(7), le.Uint32(buf[InfoSize+12:]))
	assert.Zero(t, s.Readiness(waiter.AllEvents), "SIGTERM is not in the mask")

	s.SetMask(bit(unix.SIGTERM))
	n, err = s.Read(make([]byte, InfoSize))
	require.NoError(t, err)
	assert.Equal(t, InfoSize, n)
	assert.Zero(t, th.Pending())
}

func TestEncode(t *testing.T) {
	b := make([]byte, InfoSize)
	for i := range b {
		b[i] = 0xff
	}
	Info{Signo: 17, Code: 1, PID: 2, UID: 3, Status: 4, TID: 5, Overrun: 6, Int: 7, Ptr: 8, Addr: 9, Arch: 10}.Encode(b)
	le := binary.LittleEndian
	assert.Equal(t, uint32(17), le.Uint32(b[0:]))
	assert.Equal(t, uint32(1), le.Uint32(b[8:]))
	assert.Equal(t, uint32(2), le.Uint32(b[12:]))
	assert.Equal(t, uint32(3), le.Uint32(b[16:]))
	assert.Equal(t, uint32(5), le.Uint32(b[24:]))
	assert.Equal(t, uint32(6), le.Uint32(b[32:]))
	assert.Equal(t, uint32(4), le.Uint32(b[40:]))
	assert.Equal(t, uint32(7), le.Uint32(b[44:]))
	assert.Equal(t, uint64(8), le.Uint64(b[48:]))
	assert.Equal(t, uint64(9), le.Uint64(b[72:]))
	assert.Equal(t, uint32(10), le.Uint32(b[96:]))
	assert.Equal(t, make([]byte, InfoSize-100), b[100:], "padding zeroed")
}

func TestWaitersFollowTheCaller(t *testing.T) {
	a, b := newThread(), newThread()
	cur := a
	var mu sync.Mutex
	s := New(func() Thread { mu.Lock(); defer mu.Unlock(); return cur }, bit(unix.SIGUSR1))
	ea, cha := waiter.NewChannelEntry(waiter.EventIn)
	s.EventRegister(ea)
	mu.Lock()
	cur = b
	mu.Unlock()
	eb, chb := waiter.NewChannelEntry(waiter.EventIn)
	s.EventRegister(eb)
	s.EventRegister(eb) // twice: once
	assert.Equal(t, 1, a.q.Len())
	assert.Equal(t, 1, b.q.Len())

	a.send(unix.SIGUSR1, 1)
	assert.Len(t, cha, 1)
	assert.Len(t, chb, 0)
	assert.Zero(t, s.Readiness(waiter.AllEvents), "b has nothing pending")
	b.send(unix.SIGUSR1, 2)
	assert.Len(t, chb, 1)
	buf := make([]byte, InfoSize)
	_, err := s.Read(buf)
	require.NoError(t, err)
	assert.Equal(t, uint32(2), binary.LittleEndian.Uint32(buf[12:]), "b's own signal")
	assert.Equal(t, bit(unix.SIGUSR1), a.Pending(), "a's stays")

	<-cha
	s.SetMask(bit(unix.SIGUSR1) | bit(unix.SIGUSR2))
	assert.Len(t, cha, 1, "a new mask wakes the waiters")

	s.EventUnregister(eb)
	assert.Equal(t, 0, b.q.Len())
	s.Release()
	assert.Equal(t, 0, a.q.Len(), "release unregisters the rest")
}

func TestBlockedReaderWakes(t *testing.T) {
	th := newThread()
	s := New(func() Thread { return th }, bit(unix.SIGCHLD))
	e, ch := waiter.NewChannelEntry(waiter.EventIn)
	s.EventRegister(e)
	defer s.EventUnregister(e)
	go func() {
		time.Sleep(10 * time.Millisecond)
		th.send(unix.SIGCHLD, 42)
	}()
	buf := make([]byte, InfoSize)
	for {
		if _, err := s.Read(buf); err == nil {
			break
		} else if err != unix.EAGAIN {
			t.Fatal(err)
		}
		select {
		case <-ch:
		case <-time.After(5 * time.Second):
			t.Fatal("not woken")
		}
	}
	assert.Equal(t, uint32(42), binary.LittleEndian.Uint32(buf[12:]))
	rev, _ := s.Poll(unix.POLLIN|unix.POLLOUT, 0)
	assert.Zero(t, rev)
	st, _ := s.Stat()
	assert.Equal(t, uint32(0o600), st.Mode)
	assert.Equal(t, "anon_inode:[signalfd]", s.Name())
	_, err := s.Write(buf)
	assert.Equal(t, unix.EINVAL, err)
}
