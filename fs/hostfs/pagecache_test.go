package hostfs

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	rfs "ringbox/fs"
)

// testPages is a PageSource of anonymous host pages.
type testPages struct {
	mu   sync.Mutex
	live map[uintptr][]byte
}

func (p *testPages) Alloc() (uintptr, error) {
	b, err := unix.Mmap(-1, 0, pageSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return 0, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.live == nil {
		p.live = map[uintptr][]byte{}
	}
	a := uintptr(unsafe.Pointer(&b[0]))
	p.live[a] = b
	return a, nil
}

func (p *testPages) Free(a uintptr) {
	p.mu.Lock()
	defer p.mu.Unlock()
	b, ok := p.live[a]
	if !ok {
		panic("free of a page not allocated")
	}
	delete(p.live, a)
	unix.Munmap(b)
}

func (p *testPages) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.live)
}

func page(a uintptr) []byte { return unsafe.Slice((*byte)(unsafe.Add(nil, a)), pageSize) }

// TestPageCache maps a big file (a host file) and a small one (kept in
// memory) of a cached tree page by page: the pages hold the file's bytes
// (zero past its end), repeated calls give the same page, ENXIO past the
// end; a tree without a page source or not cached gives ENODEV.
func TestPageCache(t *testing.T) {
	dir := t.TempDir()
	big := make([]byte, 1<<20+12345) // over maxCachedFile: a host file
	for i := range big {
		big[i] = byte(i * 7)
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "big"), big, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "small"), []byte("small file"), 0o644))

	f, err := New(dir, true)
	require.NoError(t, err)
	defer f.Close()
	f.Cache()
	src := &testPages{}
	f.SetPageSource(src, 64<<20)

	for _, name := range []string{"big", "small"} {
		want := big
		if name == "small" {
			want = []byte("small file")
		}
		n, err := f.Root().Lookup(name)
		require.NoError(t, err)
		impl, err := n.Open(unix.O_RDONLY)
		require.NoError(t, err)
		pg, ok := impl.(rfs.Pager)
		require.True(t, ok, "%s: %T is no Pager", name, impl)
		pages := (len(want) + pageSize - 1) / pageSize
		for i := 0; i < pages; i++ {
			a, err := pg.PageAddr(int64(i))
			require.NoError(t, err)
			got := page(a)
			end := min(len(want), (i+1)*pageSize)
			require.Equal(t, want[i*pageSize:end], got[:end-i*pageSize], "%s page %d", name, i)
			for _, b := range got[end-i*pageSize:] {
				require.Zero(t, b, "%s page %d past the end", name, i)
			}
			again, err := pg.PageAddr(int64(i))
			require.NoError(t, err)
			require.Equal(t, a, again)
		}
		_, err = pg.PageAddr(int64(pages))
		require.Equal(t, unix.ENXIO, err)
		_, err = pg.PageAddr(-1)
		require.Equal(t, unix.ENXIO, err)
		impl.Release()
	}
	require.Equal(t, int64(src.count())*pageSize, f.PageCacheBytes())

	// Not cached (read-write): no page cache.
	rw, err := New(dir, false)
	require.NoError(t, err)
	defer rw.Close()
	rw.SetPageSource(src, 64<<20)
	n, err := rw.Root().Lookup("big")
	require.NoError(t, err)
	impl, err := n.Open(unix.O_RDONLY)
	require.NoError(t, err)
	defer impl.Release()
	if pg, ok := impl.(rfs.Pager); ok {
		_, err := pg.PageAddr(0)
		require.Equal(t, unix.ENODEV, err)
	}
}

// TestPageCacheBudget: past the budget, the file used longest ago loses its
// pages; the cache never holds more than the budget.
func TestPageCacheBudget(t *testing.T) {
	dir := t.TempDir()
	data := make([]byte, 40*pageSize)
	for i := 0; i < 4; i++ {
		for j := range data {
			data[j] = byte(i + 1)
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, string(rune('a'+i))), data, 0o644))
	}
	f, err := New(dir, true)
	require.NoError(t, err)
	defer f.Close()
	f.Cache()
	src := &testPages{}
	f.SetPageSource(src, 100*pageSize) // room for two files and a half
	var impls []rfs.Impl
	for i := 0; i < 4; i++ {
		n, err := f.Root().Lookup(string(rune('a' + i)))
		require.NoError(t, err)
		impl, err := n.Open(unix.O_RDONLY)
		require.NoError(t, err)
		impls = append(impls, impl)
		for p := 0; p < 40; p++ {
			a, err := impl.(rfs.Pager).PageAddr(int64(p))
			require.NoError(t, err)
			require.Equal(t, byte(i+1), page(a)[0])
		}
		require.LessOrEqual(t, f.PageCacheBytes(), int64(100*pageSize))
		require.Equal(t, int64(src.count())*pageSize, f.PageCacheBytes())
	}
	// The first file was evicted: its pages come back from the host.
	a, err := impls[0].(rfs.Pager).PageAddr(0)
	require.NoError(t, err)
	require.Equal(t, byte(1), page(a)[0])
	for _, impl := range impls {
		impl.Release()
	}
}

// TestPageCacheWindow: each fill of a file reads a bigger window (up to
// fillPages<<maxFillShift pages), only the holes around the faulting
// page, never a page already cached, and the pages hold the file's bytes.
func TestPageCacheWindow(t *testing.T) {
	f, err := New(t.TempDir(), true)
	require.NoError(t, err)
	defer f.Close()
	f.Cache()
	src := &testPages{}
	f.SetPageSource(src, 64<<20)
	const pages = 2048
	pc := &pageCache{fs: f, size: pages * pageSize, pages: make([]uintptr, pages)}
	var reads []int // pages per fill
	fill := func(iov []unix.Iovec, off int64) error {
		reads = append(reads, len(iov))
		for i := range iov {
			idx := off/pageSize + int64(i)
			require.Zero(t, pc.pages[idx], "page %d read again", idx)
			b := unsafe.Slice(iov[i].Base, iov[i].Len)
			b[0], b[1] = byte(idx), byte(idx>>8)
		}
		return nil
	}
	for _, idx := range []int64{40, 300, 33, 100, 700, 1500, 1100, 0} {
		a, err := pc.page(idx, fill)
		require.NoError(t, err)
		require.Equal(t, []byte{byte(idx), byte(idx >> 8)}, page(a)[:2], "page %d", idx)
	}
	// 32 around 40; 64 around 300; 33 is cached; 100's window (128 pages
	// from 0) less 32-63; then 256-page windows; 0's window less what is
	// cached from 32 on.
	require.Equal(t, []int{32, 64, 64, 256, 256, 256, 32}, reads)
}

// TestSmallFileInPageCache: a small file of a cached tree (a page or
// more) is read whole into the page cache when opened, not copied into
// the node: reads and mappings see the same single copy, a second open
// reads nothing from the host, and a file whose pages were evicted is
// read again from the host.
func TestSmallFileInPageCache(t *testing.T) {
	dir := t.TempDir()
	want := make([]byte, 3*pageSize+100)
	for i := range want {
		want[i] = byte(i * 13)
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "lib"), want, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "other"), make([]byte, 8*pageSize), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "tiny"), []byte("tiny"), 0o644))
	f, err := New(dir, true)
	require.NoError(t, err)
	defer f.Close()
	f.Cache()
	src := &testPages{}
	f.SetPageSource(src, 8*pageSize)

	n, err := f.Root().Lookup("lib")
	require.NoError(t, err)
	impl, err := n.Open(unix.O_RDONLY)
	require.NoError(t, err)
	require.Equal(t, 4, src.count(), "read whole into the page cache")
	_, kept := n.(*node).cachedContent()
	require.False(t, kept, "no second copy kept with the node")
	got := make([]byte, len(want)+10)
	k, err := impl.Pread(got, 0)
	require.NoError(t, err)
	require.Equal(t, want, got[:k])
	k, err = impl.Pread(got[:10], int64(pageSize-5))
	require.NoError(t, err)
	require.Equal(t, want[pageSize-5:pageSize+5], got[:k], "a read across pages")
	k, err = impl.Pread(got, int64(len(want)))
	require.NoError(t, err)
	require.Zero(t, k, "at the end")
	a, err := impl.(rfs.Pager).PageAddr(1)
	require.NoError(t, err)
	require.Equal(t, want[pageSize:2*pageSize], page(a))
	require.Equal(t, 4, src.count(), "the mapping uses the same pages")
	impl.Release()

	// Opened again: from the cache, without the host (the file is not
	// where it was meanwhile).
	require.NoError(t, os.Rename(filepath.Join(dir, "lib"), filepath.Join(dir, "away")))
	impl, err = n.Open(unix.O_RDONLY)
	require.NoError(t, err)
	require.IsType(t, &memFile{}, impl)
	require.NotNil(t, impl.(*memFile).pc)
	require.NoError(t, os.Rename(filepath.Join(dir, "away"), filepath.Join(dir, "lib")))

	// Another file takes the whole budget: lib's pages go, and a read
	// brings them back from the host.
	o, err := f.Root().Lookup("other")
	require.NoError(t, err)
	oi, err := o.Open(unix.O_RDONLY)
	require.NoError(t, err)
	defer oi.Release()
	require.LessOrEqual(t, f.PageCacheBytes(), int64(8*pageSize))
	k, err = impl.Pread(got, 0)
	require.NoError(t, err)
	require.Equal(t, want, got[:k])
	impl.Release()

	// Under a page: kept with the node, no page taken until mapped.
	before := src.count()
	tn, err := f.Root().Lookup("tiny")
	require.NoError(t, err)
	ti, err := tn.Open(unix.O_RDONLY)
	require.NoError(t, err)
	defer ti.Release()
	require.Equal(t, before, src.count())
	k, err = ti.Pread(got, 0)
	require.NoError(t, err)
	require.Equal(t, "tiny", string(got[:k]))
}

// TestPageCacheBusyVictim: a cache busy (read under its lock) when room is
// needed is passed over, not dropped from the eviction order: once free
// again, it can still be evicted.
func TestPageCacheBusyVictim(t *testing.T) {
	dir := t.TempDir()
	sizes := map[string]int{"a": 4, "b": 4, "c": 4, "e": 8}
	for name, pages := range sizes {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), make([]byte, pages*pageSize), 0o644))
	}
	f, err := New(dir, true)
	require.NoError(t, err)
	defer f.Close()
	f.Cache()
	src := &testPages{}
	f.SetPageSource(src, 8*pageSize)
	open := func(name string) *memFile {
		n, err := f.Root().Lookup(name)
		require.NoError(t, err)
		impl, err := n.Open(unix.O_RDONLY)
		require.NoError(t, err)
		t.Cleanup(impl.Release)
		return impl.(*memFile)
	}
	a := open("a")
	open("b")
	a.pc.mu.Lock() // a read of a in progress
	c := open("c")
	require.NotNil(t, c.pc, "b made room")
	a.pc.mu.Unlock()
	e := open("e")
	require.NotNil(t, e.pc, "a and c made room: a was not lost to eviction while busy")
	require.LessOrEqual(t, f.PageCacheBytes(), int64(8*pageSize))
}
