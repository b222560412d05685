package e2e

import (
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestSyscallFuzz runs tests/progs/sysfuzz in the sandbox (never natively:
// its calls are random): children make random system calls with random
// arguments. ringbox must not panic and must end the run normally, and a
// canary tree bound read-only, and one read-write, must be unchanged on
// the host (the program only ever sees random paths, so a change would be
// an escape or a write through a read-only mount). RINGBOX_FUZZ_CALLS sets
// the calls per child (default 1000; 20 children).
func TestSyscallFuzz(t *testing.T) {
	recordInputs(t)
	t.Parallel()
	calls := 1000
	if v := os.Getenv("RINGBOX_FUZZ_CALLS"); v != "" {
		n, err := strconv.Atoi(v)
		require.NoError(t, err, "RINGBOX_FUZZ_CALLS")
		calls = n
	}
	const children = 20
	ro, rw := t.TempDir(), t.TempDir()
	for _, d := range []string{ro, rw} {
		require.NoError(t, os.MkdirAll(filepath.Join(d, "sub"), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(d, "canary"), []byte("canary"), 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(d, "sub", "file"), []byte("file"), 0o600))
	}
	before := treeDigest(t, ro) + treeDigest(t, rw)
	seed := strconv.FormatInt(time.Now().UnixNano()%1_000_000, 10)
	s := sandboxed([]string{"--memory", "1G", "--pids", "256", "--mount", ro + ":" + ro + ":ro", "--mount", rw + ":" + rw + ":rw", "--workdir", rw},
		baseEnv, prog("sysfuzz"), []string{seed, strconv.Itoa(children), strconv.Itoa(calls)}, nil)
	s.Timeout = 10 * time.Minute
	r := execute(t, s)
	if !checkSandboxStatus(t, r) {
		return
	}
	t.Logf("seed %s: %d children x %d calls in %v: %s", seed, children, calls, r.Elapsed.Round(time.Millisecond), r.Stdout)
	require.NotRegexp(t, regexp.MustCompile(`panic|goroutine \d+ \[`), string(r.Stderr), "the Go kernel panicked (seed %s)", seed)
	require.Equal(t, 0, r.Code, "seed %s: stderr %s", seed, tail(r.Stderr, 4096))
	require.Regexp(t, fmt.Sprintf(`^children %d: `, children), string(r.Stdout))
	// The read-only tree is unchanged; the read-write one may have gained
	// files (random bytes make valid names), but its files are intact.
	require.Equal(t, treeDigest(t, ro), before[:len(before)/2], "the read-only mount changed (seed %s)", seed)
	for f, want := range map[string]string{"canary": "canary", "sub/file": "file"} {
		b, err := os.ReadFile(filepath.Join(rw, f))
		require.NoError(t, err, "seed %s", seed)
		require.Equal(t, want, string(b), "seed %s", seed)
	}
}

// treeDigest hashes the names, modes and contents of a tree.
func treeDigest(t *testing.T, root string) string {
	h := sha256.New()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s %v\n", p, info.Mode())
		if d.Type().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			h.Write(b)
		}
		return nil
	})
	require.NoError(t, err)
	return fmt.Sprintf("%x", h.Sum(nil))
}
