package ring0

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// KernelAlias is where the supervisor region is mapped a second time, in
// the upper half (PML4 slot 511): PVM needs the TSS stacks there.
const KernelAlias = 0xffffff8000000000

const (
	pageSize   = 4096
	stackPages = 4
	istPages   = 2
	// Per-vCPU pages: GDT, TSS, CPU (2), vIF, the program's FP state,
	// a KVM_GET_XSAVE buffer, the exception stack (IST1), then the kernel
	// stack.
	cpuPages = 7 + istPages + stackPages
	// The region is 2 MiB aligned and sized, so that in ring0 mode it is
	// one or more whole 2 MiB chunks of the host address space.
	regionAlign = 2 << 20
)

// Region is the supervisor region: host memory, registered with the VM at
// guest-physical == host-virtual, holding the IDT and each vCPU's GDT, TSS,
// CPU page, vIF page and kernel stack.
type Region struct {
	mem  []byte
	base uintptr
	ncpu int
	// initCPU is the backend's per-vCPU set-up (InitCPU).
	initCPU func(i int)
}

// RegionSize is the size of a region for ncpu vCPUs (a multiple of 2 MiB).
func RegionSize(ncpu int) uintptr {
	return uintptr(((1+ncpu*cpuPages)*pageSize + regionAlign - 1) &^ (regionAlign - 1))
}

// NewRegionAt makes a region for ncpu vCPUs in the reserved, 2 MiB-aligned
// range at base of RegionSize(ncpu) bytes.
func NewRegionAt(base uintptr, ncpu int) (*Region, error) {
	if ncpu < 1 || ncpu > 1024 {
		return nil, fmt.Errorf("supervisor region: bad vCPU count %d", ncpu)
	}
	if base&(regionAlign-1) != 0 {
		return nil, fmt.Errorf("supervisor region: base %#x not 2 MiB aligned", base)
	}
	size := RegionSize(ncpu)
	r, _, errno := unix.Syscall6(unix.SYS_MMAP, base, size, unix.PROT_READ|unix.PROT_WRITE,
		unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_FIXED, ^uintptr(0), 0)
	if errno != 0 || r != base {
		return nil, fmt.Errorf("allocate supervisor region at %#x: %v", base, errno)
	}
	// Small pages: a vCPU's pages are few and far apart, and with
	// transparent huge pages each one set up would populate 2 MiB.
	if _, _, errno := unix.Syscall(unix.SYS_MADVISE, base, size, unix.MADV_NOHUGEPAGE); errno != 0 && errno != unix.EINVAL {
		return nil, fmt.Errorf("supervisor region: madvise: %v", errno)
	}
	mem := unsafe.Slice((*byte)(unsafe.Add(nil, base)), size)
	mem[0] = 0 // the IDT; a vCPU's pages are populated when it is set up
	return &Region{mem: mem, base: uintptr(unsafe.Pointer(&mem[0])), ncpu: ncpu}, nil
}

// Base is the host (== guest-physical == guest-virtual) address of the region.
func (r *Region) Base() uintptr { return r.base }

// Size is the region's size in bytes.
func (r *Region) Size() uintptr { return uintptr(len(r.mem)) }

// NumCPU is the number of vCPUs the region has room for.
func (r *Region) NumCPU() int { return r.ncpu }

// Alias returns the upper-half alias of an address inside the region.
func (r *Region) Alias(addr uintptr) uintptr { return KernelAlias + (addr - r.base) }

func (r *Region) page(off int) []byte { return r.mem[off*pageSize : (off+1)*pageSize] }

func (r *Region) cpuOff(i int) int { return 1 + i*cpuPages }

// IDT returns the address of the shared IDT.
func (r *Region) IDT() uintptr { return r.base }

// GDT returns the address of vCPU i's GDT.
func (r *Region) GDT(i int) uintptr { return r.base + uintptr(r.cpuOff(i))*pageSize }

// TSS returns the address of vCPU i's TSS.
func (r *Region) TSS(i int) uintptr { return r.GDT(i) + pageSize }

// CPUAddr returns the address of vCPU i's CPU page.
func (r *Region) CPUAddr(i int) uintptr { return r.GDT(i) + 2*pageSize }

// CPU returns vCPU i's CPU page.
func (r *Region) CPU(i int) *CPU {
	return (*CPU)(unsafe.Pointer(&r.mem[(r.cpuOff(i)+2)*pageSize]))
}

// VIF returns the address of vCPU i's vIF page.
func (r *Region) VIF(i int) uintptr { return r.GDT(i) + 4*pageSize }

// UserXsave returns the address of vCPU i's area for the program's FP
// state (64-byte aligned, one page).
func (r *Region) UserXsave(i int) uintptr { return r.GDT(i) + 5*pageSize }

// UserXsaveArea is vCPU i's area for the program's FP state, as memory.
func (r *Region) UserXsaveArea(i int) []byte { return r.page(r.cpuOff(i) + 5) }

// LeaveXsave returns the address of vCPU i's KVM_GET_XSAVE buffer.
func (r *Region) LeaveXsave(i int) uintptr { return r.GDT(i) + 6*pageSize }

// ISTTop returns the upper-half address of the top of vCPU i's exception
// stack (IST1): ring0 mode takes every exception on it, so that a fault on
// an unusable stack still reaches the handler.
func (r *Region) ISTTop(i int) uintptr {
	return r.Alias(r.GDT(i) + (7+istPages)*pageSize)
}

// StackTop returns the upper-half address of the top of vCPU i's kernel stack.
func (r *Region) StackTop(i int) uintptr {
	return r.Alias(r.GDT(i) + cpuPages*pageSize)
}

// SetupPVM writes the tables for the pvm backend: the exit-mode stub's
// vectors, or ring0 mode's.
func (r *Region) SetupPVM(ring0Mode bool) {
	_, _, vecs := PVMEntryPoints()
	if ring0Mode {
		vecs = r0Vectors
	}
	idt := r.page(0)
	clear(idt)
	ist := 0
	if ring0Mode {
		ist = 1
	}
	for v, h := range vecs {
		writeGate(idt, v, h, ist)
	}
	r.initCPU = r.initPVMCPU
}

// InitCPU (re)writes vCPU i's GDT, TSS, CPU page, vIF page and initial FP
// state for the backend Setup chose. A vCPU slot is set up when a context
// first takes it and again whenever it is reused, so a region with room for
// many vCPUs costs only the pages of those in use.
func (r *Region) InitCPU(i int) {
	if r.initCPU == nil {
		panic("ring0: InitCPU before SetupPVM or SetupX86")
	}
	// Populate the vCPU's pages before it runs: nothing on them may fault
	// in the guest, and untouched slots cost no memory (a machine has room
	// for 1024 vCPUs, 53 MiB of pages).
	for p := r.cpuOff(i); p < r.cpuOff(i)+cpuPages; p++ {
		r.mem[p*pageSize] = 0
	}
	r.initCPU(i)
}

func (r *Region) initPVMCPU(i int) {
	off := r.cpuOff(i)
	writeGDT(r.page(off), r.TSS(i))
	writeTSS(r.page(off+1), r.StackTop(i), r.ISTTop(i))
	c := r.CPU(i)
	*c = CPU{}
	c.KStack = uint64(r.StackTop(i))
	c.VIF = uint64(r.VIF(i))
	c.Self = uint64(r.CPUAddr(i))
	clear(r.page(off + 4))
	InitXsave(r.page(off + 5))
	c.R0.UserXsave = uint64(r.UserXsave(i))
	c.R0.LeaveXsave = uint64(r.LeaveXsave(i))
}
