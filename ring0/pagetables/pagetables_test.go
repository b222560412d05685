package pagetables

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	mib = uintptr(1) << 20
	gib = uintptr(1) << 30
)

var (
	rwx  = Opts{Write: true, Exec: true}
	ro   = Opts{}
	rwU  = Opts{Write: true, User: true}
	rxUG = Opts{Exec: true, User: true, Global: true}
)

func newTables(t *testing.T) (*Tables, *testAlloc) {
	t.Helper()
	a := newTestAlloc(t, 4096)
	pt, err := New(a)
	require.NoError(t, err)
	return pt, a
}

// path returns the raw entries walked to translate va, root first, ending
// with the leaf (or the first non-present entry).
func path(pt *Tables, va uintptr) []uint64 {
	var es []uint64
	tbl := pt.Root()
	for level := rootLevel; level >= 0; level-- {
		e := load(tbl, index(va, level))
		es = append(es, e)
		if !isTable(e, level) {
			break
		}
		tbl = tableAddr(e)
	}
	return es
}

type leaf struct {
	va, pa, size uintptr
	o            Opts
}

func visitAll(pt *Tables, start, end uintptr) []leaf {
	var ls []leaf
	pt.Visit(start, end, func(va, pa, size uintptr, o Opts) bool {
		ls = append(ls, leaf{va, pa, size, o})
		return true
	})
	return ls
}

func TestMapLookup4K(t *testing.T) {
	pt, _ := newTables(t)
	va, pa := uintptr(0x40_0000), uintptr(0x1234_5000)
	flush, err := pt.Map(va, pa, 3*PageSize, rwU)
	require.NoError(t, err)
	assert.False(t, flush)

	for i := uintptr(0); i < 3; i++ {
		got, o, ok := pt.Lookup(va + i*PageSize + 0x123)
		require.True(t, ok)
		assert.Equal(t, pa+i*PageSize+0x123, got)
		assert.Equal(t, rwU, o)
		e, size, ok := pt.LeafEntry(va + i*PageSize)
		require.True(t, ok)
		assert.Equal(t, uintptr(PageSize), size)
		assert.Zero(t, e&EntryHuge)
	}
	_, _, ok := pt.Lookup(va - PageSize)
	assert.False(t, ok)
	_, _, ok = pt.Lookup(va + 3*PageSize)
	assert.False(t, ok)
	_, _, ok = pt.Lookup(0x0000_9000_0000_0000)
	assert.False(t, ok, "non-canonical")
	// root, PDPT, PD and PT: four pages plus nothing else.
	assert.Equal(t, 4, pt.Pages())
}

func TestMapHuge(t *testing.T) {
	pt, _ := newTables(t)
	va, pa := uintptr(0x4000_0000), uintptr(0x8020_0000)
	_, err := pt.MapHuge(va, pa, 4*mib, rxUG)
	require.NoError(t, err)
	for _, off := range []uintptr{0, 0x1000, 2*mib - 8, 2 * mib, 4*mib - 1} {
		got, o, ok := pt.Lookup(va + off)
		require.True(t, ok)
		assert.Equal(t, pa+off, got)
		assert.Equal(t, rxUG, o)
		e, size, ok := pt.LeafEntry(va + off)
		require.True(t, ok)
		assert.Equal(t, uintptr(HugePageSize), size)
		assert.NotZero(t, e&EntryHuge)
	}
	assert.Equal(t, 3, pt.Pages(), "root, PDPT, PD; no PT")
	assert.Equal(t, []leaf{{va, pa, 2 * mib, rxUG}, {va + 2*mib, pa + 2*mib, 2 * mib, rxUG}},
		visitAll(pt, 0, 0))

	// pa not 2 MiB aligned: 4 KiB leaves.
	_, err = pt.MapHuge(va+8*mib, pa+PageSize, 2*mib, rwx)
	require.NoError(t, err)
	_, size, _ := pt.LeafEntry(va + 8*mib)
	assert.Equal(t, uintptr(PageSize), size)
	got, _, _ := pt.Lookup(va + 10*mib - 1)
	assert.Equal(t, pa+PageSize+2*mib-1, got)

	// Unaligned head and tail get 4 KiB leaves, the aligned middle 2 MiB.
	_, err = pt.MapHuge(va+16*mib-PageSize, pa+16*mib-PageSize, 2*mib+2*PageSize, rwx)
	require.NoError(t, err)
	_, size, _ = pt.LeafEntry(va + 16*mib - PageSize)
	assert.Equal(t, uintptr(PageSize), size)
	_, size, _ = pt.LeafEntry(va + 16*mib)
	assert.Equal(t, uintptr(HugePageSize), size)
	_, size, _ = pt.LeafEntry(va + 18*mib)
	assert.Equal(t, uintptr(PageSize), size)

	// Plain Map never uses 2 MiB leaves.
	_, err = pt.Map(va+32*mib, pa, 2*mib, rwx)
	require.NoError(t, err)
	_, size, _ = pt.LeafEntry(va + 32*mib)
	assert.Equal(t, uintptr(PageSize), size)
}

func TestReplace(t *testing.T) {
	pt, _ := newTables(t)
	va := uintptr(0x7f00_0000_0000)
	flush, err := pt.Map(va, 0x1000, PageSize, rwx)
	require.NoError(t, err)
	assert.False(t, flush, "new mapping")

	flush, err = pt.Map(va, 0x1000, PageSize, rwx)
	require.NoError(t, err)
	assert.False(t, flush, "identical mapping")

	flush, err = pt.Map(va, 0x2000, PageSize, rwx)
	require.NoError(t, err)
	assert.True(t, flush, "new pa")
	got, _, _ := pt.Lookup(va)
	assert.Equal(t, uintptr(0x2000), got)

	flush, err = pt.Map(va, 0x2000, PageSize, ro)
	require.NoError(t, err)
	assert.True(t, flush, "new opts")
	_, o, _ := pt.Lookup(va)
	assert.Equal(t, ro, o)

	// Accessed/dirty bits set by the CPU do not count as a change.
	es := path(pt, va)
	tbl := tableAddr(es[2])
	store(tbl, index(va, 0), es[3]|EntryAccessed|EntryDirty)
	flush, err = pt.Map(va, 0x2000, PageSize, ro)
	require.NoError(t, err)
	assert.False(t, flush)

	// A 2 MiB leaf over a table of 4 KiB leaves frees the table.
	pages := pt.Pages()
	flush, err = pt.MapHuge(va, 0x20_0000, 2*mib, rwx)
	require.NoError(t, err)
	assert.True(t, flush)
	assert.Equal(t, pages-1, pt.Pages())
	got, _, _ = pt.Lookup(va + 0x3456)
	assert.Equal(t, uintptr(0x20_3456), got)

	// 4 KiB mapping inside a 2 MiB leaf splits it.
	flush, err = pt.Map(va+PageSize, 0x9000, PageSize, ro)
	require.NoError(t, err)
	assert.True(t, flush)
	assert.Equal(t, pages, pt.Pages())
	got, o, _ = pt.Lookup(va + PageSize)
	assert.Equal(t, uintptr(0x9000), got)
	assert.Equal(t, ro, o)
	got, o, _ = pt.Lookup(va + 2*PageSize)
	assert.Equal(t, uintptr(0x20_2000), got)
	assert.Equal(t, rwx, o)
	assert.Len(t, visitAll(pt, va, va+2*mib), 512)
}

func TestUnmapSplitsHuge(t *testing.T) {
	pt, a := newTables(t)
	va, pa := uintptr(0x20_0000), uintptr(0x4000_0000)
	_, err := pt.MapHuge(va, pa, 2*mib, rwU)
	require.NoError(t, err)
	assert.Equal(t, 3, pt.Pages())

	flush := pt.Unmap(va+5*PageSize, 2*PageSize)
	assert.True(t, flush)
	assert.Equal(t, 4, pt.Pages(), "PT added by the split")
	for i := uintptr(0); i < 512; i++ {
		got, o, ok := pt.Lookup(va + i*PageSize)
		if i == 5 || i == 6 {
			assert.False(t, ok, "page %d", i)
			continue
		}
		require.True(t, ok, "page %d", i)
		assert.Equal(t, pa+i*PageSize, got)
		assert.Equal(t, rwU, o)
	}
	ls := visitAll(pt, 0, 0)
	assert.Len(t, ls, 510)
	for _, l := range ls {
		assert.Equal(t, uintptr(PageSize), l.size)
	}

	// Unmapping an absent range changes nothing.
	assert.False(t, pt.Unmap(va+5*PageSize, PageSize))
	assert.False(t, pt.Unmap(0x7000_0000_0000, 4*gib))

	// Unmapping the rest frees PT, PD and PDPT.
	assert.True(t, pt.Unmap(va, 2*mib))
	assert.Equal(t, 1, pt.Pages())
	assert.Equal(t, 1, a.outstanding())
	assert.Empty(t, visitAll(pt, 0, 0))

	// A fully covered 2 MiB leaf is removed without a split.
	_, err = pt.MapHuge(va, pa, 4*mib, rwU)
	require.NoError(t, err)
	allocs := a.allocs
	assert.True(t, pt.Unmap(va, 2*mib))
	assert.Equal(t, allocs, a.allocs)
	_, _, ok := pt.Lookup(va + 2*mib)
	assert.True(t, ok)
	_, _, ok = pt.Lookup(va)
	assert.False(t, ok)
}

func TestProtect(t *testing.T) {
	pt, _ := newTables(t)
	va := uintptr(0x60_0000)
	_, err := pt.Map(va, 0x10_0000, 4*PageSize, rwx)
	require.NoError(t, err)

	// Only present entries change: the hole stays a hole.
	pt.Unmap(va+PageSize, PageSize)
	flush := pt.Protect(va, 4*PageSize, ro)
	assert.True(t, flush)
	for i := uintptr(0); i < 4; i++ {
		got, o, ok := pt.Lookup(va + i*PageSize)
		if i == 1 {
			assert.False(t, ok)
			continue
		}
		require.True(t, ok)
		assert.Equal(t, 0x10_0000+i*PageSize, got)
		assert.Equal(t, ro, o)
	}
	assert.False(t, pt.Protect(va, 4*PageSize, ro), "no change")
	assert.False(t, pt.Protect(0x1_0000_0000, 2*mib, rwx), "nothing mapped")

	// Partial protect of a 2 MiB leaf splits it; a no-op one does not.
	hva := uintptr(0x4000_0000)
	_, err = pt.MapHuge(hva, 0x20_0000, 2*mib, rwx)
	require.NoError(t, err)
	pages := pt.Pages()
	assert.False(t, pt.Protect(hva+PageSize, PageSize, rwx))
	assert.Equal(t, pages, pt.Pages())
	assert.True(t, pt.Protect(hva+PageSize, PageSize, rwU))
	assert.Equal(t, pages+1, pt.Pages())
	_, o, _ := pt.Lookup(hva + PageSize)
	assert.Equal(t, rwU, o)
	_, o, _ = pt.Lookup(hva)
	assert.Equal(t, rwx, o)
	_, o, _ = pt.Lookup(hva + 2*PageSize)
	assert.Equal(t, rwx, o)

	// A fully covered 2 MiB leaf keeps its size.
	_, err = pt.MapHuge(hva+2*mib, 0x40_0000, 2*mib, rwx)
	require.NoError(t, err)
	assert.True(t, pt.Protect(hva+2*mib, 2*mib, ro))
	e, size, _ := pt.LeafEntry(hva + 2*mib)
	assert.Equal(t, uintptr(HugePageSize), size)
	assert.Equal(t, ro, OptsOf(e))
}

func TestVisitOrder(t *testing.T) {
	pt, _ := newTables(t)
	maps := []leaf{
		{0xffff_ffff_8000_0000, 0x100_0000, 2 * mib, rxUG},
		{0x1000, 0x5000, PageSize, rwU},
		{0xffff_8000_0000_0000, 0x7000, PageSize, ro},
		{0x7fff_ffff_f000, 0x8000, PageSize, rwx},
		{0x20_0000, 0x40_0000, 2 * mib, rwx},
		{0xffff_ffff_ffff_f000, 0x9000, PageSize, rwx},
	}
	for _, m := range maps {
		_, err := pt.MapHuge(m.va, m.pa, m.size, m.o)
		require.NoError(t, err)
	}
	want := []leaf{maps[1], maps[4], maps[3], maps[2], maps[0], maps[5]}
	assert.Equal(t, want, visitAll(pt, 0, 0))

	// A leaf partly in the range is reported whole.
	assert.Equal(t, []leaf{maps[4]}, visitAll(pt, 0x30_0000, 0x30_1000))
	assert.Equal(t, []leaf{maps[1], maps[4]}, visitAll(pt, 0x1000, 0x20_0001))
	assert.Equal(t, want[2:5], visitAll(pt, 0x7fff_ffff_f000, 0xffff_ffff_8000_1000))
	assert.Empty(t, visitAll(pt, 0x2000, 0x20_0000))
	assert.Empty(t, visitAll(pt, 0x20_0000, 0x20_0000))

	// Early stop.
	var n int
	pt.Visit(0, 0, func(va, pa, size uintptr, o Opts) bool {
		n++
		return n < 3
	})
	assert.Equal(t, 3, n)
}

func TestRawBits(t *testing.T) {
	pt, _ := newTables(t)
	va := uintptr(0x1000_0000)
	_, err := pt.Map(va, 0x3000, PageSize, ro)
	require.NoError(t, err)
	_, err = pt.Map(va+PageSize, 0x4000, PageSize, rxUG)
	require.NoError(t, err)
	_, err = pt.MapHuge(va+2*mib, 0xfff_ffff_e0_0000, 2*mib, rwx)
	require.NoError(t, err)

	es := path(pt, va)
	require.Len(t, es, 4)
	for _, e := range es[:3] {
		assert.Equal(t, IntermediateFlags, e&^AddrMask, "intermediate %#x", e)
	}
	// New leaves start accessed, and dirty when writable (leafFlags).
	assert.Equal(t, uint64(0x3000)|EntryPresent|EntryAccessed|EntryNX, es[3])

	es = path(pt, va+PageSize)
	assert.Equal(t, uint64(0x4000)|EntryPresent|EntryAccessed|EntryUser|EntryGlobal, es[3])

	es = path(pt, va+2*mib)
	require.Len(t, es, 3)
	assert.Equal(t, uint64(0xfff_ffff_e0_0000)|EntryPresent|EntryAccessed|EntryWrite|EntryDirty|EntryHuge, es[2])
	got, _, _ := pt.Lookup(va + 4*mib - 1)
	assert.Equal(t, uintptr(MaxPhys-1), got)
}

func TestAlwaysUser(t *testing.T) {
	pt, _ := newTables(t)
	pt.AlwaysUser = true
	_, err := pt.Map(0xffff_ffff_8000_0000, 0x1000, PageSize, ro)
	require.NoError(t, err)
	_, err = pt.MapHuge(0xffff_ffff_8020_0000, 0x20_0000, 2*mib, rwx)
	require.NoError(t, err)
	for _, va := range []uintptr{0xffff_ffff_8000_0000, 0xffff_ffff_8020_0000} {
		for _, e := range path(pt, va) {
			assert.NotZero(t, e&EntryUser, "entry %#x for %#x", e, va)
		}
	}
	pt.Protect(0xffff_ffff_8000_0000, PageSize, rwx)
	pt.Protect(0xffff_ffff_8020_0000, PageSize, ro) // split
	for _, va := range []uintptr{0xffff_ffff_8000_0000, 0xffff_ffff_8020_0000, 0xffff_ffff_8020_1000} {
		_, o, ok := pt.Lookup(va)
		require.True(t, ok)
		assert.True(t, o.User)
		for _, e := range path(pt, va) {
			assert.NotZero(t, e&EntryUser, "entry %#x for %#x", e, va)
		}
	}
}

func TestErrors(t *testing.T) {
	pt, a := newTables(t)
	cases := []struct {
		name         string
		va, pa, size uintptr
		err          error
	}{
		{"va misaligned", 0x1001, 0, PageSize, ErrMisaligned},
		{"pa misaligned", 0x1000, 0x10, PageSize, ErrMisaligned},
		{"size misaligned", 0x1000, 0, 0x800, ErrMisaligned},
		{"va non-canonical", 0x0000_8000_0000_0000, 0, PageSize, ErrNonCanonical},
		{"va non-canonical high", 0xffff_7fff_ffff_f000, 0, PageSize, ErrNonCanonical},
		{"crosses into hole", 0x7fff_ffff_f000, 0, 2 * PageSize, ErrNonCanonical},
		{"wraps", 0xffff_ffff_ffff_f000, 0, 2 * PageSize, ErrNonCanonical},
		{"pa beyond 52 bits", 0x1000, MaxPhys, PageSize, ErrPhysRange},
		{"pa end beyond 52 bits", 0x1000, MaxPhys - PageSize, 2 * PageSize, ErrPhysRange},
	}
	for _, c := range cases {
		_, err := pt.Map(c.va, c.pa, c.size, rwx)
		assert.ErrorIs(t, err, c.err, c.name)
		_, err = pt.MapHuge(c.va, c.pa, c.size, rwx)
		assert.ErrorIs(t, err, c.err, c.name)
		if c.err != ErrPhysRange && c.name != "pa misaligned" {
			_, err = pt.TryUnmap(c.va, c.size)
			assert.ErrorIs(t, err, c.err, c.name)
			_, err = pt.TryProtect(c.va, c.size, rwx)
			assert.ErrorIs(t, err, c.err, c.name)
			assert.Panics(t, func() { pt.Unmap(c.va, c.size) }, c.name)
			assert.Panics(t, func() { pt.Protect(c.va, c.size, rwx) }, c.name)
		}
	}
	assert.Equal(t, 1, a.outstanding(), "no table allocated by failed calls")

	// Edges that are valid.
	_, err := pt.Map(0xffff_ffff_ffff_f000, MaxPhys-PageSize, PageSize, rwx)
	assert.NoError(t, err)
	_, err = pt.Map(0x7fff_ffff_f000, 0, PageSize, rwx)
	assert.NoError(t, err)
	flush, err := pt.Map(0x5000, 0, 0, rwx)
	assert.NoError(t, err)
	assert.False(t, flush)
}

func TestAllocFailure(t *testing.T) {
	pt, a := newTables(t)
	a.failAfter = 2 // PDPT and PD succeed, PT fails
	_, err := pt.Map(0x1000, 0x1000, PageSize, rwx)
	require.ErrorIs(t, err, errTestOOM)
	assert.Equal(t, 1, pt.Pages(), "empty tables created by the failed Map are freed")
	assert.Equal(t, 1, a.outstanding())
	_, _, ok := pt.Lookup(0x1000)
	assert.False(t, ok)

	// A failed split leaves the 2 MiB leaf intact.
	a.failAfter = -1
	_, err = pt.MapHuge(0x20_0000, 0x20_0000, 2*mib, rwx)
	require.NoError(t, err)
	a.failAfter = 0
	_, err = pt.TryUnmap(0x20_0000, PageSize)
	require.ErrorIs(t, err, errTestOOM)
	_, err = pt.TryProtect(0x20_0000, PageSize, ro)
	require.ErrorIs(t, err, errTestOOM)
	assert.Panics(t, func() { pt.Unmap(0x20_0000, PageSize) })
	e, size, ok := pt.LeafEntry(0x20_1000)
	require.True(t, ok)
	assert.Equal(t, uintptr(HugePageSize), size)
	assert.Equal(t, rwx, OptsOf(e))

	_, err = New(a)
	assert.ErrorIs(t, err, errTestOOM)
	a.failAfter = -1
	pt.Release()
	assert.Zero(t, a.outstanding())
}

func TestReleaseFreesAll(t *testing.T) {
	pt, a := newTables(t)
	for _, va := range []uintptr{0, 0x4000_0000, 0x7f_ffff_f000, 0x7fff_ffff_f000, 0xffff_8000_0000_0000, 0xffff_ffff_ffe0_0000} {
		_, err := pt.Map(va, 0x1000, PageSize, rwx)
		require.NoError(t, err)
	}
	_, err := pt.MapHuge(0x8000_0000, 0x8000_0000, 64*mib, rwx)
	require.NoError(t, err)
	require.NoError(t, pt.PreallocTop(0xffff_c000_0000_0000, 0))
	assert.Equal(t, a.outstanding(), pt.Pages())
	assert.Greater(t, a.allocs, 10)
	pt.Release()
	assert.Equal(t, a.allocs, a.frees)
	assert.Zero(t, a.outstanding())
	pt.Release() // no-op

	// A NewAt root is zeroed but not freed.
	root, err := a.AllocPage()
	require.NoError(t, err)
	pt = NewAt(a, root)
	assert.Equal(t, root, pt.Root())
	_, err = pt.MapHuge(0x4000_0000, 0, 8*mib, rwx)
	require.NoError(t, err)
	_, err = pt.Map(0xffff_ffff_8000_0000, 0, 8*mib, rwx)
	require.NoError(t, err)
	pt.Release()
	assert.Equal(t, 1, a.outstanding())
	assert.True(t, a.inUse[root])
	assert.True(t, tableEmpty(root))
}

func TestFreeEmptyIntermediates(t *testing.T) {
	pt, a := newTables(t)
	va := uintptr(0x7f12_3456_7000)
	_, err := pt.Map(va, 0x1000, 2*PageSize, rwx)
	require.NoError(t, err)
	_, err = pt.Map(va+gib, 0x1000, PageSize, rwx) // same PDPT, other PD
	require.NoError(t, err)
	assert.Equal(t, 6, pt.Pages())

	assert.True(t, pt.Unmap(va, PageSize))
	assert.Equal(t, 6, pt.Pages(), "PT still holds a page")
	assert.True(t, pt.Unmap(va+PageSize, PageSize))
	assert.Equal(t, 4, pt.Pages(), "PT and PD freed, PDPT kept")
	assert.True(t, pt.Unmap(va+gib, PageSize))
	assert.Equal(t, 1, pt.Pages())
	assert.Equal(t, 1, a.outstanding())
	assert.True(t, tableEmpty(pt.Root()))

	// A 2 MiB range unmapped a page at a time frees the split table.
	_, err = pt.MapHuge(0x20_0000, 0, 2*mib, rwx)
	require.NoError(t, err)
	for off := uintptr(0); off < 2*mib; off += PageSize {
		assert.True(t, pt.Unmap(0x20_0000+off, PageSize))
	}
	assert.Equal(t, 1, pt.Pages())
	assert.Equal(t, 1, a.outstanding())
}

func TestShareTop(t *testing.T) {
	a := newTestAlloc(t, 4096)
	kernel, err := New(a)
	require.NoError(t, err)
	kva := uintptr(0xffff_ffff_8000_0000)
	_, err = kernel.MapHuge(kva, 0x100_0000, 4*mib, rxUG)
	require.NoError(t, err)
	require.NoError(t, kernel.PreallocTop(0xffff_c000_0000_0000, 0xffff_c080_0000_0000))
	kernelPages := kernel.Pages()

	user, err := New(a)
	require.NoError(t, err)
	_, err = user.Map(0x40_0000, 0x5000, PageSize, rwU)
	require.NoError(t, err)
	// The user tables had their own subtree in a slot it now shares: freed.
	_, err = user.Map(0xffff_c000_0000_0000, 0x6000, PageSize, rwx)
	require.NoError(t, err)
	userPages := user.Pages()
	user.ShareTop(kernel, UpperHalfStart, 0)
	assert.Equal(t, userPages-3, user.Pages())

	got, o, ok := user.Lookup(kva + 0x1234)
	require.True(t, ok)
	assert.Equal(t, uintptr(0x100_1234), got)
	assert.Equal(t, rxUG, o)
	_, _, ok = user.Lookup(0xffff_c000_0000_0000)
	assert.False(t, ok)

	// Mappings the owner adds later in a shared slot are visible.
	_, err = kernel.Map(0xffff_c000_0000_0000, 0x7000, PageSize, rwx)
	require.NoError(t, err)
	got, _, ok = user.Lookup(0xffff_c000_0000_0000)
	require.True(t, ok)
	assert.Equal(t, uintptr(0x7000), got)
	assert.Len(t, visitAll(user, 0, 0), 4)

	// Shared slots are read-only through the sharer.
	_, err = user.Map(kva, 0, PageSize, rwx)
	assert.ErrorIs(t, err, ErrShared)
	_, err = user.TryUnmap(kva, PageSize)
	assert.ErrorIs(t, err, ErrShared)
	_, err = user.TryProtect(kva, PageSize, rwx)
	assert.ErrorIs(t, err, ErrShared)
	require.NoError(t, user.PreallocTop(UpperHalfStart, 0))

	// The owner keeps pinned PDPTs even when they become empty.
	kernel.Unmap(0xffff_c000_0000_0000, PageSize)
	kernel.Unmap(kva, 4*mib)
	assert.Equal(t, kernelPages-1, kernel.Pages(), "only the PD went")
	_, _, ok = user.Lookup(kva)
	assert.False(t, ok)
	_, err = kernel.Map(kva, 0x9000, PageSize, rwx)
	require.NoError(t, err)
	got, _, ok = user.Lookup(kva)
	require.True(t, ok)
	assert.Equal(t, uintptr(0x9000), got)

	// Releasing the sharer frees only its own pages.
	frees := a.frees
	userPages = user.Pages()
	user.Release()
	assert.Equal(t, frees+userPages, a.frees)
	assert.Zero(t, user.Pages())
	got, _, ok = kernel.Lookup(kva)
	require.True(t, ok)
	assert.Equal(t, uintptr(0x9000), got)

	kernel.Release()
	assert.Zero(t, a.outstanding())
	assert.Equal(t, a.allocs, a.frees)
}

// TestNoAllocs checks that editing entries in existing tables does not
// allocate Go memory.
func TestNoAllocs(t *testing.T) {
	pt, _ := newTables(t)
	va := uintptr(0x4000_0000)
	_, err := pt.Map(va, 0, 4*mib, rwx)
	require.NoError(t, err)
	n := testing.AllocsPerRun(20, func() {
		_, _ = pt.Map(va, 0x1000, 2*mib, rwU)
		pt.Protect(va, 4*mib, ro)
		pt.Unmap(va+mib, 64*PageSize)
		_, _ = pt.Map(va+mib, 0, 64*PageSize, rwx)
		pt.Lookup(va + 0x1234)
		pt.LeafEntry(va)
	})
	assert.Zero(t, n)
}

// TestReleaseKeepsSharedEntriesOfGivenRoot: a root given to NewAt may still
// be some CPU's CR3 when its Tables are released (the x86 stub runs on the
// user root's shared upper half until it loads the next one), so Release
// frees and clears the owned subtrees but leaves the shared entries.
func TestReleaseKeepsSharedEntriesOfGivenRoot(t *testing.T) {
	a := newTestAlloc(t, 64)
	kernel, err := New(a)
	require.NoError(t, err)
	kva := uintptr(0xffff_ffff_8000_0000)
	_, err = kernel.MapHuge(kva, 0x100_0000, 4*mib, rxUG)
	require.NoError(t, err)

	root, err := a.AllocPage()
	require.NoError(t, err)
	user := NewAt(a, root)
	_, err = user.Map(0x40_0000, 0x5000, PageSize, rwU)
	require.NoError(t, err)
	user.ShareTop(kernel, UpperHalfStart, 0)
	before := a.outstanding()
	user.Release()
	assert.Equal(t, before-3, a.outstanding(), "the owned PDPT, PD and PT are freed")

	view := NewAt(a, root)
	_, _, ok := view.Lookup(0x40_0000)
	assert.False(t, ok, "owned entries are cleared")
	got, _, ok := view.Lookup(kva + 0x1234)
	require.True(t, ok, "the shared upper half is still mapped through the released root")
	assert.Equal(t, uintptr(0x100_1234), got)
}
