package mm

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

const (
	rw  = ProtRead | ProtWrite
	ro  = ProtRead
	rx  = ProtRead | ProtExec
	rwx = ProtRead | ProtWrite | ProtExec

	// base is a fixed address tests map at.
	base = 0x10000000
)

// ---- mmap ----

func TestMmapTopDownNoOverlap(t *testing.T) {
	m, _, _ := newTestMM(t)
	a := mmapAnon(t, m, 0, pages(4), rw, false)
	assert.Equal(t, uintptr(MmapTop-pages(4)), a, "the first mapping ends at MmapTop")
	b := mmapAnon(t, m, 0, pages(2), ro, false)
	assert.Equal(t, a-pages(2), b, "the next one goes right below")
	c := mmapAnon(t, m, 0, 5000, rw, false) // length rounds up
	assert.Equal(t, b-pages(2), c)
	assert.Equal(t, []vmaSpan{{c, b, rw}, {b, a, ro}, {a, MmapTop, rw}}, spans(m))

	// Unmapping a hole lets a mapping that fits reuse it; one that does
	// not goes below.
	require.NoError(t, m.Munmap(b, pages(2)))
	d := mmapAnon(t, m, 0, pages(2), ro, false)
	assert.Equal(t, b, d)
	require.NoError(t, m.Munmap(d, pages(2)))
	e := mmapAnon(t, m, 0, pages(3), ro, false)
	assert.Equal(t, c-pages(3), e)
	mustCheck(t, m)
}

func TestMmapMergesEqualNeighbours(t *testing.T) {
	m, _, _ := newTestMM(t)
	a := mmapAnon(t, m, 0, pages(4), rw, false)
	b := mmapAnon(t, m, 0, pages(4), rw, false)
	assert.Equal(t, []vmaSpan{{b, a + pages(4), rw}}, spans(m), "adjacent equal anonymous mappings are one VMA")
	// A different name or flag keeps them apart.
	_, err := m.Mmap(MmapOpts{Addr: b - pages(1), Len: pages(1), Prot: rw, Fixed: true, Shared: true})
	require.NoError(t, err)
	assert.Len(t, m.VMAs(), 2)
	mustCheck(t, m)
}

func TestMmapHint(t *testing.T) {
	m, _, _ := newTestMM(t)
	a := mmapAnon(t, m, base, pages(4), rw, false)
	assert.Equal(t, uintptr(base), a, "a free hint is used")
	b := mmapAnon(t, m, base+pages(2), pages(4), rw, false)
	assert.NotEqual(t, uintptr(base+pages(2)), b, "an overlapping hint is not")
	assert.True(t, b+pages(4) <= base || b >= base+pages(4), "no overlap: %#x", b)
	c := mmapAnon(t, m, 0x1000, pages(1), rw, false)
	assert.GreaterOrEqual(t, c, uintptr(MinAddr), "a hint below mmap_min_addr is not used")
	d := mmapAnon(t, m, UserEnd-pages(1), pages(2), rw, false)
	assert.LessOrEqual(t, d+pages(2), uintptr(UserEnd), "a hint that does not fit is not used")
	mustCheck(t, m)
}

func TestMmapFixedReplaces(t *testing.T) {
	m, as, mem := newTestMM(t)
	a := mmapAnon(t, m, base, pages(8), rw, true)
	assert.Equal(t, uintptr(base), a)
	_, err := m.CopyOut(base, fill(int(pages(8)), 1))
	require.NoError(t, err)
	before := used(mem)
	inv := as.invalidations

	b := mmapAnon(t, m, base+pages(2), pages(3), ro, true)
	assert.Equal(t, uintptr(base+pages(2)), b)
	assert.Equal(t, []vmaSpan{{base, base + pages(2), rw}, {base + pages(2), base + pages(5), ro}, {base + pages(5), base + pages(8), rw}}, spans(m))
	assert.Equal(t, before-pages(3), used(mem), "the replaced pages are freed")
	assert.Greater(t, as.invalidations, inv, "their translations are flushed")
	for i := 2; i < 5; i++ {
		_, _, ok := lookupPT(m, base+pages(i))
		assert.False(t, ok, "page %d still mapped", i)
	}
	// The new mapping reads zeroes; the rest kept its contents.
	got := make([]byte, pages(8))
	_, err = m.CopyIn(base, got)
	require.NoError(t, err)
	want := fill(int(pages(8)), 1)
	clear(want[pages(2):pages(5)])
	assert.Equal(t, want, got)
	mustCheck(t, m)
}

func TestMmapFixedNoReplace(t *testing.T) {
	m, _, _ := newTestMM(t)
	mmapAnon(t, m, base, pages(4), rw, true)
	_, err := m.Mmap(MmapOpts{Addr: base + pages(3), Len: pages(2), Prot: rw, NoReplace: true})
	assert.ErrorIs(t, err, EEXIST)
	_, err = m.Mmap(MmapOpts{Addr: base - pages(1), Len: pages(2), Prot: rw, NoReplace: true})
	assert.ErrorIs(t, err, EEXIST)
	a, err := m.Mmap(MmapOpts{Addr: base + pages(4), Len: pages(2), Prot: ro, NoReplace: true})
	require.NoError(t, err)
	assert.Equal(t, uintptr(base+pages(4)), a, "right after: no overlap")
	assert.Equal(t, []vmaSpan{{base, base + pages(4), rw}, {base + pages(4), base + pages(6), ro}}, spans(m))
}

func TestMmapErrors(t *testing.T) {
	m, _, _ := newTestMM(t)
	for _, c := range []struct {
		name string
		o    MmapOpts
		want error
	}{
		{"zero length", MmapOpts{Len: 0, Prot: rw}, EINVAL},
		{"bad prot", MmapOpts{Len: 1, Prot: 8}, EINVAL},
		{"length overflows", MmapOpts{Len: ^uintptr(0), Prot: rw}, ENOMEM},
		{"length beyond user space", MmapOpts{Len: UserEnd + pageSize, Prot: rw}, ENOMEM},
		{"fixed unaligned", MmapOpts{Addr: base + 1, Len: 1, Prot: rw, Fixed: true}, EINVAL},
		{"fixed below mmap_min_addr", MmapOpts{Addr: MinAddr - pageSize, Len: pageSize, Prot: rw, Fixed: true}, unix.EPERM},
		{"fixed at 0", MmapOpts{Addr: 0, Len: pageSize, Prot: rw, Fixed: true}, unix.EPERM},
		{"fixed past the end", MmapOpts{Addr: UserEnd - pageSize, Len: pages(2), Prot: rw, Fixed: true}, ENOMEM},
		{"noreplace past the end", MmapOpts{Addr: UserEnd - pageSize, Len: pages(2), Prot: rw, NoReplace: true}, ENOMEM},
		{"noreplace below mmap_min_addr", MmapOpts{Addr: pageSize, Len: pageSize, Prot: rw, NoReplace: true}, unix.EPERM},
	} {
		_, err := m.Mmap(c.o)
		assert.ErrorIs(t, err, c.want, c.name)
	}
	assert.Empty(t, m.VMAs())
	// The last page of user space can be mapped.
	a := mmapAnon(t, m, UserEnd-pageSize, pageSize, rw, true)
	assert.Equal(t, uintptr(UserEnd-pageSize), a)
}

func TestMmapPopulate(t *testing.T) {
	m, _, mem := newTestMM(t)
	a, err := m.Mmap(MmapOpts{Addr: base, Len: pages(5), Prot: rw, Fixed: true, Populate: true})
	require.NoError(t, err)
	assert.Len(t, populated(m, a, a+pages(5)), 5)
	for i := 0; i < 5; i++ {
		pa, o, ok := lookupPT(m, a+pages(i))
		require.True(t, ok)
		assert.Equal(t, backing(m, a+pages(i)), pa)
		assert.True(t, o.Write)
		assert.False(t, o.Exec)
	}
	// PROT_NONE: populated but not mapped.
	b, err := m.Mmap(MmapOpts{Addr: base + pages(10), Len: pages(2), Prot: 0, Fixed: true, Populate: true})
	require.NoError(t, err)
	assert.Len(t, populated(m, b, b+pages(2)), 2)
	_, _, ok := lookupPT(m, b)
	assert.False(t, ok)
	assert.Equal(t, pages(7+m.pt.Pages()), used(mem))
	mustCheck(t, m)
}

func TestMmapMaxVMAs(t *testing.T) {
	if testing.Short() {
		t.Skip("maps 65530 VMAs")
	}
	m, _, _ := newTestMM(t)
	// Alternate protections so no two neighbours merge.
	for i := 0; i < MaxVMAs; i++ {
		_, err := m.Mmap(MmapOpts{Addr: base + pages(i), Len: pageSize, Prot: ro + i%2*ProtWrite, Fixed: true})
		require.NoError(t, err, "mapping %d", i)
	}
	require.Len(t, m.VMAs(), MaxVMAs)
	_, err := m.Mmap(MmapOpts{Addr: base + pages(MaxVMAs+1), Len: pageSize, Prot: rw, Fixed: true})
	assert.ErrorIs(t, err, ENOMEM)
	_, err = m.Mmap(MmapOpts{Len: pageSize, Prot: rw})
	assert.ErrorIs(t, err, ENOMEM)
	// Unmapping makes room again.
	require.NoError(t, m.Munmap(base, pageSize))
	_, err = m.Mmap(MmapOpts{Len: pageSize, Prot: rw})
	assert.NoError(t, err)
}

// ---- munmap ----

func TestMunmapMiddleSplitsAndFreesThosePages(t *testing.T) {
	m, as, mem := newTestMM(t)
	mmapAnon(t, m, base, pages(10), rw, true)
	data := fill(int(pages(10)), 3)
	_, err := m.CopyOut(base, data)
	require.NoError(t, err)
	before := used(mem)
	keep := map[uintptr]uintptr{}
	for i := 0; i < 10; i++ {
		keep[base+pages(i)] = backing(m, base+pages(i))
	}
	inv := as.invalidations

	require.NoError(t, m.Munmap(base+pages(3), pages(4)))
	assert.Equal(t, []vmaSpan{{base, base + pages(3), rw}, {base + pages(7), base + pages(10), rw}}, spans(m))
	assert.Equal(t, before-pages(4), used(mem), "exactly the 4 pages are freed (the tables stay: pages around remain)")
	assert.Greater(t, as.invalidations, inv)
	for i := 0; i < 10; i++ {
		va := base + pages(i)
		pa, _, ok := lookupPT(m, va)
		if i >= 3 && i < 7 {
			assert.False(t, ok, "page %d", i)
			assert.Zero(t, backing(m, va), "page %d", i)
			continue
		}
		assert.True(t, ok, "page %d", i)
		assert.Equal(t, keep[va], pa, "page %d keeps its backing", i)
	}
	got := make([]byte, pages(3))
	_, err = m.CopyIn(base+pages(7), got)
	require.NoError(t, err)
	assert.Equal(t, data[pages(7):], got)
	n, err := m.CopyIn(base+pages(3), got)
	assert.ErrorIs(t, err, EFAULT)
	assert.Zero(t, n)
	mustCheck(t, m)
}

func TestMunmapAcrossVMAsAndHoles(t *testing.T) {
	m, _, mem := newTestMM(t)
	mmapAnon(t, m, base, pages(2), rw, true)
	mmapAnon(t, m, base+pages(4), pages(2), ro, true)
	mmapAnon(t, m, base+pages(8), pages(2), rw, true)
	_, err := m.ZeroOut(base, int(pages(2)))
	require.NoError(t, err)
	require.NoError(t, m.Munmap(base+pages(1), pages(8)))
	assert.Equal(t, []vmaSpan{{base, base + pages(1), rw}, {base + pages(9), base + pages(10), rw}}, spans(m))
	assert.Equal(t, []uintptr{base}, populated(m, 0, UserEnd))
	// Unmapping nothing is fine.
	require.NoError(t, m.Munmap(base+pages(100), pages(5)))
	require.NoError(t, m.Munmap(base, pages(10)))
	assert.Empty(t, m.VMAs())
	assert.Equal(t, pages(m.pt.Pages()), used(mem))
}

func TestMunmapErrors(t *testing.T) {
	m, _, _ := newTestMM(t)
	mmapAnon(t, m, base, pages(4), rw, true)
	assert.ErrorIs(t, m.Munmap(base+1, pageSize), EINVAL, "unaligned")
	assert.ErrorIs(t, m.Munmap(base, 0), EINVAL, "zero length")
	assert.ErrorIs(t, m.Munmap(UserEnd, pageSize), EINVAL, "at UserEnd")
	assert.ErrorIs(t, m.Munmap(UserEnd-pageSize, pages(2)), EINVAL, "past UserEnd")
	assert.ErrorIs(t, m.Munmap(base+pages(1), ^uintptr(0)), EINVAL, "length wraps")
	assert.ErrorIs(t, m.Munmap(base+pages(1), ^uintptr(0)-pageSize), EINVAL, "length beyond the end")
	assert.Equal(t, []vmaSpan{{base, base + pages(4), rw}}, spans(m), "failed calls change nothing")
	require.NoError(t, m.Munmap(base+pages(3), 1), "length rounds up")
	assert.Equal(t, []vmaSpan{{base, base + pages(3), rw}}, spans(m))
}

// ---- mprotect ----

func TestMprotectSplitsMergesAndRemaps(t *testing.T) {
	m, as, _ := newTestMM(t)
	mmapAnon(t, m, base, pages(8), rw, true)
	_, err := m.CopyOut(base, fill(int(pages(8)), 9))
	require.NoError(t, err)
	inv := as.invalidations

	require.NoError(t, m.Mprotect(base+pages(2), pages(3), ro))
	assert.Equal(t, []vmaSpan{{base, base + pages(2), rw}, {base + pages(2), base + pages(5), ro}, {base + pages(5), base + pages(8), rw}}, spans(m))
	assert.Greater(t, as.invalidations, inv, "write rights were removed: flush")
	for i := 0; i < 8; i++ {
		pa, o, ok := lookupPT(m, base+pages(i))
		require.True(t, ok, "page %d", i)
		assert.Equal(t, backing(m, base+pages(i)), pa)
		assert.Equal(t, i < 2 || i >= 5, o.Write, "page %d writable", i)
		assert.False(t, o.Exec)
	}
	res, code, err := m.HandleFault(base+pages(3), true, false)
	require.NoError(t, err)
	assert.Equal(t, FaultSIGSEGV, res)
	assert.Equal(t, segvAccErr, code)
	_, err = m.CopyOut(base+pages(3), []byte{1})
	assert.ErrorIs(t, err, EFAULT)

	require.NoError(t, m.Mprotect(base+pages(2), pages(3), rwx))
	_, o, _ := lookupPT(m, base+pages(2))
	assert.True(t, o.Exec)
	assert.True(t, o.Write)

	// Back to the original protection: one VMA again.
	require.NoError(t, m.Mprotect(base, pages(8), rw))
	assert.Equal(t, []vmaSpan{{base, base + pages(8), rw}}, spans(m))
	got := make([]byte, pages(8))
	_, err = m.CopyIn(base, got)
	require.NoError(t, err)
	assert.Equal(t, fill(int(pages(8)), 9), got)
	mustCheck(t, m)
}

func TestMprotectMergesWithNeighbours(t *testing.T) {
	m, _, _ := newTestMM(t)
	mmapAnon(t, m, base, pages(2), ro, true)
	mmapAnon(t, m, base+pages(2), pages(2), rw, true)
	mmapAnon(t, m, base+pages(4), pages(2), ro, true)
	require.NoError(t, m.Mprotect(base+pages(2), pages(2), ro))
	assert.Equal(t, []vmaSpan{{base, base + pages(6), ro}}, spans(m))
	mustCheck(t, m)
}

func TestProtNoneKeepsContents(t *testing.T) {
	m, _, mem := newTestMM(t)
	mmapAnon(t, m, base, pages(4), rw, true)
	data := fill(int(pages(4)), 5)
	_, err := m.CopyOut(base, data)
	require.NoError(t, err)
	before := used(mem)
	backs := []uintptr{backing(m, base), backing(m, base+pages(3))}

	require.NoError(t, m.Mprotect(base, pages(4), 0))
	for i := 0; i < 4; i++ {
		_, _, ok := lookupPT(m, base+pages(i))
		assert.False(t, ok, "PROT_NONE page %d mapped", i)
	}
	assert.Len(t, populated(m, base, base+pages(4)), 4, "the pages are kept")
	assert.LessOrEqual(t, used(mem), before, "no page allocated (table pages may go)")
	_, err = m.CopyIn(base, make([]byte, 1))
	assert.ErrorIs(t, err, EFAULT)
	for _, acc := range [][2]bool{{false, false}, {true, false}, {false, true}} {
		res, code, err := m.HandleFault(base+pages(1), acc[0], acc[1])
		require.NoError(t, err)
		assert.Equal(t, FaultSIGSEGV, res)
		assert.Equal(t, segvAccErr, code)
	}
	mustCheck(t, m)

	require.NoError(t, m.Mprotect(base, pages(4), rw))
	got := make([]byte, pages(4))
	_, err = m.CopyIn(base, got)
	require.NoError(t, err)
	assert.Equal(t, data, got)
	assert.Equal(t, backs, []uintptr{backing(m, base), backing(m, base+pages(3))})
	for i := 0; i < 4; i++ {
		_, o, ok := lookupPT(m, base+pages(i))
		assert.True(t, ok)
		assert.True(t, o.Write)
	}
	mustCheck(t, m)
}

func TestMprotectErrors(t *testing.T) {
	m, _, _ := newTestMM(t)
	mmapAnon(t, m, base, pages(2), rw, true)
	mmapAnon(t, m, base+pages(3), pages(2), rw, true)
	assert.ErrorIs(t, m.Mprotect(base+1, pageSize, ro), EINVAL, "unaligned")
	assert.ErrorIs(t, m.Mprotect(base, pageSize, 0x10), EINVAL, "unknown prot bit")
	assert.ErrorIs(t, m.Mprotect(base, pages(5), ro), ENOMEM, "hole in the range")
	assert.ErrorIs(t, m.Mprotect(base+pages(10), pageSize, ro), ENOMEM, "unmapped")
	assert.ErrorIs(t, m.Mprotect(UserEnd-pageSize, pages(2), ro), ENOMEM, "past UserEnd")
	assert.ErrorIs(t, m.Mprotect(base, ^uintptr(0), ro), ENOMEM, "length wraps")
	assert.Equal(t, []vmaSpan{{base, base + pages(2), rw}, {base + pages(3), base + pages(5), rw}}, spans(m), "failed calls change nothing")
	assert.NoError(t, m.Mprotect(base, 0, ro), "zero length")
	assert.NoError(t, m.Mprotect(base, pageSize, ro|unix.PROT_GROWSDOWN), "PROT_GROWSDOWN accepted")
	assert.Equal(t, []vmaSpan{{base, base + pageSize, ro}, {base + pageSize, base + pages(2), rw}, {base + pages(3), base + pages(5), rw}}, spans(m))
	assert.NoError(t, m.Mprotect(base+pages(4), 1, ro), "length rounds up")
	mustCheck(t, m)
}

// ---- madvise ----

func TestMadviseDontneedZeroes(t *testing.T) {
	m, as, mem := newTestMM(t)
	mmapAnon(t, m, base, pages(6), rw, true)
	data := fill(int(pages(6)), 11)
	_, err := m.CopyOut(base, data)
	require.NoError(t, err)
	before := used(mem)
	inv := as.invalidations

	require.NoError(t, m.Madvise(base+pages(1), pages(2), unix.MADV_DONTNEED))
	assert.Equal(t, before-pages(2), used(mem))
	assert.Greater(t, as.invalidations, inv)
	for i := 1; i < 3; i++ {
		_, _, ok := lookupPT(m, base+pages(i))
		assert.False(t, ok)
	}
	assert.Equal(t, []vmaSpan{{base, base + pages(6), rw}}, spans(m), "the mapping stays")
	got := make([]byte, pages(6))
	_, err = m.CopyIn(base, got)
	require.NoError(t, err)
	clear(data[pages(1):pages(3)])
	assert.Equal(t, data, got, "the range reads zeroes, the rest is kept")

	// Also on pages that are not accessible.
	require.NoError(t, m.Mprotect(base, pages(6), 0))
	require.NoError(t, m.Madvise(base, pages(6), unix.MADV_DONTNEED))
	assert.Empty(t, populated(m, base, base+pages(6)))
	mustCheck(t, m)
}

func TestMadviseOtherAdviceKeepsContents(t *testing.T) {
	m, _, _ := newTestMM(t)
	mmapAnon(t, m, base, pages(2), rw, true)
	_, err := m.CopyOut(base, []byte("keep"))
	require.NoError(t, err)
	for _, adv := range []int{unix.MADV_NORMAL, unix.MADV_WILLNEED, unix.MADV_SEQUENTIAL, unix.MADV_HUGEPAGE, unix.MADV_DONTFORK, unix.MADV_COLD} {
		require.NoError(t, m.Madvise(base, pages(2), adv), "advice %d", adv)
	}
	got := make([]byte, 4)
	_, err = m.CopyIn(base, got)
	require.NoError(t, err)
	assert.Equal(t, "keep", string(got))
}

// MADV_DONTNEED on a shared anonymous mapping drops only the translations:
// the shared memory object keeps its pages, so the data is read back.
func TestMadviseDontneedSharedKeepsContents(t *testing.T) {
	m, _, _ := newTestMM(t)
	a, err := m.Mmap(MmapOpts{Addr: base, Len: pages(2), Prot: rw, Fixed: true, Shared: true})
	require.NoError(t, err)
	_, err = m.CopyOut(a, []byte("shared"))
	require.NoError(t, err)
	require.NoError(t, m.Madvise(a, pages(2), unix.MADV_DONTNEED))
	got := make([]byte, 6)
	_, err = m.CopyIn(a, got)
	require.NoError(t, err)
	assert.Equal(t, "shared", string(got))
	mustCheck(t, m)
}

func TestMadviseErrors(t *testing.T) {
	m, _, _ := newTestMM(t)
	mmapAnon(t, m, base, pages(2), rw, true)
	assert.ErrorIs(t, m.Madvise(base+1, pageSize, unix.MADV_DONTNEED), EINVAL, "unaligned")
	assert.ErrorIs(t, m.Madvise(base, pageSize, 12345), EINVAL, "unknown advice")
	assert.ErrorIs(t, m.Madvise(base, pages(3), unix.MADV_DONTNEED), ENOMEM, "partly unmapped")
	assert.ErrorIs(t, m.Madvise(base, ^uintptr(0), unix.MADV_DONTNEED), EINVAL, "length wraps")
	assert.ErrorIs(t, m.Madvise(UserEnd-pageSize, pages(2), unix.MADV_DONTNEED), ENOMEM, "past UserEnd: not mapped")
	assert.ErrorIs(t, m.Madvise(base+pages(2), pageSize, unix.MADV_WILLNEED), ENOMEM, "any advice on an unmapped range")
	assert.NoError(t, m.Madvise(base, 0, unix.MADV_DONTNEED), "zero length")
	assert.ErrorIs(t, m.Madvise(base, 0, 12345), EINVAL, "the advice is checked first")
}

// ---- mremap ----

const (
	mremapMayMove   = 1
	mremapFixed     = 2
	mremapDontUnmap = 4
)

func TestMremapGrowInPlace(t *testing.T) {
	m, _, mem := newTestMM(t)
	mmapAnon(t, m, base, pages(2), rw, true)
	_, err := m.CopyOut(base, fill(int(pages(2)), 2))
	require.NoError(t, err)
	pa := backing(m, base)
	before := used(mem)

	a, err := m.Mremap(base, pages(2), pages(5), 0, 0)
	require.NoError(t, err)
	assert.Equal(t, uintptr(base), a)
	assert.Equal(t, []vmaSpan{{base, base + pages(5), rw}}, spans(m), "one VMA")
	assert.Equal(t, pa, backing(m, base))
	assert.Equal(t, before, used(mem), "growing allocates nothing")
	got := make([]byte, pages(5))
	_, err = m.CopyIn(base, got)
	require.NoError(t, err)
	assert.Equal(t, append(fill(int(pages(2)), 2), make([]byte, pages(3))...), got)
	mustCheck(t, m)
}

func TestMremapGrowBlocked(t *testing.T) {
	m, as, mem := newTestMM(t)
	mmapAnon(t, m, base, pages(3), rw, true)
	mmapAnon(t, m, base+pages(3), pages(1), ro, true)
	data := fill(int(pages(3)), 4)
	_, err := m.CopyOut(base, data)
	require.NoError(t, err)
	_, err = m.Mremap(base, pages(3), pages(6), 0, 0)
	assert.ErrorIs(t, err, ENOMEM, "no room and may not move")

	old := []uintptr{backing(m, base), backing(m, base+pages(1)), backing(m, base+pages(2))}
	before, tables := used(mem), m.pt.Pages()
	inv := as.invalidations
	a, err := m.Mremap(base, pages(3), pages(6), mremapMayMove, 0)
	require.NoError(t, err)
	assert.NotEqual(t, uintptr(base), a)
	assert.Equal(t, []uintptr{backing(m, a), backing(m, a+pages(1)), backing(m, a+pages(2))}, old, "pages move, not copied")
	assert.Equal(t, before-pages(tables), used(mem)-pages(m.pt.Pages()), "no page allocated")
	assert.Greater(t, as.invalidations, inv)
	for i := 0; i < 3; i++ {
		_, _, ok := lookupPT(m, base+pages(i))
		assert.False(t, ok, "old page %d still mapped", i)
		pa, o, ok := lookupPT(m, a+pages(i))
		assert.True(t, ok)
		assert.Equal(t, old[i], pa)
		assert.True(t, o.Write)
	}
	_, ok := m.vmas.lookup(base)
	assert.False(t, ok, "old range unmapped")
	got := make([]byte, pages(6))
	_, err = m.CopyIn(a, got)
	require.NoError(t, err)
	assert.Equal(t, append(data, make([]byte, pages(3))...), got)
	mustCheck(t, m)
}

func TestMremapShrink(t *testing.T) {
	m, _, mem := newTestMM(t)
	mmapAnon(t, m, base, pages(6), rw, true)
	_, err := m.ZeroOut(base, int(pages(6)))
	require.NoError(t, err)
	before := used(mem)
	a, err := m.Mremap(base, pages(6), pages(2)+1, 0, 0)
	require.NoError(t, err)
	assert.Equal(t, uintptr(base), a)
	assert.Equal(t, []vmaSpan{{base, base + pages(3), rw}}, spans(m))
	assert.Equal(t, before-pages(3), used(mem))
	mustCheck(t, m)
}

// Resizing part of a VMA to its own size changes nothing, and in particular
// does not leave the VMA split in two.
func TestMremapSameSizeKeepsOneVMA(t *testing.T) {
	m, _, _ := newTestMM(t)
	mmapAnon(t, m, base, pages(4), rw, true)
	a, err := m.Mremap(base, pages(2), pages(2), 0, 0)
	require.NoError(t, err)
	assert.Equal(t, uintptr(base), a)
	assert.Equal(t, []vmaSpan{{base, base + pages(4), rw}}, spans(m))
	mustCheck(t, m)
}

func TestMremapPrefixMustMove(t *testing.T) {
	m, _, _ := newTestMM(t)
	mmapAnon(t, m, base, pages(4), rw, true)
	_, err := m.CopyOut(base, []byte("prefix"))
	require.NoError(t, err)
	_, err = m.Mremap(base, pages(2), pages(3), 0, 0)
	assert.ErrorIs(t, err, ENOMEM, "the rest of the VMA is in the way")
	a, err := m.Mremap(base, pages(2), pages(3), mremapMayMove, 0)
	require.NoError(t, err)
	assert.NotEqual(t, uintptr(base), a)
	assert.ElementsMatch(t, []vmaSpan{{a, a + pages(3), rw}, {base + pages(2), base + pages(4), rw}}, spans(m))
	got := make([]byte, 6)
	_, err = m.CopyIn(a, got)
	require.NoError(t, err)
	assert.Equal(t, "prefix", string(got))
	mustCheck(t, m)
}

func TestMremapFixed(t *testing.T) {
	m, _, _ := newTestMM(t)
	mmapAnon(t, m, base, pages(2), rw, true)
	mmapAnon(t, m, base+pages(10), pages(4), rw, true)
	_, err := m.CopyOut(base, []byte("moved"))
	require.NoError(t, err)
	// Populate the target: its pages are freed when replaced.
	_, err = m.CopyOut(base+pages(10), fill(int(pages(4)), 1))
	require.NoError(t, err)
	pa := backing(m, base)
	require.Equal(t, 5, m.ResidentPages())

	a, err := m.Mremap(base, pages(2), pages(3), mremapMayMove|mremapFixed, base+pages(11))
	require.NoError(t, err)
	assert.Equal(t, uintptr(base+pages(11)), a)
	assert.Equal(t, pa, backing(m, a), "the page moved")
	assert.Equal(t, []vmaSpan{{base + pages(10), base + pages(14), rw}}, spans(m), "equal neighbours merge")
	assert.Equal(t, 2, m.ResidentPages(), "the 3 replaced pages are freed")
	got := make([]byte, pages(4))
	_, err = m.CopyIn(base+pages(10), got)
	require.NoError(t, err)
	want := make([]byte, pages(4))
	copy(want, fill(int(pages(1)), 1))
	copy(want[pages(1):], "moved")
	assert.Equal(t, want, got)
	mustCheck(t, m)
}

func TestMremapErrors(t *testing.T) {
	m, _, _ := newTestMM(t)
	mmapAnon(t, m, base, pages(4), rw, true)
	mmapAnon(t, m, base+pages(4), pages(1), ro, true)
	want := spans(m)
	for _, c := range []struct {
		name                string
		old, oldLen, newLen uintptr
		flags               int
		newAddr             uintptr
		err                 error
	}{
		{"unaligned", base + 1, pageSize, pageSize, 0, 0, EINVAL},
		{"unknown flag", base, pageSize, pageSize, 8, 0, EINVAL},
		{"fixed without maymove", base, pageSize, pageSize, mremapFixed, base + pages(20), EINVAL},
		{"dontunmap", base, pageSize, pageSize, mremapMayMove | mremapDontUnmap, 0, EINVAL},
		{"zero new length", base, pageSize, 0, 0, 0, EINVAL},
		{"not mapped", base + pages(20), pageSize, pageSize, 0, 0, EFAULT},
		{"range beyond the VMA", base, pages(5), pages(6), mremapMayMove, 0, EFAULT},
		{"old length wraps", base, ^uintptr(0) - pages(2), pageSize, 0, 0, EFAULT},
		{"new length wraps", base, pages(4), ^uintptr(0) - pages(2), mremapMayMove, 0, ENOMEM},
		{"new length past UserEnd", base, pages(4), UserEnd, mremapMayMove, 0, ENOMEM},
		{"fixed overlapping", base, pages(2), pages(2), mremapMayMove | mremapFixed, base + pages(1), EINVAL},
		{"fixed unaligned", base, pages(2), pages(2), mremapMayMove | mremapFixed, base + pages(20) + 1, EINVAL},
		{"fixed below mmap_min_addr", base, pages(2), pages(2), mremapMayMove | mremapFixed, 0, EINVAL},
		{"fixed past UserEnd", base, pages(2), pages(2), mremapMayMove | mremapFixed, UserEnd - pageSize, EINVAL},
		{"fixed new length wraps", base, pages(2), ^uintptr(0) - pages(2), mremapMayMove | mremapFixed, base + pages(20), EINVAL},
	} {
		_, err := m.Mremap(c.old, c.oldLen, c.newLen, c.flags, c.newAddr)
		assert.ErrorIs(t, err, c.err, c.name)
		assert.Equal(t, want, spans(m), "%s: VMAs changed", c.name)
		if err := checkInvariants(m); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
	}
}

func TestMremapProtNone(t *testing.T) {
	m, _, _ := newTestMM(t)
	mmapAnon(t, m, base, pages(2), rw, true)
	mmapAnon(t, m, base+pages(2), pages(1), ro, true)
	_, err := m.CopyOut(base, []byte("hidden"))
	require.NoError(t, err)
	require.NoError(t, m.Mprotect(base, pages(2), 0))
	a, err := m.Mremap(base, pages(2), pages(4), mremapMayMove, 0)
	require.NoError(t, err)
	_, _, ok := lookupPT(m, a)
	assert.False(t, ok)
	mustCheck(t, m)
	require.NoError(t, m.Mprotect(a, pages(4), ro))
	got := make([]byte, 6)
	_, err = m.CopyIn(a, got)
	require.NoError(t, err)
	assert.Equal(t, "hidden", string(got))
}

// ---- brk ----

func TestBrk(t *testing.T) {
	m, _, mem := newTestMM(t)
	const start = 0x600000
	m.brkStart, m.brk = start, start
	assert.Equal(t, uintptr(start), m.Brk(0), "brk(0) reports the break")
	assert.Equal(t, uintptr(start), m.Brk(start-1), "below the start: unchanged")

	top := uintptr(start + pages(3) + 10)
	assert.Equal(t, top, m.Brk(top))
	vs := m.VMAs()
	require.Len(t, vs, 1)
	assert.Equal(t, VMA{Start: start, End: start + pages(4), Prot: rw, MaxProt: rwx, Name: "[heap]"}, vs[0])
	_, err := m.CopyOut(start, fill(int(pages(4)), 6))
	require.NoError(t, err)

	// Growing within the same page adds nothing; growing further extends
	// the one heap VMA.
	assert.Equal(t, top+5, m.Brk(top+5))
	assert.Len(t, m.VMAs(), 1)
	assert.Equal(t, uintptr(start+pages(6)), m.Brk(start+pages(6)))
	assert.Equal(t, []vmaSpan{{start, start + pages(6), rw}}, spans(m))

	// Shrinking frees the pages above the new break.
	before := used(mem)
	assert.Equal(t, uintptr(start+pages(1)+1), m.Brk(start+pages(1)+1))
	assert.Equal(t, []vmaSpan{{start, start + pages(2), rw}}, spans(m))
	assert.Equal(t, before-pages(2), used(mem))
	got := make([]byte, pages(2))
	_, err = m.CopyIn(start, got)
	require.NoError(t, err)
	assert.Equal(t, fill(int(pages(4)), 6)[:pages(2)], got)
	_, err = m.CopyIn(start+pages(2), got[:1])
	assert.ErrorIs(t, err, EFAULT)

	// Growing into another mapping fails and keeps the break.
	mmapAnon(t, m, start+pages(4), pageSize, ro, true)
	cur := m.Brk(0)
	assert.Equal(t, cur, m.Brk(start+pages(8)))
	assert.Equal(t, cur, m.Brk(start+(1<<41)), "absurdly large")
	assert.Equal(t, uintptr(start), m.Brk(start))
	assert.Equal(t, []vmaSpan{{start + pages(4), start + pages(5), ro}}, spans(m))
	mustCheck(t, m)
}

func TestBrkNotPastUserEnd(t *testing.T) {
	m, _, _ := newTestMM(t)
	start := uintptr(UserEnd - pages(4))
	m.brkStart, m.brk = start, start
	assert.Equal(t, start+pages(4), m.Brk(start+pages(4)))
	assert.Equal(t, start+pages(4), m.Brk(start+pages(5)), "past UserEnd: unchanged")
	mustCheck(t, m)
}
