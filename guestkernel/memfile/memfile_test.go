package memfile

import (
	"errors"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// newFile makes a memory file and unmaps and closes it when the test ends
// (the package has no Close: a real file lives as long as its VM).
func newFile(t *testing.T, limit uintptr, onGrow func(addr, size uintptr) error) *File {
	t.Helper()
	f, err := New(limit, onGrow)
	require.NoError(t, err)
	t.Cleanup(func() {
		unix.Syscall(unix.SYS_MUNMAP, f.base, f.span, 0)
		unix.Close(f.fd)
	})
	return f
}

type growCall struct{ addr, size uintptr }

func TestNewRoundsLimitAndAligns(t *testing.T) {
	f := newFile(t, 1, nil)
	assert.Equal(t, uintptr(ChunkSize), f.Span(), "the range is whole chunks")
	assert.Equal(t, uintptr(PageSize), f.Limit(), "the limit is whole pages")
	assert.Zero(t, f.Base()%(2<<20), "base is 2 MiB aligned")
	assert.True(t, f.Contains(f.Base()))
	assert.True(t, f.Contains(f.Base()+f.Span()-1))
	assert.False(t, f.Contains(f.Base()-1))
	assert.False(t, f.Contains(f.Base()+f.Span()))
	assert.Positive(t, f.FD())

	_, err := New(0, nil)
	assert.Error(t, err, "zero limit")
}

// TestLimitNotChunk: a limit that is not whole chunks (a container's,
// less ringbox's share) holds exactly: the pages handed out, and so those
// resident, never exceed it, however the program frees and allocates.
func TestLimitNotChunk(t *testing.T) {
	const limit = 100 * PageSize
	f := newFile(t, limit+10, nil)
	require.Equal(t, uintptr(101*PageSize), f.Limit())
	var pages []uintptr
	for {
		p, err := f.Alloc()
		if err != nil {
			require.ErrorIs(t, err, ErrNoMemory)
			break
		}
		pages = append(pages, p)
	}
	require.Len(t, pages, 101)
	_, err := f.AllocContig(2, 1)
	require.ErrorIs(t, err, ErrNoMemory)
	for _, p := range pages[:50] {
		f.Free(p)
	}
	for range 50 {
		_, err := f.Alloc()
		require.NoError(t, err, "freed pages are reused")
	}
	_, err = f.Alloc()
	require.ErrorIs(t, err, ErrNoMemory)
	cur, peak := f.Used()
	require.Equal(t, uintptr(101*PageSize), cur)
	require.Equal(t, uintptr(101*PageSize), peak)
}

func TestAllocZeroedDistinctAndBacked(t *testing.T) {
	var calls []growCall
	f := newFile(t, 2*ChunkSize, func(addr, size uintptr) error {
		calls = append(calls, growCall{addr, size})
		return nil
	})
	seen := map[uintptr]bool{}
	for i := 0; i < 64; i++ {
		p, err := f.Alloc()
		require.NoError(t, err)
		require.Zero(t, p%PageSize)
		require.True(t, f.Contains(p))
		require.False(t, seen[p], "page %#x handed out twice", p)
		seen[p] = true
		pg := Page(p)
		for _, b := range pg {
			require.Zero(t, b)
		}
		pg[0], pg[PageSize-1] = 0xaa, 0xbb // writable
	}
	assert.Equal(t, []growCall{{f.Base(), ChunkSize}}, calls, "one chunk registered before its first page")
	cur, peak := f.Used()
	assert.Equal(t, uintptr(64*PageSize), cur)
	assert.Equal(t, uintptr(64*PageSize), peak)
}

func TestFreeReusesAndZeroes(t *testing.T) {
	f := newFile(t, ChunkSize, nil)
	a, err := f.Alloc()
	require.NoError(t, err)
	b, err := f.Alloc()
	require.NoError(t, err)
	copy(Page(a), "dirty data")
	f.Free(a)
	cur, peak := f.Used()
	assert.Equal(t, uintptr(PageSize), cur)
	assert.Equal(t, uintptr(2*PageSize), peak, "peak is kept")

	c, err := f.Alloc()
	require.NoError(t, err)
	assert.Equal(t, a, c, "a freed page is reused before the file grows")
	assert.Equal(t, make([]byte, PageSize), Page(c), "a reused page comes back zeroed")
	f.Free(b)
	f.Free(c)
	cur, _ = f.Used()
	assert.Zero(t, cur)
}

func TestBytes(t *testing.T) {
	f := newFile(t, ChunkSize, nil)
	p, err := f.Alloc()
	require.NoError(t, err)
	b := Bytes(p+100, 10)
	assert.Len(t, b, 10)
	copy(b, "0123456789")
	assert.Equal(t, "0123456789", string(Page(p)[100:110]))
}

func TestAllocContigAligned(t *testing.T) {
	f := newFile(t, ChunkSize, nil)
	one, err := f.Alloc()
	require.NoError(t, err)
	pair, err := f.AllocContig(2, 2)
	require.NoError(t, err)
	assert.Zero(t, (pair-f.Base())%(2*PageSize), "aligned to 2 pages")
	assert.Equal(t, one+2*PageSize, pair, "the page skipped for alignment is not used")
	cur, _ := f.Used()
	assert.Equal(t, uintptr(3*PageSize), cur, "skipped pages are not counted")

	// The page skipped for alignment is handed out next, once.
	skipped, err := f.Alloc()
	require.NoError(t, err)
	assert.Equal(t, one+PageSize, skipped)
	next, err := f.Alloc()
	require.NoError(t, err)
	assert.Equal(t, pair+2*PageSize, next)
}

func TestGrowsChunkByChunk(t *testing.T) {
	var calls []growCall
	f := newFile(t, 3*ChunkSize, func(addr, size uintptr) error {
		calls = append(calls, growCall{addr, size})
		return nil
	})
	// Fill the first chunk, then one page more.
	_, err := f.AllocContig(ChunkSize/PageSize, 1)
	require.NoError(t, err)
	require.Len(t, calls, 1)
	p, err := f.Alloc()
	require.NoError(t, err)
	assert.Equal(t, f.Base()+ChunkSize, p)
	assert.Equal(t, []growCall{{f.Base(), ChunkSize}, {f.Base() + ChunkSize, ChunkSize}}, calls)
	Page(p)[0] = 1 // backed

	// A contiguous run spanning two new chunks registers both.
	_, err = f.AllocContig(ChunkSize/PageSize, 1)
	require.NoError(t, err)
	assert.Len(t, calls, 3)
	assert.Equal(t, growCall{f.Base() + 2*ChunkSize, ChunkSize}, calls[2])
}

func TestLimit(t *testing.T) {
	f := newFile(t, ChunkSize, nil)
	const pages = ChunkSize / PageSize
	for i := 0; i < pages; i++ {
		_, err := f.Alloc()
		require.NoError(t, err)
	}
	_, err := f.Alloc()
	assert.ErrorIs(t, err, ErrNoMemory)
	_, err = f.AllocContig(1, 1)
	assert.ErrorIs(t, err, ErrNoMemory)
	cur, peak := f.Used()
	assert.Equal(t, uintptr(ChunkSize), cur)
	assert.Equal(t, uintptr(ChunkSize), peak)

	// Freeing makes room again.
	f.Free(f.Base() + 5*PageSize)
	p, err := f.Alloc()
	require.NoError(t, err)
	assert.Equal(t, f.Base()+5*PageSize, p)
}

// A failed aligned allocation must not leave the pages it would have skipped
// on the free list: repeated, they were listed twice (one page handed out
// to two owners), and past the backed size they were not even mapped.
func TestFailedAllocContigLeavesNoStalePages(t *testing.T) {
	f := newFile(t, ChunkSize, nil)
	first, err := f.Alloc()
	require.NoError(t, err)
	for i := 0; i < 3; i++ {
		_, err := f.AllocContig(ChunkSize/PageSize, 2) // can never fit
		require.ErrorIs(t, err, ErrNoMemory)
	}
	seen := map[uintptr]bool{first: true}
	for i := 0; i < 8; i++ {
		p, err := f.Alloc()
		require.NoError(t, err)
		require.False(t, seen[p], "page %#x handed out twice", p)
		seen[p] = true
	}
	cur, _ := f.Used()
	assert.Equal(t, uintptr(9*PageSize), cur)

	// Alignment beyond the backed size: nothing unbacked may be listed.
	g := newFile(t, ChunkSize, nil)
	_, err = g.Alloc()
	require.NoError(t, err)
	_, err = g.AllocContig(1, 2*ChunkSize/PageSize)
	require.ErrorIs(t, err, ErrNoMemory)
	for i := 0; i < 4; i++ {
		p, err := g.Alloc()
		require.NoError(t, err)
		require.Less(t, p, g.Base()+ChunkSize)
		Page(p)[0] = 1 // must not fault
	}
}

func TestOnGrowError(t *testing.T) {
	boom := errors.New("no slot")
	fail := true
	f := newFile(t, ChunkSize, func(addr, size uintptr) error {
		if fail {
			return boom
		}
		return nil
	})
	_, err := f.Alloc()
	assert.ErrorIs(t, err, boom)
	cur, _ := f.Used()
	assert.Zero(t, cur)
	fail = false
	p, err := f.Alloc()
	require.NoError(t, err)
	assert.Equal(t, f.Base(), p)
}

func TestRefcount(t *testing.T) {
	f := newFile(t, ChunkSize, nil)
	p, err := f.Alloc()
	require.NoError(t, err)
	assert.Equal(t, 1, f.Refs(p), "a new page has one owner")
	assert.False(t, f.Shared(p))
	f.IncRef(p)
	f.IncRef(p)
	assert.Equal(t, 3, f.Refs(p))
	assert.True(t, f.Shared(p))

	f.Free(p) // three owners -> two
	assert.True(t, f.Shared(p))
	f.Free(p) // two -> one
	assert.False(t, f.Shared(p))
	assert.Equal(t, 1, f.Refs(p))
	cur, _ := f.Used()
	assert.Equal(t, uintptr(PageSize), cur, "still owned")

	// Not reused while owned.
	q, err := f.Alloc()
	require.NoError(t, err)
	assert.NotEqual(t, p, q)

	f.Free(p) // last owner
	assert.Zero(t, f.Refs(p), "free")
	cur, _ = f.Used()
	assert.Equal(t, uintptr(PageSize), cur)
	r, err := f.Alloc()
	require.NoError(t, err)
	assert.Equal(t, p, r, "reused after the last owner freed it")
	assert.Equal(t, 1, f.Refs(r), "a reused page starts with one owner")
}

func TestRefsOfOtherAddresses(t *testing.T) {
	f := newFile(t, 2*ChunkSize, nil)
	assert.Zero(t, f.Refs(f.Base()), "never allocated")
	p, err := f.Alloc()
	require.NoError(t, err)
	assert.Zero(t, f.Refs(p+1), "unaligned")
	assert.Zero(t, f.Refs(f.Base()-PageSize), "below the file")
	assert.Zero(t, f.Refs(f.Base()+ChunkSize), "not backed yet")
	assert.Zero(t, f.Refs(f.Base()+f.Span()), "above the file")

	// Contiguous runs and pages of later chunks are counted too.
	run, err := f.AllocContig(ChunkSize/PageSize, 1)
	require.NoError(t, err)
	assert.Equal(t, 1, f.Refs(run))
	assert.Equal(t, 1, f.Refs(run+ChunkSize-PageSize))
	f.IncRef(run + ChunkSize - PageSize)
	assert.Equal(t, 2, f.Refs(run+ChunkSize-PageSize))
}

func TestTryIncRef(t *testing.T) {
	f := newFile(t, ChunkSize, nil)
	p, err := f.Alloc()
	require.NoError(t, err)
	assert.True(t, f.TryIncRef(p))
	assert.Equal(t, 2, f.Refs(p))
	f.Free(p)
	f.Free(p)
	assert.False(t, f.TryIncRef(p), "a free page")
	assert.Zero(t, f.Refs(p))
	assert.False(t, f.TryIncRef(p+1), "unaligned")
	assert.False(t, f.TryIncRef(f.Base()-PageSize), "foreign")
	assert.False(t, f.TryIncRef(f.Base()+f.Span()), "foreign")
	cur, _ := f.Used()
	assert.Zero(t, cur)
}

// Double frees and references to free pages are kernel bugs that would
// hand one page to two owners: they must stop the kernel, not corrupt the
// free list.
func TestDoubleFreeAndStaleRefPanic(t *testing.T) {
	f := newFile(t, ChunkSize, nil)
	p, err := f.Alloc()
	require.NoError(t, err)
	f.Free(p)
	assert.Panics(t, func() { f.Free(p) }, "double free")
	assert.Panics(t, func() { f.IncRef(p) }, "reference to a free page")
	assert.Panics(t, func() { f.IncRef(f.Base() + 3*PageSize) }, "reference to a never used page")
	assert.Panics(t, func() { f.IncRef(p + 1) }, "unaligned")
	assert.Panics(t, func() { f.Free(f.Base() + ChunkSize - PageSize) }, "free of a never used page")
	// The free list is intact: the page comes back once.
	a, err := f.Alloc()
	require.NoError(t, err)
	b, err := f.Alloc()
	require.NoError(t, err)
	assert.Equal(t, p, a)
	assert.NotEqual(t, a, b)
}

func TestFreeForeignPagePanics(t *testing.T) {
	f := newFile(t, ChunkSize, nil)
	p, err := f.Alloc()
	require.NoError(t, err)
	assert.Panics(t, func() { f.Free(p + 1) }, "unaligned")
	assert.Panics(t, func() { f.Free(f.Base() - PageSize) }, "below the file")
	assert.Panics(t, func() { f.Free(f.Base() + f.Span()) }, "above the file")
}

func TestPagetablesAllocator(t *testing.T) {
	f := newFile(t, ChunkSize, nil)
	p, err := f.AllocPage()
	require.NoError(t, err)
	cur, _ := f.Used()
	assert.Equal(t, uintptr(PageSize), cur)
	f.FreePage(p)
	cur, _ = f.Used()
	assert.Zero(t, cur)
}

func TestConcurrentAllocFree(t *testing.T) {
	f := newFile(t, ChunkSize, nil)
	done := make(chan map[uintptr]bool)
	for g := 0; g < 4; g++ {
		go func() {
			mine := map[uintptr]bool{}
			var held []uintptr
			for i := 0; i < 2000; i++ {
				p, err := f.Alloc()
				if err != nil {
					break
				}
				Page(p)[0] = 1
				held = append(held, p)
				if i%3 == 0 {
					f.Free(held[0])
					held = held[1:]
				}
			}
			for _, p := range held {
				mine[p] = true
			}
			done <- mine
		}()
	}
	all := map[uintptr]bool{}
	for g := 0; g < 4; g++ {
		for p := range <-done {
			require.False(t, all[p], "page %#x held by two goroutines", p)
			all[p] = true
		}
	}
	cur, _ := f.Used()
	assert.Equal(t, uintptr(len(all))*PageSize, cur)
}

// resident counts the file's pages in the host's memory (mincore).
func resident(t *testing.T, f *File) int {
	t.Helper()
	vec := make([]byte, f.size/PageSize)
	if _, _, e := unix.Syscall(unix.SYS_MINCORE, f.base, f.size, uintptr(unsafe.Pointer(&vec[0]))); e != 0 {
		t.Fatalf("mincore: %v", e)
	}
	n := 0
	for _, b := range vec {
		n += int(b & 1)
	}
	return n
}

// TestFreedPagesGoBack: past releaseAbove free pages, all but the keepFree
// lowest are given back to the host; they are handed out again (zero)
// once the resident free pages are used up, and the file never grows for
// them.
func TestFreedPagesGoBack(t *testing.T) {
	f := newFile(t, ChunkSize, nil)
	const n = 6000
	pages := make([]uintptr, n)
	for i := range pages {
		var err error
		pages[i], err = f.Alloc()
		require.NoError(t, err)
		Page(pages[i])[100] = 0xaa
	}
	require.GreaterOrEqual(t, resident(t, f), n)
	for _, p := range pages {
		f.Free(p)
	}
	require.LessOrEqual(t, resident(t, f), releaseAbove, "freed pages beyond the bound went back")
	require.GreaterOrEqual(t, f.Released(), uintptr(n-releaseAbove)*PageSize)
	cur, peak := f.Used()
	require.Zero(t, cur)
	require.Equal(t, uintptr(n*PageSize), peak)

	next := f.next
	for i := range pages {
		p, err := f.Alloc()
		require.NoError(t, err)
		require.Equal(t, byte(0), Page(p)[100], "page %d comes back zero", i)
		Page(p)[100] = 1
	}
	require.Equal(t, next, f.next, "the freed pages were used, not new ones")
	require.Zero(t, f.Released())
}
