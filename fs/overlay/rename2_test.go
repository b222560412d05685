package overlay

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func TestRenameFlagsRefused(t *testing.T) {
	o := newOverlay(t, "d/a=1")
	d := lookup(t, o.root, "d")
	for _, flags := range []uint{
		unix.RENAME_WHITEOUT,
		unix.RENAME_NOREPLACE | unix.RENAME_EXCHANGE,
		unix.RENAME_EXCHANGE | unix.RENAME_WHITEOUT,
		1 << 5,
	} {
		assert.Equal(t, unix.EINVAL, mut(t, d).Rename("a", d, "b", flags), "flags %#x", flags)
	}
	assert.Equal(t, []string{"a"}, names(t, o.root, "d"))
	assert.False(t, o.inUpper("d"), "nothing copied up")
}

// TestRenameNoReplace: the merged view decides whether the name exists (a
// whiteout does not), under the overlay's lock.
func TestRenameNoReplace(t *testing.T) {
	o := newOverlay(t, "d/a=1", "d/b=2", "d/sub/x=3", "d/link->nowhere", "lonely/")
	d := lookup(t, o.root, "d")
	dm := mut(t, d)
	const noreplace = unix.RENAME_NOREPLACE
	for _, to := range []string{"b", "sub", "link", "a"} { // a lower file, directory, dangling symlink; itself
		assert.Equal(t, unix.EEXIST, dm.Rename("a", d, to, noreplace), "a -> %s", to)
	}
	assert.Equal(t, unix.EEXIST, mut(t, o.root).Rename("lonely", d, "b", noreplace), "EEXIST before EXDEV")
	assert.Equal(t, unix.ENOENT, dm.Rename("missing", d, "b", noreplace))
	assert.Equal(t, unix.EXDEV, mut(t, o.root).Rename("lonely", o.root, "free", noreplace), "a lower directory, as without the flag")
	assert.Equal(t, []string{"a", "b", "link", "sub"}, names(t, o.root, "d"))
	assert.False(t, o.inUpper("d"), "nothing copied up")

	// An upper file is there too.
	create(t, d, "new", "upper")
	assert.Equal(t, unix.EEXIST, dm.Rename("a", d, "new", noreplace))
	assert.Equal(t, unix.EEXIST, dm.Rename("new", d, "b", noreplace))
	assert.Equal(t, "upper", content(t, o.root, "d/new"))
	assert.Equal(t, "2", content(t, o.root, "d/b"))
	assert.False(t, o.inUpper("d/a"))
	assert.False(t, o.inUpper("d/b"))

	// A whited-out name is free; so is a new one.
	require.NoError(t, dm.Unlink("b"))
	require.NoError(t, dm.Rename("a", d, "b", noreplace))
	assert.Equal(t, "1", content(t, o.root, "d/b"))
	_, err := d.Lookup("a")
	assert.Equal(t, unix.ENOENT, err, "the old name is whited out")
	require.NoError(t, dm.Rename("new", o.root, "moved", noreplace))
	assert.Equal(t, "upper", content(t, o.root, "moved"))
	assert.Equal(t, []string{"b", "link", "sub"}, names(t, o.root, "d"))
	checkInos(t, o.root, "")
}

// TestRenameNoReplaceRace: renames of many files to one name with
// RENAME_NOREPLACE, at once (lower and upper files, over a whiteout):
// exactly one wins.
func TestRenameNoReplaceRace(t *testing.T) {
	const workers = 16
	var entries []string
	for i := range workers / 2 {
		entries = append(entries, fmt.Sprintf("d/f%d=%d", i, i))
	}
	o := newOverlay(t, append(entries, "d/target=lower")...)
	d := lookup(t, o.root, "d")
	for i := workers / 2; i < workers; i++ {
		create(t, d, fmt.Sprintf("f%d", i), fmt.Sprint(i))
	}
	require.NoError(t, mut(t, d).Unlink("target"))
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for i := range workers {
		wg.Go(func() {
			errs[i] = mut(t, d).Rename(fmt.Sprintf("f%d", i), d, "target", unix.RENAME_NOREPLACE)
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
	assert.Equal(t, fmt.Sprint(won), content(t, o.root, "d/target"))
	assert.Len(t, names(t, o.root, "d"), workers)
}

// TestRenameExchange: both files are copied up and exchanged in the upper
// layer.
func TestRenameExchange(t *testing.T) {
	o := newOverlay(t, "d/a=1", "d/b=22", "e/c=333", "e/sub/x=4", "e/link->d/a", "lonely/", "f=5")
	d, e := lookup(t, o.root, "d"), lookup(t, o.root, "e")
	root := mut(t, o.root)
	const exchange = unix.RENAME_EXCHANGE

	assert.Equal(t, unix.ENOENT, mut(t, d).Rename("a", e, "missing", exchange))
	assert.Equal(t, unix.ENOENT, mut(t, d).Rename("missing", e, "c", exchange))
	require.NoError(t, mut(t, e).Unlink("c"))
	assert.Equal(t, unix.ENOENT, mut(t, d).Rename("a", e, "c", exchange), "a whiteout does not exist")
	require.NoError(t, mut(t, d).Rename("a", d, "a", exchange), "a name with itself")
	assert.False(t, o.inUpper("d/a"), "nothing copied up")
	assert.Equal(t, unix.EXDEV, mut(t, d).Rename("a", o.root, "lonely", exchange), "a lower directory")
	assert.Equal(t, unix.EXDEV, root.Rename("lonely", d, "a", exchange), "either way")
	assert.Equal(t, unix.EXDEV, root.Rename("f", o.root, "e", exchange), "a merged one (e has a whiteout)")
	assert.False(t, o.inUpper("d/a"), "nothing copied up")

	// Two lower files of two directories: each name has the other's file
	// (and inode number, and node), both in the upper layer, no whiteout.
	o2 := newOverlay(t, "d/a=1", "e/c=333")
	d, e = lookup(t, o2.root, "d"), lookup(t, o2.root, "e")
	a, c := lookup(t, d, "a"), lookup(t, e, "c")
	aIno, cIno := stat(t, a).Ino, stat(t, c).Ino
	require.NoError(t, mut(t, d).Rename("a", e, "c", exchange))
	assert.Equal(t, "333", content(t, o2.root, "d/a"))
	assert.Equal(t, "1", content(t, o2.root, "e/c"))
	assert.Equal(t, cIno, stat(t, lookup(t, o2.root, "d/a")).Ino)
	assert.Equal(t, aIno, stat(t, lookup(t, o2.root, "e/c")).Ino)
	assert.Same(t, a, lookup(t, o2.root, "e/c"))
	assert.Same(t, c, lookup(t, o2.root, "d/a"))
	assert.Equal(t, []string{"a"}, o2.upperNames(t, "d"))
	assert.Equal(t, []string{"c"}, o2.upperNames(t, "e"))
	o2.ov.mu.Lock()
	assert.Empty(t, o2.ov.dirs, "no whiteout, nothing opaque")
	o2.ov.mu.Unlock()
	// Written through one name, read through the other after exchanging
	// back.
	writeFile(t, o2.root, "d/a", unix.O_WRONLY|unix.O_TRUNC, "written")
	require.NoError(t, mut(t, e).Rename("c", d, "a", exchange))
	assert.Equal(t, "1", content(t, o2.root, "d/a"))
	assert.Equal(t, "written", content(t, o2.root, "e/c"))
	checkInos(t, o2.root, "")

	// A directory made in the overlay and a lower file.
	o3 := newOverlay(t, "d/b=22", "e/sub/x=4", "e/sub/y=5")
	d, e = lookup(t, o3.root, "d"), lookup(t, o3.root, "e")
	root = mut(t, o3.root)
	require.NoError(t, root.Mkdir("new", 0o755))
	nw := lookup(t, o3.root, "new")
	create(t, nw, "in", "inside")
	assert.Equal(t, unix.EINVAL, root.Rename("new", nw, "in", exchange), "the source above the target")
	assert.Equal(t, unix.EINVAL, mut(t, nw).Rename("in", o3.root, "new", exchange), "the target above the source")
	require.NoError(t, root.Rename("new", d, "b", exchange))
	assert.Equal(t, "22", content(t, o3.root, "new"))
	assert.Equal(t, "inside", content(t, o3.root, "d/b/in"))
	assert.Same(t, nw, lookup(t, o3.root, "d/b"))
	assert.Equal(t, []string{"b"}, names(t, o3.root, "d"))
	assert.Equal(t, []string{"d", "e", "new"}, names(t, o3.root, ""))
	// Onto the name of a removed lower directory: opaque there, the
	// lower entries do not show through.
	require.NoError(t, mut(t, lookup(t, e, "sub")).Unlink("x"))
	require.NoError(t, mut(t, lookup(t, e, "sub")).Unlink("y"))
	require.NoError(t, mut(t, e).Rmdir("sub"))
	create(t, e, "sub", "a file")
	opaque := func(path string) bool {
		ino := lookupUpperIno(t, o3, path)
		require.NotZero(t, ino, path)
		o3.ov.mu.Lock()
		defer o3.ov.mu.Unlock()
		return o3.ov.opaqueLocked(ino)
	}
	require.NoError(t, mut(t, d).Rename("b", e, "sub", exchange))
	assert.True(t, opaque("e/sub"), "the moved directory (the source)")
	assert.Equal(t, []string{"in"}, names(t, o3.root, "e/sub"))
	assert.Equal(t, "a file", content(t, o3.root, "d/b"))
	// And back: its own name again.
	require.NoError(t, mut(t, e).Rename("sub", d, "b", exchange))
	assert.Equal(t, []string{"in"}, names(t, o3.root, "d/b"))
	assert.Equal(t, "a file", content(t, o3.root, "e/sub"))
	// The other way round: the directory is the target.
	require.NoError(t, root.Mkdir("other", 0o700))
	create(t, lookup(t, o3.root, "other"), "o", "")
	require.False(t, opaque("other"))
	require.NoError(t, mut(t, e).Rename("sub", o3.root, "other", exchange))
	assert.True(t, opaque("e/sub"), "the moved directory (the target)")
	assert.Equal(t, []string{"o"}, names(t, o3.root, "e/sub"))
	assert.Equal(t, "a file", content(t, o3.root, "other"))
	// Two directories of the overlay.
	require.NoError(t, mut(t, e).Rename("sub", d, "b", exchange))
	assert.Equal(t, []string{"o"}, names(t, o3.root, "d/b"))
	assert.Equal(t, []string{"in"}, names(t, o3.root, "e/sub"))
	assert.Equal(t, uint32(0o700), stat(t, lookup(t, o3.root, "d/b")).Mode&0o777)
	checkInos(t, o3.root, "")
}
