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

// Image returns the vDSO image. Without host text it is one page: an ELF
// header, the dynamic symbols, version definitions, unwind tables and the
// stubs. With the host's vDSO text, that text comes first, in place but
// for its ELF header, which is replaced by one describing the whole
// image, and what its code does not need (scrubHost); the tables and
// stubs follow in a page of their own, and the clock symbols lead to the
// host's functions. The image is linked at 0, as Linux's is: every
// address in it is an offset from its start.
func Image(hostText []byte) ([]byte, error) {
	host := map[string]hostFunc{}
	var hostTextSec [2]uint64 // the host's .text section, if any
	var hostEHTab [][2]uint64 // the host's unwind search table, if any
	var hostEHSec *elf.Section
	base := uint64(64) // where the tables start, after the ELF header
	if len(hostText) > 0 {
		f, err := elf.NewFile(bytes.NewReader(hostText))
		if err != nil {
			return nil, fmt.Errorf("the host's vDSO: %w", err)
		}
		if host, err = hostSymbols(f, len(hostText)); err != nil {
			return nil, err
		}
		if s := f.Section(".text"); s != nil && s.Offset >= 64 && s.Offset+s.Size <= uint64(len(hostText)) {
			hostTextSec = [2]uint64{s.Offset, s.Size}
		} else {
			hostTextSec = [2]uint64{64, uint64(len(hostText)) - 64}
		}
		// The host's unwind entries stay where they are, as the text
		// does: our search table (ehframe.go) lists them with the
		// stubs' own.
		for _, p := range f.Progs {
			if p.Type == elf.PT_GNU_EH_FRAME && p.Off+p.Filesz <= uint64(len(hostText)) && p.Off >= 64 {
				hostEHTab, _ = hostEHTable(hostText, p.Off)
			}
		}
		if s := f.Section(".eh_frame"); s != nil && hostEHTab != nil && s.Offset >= 64 && s.Offset+s.Size <= uint64(len(hostText)) {
			hostEHSec = s
		}
		base = (uint64(len(hostText)) + 4095) &^ 4095
	}

	// Section indexes.
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
	var dynstr strtab
	sonameOff := dynstr.add(soname)
	versionOff := dynstr.add(version)

	// Symbol 0 is the null symbol; then each function twice, as
	// __vdso_NAME (global) and NAME (weak), as Linux exports them.
	type sym struct {
		name        uint32
		bind        elf.SymBind
		shndx       uint16
		value, size uint64
	}
	syms := []sym{{}}
	names := []string{""}
	// Each function is a slot of the stubs, or (gettimeofday) the host's
	// own function; patch says which host function a slot's
	// placeholder names.
	slot := map[string]int{}
	patch := map[int]string{}
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
	var stubAt []int // syms index -> slot, or -1 for a host function
	for _, fn := range funcs {
		for _, n := range []string{"__vdso_" + fn, fn} {
			s := sym{name: dynstr.add(n), bind: elf.STB_GLOBAL}
			if n == fn {
				s.bind = elf.STB_WEAK
			}
			if slot[fn] < 0 {
				h := host[fn]
				s.shndx, s.value, s.size = shHostText, h.off, h.size
			} else {
				s.shndx, s.size = shText, stubSize
			}
			stubAt = append(stubAt, slot[fn])
			syms = append(syms, s)
			names = append(names, n)
		}
	}

	// Lay the tables out from base.
	var tail []byte
	at := func(align int) uint64 {
		for len(tail)%align != 0 {
			tail = append(tail, 0)
		}
		return base + uint64(len(tail))
	}
	le := binary.LittleEndian
	const nProgs = 3
	phOff := at(8)
	tail = append(tail, make([]byte, nProgs*56)...)

	// .hash: buckets by ELF hash, chains through the symbols.
	hashOff := at(4)
	nbucket := uint32(len(syms))
	buckets := make([]uint32, nbucket)
	chains := make([]uint32, len(syms))
	for i := len(syms) - 1; i >= 1; i-- {
		b := elfHash(names[i]) % nbucket
		chains[i] = buckets[b]
		buckets[b] = uint32(i)
	}
	tail = le.AppendUint32(tail, nbucket)
	tail = le.AppendUint32(tail, uint32(len(syms)))
	for _, b := range buckets {
		tail = le.AppendUint32(tail, b)
	}
	for _, c := range chains {
		tail = le.AppendUint32(tail, c)
	}
	hashEnd := base + uint64(len(tail))

	// .dynsym: values are filled in once the stubs' place is known.
	symOff := at(8)
	tail = append(tail, make([]byte, len(syms)*24)...)

	strOff := at(1)
	tail = append(tail, dynstr.b...)

	// .gnu.version: every symbol but the null one is LINUX_2.6 (index 2).
	versymOff := at(2)
	for i := range syms {
		v := uint16(2)
		if i == 0 {
			v = 0
		}
		tail = le.AppendUint16(tail, v)
	}

	// .gnu.version_d: the base definition (the object's own name), then
	// LINUX_2.6.
	verdefOff := at(4)
	for i, n := range []struct {
		flags uint16
		name  string
		off   uint32
	}{{1 /* VER_FLG_BASE */, soname, sonameOff}, {0, version, versionOff}} {
		next := uint32(28)
		if i == 1 {
			next = 0
		}
		tail = le.AppendUint16(tail, 1)               // vd_version
		tail = le.AppendUint16(tail, n.flags)         // vd_flags
		tail = le.AppendUint16(tail, uint16(i+1))     // vd_ndx
		tail = le.AppendUint16(tail, 1)               // vd_cnt
		tail = le.AppendUint32(tail, elfHash(n.name)) // vd_hash
		tail = le.AppendUint32(tail, 20)              // vd_aux
		tail = le.AppendUint32(tail, next)            // vd_next
		tail = le.AppendUint32(tail, n.off)           // vda_name
		tail = le.AppendUint32(tail, 0)               // vda_next
	}
	verdefEnd := base + uint64(len(tail))

	textOff := at(16)
	tail = append(tail, stubs()...)
	textEnd := base + uint64(len(tail))
	for sl := slotGettimeHost; sl < nSlots; sl++ {
		if _, ok := patch[sl]; !ok {
			// Unused: nothing to jump to.
			for i := range stubSize {
				tail[textOff-base+uint64(sl)*stubSize+uint64(i)] = 0xcc
			}
		}
	}
	for sl, fn := range patch {
		code := tail[textOff-base+uint64(sl)*stubSize:][:stubSize]
		at := bytes.Index(code, placeholder)
		if at < 1 || (code[at-1] != 0xe9 && code[at-1] != 0xe8) {
			return nil, fmt.Errorf("vDSO slot %d has no JMP/CALL to patch", sl)
		}
		next := textOff + uint64(sl)*stubSize + uint64(at) + 4
		le.PutUint32(code[at:], uint32(int32(int64(host[fn].off)-int64(next))))
	}

	frameOff := at(ehAlign)
	frame, table := stubsEHFrame(frameOff, textOff, tail[textOff-base:textEnd-base])
	tail = append(tail, frame...)
	ehHdrOff := at(4)
	tail = append(tail, ehFrameHdr(ehHdrOff, frameOff, append(hostEHTab, table...))...)
	ehHdrEnd := base + uint64(len(tail))

	dynOff := at(8)
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
		tail = le.AppendUint64(tail, d[0])
		tail = le.AppendUint64(tail, d[1])
	}
	dynEnd := base + uint64(len(tail))

	var shstr strtab
	type section struct {
		name           string
		typ            elf.SectionType
		flags          elf.SectionFlag
		off, size      uint64
		link, info     uint32
		align, entsize uint64
	}
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
			hostTextSec[0], hostTextSec[1], 0, 0, 16, 0})
	}
	if hostEHSec != nil {
		// First of the two .eh_frame sections: debuggers that read
		// one by name get the host functions' entries.
		sections = append(sections, section{".eh_frame", elf.SHT_PROGBITS, alloc, hostEHSec.Offset, hostEHSec.Size, 0, 0, 8, 0})
	}
	sections = append(sections,
		section{".eh_frame", elf.SHT_PROGBITS, alloc, frameOff, uint64(len(frame)), 0, 0, ehAlign, 0},
		section{".eh_frame_hdr", elf.SHT_PROGBITS, alloc, ehHdrOff, ehHdrEnd - ehHdrOff, 0, 0, 4, 0})
	shstrndx := len(sections)
	sections = append(sections, section{name: ".shstrtab", typ: elf.SHT_STRTAB, align: 1})
	nameOffs := make([]uint32, len(sections))
	for i, s := range sections {
		nameOffs[i] = shstr.add(s.name)
	}
	shstrOff := at(1)
	tail = append(tail, shstr.b...)
	sections[shstrndx].off, sections[shstrndx].size = shstrOff, uint64(len(shstr.b))
	shOff := at(8)
	for i, s := range sections {
		tail = le.AppendUint32(tail, nameOffs[i])
		tail = le.AppendUint32(tail, uint32(s.typ))
		tail = le.AppendUint64(tail, uint64(s.flags))
		tail = le.AppendUint64(tail, s.off) // sh_addr: linked at 0
		tail = le.AppendUint64(tail, s.off)
		tail = le.AppendUint64(tail, s.size)
		tail = le.AppendUint32(tail, s.link)
		tail = le.AppendUint32(tail, s.info)
		tail = le.AppendUint64(tail, s.align)
		tail = le.AppendUint64(tail, s.entsize)
	}
	total := (base + uint64(len(tail)) + 4095) &^ 4095
	if len(tail) > 4096-64 {
		return nil, fmt.Errorf("vDSO tables take %d bytes, more than a page", len(tail))
	}

	// The symbols, now that the stubs have a place.
	for i, s := range syms {
		if i > 0 && stubAt[i-1] >= 0 {
			s.value = textOff + uint64(stubAt[i-1])*stubSize
		}
		e := tail[symOff-base+uint64(i)*24:]
		le.PutUint32(e[0:], s.name)
		if i > 0 {
			e[4] = byte(s.bind)<<4 | byte(elf.STT_FUNC)
		}
		e[5] = 0 // STV_DEFAULT
		le.PutUint16(e[6:], s.shndx)
		le.PutUint64(e[8:], s.value)
		le.PutUint64(e[16:], s.size)
	}

	// The program headers: one PT_LOAD for the whole image, PT_DYNAMIC.
	ph := tail[phOff-base:]
	putProg := func(p []byte, typ elf.ProgType, flags elf.ProgFlag, off, size, align uint64) {
		le.PutUint32(p[0:], uint32(typ))
		le.PutUint32(p[4:], uint32(flags))
		le.PutUint64(p[8:], off)   // p_offset
		le.PutUint64(p[16:], off)  // p_vaddr
		le.PutUint64(p[24:], off)  // p_paddr
		le.PutUint64(p[32:], size) // p_filesz
		le.PutUint64(p[40:], size) // p_memsz
		le.PutUint64(p[48:], align)
	}
	putProg(ph[0:], elf.PT_LOAD, elf.PF_R|elf.PF_X, 0, total, 4096)
	putProg(ph[56:], elf.PT_DYNAMIC, elf.PF_R, dynOff, dynEnd-dynOff, 8)
	putProg(ph[112:], elf.PT_GNU_EH_FRAME, elf.PF_R, ehHdrOff, ehHdrEnd-ehHdrOff, 4)

	img := make([]byte, total)
	copy(img, hostText)
	scrubHost(img[:len(hostText)])
	copy(img[base:], tail)
	// The ELF header.
	h := img[:64]
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
	le.PutUint16(h[60:], uint16(len(sections)))
	le.PutUint16(h[62:], uint16(shstrndx))
	return img, nil
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
