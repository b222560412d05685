// Package pagetables builds and edits x86-64 4-level page tables (PML4,
// PDPT, PD, PT) in memory.
//
// The package owns:
//
//   - the layout and bit encoding of page-table entries (present, writable,
//     user, global, NX, the page-size bit of 2 MiB leaves, 52-bit physical
//     address masks);
//   - the table pages of one address space: it allocates them from an
//     [Allocator], links them, splits 2 MiB leaves when only part of one is
//     unmapped or reprotected, frees intermediate pages that become empty and
//     returns every page it allocated on [Tables.Release];
//   - the rules for sharing top-level (PML4) slots between address spaces
//     ([Tables.ShareTop], [Tables.PreallocTop]).
//
// It does not own physical memory for the mapped pages, TLB invalidation
// (mutating methods report whether a flush is needed, the caller does it) or
// locking: a [Tables] must be mutated by one goroutine at a time. The CPU (or
// another vCPU) may walk the tables concurrently with mutation, so every entry
// is read and written with a single 64-bit atomic operation and a subtree is
// always fully built before it is linked in.
//
// ringbox runs guests whose guest-physical address equals the host-virtual
// address of the same byte. A table page's address is therefore both the
// pointer the package dereferences and the physical address stored in the
// parent entry. Table pages must live outside the Go heap (for example in an
// mmap'd region); see [Allocator].
package pagetables
