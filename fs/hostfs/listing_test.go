package hostfs

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	rfs "ringbox/fs"
	"ringbox/guestkernel/hostcall"
)

// hostCalls is the number of host calls made so far through hostcall.
func hostCalls() uint64 {
	c := hostcall.Counters()
	return c["hostcall.worker"] + c["hostcall.direct"]
}

// listNames lists an open directory whole.
func listNames(t *testing.T, impl rfs.Impl) []string {
	t.Helper()
	dr, ok := impl.(rfs.DirReader)
	require.True(t, ok, "%T lists no entries", impl)
	var names []string
	for off := 0; ; {
		ents, err := dr.ReadDir(off, 3)
		require.NoError(t, err)
		if len(ents) == 0 {
			break
		}
		for _, e := range ents {
			names = append(names, e.Name)
		}
		off += len(ents)
	}
	sort.Strings(names)
	return names
}

// TestCacheListing: a directory of a cached tree is listed from the host
// once; later opens list the same entries with no host call, even after
// the host changed (the policy), and a name not in the listing is ENOENT
// at once. Without the cache every open lists the host's directory.
func TestCacheListing(t *testing.T) {
	for _, cached := range []bool{true, false} {
		t.Run(fmt.Sprint("cached=", cached), func(t *testing.T) {
			tr := newTree(t)
			f := tr.fs(t, true)
			if cached {
				require.True(t, f.Cache())
			}
			dir := walk(t, f.Root(), "dir")
			impl, err := dir.Open(unix.O_RDONLY | unix.O_DIRECTORY)
			require.NoError(t, err)
			assert.Equal(t, []string{"inner", "sub", "up"}, listNames(t, impl))
			st, err := impl.Stat()
			require.NoError(t, err)
			assert.Equal(t, uint32(unix.S_IFDIR), st.Mode&unix.S_IFMT)
			_, err = impl.Read(make([]byte, 8))
			assert.Error(t, err, "a directory is not read")
			impl.Release()

			require.NoError(t, os.WriteFile(filepath.Join(tr.root, "dir", "new"), []byte("x"), 0o644))
			before := hostCalls()
			impl, err = dir.Open(unix.O_RDONLY | unix.O_DIRECTORY)
			require.NoError(t, err)
			names := listNames(t, impl)
			impl.Release()
			_, err = dir.Lookup("new")
			if cached {
				assert.Equal(t, []string{"inner", "sub", "up"}, names, "the kept listing")
				assert.Equal(t, unix.ENOENT, err, "a name not in the listing")
				assert.Equal(t, before, hostCalls(), "no host call for a listed directory")
			} else {
				assert.Equal(t, []string{"inner", "new", "sub", "up"}, names)
				assert.NoError(t, err)
			}
			_, err = dir.Open(unix.O_RDWR)
			assert.Error(t, err, "a directory is not opened for writing")
		})
	}
}

// TestCacheBatchStat: once lookups in a listed directory have missed
// often enough, its other entries are statted (and symlinks read) in one
// batch, and their lookups, attributes and targets then cost no host call
// and match the host's.
func TestCacheBatchStat(t *testing.T) {
	tr := newTree(t)
	big := filepath.Join(tr.root, "big")
	require.NoError(t, os.Mkdir(big, 0o755))
	const files = 96
	for i := range files {
		p := filepath.Join(big, fmt.Sprintf("f%02d", i))
		if i%3 == 0 {
			require.NoError(t, os.Symlink(fmt.Sprintf("target-%d", i), p))
		} else {
			require.NoError(t, os.WriteFile(p, make([]byte, i), 0o640))
		}
	}
	f := tr.fs(t, true)
	require.True(t, f.Cache())
	dir := walk(t, f.Root(), "big")
	impl, err := dir.Open(unix.O_RDONLY | unix.O_DIRECTORY)
	require.NoError(t, err)
	require.Len(t, listNames(t, impl), files)
	impl.Release()

	// files/batchRatio misses go to the host one by one; the last of
	// them runs the batch.
	misses := files / batchRatio
	for i := range misses {
		walk(t, dir, fmt.Sprintf("f%02d", i))
	}
	d := dir.(*node)
	f.mu.Lock()
	plus := -1
	if d.listing != nil {
		plus = len(d.listing.plus)
	}
	f.mu.Unlock()
	assert.Equal(t, files, plus, "the batch stats every entry")

	before := hostCalls()
	for i := misses; i < files; i++ {
		name := fmt.Sprintf("f%02d", i)
		n := walk(t, dir, name)
		st, err := n.Stat()
		require.NoError(t, err)
		var host unix.Stat_t
		require.NoError(t, unix.Lstat(filepath.Join(big, name), &host))
		assert.Equal(t, host.Ino, st.Ino, name)
		assert.Equal(t, host.Mode, st.Mode, name)
		assert.Equal(t, host.Size, st.Size, name)
		if i%3 == 0 {
			target, err := n.Readlink()
			require.NoError(t, err)
			assert.Equal(t, fmt.Sprintf("target-%d", i), target)
		}
	}
	_, err = dir.Lookup("absent")
	assert.Equal(t, unix.ENOENT, err)
	assert.Equal(t, before, hostCalls(), "batched entries need no host call")

	// A file found by the batch still opens and reads from the host.
	impl, err = walk(t, dir, "f05").Open(unix.O_RDONLY)
	require.NoError(t, err)
	assert.Len(t, readAll(t, impl), 5)
	impl.Release()
}

// TestCacheBatchSkipsMounts: the batch leaves out entries on another host
// filesystem, whose lookups must check what is mounted there (a kernel
// pseudo-filesystem is never entered). Uses the host's /, where /proc is
// one.
func TestCacheBatchSkipsMounts(t *testing.T) {
	f, err := New("/", true)
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	require.True(t, f.Cache())
	root := f.Root()
	impl, err := root.Open(unix.O_RDONLY | unix.O_DIRECTORY)
	require.NoError(t, err)
	names := listNames(t, impl)
	impl.Release()
	require.Contains(t, names, "proc")
	// Enough misses for the batch.
	for _, name := range names {
		if name != "proc" {
			root.Lookup(name)
		}
	}
	r := root.(*node)
	f.mu.Lock()
	ran := r.listing != nil && r.listing.plus != nil
	_, batched := r.listing.plus["proc"]
	f.mu.Unlock()
	require.True(t, ran, "the batch ran")
	assert.False(t, batched, "a mount point is not batched")
	proc, err := root.Lookup("proc")
	require.NoError(t, err)
	_, err = proc.Lookup("self")
	assert.Equal(t, unix.EACCES, err, "/proc of the host is not entered")
}

// TestCacheBatchReadlink: reading a symlink's target counts as a miss of
// its directory's listing too (ls -l reads each link it finds), and the
// batch reads the targets of links that already have nodes.
func TestCacheBatchReadlink(t *testing.T) {
	tr := newTree(t)
	links := filepath.Join(tr.root, "links")
	require.NoError(t, os.Mkdir(links, 0o755))
	const n = 2 * batchRatio
	for i := range n {
		require.NoError(t, os.Symlink(fmt.Sprintf("t%d", i), filepath.Join(links, fmt.Sprintf("l%02d", i))))
	}
	f2 := tr.fs(t, true)
	require.True(t, f2.Cache())
	dir2 := walk(t, f2.Root(), "links")
	impl, err := dir2.Open(unix.O_RDONLY | unix.O_DIRECTORY)
	require.NoError(t, err)
	require.Len(t, listNames(t, impl), n)
	impl.Release()
	m0 := walk(t, dir2, "l00")
	target, err := m0.Readlink()
	require.NoError(t, err)
	assert.Equal(t, "t0", target)
	f2.mu.Lock()
	l := dir2.(*node).listing
	ran := l != nil && l.plus != nil
	f2.mu.Unlock()
	require.True(t, ran, "the readlink ran the batch")
	before := hostCalls()
	for i := 1; i < n; i++ {
		target, err := walk(t, dir2, fmt.Sprintf("l%02d", i)).Readlink()
		require.NoError(t, err)
		assert.Equal(t, fmt.Sprintf("t%d", i), target)
	}
	assert.Equal(t, before, hostCalls(), "lookups and targets from the batch")
}

// TestCacheListingLazy: opening a directory of a cached tree makes no
// host call; it is listed at its first read.
func TestCacheListingLazy(t *testing.T) {
	tr := newTree(t)
	f := tr.fs(t, true)
	require.True(t, f.Cache())
	dir := walk(t, f.Root(), "dir")
	_, err := dir.Stat()
	require.NoError(t, err)
	before := hostCalls()
	impl, err := dir.Open(unix.O_RDONLY | unix.O_DIRECTORY)
	require.NoError(t, err)
	assert.Equal(t, before, hostCalls(), "an open that is not read lists nothing")
	assert.Equal(t, []string{"inner", "sub", "up"}, listNames(t, impl))
	assert.Greater(t, hostCalls(), before, "the first read lists from the host")
	impl.Release()
}

// TestCacheListingInexact: where the host matches names loosely (a listing
// that is not exact), a name missing from the listing is still asked of
// the host.
func TestCacheListingInexact(t *testing.T) {
	tr := newTree(t)
	f := tr.fs(t, true)
	require.True(t, f.Cache())
	dir := walk(t, f.Root(), "dir")
	impl, err := dir.Open(unix.O_RDONLY | unix.O_DIRECTORY)
	require.NoError(t, err)
	listNames(t, impl)
	impl.Release()
	d := dir.(*node)
	f.mu.Lock()
	ok := d.listing != nil
	if ok {
		d.listing.exact = false
	}
	f.mu.Unlock()
	require.True(t, ok, "listed")
	require.NoError(t, os.WriteFile(filepath.Join(tr.root, "dir", "Later"), nil, 0o644))
	_, err = dir.Lookup("Later")
	assert.NoError(t, err, "found on the host")
}
