package vmm

import (
	"fmt"
	"os"
	"sync"
	"unsafe"

	"github.com/bobuhiro11/gokvm/kvm"
)

// VM is a KVM virtual machine whose guest-physical address space mirrors
// the host process's virtual address space: every memory slot maps
// guest-physical address X to host virtual address X.
type VM struct {
	kvm *KVM
	fd  *os.File

	mu    sync.Mutex
	slots []Slot
}

// Slot is one registered memory region.
type Slot struct {
	ID       uint32
	Addr     uintptr // guest physical (== host virtual but for AddSlotAt windows)
	Size     uintptr
	ReadOnly bool
}

// NewVM creates a VM.
func (k *KVM) NewVM() (*VM, error) { return k.newVMRaw() }

func (k *KVM) newVMRaw() (*VM, error) {
	fd, err := ioctlFast(k.fd.Fd(), kvm.IIO(kvmCreateVM), 0)
	if err != nil {
		return nil, fmt.Errorf("KVM_CREATE_VM: %w", err)
	}
	return &VM{kvm: k, fd: os.NewFile(fd, "kvm-vm")}, nil
}

// Close destroys the VM (once its vCPUs are closed).
func (vm *VM) Close() error { return vm.fd.Close() }

// KVM returns the /dev/kvm handle the VM was made from.
func (vm *VM) KVM() *KVM { return vm.kvm }

// AddSlot registers host memory [addr, addr+size) at the same guest-physical
// address. addr and size must be page aligned and must not overlap an
// existing slot.
func (vm *VM) AddSlot(addr, size uintptr, readOnly bool) error {
	return vm.AddSlotAt(addr, addr, size, readOnly)
}

// AddSlotAt registers host memory [hva, hva+size) at guest-physical
// address addr: a window onto host memory that is elsewhere in the host's
// address space. The caller keeps addr from ever holding host memory of
// its own (a reservation), since other slots are guest-physical =
// host-virtual.
func (vm *VM) AddSlotAt(addr, hva, size uintptr, readOnly bool) error {
	if addr&0xfff != 0 || hva&0xfff != 0 || size&0xfff != 0 || size == 0 {
		return fmt.Errorf("memory slot %#x+%#x: not page aligned", addr, size)
	}
	vm.mu.Lock()
	defer vm.mu.Unlock()
	for _, s := range vm.slots {
		if addr < s.Addr+s.Size && s.Addr < addr+size {
			return fmt.Errorf("memory slot %#x+%#x overlaps slot %d at %#x+%#x", addr, size, s.ID, s.Addr, s.Size)
		}
	}
	if len(vm.slots) >= vm.kvm.nrSlots {
		return fmt.Errorf("memory slot %#x+%#x: all %d KVM memory slots in use", addr, size, vm.kvm.nrSlots)
	}
	id := uint32(len(vm.slots))
	r := kvm.UserspaceMemoryRegion{
		Slot:          id,
		GuestPhysAddr: uint64(addr),
		MemorySize:    uint64(size),
		UserspaceAddr: uint64(hva),
	}
	if readOnly {
		r.SetMemReadonly()
	}
	if _, err := ioctlFast(vm.fd.Fd(), kvm.IIOW(kvmSetUserMemRegion, unsafe.Sizeof(r)), uintptr(unsafe.Pointer(&r))); err != nil {
		return fmt.Errorf("KVM_SET_USER_MEMORY_REGION %#x+%#x: %w", addr, size, err)
	}
	vm.slots = append(vm.slots, Slot{ID: id, Addr: addr, Size: size, ReadOnly: readOnly})
	return nil
}

// Slots returns a copy of the registered slots.
func (vm *VM) Slots() []Slot {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	return append([]Slot(nil), vm.slots...)
}

// Covered reports whether [addr, addr+size) lies inside registered slots.
func (vm *VM) Covered(addr, size uintptr) bool {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	for size > 0 {
		found := false
		for _, s := range vm.slots {
			if addr >= s.Addr && addr < s.Addr+s.Size {
				n := s.Addr + s.Size - addr
				if n >= size {
					return true
				}
				addr += n
				size -= n
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// AddSlotsCovering registers slots for the parts of [addr, addr+size) that
// no slot covers yet.
func (vm *VM) AddSlotsCovering(addr, size uintptr) error {
	end := addr + size
	for addr < end {
		next := end
		covered := false
		for _, s := range vm.Slots() {
			if addr >= s.Addr && addr < s.Addr+s.Size {
				addr = s.Addr + s.Size
				covered = true
				break
			}
			if s.Addr > addr && s.Addr < next {
				next = s.Addr
			}
		}
		if covered {
			continue
		}
		if err := vm.AddSlot(addr, next-addr, false); err != nil {
			return err
		}
		addr = next
	}
	return nil
}
