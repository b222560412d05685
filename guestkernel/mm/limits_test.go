package mm

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRlimitAS: RLIMIT_AS bounds what the VMAs span: mmap, mremap and brk
// past it are ENOMEM, replacing what is mapped adds nothing, and unmapping
// makes room again.
func TestRlimitAS(t *testing.T) {
	m, _, _ := newTestMM(t)
	m.brkStart, m.brk = 0x20000000, 0x20000000
	m.SetRlimits(Rlimits{AS: uint64(pages(100))})
	a, err := m.Mmap(MmapOpts{Len: pages(60), Prot: rw})
	require.NoError(t, err)
	_, err = m.Mmap(MmapOpts{Len: pages(41), Prot: ProtRead})
	assert.Equal(t, ENOMEM, err, "60 + 41 pages")
	_, err = m.Mmap(MmapOpts{Addr: a, Len: pages(60), Prot: ProtRead, Fixed: true})
	assert.NoError(t, err, "MAP_FIXED over the same pages")
	_, err = m.Mremap(a, pages(60), pages(120), 1, 0)
	assert.Equal(t, ENOMEM, err)
	assert.Equal(t, m.brk, m.Brk(m.brk+pages(50)), "brk past the limit stays")
	b, err := m.Mremap(a, pages(60), pages(90), 1, 0)
	require.NoError(t, err)
	require.NoError(t, m.Munmap(b, pages(90)))
	assert.Equal(t, m.brkStart+pages(50), m.Brk(m.brkStart+pages(50)))
	assert.Equal(t, pages(50), m.vmas.size)
	m.SetRlimits(Rlimits{})
	_, err = m.Mmap(MmapOpts{Len: pages(1000), Prot: ProtRead})
	assert.NoError(t, err, "no limit")
	mustCheck(t, m)
}

// TestRlimitData: RLIMIT_DATA counts private writable mappings only.
func TestRlimitData(t *testing.T) {
	m, _, _ := newTestMM(t)
	m.SetRlimits(Rlimits{Data: uint64(pages(10))})
	_, err := m.Mmap(MmapOpts{Len: pages(11), Prot: rw})
	assert.Equal(t, ENOMEM, err)
	_, err = m.Mmap(MmapOpts{Len: pages(11), Prot: ProtRead})
	assert.NoError(t, err, "read-only")
	_, err = m.Mmap(MmapOpts{Len: pages(11), Prot: rw, Shared: true})
	assert.NoError(t, err, "shared")
	_, err = m.Mmap(MmapOpts{Len: pages(10), Prot: rw})
	assert.NoError(t, err, "at the limit")
	// mprotect making private memory writable adds data; read-only or
	// shared does not.
	ro, err := m.Mmap(MmapOpts{Len: pages(2), Prot: ProtRead})
	require.NoError(t, err)
	assert.Equal(t, ENOMEM, m.Mprotect(ro, pageSize, rw), "writable private memory past RLIMIT_DATA")
	assert.NoError(t, m.Mprotect(ro, pageSize, ProtRead|ProtExec))
	sh, err := m.Mmap(MmapOpts{Len: pages(2), Prot: ProtRead, Shared: true})
	require.NoError(t, err)
	assert.NoError(t, m.Mprotect(sh, pages(2), rw), "shared memory is not data")
	m.SetRlimits(Rlimits{Data: uint64(pages(11))})
	assert.NoError(t, m.Mprotect(ro, pageSize, rw), "one page of room")
	assert.NoError(t, m.Mprotect(ro, pageSize, rw), "already data: no more")
	assert.Equal(t, ENOMEM, m.Mprotect(ro, pages(2), rw))
	mustCheck(t, m)
}

// TestStackGrowth: a fault below a grows-down VMA grows it (faultAround
// pages where there is room), up to the stack room, not within
// StackGuardGap of the mapping below, and not past RLIMIT_AS.
func TestStackGrowth(t *testing.T) {
	m, _, _ := newTestMM(t)
	m.mu.Lock()
	m.setStackRoomLocked(uint64(pages(64)))
	m.mu.Unlock()
	top := uintptr(0x40000000)
	_, err := m.Mmap(MmapOpts{Addr: top - pages(4), Len: pages(4), Prot: rw, Fixed: true, GrowsDown: true, Name: "[stack]"})
	require.NoError(t, err)
	res, _, err := m.HandleFault(top-pages(10), true, false)
	require.NoError(t, err)
	assert.Equal(t, FaultHandled, res)
	v, ok := m.vmas.lookup(top - pages(1))
	require.True(t, ok)
	assert.Equal(t, top-pages(10)-pages(faultAround-1), v.Start, "grown faultAround pages below the fault")

	// CopyOut below it grows it too (a signal frame).
	_, err = m.CopyOut(top-pages(30), []byte("frame"))
	require.NoError(t, err)

	// Past the room: SIGSEGV.
	res, _, err = m.HandleFault(top-pages(65), true, false)
	require.NoError(t, err)
	assert.Equal(t, FaultSIGSEGV, res)
	// Down to the room's end exactly, fewer pages than faultAround.
	res, _, err = m.HandleFault(top-pages(64), true, false)
	require.NoError(t, err)
	assert.Equal(t, FaultHandled, res)
	v, _ = m.vmas.lookup(top - pages(1))
	assert.Equal(t, top-pages(64), v.Start)

	// The guard gap: a mapping 1 MiB below blocks growth into the gap.
	m2, _, _ := newTestMM(t)
	m2.mu.Lock()
	m2.setStackRoomLocked(16 << 20)
	m2.mu.Unlock()
	_, err = m2.Mmap(MmapOpts{Addr: top - pages(4), Len: pages(4), Prot: rw, Fixed: true, GrowsDown: true})
	require.NoError(t, err)
	below := top - pages(4) - StackGuardGap - pages(8)
	_, err = m2.Mmap(MmapOpts{Addr: below, Len: pages(4), Prot: rw, Fixed: true})
	require.NoError(t, err)
	res, _, err = m2.HandleFault(below+pages(4)+StackGuardGap-1, true, false)
	require.NoError(t, err)
	assert.Equal(t, FaultSIGSEGV, res, "inside the guard gap")
	res, _, err = m2.HandleFault(below+pages(4)+StackGuardGap, true, false)
	require.NoError(t, err)
	assert.Equal(t, FaultHandled, res, "just above it")

	// RLIMIT_AS stops growth.
	m3, _, _ := newTestMM(t)
	_, err = m3.Mmap(MmapOpts{Addr: top - pages(4), Len: pages(4), Prot: rw, Fixed: true, GrowsDown: true})
	require.NoError(t, err)
	m3.SetRlimits(Rlimits{AS: uint64(pages(8))})
	res, _, err = m3.HandleFault(top-pages(20), true, false)
	require.NoError(t, err)
	assert.Equal(t, FaultSIGSEGV, res)
	res, _, err = m3.HandleFault(top-pages(6), true, false)
	require.NoError(t, err)
	assert.Equal(t, FaultHandled, res, "two pages more fit; faultAround falls back to the page")
	mustCheck(t, m)
	mustCheck(t, m2)
	mustCheck(t, m3)
}
