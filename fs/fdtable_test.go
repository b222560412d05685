package fs

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// fakeImpl counts releases.
type fakeImpl struct {
	name     string
	released int
}

func (f *fakeImpl) Read(p []byte) (int, error)                { return 0, nil }
func (f *fakeImpl) Write(p []byte) (int, error)               { return len(p), nil }
func (f *fakeImpl) Pread(p []byte, off int64) (int, error)    { return 0, unix.ESPIPE }
func (f *fakeImpl) Pwrite(p []byte, off int64) (int, error)   { return 0, unix.ESPIPE }
func (f *fakeImpl) Seek(off int64, whence int) (int64, error) { return 0, unix.ESPIPE }
func (f *fakeImpl) Stat() (unix.Stat_t, error)                { return unix.Stat_t{}, nil }
func (f *fakeImpl) IsTerminal() bool                          { return false }
func (f *fakeImpl) Poll(mask int16, timeoutMs int) (int16, error) {
	return mask, nil
}
func (f *fakeImpl) Release() { f.released++ }

func newFake(name string, flags int) (*File, *fakeImpl) {
	impl := &fakeImpl{name: name}
	return NewFile(impl, flags), impl
}

func TestNewFDTableLimit(t *testing.T) {
	assert.Equal(t, DefaultNoFile, NewFDTable(0).Limit())
	assert.Equal(t, DefaultNoFile, NewFDTable(-5).Limit())
	assert.Equal(t, DefaultNoFile, NewFDTable(MaxNoFile+1).Limit())
	assert.Equal(t, 10, NewFDTable(10).Limit())
	tb := NewFDTable(10)
	tb.SetLimit(MaxNoFile * 2)
	assert.Equal(t, MaxNoFile, tb.Limit(), "capped at nr_open")
	tb.SetLimit(-1)
	assert.Equal(t, 0, tb.Limit())
}

func TestInstallLowestFree(t *testing.T) {
	tb := NewFDTable(DefaultNoFile)
	var files []*File
	for i := 0; i < 4; i++ {
		f, _ := newFake("f", unix.O_RDONLY)
		fd, err := tb.Install(f, 0, false)
		require.NoError(t, err)
		assert.Equal(t, i, fd)
		files = append(files, f)
	}
	for i, f := range files {
		got, err := tb.Get(i)
		require.NoError(t, err)
		assert.Same(t, f, got)
	}
	require.NoError(t, tb.Remove(1))
	f, _ := newFake("g", unix.O_RDONLY)
	fd, err := tb.Install(f, 0, false)
	require.NoError(t, err)
	assert.Equal(t, 1, fd, "the lowest free descriptor is reused")

	// F_DUPFD: the lowest free at or above minFD, even past the end.
	g, _ := newFake("h", unix.O_RDONLY)
	fd, err = tb.Install(g, 2, false)
	require.NoError(t, err)
	assert.Equal(t, 4, fd)
	h, _ := newFake("i", unix.O_RDONLY)
	fd, err = tb.Install(h, 100, true)
	require.NoError(t, err)
	assert.Equal(t, 100, fd)
	ce, err := tb.CloseOnExec(100)
	require.NoError(t, err)
	assert.True(t, ce)
	_, err = tb.Get(50)
	assert.ErrorIs(t, err, unix.EBADF, "the gap below stays free")
	i, _ := newFake("j", unix.O_RDONLY)
	fd, err = tb.Install(i, 0, false)
	require.NoError(t, err)
	assert.Equal(t, 5, fd)
}

func TestInstallLimits(t *testing.T) {
	tb := NewFDTable(3)
	for i := 0; i < 3; i++ {
		f, _ := newFake("f", 0)
		_, err := tb.Install(f, 0, false)
		require.NoError(t, err)
	}
	f, impl := newFake("f", 0)
	_, err := tb.Install(f, 0, false)
	assert.ErrorIs(t, err, unix.EMFILE)
	assert.Zero(t, impl.released, "the caller keeps its reference on failure")
	_, err = tb.Install(f, 3, false)
	assert.ErrorIs(t, err, unix.EINVAL, "F_DUPFD at or above RLIMIT_NOFILE")
	_, err = tb.Install(f, -1, false)
	assert.ErrorIs(t, err, unix.EINVAL)
	_, err = tb.Install(f, 2, false)
	assert.ErrorIs(t, err, unix.EMFILE)

	// Lowering the limit keeps open descriptors but refuses new ones
	// above it; freeing one below makes room.
	tb.SetLimit(2)
	_, err = tb.Get(2)
	assert.NoError(t, err)
	require.NoError(t, tb.Remove(0))
	fd, err := tb.Install(f, 0, false)
	require.NoError(t, err)
	assert.Equal(t, 0, fd)
	require.NoError(t, tb.Remove(2))
	g, _ := newFake("g", 0)
	_, err = tb.Install(g, 0, false)
	assert.ErrorIs(t, err, unix.EMFILE)
}

func TestInstallAtReplaces(t *testing.T) {
	tb := NewFDTable(10)
	a, ai := newFake("a", 0)
	b, bi := newFake("b", 0)
	require.NoError(t, tb.InstallAt(5, a, true))
	got, err := tb.Get(5)
	require.NoError(t, err)
	assert.Same(t, a, got)
	ce, _ := tb.CloseOnExec(5)
	assert.True(t, ce)
	for fd := 0; fd < 5; fd++ {
		_, err := tb.Get(fd)
		assert.ErrorIs(t, err, unix.EBADF)
	}

	// dup2 over an open descriptor closes what was there and takes the
	// new flags.
	require.NoError(t, tb.InstallAt(5, b, false))
	assert.Equal(t, 1, ai.released)
	got, _ = tb.Get(5)
	assert.Same(t, b, got)
	ce, _ = tb.CloseOnExec(5)
	assert.False(t, ce)

	// Two descriptors for one file: one reference each.
	b.IncRef()
	require.NoError(t, tb.InstallAt(6, b, false))
	require.NoError(t, tb.Remove(5))
	assert.Zero(t, bi.released)
	b.IncRef()
	require.NoError(t, tb.InstallAt(6, b, false), "dup2 onto the same file")
	assert.Zero(t, bi.released)
	require.NoError(t, tb.Remove(6))
	assert.Equal(t, 1, bi.released)

	c, _ := newFake("c", 0)
	assert.ErrorIs(t, tb.InstallAt(10, c, false), unix.EBADF, "at the limit")
	assert.ErrorIs(t, tb.InstallAt(-1, c, false), unix.EBADF)
}

func TestRemove(t *testing.T) {
	tb := NewFDTable(10)
	f, impl := newFake("f", 0)
	fd, err := tb.Install(f, 0, false)
	require.NoError(t, err)
	require.NoError(t, tb.Remove(fd))
	assert.Equal(t, 1, impl.released)
	assert.ErrorIs(t, tb.Remove(fd), unix.EBADF, "twice")
	assert.Equal(t, 1, impl.released)
	assert.ErrorIs(t, tb.Remove(-1), unix.EBADF)
	assert.ErrorIs(t, tb.Remove(1000), unix.EBADF)
	_, err = tb.Get(fd)
	assert.ErrorIs(t, err, unix.EBADF)
	_, err = tb.Get(-1)
	assert.ErrorIs(t, err, unix.EBADF)
}

func TestCloseOnExecFlags(t *testing.T) {
	tb := NewFDTable(10)
	f, _ := newFake("f", 0)
	fd, err := tb.Install(f, 0, false)
	require.NoError(t, err)
	ce, err := tb.CloseOnExec(fd)
	require.NoError(t, err)
	assert.False(t, ce)
	require.NoError(t, tb.SetCloseOnExec(fd, true))
	ce, _ = tb.CloseOnExec(fd)
	assert.True(t, ce)
	require.NoError(t, tb.SetCloseOnExec(fd, false))
	ce, _ = tb.CloseOnExec(fd)
	assert.False(t, ce)
	for _, bad := range []int{-1, 1, 9, 10, 1 << 30} {
		_, err := tb.CloseOnExec(bad)
		assert.ErrorIs(t, err, unix.EBADF, "%d", bad)
		assert.ErrorIs(t, tb.SetCloseOnExec(bad, true), unix.EBADF, "%d", bad)
	}
	// The flag belongs to the descriptor, not the file.
	f.IncRef()
	fd2, err := tb.Install(f, 0, false)
	require.NoError(t, err)
	require.NoError(t, tb.SetCloseOnExec(fd, true))
	ce, _ = tb.CloseOnExec(fd2)
	assert.False(t, ce)
	// A reused slot does not inherit it.
	require.NoError(t, tb.Remove(fd))
	g, _ := newFake("g", 0)
	fd3, err := tb.Install(g, 0, false)
	require.NoError(t, err)
	assert.Equal(t, fd, fd3)
	ce, _ = tb.CloseOnExec(fd3)
	assert.False(t, ce)
}

func TestRemoveRange(t *testing.T) {
	tb := NewFDTable(20)
	impls := map[int]*fakeImpl{}
	for _, fd := range []int{0, 1, 2, 5, 6, 10} {
		f, impl := newFake("f", 0)
		require.NoError(t, tb.InstallAt(fd, f, false))
		impls[fd] = impl
	}
	// close_range(2, 6, CLOSE_RANGE_CLOEXEC): marks only.
	tb.RemoveRange(2, 6, true)
	for fd, impl := range impls {
		assert.Zero(t, impl.released)
		ce, err := tb.CloseOnExec(fd)
		require.NoError(t, err)
		assert.Equal(t, fd >= 2 && fd <= 6, ce, "fd %d", fd)
	}
	// close_range(1, 5): inclusive.
	tb.RemoveRange(1, 5, false)
	for fd, impl := range impls {
		closed := fd >= 1 && fd <= 5
		assert.Equal(t, closed, impl.released == 1, "fd %d", fd)
		_, err := tb.Get(fd)
		assert.Equal(t, closed, err != nil, "fd %d", fd)
	}
	tb.RemoveRange(-10, 0, false)
	assert.Equal(t, 1, impls[0].released)
	tb.RemoveRange(7, 3, false) // empty
	tb.RemoveRange(100, 1<<30, false)
	tb.Release()
	for fd, impl := range impls {
		assert.Equal(t, 1, impl.released, "fd %d released once", fd)
	}
	_, err := tb.Get(10)
	assert.ErrorIs(t, err, unix.EBADF)
}

func TestFDTableConcurrent(t *testing.T) {
	tb := NewFDTable(MaxNoFile)
	var wg sync.WaitGroup
	fds := make(chan int, 4000)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				f, _ := newFake("f", 0)
				fd, err := tb.Install(f, 0, i%2 == 0)
				if err != nil {
					t.Error(err)
					return
				}
				fds <- fd
			}
		}()
	}
	wg.Wait()
	close(fds)
	seen := map[int]bool{}
	for fd := range fds {
		assert.False(t, seen[fd], "fd %d installed twice", fd)
		seen[fd] = true
	}
	assert.Len(t, seen, 4000)
	for fd := 0; fd < 4000; fd++ {
		assert.True(t, seen[fd], "the descriptors are dense: %d missing", fd)
	}
	tb.Release()
}

// ---- File ----

func TestFileFlags(t *testing.T) {
	for _, c := range []struct {
		flags           int
		readable, write bool
	}{
		{unix.O_RDONLY, true, false},
		{unix.O_WRONLY, false, true},
		{unix.O_RDWR, true, true},
		{unix.O_RDWR | unix.O_APPEND | unix.O_NONBLOCK, true, true},
		{unix.O_ACCMODE, false, false},
	} {
		f, _ := newFake("f", c.flags)
		assert.Equal(t, c.flags, f.Flags())
		assert.Equal(t, c.readable, f.Readable(), "flags %#o", c.flags)
		assert.Equal(t, c.write, f.Writable(), "flags %#o", c.flags)
	}
}

func TestFileSetFlags(t *testing.T) {
	f, _ := newFake("f", unix.O_WRONLY|unix.O_APPEND)
	// F_SETFL changes only O_APPEND, O_ASYNC, O_DIRECT, O_NOATIME and
	// O_NONBLOCK; the access mode and creation flags stay.
	f.SetFlags(unix.O_RDONLY | unix.O_NONBLOCK | unix.O_CREAT | unix.O_TRUNC | unix.O_EXCL)
	assert.Equal(t, unix.O_WRONLY|unix.O_NONBLOCK, f.Flags())
	assert.True(t, f.Writable())
	assert.False(t, f.Readable())
	f.SetFlags(unix.O_APPEND | unix.O_DIRECT | unix.O_NOATIME | unix.O_ASYNC)
	assert.Equal(t, unix.O_WRONLY|unix.O_APPEND|unix.O_DIRECT|unix.O_NOATIME|unix.O_ASYNC, f.Flags())
	f.SetFlags(0)
	assert.Equal(t, unix.O_WRONLY, f.Flags())

	g, _ := newFake("g", unix.O_RDWR|unix.O_LARGEFILE)
	g.SetFlags(unix.O_NONBLOCK)
	assert.Equal(t, unix.O_RDWR|unix.O_LARGEFILE|unix.O_NONBLOCK, g.Flags(), "other status flags are kept")
}

func TestFileRefs(t *testing.T) {
	f, impl := newFake("f", 0)
	f.IncRef()
	f.IncRef()
	f.DecRef()
	f.DecRef()
	assert.Zero(t, impl.released)
	f.DecRef()
	assert.Equal(t, 1, impl.released, "the last reference releases")

	g, gi := newFake("g", 0)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 1000; j++ {
				g.IncRef()
				g.DecRef()
			}
		}()
	}
	wg.Wait()
	assert.Zero(t, gi.released)
	g.DecRef()
	assert.Equal(t, 1, gi.released)
}
