package devfs

import (
	"bytes"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	rfs "ringbox/fs"
)

func lookup(t *testing.T, n rfs.Node, name string) rfs.Node {
	t.Helper()
	c, err := n.Lookup(name)
	require.NoError(t, err, name)
	return c
}

func stat(t *testing.T, n rfs.Node) unix.Stat_t {
	t.Helper()
	st, err := n.Stat()
	require.NoError(t, err)
	return st
}

func open(t *testing.T, f *FS, name string, flags int) rfs.Impl {
	t.Helper()
	h, err := lookup(t, f.Root(), name).Open(flags)
	require.NoError(t, err, name)
	t.Cleanup(h.Release)
	return h
}

func listing(t *testing.T, n rfs.Node) []rfs.DirEntry {
	t.Helper()
	h, err := n.Open(unix.O_RDONLY | unix.O_DIRECTORY)
	require.NoError(t, err)
	defer h.Release()
	dr, ok := h.(rfs.DirReader)
	require.True(t, ok)
	var out []rfs.DirEntry
	for off := 0; ; {
		ents, err := dr.ReadDir(off, 5)
		require.NoError(t, err)
		if len(ents) == 0 {
			return out
		}
		out = append(out, ents...)
		off += len(ents)
	}
}

func TestTree(t *testing.T) {
	f := New()
	root := f.Root()
	st := stat(t, root)
	assert.Equal(t, uint32(unix.S_IFDIR|0o755), st.Mode)
	assert.Equal(t, uint64(5), st.Nlink, "2 + pts, shm and mqueue")
	assert.NotZero(t, st.Dev)
	assert.NotZero(t, st.Mtim.Sec)

	want := map[string]uint8{
		"null": unix.DT_CHR, "zero": unix.DT_CHR, "full": unix.DT_CHR,
		"random": unix.DT_CHR, "urandom": unix.DT_CHR, "tty": unix.DT_CHR, "ptmx": unix.DT_CHR,
		"fd": unix.DT_LNK, "stdin": unix.DT_LNK, "stdout": unix.DT_LNK, "stderr": unix.DT_LNK,
		"pts": unix.DT_DIR, "shm": unix.DT_DIR, "mqueue": unix.DT_DIR,
	}
	ents := listing(t, root)
	got := map[string]uint8{}
	inos := map[uint64]bool{st.Ino: true}
	for _, e := range ents {
		got[e.Name] = e.Type
		est := stat(t, lookup(t, root, e.Name))
		assert.Equal(t, est.Ino, e.Ino, e.Name)
		assert.Equal(t, st.Dev, est.Dev, "st_dev is one per filesystem")
		assert.Equal(t, uint8(est.Mode>>12), e.Type, e.Name)
		inos[e.Ino] = true
	}
	assert.Equal(t, want, got)
	assert.Len(t, inos, len(want)+1, "inode numbers are unique")
	assert.Equal(t, ents, listing(t, root), "a stable order")

	for _, name := range []string{"console", "sda", "kvm", "mem"} {
		_, err := root.Lookup(name)
		assert.Equal(t, unix.ENOENT, err, name)
	}
	for _, name := range []string{"", ".", ".."} {
		_, err := root.Lookup(name)
		assert.Equal(t, unix.EINVAL, err, name)
	}
	_, err := root.Readlink()
	assert.Equal(t, unix.EINVAL, err)

	for name, target := range map[string]string{
		"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0",
		"stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2",
	} {
		l := lookup(t, root, name)
		got, err := l.Readlink()
		require.NoError(t, err)
		assert.Equal(t, target, got)
		st := stat(t, l)
		assert.Equal(t, uint32(unix.S_IFLNK|0o777), st.Mode)
		assert.Equal(t, int64(len(target)), st.Size)
		_, err = l.Open(unix.O_RDONLY)
		assert.Equal(t, unix.ELOOP, err)
		_, err = l.Lookup("x")
		assert.Equal(t, unix.ENOTDIR, err)
	}

	for name, mode := range map[string]uint32{"pts": 0o755, "shm": 0o1777} {
		d := lookup(t, root, name)
		st := stat(t, d)
		assert.Equal(t, unix.S_IFDIR|mode, st.Mode, name)
		assert.Equal(t, uint64(2), st.Nlink)
		if name == "pts" {
			// pts/ptmx only, while no terminal is open.
			require.Len(t, listing(t, d), 1)
			assert.Equal(t, "ptmx", listing(t, d)[0].Name)
			ptmx := stat(t, lookup(t, d, "ptmx"))
			assert.Equal(t, uint32(unix.S_IFCHR|0o666), ptmx.Mode)
			assert.Equal(t, unix.Mkdev(5, 2), ptmx.Rdev)
		} else {
			assert.Empty(t, listing(t, d), name)
		}
		_, err := d.Lookup("0")
		assert.Equal(t, unix.ENOENT, err)
	}

	// The container layout: /dev/ptmx a symlink to pts/ptmx.
	oci := NewWith(Options{PtmxLink: true}).Root()
	target, err := lookup(t, oci, "ptmx").Readlink()
	require.NoError(t, err)
	assert.Equal(t, "pts/ptmx", target)

	// Another instance has another device.
	assert.NotEqual(t, stat(t, New().Root()).Dev, st.Dev)
}

func TestDeviceStat(t *testing.T) {
	f := New()
	for name, rdev := range map[string][2]uint32{
		"null": {1, 3}, "zero": {1, 5}, "full": {1, 7},
		"random": {1, 8}, "urandom": {1, 9}, "tty": {5, 0},
	} {
		n := lookup(t, f.Root(), name)
		st := stat(t, n)
		assert.Equal(t, uint32(unix.S_IFCHR|0o666), st.Mode, name)
		assert.Equal(t, rdev[0], unix.Major(st.Rdev), name)
		assert.Equal(t, rdev[1], unix.Minor(st.Rdev), name)
		assert.Equal(t, uint64(1), st.Nlink)
		assert.Zero(t, st.Uid)
		assert.Zero(t, st.Gid)
		assert.Zero(t, st.Size)
		_, err := n.Lookup("x")
		assert.Equal(t, unix.ENOTDIR, err)
		_, err = n.Readlink()
		assert.Equal(t, unix.EINVAL, err)
		if name != "tty" {
			h := open(t, f, name, unix.O_RDONLY)
			hst, err := h.Stat()
			require.NoError(t, err)
			assert.Equal(t, st, hst)
		}
	}
}

func TestDevices(t *testing.T) {
	f := New()
	buf := bytes.Repeat([]byte{0xff}, 8192)
	fill := func() { copy(buf, bytes.Repeat([]byte{0xff}, len(buf))) }

	// null: end of file; writes discarded.
	h := open(t, f, "null", unix.O_RDWR)
	k, err := h.Read(buf)
	require.NoError(t, err)
	assert.Zero(t, k)
	k, err = h.Pread(buf, 100)
	require.NoError(t, err)
	assert.Zero(t, k)
	k, err = h.Write(buf)
	require.NoError(t, err)
	assert.Equal(t, len(buf), k)
	k, err = h.Pwrite(buf[:10], 7)
	require.NoError(t, err)
	assert.Equal(t, 10, k)

	// zero: zeros; writes discarded.
	h = open(t, f, "zero", unix.O_RDWR)
	fill()
	k, err = h.Read(buf)
	require.NoError(t, err)
	assert.Equal(t, len(buf), k)
	assert.Equal(t, make([]byte, len(buf)), buf)
	fill()
	k, err = h.Pread(buf[:100], 1<<40)
	require.NoError(t, err)
	assert.Equal(t, 100, k)
	assert.Equal(t, make([]byte, 100), buf[:100])
	k, err = h.Write([]byte("abc"))
	require.NoError(t, err)
	assert.Equal(t, 3, k)

	// full: zeros; writes ENOSPC.
	h = open(t, f, "full", unix.O_RDWR)
	fill()
	k, err = h.Read(buf)
	require.NoError(t, err)
	assert.Equal(t, len(buf), k)
	assert.Equal(t, make([]byte, len(buf)), buf)
	_, err = h.Write([]byte("abc"))
	assert.Equal(t, unix.ENOSPC, err)
	_, err = h.Pwrite([]byte("abc"), 0)
	assert.Equal(t, unix.ENOSPC, err)
	_, err = h.Write(nil)
	assert.Equal(t, unix.ENOSPC, err, "even empty, as Linux")

	// random, urandom: random bytes, never blocking; writes accepted.
	for _, name := range []string{"random", "urandom"} {
		h = open(t, f, name, unix.O_RDWR)
		a := make([]byte, 64)
		b := make([]byte, 64)
		k, err := h.Read(a)
		require.NoError(t, err)
		assert.Equal(t, 64, k)
		k, err = h.Pread(b, 0)
		require.NoError(t, err)
		assert.Equal(t, 64, k)
		assert.NotEqual(t, a, b)
		assert.NotEqual(t, make([]byte, 64), a)
		big := make([]byte, 1<<20)
		k, err = h.Read(big)
		require.NoError(t, err)
		assert.Equal(t, len(big), k)
		k, err = h.Write([]byte("entropy"))
		require.NoError(t, err)
		assert.Equal(t, 7, k)
		ev, err := h.Poll(unix.POLLIN|unix.POLLOUT, -1)
		require.NoError(t, err)
		assert.Equal(t, int16(unix.POLLIN|unix.POLLOUT), ev)
	}

	// tty: a placeholder the syscall layer replaces by the controlling
	// terminal; ENXIO on its own.
	ct, err := lookup(t, f.Root(), "tty").Open(unix.O_RDWR)
	require.NoError(t, err)
	_, err = ct.Read(make([]byte, 1))
	assert.Equal(t, unix.ENXIO, err)
}

func TestDeviceImpl(t *testing.T) {
	f := New()
	for _, name := range []string{"null", "zero", "full", "random", "urandom"} {
		n := lookup(t, f.Root(), name)
		_, err := n.Open(unix.O_RDONLY | unix.O_DIRECTORY)
		assert.Equal(t, unix.ENOTDIR, err, name)
		_, err = n.Open(unix.O_ACCMODE)
		assert.Equal(t, unix.EINVAL, err, name)

		// O_TRUNC is ignored; the access mode is enforced.
		r := open(t, f, name, unix.O_RDONLY|unix.O_TRUNC)
		_, err = r.Write([]byte("x"))
		assert.Equal(t, unix.EBADF, err, name)
		_, err = r.Pwrite([]byte("x"), 0)
		assert.Equal(t, unix.EBADF, err, name)
		w := open(t, f, name, unix.O_WRONLY)
		_, err = w.Read(make([]byte, 1))
		assert.Equal(t, unix.EBADF, err, name)
		_, err = w.Pread(make([]byte, 1), 0)
		assert.Equal(t, unix.EBADF, err, name)
		_, err = r.Pread(make([]byte, 1), -1)
		assert.Equal(t, unix.EINVAL, err, name)
		_, err = w.Pwrite(make([]byte, 1), -1)
		assert.Equal(t, unix.EINVAL, err, name)

		pos, err := r.Seek(100, unix.SEEK_SET)
		require.NoError(t, err)
		assert.Zero(t, pos)
		pos, err = r.Seek(-5, unix.SEEK_END)
		require.NoError(t, err)
		assert.Zero(t, pos)
		assert.False(t, r.IsTerminal())
		ev, err := w.Poll(unix.POLLOUT|unix.POLLPRI, 0)
		require.NoError(t, err)
		assert.Equal(t, int16(unix.POLLOUT), ev)

		_, ok := r.(rfs.FileOps)
		assert.False(t, ok)
		_, ok = r.(rfs.DirReader)
		assert.False(t, ok)

		r.Release()
		_, err = r.Read(make([]byte, 1))
		assert.Equal(t, unix.EBADF, err)
		_, err = r.Seek(0, unix.SEEK_SET)
		assert.Equal(t, unix.EBADF, err)
	}
}

func TestDirImpl(t *testing.T) {
	f := New()
	for _, flags := range []int{unix.O_WRONLY, unix.O_RDWR, unix.O_RDONLY | unix.O_TRUNC} {
		_, err := f.Root().Open(flags)
		assert.Equal(t, unix.EISDIR, err, "%#x", flags)
		_, err = lookup(t, f.Root(), "shm").Open(flags)
		assert.Equal(t, unix.EISDIR, err, "%#x", flags)
	}
	_, err := f.Root().Open(unix.O_ACCMODE)
	assert.Equal(t, unix.EINVAL, err)

	h, err := f.Root().Open(unix.O_RDONLY)
	require.NoError(t, err)
	dr := h.(rfs.DirReader)
	all, err := dr.ReadDir(0, 100)
	require.NoError(t, err)
	assert.Len(t, all, 14)
	part, err := dr.ReadDir(10, 100)
	require.NoError(t, err)
	assert.Equal(t, all[10:], part)
	part, err = dr.ReadDir(3, 2)
	require.NoError(t, err)
	assert.Equal(t, all[3:5], part)
	part, err = dr.ReadDir(14, 1)
	require.NoError(t, err)
	assert.Empty(t, part)
	_, err = dr.ReadDir(-1, 1)
	assert.Equal(t, unix.EINVAL, err)
	_, err = dr.ReadDir(0, -1)
	assert.Equal(t, unix.EINVAL, err)

	_, err = h.Read(make([]byte, 1))
	assert.Equal(t, unix.EISDIR, err)
	_, err = h.Pread(make([]byte, 1), 0)
	assert.Equal(t, unix.EISDIR, err)
	_, err = h.Write([]byte("x"))
	assert.Equal(t, unix.EBADF, err)
	_, err = h.Pwrite([]byte("x"), 0)
	assert.Equal(t, unix.EBADF, err)
	pos, err := h.Seek(3, unix.SEEK_SET)
	require.NoError(t, err)
	assert.Equal(t, int64(3), pos)
	pos, err = h.Seek(2, unix.SEEK_CUR)
	require.NoError(t, err)
	assert.Equal(t, int64(5), pos)
	_, err = h.Seek(-6, unix.SEEK_CUR)
	assert.Equal(t, unix.EINVAL, err)
	_, err = h.Seek(0, unix.SEEK_END)
	assert.Equal(t, unix.EINVAL, err)
	st, err := h.Stat()
	require.NoError(t, err)
	assert.Equal(t, stat(t, f.Root()), st)
	assert.False(t, h.IsTerminal())
	ev, err := h.Poll(unix.POLLIN, 0)
	require.NoError(t, err)
	assert.Equal(t, int16(unix.POLLIN), ev)
	h.Release()
	_, err = dr.ReadDir(0, 1)
	assert.Equal(t, unix.EBADF, err)
}

// TestReadOnly checks that nothing of the tree offers changes.
func TestReadOnly(t *testing.T) {
	f := New()
	nodes := []rfs.Node{f.Root()}
	for _, e := range listing(t, f.Root()) {
		nodes = append(nodes, lookup(t, f.Root(), e.Name))
	}
	for _, n := range nodes {
		_, ok := n.(rfs.Mutable)
		assert.False(t, ok, "%T is not Mutable", n)
		_, ok = n.(rfs.Creator)
		assert.False(t, ok, "%T is not a Creator", n)
	}
}

func TestConcurrent(t *testing.T) {
	f := New()
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				for _, name := range []string{"null", "zero", "full", "urandom", "random"} {
					n, err := f.Root().Lookup(name)
					if !assert.NoError(t, err) {
						return
					}
					h, err := n.Open(unix.O_RDWR)
					if !assert.NoError(t, err) {
						return
					}
					h.Read(make([]byte, 128))
					h.Write([]byte("x"))
					h.Stat()
					h.Release()
				}
				h, err := f.Root().Open(unix.O_RDONLY)
				if !assert.NoError(t, err) {
					return
				}
				ents, err := h.(rfs.DirReader).ReadDir(0, 100)
				assert.NoError(t, err)
				assert.Len(t, ents, 14)
				h.Release()
			}
		}()
	}
	wg.Wait()
}
