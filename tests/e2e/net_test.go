package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// httpServerScript starts python3 -m http.server on 127.0.0.1 in the
// background, fetches a file from it with urllib, and stops it: all in
// one sandbox (with --net=none, on its loopback).
const httpServerScript = `cd /etc || exit 1
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server --bind 127.0.0.1 --directory /etc "$port" >/dev/null 2>&1 &
pid=$!
python3 - "$port" <<'PY'
import sys, time, urllib.request
for i in range(1200):
    try:
        r = urllib.request.urlopen("http://127.0.0.1:%s/os-release" % sys.argv[1], timeout=60)
        break
    except OSError:
        time.sleep(0.1)
print(r.status, r.headers.get_content_type())
print(r.read().decode(), end="")
PY
kill $pid
wait $pid
echo done
`

// pySocketScript: a threaded socketserver echo over 127.0.0.1, and an
// asyncio streams server and client over ::1, in one process.
const pySocketScript = `
import asyncio, socket, socketserver, threading

class Echo(socketserver.StreamRequestHandler):
    def handle(self):
        for line in self.rfile:
            self.wfile.write(line.upper())

srv = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Echo)
threading.Thread(target=srv.serve_forever, daemon=True).start()
with socket.create_connection(srv.server_address) as c:
    f = c.makefile("rwb")
    for w in [b"alpha\n", b"beta\n", b"x" * 100000 + b"\n"]:
        f.write(w)
        f.flush()
        r = f.readline()
        print(len(r), r[:10])
    f.close()
srv.shutdown()
srv.server_close()

async def handle(reader, writer):
    data = await reader.read(100)
    writer.write(data[::-1])
    await writer.drain()
    writer.close()

async def main():
    server = await asyncio.start_server(handle, "::1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("::1", port)
    writer.write(b"streams over ipv6")
    await writer.drain()
    print((await reader.read()).decode())
    writer.close()
    server.close()
    await server.wait_closed()

asyncio.run(main())
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()
print("ok")
`

// TestNet runs real network programs natively and in the sandbox and
// compares them.
func TestNet(t *testing.T) {
	recordInputs(t)
	const py = "/usr/bin/python3"
	cases := []struct {
		name string
		path string
		args []string
	}{
		{"http.server", "/bin/sh", []string{"-c", httpServerScript}},
		{"python-sockets", py, []string{"-c", pySocketScript}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if _, err := os.Stat(py); err != nil {
				t.Fatalf("%s is not on this host (.ci/run installs what the tests run)", py)
			}
			nspec := native(c.path, c.args, baseEnv, nil)
			nspec.Timeout = 5 * time.Minute
			want := execute(t, nspec)
			require.Equal(t, 0, want.Code, "native run: %s", want.Stderr)
			sspec := sandboxed(nil, baseEnv, c.path, c.args, nil)
			sspec.Timeout = 5 * time.Minute
			got := execute(t, sspec)
			if !checkSandboxStatus(t, got) {
				return
			}
			require.Equal(t, want.Code, got.Code, "status; stderr: %s", got.Stderr)
			require.Equal(t, string(want.Stdout), string(got.Stdout), "stderr: %s", got.Stderr)
		})
	}
}

// TestNetGoHTTP builds a Go net/http server and client (one process, over
// 127.0.0.1 and ::1) and runs it natively and in the sandbox.
func TestNetGoHTTP(t *testing.T) {
	recordInputs(t)
	env, _ := goEnv(t)
	bin := filepath.Join(t.TempDir(), "gohttp")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = filepath.Join(moduleRoot, "tests", "realprogs", "gohttp")
	cmd.Env = append(os.Environ(), env...)
	b, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build: %s", b)

	nspec := native(bin, nil, baseEnv, nil)
	nspec.Timeout = 5 * time.Minute
	want := execute(t, nspec)
	require.Equal(t, 0, want.Code, "native: %s", want.Stderr)
	sspec := sandboxed(nil, baseEnv, bin, nil, nil)
	sspec.Timeout = 5 * time.Minute
	got := execute(t, sspec)
	if !checkSandboxStatus(t, got) {
		return
	}
	require.Equal(t, 0, got.Code, "stderr: %s", got.Stderr)
	require.Equal(t, string(want.Stdout), string(got.Stdout))
}
