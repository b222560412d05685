package fs

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"golang.org/x/sys/unix"

	"ringbox/fs/waiter"
)

func TestReleaseHooks(t *testing.T) {
	f, impl := newFake("f", unix.O_RDONLY)
	var order []string
	assert.True(t, f.OnRelease("a", func() { order = append(order, "a") }))
	assert.True(t, f.OnRelease("b", func() { order = append(order, "b") }))
	assert.True(t, f.OnRelease("c", func() { order = append(order, "c") }))
	f.CancelRelease("b")
	f.IncRef()
	f.DecRef()
	assert.Empty(t, order, "not the last reference")
	f.DecRef()
	assert.ElementsMatch(t, []string{"a", "c"}, order)
	assert.Equal(t, 1, impl.released)
	assert.False(t, f.OnRelease("d", func() {}), "already released")
}

func TestReadinessOfPlainFiles(t *testing.T) {
	f, _ := newFake("f", unix.O_RDONLY)
	assert.Equal(t, waiter.EventIn|waiter.EventOut, Readiness(f, waiter.EventIn|waiter.EventOut),
		"answered by Poll")
	assert.False(t, NeedsPolling(f), "a file that does not say so never changes")
	e, _ := waiter.NewChannelEntry(waiter.EventIn)
	assert.False(t, EventRegister(f, e))
	EventUnregister(f, e)
	h := &HostFD{fd: -1}
	assert.True(t, NeedsPolling(NewFile(h, unix.O_RDONLY)))
}
