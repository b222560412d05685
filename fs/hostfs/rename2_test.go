package hostfs

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	rfs "ringbox/fs"
)

// evictAll closes every node's O_PATH fd: later calls reopen them by
// their recorded names.
func evictAll(t *testing.T, f *FS) {
	t.Helper()
	f.mu.Lock()
	f.maxFDs = 0
	f.evictLocked()
	f.maxFDs = DefaultMaxFDs
	f.mu.Unlock()
	require.Zero(t, f.openFDs())
}

func TestRenameFlagsRefused(t *testing.T) {
	tr := newTree(t)
	root := tr.fs(t, false).Root()
	m := root.(Mutable)
	for _, flags := range []uint{
		unix.RENAME_WHITEOUT,
		unix.RENAME_NOREPLACE | unix.RENAME_EXCHANGE,
		unix.RENAME_EXCHANGE | unix.RENAME_WHITEOUT,
		1 << 5,
	} {
		assert.Equal(t, unix.EINVAL, m.Rename("file", root, "moved", flags), "flags %#x", flags)
	}
	assert.FileExists(t, filepath.Join(tr.root, "file"))
	assert.NoFileExists(t, filepath.Join(tr.root, "moved"))
	ro := tr.fs(t, true).Root()
	for _, flags := range []uint{unix.RENAME_NOREPLACE, unix.RENAME_EXCHANGE} {
		assert.Equal(t, unix.EROFS, ro.(Mutable).Rename("file", ro, "dir", flags))
	}
}

// TestRenameNoReplace: the host checks the name and renames in one call.
func TestRenameNoReplace(t *testing.T) {
	tr := newTree(t)
	f := tr.fs(t, false)
	root := f.Root()
	m := root.(Mutable)
	p := func(s string) string { return filepath.Join(tr.root, s) }
	const noreplace = unix.RENAME_NOREPLACE
	file := walk(t, root, "file")
	for _, to := range []string{"empty", "tofile", "loop", "file"} { // a directory, symlinks (a dangling one), itself
		assert.Equal(t, unix.EEXIST, m.Rename("file", root, to, noreplace), "file -> %s", to)
	}
	assert.Equal(t, unix.ENOENT, m.Rename("missing", root, "new", noreplace))
	assert.Equal(t, "hello", readFile(t, walk(t, root, "file")))
	target, err := os.Readlink(p("tofile"))
	require.NoError(t, err)
	assert.Equal(t, "file", target)
	// A name that appears behind the sandbox's back counts.
	dir := walk(t, root, "dir")
	require.NoError(t, os.WriteFile(p("dir/appeared"), []byte("host"), 0o644))
	assert.Equal(t, unix.EEXIST, m.Rename("file", dir, "appeared", noreplace))
	b, err := os.ReadFile(p("dir/appeared"))
	require.NoError(t, err)
	assert.Equal(t, "host", string(b))

	// A free name: renamed; the node follows.
	require.NoError(t, m.Rename("file", dir, "moved", noreplace))
	assert.NoFileExists(t, p("file"))
	assert.Same(t, file, walk(t, root, "dir/moved"))
	evictAll(t, f)
	st, err := file.Stat()
	require.NoError(t, err)
	assert.Equal(t, lstat(t, p("dir/moved")).Ino, st.Ino)
	assert.Equal(t, "hello", readFile(t, file))
}

// TestRenameExchange: the host swaps the two names; live nodes follow
// their files, so each name's node is the file now there, after their
// fds were evicted too.
func TestRenameExchange(t *testing.T) {
	tr := newTree(t)
	f := tr.fs(t, false)
	root := f.Root()
	m := root.(Mutable)
	p := func(s string) string { return filepath.Join(tr.root, s) }
	const exchange = unix.RENAME_EXCHANGE

	assert.Equal(t, unix.ENOENT, m.Rename("file", root, "missing", exchange))
	assert.Equal(t, unix.ENOENT, m.Rename("missing", root, "file", exchange))
	assert.Equal(t, unix.EINVAL, m.Rename("dir", walk(t, root, "dir/sub"), "nested", exchange), "the source above the target")
	assert.Equal(t, unix.EINVAL, walk(t, root, "dir/sub").(Mutable).Rename("nested", root, "dir", exchange), "the target above the source")

	// Two files of two directories.
	file, passwd := walk(t, root, "file"), walk(t, root, "etc/passwd")
	fileIno, passwdIno := lstat(t, p("file")).Ino, lstat(t, p("etc/passwd")).Ino
	etc := walk(t, root, "etc")
	require.NoError(t, m.Rename("file", etc, "passwd", exchange))
	check := func() {
		t.Helper()
		assert.Equal(t, passwdIno, lstat(t, p("file")).Ino)
		assert.Equal(t, fileIno, lstat(t, p("etc/passwd")).Ino)
		assert.Same(t, passwd, walk(t, root, "file"))
		assert.Same(t, file, walk(t, root, "etc/passwd"))
		assert.Equal(t, "inside passwd", readFile(t, walk(t, root, "file")))
		assert.Equal(t, "hello", readFile(t, walk(t, root, "etc/passwd")))
		for _, n := range []rfs.Node{file, passwd} {
			st, err := n.Stat()
			require.NoError(t, err)
			want := fileIno
			if n == passwd {
				want = passwdIno
			}
			assert.Equal(t, want, st.Ino)
		}
	}
	check()
	evictAll(t, f)
	check()
	// Back, through a node whose fd is closed.
	require.NoError(t, etc.(Mutable).Rename("passwd", root, "file", exchange))
	assert.Same(t, file, walk(t, root, "file"))
	assert.Same(t, passwd, walk(t, root, "etc/passwd"))
	assert.Equal(t, "hello", readFile(t, file))

	// A directory and a file: the directory's nodes below keep working.
	dir, inner := walk(t, root, "dir"), walk(t, root, "dir/inner")
	require.NoError(t, m.Rename("dir", root, "file", exchange))
	assert.DirExists(t, p("file"))
	assert.FileExists(t, p("dir"))
	assert.Same(t, dir, walk(t, root, "file"))
	assert.Same(t, file, walk(t, root, "dir"))
	evictAll(t, f)
	assert.Equal(t, "inner", readFile(t, inner))
	assert.Equal(t, "hello", readFile(t, file))
	assert.ElementsMatch(t, []string{"inner", "sub", "up"}, names(readDir(t, walk(t, root, "file"))))
	// A name with itself: nothing happens.
	require.NoError(t, m.Rename("file", root, "file", exchange))
	assert.Same(t, dir, walk(t, root, "file"))
	assert.DirExists(t, p("file"))
}
