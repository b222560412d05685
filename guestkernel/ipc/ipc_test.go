package ipc

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func TestIDsAndKeys(t *testing.T) {
	ns := newNS(t)
	c := user(1)
	a, err := ns.MsgGet(c, Private, 0o600)
	require.NoError(t, err)
	b, err := ns.MsgGet(c, Private, 0o600)
	require.NoError(t, err)
	assert.Equal(t, int32(0), a, "the first ID, as on Linux")
	assert.Equal(t, int32(1), b)

	// Keys: ENOENT without IPC_CREAT, the same object again, EEXIST
	// with IPC_CREAT|IPC_EXCL.
	_, err = ns.MsgGet(c, 1234, 0o600)
	assert.Equal(t, unix.ENOENT, err)
	k, err := ns.MsgGet(c, 1234, Creat|0o640)
	require.NoError(t, err)
	again, err := ns.MsgGet(c, 1234, 0)
	require.NoError(t, err)
	assert.Equal(t, k, again)
	again, err = ns.MsgGet(c, 1234, Creat)
	require.NoError(t, err)
	assert.Equal(t, k, again)
	_, err = ns.MsgGet(c, 1234, Creat|Excl|0o600)
	assert.Equal(t, unix.EEXIST, err)

	// Access by the mode bits: the group may read (0640), others nothing.
	_, err = ns.MsgGet(other(2), 1234, 0o400)
	assert.Equal(t, unix.EACCES, err)
	grp := Caller{PID: 3, UID: 3000, GID: 1000}
	_, err = ns.MsgGet(grp, 1234, 0o040)
	assert.NoError(t, err)
	_, err = ns.MsgGet(grp, 1234, 0o020)
	assert.Equal(t, unix.EACCES, err)

	// Removal: the ID is not reused at once (cyclic indexes), the key
	// is free again, a stale ID is EINVAL.
	require.NoError(t, ns.MsgRemove(c, a))
	_, _, err = ns.MsgStatCmd(c, a, false, false)
	assert.Equal(t, unix.EINVAL, err)
	n, err := ns.MsgGet(c, Private, 0o600)
	require.NoError(t, err)
	assert.Equal(t, int32(3), n)
	require.NoError(t, ns.MsgRemove(c, k))
	_, err = ns.MsgGet(c, 1234, 0o600)
	assert.Equal(t, unix.ENOENT, err)

	// Only the owner or creator removes (EPERM) or changes it.
	assert.Equal(t, unix.EPERM, ns.MsgRemove(other(2), b))
	assert.Equal(t, unix.EPERM, ns.MsgSetCmd(other(2), b, SetPerm{UID: 2000, GID: 2000, Mode: 0o666}, MsgMNB))
	assert.Equal(t, unix.EINVAL, ns.MsgRemove(c, -1))
}

func TestIDsWrap(t *testing.T) {
	ns := newNS(t)
	c := user(1)
	seen := map[int32]bool{}
	// Make and remove more objects than the cyclic window: indexes
	// come round again with a new sequence number, so IDs stay unique.
	for i := 0; i < 3*minCycle; i++ {
		id, err := ns.SemGet(c, Private, 1, 0o600)
		require.NoError(t, err)
		assert.False(t, seen[id], "ID %d reused", id)
		seen[id] = true
		require.NoError(t, ns.SemRemove(c, id))
	}
	assert.Equal(t, int64(0), ns.Used(), "everything was given back")
}

func TestObjectLimits(t *testing.T) {
	ns := newNS(t)
	c := user(1)
	var ids []int32
	for i := 0; i < ShmMNI; i++ {
		id, err := ns.ShmGet(c, Private, 4096, 0o600)
		require.NoError(t, err, "segment %d", i)
		ids = append(ids, id)
	}
	_, err := ns.ShmGet(c, Private, 4096, 0o600)
	assert.Equal(t, unix.ENOSPC, err, "SHMMNI")
	_, max := ns.ShmInfoCmd()
	assert.Equal(t, ShmMNI-1, max)
	for _, id := range ids {
		require.NoError(t, ns.ShmRemove(c, id))
	}
	id, err := ns.ShmGet(c, Private, 4096, 0o600)
	require.NoError(t, err)
	require.NoError(t, ns.ShmRemove(c, id))
	assert.Equal(t, int64(0), ns.Used())

	// The Go memory objects hold is bounded.
	ns.SetBudget(64 << 10)
	_, err = ns.SemGet(c, Private, SemMSL, 0o600)
	assert.Equal(t, unix.ENOMEM, err)
	_, err = ns.SemGet(c, Private, SemMSL+1, 0o600)
	assert.Equal(t, unix.EINVAL, err)
}

func TestSetPerm(t *testing.T) {
	ns := newNS(t)
	c := user(1)
	id, err := ns.SemGet(c, 77, 2, Creat|0o600)
	require.NoError(t, err)
	require.NoError(t, ns.SemSetPerm(c, id, SetPerm{UID: 2000, GID: 2000, Mode: 0o7644}))
	ds, _, err := ns.SemStatCmd(other(2), id, false, false)
	require.NoError(t, err)
	assert.Equal(t, uint32(0o644), ds.Perm.Mode, "only the permission bits change")
	assert.Equal(t, uint32(2000), ds.Perm.UID)
	assert.Equal(t, uint32(1000), ds.Perm.CUID, "the creator stays")
	assert.Equal(t, int32(77), ds.Perm.Key)
	// The creator still owns it; the new owner too.
	assert.NoError(t, ns.SemSetPerm(other(2), id, SetPerm{UID: 2000, GID: 2000, Mode: 0o600}))
	assert.Equal(t, unix.EINVAL, ns.SemSetPerm(c, id, SetPerm{UID: ^uint32(0), GID: 0, Mode: 0}))
	assert.NoError(t, ns.SemRemove(c, id))
}
