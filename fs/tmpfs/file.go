package tmpfs

import (
	"sort"
	"unsafe"

	"golang.org/x/sys/unix"

	"ringbox/fs"
)

// POLLRDNORM and POLLWRNORM (x86 and arm64 values), which x/sys/unix
// does not name.
const (
	pollRdNorm = 0x40
	pollWrNorm = 0x100
)

// readyEvents is what a regular file or a directory is always ready for.
const readyEvents = unix.POLLIN | unix.POLLOUT | pollRdNorm | pollWrNorm

// file is an open regular file. Its fields are guarded by fs.mu.
type file struct {
	n        *inode
	flags    int
	pos      int64
	released bool
}

var (
	_ fs.Impl    = (*file)(nil)
	_ fs.FileOps = (*file)(nil)
)

func (h *file) readable() bool {
	acc := h.flags & unix.O_ACCMODE
	return acc == unix.O_RDONLY || acc == unix.O_RDWR
}

func (h *file) writable() bool {
	acc := h.flags & unix.O_ACCMODE
	return acc == unix.O_WRONLY || acc == unix.O_RDWR
}

// lock takes the filesystem's lock and checks the file is still open.
func (h *file) lock() error {
	h.n.fs.mu.Lock()
	if h.released {
		h.n.fs.mu.Unlock()
		return unix.EBADF
	}
	return nil
}

func (h *file) unlock() { h.n.fs.mu.Unlock() }

// Read implements fs.Impl.
func (h *file) Read(p []byte) (int, error) {
	if err := h.lock(); err != nil {
		return 0, err
	}
	defer h.unlock()
	if !h.readable() {
		return 0, unix.EBADF
	}
	k := h.n.readLocked(p, h.pos)
	h.pos += int64(k)
	return k, nil
}

// Pread implements fs.Impl.
func (h *file) Pread(p []byte, off int64) (int, error) {
	if err := h.lock(); err != nil {
		return 0, err
	}
	defer h.unlock()
	if !h.readable() {
		return 0, unix.EBADF
	}
	if off < 0 {
		return 0, unix.EINVAL
	}
	return h.n.readLocked(p, off), nil
}

// Write implements fs.Impl. With O_APPEND the data goes to the end of the
// file.
func (h *file) Write(p []byte) (int, error) {
	if err := h.lock(); err != nil {
		return 0, err
	}
	defer h.unlock()
	if !h.writable() {
		return 0, unix.EBADF
	}
	if h.flags&unix.O_APPEND != 0 {
		h.pos = h.n.size
	}
	k, err := h.n.writeLocked(p, h.pos)
	h.pos += int64(k)
	return k, err
}

// Pwrite implements fs.Impl. With O_APPEND the data goes to the end of
// the file whatever off is, as on Linux.
func (h *file) Pwrite(p []byte, off int64) (int, error) {
	if err := h.lock(); err != nil {
		return 0, err
	}
	defer h.unlock()
	if !h.writable() {
		return 0, unix.EBADF
	}
	if off < 0 {
		return 0, unix.EINVAL
	}
	if h.flags&unix.O_APPEND != 0 {
		off = h.n.size
	}
	return h.n.writeLocked(p, off)
}

// Seek implements fs.Impl: SEEK_SET, SEEK_CUR, SEEK_END, SEEK_DATA and
// SEEK_HOLE. A negative result or one past MaxFileSize is EINVAL, as is
// another whence; SEEK_DATA and SEEK_HOLE from a negative offset or one
// at or past the end are ENXIO (as Linux).
func (h *file) Seek(off int64, whence int) (int64, error) {
	if err := h.lock(); err != nil {
		return 0, err
	}
	defer h.unlock()
	var base int64
	switch whence {
	case unix.SEEK_SET:
	case unix.SEEK_CUR:
		base = h.pos
	case unix.SEEK_END:
		base = h.n.size
	case unix.SEEK_DATA, unix.SEEK_HOLE:
		pos, err := h.n.seekDataLocked(off, whence == unix.SEEK_HOLE)
		if err != nil {
			return 0, err
		}
		h.pos = pos
		return pos, nil
	default:
		return 0, unix.EINVAL
	}
	pos := base + off
	if (off > 0 && pos < base) || pos < 0 || pos > MaxFileSize {
		return 0, unix.EINVAL
	}
	h.pos = pos
	return pos, nil
}

// Stat implements fs.Impl.
func (h *file) Stat() (unix.Stat_t, error) {
	if err := h.lock(); err != nil {
		return unix.Stat_t{}, err
	}
	defer h.unlock()
	return h.n.statLocked(), nil
}

// IsTerminal implements fs.Impl.
func (h *file) IsTerminal() bool { return false }

// Poll implements fs.Impl: a regular file is always ready.
func (h *file) Poll(mask int16, timeoutMs int) (int16, error) {
	return mask & readyEvents, nil
}

// Release implements fs.Impl. The pages of a file with no link left are
// given back with its last open file.
func (h *file) Release() {
	f := h.n.fs
	f.mu.Lock()
	defer f.mu.Unlock()
	if h.released {
		return
	}
	h.released = true
	h.n.opens--
	f.freeLocked(h.n)
}

// Truncate implements fs.FileOps (ftruncate: EINVAL if the file is not
// open for writing).
func (h *file) Truncate(size int64) error {
	if err := h.lock(); err != nil {
		return err
	}
	defer h.unlock()
	if !h.writable() {
		return unix.EINVAL
	}
	return h.n.truncate(size)
}

// PunchHole implements fs.HolePuncher: the bytes of [off, off+n) within
// the file read as zero. Pages there are zeroed in place, not dropped, so
// that a shared mapping of them sees the zeros at once; a hole stays a
// hole (no page is made).
func (h *file) PunchHole(off, n int64) error {
	if err := h.lock(); err != nil {
		return err
	}
	defer h.unlock()
	if !h.writable() {
		return unix.EBADF
	}
	end := min(off+n, h.n.size)
	for pos := off; pos < end; {
		idx, in := pos/PageSize, pos%PageSize
		k := min(PageSize-in, end-pos)
		if pg := h.n.data[idx]; pg != nil {
			clear(pg[in : in+k])
		}
		pos += k
	}
	if off < end {
		t := now()
		h.n.mtime, h.n.ctime = t, t
	}
	return nil
}

// Sync implements fs.FileOps: there is nothing to write back.
func (h *file) Sync(dataOnly bool) error {
	if err := h.lock(); err != nil {
		return err
	}
	h.unlock()
	return nil
}

// Chmod implements fs.FileOps.
func (h *file) Chmod(mode uint32) error {
	if err := h.lock(); err != nil {
		return err
	}
	h.unlock()
	return h.n.Chmod(mode)
}

// Utimens implements fs.FileOps.
func (h *file) Utimens(atime, mtime unix.Timespec) error {
	if err := h.lock(); err != nil {
		return err
	}
	h.unlock()
	return h.n.Utimens(atime, mtime)
}

// dirFile is an open directory. Its fields are guarded by fs.mu.
type dirFile struct {
	n        *inode
	pos      int64
	released bool

	// Where the last ReadDir stopped: entry index curOff follows the
	// entry of sequence number curSeq.
	curOff   int
	curSeq   uint64
	curValid bool
}

var (
	_ fs.Impl      = (*dirFile)(nil)
	_ fs.DirReader = (*dirFile)(nil)
)

func (d *dirFile) lock() error {
	d.n.fs.mu.Lock()
	if d.released {
		d.n.fs.mu.Unlock()
		return unix.EBADF
	}
	return nil
}

func (d *dirFile) unlock() { d.n.fs.mu.Unlock() }

// ReadDir implements fs.DirReader. Reading on from where the previous
// call stopped continues after the last entry it returned, whatever was
// added or removed meanwhile; another offset counts the entries present
// from the first.
func (d *dirFile) ReadDir(off, n int) ([]fs.DirEntry, error) {
	if off < 0 || n < 0 {
		return nil, unix.EINVAL
	}
	if err := d.lock(); err != nil {
		return nil, err
	}
	defer d.unlock()
	dir := d.n
	dir.atime = now()
	order := dir.order
	var i int
	var last uint64 // seq of the last entry consumed
	if d.curValid && off == d.curOff {
		last = d.curSeq
		i = sort.Search(len(order), func(i int) bool { return order[i].seq > last })
	} else {
		skip := off
		for ; i < len(order) && skip > 0; i++ {
			if !order[i].removed {
				skip--
				last = order[i].seq
			}
		}
		if skip > 0 {
			d.curValid = false
			return nil, nil // past the end
		}
	}
	var ents []fs.DirEntry
	for ; i < len(order) && len(ents) < n; i++ {
		e := order[i]
		if e.removed {
			continue
		}
		ents = append(ents, fs.DirEntry{Name: e.name, Ino: e.node.ino, Type: dtype(e.node.mode)})
		last = e.seq
	}
	d.curOff, d.curSeq, d.curValid = off+len(ents), last, true
	return ents, nil
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
	if err := d.lock(); err != nil {
		return 0, err
	}
	defer d.unlock()
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
	if err := d.lock(); err != nil {
		return unix.Stat_t{}, err
	}
	defer d.unlock()
	return d.n.statLocked(), nil
}

// IsTerminal implements fs.Impl.
func (d *dirFile) IsTerminal() bool { return false }

// Poll implements fs.Impl: a directory is always ready.
func (d *dirFile) Poll(mask int16, timeoutMs int) (int16, error) {
	return mask & readyEvents, nil
}

// Release implements fs.Impl.
func (d *dirFile) Release() {
	f := d.n.fs
	f.mu.Lock()
	defer f.mu.Unlock()
	if d.released {
		return
	}
	d.released = true
	d.n.opens--
	f.freeLocked(d.n)
}

// dtype converts a file mode to a DT_ value.
func dtype(mode uint32) uint8 {
	return uint8((mode & unix.S_IFMT) >> 12)
}

// PageAddr implements fs.Pager: page idx of the file, in the memory file
// (a hole gets a zeroed page). ENODEV when the FS has no page source;
// ENXIO past the end of the file.
func (h *file) PageAddr(idx int64) (uintptr, error) {
	if err := h.lock(); err != nil {
		return 0, err
	}
	defer h.unlock()
	f := h.n.fs
	if f.src == nil {
		return 0, unix.ENODEV
	}
	if idx < 0 || idx*PageSize >= h.n.size {
		return 0, unix.ENXIO
	}
	pg := h.n.data[idx]
	if pg == nil {
		if err := f.reservePagesLocked(1); err != nil {
			return 0, err
		}
		var err error
		if pg, err = f.newPageLocked(); err != nil {
			f.pages--
			return 0, err
		}
		if h.n.data == nil {
			h.n.data = map[int64]*page{}
		}
		h.n.data[idx] = pg
	}
	return uintptr(unsafe.Pointer(pg)), nil
}
