package overlay

import (
	"bytes"
	"crypto/sha256"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	rfs "ringbox/fs"
	"ringbox/fs/hostfs"
	"ringbox/fs/tmpfs"
)

// TestReadLower reads the lower files through the overlay: contents,
// attributes, listing; st_dev is the overlay's, st_ino stable.
func TestReadLower(t *testing.T) {
	o := newOverlay(t, "etc/", "etc/passwd=root:x:0:0", "bin/", "bin/sh=#!", "link->etc/passwd", "empty/")
	assert.Equal(t, "root:x:0:0", content(t, o.root, "etc/passwd"))
	assert.Equal(t, []string{"bin", "empty", "etc", "link"}, names(t, o.root, ""))
	assert.Equal(t, []string{"passwd"}, names(t, o.root, "etc"))
	assert.Empty(t, names(t, o.root, "empty"))

	var host unix.Stat_t
	require.NoError(t, unix.Lstat(filepath.Join(o.dir, "etc/passwd"), &host))
	st := stat(t, lookup(t, o.root, "etc/passwd"))
	assert.Equal(t, host.Mode, st.Mode)
	assert.Equal(t, host.Size, st.Size)
	assert.Equal(t, host.Mtim, st.Mtim)
	assert.Equal(t, host.Uid, st.Uid)
	assert.Equal(t, o.ov.dev, st.Dev)
	assert.Equal(t, host.Ino, st.Ino&inoMask, "a lower file keeps its number below the layer bits")
	assert.NotZero(t, st.Ino>>layerShift, "and shows its layer")
	assert.Equal(t, st.Ino, stat(t, lookup(t, o.root, "etc/passwd")).Ino)

	// The root shows the lower root's mode and times.
	require.NoError(t, unix.Lstat(o.dir, &host))
	st = stat(t, o.root)
	assert.Equal(t, host.Mode, st.Mode)
	assert.Equal(t, host.Mtim, st.Mtim)
	assert.Equal(t, o.ov.dev, st.Dev)

	l := lookup(t, o.root, "link")
	target, err := l.Readlink()
	require.NoError(t, err)
	assert.Equal(t, "etc/passwd", target)
	_, err = l.Open(unix.O_RDONLY)
	assert.Equal(t, unix.ELOOP, err)
	_, err = lookup(t, o.root, "etc").Readlink()
	assert.Equal(t, unix.EINVAL, err)

	// Errors.
	_, err = o.root.Lookup("nope")
	assert.Equal(t, unix.ENOENT, err)
	_, err = lookup(t, o.root, "etc/passwd").Lookup("x")
	assert.Equal(t, unix.ENOTDIR, err)
	for _, bad := range []string{"", ".", "..", "a/b"} {
		_, err = o.root.Lookup(bad)
		assert.Equal(t, unix.EINVAL, err, bad)
	}
	_, err = lookup(t, o.root, "etc").Open(unix.O_WRONLY)
	assert.Equal(t, unix.EISDIR, err)
	_, err = lookup(t, o.root, "etc/passwd").Open(unix.O_RDONLY | unix.O_DIRECTORY)
	assert.Equal(t, unix.ENOTDIR, err)
	_, err = lookup(t, o.root, "etc/passwd").Open(unix.O_WRONLY | unix.O_DIRECTORY)
	assert.Equal(t, unix.ENOTDIR, err)

	// Nothing was copied up by reading.
	assert.Empty(t, o.upperNames(t, ""))
}

// TestWriteCopiesUp opens a lower file for writing: it and its parents
// are copied up with the lower modes, times and owner, the host file does
// not change, the inode number stays.
func TestWriteCopiesUp(t *testing.T) {
	dir := t.TempDir()
	makeTree(t, dir, "a/b/c/file=hello world", "a/other=x")
	require.NoError(t, os.Chmod(filepath.Join(dir, "a/b"), 0o750))
	require.NoError(t, os.Chmod(filepath.Join(dir, "a/b/c/file"), 0o640))
	old := time.Unix(1000000000, 123)
	require.NoError(t, os.Chtimes(filepath.Join(dir, "a/b"), old, old))
	require.NoError(t, os.Chtimes(filepath.Join(dir, "a/b/c/file"), old, old))
	o := overlayOn(t, dir)

	file := lookup(t, o.root, "a/b/c/file")
	before := stat(t, file)
	bStat := stat(t, lookup(t, o.root, "a/b"))
	writeFile(t, o.root, "a/b/c/file", unix.O_WRONLY, "HELLO")
	assert.Equal(t, "HELLO world", content(t, o.root, "a/b/c/file"))
	assert.True(t, o.inUpper("a/b/c/file"))
	assert.False(t, o.inUpper("a/other"), "only the file and its parents")

	after := stat(t, file)
	assert.Equal(t, before.Ino, after.Ino)
	assert.Equal(t, before.Dev, after.Dev)
	assert.Equal(t, before.Uid, after.Uid)
	assert.Equal(t, before.Gid, after.Gid)
	assert.Equal(t, uint32(unix.S_IFREG|0o640), after.Mode)
	assert.NotEqual(t, before.Mtim, after.Mtim, "the write changed mtime")
	// Parents were made with the lower modes and times, which copy-up
	// does not change.
	b := lookup(t, o.root, "a/b")
	assert.Equal(t, bStat.Mode, stat(t, b).Mode)
	assert.Equal(t, uint32(unix.S_IFDIR|0o750), stat(t, b).Mode)
	assert.Equal(t, bStat.Mtim, stat(t, b).Mtim)
	assert.Equal(t, bStat.Ino, stat(t, b).Ino)
	ub := lookup(t, o.upper.Root(), "a/b")
	assert.Equal(t, unix.NsecToTimespec(old.UnixNano()), stat(t, ub).Mtim)
	// The merged directory still lists both layers.
	assert.Equal(t, []string{"b", "other"}, names(t, o.root, "a"))
	// A merged directory shows the host directory's link count (not
	// overlayfs's 1), so listings look as they do natively.
	lowerA := lookup(t, o.ov.Lower().Root(), "a")
	assert.Equal(t, uint64(stat(t, lowerA).Nlink), uint64(stat(t, lookup(t, o.root, "a")).Nlink))

	// O_TRUNC copies no data.
	writeFile(t, o.root, "a/other", unix.O_WRONLY|unix.O_TRUNC, "y")
	assert.Equal(t, "y", content(t, o.root, "a/other"))
	// O_APPEND after copy-up.
	writeFile(t, o.root, "a/other", unix.O_WRONLY|unix.O_APPEND, "z")
	assert.Equal(t, "yz", content(t, o.root, "a/other"))
	// The host is unchanged (also checked at cleanup).
	b2, err := os.ReadFile(filepath.Join(o.dir, "a/b/c/file"))
	require.NoError(t, err)
	assert.Equal(t, "hello world", string(b2))
}

// TestOpenBeforeCopyUp: a file opened read-only on the lower layer reads
// the upper copy, at the same offset, once the file is copied up.
func TestOpenBeforeCopyUp(t *testing.T) {
	o := newOverlay(t, "f=0123456789")
	n := lookup(t, o.root, "f")
	ro, err := n.Open(unix.O_RDONLY)
	require.NoError(t, err)
	defer ro.Release()
	buf := make([]byte, 4)
	k, err := ro.Read(buf)
	require.NoError(t, err)
	assert.Equal(t, "0123", string(buf[:k]))

	writeFile(t, o.root, "f", unix.O_RDWR, "abcdefgh")
	k, err = ro.Read(buf)
	require.NoError(t, err)
	assert.Equal(t, "efgh", string(buf[:k]), "the copy, at the same offset")
	k, err = ro.Pread(buf, 0)
	require.NoError(t, err)
	assert.Equal(t, "abcd", string(buf[:k]))
	st, err := ro.Stat()
	require.NoError(t, err)
	assert.Equal(t, stat(t, n).Ino, st.Ino)
	assert.Equal(t, o.ov.dev, st.Dev)
	// Read-only: no ftruncate.
	ops, ok := ro.(rfs.FileOps)
	require.True(t, ok)
	assert.Equal(t, unix.EINVAL, ops.Truncate(0))
	_, err = ro.Write([]byte("x"))
	assert.Error(t, err)
	ro.Release()
	_, err = ro.Read(buf)
	assert.Equal(t, unix.EBADF, err)
}

// TestCreateInMergedDirs makes files, directories, links and symlinks in
// lower directories.
func TestCreateInMergedDirs(t *testing.T) {
	o := newOverlay(t, "usr/lib/libc.so=elf", "usr/bin/ls=elf")
	usr := lookup(t, o.root, "usr/lib")
	n := create(t, usr, "new.so", "new")
	assert.Equal(t, "new", content(t, o.root, "usr/lib/new.so"))
	assert.Equal(t, stat(t, n).Ino, stat(t, lookup(t, o.root, "usr/lib/new.so")).Ino)
	assert.Equal(t, []string{"libc.so", "new.so"}, names(t, o.root, "usr/lib"))
	assert.Equal(t, []string{"new.so"}, o.upperNames(t, "usr/lib"))
	assert.Zero(t, stat(t, n).Ino>>layerShift, "files made in the overlay are of layer 0")

	_, _, err := mut(t, usr).Create("libc.so", unix.O_WRONLY|unix.O_EXCL, 0o644)
	assert.Equal(t, unix.EEXIST, err)
	_, _, err = mut(t, o.root).Create("usr", unix.O_WRONLY, 0o644)
	assert.Equal(t, unix.EISDIR, err)
	// Create of an existing lower file opens it (copying it up to write).
	c, impl, err := mut(t, usr).Create("libc.so", unix.O_WRONLY|unix.O_TRUNC, 0o644)
	require.NoError(t, err)
	_, err = impl.Write([]byte("ELF"))
	require.NoError(t, err)
	impl.Release()
	assert.Equal(t, lookup(t, o.root, "usr/lib/libc.so"), c)
	assert.Equal(t, "ELF", content(t, o.root, "usr/lib/libc.so"))

	require.NoError(t, mut(t, usr).Mkdir("sub", 0o700))
	assert.Equal(t, uint32(unix.S_IFDIR|0o700), stat(t, lookup(t, o.root, "usr/lib/sub")).Mode)
	assert.Equal(t, unix.EEXIST, mut(t, usr).Mkdir("sub", 0o700))
	assert.Equal(t, unix.EEXIST, mut(t, o.root).Mkdir("usr", 0o700))
	require.NoError(t, mut(t, lookup(t, o.root, "usr/bin")).Symlink("../lib/libc.so", "cc"))
	target, err := lookup(t, o.root, "usr/bin/cc").Readlink()
	require.NoError(t, err)
	assert.Equal(t, "../lib/libc.so", target)
	assert.Equal(t, unix.EEXIST, mut(t, o.root).Symlink("x", "usr"))
	assert.Equal(t, unix.ENOENT, mut(t, o.root).Symlink("", "e"))

	// Hard link of a lower file: copied up, one inode.
	ls := lookup(t, o.root, "usr/bin/ls")
	lsIno := stat(t, ls).Ino
	require.NoError(t, mut(t, o.root).Link(ls, "ls2"))
	assert.Equal(t, lsIno, stat(t, ls).Ino)
	assert.Equal(t, lsIno, stat(t, lookup(t, o.root, "ls2")).Ino)
	assert.Equal(t, uint64(2), uint64(stat(t, ls).Nlink))
	writeFile(t, o.root, "ls2", unix.O_WRONLY, "ELF")
	assert.Equal(t, "ELF", content(t, o.root, "usr/bin/ls"))
	assert.Equal(t, unix.EPERM, mut(t, o.root).Link(lookup(t, o.root, "usr"), "usr2"))
	assert.Equal(t, unix.EEXIST, mut(t, o.root).Link(ls, "usr"))
	// Listings agree with Stat on inode numbers.
	checkInos(t, o.root, "")
}

// checkInos checks recursively that the listing's inode numbers and types
// are Stat's.
func checkInos(t *testing.T, root rfs.Node, path string) {
	t.Helper()
	for _, e := range readDir(t, lookup(t, root, path)) {
		p := path + "/" + e.Name
		st := stat(t, lookup(t, root, p))
		assert.Equal(t, st.Ino, e.Ino, p)
		assert.Equal(t, uint8(st.Mode>>12), e.Type, p)
		if st.Mode&unix.S_IFMT == unix.S_IFDIR {
			checkInos(t, root, p)
		}
	}
}

// TestWhiteouts removes lower entries: they are hidden from Lookup and
// listings, kept as the overlay's records (nothing in the tmpfs), and
// made again.
func TestWhiteouts(t *testing.T) {
	o := newOverlay(t, "d/a=1", "d/b=2", "d/c=3", "d/sub/x=4", "top=5")
	d := lookup(t, o.root, "d")
	dStat := stat(t, d)
	require.NoError(t, mut(t, d).Unlink("b"))
	_, err := d.Lookup("b")
	assert.Equal(t, unix.ENOENT, err)
	assert.Equal(t, []string{"a", "c", "sub"}, names(t, o.root, "d"))
	assert.Empty(t, o.upperNames(t, "d"), "whiteouts are not files of the upper layer")
	assert.NotEqual(t, dStat.Mtim, stat(t, d).Mtim, "removing changes the directory's mtime")
	assert.Equal(t, unix.ENOENT, mut(t, d).Unlink("b"))
	assert.Equal(t, unix.EISDIR, mut(t, d).Unlink("sub"))
	assert.Equal(t, unix.ENOTDIR, mut(t, d).Rmdir("a"))
	assert.Equal(t, unix.ENOTEMPTY, mut(t, d).Rmdir("sub"))
	require.NoError(t, mut(t, lookup(t, d, "sub")).Unlink("x"))
	require.NoError(t, mut(t, d).Rmdir("sub"))
	assert.Equal(t, []string{"a", "c"}, names(t, o.root, "d"))
	require.NoError(t, mut(t, o.root).Unlink("top"))
	assert.Equal(t, []string{"d"}, names(t, o.root, ""))

	// Made again: a new file, not the lower one.
	lowerIno := stat(t, lookup(t, d, "a")).Ino
	require.NoError(t, mut(t, d).Unlink("a"))
	n := create(t, d, "a", "again")
	assert.Equal(t, "again", content(t, d, "a"))
	assert.NotEqual(t, lowerIno, stat(t, n).Ino)
	assert.Equal(t, []string{"a", "c"}, names(t, o.root, "d"))
	// Removing the new one hides the lower one again.
	require.NoError(t, mut(t, d).Unlink("a"))
	_, err = d.Lookup("a")
	assert.Equal(t, unix.ENOENT, err)
	assert.Equal(t, []string{"c"}, names(t, o.root, "d"))
	// A symlink and a directory over whiteouts.
	require.NoError(t, mut(t, d).Symlink("t", "a"))
	assert.Equal(t, []string{"a", "c"}, names(t, o.root, "d"))
	require.NoError(t, mut(t, d).Unlink("a"))
	require.NoError(t, mut(t, d).Mkdir("a", 0o755))
	assert.Empty(t, names(t, o.root, "d/a"))
	assert.Equal(t, []string{"a", "c"}, names(t, o.root, "d"))
	// Upper-only names leave no whiteout.
	create(t, o.root, "up", "u")
	require.NoError(t, mut(t, o.root).Unlink("up"))
	_, err = o.root.Lookup("up")
	assert.Equal(t, unix.ENOENT, err)
	o.ov.mu.Lock()
	_, wo := o.ov.dirs[o.ov.root.upperIno].whiteouts["up"]
	o.ov.mu.Unlock()
	assert.False(t, wo)
	checkInos(t, o.root, "")
}

// TestOpaque: a directory made where a lower directory was removed shows
// none of the lower entries; one made over a lower file too.
func TestOpaque(t *testing.T) {
	o := newOverlay(t, "d/a=1", "d/sub/b=2", "f=3")
	d := lookup(t, o.root, "d")
	require.NoError(t, mut(t, d).Unlink("a"))
	require.NoError(t, mut(t, lookup(t, d, "sub")).Unlink("b"))
	require.NoError(t, mut(t, d).Rmdir("sub"))
	require.NoError(t, mut(t, o.root).Rmdir("d"))
	_, err := o.root.Lookup("d")
	assert.Equal(t, unix.ENOENT, err)
	assert.Equal(t, unix.ENOENT, mut(t, d).Mkdir("x", 0o755), "in a removed directory")
	_, err = d.Lookup("a")
	assert.Equal(t, unix.ENOENT, err, "a removed directory is empty")

	require.NoError(t, mut(t, o.root).Mkdir("d", 0o711))
	nd := lookup(t, o.root, "d")
	assert.Empty(t, names(t, o.root, "d"))
	for _, name := range []string{"a", "sub"} {
		_, err = nd.Lookup(name)
		assert.Equal(t, unix.ENOENT, err, name)
	}
	create(t, nd, "mine", "m")
	assert.Equal(t, []string{"mine"}, names(t, o.root, "d"))
	assert.Equal(t, uint32(unix.S_IFDIR|0o711), stat(t, nd).Mode)
	assert.Equal(t, uint64(2), uint64(stat(t, nd).Nlink), "not merged")
	// The opaque directory can go and come back.
	require.NoError(t, mut(t, nd).Unlink("mine"))
	require.NoError(t, mut(t, o.root).Rmdir("d"))
	_, err = o.root.Lookup("d")
	assert.Equal(t, unix.ENOENT, err)
	require.NoError(t, mut(t, o.root).Mkdir("d", 0o755))
	assert.Empty(t, names(t, o.root, "d"))

	// A directory over a removed lower file.
	require.NoError(t, mut(t, o.root).Unlink("f"))
	require.NoError(t, mut(t, o.root).Mkdir("f", 0o755))
	assert.Empty(t, names(t, o.root, "f"))
	assert.Equal(t, []string{"d", "f"}, names(t, o.root, ""))
	checkInos(t, o.root, "")
}

// TestRmdirMerged: a merged directory is removed only when its merged
// view is empty.
func TestRmdirMerged(t *testing.T) {
	o := newOverlay(t, "d/a=1", "e/")
	d := lookup(t, o.root, "d")
	create(t, d, "b", "2") // d is merged now
	assert.Equal(t, unix.ENOTEMPTY, mut(t, o.root).Rmdir("d"))
	require.NoError(t, mut(t, d).Unlink("b"))
	assert.Equal(t, unix.ENOTEMPTY, mut(t, o.root).Rmdir("d"), "the lower entry is still there")
	require.NoError(t, mut(t, d).Unlink("a"))
	dIno := lookupUpperIno(t, o, "d")
	require.NotZero(t, dIno)
	o.ov.mu.Lock()
	assert.Contains(t, o.ov.dirs, dIno, "d has a whiteout")
	o.ov.mu.Unlock()
	require.NoError(t, mut(t, o.root).Rmdir("d"))
	assert.Equal(t, []string{"e"}, names(t, o.root, ""))
	assert.Empty(t, o.upperNames(t, ""), "e was never copied up, d is gone")
	// An empty lower directory.
	require.NoError(t, mut(t, o.root).Rmdir("e"))
	assert.Empty(t, names(t, o.root, ""))
	o.ov.mu.Lock()
	assert.Len(t, o.ov.dirs[o.ov.root.upperIno].whiteouts, 2)
	assert.NotContains(t, o.ov.dirs, dIno, "the removed directory's records are gone")
	assert.NotContains(t, o.ov.origins, dIno)
	o.ov.mu.Unlock()
}

func lookupUpperIno(t *testing.T, o *testOverlay, path string) uint64 {
	n, err := walk(o.upper.Root(), path)
	if err != nil {
		return 0
	}
	return stat(t, n).Ino
}

// TestRename renames files and directories within the overlay.
func TestRename(t *testing.T) {
	o := newOverlay(t, "d/a=1", "d/b=2", "e/c=3", "e/sub/x=4", "f->d/a", "lonely/")
	d, e := lookup(t, o.root, "d"), lookup(t, o.root, "e")
	aIno := stat(t, lookup(t, d, "a")).Ino

	// A lower file to another directory: copied up, the old name whited
	// out, the inode number kept.
	require.NoError(t, mut(t, d).Rename("a", e, "a2", 0))
	assert.Equal(t, []string{"b"}, names(t, o.root, "d"))
	assert.Equal(t, []string{"a2", "c", "sub"}, names(t, o.root, "e"))
	assert.Equal(t, "1", content(t, o.root, "e/a2"))
	assert.Equal(t, aIno, stat(t, lookup(t, o.root, "e/a2")).Ino)
	// Over a lower file: replaced.
	require.NoError(t, mut(t, e).Rename("a2", e, "c", 0))
	assert.Equal(t, "1", content(t, o.root, "e/c"))
	assert.Equal(t, []string{"c", "sub"}, names(t, o.root, "e"))
	// A symlink: copied up as a symlink.
	require.NoError(t, mut(t, o.root).Rename("f", d, "f", 0))
	target, err := lookup(t, o.root, "d/f").Readlink()
	require.NoError(t, err)
	assert.Equal(t, "d/a", target)
	// Same file: nothing happens.
	require.NoError(t, mut(t, d).Rename("b", d, "b", 0))
	assert.Equal(t, "2", content(t, o.root, "d/b"))

	// Errors.
	assert.Equal(t, unix.ENOENT, mut(t, d).Rename("nope", d, "x", 0))
	assert.Equal(t, unix.EISDIR, mut(t, d).Rename("b", o.root, "e", 0))
	assert.Equal(t, unix.ENOTDIR, mut(t, o.root).Rename("lonely", d, "b", 0))
	assert.Equal(t, unix.ENOTEMPTY, mut(t, o.root).Rename("lonely", o.root, "e", 0))
	assert.Equal(t, unix.EXDEV, mut(t, o.root).Rename("lonely", o.root, "lonely2", 0),
		"a lower directory cannot move (no redirect_dir)")
	assert.Equal(t, unix.EXDEV, mut(t, o.root).Rename("e", o.root, "e2", 0), "nor a merged one")
	assert.Equal(t, unix.EINVAL, mut(t, o.root).Rename("e", lookup(t, e, "sub"), "e", 0))
	assert.Equal(t, unix.ENOTEMPTY, mut(t, lookup(t, e, "sub")).Rename("x", o.root, "e", 0))

	// A directory made in the overlay moves, with its contents.
	require.NoError(t, mut(t, o.root).Mkdir("new", 0o755))
	nw := lookup(t, o.root, "new")
	create(t, nw, "in", "inside")
	require.NoError(t, mut(t, nw).Mkdir("deeper", 0o755))
	create(t, lookup(t, nw, "deeper"), "z", "zz")
	require.NoError(t, mut(t, o.root).Rename("new", d, "moved", 0))
	assert.Equal(t, "inside", content(t, o.root, "d/moved/in"))
	assert.Equal(t, "zz", content(t, o.root, "d/moved/deeper/z"))
	assert.Equal(t, "zz", content(t, nw, "deeper/z"), "the node moved with it")
	_, err = o.root.Lookup("new")
	assert.Equal(t, unix.ENOENT, err)
	// Over an empty lower directory: the moved one is opaque there.
	require.NoError(t, mut(t, d).Rename("moved", o.root, "lonely", 0))
	assert.Equal(t, []string{"deeper", "in"}, names(t, o.root, "lonely"))
	// Over a removed lower directory with entries: opaque too.
	require.NoError(t, mut(t, lookup(t, e, "sub")).Unlink("x"))
	require.NoError(t, mut(t, e).Rmdir("sub"))
	require.NoError(t, mut(t, o.root).Mkdir("n2", 0o755))
	require.NoError(t, mut(t, o.root).Rename("n2", e, "sub", 0))
	assert.Empty(t, names(t, o.root, "e/sub"), "the lower e/sub/x does not show through")
	// And back out: the name it left is whited out again.
	require.NoError(t, mut(t, e).Rename("sub", o.root, "n3", 0))
	_, err = e.Lookup("sub")
	assert.Equal(t, unix.ENOENT, err)
	assert.Empty(t, names(t, o.root, "n3"))
	checkInos(t, o.root, "")
}

// TestMetadataCopiesUp: chmod, truncate and utimens copy the file up;
// the host does not change.
func TestMetadataCopiesUp(t *testing.T) {
	o := newOverlay(t, "d/f=0123456789", "d/g=abc", "d/h=xyz", "d/sub/", "l->f")

	f := lookup(t, o.root, "d/f")
	require.NoError(t, mut(t, f).Chmod(0o600))
	assert.True(t, o.inUpper("d/f"))
	assert.Equal(t, uint32(unix.S_IFREG|0o600), stat(t, f).Mode)
	assert.Equal(t, "0123456789", content(t, o.root, "d/f"))

	g := lookup(t, o.root, "d/g")
	require.NoError(t, mut(t, g).Truncate(1))
	assert.Equal(t, "a", content(t, o.root, "d/g"))
	require.NoError(t, mut(t, g).Truncate(5))
	assert.Equal(t, "a\x00\x00\x00\x00", content(t, o.root, "d/g"))
	assert.Equal(t, unix.EISDIR, mut(t, lookup(t, o.root, "d")).Truncate(0))
	assert.Equal(t, unix.EINVAL, mut(t, g).Truncate(-1))
	assert.Equal(t, unix.EINVAL, mut(t, lookup(t, o.root, "l")).Truncate(0))

	h := lookup(t, o.root, "d/h")
	require.NoError(t, mut(t, h).Utimens(omit, omit))
	assert.False(t, o.inUpper("d/h"), "nothing to change: no copy-up")
	assert.Equal(t, unix.EINVAL, mut(t, h).Utimens(unix.Timespec{Nsec: 2e9}, omit))
	assert.False(t, o.inUpper("d/h"))
	require.NoError(t, mut(t, h).Utimens(ts(1234), ts(5678)))
	st := stat(t, h)
	assert.Equal(t, ts(1234), st.Atim)
	assert.Equal(t, ts(5678), st.Mtim)
	assert.Equal(t, "xyz", content(t, o.root, "d/h"))

	// A directory's mode and times.
	sub := lookup(t, o.root, "d/sub")
	require.NoError(t, mut(t, sub).Chmod(0o700))
	require.NoError(t, mut(t, sub).Utimens(ts(1), ts(2)))
	assert.Equal(t, uint32(unix.S_IFDIR|0o700), stat(t, sub).Mode)
	assert.Equal(t, ts(2), stat(t, sub).Mtim)

	// Through an open read-only file (fchmod, futimens).
	impl, err := lookup(t, o.root, "l").Open(unix.O_RDONLY)
	assert.Equal(t, unix.ELOOP, err)
	assert.Nil(t, impl)
	o2 := newOverlay(t, "x=1")
	ro, err := lookup(t, o2.root, "x").Open(unix.O_RDONLY)
	require.NoError(t, err)
	defer ro.Release()
	ops := ro.(rfs.FileOps)
	require.NoError(t, ops.Chmod(0o444))
	require.NoError(t, ops.Utimens(ts(7), ts(8)))
	require.NoError(t, ops.Sync(false))
	st, err = ro.Stat()
	require.NoError(t, err)
	assert.Equal(t, uint32(unix.S_IFREG|0o444), st.Mode)
	assert.Equal(t, ts(8), st.Mtim)
	// ftruncate through a file open for writing.
	rw, err := lookup(t, o2.root, "x").Open(unix.O_RDWR)
	require.NoError(t, err)
	require.NoError(t, rw.(rfs.FileOps).Truncate(0))
	rw.Release()
	assert.Equal(t, "", content(t, o2.root, "x"))
}

// TestSymlinkCopyUp: utimens on a lower symlink copies it up as a
// symlink, with its target; chmod is EOPNOTSUPP.
func TestSymlinkCopyUp(t *testing.T) {
	o := newOverlay(t, "dir/link->../target/of/it", "dir/file=x")
	l := lookup(t, o.root, "dir/link")
	ino := stat(t, l).Ino
	assert.Equal(t, unix.EOPNOTSUPP, mut(t, l).Chmod(0o644))
	assert.False(t, o.inUpper("dir/link"))
	require.NoError(t, mut(t, l).Utimens(ts(10), ts(20)))
	u := lookup(t, o.upper.Root(), "dir/link")
	assert.Equal(t, uint32(unix.S_IFLNK), stat(t, u).Mode&unix.S_IFMT)
	target, err := u.Readlink()
	require.NoError(t, err)
	assert.Equal(t, "../target/of/it", target)
	target, err = l.Readlink()
	require.NoError(t, err)
	assert.Equal(t, "../target/of/it", target)
	st := stat(t, l)
	assert.Equal(t, ts(20), st.Mtim)
	assert.Equal(t, ino, st.Ino)
	// A hard link to a lower symlink copies it up too.
	require.NoError(t, mut(t, o.root).Link(lookup(t, o.root, "dir/link"), "l2"))
	target, err = lookup(t, o.root, "l2").Readlink()
	require.NoError(t, err)
	assert.Equal(t, "../target/of/it", target)
}

// TestLargeCopyUp copies up a 20 MiB file with a hole; its data is
// intact, the hole stays a hole in the tmpfs.
func TestLargeCopyUp(t *testing.T) {
	dir := t.TempDir()
	const size = 20 << 20
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i*7 + i>>12)
	}
	// A 4 MiB hole (plus an unaligned zero run, which is written).
	clear(data[8<<20 : 12<<20])
	clear(data[100:5000])
	require.NoError(t, os.WriteFile(filepath.Join(dir, "big"), data, 0o755))
	o := overlayOn(t, dir)

	big := lookup(t, o.root, "big")
	writeFile(t, o.root, "big", unix.O_WRONLY|unix.O_APPEND, "tail")
	want := sha256.Sum256(append(data, "tail"...))
	assert.Equal(t, want, sha256.Sum256([]byte(content(t, o.root, "big"))))
	st := stat(t, big)
	assert.Equal(t, int64(size+4), st.Size)
	assert.Equal(t, uint32(unix.S_IFREG|0o755), st.Mode)
	used, _ := o.upper.Usage()
	assert.Less(t, used, int64(size-(4<<20)+(1<<20)), "the hole was not filled")
	assert.Greater(t, used, int64(size-(4<<20)-(1<<20)))

	// Truncating a large lower file copies only what stays.
	dir2 := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir2, "big"), data, 0o644))
	o2 := overlayOn(t, dir2)
	require.NoError(t, mut(t, lookup(t, o2.root, "big")).Truncate(5000))
	used, _ = o2.upper.Usage()
	assert.LessOrEqual(t, used, int64(8192))
	assert.True(t, bytes.Equal(data[:5000], []byte(content(t, o2.root, "big"))))
}

// TestUpperFull: a copy-up that runs out of room leaves nothing behind.
func TestUpperFull(t *testing.T) {
	dir := t.TempDir()
	makeTree(t, dir, "d/small=x")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "d/big"), bytes.Repeat([]byte{1}, 1<<20), 0o644))
	lower, err := hostfs.New(dir, true)
	require.NoError(t, err)
	defer lower.Close()
	upper := tmpfs.New(64 << 10)
	ov := New(lower, upper)
	big := lookup(t, ov.Root(), "d/big")
	_, err = big.Open(unix.O_WRONLY)
	assert.Equal(t, unix.ENOSPC, err)
	_, err = walk(upper.Root(), "d/big")
	assert.Equal(t, unix.ENOENT, err, "no partial copy")
	assert.Equal(t, bytes.Repeat([]byte{1}, 1<<20), []byte(content(t, ov.Root(), "d/big")))
	writeFile(t, ov.Root(), "d/small", unix.O_WRONLY, "y")
	assert.Equal(t, "y", content(t, ov.Root(), "d/small"))
}

// TestSpecialFiles: lower FIFOs cannot be opened (as hostfs), changed or
// moved, but can be removed.
func TestSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, unix.Mkfifo(filepath.Join(dir, "fifo"), 0o644))
	o := overlayOn(t, dir)
	fifo := lookup(t, o.root, "fifo")
	assert.Equal(t, uint32(unix.S_IFIFO), stat(t, fifo).Mode&unix.S_IFMT)
	_, err := fifo.Open(unix.O_RDONLY)
	assert.Equal(t, unix.ENXIO, err)
	_, err = fifo.Open(unix.O_WRONLY)
	assert.Equal(t, unix.ENXIO, err)
	assert.Equal(t, unix.EOPNOTSUPP, mut(t, fifo).Chmod(0o600))
	assert.Equal(t, unix.EXDEV, mut(t, o.root).Rename("fifo", o.root, "fifo2", 0))
	assert.Equal(t, unix.EINVAL, mut(t, fifo).Truncate(0))
	require.NoError(t, mut(t, o.root).Unlink("fifo"))
	assert.Empty(t, names(t, o.root, ""))
}

// TestReadDirStable: an open listing keeps its offsets while the
// directory changes; a rewind sees the changes.
func TestReadDirStable(t *testing.T) {
	o := newOverlay(t, "d/a=1", "d/b=2", "d/c=3", "d/e=4")
	d := lookup(t, o.root, "d")
	create(t, d, "up1", "")
	impl, err := d.Open(unix.O_RDONLY)
	require.NoError(t, err)
	defer impl.Release()
	dr := impl.(rfs.DirReader)
	first, err := dr.ReadDir(0, 2)
	require.NoError(t, err)
	require.Len(t, first, 2)
	require.NoError(t, mut(t, d).Unlink("e"))
	create(t, d, "up2", "")
	rest, err := dr.ReadDir(2, 100)
	require.NoError(t, err)
	all := append(first, rest...)
	var got []string
	for _, e := range all {
		got = append(got, e.Name)
	}
	assert.ElementsMatch(t, []string{"up1", "a", "b", "c", "e"}, got, "the listing of the open")
	assert.Equal(t, "up1", got[0], "upper entries first")
	again, err := dr.ReadDir(0, 100)
	require.NoError(t, err)
	got = nil
	for _, e := range again {
		got = append(got, e.Name)
	}
	assert.ElementsMatch(t, []string{"up1", "up2", "a", "b", "c"}, got)
	none, err := dr.ReadDir(50, 10)
	require.NoError(t, err)
	assert.Empty(t, none)
	_, err = dr.ReadDir(-1, 1)
	assert.Equal(t, unix.EINVAL, err)
	st, err := impl.Stat()
	require.NoError(t, err)
	assert.Equal(t, stat(t, d).Ino, st.Ino)
	_, err = impl.Read(make([]byte, 1))
	assert.Equal(t, unix.EISDIR, err)
}

// TestNodeCache: nodes are a cache: once collected, a name is found again
// with the same inode number and the overlay's records.
func TestNodeCache(t *testing.T) {
	o := newOverlay(t, "d/a=1", "d/b=2")
	ino := stat(t, lookup(t, o.root, "d/a")).Ino
	writeFile(t, o.root, "d/a", unix.O_WRONLY, "A")
	require.NoError(t, mut(t, lookup(t, o.root, "d")).Rename("a", o.root, "moved", 0))
	require.NoError(t, mut(t, lookup(t, o.root, "d")).Unlink("b"))
	for range 5 {
		runtime.GC()
	}
	st := stat(t, lookup(t, o.root, "moved"))
	assert.Equal(t, ino, st.Ino, "the copied-up file keeps its lower number")
	assert.Equal(t, "A", content(t, o.root, "moved"))
	assert.Empty(t, names(t, o.root, "d"))
	o.ov.mu.Lock()
	defer o.ov.mu.Unlock()
	assert.LessOrEqual(t, len(o.ov.root.children), 2, "collected nodes leave the cache")
}
