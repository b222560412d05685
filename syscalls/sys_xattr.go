package syscalls

import (
	"strings"

	"golang.org/x/sys/unix"

	"ringbox/fs"
	"ringbox/guestkernel/kernel"
)

// Extended attributes. The sandbox's own files keep them (fs.Xattrs:
// tmpfs, and the root overlay, where setting one copies the file up);
// a host bind mount shows its files' user.* attributes and a read-write
// one writes them through (the root's lower layer shows none of the
// host's), and other filesystems (/proc, /dev, pipes) have none, like
// a Linux filesystem built without xattr support: reads and changes
// EOPNOTSUPP (ENOTSUP: what programs that copy attributes, such as
// Python's shutil and coreutils' cp, take for "this filesystem has none")
// and an empty listing. Names and sizes are checked as Linux checks them,
// and so are the namespaces' rules: user.* on regular files and
// directories with read (get) or write (set) permission, trusted.* for
// CAP_SYS_ADMIN only (hidden from others' listings), security.* set by
// CAP_SYS_ADMIN (security.capability by CAP_SETFCAP), system.* (POSIX
// ACLs) not offered.

// xattrTarget says how a call names its file.
type xattrTarget int

const (
	xattrPath     xattrTarget = iota // getxattr: a path, symlinks followed
	xattrLinkPath                    // lgetxattr: a path, the link itself
	xattrFD                          // fgetxattr: a descriptor
)

// Linux's limits (linux/limits.h).
const (
	xattrNameMax = 255
	xattrSizeMax = 1 << 16
	xattrListMax = 1 << 16
)

// capSetFCap is CAP_SETFCAP.
const capSetFCap = 31

func init() {
	calls := []struct {
		get, set, list, remove uintptr
		target                 xattrTarget
	}{
		{unix.SYS_GETXATTR, unix.SYS_SETXATTR, unix.SYS_LISTXATTR, unix.SYS_REMOVEXATTR, xattrPath},
		{unix.SYS_LGETXATTR, unix.SYS_LSETXATTR, unix.SYS_LLISTXATTR, unix.SYS_LREMOVEXATTR, xattrLinkPath},
		{unix.SYS_FGETXATTR, unix.SYS_FSETXATTR, unix.SYS_FLISTXATTR, unix.SYS_FREMOVEXATTR, xattrFD},
	}
	for _, c := range calls {
		target := c.target
		register(c.get, func(t *kernel.Task, a Args) (uintptr, error) { return getxattr(t, target, a) })
		register(c.set, func(t *kernel.Task, a Args) (uintptr, error) { return setxattr(t, target, a) })
		register(c.list, func(t *kernel.Task, a Args) (uintptr, error) { return listxattr(t, target, a) })
		register(c.remove, func(t *kernel.Task, a Args) (uintptr, error) { return removexattr(t, target, a) })
	}
}

// xattrFile is the file a call names.
type xattrFile struct {
	d        *fs.Dentry // nil for a file without one (a pipe, a socket)
	f        *fs.File   // the open file, for a descriptor
	readOnly bool       // on a read-only mount
}

// node returns the file's node, nil for none.
func (x xattrFile) node() fs.Node {
	if x.d == nil {
		return nil
	}
	return x.d.Node()
}

// stat returns the file's attributes.
func (x xattrFile) stat() (unix.Stat_t, error) {
	if x.d != nil {
		return x.d.Node().Stat()
	}
	return x.f.Stat()
}

// store returns the node's attributes, or EOPNOTSUPP where it keeps none.
func (x xattrFile) store() (fs.Xattrs, error) {
	if s, ok := x.node().(fs.Xattrs); ok {
		return s, nil
	}
	return nil, unix.EOPNOTSUPP
}

// changed raises IN_ATTRIB, as Linux does for a set or remove.
func (x xattrFile) changed(t *kernel.Task) {
	if x.f != nil {
		notifyOpenFile(t, x.f, unix.IN_ATTRIB)
	} else if x.d != nil {
		notifyFile(t, x.d, unix.IN_ATTRIB)
	}
}

// resolveXattrFile resolves the file a call names.
func resolveXattrFile(t *kernel.Task, target xattrTarget, arg uintptr) (xattrFile, error) {
	if target == xattrFD {
		f, err := t.File(int(int32(arg)))
		if err != nil {
			return xattrFile{}, err
		}
		if _, ok := f.Impl.(fs.PathImpl); ok {
			return xattrFile{}, unix.EBADF
		}
		return xattrFile{d: f.Dentry, f: f, readOnly: f.Dentry != nil && f.Dentry.Mount().ReadOnly}, nil
	}
	path, err := copyPath(t, arg)
	if err != nil {
		return xattrFile{}, err
	}
	flags := 0
	if target == xattrLinkPath {
		flags = unix.AT_SYMLINK_NOFOLLOW
	}
	d, f, err := resolveAt(t, unix.AT_FDCWD, path, flags)
	if err != nil {
		return xattrFile{}, err
	}
	if d == nil && f != nil {
		return xattrFile{f: f}, nil
	}
	return xattrFile{d: d, readOnly: d.Mount().ReadOnly}, nil
}

// xattrName copies in and checks an attribute name: ERANGE when empty or
// longer than 255 bytes, EOPNOTSUPP outside the namespaces Linux knows.
func xattrName(t *kernel.Task, addr uintptr) (string, error) {
	name, err := t.MM.CopyInString(addr, xattrNameMax+1)
	if err != nil {
		if err == unix.EFAULT {
			return "", err
		}
		return "", unix.ERANGE
	}
	if name == "" || len(name) > xattrNameMax {
		return "", unix.ERANGE
	}
	for _, ns := range []string{"user.", "trusted.", "security.", "system."} {
		if strings.HasPrefix(name, ns) {
			return name, nil
		}
	}
	return "", unix.EOPNOTSUPP
}

// xattrPermitted is Linux's xattr_permission and the capability checks
// of a set, for the task on node x: write for a set or remove.
func xattrPermitted(t *kernel.Task, x xattrFile, name string, write bool) error {
	c := t.TG.Creds()
	switch {
	case strings.HasPrefix(name, "system."):
		return unix.EOPNOTSUPP // no POSIX ACLs here
	case strings.HasPrefix(name, "trusted."):
		if !c.HasCap(kernel.CapSysAdmin) {
			if write {
				return unix.EPERM
			}
			return unix.ENODATA
		}
		return nil
	case strings.HasPrefix(name, "security."):
		if !write {
			return nil
		}
		need := kernel.CapSysAdmin
		if name == "security.capability" {
			need = capSetFCap
		}
		if !c.HasCap(need) {
			return unix.EPERM
		}
		return nil
	}
	// user.*
	st, err := x.stat()
	if err != nil {
		return err
	}
	typ := st.Mode & unix.S_IFMT
	if typ != unix.S_IFREG && typ != unix.S_IFDIR {
		if write {
			return unix.EPERM
		}
		return unix.ENODATA
	}
	if typ == unix.S_IFDIR && st.Mode&unix.S_ISVTX != 0 && write && c.EUID != st.Uid && !c.HasCap(kernel.CapFowner) {
		return unix.EPERM
	}
	want := 4
	if write {
		want = 2
	}
	return permitted(t, &st, want)
}

func getxattr(t *kernel.Task, target xattrTarget, a Args) (uintptr, error) {
	x, err := resolveXattrFile(t, target, a[0])
	if err != nil {
		return 0, err
	}
	name, err := xattrName(t, a[1])
	if err != nil {
		return 0, err
	}
	if err := xattrPermitted(t, x, name, false); err != nil {
		return 0, err
	}
	s, err := x.store()
	if err != nil {
		return 0, err
	}
	v, err := s.GetXattr(name)
	if err != nil {
		return 0, err
	}
	if size := a[3]; size != 0 {
		if uintptr(len(v)) > size {
			return 0, unix.ERANGE
		}
		if _, err := t.MM.CopyOut(a[2], v); err != nil {
			return 0, err
		}
	}
	return uintptr(len(v)), nil
}

func setxattr(t *kernel.Task, target xattrTarget, a Args) (uintptr, error) {
	flags := a[4]
	if flags&^uintptr(unix.XATTR_CREATE|unix.XATTR_REPLACE) != 0 {
		return 0, unix.EINVAL
	}
	name, err := xattrName(t, a[1])
	if err != nil {
		return 0, err
	}
	if a[3] > xattrSizeMax {
		return 0, unix.E2BIG
	}
	value := make([]byte, a[3])
	if len(value) > 0 {
		if _, err := t.MM.CopyIn(a[2], value); err != nil {
			return 0, unix.EFAULT
		}
	}
	x, s, err := xattrChange(t, target, a[0], name)
	if err != nil {
		return 0, err
	}
	if err := s.SetXattr(name, value, int(flags)); err != nil {
		return 0, err
	}
	x.changed(t)
	return 0, nil
}

// xattrChange finds the attributes a set or remove changes, once its
// arguments are checked: the file's errors, EROFS on a read-only mount,
// the permissions, then EOPNOTSUPP where the file keeps none.
func xattrChange(t *kernel.Task, target xattrTarget, arg uintptr, name string) (xattrFile, fs.Xattrs, error) {
	x, err := resolveXattrFile(t, target, arg)
	if err != nil {
		return x, nil, err
	}
	if x.readOnly {
		return x, nil, unix.EROFS
	}
	if err := xattrPermitted(t, x, name, true); err != nil {
		return x, nil, err
	}
	s, err := x.store()
	return x, s, err
}

func listxattr(t *kernel.Task, target xattrTarget, a Args) (uintptr, error) {
	x, err := resolveXattrFile(t, target, a[0])
	if err != nil {
		return 0, err
	}
	s, err := x.store()
	if err != nil {
		return 0, nil // no attributes
	}
	names, err := s.ListXattr()
	if err != nil {
		return 0, err
	}
	c := t.TG.Creds()
	admin := c.HasCap(kernel.CapSysAdmin)
	var list []byte
	for _, n := range names {
		if strings.HasPrefix(n, "trusted.") && !admin {
			continue
		}
		list = append(append(list, n...), 0)
	}
	size := a[2]
	switch {
	case size == 0:
		return uintptr(len(list)), nil
	case uintptr(len(list)) > size:
		if size >= xattrListMax {
			return 0, unix.E2BIG
		}
		return 0, unix.ERANGE
	}
	if _, err := t.MM.CopyOut(a[1], list); err != nil {
		return 0, err
	}
	return uintptr(len(list)), nil
}

func removexattr(t *kernel.Task, target xattrTarget, a Args) (uintptr, error) {
	name, err := xattrName(t, a[1])
	if err != nil {
		return 0, err
	}
	x, s, err := xattrChange(t, target, a[0], name)
	if err != nil {
		return 0, err
	}
	if err := s.RemoveXattr(name); err != nil {
		return 0, err
	}
	x.changed(t)
	return 0, nil
}
