package hostfs

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	rfs "ringbox/fs"
)

// TestSharedMapping maps a file of a read-write tree shared, through two
// open files: both get the same pages; writes through the pages are seen
// by reads of a third open file, and writes through it by the pages; a
// read-only opener's pages are never written back; msync (Flush) and the
// last release put the pages' bytes in the host file, and give the pages
// back.
func TestSharedMapping(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	data := make([]byte, 2*pageSize+10)
	for i := range data {
		data[i] = 'a' + byte(i%26)
	}
	require.NoError(t, os.WriteFile(path, data, 0o644))
	f, err := New(dir, false)
	require.NoError(t, err)
	defer f.Close()
	src := &testPages{}
	f.SetPageSource(src, 64<<20)
	n, err := f.Root().Lookup("f")
	require.NoError(t, err)
	open := func(flags int) rfs.Impl {
		impl, err := n.Open(flags)
		require.NoError(t, err)
		return impl
	}
	a, b, c := open(unix.O_RDWR), open(unix.O_RDONLY), open(unix.O_RDWR)
	pa, err := a.(rfs.SharedMapper).MapShared()
	require.NoError(t, err)
	pb, err := b.(rfs.SharedMapper).MapShared()
	require.NoError(t, err)
	_, writable := pb.(rfs.Flusher)
	require.True(t, writable, "a read-only opener's pager still flushes (msync)")

	p0, err := pa.PageAddr(0)
	require.NoError(t, err)
	q0, err := pb.PageAddr(0)
	require.NoError(t, err)
	require.Equal(t, p0, q0, "one page for both mappings")
	require.Equal(t, data[:pageSize], page(p0))
	last, err := pa.PageAddr(2)
	require.NoError(t, err)
	require.Equal(t, data[2*pageSize:], page(last)[:10])
	require.Equal(t, make([]byte, pageSize-10), page(last)[10:], "zero past the end")
	_, err = pa.PageAddr(3)
	require.Equal(t, unix.ENXIO, err, "past the end of the file")

	// The mapping writes; c reads. c writes; the mapping sees it.
	copy(page(p0)[100:], "mapped")
	buf := make([]byte, 6)
	_, err = c.Pread(buf, 100)
	require.NoError(t, err)
	require.Equal(t, "mapped", string(buf))
	_, err = c.Pwrite([]byte("direct"), 200)
	require.NoError(t, err)
	require.Equal(t, "direct", string(page(p0)[200:206]))
	_, err = c.Seek(pageSize+5, 0)
	require.NoError(t, err)
	_, err = c.Write([]byte("wr"))
	require.NoError(t, err)
	_, err = c.Seek(0, 0)
	require.NoError(t, err)
	_, err = c.Read(buf)
	require.NoError(t, err)
	require.Equal(t, data[:6], buf)

	// Not in the host file until a flush.
	host, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, data[100:106], host[100:106])
	require.NoError(t, pa.(rfs.Flusher).Flush())
	host, err = os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, "mapped", string(host[100:106]))
	require.Equal(t, "direct", string(host[200:206]))
	require.Len(t, host, len(data), "a flush does not grow the file")

	// The last release writes back and frees the pages.
	copy(page(p0)[300:], "at the end")
	a.Release()
	require.NotZero(t, src.count(), "b still maps the pages")
	b.Release()
	require.Zero(t, src.count())
	c.Release()
	host, err = os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, "at the end", string(host[300:310]))
	require.Zero(t, f.nShared.Load())
}

// TestSharedMappingSparse: a page far into a huge sparse file costs one
// page, not a table up to it (a hostile program must not make the Go
// kernel allocate gigabytes).
func TestSharedMappingSparse(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sparse")
	require.NoError(t, os.WriteFile(path, nil, 0o644))
	require.NoError(t, os.Truncate(path, 1<<40))
	f, err := New(dir, false)
	require.NoError(t, err)
	defer f.Close()
	src := &testPages{}
	f.SetPageSource(src, 64<<20)
	n, err := f.Root().Lookup("sparse")
	require.NoError(t, err)
	impl, err := n.Open(unix.O_RDWR)
	require.NoError(t, err)
	pg, err := impl.(rfs.SharedMapper).MapShared()
	require.NoError(t, err)
	idx := int64(1<<40)/pageSize - 1
	pa, err := pg.PageAddr(idx)
	require.NoError(t, err)
	copy(page(pa), "far")
	require.Equal(t, 1, src.count())
	_, err = pg.PageAddr(idx + 1)
	require.Equal(t, unix.ENXIO, err)
	impl.Release()
	b := make([]byte, 3)
	fd, err := os.Open(path)
	require.NoError(t, err)
	defer fd.Close()
	_, err = fd.ReadAt(b, idx*pageSize)
	require.NoError(t, err)
	require.Equal(t, "far", string(b))
}
