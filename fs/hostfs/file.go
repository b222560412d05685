package hostfs

import (
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"ringbox/guestkernel/hostcall"

	"ringbox/fs"
)

// FileOps are the changes made through an open file (ftruncate, fsync,
// fchmod, futimens), which the syscall layer type-asserts on the Impl.
type FileOps = fs.FileOps

// file is an open regular file (or, as dirFile, a directory).
type file struct {
	fs *FS
	fd int
	// node is set for a regular file of a cached tree: its pages can be
	// mapped from the node's page cache.
	node *node
	size int64

	// shared is set while the file's mappings use its inode's shared
	// pages (shared.go); key is the inode, read once.
	shared  atomic.Pointer[sharedFile]
	keyOnce sync.Once
	key     inodeKey
	keyErr  error
}

var (
	_ fs.Impl      = (*file)(nil)
	_ FileOps      = (*file)(nil)
	_ fs.DirReader = (*dirFile)(nil)
	_ fs.Pager     = (*file)(nil)
	_ fs.Pager     = (*memFile)(nil)
)

// PageAddr implements fs.Pager: for a regular file of a cached tree, page
// idx from the node's page cache (read from the host on first use);
// ENODEV otherwise (mmap then copies).
func (h *file) PageAddr(idx int64) (uintptr, error) {
	if h.node == nil {
		return 0, unix.ENODEV
	}
	pc := h.node.pageCacheOf(h.size)
	if pc == nil {
		return 0, unix.ENODEV
	}
	return pc.page(idx, preadvFill(h.fd))
}

// CachedPage implements fs.CachedPager.
func (h *file) CachedPage(idx int64) uintptr {
	if h.node == nil {
		return 0
	}
	return h.node.cachedPage(h.size, idx)
}

// Read implements fs.Impl. While the file is mapped shared, what the
// mappings hold replaces what the host read (shared.go).
func (h *file) Read(p []byte) (int, error) {
	sf := h.lockShared()
	n, err := retry(func() (int, error) { return hostcall.Read(h.fd, p) })
	if sf != nil {
		if n > 0 {
			if end, err := hostcall.Seek(h.fd, 0, unix.SEEK_CUR); err == nil {
				sf.overlayLocked(p[:n], end-int64(n))
			}
		}
		sf.mu.Unlock()
	}
	return n, err
}

// Write implements fs.Impl; the file's shared pages, if any, take the
// bytes too.
func (h *file) Write(p []byte) (int, error) {
	sf := h.lockShared()
	n, err := retry(func() (int, error) { return hostcall.Write(h.fd, p) })
	if sf == nil && n > 0 {
		sf = h.lockShared() // mapped meanwhile
	}
	if sf != nil {
		if n > 0 {
			// Where the bytes went (O_APPEND: the end of the file).
			if end, err := hostcall.Seek(h.fd, 0, unix.SEEK_CUR); err == nil {
				sf.updateLocked(p[:n], end-int64(n))
			}
		}
		sf.mu.Unlock()
	}
	return n, err
}

// Pread implements fs.Impl.
func (h *file) Pread(p []byte, off int64) (int, error) {
	sf := h.lockShared()
	n, err := retry(func() (int, error) { return hostcall.Pread(h.fd, p, off) })
	if sf != nil {
		if n > 0 {
			sf.overlayLocked(p[:n], off)
		}
		sf.mu.Unlock()
	}
	return n, err
}

// Pwrite implements fs.Impl.
func (h *file) Pwrite(p []byte, off int64) (int, error) {
	sf := h.lockShared()
	n, err := retry(func() (int, error) { return hostcall.Pwrite(h.fd, p, off) })
	if sf == nil && n > 0 {
		sf = h.lockShared() // mapped meanwhile
	}
	if sf != nil {
		if n > 0 {
			sf.updateLocked(p[:n], off)
		}
		sf.mu.Unlock()
	}
	return n, err
}

// Seek implements fs.Impl.
func (h *file) Seek(off int64, whence int) (int64, error) {
	n, err := hostcall.Seek(h.fd, off, whence)
	return n, errno(err)
}

// Stat implements fs.Impl.
func (h *file) Stat() (unix.Stat_t, error) {
	st, err := fstat(h.fd)
	if err != nil {
		return unix.Stat_t{}, err
	}
	h.fs.fixStat(&st)
	return st, nil
}

// IsTerminal implements fs.Impl: a host file never is one.
func (h *file) IsTerminal() bool { return false }

// Poll implements fs.Impl: regular files and directories are always
// ready.
func (h *file) Poll(mask int16, timeoutMs int) (int16, error) {
	return mask & (unix.POLLIN | unix.POLLOUT | pollRdNorm | pollWrNorm), nil
}

// Release implements fs.Impl.
func (h *file) Release() {
	h.detach()
	hostcall.Close(h.fd)
}

// Truncate implements FileOps (ftruncate: the host refuses a file not
// open for writing).
func (h *file) Truncate(size int64) error {
	if h.fs.readOnly {
		return unix.EROFS
	}
	if size < 0 {
		return unix.EINVAL
	}
	sf := h.lockShared()
	_, err := retry(func() (int, error) { return 0, hostcall.Ftruncate(h.fd, size) })
	if sf != nil {
		if err == nil {
			sf.truncatedLocked(size)
		}
		sf.mu.Unlock()
	}
	return err
}

// Sync implements FileOps (fsync, fdatasync).
func (h *file) Sync(dataOnly bool) error {
	if sf := h.lockShared(); sf != nil {
		err := sf.flushLocked()
		sf.mu.Unlock()
		if err != nil {
			return err
		}
	}
	_, err := retry(func() (int, error) {
		if dataOnly {
			return 0, hostcall.Fdatasync(h.fd)
		}
		return 0, hostcall.Fsync(h.fd)
	})
	return err
}

// Chmod implements FileOps (fchmod).
func (h *file) Chmod(mode uint32) error {
	if h.fs.readOnly {
		return unix.EROFS
	}
	st, err := fstat(h.fd)
	if err != nil {
		return err
	}
	return errno(hostcall.Fchmod(h.fd, safeMode(st.Mode, mode)))
}

// Utimens implements FileOps (futimens).
func (h *file) Utimens(atime, mtime unix.Timespec) error {
	if h.fs.readOnly {
		return unix.EROFS
	}
	return errno(hostcall.UtimesNanoAt(h.fd, "", []unix.Timespec{atime, mtime}, unix.AT_EMPTY_PATH))
}

// dirFile is an open directory.
type dirFile struct {
	file
	mu   sync.Mutex
	ents []fs.DirEntry // the listing, read at the first ReadDir from 0
	read bool
}

// ReadDir implements fs.DirReader. The listing is read from the host
// whole, when reading from offset 0 (the first time and after a rewind),
// so offsets stay stable in between.
func (d *dirFile) ReadDir(off, n int) ([]fs.DirEntry, error) {
	if off < 0 || n < 0 {
		return nil, unix.EINVAL
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if off == 0 || !d.read {
		ents, err := d.list()
		if err != nil {
			return nil, err
		}
		d.ents, d.read = ents, true
	}
	if off >= len(d.ents) {
		return nil, nil
	}
	end := min(len(d.ents), off+n)
	return append([]fs.DirEntry(nil), d.ents[off:end]...), nil
}

// list reads the whole directory from the host.
func (d *dirFile) list() ([]fs.DirEntry, error) {
	return listFD(d.fd)
}

// dtype converts a file mode to a DT_ value.
func dtype(mode uint32) uint8 {
	return uint8((mode & unix.S_IFMT) >> 12)
}

// safeMode is the permission bits to set on a file of mode: never the
// set-user-ID bit, and set-group-ID only on directories (where it only
// chooses the group of new files), so that the program cannot leave a
// privileged executable on the host.
func safeMode(mode, perm uint32) uint32 {
	perm &= 0o7777
	if mode&unix.S_IFMT == unix.S_IFDIR {
		return perm &^ unix.S_ISUID
	}
	return perm &^ (unix.S_ISUID | unix.S_ISGID)
}

// POLLRDNORM and POLLWRNORM (x86 and arm64 values), which x/sys/unix
// does not name.
const (
	pollRdNorm = 0x40
	pollWrNorm = 0x100
)
