package e2e

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestProcessTools runs ps and pgrep in the sandbox on a shell with a
// background sleep: both read every process's /proc files (stat, status,
// cmdline) and must find the sleep, asleep, as a child of the shell. The
// output names no PIDs, so it is the same natively.
func TestProcessTools(t *testing.T) {
	recordInputs(t)
	t.Parallel()
	script := `sleep 30 & s=$!
i=0; until pgrep -x sleep >/dev/null || [ $i -ge 200 ]; do sleep 0.1; i=$((i+1)); done
echo "$(ps -o stat= -p $s | tr -d ' ') $(ps -o comm= -p $s | tr -d ' ')"
[ "$(ps -o ppid= -p $s | tr -d ' ')" = "$$" ] && echo "parent is the shell"
pgrep -x sleep | grep -qx "$s" && echo "pgrep found it"
ps aux | awk -v s=$s '$2 == s { print $11, $12 }'
kill $s; wait $s; echo "status $?"`
	for _, run := range []struct {
		name string
		spec spec
	}{
		{"native", native("/bin/sh", []string{"-c", script}, baseEnv, nil)},
		{"ringbox", sandboxed(nil, baseEnv, "/bin/sh", []string{"-c", script}, nil)},
	} {
		r := execute(t, run.spec)
		if run.name == "ringbox" && !checkSandboxStatus(t, r) {
			return
		}
		require.Equal(t, 0, r.Code, "%s: stderr %s", run.name, r.Stderr)
		require.Equal(t, "S sleep\nparent is the shell\npgrep found it\nsleep 30\nstatus 143\n", string(r.Stdout), "%s", run.name)
	}
}

// TestSetHostname: the sandbox's root may rename the sandbox (its own
// UTS namespace: uname and /proc see the new name, the host keeps its
// own); another user may not (EPERM). Only in the sandbox: natively as
// root it would rename the host.
func TestSetHostname(t *testing.T) {
	recordInputs(t)
	before, err := os.Hostname()
	require.NoError(t, err)
	r := execute(t, sandboxed([]string{"--hostname", "box1"}, []string{"PATH=/usr/bin:/bin"}, "/bin/sh",
		[]string{"-c", "uname -n; hostname box2 && uname -n && cat /proc/sys/kernel/hostname"}, nil))
	require.Equal(t, 0, r.Code, "stderr: %s", r.Stderr)
	require.Equal(t, "box1\nbox2\nbox2\n", string(r.Stdout))
	after, err := os.Hostname()
	require.NoError(t, err)
	require.Equal(t, before, after, "the host's name is untouched")
	r = execute(t, sandboxed([]string{"--user", "1000"}, []string{"PATH=/usr/bin:/bin"}, "/bin/sh",
		[]string{"-c", "hostname other 2>/dev/null; echo $?; uname -n"}, nil))
	require.Equal(t, 0, r.Code, "stderr: %s", r.Stderr)
	require.Equal(t, "1\nringbox\n", string(r.Stdout), "without CAP_SYS_ADMIN")
}
