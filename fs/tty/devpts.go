package tty

import (
	"slices"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"ringbox/fs"
)

// GroupTTY is the tty group's ID, the owning group of /dev/pts/N (devpts
// mounted with gid=5,mode=620, as Docker and systemd do).
const GroupTTY = 5

// MaxPTYs bounds the terminals of one sandbox (Linux's default
// /proc/sys/kernel/pty/max is 4096).
const MaxPTYs = 256

// Devpts is the set of a sandbox's terminals: the /dev/pts directory and
// the /dev/ptmx device that makes new ones.
type Devpts struct {
	dev   uint64
	mu    sync.Mutex
	terms map[int]*Terminal
	time  unix.Timespec
}

// NewDevpts makes an empty devpts with device id dev.
func NewDevpts(dev uint64) *Devpts {
	return &Devpts{dev: dev, terms: map[int]*Terminal{}, time: unix.NsecToTimespec(time.Now().UnixNano())}
}

// Dev returns the st_dev of the slaves.
func (d *Devpts) Dev() uint64 { return d.dev }

// Alloc makes a new terminal with the lowest free index, ENOSPC when
// MaxPTYs are in use. It is locked (TIOCSPTLCK) as after open(/dev/ptmx).
func (d *Devpts) Alloc() (*Master, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.reapLocked()
	n := 0
	for ; n < MaxPTYs; n++ {
		if d.terms[n] == nil {
			break
		}
	}
	if n == MaxPTYs {
		return nil, unix.ENOSPC
	}
	t := New(n)
	t.Dev = d.dev
	t.locked = true
	d.terms[n] = t
	return &Master{T: t, dev: d.dev, ino: 2}, nil
}

// reapLocked forgets terminals whose master and slaves are all closed.
func (d *Devpts) reapLocked() {
	for n, t := range d.terms {
		t.mu.Lock()
		gone := !t.masterOpen && t.slaves == 0
		t.mu.Unlock()
		if gone {
			delete(d.terms, n)
		}
	}
}

// Lookup returns terminal n while its master is open.
func (d *Devpts) Lookup(n int) *Terminal {
	d.mu.Lock()
	defer d.mu.Unlock()
	t := d.terms[n]
	if t == nil || !t.MasterOpen() {
		return nil
	}
	return t
}

// live returns the indices of the terminals whose master is open.
func (d *Devpts) live() []int {
	d.mu.Lock()
	defer d.mu.Unlock()
	var ns []int
	for n, t := range d.terms {
		if t.MasterOpen() {
			ns = append(ns, n)
		}
	}
	slices.Sort(ns)
	return ns
}

// Dir returns the /dev/pts directory node, with inode number ino in the
// filesystem that holds it.
func (d *Devpts) Dir(ino uint64) fs.Node { return &ptsDir{d: d, ino: ino} }

// Ptmx returns the /dev/ptmx device node.
func (d *Devpts) Ptmx(ino uint64) fs.Node { return &ptmxNode{d: d, ino: ino} }

// ptsDir is /dev/pts: one entry per open terminal.
type ptsDir struct {
	d   *Devpts
	ino uint64
}

func (p *ptsDir) Stat() (unix.Stat_t, error) {
	return unix.Stat_t{Dev: p.d.dev, Ino: p.ino, Nlink: 2, Mode: unix.S_IFDIR | 0o755, Blksize: 1024,
		Atim: p.d.time, Mtim: p.d.time, Ctim: p.d.time}, nil
}

// ptsPtmxIno is /dev/pts/ptmx's inode (Linux's devpts gives it 2).
const ptsPtmxIno = 2

func (p *ptsDir) Lookup(name string) (fs.Node, error) {
	if name == "ptmx" {
		// As devpts mounted with ptmxmode=0666 (containers' /dev/ptmx
		// is a symlink to it).
		return p.d.Ptmx(ptsPtmxIno), nil
	}
	n, err := strconv.Atoi(name)
	if err != nil || n < 0 || strconv.Itoa(n) != name {
		return nil, unix.ENOENT
	}
	t := p.d.Lookup(n)
	if t == nil {
		return nil, unix.ENOENT
	}
	return &slaveNode{d: p.d, t: t}, nil
}

func (p *ptsDir) Readlink() (string, error) { return "", unix.EINVAL }

// Uncached implements fs.Uncached: terminals come and go.
func (p *ptsDir) Uncached() bool { return true }

func (p *ptsDir) Open(flags int) (fs.Impl, error) {
	if flags&unix.O_ACCMODE != unix.O_RDONLY {
		return nil, unix.EISDIR
	}
	return &ptsDirFile{p: p}, nil
}

// ptsDirFile is an open /dev/pts.
type ptsDirFile struct{ p *ptsDir }

func (h *ptsDirFile) ReadDir(off, n int) ([]fs.DirEntry, error) {
	if off < 0 || n < 0 {
		return nil, unix.EINVAL
	}
	// ptmx first, then the terminals.
	var ents []fs.DirEntry
	if off == 0 && n > 0 {
		ents = append(ents, fs.DirEntry{Name: "ptmx", Ino: ptsPtmxIno, Type: unix.DT_CHR})
		n--
	} else if off > 0 {
		off--
	}
	ns := h.p.d.live()
	if off >= len(ns) {
		return ents, nil
	}
	for _, i := range ns[off:min(len(ns), off+n)] {
		ents = append(ents, fs.DirEntry{Name: strconv.Itoa(i), Ino: slaveIno(i), Type: unix.DT_CHR})
	}
	return ents, nil
}

func (h *ptsDirFile) Read([]byte) (int, error)          { return 0, unix.EISDIR }
func (h *ptsDirFile) Write([]byte) (int, error)         { return 0, unix.EBADF }
func (h *ptsDirFile) Pread([]byte, int64) (int, error)  { return 0, unix.EISDIR }
func (h *ptsDirFile) Pwrite([]byte, int64) (int, error) { return 0, unix.EBADF }
func (h *ptsDirFile) Seek(off int64, whence int) (int64, error) {
	if whence != unix.SEEK_SET || off < 0 {
		return 0, unix.EINVAL
	}
	return off, nil
}
func (h *ptsDirFile) Stat() (unix.Stat_t, error) { return h.p.Stat() }
func (h *ptsDirFile) IsTerminal() bool           { return false }
func (h *ptsDirFile) Poll(m int16, _ int) (int16, error) {
	return m & (unix.POLLIN | unix.POLLOUT), nil
}
func (h *ptsDirFile) Release() {}

// slaveNode is /dev/pts/N.
type slaveNode struct {
	d *Devpts
	t *Terminal
}

func (s *slaveNode) Stat() (unix.Stat_t, error) { return s.t.SlaveStat(s.d.dev), nil }

// Chmod implements fs.AttrChanger (grantpt and terminal programs such as
// screen set the slave's mode).
func (s *slaveNode) Chmod(mode uint32) error {
	s.t.SetPerm(mode)
	return nil
}

// Utimens implements fs.AttrChanger.
func (s *slaveNode) Utimens(atime, mtime unix.Timespec) error {
	s.t.SetTimes(atime, mtime)
	return nil
}

// Chown implements fs.Chowner.
func (s *slaveNode) Chown(uid, gid uint32) error {
	s.t.SetOwner(uid, gid)
	return nil
}
func (s *slaveNode) Lookup(string) (fs.Node, error) { return nil, unix.ENOTDIR }
func (s *slaveNode) Readlink() (string, error)      { return "", unix.EINVAL }
func (s *slaveNode) Open(flags int) (fs.Impl, error) {
	if flags&unix.O_DIRECTORY != 0 {
		return nil, unix.ENOTDIR
	}
	return NewSlave(s.t, s.d.dev)
}

// ptmxNode is /dev/ptmx: each open makes a new terminal.
type ptmxNode struct {
	d   *Devpts
	ino uint64
}

func (p *ptmxNode) Stat() (unix.Stat_t, error) {
	return charStat(p.d.dev, p.ino, unix.Mkdev(ptmxMajor, ptmxMinor), 0o666), nil
}
func (p *ptmxNode) Lookup(string) (fs.Node, error) { return nil, unix.ENOTDIR }
func (p *ptmxNode) Readlink() (string, error)      { return "", unix.EINVAL }
func (p *ptmxNode) Open(flags int) (fs.Impl, error) {
	if flags&unix.O_DIRECTORY != 0 {
		return nil, unix.ENOTDIR
	}
	return p.d.Alloc()
}

// Current is what opening /dev/tty yields before the syscall layer
// replaces it by the caller's controlling terminal; on its own every
// operation is ENXIO.
type Current struct{}

func (Current) Read([]byte) (int, error)          { return 0, unix.ENXIO }
func (Current) Write([]byte) (int, error)         { return 0, unix.ENXIO }
func (Current) Pread([]byte, int64) (int, error)  { return 0, unix.ENXIO }
func (Current) Pwrite([]byte, int64) (int, error) { return 0, unix.ENXIO }
func (Current) Seek(int64, int) (int64, error)    { return 0, unix.ENXIO }
func (Current) Stat() (unix.Stat_t, error)        { return unix.Stat_t{}, unix.ENXIO }
func (Current) IsTerminal() bool                  { return false }
func (Current) Poll(int16, int) (int16, error)    { return 0, unix.ENXIO }
func (Current) Release()                          {}

// slaveIno is the inode number of /dev/pts/n, apart from devfs's own.
func slaveIno(n int) uint64 { return 1<<20 + uint64(n) }
