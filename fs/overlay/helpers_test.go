package overlay

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	rfs "ringbox/fs"
	"ringbox/fs/hostfs"
	"ringbox/fs/tmpfs"
)

// tree describes host files to make: "dir/" is a directory, "name=text"
// a file, "name->target" a symbolic link.
func makeTree(t *testing.T, root string, entries ...string) {
	t.Helper()
	for _, e := range entries {
		switch {
		case strings.HasSuffix(e, "/"):
			require.NoError(t, os.MkdirAll(filepath.Join(root, e), 0o755))
		case strings.Contains(e, "->"):
			name, target, _ := strings.Cut(e, "->")
			require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(root, name)), 0o755))
			require.NoError(t, os.Symlink(target, filepath.Join(root, name)))
		default:
			name, text, _ := strings.Cut(e, "=")
			require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(root, name)), 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(root, name), []byte(text), 0o644))
		}
	}
}

// testOverlay is an overlay on a host directory and a tmpfs.
type testOverlay struct {
	dir   string // the lower host directory
	ov    *FS
	upper *tmpfs.FS
	root  rfs.Node
}

// newOverlay makes a host directory with entries (see makeTree), stacks
// a tmpfs on it, and checks at the end of the test that the host
// directory was not changed.
func newOverlay(t *testing.T, entries ...string) *testOverlay {
	t.Helper()
	dir := t.TempDir()
	makeTree(t, dir, entries...)
	return overlayOn(t, dir)
}

func overlayOn(t *testing.T, dir string) *testOverlay {
	t.Helper()
	lower, err := hostfs.New(dir, true)
	require.NoError(t, err)
	t.Cleanup(func() { lower.Close() })
	upper := tmpfs.New(1 << 30)
	ov := New(lower, upper)
	before := snapshot(t, dir)
	t.Cleanup(func() {
		require.Equal(t, before, snapshot(t, dir), "the lower host tree changed")
	})
	return &testOverlay{dir: dir, ov: ov, upper: upper, root: ov.Root()}
}

// snapshot describes a host tree: names, types, modes, sizes, contents,
// link targets, mtimes.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return err
		}
		desc := fmt.Sprintf("mode=%o size=%d mtime=%d.%d ino=%d nlink=%d", st.Mode, st.Size, st.Mtim.Sec, st.Mtim.Nsec, st.Ino, st.Nlink)
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFREG:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			desc += fmt.Sprintf(" sha=%x", sha256.Sum256(b))
		case unix.S_IFLNK:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			desc += " target=" + target
		}
		rel, _ := filepath.Rel(dir, p)
		out[rel] = desc
		return nil
	})
	require.NoError(t, err)
	return out
}

// walk looks a slash-separated path up from n (symbolic links are not
// followed).
func walk(n rfs.Node, path string) (rfs.Node, error) {
	for _, name := range splitPath(path) {
		var err error
		if n, err = n.Lookup(name); err != nil {
			return nil, err
		}
	}
	return n, nil
}

func lookup(t *testing.T, n rfs.Node, path string) rfs.Node {
	t.Helper()
	c, err := walk(n, path)
	require.NoError(t, err, "lookup %q", path)
	return c
}

func splitPath(p string) []string {
	var out []string
	for _, s := range strings.Split(p, "/") {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

func mut(t *testing.T, n rfs.Node) rfs.Mutable {
	t.Helper()
	m, ok := n.(rfs.Mutable)
	require.True(t, ok, "node is Mutable")
	return m
}

func stat(t *testing.T, n rfs.Node) unix.Stat_t {
	t.Helper()
	st, err := n.Stat()
	require.NoError(t, err)
	return st
}

func readAll(t *testing.T, impl rfs.Impl) string {
	t.Helper()
	var b bytes.Buffer
	buf := make([]byte, 64<<10)
	for {
		k, err := impl.Read(buf)
		require.NoError(t, err)
		if k == 0 {
			return b.String()
		}
		b.Write(buf[:k])
	}
}

// content reads the file at path.
func content(t *testing.T, n rfs.Node, path string) string {
	t.Helper()
	impl, err := lookup(t, n, path).Open(unix.O_RDONLY)
	require.NoError(t, err)
	defer impl.Release()
	return readAll(t, impl)
}

// writeFile opens path with flags and writes s.
func writeFile(t *testing.T, n rfs.Node, path string, flags int, s string) {
	t.Helper()
	impl, err := lookup(t, n, path).Open(flags)
	require.NoError(t, err)
	defer impl.Release()
	k, err := impl.Write([]byte(s))
	require.NoError(t, err)
	require.Equal(t, len(s), k)
}

// create makes file name in dir with content s.
func create(t *testing.T, dir rfs.Node, name, s string) rfs.Node {
	t.Helper()
	n, impl, err := mut(t, dir).Create(name, unix.O_WRONLY|unix.O_EXCL, 0o644)
	require.NoError(t, err)
	defer impl.Release()
	if s != "" {
		k, err := impl.Write([]byte(s))
		require.NoError(t, err)
		require.Equal(t, len(s), k)
	}
	return n
}

// readDir lists a directory through its DirReader, a few entries at a
// time.
func readDir(t *testing.T, n rfs.Node) []rfs.DirEntry {
	t.Helper()
	impl, err := n.Open(unix.O_RDONLY | unix.O_DIRECTORY)
	require.NoError(t, err)
	defer impl.Release()
	dr, ok := impl.(rfs.DirReader)
	require.True(t, ok)
	var out []rfs.DirEntry
	for off := 0; ; {
		ents, err := dr.ReadDir(off, 3)
		require.NoError(t, err)
		if len(ents) == 0 {
			return out
		}
		out = append(out, ents...)
		off += len(ents)
	}
}

// names lists a directory, sorted.
func names(t *testing.T, n rfs.Node, path string) []string {
	t.Helper()
	var out []string
	for _, e := range readDir(t, lookup(t, n, path)) {
		out = append(out, e.Name)
	}
	sort.Strings(out)
	return out
}

// upperNames lists a directory of the upper tmpfs, sorted (nil if it is
// not there).
func (o *testOverlay) upperNames(t *testing.T, path string) []string {
	t.Helper()
	n, err := walk(o.upper.Root(), path)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range readDir(t, n) {
		out = append(out, e.Name)
	}
	sort.Strings(out)
	return out
}

// inUpper reports whether path is in the upper tmpfs.
func (o *testOverlay) inUpper(path string) bool {
	_, err := walk(o.upper.Root(), path)
	return err == nil
}

func ts(sec int64) unix.Timespec { return unix.Timespec{Sec: sec} }

var omit = unix.Timespec{Nsec: unix.UTIME_OMIT}
