package pipe

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"ringbox/fs/waiter"
)

func nodeStat() (unix.Stat_t, error) {
	return unix.Stat_t{Dev: 7, Ino: 42, Mode: unix.S_IFIFO | 0o640}, nil
}

var key = FIFOKey{Dev: 7, Ino: 42}

// open returns the number of FIFOs that have a pipe.
func (f *FIFOs) open() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.m)
}

func TestFIFONonblockingOpens(t *testing.T) {
	var f FIFOs
	_, err := f.Open(key, false, true, true, nodeStat)
	assert.Equal(t, unix.ENXIO, err, "a nonblocking writer without a reader")
	assert.Equal(t, 0, f.open(), "a refused open leaves nothing behind")

	r, err := f.Open(key, true, false, true, nodeStat)
	require.NoError(t, err)
	n, err := r.Read(make([]byte, 4))
	assert.NoError(t, err)
	assert.Equal(t, 0, n, "no writer: end of file")
	assert.Equal(t, waiter.EventMask(0), r.Readiness(waiter.AllEvents), "no hang-up before a writer came")

	w, err := f.Open(key, false, true, true, nodeStat)
	require.NoError(t, err, "a reader is there")
	st, err := w.Stat()
	require.NoError(t, err)
	assert.Equal(t, uint64(42), st.Ino, "fstat is the node's")
	_, err = w.Write([]byte("hi"))
	require.NoError(t, err)
	buf := make([]byte, 8)
	n, _ = r.Read(buf)
	assert.Equal(t, "hi", string(buf[:n]))
	w.Release()
	assert.NotZero(t, r.Readiness(waiter.AllEvents)&waiter.EventHup, "hang-up once a writer came and went")
	r.Release()
	assert.Equal(t, 0, f.open(), "the last close drops the pipe")
}

func TestFIFOWaitForPartner(t *testing.T) {
	var f FIFOs
	r, err := f.Open(key, true, false, false, nodeStat)
	require.NoError(t, err)
	assert.True(t, r.WaitingForPartner(), "a blocking reader waits for a writer")

	e, ch := waiter.NewChannelEntry(waiter.AllEvents)
	r.EventRegister(e)
	defer r.EventUnregister(e)
	w, err := f.Open(key, false, true, false, nodeStat)
	require.NoError(t, err)
	assert.False(t, w.WaitingForPartner(), "the writer found a reader")
	select {
	case <-ch:
	default:
		t.Fatal("the writer's open did not wake the waiting reader")
	}
	w.Release()
	assert.False(t, r.WaitingForPartner(), "a writer came, even if it left again")

	w2, err := f.Open(key, false, true, false, nodeStat)
	require.NoError(t, err)
	assert.False(t, w2.WaitingForPartner())
	r.Release()
	w2.Release()

	w3, err := f.Open(key, false, true, false, nodeStat)
	require.NoError(t, err)
	assert.True(t, w3.WaitingForPartner(), "a blocking writer waits for a reader")
	rw, err := f.Open(key, true, true, false, nodeStat)
	require.NoError(t, err)
	assert.False(t, rw.WaitingForPartner(), "O_RDWR never waits")
	assert.False(t, w3.WaitingForPartner(), "the O_RDWR end is a reader")
	w3.Release()
	rw.Release()
	assert.Equal(t, 0, f.open())
}

func TestFIFODataDroppedAtLastClose(t *testing.T) {
	var f FIFOs
	rw, err := f.Open(key, true, true, false, nodeStat)
	require.NoError(t, err)
	_, err = rw.Write([]byte("left behind"))
	require.NoError(t, err)
	rw.Release()
	rw, err = f.Open(key, true, true, false, nodeStat)
	require.NoError(t, err)
	_, err = rw.Read(make([]byte, 16))
	assert.Equal(t, unix.EAGAIN, err, "a new opening starts empty")
	rw.Release()

	other := FIFOKey{Dev: 7, Ino: 43}
	a, err := f.Open(key, true, true, false, nodeStat)
	require.NoError(t, err)
	b, err := f.Open(other, true, true, false, nodeStat)
	require.NoError(t, err)
	_, _ = a.Write([]byte("a"))
	n, err := b.Read(make([]byte, 4))
	assert.Equal(t, unix.EAGAIN, err, "two nodes, two pipes (read %d)", n)
	a.Release()
	b.Release()
}
