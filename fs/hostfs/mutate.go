package hostfs

import (
	"strconv"
	"strings"
	"weak"

	"golang.org/x/sys/unix"

	"ringbox/guestkernel/hostcall"

	"ringbox/fs"
)

// Mutable is what the nodes of a hostfs offer to change the tree; the
// syscall layer type-asserts it. The directory methods (Create, Mkdir,
// Unlink, Rmdir, Symlink, Rename, Link) take one component, as Lookup;
// the others change the node itself. All are EROFS on a read-only
// filesystem. Modes are final (the caller applies the program's umask; the
// host's is undone), without the set-user-ID bit and, but on directories,
// the set-group-ID bit.
type Mutable = fs.Mutable

var _ Mutable = (*node)(nil)

// writableDir checks a directory operation and pins n's fd for it.
func (n *node) writableDir(names ...string) (int, error) {
	if n.fs.readOnly {
		return -1, unix.EROFS
	}
	for _, name := range names {
		if err := checkName(name); err != nil {
			return -1, err
		}
	}
	return n.dirFD()
}

// Create implements Mutable.
func (n *node) Create(name string, flags int, mode uint32) (fs.Node, fs.Impl, error) {
	dfd, err := n.writableDir(name)
	if err != nil {
		return nil, nil, err
	}
	defer n.release()
	hflags, err := n.fs.checkOpenFlags(flags &^ (unix.O_CREAT | unix.O_EXCL))
	if err != nil {
		return nil, nil, err
	}
	if hflags&unix.O_DIRECTORY != 0 {
		return nil, nil, unix.EINVAL
	}
	perm := safeMode(unix.S_IFREG, mode)
	var fd int
	for tries := 0; ; tries++ {
		// Create exclusively, so that an existing entry is never opened
		// with O_CREAT and a new file gets exactly perm.
		fd, err = openat2(dfd, name, hflags|unix.O_CREAT|unix.O_EXCL|unix.O_NOCTTY, perm)
		if err == nil {
			var st unix.Stat_t
			if st, err = fstat(fd); err == nil && st.Mode&0o7777 != perm {
				err = errno(hostcall.Fchmod(fd, perm)) // the host's umask took bits
			}
			if err != nil {
				hostcall.Close(fd)
				return nil, nil, err
			}
			break
		}
		if err != unix.EEXIST || flags&unix.O_EXCL != 0 {
			return nil, nil, err
		}
		var mode uint32
		fd, mode, err = openEntry(dfd, name, hflags)
		if err == nil && mode == unix.S_IFDIR {
			hostcall.Close(fd)
			err = unix.EISDIR
		}
		if err == nil {
			break
		}
		if err != unix.ENOENT || tries >= 8 {
			return nil, nil, err
		}
		// Removed between the two opens: create it again.
	}
	st, err := fstat(fd)
	if err != nil {
		hostcall.Close(fd)
		return nil, nil, err
	}
	f := n.fs
	f.mu.Lock()
	c := n.childLocked(name)
	if c == nil || c.hostDev != st.Dev || c.ino != st.Ino {
		c = n.newChildLocked(name, -1, &st, false)
	}
	f.mu.Unlock()
	if hflags&unix.O_TRUNC != 0 {
		f.truncatedShared(fd, 0)
	}
	return c, newImpl(f, fd, unix.S_IFREG), nil
}

// Mkdir implements Mutable.
func (n *node) Mkdir(name string, mode uint32) error {
	dfd, err := n.writableDir(name)
	if err != nil {
		return err
	}
	defer n.release()
	perm := mode & 0o1777 // as mkdir(2); set-group-ID comes from the parent
	if err := hostcall.Mkdirat(dfd, name, perm); err != nil {
		return errno(err)
	}
	var st unix.Stat_t
	if err := hostcall.Fstatat(dfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return errno(err)
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR && st.Mode&0o1777 != perm {
		// The host's umask took bits.
		return chmodAt(dfd, name, st.Mode&unix.S_ISGID|perm)
	}
	return nil
}

// chmodAt changes the mode of directory name below dirfd without following
// a symlink.
func chmodAt(dirfd int, name string, perm uint32) error {
	err := unix.Fchmodat(dirfd, name, perm, unix.AT_SYMLINK_NOFOLLOW)
	if err != unix.EOPNOTSUPP && err != unix.ENOSYS {
		return errno(err)
	}
	// No fchmodat2 (before Linux 6.6): through an fd.
	fd, err := openat2(dirfd, name, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		return err
	}
	defer hostcall.Close(fd)
	return errno(hostcall.Fchmod(fd, perm))
}

// Unlink implements Mutable.
func (n *node) Unlink(name string) error {
	return n.remove(name, 0)
}

// Rmdir implements Mutable.
func (n *node) Rmdir(name string) error {
	return n.remove(name, unix.AT_REMOVEDIR)
}

func (n *node) remove(name string, flags int) error {
	dfd, err := n.writableDir(name)
	if err != nil {
		return err
	}
	defer n.release()
	gone := n.fs.ownedEntry(dfd, name)
	if err := hostcall.Unlinkat(dfd, name, flags); err != nil {
		return errno(err)
	}
	n.fs.forgetOwner(gone)
	n.fs.mu.Lock()
	delete(n.children, name)
	n.fs.mu.Unlock()
	return nil
}

// Symlink implements Mutable.
func (n *node) Symlink(target, name string) error {
	switch {
	case target == "":
		return unix.ENOENT
	case strings.IndexByte(target, 0) >= 0:
		return unix.EINVAL
	case len(target) >= fs.PathMax:
		return unix.ENAMETOOLONG
	}
	dfd, err := n.writableDir(name)
	if err != nil {
		return err
	}
	defer n.release()
	return errno(hostcall.Symlinkat(target, dfd, name))
}

// MakeNode implements fs.NodeMaker: the node of a socket that a program
// in the sandbox binds here, or of a FIFO it makes, made on the host
// (mknodat S_IFSOCK or S_IFIFO) so that the name is in the directory for
// everyone. It is a name only: the sandbox's sockets and pipes are its
// own (keyed by the node), no host socket listens there, and the sandbox
// never connects to a host socket or opens a host FIFO under a mount.
func (n *node) MakeNode(name string, mode uint32) error {
	if err := fs.CheckNodeType(mode); err != nil {
		return err
	}
	dfd, err := n.writableDir(name)
	if err != nil {
		return err
	}
	defer n.release()
	return errno(hostcall.Mknodat(dfd, name, mode&(unix.S_IFMT|0o777), 0))
}

// sameFS returns other as a node of n's filesystem.
func (n *node) sameFS(other fs.Node) (*node, error) {
	o, ok := other.(*node)
	if !ok || o.fs != n.fs {
		return nil, unix.EXDEV
	}
	return o, nil
}

// Rename implements Mutable: renameat2(2) on the host, with the flags
// passed through (RENAME_NOREPLACE, RENAME_EXCHANGE; the host refuses
// them where its filesystem cannot: EINVAL), so the host checks and
// renames in one step. Live nodes follow their files: the moved one is
// newName in newDir, and after an exchange the other is oldName.
func (n *node) Rename(oldName string, newDir fs.Node, newName string, flags uint) error {
	const known = unix.RENAME_NOREPLACE | unix.RENAME_EXCHANGE
	if flags&^known != 0 || flags == known {
		return unix.EINVAL
	}
	exchange := flags&unix.RENAME_EXCHANGE != 0
	nd, err := n.sameFS(newDir)
	if err != nil {
		return err
	}
	if err := checkName(newName); err != nil {
		return err
	}
	ofd, err := n.writableDir(oldName)
	if err != nil {
		return err
	}
	defer n.release()
	nfd, err := nd.dirFD()
	if err != nil {
		return err
	}
	defer nd.release()
	// A node of a moved entry reopened while it moves may open either
	// name: such an fd is thrown away (see acquire).
	f := n.fs
	f.mu.Lock()
	var moving []*node
	if c := n.childLocked(oldName); c != nil {
		moving = append(moving, c)
	}
	if c := nd.childLocked(newName); exchange && c != nil {
		moving = append(moving, c)
	}
	for _, c := range moving {
		c.moving++
	}
	f.mu.Unlock()
	var replaced *fileKey
	if !exchange {
		replaced = f.ownedEntry(nfd, newName)
	}
	err = hostcall.Renameat2(ofd, oldName, nfd, newName, flags)
	if err == nil {
		f.forgetOwner(replaced)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range moving {
		c.moving--
		c.gen++
	}
	if err != nil {
		return errno(err)
	}
	// A live node of the moved entry now is newName in newDir; after an
	// exchange, one of the other entry is oldName in n.
	c := n.childLocked(oldName)
	var other *node
	if exchange {
		other = nd.childLocked(newName)
	}
	delete(n.children, oldName)
	delete(nd.children, newName)
	if c != nil {
		c.moveLocked(nd, newName)
	}
	if other != nil {
		other.moveLocked(n, oldName)
	}
	return nil
}

// moveLocked records c as the child name of directory p (renamed there)
// and makes a reopen under way start again. Called with fs.mu held.
func (c *node) moveLocked(p *node, name string) {
	c.loc.parent, c.loc.name = p, name
	c.gen++
	if p.children == nil {
		p.children = map[string]weak.Pointer[node]{}
	}
	p.children[name] = c.loc.wp
}

// Link implements Mutable.
func (n *node) Link(old fs.Node, name string) error {
	o, err := n.sameFS(old)
	if err != nil {
		return err
	}
	dfd, err := n.writableDir(name)
	if err != nil {
		return err
	}
	defer n.release()
	ofd, err := o.acquire()
	if err != nil {
		return err
	}
	defer o.release()
	st, err := fstat(ofd)
	if err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		return unix.EPERM
	}
	if o.isSpecial() {
		return unix.EACCES
	}
	// The very file old's fd is on (AT_EMPTY_PATH needs
	// CAP_DAC_READ_SEARCH).
	err = hostcall.Linkat(ofd, "", dfd, name, unix.AT_EMPTY_PATH)
	if err != unix.ENOENT && err != unix.EPERM || st.Nlink == 0 {
		return errno(err)
	}
	// Without the capability: by name, if it still is that file.
	parent, pfd, oname, err := o.parentFD()
	if err != nil {
		return err
	}
	defer parent.release()
	var cur unix.Stat_t
	if err := hostcall.Fstatat(pfd, oname, &cur, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return errno(err)
	}
	if cur.Dev != st.Dev || cur.Ino != st.Ino {
		return unix.ENOENT
	}
	return errno(hostcall.Linkat(pfd, oname, dfd, name, 0))
}

// Chmod implements Mutable. A symlink's mode cannot change (EOPNOTSUPP).
func (n *node) Chmod(mode uint32) error {
	if n.fs.readOnly {
		return unix.EROFS
	}
	return n.withStat(func(fd int, st *unix.Stat_t) error {
		if st.Mode&unix.S_IFMT == unix.S_IFLNK {
			return unix.EOPNOTSUPP
		}
		if n.isSpecial() {
			return unix.EACCES
		}
		perm := safeMode(st.Mode, mode)
		// fchmodat2 on the O_PATH fd: this very file, no path, no /proc.
		err := unix.Fchmodat(fd, "", perm, unix.AT_EMPTY_PATH)
		if err != unix.EOPNOTSUPP && err != unix.ENOSYS {
			return errno(err)
		}
		// Before Linux 6.6: through an fd opened for reading.
		if t := st.Mode & unix.S_IFMT; t == unix.S_IFSOCK || t == unix.S_IFIFO {
			// No fd to fchmod, and a chmod by name could follow a link
			// put there meanwhile: the sandbox's socket or pipe takes
			// the mode in the tree's own view (owners.go).
			return n.fs.setPerm(st, perm)
		}
		hfd, err := n.readableFD(fd, st)
		if err == unix.EACCES {
			// Not readable to ringbox (a directory made with mode 0, as
			// dpkg makes them, then chmod'ed): the magic link of the
			// O_PATH descriptor names this very file, with no path to
			// follow.
			return errno(hostcall.Fchmodat(unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(fd), perm))
		}
		if err != nil {
			return err
		}
		defer hostcall.Close(hfd)
		return errno(hostcall.Fchmod(hfd, perm))
	})
}

// withStat pins n's O_PATH descriptor and runs fn with it and the host
// file's attributes.
func (n *node) withStat(fn func(fd int, st *unix.Stat_t) error) error {
	fd, err := n.acquire()
	if err != nil {
		return err
	}
	defer n.release()
	st, err := fstat(fd)
	if err != nil {
		return err
	}
	return fn(fd, &st)
}

// readableFD opens n itself for reading, for the host calls that refuse
// an O_PATH descriptor (fchmod before Linux 6.6, the f*xattr calls): a
// directory through fd, its O_PATH descriptor; a regular file by its name
// in its directory, checked to be the file st describes (ESTALE when it
// was replaced meanwhile). Other types are EOPNOTSUPP. The caller closes
// the descriptor.
func (n *node) readableFD(fd int, st *unix.Stat_t) (int, error) {
	var hfd int
	var err error
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		hfd, err = openat2(fd, ".", unix.O_RDONLY|unix.O_DIRECTORY, 0)
	case unix.S_IFREG:
		hfd, _, err = n.openByName(unix.O_RDONLY)
	default:
		return -1, unix.EOPNOTSUPP
	}
	if err != nil {
		return -1, err
	}
	cur, err := fstat(hfd)
	if err == nil && (cur.Dev != st.Dev || cur.Ino != st.Ino) {
		err = unix.ESTALE
	}
	if err != nil {
		hostcall.Close(hfd)
		return -1, err
	}
	return hfd, nil
}

// Truncate implements Mutable (truncate(2): a regular file, by its name in
// its directory).
func (n *node) Truncate(size int64) error {
	if n.fs.readOnly {
		return unix.EROFS
	}
	if size < 0 {
		return unix.EINVAL
	}
	st, err := n.Stat()
	if err != nil {
		return err
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
	case unix.S_IFDIR:
		return unix.EISDIR
	default:
		return unix.EINVAL
	}
	fd, mode, err := n.openByName(unix.O_WRONLY)
	if err != nil {
		return err
	}
	defer hostcall.Close(fd)
	if mode != unix.S_IFREG {
		return unix.EISDIR
	}
	_, err = retry(func() (int, error) { return 0, hostcall.Ftruncate(fd, size) })
	if err == nil {
		n.fs.truncatedShared(fd, size)
	}
	return err
}

// Utimens implements Mutable.
func (n *node) Utimens(atime, mtime unix.Timespec) error {
	if n.fs.readOnly {
		return unix.EROFS
	}
	fd, err := n.acquire()
	if err != nil {
		return err
	}
	defer n.release()
	if n.isSpecial() {
		return unix.EACCES
	}
	ts := []unix.Timespec{atime, mtime}
	return errno(hostcall.UtimesNanoAt(fd, "", ts, unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW))
}
