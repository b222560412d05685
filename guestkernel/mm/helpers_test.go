package mm

import (
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"ringbox/guestkernel/memfile"
	"ringbox/guestkernel/platform"
	"ringbox/ring0/pagetables"
)

// fakePlatform makes address spaces whose page tables are plain memory-file
// pages: no KVM needed. It cannot run user code.
type fakePlatform struct {
	mem    *memfile.File
	spaces []*fakeAS
}

func (p *fakePlatform) NewAddressSpace() (platform.AddressSpace, error) {
	t, err := pagetables.New(p.mem)
	if err != nil {
		return nil, err
	}
	t.AlwaysUser = true
	as := &fakeAS{t: t}
	t.OnChange = func(uintptr) { as.changes++ }
	p.spaces = append(p.spaces, as)
	return as, nil
}

func (p *fakePlatform) NewContext() (platform.Context, error) {
	return nil, errors.New("fake platform: no contexts")
}
func (p *fakePlatform) Name() string                { return "fake" }
func (p *fakePlatform) FPLayout() platform.FPLayout { return platform.FPLayout{} }
func (p *fakePlatform) Stats() map[string]uint64    { return nil }

type fakeAS struct {
	t             *pagetables.Tables
	invalidations int // Invalidate calls
	changes       int // OnChange calls (present entries reduced)
	released      bool
}

func (a *fakeAS) Tables() *pagetables.Tables { return a.t }
func (a *fakeAS) Invalidate()                { a.invalidations++ }
func (a *fakeAS) Release() {
	a.t.Release()
	a.released = true
}

// newMemfile makes a memory file that is unmapped and closed at the end of
// the test.
func newMemfile(tb testing.TB, limit uintptr) *memfile.File {
	tb.Helper()
	mem, err := memfile.New(limit, nil)
	require.NoError(tb, err)
	tb.Cleanup(func() { closeMemfile(mem) })
	return mem
}

func closeMemfile(mem *memfile.File) {
	unix.Syscall(unix.SYS_MUNMAP, mem.Base(), mem.Limit(), 0)
	unix.Close(mem.FD())
}

// newTestMM makes an empty address space on its own 64 MiB memory file. At
// the end of the test the invariants are checked, the MM is released and
// every page must be back in the file.
func newTestMM(tb testing.TB) (*MM, *fakeAS, *memfile.File) {
	tb.Helper()
	return newTestMMLimit(tb, memfile.ChunkSize)
}

func newTestMMLimit(tb testing.TB, limit uintptr) (*MM, *fakeAS, *memfile.File) {
	tb.Helper()
	mem := newMemfile(tb, limit)
	p := &fakePlatform{mem: mem}
	m, err := New(p, mem)
	require.NoError(tb, err)
	as := p.spaces[0]
	joinFamily(m)
	tb.Cleanup(func() {
		if !tb.Failed() && !m.released {
			if err := checkInvariants(m); err != nil {
				tb.Errorf("at the end: %v", err)
			}
		}
		m.Release()
		if !as.released {
			tb.Errorf("Release did not release the address space")
		}
		if cur, _ := mem.Used(); cur != 0 {
			tb.Errorf("after Release %d bytes of the memory file are still used", cur)
		}
	})
	return m, as, mem
}

// families lists the address spaces made by newTestMM and forkTest on each
// memory file: the memory file's accounting covers all of them.
var (
	familiesMu sync.Mutex
	families   = map[*memfile.File][]*MM{}
)

func joinFamily(m *MM) {
	familiesMu.Lock()
	families[m.mem] = append(families[m.mem], m)
	familiesMu.Unlock()
}

// family returns m and the address spaces of its memory file that are not
// released.
func family(m *MM) []*MM {
	familiesMu.Lock()
	defer familiesMu.Unlock()
	out := []*MM{m}
	for _, x := range families[m.mem] {
		if x != m && !x.released {
			out = append(out, x)
		}
	}
	return out
}

// checkInvariants verifies the consistency of the VMAs, the page map, the
// page tables and the memory file's accounting of m and the address spaces
// forked from it (or it from) by the test that are not released.
func checkInvariants(m *MM) error { return checkGroup(family(m)...) }

// checkGroup checks each MM of a group that shares one memory file (a
// process and its forks), and the file's accounting for all of them: the
// owners of every page are exactly the page-map entries and the memory
// objects that hold it, and the file's use is those pages plus the page
// tables.
func checkGroup(ms ...*MM) error {
	holders := map[uintptr]int{}
	objects := map[holder]bool{}
	tables := 0
	for _, m := range ms {
		if err := checkStructure(m); err != nil {
			return err
		}
		m.mu.Lock()
		m.pages.each(0, UserEnd, func(va, pa uintptr) { holders[pa]++ })
		for i := range m.vmas.v {
			if h, ok := m.vmas.v[i].Pager.(holder); ok {
				objects[h] = true
			}
		}
		tables += m.pt.Pages()
		m.mu.Unlock()
	}
	for h := range objects {
		for _, pa := range h.held() {
			holders[pa]++
		}
	}
	mem := ms[0].mem
	for pa, n := range holders {
		if got := mem.Refs(pa); got != n {
			return fmt.Errorf("page %#x has %d owners in the memory file, %d hold it", pa, got, n)
		}
	}
	cur, _ := mem.Used()
	want := uintptr(len(holders)+tables) * pageSize
	if cur != want {
		return fmt.Errorf("memory file: %d bytes used, want %d (%d pages + %d table pages)", cur, want, len(holders), tables)
	}
	return nil
}

// holder is a memory object (a shared anonymous object, a test file) that
// holds references on pages of the memory file.
type holder interface{ held() []uintptr }

// checkStructure verifies one MM: VMAs, page map and page tables.
func checkStructure(m *MM) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	vs := m.vmas.v
	for i := range vs {
		v := &vs[i]
		if v.Start%pageSize != 0 || v.End%pageSize != 0 {
			return fmt.Errorf("VMA %d [%#x, %#x) not page aligned", i, v.Start, v.End)
		}
		if v.Start >= v.End {
			return fmt.Errorf("VMA %d [%#x, %#x) empty or inverted", i, v.Start, v.End)
		}
		if v.Start < MinAddr || v.End > UserEnd {
			return fmt.Errorf("VMA %d [%#x, %#x) outside [MinAddr, UserEnd)", i, v.Start, v.End)
		}
		if v.Prot&^(ProtRead|ProtWrite|ProtExec) != 0 {
			return fmt.Errorf("VMA %d has prot %#x", i, v.Prot)
		}
		if i > 0 {
			p := &vs[i-1]
			if p.End > v.Start {
				return fmt.Errorf("VMAs %d [%#x, %#x) and %d [%#x, %#x) overlap or are unsorted", i-1, p.Start, p.End, i, v.Start, v.End)
			}
			if mergeable(p, v) {
				return fmt.Errorf("VMAs %d [%#x, %#x) and %d [%#x, %#x) are adjacent and equal: not merged", i-1, p.Start, p.End, i, v.Start, v.End)
			}
		}
	}
	if len(vs) > MaxVMAs {
		return fmt.Errorf("%d VMAs", len(vs))
	}

	// The page map: every page inside a VMA, the count right, no page
	// of the memory file used twice.
	n := 0
	owner := map[uintptr]uintptr{}
	var err error
	m.pages.each(0, UserEnd, func(va, pa uintptr) {
		n++
		if err != nil {
			return
		}
		if _, ok := m.vmas.lookup(va); !ok {
			err = fmt.Errorf("page %#x populated outside every VMA", va)
		}
		if !m.mem.Contains(pa) || pa%pageSize != 0 {
			err = fmt.Errorf("page %#x backed by %#x, not a memory-file page", va, pa)
		}
		// A shared object's page may be mapped twice (mremap of part
		// of a shared mapping leaves both parts mapping it); private
		// pages never are.
		v, _ := m.vmas.lookup(va)
		if o, dup := owner[pa]; dup && (v == nil || !v.Shared) {
			err = fmt.Errorf("pages %#x and %#x share backing page %#x", o, va, pa)
		}
		owner[pa] = va
		if v != nil && v.Shared && m.pages.isCOW(va) {
			err = fmt.Errorf("page %#x of a shared mapping is copy-on-write", va)
		}
	})
	if err != nil {
		return err
	}
	if n != m.pages.count {
		return fmt.Errorf("page map count %d, but %d pages populated", m.pages.count, n)
	}
	for k, c := range m.pages.chunks {
		if c.n == 0 {
			return fmt.Errorf("empty page-map chunk %#x kept", k<<chunkShift)
		}
	}

	// The page tables: every leaf is a 4 KiB user page that the page map
	// and the VMA agree with.
	m.pt.Visit(0, pagetables.LowerHalfEnd, func(va, pa, size uintptr, o pagetables.Opts) bool {
		switch {
		case size != pageSize:
			err = fmt.Errorf("leaf %#x of size %#x", va, size)
		case va >= UserEnd:
			err = fmt.Errorf("leaf %#x beyond UserEnd", va)
		case hostLeaf(m, va):
			// A window onto host pages: never in the page map.
			if v, _ := m.vmas.lookup(va); pa != v.HostPhys+(va-v.Start) || m.pages.get(va) != 0 || o.Write {
				err = fmt.Errorf("leaf %#x -> %#x of host pages at %#x (write %v, page map %#x)", va, pa, v.HostPhys, o.Write, m.pages.get(va))
			}
		case m.pages.get(va) != pa:
			err = fmt.Errorf("leaf %#x -> %#x, page map says %#x", va, pa, m.pages.get(va))
		case !o.User:
			err = fmt.Errorf("leaf %#x not user", va)
		}
		if err != nil {
			return false
		}
		v, ok := m.vmas.lookup(va)
		switch {
		case !ok:
			err = fmt.Errorf("leaf %#x outside every VMA", va)
		case v.Prot == 0:
			err = fmt.Errorf("leaf %#x in a PROT_NONE VMA", va)
		case o.Write != (v.Prot&ProtWrite != 0 && !m.pages.isCOW(va)):
			err = fmt.Errorf("leaf %#x write=%v, VMA prot %#x, copy-on-write %v", va, o.Write, v.Prot, m.pages.isCOW(va))
		case o.Exec != (v.Prot&ProtExec != 0):
			err = fmt.Errorf("leaf %#x exec=%v, VMA prot %#x", va, o.Exec, v.Prot)
		}
		return err == nil
	})
	return err
}

// hostLeaf reports whether va lies in a VMA of host pages.
func hostLeaf(m *MM, va uintptr) bool {
	v, ok := m.vmas.lookup(va)
	return ok && v.HostPhys != 0
}

func mustCheck(tb testing.TB, m *MM) {
	tb.Helper()
	if err := checkInvariants(m); err != nil {
		tb.Fatal(err)
	}
}

func mustCheckGroup(tb testing.TB, ms ...*MM) {
	tb.Helper()
	if err := checkGroup(ms...); err != nil {
		tb.Fatal(err)
	}
}

// forkTest forks m onto a fake platform of its own. At the end of the test
// (before m's own checks) the pair is checked and the child released.
func forkTest(tb testing.TB, m *MM) (*MM, *fakeAS) {
	tb.Helper()
	p := &fakePlatform{mem: m.mem}
	c, err := m.Fork(p)
	require.NoError(tb, err)
	require.Len(tb, p.spaces, 1)
	joinFamily(c)
	tb.Cleanup(func() {
		if !tb.Failed() && !c.released {
			if err := checkInvariants(c); err != nil {
				tb.Errorf("at the end: %v", err)
			}
		}
		c.Release()
	})
	return c, p.spaces[0]
}

// vmaSpan is a VMA reduced to what tests compare.
type vmaSpan struct {
	Start, End uintptr
	Prot       int
}

func spans(m *MM) []vmaSpan {
	var s []vmaSpan
	for _, v := range m.VMAs() {
		s = append(s, vmaSpan{v.Start, v.End, v.Prot})
	}
	return s
}

// populated returns the populated pages in [start, end), sorted.
func populated(m *MM, start, end uintptr) []uintptr {
	m.mu.Lock()
	defer m.mu.Unlock()
	var s []uintptr
	m.pages.each(start, end, func(va, pa uintptr) { s = append(s, va) })
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s
}

// backing returns the memory-file page behind va (0 if not populated).
func backing(m *MM, va uintptr) uintptr {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.pages.get(va &^ (pageSize - 1))
}

func used(mem *memfile.File) uintptr {
	cur, _ := mem.Used()
	return cur
}

// lookupPT returns the page-table translation of va.
func lookupPT(m *MM, va uintptr) (uintptr, pagetables.Opts, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.pt.Lookup(va)
}

func pages(n int) uintptr { return uintptr(n) * pageSize }

// fill returns n bytes of a pattern that depends on seed.
func fill(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i*7) + byte(i>>12)
	}
	return b
}

// mmapAnon is a shortcut for an anonymous private mapping.
func mmapAnon(tb testing.TB, m *MM, addr, n uintptr, prot int, fixed bool) uintptr {
	tb.Helper()
	a, err := m.Mmap(MmapOpts{Addr: addr, Len: n, Prot: prot, Fixed: fixed})
	require.NoError(tb, err)
	return a
}
