package procfs

import (
	"crypto/rand"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"ringbox/fs"
)

// Dev is the st_dev of every procfs file: makedev(0, 0x0ff0), an
// anonymous device below the range hostfs numbers its mounts from.
var Dev = unix.Mkdev(0, 0x0ff0)

// Magic is procfs's f_type for statfs (PROC_SUPER_MAGIC).
const Magic = unix.PROC_SUPER_MAGIC

// userHZ is the clock tick of /proc (USER_HZ).
const userHZ = 100

// pageSize is the page size of the sizes counted in pages.
const pageSize = 4096

// FS is a /proc. Its own Root is the view of no process: "self" and
// "thread-self" do not exist there (as for a caller outside the PID
// namespace); ForPID and ForTask give the views that have them.
type FS struct {
	src    Source
	bootID string
}

var _ fs.FS = (*FS)(nil)

// New makes a /proc showing src.
func New(src Source) *FS {
	return &FS{src: src, bootID: newUUID()}
}

// Root implements fs.FS: the view of no process.
func (f *FS) Root() fs.Node { return (&view{fs: f}).root() }

// ForPID returns the view of process pid: "self" points at pid and
// "thread-self" at pid/task/pid.
func (f *FS) ForPID(pid int32) fs.FS { return f.ForTask(pid, pid) }

// ForTask returns the view of thread tid of process pid: "self" points at
// pid and "thread-self" at pid/task/tid.
func (f *FS) ForTask(pid, tid int32) fs.FS { return &view{fs: f, pid: pid, tid: tid} }

// ForCaller returns the view in which "self" and "thread-self" point at
// whoever looks: the Source must be a CallerSource.
func (f *FS) ForCaller() fs.FS { return &view{fs: f, caller: true} }

// CallerSource is a Source that knows which task is asking (the one whose
// thread runs the lookup).
type CallerSource interface {
	Caller() (pid, tid int32, ok bool)
}

// BootID returns /proc/sys/kernel/random/boot_id (without the newline):
// a random UUID made by New.
func (f *FS) BootID() string { return f.bootID }

// view is a /proc as one task sees it (pid 0: as nobody), or as its
// caller sees it.
type view struct {
	fs       *FS
	pid, tid int32
	caller   bool
}

// ids returns the process and thread "self" and "thread-self" name (pid
// 0: none).
func (v *view) ids() (pid, tid int32) {
	if !v.caller {
		return v.pid, v.tid
	}
	if cs, ok := v.fs.src.(CallerSource); ok {
		if pid, tid, ok := cs.Caller(); ok {
			return pid, tid
		}
	}
	return 0, 0
}

// Root implements fs.FS.
func (v *view) Root() fs.Node { return v.root() }

func (v *view) root() *node {
	return &node{v: v, path: "/", mode: unix.S_IFDIR | 0o555, fd: -1, ops: rootOps}
}

// node is a file of /proc: its path (which makes its inode number), its
// mode, the process and thread it belongs to, and what it does.
type node struct {
	v    *view
	path string // "/" for the root, "/12/task/13/stat" ...
	mode uint32 // S_IFMT and permissions
	pid  int32  // the thread group whose file it is (0: system-wide)
	tid  int32  // the thread (pid for the process's own files)
	fd   int    // the descriptor of fd/<n> and fdinfo/<n> (-1: none)
	// inTask is set below task/<tid>: the files show the thread's own
	// times and state rather than the group's.
	inTask bool
	ops    *ops
}

var _ fs.Node = (*node)(nil)

// OwnProcess implements fs.OwnProcessFile for the fd and fdinfo
// directories and the magic links (cwd, root, exe, fd/N; 0 for the
// others).
func (n *node) OwnProcess() int32 {
	if n.ops == fdDirOps || n.ops == fdinfoDirOps || n.ops.magic {
		return n.pid
	}
	return 0
}

// ops say what a node is: a file (read), a symlink (link) or a directory
// (list and child).
type ops struct {
	// read makes a regular file's content; p is nil for system files.
	read func(n *node, p Process) ([]byte, error)
	// link returns a symlink's target.
	link func(n *node, p Process) (string, error)
	// list returns a directory's entries, in order.
	list func(n *node, p Process) ([]string, error)
	// child returns the entry name of a directory (ENOENT if none).
	child func(n *node, p Process, name string) (*node, error)
	// open opens a file that is not a snapshot (mem), read-write.
	open func(n *node, p Process, flags int) (fs.Impl, error)
	// magic marks Linux's magic links (fd/<n>, exe, cwd, root).
	magic bool
	// nsIno and nsType are a namespace link's inode and CLONE_NEW* flag
	// (ns/<name>), which following the link opens (nsFile).
	nsIno  uint64
	nsType int
}

// sub makes n's child called name.
func (n *node) sub(name string, mode uint32, o *ops) *node {
	p := n.path + "/" + name
	if n.path == "/" {
		p = "/" + name
	}
	return &node{v: n.v, path: p, mode: mode, pid: n.pid, tid: n.tid, fd: n.fd, inTask: n.inTask, ops: o}
}

// proc returns the live process of n (nil for system files); ENOENT once
// the process, the thread or the descriptor is gone.
func (n *node) proc() (Process, error) {
	if n.pid == 0 {
		return nil, nil
	}
	p, ok := n.v.fs.src.Process(n.pid)
	if !ok || p.Info().PID != n.pid {
		return nil, unix.ENOENT
	}
	if n.tid != n.pid {
		if _, ok := thread(p, n.tid); !ok {
			return nil, unix.ENOENT
		}
	}
	if n.fd >= 0 {
		if _, ok := findFD(p, n.fd); !ok {
			return nil, unix.ENOENT
		}
	}
	return p, nil
}

// thread returns thread tid of p.
func thread(p Process, tid int32) (Thread, bool) {
	for _, t := range p.Threads() {
		if t.TID == tid {
			return t, true
		}
	}
	return Thread{}, false
}

// findFD returns descriptor num of p.
func findFD(p Process, num int) (FD, bool) {
	for _, d := range p.FDs() {
		if d.Num == num {
			return d, true
		}
	}
	return FD{}, false
}

// ino is the inode number of a path: stable, never 0, 1 for the root.
func ino(path string) uint64 {
	if path == "/" {
		return 1
	}
	h := fnv.New64a()
	h.Write([]byte(path))
	if i := h.Sum64(); i > 1 {
		return i
	}
	return 2
}

// Stat implements fs.Node.
func (n *node) Stat() (unix.Stat_t, error) {
	p, err := n.proc()
	if err != nil {
		return unix.Stat_t{}, err
	}
	return n.stat(p), nil
}

func (n *node) stat(p Process) unix.Stat_t {
	st := unix.Stat_t{
		Dev:     Dev,
		Ino:     ino(n.path),
		Mode:    n.mode,
		Nlink:   1,
		Blksize: 1024,
	}
	secs := n.v.fs.src.BootTime()
	if p != nil {
		info := p.Info()
		st.Uid, st.Gid = info.Creds.EUID, info.Creds.EGID
		if info.Undumpable {
			st.Uid, st.Gid = 0, 0
		}
		secs += int64(info.StartTime / userHZ)
		if n.ops == fdLinkOps {
			if d, ok := findFD(p, n.fd); ok {
				st.Mode = unix.S_IFLNK | fdLinkPerm(d.Flags)
				st.Size = 64
			}
		}
	}
	if n.mode&unix.S_IFMT == unix.S_IFDIR {
		st.Nlink = 2
	}
	ts := unix.Timespec{Sec: secs}
	st.Atim, st.Mtim, st.Ctim = ts, ts, ts
	return st
}

// fdLinkPerm is the permission of fd/<n>: read and write bits from the
// access mode, for the owner.
func fdLinkPerm(flags int) uint32 {
	switch flags & unix.O_ACCMODE {
	case unix.O_WRONLY:
		return 0o300
	case unix.O_RDWR:
		return 0o700
	}
	return 0o500
}

func (n *node) isDir() bool { return n.mode&unix.S_IFMT == unix.S_IFDIR }

// Lookup implements fs.Node.
func (n *node) Lookup(name string) (fs.Node, error) {
	if !n.isDir() {
		return nil, unix.ENOTDIR
	}
	p, err := n.proc()
	if err != nil {
		return nil, err
	}
	if name == "" || name == "." || name == ".." || len(name) > fs.NameMax {
		return nil, unix.ENOENT
	}
	c, err := n.ops.child(n, p, name)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Readlink implements fs.Node.
func (n *node) Readlink() (string, error) {
	if n.ops.link == nil {
		return "", unix.EINVAL
	}
	p, err := n.proc()
	if err != nil {
		return "", err
	}
	return n.ops.link(n, p)
}

// OpenFile implements fs.MagicLink for fd/<n>: a descriptor that names no
// path in the sandbox (a pipe, a socket, an anonymous or deleted file) is
// opened as the file itself, as Linux's magic links are (`cat /dev/stdin`
// on a pipe, bash's `<(...)`); one that names a path is followed as a path.
func (n *node) OpenFile() (*fs.File, bool) {
	if n.ops.nsIno != 0 {
		if _, err := n.proc(); err != nil {
			return nil, false
		}
		return fs.NewFile(nsFile{n.ops.nsIno, n.ops.nsType}, unix.O_RDONLY), true
	}
	if n.ops != fdLinkOps {
		return nil, false
	}
	p, err := n.proc()
	if err != nil {
		return nil, false
	}
	d, ok := findFD(p, n.fd)
	if !ok || (strings.HasPrefix(d.Path, "/") && !strings.HasSuffix(d.Path, " (deleted)")) {
		return nil, false
	}
	f := p.File(n.fd)
	return f, f != nil
}

// Magic implements fs.MagicLink.
func (n *node) Magic() bool { return n.ops.magic }

var _ fs.MagicLink = (*node)(nil)

// Open implements fs.Node. Everything is read-only: opening for writing
// (or with O_TRUNC) is EACCES, EISDIR for a directory. A file's content
// is made now, once: reads see that snapshot.
func (n *node) Open(flags int) (fs.Impl, error) {
	p, err := n.proc()
	if err != nil {
		return nil, err
	}
	if n.ops.open != nil {
		return n.ops.open(n, p, flags)
	}
	writing := flags&unix.O_ACCMODE != unix.O_RDONLY || flags&unix.O_TRUNC != 0
	switch {
	case n.ops.link != nil:
		return nil, unix.ELOOP
	case n.isDir():
		if writing {
			return nil, unix.EISDIR
		}
		return &dirImpl{n: n, st: n.stat(p)}, nil
	case flags&unix.O_DIRECTORY != 0:
		return nil, unix.ENOTDIR
	case writing:
		return nil, unix.EACCES
	}
	data, err := n.ops.read(n, p)
	if err != nil {
		return nil, err
	}
	return &fileImpl{data: data, st: n.stat(p)}, nil
}

// entry is a name of a directory of fixed entries.
type entry struct {
	name string
	mode uint32
	ops  *ops
}

// staticDirOps is a directory of the entries ents returns.
func staticDirOps(ents func() []entry) *ops {
	return &ops{
		list: func(*node, Process) ([]string, error) {
			var names []string
			for _, e := range ents() {
				names = append(names, e.name)
			}
			return names, nil
		},
		child: func(n *node, _ Process, name string) (*node, error) {
			for _, e := range ents() {
				if e.name == name {
					return n.sub(name, e.mode, e.ops), nil
				}
			}
			return nil, unix.ENOENT
		},
	}
}

// Modes of the entries.
const (
	dirMode   = unix.S_IFDIR | 0o555
	fileMode  = unix.S_IFREG | 0o444
	ownerRead = unix.S_IFREG | 0o400
	linkMode  = unix.S_IFLNK | 0o777
)

func fileOps(read func(n *node, p Process) ([]byte, error)) *ops { return &ops{read: read} }

func linkOps(link func(n *node, p Process) (string, error)) *ops { return &ops{link: link} }

// magicLinkOps is linkOps for a magic link.
func magicLinkOps(link func(n *node, p Process) (string, error)) *ops {
	return &ops{link: link, magic: true}
}

// text makes a system file's content from a string.
func text(f func(src Source) string) *ops {
	return fileOps(func(n *node, _ Process) ([]byte, error) { return []byte(f(n.v.fs.src)), nil })
}

// constant is a system file of fixed content.
func constant(s string) *ops { return text(func(Source) string { return s }) }

// Root directory ops, set in init (they refer to the tables).
var rootOps *ops

func init() {
	rootOps = &ops{list: rootList, child: rootChild}
	pidDirOps = staticDirOps(func() []entry { return pidEntries(true) })
	taskDirOps = staticDirOps(func() []entry { return pidEntries(false) })
}

// rootList lists /proc: the system files, self and thread-self in a
// process's view, and the processes.
func rootList(n *node, _ Process) ([]string, error) {
	var names []string
	for _, e := range systemEntries() {
		names = append(names, e.name)
	}
	if n.v.pid != 0 || n.v.caller {
		names = append(names, "self", "thread-self")
	}
	pids := n.v.fs.src.PIDs()
	slices.Sort(pids)
	for _, pid := range pids {
		names = append(names, strconv.Itoa(int(pid)))
	}
	return names, nil
}

func rootChild(n *node, _ Process, name string) (*node, error) {
	v := n.v
	switch name {
	case "self":
		if pid, _ := v.ids(); pid == 0 {
			return nil, unix.ENOENT
		}
		// The target is read at each use: the caller may differ.
		return n.sub(name, linkMode, linkOps(func(*node, Process) (string, error) {
			pid, _ := v.ids()
			if pid == 0 {
				return "", unix.ENOENT
			}
			return strconv.Itoa(int(pid)), nil
		})), nil
	case "thread-self":
		if pid, _ := v.ids(); pid == 0 {
			return nil, unix.ENOENT
		}
		return n.sub(name, linkMode, linkOps(func(*node, Process) (string, error) {
			pid, tid := v.ids()
			if pid == 0 {
				return "", unix.ENOENT
			}
			return fmt.Sprintf("%d/task/%d", pid, tid), nil
		})), nil
	}
	if id, ok := parseID(name); ok {
		p, ok := v.fs.src.Process(id)
		if !ok {
			return nil, unix.ENOENT
		}
		c := n.sub(name, dirMode, pidDirOps)
		c.pid, c.tid = p.Info().PID, id
		return c, nil
	}
	for _, e := range systemEntries() {
		if e.name == name {
			return n.sub(name, e.mode, e.ops), nil
		}
	}
	return nil, unix.ENOENT
}

// parseID parses a PID as /proc names it: decimal, no sign, no leading
// zero.
func parseID(s string) (int32, bool) {
	if s == "" || s[0] < '1' || s[0] > '9' || len(s) > 10 {
		return 0, false
	}
	v, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		return 0, false
	}
	return int32(v), true
}

// fileImpl is an open regular file: its content, made at open.
type fileImpl struct {
	data []byte
	st   unix.Stat_t
	mu   sync.Mutex
	off  int64
}

var _ fs.Impl = (*fileImpl)(nil)

// Read implements fs.Impl.
func (f *fileImpl) Read(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k, _ := f.Pread(p, f.off)
	f.off += int64(k)
	return k, nil
}

// Pread implements fs.Impl.
func (f *fileImpl) Pread(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, unix.EINVAL
	}
	if off >= int64(len(f.data)) {
		return 0, nil
	}
	return copy(p, f.data[off:]), nil
}

// Write implements fs.Impl.
func (f *fileImpl) Write([]byte) (int, error) { return 0, unix.EINVAL }

// Pwrite implements fs.Impl.
func (f *fileImpl) Pwrite([]byte, int64) (int, error) { return 0, unix.EINVAL }

// Seek implements fs.Impl: SEEK_SET and SEEK_CUR, as Linux's seq_file
// files (SEEK_END is EINVAL).
func (f *fileImpl) Seek(off int64, whence int) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch whence {
	case unix.SEEK_SET:
	case unix.SEEK_CUR:
		off += f.off
	default:
		return 0, unix.EINVAL
	}
	if off < 0 {
		return 0, unix.EINVAL
	}
	f.off = off
	return off, nil
}

// Stat implements fs.Impl: the attributes when it was opened.
func (f *fileImpl) Stat() (unix.Stat_t, error) { return f.st, nil }

// IsTerminal implements fs.Impl.
func (f *fileImpl) IsTerminal() bool { return false }

// Poll implements fs.Impl: always ready.
func (f *fileImpl) Poll(mask int16, _ int) (int16, error) {
	return mask & (unix.POLLIN | unix.POLLOUT | pollRdNorm | pollWrNorm), nil
}

// Release implements fs.Impl.
func (f *fileImpl) Release() {}

// POLLRDNORM and POLLWRNORM, which x/sys/unix does not name.
const (
	pollRdNorm = 0x40
	pollWrNorm = 0x100
)

// dirImpl is an open directory.
type dirImpl struct {
	n    *node
	st   unix.Stat_t
	mu   sync.Mutex
	ents []fs.DirEntry
	read bool
}

var (
	_ fs.Impl      = (*dirImpl)(nil)
	_ fs.DirReader = (*dirImpl)(nil)
)

// ReadDir implements fs.DirReader. The listing is made when reading from
// offset 0 (the first time and after a rewind), so offsets stay stable in
// between.
func (d *dirImpl) ReadDir(off, n int) ([]fs.DirEntry, error) {
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
	return slices.Clone(d.ents[off:min(len(d.ents), off+n)]), nil
}

func (d *dirImpl) list() ([]fs.DirEntry, error) {
	p, err := d.n.proc()
	if err != nil {
		return nil, err
	}
	names, err := d.n.ops.list(d.n, p)
	if err != nil {
		return nil, err
	}
	ents := make([]fs.DirEntry, 0, len(names))
	for _, name := range names {
		c, err := d.n.ops.child(d.n, p, name)
		if err != nil {
			continue // gone meanwhile
		}
		ents = append(ents, fs.DirEntry{Name: name, Ino: ino(c.path), Type: uint8((c.mode & unix.S_IFMT) >> 12)})
	}
	return ents, nil
}

// Read implements fs.Impl.
func (d *dirImpl) Read([]byte) (int, error) { return 0, unix.EISDIR }

// Write implements fs.Impl.
func (d *dirImpl) Write([]byte) (int, error) { return 0, unix.EISDIR }

// Pread implements fs.Impl.
func (d *dirImpl) Pread([]byte, int64) (int, error) { return 0, unix.EISDIR }

// Pwrite implements fs.Impl.
func (d *dirImpl) Pwrite([]byte, int64) (int, error) { return 0, unix.EISDIR }

// Seek implements fs.Impl: a directory's position is the syscall layer's
// (fs.File.DirOffset); SEEK_SET is accepted so that rewinddir works.
func (d *dirImpl) Seek(off int64, whence int) (int64, error) {
	if whence != unix.SEEK_SET || off < 0 {
		return 0, unix.EINVAL
	}
	return off, nil
}

// Stat implements fs.Impl.
func (d *dirImpl) Stat() (unix.Stat_t, error) { return d.st, nil }

// IsTerminal implements fs.Impl.
func (d *dirImpl) IsTerminal() bool { return false }

// Poll implements fs.Impl.
func (d *dirImpl) Poll(mask int16, _ int) (int16, error) {
	return mask & (unix.POLLIN | unix.POLLOUT | pollRdNorm | pollWrNorm), nil
}

// Release implements fs.Impl.
func (d *dirImpl) Release() {}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
