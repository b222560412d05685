package confine

import (
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// runBPF runs a filter on one seccomp_data, as the kernel's classic BPF
// does for the instructions assemble emits.
func runBPF(t *testing.T, prog []unix.SockFilter, arch uint32, nr int32, args [6]uint64) uint32 {
	t.Helper()
	data := make([]byte, 64)
	binary.LittleEndian.PutUint32(data[0:], uint32(nr))
	binary.LittleEndian.PutUint32(data[4:], arch)
	for i, a := range args {
		binary.LittleEndian.PutUint64(data[16+8*i:], a)
	}
	var acc uint32
	for pc := 0; pc < len(prog); pc++ {
		in := prog[pc]
		switch in.Code {
		case bpfLdWAbs:
			acc = binary.LittleEndian.Uint32(data[in.K:])
		case bpfAndK:
			acc &= in.K
		case bpfJeqK:
			if acc == in.K {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		case bpfJgeK:
			if acc >= in.K {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		case bpfRetK:
			return in.K
		default:
			t.Fatalf("instruction %d: unknown code %#x", pc, in.Code)
		}
	}
	t.Fatalf("the filter fell off its end")
	return 0
}

func TestFilterDecisions(t *testing.T) {
	const kill = unix.SECCOMP_RET_KILL_PROCESS
	prog, err := assemble(hostSyscalls(), kill)
	require.NoError(t, err)
	pid := uint64(os.Getpid())
	for _, tc := range []struct {
		name string
		arch uint32
		nr   int32
		args [6]uint64
		want uint32
	}{
		{"KVM_RUN", unix.AUDIT_ARCH_X86_64, unix.SYS_IOCTL, [6]uint64{5, 0xae80}, unix.SECCOMP_RET_ALLOW},
		{"KVM_SET_USER_MEMORY_REGION", unix.AUDIT_ARCH_X86_64, unix.SYS_IOCTL, [6]uint64{5, 0x4020ae46}, unix.SECCOMP_RET_ALLOW},
		{"TCGETS", unix.AUDIT_ARCH_X86_64, unix.SYS_IOCTL, [6]uint64{0, unix.TCGETS}, unix.SECCOMP_RET_ALLOW},
		{"TIOCSTI", unix.AUDIT_ARCH_X86_64, unix.SYS_IOCTL, [6]uint64{0, unix.TIOCSTI}, kill},
		{"FIONREAD", unix.AUDIT_ARCH_X86_64, unix.SYS_IOCTL, [6]uint64{0, 0x541b}, kill},
		{"a thread", unix.AUDIT_ARCH_X86_64, unix.SYS_CLONE, [6]uint64{0x50f00}, unix.SECCOMP_RET_ALLOW},
		{"Go's thread", unix.AUDIT_ARCH_X86_64, unix.SYS_CLONE, [6]uint64{cloneThread | unix.CLONE_SYSVSEM | unix.CLONE_SETTLS}, unix.SECCOMP_RET_ALLOW},
		{"fork", unix.AUDIT_ARCH_X86_64, unix.SYS_CLONE, [6]uint64{uint64(unix.SIGCHLD)}, kill},
		{"a thread in a new user namespace", unix.AUDIT_ARCH_X86_64, unix.SYS_CLONE, [6]uint64{cloneThread | unix.CLONE_NEWUSER}, kill},
		{"vfork", unix.AUDIT_ARCH_X86_64, unix.SYS_CLONE, [6]uint64{unix.CLONE_VM | unix.CLONE_VFORK | uint64(unix.SIGCHLD)}, kill},
		{"clone3", unix.AUDIT_ARCH_X86_64, unix.SYS_CLONE3, [6]uint64{}, unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)},
		{"execve", unix.AUDIT_ARCH_X86_64, unix.SYS_EXECVE, [6]uint64{}, kill},
		{"execveat", unix.AUDIT_ARCH_X86_64, unix.SYS_EXECVEAT, [6]uint64{}, kill},
		{"ptrace", unix.AUDIT_ARCH_X86_64, unix.SYS_PTRACE, [6]uint64{}, kill},
		{"mount", unix.AUDIT_ARCH_X86_64, unix.SYS_MOUNT, [6]uint64{}, kill},
		{"socket", unix.AUDIT_ARCH_X86_64, unix.SYS_SOCKET, [6]uint64{unix.AF_PACKET}, kill},
		{"kill", unix.AUDIT_ARCH_X86_64, unix.SYS_KILL, [6]uint64{1, 9}, kill},
		{"bpf", unix.AUDIT_ARCH_X86_64, unix.SYS_BPF, [6]uint64{}, kill},
		{"mmap rw", unix.AUDIT_ARCH_X86_64, unix.SYS_MMAP, [6]uint64{0, 4096, unix.PROT_READ | unix.PROT_WRITE}, unix.SECCOMP_RET_ALLOW},
		{"mmap exec", unix.AUDIT_ARCH_X86_64, unix.SYS_MMAP, [6]uint64{0, 4096, unix.PROT_READ | unix.PROT_EXEC}, kill},
		{"mprotect exec", unix.AUDIT_ARCH_X86_64, unix.SYS_MPROTECT, [6]uint64{0, 4096, unix.PROT_EXEC}, kill},
		{"tgkill self", unix.AUDIT_ARCH_X86_64, unix.SYS_TGKILL, [6]uint64{pid, 7, 23}, unix.SECCOMP_RET_ALLOW},
		{"tgkill other", unix.AUDIT_ARCH_X86_64, unix.SYS_TGKILL, [6]uint64{pid + 1, 7, 23}, kill},
		{"prctl PR_SET_VMA", unix.AUDIT_ARCH_X86_64, unix.SYS_PRCTL, [6]uint64{prSetVMA}, unix.SECCOMP_RET_ALLOW},
		{"prctl PR_SET_DUMPABLE", unix.AUDIT_ARCH_X86_64, unix.SYS_PRCTL, [6]uint64{unix.PR_SET_DUMPABLE, 1}, kill},
		{"futex", unix.AUDIT_ARCH_X86_64, unix.SYS_FUTEX, [6]uint64{}, unix.SECCOMP_RET_ALLOW},
		{"uname", unix.AUDIT_ARCH_X86_64, unix.SYS_UNAME, [6]uint64{}, unix.SECCOMP_RET_ALLOW},
		{"x32 read", unix.AUDIT_ARCH_X86_64, 0x40000000, [6]uint64{}, kill},
		{"i386", unix.AUDIT_ARCH_I386, unix.SYS_READ, [6]uint64{}, unix.SECCOMP_RET_KILL_PROCESS},
	} {
		require.Equal(t, tc.want, runBPF(t, prog, tc.arch, tc.nr, tc.args), tc.name)
	}
	t.Logf("%d instructions for %d syscalls", len(prog), len(hostSyscalls()))

	// With the network rows (--net=sandbox): internet sockets only.
	netProg, err := assemble(filterRows(NetDial), kill)
	require.NoError(t, err)
	checkDecisions(t, netProg, "net", []decision{
		{"socket AF_INET", unix.SYS_SOCKET, [6]uint64{unix.AF_INET, unix.SOCK_STREAM}, unix.SECCOMP_RET_ALLOW},
		{"socket AF_INET6", unix.SYS_SOCKET, [6]uint64{unix.AF_INET6, unix.SOCK_DGRAM}, unix.SECCOMP_RET_ALLOW},
		{"socket AF_UNIX", unix.SYS_SOCKET, [6]uint64{unix.AF_UNIX, unix.SOCK_STREAM}, kill},
		{"socket AF_NETLINK", unix.SYS_SOCKET, [6]uint64{unix.AF_NETLINK, unix.SOCK_RAW}, kill},
		{"socket AF_PACKET", unix.SYS_SOCKET, [6]uint64{unix.AF_PACKET, unix.SOCK_RAW}, kill},
		{"connect", unix.SYS_CONNECT, [6]uint64{}, unix.SECCOMP_RET_ALLOW},
		{"bind", unix.SYS_BIND, [6]uint64{}, kill},
		{"listen", unix.SYS_LISTEN, [6]uint64{}, kill},
		{"execve", unix.SYS_EXECVE, [6]uint64{}, kill},
	})
	noNet := runBPF(t, prog, unix.AUDIT_ARCH_X86_64, unix.SYS_SOCKET, [6]uint64{unix.AF_INET, unix.SOCK_STREAM})
	require.Equal(t, uint32(kill), noNet, "without a network, no socket at all")

	// Published ports alone: accept and relay on listeners made before,
	// never a socket or a connection of its own.
	acceptProg, err := assemble(filterRows(NetAccept), kill)
	require.NoError(t, err)
	checkDecisions(t, acceptProg, "accept", []decision{
		{"accept4", unix.SYS_ACCEPT4, [6]uint64{}, unix.SECCOMP_RET_ALLOW},
		{"setsockopt", unix.SYS_SETSOCKOPT, [6]uint64{}, unix.SECCOMP_RET_ALLOW},
		{"recvfrom", unix.SYS_RECVFROM, [6]uint64{}, unix.SECCOMP_RET_ALLOW},
		{"sendto", unix.SYS_SENDTO, [6]uint64{}, unix.SECCOMP_RET_ALLOW},
		{"socket AF_INET", unix.SYS_SOCKET, [6]uint64{unix.AF_INET, unix.SOCK_STREAM}, kill},
		{"connect", unix.SYS_CONNECT, [6]uint64{}, kill},
		{"bind", unix.SYS_BIND, [6]uint64{}, kill},
	})
}

// decision is a syscall and what a filter must decide for it.
type decision struct {
	name string
	nr   int32
	args [6]uint64
	want uint32
}

// checkDecisions runs each x86-64 call of cases through prog.
func checkDecisions(t *testing.T, prog []unix.SockFilter, label string, cases []decision) {
	t.Helper()
	for _, tc := range cases {
		require.Equal(t, tc.want, runBPF(t, prog, unix.AUDIT_ARCH_X86_64, tc.nr, tc.args), label+": "+tc.name)
	}
}

// TestFilterKills installs the filter in a child copy of this test binary
// and has it call execve: the kernel must kill it with SIGSYS, after the
// allowed calls before went through.
func TestFilterKills(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "RINGBOX_FILTER_CHILD=1")
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	require.True(t, errors.As(err, &ee), "the child must die, got %v: %s", err, out)
	ws := ee.Sys().(syscall.WaitStatus)
	require.True(t, ws.Signaled(), "%v: %s", ws, out)
	require.Equal(t, syscall.SIGSYS, ws.Signal(), "%s", out)
	require.Contains(t, string(out), "filter installed: Seccomp 2")
}

// filterChild is the child of TestFilterKills (run from TestMain).
func filterChild() int {
	info, err := InstallFilter(NetNone)
	if err != nil {
		os.Stdout.WriteString("install: " + err.Error() + "\n")
		return 1
	}
	os.Stdout.WriteString("filter installed: Seccomp " + info.Status + "\n")
	unix.Getpid()
	unix.Exec("/bin/true", []string{"true"}, nil)
	os.Stdout.WriteString("execve came back\n")
	return 2
}
