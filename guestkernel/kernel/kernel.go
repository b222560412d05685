package kernel

import (
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"ringbox/fs"
	"ringbox/fs/inotify"
	"ringbox/fs/lock"
	"ringbox/fs/pipe"
	"ringbox/fs/procfs"
	"ringbox/guestkernel/ipc"
	"ringbox/guestkernel/memfile"
	"ringbox/guestkernel/mm"
	"ringbox/guestkernel/platform"
)

// SyscallTable dispatches one system call. It returns the raw return value
// (a negative errno on failure).
type SyscallTable interface {
	Dispatch(t *Task, nr uintptr, args [6]uintptr) uintptr
}

// Kernel is one sandbox's application kernel.
type Kernel struct {
	Platform platform.Platform
	Mem      *memfile.File
	Syscalls SyscallTable
	Log      *slog.Logger
	// OnOOM, when set, is told of a process killed because the sandbox's
	// memory is used up (otherwise the kernel logs a warning).
	OnOOM func(pid int32)
	// Strace, when set, receives one line per system call.
	Strace io.Writer
	// uts is the sandbox's host and domain name (uname, sethostname).
	uts struct {
		mu           sync.Mutex
		host, domain string
	}
	// VFS is the sandbox's file tree (nil: no file system, stdio only).
	VFS *fs.VFS
	// MountTable is what /proc/mounts shows: set before the sandbox
	// starts, then changed by mount(2) and umount2(2) through AddMount,
	// RemoveMount and SetMountAccess (under mountMu).
	MountTable []procfs.MountInfo
	mountMu    sync.Mutex
	nextMount  int
	// NetProc, when set, writes /proc/net/NAME ("" for a file it does
	// not know): the network's sockets and interfaces.
	NetProc func(name string) string
	// HWCap is CPUID.1:EDX, for AT_HWCAP.
	HWCap uint64
	// VDSO is mapped into every program at exec (nil: none).
	VDSO *mm.VDSO

	// MaxTasks bounds the live tasks (threads) of the sandbox (--pids);
	// clone and fork fail with EAGAIN past it.
	MaxTasks int

	boot    time.Time
	nextPID atomic.Int32

	// mu guards groups and the process tree (process.go).
	mu     sync.Mutex
	groups map[int32]*ThreadGroup
	procs  procTable
	// cttys are the sessions' controlling terminals (ctty.go), under mu.
	cttys map[int32]any
	// runTokens bound how many tasks run user code at once (--cpus);
	// nil: no bound beyond the host's CPUs.
	runTokens chan struct{}

	unknownMu sync.Mutex
	unknown   map[uintptr]bool
	messages  map[string]bool

	futex FutexTable // futex.go

	// IPC is the sandbox's System V IPC namespace.
	IPC *ipc.Namespace
	// Locks are the advisory file locks of every process (fcntl, flock).
	Locks *lock.Manager
	// Notify carries file events to the sandbox's inotify watches.
	Notify *inotify.Hub
	// FIFOs holds the pipes of the FIFO nodes that are open.
	FIFOs pipe.FIFOs
}

// New makes a kernel.
func New(p platform.Platform, mem *memfile.File, log *slog.Logger) *Kernel {
	k := &Kernel{Platform: p, Mem: mem, Log: log, boot: time.Now(),
		groups: map[int32]*ThreadGroup{}, unknown: map[uintptr]bool{}, MaxTasks: DefaultMaxTasks}
	k.uts.host, k.uts.domain = "ringbox", "(none)"
	k.procs.init()
	k.IPC = ipc.NewNamespace(mem)
	k.Locks = lock.New()
	k.Notify = inotify.NewHub()
	k.nextPID.Store(1)
	k.futex.taskByTID = k.futexTaskByTID
	return k
}

// Uptime is the time since the kernel started (CLOCK_BOOTTIME).
func (k *Kernel) Uptime() time.Duration { return time.Since(k.boot) }

// BootTime is when the kernel started.
func (k *Kernel) BootTime() time.Time { return k.boot }

// FirstUnknown reports whether this is the first time syscall nr was found
// unimplemented (so it is logged once).
func (k *Kernel) FirstUnknown(nr uintptr) bool {
	k.unknownMu.Lock()
	defer k.unknownMu.Unlock()
	if k.unknown[nr] {
		return false
	}
	k.unknown[nr] = true
	return true
}

// FirstMessage reports whether msg is new (so it is logged once).
func (k *Kernel) FirstMessage(msg string) bool {
	k.unknownMu.Lock()
	defer k.unknownMu.Unlock()
	if k.messages == nil {
		k.messages = map[string]bool{}
	}
	if k.messages[msg] || len(k.messages) > 1000 {
		return false
	}
	k.messages[msg] = true
	return true
}

func (k *Kernel) allocPID() int32 { return k.nextPID.Add(1) - 1 }

// fileDropped is told by a descriptor table of each file it closes: the
// table's POSIX locks on the file go (on any close of it, as POSIX has).
func (k *Kernel) fileDropped(t *fs.FDTable, f *fs.File) {
	if !k.Locks.HoldsPOSIX(t) {
		return
	}
	if key, err := lock.KeyOf(f); err == nil {
		k.Locks.ReleasePOSIX(key, t)
	}
}

// Hostname returns the sandbox's host name (uname's nodename).
func (k *Kernel) Hostname() string { return k.utsName(&k.uts.host) }

// SetHostname changes the host name (sethostname; --hostname).
func (k *Kernel) SetHostname(name string) { k.setUTSName(&k.uts.host, name) }

// Domainname returns the NIS domain name ("(none)" until set).
func (k *Kernel) Domainname() string { return k.utsName(&k.uts.domain) }

// SetDomainname changes the NIS domain name (setdomainname).
func (k *Kernel) SetDomainname(name string) { k.setUTSName(&k.uts.domain, name) }

func (k *Kernel) utsName(p *string) string {
	k.uts.mu.Lock()
	defer k.uts.mu.Unlock()
	return *p
}

func (k *Kernel) setUTSName(p *string, v string) {
	k.uts.mu.Lock()
	*p = v
	k.uts.mu.Unlock()
}
