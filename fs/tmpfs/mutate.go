package tmpfs

import (
	"strings"

	"golang.org/x/sys/unix"

	"ringbox/fs"
)

// addLocked enters c in directory n as name (which is free).
func (n *inode) addLocked(name string, c *inode) {
	n.seq++
	e := &dirent{name: name, node: c, seq: n.seq}
	n.ents[name] = e
	n.order = append(n.order, e)
	if c.isDir() {
		n.nlink++
		c.parent = n
	}
	t := now()
	n.mtime, n.ctime = t, t
}

// removeLocked takes the entry name out of directory n. Link counts are
// the caller's.
func (n *inode) removeLocked(name string) *dirent {
	e := n.ents[name]
	delete(n.ents, name)
	e.removed = true
	n.removed++
	switch {
	case len(n.ents) == 0:
		n.order, n.removed = nil, 0
	case n.removed > 16 && n.removed*2 > len(n.order):
		live := make([]*dirent, 0, len(n.ents))
		for _, e := range n.order {
			if !e.removed {
				live = append(live, e)
			}
		}
		n.order, n.removed = live, 0
	}
	t := now()
	n.mtime, n.ctime = t, t
	return e
}

// dirLocked checks that n is a directory entries can be added to or
// removed from.
func (n *inode) dirLocked() error {
	if !n.isDir() {
		return unix.ENOTDIR
	}
	if n.nlink == 0 {
		return unix.ENOENT // removed
	}
	return nil
}

// newEntryLocked checks that name can be created in n and makes its node.
func (n *inode) newEntryLocked(name string, mode uint32) (*inode, error) {
	if err := n.dirLocked(); err != nil {
		return nil, err
	}
	if _, ok := n.ents[name]; ok {
		return nil, unix.EEXIST
	}
	c, err := n.fs.newInodeLocked(mode)
	if err != nil {
		return nil, err
	}
	if n.mode&unix.S_ISGID != 0 {
		c.gid = n.gid
		if c.isDir() {
			c.mode |= unix.S_ISGID
		}
	}
	return c, nil
}

// Create implements fs.Mutable and fs.Creator.
func (n *inode) Create(name string, flags int, mode uint32) (fs.Node, fs.Impl, error) {
	if err := checkName(name); err != nil {
		return nil, nil, err
	}
	if flags&unix.O_ACCMODE == unix.O_ACCMODE || flags&unix.O_DIRECTORY != 0 {
		return nil, nil, unix.EINVAL
	}
	f := n.fs
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := n.dirLocked(); err != nil {
		return nil, nil, err
	}
	if e, ok := n.ents[name]; ok {
		if flags&unix.O_EXCL != 0 {
			return nil, nil, unix.EEXIST
		}
		if e.node.isDir() {
			return nil, nil, unix.EISDIR
		}
		impl, err := e.node.openLocked(flags)
		if err != nil {
			return nil, nil, err
		}
		return e.node, impl, nil
	}
	c, err := n.newEntryLocked(name, unix.S_IFREG|mode&0o7777)
	if err != nil {
		return nil, nil, err
	}
	c.nlink = 1
	n.addLocked(name, c)
	c.opens++
	return c, &file{n: c, flags: flags}, nil
}

// Mkdir implements fs.Mutable.
func (n *inode) Mkdir(name string, mode uint32) error {
	if err := checkName(name); err != nil {
		return err
	}
	n.fs.mu.Lock()
	defer n.fs.mu.Unlock()
	c, err := n.newEntryLocked(name, unix.S_IFDIR|mode&0o1777)
	if err != nil {
		return err
	}
	c.nlink = 2
	c.ents = map[string]*dirent{}
	n.addLocked(name, c)
	return nil
}

// Unlink implements fs.Mutable (EISDIR for a directory).
func (n *inode) Unlink(name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	f := n.fs
	f.mu.Lock()
	defer f.mu.Unlock()
	if !n.isDir() {
		return unix.ENOTDIR
	}
	e, ok := n.ents[name]
	if !ok {
		return unix.ENOENT
	}
	c := e.node
	if c.isDir() {
		return unix.EISDIR
	}
	n.removeLocked(name)
	f.unlinkLocked(c)
	return nil
}

// unlinkLocked drops a link of the non-directory c.
func (f *FS) unlinkLocked(c *inode) {
	if c.nlink > 1 {
		f.nodes-- // an extra link is gone
	}
	c.nlink--
	c.ctime = now()
	f.freeLocked(c)
}

// Rmdir implements fs.Mutable.
func (n *inode) Rmdir(name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	f := n.fs
	f.mu.Lock()
	defer f.mu.Unlock()
	if !n.isDir() {
		return unix.ENOTDIR
	}
	e, ok := n.ents[name]
	if !ok {
		return unix.ENOENT
	}
	c := e.node
	if !c.isDir() {
		return unix.ENOTDIR
	}
	if len(c.ents) > 0 {
		return unix.ENOTEMPTY
	}
	n.removeLocked(name)
	n.nlink--
	f.rmdirLocked(c)
	return nil
}

// rmdirLocked marks the empty directory c removed.
func (f *FS) rmdirLocked(c *inode) {
	c.nlink = 0
	c.ctime = now()
	f.freeLocked(c)
}

// Symlink implements fs.Mutable.
func (n *inode) Symlink(target, name string) error {
	switch {
	case target == "":
		return unix.ENOENT
	case strings.IndexByte(target, 0) >= 0:
		return unix.EINVAL
	case len(target) >= fs.PathMax:
		return unix.ENAMETOOLONG
	}
	if err := checkName(name); err != nil {
		return err
	}
	f := n.fs
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := n.newEntryLocked(name, unix.S_IFLNK|0o777)
	if err != nil {
		return err
	}
	var charge int64
	if len(target) > shortSymlink {
		charge = 1
	}
	if err := f.reservePagesLocked(charge); err != nil {
		f.nodes-- // c is dropped
		return err
	}
	c.charged = charge
	c.target = strings.Clone(target)
	c.nlink = 1
	n.addLocked(name, c)
	return nil
}

// MakeNode implements fs.NodeMaker: a socket or FIFO node (a name only).
func (n *inode) MakeNode(name string, mode uint32) error {
	if err := fs.CheckNodeType(mode); err != nil {
		return err
	}
	if err := checkName(name); err != nil {
		return err
	}
	n.fs.mu.Lock()
	defer n.fs.mu.Unlock()
	c, err := n.newEntryLocked(name, mode&(unix.S_IFMT|0o7777))
	if err != nil {
		return err
	}
	c.nlink = 1
	n.addLocked(name, c)
	return nil
}

// sameFS returns other as a node of n's filesystem.
func (n *inode) sameFS(other fs.Node) (*inode, error) {
	o, ok := other.(*inode)
	if !ok || o == nil || o.fs != n.fs {
		return nil, unix.EXDEV
	}
	return o, nil
}

// renameFlags are the renameat2(2) flags Rename supports.
const renameFlags = unix.RENAME_NOREPLACE | unix.RENAME_EXCHANGE

// checkRenameFlags refuses flags Rename does not support, and
// RENAME_NOREPLACE with RENAME_EXCHANGE (EINVAL, as Linux).
func checkRenameFlags(flags uint) error {
	if flags&^renameFlags != 0 || flags == renameFlags {
		return unix.EINVAL
	}
	return nil
}

// Rename implements fs.Mutable, as renameat2(2): an existing newName is
// replaced (a directory only by a directory, if empty: ENOTDIR, EISDIR,
// ENOTEMPTY), or is EEXIST with RENAME_NOREPLACE; with RENAME_EXCHANGE
// the two names swap their files, whatever their types (ENOENT if newName
// does not exist). A directory cannot move below itself (EINVAL); nothing
// happens when both names are links to the same file. The checks and the
// change are made under the filesystem's lock, as one step.
func (n *inode) Rename(oldName string, newDir fs.Node, newName string, flags uint) error {
	if err := checkRenameFlags(flags); err != nil {
		return err
	}
	nd, err := n.sameFS(newDir)
	if err != nil {
		return err
	}
	if err := checkName(oldName); err != nil {
		return err
	}
	if err := checkName(newName); err != nil {
		return err
	}
	f := n.fs
	f.mu.Lock()
	defer f.mu.Unlock()
	if !n.isDir() || !nd.isDir() {
		return unix.ENOTDIR
	}
	src, ok := n.ents[oldName]
	if !ok {
		return unix.ENOENT
	}
	if err := nd.dirLocked(); err != nil {
		return err
	}
	s := src.node
	dst := nd.ents[newName]
	switch {
	case flags&unix.RENAME_NOREPLACE != 0 && dst != nil:
		return unix.EEXIST // even for a link to the same file, as Linux
	case flags&unix.RENAME_EXCHANGE != 0 && dst == nil:
		return unix.ENOENT
	}
	if dst != nil && dst.node == s {
		return nil
	}
	if s.isDir() {
		for p := nd; p != nil; p = p.parent {
			if p == s {
				return unix.EINVAL
			}
		}
	}
	if flags&unix.RENAME_EXCHANGE != 0 {
		return n.exchangeLocked(src, nd, dst)
	}
	if dst != nil {
		d := dst.node
		switch {
		case s.isDir() && !d.isDir():
			return unix.ENOTDIR
		case !s.isDir() && d.isDir():
			return unix.EISDIR
		case d.isDir() && len(d.ents) > 0:
			return unix.ENOTEMPTY
		}
		nd.removeLocked(newName)
		if d.isDir() {
			nd.nlink--
			f.rmdirLocked(d)
		} else {
			f.unlinkLocked(d)
		}
	}
	n.removeLocked(oldName)
	if s.isDir() {
		n.nlink--
	}
	nd.addLocked(newName, s)
	s.ctime = now()
	return nil
}

// exchangeLocked swaps the files of entry src of directory n and entry
// dst of directory nd (RENAME_EXCHANGE): each name keeps its place in its
// directory's listing and takes the other's file. A directory that
// changes parent moves its ".." link with it. The caller checked that src
// is not an ancestor of nd; dst must not be one of n (EINVAL).
func (n *inode) exchangeLocked(src *dirent, nd *inode, dst *dirent) error {
	s, d := src.node, dst.node
	if d.isDir() {
		for p := n; p != nil; p = p.parent {
			if p == d {
				return unix.EINVAL
			}
		}
	}
	src.node, dst.node = d, s
	if n != nd {
		if s.isDir() {
			s.parent = nd
			n.nlink--
			nd.nlink++
		}
		if d.isDir() {
			d.parent = n
			nd.nlink--
			n.nlink++
		}
	}
	t := now()
	n.mtime, n.ctime = t, t
	nd.mtime, nd.ctime = t, t
	s.ctime, d.ctime = t, t
	return nil
}

// Link implements fs.Mutable: EPERM for a directory, ENOENT for a file
// with no link left.
func (n *inode) Link(old fs.Node, name string) error {
	o, err := n.sameFS(old)
	if err != nil {
		return err
	}
	if err := checkName(name); err != nil {
		return err
	}
	f := n.fs
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := n.dirLocked(); err != nil {
		return err
	}
	if o.isDir() {
		return unix.EPERM
	}
	if o.nlink == 0 {
		return unix.ENOENT
	}
	if _, ok := n.ents[name]; ok {
		return unix.EEXIST
	}
	if o.nlink >= maxLinks {
		return unix.EMLINK
	}
	if err := f.reserveNodeLocked(); err != nil {
		return err
	}
	o.nlink++
	o.ctime = now()
	n.addLocked(name, o)
	return nil
}

// Chmod implements fs.Mutable: the permission bits change, the type
// stays. A symlink's mode cannot change (EOPNOTSUPP).
func (n *inode) Chmod(mode uint32) error {
	n.fs.mu.Lock()
	defer n.fs.mu.Unlock()
	if n.typ() == unix.S_IFLNK {
		return unix.EOPNOTSUPP
	}
	n.mode = n.typ() | mode&0o7777
	n.ctime = now()
	return nil
}

// Chown implements fs.Chowner.
func (n *inode) Chown(uid, gid uint32) error {
	n.fs.mu.Lock()
	defer n.fs.mu.Unlock()
	if uid == ^uint32(0) && gid == ^uint32(0) {
		return nil
	}
	if uid != ^uint32(0) {
		n.uid = uid
	}
	if gid != ^uint32(0) {
		n.gid = gid
	}
	n.ctime = now()
	return nil
}

// Truncate implements fs.Mutable: EISDIR for a directory, EINVAL for
// other non-regular files and negative sizes, EFBIG past MaxFileSize.
func (n *inode) Truncate(size int64) error {
	n.fs.mu.Lock()
	defer n.fs.mu.Unlock()
	return n.truncate(size)
}

func (n *inode) truncate(size int64) error {
	switch {
	case n.isDir():
		return unix.EISDIR
	case n.typ() != unix.S_IFREG || size < 0:
		return unix.EINVAL
	case size > MaxFileSize:
		return unix.EFBIG
	}
	n.truncateLocked(size, false)
	return nil
}

// Utimens implements fs.Mutable (UTIME_NOW and UTIME_OMIT as utimensat;
// a symlink's own times are set). ctime becomes the current time unless
// both are UTIME_OMIT.
func (n *inode) Utimens(atime, mtime unix.Timespec) error {
	for _, ts := range []unix.Timespec{atime, mtime} {
		if ts.Nsec != unix.UTIME_NOW && ts.Nsec != unix.UTIME_OMIT && (ts.Nsec < 0 || ts.Nsec >= 1e9) {
			return unix.EINVAL
		}
	}
	if atime.Nsec == unix.UTIME_OMIT && mtime.Nsec == unix.UTIME_OMIT {
		return nil
	}
	n.fs.mu.Lock()
	defer n.fs.mu.Unlock()
	t := now()
	set := func(dst *unix.Timespec, ts unix.Timespec) {
		switch ts.Nsec {
		case unix.UTIME_OMIT:
		case unix.UTIME_NOW:
			*dst = t
		default:
			*dst = ts
		}
	}
	set(&n.atime, atime)
	set(&n.mtime, mtime)
	n.ctime = t
	return nil
}
