package tmpfs

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	rfs "ringbox/fs"
)

// tree builds:
//
//	/f1 "one"   /f2 "two"
//	/a/b/c/     /a/file "in a"
//	/empty/     /full/x
func tree(t *testing.T) (*FS, rfs.Mutable) {
	t.Helper()
	f, root := setup(t, 1<<20)
	create(t, root, "f1", "one")
	create(t, root, "f2", "two")
	require.NoError(t, root.Mkdir("a", 0o755))
	a := mut(t, lookup(t, f.Root(), "a"))
	require.NoError(t, a.Mkdir("b", 0o755))
	require.NoError(t, mut(t, lookup(t, f.Root(), "a/b")).Mkdir("c", 0o755))
	create(t, a, "file", "in a")
	require.NoError(t, root.Mkdir("empty", 0o755))
	require.NoError(t, root.Mkdir("full", 0o755))
	create(t, mut(t, lookup(t, f.Root(), "full")), "x", "")
	return f, root
}

func TestRenameErrors(t *testing.T) {
	f, _ := tree(t)
	r := f.Root()
	a := lookup(t, r, "a")
	b := lookup(t, r, "a/b")
	c := lookup(t, r, "a/b/c")
	f1 := lookup(t, r, "f1")
	for _, tc := range []struct {
		from    rfs.Node
		oldName string
		to      rfs.Node
		newName string
		want    error
	}{
		{r, "missing", r, "x", unix.ENOENT},
		{r, "f1", r, "empty", unix.EISDIR},      // a file onto a directory
		{r, "a", r, "f1", unix.ENOTDIR},         // a directory onto a file
		{r, "empty", r, "full", unix.ENOTEMPTY}, // onto a non-empty directory
		{r, "a", a, "x", unix.EINVAL},           // into itself
		{r, "a", b, "x", unix.EINVAL},           // into its subtree
		{r, "a", c, "a", unix.EINVAL},
		{a, "b", c, "x", unix.EINVAL},
		{b, "c", r, "a", unix.ENOTEMPTY}, // onto an ancestor
		{r, "f1", f1, "x", unix.ENOTDIR}, // into a file
		{f1, "x", r, "y", unix.ENOTDIR},  // from a file
		{r, "f1", New(1).Root(), "x", unix.EXDEV},
		{r, "f1", nil, "x", unix.EXDEV},
		{r, "", r, "x", unix.EINVAL},
		{r, "f1", r, "..", unix.EINVAL},
		{r, "f1", r, "a/x", unix.EINVAL},
	} {
		err := mut(t, tc.from).Rename(tc.oldName, tc.to, tc.newName, 0)
		assert.Equal(t, tc.want, err, "%s -> %s", tc.oldName, tc.newName)
	}
	// Nothing moved.
	assert.Equal(t, []string{"f1", "f2", "a", "empty", "full"}, names(t, r))
	assert.Equal(t, []string{"b", "file"}, names(t, a))
	assert.Equal(t, []string{"c"}, names(t, b))
	assert.Equal(t, uint64(5), stat(t, r).Nlink)
}

func TestRename(t *testing.T) {
	f, root := tree(t)
	r := f.Root()
	before := usage(f)

	// Same name, and two links of one file: nothing happens.
	require.NoError(t, root.Rename("f1", r, "f1", 0))
	require.NoError(t, root.Link(lookup(t, r, "f1"), "f1link"))
	require.NoError(t, root.Rename("f1", r, "f1link", 0))
	assert.Equal(t, "one", content(t, lookup(t, r, "f1")))
	assert.Equal(t, "one", content(t, lookup(t, r, "f1link")))
	assert.Equal(t, uint64(2), stat(t, lookup(t, r, "f1")).Nlink)
	require.NoError(t, root.Unlink("f1link"))

	// A simple rename in place.
	f1 := lookup(t, r, "f1")
	require.NoError(t, root.Rename("f1", r, "g1", 0))
	_, err := r.Lookup("f1")
	assert.Equal(t, unix.ENOENT, err)
	assert.Same(t, f1, lookup(t, r, "g1"))

	// Replacing a file: the old one is gone, but stays readable if open.
	f2 := lookup(t, r, "f2")
	h := open(t, f2, unix.O_RDONLY)
	require.NoError(t, root.Rename("g1", r, "f2", 0))
	assert.Same(t, f1, lookup(t, r, "f2"))
	_, err = r.Lookup("g1")
	assert.Equal(t, unix.ENOENT, err)
	assert.Equal(t, uint64(0), stat(t, f2).Nlink)
	assert.Equal(t, "two", readAll(t, h))
	h.Release()

	// Moving a directory: link counts follow.
	a := lookup(t, r, "a")
	b := lookup(t, r, "a/b")
	empty := lookup(t, r, "empty")
	require.NoError(t, mut(t, a).Rename("b", empty, "b2", 0))
	assert.Equal(t, uint64(2), stat(t, a).Nlink)
	assert.Equal(t, uint64(3), stat(t, empty).Nlink)
	assert.Same(t, b, lookup(t, r, "empty/b2"))
	assert.Same(t, lookup(t, b, "c"), lookup(t, r, "empty/b2/c"))
	// Its new place counts for the subtree check.
	assert.Equal(t, unix.EINVAL, root.Rename("empty", b, "x", 0))
	require.NoError(t, root.Rename("a", b, "a", 0), "a is no longer above b")
	assert.Same(t, a, lookup(t, r, "empty/b2/a"))

	// Replacing an empty directory with a directory.
	require.NoError(t, root.Mkdir("target", 0o755))
	target := lookup(t, r, "target")
	nlink := stat(t, r).Nlink
	require.NoError(t, root.Rename("full", r, "target", 0))
	assert.Equal(t, nlink-1, stat(t, r).Nlink)
	assert.Equal(t, uint64(0), stat(t, target).Nlink)
	assert.Equal(t, []string{"x"}, names(t, lookup(t, r, "target")))
	_, err = r.Lookup("full")
	assert.Equal(t, unix.ENOENT, err)

	// Replacing a symlink with a file, a file with a symlink.
	require.NoError(t, root.Symlink("somewhere", "sl"))
	require.NoError(t, root.Rename("f2", r, "sl", 0))
	assert.Equal(t, "one", content(t, lookup(t, r, "sl")))
	require.NoError(t, root.Symlink("elsewhere", "sl2"))
	require.NoError(t, root.Rename("sl2", r, "sl", 0))
	target2, err := lookup(t, r, "sl").Readlink()
	require.NoError(t, err)
	assert.Equal(t, "elsewhere", target2)
	assert.Equal(t, uint64(0), stat(t, f1).Nlink)

	// Everything is accounted: remove all and nothing is left.
	removeAll(t, r)
	assert.Equal(t, [2]int64{0, 1}, usage(f))
	assert.Equal(t, uint64(2), stat(t, r).Nlink)
	assert.NotEqual(t, before, usage(f))
}

// removeAll empties directory n.
func removeAll(t *testing.T, n rfs.Node) {
	t.Helper()
	for _, name := range names(t, n) {
		c := lookup(t, n, name)
		if stat(t, c).Mode&unix.S_IFMT == unix.S_IFDIR {
			removeAll(t, c)
			require.NoError(t, mut(t, n).Rmdir(name))
		} else {
			require.NoError(t, mut(t, n).Unlink(name))
		}
	}
}
