package hostfs

import (
	"strings"

	"golang.org/x/sys/unix"

	"ringbox/fs"
	"ringbox/guestkernel/hostcall"
)

// Extended attributes of host files. The user.* namespace is the host
// file's own: read through, and written through in a read-write tree, so
// that programs keeping state in attributes, and copies that keep them
// (cp -a, rsync -X, tar --xattrs), work in a bind-mounted working
// directory. The host's other namespaces (security labels, POSIX ACLs,
// trusted.*) stay out of the sandbox: a read is ENODATA, a listing skips
// them, a change is EOPNOTSUPP. The f*xattr calls refuse O_PATH
// descriptors, so each call opens the file for reading (readableFD:
// regular files and directories, the only types user.* attributes go on)
// and checks it is the node's file.

var _ fs.Xattrs = (*node)(nil)

// userXattr reports whether name is in the namespace host files show.
func userXattr(name string) bool { return strings.HasPrefix(name, "user.") }

// xattrMax bounds a value or a listing read from the host: Linux's
// XATTR_SIZE_MAX and XATTR_LIST_MAX.
const xattrMax = 1 << 16

// withReadable runs fn with a readable descriptor of n's host file.
func (n *node) withReadable(fn func(hfd int) error) error {
	if n.isSpecial() {
		return unix.EOPNOTSUPP
	}
	return n.withStat(func(fd int, st *unix.Stat_t) error {
		hfd, err := n.readableFD(fd, st)
		if err != nil {
			return err
		}
		defer hostcall.Close(hfd)
		return fn(hfd)
	})
}

// readSized reads what a size-reporting call returns: asked for its size
// first, then read into a buffer that size; ERANGE (it grew meanwhile)
// asks again, a few times.
func readSized(call func(buf []byte) (int, error)) ([]byte, error) {
	for range 4 {
		size, err := call(nil)
		if err != nil {
			return nil, errno(err)
		}
		if size > xattrMax {
			return nil, unix.E2BIG
		}
		buf := make([]byte, size)
		got, err := call(buf)
		if err == unix.ERANGE {
			continue
		}
		if err != nil {
			return nil, errno(err)
		}
		return buf[:got], nil
	}
	return nil, unix.ERANGE
}

// GetXattr implements fs.Xattrs.
func (n *node) GetXattr(name string) ([]byte, error) {
	if !userXattr(name) {
		return nil, unix.ENODATA
	}
	var v []byte
	err := n.withReadable(func(hfd int) error {
		var err error
		v, err = readSized(func(buf []byte) (int, error) { return hostcall.Fgetxattr(hfd, name, buf) })
		return err
	})
	return v, err
}

// ListXattr implements fs.Xattrs: the host file's user.* names.
func (n *node) ListXattr() ([]string, error) {
	var list []byte
	err := n.withReadable(func(hfd int) error {
		var err error
		list, err = readSized(func(buf []byte) (int, error) { return hostcall.Flistxattr(hfd, buf) })
		return err
	})
	if err != nil {
		return nil, err
	}
	var names []string
	for _, name := range strings.Split(string(list), "\x00") {
		if userXattr(name) {
			names = append(names, name)
		}
	}
	return names, nil
}

// SetXattr implements fs.Xattrs.
func (n *node) SetXattr(name string, value []byte, flags int) error {
	if n.fs.readOnly {
		return unix.EROFS
	}
	if !userXattr(name) {
		return unix.EOPNOTSUPP
	}
	return n.withReadable(func(hfd int) error { return errno(hostcall.Fsetxattr(hfd, name, value, flags)) })
}

// RemoveXattr implements fs.Xattrs.
func (n *node) RemoveXattr(name string) error {
	if n.fs.readOnly {
		return unix.EROFS
	}
	if !userXattr(name) {
		return unix.EOPNOTSUPP
	}
	return n.withReadable(func(hfd int) error { return errno(hostcall.Fremovexattr(hfd, name)) })
}
