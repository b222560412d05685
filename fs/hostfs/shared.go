package hostfs

import (
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"

	"ringbox/fs"
	"ringbox/guestkernel/hostcall"
)

// Shared mappings of the files of a tree that changes (a read-write bind
// mount). The program never maps host memory: MAP_SHARED maps pages of the
// memory file that hold the file's contents (a sharedFile per host inode,
// filled from the host on first touch), and every mapping of the file, in
// every process, maps the same pages. While a file has them, reads and
// writes through any descriptor of it in the sandbox stay coherent with
// the mappings: a read sees what the mappings wrote, a write updates the
// pages as well as the host file. What the mappings wrote reaches the
// host file on msync, fsync or fdatasync of any descriptor of the file,
// and when the last mapping and descriptor that use the pages are gone
// (a process's exit included). Programs on the host see it then, not
// before; a change that a host program makes meanwhile to a page the
// sandbox has is not seen in the sandbox, and the page written back over
// it. A file truncated while mapped keeps its mapped pages (zeroed past
// the new end) instead of SIGBUS.

// inodeKey names a host inode.
type inodeKey struct{ dev, ino uint64 }

// sharedFile is the pages of one host file that shared mappings map.
type sharedFile struct {
	fs  *FS
	key inodeKey

	mu sync.Mutex
	// fd is a host descriptor of the file of its own (a duplicate of the
	// first mapper's, and of the first writable one's once there is
	// one), for filling pages and writing them back.
	fd       int
	writable bool
	// pages are the memory-file pages by index (sparse: a mapping can
	// sit at any offset of a huge sparse file). The memory limit bounds
	// them.
	pages map[int64]uintptr
	// dirty marks the pages a mapping that can write has asked for: they
	// are written back at every flush (a page mapped writable can change
	// at any time, without asking again).
	dirty map[int64]bool
	users int // open files attached (file.shared)
	gone  bool
}

// lockShared returns the shared pages of h's file locked, if a mapping
// has them; the caller makes its host call and its change to the pages
// before it unlocks them, so that a write-back never falls between the
// two and two users of one file description never see each other's
// offsets. nil when there are none.
func (h *file) lockShared() *sharedFile {
	f := h.fs
	if f.nShared.Load() == 0 {
		return nil
	}
	sf := h.shared.Load()
	if sf == nil {
		key, err := h.inode()
		if err != nil {
			return nil
		}
		f.sharedMu.Lock()
		sf = f.shared[key]
		f.sharedMu.Unlock()
		if sf == nil {
			return nil
		}
	}
	sf.mu.Lock()
	if sf.gone {
		sf.mu.Unlock()
		return nil
	}
	return sf
}

// inode returns the host inode of h, asked of the host once.
func (h *file) inode() (inodeKey, error) {
	h.keyOnce.Do(func() {
		st, err := fstat(h.fd)
		h.key, h.keyErr = inodeKey{uint64(st.Dev), st.Ino}, err
	})
	return h.key, h.keyErr
}

// MapShared implements fs.SharedMapper for a file of a tree that changes:
// the pager of the file's shared pages, which h uses until it is released.
// ENODEV elsewhere (a cached tree maps its page cache; fs.Pager).
func (h *file) MapShared() (fs.Pager, error) {
	f := h.fs
	if f.cache || h.node != nil {
		return nil, unix.ENODEV
	}
	f.pcMu.Lock()
	src := f.src
	f.pcMu.Unlock()
	if src == nil {
		return nil, unix.ENODEV
	}
	key, err := h.inode()
	if err != nil {
		return nil, err
	}
	fl, err := hostcall.FcntlInt(uintptr(h.fd), unix.F_GETFL, 0)
	if err != nil {
		return nil, errno(err)
	}
	writable := fl&unix.O_ACCMODE != unix.O_RDONLY
	f.sharedMu.Lock()
	defer f.sharedMu.Unlock()
	sf := f.shared[key]
	if sf == nil {
		sf = &sharedFile{fs: f, key: key, fd: -1, pages: map[int64]uintptr{}, dirty: map[int64]bool{}}
		if f.shared == nil {
			f.shared = make(map[inodeKey]*sharedFile)
		}
		f.shared[key] = sf
		f.nShared.Add(1)
	}
	sf.mu.Lock()
	defer sf.mu.Unlock()
	if sf.fd < 0 || writable && !sf.writable {
		nfd, err := hostcall.FcntlInt(uintptr(h.fd), unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			if sf.users == 0 {
				f.dropSharedLocked(sf)
			}
			return nil, errno(err)
		}
		if sf.fd >= 0 {
			hostcall.Close(sf.fd)
		}
		sf.fd, sf.writable = nfd, writable
	}
	if h.shared.Load() == nil {
		h.shared.Store(sf)
		sf.users++
	}
	if writable {
		return writablePager{sf}, nil
	}
	return sf, nil
}

// dropSharedLocked forgets sf (f.sharedMu held).
func (f *FS) dropSharedLocked(sf *sharedFile) {
	if f.shared[sf.key] == sf {
		delete(f.shared, sf.key)
		f.nShared.Add(-1)
	}
}

// detach is h's release of its file's shared pages: the last user writes
// them back and gives them up.
func (h *file) detach() {
	sf := h.shared.Swap(nil)
	if sf == nil {
		return
	}
	f := h.fs
	// Both locks across the write-back: no descriptor's write slips in
	// between it and the pages' release, and nobody attaches to a file
	// on its way out (a new mapper then starts afresh from the host file,
	// written back).
	f.sharedMu.Lock()
	defer f.sharedMu.Unlock()
	sf.mu.Lock()
	defer sf.mu.Unlock()
	sf.users--
	if sf.users > 0 {
		return
	}
	sf.flushLocked()
	sf.gone = true
	f.dropSharedLocked(sf)
	f.pcMu.Lock()
	src := f.src
	f.pcMu.Unlock()
	for idx, pa := range sf.pages {
		// Mappings hold references of their own.
		src.Free(pa)
		delete(sf.pages, idx)
	}
	clear(sf.dirty)
	hostcall.Close(sf.fd)
	sf.fd = -1
}

// pageBytes is the memory of the memory-file page at pa.
func pageBytes(pa uintptr) []byte {
	return unsafe.Slice((*byte)(unsafe.Add(nil, pa)), pageSize)
}

// PageAddr implements fs.Pager: page idx, read from the host on first use;
// ENXIO past the end of the file (SIGBUS).
func (sf *sharedFile) PageAddr(idx int64) (uintptr, error) {
	return sf.page(idx, false)
}

func (sf *sharedFile) page(idx int64, write bool) (uintptr, error) {
	sf.mu.Lock()
	defer sf.mu.Unlock()
	if sf.gone || idx < 0 || idx > maxSharedPages {
		return 0, unix.ENXIO
	}
	if pa := sf.pages[idx]; pa != 0 {
		if write {
			sf.dirty[idx] = true
		}
		return pa, nil
	}
	st, err := fstat(sf.fd)
	if err != nil {
		return 0, err
	}
	if idx*pageSize >= st.Size {
		return 0, unix.ENXIO
	}
	sf.fs.pcMu.Lock()
	src := sf.fs.src
	sf.fs.pcMu.Unlock()
	pa, err := src.Alloc()
	if err != nil {
		return 0, err
	}
	// A short read (the file's last page) leaves the rest zero.
	iov := []unix.Iovec{{Base: (*byte)(unsafe.Add(nil, pa))}}
	iov[0].SetLen(pageSize)
	if err := preadvFill(sf.fd)(iov, idx*pageSize); err != nil {
		src.Free(pa)
		return 0, err
	}
	sf.pages[idx] = pa
	if write {
		sf.dirty[idx] = true
	}
	return pa, nil
}

// maxSharedPages bounds the page index of a shared mapping: Linux's
// largest file offset.
const maxSharedPages = (1<<63 - 1) / pageSize

// writablePager is the pager of a mapping that can write: the pages it
// hands out are written back at every flush.
type writablePager struct{ sf *sharedFile }

// PageAddr implements fs.Pager.
func (p writablePager) PageAddr(idx int64) (uintptr, error) { return p.sf.page(idx, true) }

// Flush implements fs.Flusher.
func (p writablePager) Flush() error { return p.sf.Flush() }

// Flush implements fs.Flusher (msync): the pages mappings may have
// written go to the host file.
func (sf *sharedFile) Flush() error {
	sf.mu.Lock()
	defer sf.mu.Unlock()
	return sf.flushLocked()
}

func (sf *sharedFile) flushLocked() error {
	if sf.fd < 0 || !sf.writable || len(sf.dirty) == 0 {
		return nil
	}
	st, err := fstat(sf.fd)
	if err != nil {
		return err
	}
	var first error
	for idx := range sf.dirty {
		pa, off := sf.pages[idx], idx*pageSize
		if pa == 0 || off >= st.Size {
			continue
		}
		b := pageBytes(pa)[:min(pageSize, st.Size-off)]
		for len(b) > 0 {
			n, err := retry(func() (int, error) { return hostcall.Pwrite(sf.fd, b, off) })
			if err != nil {
				if first == nil {
					first = err
				}
				break
			}
			b, off = b[n:], off+int64(n)
		}
	}
	return first
}

// overlayLocked copies what the shared pages hold of [off, off+len(p))
// over p, which a read from the host filled.
func (sf *sharedFile) overlayLocked(p []byte, off int64) {
	sf.each(p, off, func(page, b []byte) { copy(b, page) })
}

// updateLocked copies p, just written to the host at off, into the
// shared pages.
func (sf *sharedFile) updateLocked(p []byte, off int64) {
	sf.each(p, off, func(page, b []byte) { copy(page, b) })
}

// each calls f with the part of every present page that [off, off+len(p))
// covers and the matching part of p (sf.mu held).
func (sf *sharedFile) each(p []byte, off int64, f func(page, b []byte)) {
	if off < 0 {
		return
	}
	for len(p) > 0 {
		idx, in := off/pageSize, int(off%pageSize)
		n := min(len(p), pageSize-in)
		if pa := sf.pages[idx]; pa != 0 {
			f(pageBytes(pa)[in:in+n], p[:n])
		}
		p, off = p[n:], off+int64(n)
	}
}

// truncatedLocked zeroes what the shared pages hold past size.
func (sf *sharedFile) truncatedLocked(size int64) {
	for idx, pa := range sf.pages {
		off := idx * pageSize
		if off+pageSize <= size {
			continue
		}
		clear(pageBytes(pa)[max(0, size-off):])
	}
}

// truncatedShared tells the shared pages of the file open at fd, if any,
// that it was truncated to size by path or by an open with O_TRUNC.
func (f *FS) truncatedShared(fd int, size int64) {
	if f.nShared.Load() == 0 {
		return
	}
	st, err := fstat(fd)
	if err != nil {
		return
	}
	f.sharedMu.Lock()
	sf := f.shared[inodeKey{uint64(st.Dev), st.Ino}]
	f.sharedMu.Unlock()
	if sf == nil {
		return
	}
	sf.mu.Lock()
	if !sf.gone {
		sf.truncatedLocked(size)
	}
	sf.mu.Unlock()
}
