package mqueue

import (
	"golang.org/x/sys/unix"

	"ringbox/fs"
)

// FS is the mqueue filesystem of a namespace: one directory listing the
// queues. Reading a queue's file gives its status line; unlinking it
// removes the queue's name; creating a file there creates a queue with
// the default sizes (as Linux's).
func (ns *Namespace) FS(owner func() Owner) fs.FS { return &mqFS{ns: ns, owner: owner} }

type mqFS struct {
	ns    *Namespace
	owner func() Owner // the calling process, for creates
}

func (f *mqFS) Root() fs.Node { return &dirNode{f} }

type dirNode struct{ f *mqFS }

var (
	_ fs.Node    = (*dirNode)(nil)
	_ fs.Mutable = (*dirNode)(nil)
)

func (d *dirNode) Stat() (unix.Stat_t, error) {
	t := d.f.ns.created
	return unix.Stat_t{Dev: d.f.ns.dev, Ino: 1, Nlink: 2, Mode: unix.S_IFDIR | 0o1777, Blksize: 4096,
		Atim: t, Mtim: t, Ctim: t}, nil
}

func (d *dirNode) Lookup(name string) (fs.Node, error) {
	q := d.f.ns.lookup(name)
	if q == nil {
		return nil, unix.ENOENT
	}
	return &queueNode{q}, nil
}

func (d *dirNode) Readlink() (string, error) { return "", unix.EINVAL }

func (d *dirNode) Open(flags int) (fs.Impl, error) {
	if flags&unix.O_ACCMODE != unix.O_RDONLY {
		return nil, unix.EISDIR
	}
	return &dirFile{d: d}, nil
}

func (d *dirNode) Create(name string, flags int, mode uint32) (fs.Node, fs.Impl, error) {
	q, err := d.f.ns.Open(name, flags|unix.O_CREAT, mode, nil, d.f.owner(), func(unix.Stat_t) error { return nil })
	if err != nil {
		return nil, nil, err
	}
	return &queueNode{q}, NewFile(q), nil
}

func (d *dirNode) Unlink(name string) error {
	return d.f.ns.Unlink(name, func(unix.Stat_t) error { return nil })
}

func (d *dirNode) Mkdir(string, uint32) error                 { return unix.EPERM }
func (d *dirNode) Rmdir(string) error                         { return unix.ENOTDIR }
func (d *dirNode) Symlink(string, string) error               { return unix.EPERM }
func (d *dirNode) Rename(string, fs.Node, string, uint) error { return unix.EPERM }
func (d *dirNode) Link(fs.Node, string) error                 { return unix.EPERM }
func (d *dirNode) Chmod(uint32) error                         { return unix.EPERM }
func (d *dirNode) Truncate(int64) error                       { return unix.EISDIR }
func (d *dirNode) Utimens(unix.Timespec, unix.Timespec) error { return nil }

// Uncached implements fs.Uncached: queues come and go by mq_open and
// mq_unlink, which the VFS does not see.
func (d *dirNode) Uncached() bool { return true }

type dirFile struct {
	d   *dirNode
	off int64
}

func (h *dirFile) ReadDir(off, n int) ([]fs.DirEntry, error) {
	if off < 0 || n < 0 {
		return nil, unix.EINVAL
	}
	var out []fs.DirEntry
	for i, name := range h.d.f.ns.names() {
		if i < off || len(out) >= n {
			continue
		}
		ino := uint64(0)
		if q := h.d.f.ns.lookup(name); q != nil {
			ino = q.ino
		}
		out = append(out, fs.DirEntry{Name: name, Ino: ino, Type: unix.DT_REG})
	}
	return out, nil
}

func (h *dirFile) Read([]byte) (int, error)          { return 0, unix.EISDIR }
func (h *dirFile) Write([]byte) (int, error)         { return 0, unix.EBADF }
func (h *dirFile) Pread([]byte, int64) (int, error)  { return 0, unix.EISDIR }
func (h *dirFile) Pwrite([]byte, int64) (int, error) { return 0, unix.EBADF }
func (h *dirFile) Seek(off int64, whence int) (int64, error) {
	if whence != unix.SEEK_SET || off < 0 {
		return 0, unix.EINVAL
	}
	h.off = off
	return off, nil
}
func (h *dirFile) Stat() (unix.Stat_t, error)         { return h.d.Stat() }
func (h *dirFile) IsTerminal() bool                   { return false }
func (h *dirFile) Poll(m int16, _ int) (int16, error) { return m & (unix.POLLIN | unix.POLLOUT), nil }
func (h *dirFile) Release()                           {}

// queueNode is a queue's file in the directory.
type queueNode struct{ q *Queue }

func (n *queueNode) Stat() (unix.Stat_t, error)     { return n.q.stat(), nil }
func (n *queueNode) Lookup(string) (fs.Node, error) { return nil, unix.ENOTDIR }
func (n *queueNode) Readlink() (string, error)      { return "", unix.EINVAL }
func (n *queueNode) Open(flags int) (fs.Impl, error) {
	if flags&unix.O_DIRECTORY != 0 {
		return nil, unix.ENOTDIR
	}
	return NewFile(n.q), nil
}
