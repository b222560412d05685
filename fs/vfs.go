package fs

import (
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Limits of path resolution, as Linux's.
const (
	PathMax     = 4096 // bytes, including the NUL
	NameMax     = 255  // bytes of one component
	MaxSymlinks = 40   // symlinks followed in one resolution
)

// Node is a file of a filesystem (an inode). Errors are unix.Errno.
type Node interface {
	// Stat returns the node's attributes.
	Stat() (unix.Stat_t, error)
	// Lookup returns the child called name of a directory; name is never
	// "", "." or "..". ENOENT if there is none, ENOTDIR for a non-directory.
	Lookup(name string) (Node, error)
	// Readlink returns a symbolic link's target (EINVAL for others).
	Readlink() (string, error)
	// Open opens the node with open(2) flags (the access mode and
	// O_APPEND, O_DIRECTORY, O_TRUNC, O_NONBLOCK ...; never O_CREAT).
	Open(flags int) (Impl, error)
}

// Typer is implemented by nodes that know their file type (S_IFMT bits)
// without asking their backing store: path walks use it on every
// component.
type Typer interface {
	FileType() uint32
}

// fileType returns n's S_IFMT bits.
func fileType(n Node) (uint32, error) {
	if t, ok := n.(Typer); ok {
		return t.FileType(), nil
	}
	st, err := n.Stat()
	if err != nil {
		return 0, err
	}
	return st.Mode & unix.S_IFMT, nil
}

// DirEntry is one directory entry, as getdents64 reports it.
type DirEntry struct {
	Name string
	Ino  uint64
	Type uint8 // DT_*
}

// DirReader is implemented by the Impl of an open directory.
type DirReader interface {
	// ReadDir returns the entries from index off on ("." and ".." are
	// added by the caller), at most n of them.
	ReadDir(off, n int) ([]DirEntry, error)
}

// FS is a filesystem that can be mounted.
type FS interface {
	Root() Node
}

// StatfsTyper is implemented by filesystems that statfs(2) reports with
// a type of their own (f_type); 0 keeps the default.
type StatfsTyper interface {
	StatfsType() int64
}

// Mount is a filesystem mounted at a directory.
type Mount struct {
	FS       FS
	ReadOnly bool
	root     *Dentry // the filesystem's root directory
	point    *Dentry // where it is mounted (nil for the root mount)
	// lockedRO: read-only by the sandbox's configuration (NewVFS,
	// MountAt), or a bind of such a mount: the program cannot make it
	// writable (as Linux locks the flags a more privileged namespace
	// set).
	lockedRO bool
	// locked: made by the sandbox's configuration (NewVFS, MountAt):
	// the program cannot unmount it, nor bind a tree it covers part of,
	// which would uncover what it hides (Linux's MNT_LOCKED).
	locked bool
	// flags: NoSuid, NoDev, NoExec (atomic: a remount changes them while
	// other tasks exec and map); lockedFlags those a remount cannot
	// clear.
	flags, lockedFlags atomic.Uint32
}

// Dentry is a name in the tree: a node, where it is, and its cached
// children.
type Dentry struct {
	name   string
	parent *Dentry // nil at a mount's root
	node   Node
	mount  *Mount

	mu       sync.Mutex
	children map[string]*Dentry
	mounted  *Mount // mounted on top of this directory
}

// Node returns the dentry's node.
func (d *Dentry) Node() Node { return d.node }

// Mount returns the mount the dentry belongs to.
func (d *Dentry) Mount() *Mount { return d.mount }

// Parent returns the directory that holds d in its filesystem, nil at a
// mount's root.
func (d *Dentry) Parent() *Dentry { return d.parent }

// Name returns the dentry's name ("/" at a mount root).
func (d *Dentry) Name() string { return d.name }

// Uncached is implemented by directories whose entries come and go
// without the VFS hearing of it (/dev/pts): their lookups are never
// cached.
type Uncached interface {
	Uncached() bool
}

// maxCachedChildren bounds each directory's dentry cache.
const maxCachedChildren = 4096

func (d *Dentry) child(name string) (*Dentry, error) {
	d.mu.Lock()
	if c, ok := d.children[name]; ok {
		d.mu.Unlock()
		return c, nil
	}
	d.mu.Unlock()
	n, err := d.node.Lookup(name)
	if err != nil {
		return nil, err
	}
	c := &Dentry{name: name, parent: d, node: n, mount: d.mount}
	if u, ok := d.node.(Uncached); ok && u.Uncached() {
		return c, nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if old, ok := d.children[name]; ok {
		return old, nil
	}
	if d.children == nil {
		d.children = map[string]*Dentry{}
	}
	if len(d.children) >= maxCachedChildren {
		for k, v := range d.children {
			if v.mounted == nil {
				delete(d.children, k)
				break
			}
		}
	}
	d.children[name] = c
	return c, nil
}

// Invalidate drops the cached child name (after it was created, removed
// or renamed).
func (d *Dentry) Invalidate(name string) {
	d.mu.Lock()
	if c, ok := d.children[name]; ok && c.mounted == nil {
		delete(d.children, name)
	}
	d.mu.Unlock()
}

// top returns what is visible at d: the root of the last mount stacked on
// it, or d.
func (d *Dentry) top() *Dentry {
	for {
		d.mu.Lock()
		m := d.mounted
		d.mu.Unlock()
		if m == nil {
			return d
		}
		d = m.root
	}
}

// up returns the parent as seen through mounts: from a mount's root, the
// parent of its mount point.
func (d *Dentry) up() *Dentry {
	for d.parent == nil && d.mount.point != nil {
		d = d.mount.point
	}
	if d.parent == nil {
		return d
	}
	return d.parent.top()
}

// Path returns d's absolute path as seen from root (for getcwd and /proc).
func (d *Dentry) Path(root *Dentry) string {
	var parts []string
	for d != root {
		for d.parent == nil && d.mount.point != nil {
			d = d.mount.point
		}
		if d.parent == nil || d == root {
			break
		}
		parts = append(parts, d.name)
		d = d.parent
	}
	var b strings.Builder
	for i := len(parts) - 1; i >= 0; i-- {
		b.WriteByte('/')
		b.WriteString(parts[i])
	}
	if b.Len() == 0 {
		return "/"
	}
	return b.String()
}

// IsDir reports whether d is a directory.
func (d *Dentry) IsDir() bool {
	t, err := fileType(d.node)
	return err == nil && t == unix.S_IFDIR
}

// VFS is a process tree of mounts.
type VFS struct {
	root *Dentry
}

// NewVFS makes a tree with fs mounted at /.
func NewVFS(fs FS, readOnly bool) *VFS {
	m := &Mount{FS: fs, ReadOnly: readOnly, lockedRO: readOnly, locked: true}
	m.root = &Dentry{name: "/", node: fs.Root(), mount: m}
	return &VFS{root: m.root}
}

// Root returns the dentry of /.
func (v *VFS) Root() *Dentry { return v.root }

// MountAt mounts fs on the directory at path (resolved from /), or, when
// fs's root is not a directory, on the file at path (a file bind mount,
// as /etc/resolv.conf with --net=sandbox).
func (v *VFS) MountAt(path string, fs FS, readOnly bool) error {
	return v.MountWith(path, fs, readOnly, 0)
}

// MountWith is MountAt with flags (NoSuid, NoDev, NoExec), locked as the
// read-only state is: the program's mount(2) cannot lift them.
func (v *VFS) MountWith(path string, fs FS, readOnly bool, flags uint32) error {
	d, err := v.Resolve(v.root, v.root, path, true)
	if err != nil {
		return err
	}
	m, err := v.MountOn(d, fs, readOnly)
	if err != nil {
		return err
	}
	m.locked = true
	if readOnly {
		m.LockReadOnly()
	}
	m.LockFlags(flags)
	return nil
}

// Resolve walks path from start (relative paths) or root (absolute ones)
// and returns its dentry. follow says whether a symlink in the last
// component is followed. Resolution never leaves root: ".." at root stays
// there.
func (v *VFS) Resolve(start, root *Dentry, path string, follow bool) (*Dentry, error) {
	return v.ResolveHow(start, root, path, follow, 0)
}

// Resolution restricts a walk as openat2(2)'s resolve flags do; its bits
// are unix.RESOLVE_NO_XDEV, RESOLVE_NO_MAGICLINKS, RESOLVE_NO_SYMLINKS,
// RESOLVE_BENEATH and RESOLVE_IN_ROOT (the caller checks them).
//
//   - NO_XDEV: crossing a mount, either way, is EXDEV.
//   - NO_SYMLINKS: a symlink to follow is ELOOP; NO_MAGICLINKS: a magic
//     link to follow (MagicLink.Magic) is ELOOP.
//   - BENEATH: the walk stays under root: an absolute path or symlink,
//     or ".." at root, is EXDEV.
//   - IN_ROOT: "/" and ".." stop at root, as for any walk; the caller
//     passes the directory to stay in as root (openat2's dirfd).
//
// Under BENEATH or IN_ROOT a magic link to follow is EXDEV. The caller
// passes as root the directory the walk must stay under.
type Resolution uint64

const resolveScoped = unix.RESOLVE_BENEATH | unix.RESOLVE_IN_ROOT

// ResolveHow is Resolve restricted by how.
func (v *VFS) ResolveHow(start, root *Dentry, path string, follow bool, how Resolution) (*Dentry, error) {
	d, _, err := v.resolve(start, root, path, follow, how, false) // no file without wantMagic
	return d, err
}

// MagicLink is a symlink that names an open file rather than a path
// (/proc/PID/fd/N of a pipe, a socket or a deleted file): opening a path
// that ends in it opens that file, as Linux does.
type MagicLink interface {
	// OpenFile returns the open file the link names, with a reference
	// for the caller, or ok false to follow the link as a path.
	OpenFile() (f *File, ok bool)
	// Magic reports whether the link is one of Linux's magic links
	// (/proc/PID/fd/N, exe, cwd, root), which RESOLVE_NO_MAGICLINKS and
	// the scoped resolutions refuse to follow, whatever it names.
	Magic() bool
}

// ResolveOpen is Resolve for open(2): when the last component (or the
// end of a symlink it leads to) is a MagicLink naming an open file, it
// returns that file (with a reference) instead of a dentry.
func (v *VFS) ResolveOpen(start, root *Dentry, path string, follow bool) (*Dentry, *File, error) {
	return v.resolve(start, root, path, follow, 0, true)
}

// ResolveOpenHow is ResolveOpen restricted by how.
func (v *VFS) ResolveOpenHow(start, root *Dentry, path string, follow bool, how Resolution) (*Dentry, *File, error) {
	return v.resolve(start, root, path, follow, how, true)
}

func (v *VFS) resolve(start, root *Dentry, path string, follow bool, how Resolution, wantMagic bool) (*Dentry, *File, error) {
	return v.resolveAs(nil, start, root, path, follow, how, wantMagic)
}

func (v *VFS) resolveAs(s Searcher, start, root *Dentry, path string, follow bool, how Resolution, wantMagic bool) (*Dentry, *File, error) {
	if path == "" {
		return nil, nil, unix.ENOENT
	}
	if len(path) >= PathMax {
		return nil, nil, unix.ENAMETOOLONG
	}
	w := walker{root: root, how: how, search: s}
	var magic *File
	mp := &magic
	if !wantMagic {
		mp = nil
	}
	d, err := v.walkMagic(w.begin(start, path), &w, path, follow, mp)
	if magic != nil {
		if err != nil {
			magic.DecRef()
			return nil, nil, err
		}
		return nil, magic, nil
	}
	return d, nil, err
}

// ResolveParent resolves all but the last component of path and returns
// the directory and the last name ("." or "" for a path like "/" or "a/").
func (v *VFS) ResolveParent(start, root *Dentry, path string) (*Dentry, string, error) {
	return v.ResolveParentHow(start, root, path, 0)
}

// ResolveParentHow is ResolveParent restricted by how.
func (v *VFS) ResolveParentHow(start, root *Dentry, path string, how Resolution) (*Dentry, string, error) {
	return v.resolveParentAs(nil, start, root, path, how)
}

func (v *VFS) resolveParentAs(s Searcher, start, root *Dentry, path string, how Resolution) (*Dentry, string, error) {
	if path == "" {
		return nil, "", unix.ENOENT
	}
	if len(path) >= PathMax {
		return nil, "", unix.ENAMETOOLONG
	}
	w := walker{root: root, how: how, search: s}
	trimmed := strings.TrimRight(path, "/")
	if trimmed == "" {
		if how&unix.RESOLVE_BENEATH != 0 {
			return nil, "", unix.EXDEV
		}
		return w.root, ".", nil
	}
	i := strings.LastIndexByte(trimmed, '/')
	name := trimmed[i+1:]
	if len(name) > NameMax {
		return nil, "", unix.ENAMETOOLONG
	}
	dir := w.begin(start, path)
	if i >= 0 {
		var err error
		dirPath := trimmed[:i+1]
		if dir, err = v.walkMagic(dir, &w, dirPath, true, nil); err != nil {
			return nil, "", err
		}
	}
	if !dir.IsDir() {
		return nil, "", unix.ENOTDIR
	}
	if name == ".." && how&unix.RESOLVE_BENEATH != 0 && dir == w.root.top() {
		return nil, "", unix.EXDEV
	}
	return dir, name, nil
}

// Searcher decides whether a walk may look up names in directory d (the
// caller's search permission, x; EACCES if not). A nil Searcher lets
// every walk through (root, or the sandbox's own lookups). It is also
// asked with a magic link's dentry (MagicLink.Magic) before the walk
// follows it: nil lets the walk jump to the link's file without searching
// the directories of its path, as Linux does for a caller that may trace
// the link's process; an error makes it follow the path with checks.
type Searcher func(d *Dentry) error

// View is the tree as one caller walks it: its Resolve methods check
// the caller's search permission on every directory they look a name up
// in, as Linux's path walk does.
type View struct {
	v *VFS
	s Searcher
}

// For returns the tree as seen by a caller with searcher s.
func (v *VFS) For(s Searcher) View { return View{v, s} }

// Resolve is VFS.Resolve for the view's caller.
func (w View) Resolve(start, root *Dentry, path string, follow bool) (*Dentry, error) {
	return w.ResolveHow(start, root, path, follow, 0)
}

// ResolveHow is VFS.ResolveHow for the view's caller.
func (w View) ResolveHow(start, root *Dentry, path string, follow bool, how Resolution) (*Dentry, error) {
	d, _, err := w.v.resolveAs(w.s, start, root, path, follow, how, false)
	return d, err
}

// ResolveOpen is VFS.ResolveOpen for the view's caller.
func (w View) ResolveOpen(start, root *Dentry, path string, follow bool) (*Dentry, *File, error) {
	return w.v.resolveAs(w.s, start, root, path, follow, 0, true)
}

// ResolveOpenHow is VFS.ResolveOpenHow for the view's caller.
func (w View) ResolveOpenHow(start, root *Dentry, path string, follow bool, how Resolution) (*Dentry, *File, error) {
	return w.v.resolveAs(w.s, start, root, path, follow, how, true)
}

// ResolveParent is VFS.ResolveParent for the view's caller.
func (w View) ResolveParent(start, root *Dentry, path string) (*Dentry, string, error) {
	return w.v.resolveParentAs(w.s, start, root, path, 0)
}

// ResolveParentHow is VFS.ResolveParentHow for the view's caller.
func (w View) ResolveParentHow(start, root *Dentry, path string, how Resolution) (*Dentry, string, error) {
	return w.v.resolveParentAs(w.s, start, root, path, how)
}

// walker is the state of one resolution: where "/" and ".." stop, the
// symlinks followed so far, and the restrictions.
type walker struct {
	root   *Dentry
	links  int
	how    Resolution
	search Searcher // nil: every directory may be passed
}

// begin returns where a walk of path starts: the root for an absolute
// path (NO_XDEV then holds the walk to root's mount, as Linux does), else
// start.
func (w *walker) begin(start *Dentry, path string) *Dentry {
	if strings.HasPrefix(path, "/") {
		return w.root.top()
	}
	return start.top()
}

// walkMagic walks path from d. With magic non-nil, a MagicLink followed
// as the last component ends the walk with its file in *magic.
func (v *VFS) walkMagic(d *Dentry, w *walker, path string, follow bool, magic **File) (*Dentry, error) {
	if strings.HasPrefix(path, "/") {
		if w.how&unix.RESOLVE_BENEATH != 0 {
			return nil, unix.EXDEV
		}
		r := w.root.top()
		if w.how&unix.RESOLVE_NO_XDEV != 0 && r.mount != d.mount {
			return nil, unix.EXDEV
		}
		d = r
	}
	mustDir := strings.HasSuffix(path, "/")
	parts := strings.Split(path, "/")
	for i, name := range parts {
		last := i == len(parts)-1
		if name != "" && w.search != nil && d.IsDir() {
			// A lookup in d (of a name, "." or ".."): search permission.
			if err := w.search(d); err != nil {
				return nil, err
			}
		}
		switch name {
		case "", ".":
			if !d.IsDir() {
				return nil, unix.ENOTDIR
			}
			continue
		case "..":
			if d == w.root.top() {
				if w.how&unix.RESOLVE_BENEATH != 0 {
					return nil, unix.EXDEV
				}
				continue
			}
			up := d.up()
			if w.how&unix.RESOLVE_NO_XDEV != 0 && up.mount != d.mount {
				return nil, unix.EXDEV
			}
			d = up
			continue
		}
		if len(name) > NameMax {
			return nil, unix.ENAMETOOLONG
		}
		if !d.IsDir() {
			return nil, unix.ENOTDIR
		}
		c, err := d.child(name)
		if err != nil {
			return nil, err
		}
		if top := c.top(); top != c {
			if w.how&unix.RESOLVE_NO_XDEV != 0 {
				return nil, unix.EXDEV
			}
			c = top
		}
		typ, err := fileType(c.node)
		if err != nil {
			return nil, err
		}
		if typ == unix.S_IFLNK && (!last || follow || mustDir) {
			w.links++
			if w.links > MaxSymlinks {
				return nil, unix.ELOOP
			}
			ml, isML := c.node.(MagicLink)
			if isML && ml.Magic() {
				switch {
				case w.how&unix.RESOLVE_NO_MAGICLINKS != 0:
					return nil, unix.ELOOP
				case w.how&resolveScoped != 0:
					return nil, unix.EXDEV
				}
			}
			if w.how&unix.RESOLVE_NO_SYMLINKS != 0 {
				return nil, unix.ELOOP
			}
			if last && !mustDir && magic != nil && isML {
				if f, ok := ml.OpenFile(); ok {
					*magic = f
					return nil, nil
				}
			}
			target, err := c.node.Readlink()
			if err != nil {
				return nil, err
			}
			if target == "" {
				return nil, unix.ENOENT
			}
			var inner **File
			if last && !mustDir {
				inner = magic
			}
			// Linux jumps to a magic link's file (nd_jump_link): the
			// directories of its path are not searched, so a process
			// that may no longer search them still reaches its own
			// cwd, executable and descriptors. The Searcher says
			// whether this caller may jump (asked with the link's own
			// dentry); names after the link are looked up with the
			// caller's permissions again.
			search := w.search
			if isML && ml.Magic() && (search == nil || search(c) == nil) {
				w.search = nil
			}
			c, err = v.walkMagic(d, w, target, true, inner)
			w.search = search
			if err != nil {
				return nil, err
			}
			if inner != nil && *inner != nil {
				return nil, nil
			}
		}
		d = c
	}
	if mustDir && !d.IsDir() {
		return nil, unix.ENOTDIR
	}
	return d, nil
}

// Mutable is implemented by the nodes of writable filesystems. Directory
// operations (Create, Mkdir, Unlink, Rmdir, Symlink, Rename, Link) take one
// component, as Lookup; the others change the node itself. All are EROFS
// on a read-only filesystem. Modes are final (the caller applies the
// program's umask).
type Mutable interface {
	// Create creates the regular file name and opens it with flags (as
	// Open's; O_EXCL makes an existing name EEXIST, otherwise an existing
	// file is opened as it is).
	Create(name string, flags int, mode uint32) (Node, Impl, error)
	Mkdir(name string, mode uint32) error
	Unlink(name string) error
	Rmdir(name string) error
	// Symlink creates name pointing at target (any text: the host never
	// follows it).
	Symlink(target, name string) error
	// Rename moves name to newName in newDir (a directory of the same
	// filesystem, else EXDEV), replacing what is there as rename(2) does.
	// flags are renameat2(2)'s, checked and applied by the filesystem
	// atomically with the rename: unix.RENAME_NOREPLACE (EEXIST when
	// newName exists), unix.RENAME_EXCHANGE (the two names swap files,
	// both must exist: ENOENT otherwise). A filesystem returns EINVAL for
	// flags it does not support, and for both at once.
	Rename(oldName string, newDir Node, newName string, flags uint) error
	// Link makes name a new hard link to old (a node of the same
	// filesystem, else EXDEV).
	Link(old Node, name string) error
	Chmod(mode uint32) error
	Truncate(size int64) error
	// Utimens sets the times (UTIME_NOW and UTIME_OMIT as utimensat); a
	// symlink's own times are set.
	Utimens(atime, mtime unix.Timespec) error
}

// Xattrs is implemented by nodes that keep extended attributes (the
// sandbox's own files: tmpfs, and the overlay, whose lower layer shows
// none; a host tree's, whose user.* namespace is the host file's). Names
// come checked (a known namespace, 1 to 255 bytes) and the caller has
// checked the permissions; the node bounds what it keeps.
type Xattrs interface {
	// GetXattr returns the value of name, or ENODATA.
	GetXattr(name string) ([]byte, error)
	// SetXattr sets name. flags are setxattr(2)'s: XATTR_CREATE (EEXIST
	// when name exists), XATTR_REPLACE (ENODATA when it does not). ENOSPC
	// past the node's or the filesystem's bound.
	SetXattr(name string, value []byte, flags int) error
	// ListXattr returns every name.
	ListXattr() ([]string, error)
	// RemoveXattr removes name, or is ENODATA.
	RemoveXattr(name string) error
}

// OwnProcessFile is a /proc directory its own process may always read and
// search, or a magic link it may always jump through, whoever owns it: a process that is not dumpable (it changed its
// IDs) shows root as the owner of its /proc files, yet still lists its own
// descriptors (Linux's proc_fd_permission), as closefrom and Python's
// close_fds do. OwnProcess returns that process's ID.
type OwnProcessFile interface {
	OwnProcess() int32
}

// AttrChanger is a node whose mode and times can change: every Mutable,
// and nodes that offer nothing else (a terminal's /dev/pts/N).
type AttrChanger interface {
	Chmod(mode uint32) error
	Utimens(atime, mtime unix.Timespec) error
}

// Chowner is a node whose owner can change: the in-memory filesystems'
// nodes, and a read-write host tree's, whose owners the tree shows in
// place of the host's (hostfs/owners.go). Chown sets the user and group
// IDs, each unless it is ^0 (chown(2)'s -1); the mode stays (the syscall
// clears the set-ID bits as Linux does).
type Chowner interface {
	Chown(uid, gid uint32) error
}

// OwnerOfNew is a directory that knows, without a look, whether what is
// made in it belongs to uid and gid already (a host directory: what
// ringbox makes belongs to ringbox's own host IDs), sparing the look.
type OwnerOfNew interface {
	CreatesAs(uid, gid uint32) bool
}

// NodeMaker is implemented by directory nodes of filesystems that can
// hold socket and FIFO nodes: bind(2) of an AF_UNIX socket to a path
// makes the one, mknod(2) and mkfifo(3) the other. The node is only a
// name: the socket layer finds the bound socket, and the syscall layer
// the FIFO's pipe, by the node's st_dev and st_ino, so the filesystem
// keeps nothing else and never opens it (opening a socket node is ENXIO,
// as on Linux). No host socket or host pipe is ever used.
type NodeMaker interface {
	// MakeNode creates name as a node of mode's type, S_IFSOCK or
	// S_IFIFO (EINVAL for any other), with mode's permission bits:
	// EEXIST when name exists.
	MakeNode(name string, mode uint32) error
}

// CheckNodeType refuses, with EINVAL, a MakeNode mode whose type is not a
// socket or a FIFO.
func CheckNodeType(mode uint32) error {
	switch mode & unix.S_IFMT {
	case unix.S_IFSOCK, unix.S_IFIFO:
		return nil
	}
	return unix.EINVAL
}

// FileOps is implemented by the Impl of an open regular file of a writable
// filesystem (ftruncate, fsync, fchmod, futimens).
type FileOps interface {
	Truncate(size int64) error
	Sync(dataOnly bool) error
	Chmod(mode uint32) error
	Utimens(atime, mtime unix.Timespec) error
}

// HolePuncher is implemented by the Impl of a file that can zero a range
// without writing it (fallocate's FALLOC_FL_PUNCH_HOLE): the bytes of
// [off, off+n) within the file read as zero after, and its size stays.
// errors.ErrUnsupported says to write zeros instead.
type HolePuncher interface {
	PunchHole(off, n int64) error
}

// Pager is implemented by the Impl of a file whose pages can be mapped
// into a program directly (MAP_SHARED): they live in the memory file.
type Pager interface {
	// PageAddr returns the address of page idx of the file (allocating
	// a hole), which stays valid while the caller holds a reference taken
	// on the memory file. ENXIO past the end of the file (SIGBUS).
	PageAddr(idx int64) (uintptr, error)
}

// CachedPager is a Pager that can tell, without reading anything, which
// pages it holds already: a fault maps those around the faulting page as
// well (guestkernel/mm).
type CachedPager interface {
	// CachedPage returns the address of page idx if the file holds it
	// now, else 0. The caller takes its reference as for PageAddr.
	CachedPage(idx int64) uintptr
}

// SharedMapper is implemented by the Impl of a host file whose tree
// changes (a read-write bind mount), which has no page cache to map:
// MapShared returns the pager of the pages that shared mappings of the
// file map, coherent with reads and writes through the sandbox's
// descriptors of it and written back to the host (msync, fsync, the last
// close). ENODEV when the file has none.
type SharedMapper interface {
	MapShared() (Pager, error)
}

// Flusher is implemented by a Pager whose pages mappings may write and
// that writes them back to a host file (msync).
type Flusher interface {
	Flush() error
}

// StablePager is implemented by the Impl of a file whose pages can be
// mapped after the Impl is released (a read-only tree's page cache): the
// pager it returns needs no open file. The loader maps programs with it.
type StablePager interface {
	// StablePager returns the pager, or nil when the file has none.
	StablePager() Pager
}

// PageSource provides the pages of a Pager filesystem (the memory file).
type PageSource interface {
	Alloc() (uintptr, error)
	Free(addr uintptr)
}

// Creator is implemented by directory nodes of writable filesystems.
type Creator interface {
	// Create makes and opens a regular file called name.
	Create(name string, flags int, mode uint32) (Node, Impl, error)
}

// PathImpl is the Impl of an O_PATH file: it names a file but does no I/O.
type PathImpl struct{ Node Node }

// Read implements Impl.
func (PathImpl) Read([]byte) (int, error) { return 0, unix.EBADF }

// Write implements Impl.
func (PathImpl) Write([]byte) (int, error) { return 0, unix.EBADF }

// Pread implements Impl.
func (PathImpl) Pread([]byte, int64) (int, error) { return 0, unix.EBADF }

// Pwrite implements Impl.
func (PathImpl) Pwrite([]byte, int64) (int, error) { return 0, unix.EBADF }

// Seek implements Impl.
func (PathImpl) Seek(int64, int) (int64, error) { return 0, unix.EBADF }

// Stat implements Impl.
func (p PathImpl) Stat() (unix.Stat_t, error) { return p.Node.Stat() }

// IsTerminal implements Impl.
func (PathImpl) IsTerminal() bool { return false }

// Poll implements Impl.
func (PathImpl) Poll(int16, int) (int16, error) { return unix.POLLNVAL, nil }

// Release implements Impl.
func (PathImpl) Release() {}
