package overlay

import (
	"runtime"
	"sync"
	"sync/atomic"
	"weak"

	"golang.org/x/sys/unix"

	"ringbox/fs"
)

// Inode numbering: the layer in the top bits, the layer's number below.
const (
	layerShift = 56
	inoMask    = 1<<layerShift - 1
	// synthLayer numbers the files whose own number does not fit.
	synthLayer = 0xff
)

// nextDev numbers the device ids of overlays: makedev(0, n) like the
// kernel's anonymous devices, from a range of their own (hostfs and tmpfs
// use 0x1000 and 0x2000 up).
var nextDev atomic.Uint32

func newDev() uint64 { return unix.Mkdev(0, 0x3000+nextDev.Add(1)) }

// FS is an overlay of a writable upper filesystem on a lower one.
type FS struct {
	lower, upper fs.FS
	dev          uint64

	mu      sync.Mutex
	root    *node
	dirs    map[uint64]*dirMeta // by upper inode number
	origins map[uint64]origin   // copied-up files, by upper inode number
	devIdx  map[uint64]uint64   // lower st_dev -> layer number (1 up)
	synth   map[synthKey]uint64 // numbers given to files that do not fit
}

var _ fs.FS = (*FS)(nil)

// dirMeta is what the overlay records of an upper directory.
type dirMeta struct {
	whiteouts map[string]struct{} // lower names removed (never upper names)
	opaque    bool                // the lower directory of its name is not merged
}

// origin is what a copied-up file keeps of its lower file.
type origin struct {
	ino      uint64 // the overlay inode number it had
	uid, gid uint32 // its owner (tmpfs cannot take it)
}

type synthKey struct {
	layer, dev, ino uint64
}

// New stacks upper (writable) on lower (read-only as far as the overlay
// is concerned: it is never written). upper must be a private, empty
// filesystem whose nodes implement fs.Mutable (a fresh tmpfs); its root
// takes the lower root's mode and times.
func New(lower, upper fs.FS) *FS {
	f := &FS{
		lower: lower, upper: upper, dev: newDev(),
		dirs:    map[uint64]*dirMeta{},
		origins: map[uint64]origin{},
		devIdx:  map[uint64]uint64{},
		synth:   map[synthKey]uint64{},
	}
	lr, ur := lower.Root(), upper.Root()
	root := &node{fs: f, typ: unix.S_IFDIR, loc: &loc{}, upper: ur, lower: lr}
	root.hasUpper.Store(true)
	root.loc.wp = weak.Make(root)
	f.mu.Lock()
	defer f.mu.Unlock()
	ust, _ := ur.Stat()
	root.upperIno = ust.Ino
	if lst, err := lr.Stat(); err == nil {
		root.ino = f.lowerInoLocked(lst.Dev, lst.Ino)
		root.hasOwner, root.uid, root.gid = true, lst.Uid, lst.Gid
		f.origins[ust.Ino] = origin{ino: root.ino, uid: lst.Uid, gid: lst.Gid}
		if m, ok := ur.(fs.Mutable); ok {
			m.Chmod(lst.Mode & 0o7777)
			m.Utimens(lst.Atim, lst.Mtim)
		}
	} else {
		root.ino = f.upperInoLocked(ust.Ino)
	}
	f.root = root
	return f
}

// Root implements fs.FS.
func (f *FS) Root() fs.Node { return f.root }

// Lower returns the lower filesystem.
func (f *FS) Lower() fs.FS { return f.lower }

// Upper returns the upper filesystem.
func (f *FS) Upper() fs.FS { return f.upper }

// upperInoLocked is the overlay's number for a file made in the upper
// layer.
func (f *FS) upperInoLocked(ino uint64) uint64 {
	if ino <= inoMask {
		return ino
	}
	return f.synthLocked(synthKey{0, 0, ino})
}

// lowerInoLocked is the overlay's number for a lower file.
func (f *FS) lowerInoLocked(dev, ino uint64) uint64 {
	idx, ok := f.devIdx[dev]
	if !ok {
		idx = uint64(len(f.devIdx)) + 1
		f.devIdx[dev] = idx
	}
	if idx < synthLayer && ino <= inoMask {
		return idx<<layerShift | ino
	}
	return f.synthLocked(synthKey{1, dev, ino})
}

func (f *FS) synthLocked(k synthKey) uint64 {
	n, ok := f.synth[k]
	if !ok {
		n = synthLayer<<layerShift | uint64(len(f.synth)+1)
		f.synth[k] = n
	}
	return n
}

// metaLocked returns the record of upper directory ino, made if create.
func (f *FS) metaLocked(ino uint64, create bool) *dirMeta {
	m := f.dirs[ino]
	if m == nil && create {
		m = &dirMeta{}
		f.dirs[ino] = m
	}
	return m
}

func (f *FS) opaqueLocked(upperIno uint64) bool {
	m := f.dirs[upperIno]
	return m != nil && m.opaque
}

// whiteoutLocked reports whether name is whited out in directory n.
func (f *FS) whiteoutLocked(n *node, name string) bool {
	if n.upper == nil {
		return false
	}
	m := f.dirs[n.upperIno]
	if m == nil {
		return false
	}
	_, ok := m.whiteouts[name]
	return ok
}

// addWhiteoutLocked hides the lower name in n (which has an upper
// directory).
func (f *FS) addWhiteoutLocked(n *node, name string) {
	m := f.metaLocked(n.upperIno, true)
	if m.whiteouts == nil {
		m.whiteouts = map[string]struct{}{}
	}
	m.whiteouts[name] = struct{}{}
}

// removeWhiteoutLocked drops the whiteout of name in n and reports
// whether there was one.
func (f *FS) removeWhiteoutLocked(n *node, name string) bool {
	if n.upper == nil {
		return false
	}
	m := f.dirs[n.upperIno]
	if m == nil {
		return false
	}
	if _, ok := m.whiteouts[name]; !ok {
		return false
	}
	delete(m.whiteouts, name)
	if len(m.whiteouts) == 0 && !m.opaque {
		delete(f.dirs, n.upperIno)
	}
	return true
}

// forgetUpperLocked drops the records of an upper file once no link to
// it is left (u was an entry just removed from the upper layer).
func (f *FS) forgetUpperLocked(u fs.Node, ino uint64) {
	if st, err := u.Stat(); err == nil && st.Nlink > 0 && st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return
	}
	delete(f.dirs, ino)
	delete(f.origins, ino)
}

// loc is where a node is: its parent and its name. The node's cleanup
// holds it, to drop the parent's weak reference.
type loc struct {
	parent *node // nil for the root
	name   string
	wp     weak.Pointer[node]
}

// node is a file of the overlay. There is at most one live node per name
// of a directory node (the children map), so a copy-up is seen by every
// user of the file. Nodes are a cache: all that must outlive them is in
// the upper layer and in FS's records.
type node struct {
	fs       *FS
	typ      uint32      // S_IFMT: a node never changes type
	hasUpper atomic.Bool // upper != nil, for open files

	// Under fs.mu.
	loc      *loc
	upper    fs.Node // the upper file, once there is one
	upperIno uint64  // its st_ino
	// lower is the lower file, for a file not copied up; for a
	// directory, the lower directory merged in (nil when opaque).
	lower    fs.Node
	ino      uint64
	hasOwner bool // uid and gid replace the upper layer's
	uid, gid uint32
	removed  bool // no longer has a name
	children map[string]weak.Pointer[node]
}

var (
	_ fs.Node      = (*node)(nil)
	_ fs.Mutable   = (*node)(nil)
	_ fs.Creator   = (*node)(nil)
	_ fs.NodeMaker = (*node)(nil)
	_ fs.Chowner   = (*node)(nil)
)

func (n *node) isDir() bool { return n.typ == unix.S_IFDIR }

// topLocked returns the topmost layer's file.
func (n *node) topLocked() fs.Node {
	if n.upper != nil {
		return n.upper
	}
	return n.lower
}

func (n *node) setUpperLocked(u fs.Node, ino uint64) {
	n.upper, n.upperIno = u, ino
	n.hasUpper.Store(true)
}

// newNodeLocked makes the node of name in directory p from its layers'
// files (u or l may be nil) and records it as p's child of that name.
func (f *FS) newNodeLocked(p *node, name string, u fs.Node, ust *unix.Stat_t, l fs.Node, lst *unix.Stat_t) *node {
	c := &node{fs: f, loc: &loc{parent: p, name: name}, lower: l}
	if u != nil {
		c.typ = ust.Mode & unix.S_IFMT
		c.setUpperLocked(u, ust.Ino)
		if o, ok := f.origins[ust.Ino]; ok {
			c.ino = o.ino
			c.hasOwner, c.uid, c.gid = true, o.uid, o.gid
		} else {
			c.ino = f.upperInoLocked(ust.Ino)
		}
	} else {
		c.typ = lst.Mode & unix.S_IFMT
		c.ino = f.lowerInoLocked(lst.Dev, lst.Ino)
	}
	c.loc.wp = weak.Make(c)
	if p.children == nil {
		p.children = map[string]weak.Pointer[node]{}
	}
	p.children[name] = c.loc.wp
	runtime.AddCleanup(c, f.forget, c.loc)
	return c
}

// forget drops a collected node from its parent's children.
func (f *FS) forget(l *loc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if p := l.parent; p != nil && p.children[l.name] == l.wp {
		delete(p.children, l.name)
	}
}

// detachLocked takes c off its name (removed or replaced).
func (f *FS) detachLocked(c *node) {
	c.removed = true
	if p := c.loc.parent; p != nil && p.children[c.loc.name] == c.loc.wp {
		delete(p.children, c.loc.name)
	}
}

// lookupLocked returns the child name of directory n as the overlay
// shows it.
func (n *node) lookupLocked(name string) (*node, error) {
	if !n.isDir() {
		return nil, unix.ENOTDIR
	}
	if n.removed {
		return nil, unix.ENOENT
	}
	if wp, ok := n.children[name]; ok {
		if c := wp.Value(); c != nil {
			return c, nil
		}
	}
	f := n.fs
	var (
		u, l     fs.Node
		ust, lst unix.Stat_t
	)
	if n.upper != nil {
		c, err := n.upper.Lookup(name)
		switch {
		case err == nil:
			if ust, err = c.Stat(); err != nil {
				return nil, err
			}
			u = c
		case err != unix.ENOENT:
			return nil, err
		case f.whiteoutLocked(n, name):
			return nil, unix.ENOENT
		}
	}
	upperDir := u != nil && ust.Mode&unix.S_IFMT == unix.S_IFDIR
	if n.lower != nil && (u == nil || upperDir && !f.opaqueLocked(ust.Ino)) {
		c, err := n.lower.Lookup(name)
		if err == nil {
			lst, err = c.Stat()
		}
		switch {
		case err != nil && u == nil:
			return nil, err
		case err != nil:
			// The upper entry is what is there.
		case u == nil || lst.Mode&unix.S_IFMT == unix.S_IFDIR:
			l = c
		}
	}
	if u == nil && l == nil {
		return nil, unix.ENOENT
	}
	return f.newNodeLocked(n, name, u, &ust, l, &lst), nil
}

// lowerHasLocked reports whether the lower directory merged in n has
// name (an error other than ENOENT counts as having it: a spare whiteout
// is harmless, a missing one is not).
func (n *node) lowerHasLocked(name string) bool {
	if n.lower == nil {
		return false
	}
	_, err := n.lower.Lookup(name)
	return err != unix.ENOENT && err != unix.ENOTDIR
}

// fixStatLocked gives attributes the overlay's identity.
func (n *node) fixStatLocked(st *unix.Stat_t) {
	st.Dev = n.fs.dev
	st.Ino = n.ino
	if n.hasOwner {
		st.Uid, st.Gid = n.uid, n.gid
	}
	if n.isDir() && n.upper != nil && n.lower != nil {
		st.Nlink = 1 // merged: the count is unknown
	}
}

// Stat implements fs.Node: the topmost layer's attributes, with the
// overlay's device and inode number.
func (n *node) Stat() (unix.Stat_t, error) {
	f := n.fs
	f.mu.Lock()
	top := n.topLocked()
	f.mu.Unlock()
	st, err := top.Stat()
	if err != nil {
		return unix.Stat_t{}, err
	}
	f.mu.Lock()
	merged := n.isDir() && n.upper != nil && n.lower != nil
	lower := n.lower
	n.fixStatLocked(&st)
	f.mu.Unlock()
	if merged {
		// A merged directory shows the host directory's size, blocks and
		// link count (the upper copy is an in-memory stand-in; Linux's
		// overlayfs would say 1 link), so listings of untouched trees look
		// as they do natively.
		if lst, err := lower.Stat(); err == nil {
			st.Size, st.Blocks, st.Blksize = lst.Size, lst.Blocks, lst.Blksize
			st.Nlink = lst.Nlink
		}
	}
	return st, nil
}

// Lookup implements fs.Node. name must be one component: "", ".", ".."
// and names with '/' or NUL are EINVAL.
func (n *node) Lookup(name string) (fs.Node, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	n.fs.mu.Lock()
	defer n.fs.mu.Unlock()
	c, err := n.lookupLocked(name)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Readlink implements fs.Node.
func (n *node) Readlink() (string, error) {
	n.fs.mu.Lock()
	top := n.topLocked()
	n.fs.mu.Unlock()
	if n.typ != unix.S_IFLNK {
		return "", unix.EINVAL
	}
	return top.Readlink()
}

// tmpfileFlag is O_TMPFILE without its O_DIRECTORY part.
const tmpfileFlag = unix.O_TMPFILE &^ unix.O_DIRECTORY

// writes reports whether open flags would change the file.
func writes(flags int) bool {
	acc := flags & unix.O_ACCMODE
	return acc == unix.O_WRONLY || acc == unix.O_RDWR || flags&unix.O_TRUNC != 0
}

// Open implements fs.Node. A regular file opened for writing or with
// O_TRUNC is copied up first (with no data for O_TRUNC); otherwise the
// topmost layer's file is opened. Symlinks are ELOOP (the VFS follows
// them before opening); a directory opened for writing or with O_TRUNC
// is EISDIR.
func (n *node) Open(flags int) (fs.Impl, error) {
	if flags&unix.O_ACCMODE == unix.O_ACCMODE {
		return nil, unix.EINVAL
	}
	if flags&tmpfileFlag != 0 {
		return nil, unix.EOPNOTSUPP
	}
	f := n.fs
	switch n.typ {
	case unix.S_IFDIR:
		if writes(flags) {
			return nil, unix.EISDIR
		}
		f.mu.Lock()
		lower := n.lower
		f.mu.Unlock()
		if lower != nil {
			// The lower layer may refuse its directory (hostfs: kernel
			// pseudo-filesystems): refuse at open, as it would.
			impl, err := lower.Open(flags)
			if err != nil {
				return nil, err
			}
			impl.Release()
		}
		return &dirFile{n: n}, nil
	case unix.S_IFLNK:
		return nil, unix.ELOOP
	case unix.S_IFREG:
		if flags&unix.O_DIRECTORY != 0 {
			return nil, unix.ENOTDIR
		}
		var top fs.Node
		onUpper := true
		if writes(flags) {
			limit := int64(-1)
			if flags&unix.O_TRUNC != 0 {
				limit = 0
			}
			f.mu.Lock()
			err := f.copyUpLocked(n, limit)
			top = n.upper
			f.mu.Unlock()
			if err != nil {
				return nil, err
			}
		} else {
			f.mu.Lock()
			top, onUpper = n.topLocked(), n.upper != nil
			f.mu.Unlock()
		}
		impl, err := top.Open(flags)
		if err != nil {
			return nil, err
		}
		h := &file{n: n, flags: flags, impl: impl}
		h.onUpper.Store(onUpper)
		return h, nil
	}
	// Devices, FIFOs, sockets: as the layer has them (hostfs refuses
	// them); never copied up.
	f.mu.Lock()
	top, onUpper := n.topLocked(), n.upper != nil
	f.mu.Unlock()
	if !onUpper && writes(flags) {
		// The read-only lower layer would say EROFS whatever the file:
		// its refusal of the file itself comes first.
		probe, err := top.Open(flags &^ (unix.O_ACCMODE | unix.O_TRUNC))
		if err != nil {
			return nil, err
		}
		probe.Release()
	}
	impl, err := top.Open(flags)
	if err != nil {
		return nil, err
	}
	h := &file{n: n, flags: flags, impl: impl}
	h.onUpper.Store(true)
	return h, nil
}

// checkName refuses what is not one plain component.
func checkName(name string) error {
	if name == "" || name == "." || name == ".." {
		return unix.EINVAL
	}
	for i := 0; i < len(name); i++ {
		if name[i] == '/' || name[i] == 0 {
			return unix.EINVAL
		}
	}
	if len(name) > fs.NameMax {
		return unix.ENAMETOOLONG
	}
	return nil
}

// FileType implements fs.Typer (a node never changes type).
func (n *node) FileType() uint32 { return n.typ }
