// Package ipc holds a sandbox's System V IPC objects: shared memory
// segments, semaphore sets and message queues, in an IPC namespace of the
// sandbox's own (Namespace), as Linux's ipc/ does for one IPC namespace.
//
// The package works on Go values: the syscall layer (syscalls/sys_ipc.go
// and its siblings) copies arguments in and results out of user memory and
// encodes Linux's structures. Nothing here touches user memory, so no
// lock of this package is ever held across a call into the mm; the mm may
// call into a segment (PageAddr, VMAOpened, VMAClosed) with an address
// space's lock held, so the namespace's locks come after the mm's.
//
// Objects are named by IDs built as Linux builds them (sequence * 32768 +
// index, indexes handed out cyclically) and by keys; access is checked
// against the mode bits with the caller's effective IDs. The sandbox has
// no capabilities: CAP_IPC_OWNER, CAP_SYS_ADMIN and CAP_SYS_RESOURCE are
// never granted, so a program sees what an unprivileged Linux user sees.
//
// Shared memory segments are memory objects of the mm (mm.CountedPager):
// their pages are memory-file pages allocated on first touch, so they
// count against the sandbox's memory like any page; shm_nattch is the
// number of VMAs that map the segment, as on Linux, so attachments survive
// fork and go away with munmap, exec and exit; a segment removed with
// IPC_RMID lives until its last detach.
//
// Semaphore operations are atomic on the whole set; blocked operations
// wait in FIFO order and are completed by whoever changes the set. SEM_UNDO
// adjustments are kept per process (by PID, which the sandbox never
// reuses) and applied by ExitProcess. Message queues keep Go copies of the
// messages; a receiver that is waiting gets a new message handed to it
// directly. Everything that grows is bounded: the number of objects
// (SHMMNI, SEMMNI, MSGMNI), the semaphores per set and the bytes per
// queue, and the Go memory all objects hold (semaphores, undo records,
// messages) by a budget derived from the sandbox's memory (ENOMEM past
// it).
//
// Blocking calls (semop, msgsnd, msgrcv) wait through a Waiter (the task)
// and end with EINTR when a signal must be acted on; the syscall layer
// turns that into the restart code Linux uses for each call.
package ipc
