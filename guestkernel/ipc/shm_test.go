package ipc

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"ringbox/guestkernel/memfile"
	"ringbox/guestkernel/mm"
	"ringbox/guestkernel/platform"
	"ringbox/ring0/pagetables"
)

// testPlatform makes address spaces without KVM; it cannot run code.
type testPlatform struct{ mem *memfile.File }

func (p testPlatform) NewAddressSpace() (platform.AddressSpace, error) {
	t, err := pagetables.New(p.mem)
	if err != nil {
		return nil, err
	}
	return testAS{t}, nil
}
func (p testPlatform) NewContext() (platform.Context, error) { return nil, errors.New("no contexts") }
func (p testPlatform) Name() string                          { return "test" }
func (p testPlatform) FPLayout() platform.FPLayout           { return platform.FPLayout{} }
func (p testPlatform) Stats() map[string]uint64              { return nil }

type testAS struct{ t *pagetables.Tables }

func (a testAS) Tables() *pagetables.Tables { return a.t }
func (a testAS) Invalidate()                {}
func (a testAS) Release()                   { a.t.Release() }

// attach maps segment id into m as shmat does (the syscall's part is in
// syscalls/sys_shm.go).
func attach(t *testing.T, ns *Namespace, m *mm.MM, c Caller, id int32, addr uintptr, flags int) (uintptr, error) {
	t.Helper()
	s, prot, err := ns.ShmAttach(c, id, flags)
	if err != nil {
		return 0, err
	}
	maxProt := 0
	if flags&ShmRdonly != 0 {
		maxProt = mm.ProtRead | mm.ProtExec
	}
	at, err := m.Mmap(mm.MmapOpts{Addr: addr, Len: uintptr(s.Size()), Prot: prot, Shared: true, Fixed: addr != 0,
		Pager: s, Name: s.Name(), MaxProt: maxProt})
	s.EndAttach(c, err == nil)
	return at, err
}

func detach(m *mm.MM, c Caller, addr uintptr) error {
	var seg *Segment
	err := m.Detach(addr, func(p mm.Pager) (uintptr, bool) {
		s, ok := p.(*Segment)
		if ok && seg == nil {
			seg = s
		}
		return uintptr(s.Size()), ok
	})
	if err == nil {
		seg.Detached(c)
	}
	return err
}

func nattch(t *testing.T, ns *Namespace, id int32) uint64 {
	t.Helper()
	ds, _, err := ns.ShmStat(user(1), id, false, false)
	require.NoError(t, err)
	return ds.Nattch
}

func TestShmAttachForkDetach(t *testing.T) {
	mem := newMem(t, memfile.ChunkSize)
	ns := NewNamespace(mem)
	p := testPlatform{mem}
	parent, err := mm.New(p, mem)
	require.NoError(t, err)
	c := user(1)
	base, _ := mem.Used()

	id, err := ns.ShmGet(c, 99, 3*4096+10, Creat|0o600)
	require.NoError(t, err)
	_, err = ns.ShmGet(c, 99, 5*4096, 0)
	assert.Equal(t, unix.EINVAL, err, "larger than the segment")
	_, err = ns.ShmGet(c, 99, 100, 0)
	assert.NoError(t, err)

	at, err := attach(t, ns, parent, c, id, 0, 0)
	require.NoError(t, err)
	assert.Equal(t, uint64(1), nattch(t, ns, id))
	_, err = parent.CopyOut(at+4096*3+5, []byte("hello"))
	require.NoError(t, err, "the rest of the last page is there")

	// fork: the child's mapping is another attachment of the same pages.
	child, err := parent.Fork(p)
	require.NoError(t, err)
	assert.Equal(t, uint64(2), nattch(t, ns, id))
	_, err = child.CopyOut(at, []byte("from the child"))
	require.NoError(t, err)
	buf := make([]byte, 14)
	_, err = parent.CopyIn(at, buf)
	require.NoError(t, err)
	assert.Equal(t, "from the child", string(buf))

	// IPC_RMID while attached: the key goes, the segment stays.
	require.NoError(t, ns.ShmRemove(c, id))
	_, err = ns.ShmGet(c, 99, 100, 0)
	assert.Equal(t, unix.ENOENT, err)
	ds, _, err := ns.ShmStat(c, id, false, false)
	require.NoError(t, err)
	assert.Equal(t, int32(0), ds.Perm.Key)
	assert.Equal(t, uint32(ShmDest|0o600), ds.Perm.Mode)
	assert.Equal(t, uint64(3*4096+10), ds.Size)
	assert.Equal(t, int32(1), ds.CPID)

	// A partial munmap splits the attachment: Linux counts VMAs.
	require.NoError(t, parent.Munmap(at+4096, 4096))
	assert.Equal(t, uint64(3), nattch(t, ns, id))
	// shmdt at the attach address removes both pieces.
	require.NoError(t, detach(parent, c, at))
	assert.Equal(t, uint64(1), nattch(t, ns, id))
	assert.Equal(t, unix.EINVAL, detach(parent, c, at), "nothing attached there now")
	assert.Equal(t, unix.EINVAL, detach(parent, c, at+1))

	// Exit of the last user: the segment is destroyed, pages freed.
	child.Release()
	_, _, err = ns.ShmStat(c, id, false, false)
	assert.Equal(t, unix.EINVAL, err)
	parent.Release()
	used, _ := mem.Used()
	assert.LessOrEqual(t, used, base, "the segment's pages are free")
	assert.Equal(t, int64(0), ns.Used())
}

func TestShmAccess(t *testing.T) {
	mem := newMem(t, memfile.ChunkSize)
	ns := NewNamespace(mem)
	m, err := mm.New(testPlatform{mem}, mem)
	require.NoError(t, err)
	defer m.Release()
	c := user(1)
	id, err := ns.ShmGet(c, Private, 4096, 0o400)
	require.NoError(t, err)
	_, err = attach(t, ns, m, c, id, 0, 0)
	assert.Equal(t, unix.EACCES, err, "read-write attach of a read-only segment")
	at, err := attach(t, ns, m, c, id, 0x40000000, ShmRdonly)
	require.NoError(t, err)
	assert.Equal(t, uintptr(0x40000000), at)
	assert.Equal(t, unix.EACCES, m.Mprotect(at, 4096, mm.ProtRead|mm.ProtWrite), "SHM_RDONLY for good")
	assert.NoError(t, m.Mprotect(at, 4096, mm.ProtRead))
	_, _, err = ns.ShmAttach(other(2), id, ShmRdonly)
	assert.Equal(t, unix.EACCES, err)
	_, _, err = ns.ShmStat(other(2), id, false, false)
	assert.Equal(t, unix.EACCES, err)
	assert.Equal(t, unix.EPERM, ns.ShmRemove(other(2), id))
	_, _, err = ns.ShmAttach(c, id+1, 0)
	assert.Equal(t, unix.EINVAL, err)

	// A segment removed while unattached is gone at once.
	id2, err := ns.ShmGet(c, Private, 4096, 0o600)
	require.NoError(t, err)
	require.NoError(t, ns.ShmRemove(c, id2))
	_, _, err = ns.ShmAttach(c, id2, 0)
	assert.Equal(t, unix.EINVAL, err)

	// Sizes.
	_, err = ns.ShmGet(c, Private, 0, 0o600)
	assert.Equal(t, unix.EINVAL, err)
	_, err = ns.ShmGet(c, Private, uint64(mem.Limit())+1, 0o600)
	assert.Equal(t, unix.ENOMEM, err, "larger than the sandbox's memory")
	big, err := ns.ShmGet(c, Private, uint64(mem.Limit())+1, ShmNoReserve|0o600)
	assert.NoError(t, err, "unless not reserved")
	require.NoError(t, ns.ShmRemove(c, big))
	_, err = ns.ShmGet(c, Private, ShmMax+1, ShmNoReserve|0o600)
	assert.Equal(t, unix.EINVAL, err)

	usage, _ := ns.ShmUsageCmd()
	assert.Equal(t, int32(1), usage.UsedIDs)
	assert.Equal(t, uint64(1), usage.ShmTot)
	require.NoError(t, detach(m, c, at))
	require.NoError(t, ns.ShmRemove(c, id))
}
