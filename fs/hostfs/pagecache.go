package hostfs

import (
	"container/list"
	"runtime"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"

	"ringbox/fs"
	"ringbox/guestkernel/hostcall"
)

// The page cache of a cached (read-only, unchanging) tree: the pages of a
// regular file, read from the host into pages of the memory file once, and
// mapped by every process that maps the file (fs.Pager), MAP_PRIVATE ones
// copy-on-write. So every process shares one copy of ld.so's, libc's and
// python's extension modules' pages instead of copying them per mapping.
//
// The cache holds one reference on each page. Its pages count against a
// budget per filesystem; past it, the caches of the files used longest
// ago lose their references (pages still mapped stay, owned by their
// mappings) before a new page is taken.

const (
	pageSize = 4096
	// fillPages are read from the host at once on a file's first miss
	// (one preadv); later misses read windows of up to
	// fillPages<<maxFillShift pages (1 MiB).
	fillPages    = 32
	maxFillShift = 3
)

// pageCache is one file's cached pages.
type pageCache struct {
	fs   *FS
	size int64 // the file's size, fixed (the tree does not change)
	mu   sync.Mutex
	// pages[i] is the memory-file address of page i, or 0.
	pages []uintptr
	held  int           // non-zero entries of pages
	fills int           // host reads so far: the window grows with them
	elem  *list.Element // in fs.caches, under fs.pcMu
}

// SetPageSource gives a cached tree the memory file, from which its page
// cache takes pages, at most budget bytes of them. Without it (or for a
// tree that is not cached) files are not mapped from a cache: mmap copies.
func (f *FS) SetPageSource(src fs.PageSource, budget int64) {
	f.pcMu.Lock()
	defer f.pcMu.Unlock()
	f.src = src
	f.pcBudget = int(budget / pageSize)
}

// pageCacheOf returns n's page cache for a file of size bytes, making it
// on first use; nil when the tree has none.
func (n *node) pageCacheOf(size int64) *pageCache {
	f := n.fs
	if !f.cache {
		return nil
	}
	f.pcMu.Lock()
	defer f.pcMu.Unlock()
	if f.src == nil || f.pcBudget == 0 {
		return nil
	}
	if n.pc == nil {
		pc := &pageCache{fs: f, size: size, pages: make([]uintptr, (size+pageSize-1)/pageSize)}
		n.pc = pc
		// A node that is collected (nothing names or maps it any more)
		// gives its pages back.
		runtime.AddCleanup(n, func(pc *pageCache) { pc.drop() }, pc)
	}
	return n.pc
}

// cachedPage returns the address of page idx of n's page cache (for a
// file of size bytes) if it holds the page, else 0: fs.CachedPager for
// every Impl that maps n's pages.
func (n *node) cachedPage(size, idx int64) uintptr {
	if pc := n.pageCacheOf(size); pc != nil {
		return pc.cached(idx)
	}
	return 0
}

// cached returns the address of page idx if the cache holds it, else 0.
func (pc *pageCache) cached(idx int64) uintptr {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if idx < 0 || idx >= int64(len(pc.pages)) {
		return 0
	}
	return pc.pages[idx]
}

// filler reads count bytes at off of the file into the given pages.
type filler func(iov []unix.Iovec, off int64) error

// page returns the address of page idx, reading it (and the pages around
// it) with fill on a miss. ENXIO past the end of the file.
func (pc *pageCache) page(idx int64, fill filler) (uintptr, error) {
	if idx < 0 || idx*pageSize >= pc.size {
		return 0, unix.ENXIO
	}
	pc.mu.Lock()
	defer pc.mu.Unlock()
	return pc.pageLocked(idx, fill)
}

// pageLocked is page with pc.mu held.
func (pc *pageCache) pageLocked(idx int64, fill filler) (uintptr, error) {
	if pa := pc.pages[idx]; pa != 0 {
		pc.touch()
		return pa, nil
	}
	// The run of missing pages around idx within its aligned window. The
	// window grows with each fill of the file (fillPages, then twice
	// that ... up to fillPages<<maxFillShift), so a big library whose
	// pages are faulted all over costs a few host reads, a file touched
	// once only one small one.
	window := int64(fillPages) << min(pc.fills, maxFillShift)
	start := idx &^ (window - 1)
	end := min(start+window, int64(len(pc.pages)))
	first, last := idx, idx+1
	for first > start && pc.pages[first-1] == 0 {
		first--
	}
	for last < end && pc.pages[last] == 0 {
		last++
	}
	if err := pc.fillLocked(first, last, fill); err != nil {
		if last-first == 1 || err != unix.ENOMEM {
			return 0, err
		}
		// No room for the window (the file's own pages cannot be
		// evicted to make it): the faulting page alone.
		if err := pc.fillLocked(idx, idx+1, fill); err != nil {
			return 0, err
		}
	}
	return pc.pages[idx], nil
}

// fillLocked reads the pages [first, last), all missing, with one fill.
func (pc *pageCache) fillLocked(first, last int64, fill filler) error {
	n := int(last - first)
	if err := pc.fs.reservePages(pc, n); err != nil {
		return err
	}
	got := make([]uintptr, 0, n)
	for i := 0; i < n; i++ {
		pa, err := pc.fs.src.Alloc()
		if err != nil {
			for _, p := range got {
				pc.fs.src.Free(p)
			}
			pc.fs.unreservePages(n)
			return unix.ENOMEM
		}
		got = append(got, pa)
	}
	iov := make([]unix.Iovec, n)
	for i, pa := range got {
		iov[i].Base = (*byte)(unsafe.Add(nil, pa))
		iov[i].SetLen(pageSize)
	}
	if err := fill(iov, first*pageSize); err != nil {
		for _, p := range got {
			pc.fs.src.Free(p)
		}
		pc.fs.unreservePages(n)
		return err
	}
	pc.fills++
	for i, pa := range got {
		if pc.pages[first+int64(i)] != 0 {
			pc.fs.src.Free(pa) // (cannot happen: a run of holes, under mu)
			pc.fs.unreservePages(1)
			continue
		}
		pc.pages[first+int64(i)] = pa
		pc.held++
	}
	return nil
}

// fillAll reads every missing page of the file, a run of holes per fill:
// a small file read whole when it is opened.
func (pc *pageCache) fillAll(fill filler) error {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	for i := int64(0); i < int64(len(pc.pages)); i++ {
		if pc.pages[i] != 0 {
			continue
		}
		j := i + 1
		for j < int64(len(pc.pages)) && pc.pages[j] == 0 {
			j++
		}
		if err := pc.fillLocked(i, j, fill); err != nil {
			return err
		}
		i = j
	}
	return nil
}

// complete reports whether every page of the file is in the cache.
func (pc *pageCache) complete() bool {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	return pc.held == len(pc.pages)
}

// readAt copies the file's bytes at off into p from the cached pages,
// reading the missing ones with fill. pc.mu is held while copying, so no
// page is given back under the copy (eviction skips a busy cache).
func (pc *pageCache) readAt(p []byte, off int64, fill filler) (int, error) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	done := 0
	for done < len(p) && off < pc.size {
		pa, err := pc.pageLocked(off/pageSize, fill)
		if err != nil {
			if done > 0 {
				return done, nil
			}
			return 0, err
		}
		in := off % pageSize
		k := int(min(pageSize-in, pc.size-off))
		k = copy(p[done:], unsafe.Slice((*byte)(unsafe.Add(nil, pa+uintptr(in))), k))
		done += k
		off += int64(k)
	}
	return done, nil
}

// touch moves pc to the front of the eviction order.
func (pc *pageCache) touch() {
	f := pc.fs
	f.pcMu.Lock()
	if pc.elem != nil {
		f.caches.MoveToFront(pc.elem)
	}
	f.pcMu.Unlock()
}

// drop gives back every page pc holds. Caller must not hold pc.mu.
func (pc *pageCache) drop() {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	pc.dropLocked()
}

func (pc *pageCache) dropLocked() {
	f := pc.fs
	for i, pa := range pc.pages {
		if pa != 0 {
			f.src.Free(pa)
			pc.pages[i] = 0
		}
	}
	f.pcMu.Lock()
	f.pcPages -= pc.held
	if pc.elem != nil {
		f.caches.Remove(pc.elem)
		pc.elem = nil
	}
	f.pcMu.Unlock()
	pc.held = 0
}

// reservePages counts n more pages for pc, evicting the caches used
// longest ago (never pc itself, whose mu the caller holds) to stay within
// the budget. ENOMEM when even that does not make room.
func (f *FS) reservePages(pc *pageCache, n int) error {
	for {
		f.pcMu.Lock()
		if f.pcPages+n <= f.pcBudget {
			f.pcPages += n
			if pc.elem == nil {
				pc.elem = f.caches.PushFront(pc)
			} else {
				f.caches.MoveToFront(pc.elem)
			}
			f.pcMu.Unlock()
			return nil
		}
		// The cache used longest ago that is not busy (filling, or
		// read under its lock: skipped, it stays in the order). TryLock
		// under pcMu cannot deadlock with the usual pc.mu -> pcMu order.
		var victim *pageCache
		for e := f.caches.Back(); e != nil; e = e.Prev() {
			if c := e.Value.(*pageCache); c != pc && c.mu.TryLock() {
				victim = c
				break
			}
		}
		f.pcMu.Unlock()
		if victim == nil {
			return unix.ENOMEM
		}
		victim.dropLocked()
		victim.mu.Unlock()
	}
}

func (f *FS) unreservePages(n int) {
	f.pcMu.Lock()
	f.pcPages -= n
	f.pcMu.Unlock()
}

// PageCacheBytes reports the bytes of host files the tree's page cache
// holds (for --debug).
func (f *FS) PageCacheBytes() int64 {
	f.pcMu.Lock()
	defer f.pcMu.Unlock()
	return int64(f.pcPages) * pageSize
}

// preadvFill reads from the host file fd.
func preadvFill(fd int) filler {
	return func(iov []unix.Iovec, off int64) error {
		want := 0
		for i := range iov {
			want += int(iov[i].Len)
		}
		// A short read (the last page of the file) leaves the rest of
		// the pages zero, as Linux shows past the end of a file.
		for done := 0; done < want; {
			k, err := retry(func() (int, error) { return hostcall.Preadv(fd, iov, off+int64(done)) })
			if err != nil {
				return err
			}
			if k == 0 {
				break
			}
			done += k
			// Drop the iovecs read in full, trim the next.
			for k > 0 && len(iov) > 0 {
				if uint64(k) >= iov[0].Len {
					k -= int(iov[0].Len)
					iov = iov[1:]
					continue
				}
				iov[0].Base = (*byte)(unsafe.Add(unsafe.Pointer(iov[0].Base), k))
				iov[0].SetLen(int(iov[0].Len) - k)
				k = 0
			}
		}
		return nil
	}
}

// copyFill fills from a small file's kept contents.
func copyFill(data []byte) filler {
	return func(iov []unix.Iovec, off int64) error {
		for i := range iov {
			dst := unsafe.Slice(iov[i].Base, iov[i].Len)
			if off < int64(len(data)) {
				copy(dst, data[off:])
			}
			off += int64(iov[i].Len)
		}
		return nil
	}
}

// nodePager maps a file of a cached tree by its node, with no open file:
// a miss opens the file for the read (fs.StablePager).
type nodePager struct {
	n    *node
	size int64
}

// PageAddr implements fs.Pager.
func (p nodePager) PageAddr(idx int64) (uintptr, error) {
	pc := p.n.pageCacheOf(p.size)
	if pc == nil {
		return 0, unix.ENODEV
	}
	return pc.page(idx, p.n.hostFill)
}

// CachedPage implements fs.CachedPager.
func (p nodePager) CachedPage(idx int64) uintptr { return p.n.cachedPage(p.size, idx) }

// hostFill reads the node's file from the host, opened for the read.
func (n *node) hostFill(iov []unix.Iovec, off int64) error {
	if data, ok := n.cachedContent(); ok {
		return copyFill(data)(iov, off)
	}
	fd, _, err := n.openByName(unix.O_RDONLY)
	if err != nil {
		return err
	}
	defer hostcall.Close(fd)
	return preadvFill(fd)(iov, off)
}

// stablePager returns n's nodePager, or nil for a tree without a page
// cache.
func (n *node) stablePager(size int64) fs.Pager {
	if n.pageCacheOf(size) == nil {
		return nil
	}
	return nodePager{n: n, size: size}
}

// StablePager implements fs.StablePager.
func (h *file) StablePager() fs.Pager {
	if h.node == nil {
		return nil
	}
	return h.node.stablePager(h.size)
}

// StablePager implements fs.StablePager.
func (m *memFile) StablePager() fs.Pager { return m.node.stablePager(m.size) }
