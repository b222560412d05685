package e2e

import (
	"bufio"
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

// TestNothingLeftBehind (issue 12): SIGKILL of a busy ringbox (processes,
// threads, pipes, a shared memory file, files in its tmpfs) leaves no
// process, thread or file behind on the host: everything the sandbox runs
// is a thread of ringbox, and everything it keeps is ringbox's memory or
// descriptors.
func TestNothingLeftBehind(t *testing.T) {
	recordInputs(t)
	tmpBefore := listDir(t, os.TempDir())
	shmBefore := listDir(t, "/dev/shm")
	script := `for i in 1 2 3; do (while :; do :; done) & done
python3 -c 'import threading, time
for i in range(4): threading.Thread(target=time.sleep, args=(100,), daemon=True).start()
print("threads", flush=True); time.sleep(100)' &
echo data > /tmp/inside; echo x > /dev/shm/inside
sleep 0.5; echo started; wait`
	cmd := exec.Command(ringboxBin, runArgs(nil, baseEnv, "/bin/sh", []string{"-c", script})[1:]...)
	cmd.Env = os.Environ()
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	pid := cmd.Process.Pid
	sc := bufio.NewScanner(out)
	deadline := time.AfterFunc(2*time.Minute, func() { cmd.Process.Kill() })
	defer deadline.Stop()
	for sc.Scan() && sc.Text() != "started" {
	}
	// ringbox runs the sandbox in a confined child of its own.
	child := sandboxProcess(t, pid)
	threads := countThreads(t, child)
	require.Greater(t, threads, 4, "the sandbox's tasks are ringbox's threads")
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	_ = cmd.Wait()
	require.NoDirExists(t, "/proc/"+strconv.Itoa(pid), "ringbox is gone")
	// The child dies with it (PR_SET_PDEATHSIG), and its PID namespace
	// with it.
	require.Eventually(t, func() bool {
		_, err := os.Stat("/proc/" + strconv.Itoa(child))
		return os.IsNotExist(err)
	}, 10*time.Second, 20*time.Millisecond, "ringbox's sandbox process %d outlived it", child)
	// No host process is a child of the dead ringbox or carries its name.
	ents, err := os.ReadDir("/proc")
	require.NoError(t, err)
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		s := string(stat)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		require.NotEqual(t, strconv.Itoa(pid), fields[1], "process %s was ringbox's child", e.Name())
	}
	require.Equal(t, tmpBefore, listDir(t, os.TempDir()), "files left in %s", os.TempDir())
	require.Equal(t, shmBefore, listDir(t, "/dev/shm"), "files left in /dev/shm")
}

func listDir(t *testing.T, dir string) []string {
	ents, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)
	var names []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "ringbox") || strings.HasPrefix(e.Name(), "inside") {
			names = append(names, e.Name())
		}
	}
	return names
}

// sandboxProcess returns the confined child of the ringbox process pid:
// the one that runs the sandbox (vmm/confine).
func sandboxProcess(t *testing.T, pid int) int {
	t.Helper()
	var kids []int
	require.Eventually(t, func() bool {
		kids = nil
		tasks, _ := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*/children")
		for _, f := range tasks {
			b, _ := os.ReadFile(f)
			for _, w := range strings.Fields(string(b)) {
				n, _ := strconv.Atoi(w)
				kids = append(kids, n)
			}
		}
		return len(kids) > 0
	}, 10*time.Second, 10*time.Millisecond, "ringbox %d has no child", pid)
	require.Len(t, kids, 1, "ringbox %d should have one child, the sandbox", pid)
	return kids[0]
}

func countThreads(t *testing.T, pid int) int {
	ents, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
	require.NoError(t, err)
	return len(ents)
}
