package ring0

import (
	"testing"
	"unsafe"
)

// TestGLayout checks what the VMM loop assumes of the runtime's g: the
// stack bounds at offsets 0 and 8, and stackguard0, which Go sets to
// stackPreempt to ask for a yield, at offset 16 just above stack.lo.
func TestGLayout(t *testing.T) {
	g := tlsG()
	if g == nil {
		t.Fatal("no g in TLS")
	}
	lo := *(*uintptr)(g)
	hi := *(*uintptr)(unsafe.Add(g, 8))
	guard := *(*uintptr)(unsafe.Add(g, 16))
	if lo == 0 || hi <= lo || hi-lo > 1<<30 {
		t.Fatalf("g.stack = [%#x, %#x): not a goroutine stack", lo, hi)
	}
	if guard <= lo || guard-lo > 8192 {
		t.Fatalf("g.stackguard0 = %#x, stack.lo = %#x: not the stack guard", guard, lo)
	}
	if stackPreempt := uintptr(0xfffffffffffffade); guard == stackPreempt {
		t.Fatal("stackguard0 is stackPreempt in a test goroutine")
	}
}
