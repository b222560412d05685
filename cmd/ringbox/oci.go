package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// The OCI runtime commands (the subset containerd's runc shim and Docker
// call): create, start, state, kill, delete, run, ps, spec, features,
// with runc's global flags before the command. A container is one
// sandbox: `create` starts a detached `ringbox` sandbox process that sets
// everything up and waits on ROOT/ID/exec.fifo; `start` lets it run the
// program. The state lives in ROOT/ID/state.json; a container whose
// sandbox process is gone is "stopped", whoever killed it.

// ociCommands are the commands dispatch hands to ociMain.
var ociCommands = map[string]bool{"create": true, "start": true, "state": true, "kill": true, "delete": true,
	"run": false, "exec": true, "ps": true, "spec": true, "features": true, "oci-init": true,
	"pause": true, "resume": true, "list": true, "update": true}

// ociGlobal are runc's global flags.
type ociGlobal struct {
	root, log, logFormat string
	systemdCgroup, debug bool
}

// isOCICommandLine reports whether args are an OCI runtime call: a command
// only the runtime has, or any command after runc's global flags.
func isOCICommandLine(args []string) bool {
	if len(args) == 0 {
		return false
	}
	if strings.HasPrefix(args[0], "--root") || strings.HasPrefix(args[0], "--log") || strings.HasPrefix(args[0], "--systemd-cgroup") {
		return true
	}
	if args[0] == "run" {
		// OCI's run takes a bundle; ringbox's own run never does.
		for _, a := range args[1:] {
			if a == "--" {
				break
			}
			if a == "--bundle" || a == "-b" || strings.HasPrefix(a, "--bundle=") {
				return true
			}
		}
		return false
	}
	return ociCommands[args[0]]
}

// ociMain runs one OCI runtime command. Errors also go to --log, where a
// shim reads them (a JSON line with --log-format json, as runc writes).
func ociMain(args []string) error {
	g := ociGlobal{root: "/run/ringbox", logFormat: "text"}
	err := ociCommand(&g, args)
	if err != nil && g.log != "" {
		msg := err.Error()
		var ee *exitError
		if errors.As(err, &ee) && ee.msg == "" {
			msg = ""
		}
		if msg != "" {
			if f, ferr := os.OpenFile(g.log, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600); ferr == nil {
				if g.logFormat == "json" {
					b, _ := json.Marshal(map[string]string{"level": "error", "msg": "ringbox: " + oneLine(msg), "time": time.Now().UTC().Format(time.RFC3339Nano)})
					f.Write(append(b, '\n'))
				} else {
					fmt.Fprintf(f, "ringbox: %s\n", oneLine(msg))
				}
				f.Close()
			}
		}
	}
	return err
}

func ociCommand(gp *ociGlobal, args []string) error {
	g := *gp
	defer func() { *gp = g }()
	for len(args) > 0 && strings.HasPrefix(args[0], "--") {
		name, val, hasVal := strings.Cut(strings.TrimPrefix(args[0], "--"), "=")
		takes := name == "root" || name == "log" || name == "log-format" || name == "criu" || name == "rootless"
		if takes && !hasVal {
			if len(args) < 2 {
				return fail(exitUsage, "--%s needs a value", name)
			}
			val, args = args[1], args[1:]
		}
		args = args[1:]
		switch name {
		case "root":
			g.root = val
		case "log":
			g.log = val
		case "log-format":
			g.logFormat = val
		case "systemd-cgroup":
			g.systemdCgroup = true // cgroupsPath is SLICE:PREFIX:NAME
		case "debug":
			g.debug = true
		case "criu", "rootless":
		default:
			return fail(exitUsage, "unknown global flag --%s", name)
		}
	}
	if len(args) == 0 {
		return fail(exitUsage, "missing command; see 'ringbox --help'")
	}
	cmd, rest := args[0], args[1:]
	flags, pos, err := ociFlags(rest)
	if err != nil {
		return err
	}
	id := ""
	if len(pos) > 0 {
		id = pos[0]
	}
	needID := cmd != "spec" && cmd != "features" && cmd != "list"
	if needID && !ociValidID(id) {
		return fail(exitUsage, "%s: a container ID is needed (letters, digits, and _ + - .), got %s", cmd, quoteArg(id))
	}
	dir := filepath.Join(g.root, id)
	switch cmd {
	case "spec":
		return ociSpecCmd(flags["bundle"])
	case "features":
		return ociPrintJSON(ociFeatures())
	case "create":
		_, err := ociCreate(g, dir, id, flags)
		return err
	case "run":
		exited, err := ociCreate(g, dir, id, flags)
		if err != nil {
			return err
		}
		if err := ociStart(dir); err != nil {
			// No container is left behind by run.
			if s, lerr := ociLoad(dir); lerr == nil && s.Pid > 0 {
				unix.Kill(s.Pid, unix.SIGKILL)
			}
			<-exited
			ociPoststop(dir)
			ociRemove(dir)
			return err
		}
		st := <-exited
		ociPoststop(dir)
		if err := ociRemove(dir); err != nil {
			return err
		}
		if st != 0 {
			return &exitError{status: st}
		}
		return nil
	case "start":
		return ociStart(dir)
	case "update":
		return ociUpdate(dir, id, flags)
	case "pause", "resume":
		return ociPause(dir, id, cmd == "pause")
	case "list":
		_, q1 := flags["q"]
		_, q2 := flags["quiet"]
		return ociList(g.root, flags["format"], q1 || q2)
	case "state":
		s, err := ociLoad(dir)
		if err != nil {
			return err
		}
		return ociPrintJSON(s)
	case "kill":
		sig := unix.SIGTERM
		if len(pos) > 1 {
			s, err := ociParseSignal(pos[1])
			if err != nil {
				return fail(exitUsage, "kill: %v", err)
			}
			sig = s
		}
		s, err := ociLoad(dir)
		if err != nil {
			return err
		}
		if s.Status == "stopped" {
			return fmt.Errorf("container %s is not running", id)
		}
		return unix.Kill(s.Pid, sig)
	case "delete":
		s, err := ociLoad(dir)
		if err != nil {
			if _, force := flags["force"]; force && errors.Is(err, os.ErrNotExist) {
				return nil
			}
			return err
		}
		if s.Status != "stopped" {
			if _, force := flags["force"]; !force {
				return fmt.Errorf("container %s is %s: stop it first, or delete --force", id, s.Status)
			}
			unix.Kill(s.Pid, unix.SIGKILL)
			for i := 0; i < 500 && ociAlive(s.Pid); i++ {
				time.Sleep(10 * time.Millisecond)
			}
		}
		ociPoststop(dir)
		return ociRemove(dir)
	case "ps":
		s, err := ociLoad(dir)
		if err != nil {
			return err
		}
		var pids []int
		if s.Status != "stopped" {
			pids = append(pids, s.Pid)
		}
		if flags["format"] == "json" {
			return ociPrintJSON(pids)
		}
		fmt.Println("PID")
		for _, p := range pids {
			fmt.Println(p)
		}
		return nil
	case "exec":
		return ociExec(g.root, dir, id, flags, pos[1:])
	case "oci-init":
		_, ownNetns := flags["own-netns"]
		return ociInit(flags["bundle"], dir, g.debug, ownNetns)
	}
	return fail(exitUsage, "unknown command %s", quoteArg(cmd))
}

// ociFlags splits a command's flags (--name value, --name=value, or a
// boolean), which come first, from its positional arguments.
func ociFlags(args []string) (map[string]string, []string, error) {
	flags := map[string]string{}
	var pos []string
	valued := map[string]bool{"bundle": true, "b": true, "pid-file": true, "console-socket": true, "format": true, "f": true, "process": true, "p": true,
		"resources": true, "r": true}
	for _, f := range ociUpdateValued {
		valued[f] = true
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return flags, append(pos, args[i+1:]...), nil
		}
		if !strings.HasPrefix(a, "-") || a == "-" || len(pos) > 0 {
			// Flags come before the ID; after it, all is arguments
			// (exec ID sh -c ...).
			pos = append(pos, a)
			continue
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if valued[name] && !hasVal {
			if i+1 >= len(args) {
				return nil, nil, fail(exitUsage, "-%s needs a value", name)
			}
			i++
			val = args[i]
		}
		switch name {
		case "b":
			name = "bundle"
		case "f":
			name = "format"
		case "r":
			name = "resources"
		}
		flags[name] = val
	}
	return flags, pos, nil
}

var ociIDPattern = regexp.MustCompile(`^[A-Za-z0-9_+.-]+$`)

func ociValidID(id string) bool {
	return len(id) <= 1024 && ociIDPattern.MatchString(id) && id != "." && id != ".."
}

// ociState is the OCI state document, as `state` prints it.
type ociState struct {
	OCIVersion  string            `json:"ociVersion"`
	ID          string            `json:"id"`
	Status      string            `json:"status"`
	Pid         int               `json:"pid,omitempty"`
	Bundle      string            `json:"bundle"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Created     string            `json:"created,omitempty"`
}

func ociLoad(dir string) (*ociState, error) {
	b, err := os.ReadFile(filepath.Join(dir, "state.json"))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("container %s does not exist: %w", filepath.Base(dir), os.ErrNotExist)
		}
		return nil, err
	}
	var s ociState
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("container %s: state: %w", filepath.Base(dir), err)
	}
	switch {
	case !ociAlive(s.Pid):
		s.Status, s.Pid = "stopped", 0
	case ociPaused(dir):
		s.Status = "paused"
	case ociStarted(dir):
		s.Status = "running"
	case fileExists(filepath.Join(dir, "creating")):
		s.Status = "creating"
	default:
		s.Status = "created"
	}
	return &s, nil
}

func ociSave(dir string, s *ociState) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, "state.json.tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, "state.json"))
}

// ociAlive reports whether the sandbox process pid still runs (a zombie
// does not).
func ociAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	st := procState(pid)
	return st != "" && st != "Z" && st != "X"
}

func ociStarted(dir string) bool { return fileExists(filepath.Join(dir, "started")) }

func fileExists(name string) bool {
	_, err := os.Stat(name)
	return err == nil
}

// ociCreate starts the sandbox process for bundle and waits until it is
// set up (or failed). The channel gets its exit status (as a shell's).
func ociCreate(g ociGlobal, dir, id string, flags map[string]string) (<-chan int, error) {
	bundle := flags["bundle"]
	if bundle == "" {
		bundle = "."
	}
	bundle, err := filepath.Abs(bundle)
	if err != nil {
		return nil, err
	}
	spec, err := readOCISpec(bundle)
	if err != nil {
		return nil, fail(exitSandbox, "%v", err)
	}
	if _, _, err := ociRunOpts(bundle, spec); err != nil {
		return nil, fail(exitSandbox, "bundle %s: %v", bundle, err)
	}
	if err := spec.Hooks.check(); err != nil {
		return nil, fail(exitSandbox, "bundle %s: config.json: %v", bundle, err)
	}
	console := flags["console-socket"]
	if spec.Process.Terminal != (console != "") {
		return nil, fail(exitSandbox, "process.terminal and --console-socket go together (terminal %v, console socket %q)", spec.Process.Terminal, console)
	}
	if err := os.MkdirAll(g.root, 0o711); err != nil {
		return nil, err
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("container %s already exists", id)
		}
		return nil, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	// "creating" until create returns (ociLoad).
	if err := os.WriteFile(filepath.Join(dir, "creating"), nil, 0o600); err != nil {
		cleanup()
		return nil, err
	}
	// The host group, before the sandbox process that starts in it.
	cg, note, err := ociMakeCgroup(g.systemdCgroup, spec, dir)
	if err != nil {
		cleanup()
		return nil, fail(exitSandbox, "container %s: %v", id, err)
	}
	if note != "" {
		fmt.Fprintf(os.Stderr, "ringbox: config.json: ignored: %s\n", note)
	}
	if cg != nil {
		cleanup = func() { ociRemove(dir) }
	}
	for _, f := range []string{"exec.fifo", "ready.fifo"} {
		if err := unix.Mkfifo(filepath.Join(dir, f), 0o600); err != nil {
			cleanup()
			return nil, err
		}
	}
	// Open the ready fifo first (nonblocking), so the sandbox's write
	// never waits for us.
	ready, err := os.OpenFile(filepath.Join(dir, "ready.fifo"), os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		cleanup()
		return nil, err
	}
	defer ready.Close()
	initArgs := []string{"--root", g.root}
	if g.debug {
		initArgs = append(initArgs, "--debug") // the sandbox's --debug
	}
	initArgs = append(initArgs, "oci-init", "--bundle", bundle)
	if spec.hookedNetns() {
		initArgs = append(initArgs, "--own-netns")
	}
	var slave, cgFD *os.File
	if console != "" {
		// A host pseudo-terminal: its master goes to the caller over the
		// console socket, its slave is the sandbox process's terminal,
		// which ringbox joins to the program's (as run -it does).
		if slave, err = ociConsole(console); err != nil {
			cleanup()
			return nil, fail(exitSandbox, "--console-socket %s: %v", console, err)
		}
		defer slave.Close()
	}
	if cgDir, ok := cg.Dir(); ok {
		if cgFD, err = os.Open(cgDir); err != nil {
			cleanup()
			return nil, fail(exitSandbox, "container %s: %v", id, err)
		}
		defer cgFD.Close()
	}
	build := func(intoCgroup bool) *exec.Cmd {
		cmd := exec.Command("/proc/self/exe", append(initArgs, id)...)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		if spec.hookedNetns() {
			// A new network namespace for the hooks to set up
			// (ocihooks.go): the sandbox process, the state's pid, is
			// its first member.
			cmd.SysProcAttr.Cloneflags = syscall.CLONE_NEWNET
		}
		if intoCgroup && cgFD != nil {
			// v2: clone3 starts it in the group (else it joins as its
			// first step, ociJoinCgroup).
			cmd.SysProcAttr.UseCgroupFD, cmd.SysProcAttr.CgroupFD = true, int(cgFD.Fd())
		}
		if slave != nil {
			cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
			cmd.SysProcAttr.Setctty, cmd.SysProcAttr.Ctty = true, 0
		}
		return cmd
	}
	cmd := build(true)
	err = cmd.Start()
	if err != nil && cgFD != nil && (errors.Is(err, syscall.ENOSYS) || errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.E2BIG)) {
		// A kernel before 5.7 has no CLONE_INTO_CGROUP.
		cmd = build(false)
		err = cmd.Start()
	}
	if err != nil {
		cleanup()
		if spec.hookedNetns() {
			return nil, fail(exitSandbox, "container %s: a network namespace for its hooks: %v", id, err)
		}
		return nil, err
	}
	pid := cmd.Process.Pid
	st := &ociState{OCIVersion: ociVersion, ID: id, Status: "creating", Pid: pid, Bundle: bundle,
		Annotations: spec.Annotations, Created: time.Now().UTC().Format(time.RFC3339Nano)}
	if err := ociSave(dir, st); err != nil {
		cmd.Process.Kill()
		cleanup()
		return nil, err
	}
	exited := make(chan int, 1)
	status := make(chan int, 1)
	go func() {
		cmd.Wait()
		ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
		st := ws.ExitStatus()
		if ws.Signaled() {
			st = 128 + int(ws.Signal())
		}
		exited <- st
		status <- st
	}()
	// Wait for "ok" from the sandbox process, or its end.
	buf := make([]byte, 2)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		n, _ := ready.Read(buf)
		if n > 0 {
			break
		}
		select {
		case code := <-exited:
			why, _ := os.ReadFile(filepath.Join(dir, "sandbox.err"))
			cleanup()
			return nil, fail(exitSandbox, "container %s: the sandbox process exited (%d) before it was set up: %s", id, code, oneLine(string(why)))
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cleanup()
			return nil, fail(exitSandbox, "container %s: the sandbox was not set up within 2 minutes", id)
		}
	}
	// The hooks, then the sysctls (after them, as runc: an interface's
	// names the eth0 a hook moved in). A failure stops the container and
	// runs its poststop hooks, as the spec's lifecycle has it.
	err = nil
	for _, h := range spec.Hooks.createHooks() {
		if err = h.run(h.kind, st); err != nil {
			break
		}
	}
	if err == nil {
		err = ociSysctls(spec, pid)
	}
	if err != nil {
		cmd.Process.Kill()
		<-status
		if spec.Hooks != nil {
			runPostHooks("poststop", spec.Hooks.Poststop, &ociState{OCIVersion: st.OCIVersion, ID: id, Status: "stopped",
				Bundle: bundle, Annotations: st.Annotations, Created: st.Created})
		}
		cleanup()
		return nil, fail(exitSandbox, "container %s: %v", id, err)
	}
	os.Remove(filepath.Join(dir, "creating"))
	if pf := flags["pid-file"]; pf != "" {
		if err := os.WriteFile(pf, []byte(strconv.Itoa(pid)), 0o644); err != nil {
			return nil, err
		}
	}
	return status, nil
}

// ociStart lets a created container's sandbox run its program.
func ociStart(dir string) error {
	s, err := ociLoad(dir)
	if err != nil {
		return err
	}
	if s.Status != "created" {
		return fmt.Errorf("container %s is %s, not created", s.ID, s.Status)
	}
	if err := os.WriteFile(filepath.Join(dir, "started"), nil, 0o600); err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(dir, "exec.fifo"), os.O_WRONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return fmt.Errorf("container %s: start: %w", s.ID, err)
	}
	defer f.Close()
	if _, err = f.Write([]byte{1}); err != nil {
		return err
	}
	// A failing poststart hook stops the container and fails start, as
	// the spec's lifecycle has it (runc kills it); delete then runs the
	// poststop hooks.
	s.Status = "running"
	for _, h := range ociBundleHooks(s.Bundle).poststart() {
		if err := h.run("poststart", s); err != nil {
			unix.Kill(s.Pid, unix.SIGKILL)
			return fmt.Errorf("container %s: %w", s.ID, err)
		}
	}
	return nil
}

// ociInit is the sandbox process of a container: `ringbox run` with the
// bundle's options, which reports ready on ready.fifo and waits on
// exec.fifo before the program starts (runCmd's ociGate).
func ociInit(bundle, dir string, debug, ownNetns bool) error {
	if err := ociJoinCgroup(dir); err != nil {
		return fail(exitSandbox, "%v", err)
	}
	spec, err := readOCISpec(bundle)
	if err != nil {
		return fail(exitSandbox, "%v", err)
	}
	o, ignored, err := ociRunOpts(bundle, spec)
	if err != nil {
		return fail(exitSandbox, "%v", err)
	}
	if os.Getenv("RINGBOX_CONFINED") != "" { // once: in the confined child
		for _, what := range ignored {
			fmt.Fprintf(os.Stderr, "ringbox: config.json: ignored: %s\n", what)
		}
	}
	if ownNetns != spec.hookedNetns() {
		// create decides; a config.json changed since must not put a
		// sandbox that allows every destination in the host's network.
		return fail(exitSandbox, "config.json changed since create: its network namespace")
	}
	o.ociDir = dir
	o.debug = debug
	err = runCmd(o)
	if err != nil && ociErrLog != nil {
		fmt.Fprintln(ociErrLog, err.Error())
	}
	return err
}

// ociErrLog is ROOT/ID/sandbox.err, opened before the sandbox confines
// itself: why a sandbox failed, for create to report.
var ociErrLog *os.File

// ociGate is a container's start gate, opened before ringbox confines
// itself (its root is empty afterwards).
type ociGate struct{ ready, exec *os.File }

func openOCIGate(dir string) (*ociGate, error) {
	ociErrLog, _ = os.OpenFile(filepath.Join(dir, "sandbox.err"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	ready, err := os.OpenFile(filepath.Join(dir, "ready.fifo"), os.O_WRONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("ready.fifo: %w", err)
	}
	// Read-write, so the open does not wait and a read waits for start.
	ex, err := os.OpenFile(filepath.Join(dir, "exec.fifo"), os.O_RDWR, 0)
	if err != nil {
		ready.Close()
		return nil, fmt.Errorf("exec.fifo: %w", err)
	}
	return &ociGate{ready, ex}, nil
}

// wait says the sandbox is set up, then blocks until `start`.
func (g *ociGate) wait() error {
	_, err := g.ready.Write([]byte("ok"))
	g.ready.Close()
	if err != nil {
		return fmt.Errorf("ready: %w", err)
	}
	b := make([]byte, 1)
	_, err = g.exec.Read(b)
	g.exec.Close()
	return err
}

// ociSpecCmd writes a default config.json (into --bundle, else here).
func ociSpecCmd(bundle string) error {
	if bundle == "" {
		bundle = "."
	}
	p := filepath.Join(bundle, "config.json")
	if _, err := os.Stat(p); err == nil {
		return fmt.Errorf("%s already exists", p)
	}
	b, err := json.MarshalIndent(ociDefaultSpec(), "", "\t")
	if err != nil {
		return err
	}
	return os.WriteFile(p, append(b, '\n'), 0o644)
}

func ociPrintJSON(v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	fmt.Println(string(b))
	return nil
}

// ociParseSignal reads a signal as a number, TERM or SIGTERM.
func ociParseSignal(s string) (unix.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil && n > 0 && n < 65 {
		return unix.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if sig := unix.SignalNum(name); sig != 0 {
		return sig, nil
	}
	return 0, fmt.Errorf("unknown signal %s", quoteArg(s))
}

// ociConsole makes a host pseudo-terminal, sends its master over the unix
// socket at path (SCM_RIGHTS, as runc does), and returns the slave.
func ociConsole(path string) (*os.File, error) {
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer m.Close()
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		return nil, err
	}
	n, err := unix.IoctlGetUint32(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		return nil, err
	}
	name := "/dev/pts/" + strconv.Itoa(int(n))
	slave, err := os.OpenFile(name, os.O_RDWR|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	c, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		slave.Close()
		return nil, err
	}
	defer c.Close()
	if _, _, err := c.WriteMsgUnix([]byte(name), unix.UnixRights(int(m.Fd())), nil); err != nil {
		slave.Close()
		return nil, err
	}
	return slave, nil
}
