package e2e

import (
	"bufio"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBindMountCoherence runs the coherence program in a read-write bind
// mount, natively and in the sandbox: between its two halves the test
// changes the mount on the host (rewrites the shared file, creates a file,
// removes one). Both runs must print the same.
func TestBindMountCoherence(t *testing.T) {
	recordInputs(t)
	prepare := func(dir string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "removed.txt"), []byte("x"), 0o644))
	}
	atReady := func(dir string) string {
		// The host changes the mount under the running program.
		require.NoError(t, os.WriteFile(filepath.Join(dir, "shared.txt"), []byte("three from the host"), 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "from-host.txt"), []byte("y"), 0o644))
		require.NoError(t, os.Remove(filepath.Join(dir, "removed.txt")))
		return "go\n"
	}
	want, _ := runInMount(t, false, []string{prog("coherence")}, prepare, atReady)
	require.Contains(t, want, "three from the host", "native run")
	start := time.Now()
	got, _ := runInMount(t, true, []string{prog("coherence")}, prepare, atReady)
	require.Equal(t, want, got, "native vs ringbox (%v)", time.Since(start))
}

// TestBindMountSharedMapping runs the sharedfile program (MAP_SHARED of a
// file in a read-write bind mount) natively and in the sandbox. At its
// "ready" line, after an msync, the test reads the file from the host and
// hands the program its SHA-256; after the run it compares the file
// itself, which the program's mapping changed last without msync or
// munmap, just before it exited.
func TestBindMountSharedMapping(t *testing.T) {
	recordInputs(t)
	atReady := func(dir string) string {
		b, err := os.ReadFile(filepath.Join(dir, "f"))
		require.NoError(t, err)
		return fmt.Sprintf("%x\n", sha256.Sum256(b))
	}
	want, dir := runInMount(t, false, []string{prog("sharedfile")}, nil, atReady)
	wantFile, err := os.ReadFile(filepath.Join(dir, "f"))
	require.NoError(t, err)
	require.Contains(t, string(wantFile), "left at exit", "native run")
	got, dir := runInMount(t, true, []string{prog("sharedfile")}, nil, atReady)
	require.Equal(t, want, got, "native vs ringbox")
	gotFile, err := os.ReadFile(filepath.Join(dir, "f"))
	require.NoError(t, err)
	require.Equal(t, wantFile, gotFile, "the file on the host after the run, native vs ringbox")
}

// TestBindMountTailFollow runs tail -f on a file in a read-write bind
// mount while a host program appends to it, natively and in the sandbox.
// The sandbox's inotify does not hear the host's writes, so the mount
// says it is FUSE (statfs), and tail polls it instead of waiting for an
// event that never comes: it must print the host's line.
func TestBindMountTailFollow(t *testing.T) {
	recordInputs(t)
	t.Parallel() // mostly waiting
	prepare := func(dir string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "f"), []byte("one\n"), 0o644))
	}
	atReady := func(dir string) string {
		time.Sleep(500 * time.Millisecond) // tail is following by now
		f, err := os.OpenFile(filepath.Join(dir, "f"), os.O_APPEND|os.O_WRONLY, 0)
		require.NoError(t, err)
		_, err = f.WriteString("two from the host\n")
		require.NoError(t, err)
		require.NoError(t, f.Close())
		return ""
	}
	argv := []string{"/bin/sh", "-c", "echo ready; timeout 3 tail -n +1 -f f 2>&1; exit 0"}
	want, _ := runInMount(t, false, argv, prepare, atReady)
	require.Equal(t, "ready\none\ntwo from the host\n", want, "native run")
	got, _ := runInMount(t, true, argv, prepare, atReady)
	require.Equal(t, want, got, "native vs ringbox")
}

// TestBindMountFIFO makes a FIFO in a read-write bind mount and passes
// data through it between two of the sandbox's processes: the host sees
// the FIFO node, and the pipe is the sandbox's own.
func TestBindMountFIFO(t *testing.T) {
	recordInputs(t)
	argv := []string{"/bin/sh", "-c", "mkfifo p && ls -l p | cut -c1 && (seq 3 > p &) && cat p"}
	want, _ := runInMount(t, false, argv, nil, nil)
	require.Equal(t, "p\n1\n2\n3\n", want, "native run")
	got, dir := runInMount(t, true, argv, nil, nil)
	require.Equal(t, want, got, "native vs ringbox")
	st, err := os.Lstat(filepath.Join(dir, "p"))
	require.NoError(t, err)
	assert.Equal(t, os.ModeNamedPipe, st.Mode().Type(), "the host sees a FIFO node")
}

// runInMount runs argv in a new directory, natively or in the
// sandbox with the directory bind-mounted read-write at the same path and
// as the working directory. prepare, if set, fills the directory first;
// when the program prints "ready", the test's atReady runs and what it
// returns goes to the program's stdin. It returns the program's output and
// the directory.
func runInMount(t *testing.T, sandbox bool, argv []string, prepare func(dir string), atReady func(dir string) string) (string, string) {
	t.Helper()
	dir := t.TempDir()
	if prepare != nil {
		prepare(dir)
	}
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	var cmd *exec.Cmd
	if sandbox {
		args := runArgs([]string{"--mount", dir + ":" + dir + ":rw", "--workdir", dir}, baseEnv, argv[0], argv[1:])
		cmd = exec.CommandContext(ctx, args[0], args[1:]...)
	} else {
		cmd = exec.CommandContext(ctx, argv[0], argv[1:]...)
		cmd.Env = baseEnv
		cmd.Dir = dir
	}
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	var out strings.Builder
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		out.WriteString(sc.Text() + "\n")
		if sc.Text() == "ready" {
			_, err := stdin.Write([]byte(atReady(dir)))
			require.NoError(t, err)
		}
	}
	err = cmd.Wait()
	require.NoError(t, err, "sandbox %v: stderr %s", sandbox, stderr.String())
	return out.String(), dir
}
