package mm

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFutexKeyChecks(t *testing.T) {
	m, _, _ := newTestMM(t)
	_, err := m.FutexKey(base+1, true)
	assert.Equal(t, EINVAL, err, "unaligned")
	_, err = m.FutexKey(base+2, false)
	assert.Equal(t, EINVAL, err, "unaligned")
	_, err = m.FutexKey(UserEnd, true)
	assert.Equal(t, EFAULT, err, "outside user space")
	_, err = m.FutexKey(^uintptr(3), false)
	assert.Equal(t, EFAULT, err, "outside user space")

	// A private key needs no mapping (FUTEX_WAKE_PRIVATE on an
	// unmapped word is 0 woken on Linux); a shared one does.
	k, err := m.FutexKey(base, true)
	require.NoError(t, err)
	assert.Equal(t, FutexKey{Kind: FutexPrivate, MM: m, Addr: base}, k)
	_, err = m.FutexKey(base, false)
	assert.Equal(t, EFAULT, err, "shared key of an unmapped word")

	mmapAnon(t, m, base, pages(1), 0, true)
	_, err = m.FutexKey(base, false)
	assert.Equal(t, EFAULT, err, "PROT_NONE")
}

func TestFutexKeyPrivateMapping(t *testing.T) {
	m, _, _ := newTestMM(t)
	mmapAnon(t, m, base, pages(2), rw, true)
	k, err := m.FutexKey(base+pages(1)+8, false)
	require.NoError(t, err)
	assert.Equal(t, FutexKey{Kind: FutexSharedMM, MM: m, Addr: base + pages(1) + 8}, k,
		"a shared operation on a private mapping falls back to (mm, address)")
	assert.NotEqual(t, uintptr(0), backing(m, base+pages(1)), "the page was faulted in")
	p, err := m.FutexKey(base+pages(1)+8, true)
	require.NoError(t, err)
	assert.NotEqual(t, k, p, "private and shared keys of one word differ, as on Linux")
}

func TestFutexKeySharedMapping(t *testing.T) {
	m, _, _ := newTestMM(t)
	_, err := m.Mmap(MmapOpts{Addr: base, Len: pages(2), Prot: rw, Fixed: true, Shared: true})
	require.NoError(t, err)
	k, err := m.FutexKey(base+pages(1)+12, false)
	require.NoError(t, err)
	assert.Equal(t, FutexSharedPage, k.Kind)
	assert.Nil(t, k.MM)
	assert.Equal(t, backing(m, base+pages(1))+12, k.Addr, "keyed by the memory-file page and offset")
	k2, err := m.FutexKey(base+pages(1)+12, false)
	require.NoError(t, err)
	assert.Equal(t, k, k2, "stable")
	k3, err := m.FutexKey(base+12, false)
	require.NoError(t, err)
	assert.NotEqual(t, k, k3)
	p, err := m.FutexKey(base+12, true)
	require.NoError(t, err)
	assert.Equal(t, FutexKey{Kind: FutexPrivate, MM: m, Addr: base + 12}, p, "FUTEX_PRIVATE_FLAG keys by address")
}

func TestFutexWordOps(t *testing.T) {
	m, _, _ := newTestMM(t)
	mmapAnon(t, m, base, pages(1), rw, true)
	mmapAnon(t, m, base+pages(1), pages(1), ro, true)

	_, err := m.CopyOut(base+4, []byte{0x78, 0x56, 0x34, 0x12})
	require.NoError(t, err)
	v, err := m.FutexLoad(base + 4)
	require.NoError(t, err)
	assert.Equal(t, uint32(0x12345678), v, "little endian, as the program sees it")

	cur, err := m.FutexCompareAndSwap(base+4, 1, 2)
	require.NoError(t, err)
	assert.Equal(t, uint32(0x12345678), cur, "a failed swap returns what it found")
	cur, err = m.FutexCompareAndSwap(base+4, 0x12345678, 7)
	require.NoError(t, err)
	assert.Equal(t, uint32(0x12345678), cur)
	old, err := m.FutexUpdate(base+4, func(o uint32) uint32 { return o*3 + 1 })
	require.NoError(t, err)
	assert.Equal(t, uint32(7), old)
	v, _ = m.FutexLoad(base + 4)
	assert.Equal(t, uint32(22), v)

	// Reading a read-only word works, writing it does not.
	_, err = m.FutexLoad(base + pages(1))
	assert.NoError(t, err)
	_, err = m.FutexCompareAndSwap(base+pages(1), 0, 1)
	assert.Equal(t, EFAULT, err)
	_, err = m.FutexUpdate(base+pages(1), func(o uint32) uint32 { return 1 })
	assert.Equal(t, EFAULT, err)
	_, err = m.FutexLoad(base + pages(2))
	assert.Equal(t, EFAULT, err, "unmapped")
	_, err = m.FutexLoad(base + 2)
	assert.Equal(t, EINVAL, err, "unaligned")
}

func TestFutexUpdateIsAtomic(t *testing.T) {
	m, _, _ := newTestMM(t)
	mmapAnon(t, m, base, pages(1), rw, true)
	const goroutines, each = 8, 2000
	var wg sync.WaitGroup
	for i := 0; i < goroutines; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < each; j++ {
				if _, err := m.FutexUpdate(base, func(o uint32) uint32 { return o + 1 }); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	v, err := m.FutexLoad(base)
	require.NoError(t, err)
	assert.Equal(t, uint32(goroutines*each), v)
}
