package mm

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// countedFile is a testFile that counts the VMAs mapping it, like a
// System V segment.
type countedFile struct {
	testFile
	vmas int
}

func (f *countedFile) VMAOpened() { f.vmas++ }
func (f *countedFile) VMAClosed() { f.vmas-- }

func segSize(f *countedFile) func(Pager) (uintptr, bool) {
	return func(p Pager) (uintptr, bool) {
		g, ok := p.(*countedFile)
		if !ok {
			return 0, false
		}
		return uintptr(len(g.pages)) * pageSize, true
	}
}

func TestCountedPagerAndDetach(t *testing.T) {
	m, _, mem := newTestMM(t)
	f := &countedFile{testFile: testFile{mem: mem, pages: make([]uintptr, 4)}}
	g := &countedFile{testFile: testFile{mem: mem, pages: make([]uintptr, 4)}}
	t.Cleanup(f.close)
	t.Cleanup(g.close)
	shm := func(c *countedFile, addr uintptr, prot, maxProt int) uintptr {
		a, err := m.Mmap(MmapOpts{Addr: addr, Len: pages(4), Prot: prot, Fixed: true, Shared: true, Name: "/SYSV",
			Pager: c, MaxProt: maxProt})
		require.NoError(t, err)
		return a
	}
	a := shm(f, base, rw, 0)
	assert.Equal(t, 1, f.vmas)
	b := shm(g, base+pages(4), ProtRead, ProtRead|ProtExec)
	assert.Equal(t, 1, g.vmas)
	assert.Len(t, spans(m), 2, "two objects: no merge")

	// Splits and forks take counts; the page references are the usual.
	require.NoError(t, m.Mprotect(a+pages(1), pages(1), ProtRead))
	assert.Equal(t, 3, f.vmas)
	_, err := m.CopyOut(a, []byte("x"))
	require.NoError(t, err)
	c, _ := forkTest(t, m)
	assert.Equal(t, 6, f.vmas)
	assert.Equal(t, 2, g.vmas)
	mustCheckGroup(t, m, c)
	c.Release()
	assert.Equal(t, 3, f.vmas)

	// Going back to one protection merges the pieces again.
	require.NoError(t, m.Mprotect(a, pages(4), rw))
	assert.Equal(t, 1, f.vmas)

	// MaxProt: a read-only attachment never becomes writable.
	assert.Equal(t, EACCES, m.Mprotect(b, pages(1), rw))
	assert.NoError(t, m.Mprotect(b, pages(1), ProtRead|ProtExec))
	assert.Equal(t, 2, g.vmas)
	_, err = m.Mmap(MmapOpts{Len: pages(1), Prot: rw, Shared: true, Pager: g, MaxProt: ProtRead})
	assert.Equal(t, EACCES, err)
	assert.Equal(t, 2, g.vmas, "a refused mapping takes no count")

	// Detach at a trimmed attachment's start: the piece whose object
	// page matches the distance from addr, and the later pieces.
	require.NoError(t, m.Munmap(a, pages(1)))
	require.NoError(t, m.Munmap(a+pages(2), pages(1)))
	assert.Equal(t, 2, f.vmas)
	assert.Equal(t, EINVAL, m.Detach(a+pages(1), segSize(f)), "page 1 is not the object's page 0")
	require.NoError(t, m.Detach(a, segSize(f)))
	assert.Equal(t, 0, f.vmas)
	assert.Len(t, spans(m), 2, "g's two pieces")
	assert.Equal(t, EINVAL, m.Detach(a, segSize(f)), "b is the object's page 0 at b, not at a")
	require.NoError(t, m.Detach(b, segSize(f)))
	assert.Equal(t, 0, g.vmas)
	assert.Equal(t, EINVAL, m.Detach(b+1, segSize(f)))
	assert.Empty(t, spans(m))
	f.close()
	mustCheck(t, m)
}
