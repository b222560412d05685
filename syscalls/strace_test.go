package syscalls

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// fakeMem is a tracee address space: each key is the start of a readable
// region holding the bytes of its value. It follows the memory manager's
// contract: CopyIn returns the readable prefix and an error, CopyInString
// fails for unterminated strings longer than max.
type fakeMem map[uintptr][]byte

var errFault = errors.New("bad address")

func (m fakeMem) region(addr uintptr) []byte {
	for base, b := range m {
		if addr >= base && addr-base < uintptr(len(b)) {
			return b[addr-base:]
		}
	}
	return nil
}

func (m fakeMem) CopyIn(addr uintptr, dst []byte) (int, error) {
	n := copy(dst, m.region(addr))
	if n < len(dst) {
		return n, errFault
	}
	return n, nil
}

func (m fakeMem) CopyInString(addr uintptr, max int) (string, error) {
	b := m.region(addr)
	for i, c := range b {
		if c == 0 {
			return string(b[:i]), nil
		}
		if i >= max {
			return "", errors.New("string too long")
		}
	}
	return "", errFault
}

func nrOf(t testing.TB, name string) uintptr {
	t.Helper()
	nr, ok := Number(name)
	if !ok {
		t.Fatalf("unknown syscall %q", name)
	}
	return nr
}

func errRet(e unix.Errno) uintptr { return uintptr(-int64(e)) }

const atFDCWD = ^uintptr(99) // -100

// oLargefile is the kernel's O_LARGEFILE on x86-64; x/sys/unix defines
// O_LARGEFILE as 0 there (the libc view), so it is spelled out.
const oLargefile = 0x8000

func cstr(s string) []byte { return append([]byte(s), 0) }

func le64(vs ...uint64) []byte {
	b := make([]byte, 8*len(vs))
	for i, v := range vs {
		binary.LittleEndian.PutUint64(b[i*8:], v)
	}
	return b
}

type straceCase struct {
	name string
	nr   string
	args [6]uintptr
	ret  uintptr
	call string // FormatCall
	rets string // FormatReturn
	full string // FormatSyscall ("" = call+rets)
}

func runCases(t *testing.T, mem MemReader, cases []straceCase) {
	t.Helper()
	for _, tc := range cases {
		nr := nrOf(t, tc.nr)
		if got := FormatCall(nr, tc.args, mem); got != tc.call {
			t.Errorf("%s: FormatCall\n got %s\nwant %s", tc.name, got, tc.call)
		}
		if got := FormatReturn(nr, tc.args, tc.ret, mem); got != tc.rets {
			t.Errorf("%s: FormatReturn\n got %s\nwant %s", tc.name, got, tc.rets)
		}
		full := tc.full
		if full == "" {
			full = tc.call + tc.rets
		}
		if got := FormatSyscall(nr, tc.args, tc.ret, mem); got != full {
			t.Errorf("%s: FormatSyscall\n got %s\nwant %s", tc.name, got, full)
		}
	}
}

func TestFormatPathArgs(t *testing.T) {
	long := "/usr/lib/x86_64-linux-gnu/libc.so.6.with.a.long.suffix"
	mem := fakeMem{
		0x1000: cstr("/etc/passwd"),
		0x2000: cstr("tab\there \"q\" back\\slash\n\x01\x7f0"),
		0x3000: cstr(long),
		0x4000: cstr("a-memfd-name-that-is-longer-than-32-bytes"),
		0x5000: []byte("unterminated"), // runs into unmapped memory
	}
	runCases(t, mem, []straceCase{
		{
			name: "openat",
			nr:   "openat", args: [6]uintptr{atFDCWD, 0x1000, unix.O_RDONLY | unix.O_CLOEXEC}, ret: 3,
			call: `openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC)`, rets: " = 3",
		},
		{
			name: "escapes",
			nr:   "unlink", args: [6]uintptr{0x2000},
			call: `unlink("tab\there \"q\" back\\slash\n\1\1770")`, rets: " = 0",
		},
		{
			name: "paths are not truncated",
			nr:   "access", args: [6]uintptr{0x3000, unix.R_OK | unix.X_OK},
			call: `access("` + long + `", R_OK|X_OK)`, rets: " = 0",
		},
		{
			name: "other strings are truncated at 32",
			nr:   "memfd_create", args: [6]uintptr{0x4000, unix.MFD_CLOEXEC}, ret: 4,
			call: `memfd_create("a-memfd-name-that-is-longer-than"..., MFD_CLOEXEC)`, rets: " = 4",
		},
		{
			name: "unterminated string shows the readable prefix",
			nr:   "chdir", args: [6]uintptr{0x5000}, ret: errRet(unix.ENOENT),
			call: `chdir("unterminated"...)`, rets: " = -1 ENOENT (No such file or directory)",
		},
		{
			name: "dirfd",
			nr:   "newfstatat", args: [6]uintptr{7, 0x1000, 0, unix.AT_SYMLINK_NOFOLLOW}, ret: errRet(unix.EFAULT),
			call: `newfstatat(7, "/etc/passwd", NULL, AT_SYMLINK_NOFOLLOW)`, rets: " = -1 EFAULT (Bad address)",
		},
	})
	// argv and envp arrays
	mem[0x6000] = le64(0x1000, 0x2000, 0)
	mem[0x7000] = le64(0x1000, 0x1000, 0x1000, 0)
	runCases(t, mem, []straceCase{{
		name: "execve",
		nr:   "execve", args: [6]uintptr{0x1000, 0x6000, 0x7000},
		call: `execve("/etc/passwd", ["/etc/passwd", "tab\there \"q\" back\\slash\n\1\1770"], 0x7000 /* 3 vars */)`,
		rets: " = 0",
	}})
}

func TestFormatOpenFlags(t *testing.T) {
	for flags, want := range map[uint64]string{
		unix.O_RDONLY: "O_RDONLY",
		unix.O_WRONLY | unix.O_CREAT | unix.O_TRUNC:                         "O_WRONLY|O_CREAT|O_TRUNC",
		unix.O_RDWR | unix.O_APPEND | unix.O_NONBLOCK:                       "O_RDWR|O_APPEND|O_NONBLOCK",
		unix.O_RDONLY | unix.O_DIRECTORY | unix.O_CLOEXEC | unix.O_NOFOLLOW: "O_RDONLY|O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC",
		unix.O_WRONLY | unix.O_SYNC:                                         "O_WRONLY|O_SYNC",
		unix.O_WRONLY | unix.O_DSYNC:                                        "O_WRONLY|O_DSYNC",
		unix.O_RDWR | unix.O_TMPFILE:                                        "O_RDWR|O_TMPFILE",
		unix.O_PATH | unix.O_CLOEXEC:                                        "O_RDONLY|O_CLOEXEC|O_PATH",
		unix.O_RDWR | oLargefile:                                            "O_RDWR|O_LARGEFILE",
		3:                                                                   "0x3",
		unix.O_RDONLY | 0x80000000:                                          "O_RDONLY|0x80000000",
		0xffffffff00000000 | unix.O_CLOEXEC:                                 "O_RDONLY|O_CLOEXEC", // int argument: upper half ignored
	} {
		if got := stOpenFlagsString(flags); got != want {
			t.Errorf("open flags %#x = %q, want %q", flags, got, want)
		}
	}

	mem := fakeMem{0x1000: cstr("/tmp/x"), 0x2000: {3, 0, 0, 0, 4, 0, 0, 0}}
	runCases(t, mem, []straceCase{
		{
			name: "open with O_CREAT shows mode",
			nr:   "open", args: [6]uintptr{0x1000, unix.O_WRONLY | unix.O_CREAT | unix.O_EXCL, 0o640}, ret: 3,
			call: `open("/tmp/x", O_WRONLY|O_CREAT|O_EXCL, 0640)`, rets: " = 3",
		},
		{
			name: "open without O_CREAT hides mode",
			nr:   "open", args: [6]uintptr{0x1000, unix.O_RDONLY, 0o777}, ret: 3,
			call: `open("/tmp/x", O_RDONLY)`, rets: " = 3",
		},
		{
			name: "openat O_TMPFILE",
			nr:   "openat", args: [6]uintptr{atFDCWD, 0x1000, unix.O_RDWR | unix.O_TMPFILE, 0o600}, ret: 3,
			call: `openat(AT_FDCWD, "/tmp/x", O_RDWR|O_TMPFILE, 0600)`, rets: " = 3",
		},
		{
			name: "fcntl F_SETFL",
			nr:   "fcntl", args: [6]uintptr{3, unix.F_SETFL, unix.O_NONBLOCK},
			call: `fcntl(3, F_SETFL, O_RDONLY|O_NONBLOCK)`, rets: " = 0",
		},
		{
			name: "fcntl F_GETFL",
			nr:   "fcntl", args: [6]uintptr{3, unix.F_GETFL}, ret: unix.O_RDWR | oLargefile,
			call: `fcntl(3, F_GETFL)`, rets: " = 0x8002 (flags O_RDWR|O_LARGEFILE)",
		},
		{
			name: "fcntl F_GETFD",
			nr:   "fcntl", args: [6]uintptr{3, unix.F_GETFD}, ret: unix.FD_CLOEXEC,
			call: `fcntl(3, F_GETFD)`, rets: " = 0x1 (flags FD_CLOEXEC)",
		},
		{
			name: "fcntl F_DUPFD_CLOEXEC",
			nr:   "fcntl", args: [6]uintptr{3, unix.F_DUPFD_CLOEXEC, 10}, ret: 10,
			call: `fcntl(3, F_DUPFD_CLOEXEC, 10)`, rets: " = 10",
		},
		{
			name: "pipe2",
			nr:   "pipe2", args: [6]uintptr{0x2000, unix.O_CLOEXEC | unix.O_NONBLOCK},
			call: `pipe2(0x2000, O_NONBLOCK|O_CLOEXEC)`, rets: " = 0 (fds=[3, 4])",
			full: `pipe2([3, 4], O_NONBLOCK|O_CLOEXEC) = 0`,
		},
	})
}

func TestFormatMmap(t *testing.T) {
	negOne := ^uintptr(0)
	runCases(t, nil, []straceCase{
		{
			name: "anonymous",
			nr:   "mmap", args: [6]uintptr{0, 8192, unix.PROT_READ | unix.PROT_WRITE, unix.MAP_PRIVATE | unix.MAP_ANONYMOUS, negOne, 0},
			ret:  0x7f1234000000,
			call: `mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)`, rets: " = 0x7f1234000000",
		},
		{
			name: "file, fixed",
			nr:   "mmap", args: [6]uintptr{0x400000, 4096, unix.PROT_READ | unix.PROT_EXEC, unix.MAP_PRIVATE | unix.MAP_FIXED | unix.MAP_DENYWRITE, 3, 0x2000},
			ret:  0x400000,
			call: `mmap(0x400000, 4096, PROT_READ|PROT_EXEC, MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE, 3, 0x2000)`, rets: " = 0x400000",
		},
		{
			name: "huge pages, failing",
			nr:   "mmap", args: [6]uintptr{0, 1 << 21, unix.PROT_NONE, unix.MAP_SHARED | unix.MAP_ANONYMOUS | unix.MAP_HUGETLB | unix.MAP_HUGE_2MB, negOne, 0},
			ret:  errRet(unix.ENOMEM),
			call: `mmap(NULL, 2097152, PROT_NONE, MAP_SHARED|MAP_ANONYMOUS|MAP_HUGETLB|MAP_HUGE_2MB, -1, 0)`,
			rets: " = -1 ENOMEM (Cannot allocate memory)",
		},
		{
			name: "stack",
			nr:   "mmap", args: [6]uintptr{0, 1 << 20, unix.PROT_READ | unix.PROT_WRITE, unix.MAP_PRIVATE | unix.MAP_ANONYMOUS | unix.MAP_STACK | unix.MAP_NORESERVE | 0x80000000, negOne, 0},
			ret:  0x7f0000000000,
			call: `mmap(NULL, 1048576, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE|MAP_STACK|0x80000000, -1, 0)`,
			rets: " = 0x7f0000000000",
		},
		{
			name: "mprotect",
			nr:   "mprotect", args: [6]uintptr{0x7f0000001000, 4096, unix.PROT_READ},
			call: `mprotect(0x7f0000001000, 4096, PROT_READ)`, rets: " = 0",
		},
		{
			name: "munmap",
			nr:   "munmap", args: [6]uintptr{0x7f0000001000, 4096},
			call: `munmap(0x7f0000001000, 4096)`, rets: " = 0",
		},
		{
			name: "brk",
			nr:   "brk", args: [6]uintptr{0}, ret: 0x555555559000,
			call: `brk(NULL)`, rets: " = 0x555555559000",
		},
		{
			name: "mremap",
			nr:   "mremap", args: [6]uintptr{0x7f0000000000, 4096, 8192, unix.MREMAP_MAYMOVE | unix.MREMAP_FIXED, 0x7f1000000000},
			ret:  0x7f1000000000,
			call: `mremap(0x7f0000000000, 4096, 8192, MREMAP_MAYMOVE|MREMAP_FIXED, 0x7f1000000000)`, rets: " = 0x7f1000000000",
		},
		{
			name: "madvise",
			nr:   "madvise", args: [6]uintptr{0x7f0000000000, 4096, unix.MADV_DONTNEED},
			call: `madvise(0x7f0000000000, 4096, MADV_DONTNEED)`, rets: " = 0",
		},
	})
}

func TestFormatErrors(t *testing.T) {
	for ret, want := range map[uintptr]string{
		errRet(unix.ENOENT): " = -1 ENOENT (No such file or directory)",
		errRet(unix.EBADF):  " = -1 EBADF (Bad file descriptor)",
		errRet(unix.EAGAIN): " = -1 EAGAIN (Resource temporarily unavailable)",
		errRet(unix.ENOSYS): " = -1 ENOSYS (Function not implemented)",
		errRet(512):         " = ? ERESTARTSYS (To be restarted if SA_RESTART is set)",
		errRet(516):         " = ? ERESTART_RESTARTBLOCK (Interrupted by signal)",
		errRet(524):         " = -1 ENOTSUPP (Operation is not supported)",
		errRet(4000):        " = -1 ERRNO_4000 (Unknown error 4000)",
		errRet(4095):        " = -1 ERRNO_4095 (Unknown error 4095)",
		uintptr(1 << 63):    " = -9223372036854775808", // not in the errno range
		^uintptr(4095):      " = -4096",
		0:                   " = 0",
		12345:               " = 12345",
	} {
		if got := FormatReturn(nrOf(t, "close"), [6]uintptr{3}, ret, nil); got != want {
			t.Errorf("FormatReturn(close, %#x) = %q, want %q", ret, got, want)
		}
	}
	if got := FormatReturn(nrOf(t, "exit_group"), [6]uintptr{1}, 0, nil); got != " = ?" {
		t.Errorf("exit_group return = %q", got)
	}
	if got := FormatReturn(nrOf(t, "brk"), [6]uintptr{}, errRet(unix.ENOMEM), nil); got != " = -1 ENOMEM (Cannot allocate memory)" {
		t.Errorf("brk error = %q", got)
	}
}

func TestFormatOutputBuffers(t *testing.T) {
	data := []byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x03\x00>\x00\x01\x00\x00\x00 and then some more")
	mem := fakeMem{
		0x1000: data,
		0x2000: cstr("/proc/self/exe"),
		0x3000: []byte("/usr/bin/true"),
		0x4000: cstr("/home/user"),
	}
	runCases(t, mem, []straceCase{
		{
			name: "read, truncated at 32 bytes",
			nr:   "read", args: [6]uintptr{3, 0x1000, 832}, ret: uintptr(len(data)),
			call: `read(3, 0x1000, 832)`,
			rets: ` = 43 (buf="\177ELF\2\1\1\0\0\0\0\0\0\0\0\0\3\0>\0\1\0\0\0 and the"...)`,
			full: `read(3, "\177ELF\2\1\1\0\0\0\0\0\0\0\0\0\3\0>\0\1\0\0\0 and the"..., 832) = 43`,
		},
		{
			name: "read, short",
			nr:   "read", args: [6]uintptr{0, 0x1000, 4096}, ret: 4,
			call: `read(0, 0x1000, 4096)`, rets: ` = 4 (buf="\177ELF")`,
			full: `read(0, "\177ELF", 4096) = 4`,
		},
		{
			name: "read, EOF",
			nr:   "read", args: [6]uintptr{0, 0x1000, 4096}, ret: 0,
			call: `read(0, 0x1000, 4096)`, rets: ` = 0 (buf="")`,
			full: `read(0, "", 4096) = 0`,
		},
		{
			name: "read, error: buffer not shown",
			nr:   "read", args: [6]uintptr{0, 0x1000, 4096}, ret: errRet(unix.EINTR),
			call: `read(0, 0x1000, 4096)`, rets: ` = -1 EINTR (Interrupted system call)`,
		},
		{
			name: "pread64",
			nr:   "pread64", args: [6]uintptr{3, 0x1000, 4, 64}, ret: 4,
			call: `pread64(3, 0x1000, 4, 64)`, rets: ` = 4 (buf="\177ELF")`,
			full: `pread64(3, "\177ELF", 4, 64) = 4`,
		},
		{
			name: "write",
			nr:   "write", args: [6]uintptr{1, 0x3000, 13}, ret: 13,
			call: `write(1, "/usr/bin/true", 13)`, rets: ` = 13`,
		},
		{
			name: "readlink",
			nr:   "readlink", args: [6]uintptr{0x2000, 0x3000, 4096}, ret: 13,
			call: `readlink("/proc/self/exe", 0x3000, 4096)`, rets: ` = 13 (buf="/usr/bin/true")`,
			full: `readlink("/proc/self/exe", "/usr/bin/true", 4096) = 13`,
		},
		{
			name: "readlinkat",
			nr:   "readlinkat", args: [6]uintptr{atFDCWD, 0x2000, 0x3000, 4096}, ret: 13,
			call: `readlinkat(AT_FDCWD, "/proc/self/exe", 0x3000, 4096)`, rets: ` = 13 (buf="/usr/bin/true")`,
			full: `readlinkat(AT_FDCWD, "/proc/self/exe", "/usr/bin/true", 4096) = 13`,
		},
		{
			name: "getrandom",
			nr:   "getrandom", args: [6]uintptr{0x1000, 8, unix.GRND_NONBLOCK}, ret: 8,
			call: `getrandom(0x1000, 8, GRND_NONBLOCK)`, rets: ` = 8 (buf="\177ELF\2\1\1\0")`,
			full: `getrandom("\177ELF\2\1\1\0", 8, GRND_NONBLOCK) = 8`,
		},
		{
			name: "getcwd",
			nr:   "getcwd", args: [6]uintptr{0x4000, 4096}, ret: 11,
			call: `getcwd(0x4000, 4096)`, rets: ` = 11 (buf="/home/user")`,
			full: `getcwd("/home/user", 4096) = 11`,
		},
		{
			name: "ret larger than the buffer is clamped",
			nr:   "read", args: [6]uintptr{3, 0x1000, 2}, ret: 100,
			call: `read(3, 0x1000, 2)`, rets: ` = 100 (buf="\177E")`,
			full: `read(3, "\177E", 2) = 100`,
		},
	})
}

func TestFormatBadPointers(t *testing.T) {
	const bad = 0xdead0000
	mem := fakeMem{0x1000: []byte("abc")} // too short for any struct
	runCases(t, mem, []straceCase{
		{
			name: "path",
			nr:   "openat", args: [6]uintptr{atFDCWD, bad, unix.O_RDONLY}, ret: errRet(unix.EFAULT),
			call: `openat(AT_FDCWD, 0xdead0000, O_RDONLY)`, rets: " = -1 EFAULT (Bad address)",
		},
		{
			name: "write buffer",
			nr:   "write", args: [6]uintptr{1, bad, 10}, ret: errRet(unix.EFAULT),
			call: `write(1, 0xdead0000, 10)`, rets: " = -1 EFAULT (Bad address)",
		},
		{
			name: "partially readable buffer",
			nr:   "write", args: [6]uintptr{1, 0x1000, 10}, ret: errRet(unix.EFAULT),
			call: `write(1, 0x1000, 10)`, rets: " = -1 EFAULT (Bad address)",
		},
		{
			name: "read output",
			nr:   "read", args: [6]uintptr{0, bad, 10}, ret: 10,
			call: `read(0, 0xdead0000, 10)`, rets: " = 10",
			full: `read(0, 0xdead0000, 10) = 10`,
		},
		{
			name: "stat output",
			nr:   "fstat", args: [6]uintptr{3, 0x1000}, ret: 0,
			call: `fstat(3, 0x1000)`, rets: " = 0",
		},
		{
			name: "NULL path",
			nr:   "chdir", args: [6]uintptr{0}, ret: errRet(unix.EFAULT),
			call: `chdir(NULL)`, rets: " = -1 EFAULT (Bad address)",
		},
		{
			name: "sigaction",
			nr:   "rt_sigaction", args: [6]uintptr{uintptr(unix.SIGINT), bad, bad, 8},
			call: `rt_sigaction(SIGINT, 0xdead0000, 0xdead0000, 8)`, rets: " = 0",
		},
		{
			name: "execve argv",
			nr:   "execve", args: [6]uintptr{bad, bad, bad}, ret: errRet(unix.EFAULT),
			call: `execve(0xdead0000, 0xdead0000, 0xdead0000)`, rets: " = -1 EFAULT (Bad address)",
		},
		{
			name: "writev",
			nr:   "writev", args: [6]uintptr{1, bad, 2}, ret: errRet(unix.EFAULT),
			call: `writev(1, 0xdead0000, 2)`, rets: " = -1 EFAULT (Bad address)",
		},
	})
	// No reader at all.
	if got := FormatCall(nrOf(t, "openat"), [6]uintptr{atFDCWD, 0x1000, 0}, nil); got != `openat(AT_FDCWD, 0x1000, O_RDONLY)` {
		t.Errorf("nil reader: %s", got)
	}
}

type panicMem struct{}

func (panicMem) CopyIn(uintptr, []byte) (int, error)       { panic("boom") }
func (panicMem) CopyInString(uintptr, int) (string, error) { panic("boom") }

// lyingMem reports more bytes than it was asked for.
type lyingMem struct{}

func (lyingMem) CopyIn(_ uintptr, dst []byte) (int, error) { return len(dst) + 100, nil }
func (lyingMem) CopyInString(_ uintptr, max int) (string, error) {
	return strings.Repeat("x", max+50), nil
}

func TestFormatHostileReaders(t *testing.T) {
	args := [6]uintptr{atFDCWD, 0x1000, unix.O_RDONLY}
	nr := nrOf(t, "openat")
	if got := FormatCall(nr, args, panicMem{}); got != `openat(AT_FDCWD, 0x1000, O_RDONLY)` {
		t.Errorf("panicking reader: %s", got)
	}
	if got := FormatCall(nr, args, lyingMem{}); !strings.HasPrefix(got, `openat(AT_FDCWD, "xxxx`) {
		t.Errorf("lying reader: %s", got)
	}
	if got := FormatCall(nrOf(t, "memfd_create"), [6]uintptr{0x1000}, lyingMem{}); got != `memfd_create("`+strings.Repeat("x", 32)+`"..., 0)` {
		t.Errorf("lying reader: %s", got)
	}
}

func TestFormatSignalsAndProcesses(t *testing.T) {
	act := make([]byte, 32)
	binary.LittleEndian.PutUint64(act[0:], 0x401000)
	binary.LittleEndian.PutUint64(act[8:], 0x04000000|0x10000000|0x4) // SA_RESTORER|SA_RESTART|SA_SIGINFO
	binary.LittleEndian.PutUint64(act[16:], 0x401500)
	binary.LittleEndian.PutUint64(act[24:], 1<<(unix.SIGINT-1)|1<<(unix.SIGTERM-1))
	old := make([]byte, 32) // SIG_DFL, empty mask
	mem := fakeMem{
		0x1000: act,
		0x2000: old,
		0x3000: le64(1<<(unix.SIGCHLD-1) | 1<<33),
		0x4000: le64(^uint64(0) &^ (1<<(unix.SIGKILL-1) | 1<<(unix.SIGSTOP-1))),
		0x5000: {0x00, 0x03, 0, 0}, // exited with status 3
		0x5100: {0x89, 0, 0, 0},    // killed by SIGKILL, core dumped
		0x5200: {0x7f, 0x13, 0, 0}, // stopped by SIGSTOP
	}
	runCases(t, mem, []straceCase{
		{
			name: "kill",
			nr:   "kill", args: [6]uintptr{1234, uintptr(unix.SIGTERM)},
			call: `kill(1234, SIGTERM)`, rets: " = 0",
		},
		{
			name: "kill 0, pgrp",
			nr:   "kill", args: [6]uintptr{^uintptr(0), 0}, ret: errRet(unix.EPERM),
			call: `kill(-1, 0)`, rets: " = -1 EPERM (Operation not permitted)",
		},
		{
			name: "tgkill RT signal",
			nr:   "tgkill", args: [6]uintptr{10, 11, 34},
			call: `tgkill(10, 11, SIGRT_2)`, rets: " = 0",
		},
		{
			name: "rt_sigaction",
			nr:   "rt_sigaction", args: [6]uintptr{uintptr(unix.SIGINT), 0x1000, 0x2000, 8},
			call: `rt_sigaction(SIGINT, {sa_handler=0x401000, sa_mask=[INT TERM], sa_flags=SA_SIGINFO|SA_RESTORER|SA_RESTART, sa_restorer=0x401500}, 0x2000, 8)`,
			rets: ` = 0 (oldact={sa_handler=SIG_DFL, sa_mask=[], sa_flags=0})`,
			full: `rt_sigaction(SIGINT, {sa_handler=0x401000, sa_mask=[INT TERM], sa_flags=SA_SIGINFO|SA_RESTORER|SA_RESTART, sa_restorer=0x401500}, {sa_handler=SIG_DFL, sa_mask=[], sa_flags=0}, 8) = 0`,
		},
		{
			name: "rt_sigprocmask",
			nr:   "rt_sigprocmask", args: [6]uintptr{unix.SIG_BLOCK, 0x3000, 0x4000, 8},
			call: `rt_sigprocmask(SIG_BLOCK, [CHLD RT_2], 0x4000, 8)`,
			rets: ` = 0 (oldset=~[KILL STOP])`,
			full: `rt_sigprocmask(SIG_BLOCK, [CHLD RT_2], ~[KILL STOP], 8) = 0`,
		},
		{
			name: "wait4 exited",
			nr:   "wait4", args: [6]uintptr{^uintptr(0), 0x5000, unix.WNOHANG | unix.WALL, 0}, ret: 42,
			call: `wait4(-1, 0x5000, WNOHANG|__WALL, NULL)`,
			rets: ` = 42 (wstatus=[{WIFEXITED(s) && WEXITSTATUS(s) == 3}])`,
			full: `wait4(-1, [{WIFEXITED(s) && WEXITSTATUS(s) == 3}], WNOHANG|__WALL, NULL) = 42`,
		},
		{
			name: "wait4 signaled",
			nr:   "wait4", args: [6]uintptr{42, 0x5100, 0, 0}, ret: 42,
			call: `wait4(42, 0x5100, 0, NULL)`,
			rets: ` = 42 (wstatus=[{WIFSIGNALED(s) && WTERMSIG(s) == SIGKILL && WCOREDUMP(s)}])`,
			full: `wait4(42, [{WIFSIGNALED(s) && WTERMSIG(s) == SIGKILL && WCOREDUMP(s)}], 0, NULL) = 42`,
		},
		{
			name: "wait4 stopped",
			nr:   "wait4", args: [6]uintptr{42, 0x5200, unix.WUNTRACED, 0}, ret: 42,
			call: `wait4(42, 0x5200, WSTOPPED, NULL)`,
			rets: ` = 42 (wstatus=[{WIFSTOPPED(s) && WSTOPSIG(s) == SIGSTOP}])`,
			full: `wait4(42, [{WIFSTOPPED(s) && WSTOPSIG(s) == SIGSTOP}], WSTOPPED, NULL) = 42`,
		},
		{
			name: "clone (fork-like)",
			nr:   "clone", args: [6]uintptr{unix.CLONE_CHILD_CLEARTID | unix.CLONE_CHILD_SETTID | uintptr(unix.SIGCHLD), 0, 0, 0x7f00aa, 0}, ret: 1235,
			call: `clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f00aa)`,
			rets: " = 1235",
		},
		{
			name: "clone (thread)",
			nr:   "clone", args: [6]uintptr{0x3d0f00, 0x7f0010000, 0x7f00bb, 0x7f00bb, 0x7f00cc}, ret: 1236,
			call: `clone(child_stack=0x7f0010000, flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, parent_tid=0x7f00bb, tls=0x7f00cc, child_tidptr=0x7f00bb)`,
			rets: " = 1236",
		},
		{
			name: "exit",
			nr:   "exit", args: [6]uintptr{0xffffffff},
			call: `exit(-1)`, rets: " = ?",
		},
		{
			name: "getpid",
			nr:   "getpid", ret: 1,
			call: `getpid()`, rets: " = 1",
		},
		{
			name: "set_tid_address",
			nr:   "set_tid_address", args: [6]uintptr{0x7f00aa}, ret: 1,
			call: `set_tid_address(0x7f00aa)`, rets: " = 1",
		},
		{
			name: "set_robust_list",
			nr:   "set_robust_list", args: [6]uintptr{0x7f00a0, 24},
			call: `set_robust_list(0x7f00a0, 24)`, rets: " = 0",
		},
		{
			name: "rseq",
			nr:   "rseq", args: [6]uintptr{0x7f0100, 0x20, 0, 0x53053053},
			call: `rseq(0x7f0100, 32, 0, 0x53053053)`, rets: " = 0",
		},
	})
}

func TestFormatClone3(t *testing.T) {
	ca := le64(unix.CLONE_VM|unix.CLONE_VFORK, 0, 0, 0, uint64(unix.SIGCHLD), 0x7f0000, 0x10000, 0)
	runCases(t, fakeMem{0x1000: ca}, []straceCase{{
		name: "clone3",
		nr:   "clone3", args: [6]uintptr{0x1000, 64}, ret: 77,
		call: `clone3({flags=CLONE_VM|CLONE_VFORK, exit_signal=SIGCHLD, stack=0x7f0000, stack_size=0x10000}, 64)`,
		rets: " = 77",
	}})
}

func TestFormatTimeAndFutex(t *testing.T) {
	mem := fakeMem{
		0x1000: le64(1, 500000000),
		0x2000: le64(0, 0),
	}
	runCases(t, mem, []straceCase{
		{
			name: "nanosleep",
			nr:   "nanosleep", args: [6]uintptr{0x1000, 0},
			call: `nanosleep({tv_sec=1, tv_nsec=500000000}, NULL)`, rets: " = 0",
		},
		{
			name: "clock_gettime",
			nr:   "clock_gettime", args: [6]uintptr{unix.CLOCK_MONOTONIC, 0x1000},
			call: `clock_gettime(CLOCK_MONOTONIC, 0x1000)`, rets: ` = 0 (tp={tv_sec=1, tv_nsec=500000000})`,
			full: `clock_gettime(CLOCK_MONOTONIC, {tv_sec=1, tv_nsec=500000000}) = 0`,
		},
		{
			name: "clock_nanosleep",
			nr:   "clock_nanosleep", args: [6]uintptr{unix.CLOCK_REALTIME, unix.TIMER_ABSTIME, 0x1000, 0x2000},
			call: `clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, {tv_sec=1, tv_nsec=500000000}, 0x2000)`, rets: " = 0",
		},
		{
			name: "clock id of a process CPU clock",
			nr:   "clock_gettime", args: [6]uintptr{uintptr(0xfffffffe), 0}, ret: errRet(unix.EINVAL),
			call: `clock_gettime(-2, NULL)`, rets: " = -1 EINVAL (Invalid argument)",
		},
		{
			name: "futex wait",
			nr:   "futex", args: [6]uintptr{0x7f0040, 0x80, 2, 0, 0xbad, 0xbad}, ret: errRet(unix.EAGAIN),
			call: `futex(0x7f0040, FUTEX_WAIT_PRIVATE, 2, NULL)`, rets: " = -1 EAGAIN (Resource temporarily unavailable)",
		},
		{
			name: "futex wake",
			nr:   "futex", args: [6]uintptr{0x7f0040, 0x81, 1}, ret: 1,
			call: `futex(0x7f0040, FUTEX_WAKE_PRIVATE, 1)`, rets: " = 1",
		},
		{
			name: "futex wait bitset",
			nr:   "futex", args: [6]uintptr{0x7f0040, 0x189, 0, 0x1000, 0, 0xffffffff}, ret: errRet(unix.ETIMEDOUT),
			call: `futex(0x7f0040, FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME, 0, {tv_sec=1, tv_nsec=500000000}, NULL, FUTEX_BITSET_MATCH_ANY)`,
			rets: " = -1 ETIMEDOUT (Connection timed out)",
		},
		{
			name: "futex_waitv",
			nr:   "futex_waitv", args: [6]uintptr{0x7f0080, 2, 0, 0x1000, unix.CLOCK_MONOTONIC}, ret: 1,
			call: `futex_waitv(0x7f0080, 2, 0, {tv_sec=1, tv_nsec=500000000}, CLOCK_MONOTONIC)`, rets: " = 1",
		},
		{
			name: "futex unknown op",
			nr:   "futex", args: [6]uintptr{0x7f0040, 0x7f, 1, 2, 3, 4}, ret: errRet(unix.ENOSYS),
			call: `futex(0x7f0040, 0x7f, 0x1, 0x2, 0x3, 0x4)`, rets: " = -1 ENOSYS (Function not implemented)",
		},
		{
			name: "arch_prctl set",
			nr:   "arch_prctl", args: [6]uintptr{0x1002, 0x7f00deadbeef},
			call: `arch_prctl(ARCH_SET_FS, 0x7f00deadbeef)`, rets: " = 0",
		},
		{
			name: "arch_prctl get",
			nr:   "arch_prctl", args: [6]uintptr{0x1003, 0x2000},
			call: `arch_prctl(ARCH_GET_FS, 0x2000)`, rets: " = 0 (addr=[0])", full: `arch_prctl(ARCH_GET_FS, [0]) = 0`,
		},
		{
			name: "arch_prctl unknown",
			nr:   "arch_prctl", args: [6]uintptr{0x9999, 1}, ret: errRet(unix.EINVAL),
			call: `arch_prctl(0x9999, 0x1)`, rets: " = -1 EINVAL (Invalid argument)",
		},
	})
}

func TestFormatFilesAndMisc(t *testing.T) {
	st := make([]byte, 144)
	binary.LittleEndian.PutUint32(st[24:], unix.S_IFREG|0o644)
	binary.LittleEndian.PutUint64(st[48:], 1234)
	dev := make([]byte, 144)
	binary.LittleEndian.PutUint32(dev[24:], unix.S_IFCHR|0o620)
	binary.LittleEndian.PutUint64(dev[40:], unix.Mkdev(136, 3))
	stx := make([]byte, 256)
	binary.LittleEndian.PutUint32(stx[0:], unix.STATX_BASIC_STATS|unix.STATX_MNT_ID)
	binary.LittleEndian.PutUint16(stx[28:], unix.S_IFDIR|unix.S_ISVTX|0o777)
	binary.LittleEndian.PutUint64(stx[40:], 4096)
	uts := make([]byte, 6*65)
	copy(uts, "Linux")
	copy(uts[65:], "ringbox")
	// two dirents of 24 bytes
	dents := make([]byte, 48)
	binary.LittleEndian.PutUint16(dents[16:], 24)
	binary.LittleEndian.PutUint16(dents[24+16:], 24)
	iov := le64(0x6000, 5, 0x6100, 100)
	poll := []byte{3, 0, 0, 0, 1, 0, 1, 0, 4, 0, 0, 0, 4, 0, 0, 0}
	rl := le64(8192*1024, ^uint64(0))
	mem := fakeMem{
		0x1000: cstr("/etc"),
		0x2000: st,
		0x2100: dev,
		0x3000: stx,
		0x4000: uts,
		0x5000: dents,
		0x5800: iov,
		0x6000: []byte("hello"),
		0x6100: []byte(" world, this is the second iovec entry"),
		0x7000: poll,
		0x8000: rl,
	}
	runCases(t, mem, []straceCase{
		{
			name: "fstat",
			nr:   "fstat", args: [6]uintptr{3, 0x2000},
			call: `fstat(3, 0x2000)`, rets: ` = 0 (statbuf={st_mode=S_IFREG|0644, st_size=1234, ...})`,
			full: `fstat(3, {st_mode=S_IFREG|0644, st_size=1234, ...}) = 0`,
		},
		{
			name: "stat of a tty",
			nr:   "stat", args: [6]uintptr{0x1000, 0x2100},
			call: `stat("/etc", 0x2100)`, rets: ` = 0 (statbuf={st_mode=S_IFCHR|0620, st_rdev=makedev(0x88, 0x3), ...})`,
			full: `stat("/etc", {st_mode=S_IFCHR|0620, st_rdev=makedev(0x88, 0x3), ...}) = 0`,
		},
		{
			name: "statx",
			nr:   "statx", args: [6]uintptr{atFDCWD, 0x1000, unix.AT_SYMLINK_NOFOLLOW, unix.STATX_BASIC_STATS, 0x3000},
			call: `statx(AT_FDCWD, "/etc", AT_STATX_SYNC_AS_STAT|AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, 0x3000)`,
			rets: ` = 0 (statxbuf={stx_mask=STATX_BASIC_STATS|STATX_MNT_ID, stx_attributes=0, stx_mode=S_IFDIR|S_ISVTX|0777, stx_size=4096, ...})`,
			full: `statx(AT_FDCWD, "/etc", AT_STATX_SYNC_AS_STAT|AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, {stx_mask=STATX_BASIC_STATS|STATX_MNT_ID, stx_attributes=0, stx_mode=S_IFDIR|S_ISVTX|0777, stx_size=4096, ...}) = 0`,
		},
		{
			name: "uname",
			nr:   "uname", args: [6]uintptr{0x4000},
			call: `uname(0x4000)`, rets: ` = 0 (buf={sysname="Linux", nodename="ringbox", ...})`,
			full: `uname({sysname="Linux", nodename="ringbox", ...}) = 0`,
		},
		{
			name: "getdents64",
			nr:   "getdents64", args: [6]uintptr{3, 0x5000, 32768}, ret: 48,
			call: `getdents64(3, 0x5000, 32768)`, rets: ` = 48 (dirp=0x5000 /* 2 entries */)`,
			full: `getdents64(3, 0x5000 /* 2 entries */, 32768) = 48`,
		},
		{
			name: "writev",
			nr:   "writev", args: [6]uintptr{1, 0x5800, 2}, ret: 105,
			call: `writev(1, [{iov_base="hello", iov_len=5}, {iov_base=" world, this is the second iovec"..., iov_len=100}], 2)`,
			rets: ` = 105`,
		},
		{
			name: "readv",
			nr:   "readv", args: [6]uintptr{0, 0x5800, 2}, ret: 7,
			call: `readv(0, 0x5800, 2)`,
			rets: ` = 7 (iov=[{iov_base="hello", iov_len=5}, {iov_base=" w", iov_len=100}])`,
			full: `readv(0, [{iov_base="hello", iov_len=5}, {iov_base=" w", iov_len=100}], 2) = 7`,
		},
		{
			name: "poll",
			nr:   "poll", args: [6]uintptr{0x7000, 2, 1000}, ret: 1,
			call: `poll([{fd=3, events=POLLIN}, {fd=4, events=POLLOUT}], 2, 1000)`,
			rets: ` = 1 ([{fd=3, revents=POLLIN}])`,
		},
		{
			name: "prlimit64",
			nr:   "prlimit64", args: [6]uintptr{0, unix.RLIMIT_STACK, 0, 0x8000},
			call: `prlimit64(0, RLIMIT_STACK, NULL, 0x8000)`,
			rets: ` = 0 (old_limit={rlim_cur=8192*1024, rlim_max=RLIM64_INFINITY})`,
			full: `prlimit64(0, RLIMIT_STACK, NULL, {rlim_cur=8192*1024, rlim_max=RLIM64_INFINITY}) = 0`,
		},
		{
			name: "lseek",
			nr:   "lseek", args: [6]uintptr{3, ^uintptr(9), unix.SEEK_END}, ret: 90,
			call: `lseek(3, -10, SEEK_END)`, rets: ` = 90`,
		},
		{
			name: "ioctl",
			nr:   "ioctl", args: [6]uintptr{1, unix.TCGETS, 0x7ffd0000}, ret: errRet(unix.ENOTTY),
			call: `ioctl(1, TCGETS, 0x7ffd0000)`, rets: ` = -1 ENOTTY (Inappropriate ioctl for device)`,
		},
		{
			name: "mkdir",
			nr:   "mkdir", args: [6]uintptr{0x1000, 0o755}, ret: errRet(unix.EEXIST),
			call: `mkdir("/etc", 0755)`, rets: ` = -1 EEXIST (File exists)`,
		},
		{
			name: "unlinkat",
			nr:   "unlinkat", args: [6]uintptr{5, 0x1000, unix.AT_REMOVEDIR},
			call: `unlinkat(5, "/etc", AT_REMOVEDIR)`, rets: ` = 0`,
		},
		{
			name: "dup2",
			nr:   "dup2", args: [6]uintptr{3, 1}, ret: 1,
			call: `dup2(3, 1)`, rets: ` = 1`,
		},
		{
			name: "socket",
			nr:   "socket", args: [6]uintptr{unix.AF_INET, unix.SOCK_STREAM | unix.SOCK_CLOEXEC, 0}, ret: 3,
			call: `socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, 0)`, rets: ` = 3`,
		},
		{
			name: "prctl",
			nr:   "prctl", args: [6]uintptr{unix.PR_SET_NAME, 0x1000},
			call: `prctl(PR_SET_NAME, "/etc")`, rets: ` = 0`,
		},
		{
			name: "unknown number",
			nr:   "syscall_1000", args: [6]uintptr{1, 0, 3, 4, 5, 6}, ret: errRet(unix.ENOSYS),
			call: `syscall_1000(0x1, 0, 0x3, 0x4, 0x5, 0x6)`, rets: ` = -1 ENOSYS (Function not implemented)`,
		},
		{
			name: "no spec: arg count from the table",
			nr:   "io_uring_enter", args: [6]uintptr{3, 1, 0, 0, 0, 8}, ret: 1,
			call: `io_uring_enter(0x3, 0x1, 0, 0, 0, 0x8)`, rets: ` = 1`,
		},
		{
			name: "no spec: 2 args",
			nr:   "pidfd_open", args: [6]uintptr{42, 0, 7, 7, 7, 7}, ret: 5,
			call: `pidfd_open(42, 0)`, rets: ` = 5`,
		},
		{
			name: "no spec: removexattrat",
			nr:   "removexattrat", args: [6]uintptr{1, 2, 3, 4, 5, 6}, ret: errRet(unix.ENOSYS),
			call: `removexattrat(0x1, 0x2, 0x3, 0x4)`, rets: ` = -1 ENOSYS (Function not implemented)`,
		},
	})
}

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{
		"":             `""`,
		"plain":        `"plain"`,
		"\x00":         `"\0"`,
		"\x001":        `"\0001"`,
		"\x008":        `"\08"`,
		"\xff\xfe":     `"\377\376"`,
		"a\"b\\c":      `"a\"b\\c"`,
		"\t\n\v\f\r":   `"\t\n\v\f\r"`,
		"\x1b[0m":      `"\33[0m"`,
		"caf\xc3\xa9!": `"caf\303\251!"`,
	} {
		if got := stQuote([]byte(in), false); got != want {
			t.Errorf("stQuote(%q) = %s, want %s", in, got, want)
		}
	}
	if got := stQuote([]byte("ab"), true); got != `"ab"...` {
		t.Errorf("truncated quote = %s", got)
	}
}

func TestSigset(t *testing.T) {
	for mask, want := range map[uint64]string{
		0:                  "[]",
		^uint64(0):         "~[]",
		1 << 1:             "[INT]",
		1<<0 | 1<<14:       "[HUP TERM]",
		1 << 31:            "[RTMIN]",
		^uint64(1 << 8):    "~[KILL]",
		1<<63 | 1<<32:      "[RT_1 RT_32]",
		0xffffffff:         "[HUP INT QUIT ILL TRAP ABRT BUS FPE KILL USR1 SEGV USR2 PIPE ALRM TERM STKFLT CHLD CONT STOP TSTP TTIN TTOU URG XCPU XFSZ VTALRM PROF WINCH IO PWR SYS RTMIN]",
		0xffffffff | 1<<32: "~[RT_2 RT_3 RT_4 RT_5 RT_6 RT_7 RT_8 RT_9 RT_10 RT_11 RT_12 RT_13 RT_14 RT_15 RT_16 RT_17 RT_18 RT_19 RT_20 RT_21 RT_22 RT_23 RT_24 RT_25 RT_26 RT_27 RT_28 RT_29 RT_30 RT_31 RT_32]",
	} {
		if got := stSigsetString(mask); got != want {
			t.Errorf("sigset %#x = %s, want %s", mask, got, want)
		}
	}
}

// TestTablesMatchUnix cross-checks hand-written constants against
// golang.org/x/sys/unix where it defines them.
func TestTablesMatchUnix(t *testing.T) {
	flagVal := func(f *stFlags, name string) (uint64, bool) {
		for _, fl := range f.flags {
			if fl.name == name {
				return fl.v, true
			}
		}
		return 0, false
	}
	enumVal := func(e stEnum, name string) (uint64, bool) {
		for v, n := range e {
			if n == name {
				return v, true
			}
		}
		return 0, false
	}
	checkF := func(f *stFlags, want map[string]uint64) {
		t.Helper()
		for name, w := range want {
			if v, ok := flagVal(f, name); !ok || v != w {
				t.Errorf("%s = %#x (found %v), want %#x", name, v, ok, w)
			}
		}
	}
	checkE := func(e stEnum, want map[string]uint64) {
		t.Helper()
		for name, w := range want {
			if v, ok := enumVal(e, name); !ok || v != w {
				t.Errorf("%s = %#x (found %v), want %#x", name, v, ok, w)
			}
		}
	}
	checkF(stOpenFlagSet, map[string]uint64{
		"O_CREAT": unix.O_CREAT, "O_EXCL": unix.O_EXCL, "O_NOCTTY": unix.O_NOCTTY,
		"O_TRUNC": unix.O_TRUNC, "O_APPEND": unix.O_APPEND, "O_NONBLOCK": unix.O_NONBLOCK,
		"O_DSYNC": unix.O_DSYNC, "O_ASYNC": unix.O_ASYNC, "O_DIRECT": unix.O_DIRECT,
		"O_LARGEFILE": oLargefile, "O_DIRECTORY": unix.O_DIRECTORY,
		"O_NOFOLLOW": unix.O_NOFOLLOW, "O_NOATIME": unix.O_NOATIME,
		"O_CLOEXEC": unix.O_CLOEXEC, "O_PATH": unix.O_PATH, "O_SYNC": unix.O_SYNC,
		"O_TMPFILE": unix.O_TMPFILE,
	})
	checkF(stProtSet, map[string]uint64{
		"PROT_READ": unix.PROT_READ, "PROT_WRITE": unix.PROT_WRITE, "PROT_EXEC": unix.PROT_EXEC,
		"PROT_GROWSDOWN": unix.PROT_GROWSDOWN, "PROT_GROWSUP": unix.PROT_GROWSUP,
	})
	checkF(stMapFlagSet, map[string]uint64{
		"MAP_FIXED": unix.MAP_FIXED, "MAP_ANONYMOUS": unix.MAP_ANONYMOUS, "MAP_32BIT": unix.MAP_32BIT,
		"MAP_GROWSDOWN": unix.MAP_GROWSDOWN, "MAP_DENYWRITE": unix.MAP_DENYWRITE,
		"MAP_EXECUTABLE": unix.MAP_EXECUTABLE, "MAP_LOCKED": unix.MAP_LOCKED,
		"MAP_NORESERVE": unix.MAP_NORESERVE, "MAP_POPULATE": unix.MAP_POPULATE,
		"MAP_NONBLOCK": unix.MAP_NONBLOCK, "MAP_STACK": unix.MAP_STACK,
		"MAP_HUGETLB": unix.MAP_HUGETLB, "MAP_SYNC": unix.MAP_SYNC,
		"MAP_FIXED_NOREPLACE": unix.MAP_FIXED_NOREPLACE,
	})
	checkF(stCloneFlagSet, map[string]uint64{
		"CLONE_VM": unix.CLONE_VM, "CLONE_FS": unix.CLONE_FS, "CLONE_FILES": unix.CLONE_FILES,
		"CLONE_SIGHAND": unix.CLONE_SIGHAND, "CLONE_PIDFD": unix.CLONE_PIDFD,
		"CLONE_PTRACE": unix.CLONE_PTRACE, "CLONE_VFORK": unix.CLONE_VFORK,
		"CLONE_PARENT": unix.CLONE_PARENT, "CLONE_THREAD": unix.CLONE_THREAD,
		"CLONE_NEWNS": unix.CLONE_NEWNS, "CLONE_SYSVSEM": unix.CLONE_SYSVSEM,
		"CLONE_SETTLS": unix.CLONE_SETTLS, "CLONE_PARENT_SETTID": unix.CLONE_PARENT_SETTID,
		"CLONE_CHILD_CLEARTID": unix.CLONE_CHILD_CLEARTID, "CLONE_DETACHED": unix.CLONE_DETACHED,
		"CLONE_UNTRACED": unix.CLONE_UNTRACED, "CLONE_CHILD_SETTID": unix.CLONE_CHILD_SETTID,
		"CLONE_NEWCGROUP": unix.CLONE_NEWCGROUP, "CLONE_NEWUTS": unix.CLONE_NEWUTS,
		"CLONE_NEWIPC": unix.CLONE_NEWIPC, "CLONE_NEWUSER": unix.CLONE_NEWUSER,
		"CLONE_NEWPID": unix.CLONE_NEWPID, "CLONE_NEWNET": unix.CLONE_NEWNET,
		"CLONE_IO": unix.CLONE_IO, "CLONE_CLEAR_SIGHAND": unix.CLONE_CLEAR_SIGHAND,
		"CLONE_INTO_CGROUP": unix.CLONE_INTO_CGROUP,
	})
	checkF(stAtFlagSet, map[string]uint64{
		"AT_SYMLINK_NOFOLLOW": unix.AT_SYMLINK_NOFOLLOW, "AT_REMOVEDIR": unix.AT_REMOVEDIR,
		"AT_SYMLINK_FOLLOW": unix.AT_SYMLINK_FOLLOW, "AT_NO_AUTOMOUNT": unix.AT_NO_AUTOMOUNT,
		"AT_EMPTY_PATH": unix.AT_EMPTY_PATH, "AT_STATX_FORCE_SYNC": unix.AT_STATX_FORCE_SYNC,
		"AT_STATX_DONT_SYNC": unix.AT_STATX_DONT_SYNC, "AT_RECURSIVE": unix.AT_RECURSIVE,
	})
	checkF(stAtEaccessSet, map[string]uint64{"AT_EACCESS": unix.AT_EACCESS})
	checkF(stStatxMaskSet, map[string]uint64{
		"STATX_ALL": unix.STATX_ALL, "STATX_BASIC_STATS": unix.STATX_BASIC_STATS,
		"STATX_TYPE": unix.STATX_TYPE, "STATX_MODE": unix.STATX_MODE, "STATX_NLINK": unix.STATX_NLINK,
		"STATX_UID": unix.STATX_UID, "STATX_GID": unix.STATX_GID, "STATX_ATIME": unix.STATX_ATIME,
		"STATX_MTIME": unix.STATX_MTIME, "STATX_CTIME": unix.STATX_CTIME, "STATX_INO": unix.STATX_INO,
		"STATX_SIZE": unix.STATX_SIZE, "STATX_BLOCKS": unix.STATX_BLOCKS, "STATX_BTIME": unix.STATX_BTIME,
		"STATX_MNT_ID": unix.STATX_MNT_ID, "STATX_DIOALIGN": unix.STATX_DIOALIGN,
		"STATX_MNT_ID_UNIQUE": unix.STATX_MNT_ID_UNIQUE, "STATX_SUBVOL": unix.STATX_SUBVOL,
		"STATX_WRITE_ATOMIC": unix.STATX_WRITE_ATOMIC, "STATX_DIO_READ_ALIGN": unix.STATX_DIO_READ_ALIGN,
	})
	checkF(stWaitSet, map[string]uint64{
		"WNOHANG": unix.WNOHANG, "WSTOPPED": unix.WSTOPPED, "WEXITED": unix.WEXITED,
		"WCONTINUED": unix.WCONTINUED, "WNOWAIT": unix.WNOWAIT, "__WNOTHREAD": unix.WNOTHREAD,
		"__WALL": unix.WALL, "__WCLONE": unix.WCLONE,
	})
	checkF(stPollSet, map[string]uint64{
		"POLLIN": unix.POLLIN, "POLLPRI": unix.POLLPRI, "POLLOUT": unix.POLLOUT,
		"POLLERR": unix.POLLERR, "POLLHUP": unix.POLLHUP, "POLLNVAL": unix.POLLNVAL,
		"POLLRDNORM": 0x40, "POLLRDBAND": 0x80,
		"POLLWRNORM": 0x100, "POLLWRBAND": 0x200, "POLLRDHUP": unix.POLLRDHUP,
	})
	checkF(stMemfdSet, map[string]uint64{
		"MFD_CLOEXEC": unix.MFD_CLOEXEC, "MFD_ALLOW_SEALING": unix.MFD_ALLOW_SEALING,
		"MFD_HUGETLB": unix.MFD_HUGETLB, "MFD_NOEXEC_SEAL": unix.MFD_NOEXEC_SEAL, "MFD_EXEC": unix.MFD_EXEC,
	})
	checkF(stGrndSet, map[string]uint64{
		"GRND_NONBLOCK": unix.GRND_NONBLOCK, "GRND_RANDOM": unix.GRND_RANDOM, "GRND_INSECURE": unix.GRND_INSECURE,
	})
	checkF(stMremapSet, map[string]uint64{
		"MREMAP_MAYMOVE": unix.MREMAP_MAYMOVE, "MREMAP_FIXED": unix.MREMAP_FIXED, "MREMAP_DONTUNMAP": unix.MREMAP_DONTUNMAP,
	})
	checkF(stMsyncSet, map[string]uint64{"MS_ASYNC": unix.MS_ASYNC, "MS_INVALIDATE": unix.MS_INVALIDATE, "MS_SYNC": unix.MS_SYNC})
	checkF(stFlockSet, map[string]uint64{"LOCK_SH": unix.LOCK_SH, "LOCK_EX": unix.LOCK_EX, "LOCK_NB": unix.LOCK_NB, "LOCK_UN": unix.LOCK_UN})
	checkF(stRenameSet, map[string]uint64{"RENAME_NOREPLACE": unix.RENAME_NOREPLACE, "RENAME_EXCHANGE": unix.RENAME_EXCHANGE, "RENAME_WHITEOUT": unix.RENAME_WHITEOUT})
	checkF(stCloseRangeSet, map[string]uint64{"CLOSE_RANGE_UNSHARE": unix.CLOSE_RANGE_UNSHARE, "CLOSE_RANGE_CLOEXEC": unix.CLOSE_RANGE_CLOEXEC})
	checkF(stSockFlagSet, map[string]uint64{"SOCK_NONBLOCK": unix.SOCK_NONBLOCK, "SOCK_CLOEXEC": unix.SOCK_CLOEXEC})
	checkF(stEfdFlagSet, map[string]uint64{"EFD_NONBLOCK": unix.EFD_NONBLOCK, "EFD_CLOEXEC": unix.EFD_CLOEXEC, "EFD_SEMAPHORE": unix.EFD_SEMAPHORE})
	checkF(stTfdFlagSet, map[string]uint64{"TFD_NONBLOCK": unix.TFD_NONBLOCK, "TFD_CLOEXEC": unix.TFD_CLOEXEC})
	checkF(stInFlagSet, map[string]uint64{"IN_NONBLOCK": unix.IN_NONBLOCK, "IN_CLOEXEC": unix.IN_CLOEXEC})
	checkF(stEpollFlagSet, map[string]uint64{"EPOLL_CLOEXEC": unix.EPOLL_CLOEXEC})
	checkF(stAccessSet, map[string]uint64{"R_OK": unix.R_OK, "W_OK": unix.W_OK, "X_OK": unix.X_OK})

	checkE(stFcntlCmds, map[string]uint64{
		"F_DUPFD": unix.F_DUPFD, "F_GETFD": unix.F_GETFD, "F_SETFD": unix.F_SETFD,
		"F_GETFL": unix.F_GETFL, "F_SETFL": unix.F_SETFL, "F_GETLK": unix.F_GETLK,
		"F_SETLK": unix.F_SETLK, "F_SETLKW": unix.F_SETLKW, "F_SETOWN": unix.F_SETOWN,
		"F_GETOWN": unix.F_GETOWN, "F_SETSIG": unix.F_SETSIG, "F_GETSIG": unix.F_GETSIG,
		"F_SETOWN_EX": unix.F_SETOWN_EX, "F_GETOWN_EX": unix.F_GETOWN_EX,
		"F_OFD_GETLK": unix.F_OFD_GETLK, "F_OFD_SETLK": unix.F_OFD_SETLK, "F_OFD_SETLKW": unix.F_OFD_SETLKW,
		"F_SETLEASE": unix.F_SETLEASE, "F_GETLEASE": unix.F_GETLEASE, "F_NOTIFY": unix.F_NOTIFY,
		"F_DUPFD_CLOEXEC": unix.F_DUPFD_CLOEXEC, "F_SETPIPE_SZ": unix.F_SETPIPE_SZ,
		"F_GETPIPE_SZ": unix.F_GETPIPE_SZ, "F_ADD_SEALS": unix.F_ADD_SEALS, "F_GET_SEALS": unix.F_GET_SEALS,
	})
	checkE(stMadvices, map[string]uint64{
		"MADV_NORMAL": unix.MADV_NORMAL, "MADV_RANDOM": unix.MADV_RANDOM,
		"MADV_SEQUENTIAL": unix.MADV_SEQUENTIAL, "MADV_WILLNEED": unix.MADV_WILLNEED,
		"MADV_DONTNEED": unix.MADV_DONTNEED, "MADV_FREE": unix.MADV_FREE, "MADV_REMOVE": unix.MADV_REMOVE,
		"MADV_DONTFORK": unix.MADV_DONTFORK, "MADV_DOFORK": unix.MADV_DOFORK,
		"MADV_MERGEABLE": unix.MADV_MERGEABLE, "MADV_UNMERGEABLE": unix.MADV_UNMERGEABLE,
		"MADV_HUGEPAGE": unix.MADV_HUGEPAGE, "MADV_NOHUGEPAGE": unix.MADV_NOHUGEPAGE,
		"MADV_DONTDUMP": unix.MADV_DONTDUMP, "MADV_DODUMP": unix.MADV_DODUMP,
		"MADV_WIPEONFORK": unix.MADV_WIPEONFORK, "MADV_KEEPONFORK": unix.MADV_KEEPONFORK,
		"MADV_COLD": unix.MADV_COLD, "MADV_PAGEOUT": unix.MADV_PAGEOUT,
		"MADV_POPULATE_READ": unix.MADV_POPULATE_READ, "MADV_POPULATE_WRITE": unix.MADV_POPULATE_WRITE,
		"MADV_DONTNEED_LOCKED": unix.MADV_DONTNEED_LOCKED, "MADV_COLLAPSE": unix.MADV_COLLAPSE,
		"MADV_HWPOISON": unix.MADV_HWPOISON, "MADV_GUARD_INSTALL": unix.MADV_GUARD_INSTALL,
		"MADV_GUARD_REMOVE": unix.MADV_GUARD_REMOVE,
	})
	checkE(stIoctls, map[string]uint64{
		"TCGETS": unix.TCGETS, "TCSETS": unix.TCSETS, "TCSETSW": unix.TCSETSW, "TCSETSF": unix.TCSETSF,
		"TCFLSH": unix.TCFLSH, "TCXONC": unix.TCXONC, "TIOCSCTTY": unix.TIOCSCTTY,
		"TIOCGPGRP": unix.TIOCGPGRP, "TIOCSPGRP": unix.TIOCSPGRP, "TIOCOUTQ": unix.TIOCOUTQ,
		"TIOCGWINSZ": unix.TIOCGWINSZ, "TIOCSWINSZ": unix.TIOCSWINSZ, "FIONREAD": unix.TIOCINQ,
		"TIOCNOTTY": unix.TIOCNOTTY, "TIOCGPTN": unix.TIOCGPTN, "TIOCSPTLCK": unix.TIOCSPTLCK,
	})
	checkE(stRlimits, map[string]uint64{
		"RLIMIT_CPU": unix.RLIMIT_CPU, "RLIMIT_FSIZE": unix.RLIMIT_FSIZE, "RLIMIT_DATA": unix.RLIMIT_DATA,
		"RLIMIT_STACK": unix.RLIMIT_STACK, "RLIMIT_CORE": unix.RLIMIT_CORE, "RLIMIT_RSS": unix.RLIMIT_RSS,
		"RLIMIT_NPROC": unix.RLIMIT_NPROC, "RLIMIT_NOFILE": unix.RLIMIT_NOFILE,
		"RLIMIT_MEMLOCK": unix.RLIMIT_MEMLOCK, "RLIMIT_AS": unix.RLIMIT_AS, "RLIMIT_LOCKS": unix.RLIMIT_LOCKS,
		"RLIMIT_SIGPENDING": unix.RLIMIT_SIGPENDING, "RLIMIT_MSGQUEUE": unix.RLIMIT_MSGQUEUE,
		"RLIMIT_NICE": unix.RLIMIT_NICE, "RLIMIT_RTPRIO": unix.RLIMIT_RTPRIO, "RLIMIT_RTTIME": unix.RLIMIT_RTTIME,
	})
	checkE(stWhences, map[string]uint64{
		"SEEK_SET": unix.SEEK_SET, "SEEK_CUR": unix.SEEK_CUR, "SEEK_END": unix.SEEK_END,
		"SEEK_DATA": unix.SEEK_DATA, "SEEK_HOLE": unix.SEEK_HOLE,
	})
	checkE(stSigHows, map[string]uint64{"SIG_BLOCK": unix.SIG_BLOCK, "SIG_UNBLOCK": unix.SIG_UNBLOCK, "SIG_SETMASK": unix.SIG_SETMASK})
	checkE(stSockDomains, map[string]uint64{
		"AF_UNSPEC": unix.AF_UNSPEC, "AF_UNIX": unix.AF_UNIX, "AF_INET": unix.AF_INET, "AF_INET6": unix.AF_INET6,
		"AF_NETLINK": unix.AF_NETLINK, "AF_PACKET": unix.AF_PACKET, "AF_VSOCK": unix.AF_VSOCK,
	})
	checkE(stEpollOps, map[string]uint64{"EPOLL_CTL_ADD": unix.EPOLL_CTL_ADD, "EPOLL_CTL_DEL": unix.EPOLL_CTL_DEL, "EPOLL_CTL_MOD": unix.EPOLL_CTL_MOD})
	checkE(stShutHows, map[string]uint64{"SHUT_RD": unix.SHUT_RD, "SHUT_WR": unix.SHUT_WR, "SHUT_RDWR": unix.SHUT_RDWR})
	checkE(stFadvices, map[string]uint64{
		"POSIX_FADV_NORMAL": unix.FADV_NORMAL, "POSIX_FADV_RANDOM": unix.FADV_RANDOM,
		"POSIX_FADV_SEQUENTIAL": unix.FADV_SEQUENTIAL, "POSIX_FADV_WILLNEED": unix.FADV_WILLNEED,
		"POSIX_FADV_DONTNEED": unix.FADV_DONTNEED, "POSIX_FADV_NOREUSE": unix.FADV_NOREUSE,
	})
	checkE(stPrctlOps, map[string]uint64{
		"PR_SET_PDEATHSIG": unix.PR_SET_PDEATHSIG, "PR_GET_PDEATHSIG": unix.PR_GET_PDEATHSIG,
		"PR_GET_DUMPABLE": unix.PR_GET_DUMPABLE, "PR_SET_DUMPABLE": unix.PR_SET_DUMPABLE,
		"PR_GET_KEEPCAPS": unix.PR_GET_KEEPCAPS, "PR_SET_KEEPCAPS": unix.PR_SET_KEEPCAPS,
		"PR_SET_NAME": unix.PR_SET_NAME, "PR_GET_NAME": unix.PR_GET_NAME,
		"PR_GET_SECCOMP": unix.PR_GET_SECCOMP, "PR_SET_SECCOMP": unix.PR_SET_SECCOMP,
		"PR_CAPBSET_READ": unix.PR_CAPBSET_READ, "PR_CAPBSET_DROP": unix.PR_CAPBSET_DROP,
		"PR_GET_TSC": unix.PR_GET_TSC, "PR_SET_TSC": unix.PR_SET_TSC,
		"PR_SET_TIMERSLACK": unix.PR_SET_TIMERSLACK, "PR_GET_TIMERSLACK": unix.PR_GET_TIMERSLACK,
		"PR_SET_MM": unix.PR_SET_MM, "PR_SET_CHILD_SUBREAPER": unix.PR_SET_CHILD_SUBREAPER,
		"PR_GET_CHILD_SUBREAPER": unix.PR_GET_CHILD_SUBREAPER, "PR_SET_NO_NEW_PRIVS": unix.PR_SET_NO_NEW_PRIVS,
		"PR_GET_NO_NEW_PRIVS": unix.PR_GET_NO_NEW_PRIVS, "PR_GET_TID_ADDRESS": unix.PR_GET_TID_ADDRESS,
		"PR_SET_THP_DISABLE": unix.PR_SET_THP_DISABLE, "PR_GET_THP_DISABLE": unix.PR_GET_THP_DISABLE,
		"PR_CAP_AMBIENT": unix.PR_CAP_AMBIENT, "PR_GET_SPECULATION_CTRL": unix.PR_GET_SPECULATION_CTRL,
		"PR_SET_SPECULATION_CTRL": unix.PR_SET_SPECULATION_CTRL, "PR_SET_VMA": unix.PR_SET_VMA,
		"PR_SET_PTRACER": unix.PR_SET_PTRACER,
	})

	for i, name := range stClockNames {
		want := map[string]int{
			"CLOCK_REALTIME": unix.CLOCK_REALTIME, "CLOCK_MONOTONIC": unix.CLOCK_MONOTONIC,
			"CLOCK_PROCESS_CPUTIME_ID": unix.CLOCK_PROCESS_CPUTIME_ID,
			"CLOCK_THREAD_CPUTIME_ID":  unix.CLOCK_THREAD_CPUTIME_ID,
			"CLOCK_MONOTONIC_RAW":      unix.CLOCK_MONOTONIC_RAW,
			"CLOCK_REALTIME_COARSE":    unix.CLOCK_REALTIME_COARSE,
			"CLOCK_MONOTONIC_COARSE":   unix.CLOCK_MONOTONIC_COARSE,
			"CLOCK_BOOTTIME":           unix.CLOCK_BOOTTIME,
			"CLOCK_REALTIME_ALARM":     unix.CLOCK_REALTIME_ALARM,
			"CLOCK_BOOTTIME_ALARM":     unix.CLOCK_BOOTTIME_ALARM,
			"CLOCK_SGI_CYCLE":          10,
			"CLOCK_TAI":                unix.CLOCK_TAI,
		}[name]
		if i != want {
			t.Errorf("%s = %d, want %d", name, i, want)
		}
	}
	for sig := 1; sig <= 31; sig++ {
		want := unix.SignalName(unix.Signal(sig))
		if sig == 29 { // x/sys names it SIGIO; SIGPOLL is an alias
			want = "SIGIO"
		}
		if got := stSignalName(uint64(sig)); got != want {
			t.Errorf("signal %d = %s, want %s", sig, got, want)
		}
	}
	for e := 1; e < 134; e++ {
		name, _ := stErrno(uint64(e))
		if want := unix.ErrnoName(unix.Errno(e)); want != "" && name != want {
			t.Errorf("errno %d = %s, want %s", e, name, want)
		}
	}
}

// TestSpecTables checks that the per-syscall tables agree with each other.
func TestSpecTables(t *testing.T) {
	for name := range stSpecsByName {
		if _, ok := Number(name); !ok {
			t.Errorf("spec for unknown syscall %q", name)
		}
	}
	seen := map[string]int{}
	for n, group := range stArgCountGroups {
		for _, name := range strings.Fields(group) {
			if _, ok := syscallNumbers[name]; !ok {
				t.Errorf("arg count for unknown syscall %q", name)
			}
			if prev, dup := seen[name]; dup {
				t.Errorf("%q listed with %d and %d args", name, prev, n)
			}
			seen[name] = n
		}
	}
	for name, sp := range stSpecsByName {
		if sp.dyn != nil || sp.custom != nil {
			continue
		}
		if n, ok := seen[name]; ok && n != len(sp.args) {
			t.Errorf("%s: spec has %d args, count table says %d", name, len(sp.args), n)
		}
	}
	// Every allocated syscall should have a known argument count, except
	// the never-implemented ones.
	unimplemented := map[string]bool{
		"create_module": true, "get_kernel_syms": true, "query_module": true,
		"nfsservctl": true, "getpmsg": true, "putpmsg": true, "afs_syscall": true,
		"tuxcall": true, "security": true, "vserver": true, "epoll_ctl_old": true,
		"epoll_wait_old": true, "rseq_slice_yield": true,
	}
	for nr, name := range names {
		if name == "" || unimplemented[name] {
			continue
		}
		if stArgCount[nr] < 0 {
			t.Errorf("no argument count for %s (%d)", name, nr)
		}
	}
	// Every kind used in a static spec must render without falling through
	// to the default, and every output kind needs a label.
	for k := akOutBuf; k <= akOutULong; k++ {
		if _, ok := stOutLabel[k]; !ok {
			t.Errorf("output kind %d has no label", k)
		}
	}
}

// The syscalls the brief requires to be decoded (not just hex-dumped).
func TestRequiredSpecs(t *testing.T) {
	for _, name := range strings.Fields(`read write open close stat fstat lstat poll
		lseek mmap mprotect munmap brk rt_sigaction rt_sigprocmask ioctl pread64
		pwrite64 readv writev access pipe dup dup2 nanosleep getpid exit kill
		uname fcntl getcwd chdir mkdir rmdir unlink readlink getuid geteuid
		getgid getegid arch_prctl gettid futex set_tid_address clock_gettime
		clock_nanosleep exit_group openat newfstatat readlinkat prlimit64
		getrandom set_robust_list rseq statx execve clone wait4 getdents64
		mremap madvise`) {
		if _, ok := stSpecsByName[name]; !ok {
			t.Errorf("no decoding spec for %s", name)
		}
	}
}

// fuzzMem serves pseudo-random memory derived from the fuzz input: some
// addresses fault, some reads are short, strings may be unterminated.
type fuzzMem struct{ data []byte }

func (m fuzzMem) CopyIn(addr uintptr, dst []byte) (int, error) {
	if len(m.data) == 0 || addr%7 == 3 {
		return 0, errFault
	}
	off := int(addr % uintptr(len(m.data)))
	n := len(dst)
	if addr%11 == 5 {
		n /= 2 // short read
	}
	for i := 0; i < n; i++ {
		dst[i] = m.data[(off+i)%len(m.data)] ^ byte(addr>>8)
	}
	if n < len(dst) {
		return n, errFault
	}
	return n, nil
}

func (m fuzzMem) CopyInString(addr uintptr, max int) (string, error) {
	if len(m.data) == 0 || addr%5 == 1 {
		return "", errFault
	}
	off := int(addr % uintptr(len(m.data)))
	s := m.data[off:]
	if i := strings.IndexByte(string(s), 0); i >= 0 {
		s = s[:i]
	}
	if addr%13 == 0 {
		return string(s), nil // ignores max: a misbehaving reader
	}
	if len(s) > max {
		return "", errors.New("string too long")
	}
	return string(s), nil
}

func FuzzFormat(f *testing.F) {
	f.Add(uint64(0), uint64(3), uint64(0x1000), uint64(10), uint64(0), uint64(0), uint64(0), uint64(5), []byte("hello\x00world"))
	f.Add(uint64(257), uint64(0xffffff9c), uint64(0x2001), uint64(0x80241), uint64(0o644), uint64(0), uint64(0), uint64(3), []byte("/etc/passwd\x00"))
	f.Add(uint64(9), uint64(0), uint64(4096), uint64(3), uint64(0x22), ^uint64(0), uint64(0), uint64(0x7f0000000000), []byte{})
	f.Add(uint64(202), uint64(0x7000), uint64(0x189), uint64(1), uint64(0x7100), uint64(0), uint64(0xffffffff), ^uint64(10), []byte{1, 2, 3, 4, 5, 6, 7, 8})
	f.Add(uint64(59), uint64(0x1000), uint64(0x2000), uint64(0x3000), uint64(0), uint64(0), uint64(0), uint64(0), []byte("\x10\x00\x00\x00\x00\x00\x00\x00\x00"))
	f.Add(uint64(14), uint64(1), uint64(0x11), uint64(0x12), uint64(8), uint64(0), uint64(0), ^uint64(511), []byte("\xff\xff\xff\xff\xff\xff\xff\xff"))
	f.Add(uint64(19), uint64(3), uint64(0x40), uint64(1<<40), uint64(0), uint64(0), uint64(0), uint64(1<<62), []byte("\x00\x10\x00\x00\x00\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff"))
	f.Add(uint64(1<<40), uint64(1), uint64(2), uint64(3), uint64(4), uint64(5), uint64(6), uint64(7), []byte("x"))
	f.Fuzz(func(t *testing.T, nr, a0, a1, a2, a3, a4, a5, ret uint64, data []byte) {
		if nr < 1<<20 {
			nr %= 512 // concentrate on real syscalls
		}
		args := [6]uintptr{uintptr(a0), uintptr(a1), uintptr(a2), uintptr(a3), uintptr(a4), uintptr(a5)}
		mem := fuzzMem{data}
		for _, m := range []MemReader{mem, nil, panicMem{}, lyingMem{}} {
			call := FormatCall(uintptr(nr), args, m)
			if !strings.HasPrefix(call, Name(uintptr(nr))+"(") || !strings.HasSuffix(call, ")") {
				t.Fatalf("malformed call %q", call)
			}
			r := FormatReturn(uintptr(nr), args, uintptr(ret), m)
			if !strings.HasPrefix(r, " = ") {
				t.Fatalf("malformed return %q", r)
			}
			full := FormatSyscall(uintptr(nr), args, uintptr(ret), m)
			if !strings.HasPrefix(full, Name(uintptr(nr))+"(") {
				t.Fatalf("malformed line %q", full)
			}
			if len(call) > 1<<16 || len(r) > 1<<16 || len(full) > 1<<17 {
				t.Fatalf("output too long: %d/%d/%d", len(call), len(r), len(full))
			}
		}
	})
}
