package mm

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"ringbox/guestkernel/memfile"
	"ringbox/guestkernel/platform"
	"ringbox/ring0/pagetables"
)

// Address-space layout (as Linux x86-64 with 47-bit user addresses).
const (
	// UserEnd is one past the highest user address.
	UserEnd = 0x7ffffffff000
	// MinAddr is the lowest address mmap hands out (vm.mmap_min_addr).
	MinAddr = 0x10000
	// StackTop is the top of the initial stack.
	StackTop = 0x7ffffffde000
	// StackLimit is the stack's maximum size (RLIMIT_STACK default).
	StackLimit = 8 << 20
	// MmapTop is where top-down mmap placement starts (below the stack
	// and a guard gap).
	MmapTop = StackTop - StackLimit - (128 << 20)
	// MaxVMAs limits the number of mappings (vm.max_map_count).
	MaxVMAs = 65530
	// faultAround is how many pages a first-touch fault maps at once:
	// each guest page fault is expensive under PVM's shadow paging.
	faultAround = 16
	// cachedAround is the aligned window of pages around a fault in a
	// file mapping whose pages the file already holds are mapped too
	// (page-table entries only: no read, no copy).
	cachedAround = 64
)

// Errors the syscall layer returns as they are.
var (
	EFAULT = unix.EFAULT
	ENOMEM = unix.ENOMEM
	EINVAL = unix.EINVAL
	EACCES = unix.EACCES
	EEXIST = unix.EEXIST
)

// ErrBus means a fault touched a shared file mapping past the end of the
// file (SIGBUS).
var ErrBus = errors.New("access past the end of a mapped file")

// ErrOutOfMemory means the sandbox's memory limit was hit while handling a
// fault; the task cannot continue.
var ErrOutOfMemory = errors.New("out of memory: sandbox memory limit reached")

// MM is one address space.
type MM struct {
	mu    sync.Mutex
	as    platform.AddressSpace
	pt    *pagetables.Tables
	mem   *memfile.File
	vmas  vmaSet
	pages pageMap

	brkStart, brk uintptr
	released      bool
	// rl are the memory limits of the process that uses the address
	// space (SetRlimits); stackMax is the most a grows-down mapping may
	// grow to, set at exec from RLIMIT_STACK, and mmapTop where top-down
	// placement starts, below the room the stack may take (0 for both:
	// StackLimit and MmapTop).
	rl                Rlimits
	stackMax, mmapTop uintptr
	// Exe is the path of the executable, for /proc.
	Exe string
	// Comm is the program's name (/proc/pid/comm).
	Comm string
	// ArgStart..EnvEnd locate argv and envp strings on the stack.
	ArgStart, ArgEnd, EnvStart, EnvEnd uintptr
	// Auxv is the auxiliary vector given to the program.
	Auxv []uint64
	// Membarrier holds the membarrier(2) registrations of the address
	// space (the syscall layer's bits); a fork inherits them, exec
	// starts with none.
	Membarrier atomic.Uint32
}

// New makes an empty address space.
func New(p platform.Platform, mem *memfile.File) (*MM, error) {
	as, err := p.NewAddressSpace()
	if err != nil {
		return nil, err
	}
	return &MM{as: as, pt: as.Tables(), mem: mem}, nil
}

// AddressSpace is what the platform runs user code in.
func (m *MM) AddressSpace() platform.AddressSpace { return m.as }

// Release frees every page and the page tables. A page shared with
// another address space (after fork) or owned by a file or a shared memory
// object only loses this address space's reference.
// Releasing twice does nothing more.
func (m *MM) Release() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.released {
		return
	}
	m.released = true
	m.pages.each(0, UserEnd, func(va, pa uintptr) {
		m.pages.clear(va)
		m.mem.Free(pa)
	})
	for i := range m.vmas.v {
		unrefVMA(&m.vmas.v[i])
	}
	m.vmas.v, m.vmas.size = nil, 0
	m.as.Release()
}

// VMAs returns a copy of the mappings (for /proc/pid/maps).
func (m *MM) VMAs() []VMA {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.vmas.v)
}

// ResidentPages is the number of populated pages.
func (m *MM) ResidentPages() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.pages.count
}

func opts(prot int) pagetables.Opts {
	return pagetables.Opts{Write: prot&ProtWrite != 0, Exec: prot&ProtExec != 0, User: true}
}

// leafOpts are the page-table rights of a page of a VMA with protection
// prot: a copy-on-write page is read-only until its first write.
func leafOpts(prot int, cow bool) pagetables.Opts {
	o := opts(prot)
	if cow {
		o.Write = false
	}
	return o
}

// populate backs [va, va+n pages) of vma with zeroed pages where none is
// present, and maps them. Caller holds mu.
func (m *MM) populate(v *VMA, va uintptr, n int) error {
	for i := 0; i < n; i++ {
		a := va + uintptr(i)*pageSize
		if a >= v.End {
			break
		}
		if m.pages.get(a) != 0 {
			continue
		}
		if v.HostPhys == HostHole {
			if i == 0 {
				return ErrBus
			}
			break
		}
		if v.HostPhys != 0 {
			// Host pages: mapped as they are, owned by no one.
			if v.Prot != 0 {
				if _, err := m.pt.Map(a, v.HostPhys+(a-v.Start), pageSize, opts(v.Prot)); err != nil {
					return tableErr(err)
				}
			}
			continue
		}
		var pa uintptr
		if v.Pager != nil {
			// A shared mapping maps the object's own page, with a
			// reference of this address space.
			p, err := m.pagerPage(v, a)
			if errors.Is(err, memfile.ErrNoMemory) {
				return fmt.Errorf("%w: %v", ErrOutOfMemory, err)
			}
			if err != nil {
				if i == 0 {
					return ErrBus
				}
				break
			}
			pa = p
		} else {
			p, err := m.mem.Alloc()
			if err != nil {
				return ErrOutOfMemory
			}
			pa = p
		}
		if err := m.mapPage(v, a, pa); err != nil {
			return err
		}
	}
	return nil
}

// mapPage records pa, a page holding one reference for this address space,
// at va of v and maps it. A private mapping of a file's pages (MAP_PRIVATE
// of a file with a page cache) maps them copy-on-write. Caller holds mu.
func (m *MM) mapPage(v *VMA, va, pa uintptr) error {
	m.pages.set(va, pa)
	cow := v.Pager != nil && !v.Shared
	if cow {
		m.pages.setCOW(va, true)
	}
	if v.Prot == 0 {
		return nil
	}
	if _, err := m.pt.Map(va, pa, pageSize, leafOpts(v.Prot, cow)); err != nil {
		return tableErr(err)
	}
	return nil
}

// mapCached maps the pages of v's file around page (the aligned window of
// cachedAround pages) that the file holds already and v does not map yet,
// as populate would (copy-on-write in a private mapping). A program's
// libraries are touched all over their text and data; once a first
// process has read them, the next one takes a fault per window rather
// than per 16 pages. Caller holds mu.
func (m *MM) mapCached(v *VMA, page uintptr) error {
	cp, ok := v.Pager.(CachedPager)
	if !ok || v.Prot == 0 {
		return nil
	}
	start := max(v.Start, page&^(cachedAround*pageSize-1))
	end := min(v.End, start+cachedAround*pageSize)
	for a := start; a < end; a += pageSize {
		if m.pages.get(a) != 0 {
			continue
		}
		pa := cp.CachedPage(v.PagerOff + int64((a-v.Start)/pageSize))
		if pa == 0 || !m.mem.TryIncRef(pa) {
			continue
		}
		if err := m.mapPage(v, a, pa); err != nil {
			return err
		}
	}
	return nil
}

// pagerPage returns the page of v's memory object at va with a reference
// taken for this address space. A file may drop the page (truncate) between
// PageAddr and the reference: the page is then asked for again, and past
// the new end of the file PageAddr fails (SIGBUS).
func (m *MM) pagerPage(v *VMA, va uintptr) (uintptr, error) {
	idx := v.PagerOff + int64((va-v.Start)/pageSize)
	for try := 0; ; try++ {
		p, err := v.Pager.PageAddr(idx)
		if err != nil {
			return 0, err
		}
		if m.mem.TryIncRef(p) {
			return p, nil
		}
		if try == 3 {
			return 0, fmt.Errorf("page %d of a shared mapping keeps vanishing", idx)
		}
	}
}

// tableErr reports a failure to map a page: the memory file being full
// while allocating a page-table page is the sandbox running out of memory,
// like a full file while allocating the page itself.
func tableErr(err error) error {
	if errors.Is(err, memfile.ErrNoMemory) {
		return fmt.Errorf("%w (page tables): %v", ErrOutOfMemory, err)
	}
	return err
}

// Fault outcome.
type FaultResult int

// Fault results.
const (
	FaultHandled FaultResult = iota // resume the program
	FaultSIGSEGV                    // no mapping or not allowed: SIGSEGV
	FaultSIGBUS                     // past the end of a mapped file: SIGBUS
)

// HandleFault resolves a user page fault. It returns FaultSIGSEGV (with
// code SEGV_MAPERR or SEGV_ACCERR in the second result) for an invalid
// access.
func (m *MM) HandleFault(addr uintptr, write, exec bool) (FaultResult, int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if addr >= UserEnd {
		return FaultSIGSEGV, segvMapErr, nil
	}
	v, ok := m.vmas.lookup(addr)
	if !ok {
		// Below a stack: it grows, within its limits.
		if v, ok = m.growStackLocked(addr); !ok {
			return FaultSIGSEGV, segvMapErr, nil
		}
	}
	switch {
	case write && v.Prot&ProtWrite == 0,
		exec && v.Prot&ProtExec == 0,
		v.Prot&(ProtRead|ProtWrite|ProtExec) == 0:
		return FaultSIGSEGV, segvAccErr, nil
	}
	page := addr &^ (pageSize - 1)
	if pa := m.pages.get(page); pa != 0 {
		if write && m.pages.isCOW(page) {
			// The first write to a page shared copy-on-write.
			if _, err := m.ownPage(v, page); err != nil {
				return FaultSIGSEGV, segvMapErr, err
			}
			return FaultHandled, 0, nil
		}
		// Present in our map: the page tables lag (e.g. after a
		// protection change). Re-map it.
		if _, err := m.pt.Map(page, pa, pageSize, leafOpts(v.Prot, m.pages.isCOW(page))); err != nil {
			return FaultSIGSEGV, segvMapErr, tableErr(err)
		}
		m.as.Invalidate()
		return FaultHandled, 0, nil
	}
	// Fault around: the next pages (of a small VMA, the ones before
	// too, below).
	start := page
	n := faultAround
	if v.GrowsDown {
		// Stacks grow down: map the pages below the fault.
		start = max(v.Start, page-uintptr(faultAround-1)*pageSize)
		n = int((page-start)/pageSize) + 1
	}
	if err := m.populate(v, start, n); err != nil {
		if errors.Is(err, ErrBus) {
			return FaultSIGBUS, busAdrErr, nil
		}
		return FaultSIGSEGV, segvMapErr, err
	}
	small := v.Len() <= faultAround*pageSize && !v.GrowsDown
	if small && page > v.Start {
		// The rest of a small VMA: as far as it maps (a failure is
		// for a fault there to report).
		_ = m.populate(v, v.Start, int((page-v.Start)/pageSize))
	}
	if err := m.mapCached(v, page); err != nil {
		return FaultSIGSEGV, segvMapErr, err
	}
	if write && m.pages.isCOW(page) {
		// A write to a file page mapped privately: copy it now rather
		// than on a second fault. In a small VMA (a library's data and
		// relocations) the rest is written too, page by page, as the
		// loader relocates: copy every copy-on-write page of it at once.
		from, to := page, page+pageSize
		if small {
			from, to = v.Start, v.End
		}
		for a := from; a < to; a += pageSize {
			if !m.pages.isCOW(a) {
				continue
			}
			if _, err := m.ownPage(v, a); err != nil {
				return FaultSIGSEGV, segvMapErr, err
			}
		}
	}
	return FaultHandled, 0, nil
}

// ownPage makes the populated page at va of v this address space's own, so
// that it may be written in place, and returns it. A copy-on-write page
// whose other owners have all gone is simply made writable again; one
// still shared is copied to a new page, which replaces it here (the old
// one loses this address space's reference). Without a page to copy to,
// it returns an error wrapping ErrOutOfMemory, as a fault does. Caller
// holds mu.
func (m *MM) ownPage(v *VMA, va uintptr) (uintptr, error) {
	pa := m.pages.get(va)
	if pa == 0 || !m.pages.isCOW(va) {
		return pa, nil
	}
	if m.mem.Refs(pa) == 1 {
		// The last owner: no copy. Adding the write right needs no
		// invalidation (a stale read-only entry faults again).
		m.pages.setCOW(va, false)
		if v.Prot != 0 {
			if _, err := m.pt.Map(va, pa, pageSize, leafOpts(v.Prot, false)); err != nil {
				return 0, tableErr(err)
			}
		}
		return pa, nil
	}
	np, err := m.mem.Alloc()
	if err != nil {
		return 0, fmt.Errorf("%w: copy-on-write copy of %#x: %v", ErrOutOfMemory, va, err)
	}
	copy(memfile.Page(np), memfile.Page(pa))
	if v.Prot != 0 {
		if _, err := m.pt.Map(va, np, pageSize, leafOpts(v.Prot, false)); err != nil {
			m.mem.Free(np)
			return 0, tableErr(err)
		}
		// The old translation must be gone before the old page can
		// be given back (its other owners may free it at any time).
		m.as.Invalidate()
	}
	m.pages.set(va, np)
	m.mem.Free(pa)
	return np, nil
}

// si_code values for SIGSEGV.
const (
	segvMapErr = 1
	segvAccErr = 2
	busAdrErr  = 2 // BUS_ADRERR
)
