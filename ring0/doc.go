// Package ring0 owns the guest supervisor: the CPU tables (GDT, IDT, TSS),
// the per-vCPU page shared with the host, the supervisor region that holds
// them, and the entry/exit code of each guest ABI in assembly.
//
// Exit mode: the supervisor is a stub. On a user syscall or exception it
// saves the user registers in the per-vCPU page, switches to the vCPU's
// kernel stack and exits to the VMM; when the VMM resumes the vCPU, the stub
// flushes the TLB or switches page tables if asked and returns to user mode.
//
// ring0/pagetables builds the page tables the guest runs on.
package ring0
