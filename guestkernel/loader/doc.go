// Package loader holds the memory-manager-independent parts of the
// ringbox guest kernel's ELF loader.
//
// It has two halves:
//
//   - [Parse] reads and validates the ELF header and program headers of an
//     executable (or of its PT_INTERP interpreter) and summarises what
//     needs to be mapped as an [Image]. The input is untrusted: Parse never
//     panics and never allocates based on a size it has not bounded first.
//     It understands only 64-bit little-endian x86-64 ET_EXEC and ET_DYN
//     files.
//
//   - [Stack] (and [BuildStack], which reports more detail) lays out the
//     System V x86-64 initial process stack: argc, argv, envp, the
//     auxiliary vector and the strings they point to. It returns the bytes
//     to be copied into guest memory; it does not touch memory itself.
//
// Mapping segments, choosing a load bias for ET_DYN images, loading the
// interpreter and filling in address-dependent auxv entries (AT_PHDR,
// AT_ENTRY, AT_BASE, ...) are left to the caller, which owns the address
// space.
//
// Error mapping: [ErrNotELF], [ErrWrongClass] and [ErrBadELF] correspond to
// ENOEXEC, [ErrTooBig] to E2BIG and [ErrInvalidArgument] to EINVAL. Errors
// returned by the io.ReaderAt that are not short reads are passed through
// wrapped (callers usually map them to EIO).
package loader
