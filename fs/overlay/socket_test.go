package overlay

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	rfs "ringbox/fs"
)

func TestMakeNode(t *testing.T) {
	o := newOverlay(t, "dir/", "dir/file=x")
	dir, err := o.root.Lookup("dir")
	require.NoError(t, err)
	sm, ok := dir.(rfs.NodeMaker)
	require.True(t, ok)
	assert.Equal(t, unix.EEXIST, sm.MakeNode("file", unix.S_IFSOCK|0o755), "a lower name exists")
	require.NoError(t, sm.MakeNode("sock", unix.S_IFSOCK|0o700))
	n, err := dir.Lookup("sock")
	require.NoError(t, err)
	st, err := n.Stat()
	require.NoError(t, err)
	assert.Equal(t, uint32(unix.S_IFSOCK|0o700), st.Mode)
	_, err = n.Open(unix.O_RDWR)
	assert.Equal(t, unix.ENXIO, err)
	require.NoError(t, dir.(rfs.Mutable).Unlink("sock"))
	_, err = dir.Lookup("sock")
	assert.Equal(t, unix.ENOENT, err)
}
