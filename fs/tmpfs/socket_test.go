package tmpfs

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	rfs "ringbox/fs"
)

func TestMakeNode(t *testing.T) {
	f, root := setup(t, 1<<20)
	sm, ok := root.(rfs.NodeMaker)
	require.True(t, ok)
	require.NoError(t, sm.MakeNode("sock", unix.S_IFSOCK|0o755))
	assert.Equal(t, unix.EEXIST, sm.MakeNode("sock", unix.S_IFSOCK|0o755))
	n := lookup(t, f.Root(), "sock")
	st := stat(t, n)
	assert.Equal(t, uint32(unix.S_IFSOCK|0o755), st.Mode)
	_, err := n.Open(unix.O_RDONLY)
	assert.Equal(t, unix.ENXIO, err, "a socket node cannot be opened")
	require.NoError(t, root.Rename("sock", f.Root(), "moved", 0))
	assert.Equal(t, st.Ino, stat(t, lookup(t, f.Root(), "moved")).Ino, "a renamed node keeps its identity")
	require.NoError(t, root.Unlink("moved"))
	require.NoError(t, sm.MakeNode("fifo", unix.S_IFIFO|0o640))
	assert.Equal(t, uint32(unix.S_IFIFO|0o640), stat(t, lookup(t, f.Root(), "fifo")).Mode)
	assert.Equal(t, unix.EINVAL, sm.MakeNode("dev", unix.S_IFCHR|0o600), "only sockets and FIFOs")
	assert.Equal(t, unix.EINVAL, sm.MakeNode("reg", unix.S_IFREG|0o600), "only sockets and FIFOs")
	require.NoError(t, root.Unlink("fifo"))
	_, nodes := f.Usage()
	assert.Equal(t, int64(1), nodes, "only the root is left")
}
