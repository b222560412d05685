package confine

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The seccomp filter: once set up, the ringbox process may make only the
// host syscalls in hostSyscalls (table.go), with their argument checks.
// Anything else kills the process (SIGSYS): a ringbox bug, or a Go kernel
// made to do what it never does.

// check is one condition on a syscall argument's low 32 bits:
// (arg & mask) == value.
type check struct {
	arg         int
	mask, value uint32
}

// allow is one way a syscall is allowed: every check holds (none: always).
// A syscall may have several, tried in order.
type allow struct {
	checks []check
}

// hostSyscall is one row of the table: a host syscall ringbox makes after
// setup, why, and how it is allowed. errno, when set, makes the syscall
// fail with it instead (a call the Go runtime probes and falls back from).
type hostSyscall struct {
	nr    uintptr
	name  string
	why   string
	allow []allow
	errno unix.Errno
}

// always allows a syscall with any arguments.
var always = []allow{{}}

// argIs allows a syscall when argument arg equals one of values.
func argIs(arg int, values ...uint32) []allow {
	var a []allow
	for _, v := range values {
		a = append(a, allow{[]check{{arg, 0xffffffff, v}}})
	}
	return a
}

// BPF (classic) opcodes and the seccomp_data layout.
const (
	bpfLdWAbs = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
	bpfJeqK   = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
	bpfJgeK   = unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K
	bpfAndK   = unix.BPF_ALU | unix.BPF_AND | unix.BPF_K
	bpfRetK   = unix.BPF_RET | unix.BPF_K

	offNr   = 0
	offArch = 4
	offArgs = 16 // args[i] at 16+8i; the low half first (little endian)

	// x32 syscalls have this bit set: never ours.
	x32Bit = 0x40000000

	retAllow = unix.SECCOMP_RET_ALLOW
)

func stmt(code uint16, k uint32) unix.SockFilter { return unix.SockFilter{Code: code, K: k} }
func jump(code uint16, k uint32, jt, jf uint8) unix.SockFilter {
	return unix.SockFilter{Code: code, Jt: jt, Jf: jf, K: k}
}

// assemble builds the filter: the architecture, x32, then for each table
// row a test of the syscall number followed by its own short block (so no
// jump is longer than a block), then the default action.
func assemble(table []hostSyscall, deny uint32) ([]unix.SockFilter, error) {
	prog := []unix.SockFilter{
		stmt(bpfLdWAbs, offArch),
		jump(bpfJeqK, unix.AUDIT_ARCH_X86_64, 1, 0),
		stmt(bpfRetK, unix.SECCOMP_RET_KILL_PROCESS),
		stmt(bpfLdWAbs, offNr),
		jump(bpfJgeK, x32Bit, 0, 1),
		stmt(bpfRetK, deny),
	}
	for _, s := range table {
		var block []unix.SockFilter
		ok := uint32(retAllow)
		if s.errno != 0 {
			ok = unix.SECCOMP_RET_ERRNO | uint32(s.errno)
		}
		for _, a := range s.allow {
			if len(a.checks) == 0 {
				block = append(block, stmt(bpfRetK, ok))
				break
			}
			// Each check: load, mask, compare; a failed one skips to
			// the next alternative (the instructions left in this one).
			n := 3*len(a.checks) + 1
			for i, c := range a.checks {
				left := uint8(n - 3*i - 3) // instructions after this check's jump
				block = append(block,
					stmt(bpfLdWAbs, uint32(offArgs+8*c.arg)),
					stmt(bpfAndK, c.mask),
					jump(bpfJeqK, c.value, 0, left))
			}
			block = append(block, stmt(bpfRetK, ok))
		}
		if len(block) == 0 || block[len(block)-1].Code != bpfRetK || len(s.allow) > 0 && len(s.allow[len(s.allow)-1].checks) > 0 {
			// No alternative held: the default action.
			block = append(block, stmt(bpfRetK, deny))
		}
		if len(block) > 255 {
			return nil, fmt.Errorf("seccomp: the block of %s is too long", s.name)
		}
		// Reload the number: a block's checks replaced the accumulator.
		prog = append(prog, stmt(bpfLdWAbs, offNr), jump(bpfJeqK, uint32(s.nr), 0, uint8(len(block))))
		prog = append(prog, block...)
	}
	prog = append(prog, stmt(bpfRetK, deny))
	if len(prog) > unix.BPF_MAXINSNS {
		return nil, fmt.Errorf("seccomp: %d instructions, more than %d", len(prog), unix.BPF_MAXINSNS)
	}
	return prog, nil
}

// Net is how much of the host's network the sandbox process reaches.
type Net int

const (
	// NetNone: no host socket (--net=none, nothing published).
	NetNone Net = iota
	// NetAccept: published ports only; ringbox accepts on host listeners
	// made before the filter and makes no socket of its own.
	NetAccept
	// NetDial: --net=sandbox; ringbox's NAT also dials host connections.
	NetDial
	// NetServe: an OCI container's own network namespace; ringbox also
	// listens there on the ports the program listens on (its mirrors).
	NetServe
)

// filterRows are the filter's rows for net.
func filterRows(net Net) []hostSyscall {
	rows := hostSyscalls()
	if net >= NetAccept {
		rows = append(rows, acceptSyscalls()...)
	}
	if net >= NetDial {
		rows = append(rows, dialSyscalls()...)
	}
	if net >= NetServe {
		rows = append(rows, serveSyscalls()...)
	}
	return rows
}

// FilterInfo describes the installed filter for --debug.
type FilterInfo struct {
	Instructions int
	Syscalls     int
	Action       string
	Status       string // the Seccomp line of /proc/self/status after
}

// InstallFilter sets no_new_privs and installs the filter on every thread
// of the process (SECCOMP_FILTER_FLAG_TSYNC; threads started later inherit
// it). RINGBOX_SECCOMP=trap makes a violation a SIGSYS that Go's runtime
// reports with the calling stack, =log lets it through and has the kernel
// log it: both are debugging aids. net says which rows of a network to
// the host it adds.
func InstallFilter(net Net) (FilterInfo, error) {
	deny, action := uint32(unix.SECCOMP_RET_KILL_PROCESS), "kill"
	switch os.Getenv("RINGBOX_SECCOMP") {
	case "trap":
		deny, action = unix.SECCOMP_RET_TRAP, "trap"
	case "log":
		deny, action = unix.SECCOMP_RET_LOG, "log"
	}
	rows := filterRows(net)
	prog, err := assemble(rows, deny)
	if err != nil {
		return FilterInfo{}, err
	}
	info := FilterInfo{Instructions: len(prog), Syscalls: len(rows), Action: action}
	// TSYNC gives the other threads no_new_privs too.
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return info, fmt.Errorf("seccomp: no_new_privs: %w", err)
	}
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	r, _, e := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&fprog)))
	if e != 0 {
		return info, fmt.Errorf("seccomp: install the filter: %w", e)
	}
	if r != 0 {
		return info, fmt.Errorf("seccomp: thread %d could not take the filter", r)
	}
	info.Status = seccompStatus()
	return info, nil
}

// seccompStatus is the Seccomp line of /proc/self/status ("2": filter).
func seccompStatus() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown (" + errors.Unwrap(err).Error() + ")"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "Seccomp:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}
