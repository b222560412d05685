package mm

import (
	"bytes"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"ringbox/guestkernel/memfile"
)

// read returns n bytes of user memory at addr.
func read(tb testing.TB, m *MM, addr uintptr, n int) []byte {
	tb.Helper()
	b := make([]byte, n)
	_, err := m.CopyIn(addr, b)
	require.NoError(tb, err)
	return b
}

func write(tb testing.TB, m *MM, addr uintptr, s string) {
	tb.Helper()
	_, err := m.CopyOut(addr, []byte(s))
	require.NoError(tb, err)
}

func TestForkPrivateCopyOnWrite(t *testing.T) {
	m, as, mem := newTestMM(t)
	mmapAnon(t, m, base, pages(4), rw, true)
	write(t, m, base, "before")
	write(t, m, base+pages(1), "second")
	pa := backing(m, base)
	inv := as.invalidations

	c, _ := forkTest(t, m)
	assert.Greater(t, as.invalidations, inv, "the parent's write-protected entries are invalidated")
	assert.Equal(t, pa, backing(c, base), "the child maps the same page")
	assert.Equal(t, 2, mem.Refs(pa))
	for _, x := range []*MM{m, c} {
		got, o, ok := lookupPT(x, base)
		require.True(t, ok)
		assert.Equal(t, pa, got)
		assert.False(t, o.Write, "shared copy-on-write pages are read-only")
	}
	assert.Equal(t, "before", string(read(t, c, base, 6)))
	assert.Equal(t, []vmaSpan{{base, base + pages(4), rw}}, spans(c))
	mustCheckGroup(t, m, c)

	// The parent's write copies the page; the child keeps the old one.
	before := used(mem)
	write(t, m, base, "parent")
	assert.NotEqual(t, pa, backing(m, base))
	assert.Equal(t, before+pageSize, used(mem), "one page copied")
	assert.Equal(t, "parent", string(read(t, m, base, 6)))
	assert.Equal(t, "before", string(read(t, c, base, 6)))
	assert.Equal(t, 1, mem.Refs(pa))
	_, o, _ := lookupPT(m, base)
	assert.True(t, o.Write, "the copy is writable")
	mustCheckGroup(t, m, c)

	// The child is now the page's only owner: its write takes the page
	// over without a copy.
	write(t, c, base, "child!")
	assert.Equal(t, pa, backing(c, base), "no copy for the last owner")
	assert.Equal(t, before+pageSize, used(mem))
	assert.Equal(t, "parent", string(read(t, m, base, 6)))
	assert.Equal(t, "child!", string(read(t, c, base, 6)))
	// The untouched second page is still shared.
	assert.Equal(t, backing(m, base+pages(1)), backing(c, base+pages(1)))
	mustCheckGroup(t, m, c)
}

func TestForkWriteFaultCopies(t *testing.T) {
	m, as, mem := newTestMM(t)
	mmapAnon(t, m, base, pages(2), rw, true)
	write(t, m, base, "data")
	c, cas := forkTest(t, m)
	pa := backing(m, base)

	for _, x := range []struct {
		m  *MM
		as *fakeAS
	}{{m, as}, {c, cas}} {
		inv := x.as.invalidations
		res, _, err := x.m.HandleFault(base+5, true, false)
		require.NoError(t, err)
		require.Equal(t, FaultHandled, res)
		got, o, ok := lookupPT(x.m, base)
		require.True(t, ok)
		assert.True(t, o.Write)
		assert.Equal(t, backing(x.m, base), got)
		assert.Equal(t, "data", string(read(t, x.m, base, 4)))
		if x.m == m {
			assert.NotEqual(t, pa, got, "the parent copies")
			assert.Greater(t, x.as.invalidations, inv, "a changed target is invalidated")
		} else {
			assert.Equal(t, pa, got, "the last owner keeps the page")
		}
	}
	// A read fault on a copy-on-write page maps it read-only.
	write(t, m, base+pages(1), "x")
	c2, _ := forkTest(t, m)
	res, _, err := c2.HandleFault(base+pages(1), false, false)
	require.NoError(t, err)
	assert.Equal(t, FaultHandled, res)
	_, o, _ := lookupPT(c2, base+pages(1))
	assert.False(t, o.Write)
	assert.Equal(t, 2, mem.Refs(backing(m, base+pages(1))))
	mustCheckGroup(t, m, c, c2)
	c2.Release()
	mustCheckGroup(t, m, c)
}

func TestForkChildReleaseLeavesParentOwner(t *testing.T) {
	m, _, mem := newTestMM(t)
	mmapAnon(t, m, base, pages(3), rw, true)
	write(t, m, base, "abc")
	pa := backing(m, base)
	c, _ := forkTest(t, m)
	write(t, c, base+pages(2), "child only") // a page the parent never had
	c.Release()                              // exit or exec
	assert.Equal(t, 1, mem.Refs(pa))
	mustCheck(t, m)
	before := used(mem)
	write(t, m, base, "xyz")
	assert.Equal(t, pa, backing(m, base), "no copy once the child is gone")
	assert.Equal(t, before, used(mem))
	mustCheck(t, m)
}

func TestForkMunmapInParentKeepsChildPages(t *testing.T) {
	m, _, mem := newTestMM(t)
	mmapAnon(t, m, base, pages(4), rw, true)
	data := fill(int(pages(4)), 3)
	_, err := m.CopyOut(base, data)
	require.NoError(t, err)
	c, _ := forkTest(t, m)
	require.NoError(t, m.Munmap(base, pages(4)))
	assert.Equal(t, data, read(t, c, base, len(data)))
	mustCheckGroup(t, m, c)

	// The child's pages are its own now: writes need no copy.
	before := used(mem)
	write(t, c, base, "mine")
	assert.Equal(t, before, used(mem))
	mustCheckGroup(t, m, c)
}

func TestForkParentMadviseAndMremap(t *testing.T) {
	m, _, _ := newTestMM(t)
	mmapAnon(t, m, base, pages(4), rw, true)
	data := fill(int(pages(4)), 9)
	_, err := m.CopyOut(base, data)
	require.NoError(t, err)
	c, _ := forkTest(t, m)

	// MADV_DONTNEED in the parent: the parent reads zeroes, the child
	// its copy.
	require.NoError(t, m.Madvise(base, pages(1), unix.MADV_DONTNEED))
	assert.Equal(t, make([]byte, 8), read(t, m, base, 8))
	assert.Equal(t, data[:8], read(t, c, base, 8))

	// mremap moves the parent's copy-on-write pages: still shared, still
	// read-only, a write there copies.
	const dst = base + 0x100000
	r, err := m.Mremap(base+pages(1), pages(3), pages(3), mremapMayMove|mremapFixed, dst)
	require.NoError(t, err)
	require.Equal(t, uintptr(dst), r)
	assert.Equal(t, backing(c, base+pages(1)), backing(m, dst))
	_, o, _ := lookupPT(m, dst)
	assert.False(t, o.Write)
	mustCheckGroup(t, m, c)
	write(t, m, dst, "moved")
	assert.Equal(t, data[pages(1):pages(1)+5], read(t, c, base+pages(1), 5))
	assert.Equal(t, "moved", string(read(t, m, dst, 5)))

	// mprotect keeps copy-on-write pages read-only.
	require.NoError(t, m.Mprotect(dst+pages(1), pages(1), ro))
	require.NoError(t, m.Mprotect(dst+pages(1), pages(1), rw))
	_, o, _ = lookupPT(m, dst+pages(1))
	assert.False(t, o.Write, "mprotect does not make a shared page writable")
	write(t, m, dst+pages(1), "p")
	assert.Equal(t, data[pages(2)], read(t, c, base+pages(2), 1)[0])
	mustCheckGroup(t, m, c)
}

func TestForkSharedAnonymous(t *testing.T) {
	m, _, mem := newTestMM(t)
	a, err := m.Mmap(MmapOpts{Addr: base, Len: pages(4), Prot: rw, Fixed: true, Shared: true})
	require.NoError(t, err)
	write(t, m, a, "from parent")
	c, _ := forkTest(t, m)
	assert.Equal(t, "from parent", string(read(t, c, a, 11)))
	assert.Equal(t, backing(m, a), backing(c, a), "the same page")
	_, o, ok := lookupPT(c, a)
	require.True(t, ok)
	assert.True(t, o.Write, "shared pages are not copy-on-write")

	// Pages neither had touched at fork are shared too.
	write(t, c, a+pages(2), "from child")
	assert.Equal(t, "from child", string(read(t, m, a+pages(2), 10)))
	write(t, m, a, "overwritten")
	assert.Equal(t, "overwritten", string(read(t, c, a, 11)))
	mustCheckGroup(t, m, c)

	// MADV_DONTNEED keeps the data; MADV_REMOVE zeroes it for both.
	require.NoError(t, m.Madvise(a, pages(4), unix.MADV_DONTNEED))
	assert.Equal(t, "from child", string(read(t, m, a+pages(2), 10)))
	require.NoError(t, c.Madvise(a+pages(2), pages(1), unix.MADV_REMOVE))
	assert.Equal(t, make([]byte, 10), read(t, m, a+pages(2), 10))
	assert.Equal(t, make([]byte, 10), read(t, c, a+pages(2), 10))
	assert.Equal(t, "overwritten", string(read(t, c, a, 11)))
	mustCheckGroup(t, m, c)

	// munmap in the parent: the child keeps the object and its data.
	write(t, m, a+pages(3), "last")
	require.NoError(t, m.Munmap(a, pages(4)))
	assert.Equal(t, "overwritten", string(read(t, c, a, 11)))
	assert.Equal(t, "last", string(read(t, c, a+pages(3), 4)))
	mustCheckGroup(t, m, c)
	c.Release()
	mustCheck(t, m)
	assert.Equal(t, uintptr(m.pt.Pages())*pageSize, used(mem), "the object died with its last mapping")
}

// testFile is a file whose pages a shared mapping maps (like tmpfs): it
// holds a reference on each of its pages.
type testFile struct {
	mem   *memfile.File
	pages []uintptr
}

func (f *testFile) PageAddr(idx int64) (uintptr, error) {
	if idx < 0 || idx >= int64(len(f.pages)) {
		return 0, unix.ENXIO
	}
	if f.pages[idx] == 0 {
		p, err := f.mem.Alloc()
		if err != nil {
			return 0, err
		}
		f.pages[idx] = p
	}
	return f.pages[idx], nil
}

func (f *testFile) held() []uintptr {
	var s []uintptr
	for _, p := range f.pages {
		if p != 0 {
			s = append(s, p)
		}
	}
	return s
}

func (f *testFile) close() {
	for i, p := range f.pages {
		if p != 0 {
			f.mem.Free(p)
			f.pages[i] = 0
		}
	}
}

func TestForkSharedFile(t *testing.T) {
	m, _, mem := newTestMM(t)
	f := &testFile{mem: mem, pages: make([]uintptr, 4)}
	t.Cleanup(f.close)
	a, err := m.Mmap(MmapOpts{Addr: base, Len: pages(4), Prot: rw, Fixed: true, Shared: true, Name: "/tmp/f", Pager: f, PagerOff: 0})
	require.NoError(t, err)
	write(t, m, a+pages(1), "file data")
	c, _ := forkTest(t, m)
	assert.Equal(t, "file data", string(read(t, c, a+pages(1), 9)))
	write(t, c, a+pages(3), "child")
	assert.Equal(t, "child", string(read(t, m, a+pages(3), 5)))
	assert.Equal(t, f.pages[3], backing(m, a+pages(3)))
	assert.Equal(t, 3, mem.Refs(f.pages[3]), "the file and both address spaces")
	mustCheckGroup(t, m, c)
	assert.ErrorIs(t, m.Madvise(a, pages(1), unix.MADV_WIPEONFORK), EINVAL, "not private anonymous")
	require.NoError(t, m.Munmap(a, pages(4)))
	c.Release()
	assert.Equal(t, 1, mem.Refs(f.pages[3]), "only the file's")
}

func TestForkDontFork(t *testing.T) {
	m, _, _ := newTestMM(t)
	mmapAnon(t, m, base, pages(6), rw, true)
	write(t, m, base, "keep")
	write(t, m, base+pages(2), "secret")
	require.NoError(t, m.Madvise(base+pages(2), pages(2), unix.MADV_DONTFORK))
	vs := m.VMAs()
	require.Len(t, vs, 3, "the advice splits the mapping")
	assert.True(t, vs[1].DontFork)
	c, _ := forkTest(t, m)
	assert.Equal(t, []vmaSpan{{base, base + pages(2), rw}, {base + pages(4), base + pages(6), rw}}, spans(c))
	assert.Empty(t, populated(c, base+pages(2), base+pages(4)))
	res, code, err := c.HandleFault(base+pages(2), false, false)
	require.NoError(t, err)
	assert.Equal(t, FaultSIGSEGV, res, "absent in the child")
	assert.Equal(t, segvMapErr, code)
	assert.Equal(t, "keep", string(read(t, c, base, 4)))
	// The parent's DONTFORK pages are not shared: written in place.
	pa := backing(m, base+pages(2))
	write(t, m, base+pages(2), "s")
	assert.Equal(t, pa, backing(m, base+pages(2)))
	mustCheckGroup(t, m, c)

	// MADV_DOFORK undoes it: the VMAs merge back and a fork copies.
	require.NoError(t, m.Madvise(base, pages(6), unix.MADV_DOFORK))
	assert.Equal(t, []vmaSpan{{base, base + pages(6), rw}}, spans(m))
	c2, _ := forkTest(t, m)
	assert.Equal(t, "secret", string(read(t, c2, base+pages(2), 6)))
	mustCheckGroup(t, m, c, c2)
}

func TestForkWipeOnFork(t *testing.T) {
	m, _, _ := newTestMM(t)
	mmapAnon(t, m, base, pages(4), rw, true)
	write(t, m, base, "kept")
	write(t, m, base+pages(1), "wiped")
	require.NoError(t, m.Madvise(base+pages(1), pages(2), unix.MADV_WIPEONFORK))
	c, _ := forkTest(t, m)
	assert.Equal(t, spans(m), spans(c), "mapped in the child")
	assert.Empty(t, populated(c, base+pages(1), base+pages(3)), "with no pages")
	assert.Equal(t, make([]byte, 5), read(t, c, base+pages(1), 5), "zero-fill on demand")
	assert.Equal(t, "kept", string(read(t, c, base, 4)))
	assert.Equal(t, "wiped", string(read(t, m, base+pages(1), 5)), "the parent keeps its data")
	assert.True(t, c.VMAs()[1].WipeOnFork, "inherited")
	mustCheckGroup(t, m, c)

	// The child's children are wiped too.
	write(t, c, base+pages(1), "again")
	g, _ := forkTest(t, c)
	assert.Equal(t, make([]byte, 5), read(t, g, base+pages(1), 5))
	mustCheckGroup(t, m, c, g)

	// MADV_KEEPONFORK undoes it.
	require.NoError(t, m.Madvise(base, pages(4), unix.MADV_KEEPONFORK))
	assert.Len(t, m.VMAs(), 1)
	c2, _ := forkTest(t, m)
	assert.Equal(t, "wiped", string(read(t, c2, base+pages(1), 5)))
	mustCheckGroup(t, m, c, g, c2)
}

func TestMadviseForkAdviceErrors(t *testing.T) {
	m, _, _ := newTestMM(t)
	mmapAnon(t, m, base, pages(2), rw, true)
	_, err := m.Mmap(MmapOpts{Addr: base + pages(2), Len: pages(2), Prot: rw, Fixed: true, Shared: true})
	require.NoError(t, err)
	_, err = m.Mmap(MmapOpts{Addr: base + pages(4), Len: pages(2), Prot: rw, Fixed: true, Name: "/usr/lib/libc.so.6"})
	require.NoError(t, err)
	before := m.VMAs()

	assert.ErrorIs(t, m.Madvise(base, pages(4), unix.MADV_WIPEONFORK), EINVAL, "shared anonymous")
	assert.ErrorIs(t, m.Madvise(base+pages(4), pages(1), unix.MADV_WIPEONFORK), EINVAL, "a private file mapping")
	assert.Equal(t, before, m.VMAs(), "nothing changed by a failed advice")
	assert.ErrorIs(t, m.Madvise(base, pages(7), unix.MADV_DONTFORK), ENOMEM, "a hole")
	assert.ErrorIs(t, m.Madvise(base+1, pages(1), unix.MADV_DONTFORK), EINVAL, "unaligned")
	assert.Equal(t, before, m.VMAs())

	require.NoError(t, m.Madvise(base, pages(6), unix.MADV_DONTFORK), "any mapping")
	require.NoError(t, m.Madvise(base, pages(6), unix.MADV_KEEPONFORK), "any mapping")
	require.NoError(t, m.Madvise(base, pages(2), unix.MADV_WIPEONFORK))
	for _, v := range m.VMAs() {
		assert.True(t, v.DontFork)
		assert.Equal(t, v.Start == base, v.WipeOnFork)
	}
	mustCheck(t, m)
}

func TestForkCopiesProcessFields(t *testing.T) {
	m, _, _ := newTestMM(t)
	m.brkStart, m.brk = 0x20000000, 0x20000000
	require.Equal(t, uintptr(0x20003000), m.Brk(0x20003000))
	write(t, m, 0x20000000, "heap")
	m.Exe, m.Comm = "/bin/true", "true"
	m.ArgStart, m.ArgEnd, m.EnvStart, m.EnvEnd = 1, 2, 3, 4
	m.Auxv = []uint64{6, 4096, 0, 0}
	c, _ := forkTest(t, m)
	assert.Equal(t, uintptr(0x20003000), c.Brk(0))
	assert.Equal(t, "heap", string(read(t, c, 0x20000000, 4)))
	assert.Equal(t, "/bin/true", c.Exe)
	assert.Equal(t, "true", c.Comm)
	assert.Equal(t, [4]uintptr{1, 2, 3, 4}, [4]uintptr{c.ArgStart, c.ArgEnd, c.EnvStart, c.EnvEnd})
	assert.Equal(t, m.Auxv, c.Auxv)
	c.Auxv[1] = 1
	assert.Equal(t, uint64(4096), m.Auxv[1], "a copy")
	// The child's break moves on its own.
	require.Equal(t, uintptr(0x20001000), c.Brk(0x20001000))
	assert.Equal(t, uintptr(0x20003000), m.Brk(0))
	assert.Equal(t, "heap", string(read(t, m, 0x20000000, 4)))
}

func TestForkChainRefcounts(t *testing.T) {
	m, _, mem := newTestMM(t)
	mmapAnon(t, m, base, pages(2), rw, true)
	write(t, m, base, "gen0")
	pa := backing(m, base)
	c, _ := forkTest(t, m)
	g, _ := forkTest(t, c)
	assert.Equal(t, 3, mem.Refs(pa))
	write(t, c, base, "gen1")
	assert.Equal(t, 2, mem.Refs(pa))
	assert.Equal(t, "gen0", string(read(t, m, base, 4)))
	assert.Equal(t, "gen1", string(read(t, c, base, 4)))
	assert.Equal(t, "gen0", string(read(t, g, base, 4)))
	mustCheckGroup(t, m, c, g)
	m.Release()
	m.Release() // a second Release does nothing
	assert.Equal(t, 1, mem.Refs(pa), "the grandchild's")
	mustCheckGroup(t, c, g)
	g.Release()
	c.Release()
	assert.Zero(t, used(mem), "every page back in the file")
}

func TestForkOutOfMemory(t *testing.T) {
	m, _, mem := newTestMMLimit(t, memfile.ChunkSize)
	mmapAnon(t, m, base, pages(1), rw, true)
	write(t, m, base, "cow")
	c, _ := forkTest(t, m)

	// Fill the memory file.
	const big = 0x40000000
	mmapAnon(t, m, big, memfile.ChunkSize, rw, true)
	var err error
	for a := uintptr(big); a < big+memfile.ChunkSize; a += pages(faultAround) {
		if _, _, err = m.HandleFault(a, true, false); err != nil {
			break
		}
	}
	require.ErrorIs(t, err, ErrOutOfMemory)
	mustCheckGroup(t, m, c)

	// A copy-on-write copy cannot get a page: the same error as any
	// fault, and the page is left as it was.
	pa := backing(m, base)
	_, _, err = m.HandleFault(base, true, false)
	assert.ErrorIs(t, err, ErrOutOfMemory)
	_, err = m.CopyOut(base, []byte("x"))
	assert.ErrorIs(t, err, ErrOutOfMemory)
	assert.Equal(t, pa, backing(m, base))
	assert.Equal(t, "cow", string(read(t, c, base, 3)))
	assert.Equal(t, "cow", string(read(t, m, base, 3)))
	mustCheckGroup(t, m, c)

	// Fork itself fails cleanly while there is no room for the child's
	// page tables; freeing memory a page at a time finds every failure
	// point on the way.
	forked := false
	for a := uintptr(big); a < big+memfile.ChunkSize && !forked; a += pageSize {
		if len(populated(m, a, a+pageSize)) == 0 {
			continue
		}
		before := used(mem)
		p := &fakePlatform{mem: mem}
		g, err := m.Fork(p)
		if err != nil {
			assert.ErrorIs(t, err, ErrOutOfMemory)
			assert.Equal(t, before, used(mem), "a failed fork gives everything back")
			mustCheckGroup(t, m, c)
			require.NoError(t, m.Munmap(a, pageSize))
			continue
		}
		forked = true
		mustCheckGroup(t, m, c, g)
		g.Release()
	}
	assert.True(t, forked)
	// Once the other owner is gone, the write needs no page.
	c.Release()
	_, _, err = m.HandleFault(base, true, false)
	require.NoError(t, err)
	assert.Equal(t, pa, backing(m, base))
	mustCheck(t, m)
}

func TestTranslate(t *testing.T) {
	m, _, _ := newTestMM(t)
	mmapAnon(t, m, base, pages(1), rw, true)
	a, err := m.Mmap(MmapOpts{Addr: base + pages(1), Len: pages(1), Prot: ro, Fixed: true, Shared: true})
	require.NoError(t, err)
	pa, shared, err := m.Translate(base + 12)
	require.NoError(t, err)
	assert.False(t, shared)
	assert.Equal(t, backing(m, base)+12, pa, "populated by the lookup")
	spa, shared, err := m.Translate(a + 100)
	require.NoError(t, err)
	assert.True(t, shared)
	c, _ := forkTest(t, m)
	cpa, shared, err := c.Translate(a + 100)
	require.NoError(t, err)
	assert.True(t, shared)
	assert.Equal(t, spa, cpa, "one page for both")
	_, _, err = m.Translate(base + pages(2))
	assert.ErrorIs(t, err, EFAULT)
	require.NoError(t, m.Mprotect(base, pages(1), 0))
	_, _, err = m.Translate(base)
	assert.ErrorIs(t, err, EFAULT, "not readable")
}

// Fork holds the parent's lock for the whole copy: a child never sees half
// of a CopyOut that another thread makes meanwhile.
func TestForkConcurrentWithWrites(t *testing.T) {
	m, _, mem := newTestMM(t)
	mmapAnon(t, m, base, pages(8), rw, true)
	_, err := m.CopyOut(base, fill(int(pages(8)), 0))
	require.NoError(t, err)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := byte(1); ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			// One CopyOut that spans every page.
			if _, err := m.CopyOut(base, fill(int(pages(8)), i)); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	defer func() {
		close(stop)
		wg.Wait()
		mustCheck(t, m)
	}()
	for i := 0; i < 50; i++ {
		c, err := m.Fork(&fakePlatform{mem: mem})
		require.NoError(t, err)
		got := read(t, c, base, int(pages(8)))
		require.True(t, bytes.Equal(fill(int(pages(8)), got[0]), got), "fork %d saw a torn write", i)
		write(t, c, base, "child")
		c.Release()
	}
}

// vanishingFile hands out a page and frees it before the caller can take
// its reference (a truncate racing a fault), the first times it is asked.
type vanishingFile struct {
	testFile
	vanish int
}

func (f *vanishingFile) PageAddr(idx int64) (uintptr, error) {
	if f.vanish > 0 {
		f.vanish--
		p, err := f.mem.Alloc()
		if err != nil {
			return 0, err
		}
		f.mem.Free(p)
		return p, nil
	}
	return f.testFile.PageAddr(idx)
}

func TestSharedFilePageVanishing(t *testing.T) {
	m, _, mem := newTestMM(t)
	f := &vanishingFile{testFile: testFile{mem: mem, pages: make([]uintptr, 2)}, vanish: 2}
	t.Cleanup(f.close)
	a, err := m.Mmap(MmapOpts{Addr: base, Len: pages(2), Prot: rw, Fixed: true, Shared: true, Name: "/f", Pager: f})
	require.NoError(t, err)
	res, _, err := m.HandleFault(a, true, false)
	require.NoError(t, err)
	assert.Equal(t, FaultHandled, res, "asked again")
	assert.Equal(t, f.pages[0], backing(m, a))
	mustCheck(t, m)

	g := &vanishingFile{testFile: testFile{mem: mem, pages: make([]uintptr, 2)}, vanish: 100}
	b, err := m.Mmap(MmapOpts{Addr: base + pages(4), Len: pages(2), Prot: rw, Fixed: true, Shared: true, Name: "/g", Pager: g})
	require.NoError(t, err)
	res, _, err = m.HandleFault(b, false, false)
	require.NoError(t, err)
	assert.Equal(t, FaultSIGBUS, res, "a page that keeps vanishing is SIGBUS, not a crash")
	assert.Empty(t, populated(m, b, b+pages(2)))
	mustCheck(t, m)
}
