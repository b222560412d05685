package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// realCase is a real program, or a shell command line made of them, run
// natively and in the sandbox, each in its own fresh copy of a project
// directory (under tests/realprogs) that is also its working directory: in
// the sandbox that copy is a read-write mount at its own path. Stdout (with
// the directory's path replaced by $WORK) and the exit status must match.
type realCase struct {
	name    string
	argv    []string // the program and its arguments
	project string   // directory under tests/realprogs copied into the work directory ("": empty)
	env     []string // added to baseEnv (later entries win)
	mounts  []string // more host directories that both runs share, read-write at their own paths
	flags   []string // more ringbox flags
	timeout time.Duration
	// wantStdout, when set, is also the exact expected output.
	wantStdout string
	wantCode   int
}

func runRealCase(t *testing.T, c realCase) {
	t.Helper()
	timeout := c.timeout
	if timeout == 0 {
		timeout = 2 * time.Minute
	}
	env := append(append([]string{}, baseEnv...), c.env...)
	setup := func() string {
		dir := t.TempDir()
		if c.project != "" {
			require.NoError(t, os.CopyFS(dir, os.DirFS(filepath.Join(moduleRoot, "tests", "realprogs", c.project))))
		}
		return dir
	}
	normalize := func(b []byte, dir string) string {
		return strings.ReplaceAll(string(b), dir, "$WORK")
	}

	ndir := setup()
	n := native(c.argv[0], c.argv[1:], env, nil)
	n.Dir, n.Timeout = ndir, timeout
	want := execute(t, n)
	if want.TimedOut || want.Code != c.wantCode || (c.wantStdout != "" && normalize(want.Stdout, ndir) != c.wantStdout) {
		logRun(t, "native", n, want)
		t.Fatalf("the native run is broken (status %d, want %d; stdout %q): fix the test", want.Code, c.wantCode, tail(want.Stdout, 4096))
	}

	sdir := setup()
	flags := append([]string{"--mount", sdir + ":" + sdir + ":rw", "--workdir", sdir}, c.flags...)
	for _, m := range c.mounts {
		flags = append(flags, "--mount", m+":"+m+":rw")
	}
	s := sandboxed(flags, env, c.argv[0], c.argv[1:], nil)
	s.Timeout = timeout
	got := execute(t, s)
	if checkSandboxStatus(t, got) {
		assert.Equal(t, want.Code, got.Code, "exit status (native vs ringbox)")
		assert.Equal(t, normalize(want.Stdout, ndir), normalize(got.Stdout, sdir), "stdout (native vs ringbox)")
	}
	if t.Failed() {
		logRun(t, "native", n, want)
		logRun(t, "ringbox", s, got)
		// A crash report starts with what matters; logRun shows the end.
		t.Logf("ringbox stderr, first lines:\n%s", indent(head(got.Stderr, 3000)))
	}
}

// head returns at most the first n bytes of b, for logging.
func head(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return fmt.Sprintf("%s\n[... %d bytes cut ...]", b[:n], len(b)-n)
}

// TestRealPrograms runs shells, build tools and interpreters that start
// processes and threads: pipelines, a bash script with jobs and traps, make
// -j2 and gcc, python's threading, subprocess and multiprocessing, xargs -P2
// and find -exec.
func TestRealPrograms(t *testing.T) {
	recordInputs(t)
	for _, tool := range []string{"/bin/sh", "/bin/bash", "/usr/bin/make", "/usr/bin/gcc", "/usr/bin/python3", "/usr/bin/xargs", "/usr/bin/find", "/usr/bin/script",
		"/usr/bin/gdb", "/usr/bin/strace", "/usr/bin/node", "/usr/sbin/nginx"} {
		if _, err := os.Stat(tool); err != nil {
			t.Fatalf("%s is not on this host (.ci/run installs what the tests run)", tool)
		}
	}
	cases := []realCase{
		// The checks, word for word.
		{name: "sh-exit-status", argv: []string{"/bin/sh", "-c", "echo a b | tr a-z A-Z; (exit 3); echo $?"},
			wantStdout: "A B\n3\n"},
		{name: "sh-pipeline", argv: []string{"/bin/sh", "-c", "ls /usr/bin | sort | uniq -c | sort -rn | head"}},
		{name: "bash-script", argv: []string{"/bin/bash", "bashscript.sh"}, project: ".", wantCode: 3},
		{name: "make-j2", project: "cproject", timeout: 5 * time.Minute, argv: []string{"/bin/sh", "-c",
			`make -s -j2 && ./app "a b  c" "" && make -s clean && ls`}},
		{name: "gcc-O2", project: "cproject", timeout: 5 * time.Minute, argv: []string{"/bin/sh", "-c",
			`gcc -O2 -o hello hello.c && ./hello`}},
		{name: "python-procs", project: ".", timeout: 5 * time.Minute, argv: []string{"/usr/bin/python3", "pyprocs.py"}},
		{name: "python-sqlite-wal", project: ".", argv: []string{"/usr/bin/python3", "pysqlite.py"}},
		{name: "python-unix-socket-in-mount", project: ".", argv: []string{"/usr/bin/python3", "pyunixsock.py"}},
		// Node.js: an HTTP server and client, its thread pool, a child
		// process and a worker thread.
		{name: "node-http", project: ".", argv: []string{"/usr/bin/node", "nodehttp.js"},
			wantStdout: "written by node\nfrom a child\nworker sum 2999997\n200 hello /node\n"},
		// tail -f follows a file in /tmp (the sandbox's tmpfs) with
		// inotify (it warns, on the output here, and polls when inotify
		// fails); --pid ends it with the writer.
		{name: "tail-follow", argv: []string{"/bin/sh", "-c", `d=$(mktemp -d); cd $d; echo one > f
(sleep 1; echo two >> f; sleep 1; echo three >> f; sleep 1) & tail -n +1 -f --pid=$! f 2>&1; cd /; rm -r $d`},
			wantStdout: "one\ntwo\nthree\n"},
		// AddressSanitizer's leak check stops the program's threads with
		// ptrace from a helper process it clones (PTRACE_ATTACH of each
		// thread, GETREGSET, DETACH); without ptrace every
		// instrumented program fails at exit.
		{name: "gcc-asan", timeout: 5 * time.Minute, argv: []string{"/bin/sh", "-c", `cat > ok.c <<'EOF'
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
static void *run(void *p) { return malloc(32); }
int main(void) {
	pthread_t t;
	void *r;
	pthread_create(&t, 0, run, 0);
	pthread_join(t, &r);
	free(r);
	puts("no leak");
	return 0;
}
EOF
cat > leak.c <<'EOF'
#include <stdlib.h>
void *p;
int main(void) { p = malloc(7); p = 0; return 0; }
EOF
gcc -fsanitize=address -g -o ok ok.c && gcc -fsanitize=address -g -o leak leak.c &&
./ok; echo "ok: $?"; ./leak 2> leak.err; echo "leak: $?"; grep -o 'SUMMARY: AddressSanitizer: .*' leak.err`}},
		// gdb: a breakpoint (int3 written into the code with POKETEXT),
		// registers, a backtrace, finish and the exit status; the stack
		// address and the PID differ.
		{name: "gdb-breakpoint", timeout: 5 * time.Minute, argv: []string{"/bin/sh", "-c", `cat > m.c <<'EOF'
#include <stdio.h>
int sq(int x) { return x * x; }
int main(int c, char **v) { int r = sq(c + 2); printf("r=%d\n", r); return 3; }
EOF
gcc -g -O0 -o m m.c && gdb -q -batch -ex 'break sq' -ex run -ex 'print x' -ex bt -ex finish -ex cont ./m 2>&1 |
sed -E 's/v=0x[0-9a-f]+/v=STACK/; s/process [0-9]+/process N/'`}},
		// strace -f: three processes traced through fork and exec
		// (the order of their lines varies).
		{name: "strace-f", argv: []string{"/bin/sh", "-c",
			`strace -f -e trace=execve,exit_group -o t.txt sh -c 'echo hi | cat'; grep -c 'execve(' t.txt; grep -c '+++ exited with 0 +++' t.txt`}},
		// valgrind's memcheck (its own code loader, threads run one at a
		// time, FIFOs for vgdb) finds the one leak; the stack addresses
		// differ, so only the count and the status are compared.
		{name: "valgrind", timeout: 5 * time.Minute, argv: []string{"/bin/sh", "-c", `cat > v.c <<'EOF'
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
static void *run(void *p) { long *v = malloc(sizeof *v); *v = (long)p * 2; return v; }
int main(void) {
	pthread_t t[2];
	long sum = 0;
	for (long i = 0; i < 2; i++) pthread_create(&t[i], 0, run, (void *)(i + 1));
	for (int i = 0; i < 2; i++) { void *r; pthread_join(t[i], &r); sum += *(long *)r; free(r); }
	char *leak = malloc(7);
	leak[0] = 0;
	printf("sum %ld\n", sum);
	return 0;
}
EOF
gcc -g -O0 -pthread -o v v.c && valgrind -q --leak-check=full --error-exitcode=9 ./v 2> err; echo "status $?"
grep -o '[0-9]* bytes in [0-9]* blocks are definitely lost' err`}},
		// A named pipe between two processes of a shell script.
		{name: "mkfifo", argv: []string{"/bin/sh", "-c", `mkfifo p && ls -l p | cut -c1 && (seq 3 > p &) && cat p && rm p`}},
		{name: "xargs-P2", argv: []string{"/bin/sh", "-c",
			`find /usr/include/linux -maxdepth 1 -name 'if_*.h' | sort | xargs -P2 -n3 wc -l | grep -v ' total$' | sort`}},
		// script(1): openpty, a child in a new session with the pty as
		// its controlling terminal, output through the line discipline.
		{name: "script", argv: []string{"/bin/sh", "-c",
			`script -qec 'tty | sed "s/[0-9]*$/N/"; stty size; test -t 0 && echo stdin-tty; stty -a | grep -o "icanon\|echo " | head -2; exit 4' /dev/null < /dev/null`},
			wantCode: 4},
		// nginx: a master and two workers (as nobody) on loopback, its
		// channels set up with FIOASYNC and F_SETOWN, a file and a 404
		// fetched, SIGQUIT.
		// (The files it serves are in a directory of /tmp the workers,
		// as nobody, can reach: the test's own is the owner's alone.)
		{name: "nginx", timeout: 5 * time.Minute, argv: []string{"/bin/sh", "-c", `mkdir -p logs tmp && html=$(mktemp -d /tmp/nginx-html.XXXXXX) && chmod 755 "$html" && echo hello-nginx > "$html/index.html" && chmod 644 "$html/index.html"
cat > nginx.conf <<CONF
daemon off; master_process on; worker_processes 2; user nobody nogroup;
pid $PWD/logs/nginx.pid; error_log $PWD/logs/error.log;
events { worker_connections 64; }
http { access_log off; client_body_temp_path $PWD/tmp/b; proxy_temp_path $PWD/tmp/p; fastcgi_temp_path $PWD/tmp/f;
  uwsgi_temp_path $PWD/tmp/u; scgi_temp_path $PWD/tmp/s; server { listen 127.0.0.1:18391; root $html; } }
CONF
/usr/sbin/nginx -p "$PWD" -c "$PWD/nginx.conf" -e "$PWD/logs/error.log" &
for _ in $(seq 600); do [ -s logs/nginx.pid ] && break; sleep 0.1; done
master=$(cat logs/nginx.pid)
workers() { grep -l "^PPid:[[:space:]]*$master\$" /proc/[0-9]*/status 2>/dev/null | wc -l; }
for _ in $(seq 300); do [ "$(workers)" = 2 ] && break; sleep 0.2; done
echo "workers: $(workers)"
[ "$(workers)" = 2 ] || { kill -KILL "$master"; cat logs/error.log >&2; exit 1; }
python3 -c '
import urllib.request, urllib.error
print(urllib.request.urlopen("http://127.0.0.1:18391/").read().decode().strip())
try: urllib.request.urlopen("http://127.0.0.1:18391/none")
except urllib.error.HTTPError as e: print(e.code)'
kill -QUIT "$master"; wait; echo "stopped: $?"; rm -r "$html"`}},
		{name: "find-exec", argv: []string{"/bin/sh", "-c", `mkdir -p d/e && for i in 1 2 3; do echo "file $i" > d/f$i.txt; echo "deep $i" > d/e/g$i.txt; done
find d -name '*.txt' -exec cat {} + | sort
find d -name '*.txt' -exec sh -c 'echo "$1: $(wc -c < "$1") bytes"' sh {} \; | sort
find d -type d | sort`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			runRealCase(t, c)
		})
	}
}

// goEnv is the environment of the go command in TestRealGo: the go tool's
// own directory on PATH, a shared build cache, no network and no cgo.
func goEnv(t *testing.T) (env []string, cache string) {
	t.Helper()
	goTool, err := exec.LookPath("go")
	require.NoError(t, err, "the go command is not on PATH")
	goTool, err = filepath.EvalSymlinks(goTool)
	require.NoError(t, err)
	cache = t.TempDir()
	// A build cache holding the standard library already compiled (the
	// x86 lane makes one on its host: compiling it under emulation takes
	// minutes); both runs still compile and link the module itself.
	if seed := os.Getenv("RINGBOX_GOCACHE_SEED"); seed != "" {
		require.NoError(t, os.CopyFS(cache, os.DirFS(seed)))
	}
	env = []string{
		"PATH=" + filepath.Dir(goTool) + ":/usr/bin:/bin",
		"GOCACHE=" + cache, "GOTOOLCHAIN=local", "GOENV=off", "GOFLAGS=-mod=mod",
		"GOPROXY=off", "CGO_ENABLED=0", "GOPATH=/nonexistent/gopath",
	}
	return env, cache
}

// TestRealGo runs the go command in the sandbox: go build and go test of
// a small module (the compiler and linker are multi-threaded Go programs
// that the go command starts in parallel), then the program it built,
// which runs goroutines on several threads. (go vet, one more such
// program, was left out for CI's time: 20 s of emulation in the x86 lane.)
func TestRealGo(t *testing.T) {
	recordInputs(t)
	env, cache := goEnv(t)
	// The -v lines end with durations; drop them.
	script := `go build -o spin . && ./spin && go test -count=1 -v . | sed -E 's/ *\(?[0-9.]+s\)?$//'`
	runRealCase(t, realCase{name: "go", project: "gomod", env: env, mounts: []string{cache},
		timeout: 8 * time.Minute, argv: []string{"/bin/sh", "-c", script}})
}

// TestGoThreadsParallel runs a Go program whose 8 goroutines spin on their
// own threads: its output matches the native run's, and on a host with two
// or more CPUs its CPU time exceeds its wall time, i.e. its threads ran at
// the same time on different vCPUs.
func TestGoThreadsParallel(t *testing.T) {
	recordInputs(t)
	env, _ := goEnv(t)
	bin := filepath.Join(t.TempDir(), "spin")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = filepath.Join(moduleRoot, "tests", "realprogs", "gomod")
	cmd.Env = append(os.Environ(), env...)
	b, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build: %s", b)

	want := execute(t, native(bin, nil, baseEnv, nil))
	require.Equal(t, 0, want.Code, "native: %s", want.Stderr)
	got := execute(t, sandboxed(nil, baseEnv, bin, nil, nil))
	if !checkSandboxStatus(t, got) {
		return
	}
	require.Equal(t, 0, got.Code, "stderr: %s", got.Stderr)
	require.Equal(t, string(want.Stdout), string(got.Stdout))
	require.Contains(t, string(got.Stdout), "distinct threads: 8\n")

	if runtime.NumCPU() < 2 {
		t.Logf("this host has %d CPU: whether threads run in parallel cannot be seen here", runtime.NumCPU())
		return
	}
	// Spinning long enough (about 0.5 s of CPU natively) that start-up
	// does not dominate.
	got = execute(t, sandboxed([]string{"--cpus", "2"}, baseEnv, bin, []string{"-workers", "8", "-steps", "40000000", "-cpu"}, nil))
	require.Equal(t, 0, got.Code, "stderr: %s", got.Stderr)
	t.Logf("in the sandbox: %s", strings.TrimSpace(string(got.Stdout)))
	require.Contains(t, string(got.Stdout), "parallel true", "user time should exceed wall time with 2 CPUs")
}
