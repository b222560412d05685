// Package mm owns a program's address space: its VMAs, the pages that back
// them (in the memory file), and the user page tables derived from both. It
// handles page faults (first touch, with fault-around, and copy-on-write
// after Fork), mmap, munmap, mprotect, mremap, madvise and brk, loads ELF
// images, and is the only way the kernel reads or writes user memory
// (CopyIn, CopyOut, CopyInString): every user pointer is checked against
// the VMAs, never trusted.
//
// Pages are reference-counted in the memory file: a page may be held by
// several address spaces (private pages shared copy-on-write after fork,
// a file's pages mapped MAP_SHARED) and by a memory object (a file, or the
// object behind a shared anonymous mapping). Every path that drops a page
// (munmap, madvise, mremap, brk, Release) gives back only its own
// reference, so no address space can free a page another still maps.
package mm
