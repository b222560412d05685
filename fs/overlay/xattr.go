package overlay

import (
	"golang.org/x/sys/unix"

	"ringbox/fs"
)

// Extended attributes live in the upper layer (fs.Xattrs): a file not
// copied up has none (the lower layer's, the host's, are not shown), and
// setting one copies the file up, as any other change does.

var _ fs.Xattrs = (*node)(nil)

// upperXattrs returns the upper file's attributes, or nil for a file not
// copied up. fs.mu is held.
func (n *node) upperXattrsLocked() (fs.Xattrs, error) {
	if n.upper == nil {
		return nil, nil
	}
	x, ok := n.upper.(fs.Xattrs)
	if !ok {
		return nil, unix.EOPNOTSUPP
	}
	return x, nil
}

// GetXattr implements fs.Xattrs.
func (n *node) GetXattr(name string) ([]byte, error) {
	n.fs.mu.Lock()
	x, err := n.upperXattrsLocked()
	n.fs.mu.Unlock()
	if x == nil {
		if err == nil {
			err = unix.ENODATA
		}
		return nil, err
	}
	return x.GetXattr(name)
}

// ListXattr implements fs.Xattrs.
func (n *node) ListXattr() ([]string, error) {
	n.fs.mu.Lock()
	x, err := n.upperXattrsLocked()
	n.fs.mu.Unlock()
	if x == nil {
		return nil, err
	}
	return x.ListXattr()
}

// SetXattr implements fs.Xattrs: the file is copied up.
func (n *node) SetXattr(name string, value []byte, flags int) error {
	f := n.fs
	f.mu.Lock()
	defer f.mu.Unlock()
	if n.upper == nil && flags&unix.XATTR_REPLACE != 0 {
		return unix.ENODATA // nothing to replace: no copy
	}
	if err := f.copyUpLocked(n, -1); err != nil {
		return err
	}
	x, err := n.upperXattrsLocked()
	if err != nil {
		return err
	}
	return x.SetXattr(name, value, flags)
}

// RemoveXattr implements fs.Xattrs.
func (n *node) RemoveXattr(name string) error {
	n.fs.mu.Lock()
	defer n.fs.mu.Unlock()
	x, err := n.upperXattrsLocked()
	if x == nil {
		if err == nil {
			err = unix.ENODATA
		}
		return err
	}
	return x.RemoveXattr(name)
}
