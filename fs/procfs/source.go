package procfs

import (
	"golang.org/x/sys/unix"

	"ringbox/fs"
)

// Source is what /proc shows, supplied by the kernel. Its methods are
// called at lookup, stat and open time (a file's content is generated
// once, when it is opened), from any goroutine: they must be safe for
// concurrent use and must not call back into the VFS.
type Source interface {
	// PIDs returns the thread-group IDs of the live processes (zombies
	// included), in any order.
	PIDs() []int32
	// Process returns the process of thread-group ID pid. It may also
	// answer for the ID of a thread that is not a group leader (its
	// ProcInfo.PID is then the group's): /proc/<tid> then exists, unlisted,
	// as on Linux.
	Process(pid int32) (Process, bool)

	// Uptime returns the seconds since boot and the seconds the CPUs have
	// been idle in that time (summed over CPUs, as /proc/uptime).
	Uptime() (up, idle float64)
	// Memory returns the memory totals in bytes.
	Memory() (total, free, available uint64)
	// LoadAvg returns the 1, 5 and 15 minute load averages.
	LoadAvg() [3]float64
	NumCPU() int
	Hostname() string
	Release() string // uname -r, e.g. "6.8.0-ringbox"
	Version() string // uname -v, e.g. "#1 SMP ringbox"
	BootTime() int64 // unix seconds
	// Mounts returns the mount table, parents before children.
	Mounts() []MountInfo
	// CPUInfo returns /proc/cpuinfo as is (the kernel passes a filtered
	// copy of the host's). "" makes procfs write a minimal one, a block
	// per CPU.
	CPUInfo() string
	// NetFile returns /proc/net/NAME (tcp, tcp6, udp, udp6, unix, dev,
	// if_inet6, route).
	NetFile(name string) string
}

// Process is one thread group.
type Process interface {
	// Info returns a consistent snapshot of the process's scalars.
	Info() ProcInfo
	// File returns the open file at descriptor fd with a reference for
	// the caller, or nil.
	File(fd int) *fs.File
	// Threads returns the threads, the leader first.
	Threads() []Thread
	// Cmdline returns the argument area as in memory: NUL-terminated
	// arguments.
	Cmdline() []byte
	// Environ returns the environment area as in memory.
	Environ() []byte
	// Exe, Cwd and Root are paths in the sandbox, as the process sees
	// them ("" if there is none: the link is then ENOENT).
	Exe() string
	Cwd() string
	Root() string
	// Maps returns the memory mappings in address order.
	Maps() []Mapping
	// FDs returns the open descriptors (any order).
	FDs() []FD
	// Limits returns the resource limits, indexed by RLIMIT_*.
	Limits() [NumLimits]unix.Rlimit
	// Auxv returns the auxiliary vector as on the stack (pairs of
	// native-endian uint64, ending with AT_NULL).
	Auxv() []byte
	// Mem returns the address space (nil once the process has none).
	Mem() Memory
}

// NumLimits is the number of RLIMIT_* resources (RLIMIT_RTTIME + 1).
const NumLimits = unix.RLIMIT_RTTIME + 1

// RlimInfinity is RLIM_INFINITY, shown as "unlimited".
const RlimInfinity = ^uint64(0)

// ProcInfo are a process's scalar attributes. For a process whose threads
// share them (IDs, credentials, memory) they are the group's; State and
// the CPU times are the whole group's too (a thread's own are in Thread).
type ProcInfo struct {
	PID  int32 // thread-group ID
	PPID int32
	PGID int32
	SID  int32
	// Comm is the name (at most 15 bytes are shown).
	Comm string
	// State is one of Linux's task states: 'R' running, 'S' sleeping,
	// 'D' disk sleep, 'T' stopped, 't' tracing stop, 'Z' zombie, 'X' dead.
	State byte
	Umask uint32
	Creds Creds
	// StartTime is when the process started, in clock ticks (USER_HZ,
	// 100 a second) after boot.
	StartTime uint64
	// VMSize and VMRSS are the virtual and resident sizes in bytes.
	VMSize, VMRSS uint64
	// UTime and STime are the CPU time used, in clock ticks.
	UTime, STime uint64
	// Signal sets, bit n-1 for signal n.
	SigPending       uint64 // the leader's own
	SigSharedPending uint64 // the group's
	SigBlocked       uint64 // the leader's mask
	SigIgnored       uint64
	SigCaught        uint64 // with a handler
	// NoNewPrivs is PR_GET_NO_NEW_PRIVS; Seccomp the leader's seccomp
	// mode (0, 1 strict, 2 filter) and SeccompFilters its filters.
	NoNewPrivs bool
	// Undumpable is PR_GET_DUMPABLE 0: the process's /proc/PID files
	// belong to root.
	Undumpable     bool
	Seccomp        int
	SeccompFilters int
}

// Creds are the user and group IDs.
type Creds struct {
	UID, EUID, SUID, FSUID uint32
	GID, EGID, SGID, FSGID uint32
	Groups                 []uint32 // supplementary groups
	// The capability sets, a bit per capability.
	CapInh, CapPrm, CapEff, CapBnd, CapAmb uint64
}

// Thread is one thread of a process. Empty fields take the process's
// values.
type Thread struct {
	TID   int32
	Comm  string
	State byte
	// TracerPID is the process that ptraces the thread (0: none).
	TracerPID int32
	// UTime and STime are the thread's CPU time, in clock ticks.
	UTime, STime uint64
}

// Mapping is one line of /proc/<pid>/maps.
type Mapping struct {
	Start, End uint64
	Perms      string // "r-xp": read, write, execute, then 's'hared or 'p'rivate
	Offset     uint64
	Dev        string // "fe:01" ("" is "00:00")
	Inode      uint64
	// Path is the file's path in the sandbox, or a name such as "[heap]",
	// "[stack]", "[vdso]"; "" for anonymous memory.
	Path string
}

// FD is one open descriptor.
type FD struct {
	Num int
	// Path is what /proc/<pid>/fd/<n> points at: a path in the sandbox, or
	// a name such as "pipe:[N]", "socket:[N]", "anon_inode:[eventfd]".
	Path string
	// Flags are the open flags (access mode, O_APPEND, O_NONBLOCK ...),
	// with O_CLOEXEC when the descriptor has FD_CLOEXEC.
	Flags int
	Pos   int64
	MntID int    // the mount's ID as in mountinfo
	Ino   uint64 // the file's inode number
	// Info is more of fdinfo's lines, each ending in a newline (an
	// inotify file's watches).
	Info string
}

// MountInfo is one mount.
type MountInfo struct {
	// ID and ParentID are the mount IDs of mountinfo; zero IDs are
	// numbered by procfs (the parent being the mount whose target holds
	// this one's).
	ID, ParentID int
	// Dev is the filesystem's st_dev (unix.Mkdev).
	Dev uint64
	// Root is the directory of the filesystem mounted there ("" is "/").
	Root    string
	Source  string // "proc", "/dev/sda1", "none" ...
	Target  string // absolute path in the sandbox
	FSType  string
	Options string // "rw,nosuid,nodev,relatime"
}
