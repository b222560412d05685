package hostfs

import (
	"container/list"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"weak"

	"golang.org/x/sys/unix"

	"ringbox/guestkernel/hostcall"

	"ringbox/fs"
)

// DefaultMaxFDs bounds the O_PATH descriptors a filesystem keeps open for
// its nodes (the root's and the few in use at a moment come on top).
const DefaultMaxFDs = 1024

// resolveFlags confine every host open to one component below its
// directory, never following a symlink. Mount points inside the tree are
// crossed (no RESOLVE_NO_XDEV): bind mounts in the tree are part of it.
const resolveFlags = unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS

// FS is a host directory as a filesystem.
type FS struct {
	readOnly bool
	cache    bool // read-only and taken not to change (cache.go)
	// contentBytes counts the small files' contents kept (cache.go),
	// under mu.
	contentBytes int64
	// listedBytes counts the memory kept in directory listings and their
	// batched attributes (listing.go), under mu.
	listedBytes int64
	root        *node
	// file is the root a file bind mount shows (NewFile): a file below
	// root, the directory that holds it.
	file   *node
	maxFDs int

	mu     sync.Mutex
	lru    list.List // nodes with an open fd, most recently used first (not the root)
	closed bool

	own owners // the owners the sandbox gave host files (owners.go)

	devMu sync.Mutex
	devs  map[uint64]uint64 // host st_dev -> st_dev shown to the sandbox

	// The page cache (pagecache.go), under pcMu.
	pcMu     sync.Mutex
	src      fs.PageSource
	pcBudget int       // pages
	pcPages  int       // pages held by all caches
	caches   list.List // *pageCache with pages, most recently used first

	// The pages of shared mappings of a tree that changes (shared.go):
	// nShared counts the entries of shared, so that reads and writes of
	// a tree without them need not look.
	sharedMu sync.Mutex
	shared   map[inodeKey]*sharedFile
	nShared  atomic.Int32
}

var _ fs.FS = (*FS)(nil)

// nextDev numbers the device ids shown for host filesystems: makedev(0, n)
// like the kernel's anonymous devices, from a range of their own.
var nextDev atomic.Uint32

func newDev() uint64 { return unix.Mkdev(0, 0x1000+nextDev.Add(1)) }

// New opens the host directory dir as a filesystem. The directory is held
// as an O_PATH fd; every later host open is relative to an fd of this tree
// with openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS)
// and O_NOFOLLOW, one component at a time: the host never resolves a path,
// never follows a symlink, and nothing outside dir can be named.
func New(dir string, readOnly bool) (*FS, error) {
	// dir itself is the operator's choice: the host resolves it, once.
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("hostfs: open %s: %w", dir, err)
	}
	// Without openat2 there is no safe way to open below the directory.
	probe, err := openat2(fd, ".", unix.O_PATH, 0)
	if err != nil {
		hostcall.Close(fd)
		return nil, fmt.Errorf("hostfs: openat2 on %s: %w (Linux 5.6 or later is needed)", dir, err)
	}
	hostcall.Close(probe)
	var st unix.Stat_t
	if err := hostcall.Fstat(fd, &st); err != nil {
		hostcall.Close(fd)
		return nil, fmt.Errorf("hostfs: stat %s: %w", dir, err)
	}
	if pseudo(fd) {
		hostcall.Close(fd)
		return nil, fmt.Errorf("hostfs: %s is on a kernel pseudo-filesystem", dir)
	}
	f := &FS{readOnly: readOnly, maxFDs: DefaultMaxFDs, devs: map[uint64]uint64{st.Dev: newDev()}}
	f.root = &node{fs: f, loc: &loc{}, fd: fd, hostDev: st.Dev, ino: st.Ino, ftype: st.Mode & unix.S_IFMT}
	f.root.loc.wp = weak.Make(f.root)
	return f, nil
}

// NewFile opens the host file path as a filesystem of that one file, for
// a file bind mount: Root is the file. Its directory is held as New holds
// a tree's root, and the file is opened below it as any node of a tree
// is; nothing else of the directory can be named (a file has no children,
// and ".." above a mount's root is the VFS's). A symlink in path is
// resolved first (the operator's choice, as New's directory is); the file
// must be a regular one.
func NewFile(path string, readOnly bool) (*FS, error) {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return nil, fmt.Errorf("hostfs: %w", err)
	}
	f, err := New(filepath.Dir(real), readOnly)
	if err != nil {
		return nil, err
	}
	c, err := f.root.Lookup(filepath.Base(real))
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("hostfs: %s: %w", path, err)
	}
	n := c.(*node)
	if n.FileType() != unix.S_IFREG {
		f.Close()
		return nil, fmt.Errorf("hostfs: %s is not a regular file or a directory", path)
	}
	f.file = n
	return f, nil
}

// Root implements fs.FS.
func (f *FS) Root() fs.Node {
	if f.file != nil {
		return f.file
	}
	return f.root
}

// fuseMagic is FUSE_SUPER_MAGIC, statfs's f_type of a FUSE filesystem.
const fuseMagic = 0x65735546

// StatfsType implements fs.StatfsTyper: a tree that host programs may
// change under the sandbox (not taken not to change) reports itself as
// FUSE, a filesystem that a user-space process serves, as this one is.
// Programs that know such files can change without inotify hearing of it
// then poll them: tail -f of a log a host program writes follows it.
func (f *FS) StatfsType() int64 {
	if f.cache {
		return 0
	}
	return fuseMagic
}

// ReadOnly reports whether the filesystem refuses changes.
func (f *FS) ReadOnly() bool { return f.readOnly }

// Close releases the host descriptors. The filesystem must no longer be
// used: its nodes then fail with EIO. Descriptors in use by a call still
// running are closed when it ends.
func (f *FS) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil
	}
	f.closed = true
	for e := f.lru.Front(); e != nil; {
		next := e.Next()
		if n := e.Value.(*node); n.pins == 0 {
			f.dropLocked(n)
		}
		e = next
	}
	if f.root.pins == 0 && f.root.fd >= 0 {
		hostcall.Close(f.root.fd)
		f.root.fd = -1
	}
	return nil
}

// openFDs returns how many node descriptors are open (for tests).
func (f *FS) openFDs() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lru.Len()
}

// devFor maps a host device id to the one shown in the sandbox.
func (f *FS) devFor(hostDev uint64) uint64 {
	f.devMu.Lock()
	defer f.devMu.Unlock()
	d, ok := f.devs[hostDev]
	if !ok {
		d = newDev()
		f.devs[hostDev] = d
	}
	return d
}

// fixStat hides the host's device numbering and shows the owner the
// sandbox gave the file (owners.go).
func (f *FS) fixStat(st *unix.Stat_t) {
	f.showOwner(st)
	st.Dev = f.devFor(st.Dev)
}

// loc is where a node is: its parent and its name. The node's cleanup
// holds it, to drop the parent's weak reference.
type loc struct {
	parent *node // nil for the root
	name   string
	wp     weak.Pointer[node]
}

// node is a file of the tree. Its O_PATH fd is a cache: opened on first
// use, closed by the LRU, reopened from the parent by name.
type node struct {
	fs *FS

	// Under fs.mu.
	loc      *loc
	gen      uint64 // bumped when the node is renamed
	moving   int    // renames of the node under way
	fd       int    // O_PATH fd, or -1
	pins     int    // calls using fd: it is not closed meanwhile
	elem     *list.Element
	hostDev  uint64 // identity of the host file fd was last opened on
	ino      uint64
	special  bool // on a kernel pseudo-filesystem: not entered nor opened
	children map[string]weak.Pointer[node]
	ftype    uint32 // S_IFMT bits when the node was made (fs.Typer)
	// Read-only filesystems only (cache.go): the attributes, the
	// symlink target, and the names known missing.
	st       *unix.Stat_t
	link     string
	hasLink  bool
	negative map[string]struct{}
	content  []byte   // a small file's contents
	listing  *listing // a directory's entries (listing.go)
	// pc is a regular file's page cache, made on first mapping (under
	// fs.pcMu).
	pc *pageCache
}

// FileType implements fs.Typer: the file type seen when the node was
// looked up. Path walks use it instead of a host fstat per component; a
// host entry replaced since is still never followed by the host (every
// open is O_NOFOLLOW and RESOLVE_NO_SYMLINKS).
func (n *node) FileType() uint32 {
	n.fs.mu.Lock()
	defer n.fs.mu.Unlock()
	return n.ftype
}

func (n *node) String() string {
	n.fs.mu.Lock()
	defer n.fs.mu.Unlock()
	return fmt.Sprintf("hostfs node %q", n.loc.name)
}

// newChild makes the node for name in n, with fd (or -1 for a lazy one)
// opened on the host file of identity st, and records it as n's current
// child of that name. Called with fs.mu held.
func (n *node) newChildLocked(name string, fd int, st *unix.Stat_t, special bool) *node {
	f := n.fs
	c := &node{fs: f, loc: &loc{parent: n, name: name}, fd: -1, hostDev: st.Dev, ino: st.Ino, special: special,
		ftype: st.Mode & unix.S_IFMT}
	c.loc.wp = weak.Make(c)
	if fd >= 0 {
		c.fd = fd
		c.elem = f.lru.PushFront(c)
	}
	if n.children == nil {
		n.children = map[string]weak.Pointer[node]{}
	}
	n.children[name] = c.loc.wp
	runtime.AddCleanup(c, f.forget, c.loc)
	return c
}

// forget drops a collected node from its parent's children.
func (f *FS) forget(l *loc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if p := l.parent; p != nil && p.children[l.name] == l.wp {
		delete(p.children, l.name)
	}
}

// child returns the live node recorded for name in n, or nil. Called with
// fs.mu held.
func (n *node) childLocked(name string) *node {
	if wp, ok := n.children[name]; ok {
		return wp.Value()
	}
	return nil
}

// dropLocked closes an unpinned node's fd and takes it off the LRU.
func (f *FS) dropLocked(n *node) {
	if n.elem != nil {
		f.lru.Remove(n.elem)
		n.elem = nil
	}
	if n.fd >= 0 {
		hostcall.Close(n.fd)
		n.fd = -1
	}
}

// evictLocked closes the least recently used unpinned fds over the bound.
func (f *FS) evictLocked() {
	for e := f.lru.Back(); e != nil && f.lru.Len() > f.maxFDs; {
		prev := e.Prev()
		if n := e.Value.(*node); n.pins == 0 {
			f.dropLocked(n)
		}
		e = prev
	}
}

// acquire returns n's O_PATH fd, opening it if needed, and pins it: it
// stays open (and its number is not reused) until release.
func (n *node) acquire() (int, error) {
	f := n.fs
	for {
		f.mu.Lock()
		if f.closed {
			f.mu.Unlock()
			return -1, unix.EIO
		}
		if n.fd >= 0 {
			n.pins++
			if n.elem != nil {
				f.lru.MoveToFront(n.elem)
			}
			f.mu.Unlock()
			return n.fd, nil
		}
		parent, name, gen := n.loc.parent, n.loc.name, n.gen
		f.mu.Unlock()
		if parent == nil {
			return -1, unix.EIO // the root's fd only goes with Close
		}
		var fd int
		var st *unix.Stat_t
		var special bool
		var err error
		if _, ok := n.cachedStat(); ok {
			// A read-only tree is taken as unchanging for the run (the
			// cache policy): the node keeps the identity its lookup saw,
			// with no fstat (a VM exit in ring0 mode) to say so again.
			// Cached lookups are never mount points.
			fd, err = parent.openPath(name)
		} else {
			fd, st, special, err = parent.openChild(name)
		}
		if err != nil {
			return -1, err
		}
		f.mu.Lock()
		switch {
		case n.gen != gen || n.moving > 0 || f.closed:
			// Renamed (or closed) meanwhile: fd may name something else.
			f.mu.Unlock()
			hostcall.Close(fd)
			runtime.Gosched()
			continue
		case n.fd >= 0:
			// Another call opened it first.
			f.mu.Unlock()
			hostcall.Close(fd)
			continue
		}
		n.fd = fd
		if st != nil {
			n.hostDev, n.ino, n.special = st.Dev, st.Ino, special
		}
		n.pins++
		n.elem = f.lru.PushFront(n)
		f.evictLocked()
		f.mu.Unlock()
		return fd, nil
	}
}

// release unpins n's fd.
func (n *node) release() {
	f := n.fs
	f.mu.Lock()
	defer f.mu.Unlock()
	n.pins--
	if n.pins > 0 {
		return
	}
	if f.closed {
		if n == f.root {
			if n.fd >= 0 {
				hostcall.Close(n.fd)
				n.fd = -1
			}
		} else {
			f.dropLocked(n)
		}
		return
	}
	if f.lru.Len() > f.maxFDs {
		f.evictLocked()
	}
}

// openPath opens name in directory n as an O_PATH fd, which the caller
// owns.
func (n *node) openPath(name string) (int, error) {
	dfd, err := n.dirFD()
	if err != nil {
		return -1, err
	}
	defer n.release()
	return openat2(dfd, name, unix.O_PATH, 0)
}

// openChild opens name in directory n as an O_PATH fd and reports what it
// is. The fd is not recorded anywhere: the caller owns it.
func (n *node) openChild(name string) (int, *unix.Stat_t, bool, error) {
	fd, err := n.openPath(name)
	if err != nil {
		return -1, nil, false, err
	}
	st := new(unix.Stat_t)
	if err := hostcall.Fstat(fd, st); err != nil {
		hostcall.Close(fd)
		return -1, nil, false, errno(err)
	}
	n.fs.mu.Lock()
	parentDev := n.hostDev
	n.fs.mu.Unlock()
	// A mount point: what is mounted there may be a kernel interface.
	special := st.Dev != parentDev && pseudo(fd)
	return fd, st, special, nil
}

// dirFD pins n's fd for use as the directory of an *at call. Nothing
// below a pseudo-filesystem's mount point is reachable.
func (n *node) dirFD() (int, error) {
	fd, err := n.acquire()
	if err != nil {
		return -1, err
	}
	n.fs.mu.Lock()
	special := n.special
	n.fs.mu.Unlock()
	if special {
		n.release()
		return -1, unix.EACCES
	}
	return fd, nil
}

// parentFD pins the fd of n's parent and returns it with n's name, for
// the calls that must name n (opening it for I/O, truncating it).
func (n *node) parentFD() (*node, int, string, error) {
	n.fs.mu.Lock()
	parent, name := n.loc.parent, n.loc.name
	n.fs.mu.Unlock()
	if parent == nil {
		return nil, -1, "", unix.EISDIR // the root is a directory
	}
	fd, err := parent.dirFD()
	if err != nil {
		return nil, -1, "", err
	}
	return parent, fd, name, nil
}

// pseudoFS are the kernel-interface filesystems a tree may contain (with
// the host's / as the tree) but the sandbox must not read.
var pseudoFS = map[int64]bool{
	unix.PROC_SUPER_MAGIC:      true,
	unix.SYSFS_MAGIC:           true,
	unix.DEBUGFS_MAGIC:         true,
	unix.TRACEFS_MAGIC:         true,
	unix.SECURITYFS_MAGIC:      true,
	unix.CGROUP_SUPER_MAGIC:    true,
	unix.CGROUP2_SUPER_MAGIC:   true,
	unix.BPF_FS_MAGIC:          true,
	unix.DEVPTS_SUPER_MAGIC:    true,
	unix.EFIVARFS_MAGIC:        true,
	unix.PSTOREFS_MAGIC:        true,
	unix.SELINUX_MAGIC:         true,
	unix.SMACK_MAGIC:           true,
	unix.BINFMTFS_MAGIC:        true,
	unix.NSFS_MAGIC:            true,
	unix.USBDEVICE_SUPER_MAGIC: true,
	0x62656570:                 true, // configfs
	0x65735543:                 true, // fusectl
	0x19800202:                 true, // mqueue
	0x6c6f6f70:                 true, // binderfs
	0x67596969:                 true, // rpc_pipefs
	0x6e667364:                 true, // nfsd
}

// pseudo reports whether fd is on a kernel pseudo-filesystem (or cannot be
// told: then it is treated as one).
func pseudo(fd int) bool {
	var sfs unix.Statfs_t
	for {
		err := hostcall.Fstatfs(fd, &sfs)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return true
		}
		return pseudoFS[int64(sfs.Type)]
	}
}

// openat2 opens name (one component) below dirfd without following
// symlinks.
func openat2(dirfd int, name string, flags int, mode uint32) (int, error) {
	how := unix.OpenHow{
		Flags:   uint64(flags | unix.O_NOFOLLOW | unix.O_CLOEXEC),
		Mode:    uint64(mode),
		Resolve: resolveFlags,
	}
	for tries := 0; ; tries++ {
		fd, err := hostcall.Openat2(dirfd, name, &how)
		// EAGAIN: a rename or mount raced with RESOLVE_BENEATH's checks.
		if err == unix.EINTR || err == unix.EAGAIN && tries < 16 {
			continue
		}
		return fd, errno(err)
	}
}

// checkName refuses what is not one plain component.
func checkName(name string) error {
	if name == "" || name == "." || name == ".." {
		return unix.EINVAL
	}
	for i := 0; i < len(name); i++ {
		if name[i] == '/' || name[i] == 0 {
			return unix.EINVAL
		}
	}
	if len(name) > fs.NameMax {
		return unix.ENAMETOOLONG
	}
	return nil
}

// errno returns err as a unix.Errno (EIO for anything else).
func errno(err error) error {
	if err == nil {
		return nil
	}
	var e unix.Errno
	if errors.As(err, &e) {
		return e
	}
	return unix.EIO
}

// retry runs an I/O call again while it is interrupted.
func retry(f func() (int, error)) (int, error) {
	for {
		n, err := f()
		if err == unix.EINTR {
			continue
		}
		if n < 0 {
			n = 0
		}
		return n, errno(err)
	}
}

func fstat(fd int) (unix.Stat_t, error) {
	var st unix.Stat_t
	for {
		err := hostcall.Fstat(fd, &st)
		if err == unix.EINTR {
			continue
		}
		return st, errno(err)
	}
}
