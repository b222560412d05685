package vmm

import (
	"encoding/binary"
	"fmt"
	"unsafe"

	"ringbox/guestkernel/platform"
	"ringbox/ring0"
)

// The XSAVE standard format: the 512-byte legacy area (x87 and SSE), the
// 64-byte header (XSTATE_BV, XCOMP_BV, reserved), then the extended
// components at the offsets CPUID leaf 0xD gives.
const (
	xsaveLegacySize = 512
	xsaveHeaderSize = 64
	xsaveMXCSR      = 24
	xsaveMXCSRMask  = 28
	xsaveXstateBV   = xsaveLegacySize
	xsaveXcompBV    = xsaveLegacySize + 8
)

// xsaveSize is the size of the standard-format XSAVE image for the
// features in xcr0, from the CPUID leaf 0xD entries KVM supports.
func xsaveSize(k *KVM, xcr0 uint64) int {
	size := xsaveLegacySize + xsaveHeaderSize
	for _, e := range k.cpuid {
		if e.Function != 0xd || e.Index < 2 || e.Index >= 64 || xcr0&(1<<e.Index) == 0 {
			continue
		}
		if end := int(e.Ebx) + int(e.Eax); end > size {
			size = end
		}
	}
	return min(size, int(unsafe.Sizeof(Xsave{})))
}

// FPLayout implements platform.Platform.
func (m *Machine) FPLayout() platform.FPLayout {
	x := ring0.HostXCR0()
	return platform.FPLayout{Features: x, Size: xsaveSize(m.kvm, x)}
}

// sanitizeXsave makes an image from the program safe to restore: XRSTOR
// (and KVM_SET_XSAVE) fault on reserved MXCSR bits, features outside
// XCR0, the compacted format or non-zero reserved header bytes.
func sanitizeXsave(b []byte, xcr0 uint64) {
	mask := binary.LittleEndian.Uint32(b[xsaveMXCSRMask:])
	if mask == 0 {
		mask = 0xffbf // the architectural default
	}
	mxcsr := binary.LittleEndian.Uint32(b[xsaveMXCSR:])
	binary.LittleEndian.PutUint32(b[xsaveMXCSR:], mxcsr&mask)
	bv := binary.LittleEndian.Uint64(b[xsaveXstateBV:])
	binary.LittleEndian.PutUint64(b[xsaveXstateBV:], bv&xcr0)
	clear(b[xsaveXcompBV : xsaveLegacySize+xsaveHeaderSize])
}

// fpFromVCPU and fpToVCPU move the FP state of a program stopped in the
// vCPU itself (exit mode, or ring0 mode interrupted in user code).
func fpFromVCPU(v *VCPU, size int) ([]byte, error) {
	var x Xsave
	if err := v.GetXsave(&x); err != nil {
		return nil, fmt.Errorf("read FP state: %w", err)
	}
	return append([]byte(nil), x[:size]...), nil
}

func fpToVCPU(v *VCPU, b []byte, mxcsrMask []byte) error {
	var x Xsave
	copy(x[:], b)
	copy(x[xsaveMXCSRMask:xsaveMXCSRMask+4], mxcsrMask)
	sanitizeXsave(x[:], ring0.HostXCR0())
	if err := v.SetXsave(&x); err != nil {
		return fmt.Errorf("write FP state: %w", err)
	}
	return nil
}

// FPState implements platform.Context.
func (c *exitContext) FPState() ([]byte, error) {
	if !c.h.reclaim() {
		return c.h.fpState(c.m.FPLayout().Size), nil
	}
	return fpFromVCPU(c.vcpu, c.m.FPLayout().Size)
}

// SetFPState implements platform.Context.
func (c *exitContext) SetFPState(b []byte) error {
	if !c.h.reclaim() {
		c.h.keepFP(b)
		return nil
	}
	return c.setFP(b)
}

// setFP loads an FP image into the context's vCPU.
func (c *exitContext) setFP(b []byte) error {
	cur, err := fpFromVCPU(c.vcpu, xsaveLegacySize)
	if err != nil {
		return err
	}
	return fpToVCPU(c.vcpu, b, cur[xsaveMXCSRMask:xsaveMXCSRMask+4])
}

// userXsave is the vCPU's save area for the program's FP state while Go
// code runs (ring0 mode).
func (c *ring0Context) userXsave() []byte {
	return c.m.region.UserXsaveArea(c.slot)
}

// FPState implements platform.Context.
func (c *ring0Context) FPState() ([]byte, error) {
	size := c.m.FPLayout().Size
	if !c.h.reclaim() {
		return c.h.fpState(size), nil
	}
	if c.userInKVM {
		return fpFromVCPU(c.vcpu, size)
	}
	return append([]byte(nil), c.userXsave()[:size]...), nil
}

// SetFPState implements platform.Context.
func (c *ring0Context) SetFPState(b []byte) error {
	if !c.h.reclaim() {
		c.h.keepFP(b)
		return nil
	}
	area := c.userXsave()
	if c.userInKVM {
		return fpToVCPU(c.vcpu, b, area[xsaveMXCSRMask:xsaveMXCSRMask+4])
	}
	mask := binary.LittleEndian.Uint32(area[xsaveMXCSRMask:])
	size := c.m.FPLayout().Size
	var x [4096]byte
	copy(x[:size], b)
	binary.LittleEndian.PutUint32(x[xsaveMXCSRMask:], mask)
	sanitizeXsave(x[:], ring0.HostXCR0())
	copy(area[:size], x[:size])
	return nil
}
