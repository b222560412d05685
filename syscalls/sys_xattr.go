package syscalls

import (
	"strings"

	"golang.org/x/sys/unix"

	"ringbox/fs"
	"ringbox/guestkernel/kernel"
)

// Extended attributes. The sandbox's filesystems store none and support
// none, like a Linux filesystem built without xattr support: after the
// file, the name and the sizes are checked as Linux checks them, reads
// and changes are EOPNOTSUPP (ENOTSUP: what programs that copy
// attributes, such as Python's shutil and coreutils' cp, take for "this
// filesystem has none") and a listing is empty.

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

// xattrFile resolves the file a call names and reports whether it is on
// a read-only mount.
func xattrFile(t *kernel.Task, target xattrTarget, arg uintptr) (readOnly bool, err error) {
	if target == xattrFD {
		f, err := t.File(int(int32(arg)))
		if err != nil {
			return false, err
		}
		if _, ok := f.Impl.(fs.PathImpl); ok {
			return false, unix.EBADF
		}
		return f.Dentry != nil && f.Dentry.Mount().ReadOnly, nil
	}
	path, err := copyPath(t, arg)
	if err != nil {
		return false, err
	}
	flags := 0
	if target == xattrLinkPath {
		flags = unix.AT_SYMLINK_NOFOLLOW
	}
	d, f, err := resolveAt(t, unix.AT_FDCWD, path, flags)
	if err != nil {
		return false, err
	}
	if d == nil && f != nil {
		return false, nil
	}
	return d.Mount().ReadOnly, nil
}

// xattrName copies in and checks an attribute name: ERANGE when empty or
// longer than 255 bytes, EOPNOTSUPP outside the namespaces Linux knows.
func xattrName(t *kernel.Task, addr uintptr) error {
	name, err := t.MM.CopyInString(addr, xattrNameMax+1)
	if err != nil {
		if err == unix.EFAULT {
			return err
		}
		return unix.ERANGE
	}
	if name == "" || len(name) > xattrNameMax {
		return unix.ERANGE
	}
	for _, ns := range []string{"user.", "trusted.", "security.", "system."} {
		if strings.HasPrefix(name, ns) {
			return nil
		}
	}
	return unix.EOPNOTSUPP
}

func getxattr(t *kernel.Task, target xattrTarget, a Args) (uintptr, error) {
	if _, err := xattrFile(t, target, a[0]); err != nil {
		return 0, err
	}
	if err := xattrName(t, a[1]); err != nil {
		return 0, err
	}
	return 0, unix.EOPNOTSUPP
}

func setxattr(t *kernel.Task, target xattrTarget, a Args) (uintptr, error) {
	if a[4]&^uintptr(unix.XATTR_CREATE|unix.XATTR_REPLACE) != 0 {
		return 0, unix.EINVAL
	}
	if err := xattrName(t, a[1]); err != nil {
		return 0, err
	}
	if a[3] > xattrSizeMax {
		return 0, unix.E2BIG
	}
	if a[3] > 0 {
		value := make([]byte, a[3])
		if _, err := t.MM.CopyIn(a[2], value); err != nil {
			return 0, unix.EFAULT
		}
	}
	return xattrChange(t, target, a[0])
}

// xattrChange ends setxattr and removexattr once their arguments are
// checked: the file's errors, EROFS on a read-only mount, else EOPNOTSUPP.
func xattrChange(t *kernel.Task, target xattrTarget, arg uintptr) (uintptr, error) {
	readOnly, err := xattrFile(t, target, arg)
	if err != nil {
		return 0, err
	}
	if readOnly {
		return 0, unix.EROFS
	}
	return 0, unix.EOPNOTSUPP
}

func listxattr(t *kernel.Task, target xattrTarget, a Args) (uintptr, error) {
	if _, err := xattrFile(t, target, a[0]); err != nil {
		return 0, err
	}
	return 0, nil // no attributes
}

func removexattr(t *kernel.Task, target xattrTarget, a Args) (uintptr, error) {
	if err := xattrName(t, a[1]); err != nil {
		return 0, err
	}
	return xattrChange(t, target, a[0])
}
