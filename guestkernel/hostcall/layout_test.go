package hostcall

import (
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// TestLayout checks the offsets that thread_amd64.s uses.
func TestLayout(t *testing.T) {
	var s slot
	var w worker
	require.Equal(t, uintptr(128), unsafe.Sizeof(s), "sizeof(slot): SLOT_SHIFT")
	require.Equal(t, 64, nslots, "NSLOTS")
	require.Equal(t, uintptr(0), unsafe.Offsetof(s.state), "S_STATE")
	require.Equal(t, uintptr(8), unsafe.Offsetof(s.nr), "S_NR")
	require.Equal(t, uintptr(16), unsafe.Offsetof(s.args), "S_ARGS")
	require.Equal(t, uintptr(64), unsafe.Offsetof(s.r1), "S_R1")
	require.Equal(t, uintptr(8192), unsafe.Offsetof(w.gate), "W_GATE")
	require.Equal(t, uintptr(8196), unsafe.Offsetof(w.pending), "W_PENDING")
	require.Equal(t, uintptr(8200), unsafe.Offsetof(w.busySince), "W_BUSY")
	require.Equal(t, uintptr(8208), unsafe.Offsetof(w.spinTicks), "W_SPIN")
}
