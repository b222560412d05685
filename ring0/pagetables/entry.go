package pagetables

import (
	"sync/atomic"
	"unsafe"
)

// Bits of a page-table entry.
const (
	EntryPresent      uint64 = 1 << 0
	EntryWrite        uint64 = 1 << 1
	EntryUser         uint64 = 1 << 2
	EntryWriteThrough uint64 = 1 << 3
	EntryCacheDisable uint64 = 1 << 4
	EntryAccessed     uint64 = 1 << 5
	EntryDirty        uint64 = 1 << 6
	EntryHuge         uint64 = 1 << 7 // PS: the entry is a 2 MiB (PD) or 1 GiB (PDPT) leaf
	EntryGlobal       uint64 = 1 << 8
	EntryNX           uint64 = 1 << 63

	// AddrMask selects the physical address (bits 12..51) of an entry that
	// points to a table or to a 4 KiB page.
	AddrMask uint64 = 0x000f_ffff_ffff_f000
	// HugeAddrMask selects the physical address (bits 21..51) of a 2 MiB
	// leaf. Bit 12 of such a leaf is the PAT bit, not an address bit.
	HugeAddrMask uint64 = 0x000f_ffff_ffe0_0000

	// IntermediateFlags are the flags of every entry that points to a
	// table: present, writable, user, accessed (see leafFlags), never NX.
	// Leaves alone decide the permissions of a page.
	IntermediateFlags = EntryPresent | EntryWrite | EntryUser | EntryAccessed

	// leafFlags are the bits that Opts controls in a leaf.
	leafFlags = EntryWrite | EntryUser | EntryGlobal | EntryNX
	// adBits are set by the CPU and ignored when comparing entries.
	adBits = EntryAccessed | EntryDirty
)

// Sizes and address-space limits.
const (
	PageSize     = 1 << 12 // 4 KiB leaf
	HugePageSize = 1 << 21 // 2 MiB leaf
	TopSpan      = 1 << 39 // 512 GiB covered by one PML4 entry

	// MaxPhys is one past the highest physical address (52 bits).
	MaxPhys = 1 << 52

	// LowerHalfEnd is one past the last canonical lower-half address.
	LowerHalfEnd = 0x0000_8000_0000_0000
	// UpperHalfStart is the first canonical upper-half address.
	UpperHalfStart = 0xffff_8000_0000_0000

	entriesPerTable = 512
	// rootLevel is the level of the PML4; level 0 is the PT.
	rootLevel = 3
)

// table returns the 512 entries of the table page at addr.
//
// addr is not Go heap memory: it comes from an Allocator, whose contract
// requires memory outside the Go heap (an mmap'd region that the guest sees at
// the same address). Turning it into a Go pointer is therefore valid: the
// garbage collector ignores pointers outside its heap and never moves or frees
// that memory. The uintptr is reinterpreted through its own address instead of
// converted, which keeps go vet's unsafeptr check quiet and does not escape.
func table(addr uintptr) *[entriesPerTable]uint64 {
	return *(**[entriesPerTable]uint64)(unsafe.Pointer(&addr))
}

func load(tbl uintptr, i int) uint64 {
	return atomic.LoadUint64(&table(tbl)[i])
}

func store(tbl uintptr, i int, v uint64) {
	atomic.StoreUint64(&table(tbl)[i], v)
}

// tableEmpty reports whether every entry of tbl is zero.
func tableEmpty(tbl uintptr) bool {
	for i := 0; i < entriesPerTable; i++ {
		if load(tbl, i) != 0 {
			return false
		}
	}
	return true
}

func levelShift(level int) uint { return 12 + 9*uint(level) }

func levelSpan(level int) uintptr { return uintptr(1) << levelShift(level) }

func index(va uintptr, level int) int {
	return int(va>>levelShift(level)) & (entriesPerTable - 1)
}

// isTable reports whether e, found in a table of the given level, points to a
// lower-level table. The PS bit is reserved in a PML4 entry.
func isTable(e uint64, level int) bool {
	if e&EntryPresent == 0 || level == 0 {
		return false
	}
	return level == rootLevel || e&EntryHuge == 0
}

// leafAddr returns the physical base address of a leaf at the given level.
func leafAddr(e uint64, level int) uintptr {
	return uintptr(e & AddrMask &^ uint64(levelSpan(level)-1))
}

func tableAddr(e uint64) uintptr { return uintptr(e & AddrMask) }

func intermediate(tbl uintptr) uint64 {
	return uint64(tbl)&AddrMask | IntermediateFlags
}

// sameEntry reports whether a and b are equal ignoring the accessed and dirty
// bits.
func sameEntry(a, b uint64) bool { return (a^b)&^adBits == 0 }

// OptsOf decodes the permission bits of a leaf entry.
func OptsOf(e uint64) Opts {
	return Opts{
		Write:  e&EntryWrite != 0,
		Exec:   e&EntryNX == 0,
		User:   e&EntryUser != 0,
		Global: e&EntryGlobal != 0,
	}
}

// leafFlags are a new leaf's bits for o. A leaf starts accessed, and
// dirty when writable: nothing in ringbox reads those bits back, and
// shadow paging (PVM) maps a guest entry ahead of use, on a neighbour's
// fault, only when they are set (KVM's prefetch skips an entry without
// the accessed bit and maps one without the dirty bit read-only); the
// CPU or KVM setting them later would be a write to the table too.
func (t *Tables) leafFlags(o Opts) uint64 {
	f := EntryPresent | EntryAccessed
	if o.Write {
		f |= EntryWrite | EntryDirty
	}
	if o.User || t.AlwaysUser {
		f |= EntryUser
	}
	if o.Global {
		f |= EntryGlobal
	}
	if !o.Exec {
		f |= EntryNX
	}
	return f
}

// withOpts returns leaf e with its permission bits replaced by o.
func (t *Tables) withOpts(e uint64, o Opts) uint64 {
	return e&^leafFlags | t.leafFlags(o)
}

func canonical(va uintptr) bool {
	return va < LowerHalfEnd || va >= UpperHalfStart
}

// store writes entry i of table tbl, telling OnChange when a present
// entry loses rights or changes target.
func (t *Tables) store(tbl uintptr, i int, v uint64) {
	if t.OnChange == nil {
		store(tbl, i, v)
		return
	}
	old := load(tbl, i)
	store(tbl, i, v)
	if old&EntryPresent != 0 && reduces(old, v) {
		t.OnChange(tbl)
	}
}

// reduces reports whether replacing present entry old by v can remove an
// access a cached translation of old allowed.
func reduces(old, v uint64) bool {
	switch {
	case v&EntryPresent == 0,
		old&AddrMask != v&AddrMask,
		old&EntryHuge != v&EntryHuge,
		old&EntryWrite != 0 && v&EntryWrite == 0,
		old&EntryUser != 0 && v&EntryUser == 0,
		old&EntryNX == 0 && v&EntryNX != 0:
		return true
	}
	return false
}
