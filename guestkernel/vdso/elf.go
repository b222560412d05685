package vdso

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"strings"
)

// The names the image gives itself and its one symbol version, as
// Linux's vDSO does; glibc and Go look the functions up by version.
const (
	soname  = "linux-vdso.so.1"
	version = "LINUX_2.6"
)

// elfHash is the System V ELF hash (DT_HASH buckets, vd_hash).
func elfHash(name string) uint32 {
	var h uint32
	for i := 0; i < len(name); i++ {
		h = h<<4 + uint32(name[i])
		if g := h & 0xf0000000; g != 0 {
			h ^= g >> 24
		}
		h &^= 0xf0000000
	}
	return h
}

// strtab builds a string table.
type strtab struct{ b []byte }

func (t *strtab) add(s string) uint32 {
	if len(t.b) == 0 {
		t.b = []byte{0}
	}
	if s == "" {
		return 0
	}
	off := uint32(len(t.b))
	t.b = append(append(t.b, s...), 0)
	return off
}

// hostFunc is a function of the host's vDSO: its offset and size.
type hostFunc struct{ off, size uint64 }

// hostVDSO is what the image takes from the host's vDSO text.
type hostVDSO struct {
	text  []byte
	funcs map[string]hostFunc // by name without __vdso_
	code  [2]uint64           // its .text section (offset, size)
	// ehTable is its unwind search table (start, FDE), ehFrame its
	// .eh_frame section, if it has them.
	ehTable [][2]uint64
	ehFrame *elf.Section
}

// parseHost reads the host's vDSO text.
func parseHost(text []byte) (*hostVDSO, error) {
	f, err := elf.NewFile(bytes.NewReader(text))
	if err != nil {
		return nil, fmt.Errorf("the host's vDSO: %w", err)
	}
	h := &hostVDSO{text: text}
	if h.funcs, err = hostSymbols(f, len(text)); err != nil {
		return nil, err
	}
	inside := func(off, size uint64) bool {
		return off >= 64 && off <= uint64(len(text)) && size <= uint64(len(text))-off
	}
	if s := f.Section(".text"); s != nil && inside(s.Offset, s.Size) {
		h.code = [2]uint64{s.Offset, s.Size}
	} else {
		h.code = [2]uint64{64, uint64(len(text)) - 64}
	}
	// The host's unwind entries stay where they are, as the code does:
	// the image's search table (ehframe.go) lists them with the stubs'.
	for _, p := range f.Progs {
		if p.Type == elf.PT_GNU_EH_FRAME && inside(p.Off, p.Filesz) {
			h.ehTable, _ = hostEHTable(text, p.Off)
		}
	}
	if s := f.Section(".eh_frame"); s != nil && h.ehTable != nil && inside(s.Offset, s.Size) {
		h.ehFrame = s
	}
	return h, nil
}

// chooseSlots says which slot of the stubs each function is, or -1 for
// the host's own function (gettimeofday), and which host function the
// placeholder of each slot that leads to host code names.
func chooseSlots(host map[string]hostFunc) (slot map[string]int, patch map[int]string) {
	slot, patch = map[string]int{}, map[int]string{}
	for i, fn := range funcs {
		slot[fn] = i
	}
	if _, ok := host["clock_gettime"]; ok {
		slot["clock_gettime"], patch[slotGettimeHost] = slotGettimeHost, "clock_gettime"
		slot["time"], patch[slotTimeHost] = slotTimeHost, "clock_gettime"
	}
	if _, ok := host["clock_getres"]; ok {
		slot["clock_getres"], patch[slotGetresHost] = slotGetresHost, "clock_getres"
	}
	if _, ok := host["gettimeofday"]; ok {
		slot["gettimeofday"] = -1
	}
	return slot, patch
}

// tail lays out the image's own part: the tables and stubs that follow
// the host's text (or the ELF header), at image offset base on.
type tail struct {
	base uint64
	b    []byte
}

// at pads to align and returns the image offset of what comes next.
func (t *tail) at(align int) uint64 {
	for len(t.b)%align != 0 {
		t.b = append(t.b, 0)
	}
	return t.end()
}

// end is the image offset after the last byte.
func (t *tail) end() uint64 { return t.base + uint64(len(t.b)) }

// bytes returns n bytes at image offset off.
func (t *tail) bytes(off, n uint64) []byte { return t.b[off-t.base:][:n] }

var le = binary.LittleEndian

// sym is a dynamic symbol.
type sym struct {
	name        uint32 // in .dynstr
	bind        elf.SymBind
	shndx       uint16
	value, size uint64
	slot        int // the stub slot it names, or -1
}

// section is a section header.
type section struct {
	name           string
	typ            elf.SectionType
	flags          elf.SectionFlag
	off, size      uint64
	link, info     uint32
	align, entsize uint64
}

// Section indexes of the image.
const (
	shHash = iota + 1
	shDynsym
	shDynstr
	shVersym
	shVerdef
	shText
	shDynamic
	shHostText
)

// Image returns the vDSO image. Without host text it is one page: an ELF
// header, the dynamic symbols, version definitions, unwind tables and the
// stubs. With the host's vDSO text, that text comes first, in place but
// for its ELF header, which is replaced by one describing the whole
// image, and what its code does not need (scrubHost); the tables and
// stubs follow in a page of their own, and the clock symbols lead to the
// host's functions. The image is linked at 0, as Linux's is: every
// address in it is an offset from its start.
func Image(hostText []byte) ([]byte, error) {
	host := &hostVDSO{}
	t := &tail{base: 64} // after the ELF header
	if len(hostText) > 0 {
		var err error
		if host, err = parseHost(hostText); err != nil {
			return nil, err
		}
		t.base = (uint64(len(hostText)) + 4095) &^ 4095
	}
	var dynstr strtab
	sonameOff := dynstr.add(soname)
	versionOff := dynstr.add(version)

	// Symbol 0 is the null symbol; then each function twice, as
	// __vdso_NAME (global) and NAME (weak), as Linux exports them.
	slot, patch := chooseSlots(host.funcs)
	syms, names := []sym{{}}, []string{""}
	for _, fn := range funcs {
		for _, n := range []string{"__vdso_" + fn, fn} {
			s := sym{name: dynstr.add(n), bind: elf.STB_GLOBAL, shndx: shText, size: stubSize, slot: slot[fn]}
			if n == fn {
				s.bind = elf.STB_WEAK
			}
			if s.slot < 0 {
				h := host.funcs[fn]
				s.shndx, s.value, s.size = shHostText, h.off, h.size
			}
			syms = append(syms, s)
			names = append(names, n)
		}
	}

	const nProgs = 3
	phOff := t.at(8)
	t.b = append(t.b, make([]byte, nProgs*56)...)
	hashOff := t.at(4)
	writeHash(t, names)
	hashEnd := t.end()
	symOff := t.at(8) // filled in below, once the stubs have a place
	t.b = append(t.b, make([]byte, len(syms)*24)...)
	strOff := t.at(1)
	t.b = append(t.b, dynstr.b...)
	versymOff := t.at(2)
	for i := range syms {
		// Every symbol but the null one is LINUX_2.6 (index 2).
		t.b = le.AppendUint16(t.b, uint16(min(i, 1)*2))
	}
	verdefOff := t.at(4)
	writeVerdef(t, sonameOff, versionOff)
	verdefEnd := t.end()
	textOff := t.at(16)
	if err := writeStubs(t, host.funcs, patch); err != nil {
		return nil, err
	}
	textEnd := t.end()
	frameOff := t.at(ehAlign)
	frame, table := stubsEHFrame(frameOff, textOff, t.bytes(textOff, textEnd-textOff))
	t.b = append(t.b, frame...)
	ehHdrOff := t.at(4)
	t.b = append(t.b, ehFrameHdr(ehHdrOff, frameOff, append(host.ehTable, table...))...)
	ehHdrEnd := t.end()
	dynOff := t.at(8)
	for _, d := range [][2]uint64{
		{uint64(elf.DT_HASH), hashOff},
		{uint64(elf.DT_STRTAB), strOff},
		{uint64(elf.DT_SYMTAB), symOff},
		{uint64(elf.DT_STRSZ), uint64(len(dynstr.b))},
		{uint64(elf.DT_SYMENT), 24},
		{uint64(elf.DT_SONAME), uint64(sonameOff)},
		{uint64(elf.DT_VERSYM), versymOff},
		{uint64(elf.DT_VERDEF), verdefOff},
		{uint64(elf.DT_VERDEFNUM), 2},
		{uint64(elf.DT_NULL), 0},
	} {
		t.b = le.AppendUint64(t.b, d[0])
		t.b = le.AppendUint64(t.b, d[1])
	}
	dynEnd := t.end()

	const alloc = elf.SHF_ALLOC
	sections := []section{
		{},
		{".hash", elf.SHT_HASH, alloc, hashOff, hashEnd - hashOff, shDynsym, 0, 4, 4},
		{".dynsym", elf.SHT_DYNSYM, alloc, symOff, uint64(len(syms) * 24), shDynstr, 1, 8, 24},
		{".dynstr", elf.SHT_STRTAB, alloc, strOff, uint64(len(dynstr.b)), 0, 0, 1, 0},
		{".gnu.version", elf.SHT_GNU_VERSYM, alloc, versymOff, uint64(len(syms) * 2), shDynsym, 0, 2, 2},
		{".gnu.version_d", elf.SHT_GNU_VERDEF, alloc, verdefOff, verdefEnd - verdefOff, shDynstr, 2, 4, 0},
		{".text", elf.SHT_PROGBITS, alloc | elf.SHF_EXECINSTR, textOff, textEnd - textOff, 0, 0, 16, 0},
		{".dynamic", elf.SHT_DYNAMIC, alloc, dynOff, dynEnd - dynOff, shDynstr, 0, 8, 16},
	}
	if len(hostText) > 0 {
		sections = append(sections, section{".text.host", elf.SHT_PROGBITS, alloc | elf.SHF_EXECINSTR,
			host.code[0], host.code[1], 0, 0, 16, 0})
	}
	if host.ehFrame != nil {
		// First of the two .eh_frame sections: debuggers that read
		// one by name get the host functions' entries.
		sections = append(sections, section{".eh_frame", elf.SHT_PROGBITS, alloc, host.ehFrame.Offset, host.ehFrame.Size, 0, 0, 8, 0})
	}
	sections = append(sections,
		section{".eh_frame", elf.SHT_PROGBITS, alloc, frameOff, uint64(len(frame)), 0, 0, ehAlign, 0},
		section{".eh_frame_hdr", elf.SHT_PROGBITS, alloc, ehHdrOff, ehHdrEnd - ehHdrOff, 0, 0, 4, 0})
	shOff, shstrndx := writeSections(t, sections)
	if len(t.b) > 4096-64 {
		return nil, fmt.Errorf("vDSO tables take %d bytes, more than a page", len(t.b))
	}
	total := (t.end() + 4095) &^ 4095

	// The symbols, now that the stubs have a place.
	for i, s := range syms {
		if i > 0 && s.slot >= 0 {
			s.value = textOff + uint64(s.slot)*stubSize
		}
		e := t.bytes(symOff+uint64(i)*24, 24)
		le.PutUint32(e[0:], s.name)
		if i > 0 {
			e[4] = byte(s.bind)<<4 | byte(elf.STT_FUNC)
		}
		e[5] = 0 // STV_DEFAULT
		le.PutUint16(e[6:], s.shndx)
		le.PutUint64(e[8:], s.value)
		le.PutUint64(e[16:], s.size)
	}

	// The program headers: one PT_LOAD for the whole image, PT_DYNAMIC,
	// PT_GNU_EH_FRAME.
	ph := t.bytes(phOff, nProgs*56)
	putProg(ph[0:], elf.PT_LOAD, elf.PF_R|elf.PF_X, 0, total, 4096)
	putProg(ph[56:], elf.PT_DYNAMIC, elf.PF_R, dynOff, dynEnd-dynOff, 8)
	putProg(ph[112:], elf.PT_GNU_EH_FRAME, elf.PF_R, ehHdrOff, ehHdrEnd-ehHdrOff, 4)

	img := make([]byte, total)
	copy(img, hostText)
	scrubHost(img[:len(hostText)])
	copy(img[t.base:], t.b)
	putHeader(img[:64], phOff, nProgs, shOff, shstrndx+1, shstrndx) // .shstrtab is the last
	return img, nil
}

// writeHash writes .hash: buckets by ELF hash, chains through the
// symbols.
func writeHash(t *tail, names []string) {
	nbucket := uint32(len(names))
	buckets := make([]uint32, nbucket)
	chains := make([]uint32, len(names))
	for i := len(names) - 1; i >= 1; i-- {
		b := elfHash(names[i]) % nbucket
		chains[i] = buckets[b]
		buckets[b] = uint32(i)
	}
	t.b = le.AppendUint32(t.b, nbucket)
	t.b = le.AppendUint32(t.b, uint32(len(names)))
	for _, b := range buckets {
		t.b = le.AppendUint32(t.b, b)
	}
	for _, c := range chains {
		t.b = le.AppendUint32(t.b, c)
	}
}

// writeVerdef writes .gnu.version_d: the base definition (the object's
// own name), then LINUX_2.6.
func writeVerdef(t *tail, sonameOff, versionOff uint32) {
	for i, n := range []struct {
		flags uint16
		name  string
		off   uint32
	}{{1 /* VER_FLG_BASE */, soname, sonameOff}, {0, version, versionOff}} {
		next := uint32(28)
		if i == 1 {
			next = 0
		}
		t.b = le.AppendUint16(t.b, 1)               // vd_version
		t.b = le.AppendUint16(t.b, n.flags)         // vd_flags
		t.b = le.AppendUint16(t.b, uint16(i+1))     // vd_ndx
		t.b = le.AppendUint16(t.b, 1)               // vd_cnt
		t.b = le.AppendUint32(t.b, elfHash(n.name)) // vd_hash
		t.b = le.AppendUint32(t.b, 20)              // vd_aux
		t.b = le.AppendUint32(t.b, next)            // vd_next
		t.b = le.AppendUint32(t.b, n.off)           // vda_name
		t.b = le.AppendUint32(t.b, 0)               // vda_next
	}
}

// writeStubs writes the stubs' slots: each that leads to host code gets
// its JMP or CALL patched to the host function patch names, or INT3 over
// it if unused (it would jump nowhere).
func writeStubs(t *tail, host map[string]hostFunc, patch map[int]string) error {
	textOff := t.end()
	t.b = append(t.b, stubs()...)
	for sl := slotGettimeHost; sl < nSlots; sl++ {
		code := t.bytes(textOff+uint64(sl)*stubSize, stubSize)
		fn, ok := patch[sl]
		if !ok {
			for i := range code {
				code[i] = 0xcc
			}
			continue
		}
		at := bytes.Index(code, placeholder)
		if at < 1 || (code[at-1] != 0xe9 && code[at-1] != 0xe8) {
			return fmt.Errorf("vDSO slot %d has no JMP/CALL to patch", sl)
		}
		next := textOff + uint64(sl)*stubSize + uint64(at) + 4
		le.PutUint32(code[at:], uint32(int32(int64(host[fn].off)-int64(next))))
	}
	return nil
}

// writeSections writes .shstrtab and the section headers, and returns
// where the headers start and the index of .shstrtab.
func writeSections(t *tail, sections []section) (uint64, int) {
	var shstr strtab
	shstrndx := len(sections)
	sections = append(sections, section{name: ".shstrtab", typ: elf.SHT_STRTAB, align: 1})
	names := make([]uint32, len(sections))
	for i, s := range sections {
		names[i] = shstr.add(s.name)
	}
	sections[shstrndx].off = t.at(1)
	sections[shstrndx].size = uint64(len(shstr.b))
	t.b = append(t.b, shstr.b...)
	shOff := t.at(8)
	for i, s := range sections {
		t.b = le.AppendUint32(t.b, names[i])
		t.b = le.AppendUint32(t.b, uint32(s.typ))
		t.b = le.AppendUint64(t.b, uint64(s.flags))
		t.b = le.AppendUint64(t.b, s.off) // sh_addr: linked at 0
		t.b = le.AppendUint64(t.b, s.off)
		t.b = le.AppendUint64(t.b, s.size)
		t.b = le.AppendUint32(t.b, s.link)
		t.b = le.AppendUint32(t.b, s.info)
		t.b = le.AppendUint64(t.b, s.align)
		t.b = le.AppendUint64(t.b, s.entsize)
	}
	return shOff, shstrndx
}

// putProg writes a program header of a segment whose offset and address
// are both off.
func putProg(p []byte, typ elf.ProgType, flags elf.ProgFlag, off, size, align uint64) {
	le.PutUint32(p[0:], uint32(typ))
	le.PutUint32(p[4:], uint32(flags))
	le.PutUint64(p[8:], off)   // p_offset
	le.PutUint64(p[16:], off)  // p_vaddr
	le.PutUint64(p[24:], off)  // p_paddr
	le.PutUint64(p[32:], size) // p_filesz
	le.PutUint64(p[40:], size) // p_memsz
	le.PutUint64(p[48:], align)
}

// putHeader writes the ELF header into h.
func putHeader(h []byte, phOff uint64, nProgs int, shOff uint64, nSections, shstrndx int) {
	clear(h)
	copy(h, elf.ELFMAG)
	h[elf.EI_CLASS] = byte(elf.ELFCLASS64)
	h[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	h[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	le.PutUint16(h[16:], uint16(elf.ET_DYN))
	le.PutUint16(h[18:], uint16(elf.EM_X86_64))
	le.PutUint32(h[20:], uint32(elf.EV_CURRENT))
	le.PutUint64(h[32:], phOff)
	le.PutUint64(h[40:], shOff)
	le.PutUint16(h[52:], 64) // e_ehsize
	le.PutUint16(h[54:], 56) // e_phentsize
	le.PutUint16(h[56:], uint16(nProgs))
	le.PutUint16(h[58:], 64) // e_shentsize
	le.PutUint16(h[60:], uint16(nSections))
	le.PutUint16(h[62:], uint16(shstrndx))
}

// scrubHost zeroes what of the host's vDSO its code does not run on: its
// own ELF tables (symbols, versions, dynamic section, program and section
// headers), notes (the kernel's version string, LINUX_VERSION_CODE, the
// build ID), .comment and the like, which would tell the program which
// host kernel it runs on (it sees the sandbox's uname(2)). What stays is
// hostKept: the code, its constants and its unwind entries.
func scrubHost(text []byte) {
	f, err := elf.NewFile(bytes.NewReader(text))
	if err != nil {
		return
	}
	le := binary.LittleEndian
	zero := func(off, size uint64) {
		if off >= 64 && off <= uint64(len(text)) && size <= uint64(len(text))-off {
			clear(text[off : off+size])
		}
	}
	for _, sec := range f.Sections {
		if sec.Type != elf.SHT_NOBITS && !hostKept(sec) {
			zero(sec.Offset, sec.Size)
		}
	}
	zero(le.Uint64(text[32:]), uint64(le.Uint16(text[54:]))*uint64(le.Uint16(text[56:]))) // program headers
	zero(le.Uint64(text[40:]), uint64(le.Uint16(text[58:]))*uint64(le.Uint16(text[60:]))) // section headers
}

// hostKept reports whether the image keeps section sec of the host's vDSO.
func hostKept(sec *elf.Section) bool {
	if sec.Flags&elf.SHF_EXECINSTR != 0 {
		return true
	}
	for _, p := range []string{".rodata", ".data", ".eh_frame"} {
		if strings.HasPrefix(sec.Name, p) {
			return true
		}
	}
	return false
}
