package overlay

import (
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	rfs "ringbox/fs"
)

// TestXattrs: a lower file has no attributes (the host's are not shown)
// and stays in the lower layer until one is set; setting one copies it up
// and the upper file keeps it.
func TestXattrs(t *testing.T) {
	o := newOverlay(t, "a/f=hello", "a/g=x")
	x := lookup(t, o.root, "a/f").(rfs.Xattrs)
	_, err := x.GetXattr("user.k")
	require.ErrorIs(t, err, unix.ENODATA)
	names, err := x.ListXattr()
	require.NoError(t, err)
	require.Empty(t, names)
	require.ErrorIs(t, x.RemoveXattr("user.k"), unix.ENODATA)
	require.ErrorIs(t, x.SetXattr("user.k", []byte("v"), unix.XATTR_REPLACE), unix.ENODATA)
	require.False(t, o.inUpper("a/f"), "nothing to change: no copy")

	require.NoError(t, x.SetXattr("user.k", []byte("v"), unix.XATTR_CREATE))
	require.True(t, o.inUpper("a/f"))
	require.False(t, o.inUpper("a/g"))
	require.Equal(t, "hello", content(t, o.root, "a/f"), "copied up whole")
	v, err := lookup(t, o.root, "a/f").(rfs.Xattrs).GetXattr("user.k")
	require.NoError(t, err)
	require.Equal(t, "v", string(v))
	uv, err := lookup(t, o.upper.Root(), "a/f").(rfs.Xattrs).GetXattr("user.k")
	require.NoError(t, err)
	require.Equal(t, "v", string(uv), "kept by the upper file")
	require.NoError(t, x.RemoveXattr("user.k"))
	names, _ = x.ListXattr()
	require.Empty(t, names)

	// A directory too.
	d := lookup(t, o.root, "a").(rfs.Xattrs)
	require.NoError(t, d.SetXattr("user.dir", []byte("1"), 0))
	names, _ = d.ListXattr()
	require.Equal(t, []string{"user.dir"}, names)
}
