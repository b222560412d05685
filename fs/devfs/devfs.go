package devfs

import (
	"crypto/rand"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"ringbox/fs"
	"ringbox/fs/tty"
)

// POLLRDNORM and POLLWRNORM (x86 and arm64 values), which x/sys/unix
// does not name.
const (
	pollRdNorm = 0x40
	pollWrNorm = 0x100
)

// readyEvents is what a device of the tree is always ready for.
const readyEvents = unix.POLLIN | unix.POLLOUT | pollRdNorm | pollWrNorm

// nextDev numbers the device ids of devfs instances: makedev(0, n) like
// the kernel's anonymous devices, from a range of their own.
var nextDev atomic.Uint32

func newDev() uint64 { return unix.Mkdev(0, 0x2800+nextDev.Add(1)) }

// FS is the sandbox's /dev.
type FS struct {
	dev  uint64
	time unix.Timespec
	ino  uint64 // last inode number given
	root *dir
	pts  *tty.Devpts
}

var _ fs.FS = (*FS)(nil)

// kind is what a device does.
type kind int

const (
	kNull kind = iota
	kZero
	kFull
	kRandom
	kTTY
)

// New builds /dev: the devices null, zero, full, random, urandom, tty
// and ptmx, the symlinks fd, stdin, stdout and stderr into /proc/self/fd,
// the pseudo-terminals' directory pts and the empty directories shm and
// mqueue.
func New() *FS { return NewWith(Options{}) }

// Options change what New builds.
type Options struct {
	// PtmxLink makes /dev/ptmx a symlink to pts/ptmx, as container
	// runtimes set it up, rather than the device.
	PtmxLink bool
}

// NewWith builds /dev as New does, with opts.
func NewWith(opts Options) *FS {
	f := &FS{dev: newDev(), time: unix.NsecToTimespec(time.Now().UnixNano())}
	f.root = f.newDir(0o755)
	f.root.add("null", f.newDevice(kNull, 1, 3))
	f.root.add("zero", f.newDevice(kZero, 1, 5))
	f.root.add("full", f.newDevice(kFull, 1, 7))
	f.root.add("random", f.newDevice(kRandom, 1, 8))
	f.root.add("urandom", f.newDevice(kRandom, 1, 9))
	f.root.add("tty", f.newDevice(kTTY, 5, 0))
	f.root.add("fd", f.newSymlink("/proc/self/fd"))
	f.root.add("stdin", f.newSymlink("/proc/self/fd/0"))
	f.root.add("stdout", f.newSymlink("/proc/self/fd/1"))
	f.root.add("stderr", f.newSymlink("/proc/self/fd/2"))
	f.pts = tty.NewDevpts(f.dev)
	if opts.PtmxLink {
		f.root.add("ptmx", f.newSymlink("pts/ptmx"))
	} else {
		f.root.add("ptmx", f.pts.Ptmx(f.newAttr().ino))
	}
	f.root.add("pts", f.pts.Dir(f.newAttr().ino))
	f.root.add("shm", f.newDir(0o1777))
	f.root.add("mqueue", f.newDir(0o1777)) // where the mqueue filesystem goes
	return f
}

// Devpts returns the terminals of /dev/pts.
func (f *FS) Devpts() *tty.Devpts { return f.pts }

// Root implements fs.FS.
func (f *FS) Root() fs.Node { return f.root }

// attr is what every node has.
type attr struct {
	fs  *FS
	ino uint64
}

func (f *FS) newAttr() attr {
	f.ino++
	return attr{fs: f, ino: f.ino}
}

// stat returns the attributes common to all nodes.
func (a *attr) stat(mode uint32, nlink uint32) unix.Stat_t {
	st := unix.Stat_t{
		Dev:     a.fs.dev,
		Ino:     a.ino,
		Mode:    mode,
		Blksize: 4096,
		Atim:    a.fs.time,
		Mtim:    a.fs.time,
		Ctim:    a.fs.time,
	}
	setNlink(&st.Nlink, nlink)
	return st
}

// setNlink sets st_nlink, whose type depends on the architecture.
func setNlink[T uint32 | uint64](dst *T, n uint32) { *dst = T(n) }

// dir is a directory of the tree. It never changes once built.
type dir struct {
	attr
	mode  uint32
	names []string
	nodes map[string]fs.Node
	subs  int // subdirectories
}

var _ fs.Node = (*dir)(nil)

func (f *FS) newDir(perm uint32) *dir {
	return &dir{attr: f.newAttr(), mode: unix.S_IFDIR | perm, nodes: map[string]fs.Node{}}
}

func (d *dir) add(name string, n fs.Node) {
	d.names = append(d.names, name)
	d.nodes[name] = n
	if st, err := n.Stat(); err == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR {
		d.subs++
	}
}

// Stat implements fs.Node.
func (d *dir) Stat() (unix.Stat_t, error) {
	st := d.stat(d.mode, uint32(2+d.subs))
	st.Size = int64(len(d.names)+2) * 20
	return st, nil
}

// Lookup implements fs.Node.
func (d *dir) Lookup(name string) (fs.Node, error) {
	switch name {
	case "", ".", "..":
		return nil, unix.EINVAL
	}
	n, ok := d.nodes[name]
	if !ok {
		return nil, unix.ENOENT
	}
	return n, nil
}

// Readlink implements fs.Node.
func (d *dir) Readlink() (string, error) { return "", unix.EINVAL }

// Open implements fs.Node: EISDIR for writing.
func (d *dir) Open(flags int) (fs.Impl, error) {
	acc := flags & unix.O_ACCMODE
	switch {
	case acc == unix.O_ACCMODE:
		return nil, unix.EINVAL
	case acc != unix.O_RDONLY || flags&unix.O_TRUNC != 0:
		return nil, unix.EISDIR
	}
	return &dirFile{d: d}, nil
}

// dirFile is an open directory.
type dirFile struct {
	d        *dir
	released atomic.Bool
	mu       sync.Mutex
	pos      int64 // lseek's
}

var (
	_ fs.Impl      = (*dirFile)(nil)
	_ fs.DirReader = (*dirFile)(nil)
)

// ReadDir implements fs.DirReader: the entries in a fixed order.
func (h *dirFile) ReadDir(off, n int) ([]fs.DirEntry, error) {
	if h.released.Load() {
		return nil, unix.EBADF
	}
	if off < 0 || n < 0 {
		return nil, unix.EINVAL
	}
	names := h.d.names
	if off >= len(names) {
		return nil, nil
	}
	names = names[off:min(len(names), off+n)]
	ents := make([]fs.DirEntry, 0, len(names))
	for _, name := range names {
		st, _ := h.d.nodes[name].Stat()
		ents = append(ents, fs.DirEntry{Name: name, Ino: st.Ino, Type: uint8((st.Mode & unix.S_IFMT) >> 12)})
	}
	return ents, nil
}

// Read implements fs.Impl.
func (h *dirFile) Read([]byte) (int, error) { return 0, unix.EISDIR }

// Write implements fs.Impl.
func (h *dirFile) Write([]byte) (int, error) { return 0, unix.EBADF }

// Pread implements fs.Impl.
func (h *dirFile) Pread([]byte, int64) (int, error) { return 0, unix.EISDIR }

// Pwrite implements fs.Impl.
func (h *dirFile) Pwrite([]byte, int64) (int, error) { return 0, unix.EBADF }

// Seek implements fs.Impl: SEEK_SET and SEEK_CUR move a position the
// caller keeps for getdents; the rest is EINVAL.
func (h *dirFile) Seek(off int64, whence int) (int64, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	pos := off
	switch whence {
	case unix.SEEK_SET:
	case unix.SEEK_CUR:
		pos = h.pos + off
		if off > 0 && pos < h.pos {
			return 0, unix.EINVAL
		}
	default:
		return 0, unix.EINVAL
	}
	if pos < 0 {
		return 0, unix.EINVAL
	}
	h.pos = pos
	return pos, nil
}

// Stat implements fs.Impl.
func (h *dirFile) Stat() (unix.Stat_t, error) { return h.d.Stat() }

// IsTerminal implements fs.Impl.
func (h *dirFile) IsTerminal() bool { return false }

// Poll implements fs.Impl.
func (h *dirFile) Poll(mask int16, timeoutMs int) (int16, error) {
	return mask & readyEvents, nil
}

// Release implements fs.Impl.
func (h *dirFile) Release() { h.released.Store(true) }

// symlink is a symbolic link of the tree.
type symlink struct {
	attr
	target string
}

var _ fs.Node = (*symlink)(nil)

func (f *FS) newSymlink(target string) *symlink {
	return &symlink{attr: f.newAttr(), target: target}
}

// Stat implements fs.Node.
func (s *symlink) Stat() (unix.Stat_t, error) {
	st := s.stat(unix.S_IFLNK|0o777, 1)
	st.Size = int64(len(s.target))
	return st, nil
}

// Lookup implements fs.Node.
func (s *symlink) Lookup(string) (fs.Node, error) { return nil, unix.ENOTDIR }

// Readlink implements fs.Node.
func (s *symlink) Readlink() (string, error) { return s.target, nil }

// Open implements fs.Node: the VFS follows links before opening.
func (s *symlink) Open(int) (fs.Impl, error) { return nil, unix.ELOOP }

// device is a character device of the tree.
type device struct {
	attr
	kind kind
	rdev uint64
}

var _ fs.Node = (*device)(nil)

func (f *FS) newDevice(k kind, major, minor uint32) *device {
	return &device{attr: f.newAttr(), kind: k, rdev: unix.Mkdev(major, minor)}
}

// Stat implements fs.Node.
func (d *device) Stat() (unix.Stat_t, error) {
	st := d.stat(unix.S_IFCHR|0o666, 1)
	st.Rdev = d.rdev
	return st, nil
}

// Lookup implements fs.Node.
func (d *device) Lookup(string) (fs.Node, error) { return nil, unix.ENOTDIR }

// Readlink implements fs.Node.
func (d *device) Readlink() (string, error) { return "", unix.EINVAL }

// Open implements fs.Node. tty yields a tty.Current that the syscall
// layer replaces by the caller's controlling terminal.
func (d *device) Open(flags int) (fs.Impl, error) {
	switch {
	case flags&unix.O_ACCMODE == unix.O_ACCMODE:
		return nil, unix.EINVAL
	case flags&unix.O_DIRECTORY != 0:
		return nil, unix.ENOTDIR
	case d.kind == kTTY:
		return tty.Current{}, nil
	}
	return &devFile{d: d, flags: flags}, nil
}

// devFile is an open device.
type devFile struct {
	d        *device
	flags    int
	released atomic.Bool
}

var _ fs.Impl = (*devFile)(nil)

func (h *devFile) check(write bool) error {
	if h.released.Load() {
		return unix.EBADF
	}
	acc := h.flags & unix.O_ACCMODE
	if write && acc == unix.O_RDONLY || !write && acc == unix.O_WRONLY {
		return unix.EBADF
	}
	return nil
}

// Read implements fs.Impl.
func (h *devFile) Read(p []byte) (int, error) {
	if err := h.check(false); err != nil {
		return 0, err
	}
	switch h.d.kind {
	case kNull:
		return 0, nil
	case kRandom:
		rand.Read(p) // never fails (Go 1.24 and later)
	default:
		clear(p)
	}
	return len(p), nil
}

// Write implements fs.Impl.
func (h *devFile) Write(p []byte) (int, error) {
	if err := h.check(true); err != nil {
		return 0, err
	}
	if h.d.kind == kFull {
		return 0, unix.ENOSPC
	}
	return len(p), nil
}

// Pread implements fs.Impl.
func (h *devFile) Pread(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, unix.EINVAL
	}
	return h.Read(p)
}

// Pwrite implements fs.Impl.
func (h *devFile) Pwrite(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, unix.EINVAL
	}
	return h.Write(p)
}

// Seek implements fs.Impl: the position of a device is always 0.
func (h *devFile) Seek(int64, int) (int64, error) {
	if h.released.Load() {
		return 0, unix.EBADF
	}
	return 0, nil
}

// Stat implements fs.Impl.
func (h *devFile) Stat() (unix.Stat_t, error) { return h.d.Stat() }

// IsTerminal implements fs.Impl.
func (h *devFile) IsTerminal() bool { return false }

// Poll implements fs.Impl: never blocks.
func (h *devFile) Poll(mask int16, timeoutMs int) (int16, error) {
	return mask & readyEvents, nil
}

// Release implements fs.Impl.
func (h *devFile) Release() { h.released.Store(true) }
