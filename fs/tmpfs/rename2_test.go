package tmpfs

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func TestRenameFlagsRefused(t *testing.T) {
	f, root := tree(t)
	r := f.Root()
	for _, flags := range []uint{
		unix.RENAME_WHITEOUT,
		unix.RENAME_NOREPLACE | unix.RENAME_EXCHANGE,
		unix.RENAME_EXCHANGE | unix.RENAME_WHITEOUT,
		1 << 5,
	} {
		assert.Equal(t, unix.EINVAL, root.Rename("f1", r, "g", flags), "flags %#x", flags)
	}
	assert.Equal(t, []string{"f1", "f2", "a", "empty", "full"}, names(t, r))
}

func TestRenameNoReplace(t *testing.T) {
	f, root := tree(t)
	r := f.Root()
	const noreplace = unix.RENAME_NOREPLACE
	before := usage(f)
	f1, f2 := lookup(t, r, "f1"), lookup(t, r, "f2")
	require.NoError(t, root.Link(f1, "f1link"))
	require.NoError(t, root.Symlink("nowhere", "dangling"))
	for _, tc := range []struct{ from, to string }{
		{"f1", "f2"},       // a file
		{"f1", "empty"},    // a directory (not EISDIR: EEXIST first)
		{"empty", "f2"},    // a directory onto a file
		{"f1", "f1link"},   // a link to the same file
		{"f1", "f1"},       // itself
		{"f1", "dangling"}, // a symlink, whatever it points at
	} {
		assert.Equal(t, unix.EEXIST, root.Rename(tc.from, r, tc.to, noreplace), "%s -> %s", tc.from, tc.to)
	}
	assert.Equal(t, unix.ENOENT, root.Rename("missing", r, "f2", noreplace), "the source is looked at first")
	// Nothing changed.
	assert.Equal(t, []string{"f1", "f2", "a", "empty", "full", "f1link", "dangling"}, names(t, r))
	assert.Same(t, f1, lookup(t, r, "f1"))
	assert.Same(t, f2, lookup(t, r, "f2"))
	assert.Equal(t, "one", content(t, f1))
	assert.Equal(t, "two", content(t, f2))
	assert.Equal(t, uint64(2), stat(t, f1).Nlink)
	assert.Equal(t, uint64(1), stat(t, f2).Nlink)
	require.NoError(t, root.Unlink("f1link"))
	require.NoError(t, root.Unlink("dangling"))
	assert.Equal(t, before, usage(f))

	// A free name: renamed as without the flag.
	require.NoError(t, root.Rename("f1", r, "g1", noreplace))
	assert.Same(t, f1, lookup(t, r, "g1"))
	_, err := r.Lookup("f1")
	assert.Equal(t, unix.ENOENT, err)
	a := lookup(t, r, "a")
	full := lookup(t, r, "full")
	require.NoError(t, mut(t, a).Rename("b", full, "b", noreplace))
	assert.Equal(t, uint64(2), stat(t, a).Nlink)
	assert.Equal(t, uint64(3), stat(t, full).Nlink)
	assert.Equal(t, []string{"c"}, names(t, lookup(t, r, "full/b")))
	// A name freed by unlink is free.
	require.NoError(t, root.Unlink("f2"))
	require.NoError(t, root.Rename("g1", r, "f2", noreplace))
	assert.Equal(t, "one", content(t, lookup(t, r, "f2")))

	removeAll(t, r)
	assert.Equal(t, [2]int64{0, 1}, usage(f))
	assert.Equal(t, uint64(2), stat(t, r).Nlink)
}

// TestRenameNoReplaceRace: renames of many files to one name with
// RENAME_NOREPLACE, at once: exactly one wins, no file is lost.
func TestRenameNoReplaceRace(t *testing.T) {
	f, root := setup(t, 1<<20)
	r := f.Root()
	const workers = 16
	for i := range workers {
		create(t, root, fmt.Sprintf("f%d", i), fmt.Sprint(i))
	}
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for i := range workers {
		wg.Go(func() {
			errs[i] = root.Rename(fmt.Sprintf("f%d", i), r, "target", unix.RENAME_NOREPLACE)
		})
	}
	wg.Wait()
	won := -1
	for i, err := range errs {
		if err == nil {
			assert.Equal(t, -1, won, "two renames won")
			won = i
		} else {
			assert.Equal(t, unix.EEXIST, err)
		}
	}
	require.NotEqual(t, -1, won)
	assert.Equal(t, fmt.Sprint(won), content(t, lookup(t, r, "target")))
	assert.Len(t, names(t, r), workers)
}

func TestRenameExchange(t *testing.T) {
	f, root := tree(t)
	r := f.Root()
	const exchange = unix.RENAME_EXCHANGE
	before := usage(f)
	f1, f2 := lookup(t, r, "f1"), lookup(t, r, "f2")
	a, b, c := lookup(t, r, "a"), lookup(t, r, "a/b"), lookup(t, r, "a/b/c")
	empty, full := lookup(t, r, "empty"), lookup(t, r, "full")
	x := lookup(t, full, "x")

	// Both names must exist; a directory cannot go below itself, either
	// way round.
	assert.Equal(t, unix.ENOENT, root.Rename("f1", r, "missing", exchange))
	assert.Equal(t, unix.ENOENT, root.Rename("missing", r, "f1", exchange))
	assert.Equal(t, unix.ENOENT, root.Rename("a", c, "x", exchange), "a missing target first")
	create(t, mut(t, c), "deep", "")
	assert.Equal(t, unix.EINVAL, root.Rename("a", c, "deep", exchange), "the source above the target")
	assert.Equal(t, unix.EINVAL, mut(t, c).Rename("deep", r, "a", exchange), "the target above the source")
	assert.Equal(t, unix.EINVAL, mut(t, a).Rename("b", r, "a", exchange), "the target is the source's directory")
	require.NoError(t, mut(t, c).Unlink("deep"))
	assert.Equal(t, [2]int64{before[0], before[1]}, usage(f))

	// Two files: each name now has the other's file, in its place in
	// the listing.
	h, err := f1.Open(unix.O_RDONLY)
	require.NoError(t, err)
	require.NoError(t, root.Rename("f1", r, "f2", exchange))
	assert.Same(t, f2, lookup(t, r, "f1"))
	assert.Same(t, f1, lookup(t, r, "f2"))
	assert.Equal(t, "two", content(t, lookup(t, r, "f1")))
	assert.Equal(t, "one", content(t, lookup(t, r, "f2")))
	assert.Equal(t, "one", readAll(t, h), "an open file is still its file")
	h.Release()
	assert.Equal(t, uint64(1), stat(t, f1).Nlink)
	assert.Equal(t, uint64(1), stat(t, f2).Nlink)
	assert.Equal(t, []string{"f1", "f2", "a", "empty", "full"}, names(t, r))
	// And back.
	require.NoError(t, root.Rename("f2", r, "f1", exchange))
	assert.Same(t, f1, lookup(t, r, "f1"))

	// Two links of one file, and a name with itself: nothing happens.
	require.NoError(t, root.Link(f1, "f1link"))
	require.NoError(t, root.Rename("f1", r, "f1link", exchange))
	require.NoError(t, root.Rename("f1", r, "f1", exchange))
	assert.Same(t, f1, lookup(t, r, "f1"))
	assert.Same(t, f1, lookup(t, r, "f1link"))
	assert.Equal(t, uint64(2), stat(t, f1).Nlink)
	require.NoError(t, root.Unlink("f1link"))

	// A directory and a file in one directory: the parent's links stay.
	rootLinks := stat(t, r).Nlink
	require.NoError(t, root.Rename("a", r, "f2", exchange))
	assert.Same(t, a, lookup(t, r, "f2"))
	assert.Same(t, f2, lookup(t, r, "a"))
	assert.Equal(t, "two", content(t, lookup(t, r, "a")))
	assert.Equal(t, []string{"b", "file"}, names(t, lookup(t, r, "f2")))
	assert.Equal(t, rootLinks, stat(t, r).Nlink)
	require.NoError(t, root.Rename("a", r, "f2", exchange))
	assert.Same(t, a, lookup(t, r, "a"))

	// A directory and a file of two directories: the directory's link
	// moves from a to full, and its ".." with it.
	aLinks, fullLinks := stat(t, a).Nlink, stat(t, full).Nlink
	require.NoError(t, mut(t, a).Rename("b", full, "x", exchange))
	assert.Same(t, b, lookup(t, r, "full/x"))
	assert.Same(t, x, lookup(t, r, "a/b"))
	assert.Equal(t, aLinks-1, stat(t, a).Nlink)
	assert.Equal(t, fullLinks+1, stat(t, full).Nlink)
	assert.Equal(t, uint64(3), stat(t, b).Nlink, "b keeps its own links")
	assert.Equal(t, unix.EINVAL, root.Rename("full", c, "y", 0), "b (so c) is below full now")
	require.NoError(t, root.Rename("a", c, "y", 0), "and no longer below a")
	require.NoError(t, mut(t, c).Rename("y", r, "a", 0))

	// Two directories of two directories: the link counts stay.
	aLinks, fullLinks = stat(t, a).Nlink, stat(t, full).Nlink
	emptyLinks := stat(t, empty).Nlink
	require.NoError(t, mut(t, full).Rename("x", r, "empty", exchange))
	assert.Same(t, b, lookup(t, r, "empty"))
	assert.Same(t, empty, lookup(t, r, "full/x"))
	assert.Equal(t, fullLinks, stat(t, full).Nlink)
	assert.Equal(t, aLinks, stat(t, a).Nlink)
	assert.Equal(t, emptyLinks, stat(t, empty).Nlink)
	require.NoError(t, root.Rename("full", c, "z", 0), "b (so c) is no longer below full")
	require.NoError(t, mut(t, c).Rename("z", r, "full", 0))

	// The directories' times changed, the files' ctime.
	require.NoError(t, root.Utimens(ts(1), ts(1)))
	require.NoError(t, mut(t, full).Utimens(ts(1), ts(1)))
	require.NoError(t, mut(t, f1).Utimens(ts(1), ts(1)))
	require.NoError(t, mut(t, f2).Utimens(ts(1), ts(1)))
	require.NoError(t, root.Rename("f1", full, "x", exchange))
	for _, n := range []string{"", "full"} {
		st := stat(t, lookup(t, r, n))
		assert.NotEqual(t, ts(1), st.Mtim, "mtime of %q", n)
		assert.NotEqual(t, ts(1), st.Ctim, "ctime of %q", n)
	}
	assert.Equal(t, ts(1), stat(t, f1).Mtim)
	assert.NotEqual(t, ts(1), stat(t, f1).Ctim)

	// Every link is where it should be: remove all and nothing is left.
	removeAll(t, r)
	assert.Equal(t, [2]int64{0, 1}, usage(f))
	assert.Equal(t, uint64(2), stat(t, r).Nlink)
}
