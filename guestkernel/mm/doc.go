// Package mm owns a program's address space: its VMAs, the pages that back
// them (in the memory file), and the user page tables derived from both. It
// handles page faults (first touch, with fault-around), mmap, munmap,
// mprotect, mremap, madvise and brk, loads ELF images, and is the only way
// the kernel reads or writes user memory (CopyIn, CopyOut, CopyInString):
// every user pointer is checked against the VMAs, never trusted.
package mm
