package mm

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func set(vs ...VMA) *vmaSet {
	s := &vmaSet{}
	for _, v := range vs {
		s.v = append(s.v, v)
	}
	return s
}

func v(start, end uintptr, prot int) VMA {
	return VMA{Start: start, End: end, Prot: prot, MaxProt: rwx}
}

func TestVMASetLookup(t *testing.T) {
	s := set(v(0x10000, 0x20000, ro), v(0x30000, 0x40000, rw))
	for _, c := range []struct {
		addr uintptr
		idx  int // -1: none
	}{{0, -1}, {0xffff, -1}, {0x10000, 0}, {0x1ffff, 0}, {0x20000, -1}, {0x2ffff, -1}, {0x30000, 1}, {0x3ffff, 1}, {0x40000, -1}, {^uintptr(0), -1}} {
		got, ok := s.lookup(c.addr)
		if c.idx < 0 {
			assert.False(t, ok, "%#x", c.addr)
			continue
		}
		require.True(t, ok, "%#x", c.addr)
		assert.Same(t, &s.v[c.idx], got)
	}
	assert.Equal(t, 0, s.find(0))
	assert.Equal(t, 1, s.find(0x20000))
	assert.Equal(t, 2, s.find(0x40000))
}

func TestVMASetOverlapsMapped(t *testing.T) {
	s := set(v(0x10000, 0x20000, ro), v(0x20000, 0x30000, rw), v(0x40000, 0x50000, rw))
	assert.True(t, s.mapped(0x10000, 0x30000), "across adjacent VMAs")
	assert.True(t, s.mapped(0x18000, 0x19000))
	assert.False(t, s.mapped(0x10000, 0x31000), "into a hole")
	assert.False(t, s.mapped(0x2f000, 0x41000))
	assert.False(t, s.mapped(0x0, 0x11000))
	assert.True(t, s.overlaps(0x2f000, 0x41000))
	assert.True(t, s.overlaps(0x0, 0x10001))
	assert.False(t, s.overlaps(0x30000, 0x40000))
	assert.False(t, s.overlaps(0x50000, 0x60000))
	assert.False(t, s.overlaps(0x0, 0x10000))
}

func TestVMASetSplitRemove(t *testing.T) {
	s := set(VMA{Start: 0x10000, End: 0x20000, Prot: rw, Name: "/f", Inode: 7, Offset: 0x1000})
	s.split(0x10000) // at a boundary: nothing
	s.split(0x20000)
	s.split(0x5000) // outside: nothing
	require.Len(t, s.v, 1)
	s.split(0x14000)
	require.Len(t, s.v, 2)
	assert.Equal(t, VMA{Start: 0x10000, End: 0x14000, Prot: rw, Name: "/f", Inode: 7, Offset: 0x1000}, s.v[0])
	assert.Equal(t, VMA{Start: 0x14000, End: 0x20000, Prot: rw, Name: "/f", Inode: 7, Offset: 0x5000}, s.v[1], "a file VMA's offset follows the split")

	s = set(v(0x10000, 0x20000, ro), v(0x20000, 0x30000, rw), v(0x40000, 0x50000, rw))
	s.remove(0x18000, 0x44000)
	assert.Equal(t, []VMA{v(0x10000, 0x18000, ro), v(0x44000, 0x50000, rw)}, s.v)
	s.remove(0x11000, 0x12000)
	assert.Equal(t, []VMA{v(0x10000, 0x11000, ro), v(0x12000, 0x18000, ro), v(0x44000, 0x50000, rw)}, s.v)
	s.remove(0, 0x100000)
	assert.Empty(t, s.v)
}

func TestVMASetInsertMerges(t *testing.T) {
	s := &vmaSet{}
	s.insert(v(0x30000, 0x40000, rw))
	s.insert(v(0x10000, 0x20000, rw))
	assert.Equal(t, []VMA{v(0x10000, 0x20000, rw), v(0x30000, 0x40000, rw)}, s.v, "sorted, a gap between")
	s.insert(v(0x20000, 0x30000, rw))
	assert.Equal(t, []VMA{v(0x10000, 0x40000, rw)}, s.v, "filled: merged both sides")
	s.insert(v(0x40000, 0x50000, ro))
	assert.Len(t, s.v, 2, "different prot: not merged")
	n := VMA{Start: 0x50000, End: 0x60000, Prot: ro, MaxProt: rwx, Name: "[heap]"}
	s.insert(n)
	assert.Len(t, s.v, 3, "different name: not merged")
	s.insert(VMA{Start: 0x60000, End: 0x70000, Prot: ro, MaxProt: rwx, GrowsDown: true})
	assert.Len(t, s.v, 4)
	s.insert(VMA{Start: 0x70000, End: 0x80000, Prot: ro, MaxProt: rwx, GrowsDown: true, Shared: true})
	assert.Len(t, s.v, 5)

	// File VMAs merge only when their offsets are contiguous.
	f := &vmaSet{}
	f.insert(VMA{Start: 0x10000, End: 0x20000, Name: "/f", Inode: 1, Offset: 0})
	f.insert(VMA{Start: 0x20000, End: 0x30000, Name: "/f", Inode: 1, Offset: 0x20000})
	assert.Len(t, f.v, 2)
	f.insert(VMA{Start: 0x30000, End: 0x40000, Name: "/f", Inode: 1, Offset: 0x30000})
	assert.Len(t, f.v, 2)
	assert.Equal(t, uintptr(0x40000), f.v[1].End)
}

func TestPageMap(t *testing.T) {
	var pm pageMap
	assert.Zero(t, pm.get(0x1000))
	assert.Zero(t, pm.clear(0x1000))
	pm.each(0, UserEnd, func(va, pa uintptr) { t.Errorf("empty map has %#x", va) })

	vas := []uintptr{0x10000, 0x11000, 0x1ff000, 0x200000, 0x7ffffff000, 0x7fff_ffff_e000}
	for i, va := range vas {
		pm.set(va, uintptr(i+1)<<12)
	}
	pm.set(0x10000, 0x99000) // replace: the count stays
	assert.Equal(t, len(vas), pm.count)
	assert.Equal(t, uintptr(0x99000), pm.get(0x10000))
	assert.Equal(t, uintptr(3<<12), pm.get(0x1ff000))

	collect := func(start, end uintptr) []uintptr {
		var got []uintptr
		pm.each(start, end, func(va, pa uintptr) { got = append(got, va) })
		return got
	}
	assert.Equal(t, vas, collect(0, UserEnd), "sparse walk, in order")
	assert.Equal(t, vas[1:4], collect(0x11000, 0x201000), "dense walk")
	assert.Equal(t, []uintptr{0x1ff000}, collect(0x1ff000, 0x200000))
	assert.Empty(t, collect(0x12000, 0x1ff000))

	// each tolerates clearing as it goes.
	pm.each(0, 0x300000, func(va, pa uintptr) { pm.clear(va) })
	assert.Equal(t, vas[4:], collect(0, UserEnd))
	assert.Equal(t, 2, pm.count)
	assert.Equal(t, uintptr(5<<12), pm.clear(0x7ffffff000))
	assert.Zero(t, pm.clear(0x7ffffff000))
	assert.Equal(t, 1, pm.count)
	assert.Len(t, pm.chunks, 1, "empty chunks are dropped")
}
