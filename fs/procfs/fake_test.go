package procfs

import (
	"encoding/binary"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"ringbox/fs"
)

// fakeSource is a Source of fixed processes.
type fakeSource struct {
	mu      sync.Mutex
	procs   map[int32]*fakeProc
	mounts  []MountInfo
	cpuinfo string
}

var _ Source = (*fakeSource)(nil)

func (s *fakeSource) PIDs() []int32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var pids []int32
	for pid := range s.procs {
		pids = append(pids, pid)
	}
	return pids
}

func (s *fakeSource) Process(pid int32) (Process, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.procs[pid]; ok {
		return p, true
	}
	for _, p := range s.procs {
		for _, t := range p.threads {
			if t.TID == pid {
				return p, true
			}
		}
	}
	return nil, false
}

func (s *fakeSource) remove(pid int32) {
	s.mu.Lock()
	delete(s.procs, pid)
	s.mu.Unlock()
}

func (s *fakeSource) Uptime() (float64, float64) { return 1234.567, 4000.999 }
func (s *fakeSource) Memory() (uint64, uint64, uint64) {
	return 8 << 30, 6 << 30, 7 << 30
}
func (s *fakeSource) LoadAvg() [3]float64 { return [3]float64{0.5, 0.256, 1.125} }
func (s *fakeSource) NumCPU() int         { return 4 }
func (s *fakeSource) Hostname() string    { return "box" }
func (s *fakeSource) Release() string     { return "6.8.0-ringbox" }
func (s *fakeSource) Version() string     { return "#1 SMP ringbox" }
func (s *fakeSource) BootTime() int64     { return 1700000000 }
func (s *fakeSource) Mounts() []MountInfo { return s.mounts }
func (s *fakeSource) CPUInfo() string     { return s.cpuinfo }
func (s *fakeSource) NetFile(name string) string {
	return "net " + name + "\n"
}

// fakeProc is a Process of fixed attributes.
type fakeProc struct {
	mu      sync.Mutex
	info    ProcInfo
	threads []Thread
	cmdline []byte
	environ []byte
	auxv    []byte
	exe     string
	cwd     string
	root    string
	maps    []Mapping
	fds     []FD
	files   map[int]*fs.File // what File returns, by descriptor
	limits  [NumLimits]unix.Rlimit
	mem     *fakeMem // nil: no address space
}

// fakeMem is memory from base to base+len(b); elsewhere is unmapped.
type fakeMem struct {
	base int64
	b    []byte
}

func (m *fakeMem) ReadAt(p []byte, addr int64) (int, error) {
	if addr < m.base || addr >= m.base+int64(len(m.b)) {
		return 0, unix.EIO
	}
	return copy(p, m.b[addr-m.base:]), nil
}

func (m *fakeMem) WriteAt(p []byte, addr int64) (int, error) {
	if addr < m.base || addr >= m.base+int64(len(m.b)) {
		return 0, unix.EIO
	}
	return copy(m.b[addr-m.base:], p), nil
}

func (p *fakeProc) File(fd int) *fs.File {
	p.mu.Lock()
	defer p.mu.Unlock()
	f := p.files[fd]
	if f != nil {
		f.IncRef()
	}
	return f
}

func (p *fakeProc) Info() ProcInfo {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.info
}
func (p *fakeProc) Threads() []Thread {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Thread(nil), p.threads...)
}
func (p *fakeProc) Cmdline() []byte { return p.cmdline }
func (p *fakeProc) Environ() []byte { return p.environ }
func (p *fakeProc) Exe() string     { return p.exe }
func (p *fakeProc) Cwd() string     { return p.cwd }
func (p *fakeProc) Root() string    { return p.root }
func (p *fakeProc) Maps() []Mapping { return p.maps }
func (p *fakeProc) FDs() []FD {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]FD(nil), p.fds...)
}
func (p *fakeProc) Limits() [NumLimits]unix.Rlimit { return p.limits }
func (p *fakeProc) Auxv() []byte                   { return p.auxv }
func (p *fakeProc) Mem() Memory {
	if p.mem == nil {
		return nil
	}
	return p.mem
}

func defaultLimits() [NumLimits]unix.Rlimit {
	var l [NumLimits]unix.Rlimit
	for i := range l {
		l[i] = unix.Rlimit{Cur: RlimInfinity, Max: RlimInfinity}
	}
	l[unix.RLIMIT_STACK] = unix.Rlimit{Cur: 8 << 20, Max: RlimInfinity}
	l[unix.RLIMIT_CORE] = unix.Rlimit{Cur: 0, Max: RlimInfinity}
	l[unix.RLIMIT_NOFILE] = unix.Rlimit{Cur: 1024, Max: 1 << 20}
	l[unix.RLIMIT_SIGPENDING] = unix.Rlimit{Cur: 4096, Max: 4096}
	l[unix.RLIMIT_NICE] = unix.Rlimit{}
	l[unix.RLIMIT_RTPRIO] = unix.Rlimit{}
	return l
}

func auxv(pairs ...uint64) []byte {
	b := make([]byte, 0, 8*len(pairs))
	for _, v := range pairs {
		b = binary.NativeEndian.AppendUint64(b, v)
	}
	return b
}

// newFake makes a source with:
//   - 1 "init": sleeping, root, one thread;
//   - 10 "a) b (c" (a name with parentheses and spaces): running,
//     uid 1000, threads 10 and 11 ("worker", sleeping), fds 0-2 and 3;
//   - 20: a zombie of 10.
func newFake() *fakeSource {
	init1 := &fakeProc{
		info: ProcInfo{PID: 1, PPID: 0, PGID: 1, SID: 1, Comm: "init", State: 'S', Umask: 0o022,
			StartTime: 5, VMSize: 1 << 20, VMRSS: 256 << 10},
		threads: []Thread{{TID: 1}},
		cmdline: []byte("/sbin/init\x00"),
		exe:     "/sbin/init", cwd: "/", root: "/",
		limits: defaultLimits(),
	}
	p10 := &fakeProc{
		info: ProcInfo{PID: 10, PPID: 1, PGID: 10, SID: 1, Comm: "a) b (c", State: 'R', Umask: 0o027,
			Creds:     Creds{UID: 1000, EUID: 1001, SUID: 1002, FSUID: 1003, GID: 100, EGID: 101, SGID: 102, FSGID: 103, Groups: []uint32{100, 27}},
			StartTime: 4200, VMSize: 10 << 20, VMRSS: 3 << 20, UTime: 77, STime: 33,
			SigPending: 1 << 9, SigSharedPending: 1 << 14, SigBlocked: 1<<1 | 1<<63, SigIgnored: 1 << 12, SigCaught: 1<<1 | 1<<16,
			NoNewPrivs: true, Seccomp: 2, SeccompFilters: 3},
		threads: []Thread{{TID: 10, UTime: 70, STime: 30}, {TID: 11, Comm: "worker", State: 'S', UTime: 7, STime: 3}},
		cmdline: []byte("/bin/prog\x00-v\x00arg with space\x00"),
		environ: []byte("HOME=/home/u\x00PATH=/bin\x00"),
		auxv:    auxv(6, 4096, 11, 1000, 0, 0),
		exe:     "/bin/prog", cwd: "/home/u", root: "/",
		maps: []Mapping{
			{Start: 0x400000, End: 0x401000, Perms: "r--p", Dev: "fd:01", Inode: 1234, Path: "/bin/prog"},
			{Start: 0x401000, End: 0x403000, Perms: "r-xp", Offset: 0x1000, Dev: "fd:01", Inode: 1234, Path: "/bin/prog"},
			{Start: 0x403000, End: 0x404000, Perms: "rw-p", Offset: 0x3000, Dev: "fd:01", Inode: 1234, Path: "/bin/prog"},
			{Start: 0x404000, End: 0x425000, Perms: "rw-p", Path: "[heap]"},
			{Start: 0x7f0000000000, End: 0x7f0000010000, Perms: "r-xp", Dev: "fd:01", Inode: 99, Path: "/lib/libc.so.6"},
			{Start: 0x7f0000010000, End: 0x7f0000014000, Perms: "rw-p"},
			{Start: 0x7f0000020000, End: 0x7f0000021000, Perms: "rw-s", Dev: "00:05", Inode: 7, Path: "/dev/zero (deleted)"},
			{Start: 0x7ffc00000000, End: 0x7ffc00021000, Perms: "rw-p", Path: "[stack]"},
		},
		fds: []FD{
			{Num: 0, Path: "/dev/null", Flags: unix.O_RDONLY, MntID: 3, Ino: 5},
			{Num: 1, Path: "pipe:[42]", Flags: unix.O_WRONLY | unix.O_NONBLOCK},
			{Num: 2, Path: "socket:[43]", Flags: unix.O_RDWR | unix.O_CLOEXEC, Pos: 0},
			{Num: 3, Path: "/proc/version", Flags: unix.O_RDONLY | unix.O_CLOEXEC | 0x8000, Pos: 123, MntID: 2, Ino: 77},
		},
		limits: defaultLimits(),
	}
	p20 := &fakeProc{
		info:    ProcInfo{PID: 20, PPID: 10, PGID: 10, SID: 1, Comm: "dead", State: 'Z', StartTime: 9000},
		threads: []Thread{{TID: 20}},
		cmdline: []byte("dead\x00"),
		limits:  defaultLimits(),
	}
	return &fakeSource{
		procs: map[int32]*fakeProc{1: init1, 10: p10, 20: p20},
		mounts: []MountInfo{
			{Dev: unix.Mkdev(0, 0x1001), Source: "/dev/root", Target: "/", FSType: "ext4", Options: "ro,relatime,errors=remount-ro"},
			{Dev: Dev, Source: "proc", Target: "/proc", FSType: "proc", Options: "rw,nosuid,nodev,noexec,relatime"},
			{Dev: unix.Mkdev(0, 0x1002), Source: "tmpfs", Target: "/tmp", FSType: "tmpfs", Options: "rw,size=65536k,mode=1777"},
			{Dev: unix.Mkdev(0, 0x1003), Root: "/data dir", Source: "/host/my data", Target: "/tmp/my mnt", FSType: "hostfs", Options: "rw"},
		},
	}
}

// walk looks path up from n, component by component (no symlinks).
func walk(t *testing.T, n fs.Node, path string) fs.Node {
	t.Helper()
	n, err := lookup(n, path)
	require.NoError(t, err, path)
	return n
}

func lookup(n fs.Node, path string) (fs.Node, error) {
	for _, c := range strings.Split(path, "/") {
		if c == "" {
			continue
		}
		var err error
		if n, err = n.Lookup(c); err != nil {
			return nil, err
		}
	}
	return n, nil
}

// read opens n and reads it whole, in small pieces.
func read(t *testing.T, n fs.Node) string {
	t.Helper()
	impl, err := n.Open(unix.O_RDONLY)
	require.NoError(t, err)
	defer impl.Release()
	var b strings.Builder
	buf := make([]byte, 7)
	for {
		k, err := impl.Read(buf)
		require.NoError(t, err)
		if k == 0 {
			return b.String()
		}
		b.Write(buf[:k])
	}
}

// readPath reads the file at path below n.
func readPath(t *testing.T, n fs.Node, path string) string {
	t.Helper()
	return read(t, walk(t, n, path))
}

// list returns the names of directory n, read three at a time.
func list(t *testing.T, n fs.Node) []string {
	t.Helper()
	var names []string
	for _, e := range listEntries(t, n) {
		names = append(names, e.Name)
	}
	return names
}

func listEntries(t *testing.T, n fs.Node) []fs.DirEntry {
	t.Helper()
	impl, err := n.Open(unix.O_RDONLY | unix.O_DIRECTORY)
	require.NoError(t, err)
	defer impl.Release()
	dr, ok := impl.(fs.DirReader)
	require.True(t, ok)
	var all []fs.DirEntry
	for off := 0; ; {
		ents, err := dr.ReadDir(off, 3)
		require.NoError(t, err)
		if len(ents) == 0 {
			return all
		}
		all = append(all, ents...)
		off += len(ents)
	}
}
