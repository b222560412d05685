package e2e

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestBindMountCoherence runs the coherence program in a read-write bind
// mount, natively and in the sandbox: between its two halves the test
// changes the mount on the host (rewrites the shared file, creates a file,
// removes one). Both runs must print the same.
func TestBindMountCoherence(t *testing.T) {
	recordInputs(t)
	run := func(sandbox bool) string {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "removed.txt"), []byte("x"), 0o644))
		ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
		defer cancel()
		var cmd *exec.Cmd
		if sandbox {
			args := runArgs([]string{"--mount", dir + ":" + dir + ":rw", "--workdir", dir}, baseEnv, prog("coherence"), nil)
			cmd = exec.CommandContext(ctx, args[0], args[1:]...)
		} else {
			cmd = exec.CommandContext(ctx, prog("coherence"))
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
				// The host changes the mount under the running program.
				require.NoError(t, os.WriteFile(filepath.Join(dir, "shared.txt"), []byte("three from the host"), 0o644))
				require.NoError(t, os.WriteFile(filepath.Join(dir, "from-host.txt"), []byte("y"), 0o644))
				require.NoError(t, os.Remove(filepath.Join(dir, "removed.txt")))
				_, err := stdin.Write([]byte("go\n"))
				require.NoError(t, err)
			}
		}
		err = cmd.Wait()
		require.NoError(t, err, "sandbox %v: stderr %s", sandbox, stderr.String())
		return out.String()
	}
	want := run(false)
	require.Contains(t, want, "three from the host", "native run")
	start := time.Now()
	got := run(true)
	require.Equal(t, want, got, "native vs ringbox (%v)", time.Since(start))
}
