package vmm

import (
	"encoding/binary"
	"testing"
)

// FuzzSanitizeXsave checks that any image from a program comes out in a
// form XRSTOR accepts: MXCSR within its mask, XSTATE_BV within XCR0, the
// standard format and a zero reserved header.
func FuzzSanitizeXsave(f *testing.F) {
	f.Add(make([]byte, 1024), uint64(7))
	bad := make([]byte, 1024)
	for i := range bad {
		bad[i] = 0xff
	}
	f.Add(bad, uint64(0xe7))
	f.Fuzz(func(t *testing.T, img []byte, xcr0 uint64) {
		b := make([]byte, 4096)
		copy(b, img)
		xcr0 |= 3
		sanitizeXsave(b, xcr0)
		le := binary.LittleEndian
		mask := le.Uint32(b[xsaveMXCSRMask:])
		if mask == 0 {
			mask = 0xffbf
		}
		if m := le.Uint32(b[xsaveMXCSR:]); m&^mask != 0 {
			t.Fatalf("MXCSR %#x has bits outside %#x", m, mask)
		}
		if bv := le.Uint64(b[xsaveXstateBV:]); bv&^xcr0 != 0 {
			t.Fatalf("XSTATE_BV %#x outside XCR0 %#x", bv, xcr0)
		}
		for i, x := range b[xsaveXcompBV : xsaveLegacySize+xsaveHeaderSize] {
			if x != 0 {
				t.Fatalf("header byte %d is %#x", 8+i, x)
			}
		}
	})
}
