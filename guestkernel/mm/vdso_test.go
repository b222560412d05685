package mm

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"ringbox/guestkernel/memfile"
)

// fakeHostData stands for the host's vDSO data pages: a guest-physical
// address outside the memory file, which mm must map but never touch.
const fakeHostData = 0x3f000000

// testVDSO makes a two-page vDSO image (its pages filled with 0xa1 and
// 0xa2) in front of three host data pages.
func testVDSO(t *testing.T, m *MM) (*VDSO, *testFile) {
	t.Helper()
	f := &testFile{mem: m.mem, pages: make([]uintptr, 2)}
	for i := range f.pages {
		pa, err := f.PageAddr(int64(i))
		require.NoError(t, err)
		clear(memfile.Page(pa))
		memfile.Page(pa)[0] = 0xa1 + byte(i)
	}
	t.Cleanup(func() {
		for _, p := range f.held() {
			m.mem.Free(p)
		}
		f.pages = nil
	})
	require.False(t, m.mem.Contains(fakeHostData))
	return &VDSO{Image: f, Pages: 2, HostData: fakeHostData, HostDataLen: 3 * pageSize}, f
}

// checkVDSOMapped checks the [vvar] and [vdso] mappings of a program
// loaded with v, whose AT_SYSINFO_EHDR is at.
func checkVDSOMapped(t *testing.T, m *MM, v *VDSO, image *testFile, at uintptr) {
	t.Helper()
	require.NotZero(t, at)
	vmas := m.VMAs()
	var vvar, vdso *VMA
	for i := range vmas {
		switch vmas[i].Name {
		case "[vvar]":
			vvar = &vmas[i]
		case "[vdso]":
			vdso = &vmas[i]
		}
	}
	require.NotNil(t, vvar)
	require.NotNil(t, vdso)
	assert.Equal(t, at, vdso.Start, "AT_SYSINFO_EHDR is the image's start")
	assert.Equal(t, uintptr(2*pageSize), vdso.Len())
	assert.Equal(t, ProtRead|ProtExec, vdso.Prot)
	assert.Equal(t, vdso.Start, vvar.End, "the data pages sit right before the image")
	assert.Equal(t, v.HostDataLen, vvar.Len())
	assert.Equal(t, ProtRead, vvar.Prot)
	assert.Equal(t, uintptr(fakeHostData), vvar.HostPhys)

	// The image reads as the program sees it.
	b := make([]byte, 1)
	_, err := m.CopyIn(at+pageSize, b)
	require.NoError(t, err)
	assert.Equal(t, byte(0xa2), b[0])
	// The host's pages are never read or written by the Go kernel.
	_, err = m.CopyIn(vvar.Start, b)
	assert.ErrorIs(t, err, unix.EFAULT)
	_, err = m.ForceCopyOut(vvar.Start, b)
	assert.ErrorIs(t, err, unix.EFAULT)
}

func TestHostPagesVMA(t *testing.T) {
	m, as, _ := newTestMM(t)
	v, image := testVDSO(t, m)
	at, err := m.mapVDSO(v)
	require.NoError(t, err)
	checkVDSOMapped(t, m, v, image, at)
	vvar := at - v.HostDataLen

	// A read fault maps the host page itself, read-only; nothing enters
	// the page map or the memory file's accounting.
	used, _ := m.mem.Used()
	res, _, err := m.HandleFault(vvar+pageSize+8, false, false)
	require.NoError(t, err)
	require.Equal(t, FaultHandled, res)
	for i := uintptr(0); i < 3; i++ {
		pa, o, ok := m.pt.Lookup(vvar + i*pageSize)
		require.True(t, ok, "page %d mapped by fault-around (a small VMA whole)", i)
		assert.Equal(t, fakeHostData+i*pageSize, pa)
		assert.False(t, o.Write)
		assert.False(t, o.Exec)
	}
	for i := uintptr(0); i < 3; i++ {
		assert.Zero(t, m.pages.get(vvar+i*pageSize), "nothing in the page map")
	}
	mustCheck(t, m)
	usedAfter, _ := m.mem.Used()
	assert.LessOrEqual(t, usedAfter-used, uintptr(3*pageSize), "at most new page-table pages")

	// Writes and execution fault; mprotect beyond read is refused.
	res, _, err = m.HandleFault(vvar, true, false)
	require.NoError(t, err)
	assert.Equal(t, FaultSIGSEGV, res)
	res, _, _ = m.HandleFault(vvar, false, true)
	assert.Equal(t, FaultSIGSEGV, res)
	assert.ErrorIs(t, m.Mprotect(vvar, pageSize, ProtRead|ProtWrite), unix.EACCES)
	assert.ErrorIs(t, m.Mprotect(vvar, pageSize, ProtRead|ProtExec), unix.EACCES)
	// PROT_NONE takes the entry away, PROT_READ lets it fault back.
	require.NoError(t, m.Mprotect(vvar, pageSize, 0))
	_, _, ok := m.pt.Lookup(vvar)
	assert.False(t, ok)
	mustCheck(t, m)
	require.NoError(t, m.Mprotect(vvar, pageSize, ProtRead))
	mustCheck(t, m)
	_, err = m.Mremap(vvar, pageSize, 2*pageSize, 1, 0)
	assert.ErrorIs(t, err, unix.EINVAL)
	assert.NoError(t, m.Madvise(vvar, pageSize, unix.MADV_DONTNEED))
	assert.Equal(t, []bool{true, true, true}, m.Resident(vvar, 3))

	// A fork shares the window; the child maps it on its own faults.
	c, err := m.Fork(&fakePlatform{mem: m.mem})
	require.NoError(t, err)
	joinFamily(c)
	res, _, err = c.HandleFault(vvar+2*pageSize, false, false)
	require.NoError(t, err)
	require.Equal(t, FaultHandled, res)
	pa, _, ok := c.pt.Lookup(vvar + 2*pageSize)
	require.True(t, ok)
	assert.Equal(t, uintptr(fakeHostData+2*pageSize), pa)
	mustCheckGroup(t, m, c)
	c.Release()

	// munmap of part of it removes the entries (no page to free).
	inv := as.invalidations
	require.NoError(t, m.Munmap(vvar+pageSize, pageSize))
	_, _, ok = m.pt.Lookup(vvar + pageSize)
	assert.False(t, ok)
	assert.Greater(t, as.invalidations, inv)
	pa, _, ok = m.pt.Lookup(vvar + 2*pageSize)
	require.True(t, ok)
	assert.Equal(t, uintptr(fakeHostData+2*pageSize), pa, "the split keeps each part's host address")
	mustCheck(t, m)
	// A new mapping there gets memory-file pages, not the host's.
	_, err = m.Mmap(MmapOpts{Addr: vvar + pageSize, Len: pageSize, Prot: ProtRead | ProtWrite, Fixed: true})
	require.NoError(t, err)
	_, err = m.CopyOut(vvar+pageSize, []byte{1})
	require.NoError(t, err)
	mustCheck(t, m)
}

func TestHostPagesHoles(t *testing.T) {
	m, _, _ := newTestMM(t)
	v, _ := testVDSO(t, m)
	v.HostHoles = []bool{false, true, false}
	at, err := m.mapVDSO(v)
	require.NoError(t, err)
	vvar := at - v.HostDataLen
	var windows []VMA
	for _, vma := range m.VMAs() {
		if vma.Name == "[vvar]" {
			windows = append(windows, vma)
		}
	}
	require.Len(t, windows, 3)
	assert.Equal(t, []uintptr{fakeHostData, HostHole, fakeHostData + 2*pageSize},
		[]uintptr{windows[0].HostPhys, windows[1].HostPhys, windows[2].HostPhys})

	// A read of the hole is SIGBUS, as on the host; fault-around from
	// the page before stops at it.
	res, code, err := m.HandleFault(vvar+pageSize, false, false)
	require.NoError(t, err)
	assert.Equal(t, FaultSIGBUS, res)
	assert.Equal(t, busAdrErr, code)
	res, _, err = m.HandleFault(vvar, false, false)
	require.NoError(t, err)
	require.Equal(t, FaultHandled, res)
	_, _, ok := m.pt.Lookup(vvar + pageSize)
	assert.False(t, ok, "the hole is never mapped")
	res, _, err = m.HandleFault(vvar+2*pageSize, false, false)
	require.NoError(t, err)
	require.Equal(t, FaultHandled, res)
	pa, _, ok := m.pt.Lookup(vvar + 2*pageSize)
	require.True(t, ok)
	assert.Equal(t, uintptr(fakeHostData+2*pageSize), pa)
	assert.Equal(t, []bool{true, false, true}, m.Resident(vvar, 3))
	_, err = m.CopyIn(vvar+pageSize, make([]byte, 1))
	assert.ErrorIs(t, err, unix.EFAULT)
	// Unmapping the hole and mapping it again leaves no trace.
	require.NoError(t, m.Munmap(vvar+pageSize, pageSize))
	mustCheck(t, m)
}
