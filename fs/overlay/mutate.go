package overlay

import (
	"strings"
	"weak"

	"golang.org/x/sys/unix"

	"ringbox/fs"
)

var (
	utimeNow  = unix.Timespec{Nsec: unix.UTIME_NOW}
	utimeOmit = unix.Timespec{Nsec: unix.UTIME_OMIT}
)

// freeNameLocked checks that name can be made in directory n: not in the
// overlay's view of it.
func (n *node) freeNameLocked(name string) error {
	_, err := n.lookupLocked(name)
	switch err {
	case nil:
		return unix.EEXIST
	case unix.ENOENT:
		return nil
	}
	return err
}

// prepareDirLocked gets directory n ready for an entry called name to be
// made: name is free, n is in the upper layer. It returns n's upper
// directory.
func (f *FS) prepareDirLocked(n *node, name string) (fs.Mutable, error) {
	if err := n.freeNameLocked(name); err != nil {
		return nil, err
	}
	if err := f.copyUpLocked(n, -1); err != nil {
		return nil, err
	}
	return n.upperMutable()
}

// Create implements fs.Mutable and fs.Creator. An existing file is opened
// as Open opens it (EEXIST with O_EXCL, EISDIR for a directory).
func (n *node) Create(name string, flags int, mode uint32) (fs.Node, fs.Impl, error) {
	if err := checkName(name); err != nil {
		return nil, nil, err
	}
	if flags&unix.O_ACCMODE == unix.O_ACCMODE || flags&unix.O_DIRECTORY != 0 {
		return nil, nil, unix.EINVAL
	}
	f := n.fs
	f.mu.Lock()
	c, err := n.lookupLocked(name)
	if err == nil {
		f.mu.Unlock()
		if flags&unix.O_EXCL != 0 {
			return nil, nil, unix.EEXIST
		}
		if c.isDir() {
			return nil, nil, unix.EISDIR
		}
		impl, err := c.Open(flags)
		if err != nil {
			return nil, nil, err
		}
		return c, impl, nil
	}
	defer f.mu.Unlock()
	if err != unix.ENOENT {
		return nil, nil, err
	}
	m, err := f.prepareDirLocked(n, name)
	if err != nil {
		return nil, nil, err
	}
	u, impl, err := m.Create(name, flags|unix.O_EXCL, mode)
	if err != nil {
		return nil, nil, err
	}
	ust, err := u.Stat()
	if err != nil {
		impl.Release()
		return nil, nil, err
	}
	f.removeWhiteoutLocked(n, name)
	c = f.newNodeLocked(n, name, u, &ust, nil, nil)
	h := &file{n: c, flags: flags, impl: impl}
	h.onUpper.Store(true)
	return c, h, nil
}

// Mkdir implements fs.Mutable. A directory made over a whiteout is
// opaque: the lower directory of that name does not show through.
func (n *node) Mkdir(name string, mode uint32) error {
	if err := checkName(name); err != nil {
		return err
	}
	f := n.fs
	f.mu.Lock()
	defer f.mu.Unlock()
	m, err := f.prepareDirLocked(n, name)
	if err != nil {
		return err
	}
	if err := m.Mkdir(name, mode); err != nil {
		return err
	}
	wasWhiteout := f.removeWhiteoutLocked(n, name)
	if wasWhiteout || n.lowerHasLocked(name) {
		u, err := n.upper.Lookup(name)
		if err == nil {
			var st unix.Stat_t
			if st, err = u.Stat(); err == nil {
				f.metaLocked(st.Ino, true).opaque = true
			}
		}
		if err != nil {
			// Without its mark it would merge: take it back.
			m.Rmdir(name)
			if wasWhiteout {
				f.addWhiteoutLocked(n, name)
			}
			return err
		}
	}
	return nil
}

// Symlink implements fs.Mutable.
func (n *node) Symlink(target, name string) error {
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
	m, err := f.prepareDirLocked(n, name)
	if err != nil {
		return err
	}
	if err := m.Symlink(target, name); err != nil {
		return err
	}
	f.removeWhiteoutLocked(n, name)
	return nil
}

// MakeNode implements fs.NodeMaker: the socket or FIFO node is made in
// the upper layer (EPERM if it cannot hold one).
func (n *node) MakeNode(name string, mode uint32) error {
	if err := fs.CheckNodeType(mode); err != nil {
		return err
	}
	if err := checkName(name); err != nil {
		return err
	}
	f := n.fs
	f.mu.Lock()
	defer f.mu.Unlock()
	m, err := f.prepareDirLocked(n, name)
	if err != nil {
		return err
	}
	sm, ok := m.(fs.NodeMaker)
	if !ok {
		return unix.EPERM
	}
	if err := sm.MakeNode(name, mode); err != nil {
		return err
	}
	f.removeWhiteoutLocked(n, name)
	return nil
}

// sameFS returns other as a node of n's overlay.
func (n *node) sameFS(other fs.Node) (*node, error) {
	o, ok := other.(*node)
	if !ok || o == nil || o.fs != n.fs {
		return nil, unix.EXDEV
	}
	return o, nil
}

// Link implements fs.Mutable: old is copied up and linked in the upper
// layer (EPERM for a directory).
func (n *node) Link(old fs.Node, name string) error {
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
	if !n.isDir() {
		return unix.ENOTDIR
	}
	if err := n.freeNameLocked(name); err != nil {
		return err
	}
	if o.isDir() {
		return unix.EPERM // after EEXIST, as Linux
	}
	if err := f.copyUpLocked(o, -1); err != nil {
		return err
	}
	m, err := f.prepareDirLocked(n, name)
	if err != nil {
		return err
	}
	if err := m.Link(o.upper, name); err != nil {
		return err
	}
	f.removeWhiteoutLocked(n, name)
	return nil
}

// touchLocked marks directory n changed when only the overlay's records
// of it changed (a whiteout added).
func (n *node) touchLocked() {
	if m, err := n.upperMutable(); err == nil {
		m.Utimens(utimeOmit, utimeNow)
	}
}

// Unlink implements fs.Mutable (EISDIR for a directory).
func (n *node) Unlink(name string) error {
	return n.remove(name, false)
}

// Rmdir implements fs.Mutable: ENOTEMPTY while the merged view of the
// directory has entries.
func (n *node) Rmdir(name string) error {
	return n.remove(name, true)
}

func (n *node) remove(name string, dir bool) error {
	if err := checkName(name); err != nil {
		return err
	}
	f := n.fs
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := n.lookupLocked(name)
	if err != nil {
		return err
	}
	switch {
	case dir && !c.isDir():
		return unix.ENOTDIR
	case !dir && c.isDir():
		return unix.EISDIR
	}
	if dir {
		if err := f.emptyLocked(c); err != nil {
			return err
		}
	}
	inLower := n.lowerHasLocked(name)
	if inLower {
		// The whiteout needs an upper directory: made before anything
		// changes.
		if err := f.copyUpLocked(n, -1); err != nil {
			return err
		}
	}
	if c.upper != nil {
		m, err := n.upperMutable()
		if err != nil {
			return err
		}
		if dir {
			err = m.Rmdir(name)
		} else {
			err = m.Unlink(name)
		}
		if err != nil {
			return err
		}
		f.forgetUpperLocked(c.upper, c.upperIno)
	}
	if inLower {
		f.addWhiteoutLocked(n, name)
		if c.upper == nil {
			n.touchLocked()
		}
	}
	f.detachLocked(c)
	return nil
}

// emptyLocked checks that the merged view of directory c has no entry.
func (f *FS) emptyLocked(c *node) error {
	ents, err := f.listLocked(c, 1)
	if err != nil {
		return err
	}
	if len(ents) > 0 {
		return unix.ENOTEMPTY
	}
	return nil
}

// sameFile reports whether two names are the same file (rename does
// nothing then).
func sameFile(a, b *node) bool {
	if a == b {
		return true
	}
	if a.isDir() || b.isDir() {
		return false
	}
	if a.upper != nil || b.upper != nil {
		return a.upper != nil && b.upper != nil && a.upperIno == b.upperIno
	}
	return a.ino == b.ino
}

// renameFlags are the renameat2(2) flags Rename supports.
const renameFlags = unix.RENAME_NOREPLACE | unix.RENAME_EXCHANGE

// Rename implements fs.Mutable, as renameat2(2): an existing newName is
// replaced (a directory only by a directory, if its merged view is empty:
// ENOTDIR, EISDIR, ENOTEMPTY), or is EEXIST with RENAME_NOREPLACE (a
// whited-out name does not exist); a directory cannot move below itself
// (EINVAL); nothing happens when both names are the same file. A file is
// copied up and renamed in the upper layer; a directory that exists in
// the lower layer is EXDEV (as overlayfs without redirect_dir), as is a
// lower device, FIFO or socket. The checks and the rename are made under
// the overlay's lock, as one step.
//
// With RENAME_EXCHANGE the two names swap their files, whatever their
// types (ENOENT if newName does not exist): both are copied up (the same
// EXDEV cases) and exchanged in the upper layer, where both names then
// are, so no whiteout changes; a directory that lands on a name the lower
// layer has becomes opaque.
func (n *node) Rename(oldName string, newDir fs.Node, newName string, flags uint) error {
	if flags&^renameFlags != 0 || flags == renameFlags {
		return unix.EINVAL
	}
	exchange := flags&unix.RENAME_EXCHANGE != 0
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
	src, err := n.lookupLocked(oldName)
	if err != nil {
		return err
	}
	if nd.removed {
		return unix.ENOENT
	}
	dst, err := nd.lookupLocked(newName)
	switch {
	case err == unix.ENOENT:
		dst = nil
	case err != nil:
		return err
	}
	switch {
	case flags&unix.RENAME_NOREPLACE != 0 && dst != nil:
		return unix.EEXIST // even for the same file, as Linux
	case exchange && dst == nil:
		return unix.ENOENT
	case dst != nil && sameFile(src, dst):
		return nil
	}
	// As Linux: the source an ancestor of the target is EINVAL, the
	// target an ancestor of the source ENOTEMPTY (EINVAL for an
	// exchange), before the types.
	for p := nd; p != nil; p = p.loc.parent {
		if p == src {
			return unix.EINVAL
		}
	}
	if dst != nil && dst.isDir() {
		for p := n; p != nil; p = p.loc.parent {
			if p == dst {
				if exchange {
					return unix.EINVAL
				}
				return unix.ENOTEMPTY
			}
		}
	}
	if dst != nil && !exchange {
		switch {
		case src.isDir() && !dst.isDir():
			return unix.ENOTDIR
		case !src.isDir() && dst.isDir():
			return unix.EISDIR
		case dst.isDir():
			if err := f.emptyLocked(dst); err != nil {
				return err
			}
		}
	}
	if src.isDir() && src.lower != nil || exchange && dst.isDir() && dst.lower != nil {
		return unix.EXDEV
	}
	moving := []*node{src}
	if exchange {
		moving = append(moving, dst)
	}
	for _, c := range moving {
		if err := f.copyUpLocked(c, -1); err != nil {
			if err == unix.EOPNOTSUPP {
				err = unix.EXDEV
			}
			return err
		}
	}
	if err := f.copyUpLocked(n, -1); err != nil {
		return err
	}
	if err := f.copyUpLocked(nd, -1); err != nil {
		return err
	}
	m, err := n.upperMutable()
	if err != nil {
		return err
	}
	oldInLower := n.lowerHasLocked(oldName)
	newInLower := nd.lowerHasLocked(newName)
	if err := m.Rename(oldName, nd.upper, newName, flags); err != nil {
		return err
	}
	if exchange {
		if src.isDir() && newInLower {
			f.metaLocked(src.upperIno, true).opaque = true
		}
		if dst.isDir() && oldInLower {
			f.metaLocked(dst.upperIno, true).opaque = true
		}
		src.moveLocked(nd, newName)
		dst.moveLocked(n, oldName)
		return nil
	}
	if dst != nil && dst.upper != nil {
		f.forgetUpperLocked(dst.upper, dst.upperIno)
	}
	f.removeWhiteoutLocked(nd, newName)
	if oldInLower {
		f.addWhiteoutLocked(n, oldName)
	}
	if src.isDir() && newInLower {
		f.metaLocked(src.upperIno, true).opaque = true
	}
	if dst != nil {
		f.detachLocked(dst)
	}
	if n.children[oldName] == src.loc.wp {
		delete(n.children, oldName)
	}
	src.moveLocked(nd, newName)
	return nil
}

// moveLocked records c as the child name of directory p (renamed there).
// Its old name's entry is the caller's: taken over or dropped.
func (c *node) moveLocked(p *node, name string) {
	c.loc.parent, c.loc.name = p, name
	if p.children == nil {
		p.children = map[string]weak.Pointer[node]{}
	}
	p.children[name] = c.loc.wp
}

// Chmod implements fs.Mutable: the file is copied up. A symlink's mode
// cannot change (EOPNOTSUPP).
func (n *node) Chmod(mode uint32) error {
	if n.typ == unix.S_IFLNK {
		return unix.EOPNOTSUPP
	}
	f := n.fs
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.copyUpLocked(n, -1); err != nil {
		return err
	}
	m, err := n.upperMutable()
	if err != nil {
		return err
	}
	return m.Chmod(mode)
}

// Chown implements fs.Chowner: the file is copied up (a lower file
// keeps its lower owner until then) and takes the new owner.
func (n *node) Chown(uid, gid uint32) error {
	f := n.fs
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.copyUpLocked(n, -1); err != nil {
		return err
	}
	c, ok := n.upper.(fs.Chowner)
	if !ok {
		return unix.EPERM
	}
	if err := c.Chown(uid, gid); err != nil {
		return err
	}
	if n.hasOwner {
		if uid != ^uint32(0) {
			n.uid = uid
		}
		if gid != ^uint32(0) {
			n.gid = gid
		}
		f.origins[n.upperIno] = origin{ino: n.ino, uid: n.uid, gid: n.gid}
	}
	return nil
}

// Truncate implements fs.Mutable: the file is copied up (with no more
// data than it keeps). EISDIR for a directory, EINVAL for other
// non-regular files and negative sizes.
func (n *node) Truncate(size int64) error {
	switch {
	case n.isDir():
		return unix.EISDIR
	case n.typ != unix.S_IFREG || size < 0:
		return unix.EINVAL
	}
	f := n.fs
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.copyUpLocked(n, size); err != nil {
		return err
	}
	m, err := n.upperMutable()
	if err != nil {
		return err
	}
	return m.Truncate(size)
}

// Utimens implements fs.Mutable (UTIME_NOW and UTIME_OMIT as utimensat;
// a symlink's own times are set): the file is copied up, unless both
// times are UTIME_OMIT.
func (n *node) Utimens(atime, mtime unix.Timespec) error {
	for _, ts := range []unix.Timespec{atime, mtime} {
		if ts.Nsec != unix.UTIME_NOW && ts.Nsec != unix.UTIME_OMIT && (ts.Nsec < 0 || ts.Nsec >= 1e9) {
			return unix.EINVAL
		}
	}
	if atime.Nsec == unix.UTIME_OMIT && mtime.Nsec == unix.UTIME_OMIT {
		return nil
	}
	f := n.fs
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.copyUpLocked(n, -1); err != nil {
		return err
	}
	m, err := n.upperMutable()
	if err != nil {
		return err
	}
	return m.Utimens(atime, mtime)
}
