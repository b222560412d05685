package confine

import (
	"os"

	"golang.org/x/sys/unix"
)

// Clone flags a new thread has (Go's runtime, the host I/O thread), and
// the namespace flags none may have.
const (
	cloneThread = unix.CLONE_VM | unix.CLONE_FS | unix.CLONE_FILES | unix.CLONE_SIGHAND | unix.CLONE_THREAD
	cloneNew    = unix.CLONE_NEWNS | unix.CLONE_NEWUSER | unix.CLONE_NEWPID | unix.CLONE_NEWNET |
		unix.CLONE_NEWIPC | unix.CLONE_NEWUTS | unix.CLONE_NEWCGROUP
	prSetVMA  = 0x53564d41 // PR_SET_VMA: Go names its anonymous mappings
	archSetFS = 0x1002
	archGetFS = 0x1003
)

// Terminal requests ringbox makes on the host terminal (-t, and a host
// descriptor given as the program's stdio).
var terminalIoctls = []uint32{unix.TCGETS, unix.TCSETS, unix.TCSETSW, unix.TCSETSF, unix.TIOCGWINSZ, unix.TIOCGPGRP}

// hostSyscalls is every host syscall ringbox makes once set up, with why.
// Found by reading the code (vmm, ring0's VMM loop, guestkernel/hostcall,
// fs/hostfs, fs/hostfd, cmd/ringbox, Go's runtime) and checked with strace
// over the e2e workloads (docs/how-it-works.md says how). The most
// frequent come first: the filter tries them in order.
func hostSyscalls() []hostSyscall {
	var ioctl []allow
	// KVM's requests all have type 0xAE (KVMIO) in bits 8-15.
	ioctl = append(ioctl, allow{[]check{{1, 0xff00, 0xae00}}})
	ioctl = append(ioctl, argIs(1, terminalIoctls...)...)
	ioctl = append(ioctl, argIs(1, unix.FS_IOC_GETFLAGS)...)
	return []hostSyscall{
		{unix.SYS_IOCTL, "ioctl", "KVM_RUN and the other KVM requests on the KVM, VM and vCPU descriptors; terminal settings and size of the host terminal; FS_IOC_GETFLAGS: whether a host directory folds case (fs/hostfs)", ioctl, 0},
		{unix.SYS_FUTEX, "futex", "Go's runtime (locks, sleeping Ms), the host I/O thread's wake-ups", always, 0},
		{unix.SYS_NANOSLEEP, "nanosleep", "Go's runtime (usleep), the host I/O thread's back-off", always, 0},
		{unix.SYS_EPOLL_PWAIT, "epoll_pwait", "Go's network poller (host terminal, pipes of stdio)", always, 0},
		{unix.SYS_PREAD64, "pread64", "host file reads (fs/hostfs, page cache)", always, 0},
		{unix.SYS_PREADV, "preadv", "host file reads into several buffers", always, 0},
		{unix.SYS_PWRITE64, "pwrite64", "host file writes (read-write bind mounts)", always, 0},
		{unix.SYS_PWRITEV, "pwritev", "host file writes from several buffers", always, 0},
		{unix.SYS_READ, "read", "stdio and the host terminal, Go's poller wake-up", always, 0},
		{unix.SYS_WRITE, "write", "stdio, logs, Go's poller wake-up", always, 0},
		{unix.SYS_READV, "readv", "stdio", always, 0},
		{unix.SYS_WRITEV, "writev", "stdio", always, 0},
		{unix.SYS_SCHED_YIELD, "sched_yield", "Go's runtime (spinning locks)", always, 0},
		{unix.SYS_GETPID, "getpid", "Go's runtime (signals to itself)", always, 0},
		{unix.SYS_GETTID, "gettid", "Go's runtime, ring0 contexts binding to their thread", always, 0},
		{unix.SYS_TGKILL, "tgkill", "Go's preemption (SIGURG) and kicks of vCPU threads: this process's threads only", argIs(0, uint32(os.Getpid())), 0},
		{unix.SYS_RT_SIGRETURN, "rt_sigreturn", "return from Go's signal handler", always, 0},
		{unix.SYS_RT_SIGACTION, "rt_sigaction", "Go's runtime and os/signal", always, 0},
		{unix.SYS_RT_SIGPROCMASK, "rt_sigprocmask", "Go's runtime, the host I/O thread", always, 0},
		{unix.SYS_SIGALTSTACK, "sigaltstack", "Go's runtime, on every new M", always, 0},
		{unix.SYS_FSTAT, "fstat", "host files (fs/hostfs), stdio", always, 0},
		{unix.SYS_NEWFSTATAT, "newfstatat", "host files by name under a mount's directory", always, 0},
		{unix.SYS_STATX, "statx", "host file attributes", always, 0},
		{unix.SYS_FSTATFS, "fstatfs", "which host trees are pseudo filesystems (fs/hostfs)", always, 0},
		{unix.SYS_OPENAT2, "openat2", "host files, RESOLVE_BENEATH under a mount's directory", always, 0},
		{unix.SYS_OPENAT, "openat", "/proc/self/maps (ring0 mode mirrors new host memory; the root is empty otherwise)", always, 0},
		{unix.SYS_CLOSE, "close", "host descriptors", always, 0},
		{unix.SYS_FCNTL, "fcntl", "descriptor flags (O_NONBLOCK, FD_CLOEXEC, F_DUPFD_CLOEXEC)", always, 0},
		{unix.SYS_LSEEK, "lseek", "host files", always, 0},
		{unix.SYS_GETDENTS64, "getdents64", "host directories", always, 0},
		{unix.SYS_READLINKAT, "readlinkat", "host symbolic links", always, 0},
		{unix.SYS_MKDIRAT, "mkdirat", "read-write bind mounts", always, 0},
		{unix.SYS_UNLINKAT, "unlinkat", "read-write bind mounts", always, 0},
		{unix.SYS_RENAMEAT2, "renameat2", "read-write bind mounts", always, 0},
		{unix.SYS_SYMLINKAT, "symlinkat", "read-write bind mounts", always, 0},
		{unix.SYS_MKNODAT, "mknodat", "the name of a sandbox socket bound, or of a FIFO made, in a read-write bind mount: socket and FIFO nodes only (never a device)", []allow{{[]check{{2, unix.S_IFMT, unix.S_IFSOCK}}}, {[]check{{2, unix.S_IFMT, unix.S_IFIFO}}}}, 0},
		{unix.SYS_LINKAT, "linkat", "read-write bind mounts", always, 0},
		{unix.SYS_FCHMOD, "fchmod", "read-write bind mounts", always, 0},
		{unix.SYS_FCHMODAT, "fchmodat", "read-write bind mounts", always, 0},
		{452, "fchmodat2", "read-write bind mounts (chmod without following a link)", always, 0},
		{unix.SYS_UTIMENSAT, "utimensat", "read-write bind mounts", always, 0},
		{unix.SYS_FGETXATTR, "fgetxattr", "user.* attributes of host files", always, 0},
		{unix.SYS_FLISTXATTR, "flistxattr", "user.* attributes of host files", always, 0},
		{unix.SYS_FSETXATTR, "fsetxattr", "user.* attributes in read-write bind mounts", always, 0},
		{unix.SYS_FREMOVEXATTR, "fremovexattr", "user.* attributes in read-write bind mounts", always, 0},
		{unix.SYS_FTRUNCATE, "ftruncate", "the memory file grows; read-write bind mounts", always, 0},
		{unix.SYS_FSYNC, "fsync", "read-write bind mounts", always, 0},
		{unix.SYS_FDATASYNC, "fdatasync", "read-write bind mounts", always, 0},
		{unix.SYS_POLL, "poll", "host descriptors given as stdio (fs/hostfd)", always, 0},
		{unix.SYS_PPOLL, "ppoll", "host descriptors given as stdio", always, 0},
		// No executable memory: nothing ringbox maps on the host runs.
		{unix.SYS_MMAP, "mmap", "Go's heap, the memory file's chunks, vCPU run areas, VMM stacks; never executable", []allow{{[]check{{2, unix.PROT_EXEC, 0}}}}, 0},
		{unix.SYS_MPROTECT, "mprotect", "Go's runtime; never to executable", []allow{{[]check{{2, unix.PROT_EXEC, 0}}}}, 0},
		{unix.SYS_MUNMAP, "munmap", "Go's heap, VMM stacks of released vCPUs", always, 0},
		{unix.SYS_MADVISE, "madvise", "Go's heap (DONTNEED, NOHUGEPAGE ...)", always, 0},
		{unix.SYS_PRCTL, "prctl", "Go names its anonymous mappings (PR_SET_VMA)", argIs(0, prSetVMA), 0},
		{unix.SYS_ARCH_PRCTL, "arch_prctl", "ring0 mode reads a task thread's FS base (ARCH_GET_FS); Go's TLS", argIs(0, archGetFS, archSetFS), 0},
		// Threads only: no new process, no new namespace.
		{unix.SYS_CLONE, "clone", "new threads: Go's Ms (tasks are threads) and the host I/O thread", []allow{{[]check{{0, cloneThread | cloneNew, cloneThread}}}}, 0},
		{unix.SYS_CLONE3, "clone3", "not used: ENOSYS, so a caller falls back to clone (checked there)", always, unix.ENOSYS},
		{unix.SYS_EXIT, "exit", "a thread ends (a task thread whose goroutine ends locked)", always, 0},
		{unix.SYS_RSEQ, "rseq", "a cgo build: glibc registers each new thread (pthread_create)", always, 0},
		{unix.SYS_SET_ROBUST_LIST, "set_robust_list", "a cgo build: glibc's new threads", always, 0},
		{unix.SYS_EXIT_GROUP, "exit_group", "ringbox exits", always, 0},
		{unix.SYS_RESTART_SYSCALL, "restart_syscall", "the kernel restarts an interrupted nanosleep", always, 0},
		{unix.SYS_CLOCK_GETTIME, "clock_gettime", "time (when the vDSO falls back to the syscall)", always, 0},
		{unix.SYS_GETTIMEOFDAY, "gettimeofday", "time (vDSO fallback)", always, 0},
		{unix.SYS_CLOCK_NANOSLEEP, "clock_nanosleep", "sleeps", always, 0},
		{unix.SYS_GETRANDOM, "getrandom", "Go's runtime and crypto/rand", always, 0},
		{unix.SYS_SCHED_GETAFFINITY, "sched_getaffinity", "Go's runtime (CPU count)", always, 0},
		{unix.SYS_EPOLL_CTL, "epoll_ctl", "Go's network poller", always, 0},
		{unix.SYS_EPOLL_CREATE1, "epoll_create1", "Go's network poller", always, 0},
		{unix.SYS_EVENTFD2, "eventfd2", "Go's network poller", always, 0},
		{unix.SYS_PIPE2, "pipe2", "Go's network poller; sandbox pipes are the Go kernel's own", always, 0},
		{unix.SYS_MEMFD_CREATE, "memfd_create", "memory-backed files", always, 0},
		{unix.SYS_GETRLIMIT, "getrlimit", "Go's os package", always, 0},
		{unix.SYS_PRLIMIT64, "prlimit64", "Go's os package (own limits)", argIs(0, 0), 0},
		{unix.SYS_GETUID, "getuid", "identity checks", always, 0},
		{unix.SYS_GETEUID, "geteuid", "identity checks", always, 0},
		{unix.SYS_GETGID, "getgid", "identity checks", always, 0},
		{unix.SYS_GETEGID, "getegid", "identity checks", always, 0},
		{unix.SYS_GETPPID, "getppid", "identity checks", always, 0},
		{unix.SYS_GETPGRP, "getpgrp", "the host terminal's foreground check", always, 0},
		{unix.SYS_UNAME, "uname", "Go's runtime", always, 0},
		// No socket is made after setup: these serve the one made before.
		{unix.SYS_ACCEPT4, "accept4", "an OCI container's exec socket (bound before the filter)", always, 0},
		{unix.SYS_RECVMSG, "recvmsg", "exec requests with the caller's descriptors (SCM_RIGHTS)", always, 0},
		{unix.SYS_GETSOCKNAME, "getsockname", "Go's net package on an accepted connection", always, 0},
	}
}

// acceptSyscalls are the rows of a sandbox whose ports are published
// (--publish): it accepts on listeners made before the filter (by the
// parent, in the host's network, when the sandbox has none of its own)
// and relays their traffic. It makes no host socket.
func acceptSyscalls() []hostSyscall {
	return []hostSyscall{
		{unix.SYS_GETSOCKOPT, "getsockopt", "Go's net package (SO_ERROR after a connect)", always, 0},
		{unix.SYS_SETSOCKOPT, "setsockopt", "Go's net package (TCP_NODELAY, keep-alive, broadcast)", always, 0},
		{unix.SYS_GETPEERNAME, "getpeername", "Go's net package on a new connection", always, 0},
		{unix.SYS_SENDTO, "sendto", "UDP datagrams of a published port", always, 0},
		{unix.SYS_RECVFROM, "recvfrom", "UDP datagrams of a published port", always, 0},
		{unix.SYS_SHUTDOWN, "shutdown", "a half close passed on", always, 0},
	}
}

// serveSyscalls are the rows an OCI container's own network namespace
// adds to dialSyscalls: ringbox listens there on the ports the program
// listens on, so the pod's or Docker's traffic to the container reaches
// it. That namespace is the container's alone.
func serveSyscalls() []hostSyscall {
	return []hostSyscall{
		{unix.SYS_BIND, "bind", "listeners mirroring the program's in the container's network namespace", always, 0},
		{unix.SYS_LISTEN, "listen", "listeners mirroring the program's in the container's network namespace", always, 0},
	}
}

// dialSyscalls are the rows --net=sandbox adds to acceptSyscalls:
// ringbox's NAT dials host sockets for the program's connections.
// Internet sockets only.
func dialSyscalls() []hostSyscall {
	return []hostSyscall{
		{unix.SYS_SOCKET, "socket", "the NAT's host connections: AF_INET and AF_INET6 only", argIs(0, unix.AF_INET, unix.AF_INET6), 0},
		{unix.SYS_CONNECT, "connect", "the NAT's host connections", always, 0},
	}
}
