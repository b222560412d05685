package tmpfs

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	rfs "ringbox/fs"
)

func TestXattrs(t *testing.T) {
	f, root := setup(t, 1<<20)
	n := create(t, root, "f", "data")
	x, ok := n.(rfs.Xattrs)
	require.True(t, ok)
	before, _ := f.Usage()

	_, err := x.GetXattr("user.a")
	require.ErrorIs(t, err, unix.ENODATA)
	require.ErrorIs(t, x.SetXattr("user.a", []byte("1"), unix.XATTR_REPLACE), unix.ENODATA)
	require.NoError(t, x.SetXattr("user.a", []byte("1"), unix.XATTR_CREATE))
	require.ErrorIs(t, x.SetXattr("user.a", []byte("2"), unix.XATTR_CREATE), unix.EEXIST)
	require.NoError(t, x.SetXattr("user.a", []byte("22"), unix.XATTR_REPLACE))
	require.NoError(t, x.SetXattr("trusted.b", nil, 0))
	v, err := x.GetXattr("user.a")
	require.NoError(t, err)
	require.Equal(t, "22", string(v))
	v[0] = 'x' // a copy
	v, _ = x.GetXattr("user.a")
	require.Equal(t, "22", string(v))
	names, err := x.ListXattr()
	require.NoError(t, err)
	require.Equal(t, []string{"trusted.b", "user.a"}, names)
	after, _ := f.Usage()
	require.Equal(t, before+PageSize, after, "attributes are charged a page")

	// One node holds at most XattrMax bytes of names and values.
	big := []byte(strings.Repeat("v", XattrMax-len("user.big")-len("user.a")-2-len("trusted.b")))
	require.NoError(t, x.SetXattr("user.big", big, 0))
	require.ErrorIs(t, x.SetXattr("user.c", nil, 0), unix.ENOSPC)
	require.ErrorIs(t, x.SetXattr("user.big", append(big, 'v'), 0), unix.ENOSPC)
	used, _ := f.Usage()
	require.Equal(t, before+XattrMax/PageSize*PageSize, used)

	require.NoError(t, x.RemoveXattr("user.big"))
	require.ErrorIs(t, x.RemoveXattr("user.big"), unix.ENODATA)
	used, _ = f.Usage()
	require.Equal(t, after, used)

	// Freed with the file.
	require.NoError(t, root.Unlink("f"))
	used, _ = f.Usage()
	require.Equal(t, before-PageSize, used, "the file's data page and its attributes are given back")
}

func TestXattrsFillTheFilesystem(t *testing.T) {
	f, root := setup(t, 2*PageSize)
	x := create(t, root, "f", "").(rfs.Xattrs)
	y := create(t, root, "g", "").(rfs.Xattrs)
	require.NoError(t, x.SetXattr("user.a", make([]byte, PageSize+1), 0)) // two pages
	require.ErrorIs(t, y.SetXattr("user.a", []byte("1"), 0), unix.ENOSPC)
	_, err := y.GetXattr("user.a")
	require.ErrorIs(t, err, unix.ENODATA, "a failed set leaves nothing")
	used, _ := f.Usage()
	require.Equal(t, int64(2*PageSize), used)
}
