package hostfs

import (
	"runtime"
	"sync"

	"golang.org/x/sys/unix"

	"ringbox/guestkernel/hostcall"

	"ringbox/fs"
)

// Caches of a read-only filesystem whose host tree is taken not to change
// during a run (Cache; ringbox sets it for the default root's host layer and
// read-only bind mounts: the policy gVisor calls "immutable", see
// docs/how-it-works.md). A node keeps the attributes and the symlink
// target it was first seen with, and a directory remembers the names it
// does not have. Every one of these saves a host syscall, which in ring0
// mode is a VM exit (30-60 us on PVM). A writable tree caches nothing: its
// files may change under the sandbox.

// Cache turns the caches on for a read-only filesystem (it reports false,
// and does nothing, for a writable one). Call it before the filesystem is
// used.
func (f *FS) Cache() bool {
	if !f.readOnly {
		return false
	}
	f.cache = true
	return true
}

// maxNegative bounds the names a directory remembers as missing.
const maxNegative = 4096

// cachedStat returns the node's cached attributes, if it has them.
func (n *node) cachedStat() (unix.Stat_t, bool) {
	f := n.fs
	if !f.cache {
		return unix.Stat_t{}, false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if n.st == nil {
		return unix.Stat_t{}, false
	}
	return *n.st, true
}

// cacheStat records the node's attributes (already fixed up by fixStat).
func (n *node) cacheStat(st unix.Stat_t) {
	f := n.fs
	if !f.cache {
		return
	}
	f.mu.Lock()
	n.st = &st
	f.mu.Unlock()
}

// missingLocked reports whether name is known not to exist in n. Called
// with fs.mu held.
func (n *node) missingLocked(name string) bool {
	_, ok := n.negative[name]
	return ok
}

// rememberMissing records that name does not exist in n.
func (n *node) rememberMissing(name string) {
	f := n.fs
	if !f.cache {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if n.negative == nil {
		n.negative = map[string]struct{}{}
	}
	if len(n.negative) >= maxNegative {
		for k := range n.negative {
			delete(n.negative, k)
			break
		}
	}
	n.negative[name] = struct{}{}
}

// lookupCached looks name up with one host fstatat and no open: the node
// is made with its attributes cached and its O_PATH fd opened only when a
// call needs it. It reports ok false when a full lookup is needed (a mount
// point on the host, whose filesystem must be checked on an fd).
func (n *node) lookupCached(name string) (c *node, ok bool, err error) {
	f := n.fs
	f.mu.Lock()
	if n.missingLocked(name) {
		f.mu.Unlock()
		return nil, true, unix.ENOENT
	}
	if c := n.childLocked(name); c != nil && c.st != nil {
		f.mu.Unlock()
		return c, true, nil
	}
	c, missing, batch := n.listedLocked(name)
	parentDev := n.hostDev
	f.mu.Unlock()
	switch {
	case missing:
		return nil, true, unix.ENOENT
	case c != nil:
		return c, true, nil
	case batch:
		n.statListing()
		f.mu.Lock()
		c, missing, _ = n.listedLocked(name)
		f.mu.Unlock()
		if missing {
			return nil, true, unix.ENOENT
		}
		if c != nil {
			return c, true, nil
		}
	}
	dfd, err := n.dirFD()
	if err != nil {
		return nil, true, err
	}
	var st unix.Stat_t
	// One component below a directory fd, not following a symlink: the
	// host resolves nothing (checkName refused "/", "." and "..").
	err = hostcall.Fstatat(dfd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
	for err == unix.EINTR {
		err = hostcall.Fstatat(dfd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
	}
	n.release()
	if err == unix.ENOENT {
		n.rememberMissing(name)
		return nil, true, unix.ENOENT
	}
	if err != nil {
		return nil, true, errno(err)
	}
	if st.Dev != parentDev {
		return nil, false, nil
	}
	fixed := st
	f.fixStat(&fixed)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil, true, unix.EIO
	}
	if c := n.childLocked(name); c != nil && c.hostDev == st.Dev && c.ino == st.Ino {
		if c.st == nil {
			c.st = &fixed
		}
		return c, true, nil
	}
	c = n.newChildLocked(name, -1, &st, false)
	c.st = &fixed
	return c, true, nil
}

// cachedLink returns the node's cached symlink target, if it has one.
func (n *node) cachedLink() (string, bool) {
	f := n.fs
	if !f.cache {
		return "", false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return n.link, n.hasLink
}

// cacheLink records the node's symlink target.
func (n *node) cacheLink(target string) {
	f := n.fs
	if !f.cache {
		return
	}
	f.mu.Lock()
	n.link, n.hasLink = target, true
	f.mu.Unlock()
}

// Small files of a cached tree are read whole when opened and served from
// memory: a program that opens a file, reads it in pieces and closes it
// (an interpreter importing modules) costs an open, one read and a close
// on the host, and a file opened again costs nothing. Their contents stay
// with the node, within a budget per filesystem.
const (
	maxCachedFile  = 1 << 20
	maxCachedBytes = 256 << 20
)

// cachedContent returns the contents kept with the node, if any.
func (n *node) cachedContent() ([]byte, bool) {
	f := n.fs
	f.mu.Lock()
	defer f.mu.Unlock()
	return n.content, n.content != nil
}

// keepContent keeps data with the node if the budget allows.
func (n *node) keepContent(data []byte) {
	f := n.fs
	f.mu.Lock()
	defer f.mu.Unlock()
	if n.content != nil || f.contentBytes+int64(len(data)) > maxCachedBytes {
		return
	}
	n.content = data
	f.contentBytes += int64(len(data))
	runtime.AddCleanup(n, f.dropContent, int64(len(data)))
}

// dropContent gives a collected node's contents back to the budget.
func (f *FS) dropContent(size int64) {
	f.mu.Lock()
	f.contentBytes -= size
	f.mu.Unlock()
}

// openCached opens a regular file of a cached tree for reading: from the
// node's kept contents, or by reading a small file whole (one open, one
// read, one close), or as a host file. ok is false when the caller must
// take the general path.
func (n *node) openCached(hflags int) (impl fs.Impl, ok bool, err error) {
	if hflags&unix.O_ACCMODE != unix.O_RDONLY {
		return nil, false, nil
	}
	if n.isSpecial() {
		return nil, true, unix.EACCES // on a kernel pseudo-filesystem
	}
	st, have := n.cachedStat()
	if !have {
		// Made by a full lookup (a mount point, the root): an fstat
		// caches the attributes from now on.
		var err error
		if st, err = n.Stat(); err != nil {
			return nil, true, err
		}
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		impl, err := n.openCachedDir(st)
		return impl, true, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, false, nil
	}
	if data, ok := n.cachedContent(); ok {
		return &memFile{st: st, data: data, size: int64(len(data)), node: n}, true, nil
	}
	if st.Size >= pageSize && st.Size <= maxCachedFile {
		if pc := n.pageCacheOf(st.Size); pc != nil && pc.complete() {
			return &memFile{st: st, pc: pc, size: pc.size, node: n}, true, nil
		}
	}
	parent, pfd, name, err := n.parentFD()
	if err != nil {
		return nil, true, err
	}
	// O_NONBLOCK: should the host have put a FIFO there after all, the
	// open does not block; the fstat below then refuses it.
	fd, err := openat2(pfd, name, hflags|unix.O_NONBLOCK|unix.O_NOCTTY, 0)
	parent.release()
	if err != nil {
		return nil, true, err
	}
	hst, err := fstat(fd)
	if err == nil && (hst.Mode&unix.S_IFMT != unix.S_IFREG || hst.Ino != n.ino || hst.Dev != n.hostDev) {
		err = unix.ESTALE // not the file this node was made for
	}
	if err != nil {
		hostcall.Close(fd)
		return nil, true, err
	}
	if hst.Size > maxCachedFile {
		// A big file stays a host file (blocking reads, as opened).
		if hflags&unix.O_NONBLOCK == 0 {
			if _, err := hostcall.FcntlInt(uintptr(fd), unix.F_SETFL, hflags&(unix.O_APPEND|unix.O_DIRECT|unix.O_NOATIME)); err != nil {
				hostcall.Close(fd)
				return nil, true, errno(err)
			}
		}
		return &file{fs: n.fs, fd: fd, node: n, size: hst.Size}, true, nil
	}
	if hst.Size >= pageSize {
		// Read into the page cache, where a mapping of the file finds
		// the same pages: one copy, in the memory file, for reads and
		// for every process that maps it (ld.so, small libraries).
		if pc := n.pageCacheOf(hst.Size); pc != nil && pc.size == hst.Size {
			err := pc.fillAll(preadvFill(fd))
			if err != unix.ENOMEM {
				hostcall.Close(fd)
				if err != nil {
					return nil, true, err
				}
				return &memFile{st: st, pc: pc, size: pc.size, node: n}, true, nil
			}
			// No room in the page cache: a copy of the file's own.
		}
	}
	data := make([]byte, hst.Size)
	got := 0
	for got < len(data) {
		k, err := retry(func() (int, error) { return hostcall.Pread(fd, data[got:], int64(got)) })
		if err != nil {
			hostcall.Close(fd)
			return nil, true, err
		}
		if k == 0 {
			break // the file shrank: keep what there is
		}
		got += k
	}
	hostcall.Close(fd)
	data = data[:got]
	n.keepContent(data)
	return &memFile{st: st, data: data, size: int64(len(data)), node: n}, true, nil
}

// memFile is an open small file of a cached tree, served from memory: the
// tree's page cache, or (a file smaller than a page, a tree without a page
// cache, a full cache) a copy kept with the node.
type memFile struct {
	st   unix.Stat_t
	data []byte     // the copy, or nil
	pc   *pageCache // the page cache, when data is nil
	size int64
	node *node
	mu   sync.Mutex
	off  int64
}

var _ fs.Impl = (*memFile)(nil)

func (m *memFile) Read(p []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, _ := m.Pread(p, m.off)
	m.off += int64(n)
	return n, nil
}

func (m *memFile) Write(p []byte) (int, error) { return 0, unix.EBADF }

func (m *memFile) Pread(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, unix.EINVAL
	}
	if off >= m.size {
		return 0, nil
	}
	if m.pc != nil {
		// A page given back since is read again from the host.
		return m.pc.readAt(p, off, m.node.hostFill)
	}
	return copy(p, m.data[off:]), nil
}

func (m *memFile) Pwrite(p []byte, off int64) (int, error) { return 0, unix.EBADF }

func (m *memFile) Seek(off int64, whence int) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var base int64
	switch whence {
	case unix.SEEK_SET:
	case unix.SEEK_CUR:
		base = m.off
	case unix.SEEK_END:
		base = m.size
	case unix.SEEK_DATA, unix.SEEK_HOLE:
		if off < 0 || off >= m.size {
			return 0, unix.ENXIO
		}
		if whence == unix.SEEK_HOLE {
			off = m.size
		}
	default:
		return 0, unix.EINVAL
	}
	if base+off < 0 {
		return 0, unix.EINVAL
	}
	m.off = base + off
	return m.off, nil
}

func (m *memFile) Stat() (unix.Stat_t, error) { return m.st, nil }
func (m *memFile) IsTerminal() bool           { return false }
func (m *memFile) Poll(mask int16, timeoutMs int) (int16, error) {
	return mask & (unix.POLLIN | unix.POLLOUT | pollRdNorm | pollWrNorm), nil
}
func (m *memFile) Release() {}

// FileOps: a read-only tree refuses changes; fsync has nothing to do.
func (m *memFile) Truncate(size int64) error                { return unix.EROFS }
func (m *memFile) Sync(dataOnly bool) error                 { return nil }
func (m *memFile) Chmod(mode uint32) error                  { return unix.EROFS }
func (m *memFile) Utimens(atime, mtime unix.Timespec) error { return unix.EROFS }

// CachedPage implements fs.CachedPager.
func (m *memFile) CachedPage(idx int64) uintptr { return m.node.cachedPage(m.size, idx) }

// PageAddr implements fs.Pager: page idx from the node's page cache,
// filled from the kept copy or from the host.
func (m *memFile) PageAddr(idx int64) (uintptr, error) {
	pc := m.node.pageCacheOf(m.size)
	if pc == nil {
		return 0, unix.ENODEV
	}
	if m.data == nil {
		return pc.page(idx, m.node.hostFill)
	}
	return pc.page(idx, copyFill(m.data))
}
