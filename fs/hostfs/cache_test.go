package hostfs

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// TestCache: with Cache, a read-only tree keeps what it saw (attributes,
// symlink targets, missing names) even when the host changes underneath,
// as the "immutable" policy says; without it every call sees the host.
// Files still read the current contents, and the escape protections hold:
// a name that becomes a symlink to the outside is not followed.
func TestCache(t *testing.T) {
	for _, cached := range []bool{true, false} {
		name := "uncached"
		if cached {
			name = "cached"
		}
		t.Run(name, func(t *testing.T) {
			tr := newTree(t)
			f := tr.fs(t, true)
			require.Equal(t, true, f.Cache())
			if !cached {
				f.cache = false
			}
			p := func(s string) string { return filepath.Join(tr.root, s) }
			root := f.Root()

			file := walk(t, root, "file")
			st, err := file.Stat()
			require.NoError(t, err)
			require.NoError(t, os.Chmod(p("file"), 0o600))
			st2, err := file.Stat()
			require.NoError(t, err)
			assert.Equal(t, cached, st.Mode == st2.Mode, "mode change seen: %v", !cached)

			_, err = root.Lookup("later")
			assert.Equal(t, unix.ENOENT, err)
			require.NoError(t, os.WriteFile(p("later"), []byte("x"), 0o644))
			_, err = root.Lookup("later")
			if cached {
				assert.Equal(t, unix.ENOENT, err, "a missing name stays missing")
			} else {
				assert.NoError(t, err)
			}

			abs := walk(t, root, "abs")
			target, err := abs.Readlink()
			require.NoError(t, err)
			assert.Equal(t, tr.secret, target)
			require.NoError(t, os.Remove(p("abs")))
			require.NoError(t, os.Symlink("elsewhere", p("abs")))
			abs, err = root.Lookup("abs")
			require.NoError(t, err)
			target, err = abs.Readlink()
			require.NoError(t, err)
			if cached {
				assert.Equal(t, tr.secret, target)
			} else {
				assert.Equal(t, "elsewhere", target)
			}
			_, err = file.Readlink()
			assert.Equal(t, unix.EINVAL, err)

			// A directory swapped for a symlink to the outside: nothing
			// outside is reached, cached or not.
			dir := walk(t, root, "dir")
			require.NoError(t, os.Rename(p("dir"), p("dir.old")))
			require.NoError(t, os.Symlink(tr.outside, p("dir")))
			f.mu.Lock()
			f.dropLocked(dir.(*node))
			f.mu.Unlock()
			if c, err := dir.Lookup("secret"); err == nil {
				t.Fatalf("reached %v through a swapped directory", c)
			}
		})
	}
}

// TestCacheWritable: a writable tree does not cache.
func TestCacheWritable(t *testing.T) {
	tr := newTree(t)
	f := tr.fs(t, false)
	assert.False(t, f.Cache())
}

// TestCacheSmallFile: a small file of a cached tree is read whole when
// opened and later opens are served from memory (the host file's later
// changes are not seen, as the policy says); reads, preads and seeks work
// on it as on a file; opening it for writing is refused.
func TestCacheSmallFile(t *testing.T) {
	tr := newTree(t)
	f := tr.fs(t, true)
	require.True(t, f.Cache())
	file := walk(t, f.Root(), "file")
	impl, err := file.Open(unix.O_RDONLY)
	require.NoError(t, err)
	assert.Equal(t, "hello", readAll(t, impl))
	buf := make([]byte, 3)
	n, err := impl.Pread(buf, 1)
	require.NoError(t, err)
	assert.Equal(t, "ell", string(buf[:n]))
	off, err := impl.Seek(-2, unix.SEEK_END)
	require.NoError(t, err)
	assert.Equal(t, int64(3), off)
	assert.Equal(t, "lo", readAll(t, impl))
	_, err = impl.Write([]byte("x"))
	assert.Equal(t, unix.EBADF, err)
	st, err := impl.Stat()
	require.NoError(t, err)
	assert.Equal(t, int64(5), st.Size)
	impl.Release()

	require.NoError(t, os.WriteFile(filepath.Join(tr.root, "file"), []byte("HELLO"), 0o644))
	impl, err = file.Open(unix.O_RDONLY)
	require.NoError(t, err)
	assert.Equal(t, "hello", readAll(t, impl), "served from the kept contents")
	impl.Release()
	_, err = file.Open(unix.O_RDWR)
	assert.Error(t, err, "a read-only tree opens nothing for writing")
}
