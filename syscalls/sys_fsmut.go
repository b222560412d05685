package syscalls

import (
	"encoding/binary"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"ringbox/fs"
	"ringbox/guestkernel/kernel"
)

func init() {
	register(unix.SYS_MKDIR, func(t *kernel.Task, a Args) (uintptr, error) {
		return 0, mkdirAt(t, unix.AT_FDCWD, a[0], uint32(a[1]))
	})
	register(unix.SYS_MKDIRAT, func(t *kernel.Task, a Args) (uintptr, error) {
		return 0, mkdirAt(t, int(int32(a[0])), a[1], uint32(a[2]))
	})
	register(unix.SYS_RMDIR, func(t *kernel.Task, a Args) (uintptr, error) {
		return 0, unlinkAt(t, unix.AT_FDCWD, a[0], unix.AT_REMOVEDIR)
	})
	register(unix.SYS_UNLINK, func(t *kernel.Task, a Args) (uintptr, error) {
		return 0, unlinkAt(t, unix.AT_FDCWD, a[0], 0)
	})
	register(unix.SYS_UNLINKAT, func(t *kernel.Task, a Args) (uintptr, error) {
		return 0, unlinkAt(t, int(int32(a[0])), a[1], int(a[2]))
	})
	register(unix.SYS_RENAME, func(t *kernel.Task, a Args) (uintptr, error) {
		return 0, renameAt(t, unix.AT_FDCWD, a[0], unix.AT_FDCWD, a[1], 0)
	})
	register(unix.SYS_RENAMEAT, func(t *kernel.Task, a Args) (uintptr, error) {
		return 0, renameAt(t, int(int32(a[0])), a[1], int(int32(a[2])), a[3], 0)
	})
	register(unix.SYS_RENAMEAT2, func(t *kernel.Task, a Args) (uintptr, error) {
		return 0, renameAt(t, int(int32(a[0])), a[1], int(int32(a[2])), a[3], int(a[4]))
	})
	register(unix.SYS_SYMLINK, func(t *kernel.Task, a Args) (uintptr, error) {
		return 0, symlinkAt(t, a[0], unix.AT_FDCWD, a[1])
	})
	register(unix.SYS_SYMLINKAT, func(t *kernel.Task, a Args) (uintptr, error) {
		return 0, symlinkAt(t, a[0], int(int32(a[1])), a[2])
	})
	register(unix.SYS_LINK, func(t *kernel.Task, a Args) (uintptr, error) {
		return 0, linkAt(t, unix.AT_FDCWD, a[0], unix.AT_FDCWD, a[1], 0)
	})
	register(unix.SYS_LINKAT, func(t *kernel.Task, a Args) (uintptr, error) {
		return 0, linkAt(t, int(int32(a[0])), a[1], int(int32(a[2])), a[3], int(a[4]))
	})
	register(unix.SYS_CHMOD, func(t *kernel.Task, a Args) (uintptr, error) {
		return 0, chmodAt(t, unix.AT_FDCWD, a[0], uint32(a[1]), 0)
	})
	register(unix.SYS_FCHMODAT, func(t *kernel.Task, a Args) (uintptr, error) {
		return 0, chmodAt(t, int(int32(a[0])), a[1], uint32(a[2]), 0)
	})
	register(unix.SYS_FCHMODAT2, func(t *kernel.Task, a Args) (uintptr, error) {
		flags := int(int32(a[3]))
		if flags&^(unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH) != 0 {
			return 0, unix.EINVAL
		}
		return 0, chmodAt(t, int(int32(a[0])), a[1], uint32(a[2]), flags)
	})
	register(unix.SYS_FCHMOD, afterOK(0, unix.IN_ATTRIB, sysFchmod))
	register(unix.SYS_TRUNCATE, sysTruncate)
	register(unix.SYS_FTRUNCATE, afterOK(0, unix.IN_MODIFY, sysFtruncate))
	register(unix.SYS_UTIMENSAT, sysUtimensat)
	register(unix.SYS_UTIME, sysUtime)
	register(unix.SYS_UTIMES, func(t *kernel.Task, a Args) (uintptr, error) {
		return futimesAt(t, unix.AT_FDCWD, a[0], a[1])
	})
	register(unix.SYS_FUTIMESAT, func(t *kernel.Task, a Args) (uintptr, error) {
		return futimesAt(t, int(int32(a[0])), a[1], a[2])
	})
	register(unix.SYS_FSYNC, sysFsync)
	register(unix.SYS_FDATASYNC, sysFsync)
	register(unix.SYS_SYNC, sysSync)
	register(unix.SYS_SYNCFS, sysSyncfs)
	register(unix.SYS_SYNC_FILE_RANGE, sysSyncFileRange)
	register(unix.SYS_READAHEAD, sysReadahead)
	register(unix.SYS_FLOCK, sysFlock)
	register(unix.SYS_CHOWN, func(t *kernel.Task, a Args) (uintptr, error) {
		return chownAt(t, unix.AT_FDCWD, a[0], uint32(a[1]), uint32(a[2]), 0)
	})
	register(unix.SYS_LCHOWN, func(t *kernel.Task, a Args) (uintptr, error) {
		return chownAt(t, unix.AT_FDCWD, a[0], uint32(a[1]), uint32(a[2]), unix.AT_SYMLINK_NOFOLLOW)
	})
	register(unix.SYS_FCHOWN, sysFchown)
	register(unix.SYS_FCHOWNAT, func(t *kernel.Task, a Args) (uintptr, error) {
		return chownAt(t, int(int32(a[0])), a[1], uint32(a[2]), uint32(a[3]), int(a[4]))
	})
	register(unix.SYS_CREAT, func(t *kernel.Task, a Args) (uintptr, error) {
		return openAt(t, unix.AT_FDCWD, a[0], unix.O_CREAT|unix.O_WRONLY|unix.O_TRUNC, uint32(a[1]), 0)
	})
	register(unix.SYS_CLOSE_RANGE, sysCloseRange)
	register(unix.SYS_MKNOD, func(t *kernel.Task, a Args) (uintptr, error) {
		return 0, mknodAt(t, unix.AT_FDCWD, a[0], uint32(a[1]))
	})
	register(unix.SYS_MKNODAT, func(t *kernel.Task, a Args) (uintptr, error) {
		return 0, mknodAt(t, int(int32(a[0])), a[1], uint32(a[2]))
	})
}

// parentAt resolves the directory holding the last component of path.
func parentAt(t *kernel.Task, dirfd int, pathAddr uintptr) (*fs.Dentry, string, error) {
	path, err := copyPath(t, pathAddr)
	if err != nil {
		return nil, "", err
	}
	return parentPath(t, dirfd, path)
}

// parentPath is parentAt for a path already copied in.
func parentPath(t *kernel.Task, dirfd int, path string) (*fs.Dentry, string, error) {
	var err error
	if t.K.VFS == nil {
		return nil, "", noFS
	}
	start := t.TG.Cwd()
	if path != "" && path[0] != '/' {
		if start, err = startDir(t, dirfd); err != nil {
			return nil, "", err
		}
	}
	return t.K.VFS.For(searcher(t)).ResolveParent(start, t.TG.FSRoot(), path)
}

// mutableDir checks that dir can be changed and returns its Mutable.
func mutableDir(t *kernel.Task, dir *fs.Dentry) (fs.Mutable, error) {
	if dir.Mount().ReadOnly {
		return nil, unix.EROFS
	}
	st, err := dir.Node().Stat()
	if err != nil {
		return nil, err
	}
	if err := permitted(t, &st, 3); err != nil {
		return nil, err
	}
	m, ok := dir.Node().(fs.Mutable)
	if !ok {
		return nil, unix.EROFS
	}
	return m, nil
}

// stickyAllows is the rule of a directory with the sticky bit (/tmp):
// only the owner of d, of the directory, or CAP_FOWNER may remove or
// rename d (EPERM).
func stickyAllows(t *kernel.Task, dir, d *fs.Dentry) error {
	dst, err := dir.Node().Stat()
	if err != nil || dst.Mode&unix.S_ISVTX == 0 {
		return nil
	}
	c := t.TG.Creds()
	if c.EUID == dst.Uid || c.HasCap(kernel.CapFowner) {
		return nil
	}
	if st, err := d.Node().Stat(); err == nil && st.Uid == c.EUID {
		return nil
	}
	return unix.EPERM
}

func umasked(t *kernel.Task, mode uint32) uint32 {
	return mode & 0o7777 &^ t.TG.CurrentUmask()
}

// newEntryAt finds the directory that is to hold the new name pathAddr
// names (mkdir, mknod): EEXIST when the name is there or is "." or "..",
// ENOENT for "name/" unless a directory is made, then mutableDir's checks.
func newEntryAt(t *kernel.Task, dirfd int, pathAddr uintptr, isDir bool) (*fs.Dentry, string, fs.Mutable, error) {
	path, err := copyPath(t, pathAddr)
	if err != nil {
		return nil, "", nil, err
	}
	dir, name, err := parentPath(t, dirfd, path)
	if err != nil {
		return nil, "", nil, err
	}
	if name == "." || name == ".." {
		return nil, "", nil, unix.EEXIST
	}
	if _, err := t.K.VFS.For(searcher(t)).Resolve(dir, t.TG.FSRoot(), name, false); err == nil {
		return nil, "", nil, unix.EEXIST
	}
	if !isDir && strings.HasSuffix(path, "/") {
		return nil, "", nil, unix.ENOENT // "name/" names a directory
	}
	m, err := mutableDir(t, dir)
	if err != nil {
		return nil, "", nil, err
	}
	return dir, name, m, nil
}

func mkdirAt(t *kernel.Task, dirfd int, pathAddr uintptr, mode uint32) error {
	dir, name, m, err := newEntryAt(t, dirfd, pathAddr, true)
	if err != nil {
		return err
	}
	if err := m.Mkdir(name, umasked(t, mode)); err != nil {
		return err
	}
	dir.Invalidate(name)
	ownCreated(t, dir, name)
	notifyCreated(t, dir, name, true)
	return nil
}

// mknodAt is mknod(2) and mknodat(2): a regular file, a FIFO or a socket
// node. As on Linux, a directory is EPERM and an unknown type EINVAL
// before the path is looked at; a device node is EPERM after it (the
// sandbox holds no CAP_MKNOD, so no node can ever name a host device).
// The device number is ignored, as Linux ignores it for these types.
func mknodAt(t *kernel.Task, dirfd int, pathAddr uintptr, mode uint32) error {
	typ := mode & unix.S_IFMT
	switch typ {
	case 0, unix.S_IFREG, unix.S_IFIFO, unix.S_IFSOCK, unix.S_IFCHR, unix.S_IFBLK:
	case unix.S_IFDIR:
		return unix.EPERM
	default:
		return unix.EINVAL
	}
	dir, name, _, err := newEntryAt(t, dirfd, pathAddr, false)
	if err != nil {
		return err
	}
	perm := umasked(t, mode)
	switch typ {
	case unix.S_IFCHR, unix.S_IFBLK:
		return unix.EPERM
	case 0, unix.S_IFREG:
		c, ok := dir.Node().(fs.Creator)
		if !ok {
			return unix.EPERM
		}
		_, impl, err := c.Create(name, unix.O_RDONLY, perm)
		if err != nil {
			return err
		}
		impl.Release()
	default:
		nm, ok := dir.Node().(fs.NodeMaker)
		if !ok {
			return unix.EPERM
		}
		if err := nm.MakeNode(name, typ|perm); err != nil {
			return err
		}
	}
	dir.Invalidate(name)
	ownCreated(t, dir, name)
	notifyCreated(t, dir, name, false)
	return nil
}

func unlinkAt(t *kernel.Task, dirfd int, pathAddr uintptr, flags int) error {
	if flags&^unix.AT_REMOVEDIR != 0 {
		return unix.EINVAL
	}
	dir, name, err := parentAt(t, dirfd, pathAddr)
	if err != nil {
		return err
	}
	if name == "." {
		return unix.EINVAL
	}
	if name == ".." {
		return unix.ENOTEMPTY
	}
	d, err := t.K.VFS.For(searcher(t)).Resolve(dir, t.TG.FSRoot(), name, false)
	if err != nil {
		return err
	}
	if d.Mount() != dir.Mount() {
		return unix.EBUSY // a mount point
	}
	isDir := d.IsDir()
	if flags&unix.AT_REMOVEDIR != 0 && !isDir {
		return unix.ENOTDIR
	}
	if flags&unix.AT_REMOVEDIR == 0 && isDir {
		return unix.EISDIR
	}
	m, err := mutableDir(t, dir)
	if err != nil {
		return err
	}
	if err := stickyAllows(t, dir, d); err != nil {
		return err
	}
	gone := aboutToGo(t, d.Node())
	if isDir {
		err = m.Rmdir(name)
	} else {
		err = m.Unlink(name)
	}
	if err != nil {
		return err
	}
	dir.Invalidate(name)
	gone.linkDropped(t, true)
	notifyEntry(t, dir, name, unix.IN_DELETE, 0, isDir)
	return nil
}

func renameAt(t *kernel.Task, olddirfd int, oldAddr uintptr, newdirfd int, newAddr uintptr, flags int) error {
	// RENAME_NOREPLACE and RENAME_EXCHANGE go to the filesystem, which
	// checks them and renames in one step (EINVAL where it cannot).
	// RENAME_WHITEOUT (Linux's overlayfs leaves a whiteout device at the
	// old name with it) is not supported: EINVAL, as Linux says for a
	// filesystem without it. NOREPLACE with EXCHANGE is EINVAL, as Linux.
	const known = unix.RENAME_NOREPLACE | unix.RENAME_EXCHANGE
	if flags&^known != 0 || flags == known {
		return unix.EINVAL
	}
	odir, oname, err := parentAt(t, olddirfd, oldAddr)
	if err != nil {
		return err
	}
	ndir, nname, err := parentAt(t, newdirfd, newAddr)
	if err != nil {
		return err
	}
	if oname == "." || oname == ".." || nname == "." || nname == ".." {
		return unix.EBUSY
	}
	view := t.K.VFS.For(searcher(t))
	od, err := view.Resolve(odir, t.TG.FSRoot(), oname, false)
	if err != nil {
		return err
	}
	if od.Mount() != odir.Mount() {
		return unix.EBUSY // a mount point
	}
	nd, err := view.Resolve(ndir, t.TG.FSRoot(), nname, false)
	if err == nil && nd.Mount() != ndir.Mount() {
		return unix.EBUSY
	}
	if odir.Mount() != ndir.Mount() {
		return unix.EXDEV
	}
	m, err := mutableDir(t, odir)
	if err != nil {
		return err
	}
	if _, err := mutableDir(t, ndir); err != nil {
		return err
	}
	if err := stickyAllows(t, odir, od); err != nil {
		return err
	}
	if nd != nil {
		if err := stickyAllows(t, ndir, nd); err != nil {
			return err
		}
	}
	moved := aboutToGo(t, od.Node())
	var replaced victim
	if nd != nil {
		replaced = aboutToGo(t, nd.Node())
	}
	// Two names of one file (hard links, or a name onto itself): Linux
	// changes nothing and raises no event, with RENAME_EXCHANGE too.
	same := moved.ok && replaced.ok && replaced.key == moved.key
	exchange := flags&unix.RENAME_EXCHANGE != 0
	var other victim
	if exchange {
		// The other file is not removed: it moves to oname.
		other, replaced = replaced, victim{}
	}
	if err := m.Rename(oname, ndir.Node(), nname, uint(flags)); err != nil {
		return err
	}
	odir.Invalidate(oname)
	ndir.Invalidate(nname)
	if same {
		return nil
	}
	notifyRenamed(t, odir, oname, ndir, nname, moved, replaced)
	if exchange {
		notifyRenamed(t, ndir, nname, odir, oname, other, victim{})
	}
	return nil
}

func symlinkAt(t *kernel.Task, targetAddr uintptr, dirfd int, pathAddr uintptr) error {
	target, err := copyPath(t, targetAddr)
	if err != nil {
		return err
	}
	if target == "" {
		return unix.ENOENT
	}
	dir, name, err := parentAt(t, dirfd, pathAddr)
	if err != nil {
		return err
	}
	if _, err := t.K.VFS.For(searcher(t)).Resolve(dir, t.TG.FSRoot(), name, false); err == nil {
		return unix.EEXIST
	}
	m, err := mutableDir(t, dir)
	if err != nil {
		return err
	}
	if err := m.Symlink(target, name); err != nil {
		return err
	}
	dir.Invalidate(name)
	ownCreated(t, dir, name)
	notifyCreated(t, dir, name, false)
	return nil
}

func linkAt(t *kernel.Task, olddirfd int, oldAddr uintptr, newdirfd int, newAddr uintptr, flags int) error {
	if flags&^(unix.AT_SYMLINK_FOLLOW|unix.AT_EMPTY_PATH) != 0 {
		return unix.EINVAL
	}
	oldPath, err := copyPath(t, oldAddr)
	if err != nil {
		return err
	}
	rf := unix.AT_SYMLINK_NOFOLLOW
	if flags&unix.AT_SYMLINK_FOLLOW != 0 {
		rf = 0
	}
	old, _, err := resolveAt(t, olddirfd, oldPath, rf|flags&unix.AT_EMPTY_PATH)
	if err != nil {
		return err
	}
	if old == nil {
		// A pipe or socket (a /proc/PID/fd link, AT_EMPTY_PATH): Linux
		// finds it on its own mount.
		return unix.EXDEV
	}
	if old.IsDir() {
		return unix.EPERM
	}
	dir, name, err := parentAt(t, newdirfd, newAddr)
	if err != nil {
		return err
	}
	if old.Mount() != dir.Mount() {
		return unix.EXDEV
	}
	if _, err := t.K.VFS.For(searcher(t)).Resolve(dir, t.TG.FSRoot(), name, false); err == nil {
		return unix.EEXIST
	}
	m, err := mutableDir(t, dir)
	if err != nil {
		return err
	}
	if err := m.Link(old.Node(), name); err != nil {
		return err
	}
	dir.Invalidate(name)
	t.K.Notify.SelfEvent(old.Node(), unix.IN_ATTRIB)
	notifyCreated(t, dir, name, false)
	return nil
}

// mutableNode returns the mode and times of a node the caller may change.
func mutableNode(t *kernel.Task, d *fs.Dentry) (fs.AttrChanger, error) {
	if d.Mount().ReadOnly {
		return nil, unix.EROFS
	}
	st, err := d.Node().Stat()
	if err != nil {
		return nil, err
	}
	if c := t.TG.Creds(); c.EUID != 0 && c.EUID != st.Uid {
		return nil, unix.EPERM
	}
	m, ok := d.Node().(fs.AttrChanger)
	if !ok {
		return nil, unix.EROFS
	}
	return m, nil
}

// chmodAt is fchmodat and fchmodat2 (flags: AT_SYMLINK_NOFOLLOW, where a
// symlink is EOPNOTSUPP, and AT_EMPTY_PATH).
func chmodAt(t *kernel.Task, dirfd int, pathAddr uintptr, mode uint32, flags int) error {
	path, err := copyPath(t, pathAddr)
	if err != nil {
		return err
	}
	d, _, err := resolveAt(t, dirfd, path, flags)
	if err != nil {
		return err
	}
	if d == nil {
		return unix.EBADF
	}
	// A symlink itself (fchmodat2's AT_SYMLINK_NOFOLLOW, or an O_PATH
	// descriptor of one with AT_EMPTY_PATH): no filesystem here keeps a
	// link's mode, as none of Linux's (EOPNOTSUPP, after EROFS).
	if d.Mount().ReadOnly {
		return unix.EROFS
	}
	st, err := d.Node().Stat()
	if err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFLNK {
		return unix.EOPNOTSUPP
	}
	m, err := mutableNode(t, d)
	if err != nil {
		return err
	}
	if err := m.Chmod(mode & 0o7777); err != nil {
		return err
	}
	notifyFile(t, d, unix.IN_ATTRIB)
	return nil
}

func sysFchmod(t *kernel.Task, a Args) (uintptr, error) {
	f, err := t.File(int(int32(a[0])))
	if err != nil {
		return 0, err
	}
	if f.Dentry == nil {
		return 0, unix.EPERM
	}
	m, err := mutableNode(t, f.Dentry)
	if err != nil {
		return 0, err
	}
	return 0, m.Chmod(uint32(a[1]) & 0o7777)
}

func sysTruncate(t *kernel.Task, a Args) (uintptr, error) {
	if int64(a[1]) < 0 {
		return 0, unix.EINVAL
	}
	d, err := pathDentry(t, a[0])
	if err != nil {
		return 0, err
	}
	if d == nil {
		return 0, unix.EINVAL // a pipe or socket named by a /proc/PID/fd link, as Linux
	}
	if d.IsDir() {
		return 0, unix.EISDIR
	}
	st, err := d.Node().Stat()
	if err != nil {
		return 0, err
	}
	if err := permitted(t, &st, 2); err != nil {
		return 0, err
	}
	if d.Mount().ReadOnly {
		return 0, unix.EROFS
	}
	m, ok := d.Node().(fs.Mutable)
	if !ok {
		return 0, unix.EROFS
	}
	if st.Mode&unix.S_IFMT == unix.S_IFREG {
		if err := fsizeGrow(t, st.Size, int64(a[1])); err != nil {
			return 0, err
		}
	}
	if err := m.Truncate(int64(a[1])); err != nil {
		return 0, err
	}
	notifyFile(t, d, unix.IN_MODIFY)
	return 0, nil
}

func sysFtruncate(t *kernel.Task, a Args) (uintptr, error) {
	f, err := t.File(int(int32(a[0])))
	if err != nil {
		return 0, err
	}
	if int64(a[1]) < 0 {
		return 0, unix.EINVAL
	}
	if !f.Writable() {
		return 0, unix.EINVAL
	}
	ops, ok := f.Impl.(fs.FileOps)
	if !ok {
		return 0, unix.EINVAL
	}
	if _, limited := fsizeLimit(t); limited {
		if st, err := f.Stat(); err == nil && st.Mode&unix.S_IFMT == unix.S_IFREG {
			if err := fsizeGrow(t, st.Size, int64(a[1])); err != nil {
				return 0, err
			}
		}
	}
	return 0, ops.Truncate(int64(a[1]))
}

func sysUtimensat(t *kernel.Task, a Args) (uintptr, error) {
	dirfd, pathAddr, timesAddr, flags := int(int32(a[0])), a[1], a[2], int(a[3])
	times, err := copyInTimes(t, timesAddr, false)
	if err != nil {
		return 0, err
	}
	if timesAddr != 0 && times[0].Nsec == unix.UTIME_OMIT && times[1].Nsec == unix.UTIME_OMIT {
		return 0, nil // nothing to do: Linux checks neither flags nor path
	}
	return utimensAt(t, dirfd, pathAddr, times, flags)
}

// utimensAt sets the times of the file dirfd and pathAddr name (dirfd
// itself without a path), as utimensat(2).
func utimensAt(t *kernel.Task, dirfd int, pathAddr uintptr, times [2]unix.Timespec, flags int) (uintptr, error) {
	if flags&^(unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH) != 0 {
		return 0, unix.EINVAL
	}
	var d *fs.Dentry
	if pathAddr == 0 && dirfd == unix.AT_FDCWD {
		return 0, unix.EFAULT // no path and no descriptor, as Linux
	}
	if pathAddr == 0 {
		// futimens: utimensat(fd, NULL, ...).
		f, err := t.File(dirfd)
		if err != nil {
			return 0, err
		}
		d = f.Dentry
	} else {
		path, err := copyPath(t, pathAddr)
		if err != nil {
			return 0, err
		}
		if d, _, err = resolveAt(t, dirfd, path, flags); err != nil {
			return 0, err
		}
	}
	// As Linux, bad nanoseconds are checked once the file is found.
	for _, ts := range times {
		if n := ts.Nsec; n != unix.UTIME_NOW && n != unix.UTIME_OMIT && (n < 0 || n >= 1e9) {
			return 0, unix.EINVAL
		}
	}
	if d == nil {
		return 0, unix.EPERM
	}
	m, err := mutableNode(t, d)
	if err != nil {
		return 0, err
	}
	if err := m.Utimens(times[0], times[1]); err != nil {
		return 0, err
	}
	// Linux: IN_ATTRIB when both times change, IN_ACCESS for the access
	// time alone, IN_MODIFY for the modification time alone.
	mask := uint32(unix.IN_ATTRIB)
	switch {
	case times[1].Nsec == unix.UTIME_OMIT:
		mask = unix.IN_ACCESS
	case times[0].Nsec == unix.UTIME_OMIT:
		mask = unix.IN_MODIFY
	}
	notifyFile(t, d, mask)
	return 0, nil
}

// sysUtime is utime(path, struct utimbuf *): access and modification
// times in whole seconds, or now for NULL.
func sysUtime(t *kernel.Task, a Args) (uintptr, error) {
	now := unix.Timespec{Nsec: unix.UTIME_NOW}
	times := [2]unix.Timespec{now, now}
	if a[1] != 0 {
		var b [16]byte
		if _, err := t.MM.CopyIn(a[1], b[:]); err != nil {
			return 0, err
		}
		for i := range times {
			times[i] = unix.Timespec{Sec: int64(binary.LittleEndian.Uint64(b[8*i:]))}
		}
	}
	return utimensAt(t, unix.AT_FDCWD, a[0], times, 0)
}

// copyInTimes reads the access and modification times at addr: two
// struct timespec, or with micro two struct timeval (EINVAL for
// microseconds outside 0..999,999). NULL is now for both.
func copyInTimes(t *kernel.Task, addr uintptr, micro bool) ([2]unix.Timespec, error) {
	now := unix.Timespec{Nsec: unix.UTIME_NOW}
	times := [2]unix.Timespec{now, now}
	if addr == 0 {
		return times, nil
	}
	var b [32]byte
	if _, err := t.MM.CopyIn(addr, b[:]); err != nil {
		return times, err
	}
	for i := range times {
		sec, sub := int64(binary.LittleEndian.Uint64(b[16*i:])), int64(binary.LittleEndian.Uint64(b[16*i+8:]))
		if micro {
			if sub < 0 || sub >= 1e6 {
				return times, unix.EINVAL
			}
			sub *= 1000
		}
		times[i] = unix.Timespec{Sec: sec, Nsec: sub}
	}
	return times, nil
}

// futimesAt is utimes(2) and futimesat(2): struct timeval times, or now
// for NULL.
func futimesAt(t *kernel.Task, dirfd int, pathAddr, timesAddr uintptr) (uintptr, error) {
	times, err := copyInTimes(t, timesAddr, true)
	if err != nil {
		return 0, err
	}
	return utimensAt(t, dirfd, pathAddr, times, 0)
}

func sysFsync(t *kernel.Task, a Args) (uintptr, error) {
	f, err := t.File(int(int32(a[0])))
	if err != nil {
		return 0, err
	}
	if ops, ok := f.Impl.(fs.FileOps); ok {
		return 0, ops.Sync(false)
	}
	return 0, nil
}

// sysSync is sync(2): the sandbox's own files live in memory; host files
// got every write as it was made (the host's page cache has them, and
// fsync of one pushes it further).
func sysSync(t *kernel.Task, a Args) (uintptr, error) { return 0, nil }

// sysSyncfs is syncfs(2): sync for the filesystem of fd.
func sysSyncfs(t *kernel.Task, a Args) (uintptr, error) {
	_, err := t.File(int(int32(a[0])))
	return 0, err
}

// sysSyncFileRange is sync_file_range(fd, offset, nbytes, flags): with
// SYNC_FILE_RANGE_WRITE the file's data is synced as fdatasync would
// (more than the range: the only cost is time).
func sysSyncFileRange(t *kernel.Task, a Args) (uintptr, error) {
	off, n, flags := int64(a[1]), int64(a[2]), a[3]
	f, err := t.File(int(int32(a[0])))
	if err != nil {
		return 0, err
	}
	const known = 1 | 2 | 4 // WAIT_BEFORE, WRITE, WAIT_AFTER
	if flags&^known != 0 || off < 0 || n < 0 || off+n < off {
		return 0, unix.EINVAL
	}
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG, unix.S_IFDIR, unix.S_IFLNK:
	default:
		return 0, unix.ESPIPE // a pipe or socket, as Linux
	}
	if ops, ok := f.Impl.(fs.FileOps); ok && flags&2 != 0 {
		return 0, ops.Sync(true)
	}
	return 0, nil
}

// sysReadahead is readahead(fd, offset, count): a hint (the page cache
// fills on reads); EINVAL for what is not a regular file.
func sysReadahead(t *kernel.Task, a Args) (uintptr, error) {
	f, err := t.File(int(int32(a[0])))
	if err != nil {
		return 0, err
	}
	if !f.Readable() {
		return 0, unix.EBADF
	}
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return 0, unix.EINVAL
	}
	return 0, nil
}

// chownNone is the uid or gid of chown(2) that leaves it as it is (-1).
const chownNone = 0xffffffff

// chownAt is chown, lchown (AT_SYMLINK_NOFOLLOW) and fchownat: once
// the file is found (ENOENT for a missing one, as Linux), chownNode.
func chownAt(t *kernel.Task, dirfd int, pathAddr uintptr, uid, gid uint32, flags int) (uintptr, error) {
	if flags&^(unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH) != 0 {
		return 0, unix.EINVAL
	}
	path, err := copyPath(t, pathAddr)
	if err != nil {
		return 0, err
	}
	// d is nil for a file with no dentry (a pipe named by a
	// /proc/PID/fd link, AT_EMPTY_PATH on a socket).
	d, _, err := resolveAt(t, dirfd, path, flags)
	if err != nil {
		return 0, err
	}
	return 0, chownNode(t, d, uid, gid)
}

func sysFchown(t *kernel.Task, a Args) (uintptr, error) {
	f, err := t.File(int(int32(a[0])))
	if err != nil {
		return 0, err
	}
	return 0, chownNode(t, f.Dentry, uint32(a[1]), uint32(a[2]))
}

// chownNode changes d's owner as Linux's chown: a new user needs
// CAP_CHOWN; a new group too, unless the caller owns the file and is in
// that group. A file that is not a directory loses its set-user-ID bit,
// and its set-group-ID bit when group-executable. The filesystems keep
// the owner (fs.Chowner; a host tree in its own view, the host file
// untouched); a chown of what has none (a pipe, a socket, a file of
// /proc) is a success that changes nothing (root's) or EPERM. Success
// raises IN_ATTRIB unless uid and gid are both -1.
func chownNode(t *kernel.Task, d *fs.Dentry, uid, gid uint32) error {
	c := t.TG.Creds()
	if d == nil {
		if !c.HasCap(kernel.CapChown) {
			return unix.EPERM
		}
		return nil
	}
	if d.Mount().ReadOnly {
		return unix.EROFS
	}
	st, err := d.Node().Stat()
	if err != nil {
		return err
	}
	co, own := d.Node().(fs.Chowner)
	if !own {
		if !c.HasCap(kernel.CapChown) {
			return unix.EPERM
		}
		if uid != chownNone || gid != chownNone {
			notifyFile(t, d, unix.IN_ATTRIB)
		}
		return nil
	}
	if !c.HasCap(kernel.CapChown) {
		newUID := uid != chownNone && uid != st.Uid
		newGID := gid != chownNone && gid != st.Gid
		if newUID || newGID && (c.EUID != st.Uid || gid != c.EGID && !slices.Contains(c.Groups, gid)) {
			return unix.EPERM
		}
	}
	if uid == chownNone && gid == chownNone {
		return nil
	}
	if err := co.Chown(uid, gid); err != nil {
		return err
	}
	if typ := st.Mode & unix.S_IFMT; typ != unix.S_IFDIR && typ != unix.S_IFLNK {
		mode := st.Mode &^ unix.S_ISUID
		if mode&unix.S_IXGRP != 0 {
			mode &^= unix.S_ISGID
		}
		if mode != st.Mode {
			if m, ok := d.Node().(fs.AttrChanger); ok {
				m.Chmod(mode & 0o7777)
			}
		}
	}
	notifyFile(t, d, unix.IN_ATTRIB)
	return nil
}

// ownCreated gives the node just made as name in dir its creator's
// owner, as Linux does: the effective user, and the effective group or,
// in a directory with the set-group-ID bit, the directory's (fs.Chowner:
// a host tree keeps it in its own view). A host directory that makes its
// files with those IDs already spares the look (fs.OwnerOfNew).
func ownCreated(t *kernel.Task, dir *fs.Dentry, name string) {
	if _, ok := dir.Node().(fs.Chowner); !ok {
		return
	}
	c := t.TG.Creds()
	if o, ok := dir.Node().(fs.OwnerOfNew); ok && o.CreatesAs(c.EUID, c.EGID) {
		return
	}
	n, err := dir.Node().Lookup(name)
	if err != nil {
		return
	}
	co, ok := n.(fs.Chowner)
	if !ok {
		return
	}
	st, err := n.Stat()
	if err != nil {
		return
	}
	uid, gid := c.EUID, c.EGID
	if dst, err := dir.Node().Stat(); err == nil && dst.Mode&unix.S_ISGID != 0 {
		gid = dst.Gid
	}
	if st.Uid != uid || st.Gid != gid {
		co.Chown(uid, gid)
	}
}

func sysCloseRange(t *kernel.Task, a Args) (uintptr, error) {
	lo, hi, flags := uint32(a[0]), uint32(a[1]), uint32(a[2])
	const cloexec = 4 // CLOSE_RANGE_CLOEXEC
	if flags&^(cloexec|2 /* CLOSE_RANGE_UNSHARE */) != 0 || lo > hi {
		return 0, unix.EINVAL
	}
	t.TG.FDs.RemoveRange(int(lo), int(min(hi, 1<<30)), flags&cloexec != 0)
	return 0, nil
}
