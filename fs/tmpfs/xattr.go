package tmpfs

import (
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"ringbox/fs"
)

// XattrMax bounds the extended attributes of one node: the bytes of all
// their names and values together (Linux's own bound on a listing, and on
// one value, is 64 KiB). They are charged to the filesystem's size in
// whole pages, as a long symlink's target is.
const XattrMax = 64 << 10

var _ fs.Xattrs = (*inode)(nil)

// xattrPages is the pages that xattr bytes are charged.
func xattrPages(bytes int) int64 { return int64((bytes + PageSize - 1) / PageSize) }

// xattrBytesLocked is what n's attributes take.
func (n *inode) xattrBytesLocked() int {
	total := 0
	for k, v := range n.xattrs {
		total += len(k) + len(v)
	}
	return total
}

// GetXattr implements fs.Xattrs.
func (n *inode) GetXattr(name string) ([]byte, error) {
	n.fs.mu.Lock()
	defer n.fs.mu.Unlock()
	v, ok := n.xattrs[name]
	if !ok {
		return nil, unix.ENODATA
	}
	return slices.Clone(v), nil
}

// ListXattr implements fs.Xattrs: the names in sorted order.
func (n *inode) ListXattr() ([]string, error) {
	n.fs.mu.Lock()
	defer n.fs.mu.Unlock()
	names := make([]string, 0, len(n.xattrs))
	for k := range n.xattrs {
		names = append(names, k)
	}
	slices.Sort(names)
	return names, nil
}

// SetXattr implements fs.Xattrs.
func (n *inode) SetXattr(name string, value []byte, flags int) error {
	n.fs.mu.Lock()
	defer n.fs.mu.Unlock()
	old, exists := n.xattrs[name]
	switch {
	case flags&unix.XATTR_CREATE != 0 && exists:
		return unix.EEXIST
	case flags&unix.XATTR_REPLACE != 0 && !exists:
		return unix.ENODATA
	}
	before := n.xattrBytesLocked()
	after := before + len(value)
	if exists {
		after -= len(old)
	} else {
		after += len(name)
	}
	if after > XattrMax {
		return unix.ENOSPC
	}
	if err := n.chargeXattrsLocked(before, after); err != nil {
		return err
	}
	if n.xattrs == nil {
		n.xattrs = map[string][]byte{}
	}
	n.xattrs[strings.Clone(name)] = slices.Clone(value)
	n.ctime = now()
	return nil
}

// RemoveXattr implements fs.Xattrs.
func (n *inode) RemoveXattr(name string) error {
	n.fs.mu.Lock()
	defer n.fs.mu.Unlock()
	v, ok := n.xattrs[name]
	if !ok {
		return unix.ENODATA
	}
	before := n.xattrBytesLocked()
	n.chargeXattrsLocked(before, before-len(name)-len(v))
	delete(n.xattrs, name)
	n.ctime = now()
	return nil
}

// chargeXattrsLocked moves n's charge for its attributes from before to
// after bytes: ENOSPC, with nothing changed, past the filesystem's size.
func (n *inode) chargeXattrsLocked(before, after int) error {
	delta := xattrPages(after) - xattrPages(before)
	if delta > 0 {
		if err := n.fs.reservePagesLocked(delta); err != nil {
			return err
		}
	} else {
		n.fs.pages += delta
	}
	return nil
}
