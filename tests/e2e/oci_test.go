package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// ociBundle makes a bundle whose rootfs holds the named test programs in
// /bin, with process.args args.
func ociBundle(t *testing.T, args []string, progs ...string) string {
	t.Helper()
	b := t.TempDir()
	root := filepath.Join(b, "rootfs")
	for _, d := range []string{"bin", "tmp", "proc", "dev", "sys"} {
		require.NoError(t, os.MkdirAll(filepath.Join(root, d), 0o755))
	}
	for _, p := range progs {
		exe, err := os.ReadFile(prog(p))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(root, "bin", p), exe, 0o755))
	}
	spec := map[string]any{
		"ociVersion": "1.2.0",
		"process": map[string]any{
			"user": map[string]any{"uid": 0, "gid": 0},
			"args": args, "env": []string{"PATH=/bin", "OCI_TEST=1"}, "cwd": "/",
		},
		"root":        map[string]any{"path": "rootfs", "readonly": true},
		"hostname":    "oci-box",
		"annotations": map[string]string{"org.example": "yes"},
		"mounts":      []map[string]any{{"destination": "/proc", "type": "proc", "source": "proc"}, {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs"}},
		"linux": map[string]any{"resources": map[string]any{"memory": map[string]any{"limit": 512 << 20}, "pids": map[string]any{"limit": 64}},
			"namespaces": []map[string]any{{"type": "pid"}, {"type": "mount"}}},
	}
	js, err := json.Marshal(spec)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(b, "config.json"), js, 0o644))
	return b
}

// patchConfig reads bundle b's config.json, lets patch change it, and
// writes it back.
func patchConfig(t *testing.T, b string, patch func(spec map[string]any)) {
	t.Helper()
	path := filepath.Join(b, "config.json")
	js, err := os.ReadFile(path)
	require.NoError(t, err)
	var spec map[string]any
	require.NoError(t, json.Unmarshal(js, &spec))
	patch(spec)
	js, err = json.Marshal(spec)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, js, 0o644))
}

// oci runs `ringbox --root ROOT args...` and returns stdout and status.
func oci(t *testing.T, root string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(ringboxBin, append([]string{"--root", root}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	t.Logf("ringbox %v: status %d\n%s%s", args, code, out, stderr.String())
	return string(out), code
}

func ociStatus(t *testing.T, root, id string) map[string]any {
	t.Helper()
	out, code := oci(t, root, "state", id)
	require.Equal(t, 0, code)
	var st map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &st), "state must be JSON: %s", out)
	return st
}

// TestOCILifecycle (issue 14) drives the runtime CLI as containerd's runc
// shim does: create (the sandbox set up and waiting), state (valid OCI
// state JSON), start, kill, state stopped, delete (nothing left behind);
// run with an exit status; delete --force of a running container and
// delete after its sandbox process was SIGKILLed.
func TestOCILifecycle(t *testing.T) {
	recordInputs(t)
	root := t.TempDir()
	bundle := ociBundle(t, []string{"/bin/sleeper"}, "sleeper", "exitcode")
	pidFile := filepath.Join(t.TempDir(), "pid")

	// The sandbox process writes the program's output to create's stdout:
	// a file here, as a shim's fifo would be.
	outFile := filepath.Join(t.TempDir(), "out")
	f, err := os.Create(outFile)
	require.NoError(t, err)
	cmd := exec.Command(ringboxBin, "--root", root, "--log", "/dev/null", "--log-format", "json", "--systemd-cgroup",
		"create", "--bundle", bundle, "--pid-file", pidFile, "c1")
	cmd.Stdout, cmd.Stderr = f, f
	require.NoError(t, cmd.Run(), "create")
	f.Close()

	st := ociStatus(t, root, "c1")
	require.Equal(t, "created", st["status"])
	require.Equal(t, "c1", st["id"])
	require.Equal(t, bundle, st["bundle"])
	require.NotEmpty(t, st["ociVersion"])
	require.Equal(t, map[string]any{"org.example": "yes"}, st["annotations"])
	pidText, err := os.ReadFile(pidFile)
	require.NoError(t, err)
	require.Equal(t, strconv.Itoa(int(st["pid"].(float64))), string(pidText))
	out, _ := os.ReadFile(outFile)
	require.NotContains(t, string(out), "ready", "the program must not run before start")

	_, code := oci(t, root, "start", "c1")
	require.Equal(t, 0, code)
	require.Eventually(t, func() bool { b, _ := os.ReadFile(outFile); return strings.Contains(string(b), "ready") },
		time.Minute, 20*time.Millisecond, "the program runs after start")
	require.Equal(t, "running", ociStatus(t, root, "c1")["status"])
	_, code = oci(t, root, "create", "--bundle", bundle, "c1")
	require.NotEqual(t, 0, code, "a second container with the same ID")
	out2, code := oci(t, root, "ps", "--format", "json", "c1")
	require.Equal(t, 0, code)
	require.Contains(t, out2, string(pidText))

	// exec: more processes in the running sandbox, their own statuses.
	out4, code := oci(t, root, "exec", "c1", "/bin/exitcode", "5")
	require.Equal(t, 5, code)
	require.Contains(t, out4, "exiting with 5")
	proc := filepath.Join(t.TempDir(), "process.json")
	require.NoError(t, os.WriteFile(proc, []byte(`{"args":["/bin/exitcode","0"],"env":["PATH=/bin"],"cwd":"/tmp","user":{"uid":0,"gid":0}}`), 0o644))
	out5, code := oci(t, root, "exec", "--process", proc, "c1")
	require.Equal(t, 0, code)
	require.Contains(t, out5, "exiting with 0")
	require.Equal(t, "running", ociStatus(t, root, "c1")["status"], "the container's own process still runs")

	// pause: every host process of the container stopped, exec refused;
	// resume: it runs again, exec with it.
	_, code = oci(t, root, "pause", "c1")
	require.Equal(t, 0, code, "pause")
	require.Equal(t, "paused", ociStatus(t, root, "c1")["status"])
	sandboxPID, _ := strconv.Atoi(string(pidText))
	require.Equal(t, "T", hostProcState(t, sandboxPID), "the sandbox process is stopped")
	_, code = oci(t, root, "exec", "c1", "/bin/exitcode", "0")
	require.NotEqual(t, 0, code, "exec in a paused container")
	list, code := oci(t, root, "list", "--format", "json")
	require.Equal(t, 0, code)
	require.Contains(t, list, `"status":"paused"`)
	_, code = oci(t, root, "resume", "c1")
	require.Equal(t, 0, code, "resume")
	require.Equal(t, "running", ociStatus(t, root, "c1")["status"])
	require.NotEqual(t, "T", hostProcState(t, sandboxPID))
	out6, code := oci(t, root, "exec", "c1", "/bin/exitcode", "4")
	require.Equal(t, 4, code, "exec after resume")
	require.Contains(t, out6, "exiting with 4")

	// The program is its namespace's init and has no handler for
	// SIGTERM: only SIGKILL ends it (TestOCISignals).
	_, code = oci(t, root, "kill", "c1", "KILL")
	require.Equal(t, 0, code)
	require.Eventually(t, func() bool { return ociStatus(t, root, "c1")["status"] == "stopped" },
		time.Minute, 50*time.Millisecond)
	_, code = oci(t, root, "delete", "c1")
	require.Equal(t, 0, code)
	require.NoDirExists(t, filepath.Join(root, "c1"), "delete leaves no state")
	_, code = oci(t, root, "state", "c1")
	require.NotEqual(t, 0, code)

	// run: create + start in the foreground, the program's status.
	exitBundle := ociBundle(t, []string{"/bin/exitcode", "7"}, "exitcode")
	out3, code := oci(t, root, "run", "--bundle", exitBundle, "c2")
	require.Equal(t, 7, code)
	require.Contains(t, out3, "exiting with 7")
	require.NoDirExists(t, filepath.Join(root, "c2"))

	// delete --force of a running container.
	f2, _ := os.Create(filepath.Join(t.TempDir(), "out"))
	cmd = exec.Command(ringboxBin, "--root", root, "create", "--bundle", bundle, "c3")
	cmd.Stdout, cmd.Stderr = f2, f2
	require.NoError(t, cmd.Run())
	oci(t, root, "start", "c3")
	pid := int(ociStatus(t, root, "c3")["pid"].(float64))
	_, code = oci(t, root, "delete", "c3")
	require.NotEqual(t, 0, code, "delete of a running container needs --force")
	_, code = oci(t, root, "delete", "--force", "c3")
	require.Equal(t, 0, code)
	require.NoDirExists(t, filepath.Join(root, "c3"))
	require.Eventually(t, func() bool { return goneOrZombie(pid) }, 10*time.Second, 20*time.Millisecond)

	// A SIGKILLed sandbox process: stopped, and delete cleans up.
	cmd = exec.Command(ringboxBin, "--root", root, "create", "--bundle", bundle, "c4")
	cmd.Stdout, cmd.Stderr = f2, f2
	require.NoError(t, cmd.Run())
	pid = int(ociStatus(t, root, "c4")["pid"].(float64))
	require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
	require.Eventually(t, func() bool { return ociStatus(t, root, "c4")["status"] == "stopped" }, 10*time.Second, 20*time.Millisecond)
	_, code = oci(t, root, "delete", "c4")
	require.Equal(t, 0, code)
	ents, _ := os.ReadDir(root)
	require.Empty(t, ents, "nothing left under --root")
}

// TestOCISignals: a container's program is its PID namespace's init, as
// under runc. It gets the signals it handles (kill USR1, which ringbox
// passes on); those it has no handler for are dropped, from outside
// (kill TERM) and from its own children (SIGTERM, SIGKILL, SIGSTOP),
// but SIGKILL from outside ends it (docker stop of a program that
// ignores SIGTERM: 137 after the timeout).
func TestOCISignals(t *testing.T) {
	recordInputs(t)
	root := t.TempDir()
	bundle := ociBundle(t, []string{"/bin/nsinit"}, "nsinit")
	cmd := exec.Command(ringboxBin, "--root", root, "run", "--bundle", bundle, "s1")
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	done := make(chan struct{})
	defer func() {
		select {
		case <-done:
		default:
			cmd.Process.Kill()
			oci(t, root, "delete", "--force", "s1")
		}
	}()
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "alive\n") },
		time.Minute, 20*time.Millisecond, "output: %q", out.String())
	require.Equal(t, "pid 1\nalive\n", out.String(), "its children's SIGTERM, SIGKILL and SIGSTOP were dropped")

	_, code := oci(t, root, "kill", "s1", "USR1")
	require.Equal(t, 0, code)
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "usr1\n") },
		time.Minute, 20*time.Millisecond, "a handled signal arrives: %q", out.String())
	_, code = oci(t, root, "kill", "s1", "TERM")
	require.Equal(t, 0, code)
	_, code = oci(t, root, "kill", "s1", "USR1")
	require.Equal(t, 0, code)
	require.Eventually(t, func() bool { return strings.Count(out.String(), "usr1\n") == 2 },
		time.Minute, 20*time.Millisecond, "output: %q", out.String())
	_, code = oci(t, root, "kill", "s1", "KILL")
	require.Equal(t, 0, code)
	err := cmd.Wait()
	close(done)
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee)
	require.Equal(t, 128+9, ee.ExitCode(), "SIGKILL ended it, not the SIGTERM before: %q", out.String())
}

// TestOCISpecAndFeatures: spec writes a config.json ringbox accepts;
// features is JSON that names what is ignored.
func TestOCISpecAndFeatures(t *testing.T) {
	recordInputs(t)
	dir := t.TempDir()
	cmd := exec.Command(ringboxBin, "spec", "--bundle", dir)
	require.NoError(t, cmd.Run())
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	require.NoError(t, err)
	var spec map[string]any
	require.NoError(t, json.Unmarshal(b, &spec))
	require.Equal(t, "rootfs", spec["root"].(map[string]any)["path"])
	require.Error(t, exec.Command(ringboxBin, "spec", "--bundle", dir).Run(), "spec must not overwrite")
	out, err := exec.Command(ringboxBin, "features").Output()
	require.NoError(t, err)
	var feat map[string]any
	require.NoError(t, json.Unmarshal(out, &feat))
	require.Contains(t, feat["annotations"].(map[string]any)["dev.ringbox.ignored"], "hooks")
}

// goneOrZombie reports whether process pid has ended (a zombie whose
// parent is gone may wait a while for init to reap it).
func goneOrZombie(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return len(f) > 0 && f[0] == "Z"
}

// TestOCIConsole: process.terminal with --console-socket, as the shim
// runs `ctr run -t`: ringbox sends a pseudo-terminal's master over the
// socket, and the program's output comes out of it as a terminal's
// (ONLCR: "ready\r\n").
func TestOCIConsole(t *testing.T) {
	recordInputs(t)
	root := t.TempDir()
	bundle := ociBundle(t, []string{"/bin/sleeper"}, "sleeper", "ttyinfo")
	cfgPath := filepath.Join(bundle, "config.json")
	b, err := os.ReadFile(cfgPath)
	require.NoError(t, err)
	var cfg map[string]any
	require.NoError(t, json.Unmarshal(b, &cfg))
	cfg["process"].(map[string]any)["terminal"] = true
	b, _ = json.Marshal(cfg)
	require.NoError(t, os.WriteFile(cfgPath, b, 0o644))

	sock, got := consoleSocket(t)
	_, code := oci(t, root, "create", "--bundle", bundle, "--console-socket", sock, "tty1")
	require.Equal(t, 0, code)
	master := <-got
	require.NotNil(t, master, "no console master came over the socket")
	defer master.Close()
	_, code = oci(t, root, "start", "tty1")
	require.Equal(t, 0, code)
	out := readUntil(master, "ready\r\n", time.Minute)
	require.Contains(t, out, "ready\r\n", "the program's output through the terminal")

	// exec -t: another process with a terminal of its own, its master
	// over another console socket.
	sock2, got2 := consoleSocket(t)
	res := make(chan int, 1)
	go func() {
		_, code := oci(t, root, "exec", "-t", "--console-socket", sock2, "tty1", "/bin/ttyinfo")
		res <- code
	}()
	var m2 *os.File
	select {
	case m2 = <-got2:
	case <-time.After(time.Minute):
	}
	require.NotNil(t, m2, "no console master for exec -t")
	defer m2.Close()
	out = readUntil(m2, "ready\r\n", time.Minute)
	require.Contains(t, out, "tty 1 /dev/pts/N\r\n")
	require.Contains(t, out, "session leader 1, foreground 1\r\n")
	m2.Write([]byte("hello\n"))
	out = readUntil(m2, "got: hello\r\n", time.Minute)
	require.Contains(t, out, "hello\r\n", "the terminal echoes")
	require.Contains(t, out, "got: hello\r\n")
	select {
	case code := <-res:
		require.Equal(t, 3, code, "exec -t returns the process's status")
	case <-time.After(time.Minute):
		t.Fatal("exec -t did not return")
	}
	_, code = oci(t, root, "delete", "--force", "tty1")
	require.Equal(t, 0, code)
}

// consoleSocket listens for a console master (a runc-style console
// socket) and delivers the first one on got.
func consoleSocket(t *testing.T) (string, chan *os.File) {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "console.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	got := make(chan *os.File, 1)
	go func() {
		c, err := l.AcceptUnix()
		if err != nil {
			got <- nil
			return
		}
		defer c.Close()
		buf, oob := make([]byte, 256), make([]byte, unix.CmsgSpace(4))
		_, oobn, _, _, err := c.ReadMsgUnix(buf, oob)
		if err != nil {
			got <- nil
			return
		}
		msgs, _ := unix.ParseSocketControlMessage(oob[:oobn])
		for _, m := range msgs {
			if fds, err := unix.ParseUnixRights(&m); err == nil && len(fds) == 1 {
				// Nonblocking, so that reads can have deadlines.
				unix.SetNonblock(fds[0], true)
				got <- os.NewFile(uintptr(fds[0]), "console")
				return
			}
		}
		got <- nil
	}()
	return sock, got
}

// readUntil reads f until what it read contains want, or timeout passes,
// and returns what it read.
func readUntil(f *os.File, want string, timeout time.Duration) string {
	var out bytes.Buffer
	f.SetReadDeadline(time.Now().Add(timeout))
	buf := make([]byte, 256)
	for !strings.Contains(out.String(), want) {
		n, err := f.Read(buf)
		out.Write(buf[:max(n, 0)])
		if err != nil {
			break
		}
	}
	return out.String()
}

// netnsEcho starts, in a new network namespace of its own, a server on
// that namespace's 127.0.0.1:port that answers a line with "netns: " and
// the line; it returns the namespace's path.
func netnsEcho(t *testing.T, port int) string {
	t.Helper()
	script := fmt.Sprintf(`ip link set lo up || exit 1
exec python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", %d)); s.listen(); print("up", flush=True)
while True:
    c, _ = s.accept(); c.sendall(b"netns: " + c.makefile().readline().encode()); c.close()
'`, port)
	cmd := exec.Command("unshare", "-n", "sh", "-c", script)
	up := newFirstLine()
	cmd.Stdout = up
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	select {
	case line := <-up.line:
		require.Equal(t, "up\n", line)
	case <-time.After(time.Minute):
		t.Fatalf("the server in its network namespace did not start: %s", stderr.String())
	}
	return fmt.Sprintf("/proc/%d/ns/net", cmd.Process.Pid)
}

// TestOCINetworkNamespace (issue 14): a config.json naming a network
// namespace by path (a pod's) has the sandbox's NAT dial from that
// namespace: the container reaches a server that exists only there, at
// the gateway's address. Without the path (the host's network) the same
// address finds nothing.
func TestOCINetworkNamespace(t *testing.T) {
	recordInputs(t)
	if os.Getuid() != 0 {
		t.Skip("making a network namespace needs root")
	}
	const port = 47311
	ns := netnsEcho(t, port)
	root := t.TempDir()
	for _, c := range []struct {
		name, netns, want string
		code              int
	}{
		{"pod", ns, "reply: netns: hello\n", 0},
		{"host", "", "connect: ECONNREFUSED\n", 1},
	} {
		b := ociBundle(t, []string{"/bin/tcpget", "10.0.2.2", strconv.Itoa(port)}, "tcpget")
		patchConfig(t, b, func(spec map[string]any) {
			if c.netns != "" {
				linux := spec["linux"].(map[string]any)
				linux["namespaces"] = append(linux["namespaces"].([]any), map[string]any{"type": "network", "path": c.netns})
			}
		})
		out, code := oci(t, root, "run", "--bundle", b, "net-"+c.name)
		require.Equal(t, c.code, code, c.name)
		require.Equal(t, c.want, out, c.name)
	}
}

// hookScripts writes into dir the hooks TestOCIHooks runs: prestart
// records its state and starts, in the network namespace of the state's
// pid, a server on that namespace's 127.0.0.1:port (as Docker's
// libnetwork-setkey hook hands dockerd the namespace to fill); record
// writes its state to dir/$1.json.
func hookScripts(t *testing.T, dir string, port int) {
	t.Helper()
	server := fmt.Sprintf(`import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", %d)); s.listen(); print("up", flush=True)
while True:
    c, _ = s.accept(); c.sendall(b"hooked: " + c.makefile().readline().encode()); c.close()
`, port)
	prestart := `#!/bin/sh
state=$(cat)
printf '%s' "$state" > "$DIR/prestart.json"
pid=$(printf '%s' "$state" | python3 -c 'import json, sys; print(json.load(sys.stdin)["pid"])')
[ "$(readlink /proc/$pid/ns/net)" != "$(readlink /proc/self/ns/net)" ] && echo own > "$DIR/netns"
"$RB" --root "$ROOT" state hooked > "$DIR/during.json"
nsenter -t "$pid" -n sh -c 'ip link set lo up && exec python3 "$0"' "$DIR/server.py" > "$DIR/server.log" 2>&1 < /dev/null &
echo $! > "$DIR/server.pid"
for i in $(seq 300); do grep -q up "$DIR/server.log" && exit 0; sleep 0.1; done
echo "no server: $(cat "$DIR/server.log")"; exit 1
`
	record := "#!/bin/sh\ncat > \"$DIR/$1.json\"\n"
	for name, text := range map[string]string{"server.py": server, "prestart": prestart, "record": record} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(text), 0o755))
	}
}

// TestOCIHooks: config.json's hooks run with the container's state on
// stdin, prestart before the program with the sandbox process in a new
// network namespace of its own that the hook may fill (Docker's bridge
// network), and the sandbox's NAT dials from there: the program reaches
// a server that exists only in that namespace, at the gateway's address.
// poststart and poststop see "running" and "stopped"; a failing
// prestart hook fails create and leaves nothing behind. Without hooks a
// new network namespace is the loopback only.
func TestOCIHooks(t *testing.T) {
	recordInputs(t)
	if os.Getuid() != 0 {
		t.Skip("making a network namespace needs root")
	}
	const port = 47312
	dir := t.TempDir()
	hookScripts(t, dir, port)
	t.Cleanup(func() {
		if b, err := os.ReadFile(filepath.Join(dir, "server.pid")); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
	root := t.TempDir()
	env := []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "DIR=" + dir, "RB=" + ringboxBin, "ROOT=" + root}
	hook := func(name string, args ...string) map[string]any {
		return map[string]any{"path": filepath.Join(dir, name), "args": append([]string{name}, args...), "env": env, "timeout": 60}
	}
	bundle := func(hooks map[string]any) string {
		b := ociBundle(t, []string{"/bin/tcpget", "10.0.2.2", strconv.Itoa(port)}, "tcpget")
		patchConfig(t, b, func(spec map[string]any) {
			linux := spec["linux"].(map[string]any)
			linux["namespaces"] = append(linux["namespaces"].([]any), map[string]any{"type": "network"})
			if hooks != nil {
				spec["hooks"] = hooks
			}
		})
		return b
	}
	readState := func(name string) map[string]any {
		t.Helper()
		js, err := os.ReadFile(filepath.Join(dir, name+".json"))
		require.NoError(t, err, "hook %s did not run", name)
		var st map[string]any
		require.NoError(t, json.Unmarshal(js, &st), "hook %s's stdin: %s", name, js)
		return st
	}

	b := bundle(map[string]any{"prestart": []any{hook("prestart")}, "poststart": []any{hook("record", "poststart")},
		"poststop": []any{hook("record", "poststop")}})
	out, code := oci(t, root, "run", "--bundle", b, "hooked")
	require.Equal(t, 0, code)
	require.Equal(t, "reply: hooked: hello\n", out)
	pre, post, stop := readState("prestart"), readState("poststart"), readState("poststop")
	require.Equal(t, "creating", pre["status"])
	require.Equal(t, "hooked", pre["id"])
	require.Equal(t, b, pre["bundle"])
	require.NotZero(t, pre["pid"])
	require.Equal(t, "running", post["status"])
	require.Equal(t, pre["pid"], post["pid"])
	require.Equal(t, "stopped", stop["status"])
	require.Equal(t, "creating", readState("during")["status"], "the state while create's hooks run")
	require.NoDirExists(t, filepath.Join(root, "hooked"))
	ns, _ := os.ReadFile(filepath.Join(dir, "netns"))
	require.Equal(t, "own\n", string(ns), "the sandbox process has a network namespace of its own")
	if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
		c.Close()
		t.Fatal("the hook's server is in the host's network")
	}

	// No hooks: the new namespace is the loopback only.
	out, code = oci(t, root, "run", "--bundle", bundle(nil), "plain")
	require.Equal(t, 1, code)
	require.Equal(t, "connect: ENETUNREACH\n", out)

	// A failing prestart hook: create fails, its sandbox process is
	// killed, nothing is left.
	fails := hook("record", "failed")
	fails["path"], fails["args"] = "/bin/sh", []string{"sh", "-c", `cat > "$DIR/failed.json"; echo no bridge today; exit 3`}
	cmd := exec.Command(ringboxBin, "--root", root, "create", "--bundle", bundle(map[string]any{"createRuntime": []any{fails}}), "failing")
	msg, err := cmd.CombinedOutput()
	require.Error(t, err)
	require.Contains(t, string(msg), "hooks.createRuntime /bin/sh: exit status 3: no bridge today")
	pid := int(readState("failed")["pid"].(float64))
	require.Eventually(t, func() bool { return goneOrZombie(pid) }, 10*time.Second, 20*time.Millisecond)
	require.NoDirExists(t, filepath.Join(root, "failing"))

	// A failing poststart hook: the container is stopped, run fails and
	// leaves nothing; the poststop hooks still run.
	postFails := hook("record", "x")
	postFails["path"], postFails["args"] = "/bin/sh", []string{"sh", "-c", "cat > /dev/null; echo not today; exit 4"}
	cmd = exec.Command(ringboxBin, "--root", root, "run", "--bundle",
		bundle(map[string]any{"poststart": []any{postFails}, "poststop": []any{hook("record", "stopped-after")}}), "post-failing")
	msg, err = cmd.CombinedOutput()
	require.Error(t, err)
	require.Contains(t, string(msg), "hooks.poststart /bin/sh: exit status 4: not today")
	require.Equal(t, "stopped", readState("stopped-after")["status"])
	require.NoDirExists(t, filepath.Join(root, "post-failing"))
}

// TestOCIListenMirror: in a network namespace of the container's own (a
// pod's, by path), a port the program listens on is reachable there as a
// runc container's would be (a Service, a sidecar, Docker's port proxy):
// a listener on all addresses at every address of the namespace, one on
// the sandbox's loopback at the namespace's loopback only, a UDP socket
// bound to a port; the mirror goes with the program's socket.
func TestOCIListenMirror(t *testing.T) {
	recordInputs(t)
	if os.Getuid() != 0 {
		t.Skip("making a network namespace needs root")
	}
	holder := exec.Command("unshare", "-n", "sh", "-c", "ip link set lo up && ip addr add 10.99.0.1/32 dev lo && echo up && exec sleep 600")
	up := newFirstLine()
	holder.Stdout = up
	require.NoError(t, holder.Start())
	t.Cleanup(func() { holder.Process.Kill(); holder.Wait() })
	select {
	case <-up.line:
	case <-time.After(time.Minute):
		t.Fatal("no network namespace")
	}
	ns := fmt.Sprintf("/proc/%d/ns/net", holder.Process.Pid)
	root := t.TempDir()
	for _, c := range []struct {
		name, bind     string
		port           int
		refused, serve string // the namespace's addresses
		udp            bool
	}{
		{"any", "0.0.0.0", 47321, "", "10.99.0.1", false},
		{"loopback", "127.0.0.1", 47322, "10.99.0.1", "127.0.0.1", false},
		{"udp", "0.0.0.0", 47323, "", "10.99.0.1", true},
	} {
		get := func(addr string, port int) string {
			cmd := exec.Command("nsenter", "--net="+ns, prog("tcpget"), addr, strconv.Itoa(port))
			if c.udp {
				// One datagram; the answer, or what a closed port gives.
				cmd = exec.Command("nsenter", "--net="+ns, "python3", "-c", `import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(20)
s.connect((sys.argv[1], int(sys.argv[2])))
s.send(b"hello\n")
try:
    print("reply: " + s.recv(256).decode(), end="")
except ConnectionRefusedError:
    print("connect: ECONNREFUSED")
`, addr, strconv.Itoa(port))
			}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if _, ok := err.(*exec.ExitError); !ok {
				require.NoError(t, err)
			}
			if stderr.Len() > 0 {
				t.Logf("%s: the client's stderr: %s", c.name, stderr.String())
			}
			return string(out)
		}
		args := []string{"/bin/tcpserve", strconv.Itoa(c.port), c.bind}
		if c.udp {
			args = append(args, "udp")
		}
		b := ociBundle(t, args, "tcpserve")
		patchConfig(t, b, func(spec map[string]any) {
			linux := spec["linux"].(map[string]any)
			linux["namespaces"] = append(linux["namespaces"].([]any), map[string]any{"type": "network", "path": ns})
		})
		cmd := exec.Command(ringboxBin, "--root", root, "--debug", "run", "--bundle", b, "mirror-"+c.name)
		first := newFirstLine()
		var stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = first, &stderr
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("%s: the program's output:\n%s\nringbox's stderr:\n%s", c.name, first.String(), stderr.String())
			}
		})
		require.NoError(t, cmd.Start())
		select {
		case line := <-first.line:
			require.Equal(t, "listening\n", line, c.name)
		case <-time.After(time.Minute):
			t.Fatalf("%s: the program did not listen", c.name)
		}
		if c.refused != "" {
			require.Equal(t, "connect: ECONNREFUSED\n", get(c.refused, c.port), "%s: at %s", c.name, c.refused)
		}
		require.Equal(t, "reply: served: hello\n", get(c.serve, c.port), "%s: at %s", c.name, c.serve)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			require.NoError(t, err, c.name)
		case <-time.After(time.Minute):
			cmd.Process.Kill()
			t.Fatalf("%s: the container did not end", c.name)
		}
		require.Equal(t, "connect: ECONNREFUSED\n", get(c.serve, c.port), "%s: the mirror is gone with the listener", c.name)
	}
}

// TestOCIWritableRootfs (issue 14): a rootfs that is not read-only is
// written in place, as runc does (the snapshot keeps the container's
// changes); a read-only one refuses the write.
func TestOCIWritableRootfs(t *testing.T) {
	recordInputs(t)
	root := t.TempDir()
	for _, readonly := range []bool{false, true} {
		b := ociBundle(t, []string{"/bin/writeto", "/tmp-out.txt", "from the container"}, "writeto")
		patchConfig(t, b, func(spec map[string]any) {
			spec["root"] = map[string]any{"path": "rootfs", "readonly": readonly}
		})
		out, code := oci(t, root, "run", "--bundle", b, fmt.Sprintf("rw-%v", readonly))
		got, err := os.ReadFile(filepath.Join(b, "rootfs", "tmp-out.txt"))
		if readonly {
			require.Equal(t, 1, code)
			require.Equal(t, "open: EROFS\n", out)
			require.True(t, os.IsNotExist(err), "nothing written to a read-only rootfs")
			continue
		}
		require.Equal(t, 0, code)
		require.Equal(t, "wrote /tmp-out.txt\n", out)
		require.NoError(t, err, "the write lands in the bundle's rootfs")
		require.Equal(t, "from the container\n", string(got))
	}
}

// TestOCIMountPoints: mounts whose destination the rootfs lacks are made
// in it, as runc makes them (Docker's /etc/hosts is a file bind mount, a
// volume's directory may be new), and a file bind mount shows the host
// file; a read-only rootfs cannot have them made: those mounts are
// ignored with a note, the rest of the container runs.
func TestOCIMountPoints(t *testing.T) {
	recordInputs(t)
	root := t.TempDir()
	host := t.TempDir()
	hosts := filepath.Join(host, "hosts")
	require.NoError(t, os.WriteFile(hosts, []byte("127.0.0.1 localhost\n"), 0o644))
	vol := filepath.Join(host, "vol")
	require.NoError(t, os.Mkdir(vol, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(vol, "f"), []byte("volume\n"), 0o644))
	// Left out with a note, the container still runs: a mount point
	// under the sandbox's own /dev (Kubernetes's /dev/termination-log),
	// and a host socket (docker.sock).
	termLog := filepath.Join(host, "termination-log")
	require.NoError(t, os.WriteFile(termLog, nil, 0o644))
	sock := filepath.Join(host, "s.sock")
	ln, err := net.Listen("unix", sock)
	require.NoError(t, err)
	defer ln.Close()
	for _, readonly := range []bool{false, true} {
		b := ociBundle(t, []string{"/bin/catfiles", "/etc/hosts", "/srv/vol/f"}, "catfiles")
		patchConfig(t, b, func(spec map[string]any) {
			spec["root"] = map[string]any{"path": "rootfs", "readonly": readonly}
			spec["mounts"] = append(spec["mounts"].([]any),
				map[string]any{"destination": "/etc/hosts", "type": "bind", "source": hosts, "options": []string{"rbind", "ro"}},
				map[string]any{"destination": "/srv/vol", "type": "bind", "source": vol, "options": []string{"rbind", "rw"}},
				map[string]any{"destination": "/dev/termination-log", "type": "bind", "source": termLog, "options": []string{"rbind", "rw"}},
				map[string]any{"destination": "/run/s.sock", "type": "bind", "source": sock, "options": []string{"rbind", "rw"}})
		})
		cmd := exec.Command(ringboxBin, "--root", root, "run", "--bundle", b, fmt.Sprintf("mp-%v", readonly))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, _ := cmd.Output()
		if readonly {
			require.Equal(t, 1, cmd.ProcessState.ExitCode(), "stderr: %s", stderr.String())
			require.Equal(t, "/etc/hosts: ENOENT\n/srv/vol/f: ENOENT\n", string(out))
			require.Contains(t, stderr.String(), "ignored: mounts[/etc/hosts]: no mount point can be made there")
			require.NoFileExists(t, filepath.Join(b, "rootfs", "etc", "hosts"))
			continue
		}
		require.Equal(t, 0, cmd.ProcessState.ExitCode(), "stderr: %s", stderr.String())
		require.Equal(t, "/etc/hosts: 127.0.0.1 localhost\n/srv/vol/f: volume\n", string(out))
		require.Contains(t, stderr.String(), "ignored: mounts[/dev/termination-log]: no mount point can be made there")
		require.Contains(t, stderr.String(), "ignored: mounts[/run/s.sock]: the source is a socket")
		st, err := os.Stat(filepath.Join(b, "rootfs", "etc", "hosts"))
		require.NoError(t, err, "the mount point is made in the rootfs, as runc makes it")
		require.True(t, st.Mode().IsRegular() && st.Size() == 0, "an empty file: %v", st.Mode())
		require.DirExists(t, filepath.Join(b, "rootfs", "srv", "vol"))
	}
}

// TestOCIMountOptions: an OCI config's tmpfs options are applied as
// runc's kernel would: /dev/shm's size (Docker's --shm-size), a tmpfs's
// mode and noexec; the rootfs is not nosuid (set-user-ID programs in an
// image work as under runc), a bind's options are its own.
func TestOCIMountOptions(t *testing.T) {
	recordInputs(t)
	root := t.TempDir()
	vol := t.TempDir()
	b := ociBundle(t, []string{"/bin/catfiles", "/proc/self/mounts"}, "catfiles")
	for _, d := range []string{"cache", "vol"} {
		require.NoError(t, os.Mkdir(filepath.Join(b, "rootfs", d), 0o755))
	}
	patchConfig(t, b, func(spec map[string]any) {
		spec["mounts"] = append(spec["mounts"].([]any),
			map[string]any{"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": []string{"nosuid", "noexec", "nodev", "mode=1777", "size=1m"}},
			map[string]any{"destination": "/cache", "type": "tmpfs", "source": "tmpfs", "options": []string{"rw", "noexec", "mode=700", "tmpcopyup"}},
			map[string]any{"destination": "/vol", "type": "bind", "source": vol, "options": []string{"rbind", "rprivate", "nosuid", "ro"}})
	})
	cmd := exec.Command(ringboxBin, "--root", root, "run", "--bundle", b, "mo")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, _ := cmd.Output()
	require.Equal(t, 0, cmd.ProcessState.ExitCode(), "stderr: %s", stderr.String())
	lines := map[string]string{}
	for _, l := range strings.Split(strings.TrimPrefix(string(out), "/proc/self/mounts: "), "\n") {
		if f := strings.Fields(l); len(f) >= 4 {
			lines[f[1]] = f[2] + " " + f[3]
		}
	}
	require.Equal(t, "ringbox-host ro,relatime", lines["/"], "%s", out)
	require.Equal(t, "tmpfs rw,nosuid,nodev,noexec,relatime,mode=1777,size=1m", lines["/dev/shm"], "%s", out)
	require.Equal(t, "tmpfs rw,noexec,relatime,mode=700", lines["/cache"], "%s", out)
	require.Equal(t, "ringbox-host ro,nosuid,relatime", lines["/vol"], "%s", out)
	require.Contains(t, stderr.String(), "ignored: mounts[/cache] options tmpcopyup")
}

// withSeccomp rewrites bundle b's config.json with linux.seccomp set to
// profile (a JSON object) and process.noNewPrivileges true.
func withSeccomp(t *testing.T, b string, profile []byte) {
	t.Helper()
	patchConfig(t, b, func(spec map[string]any) {
		var sc any
		require.NoError(t, json.Unmarshal(profile, &sc))
		spec["linux"].(map[string]any)["seccomp"] = sc
		spec["process"].(map[string]any)["noNewPrivileges"] = true
	})
}

// TestOCISeccomp: a config's linux.seccomp confines the container's
// process as runc's would. A profile that denies open gets its errno;
// Docker's default profile lets a program run and refuses what it refuses
// (unshare without CAP_SYS_ADMIN); a profile the sandbox cannot honour
// (a user-space listener) fails create.
func TestOCISeccomp(t *testing.T) {
	recordInputs(t)
	root := t.TempDir()

	b := ociBundle(t, []string{"/bin/writeto", "/tmp/x", "text"}, "writeto")
	withSeccomp(t, b, []byte(`{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
		"syscalls": [{"names": ["open", "openat", "creat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}`))
	out, code := oci(t, root, "run", "--bundle", b, "deny-open")
	require.Equal(t, 1, code)
	require.Equal(t, "open: EACCES\n", out, "the filter's errno")

	docker, err := os.ReadFile(filepath.Join(moduleRoot, "cmd", "ringbox", "testdata", "docker-default-seccomp.json"))
	require.NoError(t, err)
	b = ociBundle(t, []string{"/bin/fsmisc"}, "fsmisc")
	out, code = oci(t, root, "run", "--bundle", b, "no-profile")
	require.Equal(t, 0, code)
	require.Contains(t, out, "unshare(0): ok\n")
	withSeccomp(t, b, docker)
	out, code = oci(t, root, "run", "--bundle", b, "docker-profile")
	require.Equal(t, 0, code, "a program runs under Docker's default profile")
	require.Contains(t, out, "utime: ok\n")
	require.Contains(t, out, "rmdir: ok\n")
	require.Contains(t, out, "unshare(0): EPERM\n", "Docker's profile refuses unshare without CAP_SYS_ADMIN")

	b = ociBundle(t, []string{"/bin/writeto", "/tmp/x", "text"}, "writeto")
	withSeccomp(t, b, []byte(`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["openat"], "action": "SCMP_ACT_NOTIFY"}]}`))
	out, code = oci(t, root, "create", "--bundle", b, "notify")
	require.NotEqual(t, 0, code, "a listener profile cannot be honoured: create fails (%s)", out)
	oci(t, root, "delete", "--force", "notify")
}

// TestSeccompFlag: `ringbox run --seccomp FILE` confines the program with
// an OCI-style profile as a container runtime would; a profile that
// cannot be read or honoured is a usage error (status 2, one line).
func TestSeccompFlag(t *testing.T) {
	recordInputs(t)
	dir := t.TempDir()
	profile := filepath.Join(dir, "deny-mkdir.json")
	require.NoError(t, os.WriteFile(profile, []byte(`{"defaultAction": "SCMP_ACT_ALLOW",
		"syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}`), 0o644))
	r := execute(t, sandboxed([]string{"--seccomp", profile}, []string{"PATH=/usr/bin:/bin"}, "/bin/sh",
		[]string{"-c", "mkdir /tmp/x 2>/dev/null; echo $?; grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status | tr -s '\\t' ' '"}, nil))
	require.Equal(t, 0, r.Code, "stderr: %s", r.Stderr)
	require.Equal(t, "1\nNoNewPrivs: 0\nSeccomp: 2\n", string(r.Stdout), "mkdir denied; the filter shows, no_new_privs stays off")

	for name, body := range map[string]string{
		"missing.json": "",
		"bad.json":     "{not json",
		"notify.json":  `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_NOTIFY"}]}`,
	} {
		p := filepath.Join(dir, name)
		if body != "" {
			require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
		}
		r := execute(t, sandboxed([]string{"--seccomp", p}, nil, "/bin/true", nil, nil))
		require.Equal(t, 2, r.Code, "%s: stderr: %s", name, r.Stderr)
		require.Equal(t, 1, strings.Count(strings.TrimSpace(string(r.Stderr)), "\n")+1, "%s: one line: %s", name, r.Stderr)
		require.Contains(t, string(r.Stderr), "--seccomp")
	}
}

// hostProcState returns the state letter of host process pid.
func hostProcState(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	require.NoError(t, err)
	s := string(b)
	return strings.Fields(s[strings.LastIndexByte(s, ')')+1:])[0]
}

// hostCG is the host's cgroup layout, as the test reads a container's
// group: the unified tree (v2) or a tree per controller (v1), each at
// /sys/fs/cgroup/CONTROLLER.
type hostCG struct{ v2 bool }

func hostCgroups(t *testing.T) hostCG {
	t.Helper()
	if b, err := os.ReadFile("/sys/fs/cgroup/cgroup.controllers"); err == nil &&
		strings.Contains(string(b), "memory") && strings.Contains(string(b), "cpu") {
		return hostCG{v2: true}
	}
	for _, f := range []string{"memory/memory.limit_in_bytes", "cpu/cpu.cfs_quota_us", "cpuacct/cpuacct.usage"} {
		if _, err := os.Stat("/sys/fs/cgroup/" + f); err != nil {
			t.Fatalf("this test needs the host's cgroups with the memory and cpu controllers, v2 at /sys/fs/cgroup or v1 under it (the x86 lane mounts them): %v", err)
		}
	}
	return hostCG{}
}

// file is the path of a group's file named as v2 names it; v1's
// counterpart where the name differs (the value's form may differ too:
// the test compares each layout's own).
func (h hostCG) file(group, name string) string {
	if h.v2 {
		return filepath.Join("/sys/fs/cgroup", group, name)
	}
	v1 := map[string]string{"memory.max": "memory/memory.limit_in_bytes", "memory.low": "memory/memory.soft_limit_in_bytes",
		"memory.peak": "memory/memory.max_usage_in_bytes", "cpu.weight": "cpu/cpu.shares", "cpu.stat": "cpu/cpu.stat",
		"cgroup.procs": "memory/cgroup.procs", "memory.events": "memory/memory.oom_control"}[name]
	ctl, f, _ := strings.Cut(v1, "/")
	return filepath.Join("/sys/fs/cgroup", ctl, group, f)
}

// dirs are the group's directories (one in v2, one per tree in v1).
func (h hostCG) dirs(group string) []string {
	if h.v2 {
		return []string{filepath.Join("/sys/fs/cgroup", group)}
	}
	ents, _ := os.ReadDir("/sys/fs/cgroup")
	var out []string
	for _, e := range ents {
		if e.IsDir() { // not the cpu and cpuacct links to cpu,cpuacct
			out = append(out, filepath.Join("/sys/fs/cgroup", e.Name(), group))
		}
	}
	return out
}

// cpuQuota is the group's quota as "QUOTA PERIOD".
func (h hostCG) cpuQuota(t *testing.T, group string) string {
	if h.v2 {
		return readTrim(t, h.file(group, "cpu.max"))
	}
	d := filepath.Join("/sys/fs/cgroup/cpu", group)
	return readTrim(t, filepath.Join(d, "cpu.cfs_quota_us")) + " " + readTrim(t, filepath.Join(d, "cpu.cfs_period_us"))
}

// cpuUsage is the group's CPU time.
func (h hostCG) cpuUsage(t *testing.T, group string) time.Duration {
	if h.v2 {
		return time.Duration(cgroupStat(t, h.file(group, "cpu.stat"), "usage_usec")) * time.Microsecond
	}
	ns, err := strconv.ParseInt(readTrim(t, filepath.Join("/sys/fs/cgroup/cpuacct", group, "cpuacct.usage")), 10, 64)
	require.NoError(t, err)
	return time.Duration(ns)
}

// removeAll removes group and its parents up to (not) the tree's root,
// deepest first, in every tree.
func (h hostCG) removeAll(group string) {
	for ; group != "/" && group != "."; group = filepath.Dir(group) {
		for _, d := range h.dirs(group) {
			os.Remove(d)
		}
	}
}

func readTrim(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	require.NoError(t, err)
	return strings.TrimSpace(string(b))
}

// cgroupStat is one key of a cgroup's flat-keyed file (cpu.stat,
// memory.events, memory.oom_control).
func cgroupStat(t *testing.T, file, key string) int64 {
	t.Helper()
	for _, line := range strings.Split(readTrim(t, file), "\n") {
		if k, v, ok := strings.Cut(line, " "); ok && k == key {
			n, err := strconv.ParseInt(v, 10, 64)
			require.NoError(t, err)
			return n
		}
	}
	t.Fatalf("%s has no %s", file, key)
	return 0
}

// TestOCICgroup: a config's linux.cgroupsPath puts the sandbox, the
// whole of it, in a host cgroup that carries linux.resources: the memory
// limit (the guest gets it less ringbox's share, so a program that fills
// the memory meets the guest's OOM killer and not the host's), the CPU
// quota (a spinning program is throttled), the CPU weight; update
// changes them (runc's flags and --resources JSON); delete removes the
// group. The systemd driver's SLICE:PREFIX:NAME lands where systemd
// would put the scope. On cgroup v2 or v1, whichever the host has (the
// x86 lane: v2, or v1 with --cgroup=v1).
func TestOCICgroup(t *testing.T) {
	recordInputs(t)
	h := hostCgroups(t)
	root := t.TempDir()
	parent := fmt.Sprintf("ringbox-e2e-%d", os.Getpid())
	group := "/" + parent + "/c1"
	t.Cleanup(func() { h.removeAll(group) })

	bundle := ociBundle(t, []string{"/bin/hog", "cpu", "4"}, "hog")
	patchConfig(t, bundle, func(spec map[string]any) {
		l := spec["linux"].(map[string]any)
		l["cgroupsPath"] = group
		l["resources"] = map[string]any{
			"memory": map[string]any{"limit": 256 << 20, "reservation": 64 << 20},
			"cpu":    map[string]any{"quota": 10000, "period": 100000, "shares": 512},
		}
	})
	outFile := filepath.Join(t.TempDir(), "out")
	f, err := os.Create(outFile)
	require.NoError(t, err)
	cmd := exec.Command(ringboxBin, "--root", root, "create", "--bundle", bundle, "c1")
	cmd.Stdout, cmd.Stderr = f, f
	require.NoError(t, cmd.Run(), "create")
	f.Close()
	pid := int(ociStatus(t, root, "c1")["pid"].(float64))

	require.Equal(t, strconv.Itoa(256<<20), readTrim(t, h.file(group, "memory.max")))
	require.Equal(t, strconv.Itoa(64<<20), readTrim(t, h.file(group, "memory.low")))
	require.Equal(t, "10000 100000", h.cpuQuota(t, group))
	weight := map[bool]string{true: "20", false: "512"}[h.v2] // shares 512 as a v2 weight
	require.Equal(t, weight, readTrim(t, h.file(group, "cpu.weight")))
	procs := strings.Fields(readTrim(t, h.file(group, "cgroup.procs")))
	require.Contains(t, procs, strconv.Itoa(pid), "the sandbox process is in the group")
	own := readTrim(t, fmt.Sprintf("/proc/%d/cgroup", pid))
	if h.v2 {
		require.Equal(t, "0::"+group, own)
	} else {
		require.Contains(t, own+"\n", ":memory:"+group+"\n")
	}

	// A 10% quota: 4 s of spinning get about 0.4 s of CPU, and the group
	// is throttled. The sandbox's memory (its guest's and its own) is
	// charged to the group.
	_, code := oci(t, root, "start", "c1")
	require.Equal(t, 0, code)
	start := time.Now()
	require.Eventually(t, func() bool { return ociStatus(t, root, "c1")["status"] == "stopped" }, 2*time.Minute, 100*time.Millisecond)
	wall := time.Since(start)
	out, _ := os.ReadFile(outFile)
	require.Contains(t, string(out), "spun")
	usage := h.cpuUsage(t, group)
	throttled := cgroupStat(t, h.file(group, "cpu.stat"), "nr_throttled")
	t.Logf("wall %v, the group's CPU %v, throttled %d times; memory peak %s", wall, usage, throttled, readTrim(t, h.file(group, "memory.peak")))
	require.Positive(t, throttled, "the quota throttled the vCPUs")
	require.Less(t, usage, wall/2, "a 10%% quota holds the sandbox well under one CPU")
	peak, err := strconv.ParseInt(readTrim(t, h.file(group, "memory.peak")), 10, 64)
	require.NoError(t, err)
	require.Greater(t, peak, int64(4<<20), "the sandbox's memory is charged to its group")

	_, code = oci(t, root, "delete", "c1")
	require.Equal(t, 0, code)
	for _, d := range h.dirs(group) {
		require.NoDirExists(t, d, "delete removes the group")
	}

	// A program that fills its memory is killed by the guest (137, the
	// sandbox says so), not by the host's OOM killer in the group.
	group2 := "/" + parent + "/c2"
	hogBundle := ociBundle(t, []string{"/bin/hog", "mem", "400"}, "hog")
	patchConfig(t, hogBundle, func(spec map[string]any) {
		l := spec["linux"].(map[string]any)
		l["cgroupsPath"] = group2
		l["resources"] = map[string]any{"memory": map[string]any{"limit": 128 << 20}}
	})
	t.Cleanup(func() { h.removeAll(group2) })
	var events string
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 6000; i++ {
			if b, err := os.ReadFile(h.file(group2, "memory.events")); err == nil {
				events = string(b)
			} else if events != "" {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	run := exec.Command(ringboxBin, "--root", root, "run", "--bundle", hogBundle, "c2")
	out2, err := run.CombinedOutput()
	<-done
	t.Logf("run c2: %v\n%s\nmemory events:\n%s", err, out2, events)
	require.Equal(t, 137, run.ProcessState.ExitCode(), "the program is killed for its memory")
	require.NotContains(t, string(out2), "touched")
	require.Contains(t, string(out2), "ringbox: out of memory", "the guest's OOM killer took it")
	require.Contains(t, events, "oom_kill 0", "the host's OOM killer had nothing to do")
	for _, d := range h.dirs(group2) {
		require.NoDirExists(t, d, "run removes the group")
	}

	// update, with runc's flags and with --resources, on a running
	// container; the systemd driver's path.
	sleepBundle := ociBundle(t, []string{"/bin/sleeper"}, "sleeper")
	patchConfig(t, sleepBundle, func(spec map[string]any) {
		spec["linux"].(map[string]any)["cgroupsPath"] = parent + ".slice:rbtest:c3"
	})
	// ringbox-e2e-PID.slice is in ringbox-e2e.slice, in ringbox.slice.
	scope := "/ringbox.slice/ringbox-e2e.slice/" + parent + ".slice/rbtest-c3.scope"
	t.Cleanup(func() { h.removeAll(scope) })
	f3, _ := os.Create(filepath.Join(t.TempDir(), "out"))
	cmd = exec.Command(ringboxBin, "--root", root, "--systemd-cgroup", "create", "--bundle", sleepBundle, "c3")
	cmd.Stdout, cmd.Stderr = f3, f3
	require.NoError(t, cmd.Run(), "create with the systemd driver")
	require.Equal(t, strconv.Itoa(512<<20), readTrim(t, h.file(scope, "memory.max")), "ociBundle's limit")
	_, code = oci(t, root, "update", "--memory", "300M", "--memory-swap", "600M", "--cpu-quota", "50000", "--cpu-period", "100000", "c3")
	require.Equal(t, 0, code)
	require.Equal(t, strconv.Itoa(300<<20), readTrim(t, h.file(scope, "memory.max")))
	require.Equal(t, "50000 100000", h.cpuQuota(t, scope))
	res := `{"memory":{"limit":209715200},"cpu":{"shares":2048}}`
	if h.v2 {
		res = `{"memory":{"limit":209715200},"cpu":{"shares":2048},"unified":{"memory.high":"180M"}}`
	}
	up := exec.Command(ringboxBin, "--root", root, "update", "--resources", "-", "c3")
	up.Stdin = strings.NewReader(res)
	upOut, err := up.CombinedOutput()
	require.NoError(t, err, "update --resources -: %s", upOut)
	require.Equal(t, strconv.Itoa(200<<20), readTrim(t, h.file(scope, "memory.max")))
	if h.v2 {
		require.Equal(t, strconv.Itoa(180<<20), readTrim(t, h.file(scope, "memory.high")))
	}
	require.Equal(t, map[bool]string{true: "79", false: "2048"}[h.v2], readTrim(t, h.file(scope, "cpu.weight")))
	_, code = oci(t, root, "update", "--memory", "lots", "c3")
	require.Equal(t, 2, code, "a bad value is a usage error")
	_, code = oci(t, root, "delete", "--force", "c3")
	require.Equal(t, 0, code)
	for _, d := range h.dirs(scope) {
		require.NoDirExists(t, d)
	}
	ents, _ := os.ReadDir(root)
	require.Empty(t, ents, "nothing left under --root")
}
