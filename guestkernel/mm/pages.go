package mm

import "slices"

// pageMap records which memory-file page backs each populated user page.
// It is the source of truth; the page tables are derived from it and the
// VMAs (a PROT_NONE page is populated here but not in the page tables).
// Pages are grouped in 2 MiB chunks so range walks skip empty space.
//
// A page of a private mapping may be shared copy-on-write with other
// address spaces after fork: its COW bit is then set, its page-table entry
// is read-only, and the first write either copies it or, when this address
// space turns out to be its last owner, makes it writable in place.
type pageMap struct {
	chunks map[uintptr]*chunk // key: va >> chunkShift
	count  int
}

const (
	pageShift  = 12
	pageSize   = 1 << pageShift
	chunkShift = 21
	chunkPages = 1 << (chunkShift - pageShift)
)

type chunk struct {
	pa  [chunkPages]uintptr
	cow [chunkPages / 64]uint64 // COW bits, one per page
	n   int
}

func (m *pageMap) get(va uintptr) uintptr {
	c := m.chunks[va>>chunkShift]
	if c == nil {
		return 0
	}
	return c.pa[(va>>pageShift)&(chunkPages-1)]
}

// set records pa as the page behind va, with the COW bit clear.
func (m *pageMap) set(va, pa uintptr) {
	if m.chunks == nil {
		m.chunks = map[uintptr]*chunk{}
	}
	k := va >> chunkShift
	c := m.chunks[k]
	if c == nil {
		c = &chunk{}
		m.chunks[k] = c
	}
	i := (va >> pageShift) & (chunkPages - 1)
	if c.pa[i] == 0 {
		c.n++
		m.count++
	}
	c.pa[i] = pa
	c.cow[i/64] &^= 1 << (i % 64)
}

// isCOW reports whether the page at va is marked copy-on-write.
func (m *pageMap) isCOW(va uintptr) bool {
	c := m.chunks[va>>chunkShift]
	if c == nil {
		return false
	}
	i := (va >> pageShift) & (chunkPages - 1)
	return c.cow[i/64]&(1<<(i%64)) != 0
}

// setCOW sets or clears the COW bit of the populated page at va.
func (m *pageMap) setCOW(va uintptr, on bool) {
	c := m.chunks[va>>chunkShift]
	if c == nil {
		return
	}
	i := (va >> pageShift) & (chunkPages - 1)
	if c.pa[i] == 0 {
		return
	}
	if on {
		c.cow[i/64] |= 1 << (i % 64)
	} else {
		c.cow[i/64] &^= 1 << (i % 64)
	}
}

// clear removes va and returns the page that backed it (0 if none).
func (m *pageMap) clear(va uintptr) uintptr {
	k := va >> chunkShift
	c := m.chunks[k]
	if c == nil {
		return 0
	}
	i := (va >> pageShift) & (chunkPages - 1)
	pa := c.pa[i]
	if pa != 0 {
		c.pa[i] = 0
		c.cow[i/64] &^= 1 << (i % 64)
		c.n--
		m.count--
		if c.n == 0 {
			delete(m.chunks, k)
		}
	}
	return pa
}

// each calls fn for every populated page in [start, end), in address order.
func (m *pageMap) each(start, end uintptr, fn func(va, pa uintptr)) {
	if len(m.chunks) == 0 {
		return
	}
	// Walk chunk by chunk; when the range is much larger than the
	// populated set, iterate the map instead.
	nChunks := (end - start + (1 << chunkShift) - 1) >> chunkShift
	if nChunks > uintptr(len(m.chunks))*4 {
		keys := make([]uintptr, 0, len(m.chunks))
		for k := range m.chunks {
			if k >= start>>chunkShift && k <= (end-1)>>chunkShift {
				keys = append(keys, k)
			}
		}
		sortUintptrs(keys)
		for _, k := range keys {
			m.eachInChunk(k, start, end, fn)
		}
		return
	}
	for k := start >> chunkShift; k <= (end-1)>>chunkShift; k++ {
		m.eachInChunk(k, start, end, fn)
	}
}

func (m *pageMap) eachInChunk(k, start, end uintptr, fn func(va, pa uintptr)) {
	c := m.chunks[k]
	if c == nil {
		return
	}
	base := k << chunkShift
	for i := 0; i < chunkPages; i++ {
		va := base + uintptr(i)<<pageShift
		if va < start || va >= end || c.pa[i] == 0 {
			continue
		}
		fn(va, c.pa[i])
	}
}

func sortUintptrs(s []uintptr) { slices.Sort(s) }
