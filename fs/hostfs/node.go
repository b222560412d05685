package hostfs

import (
	"golang.org/x/sys/unix"

	"ringbox/guestkernel/hostcall"

	"ringbox/fs"
)

var _ fs.Node = (*node)(nil)

// Stat implements fs.Node.
func (n *node) Stat() (unix.Stat_t, error) {
	if st, ok := n.cachedStat(); ok {
		return st, nil
	}
	fd, err := n.acquire()
	if err != nil {
		return unix.Stat_t{}, err
	}
	defer n.release()
	st, err := fstat(fd)
	if err != nil {
		return unix.Stat_t{}, err
	}
	n.fs.fixStat(&st)
	n.cacheStat(st)
	return st, nil
}

// Lookup implements fs.Node. name must be one component: "", ".", "..",
// and names with '/' or NUL are EINVAL.
func (n *node) Lookup(name string) (fs.Node, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	if n.fs.cache {
		if c, ok, err := n.lookupCached(name); ok {
			if err != nil {
				return nil, err
			}
			return c, nil
		}
	}
	fd, st, special, err := n.openChild(name)
	if err != nil {
		return nil, err
	}
	f := n.fs
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		hostcall.Close(fd)
		return nil, unix.EIO
	}
	// The same host file as a live node of that name: that node.
	if c := n.childLocked(name); c != nil && c.hostDev == st.Dev && c.ino == st.Ino {
		if c.fd >= 0 {
			hostcall.Close(fd)
			f.lru.MoveToFront(c.elem)
		} else {
			c.fd, c.special = fd, special
			c.elem = f.lru.PushFront(c)
			f.evictLocked()
		}
		return c, nil
	}
	c := n.newChildLocked(name, fd, st, special)
	f.evictLocked()
	return c, nil
}

// Readlink implements fs.Node.
func (n *node) Readlink() (string, error) {
	if l, ok := n.cachedLink(); ok {
		return l, nil
	}
	if st, ok := n.cachedStat(); ok {
		if st.Mode&unix.S_IFMT != unix.S_IFLNK {
			return "", unix.EINVAL
		}
		if target, ok := n.listedLink(); ok {
			n.cacheLink(target)
			return target, nil
		}
		// A cached (unchanging) symlink: read it by name in its parent,
		// one host call (readlinkat does not follow the last component).
		if parent, pfd, name, err := n.parentFD(); err == nil {
			target, err := readlinkIn(pfd, name)
			parent.release()
			if err != nil {
				return "", err
			}
			n.cacheLink(target)
			return target, nil
		}
	}
	fd, err := n.acquire()
	if err != nil {
		return "", err
	}
	defer n.release()
	st, err := fstat(fd)
	if err != nil {
		return "", err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFLNK {
		return "", unix.EINVAL
	}
	for size := 256; ; size *= 4 {
		buf := make([]byte, size)
		// An empty path reads the link the O_PATH|O_NOFOLLOW fd is on.
		k, err := retry(func() (int, error) { return hostcall.Readlinkat(fd, "", buf) })
		if err != nil {
			return "", err
		}
		if k < size || size >= 1<<20 {
			n.cacheLink(string(buf[:k]))
			return string(buf[:k]), nil
		}
	}
}

// readlinkIn reads the symlink name (one component) in directory dirfd.
func readlinkIn(dirfd int, name string) (string, error) {
	for size := 256; ; size *= 4 {
		buf := make([]byte, size)
		k, err := retry(func() (int, error) { return hostcall.Readlinkat(dirfd, name, buf) })
		if err != nil {
			return "", err
		}
		if k < size || size >= 1<<20 {
			return string(buf[:k]), nil
		}
	}
}

// openFlags are the open(2) flags passed to the host; the rest are the
// syscall layer's (O_CLOEXEC, O_NOCTTY ...) or refused.
const openFlags = unix.O_ACCMODE | unix.O_APPEND | unix.O_TRUNC | unix.O_DIRECTORY |
	unix.O_NONBLOCK | unix.O_SYNC | unix.O_DSYNC | unix.O_DIRECT | unix.O_NOATIME | unix.O_LARGEFILE

// tmpfileFlag is O_TMPFILE without its O_DIRECTORY part.
const tmpfileFlag = unix.O_TMPFILE &^ unix.O_DIRECTORY

// writes reports whether open flags would change the file.
func writes(flags int) bool {
	acc := flags & unix.O_ACCMODE
	return acc == unix.O_WRONLY || acc == unix.O_RDWR || flags&unix.O_TRUNC != 0
}

// checkOpenFlags validates the program's open flags and returns the
// host's.
func (f *FS) checkOpenFlags(flags int) (int, error) {
	if flags&tmpfileFlag != 0 {
		return 0, unix.EOPNOTSUPP
	}
	if flags&unix.O_ACCMODE == unix.O_ACCMODE {
		return 0, unix.EINVAL
	}
	if f.readOnly && writes(flags) {
		return 0, unix.EROFS
	}
	return flags & openFlags, nil
}

// openable says whether a file of mode may be opened for I/O: regular
// files and directories only. Device nodes are refused as on a nodev
// mount, FIFOs and sockets as Linux refuses sockets (a host FIFO would
// block or hand the host's pipe to the program).
func openable(mode uint32) error {
	switch mode & unix.S_IFMT {
	case unix.S_IFREG, unix.S_IFDIR:
		return nil
	case unix.S_IFLNK:
		return unix.ELOOP
	case unix.S_IFCHR, unix.S_IFBLK:
		return unix.EACCES
	default:
		return unix.ENXIO
	}
}

// Open implements fs.Node. A symlink is ELOOP (the VFS follows links
// before opening); O_CREAT, O_EXCL, O_NOCTTY, O_PATH and O_CLOEXEC are
// not the host's business and are dropped.
func (n *node) Open(flags int) (fs.Impl, error) {
	hflags, err := n.fs.checkOpenFlags(flags)
	if err != nil {
		return nil, err
	}
	if n.fs.cache {
		if impl, ok, err := n.openCached(hflags); ok {
			return impl, err
		}
	}
	fd, err := n.acquire()
	if err != nil {
		return nil, err
	}
	st, err := fstat(fd)
	if err == nil && n.isSpecial() {
		err = unix.EACCES
	}
	if err != nil {
		n.release()
		return nil, err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		// "." below the directory's own fd: exactly this directory.
		hfd, err := openat2(fd, ".", hflags, 0)
		n.release()
		if err != nil {
			return nil, err
		}
		return newImpl(n.fs, hfd, unix.S_IFDIR), nil
	}
	n.release()
	if err := openable(st.Mode); err != nil {
		return nil, err
	}
	hfd, mode, err := n.openByName(hflags)
	if err != nil {
		return nil, err
	}
	if hflags&unix.O_TRUNC != 0 {
		n.fs.truncatedShared(hfd, 0)
	}
	return newImpl(n.fs, hfd, mode), nil
}

func (n *node) isSpecial() bool {
	n.fs.mu.Lock()
	defer n.fs.mu.Unlock()
	return n.special
}

// openByName opens n's name in its parent for I/O. Only a regular file
// or directory is opened: the entry is checked before (so no device is
// opened) and after (it may have been replaced meanwhile). O_NONBLOCK
// keeps a FIFO swapped in from blocking the host.
func (n *node) openByName(hflags int) (int, uint32, error) {
	parent, pfd, name, err := n.parentFD()
	if err != nil {
		return -1, 0, err
	}
	defer parent.release()
	return openEntry(pfd, name, hflags)
}

// openEntry opens the regular file or directory name below dirfd.
func openEntry(dirfd int, name string, hflags int) (int, uint32, error) {
	var st unix.Stat_t
	if err := hostcall.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return -1, 0, errno(err)
	}
	if err := openable(st.Mode); err != nil {
		return -1, 0, err
	}
	fd, err := openat2(dirfd, name, hflags|unix.O_NONBLOCK|unix.O_NOCTTY, 0)
	if err != nil {
		return -1, 0, err
	}
	st, err = fstat(fd)
	if err == nil {
		err = openable(st.Mode)
	}
	if err == nil && hflags&unix.O_NONBLOCK == 0 {
		_, err = hostcall.FcntlInt(uintptr(fd), unix.F_SETFL, hflags&(unix.O_APPEND|unix.O_DIRECT|unix.O_NOATIME))
		err = errno(err)
	}
	if err != nil {
		hostcall.Close(fd)
		return -1, 0, err
	}
	return fd, st.Mode & unix.S_IFMT, nil
}

func newImpl(f *FS, fd int, mode uint32) fs.Impl {
	if mode == unix.S_IFDIR {
		return &dirFile{file: file{fs: f, fd: fd}}
	}
	return &file{fs: f, fd: fd}
}
