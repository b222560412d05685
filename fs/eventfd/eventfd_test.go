package eventfd

import (
	"encoding/binary"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"ringbox/fs/waiter"
)

func u64(v uint64) []byte {
	b := make([]byte, 8)
	binary.LittleEndian.PutUint64(b, v)
	return b
}

func read(t *testing.T, e *EventFD) (uint64, error) {
	t.Helper()
	b := make([]byte, 8)
	n, err := e.Read(b)
	if err != nil {
		return 0, err
	}
	require.Equal(t, 8, n)
	return binary.LittleEndian.Uint64(b), nil
}

func TestCounter(t *testing.T) {
	e := New(3, false)
	v, err := read(t, e)
	require.NoError(t, err)
	assert.Equal(t, uint64(3), v)
	_, err = read(t, e)
	assert.Equal(t, unix.EAGAIN, err)

	n, err := e.Write(u64(5))
	require.NoError(t, err)
	assert.Equal(t, 8, n)
	_, err = e.Write(append(u64(2), 1, 2, 3))
	assert.Equal(t, unix.EINVAL, err, "exactly 8 bytes")
	n, err = e.Write(u64(2))
	require.NoError(t, err)
	assert.Equal(t, 8, n)
	v, _ = read(t, e)
	assert.Equal(t, uint64(7), v)
}

func TestSemaphore(t *testing.T) {
	e := New(2, true)
	for i := 0; i < 2; i++ {
		v, err := read(t, e)
		require.NoError(t, err)
		assert.Equal(t, uint64(1), v)
	}
	_, err := read(t, e)
	assert.Equal(t, unix.EAGAIN, err)
}

func TestBadSizesAndValues(t *testing.T) {
	e := New(0, false)
	_, err := e.Read(make([]byte, 7))
	assert.Equal(t, unix.EINVAL, err)
	_, err = e.Write(make([]byte, 4))
	assert.Equal(t, unix.EINVAL, err)
	_, err = e.Write(u64(math.MaxUint64))
	assert.Equal(t, unix.EINVAL, err)
	_, err = e.Pread(make([]byte, 8), 0)
	assert.Equal(t, unix.ESPIPE, err)
}

func TestOverflow(t *testing.T) {
	e := New(0, false)
	_, err := e.Write(u64(MaxCount))
	require.NoError(t, err)
	assert.Equal(t, waiter.ReadableEvents, e.Readiness(waiter.AllEvents), "full: not writable")
	_, err = e.Write(u64(1))
	assert.Equal(t, unix.EAGAIN, err)
	n, err := e.Write(u64(0))
	require.NoError(t, err, "adding 0 always works")
	assert.Equal(t, 8, n)
	v, _ := read(t, e)
	assert.Equal(t, uint64(MaxCount), v)
	assert.Equal(t, waiter.WritableEvents, e.Readiness(waiter.AllEvents))
}

func TestNotifications(t *testing.T) {
	e := New(0, false)
	in, inCh := waiter.NewChannelEntry(waiter.EventIn)
	out, outCh := waiter.NewChannelEntry(waiter.EventOut)
	e.EventRegister(in)
	e.EventRegister(out)
	_, _ = e.Write(u64(1))
	assert.Len(t, inCh, 1)
	assert.Len(t, outCh, 0)
	_, _ = read(t, e)
	assert.Len(t, outCh, 1)
	e.EventUnregister(in)
	<-inCh
	_, _ = e.Write(u64(1))
	assert.Len(t, inCh, 0)
	rev, err := e.Poll(unix.POLLIN|unix.POLLOUT, 0)
	require.NoError(t, err)
	assert.Equal(t, int16(unix.POLLIN|unix.POLLOUT), rev)
	st, err := e.Stat()
	require.NoError(t, err)
	assert.Equal(t, uint32(0o600), st.Mode)
	assert.Equal(t, "anon_inode:[eventfd]", e.Name())
}

func TestGoroutines(t *testing.T) {
	// Producers add 1 each time; a semaphore consumer takes them one by
	// one, waiting on the queue.
	e := New(0, true)
	const producers, each = 4, 500
	var wg sync.WaitGroup
	for i := 0; i < producers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < each; j++ {
				if _, err := e.Write(u64(1)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	entry, ch := waiter.NewChannelEntry(waiter.EventIn)
	e.EventRegister(entry)
	defer e.EventUnregister(entry)
	got := 0
	deadline := time.After(10 * time.Second)
	for got < producers*each {
		v, err := read(t, e)
		if err == unix.EAGAIN {
			select {
			case <-ch:
			case <-deadline:
				t.Fatalf("stuck after %d", got)
			}
			continue
		}
		require.NoError(t, err)
		got += int(v)
	}
	wg.Wait()
	assert.Equal(t, uint64(0), e.Count())
}
