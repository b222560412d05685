// Package vdso builds the vDSO that every program in the sandbox gets: a
// small ELF shared object, mapped as [vdso] and named by AT_SYSINFO_EHDR,
// that exports clock_gettime, gettimeofday, time, clock_getres and getcpu
// (as __vdso_* and plain names, version LINUX_2.6), as Linux's x86-64 vDSO
// does.
//
// Where the platform allows it (the x86 backend: the guest reads the
// host's TSC unchanged and reaches the host's vDSO data pages), the clock
// functions are the host's own vDSO code, copied into the image, which
// reads the host's live data pages mapped in front of it as [vvar]. A
// clock read is then no system call at all, and it returns exactly what
// the Go kernel's own clock (Go's runtime, on the same host vDSO) would.
// Elsewhere (PVM, whose guest TSC the sandbox cannot yet vouch for) every
// function is a stub that makes the system call.
//
// getcpu is always a stub: the host's reads a per-CPU descriptor that the
// guest's GDT does not have.
package vdso
