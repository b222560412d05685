package mm

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strings"

	"ringbox/guestkernel/loader"
	"ringbox/guestkernel/memfile"
)

// Load bases, as Linux x86-64 picks them without randomization.
const (
	// etDynBase is where a position-independent executable is loaded.
	etDynBase = 0x555555554000
)

// Executable is an opened program file.
type Executable interface {
	io.ReaderAt
	Size() int64
}

// PagedExecutable is an Executable whose pages the loader can map from a
// page cache (copy-on-write) instead of copying them. Pager may return
// nil: the loader copies.
type PagedExecutable interface {
	Executable
	Pager() Pager
}

// ExecArgs describe a program to load.
type ExecArgs struct {
	File Executable
	Path string // AT_EXECFN: the path as the caller gave it
	// Exe is the executable's absolute path in the sandbox, for
	// /proc/pid/exe (Path when empty).
	Exe  string
	Argv []string
	Envp []string
	// UID and GID are the real IDs; EUID and EGID the effective ones
	// the program runs with (a set-user-ID file's owner); Secure is
	// AT_SECURE (they differ: ld.so then ignores LD_PRELOAD and its
	// kind).
	UID, EUID uint32
	GID, EGID uint32
	Secure    bool
	HWCap     uint64
	HWCap2    uint64
	// OpenInterp opens the program interpreter named by PT_INTERP.
	OpenInterp func(path string) (Executable, error)
	// VDSO, if not nil, is mapped into the new program (AT_SYSINFO_EHDR).
	VDSO *VDSO
	// Rlimits are the process's memory limits (limits.go): the stack's
	// room comes from Rlimits.Stack.
	Rlimits Rlimits
}

// VDSO is the vDSO every program gets (package vdso builds it): its image,
// mapped read-only and executable as [vdso], and, right in front of it,
// the host's vDSO data pages as [vvar] when the image runs the host's own
// clock code, which finds them there.
type VDSO struct {
	// Image holds the image's pages, which every address space shares
	// (copy-on-write: a debugger's breakpoint stays its own).
	Image Pager
	// Pages is the image's length in pages; its ELF header is at its
	// start.
	Pages int
	// HostData and HostDataLen are the guest-physical address and length
	// of the host's data pages, or zero. HostHoles marks, by page, those
	// the host leaves unbacked (SIGBUS when read there too).
	HostData, HostDataLen uintptr
	HostHoles             []bool
}

// mapVDSO maps v at a free address below the stack and returns the
// address of its image.
func (m *MM) mapVDSO(v *VDSO) (uintptr, error) {
	size := v.HostDataLen + uintptr(v.Pages)*pageSize
	m.mu.Lock()
	base, ok := m.findGap(size, m.topLocked())
	m.mu.Unlock()
	if !ok {
		return 0, ENOMEM
	}
	image := base + v.HostDataLen
	if v.HostDataLen != 0 {
		m.mu.Lock()
		for off := uintptr(0); off < v.HostDataLen; off += pageSize {
			phys := v.HostData + off
			if i := int(off / pageSize); i < len(v.HostHoles) && v.HostHoles[i] {
				phys = HostHole
			}
			m.vmas.insert(VMA{Start: base + off, End: base + off + pageSize, Prot: ProtRead, MaxProt: ProtRead,
				Name: "[vvar]", HostPhys: phys})
		}
		m.mu.Unlock()
	}
	if _, err := m.Mmap(MmapOpts{Addr: image, Len: uintptr(v.Pages) * pageSize, Prot: ProtRead | ProtExec, Fixed: true,
		Name: "[vdso]", Pager: v.Image}); err != nil {
		return 0, fmt.Errorf("map the vDSO: %w", err)
	}
	// Every dynamic program reads both at start-up: map them now rather
	// than on a page fault each (a few entries; populate leaves a hole
	// unmapped).
	m.mu.Lock()
	for a := base; a < image+uintptr(v.Pages)*pageSize; a += pageSize {
		if vm, ok := m.vmas.lookup(a); ok {
			_ = m.populate(vm, a, 1)
		}
	}
	m.mu.Unlock()
	return image, nil
}

// ExecResult is where the program starts.
type ExecResult struct {
	Entry uintptr
	SP    uintptr
}

// ErrInterp wraps failures to load the program interpreter.
var ErrInterp = errors.New("cannot load the program interpreter")

// Load maps an ELF executable (and its interpreter) into an empty address
// space and builds the initial stack.
func (m *MM) Load(a ExecArgs) (ExecResult, error) {
	img, err := loader.Parse(a.File, a.File.Size())
	if err != nil {
		return ExecResult{}, err
	}
	m.mu.Lock()
	m.rl = a.Rlimits
	m.setStackRoomLocked(a.Rlimits.Stack)
	m.mu.Unlock()
	var bias uintptr
	if img.Type == 3 { // ET_DYN
		bias = etDynBase - uintptr(img.MinVaddr)
	}
	end, err := m.mapImage(a.File, img, bias, a.Path)
	if err != nil {
		return ExecResult{}, err
	}
	entry := uintptr(img.Entry) + bias
	var interpBase uintptr
	if img.Interp != "" {
		if a.OpenInterp == nil {
			return ExecResult{}, fmt.Errorf("%w %s: no file system", ErrInterp, img.Interp)
		}
		f, err := a.OpenInterp(img.Interp)
		if err != nil {
			return ExecResult{}, fmt.Errorf("%w %s: %v", ErrInterp, img.Interp, err)
		}
		ii, err := loader.Parse(f, f.Size())
		if err != nil {
			return ExecResult{}, fmt.Errorf("%w %s: %v", ErrInterp, img.Interp, err)
		}
		if ii.Interp != "" {
			return ExecResult{}, fmt.Errorf("%w %s: it has an interpreter itself", ErrInterp, img.Interp)
		}
		m.mu.Lock()
		base, ok := m.findGap(uintptr(ii.Size()), m.topLocked())
		m.mu.Unlock()
		if !ok {
			return ExecResult{}, ENOMEM
		}
		ibias := base - uintptr(ii.MinVaddr)
		if ii.Type != 3 {
			ibias = 0
		}
		if _, err := m.mapImage(f, ii, ibias, img.Interp); err != nil {
			return ExecResult{}, fmt.Errorf("%w %s: %v", ErrInterp, img.Interp, err)
		}
		interpBase = uintptr(ii.MinVaddr) + ibias
		entry = uintptr(ii.Entry) + ibias
	}
	m.mu.Lock()
	m.brkStart = pageUp(end)
	m.brk = m.brkStart
	m.mu.Unlock()

	var phdr uint64
	if img.PhdrMapped {
		phdr = img.PhdrVaddr + uint64(bias)
	}
	secure := uint64(0)
	if a.Secure {
		secure = 1
	}
	aux := []loader.AuxEntry{
		{Key: loader.AT_PHDR, Val: phdr},
		{Key: loader.AT_PHENT, Val: uint64(img.Phentsize)},
		{Key: loader.AT_PHNUM, Val: uint64(img.Phnum)},
		{Key: loader.AT_PAGESZ, Val: pageSize},
		{Key: loader.AT_BASE, Val: uint64(interpBase)},
		{Key: loader.AT_FLAGS, Val: 0},
		{Key: loader.AT_ENTRY, Val: img.Entry + uint64(bias)},
		{Key: loader.AT_UID, Val: uint64(a.UID)},
		{Key: loader.AT_EUID, Val: uint64(a.EUID)},
		{Key: loader.AT_GID, Val: uint64(a.GID)},
		{Key: loader.AT_EGID, Val: uint64(a.EGID)},
		{Key: loader.AT_SECURE, Val: secure},
		{Key: loader.AT_HWCAP, Val: a.HWCap},
		{Key: loader.AT_HWCAP2, Val: a.HWCap2},
		{Key: loader.AT_CLKTCK, Val: 100},
		{Key: loader.AT_MINSIGSTKSZ, Val: 2048},
	}
	if a.VDSO != nil {
		at, err := m.mapVDSO(a.VDSO)
		if err != nil {
			return ExecResult{}, err
		}
		aux = append(aux, loader.AuxEntry{Key: loader.AT_SYSINFO_EHDR, Val: uint64(at)})
	}
	var random [16]byte
	rand.Read(random[:])
	st, err := loader.BuildStack(StackTop, a.Argv, a.Envp, a.Path, random, aux)
	if err != nil {
		return ExecResult{}, err
	}
	// The stack: a grows-down VMA holding the arguments and stackExpand
	// more, which grows on faults below it up to RLIMIT_STACK.
	m.mu.Lock()
	room := m.stackMaxLocked()
	m.mu.Unlock()
	size := min(pageUp(StackTop-uintptr(st.SP))+stackExpand, room)
	if _, err := m.Mmap(MmapOpts{Addr: StackTop - size, Len: size, Prot: ProtRead | ProtWrite,
		Fixed: true, GrowsDown: true, Name: "[stack]"}); err != nil {
		return ExecResult{}, err
	}
	if _, err := m.CopyOut(uintptr(st.SP), st.Data); err != nil {
		return ExecResult{}, fmt.Errorf("write initial stack: %w", err)
	}
	m.mu.Lock()
	m.Exe = a.Path
	// comm: the last component of the path as given, 15 bytes at most.
	m.Comm = a.Path[strings.LastIndexByte(a.Path, '/')+1:]
	if len(m.Comm) > 15 {
		m.Comm = m.Comm[:15]
	}
	if a.Exe != "" {
		m.Exe = a.Exe
	}
	m.ArgStart, m.ArgEnd = uintptr(st.ArgStart), uintptr(st.ArgEnd)
	m.EnvStart, m.EnvEnd = uintptr(st.EnvStart), uintptr(st.EnvEnd)
	m.Auxv = m.Auxv[:0]
	for _, e := range st.Auxv {
		m.Auxv = append(m.Auxv, e.Key, e.Val)
	}
	m.mu.Unlock()
	return ExecResult{Entry: entry, SP: uintptr(st.SP)}, nil
}

// mapImage maps the PT_LOAD segments of img at bias, copying their file
// contents into private pages now (a program touches its segments at once),
// and returns the end of the highest segment. The pages that hold file
// contents are named after the file (as /proc/pid/maps shows them); the
// zero-fill pages past them are anonymous, as Linux maps them.
func (m *MM) mapImage(f Executable, img *loader.Image, bias uintptr, name string) (uintptr, error) {
	var pager Pager
	if pe, ok := f.(PagedExecutable); ok {
		pager = pe.Pager()
	}
	var end, prevEnd uintptr
	var prevProt int
	for _, s := range img.Segments {
		start := (uintptr(s.Vaddr) + bias) &^ (pageSize - 1)
		segEnd := pageUp(uintptr(s.Vaddr+s.Memsz) + bias)
		if segEnd <= start {
			continue
		}
		mapStart := start
		if start < prevEnd {
			// The segment shares its first page(s) with the previous
			// one: keep those pages, with both segments' rights.
			shared := min(prevEnd, segEnd)
			if err := m.Mprotect(start, shared-start, s.Prot|prevProt); err != nil {
				return 0, err
			}
			mapStart = shared
		}
		fileEnd := min(max(pageUp(uintptr(s.Vaddr+s.Filesz)+bias), mapStart), segEnd)
		if pager != nil && mapStart == start && fileEnd > start &&
			(uintptr(s.Vaddr)+bias)%pageSize == uintptr(s.Offset%pageSize) {
			// The file's own pages, from its page cache: copy-on-write,
			// filled as the program touches them.
			if err := m.mapPaged(pager, s, start, fileEnd, segEnd, bias, name); err != nil {
				return 0, err
			}
			prevEnd, prevProt = max(prevEnd, segEnd), s.Prot
			end = max(end, uintptr(s.Vaddr+s.Memsz)+bias)
			continue
		}
		for _, part := range [2]struct {
			start, end uintptr
			name       string
		}{{mapStart, fileEnd, name}, {fileEnd, segEnd, ""}} {
			if part.start >= part.end {
				continue
			}
			if _, err := m.Mmap(MmapOpts{Addr: part.start, Len: part.end - part.start, Prot: s.Prot, Fixed: true, Name: part.name}); err != nil {
				return 0, fmt.Errorf("map segment at %#x: %w", start, err)
			}
			m.mu.Lock()
			v, _ := m.vmas.lookup(part.start)
			err := m.populate(v, part.start, int((part.end-part.start)/pageSize))
			m.mu.Unlock()
			if err != nil {
				return 0, err
			}
		}
		prevEnd, prevProt = max(prevEnd, segEnd), s.Prot
		// Copy the file bytes straight into the backing pages (the
		// segment may be read-only to the program).
		fileStart := uintptr(s.Vaddr) + bias
		var buf [pageSize]byte
		for off := uint64(0); off < s.Filesz; {
			n := min(s.Filesz-off, pageSize-uint64((fileStart+uintptr(off))&(pageSize-1)))
			if _, err := f.ReadAt(buf[:n], int64(s.Offset+off)); err != nil && err != io.EOF {
				return 0, fmt.Errorf("read segment: %w", err)
			}
			va := fileStart + uintptr(off)
			m.mu.Lock()
			pa := m.pages.get(va &^ (pageSize - 1))
			var err error
			if v, ok := m.vmas.lookup(va); ok && pa != 0 {
				pa, err = m.ownPage(v, va&^(pageSize-1))
			}
			m.mu.Unlock()
			if err != nil {
				return 0, fmt.Errorf("write segment at %#x: %w", va, err)
			}
			if pa == 0 {
				return 0, fmt.Errorf("write segment at %#x: %w", va, EFAULT)
			}
			copy(memfile.Bytes(pa+(va&(pageSize-1)), uintptr(n)), buf[:n])
			off += n
		}
		end = max(end, uintptr(s.Vaddr+s.Memsz)+bias)
	}
	return end, nil
}

// mapPaged maps segment s from pager: the file part [start, fileEnd) maps
// the file's pages privately, the rest of the segment is zero-fill. The
// bytes of the last file page past p_filesz are zeroed when the segment
// goes on (its .bss starts there), as Linux does.
func (m *MM) mapPaged(pager Pager, s loader.Segment, start, fileEnd, segEnd, bias uintptr, name string) error {
	if _, err := m.Mmap(MmapOpts{Addr: start, Len: fileEnd - start, Prot: s.Prot, Fixed: true, Name: name,
		Pager: pager, PagerOff: int64(s.Offset / pageSize)}); err != nil {
		return fmt.Errorf("map segment at %#x: %w", start, err)
	}
	if fileEnd < segEnd {
		if _, err := m.Mmap(MmapOpts{Addr: fileEnd, Len: segEnd - fileEnd, Prot: s.Prot, Fixed: true}); err != nil {
			return fmt.Errorf("map segment at %#x: %w", fileEnd, err)
		}
	}
	tail := uintptr(s.Vaddr+s.Filesz) + bias
	if s.Memsz <= s.Filesz || tail%pageSize == 0 {
		return nil
	}
	page := tail &^ (pageSize - 1)
	m.mu.Lock()
	v, _ := m.vmas.lookup(page)
	err := m.populate(v, page, 1)
	var pa uintptr
	if err == nil {
		pa, err = m.ownPage(v, page)
	}
	m.mu.Unlock()
	if err != nil {
		return fmt.Errorf("zero the end of the segment at %#x: %w", tail, err)
	}
	clear(memfile.Bytes(pa+tail%pageSize, pageSize-tail%pageSize))
	return nil
}
