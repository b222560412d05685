package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// hostEcho listens on the host's 127.0.0.1 and answers each line with
// "host: " and the line, until the test ends.
func hostEcho(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				sc := bufio.NewScanner(c)
				for sc.Scan() {
					fmt.Fprintf(c, "host: %s\n", sc.Text())
				}
			}()
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}

// natClient connects to each address given and prints what happened:
// the echo, or the error's name.
const natClient = `
import socket, sys
for a in sys.argv[1:]:
    host, port = a.rsplit(":", 1)
    try:
        s = socket.create_connection((host, int(port)), timeout=60)
        s.sendall(b"hello\n")
        print(a, s.makefile().readline().strip())
        s.close()
    except OSError as e:
        print(a, type(e).__name__)
print(open("/etc/resolv.conf").read().split("\n")[1])
print(sorted(n for _, n in socket.if_nameindex()))
`

// TestNetSandbox (issue 10): --net=sandbox reaches a server on the host's
// 127.0.0.1 through the gateway when --allow-net names its port, and is
// refused otherwise; the default policy refuses the cloud metadata
// address and the host's loopback.
func TestNetSandbox(t *testing.T) {
	recordInputs(t)
	py := "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		t.Fatalf("%s is not on this host (.ci/run installs what the tests run)", py)
	}
	port := hostEcho(t)
	other := hostEcho(t)
	gw := func(p int) string { return fmt.Sprintf("10.0.2.2:%d", p) }
	for _, c := range []struct {
		name  string
		flags []string
		dests []string
		want  []string
	}{
		{"allowed", []string{"--net=sandbox", "--allow-net", fmt.Sprintf("127.0.0.1:%d", port)},
			[]string{gw(port), gw(other), "169.254.169.254:80"},
			[]string{gw(port) + " host: hello", gw(other) + " ConnectionRefusedError", "169.254.169.254:80 ConnectionRefusedError"}},
		{"default-policy", []string{"--net=sandbox"},
			[]string{gw(port), "169.254.169.254:80", "10.1.2.3:80", "127.0.0.1:1"},
			[]string{gw(port) + " ConnectionRefusedError", "169.254.169.254:80 ConnectionRefusedError",
				"10.1.2.3:80 ConnectionRefusedError", "127.0.0.1:1 ConnectionRefusedError"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := sandboxed(c.flags, baseEnv, py, append([]string{"-c", natClient}, c.dests...), nil)
			s.Timeout = 3 * time.Minute
			got := execute(t, s)
			if !checkSandboxStatus(t, got) {
				return
			}
			require.Equal(t, 0, got.Code, "stderr: %s", got.Stderr)
			want := strings.Join(c.want, "\n") + "\nnameserver 10.0.2.2\n['eth0', 'lo']\n"
			require.Equal(t, want, string(got.Stdout), "stderr: %s", got.Stderr)
		})
	}
}

// TestNetFlushAtExit: what the program sent through the NAT just before it
// ended still reaches the host server in full, as it would from a process
// that exits on Linux (ringbox waits for its relays before it exits).
func TestNetFlushAtExit(t *testing.T) {
	recordInputs(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	got := make(chan int64, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			got <- -1
			return
		}
		// Read late: what the program sent is still in the relay and
		// the stacks when it exits.
		time.Sleep(300 * time.Millisecond)
		n, _ := io.Copy(io.Discard, c)
		c.Close()
		got <- n
	}()
	port := l.Addr().(*net.TCPAddr).Port
	const size = 8 << 20
	client := fmt.Sprintf(`import os, socket
s = socket.create_connection(("10.0.2.2", %d))
s.sendall(b"x" * %d)
os._exit(0)`, port, size)
	s := sandboxed([]string{"--net=sandbox", "--allow-net", fmt.Sprintf("127.0.0.1:%d", port)}, baseEnv, "/usr/bin/python3", []string{"-c", client}, nil)
	s.Timeout = 3 * time.Minute
	r := execute(t, s)
	if !checkSandboxStatus(t, r) {
		return
	}
	require.Equal(t, 0, r.Code, "stderr: %s", r.Stderr)
	select {
	case n := <-got:
		require.Equal(t, int64(size), n, "the host server got all the program sent")
	case <-time.After(time.Minute):
		t.Fatal("the host server saw no end of the connection")
	}
}

// pyServer serves one TCP connection on port 8000 (all addresses) in the
// sandbox: it reads a line and answers it in upper case, then exits.
const pyServer = `
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 8000))
s.listen()
print("listening", flush=True)
c, _ = s.accept()
line = c.makefile().readline()
c.sendall(line.upper().encode())
c.close()
print("served", line.strip())
`

// TestNetPublish (issue 10): --publish makes a port of the sandbox
// reachable on the host's 127.0.0.1, with --net=none and --net=sandbox.
func TestNetPublish(t *testing.T) {
	recordInputs(t)
	py := "/usr/bin/python3"
	for _, mode := range []string{"none", "sandbox"} {
		t.Run(mode, func(t *testing.T) {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			hostPort := l.Addr().(*net.TCPAddr).Port
			l.Close()
			args := runArgs([]string{"--debug", "--net=" + mode, "-p", fmt.Sprintf("%d:8000", hostPort)}, baseEnv, py, []string{"-c", pyServer})
			cmd := exec.Command(args[0], args[1:]...)
			out := newFirstLine()
			var rest strings.Builder
			cmd.Stdout = io.MultiWriter(out, &rest)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			require.NoError(t, cmd.Start())
			defer cmd.Process.Kill()
			select {
			case line := <-out.line:
				require.Equal(t, "listening\n", line, "stderr: %s", stderr.String())
			case <-time.After(2 * time.Minute):
				t.Fatalf("the server in the sandbox did not start; stderr: %s", stderr.String())
			}
			c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", hostPort), 30*time.Second)
			require.NoError(t, err)
			c.SetDeadline(time.Now().Add(time.Minute))
			fmt.Fprintf(c, "from the host\n")
			reply, err := bufio.NewReader(c).ReadString('\n')
			require.NoError(t, err)
			require.Equal(t, "FROM THE HOST\n", reply)
			c.Close()
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				require.NoError(t, err, "stderr: %s", stderr.String())
			case <-time.After(time.Minute):
				t.Fatalf("ringbox did not exit after the server did; stderr: %s", stderr.String())
			}
			require.Equal(t, "listening\nserved from the host\n", rest.String())
			// Published ports alone: the listener is made by the parent and
			// handed down; ringbox itself runs in an empty network
			// namespace. --net=sandbox dials from the host's.
			if mode == "none" {
				require.Contains(t, stderr.String(), "uts,net", "the confined ringbox must have its own network namespace")
			} else {
				require.NotContains(t, stderr.String(), "uts,net")
			}
		})
	}
}

// procNetScript finds its own sockets in /proc/net by inode and prints
// what the lines say: comparable natively and in the sandbox.
const procNetScript = `
import os, socket
def find(path, ino):
    with open(path) as f:
        f.readline()
        for line in f:
            if line.split()[9 if "unix" not in path else 6] == str(ino):
                return line.split()
    return None

t = socket.socket(); t.bind(("127.0.0.1", 0)); t.listen()
port = t.getsockname()[1]
f = find("/proc/net/tcp", os.fstat(t.fileno()).st_ino)
print("tcp", f[1] == "0100007F:%04X" % port, f[3])
c = socket.create_connection(("127.0.0.1", port)); a, _ = t.accept()
f = find("/proc/net/tcp", os.fstat(a.fileno()).st_ino)
print("tcp accepted", f[3], f[2] == "0100007F:%04X" % c.getsockname()[1])
u6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); u6.bind(("::1", 0))
f = find("/proc/net/udp6", os.fstat(u6.fileno()).st_ino)
print("udp6", f[1] == "00000000000000000000000001000000:%04X" % u6.getsockname()[1], f[3])
x = socket.socket(socket.AF_UNIX); x.bind("\0ringbox-procnet-%d" % os.getpid()); x.listen()
f = find("/proc/net/unix", os.fstat(x.fileno()).st_ino)
print("unix", f[3], f[4], f[5], f[7] == "@ringbox-procnet-%d" % os.getpid())
print("lo in dev", any(l.split(":")[0].strip() == "lo" for l in open("/proc/net/dev")))
`

// TestProcNet (issue 10): /proc/net/{tcp,udp6,unix,dev} list the
// program's own sockets as Linux does.
func TestProcNet(t *testing.T) {
	recordInputs(t)
	py := "/usr/bin/python3"
	want := execute(t, native(py, []string{"-c", procNetScript}, baseEnv, nil))
	require.Equal(t, 0, want.Code, "native: %s", want.Stderr)
	got := execute(t, sandboxed(nil, baseEnv, py, []string{"-c", procNetScript}, nil))
	if !checkSandboxStatus(t, got) {
		return
	}
	require.Equal(t, 0, got.Code, "stderr: %s", got.Stderr)
	require.Equal(t, string(want.Stdout), string(got.Stdout))
}
