package syscalls

import (
	"encoding/binary"
	"slices"

	"golang.org/x/sys/unix"

	"ringbox/fs"
	"ringbox/fs/pipe"
	"ringbox/fs/waiter"
	"ringbox/guestkernel/kernel"
)

func init() {
	register(unix.SYS_OPEN, sysOpen)
	register(unix.SYS_OPENAT, sysOpenat)
	register(unix.SYS_OPENAT2, sysOpenat2)
	register(unix.SYS_STAT, sysStat)
	register(unix.SYS_LSTAT, sysLstat)
	register(unix.SYS_STATX, sysStatx)
	register(unix.SYS_GETDENTS64, afterOK(0, unix.IN_ACCESS, sysGetdents64))
	register(unix.SYS_GETDENTS, afterOK(0, unix.IN_ACCESS, sysGetdents))
	register(unix.SYS_READLINK, sysReadlink)
	register(unix.SYS_READLINKAT, sysReadlinkat)
	register(unix.SYS_ACCESS, sysAccess)
	register(unix.SYS_FACCESSAT, sysFaccessat)
	register(unix.SYS_FACCESSAT2, sysFaccessat2)
	register(unix.SYS_GETCWD, sysGetcwd)
	register(unix.SYS_CHDIR, sysChdir)
	register(unix.SYS_CHROOT, sysChroot)
	register(unix.SYS_FCHDIR, sysFchdir)
	register(unix.SYS_STATFS, sysStatfs)
	register(unix.SYS_FSTATFS, sysFstatfs)
}

// noFS is returned by path syscalls when the sandbox has no file system.
const noFS = unix.ENOENT

// copyPath reads a path argument (PATH_MAX including the NUL).
func copyPath(t *kernel.Task, addr uintptr) (string, error) {
	return t.MM.CopyInString(addr, fs.PathMax-1)
}

// startDir returns where a relative path starts: the cwd or dirfd.
func startDir(t *kernel.Task, dirfd int) (*fs.Dentry, error) {
	if dirfd == unix.AT_FDCWD {
		return t.TG.Cwd(), nil
	}
	f, err := t.File(dirfd)
	if err != nil {
		return nil, err
	}
	if f.Dentry == nil || !f.Dentry.IsDir() {
		return nil, unix.ENOTDIR
	}
	return f.Dentry, nil
}

// resolveAt resolves path relative to dirfd. With AT_EMPTY_PATH and an
// empty path it returns the dentry of dirfd itself (nil for a file with
// none, such as host stdio: the caller then uses the file).
func resolveAt(t *kernel.Task, dirfd int, path string, flags int) (*fs.Dentry, *fs.File, error) {
	if t.K.VFS == nil {
		return nil, nil, noFS
	}
	if path == "" {
		if flags&unix.AT_EMPTY_PATH == 0 {
			return nil, nil, unix.ENOENT
		}
		if dirfd == unix.AT_FDCWD {
			return t.TG.Cwd(), nil, nil
		}
		f, err := t.File(dirfd)
		if err != nil {
			return nil, nil, err
		}
		return f.Dentry, f, nil
	}
	start := t.TG.Cwd()
	if path[0] != '/' {
		var err error
		if start, err = startDir(t, dirfd); err != nil {
			return nil, nil, err
		}
	}
	if flags&unix.AT_SYMLINK_NOFOLLOW == 0 {
		// A /proc/PID/fd/N magic link names its open file (stat of
		// /dev/fd/63 for bash's <(...)).
		d, f, err := t.K.VFS.For(searcher(t)).ResolveOpen(start, t.TG.FSRoot(), path, true)
		if f != nil {
			t.Hold(f)
			return f.Dentry, f, nil
		}
		return d, nil, err
	}
	d, err := t.K.VFS.For(searcher(t)).Resolve(start, t.TG.FSRoot(), path, false)
	return d, nil, err
}

func sysOpen(t *kernel.Task, a Args) (uintptr, error) {
	return openAt(t, unix.AT_FDCWD, a[0], int(a[1]), uint32(a[2]), 0)
}

func sysOpenat(t *kernel.Task, a Args) (uintptr, error) {
	return openAt(t, int(int32(a[0])), a[1], int(a[2]), uint32(a[3]), 0)
}

// openat2's struct open_how: flags, mode and resolve, 8 bytes each (a
// larger struct from a newer libc must be zero past them).
const (
	openHowV0     = 24
	resolveCached = 0x20 // RESOLVE_CACHED
	resolveKnown  = unix.RESOLVE_NO_XDEV | unix.RESOLVE_NO_MAGICLINKS | unix.RESOLVE_NO_SYMLINKS |
		unix.RESOLVE_BENEATH | unix.RESOLVE_IN_ROOT | resolveCached
	// openPathKnown are the flags O_PATH goes with in openat2.
	openPathKnown = unix.O_PATH | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC
)

// sysOpenat2 is openat with open_how: strict about flags and mode
// (EINVAL where openat ignores), and the resolve flags (fs.Resolution).
// RESOLVE_CACHED is honoured as Linux allows: a lookup that creates or
// truncates is EAGAIN, any other is made (every lookup may be cached).
func sysOpenat2(t *kernel.Task, a Args) (uintptr, error) {
	addr, size := a[2], a[3]
	if size < openHowV0 {
		return 0, unix.EINVAL
	}
	if size > pageSize {
		return 0, unix.E2BIG
	}
	b := make([]byte, size)
	if _, err := t.MM.CopyIn(addr, b); err != nil {
		return 0, err
	}
	for _, c := range b[openHowV0:] {
		if c != 0 {
			return 0, unix.E2BIG
		}
	}
	le := binary.LittleEndian
	flags, mode, resolve := le.Uint64(b[0:]), le.Uint64(b[8:]), le.Uint64(b[16:])
	switch {
	case flags&^uint64(openKnown) != 0, resolve&^uint64(resolveKnown) != 0:
		return 0, unix.EINVAL
	case resolve&unix.RESOLVE_BENEATH != 0 && resolve&unix.RESOLVE_IN_ROOT != 0:
		return 0, unix.EINVAL
	case flags&unix.O_PATH != 0 && flags&^uint64(openPathKnown) != 0:
		return 0, unix.EINVAL
	}
	creates := flags&unix.O_CREAT != 0 || flags&unix.O_TMPFILE == unix.O_TMPFILE
	if (creates && mode&^0o7777 != 0) || (!creates && mode != 0) {
		return 0, unix.EINVAL
	}
	if resolve&resolveCached != 0 && (creates || flags&unix.O_TRUNC != 0) {
		return 0, unix.EAGAIN
	}
	how := fs.Resolution(resolve &^ resolveCached)
	return openAt(t, int(int32(a[0])), a[1], int(flags), uint32(mode), how)
}

const openKnown = unix.O_ACCMODE | unix.O_CREAT | unix.O_EXCL | unix.O_NOCTTY | unix.O_TRUNC |
	unix.O_APPEND | unix.O_NONBLOCK | unix.O_DSYNC | unix.O_ASYNC | unix.O_DIRECT | 0x8000 /* O_LARGEFILE */ |
	unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_NOATIME | unix.O_CLOEXEC | unix.O_SYNC | unix.O_PATH | unix.O_TMPFILE

// openAt opens path relative to dirfd, its walk restricted by how
// (openat2; 0 for open and openat).
func openAt(t *kernel.Task, dirfd int, pathAddr uintptr, flags int, mode uint32, how fs.Resolution) (uintptr, error) {
	path, err := copyPath(t, pathAddr)
	if err != nil {
		return 0, err
	}
	if flags&unix.O_TMPFILE == unix.O_TMPFILE {
		return 0, unix.EOPNOTSUPP
	}
	if flags&unix.O_ACCMODE == unix.O_ACCMODE && flags&unix.O_PATH == 0 {
		return 0, unix.EINVAL
	}
	flags &= openKnown
	if t.K.VFS == nil {
		return 0, noFS
	}
	follow := flags&unix.O_NOFOLLOW == 0
	scoped := how&(unix.RESOLVE_BENEATH|unix.RESOLVE_IN_ROOT) != 0
	start := t.TG.Cwd()
	if path != "" && (path[0] != '/' || scoped) {
		if start, err = startDir(t, dirfd); err != nil {
			return 0, err
		}
	}
	root := t.TG.FSRoot()
	if scoped {
		root = start // the walk stays under dirfd
	}
	var d *fs.Dentry
	var impl fs.Impl
	truncated := false
	if flags&unix.O_CREAT != 0 {
		d, impl, err = openCreate(t, start, root, path, flags, mode, how)
		if err != nil {
			return 0, err
		}
	} else if follow && flags&unix.O_PATH == 0 {
		var magic *fs.File
		if d, magic, err = t.K.VFS.For(searcher(t)).ResolveOpenHow(start, root, path, true, how); err != nil {
			return 0, err
		}
		if magic != nil {
			return openMagic(t, magic, flags)
		}
	} else {
		if d, err = t.K.VFS.For(searcher(t)).ResolveHow(start, root, path, follow, how); err != nil {
			return 0, err
		}
	}
	if impl == nil {
		st, err := d.Node().Stat()
		if err != nil {
			return 0, err
		}
		isDir := st.Mode&unix.S_IFMT == unix.S_IFDIR
		switch {
		case st.Mode&unix.S_IFMT == unix.S_IFLNK && flags&unix.O_PATH == 0:
			return 0, unix.ELOOP // O_NOFOLLOW on a symlink
		case flags&unix.O_DIRECTORY != 0 && !isDir:
			return 0, unix.ENOTDIR
		case isDir && flags&unix.O_ACCMODE != unix.O_RDONLY && flags&unix.O_PATH == 0:
			return 0, unix.EISDIR
		}
		if flags&unix.O_PATH != 0 {
			impl = fs.PathImpl{Node: d.Node()}
		} else if st.Mode&unix.S_IFMT == unix.S_IFIFO {
			// Writing a FIFO changes nothing on its filesystem: no
			// EROFS, and O_TRUNC does nothing.
			if err := checkOpenAccess(t, &st, flags); err != nil {
				return 0, err
			}
			if impl, err = openFIFO(t, d, &st, flags); err != nil {
				return 0, err
			}
		} else {
			if d.Mount().ReadOnly && (flags&unix.O_ACCMODE != unix.O_RDONLY || flags&unix.O_TRUNC != 0) {
				return 0, unix.EROFS
			}
			if err := checkOpenAccess(t, &st, flags); err != nil && !ownProcessFile(t, d.Node()) {
				return 0, err
			}
			if impl, err = d.Node().Open(flags &^ (unix.O_CREAT | unix.O_EXCL | unix.O_NOCTTY | unix.O_CLOEXEC)); err != nil {
				return 0, err
			}
			if impl, err = ttyOpened(t, impl, flags); err != nil {
				return 0, err
			}
			truncated = flags&unix.O_TRUNC != 0 && st.Mode&unix.S_IFMT == unix.S_IFREG
		}
	}
	f := fs.NewFile(impl, flags&^(unix.O_CREAT|unix.O_EXCL|unix.O_NOCTTY|unix.O_TRUNC|unix.O_CLOEXEC))
	f.Dentry = d
	f.Watcher = t.K.Notify
	if flags&unix.O_PATH == 0 {
		notifyFile(t, d, unix.IN_OPEN)
	}
	if truncated {
		// After IN_OPEN, as Linux 6.18 raises them (6.1 raised IN_MODIFY
		// first).
		notifyFile(t, d, unix.IN_MODIFY)
	}
	fd, err := t.TG.FDs.Install(f, 0, flags&unix.O_CLOEXEC != 0)
	if err != nil {
		f.DecRef()
		return 0, err
	}
	return uintptr(fd), nil
}

// openFIFO opens the FIFO node d as Linux does: its pipe is the
// sandbox's own (one per node while it is open, never a host FIFO). A
// read-only open waits for a writer and a write-only one for a reader,
// unless O_NONBLOCK (then a write-only open without a reader is ENXIO);
// O_RDWR never waits. A signal ends the wait (restarted under
// SA_RESTART).
func openFIFO(t *kernel.Task, d *fs.Dentry, st *unix.Stat_t, flags int) (fs.Impl, error) {
	acc := flags & unix.O_ACCMODE
	nonblock := flags&unix.O_NONBLOCK != 0
	key := pipe.FIFOKey{Dev: st.Dev, Ino: st.Ino}
	e, err := t.K.FIFOs.Open(key, acc != unix.O_WRONLY, acc != unix.O_RDONLY, nonblock, d.Node().Stat)
	if err != nil {
		return nil, err
	}
	if nonblock || !e.WaitingForPartner() {
		return e, nil
	}
	entry, ch := waiter.NewChannelEntry(waiter.AllEvents)
	e.EventRegister(entry)
	defer e.EventUnregister(entry)
	s := newSleeper(t, -1)
	defer s.stop()
	for e.WaitingForPartner() {
		if s.sleep(ch, false) == wakeSignal {
			e.Release()
			return nil, kernel.ErrRestartSys
		}
	}
	return e, nil
}

// openMagic installs f, which a /proc/PID/fd/N link named, as a new
// descriptor: the same open file, if the access asked for is one it
// allows (EACCES otherwise; Linux would open the other end of a pipe).
func openMagic(t *kernel.Task, f *fs.File, flags int) (uintptr, error) {
	acc := flags & unix.O_ACCMODE
	if (acc != unix.O_WRONLY && !f.Readable()) || (acc != unix.O_RDONLY && !f.Writable()) {
		f.DecRef()
		return 0, unix.EACCES
	}
	fd, err := t.TG.FDs.Install(f, 0, flags&unix.O_CLOEXEC != 0)
	if err != nil {
		f.DecRef()
		return 0, err
	}
	return uintptr(fd), nil
}

// openCreate handles O_CREAT: open the file if it exists (EEXIST with
// O_EXCL), else create it in its directory.
func openCreate(t *kernel.Task, start, root *fs.Dentry, path string, flags int, mode uint32, how fs.Resolution) (*fs.Dentry, fs.Impl, error) {
	view := t.K.VFS.For(searcher(t))
	dir, name, err := view.ResolveParentHow(start, root, path, how)
	if err != nil {
		return nil, nil, err
	}
	if name == "." || name == ".." || path[len(path)-1] == '/' {
		return nil, nil, unix.EISDIR
	}
	d, err := view.ResolveHow(dir, root, name, flags&(unix.O_NOFOLLOW|unix.O_EXCL) == 0, how)
	if err == nil {
		if flags&unix.O_EXCL != 0 {
			return nil, nil, unix.EEXIST
		}
		return d, nil, nil
	}
	if err != unix.ENOENT {
		return nil, nil, err
	}
	if dir.Mount().ReadOnly {
		return nil, nil, unix.EROFS
	}
	c, ok := dir.Node().(fs.Creator)
	if !ok {
		return nil, nil, unix.EACCES
	}
	mode = umasked(t, mode)
	_, impl, err := c.Create(name, flags&^(unix.O_CREAT|unix.O_EXCL|unix.O_NOCTTY|unix.O_CLOEXEC), mode)
	if err != nil {
		return nil, nil, err
	}
	dir.Invalidate(name)
	ownCreated(t, dir, name)
	notifyCreated(t, dir, name, false)
	d, err = view.Resolve(dir, root, name, false)
	if err != nil {
		impl.Release()
		return nil, nil, err
	}
	return d, impl, nil
}

// checkOpenAccess applies the permission bits for the sandbox's
// credentials (root may read and write anything; executing needs an x bit).
func checkOpenAccess(t *kernel.Task, st *unix.Stat_t, flags int) error {
	want := 0
	switch flags & unix.O_ACCMODE {
	case unix.O_RDONLY:
		want = 4
	case unix.O_WRONLY:
		want = 2
	case unix.O_RDWR:
		want = 6
	}
	if flags&unix.O_TRUNC != 0 {
		want |= 2
	}
	return permitted(t, st, want)
}

// permitted checks want (r=4, w=2, x=1) against st for the task's
// effective credentials.
func permitted(t *kernel.Task, st *unix.Stat_t, want int) error {
	return permittedAs(t.TG.Creds(), st, want)
}

// searcher is t's search permission for path walks: nil (no check) for
// a caller with CAP_DAC_OVERRIDE or CAP_DAC_READ_SEARCH, which may pass
// any directory, as root does; else x on every directory a name is
// looked up in (EACCES), as Linux's walk. A directory whose attributes
// cannot be read is let through (the lookup then says what is wrong).
func searcher(t *kernel.Task) fs.Searcher {
	c := t.TG.Creds()
	if c.HasCap(kernel.CapDacOverride) || c.HasCap(kernel.CapDacReadSearch) {
		return nil
	}
	return func(d *fs.Dentry) error {
		if !d.IsDir() {
			// A magic link about to be followed: only the caller's
			// own process's are jumped through (fs.Searcher).
			if ownProcessFile(t, d.Node()) {
				return nil
			}
			return unix.EACCES
		}
		st, err := d.Node().Stat()
		if err != nil {
			return nil
		}
		if err := permittedAs(c, &st, 1); err != nil && !ownProcessFile(t, d.Node()) {
			return err
		}
		return nil
	}
}

// ownProcessFile reports whether n is a /proc directory or magic link of
// t's own process that it may use whoever owns it (fs.OwnProcessFile).
func ownProcessFile(t *kernel.Task, n fs.Node) bool {
	o, ok := n.(fs.OwnProcessFile)
	return ok && o.OwnProcess() != 0 && o.OwnProcess() == t.TG.PID
}

// permittedAs is permitted for credentials c.
func permittedAs(c kernel.Creds, st *unix.Stat_t, want int) error {
	var bits uint32
	switch {
	case st.Uid == c.EUID:
		bits = st.Mode >> 6
	case st.Gid == c.EGID || slices.Contains(c.Groups, st.Gid):
		bits = st.Mode >> 3
	default:
		bits = st.Mode
	}
	if int(bits&7)&want == want {
		return nil
	}
	isDir := st.Mode&unix.S_IFMT == unix.S_IFDIR
	// CAP_DAC_OVERRIDE: anything but executing a file no one may
	// execute; CAP_DAC_READ_SEARCH: reading files, reading and searching
	// directories.
	if c.HasCap(kernel.CapDacOverride) && (want&1 == 0 || isDir || st.Mode&0o111 != 0) {
		return nil
	}
	if c.HasCap(kernel.CapDacReadSearch) && want&2 == 0 && (want&1 == 0 || isDir) {
		return nil
	}
	return unix.EACCES
}

func statOut(t *kernel.Task, d *fs.Dentry, f *fs.File, addr uintptr) error {
	var st unix.Stat_t
	var err error
	if d != nil {
		st, err = d.Node().Stat()
	} else {
		st, err = f.Stat()
	}
	if err != nil {
		return err
	}
	_, err = t.MM.CopyOut(addr, statBytes(&st))
	return err
}

func sysStat(t *kernel.Task, a Args) (uintptr, error) {
	path, err := copyPath(t, a[0])
	if err != nil {
		return 0, err
	}
	d, f, err := resolveAt(t, unix.AT_FDCWD, path, 0)
	if err != nil {
		return 0, err
	}
	return 0, statOut(t, d, f, a[1])
}

func sysLstat(t *kernel.Task, a Args) (uintptr, error) {
	path, err := copyPath(t, a[0])
	if err != nil {
		return 0, err
	}
	d, f, err := resolveAt(t, unix.AT_FDCWD, path, unix.AT_SYMLINK_NOFOLLOW)
	if err != nil {
		return 0, err
	}
	return 0, statOut(t, d, f, a[1])
}

// fstatatPath is newfstatat for a path (the fd-only case is in sys_io.go).
func fstatatPath(t *kernel.Task, dirfd int, path string, statAddr uintptr, flags int) (uintptr, error) {
	d, f, err := resolveAt(t, dirfd, path, flags)
	if err != nil {
		return 0, err
	}
	return 0, statOut(t, d, f, statAddr)
}

// atStatxSyncType is AT_STATX_SYNC_TYPE (the two sync bits).
const atStatxSyncType = 0x6000

func sysStatx(t *kernel.Task, a Args) (uintptr, error) {
	dirfd, flags, mask, addr := int(int32(a[0])), int(a[2]), uint32(a[3]), a[4]
	const known = unix.AT_EMPTY_PATH | unix.AT_SYMLINK_NOFOLLOW | unix.AT_NO_AUTOMOUNT | atStatxSyncType
	if flags&^known != 0 || flags&atStatxSyncType == atStatxSyncType || mask&unix.STATX__RESERVED != 0 {
		return 0, unix.EINVAL
	}
	path, err := copyPath(t, a[1])
	if err != nil {
		return 0, err
	}
	var st unix.Stat_t
	if path == "" && flags&unix.AT_EMPTY_PATH != 0 && dirfd != unix.AT_FDCWD {
		f, err := t.File(dirfd)
		if err != nil {
			return 0, err
		}
		if st, err = f.Stat(); err != nil {
			return 0, err
		}
	} else {
		d, f, err := resolveAt(t, dirfd, path, flags)
		if err != nil {
			return 0, err
		}
		if d != nil {
			st, err = d.Node().Stat()
		} else {
			st, err = f.Stat()
		}
		if err != nil {
			return 0, err
		}
	}
	b := make([]byte, 256)
	le := binary.LittleEndian
	le.PutUint32(b[0:], unix.STATX_BASIC_STATS)
	le.PutUint32(b[4:], uint32(st.Blksize))
	le.PutUint32(b[16:], uint32(st.Nlink))
	le.PutUint32(b[20:], st.Uid)
	le.PutUint32(b[24:], st.Gid)
	le.PutUint16(b[28:], uint16(st.Mode))
	le.PutUint64(b[32:], st.Ino)
	le.PutUint64(b[40:], uint64(st.Size))
	le.PutUint64(b[48:], uint64(st.Blocks))
	putTS := func(off int, ts unix.Timespec) {
		le.PutUint64(b[off:], uint64(ts.Sec))
		le.PutUint32(b[off+8:], uint32(ts.Nsec))
	}
	putTS(64, st.Atim)
	putTS(96, st.Ctim)
	putTS(112, st.Mtim)
	le.PutUint32(b[128:], unix.Major(st.Rdev))
	le.PutUint32(b[132:], unix.Minor(st.Rdev))
	le.PutUint32(b[136:], unix.Major(st.Dev))
	le.PutUint32(b[140:], unix.Minor(st.Dev))
	_, err = t.MM.CopyOut(addr, b)
	return 0, err
}

// dtType converts a file mode to a DT_* value.
func dtType(mode uint32) uint8 {
	switch mode & unix.S_IFMT {
	case unix.S_IFDIR:
		return unix.DT_DIR
	case unix.S_IFREG:
		return unix.DT_REG
	case unix.S_IFLNK:
		return unix.DT_LNK
	case unix.S_IFCHR:
		return unix.DT_CHR
	case unix.S_IFBLK:
		return unix.DT_BLK
	case unix.S_IFIFO:
		return unix.DT_FIFO
	case unix.S_IFSOCK:
		return unix.DT_SOCK
	}
	return unix.DT_UNKNOWN
}

func sysGetdents64(t *kernel.Task, a Args) (uintptr, error) { return getdents(t, a, false) }

// sysGetdents is the older getdents(2), whose struct linux_dirent keeps
// the type in the record's last byte (LeakSanitizer's thread lister
// calls it).
func sysGetdents(t *kernel.Task, a Args) (uintptr, error) { return getdents(t, a, true) }

// getdents fills the buffer with directory records: struct
// linux_dirent64, or struct linux_dirent with old.
func getdents(t *kernel.Task, a Args, old bool) (uintptr, error) {
	f, err := t.File(int(int32(a[0])))
	if err != nil {
		return 0, err
	}
	dr, ok := f.Impl.(fs.DirReader)
	if !ok || f.Dentry == nil {
		return 0, unix.ENOTDIR
	}
	size := int(min(a[2], 1<<20))
	buf := make([]byte, 0, size)
	off := f.DirOffset()
	tooSmall := false
	put := func(name string, ino uint64, typ uint8, next int) bool {
		reclen := (19 + len(name) + 1 + 7) &^ 7
		if old {
			reclen = (18 + len(name) + 2 + 7) &^ 7 // name, NUL, type
		}
		if len(buf)+reclen > size {
			tooSmall = len(buf) == 0
			return false
		}
		rec := make([]byte, reclen)
		binary.LittleEndian.PutUint64(rec[0:], ino)
		binary.LittleEndian.PutUint64(rec[8:], uint64(next))
		binary.LittleEndian.PutUint16(rec[16:], uint16(reclen))
		if old {
			copy(rec[18:], name)
			rec[reclen-1] = typ
		} else {
			rec[18] = typ
			copy(rec[19:], name)
		}
		buf = append(buf, rec...)
		return true
	}
	// Offsets 0 and 1 are "." and ".."; entry i of the directory is i+2.
	full := false
	for off < 2 && !full {
		name, d := ".", f.Dentry
		if off == 1 {
			name = ".."
			if p := parentOf(t, f.Dentry); p != nil {
				d = p
			}
		}
		st, err := d.Node().Stat()
		if err != nil {
			return 0, err
		}
		if full = !put(name, st.Ino, unix.DT_DIR, off+1); !full {
			off++
		}
	}
	for !full {
		ents, err := dr.ReadDir(off-2, 64)
		if err != nil {
			return 0, err
		}
		if len(ents) == 0 {
			break
		}
		for _, e := range ents {
			if full = !put(e.Name, e.Ino, e.Type, off+1); full {
				break
			}
			off++
		}
	}
	if tooSmall {
		return 0, unix.EINVAL
	}
	if _, err := t.MM.CopyOut(a[1], buf); err != nil {
		return 0, err
	}
	f.SetDirOffset(off)
	return uintptr(len(buf)), nil
}

// parentOf returns the parent directory of d as the process sees it.
func parentOf(t *kernel.Task, d *fs.Dentry) *fs.Dentry {
	p, err := t.K.VFS.For(searcher(t)).Resolve(d, t.TG.FSRoot(), "..", false)
	if err != nil {
		return nil
	}
	return p
}

func readlinkAt(t *kernel.Task, dirfd int, pathAddr, buf, size uintptr) (uintptr, error) {
	if int(size) <= 0 {
		return 0, unix.EINVAL
	}
	path, err := copyPath(t, pathAddr)
	if err != nil {
		return 0, err
	}
	d, _, err := resolveAt(t, dirfd, path, unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH)
	if err != nil {
		return 0, err
	}
	if d == nil {
		return 0, unix.EINVAL
	}
	target, err := d.Node().Readlink()
	if err != nil {
		return 0, err
	}
	n := min(len(target), int(min(size, fs.PathMax)))
	if _, err := t.MM.CopyOut(buf, []byte(target[:n])); err != nil {
		return 0, err
	}
	return uintptr(n), nil
}

func sysReadlink(t *kernel.Task, a Args) (uintptr, error) {
	return readlinkAt(t, unix.AT_FDCWD, a[0], a[1], a[2])
}

func sysReadlinkat(t *kernel.Task, a Args) (uintptr, error) {
	return readlinkAt(t, int(int32(a[0])), a[1], a[2], a[3])
}

func accessAt(t *kernel.Task, dirfd int, pathAddr uintptr, mode, flags int) (uintptr, error) {
	if mode&^7 != 0 || flags&^(unix.AT_EACCESS|unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH) != 0 {
		return 0, unix.EINVAL
	}
	path, err := copyPath(t, pathAddr)
	if err != nil {
		return 0, err
	}
	d, f, err := resolveAt(t, dirfd, path, flags)
	if err != nil {
		return 0, err
	}
	if mode == unix.F_OK {
		return 0, nil
	}
	var st unix.Stat_t
	if d != nil {
		st, err = d.Node().Stat()
	} else {
		st, err = f.Stat()
	}
	if err != nil {
		return 0, err
	}
	if mode&unix.W_OK != 0 && d != nil && d.Mount().ReadOnly {
		return 0, unix.EROFS
	}
	c := t.TG.Creds()
	if flags&unix.AT_EACCESS == 0 {
		// As the real user and group (what a set-user-ID program asks
		// for its caller), with root's capabilities only for a real
		// root, as Linux's access.
		c.EUID, c.EGID = c.UID, c.GID
		if c.UID == 0 {
			c.Caps.Effective = c.Caps.Permitted
		} else {
			c.Caps.Effective = 0
		}
	}
	return 0, permittedAs(c, &st, mode)
}

func sysAccess(t *kernel.Task, a Args) (uintptr, error) {
	return accessAt(t, unix.AT_FDCWD, a[0], int(a[1]), 0)
}

func sysFaccessat(t *kernel.Task, a Args) (uintptr, error) {
	return accessAt(t, int(int32(a[0])), a[1], int(a[2]), 0)
}

func sysFaccessat2(t *kernel.Task, a Args) (uintptr, error) {
	return accessAt(t, int(int32(a[0])), a[1], int(a[2]), int(a[3]))
}

func sysGetcwd(t *kernel.Task, a Args) (uintptr, error) {
	if t.K.VFS == nil {
		return 0, unix.ENOENT
	}
	path := t.TG.Cwd().Path(t.TG.FSRoot())
	b := append([]byte(path), 0)
	if uintptr(len(b)) > a[1] {
		return 0, unix.ERANGE
	}
	if _, err := t.MM.CopyOut(a[0], b); err != nil {
		return 0, err
	}
	return uintptr(len(b)), nil
}

// searchableDir checks that d is a directory the caller may search:
// ENOTDIR for nil (a file with no dentry, such as a pipe named by a
// /proc/PID/fd link) or another file, EACCES without the x bit.
func searchableDir(t *kernel.Task, d *fs.Dentry) error {
	if d == nil {
		return unix.ENOTDIR
	}
	st, err := d.Node().Stat()
	if err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return unix.ENOTDIR
	}
	return permitted(t, &st, 1)
}

// chdirTo makes d the cwd.
func chdirTo(t *kernel.Task, d *fs.Dentry) error {
	if err := searchableDir(t, d); err != nil {
		return err
	}
	t.TG.SetCwd(d)
	return nil
}

// pathDentry resolves the path at addr, symlinks followed.
func pathDentry(t *kernel.Task, addr uintptr) (*fs.Dentry, error) {
	path, err := copyPath(t, addr)
	if err != nil {
		return nil, err
	}
	d, _, err := resolveAt(t, unix.AT_FDCWD, path, 0)
	return d, err
}

func sysChdir(t *kernel.Task, a Args) (uintptr, error) {
	d, err := pathDentry(t, a[0])
	if err != nil {
		return 0, err
	}
	return 0, chdirTo(t, d)
}

// sysChroot is chroot(2): the process's root becomes the directory (a
// directory it may search; CAP_SYS_CHROOT, else EPERM). Paths resolve
// under it from then on; like Linux, the working directory stays where
// it is. The whole tree is the sandbox's, so this only narrows a process
// within the sandbox.
func sysChroot(t *kernel.Task, a Args) (uintptr, error) {
	d, err := pathDentry(t, a[0])
	if err != nil {
		return 0, err
	}
	if err := searchableDir(t, d); err != nil {
		return 0, err
	}
	if c := t.TG.Creds(); !c.HasCap(kernel.CapSysChroot) {
		return 0, unix.EPERM
	}
	t.TG.SetFSRoot(d)
	return 0, nil
}

func sysFchdir(t *kernel.Task, a Args) (uintptr, error) {
	f, err := t.File(int(int32(a[0])))
	if err != nil {
		return 0, err
	}
	if f.Dentry == nil {
		return 0, unix.ENOTDIR
	}
	return 0, chdirTo(t, f.Dentry)
}

// statfsOut writes a struct statfs describing a mount.
func statfsOut(t *kernel.Task, m *fs.Mount, addr uintptr) error {
	b := make([]byte, 120)
	le := binary.LittleEndian
	le.PutUint64(b[0:], 0x01021994) // TMPFS_MAGIC-like: an in-sandbox file system
	ro := true
	if m != nil {
		ro = m.ReadOnly
		if st, ok := m.FS.(fs.StatfsTyper); ok && st.StatfsType() != 0 {
			le.PutUint64(b[0:], uint64(st.StatfsType()))
		}
	}
	le.PutUint64(b[8:], 4096)   // f_bsize
	le.PutUint64(b[16:], 1<<20) // f_blocks
	le.PutUint64(b[24:], 1<<19) // f_bfree
	le.PutUint64(b[32:], 1<<19) // f_bavail
	le.PutUint64(b[40:], 1<<20) // f_files
	le.PutUint64(b[48:], 1<<19) // f_ffree
	le.PutUint64(b[64:], 255)   // f_namelen
	le.PutUint64(b[72:], 4096)  // f_frsize
	if ro {
		le.PutUint64(b[80:], 1) // ST_RDONLY
	}
	_, err := t.MM.CopyOut(addr, b)
	return err
}

func sysStatfs(t *kernel.Task, a Args) (uintptr, error) {
	path, err := copyPath(t, a[0])
	if err != nil {
		return 0, err
	}
	d, _, err := resolveAt(t, unix.AT_FDCWD, path, 0)
	if err != nil {
		return 0, err
	}
	// A pipe or socket named by a /proc/PID/fd link has no dentry: it
	// reports as fstatfs of it does.
	var m *fs.Mount
	if d != nil {
		m = d.Mount()
	}
	return 0, statfsOut(t, m, a[1])
}

func sysFstatfs(t *kernel.Task, a Args) (uintptr, error) {
	f, err := t.File(int(int32(a[0])))
	if err != nil {
		return 0, err
	}
	var m *fs.Mount
	if f.Dentry != nil {
		m = f.Dentry.Mount()
	}
	return 0, statfsOut(t, m, a[1])
}
