package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"ringbox/guestkernel/kernel"
	"syscall"

	"golang.org/x/sys/unix"
)

// `ringbox exec`: another process in a running container's sandbox. The
// sandbox process listens on ROOT/ID/exec.sock (bound before it confines
// itself); a request is one message: the process as JSON (the OCI
// process object's args, env, cwd, user) with the caller's stdin, stdout
// and stderr attached (SCM_RIGHTS). The sandbox starts the process in its
// kernel and answers with its exit status once it ends.

// execRequest is what exec sends.
type execRequest struct {
	Args []string `json:"args"`
	Env  []string `json:"env"`
	Cwd  string   `json:"cwd"`
	UID  uint32   `json:"uid"`
	GID  uint32   `json:"gid"`
	// Groups and Caps: the process's supplementary groups and capability
	// sets (nil: by its user).
	Groups []uint32        `json:"groups,omitempty"`
	Caps   *kernel.CapSets `json:"caps,omitempty"`
	// Terminal: the descriptors are a host terminal, which the sandbox
	// joins to a sandbox pty of the process's own (exec -t).
	Terminal bool `json:"terminal,omitempty"`
	// NoNewPrivs is the process's noNewPrivileges.
	NoNewPrivs bool `json:"noNewPrivs,omitempty"`
}

// execReply is what the sandbox answers.
type execReply struct {
	Status int    `json:"status"`
	Error  string `json:"error,omitempty"`
}

// maxExecRequest bounds a request (arguments and environment).
const maxExecRequest = 1 << 20

func listenExec(dir string) (*net.UnixListener, error) {
	name, done, err := execSockPath(dir)
	if err != nil {
		return nil, fmt.Errorf("exec socket: %w", err)
	}
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: name, Net: "unix"})
	done()
	if err != nil {
		return nil, fmt.Errorf("exec socket: %w", err)
	}
	l.SetUnlinkOnClose(false) // the root is empty by then; delete removes it
	return l, nil
}

// execSockPath is the name to bind or dial dir's exec.sock by: the path,
// or, when it is too long for a socket address (108 bytes: Docker's exec
// root under a long directory, with 64-character IDs), the same file
// through an O_PATH descriptor of dir, /proc/self/fd/N/exec.sock. done
// closes that descriptor once the call is made.
func execSockPath(dir string) (name string, done func(), err error) {
	name = filepath.Join(dir, "exec.sock")
	if len(name) < len(unix.RawSockaddrUnix{}.Path) {
		return name, func() {}, nil
	}
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", dir, err)
	}
	return fmt.Sprintf("/proc/self/fd/%d/exec.sock", fd), func() { unix.Close(fd) }, nil
}

// serveExec answers exec requests until l is closed; spawn runs one
// process with the given host descriptors as its 0, 1, 2 and returns its
// status once it has ended.
func serveExec(l *net.UnixListener, spawn func(execRequest, []int) (int, error)) {
	for {
		c, err := l.AcceptUnix()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			reply := handleExec(c, spawn)
			b, _ := json.Marshal(reply)
			c.Write(b)
		}()
	}
}

func handleExec(c *net.UnixConn, spawn func(execRequest, []int) (int, error)) execReply {
	buf := make([]byte, maxExecRequest)
	oob := make([]byte, unix.CmsgSpace(3*4))
	n, oobn, _, _, err := c.ReadMsgUnix(buf, oob)
	if err != nil {
		return execReply{Status: exitSandbox, Error: err.Error()}
	}
	var fds []int
	if msgs, err := unix.ParseSocketControlMessage(oob[:oobn]); err == nil {
		for _, m := range msgs {
			if got, err := unix.ParseUnixRights(&m); err == nil {
				fds = append(fds, got...)
			}
		}
	}
	defer func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}()
	var req execRequest
	if err := json.Unmarshal(buf[:n], &req); err != nil {
		return execReply{Status: exitSandbox, Error: "bad request: " + err.Error()}
	}
	if len(req.Args) == 0 {
		return execReply{Status: exitSandbox, Error: "no args"}
	}
	st, err := spawn(req, fds)
	if err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			return execReply{Status: ee.status, Error: ee.msg}
		}
		return execReply{Status: exitSandbox, Error: err.Error()}
	}
	return execReply{Status: st}
}

// ociExec is `ringbox exec [--process FILE] [-d] [--pid-file F] ID
// [ARGS...]`. With -d (what the runc shim passes) it returns at once; a
// detached ringbox exec, whose PID goes to the pid file, waits for the
// process and exits with its status, for the shim to reap.
func ociExec(root, dir, id string, flags map[string]string, args []string) error {
	s, err := ociLoad(dir)
	if err != nil {
		return err
	}
	if s.Status != "running" {
		return fmt.Errorf("container %s is %s, not running", id, s.Status)
	}
	_, d1 := flags["d"]
	_, d2 := flags["detach"]
	if d1 || d2 {
		a := []string{"--root", root, "exec"}
		if p := flags["process"]; p != "" {
			// The caller may remove its file once we return: the
			// detached exec reads a copy of its own.
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			f, err := os.CreateTemp(dir, "process-*.json")
			if err != nil {
				return err
			}
			_, err = f.Write(b)
			f.Close()
			if err != nil {
				return err
			}
			a = append(a, "--process", f.Name(), "--process-remove")
		}
		if _, ok := flags["tty"]; ok {
			a = append(a, "--tty")
		} else if _, ok := flags["t"]; ok {
			a = append(a, "--tty")
		}
		if c := flags["console-socket"]; c != "" {
			a = append(a, "--console-socket", c)
		}
		a = append(append(a, id), args...)
		cmd := exec.Command("/proc/self/exe", a...)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("container %s: exec: %w", id, err)
		}
		if pf := flags["pid-file"]; pf != "" {
			if err := os.WriteFile(pf, []byte(fmt.Sprint(cmd.Process.Pid)), 0o644); err != nil {
				return err
			}
		}
		return nil
	}
	_, t1 := flags["tty"]
	_, t2 := flags["t"]
	req := execRequest{Args: args, Cwd: "/", Terminal: t1 || t2}
	if p := flags["process"]; p != "" {
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if _, ok := flags["process-remove"]; ok {
			os.Remove(p)
		}
		var proc ociProcess
		if err := json.Unmarshal(b, &proc); err != nil {
			return fmt.Errorf("--process %s: %w", p, err)
		}
		req = execRequest{Args: proc.Args, Env: proc.Env, Cwd: proc.Cwd, UID: proc.User.UID, GID: proc.User.GID,
			Groups: proc.User.AdditionalGids, Terminal: proc.Terminal || req.Terminal, NoNewPrivs: proc.NoNewPrivileges}
		if proc.Capabilities != nil {
			caps, _ := proc.Capabilities.sets()
			req.Caps = &caps
		}
	} else if spec, err := readOCISpec(s.Bundle); err == nil {
		// As the container's own process, but these args.
		req.Env, req.Cwd, req.UID, req.GID = spec.Process.Env, spec.Process.Cwd, spec.Process.User.UID, spec.Process.User.GID
		req.NoNewPrivs = spec.Process.NoNewPrivileges
	}
	if len(req.Args) == 0 {
		return fail(exitUsage, "exec: nothing to run (args or --process)")
	}
	// The process's stdio: the caller's, or with a terminal a host pty
	// whose master goes over the console socket (as runc does), or the
	// caller's own terminal.
	stdio := []int{0, 1, 2}
	if console := flags["console-socket"]; console != "" {
		if !req.Terminal {
			return fail(exitUsage, "exec: --console-socket goes with a terminal (-t, or process.terminal)")
		}
		slave, err := ociConsole(console)
		if err != nil {
			return fail(exitSandbox, "exec: --console-socket %s: %v", console, err)
		}
		defer slave.Close()
		fd := int(slave.Fd())
		stdio = []int{fd, fd, fd}
	} else if req.Terminal {
		if _, err := unix.IoctlGetTermios(0, unix.TCGETS); err != nil {
			return fail(exitUsage, "exec: a terminal (-t) needs --console-socket or a terminal as stdin")
		}
	}
	name, done, err := execSockPath(dir)
	if err != nil {
		return fmt.Errorf("container %s: %w", id, err)
	}
	c, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: name, Net: "unix"})
	done()
	if err != nil {
		return fmt.Errorf("container %s: exec: %w", id, err)
	}
	defer c.Close()
	b, err := json.Marshal(req)
	if err != nil {
		return err
	}
	if _, _, err := c.WriteMsgUnix(b, unix.UnixRights(stdio...), nil); err != nil {
		return fmt.Errorf("container %s: exec: %w", id, err)
	}
	if pf := flags["pid-file"]; pf != "" {
		os.WriteFile(pf, []byte(fmt.Sprint(os.Getpid())), 0o644)
	}
	var reply execReply
	if err := json.NewDecoder(c).Decode(&reply); err != nil {
		return fmt.Errorf("container %s: exec: no answer: %w", id, err)
	}
	if reply.Error != "" {
		fmt.Fprintf(os.Stderr, "ringbox: exec: %s\n", reply.Error)
	}
	if reply.Status != 0 {
		return &exitError{status: reply.Status}
	}
	return nil
}
