package overlay

import (
	"errors"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"ringbox/fs"
)

// POLLRDNORM and POLLWRNORM (x86 and arm64 values), which x/sys/unix
// does not name.
const (
	pollRdNorm = 0x40
	pollWrNorm = 0x100
)

// file is an open file of a layer, with the overlay's identity. One
// opened read-only on the lower layer moves to the upper copy once the
// file is copied up.
type file struct {
	n       *node
	flags   int
	onUpper atomic.Bool // impl is the upper file's (or will stay where it is)

	mu       sync.RWMutex // write-held to move impl
	impl     fs.Impl
	released bool
}

var (
	_ fs.Impl    = (*file)(nil)
	_ fs.FileOps = (*file)(nil)
)

// get returns the layer's open file, read-locked: put it back with put.
func (h *file) get() (fs.Impl, error) {
	if !h.onUpper.Load() && h.n.hasUpper.Load() {
		h.moveUp()
	}
	h.mu.RLock()
	if h.released {
		h.mu.RUnlock()
		return nil, unix.EBADF
	}
	return h.impl, nil
}

func (h *file) put() { h.mu.RUnlock() }

// moveUp reopens the file on the upper copy at the same offset. If that
// fails, the file stays on the lower layer.
func (h *file) moveUp() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.onUpper.Load() || h.released {
		return
	}
	h.onUpper.Store(true) // tried once, whatever comes of it
	f := h.n.fs
	f.mu.Lock()
	u := h.n.upper
	f.mu.Unlock()
	if u == nil {
		return
	}
	impl, err := u.Open(h.flags &^ unix.O_TRUNC)
	if err != nil {
		return
	}
	pos, err := h.impl.Seek(0, unix.SEEK_CUR)
	if err == nil && pos != 0 {
		_, err = impl.Seek(pos, unix.SEEK_SET)
	}
	if err != nil {
		impl.Release()
		return
	}
	h.impl.Release()
	h.impl = impl
}

// Read implements fs.Impl.
func (h *file) Read(p []byte) (int, error) {
	impl, err := h.get()
	if err != nil {
		return 0, err
	}
	defer h.put()
	return impl.Read(p)
}

// Write implements fs.Impl.
func (h *file) Write(p []byte) (int, error) {
	impl, err := h.get()
	if err != nil {
		return 0, err
	}
	defer h.put()
	return impl.Write(p)
}

// Pread implements fs.Impl.
func (h *file) Pread(p []byte, off int64) (int, error) {
	impl, err := h.get()
	if err != nil {
		return 0, err
	}
	defer h.put()
	return impl.Pread(p, off)
}

// Pwrite implements fs.Impl.
func (h *file) Pwrite(p []byte, off int64) (int, error) {
	impl, err := h.get()
	if err != nil {
		return 0, err
	}
	defer h.put()
	return impl.Pwrite(p, off)
}

// Seek implements fs.Impl.
func (h *file) Seek(off int64, whence int) (int64, error) {
	impl, err := h.get()
	if err != nil {
		return 0, err
	}
	defer h.put()
	return impl.Seek(off, whence)
}

// Stat implements fs.Impl: the open file's attributes, with the
// overlay's device and inode number.
func (h *file) Stat() (unix.Stat_t, error) {
	impl, err := h.get()
	if err != nil {
		return unix.Stat_t{}, err
	}
	st, err := impl.Stat()
	h.put()
	if err != nil {
		return unix.Stat_t{}, err
	}
	f := h.n.fs
	f.mu.Lock()
	h.n.fixStatLocked(&st)
	f.mu.Unlock()
	return st, nil
}

// IsTerminal implements fs.Impl.
func (h *file) IsTerminal() bool { return false }

// Poll implements fs.Impl.
func (h *file) Poll(mask int16, timeoutMs int) (int16, error) {
	impl, err := h.get()
	if err != nil {
		return unix.POLLNVAL, nil
	}
	defer h.put()
	return impl.Poll(mask, timeoutMs)
}

// Release implements fs.Impl.
func (h *file) Release() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.released {
		return
	}
	h.released = true
	h.impl.Release()
}

// Truncate implements fs.FileOps (ftruncate: EINVAL if the file is not
// open for writing; such a file is on the upper layer).
func (h *file) Truncate(size int64) error {
	impl, err := h.get()
	if err != nil {
		return err
	}
	defer h.put()
	ops, ok := impl.(fs.FileOps)
	if !ok || h.flags&unix.O_ACCMODE == unix.O_RDONLY {
		return unix.EINVAL
	}
	return ops.Truncate(size)
}

// PunchHole implements fs.HolePuncher for a file open for writing (on
// the upper layer) with the upper file's own; errors.ErrUnsupported
// where it has none (the caller writes zeros).
func (h *file) PunchHole(off, n int64) error {
	impl, err := h.get()
	if err != nil {
		return err
	}
	defer h.put()
	if h.flags&unix.O_ACCMODE == unix.O_RDONLY {
		return unix.EBADF
	}
	if hp, ok := impl.(fs.HolePuncher); ok {
		return hp.PunchHole(off, n)
	}
	return errors.ErrUnsupported
}

// Sync implements fs.FileOps: the upper layer's file is synced; a lower
// one has nothing to write back.
func (h *file) Sync(dataOnly bool) error {
	impl, err := h.get()
	if err != nil {
		return err
	}
	defer h.put()
	if ops, ok := impl.(fs.FileOps); ok && h.onUpper.Load() {
		return ops.Sync(dataOnly)
	}
	return nil
}

// Chmod implements fs.FileOps (fchmod): the file is copied up.
func (h *file) Chmod(mode uint32) error {
	if err := h.check(); err != nil {
		return err
	}
	return h.n.Chmod(mode)
}

// Utimens implements fs.FileOps (futimens): the file is copied up.
func (h *file) Utimens(atime, mtime unix.Timespec) error {
	if err := h.check(); err != nil {
		return err
	}
	return h.n.Utimens(atime, mtime)
}

// check is EBADF once the file is released.
func (h *file) check() error {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.released {
		return unix.EBADF
	}
	return nil
}

// dirFile is an open directory of the overlay.
type dirFile struct {
	n *node

	mu       sync.Mutex
	pos      int64
	ents     []fs.DirEntry // the listing, taken at the first ReadDir from 0
	read     bool
	released bool
}

var (
	_ fs.Impl      = (*dirFile)(nil)
	_ fs.DirReader = (*dirFile)(nil)
)

// ReadDir implements fs.DirReader. The merged listing is taken whole when
// reading from offset 0 (the first time and after a rewind), so offsets
// stay stable in between.
func (d *dirFile) ReadDir(off, n int) ([]fs.DirEntry, error) {
	if off < 0 || n < 0 {
		return nil, unix.EINVAL
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.released {
		return nil, unix.EBADF
	}
	if off == 0 || !d.read {
		f := d.n.fs
		f.mu.Lock()
		ents, err := f.listLocked(d.n, 0)
		f.mu.Unlock()
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

// listLocked lists directory n as the overlay shows it: the upper
// entries, then the lower ones neither hidden by an upper entry nor
// whited out. It stops after max entries (max > 0). A removed directory
// is empty.
func (f *FS) listLocked(n *node, max int) ([]fs.DirEntry, error) {
	if n.removed {
		return nil, nil
	}
	var out []fs.DirEntry
	full := func() bool { return max > 0 && len(out) >= max }
	var seen map[string]struct{}
	if n.upper != nil {
		if n.lower != nil {
			seen = map[string]struct{}{}
		}
		err := listLayer(n.upper, func(e fs.DirEntry) bool {
			if seen != nil {
				seen[e.Name] = struct{}{}
			}
			if o, ok := f.origins[e.Ino]; ok {
				e.Ino = o.ino
			} else {
				e.Ino = f.upperInoLocked(e.Ino)
			}
			out = append(out, e)
			return !full()
		})
		if err != nil {
			return nil, err
		}
	}
	if n.lower != nil && !full() {
		lst, err := n.lower.Stat()
		if err != nil {
			return nil, err
		}
		var wo map[string]struct{}
		if m := f.dirs[n.upperIno]; n.upper != nil && m != nil {
			wo = m.whiteouts
		}
		err = listLayer(n.lower, func(e fs.DirEntry) bool {
			if _, ok := seen[e.Name]; ok {
				return true
			}
			if _, ok := wo[e.Name]; ok {
				return true
			}
			e.Ino = f.lowerInoLocked(lst.Dev, e.Ino)
			out = append(out, e)
			return !full()
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// listLayer calls fn with the entries of a layer's directory until it
// returns false.
func listLayer(dir fs.Node, fn func(fs.DirEntry) bool) error {
	impl, err := dir.Open(unix.O_RDONLY | unix.O_DIRECTORY)
	if err != nil {
		return err
	}
	defer impl.Release()
	dr, ok := impl.(fs.DirReader)
	if !ok {
		return unix.ENOTDIR
	}
	for off := 0; ; {
		ents, err := dr.ReadDir(off, 256)
		if err != nil {
			return err
		}
		if len(ents) == 0 {
			return nil
		}
		for _, e := range ents {
			if !fn(e) {
				return nil
			}
		}
		off += len(ents)
	}
}

// Read implements fs.Impl.
func (d *dirFile) Read([]byte) (int, error) { return 0, unix.EISDIR }

// Write implements fs.Impl: a directory is never open for writing.
func (d *dirFile) Write([]byte) (int, error) { return 0, unix.EBADF }

// Pread implements fs.Impl.
func (d *dirFile) Pread([]byte, int64) (int, error) { return 0, unix.EISDIR }

// Pwrite implements fs.Impl.
func (d *dirFile) Pwrite([]byte, int64) (int, error) { return 0, unix.EBADF }

// Seek implements fs.Impl: SEEK_SET and SEEK_CUR move a position the
// caller keeps for getdents; the rest is EINVAL.
func (d *dirFile) Seek(off int64, whence int) (int64, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.released {
		return 0, unix.EBADF
	}
	var pos int64
	switch whence {
	case unix.SEEK_SET:
		pos = off
	case unix.SEEK_CUR:
		pos = d.pos + off
		if off > 0 && pos < d.pos {
			return 0, unix.EINVAL
		}
	default:
		return 0, unix.EINVAL
	}
	if pos < 0 {
		return 0, unix.EINVAL
	}
	d.pos = pos
	return pos, nil
}

// Stat implements fs.Impl.
func (d *dirFile) Stat() (unix.Stat_t, error) {
	d.mu.Lock()
	released := d.released
	d.mu.Unlock()
	if released {
		return unix.Stat_t{}, unix.EBADF
	}
	return d.n.Stat()
}

// IsTerminal implements fs.Impl.
func (d *dirFile) IsTerminal() bool { return false }

// Poll implements fs.Impl: a directory is always ready.
func (d *dirFile) Poll(mask int16, timeoutMs int) (int16, error) {
	return mask & (unix.POLLIN | unix.POLLOUT | pollRdNorm | pollWrNorm), nil
}

// Release implements fs.Impl.
func (d *dirFile) Release() {
	d.mu.Lock()
	d.released = true
	d.ents = nil
	d.mu.Unlock()
}

// CachedPage implements fs.CachedPager when the open file's does.
func (h *file) CachedPage(idx int64) uintptr {
	impl, err := h.get()
	if err != nil {
		return 0
	}
	defer h.put()
	if p, ok := impl.(fs.CachedPager); ok {
		return p.CachedPage(idx)
	}
	return 0
}

// PageAddr implements fs.Pager when the open file is the upper layer's
// (a copied-up file of the in-memory layer); ENODEV otherwise.
func (h *file) PageAddr(idx int64) (uintptr, error) {
	impl, err := h.get()
	if err != nil {
		return 0, err
	}
	defer h.put()
	if p, ok := impl.(fs.Pager); ok {
		return p.PageAddr(idx)
	}
	return 0, unix.ENODEV
}

// StablePager implements fs.StablePager for a file of either layer that
// has one.
func (h *file) StablePager() fs.Pager {
	impl, err := h.get()
	if err != nil {
		return nil
	}
	defer h.put()
	if p, ok := impl.(fs.StablePager); ok {
		return p.StablePager()
	}
	return nil
}
