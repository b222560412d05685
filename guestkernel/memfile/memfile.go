package memfile

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"

	"ringbox/guestkernel/hostcall"
)

// PageSize is the size of a page of the memory file.
const PageSize = 4096

// ChunkSize is the granularity in which the file grows (and in which the
// VMM registers memory slots): small enough that KVM's per-slot metadata
// stays proportional to what is used.
const ChunkSize = 64 << 20

// ErrNoMemory is returned when an allocation would exceed the limit.
var ErrNoMemory = errors.New("memory limit reached")

// File is the memory file.
type File struct {
	fd    int
	base  uintptr // start of the reserved range
	span  uintptr // bytes of address space reserved (whole chunks)
	limit uintptr // most bytes of pages ever resident (whole pages, <= span)

	mu     sync.Mutex
	size   uintptr   // bytes currently backed by the memfd (multiple of ChunkSize)
	next   uintptr   // bump pointer: offset of the first never-used page
	free   []uintptr // offsets of freed pages still resident, oldest first
	cold   []uintptr // offsets of freed pages given back to the host
	noGive bool      // the host refused to take pages back: stop trying
	// populated is the window populateLocked made resident last (+1: none
	// yet); noPopulate is set when the host cannot (MADV_POPULATE_WRITE).
	populated  uintptr
	noPopulate bool
	used       uintptr // pages in use * PageSize
	maxUsed    uintptr
	onGrow     func(addr, size uintptr) error
	// refs counts the owners of each backed page (index: offset /
	// PageSize): 0 for a free or never used page, 1 for a page with one
	// owner, more for a page shared copy-on-write between address spaces
	// or mapped from a file by several. It grows with size.
	refs []int32
}

// New creates a memory file that can hold up to limit bytes. onGrow is
// called (with the file's lock held) for each new chunk, before any page of
// it is handed out; the VMM registers the chunk as a memory slot there.
func New(limit uintptr, onGrow func(addr, size uintptr) error) (*File, error) {
	span := (limit + ChunkSize - 1) &^ (ChunkSize - 1)
	if span == 0 {
		return nil, fmt.Errorf("memory file: zero limit")
	}
	fd, err := unix.MemfdCreate("ringbox-memory", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("memfd_create: %w", err)
	}
	// Reserve the whole range now (no access, no memory), so the file's
	// pages keep stable addresses as it grows. 2 MiB alignment lets callers
	// use large pages.
	const align = 2 << 20
	resv, err := unix.Mmap(-1, 0, int(span+align), unix.PROT_NONE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("reserve %d bytes for the memory file: %w", span, err)
	}
	start := uintptr(unsafe.Pointer(&resv[0]))
	base := (start + align - 1) &^ (align - 1)
	// Give back the unaligned head and tail.
	if base > start {
		unix.Munmap(resv[:base-start])
	}
	if tail := start + span + align - (base + span); tail > 0 {
		unix.Munmap(unsafe.Slice((*byte)(ptr(base+span)), tail))
	}
	return &File{fd: fd, base: base, span: span, limit: pageCeil(limit), onGrow: onGrow, populated: 1}, nil
}

func pageCeil(n uintptr) uintptr { return (n + PageSize - 1) &^ (PageSize - 1) }

// Base returns the host address of offset 0.
func (f *File) Base() uintptr { return f.base }

// Limit returns the most memory the file holds: its pages in use, and
// the freed ones it keeps for reuse, never exceed it on the host. (A
// page is only ever new when no freed one is left to reuse, so the pages
// handed out so far bound what is resident.)
func (f *File) Limit() uintptr { return f.limit }

// Span returns the length of the file's address range: the limit in
// whole chunks.
func (f *File) Span() uintptr { return f.span }

// FD returns the memfd.
func (f *File) FD() int { return f.fd }

// Used returns the bytes currently allocated and the peak.
func (f *File) Used() (cur, peak uintptr) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.used, f.maxUsed
}

// Contains reports whether addr lies inside the file's mapping.
func (f *File) Contains(addr uintptr) bool { return addr >= f.base && addr < f.base+f.span }

func (f *File) growLocked(need uintptr) error {
	for f.size < need {
		if f.size+ChunkSize > f.span {
			return ErrNoMemory
		}
		if err := unix.Ftruncate(f.fd, int64(f.size+ChunkSize)); err != nil {
			return fmt.Errorf("grow memory file: %w", err)
		}
		addr := f.base + f.size
		_, err := mmapFixed(addr, ChunkSize, f.fd, int64(f.size))
		if err != nil {
			return fmt.Errorf("map memory file chunk: %w", err)
		}
		if f.onGrow != nil {
			if err := f.onGrow(addr, ChunkSize); err != nil {
				return err
			}
		}
		f.size += ChunkSize
		f.refs = append(f.refs, make([]int32, ChunkSize/PageSize)...)
	}
	return nil
}

func mmapFixed(addr, size uintptr, fd int, off int64) (uintptr, error) {
	r, _, errno := unix.Syscall6(unix.SYS_MMAP, addr, size, unix.PROT_READ|unix.PROT_WRITE,
		unix.MAP_SHARED|unix.MAP_FIXED, uintptr(fd), uintptr(off))
	if errno != 0 {
		return 0, errno
	}
	return r, nil
}

// Freed pages beyond keepFree stay resident for reuse until more than
// releaseAbove are free: then all but the keepFree lowest go back to
// the host (MADV_REMOVE), so a sandbox whose program freed memory does not
// keep holding its peak. They are handed out again, zero, after the
// resident ones.
const (
	keepFree     = 2048 // 8 MiB
	releaseAbove = 4096 // 16 MiB
)

// Alloc returns the host address of a zeroed page.
func (f *File) Alloc() (uintptr, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if n := len(f.free); n > 0 {
		off := f.free[n-1]
		f.free = f.free[:n-1]
		f.refs[off/PageSize] = 1
		f.account(PageSize)
		addr := f.base + off
		clear(Page(addr))
		return addr, nil
	}
	if n := len(f.cold); n > 0 {
		off := f.cold[n-1]
		f.cold = f.cold[:n-1]
		f.refs[off/PageSize] = 1
		f.account(PageSize)
		f.populateLocked(off)
		return f.base + off, nil // given back: zero
	}
	addr, err := f.bumpLocked(1, 1)
	if err == nil {
		f.populateLocked(addr - f.base)
	}
	return addr, err
}

// populateWindow is the span of the memory file made resident on the host
// at once around a page handed out that was not (populateLocked).
const populateWindow = 64 << 10

// populateLocked makes the host back the window around off (a page just
// handed out, not resident on the host) with pages at once, unless it did
// for that window already. In ring0 mode on PVM a guest access to a page
// the host has not backed costs a shadow-paging fault into the host
// kernel each (about 20 us); with the host's pages present, KVM maps the
// neighbours on the same fault. The window's pages are free pages about
// to be handed out (the bump pointer's next ones; the cold list's next
// ones, which come out in address order) or pages in use (already
// resident: the call leaves them as they are).
func (f *File) populateLocked(off uintptr) {
	if f.noPopulate {
		return
	}
	w := off &^ (populateWindow - 1)
	if w == f.populated {
		return
	}
	f.populated = w
	end := min(w+populateWindow, f.size)
	if _, e := hostcall.Syscall6(unix.SYS_MADVISE, f.base+w, end-w, unix.MADV_POPULATE_WRITE, 0, 0, 0); e != 0 {
		f.noPopulate = true // before Linux 5.14: leave it to the faults
	}
}

// releaseLocked gives the host back the freed pages beyond the keepFree
// lowest, a run of adjacent pages per madvise (MADV_REMOVE: the memfd
// drops them, a fast call on a range that stays mapped). A page the host would
// not take back stays resident (and on the free list), and no release is
// tried again.
func (f *File) releaseLocked() {
	// By address, the whole list: the pages kept are the lowest, the
	// rest go back in runs as long as can be. (Keeping the ones freed
	// last instead left runs of one page when a file's pages were freed
	// in no order: 14,000 madvise calls for the 64 MiB of an unlinked
	// file.) Alloc takes from the end: the kept pages, highest first.
	slices.Sort(f.free)
	old := slices.Clone(f.free[keepFree:])
	f.free = f.free[:keepFree]
	for i := 0; i < len(old); {
		j := i + 1
		for j < len(old) && old[j] == old[j-1]+PageSize {
			j++
		}
		addr, size := f.base+old[i], uintptr(j-i)*PageSize
		// Through hostcall: in ring0 mode a release of a fragmented free
		// list is hundreds of madvise calls, each a VM exit made from the
		// guest (and, as the exit takes longer than sysmon's 20 us, two
		// futex exits more to get the P back); there the first one leaves
		// the guest and the rest are plain host syscalls, or the host I/O
		// thread makes them all.
		if _, e := hostcall.Syscall6(unix.SYS_MADVISE, addr, size, unix.MADV_REMOVE, 0, 0, 0); e != 0 {
			f.free = append(f.free, old[i:]...)
			f.noGive = true
			return
		}
		f.cold = append(f.cold, old[i:j]...)
		i = j
	}
}

// Released returns the bytes of freed pages given back to the host.
func (f *File) Released() uintptr {
	f.mu.Lock()
	defer f.mu.Unlock()
	return uintptr(len(f.cold)) * PageSize
}

// AllocContig returns n contiguous zeroed pages aligned to align pages.
func (f *File) AllocContig(n, align uintptr) (uintptr, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.bumpLocked(n, align)
}

func (f *File) bumpLocked(n, align uintptr) (uintptr, error) {
	off := (f.next + align*PageSize - 1) &^ (align*PageSize - 1)
	end := off + n*PageSize
	if off < f.next || end < off || end > f.limit {
		return 0, ErrNoMemory
	}
	if err := f.growLocked(end); err != nil {
		return 0, err
	}
	// Pages skipped for alignment go to the free list, only now that the
	// allocation succeeded: a failed one would list them again on the
	// next try (one page, two owners), maybe beyond the backed size.
	for p := f.next; p < off; p += PageSize {
		f.free = append(f.free, p)
	}
	f.next = end
	for p := off; p < end; p += PageSize {
		f.refs[p/PageSize] = 1
	}
	f.account(n * PageSize)
	return f.base + off, nil // never used: already zero
}

func (f *File) account(n uintptr) {
	f.used += n
	if f.used > f.maxUsed {
		f.maxUsed = f.used
	}
}

// refIndexLocked returns the index in refs of the page at addr, or false
// for an address that is not the start of a backed page of the file.
func (f *File) refIndexLocked(addr uintptr) (int, bool) {
	if !f.Contains(addr) || addr&(PageSize-1) != 0 || addr-f.base >= f.size {
		return 0, false
	}
	return int((addr - f.base) / PageSize), true
}

// IncRef records one more owner of an allocated page: an address space
// that shares it copy-on-write after fork, or that maps a file's page.
// Each owner gives its reference back with Free. A reference on a page
// nobody owns is a bug of the caller (the page may be handed out to
// someone else at any time): it panics, as Free does.
func (f *File) IncRef(addr uintptr) {
	f.mu.Lock()
	defer f.mu.Unlock()
	i, ok := f.refIndexLocked(addr)
	if !ok {
		panic(fmt.Sprintf("memfile: reference to foreign page %#x", addr))
	}
	if f.refs[i] <= 0 {
		panic(fmt.Sprintf("memfile: reference to free page %#x", addr))
	}
	f.refs[i]++
}

// TryIncRef is IncRef for a page that another owner may free at any
// moment (a file's page that a truncate may drop while a fault maps it):
// it adds a reference and returns true if the page is still allocated,
// and returns false otherwise (a free page, or not a page of the file).
func (f *File) TryIncRef(addr uintptr) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	i, ok := f.refIndexLocked(addr)
	if !ok || f.refs[i] <= 0 {
		return false
	}
	f.refs[i]++
	return true
}

// Refs returns the number of owners of the page at addr: 0 if it is free
// (or not a page of the file), 1 if one owner may write it in place.
func (f *File) Refs(addr uintptr) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	i, ok := f.refIndexLocked(addr)
	if !ok {
		return 0
	}
	return int(f.refs[i])
}

// Shared reports whether the page has more than one owner.
func (f *File) Shared(addr uintptr) bool { return f.Refs(addr) > 1 }

// Free drops one owner of the page; the last owner returns it for reuse.
// Freeing a page that is not the file's, or one that is already free
// (which would hand it out twice later), panics: it is a bug of the
// kernel, never a consequence of what a program does.
func (f *File) Free(addr uintptr) {
	f.mu.Lock()
	defer f.mu.Unlock()
	i, ok := f.refIndexLocked(addr)
	if !ok {
		panic(fmt.Sprintf("memfile: free of foreign page %#x", addr))
	}
	switch c := f.refs[i]; {
	case c <= 0:
		panic(fmt.Sprintf("memfile: double free of page %#x", addr))
	case c > 1:
		f.refs[i] = c - 1
		return
	}
	f.refs[i] = 0
	f.free = append(f.free, addr-f.base)
	f.used -= PageSize
	if len(f.free) > releaseAbove && !f.noGive {
		f.releaseLocked()
	}
}

// Page returns the page at addr as a byte slice.
func Page(addr uintptr) []byte {
	return unsafe.Slice((*byte)(ptr(addr)), PageSize)
}

// Bytes returns n bytes at addr, which must lie in the file.
func Bytes(addr, n uintptr) []byte {
	return unsafe.Slice((*byte)(ptr(addr)), n)
}

// AllocPage and FreePage adapt the file to ring0/pagetables.Allocator.
func (f *File) AllocPage() (uintptr, error) { return f.Alloc() }

// FreePage returns a page-table page.
func (f *File) FreePage(addr uintptr) { f.Free(addr) }

// ptr converts an address of mmap'ed memory (never Go heap memory, so the
// garbage collector has no interest in it) to a pointer. It is not inlined:
// go1.26.8's SSA backend crashes (disjointTypes) on constant-size copies
// into the result when it is.
//
//go:noinline
func ptr(addr uintptr) unsafe.Pointer {
	return unsafe.Add(nil, addr)
}
