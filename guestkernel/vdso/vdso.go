package vdso

import (
	"debug/elf"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"unsafe"

	"ringbox/guestkernel/memfile"
	"ringbox/guestkernel/mm"
	"ringbox/vmm/hostmaps"
)

// funcs are the exported functions, in the order of their system call
// stubs (slots 0-4 of stubs_amd64.s).
var funcs = [...]string{"clock_gettime", "gettimeofday", "time", "clock_getres", "getcpu"}

// The slots of stubs_amd64.s that use the host's clock code.
const (
	slotGettimeHost = 5 // clock_gettime: ids 0 and 1 to the host's
	slotGetresHost  = 6 // clock_getres: the same
	slotTimeHost    = 7 // time: the host's clock_gettime(CLOCK_REALTIME)
	nSlots          = 8
)

// passThrough are the host's vDSO functions the image uses.
var passThrough = map[string]bool{"clock_gettime": true, "gettimeofday": true, "clock_getres": true}

// stubSize is the length of each slot.
const stubSize = 64

// placeholder is the rel32 of a JMP or CALL in a slot that the image
// patches to a host function.
var placeholder = []byte{0x5a, 0x5a, 0x5a, 0x5a}

// stubsCode returns the address of the stubs (stubs_amd64.s).
func stubsCode() *byte

// stubs returns the stubs' machine code.
func stubs() []byte { return unsafe.Slice(stubsCode(), nSlots*stubSize) }

// Host is this process's own vDSO: its data pages ([vvar], and
// [vvar_vclock] on newer kernels) and, right after them, its text
// ([vdso]), whose code finds the data at that fixed distance.
type Host struct {
	DataStart, DataEnd uintptr // DataEnd is where the text starts
	Text               []byte
	// Holes marks, by page, the data pages the host leaves unbacked
	// (a read there is SIGBUS on the host: the time-namespace page of a
	// process outside one, the paravirtual clock pages of another clock
	// source). The program gets SIGBUS there too, never a page the
	// guest could not reach.
	Holes []bool
	// DataPhys is the guest-physical address of the data pages
	// (platform.HostClock), set by the caller before Load.
	DataPhys uintptr
}

// readable reports whether the byte at addr can be read without a fault.
func readable(addr uintptr) (ok bool) {
	old := debug.SetPanicOnFault(true)
	defer debug.SetPanicOnFault(old)
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	atomic.LoadUint32((*uint32)(unsafe.Add(nil, addr)))
	return true
}

// FindHost locates the host's vDSO in /proc/self/maps.
func FindHost() (*Host, error) {
	ms, err := hostmaps.Self()
	if err != nil {
		return nil, err
	}
	for i, m := range ms {
		if m.Name != "[vdso]" {
			continue
		}
		h := &Host{DataStart: m.Start, DataEnd: m.Start}
		for j := i - 1; j >= 0 && strings.HasPrefix(ms[j].Name, "[vvar") && ms[j].End == h.DataStart; j-- {
			h.DataStart = ms[j].Start
		}
		if h.DataStart == h.DataEnd {
			return nil, errors.New("the host's [vdso] has no [vvar] right before it")
		}
		h.Text = unsafe.Slice((*byte)(unsafe.Add(nil, m.Start)), m.End-m.Start)
		for a := h.DataStart; a < h.DataEnd; a += memfile.PageSize {
			h.Holes = append(h.Holes, !readable(a))
		}
		return h, nil
	}
	return nil, errors.New("the host has no vDSO")
}

// image is the vDSO's pages in the memory file, held for the sandbox's
// life.
type image struct {
	pages []uintptr
}

// PageAddr implements mm.Pager.
func (im *image) PageAddr(idx int64) (uintptr, error) {
	if idx < 0 || idx >= int64(len(im.pages)) {
		return 0, mm.EFAULT
	}
	return im.pages[idx], nil
}

// Load puts the vDSO image img in mem. img is Image(host.Text) for the
// host's clock code and data pages, or Image(nil) with a nil host for
// stubs only.
func Load(mem *memfile.File, img []byte, host *Host) (*mm.VDSO, error) {
	im := &image{}
	for off := 0; off < len(img); off += memfile.PageSize {
		pa, err := mem.Alloc()
		if err != nil {
			for _, p := range im.pages {
				mem.Free(p)
			}
			return nil, fmt.Errorf("vDSO: %w", err)
		}
		copy(memfile.Page(pa), img[off:])
		im.pages = append(im.pages, pa)
	}
	v := &mm.VDSO{Image: im, Pages: len(im.pages)}
	if host != nil {
		v.HostData, v.HostDataLen, v.HostHoles = host.DataPhys, host.DataEnd-host.DataStart, host.Holes
	}
	return v, nil
}

// hostSymbols returns the functions of the host's vDSO (f, text bytes
// long) that the image takes, by name without the __vdso_ prefix.
func hostSymbols(f *elf.File, size int) (map[string]hostFunc, error) {
	if f.Class != elf.ELFCLASS64 || f.Machine != elf.EM_X86_64 {
		return nil, errors.New("the host's vDSO is not x86-64")
	}
	var bias uint64
	found := false
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD {
			bias, found = p.Vaddr-p.Off, true
			break
		}
	}
	if !found {
		return nil, errors.New("the host's vDSO has no PT_LOAD")
	}
	syms, err := f.DynamicSymbols()
	if err != nil {
		return nil, fmt.Errorf("the host's vDSO: %w", err)
	}
	out := map[string]hostFunc{}
	for _, s := range syms {
		name, ok := strings.CutPrefix(s.Name, "__vdso_")
		if !ok || !passThrough[name] || elf.ST_TYPE(s.Info) != elf.STT_FUNC || s.Section == elf.SHN_UNDEF {
			continue
		}
		off := s.Value - bias
		if off < 64 || off >= uint64(size) || s.Size > uint64(size)-off {
			return nil, fmt.Errorf("the host's vDSO: %s at %#x is outside its text", s.Name, s.Value)
		}
		out[name] = hostFunc{off, s.Size}
	}
	if len(out) == 0 {
		return nil, errors.New("the host's vDSO has none of the clock functions")
	}
	return out, nil
}
