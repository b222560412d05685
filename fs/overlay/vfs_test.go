package overlay

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	rfs "ringbox/fs"
	"ringbox/fs/tmpfs"
)

// TestVFSResolve resolves paths through fs.VFS over an overlay root:
// merged directories, "..", symlinks of both layers, directories made
// and removed, a mount on top.
func TestVFSResolve(t *testing.T) {
	o := newOverlay(t,
		"usr/bin/ls=ls", "usr/lib/libc.so=libc", "lib->usr/lib", "abs->/usr/bin",
		"etc/passwd=root", "home/user/.profile=profile", "tmp/")
	v := rfs.NewVFS(o.ov, false)
	root := v.Root()
	resolve := func(p string) (*rfs.Dentry, error) { return v.Resolve(root, root, p, true) }
	read := func(p string) string {
		t.Helper()
		d, err := resolve(p)
		require.NoError(t, err, p)
		impl, err := d.Node().Open(unix.O_RDONLY)
		require.NoError(t, err, p)
		defer impl.Release()
		return readAll(t, impl)
	}
	for p, want := range map[string]string{
		"/usr/bin/ls":                 "ls",
		"usr/bin/../lib/libc.so":      "libc",
		"/lib/libc.so":                "libc",
		"/lib/../bin/ls":              "ls", // .. of the link's target: /usr
		"/abs/ls":                     "ls",
		"/../../etc/passwd":           "root",
		"/home/user/../../etc/passwd": "root",
	} {
		assert.Equal(t, want, read(p), p)
	}

	// Make a tree in a merged directory through the VFS's parents.
	dir, name, err := v.ResolveParent(root, root, "/usr/lib/newdir")
	require.NoError(t, err)
	require.NoError(t, mut(t, dir.Node()).Mkdir(name, 0o755))
	dir.Invalidate(name)
	nd, err := resolve("/usr/lib/newdir")
	require.NoError(t, err)
	create(t, nd.Node(), "f", "new file")
	assert.Equal(t, "new file", read("/usr/lib/newdir/f"))
	assert.Equal(t, "new file", read("/lib/newdir/f"))
	assert.Equal(t, "libc", read("/usr/lib/newdir/../libc.so"), ".. from an upper directory to a merged one")
	assert.Equal(t, "ls", read("/usr/lib/newdir/../../bin/ls"))
	assert.Equal(t, "/usr/lib/newdir", nd.Path(root))

	// Writing through a resolved path copies up; the cached dentries stay
	// right.
	ls, err := resolve("/usr/bin/ls")
	require.NoError(t, err)
	impl, err := ls.Node().Open(unix.O_WRONLY | unix.O_TRUNC)
	require.NoError(t, err)
	_, err = impl.Write([]byte("LS"))
	require.NoError(t, err)
	impl.Release()
	assert.Equal(t, "LS", read("/usr/bin/ls"))
	assert.Equal(t, "LS", read("/abs/ls"))

	// Removing and renaming, with the syscall layer's invalidations.
	etc, err := resolve("/etc")
	require.NoError(t, err)
	require.NoError(t, mut(t, etc.Node()).Unlink("passwd"))
	etc.Invalidate("passwd")
	_, err = resolve("/etc/passwd")
	assert.Equal(t, unix.ENOENT, err)
	usrLib, err := resolve("/usr/lib")
	require.NoError(t, err)
	require.NoError(t, mut(t, usrLib.Node()).Rename("newdir", etc.Node(), "moved", 0))
	usrLib.Invalidate("newdir")
	etc.Invalidate("moved")
	assert.Equal(t, "new file", read("/etc/moved/f"))
	assert.Equal(t, "root", func() string {
		create(t, etc.Node(), "passwd", "root")
		etc.Invalidate("passwd")
		return read("/etc/moved/../passwd")
	}())
	_, err = resolve("/lib/newdir/f")
	assert.Equal(t, unix.ENOENT, err)
	// A directory found through a path is a directory of the VFS.
	assert.True(t, etc.IsDir())
	d, err := resolve("/etc/passwd/")
	assert.Equal(t, unix.ENOTDIR, err)
	assert.Nil(t, d)

	// A tmpfs mounted on an overlay directory hides it; .. leaves it.
	require.NoError(t, v.MountAt("/tmp", tmpfs.New(1<<20), false))
	tmp, err := resolve("/tmp")
	require.NoError(t, err)
	create(t, tmp.Node(), "x", "in tmpfs")
	assert.Equal(t, "in tmpfs", read("/tmp/x"))
	assert.Equal(t, "LS", read("/tmp/../usr/bin/ls"))
	assert.False(t, o.inUpper("tmp/x"), "not in the overlay")
}
