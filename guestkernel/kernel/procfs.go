package kernel

import (
	"encoding/binary"
	"os"
	"runtime"
	"time"

	"golang.org/x/sys/unix"

	"ringbox/fs"
	"ringbox/fs/procfs"
	"ringbox/guestkernel/mm"
)

// ProcSource is what /proc shows of this kernel (procfs.Source).
type ProcSource struct {
	K       *Kernel
	release string
	version string
	cpuinfo string
}

// NewProcSource makes the kernel's /proc source. cpuinfo is the host's,
// read once at start-up (the sandbox cannot reach the host's /proc).
func NewProcSource(k *Kernel, release, version string) *ProcSource {
	b, _ := os.ReadFile("/proc/cpuinfo")
	return &ProcSource{K: k, release: release, version: version, cpuinfo: string(b)}
}

var _ procfs.Source = (*ProcSource)(nil)

// PIDs implements procfs.Source.
func (s *ProcSource) PIDs() []int32 {
	s.K.mu.Lock()
	defer s.K.mu.Unlock()
	out := make([]int32, 0, len(s.K.groups))
	for pid := range s.K.groups {
		out = append(out, pid)
	}
	return out
}

// Process implements procfs.Source.
func (s *ProcSource) Process(pid int32) (procfs.Process, bool) {
	s.K.mu.Lock()
	tg := s.K.groups[pid]
	s.K.mu.Unlock()
	if tg == nil {
		return nil, false
	}
	return procView{tg}, true
}

// Caller implements procfs.CallerSource: the task whose thread runs the
// lookup (a task goroutine keeps its host thread).
func (s *ProcSource) Caller() (pid, tid int32, ok bool) {
	t := s.K.taskOnThread(unix.Gettid())
	if t == nil {
		return 0, 0, false
	}
	return t.TG.PID, t.TID, true
}

// Uptime implements procfs.Source.
func (s *ProcSource) Uptime() (up, idle float64) {
	u := s.K.Uptime().Seconds()
	return u, u * float64(runtime.NumCPU()) / 2
}

// Memory implements procfs.Source.
func (s *ProcSource) Memory() (total, free, available uint64) {
	limit := uint64(s.K.Mem.Limit())
	used, _ := s.K.Mem.Used()
	return limit, limit - uint64(used), limit - uint64(used)
}

// LoadAvg implements procfs.Source.
func (s *ProcSource) LoadAvg() [3]float64 { return [3]float64{} }

// NumCPU implements procfs.Source.
func (s *ProcSource) NumCPU() int { return runtime.NumCPU() }

// Hostname implements procfs.Source.
func (s *ProcSource) Hostname() string { return s.K.Hostname() }

// Release implements procfs.Source.
func (s *ProcSource) Release() string { return s.release }

// Version implements procfs.Source.
func (s *ProcSource) Version() string { return s.version }

// BootTime implements procfs.Source.
func (s *ProcSource) BootTime() int64 { return s.K.BootTime().Unix() }

// Mounts implements procfs.Source.
func (s *ProcSource) Mounts() []procfs.MountInfo { return s.K.Mounts() }

// CPUInfo implements procfs.Source.
func (s *ProcSource) CPUInfo() string { return s.cpuinfo }

// NetFile implements procfs.Source.
func (s *ProcSource) NetFile(name string) string {
	if s.K.NetProc == nil {
		return ""
	}
	return s.K.NetProc(name)
}

// procView is a thread group as /proc shows it.
type procView struct{ tg *ThreadGroup }

func (p procView) mm() *mm.MM {
	p.tg.mu.Lock()
	defer p.tg.mu.Unlock()
	if len(p.tg.tasks) == 0 {
		return nil
	}
	return p.tg.tasks[0].MM
}

// Mem implements procfs.Process.
func (p procView) Mem() procfs.Memory {
	if m := p.mm(); m != nil {
		return memView{m}
	}
	return nil
}

// memView is an address space for /proc/<pid>/mem.
type memView struct{ m *mm.MM }

// ReadAt implements procfs.Memory.
func (v memView) ReadAt(b []byte, addr int64) (int, error) {
	n, err := v.m.CopyIn(uintptr(addr), b)
	if n == 0 && err != nil {
		return 0, unix.EIO
	}
	return n, nil
}

// WriteAt implements procfs.Memory.
func (v memView) WriteAt(b []byte, addr int64) (int, error) {
	n, err := v.m.ForceCopyOut(uintptr(addr), b)
	if n == 0 && err != nil {
		return 0, unix.EIO
	}
	return n, nil
}

// Info implements procfs.Process.
func (p procView) Info() procfs.ProcInfo {
	tg := p.tg
	c := tg.Creds()
	// Running while a thread runs the program or the kernel works for it,
	// sleeping while every thread waits in the kernel; in a tracing stop
	// while the leader is in a ptrace-stop (Linux shows the leader's
	// state: ltrace and gdb read it to know a tracee has stopped).
	state := byte('S')
	tg.mu.Lock()
	for _, t := range tg.tasks {
		switch st := t.state(); {
		case st == 't' && t.TID == tg.PID:
			state = 't'
		case st == 'R' && state != 't':
			state = 'R'
		}
	}
	tg.mu.Unlock()
	if tg.Exiting() {
		state = 'X'
	}
	var vsz, rss uint64
	comm := ""
	if m := p.mm(); m != nil {
		for _, v := range m.VMAs() {
			vsz += uint64(v.Len())
		}
		rss = uint64(m.ResidentPages()) * 4096
		comm = m.Comm
	}
	um := tg.CurrentUmask()
	k := tg.k
	k.mu.Lock()
	ppid, pgid, sid, zombie := int32(0), tg.pgid, tg.sid, tg.zombie
	if tg.parent != nil {
		ppid = tg.parent.PID
	}
	k.mu.Unlock()
	if zombie {
		state = 'Z'
	}
	start := uint64(tg.started.Sub(k.boot) / (10 * time.Millisecond))
	tg.mu.Lock()
	if tg.stopped {
		state = 'T'
	}
	var caught, ignored uint64
	for i, a := range tg.actions {
		switch a.Handler {
		case SigDfl:
		case SigIgn:
			ignored |= 1 << i
		default:
			caught |= 1 << i
		}
	}
	pending := tg.sigs.mask
	var scMode, scFilters int
	if len(tg.tasks) > 0 {
		scMode, scFilters = tg.tasks[0].SeccompMode()
	}
	tg.mu.Unlock()
	return procfs.ProcInfo{
		PID: tg.PID, PPID: ppid, PGID: pgid, SID: sid, Comm: comm, State: state, Umask: um, StartTime: start,
		Creds: procfs.Creds{UID: c.UID, EUID: c.EUID, SUID: c.SUID, FSUID: c.EUID,
			GID: c.GID, EGID: c.EGID, SGID: c.SGID, FSGID: c.EGID, Groups: c.Groups,
			CapInh: c.Caps.Inheritable, CapPrm: c.Caps.Permitted, CapEff: c.Caps.Effective,
			CapBnd: c.Caps.Bounding, CapAmb: c.Caps.Ambient},
		VMSize: vsz, VMRSS: rss, UTime: uint64(tg.CPUTime() / (10 * time.Millisecond)), SigSharedPending: pending, SigIgnored: ignored, SigCaught: caught,
		NoNewPrivs: tg.NoNewPrivs(), Undumpable: !tg.Dumpable(), Seccomp: scMode, SeccompFilters: scFilters,
	}
}

// Threads implements procfs.Process.
func (p procView) Threads() []procfs.Thread {
	p.tg.mu.Lock()
	defer p.tg.mu.Unlock()
	out := make([]procfs.Thread, 0, len(p.tg.tasks))
	for _, t := range p.tg.tasks {
		out = append(out, procfs.Thread{TID: t.TID, Comm: t.nameLocked(), State: t.state(), TracerPID: t.pt.tracerPID.Load()})
	}
	return out
}

func (p procView) userRange(lo, hi uintptr) []byte {
	m := p.mm()
	if m == nil || hi <= lo || hi-lo > 1<<20 {
		return nil
	}
	b := make([]byte, hi-lo)
	n, _ := m.CopyIn(lo, b)
	return b[:n]
}

// Cmdline implements procfs.Process.
func (p procView) Cmdline() []byte {
	m := p.mm()
	if m == nil {
		return nil
	}
	return p.userRange(m.ArgStart, m.ArgEnd)
}

// Environ implements procfs.Process.
func (p procView) Environ() []byte {
	m := p.mm()
	if m == nil {
		return nil
	}
	return p.userRange(m.EnvStart, m.EnvEnd)
}

// Exe implements procfs.Process.
func (p procView) Exe() string {
	if m := p.mm(); m != nil {
		return m.Exe
	}
	return ""
}

// Cwd implements procfs.Process.
func (p procView) Cwd() string {
	if d := p.tg.Cwd(); d != nil {
		return d.Path(p.tg.FSRoot())
	}
	return ""
}

// Root implements procfs.Process.
func (p procView) Root() string { return "/" }

// Maps implements procfs.Process.
func (p procView) Maps() []procfs.Mapping {
	m := p.mm()
	if m == nil {
		return nil
	}
	var out []procfs.Mapping
	for _, v := range m.VMAs() {
		perms := []byte("---p")
		if v.Prot&mm.ProtRead != 0 {
			perms[0] = 'r'
		}
		if v.Prot&mm.ProtWrite != 0 {
			perms[1] = 'w'
		}
		if v.Prot&mm.ProtExec != 0 {
			perms[2] = 'x'
		}
		if v.Shared {
			perms[3] = 's'
		}
		out = append(out, procfs.Mapping{Start: uint64(v.Start), End: uint64(v.End), Perms: string(perms),
			Offset: v.Offset, Dev: "00:00", Inode: v.Inode, Path: v.Name})
	}
	return out
}

// File implements procfs.Process.
func (p procView) File(fd int) *fs.File {
	f, err := p.tg.fdTable().GetRef(fd)
	if err != nil {
		return nil
	}
	return f
}

// FDs implements procfs.Process.
func (p procView) FDs() []procfs.FD {
	var out []procfs.FD
	p.tg.fdTable().Each(func(fd int, f *fs.File, cloexec bool) {
		path := "anon_inode:[unknown]"
		if f.Dentry != nil {
			path = f.Dentry.Path(p.tg.FSRoot())
		} else if n, ok := f.Impl.(fs.Namer); ok {
			path = n.Name() // pipe:[N], anon_inode:[eventfd] ...
		} else if fd <= 2 {
			path = "pipe:[1]"
		}
		flags := f.Flags() | 0x8000
		if cloexec {
			flags |= unix.O_CLOEXEC
		}
		pos, _ := f.Seek(0, unix.SEEK_CUR)
		var info string
		if fi, ok := f.Impl.(fs.FDInfoer); ok {
			info = fi.FDInfo()
		}
		out = append(out, procfs.FD{Num: fd, Path: path, Flags: flags, Pos: pos, Info: info})
	})
	return out
}

// Limits implements procfs.Process.
func (p procView) Limits() [procfs.NumLimits]unix.Rlimit {
	var out [procfs.NumLimits]unix.Rlimit
	p.tg.mu.Lock()
	copy(out[:], p.tg.limits[:])
	p.tg.mu.Unlock()
	return out
}

// Auxv implements procfs.Process.
func (p procView) Auxv() []byte {
	m := p.mm()
	if m == nil {
		return nil
	}
	b := make([]byte, 8*len(m.Auxv))
	for i, v := range m.Auxv {
		binary.LittleEndian.PutUint64(b[8*i:], v)
	}
	return b
}
