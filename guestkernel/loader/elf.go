package loader

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Errors returned by Parse. Each returned error wraps exactly one of them
// (or, for I/O failures other than short reads, the reader's error).
var (
	// ErrNotELF reports that the file does not start with the ELF magic
	// (ENOEXEC).
	ErrNotELF = errors.New("not an ELF file")
	// ErrWrongClass reports an ELF file for another class, byte order or
	// machine, e.g. a 32-bit or an AArch64 binary (ENOEXEC).
	ErrWrongClass = errors.New("not a 64-bit x86-64 ELF")
	// ErrBadELF reports a malformed or unsupported 64-bit x86-64 ELF file
	// (ENOEXEC, or EINVAL where Linux uses it).
	ErrBadELF = errors.New("malformed ELF")
)

const (
	// PageSize is the x86-64 page size used for segment validation and
	// for rounding MinVaddr/MaxVaddr.
	PageSize = 4096

	// UserLimit is the first address above the canonical lower half;
	// every segment must end at or below it.
	UserLimit = 0x0000800000000000

	// MaxPhnum is the largest accepted number of program headers.
	MaxPhnum = 1024

	// MaxInterpLen is the largest accepted PT_INTERP size (PATH_MAX),
	// including the terminating NUL.
	MaxInterpLen = 4096

	ehdrSize = 64 // sizeof(Elf64_Ehdr)
	phdrSize = 56 // sizeof(Elf64_Phdr)
)

// Memory protection bits, with the same values as Linux PROT_*.
const (
	ProtRead  = 0x1
	ProtWrite = 0x2
	ProtExec  = 0x4
)

// Segment is one PT_LOAD program header.
type Segment struct {
	Vaddr  uint64 // p_vaddr (unrelocated)
	Memsz  uint64 // p_memsz
	Filesz uint64 // p_filesz (<= Memsz)
	Offset uint64 // p_offset; Offset+Filesz is within the file
	Align  uint64 // p_align, as found in the file (not validated)
	Prot   int    // ProtRead|ProtWrite|ProtExec derived from p_flags
}

// Image is the validated summary of an ELF executable's headers.
type Image struct {
	Type  uint16 // uint16(elf.ET_EXEC) or uint16(elf.ET_DYN)
	Entry uint64 // unrelocated e_entry (< UserLimit)

	Phoff     uint64 // e_phoff
	Phentsize uint16 // e_phentsize (always 56)
	Phnum     uint16 // e_phnum (1..MaxPhnum)

	// PhdrVaddr is the unrelocated virtual address of the program header
	// table once the image is mapped: p_vaddr of PT_PHDR if present,
	// otherwise computed from the PT_LOAD whose file range contains the
	// whole table. It is meaningful only if PhdrMapped is true.
	PhdrVaddr  uint64
	PhdrMapped bool

	Segments []Segment // PT_LOAD headers, in file order (at least one)

	Interp    string // PT_INTERP path, "" for static executables
	ExecStack bool   // PF_X of PT_GNU_STACK; true if there is none

	// MinVaddr and MaxVaddr are the page-rounded span of all PT_LOAD
	// segments: MinVaddr is rounded down, MaxVaddr rounded up.
	MinVaddr, MaxVaddr uint64

	// MaxAlign is the largest power-of-two p_align among the PT_LOAD
	// segments, and at least PageSize. Callers choosing an ET_DYN load
	// bias can align it to this.
	MaxAlign uint64
}

// Size returns MaxVaddr - MinVaddr, the size of address space the image
// needs.
func (img *Image) Size() uint64 { return img.MaxVaddr - img.MinVaddr }

func badf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrBadELF}, args...)...)
}

// readFull reads exactly len(buf) bytes at off. A short read is reported as
// ErrBadELF (the file is smaller than its headers claim); other errors are
// wrapped and returned as is.
func readFull(r io.ReaderAt, buf []byte, off int64, what string) error {
	n, err := r.ReadAt(buf, off)
	if n == len(buf) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return badf("short read of %s (%d of %d bytes at offset %d)", what, n, len(buf), off)
	}
	return fmt.Errorf("loader: reading %s: %w", what, err)
}

func pageDown(v uint64) uint64 { return v &^ (PageSize - 1) }
func pageUp(v uint64) uint64   { return (v + PageSize - 1) &^ (PageSize - 1) }

// Parse reads and validates the ELF header and program headers from r,
// whose length is size bytes. It reads at most the 64-byte ELF header, the
// program header table (at most MaxPhnum*56 bytes) and the PT_INTERP
// string (at most MaxInterpLen bytes).
func Parse(r io.ReaderAt, size int64) (*Image, error) {
	if size < 0 {
		return nil, badf("negative file size %d", size)
	}
	if size < elf.EI_NIDENT {
		return nil, fmt.Errorf("%w: file is only %d bytes", ErrNotELF, size)
	}

	var ident [elf.EI_NIDENT]byte
	if err := readFull(r, ident[:], 0, "ELF identification"); err != nil {
		if errors.Is(err, ErrBadELF) {
			return nil, fmt.Errorf("%w: %v", ErrNotELF, err)
		}
		return nil, err
	}
	if !bytes.Equal(ident[:4], []byte(elf.ELFMAG)) {
		return nil, fmt.Errorf("%w: bad magic % x", ErrNotELF, ident[:4])
	}
	if c := elf.Class(ident[elf.EI_CLASS]); c != elf.ELFCLASS64 {
		return nil, fmt.Errorf("%w: class %v", ErrWrongClass, c)
	}
	if d := elf.Data(ident[elf.EI_DATA]); d != elf.ELFDATA2LSB {
		return nil, fmt.Errorf("%w: byte order %v", ErrWrongClass, d)
	}
	if v := elf.Version(ident[elf.EI_VERSION]); v != elf.EV_CURRENT {
		return nil, badf("ident version %d", v)
	}
	if size < ehdrSize {
		return nil, badf("file is only %d bytes, too small for an ELF64 header", size)
	}

	var eh [ehdrSize]byte
	if err := readFull(r, eh[:], 0, "ELF header"); err != nil {
		return nil, err
	}
	le := binary.LittleEndian
	var (
		etype     = le.Uint16(eh[16:])
		machine   = le.Uint16(eh[18:])
		version   = le.Uint32(eh[20:])
		entry     = le.Uint64(eh[24:])
		phoff     = le.Uint64(eh[32:])
		phentsize = le.Uint16(eh[54:])
		phnum     = le.Uint16(eh[56:])
	)
	if elf.Machine(machine) != elf.EM_X86_64 {
		return nil, fmt.Errorf("%w: machine %v", ErrWrongClass, elf.Machine(machine))
	}
	if elf.Version(version) != elf.EV_CURRENT {
		return nil, badf("e_version %d", version)
	}
	switch elf.Type(etype) {
	case elf.ET_EXEC, elf.ET_DYN:
	default:
		return nil, badf("e_type %v is not ET_EXEC or ET_DYN", elf.Type(etype))
	}
	if entry >= UserLimit {
		return nil, badf("entry point %#x outside user address space", entry)
	}
	if phentsize != phdrSize {
		return nil, badf("e_phentsize %d, want %d", phentsize, phdrSize)
	}
	if phnum == 0 {
		return nil, badf("no program headers")
	}
	if phnum > MaxPhnum {
		return nil, badf("e_phnum %d exceeds %d", phnum, MaxPhnum)
	}
	phbytes := uint64(phnum) * phdrSize // <= 57344, no overflow
	if phoff > uint64(size) || phbytes > uint64(size)-phoff {
		return nil, badf("program header table [%#x, +%#x) beyond end of file (%d bytes)", phoff, phbytes, size)
	}

	ph := make([]byte, phbytes) // bounded by MaxPhnum*56
	if err := readFull(r, ph, int64(phoff), "program headers"); err != nil {
		return nil, err
	}

	img := &Image{
		Type:      etype,
		Entry:     entry,
		Phoff:     phoff,
		Phentsize: phentsize,
		Phnum:     phnum,
		ExecStack: true,
		MaxAlign:  PageSize,
	}
	var (
		havePHDR      bool
		phdrVaddr     uint64
		phdrInLoad    bool
		phdrLoadVaddr uint64
		interpOff     uint64
		interpSize    uint64
		haveInterp    bool
		minV          = ^uint64(0)
		maxV          uint64
	)
	for i := 0; i < int(phnum); i++ {
		p := ph[i*phdrSize : (i+1)*phdrSize]
		var (
			ptype  = elf.ProgType(le.Uint32(p[0:]))
			flags  = elf.ProgFlag(le.Uint32(p[4:]))
			off    = le.Uint64(p[8:])
			vaddr  = le.Uint64(p[16:])
			filesz = le.Uint64(p[32:])
			memsz  = le.Uint64(p[40:])
			align  = le.Uint64(p[48:])
		)
		switch ptype {
		case elf.PT_LOAD:
			if filesz > memsz {
				return nil, badf("PT_LOAD %d: p_filesz %#x > p_memsz %#x", i, filesz, memsz)
			}
			if off > uint64(size) || filesz > uint64(size)-off {
				return nil, badf("PT_LOAD %d: file range [%#x, +%#x) beyond end of file (%d bytes)", i, off, filesz, size)
			}
			if vaddr >= UserLimit || memsz > UserLimit-vaddr {
				return nil, badf("PT_LOAD %d: [%#x, +%#x) outside user address space", i, vaddr, memsz)
			}
			if (vaddr-off)%PageSize != 0 {
				return nil, badf("PT_LOAD %d: p_vaddr %#x and p_offset %#x not congruent modulo page size", i, vaddr, off)
			}
			prot := 0
			if flags&elf.PF_R != 0 {
				prot |= ProtRead
			}
			if flags&elf.PF_W != 0 {
				prot |= ProtWrite
			}
			if flags&elf.PF_X != 0 {
				prot |= ProtExec
			}
			img.Segments = append(img.Segments, Segment{
				Vaddr: vaddr, Memsz: memsz, Filesz: filesz,
				Offset: off, Align: align, Prot: prot,
			})
			minV = min(minV, vaddr)
			maxV = max(maxV, vaddr+memsz)
			if align > img.MaxAlign && align&(align-1) == 0 && align < UserLimit {
				img.MaxAlign = align
			}
			// Locate the program headers in memory from the first
			// PT_LOAD that maps the whole table from the file.
			if !phdrInLoad && off <= phoff && phoff-off <= filesz && phbytes <= filesz-(phoff-off) {
				phdrInLoad = true
				phdrLoadVaddr = vaddr + (phoff - off)
			}
		case elf.PT_PHDR:
			if !havePHDR {
				havePHDR = true
				phdrVaddr = vaddr
			}
		case elf.PT_INTERP:
			// Like Linux, only the first PT_INTERP counts.
			if !haveInterp {
				haveInterp = true
				interpOff, interpSize = off, filesz
			}
		case elf.PT_GNU_STACK:
			img.ExecStack = flags&elf.PF_X != 0
		}
	}
	if len(img.Segments) == 0 {
		return nil, badf("no PT_LOAD segments")
	}
	switch {
	case havePHDR:
		img.PhdrVaddr, img.PhdrMapped = phdrVaddr, true
	case phdrInLoad:
		img.PhdrVaddr, img.PhdrMapped = phdrLoadVaddr, true
	}
	img.MinVaddr = pageDown(minV)
	img.MaxVaddr = pageUp(maxV) // maxV <= UserLimit, cannot overflow

	if haveInterp {
		if interpSize < 2 || interpSize > MaxInterpLen {
			return nil, badf("PT_INTERP size %d out of range [2, %d]", interpSize, MaxInterpLen)
		}
		if interpOff > uint64(size) || interpSize > uint64(size)-interpOff {
			return nil, badf("PT_INTERP [%#x, +%#x) beyond end of file (%d bytes)", interpOff, interpSize, size)
		}
		buf := make([]byte, interpSize) // bounded by MaxInterpLen
		if err := readFull(r, buf, int64(interpOff), "PT_INTERP"); err != nil {
			return nil, err
		}
		if buf[len(buf)-1] != 0 {
			return nil, badf("PT_INTERP path is not NUL-terminated")
		}
		path := buf[:bytes.IndexByte(buf, 0)]
		if len(path) == 0 {
			return nil, badf("PT_INTERP path is empty")
		}
		img.Interp = string(path)
	}
	return img, nil
}

// ShebangMax is how many bytes of a "#!" line count (BINPRM_BUF_SIZE).
const ShebangMax = 256

// Shebang parses the "#!" line at the start of head: the interpreter and
// its optional single argument (the rest of the line, trimmed).
func Shebang(head []byte) (interp, arg string, ok bool) {
	if len(head) < 2 || head[0] != '#' || head[1] != '!' {
		return "", "", false
	}
	line := head[2:min(len(head), ShebangMax)]
	for i, c := range line {
		if c == '\n' {
			line = line[:i]
			break
		}
	}
	s := strings.TrimSpace(string(line))
	i := strings.IndexAny(s, " \t")
	if i < 0 {
		return s, "", s != ""
	}
	return s[:i], strings.TrimSpace(s[i:]), true
}
