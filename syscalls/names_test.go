package syscalls

import (
	"go/format"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestNameWellKnown(t *testing.T) {
	for nr, want := range map[uintptr]string{
		0:   "read",
		1:   "write",
		2:   "open",
		9:   "mmap",
		56:  "clone",
		59:  "execve",
		60:  "exit",
		156: "_sysctl",
		158: "arch_prctl",
		202: "futex",
		231: "exit_group",
		257: "openat",
		262: "newfstatat",
		302: "prlimit64",
		318: "getrandom",
		332: "statx",
		334: "rseq",
		424: "pidfd_send_signal",
		435: "clone3",
		439: "faccessat2",
		462: "mseal",
		463: "setxattrat",
		466: "removexattrat",
		467: "open_tree_attr",
		468: "file_getattr",
		469: "file_setattr",
	} {
		if got := Name(nr); got != want {
			t.Errorf("Name(%d) = %q, want %q", nr, got, want)
		}
		if got, ok := Number(want); !ok || got != nr {
			t.Errorf("Number(%q) = %d, %v; want %d", want, got, ok, nr)
		}
	}
}

// TestNamesMatchUnix checks the static table against the SYS_* constants of
// golang.org/x/sys/unix for a sample of numbers across the whole range.
func TestNamesMatchUnix(t *testing.T) {
	for nr, want := range map[uintptr]string{
		unix.SYS_READ:                    "read",
		unix.SYS_RT_SIGRETURN:            "rt_sigreturn",
		unix.SYS_PREAD64:                 "pread64",
		unix.SYS_GETDENTS64:              "getdents64",
		unix.SYS_SET_TID_ADDRESS:         "set_tid_address",
		unix.SYS_EPOLL_PWAIT:             "epoll_pwait",
		unix.SYS_PKEY_FREE:               "pkey_free",
		unix.SYS_IO_URING_SETUP:          "io_uring_setup",
		unix.SYS_LANDLOCK_RESTRICT_SELF:  "landlock_restrict_self",
		unix.SYS_SET_MEMPOLICY_HOME_NODE: "set_mempolicy_home_node",
		unix.SYS_LSM_LIST_MODULES:        "lsm_list_modules",
		unix.SYS_MSEAL:                   "mseal",
	} {
		if got := Name(nr); got != want {
			t.Errorf("Name(%d) = %q, want %q", nr, got, want)
		}
	}
}

func TestNamesComplete(t *testing.T) {
	if MaxSyscall < 462 {
		t.Fatalf("MaxSyscall = %d, want at least 462 (mseal)", MaxSyscall)
	}
	seen := map[string]uintptr{}
	for nr := uintptr(0); nr <= MaxSyscall; nr++ {
		name := names[nr]
		hole := nr >= 337 && nr <= 423 // never allocated on x86-64
		switch {
		case hole && name != "":
			t.Errorf("names[%d] = %q, want empty (unallocated)", nr, name)
		case !hole && name == "":
			t.Errorf("names[%d] is empty", nr)
		}
		if name == "" {
			continue
		}
		if prev, dup := seen[name]; dup {
			t.Errorf("name %q used by %d and %d", name, prev, nr)
		}
		seen[name] = nr
		if strings.ToLower(name) != name || strings.ContainsAny(name, " \t") {
			t.Errorf("names[%d] = %q is not canonical", nr, name)
		}
	}
}

func TestNameNumberRoundTrip(t *testing.T) {
	for nr := uintptr(0); nr <= MaxSyscall+100; nr++ {
		name := Name(nr)
		if name == "" {
			t.Fatalf("Name(%d) is empty", nr)
		}
		got, ok := Number(name)
		if !ok || got != nr {
			t.Errorf("Number(Name(%d)=%q) = %d, %v", nr, name, got, ok)
		}
	}
	for _, nr := range []uintptr{337, 423, 512, 1000, ^uintptr(0)} {
		if got, want := Name(nr), "syscall_"; !strings.HasPrefix(got, want) {
			t.Errorf("Name(%d) = %q, want syscall_<nr>", nr, got)
		}
	}
	if got := Name(600); got != "syscall_600" {
		t.Errorf("Name(600) = %q", got)
	}
	for _, bad := range []string{"", "nosuchcall", "syscall_", "syscall_x", "syscall_007", "syscall_0", "syscall_-1", "READ"} {
		if nr, ok := Number(bad); ok {
			t.Errorf("Number(%q) = %d, true; want false", bad, nr)
		}
	}
}

// TestNamesIsStaticLiteral guards the requirement that the table is a plain
// gofmt'ed literal with no go:generate step.
func TestNamesIsStaticLiteral(t *testing.T) {
	src, err := os.ReadFile("names.go")
	if err != nil {
		t.Skip(err)
	}
	if strings.Contains(string(src), "go:generate") {
		t.Error("names.go must not depend on go generate")
	}
	formatted, err := format.Source(src)
	if err != nil {
		t.Fatal(err)
	}
	if string(formatted) != string(src) {
		t.Error("names.go is not gofmt'ed")
	}
}
