package syscalls

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/bits"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// MemReader reads the traced program's memory (through the memory manager;
// never trust the pointer).
//
// CopyIn copies len(dst) bytes from addr and reports how many it copied.
// CopyInString reads a NUL-terminated string of at most max bytes starting
// at addr (the NUL is not part of the result). Either may fail; the
// formatter then shows the raw address instead of the contents. A reader
// that panics is treated like one that returned an error.
type MemReader interface {
	CopyIn(addr uintptr, dst []byte) (int, error)
	CopyInString(addr uintptr, max int) (string, error)
}

// FormatCall renders "name(arg1, arg2, ...)" the way strace does, as seen on
// entry to the syscall: arguments the kernel fills in (read buffers, stat
// structures, ...) are shown as pointers. FormatReturn then shows their
// contents, or FormatSyscall renders the whole line after the fact with the
// outputs in place.
func FormatCall(nr uintptr, args [6]uintptr, mem MemReader) string {
	c := &stCall{nr: nr, a: args, mem: mem}
	return c.callString()
}

// FormatReturn renders " = 3", " = -1 ENOENT (No such file or directory)",
// or " = 0x7f1234000000" for mmap/brk-like calls. ret is the raw return
// value (negative errno on failure).
//
// On success, the contents of output arguments follow in parentheses, e.g.
// read: ` = 5 (buf="hello")`, fstat: ` = 0 (statbuf={st_mode=S_IFREG|0644,
// st_size=5, ...})`, fcntl(F_GETFD): ` = 0x1 (flags FD_CLOEXEC)`, poll:
// ` = 1 ([{fd=3, revents=POLLIN}])`. exit and exit_group render " = ?".
func FormatReturn(nr uintptr, args [6]uintptr, ret uintptr, mem MemReader) string {
	c := &stCall{nr: nr, a: args, mem: mem, done: true, ret: ret}
	notes := c.extraNotes()
	if c.ok() {
		sp := stSpecFor(nr)
		for i, kd := range c.kinds(sp) {
			label, out := stOutLabel[kd]
			if !out || c.a[i] == 0 {
				continue
			}
			v := c.decodeOut(i, kd)
			if v == stPtr(uint64(c.a[i])) {
				continue // unreadable: nothing to add to FormatCall's pointer
			}
			notes = append(notes, label+"="+v)
		}
	}
	return c.retString() + stNotes(notes)
}

// FormatSyscall renders a complete strace line for a syscall that has
// already returned, with output arguments decoded in place:
// `read(3, "hello", 4096) = 5`.
func FormatSyscall(nr uintptr, args [6]uintptr, ret uintptr, mem MemReader) string {
	c := &stCall{nr: nr, a: args, mem: mem, done: true, ret: ret, full: true}
	return c.callString() + c.retString() + stNotes(c.extraNotes())
}

func stNotes(notes []string) string {
	if len(notes) == 0 {
		return ""
	}
	return " (" + strings.Join(notes, ", ") + ")"
}

const (
	stMaxStr   = 32       // bytes of string and buffer contents shown
	stMaxPath  = 4096     // PATH_MAX: paths are shown in full like strace
	stMaxElems = 16       // elements of iovec/pollfd arrays shown
	stMaxArgv  = 32       // elements of execve argv shown
	stMaxEnv   = 4096     // envp entries counted
	stMaxRead  = 64 << 10 // largest single read from tracee memory
)

// stKind is how one syscall argument is decoded.
type stKind uint8

const (
	akHex         stKind = iota // 0x1f (0 as "0")
	akInt                       // int, sign-extended from 32 bits
	akLong                      // long / off_t
	akUint                      // size_t, unsigned long: decimal
	akPtr                       // pointer: 0x7ffd1234 or NULL
	akMode                      // octal permission bits: 0644
	akFd                        // file descriptor (int)
	akDirfd                     // directory fd: AT_FDCWD or int
	akPath                      // path name, shown in full
	akStr                       // other C string, truncated at stMaxStr
	akBuf                       // input buffer, length in the next argument
	akSkip                      // not shown (e.g. pos_h of preadv on 64-bit)
	akOpenFlags                 // O_RDONLY|O_CLOEXEC
	akOFlags                    // O_* flags without access mode (pipe2, dup3)
	akProt                      // PROT_READ|PROT_WRITE
	akMapFlags                  // MAP_PRIVATE|MAP_ANONYMOUS
	akSignal                    // SIGTERM
	akClockID                   // CLOCK_MONOTONIC
	akClockFlags                // TIMER_ABSTIME
	akFutexOp                   // FUTEX_WAIT_PRIVATE
	akFutexBitset               // FUTEX_BITSET_MATCH_ANY
	akArchCode                  // ARCH_SET_FS
	akSigHow                    // SIG_BLOCK
	akWhence                    // SEEK_SET
	akAccessMode                // R_OK|W_OK
	akAtFlags                   // AT_SYMLINK_NOFOLLOW|AT_EMPTY_PATH
	akAtEaccess                 // faccessat2 flags: AT_EACCESS|...
	akStatxFlags                // AT_STATX_SYNC_AS_STAT|...
	akStatxMask                 // STATX_BASIC_STATS
	akFcntlCmd                  // F_SETFD
	akFdFlags                   // FD_CLOEXEC
	akCloneFlags                // CLONE_VM|CLONE_FS|SIGCHLD
	akCloneArgs                 // struct clone_args (clone3)
	akMadvise                   // MADV_DONTNEED
	akMremapFlags               // MREMAP_MAYMOVE
	akMsyncFlags                // MS_SYNC
	akIoctlReq                  // TCGETS
	akRlimitRes                 // RLIMIT_NOFILE
	akRlimit                    // {rlim_cur=..., rlim_max=...}
	akTimespec                  // {tv_sec=1, tv_nsec=0}
	akSigset                    // [INT TERM]
	akSigaction                 // {sa_handler=..., sa_mask=..., ...}
	akWaitOpts                  // WNOHANG|__WALL
	akIovec                     // [{iov_base="...", iov_len=5}], count next
	akPollfds                   // [{fd=3, events=POLLIN}], count next
	akArgv                      // ["ls", "-l"]
	akEnvp                      // 0x7ffd... /* 20 vars */
	akGrndFlags                 // GRND_NONBLOCK
	akMemfdFlags                // MFD_CLOEXEC
	akSockDomain                // AF_INET
	akSockType                  // SOCK_STREAM|SOCK_CLOEXEC
	akSockFlags                 // SOCK_CLOEXEC (accept4)
	akShutHow                   // SHUT_RDWR
	akEpollOp                   // EPOLL_CTL_ADD
	akEpollFlags                // EPOLL_CLOEXEC
	akEfdFlags                  // EFD_CLOEXEC
	akTfdFlags                  // TFD_CLOEXEC
	akSfdFlags                  // SFD_CLOEXEC
	akInFlags                   // IN_CLOEXEC
	akFlockOp                   // LOCK_EX|LOCK_NB
	akFadvice                   // POSIX_FADV_SEQUENTIAL
	akCloseRange                // CLOSE_RANGE_CLOEXEC
	akPrctlOp                   // PR_SET_NAME
	akRenameFlags               // RENAME_NOREPLACE

	// Output arguments: shown as a pointer until the call has returned
	// successfully.
	akOutBuf       // buffer of ret bytes (read, readlink, getrandom)
	akOutCStr      // C string (getcwd)
	akOutStat      // struct stat
	akOutStatx     // struct statx
	akOutTimespec  // struct timespec
	akOutSigset    // sigset_t
	akOutSigaction // struct sigaction
	akOutRlimit    // struct rlimit64
	akOutFdPair    // int[2] (pipe, socketpair)
	akOutUname     // struct utsname
	akOutWstatus   // int wait status
	akOutDents     // linux_dirent64 entries
	akOutIovec     // iovec array filled with ret bytes
	akOutULong     // unsigned long (arch_prctl ARCH_GET_FS)
)

// stOutLabel names output arguments in FormatReturn's annotation.
var stOutLabel = map[stKind]string{
	akOutBuf:       "buf",
	akOutCStr:      "buf",
	akOutStat:      "statbuf",
	akOutStatx:     "statxbuf",
	akOutTimespec:  "tp",
	akOutSigset:    "oldset",
	akOutSigaction: "oldact",
	akOutRlimit:    "old_limit",
	akOutFdPair:    "fds",
	akOutUname:     "buf",
	akOutWstatus:   "wstatus",
	akOutDents:     "dirp",
	akOutIovec:     "iov",
	akOutULong:     "addr",
}

type stRet uint8

const (
	retDec  stRet = iota // signed decimal
	retHex               // address (mmap, brk, ...)
	retNone              // does not return (exit, exit_group)
)

// stSpec describes how to print one syscall.
type stSpec struct {
	args   []stKind
	ret    stRet
	dyn    func(a *[6]uintptr) []stKind // argument list depends on values
	custom func(c *stCall) []string     // fully custom rendering
}

func stArgs(ks ...stKind) []stKind { return ks }

// stSpecsByName is the per-syscall argument table. Syscalls missing here
// are printed as hex arguments (as many as stArgCount says).
var stSpecsByName = map[string]stSpec{
	"read":     {args: stArgs(akFd, akOutBuf, akUint)},
	"write":    {args: stArgs(akFd, akBuf, akUint)},
	"open":     {dyn: stOpenArgs(false)},
	"close":    {args: stArgs(akFd)},
	"stat":     {args: stArgs(akPath, akOutStat)},
	"fstat":    {args: stArgs(akFd, akOutStat)},
	"lstat":    {args: stArgs(akPath, akOutStat)},
	"poll":     {args: stArgs(akPollfds, akUint, akInt)},
	"lseek":    {args: stArgs(akFd, akLong, akWhence)},
	"mmap":     {args: stArgs(akPtr, akUint, akProt, akMapFlags, akFd, akHex), ret: retHex},
	"mprotect": {args: stArgs(akHex, akUint, akProt)},
	"munmap":   {args: stArgs(akHex, akUint)},
	"brk":      {args: stArgs(akPtr), ret: retHex},
	"rt_sigaction": {
		args: stArgs(akSignal, akSigaction, akOutSigaction, akUint),
	},
	"rt_sigprocmask": {args: stArgs(akSigHow, akSigset, akOutSigset, akUint)},
	"rt_sigreturn":   {args: stArgs()},
	"ioctl":          {args: stArgs(akFd, akIoctlReq, akHex)},
	"pread64":        {args: stArgs(akFd, akOutBuf, akUint, akLong)},
	"pwrite64":       {args: stArgs(akFd, akBuf, akUint, akLong)},
	"readv":          {args: stArgs(akFd, akOutIovec, akInt)},
	"writev":         {args: stArgs(akFd, akIovec, akInt)},
	"access":         {args: stArgs(akPath, akAccessMode)},
	"pipe":           {args: stArgs(akOutFdPair)},
	"select":         {args: stArgs(akInt, akPtr, akPtr, akPtr, akPtr)},
	"sched_yield":    {args: stArgs()},
	"mremap":         {dyn: stMremapArgs, ret: retHex},
	"msync":          {args: stArgs(akHex, akUint, akMsyncFlags)},
	"mincore":        {args: stArgs(akHex, akUint, akPtr)},
	"madvise":        {args: stArgs(akHex, akUint, akMadvise)},
	"shmat":          {args: stArgs(akInt, akPtr, akHex), ret: retHex},
	"dup":            {args: stArgs(akFd)},
	"dup2":           {args: stArgs(akFd, akFd)},
	"pause":          {args: stArgs()},
	"nanosleep":      {args: stArgs(akTimespec, akPtr)},
	"alarm":          {args: stArgs(akUint)},
	"getpid":         {args: stArgs()},
	"sendfile":       {args: stArgs(akFd, akFd, akPtr, akUint)},
	"socket":         {args: stArgs(akSockDomain, akSockType, akInt)},
	"connect":        {args: stArgs(akFd, akPtr, akInt)},
	"accept":         {args: stArgs(akFd, akPtr, akPtr)},
	"sendto":         {args: stArgs(akFd, akBuf, akUint, akHex, akPtr, akInt)},
	"recvfrom":       {args: stArgs(akFd, akOutBuf, akUint, akHex, akPtr, akPtr)},
	"sendmsg":        {args: stArgs(akFd, akPtr, akHex)},
	"recvmsg":        {args: stArgs(akFd, akPtr, akHex)},
	"shutdown":       {args: stArgs(akFd, akShutHow)},
	"bind":           {args: stArgs(akFd, akPtr, akInt)},
	"listen":         {args: stArgs(akFd, akInt)},
	"getsockname":    {args: stArgs(akFd, akPtr, akPtr)},
	"getpeername":    {args: stArgs(akFd, akPtr, akPtr)},
	"socketpair":     {args: stArgs(akSockDomain, akSockType, akInt, akOutFdPair)},
	"setsockopt":     {args: stArgs(akFd, akInt, akInt, akPtr, akInt)},
	"getsockopt":     {args: stArgs(akFd, akInt, akInt, akPtr, akPtr)},
	"clone":          {custom: stCloneArgs},
	"fork":           {args: stArgs()},
	"vfork":          {args: stArgs()},
	"execve":         {args: stArgs(akPath, akArgv, akEnvp)},
	"exit":           {args: stArgs(akInt), ret: retNone},
	"wait4":          {args: stArgs(akInt, akOutWstatus, akWaitOpts, akPtr)},
	"kill":           {args: stArgs(akInt, akSignal)},
	"uname":          {args: stArgs(akOutUname)},
	"fcntl":          {dyn: stFcntlArgs},
	"flock":          {args: stArgs(akFd, akFlockOp)},
	"fsync":          {args: stArgs(akFd)},
	"fdatasync":      {args: stArgs(akFd)},
	"truncate":       {args: stArgs(akPath, akLong)},
	"ftruncate":      {args: stArgs(akFd, akLong)},
	"getdents":       {args: stArgs(akFd, akPtr, akUint)},
	"getdents64":     {args: stArgs(akFd, akOutDents, akUint)},
	"getcwd":         {args: stArgs(akOutCStr, akUint)},
	"chdir":          {args: stArgs(akPath)},
	"fchdir":         {args: stArgs(akFd)},
	"rename":         {args: stArgs(akPath, akPath)},
	"mkdir":          {args: stArgs(akPath, akMode)},
	"rmdir":          {args: stArgs(akPath)},
	"creat":          {args: stArgs(akPath, akMode)},
	"link":           {args: stArgs(akPath, akPath)},
	"unlink":         {args: stArgs(akPath)},
	"symlink":        {args: stArgs(akPath, akPath)},
	"readlink":       {args: stArgs(akPath, akOutBuf, akUint)},
	"chmod":          {args: stArgs(akPath, akMode)},
	"fchmod":         {args: stArgs(akFd, akMode)},
	"chown":          {args: stArgs(akPath, akInt, akInt)},
	"fchown":         {args: stArgs(akFd, akInt, akInt)},
	"lchown":         {args: stArgs(akPath, akInt, akInt)},
	"umask":          {args: stArgs(akMode)},
	"gettimeofday":   {args: stArgs(akPtr, akPtr)},
	"getrlimit":      {args: stArgs(akRlimitRes, akOutRlimit)},
	"setrlimit":      {args: stArgs(akRlimitRes, akRlimit)},
	"getrusage":      {args: stArgs(akInt, akPtr)},
	"sysinfo":        {args: stArgs(akPtr)},
	"times":          {args: stArgs(akPtr)},
	"getuid":         {args: stArgs()},
	"getgid":         {args: stArgs()},
	"setuid":         {args: stArgs(akInt)},
	"setgid":         {args: stArgs(akInt)},
	"geteuid":        {args: stArgs()},
	"getegid":        {args: stArgs()},
	"setpgid":        {args: stArgs(akInt, akInt)},
	"getppid":        {args: stArgs()},
	"getpgrp":        {args: stArgs()},
	"setsid":         {args: stArgs()},
	"setreuid":       {args: stArgs(akInt, akInt)},
	"setregid":       {args: stArgs(akInt, akInt)},
	"getgroups":      {args: stArgs(akInt, akPtr)},
	"setgroups":      {args: stArgs(akInt, akPtr)},
	"setresuid":      {args: stArgs(akInt, akInt, akInt)},
	"getresuid":      {args: stArgs(akPtr, akPtr, akPtr)},
	"setresgid":      {args: stArgs(akInt, akInt, akInt)},
	"getresgid":      {args: stArgs(akPtr, akPtr, akPtr)},
	"getpgid":        {args: stArgs(akInt)},
	"setfsuid":       {args: stArgs(akInt)},
	"setfsgid":       {args: stArgs(akInt)},
	"getsid":         {args: stArgs(akInt)},
	"rt_sigpending":  {args: stArgs(akOutSigset, akUint)},
	"rt_sigtimedwait": {
		args: stArgs(akSigset, akPtr, akTimespec, akUint),
	},
	"rt_sigqueueinfo": {args: stArgs(akInt, akSignal, akPtr)},
	"rt_sigsuspend":   {args: stArgs(akSigset, akUint)},
	"sigaltstack":     {args: stArgs(akPtr, akPtr)},
	"mknod":           {args: stArgs(akPath, akMode, akHex)},
	"personality":     {args: stArgs(akHex)},
	"statfs":          {args: stArgs(akPath, akPtr)},
	"fstatfs":         {args: stArgs(akFd, akPtr)},
	"getpriority":     {args: stArgs(akInt, akInt)},
	"setpriority":     {args: stArgs(akInt, akInt, akInt)},
	"mlock":           {args: stArgs(akHex, akUint)},
	"munlock":         {args: stArgs(akHex, akUint)},
	"mlockall":        {args: stArgs(akHex)},
	"munlockall":      {args: stArgs()},
	"prctl":           {dyn: stPrctlArgs},
	"arch_prctl":      {dyn: stArchPrctlArgs},
	"chroot":          {args: stArgs(akPath)},
	"sync":            {args: stArgs()},
	"mount":           {args: stArgs(akStr, akPath, akStr, akHex, akPtr)},
	"umount2":         {args: stArgs(akPath, akHex)},
	"sethostname":     {args: stArgs(akBuf, akUint)},
	"setdomainname":   {args: stArgs(akBuf, akUint)},
	"gettid":          {args: stArgs()},
	"readahead":       {args: stArgs(akFd, akLong, akUint)},
	"tkill":           {args: stArgs(akInt, akSignal)},
	"time":            {args: stArgs(akPtr)},
	"futex":           {dyn: stFutexArgs},
	"sched_setaffinity": {
		args: stArgs(akInt, akUint, akPtr),
	},
	"sched_getaffinity": {
		args: stArgs(akInt, akUint, akPtr),
	},
	"getxattr":        {args: stArgs(akPath, akStr, akPtr, akUint)},
	"lgetxattr":       {args: stArgs(akPath, akStr, akPtr, akUint)},
	"fgetxattr":       {args: stArgs(akFd, akStr, akPtr, akUint)},
	"set_tid_address": {args: stArgs(akPtr)},
	"restart_syscall": {args: stArgs()},
	"fadvise64":       {args: stArgs(akFd, akLong, akLong, akFadvice)},
	"clock_settime":   {args: stArgs(akClockID, akTimespec)},
	"clock_gettime":   {args: stArgs(akClockID, akOutTimespec)},
	"clock_getres":    {args: stArgs(akClockID, akOutTimespec)},
	"clock_nanosleep": {args: stArgs(akClockID, akClockFlags, akTimespec, akPtr)},
	"exit_group":      {args: stArgs(akInt), ret: retNone},
	"epoll_wait":      {args: stArgs(akFd, akPtr, akInt, akInt)},
	"epoll_ctl":       {args: stArgs(akFd, akEpollOp, akFd, akPtr)},
	"tgkill":          {args: stArgs(akInt, akInt, akSignal)},
	"openat":          {dyn: stOpenArgs(true)},
	"mkdirat":         {args: stArgs(akDirfd, akPath, akMode)},
	"mknodat":         {args: stArgs(akDirfd, akPath, akMode, akHex)},
	"fchownat":        {args: stArgs(akDirfd, akPath, akInt, akInt, akAtFlags)},
	"newfstatat":      {args: stArgs(akDirfd, akPath, akOutStat, akAtFlags)},
	"unlinkat":        {args: stArgs(akDirfd, akPath, akAtFlags)},
	"renameat":        {args: stArgs(akDirfd, akPath, akDirfd, akPath)},
	"linkat":          {args: stArgs(akDirfd, akPath, akDirfd, akPath, akAtFlags)},
	"symlinkat":       {args: stArgs(akPath, akDirfd, akPath)},
	"readlinkat":      {args: stArgs(akDirfd, akPath, akOutBuf, akUint)},
	"fchmodat":        {args: stArgs(akDirfd, akPath, akMode)},
	"faccessat":       {args: stArgs(akDirfd, akPath, akAccessMode)},
	"pselect6":        {args: stArgs(akInt, akPtr, akPtr, akPtr, akTimespec, akPtr)},
	"ppoll":           {args: stArgs(akPollfds, akUint, akTimespec, akSigset, akUint)},
	"unshare":         {args: stArgs(akCloneFlags)},
	"set_robust_list": {args: stArgs(akPtr, akUint)},
	"get_robust_list": {args: stArgs(akInt, akPtr, akPtr)},
	"futex_waitv":     {args: stArgs(akPtr, akUint, akHex, akTimespec, akClockID)},
	"splice":          {args: stArgs(akFd, akPtr, akFd, akPtr, akUint, akHex)},
	"tee":             {args: stArgs(akFd, akFd, akUint, akHex)},
	"vmsplice":        {args: stArgs(akFd, akIovec, akUint, akHex)},
	"utimensat":       {args: stArgs(akDirfd, akPath, akPtr, akAtFlags)},
	"epoll_pwait":     {args: stArgs(akFd, akPtr, akInt, akInt, akSigset, akUint)},
	"timerfd_create":  {args: stArgs(akClockID, akTfdFlags)},
	"eventfd":         {args: stArgs(akUint)},
	"fallocate":       {args: stArgs(akFd, akHex, akLong, akLong)},
	"accept4":         {args: stArgs(akFd, akPtr, akPtr, akSockFlags)},
	"signalfd4":       {args: stArgs(akFd, akSigset, akUint, akSfdFlags)},
	"eventfd2":        {args: stArgs(akUint, akEfdFlags)},
	"epoll_create":    {args: stArgs(akInt)},
	"epoll_create1":   {args: stArgs(akEpollFlags)},
	"dup3":            {args: stArgs(akFd, akFd, akOFlags)},
	"pipe2":           {args: stArgs(akOutFdPair, akOFlags)},
	"inotify_init1":   {args: stArgs(akInFlags)},
	"preadv":          {args: stArgs(akFd, akOutIovec, akInt, akLong, akSkip)},
	"pwritev":         {args: stArgs(akFd, akIovec, akInt, akLong, akSkip)},
	"prlimit64":       {args: stArgs(akInt, akRlimitRes, akRlimit, akOutRlimit)},
	"syncfs":          {args: stArgs(akFd)},
	"getcpu":          {args: stArgs(akPtr, akPtr, akPtr)},
	"renameat2":       {args: stArgs(akDirfd, akPath, akDirfd, akPath, akRenameFlags)},
	"getrandom":       {args: stArgs(akOutBuf, akUint, akGrndFlags)},
	"memfd_create":    {args: stArgs(akStr, akMemfdFlags)},
	"execveat":        {args: stArgs(akDirfd, akPath, akArgv, akEnvp, akAtFlags)},
	"membarrier":      {args: stArgs(akInt, akHex, akInt)},
	"mlock2":          {args: stArgs(akHex, akUint, akHex)},
	"copy_file_range": {args: stArgs(akFd, akPtr, akFd, akPtr, akUint, akHex)},
	"preadv2":         {args: stArgs(akFd, akOutIovec, akInt, akLong, akSkip, akHex)},
	"pwritev2":        {args: stArgs(akFd, akIovec, akInt, akLong, akSkip, akHex)},
	"pkey_mprotect":   {args: stArgs(akHex, akUint, akProt, akInt)},
	"statx":           {args: stArgs(akDirfd, akPath, akStatxFlags, akStatxMask, akOutStatx)},
	"rseq":            {args: stArgs(akPtr, akUint, akHex, akHex)},
	"pidfd_send_signal": {
		args: stArgs(akFd, akSignal, akPtr, akHex),
	},
	"pidfd_open":    {args: stArgs(akInt, akHex)},
	"clone3":        {args: stArgs(akCloneArgs, akUint)},
	"close_range":   {args: stArgs(akFd, akFd, akCloseRange)},
	"openat2":       {args: stArgs(akDirfd, akPath, akPtr, akUint)},
	"pidfd_getfd":   {args: stArgs(akFd, akFd, akHex)},
	"faccessat2":    {args: stArgs(akDirfd, akPath, akAccessMode, akAtEaccess)},
	"epoll_pwait2":  {args: stArgs(akFd, akPtr, akInt, akTimespec, akSigset, akUint)},
	"memfd_secret":  {args: stArgs(akHex)},
	"fchmodat2":     {args: stArgs(akDirfd, akPath, akMode, akAtFlags)},
	"mseal":         {args: stArgs(akHex, akUint, akHex)},
	"uretprobe":     {args: stArgs()},
	"uprobe":        {args: stArgs()},
	"inotify_init":  {args: stArgs()},
	"vhangup":       {args: stArgs()},
	"getitimer":     {args: stArgs(akInt, akPtr)},
	"setitimer":     {args: stArgs(akInt, akPtr, akPtr)},
	"timer_delete":  {args: stArgs(akInt)},
	"waitid":        {args: stArgs(akInt, akInt, akPtr, akWaitOpts, akPtr)},
	"sched_getattr": {args: stArgs(akInt, akPtr, akUint, akHex)},

	// POSIX timers, timerfd, signalfd.
	"timer_create":     {args: stArgs(akClockID, akPtr, akPtr)},
	"timer_settime":    {args: stArgs(akInt, akClockFlags, akPtr, akPtr)},
	"timer_gettime":    {args: stArgs(akInt, akPtr)},
	"timer_getoverrun": {args: stArgs(akInt)},
	"timerfd_settime":  {args: stArgs(akFd, akClockFlags, akPtr, akPtr)},
	"timerfd_gettime":  {args: stArgs(akFd, akPtr)},
	"signalfd":         {args: stArgs(akFd, akSigset, akUint)},
}

// stSpecs is stSpecsByName indexed by syscall number.
var stSpecs = func() []*stSpec {
	t := make([]*stSpec, len(names))
	for name, sp := range stSpecsByName {
		if nr, ok := syscallNumbers[name]; ok {
			sp := sp
			t[nr] = &sp
		}
	}
	return t
}()

func stSpecFor(nr uintptr) *stSpec {
	if nr < uintptr(len(stSpecs)) {
		return stSpecs[nr]
	}
	return nil
}

// stArgCountGroups lists x86-64 syscalls by number of arguments. It is used
// for syscalls without a decoding spec.
var stArgCountGroups = [7]string{
	0: `rt_sigreturn sched_yield pause getpid fork vfork getuid getgid geteuid
		getegid getppid getpgrp setsid munlockall vhangup sync gettid
		restart_syscall inotify_init uretprobe uprobe`,
	1: `close brk pipe dup alarm exit uname shmdt fsync fdatasync chdir fchdir
		rmdir unlink umask sysinfo times setuid setgid getpgid setfsuid
		setfsgid getsid uselib personality sched_getscheduler
		sched_get_priority_max sched_get_priority_min mlockall _sysctl
		adjtimex chroot acct swapoff iopl time set_thread_area io_destroy
		get_thread_area epoll_create set_tid_address timer_getoverrun
		timer_delete exit_group mq_unlink unshare eventfd epoll_create1
		inotify_init1 syncfs userfaultfd pkey_free memfd_secret`,
	2: `stat fstat lstat munmap access dup2 nanosleep getitimer shutdown listen
		kill msgget flock truncate ftruncate getcwd rename mkdir creat link
		symlink chmod fchmod gettimeofday getrlimit getrusage setpgid
		setreuid setregid getgroups setgroups capget capset rt_sigpending
		rt_sigsuspend sigaltstack utime ustat statfs fstatfs getpriority
		sched_setparam sched_getparam sched_rr_get_interval mlock munlock
		pivot_root arch_prctl setrlimit settimeofday umount2 swapon
		sethostname setdomainname delete_module removexattr lremovexattr
		fremovexattr tkill io_setup timer_gettime clock_settime
		clock_gettime clock_getres utimes mq_notify ioprio_get
		inotify_rm_watch set_robust_list timerfd_create timerfd_gettime
		eventfd2 pipe2 fanotify_init clock_adjtime setns memfd_create
		pkey_alloc io_uring_setup fsopen pidfd_open clone3
		landlock_restrict_self process_mrelease`,
	3: `read write open poll lseek mprotect ioctl readv writev msync mincore
		madvise shmget shmat shmctl setitimer socket connect accept sendmsg
		recvmsg bind getsockname getpeername execve semget semop msgctl fcntl
		getdents readlink chown fchown lchown syslog setresuid getresuid
		setresgid getresgid rt_sigqueueinfo mknod sysfs setpriority
		sched_setscheduler modify_ldt ioperm init_module readahead listxattr
		llistxattr flistxattr sched_setaffinity sched_getaffinity io_submit
		io_cancel lookup_dcookie getdents64 timer_create tgkill set_mempolicy
		mq_getsetattr ioprio_set inotify_add_watch mkdirat futimesat unlinkat
		symlinkat fchmodat faccessat get_robust_list signalfd dup3
		open_by_handle_at getcpu finit_module sched_setattr seccomp getrandom
		bpf membarrier mlock2 open_tree fsmount fspick close_range
		pidfd_getfd landlock_create_ruleset map_shadow_stack
		lsm_list_modules mseal`,
	4: `rt_sigaction rt_sigprocmask pread64 pwrite64 sendfile socketpair
		wait4 semctl msgsnd ptrace rt_sigtimedwait reboot quotactl getxattr
		lgetxattr fgetxattr semtimedop fadvise64 timer_settime
		clock_nanosleep epoll_wait epoll_ctl mq_open kexec_load request_key
		migrate_pages openat mknodat newfstatat renameat readlinkat tee
		sync_file_range vmsplice utimensat fallocate timerfd_settime accept4
		signalfd4 rt_tgsigqueueinfo prlimit64 sendmmsg sched_getattr
		pkey_mprotect rseq pidfd_send_signal io_uring_register openat2
		faccessat2 quotactl_fd landlock_add_rule set_mempolicy_home_node
		cachestat fchmodat2 futex_wake futex_requeue statmount listmount
		lsm_get_self_attr lsm_set_self_attr removexattrat listns`,
	5: `select mremap setsockopt getsockopt clone msgrcv prctl mount setxattr
		lsetxattr fsetxattr io_getevents remap_file_pages get_mempolicy
		mq_timedsend mq_timedreceive waitid add_key keyctl fchownat linkat
		ppoll preadv pwritev perf_event_open recvmmsg fanotify_mark
		name_to_handle_at kcmp renameat2 kexec_file_load execveat statx
		move_mount fsconfig process_madvise mount_setattr futex_waitv
		listxattrat open_tree_attr file_getattr file_setattr`,
	6: `mmap sendto recvfrom futex mbind pselect6 splice move_pages
		epoll_pwait process_vm_readv process_vm_writev copy_file_range
		preadv2 pwritev2 io_pgetevents io_uring_enter epoll_pwait2 futex_wait
		setxattrat getxattrat`,
}

// stArgCount holds the number of arguments per syscall number, -1 when
// unknown (then all six registers are printed).
var stArgCount = func() []int8 {
	t := make([]int8, len(names))
	for i := range t {
		t[i] = -1
	}
	for n, group := range stArgCountGroups {
		for _, name := range strings.Fields(group) {
			if nr, ok := syscallNumbers[name]; ok {
				t[nr] = int8(n)
			}
		}
	}
	return t
}()

// stCall is one syscall being rendered.
type stCall struct {
	nr   uintptr
	a    [6]uintptr
	mem  MemReader
	done bool    // the syscall has returned; ret is valid
	ret  uintptr // raw return value
	full bool    // decode output arguments in place
}

func stIsErr(ret uintptr) bool {
	r := int64(ret)
	return r < 0 && r >= -4095
}

// ok reports whether the call returned successfully, so that its output
// arguments hold data.
func (c *stCall) ok() bool { return c.done && !stIsErr(c.ret) }

// next returns argument i+1, the length/count of a (pointer, length) pair.
func (c *stCall) next(i int) uintptr {
	if i+1 < len(c.a) {
		return c.a[i+1]
	}
	return 0
}

func (c *stCall) kinds(sp *stSpec) []stKind {
	if sp == nil || sp.custom != nil {
		return nil
	}
	if sp.dyn != nil {
		return sp.dyn(&c.a)
	}
	return sp.args
}

func (c *stCall) callString() string {
	var parts []string
	sp := stSpecFor(c.nr)
	switch {
	case sp != nil && sp.custom != nil:
		parts = sp.custom(c)
	case sp != nil:
		for i, kd := range c.kinds(sp) {
			if i >= len(c.a) {
				break
			}
			if kd == akSkip {
				continue
			}
			parts = append(parts, c.arg(i, kd))
		}
	default:
		n := 6
		if c.nr < uintptr(len(stArgCount)) && stArgCount[c.nr] >= 0 {
			n = int(stArgCount[c.nr])
		}
		for i := 0; i < n; i++ {
			parts = append(parts, stHex(uint64(c.a[i])))
		}
	}
	return Name(c.nr) + "(" + strings.Join(parts, ", ") + ")"
}

func (c *stCall) retString() string {
	sp := stSpecFor(c.nr)
	if sp != nil && sp.ret == retNone {
		return " = ?"
	}
	if stIsErr(c.ret) {
		e := uint64(-int64(c.ret))
		name, text := stErrno(e)
		if e >= 512 && e <= 516 && e != 515 {
			// Restart codes never reach user space; strace shows "?".
			return " = ? " + name + " (" + text + ")"
		}
		return " = -1 " + name + " (" + text + ")"
	}
	if sp != nil && sp.ret == retHex {
		return " = " + stHex(uint64(c.ret))
	}
	if c.nr == stNrFcntl && c.ret != 0 {
		switch int32(c.a[1]) {
		case 1, 3: // F_GETFD, F_GETFL
			return " = " + stHex(uint64(c.ret))
		}
	}
	return " = " + strconv.FormatInt(int64(c.ret), 10)
}

var (
	stNrFcntl = stMustNumber("fcntl")
	stNrPoll  = stMustNumber("poll")
	stNrPpoll = stMustNumber("ppoll")
)

func stMustNumber(name string) uintptr {
	nr, ok := syscallNumbers[name]
	if !ok {
		panic("syscalls: unknown syscall " + name)
	}
	return nr
}

// extraNotes is the strace-style annotation after the return value that
// does not belong to any output argument.
func (c *stCall) extraNotes() []string {
	if !c.ok() {
		return nil
	}
	switch c.nr {
	case stNrFcntl:
		switch int32(c.a[1]) {
		case 1: // F_GETFD
			if c.ret != 0 {
				return []string{"flags " + stFdFlagSet.format(uint64(c.ret))}
			}
		case 3: // F_GETFL
			return []string{"flags " + stOpenFlagsString(uint64(c.ret))}
		}
	case stNrPoll, stNrPpoll:
		if c.ret != 0 {
			if s, ok := c.pollRevents(c.a[0], c.a[1]); ok {
				return []string{s}
			}
		}
	}
	return nil
}

// ---------------------------------------------------------------------------
// Argument rendering.

func (c *stCall) arg(i int, kd stKind) string {
	v := uint64(c.a[i])
	if _, out := stOutLabel[kd]; out {
		if c.full && c.ok() {
			return c.decodeOut(i, kd)
		}
		return stPtr(v)
	}
	switch kd {
	case akHex:
		return stHex(v)
	case akInt, akFd:
		return strconv.FormatInt(int64(int32(v)), 10)
	case akLong:
		return strconv.FormatInt(int64(v), 10)
	case akUint:
		return strconv.FormatUint(v, 10)
	case akPtr:
		return stPtr(v)
	case akMode:
		return stOctal(v & 0xffffffff)
	case akDirfd:
		if int32(v) == -100 {
			return "AT_FDCWD"
		}
		return strconv.FormatInt(int64(int32(v)), 10)
	case akPath:
		return c.cstring(c.a[i], stMaxPath)
	case akStr:
		return c.cstring(c.a[i], stMaxStr)
	case akBuf:
		return c.buffer(c.a[i], uint64(c.next(i)))
	case akOpenFlags:
		return stOpenFlagsString(v)
	case akOFlags:
		return stOpenFlagSet.format(v & 0xffffffff)
	case akProt:
		return stProtSet.format(v)
	case akMapFlags:
		return stMapFlagsString(v)
	case akSignal:
		return stSignalName(v)
	case akClockID:
		return stClockName(v)
	case akClockFlags:
		return stClockFlagSet.format(v & 0xffffffff)
	case akFutexOp:
		return stFutexOpString(v)
	case akFutexBitset:
		if uint32(v) == 0xffffffff {
			return "FUTEX_BITSET_MATCH_ANY"
		}
		return stHex(v & 0xffffffff)
	case akArchCode:
		return stArchCodes.format(v&0xffffffff, true)
	case akSigHow:
		return stSigHows.format(v&0xffffffff, false)
	case akWhence:
		return stWhences.format(v&0xffffffff, false)
	case akAccessMode:
		return stAccessSet.format(v & 0xffffffff)
	case akAtFlags:
		return stAtFlagSet.format(v & 0xffffffff)
	case akAtEaccess:
		return stAtEaccessSet.format(v & 0xffffffff)
	case akStatxFlags:
		return stStatxFlagsString(v & 0xffffffff)
	case akStatxMask:
		return stStatxMaskSet.format(v & 0xffffffff)
	case akFcntlCmd:
		return stFcntlCmds.format(v&0xffffffff, false)
	case akFdFlags:
		return stFdFlagSet.format(v)
	case akCloneFlags:
		return stCloneFlagsString(v)
	case akCloneArgs:
		return c.cloneArgs(c.a[i], c.next(i))
	case akMadvise:
		return stMadvices.format(v&0xffffffff, false)
	case akMremapFlags:
		return stMremapSet.format(v)
	case akMsyncFlags:
		return stMsyncSet.format(v & 0xffffffff)
	case akIoctlReq:
		return stIoctls.format(v&0xffffffff, true)
	case akRlimitRes:
		return stRlimits.format(v&0xffffffff, false)
	case akRlimit:
		return c.rlimit(c.a[i])
	case akTimespec:
		return c.timespec(c.a[i])
	case akSigset:
		return c.sigset(c.a[i])
	case akSigaction:
		return c.sigaction(c.a[i])
	case akWaitOpts:
		return stWaitSet.format(v & 0xffffffff)
	case akIovec:
		return c.iovec(c.a[i], c.next(i), -1)
	case akPollfds:
		return c.pollfds(c.a[i], c.next(i))
	case akArgv:
		return c.argv(c.a[i])
	case akEnvp:
		return c.envp(c.a[i])
	case akGrndFlags:
		return stGrndSet.format(v & 0xffffffff)
	case akMemfdFlags:
		return stMemfdSet.format(v & 0xffffffff)
	case akSockDomain:
		return stSockDomains.format(v&0xffffffff, false)
	case akSockType:
		return stSockTypeString(v & 0xffffffff)
	case akSockFlags:
		return stSockFlagSet.format(v & 0xffffffff)
	case akShutHow:
		return stShutHows.format(v&0xffffffff, false)
	case akEpollOp:
		return stEpollOps.format(v&0xffffffff, false)
	case akEpollFlags:
		return stEpollFlagSet.format(v & 0xffffffff)
	case akEfdFlags:
		return stEfdFlagSet.format(v & 0xffffffff)
	case akTfdFlags:
		return stTfdFlagSet.format(v & 0xffffffff)
	case akSfdFlags:
		return stSfdFlagSet.format(v & 0xffffffff)
	case akInFlags:
		return stInFlagSet.format(v & 0xffffffff)
	case akFlockOp:
		return stFlockSet.format(v & 0xffffffff)
	case akFadvice:
		return stFadvices.format(v&0xffffffff, false)
	case akCloseRange:
		return stCloseRangeSet.format(v & 0xffffffff)
	case akPrctlOp:
		return stPrctlOps.format(v&0xffffffff, false)
	case akRenameFlags:
		return stRenameSet.format(v & 0xffffffff)
	}
	return stHex(v)
}

// decodeOut renders output argument i of a successfully returned call.
func (c *stCall) decodeOut(i int, kd stKind) string {
	addr := c.a[i]
	switch kd {
	case akOutBuf:
		// The kernel wrote ret bytes; never show more than the buffer size.
		return c.buffer(addr, min(uint64(c.ret), uint64(c.next(i))))
	case akOutCStr:
		return c.cstring(addr, stMaxPath)
	case akOutStat:
		return c.stat(addr)
	case akOutStatx:
		return c.statx(addr)
	case akOutTimespec:
		return c.timespec(addr)
	case akOutSigset:
		return c.sigset(addr)
	case akOutSigaction:
		return c.sigaction(addr)
	case akOutRlimit:
		return c.rlimit(addr)
	case akOutFdPair:
		b, ok := c.read(addr, 8)
		if !ok {
			return stPtr(uint64(addr))
		}
		le := binary.LittleEndian
		return "[" + strconv.Itoa(int(int32(le.Uint32(b)))) + ", " +
			strconv.Itoa(int(int32(le.Uint32(b[4:])))) + "]"
	case akOutUname:
		return c.uname(addr)
	case akOutWstatus:
		b, ok := c.read(addr, 4)
		if !ok {
			return stPtr(uint64(addr))
		}
		return "[" + stWaitStatus(binary.LittleEndian.Uint32(b)) + "]"
	case akOutDents:
		return c.dents(addr, uint64(c.ret))
	case akOutIovec:
		return c.iovec(addr, c.next(i), int64(c.ret))
	case akOutULong:
		b, ok := c.read(addr, 8)
		if !ok {
			return stPtr(uint64(addr))
		}
		return "[" + stHex(binary.LittleEndian.Uint64(b)) + "]"
	}
	return stPtr(uint64(addr))
}

// ---------------------------------------------------------------------------
// Dynamic argument lists.

func stOpenArgs(at bool) func(a *[6]uintptr) []stKind {
	return func(a *[6]uintptr) []stKind {
		ks := []stKind{akPath, akOpenFlags}
		flags := a[1]
		if at {
			ks = []stKind{akDirfd, akPath, akOpenFlags}
			flags = a[2]
		}
		// The mode is only meaningful with O_CREAT or O_TMPFILE.
		if flags&(0x40|0x400000) != 0 {
			ks = append(ks, akMode)
		}
		return ks
	}
}

func stFcntlArgs(a *[6]uintptr) []stKind {
	switch int32(a[1]) {
	case 1, 3, 9, 11, 1025, 1032, 1034: // F_GETFD F_GETFL F_GETOWN F_GETSIG F_GETLEASE F_GETPIPE_SZ F_GET_SEALS
		return stArgs(akFd, akFcntlCmd)
	case 2: // F_SETFD
		return stArgs(akFd, akFcntlCmd, akFdFlags)
	case 4: // F_SETFL
		return stArgs(akFd, akFcntlCmd, akOpenFlags)
	case 0, 1030, 8, 10, 1031, 1024, 1026: // F_DUPFD F_DUPFD_CLOEXEC F_SETOWN F_SETSIG F_SETPIPE_SZ F_SETLEASE F_NOTIFY
		return stArgs(akFd, akFcntlCmd, akInt)
	case 5, 6, 7, 36, 37, 38, 15, 16: // locks, F_[GS]ETOWN_EX
		return stArgs(akFd, akFcntlCmd, akPtr)
	}
	return stArgs(akFd, akFcntlCmd, akHex)
}

func stMremapArgs(a *[6]uintptr) []stKind {
	if a[3]&2 != 0 { // MREMAP_FIXED
		return stArgs(akHex, akUint, akUint, akMremapFlags, akHex)
	}
	return stArgs(akHex, akUint, akUint, akMremapFlags)
}

func stFutexArgs(a *[6]uintptr) []stKind {
	switch uint32(a[1]) &^ 0x180 { // strip FUTEX_PRIVATE_FLAG, FUTEX_CLOCK_REALTIME
	case 0, 13: // FUTEX_WAIT, FUTEX_LOCK_PI2
		return stArgs(akPtr, akFutexOp, akUint, akTimespec)
	case 1, 2: // FUTEX_WAKE, FUTEX_FD
		return stArgs(akPtr, akFutexOp, akUint)
	case 3: // FUTEX_REQUEUE
		return stArgs(akPtr, akFutexOp, akUint, akUint, akPtr)
	case 4, 12: // FUTEX_CMP_REQUEUE, FUTEX_CMP_REQUEUE_PI
		return stArgs(akPtr, akFutexOp, akUint, akUint, akPtr, akUint)
	case 5: // FUTEX_WAKE_OP
		return stArgs(akPtr, akFutexOp, akUint, akUint, akPtr, akHex)
	case 6: // FUTEX_LOCK_PI
		return stArgs(akPtr, akFutexOp, akTimespec)
	case 7, 8: // FUTEX_UNLOCK_PI, FUTEX_TRYLOCK_PI
		return stArgs(akPtr, akFutexOp)
	case 9: // FUTEX_WAIT_BITSET
		return stArgs(akPtr, akFutexOp, akUint, akTimespec, akPtr, akFutexBitset)
	case 10: // FUTEX_WAKE_BITSET
		return stArgs(akPtr, akFutexOp, akUint, akPtr, akPtr, akFutexBitset)
	case 11: // FUTEX_WAIT_REQUEUE_PI
		return stArgs(akPtr, akFutexOp, akUint, akTimespec, akPtr)
	}
	return stArgs(akPtr, akFutexOp, akHex, akHex, akHex, akHex)
}

func stArchPrctlArgs(a *[6]uintptr) []stKind {
	switch uint32(a[0]) {
	case 0x1003, 0x1004: // ARCH_GET_FS, ARCH_GET_GS
		return stArgs(akArchCode, akOutULong)
	}
	return stArgs(akArchCode, akHex)
}

func stPrctlArgs(a *[6]uintptr) []stKind {
	switch uint32(a[0]) {
	case 15: // PR_SET_NAME
		return stArgs(akPrctlOp, akStr)
	case 16, 2: // PR_GET_NAME, PR_GET_PDEATHSIG
		return stArgs(akPrctlOp, akPtr)
	case 1: // PR_SET_PDEATHSIG
		return stArgs(akPrctlOp, akSignal)
	case 3, 7, 21, 37, 39, 42: // argument-less getters
		return stArgs(akPrctlOp)
	case 4, 8, 36, 23, 24: // PR_SET_DUMPABLE PR_SET_KEEPCAPS PR_SET_CHILD_SUBREAPER PR_CAPBSET_READ PR_CAPBSET_DROP
		return stArgs(akPrctlOp, akUint)
	case 0x53564d41: // PR_SET_VMA
		return stArgs(akPrctlOp, akUint, akHex, akUint, akStr)
	}
	return stArgs(akPrctlOp, akHex, akHex, akHex, akHex)
}

// stCloneArgs renders x86-64 clone(flags, stack, parent_tid, child_tid, tls)
// with strace's argument names.
func stCloneArgs(c *stCall) []string {
	flags := uint64(c.a[0])
	parts := []string{
		"child_stack=" + stPtr(uint64(c.a[1])),
		"flags=" + stCloneFlagsString(flags),
	}
	if flags&(0x100000|0x1000) != 0 { // CLONE_PARENT_SETTID, CLONE_PIDFD
		parts = append(parts, "parent_tid="+stPtr(uint64(c.a[2])))
	}
	if flags&0x80000 != 0 { // CLONE_SETTLS
		parts = append(parts, "tls="+stHex(uint64(c.a[4])))
	}
	if flags&(0x1000000|0x200000) != 0 { // CLONE_CHILD_SETTID, CLONE_CHILD_CLEARTID
		parts = append(parts, "child_tidptr="+stPtr(uint64(c.a[3])))
	}
	return parts
}

// ---------------------------------------------------------------------------
// Memory access.

var errStNoMem = errors.New("no memory reader")

func (c *stCall) copyIn(addr uintptr, dst []byte) (n int, err error) {
	if c.mem == nil {
		return 0, errStNoMem
	}
	defer func() {
		if r := recover(); r != nil {
			n, err = 0, errStNoMem
		}
	}()
	n, err = c.mem.CopyIn(addr, dst)
	n = max(0, min(n, len(dst)))
	return n, err
}

func (c *stCall) copyInString(addr uintptr, limit int) (s string, err error) {
	if c.mem == nil {
		return "", errStNoMem
	}
	defer func() {
		if r := recover(); r != nil {
			s, err = "", errStNoMem
		}
	}()
	return c.mem.CopyInString(addr, limit)
}

// read copies exactly size bytes from addr.
func (c *stCall) read(addr uintptr, size int) ([]byte, bool) {
	if addr == 0 || size < 0 || size > stMaxRead {
		return nil, false
	}
	b := make([]byte, size)
	n, _ := c.copyIn(addr, b)
	if n != size {
		return nil, false
	}
	return b, true
}

// readCString reads a NUL-terminated string of at most limit bytes.
func (c *stCall) readCString(addr uintptr, limit int) (s string, trunc, ok bool) {
	if addr == 0 {
		return "", false, false
	}
	if s, err := c.copyInString(addr, limit+1); err == nil {
		if i := strings.IndexByte(s, 0); i >= 0 {
			s = s[:i]
		}
		if len(s) > limit {
			return s[:limit], true, true
		}
		return s, false, true
	}
	// The reader may refuse long strings; fall back to a raw read and use
	// whatever prefix is readable.
	b := make([]byte, limit+1)
	n, _ := c.copyIn(addr, b)
	if n == 0 {
		return "", false, false
	}
	b = b[:n]
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return string(b[:i]), false, true
	}
	if n > limit {
		n = limit
	}
	return string(b[:n]), true, true
}

func (c *stCall) cstring(addr uintptr, limit int) string {
	s, trunc, ok := c.readCString(addr, limit)
	if !ok {
		return stPtr(uint64(addr))
	}
	return stQuote([]byte(s), trunc)
}

// buffer renders n bytes at addr as a quoted string, truncated to stMaxStr.
func (c *stCall) buffer(addr uintptr, n uint64) string {
	show := min(n, stMaxStr)
	if show == 0 {
		if addr == 0 {
			return "NULL"
		}
		return `""`
	}
	b, ok := c.read(addr, int(show))
	if !ok {
		return stPtr(uint64(addr))
	}
	return stQuote(b, n > show)
}

// ---------------------------------------------------------------------------
// Structures.

func (c *stCall) timespec(addr uintptr) string {
	b, ok := c.read(addr, 16)
	if !ok {
		return stPtr(uint64(addr))
	}
	le := binary.LittleEndian
	return "{tv_sec=" + strconv.FormatInt(int64(le.Uint64(b)), 10) +
		", tv_nsec=" + strconv.FormatInt(int64(le.Uint64(b[8:])), 10) + "}"
}

func (c *stCall) sigset(addr uintptr) string {
	b, ok := c.read(addr, 8)
	if !ok {
		return stPtr(uint64(addr))
	}
	return stSigsetString(binary.LittleEndian.Uint64(b))
}

// sigaction decodes the kernel's x86-64 struct sigaction:
// handler, flags, restorer, mask.
func (c *stCall) sigaction(addr uintptr) string {
	b, ok := c.read(addr, 32)
	if !ok {
		return stPtr(uint64(addr))
	}
	le := binary.LittleEndian
	handler, flags := le.Uint64(b), le.Uint64(b[8:])
	var h string
	switch handler {
	case 0:
		h = "SIG_DFL"
	case 1:
		h = "SIG_IGN"
	case ^uint64(0):
		h = "SIG_ERR"
	default:
		h = stHex(handler)
	}
	s := "{sa_handler=" + h + ", sa_mask=" + stSigsetString(le.Uint64(b[24:])) +
		", sa_flags=" + stSaFlagSet.format(flags)
	if flags&0x04000000 != 0 { // SA_RESTORER
		s += ", sa_restorer=" + stHex(le.Uint64(b[16:]))
	}
	return s + "}"
}

func (c *stCall) rlimit(addr uintptr) string {
	b, ok := c.read(addr, 16)
	if !ok {
		return stPtr(uint64(addr))
	}
	le := binary.LittleEndian
	return "{rlim_cur=" + stRlimValue(le.Uint64(b)) +
		", rlim_max=" + stRlimValue(le.Uint64(b[8:])) + "}"
}

func stRlimValue(v uint64) string {
	switch {
	case v == ^uint64(0):
		return "RLIM64_INFINITY"
	case v > 0 && v%1024 == 0:
		return strconv.FormatUint(v/1024, 10) + "*1024"
	}
	return strconv.FormatUint(v, 10)
}

// stat decodes the x86-64 struct stat (144 bytes).
func (c *stCall) stat(addr uintptr) string {
	b, ok := c.read(addr, 144)
	if !ok {
		return stPtr(uint64(addr))
	}
	le := binary.LittleEndian
	mode := le.Uint32(b[24:])
	s := "{st_mode=" + stFileMode(mode)
	if t := mode & 0o170000; t == 0o020000 || t == 0o060000 { // S_IFCHR, S_IFBLK
		s += ", st_rdev=" + stMakedev(le.Uint64(b[40:]))
	} else {
		s += ", st_size=" + strconv.FormatInt(int64(le.Uint64(b[48:])), 10)
	}
	return s + ", ...}"
}

// statx decodes the leading fields of struct statx.
func (c *stCall) statx(addr uintptr) string {
	b, ok := c.read(addr, 48)
	if !ok {
		return stPtr(uint64(addr))
	}
	le := binary.LittleEndian
	return "{stx_mask=" + stStatxMaskSet.format(uint64(le.Uint32(b))) +
		", stx_attributes=" + stHex(le.Uint64(b[8:])) +
		", stx_mode=" + stFileMode(uint32(le.Uint16(b[28:]))) +
		", stx_size=" + strconv.FormatUint(le.Uint64(b[40:]), 10) + ", ...}"
}

func stMakedev(dev uint64) string {
	major := (dev>>8)&0xfff | (dev>>32)&^0xfff
	minor := dev&0xff | (dev>>12)&^0xff
	return "makedev(" + stHex(major) + ", " + stHex(minor&0xffffffff) + ")"
}

var stFileTypes = map[uint32]string{
	0o140000: "S_IFSOCK", 0o120000: "S_IFLNK", 0o100000: "S_IFREG",
	0o060000: "S_IFBLK", 0o040000: "S_IFDIR", 0o020000: "S_IFCHR",
	0o010000: "S_IFIFO",
}

func stFileMode(m uint32) string {
	var parts []string
	if t := m & 0o170000; t != 0 {
		if name, ok := stFileTypes[t]; ok {
			parts = append(parts, name)
		} else {
			parts = append(parts, stOctal(uint64(t)))
		}
	}
	for _, f := range []stFlag{{0o4000, "S_ISUID"}, {0o2000, "S_ISGID"}, {0o1000, "S_ISVTX"}} {
		if uint64(m)&f.v != 0 {
			parts = append(parts, f.name)
		}
	}
	parts = append(parts, stOctal(uint64(m&0o777)))
	return strings.Join(parts, "|")
}

// uname decodes struct utsname (six 65-byte fields).
func (c *stCall) uname(addr uintptr) string {
	b, ok := c.read(addr, 6*65)
	if !ok {
		return stPtr(uint64(addr))
	}
	field := func(i int) string {
		f := b[i*65 : (i+1)*65]
		if j := bytes.IndexByte(f, 0); j >= 0 {
			f = f[:j]
		}
		return stQuote(f, false)
	}
	return "{sysname=" + field(0) + ", nodename=" + field(1) + ", ...}"
}

// dents counts the linux_dirent64 records in the first n bytes at addr.
func (c *stCall) dents(addr uintptr, n uint64) string {
	if n == 0 {
		return stPtr(uint64(addr)) + " /* 0 entries */"
	}
	b, ok := c.read(addr, int(min(n, stMaxRead)))
	if !ok {
		return stPtr(uint64(addr))
	}
	count := 0
	for off := 0; off+19 <= len(b); {
		reclen := int(binary.LittleEndian.Uint16(b[off+16:]))
		if reclen == 0 {
			break
		}
		count++
		off += reclen
	}
	more := ""
	if n > stMaxRead {
		more = "+"
	}
	return stPtr(uint64(addr)) + " /* " + strconv.Itoa(count) + more + " entries */"
}

// iovec renders an iovec array of cnt elements. For output (readv),
// filled is the number of bytes the call transferred; for input it is -1
// and each element's whole iov_len is shown.
func (c *stCall) iovec(addr, cnt uintptr, filled int64) string {
	n := int(min(uint64(cnt), stMaxElems))
	if n == 0 {
		if addr == 0 {
			return "NULL"
		}
		return "[]"
	}
	b, ok := c.read(addr, n*16)
	if !ok {
		return stPtr(uint64(addr))
	}
	le := binary.LittleEndian
	parts := make([]string, 0, n+1)
	for i := 0; i < n; i++ {
		base := le.Uint64(b[i*16:])
		length := le.Uint64(b[i*16+8:])
		show := length
		if filled >= 0 {
			show = min(length, uint64(filled))
			filled -= int64(show)
		}
		parts = append(parts, "{iov_base="+c.buffer(uintptr(base), show)+
			", iov_len="+strconv.FormatUint(length, 10)+"}")
	}
	if uint64(cnt) > stMaxElems {
		parts = append(parts, "...")
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func (c *stCall) pollfds(addr, cnt uintptr) string {
	n := int(min(uint64(cnt), stMaxElems))
	if n == 0 {
		if addr == 0 {
			return "NULL"
		}
		return "[]"
	}
	b, ok := c.read(addr, n*8)
	if !ok {
		return stPtr(uint64(addr))
	}
	le := binary.LittleEndian
	parts := make([]string, 0, n+1)
	for i := 0; i < n; i++ {
		fd := int32(le.Uint32(b[i*8:]))
		ev := le.Uint16(b[i*8+4:])
		parts = append(parts, "{fd="+strconv.Itoa(int(fd))+", events="+stPollSet.format(uint64(ev))+"}")
	}
	if uint64(cnt) > stMaxElems {
		parts = append(parts, "...")
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func (c *stCall) pollRevents(addr, cnt uintptr) (string, bool) {
	n := int(min(uint64(cnt), stMaxElems))
	b, ok := c.read(addr, n*8)
	if !ok || n == 0 {
		return "", false
	}
	le := binary.LittleEndian
	var parts []string
	for i := 0; i < n; i++ {
		if rev := le.Uint16(b[i*8+6:]); rev != 0 {
			fd := int32(le.Uint32(b[i*8:]))
			parts = append(parts, "{fd="+strconv.Itoa(int(fd))+", revents="+stPollSet.format(uint64(rev))+"}")
		}
	}
	return "[" + strings.Join(parts, ", ") + "]", true
}

// argv renders a NULL-terminated array of strings.
func (c *stCall) argv(addr uintptr) string {
	if addr == 0 {
		return "NULL"
	}
	var parts []string
	for i := 0; ; i++ {
		b, ok := c.read(addr+uintptr(i*8), 8)
		if !ok {
			if i == 0 {
				return stPtr(uint64(addr))
			}
			parts = append(parts, "...")
			break
		}
		p := uintptr(binary.LittleEndian.Uint64(b))
		if p == 0 {
			break
		}
		if i == stMaxArgv {
			parts = append(parts, "...")
			break
		}
		parts = append(parts, c.cstring(p, stMaxStr))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// envp renders the environment like strace: address and variable count.
func (c *stCall) envp(addr uintptr) string {
	if addr == 0 {
		return "NULL"
	}
	n := 0
	buf := make([]byte, 64*8)
scan:
	for n < stMaxEnv {
		got, _ := c.copyIn(addr+uintptr(n*8), buf)
		ptrs := got / 8
		if ptrs == 0 {
			if n == 0 {
				return stPtr(uint64(addr))
			}
			break
		}
		for i := 0; i < ptrs && n < stMaxEnv; i++ {
			if binary.LittleEndian.Uint64(buf[i*8:]) == 0 {
				break scan
			}
			n++
		}
		if ptrs < len(buf)/8 {
			break // the rest is unreadable
		}
	}
	more := ""
	if n == stMaxEnv {
		more = "+"
	}
	return stPtr(uint64(addr)) + " /* " + strconv.Itoa(n) + more + " vars */"
}

// cloneArgs decodes struct clone_args for clone3.
func (c *stCall) cloneArgs(addr, size uintptr) string {
	n := int(min(uint64(size), 88))
	if n < 64 {
		return stPtr(uint64(addr))
	}
	b, ok := c.read(addr, n)
	if !ok {
		return stPtr(uint64(addr))
	}
	le := binary.LittleEndian
	f := func(i int) uint64 { return le.Uint64(b[i*8:]) }
	parts := []string{"flags=" + stCloneFlagsString(f(0)&^0xff)}
	add := func(name string, v uint64, render func(uint64) string) {
		if v != 0 {
			parts = append(parts, name+"="+render(v))
		}
	}
	add("pidfd", f(1), stPtr)
	add("child_tid", f(2), stPtr)
	add("parent_tid", f(3), stPtr)
	add("exit_signal", f(4), stSignalName)
	add("stack", f(5), stPtr)
	add("stack_size", f(6), stHex)
	add("tls", f(7), stHex)
	if n >= 80 {
		add("set_tid", f(8), stPtr)
		add("set_tid_size", f(9), func(v uint64) string { return strconv.FormatUint(v, 10) })
	}
	if n >= 88 {
		add("cgroup", f(10), func(v uint64) string { return strconv.FormatUint(v, 10) })
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func stWaitStatus(s uint32) string {
	switch {
	case s&0x7f == 0:
		return "{WIFEXITED(s) && WEXITSTATUS(s) == " + strconv.Itoa(int(s>>8&0xff)) + "}"
	case s == 0xffff:
		return "{WIFCONTINUED(s)}"
	case s&0xff == 0x7f:
		r := "{WIFSTOPPED(s) && WSTOPSIG(s) == " + stSignalName(uint64(s>>8&0xff))
		if ev := s >> 16; ev != 0 {
			r += " && s >> 16 == " + strconv.Itoa(int(ev))
		}
		return r + "}"
	}
	r := "{WIFSIGNALED(s) && WTERMSIG(s) == " + stSignalName(uint64(s&0x7f))
	if s&0x80 != 0 {
		r += " && WCOREDUMP(s)"
	}
	return r + "}"
}

// ---------------------------------------------------------------------------
// Scalars.

func stHex(v uint64) string {
	if v == 0 {
		return "0"
	}
	return "0x" + strconv.FormatUint(v, 16)
}

func stPtr(v uint64) string {
	if v == 0 {
		return "NULL"
	}
	return "0x" + strconv.FormatUint(v, 16)
}

// stOctal formats like C's "%#03o": 000, 0644, 01777.
func stOctal(v uint64) string {
	s := strconv.FormatUint(v, 8)
	if v == 0 {
		return "000"
	}
	return "0" + s
}

// stQuote renders bytes as a C string literal the way strace does;
// trunc appends "..." after the closing quote.
func stQuote(b []byte, trunc bool) string {
	var sb strings.Builder
	sb.Grow(len(b) + 8)
	sb.WriteByte('"')
	for i, ch := range b {
		switch ch {
		case '"':
			sb.WriteString(`\"`)
		case '\\':
			sb.WriteString(`\\`)
		case '\t':
			sb.WriteString(`\t`)
		case '\n':
			sb.WriteString(`\n`)
		case '\v':
			sb.WriteString(`\v`)
		case '\f':
			sb.WriteString(`\f`)
		case '\r':
			sb.WriteString(`\r`)
		default:
			if ch >= 0x20 && ch < 0x7f {
				sb.WriteByte(ch)
				continue
			}
			sb.WriteByte('\\')
			o := strconv.FormatUint(uint64(ch), 8)
			// A following octal digit would extend the escape: pad to 3.
			if i+1 < len(b) && b[i+1] >= '0' && b[i+1] <= '7' {
				o = strings.Repeat("0", 3-len(o)) + o
			}
			sb.WriteString(o)
		}
	}
	sb.WriteByte('"')
	if trunc {
		sb.WriteString("...")
	}
	return sb.String()
}

func stErrno(e uint64) (name, text string) {
	if s, ok := stKernelErrnos[e]; ok {
		return s[0], s[1]
	}
	num := strconv.FormatUint(e, 10)
	if e > 0xffff {
		return "ERRNO_" + num, "Unknown error " + num
	}
	errno := unix.Errno(e)
	name = unix.ErrnoName(errno)
	if name == "" {
		return "ERRNO_" + num, "Unknown error " + num
	}
	text = errno.Error()
	if text != "" && text[0] >= 'a' && text[0] <= 'z' {
		text = string(text[0]-'a'+'A') + text[1:]
	}
	return name, text
}

// stKernelErrnos are errno values internal to the kernel (include/linux/errno.h)
// that strace knows by name.
var stKernelErrnos = map[uint64][2]string{
	512: {"ERESTARTSYS", "To be restarted if SA_RESTART is set"},
	513: {"ERESTARTNOINTR", "To be restarted"},
	514: {"ERESTARTNOHAND", "To be restarted if no handler"},
	515: {"ENOIOCTLCMD", "No ioctl command"},
	516: {"ERESTART_RESTARTBLOCK", "Interrupted by signal"},
	517: {"EPROBE_DEFER", "Driver requests probe retry"},
	518: {"EOPENSTALE", "Open found a stale dentry"},
	519: {"ENOPARAM", "Parameter not supported"},
	524: {"ENOTSUPP", "Operation is not supported"},
}

var stSignalNames = [...]string{
	1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP",
	6: "SIGABRT", 7: "SIGBUS", 8: "SIGFPE", 9: "SIGKILL", 10: "SIGUSR1",
	11: "SIGSEGV", 12: "SIGUSR2", 13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM",
	16: "SIGSTKFLT", 17: "SIGCHLD", 18: "SIGCONT", 19: "SIGSTOP", 20: "SIGTSTP",
	21: "SIGTTIN", 22: "SIGTTOU", 23: "SIGURG", 24: "SIGXCPU", 25: "SIGXFSZ",
	26: "SIGVTALRM", 27: "SIGPROF", 28: "SIGWINCH", 29: "SIGIO", 30: "SIGPWR",
	31: "SIGSYS",
}

func stSignalName(v uint64) string {
	sig := int32(v)
	switch {
	case sig >= 1 && sig <= 31:
		return stSignalNames[sig]
	case sig == 32:
		return "SIGRTMIN"
	case sig > 32 && sig <= 64:
		return "SIGRT_" + strconv.Itoa(int(sig-32))
	}
	return strconv.Itoa(int(sig))
}

// stSigsetString renders a 64-bit signal mask as strace does: [INT TERM],
// or ~[...] listing the signals not in the set when most are.
func stSigsetString(mask uint64) string {
	prefix := "["
	if bits.OnesCount64(mask) > 32 {
		prefix = "~["
		mask = ^mask
	}
	var parts []string
	for sig := uint64(1); sig <= 64; sig++ {
		if mask&(1<<(sig-1)) != 0 {
			parts = append(parts, strings.TrimPrefix(stSignalName(sig), "SIG"))
		}
	}
	return prefix + strings.Join(parts, " ") + "]"
}

func stClockName(v uint64) string {
	id := int32(v)
	if id >= 0 && int(id) < len(stClockNames) {
		return stClockNames[id]
	}
	return strconv.Itoa(int(id))
}

var stClockNames = [...]string{
	"CLOCK_REALTIME", "CLOCK_MONOTONIC", "CLOCK_PROCESS_CPUTIME_ID",
	"CLOCK_THREAD_CPUTIME_ID", "CLOCK_MONOTONIC_RAW", "CLOCK_REALTIME_COARSE",
	"CLOCK_MONOTONIC_COARSE", "CLOCK_BOOTTIME", "CLOCK_REALTIME_ALARM",
	"CLOCK_BOOTTIME_ALARM", "CLOCK_SGI_CYCLE", "CLOCK_TAI",
}

var stFutexCmds = [...]string{
	"FUTEX_WAIT", "FUTEX_WAKE", "FUTEX_FD", "FUTEX_REQUEUE", "FUTEX_CMP_REQUEUE",
	"FUTEX_WAKE_OP", "FUTEX_LOCK_PI", "FUTEX_UNLOCK_PI", "FUTEX_TRYLOCK_PI",
	"FUTEX_WAIT_BITSET", "FUTEX_WAKE_BITSET", "FUTEX_WAIT_REQUEUE_PI",
	"FUTEX_CMP_REQUEUE_PI", "FUTEX_LOCK_PI2",
}

func stFutexOpString(v uint64) string {
	op := uint32(v)
	cmd := op &^ 0x180
	if int(cmd) >= len(stFutexCmds) {
		return stHex(uint64(op))
	}
	s := stFutexCmds[cmd]
	if op&0x80 != 0 { // FUTEX_PRIVATE_FLAG
		s += "_PRIVATE"
	}
	if op&0x100 != 0 {
		s += "|FUTEX_CLOCK_REALTIME"
	}
	return s
}

func stOpenFlagsString(v uint64) string {
	v &= 0xffffffff
	acc := [...]string{"O_RDONLY", "O_WRONLY", "O_RDWR", "0x3"}[v&3]
	if rest := v &^ 3; rest != 0 {
		return acc + "|" + stOpenFlagSet.format(rest)
	}
	return acc
}

func stMapFlagsString(v uint64) string {
	v &= 0xffffffff
	var parts []string
	switch t := v & 0xf; t { // MAP_TYPE
	case 0:
	case 1:
		parts = append(parts, "MAP_SHARED")
	case 2:
		parts = append(parts, "MAP_PRIVATE")
	case 3:
		parts = append(parts, "MAP_SHARED_VALIDATE")
	case 8:
		parts = append(parts, "MAP_DROPPABLE")
	default:
		parts = append(parts, stHex(t))
	}
	rest := v &^ 0xf
	huge := ""
	if rest&0x40000 != 0 { // MAP_HUGETLB: bits 26..31 hold log2(page size)
		if shift := rest >> 26 & 0x3f; shift != 0 {
			switch {
			case shift >= 30:
				huge = strconv.Itoa(1<<(shift-30)) + "GB"
			case shift >= 20:
				huge = strconv.Itoa(1<<(shift-20)) + "MB"
			case shift >= 10:
				huge = strconv.Itoa(1<<(shift-10)) + "KB"
			default:
				huge = strconv.Itoa(1<<shift) + "B"
			}
			rest &^= 0x3f << 26
		}
	}
	if rest != 0 {
		parts = append(parts, stMapFlagSet.format(rest))
	}
	if huge != "" {
		parts = append(parts, "MAP_HUGE_"+huge)
	}
	if len(parts) == 0 {
		return "0"
	}
	return strings.Join(parts, "|")
}

func stCloneFlagsString(v uint64) string {
	var parts []string
	if f := v &^ 0xff; f != 0 {
		parts = append(parts, stCloneFlagSet.format(f))
	}
	if sig := v & 0xff; sig != 0 {
		parts = append(parts, stSignalName(sig))
	}
	if len(parts) == 0 {
		return "0"
	}
	return strings.Join(parts, "|")
}

// stStatxFlagsString renders statx's AT_* flags; a zero sync type is
// shown as AT_STATX_SYNC_AS_STAT.
func stStatxFlagsString(v uint64) string {
	var parts []string
	if v&0x6000 == 0 {
		parts = append(parts, "AT_STATX_SYNC_AS_STAT")
	}
	if v != 0 {
		parts = append(parts, stAtFlagSet.format(v))
	}
	return strings.Join(parts, "|")
}

var stSockTypes = map[uint64]string{
	1: "SOCK_STREAM", 2: "SOCK_DGRAM", 3: "SOCK_RAW", 4: "SOCK_RDM",
	5: "SOCK_SEQPACKET", 6: "SOCK_DCCP", 10: "SOCK_PACKET",
}

func stSockTypeString(v uint64) string {
	t := v & 0xf
	s, ok := stSockTypes[t]
	if !ok {
		s = stHex(t)
	}
	if rest := v &^ 0xf; rest != 0 {
		s += "|" + stSockFlagSet.format(rest)
	}
	return s
}

// ---------------------------------------------------------------------------
// Flag and enum tables.

type stFlag struct {
	v    uint64
	name string
}

// stFlags is a bit set; multi-bit values must come before their parts.
type stFlags struct {
	zero  string
	flags []stFlag
}

func (f *stFlags) format(v uint64) string {
	if v == 0 {
		if f.zero != "" {
			return f.zero
		}
		return "0"
	}
	var parts []string
	rest := v
	for _, fl := range f.flags {
		if fl.v != 0 && rest&fl.v == fl.v {
			parts = append(parts, fl.name)
			rest &^= fl.v
		}
	}
	if rest != 0 {
		parts = append(parts, stHex(rest))
	}
	return strings.Join(parts, "|")
}

type stEnum map[uint64]string

// format names v, or prints it as hex (hex) or signed decimal.
func (e stEnum) format(v uint64, hex bool) string {
	if s, ok := e[v]; ok {
		return s
	}
	if hex {
		return stHex(v)
	}
	return strconv.FormatInt(int64(int32(v)), 10)
}

func stNbCloexec(prefix string, extra ...stFlag) *stFlags {
	return &stFlags{flags: append([]stFlag{
		{0x800, prefix + "NONBLOCK"}, {0x80000, prefix + "CLOEXEC"},
	}, extra...)}
}

var (
	stOpenFlagSet = &stFlags{flags: []stFlag{
		{0o20200000, "O_TMPFILE"}, {0o4010000, "O_SYNC"},
		{0o100, "O_CREAT"}, {0o200, "O_EXCL"}, {0o400, "O_NOCTTY"},
		{0o1000, "O_TRUNC"}, {0o2000, "O_APPEND"}, {0o4000, "O_NONBLOCK"},
		{0o10000, "O_DSYNC"}, {0o20000, "O_ASYNC"}, {0o40000, "O_DIRECT"},
		{0o100000, "O_LARGEFILE"}, {0o200000, "O_DIRECTORY"},
		{0o400000, "O_NOFOLLOW"}, {0o1000000, "O_NOATIME"},
		{0o2000000, "O_CLOEXEC"}, {0o10000000, "O_PATH"},
	}}
	stProtSet = &stFlags{zero: "PROT_NONE", flags: []stFlag{
		{0x1, "PROT_READ"}, {0x2, "PROT_WRITE"}, {0x4, "PROT_EXEC"},
		{0x8, "PROT_SEM"}, {0x01000000, "PROT_GROWSDOWN"},
		{0x02000000, "PROT_GROWSUP"},
	}}
	stMapFlagSet = &stFlags{flags: []stFlag{
		{0x10, "MAP_FIXED"}, {0x20, "MAP_ANONYMOUS"}, {0x40, "MAP_32BIT"},
		{0x100, "MAP_GROWSDOWN"}, {0x800, "MAP_DENYWRITE"},
		{0x1000, "MAP_EXECUTABLE"}, {0x2000, "MAP_LOCKED"},
		{0x4000, "MAP_NORESERVE"}, {0x8000, "MAP_POPULATE"},
		{0x10000, "MAP_NONBLOCK"}, {0x20000, "MAP_STACK"},
		{0x40000, "MAP_HUGETLB"}, {0x80000, "MAP_SYNC"},
		{0x100000, "MAP_FIXED_NOREPLACE"}, {0x4000000, "MAP_UNINITIALIZED"},
	}}
	stCloneFlagSet = &stFlags{flags: []stFlag{
		{0x100, "CLONE_VM"}, {0x200, "CLONE_FS"}, {0x400, "CLONE_FILES"},
		{0x800, "CLONE_SIGHAND"}, {0x1000, "CLONE_PIDFD"},
		{0x2000, "CLONE_PTRACE"}, {0x4000, "CLONE_VFORK"},
		{0x8000, "CLONE_PARENT"}, {0x10000, "CLONE_THREAD"},
		{0x20000, "CLONE_NEWNS"}, {0x40000, "CLONE_SYSVSEM"},
		{0x80000, "CLONE_SETTLS"}, {0x100000, "CLONE_PARENT_SETTID"},
		{0x200000, "CLONE_CHILD_CLEARTID"}, {0x400000, "CLONE_DETACHED"},
		{0x800000, "CLONE_UNTRACED"}, {0x1000000, "CLONE_CHILD_SETTID"},
		{0x2000000, "CLONE_NEWCGROUP"}, {0x4000000, "CLONE_NEWUTS"},
		{0x8000000, "CLONE_NEWIPC"}, {0x10000000, "CLONE_NEWUSER"},
		{0x20000000, "CLONE_NEWPID"}, {0x40000000, "CLONE_NEWNET"},
		{0x80000000, "CLONE_IO"}, {0x100000000, "CLONE_CLEAR_SIGHAND"},
		{0x200000000, "CLONE_INTO_CGROUP"},
	}}
	stAccessSet = &stFlags{zero: "F_OK", flags: []stFlag{
		{4, "R_OK"}, {2, "W_OK"}, {1, "X_OK"},
	}}
	stAtFlagSet = &stFlags{flags: []stFlag{
		{0x100, "AT_SYMLINK_NOFOLLOW"}, {0x200, "AT_REMOVEDIR"},
		{0x400, "AT_SYMLINK_FOLLOW"}, {0x800, "AT_NO_AUTOMOUNT"},
		{0x1000, "AT_EMPTY_PATH"}, {0x2000, "AT_STATX_FORCE_SYNC"},
		{0x4000, "AT_STATX_DONT_SYNC"}, {0x8000, "AT_RECURSIVE"},
	}}
	stAtEaccessSet = &stFlags{flags: []stFlag{
		{0x100, "AT_SYMLINK_NOFOLLOW"}, {0x200, "AT_EACCESS"},
		{0x1000, "AT_EMPTY_PATH"},
	}}
	stStatxMaskSet = &stFlags{flags: []stFlag{
		{0xfff, "STATX_ALL"}, {0x7ff, "STATX_BASIC_STATS"},
		{0x1, "STATX_TYPE"}, {0x2, "STATX_MODE"}, {0x4, "STATX_NLINK"},
		{0x8, "STATX_UID"}, {0x10, "STATX_GID"}, {0x20, "STATX_ATIME"},
		{0x40, "STATX_MTIME"}, {0x80, "STATX_CTIME"}, {0x100, "STATX_INO"},
		{0x200, "STATX_SIZE"}, {0x400, "STATX_BLOCKS"},
		{0x800, "STATX_BTIME"}, {0x1000, "STATX_MNT_ID"},
		{0x2000, "STATX_DIOALIGN"}, {0x4000, "STATX_MNT_ID_UNIQUE"},
		{0x8000, "STATX_SUBVOL"}, {0x10000, "STATX_WRITE_ATOMIC"},
		{0x20000, "STATX_DIO_READ_ALIGN"},
	}}
	stFdFlagSet     = &stFlags{flags: []stFlag{{1, "FD_CLOEXEC"}}}
	stClockFlagSet  = &stFlags{flags: []stFlag{{1, "TIMER_ABSTIME"}}}
	stMremapSet     = &stFlags{flags: []stFlag{{1, "MREMAP_MAYMOVE"}, {2, "MREMAP_FIXED"}, {4, "MREMAP_DONTUNMAP"}}}
	stMsyncSet      = &stFlags{flags: []stFlag{{1, "MS_ASYNC"}, {2, "MS_INVALIDATE"}, {4, "MS_SYNC"}}}
	stGrndSet       = &stFlags{flags: []stFlag{{1, "GRND_NONBLOCK"}, {2, "GRND_RANDOM"}, {4, "GRND_INSECURE"}}}
	stCloseRangeSet = &stFlags{flags: []stFlag{{2, "CLOSE_RANGE_UNSHARE"}, {4, "CLOSE_RANGE_CLOEXEC"}}}
	stRenameSet     = &stFlags{flags: []stFlag{{1, "RENAME_NOREPLACE"}, {2, "RENAME_EXCHANGE"}, {4, "RENAME_WHITEOUT"}}}
	stFlockSet      = &stFlags{flags: []stFlag{{1, "LOCK_SH"}, {2, "LOCK_EX"}, {4, "LOCK_NB"}, {8, "LOCK_UN"}}}
	stMemfdSet      = &stFlags{flags: []stFlag{
		{1, "MFD_CLOEXEC"}, {2, "MFD_ALLOW_SEALING"}, {4, "MFD_HUGETLB"},
		{8, "MFD_NOEXEC_SEAL"}, {0x10, "MFD_EXEC"},
	}}
	stWaitSet = &stFlags{flags: []stFlag{
		{1, "WNOHANG"}, {2, "WSTOPPED"}, {4, "WEXITED"}, {8, "WCONTINUED"},
		{0x1000000, "WNOWAIT"}, {0x20000000, "__WNOTHREAD"},
		{0x40000000, "__WALL"}, {0x80000000, "__WCLONE"},
	}}
	stSaFlagSet = &stFlags{flags: []stFlag{
		{0x1, "SA_NOCLDSTOP"}, {0x2, "SA_NOCLDWAIT"}, {0x4, "SA_SIGINFO"},
		{0x400, "SA_UNSUPPORTED"}, {0x800, "SA_EXPOSE_TAGBITS"},
		{0x04000000, "SA_RESTORER"}, {0x08000000, "SA_ONSTACK"},
		{0x10000000, "SA_RESTART"}, {0x40000000, "SA_NODEFER"},
		{0x80000000, "SA_RESETHAND"},
	}}
	stPollSet = &stFlags{flags: []stFlag{
		{0x1, "POLLIN"}, {0x2, "POLLPRI"}, {0x4, "POLLOUT"}, {0x8, "POLLERR"},
		{0x10, "POLLHUP"}, {0x20, "POLLNVAL"}, {0x40, "POLLRDNORM"},
		{0x80, "POLLRDBAND"}, {0x100, "POLLWRNORM"}, {0x200, "POLLWRBAND"},
		{0x400, "POLLMSG"}, {0x1000, "POLLREMOVE"}, {0x2000, "POLLRDHUP"},
	}}
	stSockFlagSet  = stNbCloexec("SOCK_")
	stEfdFlagSet   = stNbCloexec("EFD_", stFlag{1, "EFD_SEMAPHORE"})
	stTfdFlagSet   = stNbCloexec("TFD_")
	stSfdFlagSet   = stNbCloexec("SFD_")
	stInFlagSet    = stNbCloexec("IN_")
	stEpollFlagSet = &stFlags{flags: []stFlag{{0x80000, "EPOLL_CLOEXEC"}}}

	stSigHows   = stEnum{0: "SIG_BLOCK", 1: "SIG_UNBLOCK", 2: "SIG_SETMASK"}
	stWhences   = stEnum{0: "SEEK_SET", 1: "SEEK_CUR", 2: "SEEK_END", 3: "SEEK_DATA", 4: "SEEK_HOLE"}
	stArchCodes = stEnum{
		0x1001: "ARCH_SET_GS", 0x1002: "ARCH_SET_FS", 0x1003: "ARCH_GET_FS",
		0x1004: "ARCH_GET_GS", 0x1011: "ARCH_GET_CPUID", 0x1012: "ARCH_SET_CPUID",
		0x1021: "ARCH_GET_XCOMP_SUPP", 0x1022: "ARCH_GET_XCOMP_PERM",
		0x1023: "ARCH_REQ_XCOMP_PERM", 0x1024: "ARCH_GET_XCOMP_GUEST_PERM",
		0x1025: "ARCH_REQ_XCOMP_GUEST_PERM",
		0x2001: "ARCH_MAP_VDSO_X32", 0x2002: "ARCH_MAP_VDSO_32",
		0x2003: "ARCH_MAP_VDSO_64",
		0x4001: "ARCH_GET_UNTAG_MASK", 0x4002: "ARCH_ENABLE_TAGGED_ADDR",
		0x4003: "ARCH_GET_MAX_TAG_BITS", 0x4004: "ARCH_FORCE_TAGGED_SVA",
		0x5001: "ARCH_SHSTK_ENABLE", 0x5002: "ARCH_SHSTK_DISABLE",
		0x5003: "ARCH_SHSTK_LOCK", 0x5004: "ARCH_SHSTK_UNLOCK",
		0x5005: "ARCH_SHSTK_STATUS",
	}
	stFcntlCmds = stEnum{
		0: "F_DUPFD", 1: "F_GETFD", 2: "F_SETFD", 3: "F_GETFL", 4: "F_SETFL",
		5: "F_GETLK", 6: "F_SETLK", 7: "F_SETLKW", 8: "F_SETOWN", 9: "F_GETOWN",
		10: "F_SETSIG", 11: "F_GETSIG", 15: "F_SETOWN_EX", 16: "F_GETOWN_EX",
		36: "F_OFD_GETLK", 37: "F_OFD_SETLK", 38: "F_OFD_SETLKW",
		1024: "F_SETLEASE", 1025: "F_GETLEASE", 1026: "F_NOTIFY",
		1030: "F_DUPFD_CLOEXEC", 1031: "F_SETPIPE_SZ", 1032: "F_GETPIPE_SZ",
		1033: "F_ADD_SEALS", 1034: "F_GET_SEALS",
	}
	stMadvices = stEnum{
		0: "MADV_NORMAL", 1: "MADV_RANDOM", 2: "MADV_SEQUENTIAL",
		3: "MADV_WILLNEED", 4: "MADV_DONTNEED", 8: "MADV_FREE",
		9: "MADV_REMOVE", 10: "MADV_DONTFORK", 11: "MADV_DOFORK",
		12: "MADV_MERGEABLE", 13: "MADV_UNMERGEABLE", 14: "MADV_HUGEPAGE",
		15: "MADV_NOHUGEPAGE", 16: "MADV_DONTDUMP", 17: "MADV_DODUMP",
		18: "MADV_WIPEONFORK", 19: "MADV_KEEPONFORK", 20: "MADV_COLD",
		21: "MADV_PAGEOUT", 22: "MADV_POPULATE_READ",
		23: "MADV_POPULATE_WRITE", 24: "MADV_DONTNEED_LOCKED",
		25: "MADV_COLLAPSE", 100: "MADV_HWPOISON", 101: "MADV_SOFT_OFFLINE",
		102: "MADV_GUARD_INSTALL", 103: "MADV_GUARD_REMOVE",
	}
	stIoctls = stEnum{
		0x5401: "TCGETS", 0x5402: "TCSETS", 0x5403: "TCSETSW", 0x5404: "TCSETSF",
		0x5409: "TCSBRK", 0x540A: "TCXONC", 0x540B: "TCFLSH",
		0x540E: "TIOCSCTTY", 0x540F: "TIOCGPGRP", 0x5410: "TIOCSPGRP",
		0x5411: "TIOCOUTQ", 0x5413: "TIOCGWINSZ", 0x5414: "TIOCSWINSZ",
		0x541B: "FIONREAD", 0x5421: "FIONBIO", 0x5422: "TIOCNOTTY",
		0x5429: "TIOCGSID", 0x5450: "FIONCLEX", 0x5451: "FIOCLEX",
		0x5452: "FIOASYNC", 0x80045430: "TIOCGPTN", 0x40045431: "TIOCSPTLCK",
	}
	stRlimits = stEnum{
		0: "RLIMIT_CPU", 1: "RLIMIT_FSIZE", 2: "RLIMIT_DATA", 3: "RLIMIT_STACK",
		4: "RLIMIT_CORE", 5: "RLIMIT_RSS", 6: "RLIMIT_NPROC", 7: "RLIMIT_NOFILE",
		8: "RLIMIT_MEMLOCK", 9: "RLIMIT_AS", 10: "RLIMIT_LOCKS",
		11: "RLIMIT_SIGPENDING", 12: "RLIMIT_MSGQUEUE", 13: "RLIMIT_NICE",
		14: "RLIMIT_RTPRIO", 15: "RLIMIT_RTTIME",
	}
	stSockDomains = stEnum{
		0: "AF_UNSPEC", 1: "AF_UNIX", 2: "AF_INET", 10: "AF_INET6",
		16: "AF_NETLINK", 17: "AF_PACKET", 40: "AF_VSOCK",
	}
	stShutHows = stEnum{0: "SHUT_RD", 1: "SHUT_WR", 2: "SHUT_RDWR"}
	stEpollOps = stEnum{1: "EPOLL_CTL_ADD", 2: "EPOLL_CTL_DEL", 3: "EPOLL_CTL_MOD"}
	stFadvices = stEnum{0: "POSIX_FADV_NORMAL", 1: "POSIX_FADV_RANDOM", 2: "POSIX_FADV_SEQUENTIAL", 3: "POSIX_FADV_WILLNEED", 4: "POSIX_FADV_DONTNEED", 5: "POSIX_FADV_NOREUSE"}
	stPrctlOps = stEnum{
		1: "PR_SET_PDEATHSIG", 2: "PR_GET_PDEATHSIG", 3: "PR_GET_DUMPABLE",
		4: "PR_SET_DUMPABLE", 7: "PR_GET_KEEPCAPS", 8: "PR_SET_KEEPCAPS",
		15: "PR_SET_NAME", 16: "PR_GET_NAME", 21: "PR_GET_SECCOMP",
		22: "PR_SET_SECCOMP", 23: "PR_CAPBSET_READ", 24: "PR_CAPBSET_DROP",
		25: "PR_GET_TSC", 26: "PR_SET_TSC", 29: "PR_SET_TIMERSLACK",
		30: "PR_GET_TIMERSLACK", 35: "PR_SET_MM", 36: "PR_SET_CHILD_SUBREAPER",
		37: "PR_GET_CHILD_SUBREAPER", 38: "PR_SET_NO_NEW_PRIVS",
		39: "PR_GET_NO_NEW_PRIVS", 40: "PR_GET_TID_ADDRESS",
		41: "PR_SET_THP_DISABLE", 42: "PR_GET_THP_DISABLE",
		47: "PR_CAP_AMBIENT", 52: "PR_GET_SPECULATION_CTRL",
		53: "PR_SET_SPECULATION_CTRL", 0x53564d41: "PR_SET_VMA",
		0x59616d61: "PR_SET_PTRACER",
	}
)
