package ring0

// X86TextDelta is added to a host text address to get its alias in the
// upper half (PML4 slot 510), where the x86 backend's stub runs.
const X86TextDelta = 0xffffff0000000000

// x86Vectors holds the (unaliased) addresses of the x86 vector stubs.
var x86Vectors [32]uintptr

func x86Addrs() (syscall, ret uintptr)

// X86EntryPoints returns the x86 exit-mode stub's LSTAR target, first
// instruction and vector stubs, as aliased addresses.
func X86EntryPoints() (syscall, ret uintptr, vectors [32]uintptr) {
	s, r := x86Addrs()
	for i, v := range x86Vectors {
		vectors[i] = v + X86TextDelta
	}
	return s + X86TextDelta, r + X86TextDelta, vectors
}

// x86r0Vectors holds the (unaliased) addresses of ring0 mode's vector stubs.
var x86r0Vectors [32]uintptr

func x86r0Addrs() (syscall, toUser uintptr)

func x86r0EventRetAddr() uintptr

// x86r0UserEventRet is the RET that ends an entry from the program
// (x86r0_amd64.s); only the assembly jumps to it.
func x86r0UserEventRet()

//go:noescape
func x86r0SwitchToUser(cpu *CPU)

// X86R0EntryPoints returns ring0 mode's LSTAR target and first instruction
// on the x86 backend, as aliased addresses.
func X86R0EntryPoints() (syscall, toUser uintptr) {
	s, t := x86r0Addrs()
	return s + X86TextDelta, t + X86TextDelta
}

// SetupX86 writes the tables for the x86 backend: GDT, TSS and IDT refer to
// the region's upper-half alias (the only part every address space maps),
// every exception on IST1.
func (r *Region) SetupX86(ring0Mode bool) {
	_, _, vecs := X86EntryPoints()
	if ring0Mode {
		for i, v := range x86r0Vectors {
			vecs[i] = v + X86TextDelta
		}
	}
	idt := r.page(0)
	clear(idt)
	for v, h := range vecs {
		writeGate(idt, v, h, 1)
	}
	r.initCPU = r.initX86CPU
}

func (r *Region) initX86CPU(i int) {
	off := r.cpuOff(i)
	writeGDT(r.page(off), r.Alias(r.TSS(i)))
	writeTSS(r.page(off+1), r.StackTop(i), r.ISTTop(i))
	c := r.CPU(i)
	*c = CPU{}
	c.KStack = uint64(r.StackTop(i))
	c.Self = uint64(r.Alias(r.CPUAddr(i)))
	c.R0.UserXsave = uint64(r.UserXsave(i))
	c.R0.LeaveXsave = uint64(r.LeaveXsave(i))
	c.R0.XsaveAli = uint64(r.Alias(r.UserXsave(i)))
	c.R0.EvRet = uint64(x86r0EventRetAddr() + X86TextDelta)
	c.R0.X86 = 1
	c.R0.MXCSR = 0x1f80
	InitXsave(r.page(off + 5))
}

// InitXsave writes a valid initial XSAVE image: FCW 0x37f, MXCSR 0x1f80,
// XSTATE_BV 0 (every component in its initial state).
func InitXsave(b []byte) {
	clear(b)
	b[0], b[1] = 0x7f, 0x03
	b[24], b[25] = 0x80, 0x1f
}
