package e2e

import (
	"bufio"
	"context"
	"io"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSignalHandlersFromOutside drives the sighandle program with signals
// sent to it (natively) or to ringbox (which forwards them), each after the
// program printed the line that says it is blocked: a handler cuts
// sigsuspend short with EINTR, an SA_RESTART handler restarts a futex wait, and
// SIGTERM without a handler kills it. Output and status must match.
func TestSignalHandlersFromOutside(t *testing.T) {
	recordInputs(t)
	drive := func(t *testing.T, s spec) (string, int) {
		ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, s.Path)
		cmd.Args = s.Argv
		cmd.Env = s.environ()
		cmd.Dir = t.TempDir()
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start(), "starting %s", s)
		lines := make(chan string, 16)
		go func() {
			r := bufio.NewReader(out)
			for {
				l, err := r.ReadString('\n')
				if l != "" {
					lines <- l
				}
				if err != nil {
					close(lines)
					_, _ = io.Copy(io.Discard, r)
					return
				}
			}
		}()
		var got strings.Builder
		await := func(want string) {
			for {
				select {
				case l, ok := <-lines:
					if !ok {
						t.Fatalf("%s: output ended before %q; got %q\nstderr:\n%s", s, want, got.String(), stderr.String())
					}
					got.WriteString(l)
					if l == want {
						return
					}
				case <-ctx.Done():
					t.Fatalf("%s: no %q within %v; got %q", s, want, runTimeout, got.String())
				}
			}
		}
		send := func(sig syscall.Signal) {
			// Let the program reach the blocking call after its line.
			time.Sleep(100 * time.Millisecond)
			require.NoError(t, cmd.Process.Signal(sig))
		}
		await("ready\n")
		send(syscall.SIGINT)
		await("waiting\n")
		send(syscall.SIGHUP)
		await("hup\n")
		send(syscall.SIGTERM)
		for l := range lines {
			got.WriteString(l)
		}
		_ = cmd.Wait()
		code, _ := status(cmd.ProcessState)
		return got.String(), code
	}
	nOut, nCode := drive(t, native(prog("sighandle"), nil, baseEnv, nil))
	require.Equal(t, "ready\nint\nsigsuspend: -1 EINTR\nwaiting\nhup\n", nOut, "native reference output")
	sOut, sCode := drive(t, sandboxed(nil, baseEnv, prog("sighandle"), nil, nil))
	assert.Equal(t, nOut, sOut, "stdout under ringbox")
	assert.Equal(t, nCode, sCode, "exit status under ringbox")
}

// TestSignalToBusyProgram interrupts a CPU-bound program with SIGINT: the
// vCPU is kicked out of user code, the handler's frame is built and the
// program resumed. Its output and status must match the native run, and
// its later syscalls (the last one is exit_group) must reach the sandbox's
// kernel, as --strace shows: a resumed vCPU once sent them past it.
func TestSignalToBusyProgram(t *testing.T) {
	recordInputs(t)
	run := func(s spec) (string, string, int) {
		ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, s.Path)
		cmd.Args = s.Argv
		cmd.Env = s.environ()
		cmd.Dir = t.TempDir()
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start(), "starting %s", s)
		r := bufio.NewReader(out)
		first, err := r.ReadString('\n')
		require.NoError(t, err, "%s: reading the ready line; stderr:\n%s", s, stderr.String())
		require.Equal(t, "ready\n", first)
		time.Sleep(200 * time.Millisecond) // deep in the loop
		require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
		rest, _ := io.ReadAll(r)
		_ = cmd.Wait()
		code, _ := status(cmd.ProcessState)
		return first + string(rest), stderr.String(), code
	}
	nOut, _, nCode := run(native(prog("busyhandler"), nil, baseEnv, nil))
	require.Equal(t, 0, nCode, "native status")
	sOut, sErr, sCode := run(sandboxed([]string{"--strace"}, baseEnv, prog("busyhandler"), nil, nil))
	assert.Equal(t, nOut, sOut, "stdout under ringbox")
	assert.Equal(t, nCode, sCode, "exit status under ringbox")
	assert.Contains(t, sErr, "rt_sigreturn()", "the handler's return must reach the sandbox kernel")
	assert.Contains(t, sErr, "getppid() =", "a syscall after the handler must reach the sandbox kernel")
	assert.Contains(t, sErr, "exit_group(0) = ?", "the exit must reach the sandbox kernel")
}
