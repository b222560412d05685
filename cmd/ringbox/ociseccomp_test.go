package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"ringbox/guestkernel/kernel"
	"ringbox/guestkernel/seccomp"
	"ringbox/syscalls"
)

// The tests run the compiled programs with Program.Run; the randomized ones
// compare them with ociSeccompModel, a direct reading of the profile with
// the semantics compileOCISeccomp documents.

const (
	retEPERM  = seccomp.RetErrno | uint32(unix.EPERM)
	retENOSYS = seccomp.RetErrno | uint32(unix.ENOSYS)
	x32Bit    = 0x40000000
)

// seccompNr returns the x86-64 number of a syscall name.
func seccompNr(t testing.TB, name string) int32 {
	t.Helper()
	nr, ok := syscalls.Number(name)
	if !ok || strings.HasPrefix(name, "syscall_") {
		t.Fatalf("no syscall %q", name)
	}
	return int32(nr)
}

// seccompData is an x86-64 seccomp_data for nr with args.
func seccompData(nr int32, args ...uint64) *seccomp.Data {
	d := &seccomp.Data{Nr: nr, Arch: seccomp.AuditArchX86_64}
	copy(d.Args[:], args)
	return d
}

// parseSeccompProfile decodes a linux.seccomp object.
func parseSeccompProfile(t testing.TB, js string) *ociSeccomp {
	t.Helper()
	var s ociSeccomp
	if err := json.Unmarshal([]byte(js), &s); err != nil {
		t.Fatalf("profile: %v\n%s", err, js)
	}
	return &s
}

// compileSeccompJSON compiles a linux.seccomp object that must compile.
func compileSeccompJSON(t testing.TB, js string) (*seccomp.Program, bool, []string) {
	t.Helper()
	s := parseSeccompProfile(t, js)
	p, log, ignored, err := compileOCISeccomp(s)
	if err != nil {
		t.Fatalf("compileOCISeccomp: %v\n%s", err, js)
	}
	if p == nil {
		t.Fatalf("compileOCISeccomp: no program\n%s", js)
	}
	// The program must be what seccomp(2) accepts.
	if _, err := seccomp.Check(p.Instructions()); err != nil {
		t.Fatalf("Check: %v", err)
	}
	return p, log, ignored
}

// seccompRetString names a filter result for failure messages.
func seccompRetString(r uint32) string {
	names := map[uint32]string{
		seccomp.RetKillProcess: "KILL_PROCESS", seccomp.RetKillThread: "KILL_THREAD",
		seccomp.RetTrap: "TRAP", seccomp.RetErrno: "ERRNO", seccomp.RetTrace: "TRACE",
		seccomp.RetLog: "LOG", seccomp.RetAllow: "ALLOW", seccomp.RetUserNotif: "NOTIFY",
	}
	n, ok := names[r&seccomp.RetActionFull]
	if !ok {
		return fmt.Sprintf("%#x", r)
	}
	if d := r & seccomp.RetData; d != 0 || r&seccomp.RetActionFull == seccomp.RetErrno {
		return fmt.Sprintf("%s(%d)", n, d)
	}
	return n
}

// expectRun checks the program's result for d.
func expectRun(t *testing.T, p *seccomp.Program, what string, d *seccomp.Data, want uint32) {
	t.Helper()
	if got := p.Run(d); got != want {
		t.Errorf("%s (nr %d, arch %#x, args %#x): got %s, want %s", what, d.Nr, d.Arch, d.Args,
			seccompRetString(got), seccompRetString(want))
	}
}

// longJumps counts the BPF_JA instructions of a program.
func longJumps(p *seccomp.Program) int {
	n := 0
	for _, in := range p.Instructions() {
		if in.Code == ociBPFJa {
			n++
		}
	}
	return n
}

// TestSeccompDockerDefault compiles Docker's default profile as dockerd
// hands it to a runtime. testdata/docker-default-seccomp.json is moby's
// profiles/seccomp/default.json (github.com/moby/profiles/seccomp v0.2.3, as
// vendored by moby/moby) resolved the way dockerd's setupSeccomp resolves
// it on an amd64 host with a kernel >= 4.8 and Docker's default
// capabilities (CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FSETID, CAP_FOWNER,
// CAP_MKNOD, CAP_NET_RAW, CAP_SETGID, CAP_SETUID, CAP_SETFCAP, CAP_SETPCAP,
// CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT, CAP_KILL, CAP_AUDIT_WRITE): archMap
// becomes architectures [X86_64, X86, X32], rules whose includes/excludes
// fail are dropped, and includes, excludes and comment are removed.
func TestSeccompDockerDefault(t *testing.T) {
	js, err := os.ReadFile("testdata/docker-default-seccomp.json")
	if err != nil {
		t.Fatal(err)
	}
	s := parseSeccompProfile(t, string(js))
	p, log, ignored := compileSeccompJSON(t, string(js))
	t.Logf("Docker's default profile: %d rules, %d instructions, %d names ignored",
		len(s.Syscalls), p.Len(), len(ignored))
	if p.Len() > 1000 {
		t.Errorf("Docker's profile compiles to %d instructions, want well under %d", p.Len(), seccomp.MaxInstructions)
	}
	if log {
		t.Error("log set without SECCOMP_FILTER_FLAG_LOG")
	}
	// i386-only names are skipped and reported.
	for _, name := range []string{"chown32", "_llseek", "socketcall"} {
		if !slices.ContainsFunc(ignored, func(s string) bool { return strings.Contains(s, `"`+name+`"`) }) {
			t.Errorf("%s not reported in %q", name, ignored)
		}
	}

	nr := func(name string) int32 { return seccompNr(t, name) }
	for _, name := range []string{"read", "write", "openat", "futex", "exit_group", "mmap",
		"arch_prctl", "ptrace", "chroot", "rt_sigreturn", "removexattrat"} {
		expectRun(t, p, name, seccompData(nr(name)), seccomp.RetAllow)
	}
	for _, name := range []string{"mount", "reboot", "kexec_load", "init_module", "unshare",
		"setns", "bpf", "umount2", "open_by_handle_at", "syslog"} {
		expectRun(t, p, name, seccompData(nr(name)), retEPERM)
	}
	// clone: allowed unless its flags ask for a namespace.
	expectRun(t, p, "clone(SIGCHLD)", seccompData(nr("clone"), uint64(unix.SIGCHLD)), seccomp.RetAllow)
	threadFlags := uint64(unix.CLONE_VM | unix.CLONE_FS | unix.CLONE_FILES | unix.CLONE_SIGHAND |
		unix.CLONE_THREAD | unix.CLONE_SYSVSEM | unix.CLONE_SETTLS | unix.CLONE_PARENT_SETTID | unix.CLONE_CHILD_CLEARTID)
	expectRun(t, p, "clone(thread)", seccompData(nr("clone"), threadFlags), seccomp.RetAllow)
	expectRun(t, p, "clone(CLONE_NEWUSER)", seccompData(nr("clone"), unix.CLONE_NEWUSER|uint64(unix.SIGCHLD)), retEPERM)
	expectRun(t, p, "clone(CLONE_NEWNS)", seccompData(nr("clone"), unix.CLONE_NEWNS), retEPERM)
	expectRun(t, p, "clone(high word)", seccompData(nr("clone"), 1<<40|uint64(unix.SIGCHLD)), seccomp.RetAllow)
	// personality: only the listed personas.
	expectRun(t, p, "personality(0)", seccompData(nr("personality"), 0), seccomp.RetAllow)
	expectRun(t, p, "personality(0xffffffff)", seccompData(nr("personality"), 0xffffffff), seccomp.RetAllow)
	expectRun(t, p, "personality(0x20000)", seccompData(nr("personality"), 0x20000), seccomp.RetAllow)
	expectRun(t, p, "personality(0x1234)", seccompData(nr("personality"), 0x1234), retEPERM)
	expectRun(t, p, "personality(0xffffffffffffffff)", seccompData(nr("personality"), ^uint64(0)), retEPERM)
	// socket: every family but 38 (AF_ALG) and 40 (AF_VSOCK).
	expectRun(t, p, "socket(AF_INET)", seccompData(nr("socket"), unix.AF_INET), seccomp.RetAllow)
	expectRun(t, p, "socket(AF_VSOCK)", seccompData(nr("socket"), unix.AF_VSOCK), retEPERM)
	expectRun(t, p, "socket(38)", seccompData(nr("socket"), 38), retEPERM)
	expectRun(t, p, "socket(39)", seccompData(nr("socket"), 39), seccomp.RetAllow)
	expectRun(t, p, "socket(41)", seccompData(nr("socket"), 41), seccomp.RetAllow)
	// clone3: ENOSYS, as the profile says, so that libc falls back to clone.
	expectRun(t, p, "clone3", seccompData(nr("clone3")), retENOSYS)
	// runc's rule: numbers past the newest one the profile names.
	expectRun(t, p, "open_tree_attr", seccompData(nr("open_tree_attr")), retENOSYS)
	expectRun(t, p, "rseq_slice_yield", seccompData(nr("rseq_slice_yield")), retENOSYS)
	expectRun(t, p, "nr 1000", seccompData(1000), retENOSYS)
	expectRun(t, p, "nr -1", seccompData(-1), retENOSYS)
	expectRun(t, p, "x32 read", seccompData(x32Bit|nr("read")), retENOSYS)
	// Holes below the highest named number get the default action.
	expectRun(t, p, "nr 400 (unallocated)", seccompData(400), retEPERM)
	// Other architectures: libseccomp's bad-arch action.
	for _, arch := range []uint32{0x40000003 /* i386 */, 0xc00000b7 /* aarch64 */, 0} {
		d := seccompData(nr("read"))
		d.Arch = arch
		expectRun(t, p, "read on another arch", d, seccomp.RetKillProcess)
	}

	// Every number and a sample of arguments agree with the model.
	compareWithModel(t, s, p, rand.New(rand.NewPCG(1, 2)), 4)
}

// TestSeccompActions checks every action, its errno data, and the default
// errno.
func TestSeccompActions(t *testing.T) {
	p, _, _ := compileSeccompJSON(t, `{
		"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 13,
		"syscalls": [
			{"names": ["read"], "action": "SCMP_ACT_ALLOW"},
			{"names": ["write"], "action": "SCMP_ACT_LOG"},
			{"names": ["open"], "action": "SCMP_ACT_ERRNO"},
			{"names": ["close"], "action": "SCMP_ACT_ERRNO", "errnoRet": 22},
			{"names": ["stat"], "action": "SCMP_ACT_TRAP"},
			{"names": ["fstat"], "action": "SCMP_ACT_TRACE"},
			{"names": ["lstat"], "action": "SCMP_ACT_TRACE", "errnoRet": 1234},
			{"names": ["poll"], "action": "SCMP_ACT_KILL"},
			{"names": ["lseek"], "action": "SCMP_ACT_KILL_THREAD"},
			{"names": ["mmap"], "action": "SCMP_ACT_KILL_PROCESS"},
			{"names": ["mprotect"], "action": "SCMP_ACT_ERRNO", "errnoRet": 0},
			{"names": ["rt_sigaction"], "action": "SCMP_ACT_ALLOW"}
		]}`)
	for _, c := range []struct {
		name string
		want uint32
	}{
		{"read", seccomp.RetAllow},
		{"write", seccomp.RetLog},
		{"open", retEPERM},
		{"close", seccomp.RetErrno | 22},
		{"stat", seccomp.RetTrap},
		{"fstat", seccomp.RetTrace | uint32(unix.EPERM)},
		{"lstat", seccomp.RetTrace | 1234},
		{"poll", seccomp.RetKillThread},
		{"lseek", seccomp.RetKillThread},
		{"mmap", seccomp.RetKillProcess},
		{"mprotect", seccomp.RetErrno},
		{"munmap", seccomp.RetErrno | 13}, // defaultErrnoRet
	} {
		expectRun(t, p, c.name, seccompData(seccompNr(t, c.name)), c.want)
	}
	expectRun(t, p, "brk", seccompData(seccompNr(t, "brk")), seccomp.RetErrno|13)
	expectRun(t, p, "above the profile", seccompData(seccompNr(t, "rt_sigprocmask")), retENOSYS)

	// Each default action.
	for _, c := range []struct {
		def    string
		want   uint32
		enosys bool
	}{
		{`"SCMP_ACT_ALLOW"`, seccomp.RetAllow, false},
		{`"SCMP_ACT_LOG"`, seccomp.RetLog, false},
		{`"SCMP_ACT_TRACE"`, seccomp.RetTrace | uint32(unix.EPERM), false},
		{`"SCMP_ACT_TRACE", "defaultErrnoRet": 7`, seccomp.RetTrace | 7, false},
		{`"SCMP_ACT_ERRNO"`, retEPERM, true},
		{`"SCMP_ACT_TRAP"`, seccomp.RetTrap, true},
		{`"SCMP_ACT_KILL"`, seccomp.RetKillThread, true},
		{`"SCMP_ACT_KILL_THREAD"`, seccomp.RetKillThread, true},
		{`"SCMP_ACT_KILL_PROCESS"`, seccomp.RetKillProcess, true},
	} {
		js := `{"defaultAction": ` + c.def + `, "syscalls": [
			{"names": ["write", "openat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 99},
			{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]}`
		p, _, _ := compileSeccompJSON(t, js)
		expectRun(t, p, c.def+" read", seccompData(0), seccomp.RetAllow)
		expectRun(t, p, c.def+" write", seccompData(1), seccomp.RetErrno|99)
		expectRun(t, p, c.def+" close", seccompData(3), c.want)
		above := c.want
		if c.enosys {
			above = retENOSYS
		}
		openat := seccompNr(t, "openat")
		expectRun(t, p, c.def+" openat+1", seccompData(openat+1), above)
		expectRun(t, p, c.def+" x32 read", seccompData(x32Bit), above)
		expectRun(t, p, c.def+" nr -1", seccompData(-1), above)
	}
}

// TestSeccompOperators checks each comparison on full 64-bit values,
// including values that differ only in the high word.
func TestSeccompOperators(t *testing.T) {
	const v = 0x00000005_00000010
	values := []uint64{
		0, 1, 0x0f, 0x10, 0x11, 0xffffffff,
		0x00000004_00000010, 0x00000004_ffffffff, 0x00000005_00000000,
		0x00000005_0000000f, v, 0x00000005_00000011, 0x00000006_00000000,
		0x00000006_00000010, 0x80000000_00000010, ^uint64(0),
	}
	ops := map[string]func(a uint64) bool{
		"SCMP_CMP_EQ": func(a uint64) bool { return a == v },
		"SCMP_CMP_NE": func(a uint64) bool { return a != v },
		"SCMP_CMP_LT": func(a uint64) bool { return a < v },
		"SCMP_CMP_LE": func(a uint64) bool { return a <= v },
		"SCMP_CMP_GT": func(a uint64) bool { return a > v },
		"SCMP_CMP_GE": func(a uint64) bool { return a >= v },
	}
	for op, holds := range ops {
		for idx := range 6 {
			js := fmt.Sprintf(`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
				{"names": ["ioctl"], "action": "SCMP_ACT_ERRNO", "errnoRet": 5,
				 "args": [{"index": %d, "value": %d, "op": %q}]}]}`, idx, uint64(v), op)
			p, _, _ := compileSeccompJSON(t, js)
			for _, a := range values {
				want := uint32(seccomp.RetAllow)
				if holds(a) {
					want = seccomp.RetErrno | 5
				}
				args := make([]uint64, 6)
				args[idx] = a
				// Other arguments must not matter.
				args[(idx+1)%6] = v
				expectRun(t, p, fmt.Sprintf("%s arg%d %#x", op, idx, a), seccompData(16, args...), want)
			}
		}
	}
	// MASKED_EQ, with masks in each word.
	for _, c := range []struct{ mask, want uint64 }{
		{0x0000000f_000000f0, 0x00000005_00000010},
		{0xffffffff_ffffffff, 0x00000005_00000010},
		{0x00000000_7e020000, 0},
		{0xffffffff_00000000, 0x00000005_00000000},
		{0x0f, 0x1f},         // valueTwo outside the mask: never equal
		{0x0f, 1<<32 | 0x0f}, // likewise, in the high word
		{0, 0},               // always equal
	} {
		js := fmt.Sprintf(`{"defaultAction": "SCMP_ACT_KILL_PROCESS", "syscalls": [
			{"names": ["ioctl"], "action": "SCMP_ACT_ALLOW",
			 "args": [{"index": 2, "value": %d, "valueTwo": %d, "op": "SCMP_CMP_MASKED_EQ"}]}]}`, c.mask, c.want)
		p, _, _ := compileSeccompJSON(t, js)
		for _, a := range values {
			want := uint32(seccomp.RetKillProcess)
			if a&c.mask == c.want {
				want = seccomp.RetAllow
			}
			expectRun(t, p, fmt.Sprintf("MASKED_EQ %#x/%#x %#x", c.mask, c.want, a), seccompData(16, 0, 0, a), want)
		}
	}
}

// TestSeccompArgsAnd checks that the conditions of a rule are ANDed and
// that rules with args fall back to the default action.
func TestSeccompArgsAnd(t *testing.T) {
	p, _, _ := compileSeccompJSON(t, `{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
		{"names": ["mmap"], "action": "SCMP_ACT_ALLOW", "args": [
			{"index": 2, "value": 4, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"},
			{"index": 3, "value": 2, "op": "SCMP_CMP_EQ"},
			{"index": 5, "value": 4096, "op": "SCMP_CMP_LT"}]},
		{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]}`)
	mmap := seccompNr(t, "mmap")
	expectRun(t, p, "all hold", seccompData(mmap, 0, 4096, 3, 2, 0, 0), seccomp.RetAllow)
	expectRun(t, p, "PROT_EXEC", seccompData(mmap, 0, 4096, 7, 2, 0, 0), retEPERM)
	expectRun(t, p, "flags", seccompData(mmap, 0, 4096, 3, 1, 0, 0), retEPERM)
	expectRun(t, p, "offset", seccompData(mmap, 0, 4096, 3, 2, 0, 4096), retEPERM)
	expectRun(t, p, "flags high word", seccompData(mmap, 0, 4096, 3, 1<<32|2, 0, 0), retEPERM)
	expectRun(t, p, "none hold", seccompData(mmap, 0, 0, 4, 0, 0, 1<<40), retEPERM)
}

// TestSeccompPrecedence checks how rules of different actions for one
// number are resolved (see the top of ociseccomp.go).
func TestSeccompPrecedence(t *testing.T) {
	p, _, _ := compileSeccompJSON(t, `{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
		{"names": ["socket"], "action": "SCMP_ACT_ERRNO", "errnoRet": 97, "args": [{"index": 0, "value": 16, "op": "SCMP_CMP_EQ"}]},
		{"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 10, "op": "SCMP_CMP_LE"}]},
		{"names": ["socket"], "action": "SCMP_ACT_TRAP", "args": [{"index": 1, "value": 3, "op": "SCMP_CMP_EQ"}]},

		{"names": ["ioctl"], "action": "SCMP_ACT_TRAP", "args": [{"index": 1, "value": 1, "op": "SCMP_CMP_EQ"}]},
		{"names": ["ioctl"], "action": "SCMP_ACT_ALLOW"},
		{"names": ["ioctl"], "action": "SCMP_ACT_LOG"},

		{"names": ["read"], "action": "SCMP_ACT_LOG"},
		{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}]},

		{"names": ["personality"], "action": "SCMP_ACT_ERRNO"},
		{"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}]},

		{"names": ["prctl"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 22, "op": "SCMP_CMP_EQ"}]},
		{"names": ["prctl"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 100, "op": "SCMP_CMP_LT"}]}
	]}`)
	nr := func(name string) int32 { return seccompNr(t, name) }
	// Rules with args only: the first that matches, in profile order.
	expectRun(t, p, "socket(16)", seccompData(nr("socket"), 16), seccomp.RetErrno|97)
	expectRun(t, p, "socket(2)", seccompData(nr("socket"), 2), seccomp.RetAllow)
	expectRun(t, p, "socket(2, 3)", seccompData(nr("socket"), 2, 3), seccomp.RetAllow)
	expectRun(t, p, "socket(16, 3)", seccompData(nr("socket"), 16, 3), seccomp.RetErrno|97)
	expectRun(t, p, "socket(40, 3)", seccompData(nr("socket"), 40, 3), seccomp.RetTrap)
	expectRun(t, p, "socket(40)", seccompData(nr("socket"), 40), retEPERM)
	// The first rule without args decides, as in libseccomp.
	expectRun(t, p, "ioctl(0, 1)", seccompData(nr("ioctl"), 0, 1), seccomp.RetAllow)
	expectRun(t, p, "read(0)", seccompData(nr("read"), 0), seccomp.RetLog)
	// A rule with the default action is dropped (runc), so it shadows
	// nothing.
	expectRun(t, p, "personality(0)", seccompData(nr("personality"), 0), seccomp.RetAllow)
	expectRun(t, p, "personality(8)", seccompData(nr("personality"), 8), retEPERM)
	expectRun(t, p, "prctl(22)", seccompData(nr("prctl"), 22), seccomp.RetAllow)
	expectRun(t, p, "prctl(200)", seccompData(nr("prctl"), 200), retEPERM)
}

// TestSeccompSameArgument checks runc's fallback for a rule that compares
// one argument twice: one rule per condition, so the conditions are ORed.
func TestSeccompSameArgument(t *testing.T) {
	p, _, _ := compileSeccompJSON(t, `{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
		{"names": ["kill"], "action": "SCMP_ACT_ALLOW", "args": [
			{"index": 1, "value": 9, "op": "SCMP_CMP_EQ"},
			{"index": 1, "value": 15, "op": "SCMP_CMP_EQ"}]}]}`)
	kill := seccompNr(t, "kill")
	expectRun(t, p, "kill(9)", seccompData(kill, 1, 9), seccomp.RetAllow)
	expectRun(t, p, "kill(15)", seccompData(kill, 1, 15), seccomp.RetAllow)
	expectRun(t, p, "kill(2)", seccompData(kill, 1, 2), retEPERM)
}

// TestSeccompIgnored checks what is reported and left alone.
func TestSeccompIgnored(t *testing.T) {
	p, log, ignored := compileSeccompJSON(t, `{"defaultAction": "SCMP_ACT_ERRNO",
		"architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64"],
		"flags": ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_LOG",
			"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"],
		"listenerMetadata": "x",
		"syscalls": [
			{"names": ["read", "no_such_syscall", "chown32", "no_such_syscall"], "action": "SCMP_ACT_ALLOW"},
			{"names": [], "action": "SCMP_ACT_ALLOW"},
			{"names": ["syscall_400", "write"], "action": "SCMP_ACT_ALLOW"}]}`)
	if !log {
		t.Error("SECCOMP_FILTER_FLAG_LOG did not set log")
	}
	want := []string{
		"flag SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: not applied",
		"listenerMetadata: no listenerPath",
		`syscall "no_such_syscall": not in the sandbox's x86-64 table`,
		`syscall "chown32": not in the sandbox's x86-64 table`,
		"syscalls[1]: no names",
		`syscall "syscall_400": not in the sandbox's x86-64 table`,
	}
	slices.Sort(want)
	got := slices.Sorted(slices.Values(ignored))
	if !slices.Equal(got, want) {
		t.Errorf("ignored:\n got %q\nwant %q", got, want)
	}
	expectRun(t, p, "read", seccompData(0), seccomp.RetAllow)
	expectRun(t, p, "write", seccompData(1), seccomp.RetAllow)
	expectRun(t, p, "nr 400", seccompData(400), retENOSYS)
	expectRun(t, p, "close", seccompData(3), retENOSYS)

	// Unknown names do not count for the ENOSYS rule; read alone (number
	// 0) gives runc no highest number, hence no ENOSYS rule.
	p, _, ignored = compileSeccompJSON(t, `{"defaultAction": "SCMP_ACT_KILL_PROCESS", "syscalls": [
		{"names": ["read", "not_a_call"], "action": "SCMP_ACT_ALLOW"}]}`)
	expectRun(t, p, "write", seccompData(1), seccomp.RetKillProcess)
	expectRun(t, p, "nr 1000", seccompData(1000), seccomp.RetKillProcess)
	if len(ignored) != 1 {
		t.Errorf("ignored %q", ignored)
	}

	// Rules with the default action are dropped but count for the ENOSYS
	// rule.
	p, _, _ = compileSeccompJSON(t, `{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
		{"names": ["read"], "action": "SCMP_ACT_ALLOW"},
		{"names": ["clone3"], "action": "SCMP_ACT_ERRNO"}]}`)
	expectRun(t, p, "clone3", seccompData(seccompNr(t, "clone3")), retEPERM)
	expectRun(t, p, "clone", seccompData(seccompNr(t, "clone")), retEPERM)
	expectRun(t, p, "clone3+1", seccompData(seccompNr(t, "clone3")+1), retENOSYS)

	// Without a default action or rules there is no filter, as in runc.
	for _, s := range []*ociSeccomp{nil, {}, {Flags: []string{"SECCOMP_FILTER_FLAG_LOG"}}} {
		p, _, _, err := compileOCISeccomp(s)
		if p != nil || err != nil {
			t.Errorf("%+v: got %v, %v; want no filter", s, p, err)
		}
	}
}

// TestSeccompErrors checks what compileOCISeccomp refuses.
func TestSeccompErrors(t *testing.T) {
	for _, c := range []struct{ js, want string }{
		{`{"defaultAction": "SCMP_ACT_NOTIFY"}`, "SCMP_ACT_NOTIFY"},
		{`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}`, "SCMP_ACT_NOTIFY"},
		{`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["no_such"], "action": "SCMP_ACT_NOTIFY"}]}`, "SCMP_ACT_NOTIFY"},
		{`{"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/run/agent.sock"}`, "listenerPath"},
		{`{"defaultAction": "SCMP_ACT_DENY"}`, "SCMP_ACT_DENY"},
		{`{"defaultAction": "", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]}`, "action"},
		{`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "allow"}]}`, `"allow"`},
		{`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO",
			"args": [{"index": 0, "value": 1, "op": "SCMP_CMP_BETWEEN"}]}]}`, "SCMP_CMP_BETWEEN"},
		{`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO",
			"args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]}`, "index 6"},
		{`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "errnoRet": 1}]}`, "errnoRet"},
		{`{"defaultAction": "SCMP_ACT_KILL", "defaultErrnoRet": 1}`, "errnoRet"},
		{`{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 65536}`, "65536"},
		{`{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_VAX"]}`, "SCMP_ARCH_VAX"},
		{`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": [""], "action": "SCMP_ACT_ERRNO"}]}`, "empty"},
	} {
		p, _, _, err := compileOCISeccomp(parseSeccompProfile(t, c.js))
		if err == nil || p != nil {
			t.Errorf("%s: got %v, %v; want an error", c.js, p, err)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q does not mention %q", c.js, err, c.want)
		}
	}

	// Too many argument checks for one filter.
	var rules []string
	for nr := range 300 {
		name := syscalls.Name(uintptr(nr))
		var args []string
		for i := range 6 {
			args = append(args, fmt.Sprintf(`{"index": %d, "value": %d, "op": "SCMP_CMP_GE"}`, i, nr+i))
		}
		rules = append(rules, fmt.Sprintf(`{"names": [%q], "action": "SCMP_ACT_ALLOW", "args": [%s]}`, name, strings.Join(args, ",")))
	}
	js := `{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [` + strings.Join(rules, ",") + `]}`
	_, _, _, err := compileOCISeccomp(parseSeccompProfile(t, js))
	if err == nil || !strings.Contains(err.Error(), "4096") {
		t.Errorf("300 rules of 6 checks: got %v, want an error about the 4096-instruction limit", err)
	}
}

// knownSyscallNames returns the names of the sandbox's table, by number.
func knownSyscallNames() []string {
	var names []string
	for nr := range 512 {
		if n := syscalls.Name(uintptr(nr)); !strings.HasPrefix(n, "syscall_") {
			names = append(names, n)
		}
	}
	return names
}

// TestSeccompLongLists compiles rule lists long enough that the program
// needs jumps beyond jt/jf's 255 instructions.
func TestSeccompLongLists(t *testing.T) {
	names := knownSyscallNames()
	// One rule of 600 names (each even-indexed name, repeated) against
	// another of the odd-indexed ones: the outcome alternates from number
	// to number.
	var even, odd []string
	for i, n := range names {
		if i%2 == 0 {
			even = append(even, n)
		} else {
			odd = append(odd, n)
		}
	}
	var six []string
	for len(six) < 600 {
		six = append(six, even...)
	}
	six = six[:600]
	prof := &ociSeccomp{DefaultAction: "SCMP_ACT_ERRNO", Syscalls: []ociSyscallRule{
		{Names: six, Action: "SCMP_ACT_ALLOW"},
		{Names: odd, Action: "SCMP_ACT_TRAP"},
	}}
	p, _, ignored, err := compileOCISeccomp(prof)
	if err != nil {
		t.Fatal(err)
	}
	if len(ignored) != 0 {
		t.Errorf("ignored %q", ignored)
	}
	t.Logf("600 + %d names, alternating: %d instructions, %d long jumps", len(odd), p.Len(), longJumps(p))
	if longJumps(p) == 0 {
		t.Error("no long jump: the test does not exercise jump ranges")
	}
	for i, n := range names {
		want := uint32(seccomp.RetAllow)
		if i%2 == 1 {
			want = seccomp.RetTrap
		}
		expectRun(t, p, n, seccompData(seccompNr(t, n)), want)
	}
	compareWithModel(t, prof, p, rand.New(rand.NewPCG(3, 4)), 1)

	// The first 250 numbers with argument rules of different actions.
	names = names[:250]
	prof = &ociSeccomp{DefaultAction: "SCMP_ACT_KILL_PROCESS"}
	for i, n := range names {
		prof.Syscalls = append(prof.Syscalls,
			ociSyscallRule{Names: []string{n}, Action: "SCMP_ACT_ERRNO", ErrnoRet: ptrUint(uint(i)),
				Args: []ociSeccompArg{{Index: uint(i % 6), Value: uint64(i), Op: "SCMP_CMP_EQ"}}},
			ociSyscallRule{Names: []string{n}, Action: "SCMP_ACT_ALLOW",
				Args: []ociSeccompArg{{Index: uint(i % 6), Value: 1 << 33, Op: "SCMP_CMP_GE"}}})
	}
	p, _, _, err = compileOCISeccomp(prof)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d numbers with argument rules: %d instructions, %d long jumps", len(names), p.Len(), longJumps(p))
	for i, n := range names {
		args := make([]uint64, 6)
		args[i%6] = uint64(i)
		expectRun(t, p, n+" EQ", seccompData(seccompNr(t, n), args...), seccomp.RetErrno|uint32(i))
		args[i%6] = 1<<33 + 5
		expectRun(t, p, n+" GE", seccompData(seccompNr(t, n), args...), seccomp.RetAllow)
		args[i%6] = 1<<32 + uint64(i)
		expectRun(t, p, n+" none", seccompData(seccompNr(t, n), args...), seccomp.RetKillProcess)
	}
	compareWithModel(t, prof, p, rand.New(rand.NewPCG(5, 6)), 2)
}

func ptrUint(v uint) *uint { return &v }

// TestSeccompRandom compares random profiles with the model.
func TestSeccompRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	actions := []string{"SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_ERRNO", "SCMP_ACT_TRAP",
		"SCMP_ACT_TRACE", "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_KILL_PROCESS"}
	ops := []string{"SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE",
		"SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ"}
	pool := []string{"read", "write", "open", "close", "stat", "ioctl", "clone", "clone3",
		"socket", "mmap", "futex", "openat2", "listns", "no_such_call", "chown32"}
	for iter := range 300 {
		s := &ociSeccomp{DefaultAction: actions[r.IntN(len(actions))]}
		if r.IntN(3) == 0 && (s.DefaultAction == "SCMP_ACT_ERRNO" || s.DefaultAction == "SCMP_ACT_TRACE") {
			s.DefaultErrnoRet = ptrUint(uint(r.IntN(3)))
		}
		for range r.IntN(12) {
			rule := ociSyscallRule{Action: actions[r.IntN(len(actions))]}
			for range 1 + r.IntN(3) {
				rule.Names = append(rule.Names, pool[r.IntN(len(pool))])
			}
			if (rule.Action == "SCMP_ACT_ERRNO" || rule.Action == "SCMP_ACT_TRACE") && r.IntN(2) == 0 {
				rule.ErrnoRet = ptrUint(uint(r.IntN(3)))
			}
			for range r.IntN(4) {
				rule.Args = append(rule.Args, ociSeccompArg{
					Index:    uint(r.IntN(3)),
					Value:    interestingArg(r),
					ValueTwo: interestingArg(r),
					Op:       ops[r.IntN(len(ops))],
				})
			}
			s.Syscalls = append(s.Syscalls, rule)
		}
		p, _, _, err := compileOCISeccomp(s)
		if err != nil {
			t.Fatalf("profile %d: %v", iter, err)
		}
		if p == nil {
			continue
		}
		compareWithModel(t, s, p, r, 3)
		if t.Failed() {
			b, _ := json.MarshalIndent(s, "", " ")
			t.Fatalf("profile %d:\n%s", iter, b)
		}
	}
}

// interestingArg returns argument values near the word boundaries.
func interestingArg(r *rand.Rand) uint64 {
	vals := []uint64{0, 1, 2, 0x7fffffff, 0x80000000, 0xffffffff, 1 << 32, 1<<32 + 1, 2 << 32, 3<<32 + 2, ^uint64(0)}
	return vals[r.IntN(len(vals))]
}

// compareWithModel runs p for every number below 520, a few beyond, and
// samples rounds of random arguments each, against ociSeccompModel.
func compareWithModel(t *testing.T, s *ociSeccomp, p *seccomp.Program, r *rand.Rand, samples int) {
	t.Helper()
	nrs := []int32{-1, 1000, x32Bit, x32Bit | 1, 0x7fffffff, -0x80000000}
	for nr := range int32(520) {
		nrs = append(nrs, nr)
	}
	for _, nr := range nrs {
		for i := range samples + 1 {
			d := seccompData(nr)
			if i > 0 {
				for j := range d.Args {
					d.Args[j] = interestingArg(r)
				}
			}
			if got, want := p.Run(d), ociSeccompModel(s, d); got != want {
				t.Errorf("nr %d args %#x: got %s, model %s", nr, d.Args, seccompRetString(got), seccompRetString(want))
				return
			}
		}
	}
	d := seccompData(0)
	d.Arch = 0x40000003
	if got := p.Run(d); got != seccomp.RetKillProcess {
		t.Errorf("i386: got %s", seccompRetString(got))
	}
}

// ociSeccompModel evaluates a valid profile on d directly: the semantics
// compileOCISeccomp documents, written without BPF.
func ociSeccompModel(s *ociSeccomp, d *seccomp.Data) uint32 {
	if d.Arch != seccomp.AuditArchX86_64 {
		return seccomp.RetKillProcess
	}
	action := func(name string, errnoRet *uint) uint32 {
		ret, err := ociSeccompAction(name, errnoRet)
		if err != nil {
			panic(err)
		}
		return ret
	}
	number := func(name string) (uint32, bool) {
		nr, ok := syscalls.Number(name)
		return uint32(nr), ok && !strings.HasPrefix(name, "syscall_")
	}
	def := action(s.DefaultAction, s.DefaultErrnoRet)
	var highest uint32
	for _, r := range s.Syscalls {
		for _, n := range r.Names {
			if nr, ok := number(n); ok {
				highest = max(highest, nr)
			}
		}
	}
	nr := uint32(d.Nr)
	permissive := s.DefaultAction == "SCMP_ACT_ALLOW" || s.DefaultAction == "SCMP_ACT_LOG" ||
		s.DefaultAction == "SCMP_ACT_TRACE"
	if !permissive && highest > 0 && nr > highest {
		return retENOSYS
	}
	holds := func(a ociSeccompArg) bool {
		x := d.Args[a.Index]
		switch a.Op {
		case "SCMP_CMP_NE":
			return x != a.Value
		case "SCMP_CMP_LT":
			return x < a.Value
		case "SCMP_CMP_LE":
			return x <= a.Value
		case "SCMP_CMP_EQ":
			return x == a.Value
		case "SCMP_CMP_GE":
			return x >= a.Value
		case "SCMP_CMP_GT":
			return x > a.Value
		case "SCMP_CMP_MASKED_EQ":
			return x&a.Value == a.ValueTwo
		}
		panic(a.Op)
	}
	type alt struct {
		conds [][]ociSeccompArg // ORed groups of ANDed conditions
		ret   uint32
	}
	var alts []alt
	for _, r := range s.Syscalls {
		ret := action(r.Action, r.ErrnoRet)
		if ret == def {
			continue
		}
		named := slices.ContainsFunc(r.Names, func(n string) bool {
			x, ok := number(n)
			return ok && x == nr
		})
		if !named {
			continue
		}
		if len(r.Args) == 0 {
			return ret // the first unconditional rule wins, wherever it stands
		}
		a := alt{ret: ret}
		seen := map[uint]bool{}
		same := false
		for _, c := range r.Args {
			same = same || seen[c.Index]
			seen[c.Index] = true
		}
		if same {
			for _, c := range r.Args {
				a.conds = append(a.conds, []ociSeccompArg{c})
			}
		} else {
			a.conds = [][]ociSeccompArg{r.Args}
		}
		alts = append(alts, a)
	}
	for _, a := range alts {
		for _, group := range a.conds {
			all := true
			for _, c := range group {
				all = all && holds(c)
			}
			if all {
				return a.ret
			}
		}
	}
	return def
}

// FuzzSeccompProfile: any config.json seccomp object either fails to
// compile or gives a program that guestkernel/seccomp accepts and runs
// without panicking.
func FuzzSeccompProfile(f *testing.F) {
	docker, err := os.ReadFile(filepath.Join("testdata", "docker-default-seccomp.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(docker, uint64(1), uint64(0))
	f.Add([]byte(`{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read","write"],"action":"SCMP_ACT_ALLOW"},{"names":["personality"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":8,"op":"SCMP_CMP_EQ"}]}]}`), uint64(135), uint64(8))
	f.Add([]byte(`{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["clone"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"value":2114060288,"valueTwo":0,"op":"SCMP_CMP_MASKED_EQ"}]}]}`), uint64(56), uint64(1<<28))
	f.Fuzz(func(t *testing.T, js []byte, nr, arg uint64) {
		var s ociSeccomp
		if json.Unmarshal(js, &s) != nil {
			return
		}
		prog, _, _, err := compileOCISeccomp(&s)
		if err != nil || prog == nil {
			return
		}
		if _, err := seccomp.Check(prog.Instructions()); err != nil {
			t.Fatalf("compiled program refused by the checker: %v", err)
		}
		d := seccomp.Data{Nr: int32(nr % 600), Arch: seccomp.AuditArchX86_64, Args: [6]uint64{arg, arg >> 3, ^arg}}
		prog.Run(&d)
	})
}

// TestSeccompDockerFormat: a profile in Docker's own format (archMap,
// includes, excludes) is resolved as dockerd resolves it for a container
// with the given bounding set, on an amd64 host with the sandbox's kernel
// release.
func TestSeccompDockerFormat(t *testing.T) {
	raw := `{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
		"archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
			{"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}],
		"syscalls": [
			{"names": ["read", "write", "exit_group"], "action": "SCMP_ACT_ALLOW"},
			{"names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["amd64", "x32"]}},
			{"names": ["getuid"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["ppc64le"]}},
			{"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
			{"names": ["unshare"], "action": "SCMP_ACT_ALLOW", "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
			{"names": ["process_vm_readv"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "4.8"}},
			{"names": ["getpid"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "99.0"}},
			{"names": ["getppid"], "action": "SCMP_ACT_ALLOW", "excludes": {"arches": ["s390x", "amd64"]}}
		]}`
	compile := func(bounding uint64) *seccomp.Program {
		var s ociSeccomp
		require.NoError(t, json.Unmarshal([]byte(raw), &s))
		require.NoError(t, s.resolveDocker(bounding, syscalls.Release))
		assert.Equal(t, []string{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}, s.Architectures)
		prog, _, _, err := compileOCISeccomp(&s)
		require.NoError(t, err)
		return prog
	}
	allowed := func(p *seccomp.Program, name string) bool {
		return p.Run(seccompData(seccompNr(t, name))) == seccomp.RetAllow
	}
	admin := compile(kernel.AllCaps)
	for name, want := range map[string]bool{"read": true, "arch_prctl": true, "getuid": false, "mount": true,
		"unshare": false, "process_vm_readv": true, "getpid": false, "getppid": false} {
		assert.Equal(t, want, allowed(admin, name), "with CAP_SYS_ADMIN: %s", name)
	}
	plain := compile(1 << kernel.CapChown)
	assert.False(t, allowed(plain, "mount"), "includes caps: CAP_SYS_ADMIN is not in the set")
	assert.True(t, allowed(plain, "unshare"), "excludes caps: CAP_SYS_ADMIN is not in the set")

	var bad ociSeccomp
	require.NoError(t, json.Unmarshal([]byte(`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
		{"names": ["read"], "action": "SCMP_ACT_ERRNO", "includes": {"caps": ["CAP_NOT_A_CAP"]}}]}`), &bad))
	assert.Error(t, bad.resolveDocker(kernel.AllCaps, syscalls.Release), "an unknown capability")
}
