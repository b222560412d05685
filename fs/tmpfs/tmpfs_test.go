package tmpfs

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	rfs "ringbox/fs"
)

func TestRootAndStat(t *testing.T) {
	f, root := setup(t, 1<<20)
	st := stat(t, f.Root())
	assert.Equal(t, uint32(unix.S_IFDIR|0o1777), st.Mode)
	assert.Equal(t, uint64(2), st.Nlink)
	assert.Equal(t, int64(40), st.Size)
	assert.Equal(t, int64(4096), st.Blksize)
	assert.Zero(t, st.Uid)
	assert.Zero(t, st.Gid)
	assert.NotZero(t, st.Dev)
	assert.NotZero(t, st.Ino)
	assert.NotZero(t, st.Mtim.Sec)

	a := create(t, root, "a", "hello")
	require.NoError(t, root.Mkdir("d", 0o750))
	require.NoError(t, root.Symlink("a", "l"))
	d := lookup(t, f.Root(), "d")
	l := lookup(t, f.Root(), "l")
	inos := map[uint64]bool{}
	for _, n := range []rfs.Node{f.Root(), a, d, l} {
		st := stat(t, n)
		assert.Equal(t, stat(t, f.Root()).Dev, st.Dev, "st_dev is one per filesystem")
		assert.Equal(t, int64(4096), st.Blksize)
		inos[st.Ino] = true
	}
	assert.Len(t, inos, 4, "inode numbers are unique")

	st = stat(t, a)
	assert.Equal(t, uint32(unix.S_IFREG|0o644), st.Mode)
	assert.Equal(t, uint64(1), st.Nlink)
	assert.Equal(t, int64(5), st.Size)
	assert.Equal(t, int64(8), st.Blocks)
	st = stat(t, d)
	assert.Equal(t, uint32(unix.S_IFDIR|0o750), st.Mode)
	assert.Equal(t, uint64(2), st.Nlink)
	assert.Equal(t, uint64(3), stat(t, f.Root()).Nlink, "2 + subdirectories")
	assert.Equal(t, int64(5*20), stat(t, f.Root()).Size)
	st = stat(t, l)
	assert.Equal(t, uint32(unix.S_IFLNK|0o777), st.Mode)
	assert.Equal(t, int64(1), st.Size)
	assert.Zero(t, st.Blocks)

	// Another instance has another device.
	assert.NotEqual(t, stat(t, New(1).Root()).Dev, stat(t, f.Root()).Dev)

	// Same node for the same name.
	again, err := f.Root().Lookup("a")
	require.NoError(t, err)
	assert.Same(t, a, again)
}

func TestLookupErrors(t *testing.T) {
	f, root := setup(t, 1<<20)
	a := create(t, root, "a", "")
	for name, want := range map[string]error{
		"":                       unix.EINVAL,
		".":                      unix.EINVAL,
		"..":                     unix.EINVAL,
		"a/b":                    unix.EINVAL,
		"a\x00":                  unix.EINVAL,
		strings.Repeat("n", 256): unix.ENAMETOOLONG,
		strings.Repeat("n", 255): unix.ENOENT,
		"missing":                unix.ENOENT,
	} {
		_, err := f.Root().Lookup(name)
		assert.Equal(t, want, err, "%.20q", name)
	}
	_, err := a.Lookup("x")
	assert.Equal(t, unix.ENOTDIR, err)
	_, err = a.Readlink()
	assert.Equal(t, unix.EINVAL, err)
	_, err = f.Root().Readlink()
	assert.Equal(t, unix.EINVAL, err)
}

func TestCreate(t *testing.T) {
	f, root := setup(t, 1<<20)
	n, impl, err := root.Create("f", unix.O_RDWR, 0o640)
	require.NoError(t, err)
	k, err := impl.Write([]byte("hello world"))
	require.NoError(t, err)
	assert.Equal(t, 11, k)
	_, err = impl.Seek(0, unix.SEEK_SET)
	require.NoError(t, err)
	assert.Equal(t, "hello world", readAll(t, impl))
	impl.Release()
	assert.Equal(t, uint32(unix.S_IFREG|0o640), stat(t, n).Mode)

	// Mode bits beyond 07777 are ignored; the type is a regular file.
	n2, impl, err := root.Create("g", unix.O_WRONLY, unix.S_IFDIR|0o4755)
	require.NoError(t, err)
	impl.Release()
	assert.Equal(t, uint32(unix.S_IFREG|0o4755), stat(t, n2).Mode)

	// O_EXCL on an existing name.
	_, _, err = root.Create("f", unix.O_WRONLY|unix.O_EXCL, 0o644)
	assert.Equal(t, unix.EEXIST, err)
	// Without it the existing file is opened as it is.
	n3, impl, err := root.Create("f", unix.O_RDONLY, 0o600)
	require.NoError(t, err)
	assert.Same(t, n, n3)
	assert.Equal(t, "hello world", readAll(t, impl))
	impl.Release()
	assert.Equal(t, uint32(unix.S_IFREG|0o640), stat(t, n).Mode, "mode unchanged")
	// With O_TRUNC it is truncated.
	_, impl, err = root.Create("f", unix.O_WRONLY|unix.O_TRUNC, 0o600)
	require.NoError(t, err)
	impl.Release()
	assert.Equal(t, int64(0), stat(t, n).Size)
	assert.Equal(t, "", content(t, n))

	require.NoError(t, root.Mkdir("d", 0o755))
	require.NoError(t, root.Symlink("f", "l"))
	for _, c := range []struct {
		name  string
		flags int
		want  error
	}{
		{"d", unix.O_RDONLY, unix.EISDIR},
		{"l", unix.O_RDONLY, unix.ELOOP},
		{"x", unix.O_RDONLY | unix.O_DIRECTORY, unix.EINVAL},
		{"x", unix.O_ACCMODE, unix.EINVAL},
		{"", unix.O_RDONLY, unix.EINVAL},
		{"a/b", unix.O_RDONLY, unix.EINVAL},
		{strings.Repeat("n", 256), unix.O_RDONLY, unix.ENAMETOOLONG},
	} {
		_, _, err := root.Create(c.name, c.flags, 0o644)
		assert.Equal(t, c.want, err, "%.20s", c.name)
	}
	// In a file: ENOTDIR.
	_, _, err = mut(t, n).Create("x", unix.O_RDONLY, 0o644)
	assert.Equal(t, unix.ENOTDIR, err)
	assert.Equal(t, [2]int64{0, 5}, usage(f)) // root, f, g, d, l; f is empty
}

func TestOpen(t *testing.T) {
	f, root := setup(t, 1<<20)
	a := create(t, root, "a", "data")
	require.NoError(t, root.Mkdir("d", 0o755))
	require.NoError(t, root.Symlink("a", "l"))
	d := lookup(t, f.Root(), "d")
	l := lookup(t, f.Root(), "l")
	for _, c := range []struct {
		n     rfs.Node
		flags int
		want  error
	}{
		{d, unix.O_WRONLY, unix.EISDIR},
		{d, unix.O_RDWR, unix.EISDIR},
		{d, unix.O_RDONLY | unix.O_TRUNC, unix.EISDIR},
		{a, unix.O_RDONLY | unix.O_DIRECTORY, unix.ENOTDIR},
		{a, unix.O_ACCMODE, unix.EINVAL},
		{l, unix.O_RDONLY, unix.ELOOP},
	} {
		_, err := c.n.Open(c.flags)
		assert.Equal(t, c.want, err, "%#x", c.flags)
	}

	// The access mode is enforced.
	r := open(t, a, unix.O_RDONLY)
	_, err := r.Write([]byte("x"))
	assert.Equal(t, unix.EBADF, err)
	_, err = r.Pwrite([]byte("x"), 0)
	assert.Equal(t, unix.EBADF, err)
	w := open(t, a, unix.O_WRONLY)
	_, err = w.Read(make([]byte, 4))
	assert.Equal(t, unix.EBADF, err)
	_, err = w.Pread(make([]byte, 4), 0)
	assert.Equal(t, unix.EBADF, err)
	assert.Equal(t, "data", readAll(t, r))

	// O_TRUNC on open truncates (and sets mtime).
	require.NoError(t, mut(t, a).Utimens(ts(1000), ts(1000)))
	open(t, a, unix.O_WRONLY|unix.O_TRUNC)
	st := stat(t, a)
	assert.Equal(t, int64(0), st.Size)
	assert.Equal(t, int64(0), st.Blocks)
	assert.Greater(t, st.Mtim.Sec, int64(1000))
	assert.Equal(t, [2]int64{0, 4}, usage(f))

	// A directory's Impl.
	di := open(t, d, unix.O_RDONLY|unix.O_DIRECTORY)
	_, err = di.Read(make([]byte, 1))
	assert.Equal(t, unix.EISDIR, err)
	_, err = di.Pread(make([]byte, 1), 0)
	assert.Equal(t, unix.EISDIR, err)
	_, err = di.Write([]byte("x"))
	assert.Equal(t, unix.EBADF, err)
	_, err = di.Pwrite([]byte("x"), 0)
	assert.Equal(t, unix.EBADF, err)
	assert.Equal(t, stat(t, d), mustStat(t, di))
	ev, err := di.Poll(unix.POLLIN, 0)
	require.NoError(t, err)
	assert.Equal(t, int16(unix.POLLIN), ev)
	assert.False(t, di.IsTerminal())
	pos, err := di.Seek(5, unix.SEEK_SET)
	require.NoError(t, err)
	assert.Equal(t, int64(5), pos)
	pos, err = di.Seek(2, unix.SEEK_CUR)
	require.NoError(t, err)
	assert.Equal(t, int64(7), pos)
	_, err = di.Seek(0, unix.SEEK_END)
	assert.Equal(t, unix.EINVAL, err)
	_, err = di.Seek(-1, unix.SEEK_SET)
	assert.Equal(t, unix.EINVAL, err)
	_, ok := di.(rfs.FileOps)
	assert.False(t, ok, "an open directory has no FileOps")

	fi := open(t, a, unix.O_RDWR)
	_, ok = fi.(rfs.FileOps)
	assert.True(t, ok)
	_, ok = fi.(rfs.DirReader)
	assert.False(t, ok)
	assert.False(t, fi.IsTerminal())
	ev, err = fi.Poll(unix.POLLIN|unix.POLLOUT|unix.POLLPRI, 0)
	require.NoError(t, err)
	assert.Equal(t, int16(unix.POLLIN|unix.POLLOUT), ev)
	ev, err = fi.Poll(unix.POLLOUT, -1)
	require.NoError(t, err)
	assert.Equal(t, int16(unix.POLLOUT), ev)
}

func mustStat(t *testing.T, impl rfs.Impl) unix.Stat_t {
	t.Helper()
	st, err := impl.Stat()
	require.NoError(t, err)
	return st
}

func TestReadWrite(t *testing.T) {
	_, root := setup(t, 1<<20)
	n, h, err := root.Create("f", unix.O_RDWR, 0o644)
	require.NoError(t, err)
	defer h.Release()
	// Across page boundaries.
	data := bytes.Repeat([]byte("0123456789abcdef"), 1000) // 16000 bytes
	k, err := h.Write(data)
	require.NoError(t, err)
	assert.Equal(t, len(data), k)
	st := stat(t, n)
	assert.Equal(t, int64(16000), st.Size)
	assert.Equal(t, int64(4*8), st.Blocks)
	assert.Equal(t, st, mustStat(t, h))

	pos, err := h.Seek(0, unix.SEEK_CUR)
	require.NoError(t, err)
	assert.Equal(t, int64(16000), pos)
	k, err = h.Read(make([]byte, 10))
	require.NoError(t, err)
	assert.Zero(t, k, "end of file")

	buf := make([]byte, 5000)
	k, err = h.Pread(buf, 4000)
	require.NoError(t, err)
	assert.Equal(t, 5000, k)
	assert.Equal(t, data[4000:9000], buf)
	k, err = h.Pread(buf, 15000)
	require.NoError(t, err)
	assert.Equal(t, 1000, k, "short at the end")
	assert.Equal(t, data[15000:], buf[:k])
	k, err = h.Pread(buf, 1<<40)
	require.NoError(t, err)
	assert.Zero(t, k)
	_, err = h.Pread(buf, -1)
	assert.Equal(t, unix.EINVAL, err)
	_, err = h.Pwrite(buf, -1)
	assert.Equal(t, unix.EINVAL, err)
	k, err = h.Pwrite(nil, 1<<62)
	require.NoError(t, err)
	assert.Zero(t, k, "an empty write does nothing")

	// Pwrite does not move the position; Read does.
	k, err = h.Pwrite([]byte("XYZ"), 4095)
	require.NoError(t, err)
	assert.Equal(t, 3, k)
	_, err = h.Seek(4094, unix.SEEK_SET)
	require.NoError(t, err)
	buf = make([]byte, 5)
	k, err = h.Read(buf)
	require.NoError(t, err)
	assert.Equal(t, "eXYZ2", string(buf[:k]))
	pos, _ = h.Seek(0, unix.SEEK_CUR)
	assert.Equal(t, int64(4099), pos)

	// Writing past the end leaves a hole of zeros.
	_, err = h.Pwrite([]byte("end"), 20000)
	require.NoError(t, err)
	buf = make([]byte, 4003)
	k, err = h.Pread(buf, 16000)
	require.NoError(t, err)
	assert.Equal(t, 4003, k)
	assert.Equal(t, append(make([]byte, 4000), "end"...), buf)
}

func TestAppend(t *testing.T) {
	_, root := setup(t, 1<<20)
	n := create(t, root, "f", "abc")
	a := open(t, n, unix.O_WRONLY|unix.O_APPEND)
	b := open(t, n, unix.O_WRONLY|unix.O_APPEND)
	plain := open(t, n, unix.O_WRONLY)
	_, err := a.Write([]byte("1"))
	require.NoError(t, err)
	_, err = b.Write([]byte("2"))
	require.NoError(t, err)
	_, err = a.Write([]byte("3"))
	require.NoError(t, err)
	// pwrite on an O_APPEND file appends, as Linux does.
	_, err = b.Pwrite([]byte("4"), 0)
	require.NoError(t, err)
	pos, err := a.Seek(0, unix.SEEK_CUR)
	require.NoError(t, err)
	assert.Equal(t, int64(6), pos)
	// Seeking back does not stop appending.
	_, err = a.Seek(0, unix.SEEK_SET)
	require.NoError(t, err)
	_, err = a.Write([]byte("5"))
	require.NoError(t, err)
	// Without O_APPEND: at the position.
	_, err = plain.Write([]byte("X"))
	require.NoError(t, err)
	assert.Equal(t, "Xbc12345", content(t, n))
}

func TestSeek(t *testing.T) {
	_, root := setup(t, 1<<20)
	n := create(t, root, "f", "0123456789")
	h := open(t, n, unix.O_RDONLY)
	for _, c := range []struct {
		off    int64
		whence int
		want   int64
		err    error
	}{
		{3, unix.SEEK_SET, 3, nil},
		{2, unix.SEEK_CUR, 5, nil},
		{-1, unix.SEEK_CUR, 4, nil},
		{-2, unix.SEEK_END, 8, nil},
		{5, unix.SEEK_END, 15, nil}, // past the end is fine
		{-1, unix.SEEK_SET, 0, unix.EINVAL},
		{-16, unix.SEEK_CUR, 0, unix.EINVAL},
		{-11, unix.SEEK_END, 0, unix.EINVAL},
		{MaxFileSize + 1, unix.SEEK_SET, 0, unix.EINVAL},
		{1<<63 - 1, unix.SEEK_END, 0, unix.EINVAL}, // overflow
		{0, 5, 0, unix.EINVAL},
		{0, -1, 0, unix.EINVAL},
		{0, unix.SEEK_DATA, 0, nil},
		{4, unix.SEEK_HOLE, 10, nil}, // the end is a hole
		{10, unix.SEEK_DATA, 0, unix.ENXIO},
		{10, unix.SEEK_HOLE, 0, unix.ENXIO},
		{-1, unix.SEEK_DATA, 0, unix.ENXIO}, // as Linux
		{-1, unix.SEEK_HOLE, 0, unix.ENXIO},
	} {
		before, _ := h.Seek(0, unix.SEEK_CUR)
		got, err := h.Seek(c.off, c.whence)
		if c.err != nil {
			assert.Equal(t, c.err, err, "%d %d", c.off, c.whence)
			after, _ := h.Seek(0, unix.SEEK_CUR)
			assert.Equal(t, before, after, "a failed seek does not move")
			continue
		}
		require.NoError(t, err, "%d %d", c.off, c.whence)
		assert.Equal(t, c.want, got, "%d %d", c.off, c.whence)
	}
	// Reading from a seeked position.
	_, err := h.Seek(7, unix.SEEK_SET)
	require.NoError(t, err)
	assert.Equal(t, "789", readAll(t, h))
}

func TestSparse(t *testing.T) {
	f, root := setup(t, 1<<20)
	n, h, err := root.Create("sparse", unix.O_RDWR, 0o644)
	require.NoError(t, err)
	defer h.Release()
	const far = 1 << 30
	k, err := h.Pwrite([]byte("x"), far)
	require.NoError(t, err)
	assert.Equal(t, 1, k)
	st := stat(t, n)
	assert.Equal(t, int64(far+1), st.Size)
	assert.Equal(t, int64(8), st.Blocks, "one page")
	assert.Equal(t, [2]int64{4096, 2}, usage(f))

	// Holes read as zeros without allocating.
	buf := bytes.Repeat([]byte{0xff}, 3*4096)
	k, err = h.Pread(buf, far-2*4096)
	require.NoError(t, err)
	assert.Equal(t, 2*4096+1, k)
	assert.Equal(t, append(make([]byte, 2*4096), 'x'), buf[:k])
	assert.Equal(t, [2]int64{4096, 2}, usage(f))

	// SEEK_DATA and SEEK_HOLE, page by page.
	_, err = h.Pwrite(bytes.Repeat([]byte("d"), 5000), 3*4096+100) // pages 3 and 4
	require.NoError(t, err)
	for _, c := range []struct {
		off    int64
		whence int
		want   int64
		err    error
	}{
		{0, unix.SEEK_DATA, 3 * 4096, nil},
		{3*4096 + 7, unix.SEEK_DATA, 3*4096 + 7, nil},
		{5 * 4096, unix.SEEK_DATA, far, nil},
		{far + 1, unix.SEEK_DATA, 0, unix.ENXIO},
		{0, unix.SEEK_HOLE, 0, nil},
		{3 * 4096, unix.SEEK_HOLE, 5 * 4096, nil},
		{4*4096 + 9, unix.SEEK_HOLE, 5 * 4096, nil},
		{far, unix.SEEK_HOLE, far + 1, nil}, // the end
		{far + 1, unix.SEEK_HOLE, 0, unix.ENXIO},
	} {
		got, err := h.Seek(c.off, c.whence)
		if c.err != nil {
			assert.Equal(t, c.err, err, "%d %d", c.off, c.whence)
			continue
		}
		require.NoError(t, err, "%d %d", c.off, c.whence)
		assert.Equal(t, c.want, got, "%d %d", c.off, c.whence)
	}

	// Growing by truncate allocates nothing; shrinking frees the pages and
	// zeroes the tail of the last one.
	require.NoError(t, mut(t, n).Truncate(1<<40))
	assert.Equal(t, int64(1<<40), stat(t, n).Size)
	assert.Equal(t, [2]int64{3 * 4096, 2}, usage(f))
	require.NoError(t, mut(t, n).Truncate(3*4096+102))
	assert.Equal(t, [2]int64{4096, 2}, usage(f))
	require.NoError(t, mut(t, n).Truncate(3*4096+200))
	buf = make([]byte, 200)
	k, err = h.Pread(buf, 3*4096)
	require.NoError(t, err)
	assert.Equal(t, 200, k)
	want := make([]byte, 200)
	want[100], want[101] = 'd', 'd'
	assert.Equal(t, want, buf)
	require.NoError(t, mut(t, n).Truncate(0))
	assert.Equal(t, [2]int64{0, 2}, usage(f))
	assert.Equal(t, int64(0), stat(t, n).Blocks)
	_, err = h.Seek(0, unix.SEEK_DATA)
	assert.Equal(t, unix.ENXIO, err)

	// A file of holes only.
	require.NoError(t, mut(t, n).Truncate(10000))
	_, err = h.Seek(0, unix.SEEK_DATA)
	assert.Equal(t, unix.ENXIO, err)
	pos, err := h.Seek(50, unix.SEEK_HOLE)
	require.NoError(t, err)
	assert.Equal(t, int64(50), pos)
	assert.Equal(t, strings.Repeat("\x00", 10000), content(t, n))
}

func TestLimits(t *testing.T) {
	// The limit is rounded up to whole pages.
	f, root := setup(t, 3*4096+1)
	b, nodes := f.Limits()
	assert.Equal(t, int64(4*4096), b)
	assert.Equal(t, int64(DefaultMaxNodes), nodes)
	n, h, err := root.Create("big", unix.O_RDWR, 0o644)
	require.NoError(t, err)
	k, err := h.Write(make([]byte, 5*4096))
	require.NoError(t, err, "a write running into the limit is short")
	assert.Equal(t, 4*4096, k)
	k, err = h.Write([]byte("x"))
	assert.Equal(t, unix.ENOSPC, err)
	assert.Zero(t, k)
	assert.Equal(t, int64(4*4096), stat(t, n).Size)
	// Rewriting allocated pages needs no room.
	k, err = h.Pwrite([]byte("again"), 100)
	require.NoError(t, err)
	assert.Equal(t, 5, k)
	// Nor does growing by truncate.
	require.NoError(t, mut(t, n).Truncate(1<<30))
	_, err = h.Pwrite([]byte("x"), 1<<29)
	assert.Equal(t, unix.ENOSPC, err)

	// Sizes are never trusted.
	_, err = h.Pwrite([]byte("x"), 1<<62)
	assert.Equal(t, unix.EFBIG, err)
	_, err = h.Pwrite([]byte("x"), MaxFileSize)
	assert.Equal(t, unix.EFBIG, err)
	_, err = h.Seek(MaxFileSize, unix.SEEK_SET)
	require.NoError(t, err)
	_, err = h.Write([]byte("x"))
	assert.Equal(t, unix.EFBIG, err)
	assert.Equal(t, unix.EFBIG, mut(t, n).Truncate(MaxFileSize+1))
	assert.Equal(t, unix.EFBIG, h.(rfs.FileOps).Truncate(1<<62))
	assert.Equal(t, unix.EINVAL, mut(t, n).Truncate(-1))
	assert.Equal(t, unix.EINVAL, h.(rfs.FileOps).Truncate(-1))
	assert.Equal(t, int64(1<<30), stat(t, n).Size)

	// A long symlink takes a page, a short one does not.
	assert.Equal(t, unix.ENOSPC, root.Symlink(strings.Repeat("t", 200), "long"))
	_, err = f.Root().Lookup("long")
	assert.Equal(t, unix.ENOENT, err)
	require.NoError(t, root.Symlink(strings.Repeat("t", 128), "short"))

	// Freeing space.
	require.NoError(t, mut(t, n).Truncate(4096))
	assert.Equal(t, [2]int64{4096, 3}, usage(f))
	require.NoError(t, root.Symlink(strings.Repeat("t", 200), "long"))
	assert.Equal(t, int64(8), stat(t, lookup(t, f.Root(), "long")).Blocks)
	assert.Equal(t, [2]int64{2 * 4096, 4}, usage(f))
	h.Release()
	require.NoError(t, root.Unlink("big"))
	require.NoError(t, root.Unlink("long"))
	require.NoError(t, root.Unlink("short"))
	assert.Equal(t, [2]int64{0, 1}, usage(f))

	// A limit of 0 allows no data.
	_, root0 := setup(t, 0)
	_, h0, err := root0.Create("f", unix.O_WRONLY, 0o644)
	require.NoError(t, err, "an empty file needs no data")
	_, err = h0.Write([]byte("x"))
	assert.Equal(t, unix.ENOSPC, err)
	h0.Release()
}

func TestNodeLimit(t *testing.T) {
	f, root := setup(t, 1<<20)
	f.SetMaxNodes(4)
	a := create(t, root, "a", "")
	require.NoError(t, root.Mkdir("d", 0o755))
	require.NoError(t, root.Link(a, "hard"), "an extra link counts as a node")
	assert.Equal(t, [2]int64{0, 4}, usage(f))
	_, _, err := root.Create("b", unix.O_WRONLY, 0o644)
	assert.Equal(t, unix.ENOSPC, err)
	assert.Equal(t, unix.ENOSPC, root.Mkdir("e", 0o755))
	assert.Equal(t, unix.ENOSPC, root.Symlink("a", "l"))
	assert.Equal(t, unix.ENOSPC, root.Link(a, "hard2"))
	// An existing name is still EEXIST, not ENOSPC.
	assert.Equal(t, unix.EEXIST, root.Mkdir("d", 0o755))
	// Nothing was half made.
	assert.Equal(t, []string{"a", "d", "hard"}, names(t, f.Root()))
	assert.Equal(t, [2]int64{0, 4}, usage(f))

	require.NoError(t, root.Unlink("hard"))
	assert.Equal(t, [2]int64{0, 3}, usage(f))
	require.NoError(t, root.Symlink("a", "l"))
	require.NoError(t, root.Unlink("a"))
	require.NoError(t, root.Unlink("l"))
	require.NoError(t, root.Rmdir("d"))
	assert.Equal(t, [2]int64{0, 1}, usage(f))
}

func TestDirectories(t *testing.T) {
	f, root := setup(t, 1<<20)
	require.NoError(t, root.Mkdir("d", 0o755))
	d := lookup(t, f.Root(), "d")
	dm := mut(t, d)
	require.NoError(t, dm.Mkdir("sub1", 0o700))
	require.NoError(t, dm.Mkdir("sub2", 0o700))
	create(t, dm, "file", "x")
	assert.Equal(t, uint64(4), stat(t, d).Nlink)
	assert.Equal(t, uint64(3), stat(t, f.Root()).Nlink)

	// Mkdir keeps the sticky bit, drops set-user-ID.
	require.NoError(t, root.Mkdir("sticky", 0o7777))
	assert.Equal(t, uint32(unix.S_IFDIR|0o1777), stat(t, lookup(t, f.Root(), "sticky")).Mode)

	assert.Equal(t, unix.EEXIST, root.Mkdir("d", 0o755))
	assert.Equal(t, unix.EEXIST, dm.Mkdir("file", 0o755))
	assert.Equal(t, unix.ENOTEMPTY, root.Rmdir("d"))
	assert.Equal(t, unix.ENOTDIR, dm.Rmdir("file"))
	assert.Equal(t, unix.EISDIR, dm.Unlink("sub1"))
	assert.Equal(t, unix.ENOENT, dm.Rmdir("nope"))
	assert.Equal(t, unix.ENOENT, dm.Unlink("nope"))
	assert.Equal(t, unix.EINVAL, dm.Rmdir("."))
	assert.Equal(t, unix.EINVAL, dm.Unlink(".."))
	file := lookup(t, d, "file")
	assert.Equal(t, unix.ENOTDIR, mut(t, file).Mkdir("x", 0o755))
	assert.Equal(t, unix.ENOTDIR, mut(t, file).Unlink("x"))
	assert.Equal(t, unix.ENOTDIR, mut(t, file).Rmdir("x"))
	assert.Equal(t, unix.ENOTDIR, mut(t, file).Symlink("t", "x"))

	sub1 := lookup(t, d, "sub1")
	require.NoError(t, dm.Rmdir("sub1"))
	assert.Equal(t, uint64(3), stat(t, d).Nlink)
	assert.Equal(t, uint64(0), stat(t, sub1).Nlink)
	// Nothing can be made in a removed directory.
	s1 := mut(t, sub1)
	_, _, err := s1.Create("x", unix.O_WRONLY, 0o644)
	assert.Equal(t, unix.ENOENT, err)
	assert.Equal(t, unix.ENOENT, s1.Mkdir("x", 0o755))
	assert.Equal(t, unix.ENOENT, s1.Symlink("t", "x"))
	assert.Equal(t, unix.ENOENT, s1.Link(file, "x"))
	assert.Equal(t, unix.ENOENT, dm.Rename("file", sub1, "x", 0))
	_, err = sub1.Lookup("x")
	assert.Equal(t, unix.ENOENT, err)
	_, err = sub1.Open(unix.O_RDONLY)
	assert.Equal(t, unix.ENOENT, err)

	// A removed directory that is open lists nothing.
	sub2 := lookup(t, d, "sub2")
	di := open(t, sub2, unix.O_RDONLY)
	require.NoError(t, dm.Rmdir("sub2"))
	ents, err := di.(rfs.DirReader).ReadDir(0, 10)
	require.NoError(t, err)
	assert.Empty(t, ents)

	require.NoError(t, dm.Unlink("file"))
	require.NoError(t, root.Rmdir("d"))
	require.NoError(t, root.Rmdir("sticky"))
	assert.Equal(t, uint64(2), stat(t, f.Root()).Nlink)
	di.Release()
	assert.Equal(t, [2]int64{0, 1}, usage(f))
}

func TestUnlinkedWhileOpen(t *testing.T) {
	f, root := setup(t, 1<<20)
	n := create(t, root, "f", "still here")
	h := open(t, n, unix.O_RDWR)
	require.NoError(t, root.Unlink("f"))
	_, err := f.Root().Lookup("f")
	assert.Equal(t, unix.ENOENT, err)
	assert.Equal(t, uint64(0), stat(t, n).Nlink)
	assert.Equal(t, "still here", readAll(t, h))
	_, err = h.Write([]byte(" and more"))
	require.NoError(t, err)
	buf := make([]byte, 100)
	k, err := h.Pread(buf, 0)
	require.NoError(t, err)
	assert.Equal(t, "still here and more", string(buf[:k]))
	assert.Equal(t, [2]int64{4096, 2}, usage(f), "still counted")
	// The unlinked file cannot be linked back nor reopened once closed.
	assert.Equal(t, unix.ENOENT, root.Link(n, "back"))
	h.Release()
	h.Release() // twice is harmless
	assert.Equal(t, [2]int64{0, 1}, usage(f), "given back with the last open file")
	_, err = n.Open(unix.O_RDONLY)
	assert.Equal(t, unix.ENOENT, err)

	// Released Impls refuse everything.
	n2 := create(t, root, "g", "x")
	h2, err := n2.Open(unix.O_RDWR)
	require.NoError(t, err)
	h2.Release()
	_, err = h2.Read(buf)
	assert.Equal(t, unix.EBADF, err)
	_, err = h2.Write(buf)
	assert.Equal(t, unix.EBADF, err)
	_, err = h2.Seek(0, unix.SEEK_SET)
	assert.Equal(t, unix.EBADF, err)
	_, err = h2.Stat()
	assert.Equal(t, unix.EBADF, err)
	assert.Equal(t, unix.EBADF, h2.(rfs.FileOps).Truncate(0))
	assert.Equal(t, unix.EBADF, h2.(rfs.FileOps).Sync(false))
	dh, err := f.Root().Open(unix.O_RDONLY)
	require.NoError(t, err)
	dh.Release()
	_, err = dh.(rfs.DirReader).ReadDir(0, 1)
	assert.Equal(t, unix.EBADF, err)
}

func TestLink(t *testing.T) {
	f, root := setup(t, 1<<20)
	a := create(t, root, "a", "shared")
	require.NoError(t, root.Mkdir("d", 0o755))
	d := lookup(t, f.Root(), "d")
	require.NoError(t, mut(t, d).Link(a, "b"))
	b := lookup(t, d, "b")
	assert.Same(t, a, b)
	assert.Equal(t, uint64(2), stat(t, a).Nlink)
	assert.Equal(t, stat(t, a).Ino, stat(t, b).Ino)
	h := open(t, b, unix.O_WRONLY|unix.O_APPEND)
	_, err := h.Write([]byte("!"))
	require.NoError(t, err)
	assert.Equal(t, "shared!", content(t, a))

	assert.Equal(t, unix.EPERM, root.Link(d, "dlink"))
	assert.Equal(t, unix.EEXIST, root.Link(a, "d"))
	assert.Equal(t, unix.EXDEV, root.Link(New(1).Root(), "x"))
	assert.Equal(t, unix.EXDEV, root.Link(nil, "x"))
	assert.Equal(t, unix.EINVAL, root.Link(a, ""))
	assert.Equal(t, unix.ENOTDIR, mut(t, a).Link(a, "x"))

	// A symlink can be hard linked (the link itself).
	require.NoError(t, root.Symlink("a", "sl"))
	sl := lookup(t, f.Root(), "sl")
	require.NoError(t, root.Link(sl, "sl2"))
	target, err := lookup(t, f.Root(), "sl2").Readlink()
	require.NoError(t, err)
	assert.Equal(t, "a", target)

	require.NoError(t, root.Unlink("a"))
	assert.Equal(t, uint64(1), stat(t, b).Nlink)
	assert.Equal(t, "shared!", content(t, b))
	require.NoError(t, mut(t, d).Unlink("b"))
	assert.Equal(t, uint64(0), stat(t, b).Nlink)
}

func TestSymlink(t *testing.T) {
	f, root := setup(t, 1<<20)
	require.NoError(t, root.Symlink("../some/where", "l"))
	l := lookup(t, f.Root(), "l")
	target, err := l.Readlink()
	require.NoError(t, err)
	assert.Equal(t, "../some/where", target)
	st := stat(t, l)
	assert.Equal(t, uint32(unix.S_IFLNK|0o777), st.Mode)
	assert.Equal(t, int64(len(target)), st.Size)
	assert.Equal(t, uint64(1), st.Nlink)
	_, err = l.Lookup("x")
	assert.Equal(t, unix.ENOTDIR, err)
	_, err = l.Open(unix.O_RDONLY)
	assert.Equal(t, unix.ELOOP, err)
	assert.Equal(t, unix.EOPNOTSUPP, mut(t, l).Chmod(0o600))
	assert.Equal(t, unix.EINVAL, mut(t, l).Truncate(0))

	assert.Equal(t, unix.EEXIST, root.Symlink("x", "l"))
	assert.Equal(t, unix.ENOENT, root.Symlink("", "e"))
	assert.Equal(t, unix.EINVAL, root.Symlink("a\x00b", "e"))
	assert.Equal(t, unix.ENAMETOOLONG, root.Symlink(strings.Repeat("a", rfs.PathMax), "e"))
	require.NoError(t, root.Symlink(strings.Repeat("a", rfs.PathMax-1), "e"))
	assert.Equal(t, unix.EINVAL, root.Symlink("x", "a/b"))

	// The target is any text, kept as it is.
	require.NoError(t, root.Symlink("/proc/self/fd/1", "abs"))
	target, err = lookup(t, f.Root(), "abs").Readlink()
	require.NoError(t, err)
	assert.Equal(t, "/proc/self/fd/1", target)

	require.NoError(t, root.Unlink("l"))
	_, err = f.Root().Lookup("l")
	assert.Equal(t, unix.ENOENT, err)
}

func TestChmodTruncateUtimens(t *testing.T) {
	f, root := setup(t, 1<<20)
	n := create(t, root, "f", "0123456789")
	m := mut(t, n)
	require.NoError(t, m.Utimens(ts(100), ts(200)))
	st := stat(t, n)
	assert.Equal(t, ts(100), st.Atim)
	assert.Equal(t, ts(200), st.Mtim)
	ctime := st.Ctim

	// Chmod keeps the type bits and sets ctime.
	time.Sleep(2 * time.Millisecond)
	require.NoError(t, m.Chmod(unix.S_IFDIR|0o4711))
	st = stat(t, n)
	assert.Equal(t, uint32(unix.S_IFREG|0o4711), st.Mode)
	assert.True(t, after(st.Ctim, ctime))
	assert.Equal(t, ts(200), st.Mtim)
	require.NoError(t, root.Mkdir("d", 0o755))
	d := lookup(t, f.Root(), "d")
	require.NoError(t, mut(t, d).Chmod(0o1700))
	assert.Equal(t, uint32(unix.S_IFDIR|0o1700), stat(t, d).Mode)
	require.NoError(t, mut(t, f.Root()).Chmod(0o755))
	assert.Equal(t, uint32(unix.S_IFDIR|0o755), stat(t, f.Root()).Mode)

	// Truncate.
	require.NoError(t, m.Truncate(4))
	st = stat(t, n)
	assert.Equal(t, int64(4), st.Size)
	assert.True(t, after(st.Mtim, ts(200)))
	assert.Equal(t, "0123", content(t, n))
	require.NoError(t, m.Truncate(6))
	assert.Equal(t, "0123\x00\x00", content(t, n))
	assert.Equal(t, unix.EISDIR, mut(t, d).Truncate(0))
	// Truncate to the same size does not change the times.
	require.NoError(t, m.Utimens(ts(300), ts(300)))
	require.NoError(t, m.Truncate(6))
	assert.Equal(t, ts(300), stat(t, n).Mtim)

	// Utimens: UTIME_NOW, UTIME_OMIT, errors.
	before := now()
	require.NoError(t, m.Utimens(unix.Timespec{Nsec: unix.UTIME_NOW}, omit))
	st = stat(t, n)
	assert.False(t, after(before, st.Atim))
	assert.Equal(t, ts(300), st.Mtim)
	require.NoError(t, m.Utimens(omit, unix.Timespec{Sec: 5, Nsec: 6}))
	st = stat(t, n)
	assert.Equal(t, unix.Timespec{Sec: 5, Nsec: 6}, st.Mtim)
	assert.False(t, after(before, st.Atim))
	require.NoError(t, m.Utimens(ts(1), ts(1)))
	ctime = stat(t, n).Ctim
	time.Sleep(2 * time.Millisecond)
	require.NoError(t, m.Utimens(omit, omit))
	assert.Equal(t, ctime, stat(t, n).Ctim, "both omitted: nothing changes")
	assert.Equal(t, unix.EINVAL, m.Utimens(unix.Timespec{Nsec: 1e9}, omit))
	assert.Equal(t, unix.EINVAL, m.Utimens(omit, unix.Timespec{Nsec: -5}))
	assert.Equal(t, ts(1), stat(t, n).Mtim)
	// A symlink's own times.
	require.NoError(t, root.Symlink("f", "l"))
	l := lookup(t, f.Root(), "l")
	require.NoError(t, mut(t, l).Utimens(ts(42), ts(43)))
	assert.Equal(t, ts(43), stat(t, l).Mtim)
	assert.Equal(t, ts(1), stat(t, n).Mtim)

	// Through FileOps.
	h := open(t, n, unix.O_RDWR)
	ops := h.(rfs.FileOps)
	require.NoError(t, ops.Chmod(0o600))
	assert.Equal(t, uint32(unix.S_IFREG|0o600), stat(t, n).Mode)
	require.NoError(t, ops.Utimens(ts(7), ts(8)))
	assert.Equal(t, ts(8), stat(t, n).Mtim)
	require.NoError(t, ops.Truncate(2))
	assert.Equal(t, "01", content(t, n))
	require.NoError(t, ops.Sync(false))
	require.NoError(t, ops.Sync(true))
	r := open(t, n, unix.O_RDONLY)
	assert.Equal(t, unix.EINVAL, r.(rfs.FileOps).Truncate(0), "ftruncate needs a writable file")
}

func after(a, b unix.Timespec) bool { return a.Nano() > b.Nano() }

func TestTimes(t *testing.T) {
	f, root := setup(t, 1<<20)
	old := ts(1000)
	n := create(t, root, "f", "abc")
	require.NoError(t, mut(t, n).Utimens(old, old))
	require.NoError(t, mut(t, f.Root()).Utimens(old, old))
	setCtime := func(nodes ...rfs.Node) {
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, n := range nodes {
			n.(*inode).ctime = old
		}
	}
	setCtime(n, f.Root())

	// A read sets atime only.
	content(t, n)
	st := stat(t, n)
	assert.True(t, after(st.Atim, old))
	assert.Equal(t, old, st.Mtim)
	assert.Equal(t, old, st.Ctim)

	// A write sets mtime and ctime.
	require.NoError(t, mut(t, n).Utimens(old, old))
	setCtime(n)
	h := open(t, n, unix.O_WRONLY)
	_, err := h.Write([]byte("x"))
	require.NoError(t, err)
	st = stat(t, n)
	assert.Equal(t, old, st.Atim)
	assert.True(t, after(st.Mtim, old))
	assert.True(t, after(st.Ctim, old))

	// Creating in a directory sets its mtime and ctime; the new node has
	// the current time.
	create(t, root, "g", "")
	st = stat(t, f.Root())
	assert.True(t, after(st.Mtim, old))
	assert.True(t, after(st.Ctim, old))
	g := lookup(t, f.Root(), "g")
	assert.True(t, after(stat(t, g).Mtim, old))

	// Rename sets both directories' times and the node's ctime.
	require.NoError(t, root.Mkdir("d", 0o755))
	d := lookup(t, f.Root(), "d")
	require.NoError(t, mut(t, f.Root()).Utimens(old, old))
	require.NoError(t, mut(t, d).Utimens(old, old))
	require.NoError(t, mut(t, g).Utimens(old, old))
	setCtime(f.Root(), d, g)
	require.NoError(t, root.Rename("g", d, "g2", 0))
	assert.True(t, after(stat(t, f.Root()).Mtim, old))
	assert.True(t, after(stat(t, d).Mtim, old))
	assert.True(t, after(stat(t, g).Ctim, old))
	assert.Equal(t, old, stat(t, g).Mtim)

	// Unlink sets the directory's times and the node's ctime (still
	// linked elsewhere).
	require.NoError(t, root.Link(n, "nlink"))
	require.NoError(t, mut(t, f.Root()).Utimens(old, old))
	setCtime(n, f.Root())
	require.NoError(t, root.Unlink("nlink"))
	assert.True(t, after(stat(t, f.Root()).Mtim, old))
	assert.True(t, after(stat(t, n).Ctim, old))

	// Listing a directory and reading a link set atime.
	require.NoError(t, mut(t, d).Utimens(old, old))
	names(t, d)
	assert.True(t, after(stat(t, d).Atim, old))
	require.NoError(t, root.Symlink("x", "l"))
	l := lookup(t, f.Root(), "l")
	require.NoError(t, mut(t, l).Utimens(old, old))
	_, err = l.Readlink()
	require.NoError(t, err)
	assert.True(t, after(stat(t, l).Atim, old))
}

func TestOwner(t *testing.T) {
	f, root := setup(t, 1<<20)
	create(t, root, "before", "")
	f.SetOwner(1000, 100)
	st := stat(t, f.Root())
	assert.Equal(t, uint32(1000), st.Uid)
	assert.Equal(t, uint32(100), st.Gid)
	assert.Equal(t, uint32(0), stat(t, lookup(t, f.Root(), "before")).Uid, "existing nodes keep theirs")
	a := create(t, root, "a", "")
	require.NoError(t, root.Mkdir("d", 0o755))
	require.NoError(t, root.Symlink("a", "l"))
	for _, name := range []string{"a", "d", "l"} {
		st := stat(t, lookup(t, f.Root(), name))
		assert.Equal(t, uint32(1000), st.Uid, name)
		assert.Equal(t, uint32(100), st.Gid, name)
	}
	_ = a

	// A set-group-ID directory gives its group, and the bit to
	// subdirectories.
	f.SetOwner(0, 0)
	require.NoError(t, root.Mkdir("sg", 0o2775))
	sg := lookup(t, f.Root(), "sg")
	assert.Equal(t, uint32(unix.S_IFDIR|0o775), stat(t, sg).Mode, "mkdir drops set-group-ID")
	require.NoError(t, mut(t, sg).Chmod(0o2775))
	f.mu.Lock()
	sg.(*inode).gid = 50
	f.mu.Unlock()
	f.SetOwner(7, 8)
	sgm := mut(t, sg)
	create(t, sgm, "file", "")
	require.NoError(t, sgm.Mkdir("sub", 0o755))
	st = stat(t, lookup(t, sg, "file"))
	assert.Equal(t, uint32(7), st.Uid)
	assert.Equal(t, uint32(50), st.Gid)
	assert.Equal(t, uint32(unix.S_IFREG|0o644), st.Mode)
	st = stat(t, lookup(t, sg, "sub"))
	assert.Equal(t, uint32(50), st.Gid)
	assert.Equal(t, uint32(unix.S_IFDIR|unix.S_ISGID|0o755), st.Mode)
}

func TestReadDir(t *testing.T) {
	f, root := setup(t, 1<<20)
	for _, name := range []string{"c", "a", "b"} {
		create(t, root, name, "")
	}
	require.NoError(t, root.Mkdir("dir", 0o755))
	require.NoError(t, root.Symlink("a", "link"))
	assert.Equal(t, []string{"c", "a", "b", "dir", "link"}, names(t, f.Root()), "creation order")

	h := open(t, f.Root(), unix.O_RDONLY|unix.O_DIRECTORY)
	dr := h.(rfs.DirReader)
	ents, err := dr.ReadDir(0, 100)
	require.NoError(t, err)
	require.Len(t, ents, 5)
	types := map[string]uint8{}
	for _, e := range ents {
		types[e.Name] = e.Type
		assert.Equal(t, stat(t, lookup(t, f.Root(), e.Name)).Ino, e.Ino, e.Name)
	}
	assert.Equal(t, map[string]uint8{"a": unix.DT_REG, "b": unix.DT_REG, "c": unix.DT_REG, "dir": unix.DT_DIR, "link": unix.DT_LNK}, types)

	// Offsets and counts.
	ents, err = dr.ReadDir(3, 1)
	require.NoError(t, err)
	require.Len(t, ents, 1)
	assert.Equal(t, "dir", ents[0].Name)
	ents, err = dr.ReadDir(5, 10)
	require.NoError(t, err)
	assert.Empty(t, ents)
	ents, err = dr.ReadDir(50, 10)
	require.NoError(t, err)
	assert.Empty(t, ents)
	ents, err = dr.ReadDir(0, 0)
	require.NoError(t, err)
	assert.Empty(t, ents)
	_, err = dr.ReadDir(-1, 1)
	assert.Equal(t, unix.EINVAL, err)
	_, err = dr.ReadDir(0, -1)
	assert.Equal(t, unix.EINVAL, err)

	// Entries removed and added while listing: nothing is skipped nor
	// repeated; removed ones are not returned; new ones come at the end.
	ents, err = dr.ReadDir(0, 2)
	require.NoError(t, err)
	assert.Equal(t, "c", ents[0].Name)
	assert.Equal(t, "a", ents[1].Name)
	require.NoError(t, root.Unlink("c"))
	require.NoError(t, root.Unlink("a"))
	require.NoError(t, root.Unlink("b"))
	create(t, root, "new", "")
	var rest []string
	for off := 2; ; {
		ents, err := dr.ReadDir(off, 1)
		require.NoError(t, err)
		if len(ents) == 0 {
			break
		}
		rest = append(rest, ents[0].Name)
		off++
	}
	assert.Equal(t, []string{"dir", "link", "new"}, rest)
	// From 0 again: what is there now.
	assert.Equal(t, []string{"dir", "link", "new"}, names(t, f.Root()))

	// A renamed entry moves to the end.
	require.NoError(t, root.Rename("dir", f.Root(), "dir2", 0))
	assert.Equal(t, []string{"link", "new", "dir2"}, names(t, f.Root()))
}

// TestReadDirRemoveAll removes a big directory while listing it, as rm -r
// does: every entry is seen once.
func TestReadDirRemoveAll(t *testing.T) {
	f, root := setup(t, 1<<20)
	const count = 1000
	for i := range count {
		if i%3 == 0 {
			require.NoError(t, root.Mkdir(name(i), 0o755))
		} else {
			create(t, root, name(i), "")
		}
	}
	h := open(t, f.Root(), unix.O_RDONLY)
	dr := h.(rfs.DirReader)
	seen := map[string]int{}
	off := 0
	for {
		ents, err := dr.ReadDir(off, 64)
		require.NoError(t, err)
		if len(ents) == 0 {
			break
		}
		for _, e := range ents {
			seen[e.Name]++
			if e.Type == unix.DT_DIR {
				require.NoError(t, root.Rmdir(e.Name))
			} else {
				require.NoError(t, root.Unlink(e.Name))
			}
		}
		off += len(ents)
	}
	assert.Len(t, seen, count)
	for n, c := range seen {
		assert.Equal(t, 1, c, n)
	}
	assert.Empty(t, names(t, f.Root()))
	assert.Equal(t, uint64(2), stat(t, f.Root()).Nlink)
	assert.Equal(t, int64(40), stat(t, f.Root()).Size)
	h.Release()
	assert.Equal(t, [2]int64{0, 1}, usage(f))

	// Removing every other entry of a listing read at offsets that do not
	// continue the previous read counts from the first entry present.
	for i := range 10 {
		create(t, root, name(i), "")
	}
	h2 := open(t, f.Root(), unix.O_RDONLY)
	dr = h2.(rfs.DirReader)
	for i := 0; i < 10; i += 2 {
		require.NoError(t, root.Unlink(name(i)))
	}
	ents, err := dr.ReadDir(1, 2)
	require.NoError(t, err)
	assert.Equal(t, []string{name(3), name(5)}, []string{ents[0].Name, ents[1].Name})
}

func name(i int) string { return "entry" + string(rune('A'+i%26)) + itoa(i) }

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}
