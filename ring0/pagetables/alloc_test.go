package pagetables

import (
	"errors"
	"fmt"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

var errTestOOM = errors.New("test allocator: out of pages")

// testAlloc hands out pages of an mmap'd anonymous region. Freed pages are
// checked to be zero and made inaccessible (PROT_NONE) until handed out
// again, so any use after free faults. Reuse is FIFO to keep freed pages
// unmapped for as long as possible.
type testAlloc struct {
	tb     testing.TB
	mem    []byte
	base   uintptr
	next   int       // pages never handed out start here
	free   []uintptr // FIFO of freed pages
	inUse  map[uintptr]bool
	allocs int
	frees  int
	// failAfter, when >= 0, is how many more AllocPage calls succeed.
	failAfter int
}

func newTestAlloc(tb testing.TB, pages int) *testAlloc {
	tb.Helper()
	mem, err := unix.Mmap(-1, 0, pages*PageSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		tb.Fatalf("mmap: %v", err)
	}
	a := &testAlloc{
		tb:        tb,
		mem:       mem,
		base:      uintptr(unsafe.Pointer(&mem[0])),
		inUse:     make(map[uintptr]bool),
		failAfter: -1,
	}
	tb.Cleanup(func() { _ = unix.Munmap(mem) })
	return a
}

func (a *testAlloc) page(p uintptr) []byte {
	off := int(p - a.base)
	return a.mem[off : off+PageSize]
}

func (a *testAlloc) AllocPage() (uintptr, error) {
	if a.failAfter == 0 {
		return 0, errTestOOM
	}
	if a.failAfter > 0 {
		a.failAfter--
	}
	var p uintptr
	switch {
	case len(a.free) > 0:
		p = a.free[0]
		a.free = a.free[1:]
		if err := unix.Mprotect(a.page(p), unix.PROT_READ|unix.PROT_WRITE); err != nil {
			a.tb.Fatalf("mprotect: %v", err)
		}
	case (a.next+1)*PageSize <= len(a.mem):
		p = a.base + uintptr(a.next)*PageSize
		a.next++
	default:
		return 0, errTestOOM
	}
	a.inUse[p] = true
	a.allocs++
	return p, nil
}

func (a *testAlloc) FreePage(p uintptr) {
	if !a.inUse[p] {
		panic(fmt.Sprintf("FreePage(%#x): not allocated", p))
	}
	for i, b := range a.page(p) {
		if b != 0 {
			panic(fmt.Sprintf("FreePage(%#x): byte %d is %#x, want zeroed page", p, i, b))
		}
	}
	if err := unix.Mprotect(a.page(p), unix.PROT_NONE); err != nil {
		panic(fmt.Sprintf("mprotect: %v", err))
	}
	delete(a.inUse, p)
	a.free = append(a.free, p)
	a.frees++
}

func (a *testAlloc) outstanding() int { return len(a.inUse) }
