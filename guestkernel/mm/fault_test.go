package mm

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"ringbox/guestkernel/memfile"
)

func TestHandleFaultUnmapped(t *testing.T) {
	m, _, _ := newTestMM(t)
	mmapAnon(t, m, base, pages(2), rw, true)
	for _, addr := range []uintptr{0, MinAddr, base - 1, base + pages(2), UserEnd - 1, UserEnd, UserEnd + pageSize, 1 << 47, ^uintptr(0)} {
		for _, acc := range [][2]bool{{false, false}, {true, false}, {false, true}} {
			res, code, err := m.HandleFault(addr, acc[0], acc[1])
			require.NoError(t, err)
			assert.Equal(t, FaultSIGSEGV, res, "%#x", addr)
			assert.Equal(t, segvMapErr, code, "%#x: SEGV_MAPERR", addr)
		}
	}
	assert.Zero(t, m.ResidentPages())
}

func TestHandleFaultAccessErrors(t *testing.T) {
	m, _, _ := newTestMM(t)
	mmapAnon(t, m, base, pageSize, ro, true)
	mmapAnon(t, m, base+pages(1), pageSize, rw, true)
	mmapAnon(t, m, base+pages(2), pageSize, 0, true)
	mmapAnon(t, m, base+pages(3), pageSize, rx, true)
	for _, c := range []struct {
		addr        uintptr
		write, exec bool
		ok          bool
	}{
		{base, false, false, true},
		{base + 5, true, false, false},
		{base, false, true, false},
		{base + pages(1), true, false, true},
		{base + pages(1), false, true, false},
		{base + pages(2), false, false, false},
		{base + pages(2), true, false, false},
		{base + pages(3), false, true, true},
		{base + pages(3), true, false, false},
	} {
		res, code, err := m.HandleFault(c.addr, c.write, c.exec)
		require.NoError(t, err)
		if c.ok {
			assert.Equal(t, FaultHandled, res, "%#x w=%v x=%v", c.addr, c.write, c.exec)
			assert.Zero(t, code)
			_, _, mapped := lookupPT(m, c.addr)
			assert.True(t, mapped)
		} else {
			assert.Equal(t, FaultSIGSEGV, res, "%#x w=%v x=%v", c.addr, c.write, c.exec)
			assert.Equal(t, segvAccErr, code, "%#x: SEGV_ACCERR", c.addr)
		}
	}
	assert.Empty(t, populated(m, base+pages(2), base+pages(3)), "a refused fault populates nothing")
	mustCheck(t, m)
}

func TestHandleFaultFaultAround(t *testing.T) {
	m, _, mem := newTestMM(t)
	mmapAnon(t, m, base, pages(40), rw, true)
	res, _, err := m.HandleFault(base+pages(3)+17, false, false)
	require.NoError(t, err)
	require.Equal(t, FaultHandled, res)
	want := []uintptr{}
	for i := 3; i < 3+faultAround; i++ {
		want = append(want, base+pages(i))
	}
	assert.Equal(t, want, populated(m, 0, UserEnd), "the faulting page and the next 15")
	for _, va := range want {
		pa, o, ok := lookupPT(m, va)
		require.True(t, ok)
		assert.Equal(t, backing(m, va), pa)
		assert.True(t, o.Write)
		assert.False(t, o.Exec)
		assert.Equal(t, make([]byte, pageSize), memfile.Page(pa), "zeroed")
	}
	assert.Equal(t, pages(faultAround+m.pt.Pages()), used(mem))

	// Near the end of the VMA: up to its end only.
	_, _, err = m.HandleFault(base+pages(38), true, false)
	require.NoError(t, err)
	assert.Equal(t, []uintptr{base + pages(38), base + pages(39)}, populated(m, base+pages(19), UserEnd))

	// Already populated pages are not replaced.
	pa := backing(m, base+pages(5))
	_, err = m.CopyOut(base+pages(5), []byte("x"))
	require.NoError(t, err)
	_, _, err = m.HandleFault(base+pages(2), false, false)
	require.NoError(t, err)
	assert.Equal(t, pa, backing(m, base+pages(5)))
	got := make([]byte, 1)
	_, err = m.CopyIn(base+pages(5), got)
	require.NoError(t, err)
	assert.Equal(t, "x", string(got))
	mustCheck(t, m)
}

func TestHandleFaultStackGrowsDown(t *testing.T) {
	m, _, _ := newTestMM(t)
	_, err := m.Mmap(MmapOpts{Addr: base, Len: pages(40), Prot: rw, Fixed: true, GrowsDown: true, Name: "[stack]"})
	require.NoError(t, err)
	_, _, err = m.HandleFault(base+pages(30)+100, true, false)
	require.NoError(t, err)
	want := []uintptr{}
	for i := 30 - faultAround + 1; i <= 30; i++ {
		want = append(want, base+pages(i))
	}
	assert.Equal(t, want, populated(m, 0, UserEnd), "the faulting page and the 15 below")

	// Near the bottom: down to the start only.
	_, _, err = m.HandleFault(base+pages(2), true, false)
	require.NoError(t, err)
	assert.Equal(t, []uintptr{base, base + pages(1), base + pages(2)}, populated(m, 0, base+pages(10)))
	mustCheck(t, m)
}

func TestHandleFaultRemapsLaggingTables(t *testing.T) {
	m, as, _ := newTestMM(t)
	mmapAnon(t, m, base, pages(1), rw, true)
	_, err := m.CopyOut(base, []byte("kept"))
	require.NoError(t, err)
	pa := backing(m, base)
	// The tables lose the entry (as if never mapped); the page map keeps it.
	m.mu.Lock()
	m.pt.Unmap(base, pageSize)
	m.mu.Unlock()
	inv := as.invalidations
	res, _, err := m.HandleFault(base, true, false)
	require.NoError(t, err)
	assert.Equal(t, FaultHandled, res)
	got, o, ok := lookupPT(m, base)
	require.True(t, ok)
	assert.Equal(t, pa, got, "the same page comes back")
	assert.True(t, o.Write)
	assert.Greater(t, as.invalidations, inv)
	assert.Equal(t, "kept", string(memfile.Page(pa)[:4]))
	mustCheck(t, m)
}

// ---- memory limit ----

// exhaust takes every free page of mem but keep and returns a function that
// gives them back.
func exhaust(t *testing.T, mem *memfile.File, keep int) func() {
	t.Helper()
	var taken []uintptr
	for {
		p, err := mem.Alloc()
		if err != nil {
			require.ErrorIs(t, err, memfile.ErrNoMemory)
			break
		}
		taken = append(taken, p)
	}
	require.GreaterOrEqual(t, len(taken), keep)
	for _, p := range taken[len(taken)-keep:] {
		mem.Free(p)
	}
	taken = taken[:len(taken)-keep]
	released := false
	release := func() {
		if released {
			return
		}
		released = true
		for _, p := range taken {
			mem.Free(p)
		}
	}
	t.Cleanup(release)
	return release
}

func TestOutOfMemory(t *testing.T) {
	m, _, mem := newTestMM(t)
	mmapAnon(t, m, base, pages(64), rw, true)
	_, _, err := m.HandleFault(base, true, false) // tables now exist
	require.NoError(t, err)
	release := exhaust(t, mem, 0)

	res, _, err := m.HandleFault(base+pages(32), true, false)
	assert.ErrorIs(t, err, ErrOutOfMemory, "a fault past the limit kills the task")
	assert.Equal(t, FaultSIGSEGV, res)
	n, err := m.CopyOut(base+pages(32), []byte("x"))
	assert.ErrorIs(t, err, ErrOutOfMemory)
	assert.Zero(t, n)
	_, err = m.ZeroOut(base+pages(40), 10)
	assert.ErrorIs(t, err, ErrOutOfMemory)
	_, err = m.Mmap(MmapOpts{Addr: base + pages(100), Len: pages(4), Prot: rw, Fixed: true, Populate: true})
	assert.ErrorIs(t, err, ENOMEM)
	_, ok := m.vmas.lookup(base + pages(100))
	assert.False(t, ok, "a failed MAP_POPULATE leaves no mapping")
	release()
	mustCheck(t, m)

	// With memory back, the same accesses work.
	_, err = m.CopyOut(base+pages(32), []byte("x"))
	assert.NoError(t, err)
	mustCheck(t, m)
}

// When the page itself can be allocated but a page-table page for it
// cannot, the error must still be ErrOutOfMemory (the kernel kills the task
// for it) and not a raw memory-file error (which it treats as a sandbox
// failure).
func TestOutOfMemoryForPageTables(t *testing.T) {
	m, _, _ := newTestMM(t)
	mmapAnon(t, m, base, pages(4), rw, true)
	release := exhaust(t, m.mem, 1) // the data page; the PDPT, PD and PT pages fail

	res, _, err := m.HandleFault(base, true, false)
	assert.ErrorIs(t, err, ErrOutOfMemory)
	assert.Equal(t, FaultSIGSEGV, res)
	_, err = m.CopyOut(base+pages(1), []byte("x"))
	assert.True(t, errors.Is(err, ErrOutOfMemory), "got %v", err)
	release()
	mustCheck(t, m)
	res, _, err = m.HandleFault(base, true, false)
	require.NoError(t, err)
	assert.Equal(t, FaultHandled, res)
	_, _, ok := lookupPT(m, base)
	assert.True(t, ok)
}

func TestMmapPopulatePastLimit(t *testing.T) {
	m, _, mem := newTestMM(t)
	_, err := m.Mmap(MmapOpts{Addr: base, Len: memfile.ChunkSize, Prot: rw, Fixed: true, Populate: true})
	assert.ErrorIs(t, err, ENOMEM)
	assert.Empty(t, m.VMAs())
	assert.Zero(t, m.ResidentPages())
	assert.Equal(t, pages(m.pt.Pages()), used(mem), "every page given back")
	mustCheck(t, m)
	// Lazily, the same mapping is fine.
	_, err = m.Mmap(MmapOpts{Addr: base, Len: memfile.ChunkSize, Prot: rw, Fixed: true})
	assert.NoError(t, err)
}

// mapFile maps vmaPages pages of pager from file page off at base, with
// prot, privately.
func mapFile(t *testing.T, m *MM, pager Pager, vmaPages int, prot int, off int64) uintptr {
	t.Helper()
	a, err := m.Mmap(MmapOpts{Addr: base, Len: pages(vmaPages), Prot: prot, Fixed: true, Name: "/lib/x.so", Pager: pager, PagerOff: off})
	require.NoError(t, err)
	return a
}

// mustFault takes a fault at addr and requires the result want; it
// returns the fault's code.
func mustFault(t *testing.T, m *MM, addr uintptr, write bool, want FaultResult) int {
	t.Helper()
	res, code, err := m.HandleFault(addr, write, false)
	require.NoError(t, err)
	require.Equal(t, want, res)
	return code
}

// cachedFile is a testFile that reports which of its pages it holds
// (mm.CachedPager).
type cachedFile struct{ testFile }

func (f *cachedFile) CachedPage(idx int64) uintptr {
	if idx < 0 || idx >= int64(len(f.pages)) {
		return 0
	}
	return f.pages[idx]
}

// TestFaultMapsCachedPages: a fault in a file mapping also maps the pages
// the file holds in the aligned window around it (copy-on-write in a
// private mapping), and none that it would have to read.
func TestFaultMapsCachedPages(t *testing.T) {
	m, _, mem := newTestMM(t)
	n := 2 * cachedAround
	f := &cachedFile{testFile{mem: mem, pages: make([]uintptr, n)}}
	t.Cleanup(f.close)
	// The file holds pages 40 and 60 (and, after the fault, the first
	// faultAround ones from 20), not 10 or the second window's.
	for _, i := range []int64{40, 60, int64(cachedAround) + 5} {
		_, err := f.PageAddr(i)
		require.NoError(t, err)
	}
	held := f.held()
	a := mapFile(t, m, f, n, ProtRead, 0)
	mustFault(t, m, a+pages(20), false, FaultHandled)
	assert.Equal(t, f.pages[40], backing(m, a+pages(40)), "a held page in the window")
	assert.Equal(t, f.pages[60], backing(m, a+pages(60)))
	assert.Zero(t, backing(m, a+pages(10)), "a page the file does not hold")
	assert.Zero(t, backing(m, a+pages(cachedAround+5)), "a held page outside the window")
	for i := 20; i < 20+faultAround; i++ {
		assert.NotZero(t, backing(m, a+pages(i)), "fault-around page %d", i)
	}
	assert.Equal(t, 2, mem.Refs(held[0]), "the file and the mapping")
	// Private: a write copies the page, and the file's stays.
	require.NoError(t, m.Mprotect(a, pages(n), rw))
	write(t, m, a+pages(40), "mine")
	assert.NotEqual(t, f.pages[40], backing(m, a+pages(40)))
	assert.Equal(t, 1, mem.Refs(held[0]), "only the file's again")
	require.NoError(t, m.Munmap(a, pages(n)))
	f.close()
	mustCheck(t, m)
}

// TestFaultOwnsSmallFileData: the first write fault in a small private
// file mapping (a library's data, relocated page by page) maps it whole
// and copies every page at once; the file's pages stay as they were.
func TestFaultOwnsSmallFileData(t *testing.T) {
	m, _, mem := newTestMM(t)
	f := &testFile{mem: mem, pages: make([]uintptr, 6)}
	t.Cleanup(f.close)
	a := mapFile(t, m, f, 6, rw, 0)
	mustFault(t, m, a+pages(4)+8, true, FaultHandled)
	for i := 0; i < 6; i++ {
		pa, o, ok := m.pt.Lookup(a + pages(i))
		require.True(t, ok, "page %d mapped", i)
		assert.True(t, o.Write, "page %d is the mapping's own, writable", i)
		assert.NotEqual(t, f.pages[i], pa, "page %d is a copy", i)
		assert.Equal(t, 1, mem.Refs(f.pages[i]), "page %d: only the file holds its own", i)
	}
	write(t, m, a, "relocated")
	assert.Equal(t, "relocated", string(read(t, m, a, 9)))
	require.NoError(t, m.Munmap(a, pages(6)))
	f.close()
	mustCheck(t, m)
}

// TestFaultSmallVMAPastEnd: in a small file mapping that runs past the end
// of its file, a fault maps the faulting page whatever lies before it,
// and a page past the end is SIGBUS (a fault that mapped nothing there
// would loop).
func TestFaultSmallVMAPastEnd(t *testing.T) {
	m, _, mem := newTestMM(t)
	f := &testFile{mem: mem, pages: make([]uintptr, 2)}
	t.Cleanup(f.close)
	a := mapFile(t, m, f, 4, ProtRead, 1)
	mustFault(t, m, a+8, false, FaultHandled)
	_, _, ok := m.pt.Lookup(a)
	assert.True(t, ok, "the file's last page")
	assert.Equal(t, busAdrErr, mustFault(t, m, a+pages(2), false, FaultSIGBUS), "past the end")
	mustFault(t, m, a+pages(3)+8, true, FaultSIGSEGV) // a write to a read-only mapping
	require.NoError(t, m.Munmap(a, pages(4)))
	f.close()
	mustCheck(t, m)
}
