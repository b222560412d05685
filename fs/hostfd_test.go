package fs

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func pipe(t *testing.T) (r, w *HostFD) {
	t.Helper()
	var p [2]int
	require.NoError(t, unix.Pipe2(p[:], unix.O_CLOEXEC))
	r, err := NewHostFD(p[0])
	require.NoError(t, err)
	w, err = NewHostFD(p[1])
	require.NoError(t, err)
	// NewHostFD duplicates: the originals can go.
	unix.Close(p[0])
	unix.Close(p[1])
	return r, w
}

func TestHostFDPipe(t *testing.T) {
	r, w := pipe(t)
	defer r.Release()
	n, err := w.Write([]byte("hello"))
	require.NoError(t, err)
	assert.Equal(t, 5, n)
	buf := make([]byte, 10)
	n, err = r.Read(buf)
	require.NoError(t, err)
	assert.Equal(t, "hello", string(buf[:n]))

	_, err = r.Pread(buf, 0)
	assert.Equal(t, unix.ESPIPE, err, "errors are bare errnos")
	_, err = w.Pwrite(buf, 0)
	assert.Equal(t, unix.ESPIPE, err)
	_, err = r.Seek(0, 0)
	assert.Equal(t, unix.ESPIPE, err)
	st, err := r.Stat()
	require.NoError(t, err)
	assert.Equal(t, uint32(unix.S_IFIFO), st.Mode&unix.S_IFMT)
	assert.False(t, r.IsTerminal())
	_, err = r.Termios()
	assert.Equal(t, unix.ENOTTY, err)
	_, err = r.Winsize()
	assert.Equal(t, unix.ENOTTY, err)

	// Poll: nothing to read yet.
	rev, err := r.Poll(unix.POLLIN, 0)
	require.NoError(t, err)
	assert.Zero(t, rev)
	start := time.Now()
	rev, err = r.Poll(unix.POLLIN, 30)
	if err != nil {
		// Woken a little early: the caller polls again.
		assert.ErrorIs(t, err, ErrWouldBlock)
	}
	assert.Zero(t, rev)
	assert.GreaterOrEqual(t, time.Since(start), 25*time.Millisecond, "waits for the timeout")
	start = time.Now()
	rev, err = r.Poll(unix.POLLIN, 200)
	assert.ErrorIs(t, err, ErrWouldBlock, "a long wait comes back after a slice")
	assert.Zero(t, rev)
	assert.Less(t, time.Since(start), 150*time.Millisecond)
	rev, err = r.Poll(unix.POLLIN, -1)
	assert.ErrorIs(t, err, ErrWouldBlock, "an infinite wait comes back after a slice")
	assert.Zero(t, rev)
	rev, err = w.Poll(unix.POLLOUT, -1)
	require.NoError(t, err)
	assert.Equal(t, int16(unix.POLLOUT), rev)

	// Closing the writer: end of file and POLLHUP.
	w.Release()
	rev, err = r.Poll(unix.POLLIN, 0)
	require.NoError(t, err)
	assert.NotZero(t, rev&unix.POLLHUP)
	n, err = r.Read(buf)
	require.NoError(t, err)
	assert.Zero(t, n)
}

func TestHostFDFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	require.NoError(t, os.WriteFile(path, []byte("0123456789"), 0o600))
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_CLOEXEC, 0)
	require.NoError(t, err)
	h, err := NewHostFD(fd)
	require.NoError(t, err)
	unix.Close(fd)
	defer h.Release()

	buf := make([]byte, 4)
	n, err := h.Pread(buf, 3)
	require.NoError(t, err)
	assert.Equal(t, "3456", string(buf[:n]))
	n, err = h.Pwrite([]byte("ab"), 8)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	off, err := h.Seek(-3, unix.SEEK_END)
	require.NoError(t, err)
	assert.Equal(t, int64(7), off)
	n, err = h.Read(buf)
	require.NoError(t, err)
	assert.Equal(t, "7ab", string(buf[:n]))
	_, err = h.Seek(-100, unix.SEEK_SET)
	assert.Equal(t, unix.EINVAL, err)
	n, err = h.Pread(buf, -1)
	assert.Equal(t, unix.EINVAL, err)
	assert.Zero(t, n, "never a negative count")
	st, err := h.Stat()
	require.NoError(t, err)
	assert.Equal(t, int64(10), st.Size)
}

func TestNewHostFDBad(t *testing.T) {
	_, err := NewHostFD(-1)
	assert.Error(t, err)
}

// TestHostFDKind: the file type, taken once, answers only what it
// decides (a pipe never seeks nor is a terminal); the rest still asks
// the host: a regular file seeks, a character device that is not a
// terminal says so.
func TestHostFDKind(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "hostfd")
	require.NoError(t, err)
	_, err = f.WriteString("0123456789")
	require.NoError(t, err)
	h, err := NewHostFD(int(f.Fd()))
	require.NoError(t, err)
	f.Close()
	defer h.Release()
	off, err := h.Seek(4, unix.SEEK_SET)
	require.NoError(t, err)
	assert.Equal(t, int64(4), off)
	buf := make([]byte, 3)
	n, err := h.Read(buf)
	require.NoError(t, err)
	assert.Equal(t, "456", string(buf[:n]))
	assert.False(t, h.IsTerminal())

	null, err := os.Open("/dev/null")
	require.NoError(t, err)
	d, err := NewHostFD(int(null.Fd()))
	require.NoError(t, err)
	null.Close()
	defer d.Release()
	assert.False(t, d.IsTerminal(), "/dev/null is a character device, not a terminal")
	assert.True(t, d.noTTY.Load(), "the host's answer is kept")
	_, err = d.Termios()
	assert.Equal(t, unix.ENOTTY, err)
}
