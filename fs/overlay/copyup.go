package overlay

import (
	"bytes"

	"golang.org/x/sys/unix"

	"ringbox/fs"
)

const (
	// copyChunk is how much file data a copy-up reads at a time.
	copyChunk = 1 << 20
	// holePage is the unit a copy-up leaves unwritten when it is all
	// zeros (tmpfs's page).
	holePage = 4096
)

var zeroPage [holePage]byte

// upperMutable returns the Mutable of n's upper file.
func (n *node) upperMutable() (fs.Mutable, error) {
	m, ok := n.upper.(fs.Mutable)
	if !ok {
		return nil, unix.EROFS
	}
	return m, nil
}

// copyUpLocked gives n a file in the upper layer, copying its parent
// directories up first. A regular file gets at most limit bytes of its
// data (all for a negative limit). Nothing is left in the upper layer if
// it fails.
func (f *FS) copyUpLocked(n *node, limit int64) error {
	if n.upper != nil {
		return nil
	}
	p := n.loc.parent
	if n.removed || p == nil || n.lower == nil {
		return unix.ENOENT
	}
	if err := f.copyUpLocked(p, -1); err != nil {
		return err
	}
	pm, err := p.upperMutable()
	if err != nil {
		return err
	}
	name := n.loc.name
	st, err := n.lower.Stat()
	if err != nil {
		return err
	}
	pst, perr := p.upper.Stat()
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		err = pm.Mkdir(name, st.Mode&0o7777)
	case unix.S_IFREG:
		err = copyData(pm, name, n.lower, &st, limit)
	case unix.S_IFLNK:
		var target string
		if target, err = n.lower.Readlink(); err == nil {
			err = pm.Symlink(target, name)
		}
	default:
		return unix.EOPNOTSUPP // tmpfs holds no devices, FIFOs, sockets
	}
	if err != nil {
		return err
	}
	u, ust, err := setAttrs(p.upper, name, &st)
	if err != nil {
		if st.Mode&unix.S_IFMT == unix.S_IFDIR {
			pm.Rmdir(name)
		} else {
			pm.Unlink(name)
		}
		return err
	}
	if perr == nil {
		// Copy-up is not a change of the parent.
		pm.Utimens(pst.Atim, pst.Mtim)
	}
	if !n.hasOwner {
		n.hasOwner, n.uid, n.gid = true, st.Uid, st.Gid
	}
	f.origins[ust.Ino] = origin{ino: n.ino, uid: n.uid, gid: n.gid}
	n.setUpperLocked(u, ust.Ino)
	if !n.isDir() {
		n.lower = nil // a directory stays merged; a file is the copy now
	}
	return nil
}

// setAttrs gives the upper file name in dir the lower file's mode and
// times, and returns it.
func setAttrs(dir fs.Node, name string, st *unix.Stat_t) (fs.Node, unix.Stat_t, error) {
	u, err := dir.Lookup(name)
	if err != nil {
		return nil, unix.Stat_t{}, err
	}
	m, ok := u.(fs.Mutable)
	if !ok {
		return nil, unix.Stat_t{}, unix.EROFS
	}
	if st.Mode&unix.S_IFMT != unix.S_IFLNK {
		if err := m.Chmod(st.Mode & 0o7777); err != nil {
			return nil, unix.Stat_t{}, err
		}
	}
	if err := m.Utimens(st.Atim, st.Mtim); err != nil {
		return nil, unix.Stat_t{}, err
	}
	ust, err := u.Stat()
	if err != nil {
		return nil, unix.Stat_t{}, err
	}
	if ust.Mode&unix.S_IFMT != st.Mode&unix.S_IFMT {
		return nil, unix.Stat_t{}, unix.EIO
	}
	return u, ust, nil
}

// copyData makes the regular file name in dir with the first limit bytes
// (all for a negative limit) of src, whose attributes are st.
func copyData(dir fs.Mutable, name string, src fs.Node, st *unix.Stat_t, limit int64) error {
	size := st.Size
	if limit >= 0 && limit < size {
		size = limit
	}
	var in fs.Impl
	if size > 0 {
		var err error
		if in, err = src.Open(unix.O_RDONLY); err != nil {
			return err
		}
		defer in.Release()
	}
	_, out, err := dir.Create(name, unix.O_WRONLY|unix.O_EXCL, st.Mode&0o7777)
	if err != nil {
		return err
	}
	defer out.Release()
	if err := fillData(out, in, size); err != nil {
		dir.Unlink(name) // no partial copy
		return err
	}
	return nil
}

// fillData copies size bytes of in to the empty out and sets its size.
func fillData(out, in fs.Impl, size int64) error {
	var off int64
	if size > 0 {
		buf := make([]byte, min(copyChunk, size))
		for off < size {
			k, err := in.Pread(buf[:min(int64(len(buf)), size-off)], off)
			if err != nil {
				return err
			}
			if k == 0 {
				break // the file shrank meanwhile
			}
			if err := writeData(out, buf[:k], off); err != nil {
				return err
			}
			off += int64(k)
		}
	}
	ops, ok := out.(fs.FileOps)
	if !ok {
		return unix.EROFS
	}
	return ops.Truncate(off) // the holes at the end
}

// writeData writes p at off, leaving its pages of zeros as holes.
func writeData(out fs.Impl, p []byte, off int64) error {
	for len(p) > 0 {
		// Skip a run of zero pages, then write a run of others.
		i := 0
		for i < len(p) && isZero(p[i:min(i+holePage, len(p))]) {
			i += holePage
		}
		i = min(i, len(p))
		j := i
		for j < len(p) && !isZero(p[j:min(j+holePage, len(p))]) {
			j += holePage
		}
		j = min(j, len(p))
		if err := pwriteAll(out, p[i:j], off+int64(i)); err != nil {
			return err
		}
		p, off = p[j:], off+int64(j)
	}
	return nil
}

func isZero(b []byte) bool { return bytes.Equal(b, zeroPage[:len(b)]) }

func pwriteAll(out fs.Impl, p []byte, off int64) error {
	for len(p) > 0 {
		k, err := out.Pwrite(p, off)
		if err != nil {
			return err
		}
		if k <= 0 {
			return unix.EIO
		}
		p, off = p[k:], off+int64(k)
	}
	return nil
}
