package hostfs

import (
	"encoding/binary"
	"runtime"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"

	"ringbox/guestkernel/hostcall"

	"ringbox/fs"
)

// Directory listings of a cached (read-only, unchanging) tree. A directory
// read once stays listed: later opens and reads of it make no host call,
// and a lookup of a name that is not in the listing is ENOENT at once (a
// program probing paths, an interpreter importing modules). Once lookups
// that missed in a listed directory have cost about as much as statting
// all of it, the rest of its entries are statted (and their symlinks read)
// in one batch: `ls -l`, `find` and the like then make one run of host
// calls per directory instead of one per entry, and in ring0 mode one exit
// (the first host call leaves the guest) instead of one per entry.

const (
	// maxListedDir: a bigger directory is listed afresh on each open.
	maxListedDir = 1 << 16
	// maxListedBytes bounds the memory a filesystem keeps in listings
	// and batched attributes (about: listedCost, plusCost).
	maxListedBytes = 64 << 20
	// batchRatio is about how many host stat calls one VM exit costs: the
	// rest of a directory is statted in one batch once its misses times
	// batchRatio reach its size. Never more than twice the cheaper of
	// "stat everything at once" and "stat each name when asked".
	batchRatio = 32
)

// listedCost and plusCost are about the bytes a kept entry takes: its
// name in the slice and the map, and a batched entry's attributes.
func listedCost(e fs.DirEntry) int64 { return int64(2*len(e.Name)) + 96 }
func plusCost(name string, e *plusEntry) int64 {
	return int64(len(name)+len(e.link)) + int64(unsafe.Sizeof(*e)) + 48
}

// listing is a directory's entries, kept with its node (under fs.mu).
type listing struct {
	ents  []fs.DirEntry
	names map[string]struct{}
	// exact says the listing decides lookups: a name not in it does not
	// exist. Not so where the host matches names loosely (vfat, cifs,
	// casefolded ext4 directories) or mounts on lookup (autofs).
	exact bool
	// misses counts lookups of listed names that went to the host.
	misses int
	// plus holds the attributes of the entries statted in a batch; nil
	// until the batch ran.
	plus map[string]plusEntry
}

// plusEntry is a batched entry: its host attributes and, for a symlink,
// its target.
type plusEntry struct {
	st      unix.Stat_t // as the host gave it (fixStat not applied)
	link    string
	hasLink bool
}

// cachedListing returns the directory's kept entries.
func (n *node) cachedListing() ([]fs.DirEntry, bool) {
	f := n.fs
	f.mu.Lock()
	defer f.mu.Unlock()
	if n.listing == nil {
		return nil, false
	}
	return n.listing.ents, true
}

// keepListing keeps ents with the directory if the budget allows; exact
// as in listing.
func (n *node) keepListing(ents []fs.DirEntry, exact bool) {
	f := n.fs
	if !f.cache || len(ents) > maxListedDir {
		return
	}
	var cost int64
	for _, e := range ents {
		cost += listedCost(e)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if n.listing != nil || f.listedBytes+cost > maxListedBytes {
		return
	}
	l := &listing{ents: ents, names: make(map[string]struct{}, len(ents)), exact: exact}
	for _, e := range ents {
		l.names[e.Name] = struct{}{}
	}
	n.listing = l
	f.listedBytes += cost
	runtime.AddCleanup(n, f.dropListed, cost)
}

// dropListed gives a collected directory's bytes back to the budget.
func (f *FS) dropListed(cost int64) {
	f.mu.Lock()
	f.listedBytes -= cost
	f.mu.Unlock()
}

// listedLocked answers a lookup of name in n from n's listing: known
// missing, or a child made from the batched attributes. batch reports that
// the caller should run the batch now. Called with fs.mu held.
func (n *node) listedLocked(name string) (c *node, missing, batch bool) {
	l := n.listing
	if l == nil {
		return nil, false, false
	}
	if _, ok := l.names[name]; !ok {
		return nil, l.exact, false
	}
	if e, ok := l.plus[name]; ok {
		return n.childFromPlusLocked(name, &e), false, false
	}
	if l.plus != nil {
		return nil, false, false // left out of the batch: ask the host
	}
	l.misses++
	return nil, false, l.misses*batchRatio >= len(l.ents)
}

// childFromPlusLocked makes (or completes) the node for a batched entry.
// Called with fs.mu held.
func (n *node) childFromPlusLocked(name string, e *plusEntry) *node {
	fixed := e.st
	n.fs.fixStat(&fixed)
	c := n.childLocked(name)
	if c == nil || c.hostDev != e.st.Dev || c.ino != e.st.Ino {
		c = n.newChildLocked(name, -1, &e.st, false)
	}
	if c.st == nil {
		c.st = &fixed
	}
	if e.hasLink && !c.hasLink {
		c.link, c.hasLink = e.link, true
	}
	return c
}

// statListing stats every listed entry of n (those it has nodes for
// too: their symlinks are read), in one run of host calls, and keeps what it finds in the listing. Entries on another
// host filesystem (mount points) are left out: their lookups check the
// mount first.
func (n *node) statListing() {
	f := n.fs
	f.mu.Lock()
	l := n.listing
	if l == nil || l.plus != nil || f.listedBytes >= maxListedBytes {
		f.mu.Unlock()
		return
	}
	names := make([]string, len(l.ents))
	for i, e := range l.ents {
		names[i] = e.Name
	}
	dev := n.hostDev
	f.mu.Unlock()

	dfd, err := n.dirFD()
	if err != nil {
		return
	}
	plus := make(map[string]plusEntry, len(names))
	var cost int64
	for _, name := range names {
		var e plusEntry
		err := hostcall.Fstatat(dfd, name, &e.st, unix.AT_SYMLINK_NOFOLLOW)
		for err == unix.EINTR {
			err = hostcall.Fstatat(dfd, name, &e.st, unix.AT_SYMLINK_NOFOLLOW)
		}
		if err != nil || e.st.Dev != dev {
			continue
		}
		if e.st.Mode&unix.S_IFMT == unix.S_IFLNK {
			if target, err := readlinkIn(dfd, name); err == nil {
				e.link, e.hasLink = target, true
			}
		}
		plus[name] = e
		cost += plusCost(name, &e)
	}
	n.release()

	f.mu.Lock()
	defer f.mu.Unlock()
	if n.listing != l || l.plus != nil || f.listedBytes+cost > maxListedBytes {
		return
	}
	l.plus = plus
	f.listedBytes += cost
	runtime.AddCleanup(n, f.dropListed, cost)
}

// openCachedDir opens a directory of a cached tree for reading, with no
// host call: it is listed from its kept listing, or from the host at the
// first read (and kept then).
func (n *node) openCachedDir(st unix.Stat_t) (fs.Impl, error) {
	if n.isSpecial() {
		return nil, unix.EACCES
	}
	d := &memDir{st: st, node: n}
	d.ents, d.listed = n.cachedListing()
	return d, nil
}

// listHost lists the directory from the host and keeps the listing.
func (n *node) listHost() ([]fs.DirEntry, error) {
	fd, err := n.acquire()
	if err != nil {
		return nil, err
	}
	// "." below the directory's own fd: exactly this directory.
	hfd, err := openat2(fd, ".", unix.O_RDONLY|unix.O_DIRECTORY, 0)
	n.release()
	if err != nil {
		return nil, err
	}
	defer hostcall.Close(hfd)
	ents, err := listFD(hfd)
	if err != nil {
		return nil, err
	}
	n.keepListing(ents, exactNames(hfd))
	return ents, nil
}

// Filesystems whose directories hold names exactly as listed and mount
// nothing on lookup (statfs f_type).
var exactFS = map[int64]bool{
	unix.EXT4_SUPER_MAGIC:      true, // also ext2, ext3; casefold checked per directory
	unix.XFS_SUPER_MAGIC:       true,
	unix.BTRFS_SUPER_MAGIC:     true,
	unix.TMPFS_MAGIC:           true,
	unix.OVERLAYFS_SUPER_MAGIC: true,
	unix.SQUASHFS_MAGIC:        true,
	unix.EROFS_SUPER_MAGIC_V1:  true,
	unix.V9FS_MAGIC:            true,
	unix.F2FS_SUPER_MAGIC:      true, // casefold checked per directory
}

// fsCasefoldFL is FS_CASEFOLD_FL, a directory's case-insensitive flag
// (ext4, f2fs).
const fsCasefoldFL = 0x40000000

// exactNames reports whether directory fd's listing decides its lookups.
func exactNames(fd int) bool {
	var sfs unix.Statfs_t
	if hostcall.Fstatfs(fd, &sfs) != nil || !exactFS[int64(sfs.Type)] {
		return false
	}
	if int64(sfs.Type) == unix.EXT4_SUPER_MAGIC || int64(sfs.Type) == unix.F2FS_SUPER_MAGIC {
		flags, err := hostcall.IoctlGetFlags(fd)
		if err != nil || flags&fsCasefoldFL != 0 {
			return false
		}
	}
	return true
}

// listFD reads the whole directory fd from the host, from its start.
func listFD(fd int) ([]fs.DirEntry, error) {
	if _, err := hostcall.Seek(fd, 0, 0); err != nil {
		return nil, errno(err)
	}
	var ents []fs.DirEntry
	buf := make([]byte, 32<<10)
	for {
		k, err := retry(func() (int, error) { return hostcall.Getdents(fd, buf) })
		if err != nil {
			return nil, err
		}
		if k == 0 {
			return ents, nil
		}
		for b := buf[:k]; len(b) >= 19; {
			// struct linux_dirent64: ino u64, off s64, reclen u16, type u8, name.
			reclen := int(binary.NativeEndian.Uint16(b[16:18]))
			if reclen < 19 || reclen > len(b) {
				return nil, unix.EIO
			}
			name := b[19:reclen]
			for i, c := range name {
				if c == 0 {
					name = name[:i]
					break
				}
			}
			e := fs.DirEntry{Name: string(name), Ino: binary.NativeEndian.Uint64(b[0:8]), Type: b[18]}
			b = b[reclen:]
			if e.Name == "." || e.Name == ".." || e.Name == "" {
				continue
			}
			if e.Type == unix.DT_UNKNOWN {
				var st unix.Stat_t
				if hostcall.Fstatat(fd, e.Name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil {
					e.Type = dtype(st.Mode)
				}
			}
			ents = append(ents, e)
		}
	}
}

// memDir is an open directory of a cached tree, listed from memory. It
// holds no host descriptor.
type memDir struct {
	st   unix.Stat_t
	node *node
	mu   sync.Mutex
	// ents, once listed, may be shared with the node's listing: never
	// changed.
	ents   []fs.DirEntry
	listed bool
}

var (
	_ fs.Impl      = (*memDir)(nil)
	_ fs.DirReader = (*memDir)(nil)
	_ fs.FileOps   = (*memDir)(nil)
)

// ReadDir implements fs.DirReader.
func (d *memDir) ReadDir(off, n int) ([]fs.DirEntry, error) {
	if off < 0 || n < 0 {
		return nil, unix.EINVAL
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.listed {
		ents, ok := d.node.cachedListing()
		if !ok {
			var err error
			if ents, err = d.node.listHost(); err != nil {
				return nil, err
			}
		}
		d.ents, d.listed = ents, true
	}
	if off >= len(d.ents) {
		return nil, nil
	}
	return append([]fs.DirEntry(nil), d.ents[off:min(len(d.ents), off+n)]...), nil
}

func (d *memDir) Read([]byte) (int, error)          { return 0, unix.EISDIR }
func (d *memDir) Write([]byte) (int, error)         { return 0, unix.EBADF }
func (d *memDir) Pread([]byte, int64) (int, error)  { return 0, unix.EISDIR }
func (d *memDir) Pwrite([]byte, int64) (int, error) { return 0, unix.EBADF }

// Seek implements fs.Impl; the syscall layer keeps a directory's position
// itself, so this only answers lseek on a directory it did not route.
func (d *memDir) Seek(off int64, whence int) (int64, error) {
	if whence != unix.SEEK_SET || off < 0 {
		return 0, unix.EINVAL
	}
	return off, nil
}

func (d *memDir) Stat() (unix.Stat_t, error) { return d.st, nil }
func (d *memDir) IsTerminal() bool           { return false }
func (d *memDir) Poll(mask int16, timeoutMs int) (int16, error) {
	return mask & (unix.POLLIN | unix.POLLOUT | pollRdNorm | pollWrNorm), nil
}
func (d *memDir) Release() {}

// FileOps: a read-only tree refuses changes.
func (d *memDir) Truncate(size int64) error                { return unix.EISDIR }
func (d *memDir) Sync(dataOnly bool) error                 { return nil }
func (d *memDir) Chmod(mode uint32) error                  { return unix.EROFS }
func (d *memDir) Utimens(atime, mtime unix.Timespec) error { return unix.EROFS }

// listedLink answers Readlink of n from its parent's batch, counting the
// call as a miss of the parent's listing (and running the batch when the
// misses call for it) while there is no batch yet.
func (n *node) listedLink() (string, bool) {
	f := n.fs
	f.mu.Lock()
	parent, name := n.loc.parent, n.loc.name
	if parent == nil || parent.listing == nil {
		f.mu.Unlock()
		return "", false
	}
	l := parent.listing
	if e, ok := l.plus[name]; ok && e.st.Ino == n.ino && e.st.Dev == n.hostDev {
		f.mu.Unlock()
		return e.link, e.hasLink
	}
	batch := false
	if l.plus == nil {
		l.misses++
		batch = l.misses*batchRatio >= len(l.ents)
	}
	f.mu.Unlock()
	if !batch {
		return "", false
	}
	parent.statListing()
	f.mu.Lock()
	defer f.mu.Unlock()
	if e, ok := parent.listing.plus[name]; ok && parent.listing == l && e.st.Ino == n.ino && e.st.Dev == n.hostDev {
		return e.link, e.hasLink
	}
	return "", false
}
