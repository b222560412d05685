package ipc

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"ringbox/guestkernel/memfile"
)

// testWaiter is a Waiter a test can signal.
type testWaiter struct {
	ch      chan struct{}
	pending atomic.Bool
}

func newWaiter() *testWaiter { return &testWaiter{ch: make(chan struct{}, 1)} }

func (w *testWaiter) Interrupted() <-chan struct{} { return w.ch }
func (w *testWaiter) SignalPending() bool          { return w.pending.Load() }

// signal makes the waiter's sleep end, as a signal to the task does.
func (w *testWaiter) signal() {
	w.pending.Store(true)
	select {
	case w.ch <- struct{}{}:
	default:
	}
}

// newMem makes a memory file of limit bytes, freed when the test ends.
func newMem(tb testing.TB, limit uintptr) *memfile.File {
	tb.Helper()
	mem, err := memfile.New(limit, nil)
	require.NoError(tb, err)
	tb.Cleanup(func() {
		unix.Syscall(unix.SYS_MUNMAP, mem.Base(), mem.Limit(), 0)
		unix.Close(mem.FD())
	})
	return mem
}

func newNS(tb testing.TB) *Namespace {
	return NewNamespace(newMem(tb, memfile.ChunkSize))
}

// user is the usual caller; pid varies per "process".
func user(pid int32) Caller { return Caller{PID: pid, UID: 1000, GID: 1000} }

// other is a caller of another user and group.
func other(pid int32) Caller { return Caller{PID: pid, UID: 2000, GID: 2000} }

// result waits for a goroutine's error, failing the test after d.
func result(tb testing.TB, ch <-chan error, d time.Duration) error {
	tb.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(d):
		tb.Fatalf("no result within %v", d)
		return nil
	}
}

// blocked checks that nothing arrives on ch for a short while.
func blocked(tb testing.TB, ch <-chan error) {
	tb.Helper()
	select {
	case err := <-ch:
		tb.Fatalf("call returned (%v) but should block", err)
	case <-time.After(30 * time.Millisecond):
	}
}
