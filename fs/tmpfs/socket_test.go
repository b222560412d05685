package tmpfs

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	rfs "ringbox/fs"
)

func TestMakeSocket(t *testing.T) {
	f, root := setup(t, 1<<20)
	sm, ok := root.(rfs.SocketMaker)
	require.True(t, ok)
	require.NoError(t, sm.MakeSocket("sock", 0o755))
	assert.Equal(t, unix.EEXIST, sm.MakeSocket("sock", 0o755))
	n := lookup(t, f.Root(), "sock")
	st := stat(t, n)
	assert.Equal(t, uint32(unix.S_IFSOCK|0o755), st.Mode)
	_, err := n.Open(unix.O_RDONLY)
	assert.Equal(t, unix.ENXIO, err, "a socket node cannot be opened")
	require.NoError(t, root.Rename("sock", f.Root(), "moved", 0))
	assert.Equal(t, st.Ino, stat(t, lookup(t, f.Root(), "moved")).Ino, "a renamed node keeps its identity")
	require.NoError(t, root.Unlink("moved"))
	_, nodes := f.Usage()
	assert.Equal(t, int64(1), nodes, "only the root is left")
}
