package mm

import (
	"fmt"
	"slices"

	"ringbox/guestkernel/platform"
)

// Fork returns a new address space, made on p, that is a copy of m as
// fork(2) makes it; the child uses m's memory file.
//
//   - Private mappings (anonymous, and private file mappings, which hold
//     copies of the file) are shared copy-on-write: each populated page
//     gets one more owner in the memory file, both address spaces map it
//     read-only, and the first write in either copies it, or makes it
//     writable again in place once the other owners are gone (HandleFault,
//     and CopyOut and the other kernel writes). m's writable entries are
//     write-protected and m's address space is invalidated before Fork
//     returns, so no stale writable translation survives.
//   - Shared mappings (a file's own pages, and shared anonymous memory)
//     stay shared: the child maps the same memory object, so both see the
//     same pages, those populated later included.
//   - A range marked MADV_DONTFORK is absent in the child; one marked
//     MADV_WIPEONFORK is mapped in the child with no pages (zero-fill on
//     first touch). Both marks are inherited.
//   - The break and the Exe, Comm, argument, environment and auxv fields
//     are copied.
//
// Fork holds m's lock for the whole copy, so the child is a consistent
// snapshot even while other threads use m. It fails only when the page
// tables of the child cannot be allocated (an error wrapping
// ErrOutOfMemory when the memory limit is reached); m is then unchanged,
// except that its pages may have been marked copy-on-write, which costs at
// most one more fault per page.
func (m *MM) Fork(p platform.Platform) (*MM, error) {
	c, err := New(p, m.mem)
	if err != nil {
		return nil, fmt.Errorf("fork: new address space: %w", tableErr(err))
	}
	m.mu.Lock()
	err = m.forkLocked(c)
	m.mu.Unlock()
	if err != nil {
		c.Release()
		return nil, fmt.Errorf("fork: %w", err)
	}
	return c, nil
}

// forkLocked copies m into the empty c. Caller holds m.mu; c is not yet
// visible to anyone else.
func (m *MM) forkLocked(c *MM) error {
	c.brkStart, c.brk = m.brkStart, m.brk
	c.Exe, c.Comm = m.Exe, m.Comm
	c.ArgStart, c.ArgEnd, c.EnvStart, c.EnvEnd = m.ArgStart, m.ArgEnd, m.EnvStart, m.EnvEnd
	c.Auxv = slices.Clone(m.Auxv)
	c.Membarrier.Store(m.Membarrier.Load())
	c.rl, c.stackMax, c.mmapTop = m.rl, m.stackMax, m.mmapTop

	// The child's VMAs first: c.Release then drops what they hold if a
	// copy below fails. m's VMAs are maximal and sorted; leaving some
	// out keeps them so.
	c.vmas.v = make([]VMA, 0, len(m.vmas.v))
	for i := range m.vmas.v {
		v := m.vmas.v[i]
		if v.DontFork {
			continue
		}
		refVMA(&v)
		c.vmas.v = append(c.vmas.v, v)
		c.vmas.size += v.Len()
	}

	protected := false
	var err error
	for i := range m.vmas.v {
		v := &m.vmas.v[i]
		if v.DontFork || v.WipeOnFork && !v.Shared {
			continue
		}
		cow := !v.Shared
		end := v.Start // the pages below are copied
		m.pages.each(v.Start, v.End, func(va, pa uintptr) {
			if err != nil {
				return
			}
			end = va + pageSize
			m.mem.IncRef(pa)
			c.pages.set(va, pa)
			if cow {
				c.pages.setCOW(va, true)
				m.pages.setCOW(va, true)
			}
			if v.Prot != 0 {
				if _, e := c.pt.Map(va, pa, pageSize, leafOpts(v.Prot, cow)); e != nil {
					err = fmt.Errorf("map %#x in the child: %w", va, tableErr(e))
				}
			}
		})
		if cow && v.Prot&ProtWrite != 0 && end > v.Start {
			// The populated pages of v are copy-on-write now (up
			// to the failure, if any): take the write right from
			// their entries.
			f, e := m.pt.TryProtect(v.Start, end-v.Start, leafOpts(v.Prot, true))
			protected = protected || f
			if e != nil && err == nil {
				err = fmt.Errorf("write-protect [%#x, %#x): %w", v.Start, v.End, tableErr(e))
			}
		}
		if err != nil {
			break
		}
	}
	if protected {
		m.as.Invalidate()
	}
	return err
}
