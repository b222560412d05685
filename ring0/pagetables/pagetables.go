package pagetables

import (
	"errors"
	"fmt"
)

// Allocator provides zeroed, 4 KiB-aligned page-table pages. The address is
// both the host virtual address and the guest-physical address of the page.
//
// The memory must not belong to the Go heap (use an mmap'd region). Pages are
// handed back to FreePage zeroed. A freed page may still be cached by a CPU's
// paging-structure caches until the caller has flushed the TLB for the change
// that freed it, so an allocator shared between address spaces should not
// hand a freed page out again before that flush.
type Allocator interface {
	AllocPage() (uintptr, error)
	FreePage(addr uintptr)
}

// Opts are the permissions of a leaf.
type Opts struct {
	Write  bool // RW bit
	Exec   bool // when false, NX is set on the leaf
	User   bool // U bit on the leaf (see Tables.AlwaysUser)
	Global bool // G bit on the leaf
}

// Errors returned by the mutating methods (wrapped with the offending values).
var (
	ErrNonCanonical = errors.New("pagetables: non-canonical virtual address range")
	ErrMisaligned   = errors.New("pagetables: address or size not 4 KiB aligned")
	ErrPhysRange    = errors.New("pagetables: physical address range beyond 52 bits")
	ErrShared       = errors.New("pagetables: range lies in a top-level slot shared from other tables")
	ErrBadPage      = errors.New("pagetables: allocator returned an unaligned or out-of-range page")
)

// Tables is one 4-level page-table tree. Its methods are not safe for
// concurrent use; the CPU may walk the tables while they are mutated.
type Tables struct {
	// AlwaysUser sets the U bit on every leaf regardless of Opts.User
	// (required on the PVM backend, where supervisor pages too must be U).
	// Intermediate entries always have U. Set it before the first Map.
	// Lookup and Visit then report User for every page.
	AlwaysUser bool

	// OnChange, if set, is called with the address of a table page after
	// a present entry in it was cleared, lost rights or changed target:
	// under shadow paging the guest must then rewrite that page so the
	// hypervisor drops its stale copy.
	OnChange func(table uintptr)

	alloc   Allocator
	root    uintptr
	ownRoot bool
	pages   int // table pages currently allocated from alloc

	// shared marks PML4 slots copied from other Tables by ShareTop: read
	// only here, never freed here.
	shared [entriesPerTable]bool
	// pinned marks PML4 slots whose PDPT page other Tables may share: it is
	// kept even when empty, until Release.
	pinned [entriesPerTable]bool
}

// New allocates a fresh root (PML4) page.
func New(a Allocator) (*Tables, error) {
	t := &Tables{alloc: a, ownRoot: true}
	root, err := t.allocTable()
	if err != nil {
		return nil, err
	}
	t.root = root
	return t, nil
}

// NewAt uses an existing zeroed page as root. The caller owns that page;
// Release zeroes it but does not free it.
func NewAt(a Allocator, root uintptr) *Tables {
	return &Tables{alloc: a, root: root}
}

// Root returns the address of the PML4 page (the value for CR3, without
// PCID or flag bits).
func (t *Tables) Root() uintptr { return t.root }

// Pages returns how many table pages this Tables currently holds from its
// allocator (including the root when New allocated it).
func (t *Tables) Pages() int { return t.pages }

func (t *Tables) allocTable() (uintptr, error) {
	p, err := t.alloc.AllocPage()
	if err != nil {
		return 0, err
	}
	if p == 0 || p%PageSize != 0 || p >= MaxPhys {
		return 0, fmt.Errorf("%w: %#x", ErrBadPage, p)
	}
	t.pages++
	return p, nil
}

func (t *Tables) freeTable(p uintptr) {
	t.pages--
	t.alloc.FreePage(p)
}

// checkRange validates [va, va+size) and returns its last byte. empty is true
// for size 0, which every method treats as a no-op.
func checkRange(va, size uintptr) (last uintptr, empty bool, err error) {
	if va%PageSize != 0 || size%PageSize != 0 {
		return 0, false, fmt.Errorf("%w: va %#x size %#x", ErrMisaligned, va, size)
	}
	if size == 0 {
		return 0, true, nil
	}
	last = va + size - 1
	if last < va || !canonical(va) || !canonical(last) || (va < LowerHalfEnd) != (last < LowerHalfEnd) {
		return 0, false, fmt.Errorf("%w: va %#x size %#x", ErrNonCanonical, va, size)
	}
	return last, false, nil
}

// checkOwned fails if [va, last] touches a slot shared from other Tables.
func (t *Tables) checkOwned(va, last uintptr) error {
	for i := index(va, rootLevel); i <= index(last, rootLevel); i++ {
		if t.shared[i] {
			return fmt.Errorf("%w: va %#x", ErrShared, va)
		}
	}
	return nil
}

// Map maps [va, va+size) to [pa, pa+size) with 4 KiB leaves. Existing
// mappings are replaced. flush reports whether a present entry was changed,
// in which case the caller must flush the TLB. On error (allocation failure)
// part of the range may be mapped; flush is still accurate.
func (t *Tables) Map(va, pa, size uintptr, opts Opts) (flush bool, err error) {
	return t.mapRange(va, pa, size, opts, false)
}

// MapHuge is Map but uses a 2 MiB leaf for every 2 MiB-aligned 2 MiB piece
// of the range whose physical address is 2 MiB aligned too; the rest gets
// 4 KiB leaves. A 4 KiB table replaced by a 2 MiB leaf is freed.
func (t *Tables) MapHuge(va, pa, size uintptr, opts Opts) (flush bool, err error) {
	return t.mapRange(va, pa, size, opts, true)
}

func (t *Tables) mapRange(va, pa, size uintptr, opts Opts, huge bool) (bool, error) {
	last, empty, err := checkRange(va, size)
	if err != nil || empty {
		return false, err
	}
	if pa%PageSize != 0 {
		return false, fmt.Errorf("%w: pa %#x", ErrMisaligned, pa)
	}
	if size > MaxPhys || pa > MaxPhys-size {
		return false, fmt.Errorf("%w: pa %#x size %#x", ErrPhysRange, pa, size)
	}
	if err := t.checkOwned(va, last); err != nil {
		return false, err
	}
	return t.mapLevel(t.root, rootLevel, va, last, pa, t.leafFlags(opts), huge)
}

// mapLevel maps [va, last] (within tbl's coverage) to pa onwards. flags are
// the leaf flags (present and permissions).
func (t *Tables) mapLevel(tbl uintptr, level int, va, last, pa uintptr, flags uint64, huge bool) (flush bool, err error) {
	span := levelSpan(level)
	for i := index(va, level); ; i++ {
		eStart := va &^ (span - 1)
		eLast := eStart + span - 1
		subLast := min(last, eLast)
		old := load(tbl, i)
		switch {
		case level == 0:
			e := uint64(pa)&AddrMask | flags
			if !sameEntry(old, e) {
				flush = flush || old&EntryPresent != 0
				t.store(tbl, i, e)
			}
		case level == 1 && huge && va == eStart && subLast == eLast && pa%HugePageSize == 0:
			e := uint64(pa)&HugeAddrMask | flags | EntryHuge
			if isTable(old, level) {
				// Link the leaf first so the range never goes
				// unmapped, then free the old table.
				t.store(tbl, i, e)
				t.freeTree(tableAddr(old), level-1)
				flush = true
			} else if !sameEntry(old, e) {
				flush = flush || old&EntryPresent != 0
				t.store(tbl, i, e)
			}
		default:
			child, f, err := t.child(tbl, i, level, old)
			flush = flush || f
			if err != nil {
				return flush, err
			}
			f, err = t.mapLevel(child, level-1, va, subLast, pa, flags, huge)
			flush = flush || f
			if err != nil {
				// Do not leave a table created for this call
				// behind empty. Existing tables are never empty
				// except pinned PDPTs.
				if tableEmpty(child) && !(level == rootLevel && t.pinned[i]) {
					t.store(tbl, i, 0)
					t.freeTable(child)
				}
				return flush, err
			}
		}
		if subLast == last {
			return flush, nil
		}
		pa += subLast + 1 - va
		va = subLast + 1
	}
}

// child returns the table below entry i of tbl (whose current value is old),
// creating an empty one or splitting a leaf into one. flush is true when a
// present leaf was split (its page size changes).
func (t *Tables) child(tbl uintptr, i, level int, old uint64) (c uintptr, flush bool, err error) {
	if isTable(old, level) {
		return tableAddr(old), false, nil
	}
	c, err = t.allocTable()
	if err != nil {
		return 0, false, err
	}
	if old&EntryPresent != 0 {
		// Split the leaf: the new table maps the same range with leaves
		// one level down carrying the same flags.
		childLevel := level - 1
		base := leafAddr(old, level)
		flags := old &^ AddrMask
		if childLevel == 0 {
			flags &^= EntryHuge
		}
		span := levelSpan(childLevel)
		for j := 0; j < entriesPerTable; j++ {
			t.store(c, j, uint64(base+uintptr(j)*span)&AddrMask|flags)
		}
		flush = true
	}
	t.store(tbl, i, intermediate(c))
	return c, flush, nil
}

// freeTree zeroes and frees the table tbl at level and every table below it.
// It reports whether any present leaf was found.
func (t *Tables) freeTree(tbl uintptr, level int) (hadLeaf bool) {
	for i := 0; i < entriesPerTable; i++ {
		e := load(tbl, i)
		if e == 0 {
			continue
		}
		if isTable(e, level) {
			if t.freeTree(tableAddr(e), level-1) {
				hadLeaf = true
			}
		} else if e&EntryPresent != 0 {
			hadLeaf = true
		}
		t.store(tbl, i, 0)
	}
	t.freeTable(tbl)
	return hadLeaf
}

// Unmap removes the mappings in [va, va+size), splitting 2 MiB leaves that
// are only partly covered, and frees table pages that become empty. flush
// reports whether a present entry was changed.
//
// Unmap panics if the range is invalid, lies in a shared slot, or a split
// cannot allocate a table; TryUnmap returns those as errors.
func (t *Tables) Unmap(va, size uintptr) (flush bool) {
	flush, err := t.TryUnmap(va, size)
	if err != nil {
		panic(err)
	}
	return flush
}

// TryUnmap is Unmap returning errors instead of panicking. On a split
// allocation failure the range is partly unmapped; flush is still accurate.
func (t *Tables) TryUnmap(va, size uintptr) (flush bool, err error) {
	last, empty, err := checkRange(va, size)
	if err != nil || empty {
		return false, err
	}
	if err := t.checkOwned(va, last); err != nil {
		return false, err
	}
	return t.unmapLevel(t.root, rootLevel, va, last)
}

func (t *Tables) unmapLevel(tbl uintptr, level int, va, last uintptr) (flush bool, err error) {
	span := levelSpan(level)
	for i := index(va, level); ; i++ {
		eStart := va &^ (span - 1)
		eLast := eStart + span - 1
		subLast := min(last, eLast)
		full := va == eStart && subLast == eLast
		old := load(tbl, i)
		if old&EntryPresent != 0 {
			if !isTable(old, level) && full {
				t.store(tbl, i, 0)
				flush = true
			} else {
				c, f, err := t.child(tbl, i, level, old)
				flush = flush || f
				if err != nil {
					return flush, err
				}
				f, err = t.unmapLevel(c, level-1, va, subLast)
				flush = flush || f
				if err != nil {
					return flush, err
				}
				keep := level == rootLevel && t.pinned[i]
				if !keep && (full || tableEmpty(c)) {
					t.store(tbl, i, 0)
					t.freeTable(c)
					flush = true
				}
			}
		}
		if subLast == last {
			return flush, nil
		}
		va = subLast + 1
	}
}

// Protect changes the permissions of the present leaves in [va, va+size),
// splitting 2 MiB leaves that are only partly covered (and would change).
// Absent pages stay absent. flush reports whether a present entry was changed.
//
// Protect panics if the range is invalid, lies in a shared slot, or a split
// cannot allocate a table; TryProtect returns those as errors.
func (t *Tables) Protect(va, size uintptr, opts Opts) (flush bool) {
	flush, err := t.TryProtect(va, size, opts)
	if err != nil {
		panic(err)
	}
	return flush
}

// TryProtect is Protect returning errors instead of panicking. On a split
// allocation failure the range is partly changed; flush is still accurate.
func (t *Tables) TryProtect(va, size uintptr, opts Opts) (flush bool, err error) {
	last, empty, err := checkRange(va, size)
	if err != nil || empty {
		return false, err
	}
	if err := t.checkOwned(va, last); err != nil {
		return false, err
	}
	return t.protectLevel(t.root, rootLevel, va, last, opts)
}

func (t *Tables) protectLevel(tbl uintptr, level int, va, last uintptr, opts Opts) (flush bool, err error) {
	span := levelSpan(level)
	for i := index(va, level); ; i++ {
		eStart := va &^ (span - 1)
		eLast := eStart + span - 1
		subLast := min(last, eLast)
		old := load(tbl, i)
		if old&EntryPresent != 0 {
			if isTable(old, level) {
				f, err := t.protectLevel(tableAddr(old), level-1, va, subLast, opts)
				flush = flush || f
				if err != nil {
					return flush, err
				}
			} else if e := t.withOpts(old, opts); !sameEntry(old, e) {
				if va == eStart && subLast == eLast {
					t.store(tbl, i, e)
					flush = true
				} else {
					c, _, err := t.child(tbl, i, level, old)
					if err != nil {
						return flush, err
					}
					flush = true
					if _, err := t.protectLevel(c, level-1, va, subLast, opts); err != nil {
						return flush, err
					}
				}
			}
		}
		if subLast == last {
			return flush, nil
		}
		va = subLast + 1
	}
}

// Lookup translates va. ok is false if va is not mapped (or not canonical).
func (t *Tables) Lookup(va uintptr) (pa uintptr, opts Opts, ok bool) {
	e, size, ok := t.LeafEntry(va)
	if !ok {
		return 0, Opts{}, false
	}
	return uintptr(e&AddrMask)&^(size-1) | va&(size-1), OptsOf(e), true
}

// LeafEntry returns the raw leaf entry mapping va and the size of the page it
// maps (PageSize or HugePageSize).
func (t *Tables) LeafEntry(va uintptr) (e uint64, size uintptr, ok bool) {
	if !canonical(va) {
		return 0, 0, false
	}
	tbl := t.root
	for level := rootLevel; ; level-- {
		e := load(tbl, index(va, level))
		if e&EntryPresent == 0 {
			return 0, 0, false
		}
		if !isTable(e, level) {
			return e, levelSpan(level), true
		}
		tbl = tableAddr(e)
	}
}

// Visit calls fn for each present leaf overlapping [start, end) in address
// order, with the leaf's va, pa, size (PageSize or HugePageSize) and opts;
// fn returning false stops the walk. end == 0 means the end of the address
// space; non-canonical parts of the range are skipped. The tables must not be
// mutated from fn.
func (t *Tables) Visit(start, end uintptr, fn func(va, pa, size uintptr, o Opts) bool) {
	if end != 0 && end <= start {
		return
	}
	start &^= PageSize - 1
	last := end - 1
	if start < LowerHalfEnd {
		if !t.visitLevel(t.root, rootLevel, start, min(last, LowerHalfEnd-1), fn) {
			return
		}
	}
	if last >= UpperHalfStart {
		t.visitLevel(t.root, rootLevel, max(start, UpperHalfStart), last, fn)
	}
}

func (t *Tables) visitLevel(tbl uintptr, level int, va, last uintptr, fn func(va, pa, size uintptr, o Opts) bool) bool {
	span := levelSpan(level)
	for i := index(va, level); ; i++ {
		eStart := va &^ (span - 1)
		subLast := min(last, eStart+span-1)
		e := load(tbl, i)
		if isTable(e, level) {
			if !t.visitLevel(tableAddr(e), level-1, va, subLast, fn) {
				return false
			}
		} else if e&EntryPresent != 0 {
			if !fn(eStart, leafAddr(e, level), span, OptsOf(e)) {
				return false
			}
		}
		if subLast == last {
			return true
		}
		va = subLast + 1
	}
}

// topSlots calls fn for each PML4 slot covering a canonical address in
// [start, end) (end == 0 means the end of the address space).
func topSlots(start, end uintptr, fn func(i int)) {
	if end != 0 && end <= start {
		return
	}
	last := end - 1
	if start < LowerHalfEnd {
		for i := index(start, rootLevel); i <= index(min(last, LowerHalfEnd-1), rootLevel); i++ {
			fn(i)
		}
	}
	if last >= UpperHalfStart {
		for i := index(max(start, UpperHalfStart), rootLevel); i <= index(last, rootLevel); i++ {
			fn(i)
		}
	}
}

// ShareTop copies the PML4 entries covering [start, end) (rounded out to
// 512 GiB; end == 0 means the end of the address space) from other, so both
// Tables use the same subtrees. Shared slots are read-only through t (Map,
// Unmap and Protect report ErrShared) and never freed by t; calling ShareTop
// again refreshes them. Any subtree t itself had in those slots is freed, and
// the caller must flush if t was in use.
//
// The slots become pinned in other: other keeps their PDPT pages even when
// empty, so t's copies stay valid, and later mappings that other makes there
// are seen by t. A slot still empty in other is copied empty and stays empty
// in t; call other.PreallocTop first to give it a PDPT. other must outlive
// t's use of the shared slots (Release t first).
func (t *Tables) ShareTop(other *Tables, start, end uintptr) {
	if other == t {
		return
	}
	topSlots(start, end, func(i int) {
		e := load(other.root, i)
		other.pinned[i] = true
		old := load(t.root, i)
		t.store(t.root, i, e)
		if !t.shared[i] && isTable(old, rootLevel) {
			t.freeTree(tableAddr(old), rootLevel-1)
		}
		t.shared[i] = true
	})
}

// TopPresent reports whether the PML4 entry covering va is present.
func (t *Tables) TopPresent(va uintptr) bool {
	return load(t.root, index(va, rootLevel))&EntryPresent != 0
}

// PreallocTop gives every owned, empty PML4 slot covering [start, end) a PDPT
// page and pins all owned slots there, so that ShareTop on other Tables
// shares them and sees later mappings. Shared slots are skipped.
func (t *Tables) PreallocTop(start, end uintptr) error {
	var err error
	topSlots(start, end, func(i int) {
		if err != nil || t.shared[i] {
			return
		}
		if load(t.root, i)&EntryPresent == 0 {
			var c uintptr
			if c, err = t.allocTable(); err != nil {
				return
			}
			t.store(t.root, i, intermediate(c))
		}
		t.pinned[i] = true
	})
	return err
}

// Release frees every table page this Tables allocated: not shared subtrees
// and not a root given to NewAt (whose own entries are zeroed instead; its
// shared entries stay, since a CPU may still run on it). The
// Tables must not be used afterwards; Release again is a no-op.
func (t *Tables) Release() {
	if t.root == 0 {
		return
	}
	for i := 0; i < entriesPerTable; i++ {
		if t.shared[i] && !t.ownRoot {
			// Another Tables owns the subtree, and a CPU may still run
			// on this root (given to NewAt, freed by its owner later)
			// until it switches away: the x86 stub runs on the user
			// root's shared upper half. Keep the entry.
			continue
		}
		if e := load(t.root, i); !t.shared[i] && isTable(e, rootLevel) {
			t.freeTree(tableAddr(e), rootLevel-1)
		}
		t.store(t.root, i, 0)
	}
	if t.ownRoot {
		t.freeTable(t.root)
	}
	t.root = 0
	t.shared = [entriesPerTable]bool{}
	t.pinned = [entriesPerTable]bool{}
}
