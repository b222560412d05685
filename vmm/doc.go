// Package vmm owns the KVM virtual machine: /dev/kvm, the VM and its memory
// slots (guest-physical address == host-virtual address), vCPUs with their
// CPUID, MSRs and registers, the run loop and exit decoding, and detection of
// the KVM flavour (PVM or standard x86) the host offers.
//
// vmm knows nothing about programs or syscalls; it runs guest code and
// reports why the guest stopped.
package vmm
