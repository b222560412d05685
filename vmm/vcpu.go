package vmm

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"syscall"
	"unsafe"

	"github.com/bobuhiro11/gokvm/kvm"
	"golang.org/x/sys/unix"
)

// Exit reasons reported in kvm_run.exit_reason.
const (
	ExitUnknown       = 0
	ExitException     = 1
	ExitIO            = 2
	ExitHypercall     = 3
	ExitDebug         = 4
	ExitHLT           = 5
	ExitMMIO          = 6
	ExitShutdown      = 8
	ExitFailEntry     = 9
	ExitIntr          = 10
	ExitInternalError = 17
)

// runData is the head of the mmap'ed struct kvm_run.
type runData struct {
	requestInterruptWindow uint8
	immediateExit          uint8
	_                      [6]uint8
	exitReason             uint32
	readyForInjection      uint8
	ifFlag                 uint8
	flags                  uint16
	cr8                    uint64
	apicBase               uint64
	data                   [32]uint64 // the exit union
}

// VCPU is one virtual CPU. Run must be called from one locked OS thread at
// a time; Kick may be called from anywhere.
type VCPU struct {
	vm  *VM
	fd  *os.File
	id  int
	run *runData
	mem []byte

	tid atomic.Int32 // thread currently in Run, 0 if none
}

// NewVCPU creates vCPU id.
func (vm *VM) NewVCPU(id int) (*VCPU, error) { return vm.newVCPURaw(id) }

func (vm *VM) newVCPURaw(id int) (*VCPU, error) {
	fd, err := ioctlFast(vm.fd.Fd(), kvm.IIO(kvmCreateVCPU), uintptr(id))
	if err != nil {
		return nil, fmt.Errorf("KVM_CREATE_VCPU %d: %w", id, err)
	}
	f := os.NewFile(fd, "kvm-vcpu")
	mem, err := unix.Mmap(int(fd), 0, vm.kvm.runSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("mmap kvm_run of vCPU %d: %w", id, err)
	}
	return &VCPU{vm: vm, fd: f, id: id, mem: mem, run: (*runData)(unsafe.Pointer(&mem[0]))}, nil
}

// Close releases the vCPU.
func (c *VCPU) Close() error {
	if c.mem != nil {
		unix.Munmap(c.mem)
		c.mem = nil
	}
	return c.fd.Close()
}

// ID returns the vCPU index.
func (c *VCPU) ID() int { return c.id }

// ErrInterrupted is returned by Run when the vCPU was kicked or the thread
// got a signal before the guest stopped on its own.
var ErrInterrupted = errors.New("vCPU run interrupted")

// Run enters the guest until it exits. It returns the exit reason, or
// ErrInterrupted. The calling goroutine must be locked to its OS thread.
func (c *VCPU) Run() (uint32, error) {
	c.tid.Store(int32(unix.Gettid()))
	_, err := ioctl(c.fd.Fd(), kvm.IIO(kvmRun), 0)
	c.tid.Store(0)
	if err != nil {
		if errors.Is(err, syscall.EINTR) || errors.Is(err, syscall.EAGAIN) {
			atomic.StoreUint32((*uint32)(unsafe.Pointer(&c.run.immediateExit)), 0)
			return ExitIntr, ErrInterrupted
		}
		return 0, fmt.Errorf("KVM_RUN: %w", err)
	}
	return c.run.exitReason, nil
}

// Kick makes a running (or about to run) Run return ErrInterrupted soon.
func (c *VCPU) Kick() {
	// immediate_exit covers the window before the thread enters the guest;
	// the signal gets it out of the guest. SIGURG is what the Go runtime
	// itself uses to preempt, so its handler ignores a spurious one.
	atomic.StoreUint32((*uint32)(unsafe.Pointer(&c.run.immediateExit)), 1)
	if tid := c.tid.Load(); tid != 0 {
		unix.Tgkill(unix.Getpid(), int(tid), unix.SIGURG)
	}
}

// IO decodes a KVM_EXIT_IO: direction (1 = out), size, port, and the data bytes.
func (c *VCPU) IO() (out bool, size int, port uint16, data []byte) {
	d := c.run.data[0]
	out = d&0xff == 1
	size = int((d >> 8) & 0xff)
	port = uint16(d >> 16)
	count := int(d >> 32)
	off := c.run.data[1]
	n := size * count
	if off < uint64(len(c.mem)) && off+uint64(n) <= uint64(len(c.mem)) {
		data = c.mem[off : off+uint64(n)]
	}
	return
}

// MMIO decodes a KVM_EXIT_MMIO: guest-physical address, length and direction.
func (c *VCPU) MMIO() (addr uint64, length int, write bool) {
	return c.run.data[0], int(c.run.data[2] & 0xffffffff), (c.run.data[2]>>32)&0xff != 0
}

// InternalError returns suberror and data of a KVM_EXIT_INTERNAL_ERROR.
func (c *VCPU) InternalError() (uint32, []uint64) {
	sub := uint32(c.run.data[0])
	n := int(c.run.data[0] >> 32)
	if n > 16 {
		n = 16
	}
	return sub, append([]uint64(nil), c.run.data[1:1+n]...)
}

// GetRegs reads the general-purpose registers.
func (c *VCPU) GetRegs() (kvm.Regs, error) {
	var r kvm.Regs
	_, err := ioctlFast(c.fd.Fd(), kvm.IIOR(kvmGetRegs, unsafe.Sizeof(r)), uintptr(unsafe.Pointer(&r)))
	if err != nil {
		return r, fmt.Errorf("KVM_GET_REGS: %w", err)
	}
	return r, nil
}

// SetRegs writes the general-purpose registers.
func (c *VCPU) SetRegs(r *kvm.Regs) error {
	if _, err := ioctlFast(c.fd.Fd(), kvm.IIOW(kvmSetRegs, unsafe.Sizeof(*r)), uintptr(unsafe.Pointer(r))); err != nil {
		return fmt.Errorf("KVM_SET_REGS: %w", err)
	}
	return nil
}

// GetSregs reads the special registers.
func (c *VCPU) GetSregs() (kvm.Sregs, error) {
	var s kvm.Sregs
	_, err := ioctlFast(c.fd.Fd(), kvm.IIOR(kvmGetSregs, unsafe.Sizeof(s)), uintptr(unsafe.Pointer(&s)))
	if err != nil {
		return s, fmt.Errorf("KVM_GET_SREGS: %w", err)
	}
	return s, nil
}

// SetSregs writes the special registers.
func (c *VCPU) SetSregs(s *kvm.Sregs) error {
	if _, err := ioctlFast(c.fd.Fd(), kvm.IIOW(kvmSetSregs, unsafe.Sizeof(*s)), uintptr(unsafe.Pointer(s))); err != nil {
		return fmt.Errorf("KVM_SET_SREGS: %w", err)
	}
	return nil
}

type msrBuf struct {
	n       uint32
	pad     uint32
	entries [16]kvm.MSREntry
}

// GetMSRs reads MSRs. An MSR the vCPU does not have is an error.
func (c *VCPU) GetMSRs(idx ...uint32) ([]uint64, error) {
	var b msrBuf
	if len(idx) > len(b.entries) {
		return nil, fmt.Errorf("too many MSRs")
	}
	b.n = uint32(len(idx))
	for i, x := range idx {
		b.entries[i].Index = x
	}
	n, err := ioctlFast(c.fd.Fd(), kvm.IIOWR(kvmGetMSRs, 8), uintptr(unsafe.Pointer(&b)))
	if err != nil {
		return nil, fmt.Errorf("KVM_GET_MSRS: %w", err)
	}
	if int(n) != len(idx) {
		return nil, fmt.Errorf("KVM_GET_MSRS: MSR %#x not supported", idx[n])
	}
	out := make([]uint64, len(idx))
	for i := range out {
		out[i] = b.entries[i].Data
	}
	return out, nil
}

// MSR is an index/value pair.
type MSR struct {
	Index uint32
	Value uint64
}

// SetMSRs writes MSRs in order; it fails unless every one was written.
func (c *VCPU) SetMSRs(msrs ...MSR) error {
	var b msrBuf
	if len(msrs) > len(b.entries) {
		return fmt.Errorf("too many MSRs")
	}
	b.n = uint32(len(msrs))
	for i, m := range msrs {
		b.entries[i].Index = m.Index
		b.entries[i].Data = m.Value
	}
	n, err := ioctlFast(c.fd.Fd(), kvm.IIOW(kvmSetMSRs, 8), uintptr(unsafe.Pointer(&b)))
	if err != nil {
		return fmt.Errorf("KVM_SET_MSRS: %w", err)
	}
	if int(n) != len(msrs) {
		return fmt.Errorf("KVM_SET_MSRS: MSR %#x not accepted (%d of %d written)", msrs[n].Index, n, len(msrs))
	}
	return nil
}

// vcpuEvents is struct kvm_vcpu_events (64 bytes).
type vcpuEvents struct {
	excInjected, excNr, excHasErr, excPending  uint8
	excErr                                     uint32
	intrInjected, intrNr, intrSoft, intrShadow uint8
	nmiInjected, nmiPending, nmiMasked, _      uint8
	sipiVector, flags                          uint32
	smi                                        [4]uint8
	tripleFault                                uint8
	_                                          [26]uint8
	excHasPayload                              uint8
	excPayload                                 uint64
}

// PendingEvent reports whether KVM holds an event that it will deliver
// to the guest on the next KVM_RUN: an exception, interrupt or NMI whose
// delivery a signal cut short (KVM queues it again; a VM exit in the
// middle of delivering an exception, such as a nested page fault on the
// stack it pushes to, leaves it there).
func (c *VCPU) PendingEvent() (bool, error) {
	var e vcpuEvents
	if _, err := ioctlFast(c.fd.Fd(), kvm.IIOR(kvmGetVCPUEvents, unsafe.Sizeof(e)), uintptr(unsafe.Pointer(&e))); err != nil {
		return false, fmt.Errorf("KVM_GET_VCPU_EVENTS: %w", err)
	}
	return e.excInjected != 0 || e.excPending != 0 || e.intrInjected != 0 || e.nmiInjected != 0, nil
}

// DropEvents clears what KVM would deliver on the next KVM_RUN (see
// PendingEvent): a vCPU set up afresh must not receive an exception
// raised by the code it ran before, nor an NMI or the interrupt shadow of
// its last instruction.
func (c *VCPU) DropEvents() error {
	const validNMIPending, validShadow = 0x1, 0x4 // KVM_VCPUEVENT_VALID_*
	return c.setEvents(&vcpuEvents{flags: validNMIPending | validShadow})
}

// setEvents is KVM_SET_VCPU_EVENTS.
func (c *VCPU) setEvents(e *vcpuEvents) error {
	if _, err := ioctlFast(c.fd.Fd(), kvm.IIOW(kvmSetVCPUEvents, unsafe.Sizeof(*e)), uintptr(unsafe.Pointer(e))); err != nil {
		return fmt.Errorf("KVM_SET_VCPU_EVENTS: %w", err)
	}
	return nil
}

// SetCPUID installs the given CPUID entries.
func (c *VCPU) SetCPUID(entries []kvm.CPUIDEntry2) error {
	var b cpuidBuf
	if len(entries) > len(b.entries) {
		return fmt.Errorf("too many CPUID entries")
	}
	b.nent = uint32(copy(b.entries[:], entries))
	if _, err := ioctlFast(c.fd.Fd(), kvm.IIOW(kvmSetCPUID2, 8), uintptr(unsafe.Pointer(&b))); err != nil {
		return fmt.Errorf("KVM_SET_CPUID2: %w", err)
	}
	return nil
}

// InUserMode reports whether the vCPU is stopped in guest user mode: on
// x86 from CS, on PVM from its mode MSR (KVM_GET_SREGS cannot tell there).
func (c *VCPU) InUserMode(x86 bool) (bool, error) {
	if x86 {
		s, err := c.GetSregs()
		if err != nil {
			return false, err
		}
		return s.CS.Selector&3 == 3, nil
	}
	v, err := c.GetMSRs(msrPVMVIF)
	if err != nil {
		return false, err
	}
	return v[0]&(1<<11) != 0, nil
}

// Xsave is the KVM_GET_XSAVE area (4 KiB).
type Xsave [4096]byte

// GetXsave reads the FPU/SSE/AVX state.
func (c *VCPU) GetXsave(x *Xsave) error {
	if _, err := ioctlFast(c.fd.Fd(), kvm.IIOR(kvmGetXsave, unsafe.Sizeof(*x)), uintptr(unsafe.Pointer(x))); err != nil {
		return fmt.Errorf("KVM_GET_XSAVE: %w", err)
	}
	return nil
}

// SetXsave writes the FPU/SSE/AVX state.
func (c *VCPU) SetXsave(x *Xsave) error {
	if _, err := ioctlFast(c.fd.Fd(), kvm.IIOW(kvmSetXsave, unsafe.Sizeof(*x)), uintptr(unsafe.Pointer(x))); err != nil {
		return fmt.Errorf("KVM_SET_XSAVE: %w", err)
	}
	return nil
}

type xcrs struct {
	n     uint32
	flags uint32
	regs  [16]struct {
		xcr   uint32
		pad   uint32
		value uint64
	}
	pad [16]uint64
}

// SetXCR0 sets the vCPU's XCR0 (KVM_SET_XCRS).
func (c *VCPU) SetXCR0(v uint64) error {
	var x xcrs
	x.n = 1
	x.regs[0].value = v
	if _, err := ioctlFast(c.fd.Fd(), kvm.IIOW(0xa7, unsafe.Sizeof(x)), uintptr(unsafe.Pointer(&x))); err != nil {
		return fmt.Errorf("KVM_SET_XCRS %#x: %w", v, err)
	}
	return nil
}

// deviceAttr is struct kvm_device_attr.
type deviceAttr struct {
	flags uint32
	group uint32
	attr  uint64
	addr  uint64
}

// SetTSCOffset sets the difference between the guest's and the host's TSC
// (KVM_VCPU_TSC_CTRL / KVM_VCPU_TSC_OFFSET).
func (c *VCPU) SetTSCOffset(off int64) error {
	v := off
	a := deviceAttr{group: 0, attr: 0, addr: uint64(uintptr(unsafe.Pointer(&v)))}
	if _, err := ioctlFast(c.fd.Fd(), kvm.IIOW(0xe1, unsafe.Sizeof(a)), uintptr(unsafe.Pointer(&a))); err != nil {
		return fmt.Errorf("KVM_SET_DEVICE_ATTR TSC offset: %w", err)
	}
	return nil
}

// CompletePending lets KVM finish an exit's pending work (the port I/O of
// the last KVM_EXIT_IO) without running the guest: KVM_RUN with
// immediate_exit set.
func (c *VCPU) CompletePending() error {
	atomic.StoreUint32((*uint32)(unsafe.Pointer(&c.run.immediateExit)), 1)
	_, err := ioctl(c.fd.Fd(), kvm.IIO(kvmRun), 0)
	atomic.StoreUint32((*uint32)(unsafe.Pointer(&c.run.immediateExit)), 0)
	if err != nil && !errors.Is(err, syscall.EINTR) {
		return fmt.Errorf("KVM_RUN (complete pending I/O): %w", err)
	}
	return nil
}
