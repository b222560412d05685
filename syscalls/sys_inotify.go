package syscalls

import (
	"golang.org/x/sys/unix"

	"ringbox/fs"
	"ringbox/fs/inotify"
	"ringbox/guestkernel/kernel"
)

func init() {
	register(unix.SYS_INOTIFY_INIT, func(t *kernel.Task, a Args) (uintptr, error) {
		return inotifyInit(t, 0)
	})
	register(unix.SYS_INOTIFY_INIT1, func(t *kernel.Task, a Args) (uintptr, error) {
		return inotifyInit(t, int(int32(a[0])))
	})
	register(unix.SYS_INOTIFY_ADD_WATCH, sysInotifyAddWatch)
	register(unix.SYS_INOTIFY_RM_WATCH, sysInotifyRmWatch)
}

func inotifyInit(t *kernel.Task, flags int) (uintptr, error) {
	if flags&^(unix.IN_NONBLOCK|unix.IN_CLOEXEC) != 0 {
		return 0, unix.EINVAL
	}
	in, err := inotify.NewInstance(t.K.Notify)
	if err != nil {
		return 0, err
	}
	f := fs.NewFile(in, unix.O_RDONLY|flags&unix.O_NONBLOCK)
	fd, err := t.TG.FDs.Install(f, 0, flags&unix.IN_CLOEXEC != 0)
	if err != nil {
		f.DecRef()
		return 0, err
	}
	return uintptr(fd), nil
}

// inotifyFile returns the inotify instance open at fd: EBADF for no file,
// EINVAL for another kind.
func inotifyFile(t *kernel.Task, fd int) (*inotify.Instance, error) {
	f, err := t.File(fd)
	if err != nil {
		return nil, err
	}
	in, ok := f.Impl.(*inotify.Instance)
	if !ok {
		return nil, unix.EINVAL
	}
	return in, nil
}

func sysInotifyAddWatch(t *kernel.Task, a Args) (uintptr, error) {
	mask := uint32(a[2])
	if mask&unix.IN_MASK_ADD != 0 && mask&unix.IN_MASK_CREATE != 0 {
		return 0, unix.EINVAL
	}
	if mask&inotify.AllEvents == 0 {
		return 0, unix.EINVAL
	}
	in, err := inotifyFile(t, int(int32(a[0])))
	if err != nil {
		return 0, err
	}
	path, err := copyPath(t, a[1])
	if err != nil {
		return 0, err
	}
	rf := 0
	if mask&unix.IN_DONT_FOLLOW != 0 {
		rf = unix.AT_SYMLINK_NOFOLLOW
	}
	d, _, err := resolveAt(t, unix.AT_FDCWD, path, rf)
	if err != nil {
		return 0, err
	}
	if d == nil {
		return 0, unix.ENOENT
	}
	st, err := d.Node().Stat()
	if err != nil {
		return 0, err
	}
	if mask&unix.IN_ONLYDIR != 0 && st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return 0, unix.ENOTDIR
	}
	if err := permitted(t, &st, 4); err != nil {
		return 0, err
	}
	wd, err := in.AddWatch(inotify.Key{Dev: uint64(st.Dev), Ino: st.Ino}, mask)
	return uintptr(wd), err
}

func sysInotifyRmWatch(t *kernel.Task, a Args) (uintptr, error) {
	in, err := inotifyFile(t, int(int32(a[0])))
	if err != nil {
		return 0, err
	}
	return 0, in.RmWatch(int32(a[1]))
}

// afterIO wraps h, a call on the descriptor in argument arg that moves
// data: once it moved some, mask is raised for the file. Wrapped twice,
// the inner wrapper's event comes first.
func afterIO(arg int, mask uint32, h Handler) Handler {
	return func(t *kernel.Task, a Args) (uintptr, error) {
		r, err := h(t, a)
		if err == nil && r > 0 {
			notifyFD(t, int(int32(a[arg])), mask)
		}
		return r, err
	}
}

// afterOK wraps h, a call on the descriptor in argument arg: once it
// succeeded, mask is raised for the file.
func afterOK(arg int, mask uint32, h Handler) Handler {
	return func(t *kernel.Task, a Args) (uintptr, error) {
		r, err := h(t, a)
		if err == nil {
			notifyFD(t, int(int32(a[arg])), mask)
		}
		return r, err
	}
}

// notifyFD raises mask for the file open at fd.
func notifyFD(t *kernel.Task, fd int, mask uint32) {
	if !t.K.Notify.Active() {
		return
	}
	if f, err := t.File(fd); err == nil {
		notifyOpenFile(t, f, mask)
	}
}

// The events the program's file operations raise. Each helper costs one
// atomic load while the sandbox has no watch.

// notifyFile raises mask (IN_ACCESS, IN_MODIFY, IN_ATTRIB, IN_OPEN, ...)
// for the file at d.
func notifyFile(t *kernel.Task, d *fs.Dentry, mask uint32) { t.K.Notify.FileEvent(d, mask) }

// notifyOpenFile raises mask for the file f was opened from.
func notifyOpenFile(t *kernel.Task, f *fs.File, mask uint32) { t.K.Notify.OpenFileEvent(f, mask) }

// notifyEntry raises mask (IN_CREATE, IN_DELETE, IN_MOVED_FROM,
// IN_MOVED_TO) for the entry name of dir; isDir adds IN_ISDIR.
func notifyEntry(t *kernel.Task, dir *fs.Dentry, name string, mask, cookie uint32, isDir bool) {
	h := t.K.Notify
	if !h.Active() {
		return
	}
	k, _, err := inotify.KeyOf(dir.Node())
	if err != nil {
		return
	}
	if isDir {
		mask |= unix.IN_ISDIR
	}
	h.Event(k, mask, cookie, name)
}

// victim is a file about to lose a name (unlink, rmdir, rename over it):
// what its watches must hear afterwards.
type victim struct {
	ok    bool
	key   inotify.Key
	isDir bool
	last  bool // its last name: IN_DELETE_SELF
}

// aboutToGo records n before it loses a name (nothing while no watch
// exists).
func aboutToGo(t *kernel.Task, n fs.Node) victim {
	if !t.K.Notify.Active() {
		return victim{}
	}
	st, err := n.Stat()
	if err != nil {
		return victim{}
	}
	isDir := st.Mode&unix.S_IFMT == unix.S_IFDIR
	return victim{ok: true, key: inotify.Key{Dev: uint64(st.Dev), Ino: st.Ino}, isDir: isDir, last: isDir || st.Nlink <= 1}
}

// linkDropped raises what the file hears when it lost a name: with
// attrib, IN_ATTRIB (its link count changed) unless it is a directory
// (rmdir raises none), then IN_DELETE_SELF and IN_IGNORED if that was its
// last. IN_DELETE_SELF has no IN_ISDIR: Linux's inotify masks it out.
func (v victim) linkDropped(t *kernel.Task, attrib bool) {
	if !v.ok {
		return
	}
	h := t.K.Notify
	if attrib && !v.isDir {
		h.Event(v.key, unix.IN_ATTRIB, 0, "")
	}
	if v.last {
		h.Event(v.key, unix.IN_DELETE_SELF, 0, "")
		h.Gone(v.key)
	}
}

// notifyCreated raises IN_CREATE for name, just made in dir.
func notifyCreated(t *kernel.Task, dir *fs.Dentry, name string, isDir bool) {
	notifyEntry(t, dir, name, unix.IN_CREATE, 0, isDir)
}

// notifyRenamed raises what a rename of oname in odir to nname in ndir
// tells the watches: IN_MOVED_FROM and IN_MOVED_TO with one cookie,
// IN_ATTRIB for a file it replaced (with IN_ISDIR for a directory, as
// Linux 6.x raises it), IN_MOVE_SELF for the file moved (no IN_ISDIR, as
// Linux's inotify), and the replaced file's IN_DELETE_SELF.
func notifyRenamed(t *kernel.Task, odir *fs.Dentry, oname string, ndir *fs.Dentry, nname string, moved, replaced victim) {
	h := t.K.Notify
	if !moved.ok || !h.Active() {
		return
	}
	cookie := h.Cookie()
	notifyEntry(t, odir, oname, unix.IN_MOVED_FROM, cookie, moved.isDir)
	notifyEntry(t, ndir, nname, unix.IN_MOVED_TO, cookie, moved.isDir)
	if replaced.ok {
		mask := uint32(unix.IN_ATTRIB)
		if replaced.isDir {
			mask |= unix.IN_ISDIR
		}
		h.Event(replaced.key, mask, 0, "")
	}
	h.Event(moved.key, unix.IN_MOVE_SELF, 0, "")
	replaced.linkDropped(t, false)
}
