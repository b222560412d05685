package tmpfs

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	rfs "ringbox/fs"
)

// setup makes a filesystem with a limit of limit bytes and returns it and
// its root as a Mutable.
func setup(t *testing.T, limit int64) (*FS, rfs.Mutable) {
	t.Helper()
	f := New(limit)
	m, ok := f.Root().(rfs.Mutable)
	require.True(t, ok, "the root is Mutable")
	return f, m
}

func mut(t *testing.T, n rfs.Node) rfs.Mutable {
	t.Helper()
	m, ok := n.(rfs.Mutable)
	require.True(t, ok, "node is Mutable")
	return m
}

// lookup walks a slash-separated path from n.
func lookup(t *testing.T, n rfs.Node, path string) rfs.Node {
	t.Helper()
	for _, name := range splitPath(path) {
		var err error
		n, err = n.Lookup(name)
		require.NoError(t, err, "lookup %q of %q", name, path)
	}
	return n
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

func stat(t *testing.T, n rfs.Node) unix.Stat_t {
	t.Helper()
	st, err := n.Stat()
	require.NoError(t, err)
	return st
}

// create makes file name in dir with content s and returns its node.
func create(t *testing.T, dir rfs.Mutable, name, s string) rfs.Node {
	t.Helper()
	n, impl, err := dir.Create(name, unix.O_WRONLY|unix.O_EXCL, 0o644)
	require.NoError(t, err)
	defer impl.Release()
	if s != "" {
		k, err := impl.Write([]byte(s))
		require.NoError(t, err)
		require.Equal(t, len(s), k)
	}
	return n
}

func open(t *testing.T, n rfs.Node, flags int) rfs.Impl {
	t.Helper()
	impl, err := n.Open(flags)
	require.NoError(t, err)
	t.Cleanup(impl.Release)
	return impl
}

func readAll(t *testing.T, impl rfs.Impl) string {
	t.Helper()
	var b bytes.Buffer
	buf := make([]byte, 1000)
	for {
		k, err := impl.Read(buf)
		require.NoError(t, err)
		if k == 0 {
			return b.String()
		}
		b.Write(buf[:k])
	}
}

func content(t *testing.T, n rfs.Node) string {
	t.Helper()
	impl, err := n.Open(unix.O_RDONLY)
	require.NoError(t, err)
	defer impl.Release()
	return readAll(t, impl)
}

// names lists a directory through its DirReader.
func names(t *testing.T, n rfs.Node) []string {
	t.Helper()
	impl, err := n.Open(unix.O_RDONLY | unix.O_DIRECTORY)
	require.NoError(t, err)
	defer impl.Release()
	dr, ok := impl.(rfs.DirReader)
	require.True(t, ok)
	var out []string
	for off := 0; ; {
		ents, err := dr.ReadDir(off, 3)
		require.NoError(t, err)
		if len(ents) == 0 {
			return out
		}
		for _, e := range ents {
			out = append(out, e.Name)
		}
		off += len(ents)
	}
}

// usage returns the bytes and nodes in use.
func usage(f *FS) [2]int64 {
	b, n := f.Usage()
	return [2]int64{b, n}
}

func ts(sec int64) unix.Timespec { return unix.Timespec{Sec: sec} }

var omit = unix.Timespec{Nsec: unix.UTIME_OMIT}
