package mm

// Detach removes the attachment of a memory object that starts at addr,
// as shmdt(2) does for a System V shared memory segment: the first
// mapping at or above addr whose object is one that size accepts, and
// that maps the object's page (Start-addr)/PageSize there (so addr is
// where the object's first page was attached, even if mprotect or munmap
// split or trimmed the attachment since), is unmapped, and so is every
// later mapping of the same object, placed the same way, that ends within
// the object's size of addr. size returns the object's size in bytes and
// whether the pager is one of the objects Detach is for. It fails with
// EINVAL when no mapping matches. size is called with the address space's
// lock held.
func (m *MM) Detach(addr uintptr, size func(Pager) (uintptr, bool)) error {
	if addr&(pageSize-1) != 0 || addr >= UserEnd {
		return EINVAL
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	placed := func(v *VMA) bool {
		return v.Pager != nil && v.Start >= addr && int64((v.Start-addr)/pageSize) == v.PagerOff
	}
	var obj Pager
	var limit uintptr
	i := m.vmas.find(addr)
	for ; i < len(m.vmas.v); i++ {
		v := &m.vmas.v[i]
		if !placed(v) {
			continue
		}
		n, ok := size(v.Pager)
		if !ok {
			continue
		}
		obj, limit = v.Pager, pageUp(n)
		break
	}
	if obj == nil {
		return EINVAL
	}
	// Collect the ranges first: unmapping changes m.vmas.
	type span struct{ start, end uintptr }
	var spans []span
	for ; i < len(m.vmas.v); i++ {
		v := &m.vmas.v[i]
		if v.End-addr > limit {
			break
		}
		if v.Pager == obj && placed(v) {
			spans = append(spans, span{v.Start, v.End})
		}
	}
	for _, s := range spans {
		m.unmapLocked(s.start, s.end-s.start)
	}
	return nil
}
