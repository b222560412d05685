package e2e

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestConfinement (issue 12): the process that runs the sandbox is shut
// in. From the host, while a program runs: it has namespaces of its own,
// its root is an empty directory but for /proc, it holds no capability,
// no_new_privs is set, core dumps are off, and a descriptor ringbox's
// parent left open did not reach it. --debug names the layers.
func TestConfinement(t *testing.T) {
	recordInputs(t)
	leak, err := os.CreateTemp("", "ringbox-leak-*")
	require.NoError(t, err)
	defer os.Remove(leak.Name())
	defer leak.Close()

	cmd := exec.Command(ringboxBin, runArgs([]string{"--debug"}, baseEnv, "/bin/sh", []string{"-c", "echo started; sleep 60"})[1:]...)
	cmd.Env = os.Environ()
	cmd.ExtraFiles = []*os.File{leak} // fd 3 in ringbox, not close-on-exec
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	defer cmd.Process.Kill()
	deadline := time.AfterFunc(2*time.Minute, func() { cmd.Process.Kill() })
	defer deadline.Stop()
	sc := bufio.NewScanner(out)
	for sc.Scan() && sc.Text() != "started" {
	}
	child := sandboxProcess(t, cmd.Process.Pid)
	proc := "/proc/" + strconv.Itoa(child)

	// Every thread: capabilities are per thread (the bounding set too,
	// which the child inherits from the parent thread that started it).
	tasks, err := filepath.Glob(proc + "/task/*/status")
	require.NoError(t, err)
	require.NotEmpty(t, tasks)
	for _, task := range tasks {
		st, err := os.ReadFile(task)
		require.NoError(t, err)
		for _, want := range []string{"CapInh:\t0000000000000000", "CapPrm:\t0000000000000000",
			"CapEff:\t0000000000000000", "CapBnd:\t0000000000000000", "CapAmb:\t0000000000000000", "NoNewPrivs:\t1"} {
			require.Contains(t, string(st), want, task)
		}
	}
	for _, ns := range []string{"mnt", "pid", "ipc", "uts", "net"} {
		ours, err := os.Readlink("/proc/self/ns/" + ns)
		require.NoError(t, err)
		theirs, err := os.Readlink(proc + "/ns/" + ns)
		require.NoError(t, err)
		require.NotEqual(t, ours, theirs, "the sandbox process shares the %s namespace", ns)
	}
	ents, err := os.ReadDir(proc + "/root")
	require.NoError(t, err)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	require.Equal(t, []string{"proc"}, names, "the sandbox process's root")
	limits, err := os.ReadFile(proc + "/limits")
	require.NoError(t, err)
	require.Regexp(t, `Max core file size\s+0\s+0\s`, string(limits))
	fds, err := filepath.Glob(proc + "/fd/*")
	require.NoError(t, err)
	for _, fd := range fds {
		target, _ := os.Readlink(fd)
		require.NotEqual(t, leak.Name(), target, "an inherited descriptor reached the sandbox process (%s)", fd)
	}

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	err = cmd.Wait()
	code, _ := status(cmd.ProcessState)
	require.Equal(t, 143, code, "SIGTERM is passed to the program (sh dies of it); stderr:\n%s", stderr.String())
	require.Contains(t, stderr.String(), "namespaces mnt,pid,ipc,uts,net")
	require.Contains(t, stderr.String(), "all capabilities dropped")
}

// TestNoConfine: --no-confine warns, and runs the sandbox in the ringbox
// process itself.
func TestNoConfine(t *testing.T) {
	recordInputs(t)
	r := execute(t, sandboxed([]string{"--no-confine"}, nil, "/bin/sh", []string{"-c", "echo hi; exit 3"}, nil))
	require.Equal(t, 3, r.Code)
	require.Equal(t, "hi\n", string(r.Stdout))
	require.True(t, strings.Contains(string(r.Stderr), "warning: --no-confine"), "stderr: %s", r.Stderr)
}
