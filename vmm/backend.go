package vmm

import (
	"fmt"
	"os"
	"strings"
)

// Backend names the guest ABI the host's KVM speaks.
type Backend int

const (
	// BackendUnknown means detection has not run.
	BackendUnknown Backend = iota
	// BackendPVM is the PVM paravirtual KVM (native-ABI variant).
	BackendPVM
	// BackendX86 is standard VMX/SVM KVM.
	BackendX86
)

func (b Backend) String() string {
	switch b {
	case BackendPVM:
		return "pvm"
	case BackendX86:
		return "x86"
	}
	return "unknown"
}

// ParseBackend parses "pvm", "x86" or "" (auto).
func ParseBackend(s string) (Backend, error) {
	switch strings.ToLower(s) {
	case "", "auto":
		return BackendUnknown, nil
	case "pvm":
		return BackendPVM, nil
	case "x86":
		return BackendX86, nil
	}
	return BackendUnknown, fmt.Errorf("unknown backend %q (want pvm or x86)", s)
}

// PVM identification MSRs.
const (
	msrPVMVIF      = 0x4b564d10 // vIF page registration; bit 11 = vCPU in user mode
	msrPVMID       = 0x4b564d11 // reads 0x4d5650 ("PVM")
	msrPVMFeatures = 0x4b564d12
	msrPVMTSCKHz   = 0x4b564d13
	pvmSignature   = 0x4d5650
)

// detect asks a scratch vCPU for the PVM identification MSR.
func (k *KVM) detect() error {
	vm, err := k.newVMRaw()
	if err != nil {
		return err
	}
	defer vm.Close()
	c, err := vm.newVCPURaw(0)
	if err != nil {
		return err
	}
	defer c.Close()
	vals, err := c.GetMSRs(msrPVMID, msrPVMFeatures)
	if err == nil && len(vals) == 2 && vals[0] == pvmSignature {
		k.Backend = BackendPVM
		k.pvmFlags = vals[1]
		return nil
	}
	if _, err := os.Stat("/sys/module/kvm_pvm"); err == nil {
		return fmt.Errorf("kvm_pvm is loaded but the vCPU does not answer the PVM identification MSR")
	}
	k.Backend = BackendX86
	return nil
}
