package ring0

import (
	"encoding/binary"
)

// Segment descriptors of the GDT (PVM requires these exact user selectors,
// which are also Linux's).
const (
	descKernelCode = 0x00af9b000000ffff
	descKernelData = 0x00cf93000000ffff
	descUserCode32 = 0x00cffb000000ffff
	descUserData   = 0x00cff3000000ffff
	descUserCode   = 0x00affb000000ffff
)

// TSSLimit is the limit of the 64-bit TSS (104 bytes, no I/O bitmap).
const TSSLimit = 0x67

// writeGDT fills a GDT page: null, -, kernel code, kernel data, user code
// 32, user data, user code 64, -, and a busy 64-bit TSS descriptor at 0x40.
func writeGDT(gdt []byte, tss uintptr) {
	clear(gdt)
	put := func(sel int, v uint64) { binary.LittleEndian.PutUint64(gdt[sel:], v) }
	put(SelKernelCode, descKernelCode)
	put(SelKernelData, descKernelData)
	put(SelUserCode32&^3, descUserCode32)
	put(SelUserData&^3, descUserData)
	put(SelUserCode&^3, descUserCode)
	var lo uint64 = TSSLimit & 0xffff
	lo |= uint64(tss&0xffffff) << 16
	lo |= uint64(0x8b) << 40 // present, DPL 0, busy 64-bit TSS
	lo |= uint64((tss>>24)&0xff) << 56
	put(SelTSS, lo)
	put(SelTSS+8, uint64(tss>>32))
}

// GDTLimit is the limit of the GDT written by writeGDT.
const GDTLimit = SelTSS + 16 - 1

// writeTSS fills a 64-bit TSS with the ring-0 stack pointer and IST1.
func writeTSS(tss []byte, rsp0, ist1 uintptr) {
	clear(tss[:TSSLimit+1])
	binary.LittleEndian.PutUint64(tss[4:], uint64(rsp0))
	binary.LittleEndian.PutUint64(tss[36:], uint64(ist1))
	binary.LittleEndian.PutUint16(tss[102:], TSSLimit+1) // no I/O bitmap
}

// writeGate writes interrupt gate vec of an IDT: present, kernel code
// selector, interrupts disabled on entry, on stack IST ist (0: none). The
// breakpoint and overflow gates have DPL 3, so that int3 and into from
// user mode raise #BP/#OF rather than #GP (as on Linux); the others DPL 0.
func writeGate(idt []byte, vec int, handler uintptr, ist int) {
	e := idt[vec*16 : vec*16+16]
	binary.LittleEndian.PutUint16(e[0:], uint16(handler))
	binary.LittleEndian.PutUint16(e[2:], SelKernelCode)
	e[4] = byte(ist & 7)
	e[5] = 0x8e
	if vec == 3 || vec == 4 {
		e[5] |= 3 << 5
	}
	binary.LittleEndian.PutUint16(e[6:], uint16(handler>>16))
	binary.LittleEndian.PutUint32(e[8:], uint32(handler>>32))
	binary.LittleEndian.PutUint32(e[12:], 0)
}

// IDTLimit is the limit of the IDT: the 32 exception vectors.
const IDTLimit = 32*16 - 1
