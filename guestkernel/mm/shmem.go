package mm

import (
	"fmt"
	"sync"

	"golang.org/x/sys/unix"

	"ringbox/guestkernel/memfile"
)

// sharedAnon is the memory object behind a shared anonymous mapping (what
// Linux keeps in an unlinked shmem file). Its pages belong to the object,
// not to one address space, so that after fork parent and child see the
// same pages, those neither had touched at fork included.
//
// Each VMA value that maps the object, in any address space and split
// pieces included, holds one reference (refVMA, unrefVMA); the last one
// frees the object's pages. An address space that maps one of the pages
// holds a memory-file reference on it as well, as for a file's page, so a
// page stays valid while it is mapped anywhere.
type sharedAnon struct {
	mem *memfile.File

	mu    sync.Mutex
	refs  int               // VMA values that map the object
	pages map[int64]uintptr // page index -> memory-file page
}

// newSharedAnon makes an empty object with one reference (for the VMA
// about to be inserted).
func newSharedAnon(mem *memfile.File) *sharedAnon {
	return &sharedAnon{mem: mem, refs: 1, pages: map[int64]uintptr{}}
}

// PageAddr implements Pager: page idx of the object, allocated (zeroed) on
// first use. The page stays the object's until the object dies, so it is
// valid as long as the caller's VMA is. An allocation beyond the memory
// limit returns an error that wraps memfile.ErrNoMemory.
func (o *sharedAnon) PageAddr(idx int64) (uintptr, error) {
	if idx < 0 {
		return 0, unix.ENXIO
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if pa := o.pages[idx]; pa != 0 {
		return pa, nil
	}
	if o.refs <= 0 {
		return 0, fmt.Errorf("shared anonymous memory: page %d of a released object", idx)
	}
	pa, err := o.mem.Alloc()
	if err != nil {
		return 0, fmt.Errorf("shared anonymous memory: page %d: %w", idx, err)
	}
	o.pages[idx] = pa
	return pa, nil
}

// zero clears pages [from, to) of the object in place (MADV_REMOVE): every
// address space that maps them sees zeroes at once. The pages stay
// allocated; Linux would free them, but other address spaces may map them
// and have no way to learn that they must fault them in again.
func (o *sharedAnon) zero(from, to int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if to-from > int64(len(o.pages)) {
		for idx, pa := range o.pages {
			if idx >= from && idx < to {
				clear(memfile.Page(pa))
			}
		}
		return
	}
	for idx := from; idx < to; idx++ {
		if pa := o.pages[idx]; pa != 0 {
			clear(memfile.Page(pa))
		}
	}
}

func (o *sharedAnon) incRef() {
	o.mu.Lock()
	o.refs++
	o.mu.Unlock()
}

// decRef drops a VMA's reference; the last one gives the object's pages
// back (address spaces that still map one hold their own reference).
func (o *sharedAnon) decRef() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.refs--
	if o.refs > 0 {
		return
	}
	for _, pa := range o.pages {
		o.mem.Free(pa)
	}
	o.pages = nil
}

// held returns the pages the object holds a reference on.
func (o *sharedAnon) held() []uintptr {
	o.mu.Lock()
	defer o.mu.Unlock()
	s := make([]uintptr, 0, len(o.pages))
	for _, pa := range o.pages {
		s = append(s, pa)
	}
	return s
}

// CountedPager is a Pager that counts the VMA values mapping it, as the
// object of a shared anonymous mapping does (a System V shared memory
// segment: its shm_nattch). Every VMA value that maps it, in any address
// space, split pieces and fork copies included, holds one count: Mmap
// takes the first, and VMAClosed is called once per value that goes away
// (munmap, exec, exit). Both are called with the address space's lock
// held: they must not call back into the mm.
type CountedPager interface {
	Pager
	VMAOpened()
	VMAClosed()
}

// refVMA takes the reference that a new VMA value holds on its memory
// object, if it counts them.
func refVMA(v *VMA) {
	switch o := v.Pager.(type) {
	case *sharedAnon:
		o.incRef()
	case CountedPager:
		o.VMAOpened()
	}
}

// unrefVMA drops the reference of a VMA value that goes away.
func unrefVMA(v *VMA) {
	switch o := v.Pager.(type) {
	case *sharedAnon:
		o.decRef()
	case CountedPager:
		o.VMAClosed()
	}
}
