package mm

import (
	"io"

	"golang.org/x/sys/unix"

	"ringbox/guestkernel/memfile"
)

func pageUp(v uintptr) uintptr { return (v + pageSize - 1) &^ (pageSize - 1) }

// MmapOpts describe an anonymous mapping request, or a shared one of a
// file's own pages (Pager).
type MmapOpts struct {
	Addr, Len uintptr
	Prot      int
	Fixed     bool // MAP_FIXED: replace what is there
	NoReplace bool // MAP_FIXED_NOREPLACE
	// Shared is MAP_SHARED: without a Pager, the mapping gets a memory
	// object of its own whose pages stay shared with children.
	Shared    bool
	GrowsDown bool
	Populate  bool
	Name      string
	// Pager maps a file's own pages (a shared file mapping) from file
	// page PagerOff on. The new VMA takes a count on a CountedPager.
	Pager    Pager
	PagerOff int64
	// MaxProt bounds what mprotect may grant later (EACCES beyond it);
	// 0 means read, write and execute.
	MaxProt int
}

// findGap returns the highest free range of n bytes below top.
func (m *MM) findGap(n, top uintptr) (uintptr, bool) {
	if n == 0 || top < MinAddr || n > top-MinAddr {
		return 0, false // (and lo+n below cannot overflow)
	}
	end := top
	for i := len(m.vmas.v) - 1; i >= -1; i-- {
		lo := uintptr(MinAddr)
		if i >= 0 {
			v := &m.vmas.v[i]
			if v.Start >= end {
				continue
			}
			lo = v.End
			if v.End > end {
				end = v.Start
				continue
			}
		}
		if end >= lo+n && end-n >= MinAddr {
			return end - n, true
		}
		if i >= 0 {
			end = m.vmas.v[i].Start
		}
	}
	return 0, false
}

// Mmap creates an anonymous mapping and returns its address.
func (m *MM) Mmap(o MmapOpts) (uintptr, error) {
	if o.Len == 0 || o.Prot&^(ProtRead|ProtWrite|ProtExec) != 0 {
		return 0, EINVAL
	}
	n := pageUp(o.Len)
	if n == 0 || n > UserEnd {
		return 0, ENOMEM
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	addr := o.Addr
	switch {
	case o.Fixed || o.NoReplace:
		if addr&(pageSize-1) != 0 {
			return 0, EINVAL
		}
		if addr < MinAddr {
			return 0, unix.EPERM // mmap_min_addr
		}
		if addr > UserEnd-n {
			return 0, ENOMEM
		}
		if o.NoReplace && m.vmas.overlaps(addr, addr+n) {
			return 0, EEXIST
		}
	default:
		addr &^= pageSize - 1
		if addr < MinAddr || addr > UserEnd-n || m.vmas.overlaps(addr, addr+n) {
			var ok bool
			if addr, ok = m.findGap(n, m.topLocked()); !ok {
				if addr, ok = m.findGap(n, UserEnd); !ok {
					return 0, ENOMEM
				}
			}
		}
	}
	if len(m.vmas.v) >= MaxVMAs {
		return 0, ENOMEM
	}
	maxProt := o.MaxProt
	if maxProt == 0 {
		maxProt = ProtRead | ProtWrite | ProtExec
	}
	if o.Prot&^maxProt != 0 {
		return 0, EACCES
	}
	if m.limitedLocked() && !m.mayExpandLocked(n-m.mappedInLocked(addr, n), isData(o.Prot, o.Shared, o.GrowsDown)) {
		return 0, ENOMEM // RLIMIT_AS or RLIMIT_DATA (what MAP_FIXED replaces adds nothing)
	}
	m.unmapLocked(addr, n)
	v := VMA{Start: addr, End: addr + n, Prot: o.Prot, MaxProt: maxProt,
		Shared: o.Shared, GrowsDown: o.GrowsDown, Name: o.Name, Pager: o.Pager, PagerOff: o.PagerOff}
	if o.Shared && o.Pager == nil {
		v.Pager, v.PagerOff = newSharedAnon(m.mem), 0
	} else if _, counted := o.Pager.(CountedPager); counted {
		refVMA(&v)
	}
	m.vmas.insert(v)
	if o.Populate {
		vp, _ := m.vmas.lookup(addr)
		if err := m.populate(vp, addr, int(n/pageSize)); err != nil {
			m.unmapLocked(addr, n)
			return 0, ENOMEM
		}
	}
	return addr, nil
}

// unmapLocked removes [addr, addr+n) and frees its pages.
func (m *MM) unmapLocked(addr, n uintptr) {
	// An empty range must not get here: overlaps(a, a) is true inside a
	// VMA, and remove would split it there.
	if n == 0 || !m.vmas.overlaps(addr, addr+n) {
		return
	}
	var freed []uintptr
	m.pages.each(addr, addr+n, func(va, pa uintptr) {
		m.pages.clear(va)
		freed = append(freed, pa)
	})
	if len(freed) > 0 || m.vmas.hasHost(addr, addr+n) {
		m.unmapThenFree(addr, n, freed)
	}
	m.vmas.remove(addr, addr+n)
}

// unmapThenFree removes [addr, addr+n) from the page tables, makes sure no
// vCPU can still reach it (Invalidate is a shootdown across the vCPUs that
// run this address space), and only then gives the pages back: another
// process may get them at once.
func (m *MM) unmapThenFree(addr, n uintptr, pages []uintptr) {
	if m.pt.Unmap(addr, n) {
		m.as.Invalidate()
	}
	for _, pa := range pages {
		m.mem.Free(pa)
	}
}

// Munmap removes mappings in [addr, addr+length).
func (m *MM) Munmap(addr, length uintptr) error {
	if addr&(pageSize-1) != 0 || length == 0 {
		return EINVAL
	}
	if addr >= UserEnd || length > UserEnd-addr {
		return EINVAL
	}
	n := pageUp(length)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.unmapLocked(addr, n)
	return nil
}

// Mprotect changes the protection of [addr, addr+length).
func (m *MM) Mprotect(addr, length uintptr, prot int) error {
	if addr&(pageSize-1) != 0 || prot&^(ProtRead|ProtWrite|ProtExec|unix.PROT_GROWSDOWN|unix.PROT_GROWSUP) != 0 {
		return EINVAL
	}
	prot &= ProtRead | ProtWrite | ProtExec
	if length == 0 {
		return nil
	}
	n := pageUp(length)
	if n == 0 || addr >= UserEnd || n > UserEnd-addr { // n == 0: the length wrapped
		return ENOMEM
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.vmas.mapped(addr, addr+n) {
		return ENOMEM
	}
	for i := m.vmas.find(addr); i < len(m.vmas.v) && m.vmas.v[i].Start < addr+n; i++ {
		if prot&^m.vmas.v[i].MaxProt != 0 {
			return EACCES // e.g. writing a segment attached SHM_RDONLY
		}
	}
	if limited(m.rl.Data) {
		// Private memory made writable becomes data (RLIMIT_DATA).
		if gain := m.dataGainLocked(addr, addr+n, prot); gain > 0 && uint64(m.dataSizeLocked())+uint64(gain) > m.rl.Data {
			return ENOMEM
		}
	}
	m.vmas.split(addr)
	m.vmas.split(addr + n)
	for i := m.vmas.find(addr); i < len(m.vmas.v) && m.vmas.v[i].Start < addr+n; i++ {
		m.vmas.v[i].Prot = prot
	}
	// Re-derive the page tables for the populated pages.
	changed := false
	if prot == 0 {
		changed = m.pt.Unmap(addr, n)
	} else {
		m.pages.each(addr, addr+n, func(va, pa uintptr) {
			if f, err := m.pt.Map(va, pa, pageSize, leafOpts(prot, m.pages.isCOW(va))); err == nil && f {
				changed = true
			}
		})
	}
	if changed {
		m.as.Invalidate()
	}
	m.vmas.mergeRange(addr, addr+n)
	return nil
}

// Madvise implements the advice that changes contents (MADV_DONTNEED,
// MADV_FREE, MADV_REMOVE: later reads of private pages see zeroes; shared
// pages keep their data except with MADV_REMOVE) and the advice that
// changes what fork does with the range (MADV_DONTFORK, MADV_DOFORK,
// MADV_WIPEONFORK, MADV_KEEPONFORK); other advice is accepted and
// ignored. Linux applies advice mapping by mapping and fails at the first
// one it does not apply to; here a range with a hole (ENOMEM) or with a
// mapping the advice does not apply to (EINVAL: MADV_WIPEONFORK on a
// shared or file mapping) is left unchanged.
func (m *MM) Madvise(addr, length uintptr, advice int) error {
	// Linux checks the advice first, then the range.
	drop, fork := false, false
	switch advice {
	case unix.MADV_DONTNEED, unix.MADV_FREE, unix.MADV_REMOVE:
		drop = true
	case unix.MADV_DONTFORK, unix.MADV_DOFORK, unix.MADV_WIPEONFORK, unix.MADV_KEEPONFORK:
		fork = true
	case unix.MADV_NORMAL, unix.MADV_RANDOM, unix.MADV_SEQUENTIAL, unix.MADV_WILLNEED,
		unix.MADV_MERGEABLE, unix.MADV_UNMERGEABLE,
		unix.MADV_HUGEPAGE, unix.MADV_NOHUGEPAGE, unix.MADV_DONTDUMP, unix.MADV_DODUMP,
		unix.MADV_COLD, unix.MADV_PAGEOUT,
		unix.MADV_POPULATE_READ, unix.MADV_POPULATE_WRITE, 102 /* MADV_COLLAPSE */ :
	default:
		return EINVAL
	}
	if addr&(pageSize-1) != 0 {
		return EINVAL
	}
	if length == 0 {
		return nil
	}
	n := pageUp(length)
	if n == 0 || addr+n < addr { // the length or the range wraps
		return EINVAL
	}
	if addr >= UserEnd || n > UserEnd-addr {
		return ENOMEM // not mapped
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	// Any advice on a range with unmapped pages fails (after applying
	// to the mapped ones in Linux; here, not at all).
	if !m.vmas.mapped(addr, addr+n) {
		return ENOMEM
	}
	if fork {
		return m.forkAdviceLocked(addr, n, advice)
	}
	if !drop {
		return nil
	}
	// A shared mapping maps a memory object (a file, or the object of a
	// shared anonymous mapping): dropping its translations (DONTNEED) or
	// marking it free (FREE) keeps the data. MADV_REMOVE punches a hole:
	// a shared anonymous object's pages are zeroed in place, for every
	// address space that maps them; a file's pages only lose this address
	// space's reference (the file keeps its data). Private pages are
	// freed (a page shared copy-on-write loses only this reference).
	remove := advice == unix.MADV_REMOVE
	var freed []uintptr
	var v *VMA
	m.pages.each(addr, addr+n, func(va, pa uintptr) {
		if v == nil || va >= v.End {
			v, _ = m.vmas.lookup(va)
		}
		if v.Shared {
			if _, anon := v.Pager.(*sharedAnon); anon || !remove {
				return
			}
		}
		m.pages.clear(va)
		freed = append(freed, pa)
	})
	if len(freed) > 0 {
		// Shared pages kept in the range are mapped again on their
		// next fault.
		m.unmapThenFree(addr, n, freed)
	}
	if remove {
		for i := m.vmas.find(addr); i < len(m.vmas.v) && m.vmas.v[i].Start < addr+n; i++ {
			v := &m.vmas.v[i]
			if o, ok := v.Pager.(*sharedAnon); ok {
				from := max(v.Start, addr)
				to := min(v.End, addr+n)
				first := v.PagerOff + int64((from-v.Start)/pageSize)
				o.zero(first, first+int64((to-from)/pageSize))
			}
		}
	}
	return nil
}

// forkAdviceLocked sets or clears DontFork or WipeOnFork on the mapped
// range [addr, addr+n). Caller holds mu.
func (m *MM) forkAdviceLocked(addr, n uintptr, advice int) error {
	if advice == unix.MADV_WIPEONFORK {
		// Only private anonymous memory can be wiped.
		for i := m.vmas.find(addr); i < len(m.vmas.v) && m.vmas.v[i].Start < addr+n; i++ {
			if !m.vmas.v[i].privateAnon() {
				return EINVAL
			}
		}
	}
	m.vmas.split(addr)
	m.vmas.split(addr + n)
	for i := m.vmas.find(addr); i < len(m.vmas.v) && m.vmas.v[i].Start < addr+n; i++ {
		v := &m.vmas.v[i]
		switch advice {
		case unix.MADV_DONTFORK:
			v.DontFork = true
		case unix.MADV_DOFORK:
			v.DontFork = false
		case unix.MADV_WIPEONFORK:
			v.WipeOnFork = true
		case unix.MADV_KEEPONFORK:
			v.WipeOnFork = false
		}
	}
	m.vmas.mergeRange(addr, addr+n)
	return nil
}

// Mremap resizes and possibly moves a mapping.
func (m *MM) Mremap(old, oldLen, newLen uintptr, flags int, newAddr uintptr) (uintptr, error) {
	const mayMove, fixed, dontUnmap = 1, 2, 4
	if old&(pageSize-1) != 0 || flags&^(mayMove|fixed|dontUnmap) != 0 ||
		flags&fixed != 0 && flags&mayMove == 0 || flags&dontUnmap != 0 {
		return 0, EINVAL
	}
	oldN, newN := pageUp(oldLen), pageUp(newLen)
	if newN == 0 || oldN == 0 {
		return 0, EINVAL
	}
	if newN > UserEnd {
		if flags&fixed != 0 {
			return 0, EINVAL
		}
		return 0, ENOMEM
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	vp, ok := m.vmas.lookup(old)
	if !ok || oldN > vp.End-old {
		return 0, unix.EFAULT
	}
	v := *vp // m.vmas changes below
	if v.HostPhys != 0 {
		return 0, EINVAL // the host's pages stay where they are
	}
	if flags&fixed == 0 {
		if newN <= oldN {
			m.unmapLocked(old+newN, oldN-newN)
			return old, nil
		}
		if !m.mayExpandLocked(newN-oldN, isData(v.Prot, v.Shared, v.GrowsDown)) {
			return 0, ENOMEM // RLIMIT_AS or RLIMIT_DATA
		}
		// Grow in place if the space after is free.
		if newN <= UserEnd-old && !m.vmas.overlaps(old+oldN, old+newN) {
			// (old+oldN is v.End: the range after it is free.)
			nv := v
			nv.Start, nv.End = old+oldN, old+newN
			if nv.Pager != nil {
				nv.PagerOff += int64((nv.Start - v.Start) / pageSize)
			}
			refVMA(&nv)
			m.vmas.insert(nv)
			return old, nil
		}
		if flags&mayMove == 0 {
			return 0, ENOMEM
		}
		var found bool
		if newAddr, found = m.findGap(newN, m.topLocked()); !found {
			return 0, ENOMEM
		}
	} else {
		if newAddr&(pageSize-1) != 0 || newAddr < MinAddr || newAddr > UserEnd-newN ||
			newAddr < old+oldN && old < newAddr+newN {
			return 0, EINVAL
		}
		if grow := newN - min(newN, oldN); grow > 0 && m.limitedLocked() {
			// What the new range replaces adds nothing.
			if !m.mayExpandLocked(grow-min(grow, m.mappedInLocked(newAddr, newN)), isData(v.Prot, v.Shared, v.GrowsDown)) {
				return 0, ENOMEM
			}
		}
		m.unmapLocked(newAddr, newN)
	}
	// Move: carry the pages over (no copying, copy-on-write marks
	// kept), then drop the old range.
	nv := v
	nv.Start, nv.End = newAddr, newAddr+newN
	if nv.Pager != nil {
		nv.PagerOff += int64((old - v.Start) / pageSize)
	}
	refVMA(&nv)
	keep := min(oldN, newN)
	m.pages.each(old, old+keep, func(va, pa uintptr) {
		cow := m.pages.isCOW(va)
		m.pages.clear(va)
		na := newAddr + (va - old)
		m.pages.set(na, pa)
		m.pages.setCOW(na, cow)
		if nv.Prot != 0 {
			m.pt.Map(na, pa, pageSize, leafOpts(nv.Prot, cow))
		}
	})
	if m.pt.Unmap(old, oldN) {
		m.as.Invalidate()
	}
	m.unmapLocked(old, oldN)
	m.vmas.insert(nv)
	return newAddr, nil
}

// Brk moves the program break; it returns the new (or unchanged) break.
func (m *MM) Brk(addr uintptr) uintptr {
	m.mu.Lock()
	defer m.mu.Unlock()
	if addr < m.brkStart || addr > m.brkStart+(1<<40) {
		return m.brk
	}
	oldEnd, newEnd := pageUp(m.brk), pageUp(addr)
	switch {
	case newEnd > oldEnd:
		if newEnd > UserEnd || m.vmas.overlaps(oldEnd, newEnd) || !m.mayExpandLocked(newEnd-oldEnd, true) {
			return m.brk
		}
		m.vmas.insert(VMA{Start: oldEnd, End: newEnd, Prot: ProtRead | ProtWrite,
			MaxProt: ProtRead | ProtWrite | ProtExec, Name: "[heap]"})
	case newEnd < oldEnd:
		m.unmapLocked(newEnd, oldEnd-newEnd)
	}
	m.brk = addr
	return m.brk
}

// FillFrom copies length bytes of r from offset off into the pages backing
// [addr, addr+length), which must be mapped and populated (MAP_POPULATE),
// whatever their protection: it is how a private file mapping gets its
// contents. Bytes past the end of r stay zero.
func (m *MM) FillFrom(addr, length uintptr, r io.ReaderAt, off int64) error {
	const chunk = 1 << 20
	buf := make([]byte, min(length, chunk))
	for done := uintptr(0); done < length; {
		n := min(length-done, chunk)
		got, err := r.ReadAt(buf[:n], off+int64(done))
		if got == 0 {
			if err == nil || err == io.EOF {
				return nil
			}
			return err
		}
		m.mu.Lock()
		for i := 0; i < got; {
			va := addr + done + uintptr(i)
			v, ok := m.vmas.lookup(va)
			if !ok || m.pages.get(va&^(pageSize-1)) == 0 {
				m.mu.Unlock()
				return EFAULT
			}
			// A fork since the pages were populated shares them:
			// write to a page of our own.
			pa, err := m.ownPage(v, va&^(pageSize-1))
			if err != nil {
				m.mu.Unlock()
				return err
			}
			k := min(got-i, int(pageSize-(va&(pageSize-1))))
			copy(memfile.Bytes(pa+(va&(pageSize-1)), uintptr(k)), buf[i:i+k])
			i += k
		}
		m.mu.Unlock()
		done += uintptr(got)
		if got < int(n) {
			return nil
		}
	}
	return nil
}

// Mapped reports whether [addr, addr+length) is entirely covered by VMAs.
func (m *MM) Mapped(addr, length uintptr) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return addr+length >= addr && m.vmas.mapped(addr, addr+length)
}

// Resident reports, for each page of [addr, addr+n pages), whether it is
// populated.
func (m *MM) Resident(addr uintptr, n int) []bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]bool, n)
	for i := range out {
		a := addr + uintptr(i)*pageSize
		v, ok := m.vmas.lookup(a)
		out[i] = m.pages.get(a) != 0 || ok && v.HostPhys != 0 && v.HostPhys != HostHole
	}
	return out
}
