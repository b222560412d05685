package tmpfs

import (
	"cmp"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"ringbox/fs"
)

const (
	// PageSize is the unit file data is allocated and accounted in.
	PageSize = 4096
	// MaxFileSize bounds the size of a file (EFBIG beyond; lseek beyond is
	// EINVAL), as ext4's 16 TiB.
	MaxFileSize int64 = 1 << 44
	// DefaultMaxNodes bounds the number of nodes (and extra hard links) of
	// a new filesystem.
	DefaultMaxNodes = 1 << 20

	// shortSymlink is the longest symlink target stored for free (Linux
	// keeps these in the inode); longer ones take a page.
	shortSymlink = 128
	// direntSize is the size a directory entry adds to its directory
	// (Linux's BOGO_DIRENT_SIZE).
	direntSize = 20
	// maxLinks bounds a file's link count.
	maxLinks = 1<<31 - 1
)

// page is PageSize bytes of a file.
type page [PageSize]byte

// nextDev numbers the device ids of tmpfs instances: makedev(0, n) like
// the kernel's anonymous devices, from a range of their own.
var nextDev atomic.Uint32

func newDev() uint64 { return unix.Mkdev(0, 0x2000+nextDev.Add(1)) }

// FS is an in-memory filesystem.
type FS struct {
	dev uint64
	// src, if set, provides the data pages (the memory file), so that
	// files can be mapped shared (fs.Pager); else they are Go memory.
	src fs.PageSource

	mu       sync.Mutex
	maxPages int64 // bound of pages
	pages    int64 // pages in use: file data and long symlinks
	maxNodes int64
	nodes    int64 // live inodes plus extra hard links
	lastIno  uint64
	uid, gid uint32 // owner of new nodes
	root     *inode
}

var _ fs.FS = (*FS)(nil)

// New makes an empty filesystem whose file data may take at most limit
// bytes, counted in whole pages (limit is rounded up to a page; 0 or less
// allows no data at all). Its root is drwxrwxrwt, owned by 0:0.
func New(limit int64) *FS {
	f := &FS{dev: newDev(), maxNodes: DefaultMaxNodes}
	if limit > 0 {
		f.maxPages = limit / PageSize
		if limit%PageSize != 0 {
			f.maxPages++
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	root, _ := f.newInodeLocked(unix.S_IFDIR | 0o1777)
	root.nlink = 2
	root.ents = map[string]*dirent{}
	f.root = root
	return f
}

// Root implements fs.FS.
func (f *FS) Root() fs.Node { return f.root }

// SetOwner sets the owner of the nodes created from now on, and of the
// root directory (as tmpfs's uid= and gid= mount options).
func (f *FS) SetOwner(uid, gid uint32) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.uid, f.gid = uid, gid
	f.root.uid, f.root.gid = uid, gid
	f.root.ctime = now()
}

// SetMaxNodes changes the bound of nodes (every inode and every extra hard
// link counts, the root included). Nothing is removed when the filesystem
// already holds more: creating fails until it holds fewer.
func (f *FS) SetMaxNodes(n int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.maxNodes = n
}

// SetPageSource makes new data pages come from src (the memory file), so
// that files can be mapped MAP_SHARED. Call it before any file has data.
func (f *FS) SetPageSource(src fs.PageSource) {
	f.mu.Lock()
	f.src = src
	f.mu.Unlock()
}

// newPageLocked allocates a zeroed data page.
func (f *FS) newPageLocked() (*page, error) {
	if f.src == nil {
		return new(page), nil
	}
	addr, err := f.src.Alloc()
	if err != nil {
		return nil, unix.ENOSPC
	}
	return (*page)(unsafe.Add(nil, addr)), nil
}

// dropPageLocked gives back a data page.
func (f *FS) dropPageLocked(pg *page) {
	if f.src != nil {
		f.src.Free(uintptr(unsafe.Pointer(pg)))
	}
}

// dropPagesLocked gives back data pages, in address order: they were
// mostly allocated in order, so the memory file can return them to the
// host in long runs (a map's order left runs of one page: a madvise
// each).
func (f *FS) dropPagesLocked(pgs []*page) {
	slices.SortFunc(pgs, func(a, b *page) int {
		return cmp.Compare(uintptr(unsafe.Pointer(a)), uintptr(unsafe.Pointer(b)))
	})
	for _, pg := range pgs {
		f.dropPageLocked(pg)
	}
}

// Usage returns the bytes the file data takes (whole pages) and the
// number of nodes in use (as SetMaxNodes counts them).
func (f *FS) Usage() (bytes, nodes int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.pages * PageSize, f.nodes
}

// Limits returns the bounds: bytes of file data (a multiple of PageSize)
// and nodes.
func (f *FS) Limits() (bytes, nodes int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.maxPages * PageSize, f.maxNodes
}

// reserveNodeLocked counts one more node, if the bound allows.
func (f *FS) reserveNodeLocked() error {
	if f.nodes >= f.maxNodes {
		return unix.ENOSPC
	}
	f.nodes++
	return nil
}

// reservePagesLocked counts k more pages, if the limit allows.
func (f *FS) reservePagesLocked(k int64) error {
	if k > f.maxPages-f.pages {
		return unix.ENOSPC
	}
	f.pages += k
	return nil
}

// newInodeLocked makes a node of mode owned by the filesystem's owner.
// The caller sets nlink and links it.
func (f *FS) newInodeLocked(mode uint32) (*inode, error) {
	if err := f.reserveNodeLocked(); err != nil {
		return nil, err
	}
	f.lastIno++
	t := now()
	return &inode{
		fs: f, ino: f.lastIno, mode: mode, uid: f.uid, gid: f.gid,
		atime: t, mtime: t, ctime: t,
	}, nil
}

// freeLocked gives back what n holds once nothing refers to it: no link
// and no open file.
func (f *FS) freeLocked(n *inode) {
	if n.freed || n == f.root || n.nlink > 0 || n.opens > 0 {
		return
	}
	n.freed = true
	f.pages -= int64(len(n.data)) + n.charged + xattrPages(n.xattrBytesLocked())
	pgs := make([]*page, 0, len(n.data))
	for _, pg := range n.data {
		pgs = append(pgs, pg)
	}
	f.dropPagesLocked(pgs)
	n.data, n.charged, n.xattrs = nil, 0, nil
	n.ents, n.order = nil, nil
	f.nodes--
}

// inode is a node of the tree. All fields are guarded by fs.mu.
type inode struct {
	fs    *FS
	ino   uint64
	mode  uint32
	nlink uint32
	uid   uint32
	gid   uint32
	atime unix.Timespec
	mtime unix.Timespec
	ctime unix.Timespec
	opens int  // open files (Impls not yet released)
	freed bool // no link nor open file is left: given back

	// Regular files.
	size int64
	data map[int64]*page // page index -> page; none at or past size

	// Directories.
	parent  *inode             // the directory holding it (nil for the root)
	ents    map[string]*dirent // by name
	order   []*dirent          // by seq (creation order), removed ones included
	removed int                // removed entries still in order
	seq     uint64             // of the last entry added

	// Symbolic links.
	target  string
	charged int64 // pages taken by the target

	// Extended attributes (xattr.go), charged by whole pages of their
	// names and values.
	xattrs map[string][]byte
}

// dirent is an entry of a directory.
type dirent struct {
	name    string
	node    *inode
	seq     uint64 // increasing in a directory: the listing order
	removed bool
}

var (
	_ fs.Node      = (*inode)(nil)
	_ fs.Mutable   = (*inode)(nil)
	_ fs.Creator   = (*inode)(nil)
	_ fs.NodeMaker = (*inode)(nil)
	_ fs.Chowner   = (*inode)(nil)
)

func (n *inode) typ() uint32 { return n.mode & unix.S_IFMT }
func (n *inode) isDir() bool { return n.typ() == unix.S_IFDIR }

func now() unix.Timespec { return unix.NsecToTimespec(time.Now().UnixNano()) }

// statLocked returns n's attributes.
func (n *inode) statLocked() unix.Stat_t {
	st := unix.Stat_t{
		Dev:     n.fs.dev,
		Ino:     n.ino,
		Mode:    n.mode,
		Uid:     n.uid,
		Gid:     n.gid,
		Blksize: PageSize,
		Atim:    n.atime,
		Mtim:    n.mtime,
		Ctim:    n.ctime,
	}
	setNlink(&st.Nlink, n.nlink)
	switch n.typ() {
	case unix.S_IFREG:
		st.Size = n.size
		st.Blocks = int64(len(n.data)) * (PageSize / 512)
	case unix.S_IFDIR:
		st.Size = int64(len(n.ents)+2) * direntSize
	case unix.S_IFLNK:
		st.Size = int64(len(n.target))
		st.Blocks = n.charged * (PageSize / 512)
	}
	return st
}

// Stat implements fs.Node.
func (n *inode) Stat() (unix.Stat_t, error) {
	n.fs.mu.Lock()
	defer n.fs.mu.Unlock()
	return n.statLocked(), nil
}

// Lookup implements fs.Node. name must be one component: "", ".", ".."
// and names with '/' or NUL are EINVAL.
func (n *inode) Lookup(name string) (fs.Node, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	n.fs.mu.Lock()
	defer n.fs.mu.Unlock()
	if !n.isDir() {
		return nil, unix.ENOTDIR
	}
	e, ok := n.ents[name]
	if !ok {
		return nil, unix.ENOENT
	}
	return e.node, nil
}

// Readlink implements fs.Node.
func (n *inode) Readlink() (string, error) {
	n.fs.mu.Lock()
	defer n.fs.mu.Unlock()
	if n.typ() != unix.S_IFLNK {
		return "", unix.EINVAL
	}
	n.atime = now()
	return n.target, nil
}

// Open implements fs.Node. Symlinks are ELOOP (the VFS follows them
// before opening); a directory opened for writing or with O_TRUNC is
// EISDIR; O_TRUNC truncates a regular file.
func (n *inode) Open(flags int) (fs.Impl, error) {
	if flags&unix.O_ACCMODE == unix.O_ACCMODE {
		return nil, unix.EINVAL
	}
	n.fs.mu.Lock()
	defer n.fs.mu.Unlock()
	return n.openLocked(flags)
}

func (n *inode) openLocked(flags int) (fs.Impl, error) {
	if n.freed {
		return nil, unix.ENOENT
	}
	switch n.typ() {
	case unix.S_IFDIR:
		if flags&unix.O_ACCMODE != unix.O_RDONLY || flags&unix.O_TRUNC != 0 {
			return nil, unix.EISDIR
		}
		n.opens++
		return &dirFile{n: n}, nil
	case unix.S_IFREG:
		if flags&unix.O_DIRECTORY != 0 {
			return nil, unix.ENOTDIR
		}
		if flags&unix.O_TRUNC != 0 {
			n.truncateLocked(0, true)
		}
		n.opens++
		return &file{n: n, flags: flags}, nil
	case unix.S_IFLNK:
		return nil, unix.ELOOP
	}
	return nil, unix.ENXIO
}

// truncateLocked sets a regular file's size, dropping the pages past it.
// The times change when the size does, or always with touch (O_TRUNC).
func (n *inode) truncateLocked(size int64, touch bool) {
	if size != n.size || touch {
		t := now()
		n.mtime, n.ctime = t, t
	}
	if size < n.size {
		first := (size + PageSize - 1) / PageSize // first page wholly past size
		end := (n.size + PageSize - 1) / PageSize
		if end-first < int64(len(n.data)) {
			for i := first; i < end; i++ {
				if pg, ok := n.data[i]; ok {
					delete(n.data, i)
					n.fs.pages--
					n.fs.dropPageLocked(pg)
				}
			}
		} else {
			var pgs []*page
			for i, pg := range n.data {
				if i >= first {
					delete(n.data, i)
					n.fs.pages--
					pgs = append(pgs, pg)
				}
			}
			n.fs.dropPagesLocked(pgs)
		}
		// Zero the tail of the last page, so that growing reads zeros.
		if in := size % PageSize; in != 0 {
			if p := n.data[size/PageSize]; p != nil {
				clear(p[in:])
			}
		}
	}
	n.size = size
}

// readLocked reads from a regular file at off.
func (n *inode) readLocked(p []byte, off int64) int {
	if off >= n.size || len(p) == 0 {
		return 0
	}
	if rest := n.size - off; int64(len(p)) > rest {
		p = p[:rest]
	}
	done := 0
	for done < len(p) {
		pos := off + int64(done)
		in := int(pos % PageSize)
		k := min(PageSize-in, len(p)-done)
		if pg := n.data[pos/PageSize]; pg != nil {
			copy(p[done:done+k], pg[in:])
		} else {
			clear(p[done : done+k])
		}
		done += k
	}
	n.atime = now()
	return done
}

// writeLocked writes to a regular file at off. It is short when the
// filesystem fills up or the file reaches MaxFileSize, and an error when
// nothing could be written.
func (n *inode) writeLocked(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, unix.EINVAL
	}
	if len(p) == 0 {
		return 0, nil
	}
	if off >= MaxFileSize {
		return 0, unix.EFBIG
	}
	if room := MaxFileSize - off; int64(len(p)) > room {
		p = p[:room]
	}
	if n.data == nil {
		n.data = map[int64]*page{}
	}
	done := 0
	var err error
	for done < len(p) {
		pos := off + int64(done)
		idx, in := pos/PageSize, int(pos%PageSize)
		pg := n.data[idx]
		if pg == nil {
			if err = n.fs.reservePagesLocked(1); err != nil {
				break
			}
			if pg, err = n.fs.newPageLocked(); err != nil {
				n.fs.pages--
				break
			}
			n.data[idx] = pg
		}
		done += copy(pg[in:], p[done:])
	}
	if done == 0 {
		return 0, err
	}
	if end := off + int64(done); end > n.size {
		n.size = end
	}
	t := now()
	n.mtime, n.ctime = t, t
	return done, nil
}

// seekDataLocked returns the first offset at or after off in a page with
// data (SEEK_DATA) or in a hole (SEEK_HOLE; the end of the file is one).
// An offset that is negative or not before the end is ENXIO.
func (n *inode) seekDataLocked(off int64, hole bool) (int64, error) {
	if off < 0 || off >= n.size {
		return 0, unix.ENXIO // as Linux, for a negative offset too
	}
	idx := off / PageSize
	if hole {
		for {
			if _, ok := n.data[idx]; !ok {
				break
			}
			idx++
		}
		return min(max(off, idx*PageSize), n.size), nil
	}
	// A short hole is crossed page by page; a long one by going through
	// the pages.
	last := (n.size - 1) / PageSize
	for i := idx; i <= last && i < idx+int64(len(n.data)); i++ {
		if _, ok := n.data[i]; ok {
			return max(off, i*PageSize), nil
		}
	}
	best := int64(-1)
	for i := range n.data {
		if i >= idx && (best < 0 || i < best) {
			best = i
		}
	}
	if best < 0 {
		return 0, unix.ENXIO
	}
	return max(off, best*PageSize), nil
}

// setNlink sets st_nlink, whose type depends on the architecture.
func setNlink[T uint32 | uint64](dst *T, n uint32) { *dst = T(n) }

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
