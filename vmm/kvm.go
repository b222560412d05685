package vmm

import (
	"errors"
	"fmt"
	"math/bits"
	"os"
	"syscall"
	"unsafe"

	"github.com/bobuhiro11/gokvm/kvm"
	"golang.org/x/sys/unix"
)

// ioctl numbers not exported by gokvm's kvm package.
const (
	kvmGetAPIVersion     = 0x00
	kvmCreateVM          = 0x01
	kvmCheckExtension    = 0x03
	kvmGetVCPUMmapSize   = 0x04
	kvmGetSupportedCPUID = 0x05
	kvmCreateVCPU        = 0x41
	kvmSetUserMemRegion  = 0x46
	kvmRun               = 0x80
	kvmGetRegs           = 0x81
	kvmSetRegs           = 0x82
	kvmGetSregs          = 0x83
	kvmSetSregs          = 0x84
	kvmGetMSRs           = 0x88
	kvmSetMSRs           = 0x89
	kvmSetCPUID2         = 0x90
	kvmGetVCPUEvents     = 0x9f
	kvmSetVCPUEvents     = 0xa0
	kvmGetXsave          = 0xa4
	kvmSetXsave          = 0xa5

	kvmAPIVersion = 12

	capNrMemslots  = 10
	capMaxVCPUs    = 66
	capVCPUAttrs   = 127 // KVM_CAP_VCPU_ATTRIBUTES (on x86: the TSC offset, Linux 5.16)
	capImmediateEx = 136
)

// ErrNoKVM is returned (wrapped) when /dev/kvm is missing or unusable.
var ErrNoKVM = errors.New("KVM is not available")

// ioctl issues an ioctl that may block (KVM_RUN): syscall.Syscall lets the
// Go scheduler hand this thread's P to other goroutines while it waits.
func ioctl(fd uintptr, req, arg uintptr) (uintptr, error) {
	r, _, errno := syscall.Syscall(unix.SYS_IOCTL, fd, req, arg)
	if errno != 0 {
		return r, errno
	}
	return r, nil
}

// ioctlFast issues an ioctl known not to block. A signal can still cut
// one short (KVM_CREATE_VM is slow under emulation and gives up with EINTR
// when one is pending): it is retried.
func ioctlFast(fd uintptr, req, arg uintptr) (uintptr, error) {
	for {
		r, _, errno := syscall.RawSyscall(unix.SYS_IOCTL, fd, req, arg)
		if errno == unix.EINTR {
			continue
		}
		if errno != 0 {
			return r, errno
		}
		return r, nil
	}
}

// KVM is an open /dev/kvm.
type KVM struct {
	fd       *os.File
	runSize  int
	nrSlots  int
	maxVCPUs int // KVM_CAP_MAX_VCPUS (0: not said)
	// tscCtrl: a vCPU's TSC offset can be set (KVM_VCPU_TSC_OFFSET).
	tscCtrl  bool
	cpuid    []kvm.CPUIDEntry2
	Backend  Backend
	pvmFlags uint64
}

// Open opens /dev/kvm and checks that it can run ringbox's guests. The error
// says why not, and wraps ErrNoKVM.
func Open() (*KVM, error) {
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR|syscall.O_CLOEXEC, 0)
	if err != nil {
		switch {
		case errors.Is(err, os.ErrNotExist):
			return nil, fmt.Errorf("%w: /dev/kvm does not exist (no KVM module loaded, or not passed into this container)", ErrNoKVM)
		case errors.Is(err, os.ErrPermission):
			return nil, fmt.Errorf("%w: no permission to open /dev/kvm (add the user to the kvm group)", ErrNoKVM)
		}
		return nil, fmt.Errorf("%w: %v", ErrNoKVM, err)
	}
	k := &KVM{fd: f}
	fd := f.Fd()
	v, err := ioctlFast(fd, kvm.IIO(kvmGetAPIVersion), 0)
	if err != nil || v != kvmAPIVersion {
		f.Close()
		return nil, fmt.Errorf("%w: /dev/kvm API version %d (err %v), want %d", ErrNoKVM, v, err, kvmAPIVersion)
	}
	sz, err := ioctlFast(fd, kvm.IIO(kvmGetVCPUMmapSize), 0)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%w: KVM_GET_VCPU_MMAP_SIZE: %v", ErrNoKVM, err)
	}
	k.runSize = int(sz)
	n, _ := ioctlFast(fd, kvm.IIO(kvmCheckExtension), capNrMemslots)
	k.nrSlots = int(n)
	if k.nrSlots <= 0 {
		k.nrSlots = 32
	}
	n, _ = ioctlFast(fd, kvm.IIO(kvmCheckExtension), capMaxVCPUs)
	k.maxVCPUs = int(n)
	n, _ = ioctlFast(fd, kvm.IIO(kvmCheckExtension), capVCPUAttrs)
	k.tscCtrl = n > 0
	if err := k.loadCPUID(); err != nil {
		f.Close()
		return nil, fmt.Errorf("%w: %v", ErrNoKVM, err)
	}
	if err := k.detect(); err != nil {
		f.Close()
		return nil, fmt.Errorf("%w: %v", ErrNoKVM, err)
	}
	return k, nil
}

// Close releases /dev/kvm.
func (k *KVM) Close() error { return k.fd.Close() }

type cpuidBuf struct {
	nent    uint32
	padding uint32
	entries [256]kvm.CPUIDEntry2
}

func (k *KVM) loadCPUID() error {
	var b cpuidBuf
	b.nent = uint32(len(b.entries))
	if _, err := ioctlFast(k.fd.Fd(), kvm.IIOWR(kvmGetSupportedCPUID, 8), uintptr(unsafe.Pointer(&b))); err != nil {
		return fmt.Errorf("KVM_GET_SUPPORTED_CPUID: %w", err)
	}
	k.cpuid = append([]kvm.CPUIDEntry2(nil), b.entries[:b.nent]...)
	return nil
}

// MaxGuestPhys is one past the highest guest-physical address the vCPUs
// can use (CPUID 0x80000008 physical address bits). Since ringbox maps
// guest-physical = host-virtual, it bounds the host addresses the guest
// can reach.
func (k *KVM) MaxGuestPhys() uintptr {
	bits := 36
	if e, ok := k.CPUID(0x80000008, 0); ok && e.Eax&0xff >= 32 {
		bits = int(e.Eax & 0xff)
	}
	if bits > 52 {
		bits = 52
	}
	return uintptr(1) << bits
}

// Ring0Capable reports whether ring0 mode can run here (Ring0Unavailable
// says why not).
func (k *KVM) Ring0Capable() bool { return k.Ring0Unavailable() == "" }

// Ring0Unavailable says why ring0 mode cannot run, or "" when it can. It
// mirrors the whole host address space into the guest (host user addresses
// go up to 2^47), and Go code in the guest must make its host syscalls
// from ringbox's own text: a cgo build's runtime calls the C library's
// mmap, which the origin check (ring0/origin.go) refuses, stopping the run.
func (k *KVM) Ring0Unavailable() string {
	if cgoBuild {
		return "a cgo build of ringbox (build it with CGO_ENABLED=0)"
	}
	if k.MaxGuestPhys() < 1<<47 {
		return fmt.Sprintf("47 guest physical address bits needed; this CPU has %d", bits.Len64(uint64(k.MaxGuestPhys()))-1)
	}
	return ""
}

// CPUID returns the host-supported CPUID entry for function/index.
func (k *KVM) CPUID(function, index uint32) (kvm.CPUIDEntry2, bool) {
	for _, e := range k.cpuid {
		if e.Function == function && (e.Index == index || e.Flags&1 == 0) {
			return e, true
		}
	}
	return kvm.CPUIDEntry2{}, false
}
