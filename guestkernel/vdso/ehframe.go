package vdso

import (
	"bytes"
	"encoding/binary"
	"slices"
)

// Unwind tables (.eh_frame and its .eh_frame_hdr search table, as the
// x86-64 psABI and the LSB describe them), so that unwinders that find
// them through PT_GNU_EH_FRAME (libgcc, libunwind: backtrace(3) from a
// signal handler, profilers) get through the vDSO's functions: the
// stubs' own entries, and the host's functions' entries where their code
// is the host's.

// Pointer encodings (DW_EH_PE_*).
const (
	pePcrelSdata4   = 0x1b // pc-relative, signed 4 bytes
	peUdata4        = 0x03
	peDatarelSdata4 = 0x3b // relative to .eh_frame_hdr, signed 4 bytes
)

// Call frame instructions (DW_CFA_*).
const (
	cfaAdvanceLoc   = 0x40 // | delta (< 64)
	cfaDefCFA       = 0x0c
	cfaDefCFAOffset = 0x0e
	cfaOffsetRIP    = 0x80 | 16
	regRSP, regRIP  = 7, 16
	dataAlignFactor = 0x78 // SLEB128 -8
	codeAlignFactor = 1
	ehAlign         = 8
	timeFrameSize   = 24 // slot 7's SUBQ $24, SP
	maxAdvance      = 63
)

// ehEntry appends one .eh_frame entry with body (after the length) to
// b, padded to ehAlign with DW_CFA_nop.
func ehEntry(b, body []byte) []byte {
	for (4+len(body))%ehAlign != 0 {
		body = append(body, 0)
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(len(body)))
	return append(b, body...)
}

// stubsEHFrame returns a .eh_frame to be placed at image offset off for
// the stubs at textOff (code is their bytes): a CIE whose initial rule is
// that of a function's entry (CFA = RSP+8, return address at CFA-8), an
// FDE per slot, and the terminator. It also returns the search table's
// entries: each FDE's start address and its own offset.
func stubsEHFrame(off, textOff uint64, code []byte) ([]byte, [][2]uint64) {
	le := binary.LittleEndian
	cie := []byte{0, 0, 0, 0, 1, 'z', 'R', 0, codeAlignFactor, dataAlignFactor, regRIP, 1, pePcrelSdata4,
		cfaDefCFA, regRSP, 8, cfaOffsetRIP, 1}
	b := ehEntry(nil, cie)
	var table [][2]uint64
	for sl := 0; sl < nSlots; sl++ {
		start := textOff + uint64(sl)*stubSize
		fde := off + uint64(len(b))
		var body []byte
		body = le.AppendUint32(body, uint32(fde+4-off))            // back to the CIE
		body = le.AppendUint32(body, uint32(int32(start-(fde+8)))) // pc_begin, pc-relative
		body = le.AppendUint32(body, stubSize)                     // pc_range
		body = append(body, 0)                                     // no augmentation data
		if sl == slotTimeHost {
			body = append(body, timeFrame(code[sl*stubSize:][:stubSize])...)
		}
		b = ehEntry(b, body)
		table = append(table, [2]uint64{start, fde})
	}
	return le.AppendUint32(b, 0), table
}

// timeFrame is slot 7's frame: RSP moves down by 24 after its first
// instruction and back up before its RET.
func timeFrame(code []byte) []byte {
	sub := []byte{0x48, 0x83, 0xec, timeFrameSize}
	add := []byte{0x48, 0x83, 0xc4, timeFrameSize}
	i, j := bytes.Index(code, sub), bytes.Index(code, add)
	if i != 0 || j < 0 || j+len(add)-len(sub) > maxAdvance {
		return nil // not the code it was written for: no rule beats a wrong one
	}
	return []byte{
		cfaAdvanceLoc | byte(len(sub)), cfaDefCFAOffset, 8 + timeFrameSize,
		cfaAdvanceLoc | byte(j+len(add)-len(sub)), cfaDefCFAOffset, 8,
	}
}

// hostEHTable reads the search table of the host's .eh_frame_hdr at
// offset hdr of its text, as image offsets (start address, FDE).
func hostEHTable(text []byte, hdr uint64) ([][2]uint64, bool) {
	le := binary.LittleEndian
	if hdr+12 > uint64(len(text)) {
		return nil, false
	}
	h := text[hdr:]
	if h[0] != 1 || h[1] != pePcrelSdata4 || h[2] != peUdata4 || h[3] != peDatarelSdata4 {
		return nil, false
	}
	n := uint64(le.Uint32(h[8:]))
	if n > uint64(len(text)) || 12+8*n > uint64(len(h)) {
		return nil, false
	}
	var table [][2]uint64
	for i := uint64(0); i < n; i++ {
		pc := int64(hdr) + int64(int32(le.Uint32(h[12+8*i:])))
		fde := int64(hdr) + int64(int32(le.Uint32(h[16+8*i:])))
		if pc < 0 || fde < 0 || pc >= int64(len(text)) || fde >= int64(len(text)) {
			return nil, false
		}
		table = append(table, [2]uint64{uint64(pc), uint64(fde)})
	}
	return table, true
}

// ehFrameHdr returns a .eh_frame_hdr to be placed at image offset off,
// naming the .eh_frame at frame and the search table (sorted here).
func ehFrameHdr(off, frame uint64, table [][2]uint64) []byte {
	le := binary.LittleEndian
	slices.SortFunc(table, func(a, b [2]uint64) int { return int(int64(a[0]) - int64(b[0])) })
	b := []byte{1, pePcrelSdata4, peUdata4, peDatarelSdata4}
	b = le.AppendUint32(b, uint32(int32(frame-(off+4))))
	b = le.AppendUint32(b, uint32(len(table)))
	for _, e := range table {
		b = le.AppendUint32(b, uint32(int32(e[0]-off)))
		b = le.AppendUint32(b, uint32(int32(e[1]-off)))
	}
	return b
}
