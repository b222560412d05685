package lock

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// waiter is a Waiter whose interruption the test controls.
type waiter struct {
	intr    chan struct{}
	pending atomic.Bool
}

func newWaiter() *waiter { return &waiter{intr: make(chan struct{}, 1)} }

func (w *waiter) Interrupted() <-chan struct{} { return w.intr }
func (w *waiter) SignalPending() bool          { return w.pending.Load() }

var k = Key{1, 2}

// TestRecordLocks: conflicts between owners, read locks shared, a
// lock replaced and split by the same owner, merging, Test's answer, and
// ReleasePOSIX.
func TestRecordLocks(t *testing.T) {
	m := New()
	a, b := "a", "b"
	require.NoError(t, m.SetRecord(nil, k, a, 1, Write, 0, 10, false))
	require.Equal(t, unix.EAGAIN, m.SetRecord(nil, k, b, 2, Read, 5, 6, false))
	require.NoError(t, m.SetRecord(nil, k, b, 2, Read, 10, 20, false), "touching is not overlapping")
	require.NoError(t, m.SetRecord(nil, k, a, 1, Read, 15, 30, false), "read locks share")
	l, ok := m.Test(k, b, Write, 0, EOF)
	require.True(t, ok)
	require.Equal(t, Lock{Owner: a, PID: 1, Type: Write, Start: 0, End: 10}, l)

	// a turns the middle of its write lock into a hole: b fits there.
	require.NoError(t, m.SetRecord(nil, k, a, 1, Unlock, 3, 6, false))
	require.NoError(t, m.SetRecord(nil, k, b, 2, Write, 3, 6, false))
	require.Equal(t, unix.EAGAIN, m.SetRecord(nil, k, b, 2, Write, 2, 4, false))
	// a's own locks never conflict with a: a write lock over its read
	// lock, where b reads too, does.
	require.Equal(t, unix.EAGAIN, m.SetRecord(nil, k, a, 1, Write, 6, 16, false))
	require.NoError(t, m.SetRecord(nil, k, a, 1, Read, 20, 40, false))
	_, ok = m.Test(k, b, Read, 6, 10)
	require.True(t, ok)
	// Merged: a holds [0,3) and [6,10) write, [15,40) read.
	require.Equal(t, 3, m.posix[a])

	m.ReleasePOSIX(k, a)
	require.False(t, m.HoldsPOSIX(a))
	require.NoError(t, m.SetRecord(nil, k, b, 2, Write, 0, EOF, false))
	m.ReleasePOSIX(k, b)
	require.Empty(t, m.files, "nothing left")
	require.Equal(t, unix.EINVAL, m.SetRecord(nil, k, a, 1, Write, 5, 5, false))
}

// TestWait: a blocked SetRecord goes on when the lock goes, and a signal
// ends it with ErrInterrupted.
func TestWait(t *testing.T) {
	m := New()
	require.NoError(t, m.SetRecord(nil, k, "a", 1, Write, 0, EOF, false))
	done := make(chan error)
	go func() { done <- m.SetRecord(newWaiter(), k, "b", 2, Write, 0, 1, true) }()
	select {
	case err := <-done:
		t.Fatalf("did not wait: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	require.NoError(t, m.SetRecord(nil, k, "a", 1, Unlock, 0, EOF, false))
	require.NoError(t, <-done)

	w := newWaiter()
	go func() { done <- m.SetRecord(w, k, "c", 3, Read, 0, 1, true) }()
	time.Sleep(20 * time.Millisecond)
	w.pending.Store(true)
	w.intr <- struct{}{}
	require.Equal(t, ErrInterrupted, <-done)
}

// TestDeadlock: a waits for b's lock while b waits for a's: EDEADLK for
// the one that closes the cycle.
func TestDeadlock(t *testing.T) {
	m := New()
	require.NoError(t, m.SetRecord(nil, k, "a", 1, Write, 0, 1, false))
	require.NoError(t, m.SetRecord(nil, k, "b", 2, Write, 1, 2, false))
	done := make(chan error)
	go func() { done <- m.SetRecord(newWaiter(), k, "b", 2, Write, 0, 1, true) }()
	for {
		m.mu.Lock()
		waiting := len(m.waiting) == 1
		m.mu.Unlock()
		if waiting {
			break
		}
		time.Sleep(time.Millisecond)
	}
	require.Equal(t, unix.EDEADLK, m.SetRecord(newWaiter(), k, "a", 1, Write, 1, 2, true))
	m.ReleasePOSIX(k, "a")
	require.NoError(t, <-done)
}

// TestFlock: shared and exclusive, conversion, EWOULDBLOCK, independence
// from record locks, ReleaseFile, and many waiters woken.
func TestFlock(t *testing.T) {
	m := New()
	require.NoError(t, m.Flock(nil, k, "a", Read, false))
	require.NoError(t, m.Flock(nil, k, "b", Read, false))
	require.Equal(t, unix.EWOULDBLOCK, m.Flock(nil, k, "c", Write, false))
	require.NoError(t, m.SetRecord(nil, k, "c", 3, Write, 0, EOF, false), "record locks are apart")
	require.Equal(t, unix.EWOULDBLOCK, m.Flock(nil, k, "a", Write, false), "b still shares it")
	require.NoError(t, m.Flock(nil, k, "b", Unlock, false))
	require.NoError(t, m.Flock(nil, k, "a", Write, false))

	var wg sync.WaitGroup
	for _, o := range []string{"x", "y", "z"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			require.NoError(t, m.Flock(newWaiter(), k, o, Read, true))
		}()
	}
	time.Sleep(20 * time.Millisecond)
	m.ReleaseFile(k, "a")
	wg.Wait()
	for _, o := range []string{"x", "y", "z"} {
		m.ReleaseFile(k, o)
	}
	m.ReleasePOSIX(k, "c")
	require.Empty(t, m.files)
}

// TestFlockSharedOwnerWaiters: two waiters of one open file (a descriptor
// shared by fork) both get LOCK_EX once the other owner lets go; the
// owner holds one lock, which one LOCK_UN drops.
func TestFlockSharedOwnerWaiters(t *testing.T) {
	m := New()
	require.NoError(t, m.Flock(nil, k, "g", Write, false))
	done := make(chan error, 2)
	for range 2 {
		go func() { done <- m.Flock(newWaiter(), k, "f", Write, true) }()
	}
	time.Sleep(50 * time.Millisecond)
	require.NoError(t, m.Flock(nil, k, "g", Unlock, false))
	require.NoError(t, <-done)
	require.NoError(t, <-done)
	require.NoError(t, m.Flock(nil, k, "f", Unlock, false))
	require.NoError(t, m.Flock(nil, k, "g", Read, false), "f's one LOCK_UN freed the file")
}

// TestNoDeadlockThroughOFD: an OFD owner waiting on a flock does not make
// a POSIX owner's wait for it a deadlock (it just waits).
func TestNoDeadlockThroughOFD(t *testing.T) {
	m := New()
	require.NoError(t, m.SetRecord(nil, k, "f", -1, Write, 0, 10, false)) // f's OFD lock
	require.NoError(t, m.SetRecord(nil, k, "p", 1, Write, 100, 200, false))
	require.NoError(t, m.Flock(nil, k, "r", Write, false))
	go m.Flock(newWaiter(), k, "f", Write, true) // f waits for r's flock
	time.Sleep(50 * time.Millisecond)
	done := make(chan error, 1)
	go func() { done <- m.SetRecord(newWaiter(), k, "p", 1, Write, 0, 10, true) }()
	select {
	case err := <-done:
		t.Fatalf("p's F_SETLKW returned %v; nothing waits on p", err)
	case <-time.After(100 * time.Millisecond):
	}
	m.ReleaseFile(k, "r")
	m.ReleaseFile(k, "f")
	require.NoError(t, <-done)
}
