package hostfs

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	rfs "ringbox/fs"
)

func TestXattr(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	require.NoError(t, os.WriteFile(file, []byte("x"), 0o644))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "d"), 0o755))
	if err := unix.Setxattr(file, "user.host", []byte("h"), 0); err == unix.EOPNOTSUPP {
		t.Skipf("%s keeps no user.* attributes", dir)
	} else {
		require.NoError(t, err)
	}
	rw, err := New(dir, false)
	require.NoError(t, err)
	defer rw.Close()
	lookup := func(f *FS, name string) rfs.Xattrs {
		n, err := f.Root().Lookup(name)
		require.NoError(t, err)
		return n.(rfs.Xattrs)
	}

	x := lookup(rw, "f")
	v, err := x.GetXattr("user.host")
	require.NoError(t, err)
	assert.Equal(t, "h", string(v), "the host file's own attribute")
	require.NoError(t, x.SetXattr("user.new", []byte("from the sandbox"), unix.XATTR_CREATE))
	buf := make([]byte, 64)
	n, err := unix.Getxattr(file, "user.new", buf)
	require.NoError(t, err)
	assert.Equal(t, "from the sandbox", string(buf[:n]), "written through to the host file")
	assert.Equal(t, unix.EEXIST, x.SetXattr("user.new", nil, unix.XATTR_CREATE))
	assert.Equal(t, unix.ENODATA, x.SetXattr("user.none", nil, unix.XATTR_REPLACE))
	require.NoError(t, x.SetXattr("user.empty", nil, 0))
	v, err = x.GetXattr("user.empty")
	require.NoError(t, err)
	assert.Empty(t, v)
	names, err := x.ListXattr()
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"user.host", "user.new", "user.empty"}, names)
	require.NoError(t, x.RemoveXattr("user.empty"))
	assert.Equal(t, unix.ENODATA, x.RemoveXattr("user.empty"))
	_, err = x.GetXattr("user.empty")
	assert.Equal(t, unix.ENODATA, err)

	// The host's other namespaces stay out.
	_, err = x.GetXattr("security.selinux")
	assert.Equal(t, unix.ENODATA, err)
	assert.Equal(t, unix.EOPNOTSUPP, x.SetXattr("trusted.t", []byte("t"), 0))
	assert.Equal(t, unix.EOPNOTSUPP, x.RemoveXattr("security.capability"))

	// A directory; a value as large as Linux allows round-trips.
	d := lookup(rw, "d")
	big := make([]byte, 4000)
	for i := range big {
		big[i] = byte(i)
	}
	require.NoError(t, d.SetXattr("user.big", big, 0))
	v, err = d.GetXattr("user.big")
	require.NoError(t, err)
	assert.Equal(t, big, v)

	// A file replaced on the host after its lookup is not the node's.
	require.NoError(t, os.Remove(file))
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	_, err = x.GetXattr("user.host")
	assert.Error(t, err)

	// Read-only: read, never written.
	ro, err := New(dir, true)
	require.NoError(t, err)
	defer ro.Close()
	y := lookup(ro, "d")
	v, err = y.GetXattr("user.big")
	require.NoError(t, err)
	assert.Equal(t, big, v)
	assert.Equal(t, unix.EROFS, y.SetXattr("user.x", nil, 0))
	assert.Equal(t, unix.EROFS, y.RemoveXattr("user.big"))
}
