package tmpfs

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	rfs "ringbox/fs"
	"ringbox/fs/devfs"
)

// TestVFS mounts a devfs at /dev and a tmpfs at /tmp on a tmpfs root and
// resolves through them.
func TestVFS(t *testing.T) {
	rootFS, root := setup(t, 1<<20)
	require.NoError(t, root.Mkdir("dev", 0o755))
	require.NoError(t, root.Mkdir("tmp", 0o1777))
	require.NoError(t, root.Mkdir("proc", 0o555))
	tmp := New(1 << 20)
	v := rfs.NewVFS(rootFS, false)
	require.NoError(t, v.MountAt("/dev", devfs.New(), false))
	require.NoError(t, v.MountAt("/tmp", tmp, false))
	r := v.Root()
	resolve := func(p string, follow bool) (*rfs.Dentry, error) { return v.Resolve(r, r, p, follow) }

	// /dev/null is devfs's.
	d, err := resolve("/dev/null", true)
	require.NoError(t, err)
	st := stat(t, d.Node())
	assert.Equal(t, uint32(unix.S_IFCHR|0o666), st.Mode)
	assert.Equal(t, unix.Mkdev(1, 3), st.Rdev)
	assert.Equal(t, "/dev/null", d.Path(r))
	h, err := d.Node().Open(unix.O_WRONLY)
	require.NoError(t, err)
	k, err := h.Write([]byte("gone"))
	require.NoError(t, err)
	assert.Equal(t, 4, k)
	h.Release()
	_, ok := d.Node().(rfs.Mutable)
	assert.False(t, ok, "devfs is not Mutable")

	// A file created in /tmp is the mounted tmpfs's, not the root's.
	dt, err := resolve("/tmp", true)
	require.NoError(t, err)
	assert.Same(t, tmp.Root(), dt.Node())
	c, ok := dt.Node().(rfs.Creator)
	require.True(t, ok)
	_, impl, err := c.Create("x", unix.O_WRONLY, 0o644)
	require.NoError(t, err)
	_, err = impl.Write([]byte("in tmp"))
	require.NoError(t, err)
	impl.Release()
	dt.Invalidate("x")
	dx, err := resolve("/tmp/x", true)
	require.NoError(t, err)
	assert.Equal(t, "in tmp", content(t, dx.Node()))
	assert.Equal(t, "/tmp/x", dx.Path(r))
	assert.Equal(t, stat(t, tmp.Root()).Dev, stat(t, dx.Node()).Dev)
	assert.NotEqual(t, stat(t, rootFS.Root()).Dev, stat(t, dx.Node()).Dev)
	_, err = lookup(t, rootFS.Root(), "tmp").Lookup("x")
	assert.Equal(t, unix.ENOENT, err, "the mount point below is untouched")
	dx2, err := resolve("/tmp/../tmp/./x", true)
	require.NoError(t, err)
	assert.Same(t, dx.Node(), dx2.Node())

	// /dev/stdout is a symlink into /proc, absent here.
	ds, err := resolve("/dev/stdout", false)
	require.NoError(t, err)
	target, err := ds.Node().Readlink()
	require.NoError(t, err)
	assert.Equal(t, "/proc/self/fd/1", target)
	_, err = resolve("/dev/stdout", true)
	assert.Equal(t, unix.ENOENT, err)
	// With a /proc/self/fd/1 in the root, following reaches it.
	pm := mut(t, lookup(t, rootFS.Root(), "proc"))
	require.NoError(t, pm.Mkdir("self", 0o555))
	require.NoError(t, mut(t, lookup(t, rootFS.Root(), "proc/self")).Mkdir("fd", 0o500))
	create(t, mut(t, lookup(t, rootFS.Root(), "proc/self/fd")), "1", "stdout here")
	dd, err := resolve("/dev/stdout", true)
	require.NoError(t, err)
	assert.Equal(t, "stdout here", content(t, dd.Node()))
	dfd, err := resolve("/dev/fd/1", true)
	require.NoError(t, err)
	assert.Same(t, dd.Node(), dfd.Node())

	// Symlinks of the tmpfs resolve through the mounts too.
	require.NoError(t, root.Symlink("/dev/zero", "z"))
	require.NoError(t, mut(t, tmp.Root()).Symlink("../dev/full", "rel"))
	dz, err := resolve("/z", true)
	require.NoError(t, err)
	assert.Equal(t, unix.Mkdev(1, 5), stat(t, dz.Node()).Rdev)
	dr, err := resolve("/tmp/rel", true)
	require.NoError(t, err)
	assert.Equal(t, unix.Mkdev(1, 7), stat(t, dr.Node()).Rdev)

	// Errors.
	_, err = resolve("/dev/console", true)
	assert.Equal(t, unix.ENOENT, err)
	_, err = resolve("/tmp/x/y", true)
	assert.Equal(t, unix.ENOTDIR, err)
	_, err = resolve("/dev/null/", true)
	assert.Equal(t, unix.ENOTDIR, err)

	// ResolveParent through a mount.
	dir, last, err := v.ResolveParent(r, r, "/tmp/new")
	require.NoError(t, err)
	assert.Equal(t, "new", last)
	assert.Same(t, tmp.Root(), dir.Node())
	// /dev/shm takes a tmpfs of its own.
	shm := New(1 << 20)
	require.NoError(t, v.MountAt("/dev/shm", shm, false))
	dshm, err := resolve("/dev/shm", true)
	require.NoError(t, err)
	assert.Same(t, shm.Root(), dshm.Node())
	require.NoError(t, mut(t, shm.Root()).Mkdir("seg", 0o700))
	_, err = resolve("/dev/shm/seg", true)
	require.NoError(t, err)
}

// TestResolution walks with openat2's resolve flags: a scope directory
// /top with links inside and out of it, and a tmpfs mounted at /mnt.
func TestResolution(t *testing.T) {
	rootFS, root := setup(t, 1<<20)
	require.NoError(t, root.Mkdir("top", 0o755))
	require.NoError(t, root.Mkdir("mnt", 0o755))
	create(t, root, "outside", "outside")
	top := mut(t, lookup(t, rootFS.Root(), "top"))
	require.NoError(t, top.Mkdir("a", 0o755))
	create(t, top, "g", "top/g")
	create(t, mut(t, lookup(t, rootFS.Root(), "top/a")), "f", "top/a/f")
	a := mut(t, lookup(t, rootFS.Root(), "top/a"))
	require.NoError(t, a.Symlink("../g", "up"))
	require.NoError(t, a.Symlink("../../outside", "out"))
	require.NoError(t, top.Symlink("/g", "abs"))
	require.NoError(t, top.Symlink("a", "la"))
	require.NoError(t, top.Symlink("/mnt", "lm"))
	mnt := New(1 << 20)
	create(t, mnt.root, "m", "mnt/m")
	v := rfs.NewVFS(rootFS, false)
	require.NoError(t, v.MountAt("/mnt", mnt, false))
	r := v.Root()
	dtop, err := v.Resolve(r, r, "/top", true)
	require.NoError(t, err)

	for _, c := range []struct {
		how         rfs.Resolution
		start, path string
		follow      bool
		want        string // content, or "" when err is set
		err         error
	}{
		{0, "/top", "a/out", true, "outside", nil},
		{unix.RESOLVE_BENEATH, "/top", "a/f", true, "top/a/f", nil},
		{unix.RESOLVE_BENEATH, "/top", "a/../g", true, "top/g", nil},
		{unix.RESOLVE_BENEATH, "/top", "a/up", true, "top/g", nil},
		{unix.RESOLVE_BENEATH, "/top", "la/f", true, "top/a/f", nil},
		{unix.RESOLVE_BENEATH, "/top", "..", true, "", unix.EXDEV},
		{unix.RESOLVE_BENEATH, "/top", "../outside", true, "", unix.EXDEV},
		{unix.RESOLVE_BENEATH, "/top", "/outside", true, "", unix.EXDEV},
		{unix.RESOLVE_BENEATH, "/top", "a/out", true, "", unix.EXDEV},
		{unix.RESOLVE_BENEATH, "/top", "abs", true, "", unix.EXDEV},
		{unix.RESOLVE_IN_ROOT, "/top", "/g", true, "top/g", nil},
		{unix.RESOLVE_IN_ROOT, "/top", "../../g", true, "top/g", nil},
		{unix.RESOLVE_IN_ROOT, "/top", "abs", true, "top/g", nil},
		{unix.RESOLVE_IN_ROOT, "/top", "a/out", true, "", unix.ENOENT},
		{unix.RESOLVE_NO_SYMLINKS, "/top", "a/f", true, "top/a/f", nil},
		{unix.RESOLVE_NO_SYMLINKS, "/top", "la/f", true, "", unix.ELOOP},
		{unix.RESOLVE_NO_SYMLINKS, "/top", "a/up", true, "", unix.ELOOP},
		{unix.RESOLVE_NO_SYMLINKS, "/top", "abs", false, "", nil}, // not followed
		{unix.RESOLVE_NO_XDEV, "/", "mnt/m", true, "", unix.EXDEV},
		{unix.RESOLVE_NO_XDEV, "/top", "lm/m", true, "", unix.EXDEV},
		{unix.RESOLVE_NO_XDEV, "/mnt", "m", true, "mnt/m", nil},
		{unix.RESOLVE_NO_XDEV, "/mnt", "../top/g", true, "", unix.EXDEV},
		{unix.RESOLVE_NO_XDEV, "/mnt", "/top/g", true, "top/g", nil}, // starts at / (Linux too)
		{unix.RESOLVE_NO_XDEV, "/", "top/a/../g", true, "top/g", nil},
	} {
		name := fmt.Sprintf("%#x %s %s", c.how, c.start, c.path)
		start, err := v.Resolve(r, r, c.start, true)
		require.NoError(t, err, name)
		scope := r
		if c.how&(unix.RESOLVE_BENEATH|unix.RESOLVE_IN_ROOT) != 0 {
			scope = start
		}
		d, err := v.ResolveHow(start, scope, c.path, c.follow, c.how)
		if c.err != nil {
			assert.Equal(t, c.err, err, name)
			continue
		}
		require.NoError(t, err, name)
		if c.want != "" {
			assert.Equal(t, c.want, content(t, d.Node()), name)
		}
	}

	// ResolveParentHow: the parent of a name to create.
	dir, name, err := v.ResolveParentHow(dtop, dtop, "a/new", unix.RESOLVE_BENEATH)
	require.NoError(t, err)
	assert.Equal(t, "new", name)
	assert.Equal(t, "/top/a", dir.Path(r))
	_, _, err = v.ResolveParentHow(dtop, dtop, "../new", unix.RESOLVE_BENEATH)
	assert.Equal(t, unix.EXDEV, err)
	_, _, err = v.ResolveParentHow(dtop, dtop, "..", unix.RESOLVE_BENEATH)
	assert.Equal(t, unix.EXDEV, err)
	_, _, err = v.ResolveParentHow(dtop, dtop, "/", unix.RESOLVE_BENEATH)
	assert.Equal(t, unix.EXDEV, err)
	dir, name, err = v.ResolveParentHow(dtop, dtop, "/a/new", unix.RESOLVE_IN_ROOT)
	require.NoError(t, err)
	assert.Equal(t, "/top/a", dir.Path(r))
	assert.Equal(t, "new", name)
}

// TestMountUnmountBind: mounts made while the tree is in use (mount(2)):
// stacking, a bind mount of a subtree, Unmount's EINVAL and EBUSY.
func TestMountUnmountBind(t *testing.T) {
	rootFS, root := setup(t, 1<<20)
	require.NoError(t, root.Mkdir("a", 0o755))
	require.NoError(t, root.Mkdir("src", 0o755))
	v := rfs.NewVFS(rootFS, false)
	r := v.Root()
	resolve := func(p string) *rfs.Dentry {
		d, err := v.Resolve(r, r, p, true)
		require.NoError(t, err, p)
		return d
	}
	src := resolve("/src")
	require.NoError(t, src.Node().(rfs.Mutable).Mkdir("sub", 0o700))
	src.Invalidate("sub")

	one, two := New(1<<20), New(1<<20)
	_, err := v.MountOn(resolve("/a"), one, false)
	require.NoError(t, err)
	_, err = v.MountOn(resolve("/a"), two, true)
	require.NoError(t, err)
	top := resolve("/a")
	assert.Same(t, two.Root(), top.Node(), "the last mount is seen")
	assert.True(t, top.Mount().ReadOnly)
	assert.True(t, v.IsMountRoot(top))
	assert.False(t, v.IsMountRoot(r), "the tree's own root")
	assert.False(t, v.IsMountRoot(src))
	assert.Equal(t, unix.EINVAL, v.Unmount(src), "not a mount")
	assert.Equal(t, unix.EINVAL, v.Unmount(r))

	// A mount inside makes the outer one busy.
	require.NoError(t, top.Node().(rfs.Mutable).Mkdir("in", 0o755))
	in := resolve("/a/in")
	inner, err := v.MountOn(in, New(1<<20), false)
	require.NoError(t, err)
	assert.Equal(t, unix.EBUSY, v.Unmount(top))
	require.NoError(t, v.Unmount(inner.RootDentry()))
	require.NoError(t, v.Unmount(top))
	assert.Same(t, one.Root(), resolve("/a").Node(), "the one below is seen again")
	require.NoError(t, v.Unmount(resolve("/a")))
	assert.NotSame(t, one.Root(), resolve("/a").Node())

	// A bind mount shows the source's subtree; a file's root does not
	// go on a directory.
	bsrc, err := rfs.Bind(src)
	require.NoError(t, err)
	b, err := v.MountOn(resolve("/a"), bsrc, false)
	require.NoError(t, err)
	d := resolve("/a/sub")
	assert.Equal(t, "/a/sub", d.Path(r))
	assert.Equal(t, uint32(unix.S_IFDIR|0o700), stat(t, d.Node()).Mode)
	assert.Equal(t, "/sub", d.Path(b.RootDentry()))
	_, impl, err := root.Create("f", unix.O_WRONLY, 0o644)
	require.NoError(t, err)
	impl.Release()
	r.Invalidate("f")
	bf, err := rfs.Bind(resolve("/f"))
	require.NoError(t, err)
	_, err = v.MountOn(resolve("/a"), bf, false)
	assert.Equal(t, unix.ENOTDIR, err)

	// The configuration's mounts (MountAt) are locked: not unmounted,
	// not uncovered by a bind of a tree that holds them.
	require.NoError(t, v.Unmount(b.RootDentry()))
	require.NoError(t, v.MountAt("/src", New(1<<20), false))
	assert.Equal(t, unix.EINVAL, v.Unmount(resolve("/src")))
	_, err = rfs.Bind(r)
	assert.Equal(t, unix.EINVAL, err, "/ holds a locked mount")
	_, err = rfs.Bind(resolve("/a"))
	assert.NoError(t, err, "/a holds none")
}
