package e2e

import (
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
