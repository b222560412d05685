package mm

import (
	"sort"

	"golang.org/x/sys/unix"
)

// Prot bits are PROT_READ, PROT_WRITE, PROT_EXEC.
const (
	ProtRead  = unix.PROT_READ
	ProtWrite = unix.PROT_WRITE
	ProtExec  = unix.PROT_EXEC
)

// VMA is a range of the address space with uniform attributes.
type VMA struct {
	Start, End uintptr
	Prot       int
	MaxProt    int
	Shared     bool
	GrowsDown  bool
	Name       string // "[heap]", "[stack]", a path, or ""
	// Offset and Inode describe a file-backed mapping (for /proc/pid/maps).
	Offset uint64
	Inode  uint64
	// Pager, for a shared mapping, provides the pages: a file's own
	// pages, or those of the memory object of a shared anonymous mapping
	// (which mm makes); PagerOff is the object's page at Start.
	Pager    Pager
	PagerOff int64
	// DontFork (MADV_DONTFORK) leaves the range out of a child's address
	// space; WipeOnFork (MADV_WIPEONFORK, private anonymous mappings only)
	// gives the child zero-fill pages there instead of a copy.
	DontFork, WipeOnFork bool
	// HostPhys, if non-zero, makes the VMA a window onto host memory
	// that no address space owns: the guest-physical address of the page
	// at Start (the host's vDSO data, [vvar]). Its pages are mapped
	// straight into the page tables and never enter the page map, so
	// nothing frees, copies or counts them, and the Go kernel never reads
	// or writes them for the program (EFAULT, as Linux's VM_PFNMAP).
	// HostHole marks a part of such a window that the host leaves
	// unbacked: any access there is SIGBUS, as on the host.
	HostPhys uintptr
}

// HostHole is the HostPhys of a hole in a window onto host memory.
const HostHole = 1

// hostMergeable reports whether a and b, adjacent, agree on HostPhys.
func hostMergeable(a, b *VMA) bool {
	if a.HostPhys == 0 || b.HostPhys == 0 || a.HostPhys == HostHole || b.HostPhys == HostHole {
		return a.HostPhys == b.HostPhys
	}
	return a.HostPhys+a.Len() == b.HostPhys
}

// Pager gives the pages of a file that a shared mapping maps directly
// (fs.Pager).
type Pager interface {
	PageAddr(idx int64) (uintptr, error)
}

// CachedPager is a Pager that tells which pages it holds already, without
// reading anything (fs.CachedPager): a fault maps those around it too.
type CachedPager interface {
	CachedPage(idx int64) uintptr
}

// Len is the VMA's size.
func (v *VMA) Len() uintptr { return v.End - v.Start }

// privateAnon reports whether v is a private anonymous mapping (the heap,
// the stack, a MAP_PRIVATE|MAP_ANONYMOUS mapping, or one named with
// PR_SET_VMA_ANON_NAME). Private file mappings are filled by copy here, so
// they too are private pages; their name is the file's path.
func (v *VMA) privateAnon() bool {
	return !v.Shared && v.Pager == nil && v.HostPhys == 0 && (v.Name == "" || v.Name[0] == '[')
}

// vmaSet is a sorted, non-overlapping list of VMAs. Every VMA value in a
// set holds a reference on its memory object (refVMA): split takes one for
// the new piece, remove and merge drop those of the values they discard,
// and insert takes over the caller's.
type vmaSet struct {
	v []VMA
	// size is the bytes the VMAs span (Linux's total_vm), for RLIMIT_AS.
	size uintptr
}

// find returns the index of the first VMA with End > addr.
func (s *vmaSet) find(addr uintptr) int {
	return sort.Search(len(s.v), func(i int) bool { return s.v[i].End > addr })
}

// lookup returns the VMA containing addr.
func (s *vmaSet) lookup(addr uintptr) (*VMA, bool) {
	i := s.find(addr)
	if i < len(s.v) && s.v[i].Start <= addr {
		return &s.v[i], true
	}
	return nil, false
}

// split makes addr a VMA boundary if it falls inside a VMA.
func (s *vmaSet) split(addr uintptr) {
	i := s.find(addr)
	if i >= len(s.v) || s.v[i].Start >= addr {
		return
	}
	a := s.v[i]
	b := a
	a.End = addr
	b.Start = addr
	if b.Name != "" && b.Inode != 0 {
		b.Offset += uint64(addr - s.v[i].Start)
	}
	if b.Pager != nil {
		b.PagerOff += int64((addr - s.v[i].Start) / pageSize)
	}
	if b.HostPhys != 0 && b.HostPhys != HostHole {
		b.HostPhys += addr - s.v[i].Start
	}
	refVMA(&b)
	s.v[i] = a
	s.v = append(s.v, VMA{})
	copy(s.v[i+2:], s.v[i+1:])
	s.v[i+1] = b
}

// remove deletes [start, end) from the set, splitting as needed.
func (s *vmaSet) remove(start, end uintptr) {
	s.split(start)
	s.split(end)
	i := s.find(start)
	j := i
	for j < len(s.v) && s.v[j].Start < end {
		unrefVMA(&s.v[j])
		s.size -= s.v[j].Len()
		j++
	}
	s.v = append(s.v[:i], s.v[j:]...)
}

// insert adds v, which must not overlap any VMA, merging with equal
// neighbours. The set takes over the caller's reference on v's object.
func (s *vmaSet) insert(v VMA) {
	i := s.find(v.Start)
	s.v = append(s.v, VMA{})
	copy(s.v[i+1:], s.v[i:])
	s.v[i] = v
	s.size += v.Len()
	s.merge(i)
}

func mergeable(a, b *VMA) bool {
	return a.End == b.Start && a.Prot == b.Prot && a.MaxProt == b.MaxProt && a.Shared == b.Shared &&
		a.GrowsDown == b.GrowsDown && a.Name == b.Name && a.Inode == b.Inode &&
		a.DontFork == b.DontFork && a.WipeOnFork == b.WipeOnFork &&
		(a.Inode == 0 || a.Offset+uint64(a.Len()) == b.Offset) &&
		a.Pager == b.Pager && (a.Pager == nil || a.PagerOff+int64(a.Len()/pageSize) == b.PagerOff) &&
		hostMergeable(a, b)
}

// merge joins VMA i with its neighbours where possible.
func (s *vmaSet) merge(i int) {
	if i+1 < len(s.v) && mergeable(&s.v[i], &s.v[i+1]) {
		s.v[i].End = s.v[i+1].End
		unrefVMA(&s.v[i+1])
		s.v = append(s.v[:i+1], s.v[i+2:]...)
	}
	if i > 0 && mergeable(&s.v[i-1], &s.v[i]) {
		s.v[i-1].End = s.v[i].End
		unrefVMA(&s.v[i])
		s.v = append(s.v[:i], s.v[i+1:]...)
	}
}

// mergeRange merges, where possible, the VMAs that touch [start, end]
// after their attributes changed.
func (s *vmaSet) mergeRange(start, end uintptr) {
	for i := s.find(start); i < len(s.v) && s.v[i].Start <= end; {
		before := len(s.v)
		s.merge(i)
		if len(s.v) == before {
			i++
		}
	}
}

// mapped reports whether [start, end) is entirely covered by VMAs.
func (s *vmaSet) mapped(start, end uintptr) bool {
	i := s.find(start)
	at := start
	for ; i < len(s.v) && at < end; i++ {
		if s.v[i].Start > at {
			return false
		}
		at = s.v[i].End
	}
	return at >= end
}

// overlaps reports whether any VMA intersects [start, end).
func (s *vmaSet) overlaps(start, end uintptr) bool {
	i := s.find(start)
	return i < len(s.v) && s.v[i].Start < end
}

// hasHost reports whether a VMA of host pages overlaps [start, end).
func (s *vmaSet) hasHost(start, end uintptr) bool {
	for i := s.find(start); i < len(s.v) && s.v[i].Start < end; i++ {
		if s.v[i].HostPhys != 0 {
			return true
		}
	}
	return false
}
