package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"ringbox/vmm/kvmtest"
)

// runTimeout bounds every single native or sandboxed run.
const runTimeout = 60 * time.Second

var (
	// ringboxBin is the ringbox binary under test.
	ringboxBin string
	// progDir holds the compiled test programs: NAME and, for pieProgs, NAME-pie.
	progDir string
	// platform is RINGBOX_PLATFORM; when set, `ringbox run` gets --platform=<it>.
	platform string
	// scratchDir is a per-run temporary directory for crafted files.
	scratchDir string
	// moduleRoot is the directory holding go.mod.
	moduleRoot string
	// noKVM is why KVM is unusable here, when the tests skip for it.
	noKVM error
)

// baseEnv is the environment of every test program, natively and in the
// sandbox (where it is passed as --clearenv and --env flags).
var baseEnv = []string{"PATH=/usr/bin:/bin", "HOME=/", "LANG=C"}

// pieProgs are additionally compiled with -static-pie as NAME-pie.
var pieProgs = []string{"hello", "args", "malloc"}

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	if err := kvmtest.Check(); err != nil {
		if kvmtest.Required() {
			fatalBanner(fmt.Sprintf("%s=1 but KVM is not usable: %v\n\n"+
				"The ringbox end-to-end tests need KVM. Run them on a host (or a VM with\n"+
				"nested virtualization) that has /dev/kvm, as a user that can open it\n"+
				"read-write (for example a member of the 'kvm' group).", kvmtest.RequireEnv, err))
			return 1
		}
		// Every test skips with this reason (recordInputs); nothing to build.
		noKVM = err
		fmt.Fprintf(os.Stderr, "ringbox e2e: %s\n", kvmtest.SkipMessage(err))
		return m.Run()
	}

	root, err := findModuleRoot()
	if err != nil {
		fatalBanner(err.Error())
		return 1
	}
	tmp, err := os.MkdirTemp("", "ringbox-e2e-")
	if err != nil {
		fatalBanner(err.Error())
		return 1
	}
	defer os.RemoveAll(tmp)
	scratchDir = filepath.Join(tmp, "scratch")
	progDir = filepath.Join(tmp, "progs")
	for _, d := range []string{scratchDir, progDir} {
		if err := os.Mkdir(d, 0o755); err != nil {
			fatalBanner(err.Error())
			return 1
		}
	}

	// The fault tests crash programs on purpose; don't litter core files.
	_ = syscall.Setrlimit(syscall.RLIMIT_CORE, &syscall.Rlimit{})

	moduleRoot = root
	if bin := os.Getenv("RINGBOX_BIN"); bin != "" {
		if ringboxBin, err = filepath.Abs(bin); err != nil {
			fatalBanner(err.Error())
			return 1
		}
	} else {
		ringboxBin = filepath.Join(tmp, "ringbox")
		if err := buildRingbox(root, ringboxBin); err != nil {
			fatalBanner("building ringbox failed:\n" + err.Error())
			return 1
		}
	}
	if dir := os.Getenv("RINGBOX_PROGS"); dir != "" {
		// Prebuilt programs (NAME, NAME-pie), for hosts without gcc.
		if progDir, err = filepath.Abs(dir); err != nil {
			fatalBanner(err.Error())
			return 1
		}
	} else if err := compilePrograms(filepath.Join(root, "tests", "progs"), progDir); err != nil {
		fatalBanner("compiling the test programs failed:\n" + err.Error())
		return 1
	}
	platform = os.Getenv("RINGBOX_PLATFORM")
	fmt.Fprintf(os.Stderr, "ringbox e2e: binary %s, platform %q\n", ringboxBin, platform)
	return m.Run()
}

func fatalBanner(msg string) {
	line := strings.Repeat("=", 78)
	fmt.Fprintf(os.Stderr, "%s\nringbox e2e: FATAL: %s\n%s\n", line, msg, line)
}

// findModuleRoot walks up from the working directory to the directory
// holding go.mod.
func findModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod found above the working directory")
		}
		dir = parent
	}
}

var recordOnce sync.Once

// recordInputs makes the go command's test cache aware of what the results
// depend on. go test caches a result keyed on the environment variables read
// and the files (inside the module) opened while the tests run, i.e. after
// TestMain calls m.Run; ringbox and the programs are built by subprocesses
// before that. So every top-level test calls this first: it re-reads the
// configuration variables and opens every source file of the module (Go,
// assembly, C, go.mod/go.sum) and the ringbox binary, so that changing any of
// them invalidates a cached result. (Use -count=1 to force a rerun anyway.)
// Where KVM is missing (and not required) it skips t instead.
func recordInputs(t *testing.T) {
	t.Helper()
	if noKVM != nil {
		kvmtest.SkipOrFail(t, noKVM)
	}
	recordOnce.Do(func() {
		for _, v := range []string{"RINGBOX_PLATFORM", "RINGBOX_BIN", "RINGBOX_PROGS", "CC"} {
			_ = os.Getenv(v)
		}
		if f, err := os.Open(ringboxBin); err == nil {
			f.Close()
		}
		walkSources(moduleRoot)
	})
}

func walkSources(root string) {
	_ = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() {
			if path != root && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(path) {
		case ".go", ".s", ".c", ".h", ".mod", ".sum":
			if f, err := os.Open(path); err == nil {
				f.Close()
			}
		}
		return nil
	})
}

func buildRingbox(root, out string) error {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return err
	}
	cmd := exec.Command(goTool, "build", "-o", out, "./cmd/ringbox")
	cmd.Dir = root
	// As README builds it: without cgo, ringbox can drop its capabilities
	// on every thread (vmm/confine).
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("(cd %s && go build -o %s ./cmd/ringbox): %v\n%s", root, out, err, b)
	}
	return nil
}

// compilePrograms compiles every srcDir/*.c into outDir with -static -O1,
// and the pieProgs also with -static-pie, in parallel.
func compilePrograms(srcDir, outDir string) error {
	cc := os.Getenv("CC")
	if cc == "" {
		cc = "gcc"
	}
	srcs, err := filepath.Glob(filepath.Join(srcDir, "*.c"))
	if err != nil {
		return err
	}
	if len(srcs) == 0 {
		return fmt.Errorf("no C programs in %s", srcDir)
	}
	type job struct{ src, out, mode string }
	var jobs []job
	for _, src := range srcs {
		name := strings.TrimSuffix(filepath.Base(src), ".c")
		jobs = append(jobs, job{src, filepath.Join(outDir, name), "-static"})
		for _, p := range pieProgs {
			if p == name {
				jobs = append(jobs, job{src, filepath.Join(outDir, name+"-pie"), "-static-pie"})
			}
		}
	}
	var (
		mu   sync.Mutex
		errs []string
		wg   sync.WaitGroup
		sem  = make(chan struct{}, runtime.NumCPU()+1)
	)
	for _, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			args := []string{j.mode, "-O1", "-o", j.out, j.src}
			if b, err := exec.Command(cc, args...).CombinedOutput(); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Sprintf("%s %s: %v\n%s", cc, strings.Join(args, " "), err, b))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "\n"))
	}
	return nil
}

// prog returns the path of a compiled test program.
func prog(name string) string { return filepath.Join(progDir, name) }

// result is the outcome of one run.
type result struct {
	Stdout, Stderr []byte
	// Code is the exit status, or 128+n when the process was killed by signal n.
	Code int
	// Signal is non-zero when the process itself was killed by a signal.
	Signal   syscall.Signal
	TimedOut bool
	Elapsed  time.Duration
}

// spec describes one process to run.
type spec struct {
	Path  string   // executable
	Argv  []string // full argv, including argv[0]
	Env   []string // exact environment (nil means empty), or additions if InheritEnv
	Stdin []byte   // nil means /dev/null
	// InheritEnv runs with the test process's environment plus Env (used for
	// ringbox itself, whose own environment is not the program's).
	InheritEnv bool
	// Dir is the working directory ("" = the test's).
	Dir string
	// Timeout bounds the run (0: runTimeout).
	Timeout time.Duration
}

func (s spec) timeout() time.Duration {
	if s.Timeout > 0 {
		return s.Timeout
	}
	return runTimeout
}

func (s spec) String() string {
	var b strings.Builder
	if !s.InheritEnv {
		b.WriteString("env -i ")
	}
	for _, e := range s.Env {
		b.WriteString(shellQuote(e) + " ")
	}
	if len(s.Argv) > 0 && s.Argv[0] != s.Path {
		b.WriteString("[argv0=" + shellQuote(s.Argv[0]) + "] ")
	}
	b.WriteString(shellQuote(s.Path))
	for _, a := range s.Argv[1:] {
		b.WriteString(" " + shellQuote(a))
	}
	if s.Stdin != nil {
		fmt.Fprintf(&b, " <(%d bytes of test input)", len(s.Stdin))
	}
	return b.String()
}

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_=./:,+@%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// environ is the environment to run s with.
func (s spec) environ() []string {
	if s.InheritEnv {
		return append(os.Environ(), s.Env...)
	}
	if s.Env == nil {
		return []string{}
	}
	return s.Env
}

// execute runs s to completion (or until runTimeout) in a fresh directory.
func execute(t *testing.T, s spec) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout())
	defer cancel()
	cmd := exec.CommandContext(ctx, s.Path)
	cmd.Args = s.Argv
	cmd.Env = s.environ()
	cmd.Dir = s.Dir
	if cmd.Dir == "" {
		cmd.Dir = t.TempDir()
	}
	if s.Stdin != nil {
		cmd.Stdin = bytes.NewReader(s.Stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	err := cmd.Run()
	r := result{Elapsed: time.Since(start), Stdout: stdout.Bytes(), Stderr: stderr.Bytes()}
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		require.NoError(t, err, "running %s", s)
	}
	r.TimedOut = ctx.Err() != nil
	r.Code, r.Signal = status(cmd.ProcessState)
	return r
}

// status converts a process state into the shell convention: exit status,
// or 128+n (and the signal) when killed by signal n.
func status(ps *os.ProcessState) (int, syscall.Signal) {
	if ps == nil {
		return -1, 0
	}
	ws, ok := ps.Sys().(syscall.WaitStatus)
	if !ok {
		return ps.ExitCode(), 0
	}
	if ws.Signaled() {
		return 128 + int(ws.Signal()), ws.Signal()
	}
	return ws.ExitStatus(), 0
}

// native is the spec for running path natively with argv[0] = path.
func native(path string, args []string, env []string, stdin []byte) spec {
	return spec{Path: path, Argv: append([]string{path}, args...), Env: env, Stdin: stdin}
}

// runArgs builds `ringbox run [flags] [--platform=P] --clearenv --env K=V... --
// program args...`: the program's environment is exactly env (ringbox's own
// is not inherited).
func runArgs(flags []string, env []string, program string, args []string) []string {
	a := []string{ringboxBin, "run"}
	a = append(a, flags...)
	if platform != "" {
		a = append(a, "--platform="+platform)
	}
	a = append(a, "--clearenv")
	for _, e := range env {
		a = append(a, "--env", e)
	}
	// --clearenv's minimal environment, less what env does not have.
	for _, k := range []string{"PATH", "HOME", "HOSTNAME"} {
		if !slices.ContainsFunc(env, func(e string) bool { return strings.HasPrefix(e, k+"=") }) {
			a = append(a, "--unsetenv", k)
		}
	}
	a = append(a, "--")
	a = append(a, program)
	return append(a, args...)
}

// sandboxed is the spec for `ringbox run ... -- program args`. ringbox itself
// gets the test process's environment (plus any extra entries, which win).
func sandboxed(flags, env []string, program string, args []string, stdin []byte, extraHostEnv ...string) spec {
	return spec{
		Path:       ringboxBin,
		Argv:       runArgs(flags, env, program, args),
		Env:        extraHostEnv,
		InheritEnv: true,
		Stdin:      stdin,
	}
}

// tail returns at most the last n bytes of b, for logging.
func tail(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return fmt.Sprintf("[... %d bytes cut ...]\n%s", len(b)-n, b[len(b)-n:])
}

func digest(b []byte) string {
	return fmt.Sprintf("%d bytes, sha256 %x", len(b), sha256.Sum256(b))
}

// logRun logs how to reproduce a run and what it printed on stderr.
func logRun(t *testing.T, what string, s spec, r result) {
	t.Helper()
	t.Logf("%s: %s\n  status %d (signal %d, timed out %v, %v)\n  stderr:\n%s",
		what, s, r.Code, r.Signal, r.TimedOut, r.Elapsed.Round(time.Millisecond), indent(tail(r.Stderr, 8192)))
}

func indent(s string) string {
	if s == "" {
		return "    (empty)"
	}
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ")
}

// checkSandboxStatus fails if ringbox timed out or was itself killed by a
// signal (the contract says it exits with 128+n when the program dies of n).
func checkSandboxStatus(t *testing.T, r result) bool {
	t.Helper()
	if r.TimedOut {
		t.Errorf("ringbox timed out")
		return false
	}
	if r.Signal != 0 {
		t.Errorf("ringbox itself was killed by signal %d (%v); it must exit with status 128+n instead", int(r.Signal), r.Signal)
		return false
	}
	return true
}

// progCase is one program run natively and in the sandbox.
type progCase struct {
	name string
	prog string   // compiled program name in progDir
	args []string // argv[1:]
	// argsNow, when set, gives argv[1:] when the case starts running
	// (parallel cases may wait long under load).
	argsNow func() []string
	env     []string // program environment; nil means baseEnv, use []string{} for none
	stdin   []byte
	flags   []string // extra `ringbox run` flags

	wantCode   int
	wantStdout string // when non-empty, the exact expected stdout
	// golden: don't run natively, compare with wantStdout and wantCode only.
	golden bool
	// stderr: also compare stderr with the native run.
	stderr bool
	// bigOutput: report stdout mismatches as size + sha256 only.
	bigOutput bool
	// check runs additional assertions on the sandboxed result.
	check func(t *testing.T, r result)
	// timeout bounds each run of a slow case (0: runTimeout).
	timeout time.Duration
}

// userXattrDir returns a host directory on a filesystem that keeps user.*
// extended attributes: RINGBOX_TEST_DISK (the x86 lane's shared host
// disk: its /tmp is a tmpfs of Linux 6.1, which keeps none), else the
// first of the temporary directory (tmpfs keeps them since Linux 6.6),
// /var/tmp (a disk on most hosts) and the working directory that does.
func userXattrDir() string {
	if d := os.Getenv("RINGBOX_TEST_DISK"); d != "" {
		return d
	}
	wd, _ := os.Getwd()
	for _, d := range []string{os.TempDir(), "/var/tmp", wd} {
		probe := filepath.Join(d, "ringbox-xattr-probe")
		err := os.WriteFile(probe, nil, 0o644)
		if err == nil {
			err = unix.Setxattr(probe, "user.probe", []byte("1"), 0)
			os.Remove(probe)
		}
		if err == nil {
			return d
		}
	}
	return os.TempDir()
}

func programCases() []progCase {
	argsArgs := []string{"one", "", "two words", "--debug", "-x", "--", "ünïcödé", "tab\tinside", "a,b"}
	argsEnv := []string{"PATH=/usr/bin:/bin", "HOME=/", "LANG=C", "EQ=a=b=c", "EMPTY=", "SPACES=x y  z", "COMMA=a,b,c"}
	hostNow := func() []string { return []string{strconv.FormatInt(time.Now().Unix(), 10)} }
	ownersBase := filepath.Join(os.TempDir(), "ringbox-owners-bind")
	xattrsBase := filepath.Join(userXattrDir(), "ringbox-xattrs-bind")
	cases := []progCase{
		{name: "hello", prog: "hello", wantStdout: "hello, world\n", stderr: true},
		{name: "hello-pie", prog: "hello-pie", wantStdout: "hello, world\n", stderr: true},
		{name: "hello-strace", prog: "hello", flags: []string{"--strace"}, wantStdout: "hello, world\n",
			check: func(t *testing.T, r result) {
				assert.Contains(t, string(r.Stderr), "write", "--strace output on stderr should mention the write syscall")
			}},
		{name: "hello-debug", prog: "hello", flags: []string{"--debug"}, wantStdout: "hello, world\n"},
		{name: "args", prog: "args", args: argsArgs, env: argsEnv},
		{name: "args-pie", prog: "args-pie", args: argsArgs, env: argsEnv},
		{name: "args-noargs-noenv", prog: "args", env: []string{}},
		{name: "malloc", prog: "malloc"},
		{name: "malloc-pie", prog: "malloc-pie"},
		{name: "mmap", prog: "mmap"},
		{name: "sharedmap", prog: "sharedmap"},
		{name: "semopen", prog: "semopen"},
		// A big file (a host file) and a small one (kept in memory) of
		// the read-only root, both mapped from the page cache.
		{name: "filemap", prog: "filemap", args: []string{"/bin/ls"}},
		{name: "filemap-small", prog: "filemap", args: []string{"/etc/services"}},
		{name: "procs", prog: "procs"},
		{name: "threads", prog: "threads"},
		// Slow where a VM exit is slow (emulation: 40 s alone) and
		// slower under load.
		{name: "many", prog: "many", timeout: 5 * time.Minute},
		// Fewer vCPUs than tasks (--vcpus): tasks waiting in the kernel
		// lend theirs out (threads with two vCPUs: about 2,000 steals),
		// and one spinning in user code yields. (pipefork with one vCPU
		// and many with 16 pass too, but take 30-80 s each in the lane:
		// not in CI.)
		// Slow in the one-CPU x86 lane (13-45 s alone, 64 threads taking
		// turns on 2 vCPUs), more beside the rest of the suite.
		{name: "threads-2vcpus", prog: "threads", flags: []string{"--vcpus", "2"}, timeout: 3 * time.Minute},
		{name: "procs-1vcpu", prog: "procs", flags: []string{"--vcpus", "1"}},
		{name: "spinwait-1vcpu", prog: "spinwait", flags: []string{"--vcpus", "1"}},
		{name: "archgs", prog: "archgs"},
		{name: "getcpu", prog: "getcpu"},
		{name: "locks", prog: "locks"},
		{name: "inotify", prog: "inotify"},
		{name: "ptrace", prog: "ptrace"},
		{name: "seccomp", prog: "seccomp"},
		{name: "mlock", prog: "mlock"},
		// The sandbox emulates the vsyscall page as Linux does by
		// default (vsyscall=xonly) whatever the host was booted with.
		{name: "getcpu-vsyscall", prog: "getcpu", args: []string{"vsyscall"}, golden: true, wantStdout: "" +
			"sched_getcpu in the mask: yes\n" +
			"getcpu: 0, in the mask: yes, node 0\n" +
			"getcpu(NULL, NULL): 0\n" +
			"getcpu(bad): -1 EFAULT\n" +
			"pinned: sched_getcpu the pinned CPU, getcpu the pinned CPU\n" +
			"maps: [vsyscall] ffffffffff600000-ffffffffff601000 --xp\n" +
			"vsyscall time: now, stored: yes\n" +
			"vsyscall gettimeofday: 0, now\n" +
			"vsyscall gettimeofday(NULL, NULL): 0\n" +
			"vsyscall getcpu: 0, the pinned CPU: yes, node 0\n" +
			"read the page: SIGSEGV\n" +
			"call into the middle: SIGSEGV\n" +
			"gettimeofday into a bad pointer: SIGSEGV\n"},
		{name: "cputime", prog: "cputime"},
		{name: "sigqueue", prog: "sigqueue"},
		{name: "sysvipc", prog: "sysvipc"},
		{name: "sched", prog: "sched"},
		{name: "pidfds", prog: "pidfds"},
		{name: "creds", prog: "creds"},
		{name: "ptys", prog: "ptys"},
		{name: "orphanpgrp", prog: "orphanpgrp"},
		{name: "caps", prog: "caps"},
		{name: "mqueue", prog: "mqueue"},
		// Golden: natively, root is not bound by RLIMIT_NPROC.
		{name: "forkbomb", prog: "forkbomb", flags: []string{"--pids", "64"}, golden: true,
			wantStdout: "fork failed: EAGAIN\nreaped all children: yes\n"},
		{name: "bigwrite", prog: "bigwrite", bigOutput: true,
			check: func(t *testing.T, r result) {
				assert.Equal(t, 10<<20, len(r.Stdout), "bigwrite output size")
			}},
		{name: "cat-stdin", prog: "cat", stdin: pseudoRandom(1<<20+12345, 7), bigOutput: true, stderr: true},
		{name: "cat-devnull", prog: "cat", stderr: true},
		{name: "clock", prog: "clock", argsNow: hostNow},
		{name: "vdso", prog: "vdso"},
		{name: "vdso-stubs", prog: "vdso", flags: []string{"--vdso", "stubs"}},
		{name: "random", prog: "random"},
		{name: "stackgrow", prog: "stackgrow"},
		{name: "nullderef", prog: "nullderef", wantCode: 128 + int(syscall.SIGSEGV)},
		{name: "hlt", prog: "hlt", wantCode: 128 + int(syscall.SIGSEGV)},
		{name: "cli", prog: "cli", wantCode: 128 + int(syscall.SIGSEGV)},
		{name: "outb", prog: "outb", wantCode: 128 + int(syscall.SIGSEGV)},
		{name: "wrmsr", prog: "wrmsr", wantCode: 128 + int(syscall.SIGSEGV)},
		{name: "ud2", prog: "ud2", wantCode: 128 + int(syscall.SIGILL)},
		{name: "int3", prog: "int3", wantCode: 128 + int(syscall.SIGTRAP)},
		{name: "divzero", prog: "divzero", wantCode: 128 + int(syscall.SIGFPE)},
		// Golden: some patched host kernels assign syscall 335, so a native
		// run is not a reliable reference for this program.
		{name: "enosys", prog: "enosys", golden: true, wantStdout: "" +
			"syscall(1000) -> ENOSYS: ok\n" +
			"syscall(335) -> ENOSYS: ok\n" +
			"syscall(100000) -> ENOSYS: ok\n" +
			"registers and flags preserved across ENOSYS syscall: ok\n" +
			"registers and flags preserved across getppid: ok\n"},
		{name: "fpu", prog: "fpu"},
		{name: "signals", prog: "signals", wantCode: 128 + int(syscall.SIGUSR2)},
		{name: "selects", prog: "selects"},
		{name: "pipes", prog: "pipes"},
		{name: "fifos", prog: "fifos"},
		{name: "fsmisc", prog: "fsmisc"},
		{name: "mounts", prog: "mounts"},
		{name: "owners", prog: "owners"},
		// The same in a host directory bound read-write: the sandbox's
		// owners are shown in place of the host files' (whose mode never
		// takes a set-ID bit).
		{name: "owners-bind", prog: "owners", flags: []string{"-v", ownersBase + ":" + ownersBase}, argsNow: func() []string {
			if err := os.MkdirAll(ownersBase, 0o755); err != nil {
				panic(err)
			}
			return []string{ownersBase, "host"}
		}},
		// user.* attributes of host files in a read-write bind mount,
		// written through to the host.
		{name: "hostxattrs", prog: "hostxattrs", flags: []string{"-v", xattrsBase + ":" + xattrsBase}, argsNow: func() []string {
			if err := os.MkdirAll(xattrsBase, 0o755); err != nil {
				panic(err)
			}
			return []string{xattrsBase}
		}},
		// Checked against Linux 6.18 on a machine of one node.
		{name: "numa", prog: "numa", golden: true, wantStdout: "" +
			"at start: 0 mode=0 mask=0,0\n" +
			"mems allowed: 0 mode=0 mask=1\n" +
			"numa_available probe: 0\n" +
			"bad flags: EINVAL\n" +
			"an address without MPOL_F_ADDR: EINVAL\n" +
			"MPOL_F_MEMS_ALLOWED with MPOL_F_NODE: EINVAL\n" +
			"MPOL_F_NODE under the default policy: EINVAL\n" +
			"MPOL_F_ADDR: 0 mode=0\n" +
			"MPOL_F_ADDR|MPOL_F_NODE: 0 node=0\n" +
			"MPOL_F_ADDR of a hole: EFAULT\n" +
			"bind to node 0: 0\n" +
			"after bind: 0 mode=2 mask=1,0\n" +
			"bind to node 1: EINVAL\n" +
			"bind to no node: EINVAL\n" +
			"interleave with static nodes: 0\n" +
			"after interleave: 0 mode=32771 mask=1,0\n" +
			"MPOL_F_NODE under interleave: 0 node=0\n" +
			"in a new thread: 0 mode=32771 mask=1,0\n" +
			"static and relative: EINVAL\n" +
			"mode 99: EINVAL\n" +
			"default with a node: EINVAL\n" +
			"preferred with no node: 0\n" +
			"after preferred: 0 mode=4 mask=0,0\n" +
			"local: 0\n" +
			"a mask past a page of bits: EINVAL\n" +
			"default: 0\n" +
			"at the end: 0 mode=0 mask=0,0\n" +
			"mbind the page: 0\n" +
			"mbind over the hole: EFAULT\n" +
			"mbind unaligned: EINVAL\n" +
			"mbind bad flags: EINVAL\n"},
		{name: "openat2", prog: "openat2"},
		{name: "rlimits", prog: "rlimits"},
		{name: "sharing", prog: "sharing"},
		{name: "sockopts", prog: "sockopts"},
		{name: "xattrs", prog: "xattrs", golden: true, wantStdout: "" +
			"set user.a: 0\n" +
			"get user.a size 0: 5\n" +
			"get user.a: 5 hello\n" +
			"get user.a into 2 bytes: ERANGE\n" +
			"get user.none: ENODATA\n" +
			"set user.a XATTR_CREATE: EEXIST\n" +
			"set user.b XATTR_REPLACE: ENODATA\n" +
			"set user.empty (no value): 0\n" +
			"set trusted.t: 0\n" +
			"set security.s: 0\n" +
			"list size 0: 39\n" +
			"list into 4 bytes: ERANGE\n" +
			"list: security.s,trusted.t,user.a,user.empty (39 bytes)\n" +
			"through the symlink: 5\n" +
			"lsetxattr user.* on the symlink: EPERM\n" +
			"lgetxattr user.* of the symlink: ENODATA\n" +
			"lsetxattr trusted.* on the symlink: 0\n" +
			"fgetxattr: 5\n" +
			"fsetxattr on a read-only descriptor: 0\n" +
			"remove user.empty: 0\n" +
			"remove it again: ENODATA\n" +
			"bad flags: EINVAL\n" +
			"unknown namespace: EOPNOTSUPP\n" +
			"empty name: ERANGE\n" +
			"system.posix_acl_access: EOPNOTSUPP\n" +
			"a value of 64 KiB + 1: E2BIG\n" +
			"a value of 64 KiB: ENOSPC\n" +
			"then another: 0\n" +
			"set user.* on a directory: 0\n" +
			"a host file under the root: ENODATA\n" +
			"its listing:  (0 bytes)\n" +
			"/proc/self/status: EOPNOTSUPP\n" +
			"its listing:  (0 bytes)\n" +
			"a pipe: EPERM\n" +
			"uid 1000: get user.a: 5\n" +
			"uid 1000: set user.a on root's 0644 file: EACCES\n" +
			"uid 1000: get trusted.t: ENODATA\n" +
			"uid 1000: set trusted.t: EPERM\n" +
			"uid 1000: set security.s: EPERM\n" +
			"uid 1000: list: security.s,user.a,user.fd,user.more (36 bytes)\n" +
			"uid 1000: set user.* on a sticky directory of root's: EPERM\n"},
		{name: "privcalls", prog: "privcalls", golden: true, wantStdout: "" +
			"clock_settime(REALTIME, now): EPERM\n" +
			"clock_settime(MONOTONIC): EINVAL\n" +
			"clock_settime(PROCESS_CPUTIME_ID): EPERM\n" +
			"clock_settime(REALTIME, NULL): EFAULT\n" +
			"clock_settime(REALTIME, 2e9 ns): EINVAL\n" +
			"clock_settime(REALTIME, the year 2300): EINVAL\n" +
			"settimeofday(now): EPERM\n" +
			"settimeofday(2e6 us): EINVAL\n" +
			"settimeofday(bad pointer): EFAULT\n" +
			"syslog SIZE_BUFFER: positive\n" +
			"syslog READ_ALL: 0\n" +
			"syslog READ_ALL to NULL: EINVAL\n" +
			"syslog CONSOLE_LEVEL 9: EINVAL\n" +
			"syslog type 99: EINVAL\n" +
			"fchmodat2(f, 0640, 0): ok, mode 640\n" +
			"fchmodat2(l, 0600, AT_SYMLINK_NOFOLLOW): EOPNOTSUPP\n" +
			"fchmodat2(l, 0604, 0): ok, f's mode 604\n" +
			"fchmodat2(O_PATH fd, \"\", 0600, AT_EMPTY_PATH): ok, mode 600\n" +
			"fchmodat2 with a bad flag: EINVAL\n" +
			"fchmodat2(\"\") without AT_EMPTY_PATH: ENOENT\n" +
			"syslog SIZE_BUFFER as uid 1000: EPERM\n"},
		{name: "pipes-sigpipe", prog: "pipes", args: []string{"sigpipe"}, wantCode: 128 + int(syscall.SIGPIPE)},
		{name: "eventfds", prog: "eventfds"},
		{name: "epolls", prog: "epolls"},
		{name: "pipefork", prog: "pipefork"},
		{name: "timerfds", prog: "timerfds"},
		{name: "signalfds", prog: "signalfds"},
		{name: "posixtimers", prog: "posixtimers"},
		{name: "unixpair", prog: "unixpair"},
		{name: "unixserver", prog: "unixserver"},
		{name: "inetsock", prog: "inetsock", timeout: 5 * time.Minute},
		{name: "timers", prog: "timers", wantCode: 128 + int(syscall.SIGALRM)},
		{name: "badsigreturn-rip", prog: "badsigreturn", args: []string{"rip"}, wantCode: 128 + int(syscall.SIGSEGV)},
		{name: "badsigreturn-rsp", prog: "badsigreturn", args: []string{"rsp"}, wantCode: 128 + int(syscall.SIGSEGV)},
		{name: "badsigreturn-fp", prog: "badsigreturn", args: []string{"fp"}, wantCode: 128 + int(syscall.SIGSEGV)},
	}
	for _, code := range []struct {
		arg  string
		want int
	}{{"0", 0}, {"1", 1}, {"42", 42}, {"255", 255}, {"256", 0}, {"-1", 255}} {
		cases = append(cases, progCase{
			name: "exitcode-" + code.arg, prog: "exitcode", args: []string{code.arg},
			wantCode: code.want, wantStdout: "exiting with " + code.arg + "\n",
		})
	}
	return cases
}

// pseudoRandom returns n deterministic pseudo-random bytes.
func pseudoRandom(n int, seed uint64) []byte {
	b := make([]byte, n)
	x := seed*0x9E3779B97F4A7C15 + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = byte(x >> 32)
	}
	return b
}

// TestPrograms runs every test program natively and under ringbox and
// compares stdout and exit status.
func TestPrograms(t *testing.T) {
	recordInputs(t)
	for _, tc := range programCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.argsNow != nil {
				tc.args = tc.argsNow()
			}
			env := tc.env
			if env == nil {
				env = baseEnv
			}
			path := prog(tc.prog)

			want := result{Code: tc.wantCode, Stdout: []byte(tc.wantStdout)}
			var nspec spec
			if !tc.golden {
				nspec = native(path, tc.args, env, tc.stdin)
				nspec.Timeout = tc.timeout
				want = execute(t, nspec)
				// Sanity check of the test program itself on this host.
				require.False(t, want.TimedOut, "native run timed out: %s", nspec)
				if want.Code != tc.wantCode || (tc.wantStdout != "" && string(want.Stdout) != tc.wantStdout) {
					logRun(t, "native", nspec, want)
					t.Fatalf("native run of %s is broken (status %d, want %d; stdout %q): fix the test program",
						tc.prog, want.Code, tc.wantCode, tail(want.Stdout, 2048))
				}
			}

			sspec := sandboxed(tc.flags, env, path, tc.args, tc.stdin)
			sspec.Timeout = tc.timeout
			got := execute(t, sspec)
			compare(t, tc, want, got)
			if tc.check != nil {
				tc.check(t, got)
			}
			if t.Failed() {
				if !tc.golden {
					logRun(t, "native", nspec, want)
				}
				logRun(t, "ringbox", sspec, got)
			}
		})
	}
}

// compare checks the sandboxed result against the reference (native or golden).
func compare(t *testing.T, tc progCase, want, got result) {
	t.Helper()
	if !checkSandboxStatus(t, got) {
		return
	}
	assert.Equal(t, want.Code, got.Code, "exit status (native/golden vs ringbox)")
	if tc.bigOutput {
		if !bytes.Equal(want.Stdout, got.Stdout) {
			t.Errorf("stdout differs: native %s; ringbox %s", digest(want.Stdout), digest(got.Stdout))
		}
	} else {
		assert.Equal(t, string(want.Stdout), string(got.Stdout), "stdout (native/golden vs ringbox)")
	}
	if tc.stderr && !tc.golden {
		assert.Equal(t, string(want.Stderr), string(got.Stderr), "stderr (native vs ringbox)")
	}
}

// TestPathLookup runs a program given without a slash; ringbox must find it
// on PATH like a shell does: argv[0] stays as typed and AT_EXECFN is the
// resolved path. The directory is on both ringbox's own PATH and the
// program's --env PATH, so either lookup policy finds it.
func TestPathLookup(t *testing.T) {
	recordInputs(t)
	t.Parallel()
	pathVar := "PATH=" + progDir + ":/usr/bin:/bin"
	env := []string{pathVar, "HOME=/", "LANG=C"}
	args := []string{"x", "y"}

	nspec := spec{Path: prog("args"), Argv: append([]string{"args"}, args...), Env: env}
	want := execute(t, nspec)
	require.Equal(t, 0, want.Code, "native run: %s\n%s", want.Stdout, want.Stderr)

	sspec := sandboxed(nil, env, "args", args, nil, pathVar)
	got := execute(t, sspec)
	if checkSandboxStatus(t, got) {
		assert.Equal(t, want.Code, got.Code, "exit status")
		assert.Equal(t, string(want.Stdout), string(got.Stdout), "stdout")
	}
	if t.Failed() {
		logRun(t, "native", nspec, want)
		logRun(t, "ringbox", sspec, got)
	}
}

// TestBadInput checks ringbox's own errors: exit status and a one-line,
// non-empty message on stderr; a bad command line (status 2) also says
// which help to read.
func TestBadInput(t *testing.T) {
	recordInputs(t)
	dir := scratchDir
	write := func(name string, data []byte, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, data, mode))
		require.NoError(t, os.Chmod(p, mode)) // not subject to umask
		return p
	}
	garbage := pseudoRandom(4096, 3)
	garbage[0], garbage[1] = 0x00, 0xff // neither "\x7fELF" nor "#!"
	hello, err := os.ReadFile(prog("hello"))
	require.NoError(t, err)

	subdir := filepath.Join(dir, "a-directory")
	require.NoError(t, os.Mkdir(subdir, 0o755))

	run := func(program string) []string { return runArgs(nil, baseEnv, program, nil) }
	cases := []struct {
		name string
		argv []string
		want int
	}{
		{"missing-absolute-path", run(filepath.Join(dir, "does-not-exist")), 127},
		{"missing-on-PATH", run("ringbox-e2e-no-such-program"), 127},
		{"garbage-binary", run(write("garbage", garbage, 0o755)), 126},
		{"empty-file", run(write("empty", nil, 0o755)), 126},
		{"elf32-i386", run(write("elf32", elf32I386(), 0o755)), 126},
		{"elf64-aarch64", run(write("elf-aarch64", elf64AArch64(), 0o755)), 126},
		{"directory", run(subdir), 126},
		{"no-exec-permission", run(write("hello-noexec", hello, 0o644)), 126},
		{"unknown-run-flag", []string{ringboxBin, "run", "--no-such-flag", "--", prog("hello")}, 2},
		{"unknown-global-flag", []string{ringboxBin, "--no-such-flag", "run", "--", prog("hello")}, 2},
		{"unknown-short-flag", []string{ringboxBin, "run", "-Z", prog("hello")}, 2},
		{"bad-publish", []string{ringboxBin, "run", "-p", "8080", prog("hello")}, 2},
		{"allow-net-without-net", []string{ringboxBin, "run", "--allow-net", "1.2.3.4", prog("hello")}, 2},
		{"single-dash-long-flag", []string{ringboxBin, "run", "-strace", prog("hello")}, 2},
		{"flag-without-value", []string{ringboxBin, "run", "--workdir"}, 2},
		{"bad-memory", []string{ringboxBin, "run", "-m", "lots", prog("hello")}, 2},
		{"bad-platform", []string{ringboxBin, "run", "--platform=qemu", prog("hello")}, 2},
		{"bad-env", []string{ringboxBin, "run", "-e", "=x", prog("hello")}, 2},
		{"bad-mount", []string{ringboxBin, "run", "-v", "nodst", prog("hello")}, 2},
		{"bad-user", []string{ringboxBin, "run", "--user", "root", prog("hello")}, 2},
		{"missing-env-file", []string{ringboxBin, "run", "--env-file", filepath.Join(dir, "no-such.env"), prog("hello")}, 2},
		{"missing-program", []string{ringboxBin, "run", "--strace", "--"}, 2},
		{"no-command", []string{ringboxBin}, 2},
		{"unknown-command", []string{ringboxBin, "rnu"}, 2},
		{"help-unknown-command", []string{ringboxBin, "help", "rnu"}, 2},
		{"version-argument", []string{ringboxBin, "version", "now"}, 2},
		{"completion-fish", []string{ringboxBin, "completion", "fish"}, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := spec{Path: ringboxBin, Argv: tc.argv, InheritEnv: true}
			r := execute(t, s)
			if checkSandboxStatus(t, r) {
				assert.Equal(t, tc.want, r.Code, "exit status")
				msg := strings.TrimSuffix(string(r.Stderr), "\n")
				assert.NotEmpty(t, strings.TrimSpace(msg), "stderr must carry an error message")
				assert.NotContains(t, msg, "\n", "stderr must be exactly one line")
				if tc.want == 2 {
					assert.Regexp(t, `see 'ringbox( [a-z]+)? --help'$`, msg, "a usage error names the help to read")
				}
			}
			if t.Failed() {
				logRun(t, "ringbox", s, r)
				t.Logf("stdout:\n%s", indent(tail(r.Stdout, 4096)))
			}
		})
	}
}

// elf32I386 returns a complete static i386 executable that calls exit(0)
// through int $0x80. ringbox only runs 64-bit programs.
func elf32I386() []byte {
	const base = 0x08048000
	code := []byte{0xb8, 0x01, 0, 0, 0, 0x31, 0xdb, 0xcd, 0x80} // mov $1,%eax; xor %ebx,%ebx; int $0x80
	hdrSize, phSize := 52, 32
	total := uint32(hdrSize + phSize + len(code))
	var b bytes.Buffer
	h := elf.Header32{
		Type: uint16(elf.ET_EXEC), Machine: uint16(elf.EM_386), Version: uint32(elf.EV_CURRENT),
		Entry: base + uint32(hdrSize+phSize), Phoff: uint32(hdrSize),
		Ehsize: uint16(hdrSize), Phentsize: uint16(phSize), Phnum: 1, Shentsize: 40,
	}
	copy(h.Ident[:], elf.ELFMAG)
	h.Ident[elf.EI_CLASS] = byte(elf.ELFCLASS32)
	h.Ident[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	h.Ident[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	p := elf.Prog32{Type: uint32(elf.PT_LOAD), Vaddr: base, Paddr: base, Filesz: total, Memsz: total,
		Flags: uint32(elf.PF_R | elf.PF_X), Align: 0x1000}
	_ = binary.Write(&b, binary.LittleEndian, &h)
	_ = binary.Write(&b, binary.LittleEndian, &p)
	b.Write(code)
	return b.Bytes()
}

// elf64AArch64 returns a complete static aarch64 executable that calls
// exit(0); a 64-bit ELF for the wrong machine.
func elf64AArch64() []byte {
	const base = 0x400000
	code := []byte{
		0x00, 0x00, 0x80, 0xd2, // mov x0, #0
		0xa8, 0x0b, 0x80, 0xd2, // mov x8, #93
		0x01, 0x00, 0x00, 0xd4, // svc #0
	}
	hdrSize, phSize := 64, 56
	total := uint64(hdrSize + phSize + len(code))
	var b bytes.Buffer
	h := elf.Header64{
		Type: uint16(elf.ET_EXEC), Machine: uint16(elf.EM_AARCH64), Version: uint32(elf.EV_CURRENT),
		Entry: base + uint64(hdrSize+phSize), Phoff: uint64(hdrSize),
		Ehsize: uint16(hdrSize), Phentsize: uint16(phSize), Phnum: 1, Shentsize: 64,
	}
	copy(h.Ident[:], elf.ELFMAG)
	h.Ident[elf.EI_CLASS] = byte(elf.ELFCLASS64)
	h.Ident[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	h.Ident[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	p := elf.Prog64{Type: uint32(elf.PT_LOAD), Vaddr: base, Paddr: base, Filesz: total, Memsz: total,
		Flags: uint32(elf.PF_R | elf.PF_X), Align: 0x1000}
	_ = binary.Write(&b, binary.LittleEndian, &h)
	_ = binary.Write(&b, binary.LittleEndian, &p)
	b.Write(code)
	return b.Bytes()
}

// TestVersion: `ringbox version` succeeds and names the backend.
func TestVersion(t *testing.T) {
	recordInputs(t)
	t.Parallel()
	s := spec{Path: ringboxBin, Argv: []string{ringboxBin, "version"}, InheritEnv: true}
	r := execute(t, s)
	if checkSandboxStatus(t, r) {
		assert.Equal(t, 0, r.Code, "exit status")
		out := strings.ToLower(string(r.Stdout) + string(r.Stderr))
		assert.True(t, strings.Contains(out, "pvm") || strings.Contains(out, "x86"),
			"version output should mention the backend (pvm or x86), got %q", out)
	}
	if t.Failed() {
		logRun(t, "ringbox", s, r)
	}
}

// firstLine is an io.Writer that delivers the first line written to it on
// the line channel; String is all that was written.
type firstLine struct {
	mu   sync.Mutex
	buf  []byte
	sent bool
	line chan string
}

func newFirstLine() *firstLine { return &firstLine{line: make(chan string, 1)} }

func (f *firstLine) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.buf = append(f.buf, p...)
	if !f.sent {
		if i := bytes.IndexByte(f.buf, '\n'); i >= 0 {
			f.line <- string(f.buf[:i+1])
			f.sent = true
		}
	}
	return len(p), nil
}

func (f *firstLine) String() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return string(f.buf)
}

// syncBuffer is a bytes.Buffer that a command writes to while the test
// reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestSignalForwarding sends a signal to ringbox while the sandboxed program
// blocks in pause(); the program must die of it and ringbox must exit
// promptly with 128+n.
func TestSignalForwarding(t *testing.T) {
	recordInputs(t)
	for _, tc := range []struct {
		name string
		sig  syscall.Signal
	}{{"SIGINT", syscall.SIGINT}, {"SIGTERM", syscall.SIGTERM}, {"SIGUSR1", syscall.SIGUSR1}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := sandboxed(nil, baseEnv, prog("sleeper"), nil, nil)
			ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
			defer cancel()
			cmd := exec.CommandContext(ctx, s.Path)
			cmd.Args = s.Argv
			cmd.Env = s.environ()
			cmd.Dir = t.TempDir()
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			stdout := newFirstLine()
			cmd.Stdout = stdout
			cmd.WaitDelay = 5 * time.Second
			require.NoError(t, cmd.Start(), "starting %s", s)
			done := make(chan struct{})
			go func() {
				_ = cmd.Wait()
				close(done)
			}()

			fail := func(format string, args ...any) {
				_ = cmd.Process.Kill()
				<-done
				t.Fatalf("%s\nringbox stderr:\n%s\ncommand: %s", fmt.Sprintf(format, args...), indent(stderr.String()), s)
			}
			select {
			case line := <-stdout.line:
				if line != "ready\n" {
					fail("sleeper printed %q, want \"ready\\n\"", line)
				}
			case <-done:
				code, sig := status(cmd.ProcessState)
				fail("ringbox exited (status %d, signal %d) before the sleeper reported ready", code, sig)
			case <-ctx.Done():
				fail("sleeper did not report ready within %v", runTimeout)
			}

			sent := time.Now()
			require.NoError(t, cmd.Process.Signal(tc.sig))
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				fail("ringbox did not exit within 5s of %v", tc.sig)
			}
			elapsed := time.Since(sent)
			code, sig := status(cmd.ProcessState)
			r := result{Code: code, Signal: sig, Elapsed: elapsed, Stderr: stderr.Bytes(), TimedOut: ctx.Err() != nil}
			if checkSandboxStatus(t, r) {
				assert.Equal(t, 128+int(tc.sig), code, "exit status after %v", tc.sig)
			}
			assert.Less(t, elapsed, 5*time.Second, "ringbox must exit promptly after %v", tc.sig)
			if t.Failed() {
				logRun(t, "ringbox", s, r)
			}
		})
	}
}
